/*
 * test_state.c: the state machine against the contract's table, for every
 * combination of status, event and circumstance (exhaustive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "state.h"

#define ANY (-99) /* distinct from STATUS_NONE (-1) */
enum {
  P = STATUS_PENDING,
  V = STATUS_VERIFYING,
  D = STATUS_VERIFIED,
  F = STATUS_FAILED,
  N = STATUS_NONE
};
enum { APPLY = OUTCOME_APPLY, NOOP = OUTCOME_NOOP, IGN = OUTCOME_IGNORED, REF = OUTCOME_REFUSED };

/* One row of the expected table; ANY matches every value. First match wins. */
typedef struct row {
  int from, event, issued, last_attempt, gen_match, sha_match;
  int outcome, to, bump, failure, refusal;
} row;

static const row table[] = {
    /* sticky failure: only a resend leaves failed; assignment is refused */
    {F, EVENT_RESEND, ANY, ANY, ANY, ANY, APPLY, P, 1, FAILURE_NONE, ERR_CONFLICT},
    {F, EVENT_ASSIGN, ANY, ANY, ANY, ANY, REF, F, 0, FAILURE_NONE, ERR_CONFLICT},
    {F, ANY, ANY, ANY, ANY, ANY, IGN, F, 0, FAILURE_NONE, ERR_DEPLOYMENT_FAILED},
    /* assignment */
    {N, EVENT_ASSIGN, ANY, ANY, ANY, ANY, APPLY, P, 0, FAILURE_NONE, ERR_CONFLICT},
    {N, ANY, ANY, ANY, ANY, ANY, REF, N, 0, FAILURE_NONE, ERR_NOT_FOUND},
    {ANY, EVENT_ASSIGN, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    /* CA outcomes apply only to a pending deployment awaiting its certificate */
    {P, EVENT_CA_ISSUED, 0, ANY, ANY, ANY, APPLY, P, 0, FAILURE_NONE, ERR_CONFLICT},
    {P, EVENT_CA_PERMANENT, 0, ANY, ANY, ANY, APPLY, F, 0, FAILURE_SERVER, ERR_CONFLICT},
    {P, EVENT_CA_TRANSIENT, 0, 1, ANY, ANY, APPLY, F, 0, FAILURE_SERVER, ERR_CONFLICT},
    {P, EVENT_CA_TRANSIENT, 0, 0, ANY, ANY, APPLY, P, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_CA_ISSUED, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_CA_PERMANENT, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_CA_TRANSIENT, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    /* delivery at check-in */
    {P, EVENT_DELIVERED, 1, ANY, ANY, ANY, APPLY, V, 0, FAILURE_NONE, ERR_CONFLICT},
    {V, EVENT_DELIVERED, ANY, ANY, ANY, ANY, APPLY, V, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_DELIVERED, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    /* acknowledgements: an old generation is always stale */
    {ANY, EVENT_ACK_INSTALLED, ANY, ANY, 0, ANY, REF, ANY, 0, FAILURE_NONE, ERR_STALE_GENERATION},
    {ANY, EVENT_ACK_ERROR, ANY, ANY, 0, ANY, REF, ANY, 0, FAILURE_NONE, ERR_STALE_GENERATION},
    {V, EVENT_ACK_INSTALLED, ANY, ANY, 1, 1, APPLY, D, 0, FAILURE_NONE, ERR_CONFLICT},
    {D, EVENT_ACK_INSTALLED, ANY, ANY, 1, 1, NOOP, D, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_ACK_INSTALLED, ANY, ANY, 1, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    {P, EVENT_ACK_ERROR, ANY, ANY, 1, ANY, APPLY, F, 0, FAILURE_DEVICE, ERR_CONFLICT},
    {V, EVENT_ACK_ERROR, ANY, ANY, 1, ANY, APPLY, F, 0, FAILURE_DEVICE, ERR_CONFLICT},
    {D, EVENT_ACK_ERROR, ANY, ANY, 1, ANY, REF, D, 0, FAILURE_NONE, ERR_CONFLICT},
    /* inventory only ever confirms what was delivered */
    {V, EVENT_INVENTORY_MATCH, ANY, ANY, ANY, 1, APPLY, V + 1, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_INVENTORY_MATCH, ANY, ANY, ANY, ANY, NOOP, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    /* a device key mode CSR is taken while the certificate is still to be issued */
    {ANY, EVENT_CSR_RECEIVED, ANY, ANY, 0, ANY, REF, ANY, 0, FAILURE_NONE, ERR_STALE_GENERATION},
    {P, EVENT_CSR_RECEIVED, 0, ANY, 1, ANY, APPLY, P, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_CSR_RECEIVED, ANY, ANY, 1, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    /* renewal, profile edits, resend */
    {D, EVENT_RENEWAL_DUE, ANY, ANY, ANY, ANY, APPLY, P, 1, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_RENEWAL_DUE, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_PROFILE_EDITED, ANY, ANY, ANY, ANY, APPLY, P, 1, FAILURE_NONE, ERR_CONFLICT},
    {D, EVENT_RESEND, ANY, ANY, ANY, ANY, APPLY, P, 1, FAILURE_NONE, ERR_CONFLICT},
    {ANY, EVENT_RESEND, ANY, ANY, ANY, ANY, REF, ANY, 0, FAILURE_NONE, ERR_CONFLICT},
};
#define NROWS ((int)(sizeof(table) / sizeof(table[0])))

static int m(int want, int have) {
  return want == ANY || want == have;
}

static void every_combination_matches_the_table(void **state) {
  (void)state;
  int used[NROWS] = {0};
  int cases = 0;
  for (int from = STATUS_NONE; from < STATUS_COUNT; from++)
    for (int ev = 0; ev < EVENT_COUNT; ev++)
      for (int issued = 0; issued < 2; issued++)
        for (int last = 0; last < 2; last++)
          for (int gen = 0; gen < 2; gen++)
            for (int sha = 0; sha < 2; sha++) {
              state_input in = {.from = (deployment_status)from,
                                .event = (state_event)ev,
                                .issued = issued,
                                .max_attempts = 5,
                                .attempts = last ? 4 : 1,
                                .generation_matches = gen,
                                .sha_matches = sha};
              const row *r = NULL;
              for (int i = 0; i < NROWS && r == NULL; i++) {
                const row *t = &table[i];
                if (m(t->from, from) && m(t->event, ev) && m(t->issued, issued) &&
                    m(t->last_attempt, last) && m(t->gen_match, gen) && m(t->sha_match, sha)) {
                  r = t;
                  used[i]++;
                }
              }
              char what[160];
              snprintf(what, sizeof(what), "from=%s event=%s issued=%d last=%d gen=%d sha=%d",
                       state_status_name(in.from), state_event_name(in.event), issued, last, gen,
                       sha);
              if (r == NULL)
                fail_msg("no table row for %s", what);
              state_result got = state_decide(&in);
              int want_to = (r->to == ANY) ? from : r->to;
              if ((int)got.outcome != r->outcome || (int)got.to != want_to ||
                  got.new_generation != r->bump || (int)got.failure != r->failure ||
                  (r->outcome != APPLY && r->outcome != NOOP && (int)got.refusal != r->refusal))
                fail_msg("%s: got outcome=%d to=%s bump=%d failure=%d refusal=%d", what,
                         got.outcome, state_status_name(got.to), got.new_generation, got.failure,
                         got.refusal);
              /* no event other than a resend ever leaves failed */
              if (from == STATUS_FAILED && got.to != STATUS_FAILED)
                assert_int_equal(ev, EVENT_RESEND);
              assert_non_null(got.reason);
              cases++;
            }
  assert_int_equal(cases, 5 * EVENT_COUNT * 16);
  for (int i = 0; i < NROWS; i++)
    if (used[i] == 0)
      fail_msg("table row %d is never reached: the table has a dead row", i);
}

static void attempts_count_and_exhaust(void **state) {
  (void)state;
  state_input in = {.from = STATUS_PENDING, .event = EVENT_CA_TRANSIENT, .max_attempts = 3};
  state_result r = state_decide(&in);
  assert_int_equal(r.to, STATUS_PENDING);
  assert_int_equal(r.attempts, 1);
  in.attempts = 1;
  r = state_decide(&in);
  assert_int_equal(r.attempts, 2);
  assert_int_equal(r.to, STATUS_PENDING);
  in.attempts = 2; /* the third request fails: no fourth */
  r = state_decide(&in);
  assert_int_equal(r.to, STATUS_FAILED);
  assert_int_equal(r.attempts, 3);
  assert_int_equal(r.failure, FAILURE_SERVER);
  in.max_attempts = 1;
  in.attempts = 0;
  r = state_decide(&in);
  assert_int_equal(r.to, STATUS_FAILED);
}

static void new_generation_resets_attempts(void **state) {
  (void)state;
  state_input in = {.from = STATUS_FAILED, .event = EVENT_RESEND, .attempts = 5};
  state_result r = state_decide(&in);
  assert_int_equal(r.attempts, 0);
  assert_int_equal(r.clear_issue, 1);
  assert_int_equal(r.failure, FAILURE_NONE);
}

static void names_round_trip(void **state) {
  (void)state;
  for (int s = 0; s < STATUS_COUNT; s++)
    assert_int_equal(state_status_parse(state_status_name((deployment_status)s)), s);
  assert_int_equal(state_status_parse("bogus"), STATUS_NONE);
  assert_int_equal(state_status_parse(NULL), STATUS_NONE);
  assert_string_equal(state_event_name(EVENT_RESEND), "resend");
  assert_null(state_failure_name(FAILURE_NONE));
  assert_string_equal(state_failure_name(FAILURE_DEVICE), "device");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_combination_matches_the_table),
      cmocka_unit_test(attempts_count_and_exhaust),
      cmocka_unit_test(new_generation_resets_attempts),
      cmocka_unit_test(names_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
