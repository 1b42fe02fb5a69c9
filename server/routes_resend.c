/* routes_resend.c: the admin resend, the only way out of `failed`. */
#include "handlers.h"

#include "db_assignments.h"
#include "db_deployments.h"
#include "deployment_json.h"
#include "json_body.h"
#include "reply.h"
#include "state.h"
#include "uuid.h"

#include <string.h>

/* POST /api/v1/devices/{id}/profiles/{profile_id}/resend -> 202 deployment */
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

/* POST /api/v1/profiles/{id}/resend {"status":"failed"|"verified"} -> 202 {"resent":n} */
void profile_resend(request *req, reply *rep) {
  json_t *status = NULL;
  const field_spec spec[] = {{"status", FIELD_STRING, 1, 16, &status}};
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 1, rep) != 0)
    goto out;
  deployment_status s = state_status_parse(json_string_value(status));
  if (s != STATUS_FAILED && s != STATUS_VERIFIED) {
    reply_error(rep, ERR_INVALID_REQUEST, "status",
                "'status' must be 'failed' or 'verified': pending and verifying deployments are "
                "already on their way.");
    goto out;
  }
  if (param_uuid(req, rep, 0, "profile id") != 0)
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  int rc = db_profile_exists(c, req->params[0]);
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No profile with id %s.", req->params[0]);
    goto out;
  }
  if (rc > 0)
    rc = db_profile_resend(c, req->params[0], s, req->who.actor);
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc > 0)
    db_notify_work(c);
  reply_json(rep, 202, json_pack("{s:i}", "resent", rc));
out:
  json_decref(body);
}
