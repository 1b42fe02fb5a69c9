/*
 * crypto_internal.h: what the lib/crypto_*.c files share; crypto.h is the
 * public API. Only lib/crypto*.c include this header (it pulls in OpenSSL).
 *
 * The helpers declared here carry the cr_ prefix: they are visible to the
 * whole program, and the prefix keeps them out of its way.
 *
 * Internal conventions: every function with an `err` argument reports
 * through cr_set_err(), which appends the first queued OpenSSL error when
 * there is one and clears the queue so later calls start clean.
 */
#ifndef CERTDEPLOY_CRYPTO_INTERNAL_H
#define CERTDEPLOY_CRYPTO_INTERNAL_H

#include "crypto.h"

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The object behind the public crypto_key handle (crypto_key.c; its
 * pkey is also read by crypto_csr.c). */
struct crypto_key {
  EVP_PKEY *pkey;
};

/* Serial length of every certificate we issue or self-sign. */
#define LEAF_SERIAL_BYTES 16
/* Longest common name we put into a certificate we build. */
#define MAX_CN_LEN 64

/* ---- crypto_error.c -------------------------------------------------- */

/* Stores "fmt...: <openssl reason>" in *err (when err is non-NULL and
 * empty) and clears the OpenSSL error queue. Always returns -1. */
__attribute__((format(printf, 2, 3))) int cr_set_err(char **err, const char *fmt, ...);

/* ---- crypto_bio.c ---------------------------------------------------- */

/* Contents of a memory BIO as a fresh malloc'd string; NULL on failure. */
char *cr_bio_to_string(BIO *bio);
/* A read-only memory BIO over text (which must outlive it). */
BIO *cr_bio_from_text(const char *text);
/* The pem_password_cb that refuses every passphrase prompt. */
int cr_no_password_cb(char *buf, int size, int rwflag, void *u);

/* ---- crypto_hash.c --------------------------------------------------- */

/* Hex of len bytes into out (2 * len + 1 bytes), upper case when upper. */
void cr_hex_encode(const unsigned char *in, size_t len, char *out, int upper);

/* ---- crypto_key.c ---------------------------------------------------- */

/* crypto_key_pubkey_sha256 of a certificate's or request's stored
 * SubjectPublicKeyInfo. */
int cr_spki_sha256(const X509_PUBKEY *spki, char out[65]);
/* An unencrypted PEM private key; NULL on failure (caller frees). */
EVP_PKEY *cr_pkey_from_pem(const char *pem);
/* PKCS#8 PEM of pkey; free with crypto_free_secret. */
char *cr_pkey_to_pem(EVP_PKEY *pkey);

/* ---- crypto_csr.c ---------------------------------------------------- */

/* crypto_csr_check that also hands back the parsed request (caller frees
 * with X509_REQ_free) when out_req is non-NULL. */
int cr_csr_check(const char *pem, crypto_csr_info *info_out, X509_REQ **out_req, char **err);

/* ---- crypto_cert.c --------------------------------------------------- */

/* The first CN of name into out, "" when absent; -1 when malformed. */
int cr_name_cn(const X509_NAME *name, char *out, size_t outsz);
/* The first certificate of a PEM text; NULL on failure (caller frees). */
X509 *cr_cert_from_pem(const char *pem);
/* PEM of x, malloc'd; NULL on failure. */
char *cr_cert_to_pem(X509 *x);

/* crypto_cert_parse's facts of a certificate in memory (its key is not
 * decoded). */
int cr_cert_info(X509 *x, crypto_cert_info *info, char **err);

/* ---- crypto_cert_build.c --------------------------------------------- */

/* Adds one extension given in openssl.cnf syntax (static strings only). */
int cr_add_ext(X509 *x, X509 *issuer, int nid, const char *value);
/* Adds gens as the subjectAltName extension of x (gens stays the caller's). */
int cr_add_san(X509 *x, GENERAL_NAMES *gens);
/* A fresh v3 certificate shell: serial, validity, subject CN, and the
 * public key: spki copied as it is when not NULL (a CSR's), else
 * subject_key's. */
X509 *cr_cert_new(EVP_PKEY *subject_key, const X509_PUBKEY *spki, const char *cn, time_t now,
                  long seconds, size_t serial_bytes);
/* Writes the key (0600) then the certificate (0644) as PEM files, each
 * atomically; `what` names the pair in errors ("CA", "self-signed").
 * 0, or -1 with *err set. */
int cr_write_pair(const char *cert_path, const char *key_path, X509 *x, EVP_PKEY *pkey,
                  const char *what, char **err);

#endif
