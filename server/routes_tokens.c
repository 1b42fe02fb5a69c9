/* routes_tokens.c: /api/v1/tokens — API tokens for admins and observers. */
#include "handlers.h"

#include "crypto.h"
#include "db_tokens.h"
#include "json_body.h"
#include "page.h"
#include "reply.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>

static json_t *token_json(const void *row) {
  const db_token *t = row;
  return json_pack("{s:s, s:s, s:s, s:s}", "id", t->id, "name", t->name, "role", t->role,
                   "created_at", t->created_at);
}

static json_t *token_cursor(const void *row, const void *unused) {
  const db_token *t = row;
  (void)unused;
  return page_cursor(t->created_at, t->id);
}

/* POST /api/v1/tokens {"name","role"} -> 201 with the token, shown once. */
void tokens_create(request *req, reply *rep) {
  json_t *name = NULL, *role = NULL;
  const field_spec spec[] = {
      {"name", FIELD_STRING, 1, 128, &name},
      {"role", FIELD_STRING, 1, 16, &role},
  };
  char *token = NULL;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 2, rep) != 0)
    goto out;
  const char *r = json_string_value(role);
  if (strcmp(r, "admin") != 0 && strcmp(r, "observer") != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "role", "'role' must be 'admin' or 'observer'.");
    goto out;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  token = crypto_random_token(TOKEN_PREFIX_API, 32);
  if (token == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  char hash[65];
  crypto_sha256_hex(token, strlen(token), hash);
  db_token t;
  int rc = db_token_insert(c, json_string_value(name), r, hash, &t);
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  json_t *j = token_json(&t);
  json_object_set_new(j, "token", json_string(token));
  reply_json(rep, 201, j);
out:
  crypto_free_secret(token);
  json_decref(body);
}

static const page_list tokens_page = {"tokens", sizeof(db_token), token_json, token_cursor};

/* GET /api/v1/tokens?limit=&cursor= */
void tokens_list(request *req, reply *rep) {
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_token *rows = NULL;
  int n = db_token_list(c, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &tokens_page, pg.limit, rows, n, NULL);
  free(rows);
}

/* DELETE /api/v1/tokens/{id} -> 204 */
void tokens_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "token id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_token_delete(c, req->params[0]);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No API token with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}

/* GET /api/v1/whoami: the calling token's id, name and role, so a client
 * (the dashboard) can tell an observer from an admin without probing. */
void tokens_whoami(request *req, reply *rep) {
  reply_json(rep, 200,
             json_pack("{s:s, s:s, s:s}", "id", req->who.id, "name", req->who.name, "role",
                       req->who.kind == PRINCIPAL_ADMIN ? "admin" : "observer"));
}
