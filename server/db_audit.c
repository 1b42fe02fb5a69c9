/* db_audit.c: statements on audit_events (see db_audit.h). */
#include "db_audit.h"

#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>

DB_STMT(audit_append, "INSERT INTO audit_events (actor, method, route, path, status, target, "
                      "summary) VALUES ($1, $2, $3, $4, $5::int, $6::jsonb, $7)");
DB_STMT(audit_list, "SELECT id, " DB_TS("at") ", actor, method, route, path, status, "
                                              "target::text, summary FROM audit_events "
                                              "WHERE ($1::bigint IS NULL OR id < $1::bigint) "
                                              "AND ($2::text IS NULL OR actor = $2::text) "
                                              "ORDER BY id DESC LIMIT $3::int");

int db_audit_append(db_conn *c, const char *actor, const char *method, const char *route,
                    const char *path, int status, const char *target, const char *summary) {
  int rc;
  char st[16];
  snprintf(st, sizeof(st), "%d", status);
  const char *p[] = {actor, method, route, path, st, target, summary};
  PGresult *res = db_exec(c, &audit_append, 7, p, &rc);
  if (res == NULL)
    return rc;
  PQclear(res);
  return 1;
}

/* Every string column is NOT NULL, so a NULL copy is a memory failure. */
static int row_to_event(const PGresult *res, int row, void *out) {
  db_audit_event *e = out;
  db_col_text(res, row, 0, e->id, sizeof(e->id));
  db_col_text(res, row, 1, e->at, sizeof(e->at));
  e->actor = db_col_dup(res, row, 2);
  db_col_text(res, row, 3, e->method, sizeof(e->method));
  e->route = db_col_dup(res, row, 4);
  e->path = db_col_dup(res, row, 5);
  e->status = db_col_int(res, row, 6);
  e->target = db_col_dup(res, row, 7);
  e->summary = db_col_dup(res, row, 8);
  return (e->actor && e->route && e->path && e->target && e->summary) ? 0 : -1;
}

static void release_event(void *row) {
  db_audit_event *e = row;
  free(e->actor);
  free(e->route);
  free(e->path);
  free(e->target);
  free(e->summary);
}

static const db_row_reader event_reader = {sizeof(db_audit_event), row_to_event, release_event};

int db_audit_list(db_conn *c, const char *before_id, const char *actor, int limit,
                  db_audit_event **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {before_id, actor, lim};
  void *found;
  int n = db_exec_rows(c, &audit_list, 3, p, &event_reader, &found);
  *rows = found;
  return n;
}

void db_audit_rows_free(db_audit_event *rows, int n) {
  if (rows == NULL)
    return;
  for (int i = 0; i < n; i++)
    release_event(&rows[i]);
  free(rows);
}
