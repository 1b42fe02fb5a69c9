/* api_client.c: certdeploy API requests over HTTPS with libcurl, one
 * kept-alive handle, the token and the reply wiped wherever they were
 * copied (api_client.h). */
#include "api_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fail.h"
#include "json_wipe.h"
#include "wipebuf.h"

#define MAX_CONNECT_SECONDS 10L

struct api_client {
  CURL *curl;                    /* one easy handle: its connection is reused */
  char *base_url;                /* without a trailing '/' */
  char *token;                   /* the default bearer, or NULL; wiped before free */
  size_t max_reply_bytes;        /* api_client_options */
  int json_required;             /* api_client_options */
  long timeout_seconds;          /* the limit of one request */
  volatile sig_atomic_t *cancel; /* aborts a transfer when set */
  char errbuf[CURL_ERROR_SIZE];  /* libcurl's detail for the last failure */
  wipebuf reply;                 /* reply body being received */
  int reply_too_big;             /* the server sent more than max_reply_bytes */
};

/* Zeroes the reply buffer: replies carry device tokens, PKCS#12 keys and
 * SCEP challenges. */
static void reply_wipe(api_client *c) {
  wipebuf_clear(&c->reply);
  c->reply_too_big = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  api_client *c = userdata;
  size_t n = size * nmemb;
  int rc = wipebuf_append(&c->reply, data, n, c->max_reply_bytes);
  if (rc == WIPEBUF_TOO_BIG)
    c->reply_too_big = 1;
  return rc == WIPEBUF_OK ? n : 0;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  api_client *c = userdata;
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  return *c->cancel ? 1 : 0;
}

static int setup_handle(api_client *c, const api_client_options *opts, char **err) {
  CURL *h = c->curl;
  CURLcode rc = CURLE_OK;
  long connect_timeout =
      opts->timeout_seconds < MAX_CONNECT_SECONDS ? opts->timeout_seconds : MAX_CONNECT_SECONDS;

/* Each option is set only while the previous ones succeeded. */
#define SET(opt, val)                                                                              \
  do {                                                                                             \
    if (rc == CURLE_OK)                                                                            \
      rc = curl_easy_setopt(h, opt, val);                                                          \
  } while (0)
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "https");
  SET(CURLOPT_USERAGENT, opts->user_agent != NULL ? opts->user_agent : "certdeploy");
  SET(CURLOPT_ERRORBUFFER, c->errbuf);
  SET(CURLOPT_TIMEOUT, opts->timeout_seconds);
  SET(CURLOPT_CONNECTTIMEOUT, connect_timeout);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, c);
  if (c->cancel != NULL) {
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, c);
  }
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

api_client *api_client_new(const api_client_options *opts, char **err) {
  api_client *c = NULL;
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
  if (c == NULL || (c->base_url = strndup(opts->base_url, len)) == NULL ||
      (opts->token != NULL && (c->token = strdup(opts->token)) == NULL)) {
    fail_set(err, "out of memory");
    goto fail;
  }
  c->max_reply_bytes = opts->max_reply_bytes;
  c->json_required = opts->json_required;
  c->cancel = opts->cancel;
  c->timeout_seconds = opts->timeout_seconds;
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
  api_client_free(&c);
  return NULL;
}

const char *api_client_base_url(const api_client *c) {
  return c->base_url;
}

/* A one-line reason for a failed transfer, with a hint at what to do. */
static int transfer_failure(api_client *c, const char *url, CURLcode rc, char **err) {
  const char *detail = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
  switch (rc) {
  case CURLE_ABORTED_BY_CALLBACK:
    return fail_set(err, "request to %s interrupted", url);
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
    return fail_set(err,
                    "cannot verify the TLS certificate of %s (%s); pass the CA that signed it "
                    "with --ca-file",
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
      return fail_set(err, "the reply from %s is larger than %zu bytes", url, c->max_reply_bytes);
    return fail_set(err, "out of memory reading the reply from %s", url);
  default:
    return fail_set(err, "request to %s failed: %s", url, detail);
  }
}

/* Wipes every header line (one holds the token), then frees the list. */
static void free_headers(struct curl_slist *list) {
  for (struct curl_slist *h = list; h != NULL; h = h->next)
    crypto_cleanse(h->data, strlen(h->data));
  curl_slist_free_all(list);
}

/* Builds the request headers; free them with free_headers. NULL when out
 * of memory. */
static struct curl_slist *make_headers(const char *bearer, const char *accept, int with_body) {
  struct curl_slist *list = NULL;
  struct curl_slist *next = NULL;
  char *auth = NULL;
  char *accepts = fail_format("Accept: %s", accept);
  if (accepts == NULL ||
      (bearer != NULL && (auth = fail_format("Authorization: Bearer %s", bearer)) == NULL)) {
    free(accepts);
    return NULL;
  }
  const char *lines[] = {accepts, "Expect:", with_body ? "Content-Type: application/json" : NULL,
                         auth};
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
    if (lines[i] == NULL)
      continue;
    next = curl_slist_append(list, lines[i]);
    if (next == NULL)
      goto fail;
    list = next;
  }
  crypto_free_secret(auth);
  free(accepts);
  return list;
fail:
  crypto_free_secret(auth);
  free(accepts);
  free_headers(list);
  return NULL;
}

/* Sets the method and body of the next transfer. */
static CURLcode set_method(CURL *h, const char *method, const char *text) {
  if (strcmp(method, "GET") == 0)
    return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  CURLcode cr = curl_easy_setopt(h, CURLOPT_POSTFIELDS, text != NULL ? text : "");
  if (cr == CURLE_OK)
    cr = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                          (curl_off_t)(text != NULL ? strlen(text) : 0));
  if (cr == CURLE_OK && strcmp(method, "POST") != 0)
    cr = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  return cr;
}

int api_client_request(api_client *c, const char *method, const char *path, const char *bearer,
                       const json_t *body, long *status, json_t **reply, char **err) {
  int rc = -1;
  char *url = fail_format("%s%s", c->base_url, path);
  char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
  struct curl_slist *headers =
      make_headers(bearer != NULL ? bearer : c->token, "application/json", body != NULL);
  CURLcode cr = CURLE_OK;
  json_error_t jerr;

  *reply = NULL;
  *status = 0;
  if (url == NULL || (body != NULL && text == NULL) || headers == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  reply_wipe(c);
  c->errbuf[0] = '\0';
  cr = curl_easy_setopt(c->curl, CURLOPT_URL, url);
  if (cr == CURLE_OK)
    cr = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
  if (cr == CURLE_OK)
    cr = set_method(c->curl, method, text);
  if (cr == CURLE_OK)
    cr = curl_easy_perform(c->curl);
  if (cr != CURLE_OK) {
    transfer_failure(c, url, cr, err);
    goto out;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
  if (c->reply.len > 0) {
    *reply = json_loadb(c->reply.data, c->reply.len, JSON_REJECT_DUPLICATES, &jerr);
    if (*reply == NULL && c->json_required && *status >= 200 && *status < 300) {
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
  curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
  reply_wipe(c);
  free_headers(headers);
  json_wipe_free(text);
  free(url);
  return rc;
}

/* A download in progress: its output and what became of it. */
typedef struct download {
  api_client *c;
  api_client_sink sink;
  void *sink_arg;
  long status; /* 0 until the first byte of the body */
  int write_failed;
} download;

/* A 2xx body goes to the sink; any other (an error's JSON) to the reply
 * buffer. */
static size_t on_download(char *data, size_t size, size_t nmemb, void *userdata) {
  download *d = userdata;
  size_t n = size * nmemb;
  if (d->status == 0)
    curl_easy_getinfo(d->c->curl, CURLINFO_RESPONSE_CODE, &d->status);
  if (d->status < 200 || d->status > 299)
    return on_body(data, size, nmemb, d->c);
  if (d->sink(data, n, d->sink_arg) != n) {
    d->write_failed = 1;
    return 0;
  }
  return n;
}

int api_client_download(api_client *c, const char *path, const char *accept, api_client_sink sink,
                        void *sink_arg, long *status, json_t **reply, char **err) {
  int rc = -1;
  char *url = fail_format("%s%s", c->base_url, path);
  struct curl_slist *headers = make_headers(c->token, accept, 0);
  download d = {.c = c, .sink = sink, .sink_arg = sink_arg};
  CURLcode cr = CURLE_OK;

  *reply = NULL;
  *status = 0;
  if (url == NULL || headers == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  reply_wipe(c);
  c->errbuf[0] = '\0';
/* Each option is set only while the previous ones succeeded. */
#define SET(opt, val)                                                                              \
  do {                                                                                             \
    if (cr == CURLE_OK)                                                                            \
      cr = curl_easy_setopt(c->curl, opt, val);                                                    \
  } while (0)
  SET(CURLOPT_URL, url);
  SET(CURLOPT_HTTPHEADER, headers);
  SET(CURLOPT_HTTPGET, 1L);
  SET(CURLOPT_WRITEFUNCTION, on_download);
  SET(CURLOPT_WRITEDATA, &d);
  /* an export of a large fleet takes as long as it takes while bytes flow */
  SET(CURLOPT_TIMEOUT, 0L);
  SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
  SET(CURLOPT_LOW_SPEED_TIME, c->timeout_seconds);
#undef SET
  if (cr == CURLE_OK)
    cr = curl_easy_perform(c->curl);
  if (cr != CURLE_OK) {
    if (d.status == 0)
      curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &d.status);
    if (d.status < 200 || d.status > 299) {
      transfer_failure(c, url, cr, err);
    } else {
      rc = -2;
      if (d.write_failed)
        fail_set(err, "cannot write the output");
      else
        fail_set(err, "the answer from %s broke off (%s); what came is incomplete", url,
                 c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cr));
    }
    goto out;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
  if (c->reply.len > 0 && (*status < 200 || *status > 299))
    *reply = json_loadb(c->reply.data, c->reply.len, JSON_REJECT_DUPLICATES, NULL);
  rc = 0;
out:
  /* Back to what every other request expects. */
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout_seconds);
  curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
  curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 0L);
  reply_wipe(c);
  free_headers(headers);
  free(url);
  return rc;
}

char *api_error_describe(long status, const json_t *reply) {
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

void api_client_free(api_client **c) {
  if (c == NULL || *c == NULL)
    return;
  if ((*c)->curl != NULL) {
    curl_easy_cleanup((*c)->curl);
    curl_global_cleanup();
  }
  wipebuf_release(&(*c)->reply);
  crypto_free_secret((*c)->token);
  free((*c)->base_url);
  free(*c);
  *c = NULL;
}
