/* test_timefmt.c: RFC 3339 UTC timestamps, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "timefmt.h"

static void times_round_trip(void **state) {
  (void)state;
  char buf[24];
  time_format(1700000000, buf);
  assert_string_equal(buf, "2023-11-14T22:13:20Z");
  time_t t;
  assert_int_equal(time_parse(buf, &t), 0);
  assert_int_equal(t, 1700000000);
  assert_int_equal(time_parse("2023-11-14 22:13:20", &t), -1);
  assert_int_equal(time_parse("2023-11-14T22:13:20Zjunk", &t), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(times_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
