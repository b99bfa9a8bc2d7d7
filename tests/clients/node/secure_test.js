// node-pg over TLS with SCRAM-SHA-256, for tests/integration/test_security.c:
// verify-full against the test's CA, with and without channel binding
// (SCRAM-SHA-256-PLUS), and a wrong password refused with 28P01.
// Environment: TALUS_PORT, TALUS_CA (CA certificate file), TALUS_USER,
// TALUS_PASSWORD. Prints one line per case; exits 1 on a failure.
'use strict';
const { Client } = require('pg');
const fs = require('fs');

const base = {
  host: '127.0.0.1',
  port: Number(process.env.TALUS_PORT),
  user: process.env.TALUS_USER,
  database: 'talus',
  ssl: { ca: fs.readFileSync(process.env.TALUS_CA), servername: 'localhost' },
};

(async () => {
  for (const cb of [false, true]) {
    const c = new Client({ ...base, password: process.env.TALUS_PASSWORD,
      enableChannelBinding: cb });
    await c.connect();
    const r = await c.query('SELECT current_user AS u');
    if (r.rows[0].u !== base.user) throw new Error('current_user ' + r.rows[0].u);
    console.log(`ok node-pg verify-full channel_binding=${cb}`);
    await c.end();
  }
  const bad = new Client({ ...base, password: 'wrong' });
  try {
    await bad.connect();
    throw new Error('a wrong password connected');
  } catch (e) {
    if (e.code !== '28P01') throw e;
    console.log('ok node-pg wrong password 28P01');
  }
})().catch((e) => {
  console.error('FAIL node-pg', e);
  process.exit(1);
});
