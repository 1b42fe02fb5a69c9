/*
 * json_body.h: strict parsing of request bodies.
 *
 * Bodies must be one JSON object; duplicate keys, unknown keys, NUL bytes
 * in strings and wrong types are refused with a 400 that names the field.
 * The checks of single values have files of their own: utf8.h, uuid.h,
 * sha256_hex.h.
 */
#ifndef CERTDEPLOY_JSON_BODY_H
#define CERTDEPLOY_JSON_BODY_H

#include <jansson.h>

#include "request.h"

typedef enum field_type {
  FIELD_STRING,
  FIELD_INT,
  FIELD_BOOL,
  FIELD_ARRAY,
  FIELD_OBJECT,
} field_type;

typedef struct field_spec {
  const char *name;
  field_type type;
  int required;
  size_t max_len; /* strings: most bytes (0: 256); arrays: most items (0: 1000) */
  json_t **out;   /* borrowed reference into the parsed object; NULL when absent */
} field_spec;

/* Parses req's body as a JSON object. On failure sets rep to 400
 * invalid_json (with where the error is) and returns NULL. An empty body
 * parses as {} when allow_empty is set. The result is a new reference. */
json_t *body_object(const request *req, reply *rep, int allow_empty);

/* Checks obj against specs: every key known, required ones present, types
 * right, strings non-empty UTF-8 within max_len. JSON null counts as
 * absent. Fills each spec's out. Returns 0, or -1 with rep set to 400
 * invalid_request naming the field. */
int body_fields(json_t *obj, const field_spec *specs, size_t nspecs, reply *rep);

/* body_fields for a nested object: field names in errors are prefixed
 * ("installed[2].sha256"). prefix may be NULL. */
int body_fields_in(json_t *obj, const field_spec *specs, size_t nspecs, const char *prefix,
                   reply *rep);

#endif
