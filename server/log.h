/*
 * log.h: one line per event on stderr, as text or JSON.
 *
 * Thread-safe: each line is formatted into one buffer and written with a
 * single write(2). Never pass secrets (tokens, keys, passwords) to these
 * functions; callers log names and ids, not credentials.
 */
#ifndef CERTDEPLOY_LOG_H
#define CERTDEPLOY_LOG_H

#include <stdarg.h>

typedef enum log_format { LOG_TEXT = 0, LOG_JSON = 1 } log_format;
typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Chooses the output format; text until called. */
void log_set_format(log_format f);

/* Lines below this level are dropped; LOG_INFO until called. */
void log_set_level(log_level level);

/* A structured field: key and pre-formatted string value. A NULL value
 * leaves the field out. Numbers are passed as text and written unquoted
 * in JSON when `number` is set. */
typedef struct log_field {
  const char *key;
  const char *value;
  int number;
} log_field;

/* Writes one line with a message and fields. */
void log_event(log_level level, const char *msg, const log_field *fields, int nfields);

/* printf-style convenience for plain messages. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs at LOG_ERROR and returns -1, so `return log_fail("x: %s", e);` reads
 * as one thought (git's error()). */
int log_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
