-- Shard keys of character(n) and real. A character(n) key hashes and keys
-- without its trailing spaces, so 'ab', 'ab  ' and a char(6) 'ab' find the same
-- row on the same shard, and co-located joins match across lengths.
CREATE TABLE cust (code char(4) PRIMARY KEY, name text) PARTITION BY HASH (code);
CREATE TABLE ords (code char(6), n int, PRIMARY KEY (code, n)) PARTITION BY HASH (code);
INSERT INTO cust VALUES ('ab', 'Ann'), ('cd  ', 'Cy'), ('e', 'Eve'), ('fghi', 'Fay');
INSERT INTO cust VALUES ('ab  ', 'again');
INSERT INTO ords VALUES ('ab', 1), ('ab    ', 2), ('cd', 3), ('zz', 4);
SELECT '[' || code || ']' AS code, code AS padded, name FROM cust ORDER BY code;
SELECT name FROM cust WHERE code = 'ab';
SELECT name FROM cust WHERE code = 'ab   ';
SELECT name FROM cust WHERE code = 'ab'::char(6);
SELECT name FROM cust WHERE code IN ('cd', 'e ') ORDER BY name;
EXPLAIN SELECT name FROM cust WHERE code = 'ab  ';
SELECT c.name, o.n FROM cust c JOIN ords o ON c.code = o.code ORDER BY o.n;
SELECT code, count(*) FROM ords GROUP BY code ORDER BY code;
UPDATE cust SET name = 'Anne' WHERE code = 'ab ';
DELETE FROM ords WHERE code = 'zz' AND n = 4;
SELECT c.name, o.n FROM cust c JOIN ords o ON c.code = o.code ORDER BY o.n;
SELECT count(*) FROM ords;
DROP TABLE cust, ords;
-- real shard keys: a real keys and hashes as the equal double, -0 as 0.
CREATE TABLE readings (k real PRIMARY KEY, v real) PARTITION BY HASH (k);
INSERT INTO readings VALUES (1.5, 1.1), ('-0', 2.2), (1.1, 3), ('NaN', 4), ('-Infinity', 5);
INSERT INTO readings VALUES (0, 6);
SELECT k, v FROM readings ORDER BY k;
SELECT v FROM readings WHERE k = 1.5;
SELECT v FROM readings WHERE k = '1.1';
SELECT v FROM readings WHERE k = 1.1;
SELECT v FROM readings WHERE k = 'NaN';
EXPLAIN SELECT v FROM readings WHERE k = 1.5;
SELECT sum(v), avg(v), max(k) FROM readings;
DROP TABLE readings;
