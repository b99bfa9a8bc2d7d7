-- Vindexes (hash, consistent_hash, range) and table kinds: DDL, placement,
-- point and range queries, EXPLAIN with pruning, and every bad DDL.

-- consistent_hash: a ring over every shard
CREATE TABLE carts (user_id bigint, item text, PRIMARY KEY (user_id, item))
    PARTITION BY HASH (user_id) WITH (vindex = 'consistent_hash');
INSERT INTO carts VALUES (1, 'apple'), (1, 'pear'), (2, 'fig'), (3, 'kiwi'),
    (42, 'plum'), (1000, 'lime');
SELECT * FROM carts WHERE user_id = 1 ORDER BY item;
SELECT item FROM carts WHERE user_id IN (2, 3, 42) ORDER BY item;
SELECT count(*) FROM carts;
EXPLAIN SELECT * FROM carts WHERE user_id = 42;
EXPLAIN SELECT * FROM carts WHERE user_id IN (1, 2, 3);
EXPLAIN SELECT * FROM carts WHERE item = 'fig';
UPDATE carts SET item = 'grape' WHERE user_id = 2 AND item = 'fig';
DELETE FROM carts WHERE user_id = 3;
SELECT * FROM carts ORDER BY user_id, item;

-- hash, named explicitly, is the default
CREATE TABLE accounts (id bigint PRIMARY KEY) PARTITION BY HASH (id)
    WITH (vindex = 'hash');
EXPLAIN SELECT * FROM accounts WHERE id = 42;

-- range on timestamptz: (-inf, 2026-01-01), [2026-01-01, 2026-07-01), [2026-07-01, +inf)
CREATE TABLE events (at timestamptz, id bigint, body text, PRIMARY KEY (at, id))
    PARTITION BY RANGE (at) WITH (boundaries = '2026-01-01,2026-07-01');
INSERT INTO events VALUES ('2025-12-31 23:59:59', 1, 'old'),
    ('2026-01-01', 2, 'new year'), ('2026-03-01 12:00', 3, 'spring'),
    ('2026-07-01', 4, 'summer'), ('2027-01-01 00:00:00+02', 5, 'future');
SELECT * FROM events ORDER BY at;
SELECT id, body FROM events WHERE at = '2026-01-01';
SELECT id FROM events WHERE at = DATE '2026-07-01';
SELECT id FROM events WHERE at >= '2026-03-01' ORDER BY id;
SELECT id FROM events WHERE at BETWEEN '2026-01-01' AND '2026-06-30' ORDER BY id;
SELECT count(*) FROM events WHERE at > '2026-01-01'::date;
SELECT at::date AS day, at::timestamp AS utc FROM events WHERE id = 3;
EXPLAIN SELECT * FROM events WHERE at >= '2026-03-01';
EXPLAIN SELECT * FROM events WHERE at < DATE '2026-01-01';
EXPLAIN SELECT * FROM events WHERE at BETWEEN '2026-01-01' AND '2026-06-30';
EXPLAIN SELECT * FROM events WHERE at = '2026-03-01 12:00' AND id = 3;
EXPLAIN SELECT * FROM events WHERE at IN ('2025-05-05', '2027-05-05');
EXPLAIN SELECT * FROM events WHERE at > '2026-07-01' AND at < '2026-01-01';
EXPLAIN SELECT * FROM events WHERE id = 3;
EXPLAIN SELECT * FROM events WHERE at < '2026-01-01' OR id = 3;
EXPLAIN INSERT INTO events VALUES ('2026-08-01', 6, 'x'), ('2025-01-01', 7, 'y');
EXPLAIN INSERT INTO carts VALUES (42, 'kiwi');
EXPLAIN DELETE FROM events WHERE at < '2026-01-01';
DELETE FROM events WHERE at < '2026-01-01';
SELECT id FROM events ORDER BY id;

-- range on integers and on text
CREATE TABLE tenants (tenant int PRIMARY KEY, name text)
    PARTITION BY RANGE (tenant) WITH (boundaries = '100, 200');
INSERT INTO tenants VALUES (5, 'a'), (100, 'b'), (150, 'c'), (200, 'd'), (999, 'e');
EXPLAIN SELECT * FROM tenants WHERE tenant < 100;
EXPLAIN SELECT name FROM tenants WHERE tenant > 150;
SELECT name FROM tenants WHERE tenant > 150 ORDER BY name;
SELECT name FROM tenants WHERE tenant = '100';
CREATE TABLE words (w text PRIMARY KEY) PARTITION BY RANGE (w)
    WITH (boundaries = 'g,n,t');
INSERT INTO words VALUES ('apple'), ('grape'), ('melon'), ('nut'), ('zucchini');
EXPLAIN SELECT * FROM words WHERE w >= 'h' AND w < 'o';
SELECT * FROM words WHERE w >= 'h' AND w < 'o' ORDER BY w;

-- range on a date key, compared with other date/time types
CREATE TABLE days (d date PRIMARY KEY, n int) PARTITION BY RANGE (d)
    WITH (boundaries = '2026-01-01');
INSERT INTO days VALUES ('2025-12-31', 1), ('2026-01-01', 2);
SELECT * FROM days WHERE d = '2026-01-01'::timestamptz;
SELECT n FROM days WHERE d < TIMESTAMP '2026-01-01 00:00:01' ORDER BY n;
EXPLAIN SELECT * FROM days WHERE d = '2026-01-01'::timestamptz;

-- errors; the catalog is unchanged after each
CREATE TABLE bad1 (a bigint PRIMARY KEY) PARTITION BY HASH (a) WITH (vindex = 'lookup');
CREATE TABLE bad2 (a bigint PRIMARY KEY) WITH (colour = 'red');
CREATE TABLE bad3 (a bigint PRIMARY KEY) PARTITION BY RANGE (a);
CREATE TABLE bad4 (a bigint PRIMARY KEY) PARTITION BY RANGE (a) WITH (boundaries = '1,2,3,4,5,6');
CREATE TABLE bad5 (a bigint PRIMARY KEY) PARTITION BY RANGE (a) WITH (boundaries = '20,10');
CREATE TABLE bad6 (a bigint PRIMARY KEY) PARTITION BY RANGE (a) WITH (boundaries = '10,10');
CREATE TABLE bad7 (a timestamptz PRIMARY KEY) PARTITION BY RANGE (a) WITH (boundaries = 'tomorrowish');
CREATE TABLE bad8 (a float8 PRIMARY KEY) PARTITION BY RANGE (a) WITH (boundaries = '1.5');
CREATE TABLE bad9 (a bigint PRIMARY KEY) PARTITION BY HASH (a) WITH (vindex = 'range');
CREATE TABLE bad10 (a bigint PRIMARY KEY) PARTITION BY HASH (a) WITH (boundaries = '1');
CREATE TABLE bad11 (a int) WITH (distribution = 'everywhere');
CREATE TABLE bad12 (a int) WITH (fillfactor = 5);
CREATE TABLE bad13 (a int) WITH (vindex = 'hash');
CREATE TABLE countries (code text PRIMARY KEY, name text) PARTITION BY HASH (code) WITH (distribution = 'reference');
SELECT * FROM bad5;
SELECT * FROM countries;
SELECT * FROM events WHERE at = 'noonish';
SELECT * FROM events WHERE at = 5;
DROP TABLE carts, accounts, events, tenants, words, days;
