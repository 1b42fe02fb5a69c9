/* routes_enroll_secrets.c: /api/v1/enroll-secrets — the secrets devices
 * enroll with. A secret is shown once, at creation; the server keeps only
 * its SHA-256. */
#include "handlers.h"

#include "crypto.h"
#include "db_enroll_secrets.h"
#include "json_body.h"
#include "page.h"
#include "reply.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>

static json_t *secret_json(const void *row) {
  const db_enroll_secret *s = row;
  return json_pack("{s:s, s:s, s:s}", "id", s->id, "name", s->name, "created_at", s->created_at);
}

static json_t *secret_cursor(const void *row, const void *unused) {
  const db_enroll_secret *s = row;
  (void)unused;
  return page_cursor(s->created_at, s->id);
}

/* POST /api/v1/enroll-secrets {"name"} -> 201 with the secret, shown once. */
void enroll_secrets_create(request *req, reply *rep) {
  json_t *name = NULL;
  const field_spec spec[] = {
      {"name", FIELD_STRING, 1, ENROLL_SECRET_NAME_MAX, &name},
  };
  char *secret = NULL;
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 1, rep) != 0)
    goto out;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  secret = crypto_random_token(TOKEN_PREFIX_ENROLL, 32);
  if (secret == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  char hash[65];
  crypto_sha256_hex(secret, strlen(secret), hash);
  db_enroll_secret s;
  int rc = db_enroll_secret_insert(c, json_string_value(name), hash, &s);
  if (rc < 0) {
    reply_db_error(rep, rc);
    goto out;
  }
  json_t *j = secret_json(&s);
  json_object_set_new(j, "secret", json_string(secret));
  reply_json(rep, 201, j);
out:
  crypto_free_secret(secret);
  json_decref(body);
}

static const page_list secrets_page = {"enroll_secrets", sizeof(db_enroll_secret), secret_json,
                                       secret_cursor};

/* GET /api/v1/enroll-secrets?limit=&cursor= (never the secrets) */
void enroll_secrets_list(request *req, reply *rep) {
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_enroll_secret *rows = NULL;
  int n = db_enroll_secret_list(c, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &secrets_page, pg.limit, rows, n, NULL);
  free(rows);
}

/* DELETE /api/v1/enroll-secrets/{id} -> 204. Devices enrolled with the
 * secret stay enrolled; it only stops new enrollments. */
void enroll_secrets_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "enroll secret id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int rc = db_enroll_secret_delete(c, req->params[0]);
  if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No enroll secret with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}
