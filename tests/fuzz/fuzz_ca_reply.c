/*
 * fuzz_ca_reply: every parser of ca_reply.h on one CA reply body:
 * ca_reply_error_text(), ca_reply_profile_status(), ca_reply_check_issued()
 * and ca_reply_clean().
 *
 * ca_reply_check_issued() runs twice: with a public key hash no
 * certificate has, and with the hash of the key of the first certificate
 * in the body's "certificate" (found here with jansson and
 * crypto_cert_parse), so mutated success replies get past the key check
 * to the serial and chain checks.
 *
 * Checked besides memory safety: every text handed back is what the
 * header promises (single-line, valid UTF-8, excerpts bounded); success
 * and failure are exclusive (exactly one of result and *err); an issued
 * certificate has an upper-case hex serial that matches "serial_number"
 * and its PEM ends in a newline.
 */
#include "fuzz_util.h"

#include <jansson.h>
#include <strings.h>

#include "ca_reply.h"
#include "crypto.h"

#define NO_SUCH_KEY "0000000000000000000000000000000000000000000000000000000000000000"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  json_object_seed(1); /* the same hash order in every run, so crashes reproduce */
  return 0;
}

static void check_text(const char *text) {
  FUZZ_CHECK(text != NULL);
  FUZZ_CHECK(fuzz_clean_text(text));
}

static void check_clean(const char *body, size_t len, size_t max) {
  char *out = ca_reply_clean(body, len, max);
  size_t n;
  FUZZ_CHECK(out != NULL);
  n = strlen(out);
  check_text(out);
  FUZZ_CHECK(n <= max + 3);
  if (len <= max) {
    /* Not cut: one output byte per input byte. */
    FUZZ_CHECK(n == len);
  } else {
    FUZZ_CHECK(n >= 3 && memcmp(out + n - 3, "...", 3) == 0);
  }
  free(out);
}

/* The "serial_number" of the body, with case and leading "00" bytes
 * ignored, as the header says it is compared. */
static int serial_matches(const char *body, size_t len, const char *serial) {
  json_t *root = json_loadb(body, len, 0, NULL);
  const char *want = json_string_value(json_object_get(root, "serial_number"));
  int same = 0;
  if (want != NULL) {
    while (strncmp(want, "00", 2) == 0 && want[2] != '\0')
      want += 2;
    same = strcasecmp(want, serial) == 0;
  }
  json_decref(root);
  return same;
}

static void check_issued(const char *body, size_t len, const char *pubkey_sha256) {
  ca_issued issued;
  char *err = NULL;
  memset(&issued, 0x5A, sizeof issued); /* garbage: the parser must clear it */
  if (ca_reply_check_issued(body, len, pubkey_sha256, &issued, &err) == 0) {
    size_t n;
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(strcmp(pubkey_sha256, NO_SUCH_KEY) != 0);
    FUZZ_CHECK(issued.serial != NULL && issued.certificate_pem != NULL);
    n = strlen(issued.serial);
    FUZZ_CHECK(n > 0 && n % 2 == 0 && fuzz_is_hex(issued.serial, n, 'A'));
    FUZZ_CHECK(serial_matches(body, len, issued.serial));
    n = strlen(issued.certificate_pem);
    FUZZ_CHECK(n > 0 && issued.certificate_pem[n - 1] == '\n');
    FUZZ_CHECK(strncmp(issued.certificate_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    FUZZ_CHECK(issued.chain_pem == NULL ||
               strncmp(issued.chain_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
  } else {
    FUZZ_CHECK(err != NULL);
    check_text(err);
    FUZZ_CHECK(issued.serial == NULL && issued.certificate_pem == NULL && issued.chain_pem == NULL);
  }
  ca_issued_release(&issued);
  FUZZ_CHECK(issued.serial == NULL && issued.certificate_pem == NULL && issued.chain_pem == NULL);
  free(err);
}

/* The key hash of the first certificate of the body's "certificate", or
 * 0 when there is none to find. */
static int first_cert_key(const char *body, size_t len, char out[65]) {
  json_t *root = json_loadb(body, len, 0, NULL);
  const char *pem = json_string_value(json_object_get(root, "certificate"));
  crypto_cert_info info;
  int found = 0;
  if (pem != NULL && crypto_cert_parse(pem, &info, NULL) == 0) {
    memcpy(out, info.pubkey_sha256, 65);
    found = 1;
  }
  json_decref(root);
  return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, so reading past the body is caught. */
  char *body = malloc(size ? size : 1);
  char *text, *status = NULL, *err = NULL;
  char key[65];
  FUZZ_CHECK(body != NULL);
  memcpy(body, data, size);

  text = ca_reply_error_text(body, size);
  check_text(text);
  free(text);

  if (ca_reply_profile_status(body, size, &status, &err) == 0) {
    FUZZ_CHECK(err == NULL);
    check_text(status);
    FUZZ_CHECK(strlen(status) <= 64 + 3);
  } else {
    FUZZ_CHECK(status == NULL);
    check_text(err);
  }
  free(status);
  free(err);

  check_issued(body, size, NO_SUCH_KEY);
  if (first_cert_key(body, size, key))
    check_issued(body, size, key);

  check_clean(body, size, 0);
  check_clean(body, size, 3);
  check_clean(body, size, CA_REPLY_EXCERPT_BYTES);
  check_clean(body, size, size > 0 ? size - 1 : 0);
  free(body);
  return 0;
}
