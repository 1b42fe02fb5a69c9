/* request.c: per-request resources, and the steps a handler names next. */
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
  req->state = state;
  req->state_free = free_state;
  req->next = REQUEST_AFTER_READ;
  req->start_read = start;
  req->then = finish;
}

void request_offload(request *req, request_step step) {
  req->next = REQUEST_ON_HANDLER;
  req->then = step;
}

void request_release(request *req) {
  if (req->db)
    db_release(req->app->db, req->db);
  req->db = NULL;
  if (req->state_free != NULL && req->state != NULL)
    req->state_free(req->state);
  req->state = NULL;
  for (int i = 0; i < req->nparams; i++) {
    free(req->params[i]);
    req->params[i] = NULL;
  }
  req->nparams = 0;
}
