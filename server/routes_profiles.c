/*
 * routes_profiles.c: /api/v1/profiles — what certificate each assigned
 * device gets. Templates are checked when a profile is saved; an edit of
 * the subject fields (common_name, user_principal_names, seat_id) starts a
 * new generation for every deployment that is not failed, in the same
 * transaction as the edit. The profile's resend acts on its deployments
 * in one status.
 */
#include "handlers.h"

#include "ca_template.h"
#include "db_assignments.h"
#include "db_deployments.h"
#include "db_profiles.h"
#include "db_worker.h"
#include "json_body.h"
#include "log.h"
#include "page.h"
#include "reply.h"
#include "state.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>

#define TEMPLATE_VARIABLES "$DEVICE_SERIAL, $DEVICE_NAME and $DEVICE_ID"

static json_t *profile_json(const void *row) {
  const db_profile *p = row;
  json_t *upns = json_array();
  if (p->has_upn)
    json_array_append_new(upns, json_string(p->upn));
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:b, s:s, s:s, "
                   "s:{s:i, s:i, s:i, s:i}}",
                   "id", p->id, "name", p->name, "ca_id", p->ca_id, "ca_name", p->ca_name,
                   "common_name", p->common_name, "user_principal_names", upns, "seat_id",
                   p->seat_id, "key_mode", p->key_mode, "renew_before_days",
                   p->renew_before_days > 0 ? json_integer(p->renew_before_days) : json_null(),
                   "assign_all", p->assign_all, "created_at", p->created_at, "updated_at",
                   p->updated_at, "counts", "pending", p->pending, "verifying", p->verifying,
                   "verified", p->verified, "failed", p->failed);
}

static json_t *profile_cursor(const void *row, const void *unused) {
  const db_profile *p = row;
  (void)unused;
  return page_cursor(p->created_at, p->id);
}

/* Checks one template; field names it in the 400 (e.g.
 * "user_principal_names[0]"). Returns 0 or -1 with rep set. */
static int check_template(reply *rep, const char *field, const char *text) {
  char *unknown = NULL;
  if (ca_template_validate(text, &unknown) == 0)
    return 0;
  if (unknown == NULL)
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
  else if (strcmp(unknown, "$") == 0)
    reply_errorf(rep, ERR_INVALID_REQUEST, field,
                 "'%s' has a '$' that does not start a variable; the allowed variables "
                 "are " TEMPLATE_VARIABLES " (write $$ for a literal $).",
                 field);
  else
    reply_errorf(
        rep, ERR_INVALID_REQUEST, field,
        "'%s' uses the unknown variable %.64s; the allowed variables are " TEMPLATE_VARIABLES
        " (write $$ for a literal $).",
        field, unknown);
  free(unknown);
  return -1;
}

/* The request's profile fields; NULL members were absent. */
typedef struct profile_input {
  json_t *name, *ca_id, *common_name, *upns, *seat_id, *key_mode, *renew, *assign_all;
  int clear_renew; /* "renew_before_days": null in a PATCH */
} profile_input;

/*
 * Parses a create (required set) or edit body into *in and checks every
 * present field: ca_id a UUID, templates with known variables only, at
 * most one UPN, key_mode, renew_before_days. Returns 0, or -1 with rep set
 * to 400 naming the field.
 */
static int parse_profile(json_t *body, int create, profile_input *in, reply *rep) {
  memset(in, 0, sizeof(*in));
  const field_spec spec[] = {
      {"name", FIELD_STRING, create, PROFILE_NAME_MAX, &in->name},
      {"ca_id", FIELD_STRING, create, 64, &in->ca_id},
      {"common_name", FIELD_STRING, create, PROFILE_TEMPLATE_MAX, &in->common_name},
      {"user_principal_names", FIELD_ARRAY, 0, 0, &in->upns},
      {"seat_id", FIELD_STRING, create, PROFILE_TEMPLATE_MAX, &in->seat_id},
      {"key_mode", FIELD_STRING, 0, 16, &in->key_mode},
      {"renew_before_days", FIELD_INT, 0, 0, &in->renew},
      {"assign_all", FIELD_BOOL, 0, 0, &in->assign_all},
  };
  in->clear_renew = json_is_null(json_object_get(body, "renew_before_days"));
  if (body_fields(body, spec, sizeof(spec) / sizeof(spec[0]), rep) != 0)
    return -1;
  if (in->ca_id != NULL && !uuid_valid(json_string_value(in->ca_id))) {
    reply_errorf(rep, ERR_INVALID_REQUEST, "ca_id", "'%.64s' is not a CA id (expected a UUID).",
                 json_string_value(in->ca_id));
    return -1;
  }
  if (in->common_name != NULL &&
      check_template(rep, "common_name", json_string_value(in->common_name)) != 0)
    return -1;
  if (in->upns != NULL) {
    if (json_array_size(in->upns) > 1) {
      reply_error(rep, ERR_INVALID_REQUEST, "user_principal_names",
                  "'user_principal_names' may hold at most one UPN: DigiCert's request carries "
                  "an array, but certdeploy puts one UPN in each certificate.");
      return -1;
    }
    size_t i;
    json_t *u;
    json_array_foreach(in->upns, i, u) {
      char field[48];
      snprintf(field, sizeof(field), "user_principal_names[%zu]", i);
      size_t len = json_is_string(u) ? json_string_length(u) : 0;
      if (len == 0 || len > PROFILE_TEMPLATE_MAX || strlen(json_string_value(u)) != len) {
        reply_errorf(rep, ERR_INVALID_REQUEST, field,
                     "'%s' must be a string of 1 to %d characters.", field, PROFILE_TEMPLATE_MAX);
        return -1;
      }
      if (check_template(rep, field, json_string_value(u)) != 0)
        return -1;
    }
  }
  if (in->seat_id != NULL && check_template(rep, "seat_id", json_string_value(in->seat_id)) != 0)
    return -1;
  if (in->key_mode != NULL && strcmp(json_string_value(in->key_mode), "server") != 0 &&
      strcmp(json_string_value(in->key_mode), "device") != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "key_mode",
                "'key_mode' must be 'server' (the server makes the key and delivers a PKCS#12) "
                "or 'device' (the device sends a CSR).");
    return -1;
  }
  if (in->renew != NULL) {
    json_int_t d = json_integer_value(in->renew);
    if (d < 1 || d > 3650) {
      reply_error(rep, ERR_INVALID_REQUEST, "renew_before_days",
                  "'renew_before_days' must be 1 to 3650, or null for the default window "
                  "(30 days, or half the validity of shorter certificates).");
      return -1;
    }
  }
  return 0;
}

/* The UPN of the input: NULL for none (absent, [] ). */
static const char *input_upn(const profile_input *in) {
  json_t *u = in->upns ? json_array_get(in->upns, 0) : NULL;
  return u ? json_string_value(u) : NULL;
}

/* Replies to a failed insert or update: 409 taken name, 400 unknown CA,
 * else the db error. */
static void reply_save_error(reply *rep, int rc, const char *sqlstate, const char *name,
                             const char *ca_id) {
  if (rc == DB_HARD_ERROR && strcmp(sqlstate, "23505") == 0)
    reply_errorf(rep, ERR_CONFLICT, "name", "A profile named '%.128s' already exists.", name);
  else if (rc == DB_HARD_ERROR && strcmp(sqlstate, "23503") == 0)
    reply_errorf(rep, ERR_INVALID_REQUEST, "ca_id", "No CA with id %.64s; create it first.", ca_id);
  else
    reply_db_error(rep, rc);
}

/* Wakes the workers after committed new work; a failure only delays it to
 * the next scheduler pass. */
static void notify_work(db_conn *c) {
  if (db_notify_work(c) != 0)
    log_msg(LOG_WARN, "could not notify workers of new work; the scheduler will pick it up");
}

/* POST /api/v1/profiles -> 201 profile (with assign_all: assigned to every
 * enrolled device in the same transaction). */
void profiles_create(request *req, reply *rep) {
  profile_input in;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || parse_profile(body, 1, &in, rep) != 0)
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  db_profile_fields f = {
      .name = json_string_value(in.name),
      .ca_id = json_string_value(in.ca_id),
      .common_name = json_string_value(in.common_name),
      .upn = input_upn(&in),
      .seat_id = json_string_value(in.seat_id),
      .key_mode = in.key_mode ? json_string_value(in.key_mode) : "server",
      .renew_before_days = in.renew ? (int)json_integer_value(in.renew) : 0,
      .assign_all = in.assign_all ? json_is_true(in.assign_all) : 0,
  };
  char id[40];
  db_profile p;
  int assigned = 0;
  int rc = db_begin(c);
  if (rc == 0) {
    rc = db_profile_insert(c, &f, id);
    if (rc < 0) {
      char state[6];
      snprintf(state, sizeof(state), "%s", db_last_sqlstate(c));
      db_rollback(c);
      reply_save_error(rep, rc, state, f.name, f.ca_id);
      goto out;
    }
  }
  if (rc >= 0 && f.assign_all)
    rc = assigned = db_assign_all_devices(c, id, req->who.actor);
  if (rc >= 0)
    rc = db_profile_get(c, id, &p);
  if (rc == 0)
    rc = DB_HARD_ERROR; /* our own insert must be visible */
  if (rc > 0)
    rc = db_commit(c);
  if (rc < 0) {
    db_rollback(c);
    reply_db_error(rep, rc);
    goto out;
  }
  if (assigned > 0)
    notify_work(c);
  reply_json(rep, 201, profile_json(&p));
out:
  json_decref(body);
}

static const page_list profiles_page = {"profiles", sizeof(db_profile), profile_json,
                                        profile_cursor};

/* GET /api/v1/profiles?limit=&cursor= */
void profiles_list(request *req, reply *rep) {
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_profile *rows = NULL;
  int n = db_profile_list(c, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &profiles_page, pg.limit, rows, n, NULL);
  free(rows);
}

/* GET /api/v1/profiles/{id} */
void profiles_get(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "profile id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_profile p;
  int rc = db_profile_get(c, req->params[0], &p);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No profile with id %s.", req->params[0]);
  else
    reply_json(rep, 200, profile_json(&p));
}

/* 1 when two optional strings differ (NULL = none). */
static int differ(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a != b;
  return strcmp(a, b) != 0;
}

/*
 * PATCH /api/v1/profiles/{id}: any of the create fields. In one
 * transaction: the profile is locked and updated; when a subject field
 * really changed, every deployment that is not failed starts a new
 * generation (db_profile_requeue); when assign_all is switched on, every
 * enrolled device gets the profile. Replies
 * {"profile","requeued","failed_untouched"}.
 */
void profiles_update(request *req, reply *rep) {
  profile_input in;
  db_profile cur, p;
  int requeued = 0, failed_untouched = 0, assigned = 0;
  json_t *body = NULL;
  if (param_uuid(req, rep, 0, "profile id") != 0)
    return;
  body = body_object(req, rep, 0);
  if (body == NULL || parse_profile(body, 0, &in, rep) != 0)
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  const char *id = req->params[0];
  int rc = db_begin(c);
  if (rc == 0)
    rc = db_profile_lock(c, id);
  if (rc > 0)
    rc = db_profile_get(c, id, &cur);
  if (rc == 0) {
    db_rollback(c);
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No profile with id %s.", id);
    goto out;
  }
  if (rc < 0)
    goto db_fail;

  db_profile_fields f = {
      .name = in.name ? json_string_value(in.name) : cur.name,
      .ca_id = in.ca_id ? json_string_value(in.ca_id) : cur.ca_id,
      .common_name = in.common_name ? json_string_value(in.common_name) : cur.common_name,
      .upn = in.upns       ? input_upn(&in)
             : cur.has_upn ? cur.upn
                           : NULL,
      .seat_id = in.seat_id ? json_string_value(in.seat_id) : cur.seat_id,
      .key_mode = in.key_mode ? json_string_value(in.key_mode) : cur.key_mode,
      .renew_before_days = in.clear_renew ? 0
                           : in.renew     ? (int)json_integer_value(in.renew)
                                          : cur.renew_before_days,
      .assign_all = in.assign_all ? json_is_true(in.assign_all) : cur.assign_all,
  };
  int subject_changed = differ(f.common_name, cur.common_name) ||
                        differ(f.upn, cur.has_upn ? cur.upn : NULL) ||
                        differ(f.seat_id, cur.seat_id);
  int any = in.name || in.ca_id || in.common_name || in.upns || in.seat_id || in.key_mode ||
            in.renew || in.clear_renew || in.assign_all;
  if (any) {
    rc = db_profile_update(c, id, &f);
    if (rc < 0) {
      char state[6];
      snprintf(state, sizeof(state), "%s", db_last_sqlstate(c));
      db_rollback(c);
      reply_save_error(rep, rc, state, f.name, f.ca_id);
      goto out;
    }
  }
  if (rc >= 0 && subject_changed)
    rc = db_profile_requeue(c, id, req->who.actor, &requeued, &failed_untouched);
  if (rc >= 0 && f.assign_all && !cur.assign_all)
    rc = assigned = db_assign_all_devices(c, id, req->who.actor);
  if (rc >= 0)
    rc = db_profile_get(c, id, &p);
  if (rc == 0)
    rc = DB_HARD_ERROR; /* locked, so still there */
  if (rc > 0)
    rc = db_commit(c);
  if (rc < 0)
    goto db_fail;
  if (requeued > 0 || assigned > 0)
    notify_work(c);
  reply_json(rep, 200,
             json_pack("{s:o, s:i, s:i}", "profile", profile_json(&p), "requeued", requeued,
                       "failed_untouched", failed_untouched));
  goto out;
db_fail:
  db_rollback(c);
  reply_db_error(rep, rc);
out:
  json_decref(body);
}

/* DELETE /api/v1/profiles/{id} -> 204; its deployments go, their history
 * stays. */
void profiles_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "profile id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_profile_delete(c, req->params[0], req->who.actor);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No profile with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}

/* POST /api/v1/profiles/{id}/resend {"status":"failed"|"verified"} -> 202 {"resent":n}:
 * the admin resend of every deployment of the profile in that status. */
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
