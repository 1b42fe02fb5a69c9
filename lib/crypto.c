/*
 * crypto.c: the OpenSSL 3 implementation of crypto.h (EVP APIs only).
 *
 * Internal conventions: every function with an `err` argument reports
 * through set_err(), which appends the first queued OpenSSL error when
 * there is one and clears the queue so later calls start clean.
 */
#include "crypto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct crypto_key {
  EVP_PKEY *pkey;
};

struct crypto_ca {
  X509 *cert;     /* the CA certificate */
  EVP_PKEY *key;  /* its private key; only read after load, safe to share */
  char *cert_pem; /* cert as PEM, returned by crypto_ca_cert_pem */
};

#define SEAL_VERSION "v1"
#define SEAL_VERSION_LEN 2
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define CA_COMMON_NAME "certdeploy mock CA"
#define CA_VALIDITY_SECONDS (3650L * 86400L)
#define SELFSIGNED_VALIDITY_SECONDS (365L * 86400L)
#define LEAF_SERIAL_BYTES 16
#define MAX_CN_LEN 64

/* ---- errors and small helpers ---------------------------------------- */

/* Stores "fmt...: <openssl reason>" in *err (when err is non-NULL and
 * empty) and clears the OpenSSL error queue. Always returns -1. */
__attribute__((format(printf, 2, 3))) static int set_err(char **err, const char *fmt, ...) {
  char msg[512];
  char ossl[256] = "";
  unsigned long code = ERR_peek_error();
  va_list ap;

  if (code != 0) {
    ERR_error_string_n(code, ossl, sizeof(ossl));
  }
  ERR_clear_error();
  if (err == NULL || *err != NULL) {
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (ossl[0] != '\0') {
    size_t used = strlen(msg);
    snprintf(msg + used, sizeof(msg) - used, " (%s)", ossl);
  }
  *err = strdup(msg);
  return -1;
}

/* Copies the contents of a memory BIO into a fresh NUL-terminated string.
 * For secret BIOs use a BIO_s_secmem(); the copy is then freed by the
 * caller with crypto_free_secret. NULL on failure. */
static char *bio_to_string(BIO *bio) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  char *out;

  if (len < 0) {
    return NULL;
  }
  out = malloc((size_t)len + 1);
  if (out == NULL) {
    return NULL;
  }
  if (len > 0) {
    memcpy(out, data, (size_t)len);
  }
  out[len] = '\0';
  return out;
}

/* A read-only memory BIO over a NUL-terminated text. */
static BIO *bio_from_text(const char *text) {
  size_t len = strlen(text);
  if (len > INT_MAX) {
    return NULL;
  }
  return BIO_new_mem_buf(text, (int)len);
}

/* Refuses passphrase prompts: an encrypted PEM is an error, never a
 * terminal prompt. */
static int no_password_cb(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return -1;
}

static void hex_encode(const unsigned char *in, size_t len, char *out, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

/* SHA-256 hex of the DER SubjectPublicKeyInfo of pkey. */
static int pubkey_sha256(EVP_PKEY *pkey, char out[65]) {
  unsigned char *der = NULL;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) {
    return -1;
  }
  crypto_sha256_hex(der, (size_t)len, out);
  OPENSSL_free(der);
  return 0;
}

/* Copies the first CN of name into out (size outsz), "" when absent.
 * -1 when the CN does not fit or holds a NUL byte. */
static int name_cn(const X509_NAME *name, char *out, size_t outsz) {
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

/* Writes data to path atomically (temp file + rename) with the given mode.
 * The temp file is created with that mode, so a key is never readable by
 * others, even briefly. */
static int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             char **err) {
  char tmp[4096];
  int fd = -1;
  int rc = -1;
  const unsigned char *p = data;
  size_t left = len;

  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
    return set_err(err, "path too long: %s", path);
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    set_err(err, "cannot create %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (fchmod(fd, mode) != 0) {
    set_err(err, "cannot chmod %s: %s", tmp, strerror(errno));
    goto out;
  }
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      set_err(err, "cannot write %s: %s", tmp, strerror(errno));
      goto out;
    }
    p += n;
    left -= (size_t)n;
  }
  if (fsync(fd) != 0) {
    set_err(err, "cannot sync %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    set_err(err, "cannot close %s: %s", tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    set_err(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0) {
    close(fd);
  }
  if (rc != 0) {
    unlink(tmp);
  }
  return rc;
}

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer.
 * Answers -1 with errno set (ENOENT when missing) on failure. */
static int read_file(const char *path, char **out, size_t *out_len) {
  FILE *f = fopen(path, "rbe");
  char *buf = NULL;
  size_t cap = 0;
  size_t len = 0;
  int rc = -1;
  int saved;

  if (f == NULL) {
    return -1;
  }
  for (;;) {
    size_t n;
    if (cap - len < 4096) {
      char *grown;
      if (cap > (1u << 24)) {
        errno = EFBIG;
        goto out;
      }
      grown = realloc(buf, cap + 8192);
      if (grown == NULL) {
        goto out;
      }
      buf = grown;
      cap += 8192;
    }
    n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) {
        errno = EIO;
        goto out;
      }
      break;
    }
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
out:
  saved = errno;
  if (buf != NULL) {
    crypto_cleanse(buf, cap);
    free(buf);
  }
  fclose(f);
  errno = saved;
  return rc;
}

/* ---- randomness, hashing, memory hygiene ---------------------------- */

int crypto_random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
  while (len > 0) {
    int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(p, chunk) != 1) {
      ERR_clear_error();
      return -1;
    }
    p += chunk;
    len -= (size_t)chunk;
  }
  return 0;
}

char *crypto_random_token(const char *prefix, size_t nbytes) {
  unsigned char *raw = NULL;
  char *b64 = NULL;
  char *out = NULL;
  size_t plen = strlen(prefix);
  size_t blen;

  if (nbytes == 0 || nbytes > 1024) {
    return NULL;
  }
  raw = malloc(nbytes);
  if (raw == NULL || crypto_random_bytes(raw, nbytes) != 0) {
    goto out;
  }
  b64 = crypto_base64_encode(raw, nbytes);
  if (b64 == NULL) {
    goto out;
  }
  blen = strlen(b64);
  while (blen > 0 && b64[blen - 1] == '=') {
    blen--;
  }
  out = malloc(plen + blen + 1);
  if (out == NULL) {
    goto out;
  }
  memcpy(out, prefix, plen);
  for (size_t i = 0; i < blen; i++) {
    char c = b64[i];
    out[plen + i] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  out[plen + blen] = '\0';
out:
  if (raw != NULL) {
    crypto_cleanse(raw, nbytes);
  }
  free(raw);
  crypto_free_secret(b64);
  return out;
}

void crypto_sha256_hex(const void *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;

  if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md)) {
    /* Only reachable when OpenSSL is broken; an empty string never
     * matches a real digest, so comparisons fail closed. */
    ERR_clear_error();
    out[0] = '\0';
    return;
  }
  hex_encode(md, sizeof(md), out, 0);
}

int crypto_equal(const void *a, const void *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0 ? 1 : 0;
}

void crypto_cleanse(void *p, size_t len) {
  if (p != NULL && len > 0) {
    OPENSSL_cleanse(p, len);
  }
}

void crypto_free_secret(char *s) {
  if (s == NULL) {
    return;
  }
  crypto_cleanse(s, strlen(s));
  free(s);
}

char *crypto_base64_encode(const void *data, size_t len) {
  char *out;
  size_t outlen;

  if (len > (size_t)INT_MAX / 4 * 3 - 3) {
    return NULL;
  }
  outlen = (len + 2) / 3 * 4;
  out = malloc(outlen + 1);
  if (out == NULL) {
    return NULL;
  }
  if (EVP_EncodeBlock((unsigned char *)out, data, (int)len) != (int)outlen) {
    free(out);
    return NULL;
  }
  out[outlen] = '\0';
  return out;
}

static int is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int crypto_base64_decode(const char *text, unsigned char **out, size_t *out_len) {
  size_t len = strlen(text);
  size_t pad = 0;
  unsigned char *buf;
  int n;

  /* EVP_DecodeBlock skips whitespace and miscounts padding; validate the
   * exact canonical shape first so bad input is always refused. */
  if (len % 4 != 0 || len > (size_t)INT_MAX) {
    return -1;
  }
  if (len > 0 && text[len - 1] == '=') {
    pad++;
    if (text[len - 2] == '=') {
      pad++;
    }
  }
  for (size_t i = 0; i < len - pad; i++) {
    if (!is_b64_char(text[i])) {
      return -1;
    }
  }
  buf = malloc(len / 4 * 3 + 1);
  if (buf == NULL) {
    return -1;
  }
  n = len == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
  if (n < 0 || (size_t)n < pad) {
    free(buf);
    return -1;
  }
  n -= (int)pad;
  buf[n] = '\0';
  *out = buf;
  *out_len = (size_t)n;
  return 0;
}

int crypto_uuid_v4(char out[37]) {
  unsigned char b[16];
  char hex[33];

  if (crypto_random_bytes(b, sizeof(b)) != 0) {
    return -1;
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  hex_encode(b, sizeof(b), hex, 0);
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
  return 0;
}

/* ---- secrets at rest -------------------------------------------------- */

int crypto_master_key_load(const char *path, unsigned char key[CRYPTO_MASTER_KEY_LEN], char **err) {
  char *data = NULL;
  size_t len = 0;
  int rc = -1;

  /* Two rounds: a concurrent creator may win the O_EXCL race, then we
   * read what it wrote. */
  for (int round = 0; round < 2; round++) {
    int fd;
    if (read_file(path, &data, &len) == 0) {
      break;
    }
    if (errno != ENOENT) {
      return set_err(err, "cannot read master key %s: %s", path, strerror(errno));
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
      continue;
    }
    if (fd < 0) {
      return set_err(err, "cannot create master key %s: %s", path, strerror(errno));
    }
    if (crypto_random_bytes(key, CRYPTO_MASTER_KEY_LEN) != 0 ||
        write(fd, key, CRYPTO_MASTER_KEY_LEN) != CRYPTO_MASTER_KEY_LEN || fsync(fd) != 0) {
      int saved = errno;
      close(fd);
      unlink(path);
      crypto_cleanse(key, CRYPTO_MASTER_KEY_LEN);
      return set_err(err, "cannot write master key %s: %s", path, strerror(saved));
    }
    close(fd);
    return 0;
  }
  if (data == NULL) {
    return set_err(err, "cannot read master key %s", path);
  }
  if (len != CRYPTO_MASTER_KEY_LEN) {
    set_err(err, "master key %s has %zu bytes; it must hold exactly %d", path, len,
            CRYPTO_MASTER_KEY_LEN);
    goto out;
  }
  memcpy(key, data, CRYPTO_MASTER_KEY_LEN);
  rc = 0;
out:
  crypto_cleanse(data, len);
  free(data);
  return rc;
}

char *crypto_seal(const unsigned char key[CRYPTO_MASTER_KEY_LEN], const void *plain, size_t len) {
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *buf = NULL;
  size_t total;
  unsigned char *nonce;
  unsigned char *ct;
  int outl = 0;
  int finl = 0;
  char *out = NULL;

  if (len > (size_t)INT_MAX - 64) {
    return NULL;
  }
  total = SEAL_VERSION_LEN + SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
  buf = malloc(total);
  if (buf == NULL) {
    goto out;
  }
  memcpy(buf, SEAL_VERSION, SEAL_VERSION_LEN);
  nonce = buf + SEAL_VERSION_LEN;
  ct = nonce + SEAL_NONCE_LEN;
  if (crypto_random_bytes(nonce, SEAL_NONCE_LEN) != 0) {
    goto out;
  }
  ctx = EVP_CIPHER_CTX_new();
  /* The version prefix is authenticated as AAD so it cannot be swapped. */
  if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, NULL, &outl, buf, SEAL_VERSION_LEN) != 1 ||
      (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1) ||
      EVP_EncryptFinal_ex(ctx, ct + (len > 0 ? outl : 0), &finl) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1) {
    ERR_clear_error();
    goto out;
  }
  out = crypto_base64_encode(buf, total);
out:
  EVP_CIPHER_CTX_free(ctx);
  if (buf != NULL) {
    crypto_cleanse(buf, total);
  }
  free(buf);
  return out;
}

int crypto_open(const unsigned char key[CRYPTO_MASTER_KEY_LEN], const char *sealed, char **plain,
                size_t *len) {
  unsigned char *raw = NULL;
  size_t raw_len = 0;
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *out = NULL;
  size_t ct_len;
  unsigned char *ct;
  unsigned char *tag;
  int outl = 0;
  int finl = 0;
  int rc = -1;

  if (crypto_base64_decode(sealed, &raw, &raw_len) != 0) {
    return -1;
  }
  if (raw_len < SEAL_VERSION_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN ||
      memcmp(raw, SEAL_VERSION, SEAL_VERSION_LEN) != 0) {
    goto out;
  }
  ct = raw + SEAL_VERSION_LEN + SEAL_NONCE_LEN;
  ct_len = raw_len - SEAL_VERSION_LEN - SEAL_NONCE_LEN - SEAL_TAG_LEN;
  tag = ct + ct_len;
  out = malloc(ct_len + 1);
  if (out == NULL) {
    goto out;
  }
  ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL ||
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + SEAL_VERSION_LEN) != 1 ||
      EVP_DecryptUpdate(ctx, NULL, &outl, raw, SEAL_VERSION_LEN) != 1 ||
      (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ct_len) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx, out + (ct_len > 0 ? outl : 0), &finl) != 1) {
    ERR_clear_error();
    goto out;
  }
  out[ct_len] = '\0';
  *plain = (char *)out;
  *len = ct_len;
  out = NULL;
  rc = 0;
out:
  EVP_CIPHER_CTX_free(ctx);
  if (out != NULL) {
    crypto_cleanse(out, ct_len + 1);
    free(out);
  }
  crypto_cleanse(raw, raw_len);
  free(raw);
  return rc;
}

/* ---- keys ------------------------------------------------------------ */

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

static EVP_PKEY *pkey_from_pem(const char *pem) {
  BIO *bio = bio_from_text(pem);
  EVP_PKEY *pkey = NULL;
  if (bio != NULL) {
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password_cb, NULL);
  }
  BIO_free(bio);
  return pkey;
}

crypto_key *crypto_key_from_pem(const char *pem, char **err) {
  EVP_PKEY *pkey = pkey_from_pem(pem);
  if (pkey == NULL) {
    set_err(err, "not an unencrypted PEM private key");
    return NULL;
  }
  return key_wrap(pkey);
}

/* PKCS#8 PEM of pkey through a wiping BIO; free with crypto_free_secret. */
static char *pkey_to_pem(EVP_PKEY *pkey) {
  BIO *bio = BIO_new(BIO_s_secmem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
    out = bio_to_string(bio);
  }
  ERR_clear_error();
  BIO_free(bio);
  return out;
}

char *crypto_key_to_pem(const crypto_key *key) {
  return pkey_to_pem(key->pkey);
}

int crypto_key_pubkey_sha256(const crypto_key *key, char out[65]) {
  return pubkey_sha256(key->pkey, out);
}

void crypto_key_free(crypto_key **key) {
  if (key == NULL || *key == NULL) {
    return;
  }
  EVP_PKEY_free((*key)->pkey);
  free(*key);
  *key = NULL;
}

/* ---- CSRs ------------------------------------------------------------ */

static char *req_to_pem(X509_REQ *req) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_X509_REQ(bio, req) == 1) {
    out = bio_to_string(bio);
  }
  ERR_clear_error();
  BIO_free(bio);
  return out;
}

char *crypto_csr_create(const crypto_key *key, const char *common_name) {
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
      X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, key->pkey) != 1 ||
      X509_REQ_sign(req, key->pkey, EVP_sha256()) <= 0) {
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
      return set_err(err, "RSA key of %d bits is too weak; use RSA-2048 or larger or EC P-256",
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
      return set_err(err, "EC key with explicit or unknown curve parameters is not accepted; "
                          "use EC P-256, P-384 or P-521");
    }
    memcpy(info->curve, group, sizeof(info->curve));
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0 &&
        strcmp(group, "secp521r1") != 0) {
      return set_err(err, "EC curve %s is not accepted; use EC P-256, P-384 or P-521", group);
    }
    return 0;
  }
  return set_err(err, "key type %s is not accepted; use RSA-2048 or larger or EC P-256",
                 EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
}

/* crypto_csr_check that also hands back the parsed request (caller frees
 * with X509_REQ_free) when out_req is non-NULL. */
static int csr_check(const char *pem, crypto_csr_info *info_out, X509_REQ **out_req, char **err) {
  crypto_csr_info info;
  BIO *bio = NULL;
  X509_REQ *req = NULL;
  EVP_PKEY *pkey;
  int rc = -1;

  memset(&info, 0, sizeof(info));
  if (pem == NULL || (bio = bio_from_text(pem)) == NULL) {
    return set_err(err, "CSR is missing");
  }
  req = PEM_read_bio_X509_REQ(bio, NULL, no_password_cb, NULL);
  if (req == NULL) {
    set_err(err, "CSR is not a PEM certificate request");
    goto out;
  }
  pkey = X509_REQ_get0_pubkey(req);
  if (pkey == NULL) {
    set_err(err, "CSR public key cannot be read");
    goto out;
  }
  if (check_key_strength(pkey, &info, err) != 0) {
    goto out;
  }
  if (X509_REQ_verify(req, pkey) != 1) {
    set_err(err, "CSR signature does not verify with its public key");
    goto out;
  }
  if (name_cn(X509_REQ_get_subject_name(req), info.common_name, sizeof(info.common_name)) != 0) {
    set_err(err, "CSR subject common name is too long or malformed");
    goto out;
  }
  if (pubkey_sha256(pkey, info.pubkey_sha256) != 0) {
    set_err(err, "CSR public key cannot be encoded");
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
  return csr_check(pem, info, NULL, err);
}

/* ---- certificates ---------------------------------------------------- */

static X509 *cert_from_pem(const char *pem) {
  BIO *bio = bio_from_text(pem);
  X509 *x = NULL;
  if (bio != NULL) {
    x = PEM_read_bio_X509(bio, NULL, no_password_cb, NULL);
  }
  BIO_free(bio);
  return x;
}

static char *cert_to_pem(X509 *x) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio != NULL && PEM_write_bio_X509(bio, x) == 1) {
    out = bio_to_string(bio);
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

int crypto_cert_parse(const char *pem, crypto_cert_info *info_out, char **err) {
  crypto_cert_info info;
  X509 *x = NULL;
  const ASN1_INTEGER *serial;
  unsigned char *der = NULL;
  int der_len;
  EVP_PKEY *pkey;
  int rc = -1;

  memset(&info, 0, sizeof(info));
  x = pem != NULL ? cert_from_pem(pem) : NULL;
  if (x == NULL) {
    return set_err(err, "not a PEM certificate");
  }
  serial = X509_get0_serialNumber(x);
  /* The magnitude bytes as hex: even length, as `openssl x509 -serial`
   * and DigiCert print it. */
  if (serial == NULL || ASN1_STRING_length(serial) <= 0 ||
      (size_t)ASN1_STRING_length(serial) * 2 >= sizeof(info.serial)) {
    set_err(err, "certificate serial number is missing or too long");
    goto out;
  }
  hex_encode(ASN1_STRING_get0_data(serial), (size_t)ASN1_STRING_length(serial), info.serial, 1);
  if (asn1_time_to_unix(X509_get0_notBefore(x), &info.not_before) != 0 ||
      asn1_time_to_unix(X509_get0_notAfter(x), &info.not_after) != 0) {
    set_err(err, "certificate validity dates are malformed");
    goto out;
  }
  der_len = i2d_X509(x, &der);
  if (der_len <= 0) {
    set_err(err, "certificate cannot be encoded");
    goto out;
  }
  crypto_sha256_hex(der, (size_t)der_len, info.sha256);
  pkey = X509_get0_pubkey(x);
  if (pkey == NULL || pubkey_sha256(pkey, info.pubkey_sha256) != 0) {
    set_err(err, "certificate public key cannot be read");
    goto out;
  }
  if (name_cn(X509_get_subject_name(x), info.common_name, sizeof(info.common_name)) != 0 ||
      name_cn(X509_get_issuer_name(x), info.issuer_cn, sizeof(info.issuer_cn)) != 0) {
    set_err(err, "certificate common name is too long or malformed");
    goto out;
  }
  if (info_out != NULL) {
    *info_out = info;
  }
  rc = 0;
out:
  ERR_clear_error();
  OPENSSL_free(der);
  X509_free(x);
  return rc;
}

/* Adds one extension given in openssl.cnf syntax (static strings only). */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
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

static int gens_add_dns(GENERAL_NAMES *gens, const char *dns) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_IA5STRING *s = ASN1_IA5STRING_new();
  if (gen == NULL || s == NULL || ASN1_STRING_set(s, dns, -1) != 1) {
    GENERAL_NAME_free(gen);
    ASN1_IA5STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gen, GEN_DNS, s);
  if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
    GENERAL_NAME_free(gen);
    return -1;
  }
  return 0;
}

static int gens_add_ip(GENERAL_NAMES *gens, const char *ip) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_OCTET_STRING *s = a2i_IPADDRESS(ip);
  if (gen == NULL || s == NULL) {
    GENERAL_NAME_free(gen);
    ASN1_OCTET_STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gen, GEN_IPADD, s);
  if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
    GENERAL_NAME_free(gen);
    return -1;
  }
  return 0;
}

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

static int add_san(X509 *x, GENERAL_NAMES *gens) {
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

/* A fresh v3 certificate shell: serial, validity [now, now+seconds],
 * subject CN=cn, public key. Issuer and extensions are the caller's. */
static X509 *cert_new(EVP_PKEY *subject_key, const char *cn, time_t now, long seconds,
                      size_t serial_bytes) {
  X509 *x = X509_new();
  X509_NAME *name = NULL;

  if (x == NULL || X509_set_version(x, 2) != 1 || set_random_serial(x, serial_bytes) != 0 ||
      ASN1_TIME_set(X509_getm_notBefore(x), now) == NULL ||
      ASN1_TIME_set(X509_getm_notAfter(x), now + (time_t)seconds) == NULL ||
      X509_set_pubkey(x, subject_key) != 1) {
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

static int is_ip_literal(const char *host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int host_is_default(const char *host) {
  return host == NULL || host[0] == '\0' || strcmp(host, "localhost") == 0 ||
         strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0;
}

static int host_is_valid_dns(const char *host) {
  size_t len = strlen(host);
  if (len == 0 || len > 253) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    char c = host[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '*')) {
      return 0;
    }
  }
  return 1;
}

int crypto_selfsigned_write(const char *cert_path, const char *key_path, const char *host,
                            char **err) {
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  GENERAL_NAMES *gens = NULL;
  char *cert_pem = NULL;
  char *key_pem = NULL;
  const char *cn = host_is_default(host) ? "localhost" : host;
  int rc = -1;

  if (!host_is_default(host) && !is_ip_literal(host) && !host_is_valid_dns(host)) {
    return set_err(err, "host %s is neither an IP address nor a DNS name", host);
  }
  if (strlen(cn) > MAX_CN_LEN) {
    cn = "localhost";
  }
  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (pkey == NULL) {
    set_err(err, "cannot generate an EC P-256 key");
    goto out;
  }
  x = cert_new(pkey, cn, time(NULL), SELFSIGNED_VALIDITY_SECONDS, LEAF_SERIAL_BYTES);
  gens = sk_GENERAL_NAME_new_null();
  if (x == NULL || gens == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
      gens_add_dns(gens, "localhost") != 0 || gens_add_ip(gens, "127.0.0.1") != 0 ||
      gens_add_ip(gens, "::1") != 0 ||
      (!host_is_default(host) &&
       (is_ip_literal(host) ? gens_add_ip(gens, host) : gens_add_dns(gens, host)) != 0) ||
      add_san(x, gens) != 0 || add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
      add_ext(x, x, NID_key_usage, "critical,digitalSignature") != 0 ||
      add_ext(x, x, NID_ext_key_usage, "serverAuth") != 0 ||
      add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
      X509_sign(x, pkey, EVP_sha256()) <= 0) {
    set_err(err, "cannot build the self-signed certificate");
    goto out;
  }
  cert_pem = cert_to_pem(x);
  key_pem = pkey_to_pem(pkey);
  if (cert_pem == NULL || key_pem == NULL) {
    set_err(err, "cannot encode the self-signed pair");
    goto out;
  }
  if (write_file_atomic(key_path, key_pem, strlen(key_pem), 0600, err) != 0 ||
      write_file_atomic(cert_path, cert_pem, strlen(cert_pem), 0644, err) != 0) {
    goto out;
  }
  rc = 0;
out:
  ERR_clear_error();
  GENERAL_NAMES_free(gens);
  X509_free(x);
  EVP_PKEY_free(pkey);
  free(cert_pem);
  crypto_free_secret(key_pem);
  return rc;
}

/* ---- PKCS#12 --------------------------------------------------------- */

/* Every certificate of a PEM text, in order; NULL on failure or when
 * there is none. */
static STACK_OF(X509) * certs_from_pem(const char *pem) {
  STACK_OF(X509) *certs = sk_X509_new_null();
  BIO *bio = bio_from_text(pem);
  X509 *x;

  if (certs == NULL || bio == NULL) {
    goto fail;
  }
  while ((x = PEM_read_bio_X509(bio, NULL, no_password_cb, NULL)) != NULL) {
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

  cert = cert_from_pem(cert_pem);
  if (cert == NULL) {
    set_err(err, "PKCS#12: not a PEM certificate");
    goto out;
  }
  pkey = pkey_from_pem(key_pem);
  if (pkey == NULL) {
    set_err(err, "PKCS#12: not an unencrypted PEM private key");
    goto out;
  }
  if (X509_check_private_key(cert, pkey) != 1) {
    set_err(err, "PKCS#12: the private key does not match the certificate");
    goto out;
  }
  if (chain_pem != NULL && chain_pem[0] != '\0' && (chain = certs_from_pem(chain_pem)) == NULL) {
    set_err(err, "PKCS#12: the chain is not PEM certificates");
    goto out;
  }
  /* mac_iter -1 leaves the MAC off so we can set it with SHA-256 below. */
  p12 = PKCS12_create(password, "certdeploy", pkey, cert, chain, NID_aes_256_cbc, NID_aes_256_cbc,
                      PKCS12_DEFAULT_ITER, -1, 0);
  if (p12 == NULL ||
      PKCS12_set_mac(p12, password, -1, NULL, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) != 1) {
    set_err(err, "PKCS#12: cannot build the container");
    goto out;
  }
  len = i2d_PKCS12(p12, NULL);
  if (len <= 0 || (buf = malloc((size_t)len)) == NULL) {
    set_err(err, "PKCS#12: cannot encode the container");
    goto out;
  }
  p = buf;
  if (i2d_PKCS12(p12, &p) != len) {
    set_err(err, "PKCS#12: cannot encode the container");
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
    set_err(err, "PKCS#12: not a PKCS#12 container");
    goto out;
  }
  if (PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, password, -1) != 1) {
    set_err(err, "PKCS#12: wrong password or damaged container");
    goto out;
  }
  if (PKCS12_parse(p12, password, &pkey, &cert, &ca) != 1 || pkey == NULL || cert == NULL) {
    set_err(err, "PKCS#12: cannot open the container (wrong password?)");
    goto out;
  }
  c = cert_to_pem(cert);
  k = pkey_to_pem(pkey);
  if (c == NULL || k == NULL) {
    set_err(err, "PKCS#12: cannot encode its contents");
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

/* ---- a small issuing CA ---------------------------------------------- */

static int path_join(char *out, size_t outsz, const char *dir, const char *name) {
  return (size_t)snprintf(out, outsz, "%s/%s", dir, name) < outsz ? 0 : -1;
}

static int ca_create_files(const char *cert_path, const char *key_path, char **err) {
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  char *cert_pem = NULL;
  char *key_pem = NULL;
  int rc = -1;

  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (pkey == NULL) {
    set_err(err, "cannot generate the CA key");
    goto out;
  }
  x = cert_new(pkey, CA_COMMON_NAME, time(NULL), CA_VALIDITY_SECONDS, LEAF_SERIAL_BYTES);
  if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
      add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
      add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
      add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
      X509_sign(x, pkey, EVP_sha256()) <= 0) {
    set_err(err, "cannot build the CA certificate");
    goto out;
  }
  cert_pem = cert_to_pem(x);
  key_pem = pkey_to_pem(pkey);
  if (cert_pem == NULL || key_pem == NULL) {
    set_err(err, "cannot encode the CA pair");
    goto out;
  }
  /* Key first: a cert without its key would be an unusable half pair. */
  if (write_file_atomic(key_path, key_pem, strlen(key_pem), 0600, err) != 0 ||
      write_file_atomic(cert_path, cert_pem, strlen(cert_pem), 0644, err) != 0) {
    goto out;
  }
  rc = 0;
out:
  ERR_clear_error();
  X509_free(x);
  EVP_PKEY_free(pkey);
  free(cert_pem);
  crypto_free_secret(key_pem);
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
    set_err(err, "CA directory path too long: %s", dir);
    return NULL;
  }
  have_cert = access(cert_path, F_OK) == 0;
  have_key = access(key_path, F_OK) == 0;
  if (have_cert != have_key) {
    set_err(err, "%s exists but %s does not; restore it or remove both to create a new CA",
            have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
    return NULL;
  }
  if (!have_cert && ca_create_files(cert_path, key_path, err) != 0) {
    return NULL;
  }
  if (read_file(cert_path, &cert_pem, &cert_len) != 0) {
    set_err(err, "cannot read %s: %s", cert_path, strerror(errno));
    goto fail;
  }
  if (read_file(key_path, &key_pem, &key_len) != 0) {
    set_err(err, "cannot read %s: %s", key_path, strerror(errno));
    goto fail;
  }
  ca = calloc(1, sizeof(*ca));
  if (ca == NULL) {
    set_err(err, "out of memory");
    goto fail;
  }
  ca->cert = cert_from_pem(cert_pem);
  if (ca->cert == NULL) {
    set_err(err, "%s is not a PEM certificate", cert_path);
    goto fail;
  }
  ca->key = pkey_from_pem(key_pem);
  if (ca->key == NULL) {
    set_err(err, "%s is not an unencrypted PEM private key", key_path);
    goto fail;
  }
  if (X509_check_private_key(ca->cert, ca->key) != 1) {
    set_err(err, "%s does not match %s", key_path, cert_path);
    goto fail;
  }
  ca->cert_pem = cert_to_pem(ca->cert);
  if (ca->cert_pem == NULL) {
    set_err(err, "cannot encode the CA certificate");
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
                      long validity_seconds, char **err) {
  X509_REQ *req = NULL;
  X509 *x = NULL;
  GENERAL_NAMES *gens = NULL;
  char *out = NULL;
  size_t cn_len = common_name != NULL ? strlen(common_name) : 0;

  if (cn_len == 0) {
    set_err(err, "common name is required");
    return NULL;
  }
  if (cn_len > MAX_CN_LEN) {
    set_err(err, "common name is longer than %d characters", MAX_CN_LEN);
    return NULL;
  }
  if (validity_seconds <= 0) {
    set_err(err, "validity must be positive");
    return NULL;
  }
  if (csr_check(csr_pem, NULL, &req, err) != 0) {
    return NULL;
  }
  x = cert_new(X509_REQ_get0_pubkey(req), common_name, time(NULL), validity_seconds,
               LEAF_SERIAL_BYTES);
  if (x == NULL) {
    set_err(err, "cannot build the certificate (is the common name valid UTF-8?)");
    goto out;
  }
  if (X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
      add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
      add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") != 0 ||
      add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth") != 0 ||
      add_ext(x, ca->cert, NID_subject_key_identifier, "hash") != 0 ||
      add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") != 0) {
    set_err(err, "cannot add certificate extensions");
    goto out;
  }
  if (upn != NULL && upn[0] != '\0') {
    gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL || gens_add_upn(gens, upn) != 0 || add_san(x, gens) != 0) {
      set_err(err, "cannot add the UPN subject alternative name");
      goto out;
    }
  }
  if (X509_sign(x, ca->key, EVP_sha256()) <= 0) {
    set_err(err, "cannot sign the certificate");
    goto out;
  }
  out = cert_to_pem(x);
  if (out == NULL) {
    set_err(err, "cannot encode the certificate");
  }
out:
  ERR_clear_error();
  GENERAL_NAMES_free(gens);
  X509_free(x);
  X509_REQ_free(req);
  return out;
}
