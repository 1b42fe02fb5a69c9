/* crypto_cert_build.c: parts of a new certificate (shell, random serial,
 * extensions) and writing a new pair to files. */
#include "crypto_internal.h"
#include "fileutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Adds one extension given in openssl.cnf syntax (static strings only). */
int cr_add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  int ok;

  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ext == NULL) {
    return -1;
  }
  ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? 0 : -1;
}

int cr_add_san(X509 *x, GENERAL_NAMES *gens) {
  return X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
}

/* Random positive serial of `bytes` bytes whose first byte is >= 0x40,
 * so its hex form always has exactly 2*bytes digits. */
static int set_random_serial(X509 *x, size_t bytes) {
  unsigned char raw[20];
  BIGNUM *bn = NULL;
  int rc = -1;

  if (bytes > sizeof(raw) || crypto_random_bytes(raw, bytes) != 0) {
    return -1;
  }
  raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
  bn = BN_bin2bn(raw, (int)bytes, NULL);
  if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL) {
    rc = 0;
  }
  BN_free(bn);
  return rc;
}

/* Copies a SubjectPublicKeyInfo field by field: X509_set_pubkey would
 * run the key through OpenSSL 3's encoder and decoder, which costs more
 * than the copy. Algorithm parameters are none, NULL, an OID (EC curves)
 * or a SEQUENCE. */
static int spki_copy(X509_PUBKEY *to, const X509_PUBKEY *from) {
  ASN1_OBJECT *obj = NULL;
  const unsigned char *bits = NULL;
  int len = 0, ptype = V_ASN1_UNDEF;
  X509_ALGOR *alg = NULL;
  const void *pval = NULL;
  void *param = NULL;
  unsigned char *copy = NULL;

  if (X509_PUBKEY_get0_param(&obj, &bits, &len, &alg, from) != 1 || len <= 0) {
    return -1;
  }
  X509_ALGOR_get0(NULL, &ptype, &pval, alg);
  if (ptype == V_ASN1_OBJECT) {
    param = OBJ_dup(pval);
  } else if (ptype == V_ASN1_SEQUENCE) {
    param = ASN1_STRING_dup(pval);
  } else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
    return -1;
  }
  ASN1_OBJECT *alg_obj = OBJ_dup(obj);
  copy = OPENSSL_memdup(bits, (size_t)len);
  if (alg_obj == NULL || copy == NULL || (pval != NULL && param == NULL) ||
      X509_PUBKEY_set0_param(to, alg_obj, ptype, param, copy, len) != 1) {
    ASN1_OBJECT_free(alg_obj);
    OPENSSL_free(copy);
    if (ptype == V_ASN1_OBJECT) {
      ASN1_OBJECT_free(param);
    } else {
      ASN1_STRING_free(param);
    }
    return -1;
  }
  return 0;
}

/* A fresh v3 certificate shell: serial, validity [now, now+seconds],
 * subject CN=cn, public key. Issuer and extensions are the caller's. */
X509 *cr_cert_new(EVP_PKEY *subject_key, const X509_PUBKEY *spki, const char *cn, time_t now,
                  long seconds, size_t serial_bytes) {
  X509 *x = X509_new();
  X509_NAME *name = NULL;

  if (x == NULL || X509_set_version(x, 2) != 1 || set_random_serial(x, serial_bytes) != 0 ||
      ASN1_TIME_set(X509_getm_notBefore(x), now) == NULL ||
      ASN1_TIME_set(X509_getm_notAfter(x), now + (time_t)seconds) == NULL ||
      (spki != NULL ? spki_copy(X509_get_X509_PUBKEY(x), spki) != 0
                    : X509_set_pubkey(x, subject_key) != 1)) {
    goto fail;
  }
  name = X509_NAME_new();
  if (name == NULL ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
          1 ||
      X509_set_subject_name(x, name) != 1) {
    goto fail;
  }
  X509_NAME_free(name);
  return x;
fail:
  X509_NAME_free(name);
  X509_free(x);
  return NULL;
}

int cr_write_pair(const char *cert_path, const char *key_path, X509 *x, EVP_PKEY *pkey,
                  const char *what, char **err) {
  int rc = -1;
  char *cert_pem = cr_cert_to_pem(x);
  char *key_pem = cr_pkey_to_pem(pkey);
  if (cert_pem == NULL || key_pem == NULL) {
    cr_set_err(err, "cannot encode the %s pair", what);
    goto out;
  }
  /* Key first: a cert without its key would be an unusable half pair. */
  if (file_write_atomic(key_path, key_pem, strlen(key_pem), 0600, err) == 0 &&
      file_write_atomic(cert_path, cert_pem, strlen(cert_pem), 0644, err) == 0)
    rc = 0;
out:
  free(cert_pem);
  crypto_free_secret(key_pem);
  return rc;
}
