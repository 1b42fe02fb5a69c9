// GET /api/v1/deployments: every deployment of the fleet, filtered (ANDed),
// in creation order and keyset pages like the other lists, and with
// Accept: text/csv the whole filtered set as one CSV export that is made
// while it is sent. Bad filter values are 400 naming the parameter. An
// export the client interrupts (while the server sends it, or while its
// query waits on a lock) leaves the server healthy and nothing running in
// PostgreSQL. Devices and deployments are seeded with SQL through the
// guarded transitions, as in admin_reads.test.mjs; pending rows are parked
// so the worker leaves them alone.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { validateReply } from './lib/openapi.mjs';
import { psqlSession } from './lib/psql_session.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEADER = ['device_id', 'device_serial', 'device_name', 'profile_id', 'profile_name', 'status',
  'failure_source', 'detail', 'attempts', 'next_attempt_at', 'generation', 'updated_at',
  'issued_serial', 'issued_not_before', 'issued_not_after', 'issued_sha256', 'issued_valid',
  'installed_serial', 'installed_not_before', 'installed_not_after', 'installed_sha256', 'installed_valid'];

function assertError(res, status, code, field) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.ok(res.json.error.message.length > 10, 'the message tells what to do');
  if (field !== undefined) assert.equal(res.json.error.field, field, res.text);
}

/** RFC 4180 text into rows of fields; every row must end with CRLF. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        assert.ok(i < text.length, 'a quoted field ends');
        if (text[i] === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (text[i] === '"') { i++; break; } else field += text[i];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') field += text[i++];
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    assert.equal(text.slice(i, i + 2), '\r\n', `row ${rows.length + 1} ends with CRLF`);
    i += 2;
    rows.push(row);
    row = [];
  }
  return rows;
}

/** A seeded fleet on srv: CA, profiles, devices, deployments walked by allowed transitions. */
function seeder(srv) {
  let caId;
  const ca = () => (caId ??= srv.sql(`INSERT INTO cas (name, type, url, api_token_sealed, profile_id)
      VALUES ('ca-${randomBytes(3).toString('hex')}', 'digicert', 'http://127.0.0.1:1', 'sealed', 'p') RETURNING id`));
  return {
    profile(name) {
      return { id: srv.sql(`INSERT INTO profiles (name, ca_id, common_name, seat_id)
        VALUES (${lit(name)}, '${ca()}', 'cn', 'seat') RETURNING id`), name };
    },
    device(serial, name = '') {
      return { id: srv.sql(`INSERT INTO devices (serial, name, token_hash)
        VALUES (${lit(serial)}, ${lit(name)}, '${sha256(randomBytes(8).toString('hex'))}') RETURNING id`), serial, name };
    },
    /** o: source (failed), expiresIn (SQL interval of the installed certificate's not_after). */
    deployment(dev, prof, status, o = {}) {
      const where = `WHERE device_id = '${dev.id}' AND profile_id = '${prof.id}'`;
      const q = [`INSERT INTO deployments (device_id, profile_id, next_attempt_at)
        VALUES ('${dev.id}', '${prof.id}', now() + interval '10 years')`];
      const installed = () => {
        q.push(`UPDATE deployments SET status = 'verifying' ${where}`);
        q.push(`UPDATE deployments SET status = 'verified', installed_serial = '0A0B',
          installed_sha256 = repeat('c', 64), installed_not_before = now() - interval '400 days',
          installed_not_after = now() + interval ${lit(o.expiresIn)} ${where}`);
      };
      if (status === 'verifying') q.push(`UPDATE deployments SET status = 'verifying' ${where}`);
      if (status === 'verified') installed();
      if (status === 'failed') {
        if (o.expiresIn) {
          installed();
          q.push(`UPDATE deployments SET status = 'pending', generation = generation + 1,
            next_attempt_at = now() + interval '10 years' ${where}`);
        }
        q.push(`UPDATE deployments SET status = 'failed', failure_source = ${lit(o.source || 'server')},
          detail = 'Couldn''t get certificate from ca: denied, "seat" limit' ${where}`);
      }
      srv.sql(q.join('; '));
      return { device: dev, profile: prof, status, source: status === 'failed' ? o.source || 'server' : null, expiresIn: o.expiresIn };
    },
  };
}

const key = (d) => `${d.device_id ?? d.device.id}/${d.profile_id ?? d.profile.id}`;

describe('the fleet-wide list', () => {
  let srv;
  let observer;
  let pA;
  let pB;
  const made = []; // in creation order
  const days = (n) => `${n} days`;

  async function get(path, o = {}) {
    const res = await srv.request('GET', path, o);
    validateReply('GET', path, res);
    return res;
  }
  /** Every page, following next_cursor. */
  async function allPages(query, limit) {
    const seen = [];
    let cursor = null;
    for (let i = 0; i < 200; i++) {
      const r = await get(`/api/v1/deployments?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.deployments.length <= limit);
      seen.push(...r.json.deployments);
      cursor = r.json.next_cursor;
      if (cursor === null) return seen;
    }
    throw new Error('pages never ended');
  }
  const keys = async (query) => (await allPages(query, 500)).map(key);
  const expect = (pred) => made.filter(pred).map(key);

  before(async () => {
    srv = await startServer();
    const t = await srv.request('POST', '/api/v1/tokens', { body: { name: 'reader', role: 'observer' } });
    observer = t.json.token;
    const s = seeder(srv);
    pA = s.profile('Wi-Fi');
    pB = s.profile('VPN, "corp"');
    const d1 = s.device('SN-1', 'Lab, "north" wing');
    const d2 = s.device('SN-2', 'two\nlines');
    const d3 = s.device('SN-3', '=HYPERLINK("http://x")');
    const d4 = s.device('sn_4%', 'plain');
    const d5 = s.device('-5', '@home');
    made.push(
      s.deployment(d1, pA, 'verified', { expiresIn: days(10) }),
      s.deployment(d1, pB, 'failed', { source: 'server', expiresIn: days(300) }),
      s.deployment(d2, pA, 'failed', { source: 'device' }),
      s.deployment(d2, pB, 'pending'),
      s.deployment(d3, pA, 'verifying'),
      s.deployment(d3, pB, 'verified', { expiresIn: days(100) }),
      s.deployment(d4, pA, 'verified', { expiresIn: '-1 days' }),
      s.deployment(d5, pB, 'failed', { source: 'server', expiresIn: days(5) }),
    );
  });
  after(async () => { await srv?.stop(); });

  test('every deployment, in creation order, as the deployment object with its device', async () => {
    const r = await get('/api/v1/deployments', { token: observer });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.next_cursor, null);
    assert.deepEqual(r.json.deployments.map(key), made.map(key));
    const one = r.json.deployments[0];
    assert.match(one.device_id, UUID);
    const single = await srv.request('GET', `/api/v1/devices/${one.device_id}/profiles/${one.profile_id}`);
    assert.deepEqual(one, { ...single.json, device_serial: 'SN-1', device_name: 'Lab, "north" wing' },
      'the same object as the single deployment, with device_serial and device_name');
    assert.equal(r.json.deployments[2].device_name, 'two\nlines');
  });

  test('each filter, and filters together (AND)', async () => {
    const exp = (d) => (d.expiresIn ? parseInt(d.expiresIn, 10) : null);
    assert.deepEqual(await keys('&status=failed'), expect((d) => d.status === 'failed'));
    assert.deepEqual(await keys('&status=pending'), expect((d) => d.status === 'pending'));
    assert.deepEqual(await keys(`&profile_id=${pB.id}`), expect((d) => d.profile === pB));
    assert.deepEqual(await keys(`&profile_id=${pA.id}&status=failed`),
      expect((d) => d.profile === pA && d.status === 'failed'));
    assert.deepEqual(await keys('&failure_source=device'), expect((d) => d.source === 'device'));
    assert.deepEqual(await keys('&failure_source=server&status=failed'), expect((d) => d.source === 'server'));
    assert.deepEqual(await keys('&failure_source=server&status=verified'), []);
    const soon = new Date(Date.now() + 30 * 86400e3).toISOString();
    assert.deepEqual(await keys(`&expires_before=${soon}`), expect((d) => exp(d) !== null && exp(d) < 30),
      'installed certificates expiring in 30 days, the expired one too; none installed: not listed');
    assert.deepEqual(await keys(`&expires_before=${soon}&status=failed`),
      expect((d) => exp(d) !== null && exp(d) < 30 && d.status === 'failed'));
    // the same instant with an offset
    const at = new Date(Date.now() + 50 * 86400e3);
    const utc = at.toISOString().replace(/\.\d+Z$/, 'Z');
    const plus2 = new Date(at.getTime() + 2 * 3600e3).toISOString().replace(/\.\d+Z$/, '+02:00');
    assert.deepEqual(await keys(`&expires_before=${encodeURIComponent(plus2)}`), await keys(`&expires_before=${utc}`));
    assert.deepEqual(await keys('&q=sn-'), expect((d) => /^SN-/.test(d.device.serial)), 'q: case-insensitive');
    assert.deepEqual(await keys('&q=NORTH'), expect((d) => d.device.serial === 'SN-1'), 'q: the name too');
    assert.deepEqual(await keys('&q=_4%25'), expect((d) => d.device.serial === 'sn_4%'), 'q: % and _ literally');
    assert.deepEqual(await keys('&q=S_-'), [], 'q: _ is no wildcard');
    assert.deepEqual(await keys(`&q=sn&status=failed&profile_id=${pA.id}`),
      expect((d) => d.status === 'failed' && d.profile === pA));
    assert.deepEqual(await keys(`&profile_id=${randomUUID()}`), [], 'an unknown profile: none');
    assert.deepEqual(await keys('&q='), made.map(key), 'an empty q: no filter');
  });

  test('pages: each deployment once, in order, while deployments change and are added', async () => {
    const pages = await allPages('', 3);
    assert.deepEqual(pages.map(key), made.map(key));
    assert.deepEqual((await allPages('&status=failed', 1)).map(key), expect((d) => d.status === 'failed'));

    const first = await get('/api/v1/deployments?limit=3');
    assert.equal(first.json.deployments.length, 3);
    // a deployment on the first page and one on a later page are renewed
    // (a new generation, parked), and a new one is added: the rest of the
    // pages still list each once
    for (const d of [made[0], made[5]]) {
      srv.sql(`UPDATE deployments SET status = 'pending', generation = generation + 1,
        next_attempt_at = now() + interval '10 years'
        WHERE device_id = '${d.device.id}' AND profile_id = '${d.profile.id}'`);
    }
    const s = seeder(srv);
    const late = s.deployment(s.device('SN-LATE', 'late'), pA, 'pending');
    const rest = [];
    let cursor = first.json.next_cursor;
    while (cursor) {
      const r = await get(`/api/v1/deployments?limit=3&cursor=${cursor}`);
      rest.push(...r.json.deployments);
      cursor = r.json.next_cursor;
    }
    assert.deepEqual([...first.json.deployments, ...rest].map(key), [...made, late].map(key));
    assert.equal(rest.find((d) => key(d) === key(made[5])).status, 'pending');
    made.push(late);
    made[0].status = made[5].status = 'pending';
  });

  test('bad filter values, times, pages and cursors are 400 naming the parameter', async () => {
    const bad = async (query, field) => {
      const r = await get(`/api/v1/deployments?${query}`);
      assertError(r, 400, 'invalid_request', field);
    };
    await bad('status=broken', 'status');
    await bad('status=', 'status');
    await bad('profile_id=42', 'profile_id');
    await bad('failure_source=ca', 'failure_source');
    await bad('failure_source=', 'failure_source');
    for (const t of ['tomorrow', '2027-01-01', '2027-01-01T00:00:00', '2027-02-30T00:00:00Z', '2027-01-01T24:00:00Z',
      '2027-01-01T00:00:00+25:00', '2027-01-01 00:00:00Z', '2027-01-01T00:00:00.Z', '0000-01-01T00:00:00Z',
      '2027-01-01T00:00:00Zjunk', '%FF']) {
      await bad(`expires_before=${encodeURIComponent(t).replace('%25FF', '%FF')}`, 'expires_before');
    }
    await bad(`q=${'x'.repeat(129)}`, 'q');
    await bad('q=%FF%FE', 'q');
    await bad('limit=0', 'limit');
    await bad('limit=501', 'limit');
    await bad('cursor=zz', 'cursor');
    // a cursor of another list (one id, not a deployment's two)
    const dev = await srv.request('GET', '/api/v1/devices?limit=1');
    assert.equal(typeof dev.json.next_cursor, 'string');
    await bad(`cursor=${dev.json.next_cursor}`, 'cursor');
    assertError(await srv.request('GET', '/api/v1/deployments', { token: null }), 401, 'unauthorized');
    assert.equal((await get('/api/v1/deployments?expires_before=2027-01-31t12:00:00.123456789z')).status, 200);
  });

  test('Accept: text/csv: a header row and one quoted row per deployment, filters applied', async () => {
    const r = await get('/api/v1/deployments', { headers: { Accept: 'text/csv' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^text\/csv/);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    const rows = parseCsv(r.text);
    assert.deepEqual(rows[0], HEADER);
    assert.deepEqual(rows.slice(1).map((c) => `${c[0]}/${c[3]}`), made.map(key));
    const json = (await get('/api/v1/deployments')).json.deployments;
    for (const [i, c] of rows.slice(1).entries()) {
      const d = json[i];
      const cert = (x) => (x ? [x.serial, x.not_before, x.not_after, x.sha256, String(x.valid)] : ['', '', '', '', '']);
      const guard = (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
      assert.deepEqual(c, [d.device_id, guard(d.device_serial), guard(d.device_name), d.profile_id,
        guard(d.profile_name), d.status, d.failure_source ?? '', guard(d.detail), String(d.attempts),
        d.next_attempt_at ?? '', String(d.generation), d.updated_at, ...cert(d.issued_certificate),
        ...cert(d.installed_certificate)]);
    }
    assert.ok(r.text.includes('"Lab, ""north"" wing"'), 'commas and quotes: quoted, quotes doubled');
    assert.ok(r.text.includes('"two\nlines"'), 'a line break: quoted');
    assert.ok(r.text.includes(`"'=HYPERLINK(""http://x"")"`), 'a formula: shown, not run');
    assert.ok(r.text.includes(",'-5,'@home,"), 'a leading - or @ too');

    const failed = parseCsv((await get('/api/v1/deployments?status=failed', { headers: { Accept: 'text/csv' } })).text);
    assert.deepEqual(failed.slice(1).map((c) => `${c[0]}/${c[3]}`), expect((d) => d.status === 'failed'));
    const none = await get(`/api/v1/deployments?profile_id=${randomUUID()}`, { headers: { Accept: 'text/csv' } });
    assert.equal(none.text, HEADER.join(',') + '\r\n', 'no match: the header alone');
    // JSON wins when the client prefers it; CSV only when named
    for (const [accept, csv] of [['application/json', false], ['*/*', false], ['text/csv;q=0.5, application/json', false],
      ['text/csv, application/json;q=0.9', true], ['application/json;q=0.1, TEXT/CSV', true], ['text/csv;q=0', false]]) {
      const x = await get('/api/v1/deployments?status=pending', { headers: { Accept: accept } });
      assert.equal(/^text\/csv/.test(x.headers['content-type']), csv, accept);
    }
    assertError(await get('/api/v1/deployments?limit=5', { headers: { Accept: 'text/csv' } }), 400, 'invalid_request', 'limit');
    assertError(await get('/api/v1/deployments?status=nope', { headers: { Accept: 'text/csv' } }), 400, 'invalid_request', 'status');
  });
});

describe('a CSV export of many pages', () => {
  const DEVICES = 5000; // x 3 profiles: 15,000 rows, 30 of the server's pages, some 7 MB
  let srv;
  before(async () => {
    srv = await startServer();
    const ca = srv.sql(`INSERT INTO cas (name, type, url, api_token_sealed, profile_id)
      VALUES ('bulk', 'digicert', 'http://127.0.0.1:1', 'sealed', 'p') RETURNING id`);
    srv.sql(`INSERT INTO profiles (name, ca_id, common_name, seat_id)
      SELECT 'bulk-' || k, '${ca}', 'cn', 'seat' FROM generate_series(1, 3) k`);
    srv.sql(`INSERT INTO devices (serial, name, token_hash)
      SELECT 'BULK-' || lpad(i::text, 6, '0'), 'Bulk, device ' || i, md5(i::text) || md5(i::text)
        FROM generate_series(1, ${DEVICES}) i`);
    srv.sql(`INSERT INTO deployments (device_id, profile_id, next_attempt_at, detail)
      SELECT v.id, p.id, now() + interval '10 years', repeat('parked; ', 20) FROM devices v, profiles p`);
  });
  after(async () => { await srv?.stop(); });

  /** The export on a connection of its own: {req, agent, response} (not read yet). */
  function startExport(query = '') {
    const agent = new https.Agent({ keepAlive: false, ca: srv.caPem });
    let req;
    const response = new Promise((resolve, reject) => {
      req = https.request(new URL(`/api/v1/deployments${query}`, srv.url),
        { agent, headers: { Authorization: `Bearer ${srv.token}`, Accept: 'text/csv' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    return { req, agent, response };
  }
  /** No query of the server runs or holds a transaction open. */
  async function nothingInPostgres() {
    const busy = () => srv.sql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'certdeployd'
      AND datname = current_database() AND state <> 'idle' AND backend_type = 'client backend'`);
    for (let end = Date.now() + 10000; busy() !== '0' && Date.now() < end;) await sleep(100);
    assert.equal(busy(), '0', srv.sql("SELECT string_agg(state || ': ' || query, E'\\n') FROM pg_stat_activity WHERE application_name = 'certdeployd'"));
  }
  const aborted = () => srv.logLines().filter((l) => l.msg === 'request' && l.path === '/api/v1/deployments' && l.aborted).length;
  /** Waits for the server to log the end of the n-th interrupted export (it freed it then). */
  async function exportEnded(n) {
    for (let end = Date.now() + 30000; aborted() < n && Date.now() < end;) await sleep(100);
    assert.equal(aborted(), n, 'the interrupted export ended on the server');
  }
  async function healthy() {
    assert.equal((await srv.request('GET', '/healthz', { token: null })).status, 200);
    const page = await srv.request('GET', '/api/v1/deployments?limit=2&status=pending');
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json.deployments.length, 2);
  }

  test('every row once, in order, across the pages it is made of', async () => {
    const { response, agent } = startExport();
    const res = await response;
    assert.equal(res.statusCode, 200);
    res.setEncoding('utf8');
    let text = '';
    for await (const chunk of res) text += chunk;
    agent.destroy();
    const rows = parseCsv(text);
    assert.deepEqual(rows[0], HEADER);
    assert.equal(rows.length - 1, DEVICES * 3);
    const ids = rows.slice(1).map((c) => `${c[0]}/${c[3]}`);
    assert.equal(new Set(ids).size, ids.length, 'no row twice');
    assert.equal(rows[1][2], 'Bulk, device ' + rows[1][1].slice(5).replace(/^0+/, ''));
    const q = parseCsv((await srv.request('GET', '/api/v1/deployments?q=BULK-00012', { headers: { Accept: 'text/csv' } })).text);
    assert.equal(q.length - 1, 10 * 3, 'BULK-000120 to BULK-000129');
  });

  test('a client that stops reading and goes away leaves nothing behind', async () => {
    const before = aborted();
    const { req, agent, response } = startExport();
    const res = await response;
    assert.equal(res.statusCode, 200);
    const first = await new Promise((resolve) => res.once('data', resolve));
    assert.ok(first.length > 0);
    res.pause(); // the server fills the socket's buffers, then waits
    await sleep(500);
    req.destroy();
    agent.destroy();
    await exportEnded(before + 1);
    await healthy();
    await nothingInPostgres();
  });

  test('a client that goes away while the export waits on PostgreSQL leaves nothing behind', async () => {
    const before = aborted();
    const lock = psqlSession(srv.conninfo);
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE');
      const { req, agent, response } = startExport();
      response.catch(() => {});
      // the export's query (the worker may wait for the lock too)
      const waiting = () => lock.query(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
        AND application_name = 'certdeployd' AND query LIKE 'SELECT d.device_id, v.serial, v.name, %'`);
      for (let end = Date.now() + 10000; (await waiting()) === '0' && Date.now() < end;) await sleep(100);
      assert.equal(await waiting(), '1', 'the export waits for the lock');
      // the wait is on a handler thread: connections still answer
      assert.equal((await srv.request('GET', '/healthz', { token: null })).status, 200);
      req.destroy(); // the client gives up
      agent.destroy();
      await sleep(200);
      await lock.query('COMMIT');
    } finally {
      lock.close();
    }
    await exportEnded(before + 1);
    await healthy();
    await nothingInPostgres();
  });
});
