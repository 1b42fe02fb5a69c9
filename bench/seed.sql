-- bench/seed.sql: bulk fleet fixture for the benchmarks (run through bench/seed.sh).
--
-- Adds devices first..first+count-1 (psql variables :first, :count), each
-- assigned the three bench profiles, every deployment `verified` with a
-- fake but well-formed certificate (even-length upper-case hex serial,
-- real SHA-256 hex, one-year validity that started 30 days ago) both issued
-- and installed, as a fleet looks after its first rollout.
--
-- Device i:  serial bench-<i, 8 digits>, token cdd_bench_<i, 8 digits>
--            (token_hash = SHA-256 hex of the whole token, as server/auth.c
--            computes it), so a load generator can authenticate as any device.
-- Its certificate for profile k (1..3): sha256 = SHA-256 hex of the text
--            'bench-cert-<i>-<k>' (bench/run.sh exports them for wrk).
--
-- :due deployments of the new ones (the lowest device numbers, profile by
-- profile) get renew_at in the past, so the scheduler renews them at its
-- next pass; the rest renew in ~300 days.
--
-- The CA 'bench-ca' and the profiles 'bench-profile-1..3' are created when
-- missing. A CA made here has an unusable API token (the token must be
-- sealed with the server's master key), which is fine for check-ins and the
-- status endpoint; the renewal benchmark creates 'bench-ca' through the API
-- first, so the worker can call the mock CA with it.
--
-- The state machine's guards stay on: deployments are inserted `pending`
-- at generation 1 (deployments_insert_guard), then moved pending ->
-- verifying -> verified by two UPDATEs (deployments_guard), and the status
-- counters follow through their statement triggers (no
-- deployment_counts_rebuild() needed). History rows are not written.

\set ON_ERROR_STOP 1
BEGIN;

INSERT INTO cas (name, type, url, api_token_sealed, profile_id)
VALUES ('bench-ca', 'digicert', 'http://127.0.0.1:9', 'bench-unusable', 'mock-profile-1')
ON CONFLICT (name) DO NOTHING;

INSERT INTO profiles (name, ca_id, common_name, seat_id, key_mode)
SELECT 'bench-profile-' || k, (SELECT id FROM cas WHERE name = 'bench-ca'),
       '$DEVICE_SERIAL', '$DEVICE_ID', 'server'
  FROM generate_series(1, 3) AS k
ON CONFLICT (name) DO NOTHING;

CREATE TEMP TABLE bench_new_devices ON COMMIT DROP AS
WITH ins AS (
  INSERT INTO devices (serial, name, token_hash, enrolled_at)
  SELECT 'bench-' || lpad(i::text, 8, '0'), 'Bench device ' || i,
         encode(sha256(convert_to('cdd_bench_' || lpad(i::text, 8, '0'), 'UTF8')), 'hex'),
         now() - interval '31 days'
    FROM generate_series(:first::int, :first::int + :count::int - 1) AS i
  RETURNING id, serial)
SELECT id, substr(serial, 7)::int AS i FROM ins;

CREATE TEMP TABLE bench_profiles ON COMMIT DROP AS
SELECT id, substr(name, 15)::int AS k FROM profiles WHERE name LIKE 'bench-profile-%';

-- Deployments, pending with the certificate issued for generation 1.
INSERT INTO deployments (device_id, profile_id, status, generation, attempts, detail,
                         issued_generation, issued_serial, issued_pem, issued_not_before,
                         issued_not_after, issued_sha256, updated_at)
SELECT d.id, p.id, 'pending', 1, 1, 'bench seed',
       1, upper(lpad(to_hex(d.i::bigint * 4 + p.k), 16, '0')),
       '-----BEGIN CERTIFICATE-----' || chr(10) || 'YmVuY2g=' || chr(10) || '-----END CERTIFICATE-----' || chr(10),
       date_trunc('second', now()) - interval '30 days',
       date_trunc('second', now()) + interval '335 days',
       encode(sha256(convert_to('bench-cert-' || d.i || '-' || p.k, 'UTF8')), 'hex'),
       now()
  FROM bench_new_devices d CROSS JOIN bench_profiles p;

UPDATE deployments x SET status = 'verifying', detail = 'delivered'
  FROM bench_new_devices d WHERE x.device_id = d.id AND x.status = 'pending';

-- Verified: installed = issued; renewal 30 days before expiry, or already
-- due for the first :due deployments.
UPDATE deployments x
   SET status = 'verified', detail = 'installed',
       installed_serial = issued_serial, installed_not_before = issued_not_before,
       installed_not_after = issued_not_after, installed_sha256 = issued_sha256,
       renew_at = CASE WHEN r.rank <= :due::int THEN now() - interval '1 minute'
                       ELSE issued_not_after - interval '30 days' END
  FROM (SELECT x2.device_id, x2.profile_id,
               row_number() OVER (ORDER BY p.k, d.i) AS rank
          FROM deployments x2 JOIN bench_new_devices d ON d.id = x2.device_id
          JOIN bench_profiles p ON p.id = x2.profile_id) AS r
 WHERE x.device_id = r.device_id AND x.profile_id = r.profile_id AND x.status = 'verifying';

COMMIT;
