/* routes_health.c: /healthz and /readyz, for load balancers and probes. */
#include "handlers.h"

#include "app.h"
#include "db.h"
#include "reply.h"

/* GET /healthz: the process is up and serving. */
void health_live(request *req, reply *rep) {
  (void)req;
  reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: 200 only while the database answers. */
void health_ready(request *req, reply *rep) {
  if (db_ping(req->app->db) != 0) {
    reply_json(rep, 503, json_pack("{s:s, s:s}", "status", "unavailable", "database", "down"));
    return;
  }
  reply_json(rep, 200, json_pack("{s:s, s:s}", "status", "ok", "database", "up"));
}
