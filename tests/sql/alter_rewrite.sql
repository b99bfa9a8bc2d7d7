-- ALTER TABLE that rewrites rows: ADD PRIMARY KEY on a table made without one, ADD COLUMN ... DEFAULT on a table with rows
CREATE TABLE ar_b (bid int, bbalance int, filler char(20));
INSERT INTO ar_b (bid, bbalance) SELECT g % 5, g FROM generate_series(1, 6) AS g;
ALTER TABLE ar_b ADD PRIMARY KEY (bid);
SELECT * FROM ar_b ORDER BY bbalance;
INSERT INTO ar_b VALUES (1, 100);
DELETE FROM ar_b WHERE bbalance >= 6;
ALTER TABLE ar_b ADD PRIMARY KEY (nope);
ALTER TABLE ar_b ADD PRIMARY KEY (bid, bid);
ALTER TABLE ar_b ADD PRIMARY KEY (bid);
\d ar_b
SELECT * FROM ar_b ORDER BY bid;
SELECT bbalance FROM ar_b WHERE bid = 3;
INSERT INTO ar_b VALUES (1, 7);
INSERT INTO ar_b (bbalance) VALUES (8);
INSERT INTO ar_b VALUES (7, 7);
UPDATE ar_b SET bbalance = bbalance + 1 WHERE bid = 7;
SELECT * FROM ar_b WHERE bid = 7;
ALTER TABLE ar_b ADD PRIMARY KEY (bbalance);
ALTER TABLE ar_b ADD CONSTRAINT ar_b_other PRIMARY KEY (bbalance);
-- NULLs in a key column
CREATE TABLE ar_n (a int, b text);
INSERT INTO ar_n VALUES (1, 'x'), (2, NULL);
ALTER TABLE ar_n ADD PRIMARY KEY (b);
ALTER TABLE ar_n ADD PRIMARY KEY (a, b);
SELECT * FROM ar_n ORDER BY a;
INSERT INTO ar_n VALUES (3, NULL);
-- a named constraint, a composite key, duplicates named in the detail
CREATE TABLE ar_c (a int, b text, c int);
INSERT INTO ar_c VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3), (1, 'x', 4);
ALTER TABLE ar_c ADD CONSTRAINT ar_c_key PRIMARY KEY (a, b);
DELETE FROM ar_c WHERE c = 4;
ALTER TABLE ar_c ADD CONSTRAINT ar_c_key PRIMARY KEY (a, b);
SELECT * FROM ar_c ORDER BY a, b;
INSERT INTO ar_c VALUES (2, 'y', 5);
SELECT * FROM ar_c WHERE a = 2 ORDER BY b;
-- an empty table; a column added before the key; a dropped column
CREATE TABLE ar_e (a int, d int);
ALTER TABLE ar_e ADD PRIMARY KEY (a);
INSERT INTO ar_e VALUES (1, 1);
SELECT * FROM ar_e;
CREATE TABLE ar_d (a int, d int);
INSERT INTO ar_d VALUES (1, 10), (2, 20);
ALTER TABLE ar_d DROP COLUMN d;
ALTER TABLE ar_d ADD COLUMN k int;
UPDATE ar_d SET k = a * 100;
ALTER TABLE ar_d ADD PRIMARY KEY (k);
SELECT * FROM ar_d ORDER BY k;
INSERT INTO ar_d VALUES (3, 300);
SELECT * FROM ar_d WHERE k = 300;
\d ar_d
-- a serial column keeps its sequence
CREATE TABLE ar_s (id serial, v text);
INSERT INTO ar_s (v) VALUES ('a'), ('b');
ALTER TABLE ar_s ADD PRIMARY KEY (id);
INSERT INTO ar_s (v) VALUES ('c');
SELECT * FROM ar_s ORDER BY id;
DROP TABLE ar_s;
SELECT nextval('ar_s_id_seq');
-- a partitioned table: the key must hold the partition column
CREATE TABLE ar_p (a int, b int) PARTITION BY HASH (a);
ALTER TABLE ar_p ADD PRIMARY KEY (b);
ALTER TABLE ar_p ADD PRIMARY KEY (a, b);
-- ADD COLUMN ... DEFAULT on a table with rows: every row shows it
CREATE TABLE ar_a (id int PRIMARY KEY, v text);
INSERT INTO ar_a VALUES (1, 'x'), (2, 'y'), (3, NULL);
ALTER TABLE ar_a ADD COLUMN n int DEFAULT 42;
SELECT * FROM ar_a ORDER BY id;
ALTER TABLE ar_a ADD COLUMN m int NOT NULL;
ALTER TABLE ar_a ADD COLUMN m int NOT NULL DEFAULT NULL;
ALTER TABLE ar_a ADD COLUMN m int NOT NULL DEFAULT 7;
ALTER TABLE ar_a ADD COLUMN t text DEFAULT 'a' || 'b', ADD COLUMN u int;
SELECT * FROM ar_a ORDER BY id;
SELECT id FROM ar_a WHERE n = 42 AND m = 7 AND t = 'ab' ORDER BY id;
ALTER TABLE ar_a ADD COLUMN at timestamptz DEFAULT now();
SELECT count(DISTINCT at), count(*) FROM ar_a;
CREATE SEQUENCE ar_seq;
ALTER TABLE ar_a ADD COLUMN s bigint DEFAULT nextval('ar_seq');
SELECT count(DISTINCT s), min(s), max(s) FROM ar_a;
INSERT INTO ar_a (id) VALUES (4);
SELECT id, v, n, m, t, u, s FROM ar_a ORDER BY id;
-- both at once, on a table made without a key
CREATE TABLE ar_x (a int, b text);
INSERT INTO ar_x VALUES (1, 'x'), (2, 'y');
ALTER TABLE ar_x ADD COLUMN c int DEFAULT 5, ADD PRIMARY KEY (a);
SELECT * FROM ar_x ORDER BY a;
INSERT INTO ar_x (a) VALUES (2);
\d ar_x
-- pgbench -i's shape: load, then add the key
CREATE TABLE ar_acc (aid int NOT NULL, bid int, abalance int, filler char(84));
INSERT INTO ar_acc (aid, bid, abalance, filler) SELECT aid, (aid - 1) / 1000 + 1, 0, '' FROM generate_series(1, 3000) AS aid;
ALTER TABLE ar_acc ADD PRIMARY KEY (aid);
SELECT count(*), sum(aid), count(DISTINCT bid) FROM ar_acc;
SELECT bid FROM ar_acc WHERE aid = 2500;
DROP TABLE ar_b, ar_n, ar_c, ar_e, ar_d, ar_p, ar_a, ar_x, ar_acc;
DROP SEQUENCE ar_seq;
