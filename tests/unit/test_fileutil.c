/*
 * test_fileutil.c: lib/fileutil.c, the file helpers of the four programs:
 * bounded reads and what each failure says, atomic writes that end with
 * exactly the mode asked for (whatever the umask) and leave no temp file
 * behind, and directories made like mkdir -p.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"

/* ---- helpers ---------------------------------------------------------- */

static int make_tmpdir(void **state) {
  char tmpl[] = "/tmp/certdeploy-test-fileutil-XXXXXX";
  char *dir = mkdtemp(tmpl);
  assert_non_null(dir);
  *state = strdup(dir);
  return *state == NULL;
}

static int remove_tmpdir(void **state) {
  char cmd[512];
  assert_true((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state) < sizeof(cmd));
  int rc = system(cmd);
  free(*state);
  return rc;
}

/* dir/name, malloc'd. */
static char *in(void **state, const char *name) {
  char *p = file_join(*state, name);
  assert_non_null(p);
  return p;
}

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

static mode_t mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 07777;
}

/* How many entries dir has besides . and .. */
static int entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* ---- reads -------------------------------------------------------------- */

static void read_gives_the_whole_file_terminated(void **state) {
  char *path = in(state, "a.pem");
  size_t len = 0;
  put(path, "-----BEGIN-----\nabc\n");
  char *text = file_read(path, 1024, &len);
  assert_non_null(text);
  assert_string_equal(text, "-----BEGIN-----\nabc\n");
  assert_int_equal(len, 20);
  free(text);

  /* exactly max is fine; one byte more is EFBIG */
  text = file_read(path, 20, NULL);
  assert_non_null(text);
  free(text);
  errno = 0;
  assert_null(file_read(path, 19, &len));
  assert_int_equal(errno, EFBIG);

  /* an empty file is the empty string */
  put(path, "");
  text = file_read(path, 10, &len);
  assert_non_null(text);
  assert_string_equal(text, "");
  assert_int_equal(len, 0);
  free(text);
  free(path);
}

static void read_failures_set_errno(void **state) {
  char *missing = in(state, "missing");
  errno = 0;
  assert_null(file_read(missing, 10, NULL));
  assert_int_equal(errno, ENOENT);
  errno = 0;
  assert_null(file_read(*state, 1 << 20, NULL)); /* a directory */
  assert_int_equal(errno, EISDIR);
  errno = 0;
  assert_null(file_read("/dev/null", 10, NULL)); /* not a regular file */
  assert_int_equal(errno, EINVAL);
  free(missing);
}

static void load_tells_missing_from_broken(void **state) {
  char *path = in(state, "device.json");
  char *text = (char *)"untouched";
  char *err = NULL;
  size_t len = 0;

  assert_int_equal(file_load(path, 64, &text, &len, &err), 1); /* nothing stored */
  assert_null(text);
  assert_null(err);

  put(path, "{\"device_id\":\"d\"}");
  assert_int_equal(file_load(path, 64, &text, &len, &err), 0);
  assert_string_equal(text, "{\"device_id\":\"d\"}");
  assert_int_equal(len, 17);
  assert_null(err);
  free(text);

  assert_int_equal(file_load(path, 16, &text, NULL, &err), -1);
  assert_null(text);
  assert_non_null(err);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "is larger than 16 bytes"));

  /* a new message replaces the last one (fail.h) */
  assert_int_equal(file_load(*state, 64, &text, NULL, &err), -1);
  assert_non_null(strstr(err, "is not a regular file"));
  free(err);
  err = NULL;

  /* err may be NULL when the caller does not care why */
  assert_int_equal(file_load(*state, 64, &text, NULL, NULL), -1);
  free(path);
}

/* ---- atomic writes --------------------------------------------------------- */

static void write_atomic_sets_the_mode_whatever_the_umask(void **state) {
  char *key = in(state, "tls.key");
  char *cert = in(state, "tls.crt");
  char *err = NULL;
  mode_t old = umask(077);
  assert_int_equal(file_write_atomic(cert, "CERT", 4, 0644, &err), 0);
  umask(0);
  assert_int_equal(file_write_atomic(key, "KEY", 3, 0600, &err), 0);
  umask(old);
  assert_null(err);
  assert_int_equal(mode_of(cert), 0644);
  assert_int_equal(mode_of(key), 0600);
  char *text = file_read(key, 10, NULL);
  assert_string_equal(text, "KEY");
  free(text);
  assert_int_equal(entries(*state), 2); /* no temp file left */
  free(key);
  free(cert);
}

static void write_atomic_replaces_whole(void **state) {
  char *path = in(state, "device.json");
  char *err = NULL;
  put(path, "an older and much longer content");
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(file_write_atomic(path, "new", 3, 0600, &err), 0);
  char *text = file_read(path, 100, NULL);
  assert_string_equal(text, "new"); /* nothing of the old left over */
  free(text);
  assert_int_equal(mode_of(path), 0600);
  assert_int_equal(entries(*state), 1);
  free(path);
}

static void write_atomic_failure_leaves_nothing(void **state) {
  char *err = NULL;
  /* no such directory: named in the message */
  char *nodir = in(state, "no/such/file");
  assert_int_equal(file_write_atomic(nodir, "x", 1, 0600, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, "cannot create a file next to"));
  assert_non_null(strstr(err, nodir));

  /* the rename fails (a directory is in the way): the temp file goes */
  char *blocked = in(state, "blocked");
  assert_int_equal(mkdir(blocked, 0700), 0);
  assert_int_equal(file_write_atomic(blocked, "x", 1, 0600, &err), -1);
  assert_non_null(strstr(err, "cannot replace"));
  assert_int_equal(entries(*state), 1); /* just the directory */
  free(err);
  free(blocked);
  free(nodir);
}

/* ---- directories, removal, paths -------------------------------------------- */

static void mkdirs_makes_parents_with_the_mode(void **state) {
  char *deep = in(state, "a/b/c");
  char *a = in(state, "a");
  char *err = NULL;
  mode_t old = umask(0);
  assert_int_equal(file_mkdirs(deep, 0700, &err), 0);
  umask(old);
  assert_null(err);
  assert_int_equal(mode_of(a), 0700);
  assert_int_equal(mode_of(deep), 0700);
  assert_int_equal(file_mkdirs(deep, 0700, &err), 0); /* again: fine */

  /* an existing directory keeps its mode */
  assert_int_equal(chmod(deep, 0755), 0);
  assert_int_equal(file_mkdirs(deep, 0700, &err), 0);
  assert_int_equal(mode_of(deep), 0755);
  free(deep);
  free(a);
}

static void mkdirs_names_what_is_in_the_way(void **state) {
  char *file = in(state, "file");
  char *below = in(state, "file/sub");
  char *err = NULL;
  put(file, "x");
  assert_int_equal(file_mkdirs(below, 0700, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, file));
  assert_non_null(strstr(err, "is not a directory"));
  assert_int_equal(file_mkdirs("", 0700, &err), -1);
  assert_non_null(strstr(err, "empty"));
  free(err);
  free(below);
  free(file);
}

static void remove_and_exists(void **state) {
  char *path = in(state, "gone");
  char *err = NULL;
  assert_int_equal(file_exists(path), 0);
  assert_int_equal(file_remove(path, &err), 0); /* missing: fine */
  put(path, "x");
  assert_int_equal(file_exists(path), 1);
  assert_int_equal(file_exists(*state), 1);
  assert_int_equal(file_remove(path, &err), 0);
  assert_int_equal(file_exists(path), 0);
  assert_int_equal(file_remove(*state, &err), -1); /* a directory */
  assert_non_null(strstr(err, "cannot remove"));
  free(err);
  free(path);
}

static void join_drops_trailing_slashes(void **state) {
  (void)state;
  char *p = file_join("/var/lib/certdeploy//", "device.json");
  assert_string_equal(p, "/var/lib/certdeploy/device.json");
  free(p);
  p = file_join("/", "x");
  assert_string_equal(p, "/x");
  free(p);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_tmpdir, remove_tmpdir)
  const struct CMUnitTest tests[] = {
      T(read_gives_the_whole_file_terminated),
      T(read_failures_set_errno),
      T(load_tells_missing_from_broken),
      T(write_atomic_sets_the_mode_whatever_the_umask),
      T(write_atomic_replaces_whole),
      T(write_atomic_failure_leaves_nothing),
      T(mkdirs_makes_parents_with_the_mode),
      T(mkdirs_names_what_is_in_the_way),
      T(remove_and_exists),
      T(join_drops_trailing_slashes),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
