/* db_webhooks.c: statements on webhook_subscriptions and webhook_deliveries. */
#include "db_webhooks.h"

#include "db_internal.h"
#include "db_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_COLUMNS "id, url, array_to_string(events, ','), " DB_TS_US("created_at")

DB_STMT(webhook_insert, "INSERT INTO webhook_subscriptions (url, events, secret_sealed) "
                        "VALUES ($1, $2::text[], $3) RETURNING " WEBHOOK_COLUMNS);
DB_STMT(webhook_list, "SELECT " WEBHOOK_COLUMNS " FROM webhook_subscriptions "
                      "WHERE (created_at, id) > (coalesce($1::timestamptz, '-infinity'), "
                      "coalesce($2::uuid, '00000000-0000-0000-0000-000000000000')) "
                      "ORDER BY created_at, id LIMIT $3::int");
DB_STMT(webhook_update, "UPDATE webhook_subscriptions SET url = coalesce($2, url), "
                        "events = coalesce($3::text[], events) WHERE id = $1::uuid "
                        "RETURNING " WEBHOOK_COLUMNS);
DB_STMT(webhook_delete, "DELETE FROM webhook_subscriptions WHERE id = $1::uuid");
DB_STMT(webhook_claim,
        "WITH next AS (SELECT id FROM webhook_deliveries "
        "              WHERE delivered_at IS NULL AND next_attempt_at <= now() "
        "              ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE webhook_deliveries d "
        "SET next_attempt_at = now() + make_interval(secs => $1::bigint) "
        "FROM next, webhook_subscriptions s WHERE d.id = next.id AND s.id = d.subscription_id "
        "RETURNING d.id, s.url, s.secret_sealed, d.body, d.attempts");
DB_STMT(webhook_delivered, "UPDATE webhook_deliveries SET delivered_at = now(), last_error = '' "
                           "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(webhook_retry, "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $3, "
                       "next_attempt_at = now() + make_interval(secs => $2::bigint) "
                       "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(webhook_unclaim, "UPDATE webhook_deliveries SET next_attempt_at = now() "
                         "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(webhook_prune, "DELETE FROM webhook_deliveries WHERE delivered_at IS NOT NULL "
                       "AND delivered_at < now() - make_interval(days => $1::int)");
DB_STMT(webhook_next_due, "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now())) "
                          "FROM webhook_deliveries WHERE delivered_at IS NULL");

static int row_to_webhook(const PGresult *res, int row, void *out) {
  db_webhook *w = out;
  db_col_text(res, row, 0, w->id, sizeof(w->id));
  db_col_text(res, row, 1, w->url, sizeof(w->url));
  db_col_text(res, row, 2, w->events, sizeof(w->events));
  db_col_text(res, row, 3, w->created_at, sizeof(w->created_at));
  return 0;
}

static const db_row_reader webhook_reader = {sizeof(db_webhook), row_to_webhook, NULL};

/* Runs a statement that returns at most one subscription into out. */
static int one_webhook(db_conn *c, db_stmt *st, int n, const char *const *p, db_webhook *out) {
  int rc;
  PGresult *res = db_exec(c, st, n, p, &rc);
  if (res == NULL)
    return rc;
  int found = PQntuples(res) > 0;
  if (found)
    row_to_webhook(res, 0, out);
  PQclear(res);
  return found;
}

int db_webhook_insert(db_conn *c, const char *url, const char *events, const char *secret_sealed,
                      db_webhook *out) {
  const char *p[] = {url, events, secret_sealed};
  return one_webhook(c, &webhook_insert, 3, p, out);
}

int db_webhook_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                    db_webhook **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_created, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &webhook_list, 3, p, &webhook_reader, &found);
  *rows = found;
  return n;
}

int db_webhook_update(db_conn *c, const char *id, const char *url, const char *events,
                      db_webhook *out) {
  const char *p[] = {id, url, events};
  return one_webhook(c, &webhook_update, 3, p, out);
}

int db_webhook_delete(db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec_affected(c, &webhook_delete, 1, p);
}

int db_webhook_claim(db_conn *c, long lease_seconds, db_webhook_delivery *out) {
  int rc;
  memset(out, 0, sizeof(*out));
  PGresult *res = db_queue_claim(c, &webhook_claim, lease_seconds, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    db_col_text(res, 0, 0, out->id, sizeof(out->id));
    out->url = db_col_dup(res, 0, 1);
    out->secret_sealed = db_col_dup(res, 0, 2);
    out->body = db_col_dup(res, 0, 3);
    out->attempts = db_col_int(res, 0, 4);
  }
  PQclear(res);
  if (n > 0 && (out->url == NULL || out->secret_sealed == NULL || out->body == NULL)) {
    db_webhook_delivery_release(out);
    return DB_HARD_ERROR; /* out of memory; the lease brings the row back */
  }
  return n > 0 ? 1 : 0;
}

void db_webhook_delivery_release(db_webhook_delivery *d) {
  if (d == NULL)
    return;
  free(d->url);
  free(d->secret_sealed);
  free(d->body);
  d->url = d->secret_sealed = d->body = NULL;
}

int db_webhook_delivered(db_conn *c, const char *id) {
  return db_queue_by_id(c, &webhook_delivered, id);
}

int db_webhook_retry(db_conn *c, const char *id, long delay_seconds, const char *error) {
  return db_queue_retry(c, &webhook_retry, id, delay_seconds, error);
}

int db_webhook_unclaim(db_conn *c, const char *id) {
  return db_queue_by_id(c, &webhook_unclaim, id);
}

int db_webhook_prune(db_conn *c, int days) {
  return db_queue_prune(c, &webhook_prune, days);
}

int db_webhook_next_due_in(db_conn *c, double *seconds) {
  return db_queue_next_due_in(c, &webhook_next_due, seconds);
}
