/*
 * query_params.h: the query parameters lists filter by, checked the same
 * way on every list: a value that is not one the parameter takes is 400
 * `invalid_request` naming the parameter in `field` (the reply is set and
 * -1 returned); an absent parameter leaves *out NULL and returns 0.
 * Strings returned point into the request (request_query()).
 */
#ifndef CERTDEPLOY_QUERY_PARAMS_H
#define CERTDEPLOY_QUERY_PARAMS_H

#include <stddef.h>

#include "request.h"

#define QUERY_TIME_LEN 32 /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and its NUL */

/* ?status=: a deployment status name. */
int query_status(const request *req, reply *rep, const char **out);

/* ?<name>=: a canonical UUID. */
int query_uuid(const request *req, reply *rep, const char *name, const char **out);

/* ?<name>=: one of the NULL-terminated choices (exact, lower case). */
int query_choice(const request *req, reply *rep, const char *name, const char *const *choices,
                 const char **out);

/* ?<name>=: search text, UTF-8 of at most max bytes; "" searches for
 * nothing (*out NULL: every text contains it). */
int query_search(const request *req, reply *rep, const char *name, size_t max, const char **out);

/* ?<name>=: an RFC 3339 time (any offset), written into out in UTC with
 * microseconds; *given is set to 1 when the parameter was there. */
int query_time(const request *req, reply *rep, const char *name, char out[QUERY_TIME_LEN],
               int *given);

/* Pure parts, for the tests. */

/* Converts an RFC 3339 date-time ("2027-01-31T12:00:00Z",
 * "2027-01-31t13:00:00.5+01:00"; seconds 00-60, at most nine fraction
 * digits, kept to six) to UTC text in out. Returns 0, or -1 when text is
 * not one, or falls outside the years 1 to 9999 in UTC. */
int rfc3339_to_utc(const char *text, char out[QUERY_TIME_LEN]);

/* 1 when an Accept header value asks for media type `type`
 * ("text/csv") by name with a non-zero q that is not lower than the q of
 * application/json; 0 otherwise (NULL accept, only wildcards: JSON). */
int accept_prefers(const char *accept, const char *type);

#endif
