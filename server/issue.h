/*
 * issue.h: one CA request for one claimed deployment, and its outcome
 * applied through the state machine.
 */
#ifndef CERTDEPLOY_ISSUE_H
#define CERTDEPLOY_ISSUE_H

#include "app.h"
#include "db.h"
#include "db_worker.h"

/* A claim's lease: the CA timeout plus this margin (the design's
 * claimed_until = now + CA timeout + 10 s). */
#define ISSUE_LEASE_MARGIN_SECONDS 10

/* Builds the CSR (server key mode: a fresh RSA-2048 key from the key pool, kept sealed with
 * the master key) or takes the device's, asks the CA, and records the
 * outcome if the deployment's generation is unchanged: the certificate,
 * a retry time, or the failure. Logs what happened; never fails loudly:
 * a local error gives the claim back for a later attempt. */
void issue_one(app *a, db_pool *pool, const db_claim *cl);

#endif
