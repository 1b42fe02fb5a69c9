/* crypto_cert.c: certificates: PEM in and out, subject names, and parsing into crypto_cert_info. */
#include "crypto_internal.h"

#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Copies the first CN of name into out (size outsz), "" when absent.
 * -1 when the CN does not fit or holds a NUL byte. */
int cr_name_cn(const X509_NAME *name, char *out, size_t outsz) {
  int idx;
  unsigned char *utf8 = NULL;
  int len;
  int rc = -1;

  out[0] = '\0';
  idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) {
    return 0;
  }
  len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
  if (len < 0) {
    goto out;
  }
  if ((size_t)len >= outsz || memchr(utf8, '\0', (size_t)len) != NULL) {
    goto out;
  }
  memcpy(out, utf8, (size_t)len);
  out[len] = '\0';
  rc = 0;
out:
  OPENSSL_free(utf8);
  return rc;
}

X509 *cr_cert_from_pem(const char *pem) {
  BIO *bio = cr_bio_from_text(pem);
  X509 *x = NULL;
  if (bio != NULL) {
    x = PEM_read_bio_X509(bio, NULL, cr_no_password_cb, NULL);
  }
  BIO_free(bio);
  return x;
}

char *cr_cert_to_pem(X509 *x) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_X509(bio, x) == 1) {
    out = cr_bio_to_string(bio);
  }
  ERR_clear_error();
  BIO_free(bio);
  return out;
}

static int asn1_time_to_unix(const ASN1_TIME *t, time_t *out) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return -1;
  }
  *out = timegm(&tm);
  return 0;
}

int cr_cert_info(X509 *x, crypto_cert_info *info_out, char **err) {
  crypto_cert_info info;
  const ASN1_INTEGER *serial;
  unsigned char *der = NULL;
  int der_len;
  int rc = -1;

  memset(&info, 0, sizeof(info));
  serial = X509_get0_serialNumber(x);
  /* The magnitude bytes as hex: even length, as `openssl x509 -serial`
   * and DigiCert print it. */
  if (serial == NULL || ASN1_STRING_length(serial) <= 0 ||
      (size_t)ASN1_STRING_length(serial) * 2 >= sizeof(info.serial)) {
    cr_set_err(err, "certificate serial number is missing or too long");
    goto out;
  }
  cr_hex_encode(ASN1_STRING_get0_data(serial), (size_t)ASN1_STRING_length(serial), info.serial, 1);
  if (asn1_time_to_unix(X509_get0_notBefore(x), &info.not_before) != 0 ||
      asn1_time_to_unix(X509_get0_notAfter(x), &info.not_after) != 0) {
    cr_set_err(err, "certificate validity dates are malformed");
    goto out;
  }
  der_len = i2d_X509(x, &der);
  if (der_len <= 0) {
    cr_set_err(err, "certificate cannot be encoded");
    goto out;
  }
  crypto_sha256_hex(der, (size_t)der_len, info.sha256);
  if (cr_spki_sha256(X509_get_X509_PUBKEY(x), info.pubkey_sha256) != 0) {
    cr_set_err(err, "certificate public key cannot be read");
    goto out;
  }
  if (cr_name_cn(X509_get_subject_name(x), info.common_name, sizeof(info.common_name)) != 0 ||
      cr_name_cn(X509_get_issuer_name(x), info.issuer_cn, sizeof(info.issuer_cn)) != 0) {
    cr_set_err(err, "certificate common name is too long or malformed");
    goto out;
  }
  if (info_out != NULL) {
    *info_out = info;
  }
  rc = 0;
out:
  ERR_clear_error();
  OPENSSL_free(der);
  return rc;
}

int crypto_cert_parse(const char *pem, crypto_cert_info *info, char **err) {
  X509 *x = pem != NULL ? cr_cert_from_pem(pem) : NULL;
  int rc;
  if (x == NULL) {
    return cr_set_err(err, "not a PEM certificate");
  }
  if (X509_get0_pubkey(x) == NULL) { /* decoded while parsing: no cost here */
    rc = cr_set_err(err, "certificate public key cannot be read");
  } else {
    rc = cr_cert_info(x, info, err);
  }
  ERR_clear_error();
  X509_free(x);
  return rc;
}
