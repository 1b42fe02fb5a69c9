/*
 * ca_transport.h: what the CA operations (ca_validate.c, ca_issue.c, ...)
 * share from ca_client.c: one HTTP exchange with the CA, its
 * classification into a ca_outcome, and the outcome setters. Internal to
 * the adapter; callers use ca_client.h.
 */
#ifndef CERTDEPLOY_CA_TRANSPORT_H
#define CERTDEPLOY_CA_TRANSPORT_H

#include "ca_client.h"
#include "wipebuf.h"

#include <curl/curl.h>

/* Everything one exchange produced. */
typedef struct ca_transfer {
  CURLcode rc;                  /* curl_easy_perform's result */
  long status;                  /* final HTTP status, 0 when none */
  int sent;                     /* the request may have reached the CA */
  double seconds;               /* wall time */
  long retry_after;             /* parsed Retry-After of the last reply, -1 */
  int too_large;                /* body exceeded CA_REPLY_MAX_BYTES */
  wipebuf body;                 /* reply body (NUL-terminated once any arrived) */
  char errbuf[CURL_ERROR_SIZE]; /* curl's own words for rc */
} ca_transfer;

/*
 * Performs method ("GET", "POST" or "PUT") on url, with post_body as a
 * JSON body (NULL for GET). Fills *t (release with ca_transfer_release).
 * Returns -1 only when the exchange could not be attempted (no handle,
 * memory); a network or HTTP failure is 0 with t->rc / t->status telling
 * what happened. A request with a body always uses a new connection.
 */
int ca_transfer_run(const ca_endpoint *ca, const char *method, const char *url,
                    const char *post_body, ca_transfer *t);

/* Frees what ca_transfer_run stored in t. */
void ca_transfer_release(ca_transfer *t);

/*
 * Turns the result of ca_transfer_run into *out unless it is a complete
 * 2xx reply; returns 1 when out is final, 0 when the caller reads the
 * body. may_issue: the request could have made the CA issue (a timeout
 * after sending then says "the CA may have issued"). status_reason picks
 * a reason text for a non-2xx status (may be NULL or return NULL).
 */
int ca_classify(const ca_endpoint *ca, const char *prefix, int may_issue, const ca_transfer *t,
                const char *(*status_reason)(long status, const ca_endpoint *ca), ca_outcome *out);

/* Refuses what cannot work before any byte is sent: bad URL, missing or
 * header-breaking token, missing profile. Returns -1 with out filled. */
int ca_preflight(const ca_endpoint *ca, const char *prefix, ca_outcome *out);

/* Resets out to an empty outcome (cls CA_OK, label "ok", retry_after -1)
 * without freeing anything. */
void ca_outcome_init(ca_outcome *out);

/* Records a failure: class, label and a formatted detail (replacing any). */
__attribute__((format(printf, 4, 5))) void ca_fail(ca_outcome *out, ca_class cls, const char *label,
                                                   const char *fmt, ...);

/* A local failure: memory, or a call before ca_client_global_init. */
void ca_fail_local(ca_outcome *out);

#endif
