/*
 * db_worker.h: what the issuance worker and the scheduler ask of the
 * database, and the wake-up that tells every instance's worker there is
 * new work. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_WORKER_H
#define CERTDEPLOY_DB_WORKER_H

#include "db.h"

#include <time.h>

/* The NOTIFY channel that db_notify_work() signals and the workers listen
 * on (db_listen.h). */
#define DB_WORK_CHANNEL "certdeploy_work"

/* Wakes every instance's worker (NOTIFY on DB_WORK_CHANNEL) after new
 * work was committed; inside a transaction, the wake-up is sent when it
 * commits. Returns 0 or an error. */
int db_notify_work(db_conn *c);

/* A deployment claimed for one CA request, with everything the request
 * needs. Strings are owned; release with db_claim_release. */
typedef struct db_claim {
  char device_id[40];
  char profile_id[40];
  char claim_id[40];          /* this worker's claim; outcomes must present it */
  struct timespec claimed_at; /* CLOCK_BOOTTIME (counts pauses) when the lease was taken */
  int generation;
  int attempts; /* CA requests already made for this generation */
  char key_mode[8];
  char *csr;         /* device key mode: the device's CSR */
  char *common_name; /* templates of the profile */
  char *upn;         /* "" when none */
  char *seat_id;
  char *device_serial;
  char *device_name;
  char *ca_name;
  char *ca_url;
  char *ca_token_sealed;
  char *ca_profile_id;
  char *ca_certificate; /* NULL when none */
  char installed_not_after[24];
  int installed_valid; /* the device holds a certificate valid now */
} db_claim;

/* Claims the most overdue deployment that needs a CA request (pending,
 * nothing issued for its generation, due, not leased; device key mode
 * only with a CSR) with FOR UPDATE SKIP LOCKED, leasing it for
 * lease_seconds. Returns 1 claimed, 0 nothing due. */
int db_claim_next(db_conn *c, long lease_seconds, db_claim *out);

/* Right before the CA call: renews the lease for lease_seconds if the
 * claim is still this worker's and the deployment still needs the
 * request. Returns 1, or 0 when the claim was lost (do not call the CA). */
int db_claim_confirm(db_conn *c, const db_claim *cl, long lease_seconds);

/* Frees the strings of a claim. Accepts NULL. */
void db_claim_release(db_claim *cl);

/* Gives a claim back without an outcome (e.g. a local failure). */
int db_claim_drop(db_conn *c, const db_claim *cl);

/* Starts a new generation for up to `limit` verified deployments whose
 * renewal time has come (history actor "scheduler"). Failed deployments
 * are never renewed. Returns the number renewed. */
int db_renew_due(db_conn *c, int limit);

/* Seconds until the next deployment becomes due (a retry time or a lease
 * that runs out), 0 when one is due now, -1 when none is waiting. */
int db_next_due_in(db_conn *c, double *seconds);

#endif
