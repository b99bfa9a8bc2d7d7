-- CREATE TABLE and DROP TABLE: hash-sharded, unsharded, hidden row ids.
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, score integer) PARTITION BY HASH (id);
CREATE TABLE users (id bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);
CREATE TABLE orders (user_id bigint, order_no integer, total double precision, PRIMARY KEY (user_id, order_no)) PARTITION BY HASH (user_id);
-- The primary key must include the shard key, as PostgreSQL requires.
CREATE TABLE bad1 (id bigint PRIMARY KEY, tenant bigint) PARTITION BY HASH (tenant);
-- No primary key: rows get a hidden row id.
CREATE TABLE logs (at bigint, msg text);
INSERT INTO logs VALUES (1, 'a'), (1, 'a'), (2, 'b');
SELECT * FROM logs ORDER BY at, msg;
SELECT count(*) FROM logs;
-- Unsupported types and constructs are named.
CREATE TABLE bad2 (id bigint PRIMARY KEY, amount money);
CREATE TABLE bad3 (id bigint PRIMARY KEY, n integer CHECK (n > 0));
CREATE TABLE bad4 (id bigint PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE bad5 (id bigint PRIMARY KEY, id text);
CREATE TABLE bad6 (id bigint PRIMARY KEY) PARTITION BY HASH (nope);
DROP TABLE logs;
DROP TABLE logs;
DROP TABLE IF EXISTS logs;
DROP TABLE users, orders;
SELECT * FROM users;
