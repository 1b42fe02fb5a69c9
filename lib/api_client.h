/*
 * api_client.h: the certdeploy API over HTTPS with libcurl, the one
 * libcurl module of the programs that call it: certdeploy-agent (the
 * Device API) and certdeployctl (the REST API). Sends JSON with a bearer
 * token and hands back the status and the parsed JSON reply. One client
 * keeps one connection alive for the whole run.
 *
 * Only https:// URLs are accepted: every request but the agent's enroll
 * carries a token. TLS verification is on unless insecure is set: against
 * ca_file alone when given, else the system's trust store. Tokens are
 * wiped wherever they were copied (the client's copy, the header lines),
 * and so are the request text and the reply as received.
 *
 * Error messages name the programs' flags (--server, --ca-file,
 * --timeout), which both programs share.
 */
#ifndef CERTDEPLOY_API_CLIENT_H
#define CERTDEPLOY_API_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

typedef struct api_client api_client;

typedef struct api_client_options {
  const char *base_url;          /* "https://host:port", a trailing '/' is fine */
  const char *token;             /* bearer of every request, or NULL for none */
  const char *ca_file;           /* PEM file the server must chain to; NULL: system CAs */
  int insecure;                  /* 1: do not verify the server at all */
  long timeout_seconds;          /* limit for one whole request */
  const char *user_agent;        /* "certdeployctl/1.2.3" */
  size_t max_reply_bytes;        /* a longer reply fails the request */
  int json_required;             /* 1: a 2xx reply that is not JSON fails the request */
  volatile sig_atomic_t *cancel; /* when non-NULL and set, a transfer aborts */
} api_client_options;

/* Creates a client; opts' strings are copied (the token copy is wiped on
 * free). Only one client may exist at a time (it owns libcurl's global
 * state). NULL with *err on failure: a URL that is not https://, a CA
 * file that cannot be read (both the caller's mistake), or no memory. */
api_client *api_client_new(const api_client_options *opts, char **err);

/* Sends method ("GET", "POST", or another) to base_url + path (path
 * starts with '/' and may carry a query string). bearer: the token for
 * "Authorization: Bearer" of this request, or NULL for the client's own
 * (none when that is NULL too). body: JSON sent compact with
 * "Content-Type: application/json", or NULL for none.
 *
 * Returns 0 when the server answered, whatever the status: *status holds
 * it and *reply the parsed JSON body, NULL when the body was empty or not
 * JSON; the caller owns *reply. Returns -1 with *err when no answer came
 * (connect, TLS verification, timeout, cancel, a reply over the size
 * cap) or, with json_required, a 2xx body was not JSON; *reply is then
 * NULL. */
int api_client_request(api_client *c, const char *method, const char *path, const char *bearer,
                       const json_t *body, long *status, json_t **reply, char **err);

/* Where api_client_download puts a body as it arrives: returns n, or 0
 * when it could not take the bytes (a full disk), which ends the
 * transfer. */
typedef size_t (*api_client_sink)(const char *data, size_t n, void *arg);

/* GETs base_url + path with "Accept: accept" and the client's token, and
 * hands the body of a 2xx answer to sink as it arrives, never holding it
 * whole (a CSV export of a fleet). The limit is not one for the whole
 * transfer but timeout_seconds without a byte. Returns 0 when the whole
 * answer came: *status holds it, and for a non-2xx one *reply its parsed
 * JSON body (NULL when none; the caller owns it). Returns -1 with *err
 * when no answer came (as api_client_request), and -2 with *err when a
 * 2xx answer broke off (the server cut it short, the connection dropped,
 * or sink refused): what came before has gone to sink. */
int api_client_download(api_client *c, const char *path, const char *accept, api_client_sink sink,
                        void *sink_arg, long *status, json_t **reply, char **err);

/* The base URL without a trailing '/', owned by the client. */
const char *api_client_base_url(const api_client *c);

/* Describes a non-2xx answer in one line: "HTTP 409 stale_generation: <the
 * server's message>" from the {"error":{"code","message"}} body, or just
 * "HTTP 502" when there is none. malloc'd; NULL when out of memory. */
char *api_error_describe(long status, const json_t *reply);

/* Frees *c, closes its connection, wipes its copy of the token and sets
 * *c to NULL. Accepts NULL. */
void api_client_free(api_client **c);

#endif
