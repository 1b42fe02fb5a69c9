/* http.c: libmicrohttpd glue: read the request, dispatch, reply, log. */
#include "http.h"

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "reply.h"
#include "reply_stream.h"
#include "router.h"
#include "wipebuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* An over-size body up to this size is read and discarded before the 413,
 * so the client sees the reply rather than a reset of a half-sent body. */
#define REQUEST_DRAIN_LIMIT (16 * 1024 * 1024)

struct http_server {
  struct MHD_Daemon *daemon;
  app *app;
  offload *handlers; /* REQUEST_ON_HANDLER steps (request_offload()) */
};

/* Per-connection request state, from the first callback to completion. */
typedef struct exchange {
  request req;
  http_server *server;
  reply rep;
  wipebuf body; /* request bodies carry enroll secrets and CA API tokens */
  int too_large;
  int refuse_early; /* too large even to read and discard: answer at once */
  int held;         /* suspended for the step req.next names, until request_resume() */
  char *method;
  char *path;
  struct timespec started;
} exchange;

void request_resume(request *req) {
  MHD_resume_connection((struct MHD_Connection *)req->transport);
}

/* Hands the request's database connection back to the pool. */
static void release_db(request *req) {
  if (req->db) {
    db_release(req->app->db, req->db);
    req->db = NULL;
  }
}

/* Runs, on this thread, the step the request named next (request.then);
 * that step names the one after, or replies. */
static void run_then(exchange *x) {
  request_step step = x->req.then;
  x->req.next = REQUEST_REPLY;
  x->req.then = NULL;
  step(&x->req, &x->rep);
  release_db(&x->req);
}

static void on_handler(void *arg);

/* Takes a held-back request to the thread of its next step: the reads'
 * thread, whose callback resumes it; a handler thread; or, once it has
 * replied, its connection thread (on_request). Another thread may have
 * x as soon as this is called: the caller must not touch it after. */
static void hand_over(exchange *x) {
  switch (x->req.next) {
  case REQUEST_AFTER_READ:
    x->req.start_read(&x->req);
    break;
  case REQUEST_ON_HANDLER:
    offload_run(x->server->handlers, on_handler, x);
    break;
  case REQUEST_REPLY:
    request_resume(&x->req);
    break;
  }
}

/* On a handler thread: the step request_offload() named, then on to the
 * next, the request still held back. */
static void on_handler(void *arg) {
  exchange *x = arg;
  run_then(x);
  hand_over(x);
}

const char *request_query(const request *req, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)req->transport, MHD_GET_ARGUMENT_KIND,
                                     name);
}

const char *request_header(const request *req, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)req->transport, MHD_HEADER_KIND,
                                     name);
}

int http_parse_listen(const char *listen, char *host, size_t host_len, int *port) {
  const char *colon;
  size_t hlen;
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    if (close == NULL || close[1] != ':')
      return -1;
    hlen = (size_t)(close - listen - 1);
    memcpy(host, listen + 1, hlen < host_len ? hlen : 0);
    colon = close + 1;
  } else {
    colon = strrchr(listen, ':');
    if (colon == NULL)
      return -1;
    hlen = (size_t)(colon - listen);
    memcpy(host, listen, hlen < host_len ? hlen : 0);
  }
  if (hlen == 0 || hlen >= host_len)
    return -1;
  host[hlen] = '\0';
  char *end = NULL;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (errno || end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
    return -1;
  *port = (int)p;
  return 0;
}

/* Milliseconds since `since`, to two decimals ("0.42"), into out. */
static void elapsed_ms(const struct timespec *since, char *out, size_t len) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ns =
      (long long)(now.tv_sec - since->tv_sec) * 1000000000LL + (now.tv_nsec - since->tv_nsec);
  long long hundredths = (ns + 5000) / 10000; /* of a millisecond, rounded */
  snprintf(out, len, "%lld.%02lld", hundredths / 100, hundredths % 100);
}

static void client_ip(struct MHD_Connection *c, char *out, size_t len) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  out[0] = '\0';
  if (ci == NULL || ci->client_addr == NULL)
    return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
              (socklen_t)len);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
              (socklen_t)len);
}

/* Accepts a client-chosen X-Request-Id only when it is short and plain. */
static void request_id(struct MHD_Connection *c, char *out, size_t len) {
  const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
  if (given && strlen(given) < len && strlen(given) > 0 &&
      strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
          strlen(given)) {
    snprintf(out, len, "%s", given);
    return;
  }
  if (crypto_uuid_v4(out) != 0)
    snprintf(out, len, "unknown");
}

static exchange *exchange_new(http_server *s, struct MHD_Connection *c, const char *url,
                              const char *method) {
  exchange *x = calloc(1, sizeof(*x));
  if (x == NULL)
    return NULL;
  x->server = s;
  clock_gettime(CLOCK_MONOTONIC, &x->started);
  x->method = strdup(method);
  x->path = strdup(url);
  if (x->method == NULL || x->path == NULL) {
    free(x->method);
    free(x->path);
    free(x);
    return NULL;
  }
  x->req.method = x->method;
  x->req.path = x->path;
  x->req.app = s->app;
  x->req.transport = c;
  x->req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
  x->req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  client_ip(c, x->req.client_ip, sizeof(x->req.client_ip));
  request_id(c, x->req.request_id, sizeof(x->req.request_id));
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
  if (cl != NULL) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno == 0 && end != cl && n > REQUEST_BODY_LIMIT) {
      x->too_large = 1;
      x->refuse_early = n > REQUEST_DRAIN_LIMIT;
    }
  }
  return x;
}

static int body_append(exchange *x, const char *data, size_t len) {
  if (x->too_large)
    return 0;
  int rc = wipebuf_append(&x->body, data, len, REQUEST_BODY_LIMIT);
  if (rc == WIPEBUF_TOO_BIG)
    x->too_large = 1;
  return rc == WIPEBUF_NO_MEMORY ? -1 : 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, exchange *x) {
  reply *rep = &x->rep;
  struct MHD_Response *r;
  if (rep->stream != NULL) {
    r = reply_stream_response(rep, c, x->server->handlers);
  } else if (rep->body_len > 0) {
    /* MHD owns it now, and wipes it when done (it may hold a secret) */
    r = MHD_create_response_from_buffer_with_free_callback(rep->body_len, rep->body,
                                                           reply_body_free);
    rep->body = NULL;
  } else {
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  }
  if (r == NULL)
    return MHD_NO;
  if (rep->content_type)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                          rep->cache_control ? rep->cache_control : "no-store");
  MHD_add_response_header(r, "X-Request-Id", x->req.request_id);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
  if (rep->allow)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rep->allow);
  if (rep->retry_after > 0) {
    char ra[24];
    snprintf(ra, sizeof(ra), "%ld", rep->retry_after);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
  enum MHD_Result ret = MHD_queue_response(c, (unsigned int)rep->status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  exchange *x = *con_cls;
  if (x == NULL) {
    x = exchange_new(cls, c, url, method);
    if (x == NULL)
      return MHD_NO;
    *con_cls = x;
    if (!x->refuse_early)
      return MHD_YES; /* come back with the body */
  } else if (*upload_size > 0) {
    if (body_append(x, upload, *upload_size) != 0)
      return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }
  if (x->held) { /* back from request_resume() */
    x->held = 0;
    if (x->req.next == REQUEST_AFTER_READ) /* the read is back */
      run_then(x);
    /* else a handler thread's step replied */
  } else if (x->too_large) {
    reply_errorf(&x->rep, ERR_PAYLOAD_TOO_LARGE, NULL,
                 "The request body is over %d bytes (1 MiB); send less.", REQUEST_BODY_LIMIT);
  } else {
    x->req.body = x->body.data ? x->body.data : "";
    x->req.body_len = x->body.len;
    router_dispatch(&x->req, &x->rep);
    release_db(&x->req); /* before the reply is written */
  }
  if (x->req.next != REQUEST_REPLY) {
    /* suspended before the hand-over, so its resume always comes after */
    x->held = 1;
    MHD_suspend_connection(c);
    hand_over(x);
    return MHD_YES;
  }
  return send_reply(c, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  (void)cls;
  exchange *x = *con_cls;
  if (x == NULL)
    return;
  char status[8], ms[32];
  snprintf(status, sizeof(status), "%d", x->rep.status);
  elapsed_ms(&x->started, ms, sizeof(ms));
  log_field f[] = {
      {"method", x->method, 0},
      {"path", x->path, 0},
      {"route", x->req.route ? x->req.route->pattern : NULL, 0},
      {"status", status, 1},
      {"duration_ms", ms, 1},
      {"request_id", x->req.request_id, 0},
      {"actor", x->req.who.kind != PRINCIPAL_NONE ? x->req.who.actor : NULL, 0},
      {"client", x->req.client_ip, 0},
      {"error", x->rep.error_code, 0},
      {"aborted", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL : "true", 1},
  };
  log_event(x->rep.status >= 500 ? LOG_WARN : LOG_INFO, "request", f,
            (int)(sizeof(f) / sizeof(f[0])));
  metrics_http_request(&x->req, x->rep.status);
  request_release(&x->req);
  reply_release(&x->rep);
  wipebuf_release(&x->body);
  free(x->method);
  free(x->path);
  free(x);
  *con_cls = NULL;
}

static int hexdigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decoding of paths and query values, in place. "%00" becomes the
 * byte 0xFF instead of a NUL: a decoded NUL would cut the C string short
 * ("/tokens/<id>%00junk" would name <id>), while 0xFF is never valid
 * UTF-8, so every check of ids, numbers and text refuses it with a 4xx. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  char *w = s;
  for (const char *r = s; *r;) {
    int hi, lo;
    if (r[0] == '%' && (hi = hexdigit(r[1])) >= 0 && (lo = hexdigit(r[2])) >= 0) {
      *w++ = (hi | lo) ? (char)(hi * 16 + lo) : (char)0xFF;
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  return (size_t)(w - s);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  log_field f[] = {{"detail", msg, 0}};
  log_event(LOG_DEBUG, "http transport", f, 1);
}

http_server *http_start(app *a, const char *listen, const char *cert_pem, const char *key_pem,
                        int connection_threads, int handler_threads) {
  char host[256];
  int port;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  if (http_parse_listen(listen, host, sizeof(host), &port) != 0) {
    log_fail("CERTDEPLOY_LISTEN '%s' is not host:port (e.g. 127.0.0.1:8443 or [::1]:8443)", listen);
    return NULL;
  }
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TLS |
                       MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME; /* request_defer() */
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  if (strcmp(host, "localhost") == 0)
    snprintf(host, sizeof(host), "127.0.0.1");
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    flags |= MHD_USE_IPv6;
  } else {
    log_fail("CERTDEPLOY_LISTEN host '%s' is not an IP address (use 0.0.0.0, 127.0.0.1, ::)", host);
    return NULL;
  }
  http_server *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  s->app = a;
  s->handlers = offload_start(handler_threads);
  if (s->handlers == NULL) {
    free(s);
    return NULL;
  }
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
      MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_SOCK_ADDR, &ss,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)connection_threads, MHD_OPTION_HTTPS_MEM_CERT,
      cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_PRIORITIES,
      "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int)4096, MHD_OPTION_END);
  if (s->daemon == NULL) {
    log_fail("cannot listen on %s: the address is in use, not local, or the TLS pair is invalid",
             listen);
    offload_free(&s->handlers);
    free(s);
    return NULL;
  }
  return s;
}

int http_port(const http_server *s) {
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  return di ? (int)di->port : -1;
}

void http_stop(http_server **sp) {
  if (sp == NULL || *sp == NULL)
    return;
  http_server *s = *sp;
  /* the handler threads finish what they hold, which resumes it: MHD
   * must not stop with a connection held back; requests offloaded after
   * that run on their connection thread */
  offload_close(s->handlers);
  MHD_stop_daemon(s->daemon);
  offload_free(&s->handlers);
  free(s);
  *sp = NULL;
}
