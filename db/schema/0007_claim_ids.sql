-- 0007_claim_ids: a claim is owned by the worker that made it. Its id
-- is re-checked (and the lease renewed) right before the CA call and
-- required by the outcome, so an instance that lost its lease (paused,
-- slow) neither calls the CA nor overwrites another instance's result.
ALTER TABLE deployments ADD COLUMN claim_id uuid;

-- Claims and the next-due query read only deployments waiting for a CA request.
CREATE INDEX deployments_claimable ON deployments (next_attempt_at)
  WHERE status = 'pending' AND issued_generation IS DISTINCT FROM generation;
