/*
 * api_client.h: certdeployctl's only libcurl user. Sends requests to the
 * certdeploy REST API over HTTPS with the admin token and hands back the
 * status and the parsed JSON reply. One client keeps one connection alive
 * for the whole run (a device list is several requests).
 *
 * TLS verification is on unless insecure is set: against ca_file alone
 * when given, else the system's trust store. Only https:// URLs are
 * accepted, since every request carries the token.
 */
#ifndef CERTDEPLOY_CTL_API_CLIENT_H
#define CERTDEPLOY_CTL_API_CLIENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct api_client api_client;

typedef struct api_client_options {
  const char *base_url; /* "https://host:port", a trailing '/' is fine */
  const char *token;    /* sent as "Authorization: Bearer <token>" */
  const char *ca_file;  /* PEM file the server must chain to; NULL: system CAs */
  int insecure;         /* 1: do not verify the server at all */
  long timeout_seconds; /* limit for one whole request */
} api_client_options;

/* Creates a client; opts' strings are copied (the token copy is wiped on
 * free). Only one client may exist at a time (it owns libcurl's global
 * state). NULL with *err on failure: a URL that is not https://, a CA
 * file that cannot be read (both the caller's mistake), or no memory. */
api_client *api_client_new(const api_client_options *opts, char **err);

/* Sends method ("GET" or "POST") to base_url + path (path starts with '/'
 * and may carry a query string). body: JSON sent compact with
 * "Content-Type: application/json", or NULL for none.
 *
 * Returns 0 when the server answered, whatever the status: *status holds
 * it and *reply the parsed JSON body, NULL when the body was empty or not
 * JSON; the caller owns *reply. Returns -1 with *err when no answer came
 * (connect, TLS verification, timeout, a reply over the size cap); *reply
 * is then NULL. Reply buffers are wiped after use. */
int api_client_request(api_client *c, const char *method, const char *path, const json_t *body,
                       long *status, json_t **reply, char **err);

/* Where api_client_download puts a body as it arrives: returns n, or 0
 * when it could not take the bytes (a full disk), which ends the
 * transfer. */
typedef size_t (*api_client_sink)(const char *data, size_t n, void *arg);

/* GETs base_url + path with "Accept: accept" and hands the body of a 2xx
 * answer to sink as it arrives, never holding it whole (a CSV export of a
 * fleet). The limit is not one for the whole transfer but timeout_seconds
 * without a byte. Returns 0 when the whole answer came: *status holds it,
 * and for a non-2xx one *reply its parsed JSON body (NULL when none; the
 * caller owns it). Returns -1 with *err when no answer came (as
 * api_client_request), and -2 with *err when a 2xx answer broke off
 * (the server cut it short, the connection dropped, or sink refused):
 * what came before has gone to sink. */
int api_client_download(api_client *c, const char *path, const char *accept, api_client_sink sink,
                        void *sink_arg, long *status, json_t **reply, char **err);

/* The base URL without a trailing '/', owned by the client. */
const char *api_client_base_url(const api_client *c);

/* Frees *c, wiping its copy of the token, and sets *c to NULL. Accepts
 * NULL. */
void api_client_free(api_client **c);

#endif
