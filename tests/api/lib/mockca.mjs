// Start and steer certdeploy-mockca from node tests.
//
//   import { startMockCa } from './lib/mockca.mjs';
//   const ca = await startMockCa({ args: ['--validity-seconds', '120'] });
//   await ca.faults({ status: 503, retry_after: 1 });
//   ... point the code under test at ca.url (API key ca.apiKey, profile ca.profileId) ...
//   await ca.stop();   // throws when the mock exits non-zero or printed a sanitizer report
//
// The binary is `${CERTDEPLOY_BUILD || 'build'}/certdeploy-mockca` (relative to the current
// directory, normally the repository root). Each instance listens on a free port and, unless
// opts.stateDir is given, keeps its CA in a fresh temporary directory removed by stop().
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_API_KEY = 'mock-api-key';
export const DEFAULT_PROFILE_ID = 'mock-profile-1';

/** Directory holding the binaries under test. */
export function buildDir() {
  return process.env.CERTDEPLOY_BUILD || 'build';
}

/** Absolute path of the certdeploy-mockca binary under test. */
export function mockCaBinary() {
  return path.resolve(buildDir(), 'certdeploy-mockca');
}

const SANITIZER_REPORT = /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;

/** True when a process's stderr holds an ASan/UBSan/LSan report. */
export function hasSanitizerReport(text) {
  return SANITIZER_REPORT.test(text);
}

/**
 * One HTTP(S) request on a fresh connection (no keep-alive, so fault modes that close the
 * connection affect only this request). Resolves {status, headers, text, json()} for any status;
 * rejects on network errors (err.code: ECONNRESET, ETIMEDOUT for our timeout, ...).
 * body: string/Buffer sent as is, anything else JSON-encoded with content-type application/json.
 */
export function request(url, { method = 'GET', headers = {}, body, ca, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const hdrs = { ...headers };
    let payload = body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      payload = JSON.stringify(body);
      if (!Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-type')) {
        hdrs['content-type'] = 'application/json';
      }
    }
    if (payload !== undefined) hdrs['content-length'] = Buffer.byteLength(payload);
    const req = mod.request(u, { method, headers: hdrs, ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`no reply within ${timeoutMs} ms`);
      err.code = 'ETIMEDOUT';
      req.destroy(err);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The JSON body of a DigiCert TLM issue request, as certdeployd sends it. */
export function issueBody({ csrPem, cn, upn, seatId = 'seat-1', profileId = DEFAULT_PROFILE_ID, deliveryFormat = 'x509' }) {
  const attributes = { subject: { common_name: cn } };
  if (upn !== undefined && upn !== null) attributes.extensions = { san: { user_principal_names: [upn] } };
  return {
    profile: { id: profileId },
    seat: { seat_id: seatId },
    delivery_format: deliveryFormat,
    csr: csrPem,
    attributes,
  };
}

const live = new Set();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function waitForListening(proc, timeoutMs, stderrOf) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`certdeploy-mockca did not start within ${timeoutMs} ms`)), timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', fail);
    }
    function fail(err) {
      cleanup();
      err.message += `\nstderr:\n${stderrOf()}`;
      reject(err);
    }
    function onData(chunk) {
      out += chunk;
      const m = out.match(/^certdeploy-mockca listening on (https?:\/\/\S+)\n/m);
      if (m) {
        cleanup();
        resolve(m[1]);
      }
    }
    function onExit(code, signal) {
      fail(new Error(`certdeploy-mockca exited early (code ${code}, signal ${signal})`));
    }
    proc.stdout.on('data', onData);
    proc.on('exit', onExit);
    proc.on('error', fail);
  });
}

/**
 * Starts certdeploy-mockca on 127.0.0.1 with a free port.
 * opts.args: extra flags (e.g. ['--profile', 'p2', '--latency-ms', '50']).
 * opts.stateDir: reuse this state dir (kept on stop); default a fresh temp dir (removed on stop).
 * opts.listen: default '127.0.0.1:0'.  opts.ca: PEM trusted for https control calls.
 * opts.apiKey / opts.profileId: what the instance was configured with, echoed for callers
 *   (defaults: the mock's defaults, or the first --api-key / --profile in args).
 * opts.startTimeoutMs: default 20000.  opts.verbose: copy the mock's stderr to ours.
 */
export async function startMockCa(opts = {}) {
  const extra = opts.args ?? [];
  const ownsStateDir = !opts.stateDir;
  const stateDir = opts.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), 'certdeploy-mockca-')));
  const args = ['--listen', opts.listen ?? '127.0.0.1:0', '--state-dir', stateDir, ...extra];
  const proc = spawn(mockCaBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  live.add(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr += d;
    if (opts.verbose) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    live.delete(proc);
    resolve({ code, signal });
  }));

  let url;
  try {
    url = await waitForListening(proc, opts.startTimeoutMs ?? 20000, () => stderr);
  } catch (err) {
    proc.kill('SIGKILL');
    if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
    throw err;
  }

  const flag = (name) => {
    const i = extra.indexOf(name);
    return i >= 0 ? extra[i + 1] : undefined;
  };
  const ca = opts.ca;

  async function control(method, p, body) {
    const res = await request(url + p, { method, body, ca });
    if (res.status < 200 || res.status > 299) {
      const err = new Error(`${method} ${p}: HTTP ${res.status} ${res.text}`);
      err.status = res.status;
      err.body = res.text;
      throw err;
    }
    return res;
  }

  let stopped = null;
  const mock = {
    url,
    port: Number(new URL(url).port),
    stateDir,
    process: proc,
    apiKey: opts.apiKey ?? flag('--api-key') ?? DEFAULT_API_KEY,
    profileId: opts.profileId ?? flag('--profile') ?? DEFAULT_PROFILE_ID,
    /** Everything the mock printed on stderr so far. */
    get stderr() {
      return stderr;
    },
    /** Queues one fault object or an array of them; resolves the queue as the mock lists it. */
    async faults(f) {
      return (await control('POST', '/_mock/faults', f)).json();
    },
    /** The queued faults, in order. */
    async queuedFaults() {
      return (await control('GET', '/_mock/faults')).json();
    },
    async clearFaults() {
      return (await control('DELETE', '/_mock/faults')).json();
    },
    /** {issue_requests, issued, faults_served, profile_requests} */
    async stats() {
      return (await control('GET', '/_mock/stats')).json();
    },
    /** [{serial, common_name, seat_id, upn, not_before, not_after}] */
    async issued() {
      return (await control('GET', '/_mock/issued')).json();
    },
    async latency(ms) {
      return (await control('POST', '/_mock/latency', { ms })).json();
    },
    /** Clears stats, issued list and faults; latency returns to --latency-ms. */
    async reset() {
      return (await control('POST', '/_mock/reset')).json();
    },
    /** The issuing CA certificate (PEM). */
    async caPem() {
      return (await control('GET', '/_mock/ca.pem')).text;
    },
    /** GET /mpki/api/v2/profile/{id}; resolves the raw response. */
    profile(id = mock.profileId, { apiKey = mock.apiKey } = {}) {
      const headers = apiKey === null ? {} : { 'X-API-Key': apiKey };
      return request(`${url}/mpki/api/v2/profile/${encodeURIComponent(id)}`, { headers, ca });
    },
    /** POST /mpki/api/v1/certificate with issueBody(fields) (or fields.body); raw response. */
    issue(fields, { apiKey = mock.apiKey, timeoutMs } = {}) {
      const headers = apiKey === null ? {} : { 'X-API-Key': apiKey };
      const body = fields.body ?? issueBody({ profileId: mock.profileId, ...fields });
      return request(`${url}/mpki/api/v1/certificate`, { method: 'POST', headers, body, ca, timeoutMs });
    },
    /**
     * Stops the mock (SIGTERM unless told) and waits for it. Rejects when it exits non-zero, is
     * killed, or printed a sanitizer report. Safe to call twice.
     */
    async stop({ signal = 'SIGTERM', timeoutMs = 15000 } = {}) {
      if (!stopped) {
        stopped = (async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
          const res = await exited;
          clearTimeout(timer);
          if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
          if (res.code !== 0 || hasSanitizerReport(stderr)) {
            throw new Error(`certdeploy-mockca exited with code ${res.code} signal ${res.signal}\nstderr:\n${stderr}`);
          }
          return res;
        })();
      }
      return stopped;
    },
  };
  return mock;
}
