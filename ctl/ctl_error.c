/* ctl_error.c: error messages and formatted strings of certdeployctl. */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

int ctl_fail(char **err, const char *fmt, ...) {
  va_list ap;
  if (err == NULL)
    return -1;
  va_start(ap, fmt);
  char *msg = vformat(fmt, ap);
  va_end(ap);
  free(*err);
  *err = msg;
  return -1;
}

char *ctl_format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

void ctl_report(const char *msg) {
  fprintf(stderr, "certdeployctl: %s\n", msg != NULL ? msg : "out of memory");
}
