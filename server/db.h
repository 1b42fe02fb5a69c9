/*
 * db.h: the PostgreSQL connection pool and the result convention of every
 * typed database function (db_*.h).
 *
 * Result convention (after GNU Taler): a typed database function returns
 *   DB_HARD_ERROR (-2)  a bug or a constraint we did not expect: 500,
 *   DB_SOFT_ERROR (-1)  the database is unreachable or asked us to retry: 503,
 *   0                   no row matched,
 *   n > 0               rows affected or found.
 * Handlers never see SQL or libpq; they call these functions.
 */
#ifndef CERTDEPLOY_DB_H
#define CERTDEPLOY_DB_H

#define DB_HARD_ERROR (-2)
#define DB_SOFT_ERROR (-1)

typedef struct db_pool db_pool;
typedef struct db_conn db_conn;

/* Creates a pool of up to `size` connections to conninfo. Connections are
 * opened on demand and reopened after the server restarts. */
db_pool *db_pool_create(const char *conninfo, int size);

/* Closes every connection and frees the pool. Accepts NULL. */
void db_pool_destroy(db_pool **pool);

/* Takes a connection, waiting for one to be free, and (re)connects it if
 * needed. NULL when the database cannot be reached right now. */
db_conn *db_acquire(db_pool *pool);

/* Returns a connection to the pool. A connection left inside a
 * transaction is rolled back first. Accepts NULL conn. */
void db_release(db_pool *pool, db_conn *conn);

/* 0 when the database answers a trivial query, -1 otherwise. */
int db_ping(db_pool *pool);

/* The SQLSTATE of the last failed statement on conn, or "" (e.g. "23505"
 * for a unique violation). */
const char *db_last_sqlstate(const db_conn *conn);

/* Transactions on one connection. Each returns 0 or a DB_*_ERROR. */
int db_begin(db_conn *conn);
int db_commit(db_conn *conn);
void db_rollback(db_conn *conn);

#endif
