-- 0002_deployments: CAs, profiles, devices, enroll secrets, deployments,
-- their append-only history, and the state machine guard.

CREATE TABLE enroll_secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  secret_hash text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enroll_secrets_created ON enroll_secrets (created_at, id);

CREATE TABLE cas (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  type text NOT NULL CHECK (type = 'digicert'),
  url text NOT NULL,
  api_token_sealed text NOT NULL,      -- AES-256-GCM with the master key, never plain
  profile_id text NOT NULL,
  ca_certificate text,                 -- extra trust anchor (PEM) for the CA's HTTPS
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cas_created ON cas (created_at, id);

CREATE TABLE profiles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  ca_id uuid NOT NULL REFERENCES cas (id) ON DELETE RESTRICT,
  common_name text NOT NULL,
  user_principal_names text[] NOT NULL DEFAULT '{}',
  seat_id text NOT NULL,
  key_mode text NOT NULL DEFAULT 'server' CHECK (key_mode IN ('server', 'device')),
  renew_before_days integer CHECK (renew_before_days BETWEEN 1 AND 3650),
  assign_all boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_created ON profiles (created_at, id);
CREATE INDEX profiles_ca ON profiles (ca_id);

CREATE TABLE devices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  serial text NOT NULL UNIQUE CHECK (length(serial) BETWEEN 1 AND 128),
  name text NOT NULL DEFAULT '',
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  last_checkin_at timestamptz
);
CREATE INDEX devices_enrolled ON devices (enrolled_at, id);

CREATE TYPE deployment_status AS ENUM ('pending', 'verifying', 'verified', 'failed');

CREATE TABLE deployments (
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  profile_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  status deployment_status NOT NULL DEFAULT 'pending',
  failure_source text CHECK (failure_source IN ('server', 'device')),
  detail text NOT NULL DEFAULT '',
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz,
  generation integer NOT NULL DEFAULT 1 CHECK (generation >= 1),
  claimed_until timestamptz,           -- a worker's lease on the CA request
  csr text,                            -- the CSR for csr_generation
  csr_generation integer,
  key_sealed text,                     -- server key mode: sealed private key until verified
  issued_generation integer,           -- the generation issued_* belongs to
  issued_serial text,
  issued_pem text,
  issued_chain text,
  issued_not_before timestamptz,
  issued_not_after timestamptz,
  issued_sha256 text,
  installed_serial text,
  installed_not_before timestamptz,
  installed_not_after timestamptz,
  installed_sha256 text,
  renew_at timestamptz,                -- when the installed certificate is due for renewal
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, profile_id),
  CHECK ((status = 'failed') = (failure_source IS NOT NULL))
);
CREATE INDEX deployments_profile_status ON deployments (profile_id, status);
CREATE INDEX deployments_due ON deployments (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deployments_renew ON deployments (renew_at) WHERE status = 'verified';

-- History: one row per transition (and per ignored event on a failed
-- deployment). No foreign keys: it outlives unassignment and deletion.
CREATE TABLE deployment_history (
  id bigserial PRIMARY KEY,
  device_id uuid NOT NULL,
  profile_id uuid NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,
  event text NOT NULL,
  from_status deployment_status,
  to_status deployment_status,
  generation integer NOT NULL,
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX deployment_history_lookup ON deployment_history (device_id, profile_id, id);

CREATE FUNCTION deployment_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'deployment_history is append-only' USING ERRCODE = 'CD002';
END $$;
CREATE TRIGGER deployment_history_append_only BEFORE UPDATE OR DELETE ON deployment_history
  FOR EACH ROW EXECUTE FUNCTION deployment_history_append_only();

-- The state machine's allowed status changes; mirrors server/state.c.
CREATE TABLE deployment_transitions (
  from_status deployment_status NOT NULL,
  to_status deployment_status NOT NULL,
  new_generation boolean NOT NULL,   -- the move starts a new generation
  PRIMARY KEY (from_status, to_status, new_generation)
);
INSERT INTO deployment_transitions VALUES
  ('pending', 'pending', false),     -- issued, or a transient CA error
  ('pending', 'verifying', false),   -- delivered at check-in
  ('pending', 'failed', false),      -- CA refused / retries exhausted / device error
  ('pending', 'pending', true),      -- profile subject edited
  ('verifying', 'verifying', false), -- delivered again
  ('verifying', 'verified', false),  -- device confirmed the issued certificate
  ('verifying', 'failed', false),    -- device install error
  ('verifying', 'pending', true),    -- profile subject edited
  ('verified', 'pending', true),     -- renewal due, profile edited, admin resend
  ('failed', 'pending', true);       -- admin resend (only with certdeploy.resend set)

-- The guard: a failed deployment leaves `failed` only through the admin
-- resend path (deployment_resend sets certdeploy.resend for its
-- transaction); every other change must be in deployment_transitions.
CREATE FUNCTION deployments_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bumped boolean := NEW.generation <> OLD.generation;
BEGIN
  IF NEW.generation NOT IN (OLD.generation, OLD.generation + 1) THEN
    RAISE EXCEPTION 'generation of deployment %/% may only grow by one (% -> %)',
      OLD.device_id, OLD.profile_id, OLD.generation, NEW.generation USING ERRCODE = 'CD001';
  END IF;
  IF OLD.status = 'failed' THEN
    IF NEW.status = 'failed' AND NOT bumped
       AND NEW.detail = OLD.detail AND NEW.failure_source = OLD.failure_source THEN
      RETURN NEW;  -- bookkeeping (e.g. a lease) that leaves the failure as it is
    END IF;
    IF current_setting('certdeploy.resend', true) IS DISTINCT FROM 'on' THEN
      RAISE EXCEPTION 'deployment %/% is failed (%); only an admin resend may change it',
        OLD.device_id, OLD.profile_id, OLD.detail USING ERRCODE = 'CD001';
    END IF;
    IF NEW.status <> 'pending' OR NOT bumped OR NEW.attempts <> 0 OR NEW.failure_source IS NOT NULL THEN
      RAISE EXCEPTION 'a resend moves a failed deployment to pending with a new generation, attempts 0'
        USING ERRCODE = 'CD001';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.status = OLD.status AND NOT bumped THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM deployment_transitions
                  WHERE from_status = OLD.status AND to_status = NEW.status
                    AND new_generation = bumped) THEN
    RAISE EXCEPTION 'deployment %/% cannot go from % to % %',
      OLD.device_id, OLD.profile_id, OLD.status, NEW.status,
      CASE WHEN bumped THEN 'with a new generation' ELSE 'in the same generation' END USING ERRCODE = 'CD001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER deployments_guard BEFORE UPDATE ON deployments
  FOR EACH ROW EXECUTE FUNCTION deployments_guard();

CREATE FUNCTION deployments_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'pending' OR NEW.generation <> 1 THEN
    RAISE EXCEPTION 'a new deployment starts pending at generation 1' USING ERRCODE = 'CD001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER deployments_insert_guard BEFORE INSERT ON deployments
  FOR EACH ROW EXECUTE FUNCTION deployments_insert_guard();
