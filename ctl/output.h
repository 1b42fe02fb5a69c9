/*
 * output.h: what certdeployctl prints on stdout: aligned tables for
 * people, or the API's JSON (--json) for scripts.
 *
 * Text from the server (device names and serials are chosen by devices)
 * goes through output_sanitize before it reaches a terminal, so that no
 * escape sequence in it can rewrite the screen. JSON output needs no such
 * step: jansson escapes control characters.
 */
#ifndef CERTDEPLOY_CTL_OUTPUT_H
#define CERTDEPLOY_CTL_OUTPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* A copy of text (UTF-8) with every control character (C0, DEL, C1) and
 * every bidirectional override or isolate replaced by '?'. malloc'd; NULL
 * when out of memory. */
char *output_sanitize(const char *text);

/* Prints v as one line of compact JSON on stdout. */
void output_json(const json_t *v);

typedef struct table table;

/* A table of ncols columns with these headers; a column whose right[i] is
 * non-zero (numbers) is aligned right. headers and right are copied.
 * NULL when out of memory. */
table *table_new(size_t ncols, const char *const *headers, const int *right);

/* Appends a row of ncols cells (copied, sanitized). 0, or -1 when out of
 * memory (the table is unchanged). */
int table_add(table *t, const char *const *cells);

/* Prints the header and the rows, columns two spaces apart, on out. */
void table_print(const table *t, FILE *out);

/* Frees *t and sets it to NULL. Accepts NULL. */
void table_free(table **t);

#endif
