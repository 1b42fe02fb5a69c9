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
  db_pool *db;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t wake;
  int stopping;
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

crypto_key *keypool_key(app *a, db_pool *pool) {
  crypto_key *key = NULL;
  char *sealed = NULL;
  /* any instance takes from the shared pool, even one that does not fill it */
  db_conn *c = db_acquire(pool);
  if (c != NULL && db_keypool_take(c, &sealed) == 1)
    key = unseal(a, sealed);
  db_release(pool, c);
  free(sealed);
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

static void *refill(void *arg) {
  keypool *kp = arg;
  /* key generation yields to requests and CA work */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  for (;;) {
    pthread_mutex_lock(&kp->mu);
    int stop = kp->stopping;
    pthread_mutex_unlock(&kp->mu);
    if (stop)
      break;
    int have = -1;
    db_conn *c = db_acquire(kp->db);
    if (c != NULL)
      have = db_keypool_count(c);
    db_release(kp->db, c);
    if (have >= 0 && have < kp->app->cfg->key_pool_size && add_one(kp) == 0)
      continue;
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
  pthread_cond_init(&kp->wake, NULL);
  if (a->cfg->key_pool_size == 0)
    return kp;
  kp->db = db_pool_create(a->cfg->database_url, 1);
  if (kp->db == NULL || pthread_create(&kp->thread, NULL, refill, kp) != 0) {
    db_pool_destroy(&kp->db);
    free(kp);
    log_fail("cannot start the key pool");
    return NULL;
  }
  running = kp;
  return kp;
}

void keypool_stop(keypool **kpp) {
  if (kpp == NULL || *kpp == NULL)
    return;
  keypool *kp = *kpp;
  if (kp->db) {
    pthread_mutex_lock(&kp->mu);
    kp->stopping = 1;
    pthread_cond_broadcast(&kp->wake);
    pthread_mutex_unlock(&kp->mu);
    pthread_join(kp->thread, NULL);
    running = NULL;
    db_pool_destroy(&kp->db);
  }
  pthread_mutex_destroy(&kp->mu);
  pthread_cond_destroy(&kp->wake);
  free(kp);
  *kpp = NULL;
}
