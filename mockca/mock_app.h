/*
 * mock_app.h: the mock CA's shared context and its route handlers.
 *
 * mock_issue.c serves the DigiCert TLM subset (/mpki/...), mock_control.c
 * the test controls (/_mock/...). The route table is in main.c.
 */
#ifndef CERTDEPLOY_MOCK_APP_H
#define CERTDEPLOY_MOCK_APP_H

#include <stddef.h>

#include "crypto.h"
#include "mock_http.h"
#include "mock_state.h"

/* Route paths shared by the table in main.c and the handlers. */
#define MOCK_PROFILE_PATH "/mpki/api/v2/profile/"
#define MOCK_CERTIFICATE_PATH "/mpki/api/v1/certificate"

typedef struct mock_app {
  mock_state *state;           /* owned: counters, faults, issued list */
  crypto_ca *ca;               /* owned: signs every certificate */
  const char *api_key;         /* the one accepted X-API-Key */
  const char *const *profiles; /* known profile ids (from argv) */
  size_t n_profiles;
  long validity_seconds; /* lifetime of issued certificates */
} mock_app;

/* Answers 1 when id is a configured profile. */
int mock_app_profile_known(const mock_app *app, const char *id);

/* GET /mpki/api/v2/profile/{id} */
void mock_issue_profile_get(void *app, const mock_request *req, mock_reply *reply);
/* POST /mpki/api/v1/certificate */
void mock_issue_certificate_post(void *app, const mock_request *req, mock_reply *reply);

/* /_mock/faults: POST queues, DELETE clears, GET lists. */
void mock_control_faults_post(void *app, const mock_request *req, mock_reply *reply);
void mock_control_faults_delete(void *app, const mock_request *req, mock_reply *reply);
void mock_control_faults_get(void *app, const mock_request *req, mock_reply *reply);
/* GET /_mock/stats, GET /_mock/issued, GET /_mock/ca.pem */
void mock_control_stats_get(void *app, const mock_request *req, mock_reply *reply);
void mock_control_issued_get(void *app, const mock_request *req, mock_reply *reply);
void mock_control_ca_pem_get(void *app, const mock_request *req, mock_reply *reply);
/* /_mock/latency: POST {"ms":N} sets, GET reads. */
void mock_control_latency_post(void *app, const mock_request *req, mock_reply *reply);
void mock_control_latency_get(void *app, const mock_request *req, mock_reply *reply);
/* POST /_mock/reset */
void mock_control_reset_post(void *app, const mock_request *req, mock_reply *reply);

#endif
