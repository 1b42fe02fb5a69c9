// certdeployctl, the admin and CI client, against the real server, mock CA
// and agents over TLS: each command's table and --json output, every exit
// status (0; 1 the --fail-on gate; 2 usage errors, before anything is
// sent; 3 no answer or a refused token; 4 other API errors with the
// server's message), the environment against the flags, and TLS
// verification. A small stand-in server (with the real server's TLS pair)
// answers what the real one cannot be made to: a 503 of a server in
// trouble, a non-JSON reply, a cursor that does not move on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BUILD } from './lib/server.mjs';
import { startFleet } from './lib/fleet.mjs';
import { hasSanitizerReport } from './lib/mockca.mjs';

const CTL = `${BUILD}/certdeployctl`;
const VERSION = readFileSync('lib/version.h', 'utf8').match(/#define CERTDEPLOY_VERSION "([^"]+)"/)[1];

let fleet;
let srv;
let work;
let caFile; // the server's certificate: what --ca-file wants
let otherCa; // a CA that did not sign the server's certificate
let closedUrl; // a port nobody listens on
let devOk; // verified in profile `main`
let devFail; // failed in profile `main`
let main;

/** Runs certdeployctl with only the given environment (plus PATH and the
 *  sanitizer settings); resolves {code, stdout, stderr}. A sanitizer report
 *  fails the test. */
function ctl(args, env = {}, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(CTL, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0',
        UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (hasSanitizerReport(stderr)) reject(new Error(`certdeployctl ${args.join(' ')}: sanitizer report:\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The environment of an admin pointed at the test server. */
const adminEnv = (extra = {}) => ({
  CERTDEPLOY_URL: srv.url, CERTDEPLOY_TOKEN: srv.token, CERTDEPLOY_CA_FILE: caFile, ...extra,
});

/** certdeployctl as that admin. */
const admin = (args, extra = {}) => ctl(args, adminEnv(extra));

/** Asserts a failure: the exit status, nothing on stdout, one line on stderr matching re. */
function assertFails(r, code, re, what) {
  assert.equal(r.code, code, `${what}: exit ${r.code}, want ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '', `${what}: stdout should be empty`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `${what}: want one line on stderr:\n${r.stderr}`);
  assert.match(lines[0], /^certdeployctl: /, what);
  assert.match(lines[0], re, what);
}

/** Rows of a table as arrays of cells (columns are two or more spaces apart). */
function tableRows(stdout) {
  return stdout.trimEnd().split('\n').map((l) => l.split(/ {2,}/).map((c) => c.trim()));
}

/** The status table as {name: count}; checks its header. */
function statusTable(stdout) {
  const [header, ...rows] = tableRows(stdout);
  assert.deepEqual(header, ['STATUS', 'COUNT']);
  return Object.fromEntries(rows.map(([k, v]) => [k, Number(v)]));
}

async function api(method, path, o) {
  return srv.request(method, path, o);
}

/** Every device the API lists for query (all pages, as the test sees them). */
async function apiDevices(query = '') {
  const all = [];
  let cursor = null;
  do {
    const r = await api('GET', `/api/v1/devices?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    all.push(...r.json.devices);
    cursor = r.json.next_cursor;
  } while (cursor);
  return all;
}

/** A profile for devs, issued, with each dev's install failing: failed. */
async function failedProfile(devs, fields = {}) {
  const p = await fleet.profileFor(devs, { key_mode: 'server', ...fields });
  for (const d of devs) {
    await fleet.until(d.deviceId, p.id, (x) => x.issued_certificate !== null, { what: 'issued' });
    const r = await d.run(['checkin', '--fail-install', p.id]);
    assert.notEqual(r.code, 0);
    assert.equal((await fleet.deployment(d.deviceId, p.id)).status, 'failed');
  }
  return p;
}

function closedPort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** A stand-in API server with the real server's TLS pair; handler(req, body) → {status, body}
 *  (an object is sent as JSON, a string as is). Records every request. */
async function fakeServer(handler) {
  const seen = [];
  const server = https.createServer({
    cert: readFileSync(caFile), key: readFileSync(join(srv.stateDir, 'tls.key')),
  }, (req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const { status, body } = handler(req);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json' });
    res.end(text);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${server.address().port}`,
    seen,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'certdeployctl-'));
  fleet = await startFleet();
  srv = fleet.srv;
  caFile = join(srv.stateDir, 'tls.crt');
  otherCa = join(work, 'other-ca.pem');
  writeFileSync(otherCa, await fleet.mock.caPem());
  closedUrl = `https://127.0.0.1:${await closedPort()}`;
  devOk = await fleet.device('SN-CTL-OK');
  devFail = await fleet.device('SN-CTL-FAIL');
  main = await fleet.profileFor([devOk, devFail], { key_mode: 'server', common_name: 'ctl-$DEVICE_SERIAL' });
  await fleet.until(devOk.deviceId, main.id, (d) => d.status === 'verified', { dev: devOk, what: 'verified' });
  await fleet.until(devFail.deviceId, main.id, (d) => d.issued_certificate !== null, { what: 'issued' });
  const r = await devFail.run(['checkin', '--fail-install', main.id]);
  assert.notEqual(r.code, 0, r.stdout);
  assert.equal((await fleet.deployment(devFail.deviceId, main.id)).status, 'failed');
});

after(async () => {
  await fleet?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--version prints "certdeployctl VERSION"; --help lists only the commands that exist', async () => {
  const v = await ctl(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `certdeployctl ${VERSION}\n`);
  const h = await ctl(['--help']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.stderr, '');
  for (const c of ['status', 'resend', 'devices', 'deployments']) assert.match(h.stdout, new RegExp(`^  ${c} `, 'm'), c);
  for (const flag of ['--server', '--token', '--ca-file', '--insecure', '--timeout', '--json', '--profile', '--fail-on', '--status', '--q', '--limit',
    '--failure-source', '--expires-before', '--csv']) {
    assert.ok(h.stdout.includes(flag), `--help does not name ${flag}`);
  }
  // their endpoints do not exist yet: not offered
  for (const c of ['certificates', 'scep-challenge']) assert.ok(!h.stdout.includes(c), c);
  for (const [code, what] of [['0', 'success'], ['1', '--fail-on'], ['2', 'usage'], ['3', 'reached'], ['4', 'API error']]) {
    assert.match(h.stdout, new RegExp(`${code} [^,]*${what}`), `--help explains exit ${code}`);
  }
});

test('usage errors exit 2 with one line, and nothing is sent', async () => {
  const dev = devOk.deviceId;
  const cases = [
    [[], /missing command/],
    [['certificates'], /unknown command "certificates"/],
    [['scep-challenge', dev, main.id], /unknown command "scep-challenge"/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['status', '--bogus'], /unknown option "--bogus"/],
    [['status', '--profile'], /--profile needs a value/],
    // the server would answer 400 (exit 4): checked here first
    [['status', '--fail-on', 'failed,bogus'], /--fail-on wants a comma-separated list .* not "failed,bogus"/],
    [['status', '--fail-on', 'failed,'], /--fail-on/],
    [['status', '--fail-on', ''], /--fail-on/],
    [['status', '--profile', 'not-a-uuid'], /--profile wants a profile id/],
    [['status', 'extra'], /unexpected argument "extra"/],
    [['status', '--q', 'x'], /--q is not an option of status/],
    [['devices', '--fail-on', 'failed'], /--fail-on is not an option of devices/],
    [['devices', '--limit', '0'], /--limit wants a number/],
    [['devices', '--limit', ' 5'], /--limit wants a number/],
    [['devices', '--limit', 'many'], /--limit wants a number/],
    [['devices', '--status', 'broken'], /--status is pending, verifying, verified or failed/],
    [['deployments', '--csv', '--json'], /--csv and --json exclude each other/],
    [['--json', 'deployments', '--csv'], /--csv and --json exclude each other/],
    [['deployments', '--csv', '--limit', '5'], /--csv exports every match: it takes no --limit/],
    [['deployments', '--failure-source', 'ca'], /--failure-source is server or device, not "ca"/],
    [['deployments', '--status', 'broken'], /--status is pending, verifying, verified or failed/],
    [['deployments', '--profile', 'wifi'], /--profile wants a profile id/],
    [['deployments', '--fail-on', 'failed'], /--fail-on is not an option of deployments/],
    [['deployments', 'extra'], /unexpected argument "extra"/],
    [['devices', '--csv'], /--csv is not an option of devices/],
    [['devices', '--expires-before', '14d'], /--expires-before is not an option of devices/],
    [['status', '--failure-source', 'device'], /--failure-source is not an option of status/],
    [['resend'], /resend needs DEVICE_ID PROFILE_ID/],
    [['resend', dev], /resend needs DEVICE_ID PROFILE_ID/],
    [['resend', dev, main.id, 'third'], /unexpected argument "third"/],
    [['resend', 'SN-CTL-OK', main.id], /DEVICE_ID must be a device id/],
    [['resend', dev, 'wifi'], /PROFILE_ID must be a profile id/],
    [['resend', '--profile', main.id], /needs --status failed/],
    [['resend', '--profile', main.id, '--status', 'pending'], /resend --status is failed or verified/],
    [['resend', dev, main.id, '--profile', main.id, '--status', 'failed'], /not both/],
    [['resend', dev, main.id, '--status', 'failed'], /--status goes with --profile/],
    [['--timeout', '0', 'status'], /--timeout wants whole seconds/],
    [['--ca-file', caFile, '--insecure', 'status'], /--ca-file and --insecure exclude each other/],
    [['--ca-file', join(work, 'missing.pem'), 'status'], /cannot read the CA file .*missing\.pem/],
    [['--server', srv.url.replace('https:', 'http:'), 'status'], /--server must be an https:\/\/ URL/],
  ];
  const requests = () => srv.logLines().filter((l) => l.path !== undefined).length;
  const sent = requests();
  for (const [args, re] of cases) {
    assertFails(await admin(args), 2, re, `certdeployctl ${args.join(' ')}`);
  }
  assertFails(await ctl(['status'], { CERTDEPLOY_TOKEN: srv.token }), 2, /no server: pass --server URL or set CERTDEPLOY_URL/, 'no server');
  assertFails(await ctl(['status'], { CERTDEPLOY_URL: srv.url, CERTDEPLOY_CA_FILE: caFile }), 2, /no token: set CERTDEPLOY_TOKEN/, 'no token');
  assertFails(await ctl(['status'], adminEnv({ CERTDEPLOY_TOKEN: 'a\nb' })), 2, /one line/, 'a token of two lines');
  // no request reached the server: it logs every one; this one is the last
  await api('GET', '/healthz');
  for (let i = 0; i < 100 && requests() === sent; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(requests(), sent + 1, `a usage error was sent:\n${srv.logLines().filter((l) => l.path).slice(sent).map((l) => JSON.stringify(l)).join('\n')}`);
});

test('status: the counts as a table, and with --json the API\'s JSON', async () => {
  const want = (await api('GET', `/api/v1/status?profile_id=${main.id}`)).json;
  assert.equal(want.verified, 1);
  assert.equal(want.failed, 1);
  const t = await admin(['status', '--profile', main.id]);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stderr, '');
  assert.deepEqual(statusTable(t.stdout), want);
  assert.deepEqual(Object.keys(statusTable(t.stdout)),
    ['pending', 'verifying', 'verified', 'failed', 'failed_with_valid_certificate', 'total']);
  assert.match(t.stdout, /^verified +1$/m, 'numbers are aligned right, no trailing spaces');

  const j = await admin(['--json', 'status', '--profile', main.id]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout.split('\n').length, 2, 'one line of JSON');
  assert.deepEqual(JSON.parse(j.stdout), want);
  assert.match(j.stdout, /"verified":1/, 'compact, as the API sends it');

  // every profile; --json may come after the command too
  const all = (await api('GET', '/api/v1/status')).json;
  const a = await admin(['status', '--json']);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout), all);
  assert.ok(all.total >= 2);

  // output that cannot be written is not a success
  const full = spawnSync(CTL, ['status'], { env: { PATH: process.env.PATH, ...adminEnv() }, stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'], encoding: 'utf8' });
  assert.equal(full.status, 4, full.stderr);
  assert.equal(full.stderr, 'certdeployctl: cannot write the output\n');

  // an unknown profile: the server's 404 (exit 4)
  const missing = randomUUID();
  assertFails(await admin(['status', '--profile', missing]), 4,
    new RegExp(`^certdeployctl: No profile with id ${missing}\\. \\(HTTP 404 not_found\\)$`), 'unknown profile');
});

test('status --fail-on: exit 1 when a listed status counts a deployment, 0 when none does', async () => {
  const gate = await admin(['status', '--profile', main.id, '--fail-on', 'failed']);
  assert.equal(gate.code, 1, gate.stderr);
  assert.equal(statusTable(gate.stdout).failed, 1, 'the counts are printed all the same');
  assert.equal(gate.stderr, 'certdeployctl: --fail-on failed tripped: 1 failed\n');

  const both = await admin(['--json', 'status', '--profile', main.id, '--fail-on', 'verified,failed']);
  assert.equal(both.code, 1, both.stderr);
  assert.equal(JSON.parse(both.stdout).failed, 1);
  assert.match(both.stderr, /tripped: 1 verified, 1 failed$/m);

  const open = await admin(['status', '--profile', main.id, '--fail-on', 'pending,verifying']);
  assert.equal(open.code, 0, open.stderr);
  assert.equal(open.stderr, '');
  assert.equal(statusTable(open.stdout).pending, 0);
});

test('a 503 of a server in trouble is not the gate: exit 4 with its message; the gate is read from the body', async () => {
  let answer;
  const fake = await fakeServer(() => answer);
  try {
    const env = adminEnv({ CERTDEPLOY_URL: fake.url });
    answer = { status: 503, body: { error: { code: 'unavailable', message: 'The database is unavailable; try again shortly.' } } };
    assertFails(await ctl(['status', '--fail-on', 'failed'], env), 4,
      /^certdeployctl: The database is unavailable; try again shortly\. \(HTTP 503 unavailable\)$/, '503 unavailable');
    assertFails(await ctl(['--json', 'status'], env), 4, /\(HTTP 503 unavailable\)$/, '503 unavailable, --json');
    assert.equal(fake.seen[0].url, '/api/v1/status?fail_on=failed');
    assert.equal(fake.seen[0].headers.authorization, `Bearer ${srv.token}`);
    assert.match(fake.seen[0].headers['user-agent'], new RegExp(`^certdeployctl/${VERSION}$`));

    const counts = { pending: 0, verifying: 0, verified: 3, failed: 2, failed_with_valid_certificate: 1, total: 5 };
    answer = { status: 503, body: counts };
    const gate = await ctl(['status', '--fail-on', 'failed'], env);
    assert.equal(gate.code, 1, gate.stderr);
    assert.equal(statusTable(gate.stdout).failed, 2);
    // a server that ignored fail_on cannot open the gate
    answer = { status: 200, body: counts };
    const lax = await ctl(['status', '--fail-on', 'failed'], env);
    assert.equal(lax.code, 1, lax.stderr);
    assert.match(lax.stderr, /tripped: 2 failed/);

    // an error body without a message, a page that is not the API, an HTML error page
    answer = { status: 500, body: { error: { code: 'internal' } } };
    assertFails(await ctl(['status'], env), 4, /^certdeployctl: the server refused the request \(HTTP 500 internal\)$/, 'no message');
    answer = { status: 200, body: '<html>hello</html>' };
    assertFails(await ctl(['status'], env), 4, /not a JSON object; is --server right\?$/, 'HTML 200');
    answer = { status: 502, body: '<html>Bad Gateway</html>' };
    assertFails(await ctl(['status', '--fail-on', 'failed'], env), 4, /^certdeployctl: the server refused the request \(HTTP 502\)$/, 'HTML 502');
    // the server's message reaches the terminal without its escape sequences
    answer = { status: 409, body: { error: { code: 'conflict', message: 'bad \u001b[2Jthing\u202e' } } };
    assertFails(await ctl(['status'], env), 4, /^certdeployctl: bad \?\[2Jthing\? \(HTTP 409 conflict\)$/, 'escapes');
  } finally {
    await fake.close();
  }
});

test('exit 3: no server there, a wrong token, a role the server refuses', async () => {
  assertFails(await admin(['status'], { CERTDEPLOY_URL: closedUrl }), 3,
    new RegExp(`cannot connect to ${closedUrl.replace(/\./g, '\\.')} .*check --server`), 'closed port');
  assertFails(await admin(['devices'], { CERTDEPLOY_TOKEN: 'cdt_wrong' }), 3,
    /^certdeployctl: [^(]+ \(HTTP 401 unauthorized\)$/, 'wrong token');

  const tok = await api('POST', '/api/v1/tokens', { body: { name: 'ci', role: 'observer' } });
  assert.equal(tok.status, 201, tok.text);
  const observer = { CERTDEPLOY_TOKEN: tok.json.token };
  const s = await admin(['status', '--profile', main.id], observer);
  assert.equal(s.code, 0, s.stderr);
  assertFails(await admin(['resend', devOk.deviceId, main.id], observer), 3,
    /^certdeployctl: This token has the observer role, [^(]+ \(HTTP 403 forbidden\)$/, 'observer resend');
  assert.equal((await fleet.deployment(devOk.deviceId, main.id)).status, 'verified', 'refused: unchanged');
});

test('TLS: verified against --ca-file or the system CAs; a wrong CA fails; --insecure warns', async () => {
  const env = { CERTDEPLOY_URL: srv.url, CERTDEPLOY_TOKEN: srv.token };
  assertFails(await ctl(['status'], env), 3,
    /^certdeployctl: cannot verify the TLS certificate of https:\/\/127\.0\.0\.1:\d+ .*pass the CA that signed it with --ca-file$/,
    'self-signed server, system CAs');
  assertFails(await ctl(['--ca-file', otherCa, 'status'], env), 3, /cannot verify the TLS certificate/, 'another CA');
  const flag = await ctl(['--ca-file', caFile, 'status'], env);
  assert.equal(flag.code, 0, flag.stderr);
  const fromEnv = await ctl(['status'], { ...env, CERTDEPLOY_CA_FILE: caFile });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  const insecure = await ctl(['--insecure', 'status'], env);
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.match(insecure.stderr, /^certdeployctl: warning: --insecure: the server's TLS certificate is not verified/);
  assert.equal(statusTable(insecure.stdout).total, statusTable(flag.stdout).total);
  // --insecure wins over a CA file from the environment (not a usage error)
  const both = await ctl(['--insecure', 'status'], { ...env, CERTDEPLOY_CA_FILE: otherCa });
  assert.equal(both.code, 0, both.stderr);
});

test('flags win over the environment', async () => {
  const server = await admin(['--server', srv.url, 'status'], { CERTDEPLOY_URL: closedUrl });
  assert.equal(server.code, 0, server.stderr);
  const token = await admin(['--token', srv.token, 'status'], { CERTDEPLOY_TOKEN: 'cdt_wrong' });
  assert.equal(token.code, 0, token.stderr);
  assertFails(await admin(['--token', 'cdt_wrong', 'status']), 3, /HTTP 401 unauthorized/, 'wrong --token, right env');
  const ca = await admin(['--ca-file', caFile, 'status'], { CERTDEPLOY_CA_FILE: otherCa });
  assert.equal(ca.code, 0, ca.stderr);
  assertFails(await admin(['--ca-file', otherCa, 'status']), 3, /cannot verify/, 'wrong --ca-file, right env');
  assertFails(await admin(['--server', closedUrl, 'status']), 3, /cannot connect/, 'wrong --server, right env');
});

test('resend DEVICE_ID PROFILE_ID: failed becomes pending; resending that is exit 4 with the server\'s 409', async () => {
  const p = await failedProfile([devFail]);
  const r = await admin(['resend', devFail.deviceId, p.id]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `resent: profile ${p.name} on device ${devFail.deviceId} is pending (generation 2)\n`);
  const dep = await fleet.deployment(devFail.deviceId, p.id);
  assert.equal(dep.status, 'pending');
  assert.equal(dep.generation, 2);

  const again = await admin(['resend', devFail.deviceId, p.id]);
  assertFails(again, 4, /^certdeployctl: The deployment is pending: .*Resend applies to failed or verified deployments\. \(HTTP 409 conflict\)$/, 'resend of pending');
  assert.equal((await fleet.deployment(devFail.deviceId, p.id)).generation, 2, 'the 409 changed nothing');
  assertFails(await admin(['--json', 'resend', devFail.deviceId, p.id]), 4, /\(HTTP 409 conflict\)$/, 'resend of pending, --json');

  const unknown = randomUUID();
  assertFails(await admin(['resend', unknown, p.id]), 4,
    new RegExp(`^certdeployctl: Device ${unknown} has no deployment of profile ${p.id}\\. \\(HTTP 404 not_found\\)$`), 'unknown device');

  // --json: the deployment the API answers; a verified one gets a new generation too
  const v = await fleet.profileFor([devOk], { key_mode: 'server', common_name: 'json-$DEVICE_SERIAL' });
  const before = await fleet.until(devOk.deviceId, v.id, (d) => d.status === 'verified', { dev: devOk, what: 'verified' });
  const j = await admin(['--json', 'resend', devOk.deviceId, v.id]);
  assert.equal(j.code, 0, j.stderr);
  const got = JSON.parse(j.stdout);
  assert.equal(got.device_id, devOk.deviceId);
  assert.equal(got.profile_id, v.id);
  assert.equal(got.status, 'pending');
  assert.equal(got.generation, before.generation + 1);
  assert.equal(got.failure_source, null);
  assert.equal(got.detail, 'admin resend');
  // the worker may issue the new generation at once: compare what it does not change
  const later = await fleet.deployment(devOk.deviceId, v.id);
  assert.equal(later.generation, got.generation);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(later).sort());
});

test('resend --profile ID --status failed: every failed deployment of the profile, and how many', async () => {
  const p = await failedProfile([devOk, devFail]);
  const r = await admin(['resend', '--profile', p.id, '--status', 'failed']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `resent 2 failed deployments of profile ${p.id}\n`);
  for (const d of [devOk, devFail]) assert.equal((await fleet.deployment(d.deviceId, p.id)).status, 'pending');
  const none = await admin(['--json', 'resend', '--status', 'failed', '--profile', p.id]);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(JSON.parse(none.stdout), { resent: 0 });
  const missing = randomUUID();
  assertFails(await admin(['resend', '--profile', missing, '--status', 'failed']), 4,
    new RegExp(`^certdeployctl: No profile with id ${missing}\\. \\(HTTP 404 not_found\\)$`), 'unknown profile');
});

test('devices: every page, the filters, --limit, a table and --json', async () => {
  // 130 more devices: more than one page of the client's (100)
  const serials = Array.from({ length: 130 }, (_, i) => `SN-PAGE-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < serials.length; i += 10) {
    await Promise.all(serials.slice(i, i + 10).map(async (serial) => {
      const r = await api('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: `Page ${serial}` } });
      assert.equal(r.status, 201, r.text);
    }));
  }
  const evil = await api('POST', '/device/v1/enroll', {
    token: null, body: { enroll_secret: fleet.enrollSecret, serial: 'SN-EVIL', name: 'Evil\u001b[2J\u0007name' },
  });
  assert.equal(evil.status, 201, evil.text);

  const everything = await apiDevices();
  assert.ok(everything.length > 130);
  const j = await admin(['devices', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const listed = JSON.parse(j.stdout);
  assert.deepEqual(listed, { devices: everything, next_cursor: null }, 'every page, in the API\'s order and shape');

  const t = await admin(['devices']);
  assert.equal(t.code, 0, t.stderr);
  const [header, ...rows] = tableRows(t.stdout);
  assert.deepEqual(header, ['ID', 'SERIAL', 'NAME', 'LAST CHECK-IN', 'PENDING', 'VERIFYING', 'VERIFIED', 'FAILED']);
  assert.equal(rows.length, everything.length);
  const ok = everything.find((d) => d.serial === 'SN-CTL-OK');
  const c = ok.counts;
  assert.deepEqual(rows.find((row) => row[0] === devOk.deviceId),
    [ok.id, 'SN-CTL-OK', 'Laptop SN-CTL-OK', ok.last_checkin_at, ...[c.pending, c.verifying, c.verified, c.failed].map(String)]);
  assert.ok(ok.last_checkin_at);
  assert.deepEqual(rows.find((row) => row[1] === 'SN-PAGE-007').slice(1), ['SN-PAGE-007', 'Page SN-PAGE-007', 'never', '0', '0', '0', '0']);
  // a name a device chose cannot send escapes to the admin's terminal; --json keeps it
  assert.ok(!t.stdout.includes('\u001b') && !t.stdout.includes('\u0007'));
  assert.equal(rows.find((row) => row[1] === 'SN-EVIL')[2], 'Evil?[2J?name');
  assert.equal(listed.devices.find((d) => d.serial === 'SN-EVIL').name, 'Evil\u001b[2J\u0007name');

  // --q: part of the serial or name (sent percent-encoded: a space and '&' survive)
  const page = await admin(['devices', '--q', 'SN-PAGE-']);
  assert.equal(tableRows(page.stdout).length - 1, 130);
  const tens = JSON.parse((await admin(['--json', 'devices', '--q', 'Page SN-PAGE-01'])).stdout).devices;
  assert.deepEqual(tens.map((d) => d.serial).sort(), serials.slice(10, 20));
  assert.deepEqual(tens, await apiDevices(`&q=${encodeURIComponent('Page SN-PAGE-01')}`));
  const amp = await admin(['devices', '--q', 'a&limit=1']);
  assert.equal(amp.code, 0, amp.stderr);
  assert.equal(tableRows(amp.stdout).length, 1, 'nothing matches "a&limit=1": only the header');

  // --limit: exactly N, across a page boundary; --json says more are left
  const lim = await admin(['devices', '--q', 'SN-PAGE-', '--limit', '105']);
  assert.equal(lim.code, 0, lim.stderr);
  assert.equal(tableRows(lim.stdout).length - 1, 105);
  const limj = JSON.parse((await admin(['--json', 'devices', '--q', 'SN-PAGE-', '--limit', '120'])).stdout);
  assert.equal(limj.devices.length, 120);
  assert.equal(typeof limj.next_cursor, 'string');
  assert.deepEqual(limj.devices, everything.filter((d) => d.serial.startsWith('SN-PAGE-')).slice(0, 120));
  const exact = JSON.parse((await admin(['--json', 'devices', '--q', 'SN-PAGE-', '--limit', '130'])).stdout);
  assert.equal(exact.devices.length, 130);

  // --status and --profile: devices with a deployment in that status / of that profile
  const failed = JSON.parse((await admin(['--json', 'devices', '--status', 'failed'])).stdout);
  assert.deepEqual(failed.devices.map((d) => d.id), (await apiDevices('&status=failed')).map((d) => d.id));
  assert.ok(failed.devices.some((d) => d.id === devFail.deviceId));
  assert.ok(!failed.devices.some((d) => d.serial.startsWith('SN-PAGE-')));
  const inMain = JSON.parse((await admin(['--json', 'devices', '--profile', main.id])).stdout);
  assert.deepEqual(inMain.devices.map((d) => d.id).sort(), [devOk.deviceId, devFail.deviceId].sort());
  const both = JSON.parse((await admin(['--json', 'devices', '--profile', main.id, '--status', 'failed'])).stdout);
  assert.deepEqual(both.devices.map((d) => d.id), [devFail.deviceId]);
});

test('devices: the query is percent-encoded, and a cursor that does not move on is exit 4, not a loop', async () => {
  const device = { id: randomUUID(), serial: 'S', name: 'N', enrolled_at: '2026-12-01T00:00:00Z', last_checkin_at: null, counts: { pending: 0, verifying: 0, verified: 0, failed: 0 } };
  const fake = await fakeServer(() => ({ status: 200, body: { devices: [device], next_cursor: 'abcd' } }));
  try {
    const env = adminEnv({ CERTDEPLOY_URL: fake.url });
    assertFails(await ctl(['devices', '--q', 'a&b c/é', '--status', 'failed', '--profile', main.id], env), 4,
      /cursor that does not move on/, 'a repeated cursor');
    assert.deepEqual(fake.seen.map((s) => s.url), [
      `/api/v1/devices?q=a%26b%20c%2F%C3%A9&status=failed&profile_id=${main.id}&limit=100`,
      `/api/v1/devices?q=a%26b%20c%2F%C3%A9&status=failed&profile_id=${main.id}&limit=100&cursor=abcd`,
    ]);
    fake.seen.length = 0;
    const one = await ctl(['--json', 'devices', '--limit', '1'], env);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout), { devices: [device], next_cursor: 'abcd' });
    assert.deepEqual(fake.seen.map((s) => s.url), ['/api/v1/devices?limit=1']);
  } finally {
    await fake.close();
  }
});

/** Every deployment the API lists for query (all pages). */
async function apiDeployments(query = '') {
  const all = [];
  let cursor = null;
  do {
    const r = await api('GET', `/api/v1/deployments?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    all.push(...r.json.deployments);
    cursor = r.json.next_cursor;
  } while (cursor);
  return all;
}

test('deployments: every page, the filters, --limit, a table, --json and --csv', async () => {
  // 120 pending deployments more (device key mode: they wait for a CSR, no CA call): pages
  const devs = await Promise.all(Array.from({ length: 120 }, async (_, i) => {
    const serial = `SN-DEP-${String(i).padStart(3, '0')}`;
    const r = await api('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: `Dep, "${i}"` } });
    assert.equal(r.status, 201, r.text);
    return { deviceId: r.json.device_id };
  }));
  const waiting = await fleet.profileFor(devs, { key_mode: 'device', common_name: 'dep-$DEVICE_SERIAL' });

  const everything = await apiDeployments();
  assert.ok(everything.length > 120);
  const j = await admin(['deployments', '--json']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), { deployments: everything, next_cursor: null }, 'every page, in the API\'s order and shape');

  const t = await admin(['deployments']);
  assert.equal(t.code, 0, t.stderr);
  const [header, ...rows] = tableRows(t.stdout);
  assert.deepEqual(header, ['DEVICE ID', 'SERIAL', 'PROFILE', 'STATUS', 'EXPIRES', 'DETAIL']);
  assert.equal(rows.length, everything.length);
  const failed = everything.find((d) => d.device_id === devFail.deviceId && d.profile_id === main.id);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(rows.find((r) => r[0] === devFail.deviceId && r[2] === main.name),
    [devFail.deviceId, 'SN-CTL-FAIL', main.name, 'failed', '-', failed.detail]);
  const ok = everything.find((d) => d.device_id === devOk.deviceId && d.profile_id === main.id);
  assert.deepEqual(rows.find((r) => r[0] === devOk.deviceId && r[2] === main.name).slice(3, 5),
    ['verified', ok.installed_certificate.not_after]);

  // the filters, sent as the API's, all of them together
  const json = async (args) => {
    const r = await admin(['--json', 'deployments', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).deployments;
  };
  assert.deepEqual(await json(['--status', 'failed']), await apiDeployments('&status=failed'));
  assert.deepEqual((await json(['--profile', waiting.id, '--status', 'pending'])).length, 120);
  assert.deepEqual(await json(['--failure-source', 'device', '--profile', main.id]), [failed]);
  assert.deepEqual(await json(['--q', 'SN-DEP-01', '--profile', waiting.id]),
    await apiDeployments(`&q=SN-DEP-01&profile_id=${waiting.id}`));
  assert.equal((await json(['--q', 'SN-DEP-01'])).length, 10);
  // --expires-before: days from now, or an RFC 3339 time as is
  const soon = await json(['--expires-before', '400d', '--profile', main.id]);
  assert.deepEqual(soon.map((d) => d.device_id), [devOk.deviceId], 'the one installed certificate, a year long');
  assert.deepEqual(await json(['--expires-before', '1d', '--profile', main.id]), []);
  const at = new Date(Date.parse(ok.installed_certificate.not_after) + 1000).toISOString();
  assert.deepEqual((await json(['--expires-before', at, '--profile', main.id])).map((d) => d.device_id), [devOk.deviceId]);
  assertFails(await admin(['deployments', '--expires-before', 'soon']), 4,
    /^certdeployctl: 'expires_before' must be an RFC 3339 time[^(]*\(HTTP 400 invalid_request\)$/, 'a time the server refuses');
  assertFails(await admin(['deployments', '--csv', '--expires-before', 'soon']), 4, /\(HTTP 400 invalid_request\)$/, '--csv, refused');
  assertFails(await admin(['deployments', '--csv'], { CERTDEPLOY_TOKEN: 'cdt_wrong' }), 3, /\(HTTP 401 unauthorized\)$/, '--csv, wrong token');
  assertFails(await admin(['deployments'], { CERTDEPLOY_URL: closedUrl }), 3, /cannot connect/, 'no server');

  // --limit: exactly N across a page boundary; --json says more are left
  const lim = JSON.parse((await admin(['--json', 'deployments', '--profile', waiting.id, '--limit', '105'])).stdout);
  assert.equal(lim.deployments.length, 105);
  assert.equal(typeof lim.next_cursor, 'string');
  assert.deepEqual(lim.deployments, (await apiDeployments(`&profile_id=${waiting.id}`)).slice(0, 105));

  // --csv: the server's export, byte for byte, on stdout
  const csv = await admin(['deployments', '--csv', '--profile', waiting.id]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stderr, '');
  const direct = await api('GET', `/api/v1/deployments?profile_id=${waiting.id}`, { headers: { Accept: 'text/csv' } });
  assert.equal(csv.stdout, direct.text);
  assert.equal(csv.stdout.split('\r\n').length, 1 + 120 + 1, 'the header, 120 rows, the empty rest');
  assert.ok(csv.stdout.includes('"Dep, ""7"""'), 'quoted as the server quotes');
  const all = await admin(['deployments', '--csv']);
  assert.equal(all.stdout.split('\r\n').length, 1 + everything.length + 1);
  // output that cannot be written is not a success
  const full = spawnSync(CTL, ['deployments', '--csv'], { env: { PATH: process.env.PATH, ...adminEnv() }, stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'], encoding: 'utf8' });
  assert.equal(full.status, 4, full.stderr);
  assert.match(full.stderr, /^certdeployctl: cannot write the output\n$/);
});

test('deployments --csv: an export the server cuts short is exit 4, not a whole file', async () => {
  const seen = [];
  const server = https.createServer({ cert: readFileSync(caFile), key: readFileSync(join(srv.stateDir, 'tls.key')) }, (req, res) => {
    seen.push(req.url);
    res.writeHead(200, { 'Content-Type': 'text/csv' });
    res.write('device_id,device_serial\r\nrow,1\r\n');
    setTimeout(() => res.socket.destroy(), 50); // no end of the chunked body
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await ctl(['deployments', '--csv', '--status', 'failed', '--q', 'a b', '--expires-before', '2027-01-01T00:00:00+01:00'],
      adminEnv({ CERTDEPLOY_URL: `https://127.0.0.1:${server.address().port}` }));
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'device_id,device_serial\r\nrow,1\r\n', 'what came, as it came');
    assert.match(r.stderr, /^certdeployctl: the answer from .* broke off .*incomplete\n$/);
    assert.deepEqual(seen, ['/api/v1/deployments?status=failed&expires_before=2027-01-01T00%3A00%3A00%2B01%3A00&q=a%20b']);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
