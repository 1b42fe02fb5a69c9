/*
 * request.h: what a route handler sees of a request and fills in a reply.
 *
 * No transport library shows through here: http.c (libmicrohttpd) fills a
 * request, calls router_dispatch(), and sends the reply. Handlers build
 * replies only through reply.h.
 */
#ifndef CERTDEPLOY_REQUEST_H
#define CERTDEPLOY_REQUEST_H

#include <stddef.h>

#include "auth.h"

struct app;
struct route;
struct db_conn;

#define REQUEST_MAX_PARAMS 4
#define REQUEST_BODY_LIMIT (1024 * 1024)

typedef struct request request;
typedef struct reply reply;
/* A handler, or a later part of one (request_defer, request_offload). */
typedef void (*request_step)(request *req, reply *rep);

struct request {
  const char *method;               /* "GET", "POST", ... */
  const char *path;                 /* decoded path, no query */
  char *params[REQUEST_MAX_PARAMS]; /* path parameters captured by the route (owned) */
  int nparams;
  const char *body; /* NUL-terminated copy of the body (may contain NULs) */
  size_t body_len;
  const char *content_type;  /* header value or NULL */
  const char *authorization; /* header value or NULL */
  char client_ip[64];
  char request_id[40];
  const struct route *route;         /* matched route, NULL for 404 */
  principal who;                     /* filled by the router's auth step */
  char token_hash[65];               /* ROUTE_DEVICE_SELF: the device token's hash to look up */
  struct db_conn *db;                /* acquired on first request_db(), released after the reply */
  struct app *app;                   /* server-wide state */
  void *transport;                   /* opaque, for request_query() */
  void (*defer_start)(request *req); /* set by request_defer(), request_offload() */
  request_step defer_finish;
  request_step offload_step; /* request_offload(): run on a handler thread */
  void *deferred;            /* the handler's state while held back */
  void (*deferred_free)(void *state);
};

struct reply {
  int status; /* 0 until a reply is set */
  char *body; /* malloc'd */
  size_t body_len;
  const char *content_type;  /* static string */
  char *allow;               /* Allow header for 405 (malloc'd) */
  const char *error_code;    /* wire code of an error reply, for the log */
  long retry_after;          /* seconds, or 0 for none */
  const char *cache_control; /* static string, default "no-store" */

  /* A body made while it is sent (reply_stream.h), or NULL. */
  struct reply_stream *stream;
};

/* Value of query parameter `name`, or NULL. Owned by the transport;
 * valid until the reply is sent. Implemented by http.c. */
const char *request_query(const request *req, const char *name);

/* Value of request header `name` (any case), or NULL. Owned by the
 * transport like request_query(). Implemented by http.c. */
const char *request_header(const request *req, const char *name);

/* The request's database connection, acquired from the pool on first use.
 * NULL when the database is unreachable; then rep is set to 503
 * `unavailable` and the handler should return. */
struct db_conn *request_db(request *req, reply *rep);

/* For a handler that needs a read another thread runs (db_async.h): when
 * the handler returns, the transport holds the request back, no thread
 * waiting, and calls start(req), which starts the read with state (the
 * handler's, freed with free_state when the request ends); the read's
 * callback calls request_resume(req), from any thread, and finish(req,
 * rep) then completes the reply on a connection thread (http.h), so it
 * must not wait either: what would, it hands over with request_offload(). */
void request_defer(request *req, void *state, void (*free_state)(void *state),
                   void (*start)(request *req), request_step finish);

/* Hands a held-back request back to a connection thread for its finish
 * step. Implemented by http.c. */
void request_resume(request *req);

/* For work that may wait (on PostgreSQL, the CA, the disk), which must
 * not run on a connection thread (http.h): when the caller returns, the
 * transport holds the request back and a handler thread (offload.h) runs
 * step(req, rep), which replies, or defers again. The route table says
 * which handlers may start on a connection thread (router.h); the router
 * hands every other one over this way. Implemented by http.c. */
void request_offload(request *req, request_step step);

/* Releases what a request holds (database connection, params, deferred
 * state). */
void request_release(request *req);

#endif
