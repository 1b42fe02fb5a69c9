// The failure webhook (CERTDEPLOY_WEBHOOK_URL): every transition to `failed`
// reaches the receiver at least once, even when the receiver is down for a
// while and the server restarts in between; redirects are not followed.
//
// The receiver stays down WEBHOOK_TEST_DOWN_SECONDS (default 10 s, short for
// CI; set 60 for the "receiver down for a minute" case of the issue). Run:
//   node --test tests/api/webhook.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startServer } from './lib/server.mjs';

const DOWN_SECONDS = Number(process.env.WEBHOOK_TEST_DOWN_SECONDS || 10);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A free loopback port, closed again: the receiver is down until started on it. */
async function freePort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A webhook receiver on 127.0.0.1:port; records every request. mode: 'ok' | 'redirect'. */
async function startReceiver(port) {
  const got = [];
  const rx = { got, mode: 'ok' };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (rx.mode === 'redirect' && req.url.startsWith('/hook')) {
        res.writeHead(307, { Location: '/elsewhere' });
      } else {
        res.writeHead(req.url.startsWith('/hook') ? 204 : 200);
      }
      res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  rx.stop = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  /** Distinct deliveries to /hook by event id (the last body of each). */
  rx.events = () => {
    const m = new Map();
    for (const g of got) if (g.url.startsWith('/hook')) m.set(g.headers['x-certdeploy-event-id'], g);
    return m;
  };
  return rx;
}

async function waitFor(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

let fleet;
let srv2;
let rx;
let port;
let keyDir;
let env;
let held; // {deviceId, profileId} of the first test's verified-then-failed device

before(async () => {
  port = await freePort();
  keyDir = mkdtempSync(join(tmpdir(), 'certdeploy-webhook-key-'));
  env = {
    // the query stands for a secret in the URL: it must never be logged
    CERTDEPLOY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook?key=s3cret-in-url`,
    // outside the state dir, so the restarted server can still unseal the CA token
    CERTDEPLOY_MASTER_KEY_FILE: join(keyDir, 'master.key'),
  };
  fleet = await startFleet({ env });
});

after(async () => {
  await rx?.stop();
  await srv2?.stop();
  await fleet?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

test('every failure reaches a receiver that was down, across a server restart', async () => {
  const { srv, mock } = fleet;
  const started = Date.now();
  const expected = new Map(); // "device/profile/generation" -> what the event must say

  // 1. a verified device whose resend the CA refuses: a failure with a valid installed certificate
  const heldDev = await fleet.device('SN-WH-HELD');
  const heldProfile = await fleet.profileFor([heldDev], { name: 'wh-held' });
  held = { deviceId: heldDev.deviceId, profileId: heldProfile.id };
  const verified = await fleet.until(heldDev.deviceId, heldProfile.id, (d) => d.status === 'verified', { dev: heldDev, what: 'verified' });
  await mock.faults({ status: 403, count: 1, message: 'Seat limit reached for wh-held' });
  const resent = await srv.request('POST', `/api/v1/devices/${heldDev.deviceId}/profiles/${heldProfile.id}/resend`);
  assert.equal(resent.status, 202, resent.text);
  let dep = await fleet.until(heldDev.deviceId, heldProfile.id, (d) => d.status === 'failed', { what: 'failed resend' });
  expected.set(`${heldDev.deviceId}/${heldProfile.id}/${dep.generation}`, {
    dev: heldDev, profile: heldProfile, source: 'server', detail: /^Couldn't get certificate from Mock TLM: Seat limit reached for wh-held/,
    installed: verified.installed_certificate,
  });

  // 2. the CA refuses a profile for three devices
  const devs = [];
  for (let i = 0; i < 3; i++) devs.push(await fleet.device(`SN-WH-${i}`));
  await mock.faults({ status: 403, count: 3, message: 'Seat limit reached for wh-batch' });
  const batch = await fleet.profileFor(devs, { name: 'wh-batch' });
  for (const d of devs) {
    dep = await fleet.until(d.deviceId, batch.id, (x) => x.status === 'failed', { what: 'CA refusal' });
    expected.set(`${d.deviceId}/${batch.id}/${dep.generation}`, {
      dev: d, profile: batch, source: 'server', detail: /^Couldn't get certificate from Mock TLM: Seat limit reached for wh-batch/, installed: null,
    });
  }

  // 3. a device reports an install error
  const broken = await fleet.device('SN-WH-BROKEN');
  const devProfile = await fleet.profileFor([broken], { name: 'wh-device' });
  await fleet.until(broken.deviceId, devProfile.id, (d) => d.issued_certificate !== null, { what: 'issued' });
  const r = await broken.run(['checkin', '--fail-install', devProfile.id]);
  assert.notEqual(r.code, 0);
  dep = await fleet.deployment(broken.deviceId, devProfile.id);
  assert.equal(dep.status, 'failed');
  expected.set(`${broken.deviceId}/${devProfile.id}/${dep.generation}`, {
    dev: broken, profile: devProfile, source: 'device', detail: /simulated install failure/, installed: null,
  });

  // one outbox row per failure, in the same transactions; delivery was tried and failed
  assert.equal(Number(srv.sql('SELECT count(*) FROM webhook_outbox')), expected.size);
  await waitFor(() => Number(srv.sql('SELECT count(*) FROM webhook_outbox WHERE attempts > 0')) === expected.size,
    15000, 'a failed delivery attempt for every event');
  assert.equal(Number(srv.sql('SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NOT NULL')), 0);
  const warn = srv.logLines().find((l) => l.msg === 'webhook delivery failed; will retry');
  assert.ok(warn, 'each failed delivery is logged at warn');
  assert.equal(warn.level, 'warn');
  assert.match(warn.error, /connect|refused/i);

  // from the last failure on: down half the period, restart the server with
  // events pending, down the rest
  const downSince = Date.now();
  await sleep(Math.max(0, DOWN_SECONDS * 500 - (Date.now() - downSince)));
  const before = srv.logs();
  await srv.stop();
  srv2 = await startServer({ conninfo: srv.conninfo, token: srv.token, env });
  const rest = Math.max(0, DOWN_SECONDS * 1000 - (Date.now() - downSince));
  await sleep(rest);
  assert.equal(Number(srv2.sql('SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL')), expected.size, 'nothing lost while down');

  // the receiver comes back: every event arrives
  rx = await startReceiver(port);
  // backoff caps at 5 min; after DOWN_SECONDS of failures the next try is at most ~2x that away
  await waitFor(() => rx.events().size >= expected.size, DOWN_SECONDS * 2000 + 30000, 'every event');
  await waitFor(() => Number(srv2.sql('SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL')) === 0,
    10000, 'every event marked delivered');

  const seen = new Set();
  for (const [id, g] of rx.events()) {
    assert.equal(g.method, 'POST');
    assert.match(g.headers['content-type'], /^application\/json/);
    assert.match(id, UUID);
    const ev = JSON.parse(g.body);
    assert.deepEqual(Object.keys(ev).sort(), ['at', 'attempts', 'detail', 'device', 'event', 'failure_source',
      'generation', 'id', 'installed_certificate', 'profile'].sort());
    assert.equal(ev.event, 'deployment.failed');
    assert.equal(ev.id, id, 'the body id is the X-Certdeploy-Event-Id');
    assert.match(ev.at, RFC3339);
    assert.ok(Date.parse(ev.at) >= started - 2000 && Date.parse(ev.at) <= Date.now());
    const key = `${ev.device.id}/${ev.profile.id}/${ev.generation}`;
    const want = expected.get(key);
    assert.ok(want, `unexpected event ${key}: ${g.body}`);
    assert.ok(!seen.has(key), `two event ids for one failure ${key}`);
    seen.add(key);
    assert.deepEqual(ev.device, { id: want.dev.deviceId, serial: want.dev.serial, name: `Laptop ${want.dev.serial}` });
    assert.deepEqual(ev.profile, { id: want.profile.id, name: want.profile.name });
    assert.equal(ev.failure_source, want.source);
    assert.match(ev.detail, want.detail);
    assert.equal(typeof ev.attempts, 'number');
    if (want.installed) {
      assert.deepEqual(ev.installed_certificate, {
        serial: want.installed.serial, not_after: want.installed.not_after, valid: true,
      });
    } else {
      assert.equal(ev.installed_certificate, null);
    }
  }
  assert.deepEqual([...seen].sort(), [...expected.keys()].sort(), 'exactly the expected failures');
  // a redelivered event (at least once) carries the same bytes
  for (const g of rx.got) assert.equal(g.body, rx.events().get(g.headers['x-certdeploy-event-id']).body);

  // the URL's secret part is never logged, by either instance
  for (const text of [before, srv2.logs()]) assert.ok(!text.includes('s3cret-in-url'), 'webhook URL secret in the log');
  assert.ok(srv2.logLines().some((l) => l.msg === 'webhook event delivered'));
});

test('a redirect is not followed: the event is retried until a 2xx', async () => {
  const srv = srv2;
  const { deviceId, profileId } = held;
  rx.mode = 'redirect';
  // a new failure of the first device, through the restarted server
  await fleet.mock.faults({ status: 403, count: 1, message: 'Seat limit reached, again' });
  const r = await srv.request('POST', `/api/v1/devices/${deviceId}/profiles/${profileId}/resend`);
  assert.equal(r.status, 202, r.text);
  const generation = r.json.generation;
  const row = () => srv.sql(`SELECT id || ' ' || attempts || ' ' || (delivered_at IS NOT NULL) || ' ' || last_error
    FROM webhook_outbox WHERE body::json->'device'->>'id' = '${deviceId}' AND (body::json->>'generation')::int = ${generation}`);
  await waitFor(() => Number(row().split(' ')[1] || 0) >= 2, 20000, 'two redirected attempts');
  const [id, , delivered, ...error] = row().split(' ');
  assert.equal(delivered, 'false');
  assert.match(error.join(' '), /^HTTP 307 \(redirects are not followed\)/);
  assert.ok(!rx.got.some((g) => g.url === '/elsewhere'), 'the redirect was followed');
  rx.mode = 'ok';
  await waitFor(() => rx.events().has(id) && row().split(' ')[2] === 'true', 20000, 'delivery after the redirects stop');
  const ev = JSON.parse(rx.events().get(id).body);
  assert.equal(ev.generation, generation);
  assert.match(ev.detail, /Seat limit reached, again/);
  assert.equal(ev.installed_certificate.valid, true);
});
