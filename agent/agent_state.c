/* agent_state.c: device.json, profile directories and the inventory. */
#include "agent_state.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "crypto.h"
#include "fileutil.h"
#include "json_wipe.h"

#define DEVICE_FILE "device.json"
#define MAX_DEVICE_FILE (64 * 1024)
#define MAX_CERT_FILE (1024 * 1024)

int agent_device_save(const char *state_dir, const agent_device *dev, char **err) {
  int rc = -1;
  char *path = NULL;
  char *text = NULL;
  json_t *doc =
      json_pack("{s:s?, s:s, s:s, s:s?, s:s?}", "server", dev->server, "device_id", dev->device_id,
                "device_token", dev->device_token, "serial", dev->serial, "name", dev->name);
  if (doc == NULL) {
    fail_set(err, "cannot encode %s (device id or token missing)", DEVICE_FILE);
    goto out;
  }
  text = json_dumps(doc, JSON_INDENT(2));
  path = file_join(state_dir, DEVICE_FILE);
  if (text == NULL || path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  if (file_mkdirs(state_dir, 0700, err) != 0)
    goto out;
  if (file_write_atomic(path, text, strlen(text), 0600, err) != 0)
    goto out;
  rc = 0;
out:
  json_wipe_free(text);
  json_decref(doc);
  free(path);
  return rc;
}

static int dup_field(json_t *doc, const char *key, int required, char **out, const char *path,
                     char **err) {
  json_t *v = json_object_get(doc, key);
  if (v == NULL || json_is_null(v)) {
    if (required)
      return fail_set(err, "%s has no \"%s\"; enroll again", path, key);
    return 0;
  }
  if (!json_is_string(v) || (required && json_string_length(v) == 0))
    return fail_set(err, "%s: \"%s\" is not a usable string; enroll again", path, key);
  *out = strdup(json_string_value(v));
  if (*out == NULL)
    return fail_set(err, "out of memory");
  return 0;
}

int agent_device_load(const char *state_dir, agent_device *dev, char **err) {
  int rc = -1;
  char *text = NULL;
  json_t *doc = NULL;
  json_error_t jerr;
  char *path = file_join(state_dir, DEVICE_FILE);

  memset(dev, 0, sizeof(*dev));
  if (path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  rc = file_load(path, MAX_DEVICE_FILE, &text, NULL, err);
  if (rc != 0)
    goto out;
  rc = -1;
  doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(doc)) {
    fail_set(err, "%s is not a JSON object (%s); enroll again", path,
             doc == NULL ? jerr.text : "wrong type");
    goto out;
  }
  if (dup_field(doc, "device_id", 1, &dev->device_id, path, err) != 0 ||
      dup_field(doc, "device_token", 1, &dev->device_token, path, err) != 0 ||
      dup_field(doc, "server", 0, &dev->server, path, err) != 0 ||
      dup_field(doc, "serial", 0, &dev->serial, path, err) != 0 ||
      dup_field(doc, "name", 0, &dev->name, path, err) != 0)
    goto out;
  rc = 0;
out:
  if (rc != 0)
    agent_device_release(dev);
  json_decref(doc);
  crypto_free_secret(text);
  free(path);
  return rc;
}

void agent_device_release(agent_device *dev) {
  if (dev == NULL)
    return;
  free(dev->server);
  free(dev->device_id);
  crypto_free_secret(dev->device_token);
  free(dev->serial);
  free(dev->name);
  memset(dev, 0, sizeof(*dev));
}

int agent_profile_id_valid(const char *id) {
  size_t n = 0;
  if (id == NULL || id[0] == '\0' || id[0] == '.')
    return 0;
  for (const char *p = id; *p != '\0'; p++, n++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    if (!ok || n >= 128)
      return 0;
  }
  return 1;
}

char *agent_profile_path(const char *state_dir, const char *profile_id, const char *file) {
  size_t dl = strlen(state_dir);
  while (dl > 1 && state_dir[dl - 1] == '/')
    dl--;
  if (file == NULL)
    return fail_format("%.*s/profiles/%s", (int)dl, state_dir, profile_id);
  return fail_format("%.*s/profiles/%s/%s", (int)dl, state_dir, profile_id, file);
}

int agent_profile_dir_ensure(const char *state_dir, const char *profile_id, char **err) {
  char *dir = agent_profile_path(state_dir, profile_id, NULL);
  if (dir == NULL)
    return fail_set(err, "out of memory");
  int rc = file_mkdirs(dir, 0700, err);
  free(dir);
  return rc;
}

/* Appends {"profile_id","sha256"} for DIR/profiles/<id>/cert.pem when the
 * file exists and parses. Only out-of-memory is an error. */
static int inventory_add(const char *state_dir, const char *id, json_t *installed, char **err) {
  int rc = -1;
  char *text = NULL;
  char *cert_err = NULL;
  crypto_cert_info info;
  char *path = agent_profile_path(state_dir, id, "cert.pem");
  if (path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  int r = file_load(path, MAX_CERT_FILE, &text, NULL, &cert_err);
  if (r == 0 && crypto_cert_parse(text, &info, &cert_err) == 0) {
    json_t *item = json_pack("{s:s, s:s}", "profile_id", id, "sha256", info.sha256);
    if (item == NULL || json_array_append_new(installed, item) != 0) {
      fail_set(err, "out of memory");
      goto out;
    }
  } else if (r != 1) {
    fprintf(stderr, "certdeploy-agent: warning: leaving %s out of the inventory: %s\n", path,
            cert_err != NULL ? cert_err : "unreadable");
  }
  rc = 0;
out:
  free(cert_err);
  free(text);
  free(path);
  return rc;
}

int agent_inventory_build(const char *state_dir, json_t **installed, char **err) {
  int rc = -1;
  struct dirent **names = NULL;
  int count = 0;
  json_t *list = json_array();
  char *dir = file_join(state_dir, "profiles");

  *installed = NULL;
  if (list == NULL || dir == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  count = scandir(dir, &names, NULL, alphasort);
  if (count < 0) {
    count = 0;
    if (errno == ENOENT) {
      rc = 0;
      goto done;
    }
    fail_set(err, "cannot list %s: %s", dir, strerror(errno));
    goto out;
  }
  for (int i = 0; i < count; i++) {
    if (!agent_profile_id_valid(names[i]->d_name))
      continue;
    if (inventory_add(state_dir, names[i]->d_name, list, err) != 0)
      goto out;
  }
  rc = 0;
done:
  *installed = list;
  list = NULL;
out:
  for (int i = 0; i < count; i++)
    free(names[i]);
  free(names);
  json_decref(list);
  free(dir);
  return rc;
}
