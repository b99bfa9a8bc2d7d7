-- The order of jsonb values, as PostgreSQL's jsonb_cmp defines it:
-- object > array > boolean > number > string > null; containers by size
-- first, then item by item (object keys in storage order: shorter first).
\set VERBOSITY verbose
CREATE TABLE jo (id int PRIMARY KEY, j jsonb);
INSERT INTO jo VALUES
  (1, 'null'), (2, '"b"'), (3, '"a"'), (4, '1'), (5, '1.50'), (6, '-3'),
  (7, 'true'), (8, 'false'), (9, '[]'), (10, '[1]'), (11, '[1, 2]'),
  (12, '[2]'), (13, '{}'), (14, '{"a": 1}'), (15, '{"b": 0}'),
  (16, '{"aa": 1}'), (17, '{"a": 1, "b": 2}'), (18, '{"a": 2}'),
  (19, '[[1], 2]'), (20, '["a", {"x": 1}]'), (21, '"ab"'), (22, '1.5'),
  (23, NULL), (24, '[null]'), (25, '{"a": [1, 2]}'), (26, '{"a": {"b": 1}}');
SELECT id, j FROM jo ORDER BY j, id;
SELECT id, j FROM jo ORDER BY j DESC, id LIMIT 8;
SELECT id FROM jo WHERE j > '[1]' ORDER BY id;
SELECT id FROM jo WHERE j <= '1.5' ORDER BY id;
SELECT id FROM jo WHERE j = '1.5' ORDER BY id;
SELECT '1'::jsonb < '[]'::jsonb, '1'::jsonb < '[1]'::jsonb, '1'::jsonb < '[1, 2]'::jsonb,
       '"z"'::jsonb < '1'::jsonb, '{}'::jsonb > '[1, 2, 3]'::jsonb,
       '{"b": 1}'::jsonb > '{"aa": 0}'::jsonb;
SELECT GREATEST('1'::jsonb, '"x"'::jsonb, 'null'::jsonb), LEAST('[1]'::jsonb, 'true'::jsonb);
SELECT max(id) FROM jo WHERE j BETWEEN '1' AND 'true';
-- grouping by value: 1.5 and 1.50 are one group
SELECT count(DISTINCT j), count(j) FROM jo;
SELECT j, count(*) FROM jo WHERE id BETWEEN 9 AND 20 GROUP BY j ORDER BY j;
DROP TABLE jo;
