/* routes_webhooks.c: /api/v1/webhooks — webhook subscriptions. A
 * subscription's signing secret is shown once, at creation, and kept
 * sealed with the master key (webhook.c opens it to sign a delivery). */
#include "handlers.h"

#include "app.h"
#include "crypto.h"
#include "db_webhooks.h"
#include "http.h"
#include "http_client.h"
#include "json_body.h"
#include "page.h"
#include "reply.h"
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_PREFIX_WEBHOOK "whsec_"

static const char *const known_events[] = {"deployment.failed", "deployment.recovered",
                                           "certificate.expiring", "certificate.revoked"};
#define NKNOWN (sizeof(known_events) / sizeof(known_events[0]))

static json_t *webhook_json(const void *row) {
  const db_webhook *w = row;
  json_t *events = json_array();
  char buf[WEBHOOK_EVENTS_MAX];
  snprintf(buf, sizeof(buf), "%s", w->events);
  char *save = NULL;
  for (char *e = strtok_r(buf, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save))
    json_array_append_new(events, json_string(e));
  return json_pack("{s:s, s:s, s:o, s:s}", "id", w->id, "url", w->url, "events", events,
                   "created_at", w->created_at);
}

static json_t *webhook_cursor(const void *row, const void *unused) {
  const db_webhook *w = row;
  (void)unused;
  return page_cursor(w->created_at, w->id);
}

/* Splits an http(s) URL's authority into host (lower case, no brackets)
 * and port (the scheme's default when absent). -1 when it has none. */
static int url_host_port(const char *url, char *host, size_t len, int *port) {
  int https = strncasecmp(url, "https://", 8) == 0;
  const char *p = url + (https ? 8 : 7);
  size_t n = strcspn(p, "/?#");
  const char *at = memchr(p, '@', n);
  if (at != NULL) {
    n -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  const char *end = p + n, *colon = NULL;
  if (*p == '[') {
    const char *close = memchr(p, ']', n);
    if (close == NULL)
      return -1;
    p++;
    colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
    n = (size_t)(close - p);
  } else {
    colon = memchr(p, ':', n);
    if (colon != NULL)
      n = (size_t)(colon - p);
  }
  if (n == 0 || n >= len)
    return -1;
  for (size_t i = 0; i < n; i++)
    host[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
  host[n] = '\0';
  *port = https ? 443 : 80;
  if (colon != NULL && colon + 1 < end) {
    char digits[8] = {0};
    size_t d = (size_t)(end - colon - 1);
    if (d >= sizeof(digits))
      return -1;
    memcpy(digits, colon + 1, d);
    char *stop = NULL;
    long v = strtol(digits, &stop, 10);
    if (*stop != '\0' || v < 1 || v > 65535)
      return -1;
    *port = (int)v;
  }
  return 0;
}

static int is_loopback_or_any(const char *host) {
  return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
         strcmp(host, "::1") == 0 || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* 1 when url reaches this server's own listen address. */
static int url_is_self(const app *a, const char *url) {
  char host[256], listen_host[256];
  int port = 0, listen_port = 0;
  if (url_host_port(url, host, sizeof(host), &port) != 0)
    return 0;
  if (http_parse_listen(a->cfg->listen, listen_host, sizeof(listen_host), &listen_port) != 0)
    return 0;
  int bound = __atomic_load_n(&a->bound_port, __ATOMIC_ACQUIRE);
  if (bound > 0)
    listen_port = bound;
  if (port != listen_port)
    return 0;
  if (strcasecmp(host, listen_host) == 0)
    return 1;
  return is_loopback_or_any(host) &&
         (is_loopback_or_any(listen_host) || strcmp(listen_host, "") == 0);
}

/* Checks url; 0, or -1 with rep set to a 400 naming "url". */
static int check_url(request *req, reply *rep, const char *url) {
  char *err = NULL;
  if (http_url_check(url, &err) != 0) {
    reply_errorf(rep, ERR_INVALID_REQUEST, "url",
                 "The webhook URL is not usable (%s). Give an absolute http:// or https:// URL "
                 "of your receiver.",
                 err ? err : "out of memory");
    free(err);
    return -1;
  }
  if (url_is_self(req->app, url)) {
    reply_error(rep, ERR_INVALID_REQUEST, "url",
                "The webhook URL points at this server itself. Give the URL of the service "
                "that receives the events.");
    return -1;
  }
  return 0;
}

/* Checks the events array and writes it as a Postgres array literal
 * ("{a,b}") into out. 0, or -1 with rep set to a 400 naming the item. */
static int check_events(reply *rep, json_t *events, char *out, size_t len) {
  size_t i, used = 0;
  json_t *e;
  if (json_array_size(events) == 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "events",
                "Give at least one event: deployment.failed, deployment.recovered, "
                "certificate.expiring or certificate.revoked.");
    return -1;
  }
  out[used++] = '{';
  out[used] = '\0'; /* strstr below reads what is written so far */
  json_array_foreach(events, i, e) {
    char field[32];
    snprintf(field, sizeof(field), "events[%zu]", i);
    const char *name = json_string_value(e);
    size_t k = 0;
    while (name != NULL && k < NKNOWN && strcmp(name, known_events[k]) != 0)
      k++;
    if (name == NULL || k == NKNOWN) {
      reply_errorf(rep, ERR_INVALID_REQUEST, field,
                   "Unknown event%s%s. The events are deployment.failed, deployment.recovered, "
                   "certificate.expiring and certificate.revoked.",
                   name ? " " : "", name ? name : "");
      return -1;
    }
    if (strstr(out, name) != NULL)
      continue; /* a repeat changes nothing */
    int w = snprintf(out + used, len - used, "%s%s", used > 1 ? "," : "", name);
    if (w < 0 || (size_t)w >= len - used - 1)
      return reply_error(rep, ERR_INTERNAL, NULL, NULL), -1;
    used += (size_t)w;
  }
  out[used++] = '}';
  out[used] = '\0';
  return 0;
}

/* POST /api/v1/webhooks {"url","events"} -> 201 with the secret, shown once. */
void webhooks_create(request *req, reply *rep) {
  json_t *url = NULL, *events = NULL;
  const field_spec spec[] = {
      {"url", FIELD_STRING, 1, WEBHOOK_URL_MAX, &url},
      {"events", FIELD_ARRAY, 1, 16, &events},
  };
  char *secret = NULL, *sealed = NULL;
  char list[WEBHOOK_EVENTS_MAX + 4];
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 2, rep) != 0)
    goto out;
  if (check_url(req, rep, json_string_value(url)) != 0 ||
      check_events(rep, events, list, sizeof(list)) != 0)
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  secret = crypto_random_token(TOKEN_PREFIX_WEBHOOK, 32);
  sealed = secret ? crypto_seal(req->app->master_key, secret, strlen(secret)) : NULL;
  if (sealed == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  db_webhook w;
  int rc = db_webhook_insert(c, json_string_value(url), list, sealed, &w);
  if (rc <= 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  json_t *j = webhook_json(&w);
  json_object_set_new(j, "secret", json_string(secret));
  reply_json(rep, 201, j);
out:
  crypto_free_secret(secret);
  free(sealed);
  json_decref(body);
}

static const page_list webhooks_page = {"webhooks", sizeof(db_webhook), webhook_json,
                                        webhook_cursor};

/* GET /api/v1/webhooks?limit=&cursor= (never the secrets) */
void webhooks_list(request *req, reply *rep) {
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_webhook *rows = NULL;
  int n = db_webhook_list(c, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &webhooks_page, pg.limit, rows, n, NULL);
  free(rows);
}

/* PATCH /api/v1/webhooks/{id} {"url"?,"events"?}. The secret stays. */
void webhooks_update(request *req, reply *rep) {
  json_t *url = NULL, *events = NULL;
  const field_spec spec[] = {
      {"url", FIELD_STRING, 0, WEBHOOK_URL_MAX, &url},
      {"events", FIELD_ARRAY, 0, 16, &events},
  };
  char list[WEBHOOK_EVENTS_MAX + 4];
  json_t *body = NULL;
  if (param_uuid(req, rep, 0, "webhook id") != 0)
    return;
  body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 2, rep) != 0)
    goto out;
  if ((url != NULL && check_url(req, rep, json_string_value(url)) != 0) ||
      (events != NULL && check_events(rep, events, list, sizeof(list)) != 0))
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  db_webhook w;
  int rc = db_webhook_update(c, req->params[0], url ? json_string_value(url) : NULL,
                             events ? list : NULL, &w);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No webhook with id %s.", req->params[0]);
  else
    reply_json(rep, 200, webhook_json(&w));
out:
  json_decref(body);
}

/* DELETE /api/v1/webhooks/{id} -> 204; its undelivered events go with it. */
void webhooks_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "webhook id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_webhook_delete(c, req->params[0]);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No webhook with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}
