// GET /metrics against the real server, mock CA and agent: Prometheus'
// own checker (promtool) accepts every scrape, and the values agree with
// the REST API, the mock CA's counts and the requests the test made.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startFleet, sleep } from './lib/fleet.mjs';
import { psql } from './lib/server.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => { await fleet?.stop(); });
afterEach(async () => {
  await fleet?.mock.clearFaults();
  await fleet?.mock.latency(0);
});

/** Runs `promtool check metrics` on a scrape; fails on any complaint. */
function promtoolCheck(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ifError(r.error); // ENOENT: promtool missing (Debian package prometheus, see scripts/install-deps.sh)
  const said = `${r.stdout}${r.stderr}`.trim();
  assert.equal(r.status, 0, `promtool check metrics failed:\n${said}\n--- scrape ---\n${text}`);
  assert.equal(said, '', `promtool complained:\n${said}`);
}

/** Parses a label set body (`a="x",b="y\\"z"`) per the text format's escapes. */
function parseLabels(body) {
  const labels = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    const name = body.slice(i, eq);
    assert.equal(body[eq + 1], '"', `label ${name} is quoted`);
    let v = '';
    let j = eq + 2;
    for (; body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        j++;
        v += body[j] === 'n' ? '\n' : body[j];
      } else {
        v += body[j];
      }
    }
    labels[name] = v;
    i = j + 1;
    if (body[i] === ',') i++;
  }
  return labels;
}

/** Scrapes /metrics without a token; resolves {res, text, samples, get, sum}. */
async function scrape() {
  const res = await fleet.srv.request('GET', '/metrics', { token: null });
  assert.equal(res.status, 200, res.text);
  const samples = [];
  for (const line of res.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `sample line: ${line}`);
    samples.push({ name: m[1], labels: m[2] ? parseLabels(m[2]) : {}, value: Number(m[3]) });
  }
  const matching = (name, want) => samples.filter((s) => s.name === name &&
    Object.entries(want).every(([k, v]) => s.labels[k] === v));
  return {
    res,
    text: res.text,
    samples,
    /** The one sample of name with these labels (others ignored), or undefined. */
    get(name, want = {}) {
      const found = matching(name, want);
      assert.ok(found.length <= 1, `${name} ${JSON.stringify(want)} is one series`);
      return found[0]?.value;
    },
    /** Sum over the samples of name matching these labels (0 when none). */
    sum: (name, want = {}) => matching(name, want).reduce((a, s) => a + s.value, 0),
  };
}

/** Scrapes until pred(scrape) holds (the counters of the last replies land after they are sent). */
async function scrapeUntil(pred, what) {
  let s;
  for (let i = 0; i < 40; i++) {
    s = await scrape();
    if (pred(s)) return s;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}:\n${s.text}`);
}

test('metrics: promtool accepts the scrape and the values match the API', async () => {
  const { srv, mock } = fleet;
  const CA = 'Mock TLM';
  const stats0 = await mock.stats();
  const s0 = await scrape();
  assert.equal(s0.res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(s0.get('certdeploy_database_up'), 1);
  assert.equal(s0.get('certdeploy_build_info'), 1);
  assert.ok(s0.get('process_start_time_seconds') > Date.now() / 1000 - 600);
  promtoolCheck(s0.text);

  // Profile A: the CA first answers 503 (server_error), the retry issues
  // (ok); its name needs escaping in a label value.
  const devA = await fleet.device();
  const devB = await fleet.device();
  await fleet.quiesce();
  await mock.faults({ status: 503, count: 1, retry_after: 1, message: 'TLM is down' });
  const nameA = `metrics "A" \\ ${Math.random().toString(36).slice(2, 6)}`;
  const pA = await fleet.profileFor([devA], { name: nameA, common_name: 'm-a-$DEVICE_SERIAL' });
  await fleet.until(devA.deviceId, pA.id, (d) => d.status === 'verified', { dev: devA, what: 'A verified' });

  // Profile B: issued at once.
  const pB = await fleet.profileFor([devB], { common_name: 'm-b-$DEVICE_SERIAL' });
  await fleet.until(devB.deviceId, pB.id, (d) => d.status === 'verified', { dev: devB, what: 'B verified' });

  // A's renewal is refused (403, rejected): failed, but A still holds a valid certificate.
  await fleet.quiesce();
  await mock.faults({ status: 403, count: 1, message: 'Seat limit reached' });
  srv.sql(`UPDATE deployments SET renew_at = now() WHERE profile_id = '${pA.id}'`);
  const depA = await fleet.until(devA.deviceId, pA.id, (d) => d.status === 'failed', { what: 'A failed' });
  assert.equal(depA.installed_certificate.valid, true);
  await fleet.quiesce();
  const depB = await fleet.deployment(devB.deviceId, pB.id);

  // HTTP requests by route: a known number of them, between two scrapes.
  const before = await scrape();
  const route = { route: '/api/v1/status', method: 'GET' };
  for (let i = 0; i < 5; i++) assert.equal((await srv.request('GET', `/api/v1/status?profile_id=${pA.id}`)).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await srv.request('GET', '/api/v1/status', { token: 'cdt_wrong' })).status, 401);
  for (let i = 0; i < 3; i++) assert.equal((await srv.request('GET', '/api/v1/no-such-thing')).status, 404);
  const delta = (s, labels) => s.sum('certdeploy_http_requests_total', labels) - before.sum('certdeploy_http_requests_total', labels);
  const s1 = await scrapeUntil((s) => delta(s, { ...route, code: '200' }) >= 5 && delta(s, { ...route, code: '401' }) >= 2 &&
    delta(s, { route: 'unmatched', method: 'GET', code: '404' }) >= 3, 'the HTTP counters');
  promtoolCheck(s1.text);
  assert.equal(delta(s1, { ...route, code: '200' }), 5);
  assert.equal(delta(s1, { ...route, code: '401' }), 2);
  assert.equal(delta(s1, { ...route }), 7, 'no other code counted for the route');
  assert.equal(delta(s1, { route: 'unmatched', method: 'GET', code: '404' }), 3);

  // Deployments by profile and status: what the API counts.
  for (const p of [pA, pB]) {
    const api = (await srv.request('GET', `/api/v1/profiles/${p.id}`)).json;
    const name = api.name;
    for (const st of ['pending', 'verifying', 'verified', 'failed']) {
      assert.equal(s1.get('certdeploy_deployments', { profile: name, status: st }), api.counts[st], `${name} ${st}`);
    }
    const status = (await srv.request('GET', `/api/v1/status?profile_id=${p.id}`)).json;
    assert.equal(s1.get('certdeploy_deployments_failed_with_valid_certificate', { profile: name }),
      status.failed_with_valid_certificate);
  }
  assert.equal(s1.get('certdeploy_deployments', { profile: nameA, status: 'failed' }), 1);
  assert.equal(s1.get('certdeploy_deployments', { profile: pB.name, status: 'verified' }), 1);
  assert.equal(s1.get('certdeploy_deployments_failed_with_valid_certificate', { profile: nameA }), 1);
  assert.match(s1.text, /profile="metrics \\"A\\" \\\\ /, 'quote and backslash escaped');

  // Soonest installed expiry per profile, as Unix seconds.
  assert.equal(s1.get('certdeploy_certificate_soonest_expiry_timestamp_seconds', { profile: nameA }),
    Date.parse(depA.installed_certificate.not_after) / 1000);
  assert.equal(s1.get('certdeploy_certificate_soonest_expiry_timestamp_seconds', { profile: pB.name }),
    Date.parse(depB.installed_certificate.not_after) / 1000);

  // CA requests by result: ok (A's retry, B), server_error (503), rejected (403).
  const ca = (result) => s1.get('certdeploy_ca_requests_total', { ca: CA, result }) ?? 0;
  assert.equal(ca('ok'), 2);
  assert.equal(ca('server_error'), 1);
  assert.equal(ca('rejected'), 1);
  const total = s1.sum('certdeploy_ca_requests_total', { ca: CA });
  assert.equal(total, (await mock.stats()).issue_requests - stats0.issue_requests, 'every request the mock saw');
  // The histogram: count = requests, cumulative buckets, +Inf = count.
  const count = s1.get('certdeploy_ca_request_duration_seconds_count', { ca: CA });
  assert.equal(count, total);
  const buckets = s1.samples.filter((s) => s.name === 'certdeploy_ca_request_duration_seconds_bucket' && s.labels.ca === CA);
  assert.ok(buckets.length >= 10, 'buckets from 0.01 s to 30 s');
  assert.equal(buckets[0].labels.le, '0.01');
  assert.ok(buckets.some((b) => b.labels.le === '30'));
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative');
  assert.equal(buckets.at(-1).labels.le, '+Inf');
  assert.equal(buckets.at(-1).value, count);
  assert.ok(s1.get('certdeploy_ca_request_duration_seconds_sum', { ca: CA }) > 0);

  // Idle: nothing waits for the CA.
  assert.equal(s1.get('certdeploy_worker_queue_depth'), 0);
});

test('metrics: the worker queue depth shows a backlog and drains to 0', async () => {
  const { mock } = fleet;
  // CERTDEPLOY_CA_CONCURRENCY is 4 (startFleet): with a slow CA, 4 of 7
  // deployments are with the CA and 2 more are taken by the spare issue
  // threads (half the concurrency again, waiting for a CA slot with their
  // CSR ready); the other 1 waits for a worker.
  const devs = [];
  for (let i = 0; i < 7; i++) devs.push(await fleet.device());
  await fleet.quiesce();
  await mock.latency(2500);
  const p = await fleet.profileFor(devs, { common_name: 'q-$DEVICE_SERIAL' });
  // leased deployments are not queued: once the 6 threads hold one each, 1 remains
  const busy = await scrapeUntil((s) => s.get('certdeploy_worker_queue_depth') === 1, 'a backlog of 1');
  promtoolCheck(busy.text);
  await mock.latency(0);
  for (const d of devs) await fleet.until(d.deviceId, p.id, (x) => x.issued_certificate !== null, { what: 'issued' });
  const idle = await scrape();
  assert.equal(idle.get('certdeploy_worker_queue_depth'), 0);
  assert.equal(idle.get('certdeploy_deployments', { profile: p.name, status: 'pending' }), 7);
});

test('metrics: with the database unreachable the scrape still answers, database_up 0', async () => {
  const { srv } = fleet;
  const db = srv.conninfo.match(/dbname=(\S+)/)[1];
  const outside = srv.conninfo.replace(/dbname=\S+/, 'dbname=postgres');
  psql(outside, `ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
  psql(outside, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}'`);
  try {
    const down = await scrapeUntil((s) => s.get('certdeploy_database_up') === 0, 'database_up 0');
    promtoolCheck(down.text);
    assert.equal(down.samples.filter((x) => x.name === 'certdeploy_deployments').length, 0,
      'no deployment gauges without the database');
    assert.equal(down.get('certdeploy_worker_queue_depth'), undefined);
    assert.ok(down.sum('certdeploy_http_requests_total') > 0, 'the in-process counters are still there');
    assert.equal(down.get('certdeploy_build_info'), 1);
  } finally {
    psql(outside, `ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
  }
  const up = await scrapeUntil((s) => s.get('certdeploy_database_up') === 1, 'database_up 1 again');
  promtoolCheck(up.text);
});
