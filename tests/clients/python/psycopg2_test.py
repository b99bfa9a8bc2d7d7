#!/usr/bin/python3
"""psycopg2 cases of the client suite (tests/clients/README.md).

psycopg2 interpolates parameters on the client and sends every statement
as a simple Query; the connection is in autocommit mode (no BEGIN). Run
with /usr/bin/python3 (Debian's python3-psycopg2):
    PGHOST=... PGPORT=... /usr/bin/python3 psycopg2_test.py [case ...]
"""
import contextlib
import io

import psycopg2
import psycopg2.errors

from clientcase import (DATABASE, HOST, PORT, USER, case, check_eq, cleanup,
                        main, table_name)


@contextlib.contextmanager
def table(prefix):
    """A cursor on a fresh autocommit connection and a fresh
    `id int primary key, name text, v bigint` table, dropped on exit."""
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname=DATABASE,
                            connect_timeout=10)
    conn.autocommit = True
    t = table_name("psycopg2_" + prefix)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE %s (id int PRIMARY KEY, name text, v bigint)"
                    % t)
        with cleanup(lambda: conn.cursor().execute("DROP TABLE %s" % t)):
            yield conn, cur, t
    finally:
        conn.close()


@case
def params():
    with table("params") as (conn, cur, t):
        sql = "INSERT INTO " + t + " (id, name, v) VALUES (%s, %s, %s)"
        cur.execute(sql, (1, "one", 10))
        check_eq(cur.rowcount, 1, "rowcount")
        cur.execute(sql, (2, "it's \"two\"; --", None))
        cur.execute(sql, (3, None, 2**62))
        cur.execute("SELECT id, name, v FROM " + t +
                    " WHERE id BETWEEN %s AND %s ORDER BY id", (1, 3))
        check_eq([d.name for d in cur.description], ["id", "name", "v"],
                 "columns")
        check_eq(cur.fetchall(), [(1, "one", 10), (2, "it's \"two\"; --", None),
                                  (3, None, 2**62)], "rows")
        cur.execute("SELECT id FROM " + t + " WHERE name = %(n)s",
                    {"n": "it's \"two\"; --"})
        check_eq(cur.fetchone(), (2,), "named parameter")
        cur.execute("UPDATE " + t + " SET v = v + %s WHERE id = %s", (5, 1))
        check_eq(cur.rowcount, 1, "update rowcount")
        cur.execute("SELECT v FROM " + t + " WHERE id = %s", (1,))
        check_eq(cur.fetchone(), (15,), "updated value")


@case
def executemany():
    with table("executemany") as (conn, cur, t):
        cur.executemany("INSERT INTO " + t + " (id, name, v) VALUES "
                        "(%s, %s, %s)",
                        [(i, "m%d" % i, None if i % 2 else i)
                         for i in range(20)])
        cur.execute("SELECT count(*), sum(v), count(v) FROM " + t)
        check_eq(cur.fetchone(), (20, 90, 10), "aggregates")


@case
def error_recovery():
    with table("error_recovery") as (conn, cur, t):
        cur.execute("INSERT INTO " + t + " (id, name) VALUES (1, 'a')")
        try:
            cur.execute("INSERT INTO " + t + " (id, name) VALUES (1, 'b')")
            raise AssertionError("duplicate key accepted")
        except psycopg2.errors.UniqueViolation as e:
            check_eq(e.pgcode, "23505", "sqlstate")
        try:
            cur.execute("SELEC 1")
            raise AssertionError("syntax error accepted")
        except psycopg2.errors.SyntaxError as e:
            check_eq(e.pgcode, "42601", "sqlstate")
        cur.execute("SELECT id, name FROM " + t)
        check_eq(cur.fetchall(), [(1, "a")], "rows after errors")


@case
def copy_from():
    with table("copy_from") as (conn, cur, t):
        data = "1\tone\t10\n2\t\\N\t20\n3\tthree\t\\N\n"
        cur.copy_expert("COPY %s (id, name, v) FROM STDIN" % t,
                        io.StringIO(data))
        check_eq(cur.rowcount, 3, "rowcount")
        cur.execute("SELECT id, name, v FROM %s ORDER BY id" % t)
        check_eq(cur.fetchall(), [(1, "one", 10), (2, None, 20),
                                  (3, "three", None)], "rows")


@case
def copy_to():
    with table("copy_to") as (conn, cur, t):
        cur.execute("INSERT INTO %s (id, name, v) VALUES (1, 'one', 10), "
                    "(2, NULL, 20), (3, 'tab\there', NULL)" % t)
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT id, name, v FROM %s ORDER BY id) "
                        "TO STDOUT" % t, out)
        check_eq(out.getvalue(),
                 "1\tone\t10\n2\t\\N\t20\n3\ttab\\there\t\\N\n", "text")
        out = io.StringIO()
        cur.copy_expert("COPY %s TO STDOUT WITH (FORMAT csv, HEADER)" % t, out)
        lines = out.getvalue().splitlines()
        check_eq(lines[0], "id,name,v", "csv header")
        check_eq(sorted(lines[1:]), ["1,one,10", "2,,20", "3,tab\there,"],
                 "csv rows")



@case
def transactions():
    """psycopg2's default (autocommit off): statements run in a
    transaction another connection does not see; rollback() undoes it,
    commit() keeps it."""
    with table("txn") as (conn, cur, t):
        c2 = psycopg2.connect(host=HOST, port=PORT, user=USER,
                              dbname=DATABASE, connect_timeout=10)
        try:
            cur2 = c2.cursor()
            cur2.execute("INSERT INTO " + t + " VALUES (1, 'a', 1), (2, 'b', 2)")
            cur2.execute("SELECT count(*) FROM " + t)
            check_eq(cur2.fetchone(), (2,), "own rows seen")
            cur.execute("SELECT count(*) FROM " + t)
            check_eq(cur.fetchone(), (0,), "uncommitted rows not seen")
            c2.rollback()
            cur.execute("SELECT count(*) FROM " + t)
            check_eq(cur.fetchone(), (0,), "rolled back")
            cur2.execute("INSERT INTO " + t + " VALUES (3, 'c', 3)")
            cur2.execute("UPDATE " + t + " SET v = 30 WHERE id = 3")
            c2.commit()
            cur.execute("SELECT id, v FROM " + t)
            check_eq(cur.fetchall(), [(3, 30)], "committed")
        finally:
            c2.close()


if __name__ == "__main__":
    main()
