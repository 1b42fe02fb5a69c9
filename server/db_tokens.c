/* db_tokens.c: statements on api_tokens. */
#include "db_tokens.h"

#include "db_internal.h"

#include <stdlib.h>

#define TOKEN_COLUMNS "id, name, role, " DB_TS_US("created_at") ", token_hash"

DB_STMT(token_insert, "INSERT INTO api_tokens (name, role, token_hash) VALUES ($1, $2, $3) "
                      "RETURNING " TOKEN_COLUMNS);
DB_STMT(token_find, "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1");
DB_STMT(token_list,
        "SELECT " TOKEN_COLUMNS " FROM api_tokens "
        "WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid) "
        "ORDER BY created_at, id LIMIT $3::int");
DB_STMT(token_delete, "DELETE FROM api_tokens WHERE id = $1::uuid");
/* Two statements in one transaction: the lock first, so the insert's
 * snapshot (taken when it starts) sees a token another instance just made. */
DB_STMT(token_bootstrap_lock, "SELECT pg_advisory_xact_lock(7234316138370674293)");
DB_STMT(token_bootstrap, "INSERT INTO api_tokens (name, role, token_hash) "
                         "SELECT $1, 'admin', $2 WHERE NOT EXISTS (SELECT 1 FROM api_tokens)");

static int row_to_token(const PGresult *res, int row, void *out) {
  db_token *t = out;
  db_col_text(res, row, 0, t->id, sizeof(t->id));
  db_col_text(res, row, 1, t->name, sizeof(t->name));
  db_col_text(res, row, 2, t->role, sizeof(t->role));
  db_col_text(res, row, 3, t->created_at, sizeof(t->created_at));
  db_col_text(res, row, 4, t->token_hash, sizeof(t->token_hash));
  return 0;
}

static const db_row_reader token_reader = {sizeof(db_token), row_to_token, NULL};

int db_token_insert(db_conn *c, const char *name, const char *role, const char *token_hash,
                    db_token *out) {
  int rc;
  const char *p[] = {name, role, token_hash};
  PGresult *res = db_exec(c, &token_insert, 3, p, &rc);
  if (res == NULL)
    return rc;
  row_to_token(res, 0, out);
  PQclear(res);
  return 1;
}

int db_token_find_by_hash(db_conn *c, const char *token_hash, db_token *out) {
  int rc;
  const char *p[] = {token_hash};
  PGresult *res = db_exec(c, &token_find, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    row_to_token(res, 0, out);
  PQclear(res);
  return n > 0 ? 1 : 0;
}

int db_token_list(db_conn *c, const char *after_created, const char *after_id, int limit,
                  db_token **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_created, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &token_list, 3, p, &token_reader, &found);
  *rows = found;
  return n;
}

int db_token_delete(db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec_affected(c, &token_delete, 1, p);
}

int db_token_bootstrap(db_conn *c, const char *name, const char *token_hash) {
  int rc = db_begin(c);
  if (rc != 0)
    return rc;
  const char *p[] = {name, token_hash};
  PGresult *res = db_exec(c, &token_bootstrap_lock, 0, NULL, &rc);
  if (res == NULL)
    goto fail;
  PQclear(res);
  res = db_exec(c, &token_bootstrap, 2, p, &rc);
  if (res == NULL)
    goto fail;
  int n = db_affected(res);
  PQclear(res);
  if ((rc = db_commit(c)) != 0)
    return rc;
  return n;
fail:
  db_rollback(c);
  return rc;
}
