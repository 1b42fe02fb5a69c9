/*
 * ca_retry_after.h: parsing of the HTTP Retry-After header (RFC 9110
 * section 10.2.3) as sent by a CA on 429 and 503 replies.
 *
 * Pure functions: no I/O, no clock. The caller passes "now" so tests and
 * callers agree on the reference time.
 */
#ifndef CERTDEPLOY_CA_RETRY_AFTER_H
#define CERTDEPLOY_CA_RETRY_AFTER_H

#include <time.h>

/* Longest wait we accept from a CA: one day. A larger value (or a date
 * further ahead) is capped to this, so a confused CA cannot park a
 * deployment for years; the worker applies its own backoff cap on top. */
#define CA_RETRY_AFTER_MAX_SECONDS 86400L

/*
 * Returns the number of seconds to wait that `value` asks for, relative to
 * `now`:
 * - delta-seconds ("120"): that many seconds (leading/trailing spaces and
 *   tabs allowed, digits only, no sign);
 * - an HTTP date in any of the three forms HTTP/1.1 recipients must accept:
 *   IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", obsolete RFC 850
 *   "Sunday, 06-Nov-94 08:49:37 GMT" (a two-digit year more than 50 years
 *   ahead of `now` means the previous century) and asctime
 *   "Sun Nov  6 08:49:37 1994"; the difference to `now`, 0 when the date
 *   is not in the future.
 * Results are capped at CA_RETRY_AFTER_MAX_SECONDS.
 * Returns -1 when value is NULL, empty or not one of these forms (month
 * and weekday names are matched case-sensitively, as the grammar says;
 * the weekday is not checked against the date).
 */
long ca_retry_after_parse(const char *value, time_t now);

#endif
