-- 0009_claim_order: claims read the first free due row instead of
-- sorting every pending deployment.
--
-- A claim takes due deployments ORDER BY next_attempt_at NULLS FIRST;
-- deployments_claimable as 0007 makes it is ordered NULLS LAST (the
-- default), so it can only filter, and every claim sorts all pending rows.
-- In the claims' order the index hands over the first free row at once.
DROP INDEX deployments_claimable;
CREATE INDEX deployments_claimable ON deployments (next_attempt_at NULLS FIRST)
  WHERE status = 'pending' AND issued_generation IS DISTINCT FROM generation;

-- Room in each page for a row's next version: a claim or a lease renewal
-- changes no indexed column, and with free space on its page the update
-- is HOT (no entry in any of the table's nine indexes). Pages written from
-- now on keep the space; existing ones gain it as they are rewritten.
ALTER TABLE deployments SET (fillfactor = 80);
