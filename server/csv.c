/* csv.c: RFC 4180 fields and rows. */
#include "csv.h"

#include <stdio.h>
#include <string.h>

void csv_writer_init(csv_writer *w, wipebuf *out, size_t max) {
  *w = (csv_writer){.out = out, .max = max};
}

static void append(csv_writer *w, const char *p, size_t n) {
  if (!w->failed && n > 0 && wipebuf_append(w->out, p, n, w->max) != WIPEBUF_OK)
    w->failed = 1;
}

/* The field, quoted when it must be, after prefix (NULL: none). */
static void write_field(csv_writer *w, const char *prefix, const char *s) {
  size_t n = strlen(s);
  int quote = strpbrk(s, ",\"\r\n") != NULL || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
  if (w->fields++ > 0)
    append(w, ",", 1);
  if (quote)
    append(w, "\"", 1);
  if (prefix != NULL)
    append(w, prefix, strlen(prefix));
  for (const char *p = s; quote && *p;) {
    size_t run = strcspn(p, "\"");
    append(w, p, run);
    p += run;
    if (*p == '"') {
      append(w, "\"\"", 2);
      p++;
    }
  }
  if (!quote)
    append(w, s, n);
  if (quote)
    append(w, "\"", 1);
}

void csv_field(csv_writer *w, const char *s) {
  write_field(w, NULL, s != NULL ? s : "");
}

void csv_text(csv_writer *w, const char *s) {
  s = s != NULL ? s : "";
  write_field(w, s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL ? "'" : NULL, s);
}

void csv_int(csv_writer *w, long long v) {
  char n[24];
  snprintf(n, sizeof(n), "%lld", v);
  csv_field(w, n);
}

void csv_end_row(csv_writer *w) {
  append(w, "\r\n", 2);
  w->fields = 0;
}
