/* checkin_touch.c: hold devices' contact times and write them once a second. */
#include "checkin_touch.h"

#include "db.h"
#include "db_device_auth.h"
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct contact {
  char id[37];
  struct timespec at; /* CLOCK_MONOTONIC */
} contact;

typedef struct batch {
  contact *items;
  size_t len, cap;
} batch;

struct checkin_touch {
  app *app;
  pthread_t thread;
  pthread_mutex_t mu; /* guards incoming, dropped, stopping */
  pthread_cond_t wake;
  batch incoming; /* recorded since the last write */
  unsigned long dropped;
  int stopping;
  batch held; /* the writer thread's: taken for writing, kept when a write failed */
};

/* Appends one contact; 0, or -1 when the batch is full or out of memory. */
static int batch_push(batch *b, const contact *c) {
  if (b->len == b->cap) {
    if (b->cap >= CHECKIN_TOUCH_MAX)
      return -1;
    size_t cap = b->cap ? b->cap * 2 : 256;
    contact *items = realloc(b->items, cap * sizeof(*items));
    if (items == NULL)
      return -1;
    b->items = items;
    b->cap = cap;
  }
  b->items[b->len++] = *c;
  return 0;
}

void checkin_touch_record(checkin_touch *t, const char *device_id) {
  if (t == NULL)
    return;
  contact c;
  snprintf(c.id, sizeof(c.id), "%s", device_id);
  clock_gettime(CLOCK_MONOTONIC, &c.at);
  pthread_mutex_lock(&t->mu);
  if (batch_push(&t->incoming, &c) != 0)
    t->dropped++;
  else if (t->incoming.len == CHECKIN_TOUCH_MAX / 2)
    pthread_cond_signal(&t->wake); /* a busy second: write early */
  pthread_mutex_unlock(&t->mu);
}

/* Appends formatted text at buf + *used (cap bytes in all) and advances
 * *used; 0, or -1 when it would not fit with its NUL. */
__attribute__((format(printf, 4, 5))) static int append(char *buf, size_t cap, size_t *used,
                                                        const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap - *used)
    return -1;
  *used += (size_t)n;
  return 0;
}

/* The two array literals of db_device_touch for the held contacts, in
 * *ids and *ages (the caller frees both); 0, or -1 with both NULL. */
static int literals(const batch *b, char **ids, char **ages) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  /* each id: a comma and 36 characters; each age: a comma and at most 23 */
  size_t ids_cap = b->len * 37 + 3, ages_cap = b->len * 24 + 3, ni = 0, na = 0;
  *ids = malloc(ids_cap);
  *ages = malloc(ages_cap);
  if (*ids == NULL || *ages == NULL)
    goto fail;
  if (append(*ids, ids_cap, &ni, "{") != 0 || append(*ages, ages_cap, &na, "{") != 0)
    goto fail;
  for (size_t k = 0; k < b->len; k++) {
    const contact *c = &b->items[k];
    double age = (double)(now.tv_sec - c->at.tv_sec) + (now.tv_nsec - c->at.tv_nsec) / 1e9;
    if (append(*ids, ids_cap, &ni, "%s%s", k ? "," : "", c->id) != 0 ||
        append(*ages, ages_cap, &na, "%s%.3f", k ? "," : "", age < 0 ? 0.0 : age) != 0)
      goto fail;
  }
  if (append(*ids, ids_cap, &ni, "}") != 0 || append(*ages, ages_cap, &na, "}") != 0)
    goto fail;
  return 0;
fail:
  free(*ids);
  free(*ages);
  *ids = NULL;
  *ages = NULL;
  return -1;
}

/* Writes what is held now. Returns 0, or a DB_*_ERROR (the contacts are
 * then kept for the next write). */
static int flush(checkin_touch *t) {
  pthread_mutex_lock(&t->mu);
  unsigned long dropped = t->dropped;
  t->dropped = 0;
  for (size_t k = 0; k < t->incoming.len; k++)
    if (batch_push(&t->held, &t->incoming.items[k]) != 0)
      dropped++;
  t->incoming.len = 0;
  pthread_mutex_unlock(&t->mu);
  if (dropped)
    log_msg(LOG_WARN,
            "%lu device contact times were not recorded (the database was unreachable "
            "for long); devices' last_checkin_at is behind until they check in again",
            dropped);
  int rc = 0;
  char *ids = NULL, *ages = NULL;
  if (t->held.len == 0)
    goto out;
  if (literals(&t->held, &ids, &ages) != 0) {
    rc = DB_HARD_ERROR;
    goto out;
  }
  db_conn *c = db_acquire(t->app->db);
  rc = c ? db_device_touch(c, ids, ages) : DB_SOFT_ERROR;
  db_release(t->app->db, c);
  if (rc >= 0) {
    t->held.len = 0;
    rc = 0;
  }
out:
  free(ids);
  free(ages);
  return rc;
}

static void *writer(void *arg) {
  pthread_setname_np(pthread_self(), "cd-touch"); /* for top -H, perf */
  checkin_touch *t = arg;
  int failing = 0;
  for (;;) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)CHECKIN_TOUCH_INTERVAL_MS % 1000 * 1000000L;
    until.tv_sec += CHECKIN_TOUCH_INTERVAL_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&t->mu);
    if (!t->stopping && t->incoming.len < CHECKIN_TOUCH_MAX / 2)
      pthread_cond_timedwait(&t->wake, &t->mu, &until);
    int stop = t->stopping;
    pthread_mutex_unlock(&t->mu);
    int rc = flush(t);
    if (rc < 0 && !failing)
      log_msg(LOG_WARN, "cannot record device contact times yet; they are kept and retried");
    failing = rc < 0;
    if (stop)
      break;
  }
  return NULL;
}

checkin_touch *checkin_touch_start(app *a) {
  checkin_touch *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->app = a;
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->wake, NULL);
  if (pthread_create(&t->thread, NULL, writer, t) != 0) {
    log_fail("cannot start the device contact writer");
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->wake);
    free(t);
    return NULL;
  }
  return t;
}

void checkin_touch_stop(checkin_touch **tp) {
  if (tp == NULL || *tp == NULL)
    return;
  checkin_touch *t = *tp;
  pthread_mutex_lock(&t->mu);
  t->stopping = 1;
  pthread_cond_signal(&t->wake);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  if (t->held.len || t->incoming.len)
    log_msg(LOG_WARN, "%zu device contact times could not be recorded at shutdown",
            t->held.len + t->incoming.len);
  free(t->incoming.items);
  free(t->held.items);
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->wake);
  free(t);
  *tp = NULL;
}
