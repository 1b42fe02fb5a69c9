/* db_keypool.c: statements on key_pool. */
#include "db_keypool.h"

#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>

DB_STMT(keypool_take, "DELETE FROM key_pool WHERE id = (SELECT id FROM key_pool ORDER BY id "
                      "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING key_sealed");
DB_STMT(keypool_put, "INSERT INTO key_pool (key_sealed) VALUES ($1)");
DB_STMT(keypool_count, "SELECT count(*) FROM key_pool");
/* Server-key renewals that become due within $1 hours (deployments_renew).
 * Those already due are left out: the issue threads are drawing keys for
 * them right now, and making more at the same time would slow them down. */
DB_STMT(keypool_upcoming,
        "SELECT count(*) FROM deployments d JOIN profiles p ON p.id = d.profile_id "
        "WHERE d.status = 'verified' AND d.renew_at > now() "
        "AND d.renew_at <= now() + make_interval(hours => $1::int) AND p.key_mode = 'server'");

int db_keypool_take(db_conn *c, char **sealed) {
  int rc;
  *sealed = NULL;
  PGresult *res = db_exec(c, &keypool_take, 0, NULL, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    *sealed = db_col_dup(res, 0, 0);
  PQclear(res);
  return n > 0 && *sealed ? 1 : 0;
}

int db_keypool_put(db_conn *c, const char *sealed) {
  int rc;
  const char *p[] = {sealed};
  PGresult *res = db_exec(c, &keypool_put, 1, p, &rc);
  if (res == NULL)
    return rc;
  PQclear(res);
  return 1;
}

int db_keypool_count(db_conn *c) {
  return db_exec_count(c, &keypool_count, 0, NULL);
}

int db_keypool_upcoming(db_conn *c, int hours) {
  char h[16];
  snprintf(h, sizeof(h), "%d", hours);
  const char *p[] = {h};
  return db_exec_count(c, &keypool_upcoming, 1, p);
}
