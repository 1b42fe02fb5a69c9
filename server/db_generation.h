/*
 * db_generation.h: SQL fragments shared by every statement that starts a
 * new generation of a deployment (renewal, profile edit, resend), so the
 * reset is spelled once. For db_*.c files only.
 */
#ifndef CERTDEPLOY_DB_GENERATION_H
#define CERTDEPLOY_DB_GENERATION_H

/* SET list: pending, generation + 1, attempts 0, failure cleared, the
 * previous generation's CSR, key and issued certificate forgotten. The
 * installed certificate stays: the device still holds it. Statements
 * that are not GUARDED (db_deployments.c) add updated_at themselves. */
#define DB_NEW_GENERATION_SET                                                                      \
  "status = 'pending', generation = generation + 1, attempts = 0, failure_source = NULL, "         \
  "next_attempt_at = now(), claimed_until = NULL, claim_id = NULL, csr = NULL, "                   \
  "csr_generation = NULL, key_sealed = NULL, issued_generation = NULL, issued_serial = NULL, "     \
  "issued_pem = NULL, issued_chain = NULL, issued_not_before = NULL, issued_not_after = NULL, "    \
  "issued_sha256 = NULL"

/* Lets the transaction move failed deployments to pending: the state
 * guard (db/schema/0002_deployments.sql) allows that way out of `failed`
 * only with certdeploy.resend set, as an admin resend sets it, for the
 * rest of its transaction. */
#define DB_RESEND_ALLOW "SELECT set_config('certdeploy.resend', 'on', true)"

/* Column list of deployment_history inserts. */
#define DB_HISTORY_COLUMNS                                                                         \
  "deployment_history (device_id, profile_id, actor, event, from_status, to_status, generation, "  \
  "detail)"

#endif
