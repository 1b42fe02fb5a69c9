/*
 * checkin.h: one check-in run of the agent.
 *
 * A run posts the inventory to /device/v1/checkin and acts on every
 * profile in the reply: "submit_csr" makes a key and posts a CSR,
 * "install" installs the delivered certificate and acks it, "none" does
 * nothing. When a round changed something (a CSR submitted, a certificate
 * installed) the agent checks in again at once, so a device key mode
 * profile whose certificate the server issues quickly completes in one run;
 * a round without change, or the third round, ends the run.
 *
 * Each action prints one line on stdout; each failure one line on stderr.
 */
#ifndef CERTDEPLOY_AGENT_CHECKIN_H
#define CERTDEPLOY_AGENT_CHECKIN_H

#include <signal.h>

#include "agent_state.h"
#include "api_client.h"
#include "pending_key.h"

typedef struct checkin_options {
  const char *state_dir;         /* the agent's state directory */
  const char *fail_install;      /* profile whose install is made to fail, or NULL */
  pending_key_type key_type;     /* type of fresh keys for CSRs */
  volatile sig_atomic_t *cancel; /* when set, the run stops before its next step */
  int quiet;                     /* print the closing line only when the run did something */
} checkin_options;

/* What the last check-in reply of a run said of one assigned profile, and
 * how this agent's action for it went. Strings are malloc'd. */
typedef struct checkin_profile {
  char *profile_id; /* as the server sent it; "profiles[i]" when it sent none */
  char *action;     /* "install", "submit_csr", "none", ...; "" when absent */
  char *status;     /* the deployment's status ("pending", "verifying", "verified",
                     * "failed"); NULL when the reply does not say (a certdeployd
                     * older than the reply's "status" field) */
  char *detail;     /* the server's detail text; "" when none */
  int agent_failed; /* this agent's action for it failed (reported on stderr) */
} checkin_profile;

/* The assigned profiles as the last reply of a run listed them. */
typedef struct checkin_summary {
  checkin_profile *profiles; /* malloc'd, count of them, in the reply's order */
  size_t count;
} checkin_summary;

/* Frees every profile of s and empties it (s itself is not freed).
 * Accepts NULL. */
void checkin_summary_release(checkin_summary *s);

typedef enum checkin_status {
  CHECKIN_OK = 0,             /* every profile handled */
  CHECKIN_PROFILE_FAILED = 1, /* checked in, but some profile failed (reported on stderr) */
  CHECKIN_TRANSIENT = -1,     /* the check-in failed in a way worth retrying later */
  CHECKIN_FATAL = -2, /* the server refused the device or the request: retrying won't help */
} checkin_status;

/* Runs up to three check-in rounds for dev (whose token must be set) and
 * prints a closing "checked in: ..." line. On CHECKIN_FATAL *err says what
 * failed and what to do; on CHECKIN_TRANSIENT it says what failed, for the
 * caller to add when it will retry. Profile failures are printed as they
 * happen instead. When summary is not NULL, it is released first and, on
 * CHECKIN_OK and CHECKIN_PROFILE_FAILED, describes the last reply (the
 * caller releases it). */
checkin_status checkin_run(api_client *http, const agent_device *dev, const checkin_options *opts,
                           checkin_summary *summary, char **err);

#endif
