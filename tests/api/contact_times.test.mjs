// Devices' last contact times (devices.last_checkin_at): a check-in only
// reads the database; the contact time is written in batches about once a
// second (server/checkin_touch.c), by the database's clock, never backwards,
// and what is held is written at shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv;
let secret;
before(async () => {
  srv = await startServer();
  const s = await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: 'contact' } });
  assert.equal(s.status, 201, s.text);
  secret = s.json.secret;
});
after(async () => { await srv?.stop(); });

async function enroll(s, serial) {
  const r = await s.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: secret, serial, name: serial } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
const checkin = (s, dev) => s.request('POST', '/device/v1/checkin', { token: dev.device_token, body: { installed: [] } });
const lastCheckin = (id) => srv.sql(`SELECT coalesce(to_char(last_checkin_at, 'YYYY-MM-DD HH24:MI:SS.US'), '') FROM devices WHERE id = '${id}'`);

async function waitFor(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('a check-in is recorded as contact within seconds, by the database clock', async () => {
  const dev = await enroll(srv, 'CONTACT-1');
  assert.equal(lastCheckin(dev.device_id), '', 'enrolled, never checked in');
  const r = await checkin(srv, dev);
  assert.equal(r.status, 200, r.text);
  await waitFor('last_checkin_at', () => lastCheckin(dev.device_id));
  const lag = Number(srv.sql(`SELECT extract(epoch FROM now() - last_checkin_at) FROM devices WHERE id = '${dev.device_id}'`));
  assert.ok(lag >= 0 && lag < 5, `contact time is the check-in's, give or take the batch (lag ${lag} s)`);
  const listed = await srv.request('GET', `/api/v1/devices/${dev.device_id}`);
  assert.match(listed.json.last_checkin_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('contact times only move forward, and a refused token records nothing', async () => {
  const dev = await enroll(srv, 'CONTACT-2');
  assert.equal((await checkin(srv, dev)).status, 200);
  const first = await waitFor('first contact', () => lastCheckin(dev.device_id));
  // a later time already stored (another instance wrote a newer batch) is kept
  srv.sql(`UPDATE devices SET last_checkin_at = now() + interval '1 hour' WHERE id = '${dev.device_id}'`);
  const future = lastCheckin(dev.device_id);
  assert.equal((await checkin(srv, dev)).status, 200);
  await sleep(2500);
  assert.equal(lastCheckin(dev.device_id), future, 'an older contact does not overwrite a newer one');
  srv.sql(`UPDATE devices SET last_checkin_at = '${first}' WHERE id = '${dev.device_id}'`);
  const bad = await srv.request('POST', '/device/v1/checkin', { token: `${dev.device_token}x`, body: { installed: [] } });
  assert.equal(bad.status, 401);
  await sleep(2500);
  assert.equal(lastCheckin(dev.device_id), first, 'a wrong token is not contact');
});

test('many devices in one second are written together; what is held is written at shutdown', async () => {
  const other = await startServer({ conninfo: srv.conninfo });
  try {
    const devs = [];
    for (let i = 0; i < 20; i++) devs.push(await enroll(other, `CONTACT-MANY-${i}`));
    const rs = await Promise.all(devs.map((d) => checkin(other, d)));
    assert.deepEqual(rs.map((r) => r.status), devs.map(() => 200));
  } finally {
    await other.stop(); // SIGTERM right away: the batch must not be lost
  }
  const n = srv.sql("SELECT count(*) FROM devices WHERE serial LIKE 'CONTACT-MANY-%' AND last_checkin_at IS NOT NULL");
  assert.equal(n, '20');
});
