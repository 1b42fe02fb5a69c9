/*
 * crypto.h: the one module that talks to OpenSSL.
 *
 * Shared by certdeployd, certdeploy-agent and certdeploy-mockca. Nothing
 * else in the tree includes an OpenSSL header.
 *
 * Conventions:
 * - Functions returning `int` answer 0 on success and -1 on failure.
 * - Where a function takes `char **err`, on failure it stores a malloc'd,
 *   human-readable message there (the caller frees it); err may be NULL.
 * - Strings returned are malloc'd and owned by the caller; secret ones
 *   (private keys, passwords, plaintext) should be freed with
 *   crypto_free_secret() so they are wiped first.
 * - Times are Unix seconds (UTC).
 */
#ifndef CERTDEPLOY_CRYPTO_H
#define CERTDEPLOY_CRYPTO_H

#include <stddef.h>
#include <time.h>

/* ---- randomness, hashing, memory hygiene ---------------------------- */

/* Fills buf with len bytes from the CSPRNG. */
int crypto_random_bytes(void *buf, size_t len);

/* Returns prefix + URL-safe base64 (no padding) of nbytes random bytes,
 * e.g. crypto_random_token("cdt_", 32). NULL on failure. */
char *crypto_random_token(const char *prefix, size_t nbytes);

/* Writes the lower-case hex SHA-256 of data into out (65 bytes with NUL). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* Writes the lower-case hex HMAC-SHA256 (RFC 2104) of data under key into
 * out (65 bytes with NUL). Returns 0, or -1 with out "" when OpenSSL
 * fails (so a comparison with it fails closed). */
int crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[65]);

/* Constant-time comparison of two equal-length buffers: 1 equal, 0 not. */
int crypto_equal(const void *a, const void *b, size_t len);

/* Zeroes len bytes in a way the compiler cannot drop. */
void crypto_cleanse(void *p, size_t len);

/* Wipes a NUL-terminated secret and frees it. Accepts NULL. */
void crypto_free_secret(char *s);

/* Takes a secret given on the command line: *dst (freed with
 * crypto_free_secret first) becomes a malloc'd copy of arg, and arg, the
 * argv string, is blanked so `ps` no longer shows it. 0, or -1 when out of
 * memory (arg is blanked all the same; *dst is NULL). */
int crypto_take_arg_secret(char **dst, char *arg);

/* Standard base64 with padding. encode: NULL on failure. decode: malloc'd
 * bytes in *out (also NUL-terminated for convenience), -1 on bad input. */
char *crypto_base64_encode(const void *data, size_t len);
int crypto_base64_decode(const char *text, unsigned char **out, size_t *out_len);

/* Random UUID v4 in canonical lower-case form into out (37 bytes): unique,
 * not secret (drawn from a per-thread block of CSPRNG output). */
int crypto_uuid_v4(char out[37]);

/* ---- secrets at rest: AES-256-GCM with the master key --------------- */

#define CRYPTO_MASTER_KEY_LEN 32

/* Loads a 32-byte master key from path, or, when the file does not exist,
 * creates it (mode 0600, parent directory must exist) with random bytes.
 * A file of another size is an error that names the path. */
int crypto_master_key_load(const char *path, unsigned char key[CRYPTO_MASTER_KEY_LEN], char **err);

/* Encrypts plain with a fresh random 12-byte nonce. Returns base64 text of
 * "v1" || nonce || ciphertext || tag, NULL on failure. */
char *crypto_seal(const unsigned char key[CRYPTO_MASTER_KEY_LEN], const void *plain, size_t len);

/* Reverses crypto_seal. *plain is malloc'd, NUL-terminated (len excludes
 * the NUL); free it with crypto_free_secret. -1 when the text is damaged
 * or was sealed with another key. */
int crypto_open(const unsigned char key[CRYPTO_MASTER_KEY_LEN], const char *sealed, char **plain,
                size_t *len);

/* ---- keys ------------------------------------------------------------ */

typedef struct crypto_key crypto_key;

crypto_key *crypto_key_generate_rsa(int bits);
crypto_key *crypto_key_generate_ec_p256(void);
/* Parses an unencrypted PEM private key (PKCS#8 or traditional). */
crypto_key *crypto_key_from_pem(const char *pem, char **err);
/* PKCS#8 PEM of the private key; free with crypto_free_secret. */
char *crypto_key_to_pem(const crypto_key *key);
/* Writes the lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo
 * into out (65 bytes): the same value as crypto_csr_info.pubkey_sha256 and
 * crypto_cert_info.pubkey_sha256 for that key, so a certificate can be
 * matched to its key. -1 on encoding failure. */
int crypto_key_pubkey_sha256(const crypto_key *key, char out[65]);
/* Frees *key and sets it to NULL. Accepts NULL and *key == NULL. */
void crypto_key_free(crypto_key **key);

/* ---- CSRs ------------------------------------------------------------ */

/* PKCS#10 PEM with subject CN=common_name, signed with SHA-256. When
 * pubkey_sha256 is not NULL it receives the request's key hash, as
 * crypto_csr_check would report it. */
char *crypto_csr_create(const crypto_key *key, const char *common_name, char pubkey_sha256[65]);

typedef struct crypto_csr_info {
  char key_type[8];       /* "RSA" or "EC" */
  int key_bits;           /* RSA modulus bits, or EC field bits */
  char curve[32];         /* EC curve short name ("prime256v1"), else "" */
  char common_name[256];  /* subject CN, "" when absent */
  char pubkey_sha256[65]; /* SHA-256 hex of the DER SubjectPublicKeyInfo */
} crypto_csr_info;

/* Parses a PEM CSR, verifies its self-signature, and refuses weak keys:
 * RSA under 2048 bits, EC other than P-256/P-384/P-521, other key types.
 * The error says which rule failed ("RSA key of 1024 bits is too weak;
 * use RSA-2048 or larger or EC P-256"). info may be NULL. */
int crypto_csr_check(const char *pem, crypto_csr_info *info, char **err);

/* ---- certificates ---------------------------------------------------- */

typedef struct crypto_cert_info {
  char serial[130]; /* upper-case hex, even length */
  time_t not_before;
  time_t not_after;
  char sha256[65];        /* SHA-256 hex of the DER certificate */
  char pubkey_sha256[65]; /* SHA-256 hex of the DER SubjectPublicKeyInfo */
  char common_name[256];  /* subject CN, "" when absent */
  char issuer_cn[256];    /* issuer CN, "" when absent */
} crypto_cert_info;

/* Parses the first certificate of a PEM text. */
int crypto_cert_parse(const char *pem, crypto_cert_info *info, char **err);

/* Writes a fresh self-signed TLS server pair (EC P-256, one year, SAN
 * DNS:localhost, IP:127.0.0.1, IP:::1, plus host when it is another name
 * or address) to cert_path and key_path (key mode 0600). */
int crypto_selfsigned_write(const char *cert_path, const char *key_path, const char *host,
                            char **err);

/* ---- PKCS#12 --------------------------------------------------------- */

/* Builds a PKCS#12 of cert + key (+ chain PEM, may be NULL) protected by
 * password (AES-256-CBC, PBKDF2, SHA-256 MAC). *der is malloc'd. */
int crypto_pkcs12_create(const char *cert_pem, const char *key_pem, const char *chain_pem,
                         const char *password, unsigned char **der, size_t *der_len, char **err);

/* Opens a PKCS#12: *cert_pem and *key_pem are malloc'd PEM texts. */
int crypto_pkcs12_parse(const unsigned char *der, size_t der_len, const char *password,
                        char **cert_pem, char **key_pem, char **err);

/* ---- a small issuing CA (used by certdeploy-mockca) ------------------ */

typedef struct crypto_ca crypto_ca;

/* Loads ca.pem and ca.key from dir, or creates them (EC P-256 self-signed
 * root "certdeploy mock CA", ten years, key 0600) when both are missing. */
crypto_ca *crypto_ca_load_or_create(const char *dir, char **err);
/* The CA certificate as PEM (owned by the ca, valid until crypto_ca_free). */
const char *crypto_ca_cert_pem(const crypto_ca *ca);
void crypto_ca_free(crypto_ca **ca);

/* Signs the public key of a checked CSR into a clientAuth leaf:
 * subject CN=common_name (not the CSR's), SAN otherName UPN when upn is
 * non-NULL and non-empty, random serial (16 bytes, positive), notBefore =
 * now, notAfter = now + validity_seconds, keyUsage digitalSignature,
 * extendedKeyUsage clientAuth. The CSR must pass crypto_csr_check. When
 * info is not NULL it receives the certificate's crypto_cert_parse facts. */
char *crypto_ca_issue(crypto_ca *ca, const char *csr_pem, const char *common_name, const char *upn,
                      long validity_seconds, crypto_cert_info *info, char **err);

#endif
