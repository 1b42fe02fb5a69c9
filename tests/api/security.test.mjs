// Security properties across the API:
// - a device never reads or acts on another device's deployments (check-in
//   listing and delivery, CSR, acknowledgement, inventory);
// - failed credentials are rate-limited per client address (what
//   ratelimit.test.mjs does not cover: isolation between addresses,
//   forwarded-for headers ignored, successes not blocked, the window ending);
// - secrets are stored only as SHA-256 hex (or sealed), and looked up by hash;
// - TLS 1.0 and 1.1 are refused by the server, 1.2 and 1.3 accepted;
// - no secret appears in any log line, and each appears only in the one
//   reply that creates it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startMockCa } from './lib/mockca.mjs';
import { makeCsr } from './lib/csr.mjs';

const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const pemSha = (pem) => createHash('sha256').update(Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64')).digest('hex');

/** One HTTPS request on its own connection, from localAddress when given. */
function call(srv, method, path, { token, body, localAddress, headers = {} } = {}) {
  const u = new URL(srv.url);
  const h = { ...headers };
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    h['Content-Type'] = 'application/json';
    h['Content-Length'] = Buffer.byteLength(payload);
  }
  if (token) h.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, method, path, headers: h, ca: srv.caPem, agent: false, localAddress }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// ---- device isolation ---------------------------------------------------------

test('a device never reads or acts on another device\'s deployment', async () => {
  const fleet = await startFleet({ env: { CERTDEPLOY_AUTH_FAILURE_LIMIT: '100000' } });
  const { srv } = fleet;
  try {
    const enroll = async (serial) => {
      const r = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: serial } });
      assert.equal(r.status, 201, r.text);
      return { id: r.json.device_id, deviceId: r.json.device_id, token: r.json.device_token, serial };
    };
    const a = await enroll('ISO2-A');
    const b = await enroll('ISO2-B');
    const both = await fleet.profileFor([a, b], { key_mode: 'server', common_name: 'iso-$DEVICE_SERIAL' });
    const onlyA = await fleet.profileFor([a], { key_mode: 'device', common_name: 'only-a' });
    const deviceBoth = await fleet.profileFor([a, b], { key_mode: 'device', common_name: 'dev-$DEVICE_SERIAL' });
    const onlyAServer = await fleet.profileFor([a], { key_mode: 'server', common_name: 'only-a-server' });
    for (const [d, p] of [[a, both], [b, both], [a, onlyAServer]]) {
      await fleet.until(d.id, p.id, (x) => x.issued_certificate !== null, { what: `issued for ${d.serial}` });
    }
    const rowOf = (d, p) => srv.sql(`SELECT status || ' ' || generation || ' ' || coalesce(csr, '-') || ' ' || coalesce(installed_sha256, '-') || ' ' || updated_at
      FROM deployments WHERE device_id = '${d.id}' AND profile_id = '${p.id}'`);

    // each check-in lists exactly the caller's deployments and delivers the caller's certificates
    const ca = await srv.request('POST', '/device/v1/checkin', { token: a.token, body: { installed: [] } });
    const cb = await srv.request('POST', '/device/v1/checkin', { token: b.token, body: { installed: [] } });
    assert.equal(ca.status, 200, ca.text);
    assert.equal(cb.status, 200, cb.text);
    const listed = (r) => r.json.profiles.map((p) => p.profile_id).sort();
    assert.deepEqual(listed(ca), [both.id, onlyA.id, deviceBoth.id, onlyAServer.id].sort());
    assert.deepEqual(listed(cb), [both.id, deviceBoth.id].sort());
    for (const p of [onlyA.id, onlyAServer.id]) assert.ok(!cb.text.includes(p), 'B never sees a profile only A has');
    assert.ok(!cb.text.includes(a.serial) && !cb.text.includes(a.id), 'nothing of A in B\'s check-in');
    const aCert = ca.json.profiles.find((p) => p.profile_id === both.id);
    const bCert = cb.json.profiles.find((p) => p.profile_id === both.id);
    assert.equal(aCert.action, 'install');
    assert.equal(bCert.action, 'install');
    assert.equal(bCert.common_name, `iso-${b.serial}`);
    assert.notEqual(pemSha(aCert.certificate), pemSha(bCert.certificate));
    assert.ok(!cb.text.includes(aCert.pkcs12_password) && !cb.text.includes(aCert.pkcs12.slice(0, 200)), 'A\'s key material is not in B\'s reply');
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject'], { input: bCert.certificate, encoding: 'utf8' });
    assert.match(subject, /CN ?= ?iso-ISO2-B/);

    // B acts on a profile only A has: 404, A's deployment untouched
    const beforeOnlyA = rowOf(a, onlyA);
    const beforeOnlyAServer = rowOf(a, onlyAServer);
    const csr = (await makeCsr({ cn: 'only-a' })).csrPem;
    for (const [path, body] of [
      [`/device/v1/profiles/${onlyA.id}/csr`, { generation: 1, csr }],
      [`/device/v1/profiles/${onlyA.id}/ack`, { generation: 1, result: 'error', detail: 'B says A failed' }],
      [`/device/v1/profiles/${onlyA.id}/ack`, { generation: 1, result: 'installed', sha256: 'ab'.repeat(32) }],
      [`/device/v1/profiles/${onlyAServer.id}/ack`, { generation: 1, result: 'error', detail: 'B says A failed' }],
      [`/device/v1/profiles/${onlyAServer.id}/ack`, { generation: 1, result: 'installed', sha256: pemSha(ca.json.profiles.find((p) => p.profile_id === onlyAServer.id).certificate) }],
      [`/device/v1/profiles/${onlyAServer.id}/csr`, { generation: 1, csr }],
    ]) {
      const r = await srv.request('POST', path, { token: b.token, body });
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'not_found');
      assert.ok(!r.text.includes(a.id) && !r.text.includes(a.serial), 'the refusal says nothing about A');
    }
    // naming the other device anywhere does not help: unknown fields are refused, queries ignored
    const named = await srv.request('POST', `/device/v1/profiles/${onlyA.id}/ack`, { token: b.token, body: { generation: 1, result: 'error', device_id: a.id } });
    assert.equal(named.status, 400);
    assert.equal(named.json.error.field, 'device_id');
    const q = await srv.request('POST', `/device/v1/profiles/${onlyA.id}/ack?device_id=${a.id}`, { token: b.token, body: { generation: 1, result: 'error' } });
    assert.equal(q.status, 404);
    assert.equal(rowOf(a, onlyA), beforeOnlyA, 'A\'s device-mode deployment unchanged');
    assert.equal(rowOf(a, onlyAServer), beforeOnlyAServer, 'A\'s server-mode deployment unchanged');

    // B acks a shared profile with A's certificate: refused, neither deployment moves
    const aShared = rowOf(a, both);
    const ack = await srv.request('POST', `/device/v1/profiles/${both.id}/ack`, { token: b.token, body: { generation: 1, result: 'installed', sha256: pemSha(aCert.certificate) } });
    assert.equal(ack.status, 409, ack.text);
    assert.equal((await fleet.deployment(b.id, both.id)).status, 'verifying');
    assert.equal(rowOf(a, both), aShared);
    // nor does B's inventory reporting A's certificate
    const inv = await srv.request('POST', '/device/v1/checkin', { token: b.token, body: { installed: [{ profile_id: both.id, sha256: pemSha(aCert.certificate) }] } });
    assert.equal(inv.status, 200);
    assert.equal((await fleet.deployment(b.id, both.id)).status, 'verifying');
    assert.equal((await fleet.deployment(a.id, both.id)).status, 'verifying');
    // B's own CSR on a shared device-mode profile touches only B's row
    const aDev = rowOf(a, deviceBoth);
    const own = await srv.request('POST', `/device/v1/profiles/${deviceBoth.id}/csr`, { token: b.token, body: { generation: 1, csr: (await makeCsr({ cn: 'b' })).csrPem } });
    assert.equal(own.status, 202, own.text);
    assert.equal(rowOf(a, deviceBoth), aDev);
    // A's own acknowledgement still works
    const aAck = await srv.request('POST', `/device/v1/profiles/${both.id}/ack`, { token: a.token, body: { generation: 1, result: 'installed', sha256: pemSha(aCert.certificate) } });
    assert.equal(aAck.status, 200, aAck.text);
    assert.equal((await fleet.deployment(a.id, both.id)).status, 'verified');
    assert.equal((await fleet.deployment(b.id, both.id)).status, 'verifying');

    // no history row of A's deployments names B
    const foreign = srv.sql(`SELECT count(*) FROM deployment_history WHERE device_id = '${a.id}' AND actor = 'device:${b.id}'`);
    assert.equal(foreign, '0');

    // a deleted device's token does nothing
    assert.equal((await srv.request('DELETE', `/api/v1/devices/${b.id}`)).status, 204);
    for (const [path, body] of [['/device/v1/checkin', {}], [`/device/v1/profiles/${deviceBoth.id}/csr`, { generation: 1, csr }],
      [`/device/v1/profiles/${both.id}/ack`, { generation: 1, result: 'error' }]]) {
      const r = await srv.request('POST', path, { token: b.token, body });
      assert.equal(r.status, 401, `${path} with a deleted device's token: ${r.text}`);
    }
    for (const p of [both, onlyA, deviceBoth, onlyAServer]) await fleet.retire(p.id);
  } finally {
    await fleet.stop();
  }
});

// ---- rate limits per address ----------------------------------------------------

// 127.0.0.0/8 is loopback on Linux: a client can bind any of it as its source.
let rl;
let windowStart;
before(async () => {
  rl = await startServer({ env: { CERTDEPLOY_AUTH_FAILURE_LIMIT: '5' } });
  // blocked now; the last test checks that the window ends (60 s), while the others run
  for (let i = 0; i < 5; i++) assert.equal((await call(rl, 'GET', '/api/v1/tokens', { token: `cdt_w${i}`, localAddress: '127.0.0.9' })).status, 401);
  windowStart = Date.now();
  assert.equal((await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.9' })).status, 429);
});
after(async () => { await rl?.stop(); });

test('rate limits are per address: a blocked address does not block another', async () => {
  const bad = (addr) => call(rl, 'GET', '/api/v1/tokens', { token: `cdt_${randomBytes(8).toString('hex')}`, localAddress: addr });
  for (let i = 0; i < 5; i++) assert.equal((await bad('127.0.0.2')).status, 401);
  const blocked = await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.2' });
  assert.equal(blocked.status, 429, 'the right token from a blocked address is refused too');
  assert.equal(blocked.json.error.code, 'rate_limited');
  const ra = Number(blocked.headers['retry-after']);
  assert.ok(ra > 0 && ra <= 60, `Retry-After ${blocked.headers['retry-after']}`);
  assert.ok(!blocked.text.includes(rl.token));
  // another address: its own failures are 401, its right token works
  assert.equal((await bad('127.0.0.1')).status, 401);
  assert.equal((await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.1' })).status, 200);
  assert.equal((await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.3' })).status, 200);
  // the block holds for every route that checks a credential, public ones still answer
  assert.equal((await call(rl, 'POST', '/device/v1/checkin', { token: 'cdd_x', body: {}, localAddress: '127.0.0.2' })).status, 429);
  assert.equal((await call(rl, 'POST', '/device/v1/enroll', { body: { enroll_secret: 'cde_x', serial: 'x' }, localAddress: '127.0.0.2' })).status, 429);
  assert.equal((await call(rl, 'GET', '/healthz', { localAddress: '127.0.0.2' })).status, 200);
});

test('forwarded-for headers neither unblock an address nor block another', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await call(rl, 'GET', '/api/v1/tokens', { token: 'cdt_nope', localAddress: '127.0.0.4', headers: { 'X-Forwarded-For': `10.0.0.${i}`, 'X-Real-IP': `10.0.1.${i}`, Forwarded: `for=10.0.2.${i}` } });
    assert.equal(r.status, 401);
  }
  const spoofed = await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.4', headers: { 'X-Forwarded-For': '10.9.9.9', 'X-Real-IP': '10.9.9.9' } });
  assert.equal(spoofed.status, 429, 'the socket address counts, not a header');
  const framed = await call(rl, 'GET', '/api/v1/tokens', { token: rl.token, localAddress: '127.0.0.5', headers: { 'X-Forwarded-For': '127.0.0.4', 'X-Real-IP': '127.0.0.4' } });
  assert.equal(framed.status, 200, 'a header naming a blocked address does not block this one');
});

test('successes are never blocked below the limit, and do not hide failures', async () => {
  const addr = '127.0.0.6';
  for (let i = 0; i < 4; i++) assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: `cdt_f${i}`, localAddress: addr })).status, 401);
  for (let i = 0; i < 10; i++) assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: rl.token, localAddress: addr })).status, 200);
  assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: 'cdt_f5', localAddress: addr })).status, 401);
  assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: rl.token, localAddress: addr })).status, 429);
});

test('enroll failures block enrolling from that address only', async () => {
  const s = await call(rl, 'POST', '/api/v1/enroll-secrets', { token: rl.token, body: { name: 'rl' }, localAddress: '127.0.0.1' });
  assert.equal(s.status, 201, s.text);
  const secret = s.json.secret;
  for (let i = 0; i < 5; i++) {
    const r = await call(rl, 'POST', '/device/v1/enroll', { body: { enroll_secret: `${secret.slice(0, -2)}${i}x`, serial: 'RL-1' }, localAddress: '127.0.0.7' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.field, 'enroll_secret');
  }
  const blocked = await call(rl, 'POST', '/device/v1/enroll', { body: { enroll_secret: secret, serial: 'RL-1' }, localAddress: '127.0.0.7' });
  assert.equal(blocked.status, 429, 'the right secret from the blocked address is refused');
  assert.ok(!blocked.text.includes(secret));
  assert.equal(rl.sql(`SELECT count(*) FROM devices WHERE serial = 'RL-1'`), '0');
  const other = await call(rl, 'POST', '/device/v1/enroll', { body: { enroll_secret: secret, serial: 'RL-1' }, localAddress: '127.0.0.8' });
  assert.equal(other.status, 201, other.text);
});

// ---- the secrets scenario -----------------------------------------------------------

let sc; // { srv, mock, replies: [{what, text}], secrets: {name: value}, createdIn: {name: what} }

async function scenario() {
  const apiKey = `tlm-${randomBytes(20).toString('hex')}`;
  const mock = await startMockCa({ args: ['--api-key', apiKey] });
  const srv = await startServer({ env: { CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1', CERTDEPLOY_RETRY_BASE_SECONDS: '1', CERTDEPLOY_AUTH_FAILURE_LIMIT: '100000' } });
  const replies = [];
  const r = async (what, method, path, o = {}) => {
    const res = await srv.request(method, path, o);
    replies.push({ what, text: `${JSON.stringify(res.headers)}\n${res.text}` });
    return res;
  };
  const secrets = { admin: srv.token, caApiKey: apiKey };
  const createdIn = { admin: null, caApiKey: null };

  const ca = await r('ca create', 'POST', '/api/v1/cas', { body: { name: 'TLM', type: 'digicert', url: mock.url, api_token: apiKey, profile_id: mock.profileId } });
  assert.equal(ca.status, 201, ca.text);
  assert.equal((await r('ca patch', 'PATCH', `/api/v1/cas/${ca.json.id}`, { body: { api_token: apiKey } })).status, 200);
  const bad = await r('ca patch refused', 'PATCH', `/api/v1/cas/${ca.json.id}`, { body: { api_token: `${apiKey}-wrong` } });
  assert.equal(bad.status, 422, bad.text);
  for (const role of ['admin', 'observer']) {
    const t = await r(`token create ${role}`, 'POST', '/api/v1/tokens', { body: { name: `sec-${role}`, role } });
    assert.equal(t.status, 201, t.text);
    secrets[`token_${role}`] = t.json.token;
    createdIn[`token_${role}`] = `token create ${role}`;
    assert.equal((await r(`whoami ${role}`, 'GET', '/api/v1/whoami', { token: t.json.token })).status, 200);
  }
  const s = await r('enroll secret create', 'POST', '/api/v1/enroll-secrets', { body: { name: 'sec' } });
  assert.equal(s.status, 201, s.text);
  secrets.enroll = s.json.secret;
  createdIn.enroll = 'enroll secret create';
  const p = await r('profile create', 'POST', '/api/v1/profiles', { body: { name: 'sec', ca_id: ca.json.id, common_name: 'sec-$DEVICE_SERIAL', seat_id: '$DEVICE_ID', key_mode: 'server', assign_all: true } });
  assert.equal(p.status, 201, p.text);
  const e1 = await r('enroll 1', 'POST', '/device/v1/enroll', { token: null, body: { enroll_secret: s.json.secret, serial: 'SEC-1', name: 'sec' } });
  assert.equal(e1.status, 201, e1.text);
  secrets.device_first = e1.json.device_token;
  createdIn.device_first = 'enroll 1';
  const e2 = await r('enroll 2', 'POST', '/device/v1/enroll', { token: null, body: { enroll_secret: s.json.secret, serial: 'SEC-1', name: 'sec' } });
  assert.equal(e2.status, 201, e2.text);
  secrets.device = e2.json.device_token;
  createdIn.device = 'enroll 2';
  const dev = e2.json.device_id;
  // refused credentials of every kind, in every wrong place
  for (const [what, method, path, o] of [
    ['revoked device token', 'POST', '/device/v1/checkin', { token: secrets.device_first, body: {} }],
    ['device token on the API', 'GET', '/api/v1/tokens', { token: secrets.device }],
    ['API token on the device API', 'POST', '/device/v1/checkin', { token: secrets.token_admin, body: {} }],
    ['enroll secret as a bearer', 'GET', '/api/v1/tokens', { token: secrets.enroll }],
    ['enroll secret as a device token', 'POST', '/device/v1/checkin', { token: secrets.enroll, body: {} }],
    ['CA key as a bearer', 'GET', '/api/v1/tokens', { token: apiKey }],
    ['observer writes', 'POST', '/api/v1/tokens', { token: secrets.token_observer, body: { name: 'x', role: 'admin' } }],
    ['admin token as an enroll secret', 'POST', '/device/v1/enroll', { token: null, body: { enroll_secret: srv.token, serial: 'SEC-X' } }],
    ['near-miss enroll secret', 'POST', '/device/v1/enroll', { token: null, body: { enroll_secret: `${s.json.secret}0`, serial: 'SEC-X' } }],
  ]) {
    const res = await r(what, method, path, o);
    assert.ok([401, 403].includes(res.status), `${what}: ${res.status}`);
  }
  // the certificate is issued and delivered as a PKCS#12
  let delivered;
  const end = Date.now() + 60000;
  while (!delivered && Date.now() < end) {
    const c = await r('checkin', 'POST', '/device/v1/checkin', { token: secrets.device, body: { installed: [] } });
    assert.equal(c.status, 200, c.text);
    const entry = c.json.profiles.find((x) => x.profile_id === p.json.id);
    if (entry?.action === 'install') {
      delivered = entry;
      replies.at(-1).what = 'checkin delivering';
    } else {
      await sleep(200);
    }
  }
  assert.ok(delivered, 'the PKCS#12 was delivered');
  secrets.pkcs12_password = delivered.pkcs12_password;
  createdIn.pkcs12_password = 'checkin delivering';
  // the private key inside the PKCS#12
  const dir = mkdtempSync(join(tmpdir(), 'certdeploy-sec-'));
  try {
    writeFileSync(join(dir, 'p.p12'), Buffer.from(delivered.pkcs12, 'base64'));
    const keyPem = execFileSync('openssl', ['pkcs12', '-in', join(dir, 'p.p12'), '-nocerts', '-nodes', '-passin', `pass:${delivered.pkcs12_password}`], { encoding: 'utf8' });
    const b64 = keyPem.replace(/-----[^-]+-----|Bag Attributes.*|localKeyID.*|Key Attributes.*|<No Attributes>|\s/g, '');
    assert.ok(b64.length > 500, 'a private key came out of the PKCS#12');
    secrets.private_key = b64.slice(100, 164); // any 64 characters of its base64
    createdIn.private_key = null; // in no reply in the clear: only inside the encrypted PKCS#12
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ack = await r('ack', 'POST', `/device/v1/profiles/${p.json.id}/ack`, { token: secrets.device, body: { generation: delivered.generation, result: 'installed', sha256: pemSha(delivered.certificate) } });
  assert.equal(ack.status, 200, ack.text);
  const again = await r('checkin after ack', 'POST', '/device/v1/checkin', { token: secrets.device, body: { installed: [{ profile_id: p.json.id, sha256: pemSha(delivered.certificate) }] } });
  assert.equal(again.json.profiles.find((x) => x.profile_id === p.json.id).action, 'none');
  // everything an admin can read
  for (const path of ['/api/v1/cas', `/api/v1/cas/${ca.json.id}`, '/api/v1/tokens', '/api/v1/enroll-secrets', '/api/v1/profiles',
    `/api/v1/profiles/${p.json.id}`, '/api/v1/devices', `/api/v1/devices/${dev}`, `/api/v1/devices/${dev}/profiles/${p.json.id}`,
    `/api/v1/devices/${dev}/profiles/${p.json.id}/history`, '/api/v1/status', '/api/v1/audit?limit=500', '/api/v1/whoami']) {
    const res = await r(`GET ${path}`, 'GET', path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
  }
  replies.push({ what: 'metrics', text: (await srv.request('GET', '/metrics', { token: null })).text });
  return { srv, mock, replies, secrets, createdIn, deviceId: dev, profileId: p.json.id };
}

before(async () => { sc = await scenario(); });
after(async () => {
  await sc?.srv.stop();
  await sc?.mock.stop();
});

test('no secret appears in the log, and each only in the reply that creates it', async () => {
  await sleep(200); // the last request's log line
  const logs = sc.srv.logs() + sc.srv.stdout();
  assert.ok(logs.split('\n').length > 20, 'the scenario was logged');
  for (const [name, value] of Object.entries(sc.secrets)) {
    assert.ok(value && value.length >= 16, `${name} is a real secret`);
    assert.ok(!logs.includes(value), `${name} appears in the log`);
    const where = sc.replies.filter((x) => x.text.includes(value)).map((x) => x.what);
    assert.deepEqual(where, sc.createdIn[name] ? [sc.createdIn[name]] : [], `${name} appears in replies: ${where.join(', ')}`);
  }
});

test('the database holds secrets only as SHA-256 hex or sealed', async () => {
  const { srv, secrets } = sc;
  // every column that could hold a secret is a hash or sealed
  const cols = srv.sql(`SELECT table_name || '.' || column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name ~ '(token|secret|password|passphrase|private|key)' ORDER BY 1`).split('\n');
  for (const c of cols) assert.match(c, /(_hash|_sealed|\.key_mode)$/, `${c} would hold a secret in the clear`);
  for (const [table, col] of [['api_tokens', 'token_hash'], ['enroll_secrets', 'secret_hash'], ['devices', 'token_hash']]) {
    assert.equal(srv.sql(`SELECT count(*) FROM ${table} WHERE ${col} !~ '^[0-9a-f]{64}$'`), '0', `${table}.${col} is SHA-256 hex`);
  }
  const hashes = (table, col) => srv.sql(`SELECT ${col} FROM ${table}`).split('\n');
  for (const name of ['admin', 'token_admin', 'token_observer']) assert.ok(hashes('api_tokens', 'token_hash').includes(sha256hex(secrets[name])), name);
  assert.ok(hashes('enroll_secrets', 'secret_hash').includes(sha256hex(secrets.enroll)));
  assert.ok(hashes('devices', 'token_hash').includes(sha256hex(secrets.device)));
  assert.ok(!hashes('devices', 'token_hash').includes(sha256hex(secrets.device_first)), 'the revoked token is gone');
  // the server-made key is erased once the device confirmed its certificate
  assert.equal(srv.sql(`SELECT count(*) FROM deployments WHERE key_sealed IS NOT NULL AND device_id = '${sc.deviceId}'`), '0');
  // a full dump of the database holds no secret in the clear
  const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', '-d', srv.conninfo], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.ok(dump.length > 1000);
  for (const [name, value] of Object.entries(secrets)) assert.ok(!dump.includes(value), `${name} is in the database in the clear`);
  assert.ok(!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(dump), 'no plain private key');
});

test('tokens are found by their hash: replacing the stored hash replaces the token', async () => {
  const { srv } = sc;
  const api = `cdt_${randomBytes(24).toString('hex')}`;
  const id = srv.sql(`SELECT id FROM api_tokens WHERE name = 'sec-observer'`);
  srv.sql(`UPDATE api_tokens SET token_hash = '${sha256hex(api)}' WHERE id = '${id}'`);
  assert.equal((await srv.request('GET', '/api/v1/whoami', { token: api })).status, 200);
  assert.equal((await srv.request('GET', '/api/v1/whoami', { token: sc.secrets.token_observer })).status, 401);
  const dev = `cdd_${randomBytes(24).toString('hex')}`;
  srv.sql(`UPDATE devices SET token_hash = '${sha256hex(dev)}' WHERE id = '${sc.deviceId}'`);
  assert.equal((await srv.request('POST', '/device/v1/checkin', { token: dev, body: {} })).status, 200);
  assert.equal((await srv.request('POST', '/device/v1/checkin', { token: sc.secrets.device, body: {} })).status, 401);
  const secret = `cde_${randomBytes(24).toString('hex')}`;
  srv.sql(`UPDATE enroll_secrets SET secret_hash = '${sha256hex(secret)}' WHERE name = 'sec'`);
  assert.equal((await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: secret, serial: 'SEC-2' } })).status, 201);
  assert.equal((await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: sc.secrets.enroll, serial: 'SEC-3' } })).status, 401);
});

// ---- TLS versions -----------------------------------------------------------------

function handshake(port, ca, version) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, rejectUnauthorized: !!ca, minVersion: version, maxVersion: version,
      ciphers: 'DEFAULT:@SECLEVEL=0' }, () => {
      resolve(`ok ${s.getProtocol()}`);
      s.destroy();
    });
    s.on('error', (e) => resolve(`refused ${e.code}`));
  });
}

test('TLS 1.0 and 1.1 are refused by the server; 1.2 and 1.3 are accepted', async () => {
  // the client really offers the old versions: a permissive local server accepts them
  const dir = mkdtempSync(join(tmpdir(), 'certdeploy-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'),
    '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const permissive = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
  await new Promise((r) => permissive.listen(0, '127.0.0.1', r));
  try {
    for (const v of ['TLSv1', 'TLSv1.1']) assert.equal(await handshake(permissive.address().port, null, v), `ok ${v}`, `the client can speak ${v}`);
  } finally {
    permissive.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const port = Number(new URL(sc.srv.url).port);
  for (const v of ['TLSv1', 'TLSv1.1']) assert.match(await handshake(port, sc.srv.caPem, v), /^refused/, `${v} is refused`);
  for (const v of ['TLSv1.2', 'TLSv1.3']) assert.equal(await handshake(port, sc.srv.caPem, v), `ok ${v}`);
  // and the server still answers after the refused handshakes
  assert.equal((await sc.srv.request('GET', '/healthz', { token: null })).status, 200);
});

// ---- last: the rate-limit window ends -------------------------------------------------

test('a blocked address is let in again when its window ends', async () => {
  const blocked = await call(rl, 'GET', '/api/v1/whoami', { token: rl.token, localAddress: '127.0.0.9' });
  if (blocked.status === 429) {
    const wait = Math.max(0, windowStart + 61000 - Date.now());
    await sleep(wait);
  }
  assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: rl.token, localAddress: '127.0.0.9' })).status, 200);
  assert.equal((await call(rl, 'GET', '/api/v1/whoami', { token: 'cdt_again', localAddress: '127.0.0.9' })).status, 401, 'a fresh window counts again');
});
