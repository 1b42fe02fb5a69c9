// `certdeploy-agent checkin --wait SECONDS` against the real server, mock CA
// and agent: a script runs enroll then checkin and wants the certificate
// installed (or a clear failure), not a first check-in that found the CA
// still issuing. Also `--version` on every binary, against the version that
// certdeploy_build_info in /metrics reports.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startFleet, runAgent, certSha256 } from './lib/fleet.mjs';
import { BUILD } from './lib/server.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => { await fleet?.stop(); });
// a test that stops half-way must not leave faults or latency for the next one
afterEach(async () => {
  await fleet?.mock.clearFaults();
  await fleet?.mock.latency(0);
});

/** Runs the agent of dev with a limit well past its own --wait. */
const agentRun = (dev, args, timeoutMs = 90000) => runAgent(fleet.srv, dev.dir, args, { timeoutMs });

/** GET /api/v1/status for one profile. */
async function statusOf(profileId) {
  const r = await fleet.srv.request('GET', `/api/v1/status?profile_id=${profileId}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('enroll, then checkin --wait: exit 0 once both profiles are verified, certificates in place', async () => {
  // assigned at enrollment; the CA answers after 2 s, so a check-in right
  // after enroll finds nothing issued yet
  const srvKey = await fleet.profile({ key_mode: 'server' });
  const devKey = await fleet.profile({ key_mode: 'device' });
  await fleet.mock.latency(2000);
  try {
    await enrollAndWait(srvKey, devKey);
  } finally {
    // later tests' devices get only their own profiles
    await fleet.mock.latency(0);
    await fleet.retire(srvKey.id);
    await fleet.retire(devKey.id);
  }
});

async function enrollAndWait(srvKey, devKey) {
  const dev = await fleet.device();

  const started = Date.now();
  const r = await agentRun(dev, ['checkin', '--wait', '60']);
  assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok(Date.now() - started >= 1000, 'it had to wait for the CA');
  assert.match(r.stdout, /^installed: 2 of 2 assigned profiles, every one verified by the server$/m);

  for (const p of [srvKey, devKey]) {
    const s = await statusOf(p.id);
    assert.equal(s.verified, 1, JSON.stringify(s));
    assert.equal(s.total, 1);
    const certPath = join(dev.dir, 'profiles', p.id, 'cert.pem');
    assert.ok(existsSync(certPath), `${certPath} is missing`);
    const dep = await fleet.deployment(dev.deviceId, p.id);
    assert.equal(dep.installed_certificate.sha256, certSha256(certPath));
  }
}

test('the check-in reply tells each deployment\'s status and detail', async () => {
  const dev = await fleet.device();
  const p = await fleet.profileFor([dev], { key_mode: 'server' });
  assert.equal((await agentRun(dev, ['checkin', '--wait', '60'])).code, 0);
  const token = JSON.parse(readFileSync(join(dev.dir, 'device.json'), 'utf8')).device_token;
  const r = await fleet.srv.request('POST', '/device/v1/checkin', { token, body: { installed: [] } });
  assert.equal(r.status, 200, r.text);
  const entry = r.json.profiles.find((e) => e.profile_id === p.id);
  assert.equal(entry.action, 'none');
  assert.equal(entry.status, 'verified');
  assert.equal(typeof entry.detail, 'string');
});

test('the CA refuses: checkin --wait exits 1 with the profile id and the CA\'s message', async () => {
  await fleet.mock.faults({ status: 403, count: 5, message: 'Seat limit reached' });
  const dev = await fleet.device();
  const p = await fleet.profileFor([dev], { key_mode: 'server' });

  const r = await agentRun(dev, ['checkin', '--wait', '30']);
  assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`profile ${p.id}: failed: Couldn't get certificate from Mock TLM: Seat limit reached`));
  assert.match(r.stderr, /1 of 1 assigned profile failed/);
  assert.doesNotMatch(r.stdout, /^installed:/m);
  assert.equal((await statusOf(p.id)).failed, 1);
  assert.ok(!existsSync(join(dev.dir, 'profiles', p.id, 'cert.pem')));
});

test('an install error on the device: checkin --wait exits 1 with the reason the server recorded', async () => {
  const dev = await fleet.device();
  const p = await fleet.profileFor([dev], { key_mode: 'server' });

  const r = await agentRun(dev, ['checkin', '--wait', '30', '--fail-install', p.id]);
  assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`profile ${p.id}: failed: The device reported an install error: simulated install failure`));
  const dep = await fleet.deployment(dev.deviceId, p.id);
  assert.equal(dep.status, 'failed');
  assert.equal(dep.failure_source, 'device');
});

test('time runs out: checkin --wait exits 1 and says what each profile waits for', async () => {
  // a transient CA error whose Retry-After puts the next attempt far past the wait
  await fleet.mock.faults({ status: 503, count: 1, retry_after: 120, message: 'CA busy, come back later' });
  const dev = await fleet.device();
  const p = await fleet.profileFor([dev], { key_mode: 'server' });

  const started = Date.now();
  const r = await agentRun(dev, ['checkin', '--wait', '3']);
  const took = Date.now() - started;
  assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok(took >= 3000 && took < 15000, `took ${took} ms`);
  assert.match(r.stderr, new RegExp(`profile ${p.id}: not installed after 3 s: pending, waiting for the CA to issue the certificate`));
  assert.match(r.stderr, /CA busy, come back later/, 'the server\'s detail says why');
  assert.match(r.stderr, /gave up waiting after 3 s: 1 of 1 assigned profile not installed/);
  assert.equal((await statusOf(p.id)).pending, 1);
  await fleet.retire(p.id);
});

test('no profile assigned: checkin --wait exits 0 after one round', async () => {
  const dev = await fleet.device();
  const r = await agentRun(dev, ['checkin', '--wait', '30']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no profile is assigned to this device: nothing to wait for/);
});

test('--wait with --loop, or a bad --wait value, is a usage error (exit 2)', async () => {
  const dev = await fleet.device();
  const cases = [
    [['checkin', '--wait', '5', '--loop', '10'], /--wait and --loop exclude each other/],
    [['checkin', '--loop', '10', '--wait', '5'], /--wait and --loop exclude each other/],
    [['checkin', '--wait', '0'], /--wait wants whole seconds from 1 to 86400, not "0"/],
    [['checkin', '--wait', 'soon'], /--wait wants whole seconds from 1 to 86400, not "soon"/],
    [['checkin', '--wait'], /--wait needs a value/],
    [['enroll', '--wait', '5', '--enroll-secret', 'x', '--serial', 'y'], /--wait belongs to checkin, not enroll/],
  ];
  for (const [args, message] of cases) {
    const r = await agentRun(dev, args, 10000);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('--version: every binary prints "<name> <version>", the version certdeploy_build_info shows', async () => {
  const m = await fleet.srv.request('GET', '/metrics', { token: null });
  assert.equal(m.status, 200);
  const version = m.text.match(/^certdeploy_build_info\{version="([^"]+)"\} 1$/m)?.[1];
  assert.ok(version, 'certdeploy_build_info has a version');
  for (const name of ['certdeployd', 'certdeploy-agent', 'certdeploy-mockca']) {
    // no other flag, no environment: certdeployd needs no CERTDEPLOY_DATABASE_URL for it
    const r = spawnSync(resolve(BUILD, name), ['--version'], { env: {}, encoding: 'utf8' });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, `${name} ${version}\n`);
    assert.equal(r.stderr, '');
    const help = spawnSync(resolve(BUILD, name), ['--help'], { env: {}, encoding: 'utf8' });
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /--version/, `${name} --help lists --version`);
  }
});
