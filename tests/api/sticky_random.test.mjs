// Randomized: thousands of interleaved events (check-ins with current,
// old and foreign inventory, acks of current and old generations, device
// errors, CA faults, resends, renewals, scheduler passes) against the real
// server, worker and mock CA. After every event: a failed deployment is
// still failed with the same generation and detail unless the event was an
// admin resend of it, and its history's last row tells its current status.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startFleet, sleep } from './lib/fleet.mjs';
import { psqlSession } from './lib/psql_session.mjs';

const EVENTS = Number(process.env.CERTDEPLOY_RANDOM_EVENTS || 2000);
// under the sanitizers everything is slower: fewer events, same checks
const EVENTS_HERE = /sanitize/.test(process.env.CERTDEPLOY_BUILD || '') ? Math.min(EVENTS, 500) : EVENTS;
const SEED = Number(process.env.CERTDEPLOY_RANDOM_SEED || Date.now() % 100000);

// mulberry32: a small seeded PRNG so a failure can be replayed with its seed
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pemSha256(pem) {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
}

let fleet;
after(async () => { await fleet?.stop(); });

test(`sticky failure holds under ${EVENTS_HERE} random events (seed ${SEED})`, { timeout: 600000 }, async () => {
  fleet = await startFleet({ env: { CERTDEPLOY_RETRY_MAX_ATTEMPTS: '2', CERTDEPLOY_RETRY_BASE_SECONDS: '0', CERTDEPLOY_RETRY_MAX_SECONDS: '0' } });
  const { srv, mock } = fleet;
  const rand = rng(SEED);
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];
  const profile = await fleet.profile({ key_mode: 'server', common_name: 'rnd-$DEVICE_SERIAL' });

  const devices = [];
  for (let i = 0; i < 12; i++) {
    const r = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: fleet.enrollSecret, serial: `RND-${i}`, name: `r${i}` } });
    assert.equal(r.status, 201, r.text);
    devices.push({ id: r.json.device_id, token: r.json.device_token, seen: [], lastInstall: null });
  }
  const dev = (d, method, path, body) => srv.request(method, path, { token: d.token, body });

  const db = psqlSession(srv.conninfo);
  // status, generation, detail and the last history row, in ONE statement:
  // one snapshot, so a worker transition cannot fall between the two reads
  const snapshot = async () => {
    const rows = await db.query(`SELECT d.device_id || '|' || d.status || '|' || d.generation || '|' || coalesce((SELECT h.to_status::text FROM deployment_history h WHERE h.device_id = d.device_id AND h.profile_id = d.profile_id ORDER BY h.id DESC LIMIT 1), '-') || '|' || replace(replace(d.detail, '|', '/'), E'\n', ' ') FROM deployments d WHERE d.profile_id = '${profile.id}'`);
    const m = new Map();
    for (const line of rows.split('\n').filter(Boolean)) {
      const [id, status, gen, last, detail] = line.split('|');
      m.set(id, { status, gen: Number(gen), detail, last });
    }
    return m;
  };
  const same = (a, b) => a && b && a.status === b.status && a.gen === b.gen && a.detail === b.detail;

  const counts = {};
  let before = await snapshot();
  for (let n = 0; n < EVENTS_HERE; n++) {
    const d = pick(devices);
    const kind = pick(['checkin', 'checkin', 'checkin', 'ack_current', 'ack_old', 'ack_wrong', 'ack_error', 'fault', 'resend', 'resend_bulk', 'renew', 'pass']);
    counts[kind] = (counts[kind] || 0) + 1;
    const resent = new Set();
    const cur = before.get(d.id);
    switch (kind) {
      case 'checkin': {
        const installed = [];
        const choice = rand();
        if (choice < 0.4 && d.lastInstall) installed.push({ profile_id: profile.id, sha256: d.lastInstall.sha });
        else if (choice < 0.7 && d.seen.length) installed.push({ profile_id: profile.id, sha256: pick(d.seen) });
        else if (choice < 0.8) installed.push({ profile_id: profile.id, sha256: randomBytes(32).toString('hex') });
        const r = await dev(d, 'POST', '/device/v1/checkin', { installed });
        assert.equal(r.status, 200, r.text);
        const e = r.json.profiles.find((p) => p.profile_id === profile.id);
        if (e && e.action === 'install') {
          const sha = pemSha256(e.certificate);
          d.lastInstall = { gen: e.generation, sha };
          d.seen.push(sha);
          assert.ok(e.pkcs12 && e.pkcs12_password, 'server key mode delivers a PKCS#12');
        }
        break;
      }
      case 'ack_current':
      case 'ack_old':
      case 'ack_wrong': {
        if (!d.lastInstall) break;
        const gen = kind === 'ack_old' ? Math.max(1, d.lastInstall.gen - 1) : d.lastInstall.gen;
        const sha = kind === 'ack_wrong' ? randomBytes(32).toString('hex') : d.lastInstall.sha;
        const r = await dev(d, 'POST', `/device/v1/profiles/${profile.id}/ack`, { generation: gen, result: 'installed', sha256: sha });
        assert.ok([200, 409].includes(r.status), r.text);
        if (cur?.status === 'failed') assert.equal(r.status, 409, 'an ack never revives a failed deployment');
        break;
      }
      case 'ack_error': {
        const gen = d.lastInstall ? d.lastInstall.gen : cur?.gen ?? 1;
        const r = await dev(d, 'POST', `/device/v1/profiles/${profile.id}/ack`, { generation: gen, result: 'error', detail: 'disk full' });
        assert.ok([200, 409].includes(r.status), r.text);
        break;
      }
      case 'fault':
        await mock.faults(pick([{ status: 403, message: 'denied by policy' }, { status: 503, retry_after: 0, message: 'busy' }, { mode: 'garbage' }, { status: 500 }]));
        break;
      case 'resend': {
        const r = await srv.request('POST', `/api/v1/devices/${d.id}/profiles/${profile.id}/resend`);
        assert.ok([202, 409].includes(r.status), r.text);
        if (r.status === 202) resent.add(d.id);
        break;
      }
      case 'resend_bulk': {
        const failedNow = [...(await snapshot())].filter(([, v]) => v.status === 'failed').map(([k]) => k);
        const r = await srv.request('POST', `/api/v1/profiles/${profile.id}/resend`, { body: { status: 'failed' } });
        assert.equal(r.status, 202, r.text);
        failedNow.forEach((id) => resent.add(id));
        break;
      }
      case 'renew':
        await db.query(`UPDATE deployments SET renew_at = now() WHERE device_id = '${d.id}' AND profile_id = '${profile.id}' AND status = 'verified'`);
        break;
      case 'pass':
        await sleep(30);
        break;
    }
    const now = await snapshot();
    for (const [id, was] of before) {
      const is = now.get(id);
      if (was.status === 'failed' && !resent.has(id)) {
        assert.ok(same(was, is), `event ${n} (${kind}) changed failed deployment ${id}: ${JSON.stringify(was)} -> ${JSON.stringify(is)} (seed ${SEED})`);
      }
    }
    for (const [id, is] of now) {
      assert.equal(is.last, is.status, `history of ${id} ends in ${is.last} but it is ${is.status} (event ${n} ${kind}, seed ${SEED})`);
    }
    before = now;
  }
  const final = await snapshot();
  db.close();
  const statuses = [...final.values()].map((v) => v.status);
  console.log(`events: ${JSON.stringify(counts)}; final: ${JSON.stringify(statuses)}`);
  const events = Number(srv.sql(`SELECT count(*) FROM deployment_history WHERE profile_id = '${profile.id}'`));
  assert.ok(events > EVENTS_HERE / 10, `history recorded ${events} rows`);
  assert.ok(counts.checkin > 0 && counts.resend > 0 && counts.fault > 0);
});
