// The OpenAPI contract: api/openapi.yaml is kept true by this file.
//
// 1. The route table (server/routes.c) and the spec list the same
//    operations, with the same kind of authentication.
// 2. The spec passes Redocly's linter (api/redocly.yaml says which rules
//    are off and why).
// 3. Real replies match it: one scenario on the real server, the real mock
//    CA and the real agent calls every route at least once with a success
//    and with an error, and every reply (status, content type, body) is
//    validated against the spec's schema for that operation and status. A
//    status the spec does not list fails. Request bodies of successful
//    calls are checked against the spec's request schemas too.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startServer } from './lib/server.mjs';
import {
  loadSpec, operations, matchPath, validateResponse, validateComponentResponse, requestProblems,
} from './lib/openapi.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const norm = (p) => p.replace(/\{[^}]+\}/g, '{}');

/** The rows of server/routes.c: [{method, path, auth}]. */
function routeTable() {
  const src = readFileSync(join(ROOT, 'server/routes.c'), 'utf8');
  const rows = [...src.matchAll(/\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(ROUTE_[A-Z_]+)/g)]
    .map((m) => ({ method: m[1], path: m[2], auth: m[3] }));
  assert.ok(rows.length >= 30, `parsed only ${rows.length} routes from server/routes.c`);
  return rows;
}

/** The security the spec gives an operation: 'public', 'apiToken' or 'deviceToken'. */
function securityOf(doc, op) {
  const sec = op.security ?? doc.security ?? [];
  if (sec.length === 0) return 'public';
  const names = [...new Set(sec.flatMap((s) => Object.keys(s)))];
  assert.equal(names.length, 1, `one security scheme per operation, got ${names}`);
  return names[0];
}

// ---- 1. route table vs spec -------------------------------------------

test('the route table and the spec list the same operations', () => {
  const doc = loadSpec();
  const routes = routeTable();
  const ops = operations(doc);
  const key = (m, p) => `${m} ${norm(p)}`;
  const specKeys = new Map(ops.map((o) => [key(o.method, o.path), o]));
  const routeKeys = new Map(routes.map((r) => [key(r.method, r.path), r]));

  const missingInSpec = routes.filter((r) => !specKeys.has(key(r.method, r.path))).map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(missingInSpec, [], 'routes of server/routes.c missing from api/openapi.yaml');

  // Operations only the spec has must be the static fallback (routes_static.c).
  const onlyInSpec = ops.filter((o) => !routeKeys.has(key(o.method, o.path)) && !o.op['x-certdeploy-static'])
    .map((o) => `${o.method} ${o.path}`);
  assert.deepEqual(onlyInSpec, [], 'operations of api/openapi.yaml that server/routes.c does not have');
  for (const o of ops.filter((x) => x.op['x-certdeploy-static'])) {
    assert.equal(o.method, 'GET', 'only GETs fall back to the static files');
    assert.ok(!o.path.startsWith('/api/') && !o.path.startsWith('/device/'), `${o.path} cannot be a static file`);
  }

  const want = { ROUTE_PUBLIC: 'public', ROUTE_API_READ: 'apiToken', ROUTE_API_WRITE: 'apiToken', ROUTE_DEVICE: 'deviceToken', ROUTE_DEVICE_SELF: 'deviceToken' };
  for (const r of routes) {
    const { op, item } = specKeys.get(key(r.method, r.path));
    const where = `${r.method} ${r.path}`;
    assert.equal(securityOf(doc, op), want[r.auth], `${where}: security for ${r.auth}`);
    const statuses = Object.keys(op.responses);
    assert.ok(statuses.some((s) => /^2/.test(s)), `${where}: a 2xx reply`);
    if (r.auth !== 'ROUTE_PUBLIC') assert.ok(statuses.includes('401'), `${where}: 401 for a bad token`);
    // Refused credentials are rate limited per address (server/ratelimit.c).
    if (statuses.includes('401')) assert.ok(statuses.includes('429'), `${where}: 429 after too many refused credentials`);
    // Observers may read: 403 only where the route needs an admin.
    assert.equal(statuses.includes('403'), r.auth === 'ROUTE_API_WRITE', `${where}: 403 exactly for admin-only routes`);
    const params = [...(item.parameters || []), ...(op.parameters || [])];
    const pathParams = (r.path.match(/\{[^}]+\}/g) || []).length;
    if (pathParams > 0 || params.length > 0 || op.requestBody) assert.ok(statuses.includes('400'), `${where}: 400 for bad input`);
    if (op.requestBody) {
      for (const s of ['413', '415']) assert.ok(statuses.includes(s), `${where}: ${s} for a body`);
    }
    if (r.path.startsWith('/api/') || r.path.startsWith('/device/')) {
      for (const s of ['500', '503']) assert.ok(statuses.includes(s), `${where}: ${s}`);
    }
  }
});

test('path parameters are UUIDs and the paging parameters are described', () => {
  const doc = loadSpec();
  const resolve = (p) => (p.$ref ? p.$ref.split('/').slice(1).reduce((n, k) => n[k], doc) : p);
  for (const { method, path, op, item } of operations(doc)) {
    const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
    for (const p of params.filter((x) => x.in === 'path')) {
      assert.equal(p.schema.format, 'uuid', `${method} ${path}: {${p.name}} is a UUID`);
    }
    const limit = params.find((p) => p.name === 'limit');
    if (limit) assert.deepEqual([limit.schema.minimum, limit.schema.maximum, limit.schema.default], [1, 500, 50]);
    if (limit) assert.ok(params.find((p) => p.name === 'cursor'), `${method} ${path}: cursor with limit`);
  }
});

// ---- 2. the linter ----------------------------------------------------

test('the spec passes the OpenAPI linter (redocly lint)', () => {
  let out;
  try {
    out = execFileSync(join(ROOT, 'node_modules/.bin/redocly'),
      ['lint', '--config', 'api/redocly.yaml', '--format', 'json', 'api/openapi.yaml'],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' } });
  } catch (e) {
    out = e.stdout;
    if (!out) throw new Error(`redocly lint failed to run: ${e.message}\n${e.stderr}`);
  }
  const report = JSON.parse(out.slice(out.indexOf('{')));
  const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  assert.equal(report.totals.errors, 0, problems.join('\n'));
  assert.equal(report.totals.warnings, 0, problems.join('\n'));
});

// ---- 3. real replies --------------------------------------------------

describe('real replies match the spec', () => {
  let fleet;
  let srv;
  let observer;
  const seen = new Map(); // 'METHOD template' -> Set of statuses
  const tmp = mkdtempSync(join(tmpdir(), 'certdeploy-openapi-'));

  /** One request, validated against the spec and recorded. o: as srv.request. */
  async function call(method, path, o = {}) {
    const res = await srv.request(method, path, o);
    const template = matchPath(path);
    assert.ok(template, `${method} ${path}: no path of the spec`);
    validateResponse(method, template, res.status, res.json !== undefined ? res.json : res.text, res.headers['content-type']);
    if (res.status < 300 && o.body !== undefined) {
      assert.deepEqual(requestProblems(method, template, o.body), [], `${method} ${path}: the request the server accepted`);
    }
    const k = `${method} ${template}`;
    if (!seen.has(k)) seen.set(k, new Set());
    seen.get(k).add(res.status);
    return res;
  }

  function is(res, status, code) {
    assert.equal(res.status, status, `${status} expected: ${res.text}`);
    if (code) assert.equal(res.json.error.code, code, res.text);
    return res.json;
  }

  const none = () => randomUUID();
  const sha256Der = (pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
  function makeCsr(cn) {
    const key = join(tmp, `${cn}.key`);
    return execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  }
  /** Polls a deployment (validated reads) until pred holds; runs dev's agent between polls when given. */
  async function until(deviceId, profileId, pred, what, dev) {
    const end = Date.now() + 20000;
    let dep;
    while (Date.now() < end) {
      dep = is(await call('GET', `/api/v1/devices/${deviceId}/profiles/${profileId}`), 200);
      if (pred(dep)) return dep;
      if (dev) assert.equal((await dev.run(['checkin'])).code, 0);
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(dep)}`);
  }

  before(async () => {
    fleet = await startFleet();
    srv = fleet.srv;
    observer = is(await call('POST', '/api/v1/tokens', { body: { name: 'contract-observer', role: 'observer' } }), 201).token;
  });
  after(async () => {
    await fleet?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('health, readiness, dashboard, unknown paths and methods', async () => {
    is(await call('GET', '/healthz', { token: null }), 200);
    is(await call('GET', '/readyz', { token: null }), 200);
    const page = await call('GET', '/', { token: null });
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);

    const nope = await srv.request('GET', '/api/v1/nope');
    is(nope, 404, 'not_found');
    validateComponentResponse('NotFound', 404, nope);
    const wrong = await srv.request('PUT', '/api/v1/tokens', { body: {} });
    is(wrong, 405, 'method_not_allowed');
    validateComponentResponse('MethodNotAllowed', 405, wrong);
    assert.deepEqual(wrong.headers.allow.split(', ').sort(), ['GET', 'POST']);
    const wrong2 = await srv.request('GET', '/device/v1/checkin');
    is(wrong2, 405, 'method_not_allowed');
    validateComponentResponse('MethodNotAllowed', 405, wrong2);
  });

  test('whoami and metrics', async () => {
    assert.deepEqual(is(await call('GET', '/api/v1/whoami', { token: observer }), 200).role, 'observer');
    assert.equal(is(await call('GET', '/api/v1/whoami'), 200).role, 'admin');
    is(await call('GET', '/api/v1/whoami', { token: null }), 401, 'unauthorized');
    const m = await call('GET', '/metrics', { token: null });
    assert.equal(m.status, 200);
    assert.match(m.headers['content-type'], /^text\/plain/);
    assert.match(m.text, /^certdeploy_database_up 1$/m);
  });

  test('tokens', async () => {
    is(await call('POST', '/api/v1/tokens', { body: { name: 'x', role: 'root' } }), 400, 'invalid_request');
    is(await call('POST', '/api/v1/tokens', { body: { name: 'x', role: 'admin', extra: 1 } }), 400, 'invalid_request');
    is(await call('POST', '/api/v1/tokens', { raw: '{"name":', contentType: 'application/json' }), 400, 'invalid_json');
    is(await call('POST', '/api/v1/tokens', { token: observer, body: { name: 'x', role: 'admin' } }), 403, 'forbidden');
    is(await call('POST', '/api/v1/tokens', { raw: 'x'.repeat(1024 * 1024 + 1), contentType: 'application/json' }), 413, 'payload_too_large');
    is(await call('POST', '/api/v1/tokens', { raw: '{"name":"x","role":"admin"}', contentType: 'text/plain' }), 415, 'unsupported_media_type');
    const first = is(await call('GET', '/api/v1/tokens?limit=1'), 200);
    assert.equal(typeof first.next_cursor, 'string');
    const rest = is(await call('GET', `/api/v1/tokens?cursor=${first.next_cursor}`), 200);
    assert.equal(rest.next_cursor, null);
    is(await call('GET', '/api/v1/tokens', { token: observer }), 200);
    is(await call('GET', '/api/v1/tokens', { token: null }), 401, 'unauthorized');
    is(await call('GET', '/api/v1/tokens?limit=0'), 400, 'invalid_request');
    is(await call('GET', '/api/v1/tokens?limit=501'), 400, 'invalid_request');
    const gone = is(await call('POST', '/api/v1/tokens', { body: { name: 'short-lived', role: 'admin' } }), 201);
    is(await call('DELETE', `/api/v1/tokens/${gone.id}`), 204);
    is(await call('DELETE', `/api/v1/tokens/${gone.id}`), 404, 'not_found');
    is(await call('DELETE', '/api/v1/tokens/not-a-uuid'), 400, 'invalid_request');
  });

  test('certificate authorities', async () => {
    const { mock } = fleet;
    is(await call('GET', '/api/v1/cas'), 200);
    is(await call('GET', '/api/v1/cas?cursor=zz'), 400, 'invalid_request');
    is(await call('GET', `/api/v1/cas/${fleet.caId}`, { token: observer }), 200);
    is(await call('GET', `/api/v1/cas/${none()}`), 404, 'not_found');
    const base = { type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId };
    const refused = is(await call('POST', '/api/v1/cas', { body: { ...base, name: 'Bad token', api_token: 'wrong-key' } }), 422, 'ca_validation_failed');
    assert.equal(refused.error.field, 'api_token');
    is(await call('POST', '/api/v1/cas', { body: { ...base, name: 'Mock TLM' } }), 409, 'conflict');
    is(await call('POST', '/api/v1/cas', { body: { ...base, name: 'x', type: 'acme' } }), 400, 'invalid_request');
    const spare = is(await call('POST', '/api/v1/cas', { body: { ...base, name: 'Spare CA' } }), 201);
    assert.equal(spare.ca_certificate, null);
    is(await call('PATCH', `/api/v1/cas/${spare.id}`, { body: { name: 'Spare CA 2', api_token: '********' } }), 200);
    is(await call('PATCH', `/api/v1/cas/${spare.id}`, { body: {} }), 200);
    is(await call('PATCH', `/api/v1/cas/${spare.id}`, { body: { name: 'Mock TLM' } }), 409, 'conflict');
    is(await call('PATCH', `/api/v1/cas/${spare.id}`, { body: { profile_id: 'no-such-profile' } }), 422, 'ca_validation_failed');
    is(await call('PATCH', `/api/v1/cas/${none()}`, { body: { name: 'x' } }), 404, 'not_found');
    is(await call('PATCH', `/api/v1/cas/${spare.id}`, { token: observer, body: { name: 'x' } }), 403, 'forbidden');
    is(await call('DELETE', `/api/v1/cas/${spare.id}`), 204);
    is(await call('DELETE', `/api/v1/cas/${spare.id}`), 404, 'not_found');
  });

  test('enroll secrets', async () => {
    const s = is(await call('POST', '/api/v1/enroll-secrets', { body: { name: 'lab' } }), 201);
    is(await call('POST', '/api/v1/enroll-secrets', { raw: '{"name":"lab"}', contentType: 'text/plain' }), 415, 'unsupported_media_type');
    is(await call('POST', '/api/v1/enroll-secrets', { body: { name: '' } }), 400, 'invalid_request');
    const list = is(await call('GET', '/api/v1/enroll-secrets', { token: observer }), 200);
    assert.ok(list.enroll_secrets.some((e) => e.id === s.id));
    is(await call('GET', '/api/v1/enroll-secrets', { token: 'cdt_unknown-token-000000' }), 401, 'unauthorized');
    is(await call('DELETE', `/api/v1/enroll-secrets/${s.id}`), 204);
    is(await call('DELETE', `/api/v1/enroll-secrets/${s.id}`), 404, 'not_found');
  });

  test('webhook subscriptions', async () => {
    const w = is(await call('POST', '/api/v1/webhooks', { body: { url: 'https://hooks.example.com/x', events: ['deployment.failed'] } }), 201);
    is(await call('POST', '/api/v1/webhooks', { body: { url: 'ftp://hooks.example.com/x', events: ['deployment.failed'] } }), 400, 'invalid_request');
    is(await call('GET', '/api/v1/webhooks', { token: observer }), 200);
    is(await call('GET', '/api/v1/webhooks', { token: 'cdt_unknown-token-000000' }), 401, 'unauthorized');
    is(await call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { events: ['deployment.recovered', 'certificate.revoked'] } }), 200);
    is(await call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { events: ['nope'] } }), 400, 'invalid_request');
    is(await call('DELETE', `/api/v1/webhooks/${w.id}`), 204);
    is(await call('DELETE', `/api/v1/webhooks/${w.id}`), 404, 'not_found');
  });

  test('profiles, devices, deployments and the device API', async () => {
    const caId = fleet.caId;
    // Profiles.
    const pSrv = is(await call('POST', '/api/v1/profiles', {
      body: { name: 'wifi', ca_id: caId, common_name: '$DEVICE_SERIAL', user_principal_names: ['$DEVICE_SERIAL@corp.test'],
        seat_id: '$DEVICE_ID', renew_before_days: 10, assign_all: true },
    }), 201);
    assert.equal(pSrv.key_mode, 'server');
    is(await call('POST', '/api/v1/profiles', { body: { name: 'bad', ca_id: caId, common_name: '$NOPE', seat_id: 's' } }), 400, 'invalid_request');
    is(await call('POST', '/api/v1/profiles', { body: { name: 'bad', ca_id: none(), common_name: 'cn', seat_id: 's' } }), 400, 'invalid_request');
    is(await call('POST', '/api/v1/profiles', { body: { name: 'wifi', ca_id: caId, common_name: 'cn', seat_id: 's' } }), 409, 'conflict');
    const pDev = is(await call('POST', '/api/v1/profiles', {
      body: { name: 'vpn', ca_id: caId, common_name: 'vpn-$DEVICE_SERIAL', seat_id: '$DEVICE_ID', key_mode: 'device', assign_all: false },
    }), 201);
    assert.equal(pDev.renew_before_days, null);

    // A device enrolled by hand, to see every device reply.
    const enrolled = is(await call('POST', '/device/v1/enroll', {
      token: null, body: { enroll_secret: fleet.enrollSecret, serial: 'SN-CONTRACT-1', name: 'Bench 1' },
    }), 201);
    const dev1 = enrolled.device_id;
    const dt = enrolled.device_token;
    is(await call('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_wrong-secret-00000000', serial: 'X' } }), 401, 'unauthorized');
    is(await call('POST', '/device/v1/enroll', { token: null, body: { serial: 'X' } }), 400, 'invalid_request');

    is(await call('POST', `/api/v1/profiles/${pDev.id}/assignments`, { body: { device_ids: [dev1] } }), 200);
    is(await call('POST', `/api/v1/profiles/${pDev.id}/assignments`, { body: { device_ids: [dev1], all: true } }), 400, 'invalid_request');
    is(await call('POST', `/api/v1/profiles/${none()}/assignments`, { body: { all: true } }), 404, 'not_found');

    let checkin = is(await call('POST', '/device/v1/checkin', { token: dt, body: { installed: [] } }), 200);
    const entry = (c, p) => c.profiles.find((e) => e.profile_id === p.id);
    assert.equal(entry(checkin, pDev).action, 'submit_csr');
    is(await call('POST', '/device/v1/checkin', { token: dt }), 200); // no body: {}
    is(await call('POST', '/device/v1/checkin', { token: srv.token, body: {} }), 401, 'unauthorized');
    is(await call('POST', '/device/v1/checkin', { token: dt, body: { installed: [{ profile_id: pDev.id, sha256: 'zz' }] } }), 400, 'invalid_request');

    // Device key mode: CSR, issue, install, ack.
    const csr = makeCsr('SN-CONTRACT-1');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/csr`, { token: dt, body: { generation: 2, csr } }), 409, 'stale_generation');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/csr`, { token: dt, body: { generation: 1, csr: 'not a csr' } }), 400, 'invalid_request');
    is(await call('POST', `/device/v1/profiles/${none()}/csr`, { token: dt, body: { generation: 1, csr } }), 404, 'not_found');
    is(await call('POST', `/device/v1/profiles/${pSrv.id}/csr`, { token: dt, body: { generation: 1, csr } }), 409, 'conflict');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/csr`, { token: dt, body: { generation: 1, csr } }), 202);

    await until(dev1, pDev.id, (d) => d.issued_certificate !== null, 'the device-key certificate');
    await until(dev1, pSrv.id, (d) => d.issued_certificate !== null, 'the server-key certificate');
    checkin = is(await call('POST', '/device/v1/checkin', { token: dt, body: {} }), 200);
    const eDev = entry(checkin, pDev);
    const eSrv = entry(checkin, pSrv);
    assert.equal(eDev.action, 'install');
    assert.equal(eDev.pkcs12, undefined, 'device key mode: no key');
    assert.equal(eSrv.action, 'install');
    assert.equal(typeof eSrv.pkcs12, 'string');

    const shaDev = sha256Der(eDev.certificate);
    is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: dt, body: { generation: 99, result: 'installed', sha256: shaDev } }), 409, 'stale_generation');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: dt, body: { generation: 1, result: 'installed', sha256: 'a'.repeat(64) } }), 409, 'conflict');
    assert.equal(is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: dt, body: { generation: 1, result: 'installed', sha256: shaDev } }), 200).status, 'verified');
    assert.equal(is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: dt, body: { generation: 1, result: 'installed', sha256: shaDev.toUpperCase() } }), 200).status, 'verified');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: dt, body: { generation: 1, result: 'maybe' } }), 400, 'invalid_request');
    is(await call('POST', `/device/v1/profiles/${none()}/ack`, { token: dt, body: { generation: 1, result: 'error' } }), 404, 'not_found');
    is(await call('POST', `/device/v1/profiles/${pDev.id}/ack`, { token: null, body: { generation: 1, result: 'error' } }), 401, 'unauthorized');

    // Server key mode: the device reports an install error; the failure is sticky.
    assert.equal(is(await call('POST', `/device/v1/profiles/${pSrv.id}/ack`, { token: dt, body: { generation: eSrv.generation, result: 'error', detail: 'disk full' } }), 200).status, 'failed');
    is(await call('POST', `/device/v1/profiles/${pSrv.id}/ack`, { token: dt, body: { generation: eSrv.generation, result: 'installed', sha256: sha256Der(eSrv.certificate) } }), 409, 'deployment_failed');
    is(await call('POST', `/device/v1/profiles/${pSrv.id}/csr`, { token: dt, body: { generation: eSrv.generation, csr } }), 409, 'deployment_failed');
    is(await call('POST', '/device/v1/checkin', { token: dt, body: { installed: [{ profile_id: pDev.id, sha256: shaDev }, { profile_id: pSrv.id, sha256: sha256Der(eSrv.certificate) }] } }), 200);
    const failed = is(await call('GET', `/api/v1/devices/${dev1}/profiles/${pSrv.id}`), 200);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure_source, 'device');

    // A second device through the real agent, to verified.
    const dev2 = await fleet.device('SN-CONTRACT-2');
    const ok = await until(dev2.deviceId, pSrv.id, (d) => d.status === 'verified', 'the agent to verify', dev2);
    assert.equal(ok.installed_certificate.sha256, ok.issued_certificate.sha256);
    assert.equal(ok.installed_certificate.valid, true);

    // Admin reads.
    const page1 = is(await call('GET', '/api/v1/devices?limit=1'), 200);
    assert.equal(typeof page1.next_cursor, 'string');
    is(await call('GET', `/api/v1/devices?cursor=${page1.next_cursor}`, { token: observer }), 200);
    assert.deepEqual(is(await call('GET', '/api/v1/devices?status=failed'), 200).devices.map((d) => d.id), [dev1]);
    is(await call('GET', `/api/v1/devices?profile_id=${pDev.id}&q=contract`), 200);
    is(await call('GET', '/api/v1/devices?status=bogus'), 400, 'invalid_request');
    is(await call('GET', '/api/v1/devices?profile_id=nope'), 400, 'invalid_request');
    const fleetFailed = is(await call('GET', '/api/v1/deployments?status=failed', { token: observer }), 200);
    assert.deepEqual(fleetFailed.deployments.map((d) => [d.device_id, d.device_serial]), [[dev1, 'SN-CONTRACT-1']]);
    const fleet1 = is(await call('GET', '/api/v1/deployments?limit=1'), 200);
    is(await call('GET', `/api/v1/deployments?cursor=${fleet1.next_cursor}&profile_id=${pSrv.id}&q=contract`), 200);
    const csv = await call('GET', '/api/v1/deployments?failure_source=device', { headers: { Accept: 'text/csv' } });
    assert.equal(csv.status, 200);
    assert.equal(csv.text.split('\r\n').length, 3, 'the header, one row, the empty rest');
    is(await call('GET', '/api/v1/deployments?expires_before=soon'), 400, 'invalid_request');
    const d1 = is(await call('GET', `/api/v1/devices/${dev1}`), 200);
    assert.equal(d1.profiles.length, 2);
    is(await call('GET', `/api/v1/devices/${none()}`), 404, 'not_found');
    is(await call('GET', '/api/v1/devices/nope'), 400, 'invalid_request');
    is(await call('GET', `/api/v1/devices/${dev1}/profiles/${none()}`), 404, 'not_found');
    const h1 = is(await call('GET', `/api/v1/devices/${dev1}/profiles/${pSrv.id}/history?limit=1`), 200);
    assert.equal(typeof h1.next_cursor, 'string');
    is(await call('GET', `/api/v1/devices/${dev1}/profiles/${pSrv.id}/history?cursor=${h1.next_cursor}`), 200);
    is(await call('GET', `/api/v1/devices/${dev1}/profiles/${pDev.id}/history?cursor=${h1.next_cursor}`), 400, 'invalid_request');
    is(await call('GET', `/api/v1/devices/${none()}/profiles/${pSrv.id}/history`), 404, 'not_found');

    // Status and the CI gate.
    const st = is(await call('GET', '/api/v1/status'), 200);
    assert.ok(st.failed >= 1);
    const gate = await call('GET', '/api/v1/status?fail_on=failed,pending');
    assert.equal(gate.status, 503);
    assert.equal(gate.json.failed, st.failed);
    is(await call('GET', `/api/v1/status?profile_id=${pDev.id}&fail_on=failed`), 200);
    is(await call('GET', '/api/v1/status?fail_on=broken'), 400, 'invalid_request');
    is(await call('GET', `/api/v1/status?profile_id=${none()}`), 404, 'not_found');

    // Resend: the way out of failed; refused while on its way.
    is(await call('POST', `/api/v1/devices/${dev1}/profiles/${pSrv.id}/resend`, { token: observer }), 403, 'forbidden');
    const resent = is(await call('POST', `/api/v1/devices/${dev1}/profiles/${pSrv.id}/resend`), 202);
    assert.equal(resent.status, 'pending');
    assert.equal(resent.failure_source, null);
    assert.equal(resent.generation, failed.generation + 1);
    is(await call('POST', `/api/v1/devices/${dev1}/profiles/${pSrv.id}/resend`), 409, 'conflict');
    is(await call('POST', `/api/v1/devices/${dev1}/profiles/${none()}/resend`), 404, 'not_found');
    assert.equal(is(await call('POST', `/api/v1/profiles/${pDev.id}/resend`, { body: { status: 'verified' } }), 202).resent, 1);
    is(await call('POST', `/api/v1/profiles/${pDev.id}/resend`, { body: { status: 'pending' } }), 400, 'invalid_request');
    is(await call('POST', `/api/v1/profiles/${none()}/resend`, { body: { status: 'failed' } }), 404, 'not_found');

    // Profile reads and edits.
    const pl = is(await call('GET', '/api/v1/profiles?limit=1'), 200);
    assert.equal(typeof pl.next_cursor, 'string');
    is(await call('GET', '/api/v1/profiles', { token: dt }), 401, 'unauthorized');
    const got = is(await call('GET', `/api/v1/profiles/${pSrv.id}`, { token: observer }), 200);
    assert.equal(got.counts.verified + got.counts.pending + got.counts.verifying + got.counts.failed, 2);
    is(await call('GET', `/api/v1/profiles/${none()}`), 404, 'not_found');
    const edited = is(await call('PATCH', `/api/v1/profiles/${pSrv.id}`, { body: { common_name: '$DEVICE_SERIAL-v2', renew_before_days: null } }), 200);
    assert.ok(edited.requeued >= 1);
    is(await call('PATCH', `/api/v1/profiles/${pSrv.id}`, { body: { name: 'vpn' } }), 409, 'conflict');
    is(await call('PATCH', `/api/v1/profiles/${pSrv.id}`, { body: { renew_before_days: 0 } }), 400, 'invalid_request');
    is(await call('PATCH', `/api/v1/profiles/${none()}`, { body: { name: 'x' } }), 404, 'not_found');
    is(await call('POST', '/api/v1/profiles', { raw: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }), contentType: 'application/json' }), 413, 'payload_too_large');

    // Removals.
    is(await call('DELETE', `/api/v1/profiles/${pDev.id}/assignments/${dev1}`), 204);
    is(await call('DELETE', `/api/v1/profiles/${pDev.id}/assignments/${dev1}`), 404, 'not_found');
    is(await call('GET', `/api/v1/devices/${dev1}/profiles/${pDev.id}/history`), 200); // history outlives the assignment
    is(await call('DELETE', `/api/v1/cas/${caId}`), 409, 'conflict');
    is(await call('DELETE', `/api/v1/devices/${dev2.deviceId}`, { token: observer }), 403, 'forbidden');
    is(await call('DELETE', `/api/v1/devices/${dev2.deviceId}`), 204);
    is(await call('DELETE', `/api/v1/devices/${dev2.deviceId}`), 404, 'not_found');
    is(await call('DELETE', `/api/v1/profiles/${pDev.id}`), 204);
    is(await call('DELETE', `/api/v1/profiles/${pDev.id}`), 404, 'not_found');
  });

  test('the audit log', async () => {
    const all = is(await call('GET', '/api/v1/audit', { token: observer }), 200);
    assert.ok(all.events.length >= 10);
    const first = is(await call('GET', '/api/v1/audit?limit=2'), 200);
    assert.equal(typeof first.next_cursor, 'string');
    is(await call('GET', `/api/v1/audit?limit=2&cursor=${first.next_cursor}`), 200);
    is(await call('GET', `/api/v1/audit?actor=${encodeURIComponent(all.events[0].actor)}`), 200);
    is(await call('GET', '/api/v1/audit?cursor=abc'), 400, 'invalid_request');
    is(await call('GET', '/api/v1/audit?limit=0'), 400, 'invalid_request');
    is(await call('GET', '/api/v1/audit', { token: 'cdd_not-an-api-token-000' }), 401, 'unauthorized');
  });

  test('refused credentials are rate limited (429)', async () => {
    // A server of its own with a limit of 2, so the scenario's 401s above
    // never come near the limit of the shared one.
    const own = await startServer({ env: { CERTDEPLOY_AUTH_FAILURE_LIMIT: '2' } });
    try {
      const one = async (method, path, o) => {
        const res = await own.request(method, path, o);
        validateResponse(method, matchPath(path), res.status, res.json ?? res.text, res.headers['content-type']);
        return res;
      };
      is(await one('GET', '/api/v1/whoami', { token: 'cdt_wrong-token-0000000000' }), 401, 'unauthorized');
      is(await one('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_wrong-secret-00000000', serial: 'X' } }), 401, 'unauthorized');
      const limited = await one('GET', '/api/v1/tokens');
      is(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After');
      for (const [method, path, o] of [
        ['GET', '/api/v1/whoami', {}],
        ['POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_x', serial: 'X' } }],
        ['POST', '/device/v1/checkin', { token: 'cdd_x', body: {} }],
        ['DELETE', `/api/v1/devices/${none()}`, {}],
      ]) {
        is(await one(method, path, o), 429, 'rate_limited');
        const k = `${method} ${matchPath(path)}`;
        if (!seen.has(k)) seen.set(k, new Set());
        seen.get(k).add(429);
      }
    } finally {
      await own.stop();
    }
  });

  test('every operation answered at least one success and one error', () => {
    // Probes that cannot fail here: /healthz has no error reply; /readyz is
    // 503 only while the database is down (tests/api/pg_restart.test.mjs);
    // /metrics answers 500 only when it cannot allocate its text; / is 404
    // only without a dashboard directory.
    const noError = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /']);
    const missing = [];
    for (const { method, path } of operations()) {
      const k = `${method} ${path}`;
      const statuses = [...(seen.get(k) || [])];
      if (!statuses.some((s) => s >= 200 && s < 300)) missing.push(`${k}: no success`);
      if (!noError.has(k) && !statuses.some((s) => s >= 400)) missing.push(`${k}: no error`);
    }
    assert.deepEqual(missing, []);
  });
});
