/*
 * routes_cas.c: /api/v1/cas — the certificate authorities profiles issue
 * from. A CA is checked against the CA itself (ca_validate) before it is
 * saved, and again whenever an edit changes how it is reached (url,
 * api_token, profile_id, ca_certificate). Its API token is stored sealed
 * with the master key and answered only as "********".
 */
#include "handlers.h"

#include "app.h"
#include "ca_client.h"
#include "ca_request.h"
#include "crypto.h"
#include "db_cas.h"
#include "json_body.h"
#include "json_wipe.h"
#include "log.h"
#include "page.h"
#include "reply.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>

/* What replies show instead of the API token; a PATCH sending it back
 * means "unchanged". */
#define CA_TOKEN_MASK "********"

static json_t *ca_json(const void *row) {
  const db_ca *ca = row;
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:i}", "id", ca->id, "name",
                   ca->name, "type", ca->type, "url", ca->url, "profile_id", ca->profile_id,
                   "api_token", CA_TOKEN_MASK, "ca_certificate",
                   ca->ca_certificate ? json_string(ca->ca_certificate) : json_null(), "created_at",
                   ca->created_at, "updated_at", ca->updated_at, "profiles_using",
                   ca->profiles_using);
}

static json_t *ca_cursor(const void *row, const void *unused) {
  const db_ca *ca = row;
  (void)unused;
  return page_cursor(ca->created_at, ca->id);
}

/* 1 when v is the mask a client echoes back for "unchanged". */
static int is_mask(json_t *v) {
  return v != NULL && strcmp(json_string_value(v), CA_TOKEN_MASK) == 0;
}

/*
 * Checks the fields of a create or an edit that need no network: type,
 * url, api_token, ca_certificate (each may be NULL = absent; a masked
 * token counts as absent). Returns 0, or -1 with rep set to 400.
 */
static int check_fields(reply *rep, json_t *type, json_t *url, json_t *token, json_t *ca_cert) {
  if (type != NULL && strcmp(json_string_value(type), "digicert") != 0) {
    reply_error(rep, ERR_INVALID_REQUEST, "type",
                "'type' must be 'digicert' (DigiCert Trust Lifecycle Manager or compatible).");
    return -1;
  }
  if (url != NULL) {
    char *err = NULL;
    if (ca_url_check(json_string_value(url), &err) != 0) {
      reply_error(rep, ERR_INVALID_REQUEST, "url", err ? err : "The CA URL is not usable.");
      free(err);
      return -1;
    }
  }
  if (token != NULL && !is_mask(token) && !ca_request_token_ok(json_string_value(token))) {
    reply_error(rep, ERR_INVALID_REQUEST, "api_token",
                "'api_token' may only hold visible ASCII characters (no spaces or line breaks).");
    return -1;
  }
  if (ca_cert != NULL) {
    char *err = NULL;
    crypto_cert_info info;
    if (crypto_cert_parse(json_string_value(ca_cert), &info, &err) != 0) {
      reply_errorf(rep, ERR_INVALID_REQUEST, "ca_certificate",
                   "'ca_certificate' must be the PEM certificate that issued the CA's HTTPS "
                   "certificate: %s.",
                   err ? err : "unreadable");
      free(err);
      return -1;
    }
  }
  return 0;
}

/*
 * Asks the CA whether this configuration works (ca_validate). Returns 0
 * when it does, else -1 with rep set to 422 ca_validation_failed: a refusal
 * carries the adapter's detail (with the CA's own message) and names the
 * field to fix; an unreachable CA says so and points at the URL.
 */
static int validate_with_ca(request *req, reply *rep, const char *name, const char *url,
                            const char *token, const char *profile_id, const char *ca_pem) {
  ca_endpoint ep = {
      .name = name,
      .url = url,
      .api_token = token,
      .profile_id = profile_id,
      .ca_pem = ca_pem,
      .timeout_seconds = req->app->cfg->ca_timeout_seconds,
  };
  ca_outcome out;
  if (ca_validate(&ep, &out) == 0) {
    ca_outcome_release(&out);
    return 0;
  }
  const char *detail = out.detail ? out.detail : "the CA refused";
  if (out.cls == CA_TRANSIENT && out.http_status == 0) {
    reply_errorf(rep, ERR_CA_VALIDATION_FAILED, "url",
                 "The CA could not be reached at %s (%s). Check the URL%s.", url, detail,
                 ca_pem ? " and ca_certificate" : "");
  } else if (out.cls == CA_TRANSIENT) {
    reply_errorf(rep, ERR_CA_VALIDATION_FAILED, NULL,
                 "%s. The CA could not answer now; try again shortly.", detail);
  } else {
    const char *field = "url";
    if (out.http_status == 401)
      field = "api_token";
    else if (out.http_status == 403 || out.http_status == 404 ||
             (out.http_status == 200 && strcmp(out.result_label, "rejected") == 0))
      field = "profile_id";
    reply_error(rep, ERR_CA_VALIDATION_FAILED, field, detail);
  }
  log_field f[] = {{"ca", name, 0}, {"url", url, 0}, {"detail", detail, 0}};
  log_event(LOG_INFO, "CA validation failed", f, 3);
  ca_outcome_release(&out);
  return -1;
}

/* Replies 409 for a name taken (SQLSTATE 23505), else the db error. */
static void reply_save_error(request *req, reply *rep, int rc, const char *name) {
  if (rc == DB_HARD_ERROR && strcmp(db_last_sqlstate(req->db), "23505") == 0)
    reply_errorf(rep, ERR_CONFLICT, "name", "A CA named '%.128s' already exists.", name);
  else
    reply_db_error(rep, rc);
}

/* POST /api/v1/cas {"name","type","url","api_token","profile_id","ca_certificate"?} */
void cas_create(request *req, reply *rep) {
  json_t *name = NULL, *type = NULL, *url = NULL, *token = NULL, *profile_id = NULL,
         *ca_cert = NULL;
  const field_spec spec[] = {
      {"name", FIELD_STRING, 1, CA_NAME_MAX, &name},
      {"type", FIELD_STRING, 1, 16, &type},
      {"url", FIELD_STRING, 1, CA_URL_MAX, &url},
      {"api_token", FIELD_STRING, 1, CA_API_TOKEN_MAX, &token},
      {"profile_id", FIELD_STRING, 1, CA_PROFILE_ID_MAX, &profile_id},
      {"ca_certificate", FIELD_STRING, 0, CA_CERTIFICATE_MAX, &ca_cert},
  };
  char *sealed = NULL;
  db_ca ca = {0};
  json_t *body = body_object(req, rep, 0);
  if (body == NULL || body_fields(body, spec, 6, rep) != 0)
    goto out;
  if (is_mask(token)) {
    reply_error(rep, ERR_INVALID_REQUEST, "api_token",
                "'api_token' must be the CA's API key, not the mask '" CA_TOKEN_MASK "'.");
    goto out;
  }
  if (check_fields(rep, type, url, token, ca_cert) != 0)
    goto out;
  const char *pem = ca_cert ? json_string_value(ca_cert) : NULL;
  if (validate_with_ca(req, rep, json_string_value(name), json_string_value(url),
                       json_string_value(token), json_string_value(profile_id), pem) != 0)
    goto out;
  sealed = crypto_seal(req->app->master_key, json_string_value(token), json_string_length(token));
  if (sealed == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    goto out;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    goto out;
  int rc = db_ca_insert(c, json_string_value(name), "digicert", json_string_value(url), sealed,
                        json_string_value(profile_id), pem, &ca);
  if (rc < 0) {
    reply_save_error(req, rep, rc, json_string_value(name));
    goto out;
  }
  reply_json(rep, 201, ca_json(&ca));
out:
  db_ca_release(&ca);
  free(sealed);
  json_wipe_decref(body); /* its copy of the API token */
}

static const page_list cas_page = {"cas", sizeof(db_ca), ca_json, ca_cursor};

/* GET /api/v1/cas?limit=&cursor= */
void cas_list(request *req, reply *rep) {
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_ca *rows = NULL;
  int n = db_ca_list(c, page_key(&pg), page_id(&pg), pg.limit + 1, &rows);
  page_reply(rep, &cas_page, pg.limit, rows, n, NULL);
  db_ca_list_free(rows, n);
}

/* Loads the CA named by the path into *ca. Returns 0, or -1 with rep set
 * (400 bad id, 404, 5xx). */
static int load_ca(request *req, reply *rep, db_ca *ca) {
  if (param_uuid(req, rep, 0, "CA id") != 0)
    return -1;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return -1;
  int rc = db_ca_get(c, req->params[0], ca);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return -1;
  }
  if (rc == 0) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No CA with id %s.", req->params[0]);
    return -1;
  }
  return 0;
}

/* GET /api/v1/cas/{id} */
void cas_get(request *req, reply *rep) {
  db_ca ca = {0};
  if (load_ca(req, rep, &ca) == 0)
    reply_json(rep, 200, ca_json(&ca));
  db_ca_release(&ca);
}

/* 1 when a present string field differs from the stored value. */
static int changes(json_t *v, const char *current) {
  return v != NULL && (current == NULL || strcmp(json_string_value(v), current) != 0);
}

/*
 * PATCH /api/v1/cas/{id}: any of name, url, api_token, profile_id,
 * ca_certificate (null removes it); "type" may only repeat "digicert" and
 * "api_token":"********" means unchanged. An edit of url, api_token,
 * profile_id or ca_certificate is validated against the CA with the
 * merged configuration first; on refusal nothing is saved (422).
 */
void cas_update(request *req, reply *rep) {
  json_t *name = NULL, *type = NULL, *url = NULL, *token = NULL, *profile_id = NULL,
         *ca_cert = NULL;
  const field_spec spec[] = {
      {"name", FIELD_STRING, 0, CA_NAME_MAX, &name},
      {"type", FIELD_STRING, 0, 16, &type},
      {"url", FIELD_STRING, 0, CA_URL_MAX, &url},
      {"api_token", FIELD_STRING, 0, CA_API_TOKEN_MAX, &token},
      {"profile_id", FIELD_STRING, 0, CA_PROFILE_ID_MAX, &profile_id},
      {"ca_certificate", FIELD_STRING, 0, CA_CERTIFICATE_MAX, &ca_cert},
  };
  char *sealed = NULL, *plain = NULL;
  db_ca cur = {0}, updated = {0};
  json_t *body = body_object(req, rep, 0);
  if (body == NULL)
    goto out;
  int clear_cert = json_is_null(json_object_get(body, "ca_certificate"));
  if (body_fields(body, spec, 6, rep) != 0 || check_fields(rep, type, url, token, ca_cert) != 0)
    goto out;
  json_t *new_token = is_mask(token) ? NULL : token;
  if (load_ca(req, rep, &cur) != 0)
    goto out;

  const char *m_name = name ? json_string_value(name) : cur.name;
  const char *m_url = url ? json_string_value(url) : cur.url;
  const char *m_profile = profile_id ? json_string_value(profile_id) : cur.profile_id;
  const char *m_pem = clear_cert ? NULL : ca_cert ? json_string_value(ca_cert) : cur.ca_certificate;
  int revalidate = changes(url, cur.url) || changes(profile_id, cur.profile_id) ||
                   new_token != NULL || changes(ca_cert, cur.ca_certificate) ||
                   (clear_cert && cur.ca_certificate != NULL);
  if (revalidate) {
    const char *m_token;
    if (new_token != NULL) {
      m_token = json_string_value(new_token);
    } else {
      size_t len;
      if (crypto_open(req->app->master_key, cur.api_token_sealed, &plain, &len) != 0) {
        log_field f[] = {{"ca", cur.name, 0}, {"id", cur.id, 0}};
        log_event(LOG_ERROR, "CA API token cannot be decrypted: wrong master key?", f, 2);
        reply_error(rep, ERR_INTERNAL, NULL,
                    "The stored API token of this CA cannot be decrypted (was the master key "
                    "replaced?); send a new 'api_token'.");
        goto out;
      }
      m_token = plain;
    }
    if (validate_with_ca(req, rep, m_name, m_url, m_token, m_profile, m_pem) != 0)
      goto out;
  }

  db_ca_change change = {
      .name = name ? m_name : NULL,
      .url = url ? m_url : NULL,
      .profile_id = profile_id ? m_profile : NULL,
      .ca_certificate = ca_cert ? m_pem : NULL,
      .clear_ca_certificate = clear_cert,
  };
  if (new_token != NULL) {
    sealed = crypto_seal(req->app->master_key, json_string_value(new_token),
                         json_string_length(new_token));
    if (sealed == NULL) {
      reply_error(rep, ERR_INTERNAL, NULL, NULL);
      goto out;
    }
    change.api_token_sealed = sealed;
  }
  if (!change.name && !change.url && !change.profile_id && !change.ca_certificate &&
      !change.api_token_sealed && !clear_cert) {
    reply_json(rep, 200, ca_json(&cur)); /* nothing to change */
    goto out;
  }
  int rc = db_ca_update(req->db, cur.id, cur.updated_at, &change, &updated);
  if (rc < 0)
    reply_save_error(req, rep, rc, m_name);
  else if (rc == 0)
    reply_error(rep, ERR_CONFLICT, NULL,
                "The CA was changed or deleted by someone else meanwhile; read it and try again.");
  else
    reply_json(rep, 200, ca_json(&updated));
out:
  crypto_free_secret(plain);
  free(sealed);
  db_ca_release(&cur);
  db_ca_release(&updated);
  json_wipe_decref(body); /* its copy of the API token */
}

/* DELETE /api/v1/cas/{id} -> 204; 409 while profiles use it. */
void cas_delete(request *req, reply *rep) {
  if (param_uuid(req, rep, 0, "CA id") != 0)
    return;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  int using = 0;
  int rc = db_ca_delete(c, req->params[0], &using);
  if (rc == DB_HARD_ERROR && strcmp(db_last_sqlstate(c), "23503") == 0)
    reply_error(rep, ERR_CONFLICT, NULL,
                "A profile was just created with this CA; delete or move that profile first.");
  else if (rc < 0)
    reply_db_error(rep, rc);
  else if (rc == 0 && using > 0)
    reply_errorf(rep, ERR_CONFLICT, NULL,
                 "This CA is used by %d profile%s; delete them or move them to another CA first.",
                 using, using == 1 ? "" : "s");
  else if (rc == 0)
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No CA with id %s.", req->params[0]);
  else
    reply_empty(rep, 204);
}
