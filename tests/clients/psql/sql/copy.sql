-- \copy both ways: a tab-separated file in, the rows back out as text and
-- as CSV with a header (@T@, @DATA@ and @OUT@ are filled in by psql_test.sh).
CREATE TABLE @T@ (id int PRIMARY KEY, name text, v bigint);
\copy @T@ (id, name, v) from '@DATA@/copy_in.tsv'
SELECT id, name, v FROM @T@ ORDER BY id;
INSERT INTO @T@ (id, name, v) VALUES (4, 'a "quoted", comma', 40);
\copy (SELECT id, name, v FROM @T@ ORDER BY id) to '@OUT@/copy_out.tsv'
\copy (SELECT id, name, v FROM @T@ ORDER BY id) to '@OUT@/copy_out.csv' with (format csv, header)
DROP TABLE @T@;
