/* cmd_deployments.c: `deployments`, every deployment of the fleet (GET
 * /api/v1/deployments): a table, the API's JSON, or its CSV export. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api_call.h"
#include "output.h"
#include "pages.h"

static const char *text_of(const json_t *obj, const char *key, const char *none) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s != NULL && s[0] != '\0' ? s : none;
}

static int print_table(const json_t *deployments) {
  static const char *const headers[] = {"DEVICE ID", "SERIAL",  "PROFILE",
                                        "STATUS",    "EXPIRES", "DETAIL"};
  static const int right[] = {0, 0, 0, 0, 0, 0};
  table *t = table_new(6, headers, right);
  int rc = t != NULL ? 0 : -1;
  size_t i;
  json_t *d;

  json_array_foreach(deployments, i, d) {
    if (rc != 0)
      break;
    const char *row[] = {
        text_of(d, "device_id", "-"),
        text_of(d, "device_serial", "-"),
        text_of(d, "profile_name", "-"),
        text_of(d, "status", "-"),
        text_of(json_object_get(d, "installed_certificate"), "not_after", "-"),
        text_of(d, "detail", "-"),
    };
    rc = table_add(t, row);
  }
  if (rc == 0)
    table_print(t, stdout);
  table_free(&t);
  return rc;
}

/* The export's bytes to stdout as they come. On a terminal, the control
 * characters a device could have put in its name (an escape sequence
 * rewriting the screen) become '?'; TAB, CR and LF, which CSV has, stay.
 * Into a file or a pipe the bytes go as the server sent them. */
static size_t to_stdout(const char *data, size_t n, void *arg) {
  const int *terminal = arg;
  if (!*terminal)
    return fwrite(data, 1, n, stdout);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)data[i];
    int bad = (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
    if (putchar(bad ? '?' : ch) == EOF)
      return 0;
  }
  return n;
}

int cmd_deployments(api_client *c, const ctl_options *o) {
  const query_param filters[] = {
      {"status", o->status},
      {"profile_id", o->profile},
      {"failure_source", o->failure_source},
      {"expires_before", o->expires_before},
      {"q", o->q},
  };
  const size_t nfilters = sizeof(filters) / sizeof(filters[0]);
  json_t *all = NULL, *next = NULL;
  int rc;

  if (o->csv) {
    char *url = query_url("/api/v1/deployments", filters, nfilters);
    int terminal = isatty(STDOUT_FILENO);
    if (url == NULL) {
      ctl_report(NULL);
      return CTL_EXIT_API;
    }
    rc = api_download(c, url, "text/csv", to_stdout, &terminal);
    free(url);
    return rc;
  }
  rc = pages_fetch_all(c, "/api/v1/deployments", filters, nfilters, "deployments", o->limit, &all,
                       &next);
  if (rc != 0)
    return rc;
  rc = pages_print(o->json, "deployments", all, next, print_table);
  json_decref(next);
  json_decref(all);
  return rc;
}
