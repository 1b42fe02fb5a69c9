/*
 * db_deployments.h: reading deployments and applying the state machine's
 * decisions to them.
 *
 * Every function that changes a deployment takes the status and
 * generation the caller decided on (from a row it read) and changes the
 * row only if both are still the same; it returns 0 when another request
 * or instance got there first (re-read and decide again). Each change
 * appends its history row in the same statement. Return values follow
 * db.h.
 */
#ifndef CERTDEPLOY_DB_DEPLOYMENTS_H
#define CERTDEPLOY_DB_DEPLOYMENTS_H

#include "db.h"
#include "db_device_auth.h"
#include "state.h"

typedef struct db_cert {
  int present;
  char serial[130];
  char not_before[24]; /* RFC 3339 UTC */
  char not_after[24];
  char sha256[65];
  int valid; /* inside its validity period now */
} db_cert;

typedef struct db_deployment {
  char device_id[40];
  char profile_id[40];
  char profile_name[160];
  char key_mode[8];      /* "server" or "device" */
  char common_name[512]; /* the profile's common_name template */
  int renew_before_days; /* the profile's window, 0 for the default */
  deployment_status status;
  char failure_source[8]; /* "", "server" or "device" */
  char detail[2048];
  int attempts;
  char next_attempt_at[24]; /* "" when none */
  int generation;
  char updated_at[24];
  int issued_for_generation; /* issued_* belongs to the current generation */
  int csr_for_generation;    /* a CSR for the current generation is stored */
  db_cert issued;
  db_cert installed;
  char renew_at[24]; /* "" when none */
} db_deployment;

/* One deployment (with its profile's name and key mode). lock: SELECT ...
 * FOR UPDATE inside the caller's transaction. Returns 1 found, 0 none. */
int db_deployment_get(db_conn *c, const char *device_id, const char *profile_id, int lock,
                      db_deployment *out);

/* Every deployment of a device, by profile name. *rows is malloc'd.
 * Returns the count. */
int db_deployment_list_for_device(db_conn *c, const char *device_id, db_deployment **rows);

/* What a check-in's one round trip found (db_device_checkin_read). Only
 * what a check-in decides with is filled in for each deployment: ids,
 * profile name, key mode, common name and window, status, detail,
 * attempts, generation, the two *_for_generation flags, issued.present and
 * issued.sha256, and issued.not_before/not_after while the deployment is
 * pending or verifying; the rest is zero. */
typedef struct db_checkin {
  int found; /* 1 the token's device, 0 no such token, or a DB_*_ERROR */
  db_device_identity dev;
  db_deployment *rows; /* malloc'd; count of them, in byte order of profile name */
  int count;
  void (*done)(void *arg);
  void *arg;
} db_checkin;

struct db_async;
/* The check-in's one round trip, on the database reads' thread
 * (db_async.h), so no HTTP thread waits for it, in one execution with the
 * other check-ins of its batch: the device holding token_hash and all its
 * deployments into *out, then done(arg) on that thread (or on the
 * caller's when the read cannot start). Free what it holds with
 * db_checkin_release(). */
void db_device_checkin_read(struct db_async *q, const char *token_hash, db_checkin *out,
                            void (*done)(void *arg), void *arg);
void db_checkin_release(db_checkin *ck);

/* The fields a transition may set besides the status. */
typedef struct db_change {
  deployment_status from; /* expected current status */
  int generation;         /* expected current generation */
  deployment_status to;
  state_event event;
  const char *actor;
  const char *detail; /* deployment detail and history detail */
  int attempts;
  failure_source failure;
  long retry_in_seconds; /* pending after a transient error: next attempt */
  const char *claim_id;  /* CA outcomes: the worker's claim (NULL otherwise) */
} db_change;

/* Applies a transition within the same generation (CA outcome without a
 * certificate, delivery, device error). Returns 1, or 0 if raced. */
int db_deployment_apply(db_conn *c, const char *device_id, const char *profile_id,
                        const db_change *ch);

/* The certificate obtained for the current generation (pending stays
 * pending, issued for delivery). key_sealed is NULL in device key mode. */
typedef struct db_issued {
  const char *serial, *pem, *chain, *not_before, *not_after, *sha256, *key_sealed, *csr;
} db_issued;
int db_deployment_issued(db_conn *c, const char *device_id, const char *profile_id,
                         const db_change *ch, const db_issued *cert);

/* verifying -> verified: the issued certificate becomes the installed one,
 * the server-held key is erased, renew_at (RFC 3339) is set. */
int db_deployment_verified(db_conn *c, const char *device_id, const char *profile_id,
                           const db_change *ch, const char *renew_at);

/* A new generation (renewal due, admin resend of a verified deployment):
 * pending, attempts 0, issued certificate forgotten. */
int db_deployment_new_generation(db_conn *c, const char *device_id, const char *profile_id,
                                 const db_change *ch);

/* The admin resend of a failed deployment: the one way out of `failed`.
 * Must run inside a transaction (it sets certdeploy.resend for it). */
int db_deployment_resend_failed(db_conn *c, const char *device_id, const char *profile_id,
                                const db_change *ch);

/* Appends a history row without changing the deployment (events ignored
 * on a failed deployment), if it is still in ch->from at ch->generation.
 * Returns 1, or 0 when it moved on meanwhile. */
int db_history_append(db_conn *c, const char *device_id, const char *profile_id,
                      const db_change *ch);

/* Stores the device's CSR for the current generation (device key mode).
 * Returns 1, or 0 when the status/generation moved on. */
int db_deployment_store_csr(db_conn *c, const char *device_id, const char *profile_id,
                            int generation, const char *csr);

/* The encrypted server-generated key of the current generation, malloc'd
 * (NULL when none). Returns 1, 0 none, or an error. */
int db_deployment_key(db_conn *c, const char *device_id, const char *profile_id, int generation,
                      char **key_sealed, char **cert_pem, char **chain_pem);

#endif
