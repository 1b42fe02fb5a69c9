/* db_col.c: typed readers of a libpq result's columns (db_col.h). */
#include "db_col.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The field's decimal integer into *out: 0, or -1 when it is NULL, not
 * an integer (nothing but the number is allowed), or out of range. */
static int parse_int64(const PGresult *res, int row, int col, long long *out) {
  if (PQgetisnull(res, row, col))
    return -1;
  const char *t = PQgetvalue(res, row, col);
  char *end = NULL;
  errno = 0;
  long long v = strtoll(t, &end, 10);
  if (end == t || *end != '\0' || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

int db_col_int(const PGresult *res, int row, int col) {
  long long v;
  if (parse_int64(res, row, col, &v) != 0 || v < INT_MIN || v > INT_MAX)
    return 0;
  return (int)v;
}

long long db_col_int64(const PGresult *res, int row, int col) {
  long long v;
  return parse_int64(res, row, col, &v) == 0 ? v : 0;
}

double db_col_double(const PGresult *res, int row, int col) {
  if (PQgetisnull(res, row, col))
    return 0;
  const char *t = PQgetvalue(res, row, col);
  char *end = NULL;
  double v = strtod(t, &end);
  return (end == t || *end != '\0') ? 0 : v;
}

int db_col_bool(const PGresult *res, int row, int col) {
  return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

void db_col_text(const PGresult *res, int row, int col, char *buf, size_t len) {
  const char *v = PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
  size_t n = strlen(v);
  if (n >= len) {
    /* cut on a UTF-8 character boundary so the text stays valid JSON */
    n = len - 1;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(buf, v, n);
  buf[n] = '\0';
}

char *db_col_dup(const PGresult *res, int row, int col) {
  if (PQgetisnull(res, row, col))
    return NULL;
  return strdup(PQgetvalue(res, row, col));
}
