/* db_fleet.c: the fleet-wide list of deployments. */
#include "db_fleet.h"

#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off

/* $8, escaped so ILIKE takes it literally, inside %...%. */
#define FLEET_Q_PATTERN                                                                            \
  "('%' || replace(replace(replace($8::text, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"

/* $1-$3 the position after which the page starts (NULL: the first page),
 * $4 status, $5 profile, $6 failure source, $7 expires before, $8 q,
 * $9 limit. A filter that is NULL folds away when the statement is
 * planned with its values (exec_planned), so each filter's index serves
 * it: the parameters' types are the columns' own, not text cast to them,
 * so that the planner can fold them (a cast through text it may not). */
DB_STMT(fleet_deployments,
        "SELECT d.device_id, v.serial, v.name, d.profile_id, p.name, d.status, "
        "coalesce(d.failure_source, ''), d.detail, d.attempts, " DB_TS("d.next_attempt_at") ", "
        "d.generation, " DB_TS("d.updated_at") ", " DB_CERT_COLUMNS("issued") ", "
        DB_CERT_COLUMNS("installed") ", " DB_TS_US("d.created_at") " "
        "FROM deployments d JOIN devices v ON v.id = d.device_id "
        "JOIN profiles p ON p.id = d.profile_id "
        "WHERE (d.created_at, d.device_id, d.profile_id) > (coalesce($1::timestamptz, '-infinity'), "
        "  coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'), "
        "  coalesce($3::uuid, '00000000-0000-0000-0000-000000000000')) "
        "AND ($4::deployment_status IS NULL OR d.status = $4::deployment_status) "
        "AND ($5::uuid IS NULL OR d.profile_id = $5::uuid) "
        "AND ($6::text IS NULL OR d.failure_source = $6::text) "
        "AND ($7::timestamptz IS NULL OR d.installed_not_after < $7::timestamptz) "
        "AND ($8::text IS NULL OR v.serial ILIKE " FLEET_Q_PATTERN " ESCAPE '\\' "
        "  OR v.name ILIKE " FLEET_Q_PATTERN " ESCAPE '\\') "
        "ORDER BY d.created_at, d.device_id, d.profile_id LIMIT $9::int");
// clang-format on
/* Where fleet_deployments' certificates and position start. */
enum {
  FLEET_ISSUED = 12,
  FLEET_INSTALLED = FLEET_ISSUED + DB_CERT_NCOLUMNS,
  FLEET_CREATED_AT = FLEET_INSTALLED + DB_CERT_NCOLUMNS,
};

/* Runs s as an unnamed statement, planned for these parameter values.
 * A list with optional filters needs the plan of the filters it has: a
 * prepared statement switches after five runs to one generic plan, which
 * keeps every "$n IS NULL OR ..." and so can use none of their indexes
 * (the failed filter's page then reads the whole table). Planning costs
 * a fraction of a millisecond. Returns the result, or NULL with *rc set
 * (as db_exec). */
static PGresult *exec_planned(db_conn *c, const db_stmt *s, int nparams, const char *const *params,
                              int *rc) {
  c->sqlstate[0] = '\0';
  PGresult *res = PQexecParams(c->pg, s->sql, nparams, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) == PGRES_TUPLES_OK)
    return res;
  *rc = db_failed(c, s, res);
  PQclear(res);
  return NULL;
}

static void read_row(const PGresult *res, int row, db_fleet_deployment *out) {
  db_deployment *d = &out->dep;
  char status[16];
  db_col_text(res, row, 0, d->device_id, sizeof(d->device_id));
  db_col_text(res, row, 1, out->device_serial, sizeof(out->device_serial));
  db_col_text(res, row, 2, out->device_name, sizeof(out->device_name));
  db_col_text(res, row, 3, d->profile_id, sizeof(d->profile_id));
  db_col_text(res, row, 4, d->profile_name, sizeof(d->profile_name));
  db_col_text(res, row, 5, status, sizeof(status));
  d->status = state_status_parse(status);
  db_col_text(res, row, 6, d->failure_source, sizeof(d->failure_source));
  db_col_text(res, row, 7, d->detail, sizeof(d->detail));
  d->attempts = db_col_int(res, row, 8);
  db_col_text(res, row, 9, d->next_attempt_at, sizeof(d->next_attempt_at));
  d->generation = db_col_int(res, row, 10);
  db_col_text(res, row, 11, d->updated_at, sizeof(d->updated_at));
  db_read_cert(res, row, FLEET_ISSUED, &d->issued);
  db_read_cert(res, row, FLEET_INSTALLED, &d->installed);
  db_col_text(res, row, FLEET_CREATED_AT, out->created_at, sizeof(out->created_at));
}

int db_fleet_deployments(db_conn *c, const db_fleet_filter *f, const db_fleet_after *after,
                         int limit, db_fleet_deployment **rows) {
  int rc = DB_HARD_ERROR;
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after->created_at,
                     after->device_id,
                     after->profile_id,
                     f->status,
                     f->profile_id,
                     f->failure_source,
                     f->expires_before,
                     f->q,
                     lim};
  *rows = NULL;
  PGresult *res = exec_planned(c, &fleet_deployments, 9, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  *rows = calloc((size_t)(n ? n : 1), sizeof(db_fleet_deployment));
  if (*rows == NULL) {
    PQclear(res);
    return DB_HARD_ERROR;
  }
  for (int i = 0; i < n; i++)
    read_row(res, i, &(*rows)[i]);
  PQclear(res);
  return n;
}
