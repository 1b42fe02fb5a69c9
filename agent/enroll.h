/*
 * enroll.h: registering this device with the server.
 *
 * POST /device/v1/enroll {"enroll_secret","serial","name"} answers 201
 * {"device_id","device_token"}; the identity is stored in DIR/device.json
 * (mode 0600, DIR created 0700). Enrolling again replaces it: the server
 * keeps the device id of the serial and revokes the old token.
 */
#ifndef CERTDEPLOY_AGENT_ENROLL_H
#define CERTDEPLOY_AGENT_ENROLL_H

#include "api_client.h"

typedef struct enroll_request {
  const char *enroll_secret; /* a secret; the caller wipes it */
  const char *serial;
  const char *name;
} enroll_request;

/* Enrolls through http and saves the identity under state_dir, then prints
 * "enrolled as device <id>". -1 with *err (the server's message for an
 * error answer, with a hint) on failure; device.json is then untouched. */
int enroll_run(api_client *http, const char *state_dir, const enroll_request *req, char **err);

#endif
