/* checkin_wait.c: check in until every assigned profile is installed or failed. */
#include "checkin_wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stop_signal.h"

#define FIRST_PAUSE_MS 250 /* the CA is often done within the first second */
#define MAX_PAUSE_MS 1000

/* How far the assigned profiles of one reply are. */
typedef struct wait_tally {
  size_t installed; /* "verified" */
  size_t failed;    /* "failed": final until an admin resends */
  size_t waiting;   /* anything else */
  size_t unknown;   /* of them, without a "status" in the reply */
} wait_tally;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int status_is(const checkin_profile *p, const char *status) {
  return p->status != NULL && strcmp(p->status, status) == 0;
}

static wait_tally tally(const checkin_summary *s) {
  wait_tally t = {0};
  for (size_t i = 0; i < s->count; i++) {
    const checkin_profile *p = &s->profiles[i];
    if (status_is(p, "verified"))
      t.installed++;
    else if (status_is(p, "failed"))
      t.failed++;
    else
      t.waiting++;
    t.unknown += p->status == NULL;
  }
  return t;
}

/* What a profile that is neither verified nor failed waits for. */
static const char *waiting_for(const checkin_profile *p) {
  if (status_is(p, "pending") && strcmp(p->action, "submit_csr") == 0)
    return "waiting for this device's CSR";
  if (status_is(p, "pending"))
    return "waiting for the CA to issue the certificate";
  if (status_is(p, "verifying") && p->agent_failed)
    return "delivered, but installing it here failed (see above)";
  if (status_is(p, "verifying"))
    return "delivered, waiting for the server to confirm the installed certificate";
  return "in a status this agent does not know";
}

/* Prints every failed profile, and every one not installed yet, of the
 * last reply on stderr. */
static void report_unfinished(const checkin_summary *last, long seconds) {
  for (size_t i = 0; i < last->count; i++) {
    const checkin_profile *p = &last->profiles[i];
    if (status_is(p, "failed"))
      fprintf(stderr, "certdeploy-agent: profile %s: failed: %s\n", p->profile_id,
              p->detail[0] != '\0' ? p->detail : "(the server gave no detail)");
    else if (!status_is(p, "verified"))
      fprintf(stderr, "certdeploy-agent: profile %s: not installed after %ld s: %s, %s%s%s%s\n",
              p->profile_id, seconds, p->status, waiting_for(p),
              p->detail[0] != '\0' ? " (server: " : "", p->detail, p->detail[0] != '\0' ? ")" : "");
  }
}

/* The exit status for the last reply once every profile is verified or
 * failed, or the time is up; prints why it is not 0. last_err: why the
 * last check-in failed, when it did. */
static int conclude(const checkin_summary *last, long seconds, const char *last_err) {
  wait_tally t = tally(last);
  if (t.failed == 0 && t.waiting == 0) {
    printf("installed: %zu of %zu assigned profile%s, every one verified by the server\n",
           t.installed, last->count, last->count == 1 ? "" : "s");
    return EXIT_SUCCESS;
  }
  report_unfinished(last, seconds);
  if (t.waiting > 0)
    fprintf(stderr,
            "certdeploy-agent: gave up waiting after %ld s: %zu of %zu assigned profile%s not "
            "installed (%zu failed, %zu still on the way)%s%s\n",
            seconds, t.failed + t.waiting, last->count, last->count == 1 ? "" : "s", t.failed,
            t.waiting, last_err != NULL ? "; the last check-in failed: " : "",
            last_err != NULL ? last_err : "");
  else
    fprintf(stderr,
            "certdeploy-agent: %zu of %zu assigned profile%s failed; the server keeps a failure "
            "until an admin resends the profile\n",
            t.failed, last->count, last->count == 1 ? "" : "s");
  return EXIT_FAILURE;
}

int checkin_wait(api_client *http, const agent_device *dev, const checkin_options *opts,
                 long seconds, volatile sig_atomic_t *stop) {
  int rc = EXIT_FAILURE;
  char *err = NULL;
  checkin_summary round = {0};
  checkin_summary last = {0};
  int have_last = 0; /* a check-in succeeded: last is its reply */
  long pause_ms = FIRST_PAUSE_MS;
  long long deadline = now_ms() + (long long)seconds * 1000;

  printf("waiting up to %ld s for every assigned profile to be installed\n", seconds);
  for (;;) {
    checkin_status st = checkin_run(http, dev, opts, &round, &err);
    if (stop != NULL && *stop)
      goto interrupted;
    if (st == CHECKIN_FATAL) {
      fprintf(stderr, "certdeploy-agent: %s\n", err != NULL ? err : "out of memory");
      goto out;
    }
    if (st == CHECKIN_TRANSIENT) {
      fprintf(stderr, "certdeploy-agent: %s; retrying\n", err != NULL ? err : "out of memory");
    } else {
      free(err);
      err = NULL;
      checkin_summary_release(&last);
      last = round;
      round = (checkin_summary){0};
      have_last = 1;
      wait_tally t = tally(&last);
      if (last.count == 0) {
        printf("no profile is assigned to this device: nothing to wait for\n");
        rc = EXIT_SUCCESS;
        goto out;
      }
      if (t.unknown > 0) {
        fprintf(stderr, "certdeploy-agent: the check-in reply does not say each profile's status "
                        "(a certdeployd older than this agent?), so --wait cannot tell when a "
                        "certificate is installed; check in without --wait\n");
        goto out;
      }
      if (t.waiting == 0)
        break;
    }
    long long left = deadline - now_ms();
    if (left <= 0)
      break;
    if (stop_signal_sleep_ms(left < pause_ms ? (long)left : pause_ms))
      goto interrupted;
    pause_ms = pause_ms * 2 < MAX_PAUSE_MS ? pause_ms * 2 : MAX_PAUSE_MS;
  }
  if (!have_last) {
    fprintf(stderr, "certdeploy-agent: gave up waiting after %ld s: no check-in succeeded (%s)\n",
            seconds, err != NULL ? err : "out of memory");
    goto out;
  }
  rc = conclude(&last, seconds, err);
  goto out;
interrupted:
  fprintf(stderr,
          "certdeploy-agent: stopped by signal %d before every assigned profile was "
          "installed\n",
          stop != NULL ? (int)*stop : 0);
out:
  checkin_summary_release(&round);
  checkin_summary_release(&last);
  free(err);
  return rc;
}
