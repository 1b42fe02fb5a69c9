/* json_body.c: strict request body parsing. */
#include "json_body.h"

#include "reply.h"
#include "router.h"

#include <ctype.h>
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

/* Length of the well-formed UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n;
  unsigned int cp;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    n = 2;
    cp = p[0] & 0x1F;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    n = 3;
    cp = p[0] & 0x0F;
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

int utf8_valid(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_seq(p);
    if (n == 0)
      return 0;
    p += n;
  }
  return 1;
}

void utf8_scrub(char *s) {
  for (unsigned char *p = (unsigned char *)s; *p;) {
    size_t n = utf8_seq(p);
    if (n == 0) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}

#undef FIELD

int sha256_hex_normal(const char *s, char out[65]) {
  if (strlen(s) != 64)
    return 0;
  for (int i = 0; i < 64; i++)
    if (!isxdigit((unsigned char)s[i]))
      return 0;
  for (int i = 0; i < 64; i++)
    out[i] = (char)tolower((unsigned char)s[i]);
  out[64] = '\0';
  return 1;
}

int uuid_valid(const char *s) {
  static const int dash[] = {8, 13, 18, 23};
  if (s == NULL || strlen(s) != 36)
    return 0;
  for (int i = 0, d = 0; i < 36; i++) {
    if (d < 4 && i == dash[d]) {
      if (s[i] != '-')
        return 0;
      d++;
    } else if (!isxdigit((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
}

/* The name of placeholder `index` in pattern ("id" for "/x/{id}"). */
static void placeholder(const char *pattern, int index, char *out, size_t len) {
  const char *p = pattern;
  snprintf(out, len, "id");
  for (int i = 0; p && (p = strchr(p, '{')) != NULL; i++, p++) {
    const char *close = strchr(p, '}');
    if (close == NULL)
      return;
    if (i == index) {
      snprintf(out, len, "%.*s", (int)(close - p - 1), p + 1);
      return;
    }
  }
}

int param_uuid(const request *req, reply *rep, int index, const char *what) {
  if (index < req->nparams && uuid_valid(req->params[index]))
    return 0;
  char field[64];
  placeholder(req->route ? req->route->pattern : "", index, field, sizeof(field));
  reply_errorf(rep, ERR_INVALID_REQUEST, field, "'%.64s' is not a valid %s (expected a UUID).",
               index < req->nparams ? req->params[index] : "", what);
  return -1;
}
