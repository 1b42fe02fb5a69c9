/*
 * webhook.h: delivers failure events to CERTDEPLOY_WEBHOOK_URL.
 *
 * Every transition of a deployment to `failed` leaves one event in the
 * outbox (a trigger, same transaction; db/schema/0004_outbox_audit.sql).
 * When the URL is set, WEBHOOK_SENDERS threads per instance claim due
 * events (a lease in the database, so instances share the work), POST
 * each one (Content-Type application/json, X-Certdeploy-Event-Id: <id>,
 * 10 s timeout, redirects not followed) and mark it delivered on a 2xx.
 * Any other outcome is logged at warn and retried after a backoff of 1 s
 * doubling per failed delivery, capped at 5 minutes, with jitter, for as
 * long as it takes. Delivery is at least once: an event whose 2xx was not
 * recorded (a crash, the database gone at that moment) is sent again, so
 * receivers dedupe on the id; order is not guaranteed. A listener thread
 * wakes the senders on NOTIFY certdeploy_outbox, when a retry comes due,
 * and every few seconds; it also prunes delivered events after 7 days.
 *
 * Subscriptions (POST /api/v1/webhooks) get the same guarantees, each on
 * its own rows (db_webhooks.h). Without a URL nothing of the outbox is
 * sent and its events stay there; once a
 * URL is configured they are delivered, oldest first.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_WEBHOOK_H
#define CERTDEPLOY_WEBHOOK_H

#include "app.h"

#define WEBHOOK_SENDERS 4
#define WEBHOOK_TIMEOUT_SECONDS 10L
#define WEBHOOK_RETRY_BASE_SECONDS 1L
#define WEBHOOK_RETRY_MAX_SECONDS 300L
#define WEBHOOK_POLL_SECONDS 5
#define WEBHOOK_KEEP_DELIVERED_DAYS 7

typedef struct webhook webhook;

/* Starts the senders: they deliver the outbox when a->cfg->webhook_url is
 * set, and the subscriptions' deliveries (webhook_deliveries, signed with
 * each subscription's secret: X-Certdeploy-Signature) always. Returns
 * 0, or -1 after logging why (an unusable URL, no threads). */
int webhook_start(app *a, webhook **out);

/* Stops the threads; a POST in flight is abandoned and its event is due
 * again at once (for this or another instance). Accepts NULL. */
void webhook_stop(webhook **w);

#endif
