/*
 * db_webhooks.h: webhook subscriptions and their deliveries
 * (db/schema/0011_webhooks.sql). Return values follow db.h.
 *
 * Deliveries are written by triggers, one per subscription and event; a
 * sender claims one by pushing its next_attempt_at out by a lease (FOR
 * UPDATE SKIP LOCKED), so instances share the work and a sender that dies
 * mid-delivery leaves the row to come due again.
 */
#ifndef CERTDEPLOY_DB_WEBHOOKS_H
#define CERTDEPLOY_DB_WEBHOOKS_H

#include "db.h"

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_EVENTS_MAX 128 /* the four names, comma-joined, fit */

typedef struct db_webhook {
  char id[40];
  char url[WEBHOOK_URL_MAX + 1];
  char events[WEBHOOK_EVENTS_MAX]; /* comma-joined, e.g. "deployment.failed,deployment.recovered" */
  char created_at[40];             /* RFC 3339 UTC, microseconds */
} db_webhook;

/* Inserts a subscription; events is a Postgres array literal ("{a,b}").
 * Fills out. Returns 1 or an error. */
int db_webhook_insert(db_conn *c, const char *url, const char *events, const char *secret_sealed,
                      db_webhook *out);

/* Lists subscriptions in creation order after the cursor (both NULL to
 * start), at most `limit`. *rows is malloc'd; the caller frees it. */
int db_webhook_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                    db_webhook **rows);

/* Changes url and/or events (NULL keeps one). Returns 1 with out filled,
 * 0 not found. */
int db_webhook_update(db_conn *c, const char *id, const char *url, const char *events,
                      db_webhook *out);

/* Deletes a subscription and its undelivered deliveries. 1, or 0 not found. */
int db_webhook_delete(db_conn *c, const char *id);

/* One claimed delivery; the strings are malloc'd, release with
 * db_webhook_delivery_release. */
typedef struct db_webhook_delivery {
  char id[40];         /* X-Certdeploy-Event-Id, the same on every retry */
  char *url;           /* the subscription's URL */
  char *secret_sealed; /* the subscription's sealed secret; NULL never */
  char *body;          /* the JSON to POST and sign */
  int attempts;        /* failed deliveries before this one */
} db_webhook_delivery;

/* Claims the most overdue undelivered delivery for lease_seconds.
 * Returns 1 claimed, 0 nothing due. */
int db_webhook_claim(db_conn *c, long lease_seconds, db_webhook_delivery *out);

/* Frees what a claim filled in. Accepts NULL. */
void db_webhook_delivery_release(db_webhook_delivery *d);

/* Marks a delivery delivered (1), or 0 when it was already. */
int db_webhook_delivered(db_conn *c, const char *id);

/* Records a failed delivery and its next try in delay_seconds. */
int db_webhook_retry(db_conn *c, const char *id, long delay_seconds, const char *error);

/* Gives a claim back untried (shutting down): due again now. */
int db_webhook_unclaim(db_conn *c, const char *id);

/* Deletes delivered deliveries older than `days`. Returns how many. */
int db_webhook_prune(db_conn *c, int days);

/* Seconds until the next undelivered delivery is due. 1 with *seconds
 * set, 0 when nothing waits. */
int db_webhook_next_due_in(db_conn *c, double *seconds);

#endif
