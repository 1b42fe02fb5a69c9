/* List parameters: RFC 3339 times to UTC, Accept negotiation of CSV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "query_params.h"

static void utc_is(const char *text, const char *want) {
  char out[QUERY_TIME_LEN];
  if (rfc3339_to_utc(text, out) != 0)
    fail_msg("\"%s\" was refused", text);
  if (strcmp(out, want) != 0)
    fail_msg("\"%s\" became \"%s\", want \"%s\"", text, out, want);
}

static void test_rfc3339_to_utc(void **state) {
  (void)state;
  utc_is("2027-01-31T12:00:00Z", "2027-01-31T12:00:00.000000Z");
  utc_is("2027-01-31t12:00:00z", "2027-01-31T12:00:00.000000Z");
  utc_is("2027-01-31T12:00:00.5Z", "2027-01-31T12:00:00.500000Z");
  utc_is("2027-01-31T12:00:00.123456789Z", "2027-01-31T12:00:00.123456Z");
  utc_is("2027-01-31T13:30:00+01:30", "2027-01-31T12:00:00.000000Z");
  utc_is("2027-01-01T01:00:00+02:00", "2026-12-31T23:00:00.000000Z"); /* a year back */
  utc_is("2026-12-31T23:00:00-01:00", "2027-01-01T00:00:00.000000Z");
  utc_is("2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000000Z"); /* leap day */
  utc_is("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000000Z"); /* leap second */
  utc_is("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z");
  utc_is("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000000Z");
}

static void test_rfc3339_refused(void **state) {
  static const char *const bad[] = {
      "",
      "tomorrow",
      "2027-01-31",            /* a date alone */
      "2027-01-31T12:00:00",   /* no offset */
      "2027-01-31 12:00:00Z",  /* space for T */
      "2027-1-31T12:00:00Z",   /* one-digit month */
      "2027-13-01T00:00:00Z",  /* month */
      "2027-02-29T00:00:00Z",  /* not a leap year */
      "2027-04-31T00:00:00Z",  /* no such day */
      "2027-01-31T24:00:00Z",  /* hour */
      "2027-01-31T12:60:00Z",  /* minute */
      "2027-01-31T12:00:61Z",  /* second */
      "2027-01-31T12:00:00.Z", /* an empty fraction */
      "2027-01-31T12:00:00.1234567890Z",
      "2027-01-31T12:00:00+24:00", /* offset hours */
      "2027-01-31T12:00:00+01",    /* offset without minutes */
      "2027-01-31T12:00:00+0100",
      "2027-01-31T12:00:00Zjunk",
      "0000-01-01T00:00:00Z",      /* year 0 */
      "0001-01-01T00:00:00+01:00", /* before year 1 in UTC */
      "9999-12-31T23:00:00-01:00", /* after 9999 in UTC */
      "+2027-01-31T12:00:00Z",
      "2027-01-31T12:00:00\xff",
  };
  (void)state;
  char out[QUERY_TIME_LEN];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (rfc3339_to_utc(bad[i], out) == 0)
      fail_msg("\"%s\" was taken as %s", bad[i], out);
}

static void test_accept_prefers_csv(void **state) {
  (void)state;
  assert_true(accept_prefers("text/csv", "text/csv"));
  assert_true(accept_prefers("TEXT/CSV", "text/csv"));
  assert_true(accept_prefers("text/csv; charset=utf-8", "text/csv"));
  assert_true(accept_prefers("text/csv, application/json", "text/csv"));
  assert_true(accept_prefers("application/json;q=0.9, text/csv", "text/csv"));
  assert_true(accept_prefers(" application/json ; q=0.5 , text/csv ; q=0.5", "text/csv"));
  assert_true(accept_prefers("text/csv;q=0.2, */*;q=0.1", "text/csv"));
  assert_true(accept_prefers("text/csv, text/*;q=0", "text/csv"));
}

static void test_accept_prefers_json(void **state) {
  (void)state;
  assert_false(accept_prefers(NULL, "text/csv"));
  assert_false(accept_prefers("", "text/csv"));
  assert_false(accept_prefers("application/json", "text/csv"));
  assert_false(accept_prefers("*/*", "text/csv"));
  assert_false(accept_prefers("text/*", "text/csv")); /* named, not by a wildcard */
  assert_false(accept_prefers("text/csv;q=0", "text/csv"));
  assert_false(accept_prefers("text/csv;q=0.000", "text/csv"));
  assert_false(accept_prefers("text/csv;q=0.5, application/json", "text/csv"));
  assert_false(accept_prefers("text/csv;q=0.5, */*", "text/csv"));
  assert_false(accept_prefers("text/csv;q=0.5, application/*;q=0.6", "text/csv"));
  assert_false(accept_prefers("text/csvx", "text/csv"));
  assert_false(accept_prefers("text/cs", "text/csv"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3339_to_utc),
      cmocka_unit_test(test_rfc3339_refused),
      cmocka_unit_test(test_accept_prefers_csv),
      cmocka_unit_test(test_accept_prefers_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
