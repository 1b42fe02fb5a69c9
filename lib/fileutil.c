/* fileutil.c: bounded reads, atomic writes, directories (fileutil.h). */
#include "fileutil.h"

#include "crypto.h"
#include "fail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a read failed, for file_load()'s message. */
typedef enum read_failure {
  READ_OPEN,        /* open() failed (errno) */
  READ_NOT_REGULAR, /* a directory, a device, a FIFO... */
  READ_TOO_BIG,     /* over max */
  READ_NO_MEMORY,
  READ_READ, /* read() failed (errno) */
} read_failure;

/* file_read(), telling in *failed where it failed. */
static char *read_bounded(const char *path, size_t max, size_t *len, read_failure *failed) {
  char *buf = NULL;
  size_t size = 0, used = 0;
  struct stat st;
  int saved;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *failed = READ_OPEN;
    return NULL;
  }
  if (fstat(fd, &st) != 0) {
    *failed = READ_READ;
    goto fail;
  }
  if (!S_ISREG(st.st_mode)) {
    *failed = READ_NOT_REGULAR;
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    goto fail;
  }
  if ((unsigned long long)st.st_size > max) {
    *failed = READ_TOO_BIG;
    errno = EFBIG;
    goto fail;
  }
  size = (size_t)st.st_size;
  buf = malloc(size + 1);
  if (buf == NULL) {
    *failed = READ_NO_MEMORY;
    errno = ENOMEM;
    goto fail;
  }
  /* Read to EOF but never past the size seen, in case the file grows. */
  while (used < size) {
    ssize_t n = read(fd, buf + used, size - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *failed = READ_READ;
      goto fail;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  if (len != NULL)
    *len = used;
  close(fd);
  return buf;
fail:
  saved = errno;
  if (buf != NULL)
    crypto_cleanse(buf, size + 1);
  free(buf);
  close(fd);
  errno = saved;
  return NULL;
}

char *file_read(const char *path, size_t max, size_t *len) {
  read_failure failed;
  return read_bounded(path, max, len, &failed);
}

int file_load(const char *path, size_t max, char **text, size_t *len, char **err) {
  read_failure failed = READ_OPEN;
  *text = read_bounded(path, max, len, &failed);
  if (*text != NULL)
    return 0;
  switch (failed) {
  case READ_OPEN:
    if (errno == ENOENT)
      return 1;
    return fail_set(err, "cannot open %s: %s", path, strerror(errno));
  case READ_NOT_REGULAR:
    return fail_set(err, "%s is not a regular file", path);
  case READ_TOO_BIG:
    return fail_set(err, "%s is larger than %zu bytes", path, max);
  case READ_NO_MEMORY:
    return fail_set(err, "out of memory");
  case READ_READ:
    break;
  }
  return fail_set(err, "cannot read %s: %s", path, strerror(errno));
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **err) {
  int rc = -1;
  int fd = -1;
  char *tmp = fail_format("%s.tmp-XXXXXX", path);
  if (tmp == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* O_EXCL on a fresh name, mode 0600: no one else's file (or symlink)
   * is written through, and a key is never readable by others. */
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    fail_set(err, "cannot create a file next to %s: %s", path, strerror(errno));
    free(tmp);
    tmp = NULL;
    goto out;
  }
  if (write_all(fd, data, len) != 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
    fail_set(err, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    fail_set(err, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    fail_set(err, "cannot replace %s: %s", path, strerror(errno));
    goto out;
  }
  free(tmp);
  tmp = NULL;
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  if (tmp != NULL) {
    unlink(tmp);
    free(tmp);
  }
  return rc;
}

static int mkdir_one(const char *path, mode_t mode, char **err) {
  struct stat st = {0};
  if (mkdir(path, mode) == 0)
    return 0;
  if (errno != EEXIST)
    return fail_set(err, "cannot create directory %s: %s", path, strerror(errno));
  if (stat(path, &st) != 0)
    return fail_set(err, "cannot inspect %s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return fail_set(err, "%s exists and is not a directory; move it away", path);
  return 0;
}

int file_mkdirs(const char *path, mode_t mode, char **err) {
  int rc = -1;
  char *copy = NULL;
  if (path[0] == '\0')
    return fail_set(err, "the directory path is empty");
  copy = strdup(path);
  if (copy == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* Create each parent in turn; skip the leading '/' of an absolute path. */
  for (char *p = copy + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir_one(copy, mode, err) != 0)
      goto out;
    *p = '/';
  }
  rc = mkdir_one(copy, mode, err);
out:
  free(copy);
  return rc;
}

int file_remove(const char *path, char **err) {
  if (unlink(path) != 0 && errno != ENOENT)
    return fail_set(err, "cannot remove %s: %s", path, strerror(errno));
  return 0;
}

char *file_join(const char *dir, const char *name) {
  size_t dl = strlen(dir);
  while (dl > 0 && dir[dl - 1] == '/')
    dl--;
  return fail_format("%.*s/%s", (int)dl, dir, name);
}

int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}
