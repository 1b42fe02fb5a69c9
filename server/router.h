/*
 * router.h: routes as data. The table itself is in routes.c; one handler
 * file per URL group (routes_tokens.c serves /api/v1/tokens...).
 *
 * Patterns are literal segments and `{name}` placeholders matching one
 * non-empty segment; captured values land in request.params in order.
 */
#ifndef CERTDEPLOY_ROUTER_H
#define CERTDEPLOY_ROUTER_H

#include "request.h"

typedef enum route_auth {
  ROUTE_PUBLIC,      /* no token */
  ROUTE_API_READ,    /* admin or observer token */
  ROUTE_API_WRITE,   /* admin token; observer gets 403 */
  ROUTE_DEVICE,      /* device token */
  ROUTE_DEVICE_SELF, /* device token, looked up by the handler's own first query
                        (auth_device_accept): the check-in's one round trip */
} route_auth;

/* The thread a route's authentication and handler run on (offload.h). */
typedef enum route_thread {
  ROUTE_WAITS,       /* a handler thread: it may wait on PostgreSQL, the CA or the disk */
  ROUTE_NEVER_WAITS, /* the connection thread: it only computes, or defers its waiting
                        (request_defer, request_offload) */
} route_thread;

typedef void (*route_handler)(request *req, reply *rep);

typedef struct route {
  const char *method;
  const char *pattern;
  route_auth auth;
  route_handler handler;
  route_thread thread;
} route;

/* The route table and its length (routes.c). */
extern const route routes[];
extern const int route_count;

/* Finds the route, authenticates, checks the content type, and calls the
 * handler, on the connection thread or a handler thread as the route says
 * (unknown routes and static files: a handler thread). Sets
 * 404/405/401/403/415 itself when it does not get that far. */
void router_dispatch(request *req, reply *rep);

/* Matches path against pattern; on success stores captured parameters
 * (malloc'd) in params and their count in *nparams and returns 1. */
int router_match(const char *pattern, const char *path, char **params, int *nparams);

#endif
