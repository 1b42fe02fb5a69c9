-- 0003_status_counts: deployment counts kept by triggers, so the status
-- summary (the CI gate) and the profile counts cost the same at 3,000 and
-- at 300,000 deployments. Read by server/db_status.c.
--
-- deployment_counts: deployments by (profile, status), each count split
-- over 16 stripes chosen by the device id, so two transactions changing
-- deployments of different devices rarely touch the same counter row and
-- do not wait for each other's commit. Readers sum the stripes.
--
-- deployment_failed_expiry: failed deployments that hold an installed
-- certificate, by (profile, UTC day the certificate expires). "Failed but
-- still valid" changes with the clock, not only with writes, so it is
-- read as: the buckets of the days after today, plus the failed
-- certificates expiring later today, minus the failed certificates not
-- valid yet; the last two come from partial indexes over failed rows,
-- ranges that hold at most a day's expiries (and the rare certificate
-- from the future).

-- No writer may slip between the backfill and the triggers.
LOCK TABLE deployments IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE deployment_counts (
  profile_id uuid NOT NULL,            -- no foreign key: see deployment_counts_forget
  status deployment_status NOT NULL,
  stripe smallint NOT NULL CHECK (stripe BETWEEN 0 AND 15),
  n bigint NOT NULL,                   -- one stripe may go negative; their sum may not
  PRIMARY KEY (profile_id, status, stripe)
);

CREATE TABLE deployment_failed_expiry (
  profile_id uuid NOT NULL,
  expires_on date NOT NULL,            -- UTC day of installed_not_after
  n bigint NOT NULL,
  PRIMARY KEY (profile_id, expires_on)
);

-- The stripe of a device: the low 4 bits of its (random) UUID.
CREATE FUNCTION deployment_counts_stripe(device uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (get_byte(uuid_send(device), 15) & 15)::smallint;

-- The expiry bucket of a deployment, NULL when it is not a failed one
-- holding an installed certificate.
CREATE FUNCTION deployment_failed_expiry_day(status deployment_status, not_after timestamptz)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN status = 'failed' THEN (not_after AT TIME ZONE 'UTC')::date END;

-- Applies the net change of one statement (+1 per new row, -1 per old
-- row) grouped by key, so an UPDATE that leaves the key alone (a lease, a
-- retry, an issued certificate) touches no counter and a bulk statement
-- touches each counter row once, in key order (two bulk statements do not
-- deadlock on counters). Deletes only decrement rows that exist: after a
-- profile is deleted its counters may be gone already
-- (deployment_counts_forget) and must not come back.
CREATE FUNCTION deployment_counts_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO deployment_counts AS c (profile_id, status, stripe, n)
    SELECT profile_id, status, deployment_counts_stripe(device_id), count(*)
      FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (profile_id, status, stripe) DO UPDATE SET n = c.n + excluded.n;
    -- new deployments start pending (deployments_insert_guard), unless a
    -- bulk load switched the guard off
    INSERT INTO deployment_failed_expiry AS e (profile_id, expires_on, n)
    SELECT profile_id, deployment_failed_expiry_day(status, installed_not_after), count(*)
      FROM new_rows
     WHERE deployment_failed_expiry_day(status, installed_not_after) IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (profile_id, expires_on) DO UPDATE SET n = e.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO deployment_counts AS c (profile_id, status, stripe, n)
    SELECT profile_id, status, stripe, sum(delta)
      FROM (SELECT profile_id, status, deployment_counts_stripe(device_id) AS stripe, 1 AS delta
              FROM new_rows
            UNION ALL
            SELECT profile_id, status, deployment_counts_stripe(device_id), -1
              FROM old_rows) AS changes
     GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (profile_id, status, stripe) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO deployment_failed_expiry AS e (profile_id, expires_on, n)
    SELECT profile_id, day, sum(delta)
      FROM (SELECT profile_id, deployment_failed_expiry_day(status, installed_not_after) AS day,
                   1 AS delta
              FROM new_rows
            UNION ALL
            SELECT profile_id, deployment_failed_expiry_day(status, installed_not_after), -1
              FROM old_rows) AS changes
     WHERE day IS NOT NULL
     GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
    ON CONFLICT (profile_id, expires_on) DO UPDATE SET n = e.n + excluded.n;
  ELSE
    UPDATE deployment_counts AS c SET n = c.n - g.n
      FROM (SELECT profile_id, status, deployment_counts_stripe(device_id) AS stripe,
                   count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3) AS g
     WHERE c.profile_id = g.profile_id AND c.status = g.status AND c.stripe = g.stripe;
    UPDATE deployment_failed_expiry AS e SET n = e.n - g.n
      FROM (SELECT profile_id, deployment_failed_expiry_day(status, installed_not_after) AS day,
                   count(*) AS n
              FROM old_rows
             WHERE deployment_failed_expiry_day(status, installed_not_after) IS NOT NULL
             GROUP BY 1, 2) AS g
     WHERE e.profile_id = g.profile_id AND e.expires_on = g.day;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER deployment_counts_insert AFTER INSERT ON deployments
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_counts_apply();
CREATE TRIGGER deployment_counts_update AFTER UPDATE ON deployments
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_counts_apply();
CREATE TRIGGER deployment_counts_delete AFTER DELETE ON deployments
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_counts_apply();

-- A deleted profile's counters go with it (its deployments went too).
CREATE FUNCTION deployment_counts_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM deployment_counts WHERE profile_id IN (SELECT id FROM old_profiles);
  DELETE FROM deployment_failed_expiry WHERE profile_id IN (SELECT id FROM old_profiles);
  RETURN NULL;
END $$;
CREATE TRIGGER deployment_counts_forget AFTER DELETE ON profiles
  REFERENCING OLD TABLE AS old_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_counts_forget();

-- TRUNCATE fires no row or transition triggers: the counters start again.
CREATE FUNCTION deployment_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM deployment_counts;
  DELETE FROM deployment_failed_expiry;
  RETURN NULL;
END $$;
CREATE TRIGGER deployment_counts_truncate AFTER TRUNCATE ON deployments
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_counts_truncate();

-- Recomputes both tables from deployments: the backfill below, and the
-- repair after a bulk load that bypassed triggers
-- (session_replication_role = replica, DISABLE TRIGGER ALL).
CREATE FUNCTION deployment_counts_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE deployments IN SHARE ROW EXCLUSIVE MODE;
  LOCK TABLE deployment_counts, deployment_failed_expiry IN EXCLUSIVE MODE;
  DELETE FROM deployment_counts;
  DELETE FROM deployment_failed_expiry;
  INSERT INTO deployment_counts (profile_id, status, stripe, n)
  SELECT profile_id, status, deployment_counts_stripe(device_id), count(*)
    FROM deployments GROUP BY 1, 2, 3;
  INSERT INTO deployment_failed_expiry (profile_id, expires_on, n)
  SELECT profile_id, deployment_failed_expiry_day(status, installed_not_after), count(*)
    FROM deployments
   WHERE deployment_failed_expiry_day(status, installed_not_after) IS NOT NULL
   GROUP BY 1, 2;
END $$;
SELECT deployment_counts_rebuild();

-- The exact parts of "failed but still valid": certificates of failed
-- deployments expiring between now and the end of today (per profile and
-- overall), and those not valid yet.
CREATE INDEX deployments_failed_expiry ON deployments (profile_id, installed_not_after)
  WHERE status = 'failed';
CREATE INDEX deployments_failed_not_after ON deployments (installed_not_after)
  WHERE status = 'failed';
CREATE INDEX deployments_failed_not_before ON deployments
  (installed_not_before, installed_not_after, profile_id) WHERE status = 'failed';
