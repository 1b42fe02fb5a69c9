/*
 * csv.h: CSV text (RFC 4180) written row by row into a wipebuf: fields
 * separated by commas, rows ended by CRLF, a field quoted (its quotes
 * doubled) when it holds a comma, a quote, CR or LF, or starts or ends
 * with a space.
 */
#ifndef CERTDEPLOY_CSV_H
#define CERTDEPLOY_CSV_H

#include <stddef.h>

#include "wipebuf.h"

typedef struct csv_writer {
  wipebuf *out;
  size_t max; /* the most bytes out may hold */
  int fields; /* fields in the current row so far */
  int failed; /* an append did not fit or found no memory: the text is incomplete */
} csv_writer;

/* Starts writing rows at the end of out, which may hold at most max bytes. */
void csv_writer_init(csv_writer *w, wipebuf *out, size_t max);

/* One field, as it is (NULL: an empty field). */
void csv_field(csv_writer *w, const char *s);

/* One field of text that people or devices chose (names, messages): as
 * csv_field, but a value starting with = + - @ TAB or CR gets a leading
 * apostrophe, so that a spreadsheet shows it instead of running it as a
 * formula (CSV injection). */
void csv_text(csv_writer *w, const char *s);

void csv_int(csv_writer *w, long long v);

/* Ends the current row. */
void csv_end_row(csv_writer *w);

#endif
