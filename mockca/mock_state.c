/*
 * mock_state.c: fault queue, counters and issued list (see mock_state.h).
 */
#include "mock_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUED_FAULTS 10000

typedef struct issued_entry {
  char *serial;
  char *common_name;
  char *seat_id;
  char *upn; /* NULL when the request had none */
  time_t not_before;
  time_t not_after;
} issued_entry;

struct mock_state {
  pthread_mutex_t lock;
  long start_latency_ms;
  long latency_ms;
  long issue_requests;
  long issued;
  long faults_served;
  long profile_requests;
  mock_fault *faults; /* queue, head at index 0 */
  size_t n_faults;
  issued_entry *entries;
  size_t n_entries;
  size_t cap_entries;
};

static const char *const kind_names[] = {
    [MOCK_FAULT_STATUS] = "status",       [MOCK_FAULT_TIMEOUT] = "timeout",
    [MOCK_FAULT_RESET] = "reset",         [MOCK_FAULT_GARBAGE] = "garbage",
    [MOCK_FAULT_TRUNCATED] = "truncated", [MOCK_FAULT_WRONG_FORMAT] = "wrong_format",
    [MOCK_FAULT_MISMATCH] = "mismatch",   [MOCK_FAULT_NO_SERIAL] = "no_serial",
};

const char *mock_fault_kind_name(mock_fault_kind kind) {
  return kind_names[kind];
}

int mock_fault_kind_from_mode(const char *mode, mock_fault_kind *kind) {
  for (size_t i = MOCK_FAULT_TIMEOUT; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
    if (strcmp(mode, kind_names[i]) == 0) {
      *kind = (mock_fault_kind)i;
      return 0;
    }
  }
  return -1;
}

mock_state *mock_state_new(long latency_ms) {
  mock_state *state = calloc(1, sizeof(*state));
  if (state == NULL) {
    return NULL;
  }
  if (pthread_mutex_init(&state->lock, NULL) != 0) {
    free(state);
    return NULL;
  }
  state->start_latency_ms = latency_ms;
  state->latency_ms = latency_ms;
  return state;
}

static void entries_clear(mock_state *state) {
  for (size_t i = 0; i < state->n_entries; i++) {
    free(state->entries[i].serial);
    free(state->entries[i].common_name);
    free(state->entries[i].seat_id);
    free(state->entries[i].upn);
  }
  free(state->entries);
  state->entries = NULL;
  state->n_entries = 0;
  state->cap_entries = 0;
}

void mock_state_free(mock_state **state) {
  if (state == NULL || *state == NULL) {
    return;
  }
  entries_clear(*state);
  free((*state)->faults);
  pthread_mutex_destroy(&(*state)->lock);
  free(*state);
  *state = NULL;
}

long mock_state_latency(mock_state *state) {
  long ms;
  pthread_mutex_lock(&state->lock);
  ms = state->latency_ms;
  pthread_mutex_unlock(&state->lock);
  return ms;
}

void mock_state_set_latency(mock_state *state, long ms) {
  pthread_mutex_lock(&state->lock);
  state->latency_ms = ms;
  pthread_mutex_unlock(&state->lock);
}

void mock_state_count_profile_request(mock_state *state) {
  pthread_mutex_lock(&state->lock);
  state->profile_requests++;
  pthread_mutex_unlock(&state->lock);
}

int mock_state_begin_issue(mock_state *state, mock_fault *fault) {
  int taken = 0;
  pthread_mutex_lock(&state->lock);
  state->issue_requests++;
  if (state->n_faults > 0) {
    *fault = state->faults[0];
    fault->count = 1;
    state->faults_served++;
    taken = 1;
    if (--state->faults[0].count <= 0) {
      state->n_faults--;
      memmove(state->faults, state->faults + 1, state->n_faults * sizeof(*state->faults));
    }
  }
  pthread_mutex_unlock(&state->lock);
  return taken;
}

int mock_state_queue_faults(mock_state *state, const mock_fault *faults, size_t n) {
  int rc = -1;
  pthread_mutex_lock(&state->lock);
  if (n <= MAX_QUEUED_FAULTS && state->n_faults + n <= MAX_QUEUED_FAULTS) {
    mock_fault *grown = realloc(state->faults, (state->n_faults + n) * sizeof(*grown));
    if (grown != NULL) {
      memcpy(grown + state->n_faults, faults, n * sizeof(*faults));
      state->faults = grown;
      state->n_faults += n;
      rc = 0;
    }
  }
  pthread_mutex_unlock(&state->lock);
  return rc;
}

size_t mock_state_clear_faults(mock_state *state) {
  size_t n;
  pthread_mutex_lock(&state->lock);
  n = state->n_faults;
  free(state->faults);
  state->faults = NULL;
  state->n_faults = 0;
  pthread_mutex_unlock(&state->lock);
  return n;
}

int mock_state_record_issued(mock_state *state, const char *serial, const char *common_name,
                             const char *seat_id, const char *upn, time_t not_before,
                             time_t not_after) {
  issued_entry e;
  int rc = -1;

  e.serial = strdup(serial);
  e.common_name = strdup(common_name);
  e.seat_id = strdup(seat_id);
  e.upn = upn != NULL ? strdup(upn) : NULL;
  e.not_before = not_before;
  e.not_after = not_after;
  if (e.serial == NULL || e.common_name == NULL || e.seat_id == NULL ||
      (upn != NULL && e.upn == NULL)) {
    goto out;
  }
  pthread_mutex_lock(&state->lock);
  if (state->n_entries == state->cap_entries) {
    size_t cap = state->cap_entries == 0 ? 64 : state->cap_entries * 2;
    issued_entry *grown = realloc(state->entries, cap * sizeof(*grown));
    if (grown == NULL) {
      pthread_mutex_unlock(&state->lock);
      goto out;
    }
    state->entries = grown;
    state->cap_entries = cap;
  }
  state->entries[state->n_entries++] = e;
  state->issued++;
  pthread_mutex_unlock(&state->lock);
  return 0;
out:
  free(e.serial);
  free(e.common_name);
  free(e.seat_id);
  free(e.upn);
  return rc;
}

void mock_state_reset(mock_state *state) {
  pthread_mutex_lock(&state->lock);
  state->issue_requests = 0;
  state->issued = 0;
  state->faults_served = 0;
  state->profile_requests = 0;
  state->latency_ms = state->start_latency_ms;
  free(state->faults);
  state->faults = NULL;
  state->n_faults = 0;
  entries_clear(state);
  pthread_mutex_unlock(&state->lock);
}

json_t *mock_state_stats_json(mock_state *state) {
  json_t *j;
  pthread_mutex_lock(&state->lock);
  j = json_pack("{s:I,s:I,s:I,s:I}", "issue_requests", (json_int_t)state->issue_requests, "issued",
                (json_int_t)state->issued, "faults_served", (json_int_t)state->faults_served,
                "profile_requests", (json_int_t)state->profile_requests);
  pthread_mutex_unlock(&state->lock);
  return j;
}

static json_t *fault_json(const mock_fault *f) {
  json_t *j = json_object();
  int bad = j == NULL;

  if (bad) {
    return NULL;
  }
  if (f->kind == MOCK_FAULT_STATUS) {
    bad |= json_object_set_new(j, "status", json_integer(f->status));
    if (f->code[0] != '\0') {
      bad |= json_object_set_new(j, "code", json_string(f->code));
    }
    if (f->message[0] != '\0') {
      bad |= json_object_set_new(j, "message", json_string(f->message));
    }
    if (f->retry_after[0] != '\0') {
      bad |= json_object_set_new(j, "retry_after",
                                 f->retry_after_is_seconds ? json_integer(f->retry_after_seconds)
                                                           : json_string(f->retry_after));
    }
  } else {
    bad |= json_object_set_new(j, "mode", json_string(mock_fault_kind_name(f->kind)));
    if (f->kind == MOCK_FAULT_TIMEOUT) {
      bad |= json_object_set_new(j, "seconds", json_integer(f->seconds));
    }
  }
  bad |= json_object_set_new(j, "count", json_integer(f->count));
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

json_t *mock_state_faults_json(mock_state *state) {
  json_t *arr = json_array();
  pthread_mutex_lock(&state->lock);
  for (size_t i = 0; arr != NULL && i < state->n_faults; i++) {
    if (json_array_append_new(arr, fault_json(&state->faults[i])) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  pthread_mutex_unlock(&state->lock);
  return arr;
}

/* RFC 3339 UTC, e.g. 2025-01-31T12:00:00Z. */
static json_t *time_json(time_t t) {
  struct tm tm;
  char buf[32];
  if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return NULL;
  }
  return json_string(buf);
}

json_t *mock_state_issued_json(mock_state *state) {
  json_t *arr = json_array();
  pthread_mutex_lock(&state->lock);
  for (size_t i = 0; arr != NULL && i < state->n_entries; i++) {
    const issued_entry *e = &state->entries[i];
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "serial", e->serial, "common_name", e->common_name,
                  "seat_id", e->seat_id, "upn", e->upn != NULL ? json_string(e->upn) : json_null(),
                  "not_before", time_json(e->not_before), "not_after", time_json(e->not_after));
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  pthread_mutex_unlock(&state->lock);
  return arr;
}
