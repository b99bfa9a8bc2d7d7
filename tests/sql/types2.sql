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
