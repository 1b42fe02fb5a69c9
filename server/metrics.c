/* metrics.c: lock-free in-process counters and their exposition text.
 * metrics.h states the label sets and what a scrape guarantees. */
#include "metrics.h"

#include "log.h"
#include "router.h"
#include "version.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Route table entries with their own series; routes.c has ~35. A longer
 * table still works: the excess counts as "unmatched" (metrics_init warns). */
#define MAX_ROUTES 128

static const char *const unmatched_methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                                "PATCH", "DELETE", "OPTIONS", "other"};
#define N_UNMATCHED (sizeof(unmatched_methods) / sizeof(unmatched_methods[0]))
#define SLOT_STATIC MAX_ROUTES
#define SLOT_UNMATCHED (MAX_ROUTES + 1)
#define N_ROUTE_SLOTS (MAX_ROUTES + 1 + N_UNMATCHED)

/* Every status the server answers with, and a few a proxy-minded reader
 * expects; anything else is "other" (the last slot). */
static const int http_codes[] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404,
                                 405, 409, 413, 415, 422, 429, 500, 502, 503, 504};
#define N_CODES (sizeof(http_codes) / sizeof(http_codes[0]))
#define N_CODE_SLOTS (N_CODES + 1)

/* ca_outcome.result_label values (ca_client.h); anything else is "other". */
static const char *const ca_results[] = {"ok",      "rejected",      "throttled", "server_error",
                                         "timeout", "connect_error", "malformed", "other"};
#define N_RESULTS (sizeof(ca_results) / sizeof(ca_results[0]))

/* Upper bounds of the CA latency buckets, in seconds; +Inf is implied. */
static const double ca_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BUCKETS (sizeof(ca_buckets) / sizeof(ca_buckets[0]))

#define CA_NAME_MAX 128 /* cas.name is 1..128 characters (0001_init.sql) */

typedef struct ca_series {
  char name[CA_NAME_MAX + 1];           /* immutable once published */
  atomic_ullong results[N_RESULTS];     /* requests by result */
  atomic_ullong buckets[N_BUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
  atomic_ullong sum_ns;                 /* total wall time, nanoseconds */
} ca_series;

static atomic_ullong http_counts[N_ROUTE_SLOTS][N_CODE_SLOTS];

/* Slots [0, ca_published) carry a name; slot METRICS_MAX_CAS is "other". */
static ca_series cas[METRICS_MAX_CAS + 1];
static atomic_int ca_published;
static pthread_mutex_t ca_publish_mu = PTHREAD_MUTEX_INITIALIZER;

static double start_time; /* Unix seconds, 0 before metrics_init */

void metrics_init(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
  if (route_count > MAX_ROUTES)
    log_msg(LOG_WARN, "metrics: the route table has %d entries; those past %d count as unmatched",
            route_count, MAX_ROUTES);
}

static size_t code_slot(int status) {
  for (size_t i = 0; i < N_CODES; i++)
    if (http_codes[i] == status)
      return i;
  return N_CODES;
}

/* The route slot of a request; mirrors router_dispatch's static rule. */
static size_t route_slot(const request *req) {
  if (req->route != NULL) {
    ptrdiff_t i = req->route - routes;
    if (i >= 0 && i < route_count && i < MAX_ROUTES)
      return (size_t)i;
  }
  const char *m = req->method ? req->method : "";
  const char *p = req->path ? req->path : "";
  if (req->route == NULL && strcmp(m, "GET") == 0 && strncmp(p, "/api/", 5) != 0 &&
      strncmp(p, "/device/", 8) != 0)
    return SLOT_STATIC;
  size_t k = 0;
  while (k < N_UNMATCHED - 1 && strcmp(unmatched_methods[k], m) != 0)
    k++;
  return SLOT_UNMATCHED + k;
}

void metrics_http_request(const request *req, int status) {
  if (req == NULL || status <= 0)
    return;
  atomic_fetch_add_explicit(&http_counts[route_slot(req)][code_slot(status)], 1,
                            memory_order_relaxed);
}

/* The series of a CA name, publishing it on first sight while slots last. */
static ca_series *ca_find(const char *name) {
  if (name == NULL || name[0] == '\0')
    return &cas[METRICS_MAX_CAS];
  int n = atomic_load_explicit(&ca_published, memory_order_acquire);
  for (int i = 0; i < n; i++)
    if (strncmp(cas[i].name, name, CA_NAME_MAX) == 0)
      return &cas[i];
  if (n >= METRICS_MAX_CAS)
    return &cas[METRICS_MAX_CAS];
  ca_series *found = &cas[METRICS_MAX_CAS];
  pthread_mutex_lock(&ca_publish_mu);
  n = atomic_load_explicit(&ca_published, memory_order_relaxed);
  int i = 0;
  while (i < n && strncmp(cas[i].name, name, CA_NAME_MAX) != 0)
    i++;
  if (i < n) {
    found = &cas[i];
  } else if (n < METRICS_MAX_CAS) {
    snprintf(cas[n].name, sizeof(cas[n].name), "%s", name);
    found = &cas[n];
    atomic_store_explicit(&ca_published, n + 1, memory_order_release);
  }
  pthread_mutex_unlock(&ca_publish_mu);
  return found;
}

void metrics_ca_request(const char *ca_name, const char *result, double seconds) {
  ca_series *s = ca_find(ca_name);
  size_t r = 0;
  while (r < N_RESULTS - 1 && (result == NULL || strcmp(ca_results[r], result) != 0))
    r++;
  if (!(seconds > 0)) /* also NaN */
    seconds = 0;
  size_t b = 0;
  while (b < N_BUCKETS && seconds > ca_buckets[b])
    b++;
  double ns = seconds * 1e9;
  atomic_fetch_add_explicit(&s->results[r], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->sum_ns, ns < 1.8e19 ? (unsigned long long)ns : 0,
                            memory_order_relaxed);
}

void metrics_write_label_value(FILE *out, const char *value) {
  for (const char *p = value; p && *p; p++) {
    if (*p == '\\')
      fputs("\\\\", out);
    else if (*p == '"')
      fputs("\\\"", out);
    else if (*p == '\n')
      fputs("\\n", out);
    else
      fputc(*p, out);
  }
}

void metrics_write_family(FILE *out, const char *name, const char *type, const char *help) {
  fprintf(out, "# HELP %s ", name);
  for (const char *p = help; *p; p++) {
    if (*p == '\\')
      fputs("\\\\", out);
    else if (*p == '\n')
      fputs("\\n", out);
    else
      fputc(*p, out);
  }
  fprintf(out, "\n# TYPE %s %s\n", name, type);
}

static unsigned long long load(atomic_ullong *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

static void write_http(FILE *out) {
  metrics_write_family(out, "certdeploy_http_requests_total", "counter",
                       "HTTP requests answered, by route pattern, method and status code.");
  for (size_t r = 0; r < N_ROUTE_SLOTS; r++) {
    const char *pattern, *method;
    if (r < MAX_ROUTES) {
      if ((int)r >= route_count)
        continue;
      pattern = routes[r].pattern;
      method = routes[r].method;
    } else if (r == SLOT_STATIC) {
      pattern = "static";
      method = "GET";
    } else {
      pattern = "unmatched";
      method = unmatched_methods[r - SLOT_UNMATCHED];
    }
    for (size_t c = 0; c < N_CODE_SLOTS; c++) {
      unsigned long long n = load(&http_counts[r][c]);
      if (n == 0)
        continue;
      fputs("certdeploy_http_requests_total{route=\"", out);
      metrics_write_label_value(out, pattern);
      fprintf(out, "\",method=\"%s\",code=\"", method);
      if (c < N_CODES)
        fprintf(out, "%d", http_codes[c]);
      else
        fputs("other", out);
      fprintf(out, "\"} %llu\n", n);
    }
  }
}

/* The CA's name label, `ca="..."`. */
static void write_ca_label(FILE *out, int i) {
  fputs("ca=\"", out);
  metrics_write_label_value(out, i < METRICS_MAX_CAS ? cas[i].name : "other");
  fputc('"', out);
}

static void write_ca(FILE *out) {
  int n = atomic_load_explicit(&ca_published, memory_order_acquire);
  int idx[METRICS_MAX_CAS + 1];
  int k = 0;
  for (int i = 0; i < n; i++)
    idx[k++] = i;
  idx[k++] = METRICS_MAX_CAS;

  metrics_write_family(out, "certdeploy_ca_requests_total", "counter",
                       "Certificate requests made to a CA, by CA name and result (ok, rejected, "
                       "throttled, server_error, timeout, connect_error, malformed).");
  for (int j = 0; j < k; j++) {
    for (size_t r = 0; r < N_RESULTS; r++) {
      unsigned long long v = load(&cas[idx[j]].results[r]);
      if (v == 0)
        continue;
      fputs("certdeploy_ca_requests_total{", out);
      write_ca_label(out, idx[j]);
      fprintf(out, ",result=\"%s\"} %llu\n", ca_results[r], v);
    }
  }

  metrics_write_family(out, "certdeploy_ca_request_duration_seconds", "histogram",
                       "Wall time of certificate requests to a CA, by CA name.");
  for (int j = 0; j < k; j++) {
    ca_series *s = &cas[idx[j]];
    unsigned long long counts[N_BUCKETS + 1], total = 0;
    for (size_t b = 0; b <= N_BUCKETS; b++)
      total += counts[b] = load(&s->buckets[b]);
    if (total == 0)
      continue;
    unsigned long long cumulative = 0;
    for (size_t b = 0; b <= N_BUCKETS; b++) {
      cumulative += counts[b];
      fputs("certdeploy_ca_request_duration_seconds_bucket{", out);
      write_ca_label(out, idx[j]);
      if (b < N_BUCKETS)
        fprintf(out, ",le=\"%g\"} %llu\n", ca_buckets[b], cumulative);
      else
        fprintf(out, ",le=\"+Inf\"} %llu\n", cumulative);
    }
    fputs("certdeploy_ca_request_duration_seconds_sum{", out);
    write_ca_label(out, idx[j]);
    fprintf(out, "} %.9f\n", (double)load(&s->sum_ns) / 1e9);
    fputs("certdeploy_ca_request_duration_seconds_count{", out);
    write_ca_label(out, idx[j]);
    fprintf(out, "} %llu\n", total);
  }
}

void metrics_write(FILE *out) {
  metrics_write_family(out, "certdeploy_build_info", "gauge",
                       "Always 1; the version label names the running build.");
  fputs("certdeploy_build_info{version=\"", out);
  metrics_write_label_value(out, CERTDEPLOY_VERSION);
  fputs("\"} 1\n", out);
  if (start_time > 0) {
    metrics_write_family(out, "process_start_time_seconds", "gauge",
                         "Start time of the process since the Unix epoch, in seconds.");
    fprintf(out, "process_start_time_seconds %.3f\n", start_time);
  }
  write_ca(out);
  write_http(out);
}
