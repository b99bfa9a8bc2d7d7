-- character(n) (bpchar): blank-padded to n on input and output, too-long
-- values are 22001 unless the excess is spaces, trailing spaces do not
-- count in comparisons, grouping, joins or keys.
CREATE TABLE ty_char (k char(4) PRIMARY KEY, c character(3), b bpchar, one char, n int);
INSERT INTO ty_char VALUES ('a', 'x', 'b  ', 'p', 1), ('bb', 'xy ', 'bb', 'q', 2);
INSERT INTO ty_char VALUES ('ccc   ', 'xyz', 'c', 'r', 3), ('dddd', 'x', NULL, NULL, 4);
INSERT INTO ty_char VALUES ('eeeee', 'x', 'e', 'e', 5);
INSERT INTO ty_char VALUES ('e', 'wxyz', 'e', 'e', 5);
INSERT INTO ty_char VALUES ('e', 'x', 'e', 'ee', 5);
INSERT INTO ty_char VALUES ('a   ', 'dup', 'z', 'z', 9);
SELECT k, c, b, one, n FROM ty_char ORDER BY k;
SELECT '[' || k || ']' AS k, '[' || c || ']' AS c, '[' || b || ']' AS b FROM ty_char ORDER BY n;
SELECT n FROM ty_char WHERE k = 'a' ORDER BY n;
SELECT n FROM ty_char WHERE k = 'a   ' ORDER BY n;
SELECT n FROM ty_char WHERE c = 'x' ORDER BY n;
SELECT n FROM ty_char WHERE c = 'xy' ORDER BY n;
SELECT n FROM ty_char WHERE c > 'xy' ORDER BY n;
SELECT n FROM ty_char WHERE b = 'b' ORDER BY n;
SELECT n FROM ty_char WHERE k IN ('bb', 'ccc') ORDER BY n;
SELECT c, count(*) FROM ty_char GROUP BY c ORDER BY c;
SELECT min(k), max(k), min(c), max(c), count(b) FROM ty_char;
SELECT k FROM ty_char ORDER BY c DESC, k;
-- casts
SELECT 'ab'::char(4) AS c4, 'ab'::character(4)::text || '|' AS t, 'abc  '::char(3) AS c3;
SELECT 'abcd'::char(3), 'abcd'::varchar(2), ('a' || 'bcd')::char(2) AS e;
SELECT 'a'::char AS c1, 'ab '::bpchar || '|' AS b, 'ab'::char(3)::varchar(5) || '|' AS v;
SELECT 12::char(4) AS i, true::char(5) AS t;
SELECT 'a'::char(3) = 'a'::char(5) AS eq, 'a '::char(3) < 'b'::char(1) AS lt, 'a'::char(2) = 'a ' AS lit;
-- a key of another length, values of other types against character(n)
CREATE TABLE ty_char2 (k char(6) PRIMARY KEY, label text, v varchar(6));
INSERT INTO ty_char2 VALUES ('a', 'A', 'a'), ('bb    ', 'B', 'bb '), ('zz', 'Z', NULL);
SELECT label, '[' || k || ']' AS k FROM ty_char2 WHERE k = 'bb' ORDER BY k;
SELECT label FROM ty_char2 WHERE k = v ORDER BY label;
SELECT label FROM ty_char2 WHERE k = label::char(3) OR k = 'zz'::char(2) ORDER BY label;
SELECT k, count(*) FROM ty_char2 GROUP BY k ORDER BY k DESC;
-- updates and deletes by key
UPDATE ty_char SET n = 10 WHERE k = 'bb  ';
DELETE FROM ty_char WHERE k = 'dddd';
SELECT k, n FROM ty_char ORDER BY k;
CREATE TABLE ty_bad (k char(0) PRIMARY KEY);
DROP TABLE ty_char;
DROP TABLE ty_char2;
-- real (float4): shortest round-trip output, real op real is real, real
-- with an integer or double precision is double precision.
SELECT 1.1::real AS a, 3.4028235e38::real AS b, 1234567::real AS c, 123456::real AS d, 0.00001234::real AS e;
SELECT '1e-45'::real AS a, '-0'::real AS b, 'nan'::real AS c, '-inf'::real AS d, 16777217::real AS e;
SELECT '1e39'::real;
SELECT '1e-50'::real;
SELECT ' 2.5 '::real AS a, 2.5::real::int AS b, 3.5::real::int AS c, 1.5::real::float8 AS d;
SELECT 1e300::float8::real;
SELECT 1e-300::float8::real;
SELECT 1.1::real + 1.1::real AS rr, 1.1::real + 1 AS ri, 1.1::real * 1.1::float8 AS rd, -(1.5::real) AS neg;
SELECT 3e38::real * 10::real;
SELECT 1::real / 0::real;
SELECT 1.1::real = 1.1 AS vs_double, 1.1::real = '1.1' AS vs_literal, 1.5::real = 1.5 AS exact, 2::real = 2 AS int;
CREATE TABLE ty_real (k real PRIMARY KEY, r float4, d double precision);
INSERT INTO ty_real VALUES (1.1, 1.1, 1.1), ('-0', 2.2, 2.2), ('NaN', 'Infinity', NULL), (3, NULL, 3);
INSERT INTO ty_real VALUES (0, 1, 1);
INSERT INTO ty_real VALUES (4, '1e39', 1);
SELECT k, r, d, r + d AS rd, r * r AS rr FROM ty_real ORDER BY k;
SELECT k FROM ty_real WHERE k = '1.1';
SELECT k FROM ty_real WHERE k = 3;
SELECT k FROM ty_real WHERE r > 2 ORDER BY k DESC;
SELECT sum(r), avg(r), min(r), max(r), count(r), sum(k) FROM ty_real WHERE k < 4;
SELECT r, count(*) FROM ty_real GROUP BY r ORDER BY r;
UPDATE ty_real SET r = r * 2 WHERE k = 1.1::real;
SELECT k, r FROM ty_real ORDER BY k;
DROP TABLE ty_real;
