/* page.c: limit and cursor parameters. */
#include "page.h"

#include "http.h"
#include "reply.h"
#include "uuid.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Lists sort by a timestamp ("YYYY-MM-DDTHH:MM:SS[.ffffff]Z") or by a
 * sequence number (history): a forged key of another shape is refused here
 * rather than failing a cast in the database. */
static int key_valid(const char *k) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd";
  size_t n = strlen(shape);
  size_t digits_only = strspn(k, "0123456789");
  if (digits_only > 0 && digits_only <= 18 && k[digits_only] == '\0')
    return 1;
  if (strlen(k) < n + 1)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (shape[i] == 'd' ? !isdigit((unsigned char)k[i]) : k[i] != shape[i])
      return 0;
  const char *p = k + n;
  if (*p == '.') {
    p++;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 6)
      return 0;
    p += digits;
  }
  int month = (k[5] - '0') * 10 + (k[6] - '0'), day = (k[8] - '0') * 10 + (k[9] - '0');
  int hour = (k[11] - '0') * 10 + (k[12] - '0'), min = (k[14] - '0') * 10 + (k[15] - '0');
  int sec = (k[17] - '0') * 10 + (k[18] - '0');
  return strcmp(p, "Z") == 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 &&
         min < 60 && sec < 60;
}

/* Decodes the hex cursor into "key\nid" or "key\nid\nid2". */
static int decode_cursor(const char *hex, page *pg) {
  char raw[220];
  size_t n = strlen(hex);
  if (n == 0 || n % 2 != 0 || n / 2 >= sizeof(raw))
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    raw[i] = (char)(hi * 16 + lo);
  }
  raw[n / 2] = '\0';
  char *nl = strchr(raw, '\n');
  if (nl == NULL || (size_t)(nl - raw) >= sizeof(pg->after_key))
    return -1;
  *nl = '\0';
  char *id2 = strchr(nl + 1, '\n');
  if (id2 != NULL)
    *id2++ = '\0';
  if (!uuid_valid(nl + 1) || !key_valid(raw) || (id2 != NULL && !uuid_valid(id2)))
    return -1;
  memcpy(pg->after_key, raw, (size_t)(nl - raw) + 1);
  memcpy(pg->after_id, nl + 1, 37);
  if (id2 != NULL)
    memcpy(pg->after_id2, id2, 37);
  return 0;
}

int page_from_request(const request *req, reply *rep, page *pg) {
  memset(pg, 0, sizeof(*pg));
  pg->limit = PAGE_DEFAULT_LIMIT;
  const char *limit = request_query(req, "limit");
  if (limit != NULL) {
    char *end = NULL;
    errno = 0;
    long v = strtol(limit, &end, 10);
    if (errno || end == limit || *end != '\0' || v < 1 || v > PAGE_MAX_LIMIT) {
      reply_errorf(rep, ERR_INVALID_REQUEST, "limit", "'limit' must be a number from 1 to %d.",
                   PAGE_MAX_LIMIT);
      return -1;
    }
    pg->limit = (int)v;
  }
  const char *cursor = request_query(req, "cursor");
  if (cursor != NULL && decode_cursor(cursor, pg) != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "cursor",
                "'cursor' is not one this server gave out; start again without it.");
    return -1;
  }
  return 0;
}

/* The hex of raw's n bytes as a new JSON string. */
static json_t *hex_string(const char *raw, int n) {
  static const char digits[] = "0123456789abcdef";
  char hex[440];
  for (int i = 0; i < n; i++) {
    hex[2 * i] = digits[(unsigned char)raw[i] >> 4];
    hex[2 * i + 1] = digits[(unsigned char)raw[i] & 15];
  }
  hex[2 * n] = '\0';
  return json_string(hex);
}

json_t *page_cursor(const char *key, const char *id) {
  char raw[180];
  int n = snprintf(raw, sizeof(raw), "%s\n%s", key, id);
  if (n < 0 || (size_t)n >= sizeof(raw))
    return json_null();
  return hex_string(raw, n);
}

json_t *page_cursor2(const char *key, const char *id, const char *id2) {
  char raw[220];
  int n = snprintf(raw, sizeof(raw), "%s\n%s\n%s", key, id, id2);
  if (n < 0 || (size_t)n >= sizeof(raw))
    return json_null();
  return hex_string(raw, n);
}

void page_reply(reply *rep, const page_list *list, int limit, const void *rows, int fetched,
                const void *cursor_arg) {
  if (fetched < 0) {
    reply_db_error(rep, fetched);
    return;
  }
  const unsigned char *row = rows;
  int shown = fetched > limit ? limit : fetched;
  json_t *array = json_array();
  for (int i = 0; i < shown; i++)
    json_array_append_new(array, list->row_json(row + (size_t)i * list->row_size));
  json_t *next = fetched > limit
                     ? list->row_cursor(row + (size_t)(shown - 1) * list->row_size, cursor_arg)
                     : json_null();
  reply_json(rep, 200, json_pack("{s:o, s:o}", list->name, array, "next_cursor", next));
}

const char *page_key(const page *pg) {
  return pg->after_key[0] ? pg->after_key : NULL;
}

const char *page_id(const page *pg) {
  return pg->after_id[0] ? pg->after_id : NULL;
}

const char *page_id2(const page *pg) {
  return pg->after_id2[0] ? pg->after_id2 : NULL;
}
