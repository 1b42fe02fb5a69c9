/* ctl_error.c: how certdeployctl reports an error on stderr. */
#include "ctl.h"

#include <stdio.h>

void ctl_report(const char *msg) {
  fprintf(stderr, "certdeployctl: %s\n", msg != NULL ? msg : "out of memory");
}
