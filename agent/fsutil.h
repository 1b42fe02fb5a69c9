/*
 * fsutil.h: the agent's file-system primitives: private directories,
 * bounded reads and atomic writes (temp file + fsync + rename), so a crash
 * never leaves a half-written certificate, key or device.json behind.
 */
#ifndef CERTDEPLOY_AGENT_FSUTIL_H
#define CERTDEPLOY_AGENT_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates path and any missing parents with mode 0700. An existing
 * directory is fine (its mode is left alone); an existing non-directory is
 * an error that names the path. */
int fs_mkdirs_private(const char *path, char **err);

/* Writes data to path atomically with the given mode: a temp file in the
 * same directory is written, fsync'ed, chmod'ed and renamed over path. The
 * temp file is removed on failure. The directory must exist. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **err);

/* Reads the whole file at path into *text (malloc'd, NUL-terminated; the
 * caller frees it, with crypto_free_secret when it holds a secret) and its
 * length into *len (len may be NULL). Returns 0 on success, 1 when the file
 * does not exist (nothing stored), -1 on any other error, including a file
 * larger than max bytes. */
int fs_read_file(const char *path, size_t max, char **text, size_t *len, char **err);

/* Removes path; a missing file is not an error. */
int fs_remove(const char *path, char **err);

/* Returns the malloc'd path "dir/name", NULL when out of memory. */
char *fs_join(const char *dir, const char *name);

#endif
