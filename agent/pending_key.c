/* pending_key.c: the key behind a submitted CSR, one per generation. */
#include "pending_key.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "agent_state.h"
#include "crypto.h"
#include "fileutil.h"

#define KEY_FILE "pending-key.pem"
#define GENERATION_FILE "pending-generation"
#define MAX_KEY_FILE (64 * 1024)

const char *pending_key_type_name(pending_key_type type) {
  return type == PENDING_KEY_RSA_2048 ? "RSA-2048" : "EC P-256";
}

int pending_key_read(const char *state_dir, const char *profile_id, char **key_pem, char **err) {
  char *path = agent_profile_path(state_dir, profile_id, KEY_FILE);
  if (path == NULL)
    return fail_set(err, "out of memory");
  int rc = file_load(path, MAX_KEY_FILE, key_pem, NULL, err);
  free(path);
  return rc;
}

/* The generation the pending key was made for, or 0 when unknown. */
static long long stored_generation(const char *state_dir, const char *profile_id) {
  long long gen = 0;
  char *text = NULL;
  char *end = NULL;
  char *path = agent_profile_path(state_dir, profile_id, GENERATION_FILE);
  if (path != NULL && file_load(path, 64, &text, NULL, NULL) == 0) {
    errno = 0;
    gen = strtoll(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\0' && *end != '\n') || gen < 0)
      gen = 0;
  }
  free(text);
  free(path);
  return gen;
}

/* The stored pending key when it belongs to generation, else NULL. */
static crypto_key *reusable_key(const char *state_dir, const char *profile_id,
                                long long generation) {
  crypto_key *key = NULL;
  char *pem = NULL;
  if (stored_generation(state_dir, profile_id) != generation)
    return NULL;
  if (pending_key_read(state_dir, profile_id, &pem, NULL) == 0)
    key = crypto_key_from_pem(pem, NULL);
  crypto_free_secret(pem);
  return key;
}

/* Generates a key and stores it with its generation. The generation file
 * is written last: a key without it is never reused. */
static crypto_key *fresh_key(const char *state_dir, const char *profile_id, long long generation,
                             pending_key_type type, char **err) {
  crypto_key *key = NULL;
  crypto_key *result = NULL;
  char *pem = NULL;
  char *gen_text = fail_format("%lld\n", generation);
  char *key_path = agent_profile_path(state_dir, profile_id, KEY_FILE);
  char *gen_path = agent_profile_path(state_dir, profile_id, GENERATION_FILE);

  if (gen_text == NULL || key_path == NULL || gen_path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  key =
      type == PENDING_KEY_RSA_2048 ? crypto_key_generate_rsa(2048) : crypto_key_generate_ec_p256();
  pem = key != NULL ? crypto_key_to_pem(key) : NULL;
  if (pem == NULL) {
    fail_set(err, "cannot generate a %s key", pending_key_type_name(type));
    goto out;
  }
  if (agent_profile_dir_ensure(state_dir, profile_id, err) != 0 ||
      file_remove(gen_path, err) != 0 ||
      file_write_atomic(key_path, pem, strlen(pem), 0600, err) != 0 ||
      file_write_atomic(gen_path, gen_text, strlen(gen_text), 0600, err) != 0)
    goto out;
  result = key;
  key = NULL;
out:
  crypto_key_free(&key);
  crypto_free_secret(pem);
  free(gen_text);
  free(key_path);
  free(gen_path);
  return result;
}

int pending_key_make_csr(const char *state_dir, const char *profile_id, long long generation,
                         pending_key_type type, const char *common_name, char **csr_pem,
                         int *reused, char **err) {
  int rc = -1;
  crypto_key *key = reusable_key(state_dir, profile_id, generation);

  *csr_pem = NULL;
  *reused = key != NULL;
  if (key == NULL)
    key = fresh_key(state_dir, profile_id, generation, type, err);
  if (key == NULL)
    goto out;
  *csr_pem = crypto_csr_create(key, common_name, NULL);
  if (*csr_pem == NULL) {
    fail_set(err, "cannot create a CSR with CN=%s", common_name);
    goto out;
  }
  rc = 0;
out:
  crypto_key_free(&key);
  return rc;
}

int pending_key_remove(const char *state_dir, const char *profile_id, char **err) {
  int rc = -1;
  char *key_path = agent_profile_path(state_dir, profile_id, KEY_FILE);
  char *gen_path = agent_profile_path(state_dir, profile_id, GENERATION_FILE);
  if (key_path == NULL || gen_path == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* Generation first: a key left without it is never reused. */
  if (file_remove(gen_path, err) != 0 || file_remove(key_path, err) != 0)
    goto out;
  rc = 0;
out:
  free(key_path);
  free(gen_path);
  return rc;
}
