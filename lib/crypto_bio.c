/* crypto_bio.c: memory BIOs to and from strings, and the no-passphrase PEM callback. */
#include "crypto_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>

/* Copies the contents of a memory BIO into a fresh NUL-terminated string.
 * For secret BIOs use a BIO_s_secmem(); the copy is then freed by the
 * caller with crypto_free_secret. NULL on failure. */
char *cr_bio_to_string(BIO *bio) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  char *out;

  if (len < 0) {
    return NULL;
  }
  out = malloc((size_t)len + 1);
  if (out == NULL) {
    return NULL;
  }
  if (len > 0) {
    memcpy(out, data, (size_t)len);
  }
  out[len] = '\0';
  return out;
}

/* A read-only memory BIO over a NUL-terminated text. */
BIO *cr_bio_from_text(const char *text) {
  size_t len = strlen(text);
  if (len > INT_MAX) {
    return NULL;
  }
  return BIO_new_mem_buf(text, (int)len);
}

/* Refuses passphrase prompts: an encrypted PEM is an error, never a
 * terminal prompt. */
int cr_no_password_cb(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return -1;
}
