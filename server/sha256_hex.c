/* sha256_hex.c: a SHA-256 digest as hex text. */
#include "sha256_hex.h"

#include <ctype.h>
#include <string.h>

int sha256_hex_normal(const char *s, char out[65]) {
  if (strlen(s) != 64)
    return 0;
  for (int i = 0; i < 64; i++)
    if (!isxdigit((unsigned char)s[i]))
      return 0;
  for (int i = 0; i < 64; i++)
    out[i] = (char)tolower((unsigned char)s[i]);
  out[64] = '\0';
  return 1;
}
