/*
 * db_device_auth.h: a device's identity from its token, and the contact
 * times its check-ins leave. Tokens are looked up by their SHA-256 only.
 * Return values follow db.h. Enrollment, which hands the token out, is
 * db_enroll.h's.
 */
#ifndef CERTDEPLOY_DB_DEVICE_AUTH_H
#define CERTDEPLOY_DB_DEVICE_AUTH_H

#include "db.h"

/* A device's contact time (last_checkin_at) is rewritten only when the
 * stored one is older than this: it is accurate to a minute, and a device
 * that checks in more often costs no write (checkin_touch.h). */
#define DB_CONTACT_RESOLUTION_SECONDS 60

typedef struct db_device_identity {
  char id[40];
  char serial[130];
  char name[130];
  char token_hash[65];
  int contact_due; /* no contact time stored, or one older than the resolution */
} db_device_identity;

/* Finds the device holding a token hash (read-only; see checkin_touch.h
 * for the contact time). Returns 1 found, 0 none. */
int db_device_authenticate(db_conn *c, const char *token_hash, db_device_identity *out);

/* Records contact times in one statement: ids is a PostgreSQL array
 * literal of device UUIDs ("{...}"), ages one of the same length giving,
 * for each, the seconds since that contact. A device's time only moves
 * forward. Returns the devices updated. */
int db_device_touch(db_conn *c, const char *ids, const char *ages);

#endif
