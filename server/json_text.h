/*
 * json_text.h: compact JSON text of a jansson value, for reply bodies.
 *
 * The same bytes as json_dumps(v, JSON_COMPACT), about twice as fast:
 * jansson's dump checks every container for loops through a hash table
 * (a formatted pointer and two table updates per object and array), and
 * grows its buffer from 16 bytes. Reply trees are built fresh and never
 * loop, and their text is written into one buffer that starts at 1 KiB.
 * Every buffer outgrown is wiped before it is freed: replies carry
 * secrets.
 */
#ifndef CERTDEPLOY_JSON_TEXT_H
#define CERTDEPLOY_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* Compact JSON text of v, NUL-terminated and malloc'd, its length in
 * *len; NULL when out of memory. v must not contain itself, and its
 * strings must come from jansson's checked constructors (json_string(),
 * json_pack(): valid UTF-8), not the *_nocheck ones. */
char *json_text(const json_t *v, size_t *len);

#endif
