/*
 * http_client.h: outgoing HTTP(S) POSTs of JSON for anything that is not
 * the CA (today: the failure webhook). A second libcurl user next to
 * ca_client.c, kept apart on purpose: the CA client classifies DigiCert
 * replies and carries an API key; this one only reports the status of a
 * POST to an admin-chosen URL. libcurl is initialised for the process by
 * ca_client_global_init().
 *
 * Rules for every request: http and https only (https verifies the peer
 * and host name against the system store), redirects are never followed
 * (a 3xx is just a status), no signals, the reply body is read and
 * dropped.
 */
#ifndef CERTDEPLOY_HTTP_CLIENT_H
#define CERTDEPLOY_HTTP_CLIENT_H

#include <stddef.h>

/* One client per thread: it keeps its connections open between requests. */
typedef struct http_client http_client;

/* A POST to make. Strings are borrowed for the call. */
typedef struct http_post {
  const char *url;
  const char *json;           /* the body, sent as application/json */
  const char *const *headers; /* extra "Name: value" lines, or NULL */
  int nheaders;
  long timeout_seconds;        /* the whole exchange, connect included */
  int (*cancelled)(void *arg); /* polled during the transfer; non-zero aborts it. May be NULL */
  void *cancel_arg;
} http_post;

/* A new client; NULL when out of memory. */
http_client *http_client_new(void);

/* Frees a client and closes its connections. Accepts NULL; NULLs *c. */
void http_client_free(http_client **c);

/*
 * Checks a URL without any network access: absolute http or https URL
 * with a host. Returns 0 when usable, else -1 and, when err is not NULL,
 * a malloc'd reason in *err (the caller frees it).
 */
int http_url_check(const char *url, char **err);

/*
 * "scheme://host[:port]" of url into out (cut to fit): what may be
 * logged of a URL whose user info, path or query may carry a secret.
 */
void http_url_origin(const char *url, char *out, size_t len);

/*
 * Makes the POST. Returns 0 when an HTTP reply arrived (its status in
 * *status, whatever it is), -1 when none did (connection refused, DNS,
 * TLS, timeout, cancelled, out of memory) with a malloc'd reason in *err
 * (the caller frees it; NULL after a memory failure).
 */
int http_post_json(http_client *c, const http_post *req, long *status, char **err);

#endif
