/*
 * db_cas.h: configured certificate authorities (table cas).
 *
 * The CA's API token is stored only sealed with the master key
 * (crypto_seal); this layer never sees it in plain text. Return values
 * follow db.h; a duplicate name is DB_HARD_ERROR with db_last_sqlstate()
 * "23505".
 */
#ifndef CERTDEPLOY_DB_CAS_H
#define CERTDEPLOY_DB_CAS_H

#include "db.h"

/* Longest accepted values, in bytes (the handlers enforce them). */
#define CA_NAME_MAX 128
#define CA_URL_MAX 2048
#define CA_PROFILE_ID_MAX 256
#define CA_API_TOKEN_MAX 1024
#define CA_CERTIFICATE_MAX (64 * 1024)

typedef struct db_ca {
  char id[40];
  char name[CA_NAME_MAX + 1];
  char type[16]; /* "digicert" */
  char url[CA_URL_MAX + 1];
  char profile_id[CA_PROFILE_ID_MAX + 1];
  char *api_token_sealed; /* owned; crypto_seal text, never the token */
  char *ca_certificate;   /* owned; PEM trust anchor, NULL when none */
  char created_at[40];    /* RFC 3339 UTC, microseconds */
  char updated_at[40];
  int profiles_using; /* profiles whose ca_id is this CA */
} db_ca;

/* Frees what a db_ca owns and NULLs those members. Accepts NULL. */
void db_ca_release(db_ca *ca);

/* Frees an array from db_ca_list (n rows). Accepts NULL. */
void db_ca_list_free(db_ca *rows, int n);

/* Inserts a CA; fills *out (the caller releases it). ca_certificate may be
 * NULL. Returns 1 or an error (23505 for a taken name). */
int db_ca_insert(db_conn *c, const char *name, const char *type, const char *url,
                 const char *api_token_sealed, const char *profile_id, const char *ca_certificate,
                 db_ca *out);

/* Looks a CA up by id (a valid UUID). Returns 1 found (*out filled; the
 * caller releases it), 0 none. */
int db_ca_get(db_conn *c, const char *id, db_ca *out);

/* Lists CAs in creation order, at most `limit`, after the cursor
 * (created_at,id of the last row seen; both NULL to start). *rows is
 * malloc'd; free it with db_ca_list_free. Returns the count or an error. */
int db_ca_list(db_conn *c, const char *after_created, const char *after_id, int limit,
               db_ca **rows);

/*
 * Updates a CA only if it is still as it was when read: expected_updated_at
 * is the updated_at of that read, so a change validated against the CA
 * cannot overwrite a concurrent edit. NULL members of the change leave
 * the column as it is; clear_ca_certificate sets ca_certificate to NULL.
 * Returns 1 updated (*out refreshed; the caller releases it), 0 when the
 * CA is gone or changed meanwhile, or an error (23505 for a taken name).
 */
typedef struct db_ca_change {
  const char *name;
  const char *url;
  const char *api_token_sealed;
  const char *profile_id;
  const char *ca_certificate;
  int clear_ca_certificate;
} db_ca_change;
int db_ca_update(db_conn *c, const char *id, const char *expected_updated_at,
                 const db_ca_change *change, db_ca *out);

/* Deletes a CA unless a profile uses it. Returns 1 deleted, 0 not found
 * or in use; *profiles_using is set to the profiles that use it (0 when
 * deleted or not found). A profile created concurrently makes the delete
 * fail with SQLSTATE 23503 (DB_HARD_ERROR). */
int db_ca_delete(db_conn *c, const char *id, int *profiles_using);

#endif
