/*
 * db_enroll.h: device enrollment: the enroll secret a device presents,
 * and the device record and token it gets. Secrets and tokens are looked
 * up by their SHA-256 only; using the token later is db_device_auth.h's.
 * Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_ENROLL_H
#define CERTDEPLOY_DB_ENROLL_H

#include "db.h"

/* Returns 1 when an enroll secret with this hash exists, else 0. The
 * stored hash is copied to stored_hash for a constant-time comparison. */
int db_enroll_secret_exists(db_conn *c, const char *secret_hash, char stored_hash[65]);

/* Creates the device, or for a serial already enrolled replaces its name
 * and token hash (the old token stops working). Fills id and *created. */
int db_device_enroll(db_conn *c, const char *serial, const char *name, const char *token_hash,
                     char id[40], int *created);

#endif
