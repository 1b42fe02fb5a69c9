/* crypto_ca.c: the small issuing CA of certdeploy-mockca: load or create it, issue leaves. */
#include "crypto_internal.h"
#include "fileutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct crypto_ca {
  X509 *cert;     /* the CA certificate */
  EVP_PKEY *key;  /* its private key; only read after load, safe to share */
  char *cert_pem; /* cert as PEM, returned by crypto_ca_cert_pem */
};

#define CA_COMMON_NAME "certdeploy mock CA"
#define CA_VALIDITY_SECONDS (3650L * 86400L)
/* ca.pem and ca.key are a few KiB; anything past this is not ours */
#define CA_FILE_MAX (16u << 20)

static int gens_add_upn(GENERAL_NAMES *gens, const char *upn) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_TYPE *val = ASN1_TYPE_new();
  ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
  ASN1_OBJECT *oid = OBJ_dup(OBJ_nid2obj(NID_ms_upn));

  if (gen == NULL || val == NULL || s == NULL || oid == NULL || ASN1_STRING_set(s, upn, -1) != 1) {
    goto fail;
  }
  ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
  s = NULL;
  if (GENERAL_NAME_set0_othername(gen, oid, val) != 1) {
    goto fail;
  }
  oid = NULL;
  val = NULL;
  if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
    goto fail;
  }
  return 0;
fail:
  GENERAL_NAME_free(gen);
  ASN1_TYPE_free(val);
  ASN1_UTF8STRING_free(s);
  ASN1_OBJECT_free(oid);
  return -1;
}

static int path_join(char *out, size_t outsz, const char *dir, const char *name) {
  return (size_t)snprintf(out, outsz, "%s/%s", dir, name) < outsz ? 0 : -1;
}

static int ca_create_files(const char *cert_path, const char *key_path, char **err) {
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  int rc = -1;

  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (pkey == NULL) {
    cr_set_err(err, "cannot generate the CA key");
    goto out;
  }
  x = cr_cert_new(pkey, NULL, CA_COMMON_NAME, time(NULL), CA_VALIDITY_SECONDS, LEAF_SERIAL_BYTES);
  if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
      cr_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
      cr_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
      cr_add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
      X509_sign(x, pkey, EVP_sha256()) <= 0) {
    cr_set_err(err, "cannot build the CA certificate");
    goto out;
  }
  rc = cr_write_pair(cert_path, key_path, x, pkey, "CA", err);
out:
  ERR_clear_error();
  X509_free(x);
  EVP_PKEY_free(pkey);
  return rc;
}

crypto_ca *crypto_ca_load_or_create(const char *dir, char **err) {
  char cert_path[4096];
  char key_path[4096];
  int have_cert;
  int have_key;
  char *key_pem = NULL;
  size_t key_len = 0;
  char *cert_pem = NULL;
  size_t cert_len = 0;
  crypto_ca *ca = NULL;

  if (path_join(cert_path, sizeof(cert_path), dir, "ca.pem") != 0 ||
      path_join(key_path, sizeof(key_path), dir, "ca.key") != 0) {
    cr_set_err(err, "CA directory path too long: %s", dir);
    return NULL;
  }
  have_cert = access(cert_path, F_OK) == 0;
  have_key = access(key_path, F_OK) == 0;
  if (have_cert != have_key) {
    cr_set_err(err, "%s exists but %s does not; restore it or remove both to create a new CA",
               have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
    return NULL;
  }
  if (!have_cert && ca_create_files(cert_path, key_path, err) != 0) {
    return NULL;
  }
  if ((cert_pem = file_read(cert_path, CA_FILE_MAX, &cert_len)) == NULL) {
    cr_set_err(err, "cannot read %s: %s", cert_path, strerror(errno));
    goto fail;
  }
  if ((key_pem = file_read(key_path, CA_FILE_MAX, &key_len)) == NULL) {
    cr_set_err(err, "cannot read %s: %s", key_path, strerror(errno));
    goto fail;
  }
  ca = calloc(1, sizeof(*ca));
  if (ca == NULL) {
    cr_set_err(err, "out of memory");
    goto fail;
  }
  ca->cert = cr_cert_from_pem(cert_pem);
  if (ca->cert == NULL) {
    cr_set_err(err, "%s is not a PEM certificate", cert_path);
    goto fail;
  }
  ca->key = cr_pkey_from_pem(key_pem);
  if (ca->key == NULL) {
    cr_set_err(err, "%s is not an unencrypted PEM private key", key_path);
    goto fail;
  }
  if (X509_check_private_key(ca->cert, ca->key) != 1) {
    cr_set_err(err, "%s does not match %s", key_path, cert_path);
    goto fail;
  }
  ca->cert_pem = cr_cert_to_pem(ca->cert);
  if (ca->cert_pem == NULL) {
    cr_set_err(err, "cannot encode the CA certificate");
    goto fail;
  }
  crypto_cleanse(key_pem, key_len);
  free(key_pem);
  free(cert_pem);
  return ca;
fail:
  crypto_ca_free(&ca);
  crypto_cleanse(key_pem, key_len);
  free(key_pem);
  free(cert_pem);
  return NULL;
}

const char *crypto_ca_cert_pem(const crypto_ca *ca) {
  return ca->cert_pem;
}

void crypto_ca_free(crypto_ca **ca) {
  if (ca == NULL || *ca == NULL) {
    return;
  }
  X509_free((*ca)->cert);
  EVP_PKEY_free((*ca)->key);
  free((*ca)->cert_pem);
  free(*ca);
  *ca = NULL;
}

char *crypto_ca_issue(crypto_ca *ca, const char *csr_pem, const char *common_name, const char *upn,
                      long validity_seconds, crypto_cert_info *info, char **err) {
  X509_REQ *req = NULL;
  X509 *x = NULL;
  GENERAL_NAMES *gens = NULL;
  char *out = NULL;
  size_t cn_len = common_name != NULL ? strlen(common_name) : 0;

  if (cn_len == 0) {
    cr_set_err(err, "common name is required");
    return NULL;
  }
  if (cn_len > MAX_CN_LEN) {
    cr_set_err(err, "common name is longer than %d characters", MAX_CN_LEN);
    return NULL;
  }
  if (validity_seconds <= 0) {
    cr_set_err(err, "validity must be positive");
    return NULL;
  }
  if (cr_csr_check(csr_pem, NULL, &req, err) != 0) {
    return NULL;
  }
  x = cr_cert_new(NULL, X509_REQ_get_X509_PUBKEY(req), common_name, time(NULL), validity_seconds,
                  LEAF_SERIAL_BYTES);
  if (x == NULL) {
    cr_set_err(err, "cannot build the certificate (is the common name valid UTF-8?)");
    goto out;
  }
  if (X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
      cr_add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
      cr_add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") != 0 ||
      cr_add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth") != 0 ||
      cr_add_ext(x, ca->cert, NID_subject_key_identifier, "hash") != 0 ||
      cr_add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") != 0) {
    cr_set_err(err, "cannot add certificate extensions");
    goto out;
  }
  if (upn != NULL && upn[0] != '\0') {
    gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL || gens_add_upn(gens, upn) != 0 || cr_add_san(x, gens) != 0) {
      cr_set_err(err, "cannot add the UPN subject alternative name");
      goto out;
    }
  }
  if (X509_sign(x, ca->key, EVP_sha256()) <= 0) {
    cr_set_err(err, "cannot sign the certificate");
    goto out;
  }
  if (info != NULL && cr_cert_info(x, info, err) != 0) {
    goto out;
  }
  out = cr_cert_to_pem(x);
  if (out == NULL) {
    cr_set_err(err, "cannot encode the certificate");
  }
out:
  ERR_clear_error();
  GENERAL_NAMES_free(gens);
  X509_free(x);
  X509_REQ_free(req);
  return out;
}
