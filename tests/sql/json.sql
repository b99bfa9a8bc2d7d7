-- json and jsonb: json keeps its input text, jsonb prints PostgreSQL's
-- normalised form (keys sorted by length then bytes, the last duplicate
-- kept, numbers as numeric); input errors with their DETAIL and CONTEXT;
-- the operators -> ->> #> #>> @> <@ ? and the typeof/array_length
-- functions, pushed down to the shards in WHERE clauses.
CREATE TABLE js (id int PRIMARY KEY, j json, b jsonb);
INSERT INTO js VALUES (1, '{"name": "ann", "age": 30, "tags": ["a", "b"]}',
                          '{"name": "ann", "age": 30, "tags": ["a", "b"]}');
INSERT INTO js VALUES (2, '  {"b":1,  "a" : [1, 2.50, -0, 1e2], "a":{"x":null}} ',
                          '  {"b":1,  "a" : [1, 2.50, -0, 1e2], "a":{"x":null}} ');
INSERT INTO js VALUES (3, '[1, "two", true, null, {"k": "v"}]', '[1, "two", true, null, {"k": "v"}]');
INSERT INTO js VALUES (4, '"a\"b\\c\/d\n\u00e9"', '"a\"b\\c\/d\n\u00e9"');
INSERT INTO js VALUES (5, '42', '-1.5E+3');
INSERT INTO js VALUES (6, 'null', 'null');
INSERT INTO js VALUES (7, NULL, NULL);
INSERT INTO js VALUES (8, '{"name": "bob", "age": 41, "tags": []}', '{"name": "bob", "age": 41, "tags": []}');
INSERT INTO js VALUES (9, '{}', '[]');
SELECT id, j, b FROM js ORDER BY id;
-- invalid documents
INSERT INTO js VALUES (10, '{"a":}', NULL);
INSERT INTO js VALUES (10, NULL, '{"a" 1}');
INSERT INTO js VALUES (10, '[1, 2', NULL);
INSERT INTO js VALUES (10, '', NULL);
INSERT INTO js VALUES (10, '{"a": tru}', NULL);
INSERT INTO js VALUES (10, '[1 2]', NULL);
INSERT INTO js VALUES (10, '{"a": 1 "b": 2}', NULL);
INSERT INTO js VALUES (10, '{1: 2}', NULL);
INSERT INTO js VALUES (10, '{"a": 1,}', NULL);
INSERT INTO js VALUES (10, '1 2', NULL);
INSERT INTO js VALUES (10, '"abc', NULL);
INSERT INTO js VALUES (10, '"\q"', NULL);
INSERT INTO js VALUES (10, '"\u12"', NULL);
INSERT INTO js VALUES (10, E'"a\tb"', NULL);
INSERT INTO js VALUES (10, '01', NULL);
INSERT INTO js VALUES (10, '1.', NULL);
INSERT INTO js VALUES (10, '-', NULL);
INSERT INTO js VALUES (10, '.5', NULL);
INSERT INTO js VALUES (10, E'{"a": 1,\n "b": [1, 2,\n  x]}', NULL);
INSERT INTO js VALUES (10, '{"a_rather_long_key_that_goes_on_and_on_and_on": 1, x}', NULL);
INSERT INTO js VALUES (10, '"\u0000"', '"\u0000"');
INSERT INTO js VALUES (10, '"\ud800"', '"\ud800"');
INSERT INTO js VALUES (10, NULL, '"\udc00"');
INSERT INTO js VALUES (10, NULL, '"\ud83d\ude00"');
SELECT id, j, b FROM js WHERE id = 10;
SELECT 'x'::json;
SELECT '{"a": [1, }'::jsonb;
-- output of jsonb
SELECT '{"b": 1, "a": 2, "aa": 3, "a": 4}'::jsonb;
SELECT '{"z": {"y": [true, false, null], "x": "\t"}, "": 0}'::jsonb;
SELECT '[1.0, 1e2, 1.5e-3, 0.10, -0.0, 1E+2]'::jsonb;
SELECT '"\u00e9\u0041\ud83d\ude00"'::jsonb, '"\u00e9\u0041"'::json;
SELECT '  [ 1 , 2 ]  '::json, '  [ 1 , 2 ]  '::jsonb;
SELECT '{}'::jsonb, '[]'::jsonb, '""'::jsonb, 'true'::jsonb, 'false'::json;
-- -> and ->>
SELECT id, j -> 'name' AS j_name, b -> 'name' AS b_name, j ->> 'name' AS jt, b ->> 'name' AS bt FROM js ORDER BY id;
SELECT id, j -> 'a' AS ja, b -> 'a' AS ba FROM js WHERE id = 2;
SELECT id, j -> 1 AS j1, b -> 1 AS b1, j ->> 1 AS jt1, b ->> 1 AS bt1, j -> -1 AS jlast, b -> -1 AS blast, b -> 9 AS b9 FROM js ORDER BY id;
SELECT id, j ->> 3 AS j3, b ->> 3 AS b3, b -> 3 AS bnull FROM js WHERE id = 3;
SELECT j ->> 'name' FROM js WHERE id = 4;
SELECT '{"a": {"b": "c"}}'::json -> 'a' -> 'b', '{"a": {"b": "c"}}'::jsonb -> 'a' ->> 'b';
SELECT '[1, [2, 3]]'::jsonb -> 1 -> 0, '{"a": 1}'::jsonb -> NULL::text, NULL::jsonb -> 'a';
-- #> and #>>
SELECT '{"a": [1, {"b": 2}]}'::jsonb #> '{a,1,b}', '{"a": [1, {"b": 2}]}'::json #> '{a, -1, b}';
SELECT '{"a": [1, {"b": 2}]}'::jsonb #> '{a,1}', '{"a": [1, {"b": 2}]}'::json #>> '{a,1}';
SELECT '{"a": [1, {"b": 2}]}'::jsonb #> '{a,x}', '{"a": 1}'::jsonb #> '{}', '{"a": 1}'::json #>> '{}';
SELECT '{"a b": {"c": "d"}}'::jsonb #>> '{"a b", c}', '{"a": 1}'::jsonb #> '{a,NULL}';
SELECT id, b #>> '{tags,0}' AS tag0, j #> '{tags}' AS tags FROM js ORDER BY id;
SELECT '{"a": 1}'::jsonb #> 'a';
-- @>, <@ and ?
SELECT id FROM js WHERE b @> '{"name": "ann"}' ORDER BY id;
SELECT id FROM js WHERE b @> '{"tags": ["b"]}' ORDER BY id;
SELECT id FROM js WHERE '{"age": 41}' <@ b ORDER BY id;
SELECT id FROM js WHERE b ? 'tags' ORDER BY id;
SELECT id FROM js WHERE b ? 'two' ORDER BY id;
SELECT '[1, 2, [3, 4]]'::jsonb @> '[[3]]', '[1, 2]'::jsonb @> '1', '1'::jsonb @> '[1]', '{"a": 1.0}'::jsonb @> '{"a": 1}';
SELECT '{"a": [1, 2]}'::jsonb @> '{"a": 1}', '"foo"'::jsonb ? 'foo', '["foo"]'::jsonb ? 'foo', '[["foo"]]'::jsonb ? 'foo';
SELECT '{"a": 1}'::json @> '{"a": 1}';
SELECT '{"a": 1}'::json ? 'a';
-- WHERE clauses the shards evaluate
SELECT id FROM js WHERE j ->> 'name' = 'bob';
SELECT id FROM js WHERE b ->> 'name' = 'ann' AND (b -> 'age')::text = '30';
SELECT id, b -> 'age' FROM js WHERE (b ->> 'age')::int > 35;
SELECT id FROM js WHERE b #>> '{a,0}' = '1';
SELECT count(*) FROM js WHERE j IS NULL;
-- functions
SELECT id, json_typeof(j), jsonb_typeof(b) FROM js ORDER BY id;
SELECT json_array_length('[1, [2, 3], {}]'), jsonb_array_length('[]'), jsonb_array_length(b -> 'tags') FROM js WHERE id = 1;
SELECT jsonb_array_length('{"a": 1}');
SELECT jsonb_array_length('1');
SELECT json_array_length('{"a": 1}');
SELECT json_array_length('"x"');
SELECT to_json(1), to_json('a"b'::text), to_json(true), to_json(1.50), to_json('NaN'::float8), to_json(1e20::float8);
SELECT to_json(timestamptz '2026-03-01 12:00:00.5+00'), to_json(timestamp '2026-03-01 12:00:00'), to_json(date '2026-03-01');
SELECT to_jsonb(1.50), to_jsonb('x'::char(3)), to_jsonb('{"b":1,"a":2}'::json), to_json('{"b":1}'::jsonb), to_json(NULL::int);
SELECT id, to_json(id), to_jsonb(j ->> 'name') FROM js WHERE to_jsonb(id) = '8';
SELECT to_json('abc');
-- casts and comparison
SELECT j::jsonb, b::json, b::text FROM js WHERE id = 2;
SELECT '{"b": 1, "a": 2}'::text::jsonb, '{"b": 1, "a": 2}'::json::jsonb::json;
SELECT '{"a": 1.0, "b": [1]}'::jsonb = '{"b": [1.00], "a": 1}', '[1, 2]'::jsonb = '[2, 1]', '{"a": 1}'::jsonb <> '{"a": 1}';
SELECT id FROM js WHERE b = '[]';
SELECT '1'::json = '1'::json;
SELECT id FROM js WHERE j IN ('{}');
SELECT id FROM js WHERE b IN ('[]', '"x"', '{"b": 1, "a": {"x": null}}') ORDER BY id;
SELECT id FROM js WHERE b IS DISTINCT FROM '[]' AND id < 4 ORDER BY id;
SELECT max(j) FROM js;
SELECT min(b) FROM js;
SELECT greatest('1'::json, '2');
SELECT coalesce(j, '{}'), coalesce(b, '[]') FROM js WHERE id IN (7, 9) ORDER BY id;
SELECT id FROM js WHERE j = '{}';
SELECT '{"a": 1}' -> 'a';
SELECT 1 -> 'a';
SELECT '{"a": 1}'::jsonb -> 1.5;
SELECT pg_typeof('{}'::json), pg_typeof('{}'::jsonb), pg_typeof('{}'::jsonb -> 'a'), pg_typeof('{}'::json ->> 'a');
CREATE TABLE js_bad (j json PRIMARY KEY);
SELECT id FROM js ORDER BY j;
SELECT j, count(*) FROM js GROUP BY j;
SELECT id FROM js ORDER BY j -> 'name';
UPDATE js SET j = '{"name": "carl"}', b = '{"name": "carl", "name": "dan"}' WHERE id = 8;
SELECT id, j, b FROM js WHERE id = 8;
DELETE FROM js WHERE b @> '{"name": "dan"}';
-- COPY in the text and CSV formats; an error shows both contexts
COPY js FROM stdin;
20	{"a":1,"a":2}	{"a":1,"a":2}
21	\N	[1, 2]
\.
COPY js FROM stdin (FORMAT csv);
22,"{""x"": [true]}","{""y"":null}"
\.
COPY js FROM stdin;
23	{bad	{}
\.
COPY js FROM stdin;
23	{}	"\\u0000"
\.
COPY (SELECT id, j, b FROM js WHERE id >= 20 ORDER BY id) TO stdout;
COPY (SELECT id, j, b FROM js WHERE id >= 20 ORDER BY id) TO stdout (FORMAT csv);
SELECT count(*) FROM js;
DROP TABLE js;
-- defaults, ALTER TABLE and the catalog
CREATE TABLE jdd (id int PRIMARY KEY, j json DEFAULT '{"x": 1}', b jsonb DEFAULT '{"b":1,"a":2}' NOT NULL);
INSERT INTO jdd (id) VALUES (1);
ALTER TABLE jdd ADD COLUMN c jsonb;
INSERT INTO jdd VALUES (2, '[]', '[]', '{"c": true}');
SELECT * FROM jdd ORDER BY id;
\d jdd
SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_name = 'jdd' ORDER BY ordinal_position;
SELECT typname, typlen, typcategory FROM pg_type WHERE oid IN (114, 3802, 199, 3807) ORDER BY oid;
SELECT format_type(114, -1), format_type(3802, -1), format_type(199, -1), format_type(3807, -1);
DROP TABLE jdd;
