-- 0011_webhooks: webhook subscriptions and their per-subscription deliveries.
--
-- webhook_subscriptions: one row per POST /api/v1/webhooks. The secret is
-- sealed with the master key like a CA's API token (crypto_seal), opened
-- only by the sender to sign a delivery. Read and written by
-- server/db_webhooks.c.
--
-- webhook_deliveries: one row per (event, subscription), written by the
-- triggers below in the transaction that makes the transition, so each
-- subscription has its own outbox: a receiver that fails retries on its
-- own schedule and never blocks or repeats another's delivery. The row's
-- id is the X-Certdeploy-Event-Id, the same on every retry. Claimed by
-- the senders of any instance (FOR UPDATE SKIP LOCKED and a lease, like
-- webhook_outbox). CERTDEPLOY_WEBHOOK_URL keeps using webhook_outbox.

CREATE TABLE webhook_subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url text NOT NULL,
  events text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
    'deployment.failed', 'deployment.recovered', 'certificate.expiring', 'certificate.revoked']),
  secret_sealed text NOT NULL,         -- crypto_seal of the signing secret
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_page ON webhook_subscriptions (created_at, id);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- X-Certdeploy-Event-Id
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event text NOT NULL,
  body text NOT NULL,                  -- the exact JSON POSTed (and signed), same bytes on retries
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  last_error text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at)
  WHERE delivered_at IS NOT NULL;
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id);

-- Set when a deployment leaves `failed` (a resend), cleared when it is
-- verified again: that verification is a deployment.recovered event.
ALTER TABLE deployments ADD COLUMN recovering boolean NOT NULL DEFAULT false;

-- One delivery per subscription to `ev`; each gets its own id, written
-- into its body. Wakes the senders at commit.
CREATE FUNCTION webhook_fan_out(ev text, body jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  WITH ids AS (SELECT s.id AS sub, gen_random_uuid() AS id
               FROM webhook_subscriptions s WHERE ev = ANY (s.events))
  INSERT INTO webhook_deliveries (id, subscription_id, event, body)
  SELECT ids.id, ids.sub, ev, (jsonb_build_object('event', ev, 'id', ids.id,
    'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) || body)::text
  FROM ids;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM pg_notify('certdeploy_outbox', '');
  END IF;
END $$;

-- The deployment as an event's body sees it (a snapshot).
CREATE FUNCTION webhook_deployment_body(d deployments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'device', (SELECT jsonb_build_object('id', v.id, 'serial', v.serial, 'name', v.name)
               FROM devices v WHERE v.id = d.device_id),
    'profile', (SELECT jsonb_build_object('id', p.id, 'name', p.name)
                FROM profiles p WHERE p.id = d.profile_id),
    'generation', d.generation,
    'failure_source', d.failure_source,
    'detail', d.detail,
    'attempts', d.attempts,
    'installed_certificate', CASE WHEN d.installed_serial IS NOT NULL THEN jsonb_build_object(
      'serial', d.installed_serial,
      'not_after', to_char(d.installed_not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'valid', coalesce(now() BETWEEN d.installed_not_before AND d.installed_not_after, false))
    END)
$$;

CREATE FUNCTION webhook_deployment_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'failed' AND (TG_OP = 'INSERT' OR OLD.status <> 'failed') THEN
    NEW.recovering := false;
    PERFORM webhook_fan_out('deployment.failed', webhook_deployment_body(NEW));
  ELSIF TG_OP = 'UPDATE' AND OLD.status = 'failed' AND NEW.status <> 'failed' THEN
    NEW.recovering := true;
  END IF;
  IF NEW.status = 'verified' AND NEW.recovering THEN
    NEW.recovering := false;
    PERFORM webhook_fan_out('deployment.recovered', webhook_deployment_body(NEW));
  END IF;
  RETURN NEW;
END $$;

-- BEFORE, so the flag is written with the row; "zz" so it runs after the
-- state machine's guard (triggers fire in name order) and sees what it admitted.
CREATE TRIGGER zz_webhook_deployment_events BEFORE INSERT OR UPDATE ON deployments
  FOR EACH ROW EXECUTE FUNCTION webhook_deployment_events();
