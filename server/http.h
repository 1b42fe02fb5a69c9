/*
 * http.h: the HTTPS listener (the only libmicrohttpd user).
 *
 * Serves TLS 1.2+ from a thread pool; every request is read whole (bodies
 * are capped at REQUEST_BODY_LIMIT), handed to router_dispatch(), answered,
 * and logged in one line.
 */
#ifndef CERTDEPLOY_HTTP_H
#define CERTDEPLOY_HTTP_H

#include "app.h"

typedef struct http_server http_server;

/* Starts listening on host:port ("127.0.0.1:8443", "[::1]:0") with the
 * given PEM pair and thread count. Returns NULL after logging why. */
http_server *http_start(app *a, const char *listen, const char *cert_pem, const char *key_pem,
                        int threads);

/* The bound port (useful with port 0). */
int http_port(const http_server *s);

/* Stops accepting, finishes in-flight requests, frees. Accepts NULL. */
void http_stop(http_server **s);

/* Splits "host:port" or "[v6]:port" into host (no brackets) and port.
 * Returns -1 on a malformed value. */
int http_parse_listen(const char *listen, char *host, size_t host_len, int *port);

#endif
