/* db_metrics.c: the database gauges of GET /metrics (db_metrics.h). */
#include "db_metrics.h"

#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per profile: counts by status (counter stripes summed), failed with a
 * valid certificate (as db_status.c reads it: the expiry buckets after
 * today, plus failed certificates expiring later today, minus failed
 * certificates not valid yet; the last two are partial-index ranges), and
 * the soonest installed expiry (one probe of deployments_installed_expiry). */
DB_STMT(metrics_profiles,
        "SELECT p.name, coalesce(c.pending, 0), coalesce(c.verifying, 0), "
        "  coalesce(c.verified, 0), coalesce(c.failed, 0), "
        "  coalesce(e.later, 0) + coalesce(t.n, 0) - coalesce(f.n, 0), "
        "  floor(extract(epoch FROM (SELECT min(d.installed_not_after) FROM deployments d "
        "    WHERE d.profile_id = p.id AND d.installed_not_after IS NOT NULL)))::bigint "
        "FROM profiles p "
        "LEFT JOIN (SELECT profile_id, "
        "    coalesce(sum(n) FILTER (WHERE status = 'pending'), 0)::bigint AS pending, "
        "    coalesce(sum(n) FILTER (WHERE status = 'verifying'), 0)::bigint AS verifying, "
        "    coalesce(sum(n) FILTER (WHERE status = 'verified'), 0)::bigint AS verified, "
        "    coalesce(sum(n) FILTER (WHERE status = 'failed'), 0)::bigint AS failed "
        "  FROM deployment_counts GROUP BY profile_id) c ON c.profile_id = p.id "
        "LEFT JOIN (SELECT profile_id, sum(n)::bigint AS later FROM deployment_failed_expiry "
        "  WHERE expires_on > (now() AT TIME ZONE 'UTC')::date GROUP BY profile_id) e "
        "  ON e.profile_id = p.id "
        "LEFT JOIN (SELECT profile_id, count(*) AS n FROM deployments WHERE status = 'failed' "
        "  AND installed_not_after > now() AND installed_not_after < "
        "  ((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC' "
        "  GROUP BY profile_id) t ON t.profile_id = p.id "
        "LEFT JOIN (SELECT profile_id, count(*) AS n FROM deployments WHERE status = 'failed' "
        "  AND installed_not_before > now() AND installed_not_after > now() "
        "  GROUP BY profile_id) f ON f.profile_id = p.id "
        "ORDER BY p.name");

/* What db_claim_next would claim now (keep in step with DUE_CONDITION and
 * claim_next in db_worker.c), counted from a range of the partial index
 * deployments_due and capped. The range is next_attempt_at <= now(): work
 * that wants a CA request always has a time there (assignment, new
 * generation and CSR set now(), a retry its backoff), while NULL marks
 * the pending rows already issued and waiting for their device, which
 * may be many and are never due; claim_next's "IS NULL OR" would make
 * the scan read them all. */
DB_STMT(metrics_queue_depth,
        "SELECT count(*) FROM (SELECT 1 FROM deployments d JOIN profiles p ON p.id = d.profile_id "
        "  WHERE d.status = 'pending' AND d.issued_generation IS DISTINCT FROM d.generation "
        "  AND (p.key_mode = 'server' OR d.csr_generation = d.generation) "
        "  AND d.next_attempt_at <= now() "
        "  AND (d.claimed_until IS NULL OR d.claimed_until < now()) "
        "  LIMIT $1::int) due");

static int read_profiles(db_conn *c, db_metrics *out) {
  int rc;
  PGresult *res = db_exec(c, &metrics_profiles, 0, NULL, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    out->profiles = calloc((size_t)n, sizeof(*out->profiles));
    if (out->profiles == NULL) {
      PQclear(res);
      return DB_HARD_ERROR;
    }
  }
  for (int i = 0; i < n; i++) {
    db_metrics_profile *p = &out->profiles[i];
    db_col_text(res, i, 0, p->name, sizeof(p->name));
    long long *fields[] = {&p->pending, &p->verifying, &p->verified, &p->failed,
                           &p->failed_with_valid_certificate};
    for (int k = 0; k < 5; k++)
      *fields[k] = db_col_int64(res, i, 1 + k);
    p->has_expiry = !PQgetisnull(res, i, 6);
    if (p->has_expiry)
      p->soonest_expiry = db_col_int64(res, i, 6);
  }
  out->nprofiles = n;
  PQclear(res);
  return 1;
}

static int read_queue_depth(db_conn *c, db_metrics *out) {
  int rc;
  char cap[16];
  snprintf(cap, sizeof(cap), "%d", DB_METRICS_QUEUE_CAP);
  const char *p[] = {cap};
  PGresult *res = db_exec(c, &metrics_queue_depth, 1, p, &rc);
  if (res == NULL)
    return rc;
  out->queue_depth = PQntuples(res) > 0 ? db_col_int64(res, 0, 0) : 0;
  PQclear(res);
  return 1;
}

int db_metrics_read(db_conn *c, db_metrics *out) {
  memset(out, 0, sizeof(*out));
  int rc = read_profiles(c, out);
  if (rc > 0)
    rc = read_queue_depth(c, out);
  if (rc < 0)
    db_metrics_release(out);
  return rc;
}

void db_metrics_release(db_metrics *out) {
  if (out == NULL)
    return;
  free(out->profiles);
  memset(out, 0, sizeof(*out));
}
