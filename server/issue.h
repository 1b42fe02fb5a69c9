/*
 * issue.h: one CA request for one claimed deployment, and its outcome
 * applied through the state machine.
 */
#ifndef CERTDEPLOY_ISSUE_H
#define CERTDEPLOY_ISSUE_H

#include "app.h"
#include "db.h"
#include "db_worker.h"

#include <semaphore.h>

/* A claim's lease: the CA timeout plus this margin (the design's
 * claimed_until = now + CA timeout + 10 s). */
#define ISSUE_LEASE_MARGIN_SECONDS 10

/* Builds the CSR (server key mode: a fresh RSA-2048 key from the key
 * pool, kept sealed with the master key) or takes the device's, asks the
 * CA, and records the outcome if the deployment's generation is
 * unchanged: the certificate, a retry time, or the failure. Logs what
 * happened; never fails loudly: a local error gives the claim back for a
 * later attempt.
 *
 * ca_slots counts the CA requests the instance may still start
 * (CERTDEPLOY_CA_CONCURRENCY in all): one is held for the HTTP exchange
 * only, so the key, the CSR and the database work of other claims go on
 * meanwhile and the CA always has its full share of requests. */
void issue_one(app *a, db_pool *pool, sem_t *ca_slots, const db_claim *cl);

#endif
