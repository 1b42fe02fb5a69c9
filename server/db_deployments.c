/* db_deployments.c: one deployment's reads and guarded transitions. */
#include "db_deployments.h"

#include "db_generation.h"
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What every read of a deployment starts with (read_deployment_head). */
#define DEPLOYMENT_HEAD_COLUMNS "d.device_id, d.profile_id, p.name, p.key_mode, d.status, "
/* Its columns, in its order. */
enum {
  HEAD_DEVICE_ID,
  HEAD_PROFILE_ID,
  HEAD_PROFILE_NAME,
  HEAD_KEY_MODE,
  HEAD_STATUS,
  HEAD_NCOLUMNS
};

// clang-format off
#define DEPLOYMENT_COLUMNS                                                                         \
  DEPLOYMENT_HEAD_COLUMNS "coalesce(d.failure_source, ''), d.detail, d.attempts, "                \
  DB_TS("d.next_attempt_at") ", "                                                                  \
  "d.generation, " DB_TS("d.updated_at") ", coalesce(d.issued_generation = d.generation, false), " \
  "coalesce(d.csr_generation = d.generation, false), " DB_CERT_COLUMNS("issued") ", "              \
  DB_CERT_COLUMNS("installed") ", " DB_TS("d.renew_at") ", p.common_name, "                        \
  "coalesce(p.renew_before_days, 0) "
// clang-format on
/* The columns of DEPLOYMENT_COLUMNS, in its order (read_deployment). */
enum {
  DEPLOYMENT_FAILURE_SOURCE = HEAD_NCOLUMNS,
  DEPLOYMENT_DETAIL,
  DEPLOYMENT_ATTEMPTS,
  DEPLOYMENT_NEXT_ATTEMPT_AT,
  DEPLOYMENT_GENERATION,
  DEPLOYMENT_UPDATED_AT,
  DEPLOYMENT_ISSUED_FOR_GENERATION,
  DEPLOYMENT_CSR_FOR_GENERATION,
  DEPLOYMENT_ISSUED,                                           /* DB_CERT_COLUMNS("issued") */
  DEPLOYMENT_INSTALLED = DEPLOYMENT_ISSUED + DB_CERT_NCOLUMNS, /* DB_CERT_COLUMNS("installed") */
  DEPLOYMENT_RENEW_AT = DEPLOYMENT_INSTALLED + DB_CERT_NCOLUMNS,
  DEPLOYMENT_COMMON_NAME,
  DEPLOYMENT_RENEW_BEFORE_DAYS
};

#define DEPLOYMENT_SELECT                                                                          \
  "SELECT " DEPLOYMENT_COLUMNS "FROM deployments d JOIN profiles p ON p.id = d.profile_id "

DB_STMT(deployment_get,
        DEPLOYMENT_SELECT "WHERE d.device_id = $1::uuid AND d.profile_id = $2::uuid");
DB_STMT(deployment_get_lock, DEPLOYMENT_SELECT
        "WHERE d.device_id = $1::uuid AND d.profile_id = $2::uuid FOR UPDATE OF d");
DB_STMT(deployment_list_device, DEPLOYMENT_SELECT "WHERE d.device_id = $1::uuid ORDER BY p.name");

/* What a check-in decides with (read_checkin_deployment): the state, the
 * profile's key mode, common name and window, and the issued
 * certificate's hash, with its validity only while it awaits
 * confirmation; and the detail the reply shows the device (why it
 * failed, what a pending one waits for). Not DEPLOYMENT_COLUMNS: the
 * check-in is the busiest query and each column and to_char() costs. */
// clang-format off
#define CHECKIN_ISSUED_TS(col)                                                                     \
  "CASE WHEN d.status IN ('pending', 'verifying') THEN " DB_TS(col) " END"
#define CHECKIN_COLUMNS                                                                            \
  DEPLOYMENT_HEAD_COLUMNS "d.attempts, d.generation, "                                             \
  "coalesce(d.issued_generation = d.generation, false), "                                          \
  "coalesce(d.csr_generation = d.generation, false), d.issued_sha256, "                            \
  CHECKIN_ISSUED_TS("d.issued_not_before") ", " CHECKIN_ISSUED_TS("d.issued_not_after") ", "       \
  "p.common_name, coalesce(p.renew_before_days, 0), d.detail "
// clang-format on
/* The columns of CHECKIN_COLUMNS, in its order (read_checkin_deployment). */
enum {
  CHECKIN_ATTEMPTS = HEAD_NCOLUMNS,
  CHECKIN_GENERATION,
  CHECKIN_ISSUED_FOR_GENERATION,
  CHECKIN_CSR_FOR_GENERATION,
  CHECKIN_ISSUED_SHA256,
  CHECKIN_ISSUED_NOT_BEFORE,
  CHECKIN_ISSUED_NOT_AFTER,
  CHECKIN_COMMON_NAME,
  CHECKIN_RENEW_BEFORE_DAYS,
  CHECKIN_DETAIL
};

/* The check-ins' reads (db_async_read()): for each token hash in $1, its
 * device and deployments (one row with NULL deployment columns when it
 * has none), a device's rows together. The unique index on token_hash
 * returns them in its order, so the ORDER BY costs no Sort node; each
 * device's rows are sorted by profile name in C. The deployment's
 * columns start after the device's, at DB_DEVICE_IDENTITY_NCOLUMNS. */
// clang-format off
DB_STMT(device_checkin_load,
        "SELECT " DB_DEVICE_IDENTITY_COLUMNS("v") ", " CHECKIN_COLUMNS
        "FROM devices v LEFT JOIN (deployments d JOIN profiles p ON p.id = d.profile_id) "
        "ON d.device_id = v.id WHERE v.token_hash = ANY ($1::text[]) ORDER BY v.token_hash");
// clang-format on

/* Every transition: update guarded by (status, generation), then history
 * from the returned row. $1 device, $2 profile, $3 expected status, $4
 * expected generation; the history's actor, event, to-status and detail
 * follow as numbered; cond adds conditions ("" for none). */
#define GUARDED(set, cond, to, actor, event, detail)                                               \
  "WITH u AS (UPDATE deployments SET " set ", updated_at = now() "                                 \
  "WHERE device_id = $1::uuid AND profile_id = $2::uuid AND status = $3::deployment_status "       \
  "AND generation = $4::int " cond " RETURNING device_id, profile_id, generation) "                \
  "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, " actor ", " event ", "        \
  "$3::deployment_status, " to ", generation, " detail " FROM u"

DB_STMT(deployment_apply,
        GUARDED("status = $5::deployment_status, attempts = $6::int, failure_source = $7, "
                "detail = $8, claimed_until = NULL, claim_id = NULL, "
                "next_attempt_at = CASE WHEN $9::bigint IS NULL "
                "THEN NULL ELSE now() + make_interval(secs => $9::bigint) END",
                "AND ($12::uuid IS NULL OR (claim_id = $12::uuid "
                "AND issued_generation IS DISTINCT FROM generation))",
                "$5::deployment_status", "$10", "$11", "$8"));

DB_STMT(deployment_issued,
        GUARDED("issued_generation = generation, issued_serial = $5, issued_pem = $6, "
                "issued_chain = $7, issued_not_before = $8::timestamptz, "
                "issued_not_after = $9::timestamptz, issued_sha256 = $10, key_sealed = $11, "
                "csr = coalesce($12, csr), attempts = $13::int, detail = $14, "
                "next_attempt_at = NULL, claimed_until = NULL, claim_id = NULL",
                "AND issued_generation IS DISTINCT FROM generation AND claim_id = $16::uuid",
                "'pending'", "$15", "'ca_issued'", "$14"));

DB_STMT(deployment_verified,
        GUARDED("status = 'verified', installed_serial = issued_serial, "
                "installed_not_before = issued_not_before, installed_not_after = issued_not_after, "
                "installed_sha256 = issued_sha256, key_sealed = NULL, renew_at = $5::timestamptz, "
                "detail = $6, next_attempt_at = NULL",
                "AND issued_generation = generation", "'verified'", "$7", "$8", "$6"));

DB_STMT(deployment_new_generation,
        GUARDED(DB_NEW_GENERATION_SET ", detail = $5", "", "'pending'", "$6", "$7", "$5"));

DB_STMT(resend_allow, DB_RESEND_ALLOW);

/* Only while the deployment is still in that status and generation; the
 * row lock orders it with a concurrent transition (e.g. a resend), so the
 * history's last row always tells the current status. */
DB_STMT(history_append,
        "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, $5, $6, status, status, "
        "generation, $7 FROM deployments WHERE device_id = $1::uuid AND profile_id = $2::uuid "
        "AND status = $3::deployment_status AND generation = $4::int FOR SHARE");

DB_STMT(deployment_store_csr,
        "WITH u AS (UPDATE deployments SET csr = $4, csr_generation = generation, "
        "next_attempt_at = now(), updated_at = now() "
        "WHERE device_id = $1::uuid AND profile_id = $2::uuid AND status = 'pending' "
        "AND generation = $3::int AND issued_generation IS DISTINCT FROM generation "
        "RETURNING device_id, profile_id, generation) "
        "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, 'device:' || $1, "
        "'csr_received', 'pending', 'pending', generation, 'the device sent its CSR' FROM u");

DB_STMT(deployment_key,
        "SELECT key_sealed, issued_pem, issued_chain FROM deployments WHERE device_id = $1::uuid "
        "AND profile_id = $2::uuid AND generation = $3::int AND issued_generation = generation");

void db_read_cert(const PGresult *res, int row, int col, db_cert *cert) {
  cert->present = !PQgetisnull(res, row, col + DB_CERT_SERIAL);
  db_col_text(res, row, col + DB_CERT_SERIAL, cert->serial, sizeof(cert->serial));
  db_col_text(res, row, col + DB_CERT_NOT_BEFORE, cert->not_before, sizeof(cert->not_before));
  db_col_text(res, row, col + DB_CERT_NOT_AFTER, cert->not_after, sizeof(cert->not_after));
  db_col_text(res, row, col + DB_CERT_SHA256, cert->sha256, sizeof(cert->sha256));
  cert->valid = db_col_bool(res, row, col + DB_CERT_VALID);
}

/* DEPLOYMENT_HEAD_COLUMNS from column o on. */
static void read_deployment_head(const PGresult *res, int row, int o, db_deployment *d) {
  char status[16];
  db_col_text(res, row, o + HEAD_DEVICE_ID, d->device_id, sizeof(d->device_id));
  db_col_text(res, row, o + HEAD_PROFILE_ID, d->profile_id, sizeof(d->profile_id));
  db_col_text(res, row, o + HEAD_PROFILE_NAME, d->profile_name, sizeof(d->profile_name));
  db_col_text(res, row, o + HEAD_KEY_MODE, d->key_mode, sizeof(d->key_mode));
  db_col_text(res, row, o + HEAD_STATUS, status, sizeof(status));
  d->status = state_status_parse(status);
}

/* DEPLOYMENT_COLUMNS from column o on. */
static void read_deployment(const PGresult *res, int row, int o, db_deployment *d) {
  memset(d, 0, sizeof(*d));
  read_deployment_head(res, row, o, d);
  db_col_text(res, row, o + DEPLOYMENT_FAILURE_SOURCE, d->failure_source,
              sizeof(d->failure_source));
  db_col_text(res, row, o + DEPLOYMENT_DETAIL, d->detail, sizeof(d->detail));
  d->attempts = db_col_int(res, row, o + DEPLOYMENT_ATTEMPTS);
  db_col_text(res, row, o + DEPLOYMENT_NEXT_ATTEMPT_AT, d->next_attempt_at,
              sizeof(d->next_attempt_at));
  d->generation = db_col_int(res, row, o + DEPLOYMENT_GENERATION);
  db_col_text(res, row, o + DEPLOYMENT_UPDATED_AT, d->updated_at, sizeof(d->updated_at));
  d->issued_for_generation = db_col_bool(res, row, o + DEPLOYMENT_ISSUED_FOR_GENERATION);
  d->csr_for_generation = db_col_bool(res, row, o + DEPLOYMENT_CSR_FOR_GENERATION);
  db_read_cert(res, row, o + DEPLOYMENT_ISSUED, &d->issued);
  db_read_cert(res, row, o + DEPLOYMENT_INSTALLED, &d->installed);
  db_col_text(res, row, o + DEPLOYMENT_RENEW_AT, d->renew_at, sizeof(d->renew_at));
  db_col_text(res, row, o + DEPLOYMENT_COMMON_NAME, d->common_name, sizeof(d->common_name));
  d->renew_before_days = db_col_int(res, row, o + DEPLOYMENT_RENEW_BEFORE_DAYS);
}

int db_deployment_get(db_conn *c, const char *device_id, const char *profile_id, int lock,
                      db_deployment *out) {
  int rc;
  const char *p[] = {device_id, profile_id};
  PGresult *res = db_exec(c, lock ? &deployment_get_lock : &deployment_get, 2, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    read_deployment(res, 0, 0, out);
  PQclear(res);
  return n > 0 ? 1 : 0;
}

/* A row of CHECKIN_COLUMNS from column o on. */
static void read_checkin_deployment(const PGresult *res, int row, int o, db_deployment *d) {
  read_deployment_head(res, row, o, d);
  d->attempts = db_col_int(res, row, o + CHECKIN_ATTEMPTS);
  d->generation = db_col_int(res, row, o + CHECKIN_GENERATION);
  d->issued_for_generation = db_col_bool(res, row, o + CHECKIN_ISSUED_FOR_GENERATION);
  d->csr_for_generation = db_col_bool(res, row, o + CHECKIN_CSR_FOR_GENERATION);
  d->issued.present = !PQgetisnull(res, row, o + CHECKIN_ISSUED_SHA256);
  db_col_text(res, row, o + CHECKIN_ISSUED_SHA256, d->issued.sha256, sizeof(d->issued.sha256));
  db_col_text(res, row, o + CHECKIN_ISSUED_NOT_BEFORE, d->issued.not_before,
              sizeof(d->issued.not_before));
  db_col_text(res, row, o + CHECKIN_ISSUED_NOT_AFTER, d->issued.not_after,
              sizeof(d->issued.not_after));
  db_col_text(res, row, o + CHECKIN_COMMON_NAME, d->common_name, sizeof(d->common_name));
  d->renew_before_days = db_col_int(res, row, o + CHECKIN_RENEW_BEFORE_DAYS);
  db_col_text(res, row, o + CHECKIN_DETAIL, d->detail, sizeof(d->detail));
}

/* Reads the deployments of rows [first, first + n) from column o on, each
 * with read_row, into a malloc'd array (at least one element). Returns 0,
 * or DB_HARD_ERROR. */
static int read_deployments(const PGresult *res, int first, int n, int o,
                            void (*read_row)(const PGresult *, int, int, db_deployment *),
                            db_deployment **rows) {
  *rows = calloc((size_t)(n ? n : 1), sizeof(db_deployment));
  if (*rows == NULL)
    return DB_HARD_ERROR;
  for (int i = 0; i < n; i++)
    read_row(res, first + i, o, &(*rows)[i]);
  return 0;
}

static int by_profile_name(const void *a, const void *b) {
  return strcmp(((const db_deployment *)a)->profile_name, ((const db_deployment *)b)->profile_name);
}

int db_deployment_list_for_device(db_conn *c, const char *device_id, db_deployment **rows) {
  int rc;
  const char *p[] = {device_id};
  PGresult *res = db_exec(c, &deployment_list_device, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  rc = read_deployments(res, 0, n, 0, read_deployment, rows);
  PQclear(res);
  return rc < 0 ? rc : n;
}

/* The read's end, on the reads' thread: the device's rows, [row, row + n)
 * of res, into the caller's db_checkin, then its callback. */
static void checkin_read_done(void *arg, const PGresult *res, int row, int n, int rc) {
  db_checkin *out = arg;
  if (n > 0) {
    db_read_device_identity(res, row, &out->dev);
    /* d.device_id is NULL without deployments */
    out->count = PQgetisnull(res, row, DB_DEVICE_IDENTITY_NCOLUMNS + HEAD_DEVICE_ID) ? 0 : n;
  }
  if (res == NULL) {
    out->found = rc;
  } else if (read_deployments(res, row, out->count, DB_DEVICE_IDENTITY_NCOLUMNS,
                              read_checkin_deployment, &out->rows) != 0) {
    out->found = DB_HARD_ERROR;
    out->count = 0;
  } else {
    qsort(out->rows, (size_t)out->count, sizeof(db_deployment), by_profile_name);
    out->found = n > 0;
  }
  out->done(out->arg);
}

void db_device_checkin_read(struct db_async *q, const char *token_hash, db_checkin *out,
                            void (*done)(void *arg), void *arg) {
  memset(out, 0, sizeof(*out));
  out->done = done;
  out->arg = arg;
  db_async_read(q, &device_checkin_load, DB_DEVICE_IDENTITY_TOKEN_HASH, token_hash,
                checkin_read_done, out);
}

void db_checkin_release(db_checkin *ck) {
  free(ck->rows);
  ck->rows = NULL;
  ck->count = 0;
}

int db_deployment_apply(db_conn *c, const char *device_id, const char *profile_id,
                        const db_change *ch) {
  char gen[16], attempts[16], retry[24];
  snprintf(gen, sizeof(gen), "%d", ch->generation);
  snprintf(attempts, sizeof(attempts), "%d", ch->attempts);
  snprintf(retry, sizeof(retry), "%ld", ch->retry_in_seconds);
  const char *p[] = {device_id,
                     profile_id,
                     state_status_name(ch->from),
                     gen,
                     state_status_name(ch->to),
                     attempts,
                     state_failure_name(ch->failure),
                     ch->detail ? ch->detail : "",
                     ch->to == STATUS_PENDING && ch->retry_in_seconds >= 0 ? retry : NULL,
                     ch->actor,
                     state_event_name(ch->event),
                     ch->claim_id};
  return db_exec_affected(c, &deployment_apply, 12, p);
}

int db_deployment_issued(db_conn *c, const char *device_id, const char *profile_id,
                         const db_change *ch, const db_issued *cert) {
  char gen[16], attempts[16];
  snprintf(gen, sizeof(gen), "%d", ch->generation);
  snprintf(attempts, sizeof(attempts), "%d", ch->attempts);
  const char *p[] = {device_id,        profile_id,
                     "pending",        gen,
                     cert->serial,     cert->pem,
                     cert->chain,      cert->not_before,
                     cert->not_after,  cert->sha256,
                     cert->key_sealed, cert->csr,
                     attempts,         ch->detail ? ch->detail : "",
                     ch->actor,        ch->claim_id};
  return db_exec_affected(c, &deployment_issued, 16, p);
}

int db_deployment_verified(db_conn *c, const char *device_id, const char *profile_id,
                           const db_change *ch, const char *renew_at) {
  char gen[16];
  snprintf(gen, sizeof(gen), "%d", ch->generation);
  const char *p[] = {device_id,   profile_id,
                     "verifying", gen,
                     renew_at,    ch->detail ? ch->detail : "",
                     ch->actor,   state_event_name(ch->event)};
  return db_exec_affected(c, &deployment_verified, 8, p);
}

int db_deployment_new_generation(db_conn *c, const char *device_id, const char *profile_id,
                                 const db_change *ch) {
  char gen[16];
  snprintf(gen, sizeof(gen), "%d", ch->generation);
  const char *p[] = {device_id,
                     profile_id,
                     state_status_name(ch->from),
                     gen,
                     ch->detail ? ch->detail : "",
                     ch->actor,
                     state_event_name(ch->event)};
  return db_exec_affected(c, &deployment_new_generation, 7, p);
}

int db_deployment_resend_failed(db_conn *c, const char *device_id, const char *profile_id,
                                const db_change *ch) {
  int rc = db_exec_affected(c, &resend_allow, 0, NULL);
  if (rc < 0)
    return rc;
  return db_deployment_new_generation(c, device_id, profile_id, ch);
}

int db_history_append(db_conn *c, const char *device_id, const char *profile_id,
                      const db_change *ch) {
  char gen[16];
  snprintf(gen, sizeof(gen), "%d", ch->generation);
  const char *p[] = {device_id,
                     profile_id,
                     state_status_name(ch->from),
                     gen,
                     ch->actor,
                     state_event_name(ch->event),
                     ch->detail ? ch->detail : ""};
  return db_exec_affected(c, &history_append, 7, p);
}

int db_deployment_store_csr(db_conn *c, const char *device_id, const char *profile_id,
                            int generation, const char *csr) {
  char gen[16];
  snprintf(gen, sizeof(gen), "%d", generation);
  const char *p[] = {device_id, profile_id, gen, csr};
  return db_exec_affected(c, &deployment_store_csr, 4, p);
}

int db_deployment_key(db_conn *c, const char *device_id, const char *profile_id, int generation,
                      char **key_sealed, char **cert_pem, char **chain_pem) {
  int rc;
  char gen[16];
  snprintf(gen, sizeof(gen), "%d", generation);
  const char *p[] = {device_id, profile_id, gen};
  *key_sealed = *cert_pem = *chain_pem = NULL;
  PGresult *res = db_exec(c, &deployment_key, 3, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    *key_sealed = db_col_dup(res, 0, 0);
    *cert_pem = db_col_dup(res, 0, 1);
    *chain_pem = db_col_dup(res, 0, 2);
  }
  PQclear(res);
  return n > 0 ? 1 : 0;
}
