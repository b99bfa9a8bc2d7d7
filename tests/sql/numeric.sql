-- numeric: exact decimals. Input and output, typmods (rounding and
-- overflow), arithmetic scales, comparisons, casts, numeric shard and
-- primary keys (1.5 and 1.50 are the same key), and exact aggregates.
-- (The expected output comes from PostgreSQL 15, where each PARTITION BY
-- table got one partition holding every row.)
SELECT 1.5 AS a, 1e3 AS b, 1.5e-3 AS c, -0.00 AS d, 123456789012345678901234567890 AS big;
SELECT ' -12.340e2 '::numeric AS a, 'NaN'::numeric AS b, '+.5'::numeric AS c, '5.'::numeric AS d;
SELECT 0.1 + 0.2 = 0.3 AS exact, 0.1::float8 + 0.2::float8 = 0.3::float8 AS float8, 10000000000000000000 + 1 AS past_bigint;
SELECT 'abc'::numeric;
SELECT '1.2.3'::numeric;
SELECT 123.456::numeric(5,2) AS r1, 0.005::numeric(3,2) AS r2, (-0.005)::numeric(3,2) AS r3, 125::numeric(3,-1) AS r4;
SELECT 999.995::numeric(5,2);
SELECT 1::numeric(2,2);
SELECT 1.5 + 2.25 AS add, 1 - 0.001 AS sub, 1.23 * 4.567 AS mul, 7.5 % 2 AS mod, -7.5 % 2 AS modneg;
SELECT 1 / 3.0 AS d1, 10::numeric / 4 AS d2, 100 / 7.0 AS d3, 2.5 / 2.5 AS d4, 0.001 / 7 AS d5, 123456789 / 0.0001 AS d6;
SELECT 1.0 / 0;
SELECT 5.5 % 0;
SELECT -(1.50) AS neg, 2 * 1.5 AS int_times_num, 1.5 + 1::float8 AS num_plus_float, 'NaN'::numeric + 1 AS nan;
SELECT 2.5::int AS i1, (-2.5)::int AS i2, 2.4999::int2 AS i3, 1e18::bigint AS i4, 1.25::float8 AS f8, 1.25::real AS f4;
SELECT 32767.5::int2;
SELECT 'NaN'::numeric::int;
SELECT 9223372036854775807.5::bigint;
SELECT 42::numeric(5,2) AS from_int, 0.1::float8::numeric AS from_float, 1e20::float8::numeric AS big_float, 1.5::text AS to_text, '7.125'::numeric(4,2) AS from_text;
SELECT 'inf'::numeric AS a, '-Infinity'::numeric + 1 AS b, 'inf'::numeric - 'inf'::numeric AS c, 1 / 'inf'::numeric AS d, 'inf'::numeric * -2 AS e, 'inf'::numeric::float8 AS f, '-inf'::float8::numeric AS g;
SELECT 'inf'::numeric / 0;
SELECT 'Infinity'::numeric::int;
SELECT 'Infinity'::numeric(5,2);
SELECT 1.0 = 1.00 AS eq, 'NaN'::numeric > 1e100 AS nan_big, 'NaN'::numeric = 'NaN'::numeric AS nan_eq, 2 = 2.0 AS int_eq, 0.1 < 0.10000001 AS lt;
-- a table with numeric(10,2): values round to two places on the way in
CREATE TABLE prices (id int PRIMARY KEY, item text, price numeric(10,2), qty numeric) PARTITION BY HASH (id);
INSERT INTO prices VALUES (1, 'apple', 1.5, 3), (2, 'pear', 2.345, 1.5), (3, 'fig', 10, 0.25);
INSERT INTO prices VALUES (4, 'plum', '0.125', 2), (5, 'kiwi', NULL, 1), (6, 'lime', -3.999, 4);
INSERT INTO prices VALUES (7, 'melon', 123456789.999, 1);
INSERT INTO prices VALUES (8, 'quince', '123456789.5', 1);
INSERT INTO prices VALUES (9, 'date', true, 1);
SELECT true::numeric(5,2);
SELECT id, item, price, qty FROM prices ORDER BY id;
SELECT item, price * qty AS total FROM prices WHERE price IS NOT NULL ORDER BY total;
SELECT item FROM prices WHERE price > 2 ORDER BY item;
SELECT item FROM prices WHERE price = 1.50;
SELECT item FROM prices WHERE price BETWEEN 0 AND 2.35 ORDER BY price DESC;
SELECT item FROM prices WHERE qty IN (1.50, 4) ORDER BY item;
SELECT item, price FROM prices ORDER BY price DESC NULLS LAST, item;
UPDATE prices SET price = price * 1.1 WHERE id <= 2;
UPDATE prices SET price = price * 100000000 WHERE id = 3;
SELECT id, price FROM prices WHERE id <= 3 ORDER BY id;
SELECT sum(price) AS s, avg(price) AS a, min(price) AS mn, max(price) AS mx, count(price) AS n FROM prices;
SELECT sum(qty), avg(qty), sum(id), avg(id) FROM prices;
SELECT price > 0 AS positive, sum(qty) AS q, avg(qty) AS a, count(*) FROM prices WHERE price IS NOT NULL GROUP BY price > 0 ORDER BY positive;
-- avg of integers is numeric
CREATE TABLE ints (id int PRIMARY KEY, g int, v int, b bigint) PARTITION BY HASH (id);
INSERT INTO ints VALUES (1, 1, 1, 9223372036854775807), (2, 1, 2, 9223372036854775807), (3, 2, 7, 1), (4, 2, 8, 2), (5, 2, 10, 4);
SELECT avg(v) AS avg_v, avg(b) AS avg_b, sum(b) AS sum_b FROM ints;
SELECT g, avg(v), sum(v), min(v) FROM ints GROUP BY g ORDER BY g;
SELECT avg(v) FROM ints WHERE id = 1;
SELECT avg(v), sum(v::numeric) FROM ints WHERE id > 100;
-- numeric shard key and primary key: equal values are the same key
CREATE TABLE accounts (k numeric PRIMARY KEY, owner text) PARTITION BY HASH (k);
INSERT INTO accounts VALUES (1.5, 'ann'), (2, 'bob'), (-0.25, 'cy'), (1e3, 'dee'), (0.001, 'eve'), ('NaN', 'nan'), ('Infinity', 'inf'), ('-inf', 'ninf');
SELECT k, owner FROM accounts ORDER BY k;
SELECT owner FROM accounts WHERE k = 1.50;
SELECT owner FROM accounts WHERE k = 1.5000;
SELECT owner FROM accounts WHERE k = 2;
SELECT owner FROM accounts WHERE k = 2.00;
SELECT owner FROM accounts WHERE k = '1000.0';
SELECT owner FROM accounts WHERE k = 'NaN';
SELECT owner FROM accounts WHERE k = 'inf';
SELECT owner FROM accounts WHERE k > 1e300 ORDER BY k;
SELECT owner FROM accounts WHERE k IN (1.5, 2.0, 3) ORDER BY owner;
SELECT owner FROM accounts WHERE k < 1 ORDER BY k;
PREPARE acct(numeric) AS SELECT owner FROM accounts WHERE k = $1;
EXECUTE acct(1.50);
EXECUTE acct('2.0');
DEALLOCATE acct;
UPDATE accounts SET owner = 'ann2' WHERE k = 1.50;
DELETE FROM accounts WHERE k = 0.0010;
INSERT INTO accounts SELECT k * 10, owner || '10' FROM accounts WHERE k > 0 AND k < 1e300;
SELECT k, owner FROM accounts ORDER BY k DESC;
CREATE TABLE amounts (k numeric(6,2) PRIMARY KEY, v int) PARTITION BY HASH (k);
INSERT INTO amounts VALUES (1.5, 1), (2.254, 2), (2.255, 3);
INSERT INTO amounts SELECT k + 0.005, 1 FROM accounts WHERE k BETWEEN 1 AND 100;
SELECT k, v FROM amounts ORDER BY k;
SELECT v FROM amounts WHERE k = 1.5;
SELECT v FROM amounts WHERE k = 2.25;
SELECT v FROM amounts WHERE k = 2.26;
SELECT k, sum(v) FROM amounts GROUP BY k ORDER BY k;
INSERT INTO amounts VALUES (10000, 4);
DROP TABLE prices, ints, accounts, amounts;
-- catalog: format_type and information_schema know numeric(p,s)
CREATE TABLE ntypes (id int PRIMARY KEY, a numeric(10,2), b numeric, c decimal(5), d numeric(3,-1));
\d ntypes
SELECT column_name, data_type, numeric_precision, numeric_precision_radix, numeric_scale FROM information_schema.columns WHERE table_name = 'ntypes' ORDER BY ordinal_position;
SELECT CASE WHEN id > 0 THEN 1 ELSE 2.5 END AS c, COALESCE(b, 1.50) AS co, GREATEST(1, 2.5, 2) AS g FROM ntypes;
SELECT sum(x::numeric / 2), avg(x::numeric), avg(x), sum(x::bigint) FROM generate_series(1, 4) x;
INSERT INTO ntypes VALUES (1, -12.345, -0.5, -7, -125);
SELECT abs(-1.50) AS a, abs(2.5) AS b, abs('-Infinity'::numeric) AS c, abs(a) AS d, abs(d) AS e, a, b, c, d FROM ntypes;
DROP TABLE ntypes;
