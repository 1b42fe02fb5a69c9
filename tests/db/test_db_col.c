/*
 * test_db_col.c: the column readers (server/db_col.c) read what
 * PostgreSQL sends for the types our statements select: int and bigint
 * at their limits, count(*), booleans, the numeric of extract(epoch ...),
 * text, and NULL of each as the type's zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db_fixture.h"

/* The one row of a SELECT; PQclear it. */
static PGresult *select_row(const char *sql) {
  PGresult *res = PQexec(conn->pg, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(conn->pg));
  assert_int_equal(PQntuples(res), 1);
  return res;
}

static void numbers_at_their_limits(void **state) {
  (void)state;
  PGresult *res = select_row("SELECT 2147483647::int, (-2147483648)::int, NULL::int, "
                             "9223372036854775807::bigint, (-9223372036854775808)::bigint, "
                             "NULL::bigint, (SELECT count(*) FROM generate_series(1, 3)), "
                             "extract(epoch FROM interval '90.5 seconds'), 0.25::float8, "
                             "NULL::float8, 3000000000::bigint");
  assert_int_equal(db_col_int(res, 0, 0), 2147483647);
  assert_int_equal(db_col_int(res, 0, 1), -2147483647 - 1);
  assert_int_equal(db_col_int(res, 0, 2), 0);
  assert_true(db_col_int64(res, 0, 3) == 9223372036854775807LL);
  assert_true(db_col_int64(res, 0, 4) == -9223372036854775807LL - 1);
  assert_true(db_col_int64(res, 0, 5) == 0);
  assert_int_equal(db_col_int(res, 0, 6), 3);
  assert_true(db_col_int64(res, 0, 6) == 3);
  assert_true(db_col_double(res, 0, 7) == 90.5);
  assert_true(db_col_double(res, 0, 8) == 0.25);
  assert_true(db_col_double(res, 0, 9) == 0);
  assert_int_equal(db_col_int(res, 0, 10), 0); /* does not fit an int */
  PQclear(res);
}

static void booleans(void **state) {
  (void)state;
  PGresult *res = select_row("SELECT true, false, NULL::boolean, 1 < 2, "
                             "coalesce(NULL::timestamptz < now(), true)");
  assert_int_equal(db_col_bool(res, 0, 0), 1);
  assert_int_equal(db_col_bool(res, 0, 1), 0);
  assert_int_equal(db_col_bool(res, 0, 2), 0);
  assert_int_equal(db_col_bool(res, 0, 3), 1);
  assert_int_equal(db_col_bool(res, 0, 4), 1);
  PQclear(res);
}

static void text_and_null(void **state) {
  (void)state;
  PGresult *res = select_row("SELECT 'h' || chr(233) || 'llo', NULL::text, ''");
  char buf[16];
  db_col_text(res, 0, 0, buf, sizeof(buf));
  assert_string_equal(buf, "h\xc3\xa9llo");
  db_col_text(res, 0, 0, buf, 3); /* not half of the é */
  assert_string_equal(buf, "h");
  db_col_text(res, 0, 1, buf, sizeof(buf));
  assert_string_equal(buf, "");
  assert_null(db_col_dup(res, 0, 1));
  char *empty = db_col_dup(res, 0, 2);
  assert_non_null(empty);
  assert_string_equal(empty, "");
  free(empty);
  PQclear(res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(numbers_at_their_limits),
      cmocka_unit_test(booleans),
      cmocka_unit_test(text_and_null),
  };
  return cmocka_run_group_tests(tests, db_fixture_setup, db_fixture_teardown);
}
