/* db_assignments.c: deployments created, removed, and requeued per profile. */
#include "db_assignments.h"

#include "db_generation.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

/* New deployments and their "assigned" history rows, in one statement. */
#define ASSIGN_FROM(selection)                                                                     \
  "WITH ins AS (INSERT INTO deployments (device_id, profile_id, next_attempt_at) " selection       \
  " ON CONFLICT DO NOTHING RETURNING device_id, profile_id, generation) "                          \
  "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, $2, 'assigned', NULL, "        \
  "'pending', generation, 'profile assigned' FROM ins"

DB_STMT(assign_all, ASSIGN_FROM("SELECT d.id, $1::uuid, now() FROM devices d"));
DB_STMT(assign_listed,
        ASSIGN_FROM("SELECT d.id, $1::uuid, now() FROM devices d WHERE d.id = ANY($3::uuid[])"));
DB_STMT(assign_to_device, ASSIGN_FROM("SELECT $1::uuid, p.id, now() FROM profiles p "
                                      "WHERE p.assign_all"));

/* The old rows are read under lock with renamed columns, so the SET list
 * (which reads the target's own columns) stays unambiguous. */
DB_STMT(profile_requeue,
        "WITH old AS (SELECT device_id AS dev, status AS old_status, generation AS old_generation "
        "             FROM deployments WHERE profile_id = $1 FOR UPDATE), "
        "upd AS (UPDATE deployments d SET " DB_NEW_GENERATION_SET ", "
        "        detail = 'profile subject edited', updated_at = now() FROM old "
        "        WHERE d.profile_id = $1 AND d.device_id = old.dev AND old.old_status <> 'failed' "
        "        RETURNING d.device_id, d.generation, old.old_status), "
        "h1 AS (INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, $1, $2, 'profile_edited', "
        "       old_status, 'pending', generation, 'profile subject edited; new generation' "
        "       FROM upd RETURNING 1), "
        "h2 AS (INSERT INTO " DB_HISTORY_COLUMNS " SELECT dev, $1, $2, 'profile_edited', "
        "       'failed', 'failed', old_generation, 'ignored: the deployment is failed until an "
        "admin resends it' FROM old WHERE old_status = 'failed' RETURNING 1) "
        "SELECT (SELECT count(*) FROM h1), (SELECT count(*) FROM h2)");

DB_STMT(unassign,
        "WITH del AS (DELETE FROM deployments WHERE profile_id = $1 AND device_id = $2 "
        "             RETURNING device_id, profile_id, status, generation) "
        "INSERT INTO " DB_HISTORY_COLUMNS " SELECT device_id, profile_id, $3, 'unassigned', "
        "status, NULL, generation, 'profile unassigned; history kept' FROM del");

DB_STMT(devices_missing,
        "SELECT i FROM unnest($1::uuid[]) WITH ORDINALITY AS l(id, i) "
        "WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = l.id) ORDER BY i LIMIT 1");

int db_assign_all_devices(db_conn *c, const char *profile_id, const char *actor) {
  const char *p[] = {profile_id, actor};
  return db_exec_affected(c, &assign_all, 2, p);
}

/* A PostgreSQL array literal of validated UUIDs; malloc'd. */
static char *uuid_array(const char *const *ids, int n) {
  char *array = malloc(3 + (size_t)n * 38);
  if (array == NULL)
    return NULL;
  size_t off = 0;
  array[off++] = '{';
  for (int i = 0; i < n; i++) {
    if (i)
      array[off++] = ',';
    memcpy(array + off, ids[i], 36); /* callers pass validated UUIDs */
    off += 36;
  }
  array[off++] = '}';
  array[off] = '\0';
  return array;
}

int db_devices_first_missing(db_conn *c, const char *const *device_ids, int n, int *index) {
  int rc;
  char *array = uuid_array(device_ids, n);
  if (array == NULL)
    return DB_HARD_ERROR;
  const char *p[] = {array};
  PGresult *res = db_exec(c, &devices_missing, 1, p, &rc);
  free(array);
  if (res == NULL)
    return rc;
  int found = PQntuples(res) > 0;
  if (found)
    *index = db_col_int(res, 0, 0) - 1;
  PQclear(res);
  return found;
}

int db_assign_devices(db_conn *c, const char *profile_id, const char *const *device_ids, int n,
                      const char *actor) {
  char *array = uuid_array(device_ids, n);
  if (array == NULL)
    return DB_HARD_ERROR;
  const char *p[] = {profile_id, actor, array};
  int rc = db_exec_affected(c, &assign_listed, 3, p);
  free(array);
  return rc;
}

int db_assign_profiles_to_device(db_conn *c, const char *device_id, const char *actor) {
  const char *p[] = {device_id, actor};
  return db_exec_affected(c, &assign_to_device, 2, p);
}

int db_profile_requeue(db_conn *c, const char *profile_id, const char *actor, int *requeued,
                       int *failed_untouched) {
  int rc;
  const char *p[] = {profile_id, actor};
  PGresult *res = db_exec(c, &profile_requeue, 2, p, &rc);
  if (res == NULL)
    return rc;
  *requeued = db_col_int(res, 0, 0);
  *failed_untouched = db_col_int(res, 0, 1);
  PQclear(res);
  return 0;
}

int db_unassign(db_conn *c, const char *profile_id, const char *device_id, const char *actor) {
  const char *p[] = {profile_id, device_id, actor};
  return db_exec_affected(c, &unassign, 3, p);
}
