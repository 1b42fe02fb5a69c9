/*
 * db_keypool.h: the shared stock of pre-generated, sealed server keys.
 * Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_KEYPOOL_H
#define CERTDEPLOY_DB_KEYPOOL_H

#include "db.h"

/* Takes one key out of the pool (each key is handed out once, across
 * instances). *sealed is malloc'd. Returns 1, or 0 when the pool is empty. */
int db_keypool_take(db_conn *c, char **sealed);

/* Adds a sealed key. Returns 1. */
int db_keypool_put(db_conn *c, const char *sealed);

/* Number of keys in the pool. Returns the count. */
int db_keypool_count(db_conn *c);

/* Verified server-key deployments whose renewal falls due within the
 * next `hours`, not yet due (each will want a key). Returns the count. */
int db_keypool_upcoming(db_conn *c, int hours);

#endif
