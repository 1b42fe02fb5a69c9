/*
 * wipebuf.h: a growable byte buffer that never leaves a copy of what it
 * held behind, the one buffer module of the four programs. Request and
 * reply bodies that carry tokens or private keys are received into one,
 * and reply texts are written into one: it grows by copying into a new
 * block and wiping the old one (a realloc could leave the old bytes in
 * freed memory), and clearing or releasing it wipes every byte it ever
 * had room for.
 *
 * A zeroed wipebuf ({0}) is empty and ready. data stays NUL-terminated once
 * anything was appended, so text can be read from it directly; data is
 * NULL while nothing was. The bytes past the NUL never held content: they
 * are either never written or wiped, so whoever takes the block over need
 * only wipe len + 1 bytes.
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

/* The first block's size; each growth doubles the block. */
#define WIPEBUF_MIN_CAP 1024

/* Makes room for n more bytes and the NUL without changing the content,
 * allowing at most max bytes in all. Appends of up to n bytes then cannot
 * fail; it is how a writer that fills data itself grows its buffer. */
int wipebuf_reserve(wipebuf *b, size_t n, size_t max);

/* Appends n bytes of p, growing to hold at most max bytes. */
int wipebuf_append(wipebuf *b, const void *p, size_t n, size_t max);

/* Hands the content over as a malloc'd NUL-terminated string, its length
 * in *len when len is non-NULL; the caller frees it (with
 * crypto_free_secret when it may hold a secret). b is empty ({0})
 * afterwards. NULL only when nothing was appended and the empty string
 * could not be allocated. */
char *wipebuf_detach(wipebuf *b, size_t *len);

/* Wipes the content and empties b; its block is kept for reuse. */
void wipebuf_clear(wipebuf *b);

/* Wipes and frees the block; b is empty ({0}) afterwards. NULL is fine. */
void wipebuf_release(wipebuf *b);

#endif
