/* db_profiles.c: statements on profiles. */
#include "db_profiles.h"

#include "db_generation.h"
#include "db_internal.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
#define PROFILE_TIME(col)                                                                          \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The counts read the deployments_profile_status index (profile_id, status). */
#define PROFILE_SELECT                                                                             \
  "SELECT p.id, p.name, p.ca_id, c.name, p.common_name, p.user_principal_names[1], p.seat_id, "    \
  "p.key_mode, p.renew_before_days, p.assign_all, " PROFILE_TIME("p.created_at") ", "              \
  PROFILE_TIME("p.updated_at") ", k.pending, k.verifying, k.verified, k.failed "                   \
  "FROM profiles p JOIN cas c ON c.id = p.ca_id "                                                  \
  "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE d.status = 'pending')::int AS pending, "      \
  "  count(*) FILTER (WHERE d.status = 'verifying')::int AS verifying, "                          \
  "  count(*) FILTER (WHERE d.status = 'verified')::int AS verified, "                            \
  "  count(*) FILTER (WHERE d.status = 'failed')::int AS failed "                                 \
  "  FROM deployments d WHERE d.profile_id = p.id) k "

/* $1..$8: name, ca_id, common_name, upn (NULL none), seat_id, key_mode,
 * renew_before_days (NULL default), assign_all */
#define PROFILE_UPNS "CASE WHEN $4::text IS NULL THEN '{}'::text[] ELSE ARRAY[$4::text] END"

DB_STMT(profiles_insert,
        "INSERT INTO profiles (name, ca_id, common_name, user_principal_names, seat_id, key_mode, "
        "renew_before_days, assign_all) VALUES ($1, $2::uuid, $3, " PROFILE_UPNS
        ", $5, $6, $7::int, $8::boolean) RETURNING id");
DB_STMT(profiles_get, PROFILE_SELECT "WHERE p.id = $1::uuid");
DB_STMT(profiles_exists, "SELECT 1 FROM profiles WHERE id = $1::uuid");
DB_STMT(profiles_lock, "SELECT 1 FROM profiles WHERE id = $1::uuid FOR UPDATE");
DB_STMT(profiles_list, PROFILE_SELECT
        "WHERE $1::timestamptz IS NULL OR (p.created_at, p.id) > ($1::timestamptz, $2::uuid) "
        "ORDER BY p.created_at, p.id LIMIT $3::int");
DB_STMT(profiles_update,
        "UPDATE profiles SET name = $1, ca_id = $2::uuid, common_name = $3, "
        "user_principal_names = " PROFILE_UPNS ", seat_id = $5, key_mode = $6, "
        "renew_before_days = $7::int, assign_all = $8::boolean, updated_at = now() "
        "WHERE id = $9::uuid");
/* Deployments go first, explicitly, so each leaves a history row; the
 * cascade then finds nothing left. */
DB_STMT(profiles_delete,
        "WITH dep AS (DELETE FROM deployments WHERE profile_id = $1::uuid "
        "             RETURNING device_id, profile_id, status, generation), "
        "hist AS (INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, $2, "
        "         'profile_deleted', status, NULL, generation, 'profile deleted; history kept' "
        "         FROM dep RETURNING 1), "
        "gone AS (DELETE FROM profiles WHERE id = $1::uuid RETURNING 1) "
        "SELECT (SELECT count(*) FROM gone)::int, (SELECT count(*) FROM hist)::int");
DB_STMT(profiles_resend_allow, DB_RESEND_ALLOW);
/* Every deployment of profile $1 in status $2, to a new generation, with
 * history by actor $3. */
DB_STMT(profiles_resend,
        "WITH old AS (SELECT device_id AS dev, status AS old_status FROM deployments "
        "             WHERE profile_id = $1::uuid AND status = $2::deployment_status FOR UPDATE), "
        "u AS (UPDATE deployments d SET " DB_NEW_GENERATION_SET
        ", detail = 'admin resend', updated_at = now() "
        "      FROM old WHERE d.profile_id = $1::uuid AND d.device_id = old.dev "
        "      RETURNING d.device_id, d.profile_id, d.generation, old.old_status) "
        "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, $3, 'resend', "
        "old_status, 'pending', generation, 'admin resend' FROM u");
/* clang-format on */

static int row_to_profile(const PGresult *res, int row, void *out) {
  db_profile *p = out;
  memset(p, 0, sizeof(*p));
  db_col_text(res, row, 0, p->id, sizeof(p->id));
  db_col_text(res, row, 1, p->name, sizeof(p->name));
  db_col_text(res, row, 2, p->ca_id, sizeof(p->ca_id));
  db_col_text(res, row, 3, p->ca_name, sizeof(p->ca_name));
  db_col_text(res, row, 4, p->common_name, sizeof(p->common_name));
  p->has_upn = !PQgetisnull(res, row, 5);
  db_col_text(res, row, 5, p->upn, sizeof(p->upn));
  db_col_text(res, row, 6, p->seat_id, sizeof(p->seat_id));
  db_col_text(res, row, 7, p->key_mode, sizeof(p->key_mode));
  p->renew_before_days = db_col_int(res, row, 8);
  p->assign_all = db_col_bool(res, row, 9);
  db_col_text(res, row, 10, p->created_at, sizeof(p->created_at));
  db_col_text(res, row, 11, p->updated_at, sizeof(p->updated_at));
  p->pending = db_col_int(res, row, 12);
  p->verifying = db_col_int(res, row, 13);
  p->verified = db_col_int(res, row, 14);
  p->failed = db_col_int(res, row, 15);
  return 0;
}

static const db_row_reader profile_reader = {sizeof(db_profile), row_to_profile, NULL};

/* The eight parameters shared by insert and update. */
static void fields_params(const db_profile_fields *f, char renew[16], const char *p[8]) {
  if (f->renew_before_days > 0)
    snprintf(renew, 16, "%d", f->renew_before_days);
  p[0] = f->name;
  p[1] = f->ca_id;
  p[2] = f->common_name;
  p[3] = f->upn;
  p[4] = f->seat_id;
  p[5] = f->key_mode;
  p[6] = f->renew_before_days > 0 ? renew : NULL;
  p[7] = f->assign_all ? "true" : "false";
}

int db_profile_insert(db_conn *c, const db_profile_fields *f, char id_out[40]) {
  int rc;
  char renew[16];
  const char *p[8];
  fields_params(f, renew, p);
  PGresult *res = db_exec(c, &profiles_insert, 8, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n == 1)
    db_col_text(res, 0, 0, id_out, 40);
  PQclear(res);
  return n == 1 ? 1 : DB_HARD_ERROR;
}

int db_profile_get(db_conn *c, const char *id, db_profile *out) {
  int rc;
  const char *p[] = {id};
  PGresult *res = db_exec(c, &profiles_get, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res) > 0 ? 1 : 0;
  if (n)
    row_to_profile(res, 0, out);
  PQclear(res);
  return n;
}

/* 1 when stmt, whose one parameter is the profile id, finds a row; 0
 * when not. */
static int profile_found(db_conn *c, db_stmt *stmt, const char *id) {
  int rc;
  const char *p[] = {id};
  PGresult *res = db_exec(c, stmt, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res) > 0 ? 1 : 0;
  PQclear(res);
  return n;
}

int db_profile_lock(db_conn *c, const char *id) {
  return profile_found(c, &profiles_lock, id);
}

int db_profile_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                    db_profile **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_created, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &profiles_list, 3, p, &profile_reader, &found);
  *rows = found;
  return n;
}

int db_profile_update(db_conn *c, const char *id, const db_profile_fields *f) {
  char renew[16];
  const char *p[9];
  fields_params(f, renew, p);
  p[8] = id;
  return db_exec_affected(c, &profiles_update, 9, p);
}

int db_profile_delete(db_conn *c, const char *id, const char *actor) {
  int rc;
  const char *p[] = {id, actor};
  PGresult *res = db_exec(c, &profiles_delete, 2, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res) == 1 ? db_col_int(res, 0, 0) : 0;
  PQclear(res);
  return n > 0 ? 1 : 0;
}

int db_profile_exists(db_conn *c, const char *profile_id) {
  return profile_found(c, &profiles_exists, profile_id);
}

int db_profile_resend(db_conn *c, const char *profile_id, deployment_status status,
                      const char *actor) {
  int rc = db_begin(c);
  if (rc != 0)
    return rc;
  if (status == STATUS_FAILED && (rc = db_exec_affected(c, &profiles_resend_allow, 0, NULL)) < 0)
    goto fail;
  const char *p[] = {profile_id, state_status_name(status), actor};
  int n = db_exec_affected(c, &profiles_resend, 3, p);
  if (n < 0) {
    rc = n;
    goto fail;
  }
  if ((rc = db_commit(c)) != 0)
    return rc;
  return n;
fail:
  db_rollback(c);
  return rc;
}
