/* crypto_seal.c: the master key and secrets sealed at rest with AES-256-GCM. */
#include "crypto_internal.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#define SEAL_VERSION "v1"
#define SEAL_VERSION_LEN 2
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
/* Read whole up to this, so a wrong file is reported with its size. */
#define MASTER_KEY_FILE_MAX (16u << 20)

int crypto_master_key_load(const char *path, unsigned char key[CRYPTO_MASTER_KEY_LEN], char **err) {
  char *data = NULL;
  size_t len = 0;
  int rc = -1;

  /* Two rounds: a concurrent creator may win the O_EXCL race, then we
   * read what it wrote. */
  for (int round = 0; round < 2; round++) {
    int fd;
    if ((data = file_read(path, MASTER_KEY_FILE_MAX, &len)) != NULL) {
      break;
    }
    if (errno != ENOENT) {
      return cr_set_err(err, "cannot read master key %s: %s", path, strerror(errno));
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
      continue;
    }
    if (fd < 0) {
      return cr_set_err(err, "cannot create master key %s: %s", path, strerror(errno));
    }
    if (crypto_random_bytes(key, CRYPTO_MASTER_KEY_LEN) != 0 ||
        write(fd, key, CRYPTO_MASTER_KEY_LEN) != CRYPTO_MASTER_KEY_LEN || fsync(fd) != 0) {
      int saved = errno;
      close(fd);
      unlink(path);
      crypto_cleanse(key, CRYPTO_MASTER_KEY_LEN);
      return cr_set_err(err, "cannot write master key %s: %s", path, strerror(saved));
    }
    close(fd);
    return 0;
  }
  if (data == NULL) {
    return cr_set_err(err, "cannot read master key %s", path);
  }
  if (len != CRYPTO_MASTER_KEY_LEN) {
    cr_set_err(err, "master key %s has %zu bytes; it must hold exactly %d", path, len,
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
