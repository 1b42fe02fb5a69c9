/* fail.c: error messages and formatted strings (fail.h). */
#include "fail.h"

#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

int fail_vset(char **err, const char *fmt, va_list ap) {
  if (err == NULL)
    return -1;
  char *msg = vformat(fmt, ap);
  free(*err);
  *err = msg;
  return -1;
}

int fail_set(char **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_vset(err, fmt, ap);
  va_end(ap);
  return -1;
}

char *fail_format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vformat(fmt, ap);
  va_end(ap);
  return s;
}
