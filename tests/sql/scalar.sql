-- built-in scalar functions and bit operators, at the router and on the shards
CREATE TABLE sc (id int PRIMARY KEY, s text, n int, b bigint);
INSERT INTO sc VALUES (1, 'Hello', -5, 12), (2, '  padded  ', 7, -3), (3, 'naïve café', 0, 255), (4, NULL, NULL, NULL);
SELECT id, lower(s), upper(s), length(s), char_length(s), octet_length(s) FROM sc ORDER BY id;
SELECT id, btrim(s), ltrim(s), rtrim(s), trim(both 'H' from s), trim(leading ' ' from s) || '|' FROM sc ORDER BY id;
SELECT id, substring(s from 2 for 3), substr(s, 3), substr(s, 0, 2), left(s, 2), right(s, 3), left(s, -2) FROM sc ORDER BY id;
SELECT id, replace(s, 'l', 'L'), strpos(s, 'l'), repeat(s, 2), concat(s, '-', n, NULL, b) FROM sc ORDER BY id;
SELECT id, abs(n), abs(b), n & 6, n | 8, b # 15, b << 2, b >> 1, ~n FROM sc ORDER BY id;
SELECT id FROM sc WHERE lower(s) LIKE '%ll%' OR length(s) = 10 ORDER BY id;
SELECT id FROM sc WHERE abs(n) > 4 AND (b & 1) = 1 ORDER BY id;
SELECT abs(-2.5::float8), abs(-7::smallint), length(''), substr('abc', 2, 0), strpos('abc', '');
SELECT substr('abc', 1, -1);
SELECT abs(-2147483648::int);
SELECT lower(1);
SELECT 1 & 'x';
DROP TABLE sc;
-- NULLIF takes the type its = operator promotes the first argument to
SELECT nullif(1, 2.5), nullif(1, 1.0), pg_typeof(nullif(1, 2.5)), pg_typeof(nullif(1, 2.5::real)), pg_typeof(nullif(1::int2, 2)), pg_typeof(nullif(2.5::real, 1));
