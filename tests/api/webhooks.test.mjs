// Webhook subscriptions (POST /api/v1/webhooks): each subscription gets the
// events it asked for, signed with its own secret, at least once and
// independently of the others, across a server restart. Run:
//   node --test tests/api/webhooks.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startServer } from './lib/server.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A receiver on 127.0.0.1 that answers `status` (a function of the request count). */
async function startReceiver(status = () => 204) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status(got.length));
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    got,
    url: `http://127.0.0.1:${server.address().port}/hook`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

async function waitFor(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** What a receiver does: recompute the HMAC over the raw body and compare. */
function signatureValid(secret, g) {
  const want = 'sha256=' + createHmac('sha256', secret).update(g.body).digest('hex');
  return g.headers['x-certdeploy-signature'] === want;
}

let fleet;
let srv2;
let keyDir;
let env;
const receivers = [];

before(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'certdeploy-webhooks-key-'));
  // outside the state dir, so the restarted server opens the same secrets
  env = { CERTDEPLOY_MASTER_KEY_FILE: join(keyDir, 'master.key') };
  fleet = await startFleet({ env });
});

after(async () => {
  for (const r of receivers) await r.stop();
  await srv2?.stop();
  await fleet?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

test('subscriptions: create, list, update, delete; bad input is a 400 naming the field', async () => {
  const { srv } = fleet;
  const created = await srv.request('POST', '/api/v1/webhooks', {
    body: { url: 'https://hooks.example.com/certdeploy', events: ['deployment.failed', 'certificate.revoked'] },
  });
  assert.equal(created.status, 201, created.text);
  const w = created.json;
  assert.deepEqual(Object.keys(w).sort(), ['created_at', 'events', 'id', 'secret', 'url']);
  assert.match(w.id, UUID);
  assert.match(w.secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
  assert.deepEqual(w.events, ['deployment.failed', 'certificate.revoked']);
  assert.ok(!srv.sql('SELECT secret_sealed FROM webhook_subscriptions').includes(w.secret), 'secret sealed at rest');

  let list = await srv.request('GET', '/api/v1/webhooks');
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.webhooks, [{ id: w.id, url: w.url, events: w.events, created_at: w.created_at }],
    'the list never shows the secret');

  const patched = await srv.request('PATCH', `/api/v1/webhooks/${w.id}`, { body: { events: ['deployment.recovered'] } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.events, ['deployment.recovered']);
  assert.equal(patched.json.url, w.url);

  const bad = [
    [{ url: 'ftp://hooks.example.com/x', events: ['deployment.failed'] }, 'url', /http:\/\/ or https:\/\//],
    [{ url: 'not a url', events: ['deployment.failed'] }, 'url', /http/],
    [{ url: `https://127.0.0.1:${srv.port}/api/v1/status`, events: ['deployment.failed'] }, 'url', /this server itself/],
    [{ url: `https://localhost:${srv.port}/`, events: ['deployment.failed'] }, 'url', /this server itself/],
    [{ url: 'https://hooks.example.com/', events: ['deployment.exploded'] }, 'events[0]', /Unknown event deployment\.exploded/],
    [{ url: 'https://hooks.example.com/', events: [] }, 'events', /at least one event/],
    [{ url: 'https://hooks.example.com/' }, 'events', /./],
  ];
  for (const [body, field, message] of bad) {
    const r = await srv.request('POST', '/api/v1/webhooks', { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.field, field, r.text);
    assert.match(r.json.error.message, message);
  }
  const r = await srv.request('PATCH', `/api/v1/webhooks/${w.id}`, { body: { url: `http://[::1]:${srv.port}/` } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'url');

  assert.equal((await srv.request('DELETE', `/api/v1/webhooks/${w.id}`)).status, 204);
  assert.equal((await srv.request('DELETE', `/api/v1/webhooks/${w.id}`)).status, 404);
  assert.equal((await srv.request('PATCH', `/api/v1/webhooks/${w.id}`, { body: { events: ['deployment.failed'] } })).status, 404);
  list = await srv.request('GET', '/api/v1/webhooks');
  assert.deepEqual(list.json.webhooks, []);
});

test('each subscription gets its own events, signed; a failing receiver gets them again, across a restart', async () => {
  const { srv, mock } = fleet;
  let flakyUp = false;
  const flaky = await startReceiver(() => (flakyUp ? 204 : 500)); // fails until told otherwise
  const steady = await startReceiver();
  receivers.push(flaky, steady);
  const sub = async (url, events) => {
    const r = await srv.request('POST', '/api/v1/webhooks', { body: { url, events } });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const failedOnly = await sub(flaky.url, ['deployment.failed']);
  const both = await sub(steady.url, ['deployment.failed', 'deployment.recovered']);

  const dev = await fleet.device('SN-WHS-1');
  await mock.faults({ status: 403, count: 1, message: 'Seat limit reached for whs' });
  const profile = await fleet.profileFor([dev], { name: 'whs' });
  const failed = await fleet.until(dev.deviceId, profile.id, (d) => d.status === 'failed', { what: 'CA refusal', timeoutMs: 90000 });

  // one delivery row per subscription, written with the failure
  assert.equal(Number(srv.sql("SELECT count(*) FROM webhook_deliveries WHERE event = 'deployment.failed'")), 2);
  await waitFor(() => steady.got.length >= 1, 60000, 'the steady receiver');
  await waitFor(() => flaky.got.length >= 2, 60000, 'two failed tries at the flaky receiver');
  const ev = JSON.parse(steady.got[0].body);
  assert.equal(ev.event, 'deployment.failed');
  assert.equal(ev.id, steady.got[0].headers['x-certdeploy-event-id']);
  assert.deepEqual(ev.device, { id: dev.deviceId, serial: dev.serial, name: `Laptop ${dev.serial}` });
  assert.equal(ev.profile.id, profile.id);
  assert.equal(ev.generation, failed.generation);
  assert.ok(signatureValid(both.secret, steady.got[0]), 'steady: signature checks out');
  assert.ok(!signatureValid(failedOnly.secret, steady.got[0]), 'each subscription signs with its own secret');
  const flakyIds = new Set(flaky.got.map((g) => g.headers['x-certdeploy-event-id']));
  assert.equal(flakyIds.size, 1, 'one event id across retries');
  assert.ok(!flakyIds.has(ev.id), 'each subscription has its own event id');
  for (const g of flaky.got) {
    assert.ok(signatureValid(failedOnly.secret, g));
    assert.equal(g.body, flaky.got[0].body, 'a retry carries the same bytes');
  }

  // an admin resend verifies it again: deployment.recovered, only to the subscriber of it
  const flakyCount = flaky.got.length;
  const r = await srv.request('POST', `/api/v1/devices/${dev.deviceId}/profiles/${profile.id}/resend`);
  assert.equal(r.status, 202, r.text);
  await fleet.until(dev.deviceId, profile.id, (d) => d.status === 'verified', { dev, what: 'verified again', timeoutMs: 90000 });
  await waitFor(() => steady.got.length >= 2, 60000, 'deployment.recovered');
  const rec = JSON.parse(steady.got[1].body);
  assert.equal(rec.event, 'deployment.recovered');
  assert.equal(rec.device.id, dev.deviceId);
  assert.equal(rec.generation, failed.generation + 1);
  assert.ok(signatureValid(both.secret, steady.got[1]));
  assert.equal(Number(srv.sql("SELECT count(*) FROM webhook_deliveries WHERE event = 'deployment.recovered'")), 1);
  assert.equal(new Set(flaky.got.map((g) => g.headers['x-certdeploy-event-id'])).size, 1,
    'the failed-only subscription gets no recovered event');
  assert.ok(flaky.got.length >= flakyCount);

  // restart with the flaky receiver's event still pending; then it comes back up
  await srv.stop();
  srv2 = await startServer({ conninfo: srv.conninfo, token: srv.token, env });
  const triedBefore = flaky.got.length;
  flakyUp = true;
  await waitFor(() => Number(srv2.sql('SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL')) === 0,
    60000, 'the pending delivery after the restart');
  assert.ok(flaky.got.length > triedBefore, 'delivered by the restarted server');
  const last = flaky.got.at(-1);
  assert.equal(JSON.parse(last.body).event, 'deployment.failed');
  assert.ok(signatureValid(failedOnly.secret, last));
  assert.equal(steady.got.length, 2, 'the steady receiver got each event once');
});
