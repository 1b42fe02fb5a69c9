/*
 * fuzz_template: ca_template_validate() and ca_template_expand() on a
 * profile template (common_name, user principal name, seat_id).
 *
 * Checked besides memory safety: validate succeeds exactly when expand
 * does, and both name the same unknown variable; the expansion equals the
 * one of a second, independent reading of the syntax in ca_template.h;
 * expanding with no vars gives the same result as with empty values.
 */
#include "fuzz_util.h"

#include "ca_template.h"

/* Values with a `$` in them: they must be copied, never expanded again. */
static const ca_template_vars vars = {
    .device_serial = "SN-0042$$",
    .device_name = "lab $DEVICE_ID host",
    .device_id = "3f2b6c1e-8d4a-4b7e-9c21-5a6f0e1d2c3b",
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static int name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* The syntax of ca_template.h read again. Returns the expansion
 * (malloc'd), or NULL with *bad set to the unknown variable (malloc'd). */
static char *reference_expand(const char *t, const ca_template_vars *v, char **bad) {
  static const char *const names[] = {"DEVICE_SERIAL", "DEVICE_NAME", "DEVICE_ID"};
  size_t cap = strlen(t) + 1, used = 0;
  char *out;
  *bad = NULL;
  /* A variable takes at least 10 input bytes and gives at most 36. */
  cap = cap * 4 + 64;
  out = malloc(cap);
  FUZZ_CHECK(out != NULL);
  while (*t) {
    const char *value;
    size_t n = 0;
    int which = -1;
    if (*t != '$') {
      out[used++] = *t++;
      continue;
    }
    if (t[1] == '$') {
      out[used++] = '$';
      t += 2;
      continue;
    }
    while (name_char(t[1 + n]))
      n++;
    for (int i = 0; i < 3; i++)
      if (strlen(names[i]) == n && strncmp(t + 1, names[i], n) == 0)
        which = i;
    if (which < 0) {
      *bad = strndup(t, n + 1);
      free(out);
      return NULL;
    }
    value = which == 0 ? v->device_serial : which == 1 ? v->device_name : v->device_id;
    if (value != NULL) {
      memcpy(out + used, value, strlen(value));
      used += strlen(value);
    }
    t += n + 1;
  }
  out[used] = '\0';
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *tmpl = fuzz_cstring(data, size);
  char *unknown_v = (char *)1, *unknown_e = (char *)1, *unknown_r = NULL;
  char *out = (char *)1, *out_nil = (char *)1;
  int rc_v = ca_template_validate(tmpl, &unknown_v);
  int rc_e = ca_template_expand(tmpl, &vars, &out, &unknown_e);
  char *want = reference_expand(tmpl, &vars, &unknown_r);

  FUZZ_CHECK(rc_v == 0 || rc_v == -1);
  FUZZ_CHECK(rc_v == rc_e);
  FUZZ_CHECK((rc_e == 0) == (want != NULL));
  if (rc_e == 0) {
    FUZZ_CHECK(unknown_v == NULL && unknown_e == NULL);
    FUZZ_CHECK(out != NULL && strcmp(out, want) == 0);
    if (strchr(tmpl, '$') == NULL)
      FUZZ_CHECK(strcmp(out, tmpl) == 0);
  } else {
    FUZZ_CHECK(out == NULL);
    FUZZ_CHECK(unknown_v != NULL && unknown_e != NULL);
    FUZZ_CHECK(unknown_v[0] == '$' && strcmp(unknown_v, unknown_e) == 0);
    FUZZ_CHECK(strcmp(unknown_v, unknown_r) == 0);
  }

  /* NULL vars expand to "", the same as empty values. */
  static const ca_template_vars empty = {"", "", ""};
  char *u1 = NULL, *u2 = NULL, *out_empty = NULL;
  int rc_n = ca_template_expand(tmpl, NULL, &out_nil, &u1);
  int rc_m = ca_template_expand(tmpl, &empty, &out_empty, &u2);
  FUZZ_CHECK(rc_n == rc_e && rc_m == rc_e);
  if (rc_n == 0)
    FUZZ_CHECK(strcmp(out_nil, out_empty) == 0);
  else
    FUZZ_CHECK(out_nil == NULL && out_empty == NULL);

  /* unknown may be NULL. */
  FUZZ_CHECK(ca_template_validate(tmpl, NULL) == rc_v);

  free(u1);
  free(u2);
  free(out_nil);
  free(out_empty);
  free(want);
  free(unknown_r);
  free(out);
  free(unknown_v);
  free(unknown_e);
  free(tmpl);
  return 0;
}
