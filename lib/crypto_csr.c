/* crypto_csr.c: PKCS#10 requests: creating one, and checking one before it is signed. */
#include "crypto_internal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char *req_to_pem(X509_REQ *req) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_X509_REQ(bio, req) == 1) {
    out = cr_bio_to_string(bio);
  }
  ERR_clear_error();
  BIO_free(bio);
  return out;
}

/* An RSA key's SubjectPublicKeyInfo from its modulus and exponent, put
 * straight into the request: X509_REQ_set_pubkey runs the key through
 * OpenSSL 3's encoder and then its decoder, a large part of making a CSR.
 * Other key types take X509_REQ_set_pubkey. */
static int set_pubkey(X509_REQ *req, EVP_PKEY *pkey) {
  if (!EVP_PKEY_is_a(pkey, "RSA")) {
    return X509_REQ_set_pubkey(req, pkey) == 1 ? 0 : -1;
  }
  BIGNUM *n = NULL, *e = NULL;
  STACK_OF(ASN1_TYPE) *seq = sk_ASN1_TYPE_new_null();
  unsigned char *der = NULL;
  int len = -1;
  if (seq == NULL || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    goto out;
  }
  /* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
  const BIGNUM *parts[] = {n, e};
  for (size_t i = 0; i < 2; i++) {
    ASN1_TYPE *t = ASN1_TYPE_new();
    ASN1_INTEGER *v = BN_to_ASN1_INTEGER(parts[i], NULL);
    if (t == NULL || v == NULL || sk_ASN1_TYPE_push(seq, t) <= 0) {
      ASN1_TYPE_free(t);
      ASN1_INTEGER_free(v);
      goto out;
    }
    ASN1_TYPE_set(t, V_ASN1_INTEGER, v);
  }
  len = i2d_ASN1_SEQUENCE_ANY(seq, &der);
  if (len <= 0 ||
      X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(NID_rsaEncryption),
                             V_ASN1_NULL, NULL, der, len) != 1) {
    len = -1;
    goto out;
  }
  der = NULL; /* the request owns it now */
out:
  OPENSSL_free(der);
  sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
  BN_free(n);
  BN_free(e);
  return len > 0 ? 0 : -1;
}

char *crypto_csr_create(const crypto_key *key, const char *common_name, char pubkey_sha256[65]) {
  X509_REQ *req = X509_REQ_new();
  X509_NAME *name = NULL;
  char *out = NULL;

  if (req == NULL || X509_REQ_set_version(req, 0) != 1) {
    goto out;
  }
  name = X509_NAME_new();
  if (name == NULL ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1,
                                 -1, 0) != 1 ||
      X509_REQ_set_subject_name(req, name) != 1 || set_pubkey(req, key->pkey) != 0 ||
      X509_REQ_sign(req, key->pkey, EVP_sha256()) <= 0 ||
      (pubkey_sha256 != NULL &&
       cr_spki_sha256(X509_REQ_get_X509_PUBKEY(req), pubkey_sha256) != 0)) {
    goto out;
  }
  out = req_to_pem(req);
out:
  ERR_clear_error();
  X509_NAME_free(name);
  X509_REQ_free(req);
  return out;
}

/* Refuses key types and sizes we will not certify; fills the key fields
 * of info. */
static int check_key_strength(EVP_PKEY *pkey, crypto_csr_info *info, char **err) {
  int bits = EVP_PKEY_get_bits(pkey);

  if (EVP_PKEY_is_a(pkey, "RSA")) {
    snprintf(info->key_type, sizeof(info->key_type), "RSA");
    info->key_bits = bits;
    if (bits < 2048) {
      return cr_set_err(err, "RSA key of %d bits is too weak; use RSA-2048 or larger or EC P-256",
                        bits);
    }
    return 0;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[sizeof(info->curve)] = "";
    size_t glen = 0;
    snprintf(info->key_type, sizeof(info->key_type), "EC");
    info->key_bits = bits;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1) {
      return cr_set_err(err, "EC key with explicit or unknown curve parameters is not accepted; "
                             "use EC P-256, P-384 or P-521");
    }
    memcpy(info->curve, group, sizeof(info->curve));
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0 &&
        strcmp(group, "secp521r1") != 0) {
      return cr_set_err(err, "EC curve %s is not accepted; use EC P-256, P-384 or P-521", group);
    }
    return 0;
  }
  return cr_set_err(err, "key type %s is not accepted; use RSA-2048 or larger or EC P-256",
                    EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
}

/* crypto_csr_check that also hands back the parsed request (caller frees
 * with X509_REQ_free) when out_req is non-NULL. */
int cr_csr_check(const char *pem, crypto_csr_info *info_out, X509_REQ **out_req, char **err) {
  crypto_csr_info info;
  BIO *bio = NULL;
  X509_REQ *req = NULL;
  EVP_PKEY *pkey;
  int rc = -1;

  memset(&info, 0, sizeof(info));
  if (pem == NULL || (bio = cr_bio_from_text(pem)) == NULL) {
    return cr_set_err(err, "CSR is missing");
  }
  req = PEM_read_bio_X509_REQ(bio, NULL, cr_no_password_cb, NULL);
  if (req == NULL) {
    cr_set_err(err, "CSR is not a PEM certificate request");
    goto out;
  }
  pkey = X509_REQ_get0_pubkey(req);
  if (pkey == NULL) {
    cr_set_err(err, "CSR public key cannot be read");
    goto out;
  }
  if (check_key_strength(pkey, &info, err) != 0) {
    goto out;
  }
  if (X509_REQ_verify(req, pkey) != 1) {
    cr_set_err(err, "CSR signature does not verify with its public key");
    goto out;
  }
  if (cr_name_cn(X509_REQ_get_subject_name(req), info.common_name, sizeof(info.common_name)) != 0) {
    cr_set_err(err, "CSR subject common name is too long or malformed");
    goto out;
  }
  if (cr_spki_sha256(X509_REQ_get_X509_PUBKEY(req), info.pubkey_sha256) != 0) {
    cr_set_err(err, "CSR public key cannot be encoded");
    goto out;
  }
  if (info_out != NULL) {
    *info_out = info;
  }
  if (out_req != NULL) {
    *out_req = req;
    req = NULL;
  }
  rc = 0;
out:
  ERR_clear_error();
  X509_REQ_free(req);
  BIO_free(bio);
  return rc;
}

int crypto_csr_check(const char *pem, crypto_csr_info *info, char **err) {
  return cr_csr_check(pem, info, NULL, err);
}
