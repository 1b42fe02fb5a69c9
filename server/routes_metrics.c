/* routes_metrics.c: GET /metrics, the Prometheus scrape (unauthenticated,
 * like /healthz). The in-process counters come from metrics.c, the
 * deployment gauges from the database (db_metrics.h). A database that is
 * down does not fail the scrape: it answers 200 with the in-process
 * families and certdeploy_database_up 0, so the alert can say why. */
#include "handlers.h"

#include "app.h"
#include "db.h"
#include "db_metrics.h"
#include "metrics.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>

#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)

/* One sample `name{profile="..."[,status="..."]} value`. */
static void write_profile_sample(FILE *out, const char *name, const char *profile,
                                 const char *status, long long value) {
  fprintf(out, "%s{profile=\"", name);
  metrics_write_label_value(out, profile);
  if (status)
    fprintf(out, "\",status=\"%s", status);
  fprintf(out, "\"} %lld\n", value);
}

static void write_database(FILE *out, const db_metrics *m) {
  metrics_write_family(out, "certdeploy_deployments", "gauge",
                       "Deployments by profile name and status.");
  for (int i = 0; i < m->nprofiles; i++) {
    const db_metrics_profile *p = &m->profiles[i];
    write_profile_sample(out, "certdeploy_deployments", p->name, "pending", p->pending);
    write_profile_sample(out, "certdeploy_deployments", p->name, "verifying", p->verifying);
    write_profile_sample(out, "certdeploy_deployments", p->name, "verified", p->verified);
    write_profile_sample(out, "certdeploy_deployments", p->name, "failed", p->failed);
  }
  metrics_write_family(out, "certdeploy_deployments_failed_with_valid_certificate", "gauge",
                       "Failed deployments whose device still holds a valid certificate, by "
                       "profile name.");
  for (int i = 0; i < m->nprofiles; i++)
    write_profile_sample(out, "certdeploy_deployments_failed_with_valid_certificate",
                         m->profiles[i].name, NULL, m->profiles[i].failed_with_valid_certificate);
  metrics_write_family(out, "certdeploy_certificate_soonest_expiry_timestamp_seconds", "gauge",
                       "Soonest expiry (Unix time) of a certificate installed on a device, by "
                       "profile name; expired ones included; absent when none is installed.");
  for (int i = 0; i < m->nprofiles; i++)
    if (m->profiles[i].has_expiry)
      write_profile_sample(out, "certdeploy_certificate_soonest_expiry_timestamp_seconds",
                           m->profiles[i].name, NULL, m->profiles[i].soonest_expiry);
  metrics_write_family(out, "certdeploy_worker_queue_depth", "gauge",
                       "Deployments due for a CA request that no issue thread has taken yet "
                       "(counted up to " TEXT_OF(DB_METRICS_QUEUE_CAP) ").");
  fprintf(out, "certdeploy_worker_queue_depth %lld\n", m->queue_depth);
}

void metrics_get(request *req, reply *rep) {
  char *text = NULL;
  size_t len = 0;
  db_metrics m = {0};
  int up = 0;
  FILE *out = open_memstream(&text, &len);
  if (out == NULL) {
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    return;
  }
  /* not request_db(): an unreachable database is a value here, not a 503 */
  db_conn *c = db_acquire(req->app->db);
  if (c != NULL) {
    up = db_metrics_read(c, &m) > 0;
    db_release(req->app->db, c);
  }
  metrics_write(out);
  metrics_write_family(out, "certdeploy_database_up", "gauge",
                       "1 when the database answered this scrape, else 0 (the deployment "
                       "gauges are then absent).");
  fprintf(out, "certdeploy_database_up %d\n", up);
  if (up)
    write_database(out, &m);
  db_metrics_release(&m);
  int failed = ferror(out);
  if (fclose(out) != 0 || failed) {
    free(text);
    reply_error(rep, ERR_INTERNAL, NULL, NULL);
    return;
  }
  reply_text(rep, 200, METRICS_CONTENT_TYPE, text, len);
  free(text);
}
