/* http_client.c: JSON POSTs over libcurl (see http_client.h). */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"

struct http_client {
  CURL *handle; /* kept between requests for its connection cache */
};

http_client *http_client_new(void) {
  http_client *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->handle = curl_easy_init();
  if (c->handle == NULL) {
    free(c);
    return NULL;
  }
  return c;
}

void http_client_free(http_client **cp) {
  if (cp == NULL || *cp == NULL)
    return;
  curl_easy_cleanup((*cp)->handle);
  free(*cp);
  *cp = NULL;
}

int http_url_check(const char *url, char **err) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int rc = -1;

  if (err != NULL)
    *err = NULL;
  if (u == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
    /* not echoed: the URL may carry a secret */
    fail_set(err, "not an absolute URL such as https://hooks.example.com/certdeploy");
    goto out;
  }
  if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
    fail_set(err, "the scheme is %s; use https:// (or http://)", scheme);
    goto out;
  }
  rc = 0;
out:
  curl_free(host);
  curl_free(scheme);
  curl_url_cleanup(u);
  return rc;
}

void http_url_origin(const char *url, char *out, size_t len) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  snprintf(out, len, "(unusable URL)");
  if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
      snprintf(out, len, "%s://%s:%s", scheme, host, port);
    else
      snprintf(out, len, "%s://%s", scheme, host);
  }
  curl_free(port);
  curl_free(host);
  curl_free(scheme);
  curl_url_cleanup(u);
}

/* The reply body is not used: read and dropped. */
static size_t drop_body(char *data, size_t size, size_t nmemb, void *userdata) {
  (void)data;
  (void)userdata;
  return size * nmemb;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  const http_post *req = arg;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return req->cancelled != NULL && req->cancelled(req->cancel_arg) ? 1 : 0;
}

int http_post_json(http_client *c, const http_post *req, long *status, char **err) {
  CURL *h = c->handle;
  struct curl_slist *headers = NULL, *grown;
  char errbuf[CURL_ERROR_SIZE] = "";
  int bad = 0, rc = -1;
  CURLcode cc;

  *status = 0;
  if (err != NULL)
    *err = NULL;
  curl_easy_reset(h); /* options go; open connections stay */
  const char *fixed[] = {"Content-Type: application/json", "Accept: */*", "Expect:"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
    if ((grown = curl_slist_append(headers, fixed[i])) == NULL)
      goto nomem;
    headers = grown;
  }
  for (int i = 0; i < req->nheaders; i++) {
    if ((grown = curl_slist_append(headers, req->headers[i])) == NULL)
      goto nomem;
    headers = grown;
  }
  bad |= curl_easy_setopt(h, CURLOPT_URL, req->url) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout_seconds) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, req->timeout_seconds) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "certdeploy-webhook") != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->json) != CURLE_OK;
  bad |=
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->json)) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_body) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)req) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
  if (bad) {
    fail_set(err, "could not set up the request");
    goto out;
  }
  cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  if (*status > 0) {
    rc = 0; /* a status arrived, even if the body was cut short */
  } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
    fail_set(err, "cancelled: shutting down");
  } else {
    fail_set(err, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
  }
  goto out;
nomem:
  fail_set(err, "out of memory");
out:
  curl_easy_reset(h); /* drops pointers to headers, errbuf and req */
  curl_slist_free_all(headers);
  return rc;
}
