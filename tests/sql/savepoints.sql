-- ROLLBACK TO SAVEPOINT after writes: the writes made after the savepoint
-- are undone (on every shard they reached) and their row locks released;
-- those made before stay; an error inside a savepoint is undone by going
-- back to it, and the transaction goes on.
\set VERBOSITY verbose
CREATE TABLE sp (id bigint PRIMARY KEY, v text);
INSERT INTO sp VALUES (1, 'a'), (2, 'b'), (3, 'c');
BEGIN;
UPDATE sp SET v = 'a1' WHERE id = 1;
SAVEPOINT s1;
UPDATE sp SET v = 'a2' WHERE id = 1;
INSERT INTO sp VALUES (4, 'd');
DELETE FROM sp WHERE id = 2;
SELECT * FROM sp ORDER BY id;
ROLLBACK TO s1;
SELECT * FROM sp ORDER BY id;
-- nested savepoints, RELEASE in between
SAVEPOINT s2;
UPDATE sp SET v = 'c1' WHERE id = 3;
SAVEPOINT s3;
UPDATE sp SET v = 'c2' WHERE id = 3;
ROLLBACK TO s3;
SELECT * FROM sp ORDER BY id;
RELEASE s3;
UPDATE sp SET v = 'c3' WHERE id = 3;
SELECT * FROM sp ORDER BY id;
ROLLBACK TO s2;
SELECT * FROM sp ORDER BY id;
-- an error inside a savepoint
SAVEPOINT s4;
INSERT INTO sp VALUES (5, 'e');
\set VERBOSITY default
INSERT INTO sp VALUES (6, 'f'), (1, 'dup');
\set VERBOSITY verbose
SELECT 1;
ROLLBACK TO s4;
SELECT * FROM sp ORDER BY id;
-- a row written and rolled back can be written again
INSERT INTO sp VALUES (4, 'd again');
COMMIT;
SELECT * FROM sp ORDER BY id;
-- many rows over every shard
BEGIN;
INSERT INTO sp SELECT g, 'g' || g FROM generate_series(10, 60) g;
SAVEPOINT m;
UPDATE sp SET v = v || '!' WHERE id >= 10;
DELETE FROM sp WHERE id % 3 = 0;
SELECT count(*), sum(id) FROM sp;
SELECT count(*) FROM sp WHERE v LIKE '%!';
ROLLBACK TO m;
SELECT count(*), sum(id) FROM sp;
SELECT count(*) FROM sp WHERE v LIKE '%!';
UPDATE sp SET v = 'even' WHERE id % 2 = 0;
COMMIT;
SELECT count(*), sum(id) FROM sp;
SELECT count(*) FROM sp WHERE v = 'even';
-- RELEASE then a write: going back to the older savepoint undoes both
BEGIN;
SAVEPOINT a;
UPDATE sp SET v = 'x' WHERE id = 1;
SAVEPOINT b;
UPDATE sp SET v = 'y' WHERE id = 1;
RELEASE b;
UPDATE sp SET v = 'z' WHERE id = 1;
SELECT v FROM sp WHERE id = 1;
ROLLBACK TO a;
SELECT v FROM sp WHERE id = 1;
UPDATE sp SET v = 'w' WHERE id = 1;
COMMIT;
SELECT v FROM sp WHERE id = 1;
-- REPEATABLE READ: the snapshot stays, the writes go
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM sp;
SAVEPOINT r;
DELETE FROM sp WHERE id < 10;
SELECT count(*) FROM sp;
ROLLBACK TO r;
SELECT count(*) FROM sp;
COMMIT;
DROP TABLE sp;
