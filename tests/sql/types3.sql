-- uuid and bytea: PostgreSQL's input forms and errors, output (lowercase
-- 8-4-4-4-12; bytea in the hex format), bytewise comparison, a uuid primary
-- (and shard) key, a bytea key, casts through text, ||, lengths and
-- gen_random_uuid() giving a new value per row.
CREATE TABLE ty_uuid (id uuid PRIMARY KEY, data bytea, n int);
INSERT INTO ty_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0a0b', 1);
INSERT INTO ty_uuid VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', 'abc', 2);
INSERT INTO ty_uuid VALUES ('{a0eebc999c0b4ef8bb6d6bb9bd380a13}', '\\x\001\377', 3);
INSERT INTO ty_uuid VALUES ('a0eebc999c0b4ef8bb6d6bb9bd380a14', '\x', 4),
                           ('a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a15', NULL, 5),
                           ('00000000-0000-0000-0000-000000000000', '\x00', 6),
                           ('ffffffff-ffff-ffff-ffff-ffffffffffff', '\xff', 7);
INSERT INTO ty_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x', 8);
SELECT id, data, n FROM ty_uuid ORDER BY id;
SELECT id, data, n FROM ty_uuid ORDER BY data, n;
SELECT n FROM ty_uuid WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12';
SELECT n FROM ty_uuid WHERE id = '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A13}';
SELECT n FROM ty_uuid WHERE id > 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13' ORDER BY n;
SELECT n FROM ty_uuid WHERE id IN ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000') ORDER BY n;
SELECT n FROM ty_uuid WHERE data = '\x0a0b';
SELECT n FROM ty_uuid WHERE data = 'abc';
SELECT n FROM ty_uuid WHERE data < '\x0b' ORDER BY n;
SELECT n FROM ty_uuid WHERE data IS NULL;
SELECT n, length(data) AS len, octet_length(data) AS octets FROM ty_uuid ORDER BY n;
SELECT n, data || '\x2021'::bytea AS cat FROM ty_uuid ORDER BY n;
UPDATE ty_uuid SET data = data || '\xee' WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT data FROM ty_uuid WHERE n = 1;
DELETE FROM ty_uuid WHERE id = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
SELECT count(*) FROM ty_uuid;
-- uuid input errors
INSERT INTO ty_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', '\x', 9);
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111'::uuid;
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g'::uuid;
SELECT ' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid;
SELECT '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid;
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'::uuid;
SELECT 'a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11'::uuid;
SELECT 'a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11'::uuid;
SELECT ''::uuid;
-- bytea input: hex and escape formats, and their errors
SELECT '\x'::bytea AS e, '\xDEADbeef'::bytea AS h, '\x de ad be ef '::bytea AS spaced;
SELECT 'abc'::bytea AS a, 'a\\b'::bytea AS bs, '\101\102\000z'::bytea AS oct, ''::bytea AS empty;
SELECT '\xg0'::bytea;
SELECT '\x0g'::bytea;
SELECT '\x123'::bytea;
SELECT '\xé1'::bytea;
SELECT 'a\b'::bytea;
SELECT '\400'::bytea;
SELECT 'ab\'::bytea;
SELECT '\X01'::bytea;
-- casts
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid::text AS t, length('A0EEBC999C0B4EF8BB6D6BB9BD380A11'::uuid::text) AS len;
SELECT 'a0eebc999c0b4ef8bb6d6bb9bd380a11'::text::uuid AS u, CAST('{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}' AS uuid) AS c;
SELECT '\x0a0b'::bytea::text AS t, 'abc'::text::bytea AS b, '\x41'::text::bytea AS hex, 'xyz'::varchar::bytea AS v;
SELECT id::text FROM ty_uuid WHERE n = 1;
SELECT data::text FROM ty_uuid WHERE n = 3;
SELECT 1::uuid;
SELECT 'abc'::bytea::uuid;
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid::bytea;
-- comparisons
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS eq,
       '00000000-0000-0000-0000-000000000001'::uuid < 'ffffffff-0000-0000-0000-000000000000'::uuid AS lt;
SELECT '\x01'::bytea < '\x0100'::bytea AS prefix, '\xff'::bytea > '\x00ff'::bytea AS gt, 'abc'::bytea = '\x616263'::bytea AS eq;
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid = 'abc'::text;
SELECT 'abc'::bytea = 1;
-- || and lengths
SELECT '\x01'::bytea || '\x02'::bytea AS b, '\x01'::bytea || '\x0203' AS lit, 'x' || '\x01'::bytea AS tx;
SELECT 'id: ' || 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS t;
SELECT length('\x010203'::bytea) AS len, octet_length('\x010203'::bytea) AS octets, length('abc') AS text_len;
SELECT lower('\x01'::bytea);
SELECT '\x616263'::bytea LIKE 'a%' AS pre, 'abc'::bytea LIKE '_b_' AS one, 'abc'::bytea NOT LIKE '%c' AS notlike, '\x00ff'::bytea LIKE '\000%' AS zero;
SELECT n FROM ty_uuid WHERE data LIKE 'ab%' ORDER BY n;
SELECT 'abc'::bytea ILIKE 'a%';
SELECT 'abc'::bytea ~ 'a';
-- gen_random_uuid(): a new version 4 value per call and per row
SELECT length(gen_random_uuid()::text) AS len, substr(gen_random_uuid()::text, 15, 1) AS version;
SELECT gen_random_uuid() = gen_random_uuid() AS same;
CREATE TABLE ty_gen (id uuid PRIMARY KEY, n int);
INSERT INTO ty_gen VALUES (gen_random_uuid(), 1), (gen_random_uuid(), 2), (gen_random_uuid(), 3);
INSERT INTO ty_gen VALUES (gen_random_uuid(), 4);
INSERT INTO ty_gen VALUES (gen_random_uuid(), 5), (gen_random_uuid()::text::uuid, 6);
SELECT n, length(id::text) AS len FROM ty_gen ORDER BY n;
INSERT INTO ty_gen SELECT gen_random_uuid(), n + 10 FROM ty_gen;
SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids FROM ty_gen;
CREATE TABLE ty_gen2 (id uuid DEFAULT gen_random_uuid() PRIMARY KEY, n int);
INSERT INTO ty_gen2 (n) VALUES (1), (2), (3);
INSERT INTO ty_gen2 VALUES (DEFAULT, 4);
INSERT INTO ty_gen2 (n) SELECT n + 10 FROM ty_gen2;
COPY ty_gen2 (n) FROM STDIN;
21
22
\.
SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids, min(length(id::text)) AS len FROM ty_gen2;
DROP TABLE ty_gen2;
-- a bytea primary key: ordered bytewise, prefixes first
CREATE TABLE ty_bytea (k bytea PRIMARY KEY, v text);
INSERT INTO ty_bytea VALUES ('\x0100', 'a'), ('\x01', 'b'), ('\x', 'c'), ('\x00', 'd'), ('\x0001', 'e'), ('\xff', 'f');
INSERT INTO ty_bytea VALUES ('\x01', 'dup');
SELECT k, v FROM ty_bytea ORDER BY k;
SELECT v FROM ty_bytea WHERE k = '\x0100';
SELECT v FROM ty_bytea WHERE k >= '\x01' ORDER BY k;
SELECT data, count(*) FROM ty_uuid GROUP BY data ORDER BY data;
SELECT min(data) FROM ty_uuid;
SELECT max(id) FROM ty_uuid;
PREPARE by_id(uuid) AS SELECT n, data FROM ty_uuid WHERE id = $1;
EXECUTE by_id('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12');
EXECUTE by_id('nope');
PREPARE by_data(bytea) AS SELECT n FROM ty_uuid WHERE data = $1 ORDER BY n;
EXECUTE by_data('\x00');
DEALLOCATE by_id;
DEALLOCATE by_data;
-- COPY text and CSV formats: a bytea is written in its hex form (the
-- backslash doubled in text format) and read back in either input format
COPY (SELECT k, v FROM ty_bytea ORDER BY k) TO STDOUT;
COPY (SELECT k, v FROM ty_bytea ORDER BY k) TO STDOUT (FORMAT csv);
COPY (SELECT id, data FROM ty_uuid ORDER BY id) TO STDOUT;
COPY ty_bytea FROM STDIN;
\\x0a0b	copied hex
\\001z	copied escape
\.
COPY ty_bytea FROM STDIN (FORMAT csv);
\x0c,csv hex
\.
SELECT k, v FROM ty_bytea WHERE v LIKE 'copied%' OR v LIKE 'csv%' ORDER BY k;
COPY ty_bytea FROM STDIN;
\\xzz	bad
\.
-- the catalog
SELECT typname, typlen, typcategory FROM pg_type WHERE oid IN (17, 2950) ORDER BY oid;
SELECT format_type(2950, -1) AS u, format_type(17, -1) AS b;
DROP TABLE ty_uuid;
DROP TABLE ty_gen;
DROP TABLE ty_bytea;
