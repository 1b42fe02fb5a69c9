/* db_migrate.c: schema migrations under an advisory lock. */
#include "db_migrate.h"

#include "db_internal.h"
#include "log.h"
#include "schema.h"

#include <string.h>

/* Any fixed number both instances agree on; "cdmigrat" in ASCII. */
#define MIGRATION_LOCK "7234316138370674292"

DB_STMT(migration_applied, "SELECT 1 FROM schema_migrations WHERE version = $1");
DB_STMT(migration_record, "INSERT INTO schema_migrations (version) VALUES ($1)");

static int applied(db_conn *c, const char *version, int *rc) {
  const char *p[] = {version};
  PGresult *res = db_exec(c, &migration_applied, 1, p, rc);
  if (res == NULL)
    return -1;
  int n = PQntuples(res);
  PQclear(res);
  return n;
}

static int apply_one(db_conn *c, const schema_migration *m) {
  int rc;
  if (db_begin(c) != 0)
    return -1;
  if (db_exec_simple(c, m->sql) != 0) {
    log_fail("migration %s failed: %s", m->version, PQerrorMessage(c->pg));
    db_rollback(c);
    return -1;
  }
  const char *p[] = {m->version};
  PGresult *res = db_exec(c, &migration_record, 1, p, &rc);
  if (res == NULL) {
    db_rollback(c);
    return -1;
  }
  PQclear(res);
  if (db_commit(c) != 0)
    return -1;
  log_msg(LOG_INFO, "applied migration %s", m->version);
  return 0;
}

int db_migrate(const char *conninfo) {
  int ret = -1, rc;
  db_conn *c = db_connect(conninfo);
  if (c == NULL)
    return -1;
  if (db_exec_simple(c, "SET client_min_messages = warning") != 0 ||
      db_exec_simple(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")") != 0)
    goto out;
  if (db_exec_simple(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version text PRIMARY KEY,"
                        " applied_at timestamptz NOT NULL DEFAULT now())") != 0)
    goto unlock;
  for (int i = 0; i < schema_migration_count; i++) {
    int n = applied(c, schema_migrations[i].version, &rc);
    if (n < 0)
      goto unlock;
    if (n == 0 && apply_one(c, &schema_migrations[i]) != 0)
      goto unlock;
  }
  ret = 0;
unlock:
  db_exec_simple(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")");
out:
  db_disconnect(&c);
  return ret;
}
