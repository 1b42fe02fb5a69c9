/*
 * fileutil.h: small file-system helpers for start-up (state dir, PEMs).
 */
#ifndef CERTDEPLOY_FILEUTIL_H
#define CERTDEPLOY_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file of at most max bytes. Returns a malloc'd,
 * NUL-terminated buffer (length in *len when len is non-NULL), or NULL
 * with errno set (EFBIG when over max). */
char *file_read(const char *path, size_t max, size_t *len);

/* Creates dir and its parents with mode (like mkdir -p). 0 or -1. */
int dir_ensure(const char *dir, mode_t mode);

/* 1 when path exists. */
int file_exists(const char *path);

#endif
