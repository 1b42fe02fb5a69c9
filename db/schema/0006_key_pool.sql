-- 0006_key_pool: RSA keys generated ahead of need for server key mode.
-- A 2048-bit key takes tens of milliseconds of CPU; a renewal storm would
-- otherwise wait on key generation rather than on the CA. Keys are sealed
-- with the master key like every server-held key, and each is taken once.
CREATE TABLE key_pool (
  id bigserial PRIMARY KEY,
  key_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
