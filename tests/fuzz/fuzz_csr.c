/*
 * fuzz_csr: crypto_csr_check() on PEM text, as a device sends it in
 * POST /device/v1/profiles/{profile_id}/csr.
 *
 * Checked besides memory safety: an accepted CSR has a key the policy
 * allows (RSA >= 2048, EC P-256/P-384/P-521) and well-formed info; a
 * refused one comes with an error message.
 */
#include "fuzz_util.h"

#include "crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *pem = fuzz_cstring(data, size);
  crypto_csr_info info;
  char *err = NULL;

  memset(&info, 0xA5, sizeof info); /* garbage, so a field left unset shows */
  if (crypto_csr_check(pem, &info, &err) == 0) {
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(memchr(info.key_type, '\0', sizeof info.key_type) != NULL);
    FUZZ_CHECK(memchr(info.curve, '\0', sizeof info.curve) != NULL);
    FUZZ_CHECK(memchr(info.common_name, '\0', sizeof info.common_name) != NULL);
    FUZZ_CHECK(fuzz_is_hex(info.pubkey_sha256, 64, 'a'));
    if (strcmp(info.key_type, "RSA") == 0) {
      FUZZ_CHECK(info.key_bits >= 2048 && info.curve[0] == '\0');
    } else {
      FUZZ_CHECK(strcmp(info.key_type, "EC") == 0);
      FUZZ_CHECK(strcmp(info.curve, "prime256v1") == 0 || strcmp(info.curve, "secp384r1") == 0 ||
                 strcmp(info.curve, "secp521r1") == 0);
      FUZZ_CHECK(info.key_bits == 256 || info.key_bits == 384 || info.key_bits == 521);
    }
  } else {
    FUZZ_CHECK(err != NULL && err[0] != '\0');
  }
  free(err);
  free(pem);
  return 0;
}
