/* crypto_key.c: private keys: RSA and EC generation, PEM in and out, the public-key hash. */
#include "crypto_internal.h"

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* SHA-256 hex of the DER SubjectPublicKeyInfo of pkey. */
int cr_pubkey_sha256(EVP_PKEY *pkey, char out[65]) {
  unsigned char *der = NULL;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) {
    return -1;
  }
  crypto_sha256_hex(der, (size_t)len, out);
  OPENSSL_free(der);
  return 0;
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

EVP_PKEY *cr_pkey_from_pem(const char *pem) {
  BIO *bio = cr_bio_from_text(pem);
  EVP_PKEY *pkey = NULL;
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
  return cr_pubkey_sha256(key->pkey, out);
}

void crypto_key_free(crypto_key **key) {
  if (key == NULL || *key == NULL) {
    return;
  }
  EVP_PKEY_free((*key)->pkey);
  free(*key);
  *key = NULL;
}
