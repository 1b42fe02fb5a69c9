/* db_status.c: the status summary from deployment_counts and
 * deployment_failed_expiry (db/schema/0003_status_counts.sql explains
 * how "failed with a valid certificate" is read). */
#include "db_status.h"

#include "db_internal.h"

/* cond: "" overall, or a condition on profile_id = $1 (with AND). */
#define STATUS_SELECT(cond)                                                                        \
  "SELECT c.pending, c.verifying, c.verified, c.failed, e.later "                                  \
  "  + (SELECT count(*) FROM deployments WHERE status = 'failed' " cond                            \
  "     AND installed_not_after > now() AND installed_not_after < "                                \
  "     ((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC') "                    \
  "  - (SELECT count(*) FROM deployments WHERE status = 'failed' " cond                            \
  "     AND installed_not_before > now() AND installed_not_after > now()) "                        \
  "FROM (SELECT coalesce(sum(n) FILTER (WHERE status = 'pending'), 0)::bigint AS pending, "        \
  "  coalesce(sum(n) FILTER (WHERE status = 'verifying'), 0)::bigint AS verifying, "               \
  "  coalesce(sum(n) FILTER (WHERE status = 'verified'), 0)::bigint AS verified, "                 \
  "  coalesce(sum(n) FILTER (WHERE status = 'failed'), 0)::bigint AS failed "                      \
  "  FROM deployment_counts WHERE true " cond ") c, "                                              \
  "(SELECT coalesce(sum(n), 0)::bigint AS later FROM deployment_failed_expiry "                    \
  "  WHERE expires_on > (now() AT TIME ZONE 'UTC')::date " cond ") e"

/* No row for an unknown profile, so the caller can answer 404. */
#define PROFILE_EXISTS " WHERE EXISTS (SELECT 1 FROM profiles WHERE id = $1::uuid)"

DB_STMT(status_all, STATUS_SELECT(""));
DB_STMT(status_profile, STATUS_SELECT("AND profile_id = $1::uuid") PROFILE_EXISTS);

int db_status_counts(db_conn *c, const char *profile_id, db_status *out) {
  int rc;
  const char *p[] = {profile_id};
  PGresult *res =
      profile_id ? db_exec(c, &status_profile, 1, p, &rc) : db_exec(c, &status_all, 0, NULL, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0) {
    long long *fields[] = {&out->pending, &out->verifying, &out->verified, &out->failed,
                           &out->failed_with_valid_certificate};
    for (int i = 0; i < 5; i++)
      *fields[i] = db_col_int64(res, 0, i);
    out->total = out->pending + out->verifying + out->verified + out->failed;
  }
  PQclear(res);
  return n > 0 ? 1 : 0;
}
