/* crypto_error.c: cr_set_err, the error reporter of every crypto_*.c function. */
#include "crypto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/* Stores "fmt...: <openssl reason>" in *err (when err is non-NULL and
 * empty) and clears the OpenSSL error queue. Always returns -1. */
__attribute__((format(printf, 2, 3))) int cr_set_err(char **err, const char *fmt, ...) {
  char msg[512];
  char ossl[256] = "";
  unsigned long code = ERR_peek_error();
  va_list ap;

  if (code != 0) {
    ERR_error_string_n(code, ossl, sizeof(ossl));
  }
  ERR_clear_error();
  if (err == NULL || *err != NULL) {
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (ossl[0] != '\0') {
    size_t used = strlen(msg);
    snprintf(msg + used, sizeof(msg) - used, " (%s)", ossl);
  }
  *err = strdup(msg);
  return -1;
}
