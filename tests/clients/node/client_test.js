#!/usr/bin/env node
// node-postgres (pg) cases of the client suite: each case drives the real
// driver against the server named by PGHOST/PGPORT/PGUSER/PGDATABASE and
// asserts the results it gets back. Usage:
//   node client_test.js [case ...]      (no case: all of them)
// Prints `ok <case>` or `FAIL <case>: <reason>` per case; exits 1 if any
// failed, 2 on an unknown case name. See tests/clients/README.md.
'use strict';

const assert = require('assert');
const { Client, Pool } = require('pg');
const { pipeline } = require('stream/promises');
const { Readable, Writable } = require('stream');
const copyStreams = require('pg-copy-streams');

const connOpts = {
  host: process.env.PGHOST || '127.0.0.1',
  port: parseInt(process.env.PGPORT || '5432', 10),
  user: process.env.PGUSER || 'postgres',
  database: process.env.PGDATABASE || process.env.PGUSER || 'postgres',
  connectionTimeoutMillis: 10000,
};

const CASE_TIMEOUT_MS = 30000;

let seq = 0;
// A table name no other case or concurrent run uses.
function tableName(caseName) {
  seq++;
  return `cl_node_${caseName}_${process.pid}_${seq}`;
}

// Run @body(client, table) on a fresh connection with a fresh table
// (id int primary key, name text, v bigint), dropped afterwards.
async function withTable(caseName, body) {
  const client = new Client(connOpts);
  await client.connect();
  const t = tableName(caseName);
  try {
    await client.query(
      `CREATE TABLE ${t} (id int PRIMARY KEY, name text, v bigint)`);
    let failure = null;
    try {
      await body(client, t);
    } catch (e) {
      failure = e;
    }
    // A DROP that fails after the case failed must not hide why it failed.
    try {
      await client.query(`DROP TABLE ${t}`);
    } catch (e) {
      if (!failure) throw e;
    }
    if (failure) throw failure;
  } finally {
    await client.end();
  }
}

const cases = {
  // Simple Query protocol: DDL, multi-row INSERT, SELECT with typed results.
  simple_query: () => withTable('simple_query', async (c, t) => {
    const ins = await c.query(
      `INSERT INTO ${t} (id, name, v) VALUES (1, 'one', 10), (2, 'two', NULL)`);
    assert.strictEqual(ins.command, 'INSERT');
    assert.strictEqual(ins.rowCount, 2);
    const r = await c.query(`SELECT id, name, v FROM ${t} ORDER BY id`);
    assert.strictEqual(r.command, 'SELECT');
    assert.deepStrictEqual(r.fields.map((f) => f.name), ['id', 'name', 'v']);
    // int4 comes back as a JS number; int8 as a string (pg's default).
    assert.deepStrictEqual(r.rows, [
      { id: 1, name: 'one', v: '10' },
      { id: 2, name: 'two', v: null },
    ]);
    const upd = await c.query(`UPDATE ${t} SET v = 20 WHERE id = 2`);
    assert.strictEqual(upd.rowCount, 1);
    const del = await c.query(`DELETE FROM ${t} WHERE id = 1`);
    assert.strictEqual(del.rowCount, 1);
    const left = await c.query(`SELECT id, v FROM ${t}`);
    assert.deepStrictEqual(left.rows, [{ id: 2, v: '20' }]);
  }),

  // Unnamed extended-protocol statements with $1/$2 ints, strings, null.
  params: () => withTable('params', async (c, t) => {
    const sql = `INSERT INTO ${t} (id, name, v) VALUES ($1, $2, $3)`;
    await c.query(sql, [1, 'one', 100]);
    await c.query(sql, [2, "it's \"two\"", null]);
    await c.query(sql, [3, null, '9007199254740993']);
    const r = await c.query(
      `SELECT id, name, v FROM ${t} WHERE id >= $1 AND id <= $2 ORDER BY id`,
      [1, 3]);
    assert.deepStrictEqual(r.rows, [
      { id: 1, name: 'one', v: '100' },
      { id: 2, name: "it's \"two\"", v: null },
      { id: 3, name: null, v: '9007199254740993' },
    ]);
    const byName = await c.query(`SELECT id FROM ${t} WHERE name = $1`,
      ["it's \"two\""]);
    assert.deepStrictEqual(byName.rows, [{ id: 2 }]);
    const nulls = await c.query(`SELECT count(*) AS n FROM ${t} WHERE v IS NULL`);
    assert.strictEqual(nulls.rows[0].n, '1');
  }),

  // A named prepared statement parsed once and executed several times.
  prepared: () => withTable('prepared', async (c, t) => {
    for (let i = 1; i <= 5; i++) {
      const r = await c.query({
        name: `ins_${t}`,
        text: `INSERT INTO ${t} (id, name, v) VALUES ($1, $2, $3)`,
        values: [i, `n${i}`, i * 1000],
      });
      assert.strictEqual(r.rowCount, 1);
    }
    for (let i = 1; i <= 5; i++) {
      const r = await c.query({
        name: `sel_${t}`,
        text: `SELECT name, v FROM ${t} WHERE id = $1`,
        values: [i],
      });
      assert.deepStrictEqual(r.rows, [{ name: `n${i}`, v: String(i * 1000) }]);
    }
  }),

  // A Pool of 10 clients inserting and reading back concurrently.
  pool: () => withTable('pool', async (c, t) => {
    const pool = new Pool({ ...connOpts, max: 10 });
    try {
      const jobs = [];
      for (let w = 0; w < 10; w++) {
        jobs.push((async () => {
          const pc = await pool.connect();
          try {
            for (let i = 0; i < 10; i++) {
              const id = w * 100 + i;
              await pc.query(
                `INSERT INTO ${t} (id, name, v) VALUES (${id}, 'w${w}', ${i})`);
              const r = await pc.query(`SELECT name, v FROM ${t} WHERE id = ${id}`);
              assert.deepStrictEqual(r.rows, [{ name: `w${w}`, v: String(i) }]);
            }
          } finally {
            pc.release();
          }
        })());
      }
      await Promise.all(jobs);
      assert.strictEqual(pool.totalCount, 10);
    } finally {
      await pool.end();
    }
    const r = await c.query(
      `SELECT count(*) AS n, sum(v) AS s FROM ${t}`);
    assert.deepStrictEqual(r.rows, [{ n: '100', s: '450' }]);
  }),

  // Errors carry their SQLSTATE, and the connection still works afterwards.
  error_recovery: () => withTable('error_recovery', async (c, t) => {
    await c.query(`INSERT INTO ${t} (id, name, v) VALUES (1, 'a', 1)`);
    await assert.rejects(
      c.query(`INSERT INTO ${t} (id, name, v) VALUES (1, 'b', 2)`),
      (e) => e.code === '23505');
    await assert.rejects(c.query('SELEC 1'), (e) => e.code === '42601');
    await assert.rejects(c.query(`SELECT nope FROM ${t}`),
      (e) => e.code === '42703');
    const r = await c.query(`SELECT id, name FROM ${t}`);
    assert.deepStrictEqual(r.rows, [{ id: 1, name: 'a' }]);
    await c.query(`INSERT INTO ${t} (id, name, v) VALUES (2, 'b', 2)`);
    const n = await c.query(`SELECT count(*) AS n FROM ${t}`);
    assert.strictEqual(n.rows[0].n, '2');
  }),

  // rowMode 'array': rows as arrays in column order.
  row_mode_array: () => withTable('row_mode_array', async (c, t) => {
    await c.query(`INSERT INTO ${t} (id, name, v) VALUES (1, 'x', 5), (2, 'y', 6)`);
    const r = await c.query({
      text: `SELECT v, name, id FROM ${t} ORDER BY id`,
      rowMode: 'array',
    });
    assert.deepStrictEqual(r.fields.map((f) => f.name), ['v', 'name', 'id']);
    assert.deepStrictEqual(r.rows, [['5', 'x', 1], ['6', 'y', 2]]);
  }),

  // COPY FROM STDIN and COPY TO STDOUT through pg-copy-streams.
  copy: () => withTable('copy', async (c, t) => {
    const input = '1\tone\t10\n2\t\\N\t20\n3\tthree\t\\N\n';
    const inStream = c.query(copyStreams.from(
      `COPY ${t} (id, name, v) FROM STDIN`));
    await pipeline(Readable.from([input]), inStream);
    assert.strictEqual(inStream.rowCount, 3);
    const r = await c.query(`SELECT id, name, v FROM ${t} ORDER BY id`);
    assert.deepStrictEqual(r.rows, [
      { id: 1, name: 'one', v: '10' },
      { id: 2, name: null, v: '20' },
      { id: 3, name: 'three', v: null },
    ]);
    const chunks = [];
    const outStream = c.query(copyStreams.to(
      `COPY (SELECT id, name, v FROM ${t} ORDER BY id) TO STDOUT`));
    await pipeline(outStream, new Writable({
      write(chunk, enc, cb) { chunks.push(chunk); cb(); },
    }));
    assert.strictEqual(Buffer.concat(chunks).toString('utf8'), input);
  }),

  // BEGIN ... ROLLBACK undoes, BEGIN ... COMMIT keeps; another client sees
  // only committed rows.
  transactions: () => withTable('transactions', async (c, t) => {
    const other = new Client(connOpts);
    await other.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${t} VALUES (1, 'a', 1), (2, 'b', 2)`);
      let r = await c.query(`SELECT count(*)::int AS n FROM ${t}`);
      assert.strictEqual(r.rows[0].n, 2);
      r = await other.query(`SELECT count(*)::int AS n FROM ${t}`);
      assert.strictEqual(r.rows[0].n, 0);
      await c.query('ROLLBACK');
      r = await c.query(`SELECT count(*)::int AS n FROM ${t}`);
      assert.strictEqual(r.rows[0].n, 0);
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${t} VALUES ($1, $2, $3)`, [3, 'c', 3]);
      await c.query('COMMIT');
      r = await other.query(`SELECT id FROM ${t}`);
      assert.deepStrictEqual(r.rows, [{ id: 3 }]);
    } finally {
      await other.end();
    }
  }),
};

async function main() {
  const names = process.argv.slice(2);
  const run = names.length ? names : Object.keys(cases);
  let failed = 0;
  for (const name of run) {
    if (!cases[name]) {
      console.log(`FAIL ${name}: no such case`);
      process.exit(2);
    }
    let timer;
    try {
      // A server that never answers fails the case instead of hanging it.
      await Promise.race([
        cases[name](),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(
            `no result in ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
        }),
      ]);
      console.log(`ok ${name}`);
    } catch (e) {
      failed++;
      const why = (e && (e.code ? `${e.code} ` : '') + (e.message || e)) || e;
      console.log(`FAIL ${name}: ${String(why).replace(/\s+/g, ' ')}`);
    } finally {
      clearTimeout(timer);
    }
  }
  // Connections of a case that timed out may still be open: exit anyway.
  process.exit(failed ? 1 : 0);
}

main();
