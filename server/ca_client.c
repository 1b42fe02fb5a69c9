/*
 * ca_client.c: DigiCert TLM requests over libcurl (see ca_client.h).
 *
 * Layout: per-thread handle cache; one ca_transfer_run() that performs an
 * exchange and records what happened; classify_*() that turn a failed
 * exchange into a ca_outcome. Each operation has its own file (ca_validate.c,
 * ca_issue.c), which only adds its request body and its reading of a 2xx
 * reply (ca_reply.c); ca_transport.h is what they share.
 */
#include "ca_client.h"
#include "ca_transport.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca_reply.h"
#include "ca_request.h"
#include "ca_retry_after.h"
#include "crypto.h"
#include "fail.h"

/* ---- per-thread handles ----------------------------------------------- */

static pthread_key_t handle_key;
static int handle_key_ready;

static void handle_destroy(void *handle) {
  curl_easy_cleanup(handle);
}

int ca_client_global_init(void) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return -1;
  if (pthread_key_create(&handle_key, handle_destroy) != 0) {
    curl_global_cleanup();
    return -1;
  }
  handle_key_ready = 1;
  return 0;
}

void ca_client_global_cleanup(void) {
  if (!handle_key_ready)
    return;
  curl_easy_cleanup(pthread_getspecific(handle_key));
  pthread_setspecific(handle_key, NULL);
  pthread_key_delete(handle_key);
  handle_key_ready = 0;
  curl_global_cleanup();
}

/* The calling thread's handle, options reset but connections kept; NULL
 * before ca_client_global_init or on memory failure. */
static CURL *thread_handle(void) {
  CURL *handle;
  if (!handle_key_ready)
    return NULL;
  handle = pthread_getspecific(handle_key);
  if (handle != NULL) {
    curl_easy_reset(handle);
    return handle;
  }
  handle = curl_easy_init();
  if (handle != NULL && pthread_setspecific(handle_key, handle) != 0) {
    curl_easy_cleanup(handle);
    handle = NULL;
  }
  return handle;
}

/* ---- outcomes ------------------------------------------------------------ */

void ca_outcome_init(ca_outcome *out) {
  memset(out, 0, sizeof *out);
  out->cls = CA_OK;
  out->retry_after_seconds = -1;
  out->result_label = "ok";
}

void ca_outcome_release(ca_outcome *out) {
  if (out == NULL)
    return;
  free(out->detail);
  free(out->serial);
  free(out->certificate_pem);
  free(out->chain_pem);
  ca_outcome_init(out);
}

void ca_fail(ca_outcome *out, ca_class cls, const char *label, const char *fmt, ...) {
  va_list ap;
  out->cls = cls;
  out->result_label = label;
  va_start(ap, fmt);
  fail_vset(&out->detail, fmt, ap);
  va_end(ap);
}

void ca_fail_local(ca_outcome *out) {
  ca_fail(out, CA_TRANSIENT, "connect_error",
          "certdeploy could not prepare the CA request (out of memory, or the CA client is not "
          "initialised)");
}

/* ---- URL and request checks ---------------------------------------------- */

int ca_url_check(const char *url, char **err) {
  CURLU *u = NULL;
  char *scheme = NULL, *host = NULL, *part = NULL, *shown = NULL;
  int rc = -1;

  if (err != NULL)
    *err = NULL;
  if (url == NULL || url[0] == '\0') {
    fail_set(err, "CA URL is empty");
    goto out;
  }
  shown = ca_reply_clean(url, strlen(url), 200);
  u = curl_url();
  if (shown == NULL || u == NULL)
    goto out;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
    fail_set(err, "CA URL \"%s\" is not an absolute URL such as https://tlm.example.com", shown);
    goto out;
  }
  if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
    fail_set(err, "CA URL \"%s\" must start with https://", shown);
    goto out;
  }
  if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
      curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
    /* not echoed: it may hold a password */
    fail_set(err, "CA URL must not contain a user name or password; the API token is sent "
                  "separately");
    goto out;
  }
  if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
      curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
    fail_set(err, "CA URL \"%s\" must not have a query or fragment", shown);
    goto out;
  }
  if (strcmp(scheme, "http") == 0 && !ca_request_host_is_loopback(host)) {
    fail_set(err, "CA URL \"%s\" uses plain http to a non-loopback host; use https", shown);
    goto out;
  }
  rc = 0;
out:
  curl_free(part);
  curl_free(host);
  curl_free(scheme);
  curl_url_cleanup(u);
  free(shown);
  return rc;
}

int ca_preflight(const ca_endpoint *ca, const char *prefix, ca_outcome *out) {
  char *err = NULL;
  if (ca_url_check(ca->url, &err) < 0) {
    ca_fail(out, CA_PERMANENT, "rejected", "%s%s", prefix, err ? err : "CA URL is unusable");
    free(err);
    return -1;
  }
  if (ca->api_token == NULL || ca->api_token[0] == '\0') {
    ca_fail(out, CA_PERMANENT, "rejected", "%sno API token is set", prefix);
    return -1;
  }
  if (!ca_request_token_ok(ca->api_token)) {
    ca_fail(out, CA_PERMANENT, "rejected",
            "%sthe API token contains spaces or characters not allowed in an HTTP header", prefix);
    return -1;
  }
  if (ca->profile_id == NULL || ca->profile_id[0] == '\0') {
    ca_fail(out, CA_PERMANENT, "rejected", "%sno profile id is set", prefix);
    return -1;
  }
  return 0;
}

/* ---- one HTTP exchange ----------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  ca_transfer *t = userdata;
  size_t n = size * nmemb;
  int rc = wipebuf_append(&t->body, data, n, CA_REPLY_MAX_BYTES);
  if (rc == WIPEBUF_TOO_BIG)
    t->too_large = 1;
  return rc == WIPEBUF_OK ? n : 0; /* 0 aborts the ca_transfer with CURLE_WRITE_ERROR */
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata) {
  ca_transfer *t = userdata;
  size_t n = size * nitems;
  static const char name[] = "Retry-After:";

  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    t->retry_after = -1; /* a new response (after 1xx): forget the last */
  } else if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
    char *value = strndup(data + sizeof name - 1, n - (sizeof name - 1));
    if (value != NULL) {
      value[strcspn(value, "\r\n")] = '\0';
      t->retry_after = ca_retry_after_parse(value, time(NULL));
      free(value);
    }
  }
  return n;
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends line to *list; -1 on memory failure (the list stays valid). */
static int add_header(struct curl_slist **list, const char *line) {
  struct curl_slist *grown = curl_slist_append(*list, line);
  if (grown == NULL)
    return -1;
  *list = grown;
  return 0;
}

/* Frees a header list after wiping it (it holds the API token). */
static void headers_free(struct curl_slist *list) {
  for (struct curl_slist *s = list; s != NULL; s = s->next)
    crypto_cleanse(s->data, strlen(s->data));
  curl_slist_free_all(list);
}

int ca_transfer_run(const ca_endpoint *ca, const char *method, const char *url,
                    const char *post_body, ca_transfer *t) {
  CURL *h = thread_handle();
  struct curl_slist *headers = NULL;
  char *key_header = NULL;
  long timeout = ca->timeout_seconds > 0 ? ca->timeout_seconds : CA_DEFAULT_TIMEOUT_SECONDS;
  long request_size = 0;
  curl_off_t pretransfer = 0;
  int bad = 0;
  int rc = -1;
  double started;

  memset(t, 0, sizeof *t);
  t->retry_after = -1;
  t->rc = CURLE_FAILED_INIT;
  if (h == NULL)
    goto out;
  if (asprintf(&key_header, "X-API-Key: %s", ca->api_token) < 0) {
    key_header = NULL;
    goto out;
  }
  if (add_header(&headers, key_header) < 0 ||
      add_header(&headers, "Accept: application/json") < 0 || add_header(&headers, "Expect:") < 0 ||
      (post_body && add_header(&headers, "Content-Type: application/json") < 0))
    goto out;

  bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "certdeploy") != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, t) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, t) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK;
  if (post_body != NULL) {
    bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body) != CURLE_OK;
    bad |=
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post_body)) != CURLE_OK;
    if (strcmp(method, "POST") != 0)
      bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    /* A request with a body never goes over a reused connection: when a
     * reused connection dies before the reply, libcurl silently sends the
     * request again on a new one, and an issue resent that way can issue
     * twice. */
    bad |= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
  } else {
    bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 0L) != CURLE_OK;
  }
  if (ca->ca_pem != NULL && ca->ca_pem[0] != '\0') {
    /* curl copies the blob; the cast only drops const for its struct */
    struct curl_blob blob = {(void *)(uintptr_t)ca->ca_pem, strlen(ca->ca_pem), CURL_BLOB_COPY};
    bad |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK;
  }
  if (bad)
    goto out;

  started = monotonic_seconds();
  t->rc = curl_easy_perform(h);
  t->seconds = monotonic_seconds() - started;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->status);
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  /* Conservative: once the connection was ready to send, assume the CA
   * may have read the request. */
  t->sent = request_size > 0 || pretransfer > 0;
  rc = 0;
out:
  if (h != NULL)
    curl_easy_reset(h); /* drops pointers to headers, t and the stack */
  headers_free(headers);
  if (key_header != NULL)
    crypto_free_secret(key_header);
  return rc;
}

void ca_transfer_release(ca_transfer *t) {
  wipebuf_release(&t->body);
}

/* ---- classification ------------------------------------------------------- */

/* curl's message for t, preferring the specific error buffer. */
static const char *transfer_error(const ca_transfer *t) {
  return t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->rc);
}

/* No HTTP status arrived: ca_classify the transport failure. */
static void classify_transport(const ca_endpoint *ca, const char *prefix, int may_issue,
                               const ca_transfer *t, ca_outcome *out) {
  long timeout = ca->timeout_seconds > 0 ? ca->timeout_seconds : CA_DEFAULT_TIMEOUT_SECONDS;
  const char *why = transfer_error(t);

  switch (t->rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    ca_fail(out, CA_TRANSIENT, "connect_error", "%scould not connect (%s)", prefix, why);
    return;
  case CURLE_SSL_CACERT_BADFILE:
    ca_fail(out, CA_PERMANENT, "rejected", "%sthe CA's trust anchor PEM could not be loaded (%s)",
            prefix, why);
    return;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    if (!t->sent) {
      ca_fail(out, CA_PERMANENT, "rejected", "%sthe CA URL is not usable (%s)", prefix, why);
      return;
    }
    /* after sending, curl says this of an HTTP/0.9 (non-HTTP) reply */
    ca_fail(out, CA_PERMANENT, "malformed", "%sthe reply was not HTTP (%s)", prefix, why);
    return;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_BAD_CONTENT_ENCODING:
    ca_fail(out, CA_PERMANENT, "malformed", "%sthe reply was not valid HTTP (%s)", prefix, why);
    return;
  case CURLE_OUT_OF_MEMORY:
  case CURLE_FAILED_INIT:
    ca_fail(out, CA_TRANSIENT, "connect_error", "%scertdeploy could not run the request (%s)",
            prefix, why);
    return;
  case CURLE_OPERATION_TIMEDOUT:
    if (!t->sent)
      ca_fail(out, CA_TRANSIENT, "timeout", "%scould not connect within %ld s (%s)", prefix,
              timeout, why);
    else if (may_issue)
      ca_fail(out, CA_TRANSIENT, "timeout",
              "%sno reply within %ld s after the request was sent; the CA may have issued; "
              "retrying",
              prefix, timeout);
    else
      ca_fail(out, CA_TRANSIENT, "timeout", "%sno reply within %ld s", prefix, timeout);
    out->maybe_issued = t->sent && may_issue;
    return;
  default:
    /* reset, closed without a reply, send/receive errors */
    if (!t->sent)
      ca_fail(out, CA_TRANSIENT, "connect_error", "%scould not connect (%s)", prefix, why);
    else if (may_issue)
      ca_fail(out, CA_TRANSIENT, "connect_error",
              "%sthe connection failed after the request was sent (%s); the CA may have issued; "
              "retrying",
              prefix, why);
    else
      ca_fail(out, CA_TRANSIENT, "connect_error", "%sthe connection failed (%s)", prefix, why);
    out->maybe_issued = t->sent && may_issue;
    return;
  }
}

/* A non-2xx status: class by the contract, detail from the CA's errors.
 * reason, when not NULL, is put before the CA's words. */
static void classify_status(const char *prefix, const char *reason, const ca_transfer *t,
                            ca_outcome *out) {
  long s = t->status;
  ca_class cls = CA_PERMANENT;
  const char *label = s >= 500 ? "server_error" : "rejected";
  char *text = ca_reply_error_text(t->body.data, t->body.len);
  char retry[48] = "";

  if (s == 429 || s == 503) {
    cls = CA_TRANSIENT;
    label = s == 429 ? "throttled" : "server_error";
    out->retry_after_seconds = t->retry_after;
    if (t->retry_after >= 0)
      snprintf(retry, sizeof retry, ", retry after %ld s", t->retry_after);
  } else if (s == 500 || s == 502 || s == 504) {
    cls = CA_TRANSIENT;
  }
  if (text == NULL) {
    ca_fail_local(out);
  } else {
    ca_fail(out, cls, label, "%s%s%s%s (HTTP %ld%s)", prefix, reason ? reason : "",
            reason ? ": " : "", text, s, retry);
  }
  free(text);
}

int ca_classify(const ca_endpoint *ca, const char *prefix, int may_issue, const ca_transfer *t,
                const char *(*status_reason)(long status, const ca_endpoint *ca), ca_outcome *out) {
  out->http_status = t->status;
  out->seconds = t->seconds;
  if (t->status == 0) {
    classify_transport(ca, prefix, may_issue, t, out);
    return 1;
  }
  if (t->status >= 200 && t->status < 300) {
    if (t->rc == CURLE_OK)
      return 0;
    /* the CA said yes but the body did not arrive whole: retrying could
     * issue twice, and the contract makes a malformed success permanent */
    if (t->too_large)
      ca_fail(out, CA_PERMANENT, "malformed",
              "%sthe CA answered HTTP %ld with a body over %ld bytes", prefix, t->status,
              CA_REPLY_MAX_BYTES);
    else
      ca_fail(out, CA_PERMANENT, "malformed",
              "%sthe CA answered HTTP %ld but the reply was cut off (%s)", prefix, t->status,
              transfer_error(t));
    return 1;
  }
  classify_status(prefix, status_reason ? status_reason(t->status, ca) : NULL, t, out);
  return 1;
}
