/* query.c: percent-encoded query strings (RFC 3986: everything but the
 * unreserved characters is encoded). */
#include "query.h"

#include <stdlib.h>
#include <string.h>

static int unreserved(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

char *query_url(const char *path, const query_param *params, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t len = strlen(path) + 1;
  for (size_t i = 0; i < n; i++)
    if (params[i].value != NULL)
      len += strlen(params[i].name) + 2 + 3 * strlen(params[i].value);
  char *url = malloc(len);
  if (url == NULL)
    return NULL;
  /* len counted every byte written below, and the NUL */
  size_t path_len = strlen(path);
  memcpy(url, path, path_len);
  char *p = url + path_len;
  char sep = '?';
  for (size_t i = 0; i < n; i++) {
    if (params[i].value == NULL)
      continue;
    size_t name_len = strlen(params[i].name);
    *p++ = sep;
    sep = '&';
    memcpy(p, params[i].name, name_len);
    p += name_len;
    *p++ = '=';
    for (const unsigned char *v = (const unsigned char *)params[i].value; *v != '\0'; v++) {
      if (unreserved(*v)) {
        *p++ = (char)*v;
      } else {
        *p++ = '%';
        *p++ = hex[*v >> 4];
        *p++ = hex[*v & 15];
      }
    }
  }
  *p = '\0';
  return url;
}
