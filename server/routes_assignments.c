/* routes_assignments.c: /api/v1/profiles/{id}/assignments — which devices get a profile. */
#include "handlers.h"

#include "db_assignments.h"
#include "db_profiles.h"
#include "db_worker.h"
#include "json_body.h"
#include "reply.h"
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>

#define ASSIGN_MAX_DEVICES 10000

/* 404 unless the profile in the path exists. */
static db_conn *profile_db(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "profile id") != 0)
    return NULL;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return NULL;
  int rc = db_profile_exists(c, req->params[0]);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return NULL;
  }
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No profile with id %s.", req->params[0]);
    return NULL;
  }
  return c;
}

/* POST {"device_ids":[...]} or {"all":true} -> {"assigned":n} */
void assignments_add(request *req, reply *rep) {
  json_t *ids = NULL, *all = NULL;
  const field_spec spec[] = {{"device_ids", FIELD_ARRAY, 0, ASSIGN_MAX_DEVICES, &ids},
                             {"all", FIELD_BOOL, 0, 0, &all}};
  const char **list = NULL;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 2, rep) != 0)
    goto out;
  if ((ids == NULL) == (all == NULL || !json_is_true(all))) {
    reply_error(rep, ERR_INVALID_REQUEST, "device_ids",
                "Send either {\"device_ids\":[...]} or {\"all\":true}.");
    goto out;
  }
  size_t n = ids ? json_array_size(ids) : 0;
  list = calloc(n ? n : 1, sizeof(*list));
  if (list == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const char *id = json_string_value(json_array_get(ids, i));
    if (!uuid_valid(id)) {
      char field[40];
      snprintf(field, sizeof(field), "device_ids[%zu]", i);
      reply_error(rep, ERR_INVALID_REQUEST, field, "Each device id must be a UUID.");
      goto out;
    }
    list[i] = id;
  }
  db_conn *c = profile_db(req, rep);
  if (c == NULL)
    goto out;
  int missing = 0;
  int rc = n > 0 ? db_devices_first_missing(c, list, (int)n, &missing) : 0;
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc == 1) {
    char field[40];
    snprintf(field, sizeof(field), "device_ids[%d]", missing);
    reply_errorf(rep, ERR_INVALID_REQUEST, field, "No enrolled device has the id %s.",
                 list[missing]);
    goto out;
  }
  rc = ids ? db_assign_devices(c, req->params[0], list, (int)n, req->who.actor)
           : db_assign_all_devices(c, req->params[0], req->who.actor);
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc > 0)
    db_notify_work(c);
  reply_json(rep, 200, json_pack("{s:i}", "assigned", rc));
out:
  free(list);
  json_decref(body);
}

/* DELETE /api/v1/profiles/{id}/assignments/{device_id} -> 204 */
void assignments_remove(request *req, reply *rep) {
  if (param_uuid(req, rep, 1, "device id") != 0)
    return;
  db_conn *c = profile_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_unassign(c, req->params[0], req->params[1], req->who.actor);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "Device %s does not have profile %s.", req->params[1],
                 req->params[0]);
  else
    reply_empty(rep, 204);
}
