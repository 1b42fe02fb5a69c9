/*
 * db_profiles.h: certificate profiles (table profiles), their
 * deployment counts, and the resend of a profile's deployments. Return values follow db.h; a taken
 * name is DB_HARD_ERROR with db_last_sqlstate() "23505", an unknown ca_id "23503".
 *
 * A profile carries at most one user principal name: the column is an
 * array (as DigiCert's request body is) but the CA adapter sends one.
 */
#ifndef CERTDEPLOY_DB_PROFILES_H
#define CERTDEPLOY_DB_PROFILES_H

#include "db.h"
#include "db_cas.h"
#include "state.h"

/* Longest accepted values, in bytes (the handlers enforce them). */
#define PROFILE_NAME_MAX 128
#define PROFILE_TEMPLATE_MAX 1024 /* common_name, a UPN, seat_id (before expansion) */

/* What a profile is made of, as written. Strings are borrowed. */
typedef struct db_profile_fields {
  const char *name;
  const char *ca_id;       /* a valid UUID */
  const char *common_name; /* template */
  const char *upn;         /* template, NULL = none */
  const char *seat_id;     /* template */
  const char *key_mode;    /* "server" or "device" */
  int renew_before_days;   /* 1..3650, 0 = the default window (SQL NULL) */
  int assign_all;          /* 0 or 1 */
} db_profile_fields;

typedef struct db_profile {
  char id[40];
  char name[PROFILE_NAME_MAX + 1];
  char ca_id[40];
  char ca_name[CA_NAME_MAX + 1];
  char common_name[PROFILE_TEMPLATE_MAX + 1];
  char upn[PROFILE_TEMPLATE_MAX + 1]; /* "" when has_upn is 0 */
  int has_upn;
  char seat_id[PROFILE_TEMPLATE_MAX + 1];
  char key_mode[8];
  int renew_before_days; /* 0 = default window */
  int assign_all;
  char created_at[40]; /* RFC 3339 UTC, microseconds */
  char updated_at[40];
  /* deployments of the profile by status */
  int pending, verifying, verified, failed;
} db_profile;

/* Inserts a profile; writes its id into id_out. Returns 1 or an error
 * (23505 taken name, 23503 unknown CA). */
int db_profile_insert(db_conn *c, const db_profile_fields *f, char id_out[40]);

/* Reads a profile with its CA's name and deployment counts. Returns 1
 * found, 0 none. */
int db_profile_get(db_conn *c, const char *id, db_profile *out);

/* Locks a profile row until the transaction ends (serialises edits).
 * Returns 1 locked, 0 no such profile. */
int db_profile_lock(db_conn *c, const char *id);

/* Lists profiles (with counts) in creation order, at most `limit`, after
 * the cursor (created_at,id of the last row seen; both NULL to start).
 * *rows is malloc'd; the caller frees it. Returns the count or an error. */
int db_profile_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                    db_profile **rows);

/* Overwrites every field of a profile and bumps updated_at. Returns 1
 * updated, 0 none, or an error (23505, 23503). */
int db_profile_update(db_conn *c, const char *id, const db_profile_fields *f);

/* Deletes a profile and its deployments, writing a "profile_deleted"
 * history row by actor for each (history is kept). Returns 1 deleted,
 * 0 none. */
int db_profile_delete(db_conn *c, const char *id, const char *actor);

/* 1 when the profile exists, 0 when not. */
int db_profile_exists(db_conn *c, const char *profile_id);

/* Resends every deployment of a profile in `status` ("failed" or
 * "verified"): each starts a new generation (pending), with a "resend"
 * history row by actor. Runs in its own transaction. Returns the number
 * resent. */
int db_profile_resend(db_conn *c, const char *profile_id, deployment_status status,
                      const char *actor);

#endif
