/*
 * db_fleet.h: fleet-wide reads: every deployment across devices, for
 * GET /api/v1/deployments and its CSV export. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_FLEET_H
#define CERTDEPLOY_DB_FLEET_H

#include "db.h"
#include "db_deployments.h"

/* A deployment with its device's serial and name. */
typedef struct db_fleet_deployment {
  db_deployment dep;       /* what deployment_json() shows; key_mode, common_name,
                              renew_* and the *_for_generation flags stay zero */
  char device_serial[513]; /* up to 128 characters of UTF-8 */
  char device_name[1025];  /* cut (on a character boundary) to fit */
  char created_at[40];     /* RFC 3339 UTC, microseconds: the list's sort key */
} db_fleet_deployment;

/* Which deployments a list shows: every filter given must hold (AND);
 * NULL fields do not filter. */
typedef struct db_fleet_filter {
  const char *status;         /* a status name */
  const char *profile_id;     /* a UUID */
  const char *failure_source; /* "server" or "device" */
  const char *expires_before; /* RFC 3339 time: the installed certificate's
                                 not_after is before it (none installed: out) */
  const char *q;              /* case-insensitive substring of the device's serial
                                 or name, taken literally (% _ \ are not patterns) */
} db_fleet_filter;

/* The position after which a page starts: the sort key and ids of the
 * last row seen; all NULL for the first page. */
typedef struct db_fleet_after {
  const char *created_at;
  const char *device_id;
  const char *profile_id;
} db_fleet_after;

/* Lists deployments in creation order (created_at, device_id,
 * profile_id), at most `limit`, after `after`, in one statement whose
 * plan is made for the filters given (each has an index). *rows is
 * malloc'd, at least one element; the caller frees it. Returns the count
 * or an error. */
int db_fleet_deployments(db_conn *c, const db_fleet_filter *f, const db_fleet_after *after,
                         int limit, db_fleet_deployment **rows);

#endif
