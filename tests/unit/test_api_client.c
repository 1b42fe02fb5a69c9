/*
 * test_api_client.c: lib/api_client.c, the agent's and certdeployctl's
 * client of the certdeploy API, where it needs no server: what it refuses
 * to start with, how a refused connection reads, and the one-line
 * description of an error answer. The exchanges themselves are the api
 * layer's (tests/api/agent*.test.mjs, certdeployctl.test.mjs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_client.h"

static api_client_options options(const char *url) {
  api_client_options o = {
      .base_url = url,
      .timeout_seconds = 5,
      .user_agent = "certdeploy-test",
      .max_reply_bytes = 1024,
  };
  return o;
}

static void only_https_and_a_readable_ca_file(void **state) {
  (void)state;
  char *err = NULL;
  api_client_options o = options("http://127.0.0.1:8443");
  assert_null(api_client_new(&o, &err));
  assert_string_equal(err, "--server must be an https:// URL, got \"http://127.0.0.1:8443\"");
  o = options("https://");
  assert_null(api_client_new(&o, &err));
  assert_non_null(strstr(err, "--server must be an https:// URL"));
  o = options("https://127.0.0.1:8443");
  o.ca_file = "/nonexistent/ca.pem";
  assert_null(api_client_new(&o, &err));
  assert_string_equal(err, "cannot read --ca-file /nonexistent/ca.pem; give the PEM of the CA "
                           "that signed the server");
  free(err);
}

static void base_url_loses_trailing_slashes(void **state) {
  (void)state;
  char *err = NULL;
  api_client_options o = options("https://127.0.0.1:8443///");
  o.token = "admin-token";
  api_client *c = api_client_new(&o, &err);
  assert_non_null(c);
  assert_null(err);
  assert_string_equal(api_client_base_url(c), "https://127.0.0.1:8443");
  api_client_free(&c);
  assert_null(c);
  api_client_free(&c);
  api_client_free(NULL);
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

static void no_answer_is_minus_one_with_a_hint(void **state) {
  (void)state;
  char url[64], *err = NULL;
  long status = -1;
  json_t *reply = json_true();
  json_t *body = json_pack("{s:s}", "hello", "world");
  snprintf(url, sizeof(url), "https://127.0.0.1:%d", closed_port());
  api_client_options o = options(url);
  api_client *c = api_client_new(&o, &err);
  assert_non_null(c);
  assert_int_equal(api_client_request(c, "POST", "/device/v1/checkin", "device-token", body,
                                      &status, &reply, &err),
                   -1);
  assert_null(reply);
  assert_int_equal(status, 0);
  assert_non_null(err);
  assert_non_null(strstr(err, "cannot connect to "));
  assert_non_null(strstr(err, url));
  assert_non_null(strstr(err, "check --server and that the server runs"));
  assert_int_equal(
      api_client_request(c, "GET", "/api/v1/status", NULL, NULL, &status, &reply, &err), -1);
  assert_non_null(strstr(err, "cannot connect to "));
  free(err);
  json_decref(body);
  api_client_free(&c);
}

static void error_answers_in_one_line(void **state) {
  (void)state;
  json_t *full = json_pack("{s:{s:s, s:s}}", "error", "code", "stale_generation", "message",
                           "generation 3 is not the current one");
  json_t *message_only = json_pack("{s:{s:s}}", "error", "message", "no such device");
  json_t *code_only = json_pack("{s:{s:s}}", "error", "code", "unavailable");
  json_t *odd = json_pack("{s:s}", "error", "a string, not an object");
  struct {
    long status;
    json_t *reply;
    const char *want;
  } cases[] = {
      {409, full, "HTTP 409 stale_generation: generation 3 is not the current one"},
      {404, message_only, "HTTP 404: no such device"},
      {503, code_only, "HTTP 503 unavailable"},
      {400, odd, "HTTP 400"},
      {502, NULL, "HTTP 502"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = api_error_describe(cases[i].status, cases[i].reply);
    assert_string_equal(got, cases[i].want);
    free(got);
  }
  json_decref(full);
  json_decref(message_only);
  json_decref(code_only);
  json_decref(odd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_https_and_a_readable_ca_file),
      cmocka_unit_test(base_url_loses_trailing_slashes),
      cmocka_unit_test(no_answer_is_minus_one_with_a_hint),
      cmocka_unit_test(error_answers_in_one_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
