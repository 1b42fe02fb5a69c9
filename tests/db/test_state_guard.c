/*
 * test_state_guard.c: the database enforces the state machine: the
 * trigger's table equals what state.c applies, a raw UPDATE cannot take a
 * failed deployment out of `failed`, history is append-only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db_fixture.h"
#include "state.h"

static void sql_ok(const char *sql) {
  if (db_exec_simple(conn, sql) != 0)
    fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(conn->pg));
}

/* The statement must fail with the guard's SQLSTATE. */
static void sql_refused(const char *sql, const char *sqlstate) {
  int rc = db_exec_simple(conn, sql);
  if (rc == 0)
    fail_msg("the database accepted: %s", sql);
  assert_string_equal(db_last_sqlstate(conn), sqlstate);
}

static char *sql_value(const char *sql) {
  PGresult *res = PQexec(conn->pg, sql);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  char *v = strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  return v;
}

#define DEV "11111111-1111-4111-8111-111111111111"
#define PROF "22222222-2222-4222-8222-222222222222"
#define WHERE " WHERE device_id = '" DEV "' AND profile_id = '" PROF "'"

static void fixture(void) {
  sql_ok("DELETE FROM deployments; DELETE FROM profiles; DELETE FROM cas; DELETE FROM devices");
  sql_ok(
      "INSERT INTO cas (id, name, type, url, api_token_sealed, profile_id) VALUES "
      "('33333333-3333-4333-8333-333333333333', 'ca', 'digicert', 'http://127.0.0.1:1', 'x', 'p')");
  sql_ok("INSERT INTO profiles (id, name, ca_id, common_name, seat_id) VALUES "
         "('" PROF "', 'wifi', '33333333-3333-4333-8333-333333333333', 'cn', 'seat')");
  sql_ok("INSERT INTO devices (id, serial, token_hash) VALUES ('" DEV "', 'SN1', "
         "repeat('a', 64))");
  sql_ok("INSERT INTO deployments (device_id, profile_id) VALUES ('" DEV "', '" PROF "')");
}

static void failed_is_sticky_in_the_database(void **state) {
  (void)state;
  fixture();
  sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'server', "
         "detail = 'Couldn''t get certificate from ca: denied'" WHERE);
  /* the peers' bug: a refetch that flips failed back to verified */
  sql_refused("UPDATE deployments SET status = 'verified', failure_source = NULL" WHERE, "CD001");
  sql_refused("UPDATE deployments SET status = 'pending', failure_source = NULL" WHERE, "CD001");
  sql_refused("UPDATE deployments SET status = 'pending', failure_source = NULL, attempts = 0, "
              "generation = generation + 1" WHERE,
              "CD001");
  sql_refused("UPDATE deployments SET detail = 'overwritten'" WHERE, "CD001");
  char *status = sql_value("SELECT status || ':' || detail FROM deployments" WHERE);
  assert_string_equal(status, "failed:Couldn't get certificate from ca: denied");
  free(status);
  /* the resend path: the only way out, and only to pending with a new generation */
  sql_ok("BEGIN");
  sql_ok("SELECT set_config('certdeploy.resend', 'on', true)");
  sql_refused("UPDATE deployments SET status = 'verified', failure_source = NULL, "
              "generation = generation + 1, attempts = 0" WHERE,
              "CD001");
  sql_ok("ROLLBACK");
  sql_ok("BEGIN");
  sql_ok("SELECT set_config('certdeploy.resend', 'on', true)");
  sql_ok("UPDATE deployments SET status = 'pending', failure_source = NULL, detail = '', "
         "generation = generation + 1, attempts = 0" WHERE);
  sql_ok("COMMIT");
  /* the setting was local to that transaction */
  sql_ok("UPDATE deployments SET status = 'failed', failure_source = 'device', detail = 'x'" WHERE);
  sql_refused("UPDATE deployments SET status = 'pending', failure_source = NULL, attempts = 0, "
              "generation = generation + 1" WHERE,
              "CD001");
}

static void transitions_outside_the_table_are_refused(void **state) {
  (void)state;
  fixture();
  sql_refused("UPDATE deployments SET status = 'verified'" WHERE, "CD001");
  sql_refused("UPDATE deployments SET generation = generation + 2" WHERE, "CD001");
  sql_ok("UPDATE deployments SET status = 'verifying'" WHERE);
  sql_ok("UPDATE deployments SET status = 'verified'" WHERE);
  sql_refused("UPDATE deployments SET status = 'verifying'" WHERE, "CD001");
  sql_refused("UPDATE deployments SET status = 'failed', failure_source = 'device'" WHERE, "CD001");
  sql_refused("UPDATE deployments SET status = 'pending'" WHERE, "CD001");
  sql_ok("UPDATE deployments SET status = 'pending', generation = generation + 1" WHERE);
  sql_refused("INSERT INTO deployments (device_id, profile_id, status, failure_source) VALUES "
              "('" DEV "', gen_random_uuid(), 'failed', 'server')",
              "CD001");
}

static void history_is_append_only(void **state) {
  (void)state;
  fixture();
  sql_ok("INSERT INTO deployment_history (device_id, profile_id, actor, event, to_status, "
         "generation) VALUES ('" DEV "', '" PROF "', 'worker', 'assigned', 'pending', 1)");
  sql_refused("UPDATE deployment_history SET actor = 'someone else'", "CD002");
  sql_refused("DELETE FROM deployment_history", "CD002");
}

/* state.c and deployment_transitions describe the same machine. */
static void trigger_table_mirrors_state_machine(void **state) {
  (void)state;
  int applied[STATUS_COUNT][STATUS_COUNT][2] = {{{0}}};
  for (int from = 0; from < STATUS_COUNT; from++)
    for (int ev = 0; ev < EVENT_COUNT; ev++)
      for (int bits = 0; bits < 16; bits++) {
        state_input in = {.from = (deployment_status)from,
                          .event = (state_event)ev,
                          .issued = bits & 1,
                          .attempts = (bits & 2) ? 4 : 0,
                          .max_attempts = 5,
                          .generation_matches = (bits & 4) != 0,
                          .sha_matches = (bits & 8) != 0};
        state_result r = state_decide(&in);
        if (r.outcome == OUTCOME_APPLY)
          applied[from][r.to][r.new_generation] = 1;
      }
  PGresult *res = PQexec(conn->pg, "SELECT from_status, to_status, new_generation "
                                   "FROM deployment_transitions");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  int in_table[STATUS_COUNT][STATUS_COUNT][2] = {{{0}}};
  for (int i = 0; i < PQntuples(res); i++) {
    int f = state_status_parse(PQgetvalue(res, i, 0));
    int t = state_status_parse(PQgetvalue(res, i, 1));
    int g = PQgetvalue(res, i, 2)[0] == 't';
    assert_true(f >= 0 && t >= 0);
    in_table[f][t][g] = 1;
  }
  PQclear(res);
  for (int f = 0; f < STATUS_COUNT; f++)
    for (int t = 0; t < STATUS_COUNT; t++)
      for (int g = 0; g < 2; g++)
        if (applied[f][t][g] != in_table[f][t][g])
          fail_msg("%s -> %s%s: state.c %s it, the database table %s it", state_status_name(f),
                   state_status_name(t), g ? " (new generation)" : "",
                   applied[f][t][g] ? "applies" : "never applies",
                   in_table[f][t][g] ? "has" : "lacks");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(failed_is_sticky_in_the_database),
      cmocka_unit_test(transitions_outside_the_table_are_refused),
      cmocka_unit_test(history_is_append_only),
      cmocka_unit_test(trigger_table_mirrors_state_machine),
  };
  return cmocka_run_group_tests(tests, db_fixture_setup, db_fixture_teardown);
}
