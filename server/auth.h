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
  char id[40];    /* token id (API) or device id (device) */
  char name[160]; /* token name (API) or device serial */
  char actor[200];/* history/audit actor: "admin:<name>", "device:<id>" */
  char device_name[130]; /* devices: the name given at enrollment */
} principal;

/* Prefixes tell the kinds of secret apart before any lookup. */
#define TOKEN_PREFIX_API "cdt_"
#define TOKEN_PREFIX_DEVICE "cdd_"
#define TOKEN_PREFIX_ENROLL "cde_"

struct request;
struct reply;

/* Resolves the request's bearer token to an API principal (admin or
 * observer). Returns 0 and fills req->who; on failure sets rep (401, or
 * 503 when the database is down) and returns -1. */
int auth_api(struct request *req, struct reply *rep);

/* Same for a device token (prefix cdd_): fills req->who with the device
 * (id, serial, actor "device:<id>") and records the contact time. */
int auth_device(struct request *req, struct reply *rep);

/* 0 when the client address may try a credential now; else sets rep to
 * 429 with Retry-After and returns -1. */
int auth_throttled(struct request *req, struct reply *rep);

/* Extracts the token of an "Authorization: Bearer <token>" header value.
 * Returns a pointer into header, or NULL when absent or malformed. */
const char *auth_bearer(const char *header);

#endif
