/* ca_validate.c: checking a CA's URL, token and profile (GET /mpki/api/v2/profile/{id}). */
#include "ca_client.h"
#include "ca_reply.h"
#include "ca_request.h"
#include "ca_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *validate_reason(long status, const ca_endpoint *ca) {
  (void)ca;
  if (status == 401)
    return "the API token was rejected";
  if (status == 403 || status == 404)
    return "the profile is unknown or not allowed for this API token";
  return NULL;
}

int ca_validate(const ca_endpoint *ca, ca_outcome *out) {
  char *prefix = NULL, *url = NULL, *status = NULL, *err = NULL;
  ca_transfer t;

  ca_outcome_init(out);
  memset(&t, 0, sizeof t);
  prefix = ca_request_prefix("validate", ca->name);
  if (prefix == NULL) {
    ca_fail_local(out);
    goto out;
  }
  if (ca_preflight(ca, prefix, out) < 0)
    goto out;
  url = ca_request_url(ca->url, "/mpki/api/v2/profile/", ca->profile_id);
  if (url == NULL || ca_transfer_run(ca, "GET", url, NULL, &t) < 0) {
    ca_fail_local(out);
    goto out;
  }
  if (ca_classify(ca, prefix, 0, &t, validate_reason, out))
    goto out;
  if (t.status != 200) {
    ca_fail(out, CA_PERMANENT, "malformed", "%sthe CA answered HTTP %ld, expected 200", prefix,
            t.status);
    goto out;
  }
  if (ca_reply_profile_status(t.body.data, t.body.len, &status, &err) < 0) {
    ca_fail(out, CA_PERMANENT, "malformed", "%s%s", prefix, err ? err : "unreadable profile reply");
    goto out;
  }
  if (strcmp(status, "Active") != 0) {
    ca_fail(out, CA_PERMANENT, "rejected", "%sprofile \"%s\" is %s, not Active", prefix,
            ca->profile_id, status);
    goto out;
  }
  out->cls = CA_OK;
  out->result_label = "ok";
out:
  free(status);
  free(err);
  ca_transfer_release(&t);
  free(url);
  free(prefix);
  return out->cls == CA_OK ? 0 : -1;
}
