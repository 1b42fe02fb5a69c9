/*
 * handlers.h: every route handler, grouped by the file that serves it.
 * The table that maps methods and paths to them is routes.c.
 */
#ifndef CERTDEPLOY_HANDLERS_H
#define CERTDEPLOY_HANDLERS_H

#include "request.h"

/* routes_health.c */
void health_live(request *req, reply *rep);
void health_ready(request *req, reply *rep);

/* routes_tokens.c */
void tokens_create(request *req, reply *rep);
void tokens_list(request *req, reply *rep);
void tokens_delete(request *req, reply *rep);

/* routes_cas.c */
void cas_create(request *req, reply *rep);
void cas_list(request *req, reply *rep);
void cas_get(request *req, reply *rep);
void cas_update(request *req, reply *rep);
void cas_delete(request *req, reply *rep);

/* routes_profiles.c */
void profiles_create(request *req, reply *rep);
void profiles_list(request *req, reply *rep);
void profiles_get(request *req, reply *rep);
void profiles_update(request *req, reply *rep);
void profiles_delete(request *req, reply *rep);

#endif
