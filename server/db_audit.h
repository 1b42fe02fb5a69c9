/*
 * db_audit.h: the admin audit log (audit_events, append-only). Rows are
 * written by the router after a successful admin write and read by
 * GET /api/v1/audit. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_AUDIT_H
#define CERTDEPLOY_DB_AUDIT_H

#include "db.h"

/* One audit row. Strings are malloc'd; release with db_audit_rows_free. */
typedef struct db_audit_event {
  char id[24]; /* decimal, increasing with time */
  char at[40]; /* RFC 3339 UTC */
  char *actor; /* "admin:<token name>" */
  char method[16];
  char *route; /* the route pattern */
  char *path;  /* the concrete path */
  int status;
  char *target;  /* a JSON object, as text */
  char *summary; /* "POST /api/v1/profiles/{id}/resend" */
} db_audit_event;

/* Appends one row; target is a JSON object as text. Returns 1 or an error. */
int db_audit_append(db_conn *c, const char *actor, const char *method, const char *route,
                    const char *path, int status, const char *target, const char *summary);

/* Lists rows newest first, at most `limit`, with an id below before_id
 * (NULL to start at the newest), only those of `actor` when it is not
 * NULL. *rows is malloc'd (free with db_audit_rows_free). Returns the
 * count or an error. */
int db_audit_list(db_conn *c, const char *before_id, const char *actor, int limit,
                  db_audit_event **rows);

/* Frees rows[0..n) and the array. Accepts NULL. */
void db_audit_rows_free(db_audit_event *rows, int n);

#endif
