-- character(n) shard keys: the hash vindex and the primary key see a value
-- without its trailing spaces, so 'ab', 'ab  ' and a char(6) 'ab' find the
-- same row on the same shard, and co-located joins match across lengths.
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
