/*
 * http.h: the HTTPS listener (the only libmicrohttpd user).
 *
 * Serves TLS 1.2+. Connection threads, a few, each read requests and
 * write replies for many connections; every request is read whole
 * (bodies are capped at REQUEST_BODY_LIMIT), handed to router_dispatch(),
 * answered, and logged in one line. Handler threads (offload.h) run the
 * handlers that may wait (request_offload()), so a connection thread
 * never waits on PostgreSQL. A request goes where the step it ran last
 * names (request.next, request.h).
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 * It follows a check-in, a resend and an issuance across them.
 */
#ifndef CERTDEPLOY_HTTP_H
#define CERTDEPLOY_HTTP_H

#include "app.h"
#include "request.h"

typedef struct http_server http_server;

/* Starts listening on host:port ("127.0.0.1:8443", "[::1]:0") with the
 * given PEM pair and thread counts. Returns NULL after logging why. */
http_server *http_start(app *a, const char *listen, const char *cert_pem, const char *key_pem,
                        int connection_threads, int handler_threads);

/* The bound port (useful with port 0). */
int http_port(const http_server *s);

/* Stops accepting, finishes in-flight requests, frees. Accepts NULL. */
void http_stop(http_server **s);

/* Value of query parameter `name` of req, or NULL. Owned by the
 * transport; valid until the reply is sent. */
const char *request_query(const request *req, const char *name);

/* Value of request header `name` (any case), or NULL. Owned by the
 * transport like request_query(). */
const char *request_header(const request *req, const char *name);

/* Hands a request held back for a read (request_defer()) back to its
 * connection thread for the step after the read. Any thread may call it,
 * once per hand-over. */
void request_resume(request *req);

/* Splits "host:port" or "[v6]:port" into host (no brackets) and port.
 * Returns -1 on a malformed value. */
int http_parse_listen(const char *listen, char *host, size_t host_len, int *port);

#endif
