-- INSERT, UPDATE, DELETE with their row counts, types and NULLs.
CREATE TABLE t (id bigint PRIMARY KEY, a integer, b smallint, c text, d varchar(5), e boolean, f double precision) PARTITION BY HASH (id);
INSERT INTO t VALUES (1, 10, 1, 'one', 'uno', true, 1.5);
INSERT INTO t (id, c) VALUES (2, 'two'), (3, 'three');
INSERT INTO t (c, id) VALUES ('four', 4);
INSERT INTO t VALUES (5, -2147483648, -32768, '', 'abcde', false, -0.25), (6, 2147483647, 32767, 'it''s', NULL, NULL, 1e100);
SELECT * FROM t ORDER BY id;
-- Quoted literals are read as the column's type.
INSERT INTO t (id, a, e, f) VALUES ('7', '70', 'yes', '2.5');
SELECT id, a, e, f FROM t WHERE id = 7;
-- Errors: each inserts nothing.
INSERT INTO t (id, a) VALUES (8, 'x');
INSERT INTO t (id, a) VALUES (8, 2147483648);
INSERT INTO t (id, b) VALUES (8, 32768);
INSERT INTO t (id, d) VALUES (8, 'abcdef');
INSERT INTO t (id, a) VALUES (8, 1, 2);
INSERT INTO t (id, zz) VALUES (8, 1);
INSERT INTO t (a) VALUES (1);
INSERT INTO t VALUES (1, 0);
INSERT INTO t VALUES (8, 0), (9, 0), (1, 0);
SELECT count(*) FROM t;
-- UPDATE and DELETE report the rows they touched.
UPDATE t SET a = a + 1 WHERE id = 1;
UPDATE t SET c = c || '!' WHERE c IS NOT NULL;
UPDATE t SET a = 0, b = 0 WHERE a IS NULL;
SELECT id, a, b, c FROM t ORDER BY id;
UPDATE t SET a = a + 1 WHERE id = 6;
UPDATE t SET id = 100 WHERE id = 1;
UPDATE t SET nope = 1;
UPDATE t SET a = 5 WHERE id = 12345;
DELETE FROM t WHERE id IN (2, 3);
DELETE FROM t WHERE f < 0;
DELETE FROM t WHERE id = 12345;
SELECT id FROM t ORDER BY id;
DELETE FROM t;
SELECT count(*) FROM t;
DROP TABLE t;
