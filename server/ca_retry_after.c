/*
 * ca_retry_after.c: Retry-After values, delta-seconds or HTTP date.
 * A small hand-written scanner instead of strptime(): strptime's %a/%b
 * follow the process locale, HTTP dates never do.
 */
#include "ca_retry_after.h"

#include <stddef.h>
#include <string.h>

static const char *const short_days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_days[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* A cursor over [p, end). */
typedef struct scan {
  const char *p;
  const char *end;
} scan;

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_ows(char c) {
  return c == ' ' || c == '\t';
}

/* Consumes the literal lit; 0 when it is there, -1 otherwise. */
static int take_lit(scan *s, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
    return -1;
  s->p += n;
  return 0;
}

/* Consumes exactly n digits into *v. */
static int take_digits(scan *s, int n, int *v) {
  int acc = 0;
  if (s->end - s->p < n)
    return -1;
  for (int i = 0; i < n; i++) {
    if (!is_digit(s->p[i]))
      return -1;
    acc = acc * 10 + (s->p[i] - '0');
  }
  s->p += n;
  *v = acc;
  return 0;
}

/* Consumes one of the names in list (the longest that matches, so
 * "Monday" is not read as "Mon"); returns its index or -1. */
static int take_name(scan *s, const char *const *list, int count) {
  int best = -1;
  size_t best_len = 0;
  for (int i = 0; i < count; i++) {
    size_t n = strlen(list[i]);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, list[i], n) == 0 && n > best_len) {
      best = i;
      best_len = n;
    }
  }
  if (best >= 0)
    s->p += best_len;
  return best;
}

/* "HH:MM:SS" */
static int take_time(scan *s, struct tm *tm) {
  if (take_digits(s, 2, &tm->tm_hour) < 0 || take_lit(s, ":") < 0 ||
      take_digits(s, 2, &tm->tm_min) < 0 || take_lit(s, ":") < 0 ||
      take_digits(s, 2, &tm->tm_sec) < 0)
    return -1;
  return 0;
}

static int is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Range checks the fields timegm() would otherwise silently normalise. */
static int tm_fields_valid(const struct tm *tm, int year) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int days;
  if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
    return 0;
  days = mdays[tm->tm_mon] + (tm->tm_mon == 1 && is_leap(year));
  return tm->tm_mday >= 1 && tm->tm_mday <= days;
}

/* IMF-fixdate after "Sun, ": "06 Nov 1994 08:49:37 GMT" */
static int parse_imf_rest(scan *s, struct tm *tm, int *year) {
  if (take_digits(s, 2, &tm->tm_mday) < 0 || take_lit(s, " ") < 0 ||
      (tm->tm_mon = take_name(s, months, 12)) < 0 || take_lit(s, " ") < 0 ||
      take_digits(s, 4, year) < 0 || take_lit(s, " ") < 0 || take_time(s, tm) < 0 ||
      take_lit(s, " GMT") < 0)
    return -1;
  return 0;
}

/* RFC 850 after "Sunday, ": "06-Nov-94 08:49:37 GMT" */
static int parse_rfc850_rest(scan *s, struct tm *tm, int *year, time_t now) {
  int yy;
  struct tm now_tm;
  int this_year;
  if (take_digits(s, 2, &tm->tm_mday) < 0 || take_lit(s, "-") < 0 ||
      (tm->tm_mon = take_name(s, months, 12)) < 0 || take_lit(s, "-") < 0 ||
      take_digits(s, 2, &yy) < 0 || take_lit(s, " ") < 0 || take_time(s, tm) < 0 ||
      take_lit(s, " GMT") < 0)
    return -1;
  /* RFC 9110 5.6.7: a two-digit year more than 50 years in the future is
   * the most recent past year with the same last two digits. */
  if (gmtime_r(&now, &now_tm) == NULL)
    return -1;
  this_year = now_tm.tm_year + 1900;
  *year = this_year - this_year % 100 + yy;
  if (*year > this_year + 50)
    *year -= 100;
  return 0;
}

/* asctime after "Sun ": "Nov  6 08:49:37 1994" */
static int parse_asctime_rest(scan *s, struct tm *tm, int *year) {
  if ((tm->tm_mon = take_name(s, months, 12)) < 0 || take_lit(s, " ") < 0)
    return -1;
  if (s->p < s->end && *s->p == ' ') {
    s->p++;
    if (take_digits(s, 1, &tm->tm_mday) < 0)
      return -1;
  } else if (take_digits(s, 2, &tm->tm_mday) < 0) {
    return -1;
  }
  if (take_lit(s, " ") < 0 || take_time(s, tm) < 0 || take_lit(s, " ") < 0 ||
      take_digits(s, 4, year) < 0)
    return -1;
  return 0;
}

/* Parses one of the three date forms into *out; -1 when it is none. */
static int parse_http_date(scan *s, time_t now, time_t *out) {
  struct tm tm;
  int year = 0;
  int day;
  int rc = -1;
  time_t t;

  memset(&tm, 0, sizeof tm);
  day = take_name(s, long_days, 7);
  if (day >= 0) {
    if (take_lit(s, ", ") < 0 || parse_rfc850_rest(s, &tm, &year, now) < 0)
      goto out;
  } else {
    day = take_name(s, short_days, 7);
    if (day < 0)
      goto out;
    if (take_lit(s, ", ") == 0) {
      if (parse_imf_rest(s, &tm, &year) < 0)
        goto out;
    } else if (take_lit(s, " ") == 0) {
      if (parse_asctime_rest(s, &tm, &year) < 0)
        goto out;
    } else {
      goto out;
    }
  }
  if (s->p != s->end || !tm_fields_valid(&tm, year))
    goto out;
  if (tm.tm_sec == 60)
    tm.tm_sec = 59; /* a leap second: one second early is close enough */
  tm.tm_year = year - 1900;
  /* Years are four digits, so with 64-bit time_t timegm cannot overflow. */
  t = timegm(&tm);
  *out = t;
  rc = 0;
out:
  return rc;
}

long ca_retry_after_parse(const char *value, time_t now) {
  scan s;
  long result = -1;

  if (value == NULL)
    goto out;
  s.p = value;
  s.end = value + strlen(value);
  while (s.p < s.end && is_ows(*s.p))
    s.p++;
  while (s.end > s.p && is_ows(s.end[-1]))
    s.end--;
  if (s.p == s.end)
    goto out;

  if (is_digit(*s.p)) {
    long acc = 0;
    for (const char *q = s.p; q < s.end; q++) {
      if (!is_digit(*q))
        goto out;
      if (acc < CA_RETRY_AFTER_MAX_SECONDS)
        acc = acc * 10 + (*q - '0');
    }
    result = acc > CA_RETRY_AFTER_MAX_SECONDS ? CA_RETRY_AFTER_MAX_SECONDS : acc;
  } else {
    time_t when;
    if (parse_http_date(&s, now, &when) < 0)
      goto out;
    if (when <= now)
      result = 0;
    else if (when - now > (time_t)CA_RETRY_AFTER_MAX_SECONDS)
      result = CA_RETRY_AFTER_MAX_SECONDS;
    else
      result = (long)(when - now);
  }
out:
  return result;
}
