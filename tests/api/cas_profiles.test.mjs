// CAs and profiles: validation against the real mock CA, the API token kept
// secret (replies, database, log), templates, pagination, conflicts, the
// profile edit that requeues deployments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { startMockCa } from './lib/mockca.mjs';

let srv;
let mock;
const replies = []; // every reply text, to prove the token never shows

before(async () => {
  [srv, mock] = await Promise.all([startServer(), startMockCa()]);
});
after(async () => {
  await srv?.stop();
  await mock?.stop();
});

async function req(method, path, o = {}) {
  const r = await srv.request(method, path, o);
  replies.push(r.text);
  return r;
}

function assertError(res, status, code, field) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 10, 'the message tells what to do');
  if (field !== undefined) assert.equal(res.json.error.field, field, res.text);
}

let n = 0;
const uniq = (p) => `${p}-${++n}-${randomBytes(3).toString('hex')}`;

function caBody(o = {}) {
  return { name: uniq('ca'), type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId, ...o };
}

async function createCa(o = {}) {
  const r = await req('POST', '/api/v1/cas', { body: caBody(o) });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function profileBody(caId, o = {}) {
  return { name: uniq('profile'), ca_id: caId, common_name: '$DEVICE_SERIAL.corp.example', seat_id: '$DEVICE_ID', ...o };
}

async function createProfile(caId, o = {}) {
  const r = await req('POST', '/api/v1/profiles', { body: profileBody(caId, o) });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** A loopback port nothing listens on. */
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** crypto_open in node: base64("v1" || nonce12 || ct || tag16), AES-256-GCM, AAD "v1". */
function openSealed(key, sealed) {
  const buf = Buffer.from(sealed, 'base64');
  assert.equal(buf.subarray(0, 2).toString(), 'v1');
  const d = createDecipheriv('aes-256-gcm', key, buf.subarray(2, 14));
  d.setAAD(Buffer.from('v1'));
  d.setAuthTag(buf.subarray(buf.length - 16));
  return Buffer.concat([d.update(buf.subarray(14, buf.length - 16)), d.final()]).toString();
}

test('cas: create validates against the CA and masks the token everywhere', async () => {
  const before = await mock.stats();
  const ca = await createCa({ name: 'Corp TLM' });
  assert.equal((await mock.stats()).profile_requests, before.profile_requests + 1, 'the CA was asked');
  assert.deepEqual(Object.keys(ca).sort(), ['api_token', 'ca_certificate', 'created_at', 'id', 'name', 'profile_id',
    'profiles_using', 'type', 'updated_at', 'url']);
  assert.equal(ca.api_token, '********');
  assert.equal(ca.ca_certificate, null);
  assert.equal(ca.profiles_using, 0);
  assert.equal(ca.type, 'digicert');
  assert.equal(ca.url, mock.url);
  assert.match(ca.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  const g = await req('GET', `/api/v1/cas/${ca.id}`);
  assert.equal(g.status, 200);
  assert.deepEqual(g.json, ca);

  // at rest: sealed with the master key, not the token, not opened by another key
  const row = srv.sql(`SELECT t::text FROM cas t WHERE id = '${ca.id}'`);
  assert.ok(!row.includes(mock.apiKey), 'no plain token in the database row');
  const sealed = srv.sql(`SELECT api_token_sealed FROM cas WHERE id = '${ca.id}'`);
  assert.notEqual(sealed, mock.apiKey);
  const key = readFileSync(join(srv.stateDir, 'master.key'));
  assert.equal(openSealed(key, sealed), mock.apiKey);
  assert.throws(() => openSealed(randomBytes(32), sealed));

  // a trust anchor for a private CA's HTTPS is kept and shown
  const pem = await mock.caPem();
  const withPem = await createCa({ ca_certificate: pem });
  assert.equal(withPem.ca_certificate, pem);
  const badPem = await req('POST', '/api/v1/cas', { body: caBody({ ca_certificate: 'not a certificate' }) });
  assertError(badPem, 400, 'invalid_request', 'ca_certificate');
});

test('cas: the CA refusing is 422 with its message and the field to fix', async () => {
  const badToken = 'wrong-key-' + randomBytes(8).toString('hex');
  const t = await req('POST', '/api/v1/cas', { body: caBody({ api_token: badToken }) });
  assertError(t, 422, 'ca_validation_failed', 'api_token');
  assert.match(t.json.error.message, /X-API-Key header is missing or holds an unknown API key/);
  assert.ok(!t.text.includes(badToken));

  const p = await req('POST', '/api/v1/cas', { body: caBody({ profile_id: 'no-such-profile' }) });
  assertError(p, 422, 'ca_validation_failed', 'profile_id');
  assert.match(p.json.error.message, /Profile 'no-such-profile' does not exist/);

  const port = await closedPort();
  const u = await req('POST', '/api/v1/cas', { body: caBody({ url: `http://127.0.0.1:${port}` }) });
  assertError(u, 422, 'ca_validation_failed', 'url');
  assert.match(u.json.error.message, /could not be reached.*Check the URL/s);

  const h = await req('POST', '/api/v1/cas', { body: caBody({ url: 'http://tlm.example.com' }) });
  assertError(h, 400, 'invalid_request', 'url');
  assert.match(h.json.error.message, /https/);

  for (const [body, field] of [
    [caBody({ type: 'acme' }), 'type'],
    [caBody({ api_token: '********' }), 'api_token'],
    [caBody({ api_token: 'has space' }), 'api_token'],
    [caBody({ name: 'x'.repeat(129) }), 'name'],
    [caBody({ url: 'ftp://127.0.0.1/' }), 'url'],
    [caBody({ extra: 1 }), 'extra'],
    [{ ...caBody(), profile_id: undefined }, 'profile_id'],
  ]) {
    const r = await req('POST', '/api/v1/cas', { body });
    assertError(r, 400, 'invalid_request', field);
  }
  assert.equal(srv.sql(`SELECT count(*) FROM cas WHERE api_token_sealed = '${badToken}'`), '0');
  assert.ok(!srv.sql(`SELECT coalesce(string_agg(t::text, ' '), '') FROM cas t`).includes(badToken));
});

test('cas: duplicate names conflict', async () => {
  const ca = await createCa();
  const r = await req('POST', '/api/v1/cas', { body: caBody({ name: ca.name }) });
  assertError(r, 409, 'conflict', 'name');
});

test('cas: PATCH revalidates only when the connection changes; nothing saved on refusal', async () => {
  const ca = await createCa();
  const sealed0 = srv.sql(`SELECT api_token_sealed FROM cas WHERE id = '${ca.id}'`);
  let s0 = await mock.stats();

  const rn = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { name: ca.name + '-renamed', api_token: '********', type: 'digicert' } });
  assert.equal(rn.status, 200, rn.text);
  assert.equal(rn.json.name, ca.name + '-renamed');
  assert.equal(rn.json.api_token, '********');
  assert.equal((await mock.stats()).profile_requests, s0.profile_requests, 'a rename does not call the CA');
  assert.equal(srv.sql(`SELECT api_token_sealed FROM cas WHERE id = '${ca.id}'`), sealed0);

  const badToken = 'bad-' + randomBytes(8).toString('hex');
  const bt = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { api_token: badToken, name: 'never-saved' } });
  assertError(bt, 422, 'ca_validation_failed', 'api_token');
  const after = await req('GET', `/api/v1/cas/${ca.id}`);
  assert.deepEqual(after.json, rn.json, 'nothing changed');
  assert.equal(srv.sql(`SELECT api_token_sealed FROM cas WHERE id = '${ca.id}'`), sealed0);

  const bp = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { profile_id: 'gone-profile' } });
  assertError(bp, 422, 'ca_validation_failed', 'profile_id');

  // changing the url revalidates with the stored (decrypted) token
  s0 = await mock.stats();
  const nu = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { url: mock.url + '/' } });
  assert.equal(nu.status, 200, nu.text);
  assert.equal((await mock.stats()).profile_requests, s0.profile_requests + 1);

  // a new good token is validated and sealed afresh
  const gt = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { api_token: mock.apiKey } });
  assert.equal(gt.status, 200, gt.text);
  assert.equal((await mock.stats()).profile_requests, s0.profile_requests + 2);
  const sealed1 = srv.sql(`SELECT api_token_sealed FROM cas WHERE id = '${ca.id}'`);
  assert.notEqual(sealed1, sealed0);
  assert.equal(openSealed(readFileSync(join(srv.stateDir, 'master.key')), sealed1), mock.apiKey);

  const other = await createCa();
  const dup = await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { name: other.name } });
  assertError(dup, 409, 'conflict', 'name');
  assertError(await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { url: 'http://tlm.example.com' } }), 400, 'invalid_request', 'url');
  assertError(await req('PATCH', `/api/v1/cas/${ca.id}`, { body: { id: ca.id } }), 400, 'invalid_request', 'id');
  assertError(await req('PATCH', '/api/v1/cas/00000000-0000-4000-8000-000000000000', { body: { name: 'x' } }), 404, 'not_found');
  assertError(await req('PATCH', '/api/v1/cas/nope', { body: { name: 'x' } }), 400, 'invalid_request');
});

test('cas: list pages are complete and stable', async () => {
  for (let i = 0; i < 3; i++) await createCa();
  const all = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await req('GET', `/api/v1/cas?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.cas.length <= 2);
    for (const c of r.json.cas) assert.equal(c.api_token, '********');
    all.push(...r.json.cas.map((c) => c.id));
    cursor = r.json.next_cursor;
    pages++;
  } while (cursor);
  const total = Number(srv.sql('SELECT count(*) FROM cas'));
  assert.equal(all.length, total);
  assert.equal(new Set(all).size, total);
  assert.ok(pages >= 2);
  assertError(await req('GET', '/api/v1/cas?cursor=zz'), 400, 'invalid_request', 'cursor');
  assertError(await req('GET', '/api/v1/cas?limit=0'), 400, 'invalid_request', 'limit');
});

test('cas: DELETE refuses while profiles use the CA', async () => {
  const ca = await createCa();
  const p1 = await createProfile(ca.id);
  const p2 = await createProfile(ca.id);
  assert.equal((await req('GET', `/api/v1/cas/${ca.id}`)).json.profiles_using, 2);
  const d = await req('DELETE', `/api/v1/cas/${ca.id}`);
  assertError(d, 409, 'conflict');
  assert.match(d.json.error.message, /2 profiles/);
  assert.equal((await req('DELETE', `/api/v1/profiles/${p1.id}`)).status, 204);
  assert.equal((await req('DELETE', `/api/v1/profiles/${p2.id}`)).status, 204);
  assert.equal((await req('DELETE', `/api/v1/cas/${ca.id}`)).status, 204);
  assertError(await req('GET', `/api/v1/cas/${ca.id}`), 404, 'not_found');
  assertError(await req('DELETE', `/api/v1/cas/${ca.id}`), 404, 'not_found');
  assertError(await req('DELETE', '/api/v1/cas/123'), 400, 'invalid_request');
});

test('profiles: create with templates, counts, and every bad field named', async () => {
  const ca = await createCa();
  const p = await createProfile(ca.id, { user_principal_names: ['$DEVICE_NAME@corp.example'], renew_before_days: 14 });
  assert.deepEqual(Object.keys(p).sort(), ['assign_all', 'ca_id', 'ca_name', 'common_name', 'counts', 'created_at', 'id',
    'key_mode', 'name', 'renew_before_days', 'seat_id', 'updated_at', 'user_principal_names']);
  assert.equal(p.ca_id, ca.id);
  assert.equal(p.ca_name, ca.name);
  assert.equal(p.common_name, '$DEVICE_SERIAL.corp.example');
  assert.deepEqual(p.user_principal_names, ['$DEVICE_NAME@corp.example']);
  assert.equal(p.seat_id, '$DEVICE_ID');
  assert.equal(p.key_mode, 'server');
  assert.equal(p.renew_before_days, 14);
  assert.equal(p.assign_all, false);
  assert.deepEqual(p.counts, { pending: 0, verifying: 0, verified: 0, failed: 0 });
  assert.deepEqual((await req('GET', `/api/v1/profiles/${p.id}`)).json, p);

  const d = await createProfile(ca.id, { key_mode: 'device', common_name: 'literal $$ sign' });
  assert.equal(d.key_mode, 'device');
  assert.equal(d.renew_before_days, null);
  assert.deepEqual(d.user_principal_names, []);

  const u = await req('POST', '/api/v1/profiles', { body: profileBody(ca.id, { common_name: 'cn-$DEVICE_FOO' }) });
  assertError(u, 400, 'invalid_request', 'common_name');
  assert.match(u.json.error.message, /\$DEVICE_FOO/);
  assert.match(u.json.error.message, /\$DEVICE_SERIAL, \$DEVICE_NAME and \$DEVICE_ID/);
  const up = await req('POST', '/api/v1/profiles', { body: profileBody(ca.id, { user_principal_names: ['$DEVICE_IDX@corp'] }) });
  assertError(up, 400, 'invalid_request', 'user_principal_names[0]');
  assert.match(up.json.error.message, /\$DEVICE_IDX/);

  for (const [o, field] of [
    [{ seat_id: 'seat-$' }, 'seat_id'],
    [{ user_principal_names: ['a@x', 'b@x'] }, 'user_principal_names'],
    [{ user_principal_names: [5] }, 'user_principal_names[0]'],
    [{ user_principal_names: '' }, 'user_principal_names'],
    [{ key_mode: 'cloud' }, 'key_mode'],
    [{ renew_before_days: 0 }, 'renew_before_days'],
    [{ renew_before_days: 3651 }, 'renew_before_days'],
    [{ renew_before_days: 1.5 }, 'renew_before_days'],
    [{ renew_before_days: '30' }, 'renew_before_days'],
    [{ assign_all: 'yes' }, 'assign_all'],
    [{ ca_id: 'not-a-uuid' }, 'ca_id'],
    [{ ca_id: '00000000-0000-4000-8000-000000000000' }, 'ca_id'],
    [{ common_name: 'x'.repeat(1025) }, 'common_name'],
    [{ name: '' }, 'name'],
    [{ status: 'x' }, 'status'],
  ]) {
    const r = await req('POST', '/api/v1/profiles', { body: profileBody(ca.id, o) });
    assertError(r, 400, 'invalid_request', field);
  }
  assertError(await req('POST', '/api/v1/profiles', { body: { ...profileBody(ca.id), seat_id: undefined } }), 400, 'invalid_request', 'seat_id');
  assertError(await req('POST', '/api/v1/profiles', { body: profileBody(ca.id, { name: p.name }) }), 409, 'conflict', 'name');
  assertError(await req('POST', '/api/v1/profiles', { raw: '{"name":', contentType: 'application/json' }), 400, 'invalid_json');
});

test('profiles: PATCH of subject fields requeues, other edits do not', async () => {
  const ca = await createCa();
  const ca2 = await createCa();
  const p = await createProfile(ca.id);

  const s = await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { common_name: '$DEVICE_NAME', user_principal_names: ['$DEVICE_SERIAL@corp'] } });
  assert.equal(s.status, 200, s.text);
  assert.deepEqual(Object.keys(s.json).sort(), ['failed_untouched', 'profile', 'requeued']);
  assert.equal(s.json.requeued, 0);
  assert.equal(s.json.failed_untouched, 0);
  assert.equal(s.json.profile.common_name, '$DEVICE_NAME');
  assert.deepEqual(s.json.profile.user_principal_names, ['$DEVICE_SERIAL@corp']);
  assert.equal(s.json.profile.seat_id, p.seat_id);

  const k = await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { key_mode: 'device', renew_before_days: 10, ca_id: ca2.id, name: p.name + '-b' } });
  assert.equal(k.status, 200, k.text);
  assert.equal(k.json.requeued, 0);
  assert.equal(k.json.profile.key_mode, 'device');
  assert.equal(k.json.profile.renew_before_days, 10);
  assert.equal(k.json.profile.ca_id, ca2.id);
  assert.equal(k.json.profile.ca_name, ca2.name);
  assert.equal(k.json.profile.common_name, '$DEVICE_NAME', 'untouched fields stay');

  const r = await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { renew_before_days: null, user_principal_names: [] } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.profile.renew_before_days, null);
  assert.deepEqual(r.json.profile.user_principal_names, []);

  const other = await createProfile(ca.id);
  assertError(await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { name: other.name } }), 409, 'conflict', 'name');
  assertError(await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { seat_id: '$DEVICE_MAC' } }), 400, 'invalid_request', 'seat_id');
  assertError(await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { ca_id: '00000000-0000-4000-8000-000000000000' } }), 400, 'invalid_request', 'ca_id');
  assertError(await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { key_mode: 'x' } }), 400, 'invalid_request', 'key_mode');
  assertError(await req('PATCH', '/api/v1/profiles/00000000-0000-4000-8000-000000000000', { body: { name: 'x' } }), 404, 'not_found');
  assertError(await req('PATCH', '/api/v1/profiles/zzz', { body: { name: 'x' } }), 400, 'invalid_request');
  const unchanged = await req('GET', `/api/v1/profiles/${p.id}`);
  assert.equal(unchanged.json.name, p.name + '-b', 'refused edits saved nothing');
});

test('profiles: assign_all assigns in the same transaction; subject edit requeues; delete keeps history', async () => {
  const ca = await createCa();
  const serial = uniq('dev');
  const dev = srv.sql(`INSERT INTO devices (serial, name, token_hash) VALUES ('${serial}', 'd', encode(sha256('${serial}'::bytea), 'hex')) RETURNING id`);
  const p = await createProfile(ca.id, { assign_all: true });
  assert.equal(p.assign_all, true);
  assert.ok(p.counts.pending >= 1, JSON.stringify(p.counts));
  assert.equal(srv.sql(`SELECT status FROM deployments WHERE profile_id = '${p.id}' AND device_id = '${dev}'`), 'pending');

  const e = await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { seat_id: 'seat-$DEVICE_SERIAL' } });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.json.requeued, p.counts.pending);
  assert.equal(e.json.failed_untouched, 0);
  assert.equal(srv.sql(`SELECT generation FROM deployments WHERE profile_id = '${p.id}' AND device_id = '${dev}'`), '2');
  const same = await req('PATCH', `/api/v1/profiles/${p.id}`, { body: { seat_id: 'seat-$DEVICE_SERIAL' } });
  assert.equal(same.json.requeued, 0, 'the same value is no change');

  assert.equal((await req('DELETE', `/api/v1/profiles/${p.id}`)).status, 204);
  assert.equal(srv.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${p.id}'`), '0');
  assert.ok(Number(srv.sql(`SELECT count(*) FROM deployment_history WHERE profile_id = '${p.id}'`)) >= 3, 'history stays');
  assertError(await req('GET', `/api/v1/profiles/${p.id}`), 404, 'not_found');
  assertError(await req('DELETE', `/api/v1/profiles/${p.id}`), 404, 'not_found');
  assertError(await req('GET', '/api/v1/profiles/x'), 400, 'invalid_request');
});

test('profiles: list pages, observers read only', async () => {
  const ca = await createCa();
  for (let i = 0; i < 3; i++) await createProfile(ca.id);
  const seen = [];
  let cursor = null;
  do {
    const r = await req('GET', `/api/v1/profiles?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    for (const p of r.json.profiles) assert.ok(p.counts && p.ca_name);
    seen.push(...r.json.profiles.map((p) => p.id));
    cursor = r.json.next_cursor;
  } while (cursor);
  const total = Number(srv.sql('SELECT count(*) FROM profiles'));
  assert.equal(seen.length, total);
  assert.equal(new Set(seen).size, total);

  const obs = await req('POST', '/api/v1/tokens', { body: { name: uniq('obs'), role: 'observer' } });
  const token = obs.json.token;
  assert.equal((await req('GET', '/api/v1/profiles', { token })).status, 200);
  assert.equal((await req('GET', '/api/v1/cas', { token })).status, 200);
  assertError(await req('POST', '/api/v1/cas', { token, body: caBody() }), 403, 'forbidden');
  assertError(await req('DELETE', `/api/v1/cas/${ca.id}`, { token }), 403, 'forbidden');
  assertError(await req('PATCH', `/api/v1/profiles/${seen[0]}`, { token, body: { name: 'x' } }), 403, 'forbidden');
});

test('the CA API token never appears in a reply or the log', () => {
  for (const text of replies) assert.ok(!text.includes(mock.apiKey), `reply leaked the token: ${text.slice(0, 200)}`);
  const logs = srv.logs();
  assert.ok(logs.length > 0);
  assert.ok(!logs.includes(mock.apiKey), 'the log never shows the token');
  assert.ok(!/wrong-key-|bad-[0-9a-f]{16}/.test(logs), 'nor a rejected one');
});
