/*
 * db_outbox.h: the failure webhook's outbox (webhook_outbox, filled by a
 * trigger on deployments in db/schema/0004_outbox_audit.sql). What the
 * sender (webhook.c) asks of the database. Return values follow db.h.
 *
 * A row is claimed by pushing its next_attempt_at out by a lease (FOR
 * UPDATE SKIP LOCKED, so instances never claim the same row at once); a
 * sender that dies mid-delivery leaves the row to come due again when the
 * lease runs out. Rows are never dropped before a 2xx.
 */
#ifndef CERTDEPLOY_DB_OUTBOX_H
#define CERTDEPLOY_DB_OUTBOX_H

#include "db.h"

/* One claimed event. body is malloc'd; release with db_outbox_event_release. */
typedef struct db_outbox_event {
  char id[40];  /* event id (UUID), also the body's "id" */
  char *body;   /* the JSON to POST */
  int attempts; /* failed deliveries before this one */
} db_outbox_event;

/* Claims the most overdue undelivered event, leasing it for lease_seconds.
 * Returns 1 claimed (out filled), 0 nothing due. */
int db_outbox_claim(db_conn *c, long lease_seconds, db_outbox_event *out);

/* Frees out->body. Accepts NULL. */
void db_outbox_event_release(db_outbox_event *ev);

/* Marks an event delivered. Returns 1, or 0 when it was already. */
int db_outbox_delivered(db_conn *c, const char *id);

/* Records a failed delivery: attempts+1, the error text, and the next try
 * in delay_seconds. Returns 1, or 0 when it was delivered meanwhile. */
int db_outbox_retry(db_conn *c, const char *id, long delay_seconds, const char *error);

/* Gives a claim back untried (shutting down): due again now. */
int db_outbox_unclaim(db_conn *c, const char *id);

/* Deletes delivered events older than `days`. Returns how many. */
int db_outbox_prune(db_conn *c, int days);

/* Seconds until the next undelivered event is due (0 when one is due
 * now). Returns 1 with *seconds set, 0 when nothing waits. */
int db_outbox_next_due_in(db_conn *c, double *seconds);

#endif
