/* db_outbox.c: statements on webhook_outbox (see db_outbox.h). */
#include "db_outbox.h"

#include "db_internal.h"
#include "db_queue.h"

#include <stdlib.h>
#include <string.h>

DB_STMT(outbox_claim,
        "WITH next AS (SELECT id FROM webhook_outbox "
        "              WHERE delivered_at IS NULL AND next_attempt_at <= now() "
        "              ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE webhook_outbox o SET next_attempt_at = now() + make_interval(secs => $1::bigint) "
        "FROM next WHERE o.id = next.id RETURNING o.id, o.body, o.attempts");
DB_STMT(outbox_delivered, "UPDATE webhook_outbox SET delivered_at = now(), last_error = '' "
                          "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(outbox_retry, "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = $3, "
                      "next_attempt_at = now() + make_interval(secs => $2::bigint) "
                      "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(outbox_unclaim, "UPDATE webhook_outbox SET next_attempt_at = now() "
                        "WHERE id = $1::uuid AND delivered_at IS NULL");
DB_STMT(outbox_prune, "DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL "
                      "AND delivered_at < now() - make_interval(days => $1::int)");
DB_STMT(outbox_next_due, "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now())) "
                         "FROM webhook_outbox WHERE delivered_at IS NULL");

int db_outbox_claim(db_conn *c, long lease_seconds, db_outbox_event *out) {
  int rc;
  memset(out, 0, sizeof(*out));
  PGresult *res = db_queue_claim(c, &outbox_claim, lease_seconds, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    db_col_text(res, 0, 0, out->id, sizeof(out->id));
    out->body = db_col_dup(res, 0, 1);
    out->attempts = db_col_int(res, 0, 2);
  }
  PQclear(res);
  if (n > 0 && out->body == NULL)
    return DB_HARD_ERROR; /* out of memory; the lease brings the row back */
  return n > 0 ? 1 : 0;
}

void db_outbox_event_release(db_outbox_event *ev) {
  if (ev == NULL)
    return;
  free(ev->body);
  ev->body = NULL;
}

int db_outbox_delivered(db_conn *c, const char *id) {
  return db_queue_by_id(c, &outbox_delivered, id);
}

int db_outbox_retry(db_conn *c, const char *id, long delay_seconds, const char *error) {
  return db_queue_retry(c, &outbox_retry, id, delay_seconds, error);
}

int db_outbox_unclaim(db_conn *c, const char *id) {
  return db_queue_by_id(c, &outbox_unclaim, id);
}

int db_outbox_prune(db_conn *c, int days) {
  return db_queue_prune(c, &outbox_prune, days);
}

int db_outbox_next_due_in(db_conn *c, double *seconds) {
  return db_queue_next_due_in(c, &outbox_next_due, seconds);
}
