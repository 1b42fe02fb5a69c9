/*
 * fuzz_cert: crypto_cert_parse() on PEM text, as it comes from a CA reply,
 * a profile's CA certificate, or a device's inventory.
 *
 * Checked besides memory safety: a parsed certificate yields an even,
 * upper-case hex serial, lower-case SHA-256 digests and terminated names;
 * a refusal comes with an error message. The validity dates survive the
 * trip the server makes them take: time_format() into the database, and
 * time_parse() of that text when a device checks in.
 */
#include "fuzz_util.h"

#include "crypto.h"
#include "timefmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

/* time_format() then time_parse() gives t back. */
static void check_time_trip(time_t t) {
  char text[24];
  time_t back = 0;
  time_format(t, text);
  FUZZ_CHECK(time_parse(text, &back) == 0);
  FUZZ_CHECK(back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *pem = fuzz_cstring(data, size);
  crypto_cert_info info;
  char *err = NULL;

  memset(&info, 0xA5, sizeof info); /* garbage, so a field left unset shows */
  if (crypto_cert_parse(pem, &info, &err) == 0) {
    size_t serial_len = strnlen(info.serial, sizeof info.serial);
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(serial_len > 0 && serial_len < sizeof info.serial && serial_len % 2 == 0);
    FUZZ_CHECK(fuzz_is_hex(info.serial, serial_len, 'A'));
    FUZZ_CHECK(fuzz_is_hex(info.sha256, 64, 'a'));
    FUZZ_CHECK(fuzz_is_hex(info.pubkey_sha256, 64, 'a'));
    FUZZ_CHECK(memchr(info.common_name, '\0', sizeof info.common_name) != NULL);
    FUZZ_CHECK(memchr(info.issuer_cn, '\0', sizeof info.issuer_cn) != NULL);
    check_time_trip(info.not_before);
    check_time_trip(info.not_after);
  } else {
    FUZZ_CHECK(err != NULL && err[0] != '\0');
  }
  free(err);
  free(pem);
  return 0;
}
