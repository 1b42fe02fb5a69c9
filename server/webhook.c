/* webhook.c: the outbox sender (see webhook.h). */
#include "webhook.h"

#include "crypto.h"
#include "db.h"
#include "db_listen.h"
#include "db_outbox.h"
#include "db_webhooks.h"
#include "http_client.h"
#include "log.h"
#include "renewal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A claim outlives the longest POST, so two senders never hold one event. */
#define WEBHOOK_LEASE_SECONDS (WEBHOOK_TIMEOUT_SECONDS + 20)
#define PRUNE_EVERY_SECONDS 3600.0

struct webhook {
  app *app;
  const char *url;  /* borrowed from the config; NULL: subscriptions only */
  char origin[256]; /* what is logged of the URL */
  db_pool *db;      /* the sender's own connections */
  pthread_t senders[WEBHOOK_SENDERS];
  int nsenders;
  pthread_t listener;
  int listener_started;
  pthread_mutex_t mu;
  pthread_cond_t wake;
  unsigned long wakeups; /* bumped to wake idle senders */
  int stopping;
};

static void wake_all(webhook *w) {
  pthread_mutex_lock(&w->mu);
  w->wakeups++;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->mu);
}

static int stopping(webhook *w) {
  pthread_mutex_lock(&w->mu);
  int s = w->stopping;
  pthread_mutex_unlock(&w->mu);
  return s;
}

static int cancelled(void *arg) {
  return stopping(arg);
}

/* Sleeps until woken (or a poll interval passes). 0 to go on, -1 to stop. */
static int wait_for_work(webhook *w, unsigned long *seen) {
  pthread_mutex_lock(&w->mu);
  if (!w->stopping && w->wakeups == *seen) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WEBHOOK_POLL_SECONDS;
    pthread_cond_timedwait(&w->wake, &w->mu, &until);
  }
  *seen = w->wakeups;
  int stop = w->stopping;
  pthread_mutex_unlock(&w->mu);
  return stop ? -1 : 0;
}

static double random01(void) {
  unsigned char rnd[4];
  crypto_random_bytes(rnd, sizeof(rnd));
  return (double)((unsigned)rnd[0] << 16 | (unsigned)rnd[1] << 8 | rnd[2]) / 16777216.0;
}

/* One delivery to make: an outbox event of CERTDEPLOY_WEBHOOK_URL or a
 * subscription's, and the calls of its table (db_outbox.h,
 * db_webhooks.h) that record what became of it. */
typedef struct delivery {
  const char *id;     /* X-Certdeploy-Event-Id, the same on every retry */
  const char *url;    /* where to POST */
  const char *origin; /* what is logged of the URL */
  const char *body;   /* the JSON */
  int attempts;       /* failed deliveries before this one */
  int (*delivered)(db_conn *c, const char *id);
  int (*retry)(db_conn *c, const char *id, long delay_seconds, const char *error);
  int (*unclaim)(db_conn *c, const char *id);
} delivery;

/* Records the outcome of one delivery. A failed database write is left to
 * the lease: the event comes due again and is sent again. */
static void record(webhook *w, const delivery *d, int ok, const char *why) {
  db_conn *c = db_acquire(w->db);
  if (c == NULL)
    return;
  char attempt[16];
  snprintf(attempt, sizeof(attempt), "%d", d->attempts + 1);
  if (ok) {
    d->delivered(c, d->id);
    log_field f[] = {{"event_id", d->id, 0}, {"attempt", attempt, 1}, {"webhook", d->origin, 0}};
    log_event(LOG_INFO, "webhook event delivered", f, 3);
  } else if (stopping(w)) {
    d->unclaim(c, d->id);
  } else {
    long delay = retry_delay_seconds(d->attempts + 1, WEBHOOK_RETRY_BASE_SECONDS,
                                     WEBHOOK_RETRY_MAX_SECONDS, -1, random01());
    char retry[24];
    snprintf(retry, sizeof(retry), "%ld", delay);
    d->retry(c, d->id, delay, why);
    log_field f[] = {{"event_id", d->id, 0},
                     {"attempt", attempt, 1},
                     {"webhook", d->origin, 0},
                     {"error", why, 0},
                     {"retry_in_seconds", retry, 1}};
    log_event(LOG_WARN, "webhook delivery failed; will retry", f, 5);
  }
  db_release(w->db, c);
}

/* POSTs d's body, with signature (a header line, or NULL for none), and
 * records what happened. */
static void post(webhook *w, http_client *hc, const delivery *d, const char *signature) {
  char id_header[80];
  snprintf(id_header, sizeof(id_header), "X-Certdeploy-Event-Id: %s", d->id);
  const char *headers[] = {id_header, signature};
  http_post req = {.url = d->url,
                   .json = d->body,
                   .headers = headers,
                   .nheaders = signature != NULL ? 2 : 1,
                   .timeout_seconds = WEBHOOK_TIMEOUT_SECONDS,
                   .cancelled = cancelled,
                   .cancel_arg = w};
  long status = 0;
  char *err = NULL;
  char why[512];
  int ok = 0;
  if (http_post_json(hc, &req, &status, &err) == 0) {
    ok = status >= 200 && status <= 299;
    snprintf(why, sizeof(why), "HTTP %ld%s", status,
             status >= 300 && status <= 399 ? " (redirects are not followed)" : "");
  } else {
    snprintf(why, sizeof(why), "%s", err ? err : "out of memory");
  }
  free(err);
  record(w, d, ok, why);
}

/* POSTs one claimed event of CERTDEPLOY_WEBHOOK_URL (no secret, no
 * signature). */
static void deliver_outbox(webhook *w, http_client *hc, const db_outbox_event *ev) {
  delivery d = {.id = ev->id,
                .url = w->url,
                .origin = w->origin,
                .body = ev->body,
                .attempts = ev->attempts,
                .delivered = db_outbox_delivered,
                .retry = db_outbox_retry,
                .unclaim = db_outbox_unclaim};
  post(w, hc, &d, NULL);
}

/* POSTs one claimed subscription delivery, signed with its secret. */
static void deliver_subscription(webhook *w, http_client *hc, const db_webhook_delivery *sub) {
  char origin[256], hex[65], signature[96];
  http_url_origin(sub->url, origin, sizeof(origin));
  delivery d = {.id = sub->id,
                .url = sub->url,
                .origin = origin,
                .body = sub->body,
                .attempts = sub->attempts,
                .delivered = db_webhook_delivered,
                .retry = db_webhook_retry,
                .unclaim = db_webhook_unclaim};
  char *secret = NULL;
  size_t secret_len = 0;
  if (crypto_open(w->app->master_key, sub->secret_sealed, &secret, &secret_len) != 0) {
    record(w, &d, 0, "the subscription's secret cannot be opened with this master key");
    return;
  }
  int signed_ok =
      crypto_hmac_sha256_hex(secret, secret_len, sub->body, strlen(sub->body), hex) == 0;
  crypto_free_secret(secret);
  if (!signed_ok) {
    record(w, &d, 0, "cannot sign the body");
    return;
  }
  snprintf(signature, sizeof(signature), "X-Certdeploy-Signature: sha256=%s", hex);
  post(w, hc, &d, signature);
}

static void *sender_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-webhook"); /* for top -H, perf */
  webhook *w = arg;
  unsigned long seen = 0;
  http_client *hc = http_client_new();
  if (hc == NULL) {
    log_fail("webhook: cannot create an HTTP client (out of memory)");
    return NULL;
  }
  for (;;) {
    int claimed = 0, claimed_sub = 0;
    db_outbox_event ev = {0};
    db_webhook_delivery d = {0};
    db_conn *c = db_acquire(w->db);
    if (c != NULL) {
      if (w->url != NULL)
        claimed = db_outbox_claim(c, WEBHOOK_LEASE_SECONDS, &ev) == 1;
      if (!claimed)
        claimed_sub = db_webhook_claim(c, WEBHOOK_LEASE_SECONDS, &d) == 1;
      db_release(w->db, c); /* not held across the POST */
    }
    if (claimed)
      deliver_outbox(w, hc, &ev);
    if (claimed_sub)
      deliver_subscription(w, hc, &d);
    db_outbox_event_release(&ev);
    db_webhook_delivery_release(&d);
    claimed = claimed || claimed_sub;
    if (claimed && !stopping(w))
      continue;
    if (wait_for_work(w, &seen) != 0)
      break;
  }
  http_client_free(&hc);
  return NULL;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void prune(webhook *w) {
  db_conn *c = db_acquire(w->db);
  if (c == NULL)
    return;
  int n = db_outbox_prune(c, WEBHOOK_KEEP_DELIVERED_DAYS);
  int m = db_webhook_prune(c, WEBHOOK_KEEP_DELIVERED_DAYS);
  if (m > 0)
    n = (n > 0 ? n : 0) + m;
  if (n > 0)
    log_msg(LOG_INFO, "webhook: pruned %d delivered event(s) older than %d days", n,
            WEBHOOK_KEEP_DELIVERED_DAYS);
  db_release(w->db, c);
}

/* How long the listener may sleep: until the next event is due (then
 * *due_soon is set), at most the rest of the poll interval, and at most a
 * second so a stop is seen promptly. */
static int listener_timeout_ms(webhook *w, double poll_left, int *due_soon) {
  double next = -1;
  db_conn *c = db_acquire(w->db);
  if (c != NULL) {
    double sub = -1;
    if (w->url == NULL || db_outbox_next_due_in(c, &next) != 1)
      next = -1;
    if (db_webhook_next_due_in(c, &sub) == 1 && (next < 0 || sub < next))
      next = sub;
    db_release(w->db, c);
  }
  double t = poll_left < 1.0 ? poll_left : 1.0;
  *due_soon = next >= 0 && next <= t;
  if (*due_soon)
    t = next;
  if (t < 0.05)
    t = 0.05;
  return (int)(t * 1000);
}

static void *listener_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-webhook-lsn"); /* for top -H, perf */
  webhook *w = arg;
  db_listener *l = db_listener_new(w->app->cfg->database_url, "certdeploy_outbox");
  double next_poll = now_seconds(), next_prune = next_poll;
  while (l != NULL && !stopping(w)) {
    double now = now_seconds();
    if (now >= next_prune) {
      prune(w);
      next_prune = now + PRUNE_EVERY_SECONDS;
    }
    if (now >= next_poll) {
      wake_all(w);
      next_poll = now + WEBHOOK_POLL_SECONDS;
    }
    int due_soon = 0;
    int timeout = listener_timeout_ms(w, next_poll - now, &due_soon);
    int r = db_listener_wait(l, timeout);
    if (r == 1 || (r == 0 && due_soon))
      wake_all(w);
  }
  db_listener_free(&l);
  return NULL;
}

int webhook_start(app *a, webhook **out) {
  char *err = NULL;
  *out = NULL;
  int have_url = a->cfg->webhook_url != NULL && a->cfg->webhook_url[0] != '\0';
  if (!have_url)
    log_msg(LOG_INFO, "webhook: CERTDEPLOY_WEBHOOK_URL is not set; failure events are kept in "
                      "the outbox and sent once it is");
  if (have_url && http_url_check(a->cfg->webhook_url, &err) != 0) {
    log_fail("CERTDEPLOY_WEBHOOK_URL is unusable: %s", err ? err : "out of memory");
    free(err);
    return -1;
  }
  webhook *w = calloc(1, sizeof(*w));
  if (w == NULL)
    return log_fail("cannot start the webhook sender: out of memory");
  w->app = a;
  w->url = have_url ? a->cfg->webhook_url : NULL;
  if (have_url)
    http_url_origin(w->url, w->origin, sizeof(w->origin));
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->wake, NULL);
  w->db = db_pool_create(a->cfg->database_url, WEBHOOK_SENDERS / 2 + 1);
  if (w->db == NULL)
    goto fail;
  for (int i = 0; i < WEBHOOK_SENDERS; i++) {
    if (pthread_create(&w->senders[i], NULL, sender_thread, w) != 0)
      goto fail;
    w->nsenders++;
  }
  if (pthread_create(&w->listener, NULL, listener_thread, w) != 0)
    goto fail;
  w->listener_started = 1;
  if (have_url)
    log_msg(LOG_INFO, "webhook: sending failure events to %s", w->origin);
  *out = w;
  return 0;
fail:
  webhook_stop(&w);
  return log_fail("cannot start the webhook sender");
}

void webhook_stop(webhook **wp) {
  if (wp == NULL || *wp == NULL)
    return;
  webhook *w = *wp;
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < w->nsenders; i++)
    pthread_join(w->senders[i], NULL);
  if (w->listener_started)
    pthread_join(w->listener, NULL);
  db_pool_destroy(&w->db);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  free(w);
  *wp = NULL;
}
