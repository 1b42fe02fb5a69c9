/*
 * check.h: checks of command-line values before anything is sent, so that
 * a typo is a usage error (exit 2) and not an API error (exit 4).
 */
#ifndef CERTDEPLOY_CTL_CHECK_H
#define CERTDEPLOY_CTL_CHECK_H

/* 1 when s is a UUID in the 8-4-4-4-12 hex form (either case), else 0. */
int check_uuid(const char *s);

/* 1 when s is a deployment status: pending, verifying, verified, failed. */
int check_status(const char *s);

/* 1 when s is a comma-separated list of statuses ("failed,pending"; no
 * empty items, no spaces), else 0. */
int check_status_list(const char *s);

/* 1 when the status list s (checked) names status. */
int check_list_has_status(const char *s, const char *status);

/* Parses a whole number in [min, max] into *out: 0, or -1 when text is
 * anything else (*out unchanged). */
int check_number(const char *text, long min, long max, long *out);

/* When s is a number of days ahead, "14d" (1 to 36500 days), writes that
 * moment from now as RFC 3339 UTC into out and returns 1; else 0. */
int check_days_ahead(const char *s, char out[32]);

#endif
