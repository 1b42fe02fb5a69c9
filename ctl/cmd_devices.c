/* cmd_devices.c: `devices`, every page of GET /api/v1/devices. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pages.h"

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
  const query_param filters[] = {{"q", o->q}, {"status", o->status}, {"profile_id", o->profile}};
  json_t *all = NULL, *next = NULL;
  int rc = pages_fetch_all(c, "/api/v1/devices", filters, sizeof(filters) / sizeof(filters[0]),
                           "devices", o->limit, &all, &next);
  if (rc != 0)
    return rc;
  rc = pages_print(o->json, "devices", all, next, print_table);
  json_decref(next);
  json_decref(all);
  return rc;
}
