/* Retry-After parsing: delta-seconds, the three HTTP date forms, caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ca_retry_after.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date. */
#define RFC_EXAMPLE ((time_t)784111777)

static void test_delta_seconds(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("0", RFC_EXAMPLE), 0);
  assert_int_equal(ca_retry_after_parse("1", RFC_EXAMPLE), 1);
  assert_int_equal(ca_retry_after_parse("120", RFC_EXAMPLE), 120);
  assert_int_equal(ca_retry_after_parse("  30\t", RFC_EXAMPLE), 30);
  assert_int_equal(ca_retry_after_parse("007", RFC_EXAMPLE), 7);
}

static void test_delta_seconds_capped(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("86400", 0), CA_RETRY_AFTER_MAX_SECONDS);
  assert_int_equal(ca_retry_after_parse("86401", 0), CA_RETRY_AFTER_MAX_SECONDS);
  assert_int_equal(ca_retry_after_parse("99999999999999999999999999999", 0),
                   CA_RETRY_AFTER_MAX_SECONDS);
}

static void test_imf_fixdate(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE - 90), 90);
  assert_int_equal(ca_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE), 0);
  /* leap day */
  assert_int_equal(ca_retry_after_parse("Thu, 29 Feb 2024 00:00:10 GMT", (time_t)1709164800), 10);
}

static void test_rfc850_date(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE - 5), 5);
  /* "30" seen in 2024 is 2030 (within 50 years), not 1930 */
  assert_int_equal(ca_retry_after_parse("Tuesday, 01-Jan-30 00:00:00 GMT", (time_t)1893455990), 10);
  /* "94" seen in 2024 is more than 50 years ahead as 2094, so 1994: past */
  assert_int_equal(ca_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", (time_t)1700000000), 0);
}

static void test_asctime_date(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("Sun Nov  6 08:49:37 1994", RFC_EXAMPLE - 60), 60);
  assert_int_equal(ca_retry_after_parse("Sat Nov 26 08:49:37 1994", RFC_EXAMPLE + 20 * 86400 - 100),
                   100);
}

static void test_past_date_is_zero(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", (time_t)1700000000), 0);
  assert_int_equal(ca_retry_after_parse("Thu, 01 Jan 1970 00:00:00 GMT", RFC_EXAMPLE), 0);
}

static void test_far_date_capped(void **state) {
  (void)state;
  assert_int_equal(ca_retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", RFC_EXAMPLE),
                   CA_RETRY_AFTER_MAX_SECONDS);
  assert_int_equal(ca_retry_after_parse("Mon, 07 Nov 1994 08:49:38 GMT", RFC_EXAMPLE),
                   CA_RETRY_AFTER_MAX_SECONDS);
  assert_int_equal(ca_retry_after_parse("Mon, 07 Nov 1994 08:49:36 GMT", RFC_EXAMPLE),
                   CA_RETRY_AFTER_MAX_SECONDS - 1);
}

static void test_garbage(void **state) {
  static const char *const bad[] = {
      "",
      "   ",
      "-1",
      "+5",
      "1.5",
      "12abc",
      "soon",
      "Sun, 06 Nov 1994 08:49:37",          /* no GMT */
      "Sun, 06 Nov 1994 08:49:37 UTC",      /* wrong zone */
      "Sun, 6 Nov 1994 08:49:37 GMT",       /* one-digit day */
      "Sun, 06 nov 1994 08:49:37 GMT",      /* month case */
      "Sun, 06 Foo 1994 08:49:37 GMT",      /* month */
      "Sun, 31 Nov 1994 08:49:37 GMT",      /* no such day */
      "Sun, 29 Feb 2023 08:49:37 GMT",      /* not a leap year */
      "Sun, 06 Nov 1994 24:00:00 GMT",      /* hour */
      "Sun, 06 Nov 1994 08:60:00 GMT",      /* minute */
      "Sun, 06 Nov 1994 08:49:37 GMT junk", /* trailing */
      "Sunday, 06 Nov 1994 08:49:37 GMT",   /* long day, IMF body */
      "Sun, 06-Nov-94 08:49:37 GMT",        /* short day, RFC 850 body */
      "Sun Nov 6 08:49:37 1994",            /* asctime needs two columns */
      "Sun Nov  6 08:49:37",                /* asctime without year */
      "Funday, 06-Nov-94 08:49:37 GMT",
  };
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    long v = ca_retry_after_parse(bad[i], RFC_EXAMPLE);
    if (v != -1)
      fail_msg("\"%s\" parsed as %ld, want -1", bad[i], v);
  }
  assert_int_equal(ca_retry_after_parse(NULL, RFC_EXAMPLE), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delta_seconds),   cmocka_unit_test(test_delta_seconds_capped),
      cmocka_unit_test(test_imf_fixdate),     cmocka_unit_test(test_rfc850_date),
      cmocka_unit_test(test_asctime_date),    cmocka_unit_test(test_past_date_is_zero),
      cmocka_unit_test(test_far_date_capped), cmocka_unit_test(test_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
