/*
 * routes_checkin.c: POST /device/v1/checkin, the busiest request.
 *
 * A check-in is one read, and writes only when it changes something. Its
 * steps, in the order it takes them, each named by the one before
 * (request.next, request.h; docs/threads.md follows it across threads):
 *
 *   device_checkin     connection thread  the router checked the token's form
 *                                         (auth_device_token): hold it back
 *   checkin_start      connection thread  hand the read (the token's device and
 *                                         its deployments) to the reads' thread
 *   checkin_read_back  reads' thread      the rows are in: resume the request
 *   checkin_finish     connection thread  authenticate, read the inventory; the
 *                                         answer here, or on a handler thread
 *                                         when it writes
 *   checkin_answer     either             record the inventory's reports,
 *                                         deliver, reply
 *
 * The decisions and transitions those steps make come first.
 */
#include "handlers.h"

#include "app.h"
#include "auth.h"
#include "ca_template.h"
#include "checkin_inventory.h"
#include "db_deployments.h"
#include "delivery.h"
#include "http.h"
#include "json_text.h"
#include "json_wipe.h"
#include "renewal.h"
#include "reply.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* d as a transition this check-in applied left it, for the reply. */
static void deployment_now(db_deployment *d, deployment_status status, const char *detail) {
  d->status = status;
  snprintf(d->detail, sizeof(d->detail), "%s", detail ? detail : "");
}

/* The device reports d's certificate as sha: 1 when the report is
 * recorded (the decision in *r), 0 when there is nothing to record (an
 * older or foreign certificate, or a state the report does not change). */
static int inventory_decide(const db_deployment *d, const char *sha, state_result *r) {
  state_input in = {.from = d->status,
                    .event = EVENT_INVENTORY_MATCH,
                    .issued = d->issued_for_generation,
                    .sha_matches = d->issued_for_generation && strcmp(sha, d->issued.sha256) == 0};
  if (!in.sha_matches)
    return 0;
  *r = state_decide(&in);
  return r->outcome == OUTCOME_IGNORED || r->outcome == OUTCOME_APPLY;
}

/* The device reports a certificate: it confirms delivery when it is the
 * one issued for this generation. Failed deployments only get a history
 * row: an inventory report never revives them. */
static int apply_inventory(request *req, reply *rep, db_deployment *d, const char *sha) {
  state_result r;
  if (!inventory_decide(d, sha, &r))
    return 0;
  db_change ch = {.from = d->status,
                  .generation = d->generation,
                  .to = r.to,
                  .event = EVENT_INVENTORY_MATCH,
                  .actor = req->who.actor,
                  .detail = r.reason};
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return DB_SOFT_ERROR;
  if (r.outcome == OUTCOME_IGNORED)
    return db_history_append(c, d->device_id, d->profile_id, &ch);
  char renew_at[24];
  if (renewal_time_text(d->issued.not_before, d->issued.not_after, d->renew_before_days,
                        d->device_id, renew_at) != 0)
    return DB_HARD_ERROR;
  int rc = db_deployment_verified(c, d->device_id, d->profile_id, &ch, renew_at);
  if (rc == 1)
    deployment_now(d, STATUS_VERIFIED, r.reason);
  return rc < 0 ? rc : 0;
}

static char *expand_common_name(const request *req, const db_deployment *d) {
  ca_template_vars vars = {req->who.name, req->who.device_name, req->who.id};
  char *out = NULL, *unknown = NULL;
  if (ca_template_expand(d->common_name, &vars, &out, &unknown) != 0) {
    free(unknown);
    return strdup(d->common_name);
  }
  return out;
}

/* 1 when the check-in delivers d's certificate (the decision in *r):
 * one is issued for its generation and it is pending or verifying. */
static int delivery_decide(const db_deployment *d, state_result *r) {
  if (d->status == STATUS_PENDING && !d->issued_for_generation)
    return 0;
  state_input in = {
      .from = d->status, .event = EVENT_DELIVERED, .issued = d->issued_for_generation};
  *r = state_decide(&in);
  return r->outcome == OUTCOME_APPLY; /* not when verified or failed */
}

/* One deployment's action at a check-in: "none", "submit_csr", or
 * "install" with the delivery's fields in *install (which the caller
 * frees, on error too); delivery moves pending (issued) and verifying to
 * verifying. Returns 0 or a DB_*_ERROR. */
static int checkin_action(request *req, reply *rep, db_deployment *d, const char **action,
                          json_t **install) {
  state_result r;
  *action = "none";
  *install = NULL;
  if (!delivery_decide(d, &r)) {
    if (d->status == STATUS_PENDING && !d->issued_for_generation &&
        strcmp(d->key_mode, "device") == 0 && !d->csr_for_generation)
      *action = "submit_csr";
    return 0;
  }
  db_change ch = {.from = d->status,
                  .generation = d->generation,
                  .to = r.to,
                  .event = EVENT_DELIVERED,
                  .actor = req->who.actor,
                  .detail = r.reason,
                  .attempts = d->attempts,
                  .retry_in_seconds = -1};
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return DB_SOFT_ERROR;
  int changed = db_deployment_apply(c, d->device_id, d->profile_id, &ch);
  if (changed <= 0)
    return changed; /* 0: raced with another change, deliver at the next check-in */
  deployment_now(d, r.to, r.reason);
  *install = json_object();
  int drc = *install ? delivery_add_install(req->app, c, d, *install) : DB_HARD_ERROR;
  if (drc == DELIVERY_ADDED) {
    *action = "install";
    return 0;
  }
  json_wipe_decref(*install); /* what was added before it failed: not for an "action":"none" */
  *install = NULL;
  return drc == DELIVERY_NOT_INSTALLABLE ? 0 : drc; /* no install this time */
}

/* Writes one deployment's entry of the check-in reply into w:
 *   {"profile_id","generation","action","status","detail","common_name"
 *    [,delivery's fields]}
 * status and detail are the deployment's after this check-in's own
 * transitions, so a device can tell a failure (sticky, with the reason)
 * from work still pending. Returns 0 or a DB_*_ERROR. */
static int checkin_entry(request *req, reply *rep, db_deployment *d, json_writer *w) {
  const char *action;
  json_t *install;
  int rc = checkin_action(req, rep, d, &action, &install);
  if (rc == 0) {
    char *cn = expand_common_name(req, d);
    json_write_raw(w, "{\"profile_id\":", 14);
    json_write_string(w, d->profile_id);
    json_write_raw(w, ",\"generation\":", 14);
    json_write_int(w, d->generation);
    json_write_raw(w, ",\"action\":", 10);
    json_write_string(w, action);
    json_write_raw(w, ",\"status\":", 10);
    json_write_string(w, state_status_name(d->status));
    json_write_raw(w, ",\"detail\":", 10);
    json_write_string(w, d->detail);
    json_write_raw(w, ",\"common_name\":", 15);
    json_write_string(w, cn ? cn : "");
    if (install != NULL)
      json_write_members(w, install);
    json_write_raw(w, "}", 1);
    free(cn);
  }
  json_wipe_decref(install); /* a PKCS#12 and its password */
  return rc;
}

/* A check-in while held back: its read, then the device's inventory. */
typedef struct checkin {
  db_checkin read;
  inventory inv;
} checkin;

static void checkin_free(void *state) {
  checkin *ck = state;
  db_checkin_release(&ck->read);
  inventory_release(&ck->inv);
  free(ck);
}

/* Whether answering writes: an inventory report to record or a
 * certificate to deliver. Most check-ins change nothing. */
static int checkin_writes(const checkin *ck) {
  state_result r;
  for (int k = 0; k < ck->read.count; k++) {
    const db_deployment *d = &ck->read.rows[k];
    if (delivery_decide(d, &r))
      return 1;
    for (size_t i = 0; i < ck->inv.count; i++)
      if (strcmp(ck->inv.items[i].profile_id, d->profile_id) == 0 &&
          inventory_decide(d, ck->inv.items[i].sha256, &r))
        return 1;
  }
  return 0;
}

/* The steps, in order. */
static void checkin_start(request *req);
static void checkin_read_back(void *req);
static void checkin_finish(request *req, reply *rep);
static void checkin_answer(request *req, reply *rep);

/* POST /device/v1/checkin {"installed":[{"profile_id","sha256"}]}: one
 * round trip finds the token's device (authentication) and its
 * deployments; no HTTP thread waits for it, and only a check-in that
 * writes waits on PostgreSQL again, on a handler thread. */
void device_checkin(request *req, reply *rep) {
  checkin *ck = calloc(1, sizeof(*ck));
  if (ck == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    return;
  }
  request_defer(req, ck, checkin_free, checkin_start, checkin_finish);
}

/* Held back now: the read goes to the reads' thread (db_async.h). */
static void checkin_start(request *req) {
  checkin *ck = req->state;
  db_device_checkin_read(req->app->reads, req->token_hash, &ck->read, checkin_read_back, req);
}

/* On the reads' thread (or here, when the read cannot start). */
static void checkin_read_back(void *req) {
  request_resume(req);
}

/* The read is back, on a connection thread: authentication and the
 * inventory, then the answer, on a handler thread when it writes
 * (request_offload), or here. */
static void checkin_finish(request *req, reply *rep) {
  checkin *ck = req->state;
  if (auth_device_accept(req, rep, req->token_hash, ck->read.found, &ck->read.dev) != 0 ||
      checkin_inventory_read(req, rep, &ck->inv) != 0)
    return;
  if (checkin_writes(ck))
    request_offload(req, checkin_answer);
  else
    checkin_answer(req, rep);
}

/* The inventory's reports recorded, the actions and the answer. */
static void checkin_answer(request *req, reply *rep) {
  json_writer w = {NULL, 0, 0, 1};
  checkin *ck = req->state;
  int rc;
  json_writer_init(&w);
  json_write_raw(&w, "{\"profiles\":[", 13);
  for (int k = 0; k < ck->read.count; k++) {
    db_deployment *d = &ck->read.rows[k];
    for (size_t i = 0; i < ck->inv.count; i++) {
      if (strcmp(ck->inv.items[i].profile_id, d->profile_id) != 0)
        continue;
      if ((rc = apply_inventory(req, rep, d, ck->inv.items[i].sha256)) < 0) {
        reply_db_error(rep, rc);
        goto out;
      }
    }
    if (k > 0)
      json_write_raw(&w, ",", 1);
    if ((rc = checkin_entry(req, rep, d, &w)) < 0) {
      reply_db_error(rep, rc);
      goto out;
    }
  }
  json_write_raw(&w, "]}", 2);
  reply_json_written(rep, 200, &w);
out:
  json_writer_discard(&w);
}
