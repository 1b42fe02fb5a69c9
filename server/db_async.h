/*
 * db_async.h: reads that no HTTP thread waits for.
 *
 * One thread owns a few connections of its own in pipeline mode. What
 * was handed to it since its last look goes out as one batch (one write,
 * one Sync) on an idle connection (with none idle, the reads gather until
 * one is), and PostgreSQL answers the batch without waiting for us; the
 * thread waits on all connections at once. A read is one key's rows of a
 * statement that takes an array of keys, so the reads of one statement
 * in a batch run as one execution: PostgreSQL binds, starts and ends one
 * executor for all the check-ins of a batch, not one for each. A request
 * that needs such a read is held back by http.c meanwhile
 * (request_defer()) instead of blocking its thread. The check-in's read
 * goes this way (db_device_checkin_read(), db_deployments.h): it is most
 * of what a busy server does. A failed execution fails its reads, and the
 * rest of its batch, with DB_SOFT_ERROR (503, try again).
 *
 * A read that cannot run (the database unreachable, the reads stopping)
 * completes with DB_SOFT_ERROR: every read handed over completes exactly
 * once.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_DB_ASYNC_H
#define CERTDEPLOY_DB_ASYNC_H

typedef struct db_async db_async;

/* Starts the thread with nconns connections (opened when first needed).
 * NULL with a logged reason on failure. */
db_async *db_async_start(const char *conninfo, int nconns);

/* Stops the thread, completes every read still queued or running with
 * DB_SOFT_ERROR and closes the connections; reads handed over later
 * complete at once the same way. Call it before stopping the HTTP server,
 * which must not stop while a request waits for a read. Accepts NULL. */
void db_async_close(db_async *q);

/* Frees, closing first if needed, once no thread can hand a read over any
 * more. Accepts NULL. */
void db_async_free(db_async **q);

/* For the database layer's own files (db_internal.h includes this),
 * which define the statements; the check-in's read is one of them. */
struct db_stmt;
struct pg_result; /* libpq's PGresult: only the database layer sees inside */

/* How a read ends: with its rows, rows [row, row + nrows) of res (nrows
 * 0: none for its key), or with res NULL and a DB_*_ERROR. Called on the
 * reads' thread, or on the caller's when the read cannot start; res is
 * cleared when it returns. */
typedef void (*db_async_done)(void *arg, const struct pg_result *res, int row, int nrows, int rc);

/* Hands the read of key (copied) to the reads' thread; done is called
 * exactly once. stmt takes one parameter, a text[] of keys, and returns
 * each key's rows next to each other (ORDER BY the key) with the key in
 * column key_col: reads of one statement handed over together run as
 * one execution over all their keys. */
void db_async_read(db_async *q, struct db_stmt *stmt, int key_col, const char *key,
                   db_async_done done, void *arg);

#endif
