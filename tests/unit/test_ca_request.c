/* Building TLM requests: URLs, the exact issue body, token and host checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "ca_request.h"

static void expect_url(const char *base, const char *path, const char *segment, const char *want) {
  char *url = ca_request_url(base, path, segment);
  assert_non_null(url);
  assert_string_equal(url, want);
  free(url);
}

static void test_url(void **state) {
  (void)state;
  expect_url("https://tlm.example.com", "/mpki/api/v1/certificate", NULL,
             "https://tlm.example.com/mpki/api/v1/certificate");
  expect_url("https://tlm.example.com//", "/mpki/api/v1/certificate", NULL,
             "https://tlm.example.com/mpki/api/v1/certificate");
  expect_url("https://h/prefix/", "/mpki/api/v2/profile/", "mock-profile-1",
             "https://h/prefix/mpki/api/v2/profile/mock-profile-1");
  expect_url("https://h", "/mpki/api/v2/profile/", "a b/../c?d#e~_.",
             "https://h/mpki/api/v2/profile/a%20b%2F..%2Fc%3Fd%23e~_.");
}

static void test_issue_body_with_upn(void **state) {
  char *body;
  (void)state;
  body = ca_request_issue_body("p1", "seat-9", "-----BEGIN CERTIFICATE REQUEST-----\nX\n", "dev-9",
                               "alice@corp.example");
  assert_non_null(body);
  assert_string_equal(
      body, "{\"profile\":{\"id\":\"p1\"},\"seat\":{\"seat_id\":\"seat-9\"},"
            "\"delivery_format\":\"x509\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nX\\n\","
            "\"attributes\":{\"subject\":{\"common_name\":\"dev-9\"},"
            "\"extensions\":{\"san\":{\"user_principal_names\":[\"alice@corp.example\"]}}}}");
  free(body);
}

static void test_issue_body_without_upn(void **state) {
  static const char want[] =
      "{\"profile\":{\"id\":\"p1\"},\"seat\":{\"seat_id\":\"s\"},\"delivery_format\":\"x509\","
      "\"csr\":\"CSR\",\"attributes\":{\"subject\":{\"common_name\":\"cn \\\"q\\\"\"}}}";
  char *body;
  (void)state;
  body = ca_request_issue_body("p1", "s", "CSR", "cn \"q\"", NULL);
  assert_string_equal(body, want);
  free(body);
  body = ca_request_issue_body("p1", "s", "CSR", "cn \"q\"", "");
  assert_string_equal(body, want);
  free(body);
}

static void test_issue_body_refuses_invalid_utf8(void **state) {
  (void)state;
  assert_null(ca_request_issue_body("p1", "s", "CSR", "bad \xff", NULL));
}

static void test_prefix(void **state) {
  char *p;
  (void)state;
  p = ca_request_prefix("get certificate from", "Corp CA");
  assert_string_equal(p, "Couldn't get certificate from Corp CA: ");
  free(p);
  p = ca_request_prefix("validate", NULL);
  assert_string_equal(p, "Couldn't validate the CA: ");
  free(p);
}

static void test_token(void **state) {
  (void)state;
  assert_true(ca_request_token_ok("mock-api-key"));
  assert_true(ca_request_token_ok("AbC123_-.~+/="));
  assert_false(ca_request_token_ok(NULL));
  assert_false(ca_request_token_ok(""));
  assert_false(ca_request_token_ok("key\r\nX-Evil: 1"));
  assert_false(ca_request_token_ok("two words"));
  assert_false(ca_request_token_ok("caf\xc3\xa9"));
}

static void test_loopback(void **state) {
  (void)state;
  assert_true(ca_request_host_is_loopback("localhost"));
  assert_true(ca_request_host_is_loopback("LOCALHOST."));
  assert_true(ca_request_host_is_loopback("127.0.0.1"));
  assert_true(ca_request_host_is_loopback("127.255.0.9"));
  assert_true(ca_request_host_is_loopback("[::1]"));
  assert_true(ca_request_host_is_loopback("[::ffff:127.0.0.1]"));
  assert_false(ca_request_host_is_loopback("128.0.0.1"));
  assert_false(ca_request_host_is_loopback("10.0.0.1"));
  assert_false(ca_request_host_is_loopback("::1")); /* curl reports brackets */
  assert_false(ca_request_host_is_loopback("[::2]"));
  assert_false(ca_request_host_is_loopback("[::ffff:10.0.0.1]"));
  assert_false(ca_request_host_is_loopback("localhost.evil.com"));
  assert_false(ca_request_host_is_loopback("127.0.0.1.nip.io"));
  assert_false(ca_request_host_is_loopback(""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_issue_body_with_upn),
      cmocka_unit_test(test_issue_body_without_upn),
      cmocka_unit_test(test_issue_body_refuses_invalid_utf8),
      cmocka_unit_test(test_prefix),
      cmocka_unit_test(test_token),
      cmocka_unit_test(test_loopback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
