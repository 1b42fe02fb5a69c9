/* db_devices.c: admin reads of devices, device deletion, history. */
#include "db_devices.h"

#include "db_generation.h"
#include "db_internal.h"

#include <stdio.h>

/* Counts come from a lateral aggregate over the device's deployments (the
 * primary key's device_id prefix), computed only for the rows a page
 * reads; `matching` counts those that pass the status/profile filter
 * ($3, $4), so the filter costs no second scan. */
#define DEVICE_SELECT(status, profile)                                                             \
  "SELECT d.id, d.serial, d.name, " DB_TS_US("d.enrolled_at") ", " DB_TS(                          \
      "d.last_checkin_at") ", c.pending, c.verifying, c.verified, c.failed FROM devices d "        \
                           "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.status = "         \
                           "'pending')::int AS pending, "                                          \
                           "  count(*) FILTER (WHERE x.status = 'verifying')::int AS verifying, "  \
                           "  count(*) FILTER (WHERE x.status = 'verified')::int AS verified, "    \
                           "  count(*) FILTER (WHERE x.status = 'failed')::int AS failed, "        \
                           "  count(*) FILTER (WHERE (" status " IS NULL OR x.status = " status    \
                           ") "                                                                    \
                           "    AND (" profile " IS NULL OR x.profile_id = " profile               \
                           ")) AS matching "                                                       \
                           "  FROM deployments x WHERE x.device_id = d.id) c "

/* $5, escaped so LIKE takes it literally, inside %...%. */
#define Q_PATTERN                                                                                  \
  "('%' || replace(replace(replace($5::text, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"

DB_STMT(
    device_list,
    DEVICE_SELECT(
        "$3::deployment_status",
        "$4::uuid") "WHERE (d.enrolled_at, d.id) > (coalesce($1::timestamptz, '-infinity'), "
                    "  coalesce($2::uuid, '00000000-0000-0000-0000-000000000000')) "
                    "AND ($5::text IS NULL OR d.serial ILIKE " Q_PATTERN " ESCAPE '\\' "
                    "  OR d.name ILIKE " Q_PATTERN " ESCAPE '\\') "
                    "AND (($3::deployment_status IS NULL AND $4::uuid IS NULL) OR c.matching > 0) "
                    "ORDER BY d.enrolled_at, d.id LIMIT $6::int");

DB_STMT(device_get, DEVICE_SELECT("NULL::deployment_status", "NULL::uuid") "WHERE d.id = $1::uuid");

/* The statement sees the deployments as they were before the delete
 * cascades, so each leaves its last status in history. */
DB_STMT(device_delete,
        "WITH del AS (DELETE FROM devices WHERE id = $1::uuid RETURNING id), "
        "hist AS (INSERT INTO " DB_HISTORY_COLUMNS " SELECT x.device_id, x.profile_id, $2, "
        "  'device_deleted', x.status, NULL, x.generation, 'device deleted; history kept' "
        "  FROM deployments x JOIN del ON x.device_id = del.id RETURNING 1) "
        "SELECT (SELECT count(*) FROM del)::int, (SELECT count(*) FROM hist)::int");

DB_STMT(history_list, "SELECT h.id, " DB_TS_US(
                          "h.at") ", h.actor, h.event, h.from_status, h.to_status, "
                                  "h.generation, h.detail FROM deployment_history h "
                                  "WHERE h.device_id = $1::uuid AND h.profile_id = $2::uuid "
                                  "AND h.id > coalesce($3::bigint, 0) ORDER BY h.id LIMIT $4::int");

static int row_to_device(const PGresult *res, int row, void *out) {
  db_device *d = out;
  db_col_text(res, row, 0, d->id, sizeof(d->id));
  db_col_text(res, row, 1, d->serial, sizeof(d->serial));
  db_col_text(res, row, 2, d->name, sizeof(d->name));
  db_col_text(res, row, 3, d->enrolled_at, sizeof(d->enrolled_at));
  db_col_text(res, row, 4, d->last_checkin_at, sizeof(d->last_checkin_at));
  d->pending = db_col_int(res, row, 5);
  d->verifying = db_col_int(res, row, 6);
  d->verified = db_col_int(res, row, 7);
  d->failed = db_col_int(res, row, 8);
  return 0;
}

static const db_row_reader device_reader = {sizeof(db_device), row_to_device, NULL};

int db_device_list(db_conn *c, const db_device_filter *f, const char *after_enrolled,
                   const char *after_id, int limit, db_device **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {after_enrolled, after_id, f->status, f->profile_id, f->q, lim};
  void *found;
  int n = db_exec_rows(c, &device_list, 6, p, &device_reader, &found);
  *rows = found;
  return n;
}

int db_device_get(db_conn *c, const char *id, db_device *out) {
  int rc;
  const char *p[] = {id};
  PGresult *res = db_exec(c, &device_get, 1, p, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  if (n > 0)
    row_to_device(res, 0, out);
  PQclear(res);
  return n > 0 ? 1 : 0;
}

int db_device_delete(db_conn *c, const char *id, const char *actor) {
  const char *p[] = {id, actor};
  return db_exec_count(c, &device_delete, 2, p);
}

static int row_to_event(const PGresult *res, int row, void *out) {
  db_history_event *e = out;
  db_col_text(res, row, 0, e->id, sizeof(e->id));
  db_col_text(res, row, 1, e->at, sizeof(e->at));
  db_col_text(res, row, 2, e->actor, sizeof(e->actor));
  db_col_text(res, row, 3, e->event, sizeof(e->event));
  db_col_text(res, row, 4, e->from, sizeof(e->from));
  db_col_text(res, row, 5, e->to, sizeof(e->to));
  e->generation = db_col_int(res, row, 6);
  db_col_text(res, row, 7, e->detail, sizeof(e->detail));
  return 0;
}

static const db_row_reader event_reader = {sizeof(db_history_event), row_to_event, NULL};

int db_history_list(db_conn *c, const char *device_id, const char *profile_id, const char *after_id,
                    int limit, db_history_event **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *p[] = {device_id, profile_id, after_id, lim};
  void *found;
  int n = db_exec_rows(c, &history_list, 4, p, &event_reader, &found);
  *rows = found;
  return n;
}
