/* db_enroll_secrets.c: statements on enroll_secrets. */
#include "db_enroll_secrets.h"

#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define SECRET_COLUMNS "id, name, " DB_TS_US("created_at")

DB_STMT(enroll_secret_insert, "INSERT INTO enroll_secrets (name, secret_hash) VALUES ($1, $2) "
                              "RETURNING " SECRET_COLUMNS);
DB_STMT(enroll_secret_list, "SELECT " SECRET_COLUMNS " FROM enroll_secrets "
                            "WHERE (created_at, id) > (coalesce($1::timestamptz, '-infinity'), "
                            "coalesce($2::uuid, '00000000-0000-0000-0000-000000000000')) "
                            "ORDER BY created_at, id LIMIT $3::int");
DB_STMT(enroll_secret_delete, "DELETE FROM enroll_secrets WHERE id = $1::uuid");

static int row_to_secret(const PGresult *res, int row, void *out) {
  db_enroll_secret *s = out;
  db_col_text(res, row, 0, s->id, sizeof(s->id));
  db_col_text(res, row, 1, s->name, sizeof(s->name));
  db_col_text(res, row, 2, s->created_at, sizeof(s->created_at));
  return 0;
}

static const db_row_reader secret_reader = {sizeof(db_enroll_secret), row_to_secret, NULL};

int db_enroll_secret_insert(db_conn *c, const char *name, const char *secret_hash,
                            db_enroll_secret *out) {
  int rc;
  const char *p[] = {name, secret_hash};
  PGresult *res = db_exec(c, &enroll_secret_insert, 2, p, &rc);
  if (res == NULL)
    return rc;
  row_to_secret(res, 0, out);
  PQclear(res);
  return 1;
}

int db_enroll_secret_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                          db_enroll_secret **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_created, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &enroll_secret_list, 3, p, &secret_reader, &found);
  *rows = found;
  return n;
}

int db_enroll_secret_delete(db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec_affected(c, &enroll_secret_delete, 1, p);
}
