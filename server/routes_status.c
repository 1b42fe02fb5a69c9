/* routes_status.c: /api/v1/status — deployment counts for dashboards and
 * the CI gate (fail_on answers 503 while a listed status is non-zero). */
#include "handlers.h"

#include "db_status.h"
#include "http.h"
#include "reply.h"
#include "state.h"
#include "uuid.h"

#include <stdio.h>
#include <string.h>

#define FAIL_ON_MAX 256 /* bytes of ?fail_on= */

/* Parses the comma-separated status names of ?fail_on= into want[]
 * (spaces around names and empty items are ignored). Returns 0, or -1
 * with rep set to 400 naming the unknown ones. */
static int parse_fail_on(const char *text, int want[STATUS_COUNT], reply *rep) {
  char unknown[2 * FAIL_ON_MAX] = "";
  size_t len = strlen(text);
  json_t *utf8 = json_string(text); /* NULL unless valid UTF-8 */
  json_decref(utf8);
  if (len > FAIL_ON_MAX || utf8 == NULL) {
    reply_errorf(rep, ERR_INVALID_REQUEST, "fail_on",
                 "'fail_on' must be UTF-8 status names of at most %d bytes.", FAIL_ON_MAX);
    return -1;
  }
  for (const char *p = text; p <= text + len;) {
    size_t n = strcspn(p, ",");
    const char *name = p;
    p += n + 1;
    while (n > 0 && name[0] == ' ')
      name++, n--;
    while (n > 0 && name[n - 1] == ' ')
      n--;
    if (n == 0)
      continue;
    char buf[FAIL_ON_MAX + 1];
    memcpy(buf, name, n);
    buf[n] = '\0';
    deployment_status s = state_status_parse(buf);
    if (s != STATUS_NONE) {
      want[s] = 1;
    } else {
      size_t used = strlen(unknown);
      int w = snprintf(unknown + used, sizeof(unknown) - used, "%s'%s'", used ? ", " : "", buf);
      if (w < 0 || (size_t)w >= sizeof(unknown) - used)
        break; /* cannot happen: each name is at most len bytes */
    }
  }
  if (unknown[0]) {
    reply_errorf(rep, ERR_INVALID_REQUEST, "fail_on",
                 "'fail_on' names unknown statuses: %s; use pending, verifying, verified, failed.",
                 unknown);
    return -1;
  }
  return 0;
}

/* GET /api/v1/status?profile_id=&fail_on=failed,pending */
void status_get(request *req, reply *rep) {
  const char *profile_id = request_query(req, "profile_id");
  if (profile_id != NULL && !uuid_valid(profile_id)) {
    reply_error(rep, ERR_INVALID_REQUEST, "profile_id", "'profile_id' must be a UUID.");
    return;
  }
  int want[STATUS_COUNT] = {0};
  const char *fail_on = request_query(req, "fail_on");
  if (fail_on != NULL && parse_fail_on(fail_on, want, rep) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_status s;
  int rc = db_status_counts(c, profile_id, &s);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return;
  }
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, "profile_id", "No profile with id %s.", profile_id);
    return;
  }
  const long long by_status[STATUS_COUNT] = {
      [STATUS_PENDING] = s.pending,
      [STATUS_VERIFYING] = s.verifying,
      [STATUS_VERIFIED] = s.verified,
      [STATUS_FAILED] = s.failed,
  };
  int gate_closed = 0;
  for (int i = 0; i < STATUS_COUNT; i++)
    if (want[i] && by_status[i] != 0)
      gate_closed = 1;
  reply_json(rep, gate_closed ? 503 : 200,
             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "pending", (json_int_t)s.pending,
                       "verifying", (json_int_t)s.verifying, "verified", (json_int_t)s.verified,
                       "failed", (json_int_t)s.failed, "failed_with_valid_certificate",
                       (json_int_t)s.failed_with_valid_certificate, "total", (json_int_t)s.total));
}
