-- SELECTs that run at the router over rows the shards send: DISTINCT,
-- subqueries, WITH (also RECURSIVE), set operations, aggregates with
-- FILTER and ORDER BY; results as PostgreSQL's.
CREATE TABLE rq_emp (id int PRIMARY KEY, dept text, boss int, pay numeric(8,2), hired date);
CREATE TABLE rq_dept (name text PRIMARY KEY, floor int);
INSERT INTO rq_emp VALUES (1, 'eng', NULL, 300.00, '2020-01-05'), (2, 'eng', 1, 200.50, '2021-03-01'),
  (3, 'ops', 1, 150.00, '2021-07-15'), (4, 'eng', 2, 120.25, '2022-02-02'), (5, 'ops', 3, NULL, '2023-05-05'),
  (6, 'sales', 1, 180.00, NULL), (7, NULL, 6, 90.00, '2024-01-01'), (8, 'eng', 4, 120.25, '2024-06-30');
INSERT INTO rq_dept VALUES ('eng', 3), ('ops', 1), ('hr', 2);
SELECT DISTINCT dept FROM rq_emp ORDER BY dept NULLS FIRST;
SELECT DISTINCT pay FROM rq_emp ORDER BY pay;
SELECT count(*) FROM (SELECT DISTINCT dept, pay FROM rq_emp) d;
SELECT id FROM rq_emp WHERE dept IN (SELECT name FROM rq_dept WHERE floor > 1) ORDER BY id;
SELECT id FROM rq_emp WHERE dept NOT IN (SELECT name FROM rq_dept) ORDER BY id;
SELECT id FROM rq_emp WHERE boss NOT IN (SELECT id FROM rq_emp WHERE dept = 'ops') ORDER BY id;
SELECT id FROM rq_emp WHERE boss NOT IN (SELECT boss FROM rq_emp) ORDER BY id;
SELECT id FROM rq_emp e WHERE EXISTS (SELECT 1 FROM rq_emp r WHERE r.boss = e.id) ORDER BY id;
SELECT id FROM rq_emp e WHERE NOT EXISTS (SELECT 1 FROM rq_emp r WHERE r.boss = e.id) ORDER BY id;
SELECT id, (SELECT floor FROM rq_dept WHERE name = e.dept) AS floor FROM rq_emp e ORDER BY id;
SELECT id FROM rq_emp e WHERE pay > (SELECT avg(pay) FROM rq_emp r WHERE r.dept = e.dept) ORDER BY id;
SELECT id FROM rq_emp WHERE pay >= ALL (SELECT pay FROM rq_emp WHERE pay IS NOT NULL) ORDER BY id;
SELECT id FROM rq_emp WHERE pay > ANY (SELECT pay FROM rq_emp WHERE dept = 'ops') ORDER BY id;
SELECT id FROM rq_emp WHERE id = (SELECT boss FROM rq_emp);
SELECT d.dept, d.n FROM (SELECT dept, count(*) AS n FROM rq_emp GROUP BY dept) d WHERE d.n > 1 ORDER BY 1;
WITH e AS (SELECT id, dept FROM rq_emp WHERE pay > 100), d AS (SELECT dept, count(*) AS n FROM e GROUP BY dept)
  SELECT * FROM d ORDER BY dept NULLS LAST;
WITH RECURSIVE chain(id, boss, depth) AS (
  SELECT id, boss, 0 FROM rq_emp WHERE boss IS NULL
  UNION ALL
  SELECT e.id, e.boss, c.depth + 1 FROM rq_emp e JOIN chain c ON e.boss = c.id)
SELECT id, depth FROM chain ORDER BY depth, id;
WITH RECURSIVE n(i) AS (SELECT 1 UNION SELECT i % 4 + 1 FROM n) SELECT sum(i), count(*) FROM n;
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < (SELECT 3)) SELECT * FROM r;
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i IN (SELECT i FROM r)) SELECT * FROM r;
SELECT dept FROM rq_emp UNION SELECT name FROM rq_dept ORDER BY 1;
SELECT dept FROM rq_emp UNION ALL SELECT name FROM rq_dept ORDER BY 1 NULLS FIRST;
SELECT dept FROM rq_emp INTERSECT SELECT name FROM rq_dept ORDER BY 1;
SELECT dept FROM rq_emp INTERSECT ALL SELECT dept FROM rq_emp WHERE id > 3 ORDER BY 1;
SELECT dept FROM rq_emp EXCEPT SELECT name FROM rq_dept ORDER BY 1;
SELECT dept FROM rq_emp EXCEPT ALL SELECT name FROM rq_dept ORDER BY 1;
SELECT dept, count(*) FILTER (WHERE pay > 150), string_agg(id::text, ',' ORDER BY id DESC),
  array_agg(pay ORDER BY pay DESC NULLS LAST), count(DISTINCT pay) FROM rq_emp GROUP BY dept ORDER BY dept;
SELECT id, row_number() OVER (PARTITION BY dept ORDER BY pay DESC, id), rank() OVER (ORDER BY pay) FROM rq_emp ORDER BY id;
SELECT e.id, d.floor FROM rq_emp e LEFT JOIN rq_dept d ON d.name = e.dept AND d.floor > 1 ORDER BY e.id;
SELECT e.id, d.name FROM rq_emp e FULL JOIN rq_dept d ON d.name = e.dept ORDER BY 1, 2;
WITH x AS (SELECT 1), x AS (SELECT 2) SELECT 1;
SELECT (SELECT id FROM rq_emp WHERE dept = 'eng');
-- Conditions that read no row run first, once (PostgreSQL's one-time
-- filter): a false one means no row is made, nor any error a row's
-- condition would raise.
SELECT id FROM rq_emp WHERE 100 / (id - 1) > 0 AND 1 > ALL (SELECT floor FROM rq_dept);
SELECT count(*) FROM rq_emp WHERE EXISTS (SELECT 1 FROM rq_dept WHERE floor > 5);
-- A correlated subquery per row of a join
SELECT DISTINCT (SELECT count(*) FROM rq_emp r WHERE r.pay <= e.pay) AS rank FROM rq_emp e JOIN rq_emp f ON e.dept = f.dept ORDER BY 1;
DROP TABLE rq_emp, rq_dept;
CREATE TABLE rq_w (id int PRIMARY KEY, g text, v int);
INSERT INTO rq_w VALUES (1,'a',10),(2,'a',20),(3,'a',20),(4,'b',5),(5,'b',NULL),(6,'c',7),(7,'a',30);
SELECT id, sum(v) OVER (PARTITION BY g ORDER BY v), count(*) OVER (PARTITION BY g), avg(v) OVER (ORDER BY id), min(v) OVER (), max(v) OVER (PARTITION BY g ORDER BY id DESC) FROM rq_w ORDER BY id;
SELECT id, lag(v) OVER (ORDER BY id), lead(v, 2) OVER (ORDER BY id), lag(v, 1, -1) OVER (PARTITION BY g ORDER BY id), first_value(v) OVER (PARTITION BY g ORDER BY v DESC NULLS LAST), last_value(id) OVER (PARTITION BY g ORDER BY v) FROM rq_w ORDER BY id;
SELECT id, ntile(3) OVER (ORDER BY id), ntile(2) OVER (PARTITION BY g ORDER BY id), ntile(10) OVER (ORDER BY id) FROM rq_w ORDER BY id;
SELECT ntile(0) OVER () FROM rq_w;
DROP TABLE rq_w;
