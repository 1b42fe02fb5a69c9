/*
 * delivery.h: what a device receives with an `install` action.
 */
#ifndef CERTDEPLOY_DELIVERY_H
#define CERTDEPLOY_DELIVERY_H

#include <jansson.h>

#include "app.h"
#include "db.h"
#include "db_deployments.h"

/* Adds "certificate", "chain" and, in server key mode, "pkcs12" (base64)
 * and "pkcs12_password" (fresh and random for every delivery) to entry
 * for the issued certificate of d's current generation.
 * Returns 0, or a DB_*_ERROR / -3 when the stored key cannot be opened
 * (a master key change) or the PKCS#12 cannot be built. */
int delivery_add_install(app *a, db_conn *c, const db_deployment *d, json_t *entry);

#endif
