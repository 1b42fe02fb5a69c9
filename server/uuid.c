/* uuid.c: canonical UUIDs, and path parameters that must be one. */
#include "uuid.h"

#include "reply.h"
#include "router.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int uuid_valid(const char *s) {
  static const int dash[] = {8, 13, 18, 23};
  if (s == NULL || strlen(s) != 36)
    return 0;
  for (int i = 0, d = 0; i < 36; i++) {
    if (d < 4 && i == dash[d]) {
      if (s[i] != '-')
        return 0;
      d++;
    } else if (!isxdigit((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
}

/* The name of placeholder `index` in pattern ("id" for "/x/{id}"). */
static void placeholder(const char *pattern, int index, char *out, size_t len) {
  const char *p = pattern;
  snprintf(out, len, "id");
  for (int i = 0; p && (p = strchr(p, '{')) != NULL; i++, p++) {
    const char *close = strchr(p, '}');
    if (close == NULL)
      return;
    if (i == index) {
      snprintf(out, len, "%.*s", (int)(close - p - 1), p + 1);
      return;
    }
  }
}

int param_uuid(const request *req, reply *rep, int index, const char *what) {
  if (index < req->nparams && uuid_valid(req->params[index]))
    return 0;
  char field[64];
  placeholder(req->route ? req->route->pattern : "", index, field, sizeof(field));
  reply_errorf(rep, ERR_INVALID_REQUEST, field, "'%.64s' is not a valid %s (expected a UUID).",
               index < req->nparams ? req->params[index] : "", what);
  return -1;
}
