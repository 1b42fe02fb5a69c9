/* Reading CA replies: error texts, profile status, issued certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_reply.h"
#include "crypto.h"

/* ---- cleaning and error texts ---------------------------------------------- */

static void expect_clean(const char *in, size_t max, const char *want) {
  char *out = ca_reply_clean(in, strlen(in), max);
  assert_non_null(out);
  assert_string_equal(out, want);
  free(out);
}

static void test_clean(void **state) {
  (void)state;
  expect_clean("plain", 100, "plain");
  expect_clean("a\nb\tc\r", 100, "a b c ");
  expect_clean("caf\xc3\xa9", 100, "caf\xc3\xa9");
  expect_clean("bad \xff\xfe byte", 100, "bad ?? byte");
  expect_clean("\xc3(", 100, "?(");         /* cut sequence */
  expect_clean("\xed\xa0\x80", 100, "???"); /* surrogate */
  expect_clean("\xc0\xaf", 100, "??");      /* overlong */
  expect_clean("abcdef", 3, "abc...");
  expect_clean("ab\xc3\xa9", 3, "ab..."); /* never splits a character */
}

static void expect_error_text(const char *body, const char *want) {
  char *text = ca_reply_error_text(body, body ? strlen(body) : 0);
  assert_non_null(text);
  assert_string_equal(text, want);
  free(text);
}

static void test_error_text(void **state) {
  (void)state;
  expect_error_text("{\"errors\":[{\"code\":\"invalid_api_key\",\"message\":\"Invalid API key\"}]}",
                    "Invalid API key");
  expect_error_text("{\"errors\":[{\"code\":\"a\",\"message\":\"first\"},"
                    "{\"code\":\"b\",\"message\":\"second\"}]}",
                    "first; second");
  expect_error_text("{\"errors\":[{\"code\":\"only_code\"},{\"message\":\"\",\"code\":\"c2\"}]}",
                    "only_code; c2");
  expect_error_text("{\"errors\":[{\"code\":\"x\",\"message\":\"line1\\nline2\"}]}", "line1 line2");
  expect_error_text("{\"message\":\"top level\"}", "top level");
  expect_error_text("<html>502 Bad Gateway</html>",
                    "non-JSON body \"<html>502 Bad Gateway</html>\"");
  expect_error_text("{\"other\":1}", "body \"{\"other\":1}\"");
  expect_error_text("", "empty body");
  expect_error_text(NULL, "empty body");
}

static void test_error_text_excerpt_is_short(void **state) {
  char body[4000];
  char *text;
  (void)state;
  memset(body, 'x', sizeof body - 1);
  body[sizeof body - 1] = '\0';
  text = ca_reply_error_text(body, strlen(body));
  assert_non_null(text);
  assert_true(strlen(text) < CA_REPLY_EXCERPT_BYTES + 40);
  free(text);
}

static void test_profile_status(void **state) {
  char *status = NULL, *err = NULL;
  static const char active[] = "{\"id\":\"p\",\"status\":\"Active\"}";
  static const char none[] = "{\"id\":\"p\"}";
  static const char html[] = "<html>";
  (void)state;
  assert_int_equal(ca_reply_profile_status(active, strlen(active), &status, &err), 0);
  assert_string_equal(status, "Active");
  assert_null(err);
  free(status);
  assert_int_equal(ca_reply_profile_status(none, strlen(none), &status, &err), -1);
  assert_null(status);
  assert_string_equal(err, "CA profile reply has no \"status\"");
  free(err);
  assert_int_equal(ca_reply_profile_status(html, strlen(html), &status, &err), -1);
  assert_string_equal(err, "CA profile reply is not a JSON object: \"<html>\"");
  free(err);
}

/* ---- issued certificates ------------------------------------------------------- */

/* A CA, a CSR and certificates issued for it, shared by the tests below. */
typedef struct fixture {
  char dir[64];
  crypto_ca *ca;
  char *csr;
  char csr_pubkey[65];
  char *cert;       /* issued for csr */
  char serial[130]; /* its serial */
  char *other_cert; /* issued for another key */
} fixture;

static fixture fx;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int issued_setup(void **state) {
  crypto_key *key = crypto_key_generate_ec_p256();
  crypto_key *other = crypto_key_generate_ec_p256();
  char *other_csr = NULL;
  crypto_csr_info csr_info;
  crypto_cert_info cert_info;
  int rc = -1;
  (void)state;

  snprintf(fx.dir, sizeof fx.dir, "/tmp/certdeploy-careply.XXXXXX");
  if (key == NULL || other == NULL || mkdtemp(fx.dir) == NULL)
    goto out;
  fx.ca = crypto_ca_load_or_create(fx.dir, NULL);
  fx.csr = crypto_csr_create(key, "x", NULL);
  other_csr = crypto_csr_create(other, "y", NULL);
  if (fx.ca == NULL || fx.csr == NULL || other_csr == NULL ||
      crypto_csr_check(fx.csr, &csr_info, NULL) < 0)
    goto out;
  memcpy(fx.csr_pubkey, csr_info.pubkey_sha256, sizeof fx.csr_pubkey);
  fx.cert = crypto_ca_issue(fx.ca, fx.csr, "dev-1", NULL, 3600, NULL, NULL);
  fx.other_cert = crypto_ca_issue(fx.ca, other_csr, "dev-2", NULL, 3600, NULL, NULL);
  if (fx.cert == NULL || fx.other_cert == NULL || crypto_cert_parse(fx.cert, &cert_info, NULL) < 0)
    goto out;
  memcpy(fx.serial, cert_info.serial, sizeof fx.serial);
  rc = 0;
out:
  free(other_csr);
  crypto_key_free(&key);
  crypto_key_free(&other);
  return rc;
}

static int issued_teardown(void **state) {
  (void)state;
  crypto_ca_free(&fx.ca);
  free(fx.csr);
  free(fx.cert);
  free(fx.other_cert);
  nftw(fx.dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* Runs the check on a reply built from the three fields (NULL = absent). */
static int check(const char *format, const char *serial, const char *certificate, ca_issued *issued,
                 char **err) {
  json_t *o = json_object();
  char *body;
  int rc;
  if (format)
    json_object_set_new(o, "delivery_format", json_string(format));
  if (serial)
    json_object_set_new(o, "serial_number", json_string(serial));
  if (certificate)
    json_object_set_new(o, "certificate", json_string(certificate));
  body = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  assert_non_null(body);
  rc = ca_reply_check_issued(body, strlen(body), fx.csr_pubkey, issued, err);
  free(body);
  return rc;
}

static void expect_refused(const char *format, const char *serial, const char *certificate,
                           const char *want) {
  ca_issued issued;
  char *err = NULL;
  assert_int_equal(check(format, serial, certificate, &issued, &err), -1);
  assert_null(issued.serial);
  assert_null(issued.certificate_pem);
  assert_non_null(err);
  if (strstr(err, want) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", err, want);
  free(err);
}

static void test_issued_ok(void **state) {
  ca_issued issued;
  char *err = NULL;
  (void)state;
  assert_int_equal(check("x509", fx.serial, fx.cert, &issued, &err), 0);
  assert_null(err);
  assert_string_equal(issued.serial, fx.serial);
  assert_string_equal(issued.certificate_pem, fx.cert);
  assert_null(issued.chain_pem);
  ca_issued_release(&issued);
  assert_null(issued.serial);
}

static void test_issued_with_chain(void **state) {
  ca_issued issued;
  char *err = NULL;
  char *both = NULL;
  const char *ca_pem = crypto_ca_cert_pem(fx.ca);
  (void)state;
  assert_true(asprintf(&both, "%s%s", fx.cert, ca_pem) > 0);
  assert_int_equal(check("x509", fx.serial, both, &issued, &err), 0);
  assert_string_equal(issued.certificate_pem, fx.cert);
  assert_non_null(issued.chain_pem);
  assert_string_equal(issued.chain_pem, ca_pem);
  ca_issued_release(&issued);
  free(both);
}

static void test_issued_serial_case_and_sign_byte(void **state) {
  ca_issued issued;
  char *err = NULL;
  char lower[140];
  (void)state;
  snprintf(lower, sizeof lower, "00%s", fx.serial);
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'F')
      *p = (char)(*p - 'A' + 'a');
  assert_int_equal(check("x509", lower, fx.cert, &issued, &err), 0);
  assert_string_equal(issued.serial, fx.serial);
  ca_issued_release(&issued);
}

static void test_issued_refusals(void **state) {
  char *damaged_chain = NULL;
  (void)state;
  expect_refused("pkcs7", fx.serial, fx.cert,
                 "CA reply had delivery_format \"pkcs7\", expected \"x509\"");
  expect_refused(NULL, fx.serial, fx.cert, "CA reply has no string \"delivery_format\"");
  expect_refused("x509", NULL, fx.cert, "CA reply has no serial_number");
  expect_refused("x509", "", fx.cert, "CA reply has no serial_number");
  expect_refused("x509", "ABC", fx.cert,
                 "CA reply had serial_number \"ABC\", expected even-length hex");
  expect_refused("x509", "ZZ", fx.cert, "expected even-length hex");
  expect_refused("x509", "0102", fx.cert, "does not match the certificate's serial");
  expect_refused("x509", fx.serial, NULL, "CA reply has no certificate");
  expect_refused("x509", fx.serial, "MIIB...", "is not a PEM certificate");
  expect_refused("x509", fx.serial,
                 "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                 "CA reply certificate is not a PEM certificate: ");
  expect_refused("x509", fx.serial, fx.other_cert,
                 "CA reply certificate's public key does not match the CSR's");
  assert_true(asprintf(&damaged_chain,
                       "%s-----BEGIN CERTIFICATE-----\nAAAA\n"
                       "-----END CERTIFICATE-----\n",
                       fx.cert) > 0);
  expect_refused("x509", fx.serial, damaged_chain, "certificate 2 (chain) does not parse");
  free(damaged_chain);
}

static void test_issued_not_json(void **state) {
  ca_issued issued;
  char *err = NULL;
  (void)state;
  assert_int_equal(
      ca_reply_check_issued("{\"serial_number\":\"0A\",", 22, fx.csr_pubkey, &issued, &err), -1);
  assert_string_equal(err, "CA reply is not JSON: \"{\"serial_number\":\"0A\",\"");
  free(err);
  assert_int_equal(ca_reply_check_issued("[1]", 3, fx.csr_pubkey, &issued, &err), -1);
  assert_string_equal(err, "CA reply is not a JSON object: \"[1]\"");
  free(err);
  assert_int_equal(ca_reply_check_issued("", 0, fx.csr_pubkey, &issued, &err), -1);
  assert_string_equal(err, "CA reply body is empty");
  free(err);
}

int main(void) {
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_clean),
      cmocka_unit_test(test_error_text),
      cmocka_unit_test(test_error_text_excerpt_is_short),
      cmocka_unit_test(test_profile_status),
  };
  const struct CMUnitTest issued[] = {
      cmocka_unit_test(test_issued_ok),
      cmocka_unit_test(test_issued_with_chain),
      cmocka_unit_test(test_issued_serial_case_and_sign_byte),
      cmocka_unit_test(test_issued_refusals),
      cmocka_unit_test(test_issued_not_json),
  };
  int failed = cmocka_run_group_tests_name("ca_reply", pure, NULL, NULL);
  failed += cmocka_run_group_tests_name("ca_reply_issued", issued, issued_setup, issued_teardown);
  return failed;
}
