/*
 * errors.h: the one registry of API error codes.
 *
 * Each row is (enum name, HTTP status, snake_case code, default message).
 * Every error body the server sends has the same shape:
 *   {"error":{"code":"...","message":"...","field":"optional"}}
 * and is built from this table by reply_error() (reply.h).
 */
#ifndef CERTDEPLOY_ERRORS_H
#define CERTDEPLOY_ERRORS_H

#define API_ERRORS(X)                                                                              \
  X(ERR_INVALID_JSON, 400, "invalid_json", "The request body is not valid JSON.")                  \
  X(ERR_INVALID_REQUEST, 400, "invalid_request", "The request is not valid.")                      \
  X(ERR_UNAUTHORIZED, 401, "unauthorized",                                                         \
    "Missing or unknown token: send 'Authorization: Bearer <token>'.")                             \
  X(ERR_FORBIDDEN, 403, "forbidden", "This token's role may not do this.")                         \
  X(ERR_NOT_FOUND, 404, "not_found", "No such resource.")                                          \
  X(ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed", "This method is not allowed here.")         \
  X(ERR_CONFLICT, 409, "conflict", "The request conflicts with the current state.")                \
  X(ERR_STALE_GENERATION, 409, "stale_generation",                                                 \
    "This acknowledgement is for an older generation; check in again.")                            \
  X(ERR_DEPLOYMENT_FAILED, 409, "deployment_failed",                                               \
    "The deployment has failed; an admin must resend it.")                                         \
  X(ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large", "The request body is over 1 MiB.")            \
  X(ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",                                     \
    "Send the body as 'Content-Type: application/json'.")                                          \
  X(ERR_CA_VALIDATION_FAILED, 422, "ca_validation_failed", "The certificate authority refused.")   \
  X(ERR_RATE_LIMITED, 429, "rate_limited", "Too many failed attempts; wait and try again.")        \
  X(ERR_INTERNAL, 500, "internal", "Internal error; the server log has details.")                  \
  X(ERR_UNAVAILABLE, 503, "unavailable", "The database is unavailable; try again shortly.")

typedef enum api_error_code {
#define X(name, status, code, message) name,
  API_ERRORS(X)
#undef X
      API_ERROR_COUNT
} api_error_code;

/* HTTP status of an error code. */
int api_error_status(api_error_code e);
/* snake_case wire code ("not_found"). */
const char *api_error_name(api_error_code e);
/* Default human message, used when a handler gives none. */
const char *api_error_default_message(api_error_code e);

#endif
