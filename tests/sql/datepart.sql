-- EXTRACT, date_part and date_trunc over date, timestamp, timestamptz and
-- interval, as PostgreSQL 15 answers them (the session time zone is UTC).
\set VERBOSITY verbose
SELECT EXTRACT(year FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(month FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(day FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(hour FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(minute FROM timestamp '2024-02-29 13:45:56.789012');
SELECT EXTRACT(second FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(milliseconds FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(microseconds FROM timestamp '2024-02-29 13:45:56.789012'),
       EXTRACT(epoch FROM timestamp '2024-02-29 13:45:56.789012');
SELECT EXTRACT(quarter FROM date '2024-08-15'), EXTRACT(week FROM date '2024-12-30'),
       EXTRACT(week FROM date '2021-01-03'), EXTRACT(isoyear FROM date '2021-01-03'),
       EXTRACT(dow FROM date '2024-09-01'), EXTRACT(isodow FROM date '2024-09-01'),
       EXTRACT(doy FROM date '2024-12-31'), EXTRACT(julian FROM date '2024-01-01');
SELECT EXTRACT(decade FROM date '2024-01-01'), EXTRACT(century FROM date '2000-12-31'),
       EXTRACT(century FROM date '2001-01-01'), EXTRACT(millennium FROM date '2001-01-01'),
       EXTRACT(epoch FROM date '2024-01-01'), EXTRACT(year FROM date '0001-03-15');
SELECT EXTRACT(epoch FROM timestamptz '2024-01-01 00:00:01.5+00'),
       EXTRACT(timezone FROM timestamptz '2024-01-01 00:00:00+00'),
       EXTRACT(hour FROM timestamptz '2024-01-01 10:00:00+02');
SELECT EXTRACT(hour FROM interval '3 days 04:05:06.5'),
       EXTRACT(second FROM interval '3 days 04:05:06.5'),
       EXTRACT(day FROM interval '3 days 04:05:06.5'),
       EXTRACT(month FROM interval '1 year 5 months'),
       EXTRACT(year FROM interval '1 year 5 months'),
       EXTRACT(quarter FROM interval '1 year 5 months'),
       EXTRACT(epoch FROM interval '1 year 5 months 3 days 04:05:06');
SELECT EXTRACT(epoch FROM interval '-1 day -02:00:00'),
       EXTRACT(minute FROM interval '-02:30:00'),
       EXTRACT(century FROM interval '250 years');
SELECT date_part('year', timestamp '2024-02-29 13:45:56.789012'),
       date_part('second', timestamp '2024-02-29 13:45:56.789012'),
       date_part('epoch', timestamptz '2024-01-01 00:00:01.5+00'),
       date_part('hour', date '2024-01-01'),
       date_part('epoch', interval '1 day 00:00:01'),
       date_part('DOW', date '2024-09-01'),
       date_part('julian', timestamp '2024-01-01 12:00:00');
SELECT EXTRACT(year FROM timestamp 'infinity'), EXTRACT(month FROM timestamp 'infinity'),
       EXTRACT(epoch FROM timestamp '-infinity'), date_part('year', date 'infinity');
SELECT date_trunc('year', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('quarter', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('month', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('week', timestamp '2024-08-15 13:45:56.789012');
SELECT date_trunc('day', timestamptz '2024-08-15 13:45:56.789012+00'),
       date_trunc('hour', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('minute', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('second', timestamp '2024-08-15 13:45:56.789012'),
       date_trunc('milliseconds', timestamp '2024-08-15 13:45:56.789012');
SELECT date_trunc('decade', date '2024-08-15'), date_trunc('century', timestamp '2024-08-15'),
       date_trunc('millennium', timestamp '2024-08-15'), date_trunc('week', date '2021-01-03');
SELECT pg_typeof(date_trunc('day', date '2024-08-15')), pg_typeof(EXTRACT(day FROM now())),
       pg_typeof(date_part('day', now()));
SELECT EXTRACT(julian FROM timestamp '2024-01-01 12:00:00'),
       EXTRACT(julian FROM timestamptz '2020-02-29 06:30:00.5+00'),
       EXTRACT(julian FROM timestamp '1999-12-31 23:59:59.999999');
SELECT date_trunc('hour', interval '3 days 04:05:06.789'),
       date_trunc('year', interval '14 months 3 days'),
       date_trunc('quarter', interval '1 year 5 months 2 days'),
       date_trunc('millisecond', interval '1.2345678 seconds'),
       date_trunc('day', interval '-1 day -02:03:04');
SELECT date_trunc('millennium', interval '2345 years'), date_trunc('minute', interval '-00:01:59'),
       pg_typeof(date_trunc('day', interval '1 day'));
-- errors
SELECT EXTRACT(fortnight FROM timestamp '2024-01-01');
SELECT EXTRACT(hour FROM date '2024-01-01');
SELECT EXTRACT(dow FROM interval '1 day');
SELECT EXTRACT(timezone FROM timestamp '2024-01-01');
SELECT date_trunc('dow', timestamp '2024-01-01');
SELECT date_trunc('week', interval '20 days');
SELECT date_trunc('epoch', interval '1 day');
SELECT date_trunc('fortnight', interval '1 day');
-- over a table's rows, filtered and grouped on the shards
CREATE TABLE ev (id int PRIMARY KEY, at timestamp, d date);
INSERT INTO ev SELECT g, timestamp '2024-01-01' + g * interval '9 days 5 hours', date '2024-01-01' + g * 11 FROM generate_series(1, 60) g;
SELECT EXTRACT(month FROM at) AS m, count(*) FROM ev GROUP BY 1 ORDER BY 1;
SELECT id, date_trunc('month', at) FROM ev WHERE EXTRACT(dow FROM d) = 0 ORDER BY id;
SELECT count(*) FROM ev WHERE date_part('hour', at) >= 12;
DROP TABLE ev;
