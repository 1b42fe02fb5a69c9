/* json_body.c: strict request body parsing. */
#include "json_body.h"

#include "reply.h"

#include <stdio.h>
#include <string.h>

json_t *body_object(const request *req, reply *rep, int allow_empty) {
  if (req->body_len == 0) {
    if (allow_empty)
      return json_object();
    reply_error(rep, ERR_INVALID_JSON, NULL, "The request needs a JSON object body.");
    return NULL;
  }
  json_error_t err;
  json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
  if (root == NULL) {
    reply_errorf(rep, ERR_INVALID_JSON, NULL, "Invalid JSON at line %d, column %d: %s.", err.line,
                 err.column, err.text);
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    reply_error(rep, ERR_INVALID_JSON, NULL, "The body must be a JSON object.");
    return NULL;
  }
  return root;
}

static const char *type_name(field_type t) {
  switch (t) {
  case FIELD_STRING:
    return "a string";
  case FIELD_INT:
    return "an integer";
  case FIELD_BOOL:
    return "true or false";
  case FIELD_ARRAY:
    return "an array";
  case FIELD_OBJECT:
    return "an object";
  }
  return "?";
}

static int type_ok(json_t *v, field_type t) {
  switch (t) {
  case FIELD_STRING:
    return json_is_string(v);
  case FIELD_INT:
    return json_is_integer(v);
  case FIELD_BOOL:
    return json_is_boolean(v);
  case FIELD_ARRAY:
    return json_is_array(v);
  case FIELD_OBJECT:
    return json_is_object(v);
  }
  return 0;
}

int body_fields(json_t *obj, const field_spec *specs, size_t nspecs, reply *rep) {
  return body_fields_in(obj, specs, nspecs, NULL, rep);
}

int body_fields_in(json_t *obj, const field_spec *specs, size_t nspecs, const char *prefix,
                   reply *rep) {
  char where[160];
#define FIELD(name) (prefix ? (snprintf(where, sizeof(where), "%s.%s", prefix, name), where) : name)
  const char *key;
  json_t *value;
  json_object_foreach(obj, key, value) {
    size_t i;
    for (i = 0; i < nspecs; i++)
      if (strcmp(specs[i].name, key) == 0)
        break;
    if (i == nspecs) {
      reply_errorf(rep, ERR_INVALID_REQUEST, FIELD(key), "Unknown field '%.64s'.", key);
      return -1;
    }
  }
  for (size_t i = 0; i < nspecs; i++) {
    const field_spec *s = &specs[i];
    json_t *v = json_object_get(obj, s->name);
    if (v != NULL && json_is_null(v))
      v = NULL;
    if (s->out)
      *s->out = v;
    if (v == NULL) {
      if (s->required) {
        reply_errorf(rep, ERR_INVALID_REQUEST, FIELD(s->name), "Field '%s' is required.", s->name);
        return -1;
      }
      continue;
    }
    if (!type_ok(v, s->type)) {
      reply_errorf(rep, ERR_INVALID_REQUEST, FIELD(s->name), "Field '%s' must be %s.", s->name,
                   type_name(s->type));
      return -1;
    }
    if (s->type == FIELD_STRING) {
      size_t max = s->max_len ? s->max_len : 256;
      size_t len = json_string_length(v);
      if (len == 0 || len > max) {
        reply_errorf(rep, ERR_INVALID_REQUEST, FIELD(s->name),
                     "Field '%s' must be 1 to %zu characters long.", s->name, max);
        return -1;
      }
    } else if (s->type == FIELD_ARRAY) {
      size_t max = s->max_len ? s->max_len : 1000;
      if (json_array_size(v) > max) {
        reply_errorf(rep, ERR_INVALID_REQUEST, FIELD(s->name),
                     "Field '%s' may hold at most %zu items.", s->name, max);
        return -1;
      }
    }
  }
  return 0;
}

#undef FIELD
