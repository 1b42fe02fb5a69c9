// Connection threads never wait on PostgreSQL (server/http.c,
// server/offload.c): API requests stuck behind a lock occupy handler
// threads only, so check-ins and /healthz on any connection still answer,
// and the stuck requests complete once the lock goes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import os from 'node:os';
import { startServer, request } from './lib/server.mjs';
import { psqlSession } from './lib/psql_session.mjs';

const HANDLERS = 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv;
let dev;
before(async () => {
  srv = await startServer({ env: { CERTDEPLOY_HTTP_THREADS: String(HANDLERS) } });
  const s = await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: 'threads' } });
  assert.equal(s.status, 201, s.text);
  const e = await srv.request('POST', '/device/v1/enroll', {
    token: null, body: { enroll_secret: s.json.secret, serial: 'THREADS-1', name: 'threads' },
  });
  assert.equal(e.status, 201, e.text);
  dev = e.json;
});
after(async () => { await srv?.stop(); });

// a request on a connection of its own, so they spread over all connection threads
const fresh = (method, path, o) => {
  const agent = new https.Agent({ keepAlive: false, ca: srv.caPem });
  return request(srv.url, agent, method, path, { token: srv.token, ...o }).finally(() => agent.destroy());
};
function within(ms, p, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('requests waiting on a lock hold up no check-in, and finish once it is released', async () => {
  const lock = psqlSession(srv.conninfo);
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE enroll_secrets IN ACCESS EXCLUSIVE MODE');
    // more stuck requests than handler threads, and than connection threads
    const stuckCount = Math.max(8, 2 * os.cpus().length + HANDLERS);
    // one at a time: a thread that waited would accept no more connections,
    // so the next one would go to another thread, until every thread waited
    const stuck = [];
    let settled = 0;
    for (let i = 0; i < stuckCount; i++) {
      const p = fresh('GET', '/api/v1/enroll-secrets');
      p.then(() => { settled++; }, () => { settled++; });
      stuck.push(p);
      await sleep(100);
    }
    assert.equal(settled, 0, 'the lock holds the listings back');
    const waiting = () => lock.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
    for (let end = Date.now() + 10000; (await waiting()) !== String(HANDLERS) && Date.now() < end;) await sleep(100);
    assert.equal(await waiting(), String(HANDLERS), 'one listing waits in each handler thread, the rest in their queue');

    const checkins = [];
    for (let i = 0; i < 24; i++) {
      checkins.push(fresh('POST', '/device/v1/checkin', { token: dev.device_token, body: { installed: [] } }));
    }
    const answers = await within(10000, Promise.all(checkins), 'check-ins during the lock');
    assert.deepEqual(answers.map((r) => r.status), checkins.map(() => 200));
    const health = await within(5000, Promise.all([1, 2, 3, 4].map(() => fresh('GET', '/healthz', { token: null }))), '/healthz');
    assert.deepEqual(health.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(settled, 0, 'still held by the lock');

    await lock.query('COMMIT');
    const done = await within(20000, Promise.all(stuck), 'the listings after the lock');
    assert.deepEqual(done.map((r) => r.status), stuck.map(() => 200));
  } finally {
    lock.close();
  }
});
