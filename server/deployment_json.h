/*
 * deployment_json.h: the deployment object of the REST API.
 */
#ifndef CERTDEPLOY_DEPLOYMENT_JSON_H
#define CERTDEPLOY_DEPLOYMENT_JSON_H

#include <jansson.h>

#include "db_deployments.h"

/* {"device_id","profile_id","profile_name","status","failure_source",
 *  "detail","attempts","next_attempt_at","generation","updated_at",
 *  "issued_certificate","installed_certificate"} where a certificate is
 * null or {"serial","not_before","not_after","sha256","valid"}.
 * Returns a new reference. */
json_t *deployment_json(const db_deployment *d);

#endif
