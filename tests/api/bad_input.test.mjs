// A catalog of bad input, generated from one table of every route that
// takes a body or parameters: malformed and truncated JSON, wrong types,
// unknown and duplicate keys, NUL bytes, empty and over-long strings,
// bodies over 1 MiB, invalid and unknown ids, bad query parameters, wrong
// content types, tokens of the wrong kind, path traversal on the static
// files, invalid and weak CSRs. Every case must be answered with its 4xx
// and the error body, change nothing in the database (a fingerprint of
// every table before and after each case), and leave the server healthy.
// Last, SQL metacharacters in every string field are stored and read back
// verbatim. The total number of cases is printed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { createHash, randomUUID, randomBytes } from 'node:crypto';
import { startFleet } from './lib/fleet.mjs';
import { psqlSession } from './lib/psql_session.mjs';
import { makeCsr, tamperCsr, openssl } from './lib/csr.mjs';

const MiB = 1024 * 1024;
let fleet, srv, db, agent;
const fx = {};
let total = 0;

// ---- talking to the server -------------------------------------------------

/**
 * One request with the path sent exactly as given (no URL normalization, so
 * "/../" and "%2e" reach the server). o: token (undefined: admin, null: none),
 * auth (a whole Authorization header), body (object: JSON), raw (string or
 * Buffer as is), contentType (null: no header), chunked (no Content-Length),
 * fresh (own connection), expectContinue (send the body only after "100
 * Continue": a server refusing on the headers answers at once, and the
 * client is not left writing into a closed connection).
 */
function send(method, path, o = {}) {
  const headers = { ...(o.headers || {}) };
  let payload;
  if (o.raw !== undefined) payload = o.raw;
  else if (o.body !== undefined) payload = JSON.stringify(o.body);
  if (payload !== undefined && o.contentType !== null) headers['Content-Type'] = o.contentType ?? 'application/json';
  const token = o.token === undefined ? srv.token : o.token;
  if (o.auth !== undefined) headers.Authorization = o.auth;
  else if (token) headers.Authorization = `Bearer ${token}`;
  if (payload !== undefined && !o.chunked) headers['Content-Length'] ??= Buffer.byteLength(payload);
  const u = new URL(srv.url);
  return new Promise((resolve) => {
    const req = https.request({
      host: u.hostname, port: u.port, method, path, headers, ca: srv.caPem,
      agent: o.fresh || o.chunked || o.expectContinue ? false : agent,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', (e) => resolve({ status: `error ${e.code || e.message}`, headers: {}, text: '' }));
    });
    req.on('error', (e) => resolve({ status: `error ${e.code || e.message}`, headers: {}, text: '' }));
    if (payload !== undefined && o.expectContinue) {
      req.setHeader('Expect', '100-continue');
      req.on('continue', () => req.end(payload));
      req.flushHeaders();
      return;
    }
    if (payload !== undefined) {
      if (o.chunked) {
        const buf = Buffer.from(payload);
        for (let i = 0; i < buf.length; i += 64 * 1024) req.write(buf.subarray(i, i + 64 * 1024));
      } else {
        req.write(payload);
      }
    }
    req.end();
  });
}

/** A fingerprint of every table a request could change: rows and an md5 of their text. */
// (devices.last_checkin_at is left out: every request a device authenticates counts as
// contact, by design, whatever its outcome.)
const TABLES = ['api_tokens', 'enroll_secrets', 'cas', 'profiles', 'devices', 'deployments',
  'deployment_history', 'audit_events', 'webhook_outbox', 'key_pool'];
const ROWS = { devices: '(SELECT id, serial, name, token_hash, enrolled_at FROM devices)' };
const FINGERPRINT_SQL = 'SELECT ' + TABLES.map((t) =>
  `(SELECT '${t}=' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM ${ROWS[t] || t} x)`).join(" || ' ' || ");
async function fingerprint() {
  const out = await db.query(FINGERPRINT_SQL);
  return Object.fromEntries(out.split(' ').map((p) => p.split('=')));
}
function changedTables(a, b) {
  return TABLES.filter((t) => a[t] !== b[t]);
}

async function assertHealthy() {
  assert.equal(srv.child.exitCode, null, 'certdeployd is still running');
  assert.equal(srv.child.signalCode, null, 'certdeployd is still running');
  const h = await send('GET', '/healthz', { token: null, fresh: true });
  assert.equal(h.status, 200, `healthz after the cases: ${h.text}`);
  const w = await send('GET', '/api/v1/whoami');
  assert.equal(w.status, 200, `a normal request after the cases: ${w.text}`);
  assert.equal(w.json.role, 'admin');
  const c = await send('POST', '/device/v1/checkin', { token: fx.devA.token, body: { installed: [] } });
  assert.equal(c.status, 200, `a device check-in after the cases: ${c.text}`);
}

/**
 * Runs cases {name, method, path, send options..., expect: {status, code, field}}:
 * each gets its status (one of, when an array), the error body with its code
 * (and field when given), and changes nothing. Collects every mismatch and
 * fails once with all of them, so one run shows every bug.
 */
async function runCases(cases) {
  const failures = [];
  let fp = await fingerprint();
  for (const c of cases) {
    total++;
    const res = await send(c.method, c.path, c);
    const after = await fingerprint();
    const label = `${c.method} ${c.path.length > 90 ? c.path.slice(0, 90) + '…' : c.path} [${c.name}]`;
    const problems = [];
    const statuses = [].concat(c.expect.status);
    const codes = c.expect.code === undefined ? undefined : [].concat(c.expect.code);
    if (!statuses.includes(res.status)) problems.push(`status ${res.status}, want ${statuses.join('|')}`);
    if (typeof res.status === 'number') {
      if (!/^application\/json/.test(res.headers['content-type'] || '')) problems.push(`content-type ${res.headers['content-type']}`);
      const e = res.json?.error;
      if (!e || typeof e !== 'object') {
        problems.push('no error body');
      } else {
        if (Object.keys(res.json).length !== 1) problems.push(`extra keys ${Object.keys(res.json)}`);
        const extra = Object.keys(e).filter((k) => !['code', 'message', 'field'].includes(k));
        if (extra.length) problems.push(`extra error keys ${extra}`);
        if (codes && !codes.includes(e.code)) problems.push(`code ${e.code}, want ${codes.join('|')}`);
        if (typeof e.message !== 'string' || e.message.length < 5) problems.push('no message');
        if (c.expect.field !== undefined && c.expect.field !== true && e.field !== c.expect.field) problems.push(`field ${JSON.stringify(e.field)}, want ${JSON.stringify(c.expect.field)}`);
        if (c.expect.field === true && !(typeof e.field === 'string' && e.field.length > 0)) problems.push('no field');
      }
    }
    const changed = changedTables(fp, after);
    if (changed.length) problems.push(`changed ${changed.join(', ')}`);
    if (problems.length) failures.push(`${label}: ${problems.join('; ')} — ${res.text.slice(0, 200)}`);
    fp = after;
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`);
  await assertHealthy();
}

// ---- the route table ---------------------------------------------------------

const sha = (s) => s.repeat(64 / s.length);

// A field: its place in the body ("installed[0].sha256" → installed, 0, sha256),
// the field name errors carry, its type and limits.
function F(field, type, opts = {}) {
  const path = field.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  return { field, path, type, ...opts };
}

// Bodies refer to fixtures; they are built when a case is made. A body that
// passed validation would change something (create, rename, assign, enroll,
// store a CSR, or audit a write), so a bug that lets one through shows up.
const ROUTES = [
  { method: 'POST', pattern: '/api/v1/tokens', auth: 'write', body: () => ({ name: 'bi-token', role: 'observer' }),
    fields: [F('name', 'string', { max: 128, req: true }), F('role', 'string', { max: 16, enum: true, req: true })] },
  { method: 'GET', pattern: '/api/v1/tokens', auth: 'read', query: 'page' },
  { method: 'DELETE', pattern: '/api/v1/tokens/{id}', auth: 'write', params: { id: () => fx.victimTokenId } },
  { method: 'GET', pattern: '/api/v1/whoami', auth: 'read' },

  { method: 'POST', pattern: '/api/v1/cas', auth: 'write',
    body: () => ({ name: 'bi-ca', type: 'digicert', url: fleet.mock.url, api_token: fleet.mock.apiKey, profile_id: fleet.mock.profileId }),
    fields: [F('name', 'string', { max: 128, req: true }), F('type', 'string', { max: 16, enum: true, req: true }), F('url', 'string', { max: 2048, req: true }),
      F('api_token', 'string', { max: 1024, req: true }), F('profile_id', 'string', { max: 256, req: true }), F('ca_certificate', 'string', { max: 65536 })] },
  { method: 'GET', pattern: '/api/v1/cas', auth: 'read', query: 'page' },
  { method: 'GET', pattern: '/api/v1/cas/{id}', auth: 'read', params: { id: () => fleet.caId } },
  { method: 'PATCH', pattern: '/api/v1/cas/{id}', auth: 'write', params: { id: () => fleet.caId }, body: () => ({ name: 'bi-ca-renamed' }),
    fields: [F('name', 'string', { max: 128 }), F('type', 'string', { max: 16, enum: true }), F('url', 'string', { max: 2048 }),
      F('api_token', 'string', { max: 1024 }), F('profile_id', 'string', { max: 256 }), F('ca_certificate', 'string', { max: 65536 })] },
  { method: 'DELETE', pattern: '/api/v1/cas/{id}', auth: 'write', params: { id: () => fx.victimCaId } },

  { method: 'POST', pattern: '/api/v1/profiles', auth: 'write',
    body: () => ({ name: 'bi-profile', ca_id: fleet.caId, common_name: '$DEVICE_SERIAL', user_principal_names: ['$DEVICE_SERIAL@example.com'],
      seat_id: '$DEVICE_ID', key_mode: 'device', renew_before_days: 10, assign_all: true }),
    fields: [F('name', 'string', { max: 128, req: true }), F('ca_id', 'string', { max: 64, uuid: true, req: true }), F('common_name', 'string', { max: 1024, req: true }),
      F('user_principal_names', 'array'), F('user_principal_names[0]', 'string', { max: 1024 }), F('seat_id', 'string', { max: 1024, req: true }),
      F('key_mode', 'string', { max: 16, enum: true }), F('renew_before_days', 'int'), F('assign_all', 'bool')] },
  { method: 'GET', pattern: '/api/v1/profiles', auth: 'read', query: 'page' },
  { method: 'GET', pattern: '/api/v1/profiles/{id}', auth: 'read', params: { id: () => fx.profileId } },
  { method: 'PATCH', pattern: '/api/v1/profiles/{id}', auth: 'write', params: { id: () => fx.profileId },
    body: () => ({ name: 'bi-profile-renamed', common_name: 'edited-$DEVICE_SERIAL' }),
    fields: [F('name', 'string', { max: 128 }), F('ca_id', 'string', { max: 64, uuid: true }), F('common_name', 'string', { max: 1024 }),
      F('user_principal_names', 'array'), F('user_principal_names[0]', 'string', { max: 1024 }), F('seat_id', 'string', { max: 1024 }),
      F('key_mode', 'string', { max: 16, enum: true }), F('renew_before_days', 'int'), F('assign_all', 'bool')] },
  { method: 'DELETE', pattern: '/api/v1/profiles/{id}', auth: 'write', params: { id: () => fx.profileId } },
  { method: 'POST', pattern: '/api/v1/profiles/{id}/assignments', auth: 'write', params: { id: () => fx.profileId },
    body: () => ({ device_ids: [fx.devB.id] }),
    fields: [F('device_ids', 'array', { maxItems: 10000 }), F('device_ids[0]', 'string', { uuid: true }), F('all', 'bool')] },
  { method: 'DELETE', pattern: '/api/v1/profiles/{id}/assignments/{device_id}', auth: 'write',
    params: { id: () => fx.profileId, device_id: () => fx.devA.id } },
  { method: 'POST', pattern: '/api/v1/profiles/{id}/resend', auth: 'write', params: { id: () => fx.profileId },
    body: () => ({ status: 'failed' }), fields: [F('status', 'string', { max: 16, enum: true, req: true })] },

  { method: 'POST', pattern: '/api/v1/enroll-secrets', auth: 'write', body: () => ({ name: 'bi-secret' }),
    fields: [F('name', 'string', { max: 128, req: true })] },
  { method: 'GET', pattern: '/api/v1/enroll-secrets', auth: 'read', query: 'page' },
  { method: 'DELETE', pattern: '/api/v1/enroll-secrets/{id}', auth: 'write', params: { id: () => fx.victimSecretId } },

  { method: 'GET', pattern: '/api/v1/devices', auth: 'read', query: 'devices' },
  { method: 'GET', pattern: '/api/v1/devices/{id}', auth: 'read', params: { id: () => fx.devA.id } },
  { method: 'DELETE', pattern: '/api/v1/devices/{id}', auth: 'write', params: { id: () => fx.devA.id } },
  { method: 'GET', pattern: '/api/v1/devices/{id}/profiles/{profile_id}', auth: 'read',
    params: { id: () => fx.devA.id, profile_id: () => fx.profileId } },
  { method: 'POST', pattern: '/api/v1/devices/{id}/profiles/{profile_id}/resend', auth: 'write',
    params: { id: () => fx.devF.id, profile_id: () => fx.profileId } },
  { method: 'GET', pattern: '/api/v1/devices/{id}/profiles/{profile_id}/history', auth: 'read',
    params: { id: () => fx.devA.id, profile_id: () => fx.profileId }, query: 'history' },
  { method: 'GET', pattern: '/api/v1/status', auth: 'read', query: 'status' },
  { method: 'GET', pattern: '/api/v1/audit', auth: 'read', query: 'audit' },

  { method: 'POST', pattern: '/device/v1/enroll', auth: 'public',
    body: () => ({ enroll_secret: fleet.enrollSecret, serial: 'BI-NEW-DEVICE', name: 'bad input' }),
    fields: [F('enroll_secret', 'string', { max: 256, req: true }), F('serial', 'string', { max: 128, req: true }), F('name', 'string', { max: 128 })] },
  { method: 'POST', pattern: '/device/v1/checkin', auth: 'device', emptyOk: true,
    body: () => ({ installed: [{ profile_id: fx.profileId, sha256: sha('ab') }] }),
    fields: [F('installed', 'array', { maxItems: 1000 }), F('installed[0]', 'object'),
      F('installed[0].profile_id', 'string', { max: 64, req: true }), F('installed[0].sha256', 'string', { max: 64, hex64: true, req: true })] },
  { method: 'POST', pattern: '/device/v1/profiles/{profile_id}/csr', auth: 'device', params: { profile_id: () => fx.profileId },
    body: () => ({ generation: 1, csr: fx.goodCsr }),
    fields: [F('generation', 'int', { req: true }), F('csr', 'string', { max: 65536, req: true })] },
  { method: 'POST', pattern: '/device/v1/profiles/{profile_id}/ack', auth: 'device', params: { profile_id: () => fx.profileId },
    // an error ack of a pending deployment would fail it: a bug letting a case through shows
    body: () => ({ generation: 1, result: 'error', detail: 'bad input test' }),
    // (sha256 is only read from an 'installed' acknowledgement, which here is refused: nothing was issued)
    fields: [F('generation', 'int', { req: true }), F('result', 'string', { max: 16, enum: true, req: true }),
      F('sha256', 'string', { max: 64, hex64: true, base: () => ({ generation: 1, result: 'installed', sha256: sha('ab') }) }),
      F('detail', 'string', { max: 1024 })] },
];

const bodyRoutes = ROUTES.filter((r) => r.body);
const paramRoutes = ROUTES.filter((r) => r.params);
const authRoutes = ROUTES.filter((r) => r.auth !== 'public');

/** The route's path with its fixture ids, or with `over` replacing some (already encoded). */
function pathOf(r, over = {}, query = '') {
  return r.pattern.replace(/\{(\w+)\}/g, (_, p) => (p in over ? over[p] : r.params[p]())) + query;
}
/** The token a route is called with when the case is not about auth. */
function tokenOf(r) {
  return r.auth === 'device' ? fx.devA.token : r.auth === 'public' ? null : srv.token;
}
/** The valid body a field's cases start from. */
function baseOf(r, f) { return f.base ? f.base() : r.body(); }
function clone(v) { return JSON.parse(JSON.stringify(v)); }
/** body with the value at path set (undefined: removed). */
function setAt(body, path, value) {
  const b = clone(body);
  let o = b;
  path.slice(0, -1).forEach((k, i) => {
    if (o[k] === undefined || o[k] === null) o[k] = typeof path[i + 1] === 'number' ? [] : {};
    o = o[k];
  });
  if (value === undefined) delete o[path.at(-1)];
  else o[path.at(-1)] = value;
  return b;
}
function bodyCase(r, name, payload, expect, extra = {}) {
  const o = typeof payload === 'string' || Buffer.isBuffer(payload) ? { raw: payload } : { body: payload };
  return { name, method: r.method, path: pathOf(r), token: tokenOf(r), ...o, ...extra, expect };
}
const INVALID_JSON = { status: 400, code: 'invalid_json' };
const invalid = (field) => ({ status: 400, code: 'invalid_request', field });

// ---- fixtures ----------------------------------------------------------------

async function enroll(serial) {
  const r = await send('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: serial } });
  assert.equal(r.status, 201, r.text);
  return { id: r.json.device_id, token: r.json.device_token };
}

before(async () => {
  fleet = await startFleet({ env: { CERTDEPLOY_AUTH_FAILURE_LIMIT: '100000' } });
  srv = fleet.srv;
  db = psqlSession(srv.conninfo);
  agent = new https.Agent({ keepAlive: true, ca: srv.caPem, maxSockets: 4 });
  fx.devA = await enroll('BI-A');
  fx.devB = await enroll('BI-B');
  fx.devF = await enroll('BI-F');
  // device key mode: nothing is issued until a CSR arrives, so the database stays still
  const p = await send('POST', '/api/v1/profiles', { body: { name: 'bi-fixture', ca_id: fleet.caId, common_name: 'bi-$DEVICE_SERIAL', seat_id: '$DEVICE_ID', key_mode: 'device' } });
  assert.equal(p.status, 201, p.text);
  fx.profileId = p.json.id;
  const a = await send('POST', `/api/v1/profiles/${fx.profileId}/assignments`, { body: { device_ids: [fx.devA.id, fx.devF.id] } });
  assert.equal(a.status, 200, a.text);
  const v = await send('POST', '/api/v1/tokens', { body: { name: 'bi-victim', role: 'observer' } });
  fx.victimTokenId = v.json.id;
  fx.observer = v.json.token;
  const gone = await send('POST', '/api/v1/tokens', { body: { name: 'bi-deleted', role: 'admin' } });
  assert.equal((await send('DELETE', `/api/v1/tokens/${gone.json.id}`)).status, 204);
  fx.deletedApiToken = gone.json.token;
  const s = await send('POST', '/api/v1/enroll-secrets', { body: { name: 'bi-victim' } });
  fx.victimSecretId = s.json.id;
  const s2 = await send('POST', '/api/v1/enroll-secrets', { body: { name: 'bi-deleted' } });
  assert.equal((await send('DELETE', `/api/v1/enroll-secrets/${s2.json.id}`)).status, 204);
  fx.deletedSecret = s2.json.secret;
  const old = await enroll('BI-R');
  await enroll('BI-R'); // the same serial again: the first token is revoked
  fx.revokedDeviceToken = old.token;
  // a CA no profile uses: DELETE would succeed
  const ca = await send('POST', '/api/v1/cas', { body: { name: 'bi-victim-ca', type: 'digicert', url: fleet.mock.url, api_token: fleet.mock.apiKey, profile_id: fleet.mock.profileId } });
  assert.equal(ca.status, 201, ca.text);
  fx.victimCaId = ca.json.id;
  fx.goodCsr = (await makeCsr({ cn: 'bi' })).csrPem;
  // the device fixture F is failed, so a resend of it would succeed
  const f = await send('POST', `/device/v1/profiles/${fx.profileId}/ack`, { token: fx.devF.token, body: { generation: 1, result: 'error', detail: 'fixture' } });
  assert.equal(f.status, 200, f.text);
});

after(async () => {
  console.log(`bad_input: ${total} cases`);
  db?.close();
  agent?.destroy();
  await fleet?.stop();
});

// ---- the catalog -------------------------------------------------------------

const MALFORMED = ['{', '{"', '{"a"', '{"a":', '{"a":1', '{"a":1,}', '{,}', '{}}', '{"a":1}{"b":2}', "{'a':1}", '{a:1}',
  '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":.5}', '{"a":"\\x41"}', '{"a":"\\ud800"}', '{"a":tru}', '{"a":"unterminated}',
  '\ufeff{}', ' ', '\n', 'null', 'true', '42', '"text"', '[]', '[{}]', '{"a":' + '['.repeat(20000) + ']'.repeat(20000) + '}',
  '['.repeat(100000)];
const MALFORMED_BYTES = [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // invalid UTF-8
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), // overlong encoding
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])]; // UTF-16 surrogate as UTF-8

test('malformed and truncated JSON: 400 invalid_json', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    for (const m of MALFORMED) cases.push(bodyCase(r, `malformed ${JSON.stringify(m.slice(0, 24))}`, m, INVALID_JSON));
    for (const m of MALFORMED_BYTES) cases.push(bodyCase(r, `bytes ${m.toString('hex')}`, m, INVALID_JSON));
    const full = JSON.stringify(r.body());
    for (const cut of new Set([1, 2, Math.floor(full.length / 3), Math.floor(full.length / 2), full.length - 2, full.length - 1])) {
      cases.push(bodyCase(r, `truncated at ${cut}/${full.length}`, full.slice(0, cut), INVALID_JSON));
    }
    if (!r.emptyOk) cases.push(bodyCase(r, 'empty body', '', INVALID_JSON, { contentType: 'application/json' }));
  }
  await runCases(cases);
});

const WRONG = {
  string: [5, -1, 1.5, true, false, [], ['x'], {}, { a: 'x' }],
  int: ['1', 1.5, 1e300, true, [], [1], {}],
  bool: ['true', 1, 0, [], {}],
  array: ['x', 1, true, {}],
  object: ['x', 1, true, [], null],
};

test('wrong types per field, missing and null required fields: 400 invalid_request naming the field', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    for (const f of r.fields) {
      for (const v of WRONG[f.type]) cases.push(bodyCase(r, `${f.field}=${JSON.stringify(v)}`, setAt(baseOf(r, f), f.path, v), invalid(f.field)));
      if (f.req) {
        // a JSON null counts as absent
        cases.push(bodyCase(r, `${f.field} missing`, setAt(baseOf(r, f), f.path, undefined), invalid(f.field)));
        cases.push(bodyCase(r, `${f.field}=null`, setAt(baseOf(r, f), f.path, null), invalid(f.field)));
      }
    }
  }
  await runCases(cases);
});

test('unknown and duplicate keys: 400', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    const valid = r.body();
    for (const k of ['zz_unknown', 'Name', 'id', 'admin', 'role ', '__proto__', 'constructor', '']) {
      if (r.fields.some((f) => f.field === k)) continue;
      cases.push(bodyCase(r, `unknown key ${JSON.stringify(k)}`, JSON.stringify(valid).replace(/^\{/, `{${JSON.stringify(k)}:true,`), invalid(k)));
    }
    // unknown keys inside nested objects
    for (const f of r.fields.filter((x) => x.type === 'object')) {
      cases.push(bodyCase(r, `unknown key in ${f.field}`, setAt(valid, [...f.path, 'zz_unknown'], 1), { status: 400, code: 'invalid_request', field: true }));
    }
    for (const f of r.fields.filter((x) => x.path.length === 1)) {
      const v = valid[f.field] ?? WRONG.string[0];
      const dupFirst = `{${JSON.stringify(f.field)}:${JSON.stringify(v)},` + JSON.stringify(valid).slice(1);
      cases.push(bodyCase(r, `duplicate ${f.field}`, f.field in valid ? dupFirst : JSON.stringify(valid).replace(/\}$/, `,"${f.field}":1,"${f.field}":2}`),
        { status: 400, code: ['invalid_json', 'invalid_request'] }));
    }
  }
  await runCases(cases);
});

test('NUL bytes, escaped and raw: 400', async () => {
  const cases = [];
  const NUL = '\u0001NUL\u0001';
  for (const r of bodyRoutes) {
    const valid = r.body();
    for (const f of r.fields.filter((x) => x.type === 'string')) {
      const base = baseOf(r, f);
      cases.push(bodyCase(r, `${f.field} with \\u0000`, setAt(base, f.path, 'x\u0000y'), { status: 400, code: ['invalid_json', 'invalid_request'] }));
      cases.push(bodyCase(r, `${f.field} only \\u0000`, setAt(base, f.path, '\u0000'), { status: 400, code: ['invalid_json', 'invalid_request'] }));
      const rawNul = JSON.stringify(setAt(base, f.path, `x${NUL}y`)).replace(/\\u0001NUL\\u0001/, '\u0000');
      cases.push(bodyCase(r, `${f.field} with a raw NUL byte`, Buffer.from(rawNul), INVALID_JSON));
    }
    const text = JSON.stringify(valid);
    cases.push(bodyCase(r, 'raw NUL before the object', Buffer.concat([Buffer.from([0]), Buffer.from(text)]), INVALID_JSON));
    cases.push(bodyCase(r, 'raw NUL after the object', Buffer.concat([Buffer.from(text), Buffer.from([0])]), INVALID_JSON));
    cases.push(bodyCase(r, 'raw NUL between members', Buffer.from(text.replace(/^\{/, '{\u0000')), INVALID_JSON));
    cases.push(bodyCase(r, 'escaped NUL in a key', text.replace(/^\{/, '{"a\\u0000b":1,'), { status: 400, code: ['invalid_json', 'invalid_request'] }));
    cases.push(bodyCase(r, 'raw NUL in a key', Buffer.from(text.replace(/^\{/, '{"a\u0000b":1,')), INVALID_JSON));
    cases.push(bodyCase(r, 'only NUL bytes', Buffer.alloc(64), INVALID_JSON));
  }
  // NUL in the path and query: percent-encoded, it must not be cut off silently
  const nulPaths = [
    `/api/v1/cas/${fleet.caId}%00`, `/api/v1/cas/${fleet.caId}%00junk`, `/api/v1/profiles/${fx.profileId}%00`,
    `/api/v1/devices/${fx.devA.id}%00`, `/api/v1/devices/${fx.devA.id}%00/profiles/${fx.profileId}`,
    '/api/v1/devices?status=failed%00x', '/api/v1/devices?q=BI%00x', '/api/v1/tokens?limit=5%00x',
    '/api/v1/status?fail_on=failed%00bogus', '/api/v1/audit?actor=admin%00x',
    '/index.html%00.png', '/%00', '/%00../../etc/passwd',
  ];
  for (const path of nulPaths) {
    cases.push({ name: 'encoded NUL in the URL', method: 'GET', path, expect: { status: [400, 404], code: ['invalid_request', 'not_found'] } });
  }
  await runCases(cases);
});

test('empty and over-long strings and arrays: 400 naming the field', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    const valid = r.body();
    for (const f of r.fields) {
      if (f.type === 'string') {
        const max = f.max ?? 256;
        const base = baseOf(r, f);
        cases.push(bodyCase(r, `${f.field} empty`, setAt(base, f.path, ''), invalid(f.field)));
        cases.push(bodyCase(r, `${f.field} ${max + 1} bytes`, setAt(base, f.path, 'a'.repeat(max + 1)), invalid(f.field)));
        // bytes, not characters: 2-byte characters over the limit in bytes, under it in characters
        cases.push(bodyCase(r, `${f.field} ${Math.ceil((max + 1) / 2)} two-byte characters`, setAt(base, f.path, 'é'.repeat(Math.ceil((max + 1) / 2))), invalid(f.field)));
        cases.push(bodyCase(r, `${f.field} 900 KiB`, setAt(base, f.path, 'a'.repeat(900 * 1024)), invalid(f.field)));
      } else if (f.type === 'array' && f.path.length === 1) {
        const item = valid[f.field]?.[0] ?? 'x';
        const n = f.maxItems ?? (f.field === 'user_principal_names' ? 1 : 1000);
        cases.push(bodyCase(r, `${f.field} with ${n + 1} items`, setAt(valid, f.path, Array(n + 1).fill(item)), invalid(f.field)));
      }
    }
  }
  await runCases(cases);
});

test('bodies over 1 MiB: 413 before anything else, with and without Content-Length', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    const valid = JSON.stringify(r.body());
    const pad = (size) => valid.replace(/\}$/, `,"zz_unknown":"${'a'.repeat(size - valid.length - 16)}"}`);
    const big = pad(MiB + 1);
    assert.equal(Buffer.byteLength(big), MiB + 1);
    cases.push(bodyCase(r, '1 MiB + 1 with Content-Length', big, { status: 413, code: 'payload_too_large' }, { expectContinue: true }));
    cases.push(bodyCase(r, '1 MiB + 1 chunked', big, { status: 413, code: 'payload_too_large' }, { chunked: true }));
    cases.push(bodyCase(r, '3 MiB chunked', pad(3 * MiB), { status: 413, code: 'payload_too_large' }, { chunked: true }));
    cases.push(bodyCase(r, '1 MiB + 1 without a token', big, { status: 413, code: 'payload_too_large' }, { expectContinue: true, token: null }));
    cases.push(bodyCase(r, '1 MiB + 1 as text/plain', big, { status: 413, code: 'payload_too_large' }, { expectContinue: true, contentType: 'text/plain' }));
    cases.push(bodyCase(r, '1 MiB + 1 chunked without a token', big, { status: 413, code: 'payload_too_large' }, { chunked: true, token: null }));
    // a Content-Length that promises more than the limit is refused before the body is read
    cases.push({ name: 'Content-Length 10 GiB', method: r.method, path: pathOf(r), token: tokenOf(r), raw: '{}', expectContinue: true,
      headers: { 'Content-Length': String(10 * 1024 * MiB) }, expect: { status: 413, code: 'payload_too_large' } });
    // exactly 1 MiB is read and parsed: the unknown key is what is refused
    cases.push(bodyCase(r, 'exactly 1 MiB', pad(MiB), invalid('zz_unknown'), { fresh: true }));
  }
  await runCases(cases);
});

const BAD_IDS = ['not-a-uuid', '1', '0', '-1', 'null', 'undefined', '%20', '..', '%2e%2e', 'x'.repeat(300),
  '%27%20OR%20%271%27%3D%271', '1%3BDROP%20TABLE%20devices', '{id}', '%7B%7D'];
function badUuids() {
  const u = randomUUID();
  return [...BAD_IDS, `${u}0`, u.slice(0, 35), `g${u.slice(1)}`, u.replace(/-/g, ''), `{${u}}`, `%7B${u}%7D`, ` ${u}`.replace(' ', '%20'),
    u.replace(/-/g, '_'), `${u.slice(0, 8)}-${u.slice(9)}`.replace('-', '--')];
}

test('invalid ids in paths and bodies: 400; unknown ids: 404', async () => {
  const cases = [];
  for (const r of paramRoutes) {
    const body = r.body?.();
    for (const p of Object.keys(r.params)) {
      for (const bad of badUuids()) {
        cases.push({ name: `${p}=${bad.slice(0, 40)}`, method: r.method, path: pathOf(r, { [p]: bad }), token: tokenOf(r), body,
          expect: { status: 400, code: 'invalid_request', field: true } });
      }
      cases.push({ name: `${p} unknown`, method: r.method, path: pathOf(r, { [p]: randomUUID() }), token: tokenOf(r), body,
        expect: { status: 404, code: 'not_found' } });
    }
  }
  // ids inside bodies
  const profiles = ROUTES.filter((r) => r.fields?.some((f) => f.uuid));
  for (const r of profiles) {
    for (const f of r.fields.filter((x) => x.uuid)) {
      for (const bad of badUuids().filter((b) => !b.includes('%') && b.length <= (f.max ?? 64))) {
        cases.push(bodyCase(r, `${f.field}=${bad.slice(0, 40)}`, setAt(r.body(), f.path, bad), invalid(f.field)));
      }
    }
  }
  const profile = ROUTES.find((r) => r.pattern === '/api/v1/profiles');
  cases.push(bodyCase(profile, 'ca_id unknown', { ...profile.body(), ca_id: randomUUID() }, invalid('ca_id')));
  const patch = ROUTES.find((r) => r.method === 'PATCH' && r.pattern === '/api/v1/profiles/{id}');
  cases.push(bodyCase(patch, 'ca_id unknown', { ca_id: randomUUID() }, invalid('ca_id')));
  const assign = ROUTES.find((r) => r.pattern === '/api/v1/profiles/{id}/assignments');
  cases.push(bodyCase(assign, 'device_ids[1] invalid', { device_ids: [fx.devB.id, 'nope'] }, invalid('device_ids[1]')));
  cases.push(bodyCase(assign, 'neither device_ids nor all', {}, invalid('device_ids')));
  cases.push(bodyCase(assign, 'all false', { all: false }, invalid('device_ids')));
  cases.push(bodyCase(assign, 'both device_ids and all', { device_ids: [fx.devB.id], all: true }, invalid('device_ids')));
  await runCases(cases);
});

test('a bad path parameter is named in field as the API description names it', async () => {
  // api/openapi.yaml: "A path parameter that is not a UUID is refused with 400
  // invalid_request naming it in `field`"; its parameters are id, device_id, profile_id.
  const failures = [];
  for (const r of paramRoutes) {
    for (const p of Object.keys(r.params)) {
      total++;
      const res = await send(r.method, pathOf(r, { [p]: 'not-a-uuid' }), { token: tokenOf(r), body: r.body?.() });
      if (res.status !== 400 || res.json?.error?.field !== p) failures.push(`${r.method} ${r.pattern}: ${p} → ${res.status} field ${JSON.stringify(res.json?.error?.field)}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

const PAGE_BAD = [['limit', ['0', '-1', '501', 'abc', '1.5', '', '1e2', '99999999999999999999', '5%3B', '%27', '0x10']],
  ['cursor', ['zz', '', 'abc', '00', Buffer.from(`x\nnot-a-uuid`).toString('hex'), Buffer.from(`\n${randomUUID()}`).toString('hex'),
    'f'.repeat(1000), '%27%20OR%201%3D1', '0A']]];
const QUERY_BAD = {
  page: PAGE_BAD,
  devices: [...PAGE_BAD, ['status', ['bogus', '', 'FAILED', 'failed,pending', '%27']], ['profile_id', ['x', '', randomUUID() + '0', '%27%20OR%201%3D1']],
    ['q', ['a'.repeat(129), '%ff', '%c0%af', 'é'.repeat(65)]]],
  history: [...PAGE_BAD, ['cursor', [Buffer.from(`12\n${randomUUID()}`).toString('hex'), Buffer.from(`x1\n${randomUUID()}`).toString('hex')]]],
  status: [['profile_id', ['x', '', '%27']], ['fail_on', ['bogus', 'failed,bogus', 'a'.repeat(257), '%ff', 'FAILED', '%27%3B']]],
  audit: [['limit', ['0', '501', 'abc', '']], ['cursor', ['0', '-5', 'abc', '1.5', '99999999999999999999999']], ['actor', ['', 'a'.repeat(201)]]],
};

test('bad query parameters: 400 naming the parameter', async () => {
  const cases = [];
  for (const r of ROUTES.filter((x) => x.query)) {
    for (const [name, values] of QUERY_BAD[r.query]) {
      for (const v of values) {
        cases.push({ name: `?${name}=${v.slice(0, 30)}`, method: r.method, path: pathOf(r, {}, `?${name}=${v}`), token: tokenOf(r),
          expect: invalid(name) });
      }
    }
  }
  // an unknown profile in ?profile_id= of the status is 404
  cases.push({ name: 'unknown profile_id', method: 'GET', path: `/api/v1/status?profile_id=${randomUUID()}`, expect: { status: 404, code: 'not_found', field: 'profile_id' } });
  await runCases(cases);
});

const BAD_TYPES = [null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'text/json', 'application/jsonx', 'application/json-patch+json', 'application/problem+json', 'application/', 'json', '*/*',
  'application/octet-stream', ' ', 'application/json/x', 'application/javascript'];

test('wrong content types: 415', async () => {
  const cases = [];
  for (const r of ROUTES) {
    const body = r.body ? r.body() : { any: 1 };
    for (const ct of BAD_TYPES) {
      cases.push({ name: `Content-Type ${JSON.stringify(ct)}`, method: r.method, path: pathOf(r), token: tokenOf(r),
        raw: JSON.stringify(body), contentType: ct, expect: { status: 415, code: 'unsupported_media_type' } });
    }
  }
  await runCases(cases);
});

test('tokens of the wrong kind, malformed or revoked: 401; observers may not write: 403', async () => {
  const cases = [];
  const adminHash = srv.sql(`SELECT token_hash FROM api_tokens WHERE name = 'bootstrap'`);
  const secretHash = srv.sql(`SELECT secret_hash FROM enroll_secrets WHERE secret_hash = '${createHash('sha256').update(fleet.enrollSecret).digest('hex')}'`);
  assert.match(secretHash, /^[0-9a-f]{64}$/);
  const variants = (r) => {
    const v = [
      ['no Authorization', { token: null }],
      ['empty Bearer', { auth: 'Bearer ' }],
      ['Bearer only', { auth: 'Bearer' }],
      ['Basic', { auth: `Basic ${Buffer.from(`admin:${srv.token}`).toString('base64')}` }],
      ['token without scheme', { auth: srv.token }],
      ['Token scheme', { auth: `Token ${srv.token}` }],
      ['two tokens', { auth: `Bearer ${srv.token} ${srv.token}` }],
      ['enroll secret', { token: fleet.enrollSecret }],
      ['deleted enroll secret', { token: fx.deletedSecret }],
      ['unknown cdt_', { token: `cdt_${randomBytes(24).toString('hex')}` }],
      ['unknown cdd_', { token: `cdd_${randomBytes(24).toString('hex')}` }],
      ['prefix only', { token: 'cdt_' }],
      ['600 characters', { token: `cdt_${'a'.repeat(596)}` }],
      ['SQL', { token: "cdt_' OR '1'='1" }],
      ['hash of the admin token', { token: adminHash }],
      ['admin token with a trailing byte', { token: `${srv.token}x` }],
      ['admin token truncated', { token: srv.token.slice(0, -1) }],
    ];
    if (r.auth === 'device') {
      v.push(['admin API token', { token: srv.token }], ['observer API token', { token: fx.observer }],
        ['revoked device token', { token: fx.revokedDeviceToken }], ['deleted API token', { token: fx.deletedApiToken }],
        ['device token with a trailing byte', { token: `${fx.devA.token}x` }]);
    } else {
      v.push(['device token', { token: fx.devA.token }], ['revoked device token', { token: fx.revokedDeviceToken }],
        ['deleted API token', { token: fx.deletedApiToken }]);
    }
    return v;
  };
  for (const r of authRoutes) {
    for (const [name, o] of variants(r)) {
      cases.push({ name, method: r.method, path: pathOf(r), body: r.body?.(), ...o, expect: { status: 401, code: 'unauthorized' } });
    }
    if (r.auth === 'write') {
      cases.push({ name: 'observer token', method: r.method, path: pathOf(r), body: r.body?.(), token: fx.observer, expect: { status: 403, code: 'forbidden' } });
    }
  }
  // enrollment: only an enroll secret enrolls
  const enrollRoute = ROUTES.find((r) => r.pattern === '/device/v1/enroll');
  for (const [name, secret] of [['admin API token', srv.token], ['device token', fx.devA.token], ['deleted secret', fx.deletedSecret],
    ['secret with a space', ` ${fleet.enrollSecret}`], ['secret upper-cased', fleet.enrollSecret.toUpperCase()],
    ['secret truncated', fleet.enrollSecret.slice(0, -1)], ['hash of the secret', secretHash]]) {
    cases.push(bodyCase(enrollRoute, `enroll_secret = ${name}`, { ...enrollRoute.body(), enroll_secret: secret }, { status: 401, code: 'unauthorized', field: 'enroll_secret' }));
  }
  cases.push(bodyCase(enrollRoute, 'the secret as a bearer token, not in the body', { serial: 'BI-X' }, invalid('enroll_secret'), { token: fleet.enrollSecret }));
  await runCases(cases);
});

test('invalid UTF-8 in the URL, and multi-byte characters cut where a message quotes input: still a 4xx', async () => {
  // error messages quote the path, ids and keys (some cut to 64 bytes); the
  // reply must still be the 4xx with its error body, never a 500
  const cut = `${'a'.repeat(63)}é`; // byte 64 is the first half of é
  const enc = encodeURIComponent(cut);
  const cases = [
    { name: 'invalid UTF-8 in a static path', method: 'GET', path: '/%ff.html', token: null, expect: { status: 404, code: 'not_found' } },
    { name: 'overlong UTF-8 in a static path', method: 'GET', path: '/%c0%ae%c0%ae/etc/passwd', token: null, expect: { status: 404, code: 'not_found' } },
    { name: 'invalid UTF-8 under /api', method: 'GET', path: '/api/v1/%ff', expect: { status: 404, code: 'not_found' } },
    { name: 'invalid UTF-8 id', method: 'GET', path: '/api/v1/cas/%ff', expect: invalid(true) },
    { name: 'invalid UTF-8 id, device API', method: 'POST', path: '/device/v1/profiles/%ff/ack', token: fx.devA.token,
      body: { generation: 1, result: 'error', detail: 'x' }, expect: invalid(true) },
    { name: 'id cut inside a character', method: 'GET', path: `/api/v1/profiles/${enc}`, expect: invalid(true) },
    { name: 'id cut inside a character, DELETE', method: 'DELETE', path: `/api/v1/tokens/${enc}`, expect: invalid(true) },
    { name: 'invalid UTF-8, wrong method', method: 'PUT', path: '/api/v1/tokens/%ff', expect: { status: 405, code: 'method_not_allowed' } },
    { name: 'invalid UTF-8, no route', method: 'PUT', path: '/api/%ff', expect: { status: [404, 405], code: ['not_found', 'method_not_allowed'] } },
    { name: 'invalid UTF-8 in ?actor=', method: 'GET', path: '/api/v1/audit?actor=%ff', expect: invalid('actor') },
    { name: 'invalid UTF-8 in ?cursor=', method: 'GET', path: '/api/v1/tokens?cursor=%ff', expect: invalid('cursor') },
    { name: 'invalid UTF-8 in ?limit=', method: 'GET', path: '/api/v1/tokens?limit=%ff', expect: invalid('limit') },
  ];
  for (const r of bodyRoutes) {
    cases.push(bodyCase(r, 'unknown key cut inside a character', { ...r.body(), [cut]: 1 }, invalid(cut)));
  }
  const profile = ROUTES.find((r) => r.pattern === '/api/v1/profiles');
  cases.push(bodyCase(profile, 'ca_id cut inside a character', { ...profile.body(), ca_id: `${'a'.repeat(61)}é` }, invalid('ca_id')));
  cases.push(bodyCase(profile, 'common_name with an unknown variable cut inside a character', { ...profile.body(), common_name: `$${'A'.repeat(63)}é` }, invalid('common_name')));
  await runCases(cases);
});

test('path traversal never reads a file outside the web directory', async () => {
  const cases = [];
  const paths = [
    '/../../etc/passwd', '/../../../../../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/..%2f..%2fetc%2fpasswd', '/%252e%252e/%252e%252e/etc/passwd', '/.%2e/.%2e/etc/passwd', '/%2E%2E/%2E%2E/etc/passwd',
    '/web-ui/../server/main.c', '/../server/main.c', '/..%2fserver%2fmain.c', '/index.html/../../server/main.c', '/./../server/main.c',
    '/../README.md', '/../Makefile', '/..', '/../', '/%2e%2e', '/.', '/./index.html',
    '//etc/passwd', '///etc/passwd', '/etc/passwd', '/%2fetc%2fpasswd', '/proc/self/environ', '/dev/zero', '/dev/urandom.txt',
    '/..\\..\\etc\\passwd', '/%5c..%5c..%5cetc%5cpasswd', '/\\etc\\passwd', '/..%5cserver%5cmain.c', '/%5cserver%5cmain.c',
    '/.git/config', '/.env', '/.hidden.html', '/..%00/etc/passwd', '/index.html%2f..%2f..%2fserver%2fmain.c',
    '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/%e0%80%ae%e0%80%ae/etc/passwd', '/..%c0%afetc%c0%afpasswd',
    'https://127.0.0.1/../../etc/passwd', '/' + '../'.repeat(2000) + 'etc/passwd', '/' + 'a/'.repeat(3000) + 'x.html',
    `/${'%2e%2e/'.repeat(10)}proc/self/cmdline`, '/%2e%2e/var/master.key', '/../var/master.key', '/../build/certdeployd',
  ];
  for (const p of paths) {
    cases.push({ name: 'traversal', method: 'GET', path: p, token: null, fresh: p.length > 4000, expect: { status: [400, 404], code: ['not_found', 'invalid_request'] } });
  }
  // the traversal must not work with a token or a HEAD either
  for (const p of ['/../../etc/passwd', '/%2e%2e/server/main.c']) {
    cases.push({ name: 'traversal with a token', method: 'GET', path: p, expect: { status: [400, 404], code: ['not_found', 'invalid_request'] } });
  }
  await runCases(cases);
  // and no answer carried a file from outside the web directory
  for (const p of paths) {
    const r = await send('GET', p, { token: null, fresh: p.length > 4000 });
    assert.ok(!/root:.*:0:0:|#include|CERTDEPLOY_|^\s*\[core\]/m.test(r.text), `${p} served something from outside: ${r.text.slice(0, 100)}`);
  }
  // the dashboard itself is still served
  const ok = await send('GET', '/index.html', { token: null });
  assert.equal(ok.status, 200);
  assert.match(ok.headers['content-type'], /^text\/html/);
  assert.equal((await send('GET', '/', { token: null })).status, 200);
});

async function opensslCsr(keyArgs) {
  return openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', '/dev/null', '-subj', '/CN=bi', '-outform', 'PEM']);
}

test('invalid and weak CSRs are refused with field csr and change nothing', async () => {
  const r = ROUTES.find((x) => x.pattern === '/device/v1/profiles/{profile_id}/csr');
  const good = fx.goodCsr;
  const b64 = good.replace(/-----[^-]+-----|\s/g, '');
  const armor = (s) => `-----BEGIN CERTIFICATE REQUEST-----\n${s}\n-----END CERTIFICATE REQUEST-----\n`;
  const caPem = await fleet.mock.caPem();
  const keyPem = (await makeCsr({ cn: 'k' })).keyPem;
  const csrs = [
    ['garbage', 'garbage'],
    ['empty armor', armor('')],
    ['armor of base64 garbage', armor('AAAA'.repeat(40))],
    ['armor of non-base64', armor('!!!! ****')],
    ['truncated', good.slice(0, Math.floor(good.length / 2))],
    ['body cut short inside the armor', armor(b64.slice(0, b64.length - 20))],
    ['no END line', good.replace(/-----END[^\n]*\n?/, '')],
    ['wrong armor label', good.replace(/CERTIFICATE REQUEST/g, 'PUBLIC KEY')],
    ['DER as base64 without armor', b64],
    ['a private key', keyPem],
    ['tampered signature', tamperCsr(good)],
    ['RSA-1024', (await makeCsr({ cn: 'bi', keyType: 'rsa1024' })).csrPem],
    ['RSA-512', await opensslCsr(['-newkey', 'rsa:512'])],
    ['EC secp256k1', await opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'])],
    ['EC P-192', await opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1'])],
    ['Ed25519', await opensslCsr(['-newkey', 'ed25519'])],
    ['SQL', "x'); DROP TABLE deployments; --"],
  ];
  csrs.push(['a certificate', caPem]);
  const cases = csrs.map(([name, csr]) => bodyCase(r, `csr: ${name}`, { generation: 1, csr }, invalid('csr')));
  cases.push(bodyCase(r, 'csr: binary DER bytes', Buffer.concat([Buffer.from('{"generation":1,"csr":"'), Buffer.from(b64, 'base64'), Buffer.from('"}')]), INVALID_JSON));
  await runCases(cases);
  const dep = srv.sql(`SELECT coalesce(csr, '-') || ' ' || coalesce(csr_generation::text, '-') || ' ' || status FROM deployments
    WHERE device_id = '${fx.devA.id}' AND profile_id = '${fx.profileId}'`);
  assert.equal(dep, '- - pending', 'no CSR stored');
});

// ---- SQL metacharacters: stored verbatim -------------------------------------

const SQL = [
  "x'); DROP TABLE devices; --",
  "' OR '1'='1",
  '"; DELETE FROM api_tokens WHERE \'\'=\'\'; --',
  "\\'; SELECT pg_sleep(3); --",
  "%_\\ LIKE '%' ESCAPE '\\'",
  "'||(SELECT token_hash FROM api_tokens LIMIT 1)||'",
  "Robert'); TRUNCATE deployments CASCADE;--",
  "E'\\x27'; COMMIT; ROLLBACK; --",
  "$$; DROP TABLE cas; $$",
  "ʼ OR 1=1 -- ″ ＇",
];

test('SQL metacharacters in enums, ids and tokens are refused, changing nothing', async () => {
  const cases = [];
  for (const r of bodyRoutes) {
    for (const f of r.fields.filter((x) => x.enum || x.uuid || x.hex64)) {
      for (const s of SQL.filter((x) => Buffer.byteLength(x) <= (f.max ?? 256))) {
        cases.push(bodyCase(r, `${f.field}=${s}`, setAt(baseOf(r, f), f.path, s), invalid(f.field)));
      }
    }
  }
  const ca = ROUTES.find((r) => r.pattern === '/api/v1/cas');
  for (const s of SQL) {
    cases.push(bodyCase(ca, `url=${s}`, { ...ca.body(), name: `bi-sql-url ${s}`, url: s }, invalid('url')));
    cases.push(bodyCase(ca, `api_token=${s}`, { ...ca.body(), name: `bi-sql-token ${s}`, api_token: s }, { status: [400, 422], code: ['invalid_request', 'ca_validation_failed'], field: 'api_token' }));
    cases.push(bodyCase(ca, `profile_id=${s}`, { ...ca.body(), name: `bi-sql-profile ${s}`, profile_id: s }, { status: [400, 422], code: ['invalid_request', 'ca_validation_failed'], field: 'profile_id' }));
  }
  await runCases(cases);
});

test('SQL metacharacters in every string field are stored and read back verbatim', async () => {
  const counts = () => srv.sql(`SELECT (SELECT count(*) FROM devices) || ' ' || (SELECT count(*) FROM api_tokens) || ' ' ||
    (SELECT count(*) FROM cas) || ' ' || (SELECT count(*) FROM profiles) || ' ' || (SELECT count(*) FROM deployments)`).split(' ').map(Number);
  const [dev0, tok0, ca0, prof0] = counts();
  const failures = [];
  const check = (what, got, want) => {
    total++;
    if (got !== want) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  let i = 0;
  for (const s of SQL) {
    i++;
    // tokens and enroll secrets: name
    const t = await send('POST', '/api/v1/tokens', { body: { name: s, role: 'observer' } });
    check(`token ${s}`, t.status, 201);
    check('token name in the reply', t.json?.name, s);
    const tl = await send('GET', '/api/v1/tokens?limit=500');
    check('token name in the list', tl.json.tokens.find((x) => x.id === t.json?.id)?.name, s);
    const e = await send('POST', '/api/v1/enroll-secrets', { body: { name: s } });
    check(`enroll secret ${s}`, e.status, 201);
    check('enroll secret name in the reply', e.json?.name, s);
    // CA name (the CA itself validates the rest)
    const ca = await send('POST', '/api/v1/cas', { body: { name: s, type: 'digicert', url: fleet.mock.url, api_token: fleet.mock.apiKey, profile_id: fleet.mock.profileId } });
    check(`CA ${s}`, ca.status, 201);
    check('CA name read back', (await send('GET', `/api/v1/cas/${ca.json?.id}`)).json?.name, s);
    const caPatch = await send('PATCH', `/api/v1/cas/${ca.json?.id}`, { body: { name: `${s} (renamed)` } });
    check('CA name patched', caPatch.json?.name, `${s} (renamed)`);
    // profiles: name and the templates (a literal $ is written $$)
    const tmpl = s.replace(/\$/g, '$$$$');
    const p = await send('POST', '/api/v1/profiles', { body: { name: s, ca_id: fleet.caId, common_name: tmpl, seat_id: `seat ${tmpl}`, user_principal_names: [`${tmpl}@example.com`], key_mode: 'device' } });
    check(`profile ${s}`, p.status, 201);
    const pg = (await send('GET', `/api/v1/profiles/${p.json?.id}`)).json;
    check('profile name read back', pg?.name, s);
    check('profile common_name read back', pg?.common_name, tmpl);
    check('profile seat_id read back', pg?.seat_id, `seat ${tmpl}`);
    check('profile UPN read back', pg?.user_principal_names?.[0], `${tmpl}@example.com`);
    const pp = await send('PATCH', `/api/v1/profiles/${p.json?.id}`, { body: { name: `${s} #2`, common_name: `${tmpl} #2` } });
    check('profile patched', `${pp.json?.profile?.name}|${pp.json?.profile?.common_name}`, `${s} #2|${tmpl} #2`);
    // devices: serial and name, found again by q
    const serial = `${s} ${i}`;
    const d = await send('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: s } });
    check(`enroll ${s}`, d.status, 201);
    const dg = (await send('GET', `/api/v1/devices/${d.json?.device_id}`)).json;
    check('device serial read back', dg?.serial, serial);
    check('device name read back', dg?.name, s);
    const q = await send('GET', `/api/v1/devices?q=${encodeURIComponent(serial)}`);
    check('device found by q', q.json?.devices?.map((x) => x.id).join(), d.json?.device_id);
    // a device's error acknowledgement: its detail lands in the deployment
    const a = await send('POST', `/api/v1/profiles/${p.json?.id}/assignments`, { body: { device_ids: [d.json?.device_id] } });
    check('assigned', a.json?.assigned, 1);
    const ack = await send('POST', `/device/v1/profiles/${p.json?.id}/ack`, { token: d.json?.device_token, body: { generation: 1, result: 'error', detail: s } });
    check(`ack ${s}`, ack.status, 200);
    const dep = (await send('GET', `/api/v1/devices/${d.json?.device_id}/profiles/${p.json?.id}`)).json;
    check('ack detail read back', dep?.detail?.endsWith(s), true);
    // an inventory with the string as its profile id changes nothing and is no error
    const c = await send('POST', '/device/v1/checkin', { token: d.json?.device_token, body: { installed: [{ profile_id: s.slice(0, 64), sha256: sha('cd') }] } });
    check(`checkin with ${s}`, c.status, 200);
    // query parameters: an audit actor filter finds nothing; enums and ids are refused
    const au = await send('GET', `/api/v1/audit?actor=${encodeURIComponent(s)}`);
    check(`audit actor ${s}`, `${au.status} ${au.json?.events?.length}`, '200 0');
  }
  // every table is still there, with exactly the rows made above
  const [dev1, tok1, ca1, prof1, depl1] = counts();
  check('devices', dev1, dev0 + SQL.length);
  check('tokens', tok1, tok0 + SQL.length);
  check('cas', ca1, ca0 + SQL.length);
  check('profiles', prof1, prof0 + SQL.length);
  check('deployments still there', depl1 >= SQL.length, true);
  check('the admin token still works', (await send('GET', '/api/v1/whoami')).status, 200);
  assert.deepEqual(failures, [], failures.join('\n'));
  await assertHealthy();
});
