/* output.c: sanitized, aligned tables and compact JSON on stdout. */
#include "output.h"

#include <stdlib.h>
#include <string.h>

struct table {
  size_t ncols;
  char **cells; /* rows * ncols sanitized strings; row 0 is the header */
  size_t rows;
  size_t cap; /* rows allocated */
  int *right; /* per column: 1 aligned right */
};

/* Length of the character to replace at p (valid UTF-8), or 0 to keep it:
 * C0 controls and DEL, C1 controls (U+0080..U+009F), and the bidi
 * embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069). */
static size_t unsafe_len(const unsigned char *p) {
  if (p[0] < 0x20 || p[0] == 0x7f)
    return 1;
  if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
    return 2;
  if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
    return 3;
  if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
    return 3;
  return 0;
}

char *output_sanitize(const char *text) {
  char *out = malloc(strlen(text) + 1);
  if (out == NULL)
    return NULL;
  const unsigned char *p = (const unsigned char *)text;
  char *q = out;
  while (*p != '\0') {
    size_t n = unsafe_len(p);
    if (n > 0) {
      *q++ = '?';
      p += n;
    } else {
      *q++ = (char)*p++;
    }
  }
  *q = '\0';
  return out;
}

void output_json(const json_t *v) {
  json_dumpf(v, stdout, JSON_COMPACT);
  fputc('\n', stdout);
}

/* Characters on screen, near enough: UTF-8 code points. */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s != '\0'; s++)
    if (((unsigned char)*s & 0xc0) != 0x80)
      w++;
  return w;
}

table *table_new(size_t ncols, const char *const *headers, const int *right) {
  table *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->ncols = ncols;
  t->right = calloc(ncols, sizeof(*t->right));
  if (t->right == NULL || table_add(t, headers) != 0) {
    table_free(&t);
    return NULL;
  }
  memcpy(t->right, right, ncols * sizeof(*t->right));
  return t;
}

int table_add(table *t, const char *const *cells) {
  if (t->rows == t->cap) {
    size_t cap = t->cap < 16 ? 16 : 2 * t->cap;
    char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));
    if (grown == NULL)
      return -1;
    t->cells = grown;
    t->cap = cap;
  }
  char **row = t->cells + t->rows * t->ncols;
  for (size_t i = 0; i < t->ncols; i++) {
    row[i] = output_sanitize(cells[i]);
    if (row[i] == NULL) {
      while (i > 0)
        free(row[--i]);
      return -1;
    }
  }
  t->rows++;
  return 0;
}

void table_print(const table *t, FILE *out) {
  size_t *width = calloc(t->ncols, sizeof(*width));
  if (width == NULL)
    return;
  for (size_t r = 0; r < t->rows; r++)
    for (size_t i = 0; i < t->ncols; i++) {
      size_t w = text_width(t->cells[r * t->ncols + i]);
      if (w > width[i])
        width[i] = w;
    }
  for (size_t r = 0; r < t->rows; r++) {
    for (size_t i = 0; i < t->ncols; i++) {
      const char *cell = t->cells[r * t->ncols + i];
      size_t pad = width[i] - text_width(cell);
      int last = i + 1 == t->ncols;
      if (i > 0)
        fputs("  ", out);
      if (t->right[i])
        fprintf(out, "%*s", (int)pad, "");
      fputs(cell, out);
      if (!t->right[i] && !last)
        fprintf(out, "%*s", (int)pad, "");
    }
    fputc('\n', out);
  }
  free(width);
}

void table_free(table **t) {
  if (t == NULL || *t == NULL)
    return;
  for (size_t i = 0; i < (*t)->rows * (*t)->ncols; i++)
    free((*t)->cells[i]);
  free((*t)->cells);
  free((*t)->right);
  free(*t);
  *t = NULL;
}
