/* crypto_hash.c: SHA-256, HMAC-SHA256, hex, constant-time comparison and the wiping of secrets. */
#include "crypto_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void cr_hex_encode(const unsigned char *in, size_t len, char *out, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

/* SHA-256 fetched from the provider once: EVP_sha256() makes every
 * digest look the algorithm up again (a lock and a table search that
 * cost more than hashing a token). Kept for the life of the process. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256_hex(const void *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;

  pthread_once(&sha256_once, sha256_fetch);
  if (sha256_md == NULL || EVP_Digest(data, len, md, &mdlen, sha256_md, NULL) != 1 ||
      mdlen != sizeof(md)) {
    /* Only reachable when OpenSSL is broken; an empty string never
     * matches a real digest, so comparisons fail closed. */
    ERR_clear_error();
    out[0] = '\0';
    return;
  }
  cr_hex_encode(md, sizeof(md), out, 0);
}

int crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;
  static const unsigned char empty = 0;

  pthread_once(&sha256_once, sha256_fetch);
  /* HMAC() takes a NULL key as "reuse the last one"; an empty key is not that. */
  if (sha256_md == NULL ||
      HMAC(sha256_md, key_len > 0 ? key : &empty, (int)key_len, data, len, md, &mdlen) == NULL ||
      mdlen != sizeof(md)) {
    ERR_clear_error();
    out[0] = '\0';
    return -1;
  }
  cr_hex_encode(md, sizeof(md), out, 0);
  crypto_cleanse(md, sizeof(md));
  return 0;
}

int crypto_equal(const void *a, const void *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0 ? 1 : 0;
}

void crypto_cleanse(void *p, size_t len) {
  if (p != NULL && len > 0) {
    OPENSSL_cleanse(p, len);
  }
}

void crypto_free_secret(char *s) {
  if (s == NULL) {
    return;
  }
  crypto_cleanse(s, strlen(s));
  free(s);
}

int crypto_take_arg_secret(char **dst, char *arg) {
  crypto_free_secret(*dst);
  *dst = strdup(arg);
  crypto_cleanse(arg, strlen(arg));
  return *dst != NULL ? 0 : -1;
}
