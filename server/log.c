/* log.c: text and JSON log lines to stderr, one write(2) per line. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_format current_format = LOG_TEXT;
static log_level min_level = LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_format(log_format f) {
  current_format = f;
}

void log_set_level(log_level level) {
  min_level = level;
}

/* A fixed line buffer: a line longer than this is cut, never overflowed. */
typedef struct line {
  char buf[4096];
  size_t len;
} line;

static void put(line *l, const char *s, size_t n) {
  size_t room = sizeof(l->buf) - 2 - l->len; /* keep space for "\n\0" */
  if (n > room)
    n = room;
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void puts_(line *l, const char *s) {
  put(l, s, strlen(s));
}

/* 1 when the bytes at p start a well-formed UTF-8 sequence of n bytes. */
static int utf8_ok(const unsigned char *p, int *n) {
  int len = p[0] < 0x80                      ? 1
            : (p[0] >= 0xC2 && p[0] <= 0xDF) ? 2
            : (p[0] >= 0xE0 && p[0] <= 0xEF) ? 3
            : (p[0] >= 0xF0 && p[0] <= 0xF4) ? 4
                                             : 0;
  for (int i = 1; i < len; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  *n = len;
  return len > 0;
}

/* JSON string escaping of s, without the quotes; bytes that are not
 * UTF-8 (a client's path, say) become U+FFFD so the line stays JSON. */
static void put_json_escaped(line *l, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const unsigned char *run = p; /* plain ASCII goes in one copy */
    while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
      p++;
    put(l, (const char *)run, (size_t)(p - run));
    if (*p == '\0')
      break;
    int n = 1;
    if (*p >= 0x80) {
      if (!utf8_ok(p, &n)) {
        puts_(l, "\\ufffd");
        continue;
      }
      put(l, (const char *)p, (size_t)n);
      p += n - 1;
      continue;
    }
    char esc[8];
    switch (*p) {
    case '"':
      puts_(l, "\\\"");
      break;
    case '\\':
      puts_(l, "\\\\");
      break;
    case '\n':
      puts_(l, "\\n");
      break;
    case '\r':
      puts_(l, "\\r");
      break;
    case '\t':
      puts_(l, "\\t");
      break;
    default:
      if (*p < 0x20) {
        snprintf(esc, sizeof(esc), "\\u%04x", *p);
        puts_(l, esc);
      } else {
        put(l, (const char *)p, 1);
      }
    }
  }
}

/* Text values with spaces or quotes are quoted so lines stay parseable. */
static void put_text_value(line *l, const char *s) {
  if (*s != '\0' && strpbrk(s, " \"=\n\t") == NULL) {
    puts_(l, s);
    return;
  }
  puts_(l, "\"");
  put_json_escaped(l, s);
  puts_(l, "\"");
}

/* Now as 2026-01-02T03:04:05.678Z. The part up to the seconds is
 * formatted once a second per thread: a busy server logs thousands of
 * lines a second, and strftime() with its time zone lookup is too costly
 * to run for each (BENCHMARKS.md). */
static void timestamp(char out[32]) {
  static __thread time_t second = -1;
  static __thread char head[24];
  static __thread size_t head_len;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != second) {
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    head_len = strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
    second = ts.tv_sec;
  }
  long ms = ts.tv_nsec / 1000000;
  memcpy(out, head, head_len);
  char *o = out + head_len;
  *o++ = '.';
  *o++ = (char)('0' + ms / 100);
  *o++ = (char)('0' + ms / 10 % 10);
  *o++ = (char)('0' + ms % 10);
  *o++ = 'Z';
  *o = '\0';
}

void log_event(log_level level, const char *msg, const log_field *fields, int nfields) {
  if (level < min_level)
    return;
  line l = {.len = 0};
  char ts[32];
  timestamp(ts);
  if (current_format == LOG_JSON) {
    puts_(&l, "{\"ts\":\"");
    puts_(&l, ts);
    puts_(&l, "\",\"level\":\"");
    puts_(&l, level_names[level]);
    puts_(&l, "\",\"msg\":\"");
    put_json_escaped(&l, msg);
    puts_(&l, "\"");
    for (int i = 0; i < nfields; i++) {
      if (fields[i].value == NULL)
        continue;
      puts_(&l, ",\"");
      put_json_escaped(&l, fields[i].key);
      puts_(&l, fields[i].number ? "\":" : "\":\"");
      put_json_escaped(&l, fields[i].value);
      if (!fields[i].number)
        puts_(&l, "\"");
    }
    puts_(&l, "}");
  } else {
    puts_(&l, ts);
    puts_(&l, " ");
    puts_(&l, level_names[level]);
    puts_(&l, " ");
    puts_(&l, msg);
    for (int i = 0; i < nfields; i++) {
      if (fields[i].value == NULL)
        continue;
      puts_(&l, " ");
      puts_(&l, fields[i].key);
      puts_(&l, "=");
      put_text_value(&l, fields[i].value);
    }
  }
  l.buf[l.len++] = '\n';
  ssize_t off = 0;
  while (off < (ssize_t)l.len) {
    ssize_t w = write(STDERR_FILENO, l.buf + off, l.len - (size_t)off);
    if (w <= 0)
      break;
    off += w;
  }
}

__attribute__((format(printf, 2, 0))) static void log_vmsg(log_level level, const char *fmt,
                                                           va_list ap) {
  char msg[2048];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  log_event(level, msg, NULL, 0);
}

void log_msg(log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, fmt, ap);
  va_end(ap);
}

int log_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(LOG_ERROR, fmt, ap);
  va_end(ap);
  return -1;
}
