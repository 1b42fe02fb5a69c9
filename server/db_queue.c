/* db_queue.c: the shared steps of leased work queues (see db_queue.h). */
#include "db_queue.h"

#include <stdio.h>

PGresult *db_queue_claim(db_conn *c, db_stmt *st, long lease_seconds, int *rc) {
  char lease[24];
  snprintf(lease, sizeof(lease), "%ld", lease_seconds);
  const char *p[] = {lease};
  return db_exec(c, st, 1, p, rc);
}

int db_queue_retry(db_conn *c, db_stmt *st, const char *id, long delay_seconds, const char *error) {
  char delay[24];
  snprintf(delay, sizeof(delay), "%ld", delay_seconds);
  const char *p[] = {id, delay, error ? error : ""};
  return db_exec_affected(c, st, 3, p);
}

int db_queue_by_id(db_conn *c, db_stmt *st, const char *id) {
  const char *p[] = {id};
  return db_exec_affected(c, st, 1, p);
}

int db_queue_prune(db_conn *c, db_stmt *st, int days) {
  char d[16];
  snprintf(d, sizeof(d), "%d", days);
  const char *p[] = {d};
  return db_exec_affected(c, st, 1, p);
}

int db_queue_next_due_in(db_conn *c, db_stmt *st, double *seconds) {
  int rc;
  PGresult *res = db_exec(c, st, 0, NULL, &rc);
  if (res == NULL)
    return rc;
  int found = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
  if (found)
    *seconds = db_col_double(res, 0, 0);
  PQclear(res);
  return found;
}
