/* json_wipe.c: a jansson allocator whose free zeroes the block first, and
 * wiping of the strings a decref frees. */
#include "json_wipe.h"

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

/* Set once the wiping allocator frees every jansson block: a decref then
 * wipes all it frees by itself, and walking the values first would only
 * wipe each string twice. */
static int allocator_wipes;

void json_wipe_install(void) {
  json_set_alloc_funcs(malloc, json_wipe_free);
  allocator_wipes = 1;
}

/* Only what this reference alone keeps alive is freed by its decref. The
 * singletons true, false and null have a refcount of (size_t)-1. */
static int freed_with_parent(const json_t *v) {
  return v != NULL && v->refcount == 1;
}

void json_wipe_values(json_t *v) {
  if (!freed_with_parent(v))
    return;
  if (json_is_string(v)) {
    /* ours to scribble on: the string dies with this reference */
    crypto_cleanse((char *)json_string_value(v), json_string_length(v));
  } else if (json_is_object(v)) {
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member) json_wipe_values(member);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) json_wipe_values(item);
  }
}

void json_wipe_decref(json_t *v) {
  if (!allocator_wipes)
    json_wipe_values(v);
  json_decref(v);
}
