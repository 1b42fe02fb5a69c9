/* db_enroll.c: enroll secret lookups and device enrollment. */
#include "db_enroll.h"

#include "db_internal.h"

DB_STMT(enroll_secret_find, "SELECT secret_hash FROM enroll_secrets WHERE secret_hash = $1");
DB_STMT(device_enroll,
        "INSERT INTO devices (serial, name, token_hash) VALUES ($1, $2, $3) "
        "ON CONFLICT (serial) DO UPDATE SET name = EXCLUDED.name, token_hash = EXCLUDED.token_hash "
        "RETURNING id, (xmax = 0)");

int db_enroll_secret_exists(db_conn *c, const char *secret_hash, char stored_hash[65]) {
  int rc;
  const char *p[] = {secret_hash};
  PGresult *res = db_exec(c, &enroll_secret_find, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    db_col_text(res, 0, 0, stored_hash, 65);
  PQclear(res);
  return n > 0 ? 1 : 0;
}

int db_device_enroll(db_conn *c, const char *serial, const char *name, const char *token_hash,
                     char id[40], int *created) {
  int rc;
  const char *p[] = {serial, name, token_hash};
  PGresult *res = db_exec(c, &device_enroll, 3, p, &rc);
  if (res == NULL)
    return rc;
  db_col_text(res, 0, 0, id, 40);
  *created = db_col_bool(res, 0, 1);
  PQclear(res);
  return 1;
}
