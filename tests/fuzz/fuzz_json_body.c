/*
 * fuzz_json_body: request bodies through body_object() and body_fields()
 * with the field specs of the real routes, and uuid_valid() /
 * param_uuid() on every string the body holds.
 *
 * Checked besides memory safety: every refusal is a 400 whose body has
 * the registry's shape ({"error":{"code","message","field"}}) naming the
 * field at fault; body_fields() accepts exactly what its header promises
 * (an independent oracle below); uuid_valid() agrees with a second
 * reading of "8-4-4-4-12 hex".
 */
#include "fuzz_util.h"

#include <jansson.h>

#include "db_cas.h"
#include "db_enroll_secrets.h"
#include "db_profiles.h"
#include "json_body.h"
#include "router.h"
#include "reply.h"
#include "uuid.h"

#define MAX_SPECS 8
#define CHECKIN_ROUTE "POST /device/v1/checkin"

/* One route's spec, as written in server/routes_*.c (out is filled in). */
typedef struct spec_set {
  const char *route;
  field_spec specs[MAX_SPECS];
  size_t n;
} spec_set;

static const spec_set sets[] = {
    {"POST /device/v1/enroll",
     {{"enroll_secret", FIELD_STRING, 1, 256, NULL},
      {"serial", FIELD_STRING, 1, 128, NULL},
      {"name", FIELD_STRING, 0, 128, NULL}},
     3},
    {"POST /device/v1/profiles/{profile_id}/csr",
     {{"generation", FIELD_INT, 1, 0, NULL}, {"csr", FIELD_STRING, 1, 65536, NULL}},
     2},
    {"POST /device/v1/profiles/{profile_id}/ack",
     {{"generation", FIELD_INT, 1, 0, NULL},
      {"result", FIELD_STRING, 1, 16, NULL},
      {"sha256", FIELD_STRING, 0, 64, NULL},
      {"detail", FIELD_STRING, 0, 1024, NULL}},
     4},
    {CHECKIN_ROUTE, {{"installed", FIELD_ARRAY, 0, 1000, NULL}}, 1},
    {"POST /api/v1/profiles",
     {{"name", FIELD_STRING, 1, PROFILE_NAME_MAX, NULL},
      {"ca_id", FIELD_STRING, 1, 64, NULL},
      {"common_name", FIELD_STRING, 1, PROFILE_TEMPLATE_MAX, NULL},
      {"user_principal_names", FIELD_ARRAY, 0, 0, NULL},
      {"seat_id", FIELD_STRING, 1, PROFILE_TEMPLATE_MAX, NULL},
      {"key_mode", FIELD_STRING, 0, 16, NULL},
      {"renew_before_days", FIELD_INT, 0, 0, NULL},
      {"assign_all", FIELD_BOOL, 0, 0, NULL}},
     8},
    {"POST /api/v1/cas",
     {{"name", FIELD_STRING, 1, CA_NAME_MAX, NULL},
      {"type", FIELD_STRING, 1, 16, NULL},
      {"url", FIELD_STRING, 1, CA_URL_MAX, NULL},
      {"api_token", FIELD_STRING, 1, CA_API_TOKEN_MAX, NULL},
      {"profile_id", FIELD_STRING, 1, CA_PROFILE_ID_MAX, NULL},
      {"ca_certificate", FIELD_STRING, 0, CA_CERTIFICATE_MAX, NULL}},
     6},
    {"POST /api/v1/profiles/{id}/assignments",
     {{"device_ids", FIELD_ARRAY, 0, 10000, NULL}, {"all", FIELD_BOOL, 0, 0, NULL}},
     2},
    {"POST /api/v1/enroll-secrets", {{"name", FIELD_STRING, 1, ENROLL_SECRET_NAME_MAX, NULL}}, 1},
    {"POST /api/v1/tokens",
     {{"name", FIELD_STRING, 1, 128, NULL}, {"role", FIELD_STRING, 1, 16, NULL}},
     2},
};

/* The inventory entry spec of the check-in route, applied to each item. */
static const field_spec inventory_item[] = {{"profile_id", FIELD_STRING, 1, 64, NULL},
                                            {"sha256", FIELD_STRING, 1, 64, NULL}};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  json_object_seed(1); /* the same hash order in every run, so crashes reproduce */
  return 0;
}

/* Asserts rep is a 400 error reply with the given wire code, and returns
 * its "field" (a string owned by *parsed, which the caller decrefs), or
 * NULL when it names none. */
static const char *check_error_reply(const reply *rep, const char *code, json_t **parsed) {
  FUZZ_CHECK(rep->status == 400);
  FUZZ_CHECK(rep->error_code != NULL && strcmp(rep->error_code, code) == 0);
  FUZZ_CHECK(rep->body != NULL && rep->body_len == strlen(rep->body));
  *parsed = json_loads(rep->body, 0, NULL);
  FUZZ_CHECK(*parsed != NULL);
  json_t *err = json_object_get(*parsed, "error");
  FUZZ_CHECK(json_is_object(err));
  FUZZ_CHECK(json_is_string(json_object_get(err, "code")));
  FUZZ_CHECK(strcmp(json_string_value(json_object_get(err, "code")), code) == 0);
  FUZZ_CHECK(json_is_string(json_object_get(err, "message")));
  return json_string_value(json_object_get(err, "field"));
}

static int type_matches(const json_t *v, field_type t) {
  switch (t) {
  case FIELD_STRING:
    return json_typeof(v) == JSON_STRING;
  case FIELD_INT:
    return json_typeof(v) == JSON_INTEGER;
  case FIELD_BOOL:
    return json_typeof(v) == JSON_TRUE || json_typeof(v) == JSON_FALSE;
  case FIELD_ARRAY:
    return json_typeof(v) == JSON_ARRAY;
  case FIELD_OBJECT:
    return json_typeof(v) == JSON_OBJECT;
  }
  return 0;
}

/* What json_body.h promises body_fields() accepts: 1 accept, 0 refuse. */
static int oracle_accepts(json_t *obj, const field_spec *specs, size_t n) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    size_t i = 0;
    while (i < n && strcmp(specs[i].name, key) != 0)
      i++;
    if (i == n)
      return 0;
  }
  for (size_t i = 0; i < n; i++) {
    v = json_object_get(obj, specs[i].name);
    if (v == NULL || json_is_null(v)) {
      if (specs[i].required)
        return 0;
      continue;
    }
    if (!type_matches(v, specs[i].type))
      return 0;
    if (specs[i].type == FIELD_STRING) {
      size_t len = strlen(json_string_value(v)), max = specs[i].max_len ? specs[i].max_len : 256;
      if (len == 0 || len > max)
        return 0;
    }
    if (specs[i].type == FIELD_ARRAY &&
        json_array_size(v) > (specs[i].max_len ? specs[i].max_len : 1000))
      return 0;
  }
  return 1;
}

/* Runs body_fields() with a copy of specs and checks it against the oracle. */
static int check_fields(json_t *obj, const field_spec *specs, size_t n) {
  field_spec local[MAX_SPECS];
  json_t *outs[MAX_SPECS];
  reply rep;
  memset(&rep, 0, sizeof rep);
  for (size_t i = 0; i < n; i++) {
    local[i] = specs[i];
    outs[i] = NULL;
    local[i].out = &outs[i];
  }
  int rc = body_fields(obj, local, n, &rep);
  int want = oracle_accepts(obj, specs, n);
  FUZZ_CHECK(rc == 0 || rc == -1);
  FUZZ_CHECK((rc == 0) == want);
  if (rc == 0) {
    FUZZ_CHECK(rep.status == 0 && rep.body == NULL);
    for (size_t i = 0; i < n; i++) {
      json_t *v = json_object_get(obj, specs[i].name);
      FUZZ_CHECK(outs[i] == (json_is_null(v) ? NULL : v));
    }
  } else {
    json_t *parsed = NULL;
    const char *field = check_error_reply(&rep, "invalid_request", &parsed);
    /* The field named is a spec's or the unknown key itself. */
    FUZZ_CHECK(field != NULL);
    size_t i = 0;
    while (i < n && strcmp(specs[i].name, field) != 0)
      i++;
    FUZZ_CHECK(i < n || json_object_get(obj, field) != NULL);
    json_decref(parsed);
  }
  reply_release(&rep);
  return rc;
}

/* uuid_valid() read a second way: the shape of a template. */
static int oracle_uuid(const char *s) {
  static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  size_t i;
  for (i = 0; shape[i] != '\0'; i++) {
    char c = s[i];
    int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (c == '\0' || (shape[i] == '-' ? c != '-' : !hex))
      return 0;
  }
  return s[i] == '\0';
}

static void check_uuid(const char *s) {
  int valid = uuid_valid(s);
  FUZZ_CHECK(valid == oracle_uuid(s));

  request req;
  reply rep;
  memset(&req, 0, sizeof req);
  memset(&rep, 0, sizeof rep);
  /* field names the placeholder of the route pattern */
  static const route r = {"GET", "/api/v1/devices/{device_id}", ROUTE_API_READ, NULL, ROUTE_WAITS};
  req.route = &r;
  req.params[0] = (char *)s;
  req.nparams = 1;
  if (param_uuid(&req, &rep, 0, "device id") == 0) {
    FUZZ_CHECK(valid && rep.status == 0);
  } else {
    json_t *parsed = NULL;
    FUZZ_CHECK(!valid);
    const char *field = check_error_reply(&rep, "invalid_request", &parsed);
    FUZZ_CHECK(field != NULL && strcmp(field, "device_id") == 0);
    json_decref(parsed);
  }
  reply_release(&rep);
}

/* uuid checks on every string value of obj, and one level into arrays. */
static void check_strings(json_t *obj) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    size_t i;
    json_t *item;
    if (json_is_string(v))
      check_uuid(json_string_value(v));
    json_array_foreach(v, i, item) {
      if (json_is_string(item))
        check_uuid(json_string_value(item));
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = fuzz_cstring(data, size);
  request req;
  reply rep;
  json_t *obj;

  memset(&req, 0, sizeof req);
  memset(&rep, 0, sizeof rep);
  req.method = "POST";
  req.path = "/api/v1/fuzz";
  req.content_type = "application/json";
  req.body = body;
  req.body_len = size;

  if (size == 0) {
    /* An empty body: refused, or {} where the route allows it. */
    json_t *parsed = NULL;
    FUZZ_CHECK(body_object(&req, &rep, 0) == NULL);
    check_error_reply(&rep, "invalid_json", &parsed);
    json_decref(parsed);
    reply_release(&rep);
    obj = body_object(&req, &rep, 1);
    FUZZ_CHECK(json_is_object(obj) && json_object_size(obj) == 0 && rep.status == 0);
  } else {
    obj = body_object(&req, &rep, 0);
  }
  if (obj == NULL) {
    json_t *parsed = NULL;
    check_error_reply(&rep, "invalid_json", &parsed);
    json_decref(parsed);
  } else {
    FUZZ_CHECK(json_is_object(obj) && rep.status == 0);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
      if (check_fields(obj, sets[i].specs, sets[i].n) != 0 ||
          strcmp(sets[i].route, CHECKIN_ROUTE) != 0)
        continue;
      /* The check-in route reads each inventory entry with its own spec. */
      size_t k;
      json_t *item;
      json_array_foreach(json_object_get(obj, "installed"), k, item) {
        if (json_is_object(item))
          check_fields(item, inventory_item, 2);
      }
    }
    check_strings(obj);
    /* What the parser accepted must print back and parse again the same. */
    char *dumped = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(dumped != NULL);
    json_t *again = json_loads(dumped, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(again != NULL && json_equal(obj, again));
    json_decref(again);
    free(dumped);
    json_decref(obj);
  }
  reply_release(&rep);
  check_uuid(body);
  free(body);
  return 0;
}
