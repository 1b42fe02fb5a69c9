/* enroll.c: POST /device/v1/enroll and save device.json. */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "agent_state.h"
#include "fileutil.h"

/* A refused enroll, with what to do about it. */
static int enroll_refused(long status, const json_t *reply, char **err) {
  char *what = api_error_describe(status, reply);
  const char *w = what != NULL ? what : "out of memory";
  if (status == 401 || status == 403)
    fail_set(err, "enroll refused (%s); check --enroll-secret", w);
  else if (status >= 400 && status < 500)
    fail_set(err, "enroll refused (%s); check --serial and --name", w);
  else
    fail_set(err, "enroll failed (%s); try again later", w);
  free(what);
  return -1;
}

int enroll_run(api_client *http, const char *state_dir, const enroll_request *req, char **err) {
  int rc = -1;
  long status = 0;
  json_t *reply = NULL;
  agent_device dev = {0};
  json_t *body = json_pack("{s:s, s:s, s:s}", "enroll_secret", req->enroll_secret, "serial",
                           req->serial, "name", req->name);
  if (body == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* Fail before the server issues a token that could not be stored. */
  if (file_mkdirs(state_dir, 0700, err) != 0)
    goto out;
  if (api_client_request(http, "POST", "/device/v1/enroll", NULL, body, &status, &reply, err) != 0)
    goto out;
  if (status != 201 && status != 200) {
    enroll_refused(status, reply, err);
    goto out;
  }
  const char *id = json_string_value(json_object_get(reply, "device_id"));
  const char *token = json_string_value(json_object_get(reply, "device_token"));
  if (id == NULL || id[0] == '\0' || token == NULL || token[0] == '\0') {
    fail_set(err, "the enroll reply lacks device_id or device_token; is --server a certdeploy "
                  "server?");
    goto out;
  }
  dev.server = strdup(api_client_base_url(http));
  dev.device_id = strdup(id);
  dev.device_token = strdup(token);
  dev.serial = strdup(req->serial);
  dev.name = strdup(req->name);
  if (dev.server == NULL || dev.device_id == NULL || dev.device_token == NULL ||
      dev.serial == NULL || dev.name == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  if (agent_device_save(state_dir, &dev, err) != 0)
    goto out;
  printf("enrolled as device %s\n", dev.device_id);
  rc = 0;
out:
  agent_device_release(&dev);
  json_decref(reply);
  json_decref(body);
  return rc;
}
