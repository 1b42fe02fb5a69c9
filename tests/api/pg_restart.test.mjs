// The server survives a PostgreSQL restart: 503 `unavailable` while the
// database is down, never a crash, and back to 200 once it returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';

const pg = (...args) => execFileSync('bash', ['scripts/pg.sh', ...args], { encoding: 'utf8', env: { ...process.env, PG_FAST: '1' } }).trim();

test('PostgreSQL restart: readyz and requests follow the database', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'certdeploy-pg-'));
  chmodSync(dir, 0o755);
  const conninfo = pg('start', dir, 'certdeploy');
  t.after(() => { pg('stop', dir); rmSync(dir, { recursive: true, force: true }); });
  const srv = await startServer({ conninfo });
  try {
    assert.equal((await srv.request('GET', '/readyz', { token: null })).status, 200);
    assert.equal((await srv.request('GET', '/api/v1/tokens')).status, 200);

    pg('stop', dir);
    const r = await srv.request('GET', '/readyz', { token: null });
    assert.equal(r.status, 503);
    for (let i = 0; i < 5; i++) {
      const d = await srv.request('GET', '/api/v1/tokens');
      assert.equal(d.status, 503, d.text);
      assert.equal(d.json.error.code, 'unavailable');
    }
    assert.equal((await srv.request('GET', '/healthz', { token: null })).status, 200, 'still alive');

    pg('start', dir, 'certdeploy');
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i++) {
      ready = (await srv.request('GET', '/readyz', { token: null })).status;
      if (ready !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(ready, 200);
    // every pooled connection reconnects: enough requests to touch them all
    for (let i = 0; i < 20; i++) {
      const ok = await srv.request('GET', '/api/v1/tokens');
      assert.equal(ok.status, 200, ok.text);
    }
    const c = await srv.request('POST', '/api/v1/tokens', { body: { name: 'after-restart', role: 'observer' } });
    assert.equal(c.status, 201, c.text);
  } finally {
    await srv.stop();
  }
});
