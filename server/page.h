/*
 * page.h: keyset pagination shared by every list endpoint.
 *
 * A cursor is opaque to clients: hex of "<sort key>\n<id>" of the last row
 * of the previous page, so pages stay stable while rows are inserted. A
 * list whose rows are named by two ids (a deployment: device and profile)
 * adds the second: "<sort key>\n<id>\n<id2>".
 */
#ifndef CERTDEPLOY_PAGE_H
#define CERTDEPLOY_PAGE_H

#include <jansson.h>

#include "request.h"

#define PAGE_DEFAULT_LIMIT 50
#define PAGE_MAX_LIMIT 500

typedef struct page {
  int limit;           /* rows wanted */
  char after_key[128]; /* sort key of the last row seen, "" at the start */
  char after_id[40];   /* id of the last row seen, "" at the start */
  char after_id2[40];  /* its second id, "" when the cursor has none */
} page;

/* Reads ?limit= and ?cursor=. Returns 0, or -1 with rep set to 400 naming
 * the bad parameter. */
int page_from_request(const request *req, reply *rep, page *pg);

/* Encodes a cursor for the row (key, id) into a new JSON string. */
json_t *page_cursor(const char *key, const char *id);

/* The same for a row named by two ids (key, id, id2). */
json_t *page_cursor2(const char *key, const char *id, const char *id2);

/* The after_key / after_id parameters for SQL: NULL at the start. */
const char *page_key(const page *pg);
const char *page_id(const page *pg);
const char *page_id2(const page *pg);

/* How page_reply shows the rows of one list endpoint. */
typedef struct page_list {
  const char *name; /* the reply's key for the array, e.g. "tokens" */
  size_t row_size;  /* sizeof one row */
  /* A new JSON object for one row. */
  json_t *(*row_json)(const void *row);
  /* A new JSON cursor that resumes after row (usually page_cursor of its
   * sort key and id); arg is page_reply's cursor_arg. */
  json_t *(*row_cursor)(const void *row, const void *arg);
} page_list;

/* Replies 200 {"<name>": [...], "next_cursor": ...} with the first `limit`
 * of the `fetched` rows. Lists fetch limit + 1 rows: the extra one says a
 * next page exists, and next_cursor is then row_cursor of the last row
 * shown, else null. A negative `fetched` is the DB_*_ERROR of the fetch
 * and replies it (reply_db_error). The rows stay the caller's to free. */
void page_reply(reply *rep, const page_list *list, int limit, const void *rows, int fetched,
                const void *cursor_arg);

#endif
