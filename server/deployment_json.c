/* deployment_json.c: a deployment as the API shows it. */
#include "deployment_json.h"

static json_t *cert_json(const db_cert *c) {
  if (!c->present)
    return json_null();
  return json_pack("{s:s, s:s, s:s, s:s, s:b}", "serial", c->serial, "not_before", c->not_before,
                   "not_after", c->not_after, "sha256", c->sha256, "valid", c->valid);
}

static json_t *text_or_null(const char *s) {
  return s[0] ? json_string(s) : json_null();
}

json_t *deployment_json(const db_deployment *d) {
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:i, s:o, s:i, s:s, s:o, s:o}", "device_id",
                   d->device_id, "profile_id", d->profile_id, "profile_name", d->profile_name,
                   "status", state_status_name(d->status), "failure_source",
                   text_or_null(d->failure_source), "detail", d->detail, "attempts", d->attempts,
                   "next_attempt_at", text_or_null(d->next_attempt_at), "generation", d->generation,
                   "updated_at", d->updated_at, "issued_certificate", cert_json(&d->issued),
                   "installed_certificate", cert_json(&d->installed));
}
