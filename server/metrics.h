/*
 * metrics.h: the in-process counters behind GET /metrics, and the pieces
 * of the Prometheus text exposition format (version 0.0.4) that
 * routes_metrics.c needs to write the database gauges next to them.
 *
 * Invariants:
 * - Memory is fixed at compile time: every counter lives in static arrays
 *   sized by the bounded label sets below, so no label value a client or an
 *   admin chooses can grow the process.
 *     route:  a pattern of the route table (routes.c), "static" (the
 *             dashboard's files) or "unmatched" (404/405, or a request
 *             refused before routing such as a 413);
 *     method: the route's method; for "unmatched" one of GET, HEAD, POST,
 *             PUT, PATCH, DELETE, OPTIONS or "other";
 *     code:   one of METRICS_HTTP_CODES or "other";
 *     ca:     the first METRICS_MAX_CAS distinct CA names seen since the
 *             start, then "other" (CA names are admin-chosen and renamable);
 *     result: a ca_outcome.result_label (ca_client.h) or "other".
 * - Counting is lock-free (relaxed atomic adds). The only lock is taken
 *   when a CA name is seen for the first time.
 * - A scrape reads each counter once; histogram buckets are stored per
 *   bucket and summed while writing, so the cumulative buckets of one
 *   scrape are always monotonic and `_count` equals the `+Inf` bucket.
 *   Counters of different families are not one snapshot: a CA request
 *   finishing during a scrape may show in one family and not yet in another.
 * - Series are written once they are non-zero (build info and start time
 *   always).
 */
#ifndef CERTDEPLOY_METRICS_H
#define CERTDEPLOY_METRICS_H

#include <stdio.h>

#include "request.h"

/* Distinct CA names given their own series; later ones count as "other". */
#define METRICS_MAX_CAS 64

/* Content-Type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Records the process start time. Call once from main() before any
 * thread exists; counting works without it (start time is then omitted). */
void metrics_init(void);

/* Counts one answered HTTP request by route and status. req->route is the
 * matched route (NULL when none matched); method and path classify the
 * rest as "static" or "unmatched" the way router_dispatch does. A status
 * of 0 (the client went away before any reply was made) is not counted.
 * Thread-safe, lock-free. */
void metrics_http_request(const request *req, int status);

/* Counts one certificate request sent to (or refused before being sent to)
 * the CA named ca_name (NULL counts as "other"), with its result label and
 * its wall time in seconds (negative counts as 0). Thread-safe; lock-free
 * except the first time a CA name is seen. */
void metrics_ca_request(const char *ca_name, const char *result, double seconds);

/* Writes every in-process family to out: certdeploy_build_info,
 * process_start_time_seconds, certdeploy_ca_requests_total,
 * certdeploy_ca_request_duration_seconds, certdeploy_http_requests_total.
 * Stream errors are left for the caller to see with ferror(). */
void metrics_write(FILE *out);

/* Writes the "# HELP" and "# TYPE" lines of one family (help escaped). */
void metrics_write_family(FILE *out, const char *name, const char *type, const char *help);

/* Writes a label value escaped for the exposition format: backslash,
 * double quote and newline become \\, \" and \n. NULL writes nothing. */
void metrics_write_label_value(FILE *out, const char *value);

#endif
