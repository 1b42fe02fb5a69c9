/*
 * db_internal.h: for the database layer's own files (db*.c) only. It and
 * db_col.h (the column readers, which it includes) are the only headers
 * that include libpq.
 *
 * Statements are declared where they are used with DB_STMT and prepared on
 * a connection the first time it runs them (and again after a reconnect).
 */
#ifndef CERTDEPLOY_DB_INTERNAL_H
#define CERTDEPLOY_DB_INTERNAL_H

#include <libpq-fe.h>

#include "db.h"
#include "db_async.h" /* db_async_read() */
#include "db_col.h"
#include "db_device_auth.h"

#define DB_MAX_STATEMENTS 256

typedef struct db_stmt {
  const char *name; /* unique statement name */
  const char *sql;
  int id; /* assigned on first use; -1 before */
} db_stmt;

#define DB_STMT(var, text) static db_stmt var = {#var, text, -1}

/* RFC 3339 UTC text of a timestamptz column, to the second or (for keyset
 * cursors, which must round-trip exactly) to the microsecond. */
#define DB_TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define DB_TS_US(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

struct db_conn {
  PGconn *pg;
  unsigned char prepared[DB_MAX_STATEMENTS / 8]; /* bit per statement id */
  char sqlstate[6];
  int broken; /* reconnect before the next use */
  int in_tx;
};

/* Runs a prepared statement with text parameters (NULL = SQL NULL).
 * Returns the result when it is PGRES_COMMAND_OK or PGRES_TUPLES_OK, else
 * NULL with *rc set to DB_SOFT_ERROR or DB_HARD_ERROR (and the error
 * logged unless it is an expected constraint violation, SQLSTATE class 23). */
PGresult *db_exec(db_conn *conn, db_stmt *stmt, int nparams, const char *const *params, int *rc);

#define DB_STR_(x) #x
#define DB_STR(x) DB_STR_(x) /* a number macro as SQL text */

/* A device's identity (db_device_auth.h) as the first DB_DEVICE_IDENTITY_NCOLUMNS
 * columns of a row: DB_DEVICE_IDENTITY_COLUMNS selects them from the
 * devices table `t`. The last says whether the contact time is due (a
 * boolean: the check-in's read is the busiest query, and an age in
 * seconds as numeric is computed and formatted for each of its rows). */
#define DB_DEVICE_IDENTITY_COLUMNS(t)                                                              \
  t ".id, " t ".serial, " t ".name, " t ".token_hash, "                                            \
    "coalesce(" t ".last_checkin_at < now() - interval '" DB_STR(                                  \
        DB_CONTACT_RESOLUTION_SECONDS) " seconds', true)"
#define DB_DEVICE_IDENTITY_NCOLUMNS 5
#define DB_DEVICE_IDENTITY_TOKEN_HASH 3 /* the column of token_hash among them */
void db_read_device_identity(const PGresult *res, int row, db_device_identity *out);

/* Runs an INSERT/UPDATE/DELETE: returns the rows it affected, or a
 * DB_*_ERROR. */
int db_exec_affected(db_conn *conn, db_stmt *stmt, int nparams, const char *const *params);

/* Runs a statement whose answer is one number (a count): returns it (0
 * when there is no row), or a DB_*_ERROR. */
int db_exec_count(db_conn *conn, db_stmt *stmt, int nparams, const char *const *params);

/* How db_exec_rows turns one result row into one element of a list. */
typedef struct db_row_reader {
  size_t row_size; /* sizeof one element */
  /* Fills `out` (zeroed) from row `row` of res. Returns 0, or -1 when a copy
   * it owns could not be allocated. */
  int (*read_row)(const PGresult *res, int row, void *out);
  /* Frees what one element owns, for elements read before a failure; NULL
   * when elements own nothing. */
  void (*release_row)(void *row);
} db_row_reader;

/* Runs a statement that returns a list and reads every row with reader
 * into a malloc'd array, at least one element long, so the caller frees
 * *rows whatever the count (*rows is NULL on error). Returns the row count
 * or a DB_*_ERROR; a failed read_row is a DB_HARD_ERROR, after which the
 * rows already read are released and freed here. */
int db_exec_rows(db_conn *conn, db_stmt *stmt, int nparams, const char *const *params,
                 const db_row_reader *reader, void **rows);

/* Runs plain SQL text without parameters (migrations, transaction control).
 * Returns 0 or a DB_*_ERROR. */
int db_exec_simple(db_conn *conn, const char *sql);

/* Classifies a failed result into DB_SOFT_ERROR or DB_HARD_ERROR and
 * records the SQLSTATE on conn. */
int db_classify(db_conn *conn, const PGresult *res);

/* db_classify() and a log line naming the statement (none for an
 * expected constraint violation). Returns the DB_*_ERROR. */
int db_failed(db_conn *conn, const db_stmt *stmt, const PGresult *res);

/* The statement's number, for db_conn.prepared (assigned on first use);
 * -1 when there are more than DB_MAX_STATEMENTS. */
int db_stmt_id(db_stmt *stmt);

/* Whether statement number id is prepared on conn's session. */
static inline int db_is_prepared(const db_conn *conn, int id) {
  return (conn->prepared[id / 8] >> (id % 8)) & 1;
}

/* Records that statement number id is (on) or is not (off) prepared. */
static inline void db_set_prepared(db_conn *conn, int id, int on) {
  unsigned char bit = (unsigned char)(1u << (id % 8));
  conn->prepared[id / 8] =
      (unsigned char)(on ? conn->prepared[id / 8] | bit : conn->prepared[id / 8] & ~bit);
}

/* 1 when conn has a session that has not broken. */
static inline int db_conn_alive(const db_conn *conn) {
  return conn->pg != NULL && !conn->broken && PQstatus(conn->pg) == CONNECTION_OK;
}

/* Makes sure conn has a working session, (re)connecting with conninfo
 * when it has none or it broke; a failure is logged. Returns 0 or -1. */
int db_conn_ensure(db_conn *conn, const char *conninfo);

// clang-format off
/* A certificate of a deployment `d` (p: "issued" or "installed"), read
 * by db_read_cert(). */
#define DB_CERT_COLUMNS(p)                                                                         \
  "d." p "_serial, " DB_TS("d." p "_not_before") ", " DB_TS("d." p "_not_after") ", "              \
  "d." p "_sha256, coalesce(now() BETWEEN d." p "_not_before AND d." p "_not_after, false)"
// clang-format on
/* The columns of DB_CERT_COLUMNS, in its order. */
enum {
  DB_CERT_SERIAL,
  DB_CERT_NOT_BEFORE,
  DB_CERT_NOT_AFTER,
  DB_CERT_SHA256,
  DB_CERT_VALID,
  DB_CERT_NCOLUMNS
};
struct db_cert;
/* DB_CERT_COLUMNS from column col on (db_deployments.c). */
void db_read_cert(const PGresult *res, int row, int col, struct db_cert *cert);

/* Rows affected by an INSERT/UPDATE/DELETE result. */
int db_affected(const PGresult *res);

/* Opens a standalone connection (migrations, LISTEN). NULL with a logged
 * reason on failure. */
db_conn *db_connect(const char *conninfo);
/* Closes a standalone connection. Accepts NULL. */
void db_disconnect(db_conn **conn);

#endif
