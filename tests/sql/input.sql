-- Input PostgreSQL rejects is rejected: invalid UTF-8 anywhere in the
-- query text (22021), float literals beyond double precision (22003).
\set VERBOSITY verbose
SELECT 'aÃ(b' AS s;
SELECT 1 AS "xâ‚";
SELECT 'ÿ';
SELECT 'í €' AS surrogate;
SELECT 1; -- comment À¯
SELECT 'ðŸ˜
';
SELECT 'cafÃ© â‚¬ ðŸ˜€' AS ok;
SELECT '1e400'::float8;
SELECT '-1e400'::float8;
SELECT '1e-400'::float8;
SELECT 1e400::float8;
SELECT (-1.5e400)::float8;
SELECT 12.50e-3::float8 AS ok;
CREATE TABLE fl (id bigint PRIMARY KEY, x double precision);
INSERT INTO fl VALUES (1, 1e400);
INSERT INTO fl VALUES (2, '1e400');
INSERT INTO fl VALUES (3, 1e308);
SELECT * FROM fl;
DROP TABLE fl;
SET max_connections = 5;
-- The limits the router enforces (its options; 1000 and 3 by default).
SHOW max_connections;
SHOW superuser_reserved_connections;
