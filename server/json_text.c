/* json_text.c: compact JSON text, of a jansson value or written piece by
 * piece (json_text.h). */
#include "json_text.h"

#include "wipebuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL. The writer's buf, len and cap are a
 * wipebuf's fields (json_text.h), so it grows as one: by copy, the old
 * block, which may hold a secret, wiped before it is freed. */
static int reserve(json_writer *t, size_t n) {
  if (t->failed)
    return -1;
  if (t->len + n + 1 <= t->cap)
    return 0;
  wipebuf text = {t->buf, t->len, t->cap};
  if (wipebuf_reserve(&text, n, SIZE_MAX / 4) != WIPEBUF_OK) {
    t->failed = 1;
    return -1;
  }
  t->buf = text.data;
  t->cap = text.cap;
  return 0;
}

static void put(json_writer *t, const char *s, size_t n) {
  if (reserve(t, n) != 0)
    return;
  memcpy(t->buf + t->len, s, n);
  t->len += n;
}

/* jansson's escaping: the two JSON specials, short forms for five
 * control characters, \uXXXX (upper-case hex) for the others; every
 * other byte as it is. */
static void put_string(json_writer *t, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  put(t, "\"", 1);
  size_t run = 0; /* start of the bytes not yet written */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    put(t, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t elen = 2;
    switch (c) {
    case '"':
    case '\\':
      esc[1] = (char)c;
      break;
    case '\b':
      esc[1] = 'b';
      break;
    case '\f':
      esc[1] = 'f';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 0x0f];
      elen = 6;
    }
    put(t, esc, elen);
  }
  put(t, s + run, n - run);
  put(t, "\"", 1);
}

static void put_value(json_writer *t, const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *key;
    json_t *member;
    int first = 1;
    put(t, "{", 1);
    json_object_foreach((json_t *)v, key, member) {
      if (!first)
        put(t, ",", 1);
      first = 0;
      put_string(t, key, strlen(key));
      put(t, ":", 1);
      put_value(t, member);
    }
    put(t, "}", 1);
    break;
  }
  case JSON_ARRAY:
    put(t, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i > 0)
        put(t, ",", 1);
      put_value(t, json_array_get(v, i));
    }
    put(t, "]", 1);
    break;
  case JSON_STRING:
    put_string(t, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    json_write_int(t, (long long)json_integer_value(v));
    break;
  case JSON_REAL: { /* none in replies today: jansson's own format */
    char *real = json_dumps(v, JSON_ENCODE_ANY);
    if (real == NULL) {
      t->failed = 1;
      return;
    }
    put(t, real, strlen(real));
    free(real);
    break;
  }
  case JSON_TRUE:
    put(t, "true", 4);
    break;
  case JSON_FALSE:
    put(t, "false", 5);
    break;
  case JSON_NULL:
    put(t, "null", 4);
    break;
  }
}

void json_writer_init(json_writer *w) {
  *w = (json_writer){NULL, 0, 0, 0}; /* the first write allocates */
}

void json_write_raw(json_writer *w, const char *s, size_t n) {
  put(w, s, n);
}

void json_write_string(json_writer *w, const char *s) {
  put_string(w, s, strlen(s));
}

void json_write_int(json_writer *w, long long v) {
  char num[24];
  put(w, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

void json_write_value(json_writer *w, const json_t *v) {
  put_value(w, v);
}

void json_write_members(json_writer *w, const json_t *obj) {
  const char *key;
  json_t *member;
  json_object_foreach((json_t *)obj, key, member) {
    put(w, ",", 1);
    put_string(w, key, strlen(key));
    put(w, ":", 1);
    put_value(w, member);
  }
}

void json_writer_discard(json_writer *w) {
  wipebuf text = {w->buf, w->len, w->cap};
  wipebuf_release(&text);
  *w = (json_writer){NULL, 0, 0, 1};
}

char *json_writer_finish(json_writer *w, size_t *len) {
  if (w->failed) {
    json_writer_discard(w);
    return NULL;
  }
  if (w->buf != NULL)
    w->buf[w->len] = '\0'; /* reserve() always leaves room for it */
  wipebuf text = {w->buf, w->len, w->cap};
  char *out = wipebuf_detach(&text, len);
  *w = (json_writer){NULL, 0, 0, 1};
  return out;
}

char *json_text(const json_t *v, size_t *len) {
  json_writer w;
  if (v == NULL)
    return NULL;
  json_writer_init(&w);
  put_value(&w, v);
  return json_writer_finish(&w, len);
}
