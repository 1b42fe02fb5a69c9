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

void request_defer(request *req, void *state, void (*free_state)(void *state),
                   void (*start)(request *req), request_step finish) {
  req->deferred = state;
  req->deferred_free = free_state;
  req->defer_start = start;
  req->defer_finish = finish;
}

void request_release(request *req) {
  if (req->db)
    db_release(req->app->db, req->db);
  req->db = NULL;
  if (req->deferred_free != NULL && req->deferred != NULL)
    req->deferred_free(req->deferred);
  req->deferred = NULL;
  for (int i = 0; i < req->nparams; i++) {
    free(req->params[i]);
    req->params[i] = NULL;
  }
  req->nparams = 0;
}
