/*
 * db_listen.h: waiting for NOTIFY on a dedicated connection, so work
 * created by any instance wakes every instance's worker.
 */
#ifndef CERTDEPLOY_DB_LISTEN_H
#define CERTDEPLOY_DB_LISTEN_H

typedef struct db_listener db_listener;

/* Prepares a listener on `channel`; it connects lazily and reconnects
 * after failures. NULL only when out of memory. */
db_listener *db_listener_new(const char *conninfo, const char *channel);

/* Waits up to timeout_ms for a notification. Returns 1 when one (or more)
 * arrived, 0 on timeout, -1 when the database is unreachable (after
 * sleeping the timeout, so callers can simply loop). */
int db_listener_wait(db_listener *l, int timeout_ms);

/* Closes and frees. Accepts NULL. */
void db_listener_free(db_listener **l);

#endif
