-- Utility statements tools send: storage parameters, UNLOGGED, VACUUM,
-- ANALYZE. Talus accepts them (checking what PostgreSQL checks) and has
-- nothing to do for them.
CREATE TABLE u1 (id int PRIMARY KEY, v int) WITH (fillfactor = 100);
CREATE TABLE u2 (id int PRIMARY KEY) WITH (fillfactor = 90, autovacuum_enabled = false);
CREATE TABLE u3 (id int PRIMARY KEY) WITH (fillfactor = 5);
CREATE TABLE u3 (id int PRIMARY KEY) WITH (fillfactor = 'abc');
CREATE TABLE u3 (id int PRIMARY KEY) WITH (fillfactor);
CREATE TABLE u3 (id int PRIMARY KEY) WITH (nonsense = 1);
INSERT INTO u1 VALUES (1, 10), (2, 20);
VACUUM;
ANALYZE;
VACUUM u1;
VACUUM ANALYZE u1;
VACUUM FULL u1, u2;
VACUUM (VERBOSE FALSE) u1;
ANALYZE u1;
VACUUM nope;
ANALYZE u1, nope;
SELECT * FROM u1 ORDER BY id;
INSERT INTO u2 VALUES (1), (2), (3);
TRUNCATE nope;
TRUNCATE u1, nope;
SELECT count(*) FROM u1;
TRUNCATE u1;
SELECT count(*) FROM u1;
TRUNCATE TABLE ONLY u1, u2 RESTART IDENTITY CASCADE;
SELECT count(*) FROM u2;
INSERT INTO u1 VALUES (3, 30);
SELECT * FROM u1;
DROP TABLE u1, u2;
