/*
 * fuzz_util.h: small helpers shared by the libFuzzer harnesses.
 *
 * A harness checks the documented contract of the code it drives; a
 * broken promise calls FUZZ_CHECK's abort(), which libFuzzer reports as a
 * crash with the input that caused it.
 */
#ifndef CERTDEPLOY_FUZZ_UTIL_H
#define CERTDEPLOY_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed condition when cond is false. */
#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                 \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* A malloc'd NUL-terminated copy of the input (the input itself is not
 * terminated). The copy ends at the input's first NUL when C code reads it
 * as a string; that is the string the code under test sees. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF). Written apart from ca_reply.c's decoder so it
 * can check that one. */
static inline int fuzz_utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    unsigned long cp;
    size_t n;
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    if ((p[i] & 0xE0) == 0xC0) {
      n = 2;
      cp = p[i] & 0x1F;
    } else if ((p[i] & 0xF0) == 0xE0) {
      n = 3;
      cp = p[i] & 0x0F;
    } else if ((p[i] & 0xF8) == 0xF0) {
      n = 4;
      cp = p[i] & 0x07;
    } else {
      return 0;
    }
    if (len - i < n)
      return 0;
    for (size_t k = 1; k < n; k++) {
      if ((p[i + k] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return 0;
    i += n;
  }
  return 1;
}

/* 1 when s is what ca_reply.h promises of its texts: valid UTF-8 on one
 * line, with no control characters at all. */
static inline int fuzz_clean_text(const char *s) {
  size_t len = strlen(s);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
      return 0;
  return fuzz_utf8_valid(s, len);
}

/* 1 when s is exactly n hex digits of the given case ('a' or 'A'). */
static inline int fuzz_is_hex(const char *s, size_t n, char letter_case) {
  if (strlen(s) != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= letter_case && c <= letter_case + 5)))
      return 0;
  }
  return 1;
}

#endif
