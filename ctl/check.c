/* check.c: ids, statuses and numbers from the command line. */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const statuses[] = {"pending", "verifying", "verified", "failed"};

int check_uuid(const char *s) {
  static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (strlen(s) != sizeof(shape) - 1)
    return 0;
  for (size_t i = 0; shape[i] != '\0'; i++)
    if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

/* 1 when the n bytes at s are one status name. */
static int status_n(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
    if (strlen(statuses[i]) == n && strncmp(s, statuses[i], n) == 0)
      return 1;
  return 0;
}

int check_status(const char *s) {
  return status_n(s, strlen(s));
}

int check_status_list(const char *s) {
  for (;;) {
    size_t n = strcspn(s, ",");
    if (!status_n(s, n))
      return 0;
    if (s[n] == '\0')
      return 1;
    s += n + 1;
  }
}

int check_list_has_status(const char *s, const char *status) {
  size_t len = strlen(status);
  for (;;) {
    size_t n = strcspn(s, ",");
    if (n == len && strncmp(s, status, n) == 0)
      return 1;
    if (s[n] == '\0')
      return 0;
    s += n + 1;
  }
}

int check_number(const char *text, long min, long max, long *out) {
  char *end = NULL;
  /* strtol would also take leading spaces and a sign */
  if (!isdigit((unsigned char)text[0]))
    return -1;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int check_days_ahead(const char *s, char out[32]) {
  size_t n = strlen(s);
  long days;
  char digits[8];
  if (n < 2 || n > sizeof(digits) || s[n - 1] != 'd')
    return 0;
  memcpy(digits, s, n - 1);
  digits[n - 1] = '\0';
  if (check_number(digits, 1, 36500, &days) != 0)
    return 0;
  time_t t = time(NULL) + (time_t)days * 86400;
  struct tm tm;
  return gmtime_r(&t, &tm) != NULL && strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}
