/* db_worker.c: claims, leases, renewals. */
#include "db_worker.h"

#include "db_generation.h"
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Due: pending, nothing issued for this generation, retry time reached,
 * no live lease, and in device key mode the device's CSR is there. */
#define DUE_CONDITION                                                                              \
  "d.status = 'pending' AND d.issued_generation IS DISTINCT FROM d.generation "                    \
  "AND (p.key_mode = 'server' OR d.csr_generation = d.generation) "

DB_STMT(claim_next,
        "WITH c AS (SELECT d.device_id, d.profile_id FROM deployments d "
        "           JOIN profiles p ON p.id = d.profile_id WHERE " DUE_CONDITION
        "           AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now()) "
        "           AND (d.claimed_until IS NULL OR d.claimed_until < now()) "
        "           ORDER BY d.next_attempt_at NULLS FIRST LIMIT 1 FOR UPDATE OF d SKIP LOCKED) "
        "UPDATE deployments d SET claimed_until = now() + make_interval(secs => $1::bigint), "
        "claim_id = gen_random_uuid() "
        "FROM c, profiles p, cas, devices dev "
        "WHERE d.device_id = c.device_id AND d.profile_id = c.profile_id AND p.id = d.profile_id "
        "AND cas.id = p.ca_id AND dev.id = d.device_id "
        "RETURNING d.device_id, d.profile_id, d.generation, d.attempts, p.key_mode, d.csr, "
        "p.common_name, coalesce(p.user_principal_names[1], ''), p.seat_id, dev.serial, dev.name, "
        "cas.name, cas.url, cas.api_token_sealed, cas.profile_id, cas.ca_certificate, " DB_TS(
            "d.installed_not_after") ", "
                                     "coalesce(now() BETWEEN d.installed_not_before AND "
                                     "d.installed_not_after, false), "
                                     "d.claim_id");

DB_STMT(claim_confirm,
        "UPDATE deployments SET claimed_until = now() + make_interval(secs => $4::bigint) "
        "WHERE device_id = $1::uuid AND profile_id = $2::uuid AND claim_id = $3::uuid "
        "AND claimed_until > now() AND status = 'pending' "
        "AND issued_generation IS DISTINCT FROM generation");

DB_STMT(claim_drop, "UPDATE deployments SET claimed_until = NULL, claim_id = NULL "
                    "WHERE device_id = $1::uuid AND profile_id = $2::uuid AND claim_id = $3::uuid");

DB_STMT(renew_due, "WITH due AS (SELECT device_id AS dev, profile_id AS prof FROM deployments "
                   "             WHERE status = 'verified' AND renew_at <= now() ORDER BY renew_at "
                   "             LIMIT $1::int FOR UPDATE SKIP LOCKED), "
                   "u AS (UPDATE deployments d SET " DB_NEW_GENERATION_SET
                   ", detail = 'renewal due', updated_at = now() "
                   "      FROM due WHERE d.device_id = due.dev AND d.profile_id = due.prof "
                   "      RETURNING d.device_id, d.profile_id, d.generation) "
                   "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, 'scheduler', "
                   "'renewal_due', 'verified', 'pending', generation, "
                   "'renewal due: the installed certificate entered its renewal window' FROM u");

DB_STMT(notify_work, "SELECT pg_notify('" DB_WORK_CHANNEL "', '')");

DB_STMT(next_due, "SELECT extract(epoch FROM min(greatest(coalesce(d.next_attempt_at, now()), "
                  "coalesce(d.claimed_until, now()))) - now()) FROM deployments d "
                  "JOIN profiles p ON p.id = d.profile_id WHERE " DUE_CONDITION);

int db_claim_next(db_conn *c, long lease_seconds, db_claim *out) {
  int rc;
  char lease[24];
  snprintf(lease, sizeof(lease), "%ld", lease_seconds);
  const char *p[] = {lease};
  memset(out, 0, sizeof(*out));
  PGresult *res = db_exec(c, &claim_next, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    db_col_text(res, 0, 0, out->device_id, sizeof(out->device_id));
    db_col_text(res, 0, 1, out->profile_id, sizeof(out->profile_id));
    out->generation = db_col_int(res, 0, 2);
    out->attempts = db_col_int(res, 0, 3);
    db_col_text(res, 0, 4, out->key_mode, sizeof(out->key_mode));
    out->csr = db_col_dup(res, 0, 5);
    out->common_name = db_col_dup(res, 0, 6);
    out->upn = db_col_dup(res, 0, 7);
    out->seat_id = db_col_dup(res, 0, 8);
    out->device_serial = db_col_dup(res, 0, 9);
    out->device_name = db_col_dup(res, 0, 10);
    out->ca_name = db_col_dup(res, 0, 11);
    out->ca_url = db_col_dup(res, 0, 12);
    out->ca_token_sealed = db_col_dup(res, 0, 13);
    out->ca_profile_id = db_col_dup(res, 0, 14);
    out->ca_certificate = db_col_dup(res, 0, 15);
    db_col_text(res, 0, 16, out->installed_not_after, sizeof(out->installed_not_after));
    out->installed_valid = db_col_bool(res, 0, 17);
    db_col_text(res, 0, 18, out->claim_id, sizeof(out->claim_id));
    clock_gettime(CLOCK_BOOTTIME, &out->claimed_at);
  }
  PQclear(res);
  return n > 0 ? 1 : 0;
}

void db_claim_release(db_claim *cl) {
  if (cl == NULL)
    return;
  free(cl->csr);
  free(cl->common_name);
  free(cl->upn);
  free(cl->seat_id);
  free(cl->device_serial);
  free(cl->device_name);
  free(cl->ca_name);
  free(cl->ca_url);
  free(cl->ca_token_sealed);
  free(cl->ca_profile_id);
  free(cl->ca_certificate);
  memset(cl, 0, sizeof(*cl));
}

int db_claim_drop(db_conn *c, const db_claim *cl) {
  int rc;
  const char *p[] = {cl->device_id, cl->profile_id, cl->claim_id};
  PGresult *res = db_exec(c, &claim_drop, 3, p, &rc);
  if (res == NULL)
    return rc;
  PQclear(res);
  return 0;
}

int db_claim_confirm(db_conn *c, const db_claim *cl, long lease_seconds) {
  char lease[24];
  snprintf(lease, sizeof(lease), "%ld", lease_seconds);
  const char *p[] = {cl->device_id, cl->profile_id, cl->claim_id, lease};
  int n = db_exec_affected(c, &claim_confirm, 4, p);
  return n < 0 ? n : n > 0;
}

int db_renew_due(db_conn *c, int limit) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {lim};
  return db_exec_affected(c, &renew_due, 1, p);
}

int db_next_due_in(db_conn *c, double *seconds) {
  int rc;
  PGresult *res = db_exec(c, &next_due, 0, NULL, &rc);
  if (res == NULL)
    return rc;
  int none = PQgetisnull(res, 0, 0);
  *seconds = none ? -1 : db_col_double(res, 0, 0);
  if (!none && *seconds < 0)
    *seconds = 0;
  PQclear(res);
  return 0;
}

int db_notify_work(db_conn *c) {
  int rc = db_exec_affected(c, &notify_work, 0, NULL);
  return rc < 0 ? rc : 0;
}
