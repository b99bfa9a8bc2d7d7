-- Joins of a sharded (or unsharded) table with reference tables run on
-- the shards, each against its own copy of the reference tables.
CREATE TABLE j_orders (id bigint PRIMARY KEY, customer int, country text, amount int, note text) PARTITION BY HASH (id);
CREATE TABLE j_countries (code text PRIMARY KEY, name text, region int) WITH (distribution = 'reference');
CREATE TABLE j_regions (id int PRIMARY KEY, rname text) WITH (distribution = 'reference');
CREATE TABLE j_rates (currency text, country text, rate double precision) WITH (distribution = 'reference');
CREATE TABLE j_items (order_id bigint, line int, sku text, PRIMARY KEY (order_id, line)) PARTITION BY HASH (order_id);
CREATE TABLE j_plain (k int PRIMARY KEY, code text);
INSERT INTO j_countries VALUES ('fr', 'France', 1), ('de', 'Germany', 1), ('jp', 'Japan', 2), ('br', 'Brazil', 3), ('xx', NULL, NULL);
INSERT INTO j_regions VALUES (1, 'Europe'), (2, 'Asia'), (4, 'Oceania');
INSERT INTO j_rates VALUES ('EUR', 'fr', 1.0), ('EUR', 'de', 1.0), ('JPY', 'jp', 0.006), ('XEU', 'fr', 0.5);
INSERT INTO j_orders VALUES
    (1, 10, 'fr', 100, 'a'), (2, 11, 'de', 250, NULL), (3, 10, 'jp', 75, 'c'),
    (4, 12, 'us', 30, 'd'), (5, 13, NULL, 500, 'e'), (6, 11, 'fr', 20, 'f'),
    (7, 14, 'br', 310, 'g'), (8, 10, 'jp', 45, NULL), (9, 15, 'xx', 60, 'i');
INSERT INTO j_items VALUES (1, 1, 'apple'), (1, 2, 'pear'), (3, 1, 'fig');
INSERT INTO j_plain VALUES (1, 'fr'), (2, 'jp'), (3, 'zz');
-- inner join, qualified and unqualified columns
SELECT o.id, c.name, amount FROM j_orders o JOIN j_countries c ON o.country = c.code ORDER BY o.id;
SELECT * FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE o.id = 3;
SELECT o.*, c.name FROM j_orders AS o INNER JOIN j_countries AS c ON c.code = o.country WHERE o.id IN (1, 2, 4) ORDER BY 1;
SELECT c.*, o.id FROM j_countries c JOIN j_orders o ON o.country = c.code WHERE o.amount > 70 ORDER BY o.id;
-- without aliases
SELECT j_orders.id, j_countries.name FROM j_orders JOIN j_countries ON j_orders.country = j_countries.code WHERE j_orders.id = 7;
-- comma join
SELECT o.id, c.name FROM j_orders o, j_countries c WHERE o.country = c.code AND c.region = 1 ORDER BY o.id;
-- LEFT JOIN: rows without a match get NULLs
SELECT o.id, o.country, c.name, c.region FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code ORDER BY o.id;
SELECT o.id, c.name FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code AND c.region = 1 ORDER BY o.id;
SELECT o.id FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code WHERE c.code IS NULL ORDER BY o.id;
SELECT o.id, c.name FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code AND o.amount > 100 ORDER BY o.id;
-- several reference tables
SELECT o.id, c.name, r.rname FROM j_orders o JOIN j_countries c ON o.country = c.code JOIN j_regions r ON r.id = c.region ORDER BY o.id;
SELECT o.id, c.name, r.rname FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code LEFT JOIN j_regions r ON r.id = c.region ORDER BY o.id;
SELECT o.id, r.rname FROM j_orders o JOIN j_countries c ON o.country = c.code LEFT JOIN j_regions r ON r.id = c.region WHERE r.rname IS NULL ORDER BY o.id;
-- a join column that is not the reference table's key, and duplicates
SELECT o.id, x.currency, x.rate FROM j_orders o JOIN j_rates x ON x.country = o.country ORDER BY o.id, x.currency;
SELECT o.id, x.currency FROM j_orders o LEFT JOIN j_rates x ON x.country = o.country AND x.rate < 1 ORDER BY o.id, x.currency;
-- conditions across both sides, and a join without equality
SELECT o.id, c.code FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE o.amount > c.region * 100 ORDER BY o.id;
SELECT o.id, r.rname FROM j_orders o JOIN j_regions r ON o.amount BETWEEN r.id * 100 AND r.id * 100 + 99 ORDER BY o.id;
SELECT count(*) FROM j_orders o, j_regions r;
-- ORDER BY, LIMIT, OFFSET over the join
SELECT o.id, c.name FROM j_orders o JOIN j_countries c ON o.country = c.code ORDER BY c.name DESC, o.id LIMIT 3 OFFSET 1;
SELECT o.id, c.name || '/' || o.note AS label FROM j_orders o JOIN j_countries c ON o.country = c.code ORDER BY label NULLS FIRST, o.id LIMIT 4;
SELECT o.id FROM j_orders o JOIN j_countries c ON o.country = c.code ORDER BY o.id LIMIT 2;
-- aggregates
SELECT count(*) FROM j_orders o JOIN j_countries c ON o.country = c.code;
SELECT count(*) FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code;
SELECT count(*), count(c.name), sum(o.amount), min(c.name), max(o.amount), avg(o.amount::float8) FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code;
SELECT count(*) FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE o.id = 1;
SELECT sum(o.amount) FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE c.region = 1;
-- reference tables only, and an unsharded table
SELECT c.code, r.rname FROM j_countries c JOIN j_regions r ON c.region = r.id ORDER BY c.code;
SELECT c.code, r.rname FROM j_countries c LEFT JOIN j_regions r ON c.region = r.id ORDER BY c.code;
SELECT p.k, c.name FROM j_plain p LEFT JOIN j_countries c ON c.code = p.code ORDER BY p.k;
SELECT count(*) FROM j_countries a, j_countries b WHERE a.region = b.region;
-- RIGHT JOIN: the preserved side drives
SELECT c.code, o.id FROM j_countries c RIGHT JOIN j_orders o ON o.country = c.code ORDER BY o.id;
SELECT r.rname, c.code FROM j_regions r RIGHT JOIN j_countries c ON c.region = r.id ORDER BY c.code;
SELECT * FROM j_regions r RIGHT JOIN j_countries c ON c.region = r.id JOIN j_orders o ON o.country = c.code WHERE o.amount < 100 ORDER BY o.id;
-- USING: the common columns once, first
SELECT * FROM j_plain JOIN j_countries USING (code) ORDER BY k;
SELECT * FROM j_plain p LEFT JOIN j_countries c USING (code) ORDER BY k;
SELECT id, o.id, r.id, rname, amount FROM j_orders o JOIN j_regions r USING (id) ORDER BY id;
SELECT o.id, c.name, r.rname FROM j_orders o JOIN j_countries c ON o.country = c.code JOIN j_regions r ON r.id = c.region WHERE o.id BETWEEN 1 AND 3 ORDER BY 1;
SELECT * FROM j_plain NATURAL JOIN j_countries ORDER BY k;
SELECT count(*) FROM j_orders o NATURAL JOIN j_regions r;
SELECT * FROM j_orders o JOIN j_regions r USING (nosuch);
SELECT * FROM j_orders o JOIN j_regions r USING (id, id);
SELECT * FROM j_orders o JOIN j_countries c USING (code);
-- errors
SELECT id FROM j_orders o JOIN j_regions r ON o.customer = r.id;
SELECT o.id FROM j_orders o JOIN j_countries c ON o.country = code AND region = nosuch;
SELECT o.nosuch FROM j_orders o JOIN j_countries c ON o.country = c.code;
SELECT z.id FROM j_orders o JOIN j_countries c ON o.country = c.code;
SELECT j_orders.id FROM j_orders o JOIN j_countries c ON o.country = c.code;
SELECT o.id FROM j_orders o JOIN j_countries c ON o.amount;
SELECT o.id FROM j_orders o JOIN j_countries c ON count(*) > 0;
SELECT o.id FROM j_orders o JOIN j_countries o ON true;
SELECT o.id FROM j_orders o JOIN j_countries c ON c.region = r.id JOIN j_regions r ON true;
SELECT o.id FROM j_orders o, j_countries c JOIN j_regions r ON o.customer = r.id;
SELECT o.id, c.code FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE count(*) > 1;
SELECT o.id, count(*) FROM j_orders o JOIN j_countries c ON o.country = c.code;
-- Two sharded tables co-located (same vindex, equal shard keys) join on
-- the shards too: each shard holds every match of its own rows.
CREATE TABLE j_users (id int PRIMARY KEY, name text, country text) PARTITION BY HASH (id);
CREATE TABLE j_uorders (user_id bigint, oid bigint, amount int, PRIMARY KEY (user_id, oid)) PARTITION BY HASH (user_id);
CREATE TABLE j_profiles (user_id int PRIMARY KEY, bio text) PARTITION BY HASH (user_id);
CREATE TABLE j_carts (user_id bigint PRIMARY KEY, n int) PARTITION BY HASH (user_id) WITH (vindex = 'consistent_hash');
CREATE TABLE j_ra (k int PRIMARY KEY, a text) PARTITION BY RANGE (k) WITH (boundaries = '100,200');
CREATE TABLE j_rb (k int, x int, PRIMARY KEY (k, x)) PARTITION BY RANGE (k) WITH (boundaries = '100,200');
CREATE TABLE j_rc (k int PRIMARY KEY, c text) PARTITION BY RANGE (k) WITH (boundaries = '100,300');
INSERT INTO j_users VALUES (1, 'ann', 'fr'), (2, 'bob', 'de'), (3, 'cy', 'jp'), (4, 'dee', NULL), (5, 'eve', 'fr'), (6, 'fay', 'us');
INSERT INTO j_uorders VALUES (1, 10, 100), (1, 11, 20), (2, 20, 250), (3, 30, 75), (3, 31, 5), (3, 32, 40), (5, 50, 500), (7, 70, 60), (8, 80, 1);
INSERT INTO j_profiles VALUES (1, 'likes tea'), (3, NULL), (5, 'hiker'), (9, 'ghost');
INSERT INTO j_carts VALUES (1, 2), (2, 1);
INSERT INTO j_ra VALUES (5, 'five'), (100, 'hundred'), (150, 'one fifty'), (250, 'two fifty');
INSERT INTO j_rb VALUES (5, 1), (5, 2), (150, 1), (199, 1), (250, 3);
INSERT INTO j_rc VALUES (5, 'x');
-- inner, comma, LEFT and RIGHT joins on the shard keys (int and bigint)
SELECT u.id, u.name, o.oid, o.amount FROM j_users u JOIN j_uorders o ON o.user_id = u.id ORDER BY o.oid;
SELECT u.name, o.oid FROM j_uorders o, j_users u WHERE u.id = o.user_id AND o.amount > 50 ORDER BY o.oid;
SELECT u.id, u.name, o.oid FROM j_users u LEFT JOIN j_uorders o ON o.user_id = u.id ORDER BY u.id, o.oid;
SELECT u.id, o.oid FROM j_users u LEFT JOIN j_uorders o ON u.id = o.user_id AND o.amount >= 75 ORDER BY u.id, o.oid;
SELECT o.oid, u.name FROM j_uorders o LEFT JOIN j_users u ON u.id = o.user_id WHERE u.id IS NULL ORDER BY o.oid;
SELECT u.id, o.oid FROM j_uorders o RIGHT JOIN j_users u ON o.user_id = u.id ORDER BY u.id, o.oid;
-- a condition on either table's shard key routes to one shard
SELECT u.name, o.oid, o.amount FROM j_users u JOIN j_uorders o ON o.user_id = u.id WHERE o.user_id = 3 ORDER BY o.oid;
SELECT u.name, o.oid FROM j_users u JOIN j_uorders o ON o.user_id = u.id WHERE u.id = 3 ORDER BY o.oid;
SELECT u.name, o.oid FROM j_uorders o JOIN j_users u ON o.user_id = u.id WHERE u.id IN (1, 5) ORDER BY o.oid;
SELECT u.name, o.oid FROM j_users u LEFT JOIN j_uorders o ON o.user_id = u.id WHERE u.id = 4;
-- aggregates, ORDER BY, LIMIT
SELECT count(*), sum(o.amount), min(u.name), max(o.amount) FROM j_users u JOIN j_uorders o ON o.user_id = u.id;
SELECT count(*), count(o.oid) FROM j_users u LEFT JOIN j_uorders o ON o.user_id = u.id;
SELECT u.name, o.amount FROM j_users u JOIN j_uorders o ON o.user_id = u.id ORDER BY o.amount DESC, o.oid LIMIT 3;
SELECT o.oid FROM j_users u JOIN j_uorders o ON o.user_id = u.id ORDER BY o.oid LIMIT 2 OFFSET 2;
-- USING and NATURAL, three sharded tables, and a reference table as well
SELECT * FROM j_uorders JOIN j_profiles USING (user_id) ORDER BY oid;
SELECT * FROM j_profiles NATURAL JOIN j_uorders ORDER BY oid;
SELECT u.name, o.oid, p.bio FROM j_users u JOIN j_uorders o ON o.user_id = u.id LEFT JOIN j_profiles p ON p.user_id = o.user_id ORDER BY o.oid;
SELECT u.name, c.name, o.oid FROM j_users u JOIN j_countries c ON c.code = u.country JOIN j_uorders o ON o.user_id = u.id ORDER BY o.oid;
SELECT count(*) FROM j_users a JOIN j_users b ON a.id = b.id;
-- range tables with identical boundaries
SELECT r.k, a.a, r.x FROM j_ra a JOIN j_rb r ON r.k = a.k ORDER BY r.k, r.x;
SELECT a.k, r.x FROM j_ra a LEFT JOIN j_rb r ON r.k = a.k WHERE a.k >= 100 ORDER BY a.k, r.x;
-- not co-located, run at the router over rows the shards send: no
-- equality of the shard keys, another vindex, other boundaries, an unsharded table, the equality only in WHERE for a LEFT JOIN
SELECT u.id FROM j_users u JOIN j_uorders o ON o.oid = u.id ORDER BY 1;
SELECT u.id FROM j_users u JOIN j_uorders o ON o.user_id = u.id + 0 ORDER BY 1;
SELECT u.id FROM j_users u JOIN j_uorders o ON o.user_id = u.id OR o.amount > 1 ORDER BY 1;
SELECT u.id FROM j_users u, j_uorders o ORDER BY 1;
SELECT u.id FROM j_users u JOIN j_carts c ON c.user_id = u.id ORDER BY 1;
SELECT a.k FROM j_ra a JOIN j_rc c ON c.k = a.k ORDER BY 1;
SELECT u.id FROM j_users u JOIN j_plain p ON p.k = u.id ORDER BY 1;
SELECT u.id FROM j_users u LEFT JOIN j_uorders o ON true WHERE o.user_id = u.id ORDER BY 1;
SELECT u.id FROM j_users u JOIN j_uorders o ON o.user_id = u.id JOIN j_items i ON i.order_id = o.oid ORDER BY 1;
-- at the router as well: two sharded tables that are not co-located, the
-- sharded table on the nullable side, FULL JOIN, RIGHT JOIN after another join
SELECT o.id, i.sku FROM j_orders o JOIN j_items i ON i.order_id = o.customer ORDER BY 1, 2;
SELECT o.id FROM j_orders o, j_plain p ORDER BY 1;
SELECT c.code, o.id FROM j_countries c LEFT JOIN j_orders o ON o.country = c.code ORDER BY 1, 2;
SELECT o.id FROM j_orders o FULL JOIN j_countries c ON o.country = c.code ORDER BY 1;
SELECT o.id FROM j_orders o RIGHT JOIN j_countries c ON o.country = c.code ORDER BY 1;
SELECT o.id FROM j_orders o JOIN j_countries c ON o.country = c.code RIGHT JOIN j_regions r ON r.id = c.region ORDER BY 1;
-- EXPLAIN: the join runs on the shards the driving table's filter allows
EXPLAIN SELECT o.id, c.name FROM j_orders o JOIN j_countries c ON o.country = c.code WHERE o.id = 5;
EXPLAIN SELECT o.id, c.name FROM j_orders o JOIN j_countries c ON o.country = c.code;
EXPLAIN SELECT o.id FROM j_orders o LEFT JOIN j_countries c ON o.country = c.code AND c.region = 1 LEFT JOIN j_rates x ON x.country = o.country WHERE o.id IN (1, 2) AND x.rate IS NULL;
EXPLAIN SELECT count(*) FROM j_orders o, j_regions r WHERE o.amount > r.id;
EXPLAIN SELECT c.code FROM j_countries c JOIN j_regions r ON c.region = r.id;
EXPLAIN SELECT o.oid FROM j_uorders o JOIN j_users u ON o.user_id = u.id WHERE o.user_id = 5;
EXPLAIN SELECT o.oid FROM j_users u JOIN j_uorders o ON o.user_id = u.id WHERE o.user_id = 5;
EXPLAIN SELECT count(*) FROM j_users u JOIN j_uorders o ON o.user_id = u.id LEFT JOIN j_countries c ON c.code = u.country;
EXPLAIN SELECT * FROM j_ra a JOIN j_rb r ON r.k = a.k WHERE a.k < 100;
DROP TABLE j_orders, j_countries, j_regions, j_rates, j_items, j_plain;
DROP TABLE j_users, j_uorders, j_profiles, j_carts, j_ra, j_rb, j_rc;
