// A small stand-in for certdeployd's Device API, over HTTPS, for testing
// certdeploy-agent's protocol handling. It records every request and
// answers per the contract in DESIGN.md ("Device API"), parsing bodies as
// strictly as the real server does (unknown fields are a 400).
//
// Certificates are made with the `openssl` CLI: one test CA signs the
// server's TLS certificate and the certificates it issues.

import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args, input) {
  if (input === undefined) return run('openssl', args);
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, (err, stdout, stderr) =>
      err ? reject(err) : resolve({ stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Lower-case hex SHA-256 of a PEM certificate's DER. */
export function certSha256(pem) {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** A self-signed test CA in dir: { certPath, keyPath, pem }. */
export async function makeCa(dir, name) {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`]);
  return { certPath, keyPath, pem: await readFile(certPath, 'utf8') };
}

/** Signs csrPem with ca; extensions is openssl extfile text. Returns the PEM. */
export async function signCsr(dir, ca, csrPem, extensions = 'extendedKeyUsage=clientAuth\n') {
  const tag = randomBytes(6).toString('hex');
  const csrPath = join(dir, `csr-${tag}.pem`);
  const extPath = join(dir, `ext-${tag}.cnf`);
  const outPath = join(dir, `cert-${tag}.pem`);
  await writeFile(csrPath, csrPem);
  await writeFile(extPath, extensions);
  await openssl(['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-extfile', extPath,
    '-out', outPath]);
  return readFile(outPath, 'utf8');
}

/** A fresh key and CSR: { keyPem, csrPem }. type: 'rsa' or 'ec'. */
export async function makeKeyAndCsr(dir, cn, type = 'rsa') {
  const tag = randomBytes(6).toString('hex');
  const keyPath = join(dir, `key-${tag}.pem`);
  const csrPath = join(dir, `req-${tag}.pem`);
  const keyArgs = type === 'rsa' ? ['-newkey', 'rsa:2048']
    : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  await openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', keyPath, '-out', csrPath,
    '-subj', `/CN=${cn}`]);
  return { keyPem: await readFile(keyPath, 'utf8'), csrPem: await readFile(csrPath, 'utf8') };
}

/** The subject CN of a PEM CSR, read with the openssl CLI. */
export async function csrCommonName(csrPem) {
  const { stdout } = await openssl(['req', '-noout', '-subject', '-nameopt', 'multiline'], csrPem);
  const m = /commonName\s*=\s*(.*)/.exec(stdout);
  return m ? m[1].trim() : null;
}

/** The key algorithm of a PEM CSR: 'EC' or 'RSA'. */
export async function csrKeyType(csrPem) {
  const { stdout } = await openssl(['req', '-noout', '-text'], csrPem);
  return /id-ecPublicKey/.test(stdout) ? 'EC' : 'RSA';
}

/**
 * Test PKI shared by the fakes of one test file: the test CA, a TLS pair for
 * 127.0.0.1 signed by it, and an unrelated CA. Remove with cleanup().
 */
export async function makeTestPki() {
  const dir = await mkdtemp(join(tmpdir(), 'certdeploy-fake-'));
  const ca = await makeCa(dir, 'fake-test-ca');
  const otherCa = await makeCa(dir, 'unrelated-ca');
  const { keyPem, csrPem } = await makeKeyAndCsr(dir, 'localhost', 'ec');
  const certPem = await signCsr(dir, ca, csrPem,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  return {
    dir, ca, otherCa, tls: { key: keyPem, cert: certPem },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function error(status, code, message) {
  return { status, body: { error: { code, message } } };
}

/** Checks that obj is a plain object with exactly the keys allowed (all of required present). */
function shapeError(obj, required, optional = []) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return 'body is not an object';
  for (const k of Object.keys(obj)) {
    if (!required.includes(k) && !optional.includes(k)) return `unknown field ${k}`;
  }
  for (const k of required) if (!(k in obj)) return `missing field ${k}`;
  return null;
}

/**
 * Starts the fake on 127.0.0.1 (a free port). Returns the api object:
 *   url, requests (every request: { method, path, auth, body }),
 *   enrollSecret, addProfile(opts), profiles (Map), hooks, close().
 *   connections (TLS connections accepted so far).
 * Profiles: { id, mode: 'device'|'server', cn, generation, autoIssue,
 *   state: 'want_csr'|'csr_received'|'issued'|'delivered'|'verified'|'failed',
 *   certificate, chain, pkcs12, password, acks: [] }.
 * hooks.checkin / hooks.ack / hooks.csr: optional (req) => reply or undefined,
 * to override the normal answer ({ status, body }).
 */
export async function startFakeDeviceApi(pki) {
  const api = {
    url: null,
    requests: [],
    enrollSecret: 'good-enroll-secret',
    devices: new Map(), // serial -> { id, token }
    profiles: new Map(),
    hooks: {},
  };

  api.addProfile = async ({ id, mode = 'device', cn = 'device-cn', generation = 1,
    autoIssue = true, keyMismatch = false, badPassword = false }) => {
    const p = { id, mode, cn, generation, autoIssue, keyMismatch, state: 'want_csr', acks: [],
      chain: pki.ca.pem };
    if (mode === 'server') {
      const { keyPem, csrPem } = await makeKeyAndCsr(pki.dir, cn, 'rsa');
      p.certificate = await signCsr(pki.dir, pki.ca, csrPem);
      const tag = randomBytes(6).toString('hex');
      const paths = ['c', 'k', 'p12'].map((s) => join(pki.dir, `${s}-${tag}.pem`));
      await writeFile(paths[0], p.certificate);
      await writeFile(paths[1], keyPem);
      p.password = randomBytes(12).toString('base64url');
      await openssl(['pkcs12', '-export', '-in', paths[0], '-inkey', paths[1], '-certfile',
        pki.ca.certPath, '-passout', `pass:${p.password}`, '-out', paths[2]]);
      p.pkcs12 = (await readFile(paths[2])).toString('base64');
      if (badPassword) p.password = 'not-the-password';
      p.state = 'issued';
    }
    api.profiles.set(id, p);
    return p;
  };

  async function issueFromCsr(p, csrPem) {
    let pem = csrPem;
    if (p.keyMismatch) pem = (await makeKeyAndCsr(pki.dir, p.cn, 'ec')).csrPem;
    p.certificate = await signCsr(pki.dir, pki.ca, pem);
    p.state = 'issued';
  }

  function deviceFor(auth) {
    const m = /^Bearer (.+)$/.exec(auth || '');
    if (!m) return null;
    for (const d of api.devices.values()) if (d.token === m[1]) return d;
    return null;
  }

  function entryFor(p) {
    const base = { profile_id: p.id, generation: p.generation, common_name: p.cn,
      key_mode: p.mode };
    if (p.state === 'want_csr') return { ...base, action: 'submit_csr' };
    if (p.state === 'issued' || p.state === 'delivered') {
      p.state = 'delivered';
      const e = { ...base, action: 'install', certificate: p.certificate, chain: p.chain };
      if (p.mode === 'server') Object.assign(e, { pkcs12: p.pkcs12, pkcs12_password: p.password });
      return e;
    }
    return { ...base, action: 'none' };
  }

  async function route(method, path, auth, body) {
    if (method !== 'POST') return error(405, 'method_not_allowed', 'POST only');
    if (path === '/device/v1/enroll') {
      const bad = shapeError(body, ['enroll_secret', 'serial', 'name']);
      if (bad) return error(400, 'invalid_request', bad);
      if (body.enroll_secret !== api.enrollSecret) {
        return error(401, 'unauthorized', 'invalid enroll secret');
      }
      const old = api.devices.get(body.serial);
      const dev = { id: old ? old.id : `dev-${randomBytes(4).toString('hex')}`,
        token: `cdd_${randomBytes(24).toString('base64url')}`, serial: body.serial,
        name: body.name };
      api.devices.set(body.serial, dev);
      return { status: 201, body: { device_id: dev.id, device_token: dev.token } };
    }
    if (!deviceFor(auth)) return error(401, 'unauthorized', 'invalid device token');
    if (path === '/device/v1/checkin') {
      const hooked = api.hooks.checkin && api.hooks.checkin(body);
      if (hooked) return hooked;
      const bad = shapeError(body, ['installed']);
      if (bad || !Array.isArray(body.installed)) return error(400, 'invalid_request', bad || 'installed');
      for (const item of body.installed) {
        const itemBad = shapeError(item, ['profile_id', 'sha256']);
        if (itemBad) return error(400, 'invalid_request', itemBad);
        const p = api.profiles.get(item.profile_id);
        if (p && p.certificate && p.state === 'delivered' && item.sha256 === certSha256(p.certificate)) {
          p.state = 'verified';
        }
      }
      return { status: 200, body: { profiles: [...api.profiles.values()].map(entryFor) } };
    }
    const m = /^\/device\/v1\/profiles\/([^/]+)\/(csr|ack)$/.exec(path);
    const p = m && api.profiles.get(m[1]);
    if (!p) return error(404, 'not_found', 'no such profile');
    if (m[2] === 'csr') {
      const hooked = api.hooks.csr && api.hooks.csr(body);
      if (hooked) return hooked;
      const bad = shapeError(body, ['generation', 'csr']);
      if (bad) return error(400, 'invalid_request', bad);
      if (body.generation !== p.generation) return error(409, 'stale_generation', 'stale generation');
      p.csr = body.csr;
      p.state = 'csr_received';
      if (p.autoIssue) await issueFromCsr(p, body.csr);
      return { status: 202, body: {} };
    }
    const hooked = api.hooks.ack && api.hooks.ack(body);
    if (hooked) return hooked;
    const bad = body && body.result === 'error'
      ? shapeError(body, ['generation', 'result', 'detail'])
      : shapeError(body, ['generation', 'result', 'sha256']);
    if (bad) return error(400, 'invalid_request', bad);
    if (body.generation !== p.generation) {
      return error(409, 'stale_generation', `generation ${body.generation} is not current`);
    }
    p.acks.push(body);
    if (body.result === 'error') {
      p.state = 'failed';
    } else if (body.sha256 === certSha256(p.certificate)) {
      p.state = 'verified';
    }
    return { status: 200, body: {} };
  }

  const server = https.createServer({ key: pki.tls.key, cert: pki.tls.cert }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      let reply;
      const text = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = undefined;
      }
      api.requests.push({ method: req.method, path: req.url, auth: req.headers.authorization,
        contentType: req.headers['content-type'], body });
      try {
        reply = body === undefined ? error(400, 'invalid_json', 'body is not JSON')
          : await route(req.method, req.url, req.headers.authorization, body);
      } catch (e) {
        reply = error(500, 'internal', String(e));
      }
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  api.connections = 0; // TLS connections accepted: keep-alive keeps this at 1 per run
  server.on('secureConnection', () => { api.connections += 1; });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `https://127.0.0.1:${server.address().port}`;
  api.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  /** Requests to path, in order. */
  api.requestsTo = (path) => api.requests.filter((r) => r.path === path);
  return api;
}
