/*
 * fail.h: error messages of the command-line programs (certdeploy-agent,
 * certdeployctl), in git's `return error(...)` style.
 *
 * Functions that can fail take `char **err`: on failure they store a
 * malloc'd one-line message there (the caller frees it with free()); err
 * may be NULL when the caller does not care why.
 */
#ifndef CERTDEPLOY_FAIL_H
#define CERTDEPLOY_FAIL_H

/* Formats a message into *err (replacing and freeing any message already
 * there) and returns -1, so `return fail_set(err, "cannot open %s", p);`
 * reads as one thought. err may be NULL. */
int fail_set(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns a malloc'd formatted string, NULL when out of memory. */
char *fail_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
