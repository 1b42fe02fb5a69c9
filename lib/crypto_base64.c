/* crypto_base64.c: standard base64 with padding, decoded strictly. */
#include "crypto_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

char *crypto_base64_encode(const void *data, size_t len) {
  char *out;
  size_t outlen;

  if (len > (size_t)INT_MAX / 4 * 3 - 3) {
    return NULL;
  }
  outlen = (len + 2) / 3 * 4;
  out = malloc(outlen + 1);
  if (out == NULL) {
    return NULL;
  }
  if (EVP_EncodeBlock((unsigned char *)out, data, (int)len) != (int)outlen) {
    free(out);
    return NULL;
  }
  out[outlen] = '\0';
  return out;
}

static int is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int crypto_base64_decode(const char *text, unsigned char **out, size_t *out_len) {
  size_t len = strlen(text);
  size_t pad = 0;
  unsigned char *buf;
  int n;

  /* EVP_DecodeBlock skips whitespace and miscounts padding; validate the
   * exact canonical shape first so bad input is always refused. */
  if (len % 4 != 0 || len > (size_t)INT_MAX) {
    return -1;
  }
  if (len > 0 && text[len - 1] == '=') {
    pad++;
    if (text[len - 2] == '=') {
      pad++;
    }
  }
  for (size_t i = 0; i < len - pad; i++) {
    if (!is_b64_char(text[i])) {
      return -1;
    }
  }
  buf = malloc(len / 4 * 3 + 1);
  if (buf == NULL) {
    return -1;
  }
  n = len == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
  if (n < 0 || (size_t)n < pad) {
    free(buf);
    return -1;
  }
  n -= (int)pad;
  buf[n] = '\0';
  *out = buf;
  *out_len = (size_t)n;
  return 0;
}
