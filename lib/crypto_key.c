/* crypto_key.c: private keys: RSA and EC generation, PEM in and out, the public-key hash. */
#include "crypto_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* SHA-256 hex of a DER SubjectPublicKeyInfo of len bytes (an i2d result:
 * len <= 0 is a failed encoding); frees der. */
static int spki_der_sha256(unsigned char *der, int len, char out[65]) {
  if (len > 0) {
    crypto_sha256_hex(der, (size_t)len, out);
  }
  OPENSSL_free(der);
  return len > 0 ? 0 : -1;
}

/* The same hash of a certificate's or request's SubjectPublicKeyInfo as
 * it was read: re-encoding the stored fields skips OpenSSL 3's key
 * encoder (BENCHMARKS.md). */
int cr_spki_sha256(const X509_PUBKEY *spki, char out[65]) {
  unsigned char *der = NULL;
  int len = spki != NULL ? i2d_X509_PUBKEY(spki, &der) : -1;
  return spki_der_sha256(der, len, out);
}

static crypto_key *key_wrap(EVP_PKEY *pkey) {
  crypto_key *key;
  if (pkey == NULL) {
    ERR_clear_error();
    return NULL;
  }
  key = calloc(1, sizeof(*key));
  if (key == NULL) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  key->pkey = pkey;
  return key;
}

crypto_key *crypto_key_generate_rsa(int bits) {
  if (bits < 1024 || bits > 16384) {
    return NULL;
  }
  return key_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits));
}

crypto_key *crypto_key_generate_ec_p256(void) {
  return key_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
}

/* An unencrypted PKCS#8 key ("PRIVATE KEY") through the one decoder for
 * its algorithm, which the key names: PEM_read_bio_PrivateKey tries every
 * decoder OpenSSL 3 has, several times the work for a pooled key.
 * NULL for any other PEM, which then takes the general path. */
static EVP_PKEY *pkcs8_from_pem(const char *pem) {
  BIO *bio = cr_bio_from_text(pem);
  char *name = NULL, *header = NULL;
  unsigned char *der = NULL;
  long len = 0;
  PKCS8_PRIV_KEY_INFO *p8 = NULL;
  OSSL_DECODER_CTX *dctx = NULL;
  EVP_PKEY *pkey = NULL;
  const ASN1_OBJECT *alg = NULL;
  char oid[80];

  if (bio == NULL || PEM_read_bio(bio, &name, &header, &der, &len) != 1 ||
      strcmp(name, PEM_STRING_PKCS8INF) != 0) {
    goto out;
  }
  const unsigned char *p = der;
  p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
  if (p8 == NULL || PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8) != 1 ||
      OBJ_obj2txt(oid, sizeof(oid), alg, 1) <= 0) {
    goto out;
  }
  /* providers know each key type by its OID too ("1.2.840.113549.1.1.1" is RSA) */
  dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo", oid,
                                       OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
  p = der;
  size_t left = (size_t)len;
  if (dctx == NULL || OSSL_DECODER_from_data(dctx, &p, &left) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
out:
  ERR_clear_error();
  OSSL_DECODER_CTX_free(dctx);
  PKCS8_PRIV_KEY_INFO_free(p8);
  OPENSSL_clear_free(der, der != NULL ? (size_t)len : 0);
  OPENSSL_free(name);
  OPENSSL_free(header);
  BIO_free(bio);
  return pkey;
}

EVP_PKEY *cr_pkey_from_pem(const char *pem) {
  EVP_PKEY *pkey = pkcs8_from_pem(pem);
  if (pkey != NULL) {
    return pkey;
  }
  BIO *bio = cr_bio_from_text(pem);
  if (bio != NULL) {
    pkey = PEM_read_bio_PrivateKey(bio, NULL, cr_no_password_cb, NULL);
  }
  BIO_free(bio);
  return pkey;
}

crypto_key *crypto_key_from_pem(const char *pem, char **err) {
  EVP_PKEY *pkey = cr_pkey_from_pem(pem);
  if (pkey == NULL) {
    cr_set_err(err, "not an unencrypted PEM private key");
    return NULL;
  }
  return key_wrap(pkey);
}

/* PKCS#8 PEM of pkey through a wiping BIO; free with crypto_free_secret. */
char *cr_pkey_to_pem(EVP_PKEY *pkey) {
  BIO *bio = BIO_new(BIO_s_secmem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
    out = cr_bio_to_string(bio);
  }
  ERR_clear_error();
  BIO_free(bio);
  return out;
}

char *crypto_key_to_pem(const crypto_key *key) {
  return cr_pkey_to_pem(key->pkey);
}

int crypto_key_pubkey_sha256(const crypto_key *key, char out[65]) {
  unsigned char *der = NULL;
  int len = i2d_PUBKEY(key->pkey, &der);
  return spki_der_sha256(der, len, out);
}

void crypto_key_free(crypto_key **key) {
  if (key == NULL || *key == NULL) {
    return;
  }
  EVP_PKEY_free((*key)->pkey);
  free(*key);
  *key = NULL;
}
