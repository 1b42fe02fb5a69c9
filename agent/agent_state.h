/*
 * agent_state.h: what the agent keeps under its state directory.
 *
 *   DIR/device.json                 {"server","device_id","device_token",
 *                                    "serial","name"}, mode 0600
 *   DIR/profiles/<id>/cert.pem      installed leaf certificate
 *   DIR/profiles/<id>/chain.pem     its chain (may be empty)
 *   DIR/profiles/<id>/key.pem       its private key, mode 0600
 *   DIR/profiles/<id>/pending-key.pem   key of a submitted CSR, mode 0600
 *   DIR/profiles/<id>/pending-generation  the generation that CSR answers
 *
 * Directories are created 0700. Profile ids come from the server and name
 * directories, so they are checked with agent_profile_id_valid() first.
 */
#ifndef CERTDEPLOY_AGENT_STATE_H
#define CERTDEPLOY_AGENT_STATE_H

#include <jansson.h>

/* The enrolled identity. All strings are malloc'd and owned by the struct;
 * device_token is a secret (agent_device_release wipes it). */
typedef struct agent_device {
  char *server;       /* base URL enrolled against */
  char *device_id;    /* server-assigned id */
  char *device_token; /* bearer token for the Device API */
  char *serial;       /* serial given at enroll */
  char *name;         /* display name given at enroll */
} agent_device;

/* Creates DIR (mode 0700, with parents) when missing and writes
 * DIR/device.json atomically with mode 0600. */
int agent_device_save(const char *state_dir, const agent_device *dev, char **err);

/* Loads DIR/device.json into *dev (zeroed first; release it after).
 * Returns 0 on success, 1 when the file does not exist (nothing stored),
 * -1 when it cannot be read or lacks device_id/device_token. */
int agent_device_load(const char *state_dir, agent_device *dev, char **err);

/* Wipes the token and frees every field; dev itself is not freed and is
 * left zeroed. Accepts NULL. */
void agent_device_release(agent_device *dev);

/* 1 when id is safe as a directory name: 1-128 characters of [A-Za-z0-9._-]
 * not starting with '.'; else 0. */
int agent_profile_id_valid(const char *id);

/* Returns the malloc'd path DIR/profiles/<id>/<file> (or the directory
 * itself when file is NULL), NULL when out of memory. id must be valid. */
char *agent_profile_path(const char *state_dir, const char *profile_id, const char *file);

/* Creates DIR/profiles/<id>/ (and parents) with mode 0700 when missing. */
int agent_profile_dir_ensure(const char *state_dir, const char *profile_id, char **err);

/* Builds the check-in inventory: a new JSON array (the caller owns it) of
 * {"profile_id","sha256"} for every DIR/profiles/<id>/cert.pem, sorted by
 * id, where sha256 is the lower-case hex SHA-256 of the certificate's DER.
 * A missing profiles directory gives an empty array. A cert.pem that does
 * not parse is skipped with a warning on stderr (the server then delivers
 * the certificate again). -1 only when the directory cannot be read. */
int agent_inventory_build(const char *state_dir, json_t **installed, char **err);

#endif
