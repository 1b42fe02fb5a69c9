/*
 * ca_template.h: the device variables allowed in a profile's
 * common_name, user_principal_names and seat_id.
 *
 * Syntax:
 * - `$DEVICE_SERIAL`, `$DEVICE_NAME`, `$DEVICE_ID` are replaced by the
 *   device's values.
 * - A variable name is the longest run of [A-Za-z0-9_] after the `$`, so
 *   "$DEVICE_IDX" is the unknown variable "$DEVICE_IDX", never
 *   "$DEVICE_ID" followed by "X". Names are case-sensitive.
 * - `$$` is a literal `$` (so a subject can still contain a dollar sign).
 * - A `$` followed by anything else (end of text, punctuation such as
 *   "${", a space) is an unknown variable reported as "$".
 * - Everything else is copied as is; substituted values are not expanded
 *   again.
 * Pure functions; thread-safe.
 */
#ifndef CERTDEPLOY_CA_TEMPLATE_H
#define CERTDEPLOY_CA_TEMPLATE_H

/* The values substituted; a NULL member expands to "". Not owned. */
typedef struct ca_template_vars {
  const char *device_serial; /* $DEVICE_SERIAL */
  const char *device_name;   /* $DEVICE_NAME */
  const char *device_id;     /* $DEVICE_ID (the device's UUID) */
} ca_template_vars;

/*
 * Checks that tmpl uses only known variables. Returns 0 when it does (a
 * NULL or empty tmpl is fine). Returns -1 at the first unknown one and,
 * when unknown is not NULL, stores the malloc'd name with its `$` in
 * *unknown ("$DEVICE_MAC", or "$" for a lone dollar); the caller frees it.
 * *unknown is NULL after a memory failure (also -1).
 */
int ca_template_validate(const char *tmpl, char **unknown);

/*
 * Expands tmpl with vars into *out (malloc'd, the caller frees). Returns
 * 0 on success; -1 on an unknown variable (reported through unknown as
 * in ca_template_validate) or on memory failure (*unknown NULL). *out is
 * NULL after any failure. tmpl NULL expands to "".
 */
int ca_template_expand(const char *tmpl, const ca_template_vars *vars, char **out, char **unknown);

#endif
