/* test_metrics.c: the in-process counters and their exposition text.
 * One process, one set of counters: each test uses its own CA names or
 * compares before/after, so the order of the tests does not matter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "router.h"

/* The whole exposition as a malloc'd string. */
static char *render(void) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  metrics_write(out);
  assert_int_equal(fclose(out), 0);
  return text;
}

/* The value of the sample line that starts with `series ` (name and
 * labels exactly as written), or -1 when absent. */
static double sample(const char *text, const char *series) {
  size_t n = strlen(series);
  for (const char *line = text; line && *line;
       line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, series, n) == 0 && line[n] == ' ')
      return strtod(line + n + 1, NULL);
  return -1;
}

static char *label_value(const char *value) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  metrics_write_label_value(out, value);
  fclose(out);
  return text;
}

static void label_values_are_escaped(void **state) {
  (void)state;
  char *v = label_value("a\\b\"c\nd");
  assert_string_equal(v, "a\\\\b\\\"c\\nd");
  free(v);
  v = label_value(NULL);
  assert_string_equal(v, "");
  free(v);

  metrics_ca_request("Corp \"CA\"\n\\", "ok", 0.2);
  char *text = render();
  assert_int_equal(
      sample(text, "certdeploy_ca_requests_total{ca=\"Corp \\\"CA\\\"\\n\\\\\",result=\"ok\"}"), 1);
  free(text);
}

static void histogram_buckets_are_cumulative(void **state) {
  (void)state;
  const double seconds[] = {0.005, 0.01, 0.3, 7, 31, -1};
  for (size_t i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++)
    metrics_ca_request("hist", i == 4 ? "timeout" : "ok", seconds[i]);
  char *text = render();
#define B(le)                                                                                      \
  sample(text, "certdeploy_ca_request_duration_seconds_bucket{ca=\"hist\",le=\"" le "\"}")
  assert_int_equal(B("0.01"), 3); /* 0.005, 0.01 (bounds are inclusive), -1 as 0 */
  assert_int_equal(B("0.25"), 3);
  assert_int_equal(B("0.5"), 4);
  assert_int_equal(B("10"), 5);
  assert_int_equal(B("30"), 5);
  assert_int_equal(B("+Inf"), 6);
#undef B
  assert_int_equal(sample(text, "certdeploy_ca_request_duration_seconds_count{ca=\"hist\"}"), 6);
  double sum = sample(text, "certdeploy_ca_request_duration_seconds_sum{ca=\"hist\"}");
  assert_true(sum > 38.31 && sum < 38.32);
  assert_int_equal(sample(text, "certdeploy_ca_requests_total{ca=\"hist\",result=\"ok\"}"), 5);
  assert_int_equal(sample(text, "certdeploy_ca_requests_total{ca=\"hist\",result=\"timeout\"}"), 1);
  free(text);
}

static void unknown_results_count_as_other(void **state) {
  (void)state;
  metrics_ca_request("results", "exploded", 0.1);
  metrics_ca_request("results", NULL, 0.1);
  char *text = render();
  assert_int_equal(sample(text, "certdeploy_ca_requests_total{ca=\"results\",result=\"other\"}"),
                   2);
  assert_null(strstr(text, "exploded"));
  free(text);
}

/* Threads publish 100 distinct CA names at once: the first
 * METRICS_MAX_CAS names get a series each (no duplicates), the rest and
 * every count land somewhere, and no increment is lost. */
#define THREADS 8
#define NAMES 100
#define ROUNDS 500

static void *hammer(void *arg) {
  int t = (int)(size_t)arg;
  for (int r = 0; r < ROUNDS; r++) {
    char name[32];
    snprintf(name, sizeof(name), "cap-%d", (r + t * 13) % NAMES);
    metrics_ca_request(name, "ok", 0.02);
  }
  return NULL;
}

static void ca_names_are_capped_and_counts_exact(void **state) {
  (void)state;
  char *text = render();
  double other0 = sample(text, "certdeploy_ca_requests_total{ca=\"other\",result=\"ok\"}");
  free(text);
  pthread_t th[THREADS];
  for (size_t i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)i), 0);
  for (size_t i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  text = render();
  double total = 0;
  int named = 0;
  for (int i = 0; i < NAMES; i++) {
    char series[96];
    snprintf(series, sizeof(series), "certdeploy_ca_requests_total{ca=\"cap-%d\",result=\"ok\"}",
             i);
    double v = sample(text, series);
    if (v > 0) {
      named++;
      total += v;
      char *again = strstr(strstr(text, series) + 1, series);
      assert_null(again); /* one series per name */
    }
  }
  double other = sample(text, "certdeploy_ca_requests_total{ca=\"other\",result=\"ok\"}");
  total += other - (other0 > 0 ? other0 : 0);
  assert_true(named > 0 && named < NAMES);
  assert_true(named <= METRICS_MAX_CAS);
  assert_true(other > other0); /* the names past the cap */
  assert_int_equal(total, THREADS * ROUNDS);
  free(text);
}

static void http_requests_by_route_and_code(void **state) {
  (void)state;
  request rq = {.method = "GET", .path = "/api/v1/status", .route = &routes[0]};
  metrics_http_request(&rq, 200);
  metrics_http_request(&rq, 200);
  metrics_http_request(&rq, 418);
  metrics_http_request(&rq, 0); /* client left before a reply: not counted */
  request stat = {.method = "GET", .path = "/app.js"};
  metrics_http_request(&stat, 200);
  request api404 = {.method = "GET", .path = "/api/v1/nope"};
  metrics_http_request(&api404, 404);
  request odd = {.method = "BREW", .path = "/coffee"};
  metrics_http_request(&odd, 405);
  char *text = render();
  char series[256];
  snprintf(series, sizeof(series),
           "certdeploy_http_requests_total{route=\"%s\",method=\"%s\",code=\"200\"}",
           routes[0].pattern, routes[0].method);
  assert_int_equal(sample(text, series), 2);
  snprintf(series, sizeof(series),
           "certdeploy_http_requests_total{route=\"%s\",method=\"%s\",code=\"other\"}",
           routes[0].pattern, routes[0].method);
  assert_int_equal(sample(text, series), 1);
  assert_int_equal(
      sample(text, "certdeploy_http_requests_total{route=\"static\",method=\"GET\",code=\"200\"}"),
      1);
  assert_int_equal(
      sample(text,
             "certdeploy_http_requests_total{route=\"unmatched\",method=\"GET\",code=\"404\"}"),
      1);
  assert_int_equal(
      sample(text,
             "certdeploy_http_requests_total{route=\"unmatched\",method=\"other\",code=\"405\"}"),
      1);
  assert_null(strstr(text, "BREW"));
  assert_non_null(strstr(text, "# TYPE certdeploy_http_requests_total counter\n"));
  free(text);
}

static void build_info_and_start_time(void **state) {
  (void)state;
  metrics_init();
  char *text = render();
  assert_non_null(
      strstr(text, "# TYPE certdeploy_build_info gauge\ncertdeploy_build_info{version=\""));
  assert_true(sample(text, "process_start_time_seconds") > 1.6e9);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(label_values_are_escaped),
      cmocka_unit_test(histogram_buckets_are_cumulative),
      cmocka_unit_test(unknown_results_count_as_other),
      cmocka_unit_test(ca_names_are_capped_and_counts_exact),
      cmocka_unit_test(http_requests_by_route_and_code),
      cmocka_unit_test(build_info_and_start_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
