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

/* routes_metrics.c */
void metrics_get(request *req, reply *rep);

/* routes_tokens.c */
void tokens_create(request *req, reply *rep);
void tokens_list(request *req, reply *rep);
void tokens_delete(request *req, reply *rep);
void tokens_whoami(request *req, reply *rep);

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
void profile_resend(request *req, reply *rep);

/* routes_webhooks.c */
void webhooks_create(request *req, reply *rep);
void webhooks_list(request *req, reply *rep);
void webhooks_update(request *req, reply *rep);
void webhooks_delete(request *req, reply *rep);

/* routes_enroll_secrets.c */
void enroll_secrets_create(request *req, reply *rep);
void enroll_secrets_list(request *req, reply *rep);
void enroll_secrets_delete(request *req, reply *rep);

/* routes_devices.c */
void devices_list(request *req, reply *rep);
void devices_get(request *req, reply *rep);
void devices_delete(request *req, reply *rep);
void deployment_get(request *req, reply *rep);
void deployment_history(request *req, reply *rep);
void deployment_resend(request *req, reply *rep);

/* routes_deployments.c */
void deployments_list(request *req, reply *rep);

/* routes_assignments.c */
void assignments_add(request *req, reply *rep);
void assignments_remove(request *req, reply *rep);

/* routes_status.c */
void status_get(request *req, reply *rep);

/* routes_audit.c */
void audit_list(request *req, reply *rep);
/* The router's hook after an admin write answered 2xx: appends an audit
 * row (actor, route, path, ids; never the request body). A failure to
 * write it is logged; the reply stands. */
void audit_record(request *req, const reply *rep);

/* routes_device_api.c: the device side (/device/v1): enroll, CSR, acknowledgement */
void device_enroll(request *req, reply *rep);
void device_csr(request *req, reply *rep);
void device_ack(request *req, reply *rep);

/* routes_checkin.c: POST /device/v1/checkin */
void device_checkin(request *req, reply *rep);

/* routes_static.c: the dashboard (GET of any path outside /api and /device) */
void static_file(request *req, reply *rep);

#endif
