/*
 * install.h: installing a delivered certificate into
 * DIR/profiles/<id>/{cert.pem,chain.pem,key.pem}.
 *
 * The key comes from the PKCS#12 in server key mode, or from the agent's
 * own pending key (device key mode). Either way the certificate's public
 * key must match the private key before anything is written. Each file is
 * replaced atomically; key.pem is 0600, cert.pem and chain.pem 0644.
 */
#ifndef CERTDEPLOY_AGENT_INSTALL_H
#define CERTDEPLOY_AGENT_INSTALL_H

/* What an "install" action delivers; the strings belong to the caller. */
typedef struct install_material {
  const char *certificate;     /* leaf PEM, required */
  const char *chain;           /* PEM, may be NULL or empty */
  const char *pkcs12_base64;   /* server key mode: the bundle; NULL in device mode */
  const char *pkcs12_password; /* its password (a secret) */
} install_material;

/* Installs m for profile_id (a valid id). On success writes the hex
 * SHA-256 of the installed certificate's DER into sha256 and removes the
 * pending key it used. On failure returns -1 with *detail, a one-line
 * reason fit for the error ack and the user (the caller frees it); nothing
 * is written when the material is unusable. */
int install_profile(const char *state_dir, const char *profile_id, const install_material *m,
                    char sha256[65], char **detail);

#endif
