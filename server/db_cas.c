/* db_cas.c: statements on cas. */
#include "db_cas.h"

#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define CA_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define CA_COLUMNS                                                                                 \
  "id, name, type, url, profile_id, api_token_sealed, ca_certificate, "                            \
  CA_TIME("created_at") ", " CA_TIME("updated_at") ", "                                            \
  "(SELECT count(*) FROM profiles p WHERE p.ca_id = cas.id)::int"

DB_STMT(cas_insert,
        "INSERT INTO cas (name, type, url, api_token_sealed, profile_id, ca_certificate) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " CA_COLUMNS);
DB_STMT(cas_get, "SELECT " CA_COLUMNS " FROM cas WHERE id = $1::uuid");
DB_STMT(cas_list, "SELECT " CA_COLUMNS " FROM cas "
                  "WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid) "
                  "ORDER BY created_at, id LIMIT $3::int");
DB_STMT(cas_update,
        "UPDATE cas SET name = COALESCE($3, name), url = COALESCE($4, url), "
        "api_token_sealed = COALESCE($5, api_token_sealed), profile_id = COALESCE($6, profile_id), "
        "ca_certificate = CASE WHEN $8::boolean THEN NULL ELSE COALESCE($7, ca_certificate) END, "
        "updated_at = now() "
        "WHERE id = $1::uuid AND updated_at = $2::timestamptz RETURNING " CA_COLUMNS);
/* One row always: (profiles using it or NULL when there is no such CA, rows deleted). */
DB_STMT(cas_delete,
        "WITH target AS (SELECT id, (SELECT count(*) FROM profiles p WHERE p.ca_id = cas.id)::int "
        "AS n FROM cas WHERE id = $1::uuid), "
        "gone AS (DELETE FROM cas WHERE id = (SELECT id FROM target WHERE n = 0) RETURNING 1) "
        "SELECT (SELECT n FROM target), (SELECT count(*) FROM gone)::int");
/* clang-format on */

/* Returns -1 when an owned string could not be copied; the caller still
 * releases *out. */
static int row_to_ca(const PGresult *res, int row, void *out) {
  db_ca *ca = out;
  memset(ca, 0, sizeof(*ca));
  db_col_text(res, row, 0, ca->id, sizeof(ca->id));
  db_col_text(res, row, 1, ca->name, sizeof(ca->name));
  db_col_text(res, row, 2, ca->type, sizeof(ca->type));
  db_col_text(res, row, 3, ca->url, sizeof(ca->url));
  db_col_text(res, row, 4, ca->profile_id, sizeof(ca->profile_id));
  ca->api_token_sealed = db_col_dup(res, row, 5);
  ca->ca_certificate = db_col_dup(res, row, 6);
  db_col_text(res, row, 7, ca->created_at, sizeof(ca->created_at));
  db_col_text(res, row, 8, ca->updated_at, sizeof(ca->updated_at));
  ca->profiles_using = db_col_int(res, row, 9);
  int complete = (ca->api_token_sealed != NULL || PQgetisnull(res, row, 5)) &&
                 (ca->ca_certificate != NULL || PQgetisnull(res, row, 6));
  return complete ? 0 : -1;
}

static void release_ca_row(void *row) {
  db_ca_release(row);
}

static const db_row_reader ca_reader = {sizeof(db_ca), row_to_ca, release_ca_row};

/* Fills *out from the first row of res, if any. Returns rows (0/1) or
 * DB_HARD_ERROR after a memory failure. Clears res. */
static int one_ca(PGresult *res, db_ca *out) {
  int n = PQntuples(res) > 0 ? 1 : 0;
  if (n && row_to_ca(res, 0, out) != 0) {
    db_ca_release(out);
    n = DB_HARD_ERROR;
  }
  PQclear(res);
  return n;
}

void db_ca_release(db_ca *ca) {
  if (ca == NULL)
    return;
  free(ca->api_token_sealed);
  free(ca->ca_certificate);
  ca->api_token_sealed = NULL;
  ca->ca_certificate = NULL;
}

void db_ca_list_free(db_ca *rows, int n) {
  if (rows == NULL)
    return;
  for (int i = 0; i < n; i++)
    db_ca_release(&rows[i]);
  free(rows);
}

int db_ca_insert(db_conn *c, const char *name, const char *type, const char *url,
                 const char *api_token_sealed, const char *profile_id, const char *ca_certificate,
                 db_ca *out) {
  int rc;
  const char *p[] = {name, type, url, api_token_sealed, profile_id, ca_certificate};
  PGresult *res = db_exec(c, &cas_insert, 6, p, &rc);
  if (res == NULL)
    return rc;
  rc = one_ca(res, out);
  return rc == 0 ? DB_HARD_ERROR : rc;
}

int db_ca_get(db_conn *c, const char *id, db_ca *out) {
  int rc;
  const char *p[] = {id};
  PGresult *res = db_exec(c, &cas_get, 1, p, &rc);
  if (res == NULL)
    return rc;
  return one_ca(res, out);
}

int db_ca_list(db_conn *c, const char *after_created, const char *after_id, int limit,
               db_ca **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_created, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &cas_list, 3, p, &ca_reader, &found);
  *rows = found;
  return n;
}

int db_ca_update(db_conn *c, const char *id, const char *expected_updated_at,
                 const db_ca_change *change, db_ca *out) {
  int rc;
  const char *p[] = {id,
                     expected_updated_at,
                     change->name,
                     change->url,
                     change->api_token_sealed,
                     change->profile_id,
                     change->ca_certificate,
                     change->clear_ca_certificate ? "true" : "false"};
  PGresult *res = db_exec(c, &cas_update, 8, p, &rc);
  if (res == NULL)
    return rc;
  return one_ca(res, out);
}

int db_ca_delete(db_conn *c, const char *id, int *profiles_using) {
  int rc;
  const char *p[] = {id};
  *profiles_using = 0;
  PGresult *res = db_exec(c, &cas_delete, 1, p, &rc);
  if (res == NULL)
    return rc;
  int deleted = 0;
  if (PQntuples(res) == 1) {
    *profiles_using = db_col_int(res, 0, 0);
    deleted = db_col_int(res, 0, 1);
  }
  PQclear(res);
  return deleted > 0 ? 1 : 0;
}
