/*
 * mock_state.h: what the mock CA remembers between requests: the fault
 * queue, the counters, the list of issued certificates and the injected
 * latency. Every function takes the state's mutex, so handlers on any
 * connection thread may call them.
 */
#ifndef CERTDEPLOY_MOCK_STATE_H
#define CERTDEPLOY_MOCK_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

typedef enum mock_fault_kind {
  MOCK_FAULT_STATUS,       /* reply `status` with an errors body */
  MOCK_FAULT_TIMEOUT,      /* read the request, say nothing for `seconds`, close */
  MOCK_FAULT_RESET,        /* close with a TCP reset, no reply */
  MOCK_FAULT_GARBAGE,      /* 201 with a body that is not JSON */
  MOCK_FAULT_TRUNCATED,    /* 201 with a success body cut in the middle */
  MOCK_FAULT_WRONG_FORMAT, /* 201, real certificate, "delivery_format":"pkcs7" */
  MOCK_FAULT_MISMATCH,     /* 201, a real certificate for another key */
  MOCK_FAULT_NO_SERIAL,    /* 201, real certificate, no serial_number */
} mock_fault_kind;

#define MOCK_FAULT_MESSAGE_MAX 512
#define MOCK_FAULT_TEXT_MAX 128

typedef struct mock_fault {
  mock_fault_kind kind;
  unsigned status;                       /* MOCK_FAULT_STATUS only */
  char code[MOCK_FAULT_TEXT_MAX];        /* error code; "" means by status */
  char message[MOCK_FAULT_MESSAGE_MAX];  /* error message; "" means a default */
  char retry_after[MOCK_FAULT_TEXT_MAX]; /* Retry-After value; "" for none */
  int retry_after_is_seconds;            /* 1 when given as a number ... */
  long retry_after_seconds;              /* ... which is this one */
  long seconds;                          /* MOCK_FAULT_TIMEOUT only */
  long count;                            /* requests left to serve, >= 1 */
} mock_fault;

/* Name used in JSON for a kind ("status", "timeout", "reset", ...). */
const char *mock_fault_kind_name(mock_fault_kind kind);
/* Parses a mode name; "status" is not a mode. -1 when unknown. */
int mock_fault_kind_from_mode(const char *mode, mock_fault_kind *kind);

typedef struct mock_state mock_state;

/* New empty state; latency_ms is the latency reset returns to. NULL on
 * allocation failure. */
mock_state *mock_state_new(long latency_ms);
/* Frees *state and sets it to NULL. Accepts NULL and *state == NULL. */
void mock_state_free(mock_state **state);

/* Current injected latency in milliseconds. */
long mock_state_latency(mock_state *state);
void mock_state_set_latency(mock_state *state, long ms);

/* Counts one profile request. */
void mock_state_count_profile_request(mock_state *state);

/* Counts one issue request and takes the next queued fault, if any, into
 * *fault (counting it as served). Answers 1 when a fault was taken, 0
 * when the request should be served normally. */
int mock_state_begin_issue(mock_state *state, mock_fault *fault);

/* Appends n faults to the queue (copied); -1 when the queue would grow
 * past its cap, in which case nothing is queued. */
int mock_state_queue_faults(mock_state *state, const mock_fault *faults, size_t n);
/* Empties the queue; answers how many entries were dropped. */
size_t mock_state_clear_faults(mock_state *state);

/* Records one successfully issued certificate (strings copied; upn may be
 * NULL) and counts it. -1 on allocation failure. */
int mock_state_record_issued(mock_state *state, const char *serial, const char *common_name,
                             const char *seat_id, const char *upn, time_t not_before,
                             time_t not_after);

/* Clears counters, issued list and faults; latency returns to the
 * start-up value. */
void mock_state_reset(mock_state *state);

/* JSON views (new references, NULL on allocation failure):
 * stats  {"issue_requests","issued","faults_served","profile_requests"}
 * faults [{"status"|"mode",...,"count"}] in queue order
 * issued [{"serial","common_name","seat_id","upn","not_before","not_after"}] */
json_t *mock_state_stats_json(mock_state *state);
json_t *mock_state_faults_json(mock_state *state);
json_t *mock_state_issued_json(mock_state *state);

#endif
