/*
 * page.h: keyset pagination shared by every list endpoint.
 *
 * A cursor is opaque to clients: hex of "<sort key>\n<id>" of the last row
 * of the previous page, so pages stay stable while rows are inserted.
 */
#ifndef CERTDEPLOY_PAGE_H
#define CERTDEPLOY_PAGE_H

#include <jansson.h>

#include "request.h"

#define PAGE_DEFAULT_LIMIT 50
#define PAGE_MAX_LIMIT 500

typedef struct page {
  int limit;          /* rows wanted */
  char after_key[128];/* sort key of the last row seen, "" at the start */
  char after_id[40];  /* id of the last row seen, "" at the start */
} page;

/* Reads ?limit= and ?cursor=. Returns 0, or -1 with rep set to 400 naming
 * the bad parameter. */
int page_from_request(const request *req, reply *rep, page *pg);

/* Encodes a cursor for the row (key, id) into a new JSON string. */
json_t *page_cursor(const char *key, const char *id);

/* The after_key / after_id parameters for SQL: NULL at the start. */
const char *page_key(const page *pg);
const char *page_id(const page *pg);

#endif
