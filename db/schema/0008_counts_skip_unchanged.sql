-- 0008_counts_skip_unchanged: the status counters' UPDATE trigger returns
-- at once when no row changed status or installed expiry (claims, lease
-- renewals and issued certificates are most updates of deployments),
-- rather than aggregate old and new rows and upsert zero-sum deltas for
-- each as 0003's version does.
CREATE OR REPLACE FUNCTION deployment_counts_apply() RETURNS trigger
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
    -- Most updates (claims, leases, issued certificates, contact details)
    -- change neither a row's status nor its installed expiry, the only
    -- inputs of both counters: then there is nothing to count. Every old
    -- row must have a new row with the same key, status and expiry.
    IF (SELECT count(*) FROM old_rows o JOIN new_rows n
          ON n.device_id = o.device_id AND n.profile_id = o.profile_id
         WHERE n.status = o.status
           AND n.installed_not_after IS NOT DISTINCT FROM o.installed_not_after)
       = (SELECT count(*) FROM old_rows) THEN
      RETURN NULL;
    END IF;
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
