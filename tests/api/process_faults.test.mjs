// Process faults: an instance killed with SIGKILL while its CA requests are
// in flight, an instance paused (SIGSTOP) past its lease, and PostgreSQL
// restarted while devices check in and admins read. Nothing may be lost,
// stuck or issued twice beyond what was in flight. (The webhook receiver
// being down is covered by webhook.test.mjs.)
//
//   CERTDEPLOY_KILL_DEPLOYMENTS=100 CERTDEPLOY_PG_RESTART_DEVICES=50 node --test tests/api/process_faults.test.mjs
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFleet, runAgent, certSha256, sleep } from './lib/fleet.mjs';
import { startServer } from './lib/server.mjs';
import { startMockCa } from './lib/mockca.mjs';
import { psqlSession } from './lib/psql_session.mjs';

const SAN = /sanitize/.test(process.env.CERTDEPLOY_BUILD || '');
const KILL_DEPLOYMENTS = Number(process.env.CERTDEPLOY_KILL_DEPLOYMENTS || (SAN ? 6 : 10));
const RESTART_DEVICES = Number(process.env.CERTDEPLOY_PG_RESTART_DEVICES || (SAN ? 4 : 8));
const run = promisify(execFile);

/** Polls fn() (bounded) until it returns a truthy value; returns it. */
async function until(fn, what, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const caLines = (srv) => srv.logLines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('CA request for '));

/**
 * One deployment's history tells each status change once, in order:
 * assigned, ca_issued (pending), delivered (pending->verifying),
 * verifying->verified; every row starts where the previous one ended.
 */
function assertStory(events, who) {
  const changes = events.filter((e) => e.from !== e.to);
  assert.deepEqual(changes.map((e) => `${e.from ?? '-'}>${e.to}`), ['->pending', 'pending>verifying', 'verifying>verified'],
    `${who}: ${JSON.stringify(events)}`);
  assert.equal(events.filter((e) => e.event === 'ca_issued').length, 1, `${who}: one ca_issued`);
  for (let i = 1; i < events.length; i++) {
    assert.equal(events[i].from, events[i - 1].to, `${who}: row ${i} starts where row ${i - 1} ended: ${JSON.stringify(events)}`);
  }
}

// The three scenarios use their own databases, mocks and instances and
// spend most of their time waiting for leases to run out: they run side by side.
describe('process faults', { concurrency: SAN ? 2 : 3 }, () => {
  test(`SIGKILL of an instance with CA requests in flight: ${KILL_DEPLOYMENTS} deployments end verified, at most one extra issuance per request in flight`, { timeout: 120000 }, async () => {
    const env = {
      // lease = CA timeout + 10 s = 13 s; the mock answers after 1 s
      CERTDEPLOY_CA_TIMEOUT_SECONDS: '3',
      CERTDEPLOY_CA_CONCURRENCY: '4',
      CERTDEPLOY_RETRY_BASE_SECONDS: '1',
      CERTDEPLOY_RETRY_MAX_SECONDS: '2',
      CERTDEPLOY_RETRY_MAX_ATTEMPTS: '5',
      CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
    };
    const fleet = await startFleet({ mockArgs: ['--latency-ms', '1000'], env });
    const a = fleet.srv;
    const masterKey = join(a.stateDir, 'master.key');
    let b = null;
    let a2 = null;
    try {
      const devs = [];
      for (let i = 0; i < KILL_DEPLOYMENTS; i++) devs.push(await fleet.device(`SN-KILL-${i}`));
      const profile = await fleet.profileFor(devs, { key_mode: 'server', common_name: 'kill-$DEVICE_SERIAL' });
      const leased = () => a.sql(`SELECT device_id || ' ' || extract(epoch FROM claimed_until) FROM deployments
        WHERE profile_id = '${profile.id}' AND claimed_until > now() AND issued_generation IS DISTINCT FROM generation`)
        .split('\n').filter(Boolean);

      // A claims (CA concurrency 4); give the first requests time to reach the mock, then kill -9
      await until(() => leased().length > 0, 'claims by A', 20000);
      await sleep(400);
      a.child.kill('SIGKILL');
      const killed = await a.exited;
      assert.equal(killed.signal, 'SIGKILL');
      const inFlight = leased().map((l) => { const [dev, until] = l.split(' '); return { dev, until: Number(until) }; });
      const issuedAtKill = Number(a.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${profile.id}' AND issued_generation = generation`));
      assert.ok(inFlight.length >= 1, 'A held leases when it died');
      const linesA = caLines(a).length;

      // B joins, and A comes back (same state dir, same master key): the dead
      // claims are honoured until their leases run out, then taken once
      b = await startServer({ conninfo: a.conninfo, token: a.token, env: { ...env, CERTDEPLOY_MASTER_KEY_FILE: masterKey } });
      a2 = await startServer({ conninfo: a.conninfo, token: a.token, stateDir: a.stateDir, env });
      await fleet.mock.latency(50);
      const servers = [b, a2];
      const count = (cond) => Number(b.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${profile.id}' AND ${cond}`));
      const verified = () => count(`status = 'verified'`);
      // the killed instance's leases run out (13 s), then B or the restarted A issue
      await until(() => count('issued_generation = generation') === devs.length, 'every deployment issued', 60000);
      await until(async () => {
        if (verified() === devs.length) return true;
        // devices check in, half with B, half with the restarted A
        await Promise.all(devs.map((d, i) => runAgent(servers[i % 2], d.dir, ['checkin'])));
        return verified() === devs.length;
      }, 'every deployment verified', 60000);

      for (const d of devs) {
        const dep = (await b.request('GET', `/api/v1/devices/${d.deviceId}/profiles/${profile.id}`)).json;
        assert.equal(dep.status, 'verified');
        assert.equal(dep.generation, 1);
        assert.equal(dep.installed_certificate.sha256, certSha256(join(d.dir, 'profiles', profile.id, 'cert.pem')));
        const events = (await b.request('GET', `/api/v1/devices/${d.deviceId}/profiles/${profile.id}/history`)).json.events;
        assertStory(events, d.serial);
      }
      // the dead instance's claims were not taken before their leases ran out
      for (const f of inFlight) {
        const at = Number(b.sql(`SELECT extract(epoch FROM at) FROM deployment_history WHERE device_id = '${f.dev}'
          AND profile_id = '${profile.id}' AND event = 'ca_issued'`));
        assert.ok(at >= f.until, `issued at ${at}, after the lease of the killed instance (until ${f.until})`);
      }
      assert.equal(Number(b.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${profile.id}' AND claimed_until IS NOT NULL`)), 0, 'no lease left behind');
      const stats = await fleet.mock.stats();
      assert.ok(stats.issued >= devs.length, `${stats.issued} issued`);
      assert.ok(stats.issued <= devs.length + inFlight.length,
        `at most one extra certificate per request in flight at the kill: ${stats.issued} issued for ${devs.length} deployments, ${inFlight.length} in flight`);
      // each outcome applied once, as the database recorded it (a log line
      // comes after its commit, so a kill between the two loses the line)
      const applied = Number(b.sql(`SELECT count(*) FROM deployment_history WHERE profile_id = '${profile.id}' AND event = 'ca_issued'`));
      assert.equal(applied, devs.length, 'one applied outcome per deployment');
      const report = { deployments: devs.length, issued_at_kill: issuedAtKill, in_flight_at_kill: inFlight.length, mock_issued: stats.issued,
        mock_requests: stats.issue_requests, by_a: linesA, by_b: caLines(b).length, by_restarted_a: caLines(a2).length };
      console.log(`kill -9 figures: ${JSON.stringify(report)}`);
    } finally {
      await a2?.stop();
      await b?.stop();
      await fleet.stop();
    }
  });

  test(`PostgreSQL restarted under load: ${RESTART_DEVICES} devices checking in, admins reading; nothing lost`, { timeout: 120000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'certdeploy-pg-'));
    chmodSync(dir, 0o755);
    const pg = async (...args) => (await run('bash', ['scripts/pg.sh', ...args], { env: { ...process.env, PG_FAST: '1' } })).stdout.trim();
    const conninfo = await pg('start', dir, 'certdeploy');
    t.after(async () => { await pg('stop', dir); rmSync(dir, { recursive: true, force: true }); });

    const mock = await startMockCa({ args: ['--latency-ms', '300'] });
    const srv = await startServer({
      conninfo,
      env: {
        CERTDEPLOY_CA_TIMEOUT_SECONDS: '2',
        CERTDEPLOY_CA_CONCURRENCY: '2',
        CERTDEPLOY_RETRY_BASE_SECONDS: '1',
        CERTDEPLOY_RETRY_MAX_SECONDS: '2',
        CERTDEPLOY_RETRY_MAX_ATTEMPTS: '5',
        CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
      },
    });
    const stopLoad = { now: false };
    try {
      const ca = await srv.request('POST', '/api/v1/cas', { body: { name: 'Mock TLM', type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId } });
      assert.equal(ca.status, 201, ca.text);
      const profile = await srv.request('POST', '/api/v1/profiles', { body: { name: 'restart', ca_id: ca.json.id, common_name: '$DEVICE_SERIAL', seat_id: '$DEVICE_ID', assign_all: true } });
      assert.equal(profile.status, 201, profile.text);
      const pid = profile.json.id;
      const secret = (await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: 'restart' } })).json.secret;
      const devs = [];
      for (let i = 0; i < RESTART_DEVICES; i++) {
        const d = mkdtempSync(join(tmpdir(), 'certdeploy-agent-'));
        const r = await runAgent(srv, d, ['enroll', '--enroll-secret', secret, '--serial', `SN-PGR-${i}`]);
        assert.equal(r.code, 0, r.stderr);
        devs.push({ dir: d, serial: `SN-PGR-${i}`, id: JSON.parse(readFileSync(join(d, 'device.json'), 'utf8')).device_id });
      }

      // the load: every device checks in in a loop, admins read, /readyz is watched
      const seen = { checkins: 0, checkinFailures: 0, reads: {}, readErrors: 0, badUnavailable: [], readyz: [] };
      const deviceLoop = async (d) => {
        while (!stopLoad.now) {
          const r = await runAgent(srv, d.dir, ['checkin']);
          seen.checkins++;
          if (r.code !== 0) seen.checkinFailures++;
          await sleep(300);
        }
      };
      const readPaths = ['/api/v1/status', '/api/v1/devices?limit=50', `/api/v1/profiles/${pid}`,
        ...devs.map((d) => `/api/v1/devices/${d.id}/profiles/${pid}`)];
      const adminLoop = async () => {
        for (let i = 0; !stopLoad.now; i++) {
          try {
            const r = await srv.request('GET', readPaths[i % readPaths.length]);
            seen.reads[r.status] = (seen.reads[r.status] || 0) + 1;
            if (r.status === 503 && r.json?.error?.code !== 'unavailable') seen.badUnavailable.push(r.text);
          } catch {
            seen.readErrors++;
          }
          await sleep(20);
        }
      };
      const readyLoop = async () => {
        while (!stopLoad.now) {
          const r = await srv.request('GET', '/readyz', { token: null });
          if (seen.readyz.at(-1) !== r.status) seen.readyz.push(r.status);
          await sleep(50);
        }
      };
      const load = Promise.all([...devs.map(deviceLoop), adminLoop(), adminLoop(), readyLoop()]);

      // restart PostgreSQL in the middle of issuance and delivery
      await until(() => seen.readyz.includes(200), '/readyz 200 before the restart', 15000);
      await sleep(500);
      const t0 = Date.now();
      await pg('stop', dir);
      await until(() => seen.readyz.includes(503), '/readyz 503', 15000);
      await sleep(1500);
      await pg('start', dir, 'certdeploy');
      await until(() => seen.readyz.at(-1) === 200 && seen.readyz.includes(503), '/readyz 200 again', 30000);
      const outage = Date.now() - t0;

      const verified = () => {
        try {
          return Number(srv.sql(`SELECT count(*) FROM deployments WHERE profile_id = '${pid}' AND status = 'verified'`)) === devs.length;
        } catch { return false; }
      };
      // a claim whose outcome could not be written waits for its lease (CA timeout + 10 s)
      await until(verified, 'every deployment verified after the restart', 60000);
      stopLoad.now = true;
      await load;

      assert.equal(srv.child.exitCode, null, 'the server never exited');
      assert.equal(srv.child.signalCode, null);
      assert.deepEqual(seen.readyz, [200, 503, 200], `readyz went ${seen.readyz.join(' -> ')}`);
      assert.equal(seen.readErrors, 0, 'every admin read got an HTTP answer');
      assert.deepEqual(seen.badUnavailable, [], 'a 503 says unavailable');
      assert.deepEqual(Object.keys(seen.reads).sort(), ['200', '503'], `admin reads: ${JSON.stringify(seen.reads)}`);
      assert.ok(seen.checkinFailures >= 1, 'some check-ins met the outage');
      for (const d of devs) {
        const dep = (await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${pid}`)).json;
        assert.equal(dep.status, 'verified', d.serial);
        assert.equal(dep.generation, 1);
        assert.equal(dep.installed_certificate.sha256, certSha256(join(d.dir, 'profiles', pid, 'cert.pem')));
        const events = (await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${pid}/history`)).json.events;
        assertStory(events, d.serial);
      }
      const stats = await mock.stats();
      const report = { devices: devs.length, outage_ms: outage, checkins: seen.checkins, checkins_failed: seen.checkinFailures,
        admin_reads: seen.reads, mock_issued: stats.issued, readyz: seen.readyz.join('>') };
      console.log(`PostgreSQL restart figures: ${JSON.stringify(report)}`);
    } finally {
      stopLoad.now = true;
      await srv.stop();
      await mock.stop();
    }
  });

  test('regression: an instance paused past its lease does not act on the claim another instance took over', { timeout: 90000 }, async () => {
    // X claims a deployment and is paused (SIGSTOP: a VM pause, a stall)
    // before its CA request; the lease (CA timeout 2 s + 10 s) runs out; Y
    // claims it and gets the certificate. When X resumes, its claim is gone:
    // it must not call the CA (a second certificate, or as here a refusal)
    // and must not write its outcome over the issued deployment.
    const env = {
      CERTDEPLOY_CA_TIMEOUT_SECONDS: '2', CERTDEPLOY_CA_CONCURRENCY: '1', CERTDEPLOY_KEY_POOL_SIZE: '0',
      CERTDEPLOY_RETRY_MAX_ATTEMPTS: '5', CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
    };
        const mock = await startMockCa();
    const x = await startServer({ env });
    let y = null;
    const lock = psqlSession(x.conninfo);
    let paused = false;
    try {
      const ca = await x.request('POST', '/api/v1/cas', { body: { name: 'Mock TLM', type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId } });
      assert.equal(ca.status, 201, ca.text);
      const p = await x.request('POST', '/api/v1/profiles', { body: { name: 'paused', ca_id: ca.json.id, common_name: '$DEVICE_SERIAL', seat_id: '$DEVICE_ID', key_mode: 'server' } });
      assert.equal(p.status, 201, p.text);
      const pid = p.json.id;
      const dev = x.sql(`INSERT INTO devices (serial, token_hash) VALUES ('SN-PAUSED', encode(sha256('cdd_paused'::bytea), 'hex')) RETURNING id`);
      const row = (col) => x.sql(`SELECT coalesce(${col}::text, '') FROM deployments WHERE device_id = '${dev}' AND profile_id = '${pid}'`);

      // hold X between its claim and its CA request (its key comes from the
      // key pool table, locked here), then pause it there
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE key_pool IN ACCESS EXCLUSIVE MODE');
      const a = await x.request('POST', `/api/v1/profiles/${pid}/assignments`, { body: { device_ids: [dev] } });
      assert.equal(a.status, 200, a.text);
      await until(() => row('claimed_until'), 'the claim of X', 20000);
      x.child.kill('SIGSTOP');
      paused = true;
      await lock.query('COMMIT');

      y = await startServer({ conninfo: x.conninfo, token: x.token, env: { ...env, CERTDEPLOY_MASTER_KEY_FILE: join(x.stateDir, 'master.key') } });
      await until(() => row('issued_generation') === '1', 'Y issues once the lease of X ran out', 40000);
      assert.equal((await mock.stats()).issue_requests, 1);

      // the CA would now refuse; X resumes
      await mock.faults({ status: 403, count: 1, message: 'Seat already holds a certificate' });
      x.child.kill('SIGCONT');
      paused = false;
      await sleep(4000); // X's key, its request and its outcome would be done by now

      const s = await mock.stats();
      const events = (await y.request('GET', `/api/v1/devices/${dev}/profiles/${pid}/history`)).json.events;
      const dep = (await y.request('GET', `/api/v1/devices/${dev}/profiles/${pid}`)).json;
      assert.equal(dep.status, 'pending', `the issued deployment is untouched: ${dep.status} "${dep.detail}"`);
      assert.ok(dep.issued_certificate, 'its certificate awaits delivery');
      assert.deepEqual(events.filter((e) => e.event.startsWith('ca_')).map((e) => e.event), ['ca_issued'], JSON.stringify(events));
      assert.equal(s.issue_requests, 1, `one CA request for one generation (got ${s.issue_requests})`);
    } finally {
      if (paused) x.child.kill('SIGCONT');
      lock.close();
      await y?.stop();
      await x.stop();
      await mock.stop();
    }
  });
});
