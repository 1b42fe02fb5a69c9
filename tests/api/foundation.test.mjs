// The foundation: TLS server, health, tokens, the error model, logs,
// bootstrap, several instances on one database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startServer, createDatabase, newAdminToken, psql } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

function assertError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 10, 'the message tells what to do');
}

test('health and readiness answer without a token', async () => {
  const h = await srv.request('GET', '/healthz', { token: null });
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await srv.request('GET', '/readyz', { token: null });
  assert.equal(r.status, 200);
  assert.equal(r.json.database, 'up');
});

test('tokens: create, list without secrets, use, delete', async () => {
  const c = await srv.request('POST', '/api/v1/tokens', { body: { name: 'ci gate', role: 'observer' } });
  assert.equal(c.status, 201, c.text);
  assert.match(c.json.token, /^cdt_[A-Za-z0-9_-]{40,}$/);
  assert.equal(c.json.role, 'observer');
  assert.match(c.json.id, /^[0-9a-f-]{36}$/);
  assert.match(c.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  const l = await srv.request('GET', '/api/v1/tokens');
  assert.equal(l.status, 200);
  const found = l.json.tokens.find((t) => t.id === c.json.id);
  assert.deepEqual(Object.keys(found).sort(), ['created_at', 'id', 'name', 'role']);
  assert.ok(!l.text.includes(c.json.token), 'list never shows a token');

  // the observer reads but may not write
  const r = await srv.request('GET', '/api/v1/tokens', { token: c.json.token });
  assert.equal(r.status, 200);
  const w = await srv.request('POST', '/api/v1/tokens', { token: c.json.token, body: { name: 'x', role: 'admin' } });
  assertError(w, 403, 'forbidden');

  // stored only as a hash
  const stored = srv.sql(`SELECT count(*) FROM api_tokens WHERE token_hash = encode(sha256('${c.json.token}'::bytea), 'hex')`);
  assert.equal(stored, '1');
  const dump = srv.sql(`SELECT string_agg(t::text, ' ') FROM api_tokens t`);
  assert.ok(!dump.includes(c.json.token), 'no plain token in the database');

  const d = await srv.request('DELETE', `/api/v1/tokens/${c.json.id}`);
  assert.equal(d.status, 204);
  const again = await srv.request('GET', '/api/v1/tokens', { token: c.json.token });
  assertError(again, 401, 'unauthorized');
  const d2 = await srv.request('DELETE', `/api/v1/tokens/${c.json.id}`);
  assertError(d2, 404, 'not_found');
  const bad = await srv.request('DELETE', '/api/v1/tokens/not-a-uuid');
  assertError(bad, 400, 'invalid_request');
});

test('tokens: bad roles and names are refused with the field', async () => {
  const r = await srv.request('POST', '/api/v1/tokens', { body: { name: 'x', role: 'root' } });
  assertError(r, 400, 'invalid_request');
  assert.equal(r.json.error.field, 'role');
  const n = await srv.request('POST', '/api/v1/tokens', { body: { name: '', role: 'admin' } });
  assertError(n, 400, 'invalid_request');
  assert.equal(n.json.error.field, 'name');
  const t = await srv.request('POST', '/api/v1/tokens', { body: { name: 5, role: 'admin' } });
  assert.equal(t.json.error.field, 'name');
  const m = await srv.request('POST', '/api/v1/tokens', { body: { role: 'admin' } });
  assert.equal(m.json.error.field, 'name');
});

test('tokens: pages are stable and complete', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const c = await srv.request('POST', '/api/v1/tokens', { body: { name: `page-${i}`, role: 'observer' } });
    ids.push(c.json.id);
  }
  const seen = [];
  let cursor = null;
  for (let round = 0; round < 20; round++) {
    const q = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
    const p = await srv.request('GET', `/api/v1/tokens${q}`);
    assert.equal(p.status, 200);
    assert.ok(p.json.tokens.length <= 2);
    seen.push(...p.json.tokens.map((t) => t.id));
    if (round === 0) {
      // an insert between pages does not shift later pages
      await srv.request('POST', '/api/v1/tokens', { body: { name: 'late', role: 'observer' } });
    }
    cursor = p.json.next_cursor;
    if (!cursor) break;
  }
  for (const id of ids) assert.ok(seen.includes(id));
  assert.equal(new Set(seen).size, seen.length, 'no token shown twice');
  assertError(await srv.request('GET', '/api/v1/tokens?limit=0'), 400, 'invalid_request');
  assertError(await srv.request('GET', '/api/v1/tokens?limit=abc'), 400, 'invalid_request');
  assertError(await srv.request('GET', '/api/v1/tokens?cursor=zz'), 400, 'invalid_request');
});

test('error model: every bad request gets its error body', async () => {
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: '{"name": "x",', contentType: 'application/json' }), 400, 'invalid_json');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: '[1,2]', contentType: 'application/json' }), 400, 'invalid_json');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: '{"name":"a","name":"b","role":"admin"}', contentType: 'application/json' }), 400, 'invalid_json');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: '{"name":"a\\u0000b","role":"admin"}', contentType: 'application/json' }), 400, 'invalid_json');
  const unknown = await srv.request('POST', '/api/v1/tokens', { body: { name: 'x', role: 'admin', admin: true } });
  assertError(unknown, 400, 'invalid_request');
  assert.equal(unknown.json.error.field, 'admin');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: 'x'.repeat(1024 * 1024 + 1), contentType: 'application/json' }), 413, 'payload_too_large');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: 'name=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  assertError(await srv.request('POST', '/api/v1/tokens', { raw: '{"name":"x","role":"admin"}', contentType: 'text/plain' }), 415, 'unsupported_media_type');
  assertError(await srv.request('GET', '/api/v1/tokens', { token: null }), 401, 'unauthorized');
  assertError(await srv.request('GET', '/api/v1/tokens', { token: 'cdt_nope' }), 401, 'unauthorized');
  assertError(await srv.request('GET', '/api/v1/tokens', { headers: { Authorization: 'Basic YTpi' }, token: null }), 401, 'unauthorized');
  assertError(await srv.request('GET', '/api/v1/tokens', { token: 'cdd_a-device-token' }), 401, 'unauthorized');
  assertError(await srv.request('GET', '/api/v1/nothing-here'), 404, 'not_found');
  const m = await srv.request('PUT', '/api/v1/tokens');
  assertError(m, 405, 'method_not_allowed');
  assert.match(m.headers.allow, /GET/);
  assert.match(m.headers.allow, /POST/);
  // and the server is still healthy
  assert.equal((await srv.request('GET', '/healthz')).status, 200);
});

test('one JSON log line per request with id, route, status, duration, actor; no token', async () => {
  const r = await srv.request('GET', '/api/v1/tokens', { headers: { 'X-Request-Id': 'trace-abc-123' } });
  assert.equal(r.headers['x-request-id'], 'trace-abc-123');
  await new Promise((res) => setTimeout(res, 100));
  const line = srv.logLines().find((l) => l.request_id === 'trace-abc-123');
  assert.ok(line, 'a line for the request');
  assert.equal(line.msg, 'request');
  assert.equal(line.route, '/api/v1/tokens');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(line.actor, 'admin:bootstrap');
  assert.ok(!srv.logs().includes(srv.token), 'the token never appears in the log');
});

test('TLS 1.2 or newer only', async () => {
  const attempt = (maxVersion) => new Promise((resolve) => {
    const req = https.request(new URL('/healthz', srv.url), { ca: srv.caPem, minVersion: 'TLSv1', maxVersion, agent: false }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve('refused'));
    req.end();
  });
  assert.equal(await attempt('TLSv1.2'), 200);
  assert.equal(await attempt('TLSv1.3'), 200);
  assert.equal(await attempt('TLSv1.1'), 'refused');
});

test('bootstrap: without a token one is generated and printed once', async () => {
  const conninfo = createDatabase();
  const s1 = await startServer({ conninfo, env: { CERTDEPLOY_BOOTSTRAP_TOKEN: '' } });
  const m = s1.stdout().match(/admin API token \(shown once, store it now\): (cdt_\S+)/);
  assert.ok(m, s1.stdout());
  assert.equal((await s1.request('GET', '/api/v1/tokens', { token: m[1] })).status, 200);
  assert.ok(!s1.logs().includes(m[1]), 'the generated token is not in the log');
  await s1.stop();
  const s2 = await startServer({ conninfo, env: { CERTDEPLOY_BOOTSTRAP_TOKEN: '' } });
  assert.ok(!/admin API token/.test(s2.stdout()), 'printed only once');
  assert.equal((await s2.request('GET', '/api/v1/tokens', { token: m[1] })).status, 200);
  await s2.stop();
});

test('a malformed bootstrap token stops the start with a hint', async () => {
  await assert.rejects(startServer({ token: 'short' }), /CERTDEPLOY_BOOTSTRAP_TOKEN must start with 'cdt_'/);
});

test('two instances started at the same moment on one database both come up', async () => {
  const conninfo = createDatabase();
  const token = newAdminToken();
  const started = await Promise.allSettled([startServer({ conninfo, token }), startServer({ conninfo, token })]);
  const up = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  if (up.length < 2) {
    await Promise.all(up.map((x) => x.stop()));
    assert.fail(`an instance did not come up: ${started.filter((r) => r.status === 'rejected').map((r) => r.reason.message).join('; ')}`);
  }
  const [a, b] = up;
  assert.equal((await a.request('GET', '/api/v1/tokens')).status, 200);
  assert.equal((await b.request('GET', '/api/v1/tokens')).status, 200);
  assert.equal(psql(conninfo, 'SELECT count(*) FROM api_tokens'), '1', 'one bootstrap token');
  assert.equal(psql(conninfo, "SELECT count(*) FROM schema_migrations WHERE version = '0001_init'"), '1');
  await Promise.all([a.stop(), b.stop('SIGINT')]);
});
