/*
 * certdeploy-mockca: a DigiCert Trust Lifecycle Manager compatible CA
 * with fault injection, for tests, benchmarks and local runs.
 *
 * main.c: flags, the route table, start-up and signal-driven shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileutil.h"
#include "mock_app.h"
#include "version.h"

#define MAX_BODY_BYTES (1024u * 1024u)
#define MAX_PEM_FILE_BYTES (1024u * 1024u)
#define MAX_PROFILES 64
#define MAX_VALIDITY_SECONDS (100L * 366L * 86400L)
#define MAX_LATENCY_MS 600000L

static const mock_route routes[] = {
    {"GET", MOCK_PROFILE_PATH, 1, 0, mock_issue_profile_get},
    {"POST", MOCK_CERTIFICATE_PATH, 0, 0, mock_issue_certificate_post},
    {"POST", "/_mock/faults", 0, 1, mock_control_faults_post},
    {"DELETE", "/_mock/faults", 0, 1, mock_control_faults_delete},
    {"GET", "/_mock/faults", 0, 1, mock_control_faults_get},
    {"GET", "/_mock/stats", 0, 1, mock_control_stats_get},
    {"GET", "/_mock/issued", 0, 1, mock_control_issued_get},
    {"GET", "/_mock/ca.pem", 0, 1, mock_control_ca_pem_get},
    {"POST", "/_mock/latency", 0, 1, mock_control_latency_post},
    {"GET", "/_mock/latency", 0, 1, mock_control_latency_get},
    {"POST", "/_mock/reset", 0, 1, mock_control_reset_post},
};

typedef struct options {
  char host[256];
  char port[8];
  const char *api_key;
  const char *profiles[MAX_PROFILES];
  size_t n_profiles;
  const char *state_dir;
  long validity_seconds;
  long latency_ms;
  const char *tls_cert;
  const char *tls_key;
} options;

static void usage(FILE *out) {
  fputs(
      "usage: certdeploy-mockca [flags]\n"
      "\n"
      "A DigiCert Trust Lifecycle Manager compatible mock CA (the /mpki API subset\n"
      "certdeploy uses) with fault injection. Prints one line\n"
      "  certdeploy-mockca listening on http://HOST:PORT\n"
      "when ready; SIGINT or SIGTERM stop it (exit 0).\n"
      "\n"
      "flags:\n"
      "  --listen HOST:PORT       address to serve (default 127.0.0.1:8444; port 0 picks\n"
      "                           a free port, shown in the listening line)\n"
      "  --api-key KEY            the accepted X-API-Key (default mock-api-key)\n"
      "  --profile ID             a known profile id; repeat for more (default\n"
      "                           mock-profile-1)\n"
      "  --state-dir DIR          holds ca.pem and ca.key, created when missing\n"
      "                           (default ./var/mockca)\n"
      "  --validity-seconds N     lifetime of issued certificates (default 31536000)\n"
      "  --latency-ms N           delay before answering every /mpki request (default 0)\n"
      "  --tls-cert FILE          serve HTTPS with this PEM certificate ...\n"
      "  --tls-key FILE           ... and this PEM private key\n"
      "  --version                print \"certdeploy-mockca VERSION\" and exit\n"
      "  --help                   this text\n"
      "\n"
      "CA API (header X-API-Key):\n"
      "  GET  /mpki/api/v2/profile/{id}   200 {\"id\",\"name\",\"status\":\"Active\"}, 401, 403\n"
      "  POST /mpki/api/v1/certificate    201 {\"serial_number\",\"delivery_format\",\n"
      "                                   \"certificate\"}; errors {\"errors\":[{code,message}]}\n"
      "\n"
      "Controls (no auth, loopback clients only):\n"
      "  POST   /_mock/faults   queue a fault object or an array, each consumed by the next\n"
      "                         issue requests in order (\"count\", default 1):\n"
      "                         "
      "{\"status\":N,\"retry_after\":S|\"HTTP-date\",\"message\":M,\"code\":C}\n"
      "                         {\"mode\":\"timeout\",\"seconds\":S}  (say nothing S s, default "
      "120,\n"
      "                          then close) {\"mode\":\"reset\"}  {\"mode\":\"garbage\"}\n"
      "                         {\"mode\":\"truncated\"} {\"mode\":\"wrong_format\"} "
      "{\"mode\":\"mismatch\"}\n"
      "                         {\"mode\":\"no_serial\"}; the last three answer a valid request "
      "only\n"
      "  GET    /_mock/faults   what is queued;  DELETE /_mock/faults  clear the queue\n"
      "  GET    /_mock/stats    "
      "{\"issue_requests\",\"issued\",\"faults_served\",\"profile_requests\"}\n"
      "  GET    /_mock/issued   [{\"serial\",\"common_name\",\"seat_id\",\"upn\",\"not_before\",\n"
      "                         \"not_after\"}]\n"
      "  GET    /_mock/ca.pem   the issuing CA certificate\n"
      "  POST   /_mock/latency  {\"ms\":N};  GET /_mock/latency\n"
      "  POST   /_mock/reset    clear stats, issued list and faults; latency back to\n"
      "                         --latency-ms\n",
      out);
}

__attribute__((format(printf, 1, 2))) static int flag_error(const char *fmt, ...) {
  va_list ap;
  fputs("certdeploy-mockca: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\n(run certdeploy-mockca --help for usage)\n", stderr);
  return -1;
}

static int parse_long(const char *flag, const char *text, long min, long max, long *out) {
  char *end = NULL;
  long v;
  errno = 0;
  v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    return flag_error("%s: '%s' is not an integer from %ld to %ld", flag, text, min, max);
  }
  *out = v;
  return 0;
}

/* HOST:PORT, [IPv6]:PORT. */
static int parse_listen(const char *text, options *o) {
  const char *colon = strrchr(text, ':');
  const char *host = text;
  size_t host_len;
  long port;

  if (colon == NULL || colon == text) {
    return flag_error("--listen: '%s' is not HOST:PORT", text);
  }
  host_len = (size_t)(colon - text);
  if (host[0] == '[') {
    if (host_len < 3 || host[host_len - 1] != ']') {
      return flag_error("--listen: '%s' is not [IPv6]:PORT", text);
    }
    host++;
    host_len -= 2;
  }
  if (host_len >= sizeof(o->host)) {
    return flag_error("--listen: host is too long");
  }
  if (parse_long("--listen port", colon + 1, 0, 65535, &port) != 0) {
    return -1;
  }
  memcpy(o->host, host, host_len);
  o->host[host_len] = '\0';
  snprintf(o->port, sizeof(o->port), "%ld", port);
  return 0;
}

/* 0 ok, 1 --help given, 2 --version given, -1 bad flags (message printed). */
static int parse_options(int argc, char **argv, options *o) {
  enum {
    OPT_LISTEN = 1,
    OPT_API_KEY,
    OPT_PROFILE,
    OPT_STATE_DIR,
    OPT_VALIDITY,
    OPT_LATENCY,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_HELP,
    OPT_VERSION
  };
  static const struct option longopts[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"api-key", required_argument, NULL, OPT_API_KEY},
      {"profile", required_argument, NULL, OPT_PROFILE},
      {"state-dir", required_argument, NULL, OPT_STATE_DIR},
      {"validity-seconds", required_argument, NULL, OPT_VALIDITY},
      {"latency-ms", required_argument, NULL, OPT_LATENCY},
      {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
      {"tls-key", required_argument, NULL, OPT_TLS_KEY},
      {"help", no_argument, NULL, OPT_HELP},
      {"version", no_argument, NULL, OPT_VERSION},
      {NULL, 0, NULL, 0},
  };
  int c;

  memset(o, 0, sizeof(*o));
  snprintf(o->host, sizeof(o->host), "127.0.0.1");
  snprintf(o->port, sizeof(o->port), "8444");
  o->api_key = "mock-api-key";
  o->state_dir = "./var/mockca";
  o->validity_seconds = 31536000L;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_LISTEN:
      if (parse_listen(optarg, o) != 0) {
        return -1;
      }
      break;
    case OPT_API_KEY:
      if (optarg[0] == '\0') {
        return flag_error("--api-key must not be empty");
      }
      o->api_key = optarg;
      break;
    case OPT_PROFILE:
      if (optarg[0] == '\0' || o->n_profiles == MAX_PROFILES) {
        return flag_error("--profile must be non-empty, at most %d times", MAX_PROFILES);
      }
      o->profiles[o->n_profiles++] = optarg;
      break;
    case OPT_STATE_DIR:
      if (optarg[0] == '\0') {
        return flag_error("--state-dir must not be empty");
      }
      o->state_dir = optarg;
      break;
    case OPT_VALIDITY:
      if (parse_long("--validity-seconds", optarg, 1, MAX_VALIDITY_SECONDS, &o->validity_seconds) !=
          0) {
        return -1;
      }
      break;
    case OPT_LATENCY:
      if (parse_long("--latency-ms", optarg, 0, MAX_LATENCY_MS, &o->latency_ms) != 0) {
        return -1;
      }
      break;
    case OPT_TLS_CERT:
      o->tls_cert = optarg;
      break;
    case OPT_TLS_KEY:
      o->tls_key = optarg;
      break;
    case OPT_HELP:
      return 1;
    case OPT_VERSION:
      return 2;
    case ':':
      return flag_error("%s needs a value", argv[optind - 1]);
    default:
      return flag_error("unknown flag %s", argv[optind - 1]);
    }
  }
  if (optind < argc) {
    return flag_error("unexpected argument '%s'", argv[optind]);
  }
  if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
    return flag_error("--tls-cert and --tls-key go together");
  }
  if (o->n_profiles == 0) {
    o->profiles[o->n_profiles++] = "mock-profile-1";
  }
  return 0;
}

/* The whole PEM file at path; NULL with a message printed. */
static char *read_pem_file(const char *path) {
  size_t len = 0;
  char *text = file_read(path, MAX_PEM_FILE_BYTES, &len);
  if (text == NULL) {
    fprintf(stderr, "certdeploy-mockca: cannot read %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (len == 0) {
    fprintf(stderr, "certdeploy-mockca: cannot read %s (empty)\n", path);
    free(text);
    return NULL;
  }
  return text;
}

int main(int argc, char **argv) {
  options opt;
  mock_app app;
  mock_http_config config;
  mock_http *http = NULL;
  char *tls_cert = NULL;
  char *tls_key = NULL;
  char *err = NULL;
  sigset_t stop_signals;
  int sig = 0;
  int parsed = parse_options(argc, argv, &opt);
  int rc = 1;

  if (parsed != 0) {
    if (parsed == 1) {
      usage(stdout);
      return 0;
    }
    if (parsed == 2) {
      printf("certdeploy-mockca %s\n", CERTDEPLOY_VERSION);
      return 0;
    }
    return 2;
  }
  memset(&app, 0, sizeof(app));
  /* Block the stop signals before any thread starts, so every thread
   * inherits the mask and sigwait below is the only receiver. */
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* 0700: ca.key lives here */
  if (file_mkdirs(opt.state_dir, 0700, &err) != 0) {
    fprintf(stderr, "certdeploy-mockca: cannot create the state dir: %s\n",
            err != NULL ? err : "out of memory");
    goto out;
  }
  app.ca = crypto_ca_load_or_create(opt.state_dir, &err);
  if (app.ca == NULL) {
    fprintf(stderr, "certdeploy-mockca: %s\n", err != NULL ? err : "cannot load the CA");
    goto out;
  }
  if (opt.tls_cert != NULL && ((tls_cert = read_pem_file(opt.tls_cert)) == NULL ||
                               (tls_key = read_pem_file(opt.tls_key)) == NULL)) {
    goto out;
  }
  app.state = mock_state_new(opt.latency_ms);
  if (app.state == NULL) {
    fprintf(stderr, "certdeploy-mockca: out of memory\n");
    goto out;
  }
  app.api_key = opt.api_key;
  app.profiles = opt.profiles;
  app.n_profiles = opt.n_profiles;
  app.validity_seconds = opt.validity_seconds;

  memset(&config, 0, sizeof(config));
  config.host = opt.host;
  config.port = opt.port;
  config.tls_cert_pem = tls_cert;
  config.tls_key_pem = tls_key;
  config.routes = routes;
  config.n_routes = sizeof(routes) / sizeof(routes[0]);
  config.app = &app;
  config.max_body = MAX_BODY_BYTES;
  http = mock_http_start(&config, &err);
  if (http == NULL) {
    fprintf(stderr, "certdeploy-mockca: %s\n", err != NULL ? err : "cannot start");
    goto out;
  }
  printf("certdeploy-mockca listening on %s://%s%s%s:%u\n", tls_cert != NULL ? "https" : "http",
         strchr(opt.host, ':') != NULL ? "[" : "", opt.host,
         strchr(opt.host, ':') != NULL ? "]" : "", mock_http_port(http));
  fflush(stdout);

  while (sigwait(&stop_signals, &sig) != 0) {
  }
  fprintf(stderr, "certdeploy-mockca: %s received, stopping\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  rc = 0;
out:
  mock_http_stop(&http);
  mock_state_free(&app.state);
  crypto_ca_free(&app.ca);
  free(tls_cert);
  if (tls_key != NULL) {
    crypto_free_secret(tls_key);
  }
  free(err);
  return rc;
}
