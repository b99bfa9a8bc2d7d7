-- CREATE [UNIQUE] INDEX and DROP INDEX: names chosen as PostgreSQL
-- chooses them, errors, uniqueness, and the rows found through an index
-- while rows are inserted, updated and deleted.
\set VERBOSITY verbose
CREATE TABLE ix (id int PRIMARY KEY, a int, b text, c int);
INSERT INTO ix SELECT g, g % 10, 'b' || (g % 7), g FROM generate_series(1, 300) g;
CREATE INDEX ON ix (a);
CREATE INDEX ON ix (a);
CREATE INDEX ON ix (a, b);
CREATE UNIQUE INDEX ON ix (c);
CREATE INDEX ix_b ON ix USING btree (b ASC);
CREATE INDEX ix_b ON ix (c);
CREATE INDEX IF NOT EXISTS ix_b ON ix (c);
CREATE INDEX ix ON ix (c);
CREATE INDEX ON ix (nope);
CREATE INDEX ON nope (a);
SELECT indexname FROM pg_indexes WHERE tablename = 'ix' ORDER BY indexname;
SELECT count(*) FROM ix WHERE a = 3;
SELECT id FROM ix WHERE a = 3 AND b = 'b3' ORDER BY id;
SELECT id, a FROM ix WHERE c = 42;
SELECT count(*) FROM ix WHERE b = 'b0';
-- writes keep the indexes
UPDATE ix SET a = 11 WHERE id <= 5;
SELECT id FROM ix WHERE a = 11 ORDER BY id;
SELECT count(*) FROM ix WHERE a = 1;
UPDATE ix SET c = c + 1000 WHERE id = 7;
SELECT id FROM ix WHERE c = 7;
SELECT id FROM ix WHERE c = 1007;
DELETE FROM ix WHERE a = 11;
SELECT count(*) FROM ix WHERE a = 11;
INSERT INTO ix VALUES (301, 11, 'x', 301);
SELECT id, b FROM ix WHERE a = 11;
-- uniqueness: against stored rows, within one statement, on UPDATE
INSERT INTO ix VALUES (302, 1, 'y', 42);
INSERT INTO ix VALUES (302, 1, 'y', 5000), (303, 1, 'y', 5000);
UPDATE ix SET c = 42 WHERE id = 10;
INSERT INTO ix VALUES (302, 1, 'y', NULL), (303, 1, 'y', NULL);
SELECT count(*) FROM ix WHERE c IS NULL;
SELECT id FROM ix WHERE c = 42;
-- comparisons bound the next column of an index
SELECT id FROM ix WHERE c BETWEEN 10 AND 14 ORDER BY id;
SELECT id FROM ix WHERE c > 297 ORDER BY id;
SELECT id FROM ix WHERE c >= 300 OR c < 3 ORDER BY id;
SELECT id FROM ix WHERE c < 9 AND c >= 8;
SELECT id FROM ix WHERE 296 < c AND c <= 298 ORDER BY id;
SELECT count(*) FROM ix WHERE a = 3 AND b > 'b3';
SELECT count(*) FROM ix WHERE a = 3 AND b <= 'b3';
SELECT count(*) FROM ix WHERE c > 5.5 AND c < 8;
SELECT count(*) FROM ix WHERE c < 1 OR c IS NULL;
-- inside a transaction: rolled back rows leave no entries behind
BEGIN;
INSERT INTO ix VALUES (400, 77, 'z', 400);
SELECT id FROM ix WHERE a = 77;
ROLLBACK;
SELECT id FROM ix WHERE a = 77;
INSERT INTO ix VALUES (400, 77, 'z', 400);
SELECT id FROM ix WHERE a = 77;
-- a UNIQUE index over rows that repeat a value
CREATE TABLE iu (id int PRIMARY KEY, v text);
INSERT INTO iu VALUES (1, 'p'), (2, 'q'), (3, 'p');
CREATE UNIQUE INDEX iu_v ON iu (v);
INSERT INTO iu VALUES (4, 'p');
DELETE FROM iu WHERE id = 3;
CREATE UNIQUE INDEX iu_v ON iu (v);
INSERT INTO iu VALUES (4, 'p');
UPDATE iu SET v = 'r' WHERE id = 1;
INSERT INTO iu VALUES (4, 'p');
SELECT * FROM iu WHERE v = 'p';
-- DROP INDEX
DROP INDEX ix_a_idx1;
DROP INDEX ix_a_idx1;
DROP INDEX IF EXISTS ix_a_idx1;
DROP INDEX ix_pkey;
DROP INDEX iu_v, nope;
DROP INDEX iu_v;
INSERT INTO iu VALUES (5, 'p');
SELECT id FROM iu WHERE v = 'p' ORDER BY id;
CREATE INDEX iu_pkey ON iu (v);
-- dropping an indexed column drops its indexes; a table rewrite keeps them
CREATE TABLE ir (a int, b int, c int);
INSERT INTO ir VALUES (1, 10, 100), (2, 20, 200), (3, 20, 300);
CREATE INDEX ir_b ON ir (b);
CREATE INDEX ir_c ON ir (c);
ALTER TABLE ir DROP COLUMN c;
SELECT indexname FROM pg_indexes WHERE tablename = 'ir' ORDER BY indexname;
ALTER TABLE ir ADD PRIMARY KEY (a);
SELECT a FROM ir WHERE b = 20 ORDER BY a;
INSERT INTO ir VALUES (4, 20);
SELECT a FROM ir WHERE b = 20 ORDER BY a;
TRUNCATE ir;
SELECT a FROM ir WHERE b = 20;
INSERT INTO ir VALUES (5, 20);
SELECT a FROM ir WHERE b = 20;
DROP TABLE ix;
DROP TABLE iu;
DROP TABLE ir;
