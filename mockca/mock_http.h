/*
 * mock_http.h: the mock CA's HTTP layer, the only libmicrohttpd user in
 * mockca/.
 *
 * One thread per connection, so a handler may block (latency, the
 * "timeout" fault) without holding up other clients. Request bodies are
 * accumulated up to a cap; a larger body is read to its end and answered
 * 413 before any handler runs. Routing is a table of mock_route: no match
 * on the path is 404, a path match with another method is 405, and a
 * loopback-only route asked from another address is 403. Every error
 * body has the DigiCert shape {"errors":[{"code":..,"message":..}]}.
 */
#ifndef CERTDEPLOY_MOCK_HTTP_H
#define CERTDEPLOY_MOCK_HTTP_H

#include <jansson.h>
#include <stddef.h>

/* One received request, valid for the duration of a handler call. */
typedef struct mock_request mock_request;
/* The reply a handler builds; sent after the handler returns. */
typedef struct mock_reply mock_reply;

/* Path of the request (URL-decoded, no query string). */
const char *mock_request_path(const mock_request *req);
/* Body bytes (NUL-terminated for convenience, may hold NULs) and length. */
const char *mock_request_body(const mock_request *req, size_t *len);
/* Value of a request header (name case-insensitive), NULL when absent. */
const char *mock_request_header(const mock_request *req, const char *name);
/* Waits ms milliseconds. Answers 0 when the time passed, -1 early when
 * the client closed its connection or the server is stopping (the handler
 * should then drop the reply). */
int mock_request_wait(const mock_request *req, long ms);

/* Replies status with a JSON body; takes ownership of body (may be NULL
 * on an allocation failure, which becomes a 500). */
void mock_reply_json(mock_reply *reply, unsigned status, json_t *body);
/* Replies status with {"errors":[{"code":code,"message":message}]}. */
void mock_reply_error(mock_reply *reply, unsigned status, const char *code, const char *message);
/* Replies status with len bytes of data (copied) of the given type. */
void mock_reply_raw(mock_reply *reply, unsigned status, const char *content_type, const char *data,
                    size_t len);
/* Adds one extra response header (copied; a later call replaces it).
 * Values with CR or LF are ignored. */
void mock_reply_header(mock_reply *reply, const char *name, const char *value);
/* Sends nothing and closes the connection: with reset non-zero as a TCP
 * reset (SO_LINGER 0), else as an orderly close. */
void mock_reply_drop(mock_reply *reply, int reset);

/* The DigiCert-like error code used for an HTTP status ("invalid_input"
 * for 400, "access_denied" for 401, ...). Static string. */
const char *mock_error_code(unsigned status);

typedef void (*mock_handler)(void *app, const mock_request *req, mock_reply *reply);

typedef struct mock_route {
  const char *method; /* "GET", "POST", "DELETE" */
  const char *path;   /* exact path, or a prefix when prefix is set */
  int prefix;         /* 1: path matches anything that starts with it */
  int loopback_only;  /* 1: 403 unless the peer is a loopback address */
  mock_handler handler;
} mock_route;

typedef struct mock_http_config {
  const char *host;         /* address or name to bind */
  const char *port;         /* decimal port; "0" picks a free one */
  const char *tls_cert_pem; /* PEM text, or NULL for plain HTTP */
  const char *tls_key_pem;  /* PEM text, or NULL */
  const mock_route *routes; /* not copied: must outlive the server */
  size_t n_routes;
  void *app;       /* passed to every handler */
  size_t max_body; /* larger bodies get 413 */
} mock_http_config;

typedef struct mock_http mock_http;

/* Binds and starts serving. NULL on failure with a malloc'd message in
 * *err (caller frees). The config's strings are copied where needed. */
mock_http *mock_http_start(const mock_http_config *config, char **err);
/* The bound TCP port (the real one when "0" was asked). */
unsigned mock_http_port(const mock_http *http);
/* Stops accepting, wakes waiting handlers, joins all threads and frees
 * *http, setting it to NULL. Accepts NULL and *http == NULL. */
void mock_http_stop(mock_http **http);

#endif
