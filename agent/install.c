/* install.c: check a delivered certificate against its key, then write. */
#include "install.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "agent_state.h"
#include "crypto.h"
#include "fileutil.h"
#include "pending_key.h"

#define MAX_KEY_FILE (64 * 1024)

/* The hex SHA-256 of key_pem's SubjectPublicKeyInfo. crypto.h exposes it
 * for CSRs, so the key signs a throwaway CSR and the CSR is inspected. */
static int key_pubkey_sha256(const char *key_pem, char out[65], char **err) {
  int rc = -1;
  char *csr = NULL;
  char *why = NULL;
  crypto_csr_info info;
  crypto_key *key = crypto_key_from_pem(key_pem, &why);
  if (key == NULL) {
    fail_set(err, "the private key does not parse: %s", why != NULL ? why : "unknown error");
    goto out;
  }
  csr = crypto_csr_create(key, "certdeploy-agent key check", NULL);
  if (csr == NULL || crypto_csr_check(csr, &info, &why) != 0) {
    fail_set(err, "cannot inspect the private key: %s", why != NULL ? why : "unknown error");
    goto out;
  }
  memcpy(out, info.pubkey_sha256, 65);
  rc = 0;
out:
  crypto_key_free(&key);
  free(csr);
  free(why);
  return rc;
}

/* 1 when key_pem is the private key of the certificate, 0 when not, -1
 * when the key is unusable. */
static int key_matches(const char *key_pem, const crypto_cert_info *cert, char **err) {
  char hash[65];
  if (key_pubkey_sha256(key_pem, hash, err) != 0)
    return -1;
  return strcmp(hash, cert->pubkey_sha256) == 0;
}

/* Server key mode: the key inside the PKCS#12. */
static int key_from_pkcs12(const install_material *m, const crypto_cert_info *cert, char **key_pem,
                           char **detail) {
  int rc = -1;
  unsigned char *der = NULL;
  size_t der_len = 0;
  char *p12_cert = NULL;
  char *why = NULL;

  if (crypto_base64_decode(m->pkcs12_base64, &der, &der_len) != 0) {
    fail_set(detail, "the pkcs12 field is not valid base64");
    goto out;
  }
  if (crypto_pkcs12_parse(der, der_len, m->pkcs12_password != NULL ? m->pkcs12_password : "",
                          &p12_cert, key_pem, &why) != 0) {
    /* crypto's message already names the PKCS#12 and the likely cause. */
    fail_set(detail, "%s", why != NULL ? why : "cannot open the PKCS#12");
    goto out;
  }
  int match = key_matches(*key_pem, cert, detail);
  if (match == 0)
    fail_set(detail, "the key in the PKCS#12 does not match the certificate");
  if (match != 1)
    goto out;
  rc = 0;
out:
  if (rc != 0) {
    crypto_free_secret(*key_pem);
    *key_pem = NULL;
  }
  if (der != NULL) {
    crypto_cleanse(der, der_len);
    free(der);
  }
  free(p12_cert);
  free(why);
  return rc;
}

/* Device key mode: the pending key of the submitted CSR, or the installed
 * key when the same certificate is delivered again. *from_pending tells
 * which one matched. */
static int key_from_device(const char *state_dir, const char *profile_id,
                           const crypto_cert_info *cert, char **key_pem, int *from_pending,
                           char **detail) {
  int rc = -1;
  char *installed_path = agent_profile_path(state_dir, profile_id, "key.pem");
  char *pem = NULL;
  int have_any = 0;

  *key_pem = NULL;
  if (installed_path == NULL) {
    fail_set(detail, "out of memory");
    goto out;
  }
  for (int pending = 1; pending >= 0; pending--) {
    int r = pending ? pending_key_read(state_dir, profile_id, &pem, detail)
                    : file_load(installed_path, MAX_KEY_FILE, &pem, NULL, detail);
    if (r < 0)
      goto out;
    if (r == 1)
      continue;
    have_any = 1;
    int match = key_matches(pem, cert, detail);
    if (match < 0)
      goto out;
    if (match == 1) {
      *key_pem = pem;
      pem = NULL;
      *from_pending = pending;
      rc = 0;
      goto out;
    }
    crypto_free_secret(pem);
    pem = NULL;
  }
  if (!have_any)
    fail_set(detail, "no pending key for this profile: this agent did not submit the CSR");
  else
    fail_set(detail, "the certificate's public key does not match the key of the CSR this "
                     "agent submitted");
out:
  crypto_free_secret(pem);
  free(installed_path);
  return rc;
}

/* Writes one file of the profile directory atomically. */
static int write_profile_file(const char *state_dir, const char *profile_id, const char *name,
                              const char *text, mode_t mode, char **detail) {
  char *path = agent_profile_path(state_dir, profile_id, name);
  if (path == NULL)
    return fail_set(detail, "out of memory");
  int rc = file_write_atomic(path, text, strlen(text), mode, detail);
  free(path);
  return rc;
}

int install_profile(const char *state_dir, const char *profile_id, const install_material *m,
                    char sha256[65], char **detail) {
  int rc = -1;
  char *key_pem = NULL;
  char *why = NULL;
  int from_pending = 0;
  crypto_cert_info cert;
  crypto_cert_info chain_first;
  const char *chain = m->chain != NULL ? m->chain : "";

  if (m->certificate == NULL || m->certificate[0] == '\0') {
    fail_set(detail, "the install action carries no certificate");
    goto out;
  }
  if (crypto_cert_parse(m->certificate, &cert, &why) != 0) {
    fail_set(detail, "the certificate does not parse: %s", why != NULL ? why : "unknown error");
    goto out;
  }
  if (chain[0] != '\0' && crypto_cert_parse(chain, &chain_first, &why) != 0) {
    fail_set(detail, "the chain does not parse: %s", why != NULL ? why : "unknown error");
    goto out;
  }
  if (m->pkcs12_base64 != NULL) {
    if (key_from_pkcs12(m, &cert, &key_pem, detail) != 0)
      goto out;
  } else if (key_from_device(state_dir, profile_id, &cert, &key_pem, &from_pending, detail) != 0) {
    goto out;
  }
  /* cert.pem last: it is what the inventory reports. */
  if (agent_profile_dir_ensure(state_dir, profile_id, detail) != 0 ||
      write_profile_file(state_dir, profile_id, "key.pem", key_pem, 0600, detail) != 0 ||
      write_profile_file(state_dir, profile_id, "chain.pem", chain, 0644, detail) != 0 ||
      write_profile_file(state_dir, profile_id, "cert.pem", m->certificate, 0644, detail) != 0)
    goto out;
  /* Installed: a stale pending key is only worth a warning now. */
  if (from_pending && pending_key_remove(state_dir, profile_id, &why) != 0)
    fprintf(stderr, "certdeploy-agent: warning: %s\n", why != NULL ? why : "out of memory");
  memcpy(sha256, cert.sha256, 65);
  rc = 0;
out:
  crypto_free_secret(key_pem);
  free(why);
  return rc;
}
