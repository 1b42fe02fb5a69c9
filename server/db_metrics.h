/*
 * db_metrics.h: the gauges GET /metrics reads from the database at scrape
 * time. Each is a cheap statement whose cost does not grow with the number
 * of deployments: counts come from the trigger-kept counter tables
 * (db/schema/0003), expiries from one index probe per profile
 * (db/schema/0005), the queue depth from a capped count. Return values
 * follow db.h.
 */
#ifndef CERTDEPLOY_DB_METRICS_H
#define CERTDEPLOY_DB_METRICS_H

#include "db.h"

/* The queue depth is counted up to this many rows: a larger backlog reads
 * as this value ("at least"), so a scrape never scans a huge queue. */
#define DB_METRICS_QUEUE_CAP 10000

/* One profile's gauges. */
typedef struct db_metrics_profile {
  char name[132]; /* profiles.name (1..128 characters) */
  long long pending, verifying, verified, failed;
  /* failed deployments whose installed certificate is valid now, counted
   * the way db_status_counts() counts them */
  long long failed_with_valid_certificate;
  int has_expiry;           /* 0: no deployment holds an installed certificate */
  long long soonest_expiry; /* min(installed_not_after), Unix seconds, any status,
                               expired certificates included */
} db_metrics_profile;

/* Everything one scrape reads. Fill with db_metrics_read, free with
 * db_metrics_release. */
typedef struct db_metrics {
  db_metrics_profile *profiles; /* malloc'd, ordered by name; NULL when none */
  int nprofiles;
  /* deployments waiting for a CA request now: pending, nothing issued for
   * their generation, due, not leased, and (device key mode) with a CSR;
   * at most DB_METRICS_QUEUE_CAP */
  long long queue_depth;
} db_metrics;

/* Reads every profile's gauges and the queue depth into *out (overwritten,
 * not freed). Returns 1, or DB_SOFT_ERROR / DB_HARD_ERROR with *out empty. */
int db_metrics_read(db_conn *c, db_metrics *out);

/* Frees what out holds and empties it. Accepts NULL. */
void db_metrics_release(db_metrics *out);

#endif
