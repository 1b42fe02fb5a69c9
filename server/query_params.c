/* query_params.c: list filters from the query string, checked strictly. */
#include "query_params.h"

#include "http.h"
#include "json_body.h"
#include "utf8.h"
#include "uuid.h"
#include "reply.h"
#include "state.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int query_status(const request *req, reply *rep, const char **out) {
  *out = request_query(req, "status");
  if (*out != NULL && state_status_parse(*out) == STATUS_NONE) {
    reply_error(rep, ERR_INVALID_REQUEST, "status",
                "'status' must be one of pending, verifying, verified, failed.");
    return -1;
  }
  return 0;
}

int query_uuid(const request *req, reply *rep, const char *name, const char **out) {
  *out = request_query(req, name);
  if (*out != NULL && !uuid_valid(*out)) {
    reply_errorf(rep, ERR_INVALID_REQUEST, name, "'%s' must be a UUID.", name);
    return -1;
  }
  return 0;
}

int query_choice(const request *req, reply *rep, const char *name, const char *const *choices,
                 const char **out) {
  *out = request_query(req, name);
  if (*out == NULL)
    return 0;
  char list[256] = "";
  size_t used = 0;
  for (size_t i = 0; choices[i] != NULL; i++) {
    if (strcmp(*out, choices[i]) == 0)
      return 0;
    int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", choices[i]);
    if (w > 0 && (size_t)w < sizeof(list) - used)
      used += (size_t)w;
  }
  reply_errorf(rep, ERR_INVALID_REQUEST, name, "'%s' must be one of %s.", name, list);
  return -1;
}

int query_search(const request *req, reply *rep, const char *name, size_t max, const char **out) {
  *out = request_query(req, name);
  if (*out == NULL)
    return 0;
  if (!utf8_valid(*out) || strlen(*out) > max) {
    reply_errorf(rep, ERR_INVALID_REQUEST, name, "'%s' must be UTF-8 text of at most %zu bytes.",
                 name, max);
    return -1;
  }
  if ((*out)[0] == '\0')
    *out = NULL;
  return 0;
}

int query_time(const request *req, reply *rep, const char *name, char out[QUERY_TIME_LEN],
               int *given) {
  const char *text = request_query(req, name);
  *given = text != NULL;
  out[0] = '\0';
  if (text != NULL && rfc3339_to_utc(text, out) != 0) {
    reply_errorf(rep, ERR_INVALID_REQUEST, name,
                 "'%s' must be an RFC 3339 time such as 2027-01-31T00:00:00Z.", name);
    return -1;
  }
  return 0;
}

/* n digits at s as a number, or -1 when one of them is not a digit. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int is_leap(long y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int rfc3339_to_utc(const char *s, char out[QUERY_TIME_LEN]) {
  /* "YYYY-MM-DDTHH:MM:SS" */
  if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return -1;
  int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
  int hour = digits(s + 11, 2), min = digits(s + 14, 2), sec = digits(s + 17, 2);
  if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour < 0 ||
      hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60)
    return -1;
  const char *p = s + 19;
  char micro[7] = "000000";
  if (*p == '.') {
    size_t n = strspn(++p, "0123456789");
    if (n == 0 || n > 9)
      return -1;
    memcpy(micro, p, n < 6 ? n : 6);
    p += n;
  }
  long offset = 0; /* seconds east of UTC */
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : -1;
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
      return -1;
    offset = (*p == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    p += 6;
  } else {
    return -1;
  }
  if (*p != '\0')
    return -1;
  struct tm tm = {.tm_year = year - 1900,
                  .tm_mon = mon - 1,
                  .tm_mday = day,
                  .tm_hour = hour,
                  .tm_min = min,
                  .tm_sec = sec};
  time_t t = timegm(&tm) - offset; /* 64-bit time_t: four-digit years cannot overflow */
  struct tm utc;
  if (gmtime_r(&t, &utc) == NULL || utc.tm_year + 1900 < 1 || utc.tm_year + 1900 > 9999)
    return -1;
  int w = snprintf(out, QUERY_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%sZ", utc.tm_year + 1900,
                   utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micro);
  return w > 0 && w < QUERY_TIME_LEN ? 0 : -1;
}

/* The q of one media range's parameters (";q=0.5;level=1"), in
 * thousandths; 1000 when it has none or a malformed one. */
static int quality(const char *params, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (params[i] != ';')
      continue;
    size_t j = i + 1;
    while (j < len && params[j] == ' ')
      j++;
    if (j + 2 > len || (params[j] != 'q' && params[j] != 'Q') || params[j + 1] != '=')
      continue;
    j += 2;
    if (j < len && params[j] == '0') {
      int q = 0, scale = 100;
      j++;
      if (j < len && params[j] == '.')
        j++;
      for (; j < len && isdigit((unsigned char)params[j]) && scale > 0; j++, scale /= 10)
        q += (params[j] - '0') * scale;
      return q;
    }
    return 1000;
  }
  return 1000;
}

/* 2 when range names type exactly, 1 when it covers it by a wildcard
 * (a star subtype of the same type, or star/star), else 0. */
static int specificity(const char *range, size_t len, const char *type) {
  size_t tlen = strlen(type);
  const char *slash = strchr(type, '/');
  size_t major = slash ? (size_t)(slash - type) : tlen;
  if (len == tlen && strncasecmp(range, type, len) == 0)
    return 2;
  if (len == 3 && strncmp(range, "*/*", 3) == 0)
    return 1;
  if (len == major + 2 && strncasecmp(range, type, major + 1) == 0 && range[len - 1] == '*')
    return 1;
  return 0;
}

/* The q the Accept value gives type: that of its most specific range
 * (exact over wildcard), in thousandths; 0 when none covers it. When
 * exact_only, wildcards do not count. */
static int accept_q(const char *accept, const char *type, int exact_only) {
  int best = 0, q = 0;
  for (const char *p = accept; *p;) {
    size_t len = strcspn(p, ",");
    const char *range = p;
    while (len > 0 && *range == ' ') {
      range++;
      len--;
    }
    size_t rlen = strcspn(range, ";,");
    if (rlen > len)
      rlen = len;
    size_t name_len = rlen;
    while (name_len > 0 && range[name_len - 1] == ' ')
      name_len--;
    int spec = specificity(range, name_len, type);
    if (spec == 2 || (spec == 1 && !exact_only)) {
      int rq = quality(range + rlen, len - rlen);
      if (spec > best || (spec == best && rq > q)) {
        best = spec;
        q = rq;
      }
    }
    p = range + len;
    if (*p == ',')
      p++;
  }
  return q;
}

int accept_prefers(const char *accept, const char *type) {
  if (accept == NULL)
    return 0;
  int wanted = accept_q(accept, type, 1);
  return wanted > 0 && wanted >= accept_q(accept, "application/json", 0);
}
