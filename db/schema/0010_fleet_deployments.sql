-- 0010_fleet_deployments: GET /api/v1/deployments, the fleet-wide list
-- (server/db_fleet.c), in creation order like every other list, with an
-- index behind each filter so that a page reads about `limit` index
-- entries whatever the size of the fleet.
--
-- created_at is the order's key: it never changes, so an export that
-- pages through a fleet while deployments move lists each of them once.
-- A constant default is not a table rewrite: existing deployments all
-- get the time of this migration (and their ids break the tie).
ALTER TABLE deployments ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- No filter, status, profile, profile and status: each in the list's
-- order (created_at, device_id, profile_id) after its equality columns.
-- The profile and status one replaces (profile_id, status), which it
-- serves as well (resend of a profile's failed deployments, counts).
CREATE INDEX deployments_list ON deployments (created_at, device_id, profile_id);
CREATE INDEX deployments_list_status ON deployments (status, created_at, device_id, profile_id);
CREATE INDEX deployments_list_profile ON deployments (profile_id, created_at, device_id);
DROP INDEX deployments_profile_status;
CREATE INDEX deployments_list_profile_status
  ON deployments (profile_id, status, created_at, device_id);
-- failure_source is set exactly on failed deployments: a small index.
CREATE INDEX deployments_list_failure ON deployments (failure_source, created_at, device_id, profile_id)
  WHERE failure_source IS NOT NULL;
-- expires_before: the installed certificates expiring before a time. A
-- range cannot also be in the list's order: the planner takes this one
-- when few certificates match (then sorting them is cheap), the list's
-- order with a filter when many do (then a page fills at once).
CREATE INDEX deployments_list_expiry ON deployments (installed_not_after)
  WHERE installed_not_after IS NOT NULL;

-- q, a substring of the device's serial or name (ILIKE '%q%'): trigram
-- indexes find the few matching devices of a large fleet. pg_trgm ships
-- with PostgreSQL and is a trusted extension (a database owner may create
-- it); where it cannot be created the search still works, by a scan.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
  RAISE WARNING 'pg_trgm is not available (%): searching devices by q scans them', SQLERRM;
END $$;
-- The operator class is named with the extension's schema, which need
-- not be on the search path.
DO $$
DECLARE
  ext_schema name := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n
                        ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
BEGIN
  IF ext_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX devices_serial_trgm ON devices USING gin (serial %I.gin_trgm_ops)',
                   ext_schema);
    EXECUTE format('CREATE INDEX devices_name_trgm ON devices USING gin (name %I.gin_trgm_ops)',
                   ext_schema);
  END IF;
END $$;
