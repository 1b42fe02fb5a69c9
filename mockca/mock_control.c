/*
 * mock_control.c: the /_mock/... endpoints tests use to steer and observe
 * the mock CA (loopback only; enforced by the route table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mock_app.h"

#define MAX_FAULTS_PER_POST 1000
#define MAX_FAULT_COUNT 1000000
#define MAX_TIMEOUT_SECONDS 3600
#define DEFAULT_TIMEOUT_SECONDS 120
#define MAX_LATENCY_MS 600000

/* Parses the request body as JSON; on failure replies 400, answers NULL. */
static json_t *load_body(const mock_request *req, mock_reply *reply) {
  size_t len = 0;
  const char *body = mock_request_body(req, &len);
  json_error_t jerr;
  json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    char msg[256];
    snprintf(msg, sizeof(msg), "request body is not valid JSON: %s", jerr.text);
    mock_reply_error(reply, 400, mock_error_code(400), msg);
  }
  return root;
}

static int is_printable_ascii(const char *s) {
  for (; *s != '\0'; s++) {
    if (*s < 0x20 || *s > 0x7e) {
      return 0;
    }
  }
  return 1;
}

/* A JSON integer within [min, max] into *out; -1 otherwise. */
static int int_in_range(json_t *v, long min, long max, long *out) {
  json_int_t n;
  if (!json_is_integer(v)) {
    return -1;
  }
  n = json_integer_value(v);
  if (n < min || n > max) {
    return -1;
  }
  *out = (long)n;
  return 0;
}

static int copy_text(json_t *v, char *out, size_t outsz) {
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= outsz ||
      strlen(json_string_value(v)) != json_string_length(v)) {
    return -1;
  }
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
  return 0;
}

/* Fills f from one fault object; on failure writes the reason to msg. */
static int parse_fault(json_t *obj, mock_fault *f, char *msg, size_t msgsz) {
  const char *key;
  json_t *v;
  json_t *status = json_object_get(obj, "status");
  json_t *mode = json_object_get(obj, "mode");
  long n = 0;

  memset(f, 0, sizeof(*f));
  f->count = 1;
  f->seconds = DEFAULT_TIMEOUT_SECONDS;
  if (!json_is_object(obj)) {
    snprintf(msg, msgsz, "a fault must be a JSON object");
    return -1;
  }
  if ((status == NULL) == (mode == NULL)) {
    snprintf(msg, msgsz, "a fault needs exactly one of \"status\" or \"mode\"");
    return -1;
  }
  if (status != NULL) {
    if (int_in_range(status, 200, 599, &n) != 0) {
      snprintf(msg, msgsz, "status must be an integer HTTP status from 200 to 599");
      return -1;
    }
    f->kind = MOCK_FAULT_STATUS;
    f->status = (unsigned)n;
  } else if (!json_is_string(mode) ||
             mock_fault_kind_from_mode(json_string_value(mode), &f->kind) != 0) {
    snprintf(msg, msgsz,
             "mode must be one of timeout, reset, garbage, truncated, wrong_format, mismatch, "
             "no_serial");
    return -1;
  }
  json_object_foreach(obj, key, v) {
    int is_status = f->kind == MOCK_FAULT_STATUS;
    if (strcmp(key, "status") == 0 || strcmp(key, "mode") == 0) {
      continue;
    }
    if (strcmp(key, "count") == 0) {
      if (int_in_range(v, 1, MAX_FAULT_COUNT, &f->count) != 0) {
        snprintf(msg, msgsz, "count must be an integer from 1 to %d", MAX_FAULT_COUNT);
        return -1;
      }
    } else if (strcmp(key, "seconds") == 0 && f->kind == MOCK_FAULT_TIMEOUT) {
      if (int_in_range(v, 0, MAX_TIMEOUT_SECONDS, &f->seconds) != 0) {
        snprintf(msg, msgsz, "seconds must be an integer from 0 to %d", MAX_TIMEOUT_SECONDS);
        return -1;
      }
    } else if (strcmp(key, "retry_after") == 0 && is_status) {
      if (json_is_integer(v)) {
        if (int_in_range(v, 0, 1000000000L, &n) != 0) {
          snprintf(msg, msgsz, "retry_after seconds must not be negative");
          return -1;
        }
        snprintf(f->retry_after, sizeof(f->retry_after), "%ld", n);
        f->retry_after_is_seconds = 1;
        f->retry_after_seconds = n;
      } else if (copy_text(v, f->retry_after, sizeof(f->retry_after)) != 0 ||
                 !is_printable_ascii(f->retry_after)) {
        snprintf(msg, msgsz,
                 "retry_after must be seconds or an HTTP-date string (printable ASCII, under "
                 "%d characters)",
                 MOCK_FAULT_TEXT_MAX);
        return -1;
      }
    } else if (strcmp(key, "message") == 0 && is_status) {
      if (copy_text(v, f->message, sizeof(f->message)) != 0) {
        snprintf(msg, msgsz, "message must be a non-empty string under %d bytes",
                 MOCK_FAULT_MESSAGE_MAX);
        return -1;
      }
    } else if (strcmp(key, "code") == 0 && is_status) {
      if (copy_text(v, f->code, sizeof(f->code)) != 0) {
        snprintf(msg, msgsz, "code must be a non-empty string under %d bytes", MOCK_FAULT_TEXT_MAX);
        return -1;
      }
    } else {
      snprintf(msg, msgsz, "field %.64s does not apply to a %s fault", key,
               mock_fault_kind_name(f->kind));
      return -1;
    }
  }
  return 0;
}

void mock_control_faults_post(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  json_t *root = load_body(req, reply);
  mock_fault *faults = NULL;
  size_t n;
  char msg[256];
  char reason[200];

  if (root == NULL) {
    return;
  }
  n = json_is_array(root) ? json_array_size(root) : 1;
  if (n == 0 || n > MAX_FAULTS_PER_POST) {
    snprintf(msg, sizeof(msg), "send one fault object or an array of 1 to %d of them",
             MAX_FAULTS_PER_POST);
    mock_reply_error(reply, 400, mock_error_code(400), msg);
    goto out;
  }
  faults = calloc(n, sizeof(*faults));
  if (faults == NULL) {
    mock_reply_error(reply, 500, mock_error_code(500), "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *obj = json_is_array(root) ? json_array_get(root, i) : root;
    if (parse_fault(obj, &faults[i], reason, sizeof(reason)) != 0) {
      snprintf(msg, sizeof(msg), "fault %zu: %s", i, reason);
      mock_reply_error(reply, 400, mock_error_code(400), msg);
      goto out;
    }
  }
  if (mock_state_queue_faults(app->state, faults, n) != 0) {
    mock_reply_error(reply, 400, mock_error_code(400), "too many faults queued; clear them first");
    goto out;
  }
  mock_reply_json(reply, 200, mock_state_faults_json(app->state));
out:
  free(faults);
  json_decref(root);
}

void mock_control_faults_delete(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  size_t n;
  (void)req;
  n = mock_state_clear_faults(app->state);
  mock_reply_json(reply, 200, json_pack("{s:I}", "cleared", (json_int_t)n));
}

void mock_control_faults_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  (void)req;
  mock_reply_json(reply, 200, mock_state_faults_json(app->state));
}

void mock_control_stats_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  (void)req;
  mock_reply_json(reply, 200, mock_state_stats_json(app->state));
}

void mock_control_issued_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  (void)req;
  mock_reply_json(reply, 200, mock_state_issued_json(app->state));
}

void mock_control_ca_pem_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  const char *pem = crypto_ca_cert_pem(app->ca);
  (void)req;
  mock_reply_raw(reply, 200, "application/x-pem-file", pem, strlen(pem));
}

void mock_control_latency_post(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  json_t *root = load_body(req, reply);
  long ms = 0;
  char msg[128];

  if (root == NULL) {
    return;
  }
  if (!json_is_object(root) || json_object_size(root) != 1 ||
      int_in_range(json_object_get(root, "ms"), 0, MAX_LATENCY_MS, &ms) != 0) {
    snprintf(msg, sizeof(msg), "body must be {\"ms\":N} with N an integer from 0 to %d",
             MAX_LATENCY_MS);
    mock_reply_error(reply, 400, mock_error_code(400), msg);
  } else {
    mock_state_set_latency(app->state, ms);
    mock_reply_json(reply, 200, json_pack("{s:I}", "ms", (json_int_t)ms));
  }
  json_decref(root);
}

void mock_control_latency_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  (void)req;
  mock_reply_json(reply, 200, json_pack("{s:I}", "ms", (json_int_t)mock_state_latency(app->state)));
}

void mock_control_reset_post(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  (void)req;
  mock_state_reset(app->state);
  mock_reply_json(reply, 200, mock_state_stats_json(app->state));
}
