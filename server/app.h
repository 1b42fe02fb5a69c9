/*
 * app.h: the state one certdeployd instance shares across its threads.
 */
#ifndef CERTDEPLOY_APP_H
#define CERTDEPLOY_APP_H

#include "config.h"
#include "crypto.h"

struct db_pool;
struct db_async;
struct checkin_touch;

typedef struct app {
  const config *cfg;
  struct db_pool *db;                              /* request and worker connections */
  struct db_async *reads;                          /* the check-ins' reads (db_async.h) */
  struct checkin_touch *touches;                   /* devices' contact times, batched */
  unsigned char master_key[CRYPTO_MASTER_KEY_LEN]; /* encrypts secrets at rest */
  int bound_port; /* the HTTPS port once listening (atomic; 0 before) */
} app;

#endif
