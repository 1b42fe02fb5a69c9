-- 0005_metrics: what GET /metrics reads at every scrape must stay cheap at
-- any fleet size (server/db_metrics.c).
--
-- certdeploy_certificate_soonest_expiry_timestamp_seconds is
-- min(installed_not_after) per profile, over every deployment holding an
-- installed certificate whatever its status: with this index each
-- profile's minimum is the first entry of its range, one index probe.
CREATE INDEX deployments_installed_expiry ON deployments (profile_id, installed_not_after)
  WHERE installed_not_after IS NOT NULL;
