/*
 * db_devices.h: the admin's view of enrolled devices (list, read, delete)
 * and the history of their deployments. Enrollment and check-in are the
 * device API's (db_enroll.h, db_device_auth.h). Return values follow
 * db.h.
 */
#ifndef CERTDEPLOY_DB_DEVICES_H
#define CERTDEPLOY_DB_DEVICES_H

#include "db.h"

#define DEVICE_Q_MAX 128 /* longest search text, in bytes */

/* A device with the number of its deployments in each status. */
typedef struct db_device {
  char id[40];
  char serial[513];         /* up to 128 characters of UTF-8 */
  char name[1025];          /* cut (on a character boundary) to fit */
  char enrolled_at[40];     /* RFC 3339 UTC, microseconds (the list's sort key) */
  char last_checkin_at[24]; /* RFC 3339 UTC, "" when it never checked in */
  int pending, verifying, verified, failed;
} db_device;

/* Which devices a list shows; NULL fields do not filter. */
typedef struct db_device_filter {
  const char *status;     /* a status name: devices with a deployment in it */
  const char *profile_id; /* a UUID: devices with a deployment of that profile */
  const char *q;          /* case-insensitive substring of serial or name, taken
                             literally (% _ \ are not patterns) */
} db_device_filter;

/* Lists devices in enrollment order, at most `limit`, after the cursor
 * (enrolled_at,id of the last row seen; both NULL to start). With both
 * status and profile_id set, the device's deployment of that profile must
 * be in that status. One statement per page. *rows is malloc'd; the
 * caller frees it. Returns the count or an error. */
int db_device_list(db_conn *c, const db_device_filter *f, const char *after_enrolled,
                   const char *after_id, int limit, db_device **rows);

/* One device. Returns 1 found, 0 none. */
int db_device_get(db_conn *c, const char *id, db_device *out);

/* Deletes a device; its deployments go with it (each leaves a
 * "device_deleted" history row by actor) and so does its token. History
 * is kept. Returns 1 deleted, 0 not found. */
int db_device_delete(db_conn *c, const char *id, const char *actor);

/* One row of deployment history. */
typedef struct db_history_event {
  char id[24]; /* decimal, ascending: the history's keyset cursor */
  char at[40]; /* RFC 3339 UTC, microseconds */
  char actor[256];
  char event[64];
  char from[16]; /* status name, "" when none */
  char to[16];   /* status name, "" when none */
  int generation;
  char detail[2048];
} db_history_event;

/* The history of one device/profile pair, oldest first, at most `limit`,
 * after the event id after_id (NULL to start). History outlives the
 * deployment and the device. *rows is malloc'd; the caller frees it.
 * Returns the count or an error. */
int db_history_list(db_conn *c, const char *device_id, const char *profile_id, const char *after_id,
                    int limit, db_history_event **rows);

#endif
