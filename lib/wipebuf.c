/* wipebuf.c: the wiping growable buffer (wipebuf.h). */
#include "wipebuf.h"

#include "crypto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int wipebuf_reserve(wipebuf *b, size_t n, size_t max) {
  if (n > max || b->len > max - n)
    return WIPEBUF_TOO_BIG;
  if (b->len + n >= SIZE_MAX / 2)
    return WIPEBUF_NO_MEMORY; /* no block that large, and the doubling below stays exact */
  size_t need = b->len + n + 1;
  if (need <= b->cap)
    return WIPEBUF_OK;
  size_t cap = b->cap < WIPEBUF_MIN_CAP ? WIPEBUF_MIN_CAP : b->cap;
  while (cap < need)
    cap *= 2;
  /* Grow by copy so the old block can be wiped before it is freed. */
  char *grown = malloc(cap);
  if (grown == NULL)
    return WIPEBUF_NO_MEMORY;
  if (b->data != NULL) {
    memcpy(grown, b->data, b->len);
    crypto_cleanse(b->data, b->cap);
    free(b->data);
  }
  grown[b->len] = '\0';
  b->data = grown;
  b->cap = cap;
  return WIPEBUF_OK;
}

int wipebuf_append(wipebuf *b, const void *p, size_t n, size_t max) {
  int rc = wipebuf_reserve(b, n, max);
  if (rc != WIPEBUF_OK)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return WIPEBUF_OK;
}

char *wipebuf_detach(wipebuf *b, size_t *len) {
  if (b->data == NULL && wipebuf_reserve(b, 0, 0) != WIPEBUF_OK)
    return NULL;
  char *text = b->data;
  if (len != NULL)
    *len = b->len;
  *b = (wipebuf){0};
  return text;
}

void wipebuf_clear(wipebuf *b) {
  if (b->data != NULL)
    crypto_cleanse(b->data, b->cap);
  b->len = 0;
}

void wipebuf_release(wipebuf *b) {
  if (b == NULL)
    return;
  wipebuf_clear(b);
  free(b->data);
  b->data = NULL;
  b->cap = 0;
}
