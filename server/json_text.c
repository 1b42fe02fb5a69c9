/* json_text.c: compact JSON text of a jansson value (json_text.h). */
#include "json_text.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
  char *buf;
  size_t len, cap;
  int failed;
} text;

/* Room for n more bytes and the NUL. Not realloc: the old block may hold
 * a secret, and is wiped before it is freed. */
static int reserve(text *t, size_t n) {
  if (t->failed)
    return -1;
  if (t->len + n + 1 <= t->cap)
    return 0;
  size_t cap = t->cap;
  while (cap < t->len + n + 1)
    cap *= 2;
  char *grown = malloc(cap);
  if (grown == NULL) {
    t->failed = 1;
    return -1;
  }
  memcpy(grown, t->buf, t->len);
  crypto_cleanse(t->buf, t->cap);
  free(t->buf);
  t->buf = grown;
  t->cap = cap;
  return 0;
}

static void put(text *t, const char *s, size_t n) {
  if (reserve(t, n) != 0)
    return;
  memcpy(t->buf + t->len, s, n);
  t->len += n;
}

/* jansson's escaping: the two JSON specials, short forms for five
 * control characters, \uXXXX (upper-case hex) for the others; every
 * other byte as it is. */
static void put_string(text *t, const char *s, size_t n) {
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

static void put_value(text *t, const json_t *v) {
  char num[32];
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
    put(t, num, (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
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

char *json_text(const json_t *v, size_t *len) {
  text t = {.buf = malloc(1024), .cap = 1024};
  if (t.buf == NULL || v == NULL) {
    free(t.buf);
    return NULL;
  }
  put_value(&t, v);
  if (t.failed) {
    crypto_cleanse(t.buf, t.cap);
    free(t.buf);
    return NULL;
  }
  t.buf[t.len] = '\0';
  *len = t.len;
  return t.buf;
}
