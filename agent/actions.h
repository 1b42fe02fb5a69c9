/*
 * actions.h: what the agent does for one profile entry of a check-in
 * reply: "submit_csr" and "install" (with its ack). checkin.c dispatches.
 *
 * Each handler prints one line on stdout when it did something and one
 * line on stderr when it failed; failures are never fatal to the run.
 */
#ifndef CERTDEPLOY_AGENT_ACTIONS_H
#define CERTDEPLOY_AGENT_ACTIONS_H

#include <jansson.h>

#include "checkin.h"

/* Shared by the handlers of one run; nothing here is owned by it. */
typedef struct action_context {
  api_client *http;
  const agent_device *dev;
  const checkin_options *opts;
  json_t *submitted; /* object: profile_id -> generation whose CSR this run posted */
} action_context;

typedef enum action_result {
  ACTION_UNCHANGED, /* nothing to do, or done already in this run */
  ACTION_CHANGED,   /* a CSR was posted or a certificate installed and acked */
  ACTION_FAILED,    /* reported on stderr */
} action_result;

/* "submit_csr": entry must carry "common_name". Makes (or reuses, for the
 * same generation) the pending key and posts
 * {"generation","csr"} to /device/v1/profiles/{id}/csr. A CSR already
 * posted for this generation in this run is not posted again. */
action_result action_submit_csr(action_context *ctx, const char *profile_id, long long generation,
                                const json_t *entry);

/* "install": entry carries "certificate", "chain" and, in server key mode,
 * "pkcs12" + "pkcs12_password". Installs it and acks
 * {"generation","result":"installed","sha256"}; when installing fails, or
 * opts->fail_install names the profile, acks
 * {"generation","result":"error","detail"} instead and fails. */
action_result action_install(action_context *ctx, const char *profile_id, long long generation,
                             const json_t *entry);

#endif
