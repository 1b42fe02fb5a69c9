/* json_wipe.c: a jansson allocator whose free zeroes the block first. */
#include "json_wipe.h"

#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>

#include "crypto.h"

void json_wipe_free(void *p) {
  if (p == NULL)
    return;
  /* jansson does not tell free the size; the allocator knows it. */
  crypto_cleanse(p, malloc_usable_size(p));
  free(p);
}

void json_wipe_install(void) {
  json_set_alloc_funcs(malloc, json_wipe_free);
}
