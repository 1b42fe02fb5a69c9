// The whole story with the real server, mock CA and agent over TLS:
// enroll, verified, a refused renewal that stays failed, the CI gate,
// resend, verified again — and the peers' failures as named regressions.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { startFleet, certSha256, sleep } from './lib/fleet.mjs';

let fleet;
before(async () => {
  // certificates valid 14 s: the renewal window opens after 7 s
  fleet = await startFleet({ mockArgs: ['--validity-seconds', '14'] });
});
after(async () => { await fleet?.stop(); });
// a test that stops half-way must not leave faults for the next one
afterEach(async () => { await fleet?.mock.clearFaults(); });

const isVerified = (d) => d.status === 'verified';

test('server key mode: enroll, deliver, verify, renew, refuse, stay failed, resend', async () => {
  const { srv, mock } = fleet;
  const profile = await fleet.profile({ key_mode: 'server', user_principal_names: ['$DEVICE_SERIAL@corp.example'] });
  const dev = await fleet.device('SN-STORY-1');

  // the profile was assigned at enrollment (assign_all) and issued by the worker
  let dep = await fleet.until(dev.deviceId, profile.id, isVerified, { dev, what: 'verified' });
  const certPath = join(dev.dir, 'profiles', profile.id, 'cert.pem');
  assert.equal(dep.installed_certificate.sha256, certSha256(certPath));
  assert.equal(dep.issued_certificate.sha256, dep.installed_certificate.sha256);
  assert.equal(dep.installed_certificate.valid, true);
  assert.equal(statSync(join(dev.dir, 'profiles', profile.id, 'key.pem')).mode & 0o777, 0o600);
  const issued = await mock.issued();
  const mine = issued.find((i) => i.serial === dep.installed_certificate.serial);
  assert.equal(mine.common_name, 'SN-STORY-1', 'CN from the template');
  assert.equal(mine.upn, 'SN-STORY-1@corp.example');
  assert.equal(mine.seat_id, dev.deviceId);
  const firstSerial = dep.installed_certificate.serial;
  const keyRow = srv.sql(`SELECT coalesce(key_sealed, 'none') FROM deployments WHERE device_id = '${dev.deviceId}'`);
  assert.equal(keyRow, 'none', 'the server-held key is erased once verified');

  // the CA refuses the renewal
  await mock.faults({ status: 403, count: 10, message: 'Seat limit reached for this profile' });
  const before403 = (await mock.stats()).issue_requests;
  dep = await fleet.until(dev.deviceId, profile.id, (d) => d.status === 'failed', { timeoutMs: 15000, what: 'failed renewal' });
  assert.equal(dep.failure_source, 'server');
  assert.match(dep.detail, /^Couldn't get certificate from Mock TLM: Seat limit reached for this profile/);
  assert.match(dep.detail, /still holds a valid certificate/);
  assert.equal(dep.installed_certificate.valid, true);
  assert.equal(dep.installed_certificate.serial, firstSerial);
  assert.equal(dep.generation, 2);
  const failedDetail = dep.detail;

  // sticky: check-ins reporting the old certificate, scheduler passes, a late ack
  for (let i = 0; i < 3; i++) {
    const r = await dev.run(['checkin']);
    assert.equal(r.code, 0, r.stderr);
  }
  await sleep(2500); // two scheduler passes
  const lateAck = await srv.request('POST', `/device/v1/profiles/${profile.id}/ack`, {
    token: null,
    headers: { Authorization: `Bearer ${JSON.parse((await import('node:fs')).readFileSync(join(dev.dir, 'device.json'), 'utf8')).device_token}` },
    body: { generation: 1, result: 'installed', sha256: certSha256(certPath) },
  });
  assert.equal(lateAck.status, 409);
  assert.equal(lateAck.json.error.code, 'deployment_failed');
  dep = await fleet.deployment(dev.deviceId, profile.id);
  assert.equal(dep.status, 'failed');
  assert.equal(dep.detail, failedDetail);
  assert.equal((await mock.stats()).issue_requests, before403 + 1, 'a 403 is not retried');

  // the CI gate
  const gate = await srv.request('GET', `/api/v1/status?profile_id=${profile.id}&fail_on=failed`);
  assert.equal(gate.status, 503);
  assert.equal(gate.json.failed, 1);
  assert.equal(gate.json.failed_with_valid_certificate, 1);

  // history: every transition with its actor, and the ignored events
  const events = await fleet.history(dev.deviceId, profile.id);
  const kinds = events.map((e) => `${e.event}:${e.from ?? '-'}>${e.to ?? '-'}`);
  for (const k of ['assigned:->pending', 'ca_issued:pending>pending', 'delivered:pending>verifying', 'ack_installed:verifying>verified',
    'renewal_due:verified>pending', 'ca_permanent_error:pending>failed', 'ack_installed:failed>failed']) {
    assert.ok(kinds.includes(k), `history has ${k}: ${kinds.join(', ')}`);
  }
  assert.ok(events.some((e) => e.actor === 'scheduler'));
  assert.ok(events.some((e) => e.actor === 'worker'));
  assert.ok(events.some((e) => e.actor === `device:${dev.deviceId}`));

  // resend: verified again with a new certificate
  await mock.clearFaults();
  const resend = await srv.request('POST', `/api/v1/devices/${dev.deviceId}/profiles/${profile.id}/resend`);
  assert.equal(resend.status, 202, resend.text);
  assert.equal(resend.json.status, 'pending');
  assert.equal(resend.json.generation, 3);
  assert.equal(resend.json.failure_source, null);
  const again = await srv.request('POST', `/api/v1/devices/${dev.deviceId}/profiles/${profile.id}/resend`);
  assert.equal(again.status, 409, 'no resend while pending');
  dep = await fleet.until(dev.deviceId, profile.id, isVerified, { dev, what: 'verified after resend' });
  assert.notEqual(dep.installed_certificate.serial, firstSerial);
  assert.equal(dep.installed_certificate.sha256, certSha256(certPath));
  assert.ok(events.find((e) => e.event === 'assigned'));
  const after = await fleet.history(dev.deviceId, profile.id);
  assert.ok(after.some((e) => e.event === 'resend' && e.actor === 'admin:bootstrap' && e.from === 'failed'));
  await fleet.retire(profile.id);
});

test('device key mode: the agent sends a CSR, the key never leaves the device', async () => {
  const { srv } = fleet;
  const dev = await fleet.device('SN-DEVKEY');
  const profile = await fleet.profileFor([dev], { key_mode: 'device', common_name: 'dev-$DEVICE_NAME' });
  const dep = await fleet.until(dev.deviceId, profile.id, isVerified, { dev, what: 'verified' });
  assert.equal(dep.installed_certificate.sha256, certSha256(join(dev.dir, 'profiles', profile.id, 'cert.pem')));
  assert.ok(existsSync(join(dev.dir, 'profiles', profile.id, 'key.pem')));
  assert.equal(srv.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${profile.id}' AND key_sealed IS NOT NULL`), '0');
  const issued = await fleet.mock.issued();
  assert.ok(issued.some((i) => i.common_name === 'dev-Laptop SN-DEVKEY'));
  await fleet.retire(profile.id);
});

test('regression: a late ack of an old generation is refused with 409 and changes nothing', async () => {
  const { srv } = fleet;
  const dev = await fleet.device();
  const profile = await fleet.profileFor([dev], { key_mode: 'server', common_name: 'late-$DEVICE_SERIAL', renew_before_days: null });
  let dep = await fleet.until(dev.deviceId, profile.id, isVerified, { dev, what: 'verified' });
  const resend = await srv.request('POST', `/api/v1/devices/${dev.deviceId}/profiles/${profile.id}/resend`);
  assert.equal(resend.status, 202);
  const before = await fleet.deployment(dev.deviceId, profile.id);
  const token = JSON.parse((await import('node:fs')).readFileSync(join(dev.dir, 'device.json'), 'utf8')).device_token;
  const ack = await srv.request('POST', `/device/v1/profiles/${profile.id}/ack`, {
    token: null, headers: { Authorization: `Bearer ${token}` },
    body: { generation: dep.generation, result: 'installed', sha256: dep.installed_certificate.sha256 },
  });
  assert.equal(ack.status, 409);
  assert.equal(ack.json.error.code, 'stale_generation');
  dep = await fleet.deployment(dev.deviceId, profile.id);
  assert.equal(dep.generation, before.generation);
  assert.ok(['pending', 'verifying'].includes(dep.status), dep.status);
  await fleet.retire(profile.id);
});

test('regression: transient errors back off, honour Retry-After, and fail after the budget', async () => {
  const { srv, mock } = fleet;
  const dev = await fleet.device();
  await fleet.quiesce();
  await mock.clearFaults();
  await mock.faults({ status: 503, count: 3, retry_after: 2, message: 'TLM is down for maintenance' });
  const s0 = (await mock.stats()).issue_requests;
  const profile = await fleet.profileFor([dev], { key_mode: 'server', common_name: 'retry-$DEVICE_SERIAL' });
  const first = await fleet.until(dev.deviceId, profile.id, (d) => d.attempts >= 1, { what: 'first attempt' });
  assert.equal(first.status, 'pending');
  assert.match(first.detail, /TLM is down for maintenance/);
  const wait = (Date.parse(first.next_attempt_at) - Date.parse(first.updated_at)) / 1000;
  assert.ok(wait >= 1.5, `Retry-After 2 s honoured (next in ${wait} s)`);
  const dep = await fleet.until(dev.deviceId, profile.id, (d) => d.status === 'failed', { timeoutMs: 20000, what: 'budget exhausted' });
  assert.equal(dep.attempts, 3);
  assert.equal(dep.failure_source, 'server');
  assert.equal((await mock.stats()).issue_requests - s0, 3, 'CERTDEPLOY_RETRY_MAX_ATTEMPTS=3 means 3 requests');
  await sleep(2500);
  assert.equal((await mock.stats()).issue_requests - s0, 3, 'the scheduler does not call the CA for a failed deployment');
  await srv.request('GET', '/healthz');
});

test('regression: nothing is sent to the CA before the renewal window', async () => {
  const { srv, mock } = fleet;
  await mock.clearFaults();
  const dev = await fleet.device();
  const profile = await fleet.profileFor([dev], { key_mode: 'server', common_name: 'window-$DEVICE_SERIAL' });
  // a verified deployment whose renew_at is in the future is left alone by scheduler passes
  await fleet.until(dev.deviceId, profile.id, isVerified, { dev, what: 'verified' });
  srv.sql(`UPDATE deployments SET renew_at = now() + interval '1 day' WHERE profile_id = '${profile.id}'`);
  await fleet.quiesce();
  const s0 = (await mock.stats()).issue_requests;
  await sleep(2500);
  assert.equal((await mock.stats()).issue_requests, s0);
  assert.equal((await fleet.deployment(dev.deviceId, profile.id)).status, 'verified');
  await fleet.retire(profile.id);
});

test('device error acknowledgements fail the deployment with the device message', async () => {
  const { srv } = fleet;
  const dev = await fleet.device();
  const profile = await fleet.profileFor([dev], { key_mode: 'server', common_name: 'err-$DEVICE_SERIAL' });
  await fleet.until(dev.deviceId, profile.id, (d) => d.issued_certificate !== null, { what: 'issued' });
  const r = await dev.run(['checkin', '--fail-install', profile.id]);
  assert.notEqual(r.code, 0);
  const dep = await fleet.deployment(dev.deviceId, profile.id);
  assert.equal(dep.status, 'failed');
  assert.equal(dep.failure_source, 'device');
  assert.match(dep.detail, /simulated install failure/);
  const ok = await dev.run(['checkin']);
  assert.equal(ok.code, 0);
  assert.equal((await fleet.deployment(dev.deviceId, profile.id)).status, 'failed', 'a later check-in does not revive it');
  const s = await srv.request('GET', `/api/v1/status?profile_id=${profile.id}`);
  assert.equal(s.json.failed, 1);
});
