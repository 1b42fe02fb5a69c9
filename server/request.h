/*
 * request.h: what a route handler sees of a request and fills in a reply.
 *
 * No transport library shows through here: http.c (libmicrohttpd) fills a
 * request, calls router_dispatch(), and sends the reply, or takes the
 * request to the step it names next (request.next); what a handler asks
 * of the transport itself (query parameters, a resume) is in http.h.
 * Handlers build replies only through reply.h.
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

/* Where a request goes when the step running now returns: the one record
 * of its path across threads (docs/threads.md). A step that sets none
 * has replied. */
typedef enum request_next {
  REQUEST_REPLY = 0,  /* send the reply the step set */
  REQUEST_AFTER_READ, /* held back, no thread waiting: start_read(req) hands a read to
                         the reads' thread, whose callback calls request_resume();
                         then `then` runs on a connection thread (request_defer()) */
  REQUEST_ON_HANDLER, /* held back: `then` runs on a handler thread (request_offload()) */
} request_next;

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
  const struct route *route;        /* matched route, NULL for 404 */
  principal who;                    /* filled by the router's auth step */
  char token_hash[65];              /* ROUTE_DEVICE_SELF: the device token's hash to look up */
  struct db_conn *db;               /* acquired on first request_db(), released after each step */
  struct app *app;                  /* server-wide state */
  void *transport;                  /* opaque, for request_query() and request_resume() */
  request_next next;                /* set by the running step; the transport resets it */
  request_step then;                /* the step `next` names */
  void (*start_read)(request *req); /* REQUEST_AFTER_READ: hands the read over */
  void *state;                      /* the handler's, across its steps (request_defer()) */
  void (*state_free)(void *state);  /* frees it when the request ends */
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

/* The request's database connection, acquired from the pool on first use.
 * NULL when the database is unreachable; then rep is set to 503
 * `unavailable` and the handler should return. */
struct db_conn *request_db(request *req, reply *rep);

/* For a handler that needs a read another thread runs (db_async.h):
 * sets REQUEST_AFTER_READ. When the handler returns, the transport holds
 * the request back, no thread waiting, and calls start(req), which starts
 * the read with state (the handler's, freed with free_state when the
 * request ends); the read's callback calls request_resume(req) (http.h),
 * from any thread, and finish(req, rep) then completes the reply on a
 * connection thread (http.h), so it must not wait either: what would, it
 * hands over with request_offload(). */
void request_defer(request *req, void *state, void (*free_state)(void *state),
                   void (*start)(request *req), request_step finish);

/* For work that may wait (on PostgreSQL, the CA, the disk), which must
 * not run on a connection thread (http.h): sets REQUEST_ON_HANDLER. When
 * the caller returns, the transport holds the request back and a handler
 * thread (offload.h) runs step(req, rep), which replies, or defers again.
 * The route table says which handlers may start on a connection thread
 * (router.h); the router hands every other one over this way. */
void request_offload(request *req, request_step step);

/* Releases what a request holds (database connection, params, the
 * handler's state). */
void request_release(request *req);

#endif
