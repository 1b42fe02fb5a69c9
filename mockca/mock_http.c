/*
 * mock_http.c: libmicrohttpd glue for the mock CA (see mock_http.h).
 */
#include "mock_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fail.h"
#include "wipebuf.h"

struct mock_http {
  struct MHD_Daemon *daemon;
  mock_http_config config;
  unsigned port;
  atomic_int stopping; /* set before the daemon stops: handlers bail out */
};

struct mock_request {
  mock_http *http;
  struct MHD_Connection *conn;
  const char *method; /* owned by MHD, valid for the whole request */
  const char *path;
  wipebuf body;  /* accumulated upload, NUL-terminated once any arrived */
  int too_large; /* the body passed max_body: the rest is discarded */
};

struct mock_reply {
  unsigned status;
  char *body; /* malloc'd, handed to MHD */
  size_t len;
  char content_type[64];
  char header_name[64];
  char header_value[256];
  int drop;  /* 1: close without a reply */
  int reset; /* with drop: TCP reset instead of FIN */
};

const char *mock_error_code(unsigned status) {
  switch (status) {
  case 400:
    return "invalid_input";
  case 401:
    return "access_denied";
  case 403:
    return "forbidden";
  case 404:
    return "not_found";
  case 405:
    return "method_not_allowed";
  case 409:
    return "conflict";
  case 410:
    return "gone";
  case 413:
    return "request_too_large";
  case 429:
    return "rate_limit_exceeded";
  case 500:
    return "internal_error";
  case 502:
    return "bad_gateway";
  case 503:
    return "service_unavailable";
  case 504:
    return "gateway_timeout";
  default:
    return status >= 500 ? "server_error" : "request_error";
  }
}

/* ---- request accessors -------------------------------------------------- */

const char *mock_request_path(const mock_request *req) {
  return req->path;
}

const char *mock_request_body(const mock_request *req, size_t *len) {
  *len = req->body.len;
  return req->body.data != NULL ? req->body.data : "";
}

const char *mock_request_header(const mock_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static int request_fd(const mock_request *req) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info != NULL ? info->connect_fd : -1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mock_request_wait(const mock_request *req, long ms) {
  long long end = now_ms() + ms;
  int fd = request_fd(req);

  for (;;) {
    long long left = end - now_ms();
    struct pollfd p;
    if (atomic_load(&req->http->stopping)) {
      return -1;
    }
    if (left <= 0) {
      return 0;
    }
    /* POLLRDHUP only: bytes a client pipelines must not wake us in a
     * loop, but its FIN or RST must. Slices keep `stopping` noticed. */
    p.fd = fd;
    p.events = POLLRDHUP;
    p.revents = 0;
    if (fd >= 0 && poll(&p, 1, left > 100 ? 100 : (int)left) > 0 &&
        (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
      return -1;
    }
    if (fd < 0) {
      struct timespec ts = {0, 50 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
}

static int peer_is_loopback(const mock_request *req) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;

  if (sa == NULL) {
    return 0;
  }
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    const unsigned char *a = in6->sin6_addr.s6_addr;
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
           (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && a[12] == 127);
  }
  return 0;
}

/* ---- replies ------------------------------------------------------------ */

static void reply_set(mock_reply *reply, unsigned status, const char *content_type, char *body,
                      size_t len) {
  free(reply->body);
  reply->status = status;
  reply->body = body;
  reply->len = len;
  snprintf(reply->content_type, sizeof(reply->content_type), "%s", content_type);
  reply->drop = 0;
}

void mock_reply_raw(mock_reply *reply, unsigned status, const char *content_type, const char *data,
                    size_t len) {
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    reply_set(reply, 500, "text/plain", NULL, 0);
    return;
  }
  if (len > 0) {
    memcpy(copy, data, len);
  }
  copy[len] = '\0';
  reply_set(reply, status, content_type, copy, len);
}

void mock_reply_json(mock_reply *reply, unsigned status, json_t *body) {
  char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) {
    reply_set(reply, 500, "text/plain", NULL, 0);
    return;
  }
  reply_set(reply, status, "application/json", text, strlen(text));
}

void mock_reply_error(mock_reply *reply, unsigned status, const char *code, const char *message) {
  mock_reply_json(reply, status,
                  json_pack("{s:[{s:s,s:s}]}", "errors", "code", code, "message", message));
}

void mock_reply_header(mock_reply *reply, const char *name, const char *value) {
  if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
    return;
  }
  snprintf(reply->header_name, sizeof(reply->header_name), "%s", name);
  snprintf(reply->header_value, sizeof(reply->header_value), "%s", value);
}

void mock_reply_drop(mock_reply *reply, int reset) {
  free(reply->body);
  reply->body = NULL;
  reply->len = 0;
  reply->drop = 1;
  reply->reset = reset;
}

/* ---- routing ------------------------------------------------------------ */

static int path_matches(const mock_route *r, const char *path) {
  if (r->prefix) {
    return strncmp(path, r->path, strlen(r->path)) == 0;
  }
  return strcmp(path, r->path) == 0;
}

static void dispatch(mock_http *http, mock_request *req, mock_reply *reply) {
  const mock_http_config *c = &http->config;
  const mock_route *path_match = NULL;
  char allow[64] = "";

  if (req->too_large) {
    char msg[128];
    snprintf(msg, sizeof(msg), "request body is larger than %zu bytes", c->max_body);
    mock_reply_error(reply, 413, mock_error_code(413), msg);
    return;
  }
  for (size_t i = 0; i < c->n_routes; i++) {
    const mock_route *r = &c->routes[i];
    if (!path_matches(r, req->path)) {
      continue;
    }
    if (r->loopback_only && !peer_is_loopback(req)) {
      mock_reply_error(reply, 403, mock_error_code(403),
                       "control endpoints answer only loopback clients");
      return;
    }
    if (strcmp(r->method, req->method) == 0) {
      r->handler(c->app, req, reply);
      return;
    }
    path_match = r;
    {
      size_t used = strlen(allow);
      snprintf(allow + used, sizeof(allow) - used, "%s%s", used > 0 ? ", " : "", r->method);
    }
  }
  if (path_match != NULL) {
    char msg[160];
    snprintf(msg, sizeof(msg), "method %s is not allowed on %s (allowed: %s)", req->method,
             req->path, allow);
    mock_reply_error(reply, 405, mock_error_code(405), msg);
    mock_reply_header(reply, "Allow", allow);
    return;
  }
  mock_reply_error(reply, 404, mock_error_code(404), "no such endpoint");
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

static int body_append(mock_request *req, const char *data, size_t n, size_t max) {
  if (req->too_large) {
    return 0;
  }
  int rc = wipebuf_append(&req->body, data, n, max);
  if (rc == WIPEBUF_TOO_BIG) {
    req->too_large = 1;
  }
  return rc == WIPEBUF_NO_MEMORY ? -1 : 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, mock_reply *reply) {
  struct MHD_Response *resp;
  enum MHD_Result ret;

  if (reply->body != NULL) {
    resp = MHD_create_response_from_buffer(reply->len, reply->body, MHD_RESPMEM_MUST_FREE);
    if (resp != NULL) {
      reply->body = NULL;
    }
  } else {
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  }
  if (resp == NULL) {
    return MHD_NO;
  }
  if (reply->content_type[0] != '\0') {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
  }
  if (reply->header_name[0] != '\0') {
    MHD_add_response_header(resp, reply->header_name, reply->header_value);
  }
  ret = MHD_queue_response(conn, reply->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void drop_connection(const mock_request *req, int reset) {
  int fd = request_fd(req);
  if (reset && fd >= 0) {
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  mock_http *http = cls;
  mock_request *req = *con_cls;
  mock_reply reply;
  enum MHD_Result ret;

  (void)version;
  if (req == NULL) {
    req = calloc(1, sizeof(*req));
    if (req == NULL) {
      return MHD_NO;
    }
    req->http = http;
    req->conn = conn;
    req->method = method;
    req->path = url;
    *con_cls = req;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (body_append(req, upload_data, *upload_data_size, http->config.max_body) != 0) {
      return MHD_NO;
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  memset(&reply, 0, sizeof(reply));
  reply.status = 500;
  dispatch(http, req, &reply);
  if (reply.drop) {
    drop_connection(req, reply.reset);
    return MHD_NO;
  }
  ret = send_reply(conn, &reply);
  free(reply.body);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  mock_request *req = *con_cls;
  (void)cls;
  (void)conn;
  (void)toe;
  if (req != NULL) {
    wipebuf_release(&req->body); /* the CA API token of a request, in tests */
    free(req);
    *con_cls = NULL;
  }
}

/* libmicrohttpd's own messages (TLS handshake failures, ...), marked as
 * ours on stderr. Must be the first daemon option to catch them all. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                             va_list ap) {
  char msg[1024];
  (void)cls;
  vsnprintf(msg, sizeof(msg), fmt, ap);
  /* Our deliberate drops (reset/timeout faults, a client gone during
   * latency) return MHD_NO, which MHD reports as this; not news. */
  if (strstr(msg, "Application reported internal error") != NULL) {
    return;
  }
  fprintf(stderr, "certdeploy-mockca: http: %s%s", msg,
          msg[0] != '\0' && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* ---- start and stop ------------------------------------------------------ */

static int listen_socket(const char *host, const char *port, unsigned *bound_port, char **err) {
  struct addrinfo hints;
  struct addrinfo *res = NULL;
  int fd = -1;
  int rc;

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fail_set(err, "cannot resolve %s: %s", host, gai_strerror(rc));
    return -1;
  }
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    int one = 1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      fail_set(err, "socket: %s", strerror(errno));
      continue;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
      fail_set(err, "cannot listen on %s:%s: %s", host, port, strerror(errno));
      close(fd);
      fd = -1;
      continue;
    }
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    break;
  }
  freeaddrinfo(res);
  return fd;
}

mock_http *mock_http_start(const mock_http_config *config, char **err) {
  mock_http *http = calloc(1, sizeof(*http));
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                   MHD_USE_ERROR_LOG | MHD_USE_ITC;
  int fd;

  if (http == NULL) {
    fail_set(err, "out of memory");
    return NULL;
  }
  http->config = *config;
  atomic_init(&http->stopping, 0);
  fd = listen_socket(config->host, config->port, &http->port, err);
  if (fd < 0) {
    free(http);
    return NULL;
  }
  if (config->tls_cert_pem != NULL) {
    flags |= MHD_USE_TLS;
    http->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, http,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_HTTPS_MEM_CERT,
        config->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, config->tls_key_pem, MHD_OPTION_END);
  } else {
    http->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, http,

        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
  }
  if (http->daemon == NULL) {
    fail_set(err, "cannot start the HTTP server on %s:%s%s", config->host, config->port,
             config->tls_cert_pem != NULL ? " (are the TLS certificate and key valid PEM?)" : "");
    close(fd);
    free(http);
    return NULL;
  }
  return http;
}

unsigned mock_http_port(const mock_http *http) {
  return http->port;
}

void mock_http_stop(mock_http **http) {
  if (http == NULL || *http == NULL) {
    return;
  }
  atomic_store(&(*http)->stopping, 1);
  MHD_stop_daemon((*http)->daemon);
  free(*http);
  *http = NULL;
}
