/* routes_deployments.c: /api/v1/deployments — every deployment of the
 * fleet, filtered, as pages of JSON or (Accept: text/csv) one CSV export
 * of all that match. */
#include "handlers.h"

#include "app.h"
#include "csv.h"
#include "db_devices.h"
#include "db_fleet.h"
#include "deployment_json.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "query_params.h"
#include "reply.h"
#include "reply_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deployments per query of an export: a piece of some 130 KiB of CSV,
 * 1,200 queries for 300,000 deployments. A page's rows are read into
 * fixed-size structs (some 5 KiB each) on whichever handler thread runs
 * the fill, and each thread's malloc arena keeps what it freed: at 300,000
 * rows, pages of 100, 200 and 500 measured 65,000, 85,000 and 110,000 rows
 * a second with the server's RSS at 23, 32 and 60 MB, the same after an
 * export a third as long. */
#define EXPORT_PAGE 250

/* The filters of one request. */
typedef struct fleet_query {
  db_fleet_filter f;
  char expires_before[QUERY_TIME_LEN]; /* f.expires_before points here */
} fleet_query;

/* Reads ?status=&profile_id=&failure_source=&expires_before=&q= into fq.
 * Returns 0, or -1 with rep set to 400 naming the parameter. */
static int filter_from_request(const request *req, reply *rep, fleet_query *fq) {
  static const char *const sources[] = {"server", "device", NULL};
  int given = 0;
  memset(fq, 0, sizeof(*fq));
  if (query_status(req, rep, &fq->f.status) != 0 ||
      query_uuid(req, rep, "profile_id", &fq->f.profile_id) != 0 ||
      query_choice(req, rep, "failure_source", sources, &fq->f.failure_source) != 0 ||
      query_time(req, rep, "expires_before", fq->expires_before, &given) != 0 ||
      query_search(req, rep, "q", DEVICE_Q_MAX, &fq->f.q) != 0)
    return -1;
  fq->f.expires_before = given ? fq->expires_before : NULL;
  return 0;
}

static json_t *fleet_json(const void *row) {
  const db_fleet_deployment *r = row;
  json_t *j = deployment_json(&r->dep);
  json_object_set_new(j, "device_serial", json_string(r->device_serial));
  json_object_set_new(j, "device_name", json_string(r->device_name));
  return j;
}

static json_t *fleet_cursor(const void *row, const void *unused) {
  const db_fleet_deployment *r = row;
  (void)unused;
  return page_cursor2(r->created_at, r->dep.device_id, r->dep.profile_id);
}

static const page_list fleet_page = {"deployments", sizeof(db_fleet_deployment), fleet_json,
                                     fleet_cursor};

/* ---- the CSV export ---------------------------------------------------- */

/* Every column: the deployment object's fields, flattened. */
static const char *const csv_columns[] = {
    "device_id",
    "device_serial",
    "device_name",
    "profile_id",
    "profile_name",
    "status",
    "failure_source",
    "detail",
    "attempts",
    "next_attempt_at",
    "generation",
    "updated_at",
    "issued_serial",
    "issued_not_before",
    "issued_not_after",
    "issued_sha256",
    "issued_valid",
    "installed_serial",
    "installed_not_before",
    "installed_not_after",
    "installed_sha256",
    "installed_valid",
};

static void csv_cert(csv_writer *w, const db_cert *c) {
  csv_field(w, c->present ? c->serial : "");
  csv_field(w, c->present ? c->not_before : "");
  csv_field(w, c->present ? c->not_after : "");
  csv_field(w, c->present ? c->sha256 : "");
  csv_field(w, c->present ? (c->valid ? "true" : "false") : "");
}

static void csv_row(csv_writer *w, const db_fleet_deployment *r) {
  const db_deployment *d = &r->dep;
  csv_field(w, d->device_id);
  csv_text(w, r->device_serial);
  csv_text(w, r->device_name);
  csv_field(w, d->profile_id);
  csv_text(w, d->profile_name);
  csv_field(w, state_status_name(d->status));
  csv_field(w, d->failure_source);
  csv_text(w, d->detail);
  csv_int(w, d->attempts);
  csv_field(w, d->next_attempt_at);
  csv_int(w, d->generation);
  csv_field(w, d->updated_at);
  csv_cert(w, &d->issued);
  csv_cert(w, &d->installed);
  csv_end_row(w);
}

/* An export's state between its pieces: its own copies of the filters
 * (the request's strings are not the stream's to keep) and where the
 * next page starts. */
typedef struct csv_export {
  struct db_pool *pool;
  db_conn *borrowed; /* the request's connection, for the first page only */
  fleet_query fq;
  char status[16], profile_id[40], failure_source[8], q[DEVICE_Q_MAX + 1];
  char after_created[40], after_device[40], after_profile[40];
  int started; /* the header row is written */
} csv_export;

/* A copy of s into buf (NULL stays NULL); s fits, as the checks made sure. */
static const char *keep(char *buf, size_t len, const char *s) {
  if (s == NULL)
    return NULL;
  snprintf(buf, len, "%s", s);
  return buf;
}

/* One page of the export: the header first, then EXPORT_PAGE rows after
 * the last one written, with a database connection for that query only. */
static int export_fill(void *state, wipebuf *out) {
  csv_export *e = state;
  csv_writer w;
  csv_writer_init(&w, out, REPLY_STREAM_PIECE_MAX);
  if (!e->started) {
    for (size_t i = 0; i < sizeof(csv_columns) / sizeof(csv_columns[0]); i++)
      csv_field(&w, csv_columns[i]);
    csv_end_row(&w);
    e->started = 1;
  }
  db_conn *c = e->borrowed != NULL ? e->borrowed : db_acquire(e->pool);
  int own = e->borrowed == NULL;
  e->borrowed = NULL;
  if (c == NULL)
    return DB_SOFT_ERROR;
  db_fleet_after after = {e->after_created[0] ? e->after_created : NULL,
                          e->after_created[0] ? e->after_device : NULL,
                          e->after_created[0] ? e->after_profile : NULL};
  db_fleet_deployment *rows = NULL;
  int n = db_fleet_deployments(c, &e->fq.f, &after, EXPORT_PAGE, &rows);
  if (own)
    db_release(e->pool, c);
  if (n < 0)
    return n;
  for (int i = 0; i < n; i++)
    csv_row(&w, &rows[i]);
  if (n > 0) {
    const db_fleet_deployment *last = &rows[n - 1];
    snprintf(e->after_created, sizeof(e->after_created), "%s", last->created_at);
    snprintf(e->after_device, sizeof(e->after_device), "%s", last->dep.device_id);
    snprintf(e->after_profile, sizeof(e->after_profile), "%s", last->dep.profile_id);
  }
  free(rows);
  if (w.failed) {
    log_msg(LOG_WARN, "a CSV page of %d deployments did not fit in %d bytes", n,
            REPLY_STREAM_PIECE_MAX);
    return DB_HARD_ERROR;
  }
  return n == EXPORT_PAGE;
}

/* The export of every deployment fq matches, streamed (reply_stream.h). */
static void export_csv(request *req, reply *rep, const fleet_query *fq) {
  if (request_query(req, "limit") != NULL || request_query(req, "cursor") != NULL) {
    reply_error(rep, ERR_INVALID_REQUEST, request_query(req, "limit") ? "limit" : "cursor",
                "A CSV export holds every deployment that matches: leave out 'limit' and "
                "'cursor', which page the JSON list.");
    return;
  }
  /* The first page is read in this handler, on the connection the
   * request already holds (its token was looked up on it): a second one
   * from the pool for each export would let exports on every handler
   * thread wait for each other's. Later pages take one for a query. */
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  csv_export *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  e->pool = req->app->db;
  e->borrowed = c;
  e->fq = *fq;
  db_fleet_filter *f = &e->fq.f;
  f->status = keep(e->status, sizeof(e->status), fq->f.status);
  f->profile_id = keep(e->profile_id, sizeof(e->profile_id), fq->f.profile_id);
  f->failure_source = keep(e->failure_source, sizeof(e->failure_source), fq->f.failure_source);
  f->q = keep(e->q, sizeof(e->q), fq->f.q);
  f->expires_before = fq->f.expires_before ? e->fq.expires_before : NULL;
  reply_stream(rep, 200, "text/csv; charset=utf-8", export_fill, e, free);
}

/* A cursor of this list has the deployment's two ids and a time as its
 * key (page.c also accepts the history's numbers). */
static int cursor_ok(const page *pg) {
  return page_key(pg) == NULL || (page_id2(pg) != NULL && strchr(pg->after_key, 'T') != NULL);
}

/* GET /api/v1/deployments?status=&profile_id=&failure_source=
 * &expires_before=&q=&limit=&cursor= */
void deployments_list(request *req, reply *rep) {
  fleet_query fq;
  if (filter_from_request(req, rep, &fq) != 0)
    return;
  if (accept_prefers(request_header(req, "Accept"), "text/csv")) {
    export_csv(req, rep, &fq);
    return;
  }
  page pg;
  if (page_from_request(req, rep, &pg) != 0)
    return;
  if (!cursor_ok(&pg)) {
    reply_error(rep, ERR_INVALID_REQUEST, "cursor",
                "'cursor' is not one this list gave out; start again without it.");
    return;
  }
  db_conn *c = request_db(req, rep);
  if (c == NULL)
    return;
  db_fleet_after after = {page_key(&pg), page_id(&pg), page_id2(&pg)};
  db_fleet_deployment *rows = NULL;
  int n = db_fleet_deployments(c, &fq.f, &after, pg.limit + 1, &rows);
  page_reply(rep, &fleet_page, pg.limit, rows, n, NULL);
  free(rows);
}
