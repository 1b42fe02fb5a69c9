/*
 * keypool.h: server key mode keys, generated ahead of need.
 *
 * Low-priority threads (one per CPU) keep sealed RSA-2048 keys in the
 * database, shared by instances: CERTDEPLOY_KEY_POOL_SIZE, plus one for
 * each server-key renewal due within CERTDEPLOY_KEY_POOL_LOOKAHEAD_HOURS
 * (renewal times are known in advance, so a renewal storm finds its keys
 * made), at most CERTDEPLOY_KEY_POOL_MAX. keypool_key() hands one out or,
 * when the pool is empty, generates one on the spot.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_KEYPOOL_H
#define CERTDEPLOY_KEYPOOL_H

#include "app.h"
#include "crypto.h"
#include "db.h"

typedef struct keypool keypool;

/* Starts the refill threads (none when the size is 0). NULL on failure. */
keypool *keypool_start(app *a);

/* Stops the refill threads. Accepts NULL. */
void keypool_stop(keypool **kp);

/* A fresh RSA-2048 key: from the shared pool when it has one (whatever
 * this instance's pool size; *sealed is then its sealed PEM as stored,
 * malloc'd), else generated now (*sealed NULL). Wakes this instance's
 * refill threads. NULL on failure. */
crypto_key *keypool_key(app *a, db_pool *pool, char **sealed);

#endif
