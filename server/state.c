/* state.c: the deployment state machine (see the table in DESIGN.md). */
#include "state.h"

#include <string.h>

static const char *const status_names[STATUS_COUNT] = {"pending", "verifying", "verified",
                                                       "failed"};
static const char *const event_names[EVENT_COUNT] = {
#define X(name, text) [name] = text,
    STATE_EVENTS(X)
#undef X
};

const char *state_status_name(deployment_status s) {
  return (s >= 0 && s < STATUS_COUNT) ? status_names[s] : "none";
}

deployment_status state_status_parse(const char *name) {
  for (int i = 0; i < STATUS_COUNT; i++)
    if (name && strcmp(name, status_names[i]) == 0)
      return (deployment_status)i;
  return STATUS_NONE;
}

const char *state_event_name(state_event e) {
  return (e >= 0 && e < EVENT_COUNT) ? event_names[e] : "unknown";
}

const char *state_failure_name(failure_source f) {
  return f == FAILURE_SERVER ? "server" : f == FAILURE_DEVICE ? "device" : NULL;
}

static state_result apply(const state_input *in, deployment_status to, const char *reason) {
  state_result r = {.outcome = OUTCOME_APPLY,
                    .to = to,
                    .attempts = in->attempts,
                    .refusal = ERR_CONFLICT,
                    .reason = reason};
  return r;
}

static state_result bump(deployment_status to, const char *reason) {
  state_result r = {.outcome = OUTCOME_APPLY,
                    .to = to,
                    .new_generation = 1,
                    .attempts = 0,
                    .clear_issue = 1,
                    .refusal = ERR_CONFLICT,
                    .reason = reason};
  return r;
}

static state_result fail(const state_input *in, failure_source who, int attempts,
                         const char *reason) {
  state_result r = apply(in, STATUS_FAILED, reason);
  r.failure = who;
  r.attempts = attempts;
  return r;
}

static state_result other(const state_input *in, state_outcome o, api_error_code e,
                          const char *reason) {
  state_result r = {
      .outcome = o, .to = in->from, .attempts = in->attempts, .refusal = e, .reason = reason};
  return r;
}

/* Sticky failure: everything but a resend is recorded and ignored. */
static state_result on_failed(const state_input *in) {
  if (in->event == EVENT_RESEND)
    return bump(STATUS_PENDING, "admin resend");
  if (in->event == EVENT_ASSIGN)
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "already assigned");
  return other(in, OUTCOME_IGNORED, ERR_DEPLOYMENT_FAILED,
               "ignored: the deployment is failed until an admin resends it");
}

static state_result on_ca_outcome(const state_input *in) {
  if (in->from != STATUS_PENDING || in->issued)
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "no CA request is outstanding");
  switch (in->event) {
  case EVENT_CA_ISSUED:
    return apply(in, STATUS_PENDING, "certificate issued, awaiting delivery");
  case EVENT_CA_PERMANENT:
    return fail(in, FAILURE_SERVER, in->attempts + 1, "the CA refused the request");
  default: /* EVENT_CA_TRANSIENT */
    if (in->attempts + 1 >= in->max_attempts)
      return fail(in, FAILURE_SERVER, in->attempts + 1, "the CA kept failing; no attempts left");
    state_result r = apply(in, STATUS_PENDING, "transient CA error; will retry");
    r.attempts = in->attempts + 1;
    return r;
  }
}

static state_result on_ack(const state_input *in) {
  if (!in->generation_matches)
    return other(in, OUTCOME_REFUSED, ERR_STALE_GENERATION, "acknowledgement of an old generation");
  if (in->event == EVENT_ACK_ERROR) {
    if (in->from == STATUS_PENDING || in->from == STATUS_VERIFYING)
      return fail(in, FAILURE_DEVICE, in->attempts, "the device reported an install error");
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "the certificate is already verified");
  }
  if (in->from == STATUS_VERIFIED && in->sha_matches)
    return other(in, OUTCOME_NOOP, ERR_CONFLICT, "already verified");
  if (in->from != STATUS_VERIFYING)
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "nothing was delivered for this generation");
  if (!in->sha_matches)
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT,
                 "the SHA-256 is not the one of the certificate delivered");
  return apply(in, STATUS_VERIFIED, "the device confirmed the certificate");
}

state_result state_decide(const state_input *in) {
  if (in->from == STATUS_NONE) {
    if (in->event == EVENT_ASSIGN) {
      state_result r = bump(STATUS_PENDING, "profile assigned");
      r.new_generation = 0; /* starts at generation 1 */
      return r;
    }
    return other(in, OUTCOME_REFUSED, ERR_NOT_FOUND, "no such deployment");
  }
  if (in->from == STATUS_FAILED)
    return on_failed(in);
  switch (in->event) {
  case EVENT_ASSIGN:
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "already assigned");
  case EVENT_CA_ISSUED:
  case EVENT_CA_TRANSIENT:
  case EVENT_CA_PERMANENT:
    return on_ca_outcome(in);
  case EVENT_DELIVERED:
    if (in->from == STATUS_VERIFYING)
      return apply(in, STATUS_VERIFYING, "delivered again");
    if (in->from == STATUS_PENDING && in->issued)
      return apply(in, STATUS_VERIFYING, "delivered at check-in");
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "nothing to deliver");
  case EVENT_ACK_INSTALLED:
  case EVENT_ACK_ERROR:
    return on_ack(in);
  case EVENT_INVENTORY_MATCH:
    if (in->from == STATUS_VERIFYING && in->sha_matches)
      return apply(in, STATUS_VERIFIED, "the device's inventory holds the certificate");
    return other(in, OUTCOME_NOOP, ERR_CONFLICT, "inventory changes nothing");
  case EVENT_RENEWAL_DUE:
    if (in->from == STATUS_VERIFIED)
      return bump(STATUS_PENDING, "renewal due");
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT, "only a verified certificate is renewed");
  case EVENT_PROFILE_EDITED:
    return bump(STATUS_PENDING, "profile subject edited");
  case EVENT_CSR_RECEIVED:
    if (!in->generation_matches)
      return other(in, OUTCOME_REFUSED, ERR_STALE_GENERATION, "CSR for an old generation");
    if (in->from == STATUS_PENDING && !in->issued)
      return apply(in, STATUS_PENDING, "the device sent its CSR");
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT,
                 "a certificate for this generation is already issued or on its way");
  case EVENT_RESEND:
    if (in->from == STATUS_VERIFIED)
      return bump(STATUS_PENDING, "admin resend");
    return other(in, OUTCOME_REFUSED, ERR_CONFLICT,
                 "a certificate is already on its way; resend once it is verified or failed");
  case EVENT_COUNT:
    break;
  }
  return other(in, OUTCOME_REFUSED, ERR_INTERNAL, "unknown event");
}
