/*
 * reply.h: the only ways a handler answers. Every error goes through
 * reply_error so all error bodies share one shape (errors.h).
 */
#ifndef CERTDEPLOY_REPLY_H
#define CERTDEPLOY_REPLY_H

#include <jansson.h>

#include "errors.h"
#include "json_text.h"
#include "request.h"

/* Sets a JSON reply; takes ownership of body (decref'd, after its string
 * values that the decref frees are wiped: see json_wipe_decref). */
void reply_json(reply *rep, int status, json_t *body);

/* Sets a JSON reply of the text written in w (json_text.h), which it
 * finishes and takes; 500 if writing it ran out of memory. */
void reply_json_written(reply *rep, int status, json_writer *w);

/* Sets an error reply {"error":{"code","message","field"}}. message NULL
 * uses the registry's default; field may be NULL. */
void reply_error(reply *rep, api_error_code code, const char *field, const char *message);

/* printf-style message variant of reply_error. */
void reply_errorf(reply *rep, api_error_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets a reply with no body (e.g. 204). */
void reply_empty(reply *rep, int status);

/* Sets a reply with a copy of a text body. */
void reply_text(reply *rep, int status, const char *content_type, const char *text, size_t len);

/* Sets 503 unavailable for DB_SOFT_ERROR, else 500 internal. */
void reply_db_error(reply *rep, int rc);

/* Frees what the reply holds; the body is wiped first. */
void reply_release(reply *rep);

/* Wipes and frees a reply body the transport took over from rep->body
 * (its length is not needed). For MHD's free callback. Accepts NULL. */
void reply_body_free(void *body);

#endif
