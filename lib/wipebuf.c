/* wipebuf.c: the wiping growable buffer (wipebuf.h). */
#include "wipebuf.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#define WIPEBUF_MIN_CAP 4096

int wipebuf_append(wipebuf *b, const void *p, size_t n, size_t max) {
  if (n > max || b->len > max - n)
    return WIPEBUF_TOO_BIG;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap < WIPEBUF_MIN_CAP ? WIPEBUF_MIN_CAP : b->cap;
    while (cap < b->len + n + 1)
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
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return WIPEBUF_OK;
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
