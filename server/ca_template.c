/*
 * ca_template.c: expansion of $DEVICE_* variables (syntax in the header).
 */
#include "ca_template.h"

#include <stdlib.h>
#include <string.h>

enum { VAR_SERIAL, VAR_NAME, VAR_ID, VAR_COUNT };

static const char *const var_names[VAR_COUNT] = {"DEVICE_SERIAL", "DEVICE_NAME", "DEVICE_ID"};

static int is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Looks at the `$` at p. Sets *len to the bytes it covers and returns the
 * variable index, VAR_COUNT for the `$$` escape, or -1 when unknown (then
 * *len covers the `$` and the name, at least the `$`).
 */
static int classify(const char *p, size_t *len) {
  size_t n = 0;
  if (p[1] == '$') {
    *len = 2;
    return VAR_COUNT;
  }
  while (is_name_char(p[1 + n]))
    n++;
  *len = 1 + n;
  for (int i = 0; i < VAR_COUNT; i++)
    if (strlen(var_names[i]) == n && memcmp(p + 1, var_names[i], n) == 0)
      return i;
  return -1;
}

static void report_unknown(const char *p, size_t len, char **unknown) {
  if (unknown != NULL)
    *unknown = strndup(p, len);
}

int ca_template_validate(const char *tmpl, char **unknown) {
  int rc = -1;
  if (unknown != NULL)
    *unknown = NULL;
  for (const char *p = tmpl; p != NULL && *p != '\0'; p++) {
    size_t len;
    if (*p != '$')
      continue;
    if (classify(p, &len) < 0) {
      report_unknown(p, len, unknown);
      goto out;
    }
    p += len - 1;
  }
  rc = 0;
out:
  return rc;
}

/* Appends n bytes to the growing buffer; -1 on memory failure. */
static int append(char **buf, size_t *used, size_t *cap, const char *src, size_t n) {
  if (*used + n + 1 > *cap) {
    size_t want = *cap ? *cap : 64;
    char *grown;
    while (want < *used + n + 1)
      want *= 2;
    grown = realloc(*buf, want);
    if (grown == NULL)
      return -1;
    *buf = grown;
    *cap = want;
  }
  memcpy(*buf + *used, src, n);
  *used += n;
  (*buf)[*used] = '\0';
  return 0;
}

int ca_template_expand(const char *tmpl, const ca_template_vars *vars, char **out, char **unknown) {
  char *buf = NULL;
  size_t used = 0, cap = 0;
  int rc = -1;
  const char *p = tmpl ? tmpl : "";

  *out = NULL;
  if (unknown != NULL)
    *unknown = NULL;
  if (append(&buf, &used, &cap, "", 0) < 0)
    goto out;
  while (*p != '\0') {
    const char *dollar = strchr(p, '$');
    size_t len;
    int var;
    const char *value = NULL;

    if (dollar == NULL) {
      if (append(&buf, &used, &cap, p, strlen(p)) < 0)
        goto out;
      break;
    }
    if (append(&buf, &used, &cap, p, (size_t)(dollar - p)) < 0)
      goto out;
    var = classify(dollar, &len);
    if (var < 0) {
      report_unknown(dollar, len, unknown);
      goto out;
    }
    if (var == VAR_COUNT)
      value = "$";
    else if (vars != NULL)
      value = var == VAR_SERIAL ? vars->device_serial
              : var == VAR_NAME ? vars->device_name
                                : vars->device_id;
    if (value != NULL && append(&buf, &used, &cap, value, strlen(value)) < 0)
      goto out;
    p = dollar + len;
  }
  *out = buf;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  return rc;
}
