// Repeated authentication and enrollment failures from one address are
// answered 429 with Retry-After; nothing is looked up meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

test('failed tokens and enroll secrets are rate-limited per address', async () => {
  const srv = await startServer({ env: { CERTDEPLOY_AUTH_FAILURE_LIMIT: '5' } });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await srv.request('GET', '/api/v1/tokens', { token: `cdt_guess${i}` })).status, 401);
    }
    assert.equal((await srv.request('POST', '/device/v1/checkin', { token: 'cdd_guess', body: {} })).status, 401);
    assert.equal((await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_guess', serial: 'x' } })).status, 401);
    const limited = await srv.request('GET', '/api/v1/tokens', { token: 'cdt_guess-again' });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const enroll = await srv.request('POST', '/device/v1/enroll', { token: null, body: { enroll_secret: 'cde_guess', serial: 'x' } });
    assert.equal(enroll.status, 429);
    // the address is blocked for every credential until the window ends; public routes still answer
    assert.equal((await srv.request('GET', '/api/v1/tokens')).status, 429);
    assert.equal((await srv.request('GET', '/healthz', { token: null })).status, 200);
  } finally {
    await srv.stop();
  }
});
