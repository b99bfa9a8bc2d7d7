-- Functions the router answers once per statement: version(), the
-- session's identity, the clock, pg_backend_pid(); unknown functions.
SELECT version() LIKE 'PostgreSQL 15.%' AS pg15;
SELECT current_database(), current_catalog, current_schema, current_schema();
SELECT current_user, session_user, user, current_role;
SELECT current_user || '@' || current_database() AS who;
SELECT pg_catalog.current_database(), pg_catalog.version() LIKE 'PostgreSQL %';
-- now() is the start of the statement's (implicit) transaction.
SELECT now() = CURRENT_TIMESTAMP, now() = transaction_timestamp(),
       now() = statement_timestamp(), clock_timestamp() >= now();
SELECT now() > '2020-01-01', now() < '2200-01-01';
SELECT LOCALTIMESTAMP = now()::timestamp, CURRENT_DATE = now()::date;
SELECT CURRENT_TIMESTAMP(0)::text LIKE '____-__-__ __:__:__+00' AS rounded;
SELECT LOCALTIMESTAMP(0)::text LIKE '____-__-__ __:__:__' AS rounded;
SELECT now() = CURRENT_TIMESTAMP; SELECT now() = CURRENT_TIMESTAMP;
SELECT pg_backend_pid() > 0 AS has_pid;
CREATE TABLE fx (id bigint PRIMARY KEY, who text, at timestamptz, d date);
-- Column names as PostgreSQL figures them.
SELECT now(), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(3), LOCALTIMESTAMP,
       CURRENT_DATE, clock_timestamp(), statement_timestamp(),
       transaction_timestamp(), version(), pg_backend_pid()
  FROM fx WHERE false;
-- In INSERT VALUES, UPDATE SET and WHERE.
INSERT INTO fx VALUES (1, current_user, now(), CURRENT_DATE),
                      (2, 'other', CURRENT_TIMESTAMP, '2021-06-01');
SELECT id, who, at <= now(), at > '2020-01-01', d <= CURRENT_DATE
  FROM fx ORDER BY id;
UPDATE fx SET who = session_user || '!', at = now() WHERE id = 2;
SELECT id, who FROM fx WHERE who = current_user ORDER BY id;
SELECT id, who FROM fx WHERE who = current_user || '!' ORDER BY id;
SELECT count(*) FROM fx WHERE at <= now() AND d <= CURRENT_DATE;
DELETE FROM fx WHERE at <= CURRENT_TIMESTAMP AND who <> current_user;
SELECT id, who FROM fx ORDER BY id;
-- Unknown functions, and known ones called with arguments they do not take.
SELECT nosuch();
SELECT nosuch(1, 'a', true);
SELECT now(1);
SELECT version('x');
SELECT pg_catalog.nosuch();
SELECT id FROM fx WHERE nosuch(id);
DROP TABLE fx;
SELECT pg_typeof(1), pg_typeof(1.5::float8), pg_typeof('x'), pg_typeof('x'::text), pg_typeof(now()), pg_typeof(NULL::date);
