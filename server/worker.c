/* worker.c: threads that claim due deployments and call the CA. */
#include "worker.h"

#include "ca_client.h"
#include "db.h"
#include "db_deployments.h"
#include "db_listen.h"
#include "db_worker.h"
#include "issue.h"
#include "log.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RENEWAL_BATCH 500

struct worker {
  app *app;
  db_pool *db; /* the worker's own connections */
  pthread_t *threads;
  int nthreads;
  pthread_t listener;
  int listener_started;
  pthread_mutex_t mu;
  pthread_cond_t wake;
  unsigned long wakeups; /* bumped to wake idle threads */
  sem_t ca_slots;        /* CA requests that may still start (issue.h) */
  int stopping;
};

static void wake_all(worker *w) {
  pthread_mutex_lock(&w->mu);
  w->wakeups++;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->mu);
}

/* Sleeps until woken (or the interval passes). Returns 0 to go on, -1 to stop. */
static int wait_for_work(worker *w, unsigned long *seen) {
  pthread_mutex_lock(&w->mu);
  if (!w->stopping && w->wakeups == *seen) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += w->app->cfg->scheduler_interval_seconds;
    pthread_cond_timedwait(&w->wake, &w->mu, &until);
  }
  *seen = w->wakeups;
  int stop = w->stopping;
  pthread_mutex_unlock(&w->mu);
  return stop ? -1 : 0;
}

static int stopping(worker *w) {
  pthread_mutex_lock(&w->mu);
  int s = w->stopping;
  pthread_mutex_unlock(&w->mu);
  return s;
}

static void *issue_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-issue"); /* for top -H, perf */
  worker *w = arg;
  unsigned long seen = 0;
  long lease = w->app->cfg->ca_timeout_seconds + ISSUE_LEASE_MARGIN_SECONDS;
  for (;;) {
    int claimed = 0;
    db_claim cl;
    db_conn *c = db_acquire(w->db);
    if (c != NULL) {
      claimed = db_claim_next(c, lease, &cl) == 1;
      db_release(w->db, c);
    }
    if (claimed) {
      issue_one(w->app, w->db, &w->ca_slots, &cl);
      db_claim_release(&cl);
      if (!stopping(w))
        continue;
    }
    if (wait_for_work(w, &seen) != 0)
      break;
  }
  return NULL;
}

/* Renewals due now become pending (a new generation) for the issue
 * threads: this instance's, and through a NOTIFY every other instance's,
 * so a renewal storm found by one scheduler pass is shared at once rather
 * than at the others' next pass. */
static void renewal_pass(worker *w) {
  db_conn *c = db_acquire(w->db);
  if (c == NULL)
    return;
  int n, total = 0;
  do {
    n = db_renew_due(c, RENEWAL_BATCH);
    if (n > 0) {
      total += n;
      log_msg(LOG_INFO, "scheduler: %d deployment(s) entered their renewal window", n);
    }
  } while (n == RENEWAL_BATCH && !stopping(w));
  if (total > 0 && db_notify_work(c) != 0)
    log_msg(LOG_WARN, "could not notify the other instances of due renewals; their own scheduler "
                      "pass will find them");
  db_release(w->db, c);
}

/* How long the listener may sleep: until the next retry is due (then
 * *due_soon is set), at most the time left in the scheduler interval,
 * and at most a second so a stop is seen promptly. */
static int listener_timeout_ms(worker *w, double interval_left, int *due_soon) {
  double next = -1;
  db_conn *c = db_acquire(w->db);
  if (c != NULL) {
    if (db_next_due_in(c, &next) != 0)
      next = -1;
    db_release(w->db, c);
  }
  double t = interval_left < 1.0 ? interval_left : 1.0;
  *due_soon = next >= 0 && next <= t;
  if (*due_soon)
    t = next;
  if (t < 0.05)
    t = 0.05;
  return (int)(t * 1000);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *listener_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-scheduler"); /* for top -H, perf */
  worker *w = arg;
  db_listener *l = db_listener_new(w->app->cfg->database_url, DB_WORK_CHANNEL);
  double interval = (double)w->app->cfg->scheduler_interval_seconds;
  double next_pass = now_seconds();
  while (l != NULL && !stopping(w)) {
    double now = now_seconds();
    if (now >= next_pass) {
      renewal_pass(w);
      wake_all(w);
      next_pass = now + interval;
    }
    int due_soon = 0;
    int timeout = listener_timeout_ms(w, next_pass - now, &due_soon);
    int r = db_listener_wait(l, timeout);
    if (r == 1 || (r == 0 && due_soon))
      wake_all(w);
  }
  db_listener_free(&l);
  return NULL;
}

worker *worker_start(app *a) {
  worker *w = calloc(1, sizeof(*w));
  if (w == NULL)
    return NULL;
  w->app = a;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->wake, NULL);
  int slots = (int)a->cfg->ca_concurrency;
  sem_init(&w->ca_slots, 0, (unsigned)slots);
  /* more threads than CA slots: while `slots` requests wait for the CA,
   * the others make keys and CSRs and record outcomes */
  w->nthreads = slots + (slots + 1) / 2;
  /* a connection per CA slot: threads hold one only for a statement's
   * length, never during the CA request; + scheduler, listener */
  int pool = slots + 2;
  w->db = db_pool_create(a->cfg->database_url, pool);
  w->threads = calloc((size_t)w->nthreads, sizeof(pthread_t));
  if (w->db == NULL || w->threads == NULL)
    goto fail;
  for (int i = 0; i < w->nthreads; i++) {
    if (pthread_create(&w->threads[i], NULL, issue_thread, w) != 0) {
      w->nthreads = i;
      goto fail;
    }
  }
  if (pthread_create(&w->listener, NULL, listener_thread, w) != 0)
    goto fail;
  w->listener_started = 1;
  return w;
fail:
  log_fail("cannot start the issuance worker");
  worker_stop(&w);
  return NULL;
}

void worker_stop(worker **wp) {
  if (wp == NULL || *wp == NULL)
    return;
  worker *w = *wp;
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < w->nthreads; i++)
    pthread_join(w->threads[i], NULL);
  if (w->listener_started)
    pthread_join(w->listener, NULL);
  db_pool_destroy(&w->db);
  free(w->threads);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  sem_destroy(&w->ca_slots);
  free(w);
  *wp = NULL;
}
