/*
 * auth.h: who is calling. API tokens (roles admin, observer) and device
 * tokens are bearer tokens stored only as SHA-256 hashes.
 */
#ifndef CERTDEPLOY_AUTH_H
#define CERTDEPLOY_AUTH_H

typedef enum principal_kind {
  PRINCIPAL_NONE = 0,
  PRINCIPAL_ADMIN,
  PRINCIPAL_OBSERVER,
  PRINCIPAL_DEVICE,
} principal_kind;

typedef struct principal {
  principal_kind kind;
  char id[40];           /* token id (API) or device id (device) */
  char name[160];        /* token name (API) or device serial */
  char actor[200];       /* history/audit actor: "admin:<name>", "device:<id>" */
  char device_name[130]; /* devices: the name given at enrollment */
} principal;

/* Prefixes tell the kinds of secret apart before any lookup. */
#define TOKEN_PREFIX_API "cdt_"
#define TOKEN_PREFIX_DEVICE "cdd_"
#define TOKEN_PREFIX_ENROLL "cde_"

struct request;
struct reply;
struct db_device_identity;

/* Resolves the request's bearer token to an API principal (admin or
 * observer). Returns 0 and fills req->who; on failure sets rep (401, or
 * 503 when the database is down) and returns -1. */
int auth_api(struct request *req, struct reply *rep);

/* Same for a device token (prefix cdd_): fills req->who with the device
 * (id, serial, actor "device:<id>") and notes the contact time
 * (checkin_touch.h). It is auth_device_token, the lookup, then
 * auth_device_accept; a handler that finds the device in its own first
 * query (the check-in: one round trip) runs the two halves itself. */
int auth_device(struct request *req, struct reply *rep);

/* The first half: throttle, header and prefix checks; fills hash with
 * the token's SHA-256 (hex) to look up. 0, or -1 with rep set. */
int auth_device_token(struct request *req, struct reply *rep, char hash[65]);

/* The second half, given what the lookup of hash returned (found: 1, 0
 * or a DB_*_ERROR) and the device it found. 0, or -1 with rep set. */
int auth_device_accept(struct request *req, struct reply *rep, const char *hash, int found,
                       const struct db_device_identity *dev);

/* 0 when the client address may try a credential now; else sets rep to
 * 429 with Retry-After and returns -1. */
int auth_throttled(struct request *req, struct reply *rep);

/* Extracts the token of an "Authorization: Bearer <token>" header value.
 * Returns a pointer into header, or NULL when absent or malformed. */
const char *auth_bearer(const char *header);

#endif
