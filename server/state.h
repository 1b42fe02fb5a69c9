/*
 * state.h: the deployment state machine, as pure functions.
 *
 * One deployment is one (device, profile) pair. state_decide() says what
 * an event does to a deployment; the caller applies the result in one
 * database transaction together with a history row. The database trigger
 * deployments_guard (db/schema/0002_deployments.sql) enforces the same
 * table, so a bug here cannot take a deployment out of `failed`.
 *
 * The rule the product exists for: a failure is sticky. Every event on a
 * failed deployment other than an admin resend is IGNORED: recorded in
 * history, nothing else changes.
 */
#ifndef CERTDEPLOY_STATE_H
#define CERTDEPLOY_STATE_H

#include "errors.h"

typedef enum deployment_status {
  STATUS_NONE = -1, /* no deployment yet (before assignment) */
  STATUS_PENDING = 0,
  STATUS_VERIFYING,
  STATUS_VERIFIED,
  STATUS_FAILED,
  STATUS_COUNT
} deployment_status;

typedef enum failure_source { FAILURE_NONE = 0, FAILURE_SERVER, FAILURE_DEVICE } failure_source;

#define STATE_EVENTS(X)                                                                            \
  X(EVENT_ASSIGN, "assigned")                                                                      \
  X(EVENT_CA_ISSUED, "ca_issued")                                                                  \
  X(EVENT_DELIVERED, "delivered")                                                                  \
  X(EVENT_ACK_INSTALLED, "ack_installed")                                                          \
  X(EVENT_INVENTORY_MATCH, "inventory_match")                                                      \
  X(EVENT_CA_TRANSIENT, "ca_transient_error")                                                      \
  X(EVENT_CA_PERMANENT, "ca_permanent_error")                                                      \
  X(EVENT_ACK_ERROR, "ack_error")                                                                  \
  X(EVENT_RENEWAL_DUE, "renewal_due")                                                              \
  X(EVENT_PROFILE_EDITED, "profile_edited")                                                        \
  X(EVENT_RESEND, "resend")                                                                        \
  X(EVENT_CSR_RECEIVED, "csr_received")

typedef enum state_event {
#define X(name, text) name,
  STATE_EVENTS(X)
#undef X
      EVENT_COUNT
} state_event;

typedef enum state_outcome {
  OUTCOME_APPLY,   /* change the deployment and append history */
  OUTCOME_NOOP,    /* nothing to change, nothing to record (e.g. a repeated ack) */
  OUTCOME_IGNORED, /* the deployment is failed: append an "ignored" history row only */
  OUTCOME_REFUSED, /* not applicable now: change nothing; `refusal` says why */
} state_outcome;

/* What the caller knows about the deployment when the event arrives. */
typedef struct state_input {
  deployment_status from;
  state_event event;
  int issued;             /* a certificate is issued for the current generation */
  int attempts;           /* CA requests already made for this generation */
  int max_attempts;       /* CERTDEPLOY_RETRY_MAX_ATTEMPTS */
  int generation_matches; /* acks, CSRs: the device's generation is the current one */
  int sha_matches;        /* acks, inventory: the SHA-256 is the issued certificate's */
} state_input;

typedef struct state_result {
  state_outcome outcome;
  deployment_status to;   /* the status after the event (= from unless APPLY) */
  int new_generation;     /* APPLY: the generation grows by one */
  int attempts;           /* APPLY: attempts to store */
  int clear_issue;        /* APPLY: forget the issued certificate (new generation) */
  failure_source failure; /* APPLY to failed: who failed */
  api_error_code refusal; /* REFUSED or IGNORED: the error a request gets */
  const char *reason;     /* short, for history and errors */
} state_result;

/* Decides what `in->event` does. Pure: same input, same result. */
state_result state_decide(const state_input *in);

/* Wire names: "pending", ...; "none" for STATUS_NONE. */
const char *state_status_name(deployment_status s);
/* Parses a status name; STATUS_NONE when unknown. */
deployment_status state_status_parse(const char *name);
/* Event name for history ("ca_issued"). */
const char *state_event_name(state_event e);
/* "server", "device" or NULL. */
const char *state_failure_name(failure_source f);

#endif
