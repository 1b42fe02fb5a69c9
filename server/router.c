/* router.c: match a request to the route table, authenticate, dispatch. */
#include "router.h"

#include "handlers.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int router_match(const char *pattern, const char *path, char **params, int *nparams) {
  const char *p = pattern, *s = path;
  int n = 0;
  while (*p && *s) {
    if (*p == '{') {
      const char *close = strchr(p, '}');
      const char *end = strchr(s, '/');
      size_t len = end ? (size_t)(end - s) : strlen(s);
      if (close == NULL || len == 0 || n >= REQUEST_MAX_PARAMS)
        goto fail;
      params[n] = strndup(s, len);
      if (params[n] == NULL)
        goto fail;
      n++;
      p = close + 1;
      s += len;
      continue;
    }
    if (*p != *s)
      goto fail;
    p++;
    s++;
  }
  if (*p != '\0' || *s != '\0')
    goto fail;
  *nparams = n;
  return 1;
fail:
  for (int i = 0; i < n; i++) {
    free(params[i]);
    params[i] = NULL;
  }
  return 0;
}

/* Bodies are JSON: a request that carries one must say so. */
static int content_type_ok(const request *req) {
  if (req->body_len == 0)
    return 1;
  if (req->content_type == NULL)
    return 0;
  const char *ct = req->content_type;
  size_t n = strlen("application/json");
  if (strncasecmp(ct, "application/json", n) != 0)
    return 0;
  return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static void method_not_allowed(request *req, reply *rep) {
  char allow[128] = "";
  size_t used = 0;
  for (int i = 0; i < route_count; i++) {
    char *params[REQUEST_MAX_PARAMS];
    int n = 0;
    if (!router_match(routes[i].pattern, req->path, params, &n))
      continue;
    for (int k = 0; k < n; k++)
      free(params[k]);
    if (strstr(allow, routes[i].method) != NULL)
      continue;
    int w =
        snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", routes[i].method);
    if (w < 0 || (size_t)w >= sizeof(allow) - used) {
      allow[used] = '\0'; /* five methods fit many times over; keep the whole ones */
      break;
    }
    used += (size_t)w;
  }
  if (allow[0] == '\0') {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No route for %s %s.", req->method, req->path);
    return;
  }
  reply_errorf(rep, ERR_METHOD_NOT_ALLOWED, NULL, "%s is not allowed on %s; allowed: %s.",
               req->method, req->path, allow);
  rep->allow = strdup(allow);
}

/* The route's own work: authentication, content type, handler, audit. */
static void route_run(request *req, reply *rep) {
  const route *found = req->route;
  if (found == NULL && strcmp(req->method, "GET") == 0 && strncmp(req->path, "/api/", 5) != 0 &&
      strncmp(req->path, "/device/", 8) != 0) {
    static_file(req, rep);
    return;
  }
  if (found == NULL) {
    method_not_allowed(req, rep);
    return;
  }
  switch (found->auth) {
  case ROUTE_PUBLIC:
    break;
  case ROUTE_API_READ:
  case ROUTE_API_WRITE:
    if (auth_api(req, rep) != 0)
      return;
    if (found->auth == ROUTE_API_WRITE && req->who.kind != PRINCIPAL_ADMIN) {
      reply_error(rep, ERR_FORBIDDEN, NULL,
                  "This token has the observer role, which can only read; use an admin token.");
      return;
    }
    break;
  case ROUTE_DEVICE:
    if (auth_device(req, rep) != 0)
      return;
    break;
  case ROUTE_DEVICE_SELF:
    if (auth_device_token(req, rep, req->token_hash) != 0)
      return;
    break;
  }
  if (!content_type_ok(req)) {
    reply_errorf(rep, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                 "Content type '%s' is not accepted; send 'Content-Type: application/json'.",
                 req->content_type ? req->content_type : "(none)");
    return;
  }
  found->handler(req, rep);
  if (rep->status == 0 && req->next == REQUEST_REPLY) /* one that names a next step replies later */
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
  if (found->auth == ROUTE_API_WRITE && rep->status >= 200 && rep->status <= 299)
    audit_record(req, rep);
}

void router_dispatch(request *req, reply *rep) {
  const route *found = NULL;
  for (int i = 0; i < route_count && found == NULL; i++) {
    if (strcmp(routes[i].method, req->method) != 0)
      continue;
    if (router_match(routes[i].pattern, req->path, req->params, &req->nparams))
      found = &routes[i];
  }
  req->route = found;
  if (found != NULL && found->thread == ROUTE_NEVER_WAITS)
    route_run(req, rep);
  else
    request_offload(req, route_run);
}
