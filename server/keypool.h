/*
 * keypool.h: server key mode keys, generated ahead of need.
 *
 * A low-priority thread keeps CERTDEPLOY_KEY_POOL_SIZE sealed RSA-2048
 * keys in the database (shared by instances); keypool_key() hands one out
 * or, when the pool is empty, generates one on the spot.
 */
#ifndef CERTDEPLOY_KEYPOOL_H
#define CERTDEPLOY_KEYPOOL_H

#include "app.h"
#include "crypto.h"
#include "db.h"

typedef struct keypool keypool;

/* Starts the refill thread (none when the size is 0). NULL on failure. */
keypool *keypool_start(app *a);

/* Stops the refill thread. Accepts NULL. */
void keypool_stop(keypool **kp);

/* A fresh RSA-2048 key: from the shared pool when it has one (whatever
 * this instance's pool size), else generated now. Wakes this instance's
 * refill thread. NULL on failure. */
crypto_key *keypool_key(app *a, db_pool *pool);

#endif
