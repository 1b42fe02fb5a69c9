/* checkin_inventory.c: a check-in's body, by the scanner for its one
 * common shape or by jansson (checkin_inventory.h). */
#include "checkin_inventory.h"

#include "json_body.h"
#include "reply.h"
#include "sha256_hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the scanner: the common shape only, plain ASCII strings -------- */

typedef struct scan {
  const char *p, *end;
} scan;

static void skip_space(scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* The next non-space byte is c: consumed. */
static int take(scan *s, char c) {
  skip_space(s);
  if (s->p == s->end || *s->p != c)
    return 0;
  s->p++;
  return 1;
}

/* A string of 1 to max printable ASCII bytes other than quote and
 * backslash (no escapes), copied into out. */
static int take_string(scan *s, char *out, size_t max) {
  if (!take(s, '"'))
    return 0;
  const char *start = s->p;
  while (s->p < s->end && *s->p != '"') {
    unsigned char c = (unsigned char)*s->p;
    if (c < 0x20 || c > 0x7e || c == '\\')
      return 0;
    s->p++;
  }
  size_t n = (size_t)(s->p - start);
  if (s->p == s->end || n == 0 || n > max)
    return 0;
  memcpy(out, start, n);
  out[n] = '\0';
  s->p++;
  return 1;
}

/* "key": exactly. */
static int take_key(scan *s, const char *key) {
  char got[16];
  return take_string(s, got, sizeof(got) - 1) && strcmp(got, key) == 0 && take(s, ':');
}

/* {"profile_id":"..","sha256":".."}, the two keys in either order, once each. */
static int take_item(scan *s, inventory_item *it) {
  char key[16], sha[65];
  int have_id = 0, have_sha = 0;
  if (!take(s, '{'))
    return 0;
  for (int k = 0; k < 2; k++) {
    if (k == 1 && !take(s, ','))
      return 0;
    if (!take_string(s, key, sizeof(key) - 1) || !take(s, ':'))
      return 0;
    if (strcmp(key, "profile_id") == 0 && !have_id)
      have_id = take_string(s, it->profile_id, 64);
    else if (strcmp(key, "sha256") == 0 && !have_sha)
      have_sha = take_string(s, sha, 64) && sha256_hex_normal(sha, it->sha256);
    if (have_id + have_sha != k + 1)
      return 0;
  }
  return take(s, '}');
}

int checkin_inventory_scan(const char *body, size_t len, inventory *out) {
  scan s = {body, body + len};
  inventory inv = {NULL, 0};
  size_t cap = 0;
  if (!take(&s, '{') || !take_key(&s, "installed") || !take(&s, '['))
    return 0;
  skip_space(&s);
  if (s.p < s.end && *s.p != ']') {
    do {
      if (inv.count == INVENTORY_MAX)
        goto decline;
      if (inv.count == cap) {
        cap = cap ? cap * 2 : 4;
        inventory_item *grown = realloc(inv.items, cap * sizeof(*grown));
        if (grown == NULL) {
          free(inv.items);
          return -1;
        }
        inv.items = grown;
      }
      if (!take_item(&s, &inv.items[inv.count]))
        goto decline;
      inv.count++;
    } while (take(&s, ','));
  }
  if (!take(&s, ']') || !take(&s, '}'))
    goto decline;
  skip_space(&s);
  if (s.p != s.end)
    goto decline;
  *out = inv;
  return 1;
decline:
  free(inv.items);
  return 0;
}

/* ---- everything else: jansson, body_fields() and their errors ------- */

int checkin_inventory_parse(const request *req, reply *rep, inventory *out) {
  out->items = NULL;
  out->count = 0;
  json_t *installed = NULL, *item;
  const field_spec spec[] = {{"installed", FIELD_ARRAY, 0, INVENTORY_MAX, &installed}};
  json_t *body = body_object(req, rep, 1);
  int rc = -1;
  size_t i;
  if (body == NULL || body_fields(body, spec, 1, rep) != 0)
    goto out;
  out->count = json_array_size(installed);
  out->items = calloc(out->count ? out->count : 1, sizeof(*out->items));
  if (out->items == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  json_array_foreach(installed, i, item) {
    json_t *pid = NULL, *sha = NULL;
    char field[48];
    const field_spec ispec[] = {{"profile_id", FIELD_STRING, 1, 64, &pid},
                                {"sha256", FIELD_STRING, 1, 64, &sha}};
    snprintf(field, sizeof(field), "installed[%zu]", i);
    if (!json_is_object(item)) {
      reply_error(rep, ERR_INVALID_REQUEST, field, "Each inventory entry is an object.");
      goto out;
    }
    if (body_fields_in(item, ispec, 2, field, rep) != 0)
      goto out;
    if (!sha256_hex_normal(json_string_value(sha), out->items[i].sha256)) {
      snprintf(field, sizeof(field), "installed[%zu].sha256", i);
      reply_error(rep, ERR_INVALID_REQUEST, field, "'sha256' must be 64 hex digits.");
      goto out;
    }
    snprintf(out->items[i].profile_id, sizeof(out->items[i].profile_id), "%s",
             json_string_value(pid));
  }
  rc = 0;
out:
  if (rc != 0)
    inventory_release(out);
  json_decref(body);
  return rc;
}

int checkin_inventory_read(const request *req, reply *rep, inventory *out) {
  out->items = NULL;
  out->count = 0;
  int scanned = checkin_inventory_scan(req->body, req->body_len, out);
  if (scanned < 0) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    return -1;
  }
  return scanned ? 0 : checkin_inventory_parse(req, rep, out);
}

void inventory_release(inventory *inv) {
  free(inv->items);
  inv->items = NULL;
  inv->count = 0;
}
