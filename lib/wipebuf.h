/*
 * wipebuf.h: a growable byte buffer that never leaves a copy of what it
 * held behind. Replies that carry tokens or private keys are received into
 * one: it grows by copying into a new block and wiping the old one (a
 * realloc could leave the old bytes in freed memory), and clearing or
 * releasing it wipes every byte it ever had room for.
 *
 * A zeroed wipebuf ({0}) is empty and ready. data stays NUL-terminated once
 * anything was appended, so text can be read from it directly; data is
 * NULL while nothing was.
 */
#ifndef CERTDEPLOY_WIPEBUF_H
#define CERTDEPLOY_WIPEBUF_H

#include <stddef.h>

typedef struct wipebuf {
  char *data; /* len bytes and a NUL; NULL before the first append */
  size_t len; /* bytes held, without the NUL */
  size_t cap; /* bytes allocated (all of them are wiped) */
} wipebuf;

enum {
  WIPEBUF_OK = 0,
  WIPEBUF_NO_MEMORY = -1, /* the buffer is unchanged */
  WIPEBUF_TOO_BIG = -2,   /* len + n would pass max; the buffer is unchanged */
};

/* Appends n bytes of p, growing to hold at most max bytes. */
int wipebuf_append(wipebuf *b, const void *p, size_t n, size_t max);

/* Wipes the content and empties b; its block is kept for reuse. */
void wipebuf_clear(wipebuf *b);

/* Wipes and frees the block; b is empty ({0}) afterwards. NULL is fine. */
void wipebuf_release(wipebuf *b);

#endif
