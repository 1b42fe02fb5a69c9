/*
 * db_status.h: deployment counts by status, overall or for one profile,
 * read from the counters that triggers keep (db/schema/0003): the cost
 * does not grow with the number of deployments. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_STATUS_H
#define CERTDEPLOY_DB_STATUS_H

#include "db.h"

typedef struct db_status {
  long long pending, verifying, verified, failed;
  /* failed deployments whose installed certificate is valid now
   * (not_before <= now < not_after): the device still works */
  long long failed_with_valid_certificate;
  long long total; /* the four statuses together */
} db_status;

/* Fills out with the counts of every deployment (profile_id NULL) or of
 * one profile's (a UUID), as of one snapshot. Returns 1, 0 when there is
 * no such profile, or an error. */
int db_status_counts(db_conn *c, const char *profile_id, db_status *out);

#endif
