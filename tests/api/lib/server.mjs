// Starts a real certdeployd over TLS against its own fresh database on the
// test cluster, and talks to it. Used by every API and e2e test.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { createCipheriv, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

export const BUILD = process.env.CERTDEPLOY_BUILD || 'build';


/** A command that prefixes certdeployd (e.g. "valgrind --tool=memcheck ..."), from
 *  CERTDEPLOY_SERVER_WRAPPER; split on spaces. Empty: the server runs by itself. */
export const SERVER_WRAPPER = (process.env.CERTDEPLOY_SERVER_WRAPPER || '').split(/\s+/).filter(Boolean);
/** How long a server may take to start listening: much longer under a wrapper. */
const START_TIMEOUT_MS = SERVER_WRAPPER.length ? 180000 : 60000;

/** CERTDEPLOY_TEST_SEED_KEYS: how many RSA-2048 keys to put in the key pool of each
 *  database startServer creates (default 0). Under valgrind the server spends 10-40 s
 *  of CPU on each RSA key it makes, far past the tests' waits and its own claim
 *  leases; with keys made here (natively, once per node process) and sealed under
 *  the server's master key, server key mode under memcheck takes them from the pool
 *  through the server's real code (db_keypool_take, crypto_open, PEM parsing) and
 *  generates on the spot only once they are gone. */
const SEED_KEYS = Number(process.env.CERTDEPLOY_TEST_SEED_KEYS || 0);
let seedPems;

/** Seals plain under a 32-byte master key the way lib/crypto_seal.c's crypto_seal does:
 *  base64 of "v1" || nonce || AES-256-GCM ciphertext || tag, "v1" authenticated. */
export function sealLikeServer(masterKey, plain) {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, nonce);
  c.setAAD(Buffer.from('v1'));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.from('v1'), nonce, ct, c.getAuthTag()]).toString('base64');
}

/** Puts SEED_KEYS distinct RSA keys, sealed under masterKeyFile, into key_pool. */
async function seedKeyPool(conninfo, masterKeyFile) {
  seedPems ??= Promise.all(Array.from({ length: SEED_KEYS }, () =>
    promisify(generateKeyPair)('rsa', { modulusLength: 2048 })
      .then(({ privateKey }) => privateKey.export({ type: 'pkcs8', format: 'pem' }))));
  const masterKey = readFileSync(masterKeyFile);
  const rows = (await seedPems).map((pem) => `('${sealLikeServer(masterKey, pem)}')`);
  // on stdin: 64 sealed keys are more than one argument may hold
  execFileSync('psql', [conninfo, '-qAtX', '-v', 'ON_ERROR_STOP=1'], {
    input: `INSERT INTO key_pool (key_sealed) VALUES ${rows.join(', ')};`,
  });
}

/** Base conninfo of the throwaway cluster (set by tests/run.sh). */
export function clusterConninfo() {
  const c = process.env.CERTDEPLOY_TEST_PG;
  if (!c) throw new Error('CERTDEPLOY_TEST_PG is not set: run the API tests through tests/run.sh');
  return c;
}

/** Runs SQL on a database of the test cluster; returns psql's unaligned output. */
export function psql(conninfo, sql) {
  return execFileSync('psql', [conninfo, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

/** Creates an empty database and returns its conninfo. */
export function createDatabase() {
  const name = 't_' + randomBytes(6).toString('hex');
  psql(clusterConninfo().replace(/dbname=\S+/, 'dbname=postgres'), `CREATE DATABASE ${name}`);
  return clusterConninfo().replace(/dbname=\S+/, `dbname=${name}`);
}

export function newAdminToken() {
  return 'cdt_' + randomBytes(24).toString('hex');
}

/**
 * Starts certdeployd. Options: env (extra environment), args, conninfo (an
 * existing database, else a new one), stateDir, token (bootstrap token).
 * Returns a handle with url, token, request(), stop(), logs().
 */
export async function startServer(opts = {}) {
  const stateDir = opts.stateDir || mkdtempSync(join(tmpdir(), 'certdeployd-'));
  const conninfo = opts.conninfo || createDatabase();
  const token = opts.token || newAdminToken();
  const env = {
    PATH: process.env.PATH,
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
    CERTDEPLOY_DATABASE_URL: conninfo,
    CERTDEPLOY_LISTEN: opts.listen || '127.0.0.1:0',
    CERTDEPLOY_STATE_DIR: stateDir,
    CERTDEPLOY_BOOTSTRAP_TOKEN: token,
    CERTDEPLOY_LOG_FORMAT: 'json',
    // each server would otherwise spend seconds of CPU filling its key pool;
    // tests that exercise the pool turn it on
    CERTDEPLOY_KEY_POOL_SIZE: '0',
    ...opts.env,
  };
  const argv = [`${BUILD}/certdeployd`, ...(opts.args || [])];
  const cmd = SERVER_WRAPPER.length ? [...SERVER_WRAPPER, ...argv] : argv;
  const child = spawn(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  const err = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => err.push(d));
  child.stdout.setEncoding('utf8');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`certdeployd did not start in ${START_TIMEOUT_MS / 1000} s:\n` + err.join('')));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out.push(d);
      buf += d;
      const m = buf.match(/listening on (https:\/\/\S+?)\/?\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`certdeployd exited (${code ?? signal}) before listening:\n${err.join('')}`));
    });
  });
  const caPem = readFileSync(opts.env?.CERTDEPLOY_TLS_CERT || join(stateDir, 'tls.crt'));
  // only a database of its own: a second instance shares the first one's pool
  if (SEED_KEYS > 0 && !opts.conninfo) {
    try {
      await seedKeyPool(conninfo, env.CERTDEPLOY_MASTER_KEY_FILE || join(stateDir, 'master.key'));
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
  }
  const agent = new https.Agent({ keepAlive: true, ca: caPem, maxSockets: 64 });
  const server = {
    url,
    port: Number(new URL(url).port),
    token,
    conninfo,
    stateDir,
    caPem,
    child,
    exited,
    stdout: () => out.join(''),
    logs: () => err.join(''),
    /** JSON lines of the log. */
    logLines: () => err.join('').split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } }),
    request: (method, path, o = {}) => request(url, agent, method, path, { token, ...o }),
    sql: (q) => psql(conninfo, q),
    /** Stops with SIGTERM (or signal) and, for SIGTERM/SIGINT, insists on a clean exit 0
     *  so sanitizer reports and leaks fail the test. */
    async stop(signal = 'SIGTERM') {
      const running = child.exitCode === null && child.signalCode === null;
      if (running) child.kill(signal);
      const r = await exited;
      agent.destroy();
      if (!opts.keepState && !opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
      if (running && (signal === 'SIGTERM' || signal === 'SIGINT') && r.code !== 0) {
        throw new Error(`certdeployd exited with ${r.code ?? r.signal} after ${signal}:\n${err.join('').slice(-4000)}`);
      }
      return r;
    },
  };
  return server;
}

/**
 * One HTTPS request. o: token (null for none), body (object → JSON),
 * raw (string/Buffer sent as is), headers, contentType.
 * Resolves {status, headers, text, json}.
 */
export function request(base, agent, method, path, o = {}) {
  const headers = { ...(o.headers || {}) };
  let payload;
  if (o.raw !== undefined) {
    payload = o.raw;
  } else if (o.body !== undefined) {
    payload = JSON.stringify(o.body);
    headers['Content-Type'] ??= 'application/json';
  }
  if (o.contentType !== undefined) headers['Content-Type'] = o.contentType;
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  if (payload !== undefined) headers['Content-Length'] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
