// Three instances on one database (one master key) in a renewal storm:
// every deployment is issued exactly once, by one of them, and all three
// share the work.
//
// The storm is seeded by SQL in device key mode: deployments that were
// verified, entered renewal (generation 2) and already hold the device's
// CSR for it, so the run measures claims and CA requests rather than key
// generation. A shorter run in server key mode (RSA keys made by the
// instances, from the shared key pool or on demand) goes through renewal
// by the scheduler, issuance, delivery and confirmation across instances.
//
//   CERTDEPLOY_STORM_DEPLOYMENTS=10000 node --test tests/api/multi_instance.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { startMockCa } from './lib/mockca.mjs';
import { makeCsr } from './lib/csr.mjs';
import { sleep } from './lib/fleet.mjs';

const SAN = /sanitize/.test(process.env.CERTDEPLOY_BUILD || '');
const STORM = Number(process.env.CERTDEPLOY_STORM_DEPLOYMENTS || 1000);
// under the sanitizers every instance is several times slower: a smaller storm, same checks
const STORM_HERE = SAN ? Math.min(STORM, 300) : STORM;
const SERVER_KEYS = Number(process.env.CERTDEPLOY_STORM_SERVER_KEY_DEPLOYMENTS || (SAN ? 16 : 30));
const WAIT_MS = Number(process.env.CERTDEPLOY_STORM_WAIT_MS || (SAN ? 150000 : 90000));

const ENV = {
  CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
  CERTDEPLOY_CA_CONCURRENCY: '8',
  CERTDEPLOY_CA_TIMEOUT_SECONDS: '20',
  CERTDEPLOY_RETRY_BASE_SECONDS: '1',
  CERTDEPLOY_RETRY_MAX_SECONDS: '2',
  CERTDEPLOY_KEY_POOL_SIZE: '4',
};

let inst = [];

before(async () => {
  const first = await startServer({ env: ENV });
  const key = { CERTDEPLOY_MASTER_KEY_FILE: join(first.stateDir, 'master.key') };
  inst = [first];
  for (let i = 0; i < 2; i++) inst.push(await startServer({ conninfo: first.conninfo, token: first.token, env: { ...ENV, ...key } }));
});
after(async () => {
  // the first instance owns the master key file: stop it last
  for (const s of inst.slice().reverse()) await s.stop();
});

/**
 * A mock CA of the test's own, registered as its own CA: a late request of
 * an earlier test cannot be counted in this one.
 */
async function newCa(name) {
  const mock = await startMockCa({ args: ['--latency-ms', '10'] });
  const ca = await inst[0].request('POST', '/api/v1/cas', { body: { name, type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId } });
  assert.equal(ca.status, 201, ca.text);
  return { mock, caId: ca.json.id };
}

const sql = (q) => inst[0].sql(q);
const num = (q) => Number(sql(q));

async function newProfile(name, keyMode, caId) {
  const r = await inst[0].request('POST', '/api/v1/profiles', {
    body: { name, ca_id: caId, common_name: '$DEVICE_SERIAL', seat_id: '$DEVICE_ID', key_mode: keyMode, assign_all: false },
  });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

/**
 * n devices (device token "cdd_storm_<run>_<i>") with a verified deployment
 * of profileId at generation 1 whose certificate is due for renewal. With
 * csr, the renewal has happened too: pending at generation 2 with the
 * device's CSR, as after the scheduler's pass and the devices' check-ins;
 * a NOTIFY wakes the workers when the transaction commits.
 */
function seed(profileId, n, { csr = null } = {}) {
  const run = randomBytes(4).toString('hex');
  const where = `profile_id = '${profileId}'`;
  let q = `
    WITH dev AS (INSERT INTO devices (serial, name, token_hash)
                 SELECT 'STORM-${run}-' || i, 'Storm ' || i, encode(sha256(convert_to('cdd_storm_${run}_' || i, 'UTF8')), 'hex')
                   FROM generate_series(1, ${n}) AS i RETURNING id)
    INSERT INTO deployments (device_id, profile_id) SELECT id, '${profileId}' FROM dev;
    UPDATE deployments SET status = 'verifying', issued_generation = 1, issued_serial = upper(md5(device_id::text)),
           issued_sha256 = encode(sha256(convert_to(device_id::text, 'UTF8')), 'hex'),
           issued_not_before = now() - interval '340 days', issued_not_after = now() + interval '25 days' WHERE ${where};
    UPDATE deployments SET status = 'verified', installed_serial = issued_serial, installed_not_before = issued_not_before,
           installed_not_after = issued_not_after, installed_sha256 = issued_sha256, renew_at = now() - interval '1 minute',
           detail = 'seeded' WHERE ${where};`;
  if (csr) {
    q += `
    UPDATE deployments SET status = 'pending', generation = 2, attempts = 0, next_attempt_at = now(), detail = 'renewal due',
           issued_generation = NULL, issued_serial = NULL, issued_not_before = NULL, issued_not_after = NULL, issued_sha256 = NULL,
           csr = $csr$${csr}$csr$, csr_generation = 2 WHERE ${where};
    INSERT INTO deployment_history (device_id, profile_id, actor, event, from_status, to_status, generation, detail)
    SELECT device_id, profile_id, 'scheduler', 'renewal_due', 'verified', 'pending', 2, 'seeded renewal' FROM deployments WHERE ${where};
    INSERT INTO deployment_history (device_id, profile_id, actor, event, from_status, to_status, generation, detail)
    SELECT device_id, profile_id, 'device:' || device_id, 'csr_received', 'pending', 'pending', 2, 'seeded CSR' FROM deployments WHERE ${where};
    NOTIFY certdeploy_work;`;
  }
  sql(q); // one implicit transaction
  return sql(`SELECT d.id || ' ' || d.serial FROM devices d JOIN deployments x ON x.device_id = d.id WHERE x.${where}`)
    .split('\n').map((l) => {
      const [id, serial] = l.split(' ');
      return { id, token: `cdd_storm_${run}_${serial.split('-').at(-1)}` };
    });
}

/** Applied CA outcomes per instance for the profile: log lines "CA request for <dev>/<profile> generation G: ok". */
function claimsPerInstance(profileId, generation) {
  const tail = new RegExp(`^CA request for [0-9a-f-]{36}/${profileId} generation ${generation}: ok$`);
  return inst.map((s) => s.logLines().filter((l) => typeof l.msg === 'string' && tail.test(l.msg)).length);
}

/** Warnings and errors of all instances about a profile (database errors, discarded outcomes), for failure messages. */
function warnings(profileId) {
  return inst.flatMap((s, i) => s.logLines().filter((l) => (l.level === 'warn' || l.level === 'error') && JSON.stringify(l).includes(profileId))
    .map((l) => `#${i} ${JSON.stringify(l)}`)).slice(0, 20).join('\n');
}

function discardedLines(profileId) {
  return inst.map((s) => s.logLines().filter((l) => typeof l.msg === 'string' && l.msg.includes(profileId) && l.msg.includes('was discarded')).length)
    .reduce((a, b) => a + b, 0);
}

async function waitIssued(profileId, n, generation) {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const done = num(`SELECT count(*) FROM deployments WHERE profile_id = '${profileId}' AND generation = ${generation} AND issued_generation = generation`);
    if (done === n) return;
    if (Date.now() > end) throw new Error(`${done} of ${n} issued after ${WAIT_MS} ms`);
    await sleep(200);
  }
}

/** Every deployment of the profile has exactly one history row of this event for the generation. */
function assertOnce(profileId, event, generation, actor, n) {
  const rows = sql(`SELECT c, count(*) FROM (SELECT d.device_id, count(h.id) FILTER (WHERE h.event = '${event}' AND h.generation = ${generation}
      AND h.actor ${actor === 'device' ? "LIKE 'device:%'" : `= '${actor}'`}) AS c
    FROM deployments d LEFT JOIN deployment_history h ON h.device_id = d.device_id AND h.profile_id = d.profile_id
    WHERE d.profile_id = '${profileId}' GROUP BY d.device_id) x GROUP BY c ORDER BY c`);
  assert.equal(rows, `1|${n}`, `${event} rows per deployment (count|deployments): ${rows}`);
}

const pemSha256 = (pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

test(`server key mode across three instances: ${SERVER_KEYS} renewals, one key and one certificate each, delivered and confirmed`, { timeout: WAIT_MS + 60000 }, async () => {
  const { mock, caId } = await newCa('Mock TLM server keys');
  try {
    const pid = await newProfile('storm-server-keys', 'server', caId);
    const devices = seed(pid, SERVER_KEYS);
    const t0 = Date.now();
    // the instances' scheduler passes move them to generation 2; their workers make keys and ask the CA
    await waitIssued(pid, SERVER_KEYS, 2);
    const issueMs = Date.now() - t0;

    const stats = await mock.stats();
    assert.equal(stats.issued, SERVER_KEYS, `one certificate per deployment; instance warnings:\n${warnings(pid)}`);
    assert.equal(stats.issue_requests, SERVER_KEYS);
    assertOnce(pid, 'renewal_due', 2, 'scheduler', SERVER_KEYS);
    assertOnce(pid, 'ca_issued', 2, 'worker', SERVER_KEYS);
    const pems = sql(`SELECT issued_pem FROM deployments WHERE profile_id = '${pid}' AND key_sealed IS NOT NULL`)
      .split(/(?<=-----END CERTIFICATE-----)\n?/).filter((p) => p.includes('BEGIN'));
    assert.equal(pems.length, SERVER_KEYS, 'every server-made key is kept sealed until the device confirms');
    const keys = new Set(pems.map((p) => new X509Certificate(p).publicKey.export({ type: 'spki', format: 'der' }).toString('hex')));
    assert.equal(keys.size, SERVER_KEYS, 'no key used twice across instances');
    const per = claimsPerInstance(pid, 2);
    assert.equal(per.reduce((a, b) => a + b, 0), SERVER_KEYS, `one applied outcome per deployment: ${per}`);
    assert.ok(per.filter((n) => n > 0).length >= 2, `the work was shared: ${per}`);
    assert.equal(discardedLines(pid), 0);

    // delivery and confirmation, each device talking to one of the instances
    await Promise.all(devices.map(async (d, i) => {
      const s = inst[i % inst.length];
      const auth = { token: null, headers: { Authorization: `Bearer ${d.token}` } };
      const c = await s.request('POST', '/device/v1/checkin', { ...auth, body: { installed: [] } });
      assert.equal(c.status, 200, c.text);
      const p = c.json.profiles.find((x) => x.profile_id === pid);
      assert.equal(p.action, 'install');
      assert.equal(p.generation, 2);
      assert.ok(p.pkcs12 && p.pkcs12_password, 'server key mode delivers a PKCS#12');
      const ack = await s.request('POST', `/device/v1/profiles/${pid}/ack`, { ...auth, body: { generation: 2, result: 'installed', sha256: pemSha256(p.certificate) } });
      assert.equal(ack.status, 200, ack.text);
    }));
    assert.equal(num(`SELECT count(*) FROM deployments WHERE profile_id = '${pid}' AND status = 'verified' AND generation = 2
      AND installed_sha256 = issued_sha256 AND key_sealed IS NULL`), SERVER_KEYS, 'verified, the server-held key erased');
    assertOnce(pid, 'delivered', 2, 'device', SERVER_KEYS);
    console.log(`server key mode figures: ${JSON.stringify({ deployments: SERVER_KEYS, issue_ms: issueMs, per_instance: per, mock_issued: stats.issued })}`);
  } finally {
    await mock.stop();
  }
});

test(`renewal storm across three instances: ${STORM_HERE} deployments, each issued exactly once`, { timeout: WAIT_MS + 60000 }, async () => {
  const { mock, caId } = await newCa('Mock TLM storm');
  try {
    const pid = await newProfile('storm-device-keys', 'device', caId);
    const { csrPem } = await makeCsr({ cn: 'storm' });
    const t0 = Date.now();
    seed(pid, STORM_HERE, { csr: csrPem });
    const seedMs = Date.now() - t0;
    await waitIssued(pid, STORM_HERE, 2);
    const issueMs = Date.now() - t0 - seedMs;

    // zero double issuance: the CA saw one request per deployment, each device's seat once
    const stats = await mock.stats();
    assert.equal(stats.issue_requests, STORM_HERE, `one CA request per deployment; instance warnings:\n${warnings(pid)}`);
    assert.equal(stats.issued, STORM_HERE);
    const issued = await mock.issued();
    const seats = new Map();
    for (const c of issued) seats.set(c.seat_id, (seats.get(c.seat_id) || 0) + 1);
    assert.equal(seats.size, STORM_HERE, 'every device got a certificate');
    assert.ok([...seats.values()].every((n) => n === 1), 'no device got two');

    // every deployment in the right state, its history telling it once
    assert.equal(num(`SELECT count(*) FROM deployments WHERE profile_id = '${pid}' AND status = 'pending' AND generation = 2
      AND issued_generation = 2 AND attempts = 1 AND claimed_until IS NULL AND failure_source IS NULL`), STORM_HERE);
    assertOnce(pid, 'ca_issued', 2, 'worker', STORM_HERE);
    assert.equal(num(`SELECT count(*) FROM deployment_history WHERE profile_id = '${pid}' AND actor = 'worker' AND event <> 'ca_issued'`), 0,
      'no transient error, no discarded outcome');
    const counts = (await inst[1].request('GET', `/api/v1/profiles/${pid}`)).json.counts;
    assert.deepEqual(counts, { pending: STORM_HERE, verifying: 0, verified: 0, failed: 0 });

    // all three instances did part of the work, and the parts add up
    const per = claimsPerInstance(pid, 2);
    assert.equal(per.reduce((a, b) => a + b, 0), STORM_HERE, `one applied outcome per deployment: ${per}`);
    assert.ok(per.every((n) => n > 0), `every instance claimed some: ${per}`);
    assert.equal(discardedLines(pid), 0, 'no instance worked on a deployment another had finished');
    for (const s of inst) assert.equal(s.child.exitCode, null);
    console.log(`renewal storm figures: ${JSON.stringify({ deployments: STORM_HERE, seed_ms: seedMs, issue_ms: issueMs,
      per_second: Math.round(STORM_HERE / (issueMs / 1000)), per_instance: per, mock_requests: stats.issue_requests, mock_issued: stats.issued })}`);
  } finally {
    await mock.stop();
  }
});
