/*
 * routes_audit.c: /api/v1/audit — who changed what. Also the router's
 * audit hook, which writes one row per successful admin write.
 */
#include "handlers.h"

#include "app.h"
#include "db.h"
#include "db_audit.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "reply.h"
#include "router.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"<param name>": value, ...} from the route's placeholders, plus the
 * "id" of what the reply created (POST /api/v1/cas -> 201 {"id",...}).
 * Only ids: the request body is never looked at, and of the reply only
 * its "id" (a token or secret reply holds the secret too). */
static json_t *audit_target(const request *req, const reply *rep) {
  json_t *target = json_object();
  const char *p = req->route->pattern;
  for (int i = 0; target != NULL && i < req->nparams; i++) {
    const char *open = strchr(p, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (close == NULL)
      break;
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
    json_object_set_new(target, name, json_string(req->params[i]));
    p = close + 1;
  }
  if (target != NULL && json_object_get(target, "id") == NULL && rep->body != NULL &&
      rep->content_type != NULL && strcmp(rep->content_type, "application/json") == 0) {
    json_t *body = json_loadb(rep->body, rep->body_len, 0, NULL);
    json_t *id = json_object_get(body, "id");
    if (json_is_string(id))
      json_object_set_new(target, "id", json_string(json_string_value(id)));
    json_decref(body);
  }
  return target;
}

void audit_record(request *req, const reply *rep) {
  char summary[300];
  char *target_text = NULL;
  json_t *target = audit_target(req, rep);
  if (target != NULL)
    target_text = json_dumps(target, JSON_COMPACT);
  snprintf(summary, sizeof(summary), "%s %s", req->method, req->route->pattern);
  /* the request's own connection; not request_db(): that would turn the
   * 2xx already decided into a 503 when the database just went away */
  if (req->db == NULL)
    req->db = db_acquire(req->app->db);
  int rc = DB_SOFT_ERROR;
  if (req->db != NULL && target_text != NULL)
    rc = db_audit_append(req->db, req->who.actor, req->method, req->route->pattern, req->path,
                         rep->status, target_text, summary);
  if (rc < 0) {
    log_field f[] = {{"actor", req->who.actor, 0}, {"route", summary, 0}, {"path", req->path, 0}};
    log_event(LOG_ERROR, "audit: could not record an admin write (it was applied)", f, 3);
  }
  free(target_text);
  json_decref(target);
}

/* ?cursor= of this list: the decimal id of the last row seen. */
static int parse_cursor(const char *text, char *out, size_t len) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < 1)
    return -1;
  snprintf(out, len, "%lld", v);
  return 0;
}

static json_t *event_json(const void *row) {
  const db_audit_event *e = row;
  json_t *target = json_loads(e->target, 0, NULL);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s}", "id", e->id, "at", e->at,
                   "actor", e->actor, "method", e->method, "route", e->route, "path", e->path,
                   "status", e->status, "target", target ? target : json_object(), "summary",
                   e->summary);
}

/* This list's cursor is the plain decimal id (see parse_cursor). */
static json_t *event_cursor(const void *row, const void *unused) {
  const db_audit_event *e = row;
  (void)unused;
  return json_string(e->id);
}

static const page_list audit_page = {"events", sizeof(db_audit_event), event_json, event_cursor};

/* GET /api/v1/audit?limit=&cursor=&actor= -> newest first. */
void audit_list(request *req, reply *rep) {
  int limit = PAGE_DEFAULT_LIMIT;
  char before[24] = "";
  const char *q = request_query(req, "limit");
  if (q != NULL) {
    char *end = NULL;
    errno = 0;
    long v = strtol(q, &end, 10);
    if (errno || end == q || *end != '\0' || v < 1 || v > PAGE_MAX_LIMIT) {
      reply_errorf(rep, ERR_INVALID_REQUEST, "limit", "'limit' must be a number from 1 to %d.",
                   PAGE_MAX_LIMIT);
      return;
    }
    limit = (int)v;
  }
  q = request_query(req, "cursor");
  if (q != NULL && parse_cursor(q, before, sizeof(before)) != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "cursor",
                "'cursor' is not one this server gave out; start again without it.");
    return;
  }
  const char *actor = request_query(req, "actor");
  if (actor != NULL && (actor[0] == '\0' || strlen(actor) > 200 || !utf8_valid(actor))) {
    reply_error(rep, ERR_INVALID_REQUEST, "actor",
                "'actor' must be an actor such as 'admin:<token name>'.");
    return;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_audit_event *rows = NULL;
  int n = db_audit_list(c, before[0] ? before : NULL, actor, limit + 1, &rows);
  page_reply(rep, &audit_page, limit, rows, n, NULL);
  db_audit_rows_free(rows, n);
}
