/*
 * The DigiCert TLM adapter against the real certdeploy-mockca: every error
 * class, the success checks, timeouts, parallel requests and TLS trust.
 *
 * The mock is started on a free port (--listen 127.0.0.1:0) and driven
 * through its /_mock endpoints with the curl command line tool, since only
 * the adapter (server/ca_client.c, ca_transport.h) may include curl.h. Binaries come from
 * $CERTDEPLOY_BUILD (default "build").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ca_client.h"
#include "crypto.h"

extern char **environ;

#define CA_NAME "Mock CA"
#define PREFIX "Couldn't get certificate from " CA_NAME ": "

/* A running mock CA. */
typedef struct mock {
  pid_t pid;
  char base[64]; /* http(s)://127.0.0.1:PORT */
  int out_fd;    /* its stdout, drained by a thread */
  pthread_t drain;
  char state_dir[64];
} mock;

static mock plain_mock;
static char *csr_pem;       /* an EC P-256 CSR shared by the tests */
static char csr_pubkey[65]; /* its SubjectPublicKeyInfo SHA-256 */

static const char *build_dir(void) {
  const char *dir = getenv("CERTDEPLOY_BUILD");
  return dir && dir[0] ? dir : "build";
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads and discards the mock's stdout so it never blocks writing. */
static void *drain_output(void *arg) {
  mock *m = arg;
  char buf[512];
  while (read(m->out_fd, buf, sizeof buf) > 0)
    ;
  return NULL;
}

/* Reads one line from fd within timeout_ms; 0 on success. */
static int read_line(int fd, char *line, size_t size, int timeout_ms) {
  size_t used = 0;
  double deadline = now_seconds() + timeout_ms / 1000.0;
  while (used + 1 < size) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int left = (int)((deadline - now_seconds()) * 1000);
    char c;
    if (left <= 0 || poll(&pfd, 1, left) <= 0 || read(fd, &c, 1) != 1)
      return -1;
    if (c == '\n')
      break;
    line[used++] = c;
  }
  line[used] = '\0';
  return 0;
}

/* Starts build/certdeploy-mockca with extra arguments (NULL-terminated
 * list, at most 8); 0 on success with m filled. */
static int mock_start(mock *m, const char *const *extra) {
  char path[512], line[512];
  const char *argv[20];
  int pipefd[2];
  int n = 0;
  posix_spawn_file_actions_t actions;
  static const char marker[] = "listening on ";
  const char *url;

  memset(m, 0, sizeof *m);
  snprintf(m->state_dir, sizeof m->state_dir, "/tmp/certdeploy-catest.XXXXXX");
  if (mkdtemp(m->state_dir) == NULL)
    return -1;
  snprintf(path, sizeof path, "%s/certdeploy-mockca", build_dir());
  argv[n++] = path;
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  argv[n++] = "--state-dir";
  argv[n++] = m->state_dir;
  for (int i = 0; extra && extra[i] && i < 8; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  if (pipe(pipefd) < 0)
    return -1;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_addclose(&actions, pipefd[1]);
  if (posix_spawn(&m->pid, path, &actions, NULL, (char *const *)argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    fprintf(stderr, "cannot start %s (build it first)\n", path);
    return -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  m->out_fd = pipefd[0];
  do {
    if (read_line(m->out_fd, line, sizeof line, 10000) < 0) {
      fprintf(stderr, "%s printed no \"listening on\" line\n", path);
      return -1;
    }
  } while ((url = strstr(line, marker)) == NULL);
  url += strlen(marker);
  if (strlen(url) >= sizeof m->base)
    return -1;
  memcpy(m->base, url, strlen(url) + 1);
  return pthread_create(&m->drain, NULL, drain_output, m) == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void mock_stop(mock *m) {
  if (m->pid > 0) {
    kill(m->pid, SIGTERM);
    waitpid(m->pid, NULL, 0);
    pthread_join(m->drain, NULL);
    close(m->out_fd);
    m->pid = 0;
  }
  if (m->state_dir[0])
    nftw(m->state_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * Calls a control endpoint of m with the curl tool. Returns the HTTP
 * status (-1 on failure); the body, when text is not NULL, in *text
 * (malloc'd).
 */
static long mock_call_raw(const mock *m, const char *method, const char *path, const char *json,
                          char **text) {
  char url[256];
  const char *argv[20];
  int n = 0, pipefd[2], status;
  pid_t pid;
  posix_spawn_file_actions_t actions;
  char *out = NULL;
  size_t used = 0, cap = 0;
  long code = -1;
  char *last;

  if (text)
    *text = NULL;
  snprintf(url, sizeof url, "%s%s", m->base, path);
  argv[n++] = "curl";
  argv[n++] = "-sS";
  argv[n++] = "--max-time";
  argv[n++] = "10";
  argv[n++] = "-X";
  argv[n++] = method;
  argv[n++] = "-w";
  argv[n++] = "\n%{http_code}";
  if (json) {
    argv[n++] = "-H";
    argv[n++] = "Content-Type: application/json";
    argv[n++] = "--data-binary";
    argv[n++] = json;
  }
  argv[n++] = url;
  argv[n] = NULL;
  if (pipe(pipefd) < 0)
    return -1;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_addclose(&actions, pipefd[1]);
  if (posix_spawnp(&pid, "curl", &actions, NULL, (char *const *)argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  for (;;) {
    ssize_t r;
    if (used + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      out = realloc(out, cap);
      if (out == NULL)
        break;
    }
    r = read(pipefd[0], out + used, cap - used - 1);
    if (r <= 0)
      break;
    used += (size_t)r;
  }
  close(pipefd[0]);
  waitpid(pid, &status, 0);
  if (out == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    goto out;
  out[used] = '\0';
  last = strrchr(out, '\n');
  if (last == NULL)
    goto out;
  *last = '\0';
  code = strtol(last + 1, NULL, 10);
  if (text) {
    *text = out;
    out = NULL;
  }
out:
  free(out);
  return code;
}

/* mock_call_raw with the reply parsed as JSON into *reply (NULL when not
 * JSON) when reply is not NULL. */
static long mock_call(const mock *m, const char *method, const char *path, const char *json,
                      json_t **reply) {
  char *text = NULL;
  long code = mock_call_raw(m, method, path, json, reply ? &text : NULL);
  if (reply)
    *reply = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  return code;
}

/* GET path into buf (NUL-terminated, truncated to size); the status. */
static long mock_fetch_text(const mock *m, const char *path, char *buf, size_t size) {
  char *text = NULL;
  long code = mock_call_raw(m, "GET", path, NULL, &text);
  snprintf(buf, size, "%s", text ? text : "");
  free(text);
  return code;
}

/* Queues one fault (a JSON object) on the plain mock. */
static void queue_fault(const char *json) {
  long code = mock_call(&plain_mock, "POST", "/_mock/faults", json, NULL);
  if (code < 200 || code > 299)
    fail_msg("POST /_mock/faults %s answered %ld", json, code);
}

static ca_endpoint endpoint_for(const mock *m) {
  ca_endpoint ca = {
      .name = CA_NAME,
      .url = m->base,
      .api_token = "mock-api-key",
      .profile_id = "mock-profile-1",
      .ca_pem = NULL,
      .timeout_seconds = 10,
  };
  return ca;
}

static ca_issue_request default_request(void) {
  ca_issue_request req = {
      .csr_pem = csr_pem,
      .common_name = "dev-C02XK1",
      .upn = "alice@corp.example",
      .seat_id = "seat-C02XK1",
  };
  return req;
}

/* Issues with the default request against the plain mock. */
static void issue_default(ca_outcome *out) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_issue(&ca, &req, out);
}

static void assert_starts_with(const char *text, const char *prefix) {
  if (text == NULL || strncmp(text, prefix, strlen(prefix)) != 0)
    fail_msg("\"%s\" does not start with \"%s\"", text ? text : "(null)", prefix);
}

static void assert_contains(const char *text, const char *needle) {
  if (text == NULL || strstr(text, needle) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", text ? text : "(null)", needle);
}

/* ---- fixtures --------------------------------------------------------------- */

static int group_setup(void **state) {
  crypto_key *key = crypto_key_generate_ec_p256();
  crypto_csr_info info;
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  if (key == NULL)
    return -1;
  csr_pem = crypto_csr_create(key, "ignored-by-ca", NULL);
  crypto_key_free(&key);
  if (csr_pem == NULL || crypto_csr_check(csr_pem, &info, NULL) < 0)
    return -1;
  memcpy(csr_pubkey, info.pubkey_sha256, sizeof csr_pubkey);
  if (ca_client_global_init() < 0)
    return -1;
  return mock_start(&plain_mock, NULL);
}

static int group_teardown(void **state) {
  (void)state;
  mock_stop(&plain_mock);
  ca_client_global_cleanup();
  free(csr_pem);
  return 0;
}

/* Every test starts from a mock without faults or latency. */
static int reset_mock(void **state) {
  long code = mock_call(&plain_mock, "POST", "/_mock/reset", "{}", NULL);
  (void)state;
  return code >= 200 && code <= 299 ? 0 : -1;
}

/* ---- validation --------------------------------------------------------------- */

static void test_validate_ok(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_outcome out;
  (void)state;
  assert_int_equal(ca_validate(&ca, &out), 0);
  assert_int_equal(out.cls, CA_OK);
  assert_int_equal(out.http_status, 200);
  assert_string_equal(out.result_label, "ok");
  assert_null(out.detail);
  assert_true(out.seconds > 0);
  ca_outcome_release(&out);
}

static void test_validate_bad_key(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_outcome out;
  (void)state;
  ca.api_token = "not-the-key";
  assert_int_equal(ca_validate(&ca, &out), -1);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_int_equal(out.http_status, 401);
  assert_string_equal(out.result_label, "rejected");
  /* our reading first, then the CA's own message */
  assert_string_equal(out.detail, "Couldn't validate " CA_NAME ": the API token was rejected: The "
                                  "X-API-Key header is missing or holds an unknown API key "
                                  "(HTTP 401)");
  ca_outcome_release(&out);
}

static void test_validate_unknown_profile(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_outcome out;
  (void)state;
  ca.profile_id = "no-such-profile";
  assert_int_equal(ca_validate(&ca, &out), -1);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_int_equal(out.http_status, 403);
  assert_string_equal(out.detail, "Couldn't validate " CA_NAME
                                  ": the profile is unknown or not allowed for this API token: "
                                  "Profile 'no-such-profile' does not exist or this API key may "
                                  "not use it (HTTP 403)");
  ca_outcome_release(&out);
}

static void test_validate_plain_http_remote_refused(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_outcome out;
  (void)state;
  ca.url = "http://192.0.2.10:8444";
  assert_int_equal(ca_validate(&ca, &out), -1);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_int_equal(out.http_status, 0);
  assert_string_equal(out.result_label, "rejected");
  assert_contains(out.detail, "use https");
  assert_true(out.seconds == 0);
  ca_outcome_release(&out);
}

/* ---- issuing: success ------------------------------------------------------------ */

/* The last entry of GET /_mock/issued (new reference), or fails. */
static json_t *last_issued(void) {
  json_t *list = NULL;
  json_t *last;
  assert_int_equal(mock_call(&plain_mock, "GET", "/_mock/issued", NULL, &list), 200);
  assert_true(json_is_array(list));
  assert_true(json_array_size(list) > 0);
  last = json_incref(json_array_get(list, json_array_size(list) - 1));
  json_decref(list);
  return last;
}

static void test_issue_ok(void **state) {
  ca_outcome out;
  crypto_cert_info info;
  json_t *issued;
  (void)state;
  issue_default(&out);
  if (out.cls != CA_OK)
    fail_msg("issue failed: %s", out.detail);
  assert_int_equal(out.http_status, 201);
  assert_string_equal(out.result_label, "ok");
  assert_int_equal(out.maybe_issued, 0);
  assert_null(out.detail);
  assert_non_null(out.serial);
  assert_true(strlen(out.serial) > 0 && strlen(out.serial) % 2 == 0);
  assert_int_equal(crypto_cert_parse(out.certificate_pem, &info, NULL), 0);
  assert_string_equal(info.serial, out.serial);
  assert_string_equal(info.common_name, "dev-C02XK1");
  assert_string_equal(info.pubkey_sha256, csr_pubkey);

  issued = last_issued();
  assert_string_equal(json_string_value(json_object_get(issued, "serial")), out.serial);
  assert_string_equal(json_string_value(json_object_get(issued, "common_name")), "dev-C02XK1");
  assert_string_equal(json_string_value(json_object_get(issued, "seat_id")), "seat-C02XK1");
  assert_string_equal(json_string_value(json_object_get(issued, "upn")), "alice@corp.example");
  json_decref(issued);
  ca_outcome_release(&out);
  assert_null(out.serial);
}

/* The mock answers with the leaf alone: no chain, and the leaf is signed by
 * the mock's CA (GET /_mock/ca.pem). Splitting a leaf-plus-chain reply is
 * covered by tests/unit/test_ca_reply.c. */
static void test_issue_leaf_only_reply_has_no_chain(void **state) {
  ca_outcome out;
  crypto_cert_info leaf, ca_info;
  char ca_pem[8192];
  (void)state;
  assert_int_equal(mock_fetch_text(&plain_mock, "/_mock/ca.pem", ca_pem, sizeof ca_pem), 200);
  assert_int_equal(crypto_cert_parse(ca_pem, &ca_info, NULL), 0);
  issue_default(&out);
  assert_int_equal(out.cls, CA_OK);
  assert_null(out.chain_pem);
  assert_int_equal(crypto_cert_parse(out.certificate_pem, &leaf, NULL), 0);
  assert_string_equal(leaf.issuer_cn, ca_info.common_name);
  assert_null(strstr(out.certificate_pem + 1, "-----BEGIN CERTIFICATE-----"));
  ca_outcome_release(&out);
}

static void test_issue_without_upn(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_outcome out;
  json_t *issued;
  const json_t *upn;
  (void)state;
  req.upn = "";
  req.common_name = "no-upn-device";
  assert_int_equal(ca_issue(&ca, &req, &out), 0);
  issued = last_issued();
  assert_string_equal(json_string_value(json_object_get(issued, "common_name")), "no-upn-device");
  upn = json_object_get(issued, "upn");
  assert_true(upn == NULL || json_is_null(upn) ||
              (json_is_string(upn) && json_string_value(upn)[0] == '\0'));
  json_decref(issued);
  ca_outcome_release(&out);
}

static void test_issue_unusable_csr_refused_before_sending(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_outcome out;
  (void)state;
  req.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  assert_int_equal(ca_issue(&ca, &req, &out), -1);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_int_equal(out.http_status, 0);
  assert_starts_with(out.detail, PREFIX "the CSR is not acceptable: ");
  ca_outcome_release(&out);
}

/* ---- issuing: CA error statuses ----------------------------------------------------- */

static void test_permanent_statuses(void **state) {
  static const long statuses[] = {400, 401, 403, 404, 410};
  (void)state;
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    char fault[128], want[128];
    ca_outcome out;
    snprintf(fault, sizeof fault, "{\"status\":%ld,\"count\":1,\"message\":\"fault %ld\"}",
             statuses[i], statuses[i]);
    queue_fault(fault);
    issue_default(&out);
    snprintf(want, sizeof want, PREFIX "fault %ld (HTTP %ld)", statuses[i], statuses[i]);
    assert_int_equal(out.cls, CA_PERMANENT);
    assert_int_equal(out.http_status, statuses[i]);
    assert_string_equal(out.detail, want);
    assert_string_equal(out.result_label, "rejected");
    assert_int_equal(out.maybe_issued, 0);
    assert_int_equal(out.retry_after_seconds, -1);
    assert_null(out.serial);
    ca_outcome_release(&out);
  }
}

static void test_transient_server_errors(void **state) {
  static const long statuses[] = {500, 502, 504};
  (void)state;
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    char fault[128], want[128];
    ca_outcome out;
    snprintf(fault, sizeof fault, "{\"status\":%ld,\"count\":1,\"message\":\"down %ld\"}",
             statuses[i], statuses[i]);
    queue_fault(fault);
    issue_default(&out);
    snprintf(want, sizeof want, PREFIX "down %ld (HTTP %ld)", statuses[i], statuses[i]);
    assert_int_equal(out.cls, CA_TRANSIENT);
    assert_int_equal(out.http_status, statuses[i]);
    assert_string_equal(out.detail, want);
    assert_string_equal(out.result_label, "server_error");
    assert_int_equal(out.maybe_issued, 0);
    ca_outcome_release(&out);
  }
}

static void test_throttled_retry_after_seconds(void **state) {
  ca_outcome out;
  (void)state;
  queue_fault("{\"status\":429,\"count\":1,\"retry_after\":7,\"message\":\"slow down\"}");
  issue_default(&out);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 429);
  assert_int_equal(out.retry_after_seconds, 7);
  assert_string_equal(out.result_label, "throttled");
  assert_string_equal(out.detail, PREFIX "slow down (HTTP 429, retry after 7 s)");
  ca_outcome_release(&out);
}

static void test_throttled_retry_after_http_date(void **state) {
  char fault[160], date[64];
  time_t when = time(NULL) + 120;
  struct tm tm;
  ca_outcome out;
  (void)state;
  gmtime_r(&when, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  snprintf(fault, sizeof fault, "{\"status\":429,\"count\":1,\"retry_after\":\"%s\"}", date);
  queue_fault(fault);
  issue_default(&out);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 429);
  assert_in_range(out.retry_after_seconds, 110, 120);
  ca_outcome_release(&out);
}

static void test_unavailable_retry_after(void **state) {
  ca_outcome out;
  (void)state;
  queue_fault("{\"status\":503,\"count\":1,\"retry_after\":3,\"message\":\"maintenance\"}");
  issue_default(&out);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 503);
  assert_int_equal(out.retry_after_seconds, 3);
  assert_string_equal(out.result_label, "server_error");
  assert_contains(out.detail, "maintenance");
  ca_outcome_release(&out);
}

static void test_faults_are_consumed_then_issue_succeeds(void **state) {
  ca_outcome out;
  (void)state;
  queue_fault("{\"status\":503,\"count\":2,\"retry_after\":1}");
  for (int i = 0; i < 2; i++) {
    issue_default(&out);
    assert_int_equal(out.cls, CA_TRANSIENT);
    assert_int_equal(out.http_status, 503);
    ca_outcome_release(&out);
  }
  issue_default(&out);
  assert_int_equal(out.cls, CA_OK);
  ca_outcome_release(&out);
}

/* ---- issuing: transport failures ------------------------------------------------------ */

static void test_timeout_after_send_may_have_issued(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_outcome out;
  (void)state;
  queue_fault("{\"mode\":\"timeout\",\"seconds\":5}");
  ca.timeout_seconds = 1;
  assert_int_equal(ca_issue(&ca, &req, &out), -1);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 0);
  assert_int_equal(out.maybe_issued, 1);
  assert_string_equal(out.result_label, "timeout");
  assert_contains(out.detail, "the CA may have issued; retrying");
  assert_true(out.seconds >= 0.9 && out.seconds < 3.0);
  ca_outcome_release(&out);
}

static void test_reset_after_send_may_have_issued(void **state) {
  ca_outcome out;
  (void)state;
  queue_fault("{\"mode\":\"reset\"}");
  issue_default(&out);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 0);
  assert_int_equal(out.maybe_issued, 1);
  assert_string_equal(out.result_label, "connect_error");
  assert_contains(out.detail, "the CA may have issued; retrying");
  ca_outcome_release(&out);
  /* the broken connection is not reused */
  issue_default(&out);
  assert_int_equal(out.cls, CA_OK);
  ca_outcome_release(&out);
}

static void test_connection_refused(void **state) {
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof addr;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  char url[64];
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_outcome out;
  (void)state;
  /* a port that was free a moment ago and has no listener now */
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
  close(fd);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(addr.sin_port));
  ca.url = url;
  assert_int_equal(ca_issue(&ca, &req, &out), -1);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 0);
  assert_int_equal(out.maybe_issued, 0);
  assert_string_equal(out.result_label, "connect_error");
  assert_starts_with(out.detail, PREFIX "could not connect");
  ca_outcome_release(&out);
}

static void test_plain_http_remote_refused(void **state) {
  ca_endpoint ca = endpoint_for(&plain_mock);
  ca_issue_request req = default_request();
  ca_outcome out;
  (void)state;
  ca.url = "http://ca.example.com";
  assert_int_equal(ca_issue(&ca, &req, &out), -1);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_int_equal(out.maybe_issued, 0);
  assert_string_equal(out.detail, PREFIX "CA URL \"http://ca.example.com\" uses plain http to a "
                                         "non-loopback host; use https");
  ca_outcome_release(&out);
}

/* ---- issuing: malformed success replies ------------------------------------------------- */

/* Queues mode, issues, expects a permanent malformed failure naming what. */
static void expect_malformed(const char *mode, const char *what) {
  char fault[64];
  ca_outcome out;
  snprintf(fault, sizeof fault, "{\"mode\":\"%s\"}", mode);
  queue_fault(fault);
  issue_default(&out);
  if (out.cls != CA_PERMANENT)
    fail_msg("mode %s gave class %d: %s", mode, out.cls, out.detail ? out.detail : "");
  assert_string_equal(out.result_label, "malformed");
  assert_int_equal(out.maybe_issued, 0);
  assert_starts_with(out.detail, PREFIX);
  assert_contains(out.detail, what);
  assert_null(out.serial);
  assert_null(out.certificate_pem);
  ca_outcome_release(&out);
}

static void test_malformed_garbage(void **state) {
  (void)state;
  expect_malformed("garbage", "CA reply is not JSON: \"<html><body>502 Bad Gateway");
}

static void test_malformed_truncated(void **state) {
  (void)state;
  expect_malformed("truncated", "CA reply is not JSON: ");
}

static void test_malformed_wrong_format(void **state) {
  (void)state;
  expect_malformed("wrong_format", "expected \"x509\"");
}

static void test_malformed_mismatch(void **state) {
  (void)state;
  expect_malformed("mismatch", "public key does not match the CSR");
}

static void test_malformed_no_serial(void **state) {
  (void)state;
  expect_malformed("no_serial", "serial_number");
}

/* ---- concurrency ---------------------------------------------------------------------- */

#define PARALLEL 16
#define LATENCY_MS 100

static void *issue_thread(void *arg) {
  ca_outcome *out = arg;
  issue_default(out);
  return NULL;
}

static void test_parallel_requests(void **state) {
  pthread_t threads[PARALLEL];
  ca_outcome outs[PARALLEL];
  double started, elapsed;
  char latency[32];
  (void)state;
  snprintf(latency, sizeof latency, "{\"ms\":%d}", LATENCY_MS);
  assert_in_range(mock_call(&plain_mock, "POST", "/_mock/latency", latency, NULL), 200, 299);
  started = now_seconds();
  for (int i = 0; i < PARALLEL; i++)
    assert_int_equal(pthread_create(&threads[i], NULL, issue_thread, &outs[i]), 0);
  for (int i = 0; i < PARALLEL; i++)
    pthread_join(threads[i], NULL);
  elapsed = now_seconds() - started;
  for (int i = 0; i < PARALLEL; i++) {
    if (outs[i].cls != CA_OK)
      fail_msg("request %d failed: %s", i, outs[i].detail);
    assert_true(outs[i].seconds >= LATENCY_MS / 1000.0 * 0.9);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(outs[i].serial, outs[j].serial);
  }
  for (int i = 0; i < PARALLEL; i++)
    ca_outcome_release(&outs[i]);
  if (elapsed >= 8 * LATENCY_MS / 1000.0)
    fail_msg("%d requests of %d ms took %.0f ms: not parallel", PARALLEL, LATENCY_MS,
             elapsed * 1000);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

/* A mock serving https with a fresh self-signed pair, per test, so a
 * failed assertion still stops it (in the teardown). */
static mock tls_mock;
static char tls_dir[64];
static char *tls_cert_pem;

static int tls_setup(void **state) {
  char cert_path[128], key_path[128];
  const char *extra[] = {"--tls-cert", cert_path, "--tls-key", key_path, NULL};
  FILE *f;
  long size;
  (void)state;

  snprintf(tls_dir, sizeof tls_dir, "/tmp/certdeploy-catls.XXXXXX");
  if (mkdtemp(tls_dir) == NULL)
    return -1;
  snprintf(cert_path, sizeof cert_path, "%s/tls.crt", tls_dir);
  snprintf(key_path, sizeof key_path, "%s/tls.key", tls_dir);
  if (crypto_selfsigned_write(cert_path, key_path, "127.0.0.1", NULL) < 0)
    return -1;
  f = fopen(cert_path, "r");
  if (f == NULL)
    return -1;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  rewind(f);
  tls_cert_pem = calloc(1, (size_t)size + 1);
  if (tls_cert_pem == NULL || fread(tls_cert_pem, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    return -1;
  }
  fclose(f);
  return mock_start(&tls_mock, extra);
}

static int tls_teardown(void **state) {
  (void)state;
  mock_stop(&tls_mock);
  if (tls_dir[0])
    nftw(tls_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  free(tls_cert_pem);
  tls_cert_pem = NULL;
  return 0;
}

static void test_https_trust_anchor(void **state) {
  ca_endpoint ca = endpoint_for(&tls_mock);
  ca_issue_request req = {.csr_pem = csr_pem, .common_name = "tls-device", .seat_id = "seat-tls"};
  ca_outcome out;
  (void)state;
  assert_starts_with(tls_mock.base, "https://");

  /* unknown issuer: refused, a transient TLS failure */
  ca_validate(&ca, &out);
  assert_int_equal(out.cls, CA_TRANSIENT);
  assert_int_equal(out.http_status, 0);
  assert_string_equal(out.result_label, "connect_error");
  assert_starts_with(out.detail, "Couldn't validate " CA_NAME ": could not connect");
  ca_outcome_release(&out);

  /* with the extra trust anchor: verified and accepted */
  ca.ca_pem = tls_cert_pem;
  if (ca_validate(&ca, &out) != 0)
    fail_msg("validate over https failed: %s", out.detail);
  ca_outcome_release(&out);
  if (ca_issue(&ca, &req, &out) != 0)
    fail_msg("issue over https failed: %s", out.detail);
  ca_outcome_release(&out);

  /* a damaged trust anchor is a permanent configuration error */
  ca.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  ca_validate(&ca, &out);
  assert_int_equal(out.cls, CA_PERMANENT);
  assert_contains(out.detail, "trust anchor");
  ca_outcome_release(&out);
}

int main(void) {
#define T(name) cmocka_unit_test_setup(name, reset_mock)
  const struct CMUnitTest tests[] = {
      T(test_validate_ok),
      T(test_validate_bad_key),
      T(test_validate_unknown_profile),
      T(test_validate_plain_http_remote_refused),
      T(test_issue_ok),
      T(test_issue_leaf_only_reply_has_no_chain),
      T(test_issue_without_upn),
      T(test_issue_unusable_csr_refused_before_sending),
      T(test_permanent_statuses),
      T(test_transient_server_errors),
      T(test_throttled_retry_after_seconds),
      T(test_throttled_retry_after_http_date),
      T(test_unavailable_retry_after),
      T(test_faults_are_consumed_then_issue_succeeds),
      T(test_timeout_after_send_may_have_issued),
      T(test_reset_after_send_may_have_issued),
      T(test_connection_refused),
      T(test_plain_http_remote_refused),
      T(test_malformed_garbage),
      T(test_malformed_truncated),
      T(test_malformed_wrong_format),
      T(test_malformed_mismatch),
      T(test_malformed_no_serial),
      T(test_parallel_requests),
      cmocka_unit_test_setup_teardown(test_https_trust_anchor, tls_setup, tls_teardown),
  };
#undef T
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
