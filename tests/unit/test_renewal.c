/* test_renewal.c: renewal windows, spread, and retry backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "renewal.h"

#define DAY 86400L

static void default_window_is_30_days_for_long_certificates(void **state) {
  (void)state;
  time_t nb = 1700000000, na = nb + 365 * DAY;
  for (int i = 0; i < 200; i++) {
    char id[40];
    snprintf(id, sizeof(id), "device-%d", i);
    time_t r = renewal_time(nb, na, 0, id);
    assert_true(r >= na - 30 * DAY);                  /* never before the window */
    assert_true(r < na - 30 * DAY + 3 * DAY);         /* inside its first tenth */
    assert_int_equal(r, renewal_time(nb, na, 0, id)); /* stable */
  }
}

static void short_certificates_renew_at_half_life(void **state) {
  (void)state;
  time_t nb = 1700000000, na = nb + 120;
  time_t r = renewal_time(nb, na, 0, "d");
  assert_true(r >= nb + 60 && r < nb + 66);
  time_t exact30 = renewal_time(nb, nb + 30 * DAY, 0, "d");
  assert_true(exact30 >= nb + 15 * DAY && exact30 < nb + 18 * DAY);
}

static void profile_window_wins_and_is_capped(void **state) {
  (void)state;
  time_t nb = 1700000000, na = nb + 365 * DAY;
  time_t r = renewal_time(nb, na, 60, "d");
  assert_true(r >= na - 60 * DAY && r < na - 54 * DAY);
  time_t capped = renewal_time(nb, nb + 10 * DAY, 60, "d");
  assert_true(capped >= nb && capped < nb + DAY);
}

static void devices_are_spread(void **state) {
  (void)state;
  time_t nb = 1700000000, na = nb + 365 * DAY;
  int distinct = 0;
  time_t prev = 0;
  for (int i = 0; i < 50; i++) {
    char id[40];
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
    time_t r = renewal_time(nb, na, 0, id);
    distinct += (r != prev);
    prev = r;
  }
  assert_true(distinct > 40);
}

static void degenerate_validity(void **state) {
  (void)state;
  assert_int_equal(renewal_time(100, 100, 0, "d"), 100);
  assert_int_equal(renewal_time(200, 100, 0, "d"), 100);
}

static void backoff_doubles_with_jitter_and_cap(void **state) {
  (void)state;
  assert_int_equal(retry_delay_seconds(1, 60, 3600, -1, 0.0), 30);
  assert_int_equal(retry_delay_seconds(1, 60, 3600, -1, 0.999999), 59);
  assert_int_equal(retry_delay_seconds(2, 60, 3600, -1, 0.0), 60);
  assert_int_equal(retry_delay_seconds(3, 60, 3600, -1, 0.0), 120);
  assert_int_equal(retry_delay_seconds(20, 60, 3600, -1, 0.0), 1800);
  assert_true(retry_delay_seconds(20, 60, 3600, -1, 0.99) <= 3600);
  assert_int_equal(retry_delay_seconds(1000, 60, 3600, -1, 0.0), 1800); /* no overflow */
}

static void retry_after_is_honoured(void **state) {
  (void)state;
  assert_int_equal(retry_delay_seconds(1, 60, 3600, 600, 0.5), 600);
  assert_int_equal(retry_delay_seconds(1, 60, 3600, 5, 0.5), 45);
  assert_int_equal(retry_delay_seconds(1, 0, 0, 2, 0.5), 2);
  assert_int_equal(retry_delay_seconds(1, 0, 0, -1, 0.5), 0);
}

static void renewal_time_of_stored_dates(void **state) {
  (void)state;
  char at[24];
  /* 2023-11-14T22:13:20Z, valid 365 days, a 60-day window */
  assert_int_equal(renewal_time_text("2023-11-14T22:13:20Z", "2024-11-13T22:13:20Z", 60, "d", at),
                   0);
  time_t r = renewal_time(1700000000, 1700000000 + 365 * DAY, 60, "d");
  assert_int_equal(strlen(at), 20);
  assert_true(strcmp(at, "2024-09-14T22:13:20Z") >= 0 && strcmp(at, "2024-09-20T22:13:20Z") < 0);
  struct tm tm = {0};
  assert_non_null(strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm));
  assert_int_equal(timegm(&tm), r);
  assert_int_equal(renewal_time_text("2023-11-14 22:13:20", "2024-11-13T22:13:20Z", 0, "d", at),
                   -1);
  assert_int_equal(renewal_time_text("2023-11-14T22:13:20Z", "", 0, "d", at), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_window_is_30_days_for_long_certificates),
      cmocka_unit_test(short_certificates_renew_at_half_life),
      cmocka_unit_test(profile_window_wins_and_is_capped),
      cmocka_unit_test(devices_are_spread),
      cmocka_unit_test(degenerate_validity),
      cmocka_unit_test(backoff_doubles_with_jitter_and_cap),
      cmocka_unit_test(retry_after_is_honoured),
      cmocka_unit_test(renewal_time_of_stored_dates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
