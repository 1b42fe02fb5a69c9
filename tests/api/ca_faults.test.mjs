// Every CA fault the mock can inject, through the real server and worker:
// each is classified as DESIGN.md "CA error classes" says, with the CA's
// words in `detail`, the right `attempts`, one history row per attempt,
// the right metrics label, exactly the CA requests the budget allows, and
// the sticky rule intact afterwards (a check-in and scheduler passes leave
// a failed deployment failed, with the same detail, and call no CA).
//
// One server for the file; each case has its own mock CA (registered as its
// own CA, so details and metrics name it) and a fresh device and profile, so
// cases cannot take each other's faults and run concurrently: the file's
// wall time is the longest backoff, not their sum.
//
// A connection reset after the request was sent is treated like a timeout
// after sending (transient, "the CA may have issued"): it is not a reply,
// so not one of the malformed success replies DESIGN.md makes permanent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFleet, sleep } from './lib/fleet.mjs';
import { startMockCa } from './lib/mockca.mjs';

const MAX = 3; // CERTDEPLOY_RETRY_MAX_ATTEMPTS
const SAN = /sanitize/.test(process.env.CERTDEPLOY_BUILD || '');
// CERTDEPLOY_CA_TIMEOUT_SECONDS: short, so timeouts cost little; a normal
// loopback reply takes milliseconds (the sanitizer build gets more room)
const CA_TIMEOUT = SAN ? 2 : 1;
// concurrent cases; fewer under the sanitizers, where every process is slower
const CONCURRENCY = SAN ? 3 : 6;
const WAIT_MS = SAN ? 40000 : 20000;

let fleet;
before(async () => {
  fleet = await startFleet({
    env: {
      // no backoff of our own: a gap before the next attempt can only be the CA's Retry-After
      CERTDEPLOY_RETRY_BASE_SECONDS: '0',
      CERTDEPLOY_RETRY_MAX_SECONDS: '0',
      CERTDEPLOY_RETRY_MAX_ATTEMPTS: String(MAX),
      CERTDEPLOY_CA_TIMEOUT_SECONDS: String(CA_TIMEOUT),
      CERTDEPLOY_CA_CONCURRENCY: '8',
      CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS: '1',
    },
  });
});
after(async () => { await fleet?.stop(); });

const prefix = (c) => `Couldn't get certificate from ${c.caName}: `;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** certdeploy_ca_requests_total for one CA, by result label. */
async function caMetrics(caName) {
  const r = await fleet.srv.request('GET', '/metrics', { token: null });
  assert.equal(r.status, 200);
  const out = {};
  const re = new RegExp(`^certdeploy_ca_requests_total\\{ca="${escapeRe(caName)}",result="(\\w+)"\\} (\\d+)$`, 'gm');
  for (const m of r.text.matchAll(re)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * One case: its own mock CA registered as CA "TLM <label>", a fresh device,
 * and (after assign()) a profile for that device only.
 */
async function openCase(label) {
  const { srv } = fleet;
  const mock = await startMockCa();
  const caName = `TLM ${label}`;
  const ca = await srv.request('POST', '/api/v1/cas', {
    body: { name: caName, type: 'digicert', url: mock.url, api_token: mock.apiKey, profile_id: mock.profileId },
  });
  assert.equal(ca.status, 201, ca.text);
  const dev = await fleet.device();
  const c = {
    label, mock, caName, caId: ca.json.id, dev, profile: null, mockStopped: false,
    /** CA requests this case has caused so far (the mock's count; overridden when the mock is gone). */
    requests: async () => (await mock.stats()).issue_requests,
    /** A profile for this device only. Device key mode (default here: the
     *  device's CSR is reused by every retry, where server key mode would
     *  make an RSA key per attempt) sends the CSR at a first check-in. */
    async assign(fields = {}) {
      const f = { key_mode: 'device', ca_id: c.caId, common_name: `${label.slice(0, 20)}-$DEVICE_SERIAL`, ...fields };
      c.profile = await fleet.profileFor([dev], f);
      if (f.key_mode === 'device') {
        const r = await dev.run(['checkin']);
        assert.equal(r.code, 0, `first check-in: ${r.stderr}`);
      }
      return c.profile;
    },
    dep: () => fleet.deployment(dev.deviceId, c.profile.id),
    history: async () => (await fleet.history(dev.deviceId, c.profile.id)).filter((e) => e.generation === 1),
    until: (pred, what, timeoutMs = WAIT_MS) => fleet.until(dev.deviceId, c.profile.id, pred, { what: `${label}: ${what}`, timeoutMs }),
    async stopMock() {
      if (!c.mockStopped) {
        c.mockStopped = true;
        await mock.stop();
      }
    },
    async close() {
      if (c.profile) await fleet.retire(c.profile.id);
      const d = await srv.request('DELETE', `/api/v1/cas/${c.caId}`);
      assert.equal(d.status, 204, d.text);
      await c.stopMock();
    },
  };
  return c;
}

/** Waits (bounded) until the case has caused n CA requests. */
async function waitRequests(c, n, timeoutMs = WAIT_MS) {
  const end = Date.now() + timeoutMs;
  while ((await c.requests()) < n) {
    if (Date.now() > end) throw new Error(`${c.label}: still fewer than ${n} CA requests after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Runs body(c) with a fresh case and always cleans up. */
async function withCase(label, body) {
  const c = await openCase(label);
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

/**
 * The sticky rule after a failure: a check-in and scheduler passes leave the
 * deployment failed with the same detail, attempts and generation, and no
 * further CA request is made.
 */
async function assertSticky(c, failed) {
  const before = await c.requests();
  const r = await c.dev.run(['checkin']);
  assert.equal(r.code, 0, `check-in: ${r.stderr}`);
  await sleep(1300); // more than one scheduler interval
  const dep = await c.dep();
  assert.equal(dep.status, 'failed', `${c.label}: still failed`);
  assert.equal(dep.failure_source, failed.failure_source);
  assert.equal(dep.detail, failed.detail, `${c.label}: the detail is kept`);
  assert.equal(dep.attempts, failed.attempts);
  assert.equal(dep.generation, failed.generation);
  assert.equal(dep.issued_certificate, null);
  assert.equal(await c.requests(), before, `${c.label}: no CA request after the failure`);
  const events = await fleet.history(c.dev.deviceId, c.profile.id);
  assert.equal(events.at(-1).to, 'failed', `${c.label}: the history's last row says failed`);
  const at = events.findIndex((e) => e.to === 'failed');
  assert.ok(at >= 0 && events.slice(at).every((e) => e.from === 'failed' || e === events[at]),
    `${c.label}: nothing left failed: ${JSON.stringify(events.slice(at))}`);
}

/**
 * A transient fault for every allowed attempt: attempts 1..MAX each leave a
 * history row, the first MAX-1 pending->pending with the attempt count, the
 * last pending->failed (server) with the CA's words; exactly MAX requests.
 */
async function assertTransientExhausted(c, detailRe, { label, maybeIssued = false, requests = MAX }) {
  // requests: what the CA saw (0 when it was never reached); the metrics count attempts
  const dep = await c.until((d) => d.status === 'failed', 'failed after the retry budget');
  assert.equal(dep.failure_source, 'server');
  assert.equal(dep.attempts, MAX, `${c.label}: attempts`);
  assert.equal(dep.generation, 1);
  assert.equal(dep.issued_certificate, null);
  assert.ok(dep.detail.startsWith(prefix(c)), `${c.label}: ${dep.detail}`);
  assert.match(dep.detail, detailRe);
  assert.equal(await c.requests(), requests, `${c.label}: CERTDEPLOY_RETRY_MAX_ATTEMPTS=${MAX} means ${MAX} CA requests`);

  const events = await c.history();
  const ca = events.filter((e) => e.event.startsWith('ca_'));
  assert.deepEqual(ca.map((e) => `${e.event}:${e.from}>${e.to}`),
    [...Array(MAX - 1).fill('ca_transient_error:pending>pending'), 'ca_transient_error:pending>failed'],
    `${c.label}: history ${JSON.stringify(events)}`);
  for (const [i, e] of ca.entries()) {
    assert.equal(e.actor, 'worker');
    assert.match(e.detail, detailRe);
    if (i < MAX - 1) assert.match(e.detail, new RegExp(`\\(attempt ${i + 1} of ${MAX}; next in \\d+ s\\)$`));
    assert.equal(/may have issued/.test(e.detail), maybeIssued, `${c.label}: "may have issued" ${maybeIssued ? 'said' : 'not said'}: ${e.detail}`);
  }
  assert.equal(ca.at(-1).detail, dep.detail);
  const m = await caMetrics(c.caName);
  assert.deepEqual(m, { [label]: MAX }, `${c.label}: metrics ${JSON.stringify(m)}`);
  return dep;
}

/** A permanent fault: failed at once, attempts 1, one CA request, one history row. */
async function assertPermanent(c, detailRe, { label }) {
  const dep = await c.until((d) => d.status === 'failed', 'failed at once');
  assert.equal(dep.failure_source, 'server');
  assert.equal(dep.attempts, 1);
  assert.equal(dep.issued_certificate, null);
  assert.equal(dep.next_attempt_at, null, `${c.label}: no retry planned`);
  assert.ok(dep.detail.startsWith(prefix(c)), `${c.label}: ${dep.detail}`);
  assert.match(dep.detail, detailRe);
  assert.doesNotMatch(dep.detail, /retrying|may have issued/);
  assert.equal(await c.requests(), 1, `${c.label}: exactly one CA request`);
  const events = await c.history();
  const ca = events.filter((e) => e.event.startsWith('ca_'));
  assert.deepEqual(ca.map((e) => `${e.actor}:${e.event}:${e.from}>${e.to}`), ['worker:ca_permanent_error:pending>failed'],
    `${c.label}: history ${JSON.stringify(events)}`);
  assert.equal(ca[0].detail, dep.detail);
  assert.deepEqual(await caMetrics(c.caName), { [label]: 1 });
  return dep;
}

// ---- transient: retried, then failed after the budget --------------------------

const TRANSIENT_STATUS = [
  { status: 500, message: 'Internal error in TLM' },
  { status: 502, message: 'Bad gateway in front of TLM' },
  { status: 503, message: 'TLM is in maintenance', retry_after: 1 },
  { status: 504, message: 'Gateway timeout in front of TLM' },
];

describe('transient CA errors', { concurrency: CONCURRENCY }, () => {
  for (const f of TRANSIENT_STATUS) {
    test(`HTTP ${f.status}: retried, failed after ${MAX} requests with the CA's message`, async () => {
      await withCase(`http-${f.status}`, async (c) => {
        await c.mock.faults({ ...f, count: MAX });
        await c.assign();
        const ra = f.retry_after !== undefined ? `, retry after ${f.retry_after} s` : '';
        const label = f.status === 429 ? 'throttled' : 'server_error';
        const dep = await assertTransientExhausted(c, new RegExp(`${escapeRe(f.message)} \\(HTTP ${f.status}${ra}\\)`), { label });
        assert.equal(dep.detail, `${prefix(c)}${f.message} (HTTP ${f.status}${ra})`);
        await assertSticky(c, dep);
      });
    });
  }

  test('HTTP 429 with Retry-After seconds: next_attempt_at honours it', async () => {
    await withCase('429-seconds', async (c) => {
      await c.mock.faults({ status: 429, retry_after: 2, count: MAX, message: 'Rate limit exceeded for this API key' });
      await c.assign();
      const first = await c.until((d) => d.attempts >= 1, 'first attempt');
      assert.equal(first.status, 'pending');
      assert.equal(first.attempts, 1);
      assert.match(first.detail, /Rate limit exceeded for this API key \(HTTP 429, retry after 2 s\) \(attempt 1 of 3; next in 2 s\)$/);
      const next = Date.parse(first.next_attempt_at);
      const gap = next - Date.parse(first.updated_at);
      assert.ok(gap >= 1000 && gap <= 3000, `next_attempt_at ${gap} ms after the reply (Retry-After: 2, no backoff of our own)`);
      // the second request does not come before next_attempt_at
      await waitRequests(c, 2);
      assert.ok(Date.now() >= next, `second request at ${new Date().toISOString()}, not before ${first.next_attempt_at}`);
      const dep = await assertTransientExhausted(c, /Rate limit exceeded for this API key \(HTTP 429, retry after 2 s\)/, { label: 'throttled' });
      await assertSticky(c, dep);
    });
  });

  test('HTTP 429 with Retry-After as an HTTP date: next_attempt_at is that date', async () => {
    await withCase('429-date', async (c) => {
      const when = new Date(Math.ceil((Date.now() + 6000) / 1000) * 1000);
      const httpDate = when.toUTCString(); // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      // one throttled reply, then one 500 and one 500: three requests in all
      await c.mock.faults([
        { status: 429, retry_after: httpDate, message: 'Slow down' },
        { status: 500, count: MAX - 1, message: 'Still broken' },
      ]);
      await c.assign();
      const first = await c.until((d) => d.attempts >= 1, 'first attempt');
      assert.equal(first.status, 'pending');
      assert.match(first.detail, /Slow down \(HTTP 429, retry after \d+ s\)/);
      const next = Date.parse(first.next_attempt_at);
      assert.ok(Math.abs(next - when.getTime()) <= 1500, `next_attempt_at ${first.next_attempt_at} is the Retry-After date ${when.toISOString()}`);
      await waitRequests(c, 2);
      assert.ok(Date.now() >= next, 'the second request waits for the date');
      const dep = await c.until((d) => d.status === 'failed', 'failed after the retry budget');
      assert.equal(dep.attempts, MAX);
      assert.equal(dep.detail, `${prefix(c)}Still broken (HTTP 500)`);
      assert.equal(await c.requests(), MAX);
      assert.deepEqual(await caMetrics(c.caName), { throttled: 1, server_error: MAX - 1 });
      await assertSticky(c, dep);
    });
  });

  test('transient errors then success on the last allowed attempt: issued, delivered, verified', async () => {
    await withCase('then-ok', async (c) => {
      await c.mock.faults([{ status: 502, message: 'first' }, { status: 504, message: 'second' }]);
      await c.assign();
      let dep = await c.until((d) => d.issued_certificate !== null, 'issued on attempt 3');
      assert.equal(dep.status, 'pending');
      assert.equal(dep.attempts, MAX);
      assert.equal(await c.requests(), MAX);
      assert.equal((await c.mock.stats()).issued, 1);
      dep = await fleet.until(c.dev.deviceId, c.profile.id, (d) => d.status === 'verified', { dev: c.dev, what: 'verified' });
      const ca = (await c.history()).filter((e) => e.event.startsWith('ca_'));
      assert.deepEqual(ca.map((e) => `${e.event}:${e.from}>${e.to}`),
        ['ca_transient_error:pending>pending', 'ca_transient_error:pending>pending', 'ca_issued:pending>pending']);
      assert.deepEqual(await caMetrics(c.caName), { server_error: 2, ok: 1 });
    });
  });

  test('timeout after the request was sent: transient, and the history says the CA may have issued', async () => {
    await withCase('timeout-sent', async (c) => {
      // the mock reads the request and says nothing for 5 s; we give up after CA_TIMEOUT
      await c.mock.faults({ mode: 'timeout', seconds: 5, count: MAX });
      await c.assign();
      const dep = await assertTransientExhausted(c,
        new RegExp(`no reply within ${CA_TIMEOUT} s after the request was sent; the CA may have issued`),
        { label: 'timeout', maybeIssued: true });
      await assertSticky(c, dep);
      // the final detail is shown on a failed deployment: it must not promise a retry
      assert.doesNotMatch(dep.detail, /retrying/, 'a failed deployment is not retrying');
    });
  });

  test('timeout before the request was sent (TLS handshake never answered): transient, not "may have issued"', async () => {
    await withCase('timeout-connect', async (c) => {
      // a loopback listener that accepts TCP and never speaks: an https
      // request stalls in the handshake, before any byte of the request
      const sockets = new Set();
      let connections = 0;
      const silent = net.createServer((s) => { connections++; sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); });
      await new Promise((r) => silent.listen(0, '127.0.0.1', r));
      try {
        // the API validates URLs against the CA, so the stall is set in SQL
        fleet.srv.sql(`UPDATE cas SET url = 'https://127.0.0.1:${silent.address().port}' WHERE id = '${c.caId}'`);
        c.requests = async () => connections;
        await c.assign();
        const dep = await assertTransientExhausted(c, new RegExp(`could not connect within ${CA_TIMEOUT} s`), { label: 'timeout' });
        assert.equal((await c.mock.stats()).issue_requests, 0);
        await assertSticky(c, dep);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });
  });

  test('connection reset after the request was sent: transient, the CA may have issued', async () => {
    await withCase('reset', async (c) => {
      await c.mock.faults({ mode: 'reset', count: MAX });
      await c.assign();
      const dep = await assertTransientExhausted(c, /the connection failed after the request was sent \(.+\); the CA may have issued/,
        { label: 'connect_error', maybeIssued: true });
      await assertSticky(c, dep);
    });
  });
});

// ---- permanent: failed at once, one request --------------------------------------

const PERMANENT_STATUS = [
  { status: 400, message: 'The CSR signature is invalid' },
  { status: 401, message: 'Invalid API key' },
  { status: 403, message: 'Seat limit reached for this profile' },
  { status: 404, message: 'Profile not found' },
  { status: 410, message: 'Profile was retired' },
];

// malformed 201 replies; the mock's own words for them are matched loosely
const MALFORMED = [
  { mode: 'garbage', detail: /JSON|json/ },
  { mode: 'truncated', detail: /JSON|json/ },
  { mode: 'wrong_format', detail: /delivery_format/ },
  { mode: 'mismatch', detail: /public key|CSR/ },
  { mode: 'no_serial', detail: /serial_number/ },
];

describe('permanent CA errors', { concurrency: CONCURRENCY }, () => {
  for (const f of PERMANENT_STATUS) {
    test(`HTTP ${f.status}: failed at once, exactly one CA request`, async () => {
      await withCase(`http-${f.status}`, async (c) => {
        await c.mock.faults({ ...f, count: 1 });
        await c.assign({ key_mode: 'server' });
        const dep = await assertPermanent(c, new RegExp(`${escapeRe(f.message)} \\(HTTP ${f.status}\\)$`), { label: 'rejected' });
        assert.equal(dep.detail, `${prefix(c)}${f.message} (HTTP ${f.status})`);
        await assertSticky(c, dep);
      });
    });
  }

  for (const f of MALFORMED) {
    test(`malformed success (${f.mode}): permanent, exactly one CA request`, async () => {
      await withCase(`malformed-${f.mode}`, async (c) => {
        await c.mock.faults({ mode: f.mode, count: 1 });
        await c.assign({ key_mode: 'server' });
        const dep = await assertPermanent(c, f.detail, { label: 'malformed' });
        await assertSticky(c, dep);
      });
    });
  }

  test('device key mode: a certificate for another key is refused', async () => {
    await withCase('mismatch-device', async (c) => {
      await c.mock.faults({ mode: 'mismatch', count: 1 });
      await c.assign({ key_mode: 'device' });
      const dep = await assertPermanent(c, /public key|CSR/, { label: 'malformed' });
      await assertSticky(c, dep);
    });
  });
});

// ---- cases that must not share the machine's ports or worker threads ----------

test('connection refused (the CA is down): transient, not "may have issued"', async () => {
  await withCase('refused', async (c) => {
    // run alone: the stopped mock's port must not be reused by another case's mock
    await c.stopMock();
    c.requests = async () => 0;
    await c.assign();
    const dep = await assertTransientExhausted(c, /could not connect \(.+\)/, { label: 'connect_error', requests: 0 });
    await assertSticky(c, dep);
  });
});

test('regression: a reset on a reused keep-alive connection is one request, not a silent second one', async () => {
  // One worker thread, so the retry reuses the connection of the first
  // attempt. libcurl re-sends a request on a fresh connection when a reused
  // one dies before any reply; for a certificate POST that is a second CA
  // request (a second certificate, if the CA had issued) that neither the
  // attempt budget nor the history sees.
  const small = await startFleet({
    env: {
      CERTDEPLOY_RETRY_BASE_SECONDS: '0', CERTDEPLOY_RETRY_MAX_SECONDS: '0',
      CERTDEPLOY_RETRY_MAX_ATTEMPTS: String(MAX), CERTDEPLOY_CA_TIMEOUT_SECONDS: String(CA_TIMEOUT),
      CERTDEPLOY_CA_CONCURRENCY: '1',
    },
  });
  try {
    const dev = await small.device();
    await small.mock.faults([{ status: 503, message: 'busy' }, { mode: 'reset', count: MAX - 1 }]);
    const profile = await small.profileFor([dev]);
    const dep = await small.until(dev.deviceId, profile.id, (d) => d.status === 'failed' || d.issued_certificate !== null,
      { what: 'an outcome for every attempt', timeoutMs: WAIT_MS });
    const s = await small.mock.stats();
    assert.equal(s.issue_requests, dep.attempts, `one CA request per recorded attempt (${s.issue_requests} requests, ${dep.attempts} attempts)`);
    assert.equal(dep.status, 'failed', 'three transient faults for three attempts');
    assert.equal(s.issued, 0);
  } finally {
    await small.stop();
  }
});
