// The README's quick start, run as written: scripts/run.sh (what `make run`
// runs after building) with its own PostgreSQL cluster, mock CA and server,
// then every shell block of README.md that is marked as tested, against it.
// A README edit that breaks the quick start fails here.
//
// The blocks name the defaults (ports 8443 and 8444, var/, /tmp/dev1); the
// test runs them in a scratch directory where var/ and build/ are links to
// this run's, with the ports and the device directory replaced by free ones.
// Nothing else in the block is changed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = resolve(ROOT, process.env.CERTDEPLOY_BUILD || 'build');
const MARK = '<!-- tests/api/readme.test.mjs runs this block';

/** The ```sh blocks of README.md preceded by the marker line. */
export function testedBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith(MARK)) continue;
    assert.equal(lines[i + 1], '```sh', `README.md line ${i + 2}: the marker must be followed by a sh block`);
    const end = lines.indexOf('```', i + 2);
    assert.ok(end > 0, `README.md line ${i + 2}: unterminated block`);
    blocks.push({ line: i + 3, text: lines.slice(i + 2, end).join('\n') });
    i = end;
  }
  return blocks;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** Runs a command; resolves { code, stdout, stderr }. */
function run(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180000);
    child.on('error', rej);
    child.on('close', (code) => { clearTimeout(timer); res({ code, stdout, stderr }); });
  });
}

let work;
let runDir;
let makeRun;
let makeRunOut = '';
let serverPort;
let mockPort;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'certdeploy-readme-'));
  chmodSync(work, 0o755); // the cluster runs as postgres under root
  runDir = join(work, 'var');
  serverPort = await freePort();
  mockPort = await freePort();
  makeRun = spawn('bash', ['scripts/run.sh'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? work,
      PG_FAST: '1',
      CERTDEPLOY_RUN_DIR: runDir,
      CERTDEPLOY_LISTEN: `127.0.0.1:${serverPort}`,
      CERTDEPLOY_MOCKCA_LISTEN: `127.0.0.1:${mockPort}`,
      CERTDEPLOY_BUILD: BUILD,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0',
    },
  });
  makeRun.stdout.on('data', (d) => { makeRunOut += d; });
  makeRun.stderr.on('data', (d) => { makeRunOut += d; });
  const deadline = Date.now() + 120000;
  while (!makeRunOut.includes('certdeploy is running.')) {
    assert.equal(makeRun.exitCode, null, `scripts/run.sh exited early:\n${makeRunOut}`);
    assert.ok(Date.now() < deadline, `scripts/run.sh printed no "certdeploy is running." in 120 s:\n${makeRunOut}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  if (makeRun && makeRun.exitCode === null) {
    const closed = new Promise((r) => makeRun.once('close', r));
    process.kill(-makeRun.pid, 'SIGINT'); // Ctrl-C, as a user stops it
    await Promise.race([closed, new Promise((r) => setTimeout(r, 30000))]);
    if (makeRun.exitCode === null) process.kill(-makeRun.pid, 'SIGKILL');
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('make run prints the dashboard URL and the admin token', () => {
  assert.match(makeRunOut, new RegExp(`dashboard: +https://127\\.0\\.0\\.1:${serverPort}/`));
  const token = readFileSync(join(runDir, 'admin-token'), 'utf8').trim();
  assert.ok(makeRunOut.includes(`admin token: ${token}`), makeRunOut);
  assert.match(makeRunOut, /added the local mock CA/);
});

test('the quick start\'s device block runs as written: verified, then a sticky failure', async () => {
  const blocks = testedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 1, 'README.md marks no block as tested');
  const cwd = join(work, 'cwd');
  mkdirSync(cwd);
  symlinkSync(runDir, join(cwd, 'var'));
  symlinkSync(BUILD, join(cwd, 'build'));
  const devDir = join(work, 'dev1');
  // A real CA takes seconds to issue; so does this one now, so that the block
  // must wait for the certificate as a user's would.
  const slow = await run('curl', ['-sf', '-X', 'POST', `http://127.0.0.1:${mockPort}/_mock/latency`, '-d', '{"ms":1500}']);
  assert.equal(slow.code, 0, slow.stderr);
  for (const b of blocks) {
    const script = b.text
      .replaceAll('127.0.0.1:8443', `127.0.0.1:${serverPort}`)
      .replaceAll('127.0.0.1:8444', `127.0.0.1:${mockPort}`)
      .replaceAll('/tmp/dev1', devDir);
    const r = await run('bash', ['-euo', 'pipefail', '-c', script], { cwd, timeoutMs: 240000 });
    assert.equal(r.code, 0, `README.md block at line ${b.line} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    // What the block's comments promise.
    assert.match(r.stdout, /"verified":1/, `the status after the first check-in is not verified:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /checkin exited 1/, `the check-in after the refused resend did not exit 1:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Seat limit reached/, `the agent did not print the CA's refusal:\n${r.stderr}`);
    assert.match(r.stdout, /gate exited 1/, `certdeployctl's --fail-on gate did not exit 1:\n${r.stdout}\n${r.stderr}`);
    const last = r.stdout.trim().split('\n').at(-1);
    assert.match(last, /"failed":1/, `the last status is not failed:\n${r.stdout}`);
  }
  // The gate's status code, which the block's curl -s does not show.
  const token = readFileSync(join(runDir, 'admin-token'), 'utf8').trim();
  const gate = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', join(runDir, 'tls.crt'),
    '-H', `Authorization: Bearer ${token}`, `https://127.0.0.1:${serverPort}/api/v1/status?fail_on=failed`]);
  assert.equal(gate.stdout, '503');
});

test('a second make run while the first is running stops at once, naming the setting', async () => {
  const r = await run('bash', ['scripts/run.sh'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, CERTDEPLOY_RUN_DIR: join(work, 'var2'), CERTDEPLOY_BUILD: BUILD,
      CERTDEPLOY_LISTEN: `127.0.0.1:${serverPort}`, CERTDEPLOY_MOCKCA_LISTEN: `127.0.0.1:${await freePort()}` },
    timeoutMs: 20000,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^make run: 127\\.0\\.0\\.1:${serverPort} is already in use by another program.*CERTDEPLOY_LISTEN=`));
  assert.equal(r.stderr.trim().split('\n').length, 1, `more than one line:\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.ok(!existsSync(join(work, 'var2')), 'the refused run created its directory');
});
