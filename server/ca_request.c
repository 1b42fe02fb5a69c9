/*
 * ca_request.c: URLs and bodies of DigiCert TLM requests (see ca_request.h).
 */
#include "ca_request.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *ca_request_prefix(const char *verb, const char *ca_name) {
  char *prefix = NULL;
  if (asprintf(&prefix, "Couldn't %s %s: ", verb, ca_name && ca_name[0] ? ca_name : "the CA") < 0)
    prefix = NULL;
  return prefix;
}

static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char *ca_request_url(const char *base, const char *path, const char *segment) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(base);
  size_t seg_len = segment ? strlen(segment) : 0;
  char *escaped = malloc(seg_len * 3 + 1);
  char *url = NULL;
  size_t used = 0;

  if (escaped == NULL)
    goto out;
  for (size_t i = 0; i < seg_len; i++) {
    unsigned char c = (unsigned char)segment[i];
    if (is_unreserved(c)) {
      escaped[used++] = (char)c;
    } else {
      escaped[used++] = '%';
      escaped[used++] = hex[c >> 4];
      escaped[used++] = hex[c & 15];
    }
  }
  escaped[used] = '\0';
  while (n > 0 && base[n - 1] == '/')
    n--;
  if (asprintf(&url, "%.*s%s%s", (int)n, base, path, escaped) < 0)
    url = NULL;
out:
  free(escaped);
  return url;
}

char *ca_request_issue_body(const char *profile_id, const char *seat_id, const char *csr_pem,
                            const char *common_name, const char *upn) {
  json_t *attributes = NULL, *body = NULL;
  char *text = NULL;

  attributes = json_pack("{s:{s:s}}", "subject", "common_name", common_name);
  if (attributes == NULL)
    goto out;
  if (upn != NULL && upn[0] != '\0' &&
      json_object_set_new(attributes, "extensions",
                          json_pack("{s:{s:[s]}}", "san", "user_principal_names", upn)) < 0)
    goto out;
  body =
      json_pack("{s:{s:s}, s:{s:s}, s:s, s:s, s:O}", "profile", "id", profile_id, "seat", "seat_id",
                seat_id, "delivery_format", "x509", "csr", csr_pem, "attributes", attributes);
  if (body == NULL)
    goto out;
  text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
  json_decref(body);
  json_decref(attributes);
  return text;
}

int ca_request_token_ok(const char *token) {
  if (token == NULL || token[0] == '\0')
    return 0;
  for (const unsigned char *p = (const unsigned char *)token; *p; p++)
    if (*p < 0x21 || *p > 0x7e)
      return 0;
  return 1;
}

int ca_request_host_is_loopback(const char *host) {
  static const unsigned char loopback6[16] = {[15] = 1};
  static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
  unsigned char addr[16];
  char inner[64];
  size_t n = strlen(host);

  if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
    return 1;
  if (inet_pton(AF_INET, host, addr) == 1)
    return addr[0] == 127;
  if (n >= 2 && n < sizeof inner + 2 && host[0] == '[' && host[n - 1] == ']') {
    memcpy(inner, host + 1, n - 2);
    inner[n - 2] = '\0';
    if (inet_pton(AF_INET6, inner, addr) != 1)
      return 0;
    return memcmp(addr, loopback6, 16) == 0 ||
           (memcmp(addr, v4_mapped, 12) == 0 && addr[12] == 127);
  }
  return 0;
}
