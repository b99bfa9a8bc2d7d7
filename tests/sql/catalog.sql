-- pg_catalog and information_schema as psql, drivers and tools read them
CREATE TABLE cat_users (id bigint PRIMARY KEY, name text NOT NULL, email varchar(64), score real, born date);
CREATE TABLE cat_orders (order_id int, user_id bigint, total float8, placed timestamptz, PRIMARY KEY (user_id, order_id));
\dt cat_*
\d cat_users
\d+ cat_orders
\di cat_*
\df
SELECT c.relname, c.relkind, c.relnatts FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname LIKE 'cat\_%' ORDER BY 1;
SELECT a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'cat_users'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;
SELECT table_name, column_name, ordinal_position, is_nullable, data_type, character_maximum_length
  FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'cat\_%'
 ORDER BY table_name, ordinal_position;
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'cat%' ORDER BY 1;
SELECT tablename, hasindexes FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tablename LIKE 'cat%' ORDER BY 1;
SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'cat%' ORDER BY 1;
SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cat_orders'::regclass;
SELECT tc.constraint_name, kcu.column_name, kcu.ordinal_position
  FROM information_schema.table_constraints tc
  JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
 WHERE tc.table_name = 'cat_orders' AND tc.constraint_type = 'PRIMARY KEY'
 ORDER BY kcu.ordinal_position;
-- subqueries, grouping and set operations over catalog relations
SELECT c.relname, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) AS ncols
  FROM pg_class c WHERE c.relname IN ('cat_users', 'cat_orders') ORDER BY ncols DESC, 1;
SELECT relname FROM pg_class c WHERE EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid) AND relname LIKE 'cat%' ORDER BY 1;
SELECT relname FROM pg_class WHERE oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'cat_orders'::regclass);
SELECT relkind, count(*) > 0 AS some FROM pg_class WHERE relname LIKE 'cat%' GROUP BY relkind ORDER BY relkind;
SELECT relname FROM pg_class WHERE relname = 'cat_users' UNION SELECT relname FROM pg_class WHERE relname = 'cat_orders' ORDER BY 1;
SELECT string_agg(attname, ', ') FROM (SELECT attname FROM pg_attribute WHERE attrelid = 'cat_orders'::regclass AND attnum > 0 ORDER BY attnum) s;
SELECT n.nspname, CASE WHEN n.nspname = 'public' THEN 'user' ELSE 'system' END AS kind FROM pg_namespace n WHERE n.nspname IN ('public', 'pg_catalog') ORDER BY 1;
SELECT typname, typlen FROM pg_type WHERE oid IN (16, 20, 23, 25, 1043, 1184) ORDER BY oid;
SELECT 'cat_users'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'cat_users') AS same;
SELECT c.oid::regclass AS rel FROM pg_class c WHERE c.relname = 'cat_users';
SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public';
SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND nspname OPERATOR(pg_catalog.~) '^(public)$' COLLATE pg_catalog.default;
-- window functions and set-returning functions, as JDBC and SQLAlchemy use them
SELECT a.attname, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS rn
  FROM pg_attribute a WHERE a.attrelid = 'cat_orders'::regclass AND a.attnum > 0 ORDER BY rn DESC;
SELECT relname, rank() OVER (ORDER BY relkind), dense_rank() OVER (ORDER BY relkind)
  FROM pg_class WHERE relname LIKE 'cat%' ORDER BY relkind, relname;
SELECT a.attname FROM pg_attribute a JOIN (SELECT unnest(ix.indkey) attnum, generate_subscripts(ix.indkey, 1) ord
  FROM pg_index ix WHERE ix.indrelid = 'cat_orders'::regclass AND ix.indisprimary) k ON a.attnum = k.attnum
 WHERE a.attrelid = 'cat_orders'::regclass ORDER BY k.ord;
SELECT (information_schema._pg_expandarray(i.indkey)).n AS key_seq, (information_schema._pg_expandarray(i.indkey)).x AS attnum
  FROM pg_index i WHERE i.indrelid = 'cat_orders'::regclass;
SELECT json_build_object('a', 1, 'b', 'x"y', 'c', NULL, 'd', true);
SELECT ARRAY(SELECT relname FROM pg_class WHERE relname LIKE 'cat%' ORDER BY 1);
SELECT array_to_string(ARRAY['a', 'b', NULL], '-'), array_to_string(ARRAY['a', NULL], ',', '*');
SELECT 'a' = ANY ('{a,b}'), 3 = ANY ('{1,2}'::int[]), 1 = ALL ('{1,1}'::int[]);
SELECT array_position(ARRAY['a', 'b', 'c'], 'b'), array_position(ARRAY['a'], 'z');
SELECT * FROM generate_series(1, 3) g;
SELECT g, g * 2 AS twice FROM generate_series(10, 1, -4) AS g;
-- conditions of WHERE move into the FROM items they read, never below the
-- nullable side of an outer join
SELECT c.relname FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid
 WHERE c.relname LIKE 'cat%' AND i.indexrelid IS NULL ORDER BY 1;
SELECT c.relname, i.indisprimary FROM pg_index i RIGHT JOIN pg_class c ON i.indrelid = c.oid
 WHERE c.relname LIKE 'cat%' AND (i.indisprimary OR i.indisprimary IS NULL) ORDER BY 1;
SELECT count(*) FROM pg_attribute a, pg_attribute b, pg_class c
 WHERE a.attrelid = 'cat_users'::regclass AND b.attrelid = 'cat_orders'::regclass AND c.relname = 'cat_users' AND a.attnum > 0 AND b.attnum > 0;
SELECT 1 FROM pg_class WHERE relname = 'nope';
SELECT * FROM pg_catalog.pg_nope;
SELECT nope FROM pg_class;
SELECT (SELECT relname FROM pg_class WHERE relname LIKE 'cat%');
-- CASE, COALESCE, NULLIF, GREATEST, IS DISTINCT FROM on user tables
INSERT INTO cat_users VALUES (1, 'ada', NULL, 1.5, '1815-12-10'), (2, 'grace', 'g@x', NULL, NULL), (3, 'edsger', 'e@x', 9, NULL);
SELECT id, CASE WHEN score IS NULL THEN 'none' WHEN score > 2 THEN 'high' ELSE 'low' END AS band FROM cat_users ORDER BY id;
SELECT id, CASE id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END FROM cat_users ORDER BY id;
SELECT id, COALESCE(email, 'n/a') AS email, NULLIF(name, 'grace') AS name, GREATEST(id, 2), LEAST(id, 2) FROM cat_users ORDER BY id;
SELECT id FROM cat_users WHERE email IS DISTINCT FROM NULL ORDER BY id;
SELECT id FROM cat_users WHERE email IS NOT DISTINCT FROM 'g@x';
SELECT id FROM cat_users WHERE (score > 1) IS NOT TRUE ORDER BY id;
SELECT id FROM cat_users WHERE name ILIKE 'ED%' OR name ~ '^a' ORDER BY id;
SELECT CASE WHEN true THEN 1 ELSE 'x' END;
SELECT COALESCE(1, 2.5);
DROP TABLE cat_users, cat_orders;
-- defaults, serial and identity columns as \d and information_schema show them
CREATE TABLE cat_def (id serial PRIMARY KEY, name text DEFAULT 'x', code varchar(8) DEFAULT 'abc', v int DEFAULT 3, at timestamptz DEFAULT now(), g bigint GENERATED ALWAYS AS IDENTITY, h int GENERATED BY DEFAULT AS IDENTITY);
\d cat_def
SELECT column_name, column_default, is_identity FROM information_schema.columns WHERE table_name = 'cat_def' ORDER BY ordinal_position;
SELECT a.attname, a.atthasdef, a.attidentity, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'cat_def'::regclass AND a.attnum > 0 ORDER BY a.attnum;
DROP TABLE cat_def;
-- sequences in pg_class, pg_sequence and pg_depend
CREATE TABLE cat_sq (id serial PRIMARY KEY, v int);
CREATE SEQUENCE cat_s2 INCREMENT 5 START 100;
\ds cat_*
\d cat_s2
\d cat_sq_id_seq
SELECT c.relname, c.relkind FROM pg_class c WHERE c.relname LIKE 'cat_s%' ORDER BY 1;
SELECT seqstart, seqincrement, seqmin, seqmax, seqcache, seqcycle FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relname = 'cat_s2';
DROP TABLE cat_sq;
DROP SEQUENCE cat_s2;
-- defaults of other types as pg_get_expr() shows them
CREATE TABLE cat_bd (id int PRIMARY KEY, b bytea DEFAULT '\x01', t text DEFAULT 'it''s', n numeric(5,2) DEFAULT 1.5, u uuid);
\d cat_bd
DROP TABLE cat_bd;
