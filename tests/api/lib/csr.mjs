// Keys, CSRs and certificate inspection through the openssl CLI, for node tests.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const KEY_ARGS = {
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
  ec256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
  ec384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'],
};

/** Runs openssl with args, feeding input on stdin; resolves stdout. */
export async function openssl(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * A fresh private key and PKCS#10 CSR with subject CN=cn.
 * keyType: 'rsa2048' (default 'ec256'), 'rsa1024' (too weak on purpose), 'ec256', 'ec384'.
 * Resolves {csrPem, keyPem}.
 */
export async function makeCsr({ cn = 'certdeploy-test', keyType = 'ec256' } = {}) {
  const keyArgs = KEY_ARGS[keyType];
  if (!keyArgs) throw new Error(`unknown keyType ${keyType}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certdeploy-csr-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const csrFile = path.join(dir, 'req.csr');
    await run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', keyFile, '-subj', `/CN=${cn}`, '-out', csrFile]);
    return { csrPem: await readFile(csrFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same CSR with one byte of its signed subject changed, so its signature fails. */
export function tamperCsr(csrPem) {
  const b64 = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  // 0x06 0x03 0x55 0x04 0x03 = OID commonName; its value follows as tag, length, bytes.
  const at = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]));
  if (at < 0) throw new Error('CSR has no CN to tamper with');
  der[at + 7] ^= 0x01;
  const lines = der.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** PEM SubjectPublicKeyInfo of a CSR (normalized by openssl). */
export function csrPublicKey(csrPem) {
  return openssl(['req', '-noout', '-pubkey'], csrPem);
}

/** PEM SubjectPublicKeyInfo of a certificate (normalized by openssl). */
export function certPublicKey(certPem) {
  return openssl(['x509', '-noout', '-pubkey'], certPem);
}

/** openssl's text of the subjectAltName extension ('' when absent). */
export function certSubjectAltName(certPem) {
  return openssl(['x509', '-noout', '-ext', 'subjectAltName'], certPem);
}

/** A self-signed TLS pair for 127.0.0.1 written to dir; resolves {certFile, keyFile, certPem}. */
export async function makeTlsPair(dir) {
  const certFile = path.join(dir, 'tls.pem');
  const keyFile = path.join(dir, 'tls.key');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
}
