/*
 * db_enroll_secrets.h: enroll secrets, which devices present once to
 * enroll (POST /device/v1/enroll). Only SHA-256 hashes of the secrets are
 * stored; the lookup by hash at enrollment lives with the device API.
 * Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_ENROLL_SECRETS_H
#define CERTDEPLOY_DB_ENROLL_SECRETS_H

#include "db.h"

#define ENROLL_SECRET_NAME_MAX 128

typedef struct db_enroll_secret {
  char id[40];
  char name[ENROLL_SECRET_NAME_MAX * 4 + 1]; /* up to 128 characters of UTF-8 */
  char created_at[40];                       /* RFC 3339 UTC, microseconds */
} db_enroll_secret;

/* Inserts a secret by the hash of its value; fills out. Returns 1 or an
 * error. */
int db_enroll_secret_insert(db_conn *c, const char *name, const char *secret_hash,
                            db_enroll_secret *out);

/* Lists secrets in creation order, at most `limit`, after the cursor
 * (created_at,id of the last row seen; both NULL to start). *rows is
 * malloc'd; the caller frees it. Returns the count or an error. */
int db_enroll_secret_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                          db_enroll_secret **rows);

/* Deletes a secret (devices it enrolled stay). Returns 1 deleted, 0 not
 * found. */
int db_enroll_secret_delete(db_conn *c, const char *id);

#endif
