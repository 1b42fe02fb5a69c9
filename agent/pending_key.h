/*
 * pending_key.h: the private key behind a CSR the agent submitted
 * (device key mode), kept as DIR/profiles/<id>/pending-key.pem (0600)
 * until the certificate for it is installed.
 *
 * One key per generation: when the server asks again for a CSR of the
 * generation the pending key was made for, the same key is used, so a
 * certificate issued from either request still matches it.
 */
#ifndef CERTDEPLOY_AGENT_PENDING_KEY_H
#define CERTDEPLOY_AGENT_PENDING_KEY_H

typedef enum pending_key_type {
  PENDING_KEY_EC_P256, /* default */
  PENDING_KEY_RSA_2048,
} pending_key_type;

/* A short name for messages: "EC P-256" or "RSA-2048". */
const char *pending_key_type_name(pending_key_type type);

/* Makes a CSR (PEM, CN=common_name) for profile_id's generation: reuses
 * the pending key when it was made for this generation, else generates a
 * fresh key of the given type and stores it (0600) with its generation
 * before answering. *csr_pem is malloc'd (the caller frees it); *reused is
 * set to 1 when an existing key was used. */
int pending_key_make_csr(const char *state_dir, const char *profile_id, long long generation,
                         pending_key_type type, const char *common_name, char **csr_pem,
                         int *reused, char **err);

/* Reads the pending key PEM of profile_id into *key_pem (a secret: free it
 * with crypto_free_secret). 0 on success, 1 when there is none, -1 on a
 * read error. */
int pending_key_read(const char *state_dir, const char *profile_id, char **key_pem, char **err);

/* Removes the pending key and its generation once its certificate is
 * installed. Missing files are fine. */
int pending_key_remove(const char *state_dir, const char *profile_id, char **err);

#endif
