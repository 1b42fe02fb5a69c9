/* request.c: per-request resources. */
#include "request.h"

#include "app.h"
#include "db.h"
#include "reply.h"

#include <stdlib.h>

db_conn *request_db(request *req, reply *rep) {
  if (req->db == NULL)
    req->db = db_acquire(req->app->db);
  if (req->db == NULL)
    reply_error(rep, ERR_UNAVAILABLE, NULL, NULL);
  return req->db;
}

void request_release(request *req) {
  if (req->db)
    db_release(req->app->db, req->db);
  req->db = NULL;
  for (int i = 0; i < req->nparams; i++) {
    free(req->params[i]);
    req->params[i] = NULL;
  }
  req->nparams = 0;
}
