// A certificate the server cannot deliver (its stored key no longer opens:
// the master key was replaced) gives an "action":"none" entry with none of
// the install fields, not a certificate without its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startServer } from './lib/server.mjs';

test('a stored key that no longer opens: action none, no certificate or chain in the entry', { timeout: 120000 }, async () => {
  const fleet = await startFleet();
  let other = null;
  try {
    const dev = await fleet.device('SN-UNDELIVERABLE');
    const profile = await fleet.profileFor([dev], { key_mode: 'server' });
    const issued = () => fleet.srv.sql(`SELECT count(*) FROM deployments
      WHERE profile_id = '${profile.id}' AND issued_generation = generation`) === '1';
    for (let i = 0; i < 200 && !issued(); i++) await sleep(100);
    assert.ok(issued(), 'the certificate was issued');

    // the same database, another state dir: a new master key
    other = await startServer({ conninfo: fleet.srv.conninfo, token: fleet.srv.token });
    const token = JSON.parse(readFileSync(join(dev.dir, 'device.json'), 'utf8')).device_token;
    const r = await other.request('POST', '/device/v1/checkin', { token, body: { installed: [] } });
    assert.equal(r.status, 200, r.text);
    const entry = r.json.profiles.find((e) => e.profile_id === profile.id);
    assert.ok(entry, r.text);
    assert.equal(entry.action, 'none');
    for (const field of ['certificate', 'chain', 'pkcs12', 'pkcs12_password']) assert.equal(entry[field], undefined, `${field} in ${r.text}`);
    assert.ok(other.logLines().some((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot open the stored key')),
      'the server says why in its log');
  } finally {
    await other?.stop();
    await fleet.stop();
  }
});
