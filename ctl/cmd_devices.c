/* cmd_devices.c: `devices`, every page of GET /api/v1/devices. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "output.h"
#include "query.h"

/* Devices asked for per request: a few requests for a fleet of
 * thousands, each reply some 40 KiB. */
#define PAGE_SIZE 100

/* Fetches one page after cursor (NULL: the first) of at most limit
 * devices; appends them to all and stores the page's next_cursor (a
 * string, or JSON null) in *next, a new reference. Returns 0 or the exit
 * status of the failure (reported). */
static int fetch_page(api_client *c, const ctl_options *o, const char *cursor, long limit,
                      json_t *all, json_t **next) {
  int rc = CTL_EXIT_API;
  json_t *reply = NULL;
  char lim[24];
  snprintf(lim, sizeof(lim), "%ld", limit);
  const query_param params[] = {
      {"q", o->q},    {"status", o->status}, {"profile_id", o->profile},
      {"limit", lim}, {"cursor", cursor},
  };
  char *path = query_url("/api/v1/devices", params, sizeof(params) / sizeof(params[0]));

  *next = NULL;
  if (path == NULL) {
    ctl_report(NULL);
    goto out;
  }
  rc = api_call(c, "GET", path, NULL, &reply);
  if (rc != 0)
    goto out;
  json_t *devices = json_object_get(reply, "devices");
  json_t *cur = json_object_get(reply, "next_cursor");
  /* A cursor must come with devices, or the loop would not move on. */
  if (!json_is_array(devices) || !(json_is_null(cur) || json_is_string(cur)) ||
      (json_is_string(cur) && json_array_size(devices) == 0) ||
      (json_is_string(cur) && cursor != NULL && strcmp(json_string_value(cur), cursor) == 0)) {
    fprintf(stderr,
            "certdeployctl: the device list from %s is not what the API sends (no "
            "devices array, or a cursor that does not move on)\n",
            api_client_base_url(c));
    rc = CTL_EXIT_API;
    goto out;
  }
  if (json_array_extend(all, devices) != 0) {
    ctl_report(NULL);
    rc = CTL_EXIT_API;
    goto out;
  }
  *next = json_incref(cur);
out:
  json_decref(reply);
  free(path);
  return rc;
}

static const char *text_of(const json_t *device, const char *key, const char *none) {
  const char *s = json_string_value(json_object_get(device, key));
  return s != NULL ? s : none;
}

static int print_table(const json_t *devices) {
  static const char *const headers[] = {"ID",      "SERIAL",    "NAME",     "LAST CHECK-IN",
                                        "PENDING", "VERIFYING", "VERIFIED", "FAILED"};
  static const char *const counts[] = {"pending", "verifying", "verified", "failed"};
  static const int right[] = {0, 0, 0, 0, 1, 1, 1, 1};
  table *t = table_new(8, headers, right);
  int rc = t != NULL ? 0 : -1;
  size_t i;
  json_t *d;

  json_array_foreach(devices, i, d) {
    if (rc != 0)
      break;
    char n[4][24];
    json_t *cs = json_object_get(d, "counts");
    for (size_t k = 0; k < 4; k++)
      snprintf(n[k], sizeof(n[k]), "%" JSON_INTEGER_FORMAT,
               json_integer_value(json_object_get(cs, counts[k])));
    const char *row[] = {
        text_of(d, "id", "-"),
        text_of(d, "serial", "-"),
        text_of(d, "name", "-"),
        text_of(d, "last_checkin_at", "never"),
        n[0],
        n[1],
        n[2],
        n[3],
    };
    rc = table_add(t, row);
  }
  if (rc == 0)
    table_print(t, stdout);
  table_free(&t);
  return rc;
}

int cmd_devices(api_client *c, const ctl_options *o) {
  int rc = CTL_EXIT_API;
  json_t *all = json_array();
  json_t *next = NULL;
  json_t *out_obj = NULL;

  if (all == NULL) {
    ctl_report(NULL);
    goto out;
  }
  for (;;) {
    long want = PAGE_SIZE;
    if (o->limit > 0 && o->limit - (long)json_array_size(all) < want)
      want = o->limit - (long)json_array_size(all);
    json_t *cursor = next;
    next = NULL;
    rc = fetch_page(c, o, json_string_value(cursor), want, all, &next);
    json_decref(cursor);
    if (rc != 0)
      goto out;
    if (!json_is_string(next) || (o->limit > 0 && (long)json_array_size(all) >= o->limit))
      break;
  }
  if (o->json) {
    /* The API's shape; next_cursor says whether --limit left devices out. */
    out_obj = json_pack("{s:O, s:O}", "devices", all, "next_cursor", next);
    if (out_obj == NULL) {
      ctl_report(NULL);
      rc = CTL_EXIT_API;
      goto out;
    }
    output_json(out_obj);
  } else if (print_table(all) != 0) {
    ctl_report(NULL);
    rc = CTL_EXIT_API;
  }
out:
  json_decref(out_obj);
  json_decref(next);
  json_decref(all);
  return rc;
}
