/*
 * delivery.h: what a device receives with an `install` action.
 */
#ifndef CERTDEPLOY_DELIVERY_H
#define CERTDEPLOY_DELIVERY_H

#include <jansson.h>

#include "app.h"
#include "db.h"
#include "db_deployments.h"

/* What delivery_add_install() returns besides a DB_*_ERROR (db.h). */
enum delivery_result {
  DELIVERY_ADDED = 0, /* entry holds the install fields */
  /* Nothing to install: no certificate is stored for the generation, or
   * (logged) the stored key cannot be opened (a master key change) or the
   * PKCS#12 cannot be built. The device gets no install this time. */
  DELIVERY_NOT_INSTALLABLE = -3,
};
_Static_assert(DELIVERY_NOT_INSTALLABLE != DB_SOFT_ERROR &&
                   DELIVERY_NOT_INSTALLABLE != DB_HARD_ERROR,
               "a delivery result must differ from the database's errors");

/* Adds "certificate", "chain" and, in server key mode, "pkcs12" (base64)
 * and "pkcs12_password" (fresh and random for every delivery) to entry
 * for the issued certificate of d's current generation. Returns
 * DELIVERY_ADDED, DELIVERY_NOT_INSTALLABLE (entry may hold "certificate"
 * and "chain" already: the caller drops it), or a DB_*_ERROR. */
int delivery_add_install(app *a, db_conn *c, const db_deployment *d, json_t *entry);

#endif
