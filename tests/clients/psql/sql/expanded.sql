-- \x: expanded output, on and off, with NULLs and a wide value.
CREATE TABLE @T@ (id int PRIMARY KEY, name text, v bigint);
INSERT INTO @T@ (id, name, v) VALUES (1, 'one', 10), (2, NULL, 9223372036854775807), (3, 'a much longer name', NULL);
\x
SELECT id, name, v FROM @T@ ORDER BY id;
SELECT id, name FROM @T@ WHERE id = 99;
\x off
SELECT id, name, v FROM @T@ ORDER BY id;
\pset null '(null)'
\x on
SELECT name, v FROM @T@ WHERE id > 1 ORDER BY id;
DROP TABLE @T@;
