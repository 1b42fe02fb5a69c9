/*
 * bootstrap.h: the first admin token of a new database.
 */
#ifndef CERTDEPLOY_BOOTSTRAP_H
#define CERTDEPLOY_BOOTSTRAP_H

#include "app.h"

/* When the database has no API token, creates an admin token named
 * "bootstrap": the value of CERTDEPLOY_BOOTSTRAP_TOKEN, or a generated one
 * printed once on stdout. Safe when several instances start together.
 * Returns 0, or -1 after logging what to fix. */
int bootstrap_admin_token(app *a);

#endif
