/*
 * ca_reply.c: interpretation of DigiCert TLM reply bodies (see ca_reply.h).
 */
#include "ca_reply.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "fail.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"
/* Longest single CA message quoted, and most messages listed. */
#define MESSAGE_MAX_BYTES 300
#define MESSAGES_MAX 10

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  unsigned char lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4;
  else
    return 0;
  if (c == 0xE0)
    lo = 0xA0; /* overlong */
  else if (c == 0xED)
    hi = 0x9F; /* surrogates */
  else if (c == 0xF0)
    lo = 0x90; /* overlong */
  else if (c == 0xF4)
    hi = 0x8F; /* above U+10FFFF */
  if (n < len || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return len;
}

char *ca_reply_clean(const char *text, size_t len, size_t max) {
  const unsigned char *p = (const unsigned char *)text;
  char *out = malloc((len < max ? len : max) + 4);
  size_t used = 0, i = 0;

  if (out == NULL)
    return NULL;
  while (i < len) {
    size_t n = utf8_seq_len(p + i, len - i);
    size_t take = n ? n : 1;
    if (used + take > max) {
      memcpy(out + used, "...", 3);
      used += 3;
      break;
    }
    if (n == 0)
      out[used] = '?';
    else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7F))
      out[used] = ' ';
    else
      memcpy(out + used, p + i, n);
    used += n ? n : 1;
    i += take;
  }
  out[used] = '\0';
  return out;
}

/* A clean copy of a JSON string value (NULL when v is not a string). */
static char *clean_json_string(const json_t *v, size_t max) {
  if (!json_is_string(v))
    return NULL;
  return ca_reply_clean(json_string_value(v), json_string_length(v), max);
}

/* Appends "; " (when not first) and piece to *acc; -1 on memory failure. */
static int join_append(char **acc, const char *piece) {
  char *joined = NULL;
  if (*acc == NULL) {
    joined = strdup(piece);
  } else if (asprintf(&joined, "%s; %s", *acc, piece) < 0) {
    joined = NULL;
  }
  if (joined == NULL)
    return -1;
  free(*acc);
  *acc = joined;
  return 0;
}

/* Joined messages of an {"errors":[...]} object, NULL when it has none. */
static char *join_error_messages(const json_t *root) {
  const json_t *errors = json_object_get(root, "errors");
  const json_t *item;
  size_t index;
  char *acc = NULL;
  size_t listed = 0;

  json_array_foreach(errors, index, item) {
    char *piece = clean_json_string(json_object_get(item, "message"), MESSAGE_MAX_BYTES);
    if (piece != NULL && piece[0] == '\0') {
      free(piece);
      piece = NULL;
    }
    if (piece == NULL)
      piece = clean_json_string(json_object_get(item, "code"), MESSAGE_MAX_BYTES);
    if (piece == NULL || piece[0] == '\0') {
      free(piece);
      continue;
    }
    if (listed == MESSAGES_MAX) {
      char more[64];
      free(piece);
      snprintf(more, sizeof more, "and %zu more", json_array_size(errors) - index);
      if (join_append(&acc, more) < 0)
        goto fail;
      break;
    }
    listed++;
    if (join_append(&acc, piece) < 0) {
      free(piece);
      goto fail;
    }
    free(piece);
  }
  return acc;
fail:
  free(acc);
  return NULL;
}

/* "<what> \"<excerpt>\"" of a body that is not the expected JSON. */
static char *quote_excerpt(const char *what, const char *body, size_t len) {
  char *excerpt = ca_reply_clean(body, len, CA_REPLY_EXCERPT_BYTES);
  char *text = NULL;
  if (excerpt != NULL && asprintf(&text, "%s \"%s\"", what, excerpt) < 0)
    text = NULL;
  free(excerpt);
  return text;
}

char *ca_reply_error_text(const char *body, size_t len) {
  json_t *root = NULL;
  char *text = NULL;

  if (body == NULL || len == 0)
    return strdup("empty body");
  root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  if (json_is_object(root)) {
    text = join_error_messages(root);
    if (text == NULL)
      text = clean_json_string(json_object_get(root, "message"), MESSAGE_MAX_BYTES);
    if (text != NULL && text[0] == '\0') {
      free(text);
      text = NULL;
    }
  }
  if (text == NULL)
    text = quote_excerpt(root ? "body" : "non-JSON body", body, len);
  json_decref(root);
  return text;
}

int ca_reply_profile_status(const char *body, size_t len, char **status, char **err) {
  json_t *root = NULL;
  int rc = -1;

  *status = NULL;
  *err = NULL;
  root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(root)) {
    *err = quote_excerpt("CA profile reply is not a JSON object:", body ? body : "", len);
    goto out;
  }
  *status = clean_json_string(json_object_get(root, "status"), 64);
  if (*status == NULL) {
    *err = strdup("CA profile reply has no \"status\"");
    goto out;
  }
  rc = 0;
out:
  json_decref(root);
  return rc;
}

void ca_issued_release(ca_issued *issued) {
  if (issued == NULL)
    return;
  free(issued->serial);
  free(issued->certificate_pem);
  free(issued->chain_pem);
  issued->serial = issued->certificate_pem = issued->chain_pem = NULL;
}

static int is_hex(const char *s) {
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
      return 0;
  return 1;
}

/* Equal hex serials, ignoring case and leading "00" bytes (some CAs keep
 * the DER sign byte, OpenSSL drops it). */
static int same_serial(const char *a, const char *b) {
  while (a[0] == '0' && a[1] == '0' && a[2] != '\0')
    a += 2;
  while (b[0] == '0' && b[1] == '0' && b[2] != '\0')
    b += 2;
  return strcasecmp(a, b) == 0;
}

/*
 * Splits pem into its certificate blocks and checks each parses. The first
 * block goes to *leaf (with info), the rest, newline-separated, to *chain
 * (NULL when there is none).
 */
static int split_certificates(const char *pem, crypto_cert_info *info, char **leaf, char **chain,
                              char **err) {
  const char *p = pem;
  size_t index = 0;
  char *acc = NULL;
  int rc = -1;

  *leaf = NULL;
  *chain = NULL;
  while ((p = strstr(p, PEM_BEGIN)) != NULL) {
    const char *end = strstr(p, PEM_END);
    char *block = NULL;
    char *perr = NULL;
    crypto_cert_info chain_info;

    if (end == NULL) {
      fail_set(err, "CA reply certificate %zu has no \"%s\" line", index + 1, PEM_END);
      goto out;
    }
    end += strlen(PEM_END);
    if (asprintf(&block, "%.*s\n", (int)(end - p), p) < 0)
      goto out;
    if (crypto_cert_parse(block, index == 0 ? info : &chain_info, &perr) < 0) {
      if (index == 0)
        fail_set(err, "CA reply certificate is not a PEM certificate: %s",
                 perr ? perr : "unreadable");
      else
        fail_set(err, "CA reply certificate %zu (chain) does not parse: %s", index + 1,
                 perr ? perr : "unreadable");
      free(perr);
      free(block);
      goto out;
    }
    if (index == 0) {
      *leaf = block;
    } else {
      char *grown = NULL;
      if (asprintf(&grown, "%s%s", acc ? acc : "", block) < 0) {
        free(block);
        goto out;
      }
      free(acc);
      acc = grown;
      free(block);
    }
    index++;
    p = end;
  }
  if (index == 0) {
    fail_set(err, "CA reply certificate is not a PEM certificate (no \"%s\" line)", PEM_BEGIN);
    goto out;
  }
  *chain = acc;
  acc = NULL;
  rc = 0;
out:
  if (rc < 0) {
    free(*leaf);
    *leaf = NULL;
  }
  free(acc);
  return rc;
}

int ca_reply_check_issued(const char *body, size_t len, const char *csr_pubkey_sha256,
                          ca_issued *issued, char **err) {
  json_t *root = NULL;
  const char *format, *serial, *certificate;
  crypto_cert_info info;
  char *leaf = NULL, *chain = NULL;
  int rc = -1;

  memset(issued, 0, sizeof *issued);
  *err = NULL;
  if (body == NULL || len == 0) {
    *err = strdup("CA reply body is empty");
    goto out;
  }
  root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(root)) {
    *err =
        quote_excerpt(root ? "CA reply is not a JSON object:" : "CA reply is not JSON:", body, len);
    goto out;
  }

  format = json_string_value(json_object_get(root, "delivery_format"));
  if (format == NULL) {
    *err = strdup("CA reply has no string \"delivery_format\"");
    goto out;
  }
  if (strcmp(format, "x509") != 0) {
    char *shown = ca_reply_clean(format, strlen(format), 40);
    fail_set(err, "CA reply had delivery_format \"%s\", expected \"x509\"", shown ? shown : "?");
    free(shown);
    goto out;
  }

  serial = json_string_value(json_object_get(root, "serial_number"));
  if (serial == NULL || serial[0] == '\0') {
    *err = strdup("CA reply has no serial_number");
    goto out;
  }
  if (!is_hex(serial) || strlen(serial) % 2 != 0 || strlen(serial) > 128) {
    char *shown = ca_reply_clean(serial, strlen(serial), 80);
    fail_set(err, "CA reply had serial_number \"%s\", expected even-length hex",
             shown ? shown : "?");
    free(shown);
    goto out;
  }

  certificate = json_string_value(json_object_get(root, "certificate"));
  if (certificate == NULL || certificate[0] == '\0') {
    *err = strdup("CA reply has no certificate");
    goto out;
  }
  if (split_certificates(certificate, &info, &leaf, &chain, err) < 0)
    goto out;
  if (strcmp(info.pubkey_sha256, csr_pubkey_sha256) != 0) {
    *err = strdup("CA reply certificate's public key does not match the CSR's");
    goto out;
  }
  if (!same_serial(serial, info.serial)) {
    fail_set(err, "CA reply serial_number \"%s\" does not match the certificate's serial \"%s\"",
             serial, info.serial);
    goto out;
  }

  issued->serial = strdup(info.serial);
  if (issued->serial == NULL)
    goto out;
  issued->certificate_pem = leaf;
  issued->chain_pem = chain;
  issued->leaf = info;
  leaf = chain = NULL;
  rc = 0;
out:
  if (rc < 0)
    ca_issued_release(issued);
  free(leaf);
  free(chain);
  json_decref(root);
  return rc;
}
