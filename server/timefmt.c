/* timefmt.c: RFC 3339 UTC timestamps to and from Unix seconds. */
#include "timefmt.h"

#include <string.h>

void time_format(time_t t, char out[24]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int time_parse(const char *text, time_t *t) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == NULL || *end != '\0')
    return -1;
  *t = timegm(&tm);
  return 0;
}
