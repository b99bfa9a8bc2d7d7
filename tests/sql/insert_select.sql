-- INSERT ... SELECT from tables, catalog relations and generate_series
CREATE TABLE is_src (id int PRIMARY KEY, name text, score float8);
CREATE TABLE is_dst (id bigint PRIMARY KEY, label varchar(5), score int, note text DEFAULT 'copied');
INSERT INTO is_src VALUES (1, 'ada', 1.4), (2, 'grace', 2.5), (3, 'edsger', NULL);
INSERT INTO is_dst (id, label, score) SELECT id, name, score FROM is_src WHERE id < 3;
SELECT * FROM is_dst ORDER BY id;
INSERT INTO is_dst (id, label) SELECT id, name FROM is_src WHERE id = 3;
INSERT INTO is_dst (id, label) SELECT 10 + g, 'g' || g FROM generate_series(1, 3) AS g;
SELECT * FROM is_dst ORDER BY id;
INSERT INTO is_dst (id, label, score) SELECT id + 100, label, score FROM is_dst WHERE id < 10;
SELECT count(*), sum(id) FROM is_dst;
INSERT INTO is_dst (id) SELECT id FROM is_src WHERE id = 1;
SELECT count(*) FROM is_dst;
INSERT INTO is_dst (id, label) SELECT id, name, score FROM is_src;
INSERT INTO is_dst (id, label, score) SELECT id, name FROM is_src;
INSERT INTO is_dst (id, label) SELECT now(), 'x';
INSERT INTO is_dst (id, label) SELECT 50, relname FROM pg_class WHERE relname = 'is_src';
SELECT id, label FROM is_dst WHERE id >= 50 ORDER BY id;
DROP TABLE is_src, is_dst;
