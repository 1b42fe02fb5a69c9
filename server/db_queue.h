/*
 * db_queue.h: the steps every leased work queue in PostgreSQL shares
 * (webhook_outbox, webhook_deliveries): claim a due row with a lease,
 * put it back with a delay and the error, put it back now, prune what was
 * done long ago, and say when the next row is due. Each queue keeps its own
 * statements (its table, its columns); these run them with the parameters
 * every queue passes in the same order:
 *
 *   claim:      $1 lease seconds
 *   retry:      $1 id, $2 delay seconds, $3 error text
 *   by id:      $1 id (delivered, unclaim)
 *   prune:      $1 days
 *   next due:   no parameter; one row, one column: seconds (NULL if none)
 */
#ifndef CERTDEPLOY_DB_QUEUE_H
#define CERTDEPLOY_DB_QUEUE_H

#include "db_internal.h"

/* Runs a claim statement; the result (0 or 1 row) or NULL with *rc set. */
PGresult *db_queue_claim(db_conn *c, db_stmt *st, long lease_seconds, int *rc);

/* Rows changed, or a negative DB error. */
int db_queue_retry(db_conn *c, db_stmt *st, const char *id, long delay_seconds, const char *error);
int db_queue_by_id(db_conn *c, db_stmt *st, const char *id);
int db_queue_prune(db_conn *c, db_stmt *st, int days);

/* 1 with *seconds set, 0 when nothing is waiting, or a negative DB error. */
int db_queue_next_due_in(db_conn *c, db_stmt *st, double *seconds);

#endif
