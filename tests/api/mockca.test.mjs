// certdeploy-mockca behaviour, through its HTTP API only.
// Run from the repository root: node --test tests/api/mockca.test.mjs
// (CERTDEPLOY_BUILD=build/sanitize to test the sanitizer build).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';

import { certPublicKey, certSubjectAltName, csrPublicKey, makeCsr, makeTlsPair, tamperCsr } from './lib/csr.mjs';
import { hasSanitizerReport, issueBody, mockCaBinary, request, startMockCa } from './lib/mockca.mjs';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const HEX_SERIAL = /^(?:[0-9A-F]{2})+$/;

function assertErrorBody(res, status, code) {
  assert.equal(res.status, status, res.text);
  const body = res.json();
  assert.ok(Array.isArray(body.errors) && body.errors.length >= 1, res.text);
  assert.equal(typeof body.errors[0].message, 'string');
  assert.ok(body.errors[0].message.length > 0);
  if (code) assert.equal(body.errors[0].code, code);
  return body.errors[0];
}

const seconds = (s) => Math.floor(Date.parse(s) / 1000);

describe('certdeploy-mockca', () => {
  let mock;
  let csr; // EC P-256, CN "name-in-csr"

  before(async () => {
    [mock, csr] = await Promise.all([startMockCa(), makeCsr({ cn: 'name-in-csr', keyType: 'ec256' })]);
  });
  after(async () => {
    await mock?.stop();
  });
  beforeEach(async () => {
    await mock.reset();
  });

  describe('profile endpoint', () => {
    test('known profile with the right key is Active', async () => {
      const res = await mock.profile('mock-profile-1');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /application\/json/);
      const body = res.json();
      assert.equal(body.id, 'mock-profile-1');
      assert.equal(body.status, 'Active');
      assert.equal(typeof body.name, 'string');
      assert.equal((await mock.stats()).profile_requests, 1);
    });

    test('wrong or missing API key is 401', async () => {
      assertErrorBody(await mock.profile('mock-profile-1', { apiKey: 'wrong' }), 401, 'access_denied');
      assertErrorBody(await mock.profile('mock-profile-1', { apiKey: null }), 401, 'access_denied');
      assertErrorBody(await mock.profile('mock-profile-1', { apiKey: 'mock-api-ke' }), 401);
    });

    test('unknown profile is 403', async () => {
      const err = assertErrorBody(await mock.profile('no-such-profile'), 403);
      assert.match(err.message, /no-such-profile/);
    });
  });

  describe('issuing', () => {
    test('201 with CN and UPN from the attributes, not the CSR', async () => {
      const t0 = Math.floor(Date.now() / 1000);
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'device-0042', upn: 'user42@example.test', seatId: 'seat-42' });
      const t1 = Math.ceil(Date.now() / 1000);
      assert.equal(res.status, 201, res.text);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['certificate', 'delivery_format', 'serial_number']);
      assert.equal(body.delivery_format, 'x509');
      assert.match(body.serial_number, HEX_SERIAL);

      const cert = new X509Certificate(body.certificate);
      assert.equal(cert.subject, 'CN=device-0042');
      assert.equal(cert.issuer, 'CN=certdeploy mock CA');
      assert.equal(cert.serialNumber.toUpperCase(), body.serial_number);
      assert.ok(cert.keyUsage.includes(CLIENT_AUTH_OID), `EKU ${cert.keyUsage}`);
      const san = await certSubjectAltName(body.certificate);
      assert.match(san, /UPN/);
      assert.match(san, /user42@example\.test/);
      assert.doesNotMatch(body.certificate + san, /name-in-csr/);
      assert.equal(await certPublicKey(body.certificate), await csrPublicKey(csr.csrPem));

      const notBefore = seconds(cert.validFrom);
      assert.ok(notBefore >= t0 && notBefore <= t1, `notBefore ${cert.validFrom} not within [${t0}, ${t1}]`);
      assert.equal(seconds(cert.validTo) - notBefore, 31536000);

      const ca = new X509Certificate(await mock.caPem());
      assert.ok(cert.checkIssued(ca));
      assert.ok(cert.verify(ca.publicKey));

      const issued = await mock.issued();
      assert.equal(issued.length, 1);
      assert.deepEqual(issued[0], {
        serial: body.serial_number,
        common_name: 'device-0042',
        seat_id: 'seat-42',
        upn: 'user42@example.test',
        not_before: new Date(notBefore * 1000).toISOString().replace('.000Z', 'Z'),
        not_after: new Date((notBefore + 31536000) * 1000).toISOString().replace('.000Z', 'Z'),
      });
      assert.deepEqual(await mock.stats(), { issue_requests: 1, issued: 1, faults_served: 0, profile_requests: 0 });
    });

    test('without a UPN there is no SAN and upn is null', async () => {
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'device-no-upn' });
      assert.equal(res.status, 201, res.text);
      assert.equal(await certSubjectAltName(res.json().certificate), '');
      const [entry] = await mock.issued();
      assert.equal(entry.upn, null);
      assert.equal(entry.common_name, 'device-no-upn');
    });

    test('RSA-2048 CSRs are accepted; serials are even-length upper-case hex and unique', async () => {
      const rsa = await makeCsr({ cn: 'rsa', keyType: 'rsa2048' });
      const serials = new Set();
      for (let i = 0; i < 5; i++) {
        const res = await mock.issue({ csrPem: rsa.csrPem, cn: `rsa-${i}` });
        assert.equal(res.status, 201, res.text);
        const { serial_number: serial } = res.json();
        assert.match(serial, HEX_SERIAL);
        serials.add(serial);
      }
      assert.equal(serials.size, 5);
    });

    test('wrong or missing API key is 401', async () => {
      assertErrorBody(await mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { apiKey: 'nope' }), 401, 'access_denied');
      assertErrorBody(await mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { apiKey: null }), 401, 'access_denied');
      assert.equal((await mock.stats()).issued, 0);
    });

    test('unknown profile is 403', async () => {
      const err = assertErrorBody(await mock.issue({ csrPem: csr.csrPem, cn: 'x', profileId: 'other' }), 403);
      assert.match(err.message, /other/);
    });

    test('weak RSA-1024 CSR is 400 with the reason', async () => {
      const weak = await makeCsr({ cn: 'weak', keyType: 'rsa1024' });
      const err = assertErrorBody(await mock.issue({ csrPem: weak.csrPem, cn: 'weak' }), 400, 'invalid_input');
      assert.match(err.message, /RSA key of 1024 bits is too weak/);
    });

    test('CSR with a broken signature is 400', async () => {
      const err = assertErrorBody(await mock.issue({ csrPem: tamperCsr(csr.csrPem), cn: 'x' }), 400, 'invalid_input');
      assert.match(err.message, /signature/);
    });

    test('strict body checks answer 400 naming the field', async () => {
      const good = issueBody({ csrPem: csr.csrPem, cn: 'device-1', upn: 'u@example.test' });
      const cases = [
        ['not json', '{"profile":', /not valid JSON/],
        ['array', '[]', /JSON object/],
        ['duplicate key', '{"csr":"a","csr":"b"}', /not valid JSON/],
        ['unknown top-level field', { ...good, validity: 3 }, /unknown field validity/],
        ['no profile', { ...good, profile: undefined }, /profile/],
        ['wrong delivery format', { ...good, delivery_format: 'pkcs7' }, /delivery_format/],
        ['missing csr', { ...good, csr: undefined }, /csr/],
        ['csr garbage', { ...good, csr: 'hello' }, /csr/],
        ['missing common name', { ...good, attributes: { subject: {} } }, /common_name/],
        ['empty common name', { ...good, attributes: { subject: { common_name: '' } } }, /common_name/],
        ['long common name', { ...good, attributes: { subject: { common_name: 'x'.repeat(65) } } }, /common_name/],
        ['unknown subject field', { ...good, attributes: { subject: { common_name: 'a', o: 'b' } } }, /attributes\.subject\.o/],
        ['two UPNs', { ...good, attributes: { subject: { common_name: 'a' }, extensions: { san: { user_principal_names: ['a@b', 'c@d'] } } } }, /user_principal_names/],
        ['UPN not a string', { ...good, attributes: { subject: { common_name: 'a' }, extensions: { san: { user_principal_names: [5] } } } }, /user_principal_names/],
        ['missing seat', { ...good, seat: undefined }, /seat/],
        ['seat_id not a string', { ...good, seat: { seat_id: 7 } }, /seat\.seat_id/],
      ];
      for (const [name, body, message] of cases) {
        const res = await mock.issue({ body });
        const err = assertErrorBody(res, 400, 'invalid_input');
        assert.match(err.message, message, name);
      }
      const stats = await mock.stats();
      assert.equal(stats.issued, 0);
      assert.equal(stats.issue_requests, cases.length);
    });
  });

  describe('faults', () => {
    test('status fault with Retry-After in seconds', async () => {
      await mock.faults({ status: 503, retry_after: 1, message: 'CA is busy' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      const err = assertErrorBody(res, 503, 'service_unavailable');
      assert.equal(err.message, 'CA is busy');
      assert.equal(res.headers['retry-after'], '1');
    });

    test('status fault with Retry-After as an HTTP date, and a custom code', async () => {
      const date = 'Wed, 21 Oct 2037 07:28:00 GMT';
      await mock.faults({ status: 429, retry_after: date, code: 'too_many_requests' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      assertErrorBody(res, 429, 'too_many_requests');
      assert.equal(res.headers['retry-after'], date);
    });

    test('status fault without retry_after sends no Retry-After', async () => {
      await mock.faults({ status: 500 });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      assertErrorBody(res, 500);
      assert.equal(res.headers['retry-after'], undefined);
    });

    test('counts are consumed in order, then issuing is normal again', async () => {
      const queued = await mock.faults([{ status: 503, count: 2 }, { mode: 'garbage' }, { status: 400, message: 'bad' }]);
      assert.deepEqual(queued.map((f) => [f.status ?? f.mode, f.count]), [[503, 2], ['garbage', 1], [400, 1]]);
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const res = await mock.issue({ csrPem: csr.csrPem, cn: `d${i}` });
        statuses.push(res.status);
        if (i === 0) {
          assert.deepEqual((await mock.queuedFaults()).map((f) => f.count), [1, 1, 1]);
        }
      }
      assert.deepEqual(statuses, [503, 503, 201, 400, 201]);
      assert.deepEqual(await mock.queuedFaults(), []);
      assert.deepEqual(await mock.stats(), { issue_requests: 5, issued: 1, faults_served: 4, profile_requests: 0 });
      assert.equal((await mock.issued()).length, 1);
    });

    test('faults apply to issue requests only, not profile lookups', async () => {
      await mock.faults({ status: 503 });
      assert.equal((await mock.profile()).status, 200);
      assert.equal((await mock.queuedFaults()).length, 1);
    });

    test('DELETE clears the queue', async () => {
      await mock.faults([{ status: 503, count: 3 }, { mode: 'reset' }]);
      assert.deepEqual(await mock.clearFaults(), { cleared: 2 });
      assert.deepEqual(await mock.queuedFaults(), []);
      assert.equal((await mock.issue({ csrPem: csr.csrPem, cn: 'x' })).status, 201);
    });

    test('timeout: the client times out after sending', async () => {
      await mock.faults({ mode: 'timeout' });
      const t0 = Date.now();
      await assert.rejects(mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { timeoutMs: 700 }), { code: 'ETIMEDOUT' });
      assert.ok(Date.now() - t0 >= 650);
      assert.deepEqual(await mock.stats(), { issue_requests: 1, issued: 0, faults_served: 1, profile_requests: 0 });
      assert.equal((await mock.issue({ csrPem: csr.csrPem, cn: 'x' })).status, 201);
    });

    test('timeout: the held request is released as soon as the client goes away', async () => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const threads = async () => (await readdir(`/proc/${mock.process.pid}/task`)).length;
      const settled = async () => {
        let prev = await threads();
        for (let i = 0; i < 40; i++) {
          await sleep(50);
          const now = await threads();
          if (now === prev) return now;
          prev = now;
        }
        return prev;
      };
      const idle = await settled();
      await mock.faults({ mode: 'timeout', count: 3 }); // 120 s each
      const held = Array.from({ length: 3 }, () =>
        mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { timeoutMs: 1500 }).catch((err) => err.code));
      for (let i = 0; i < 50 && (await mock.stats()).faults_served < 3; i++) await sleep(20);
      assert.ok((await threads()) >= idle + 3, 'held requests should each occupy a connection thread');
      assert.deepEqual(await Promise.all(held), ['ETIMEDOUT', 'ETIMEDOUT', 'ETIMEDOUT']);
      let now = await threads();
      for (let i = 0; i < 40 && now > idle; i++) {
        await sleep(50);
        now = await threads();
      }
      assert.ok(now <= idle, `connection threads still held after the clients left (${now} > ${idle})`);
    });

    test('timeout with seconds: closes without a reply after that long', async () => {
      await mock.faults({ mode: 'timeout', seconds: 1 });
      assert.deepEqual(await mock.queuedFaults(), [{ mode: 'timeout', seconds: 1, count: 1 }]);
      const t0 = Date.now();
      await assert.rejects(mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { timeoutMs: 10000 }), (err) => {
        assert.notEqual(err.code, 'ETIMEDOUT');
        return true;
      });
      const waited = Date.now() - t0;
      assert.ok(waited >= 950 && waited < 5000, `waited ${waited} ms`);
    });

    test('reset: the connection is reset with no reply', async () => {
      await mock.faults({ mode: 'reset' });
      await assert.rejects(mock.issue({ csrPem: csr.csrPem, cn: 'x' }), (err) => {
        assert.ok(['ECONNRESET', 'EPIPE'].includes(err.code) || /socket hang up/.test(err.message), err.message);
        return true;
      });
      assert.equal((await mock.stats()).faults_served, 1);
      assert.equal((await mock.issue({ csrPem: csr.csrPem, cn: 'x' })).status, 201);
    });

    test('garbage: 201 with a body that is not JSON', async () => {
      await mock.faults({ mode: 'garbage' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      assert.equal(res.status, 201);
      assert.ok(res.text.length > 0);
      assert.throws(() => JSON.parse(res.text));
    });

    test('truncated: 201 with a success body cut in the middle', async () => {
      await mock.faults({ mode: 'truncated' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      assert.equal(res.status, 201);
      assert.match(res.text, /^\{"serial_number":"/);
      assert.throws(() => JSON.parse(res.text));
    });

    test('wrong_format: 201 with delivery_format pkcs7 and a real certificate', async () => {
      await mock.faults({ mode: 'wrong_format' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'fmt' });
      assert.equal(res.status, 201);
      const body = res.json();
      assert.equal(body.delivery_format, 'pkcs7');
      assert.match(body.serial_number, HEX_SERIAL);
      assert.equal(new X509Certificate(body.certificate).subject, 'CN=fmt');
      assert.equal((await mock.stats()).issued, 0);
    });

    test('mismatch: 201 with a certificate for another key', async () => {
      await mock.faults({ mode: 'mismatch' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'mm', upn: 'mm@example.test' });
      assert.equal(res.status, 201);
      const body = res.json();
      assert.equal(body.delivery_format, 'x509');
      assert.equal(new X509Certificate(body.certificate).subject, 'CN=mm');
      assert.notEqual(await certPublicKey(body.certificate), await csrPublicKey(csr.csrPem));
    });

    test('no_serial: 201 without serial_number', async () => {
      await mock.faults({ mode: 'no_serial' });
      const res = await mock.issue({ csrPem: csr.csrPem, cn: 'ns' });
      assert.equal(res.status, 201);
      const body = res.json();
      assert.equal(body.serial_number, undefined);
      assert.equal(body.delivery_format, 'x509');
      assert.equal(new X509Certificate(body.certificate).subject, 'CN=ns');
    });

    test('certificate-carrying faults still refuse a bad request normally', async () => {
      await mock.faults({ mode: 'wrong_format' });
      assertErrorBody(await mock.issue({ csrPem: csr.csrPem, cn: 'x' }, { apiKey: 'bad' }), 401);
      assert.deepEqual(await mock.queuedFaults(), []);
      assert.equal((await mock.stats()).faults_served, 1);
    });

    test('bad fault definitions are 400 and queue nothing', async () => {
      const bad = [
        '{"status":',
        {},
        { status: 503, mode: 'reset' },
        { mode: 'explode' },
        { status: 99 },
        { status: 503, count: 0 },
        { status: 503, count: 'two' },
        { status: 503, retry_after: -1 },
        { status: 503, retry_after: 'line\nbreak' },
        { mode: 'reset', message: 'x' },
        { mode: 'garbage', seconds: 3 },
        { mode: 'timeout', seconds: -1 },
        { status: 503, unknown: true },
        [],
        [{ status: 503 }, { mode: 'nope' }],
        ['not an object'],
      ];
      for (const body of bad) {
        const res = await request(`${mock.url}/_mock/faults`, { method: 'POST', body });
        assertErrorBody(res, 400, 'invalid_input');
      }
      assert.deepEqual(await mock.queuedFaults(), []);
    });
  });

  describe('latency', () => {
    test('applies to every /mpki request, not to controls', async () => {
      assert.deepEqual(await mock.latency(300), { ms: 300 });
      let t0 = Date.now();
      assert.equal((await mock.profile()).status, 200);
      assert.ok(Date.now() - t0 >= 300, 'profile lookup was not delayed');
      t0 = Date.now();
      assert.equal((await mock.issue({ csrPem: csr.csrPem, cn: 'slow' })).status, 201);
      assert.ok(Date.now() - t0 >= 300, 'issue was not delayed');
      t0 = Date.now();
      await mock.stats();
      assert.ok(Date.now() - t0 < 300, 'control endpoint was delayed');
      await mock.reset();
      t0 = Date.now();
      await mock.profile();
      assert.ok(Date.now() - t0 < 300, 'reset did not clear the latency');
    });

    test('32 concurrent delayed requests are served in parallel', async () => {
      await mock.latency(500);
      const t0 = Date.now();
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) => mock.issue({ csrPem: csr.csrPem, cn: `par-${i}` })),
      );
      const took = Date.now() - t0;
      assert.deepEqual(results.map((r) => r.status), Array(32).fill(201));
      assert.ok(took >= 500 && took < 4000, `32 requests took ${took} ms`);
      const serials = new Set(results.map((r) => r.json().serial_number));
      assert.equal(serials.size, 32);
      assert.equal((await mock.stats()).issued, 32);
    });

    test('bad latency bodies are 400', async () => {
      for (const body of ['nope', { ms: -1 }, { ms: '5' }, { ms: 5, extra: 1 }, { ms: 600001 }, [5]]) {
        assertErrorBody(await request(`${mock.url}/_mock/latency`, { method: 'POST', body }), 400, 'invalid_input');
      }
      assert.deepEqual((await request(`${mock.url}/_mock/latency`)).json(), { ms: 0 });
    });
  });

  describe('controls and HTTP', () => {
    test('ca.pem is served as PEM and is the state dir file', async () => {
      const res = await request(`${mock.url}/_mock/ca.pem`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-pem-file');
      assert.equal(res.text, await readFile(path.join(mock.stateDir, 'ca.pem'), 'utf8'));
      const ca = new X509Certificate(res.text);
      assert.equal(ca.subject, 'CN=certdeploy mock CA');
      assert.ok(ca.ca);
      assert.equal((await stat(path.join(mock.stateDir, 'ca.key'))).mode & 0o777, 0o600);
    });

    test('reset clears stats, issued list and faults', async () => {
      await mock.issue({ csrPem: csr.csrPem, cn: 'x' });
      await mock.faults({ status: 503, count: 4 });
      await mock.profile();
      await mock.reset();
      assert.deepEqual(await mock.stats(), { issue_requests: 0, issued: 0, faults_served: 0, profile_requests: 0 });
      assert.deepEqual(await mock.issued(), []);
      assert.deepEqual(await mock.queuedFaults(), []);
    });

    test('bodies over 1 MiB are 413', async () => {
      const big = 'x'.repeat(1024 * 1024 + 1);
      const res = await request(`${mock.url}/mpki/api/v1/certificate`, {
        method: 'POST',
        headers: { 'X-API-Key': mock.apiKey, 'content-type': 'application/json' },
        body: big,
      });
      assertErrorBody(res, 413);
      assertErrorBody(await request(`${mock.url}/_mock/faults`, { method: 'POST', body: big }), 413);
      assert.equal((await mock.stats()).issue_requests, 0);
    });

    test('unknown paths are 404 and wrong methods 405, with the errors body', async () => {
      assertErrorBody(await request(`${mock.url}/nope`), 404, 'not_found');
      assertErrorBody(await request(`${mock.url}/_mock/nope`), 404, 'not_found');
      assertErrorBody(await request(`${mock.url}/mpki/api/v1/certificates`, { method: 'POST' }), 404);
      let res = await request(`${mock.url}/mpki/api/v1/certificate`);
      assertErrorBody(res, 405, 'method_not_allowed');
      assert.equal(res.headers.allow, 'POST');
      res = await request(`${mock.url}/_mock/faults`, { method: 'PUT', body: {} });
      assertErrorBody(res, 405);
      assert.equal(res.headers.allow, 'POST, DELETE, GET');
      assertErrorBody(await request(`${mock.url}/_mock/stats`, { method: 'DELETE' }), 405);
    });
  });
});

describe('certdeploy-mockca flags and lifecycle', () => {
  test('--validity-seconds sets notAfter = notBefore + validity', async () => {
    const mock = await startMockCa({ args: ['--validity-seconds', '120'] });
    try {
      const { csrPem } = await makeCsr({ cn: 'v' });
      const res = await mock.issue({ csrPem, cn: 'short-lived' });
      assert.equal(res.status, 201, res.text);
      const cert = new X509Certificate(res.json().certificate);
      assert.equal(seconds(cert.validTo) - seconds(cert.validFrom), 120);
      assert.ok(Math.abs(seconds(cert.validFrom) - Date.now() / 1000) < 5);
      const [entry] = await mock.issued();
      assert.equal(seconds(entry.not_after) - seconds(entry.not_before), 120);
    } finally {
      await mock.stop();
    }
  });

  test('--api-key, repeated --profile and --latency-ms', async () => {
    const mock = await startMockCa({ args: ['--api-key', 'k2', '--profile', 'p-a', '--profile', 'p-b', '--latency-ms', '200'] });
    try {
      assert.equal(mock.apiKey, 'k2');
      assert.equal((await mock.profile('p-a')).status, 200);
      assert.equal((await mock.profile('p-b')).status, 200);
      assert.equal((await mock.profile('mock-profile-1')).status, 403);
      assert.equal((await mock.profile('p-a', { apiKey: 'mock-api-key' })).status, 401);
      await mock.reset();
      const t0 = Date.now();
      await mock.profile('p-a');
      assert.ok(Date.now() - t0 >= 200, 'reset should return to --latency-ms');
    } finally {
      await mock.stop();
    }
  });

  test('the CA persists in the state dir across restarts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certdeploy-mockca-state-'));
    try {
      const stateDir = path.join(dir, 'nested', 'state');
      const first = await startMockCa({ stateDir });
      const pem1 = await first.caPem();
      await first.stop();
      const second = await startMockCa({ stateDir });
      const pem2 = await second.caPem();
      await second.stop();
      assert.equal(pem2, pem1);
      assert.equal(await readFile(path.join(stateDir, 'ca.pem'), 'utf8'), pem1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('HTTPS with --tls-cert/--tls-key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certdeploy-mockca-tls-'));
    try {
      const tls = await makeTlsPair(dir);
      const mock = await startMockCa({ args: ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile], ca: tls.certPem });
      try {
        assert.match(mock.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        assert.equal((await mock.profile()).status, 200);
        const { csrPem } = await makeCsr({ cn: 'tls' });
        assert.equal((await mock.issue({ csrPem, cn: 'over-tls' })).status, 201);
        assert.equal((await mock.stats()).issued, 1);
      } finally {
        await mock.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('SIGINT stops it cleanly with exit 0, even with a request held by a timeout fault', async () => {
    const mock = await startMockCa();
    const { csrPem } = await makeCsr({ cn: 'held' });
    await mock.faults({ mode: 'timeout', seconds: 120 });
    const held = mock.issue({ csrPem, cn: 'held' }, { timeoutMs: 20000 }).catch((err) => err);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const res = await mock.stop({ signal: 'SIGINT' });
    assert.equal(res.code, 0);
    assert.ok(Date.now() - t0 < 5000, 'shutdown waited for the held request');
    assert.ok((await held) instanceof Error);
  });

  test('the listening line names the real port', async () => {
    const mock = await startMockCa();
    try {
      assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(mock.port > 0);
      assert.equal((await request(`${mock.url}/_mock/stats`)).status, 200);
    } finally {
      await mock.stop();
    }
  });

  test('bad flags exit 2 with a message; --help exits 0', () => {
    const bad = [
      ['--latency-ms', '-1'],
      ['--latency-ms', 'abc'],
      ['--validity-seconds', '0'],
      ['--validity-seconds', '12x'],
      ['--listen', 'nohostport'],
      ['--listen', '127.0.0.1:70000'],
      ['--listen', '127.0.0.1:'],
      ['--api-key', ''],
      ['--tls-cert', '/tmp/only-cert.pem'],
      ['--no-such-flag'],
      ['--profile'],
      ['stray-argument'],
    ];
    for (const args of bad) {
      const res = spawnSync(mockCaBinary(), ['--state-dir', '/nonexistent/never-created', ...args], { encoding: 'utf8', timeout: 10000 });
      assert.equal(res.status, 2, `${args.join(' ')}: status ${res.status}, stderr ${res.stderr}`);
      assert.match(res.stderr, /certdeploy-mockca: .+/, args.join(' '));
      assert.equal(res.stdout, '');
      assert.ok(!hasSanitizerReport(res.stderr), res.stderr);
    }
    const help = spawnSync(mockCaBinary(), ['--help'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--listen HOST:PORT/);
    assert.match(help.stdout, /\/_mock\/faults/);
  });

  test('an unusable state dir or listen address fails with exit 1', async () => {
    const blocker = await mkdtemp(path.join(os.tmpdir(), 'certdeploy-mockca-blk-'));
    try {
      const file = path.join(blocker, 'file');
      await (await import('node:fs/promises')).writeFile(file, 'x');
      let res = spawnSync(mockCaBinary(), ['--listen', '127.0.0.1:0', '--state-dir', path.join(file, 'sub')], { encoding: 'utf8', timeout: 10000 });
      assert.equal(res.status, 1);
      assert.match(res.stderr, /cannot create/);
      assert.ok(!hasSanitizerReport(res.stderr), res.stderr);
      const mock = await startMockCa();
      try {
        res = spawnSync(mockCaBinary(), ['--listen', `127.0.0.1:${mock.port}`, '--state-dir', blocker], { encoding: 'utf8', timeout: 10000 });
        assert.equal(res.status, 1);
        assert.match(res.stderr, /cannot listen/);
        assert.ok(!hasSanitizerReport(res.stderr), res.stderr);
      } finally {
        await mock.stop();
      }
    } finally {
      await rm(blocker, { recursive: true, force: true });
    }
  });
});
