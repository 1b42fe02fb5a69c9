// The admin's reads: enroll secrets, devices (filters, search, pages,
// counts), deployments and their history, device deletion, and the status
// summary that CI gates on. Devices and deployments are seeded with SQL,
// through the same guarded transitions the server uses, so these tests
// need no CA; pending rows are parked (next_attempt_at far ahead) so the
// worker leaves them alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startServer } from './lib/server.mjs';

let srv;
let observer;
before(async () => {
  srv = await startServer();
  const t = await srv.request('POST', '/api/v1/tokens', { body: { name: 'ci', role: 'observer' } });
  assert.equal(t.status, 201, t.text);
  observer = t.json.token;
});
after(async () => { await srv?.stop(); });

function assertError(res, status, code, field) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(Object.keys(res.json).sort(), ['error'], res.text);
  assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 10, 'the message tells what to do');
  if (field !== undefined) assert.equal(res.json.error.field, field, res.text);
}

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const tag = randomBytes(3).toString('hex');
let seq = 0;
const uniq = (p) => `${p}-${tag}-${++seq}`;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- seeding ---------------------------------------------------------

let caId;
function seedCa() {
  if (!caId) {
    caId = srv.sql(`INSERT INTO cas (name, type, url, api_token_sealed, profile_id)
      VALUES (${lit(uniq('ca'))}, 'digicert', 'http://127.0.0.1:1', 'sealed', 'p') RETURNING id`);
  }
  return caId;
}

function seedProfile(name = uniq('profile')) {
  const id = srv.sql(`INSERT INTO profiles (name, ca_id, common_name, seat_id)
    VALUES (${lit(name)}, '${seedCa()}', 'cn', 'seat') RETURNING id`);
  return { id, name };
}

/** o: name, enrolledAt (SQL expression), checkinAt (SQL expression), token */
function seedDevice(serial, o = {}) {
  const token = o.token || 'cdd_' + randomBytes(24).toString('hex');
  const id = srv.sql(`INSERT INTO devices (serial, name, token_hash, enrolled_at, last_checkin_at)
    VALUES (${lit(serial)}, ${lit(o.name ?? '')}, '${sha256(token)}',
      ${o.enrolledAt || 'now()'}, ${o.checkinAt || 'NULL'}) RETURNING id`);
  return { id, serial, token };
}

/**
 * A deployment walked to `status` by allowed transitions. cert: installed
 * certificate validity as SQL expressions {nb, na}; for `failed` with a
 * cert the row goes verified -> pending (new generation) -> failed, as a
 * failed renewal does.
 */
function seedDeployment(dev, prof, status, cert) {
  const where = `WHERE device_id = '${dev}' AND profile_id = '${prof}'`;
  const q = [`INSERT INTO deployments (device_id, profile_id, next_attempt_at)
    VALUES ('${dev}', '${prof}', now() + interval '10 years')`];
  const verify = () => {
    q.push(`UPDATE deployments SET status = 'verifying' ${where}`);
    q.push(`UPDATE deployments SET status = 'verified', installed_serial = '0A0B',
      installed_sha256 = repeat('c', 64), installed_not_before = ${cert?.nb || "now() - interval '1 day'"},
      installed_not_after = ${cert?.na || "now() + interval '300 days'"} ${where}`);
  };
  if (status === 'verifying') q.push(`UPDATE deployments SET status = 'verifying' ${where}`);
  if (status === 'verified') verify();
  if (status === 'failed') {
    if (cert) {
      verify();
      q.push(`UPDATE deployments SET status = 'pending', generation = generation + 1,
        next_attempt_at = now() + interval '10 years' ${where}`);
    }
    q.push(`UPDATE deployments SET status = 'failed', failure_source = 'server',
      detail = 'Couldn''t get certificate from ca: denied' ${where}`);
  }
  srv.sql(q.join('; '));
}

function seedHistory(dev, prof, rows) {
  for (const r of rows) {
    srv.sql(`INSERT INTO deployment_history (device_id, profile_id, actor, event, from_status,
      to_status, generation, detail) VALUES ('${dev}', '${prof}', ${lit(r.actor)}, ${lit(r.event)},
      ${r.from ? lit(r.from) : 'NULL'}, ${r.to ? lit(r.to) : 'NULL'}, ${r.generation}, ${lit(r.detail || '')})`);
  }
}

/** Every page of a list, following next_cursor. */
async function allPages(path, key, limit, token = srv.token) {
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await srv.request('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json[key].length <= limit);
    seen.push(...r.json[key]);
    cursor = r.json.next_cursor;
    if (cursor === null) return seen;
  }
  throw new Error('pages never ended');
}

// ---- enroll secrets --------------------------------------------------

test('enroll secrets: create shows the secret once, list never, only its hash is stored', async () => {
  const c = await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: 'lab fleet' } });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(Object.keys(c.json).sort(), ['created_at', 'id', 'name', 'secret']);
  assert.match(c.json.secret, /^cde_[A-Za-z0-9_-]{40,}$/);
  assert.match(c.json.id, UUID);
  assert.match(c.json.created_at, TS);
  assert.equal(c.json.name, 'lab fleet');

  const l = await srv.request('GET', '/api/v1/enroll-secrets', { token: observer });
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.next_cursor, null);
  const found = l.json.enroll_secrets.find((s) => s.id === c.json.id);
  assert.deepEqual(found, { id: c.json.id, name: 'lab fleet', created_at: c.json.created_at });
  assert.ok(!l.text.includes(c.json.secret), 'the list never shows a secret');

  assert.equal(srv.sql(`SELECT secret_hash FROM enroll_secrets WHERE id = '${c.json.id}'`), sha256(c.json.secret));
  const dump = srv.sql('SELECT string_agg(s::text, \' \') FROM enroll_secrets s');
  assert.ok(!dump.includes(c.json.secret.slice(4)), 'no plain secret in the database');

  const d = await srv.request('DELETE', `/api/v1/enroll-secrets/${c.json.id}`);
  assert.equal(d.status, 204);
  assert.equal(d.text, '');
  const l2 = await srv.request('GET', '/api/v1/enroll-secrets');
  assert.ok(!l2.json.enroll_secrets.some((s) => s.id === c.json.id));
  assertError(await srv.request('DELETE', `/api/v1/enroll-secrets/${c.json.id}`), 404, 'not_found');
});

test('enroll secrets: bad input is refused with the field; observers may not write', async () => {
  const post = (body, o = {}) => srv.request('POST', '/api/v1/enroll-secrets', { body, ...o });
  assertError(await post({}), 400, 'invalid_request', 'name');
  assertError(await post({ name: '' }), 400, 'invalid_request', 'name');
  assertError(await post({ name: 7 }), 400, 'invalid_request', 'name');
  assertError(await post({ name: 'x'.repeat(129) }), 400, 'invalid_request', 'name');
  assertError(await post({ name: 'x', secret: 'mine' }), 400, 'invalid_request', 'secret');
  assertError(await srv.request('POST', '/api/v1/enroll-secrets', { raw: '{"name":', contentType: 'application/json' }),
    400, 'invalid_json');
  assertError(await post({ name: 'x' }, { token: observer }), 403, 'forbidden');
  assertError(await srv.request('DELETE', '/api/v1/enroll-secrets/nope'), 400, 'invalid_request');
  assertError(await srv.request('GET', '/api/v1/enroll-secrets', { token: null }), 401, 'unauthorized');
  assertError(await srv.request('GET', '/api/v1/enroll-secrets?limit=0'), 400, 'invalid_request', 'limit');
  assertError(await srv.request('GET', '/api/v1/enroll-secrets?cursor=zz'), 400, 'invalid_request', 'cursor');
});

test('enroll secrets: pages are complete and in creation order', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const c = await srv.request('POST', '/api/v1/enroll-secrets', { body: { name: uniq('page') } });
    assert.equal(c.status, 201, c.text);
    ids.push(c.json.id);
  }
  const seen = (await allPages('/api/v1/enroll-secrets', 'enroll_secrets', 2)).map((s) => s.id);
  assert.equal(new Set(seen).size, seen.length, 'no secret twice');
  assert.deepEqual(seen.filter((id) => ids.includes(id)), ids);
});

// ---- devices ---------------------------------------------------------

/** Devices of this file only (their serials carry the run's tag). */
async function listMine(query = '', limit = 500) {
  const r = await srv.request('GET', `/api/v1/devices?limit=${limit}${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('devices: list shows each device with counts, in enrollment order', async () => {
  const p1 = seedProfile();
  const p2 = seedProfile();
  const a = seedDevice(uniq('ORDER-A'), { name: 'Alice laptop', enrolledAt: "now() - interval '3 hours'",
    checkinAt: "now() - interval '5 minutes'" });
  const b = seedDevice(uniq('ORDER-B'), { enrolledAt: "now() - interval '2 hours'" });
  seedDeployment(a.id, p1.id, 'failed');
  seedDeployment(a.id, p2.id, 'verified');
  seedDeployment(b.id, p1.id, 'pending');

  const all = await allPages('/api/v1/devices', 'devices', 500);
  const ia = all.findIndex((d) => d.id === a.id);
  const ib = all.findIndex((d) => d.id === b.id);
  assert.ok(ia >= 0 && ib > ia, 'enrolled earlier comes first');
  const da = all[ia];
  assert.deepEqual(Object.keys(da).sort(), ['counts', 'enrolled_at', 'id', 'last_checkin_at', 'name', 'serial']);
  assert.equal(da.serial, a.serial);
  assert.equal(da.name, 'Alice laptop');
  assert.match(da.enrolled_at, TS);
  assert.match(da.last_checkin_at, TS);
  assert.deepEqual(da.counts, { pending: 0, verifying: 0, verified: 1, failed: 1 });
  assert.equal(all[ib].last_checkin_at, null, 'never checked in');
  assert.equal(all[ib].name, '');
  assert.deepEqual(all[ib].counts, { pending: 1, verifying: 0, verified: 0, failed: 0 });
});

test('devices: status and profile_id filters', async () => {
  const p = seedProfile();
  const other = seedProfile();
  const failing = seedDevice(uniq('FILTER-failing'));
  const fine = seedDevice(uniq('FILTER-fine'));
  const elsewhere = seedDevice(uniq('FILTER-elsewhere'));
  const bare = seedDevice(uniq('FILTER-bare'));
  seedDeployment(failing.id, p.id, 'failed');
  seedDeployment(fine.id, p.id, 'verified');
  seedDeployment(elsewhere.id, other.id, 'failed');
  seedDeployment(fine.id, other.id, 'verifying');
  const ids = (list) => list.devices.map((d) => d.id).filter((id) => [failing, fine, elsewhere, bare].some((x) => x.id === id)).sort();
  const sorted = (...xs) => xs.map((x) => x.id).sort();

  assert.deepEqual(ids(await listMine('&status=failed')), sorted(failing, elsewhere));
  assert.deepEqual(ids(await listMine('&status=verifying')), sorted(fine));
  assert.deepEqual(ids(await listMine(`&profile_id=${p.id}`)), sorted(failing, fine));
  assert.deepEqual((await listMine(`&profile_id=${p.id}`)).devices.map((d) => d.id).sort(), sorted(failing, fine),
    'only devices with that profile');
  // both: the device's deployment of that profile is in that status
  assert.deepEqual((await listMine(`&profile_id=${p.id}&status=failed`)).devices.map((d) => d.id), [failing.id]);
  assert.deepEqual((await listMine(`&profile_id=${other.id}&status=verified`)).devices, []);
  // counts still cover every deployment of the device
  const f = (await listMine(`&profile_id=${p.id}&status=verified`)).devices[0];
  assert.deepEqual(f.counts, { pending: 0, verifying: 1, verified: 1, failed: 0 });

  assertError(await srv.request('GET', '/api/v1/devices?status=broken'), 400, 'invalid_request', 'status');
  assertError(await srv.request('GET', '/api/v1/devices?status='), 400, 'invalid_request', 'status');
  assertError(await srv.request('GET', '/api/v1/devices?profile_id=42'), 400, 'invalid_request', 'profile_id');
  assertError(await srv.request('GET', '/api/v1/devices?limit=501'), 400, 'invalid_request', 'limit');
  assertError(await srv.request('GET', '/api/v1/devices?cursor=00'), 400, 'invalid_request', 'cursor');
  assertError(await srv.request('GET', '/api/v1/devices', { token: null }), 401, 'unauthorized');
});

test('devices: q is a case-insensitive substring of serial or name, LIKE characters taken literally', async () => {
  const t = randomBytes(3).toString('hex');
  const pct = seedDevice(`Q${t}-100%`);
  const digits = seedDevice(`Q${t}-1000`);
  const under = seedDevice(`Q${t}-a_b`);
  const plain = seedDevice(`Q${t}-axb`);
  const slash = seedDevice(`Q${t}-c\\d`, { name: 'Finance Laptop' });
  const mine = [pct, digits, under, plain, slash];
  const q = async (text) => {
    const r = await srv.request('GET', `/api/v1/devices?limit=500&q=${encodeURIComponent(text)}`);
    assert.equal(r.status, 200, r.text);
    return r.json.devices.map((d) => d.id).filter((id) => mine.some((m) => m.id === id)).sort();
  };
  const ids = (...xs) => xs.map((x) => x.id).sort();
  assert.deepEqual(await q(`q${t}`), ids(...mine), 'case-insensitive');
  assert.deepEqual(await q(`${t}-100%`), ids(pct), '% is a percent sign');
  assert.deepEqual(await q(`${t}-100`), ids(pct, digits));
  assert.deepEqual(await q(`${t}-a_b`), ids(under), '_ is an underscore');
  assert.deepEqual(await q(`${t}-c\\d`), ids(slash), 'a backslash is a backslash');
  assert.deepEqual(await q('finance LAP'), ids(slash), 'the name matches too');
  assert.deepEqual(await q(`${t}%`), []);
  assert.deepEqual(await q(''), ids(...mine), 'empty q: no filter');
  // q with the other filters
  const p = seedProfile();
  seedDeployment(under.id, p.id, 'pending');
  assert.deepEqual(await (async () => {
    const r = await srv.request('GET', `/api/v1/devices?q=${t}&profile_id=${p.id}&status=pending`);
    return r.json.devices.map((d) => d.id);
  })(), [under.id]);
  assertError(await srv.request('GET', `/api/v1/devices?q=${'x'.repeat(129)}`), 400, 'invalid_request', 'q');
  assertError(await srv.request('GET', '/api/v1/devices?q=%FF%FE'), 400, 'invalid_request', 'q');
});

test('devices: pages are stable while devices enroll', async () => {
  const t = randomBytes(3).toString('hex');
  const first = [];
  for (let i = 0; i < 7; i++) first.push(seedDevice(`PAGE${t}-${i}`, { enrolledAt: `now() - interval '${60 - i} minutes'` }));
  const path = `/api/v1/devices?q=PAGE${t}&limit=3`;
  const p1 = await srv.request('GET', path);
  assert.equal(p1.status, 200, p1.text);
  assert.deepEqual(p1.json.devices.map((d) => d.id), first.slice(0, 3).map((d) => d.id));
  assert.equal(typeof p1.json.next_cursor, 'string');
  // enrollments while paging: one sorts before the cursor, one after everything
  seedDevice(`PAGE${t}-early`, { enrolledAt: "now() - interval '2 hours'" });
  const late = seedDevice(`PAGE${t}-late`);
  const rest = [];
  let cursor = p1.json.next_cursor;
  while (cursor) {
    const r = await srv.request('GET', `${path}&cursor=${cursor}`);
    assert.equal(r.status, 200, r.text);
    rest.push(...r.json.devices.map((d) => d.id));
    cursor = r.json.next_cursor;
  }
  assert.deepEqual(rest, [...first.slice(3).map((d) => d.id), late.id],
    'no device skipped or repeated; the early one belongs to pages already read');
});

test('devices: get shows the device with its deployments; 404 and 400', async () => {
  const pa = seedProfile(uniq('a-wifi'));
  const pb = seedProfile(uniq('b-vpn'));
  const d = seedDevice(uniq('GET'), { name: 'Kiosk' });
  seedDeployment(d.id, pa.id, 'verified');
  seedDeployment(d.id, pb.id, 'failed', { nb: "now() - interval '400 days'", na: "now() - interval '1 day'" });

  const r = await srv.request('GET', `/api/v1/devices/${d.id}`, { token: observer });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, d.id);
  assert.equal(r.json.serial, d.serial);
  assert.equal(r.json.name, 'Kiosk');
  assert.equal(r.json.last_checkin_at, null);
  assert.deepEqual(r.json.counts, { pending: 0, verifying: 0, verified: 1, failed: 1 });
  assert.equal(r.json.profiles.length, 2);
  const [wifi, vpn] = r.json.profiles;
  assert.deepEqual(Object.keys(wifi).sort(), ['attempts', 'detail', 'device_id', 'failure_source', 'generation',
    'installed_certificate', 'issued_certificate', 'next_attempt_at', 'profile_id', 'profile_name', 'status', 'updated_at']);
  assert.equal(wifi.profile_id, pa.id);
  assert.equal(wifi.profile_name, pa.name);
  assert.equal(wifi.status, 'verified');
  assert.equal(wifi.failure_source, null);
  assert.equal(wifi.installed_certificate.valid, true);
  assert.equal(wifi.installed_certificate.sha256, 'c'.repeat(64));
  assert.equal(vpn.status, 'failed');
  assert.equal(vpn.failure_source, 'server');
  assert.equal(vpn.generation, 2);
  assert.equal(vpn.detail, "Couldn't get certificate from ca: denied");
  assert.equal(vpn.installed_certificate.valid, false);

  const bare = seedDevice(uniq('GET-bare'));
  const rb = await srv.request('GET', `/api/v1/devices/${bare.id}`);
  assert.equal(rb.status, 200, rb.text);
  assert.deepEqual(rb.json.profiles, []);

  assertError(await srv.request('GET', '/api/v1/devices/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  assertError(await srv.request('GET', '/api/v1/devices/not-a-uuid'), 400, 'invalid_request');
});

test('deployments: get one; 404 when the device has no such deployment', async () => {
  const p = seedProfile();
  const q = seedProfile();
  const d = seedDevice(uniq('DEP'));
  seedDeployment(d.id, p.id, 'verifying');
  const r = await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${p.id}`, { token: observer });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.device_id, d.id);
  assert.equal(r.json.profile_id, p.id);
  assert.equal(r.json.status, 'verifying');
  assert.equal(r.json.generation, 1);
  assert.equal(r.json.issued_certificate, null);
  assert.equal(r.json.installed_certificate, null);
  assertError(await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${q.id}`), 404, 'not_found');
  assertError(await srv.request('GET', `/api/v1/devices/00000000-0000-4000-8000-000000000000/profiles/${p.id}`),
    404, 'not_found');
  assertError(await srv.request('GET', `/api/v1/devices/${d.id}/profiles/x`), 400, 'invalid_request');
});

test('history: oldest first, in pages, kept after the deployment is gone', async () => {
  const p = seedProfile();
  const d = seedDevice(uniq('HIST'));
  seedDeployment(d.id, p.id, 'pending');
  const events = [
    { actor: 'admin:ops', event: 'assigned', from: null, to: 'pending', generation: 1, detail: 'profile assigned' },
    { actor: 'worker', event: 'ca_issued', from: 'pending', to: 'pending', generation: 1, detail: 'issued' },
    { actor: `device:${d.id}`, event: 'delivered', from: 'pending', to: 'verifying', generation: 1, detail: '' },
    { actor: `device:${d.id}`, event: 'ack_error', from: 'verifying', to: 'failed', generation: 1, detail: 'keychain locked' },
    { actor: 'admin:ops', event: 'resend', from: 'failed', to: 'pending', generation: 2, detail: 'admin resend' },
  ];
  seedHistory(d.id, p.id, events);
  const path = `/api/v1/devices/${d.id}/profiles/${p.id}/history`;
  const got = await allPages(path, 'events', 2, observer);
  assert.equal(got.length, 5);
  for (const [i, e] of got.entries()) {
    assert.deepEqual(Object.keys(e).sort(), ['actor', 'at', 'detail', 'event', 'from', 'generation', 'to']);
    assert.match(e.at, TS);
    const rest = { ...e };
    delete rest.at;
    assert.deepEqual(rest, events[i]);
  }
  const ats = got.map((e) => e.at);
  assert.deepEqual([...ats].sort(), ats, 'oldest first');

  // unassigned: the deployment row goes, the history stays readable
  srv.sql(`DELETE FROM deployments WHERE device_id = '${d.id}' AND profile_id = '${p.id}'`);
  assertError(await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${p.id}`), 404, 'not_found');
  const after = await srv.request('GET', path);
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.events.length, 5);
  assert.equal(after.json.next_cursor, null);

  // a deployment without events answers an empty history; nothing at all is 404
  const q = seedProfile();
  seedDeployment(d.id, q.id, 'pending');
  const empty = await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${q.id}/history`);
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json, { events: [], next_cursor: null });
  const none = seedProfile();
  assertError(await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${none.id}/history`), 404, 'not_found');

  // cursors: only this history's
  const p1 = await srv.request('GET', `${path}?limit=1`);
  const foreign = await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${q.id}/history?cursor=${p1.json.next_cursor}`);
  assertError(foreign, 400, 'invalid_request', 'cursor');
  const tokenCursor = Buffer.from(`2024-01-01T00:00:00.000000Z\n${p.id}`).toString('hex');
  assertError(await srv.request('GET', `${path}?cursor=${tokenCursor}`), 400, 'invalid_request', 'cursor');
  assertError(await srv.request('GET', `${path}?limit=-1`), 400, 'invalid_request', 'limit');
  assertError(await srv.request('GET', `/api/v1/devices/${d.id}/profiles/zz/history`), 400, 'invalid_request');
});

test('devices: delete removes the device, its deployments and its token; history stays', async () => {
  const p = seedProfile();
  const d = seedDevice(uniq('DEL'));
  seedDeployment(d.id, p.id, 'pending');
  seedHistory(d.id, p.id, [{ actor: 'admin:ops', event: 'assigned', to: 'pending', generation: 1 }]);
  const before = await srv.request('POST', '/device/v1/checkin', { token: d.token, body: { installed: [] } });
  assert.equal(before.status, 200, before.text);

  assertError(await srv.request('DELETE', `/api/v1/devices/${d.id}`, { token: observer }), 403, 'forbidden');
  const del = await srv.request('DELETE', `/api/v1/devices/${d.id}`);
  assert.equal(del.status, 204, del.text);
  assert.equal(del.text, '');

  assertError(await srv.request('GET', `/api/v1/devices/${d.id}`), 404, 'not_found');
  assertError(await srv.request('DELETE', `/api/v1/devices/${d.id}`), 404, 'not_found');
  assertError(await srv.request('DELETE', '/api/v1/devices/123'), 400, 'invalid_request');
  const gone = await srv.request('POST', '/device/v1/checkin', { token: d.token, body: { installed: [] } });
  assertError(gone, 401, 'unauthorized');
  assert.equal(srv.sql(`SELECT count(*) FROM deployments WHERE device_id = '${d.id}'`), '0');
  assert.ok(!(await listMine()).devices.some((x) => x.id === d.id));

  const h = await srv.request('GET', `/api/v1/devices/${d.id}/profiles/${p.id}/history`);
  assert.equal(h.status, 200, h.text);
  assert.deepEqual(h.json.events.map((e) => e.event), ['assigned', 'device_deleted']);
  const last = h.json.events[1];
  assert.equal(last.from, 'pending');
  assert.equal(last.to, null);
  assert.equal(last.actor, 'admin:bootstrap');
  assert.equal(last.generation, 1);
});

// ---- status ------------------------------------------------------------

const STATUS_KEYS = ['failed', 'failed_with_valid_certificate', 'pending', 'total', 'verified', 'verifying'];

/** The summary computed the slow way, from the deployments table. */
function statusBySql(profileId) {
  const where = profileId ? `WHERE profile_id = '${profileId}'` : '';
  const row = srv.sql(`SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'verifying'),
    count(*) FILTER (WHERE status = 'verified'), count(*) FILTER (WHERE status = 'failed'),
    count(*) FILTER (WHERE status = 'failed' AND installed_not_before <= now() AND now() < installed_not_after),
    count(*) FROM deployments ${where}`).split('|').map(Number);
  const [pending, verifying, verified, failed, fwv, total] = row;
  return { pending, verifying, verified, failed, failed_with_valid_certificate: fwv, total };
}

test('status: counts per profile and overall, with failed deployments that still hold a valid certificate', async () => {
  const p = seedProfile();
  const devs = Array.from({ length: 13 }, (_, i) => seedDevice(uniq(`STAT-${i}`)).id);
  let i = 0;
  seedDeployment(devs[i++], p.id, 'pending');
  seedDeployment(devs[i++], p.id, 'pending');
  seedDeployment(devs[i++], p.id, 'verifying');
  seedDeployment(devs[i++], p.id, 'verified');
  seedDeployment(devs[i++], p.id, 'verified');
  seedDeployment(devs[i++], p.id, 'verified');
  // failed: valid cert, expiring in a minute (still valid), expiring in two days,
  // expired yesterday, expired a second ago, not valid yet, no certificate
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() - interval '10 days'", na: "now() + interval '200 days'" });
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() - interval '10 days'", na: "now() + interval '1 minute'" });
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() - interval '10 days'", na: "now() + interval '2 days'" });
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() - interval '400 days'", na: "now() - interval '1 day'" });
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() - interval '400 days'", na: "now() - interval '1 second'" });
  seedDeployment(devs[i++], p.id, 'failed', { nb: "now() + interval '1 day'", na: "now() + interval '300 days'" });
  seedDeployment(devs[i++], p.id, 'failed');

  const expected = { pending: 2, verifying: 1, verified: 3, failed: 7, failed_with_valid_certificate: 3, total: 13 };
  const r = await srv.request('GET', `/api/v1/status?profile_id=${p.id}`, { token: observer });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), STATUS_KEYS);
  assert.deepEqual(r.json, expected);
  assert.deepEqual(statusBySql(p.id), expected, 'the seed is what the test means');

  const all = await srv.request('GET', '/api/v1/status');
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json, statusBySql(null));

  // bulk changes, a device deletion and a profile deletion keep the counters right
  srv.sql(`UPDATE deployments SET status = 'verifying' WHERE profile_id = '${p.id}' AND status = 'pending'`);
  const del = await srv.request('DELETE', `/api/v1/devices/${devs[6]}`);
  assert.equal(del.status, 204);
  const r2 = await srv.request('GET', `/api/v1/status?profile_id=${p.id}`);
  assert.deepEqual(r2.json, { ...expected, pending: 0, verifying: 3, failed: 6, failed_with_valid_certificate: 2, total: 12 });
  const gone = seedProfile();
  seedDeployment(devs[0], gone.id, 'failed', { nb: "now() - interval '1 day'", na: "now() + interval '9 days'" });
  assert.deepEqual((await srv.request('GET', '/api/v1/status')).json, statusBySql(null));
  srv.sql(`DELETE FROM profiles WHERE id = '${gone.id}'`);
  assert.deepEqual((await srv.request('GET', '/api/v1/status')).json, statusBySql(null));
  assertError(await srv.request('GET', `/api/v1/status?profile_id=${gone.id}`), 404, 'not_found', 'profile_id');
});

test('status: fail_on answers 503 with the same body while a listed status is non-zero', async () => {
  const p = seedProfile();
  const clean = seedProfile();
  const d1 = seedDevice(uniq('GATE-1')).id;
  const d2 = seedDevice(uniq('GATE-2')).id;
  seedDeployment(d1, p.id, 'failed', { nb: "now() - interval '1 day'", na: "now() + interval '30 days'" });
  seedDeployment(d2, p.id, 'pending');
  seedDeployment(d1, clean.id, 'verified');
  seedDeployment(d2, clean.id, 'verifying');

  const plain = await srv.request('GET', `/api/v1/status?profile_id=${p.id}`);
  assert.equal(plain.status, 200);
  for (const token of [srv.token, observer]) {
    const gate = await srv.request('GET', `/api/v1/status?profile_id=${p.id}&fail_on=failed`, { token });
    assert.equal(gate.status, 503, gate.text);
    assert.equal(gate.headers['content-type'], 'application/json');
    assert.deepEqual(gate.json, plain.json);
    assert.deepEqual(gate.json, { pending: 1, verifying: 0, verified: 0, failed: 1, failed_with_valid_certificate: 1, total: 2 });
  }
  const g = (q, prof = p.id) => srv.request('GET', `/api/v1/status?profile_id=${prof}&fail_on=${q}`);
  assert.equal((await g('pending')).status, 503);
  assert.equal((await g('verifying')).status, 200);
  assert.equal((await g('verified,verifying')).status, 200);
  assert.equal((await g('verifying,%20pending')).status, 503);
  assert.equal((await g('failed,pending', clean.id)).status, 200, 'clear: 200');
  const clear = await g('failed,pending', clean.id);
  assert.deepEqual(clear.json, { pending: 0, verifying: 1, verified: 1, failed: 0, failed_with_valid_certificate: 0, total: 2 });
  assert.equal((await g('verifying', clean.id)).status, 503);
  assert.equal((await g('', clean.id)).status, 200, 'nothing listed: never 503');

  const bad = await g('failed,broken,Pending');
  assertError(bad, 400, 'invalid_request', 'fail_on');
  assert.match(bad.json.error.message, /broken/);
  assert.match(bad.json.error.message, /Pending/);
  assert.doesNotMatch(bad.json.error.message, /'failed'/);
  assertError(await srv.request('GET', `/api/v1/status?fail_on=${'failed,'.repeat(40)}`), 400, 'invalid_request', 'fail_on');
  assertError(await srv.request('GET', '/api/v1/status?profile_id=nope'), 400, 'invalid_request', 'profile_id');
  assertError(await srv.request('GET', '/api/v1/status', { token: null }), 401, 'unauthorized');
});
