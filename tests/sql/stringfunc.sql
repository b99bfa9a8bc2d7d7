-- string functions: character counts of UTF-8 text, at the router and on the shards
CREATE TABLE fn_s (id int PRIMARY KEY, s text, d text, k int);
INSERT INTO fn_s VALUES (1, 'a,b,c', ',', 2), (2, 'naïve café', ' ', -1), (3, '', ',', 1), (4, NULL, NULL, NULL);
SELECT position('b' in 'abc'), position('' in 'abc'), position('x' in 'abc'), position('é' in 'café'), pg_typeof(position('b' in 'abc'));
SELECT concat_ws(',', 'a', NULL, 'b', 1, 2.5), concat_ws(NULL, 'a', 'b'), concat_ws('-', NULL), concat_ws('', 'x', 'y');
SELECT lpad('hi', 5), lpad('hi', 5, 'xy'), lpad('hello', 3), lpad('hi', -1), lpad('hi', 5, ''), lpad('hello', 3, ''), lpad('é', 3, 'ü');
SELECT rpad('hi', 5), rpad('hi', 5, 'xy'), rpad('hello', 3), rpad('hi', 0, 'x'), rpad('hi', 5, ''), rpad('é', 3, 'ü');
SELECT split_part('a,b,c', ',', 2), split_part('a,b,c', ',', -1), split_part('a,b,c', ',', 4), split_part('a,b,c', ',', -4), split_part('abc', '', 1), split_part('abc', '', 2), split_part('', ',', 1), split_part('a::b::c', '::', -2);
SELECT reverse('abc'), reverse('naïve'), reverse(''), initcap('hello wORLD 3rd-time x_y'), md5(''), md5('abc'), md5('abc'::bytea);
SELECT starts_with('alphabet', 'alph'), starts_with('alphabet', 'beta'), starts_with('a', ''), translate('12345', '143', 'ax'), translate('café', 'é', 'e'), translate('abc', '', 'x');
SELECT ascii('A'), ascii('é'), ascii(''), chr(65), chr(233), chr(8364), to_hex(255), to_hex(-1), to_hex(-1::bigint), to_hex(9223372036854775807);
SELECT char_length('naïve'), character_length('naïve'), octet_length('naïve');
SELECT id, position(d in s), split_part(s, d, k), lpad(s, 12, '*'), rpad(s, 3), reverse(s), md5(s), starts_with(s, 'a'), translate(s, 'a,', 'A'), ascii(s), concat_ws('|', id, s, d) FROM fn_s ORDER BY id;
SELECT id FROM fn_s WHERE split_part(s, ',', 2) = 'b' OR starts_with(s, 'na') ORDER BY id;
SELECT id FROM fn_s WHERE reverse(s) LIKE 'c%' OR md5(s) = md5('') OR position('é' in s) = 10 ORDER BY id;
SELECT split_part('a,b', ',', 0);
SELECT chr(0);
SELECT chr(-1);
SELECT chr(1114112);
SELECT chr(55296);
SELECT to_hex(5::smallint);
SELECT lpad(5, 3);
DROP TABLE fn_s;
-- LIKE's _ matches one character, however many bytes it takes
SELECT 'über' LIKE '_b%', 'über' LIKE '__er', 'aüb' LIKE 'a_b', 'aüb' LIKE '%_b', 'x€y' LIKE 'x__y', 'x€€y' LIKE '%€y';
SELECT 'ÉÜ' ILIKE 'éü', 'Straße' ILIKE '%SSE', '\xc3bc'::bytea LIKE '\x5f5f'::bytea;
