// The admin audit log: every successful admin write through the REST API is
// recorded with the token's name, the route and the ids it touched, never
// a token or secret; GET /api/v1/audit lists it newest first.
//   node --test tests/api/audit.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { startMockCa } from './lib/mockca.mjs';
import { runAgent } from './lib/fleet.mjs';

let srv;
let mock;
let agentDir;
before(async () => {
  mock = await startMockCa();
  srv = await startServer();
  agentDir = mkdtempSync(join(tmpdir(), 'certdeploy-audit-agent-'));
});
after(async () => {
  await srv?.stop();
  await mock?.stop();
  rmSync(agentDir, { recursive: true, force: true });
});

/** All audit events (newest first) through the API, following next_cursor. */
async function allEvents(query = '', token = srv.token, limit = 500) {
  const out = [];
  let cursor = null;
  for (;;) {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const r = await srv.request('GET', `/api/v1/audit?${q}`, { token });
    assert.equal(r.status, 200, r.text);
    out.push(...r.json.events);
    cursor = r.json.next_cursor;
    if (cursor === null) return out;
  }
}

test('admin writes are audited with the token name, ids and no secrets', async () => {
  // a named admin token (created by the bootstrap admin) does all the work
  const mk = await srv.request('POST', '/api/v1/tokens', { body: { name: 'ops-alice', role: 'admin' } });
  assert.equal(mk.status, 201, mk.text);
  const alice = mk.json.token;
  const as = (method, path, body) => srv.request(method, path, { token: alice, body });
  const secrets = [alice, srv.token, mock.apiKey];
  const want = []; // [method, route, path, status, target] in order

  const ok = async (status, method, route, path, body, target) => {
    const r = await as(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    want.push({ method, route, path, status, target: typeof target === 'function' ? target(r.json) : target });
    return r.json;
  };

  const ca = await ok(201, 'POST', '/api/v1/cas', '/api/v1/cas',
    { name: 'Audit CA', type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId }, (j) => ({ id: j.id }));
  await ok(200, 'PATCH', '/api/v1/cas/{id}', `/api/v1/cas/${ca.id}`, { name: 'Audit CA renamed' }, { id: ca.id });
  const secret = await ok(201, 'POST', '/api/v1/enroll-secrets', '/api/v1/enroll-secrets', { name: 'laptops' }, (j) => ({ id: j.id }));
  secrets.push(secret.secret);
  const bot = await ok(201, 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: 'ci-bot', role: 'observer' }, (j) => ({ id: j.id }));
  secrets.push(bot.token);
  const profile = await ok(201, 'POST', '/api/v1/profiles', '/api/v1/profiles',
    { name: 'audit-wifi', ca_id: ca.id, common_name: '$DEVICE_SERIAL', seat_id: '$DEVICE_ID' }, (j) => ({ id: j.id }));
  await ok(200, 'PATCH', '/api/v1/profiles/{id}', `/api/v1/profiles/${profile.id}`, { renew_before_days: 10 }, { id: profile.id });

  // a device, enrolled with the secret (device calls are not admin writes)
  const en = await runAgent(srv, agentDir, ['enroll', '--enroll-secret', secret.secret, '--serial', 'SN-AUDIT-1']);
  assert.equal(en.code, 0, en.stderr);
  const deviceId = JSON.parse(readFileSync(join(agentDir, 'device.json'), 'utf8')).device_id;

  await ok(200, 'POST', '/api/v1/profiles/{id}/assignments', `/api/v1/profiles/${profile.id}/assignments`,
    { device_ids: [deviceId] }, { id: profile.id });
  // refused writes (409: the deployment is pending) are not audited
  const refused = await as('POST', `/api/v1/devices/${deviceId}/profiles/${profile.id}/resend`);
  assert.equal(refused.status, 409, refused.text);
  await ok(202, 'POST', '/api/v1/profiles/{id}/resend', `/api/v1/profiles/${profile.id}/resend`, { status: 'failed' }, { id: profile.id });
  await ok(204, 'DELETE', '/api/v1/profiles/{id}/assignments/{device_id}', `/api/v1/profiles/${profile.id}/assignments/${deviceId}`,
    undefined, { id: profile.id, device_id: deviceId });
  await ok(204, 'DELETE', '/api/v1/devices/{id}', `/api/v1/devices/${deviceId}`, undefined, { id: deviceId });
  await ok(204, 'DELETE', '/api/v1/profiles/{id}', `/api/v1/profiles/${profile.id}`, undefined, { id: profile.id });
  await ok(204, 'DELETE', '/api/v1/cas/{id}', `/api/v1/cas/${ca.id}`, undefined, { id: ca.id });
  await ok(204, 'DELETE', '/api/v1/enroll-secrets/{id}', `/api/v1/enroll-secrets/${secret.id}`, undefined, { id: secret.id });
  await ok(204, 'DELETE', '/api/v1/tokens/{id}', `/api/v1/tokens/${bot.id}`, undefined, { id: bot.id });

  // alice's events, newest first, exactly what she did
  const mine = await allEvents('actor=admin:ops-alice');
  assert.equal(mine.length, want.length, JSON.stringify(mine, null, 1));
  const expected = [...want].reverse();
  for (let i = 0; i < mine.length; i++) {
    const e = mine[i];
    const w = expected[i];
    assert.deepEqual(Object.keys(e).sort(), ['actor', 'at', 'id', 'method', 'path', 'route', 'status', 'summary', 'target']);
    assert.equal(e.actor, 'admin:ops-alice');
    assert.equal(e.method, w.method);
    assert.equal(e.route, w.route);
    assert.equal(e.path, w.path);
    assert.equal(e.status, w.status);
    assert.deepEqual(e.target, w.target);
    assert.equal(e.summary, `${w.method} ${w.route}`);
    assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    if (i > 0) {
      assert.ok(BigInt(e.id) < BigInt(mine[i - 1].id), 'newest first');
      assert.ok(e.at <= mine[i - 1].at);
    }
  }

  // the bootstrap admin created alice's token: recorded under its own name
  const all = await allEvents();
  assert.equal(all.length, want.length + 1);
  assert.deepEqual(all.at(-1), { ...all.at(-1), actor: 'admin:bootstrap', method: 'POST', route: '/api/v1/tokens', target: { id: mk.json.id } });

  // no token, secret or CA API key anywhere: not in the table, not in the API
  const table = srv.sql('SELECT audit_events::text FROM audit_events');
  const api = JSON.stringify(all);
  for (const s of secrets) {
    assert.ok(!table.includes(s), `a secret is in audit_events: ${s.slice(0, 6)}…`);
    assert.ok(!api.includes(s), `a secret is in GET /api/v1/audit: ${s.slice(0, 6)}…`);
  }
});

test('pagination walks every event once, newest first', async () => {
  const all = await allEvents();
  assert.ok(all.length >= 10);
  const paged = await allEvents('', srv.token, 3);
  assert.deepEqual(paged, all);
  const first = await srv.request('GET', '/api/v1/audit?limit=3');
  assert.equal(first.json.events.length, 3);
  assert.equal(typeof first.json.next_cursor, 'string');
  const last = await srv.request('GET', `/api/v1/audit?limit=500&cursor=${all.at(-2).id}`);
  assert.deepEqual(last.json.events, [all.at(-1)]);
  assert.equal(last.json.next_cursor, null);
  for (const q of ['limit=0', 'limit=501', 'limit=x', 'cursor=abc', 'cursor=-1', 'actor=']) {
    const r = await srv.request('GET', `/api/v1/audit?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.json.error.code, 'invalid_request');
  }
  const none = await srv.request('GET', '/api/v1/audit?actor=admin:nobody');
  assert.deepEqual(none.json, { events: [], next_cursor: null });
  assert.equal((await srv.request('GET', '/api/v1/audit', { token: null })).status, 401);
});

test('observers read the log; their refused writes are not in it', async () => {
  const mk = await srv.request('POST', '/api/v1/tokens', { body: { name: 'viewer', role: 'observer' } });
  assert.equal(mk.status, 201);
  const viewer = mk.json.token;
  const before = await allEvents();
  for (const [method, path, body] of [
    ['POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
    ['POST', '/api/v1/enroll-secrets', { name: 'x' }],
    ['DELETE', `/api/v1/tokens/${mk.json.id}`],
  ]) {
    const r = await srv.request(method, path, { token: viewer, body });
    assert.equal(r.status, 403, r.text);
  }
  const r = await srv.request('GET', '/api/v1/audit', { token: viewer });
  assert.equal(r.status, 200);
  const after = await allEvents('', viewer);
  assert.deepEqual(after, before, 'nothing new: reads and refused writes are not audited');
  assert.equal(after[0].target.id, mk.json.id, 'the newest event is the observer token being created');
  assert.equal(srv.sql("SELECT count(*) FROM audit_events WHERE actor LIKE 'observer:%'"), '0');
});

test('the audit log is append-only', async () => {
  // psql's own stderr is captured, not printed: the errors are expected
  const sql = (q) => execFileSync('psql', [srv.conninfo, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8', stdio: 'pipe' });
  assert.throws(() => sql("UPDATE audit_events SET actor = 'admin:someone-else'"), /append-only/);
  assert.throws(() => sql('DELETE FROM audit_events'), /append-only/);
  assert.notEqual(srv.sql('SELECT count(*) FROM audit_events'), '0');
});
