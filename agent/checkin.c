/* checkin.c: check-in rounds and dispatch of each profile's action. */
#include "checkin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "agent_error.h"

#define MAX_ROUNDS 3

/* Counts over a whole run, for the closing line. */
typedef struct run_counts {
  size_t profiles; /* entries in the last reply */
  int installed;
  int csrs;
  int failed;
} run_counts;

static int cancelled(const checkin_options *opts) {
  return opts->cancel != NULL && *opts->cancel;
}

/* Why a check-in answered with status, and whether retrying may help. */
static checkin_status refused(long status, const json_t *reply, char **err) {
  char *what = http_error_describe(status, reply);
  const char *w = what != NULL ? what : "out of memory";
  checkin_status st = CHECKIN_FATAL;
  if (status == 401 || status == 403)
    agent_fail(err, "the server refused the device token (%s); enroll again", w);
  else if (status >= 500 || status == 408 || status == 429) {
    agent_fail(err, "check-in failed (%s)", w);
    st = CHECKIN_TRANSIENT;
  } else
    agent_fail(err, "check-in refused (%s); is --server a certdeploy server of a matching version?",
               w);
  free(what);
  return st;
}

/* Handles one entry of the reply's "profiles" array and counts the
 * outcome. Returns 1 when it changed something, else 0. */
static int handle_entry(action_context *ctx, size_t index, const json_t *entry,
                        run_counts *counts) {
  const char *id = json_string_value(json_object_get(entry, "profile_id"));
  const char *action = json_string_value(json_object_get(entry, "action"));
  json_t *gen = json_object_get(entry, "generation");
  action_result r = ACTION_FAILED;

  if (!json_is_object(entry) || id == NULL || action == NULL || !json_is_integer(gen) ||
      json_integer_value(gen) < 0) {
    fprintf(stderr,
            "certdeploy-agent: check-in reply: profiles[%zu] lacks profile_id, generation or "
            "action; skipped\n",
            index);
  } else if (!agent_profile_id_valid(id)) {
    fprintf(stderr,
            "certdeploy-agent: check-in reply: profile id \"%s\" is not a safe name; skipped\n",
            id);
  } else if (strcmp(action, "none") == 0) {
    r = ACTION_UNCHANGED;
  } else if (strcmp(action, "submit_csr") == 0) {
    r = action_submit_csr(ctx, id, (long long)json_integer_value(gen), entry);
    counts->csrs += r == ACTION_CHANGED;
  } else if (strcmp(action, "install") == 0) {
    r = action_install(ctx, id, (long long)json_integer_value(gen), entry);
    counts->installed += r == ACTION_CHANGED;
  } else {
    fprintf(stderr,
            "certdeploy-agent: profile %s: unknown action \"%s\"; upgrade certdeploy-agent\n", id,
            action);
  }
  counts->failed += r == ACTION_FAILED;
  return r == ACTION_CHANGED;
}

/* One check-in and its actions. *changed is set when an action changed
 * something the server should hear about at once. */
static checkin_status one_round(action_context *ctx, run_counts *counts, int *changed, char **err) {
  checkin_status st = CHECKIN_TRANSIENT;
  json_t *inventory = NULL;
  json_t *body = NULL;
  json_t *reply = NULL;
  long status = 0;

  *changed = 0;
  if (agent_inventory_build(ctx->opts->state_dir, &inventory, err) != 0)
    goto out;
  body = json_pack("{s:o}", "installed", inventory);
  inventory = NULL; /* "o" stole the reference, even on failure */
  if (body == NULL) {
    agent_fail(err, "out of memory");
    goto out;
  }
  if (http_client_post_json(ctx->http, "/device/v1/checkin", ctx->dev->device_token, body, &status,
                            &reply, err) != 0)
    goto out;
  if (status != 200) {
    st = refused(status, reply, err);
    goto out;
  }
  json_t *profiles = json_object_get(reply, "profiles");
  if (!json_is_array(profiles)) {
    agent_fail(err, "the check-in reply has no \"profiles\" array; is --server a certdeploy "
                    "server?");
    goto out;
  }
  counts->profiles = json_array_size(profiles);
  for (size_t i = 0; i < json_array_size(profiles); i++) {
    if (cancelled(ctx->opts)) {
      agent_fail(err, "interrupted");
      goto out;
    }
    if (handle_entry(ctx, i, json_array_get(profiles, i), counts))
      *changed = 1;
  }
  st = CHECKIN_OK;
out:
  json_decref(inventory);
  json_decref(body);
  json_decref(reply);
  return st;
}

checkin_status checkin_run(http_client *http, const agent_device *dev, const checkin_options *opts,
                           char **err) {
  checkin_status st = CHECKIN_OK;
  run_counts counts = {0};
  action_context ctx = {.http = http, .dev = dev, .opts = opts, .submitted = json_object()};

  if (ctx.submitted == NULL) {
    agent_fail(err, "out of memory");
    st = CHECKIN_TRANSIENT;
    goto out;
  }
  for (int round = 1; round <= MAX_ROUNDS; round++) {
    int changed = 0;
    st = one_round(&ctx, &counts, &changed, err);
    if (st != CHECKIN_OK || !changed || cancelled(opts))
      break;
  }
  if (st != CHECKIN_OK)
    goto out;
  printf("checked in: %zu profile%s, %d installed, %d csr submitted, %d failed\n", counts.profiles,
         counts.profiles == 1 ? "" : "s", counts.installed, counts.csrs, counts.failed);
  if (counts.failed > 0)
    st = CHECKIN_PROFILE_FAILED;
out:
  json_decref(ctx.submitted);
  return st;
}
