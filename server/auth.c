/* auth.c: bearer tokens to principals. */
#include "auth.h"

#include "crypto.h"
#include "db_enroll.h"
#include "db_tokens.h"
#include "reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *auth_bearer(const char *header) {
  if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
    return NULL;
  const char *t = header + 7;
  while (*t == ' ')
    t++;
  if (*t == '\0' || strlen(t) > 512)
    return NULL;
  return t;
}

int auth_api(request *req, reply *rep) {
  const char *token = auth_bearer(req->authorization);
  if (token == NULL) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL,
                "Send an API token as 'Authorization: Bearer <token>'.");
    return -1;
  }
  if (strncmp(token, TOKEN_PREFIX_API, strlen(TOKEN_PREFIX_API)) != 0) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL,
                "This is not an API token (API tokens start with 'cdt_').");
    return -1;
  }
  char hash[65];
  crypto_sha256_hex(token, strlen(token), hash);
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return -1;
  db_token t;
  int rc = db_token_find_by_hash(c, hash, &t);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return -1;
  }
  if (rc == 0 || !crypto_equal(hash, t.token_hash, 64)) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL, "Unknown or deleted API token.");
    return -1;
  }
  req->who.kind = strcmp(t.role, "admin") == 0 ? PRINCIPAL_ADMIN : PRINCIPAL_OBSERVER;
  snprintf(req->who.id, sizeof(req->who.id), "%s", t.id);
  snprintf(req->who.name, sizeof(req->who.name), "%s", t.name);
  snprintf(req->who.actor, sizeof(req->who.actor), "%s:%s",
           req->who.kind == PRINCIPAL_ADMIN ? "admin" : "observer", t.name);
  return 0;
}

int auth_device(request *req, reply *rep) {
  const char *token = auth_bearer(req->authorization);
  if (token == NULL) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL,
                "Send the device token as 'Authorization: Bearer <token>'; enroll first.");
    return -1;
  }
  if (strncmp(token, TOKEN_PREFIX_DEVICE, strlen(TOKEN_PREFIX_DEVICE)) != 0) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL,
                "This is not a device token (device tokens start with 'cdd_').");
    return -1;
  }
  char hash[65];
  crypto_sha256_hex(token, strlen(token), hash);
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return -1;
  db_device_identity dev;
  int rc = db_device_authenticate(c, hash, &dev);
  if (rc < 0) {
    reply_db_error(rep, rc);
    return -1;
  }
  if (rc == 0 || !crypto_equal(hash, dev.token_hash, 64)) {
    reply_error(rep, ERR_UNAUTHORIZED, NULL,
                "Unknown device token: the device was deleted or enrolled again; enroll it.");
    return -1;
  }
  req->who.kind = PRINCIPAL_DEVICE;
  snprintf(req->who.id, sizeof(req->who.id), "%s", dev.id);
  snprintf(req->who.name, sizeof(req->who.name), "%s", dev.serial);
  snprintf(req->who.actor, sizeof(req->who.actor), "device:%s", dev.id);
  snprintf(req->who.device_name, sizeof(req->who.device_name), "%s", dev.name);
  return 0;
}
