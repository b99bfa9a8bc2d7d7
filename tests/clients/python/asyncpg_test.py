#!/usr/bin/python3
"""asyncpg cases of the client suite (tests/clients/README.md).

asyncpg speaks only the extended query protocol (Parse/Bind/Describe/
Execute with binary results) and introspects unknown types through
pg_catalog. Run with /usr/bin/python3 (Debian's python3-asyncpg):
    PGHOST=... PGPORT=... /usr/bin/python3 asyncpg_test.py [case ...]
"""
import asyncpg

from clientcase import (DATABASE, HOST, PORT, USER, case, check, check_eq,
                        main, table_name)


async def connect():
    return await asyncpg.connect(host=HOST, port=PORT, user=USER,
                                 database=DATABASE, timeout=10)


class Table:
    """A fresh `id int primary key, name text, v bigint` table, dropped on
    exit, on its own connection."""

    def __init__(self, prefix):
        self.name = table_name("asyncpg_" + prefix)

    async def __aenter__(self):
        self.conn = await connect()
        await self.conn.execute(
            "CREATE TABLE %s (id int PRIMARY KEY, name text, v bigint)"
            % self.name)
        return self.conn, self.name

    async def __aexit__(self, exc_type, exc, tb):
        try:
            await self.conn.execute("DROP TABLE %s" % self.name)
        except Exception:
            # Do not hide why the case failed.
            if exc_type is None:
                raise
        finally:
            await self.conn.close()


@case
async def fetch():
    async with Table("fetch") as (c, t):
        status = await c.execute(
            "INSERT INTO %s (id, name, v) VALUES (1, 'a', 10), (2, 'b', NULL),"
            " (3, 'c', 30)" % t)
        check_eq(status, "INSERT 0 3", "command tag")
        rows = await c.fetch(
            "SELECT id, name, v FROM %s WHERE id >= $1 ORDER BY id" % t, 2)
        check_eq([tuple(r) for r in rows], [(2, "b", None), (3, "c", 30)],
                 "rows")
        check_eq(list(rows[0].keys()), ["id", "name", "v"], "columns")
        check_eq(rows[1]["v"], 30, "by name")


@case
async def fetchrow():
    async with Table("fetchrow") as (c, t):
        await c.execute("INSERT INTO %s (id, name, v) VALUES ($1, $2, $3)" % t,
                        7, "seven", 2**40)
        r = await c.fetchrow("SELECT id, name, v FROM %s WHERE name = $1" % t,
                             "seven")
        check_eq(dict(r), {"id": 7, "name": "seven", "v": 2**40}, "row")
        none = await c.fetchrow("SELECT id FROM %s WHERE id = $1" % t, 8)
        check(none is None, "no row gives None")


@case
async def fetchval():
    async with Table("fetchval") as (c, t):
        await c.execute("INSERT INTO %s (id, name, v) VALUES (1, 'a', 5), "
                        "(2, 'b', 6)" % t)
        check_eq(await c.fetchval("SELECT count(*) FROM %s" % t), 2, "count")
        check_eq(await c.fetchval("SELECT v FROM %s WHERE id = $1" % t, 2),
                 6, "v")
        check_eq(await c.fetchval("SELECT name FROM %s WHERE id = $1 AND "
                                  "name = $2" % t, 1, "a"), "a", "name")
        check_eq(await c.fetchval("SELECT $1::int + $2::int", 40, 2), 42,
                 "arithmetic on params")


@case
async def prepare():
    async with Table("prepare") as (c, t):
        ins = await c.prepare(
            "INSERT INTO %s (id, name, v) VALUES ($1, $2, $3)" % t)
        for i in range(1, 6):
            await ins.fetch(i, "n%d" % i, i * 100)
        sel = await c.prepare("SELECT name, v FROM %s WHERE id = $1" % t)
        check_eq([a.name for a in sel.get_attributes()], ["name", "v"],
                 "attributes")
        for i in range(1, 6):
            check_eq(tuple(await sel.fetchrow(i)), ("n%d" % i, i * 100),
                     "row %d" % i)
        check_eq(await sel.fetchrow(99), None, "missing row")


@case
async def executemany():
    async with Table("executemany") as (c, t):
        await c.executemany(
            "INSERT INTO %s (id, name, v) VALUES ($1, $2, $3)" % t,
            [(i, "m%d" % i, None if i % 2 else i) for i in range(20)])
        check_eq(await c.fetchval("SELECT count(*) FROM %s" % t), 20, "count")
        check_eq(await c.fetchval("SELECT sum(v) FROM %s" % t), 90, "sum")
        check_eq(await c.fetchval("SELECT count(*) FROM %s WHERE v IS NULL"
                                  % t), 10, "nulls")


@case
async def numeric():
    # numeric goes both ways in numeric_send's binary format as Decimal.
    from decimal import Decimal
    t = table_name("asyncpg_numeric")
    c = await connect()
    try:
        await c.execute("CREATE TABLE %s (k numeric PRIMARY KEY, "
                        "amount numeric(10,2))" % t)
        keys = [Decimal("1.5"), Decimal("-0.05"), Decimal("12345.678901"),
                Decimal("0"), Decimal("1E+20"), Decimal("-10000")]
        await c.executemany("INSERT INTO %s (k, amount) VALUES ($1, $2)" % t,
                            [(k, Decimal(i) + Decimal("0.125"))
                             for i, k in enumerate(keys)])
        rows = await c.fetch("SELECT k, amount FROM %s ORDER BY k" % t)
        check_eq([r["k"] for r in rows], sorted(keys), "keys")
        check_eq(str(rows[0]["amount"]), "5.13", "rounded to scale 2")
        check_eq(await c.fetchval("SELECT amount FROM %s WHERE k = $1" % t,
                                  Decimal("1.50")), Decimal("0.13"),
                 "key 1.50 finds 1.5")
        check_eq(str(await c.fetchval("SELECT avg(amount) FROM %s" % t)),
                 "2.6300000000000000", "avg")
        check_eq(await c.fetchval("SELECT $1::numeric * 2", Decimal("1.25")),
                 Decimal("2.50"), "parameter")
        nan = await c.fetchval("SELECT 'NaN'::numeric")
        check(nan.is_nan(), "NaN")
    finally:
        await c.execute("DROP TABLE IF EXISTS %s" % t)
        await c.close()


@case
async def json():
    # json and jsonb go both ways in the binary format (jsonb with its
    # version byte), as str; jsonb comes back normalised.
    t = table_name("asyncpg_json")
    c = await connect()
    try:
        await c.execute("CREATE TABLE %s (id int PRIMARY KEY, j json, "
                        "b jsonb)" % t)
        await c.executemany("INSERT INTO %s (id, j, b) VALUES ($1, $2, $3)" % t,
                            [(1, '{"b": 1,  "a": [2]}', '{"b": 1,  "a": [2]}'),
                             (2, '[1, 2]', '{"k": "v"}'),
                             (3, None, None)])
        rows = await c.fetch("SELECT id, j, b FROM %s ORDER BY id" % t)
        check_eq([tuple(r) for r in rows],
                 [(1, '{"b": 1,  "a": [2]}', '{"a": [2], "b": 1}'),
                  (2, '[1, 2]', '{"k": "v"}'), (3, None, None)], "rows")
        check_eq(await c.fetchval("SELECT id FROM %s WHERE b @> $1" % t,
                                  '{"k": "v"}'), 2, "@> parameter")
        check_eq(await c.fetchval("SELECT b ->> $1 FROM %s WHERE id = 2" % t,
                                  "k"), "v", "->> parameter")
        check_eq(await c.fetchval("SELECT j -> 1 FROM %s WHERE id = 2" % t),
                 "2", "-> element")
    finally:
        await c.execute("DROP TABLE IF EXISTS %s" % t)
        await c.close()


@case
async def copy_records():
    async with Table("copy_records") as (c, t):
        records = [(i, "r%d" % i if i != 3 else None, i * 7)
                   for i in range(1, 51)]
        status = await c.copy_records_to_table(t, records=records,
                                               columns=["id", "name", "v"])
        check_eq(status, "COPY 50", "command tag")
        rows = await c.fetch("SELECT id, name, v FROM %s ORDER BY id" % t)
        check_eq([tuple(r) for r in rows], records, "rows")


@case
async def introspect_type():
    # An enum has no built-in codec: asyncpg looks it up in pg_catalog.
    enum = table_name("asyncpg_mood")
    t = table_name("asyncpg_introspect")
    c = await connect()
    failure = None
    try:
        await c.execute("CREATE TYPE %s AS ENUM ('sad', 'ok', 'happy')" % enum)
        await c.execute("CREATE TABLE %s (id int PRIMARY KEY, mood %s)"
                        % (t, enum))
        await c.execute("INSERT INTO %s (id, mood) VALUES ($1, $2), ($3, $4)"
                        % t, 1, "happy", 2, "sad")
        rows = await c.fetch("SELECT id, mood FROM %s ORDER BY mood" % t)
        check_eq([tuple(r) for r in rows], [(2, "sad"), (1, "happy")],
                 "enum rows")
        arr = await c.fetchval("SELECT array_agg(mood ORDER BY id) FROM %s"
                               % t)
        check_eq(arr, ["happy", "sad"], "enum array")
    except BaseException as e:
        failure = e
        raise
    finally:
        try:
            await c.execute("DROP TABLE IF EXISTS %s" % t)
            await c.execute("DROP TYPE IF EXISTS %s" % enum)
        except Exception:
            # Do not hide why the case failed.
            if failure is None:
                raise
        finally:
            await c.close()



@case
async def transaction():
    """conn.transaction(): an exception rolls the block back, a normal
    exit commits it."""
    async with Table("txn") as (c, t):
        try:
            async with c.transaction():
                await c.execute("INSERT INTO %s VALUES (1, 'a', 1)" % t)
                check_eq(await c.fetchval("SELECT count(*) FROM %s" % t), 1,
                         "own row seen")
                raise KeyError("roll back")
        except KeyError:
            pass
        check_eq(await c.fetchval("SELECT count(*) FROM %s" % t), 0,
                 "rolled back")
        async with c.transaction(isolation="repeatable_read"):
            await c.execute("INSERT INTO %s VALUES (2, 'b', 2)" % t)
            await c.execute("UPDATE %s SET v = 20 WHERE id = $1" % t, 2)
        check_eq(await c.fetchval("SELECT v FROM %s WHERE id = 2" % t), 20,
                 "committed")


@case
async def cursor():
    """A cursor fetches in parts (Execute with a row limit, PortalSuspended):
    every row once, in order, also for a result larger than the rows a
    router keeps in memory (the rest wait in a temporary file)."""
    async with Table("cursor") as (c, t):
        pad = "x" * 800
        await c.copy_records_to_table(
            t, records=[(i, pad, i) for i in range(1, 12001)],
            columns=["id", "name", "v"])
        n, total, last = 0, 0, 0
        async with c.transaction():
            async for r in c.cursor(
                    "SELECT id, name, v FROM %s WHERE v > $1 ORDER BY id" % t,
                    0, prefetch=700):
                check(r["id"] == last + 1, "in order at %d" % r["id"])
                last = r["id"]
                n += 1
                total += r["v"]
        check_eq(n, 12000, "rows")
        check_eq(total, 12000 * 12001 // 2, "sum")


if __name__ == "__main__":
    main()
