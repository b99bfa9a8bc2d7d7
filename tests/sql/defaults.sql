-- Column DEFAULT expressions: stored with the table, evaluated per row
-- for omitted columns, DEFAULT in VALUES, DEFAULT VALUES and COPY.
CREATE TABLE d1 (id int PRIMARY KEY, a int DEFAULT 5, b text DEFAULT 'x',
                 c timestamptz DEFAULT now(), d boolean DEFAULT true,
                 e float8 DEFAULT -1.5, f varchar(3) DEFAULT 'ab',
                 g int);
INSERT INTO d1 (id) VALUES (1);
INSERT INTO d1 VALUES (2, DEFAULT, 'y', DEFAULT, false, DEFAULT, DEFAULT, 7);
INSERT INTO d1 (id, b) VALUES (3, DEFAULT), (4, 'z');
INSERT INTO d1 (id, a) VALUES (5, NULL);
SELECT id, a, b, c IS NOT NULL AS has_c, d, e, f, g FROM d1 ORDER BY id;
-- now() is the statement's time: every row of one INSERT gets the same
INSERT INTO d1 (id) VALUES (10), (11), (12);
SELECT count(DISTINCT c) FROM d1 WHERE id >= 10;
-- UPDATE ... SET c = DEFAULT
UPDATE d1 SET a = DEFAULT, b = DEFAULT, g = DEFAULT WHERE id IN (2, 5);
SELECT id, a, b, g FROM d1 WHERE id IN (2, 5) ORDER BY id;
-- a default feeds NOT NULL like any value
CREATE TABLE d2 (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, m int NOT NULL);
INSERT INTO d2 (id, m) VALUES (1, 1);
INSERT INTO d2 (id) VALUES (2);
INSERT INTO d2 VALUES (3, DEFAULT, DEFAULT);
SELECT * FROM d2 ORDER BY id;
-- DEFAULT VALUES: every column takes its default
CREATE TABLE d3 (a int DEFAULT 1, b text DEFAULT 'dv', c int);
INSERT INTO d3 DEFAULT VALUES;
INSERT INTO d3 DEFAULT VALUES;
SELECT * FROM d3;
-- expressions and casts in defaults
CREATE TABLE d4 (id int PRIMARY KEY, a int DEFAULT 2 + 3, b bigint DEFAULT (10 * 10),
                 c text DEFAULT 'a' || 'b', d date DEFAULT '2024-02-29',
                 e timestamp DEFAULT '2020-01-01 10:00:00'::timestamp,
                 f int DEFAULT '42', g smallint DEFAULT 7::smallint);
INSERT INTO d4 (id) VALUES (1);
SELECT * FROM d4;
-- COPY with a column list: the other columns take their defaults
CREATE TABLE d5 (id int PRIMARY KEY, a int DEFAULT 100, b text DEFAULT 'copied');
COPY d5 (id) FROM STDIN;
1
2
\.
COPY d5 (id, b) FROM STDIN;
3	three
\.
SELECT * FROM d5 ORDER BY id;
-- bad defaults fail at CREATE TABLE
CREATE TABLE bad (a int DEFAULT 'x');
CREATE TABLE bad (a int DEFAULT true);
CREATE TABLE bad (a boolean DEFAULT 1);
CREATE TABLE bad (a int DEFAULT b);
CREATE TABLE bad (a int, b int DEFAULT a);
CREATE TABLE bad (a int DEFAULT 1 DEFAULT 2);
CREATE TABLE bad (a int DEFAULT nextval('no_such_seq'));
-- a length limit applies when a row takes the default
CREATE TABLE bad (id int PRIMARY KEY, a varchar(2) DEFAULT 'abc');
INSERT INTO bad (id) VALUES (1);
INSERT INTO bad VALUES (2, 'ab');
SELECT * FROM bad;
-- the table's name is checked before its columns
CREATE TABLE bad (a int DEFAULT 'x');
DROP TABLE bad;
-- a table created before DEFAULT existed reads the same (no defaults)
CREATE TABLE nodef (id int PRIMARY KEY, a int);
INSERT INTO nodef (id) VALUES (1);
INSERT INTO nodef VALUES (2, DEFAULT);
INSERT INTO nodef DEFAULT VALUES;
SELECT * FROM nodef ORDER BY id;
DROP TABLE d1, d2, d3, d4, d5, nodef;
