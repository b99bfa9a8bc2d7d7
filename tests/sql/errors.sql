-- Errors carry PostgreSQL's SQLSTATE, message and position, and the
-- session goes on after each.
\set VERBOSITY verbose
CREATE TABLE e (id bigint PRIMARY KEY, v text) PARTITION BY HASH (id);
SELEC 1;
SELECT id FROM e WHERE id = = 1;
SELECT * FROM nosuch;
SELECT nosuch FROM e;
SELECT * FROM e WHERE id = 'abc';
SELECT * FROM e WHERE id = true;
SELECT * FROM e WHERE v > 1;
SELECT 1 / 0;
SELECT 9223372036854775807 + 1;
SELECT * FROM e a JOIN e b ON a.id = b.id;
SELECT v, count(*) FROM e GROUP BY v;
SELECT DISTINCT v FROM e;
SELECT * FROM e WHERE id IN (SELECT id FROM e);
WITH x AS (SELECT 1) SELECT * FROM x;
CREATE INDEX ei ON e (v);
INSERT INTO e VALUES (1, 'a') RETURNING id;
INSERT INTO e VALUES (1, 'a') ON CONFLICT DO NOTHING;
INSERT INTO e SELECT 1, 'a';
UPDATE e SET id = 2;
SELECT 'still working' AS status;
DROP TABLE e;
