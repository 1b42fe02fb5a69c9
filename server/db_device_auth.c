/* db_device_auth.c: device token lookups and contact times. */
#include "db_device_auth.h"

#include "db_internal.h"

/* Read-only: the contact time is written later, in batches (db_device_touch). */
DB_STMT(device_authenticate,
        "SELECT " DB_DEVICE_IDENTITY_COLUMNS("devices") " FROM devices WHERE token_hash = $1");
/* Newest contact per device; never moves a time backwards (instances flush
 * their batches independently). */
DB_STMT(device_touch,
        "UPDATE devices d SET last_checkin_at = t.at "
        "FROM (SELECT u.id, now() - make_interval(secs => min(u.age)) AS at "
        "      FROM unnest($1::uuid[], $2::float8[]) AS u(id, age) GROUP BY u.id) t "
        "WHERE d.id = t.id AND (d.last_checkin_at IS NULL OR d.last_checkin_at < t.at)");

void db_read_device_identity(const PGresult *res, int row, db_device_identity *out) {
  db_col_text(res, row, 0, out->id, sizeof(out->id));
  db_col_text(res, row, 1, out->serial, sizeof(out->serial));
  db_col_text(res, row, 2, out->name, sizeof(out->name));
  db_col_text(res, row, DB_DEVICE_IDENTITY_TOKEN_HASH, out->token_hash, sizeof(out->token_hash));
  out->contact_due = db_col_bool(res, row, 4);
}

int db_device_authenticate(db_conn *c, const char *token_hash, db_device_identity *out) {
  int rc;
  const char *p[] = {token_hash};
  PGresult *res = db_exec(c, &device_authenticate, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    db_read_device_identity(res, 0, out);
  PQclear(res);
  return n > 0 ? 1 : 0;
}

int db_device_touch(db_conn *c, const char *ids, const char *ages) {
  const char *p[] = {ids, ages};
  return db_exec_affected(c, &device_touch, 2, p);
}
