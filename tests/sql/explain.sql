-- EXPLAIN shows the route: the shards a statement touches and why.
CREATE TABLE u (id bigint PRIMARY KEY, name text) PARTITION BY HASH (id);
CREATE TABLE kv (k text PRIMARY KEY, v text);
EXPLAIN SELECT * FROM u WHERE id = 1;
EXPLAIN SELECT * FROM u WHERE id IN (1, 2, 3);
EXPLAIN SELECT * FROM u WHERE name = 'x';
EXPLAIN SELECT * FROM u WHERE id = 1 OR name = 'x';
EXPLAIN SELECT count(*) FROM u;
EXPLAIN UPDATE u SET name = 'y' WHERE id = 7;
EXPLAIN DELETE FROM u WHERE name = 'y';
EXPLAIN INSERT INTO u VALUES (1, 'a'), (2, 'b');
EXPLAIN SELECT * FROM kv WHERE k = 'a';
DROP TABLE u, kv;
