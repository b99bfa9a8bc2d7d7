#!/usr/bin/python3
"""difftest — the same random SQL on Talus and on PostgreSQL 15, compared.

Creates a random schema (3-6 tables) in both databases, with a random
placement per table on Talus (unsharded, hash- or range-sharded, reference),
loads the same random rows into both, then runs random SELECTs over the
features asked for and compares what the two servers answer:

- rows as multisets, or in order where the query has an ORDER BY (rows
  whose sort keys are equal are compared as a multiset within their run);
  every value by its text form as the server sends it (PostgreSQL's is the
  reference);
- errors by SQLSTATE class (the first two characters): a query that fails
  on both with the same class is a match;
- a connection to Talus that is lost is a mismatch ("crash"); the script
  reconnects and goes on.

With --out DIR each mismatch is written to DIR as a self-contained SQL file,
first minimised (clauses, joins and rows dropped while the mismatch stays
the same). Exit status: 0 when every mismatch matches a line of --known
(or there is none), 1 otherwise, 2 when the run could not be set up.

See tests/difftest/README.md.
"""

import argparse
import copy
import decimal
import os
import random
import re
import sys
import time

import psycopg2
import psycopg2.extensions

# Every value is read as the text the server sent: register a pass-through
# caster for each type psycopg2 would otherwise convert.
_TEXT = psycopg2.extensions.new_type(
    tuple(psycopg2.extensions.string_types.keys()), "DIFFTEST_TEXT",
    lambda value, cur: value)
psycopg2.extensions.register_type(_TEXT)

FEATURES = {
    "select": "SELECT of columns and literals from one table",
    "filter": "WHERE: AND/OR/NOT, comparisons, IS [NOT] NULL, IN lists, "
              "BETWEEN, LIKE/ILIKE, IS DISTINCT FROM",
    "expr": "arithmetic, CASE, COALESCE, NULLIF, GREATEST/LEAST, CAST",
    "strfunc": "length, lower, upper, substr, trim, replace, concat, left, "
               "right, strpos, ||",
    "mathfunc": "abs, round, mod, ceil, floor, sign, trunc",
    "datefunc": "date arithmetic, EXTRACT, date_part",
    "order": "ORDER BY (rows compared in order)",
    "limit": "ORDER BY a total order with LIMIT/OFFSET",
    "agg": "count, count(DISTINCT), sum, min, max, avg without GROUP BY",
    "agg2": "bool_and, bool_or, string_agg(x, ',' ORDER BY x)",
    "group": "GROUP BY with HAVING",
    "distinct": "SELECT DISTINCT",
    "join": "inner and cross joins of 2-4 tables, equi and non-equi, on "
            "shard keys and other columns",
    "outer_join": "LEFT, RIGHT and FULL joins",
    "local_join": "inner and LEFT joins of the shapes Talus runs on the "
                  "shards: one table with reference tables, or hash-sharded "
                  "tables on equal shard keys",
    "subquery": "IN, NOT IN, EXISTS, NOT EXISTS, ANY/ALL, scalar "
                "subqueries (uncorrelated)",
    "correlated": "correlated subqueries",
    "derived": "derived tables in FROM",
    "setop": "UNION [ALL], INTERSECT [ALL], EXCEPT [ALL]",
    "cte": "WITH",
    "window": "row_number, rank, dense_rank, sum/count/min/max OVER "
              "(PARTITION BY ... ORDER BY ...)",
    "frame": "window frames (ROWS, RANGE with offsets, GROUPS, EXCLUDE), "
             "named windows, lag, lead, ntile, first_value, last_value, "
             "nth_value, windows over grouped rows",
    "grouping_sets": "GROUP BY ROLLUP, CUBE and GROUPING SETS with "
                     "GROUPING()",
    "distinct_on": "SELECT DISTINCT ON (...) ORDER BY ...",
    "unicode": "non-ASCII text in the rows and literals (case mapping, "
               "LIKE/ILIKE and lengths of multibyte characters)",
    "mixed": "CASE/COALESCE/NULLIF/GREATEST/LEAST over different number "
             "types (the result type PostgreSQL resolves)",
}
# Features that shape the data or the operands, not a query of their own.
MODIFIERS = {"unicode", "mixed"}

INT, BIG, NUM, TEXT, DATE, BOOL = ("integer", "bigint", "numeric", "text",
                                   "date", "boolean")
NUMERIC_OIDS = {20, 21, 23, 700, 701, 1700}


def fam(typ):
    """The comparison family of a type: the numbers together."""
    return "n" if typ in (INT, BIG, NUM) else typ


def wider(a, b):
    order = [INT, BIG, NUM]
    return order[max(order.index(a), order.index(b))]


# --------------------------------------------------------------- the schema

VOCAB = ["", "a", "A", "b", "ab", "abc", "Abc", "ABC", "abd", "b%c", "a_c",
         "foo", "Foo bar", "foo bar", "zeta", " lead", "trail ", "x", "xyz",
         "42", "007", "it's"]
VOCAB_UNICODE = ["émile", "Émile", "straße", "über", "naïve", "ÅSA", "日本"]
PATTERNS = ["a%", "%a", "%b%", "_b%", "A%", "%", "_", "%o%", "f__", "abc",
            "%\\%%", "x_z", "%r "]
PATTERNS_UNICODE = ["%é%", "_b%", "%SS%", "Ü%", "__"]


def quote(s):
    return "'" + s.replace("'", "''") + "'"


class Col:
    def __init__(self, name, typ, nullable, decl, pool, null_p):
        self.name, self.typ, self.nullable = name, typ, nullable
        self.decl = decl          # the type as written in CREATE TABLE
        self.pool = pool          # literal texts the rows draw from
        self.null_p = null_p


class Table:
    def __init__(self, name):
        self.name = name
        self.cols = []
        self.pk = ["id"]
        self.placement = "plain"
        self.talus_suffix = ""
        self.rows = []            # {id: [literal text per column]}

    def ddl(self, talus):
        cols = ", ".join(
            c.name + " " + c.decl + ("" if c.nullable else " NOT NULL")
            for c in self.cols)
        s = "CREATE TABLE %s (%s, PRIMARY KEY (%s))" % (
            self.name, cols, ", ".join(self.pk))
        if talus and self.talus_suffix:
            s += " " + self.talus_suffix
        return s

    def insert(self, rows):
        return "INSERT INTO %s VALUES %s" % (
            self.name, ", ".join("(" + ", ".join(r) + ")" for r in rows))


def make_pool(rng, typ, decl_args, n_rows, vocab):
    if typ == INT:
        pool = rng.sample(range(-5, 2 * n_rows + 5), rng.randint(3, 20))
        if rng.random() < 0.3:
            pool += rng.sample([-1000, -999, 500, 999, 1000, 0], 2)
        return [str(v) for v in pool]
    if typ == BIG:
        # Values past the integer range (a literal of one is a bigint).
        base = rng.choice([0, 3 * 10 ** 9, 10 ** 12, -10 ** 11])
        return [str(base + rng.randint(-50, 50))
                for _ in range(rng.randint(3, 15))]
    if typ == NUM:
        p, s = decl_args
        lim = 10 ** (p - s) - 1
        out = []
        for _ in range(rng.randint(3, 15)):
            whole = rng.randint(-min(lim, 200), min(lim, 200))
            frac = rng.randint(0, 10 ** s - 1) if s else 0
            sign = "-" if whole < 0 or (whole == 0 and rng.random() < 0.2) \
                else ""
            out.append("%s%d" % (sign, abs(whole)) +
                       ((".%0*d" % (s, frac)) if s else ""))
        return out
    if typ == TEXT:
        return [quote(s) for s in rng.sample(vocab, rng.randint(3, 12))]
    if typ == DATE:
        return ["'%04d-%02d-%02d'" % (rng.choice([2019, 2020, 2024, 2026]),
                                      rng.randint(1, 12), rng.randint(1, 28))
                for _ in range(rng.randint(3, 10))] + ["'2024-02-29'"]
    return ["true", "false"]


def make_schema(rng, n_shards, unicode):
    """Random tables with their rows; non-ASCII text if @unicode."""
    vocab = VOCAB + (VOCAB_UNICODE if unicode else [])
    tables = []
    for ti in range(rng.randint(3, 6)):
        t = Table("t%d" % (ti + 1))
        n_rows = rng.randint(10, 120)
        key_t = rng.choice([INT, BIG])
        t.cols.append(Col("id", key_t, False, key_t, [], 0))
        types = [INT] + [rng.choice([INT, BIG, NUM, TEXT, DATE, BOOL])
                         for _ in range(rng.randint(1, 5))]
        for j, typ in enumerate(types):
            args, decl = None, typ
            if typ == NUM:
                p = rng.randint(4, 12)
                args = (p, rng.randint(0, min(4, p - 1)))
                decl = "numeric(%d,%d)" % args
            null_p = rng.choice([0.0, 0.1, 0.3])
            t.cols.append(Col("c%d" % (j + 1), typ, True, decl,
                              make_pool(rng, typ, args, n_rows, vocab),
                              null_p))
        t.placement = rng.choice(["plain", "hash", "range", "reference"])
        if t.placement == "hash" and rng.random() < 0.35:
            # A composite key sharded on another column: the primary key
            # of a sharded table must include its shard key.
            g = Col("g", INT, False, INT,
                    [str(v) for v in range(1, rng.randint(2, 8))], 0)
            t.cols.append(g)
            t.pk = ["id", "g"]
            t.talus_suffix = "PARTITION BY HASH (g)"
        elif t.placement == "hash":
            t.talus_suffix = "PARTITION BY HASH (id)"
        ids = rng.sample(range(1, 2 * n_rows + 1), n_rows)
        if t.placement == "range":
            k = rng.randint(1, min(5, n_shards - 1))
            bounds = sorted(rng.sample(range(2, 2 * n_rows + 1), k))
            t.talus_suffix = "PARTITION BY RANGE (id) WITH (boundaries = " \
                "'%s')" % ",".join(str(b) for b in bounds)
        elif t.placement == "reference":
            t.talus_suffix = "WITH (distribution = 'reference')"
        for i in ids:
            row = []
            for c in t.cols:
                if c.name == "id":
                    row.append(str(i))
                elif c.nullable and rng.random() < c.null_p:
                    row.append("NULL")
                else:
                    row.append(rng.choice(c.pool))
            t.rows.append(row)
        tables.append(t)
    return tables


# ------------------------------------------------------------ query trees
#
# Queries are trees that never change once built: the reducer makes
# smaller copies that share the untouched parts.

class X:
    """An expression: a type and parts (text, or sub-trees)."""
    __slots__ = ("typ", "parts")

    def __init__(self, typ, *parts):
        self.typ = typ
        self.parts = parts

    def render(self):
        return "".join(p if isinstance(p, str) else p.render()
                       for p in self.parts)

    def variants(self):
        kids = [(i, p) for i, p in enumerate(self.parts)
                if not isinstance(p, str)]
        for _, p in kids:
            if isinstance(p, X) and fam(p.typ) == fam(self.typ):
                yield p
        for i, p in kids:
            for v in p.variants():
                parts = list(self.parts)
                parts[i] = v
                yield X(self.typ, *parts)


class From:
    """One FROM item: kind is None for the first, else the join text."""
    __slots__ = ("kind", "src", "alias", "cond")

    def __init__(self, kind, src, alias, cond):
        self.kind, self.src, self.alias, self.cond = kind, src, alias, cond

    def render(self):
        src = self.src if isinstance(self.src, str) else \
            "(" + self.src.render() + ")"
        s = "%s AS %s" % (src, self.alias)
        if self.kind is None:
            return s
        if self.kind == ",":
            return ", " + s
        s = " %s %s" % (self.kind, s)
        return s + (" ON " + self.cond.render() if self.cond else "")


class Sel:
    def __init__(self):
        self.ctes = []         # (name, Sel)
        self.distinct = False
        self.items = []        # (X, alias)
        self.froms = []        # From
        self.where = None
        self.group = []
        self.group_kind = ""   # "", "ROLLUP", "CUBE", "SETS"
        self.having = None
        self.distinct_on = []  # aliases
        self.windows = []      # (name, definition) of the WINDOW clause
        self.order = []        # (alias, "ASC"/"DESC ...")
        self.limit = None
        self.offset = None

    def out_types(self):
        return [x.typ for x, _ in self.items]

    def render(self):
        s = ""
        if self.ctes:
            s = "WITH " + ", ".join("%s AS (%s)" % (n, q.render())
                                    for n, q in self.ctes) + " "
        s += "SELECT " + ("DISTINCT " if self.distinct else "")
        if self.distinct_on:
            s += "DISTINCT ON (%s) " % ", ".join(self.distinct_on)
        s += ", ".join("%s AS %s" % (x.render(), a) for x, a in self.items)
        if self.froms:
            s += " FROM " + "".join(f.render() for f in self.froms)
        if self.where is not None:
            s += " WHERE " + self.where.render()
        if self.group:
            keys = ", ".join(g.render() for g in self.group)
            if self.group_kind == "SETS":
                each = ", ".join("(%s)" % g.render() for g in self.group)
                keys = "GROUPING SETS (%s, (%s), ())" % (each, keys)
            elif self.group_kind:
                keys = "%s (%s)" % (self.group_kind, keys)
            s += " GROUP BY " + keys
        if self.having is not None:
            s += " HAVING " + self.having.render()
        if self.windows:
            s += " WINDOW " + ", ".join("%s AS (%s)" % w for w in self.windows)
        s += render_tail(self)
        return s

    def variants(self):
        def w(**kw):
            c = copy.copy(self)
            for k, v in kw.items():
                setattr(c, k, v)
            return c
        if self.limit is not None:
            yield w(limit=None, offset=None)
        if self.offset is not None:
            yield w(offset=None)
        if self.order and self.limit is None:
            yield w(order=[])
        for i, (n, q) in enumerate(self.ctes):
            yield w(ctes=self.ctes[:i] + self.ctes[i + 1:])
        for i in range(len(self.froms) - 1, 0, -1):
            rest = self.froms[:i] + self.froms[i + 1:]
            yield w(froms=rest)
        if self.where is not None:
            yield w(where=None)
        if self.having is not None:
            yield w(having=None)
        if self.distinct:
            yield w(distinct=False)
        if self.group_kind:
            yield w(group_kind="")
        if self.distinct_on:
            yield w(distinct_on=[])
        if len(self.items) > 1:
            for i, (_, a) in enumerate(self.items):
                yield w(items=self.items[:i] + self.items[i + 1:],
                        order=[o for o in self.order if o[0] != a])
        for i, g in enumerate(self.group):
            yield w(group=self.group[:i] + self.group[i + 1:])
        for i, f in enumerate(self.froms):
            if f.kind not in (None, ",", "JOIN", "CROSS JOIN"):
                fs = list(self.froms)
                fs[i] = From("JOIN", f.src, f.alias, f.cond)
                yield w(froms=fs)
        for attr in ("where", "having"):
            e = getattr(self, attr)
            if e is not None:
                for v in e.variants():
                    yield w(**{attr: v})
        for i, (x, a) in enumerate(self.items):
            for v in x.variants():
                items = list(self.items)
                items[i] = (v, a)
                yield w(items=items)
        for i, f in enumerate(self.froms):
            subs = []
            if f.cond is not None:
                subs += [From(f.kind, f.src, f.alias, v)
                         for v in f.cond.variants()]
            if not isinstance(f.src, str):
                subs += [From(f.kind, v, f.alias, f.cond)
                         for v in f.src.variants()]
            for nf in subs:
                fs = list(self.froms)
                fs[i] = nf
                yield w(froms=fs)
        for i, (n, q) in enumerate(self.ctes):
            for v in q.variants():
                ctes = list(self.ctes)
                ctes[i] = (n, v)
                yield w(ctes=ctes)


class SetOp:
    def __init__(self, left, op, right):
        self.left, self.op, self.right = left, op, right
        self.order = []
        self.limit = None
        self.offset = None

    @property
    def items(self):
        return self.left.items

    def out_types(self):
        return self.left.out_types()

    def render(self):
        return "%s %s %s%s" % (self.left.render(), self.op,
                               self.right.render(), render_tail(self))

    def variants(self):
        yield self.left
        yield self.right
        if self.limit is not None:
            c = copy.copy(self)
            c.limit = c.offset = None
            yield c
        for side in ("left", "right"):
            for v in getattr(self, side).variants():
                c = copy.copy(self)
                setattr(c, side, v)
                yield c


def render_tail(q):
    s = ""
    if q.order:
        s += " ORDER BY " + ", ".join("%s %s" % o for o in q.order)
    if q.limit is not None:
        s += " LIMIT %d" % q.limit
    if q.offset is not None:
        s += " OFFSET %d" % q.offset
    return s


# -------------------------------------------------------------- generator

class ScopeCol:
    __slots__ = ("ref", "typ", "unique")

    def __init__(self, ref, typ, unique=False):
        self.ref, self.typ, self.unique = ref, typ, unique


class Gen:
    """Random queries over @tables, using only the enabled features."""

    def __init__(self, rng, tables, features):
        self.rng = rng
        self.tables = tables
        self.feats = set(features)
        self.used = set()
        self.n_alias = 0
        self.want_sub = False
        self.ref_pool = {}   # "x1.c2" -> the values of that column
        self.vocab, self.patterns = VOCAB, PATTERNS
        if "unicode" in self.feats:
            self.vocab = VOCAB + VOCAB_UNICODE
            self.patterns = PATTERNS + PATTERNS_UNICODE
        # Literals are often values the rows hold, so filters keep some.
        self.pools = {"n": [], TEXT: [], DATE: []}
        for t in tables:
            for c in t.cols:
                if fam(c.typ) in self.pools:
                    self.pools[fam(c.typ)] += [(c.typ, v) for v in c.pool]

    def on(self, feature, p=1.0):
        """Whether to use @feature here (enabled, and a coin of @p)."""
        if feature in self.feats and self.rng.random() < p:
            self.used.add(feature)
            return True
        return False

    def alias(self, prefix):
        self.n_alias += 1
        return "%s%d" % (prefix, self.n_alias)

    # ---- literals and columns

    def lit(self, f):
        r = self.rng
        if self.pools.get(f) and r.random() < 0.6:
            typ, v = r.choice(self.pools[f])
            if typ == DATE:
                v = "DATE " + v
            elif v.startswith("-"):
                v = "(" + v + ")"
            return X(typ, v)
        if f == "n":
            k = r.random()
            if k < 0.6:
                return X(INT, str(r.randint(-3, 60)))
            if k < 0.8:
                return X(NUM, "%d.%d" % (r.randint(0, 40), r.randint(0, 99)))
            if k < 0.9:
                return X(INT, "(-%d)" % r.randint(1, 20))
            return X(BIG, str(r.choice([3 * 10 ** 9, 10 ** 12, 10 ** 11]) +
                              r.randint(-50, 50)))
        if f == TEXT:
            return X(TEXT, quote(r.choice(self.vocab)))
        if f == DATE:
            return X(DATE, "DATE '%04d-%02d-%02d'" % (
                r.choice([2019, 2020, 2024, 2026]), r.randint(1, 12),
                r.randint(1, 28)))
        return X(BOOL, r.choice(["true", "false"]))

    def lit_for(self, a, f):
        """A literal to compare with @a: one of its column's values when
        @a is a column."""
        pool = self.ref_pool.get(a.render())
        if pool and self.rng.random() < 0.7:
            typ, v = self.rng.choice(pool)
            if typ == DATE:
                v = "DATE " + v
            elif v.startswith("-"):
                v = "(" + v + ")"
            return X(typ, v)
        return self.lit(f)

    def col(self, scope, f):
        cols = [c for c in scope if fam(c.typ) == f]
        if not cols:
            return None
        c = self.rng.choice(cols)
        return X(c.typ, c.ref)

    def leaf(self, scope, f):
        x = self.col(scope, f) if self.rng.random() < 0.85 else None
        return x if x is not None else self.lit(f)

    def pick(self, scope, fams=("n", TEXT, DATE, BOOL), strict=False):
        """A family, mostly (@strict: always) one that columns of @scope
        have."""
        have = [fam(c.typ) for c in scope if fam(c.typ) in fams]
        if have and (strict or self.rng.random() < 0.85):
            return self.rng.choice(have)
        return self.rng.choice(fams)

    def keyexpr(self, scope, f, depth=1, outer=None):
        """An expression of family @f over at least one column."""
        for _ in range(20):
            x = self.expr(scope, f, depth, outer)
            if re.search(r"\b[xdw]\d+\.\w", x.render()):
                return x
        x = self.col(scope, f) or self.lit(f)
        # A quoted literal alone would be of type unknown.
        return X(TEXT, "CAST(", x, " AS text)") if x.typ == TEXT else x

    # ---- expressions

    def expr(self, scope, f, depth, outer=None):
        """An expression of family @f over @scope (columns of @outer too,
        for a correlated subquery)."""
        r = self.rng
        if depth <= 0 or r.random() < 0.4:
            return self.leaf(scope, f)
        opts = []
        if "expr" in self.feats:
            opts += ["case", "coalesce", "nullif", "greatest", "cast"]
            if f == "n":
                opts += ["arith", "arith", "div"]
        if "strfunc" in self.feats and f in ("n", TEXT):
            opts += ["str", "str"]
        if "mathfunc" in self.feats and f == "n":
            opts += ["math", "math"]
        if "datefunc" in self.feats and f in ("n", DATE):
            opts += ["date"]
        if depth >= 2 and ("subquery" in self.feats or
                           "correlated" in self.feats) and r.random() < 0.15:
            opts += ["scalar"]
        if not opts:
            return self.leaf(scope, f)
        k = r.choice(opts)
        sub = lambda ff=f: self.expr(scope, ff, depth - 1, outer)

        def pair():
            """Two operands of one result: of one number type unless
            'mixed' is on (else both cast to numeric)."""
            a, b = sub(), sub()
            if f != "n" or a.typ == b.typ:
                return a, b, a.typ
            if self.on("mixed"):
                return a, b, wider(a.typ, b.typ)
            return (X(NUM, "CAST(", a, " AS numeric)"),
                    X(NUM, "CAST(", b, " AS numeric)"), NUM)
        if k == "case":
            self.used.add("expr")
            a, b, typ = pair()
            if r.random() < 0.5:
                return X(typ, "CASE WHEN ", self.pred(scope, depth - 1),
                         " THEN ", a, " ELSE ", b, " END")
            c = self.leaf(scope, "n")
            return X(typ, "CASE ", c, " WHEN ", self.lit("n"), " THEN ", a,
                     " WHEN ", self.lit("n"), " THEN ", b, " END")
        if k == "coalesce":
            self.used.add("expr")
            a, b, typ = pair()
            return X(typ, "COALESCE(", a, ", ", b, ")")
        if k == "nullif":
            self.used.add("expr")
            a, b, typ = pair()
            return X(typ, "NULLIF(", a, ", ", b, ")")
        if k == "greatest":
            self.used.add("expr")
            a, b, typ = pair()
            return X(typ, r.choice(["GREATEST(", "LEAST("]), a, ", ", b, ")")
        if k == "cast":
            self.used.add("expr")
            if f == TEXT:
                src = self.pick(scope, ("n", DATE, BOOL))
                return X(TEXT, "CAST(", sub(src), " AS text)")
            if f == "n":
                a = sub()
                to = r.choice([(INT, "integer"), (BIG, "bigint"),
                               (NUM, "numeric"), (NUM, "numeric(14,1)")])
                if a.typ == BIG and to[0] == INT:
                    to = (BIG, "bigint")   # its values do not fit
                return X(to[0], "CAST(", a, " AS %s)" % to[1])
            if f == DATE:
                return X(DATE, "CAST(", X(TEXT, quote("2024-0%d-1%d" % (
                    r.randint(1, 9), r.randint(0, 9)))), " AS date)")
            return X(BOOL, "CAST(", self.lit(BOOL), " AS boolean)")
        if k == "arith":
            self.used.add("expr")
            a = sub()
            op = r.choice(["+", "-", "*", "-u"])
            if op == "-u":
                return X(a.typ, "(- ", a, ")")
            if op == "*":
                cols = [c for c in scope if c.typ == INT]
                if cols and r.random() < 0.3:
                    # Columns hold small integers: their product fits.
                    c1, c2 = r.choice(cols), r.choice(cols)
                    return X(INT, "(", X(INT, c1.ref), " * ", X(INT, c2.ref),
                             ")")
                b = X(INT, str(r.randint(-5, 5)))
                return X(a.typ, "(", a, " * ", b, ")")
            b = sub()
            return X(wider(a.typ, b.typ), "(", a, " %s " % op, b, ")")
        if k == "div":
            self.used.add("expr")
            a = sub()
            if r.random() < 0.5:
                b = X(INT, str(r.choice([2, 3, 7, -4, 10])))
            else:
                c = self.col(scope, "n") or self.lit("n")
                b = X(c.typ, "NULLIF(", c, ", 0)")
            return X(wider(a.typ, b.typ), "(", a, r.choice([" / ", " % "]),
                     b, ")")
        if k == "str":
            self.used.add("strfunc")
            if f == "n":
                s = sub(TEXT)
                fn = r.choice(["length(%s)", "char_length(%s)",
                               "octet_length(%s)", "strpos(%s, 'a')",
                               "position('b' in %s)"])
                a, b = fn.split("%s")
                return X(INT, a, s, b)
            s = sub(TEXT)
            c = r.randint(0, 5)
            forms = [("lower(", ")"), ("upper(", ")"),
                     ("substr(", ", %d)" % r.randint(-1, 4)),
                     ("substr(", ", %d, %d)" % (r.randint(-1, 4), c)),
                     ("trim(", ")"), ("ltrim(", ")"), ("rtrim(", ")"),
                     ("replace(", ", 'a', 'xy')"),
                     ("left(", ", %d)" % r.randint(-2, 4)),
                     ("right(", ", %d)" % r.randint(-2, 4)),
                     ("concat(", ", '-', %s)" % r.randint(0, 9)),
                     ("(", " || '.')"), ("repeat(", ", %d)" % c)]
            a, b = r.choice(forms)
            return X(TEXT, a, s, b)
        if k == "math":
            self.used.add("mathfunc")
            a = sub()
            fn = r.choice(["abs", "round", "round2", "mod", "ceil", "floor",
                           "sign", "trunc"])
            if fn == "abs":
                return X(a.typ, "abs(", a, ")")
            if fn == "round2":
                return X(NUM, "round(", X(NUM, "CAST(", a, " AS numeric)"),
                         ", %d)" % r.randint(0, 2))
            if fn == "mod":
                return X(a.typ, "mod(", a, ", %d)" % r.choice([2, 3, -5]))
            return X(NUM, fn + "(", X(NUM, "CAST(", a, " AS numeric)"), ")")
        if k == "date":
            self.used.add("datefunc")
            if f == DATE:
                d = sub(DATE)
                return X(DATE, "(", d, " %s %d)" % (
                    r.choice(["+", "-"]), r.randint(0, 400)))
            d = self.leaf(scope, DATE)
            choice = r.randint(0, 2)
            if choice == 0:
                return X(INT, "(", d, " - ", self.leaf(scope, DATE), ")")
            field = r.choice(["year", "month", "day", "dow", "doy",
                              "quarter"])
            if choice == 1:
                return X(NUM, "EXTRACT(%s FROM " % field, d, ")")
            # date_part is double precision, which has no % operator.
            return X(INT, "CAST(date_part('%s', " % field, d,
                     ") AS integer)")
        # A scalar subquery: an aggregate of one value, so one row.
        corr = outer is None and self.on("correlated", 0.5)
        if not corr:
            self.used.add("subquery")
        q = self.select(want=[f], depth=1, outer=scope if corr else None,
                        force_agg=True)
        return X(q.items[0][0].typ, "(", q, ")")

    def pred(self, scope, depth, outer=None):
        """A boolean expression over @scope."""
        r = self.rng
        full = "filter" in self.feats
        opts = ["cmp", "cmp", "cmp"]
        if full:
            opts += ["isnull", "in", "between", "like", "boolcol", "distinct"]
            if depth > 0:
                opts += ["and", "or", "not"]
        if depth > 0 and ("subquery" in self.feats or
                          "correlated" in self.feats) and \
                (self.want_sub or r.random() < 0.15):
            opts += ["exists", "insub", "anysub"]
        k = r.choice(opts)
        if k in ("isnull", "in", "between", "like", "boolcol", "distinct",
                 "and", "or", "not"):
            self.used.add("filter")
        f = self.pick(scope, ("n", TEXT, DATE), strict=True)
        # The left operand reads a column: a predicate over constants
        # only is all or nothing.
        left = (lambda ff=f, dd=depth - 1:
                self.keyexpr(scope, ff, max(dd, 0), outer))
        if k == "cmp":
            a = left(f, depth)
            b = self.expr(scope, f, depth - 1, outer) \
                if r.random() < 0.4 else self.lit_for(a, f)
            return X(BOOL, "(", a, r.choice([" = ", " <> ", " < ", " <= ",
                                             " > ", " >= ", " <> ", " < ",
                                             " > "]), b, ")")
        if k == "isnull":
            a = left(self.pick(scope, strict=True))
            return X(BOOL, "(", a, r.choice([" IS NULL)", " IS NOT NULL)"]))
        if k == "in":
            a = left()
            vals = [self.lit_for(a, f) for _ in range(r.randint(1, 4))]
            if r.random() < 0.15:
                vals.append(X(a.typ, "NULL"))
            parts = ["(", a, r.choice([" IN (", " NOT IN ("])]
            for i, v in enumerate(vals):
                parts += ([", "] if i else []) + [v]
            return X(BOOL, *parts, "))")
        if k == "between":
            a = left()
            return X(BOOL, "(", a, r.choice([" BETWEEN ", " NOT BETWEEN "]),
                     self.lit_for(a, f), " AND ", self.lit_for(a, f), ")")
        if k == "like":
            a = left(TEXT)
            return X(BOOL, "(", a, r.choice([" LIKE ", " NOT LIKE ",
                                             " ILIKE "]),
                     quote(r.choice(self.patterns)), ")")
        if k == "boolcol":
            a = self.leaf(scope, BOOL)
            return X(BOOL, "(", a, r.choice(["", " IS TRUE", " IS NOT FALSE",
                                             " IS UNKNOWN", " = false"]), ")")
        if k == "distinct":
            a = left()
            return X(BOOL, "(", a, r.choice([" IS DISTINCT FROM ",
                                             " IS NOT DISTINCT FROM "]),
                     self.leaf(scope, f), ")")
        if k in ("and", "or"):
            return X(BOOL, "(", self.pred(scope, depth - 1, outer),
                     " %s " % k.upper(), self.pred(scope, depth - 1, outer),
                     ")")
        if k == "not":
            return X(BOOL, "(NOT ", self.pred(scope, depth - 1, outer), ")")
        # Subqueries: correlated when asked (and not nested deeper).
        corr = outer is None and self.on("correlated", 0.5)
        if not corr and "subquery" not in self.feats:
            return self.pred(scope, 0, outer)
        if not corr:
            self.used.add("subquery")
        inner_outer = scope if corr else None
        if k == "exists":
            q = self.select(depth=1, outer=inner_outer)
            return X(BOOL, r.choice(["(EXISTS (", "(NOT EXISTS ("]), q, "))")
        if k == "insub":
            q = self.select(want=[f], depth=1, outer=inner_outer)
            a = self.expr(scope, f, depth - 1, outer)
            return X(BOOL, "(", a, r.choice([" IN (", " NOT IN ("]), q, "))")
        q = self.select(want=[f], depth=1, outer=inner_outer)
        a = self.expr(scope, f, depth - 1, outer)
        return X(BOOL, "(", a, r.choice([" = ", " < ", " >= ", " <> "]),
                 r.choice(["ANY (", "ALL ("]), q, "))")

    def agg(self, scope, f):
        """An aggregate of family @f."""
        r = self.rng
        self.used.add("agg")
        if f == "n":
            k = r.randint(0, 6)
            if k == 0:
                return X(BIG, "count(*)")
            a = self.keyexpr(scope, self.pick(scope, ("n", TEXT, DATE)))
            if k == 1:
                return X(BIG, "count(", a, ")")
            if k == 2:
                return X(BIG, "count(DISTINCT ", a, ")")
            a = self.keyexpr(scope, "n")
            if k == 3:
                typ = BIG if a.typ == INT else NUM
                return X(typ, "sum(", a, ")")
            if k == 4:
                return X(NUM, "avg(", a, ")")
            return X(a.typ, r.choice(["min(", "max("]), a, ")")
        if f == BOOL:
            if self.on("agg2", 0.8):
                return X(BOOL, r.choice(["bool_and(", "bool_or("]),
                         self.pred(scope, 1), ")")
            return X(BOOL, "(", self.agg(scope, "n"), " > ",
                     self.lit("n"), ")")
        if f == TEXT and self.on("agg2", 0.8):
            a = self.keyexpr(scope, TEXT)
            return X(TEXT, "string_agg(", a, ", ',' ORDER BY ", a, ")")
        a = self.keyexpr(scope, f)
        return X(a.typ, r.choice(["min(", "max("]), a, ")")

    # ---- FROM

    def table_from(self, kind, t, cond=None):
        a = self.alias("x")
        cols = [ScopeCol("%s.%s" % (a, c.name), c.typ, c.name == "id")
                for c in t.cols]
        for c in t.cols:
            if c.pool and fam(c.typ) != BOOL:
                self.ref_pool["%s.%s" % (a, c.name)] = [(c.typ, v)
                                                        for v in c.pool]
        return From(kind, t.name, a, cond), cols

    def join_cond(self, left, right, key_only):
        """An ON condition between the columns of @left and @right."""
        r = self.rng
        rid = [c for c in right if c.unique]
        lid = [c for c in left if c.unique]
        lint = [c for c in left if c.typ in (INT, BIG)]
        rint = [c for c in right if c.typ in (INT, BIG)]
        same = [(a, b) for a in left for b in right
                if fam(a.typ) == fam(b.typ)]
        k = r.random()
        op = " = "
        if key_only and not (rid and (lid or lint)):
            k = 0.6   # an equality of another pair
        if (key_only or k < 0.5) and rid and (lid or lint):
            if r.random() < 0.5 and lid:
                a, b = r.choice(lid), r.choice(rid)   # key = key
            else:
                a, b = r.choice(lint or lid), r.choice(rid)  # column = key
        elif k < 0.85 and same:
            a, b = r.choice(same)
        elif lint and rint:
            a, b = r.choice(lint), r.choice(rint)
            op = r.choice([" < ", " <= ", " <> "])
        elif same:
            a, b = r.choice(same)
        else:
            return X(BOOL, "true")
        cond = X(BOOL, a.ref, op, b.ref)
        if "filter" in self.feats and r.random() < 0.3:
            cond = X(BOOL, cond, " AND ", self.pred(left + right, 0))
        return cond

    def local_from(self):
        """FROM items every shard can join locally (docs/sharding.md,
        Joins): the first table with reference tables (any condition)
        or, when it is hash-sharded, with hash-sharded tables on equal
        shard keys; the first table stays on the preserved side."""
        r = self.rng
        refs = [t for t in self.tables if t.placement == "reference"]
        hashes = [t for t in self.tables if t.placement == "hash"]
        first = r.choice(self.tables)
        if not refs and hashes:
            first = r.choice(hashes)   # a self-join on the shard key
        f, scope = self.table_from(None, first)
        froms = [f]
        shard_key = lambda t, cols: [c for c in cols if c.ref.endswith(
            "." + t.talus_suffix.split("(")[1].split(")")[0])][0]
        for _ in range(r.choice([1, 1, 2])):
            options = refs + (hashes if first.placement == "hash" else [])
            if not options:
                break
            t = r.choice(options)
            f, cols = self.table_from(None, t)
            f.kind = r.choice(["JOIN", "JOIN", "LEFT JOIN"])
            if t.placement == "hash":
                cond = X(BOOL, shard_key(first, scope).ref, " = ",
                         shard_key(t, cols).ref)
                if "filter" in self.feats and r.random() < 0.3:
                    cond = X(BOOL, cond, " AND ", self.pred(scope + cols, 0))
            else:
                cond = self.join_cond(scope, cols, False)
            f.cond = cond
            froms.append(f)
            scope = scope + cols
            self.used.add("local_join")
        return froms, scope

    def from_clause(self, depth, want_join, derived):
        """The FROM items and their columns; @derived: True (a derived
        table first), False (none) or None (by chance)."""
        r = self.rng
        froms, scope = [], []
        n = 1
        if want_join == "local":
            return self.local_from()
        if want_join:
            n = r.choice([2, 2, 2, 3, 3, 4])
        use_derived = derived if derived is not None else (
            depth < 1 and self.on("derived", 0.1))
        if use_derived:
            self.used.add("derived")
        for i in range(n):
            if i == 0 and use_derived:
                q = self.select(depth=depth + 1)
                a = self.alias("d")
                cols = [ScopeCol("%s.%s" % (a, al), x.typ)
                        for x, al in q.items]
                f = From(None, q, a, None)
            else:
                f, cols = self.table_from(None, r.choice(self.tables))
            if i > 0:
                kinds = []
                if "join" in self.feats:
                    kinds += ["JOIN", "JOIN", "CROSS JOIN", ","]
                if "outer_join" in self.feats:
                    kinds += ["LEFT JOIN", "LEFT JOIN", "RIGHT JOIN",
                              "FULL JOIN"]
                kind = r.choice(kinds)
                self.used.add("outer_join" if kind in (
                    "LEFT JOIN", "RIGHT JOIN", "FULL JOIN") else "join")
                if kind == "," and i < n - 1:
                    kind = "CROSS JOIN"   # a later ON may name any table
                if kind in ("CROSS JOIN", ",") and i > 1:
                    kind = "JOIN"   # keep 3- and 4-way joins small
                f.kind = kind
                if kind not in ("CROSS JOIN", ","):
                    # PostgreSQL runs a FULL JOIN only on equalities.
                    f.cond = self.join_cond(scope, cols, key_only=i > 1 or
                                            kind == "FULL JOIN")
            froms.append(f)
            scope += cols
        return froms, scope

    # ---- SELECT

    def select(self, want=None, depth=0, outer=None, force_agg=False,
               primary=None):
        """A SELECT; its items have the families of @want when given.
        @outer: the scope of the enclosing query (a correlated subquery)."""
        r = self.rng
        q = Sel()
        top = depth == 0
        p = (lambda feat, prob: primary == feat or self.on(feat, prob))
        want_join = (primary in ("join", "outer_join")) or (
            primary != "window" and
            ("join" in self.feats or "outer_join" in self.feats) and
            r.random() < (0.2 if top else 0.05))
        if primary == "local_join" or (
                not want_join and primary != "window" and
                "local_join" in self.feats and
                r.random() < (0.2 if top else 0.05)):
            want_join = "local"
        derived = {"derived": True, "window": False}.get(primary)
        if top and primary != "window" and p("cte", 0.05):
            self.used.add("cte")
            name = "w%d" % (self.n_alias + 1)
            self.n_alias += 1
            cq = self.select(depth=1)
            q.ctes.append((name, cq))
        q.froms, scope = self.from_clause(depth, want_join, derived)
        if q.ctes:
            # Read the CTE as one FROM item (joined with a cross join when
            # the FROM has others: its rows are few).
            name, cq = q.ctes[0]
            a = self.alias("w")
            cols = [ScopeCol("%s.%s" % (a, al), x.typ) for x, al in cq.items]
            if r.random() < 0.5 or len(q.froms) > 1:
                q.froms = [From(None, name, a, None)]
                scope = cols
            else:
                cond = self.join_cond(scope, cols, False) \
                    if any(c.unique for c in cols) else None
                q.froms.append(From("JOIN" if cond else "CROSS JOIN", name,
                                    a, cond))
                scope = scope + cols
        single = len(q.froms) == 1 and isinstance(q.froms[0].src, str) \
            and not q.ctes
        all_scope = scope + (outer or [])

        conds = []
        if outer is not None:
            # Correlate: an inner column equals an outer one.
            pairs = [(a, b) for a in scope for b in outer
                     if fam(a.typ) == fam(b.typ)]
            if pairs:
                a, b = r.choice(pairs)
                conds.append(X(BOOL, "(", a.ref, r.choice([" = ", " <= "]),
                               b.ref, ")"))
        if primary == "filter" or ("filter" in self.feats and
                                   r.random() < (0.7 if top else 0.5)):
            self.used.add("filter")
            conds.append(self.pred(scope, 2 if top else 1, outer))
        if primary in ("subquery", "correlated") or (
                top and r.random() < 0.1 and
                ("subquery" in self.feats or "correlated" in self.feats)):
            sub_k = "correlated" if primary == "correlated" else None
            if sub_k:
                self.used.add("correlated")
            conds.append(self.subpred(scope, sub_k))
        if conds:
            w = conds[0]
            for c in conds[1:]:
                w = X(BOOL, w, " AND ", c)
            q.where = w

        grouped = force_agg or p("group", 0.15) or p("agg", 0.1) or \
            primary in ("agg2", "grouping_sets")
        if grouped:
            use_group = not force_agg and ("group" in self.feats and (
                primary == "group" or primary != "agg" and r.random() < 0.6)
                or primary == "grouping_sets")
            # Grouping sets group by columns: PostgreSQL folds a constant
            # expression (COALESCE(DATE '...', x)) in a target that repeats
            # a key, so the empty set's row shows it instead of NULL.
            sets = use_group and not want and (
                primary == "grouping_sets" or self.on("grouping_sets", 0.3))
            if use_group:
                self.used.add("group")
                for _ in range(r.randint(1, 2)):
                    f = self.pick(scope, strict=True)
                    g = self.col(scope, f) if sets else None
                    q.group.append(g or self.keyexpr(scope, f))
            fams = want or [self.pick(scope)
                            for _ in range(r.randint(1, 3))]
            if primary == "agg2":
                fams = [r.choice([TEXT, BOOL])] + fams
            for f in fams:
                keys = [g for g in q.group if fam(g.typ) == f]
                if keys and r.random() < 0.5:
                    x = r.choice(keys)
                else:
                    x = self.agg(scope, f)
                    if "expr" in self.feats and f == "n" and \
                            r.random() < 0.2:
                        y = self.agg(scope, "n")
                        x = X(wider(x.typ, y.typ), "(", x, " + ", y, ")")
                q.items.append((x, "a%d" % (len(q.items) + 1)))
            if not want:
                for g in q.group:
                    if r.random() < 0.7:
                        q.items.insert(0, (g, "a0"))
                q.items = [(x, "a%d" % (i + 1))
                           for i, (x, _) in enumerate(q.items)]
            if q.group and r.random() < 0.4:
                q.having = X(BOOL, "(", self.agg(scope, "n"),
                             r.choice([" > ", " >= ", " < ", " = "]),
                             self.lit("n"), ")")
            if q.group and sets:
                self.used.add("grouping_sets")
                q.group_kind = r.choice(["ROLLUP", "CUBE", "SETS"])
                if r.random() < 0.5:
                    q.items.append((X(INT, "GROUPING(", *[
                        p for i, g in enumerate(q.group)
                        for p in ((", ", g) if i else (g,))], ")"),
                        "a%d" % (len(q.items) + 1)))
            if q.group and top and not want and self.on("frame", 0.3):
                x = self.agg(scope, "n")
                if r.random() < 0.5:
                    w = X(BIG, r.choice(["rank()", "dense_rank()"]),
                          " OVER (ORDER BY ", x, r.choice(["", " DESC"]), ")")
                else:
                    w = X(NUM if x.typ in (BIG, NUM) else BIG,
                          "sum(", x, ") OVER ()")
                q.items.append((w, "a%d" % (len(q.items) + 1)))
        else:
            fams = want or [self.pick(scope)
                            for _ in range(r.randint(1, 4))]
            for f in fams:
                if f == BOOL and r.random() < 0.5:
                    x = self.pred(scope, 1, outer)
                else:
                    x = self.expr(all_scope if outer else scope, f,
                                  2 if top else 1)
                q.items.append((x, "a%d" % (len(q.items) + 1)))
            if single and top and not want and (p("window", 0.1) or
                                                primary == "frame"):
                self.used.add("window")
                q.items.append((self.window(scope, q),
                                "a%d" % (len(q.items) + 1)))
        if (not force_agg and (top or want) and
                p("distinct", 0.1 if top else 0.05)):
            self.used.add("distinct")
            q.distinct = True
        if (top and single and not grouped and not q.distinct and not want
                and p("distinct_on", 0.1)):
            # The first row of each set by a total order: deterministic.
            key = [c for c in scope if c.unique][0]
            on = r.sample([a for _, a in q.items],
                          r.randint(1, min(2, len(q.items))))
            q.items.append((X(key.typ, key.ref), "a%d" % (len(q.items) + 1)))
            dirs = ["ASC", "DESC", "ASC NULLS FIRST", "DESC NULLS LAST"]
            q.distinct_on = on
            q.order = [(a, r.choice(dirs)) for a in on] + \
                [(q.items[-1][1], r.choice(dirs))]
            if r.random() < 0.3:
                q.limit = r.randint(0, 10)
            return q
        if top:
            self.order_tail(q, primary)
        return q

    def subpred(self, scope, kind):
        """A predicate that is a subquery (IN, EXISTS, ANY/ALL)."""
        saved = self.feats
        if kind == "correlated":
            self.feats = self.feats | {"correlated"}
        self.want_sub = True
        x = self.pred(scope, 1)
        while not self.has_sub(x):
            x = self.pred(scope, 1)
        self.want_sub = False
        self.feats = saved
        return x

    @staticmethod
    def has_sub(x):
        return any(isinstance(p, (Sel, SetOp)) or
                   (isinstance(p, X) and Gen.has_sub(p)) for p in x.parts)

    FRAME_BOUNDS = ["UNBOUNDED PRECEDING", "%d PRECEDING", "CURRENT ROW",
                    "%d FOLLOWING", "UNBOUNDED FOLLOWING"]

    def frame_clause(self, mode):
        """A valid frame: start no later than end in the grammar's order."""
        r = self.rng
        s = r.randint(0, 3)
        e = r.randint(max(s, 1), 4)
        if mode == "RANGE" and r.random() < 0.5:
            s, e = r.choice([(0, 2), (2, 4), (0, 4)])
        bound = (lambda k: self.FRAME_BOUNDS[k] % r.randint(0, 3)
                 if "%d" in self.FRAME_BOUNDS[k] else self.FRAME_BOUNDS[k])
        f = "%s BETWEEN %s AND %s" % (mode, bound(s), bound(e))
        if r.random() < 0.25:
            f += r.choice([" EXCLUDE CURRENT ROW", " EXCLUDE GROUP",
                           " EXCLUDE TIES", " EXCLUDE NO OTHERS"])
        return f

    def frame_window(self, scope, q, key, pby):
        """A window function over a frame, a named window or a function
        that reads other rows; always deterministic: row-sensitive ones
        order by a unique key last."""
        r = self.rng
        col = self.keyexpr(scope, self.pick(scope, ("n", TEXT, DATE), True))
        total = X(col.typ, col, ", %s" % key.ref)
        k = r.randint(0, 5)
        if k <= 1:
            # A value of another row.
            f = self.pick(scope, ("n", TEXT, DATE), True)
            a = self.keyexpr(scope, f)
            fn, typ = r.choice([("lag", a.typ), ("lead", a.typ),
                                ("first_value", a.typ),
                                ("last_value", a.typ),
                                ("nth_value", a.typ), ("ntile", INT)])
            if fn == "ntile":
                call = X(INT, "ntile(%d)" % r.randint(1, 4))
            elif fn == "nth_value":
                call = X(typ, "nth_value(", a, ", %d)" % r.randint(1, 3))
            elif fn in ("lag", "lead") and r.random() < 0.5:
                call = X(typ, fn + "(", a, ", %d)" % r.randint(0, 2))
            else:
                call = X(typ, fn + "(", a, ")")
            frame = " " + self.frame_clause("ROWS") \
                if fn in ("first_value", "last_value", "nth_value") and \
                r.random() < 0.6 else ""
            if r.random() < 0.4:
                name = "win%d" % (len(q.windows) + 1)
                q.windows.append((name, X(BIG, pby, " ORDER BY ",
                                          total).render()))
                if frame:
                    return X(typ, call, " OVER (%s%s)" % (name, frame))
                return X(typ, call, " OVER " + name)
            return X(typ, call, " OVER (", pby, " ORDER BY ", total, frame,
                     ")")
        a = self.keyexpr(scope, "n")
        fn = r.choice(["sum", "count", "min", "max"])
        typ = BIG if fn == "count" else (
            (BIG if a.typ == INT else NUM) if fn == "sum" else a.typ)
        ints = [c for c in scope if c.typ in (INT, BIG)]
        if k == 2 and ints:
            # RANGE with offsets over one integer column.
            c = r.choice(ints)
            return X(typ, fn + "(", a, ") OVER (", pby, " ORDER BY ", c.ref,
                     r.choice(["", " DESC"]), " ", self.frame_clause("RANGE"),
                     ")")
        if k == 3:
            return X(typ, fn + "(", a, ") OVER (", pby, " ORDER BY ", col,
                     " ", self.frame_clause("GROUPS"), ")")
        return X(typ, fn + "(", a, ") OVER (", pby, " ORDER BY ", total, " ",
                 self.frame_clause("ROWS"), ")")

    def window(self, scope, q):
        r = self.rng
        key = [c for c in scope if c.unique][0]
        part = self.keyexpr(scope, self.pick(scope, strict=True))
        pby = X(part.typ, "PARTITION BY ", part) if r.random() < 0.7 \
            else X(part.typ, "")
        if self.on("frame", 0.6):
            return self.frame_window(scope, q, key, pby)
        col = self.keyexpr(scope, self.pick(scope, ("n", TEXT, DATE), True))
        k = r.randint(0, 5)
        if k == 0:
            return X(BIG, "row_number() OVER (", pby, " ORDER BY ", col,
                     ", %s)" % key.ref)
        if k in (1, 2):
            fn = "rank()" if k == 1 else "dense_rank()"
            return X(BIG, fn + " OVER (", pby, " ORDER BY ", col,
                     r.choice(["", " DESC"]), ")")
        a = self.expr(scope, "n", 1)
        fn = r.choice(["sum", "count", "min", "max"])
        typ = BIG if fn == "count" else (
            (BIG if a.typ == INT else NUM) if fn == "sum" else a.typ)
        if r.random() < 0.5:
            return X(typ, fn + "(", a, ") OVER (", pby, ")")
        return X(typ, fn + "(", a, ") OVER (", pby, " ORDER BY ", col, ")")

    def order_tail(self, q, primary):
        r = self.rng
        aliases = [a for _, a in q.items]
        if primary == "limit" or self.on("limit", 0.15):
            self.used.add("limit")
            # A total order: every output column.
            order = list(aliases)
            r.shuffle(order)
            q.order = [(a, r.choice(["ASC", "DESC", "ASC NULLS FIRST",
                                     "DESC NULLS LAST"])) for a in order]
            q.limit = r.randint(0, 20)
            if r.random() < 0.5:
                q.offset = r.randint(0, 10)
        elif primary == "order" or self.on("order", 0.3):
            self.used.add("order")
            keys = r.sample(aliases, r.randint(1, len(aliases)))
            q.order = [(a, r.choice(["ASC", "DESC", "ASC NULLS FIRST",
                                     "DESC NULLS LAST"])) for a in keys]

    def setop(self, primary):
        self.used.add("setop")
        r = self.rng
        left = self.select(depth=1)
        right = self.select(want=[fam(t) for t in left.out_types()], depth=1)
        op = r.choice(["UNION", "UNION ALL", "INTERSECT", "EXCEPT",
                       "INTERSECT ALL", "EXCEPT ALL"])
        q = SetOp(left, op, right)
        self.order_tail(q, primary)
        return q

    def query(self, primary):
        """A top-level query that uses @primary (tried again until it
        does: expressions and functions are drawn by chance)."""
        for _ in range(50):
            self.used = {"select"} if primary == "select" else set()
            self.n_alias = 0
            if primary == "setop" or self.on("setop", 0.03):
                q = self.setop(primary)
            else:
                q = self.select(primary=primary)
            if primary in self.used:
                return q
        return q


# ------------------------------------------------------------ execution

class Outcome:
    """What a server answered: rows, an error, or a lost connection."""

    def __init__(self, kind, rows=None, oids=None, state=None, msg=None):
        self.kind = kind          # "ok", "err" or "lost"
        self.rows, self.oids = rows, oids
        self.state, self.msg = state, msg

    def describe(self, limit=50):
        if self.kind == "lost":
            return ["CONNECTION LOST: " + (self.msg or "")]
        if self.kind == "err":
            return ["ERROR %s: %s" % (self.state, self.msg)]
        out = ["%d rows" % len(self.rows)]
        for row in self.rows[:limit]:
            out.append("| " + " | ".join("NULL" if v is None else v
                                         for v in row) + " |")
        if len(self.rows) > limit:
            out.append("... %d more" % (len(self.rows) - limit))
        return out


class Server:
    def __init__(self, name, port, user, db, timeout_ms):
        self.name, self.port, self.user, self.db = name, port, user, db
        self.timeout_ms = timeout_ms
        self.conn = None

    def connect(self, deadline_s=30):
        end = time.time() + deadline_s
        while True:
            try:
                self.conn = psycopg2.connect(
                    host="127.0.0.1", port=self.port, user=self.user,
                    dbname=self.db, connect_timeout=10)
                self.conn.autocommit = True
                self.run("SET statement_timeout = %d" % self.timeout_ms)
                return
            except psycopg2.OperationalError:
                if time.time() >= end:
                    raise
                time.sleep(0.2)

    def run(self, sql):
        if self.conn is None or self.conn.closed:
            try:
                self.connect()
            except psycopg2.Error as e:
                return Outcome("lost", msg="reconnect failed: %s" % e)
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    return Outcome("ok", rows=[], oids=[])
                return Outcome("ok", rows=[tuple(r) for r in cur.fetchall()],
                               oids=[d.type_code for d in cur.description])
        except psycopg2.Error as e:
            if e.pgcode is None and (self.conn.closed or isinstance(
                    e, (psycopg2.OperationalError, psycopg2.InterfaceError))):
                msg = str(e).strip().splitlines()[0] if str(e) else "lost"
                try:
                    self.conn.close()
                except psycopg2.Error:
                    pass
                self.conn = None
                return Outcome("lost", msg=msg)
            msg = (e.diag.message_primary or str(e)).strip()
            return Outcome("err", state=e.pgcode, msg=msg)

    def must(self, sql):
        o = self.run(sql)
        if o.kind != "ok":
            raise SetupError("%s: %s: %s" % (self.name, sql[:200],
                                             o.describe()[0]))
        return o


class SetupError(Exception):
    pass


def sort_key(row):
    return tuple((0, "") if v is None else (1, v) for v in row)


def norm_key(v, oid):
    if v is None:
        return (0,)
    if oid in NUMERIC_OIDS:
        try:
            return (1, decimal.Decimal(v))
        except decimal.InvalidOperation:
            return (2, v)
    return (1, v)


def runs(rows, key_idx, oids):
    """Rows cut into runs of equal sort keys: (key, the run's rows
    sorted). Keys compare numbers by value (1.5 and 1.50 are equal)."""
    out, cur, last = [], [], object()
    for row in rows:
        k = tuple(norm_key(row[i], oids[i]) for i in key_idx)
        if k != last and cur:
            out.append((last, sorted(cur, key=sort_key)))
            cur = []
        last = k
        cur.append(row)
    if cur:
        out.append((last, sorted(cur, key=sort_key)))
    return out


def same_rows(pg, ta, q):
    if len(pg.rows) != len(ta.rows):
        return False
    if pg.rows and ta.rows and len(pg.rows[0]) != len(ta.rows[0]):
        return False
    if not q.order:
        return sorted(pg.rows, key=sort_key) == sorted(ta.rows, key=sort_key)
    aliases = [a for _, a in q.items]
    idx = [aliases.index(a) for a, _ in q.order if a in aliases]
    pr, tr = runs(pg.rows, idx, pg.oids), runs(ta.rows, idx, pg.oids)
    if q.limit is None and q.offset is None:
        return pr == tr
    # LIMIT and OFFSET may cut a run of equal keys (rows that differ only
    # as 1.5 and 1.50 do): of the runs at the edges, only the keys and
    # the number of rows are determined.
    if len(pr) != len(tr):
        return False
    for i, ((pk, prows), (tk, trows)) in enumerate(zip(pr, tr)):
        edge = i == 0 or i == len(pr) - 1
        if pk != tk or len(prows) != len(trows) or (
                not edge and prows != trows):
            return False
    return True


def pg_ordered(pg, q):
    """Whether PostgreSQL's rows follow the query's own ORDER BY. They do
    not where PostgreSQL 15 drops a sort key it believes constant or equal
    to another through an equivalence class, which GROUPING SETS make
    wrong (a NULLed key): such an answer is no reference (skipped)."""
    if not q.order or not pg.rows:
        return True
    aliases = [a for _, a in q.items]
    keys = [(aliases.index(a), d) for a, d in q.order if a in aliases]
    # Values come as text: numbers compare by value; text (C collation:
    # bytes, the order of code points), booleans and ISO dates as text.
    judged = NUMERIC_OIDS | {16, 25, 1043, 1082}

    def val(v, oid):
        if v is None or oid not in NUMERIC_OIDS:
            return v
        return decimal.Decimal(v)

    def cmp(x, y):
        for i, d in keys:
            if pg.oids[i] not in judged:
                return 0
            try:
                a, b = val(x[i], pg.oids[i]), val(y[i], pg.oids[i])
            except Exception:  # NaN, Infinity: not judged
                return 0
            if a == b or (a is None and b is None):
                continue
            desc = d.startswith("DESC")
            nulls_first = "NULLS FIRST" in d or (desc and "NULLS" not in d)
            if a is None or b is None:
                return -1 if (a is None) == nulls_first else 1
            try:
                c = -1 if a < b else 1
            except Exception:  # values Python cannot order: not judged
                return 0
            return -c if desc else c
        return 0
    return all(cmp(pg.rows[k], pg.rows[k + 1]) <= 0
               for k in range(len(pg.rows) - 1))


def category(pg, ta, q):
    """None when the answers match, else the mismatch's category."""
    if ta.kind == "lost":
        return "crash (connection lost)"
    if pg.kind == "ok" and ta.kind == "ok":
        return None if same_rows(pg, ta, q) else "wrong result"
    if pg.kind == "err" and ta.kind == "err":
        if pg.state[:2] == ta.state[:2]:
            return None
        return "error class: postgres %s, talus %s %s" % (
            pg.state, ta.state, msg_key(ta.msg))
    if pg.kind == "ok":
        return "talus error %s %s" % (ta.state, msg_key(ta.msg))
    return "talus answered, postgres error %s %s" % (pg.state,
                                                    msg_key(pg.msg))


def msg_key(msg):
    """A message's stable part: quoted names and numbers left out."""
    m = (msg or "").splitlines()[0] if msg else ""
    m = re.sub(r'"[^"]*"', '"…"', m)
    m = re.sub(r"\d+", "N", m)
    return m[:70]


class Known:
    """The allow-list: one SQLSTATE or message regex per line."""

    def __init__(self, path):
        self.states, self.regexes = [], []
        if not path:
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = re.split(r"\s#", " " + line, 1)[0].strip()
                if not line or line.startswith("#"):
                    continue
                if re.fullmatch(r"[0-9A-Z]{5}", line):
                    self.states.append(line)
                else:
                    self.regexes.append(re.compile(line))

    def allows(self, cat, ta):
        if ta.kind == "err" and ta.state in self.states:
            return True
        text = cat + ("\n" + ta.msg if ta.kind == "err" and ta.msg else "")
        return any(r.search(text) for r in self.regexes)


# ---------------------------------------------------------------- the run

class Mismatch:
    def __init__(self, n, q, feats, primary, cat, pg, ta):
        self.n, self.q, self.feats, self.primary = n, q, feats, primary
        self.cat, self.pg, self.ta = cat, pg, ta


class Runner:
    def __init__(self, args, features):
        self.args = args
        self.rng = random.Random(args.seed)
        self.features = features
        self.pg = Server("postgres", args.pg, "postgres", "postgres", 10000)
        self.ta = Server("talus", args.talus, "test", "test", 30000)
        self.tables = make_schema(self.rng, args.shards,
                                  "unicode" in features)
        self.known = Known(args.known)

    def setup(self):
        self.pg.connect()
        self.ta.connect()
        names = ", ".join(t.name for t in self.tables)
        for srv in (self.pg, self.ta):
            srv.must("DROP TABLE IF EXISTS t1, t2, t3, t4, t5, t6")
        for t in self.tables:
            self.pg.must(t.ddl(False))
            self.ta.must(t.ddl(True))
            for i in range(0, len(t.rows), 50):
                sql = t.insert(t.rows[i:i + 50])
                self.pg.must(sql)
                self.ta.must(sql)
        print("difftest: seed %d: tables %s" % (self.args.seed, names))
        for t in self.tables:
            print("  %s (%d rows, %s): %s" % (
                t.name, len(t.rows), t.placement,
                ", ".join(c.name + " " + c.decl for c in t.cols)))

    def compare(self, sql, q):
        pg = self.pg.run(sql)
        if pg.kind == "lost":
            raise SetupError("lost the connection to PostgreSQL: %s" % pg.msg)
        if pg.kind == "err" and pg.state == "57014" or \
                pg.kind == "ok" and (len(pg.rows) > 50000 or
                                     not pg_ordered(pg, q)):
            return "skip", pg, None
        ta = self.ta.run(sql)
        return category(pg, ta, q), pg, ta

    def run(self):
        a = self.args
        start = time.time()
        gen = Gen(self.rng, self.tables, self.features)
        # queries, mismatches, skipped, {category: count}
        stats = {f: [0, 0, 0, {}] for f in self.features}
        cats = {}
        mismatches = []
        n_match = n_skip = n_known = 0
        n = 0
        prim_list = sorted(f for f in self.features if f not in MODIFIERS)
        while n < a.queries:
            if a.time_limit and time.time() - start > a.time_limit:
                print("difftest: time limit reached after %d queries" % n)
                break
            n += 1
            primary = self.rng.choice(prim_list)
            q = gen.query(primary)
            sql = q.render()
            cat, pg, ta = self.compare(sql, q)
            st = stats[primary]
            st[0] += 1
            if a.verbose:
                print("-- %d [%s] %s\n%s" % (n, primary, cat or "match", sql))
            if cat == "skip":
                n_skip += 1
                st[2] += 1
                continue
            if cat is None:
                n_match += 1
                continue
            st[1] += 1
            st[3][cat] = st[3].get(cat, 0) + 1
            known = self.known.allows(cat, ta)
            n_known += known
            cats.setdefault(cat, [0, known, sql])[0] += 1
            mismatches.append(Mismatch(n, q, sorted(gen.used), primary, cat,
                                       pg, ta))
            if ta.kind == "lost" and ta.msg.startswith("reconnect failed"):
                print("difftest: Talus does not answer any more: stopping")
                break
        elapsed = time.time() - start

        print("difftest: seed %d, features %s" % (a.seed,
                                                   ",".join(prim_list)))
        print("difftest: %d queries in %.1f s: %d match, %d mismatch "
              "(%d known), %d skipped (postgres timed out, > 50000 rows, or out "
              "of its own ORDER BY)" % (
                  n, elapsed, n_match, len(mismatches), n_known, n_skip))
        print("by feature (each query is counted under the feature it was "
              "made for; it may use others):")
        print("  %-12s %8s %9s  %s" % ("feature", "queries", "mismatch",
                                       "most frequent categories"))
        for f in prim_list:
            top = sorted(stats[f][3].items(), key=lambda kv: -kv[1])[:3]
            print("  %-12s %8d %9d  %s" % (
                f, stats[f][0], stats[f][1],
                "; ".join("%d %s" % (c, k[:60]) for k, c in top)))
        if cats:
            print("mismatches by category:")
            for cat, (cnt, known, example) in sorted(
                    cats.items(), key=lambda kv: -kv[1][0]):
                print("  %5d %s%s" % (cnt, cat, "  (known)" if known else ""))
                # A crash's query is printed whole: it may not be written
                # to a file (the server is gone).
                print("        e.g. %s" % (example if cat.startswith("crash")
                                           else example[:300]))
        if a.out:
            self.write_all(mismatches)
        unknown = [m for m in mismatches
                   if not self.known.allows(m.cat, m.ta)]
        return 1 if unknown else 0

    # ---- minimising and writing mismatches

    def write_all(self, mismatches):
        os.makedirs(self.args.out, exist_ok=True)
        per_cat = {}
        chosen = []
        for m in mismatches:
            c = per_cat.setdefault(m.cat, 0)
            if self.args.max_files and c >= self.args.max_files:
                continue
            per_cat[m.cat] = c + 1
            chosen.append(m)
        # The first of each category first: it gets the reducer's time.
        firsts = {}
        for m in chosen:
            firsts.setdefault(m.cat, m)
        order = list(firsts.values()) + [m for m in chosen
                                         if firsts[m.cat] is not m]
        end = time.time() + self.args.reduce_time
        for m in order:
            budget = min(self.args.reduce_each, end - time.time())
            note = None
            rows = None
            if budget > 1:
                try:
                    rows, note = self.reduce(m, budget)
                except SetupError as e:
                    note = "minimising stopped: %s" % e
                    self.reload()
            else:
                note = "not minimised (out of time)"
            self.write(m, rows, note)
        print("difftest: %d mismatch files in %s" % (len(order),
                                                     self.args.out))

    def reload(self):
        for t in self.tables:
            for srv in (self.pg, self.ta):
                srv.run("DROP TABLE IF EXISTS " + t.name)
        for t in self.tables:
            self.pg.must(t.ddl(False))
            self.ta.must(t.ddl(True))
            for i in range(0, len(t.rows), 50):
                sql = t.insert(t.rows[i:i + 50])
                self.pg.must(sql)
                self.ta.must(sql)

    def same_mismatch(self, q, cat):
        try:
            sql = q.render()
        except (AttributeError, ValueError):
            return None
        c, pg, ta = self.compare(sql, q)
        if c == cat:
            return pg, ta
        return None

    def reduce(self, m, budget):
        """Drop clauses, then rows, while the mismatch keeps its category.
        Returns the rows kept per table, and a note."""
        end = time.time() + budget
        if m.ta.kind == "lost":
            # Each try would need the server restarted.
            return None, "not minimised (Talus lost the connection)"
        if self.same_mismatch(m.q, m.cat) is None:
            return None, "did not happen again when run a second time"
        q = m.q
        progress = True
        while progress and time.time() < end:
            progress = False
            for v in q.variants():
                if time.time() >= end:
                    break
                if self.same_mismatch(v, m.cat) is not None:
                    q, progress = v, True
                    break
        m.q = q
        sql = q.render()
        used = [t for t in self.tables
                if re.search(r"\b%s\b" % t.name, sql)]
        deleted = {t.name: [] for t in used}
        kept = {t.name: list(t.rows) for t in used}
        for t in used:
            chunk = max(1, len(kept[t.name]) // 2)
            while chunk >= 1 and time.time() < end:
                i = 0
                while i < len(kept[t.name]) and time.time() < end:
                    part = kept[t.name][i:i + chunk]
                    self.delete_rows(t, part)
                    if self.same_mismatch(q, m.cat) is not None:
                        deleted[t.name] += part
                        kept[t.name] = kept[t.name][:i] + \
                            kept[t.name][i + chunk:]
                    else:
                        self.insert_rows(t, part)
                        i += chunk
                if chunk == 1:
                    break
                chunk //= 2
        final = self.same_mismatch(q, m.cat)
        if final is not None:
            m.pg, m.ta = final
        for t in used:
            self.insert_rows(t, deleted[t.name])
        note = "minimised" if time.time() < end else \
            "partly minimised (out of time)"
        return kept, note

    def delete_rows(self, t, rows):
        sql = "DELETE FROM %s WHERE id IN (%s)" % (
            t.name, ", ".join(r[0] for r in rows))
        self.pg.must(sql)
        self.ta.must(sql)

    def insert_rows(self, t, rows):
        for i in range(0, len(rows), 50):
            sql = t.insert(rows[i:i + 50])
            self.pg.must(sql)
            self.ta.must(sql)

    def write(self, m, kept, note):
        sql = m.q.render()
        used = [t for t in self.tables if re.search(r"\b%s\b" % t.name, sql)]
        slug = re.sub(r"[^a-z0-9]+", "-", m.cat.lower()).strip("-")[:50]
        path = os.path.join(self.args.out, "seed%d-q%05d-%s.sql" % (
            self.args.seed, m.n, slug))
        lines = [
            "-- difftest mismatch: %s" % m.cat,
            "-- seed %d, query %d, feature %s (uses %s); %s" % (
                self.args.seed, m.n, m.primary, ", ".join(m.feats), note),
            "-- Run on Talus as is; on PostgreSQL 15, use the CREATE TABLE "
            "statements in the comment block instead.",
            "",
            "DROP TABLE IF EXISTS %s;" % ", ".join(t.name for t in used),
        ]
        lines += ["%s;" % t.ddl(True) for t in used]
        lines += ["/* PostgreSQL:"] + ["%s;" % t.ddl(False) for t in used]
        lines += ["*/", ""]
        for t in used:
            rows = kept[t.name] if kept is not None else t.rows
            for i in range(0, len(rows), 20):
                lines.append(t.insert(rows[i:i + 20]) + ";")
        lines += ["", sql + ";", "", "-- PostgreSQL:"]
        lines += ["--   " + s for s in m.pg.describe()]
        lines += ["-- Talus:"]
        lines += ["--   " + s for s in m.ta.describe()]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


def parse_features(spec):
    if spec.startswith("@"):
        with open(spec[1:], encoding="utf-8") as f:
            names = [re.split(r"#", line, 1)[0].strip() for line in f]
        names = [n for n in names if n]
    elif spec == "all":
        names = list(FEATURES)
    else:
        names = [n.strip() for n in spec.split(",") if n.strip()]
    bad = [n for n in names if n not in FEATURES]
    if all(n in MODIFIERS for n in names):
        names.append("select")
    if bad or not names:
        sys.exit("difftest: unknown features %s; known: %s" % (
            ", ".join(bad) or "(none given)", ", ".join(FEATURES)))
    return names


def main():
    ap = argparse.ArgumentParser(
        description="Differential SQL test of Talus against PostgreSQL 15.",
        epilog="features: " + "; ".join("%s: %s" % kv
                                         for kv in FEATURES.items()))
    ap.add_argument("--talus", type=int, required=True,
                    help="the Talus router's port on 127.0.0.1")
    ap.add_argument("--pg", type=int, required=True,
                    help="PostgreSQL's port on 127.0.0.1 (user postgres)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--time-limit", type=float, default=0,
                    help="stop generating queries after this many seconds")
    ap.add_argument("--features", default="all",
                    help="'all', a comma list, or @FILE (one per line)")
    ap.add_argument("--known", help="allow-list of known differences")
    ap.add_argument("--out", help="write the mismatches here")
    ap.add_argument("--reduce-time", type=float, default=300,
                    help="seconds for minimising all mismatches (--out)")
    ap.add_argument("--reduce-each", type=float, default=30,
                    help="seconds for minimising one mismatch")
    ap.add_argument("--max-files", type=int, default=10,
                    help="mismatch files per category (0: all)")
    ap.add_argument("--shards", type=int, default=6,
                    help="the cluster's shard count (range boundaries)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every query and its outcome")
    args = ap.parse_args()
    features = parse_features(args.features)
    runner = Runner(args, features)
    try:
        runner.setup()
    except (SetupError, psycopg2.Error) as e:
        print("difftest: setup failed: %s" % e)
        return 2
    try:
        return runner.run()
    except SetupError as e:
        print("difftest: %s" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
