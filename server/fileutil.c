/* fileutil.c: read files, make directories. */
#include "fileutil.h"

#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read(const char *path, size_t max, size_t *len) {
  char *buf = NULL;
  size_t got = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0)
    goto fail;
  if ((size_t)st.st_size > max) {
    errno = EFBIG;
    goto fail;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL)
    goto fail;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      goto fail;
    got += (size_t)r;
  }
  buf[got] = '\0';
  if (len)
    *len = got;
  close(fd);
  return buf;
fail:
  /* a half-read file may be a private key (tls.key) */
  if (buf != NULL)
    crypto_cleanse(buf, got);
  free(buf);
  close(fd);
  return NULL;
}

int dir_ensure(const char *dir, mode_t mode) {
  char path[4096];
  if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
    return -1;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, mode) != 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  if (mkdir(path, mode) != 0 && errno != EEXIST)
    return -1;
  return 0;
}

int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}
