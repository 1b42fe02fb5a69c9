/* utf8.c: well-formed UTF-8, checked and scrubbed. */
#include "utf8.h"

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n;
  unsigned int cp;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    n = 2;
    cp = p[0] & 0x1F;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    n = 3;
    cp = p[0] & 0x0F;
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

int utf8_valid(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_seq(p);
    if (n == 0)
      return 0;
    p += n;
  }
  return 1;
}

void utf8_scrub(char *s) {
  for (unsigned char *p = (unsigned char *)s; *p;) {
    size_t n = utf8_seq(p);
    if (n == 0) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}
