/*
 * fail.h: error messages in git's `return error(...)` style, for every
 * function of the four programs that reports why it failed through a
 * `char **err` (the crypto module adds OpenSSL's reason: cr_set_err).
 *
 * Functions that can fail take `char **err`: on failure they store a
 * malloc'd one-line message there (the caller frees it with free()); err
 * may be NULL when the caller does not care why. *err must be NULL or a
 * message of its own: setting one frees the one already there. Out of
 * memory leaves *err NULL, which callers print as "out of memory".
 */
#ifndef CERTDEPLOY_FAIL_H
#define CERTDEPLOY_FAIL_H

#include <stdarg.h>

/* Formats a message into *err (replacing and freeing any message already
 * there) and returns -1, so `return fail_set(err, "cannot open %s", p);`
 * reads as one thought. err may be NULL. */
int fail_set(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fail_set with the arguments as a va_list, for reporters of their own
 * that record more than the message. */
int fail_vset(char **err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Returns a malloc'd formatted string, NULL when out of memory. */
char *fail_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
