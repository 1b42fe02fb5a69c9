/*
 * test_db_col.c: the column readers (server/db_col.c) on results built in
 * memory, one text field a row: each type's values and limits, SQL NULL
 * as the type's zero, and text that is not of the reader's type as 0;
 * text copies cut on a UTF-8 character boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "db_col.h"

#define SQL_NULL NULL

/* A one-column result with a row for each of the n values (SQL_NULL for
 * NULL), as libpq would hand one over; PQclear it. */
static PGresult *result_of(const char *const *values, int n) {
  PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
  assert_non_null(res);
  PGresAttDesc col = {.name = (char *)"v", .format = 0, .typid = 25 /* text */, .typlen = -1};
  assert_int_equal(PQsetResultAttrs(res, 1, &col), 1);
  for (int i = 0; i < n; i++) {
    const char *v = values[i];
    assert_int_equal(PQsetvalue(res, i, 0, (char *)v, v ? (int)strlen(v) : -1), 1);
  }
  assert_int_equal(PQntuples(res), n);
  return res;
}

static void int_reads_its_range_and_nothing_else(void **state) {
  (void)state;
  const char *v[] = {"42",          "-7",     "0", "2147483647", "-2147483648", "2147483648",
                     "-2147483649", SQL_NULL, "",  "12abc",      "abc",         "1.5"};
  const int want[] = {42, -7, 0, 2147483647, -2147483647 - 1, 0, 0, 0, 0, 0, 0, 0};
  PGresult *res = result_of(v, 12);
  for (int i = 0; i < 12; i++)
    assert_int_equal(db_col_int(res, i, 0), want[i]);
  PQclear(res);
}

static void int64_reads_bigint_and_nothing_else(void **state) {
  (void)state;
  const char *v[] = {"9223372036854775807",
                     "-9223372036854775808",
                     "9223372036854775808",
                     "3000000000",
                     SQL_NULL,
                     "1e3",
                     "-"};
  PGresult *res = result_of(v, 7);
  assert_true(db_col_int64(res, 0, 0) == 9223372036854775807LL);
  assert_true(db_col_int64(res, 1, 0) == -9223372036854775807LL - 1);
  assert_true(db_col_int64(res, 2, 0) == 0); /* out of range */
  assert_true(db_col_int64(res, 3, 0) == 3000000000LL);
  assert_true(db_col_int64(res, 4, 0) == 0);
  assert_true(db_col_int64(res, 5, 0) == 0);
  assert_true(db_col_int64(res, 6, 0) == 0);
  assert_int_equal(db_col_int(res, 3, 0), 0); /* a bigint that does not fit an int */
  PQclear(res);
}

static void double_reads_numbers(void **state) {
  (void)state;
  const char *v[] = {"1.5", "-0.25", "90.000000", "1e3", SQL_NULL, "", "x", "2s"};
  const double want[] = {1.5, -0.25, 90, 1000, 0, 0, 0, 0};
  PGresult *res = result_of(v, 8);
  for (int i = 0; i < 8; i++)
    assert_true(db_col_double(res, i, 0) == want[i]);
  PQclear(res);
}

static void bool_is_true_only_for_t(void **state) {
  (void)state;
  const char *v[] = {"t", "f", SQL_NULL};
  PGresult *res = result_of(v, 3);
  assert_int_equal(db_col_bool(res, 0, 0), 1);
  assert_int_equal(db_col_bool(res, 1, 0), 0);
  assert_int_equal(db_col_bool(res, 2, 0), 0);
  PQclear(res);
}

static void text_copies_and_cuts_on_a_character(void **state) {
  (void)state;
  const char *v[] = {"abc", SQL_NULL, "h\xc3\xa9llo" /* héllo */, ""};
  PGresult *res = result_of(v, 4);
  char buf[8];
  db_col_text(res, 0, 0, buf, sizeof(buf));
  assert_string_equal(buf, "abc");
  db_col_text(res, 0, 0, buf, 4); /* exactly fits */
  assert_string_equal(buf, "abc");
  db_col_text(res, 0, 0, buf, 3);
  assert_string_equal(buf, "ab");
  memset(buf, 'x', sizeof(buf));
  db_col_text(res, 1, 0, buf, sizeof(buf));
  assert_string_equal(buf, "");
  db_col_text(res, 2, 0, buf, 3); /* room for "h" and half of the é: only "h" */
  assert_string_equal(buf, "h");
  db_col_text(res, 2, 0, buf, 4);
  assert_string_equal(buf, "h\xc3\xa9");
  db_col_text(res, 0, 0, buf, 1);
  assert_string_equal(buf, "");
  PQclear(res);
}

static void dup_tells_null_from_empty(void **state) {
  (void)state;
  const char *v[] = {"abc", SQL_NULL, ""};
  PGresult *res = result_of(v, 3);
  char *s = db_col_dup(res, 0, 0);
  assert_string_equal(s, "abc");
  free(s);
  assert_null(db_col_dup(res, 1, 0));
  s = db_col_dup(res, 2, 0);
  assert_non_null(s);
  assert_string_equal(s, "");
  free(s);
  PQclear(res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(int_reads_its_range_and_nothing_else),
      cmocka_unit_test(int64_reads_bigint_and_nothing_else),
      cmocka_unit_test(double_reads_numbers),
      cmocka_unit_test(bool_is_true_only_for_t),
      cmocka_unit_test(text_copies_and_cuts_on_a_character),
      cmocka_unit_test(dup_tells_null_from_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
