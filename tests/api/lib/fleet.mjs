// End-to-end building blocks: the real server, the real mock CA and the
// real agent, wired the way an admin would through the REST API.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { BUILD, startServer } from './server.mjs';
import { startMockCa } from './mockca.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs certdeploy-agent against srv with its own state dir; resolves {code, stdout, stderr}. */
export function runAgent(srv, stateDir, args, { timeoutMs = 30000 } = {}) {
  const caFile = join(srv.stateDir, 'tls.crt');
  const argv = ['--server', srv.url, '--state-dir', stateDir, '--ca-file', caFile, ...args];
  return new Promise((resolve, reject) => {
    const p = spawn(`${BUILD}/certdeploy-agent`, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** SHA-256 (hex) of the DER of a PEM certificate file, as devices report it. */
export function certSha256(pemPath) {
  const pem = readFileSync(pemPath, 'utf8');
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
}

/**
 * Starts a mock CA and a server configured for fast retries, creates a CA
 * and an enroll secret. Options: mockArgs, env (server), profile (fields
 * for a profile to create; omitted: none).
 */
export async function startFleet(opts = {}) {
  const mock = await startMockCa({ args: opts.mockArgs || [] });
  const srv = await startServer({
    env: {
      CERTDEPLOY_RETRY_BASE_SECONDS: '1',
      CERTDEPLOY_RETRY_MAX_SECONDS: '2',
      CERTDEPLOY_RETRY_MAX_ATTEMPTS: '3',
      CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
      CERTDEPLOY_CA_TIMEOUT_SECONDS: '5',
      CERTDEPLOY_CA_CONCURRENCY: '4',
      ...opts.env,
    },
  });
  const ca = await srv.request('POST', '/api/v1/cas', {
    body: { name: 'Mock TLM', type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId },
  });
  assert.equal(ca.status, 201, ca.text);
  const secret = await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: 'fleet' } });
  assert.equal(secret.status, 201, secret.text);
  const fleet = {
    srv,
    mock,
    caId: ca.json.id,
    enrollSecret: secret.json.secret,
    async profile(fields = {}) {
      const r = await srv.request('POST', '/api/v1/profiles', {
        body: { name: `p-${Math.random().toString(36).slice(2, 8)}`, ca_id: ca.json.id, common_name: '$DEVICE_SERIAL', seat_id: '$DEVICE_ID', assign_all: true, ...fields },
      });
      assert.equal(r.status, 201, r.text);
      return r.json;
    },
    /** Enrolls a new agent; resolves {dir, deviceId, serial, run(args)}. */
    async device(serial = `SN-${Math.random().toString(36).slice(2, 10)}`) {
      const dir = mkdtempSync(join(tmpdir(), 'certdeploy-agent-'));
      const r = await runAgent(srv, dir, ['enroll', '--enroll-secret', fleet.enrollSecret, '--serial', serial, '--name', `Laptop ${serial}`]);
      assert.equal(r.code, 0, r.stderr);
      const deviceId = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')).device_id;
      return { dir, deviceId, serial, run: (args) => runAgent(srv, dir, args) };
    },
    /** A profile for exactly these devices (no assign_all), so tests do not touch each other's. */
    async profileFor(devices, fields = {}) {
      const p = await fleet.profile({ ...fields, assign_all: false });
      const r = await srv.request('POST', `/api/v1/profiles/${p.id}/assignments`, { body: { device_ids: devices.map((d) => d.deviceId) } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.assigned, devices.length);
      return p;
    },
    deployment: async (deviceId, profileId) => (await srv.request('GET', `/api/v1/devices/${deviceId}/profiles/${profileId}`)).json,
    history: async (deviceId, profileId) => (await srv.request('GET', `/api/v1/devices/${deviceId}/profiles/${profileId}/history?limit=500`)).json.events,
    /** Polls the deployment until pred(dep) holds; checks in with the agent between polls when dev is given. */
    async until(deviceId, profileId, pred, { dev = null, timeoutMs = 20000, what = 'condition' } = {}) {
      const end = Date.now() + timeoutMs;
      let dep;
      while (Date.now() < end) {
        dep = await fleet.deployment(deviceId, profileId);
        if (dep && pred(dep)) return dep;
        if (dev) await dev.run(['checkin']);
        await sleep(150);
      }
      throw new Error(`timed out waiting for ${what}; last deployment: ${JSON.stringify(dep)}`);
    },
    /** Waits until no deployment of the profile is leased by a worker or due for a CA
     *  request, then deletes the profile: no CA request of this test can land in the next. */
    async retire(profileId, timeoutMs = 30000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const busy = Number(srv.sql(`SELECT count(*) FROM deployments d JOIN profiles p ON p.id = d.profile_id
          WHERE d.profile_id = '${profileId}' AND (d.claimed_until > now() OR (d.status = 'pending'
          AND d.issued_generation IS DISTINCT FROM d.generation AND (p.key_mode = 'server' OR d.csr_generation = d.generation)
          AND coalesce(d.next_attempt_at, now()) <= now() + interval '3 seconds'))`));
        if (busy === 0 || Date.now() > end) break;
        await sleep(100);
      }
      const r = await srv.request('DELETE', `/api/v1/profiles/${profileId}`);
      assert.equal(r.status, 204, r.text);
    },
    /** Waits until the mock CA has seen no request for quietMs (work of earlier tests settled). */
    async quiesce(quietMs = 400) {
      let last = (await mock.stats()).issue_requests;
      for (let i = 0; i < 100; i++) {
        await sleep(quietMs);
        const now = (await mock.stats()).issue_requests;
        if (now === last) return;
        last = now;
      }
    },
    async stop() {
      await srv.stop();
      await mock.stop();
    },
  };
  return fleet;
}
