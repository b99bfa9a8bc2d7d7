-- GROUP BY and HAVING: the shards return the needed columns, the router
-- groups them in a hash table, then applies HAVING, ORDER BY and LIMIT.
CREATE TABLE g_sales (id bigint PRIMARY KEY, region text, cat int, qty int, price double precision, day date, note varchar(10)) PARTITION BY HASH (id);
CREATE TABLE g_range (k int PRIMARY KEY, tag text, n smallint) PARTITION BY RANGE (k) WITH (boundaries = '10,20');
CREATE TABLE g_local (k int PRIMARY KEY, tag text, n bigint);
CREATE TABLE g_regions (code text PRIMARY KEY, name text, zone int) WITH (distribution = 'reference');
CREATE TABLE g_users (id int PRIMARY KEY, name text, country text) PARTITION BY HASH (id);
CREATE TABLE g_orders (user_id bigint, oid bigint, amount int, PRIMARY KEY (user_id, oid)) PARTITION BY HASH (user_id);
INSERT INTO g_sales VALUES
    (1, 'eu', 1, 10, 2.5, '2026-03-01', 'a'), (2, 'eu', 2, 5, 1.0, '2026-03-01', NULL),
    (3, 'us', 1, 7, 3.25, '2026-03-02', 'c'), (4, 'us', 1, NULL, 4.0, '2026-03-02', 'd'),
    (5, NULL, 2, 3, NULL, '2026-03-03', 'e'), (6, 'asia', NULL, 8, 0.5, NULL, 'f'),
    (7, 'eu', 1, 2, 2.0, '2026-03-03', 'g'), (8, NULL, NULL, NULL, NULL, NULL, NULL),
    (9, 'us', 3, 11, 1.75, '2026-03-01', 'i'), (10, 'eu', 3, 1, 9.0, '2026-03-02', 'j');
INSERT INTO g_range VALUES (1, 'a', 1), (5, 'b', 2), (12, 'a', 3), (15, NULL, 4), (25, 'b', 5), (30, 'a', NULL);
INSERT INTO g_local VALUES (1, 'x', 10), (2, 'y', 20), (3, 'x', 30), (4, NULL, NULL);
INSERT INTO g_regions VALUES ('eu', 'Europe', 1), ('us', 'Americas', 2), ('asia', 'Asia', 1);
INSERT INTO g_users VALUES (1, 'ann', 'fr'), (2, 'bob', 'de'), (3, 'cy', 'fr'), (4, 'dee', NULL);
INSERT INTO g_orders VALUES (1, 1, 10), (1, 2, 20), (2, 1, 5), (3, 1, 7), (3, 2, NULL), (3, 3, 1);
-- one key, the usual aggregates; NULLs form one group
SELECT region, count(*), count(qty), sum(qty), min(qty), max(qty) FROM g_sales GROUP BY region ORDER BY region;
SELECT region, sum(price), avg(price), min(note), max(day) FROM g_sales GROUP BY region ORDER BY region NULLS FIRST;
-- several keys, positions and aliases
SELECT region, cat, count(*) AS n FROM g_sales GROUP BY region, cat ORDER BY region, cat;
SELECT cat, region, sum(qty) FROM g_sales GROUP BY 2, 1 ORDER BY 1, 2;
SELECT region AS r, count(*) FROM g_sales GROUP BY r ORDER BY r DESC;
-- a key that is only grouped, not selected; a key in an expression
SELECT count(*) FROM g_sales GROUP BY region ORDER BY 1;
SELECT cat * 10 AS c10, sum(qty) FROM g_sales GROUP BY cat * 10 ORDER BY c10;
SELECT cat + 1, count(*) FROM g_sales GROUP BY cat ORDER BY cat + 1;
SELECT region || '!' AS tagged, count(*) FROM g_sales GROUP BY region || '!' ORDER BY 1;
-- aggregates in expressions, HAVING
SELECT region, sum(qty) * 2 AS dbl, max(qty) - min(qty) AS spread FROM g_sales GROUP BY region ORDER BY region;
SELECT region, count(*) FROM g_sales GROUP BY region HAVING count(*) > 1 ORDER BY region;
SELECT region, sum(qty) FROM g_sales GROUP BY region HAVING sum(qty) >= 10 AND region <> 'us' ORDER BY 2;
SELECT region FROM g_sales GROUP BY region HAVING max(price) > 3 ORDER BY region;
SELECT count(*) FROM g_sales HAVING count(*) > 5;
SELECT count(*) FROM g_sales HAVING count(*) > 50;
SELECT sum(qty) FROM g_sales WHERE id > 100 HAVING count(*) = 0;
-- ORDER BY aggregates, LIMIT and OFFSET
SELECT region, sum(qty) AS total FROM g_sales GROUP BY region ORDER BY total DESC NULLS LAST, region LIMIT 2;
SELECT region, count(*) FROM g_sales GROUP BY region ORDER BY count(*) DESC, region LIMIT 2 OFFSET 1;
SELECT cat, max(price) FROM g_sales GROUP BY cat ORDER BY max(price) NULLS FIRST, cat;
-- no aggregate at all: one row per distinct key
SELECT region FROM g_sales GROUP BY region ORDER BY region;
SELECT day FROM g_sales WHERE day IS NOT NULL GROUP BY day ORDER BY day DESC;
-- WHERE runs on the shards first; no rows, no groups
SELECT region, count(*) FROM g_sales WHERE qty > 5 GROUP BY region ORDER BY region;
SELECT region, count(*) FROM g_sales WHERE id = 3 GROUP BY region;
SELECT region, count(*) FROM g_sales WHERE id > 100 GROUP BY region;
-- sum and avg of no non-NULL value are NULL, count is 0
SELECT id, count(qty), sum(qty), avg(price) FROM g_sales WHERE id IN (4, 8) GROUP BY id ORDER BY id;
-- grouped by the primary key: the other columns may be selected
SELECT id, region, qty FROM g_sales WHERE id < 4 GROUP BY id ORDER BY id;
-- the shard key in the keys; range, unsharded and reference tables
SELECT id % 3 AS m, count(*) FROM g_sales GROUP BY id % 3 ORDER BY m;
SELECT tag, count(*), sum(n), min(k) FROM g_range GROUP BY tag ORDER BY tag;
SELECT tag, sum(n) FROM g_local GROUP BY tag ORDER BY tag;
SELECT zone, count(*), min(name) FROM g_regions GROUP BY zone ORDER BY zone;
-- joins with a reference table and of co-located tables
SELECT r.name, count(*), sum(s.qty) FROM g_sales s JOIN g_regions r ON s.region = r.code GROUP BY r.name ORDER BY r.name;
SELECT r.zone, s.cat, count(*) FROM g_sales s LEFT JOIN g_regions r ON s.region = r.code GROUP BY r.zone, s.cat ORDER BY 1, 2;
SELECT u.name, count(o.oid), sum(o.amount) FROM g_users u LEFT JOIN g_orders o ON o.user_id = u.id GROUP BY u.name ORDER BY u.name;
SELECT u.country, count(*) FROM g_users u JOIN g_orders o ON o.user_id = u.id GROUP BY u.country HAVING count(*) > 1 ORDER BY 1;
SELECT u.id, u.name, count(o.oid) FROM g_users u JOIN g_orders o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id;
SELECT region, 'x' AS tag, 7 AS seven, count(*) FROM g_sales GROUP BY region, region ORDER BY 1 LIMIT 2;
SELECT cat, count(*) FROM g_sales GROUP BY cat HAVING sum(qty) IS NULL OR min(price) < 1 ORDER BY cat;
SELECT s.cat AS c, count(r.name) AS named FROM g_sales s LEFT JOIN g_regions r ON s.region = r.code GROUP BY c ORDER BY named DESC, c;
-- without FROM
SELECT 1 AS one GROUP BY 1;
SELECT count(*) HAVING count(*) > 0;
-- without GROUP BY, aggregates inside expressions: one group over all
-- rows, one row even when no row matches
SELECT count(*) + 1 FROM g_sales;
SELECT max(qty) - min(qty) AS spread, count(*) FROM g_sales;
SELECT sum(qty) * 2, count(*) FROM g_sales WHERE region = 'eu';
SELECT count(*) + 1 AS n, sum(qty) * 2 AS s, max(price) / 2 AS m, min(note) AS lo FROM g_sales WHERE id > 100;
SELECT avg(price) * 2 AS a2, 'x' AS tag, count(*) - count(qty) AS nulls FROM g_sales;
SELECT max(n) + min(n), sum(n) - 1 FROM g_range WHERE k < 20;
SELECT count(*) * 10 FROM g_local WHERE tag = 'x';
SELECT sum(s.qty) + count(r.name) AS total FROM g_sales s LEFT JOIN g_regions r ON s.region = r.code;
SELECT 1 AS one FROM g_sales ORDER BY count(*);
SELECT count(*) AS n FROM g_sales ORDER BY n LIMIT 1;
SELECT count(*) + 1 AS n;
-- DISTINCT aggregates, with and without GROUP BY
SELECT count(DISTINCT region), count(region), count(DISTINCT cat), count(DISTINCT day) FROM g_sales;
SELECT region, count(DISTINCT cat), sum(DISTINCT qty), avg(DISTINCT price), min(DISTINCT note), max(DISTINCT cat) FROM g_sales GROUP BY region ORDER BY region;
SELECT count(DISTINCT qty), sum(DISTINCT qty), avg(DISTINCT price) FROM g_sales WHERE id > 100;
SELECT sum(DISTINCT n), count(DISTINCT tag) FROM g_range;
SELECT cat, count(DISTINCT region) AS regions FROM g_sales GROUP BY cat HAVING count(DISTINCT region) > 1 ORDER BY cat;
SELECT count(DISTINCT region) + count(DISTINCT day) AS both_ FROM g_sales;
SELECT count(DISTINCT price), sum(DISTINCT price), avg(DISTINCT price) FROM g_sales WHERE id IN (1, 2, 7, 10);
SELECT count(DISTINCT u.country), count(DISTINCT o.user_id), sum(DISTINCT o.amount) FROM g_users u JOIN g_orders o ON o.user_id = u.id;
SELECT u.name, count(DISTINCT o.amount) FROM g_users u LEFT JOIN g_orders o ON o.user_id = u.id GROUP BY u.name ORDER BY count(DISTINCT o.amount) DESC, u.name;
SELECT count(DISTINCT qty % 3) FROM g_sales;
-- errors
SELECT region, qty FROM g_sales GROUP BY region;
SELECT region, sum(qty) + qty FROM g_sales GROUP BY region;
SELECT *, count(*) FROM g_local GROUP BY tag;
SELECT region FROM g_sales GROUP BY region HAVING qty > 1;
SELECT region FROM g_sales GROUP BY region ORDER BY cat;
SELECT o.oid, count(*) FROM g_users u JOIN g_orders o ON o.user_id = u.id GROUP BY u.name;
SELECT region, count(*) FROM g_sales GROUP BY 3;
SELECT region, count(*) FROM g_sales GROUP BY 2;
SELECT region, count(*) AS n FROM g_sales GROUP BY n;
SELECT region FROM g_sales GROUP BY count(*);
SELECT region FROM g_sales GROUP BY nosuch;
SELECT region FROM g_sales GROUP BY region HAVING region;
SELECT region, sum(sum(qty)) FROM g_sales GROUP BY region;
SELECT region FROM g_sales GROUP BY 'x';
SELECT id, count(*) FROM g_sales;
SELECT count(*) + qty FROM g_sales;
SELECT count(*) FROM g_sales ORDER BY qty;
SELECT *, count(*) FROM g_local;
SELECT max(count(DISTINCT qty)) FROM g_sales;
SELECT count(*) FILTER (WHERE qty > 1) FROM g_sales;
SELECT count(DISTINCT qty ORDER BY qty) FROM g_sales;
-- EXPLAIN shows Talus's plan: the grouping runs at the router
EXPLAIN SELECT region, cat, count(*) FROM g_sales WHERE qty > 1 GROUP BY region, cat;
EXPLAIN SELECT r.name, count(*) FROM g_sales s JOIN g_regions r ON s.region = r.code GROUP BY r.name HAVING count(*) > 1;
EXPLAIN SELECT count(*) + 1 FROM g_sales WHERE region = 'eu';
EXPLAIN SELECT count(DISTINCT region) FROM g_sales;
EXPLAIN SELECT region, sum(qty) FROM g_sales GROUP BY region ORDER BY 2 DESC LIMIT 2;
DROP TABLE g_sales, g_range, g_local, g_regions, g_users, g_orders;
