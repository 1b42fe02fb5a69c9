/*
 * mock_issue.c: the DigiCert TLM subset: profile lookup and certificate
 * issuance, with queued faults applied to issue requests.
 *
 * Order on POST /mpki/api/v1/certificate: latency, then the next queued
 * fault is taken. Faults that need no certificate (status, timeout, reset,
 * garbage, truncated) answer at once, whatever the request holds. The
 * certificate-carrying ones (wrong_format, mismatch, no_serial) first
 * check the request like a normal one, so a bad request still gets its
 * normal error. Without a fault: API key (401), body shape (400), profile
 * (403), delivery format, CSR, subject, UPN and seat (400), then 201.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mock_app.h"

#define MAX_CN_LEN 64
#define MAX_FIELD_LEN 1024

typedef struct issue_request {
  json_t *root; /* owns every string below */
  const char *profile_id;
  const char *csr;
  const char *common_name;
  const char *seat_id;
  const char *upn; /* NULL when no extensions were sent */
} issue_request;

int mock_app_profile_known(const mock_app *app, const char *id) {
  for (size_t i = 0; i < app->n_profiles; i++) {
    if (strcmp(app->profiles[i], id) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Sleeps the injected latency; -1 (reply dropped) when the client left. */
static int apply_latency(mock_app *app, const mock_request *req, mock_reply *reply) {
  long ms = mock_state_latency(app->state);
  if (ms > 0 && mock_request_wait(req, ms) != 0) {
    mock_reply_drop(reply, 0);
    return -1;
  }
  return 0;
}

static int api_key_ok(const mock_app *app, const mock_request *req) {
  const char *got = mock_request_header(req, "X-API-Key");
  size_t n = strlen(app->api_key);
  return got != NULL && strlen(got) == n && crypto_equal(got, app->api_key, n);
}

static void reply_bad_key(mock_reply *reply) {
  mock_reply_error(reply, 401, mock_error_code(401),
                   "The X-API-Key header is missing or holds an unknown API key");
}

static void reply_unknown_profile(mock_reply *reply, const char *id) {
  char msg[MAX_FIELD_LEN + 96];
  snprintf(msg, sizeof(msg), "Profile '%s' does not exist or this API key may not use it", id);
  mock_reply_error(reply, 403, mock_error_code(403), msg);
}

void mock_issue_profile_get(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  const char *id = mock_request_path(req) + strlen(MOCK_PROFILE_PATH);
  char name[MAX_FIELD_LEN + 32];

  if (apply_latency(app, req, reply) != 0) {
    return;
  }
  mock_state_count_profile_request(app->state);
  if (!api_key_ok(app, req)) {
    reply_bad_key(reply);
    return;
  }
  if (!mock_app_profile_known(app, id)) {
    reply_unknown_profile(reply, id);
    return;
  }
  snprintf(name, sizeof(name), "Mock profile %s", id);
  mock_reply_json(reply, 200,
                  json_pack("{s:s,s:s,s:s}", "id", id, "name", name, "status", "Active"));
}

/* ---- request body --------------------------------------------------- */

/* 0 when obj has no key outside allowed (NULL-terminated); else names
 * the first stray key in msg. */
static int only_keys(json_t *obj, const char *where, const char *const *allowed, char *msg,
                     size_t msgsz) {
  const char *key;
  json_t *val;
  json_object_foreach(obj, key, val) {
    int ok = 0;
    (void)val;
    for (const char *const *a = allowed; *a != NULL; a++) {
      ok |= strcmp(key, *a) == 0;
    }
    if (!ok) {
      snprintf(msg, msgsz, "unknown field %s%s%s", where, where[0] != '\0' ? "." : "", key);
      return -1;
    }
  }
  return 0;
}

static json_t *need_object(json_t *obj, const char *key, const char *name, char *msg,
                           size_t msgsz) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_object(v)) {
    snprintf(msg, msgsz, "%s is required and must be an object", name);
    return NULL;
  }
  return v;
}

/* A non-empty string of at most max bytes without NUL bytes. */
static const char *need_string(json_t *obj, const char *key, const char *name, size_t max,
                               char *msg, size_t msgsz) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_string(v) || json_string_length(v) == 0) {
    snprintf(msg, msgsz, "%s is required and must be a non-empty string", name);
    return NULL;
  }
  if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
    snprintf(msg, msgsz, "%s is longer than %zu characters or holds a NUL", name, max);
    return NULL;
  }
  return json_string_value(v);
}

static int parse_upn(json_t *ext, issue_request *ir, char *msg, size_t msgsz) {
  static const char *const ext_keys[] = {"san", NULL};
  static const char *const san_keys[] = {"user_principal_names", NULL};
  json_t *san;
  json_t *upns;
  json_t *upn;

  if (only_keys(ext, "attributes.extensions", ext_keys, msg, msgsz) != 0 ||
      (san = need_object(ext, "san", "attributes.extensions.san", msg, msgsz)) == NULL ||
      only_keys(san, "attributes.extensions.san", san_keys, msg, msgsz) != 0) {
    return -1;
  }
  upns = json_object_get(san, "user_principal_names");
  if (!json_is_array(upns) || json_array_size(upns) != 1) {
    snprintf(msg, msgsz,
             "attributes.extensions.san.user_principal_names must be an array of one string");
    return -1;
  }
  upn = json_array_get(upns, 0);
  if (json_is_string(upn) && json_string_length(upn) > 0 &&
      json_string_length(upn) <= MAX_FIELD_LEN &&
      strlen(json_string_value(upn)) == json_string_length(upn)) {
    ir->upn = json_string_value(upn);
  }
  if (ir->upn == NULL) {
    snprintf(msg, msgsz,
             "attributes.extensions.san.user_principal_names[0] must be a non-empty string of "
             "at most %d characters",
             MAX_FIELD_LEN);
    return -1;
  }
  return 0;
}

/* Checks the body of an issue request. On failure the reply is set
 * (400, or 403 for an unknown profile) and -1 is answered; on success
 * ir->root must be released with json_decref. */
static int parse_issue(mock_app *app, const mock_request *req, issue_request *ir,
                       mock_reply *reply) {
  static const char *const top_keys[] = {"profile", "seat",       "delivery_format",
                                         "csr",     "attributes", NULL};
  static const char *const profile_keys[] = {"id", NULL};
  static const char *const seat_keys[] = {"seat_id", NULL};
  static const char *const attr_keys[] = {"subject", "extensions", NULL};
  static const char *const subject_keys[] = {"common_name", NULL};
  char msg[1024] = "";
  size_t len = 0;
  const char *body = mock_request_body(req, &len);
  json_error_t jerr;
  json_t *obj;
  json_t *attrs;
  json_t *subject;
  json_t *ext;
  const char *format;
  char *csr_err = NULL;

  memset(ir, 0, sizeof(*ir));
  ir->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (ir->root == NULL) {
    snprintf(msg, sizeof(msg), "request body is not valid JSON: %s", jerr.text);
    goto bad;
  }
  if (!json_is_object(ir->root)) {
    snprintf(msg, sizeof(msg), "request body must be a JSON object");
    goto bad;
  }
  if (only_keys(ir->root, "", top_keys, msg, sizeof(msg)) != 0 ||
      (obj = need_object(ir->root, "profile", "profile", msg, sizeof(msg))) == NULL ||
      only_keys(obj, "profile", profile_keys, msg, sizeof(msg)) != 0 ||
      (ir->profile_id = need_string(obj, "id", "profile.id", MAX_FIELD_LEN, msg, sizeof(msg))) ==
          NULL) {
    goto bad;
  }
  if (!mock_app_profile_known(app, ir->profile_id)) {
    reply_unknown_profile(reply, ir->profile_id);
    goto fail;
  }
  format = need_string(ir->root, "delivery_format", "delivery_format", 32, msg, sizeof(msg));
  if (format == NULL) {
    goto bad;
  }
  if (strcmp(format, "x509") != 0) {
    snprintf(msg, sizeof(msg), "delivery_format '%s' is not supported; use \"x509\"", format);
    goto bad;
  }
  ir->csr = need_string(ir->root, "csr", "csr", 64 * 1024, msg, sizeof(msg));
  if (ir->csr == NULL) {
    goto bad;
  }
  if (crypto_csr_check(ir->csr, NULL, &csr_err) != 0) {
    snprintf(msg, sizeof(msg), "csr is not acceptable: %s", csr_err ? csr_err : "invalid CSR");
    free(csr_err);
    goto bad;
  }
  if ((attrs = need_object(ir->root, "attributes", "attributes", msg, sizeof(msg))) == NULL ||
      only_keys(attrs, "attributes", attr_keys, msg, sizeof(msg)) != 0 ||
      (subject = need_object(attrs, "subject", "attributes.subject", msg, sizeof(msg))) == NULL ||
      only_keys(subject, "attributes.subject", subject_keys, msg, sizeof(msg)) != 0 ||
      (ir->common_name = need_string(subject, "common_name", "attributes.subject.common_name",
                                     MAX_CN_LEN, msg, sizeof(msg))) == NULL) {
    goto bad;
  }
  ext = json_object_get(attrs, "extensions");
  if (ext != NULL) {
    if (!json_is_object(ext)) {
      snprintf(msg, sizeof(msg), "attributes.extensions must be an object");
      goto bad;
    }
    if (parse_upn(ext, ir, msg, sizeof(msg)) != 0) {
      goto bad;
    }
  }
  if ((obj = need_object(ir->root, "seat", "seat", msg, sizeof(msg))) == NULL ||
      only_keys(obj, "seat", seat_keys, msg, sizeof(msg)) != 0 ||
      (ir->seat_id =
           need_string(obj, "seat_id", "seat.seat_id", MAX_FIELD_LEN, msg, sizeof(msg))) == NULL) {
    goto bad;
  }
  return 0;
bad:
  mock_reply_error(reply, 400, mock_error_code(400), msg);
fail:
  json_decref(ir->root);
  ir->root = NULL;
  return -1;
}

/* ---- replies -------------------------------------------------------- */

static void reply_status_fault(const mock_fault *f, mock_reply *reply) {
  char msg[MOCK_FAULT_MESSAGE_MAX + 64];
  if (f->message[0] != '\0') {
    snprintf(msg, sizeof(msg), "%s", f->message);
  } else {
    snprintf(msg, sizeof(msg), "Mock CA fault: HTTP %u", f->status);
  }
  mock_reply_error(reply, f->status, f->code[0] != '\0' ? f->code : mock_error_code(f->status),
                   msg);
  if (f->retry_after[0] != '\0') {
    mock_reply_header(reply, "Retry-After", f->retry_after);
  }
}

/* 201 whose JSON success body stops half-way (valid HTTP framing). */
static void reply_truncated(mock_app *app, mock_reply *reply) {
  unsigned char raw[16];
  char serial[33];
  json_t *body;
  char *text = NULL;

  if (crypto_random_bytes(raw, sizeof(raw)) != 0) {
    mock_reply_error(reply, 500, mock_error_code(500), "no randomness");
    return;
  }
  for (size_t i = 0; i < sizeof(raw); i++) {
    snprintf(serial + 2 * i, 3, "%02X", raw[i]);
  }
  body = json_pack("{s:s,s:s,s:s}", "serial_number", serial, "delivery_format", "x509",
                   "certificate", crypto_ca_cert_pem(app->ca));
  text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  if (text == NULL) {
    mock_reply_error(reply, 500, mock_error_code(500), "out of memory");
  } else {
    mock_reply_raw(reply, 201, "application/json", text, strlen(text) / 2);
  }
  free(text);
  json_decref(body);
}

/* Issues for ir (or, for the mismatch fault, for a fresh key) and sends
 * the 201, shaped by the fault kind; kind < 0 is a normal issue. */
static void issue_and_reply(mock_app *app, const issue_request *ir, int kind, mock_reply *reply) {
  crypto_key *other = NULL;
  char *other_csr = NULL;
  char *pem = NULL;
  char *err = NULL;
  crypto_cert_info info;
  json_t *body = NULL;
  const char *csr = ir->csr;

  if (kind == MOCK_FAULT_MISMATCH) {
    other = crypto_key_generate_ec_p256();
    other_csr = other != NULL ? crypto_csr_create(other, "mock-mismatch", NULL) : NULL;
    if (other_csr == NULL) {
      mock_reply_error(reply, 500, mock_error_code(500), "cannot make the mismatch key");
      goto out;
    }
    csr = other_csr;
  }
  pem = crypto_ca_issue(app->ca, csr, ir->common_name, ir->upn, app->validity_seconds, &info, &err);
  if (pem == NULL) {
    mock_reply_error(reply, 500, mock_error_code(500), err != NULL ? err : "cannot issue");
    goto out;
  }
  if (kind < 0 && mock_state_record_issued(app->state, info.serial, ir->common_name, ir->seat_id,
                                           ir->upn, info.not_before, info.not_after) != 0) {
    mock_reply_error(reply, 500, mock_error_code(500), "out of memory");
    goto out;
  }
  if (kind == MOCK_FAULT_NO_SERIAL) {
    body = json_pack("{s:s,s:s}", "delivery_format", "x509", "certificate", pem);
  } else {
    body = json_pack("{s:s,s:s,s:s}", "serial_number", info.serial, "delivery_format",
                     kind == MOCK_FAULT_WRONG_FORMAT ? "pkcs7" : "x509", "certificate", pem);
  }
  mock_reply_json(reply, 201, body);
out:
  free(err);
  free(pem);
  free(other_csr);
  crypto_key_free(&other);
}

void mock_issue_certificate_post(void *ctx, const mock_request *req, mock_reply *reply) {
  mock_app *app = ctx;
  mock_fault fault;
  issue_request ir;
  int kind = -1;

  if (apply_latency(app, req, reply) != 0) {
    return;
  }
  if (mock_state_begin_issue(app->state, &fault)) {
    kind = (int)fault.kind;
    switch (fault.kind) {
    case MOCK_FAULT_STATUS:
      reply_status_fault(&fault, reply);
      return;
    case MOCK_FAULT_TIMEOUT:
      mock_request_wait(req, fault.seconds * 1000);
      mock_reply_drop(reply, 0);
      return;
    case MOCK_FAULT_RESET:
      mock_reply_drop(reply, 1);
      return;
    case MOCK_FAULT_GARBAGE: {
      static const char garbage[] = "<html><body>502 Bad Gateway (mock garbage)</body></html>\n";
      mock_reply_raw(reply, 201, "application/json", garbage, sizeof(garbage) - 1);
      return;
    }
    case MOCK_FAULT_TRUNCATED:
      reply_truncated(app, reply);
      return;
    case MOCK_FAULT_WRONG_FORMAT:
    case MOCK_FAULT_MISMATCH:
    case MOCK_FAULT_NO_SERIAL:
      break;
    }
  }
  if (!api_key_ok(app, req)) {
    reply_bad_key(reply);
    return;
  }
  if (parse_issue(app, req, &ir, reply) != 0) {
    return;
  }
  issue_and_reply(app, &ir, kind, reply);
  json_decref(ir.root);
}
