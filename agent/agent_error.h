/*
 * agent_error.h: error messages and formatted strings for certdeploy-agent.
 *
 * Agent functions that can fail take `char **err`: on failure they store a
 * malloc'd one-line message there (the caller frees it with free()); err
 * may be NULL when the caller does not care why.
 */
#ifndef CERTDEPLOY_AGENT_ERROR_H
#define CERTDEPLOY_AGENT_ERROR_H

/* Formats a message into *err (replacing and freeing any message already
 * there) and returns -1, so `return agent_fail(err, "cannot open %s", p);`
 * reads as one thought. err may be NULL. */
int agent_fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns a malloc'd formatted string, NULL when out of memory. */
char *agent_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
