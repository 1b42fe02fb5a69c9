/* fsutil.c: private directories, bounded reads, atomic writes. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fail.h"
#include "crypto.h"

char *fs_join(const char *dir, const char *name) {
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  return fail_format("%.*s/%s", (int)dl, dir, name);
}

static int mkdir_one(const char *path, char **err) {
  struct stat st = {0};
  if (mkdir(path, 0700) == 0)
    return 0;
  if (errno != EEXIST)
    return fail_set(err, "cannot create directory %s: %s", path, strerror(errno));
  if (stat(path, &st) != 0)
    return fail_set(err, "cannot inspect %s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return fail_set(err, "%s exists and is not a directory; move it away", path);
  return 0;
}

int fs_mkdirs_private(const char *path, char **err) {
  int rc = -1;
  char *copy = strdup(path);
  if (copy == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* Create each parent in turn; skip the leading '/' of an absolute path. */
  for (char *p = copy + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir_one(copy, err) != 0)
      goto out;
    *p = '/';
  }
  rc = mkdir_one(copy, err);
out:
  free(copy);
  return rc;
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

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **err) {
  int rc = -1;
  int fd = -1;
  char *tmp = fail_format("%s.tmp-XXXXXX", path);
  if (tmp == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  fd = mkstemp(tmp); /* created 0600, so a key is never readable by others */
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

int fs_read_file(const char *path, size_t max, char **text, size_t *len, char **err) {
  int rc = -1;
  int fd = -1;
  char *buf = NULL;
  size_t used = 0;
  struct stat st = {0};

  *text = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    rc = 1;
    goto out;
  }
  if (fd < 0) {
    fail_set(err, "cannot open %s: %s", path, strerror(errno));
    goto out;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fail_set(err, "%s is not a regular file", path);
    goto out;
  }
  if ((unsigned long long)st.st_size > max) {
    fail_set(err, "%s is larger than %zu bytes", path, max);
    goto out;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL) {
    fail_set(err, "out of memory");
    goto out;
  }
  /* Read to EOF but never past the size seen, in case the file grows. */
  while (used < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fail_set(err, "cannot read %s: %s", path, strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *text = buf;
  buf = NULL;
  if (len != NULL)
    *len = used;
  rc = 0;
out:
  if (buf != NULL) {
    crypto_cleanse(buf, (size_t)st.st_size + 1);
    free(buf);
  }
  if (fd >= 0)
    close(fd);
  return rc;
}

int fs_remove(const char *path, char **err) {
  if (unlink(path) != 0 && errno != ENOENT)
    return fail_set(err, "cannot remove %s: %s", path, strerror(errno));
  return 0;
}
