/* crypto_pkcs12.c: PKCS#12 containers: building one from PEM texts, and opening one. */
#include "crypto_internal.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

/* Every certificate of a PEM text, in order; NULL on failure or when
 * there is none. */
static STACK_OF(X509) * certs_from_pem(const char *pem) {
  STACK_OF(X509) *certs = sk_X509_new_null();
  BIO *bio = cr_bio_from_text(pem);
  X509 *x;

  if (certs == NULL || bio == NULL) {
    goto fail;
  }
  while ((x = PEM_read_bio_X509(bio, NULL, cr_no_password_cb, NULL)) != NULL) {
    if (sk_X509_push(certs, x) <= 0) {
      X509_free(x);
      goto fail;
    }
  }
  ERR_clear_error(); /* the loop ends on "no start line" */
  if (sk_X509_num(certs) == 0) {
    goto fail;
  }
  BIO_free(bio);
  return certs;
fail:
  BIO_free(bio);
  sk_X509_pop_free(certs, X509_free);
  return NULL;
}

int crypto_pkcs12_create(const char *cert_pem, const char *key_pem, const char *chain_pem,
                         const char *password, unsigned char **der, size_t *der_len, char **err) {
  X509 *cert = NULL;
  EVP_PKEY *pkey = NULL;
  STACK_OF(X509) *chain = NULL;
  PKCS12 *p12 = NULL;
  unsigned char *buf = NULL;
  unsigned char *p;
  int len;
  int rc = -1;

  cert = cr_cert_from_pem(cert_pem);
  if (cert == NULL) {
    cr_set_err(err, "PKCS#12: not a PEM certificate");
    goto out;
  }
  pkey = cr_pkey_from_pem(key_pem);
  if (pkey == NULL) {
    cr_set_err(err, "PKCS#12: not an unencrypted PEM private key");
    goto out;
  }
  if (X509_check_private_key(cert, pkey) != 1) {
    cr_set_err(err, "PKCS#12: the private key does not match the certificate");
    goto out;
  }
  if (chain_pem != NULL && chain_pem[0] != '\0' && (chain = certs_from_pem(chain_pem)) == NULL) {
    cr_set_err(err, "PKCS#12: the chain is not PEM certificates");
    goto out;
  }
  /* mac_iter -1 leaves the MAC off so we can set it with SHA-256 below. */
  p12 = PKCS12_create(password, "certdeploy", pkey, cert, chain, NID_aes_256_cbc, NID_aes_256_cbc,
                      PKCS12_DEFAULT_ITER, -1, 0);
  if (p12 == NULL ||
      PKCS12_set_mac(p12, password, -1, NULL, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) != 1) {
    cr_set_err(err, "PKCS#12: cannot build the container");
    goto out;
  }
  len = i2d_PKCS12(p12, NULL);
  if (len <= 0 || (buf = malloc((size_t)len)) == NULL) {
    cr_set_err(err, "PKCS#12: cannot encode the container");
    goto out;
  }
  p = buf;
  if (i2d_PKCS12(p12, &p) != len) {
    cr_set_err(err, "PKCS#12: cannot encode the container");
    goto out;
  }
  *der = buf;
  *der_len = (size_t)len;
  buf = NULL;
  rc = 0;
out:
  ERR_clear_error();
  free(buf);
  PKCS12_free(p12);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(pkey);
  X509_free(cert);
  return rc;
}

int crypto_pkcs12_parse(const unsigned char *der, size_t der_len, const char *password,
                        char **cert_pem, char **key_pem, char **err) {
  const unsigned char *p = der;
  PKCS12 *p12 = NULL;
  EVP_PKEY *pkey = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *ca = NULL;
  char *c = NULL;
  char *k = NULL;
  int rc = -1;

  if (der_len > LONG_MAX || (p12 = d2i_PKCS12(NULL, &p, (long)der_len)) == NULL) {
    cr_set_err(err, "PKCS#12: not a PKCS#12 container");
    goto out;
  }
  if (PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, password, -1) != 1) {
    cr_set_err(err, "PKCS#12: wrong password or damaged container");
    goto out;
  }
  if (PKCS12_parse(p12, password, &pkey, &cert, &ca) != 1 || pkey == NULL || cert == NULL) {
    cr_set_err(err, "PKCS#12: cannot open the container (wrong password?)");
    goto out;
  }
  c = cr_cert_to_pem(cert);
  k = cr_pkey_to_pem(pkey);
  if (c == NULL || k == NULL) {
    cr_set_err(err, "PKCS#12: cannot encode its contents");
    goto out;
  }
  *cert_pem = c;
  *key_pem = k;
  c = NULL;
  k = NULL;
  rc = 0;
out:
  ERR_clear_error();
  free(c);
  crypto_free_secret(k);
  sk_X509_pop_free(ca, X509_free);
  X509_free(cert);
  EVP_PKEY_free(pkey);
  PKCS12_free(p12);
  return rc;
}
