/* actions.c: submit_csr and install (+ ack) for one profile. */
#include "actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "crypto.h"
#include "install.h"

#define SIMULATED_FAILURE "simulated install failure (--fail-install)"

/* POSTs body to path with the device token. 0 on a 2xx answer; -1 with
 * *err describing the transport error or the server's error reply. */
static int device_post(action_context *ctx, const char *path, const json_t *body, char **err) {
  int rc = -1;
  long status = 0;
  json_t *reply = NULL;
  if (api_client_request(ctx->http, "POST", path, ctx->dev->device_token, body, &status, &reply,
                         err) != 0)
    goto out;
  if (status < 200 || status > 299) {
    char *what = api_error_describe(status, reply);
    fail_set(err, "%s", what != NULL ? what : "out of memory");
    free(what);
    goto out;
  }
  rc = 0;
out:
  json_decref(reply);
  return rc;
}

/* A string field of entry, or NULL when absent, null or not a string. */
static const char *entry_string(const json_t *entry, const char *key) {
  return json_string_value(json_object_get(entry, key));
}

action_result action_submit_csr(action_context *ctx, const char *profile_id, long long generation,
                                const json_t *entry) {
  action_result result = ACTION_FAILED;
  char *csr = NULL;
  char *err = NULL;
  char *path = NULL;
  json_t *body = NULL;
  int reused = 0;
  const char *cn = entry_string(entry, "common_name");
  json_t *done = json_object_get(ctx->submitted, profile_id);

  if (done != NULL && json_integer_value(done) == generation) {
    result = ACTION_UNCHANGED;
    goto out;
  }
  if (cn == NULL || cn[0] == '\0') {
    fail_set(&err, "the server asked for a CSR without a common_name");
    goto out;
  }
  if (pending_key_make_csr(ctx->opts->state_dir, profile_id, generation, ctx->opts->key_type, cn,
                           &csr, &reused, &err) != 0)
    goto out;
  body = json_pack("{s:I, s:s}", "generation", (json_int_t)generation, "csr", csr);
  path = fail_format("/device/v1/profiles/%s/csr", profile_id);
  if (body == NULL || path == NULL) {
    fail_set(&err, "out of memory");
    goto out;
  }
  if (device_post(ctx, path, body, &err) != 0)
    goto out;
  if (json_object_set_new(ctx->submitted, profile_id, json_integer(generation)) != 0) {
    fail_set(&err, "out of memory");
    goto out;
  }
  printf("profile %s: csr submitted for generation %lld (CN=%s, %s key%s)\n", profile_id,
         generation, cn, pending_key_type_name(ctx->opts->key_type),
         reused ? ", reused for this generation" : "");
  result = ACTION_CHANGED;
out:
  if (result == ACTION_FAILED)
    fprintf(stderr, "certdeploy-agent: profile %s: cannot submit a CSR for generation %lld: %s\n",
            profile_id, generation, err != NULL ? err : "out of memory");
  json_decref(body);
  free(path);
  free(csr);
  free(err);
  return result;
}

/* Acks generation with result "installed" (sha256 set) or "error"
 * (detail set). */
static int post_ack(action_context *ctx, const char *profile_id, long long generation,
                    const char *sha256, const char *detail, char **err) {
  int rc = -1;
  json_t *body = NULL;
  char *path = fail_format("/device/v1/profiles/%s/ack", profile_id);
  if (sha256 != NULL)
    body = json_pack("{s:I, s:s, s:s}", "generation", (json_int_t)generation, "result", "installed",
                     "sha256", sha256);
  else
    body = json_pack("{s:I, s:s, s:s}", "generation", (json_int_t)generation, "result", "error",
                     "detail", detail);
  if (body == NULL || path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  rc = device_post(ctx, path, body, err);
out:
  json_decref(body);
  free(path);
  return rc;
}

action_result action_install(action_context *ctx, const char *profile_id, long long generation,
                             const json_t *entry) {
  action_result result = ACTION_FAILED;
  char *detail = NULL;
  char *ack_err = NULL;
  char sha256[65];
  install_material m = {
      .certificate = entry_string(entry, "certificate"),
      .chain = entry_string(entry, "chain"),
      .pkcs12_base64 = entry_string(entry, "pkcs12"),
      .pkcs12_password = entry_string(entry, "pkcs12_password"),
  };

  if (ctx->opts->fail_install != NULL && strcmp(ctx->opts->fail_install, profile_id) == 0)
    fail_set(&detail, SIMULATED_FAILURE);
  else if (install_profile(ctx->opts->state_dir, profile_id, &m, sha256, &detail) == 0)
    result = ACTION_CHANGED;

  if (result == ACTION_FAILED) {
    const char *why = detail != NULL ? detail : "out of memory";
    fprintf(stderr, "certdeploy-agent: profile %s: install of generation %lld failed: %s\n",
            profile_id, generation, why);
    if (post_ack(ctx, profile_id, generation, NULL, why, &ack_err) != 0)
      fprintf(stderr,
              "certdeploy-agent: profile %s: the server did not take the error report: %s\n",
              profile_id, ack_err != NULL ? ack_err : "out of memory");
    goto out;
  }
  if (post_ack(ctx, profile_id, generation, sha256, NULL, &ack_err) != 0) {
    fprintf(stderr,
            "certdeploy-agent: profile %s: installed generation %lld, but the server refused "
            "the ack: %s\n",
            profile_id, generation, ack_err != NULL ? ack_err : "out of memory");
    result = ACTION_FAILED;
    goto out;
  }
  printf("profile %s: installed generation %lld (sha256 %s)\n", profile_id, generation, sha256);
out:
  free(detail);
  free(ack_err);
  return result;
}
