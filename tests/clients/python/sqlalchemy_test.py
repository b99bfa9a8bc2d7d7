#!/usr/bin/python3
"""SQLAlchemy 1.4 (psycopg2 dialect) cases of the client suite
(tests/clients/README.md).

The engine runs with isolation_level AUTOCOMMIT. On its first connection
the dialect asks the server its version, current schema and
standard_conforming_strings; the inspector reads pg_catalog. Run with
/usr/bin/python3 (Debian's python3-sqlalchemy):
    PGHOST=... PGPORT=... /usr/bin/python3 sqlalchemy_test.py [case ...]
"""
import contextlib

import sqlalchemy as sa
import sqlalchemy.orm

from clientcase import (DATABASE, HOST, PORT, USER, case, check, check_eq,
                        cleanup, main, table_name)


def make_engine():
    url = sa.engine.URL.create("postgresql+psycopg2", username=USER, host=HOST,
                               port=PORT, database=DATABASE)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT",
                            connect_args={"connect_timeout": 10}, future=True)


@contextlib.contextmanager
def table(prefix):
    """An engine and a fresh `id int primary key, name text, v bigint`
    table (a sa.Table), dropped on exit."""
    engine = make_engine()
    md = sa.MetaData()
    t = sa.Table(table_name("sqlalchemy_" + prefix), md,
                 sa.Column("id", sa.Integer, primary_key=True,
                           autoincrement=False),
                 sa.Column("name", sa.Text),
                 sa.Column("v", sa.BigInteger))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(
                "CREATE TABLE %s (id int PRIMARY KEY, name text, v bigint)"
                % t.name))
        def drop():
            with engine.connect() as conn:
                conn.execute(sa.text("DROP TABLE %s" % t.name))

        with cleanup(drop):
            yield engine, t
    finally:
        engine.dispose()


@case
def core_insert_select():
    with table("core") as (engine, t):
        with engine.connect() as conn:
            r = conn.execute(t.insert(), [
                {"id": 1, "name": "one", "v": 10},
                {"id": 2, "name": "two", "v": None},
                {"id": 3, "name": "three", "v": 30},
            ])
            check_eq(r.rowcount, 3, "insert rowcount")
            conn.execute(t.insert().values(id=4, name="four", v=2**40))
        # A second connection sees the rows: autocommit, no open transaction.
        with engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.id, t.c.name, t.c.v)
                                .where(t.c.id >= 2).order_by(t.c.id)).all()
            check_eq([tuple(r) for r in rows],
                     [(2, "two", None), (3, "three", 30), (4, "four", 2**40)],
                     "rows")
            n = conn.execute(sa.select(sa.func.count()).select_from(t)
                             .where(t.c.v.is_(None))).scalar_one()
            check_eq(n, 1, "null count")
            conn.execute(t.update().where(t.c.id == 2).values(v=22))
            conn.execute(t.delete().where(t.c.id == 1))
            got = conn.execute(sa.select(t.c.id, t.c.v).order_by(t.c.id)).all()
            check_eq([tuple(r) for r in got],
                     [(2, 22), (3, 30), (4, 2**40)], "after update/delete")
            name = conn.execute(sa.text("SELECT name FROM %s WHERE id = :i"
                                        % t.name), {"i": 3}).scalar_one()
            check_eq(name, "three", "text() with a bound parameter")


@case
def inspect_tables():
    with table("inspect") as (engine, t):
        insp = sa.inspect(engine)
        check(t.name in insp.get_table_names(), "table listed")
        check(insp.has_table(t.name), "has_table")
        check(not insp.has_table(t.name + "_nope"), "has_table on a missing "
              "table")
        cols = insp.get_columns(t.name)
        check_eq([c["name"] for c in cols], ["id", "name", "v"], "columns")
        check_eq([type(c["type"]) for c in cols],
                 [sa.INTEGER, sa.TEXT, sa.BIGINT], "column types")
        check_eq([c["nullable"] for c in cols], [False, True, True],
                 "nullability")
        check_eq(insp.get_pk_constraint(t.name)["constrained_columns"], ["id"],
                 "primary key")



@case
def orm_session_transactions():
    """An ORM Session on an engine with transactions: rollback() discards
    what the session flushed, commit() keeps it."""
    url = sa.engine.URL.create("postgresql+psycopg2", username=USER, host=HOST,
                               port=PORT, database=DATABASE)
    with table("session") as (engine, t):
        txn_engine = sa.create_engine(url, connect_args={"connect_timeout": 10},
                                      future=True)
        try:
            with sa.orm.Session(txn_engine) as session:
                session.execute(t.insert().values(id=1, name="a", v=1))
                session.flush()
                check_eq(session.execute(sa.select(sa.func.count()).select_from(t)).scalar(),
                         1, "own row seen")
                session.rollback()
                session.execute(t.insert().values(id=2, name="b", v=2))
                session.commit()
            with engine.connect() as conn:
                check_eq(conn.execute(sa.select(t.c.id)).scalars().all(), [2],
                         "committed rows only")
        finally:
            txn_engine.dispose()


if __name__ == "__main__":
    main()
