/* routes_deployments.c: /api/v1/deployments — every deployment of the
 * fleet, filtered, as pages of JSON. */
#include "handlers.h"

#include "db_devices.h"
#include "db_fleet.h"
#include "deployment_json.h"
#include "page.h"
#include "query_params.h"
#include "reply.h"

#include <stdlib.h>
#include <string.h>

/* The filters of one request. */
typedef struct fleet_query {
  db_fleet_filter f;
  char expires_before[QUERY_TIME_LEN]; /* f.expires_before points here */
} fleet_query;

/* Reads ?status=&profile_id=&failure_source=&expires_before=&q= into fq.
 * Returns 0, or -1 with rep set to 400 naming the parameter. */
static int filter_from_request(const request *req, reply *rep, fleet_query *fq) {
  static const char *const sources[] = {"server", "device", NULL};
  int given = 0;
  memset(fq, 0, sizeof(*fq));
  if (query_status(req, rep, &fq->f.status) != 0 ||
      query_uuid(req, rep, "profile_id", &fq->f.profile_id) != 0 ||
      query_choice(req, rep, "failure_source", sources, &fq->f.failure_source) != 0 ||
      query_time(req, rep, "expires_before", fq->expires_before, &given) != 0 ||
      query_search(req, rep, "q", DEVICE_Q_MAX, &fq->f.q) != 0)
    return -1;
  fq->f.expires_before = given ? fq->expires_before : NULL;
  return 0;
}

static json_t *fleet_json(const void *row) {
  const db_fleet_deployment *r = row;
  json_t *j = deployment_json(&r->dep);
  json_object_set_new(j, "device_serial", json_string(r->device_serial));
  json_object_set_new(j, "device_name", json_string(r->device_name));
  return j;
}

static json_t *fleet_cursor(const void *row, const void *unused) {
  const db_fleet_deployment *r = row;
  (void)unused;
  return page_cursor2(r->created_at, r->dep.device_id, r->dep.profile_id);
}

static const page_list fleet_page = {"deployments", sizeof(db_fleet_deployment), fleet_json,
                                     fleet_cursor};

/* A cursor of this list has the deployment's two ids and a time as its
 * key (page.c also accepts the history's numbers). */
static int cursor_ok(const page *pg) {
  return page_key(pg) == NULL || (page_id2(pg) != NULL && strchr(pg->after_key, 'T') != NULL);
}

/* GET /api/v1/deployments?status=&profile_id=&failure_source=
 * &expires_before=&q=&limit=&cursor= */
void deployments_list(request *req, reply *rep) {
  fleet_query fq;
  if (filter_from_request(req, rep, &fq) != 0)
    return;
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  if (!cursor_ok(&pg)) {
    reply_error(rep, ERR_INVALID_REQUEST, "cursor",
                "'cursor' is not one this list gave out; start again without it.");
    return;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_fleet_after after = {page_key(&pg), page_id(&pg), page_id2(&pg)};
  db_fleet_deployment *rows = NULL;
  int n = db_fleet_deployments(c, &fq.f, &after, pg.limit + 1, &rows);
  page_reply(rep, &fleet_page, pg.limit, rows, n, NULL);
  free(rows);
}
