/* auth.c: bearer tokens to principals. */
#include "auth.h"

#include "checkin_touch.h"
#include "crypto.h"
#include "db_device_auth.h"
#include "db_tokens.h"
#include "ratelimit.h"
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

int auth_throttled(request *req, reply *rep) {
  long wait = ratelimit_blocked(req->client_ip);
  if (wait == 0)
    return 0;
  reply_errorf(rep, ERR_RATE_LIMITED, NULL, "Too many failed attempts from %s; try again in %ld s.",
               req->client_ip, wait);
  rep->retry_after = wait;
  return -1;
}

/* A refused credential: counts toward the address's limit. */
static int refuse(request *req, reply *rep, const char *message) {
  ratelimit_failure(req->client_ip);
  reply_error(rep, ERR_UNAUTHORIZED, NULL, message);
  return -1;
}

int auth_api(request *req, reply *rep) {
  if (auth_throttled(req, rep) != 0)
    return -1;
  const char *token = auth_bearer(req->authorization);
  if (token == NULL)
    return refuse(req, rep, "Send an API token as 'Authorization: Bearer <token>'.");
  if (strncmp(token, TOKEN_PREFIX_API, strlen(TOKEN_PREFIX_API)) != 0)
    return refuse(req, rep, "This is not an API token (API tokens start with 'cdt_').");
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
  if (rc == 0 || !crypto_equal(hash, t.token_hash, 64))
    return refuse(req, rep, "Unknown or deleted API token.");
  req->who.kind = strcmp(t.role, "admin") == 0 ? PRINCIPAL_ADMIN : PRINCIPAL_OBSERVER;
  snprintf(req->who.id, sizeof(req->who.id), "%s", t.id);
  snprintf(req->who.name, sizeof(req->who.name), "%s", t.name);
  snprintf(req->who.actor, sizeof(req->who.actor), "%s:%s",
           req->who.kind == PRINCIPAL_ADMIN ? "admin" : "observer", t.name);
  return 0;
}

int auth_device_token(request *req, reply *rep, char hash[65]) {
  if (auth_throttled(req, rep) != 0)
    return -1;
  const char *token = auth_bearer(req->authorization);
  if (token == NULL)
    return refuse(req, rep,
                  "Send the device token as 'Authorization: Bearer <token>'; enroll first.");
  if (strncmp(token, TOKEN_PREFIX_DEVICE, strlen(TOKEN_PREFIX_DEVICE)) != 0)
    return refuse(req, rep, "This is not a device token (device tokens start with 'cdd_').");
  crypto_sha256_hex(token, strlen(token), hash);
  return 0;
}

int auth_device_accept(request *req, reply *rep, const char *hash, int found,
                       const db_device_identity *dev) {
  if (found < 0) {
    reply_db_error(rep, found);
    return -1;
  }
  if (found == 0 || !crypto_equal(hash, dev->token_hash, 64))
    return refuse(req, rep,
                  "Unknown device token: the device was deleted or enrolled again; enroll it.");
  if (dev->contact_due)
    checkin_touch_record(req->app->touches, dev->id);
  req->who.kind = PRINCIPAL_DEVICE;
  snprintf(req->who.id, sizeof(req->who.id), "%s", dev->id);
  snprintf(req->who.name, sizeof(req->who.name), "%s", dev->serial);
  snprintf(req->who.actor, sizeof(req->who.actor), "device:%s", dev->id);
  snprintf(req->who.device_name, sizeof(req->who.device_name), "%s", dev->name);
  return 0;
}

int auth_device(request *req, reply *rep) {
  char hash[65];
  if (auth_device_token(req, rep, hash) != 0)
    return -1;
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return -1;
  db_device_identity dev;
  int found = db_device_authenticate(c, hash, &dev);
  return auth_device_accept(req, rep, hash, found, &dev);
}
