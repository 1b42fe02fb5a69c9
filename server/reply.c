/* reply.c: building replies, and the one error body shape. */
#include "reply.h"

#include "crypto.h"
#include "db.h"
#include "json_wipe.h"
#include "reply_stream.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reply bodies may carry secrets (a new token, a PKCS#12 and its
 * password): wiped before they are freed. */
static void reply_reset(reply *rep) {
  if (rep->body != NULL)
    crypto_cleanse(rep->body, rep->body_len);
  free(rep->body);
  rep->body = NULL;
  rep->body_len = 0;
  reply_stream_free(&rep->stream); /* a later reply replaces a stream too */
}

/* Takes text (NULL: out of memory) as the reply's JSON body. */
static void reply_json_body(reply *rep, int status, char *text, size_t len) {
  reply_reset(rep);
  rep->status = status;
  rep->content_type = "application/json";
  rep->body = text;
  rep->body_len = len;
  if (rep->body == NULL) {
    rep->status = 500;
    rep->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    rep->body_len = rep->body ? strlen(rep->body) : 0;
  }
}

void reply_json(reply *rep, int status, json_t *body) {
  size_t len = 0;
  char *text = body ? json_text(body, &len) : NULL;
  json_wipe_decref(body); /* the copies of secrets it held */
  reply_json_body(rep, status, text, len);
}

void reply_json_written(reply *rep, int status, json_writer *w) {
  size_t len = 0;
  char *text = json_writer_finish(w, &len);
  reply_json_body(rep, status, text, len);
}

/* A copy of text that is valid UTF-8 (bad bytes become '?'), so it can go
 * into JSON: messages and fields echo client input. Free with free(). */
static char *json_safe(const char *text) {
  char *copy = strdup(text);
  if (copy != NULL)
    utf8_scrub(copy);
  return copy;
}

void reply_error(reply *rep, api_error_code code, const char *field, const char *message) {
  char *text = json_safe(message ? message : api_error_default_message(code));
  char *name = field ? json_safe(field) : NULL;
  json_t *err = json_pack("{s:s, s:s}", "code", api_error_name(code), "message",
                          text ? text : api_error_default_message(code));
  if (err && name)
    json_object_set_new(err, "field", json_string(name));
  free(text);
  free(name);
  reply_json(rep, api_error_status(code), json_pack("{s:o}", "error", err));
  rep->error_code = api_error_name(code);
}

void reply_errorf(reply *rep, api_error_code code, const char *field, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  reply_error(rep, code, field, msg);
}

void reply_empty(reply *rep, int status) {
  reply_reset(rep);
  rep->status = status;
  rep->content_type = NULL;
}

void reply_text(reply *rep, int status, const char *content_type, const char *text, size_t len) {
  reply_reset(rep);
  rep->status = status;
  rep->content_type = content_type;
  rep->body = malloc(len + 1);
  if (rep->body == NULL) {
    rep->status = 500;
    return;
  }
  memcpy(rep->body, text, len);
  rep->body[len] = '\0';
  rep->body_len = len;
}

void reply_body_free(void *body) {
  json_wipe_free(body);
}

void reply_release(reply *rep) {
  reply_reset(rep);
  free(rep->allow);
  memset(rep, 0, sizeof(*rep));
}

void reply_db_error(reply *rep, int rc) {
  reply_error(rep, rc == DB_SOFT_ERROR ? ERR_UNAVAILABLE : ERR_INTERNAL, NULL, NULL);
}
