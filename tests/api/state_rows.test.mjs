// The rows of the state machine table the story tests do not walk:
// verification from inventory, resend refused while verifying, a profile
// subject edit requeuing all but failed deployments, unassignment keeping
// history, and device API isolation between devices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startFleet } from './lib/fleet.mjs';
import { makeCsr } from './lib/csr.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => { await fleet?.stop(); });

const pemSha = (pem) => createHash('sha256').update(Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64')).digest('hex');

async function rawDevice(srv, serial) {
  const r = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial, name: serial } });
  assert.equal(r.status, 201, r.text);
  return { id: r.json.device_id, deviceId: r.json.device_id, token: r.json.device_token };
}

test('inventory confirms a delivered certificate when the ack was lost; resend is refused while verifying', async () => {
  const { srv } = fleet;
  const d = await rawDevice(srv, 'INV-1');
  const profile = await fleet.profileFor([d], { key_mode: 'server', common_name: 'inv-$DEVICE_SERIAL' });
  await fleet.until(d.id, profile.id, (x) => x.issued_certificate !== null, { what: 'issued' });
  const c = await srv.request('POST', '/device/v1/checkin', { token: d.token, body: { installed: [] } });
  const e = c.json.profiles.find((p) => p.profile_id === profile.id);
  assert.equal(e.action, 'install');
  assert.equal((await fleet.deployment(d.id, profile.id)).status, 'verifying');
  const refused = await srv.request('POST', `/api/v1/devices/${d.id}/profiles/${profile.id}/resend`);
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.code, 'conflict');
  // the ack never arrives; the next check-in's inventory holds the certificate
  const c2 = await srv.request('POST', '/device/v1/checkin', { token: d.token, body: { installed: [{ profile_id: profile.id, sha256: pemSha(e.certificate).toUpperCase() }] } });
  assert.equal(c2.status, 200);
  assert.equal(c2.json.profiles.find((p) => p.profile_id === profile.id).action, 'none');
  const dep = await fleet.deployment(d.id, profile.id);
  assert.equal(dep.status, 'verified');
  assert.equal(dep.installed_certificate.sha256, pemSha(e.certificate));
  const events = await fleet.history(d.id, profile.id);
  assert.ok(events.some((x) => x.event === 'inventory_match' && x.from === 'verifying' && x.to === 'verified'));
  // a foreign certificate in the inventory changes nothing
  await srv.request('POST', '/device/v1/checkin', { token: d.token, body: { installed: [{ profile_id: profile.id, sha256: 'ab'.repeat(32) }] } });
  assert.equal((await fleet.deployment(d.id, profile.id)).status, 'verified');
  // resend of a verified deployment: a new generation
  const again = await srv.request('POST', `/api/v1/devices/${d.id}/profiles/${profile.id}/resend`);
  assert.equal(again.status, 202);
  assert.equal(again.json.generation, 2);
  await fleet.retire(profile.id);
});

test('a subject edit requeues pending, verifying and verified deployments and leaves failed ones alone', async () => {
  const { srv, mock } = fleet;
  const ok = await fleet.device();
  const bad = await fleet.device();
  const profile = await fleet.profileFor([ok], { key_mode: 'server', common_name: 'edit-$DEVICE_SERIAL' });
  await fleet.until(ok.deviceId, profile.id, (x) => x.status === 'verified', { dev: ok, what: 'verified' });
  await fleet.quiesce();
  await mock.faults({ status: 400, count: 1, message: 'Invalid common name' });
  const assign = await srv.request('POST', `/api/v1/profiles/${profile.id}/assignments`, { body: { device_ids: [bad.deviceId] } });
  assert.equal(assign.json.assigned, 1);
  const failed = await fleet.until(bad.deviceId, profile.id, (x) => x.status === 'failed', { what: 'failed' });
  assert.match(failed.detail, /Invalid common name/);
  const patch = await srv.request('PATCH', `/api/v1/profiles/${profile.id}`, { body: { common_name: 'edited-$DEVICE_SERIAL' } });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.json.requeued, 1);
  assert.equal(patch.json.failed_untouched, 1);
  const okDep = await fleet.deployment(ok.deviceId, profile.id);
  assert.equal(okDep.generation, 2);
  assert.ok(['pending', 'verifying', 'verified'].includes(okDep.status));
  const badDep = await fleet.deployment(bad.deviceId, profile.id);
  assert.equal(badDep.status, 'failed');
  assert.equal(badDep.generation, failed.generation);
  assert.equal(badDep.detail, failed.detail);
  const verified = await fleet.until(ok.deviceId, profile.id, (x) => x.status === 'verified' && x.generation === 2, { dev: ok, what: 're-verified' });
  assert.ok((await mock.issued()).some((i) => i.serial === verified.installed_certificate.serial && i.common_name === `edited-${ok.serial}`));
  const hist = await fleet.history(bad.deviceId, profile.id);
  assert.ok(hist.some((x) => x.event === 'profile_edited' && x.from === 'failed' && x.to === 'failed'));
  // unassign: the deployment goes, its history stays
  const del = await srv.request('DELETE', `/api/v1/profiles/${profile.id}/assignments/${bad.deviceId}`);
  assert.equal(del.status, 204);
  assert.equal((await srv.request('GET', `/api/v1/devices/${bad.deviceId}/profiles/${profile.id}`)).status, 404);
  const kept = await fleet.history(bad.deviceId, profile.id);
  assert.ok(kept.length >= hist.length + 1);
  assert.equal(kept.at(-1).event, 'unassigned');
  await fleet.retire(profile.id);
});

test('a device sees and acts on only its own deployments', async () => {
  const { srv } = fleet;
  const a = await rawDevice(srv, 'ISO-A');
  const b = await rawDevice(srv, 'ISO-B');
  const profile = await fleet.profileFor([a], { key_mode: 'device', common_name: 'iso' });
  const cb = await srv.request('POST', '/device/v1/checkin', { token: b.token, body: { installed: [] } });
  assert.equal(cb.status, 200);
  assert.ok(!cb.text.includes(profile.id), 'B does not see A\'s profile');
  const csr = await srv.request('POST', `/device/v1/profiles/${profile.id}/csr`, { token: b.token, body: { generation: 1, csr: 'x' } });
  assert.ok([400, 404].includes(csr.status));
  const ack = await srv.request('POST', `/device/v1/profiles/${profile.id}/ack`, { token: b.token, body: { generation: 1, result: 'error', detail: 'nope' } });
  assert.equal(ack.status, 404);
  assert.equal((await fleet.deployment(a.id, profile.id)).status, 'pending');
  // device key mode refuses weak keys with a clear error, then takes a good CSR
  const weak = await makeCsr({ cn: 'iso', keyType: 'rsa1024' });
  const w = await srv.request('POST', `/device/v1/profiles/${profile.id}/csr`, { token: a.token, body: { generation: 1, csr: weak.csrPem } });
  assert.equal(w.status, 400);
  assert.equal(w.json.error.field, 'csr');
  assert.match(w.json.error.message, /1024 bits is too weak/);
  const good = await makeCsr({ cn: 'iso', keyType: 'ec256' });
  const g = await srv.request('POST', `/device/v1/profiles/${profile.id}/csr`, { token: a.token, body: { generation: 1, csr: good.csrPem } });
  assert.equal(g.status, 202, g.text);
  // an API token is not a device token, nor the other way round
  assert.equal((await srv.request('POST', '/device/v1/checkin', { body: { installed: [] } })).status, 401);
  assert.equal((await srv.request('GET', '/api/v1/devices', { token: a.token })).status, 401);
  // enrolling the same serial again rotates the token
  const again = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial: 'ISO-A', name: 'A again' } });
  assert.equal(again.json.device_id, a.id);
  assert.equal((await srv.request('POST', '/device/v1/checkin', { token: a.token, body: {} })).status, 401);
  assert.equal((await srv.request('POST', '/device/v1/checkin', { token: again.json.device_token, body: {} })).status, 200);
  const wrong = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_wrong', serial: 'X' } });
  assert.equal(wrong.status, 401);
  await fleet.retire(profile.id);
});

test('server key mode draws keys generated ahead of need from the shared pool', async () => {
  const { startServer, SERVER_WRAPPER } = await import('./lib/server.mjs');
  const { srv } = fleet;
  // the pool starts empty (the valgrind layer seeds one) and the second
  // instance fills it; under valgrind an RSA key takes 10-40 s, so one key
  srv.sql('DELETE FROM key_pool');
  const size = SERVER_WRAPPER.length ? 1 : 3;
  // a second instance on the same database (and master key) with a pool of `size` keys
  const second = await startServer({ conninfo: srv.conninfo, token: srv.token, env: { CERTDEPLOY_KEY_POOL_SIZE: String(size), CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1', CERTDEPLOY_MASTER_KEY_FILE: `${srv.stateDir}/master.key` } });
  try {
    const end = Date.now() + (SERVER_WRAPPER.length ? 300000 : 30000);
    while (Number(srv.sql('SELECT count(*) FROM key_pool')) < size && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.equal(srv.sql('SELECT count(*) FROM key_pool'), String(size));
    assert.ok(!srv.sql('SELECT string_agg(key_sealed, \' \') FROM key_pool').includes('PRIVATE KEY'), 'keys are sealed');
    const first = srv.sql('SELECT min(id) FROM key_pool');
    const d = await rawDevice(srv, 'POOL-1');
    const profile = await fleet.profileFor([d], { key_mode: 'server', common_name: 'pool' });
    await fleet.until(d.id, profile.id, (x) => x.issued_certificate !== null, { what: 'issued' });
    // the oldest key was taken (by whichever instance claimed the deployment)
    assert.equal(srv.sql(`SELECT count(*) FROM key_pool WHERE id = ${first}`), '0', 'a pooled key was used');
    await fleet.retire(profile.id);
  } finally {
    await second.stop();
  }
});
