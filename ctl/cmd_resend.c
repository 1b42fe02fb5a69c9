/* cmd_resend.c: `resend`, of one deployment or of every deployment of a
 * profile in one status: the only way out of `failed`. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "api_call.h"
#include "output.h"

/* resend DEVICE_ID PROFILE_ID: prints the deployment's new state. */
static int resend_one(api_client *c, const ctl_options *o) {
  int rc = CTL_EXIT_API;
  json_t *dep = NULL;
  char *what = NULL;
  char *path = fail_format("/api/v1/devices/%s/profiles/%s/resend", o->args[0], o->args[1]);

  if (path == NULL) {
    ctl_report(NULL);
    goto out;
  }
  rc = api_call(c, "POST", path, NULL, &dep);
  if (rc != 0)
    goto out;
  if (o->json) {
    output_json(dep);
    goto out;
  }
  const char *name = json_string_value(json_object_get(dep, "profile_name"));
  const char *status = json_string_value(json_object_get(dep, "status"));
  what =
      fail_format("resent: profile %s on device %s is %s (generation %" JSON_INTEGER_FORMAT ")",
                  name != NULL ? name : o->args[1], o->args[0], status != NULL ? status : "unknown",
                  json_integer_value(json_object_get(dep, "generation")));
  char *line = what != NULL ? output_sanitize(what) : NULL;
  if (line == NULL) {
    ctl_report(NULL);
    rc = CTL_EXIT_API;
    goto out;
  }
  puts(line);
  free(line);
out:
  json_decref(dep);
  free(what);
  free(path);
  return rc;
}

/* resend --profile ID --status S: prints how many were resent. */
static int resend_profile(api_client *c, const ctl_options *o) {
  int rc = CTL_EXIT_API;
  json_t *reply = NULL;
  char *path = fail_format("/api/v1/profiles/%s/resend", o->profile);
  json_t *body = json_pack("{s:s}", "status", o->status);

  if (path == NULL || body == NULL) {
    ctl_report(NULL);
    goto out;
  }
  rc = api_call(c, "POST", path, body, &reply);
  if (rc != 0)
    goto out;
  json_t *resent = json_object_get(reply, "resent");
  if (!json_is_integer(resent)) {
    rc = api_call_failed(c, 200, NULL);
    goto out;
  }
  if (o->json) {
    output_json(reply);
    goto out;
  }
  json_int_t n = json_integer_value(resent);
  printf("resent %" JSON_INTEGER_FORMAT " %s deployment%s of profile %s\n", n, o->status,
         n == 1 ? "" : "s", o->profile);
out:
  json_decref(reply);
  json_decref(body);
  free(path);
  return rc;
}

int cmd_resend(api_client *c, const ctl_options *o) {
  return o->profile != NULL ? resend_profile(c, o) : resend_one(c, o);
}
