/* CA base URL checks made when a CA is saved (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ca_client.h"

static void expect_ok(const char *url) {
  char *err = NULL;
  if (ca_url_check(url, &err) != 0)
    fail_msg("\"%s\" refused: %s", url, err ? err : "(no reason)");
  assert_null(err);
}

static void expect_refused(const char *url, const char *want) {
  char *err = NULL;
  assert_int_equal(ca_url_check(url, &err), -1);
  assert_non_null(err);
  if (strstr(err, want) == NULL)
    fail_msg("\"%s\": \"%s\" does not contain \"%s\"", url ? url : "(null)", err, want);
  free(err);
}

static void test_https_anywhere(void **state) {
  (void)state;
  expect_ok("https://tlm.example.com");
  expect_ok("https://tlm.example.com/");
  expect_ok("https://tlm.example.com:8443/prefix");
  expect_ok("https://10.1.2.3");
  expect_ok("HTTPS://TLM.EXAMPLE.COM");
}

static void test_plain_http_loopback_only(void **state) {
  (void)state;
  expect_ok("http://127.0.0.1:8444");
  expect_ok("http://127.3.4.5");
  expect_ok("http://localhost:8444");
  expect_ok("http://LocalHost");
  expect_ok("http://[::1]:8444");
  expect_refused("http://tlm.example.com", "plain http to a non-loopback host; use https");
  expect_refused("http://10.0.0.1:8444", "use https");
  expect_refused("http://[2001:db8::1]", "use https");
  expect_refused("http://localhost.example.com", "use https");
  expect_refused("http://128.0.0.1", "use https");
}

static void test_malformed(void **state) {
  (void)state;
  expect_refused(NULL, "CA URL is empty");
  expect_refused("", "CA URL is empty");
  expect_refused("tlm.example.com", "is not an absolute URL");
  expect_refused("ftp://tlm.example.com", "must start with https://");
  expect_refused("https://tlm.example.com/?x=1", "must not have a query or fragment");
  expect_refused("https://tlm.example.com/#frag", "must not have a query or fragment");
  expect_refused("https://has space.example.com", "is not an absolute URL");
}

static void test_credentials_not_echoed(void **state) {
  char *err = NULL;
  (void)state;
  assert_int_equal(ca_url_check("https://admin:hunter2@tlm.example.com", &err), -1);
  assert_non_null(err);
  assert_null(strstr(err, "hunter2"));
  assert_non_null(strstr(err, "must not contain a user name or password"));
  free(err);
  assert_int_equal(ca_url_check("https://admin:hunter2@tlm.example.com", NULL), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_https_anywhere),
      cmocka_unit_test(test_plain_http_loopback_only),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_credentials_not_echoed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
