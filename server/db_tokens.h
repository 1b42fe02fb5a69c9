/*
 * db_tokens.h: API tokens (admin and observer). Only SHA-256 hashes of the
 * tokens are stored. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_TOKENS_H
#define CERTDEPLOY_DB_TOKENS_H

#include "db.h"

typedef struct db_token {
  char id[40];
  char name[160];
  char role[16];       /* "admin" or "observer" */
  char created_at[40]; /* RFC 3339 UTC */
  char token_hash[65];
} db_token;

/* Inserts a token; fills out (id, created_at). Returns 1 or an error. */
int db_token_insert(db_conn *c, const char *name, const char *role, const char *token_hash,
                    db_token *out);

/* Looks a token up by the hash of its secret. Returns 1 found, 0 none. */
int db_token_find_by_hash(db_conn *c, const char *token_hash, db_token *out);

/* Lists tokens in creation order, at most `limit`, after the cursor
 * (created_at,id of the last row seen; both NULL to start). *rows is
 * malloc'd. Returns the count or an error. */
int db_token_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                  db_token **rows);

/* Deletes a token. Returns 1 deleted, 0 not found. */
int db_token_delete(db_conn *c, const char *id);

/* Inserts an admin token named `name` only when no API token exists
 * (atomic across instances). Returns 1 created, 0 tokens already exist. */
int db_token_bootstrap(db_conn *c, const char *name, const char *token_hash);

#endif
