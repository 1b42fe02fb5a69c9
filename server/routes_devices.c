/* routes_devices.c: /api/v1/devices — the admin's view of enrolled
 * devices, their deployments and the deployments' history, and the
 * resend of one deployment. */
#include "handlers.h"

#include "db_assignments.h"
#include "db_deployments.h"
#include "db_devices.h"
#include "db_worker.h"
#include "deployment_json.h"
#include "http.h"
#include "page.h"
#include "query_params.h"
#include "reply.h"
#include "state.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *text_or_null(const char *s) {
  return s[0] ? json_string(s) : json_null();
}

static json_t *device_json(const void *row) {
  const db_device *d = row;
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:i, s:i, s:i, s:i}}", "id", d->id, "serial",
                   d->serial, "name", d->name, "enrolled_at", d->enrolled_at, "last_checkin_at",
                   text_or_null(d->last_checkin_at), "counts", "pending", d->pending, "verifying",
                   d->verifying, "verified", d->verified, "failed", d->failed);
}

static json_t *device_cursor(const void *row, const void *unused) {
  const db_device *d = row;
  (void)unused;
  return page_cursor(d->enrolled_at, d->id);
}

/* Reads ?status=&profile_id=&q= into f. Returns 0, or -1 with rep set to
 * 400 naming the parameter. */
static int filter_from_request(const request *req, reply *rep, db_device_filter *f) {
  memset(f, 0, sizeof(*f));
  if (query_status(req, rep, &f->status) != 0 ||
      query_uuid(req, rep, "profile_id", &f->profile_id) != 0 ||
      query_search(req, rep, "q", DEVICE_Q_MAX, &f->q) != 0)
    return -1;
  return 0;
}

static const page_list devices_page = {"devices", sizeof(db_device), device_json, device_cursor};

/* GET /api/v1/devices?status=&profile_id=&q=&limit=&cursor= */
void devices_list(request *req, reply *rep) {
  page pg;
  db_device_filter f;
  if (page_from_request(req, rep, &pg) != 0 || filter_from_request(req, rep, &f) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_device *rows = NULL;
  int n = db_device_list(c, &f, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &devices_page, pg.limit, rows, n, NULL);
  free(rows);
}

/* GET /api/v1/devices/{id}: the device with "profiles", its deployments. */
void devices_get(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "device id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_device d;
  int rc = db_device_get(c, req->params[0], &d);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return;
  }
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No device with id %s.", req->params[0]);
    return;
  }
  db_deployment *deps = NULL;
  int n = db_deployment_list_for_device(c, req->params[0], &deps);
  if (n < 0) {
    reply_db_error(rep, n);
    return;
  }
  json_t *profiles = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(profiles, deployment_json(&deps[i]));
  free(deps);
  json_t *j = device_json(&d);
  json_object_set_new(j, "profiles", profiles);
  reply_json(rep, 200, j);
}

/* DELETE /api/v1/devices/{id} -> 204. Its deployments and token go with
 * it; their history stays. */
void devices_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "device id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_device_delete(c, req->params[0], req->who.actor);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No device with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}

/* GET /api/v1/devices/{id}/profiles/{profile_id}: one deployment. */
void deployment_get(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "device id") != 0 || param_uuid(req, rep, 1, "profile id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_deployment d;
  int rc = db_deployment_get(c, req->params[0], req->params[1], 0, &d);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "Device %s has no deployment of profile %s.",
                 req->params[0], req->params[1]);
  else
    reply_json(rep, 200, deployment_json(&d));
}

static json_t *event_json(const void *row) {
  const db_history_event *e = row;
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:s}", "at", e->at, "actor", e->actor, "event",
                   e->event, "from", text_or_null(e->from), "to", text_or_null(e->to), "generation",
                   e->generation, "detail", e->detail);
}

/* Resumes after e in the same pair's history; history_cursor_ok checks
 * that a cursor comes back with the pair's profile id. */
static json_t *event_cursor(const void *row, const void *profile_id) {
  const db_history_event *e = row;
  return page_cursor(e->id, profile_id);
}

/* The history cursor is (event id, profile id): the event id must be a
 * number and the cursor must come from this pair's history. */
static int history_cursor_ok(const page *pg, const char *profile_id) {
  if (page_key(pg) == NULL)
    return 1;
  if (strspn(pg->after_key, "0123456789") != strlen(pg->after_key) || strlen(pg->after_key) > 18)
    return 0;
  return strcasecmp(pg->after_id, profile_id) == 0;
}

static const page_list history_page = {"events", sizeof(db_history_event), event_json,
                                       event_cursor};

/* GET /api/v1/devices/{id}/profiles/{profile_id}/history?limit=&cursor=
 * Oldest first. History outlives unassignment and device deletion: 404
 * only when the pair has neither events nor a deployment. */
void deployment_history(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "device id") != 0 || param_uuid(req, rep, 1, "profile id") != 0)
    return;
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  if (!history_cursor_ok(&pg, req->params[1])) {
    reply_error(rep, ERR_INVALID_REQUEST, "cursor",
                "'cursor' is not one this history gave out; start again without it.");
    return;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_history_event *rows = NULL;
  int n = db_history_list(c, req->params[0], req->params[1], page_key(&pg), pg.limit + 1, &rows);
  if (n < 0) {
    reply_db_error(rep, n);
    return;
  }
  if (n == 0 && page_key(&pg) == NULL) {
    db_deployment d;
    int rc = db_deployment_get(c, req->params[0], req->params[1], 0, &d);
    if (rc <= 0) {
      free(rows);
      if (rc < 0)
        reply_db_error(rep, rc);
      else
        reply_errorf(rep, ERR_NOT_FOUND, NULL,
                     "Device %s has no deployment of profile %s and no history with it.",
                     req->params[0], req->params[1]);
      return;
    }
  }
  page_reply(rep, &history_page, pg.limit, rows, n, req->params[1]);
  free(rows);
}

/* POST /api/v1/devices/{id}/profiles/{profile_id}/resend -> 202 deployment: the
 * admin resend, the only way out of `failed`; a verified deployment gets a new
 * generation. */
void deployment_resend(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "device id") != 0 || param_uuid(req, rep, 1, "profile id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_deployment d;
  int rc = db_begin(c);
  if (rc == 0)
    rc = db_deployment_get(c, req->params[0], req->params[1], 1, &d);
  if (rc < 0)
    goto db_fail;
  if (rc == 0) {
    db_rollback(c);
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "Device %s has no deployment of profile %s.",
                 req->params[0], req->params[1]);
    return;
  }
  state_input in = {.from = d.status, .event = EVENT_RESEND};
  state_result r = state_decide(&in);
  if (r.outcome != OUTCOME_APPLY) {
    db_rollback(c);
    reply_errorf(rep, ERR_CONFLICT, NULL,
                 "The deployment is %s: %s. Resend applies to failed or verified deployments.",
                 state_status_name(d.status), r.reason);
    return;
  }
  db_change ch = {.from = d.status,
                  .generation = d.generation,
                  .to = r.to,
                  .event = EVENT_RESEND,
                  .actor = req->who.actor,
                  .detail = "admin resend"};
  rc = d.status == STATUS_FAILED ? db_deployment_resend_failed(c, d.device_id, d.profile_id, &ch)
                                 : db_deployment_new_generation(c, d.device_id, d.profile_id, &ch);
  if (rc < 0)
    goto db_fail;
  if ((rc = db_notify_work(c)) < 0 || (rc = db_commit(c)) != 0)
    goto db_fail;
  rc = db_deployment_get(c, d.device_id, d.profile_id, 0, &d);
  if (rc <= 0)
    goto db_fail;
  reply_json(rep, 202, deployment_json(&d));
  return;
db_fail:
  db_rollback(c);
  reply_db_error(rep, rc == 0 ? DB_HARD_ERROR : rc);
}
