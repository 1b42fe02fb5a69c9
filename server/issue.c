/* issue.c: ask the CA for one deployment's certificate. */
#include "issue.h"

#include "ca_client.h"
#include "ca_template.h"
#include "crypto.h"
#include "db_deployments.h"
#include "keypool.h"
#include "log.h"
#include "metrics.h"
#include "renewal.h"
#include "state.h"
#include "timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The subject values for this device; -1 when a template is broken. */
static int expand_all(const db_claim *cl, char **cn, char **upn, char **seat, char **bad) {
  ca_template_vars vars = {cl->device_serial, cl->device_name, cl->device_id};
  *cn = *upn = *seat = NULL;
  if (ca_template_expand(cl->common_name, &vars, cn, bad) != 0 ||
      ca_template_expand(cl->upn, &vars, upn, bad) != 0 ||
      ca_template_expand(cl->seat_id, &vars, seat, bad) != 0)
    return -1;
  return 0;
}

/* Server key mode: a fresh key and its CSR (with the CSR's key hash);
 * the key leaves sealed (a key from the pool keeps the form it was stored
 * in). */
static int make_server_key(app *a, db_pool *pool, const char *cn, char **csr,
                           char csr_key_sha256[65], char **sealed) {
  int ret = -1;
  char *pem = NULL;
  crypto_key *key = keypool_key(a, pool, sealed);
  if (key == NULL || (*csr = crypto_csr_create(key, cn, csr_key_sha256)) == NULL)
    goto out;
  if (*sealed == NULL) {
    if ((pem = crypto_key_to_pem(key)) == NULL)
      goto out;
    *sealed = crypto_seal(a->master_key, pem, strlen(pem));
  }
  ret = *sealed ? 0 : -1;
out:
  crypto_free_secret(pem);
  crypto_key_free(&key);
  return ret;
}

/* Applies a certificate the CA returned (ca_issue checked and parsed it). */
static int record_issued(db_conn *c, const db_claim *cl, const ca_outcome *out, const char *csr,
                         const char *sealed) {
  const crypto_cert_info *info = &out->leaf;
  char nb[24], na[24], detail[256];
  time_format(info->not_before, nb);
  time_format(info->not_after, na);
  snprintf(detail, sizeof(detail), "certificate %s issued; delivered at the next check-in",
           info->serial);
  db_change ch = {.from = STATUS_PENDING,
                  .generation = cl->generation,
                  .to = STATUS_PENDING,
                  .event = EVENT_CA_ISSUED,
                  .actor = "worker",
                  .detail = detail,
                  .attempts = cl->attempts + 1,
                  .claim_id = cl->claim_id};
  db_issued cert = {.serial = out->serial ? out->serial : info->serial,
                    .pem = out->certificate_pem,
                    .chain = out->chain_pem,
                    .not_before = nb,
                    .not_after = na,
                    .sha256 = info->sha256,
                    .key_sealed = sealed,
                    .csr = strcmp(cl->key_mode, "server") == 0 ? csr : NULL};
  return db_deployment_issued(c, cl->device_id, cl->profile_id, &ch, &cert);
}

/* Applies a CA failure through the state machine: retry later, or fail. */
static int record_failure(app *a, db_conn *c, const db_claim *cl, ca_class cls,
                          const char *ca_detail, long retry_after) {
  state_input in = {.from = STATUS_PENDING,
                    .event = cls == CA_TRANSIENT ? EVENT_CA_TRANSIENT : EVENT_CA_PERMANENT,
                    .attempts = cl->attempts,
                    .max_attempts = (int)a->cfg->retry_max_attempts};
  state_result r = state_decide(&in);
  char detail[2048], final[2048];
  long retry = -1;
  if (r.to == STATUS_FAILED) {
    /* the adapter says "retrying" for a transient error; this one is the last */
    snprintf(final, sizeof(final), "%s", ca_detail);
    char *tail = strstr(final, "; retrying");
    if (tail)
      memmove(tail, tail + strlen("; retrying"), strlen(tail + strlen("; retrying")) + 1);
    ca_detail = final;
  }
  if (r.to == STATUS_PENDING) {
    unsigned char rnd[4];
    crypto_random_bytes(rnd, sizeof(rnd));
    double u = (double)((unsigned)rnd[0] << 16 | (unsigned)rnd[1] << 8 | rnd[2]) / 16777216.0;
    retry = retry_delay_seconds(r.attempts, a->cfg->retry_base_seconds, a->cfg->retry_max_seconds,
                                retry_after, u);
    snprintf(detail, sizeof(detail), "%.1900s (attempt %d of %ld; next in %ld s)", ca_detail,
             r.attempts, a->cfg->retry_max_attempts, retry);
  } else if (cl->installed_valid) {
    size_t n = strlen(ca_detail);
    snprintf(detail, sizeof(detail),
             "%.1900s%s The device still holds a valid certificate until %s.", ca_detail,
             n > 0 && ca_detail[n - 1] == '.' ? "" : ".", cl->installed_not_after);
  } else {
    snprintf(detail, sizeof(detail), "%s", ca_detail);
  }
  db_change ch = {.from = STATUS_PENDING,
                  .generation = cl->generation,
                  .to = r.to,
                  .event = in.event,
                  .actor = "worker",
                  .detail = detail,
                  .attempts = r.attempts,
                  .failure = r.failure,
                  .retry_in_seconds = retry,
                  .claim_id = cl->claim_id};
  return db_deployment_apply(c, cl->device_id, cl->profile_id, &ch);
}

/* A lease is taken for the CA timeout + ISSUE_LEASE_MARGIN_SECONDS; while
 * less than CLAIM_FRESH_SECONDS have passed since, what is left still
 * covers a whole CA request, so it need not be renewed. */
#define CLAIM_FRESH_SECONDS 5

/* Key generation and waits may outlast a lease: right before the CA call,
 * renew it if this worker still holds it (unless it is fresh). */
static int lease_still_ours(app *a, db_pool *pool, const db_claim *cl) {
  struct timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  double age = (double)(now.tv_sec - cl->claimed_at.tv_sec) +
               (double)(now.tv_nsec - cl->claimed_at.tv_nsec) / 1e9;
  if (age >= 0 && age < CLAIM_FRESH_SECONDS)
    return 1;
  db_conn *c = db_acquire(pool);
  if (c == NULL)
    return 0;
  int rc = db_claim_confirm(c, cl, a->cfg->ca_timeout_seconds + ISSUE_LEASE_MARGIN_SECONDS);
  db_release(pool, c);
  return rc == 1;
}

/* Waits for one of the instance's CA request slots. */
static void slot_take(sem_t *slots) {
  while (sem_wait(slots) != 0 && errno == EINTR)
    ;
}

void issue_one(app *a, db_pool *pool, sem_t *ca_slots, const db_claim *cl) {
  char *cn = NULL, *upn = NULL, *seat = NULL, *bad = NULL, *csr = NULL, *sealed = NULL;
  char *token = NULL;
  size_t token_len = 0;
  ca_outcome out;
  memset(&out, 0, sizeof(out));
  int local_failure = 0;
  char detail[512] = "";
  char csr_key[65] = ""; /* the hash of a CSR made here */

  if (expand_all(cl, &cn, &upn, &seat, &bad) != 0) {
    snprintf(detail, sizeof(detail),
             "The profile uses the unknown variable %s; fix the profile, then resend.",
             bad ? bad : "?");
    out.cls = CA_PERMANENT;
  } else if (strcmp(cl->key_mode, "server") == 0 &&
             make_server_key(a, pool, cn, &csr, csr_key, &sealed) != 0) {
    local_failure = 1;
  } else if (crypto_open(a->master_key, cl->ca_token_sealed, &token, &token_len) != 0) {
    snprintf(detail, sizeof(detail),
             "Couldn't get certificate from %s: the stored API token cannot be decrypted (was "
             "the master key replaced?); set the CA's api_token again, then resend.",
             cl->ca_name);
    out.cls = CA_PERMANENT;
  } else {
    slot_take(ca_slots); /* the lease is checked after the wait */
    if (!lease_still_ours(a, pool, cl)) {
      sem_post(ca_slots);
      log_msg(LOG_WARN,
              "the claim on %s/%s generation %d ran out before the CA call; another "
              "worker has it",
              cl->device_id, cl->profile_id, cl->generation);
      goto out;
    }
    ca_endpoint ep = {.name = cl->ca_name,
                      .url = cl->ca_url,
                      .api_token = token,
                      .profile_id = cl->ca_profile_id,
                      .ca_pem = cl->ca_certificate,
                      .timeout_seconds = a->cfg->ca_timeout_seconds};
    ca_issue_request rq = {.csr_pem = csr ? csr : cl->csr,
                           .csr_pubkey_sha256 =
                               csr ? csr_key : NULL, /* a device's CSR is checked */
                           .common_name = cn,
                           .upn = upn,
                           .seat_id = seat};
    ca_issue(&ep, &rq, &out);
    sem_post(ca_slots);
    metrics_ca_request(cl->ca_name, out.result_label, out.seconds);
  }

  db_conn *c = db_acquire(pool);
  if (c == NULL) {
    /* the lease runs out and the deployment is tried again */
    log_msg(LOG_WARN, "database unreachable: the outcome for %s/%s is dropped and retried",
            cl->device_id, cl->profile_id);
    goto out;
  }
  int rc;
  if (local_failure) {
    log_msg(LOG_ERROR, "cannot make a key for %s/%s; will retry", cl->device_id, cl->profile_id);
    rc = db_claim_drop(c, cl);
  } else if (out.cls == CA_OK && detail[0] == '\0') {
    rc = record_issued(c, cl, &out, csr, sealed);
    if (rc == DB_HARD_ERROR) /* refused, not unreachable: another try would issue again */
      rc = record_failure(a, c, cl, CA_PERMANENT,
                          "Couldn't store the certificate the CA issued (the database refused "
                          "it; see the server log); resend to request a new one.",
                          -1);
  } else {
    const char *why = detail[0] ? detail : out.detail ? out.detail : "the CA request failed";
    rc = record_failure(a, c, cl, out.cls, why, out.retry_after_seconds);
  }
  db_release(pool, c);
  if (rc == 0)
    log_msg(LOG_WARN,
            "the outcome for %s/%s generation %d was discarded: the deployment changed "
            "meanwhile",
            cl->device_id, cl->profile_id, cl->generation);
  else if (rc > 0)
    log_msg(LOG_INFO, "CA request for %s/%s generation %d: %s", cl->device_id, cl->profile_id,
            cl->generation, out.result_label ? out.result_label : "refused locally");
out:
  ca_outcome_release(&out);
  if (token)
    crypto_free_secret(token);
  free(cn);
  free(upn);
  free(seat);
  free(bad);
  free(csr);
  free(sealed);
}
