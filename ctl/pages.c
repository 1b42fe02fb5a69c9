/* pages.c: a whole list, one page after the other. */
#include "pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "output.h"

/* The most filters a list takes, besides limit and cursor. */
#define MAX_FILTERS 8

/* Fetches one page after cursor (NULL: the first) of at most limit rows;
 * appends them to all and stores the page's next_cursor (a string, or
 * JSON null) in *next, a new reference. Returns 0 or the exit status of
 * the failure (reported). */
static int fetch_page(api_client *c, const char *path, const query_param *filters, size_t n,
                      const char *key, const char *cursor, long limit, json_t *all, json_t **next) {
  int rc = CTL_EXIT_API;
  json_t *reply = NULL;
  char lim[24];
  query_param params[MAX_FILTERS + 2];
  snprintf(lim, sizeof(lim), "%ld", limit);
  memcpy(params, filters, n * sizeof(*filters));
  params[n] = (query_param){"limit", lim};
  params[n + 1] = (query_param){"cursor", cursor};
  char *url = query_url(path, params, n + 2);

  *next = NULL;
  if (url == NULL) {
    ctl_report(NULL);
    goto out;
  }
  rc = api_call(c, "GET", url, NULL, &reply);
  if (rc != 0)
    goto out;
  json_t *rows = json_object_get(reply, key);
  json_t *cur = json_object_get(reply, "next_cursor");
  /* A cursor must come with rows, or the loop would not move on. */
  if (!json_is_array(rows) || !(json_is_null(cur) || json_is_string(cur)) ||
      (json_is_string(cur) && json_array_size(rows) == 0) ||
      (json_is_string(cur) && cursor != NULL && strcmp(json_string_value(cur), cursor) == 0)) {
    fprintf(stderr,
            "certdeployctl: the %s list from %s is not what the API sends (no %s array, or a "
            "cursor that does not move on)\n",
            key, api_client_base_url(c), key);
    rc = CTL_EXIT_API;
    goto out;
  }
  if (json_array_extend(all, rows) != 0) {
    ctl_report(NULL);
    rc = CTL_EXIT_API;
    goto out;
  }
  *next = json_incref(cur);
out:
  json_decref(reply);
  free(url);
  return rc;
}

int pages_fetch_all(api_client *c, const char *path, const query_param *filters, size_t nfilters,
                    const char *key, long limit, json_t **all, json_t **next) {
  int rc = CTL_EXIT_API;
  json_t *rows = json_array();
  json_t *cursor = NULL;

  *all = *next = NULL;
  if (rows == NULL || nfilters > MAX_FILTERS) {
    ctl_report(NULL);
    goto fail;
  }
  for (;;) {
    long want = PAGES_PAGE_SIZE;
    if (limit > 0 && limit - (long)json_array_size(rows) < want)
      want = limit - (long)json_array_size(rows);
    json_t *after = cursor;
    cursor = NULL;
    rc = fetch_page(c, path, filters, nfilters, key, json_string_value(after), want, rows, &cursor);
    json_decref(after);
    if (rc != 0)
      goto fail;
    if (!json_is_string(cursor) || (limit > 0 && (long)json_array_size(rows) >= limit))
      break;
  }
  *all = rows;
  *next = cursor;
  return 0;
fail:
  json_decref(cursor);
  json_decref(rows);
  return rc;
}

int pages_print(int json, const char *key, json_t *all, json_t *next,
                int (*print_table)(const json_t *rows)) {
  if (!json) {
    if (print_table(all) == 0)
      return 0;
    ctl_report(NULL);
    return CTL_EXIT_API;
  }
  json_t *obj = json_pack("{s:O, s:O}", key, all, "next_cursor", next);
  if (obj == NULL) {
    ctl_report(NULL);
    return CTL_EXIT_API;
  }
  output_json(obj);
  json_decref(obj);
  return 0;
}
