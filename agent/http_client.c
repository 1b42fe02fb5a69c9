/* http_client.c: JSON POSTs over HTTPS with libcurl, one kept-alive handle. */
#include "http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fail.h"
#include "crypto.h"
#include "wipebuf.h"
#include "json_wipe.h"

/* Replies are small JSON documents; a PKCS#12 bundle is a few KiB. */
#define MAX_REPLY_BYTES (4 * 1024 * 1024)

struct http_client {
  CURL *curl;                    /* one easy handle: its connection is reused */
  char *base_url;                /* without a trailing '/' */
  volatile sig_atomic_t *cancel; /* aborts a transfer when set */
  char errbuf[CURL_ERROR_SIZE];  /* libcurl's detail for the last failure */
  wipebuf reply;                 /* reply body being received */
  int reply_too_big;             /* the server sent more than MAX_REPLY_BYTES */
};

/* Zeroes the reply buffer: it may hold a device token or a PKCS#12 key. */
static void reply_wipe(http_client *c) {
  wipebuf_clear(&c->reply);
  c->reply_too_big = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  http_client *c = userdata;
  size_t n = size * nmemb;
  int rc = wipebuf_append(&c->reply, data, n, MAX_REPLY_BYTES);
  if (rc == WIPEBUF_TOO_BIG)
    c->reply_too_big = 1;
  return rc == WIPEBUF_OK ? n : 0;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  http_client *c = userdata;
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  return c->cancel != NULL && *c->cancel ? 1 : 0;
}

static int setup_handle(http_client *c, const http_client_options *opts, char **err) {
  CURL *h = c->curl;
  CURLcode rc = CURLE_OK;
  long connect_timeout = opts->timeout_seconds < 10 ? opts->timeout_seconds : 10;

/* Each option is set only while the previous ones succeeded. */
#define SET(opt, val)                                                                              \
  do {                                                                                             \
    if (rc == CURLE_OK)                                                                            \
      rc = curl_easy_setopt(h, opt, val);                                                          \
  } while (0)
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "https");
  SET(CURLOPT_USERAGENT, "certdeploy-agent/1");
  SET(CURLOPT_ERRORBUFFER, c->errbuf);
  SET(CURLOPT_TIMEOUT, opts->timeout_seconds);
  SET(CURLOPT_CONNECTTIMEOUT, connect_timeout);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, c);
  SET(CURLOPT_NOPROGRESS, 0L);
  SET(CURLOPT_XFERINFOFUNCTION, on_progress);
  SET(CURLOPT_XFERINFODATA, c);
  if (opts->insecure) {
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (opts->ca_file != NULL) {
    /* Trust this file alone, not the system store as well. */
    SET(CURLOPT_CAINFO, opts->ca_file);
    SET(CURLOPT_CAPATH, NULL);
  }
#undef SET
  if (rc != CURLE_OK)
    return fail_set(err, "cannot configure libcurl: %s", curl_easy_strerror(rc));
  return 0;
}

http_client *http_client_new(const http_client_options *opts, char **err) {
  http_client *c = NULL;
  size_t len = strlen(opts->base_url);

  if (strncmp(opts->base_url, "https://", 8) != 0 || len <= 8) {
    fail_set(err, "--server must be an https:// URL, got \"%s\"", opts->base_url);
    goto fail;
  }
  if (opts->ca_file != NULL && access(opts->ca_file, R_OK) != 0) {
    fail_set(err, "cannot read --ca-file %s; give the PEM of the CA that signed the server",
             opts->ca_file);
    goto fail;
  }
  while (len > 8 && opts->base_url[len - 1] == '/')
    len--;
  c = calloc(1, sizeof(*c));
  if (c == NULL || (c->base_url = strndup(opts->base_url, len)) == NULL) {
    fail_set(err, "out of memory");
    goto fail;
  }
  c->cancel = opts->cancel;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fail_set(err, "cannot initialise libcurl");
    goto fail;
  }
  c->curl = curl_easy_init();
  if (c->curl == NULL) {
    curl_global_cleanup();
    fail_set(err, "cannot initialise libcurl");
    goto fail;
  }
  if (setup_handle(c, opts, err) != 0)
    goto fail;
  return c;
fail:
  http_client_free(&c);
  return NULL;
}

const char *http_client_base_url(const http_client *c) {
  return c->base_url;
}

/* A one-line reason for a failed transfer, with a hint at what to do. */
static int transfer_failure(http_client *c, const char *url, CURLcode rc, char **err) {
  const char *detail = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
  switch (rc) {
  case CURLE_ABORTED_BY_CALLBACK:
    return fail_set(err, "request to %s interrupted", url);
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
    return fail_set(err,
                    "cannot verify the TLS certificate of %s (%s); pass the CA that signed "
                    "it with --ca-file",
                    c->base_url, detail);
  case CURLE_OPERATION_TIMEDOUT:
    return fail_set(err, "no answer from %s in time (%s); check the server or raise --timeout", url,
                    detail);
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
    return fail_set(err, "cannot connect to %s (%s); check --server and that the server runs",
                    c->base_url, detail);
  case CURLE_WRITE_ERROR:
    if (c->reply_too_big)
      return fail_set(err, "the reply from %s is larger than %d bytes", url, MAX_REPLY_BYTES);
    return fail_set(err, "out of memory reading the reply from %s", url);
  default:
    return fail_set(err, "request to %s failed: %s", url, detail);
  }
}

/* Builds the request headers; the bearer line is wiped on free. */
static struct curl_slist *make_headers(const char *bearer) {
  struct curl_slist *list = NULL;
  struct curl_slist *next = NULL;
  const char *fixed[] = {"Content-Type: application/json", "Accept: application/json", "Expect:"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
    next = curl_slist_append(list, fixed[i]);
    if (next == NULL)
      goto fail;
    list = next;
  }
  if (bearer != NULL) {
    char *line = fail_format("Authorization: Bearer %s", bearer);
    if (line == NULL)
      goto fail;
    next = curl_slist_append(list, line);
    crypto_free_secret(line);
    if (next == NULL)
      goto fail;
    list = next;
  }
  return list;
fail:
  curl_slist_free_all(list);
  return NULL;
}

static void free_headers(struct curl_slist *list) {
  for (struct curl_slist *h = list; h != NULL; h = h->next)
    crypto_cleanse(h->data, strlen(h->data));
  curl_slist_free_all(list);
}

int http_client_post_json(http_client *c, const char *path, const char *bearer, const json_t *body,
                          long *status, json_t **reply, char **err) {
  int rc = -1;
  char *url = fail_format("%s%s", c->base_url, path);
  char *text = json_dumps(body, JSON_COMPACT);
  struct curl_slist *headers = make_headers(bearer);
  CURLcode cr = CURLE_OK;
  json_error_t jerr;

  *reply = NULL;
  *status = 0;
  if (url == NULL || text == NULL || headers == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  reply_wipe(c);
  c->errbuf[0] = '\0';
  cr = curl_easy_setopt(c->curl, CURLOPT_URL, url);
  if (cr == CURLE_OK)
    cr = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
  if (cr == CURLE_OK)
    cr = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
  if (cr == CURLE_OK)
    cr = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
  if (cr == CURLE_OK)
    cr = curl_easy_perform(c->curl);
  if (cr != CURLE_OK) {
    transfer_failure(c, url, cr, err);
    goto out;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
  if (c->reply.len > 0) {
    *reply = json_loadb(c->reply.data, c->reply.len, JSON_REJECT_DUPLICATES, &jerr);
    if (*reply == NULL && *status >= 200 && *status < 300) {
      fail_set(err, "the reply from %s (HTTP %ld) is not JSON: %s; is --server right?", url,
               *status, jerr.text);
      goto out;
    }
  }
  rc = 0;
out:
  /* The handle outlives these buffers; drop its pointers to them. */
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
  reply_wipe(c);
  free_headers(headers);
  json_wipe_free(text);
  free(url);
  return rc;
}

char *http_error_describe(long status, const json_t *reply) {
  const char *code = NULL;
  const char *message = NULL;
  json_t *error = json_object_get(reply, "error");
  if (json_is_object(error)) {
    code = json_string_value(json_object_get(error, "code"));
    message = json_string_value(json_object_get(error, "message"));
  }
  if (message != NULL && code != NULL)
    return fail_format("HTTP %ld %s: %s", status, code, message);
  if (message != NULL)
    return fail_format("HTTP %ld: %s", status, message);
  if (code != NULL)
    return fail_format("HTTP %ld %s", status, code);
  return fail_format("HTTP %ld", status);
}

void http_client_free(http_client **c) {
  if (c == NULL || *c == NULL)
    return;
  if ((*c)->curl != NULL) {
    curl_easy_cleanup((*c)->curl);
    curl_global_cleanup();
  }
  wipebuf_release(&(*c)->reply);
  free((*c)->base_url);
  free(*c);
  *c = NULL;
}
