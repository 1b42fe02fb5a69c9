/* checkin.c: check-in rounds and dispatch of each profile's action. */
#include "checkin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "fail.h"

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
  char *what = api_error_describe(status, reply);
  const char *w = what != NULL ? what : "out of memory";
  checkin_status st = CHECKIN_FATAL;
  if (status == 401 || status == 403)
    fail_set(err, "the server refused the device token (%s); enroll again", w);
  else if (status >= 500 || status == 408 || status == 429) {
    fail_set(err, "check-in failed (%s)", w);
    st = CHECKIN_TRANSIENT;
  } else
    fail_set(err, "check-in refused (%s); is --server a certdeploy server of a matching version?",
             w);
  free(what);
  return st;
}

void checkin_summary_release(checkin_summary *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->count; i++) {
    checkin_profile *p = &s->profiles[i];
    free(p->profile_id);
    free(p->action);
    free(p->status);
    free(p->detail);
  }
  free(s->profiles);
  s->profiles = NULL;
  s->count = 0;
}

/* Copies what entry, the index-th of the reply, says into *p, with r, how
 * this agent's action for it went. -1 when out of memory. */
static int summarize_entry(checkin_profile *p, size_t index, const json_t *entry, action_result r) {
  const char *id = json_string_value(json_object_get(entry, "profile_id"));
  const char *action = json_string_value(json_object_get(entry, "action"));
  const char *status = json_string_value(json_object_get(entry, "status"));
  const char *detail = json_string_value(json_object_get(entry, "detail"));
  p->profile_id = id != NULL ? strdup(id) : fail_format("profiles[%zu]", index);
  p->action = strdup(action != NULL ? action : "");
  p->status = status != NULL ? strdup(status) : NULL;
  p->detail = strdup(detail != NULL ? detail : "");
  p->agent_failed = r == ACTION_FAILED;
  if (p->profile_id == NULL || p->action == NULL || (status != NULL && p->status == NULL) ||
      p->detail == NULL)
    return -1;
  return 0;
}

/* Handles one entry of the reply's "profiles" array and counts the
 * outcome. */
static action_result handle_entry(action_context *ctx, size_t index, const json_t *entry,
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
  return r;
}

/* One check-in and its actions. *changed is set when an action changed
 * something the server should hear about at once. When summary is not
 * NULL and the round succeeds, it is replaced by this reply's. */
static checkin_status one_round(action_context *ctx, run_counts *counts, int *changed,
                                checkin_summary *summary, char **err) {
  checkin_status st = CHECKIN_TRANSIENT;
  json_t *inventory = NULL;
  json_t *body = NULL;
  json_t *reply = NULL;
  long status = 0;
  checkin_summary sum = {0};

  *changed = 0;
  if (agent_inventory_build(ctx->opts->state_dir, &inventory, err) != 0)
    goto out;
  body = json_pack("{s:o}", "installed", inventory);
  inventory = NULL; /* "o" stole the reference, even on failure */
  if (body == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  if (api_client_request(ctx->http, "POST", "/device/v1/checkin", ctx->dev->device_token, body,
                         &status, &reply, err) != 0)
    goto out;
  if (status != 200) {
    st = refused(status, reply, err);
    goto out;
  }
  json_t *profiles = json_object_get(reply, "profiles");
  if (!json_is_array(profiles)) {
    fail_set(err, "the check-in reply has no \"profiles\" array; is --server a certdeploy "
                  "server?");
    goto out;
  }
  counts->profiles = json_array_size(profiles);
  if (summary != NULL && counts->profiles > 0 &&
      (sum.profiles = calloc(counts->profiles, sizeof(*sum.profiles))) == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < json_array_size(profiles); i++) {
    if (cancelled(ctx->opts)) {
      fail_set(err, "interrupted");
      goto out;
    }
    const json_t *entry = json_array_get(profiles, i);
    action_result r = handle_entry(ctx, i, entry, counts);
    if (r == ACTION_CHANGED)
      *changed = 1;
    if (summary != NULL && summarize_entry(&sum.profiles[sum.count++], i, entry, r) != 0) {
      fail_set(err, "out of memory");
      goto out;
    }
  }
  if (summary != NULL) {
    checkin_summary_release(summary);
    *summary = sum;
    sum = (checkin_summary){0};
  }
  st = CHECKIN_OK;
out:
  checkin_summary_release(&sum);
  json_decref(inventory);
  json_decref(body);
  json_decref(reply);
  return st;
}

checkin_status checkin_run(api_client *http, const agent_device *dev, const checkin_options *opts,
                           checkin_summary *summary, char **err) {
  checkin_status st = CHECKIN_OK;
  run_counts counts = {0};
  action_context ctx = {.http = http, .dev = dev, .opts = opts, .submitted = json_object()};

  checkin_summary_release(summary);
  if (ctx.submitted == NULL) {
    fail_set(err, "out of memory");
    st = CHECKIN_TRANSIENT;
    goto out;
  }
  for (int round = 1; round <= MAX_ROUNDS; round++) {
    int changed = 0;
    st = one_round(&ctx, &counts, &changed, summary, err);
    if (st != CHECKIN_OK || !changed || cancelled(opts))
      break;
  }
  if (st != CHECKIN_OK) {
    checkin_summary_release(summary);
    goto out;
  }
  if (!opts->quiet || counts.installed > 0 || counts.csrs > 0 || counts.failed > 0)
    printf("checked in: %zu profile%s, %d installed, %d csr submitted, %d failed\n",
           counts.profiles, counts.profiles == 1 ? "" : "s", counts.installed, counts.csrs,
           counts.failed);
  if (counts.failed > 0)
    st = CHECKIN_PROFILE_FAILED;
out:
  json_decref(ctx.submitted);
  return st;
}
