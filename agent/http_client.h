/*
 * http_client.h: the agent's only libcurl user. POSTs JSON to the
 * certdeploy Device API over HTTPS and hands back the status and the parsed
 * JSON reply. One client keeps one connection alive for the whole run.
 *
 * Only https:// URLs are accepted: every request but enroll carries the
 * device token.
 */
#ifndef CERTDEPLOY_AGENT_HTTP_CLIENT_H
#define CERTDEPLOY_AGENT_HTTP_CLIENT_H

#include <jansson.h>
#include <signal.h>

typedef struct http_client http_client;

typedef struct http_client_options {
  const char *base_url;          /* "https://host:port", a trailing '/' is fine */
  const char *ca_file;           /* PEM file the server must chain to; NULL: system CAs */
  int insecure;                  /* 1: do not verify the server at all */
  long timeout_seconds;          /* limit for one whole request */
  volatile sig_atomic_t *cancel; /* when non-NULL and set, a transfer aborts */
} http_client_options;

/* Creates a client; opts' strings are copied. Only one client may exist at
 * a time (it owns libcurl's global state). NULL with *err on failure, e.g.
 * a URL that is not https:// or a CA file that cannot be read. */
http_client *http_client_new(const http_client_options *opts, char **err);

/* The base URL without a trailing '/', owned by the client. */
const char *http_client_base_url(const http_client *c);

/* POSTs body as compact JSON to base_url + path (path starts with '/').
 * bearer: the device token for "Authorization: Bearer", or NULL.
 *
 * Returns 0 when the server answered, whatever the status: *status holds
 * it and *reply the parsed JSON body (NULL when the body was empty, or was
 * not JSON on an error status); the caller owns *reply. Returns -1 with
 * *err when no answer came (connect, TLS, timeout, cancel) or a 2xx body
 * was not JSON; *reply is then NULL. Reply buffers are wiped after use. */
int http_client_post_json(http_client *c, const char *path, const char *bearer, const json_t *body,
                          long *status, json_t **reply, char **err);

/* Describes a non-2xx answer in one line: "HTTP 409 stale_generation: <the
 * server's message>" from the {"error":{"code","message"}} body, or just
 * "HTTP 502" when there is none. malloc'd; NULL when out of memory. */
char *http_error_describe(long status, const json_t *reply);

/* Frees *c, closes its connection and sets *c to NULL. Accepts NULL. */
void http_client_free(http_client **c);

#endif
