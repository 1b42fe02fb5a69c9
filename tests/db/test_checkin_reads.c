/*
 * test_checkin_reads.c: the check-in's one round trip and the batched
 * contact times, against a real database.
 *
 * - db_device_checkin_read(), through the reads' thread (db_async.h),
 *   finds the device of a token hash with all its
 *   deployments (by profile name), a device without deployments (count 0),
 *   and nothing for an unknown hash; it writes nothing. The issued
 *   certificate's validity comes only while it awaits confirmation.
 * - the read tells whether the device's contact time is due: none stored,
 *   or one older than DB_CONTACT_RESOLUTION_SECONDS.
 * - db_device_touch() sets last_checkin_at to now() minus each age, keeps
 *   the newest of a device's duplicates, never moves a time backwards, and
 *   ignores devices that no longer exist.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db_async.h"
#include "db_deployments.h"
#include "db_device_auth.h"
#include "db_fixture.h"

static db_async *reads;

/* Counts the reads that came back, for a test to wait on one by one. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int back; /* reads back, not yet waited for */
} waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void read_back(void *arg) {
  (void)arg;
  pthread_mutex_lock(&waiter.mu);
  waiter.back++;
  pthread_cond_signal(&waiter.cv);
  pthread_mutex_unlock(&waiter.mu);
}

static void wait_read(void) {
  pthread_mutex_lock(&waiter.mu);
  while (waiter.back == 0)
    pthread_cond_wait(&waiter.cv, &waiter.mu);
  waiter.back--;
  pthread_mutex_unlock(&waiter.mu);
}

/* The check-in's read of a token hash: *rows (the caller frees it) and
 * *n as the handler gets them; returns db_checkin.found. */
static int checkin_load(const char *hash, db_device_identity *dev, db_deployment **rows, int *n) {
  db_checkin ck;
  db_device_checkin_read(reads, hash, &ck, read_back, NULL);
  wait_read();
  *dev = ck.dev;
  *rows = ck.rows;
  *n = ck.count;
  return ck.found;
}

static void sql_ok(const char *sql) {
  if (db_exec_simple(conn, sql) != 0)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(conn->pg));
}

/* The first column of the first row as text ("" for none or NULL). */
static void sql_text(const char *sql, char *out, size_t len) {
  PGresult *res = PQexec(conn->pg, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(conn->pg));
  snprintf(out, len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
}

#define CA "33333333-3333-4333-8333-333333333333"
#define DEV_A "aaaaaaaa-0000-4000-8000-000000000001"
#define DEV_B "aaaaaaaa-0000-4000-8000-000000000002"
#define GONE "aaaaaaaa-0000-4000-8000-0000000000ff"
#define HASH_A "a000000000000000000000000000000000000000000000000000000000000000"
#define HASH_B "b000000000000000000000000000000000000000000000000000000000000000"

static void fixture(void) {
  sql_ok("DELETE FROM deployments; DELETE FROM profiles; DELETE FROM cas; DELETE FROM devices");
  sql_ok("INSERT INTO cas (id, name, type, url, api_token_sealed, profile_id) VALUES "
         "('" CA "', 'ca', 'digicert', 'http://127.0.0.1:1', 'x', 'p')");
  sql_ok("INSERT INTO profiles (name, ca_id, common_name, seat_id, key_mode) VALUES "
         "('zeta', '" CA "', 'cn-z', 'seat', 'server'), ('alpha', '" CA
         "', 'cn-a', 'seat', 'device')");
  sql_ok("INSERT INTO devices (id, serial, name, token_hash) VALUES "
         "('" DEV_A "', 'SN-A', 'Laptop A', '" HASH_A "'), ('" DEV_B "', 'SN-B', '', '" HASH_B
         "')");
  sql_ok("INSERT INTO deployments (device_id, profile_id) SELECT '" DEV_A "', id FROM profiles");
}

static void load_finds_device_and_deployments_by_profile_name(void **state) {
  (void)state;
  fixture();
  char wal_before[64], wal_after[64];
  sql_text("SELECT pg_current_wal_insert_lsn()", wal_before, sizeof(wal_before));
  db_device_identity dev;
  db_deployment *rows = NULL;
  int n = -1;
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), 1);
  assert_string_equal(dev.id, DEV_A);
  assert_string_equal(dev.serial, "SN-A");
  assert_string_equal(dev.name, "Laptop A");
  assert_string_equal(dev.token_hash, HASH_A);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].profile_name, "alpha");
  assert_string_equal(rows[0].key_mode, "device");
  assert_string_equal(rows[0].common_name, "cn-a");
  assert_string_equal(rows[1].profile_name, "zeta");
  assert_string_equal(rows[1].device_id, DEV_A);
  assert_int_equal(rows[1].status, STATUS_PENDING);
  assert_int_equal(rows[1].generation, 1);
  free(rows);
  sql_text("SELECT pg_current_wal_insert_lsn()", wal_after, sizeof(wal_after));
  assert_string_equal(wal_before, wal_after); /* a check-in's read writes nothing */
}

/* The issued certificate's hash always; its validity (what confirming it
 * needs) only while the deployment is pending or verifying. */
static void load_gives_issued_validity_only_while_awaiting_confirmation(void **state) {
  (void)state;
  fixture();
  sql_ok("UPDATE deployments SET issued_generation = 1, issued_serial = 'AB', "
         "issued_not_before = '2026-01-02T03:04:05Z', issued_not_after = '2027-01-02T03:04:05Z', "
         "issued_sha256 = repeat('c', 64)");
  db_device_identity dev;
  db_deployment *rows = NULL;
  int n = 0;
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), 1);
  assert_int_equal(n, 2);
  for (int i = 0; i < n; i++) {
    assert_true(rows[i].issued_for_generation);
    assert_true(rows[i].issued.present);
    assert_string_equal(rows[i].issued.sha256,
                        "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
    assert_string_equal(rows[i].issued.not_before, "2026-01-02T03:04:05Z");
    assert_string_equal(rows[i].issued.not_after, "2027-01-02T03:04:05Z");
  }
  free(rows);
  sql_ok("UPDATE deployments SET status = 'verifying'");
  sql_ok("UPDATE deployments SET status = 'verified', installed_serial = issued_serial, "
         "installed_not_before = issued_not_before, installed_not_after = issued_not_after, "
         "installed_sha256 = issued_sha256 FROM profiles p "
         "WHERE p.id = deployments.profile_id AND p.name = 'zeta'");
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), 1);
  assert_int_equal(n, 2);
  assert_int_equal(rows[0].status, STATUS_VERIFYING); /* alpha */
  assert_string_equal(rows[0].issued.not_after, "2027-01-02T03:04:05Z");
  assert_int_equal(rows[1].status, STATUS_VERIFIED); /* zeta */
  assert_string_equal(rows[1].issued.sha256, rows[0].issued.sha256);
  assert_string_equal(rows[1].issued.not_before, "");
  assert_string_equal(rows[1].issued.not_after, "");
  free(rows);
}

static void load_device_without_deployments_and_unknown_hash(void **state) {
  (void)state;
  fixture();
  db_device_identity dev;
  db_deployment *rows = NULL;
  int n = -1;
  assert_int_equal(checkin_load(HASH_B, &dev, &rows, &n), 1);
  assert_string_equal(dev.id, DEV_B);
  assert_int_equal(n, 0);
  assert_non_null(rows); /* always allocated, so the caller frees once */
  free(rows);
  rows = NULL;
  n = -1;
  assert_int_equal(checkin_load("c000000000000000000000000000000000000000000000000000000000000000",
                                &dev, &rows, &n),
                   0);
  assert_int_equal(n, 0);
  free(rows);
}

/* Seconds since the device's last contact, rounded ("" when none). */
static void assert_contact_age(const char *device, const char *seconds) {
  char sql[256], v[64];
  snprintf(sql, sizeof(sql),
           "SELECT round(extract(epoch FROM now() - last_checkin_at)) FROM devices WHERE id = '%s'",
           device);
  sql_text(sql, v, sizeof(v));
  assert_string_equal(v, seconds);
}

static int contact_due_after(const char *sql) {
  db_device_identity dev;
  db_deployment *rows = NULL;
  int n = 0;
  if (sql != NULL)
    sql_ok(sql);
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), 1);
  free(rows);
  return dev.contact_due;
}

static void load_tells_whether_contact_is_due(void **state) {
  (void)state;
  fixture();
  assert_true(contact_due_after(NULL)); /* never checked in */
  assert_false(contact_due_after("UPDATE devices SET last_checkin_at = now()"));
  assert_false(contact_due_after("UPDATE devices SET last_checkin_at = now() - interval '50 s'"));
  assert_true(contact_due_after("UPDATE devices SET last_checkin_at = now() - interval '61 s'"));
  assert_false(contact_due_after("UPDATE devices SET last_checkin_at = now() + interval '1 h'"));
}

static void touch_sets_newest_time_forward_only(void **state) {
  (void)state;
  fixture();
  /* A twice (ages 30 s and 5 s: the newer wins), B once, a deleted device */
  assert_int_equal(db_device_touch(conn, "{" DEV_A "," DEV_B "," DEV_A "," GONE "}", "{30,60,5,1}"),
                   2);
  assert_contact_age(DEV_A, "5");
  assert_contact_age(DEV_B, "60");
  /* an older contact (another instance's late batch) does not move it back */
  assert_int_equal(db_device_touch(conn, "{" DEV_A "}", "{120}"), 0);
  assert_contact_age(DEV_A, "5");
  /* a newer one does */
  assert_int_equal(db_device_touch(conn, "{" DEV_A "}", "{0}"), 1);
  assert_contact_age(DEV_A, "0");
  /* an empty batch is a no-op, a malformed one an error, not a crash */
  assert_int_equal(db_device_touch(conn, "{}", "{}"), 0);
  assert_true(db_device_touch(conn, "{not-a-uuid}", "{1}") < 0);
}

/* A read that cannot run completes, with DB_SOFT_ERROR: with the
 * database unreachable, and once the reads are closed. */
static void read_fails_softly_without_database_or_after_close(void **state) {
  (void)state;
  fixture();
  db_device_identity dev;
  db_deployment *rows = NULL;
  int n = -1;
  db_async *saved = reads;
  reads = db_async_start("host=127.0.0.1 port=1 dbname=none connect_timeout=2", 2);
  assert_non_null(reads);
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), DB_SOFT_ERROR);
  assert_int_equal(n, 0);
  free(rows);
  db_async_free(&reads);
  reads = saved;
  /* a working one still answers, then refuses once closed */
  assert_int_equal(checkin_load(HASH_A, &dev, &rows, &n), 1);
  free(rows);
  db_async *other = db_async_start(db_fixture_url, 1);
  assert_non_null(other);
  db_async_close(other);
  db_checkin ck;
  db_device_checkin_read(other, HASH_A, &ck, read_back, NULL);
  wait_read(); /* at once, on this thread */
  assert_int_equal(ck.found, DB_SOFT_ERROR);
  db_checkin_release(&ck);
  db_async_free(&other);
}

/* More reads at once than connections: each completes with its own device. */
static void reads_queue_behind_busy_connections(void **state) {
  (void)state;
  fixture();
  enum { N = 40 };
  static db_checkin ck[N];
  for (int i = 0; i < N; i++)
    db_device_checkin_read(reads, i % 2 ? HASH_B : HASH_A, &ck[i], read_back, NULL);
  for (int i = 0; i < N; i++)
    wait_read();
  for (int i = 0; i < N; i++) {
    assert_int_equal(ck[i].found, 1);
    assert_string_equal(ck[i].dev.id, i % 2 ? DEV_B : DEV_A);
    assert_int_equal(ck[i].count, i % 2 ? 0 : 2);
    db_checkin_release(&ck[i]);
  }
}

/* Reads handed over together run as one execution over all their keys
 * (more than one once there are over 256): each still gets its own
 * device's rows, whether its key repeats another's, matches nothing, or
 * holds what an array literal must quote. */
static void reads_of_one_batch_each_get_their_own_rows(void **state) {
  (void)state;
  fixture();
  enum { N = 600 };
  static const char *keys[] = {HASH_A, HASH_B,
                               "c000000000000000000000000000000000000000000000000000000000000000",
                               "quote\" back\\slash, comma {brace}"};
  static db_checkin ck[N];
  for (int i = 0; i < N; i++)
    db_device_checkin_read(reads, keys[i % 4], &ck[i], read_back, NULL);
  for (int i = 0; i < N; i++)
    wait_read();
  for (int i = 0; i < N; i++) {
    int k = i % 4;
    assert_int_equal(ck[i].found, k < 2);
    if (k < 2)
      assert_string_equal(ck[i].dev.id, k == 0 ? DEV_A : DEV_B);
    assert_int_equal(ck[i].count, k == 0 ? 2 : 0);
    if (k == 0) {
      assert_string_equal(ck[i].rows[0].profile_name, "alpha");
      assert_string_equal(ck[i].rows[1].profile_name, "zeta");
    }
    db_checkin_release(&ck[i]);
  }
}

static int setup(void **state) {
  if (db_fixture_setup(state) != 0)
    return -1;
  reads = db_async_start(db_fixture_url, 2);
  return reads ? 0 : -1;
}

static int teardown(void **state) {
  db_async_free(&reads);
  return db_fixture_teardown(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(load_finds_device_and_deployments_by_profile_name),
      cmocka_unit_test(load_gives_issued_validity_only_while_awaiting_confirmation),
      cmocka_unit_test(load_device_without_deployments_and_unknown_hash),
      cmocka_unit_test(load_tells_whether_contact_is_due),
      cmocka_unit_test(touch_sets_newest_time_forward_only),
      cmocka_unit_test(read_fails_softly_without_database_or_after_close),
      cmocka_unit_test(reads_queue_behind_busy_connections),
      cmocka_unit_test(reads_of_one_batch_each_get_their_own_rows),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
