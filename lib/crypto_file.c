/* crypto_file.c: whole-file reads and atomic, mode-safe writes of keys and certificates. */
#include "crypto_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes data to path atomically (temp file + rename) with the given mode.
 * The temp file is created with that mode, so a key is never readable by
 * others, even briefly. */
int cr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char **err) {
  char tmp[4096];
  int fd = -1;
  int rc = -1;
  const unsigned char *p = data;
  size_t left = len;

  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
    return cr_set_err(err, "path too long: %s", path);
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    cr_set_err(err, "cannot create %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (fchmod(fd, mode) != 0) {
    cr_set_err(err, "cannot chmod %s: %s", tmp, strerror(errno));
    goto out;
  }
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      cr_set_err(err, "cannot write %s: %s", tmp, strerror(errno));
      goto out;
    }
    p += n;
    left -= (size_t)n;
  }
  if (fsync(fd) != 0) {
    cr_set_err(err, "cannot sync %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    cr_set_err(err, "cannot close %s: %s", tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    cr_set_err(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
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
int cr_read_file(const char *path, char **out, size_t *out_len) {
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
