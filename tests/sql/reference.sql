-- Reference tables: a full copy on every shard. Writes reach every copy,
-- reads are served by one copy; a duplicate key on any copy inserts nothing.
CREATE TABLE countries (code text PRIMARY KEY, name text) WITH (distribution = 'reference');
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany'), ('jp', 'Japan');
INSERT INTO countries (code, name) VALUES ('br', 'Brazil');
SELECT * FROM countries ORDER BY code;
SELECT name FROM countries WHERE code = 'jp';
SELECT count(*) FROM countries WHERE code IN ('fr', 'de', 'xx');
UPDATE countries SET name = name || '!' WHERE code IN ('fr', 'de');
SELECT * FROM countries ORDER BY code;
UPDATE countries SET name = 'Nowhere' WHERE code = 'xx';
DELETE FROM countries WHERE code = 'br';
SELECT * FROM countries ORDER BY code;
-- a duplicate key, alone or next to a new row: nothing is inserted
INSERT INTO countries VALUES ('fr', 'Francia');
INSERT INTO countries VALUES ('it', 'Italy'), ('jp', 'Nihon');
SELECT * FROM countries ORDER BY code;
-- the same key twice in one statement
INSERT INTO countries VALUES ('es', 'Spain'), ('es', 'España');
SELECT count(*) FROM countries;
-- EXPLAIN: reads use one copy, writes every shard
EXPLAIN SELECT * FROM countries;
EXPLAIN SELECT * FROM countries WHERE code = 'fr';
EXPLAIN SELECT count(*) FROM countries WHERE code IN ('fr', 'de');
EXPLAIN INSERT INTO countries VALUES ('it', 'Italy');
EXPLAIN UPDATE countries SET name = 'x' WHERE code = 'fr';
EXPLAIN DELETE FROM countries WHERE name = 'x';
EXPLAIN DELETE FROM countries WHERE false;
-- without a primary key: the hidden rowid, made once per row by the router
CREATE TABLE tags (tag text, n int) WITH (distribution = 'reference');
INSERT INTO tags VALUES ('a', 1), ('b', 2), ('a', 3);
SELECT tag, n FROM tags ORDER BY n;
UPDATE tags SET n = n * 10 WHERE tag = 'a';
DELETE FROM tags WHERE n = 2;
SELECT tag, n FROM tags ORDER BY n;
SELECT count(*), sum(n) FROM tags WHERE tag = 'a';
-- NOT NULL holds on every copy
CREATE TABLE codes (c text PRIMARY KEY, label text NOT NULL) WITH (distribution = 'REFERENCE');
INSERT INTO codes VALUES ('x', NULL);
SELECT count(*) FROM codes;
-- bad DDL
CREATE TABLE bad1 (a int PRIMARY KEY) PARTITION BY HASH (a) WITH (distribution = 'reference');
CREATE TABLE bad2 (a int PRIMARY KEY) PARTITION BY RANGE (a) WITH (distribution = 'reference', boundaries = '10');
CREATE TABLE bad3 (a int PRIMARY KEY) WITH (distribution = 'reference', vindex = 'hash');
CREATE TABLE bad5 (a int PRIMARY KEY) WITH (distribution = 'reference', boundaries = '10');
CREATE TABLE bad4 (a int PRIMARY KEY) WITH (distribution = 'everywhere');
CREATE TABLE countries (code text PRIMARY KEY) WITH (distribution = 'reference');
SELECT * FROM bad1;
DROP TABLE countries, tags, codes;
SELECT * FROM countries;
