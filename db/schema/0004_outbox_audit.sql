-- 0004_outbox_audit: the failure webhook's outbox and the admin audit log.
--
-- webhook_outbox: one row per transition of a deployment to `failed`,
-- written by a trigger in the transaction that makes the transition, so no
-- code path (worker, device ack, a raw UPDATE) can fail a deployment
-- without its event. server/webhook.c delivers the rows to
-- CERTDEPLOY_WEBHOOK_URL at least once (receivers dedupe on the event id)
-- and retries forever; without a URL the rows wait until one is set.
-- Read and written by server/db_outbox.c.
--
-- audit_events: one row per successful admin write through the REST API
-- (router.c), with the token's name, the route and the ids it touched.
-- Never the request body: it may hold API tokens and secrets. Append-only.
-- Read and written by server/db_audit.c.

CREATE TABLE webhook_outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- the event id receivers dedupe on
  event text NOT NULL,                 -- "deployment.failed"
  body text NOT NULL,                  -- the exact JSON POSTed: built once, same bytes on every retry
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0), -- failed deliveries so far
  -- when the next delivery may start; a sender's claim pushes it out by a
  -- lease, so a crashed sender's row comes due again by itself
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,            -- a 2xx arrived; pruned 7 days later
  last_error text NOT NULL DEFAULT ''  -- why the last delivery failed
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX webhook_outbox_delivered ON webhook_outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- Builds the event from the deployment as it is now (a snapshot: the
-- device may be deleted before the event is delivered) and wakes the
-- senders of every instance at commit.
CREATE FUNCTION webhook_outbox_failed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  event_id uuid := gen_random_uuid();
  device_serial text;
  device_name text;
  profile_name text;
BEGIN
  SELECT serial, name INTO device_serial, device_name FROM devices WHERE id = NEW.device_id;
  SELECT name INTO profile_name FROM profiles WHERE id = NEW.profile_id;
  INSERT INTO webhook_outbox (id, event, body)
  VALUES (event_id, 'deployment.failed', json_build_object(
    'event', 'deployment.failed',
    'id', event_id,
    'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'device', json_build_object('id', NEW.device_id, 'serial', device_serial, 'name', device_name),
    'profile', json_build_object('id', NEW.profile_id, 'name', profile_name),
    'generation', NEW.generation,
    'failure_source', NEW.failure_source,
    'detail', NEW.detail,
    'attempts', NEW.attempts,
    'installed_certificate', CASE WHEN NEW.installed_serial IS NOT NULL THEN json_build_object(
      'serial', NEW.installed_serial,
      'not_after', to_char(NEW.installed_not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'valid', coalesce(now() BETWEEN NEW.installed_not_before AND NEW.installed_not_after, false))
    END)::text);
  PERFORM pg_notify('certdeploy_outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER webhook_outbox_failed_update AFTER UPDATE ON deployments
  FOR EACH ROW WHEN (NEW.status = 'failed' AND OLD.status <> 'failed')
  EXECUTE FUNCTION webhook_outbox_failed();
-- deployments_insert_guard admits only pending rows; this is for a bulk
-- load that switched the guard off
CREATE TRIGGER webhook_outbox_failed_insert AFTER INSERT ON deployments
  FOR EACH ROW WHEN (NEW.status = 'failed')
  EXECUTE FUNCTION webhook_outbox_failed();

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,            -- the keyset of GET /api/v1/audit (newest first)
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,                 -- "admin:<token name>"
  method text NOT NULL,
  route text NOT NULL,                 -- the route pattern, e.g. /api/v1/profiles/{id}/resend
  path text NOT NULL,                  -- the concrete path (ids only, never a query)
  status integer NOT NULL,             -- the reply's HTTP status
  target jsonb NOT NULL DEFAULT '{}',  -- path parameters by name, plus a created object's "id"
  summary text NOT NULL                -- "POST /api/v1/profiles/{id}/resend"
);
CREATE INDEX audit_events_actor ON audit_events (actor, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'CD002';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
