/*
 * test_status_counts.c: the counters that the status summary reads
 * (db/schema/0003_status_counts.sql) always equal a real GROUP BY over
 * deployments, through hundreds of random inserts, guarded transitions,
 * bulk updates, resends and deletions of deployments, devices and
 * profiles; db_status_counts() equals the summary computed the slow way;
 * the rebuild repairs damaged counters; and writers on devices in
 * different stripes do not wait for each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "db_fixture.h"
#include "db_status.h"

static void sql_on(db_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_on(db_conn *c, const char *fmt, ...) {
  char sql[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(sql, sizeof(sql), fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof(sql));
  if (db_exec_simple(c, sql) != 0)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(c->pg));
}
#define sql_ok(...) sql_on(conn, __VA_ARGS__)

/* The first column of the first row, as a number. */
static long long sql_number(const char *sql) {
  PGresult *res = PQexec(conn->pg, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(conn->pg));
  long long v = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
  PQclear(res);
  return v;
}

#define CA "33333333-3333-4333-8333-333333333333"
#define NPROFILES 3
#define NDEVICES 40

static void fixture(void) {
  sql_ok("DELETE FROM deployments; DELETE FROM profiles; DELETE FROM cas; DELETE FROM devices");
  sql_ok("INSERT INTO cas (id, name, type, url, api_token_sealed, profile_id) VALUES "
         "('" CA "', 'ca', 'digicert', 'http://127.0.0.1:1', 'x', 'p')");
  sql_ok("INSERT INTO profiles (name, ca_id, common_name, seat_id) SELECT 'p' || i, '" CA "', "
         "'cn', 'seat' FROM generate_series(1, %d) i",
         NPROFILES);
  sql_ok("INSERT INTO devices (serial, token_hash) SELECT 'SN' || i, "
         "encode(sha256(('t' || i)::bytea), 'hex') FROM generate_series(1, %d) i",
         NDEVICES);
}

/* Counters minus the truth, both ways; 0 when they agree. */
static void assert_counters_match(const char *when) {
  long long diff = sql_number(
      "WITH a AS (SELECT profile_id, status, sum(n)::bigint AS n FROM deployment_counts "
      "           GROUP BY 1, 2 HAVING sum(n) <> 0), "
      "b AS (SELECT profile_id, status, count(*)::bigint AS n FROM deployments GROUP BY 1, 2) "
      "SELECT count(*) FROM ((SELECT * FROM a EXCEPT SELECT * FROM b) "
      "                      UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a)) x");
  if (diff != 0)
    fail_msg("deployment_counts differs from GROUP BY in %lld rows (%s)", diff, when);
  diff = sql_number(
      "WITH a AS (SELECT profile_id, expires_on, n FROM deployment_failed_expiry WHERE n <> 0), "
      "b AS (SELECT profile_id, (installed_not_after AT TIME ZONE 'UTC')::date, count(*)::bigint "
      "      FROM deployments WHERE status = 'failed' AND installed_not_after IS NOT NULL "
      "      GROUP BY 1, 2) "
      "SELECT count(*) FROM ((SELECT * FROM a EXCEPT SELECT * FROM b) "
      "                      UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a)) x");
  if (diff != 0)
    fail_msg("deployment_failed_expiry differs from GROUP BY in %lld rows (%s)", diff, when);
  if (sql_number("SELECT count(*) FROM deployment_failed_expiry WHERE n < 0") != 0)
    fail_msg("a negative expiry bucket (%s)", when);
}

/* What the checks saw, so the random run proves it covered every case. */
static db_status seen_max;

static void note_seen(const db_status *s) {
  long long *max[] = {&seen_max.pending, &seen_max.verifying, &seen_max.verified, &seen_max.failed,
                      &seen_max.failed_with_valid_certificate};
  const long long now[] = {s->pending, s->verifying, s->verified, s->failed,
                           s->failed_with_valid_certificate};
  for (int i = 0; i < 5; i++)
    if (now[i] > *max[i])
      *max[i] = now[i];
}

/* db_status_counts() for profile (NULL: all) equals the slow way. */
static void assert_status_matches(const char *profile) {
  char sql[1024];
  snprintf(
      sql, sizeof(sql),
      "SELECT count(*) FILTER (WHERE status = 'pending'), "
      "count(*) FILTER (WHERE status = 'verifying'), "
      "count(*) FILTER (WHERE status = 'verified'), count(*) FILTER (WHERE status = 'failed'), "
      "count(*) FILTER (WHERE status = 'failed' AND installed_not_before <= now() "
      "  AND now() < installed_not_after), count(*) FROM deployments %s%s%s",
      profile ? "WHERE profile_id = '" : "", profile ? profile : "", profile ? "'" : "");
  PGresult *res = PQexec(conn->pg, sql);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  long long want[6];
  for (int i = 0; i < 6; i++)
    want[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
  PQclear(res);
  /* both in one transaction, so now() is the same instant */
  db_status s;
  assert_int_equal(db_status_counts(conn, profile, &s), 1);
  note_seen(&s);
  long long got[6] = {s.pending, s.verifying, s.verified, s.failed, s.failed_with_valid_certificate,
                      s.total};
  for (int i = 0; i < 6; i++)
    if (got[i] != want[i])
      fail_msg("status field %d of %s: counters say %lld, the table %lld", i,
               profile ? profile : "all", got[i], want[i]);
}

static void assert_all_status(void) {
  sql_ok("BEGIN");
  assert_status_matches(NULL);
  PGresult *res = PQexec(conn->pg, "SELECT id FROM profiles");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  for (int i = 0; i < PQntuples(res); i++)
    assert_status_matches(PQgetvalue(res, i, 0));
  PQclear(res);
  sql_ok("COMMIT");
}

/* An installed certificate's validity, as SQL: valid, expired, not yet
 * valid, expiring within the hour (today or just after midnight). */
static const char *random_validity(void) {
  static const char *const v[] = {
      "now() - interval '10 days', now() + interval '200 days'",
      "now() - interval '400 days', now() - interval '3 days'",
      "now() + interval '1 day', now() + interval '300 days'",
      "now() - interval '30 days', now() + interval '37 minutes'",
      "now() - interval '30 days', now() - interval '1 second'",
      "now() - interval '1 day', now() + interval '2 days'",
  };
  return v[rand() % (int)(sizeof(v) / sizeof(v[0]))];
}

#define ROW " WHERE device_id = '%s' AND profile_id = '%s'"

/* One guarded transition of a random deployment, chosen among those the
 * state machine allows from its status. */
static void random_transition(void) {
  PGresult *res = PQexec(conn->pg, "SELECT device_id, profile_id, status FROM deployments "
                                   "ORDER BY random() LIMIT 1");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  if (PQntuples(res) == 0) {
    PQclear(res);
    return;
  }
  char dev[40], prof[40], status[16];
  snprintf(dev, sizeof(dev), "%s", PQgetvalue(res, 0, 0));
  snprintf(prof, sizeof(prof), "%s", PQgetvalue(res, 0, 1));
  snprintf(status, sizeof(status), "%s", PQgetvalue(res, 0, 2));
  PQclear(res);
  int r = rand() % 4;
  const char *new_gen = "status = 'pending', generation = generation + 1, attempts = 0";
  if (strcmp(status, "pending") == 0) {
    if (r == 0)
      sql_ok("UPDATE deployments SET attempts = attempts + 1" ROW, dev, prof);
    else if (r == 1)
      sql_ok("UPDATE deployments SET status = 'verifying'" ROW, dev, prof);
    else if (r == 2)
      sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'server', "
             "detail = 'denied'" ROW,
             dev, prof);
    else
      sql_ok("UPDATE deployments SET %s" ROW, new_gen, dev, prof);
  } else if (strcmp(status, "verifying") == 0) {
    if (r < 2)
      sql_ok("UPDATE deployments SET status = 'verified', (installed_not_before, "
             "installed_not_after) = (%s)" ROW,
             random_validity(), dev, prof);
    else if (r == 2)
      sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'device', "
             "detail = 'install error'" ROW,
             dev, prof);
    else if (rand() % 2)
      sql_ok("UPDATE deployments SET %s" ROW, new_gen, dev, prof);
    else
      sql_ok("UPDATE deployments SET updated_at = now()" ROW, dev, prof);
  } else if (strcmp(status, "verified") == 0) {
    sql_ok("UPDATE deployments SET %s" ROW, new_gen, dev, prof);
  } else if (r < 2) {
    sql_ok("UPDATE deployments SET claimed_until = now()" ROW, dev, prof); /* a lease */
  } else {
    sql_ok("BEGIN; SELECT set_config('certdeploy.resend', 'on', true); "
           "UPDATE deployments SET %s, failure_source = NULL, detail = ''" ROW "; COMMIT",
           new_gen, dev, prof);
  }
}

static void random_operation(void) {
  int r = rand() % 100;
  if (r < 30) {
    sql_ok("INSERT INTO deployments (device_id, profile_id) SELECT d.id, p.id FROM devices d, "
           "profiles p ORDER BY random() LIMIT 1 ON CONFLICT DO NOTHING");
  } else if (r < 75) {
    random_transition();
  } else if (r < 78) {
    /* a failed renewal: verified, a new generation, the CA refuses */
    sql_ok("UPDATE deployments SET status = 'pending', generation = generation + 1 "
           "WHERE (device_id, profile_id) IN (SELECT device_id, profile_id FROM deployments "
           "WHERE status = 'verified' ORDER BY random() LIMIT 1)");
    sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'server' "
           "WHERE status = 'pending' AND generation > 1 AND installed_not_after IS NOT NULL");
  } else if (r < 80) {
    sql_ok("UPDATE deployments SET status = 'verified', installed_not_before = now() - "
           "interval '1 day', installed_not_after = now() + (random() * 30) * interval '1 day' "
           "WHERE status = 'verifying'");
  } else if (r < 84) {
    /* bulk: a whole status of one profile at once, several rows per stripe */
    sql_ok("UPDATE deployments SET status = 'verifying' WHERE status = 'pending' AND "
           "profile_id = (SELECT id FROM profiles ORDER BY random() LIMIT 1)");
  } else if (r < 87) {
    sql_ok("UPDATE deployments SET status = 'pending', generation = generation + 1 "
           "WHERE status = 'verified'");
  } else if (r < 89) {
    sql_ok("INSERT INTO deployments (device_id, profile_id) SELECT d.id, p.id FROM devices d, "
           "profiles p WHERE random() < 0.2 ON CONFLICT DO NOTHING");
  } else if (r < 95) {
    sql_ok("DELETE FROM deployments WHERE (device_id, profile_id) IN (SELECT device_id, "
           "profile_id FROM deployments ORDER BY random() LIMIT 1 + (random() * 3)::int)");
  } else if (r < 96) {
    /* a deployment moved to a device without that profile: same status,
     * other key (maybe another stripe) */
    sql_ok("UPDATE deployments d SET device_id = (SELECT v.id FROM devices v WHERE NOT EXISTS "
           "(SELECT 1 FROM deployments x WHERE x.device_id = v.id AND x.profile_id = d.profile_id) "
           "ORDER BY random() LIMIT 1) WHERE (device_id, profile_id) IN (SELECT device_id, "
           "profile_id FROM deployments ORDER BY random() LIMIT 1) AND EXISTS (SELECT 1 FROM "
           "devices v WHERE NOT EXISTS (SELECT 1 FROM deployments x WHERE x.device_id = v.id "
           "AND x.profile_id = d.profile_id))");
  } else if (r < 98) {
    sql_ok("DELETE FROM devices WHERE id = (SELECT id FROM devices ORDER BY random() LIMIT 1)");
    sql_ok("INSERT INTO devices (serial, token_hash) SELECT 'SN-' || gen_random_uuid(), "
           "encode(sha256(gen_random_uuid()::text::bytea), 'hex')");
  } else {
    sql_ok("DELETE FROM profiles WHERE id = (SELECT id FROM profiles ORDER BY random() LIMIT 1)");
    sql_ok("INSERT INTO profiles (name, ca_id, common_name, seat_id) VALUES "
           "('p-' || gen_random_uuid(), '" CA "', 'cn', 'seat')");
  }
}

static void counters_follow_random_changes(void **state) {
  (void)state;
  unsigned seed =
      getenv("TEST_SEED") ? (unsigned)strtoul(getenv("TEST_SEED"), NULL, 10) : (unsigned)time(NULL);
  printf("seed %u (TEST_SEED=%u reproduces)\n", seed, seed);
  srand(seed);
  sql_ok("SELECT setseed(%f)", (double)(seed % 1000) / 1000.0);
  fixture();
  assert_counters_match("empty");
  for (int i = 1; i <= 600; i++) {
    random_operation();
    if (i % 25 == 0) {
      char when[32];
      snprintf(when, sizeof(when), "after %d operations", i);
      assert_counters_match(when);
      assert_all_status();
    }
  }
  /* the run exercised what it claims to */
  printf("most seen: %lld pending, %lld verifying, %lld verified, %lld failed, %lld of them "
         "with a valid certificate\n",
         seen_max.pending, seen_max.verifying, seen_max.verified, seen_max.failed,
         seen_max.failed_with_valid_certificate);
  assert_true(seen_max.pending > 0 && seen_max.verifying > 0 && seen_max.verified > 0);
  assert_true(seen_max.failed > 0 && seen_max.failed_with_valid_certificate > 0);
  sql_ok("TRUNCATE deployments");
  assert_counters_match("after TRUNCATE");
  assert_all_status();
}

/* The function the migration backfills with also repairs counters that a
 * bulk load without triggers left behind. */
static void rebuild_repairs_counters(void **state) {
  (void)state;
  fixture();
  sql_ok("INSERT INTO deployments (device_id, profile_id) SELECT d.id, p.id FROM devices d, "
         "profiles p");
  sql_ok("UPDATE deployments SET status = 'verifying' WHERE get_byte(uuid_send(device_id), 0) "
         "< 128");
  sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'server' "
         "WHERE status = 'pending'");
  sql_ok("SET session_replication_role = replica");
  sql_ok("INSERT INTO devices (serial, token_hash) VALUES ('bulk', repeat('b', 64))");
  sql_ok("INSERT INTO deployments (device_id, profile_id, status, failure_source, "
         "installed_not_before, installed_not_after) SELECT d.id, p.id, 'failed', 'device', "
         "now() - interval '1 day', now() + interval '5 days' FROM devices d, profiles p "
         "WHERE d.serial = 'bulk'");
  sql_ok("SET session_replication_role = origin");
  sql_ok("UPDATE deployment_counts SET n = n + 5 WHERE stripe = 3");
  assert_int_equal(sql_number("SELECT sum(n) FROM deployment_failed_expiry"), 0);
  sql_ok("SELECT deployment_counts_rebuild()");
  assert_counters_match("after the rebuild");
  assert_all_status();
  db_status s;
  assert_int_equal(db_status_counts(conn, NULL, &s), 1);
  assert_int_equal(s.failed_with_valid_certificate, NPROFILES);
  assert_int_equal(s.total, (NDEVICES + 1) * NPROFILES);
}

static void unknown_profile_is_zero_rows(void **state) {
  (void)state;
  fixture();
  db_status s;
  assert_int_equal(db_status_counts(conn, "00000000-0000-4000-8000-000000000000", &s), 0);
}

/* Writers that change deployments of devices in different stripes do not
 * wait for each other's commit on a counter row. */
static void different_stripes_do_not_block(void **state) {
  (void)state;
  fixture();
  sql_ok("INSERT INTO deployments (device_id, profile_id) SELECT d.id, p.id FROM devices d, "
         "profiles p WHERE p.name = 'p1'");
  PGresult *res = PQexec(conn->pg, "SELECT DISTINCT ON (deployment_counts_stripe(device_id)) "
                                   "device_id, profile_id FROM deployments ORDER BY "
                                   "deployment_counts_stripe(device_id) LIMIT 2");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(res), 2);
  db_conn *other = db_connect(db_fixture_url);
  assert_non_null(other);
  sql_ok("BEGIN");
  sql_ok("UPDATE deployments SET status = 'verifying'" ROW, PQgetvalue(res, 0, 0),
         PQgetvalue(res, 0, 1));
  sql_on(other, "SET lock_timeout = '3s'");
  sql_on(other, "UPDATE deployments SET status = 'verifying'" ROW, PQgetvalue(res, 1, 0),
         PQgetvalue(res, 1, 1));
  sql_ok("COMMIT");
  PQclear(res);
  db_disconnect(&other);
  assert_counters_match("after two concurrent writers");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(counters_follow_random_changes),
      cmocka_unit_test(rebuild_repairs_counters),
      cmocka_unit_test(unknown_profile_is_zero_rows),
      cmocka_unit_test(different_stripes_do_not_block),
  };
  return cmocka_run_group_tests(tests, db_fixture_setup, db_fixture_teardown);
}
