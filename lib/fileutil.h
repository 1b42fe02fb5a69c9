/*
 * fileutil.h: the file-system helpers of the four programs: bounded
 * whole-file reads that wipe what they give up on, atomic writes of a
 * given mode (temp file + fsync + rename), so a crash never leaves a
 * half-written certificate, key or state file behind, and directories
 * made like mkdir -p.
 *
 * Two ways to fail: file_read() and file_exists() answer with errno, for
 * callers that word the message themselves; the others set *err (fail.h).
 */
#ifndef CERTDEPLOY_FILEUTIL_H
#define CERTDEPLOY_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the whole regular file at path, at most max bytes. Returns it
 * malloc'd and NUL-terminated, its length in *len when len is non-NULL;
 * the caller frees it (with crypto_free_secret when it holds a secret).
 * NULL with errno set on failure: ENOENT when it does not exist, EFBIG
 * when it is over max, EISDIR or EINVAL when it is a directory or another
 * non-regular file. A file cut short while being read gives what was
 * there. What was read of a file given up on is wiped (it may be a key). */
char *file_read(const char *path, size_t max, size_t *len);

/* file_read() with a message: 0 with *text (as file_read() gives it), 1
 * when path does not exist (nothing stored; no message), -1 with *err on
 * any other failure, a file over max bytes included. *text is NULL unless
 * 0 is returned. */
int file_load(const char *path, size_t max, char **text, size_t *len, char **err);

/* Writes data to path atomically with the given mode: a temp file of a
 * unique name in the same directory (made 0600, so a key is never
 * readable by others, even briefly) is written, chmod'ed to mode,
 * fsync'ed and renamed over path. The temp file is removed on failure.
 * The directory must exist. 0, or -1 with *err. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **err);

/* Creates path and any missing parents with mode. An existing directory
 * is fine (its mode is left alone); an existing non-directory is an error
 * that names it. 0, or -1 with *err. */
int file_mkdirs(const char *path, mode_t mode, char **err);

/* Removes path; a missing file is not an error. 0, or -1 with *err. */
int file_remove(const char *path, char **err);

/* The malloc'd path "dir/name", one '/' between them ("/" and "x" give
 * "/x"); NULL when out of memory. */
char *file_join(const char *dir, const char *name);

/* 1 when path exists (whatever it is), else 0. */
int file_exists(const char *path);

#endif
