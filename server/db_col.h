/*
 * db_col.h: typed readers of one column of a libpq result, for the
 * database layer's own files (db*.c, through db_internal.h).
 *
 * Every reader takes the row and column of a field that exists in res
 * (the statement's own column list) and never fails: SQL NULL reads as
 * the type's zero ("" for text, NULL for a copy). A reader that must
 * tell NULL from zero asks PQgetisnull() first. Numbers are read from
 * PostgreSQL's text format; text that is not a number of the reader's
 * type, or does not fit it, reads as 0: our statements cast their
 * columns, so that marks a bug in a statement, never a client's input.
 */
#ifndef CERTDEPLOY_DB_COL_H
#define CERTDEPLOY_DB_COL_H

#include <libpq-fe.h>

#include <stddef.h>

/* An integer column (smallint, int, or a bigint known to fit) as an int:
 * 0 when NULL, not an integer, or outside the range of int. */
int db_col_int(const PGresult *res, int row, int col);

/* An integer column (bigint, count(*)) as a long long: 0 when NULL or
 * not an integer that fits. */
long long db_col_int64(const PGresult *res, int row, int col);

/* A floating-point or numeric column (float8, extract(epoch ...)) as a
 * double: 0 when NULL or not a number. */
double db_col_double(const PGresult *res, int row, int col);

/* A boolean column: 1 when true, 0 when false or NULL. */
int db_col_bool(const PGresult *res, int row, int col);

/* Copies a text column into buf (len > 0 bytes), "" when NULL. A longer
 * value is cut to fit on a UTF-8 character boundary, so the copy stays
 * valid UTF-8 (and JSON text). Always NUL-terminated. */
void db_col_text(const PGresult *res, int row, int col, char *buf, size_t len);

/* A malloc'd copy of a text column, which the caller frees; NULL when the
 * column is NULL or memory runs out (callers that must tell them apart
 * ask PQgetisnull()). */
char *db_col_dup(const PGresult *res, int row, int col);

#endif
