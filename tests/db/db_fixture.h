/*
 * db_fixture.h: what every cmocka database test shares: a migrated
 * database from CERTDEPLOY_TEST_DATABASE_URL (tests/run.sh creates one per
 * test program) and one connection to it, `conn`.
 *
 * Include it once, after cmocka.h, and pass db_fixture_setup and
 * db_fixture_teardown to cmocka_run_group_tests.
 */
#ifndef CERTDEPLOY_TESTS_DB_FIXTURE_H
#define CERTDEPLOY_TESTS_DB_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "db_internal.h"
#include "db_migrate.h"

static db_conn *conn;
static const char *db_fixture_url;

static inline int db_fixture_setup(void **state) {
  (void)state;
  db_fixture_url = getenv("CERTDEPLOY_TEST_DATABASE_URL");
  if (db_fixture_url == NULL) {
    fprintf(stderr, "CERTDEPLOY_TEST_DATABASE_URL is not set (run through tests/run.sh)\n");
    return -1;
  }
  if (db_migrate(db_fixture_url) != 0)
    return -1;
  conn = db_connect(db_fixture_url);
  return conn ? 0 : -1;
}

static inline int db_fixture_teardown(void **state) {
  (void)state;
  db_disconnect(&conn);
  return 0;
}

#endif
