-- interval: PostgreSQL's input forms (units and their abbreviations,
-- hh:mm:ss, signed parts, @ ... ago, year-month, ISO 8601) and errors,
-- IntervalStyle postgres output, comparison by span ('1 mon' = '30 days'),
-- ORDER BY, GROUP BY, an interval primary key, typmods, and arithmetic with
-- timestamps, timestamptz and dates.
CREATE TABLE ty_iv (id int PRIMARY KEY, d interval, ts timestamp, tz timestamptz, dt date);
INSERT INTO ty_iv VALUES
    (1, '1 day', '2020-01-31 10:00', '2020-01-31 10:00+00', '2020-01-31'),
    (2, '1 mon', '2020-02-29', '2020-02-29 00:00+00', '2020-02-29'),
    (3, '30 days', '2021-01-01', '2021-01-01 00:00+00', '2021-01-01'),
    (4, '-2 hours', '2020-06-15 12:30', '2020-06-15 12:30+00', '2020-06-15'),
    (5, NULL, NULL, NULL, NULL),
    (6, '1 year 2 mons 3 days 04:05:06.789', '2019-12-31 23:59:59', '2019-12-31 23:59:59+00', '2019-12-31'),
    (7, '-1 day +02:00', '2000-03-31 08:00', '2000-03-31 08:00+00', '2000-03-31'),
    (8, '@ 1 hour ago', '1999-12-31 23:30', '1999-12-31 23:30+00', '1999-12-31');
SELECT * FROM ty_iv ORDER BY id;
SELECT id, d FROM ty_iv ORDER BY d, id;
SELECT id, d FROM ty_iv ORDER BY d DESC NULLS LAST, id;
SELECT id FROM ty_iv WHERE d = interval '30 days' ORDER BY id;
SELECT id FROM ty_iv WHERE d = '1 mon' ORDER BY id;
SELECT id FROM ty_iv WHERE d > '1 day' ORDER BY id;
SELECT id FROM ty_iv WHERE d BETWEEN '-1 day' AND '1 day' ORDER BY id;
SELECT id FROM ty_iv WHERE d IN ('720 hours', '-60 minutes') ORDER BY id;
SELECT count(*), count(DISTINCT d) FROM ty_iv;
SELECT min(d), max(d) FROM ty_iv;
SELECT id FROM ty_iv WHERE ts > now() - interval '100 years' ORDER BY id;
SELECT id FROM ty_iv WHERE tz < now() - interval '1 day' AND tz >= '2020-01-01' ORDER BY id;
UPDATE ty_iv SET d = d + interval '1 hour' WHERE id = 1;
SELECT d FROM ty_iv WHERE id = 1;
-- Input forms.
SELECT interval '1 day' AS a, interval '2 hours 30 minutes' AS b, interval '1.5 months' AS c, interval '5' AS d;
SELECT '1:2.5'::interval AS a, '1d2h'::interval AS b, '1 2 hours'::interval AS c, '10:00'::interval AS d;
SELECT '1-2'::interval AS a, '-1-2'::interval AS b, '1 year -2 mons'::interval AS c, '+3 days -04:00'::interval AS d;
SELECT interval '10 ms' AS a, interval '3 us' AS b, interval '1 s' AS c, interval '1 min' AS d, interval '1 h' AS e;
SELECT '1 week 2 decades 1 century'::interval AS a, '-1.5 years'::interval AS b, '2 millennia'::interval AS c;
SELECT '1 microsecond'::interval AS a, '2 milliseconds'::interval AS b, '3 secs'::interval AS c, '4 hrs'::interval AS d;
SELECT '  1   DAY  '::interval AS a, '1 day 2 hours 3 minutes 4 seconds'::interval AS b, '0.5 days'::interval AS c;
SELECT '@ 2 days 3 hours ago'::interval AS a, '1 day ago'::interval AS b, '-00:00:01.5'::interval AS c;
SELECT 'P1Y2M3DT4H5M6S'::interval AS a, 'P0001-02-03T04:05:06'::interval AS b, 'PT1.5S'::interval AS c, 'P2W'::interval AS d;
SELECT 'P1.5Y'::interval AS a, 'PT36H'::interval AS b, 'P-1D'::interval AS c;
SELECT '0'::interval AS a, '00:00:00'::interval AS b, '-0 days'::interval AS c, '100000 hours'::interval AS d;
SELECT '178000000 years'::interval AS a, '-178000000 years'::interval AS b;
SELECT '2147483647 days 2562047788 hours'::interval AS big;
-- Input errors.
SELECT interval 'foo';
SELECT ''::interval;
SELECT '1 day 2 days'::interval;
SELECT '1 qtr'::interval;
SELECT '1hr2min'::interval;
SELECT 'infinity'::interval;
SELECT '10:61'::interval;
SELECT '1-13'::interval;
SELECT '2147483648 days'::interval;
SELECT '2147483647 years'::interval;
SELECT '9223372036854775807 hours'::interval;
SELECT 'P1X'::interval;
INSERT INTO ty_iv (id, d) VALUES (9, 'one day');
-- Arithmetic with dates and timestamps: month steps clamp the day of month.
SELECT id, ts + d AS plus, ts - d AS minus FROM ty_iv ORDER BY id;
SELECT id, tz + d AS plus, tz - d AS minus FROM ty_iv ORDER BY id;
SELECT id, dt + d AS plus, dt - d AS minus, d + dt AS flipped FROM ty_iv ORDER BY id;
SELECT timestamp '2020-01-31' + interval '1 month' AS a, timestamp '2020-03-31' - interval '1 month' AS b, timestamp '2019-01-31' + interval '1 mon' AS c;
SELECT timestamp '2020-02-29' + interval '1 year' AS a, timestamp '2020-01-31' + interval '1 mon 1 day' AS b, date '2020-12-31' + interval '2 months' AS c;
SELECT timestamp '2020-01-01' + interval '-13 months' AS a, timestamp '2020-05-31' + interval '-3 mons' AS b, timestamp '2020-01-01 12:00' + '36 hours' AS c;
SELECT timestamp 'infinity' + interval '1 day' AS a, timestamptz '-infinity' - interval '1 year' AS b;
SELECT timestamp '294276-12-31' + interval '1 day';
SELECT timestamp '2020-01-01' - '1 day';
SELECT date '2020-01-31' + '1 day';
-- Differences of timestamps are intervals in days and time.
SELECT id, ts - timestamp '2020-01-01' AS since FROM ty_iv ORDER BY id;
SELECT timestamptz '2020-03-01 00:00+00' - timestamptz '2020-01-01 12:00+00' AS a, timestamp '2020-01-01' - timestamp '2020-01-02 00:00:01' AS b;
SELECT date '2020-03-01' - timestamp '2020-01-01' AS a, date '2020-03-01' - date '2020-01-01' AS b, date '2020-01-31' + 1 AS c, date '2020-01-31' - 1 AS d;
SELECT timestamp 'infinity' - timestamp '2020-01-01';
-- Interval arithmetic.
SELECT id, d + interval '1 mon' AS a, d - interval '1 day' AS b, -d AS c FROM ty_iv ORDER BY id;
SELECT id, d * 2 AS a, d * 0.5 AS b, d / 3 AS c, 1.5 * d AS e FROM ty_iv ORDER BY id;
SELECT interval '1 mon' / 7 AS a, interval '1 day' * 1.3 AS b, interval '1 year' * 0.1 AS c, interval '1 day' / 1000000 AS d;
SELECT interval '1 day' * '2' AS a, '2' * interval '1 day' AS b, interval '1 day' / '4' AS c, interval '3 days' * 2.5::numeric AS d;
SELECT interval '1 day' / 0;
SELECT interval '2147483647 days' + interval '1 day';
SELECT interval '1 day' * 1e10;
SELECT - interval '-2147483648 days';
SELECT interval '1 day' + 1;
-- Comparison by span: 30-day months and 24-hour days.
SELECT interval '1 mon' = interval '30 days' AS a, interval '1 day' = interval '24 hours' AS b, interval '1 day' < interval '25 hours' AS c, interval '1 year' > interval '360 days' AS d;
SELECT interval '1 mon -1 day' < interval '29 days 1 hour' AS a, interval '-1 day' <> interval '-24 hours' AS b, greatest(interval '1 day', interval '23 hours') AS c;
SELECT interval '1 day' IS DISTINCT FROM interval '24 hours' AS a, interval '1 day' = timestamp '2020-01-01';
-- justify_*, age.
SELECT justify_days(interval '35 days') AS a, justify_days(interval '-35 days') AS b, justify_hours(interval '27 hours') AS c, justify_hours(interval '-27 hours') AS d;
SELECT justify_interval(interval '1 mon -1 hour') AS a, justify_interval(interval '-1 mon 1 hour') AS b, justify_interval(interval '50 days 30 hours') AS c;
SELECT id, justify_interval(d) FROM ty_iv ORDER BY id;
SELECT age(timestamp '2020-03-01', timestamp '2019-01-15 12:00') AS a, age(timestamp '2019-01-15 12:00', timestamp '2020-03-01') AS b, age(date '2020-03-31', date '2020-02-29') AS c;
SELECT id, age(ts, timestamp '2000-01-01') FROM ty_iv ORDER BY id;
-- An interval primary key: '30 days' duplicates '1 mon'.
CREATE TABLE ty_ivk (k interval PRIMARY KEY, v int);
INSERT INTO ty_ivk VALUES ('1 day', 1), ('2 days', 2), ('1 mon', 3), ('-1 hour', 4);
INSERT INTO ty_ivk VALUES ('30 days', 5);
SELECT * FROM ty_ivk ORDER BY k;
SELECT v FROM ty_ivk WHERE k = '24 hours';
SELECT v FROM ty_ivk WHERE k > '1 day' ORDER BY v;
DELETE FROM ty_ivk WHERE k = '720 hours';
SELECT count(*) FROM ty_ivk;
-- Typmods: fields and second precision.
CREATE TABLE ty_ivm (a interval year to month, b interval(2), c interval day to second(0), e interval hour, f interval minute to second);
INSERT INTO ty_ivm VALUES ('1 year 5 months 3 days', '1.23456 s', '3 days 04:05:06.7', '1 day 10:20:30', '5:30');
SELECT * FROM ty_ivm;
SELECT interval(0) '1.7 seconds' AS a, interval '1 year 2 months' year AS b, '3 days 4 hours'::interval day to hour AS c, '1.23456789 s'::interval second(3) AS d;
SELECT '5'::interval year AS a, '5'::interval day AS b, '5'::interval minute AS c;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ty_ivm'::regclass AND attnum > 0 ORDER BY attnum;
-- Casts and the catalog.
SELECT '1 day'::interval::text AS a, '1 day'::text::interval AS b, cast('2 hours' AS interval) AS c;
SELECT pg_typeof(interval '1 day') AS a, pg_typeof(timestamp '2020-01-01' - timestamp '2019-01-01') AS b, pg_typeof(date '2020-01-01' + interval '1 day') AS c, pg_typeof(now() + interval '1 day') AS d;
SELECT interval '1 day'::int;
SELECT typname, typlen, typbyval, typcategory FROM pg_type WHERE oid IN (1186, 1187) ORDER BY oid;
SELECT format_type(1186, -1) AS t;
DROP TABLE ty_iv;
DROP TABLE ty_ivk;
DROP TABLE ty_ivm;
