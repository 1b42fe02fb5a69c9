/* routes_device_api.c: /device/v1 — enroll, send a CSR, acknowledge (the check-in:
 * routes_checkin.c). */
#include "handlers.h"

#include "auth.h"
#include "crypto.h"
#include "db_assignments.h"
#include "db_deployments.h"
#include "db_enroll.h"
#include "db_worker.h"
#include "json_body.h"
#include "log.h"
#include "ratelimit.h"
#include "renewal.h"
#include "reply.h"
#include "sha256_hex.h"
#include "state.h"
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* POST /device/v1/enroll {"enroll_secret","serial","name"} -> 201 */
void device_enroll(request *req, reply *rep) {
  json_t *secret = NULL, *serial = NULL, *name = NULL;
  const field_spec spec[] = {
      {"enroll_secret", FIELD_STRING, 1, 256, &secret},
      {"serial", FIELD_STRING, 1, 128, &serial},
      {"name", FIELD_STRING, 0, 128, &name},
  };
  char *token = NULL;
  json_t *body = NULL;
  if (auth_throttled(req, rep) != 0)
    goto out;
  body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 3, rep) != 0)
    goto out;
  const char *s = json_string_value(secret);
  char hash[65], stored[65];
  crypto_sha256_hex(s, strlen(s), hash);
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  int rc = strncmp(s, TOKEN_PREFIX_ENROLL, strlen(TOKEN_PREFIX_ENROLL)) == 0
               ? db_enroll_secret_exists(c, hash, stored)
               : 0;
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc == 0 || !crypto_equal(hash, stored, 64)) {
    ratelimit_failure(req->client_ip);
    reply_error(rep, ERR_UNAUTHORIZED, "enroll_secret",
                "Unknown enroll secret: ask an admin for one (POST /api/v1/enroll-secrets).");
    goto out;
  }
  token = crypto_random_token(TOKEN_PREFIX_DEVICE, 32);
  if (token == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  crypto_sha256_hex(token, strlen(token), hash);
  char id[40], actor[64];
  int created = 0;
  if ((rc = db_begin(c)) != 0 ||
      (rc = db_device_enroll(c, json_string_value(serial), name ? json_string_value(name) : "",
                             hash, id, &created)) < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  snprintf(actor, sizeof(actor), "device:%s", id);
  if ((rc = db_assign_profiles_to_device(c, id, actor)) < 0 || (rc = db_notify_work(c)) < 0 ||
      (rc = db_commit(c)) != 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  log_msg(LOG_INFO, "device %s (%s) %s", id, json_string_value(serial),
          created ? "enrolled" : "enrolled again; its previous token is revoked");
  reply_json(rep, 201, json_pack("{s:s, s:s}", "device_id", id, "device_token", token));
out:
  crypto_free_secret(token);
  json_decref(body);
}

/* Loads the caller's deployment of the profile in the path; 404 if none. */
static int load_own_deployment(request *req, reply *rep, db_conn **c, db_deployment *d) {
  if (param_uuid(req, rep, 0, "profile id") != 0)
    return -1;
  *c = request_db(req, rep);
  if (*c == NULL)
    return -1;
  int rc = db_deployment_get(*c, req->who.id, req->params[0], 0, d);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return -1;
  }
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL,
                 "This device has no deployment of profile %s (not assigned, or unassigned).",
                 req->params[0]);
    return -1;
  }
  return 0;
}

/* Records an event that a failed deployment ignores and answers 409. */
static void refuse_failed(request *req, reply *rep, db_conn *c, const db_deployment *d,
                          state_event ev) {
  db_change ch = {.from = STATUS_FAILED,
                  .generation = d->generation,
                  .event = ev,
                  .actor = req->who.actor,
                  .detail = "ignored: the deployment is failed until an admin resends it"};
  int rc = db_history_append(c, d->device_id, d->profile_id, &ch);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return;
  }
  reply_errorf(rep, ERR_DEPLOYMENT_FAILED, NULL,
               "The deployment has failed (%s); it stays failed until an admin resends it.",
               d->detail);
}

static json_t *ack_reply(const db_deployment *d, deployment_status status) {
  return json_pack("{s:s, s:i, s:s}", "profile_id", d->profile_id, "generation", d->generation,
                   "status", state_status_name(status));
}

/* POST /device/v1/profiles/{profile_id}/csr {"generation","csr"} -> 202 */
void device_csr(request *req, reply *rep) {
  json_t *gen = NULL, *csr = NULL;
  const field_spec spec[] = {{"generation", FIELD_INT, 1, 0, &gen},
                             {"csr", FIELD_STRING, 1, 65536, &csr}};
  char *err = NULL;
  db_conn *c;
  db_deployment d;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 2, rep) != 0)
    goto out;
  if (crypto_csr_check(json_string_value(csr), NULL, &err) != 0) {
    reply_errorf(rep, ERR_INVALID_REQUEST, "csr", "The CSR was refused: %s", err ? err : "?");
    goto out;
  }
  if (load_own_deployment(req, rep, &c, &d) != 0)
    goto out;
  if (strcmp(d.key_mode, "device") != 0 && d.status != STATUS_FAILED) {
    reply_error(rep, ERR_CONFLICT, NULL,
                "This profile uses server key mode: the server makes the key; no CSR is needed.");
    goto out;
  }
  state_input in = {.from = d.status,
                    .event = EVENT_CSR_RECEIVED,
                    .issued = d.issued_for_generation,
                    .generation_matches = json_integer_value(gen) == d.generation};
  state_result r = state_decide(&in);
  if (r.outcome == OUTCOME_IGNORED) {
    refuse_failed(req, rep, c, &d, EVENT_CSR_RECEIVED);
    goto out;
  }
  if (r.outcome == OUTCOME_REFUSED) {
    if (r.refusal == ERR_STALE_GENERATION)
      reply_errorf(rep, r.refusal, "generation",
                   "The current generation is %d, not %lld; check in again.", d.generation,
                   (long long)json_integer_value(gen));
    else
      reply_errorf(rep, r.refusal, NULL, "Refused: %s; check in.", r.reason);
    goto out;
  }
  int rc =
      db_deployment_store_csr(c, d.device_id, d.profile_id, d.generation, json_string_value(csr));
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc == 0) {
    reply_error(rep, ERR_CONFLICT, NULL,
                "The deployment changed while the CSR arrived; check in again.");
    goto out;
  }
  db_notify_work(c);
  reply_json(rep, 202, ack_reply(&d, STATUS_PENDING));
out:
  free(err);
  json_decref(body);
}

/* POST /device/v1/profiles/{profile_id}/ack
 * {"generation","result":"installed","sha256"} or {"generation","result":"error","detail"} */
void device_ack(request *req, reply *rep) {
  json_t *gen = NULL, *result = NULL, *sha = NULL, *detail = NULL;
  const field_spec spec[] = {{"generation", FIELD_INT, 1, 0, &gen},
                             {"result", FIELD_STRING, 1, 16, &result},
                             {"sha256", FIELD_STRING, 0, 64, &sha},
                             {"detail", FIELD_STRING, 0, 1024, &detail}};
  db_conn *c;
  db_deployment d;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 4, rep) != 0)
    goto out;
  int installed = strcmp(json_string_value(result), "installed") == 0;
  if (!installed && strcmp(json_string_value(result), "error") != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "result", "'result' must be 'installed' or 'error'.");
    goto out;
  }
  char hex[65] = "";
  if (installed) {
    if (sha == NULL || !sha256_hex_normal(json_string_value(sha), hex)) {
      reply_error(rep, ERR_INVALID_REQUEST, "sha256",
                  "An 'installed' acknowledgement needs 'sha256': 64 hex digits of the SHA-256 "
                  "of the DER certificate.");
      goto out;
    }
  }
  if (load_own_deployment(req, rep, &c, &d) != 0)
    goto out;
  state_event ev = installed ? EVENT_ACK_INSTALLED : EVENT_ACK_ERROR;
  state_input in = {.from = d.status,
                    .event = ev,
                    .issued = d.issued_for_generation,
                    .attempts = d.attempts,
                    .generation_matches = json_integer_value(gen) == d.generation,
                    .sha_matches =
                        installed && d.issued_for_generation && strcmp(hex, d.issued.sha256) == 0};
  state_result r = state_decide(&in);
  if (r.outcome == OUTCOME_IGNORED) {
    refuse_failed(req, rep, c, &d, ev);
    goto out;
  }
  if (r.outcome == OUTCOME_REFUSED) {
    if (r.refusal == ERR_STALE_GENERATION)
      reply_errorf(rep, r.refusal, "generation",
                   "Generation %lld is not the current one (%d); nothing changed. Check in again.",
                   (long long)json_integer_value(gen), d.generation);
    else
      reply_errorf(rep, r.refusal, installed ? "sha256" : NULL, "Refused: %s (status %s).",
                   r.reason, state_status_name(d.status));
    goto out;
  }
  if (r.outcome == OUTCOME_NOOP) {
    reply_json(rep, 200, ack_reply(&d, d.status));
    goto out;
  }
  char text[1200];
  db_change ch = {.from = d.status,
                  .generation = d.generation,
                  .to = r.to,
                  .event = ev,
                  .actor = req->who.actor,
                  .detail = r.reason,
                  .attempts = r.attempts,
                  .failure = r.failure,
                  .retry_in_seconds = -1};
  int rc;
  if (installed) {
    char renew_at[24];
    if (renewal_time_text(d.issued.not_before, d.issued.not_after, d.renew_before_days, d.device_id,
                          renew_at) != 0) {
      reply_error(rep, ERR_INTERNAL, NULL, NULL);
      goto out;
    }
    rc = db_deployment_verified(c, d.device_id, d.profile_id, &ch, renew_at);
  } else {
    snprintf(text, sizeof(text), "The device reported an install error: %s",
             detail ? json_string_value(detail) : "(no detail given)");
    ch.detail = text;
    rc = db_deployment_apply(c, d.device_id, d.profile_id, &ch);
  }
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  if (rc == 0) {
    reply_error(rep, ERR_CONFLICT, NULL,
                "The deployment changed while this acknowledgement arrived; check in again.");
    goto out;
  }
  reply_json(rep, 200, ack_reply(&d, r.to));
out:
  json_decref(body);
}
