/*
 * query.h: request paths with a query string, values percent-encoded.
 */
#ifndef CERTDEPLOY_CTL_QUERY_H
#define CERTDEPLOY_CTL_QUERY_H

#include <stddef.h>

/* One name=value pair; a NULL value leaves the pair out. */
typedef struct query_param {
  const char *name;  /* plain [a-z_] name, sent as is */
  const char *value; /* any bytes; percent-encoded */
} query_param;

/* Returns path, then "?" and the n params as name=value joined by "&"
 * (just path when every value is NULL). malloc'd; NULL when out of
 * memory. */
char *query_url(const char *path, const query_param *params, size_t n);

#endif
