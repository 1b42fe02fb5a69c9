// `make install` as an admin and a packager use it: the layout under PREFIX
// and DESTDIR, systemd units that systemd-analyze verify accepts, settings
// never overwritten, installed binaries that answer --version, and one clear
// line (nothing half-installed) when the destination cannot be written. Also
// the setup scripts' refusals: no PostgreSQL server binaries, an unknown
// dependency layer. Needs no database.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = resolve(ROOT, process.env.CERTDEPLOY_BUILD || 'build');
const PROGRAMS = { certdeployd: 'sbin', 'certdeploy-agent': 'bin', 'certdeploy-mockca': 'bin', certdeployctl: 'bin' };

let work;

/** Runs scripts/install.sh with the given variables; returns spawnSync's result. */
function install(vars) {
  return spawnSync('bash', ['scripts/install.sh'], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, BUILD, ...vars },
  });
}

/** Every file under dir, relative to it. */
function tree(dir, prefix = '') {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'certdeploy-install-'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('make install with DESTDIR stages the layout, with paths naming PREFIX only', () => {
  const dest = join(work, 'stage');
  // the Makefile's own build directory for this layer (build or build/sanitize)
  const flavour = BUILD.endsWith('sanitize') ? ['SANITIZE=1'] : [];
  const r = spawnSync('make', ['--no-print-directory', '-s', ...flavour, `DESTDIR=${dest}`, 'PREFIX=/usr', 'install'],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const files = tree(dest);
  for (const [name, dir] of Object.entries(PROGRAMS)) {
    const path = join(dest, 'usr', dir, name);
    assert.ok(statSync(path).mode & 0o111, `${path} is not executable`);
  }
  assert.ok(files.includes('usr/share/certdeploy/web-ui/index.html'), files.join('\n'));
  for (const page of ['man8/certdeployd.8', 'man1/certdeploy-agent.1', 'man1/certdeploy-mockca.1', 'man1/certdeployctl.1']) {
    assert.ok(files.includes(`usr/share/man/${page}`), `no man page ${page}:\n${files.join('\n')}`);
  }
  for (const unit of ['certdeployd.service', 'certdeploy-agent.service', 'certdeploy-agent.timer']) {
    const text = readFileSync(join(dest, 'usr/lib/systemd/system', unit), 'utf8');
    assert.doesNotMatch(text, /@[A-Z]+@/, `${unit} has an unsubstituted placeholder`);
    assert.ok(!text.includes(dest), `${unit} names the staging directory`);
  }
  const server = readFileSync(join(dest, 'usr/lib/systemd/system/certdeployd.service'), 'utf8');
  assert.match(server, /^ExecStart=\/usr\/sbin\/certdeployd$/m);
  assert.match(server, /^EnvironmentFile=\/etc\/certdeploy\/certdeployd\.env$/m);
  assert.match(server, /^Environment=CERTDEPLOY_WEB_DIR=\/usr\/share\/certdeploy\/web-ui$/m);
  for (const line of ['StateDirectory=certdeploy', 'DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'PrivateTmp=yes']) {
    assert.ok(server.split('\n').includes(line), `certdeployd.service lacks ${line}`);
  }
  const env = join(dest, 'etc/certdeploy/certdeployd.env');
  assert.equal(statSync(env).mode & 0o777, 0o600);
  assert.match(readFileSync(env, 'utf8'), /^CERTDEPLOY_DATABASE_URL=/m);
});

test('systemd-analyze verify accepts the installed units', () => {
  const prefix = join(work, 'usr');
  const r = install({ PREFIX: prefix, SYSCONFDIR: join(work, 'etc') });
  assert.equal(r.status, 0, r.stderr);
  const units = join(prefix, 'lib/systemd/system');
  const files = ['certdeployd.service', 'certdeploy-agent.service', 'certdeploy-agent.timer'].map((u) => join(units, u));
  const v = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8', env: { ...process.env, MANPATH: join(prefix, 'share/man') } });
  assert.equal(v.error, undefined, 'systemd-analyze is missing: scripts/install-deps.sh test installs systemd');
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.equal(v.stderr.trim(), '', `systemd-analyze warned:\n${v.stderr}`);
});

test('installed binaries answer --version with the one version', () => {
  const prefix = join(work, 'usr');
  const versions = Object.entries(PROGRAMS).map(([name, dir]) => {
    const r = spawnSync(join(prefix, dir, name), ['--version'], { encoding: 'utf8', env: {} });
    assert.equal(r.status, 0, `${name} --version: ${r.stderr}`);
    const m = r.stdout.match(new RegExp(`^${name} (\\S+)\\n$`));
    assert.ok(m, `${name} --version printed ${JSON.stringify(r.stdout)}`);
    return m[1];
  });
  assert.equal(new Set(versions).size, 1, versions.join(' '));
  const header = readFileSync(join(ROOT, 'lib/version.h'), 'utf8').match(/#define CERTDEPLOY_VERSION "([^"]+)"/);
  assert.equal(versions[0], header[1]);
});

test('a second install keeps the admin\'s settings', () => {
  const prefix = join(work, 'usr');
  const env = join(work, 'etc/certdeploy/certdeployd.env');
  writeFileSync(env, 'CERTDEPLOY_DATABASE_URL=host=db.example dbname=mine\n');
  const r = install({ PREFIX: prefix, SYSCONFDIR: join(work, 'etc') });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kept .*certdeployd\.env \(yours\)/);
  assert.equal(readFileSync(env, 'utf8'), 'CERTDEPLOY_DATABASE_URL=host=db.example dbname=mine\n');
});

test('a DESTDIR that cannot be written: one line, non-zero, nothing installed', () => {
  // /proc refuses new entries even to root
  const r = install({ DESTDIR: '/proc/certdeploy-install-test' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^make install: cannot write to \/proc /);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

  const file = join(work, 'a-file');
  writeFileSync(file, '');
  const f = install({ DESTDIR: file });
  assert.notEqual(f.status, 0);
  assert.match(f.stderr, /is not a directory/);
  assert.equal(readFileSync(file, 'utf8'), '');

  // the unit directory blocked by a file, after the others were made: they are removed again
  const part = join(work, 'part');
  install({ DESTDIR: part, PREFIX: '/nothing' }); // makes part/
  rmSync(join(part, 'nothing'), { recursive: true });
  rmSync(join(part, 'etc'), { recursive: true });
  writeFileSync(join(part, 'units'), '');
  const made = install({ DESTDIR: part, PREFIX: '/usr', UNITDIR: '/units/system' });
  assert.notEqual(made.status, 0);
  assert.match(made.stderr, /units is not a directory/);
  assert.deepEqual(tree(part), ['units'], 'something was left of the failed install');
});

test('pg.sh without PostgreSQL server binaries says what to install', () => {
  const r = spawnSync('bash', ['scripts/pg.sh', 'start', join(work, 'pg')], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, PGBIN: join(work, 'no-such-dir') },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^pg\.sh: no PostgreSQL server binaries .*install the 'postgresql' package/);
  assert.ok(!existsSync(join(work, 'pg', 'data')));
});

test('install-deps.sh refuses an unknown layer', () => {
  const r = spawnSync('bash', ['scripts/install-deps.sh', 'everything'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown layer 'everything' \(run, test or bench\)/);
});
