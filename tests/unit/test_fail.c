/*
 * test_fail.c: lib/fail.c, the `char **err` messages: each replaces (and
 * frees) the last, returns -1, and does nothing when err is NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fail.h"

static int fails_with(char **err, const char *what) {
  return fail_set(err, "cannot open %s: %d", what, 2);
}

/* A reporter of its own, as server/ca_client.c's fail() is. */
__attribute__((format(printf, 2, 3))) static int record(char **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = fail_vset(err, fmt, ap);
  va_end(ap);
  return rc;
}

static void set_replaces_the_last_message(void **state) {
  (void)state;
  char *err = NULL;
  assert_int_equal(fails_with(&err, "a.pem"), -1);
  assert_string_equal(err, "cannot open a.pem: 2");
  /* the first message is freed, not leaked (the sanitizer build checks) */
  assert_int_equal(fails_with(&err, "b.pem"), -1);
  assert_string_equal(err, "cannot open b.pem: 2");
  assert_int_equal(record(&err, "CA URL \"%s\" is empty", "x"), -1);
  assert_string_equal(err, "CA URL \"x\" is empty");
  free(err);
}

static void null_err_is_fine(void **state) {
  (void)state;
  assert_int_equal(fails_with(NULL, "a.pem"), -1);
  assert_int_equal(record(NULL, "%s", "x"), -1);
}

static void format_gives_a_fresh_string(void **state) {
  (void)state;
  char *s = fail_format("%s/%s", "dir", "name");
  assert_string_equal(s, "dir/name");
  free(s);
  s = fail_format("%s", "");
  assert_string_equal(s, "");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(set_replaces_the_last_message),
      cmocka_unit_test(null_err_is_fine),
      cmocka_unit_test(format_gives_a_fresh_string),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
