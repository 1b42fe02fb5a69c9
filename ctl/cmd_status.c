/* cmd_status.c: `status`, the deployment counts and the CI gate. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "check.h"
#include "output.h"
#include "query.h"

/* The counts in the order the API sends them; the first four are the
 * statuses --fail-on may name. */
static const char *const count_names[] = {
    "pending", "verifying", "verified", "failed", "failed_with_valid_certificate", "total",
};
#define GATE_STATUSES 4
#define COUNT_NAMES (sizeof(count_names) / sizeof(count_names[0]))

/* 1 when reply is the counts object (not an error body): the gate's 503
 * carries it, a 503 `unavailable` does not. */
static int is_counts(const json_t *reply) {
  if (!json_is_object(reply) || json_object_get(reply, "error") != NULL)
    return 0;
  for (size_t i = 0; i < COUNT_NAMES; i++) {
    const json_t *v = json_object_get(reply, count_names[i]);
    /* the gate and the total are required; the rest only shown */
    int required = i < GATE_STATUSES || strcmp(count_names[i], "total") == 0;
    if (!json_is_integer(v) && (v != NULL || required))
      return 0;
  }
  return 1;
}

static int print_table(const json_t *counts) {
  static const char *const headers[] = {"STATUS", "COUNT"};
  static const int right[] = {0, 1};
  table *t = table_new(2, headers, right);
  int rc = t != NULL ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < COUNT_NAMES; i++) {
    const json_t *v = json_object_get(counts, count_names[i]);
    if (v == NULL)
      continue;
    char n[32];
    snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    const char *row[] = {count_names[i], n};
    rc = table_add(t, row);
  }
  if (rc == 0)
    table_print(t, stdout);
  table_free(&t);
  return rc;
}

/* Says on stderr which listed statuses closed the gate. */
static void report_gate(const json_t *counts, const char *fail_on) {
  char line[256] = "";
  size_t used = 0;
  for (size_t i = 0; i < GATE_STATUSES; i++) {
    json_int_t n = json_integer_value(json_object_get(counts, count_names[i]));
    if (n == 0 || !check_list_has_status(fail_on, count_names[i]))
      continue;
    int w = snprintf(line + used, sizeof(line) - used, "%s%" JSON_INTEGER_FORMAT " %s",
                     used > 0 ? ", " : "", n, count_names[i]);
    if (w < 0 || (size_t)w >= sizeof(line) - used)
      break;
    used += (size_t)w;
  }
  fprintf(stderr, "certdeployctl: --fail-on %s tripped: %s\n", fail_on,
          used > 0 ? line : "the server closed the gate (HTTP 503)");
}

int cmd_status(api_client *c, const ctl_options *o) {
  int rc = CTL_EXIT_API;
  long status = 0;
  json_t *reply = NULL;
  char *err = NULL;
  const query_param params[] = {{"profile_id", o->profile}, {"fail_on", o->fail_on}};
  char *path = query_url("/api/v1/status", params, 2);

  if (path == NULL) {
    ctl_report(NULL);
    goto out;
  }
  if (api_client_request(c, "GET", path, NULL, NULL, &status, &reply, &err) != 0) {
    ctl_report(err);
    rc = CTL_EXIT_UNREACHABLE;
    goto out;
  }
  /* The gate answers 503 with the counts; any other 503 is the server's
   * own trouble (`unavailable`) and says nothing about deployments. */
  int gate_reply = status == 503 && o->fail_on != NULL;
  if (!(status == 200 || gate_reply) || !is_counts(reply)) {
    rc = api_call_failed(c, status, reply);
    goto out;
  }
  if (o->json)
    output_json(reply);
  else if (print_table(reply) != 0) {
    ctl_report(NULL);
    goto out;
  }
  rc = CTL_EXIT_OK;
  if (o->fail_on == NULL)
    goto out;
  /* Also counted here, so that a server that ignores fail_on cannot open
   * the gate by mistake. */
  int tripped = gate_reply;
  for (size_t i = 0; i < GATE_STATUSES; i++)
    if (check_list_has_status(o->fail_on, count_names[i]) &&
        json_integer_value(json_object_get(reply, count_names[i])) != 0)
      tripped = 1;
  if (tripped) {
    report_gate(reply, o->fail_on);
    rc = CTL_EXIT_GATE;
  }
out:
  json_decref(reply);
  free(path);
  free(err);
  return rc;
}
