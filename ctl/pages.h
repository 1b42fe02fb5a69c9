/*
 * pages.h: every page of a REST API list (GET /api/v1/devices,
 * /api/v1/deployments), following next_cursor, for the commands that
 * print a whole list.
 */
#ifndef CERTDEPLOY_CTL_PAGES_H
#define CERTDEPLOY_CTL_PAGES_H

#include <jansson.h>
#include <stddef.h>

#include "api_client.h"
#include "ctl.h"
#include "query.h"

/* Rows asked for per request: a few requests for a fleet of thousands,
 * each reply some 40-100 KiB. */
#define PAGES_PAGE_SIZE 100

/* GETs path with the filters (NULL values left out), page after page, and
 * returns the rows of the reply's `key` array ("devices") in *all, a new
 * array, until next_cursor is null or, with limit > 0, limit rows are
 * there (exactly limit). *next is the last page's next_cursor (a string:
 * --limit left rows out; or JSON null), a new reference. Returns 0 or the
 * exit status of the failure, which is reported (a reply that is not the
 * list, or a cursor that does not move on, is CTL_EXIT_API); *all and
 * *next are NULL then. */
int pages_fetch_all(api_client *c, const char *path, const query_param *filters, size_t nfilters,
                    const char *key, long limit, json_t **all, json_t **next);

/* Prints a whole list: with --json {"<key>": all, "next_cursor": next}
 * (the API's shape; next_cursor says whether --limit left rows out), else
 * print_table(all). Returns 0 or CTL_EXIT_API (out of memory, reported). */
int pages_print(int json, const char *key, json_t *all, json_t *next,
                int (*print_table)(const json_t *rows));

#endif
