/* crypto_random.c: random bytes, random tokens and UUIDs from the OpenSSL CSPRNG. */
#include "crypto_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

int crypto_random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
  while (len > 0) {
    int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(p, chunk) != 1) {
      ERR_clear_error();
      return -1;
    }
    p += chunk;
    len -= (size_t)chunk;
  }
  return 0;
}

char *crypto_random_token(const char *prefix, size_t nbytes) {
  unsigned char *raw = NULL;
  char *b64 = NULL;
  char *out = NULL;
  size_t plen = strlen(prefix);
  size_t blen;

  if (nbytes == 0 || nbytes > 1024) {
    return NULL;
  }
  raw = malloc(nbytes);
  if (raw == NULL || crypto_random_bytes(raw, nbytes) != 0) {
    goto out;
  }
  b64 = crypto_base64_encode(raw, nbytes);
  if (b64 == NULL) {
    goto out;
  }
  blen = strlen(b64);
  while (blen > 0 && b64[blen - 1] == '=') {
    blen--;
  }
  out = malloc(plen + blen + 1);
  if (out == NULL) {
    goto out;
  }
  memcpy(out, prefix, plen);
  for (size_t i = 0; i < blen; i++) {
    char c = b64[i];
    out[plen + i] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  out[plen + blen] = '\0';
out:
  if (raw != NULL) {
    crypto_cleanse(raw, nbytes);
  }
  free(raw);
  crypto_free_secret(b64);
  return out;
}

/* UUIDs name things (requests, for one), they are not secrets: each
 * thread draws them from its own block of CSPRNG output, refilled every
 * UUID_BLOCK of them, because one RAND_bytes() call per UUID costs more
 * than the rest of making it, on every request. */
#define UUID_BLOCK 64
static __thread unsigned char uuid_bytes[UUID_BLOCK * 16];
static __thread size_t uuid_next = UUID_BLOCK;

int crypto_uuid_v4(char out[37]) {
  static const char digits[] = "0123456789abcdef";
  if (uuid_next == UUID_BLOCK) {
    if (crypto_random_bytes(uuid_bytes, sizeof(uuid_bytes)) != 0)
      return -1;
    uuid_next = 0;
  }
  unsigned char *b = uuid_bytes + 16 * uuid_next++;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *o++ = '-';
    *o++ = digits[b[i] >> 4];
    *o++ = digits[b[i] & 0x0f];
  }
  *o = '\0';
  return 0;
}
