// certdeploy-agent against a fake Device API (tests/api/lib/fake-device-api.mjs):
// enroll, check-in actions (submit_csr, install in both key modes), error
// acks, TLS verification and --loop. Run: node --test tests/api/agent.test.mjs
// (binaries from $CERTDEPLOY_BUILD, default build/).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, afterEach, describe, test } from 'node:test';

import { certSha256, csrCommonName, csrKeyType, makeTestPki, startFakeDeviceApi }
  from './lib/fake-device-api.mjs';

const AGENT = resolve(process.env.CERTDEPLOY_BUILD || 'build', 'certdeploy-agent');

let pki;
let api;
let stateDir;

/** Runs the agent; resolves { code, signal, stdout, stderr }. */
function agent(args, { onSpawn, timeoutMs = 20000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(AGENT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    if (onSpawn) onSpawn(child);
  });
}

/** Global flags for the fake, verified against the test CA. */
function base(extra = []) {
  return ['--server', api.url, '--state-dir', stateDir, '--ca-file', pki.ca.certPath, ...extra];
}

async function enroll() {
  const r = await agent([...base(), 'enroll', '--enroll-secret', api.enrollSecret,
    '--serial', 'SN-1', '--name', 'test device']);
  assert.equal(r.code, 0, r.stderr);
}

function mode(st) {
  return st.mode & 0o777;
}

function profileFile(id, name) {
  return join(stateDir, 'profiles', id, name);
}

/** Asserts that keyPem is the private key of certPem. */
function assertKeyMatches(keyPem, certPem) {
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  assert.ok(fromKey.equals(fromCert), 'key.pem does not match cert.pem');
}

before(async () => {
  assert.ok(existsSync(AGENT), `${AGENT} is missing: run make first`);
  pki = await makeTestPki();
});

after(async () => {
  await pki.cleanup();
});

beforeEach(async () => {
  api = await startFakeDeviceApi(pki);
  stateDir = join(await mkdtemp(join(tmpdir(), 'certdeploy-agent-')), 'state');
});

afterEach(async () => {
  await api.close();
  await rm(join(stateDir, '..'), { recursive: true, force: true });
});

describe('enroll', () => {
  test('writes device.json 0600 in a 0700 dir and prints the device id', async () => {
    const r = await agent([...base(), 'enroll', '--enroll-secret', api.enrollSecret,
      '--serial', 'SN-1', '--name', 'laptop 1']);
    assert.equal(r.code, 0, r.stderr);
    const dev = api.devices.get('SN-1');
    assert.match(r.stdout, new RegExp(`^enrolled as device ${dev.id}$`, 'm'));
    const req = api.requestsTo('/device/v1/enroll')[0];
    assert.deepEqual(req.body, { enroll_secret: api.enrollSecret, serial: 'SN-1', name: 'laptop 1' });
    assert.equal(req.auth, undefined);
    assert.equal(req.contentType, 'application/json');
    assert.equal(mode(await stat(stateDir)), 0o700);
    const file = join(stateDir, 'device.json');
    assert.equal(mode(await stat(file)), 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      server: api.url, device_id: dev.id, device_token: dev.token, serial: 'SN-1', name: 'laptop 1',
    });
  });

  test('a wrong secret exits non-zero with the server message', async () => {
    const r = await agent([...base(), 'enroll', '--enroll-secret', 'wrong', '--serial', 'SN-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid enroll secret/);
    assert.match(r.stderr, /--enroll-secret/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(stateDir, 'device.json')));
  });

  test('the secret may come from CERTDEPLOY_ENROLL_SECRET; --name defaults to something', async () => {
    const child = await new Promise((res) => {
      const c = spawn(AGENT, [...base(), 'enroll', '--serial', 'SN-9'], {
        env: { ...process.env, CERTDEPLOY_ENROLL_SECRET: api.enrollSecret },
      });
      c.on('close', (code) => res(code));
    });
    assert.equal(child, 0);
    const body = api.requestsTo('/device/v1/enroll')[0].body;
    assert.ok(body.name.length > 0);
  });
});

describe('checkin', () => {
  test('without a token fails with the enroll hint', async () => {
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /enroll first: no device token in .*device\.json/);
    assert.equal(api.requests.length, 0);
  });

  test('a refused token (401) says to enroll again', async () => {
    await enroll();
    api.devices.get('SN-1').token = 'revoked';
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid device token.*enroll again/);
  });

  test('an empty inventory and no profiles: exit 0, one check-in', async () => {
    await enroll();
    const r = await agent([...base(), 'checkin']);
    assert.equal(r.code, 0, r.stderr);
    const checkins = api.requestsTo('/device/v1/checkin');
    assert.equal(checkins.length, 1);
    assert.deepEqual(checkins[0].body, { installed: [] });
    assert.equal(checkins[0].auth, `Bearer ${api.devices.get('SN-1').token}`);
  });

  test('submit_csr posts a CSR with the generation and CN and keeps the key 0600', async () => {
    await enroll();
    await api.addProfile({ id: 'p-dev', cn: 'host-42.example', generation: 3, autoIssue: false });
    const r = await agent([...base(), 'checkin']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^profile p-dev: csr submitted for generation 3 /m);
    const csrs = api.requestsTo('/device/v1/profiles/p-dev/csr');
    assert.equal(csrs.length, 1);
    assert.deepEqual(Object.keys(csrs[0].body).sort(), ['csr', 'generation']);
    assert.equal(csrs[0].body.generation, 3);
    assert.equal(await csrCommonName(csrs[0].body.csr), 'host-42.example');
    assert.equal(await csrKeyType(csrs[0].body.csr), 'EC');
    const keyStat = await stat(profileFile('p-dev', 'pending-key.pem'));
    assert.equal(mode(keyStat), 0o600);
    assert.equal(mode(await stat(join(stateDir, 'profiles', 'p-dev'))), 0o700);
    // The CSR changed something, so the agent checked in again; nothing new: done.
    assert.equal(api.requestsTo('/device/v1/checkin').length, 2);
    assert.ok(!existsSync(profileFile('p-dev', 'cert.pem')));
  });

  test('--key-type rsa makes an RSA CSR', async () => {
    await enroll();
    await api.addProfile({ id: 'p-rsa', autoIssue: false });
    const r = await agent([...base(), 'checkin', '--key-type', 'rsa']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await csrKeyType(api.requestsTo('/device/v1/profiles/p-rsa/csr')[0].body.csr), 'RSA');
  });

  test('device key mode completes in one run: CSR, install, ack, inventory', async () => {
    await enroll();
    const p = await api.addProfile({ id: 'p-dev', cn: 'dev.example', generation: 2 });
    const r = await agent([...base(), 'checkin']);
    assert.equal(r.code, 0, r.stderr);
    const sha = certSha256(p.certificate);
    assert.match(r.stdout, new RegExp(`^profile p-dev: installed generation 2 \\(sha256 ${sha}\\)$`, 'm'));
    const cert = await readFile(profileFile('p-dev', 'cert.pem'), 'utf8');
    assert.equal(cert, p.certificate);
    assert.equal(await readFile(profileFile('p-dev', 'chain.pem'), 'utf8'), pki.ca.pem);
    assert.equal(mode(await stat(profileFile('p-dev', 'key.pem'))), 0o600);
    assertKeyMatches(await readFile(profileFile('p-dev', 'key.pem'), 'utf8'), cert);
    assert.ok(!existsSync(profileFile('p-dev', 'pending-key.pem')));
    assert.deepEqual(p.acks, [{ generation: 2, result: 'installed', sha256: sha }]);
    // Three rounds: submit_csr, install, then the inventory reports it.
    const checkins = api.requestsTo('/device/v1/checkin');
    assert.equal(checkins.length, 3);
    assert.deepEqual(checkins[2].body, { installed: [{ profile_id: 'p-dev', sha256: sha }] });
    assert.equal(p.state, 'verified');
    // Five requests (3 check-ins, CSR, ack) over one kept-alive connection (+1 for enroll).
    assert.equal(api.connections, 2);
    // A later run reports the inventory on its first check-in and does nothing else.
    const again = await agent([...base(), 'checkin']);
    assert.equal(again.code, 0, again.stderr);
    const later = api.requestsTo('/device/v1/checkin');
    assert.equal(later.length, 4);
    assert.deepEqual(later[3].body, { installed: [{ profile_id: 'p-dev', sha256: sha }] });
  });

  test('server key mode installs the key from the PKCS#12', async () => {
    await enroll();
    const p = await api.addProfile({ id: 'p-srv', mode: 'server', cn: 'srv.example' });
    const r = await agent([...base(), 'checkin']);
    assert.equal(r.code, 0, r.stderr);
    const sha = certSha256(p.certificate);
    assert.match(r.stdout, new RegExp(`profile p-srv: installed generation 1 \\(sha256 ${sha}\\)`));
    assert.equal(api.requestsTo('/device/v1/profiles/p-srv/csr').length, 0);
    const key = await readFile(profileFile('p-srv', 'key.pem'), 'utf8');
    assert.equal(mode(await stat(profileFile('p-srv', 'key.pem'))), 0o600);
    assertKeyMatches(key, await readFile(profileFile('p-srv', 'cert.pem'), 'utf8'));
    assert.deepEqual(p.acks, [{ generation: 1, result: 'installed', sha256: sha }]);
    assert.equal(p.state, 'verified');
  });

  test('a PKCS#12 that does not open is acked as an error', async () => {
    await enroll();
    const p = await api.addProfile({ id: 'p-srv', mode: 'server', badPassword: true });
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.equal(p.acks.length, 1);
    assert.equal(p.acks[0].result, 'error');
    assert.match(p.acks[0].detail, /PKCS#12/);
    assert.match(r.stderr, /profile p-srv: install of generation 1 failed/);
    assert.ok(!existsSync(profileFile('p-srv', 'cert.pem')));
  });

  test('a certificate for another key is acked as an error (device mode)', async () => {
    await enroll();
    const p = await api.addProfile({ id: 'p-dev', keyMismatch: true });
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.equal(p.acks.length, 1);
    assert.equal(p.acks[0].result, 'error');
    assert.match(p.acks[0].detail, /does not match/);
    assert.ok(!existsSync(profileFile('p-dev', 'cert.pem')));
    assert.ok(existsSync(profileFile('p-dev', 'pending-key.pem')));
  });

  test('--fail-install acks an error and exits non-zero', async () => {
    await enroll();
    const p = await api.addProfile({ id: 'p-srv', mode: 'server' });
    const other = await api.addProfile({ id: 'p-ok', mode: 'server' });
    const r = await agent([...base(), 'checkin', '--fail-install', 'p-srv']);
    assert.notEqual(r.code, 0);
    assert.deepEqual(p.acks, [{ generation: 1, result: 'error',
      detail: 'simulated install failure (--fail-install)' }]);
    assert.ok(!existsSync(profileFile('p-srv', 'cert.pem')));
    assert.match(r.stderr, /simulated install failure/);
    // The other profile is still installed.
    assert.equal(other.acks[0].result, 'installed');
  });

  test('a 409 on the ack is reported and exits non-zero', async () => {
    await enroll();
    await api.addProfile({ id: 'p-srv', mode: 'server' });
    api.hooks.ack = () => ({ status: 409, body: { error: { code: 'deployment_failed',
      message: 'the deployment failed; an admin must resend it' } } });
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /409 deployment_failed: the deployment failed; an admin must resend it/);
  });

  test('--timeout bounds a request that gets no answer', async () => {
    await enroll();
    api.hooks.checkin = () => new Promise((r) => setTimeout(() => r({ status: 200,
      body: { profiles: [] } }), 4000));
    const started = Date.now();
    const r = await agent([...base(['--timeout', '1']), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no answer from .* raise --timeout/);
    assert.ok(Date.now() - started < 3500);
  });

  test('a server error on check-in exits non-zero with its message', async () => {
    await enroll();
    api.hooks.checkin = () => ({ status: 503, body: { error: { code: 'unavailable',
      message: 'database unavailable' } } });
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /503 unavailable: database unavailable\); try again later/);
  });
});

describe('TLS', () => {
  test('--ca-file of another CA is refused', async () => {
    const r = await agent(['--server', api.url, '--state-dir', stateDir, '--ca-file',
      pki.otherCa.certPath, 'enroll', '--enroll-secret', api.enrollSecret, '--serial', 'SN-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot verify the TLS certificate.*--ca-file/);
    assert.equal(api.requests.length, 0);
  });

  test('without --ca-file the system CAs do not trust the test CA', async () => {
    const r = await agent(['--server', api.url, '--state-dir', stateDir, 'enroll',
      '--enroll-secret', api.enrollSecret, '--serial', 'SN-1']);
    assert.notEqual(r.code, 0);
    assert.equal(api.requests.length, 0);
  });

  test('--insecure connects and warns', async () => {
    const r = await agent(['--server', api.url, '--state-dir', stateDir, '--insecure', 'enroll',
      '--enroll-secret', api.enrollSecret, '--serial', 'SN-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --insecure/);
    const c = await agent(['--state-dir', stateDir, '--insecure', 'checkin']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(api.requestsTo('/device/v1/checkin').length, 1);
  });

  test('a missing --ca-file is reported before connecting', async () => {
    const r = await agent(['--server', api.url, '--state-dir', stateDir, '--ca-file',
      join(stateDir, 'nope.pem'), 'enroll', '--enroll-secret', 'x', '--serial', 'SN-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot read --ca-file/);
  });
});

describe('--loop', () => {
  test('checks in repeatedly, survives errors, and exits 0 on SIGTERM', async () => {
    await enroll();
    await api.addProfile({ id: 'p-srv', mode: 'server' });
    let calls = 0;
    api.hooks.checkin = () => (++calls === 1
      ? { status: 500, body: { error: { code: 'internal', message: 'boom' } } } : undefined);
    let child;
    const done = agent([...base(), 'checkin', '--loop', '1', '--fail-install', 'p-srv'],
      { onSpawn: (c) => { child = c; } });
    const deadline = Date.now() + 15000;
    while (api.requestsTo('/device/v1/checkin').length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.signal, null);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(api.requestsTo('/device/v1/checkin').length >= 3);
    assert.match(r.stderr, /HTTP 500 internal: boom\); retrying in 1 s/);
    assert.match(r.stderr, /simulated install failure/);
    assert.match(r.stdout, /stopping/);
  });

  test('SIGINT during the sleep stops at once', async () => {
    await enroll();
    let child;
    const started = Date.now();
    const done = agent([...base(), 'checkin', '--loop', '600'], { onSpawn: (c) => { child = c; } });
    while (api.requestsTo('/device/v1/checkin').length < 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 10000);
  });
});

describe('command line', () => {
  test('--help exits 0 and names the commands', async () => {
    const r = await agent(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /enroll --enroll-secret S --serial X/);
    assert.match(r.stdout, /checkin \[--loop SECONDS\]/);
  });

  test('usage errors exit non-zero with one line', async () => {
    for (const args of [[], ['--state-dir', 'x', 'frobnicate'], ['--state-dir', 'x', 'checkin', '--loop', 'soon'],
      ['--state-dir', 'x', '--insecure', '--ca-file', 'y', 'checkin'], ['checkin']]) {
      const r = await agent(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a damaged device.json is reported', async () => {
    await enroll();
    await writeFile(join(stateDir, 'device.json'), '{"device_id": 1');
    const r = await agent([...base(), 'checkin']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /device\.json.*enroll again/);
  });
});
