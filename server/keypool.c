/* keypool.c: keep a stock of sealed RSA keys; hand them out once each. */
#include "keypool.h"

#include "db_keypool.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct keypool {
  app *app;
  db_pool *db; /* one connection per refill thread */
  pthread_t *threads;
  int nthreads;       /* one per CPU */
  pthread_mutex_t mu; /* guards stopping; with wake */
  pthread_cond_t wake;
  int stopping;
  pthread_mutex_t decide_mu; /* one refill decision at a time; guards making */
  int making;                /* keys this process's threads are making now */
};

/* The refill thread of this process, for keypool_key() to wake. */
static keypool *running;

static crypto_key *unseal(app *a, const char *sealed) {
  char *pem = NULL;
  size_t len = 0;
  if (crypto_open(a->master_key, sealed, &pem, &len) != 0)
    return NULL; /* sealed under another master key: skip it */
  crypto_key *k = crypto_key_from_pem(pem, NULL);
  crypto_free_secret(pem);
  return k;
}

crypto_key *keypool_key(app *a, db_pool *pool, char **sealed) {
  crypto_key *key = NULL;
  char *taken = NULL;
  *sealed = NULL;
  /* any instance takes from the shared pool, even one that does not fill it */
  db_conn *c = db_acquire(pool);
  if (c != NULL && db_keypool_take(c, &taken) == 1)
    key = unseal(a, taken);
  db_release(pool, c);
  if (key != NULL)
    *sealed = taken;
  else
    free(taken);
  if (running) {
    pthread_mutex_lock(&running->mu);
    pthread_cond_signal(&running->wake);
    pthread_mutex_unlock(&running->mu);
  }
  return key ? key : crypto_key_generate_rsa(2048);
}

/* Generates and stores one key. 0 when stored, -1 otherwise. */
static int add_one(keypool *kp) {
  int ret = -1;
  char *pem = NULL, *sealed = NULL;
  crypto_key *key = crypto_key_generate_rsa(2048);
  if (key == NULL || (pem = crypto_key_to_pem(key)) == NULL ||
      (sealed = crypto_seal(kp->app->master_key, pem, strlen(pem))) == NULL)
    goto out;
  db_conn *c = db_acquire(kp->db);
  if (c != NULL && db_keypool_put(c, sealed) == 1)
    ret = 0;
  db_release(kp->db, c);
out:
  free(sealed);
  crypto_free_secret(pem);
  crypto_key_free(&key);
  return ret;
}

/* How many keys the pool should hold now: the configured size plus one
 * per server-key renewal due within the lookahead, at most the maximum.
 * -1 when the database cannot tell. */
static long pool_target(const config *cfg, db_conn *c) {
  long want = cfg->key_pool_size;
  if (cfg->key_pool_lookahead_hours > 0) {
    int upcoming = db_keypool_upcoming(c, (int)cfg->key_pool_lookahead_hours);
    if (upcoming < 0)
      return -1;
    want += upcoming;
  }
  return want > cfg->key_pool_max ? cfg->key_pool_max : want;
}

static void *refill(void *arg) {
  pthread_setname_np(pthread_self(), "cd-keypool"); /* for top -H, perf */
  keypool *kp = arg;
  /* key generation yields to requests and CA work */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  for (;;) {
    pthread_mutex_lock(&kp->mu);
    int stop = kp->stopping;
    pthread_mutex_unlock(&kp->mu);
    if (stop)
      break;
    /* decide one thread at a time, counting the keys being made here, so
     * this process does not overshoot (instances may, by a key each:
     * harmless); not under mu, which keypool_key() takes to wake us */
    pthread_mutex_lock(&kp->decide_mu);
    int have = -1;
    long want = -1;
    db_conn *c = db_acquire(kp->db);
    if (c != NULL && (have = db_keypool_count(c)) >= 0)
      want = pool_target(kp->app->cfg, c);
    db_release(kp->db, c);
    int go = have >= 0 && have + kp->making < want;
    kp->making += go;
    pthread_mutex_unlock(&kp->decide_mu);
    if (go) {
      int rc = add_one(kp);
      pthread_mutex_lock(&kp->decide_mu);
      kp->making--;
      pthread_mutex_unlock(&kp->decide_mu);
      if (rc == 0)
        continue;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&kp->mu);
    if (!kp->stopping)
      pthread_cond_timedwait(&kp->wake, &kp->mu, &until);
    pthread_mutex_unlock(&kp->mu);
  }
  return NULL;
}

keypool *keypool_start(app *a) {
  keypool *kp = calloc(1, sizeof(*kp));
  if (kp == NULL)
    return NULL;
  kp->app = a;
  pthread_mutex_init(&kp->mu, NULL);
  pthread_mutex_init(&kp->decide_mu, NULL);
  pthread_cond_init(&kp->wake, NULL);
  if (a->cfg->key_pool_size == 0)
    return kp;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int n = cpus > 0 ? (int)cpus : 1;
  kp->db = db_pool_create(a->cfg->database_url, n);
  kp->threads = calloc((size_t)n, sizeof(pthread_t));
  if (kp->db == NULL || kp->threads == NULL) {
    keypool_stop(&kp);
    log_fail("cannot start the key pool");
    return NULL;
  }
  for (; kp->nthreads < n; kp->nthreads++)
    if (pthread_create(&kp->threads[kp->nthreads], NULL, refill, kp) != 0) {
      keypool_stop(&kp);
      log_fail("cannot start the key pool's threads");
      return NULL;
    }
  running = kp;
  return kp;
}

void keypool_stop(keypool **kpp) {
  if (kpp == NULL || *kpp == NULL)
    return;
  keypool *kp = *kpp;
  pthread_mutex_lock(&kp->mu);
  kp->stopping = 1;
  pthread_cond_broadcast(&kp->wake);
  pthread_mutex_unlock(&kp->mu);
  for (int i = 0; i < kp->nthreads; i++)
    pthread_join(kp->threads[i], NULL);
  if (running == kp)
    running = NULL;
  db_pool_destroy(&kp->db);
  free(kp->threads);
  pthread_mutex_destroy(&kp->mu);
  pthread_mutex_destroy(&kp->decide_mu);
  pthread_cond_destroy(&kp->wake);
  free(kp);
  *kpp = NULL;
}
