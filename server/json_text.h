/*
 * json_text.h: compact JSON text, of a jansson value or written piece by
 * piece, for reply bodies.
 *
 * json_text(v) gives the same bytes as json_dumps(v, JSON_COMPACT), with
 * less work (BENCHMARKS.md): jansson's dump checks every container for
 * loops through a hash table (a formatted pointer and two table updates
 * per object and array), and grows its buffer from 16 bytes. Reply trees
 * are built fresh and never loop, and their text goes into one buffer
 * that starts at 1 KiB. A reply as busy as the check-in's is written
 * with the writer directly, with no tree at all. Every buffer outgrown,
 * and a text discarded, is wiped before it is freed: replies carry
 * secrets.
 */
#ifndef CERTDEPLOY_JSON_TEXT_H
#define CERTDEPLOY_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* Text being written. A failed allocation makes every later write do
 * nothing and json_writer_finish() return NULL. buf, len and cap are a
 * wipebuf's data, len and cap (lib/wipebuf.h), which grows and wipes them;
 * they are spelled out rather than one wipebuf member so that the writer
 * can be initialised flat, {NULL, 0, 0, 1}: a failed writer, safe to
 * discard. */
typedef struct json_writer {
  char *buf;       /* the text so far, not NUL-terminated until finished */
  size_t len, cap; /* bytes written; bytes allocated */
  int failed;      /* an allocation failed, or the text was handed over */
} json_writer;

/* Makes w empty and ready; its first write allocates. */
void json_writer_init(json_writer *w);

/* n bytes as they are: punctuation, or a key known to need no escaping
 * ("\"profiles\":["). */
void json_write_raw(json_writer *w, const char *s, size_t n);

/* s as a JSON string, quoted and escaped as jansson does. s must be
 * valid UTF-8. */
void json_write_string(json_writer *w, const char *s);

void json_write_int(json_writer *w, long long v);

/* v, as json_text() writes it. */
void json_write_value(json_writer *w, const json_t *v);

/* Each member of the object obj as `,"key":value`, in its order: fields
 * added after ones already written. */
void json_write_members(json_writer *w, const json_t *obj);

/* The NUL-terminated text, malloc'd (the caller owns it), its length in
 * *len; NULL when an allocation failed. Either way w is left empty. */
char *json_writer_finish(json_writer *w, size_t *len);

/* Wipes and frees what w holds; for a writer given up on. Safe after
 * json_writer_finish(). */
void json_writer_discard(json_writer *w);

/* Compact JSON text of v, NUL-terminated and malloc'd, its length in
 * *len; NULL when out of memory. v must not contain itself, and its
 * strings must come from jansson's checked constructors (json_string(),
 * json_pack(): valid UTF-8), not the *_nocheck ones. */
char *json_text(const json_t *v, size_t *len);

#endif
