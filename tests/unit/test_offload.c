/*
 * test_offload.c: the handler threads (server/offload.c) run every job
 * handed over exactly once: on a thread of theirs while open, queued ones
 * before close returns, and at once on the caller's thread after close or
 * without threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "offload.h"

#define JOBS 2000

typedef struct tally {
  atomic_int runs[JOBS];
  atomic_int total;
  atomic_int on_caller; /* jobs that ran on the thread that handed them over */
  pthread_t caller;
} tally;

typedef struct slot {
  tally *t;
  int index;
} slot;

static void count(void *arg) {
  slot *s = arg;
  atomic_fetch_add(&s->t->runs[s->index], 1);
  atomic_fetch_add(&s->t->total, 1);
  if (pthread_equal(pthread_self(), s->t->caller))
    atomic_fetch_add(&s->t->on_caller, 1);
}

static tally *tally_new(void) {
  tally *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  t->caller = pthread_self();
  return t;
}

static void each_job_runs_once_on_a_handler_thread(void **state) {
  (void)state;
  tally *t = tally_new();
  slot *slots = calloc(JOBS, sizeof(*slots));
  offload *o = offload_start(4);
  assert_non_null(o);
  for (int i = 0; i < JOBS; i++) {
    slots[i] = (slot){t, i};
    offload_run(o, count, &slots[i]);
  }
  offload_close(o); /* runs what is still queued */
  assert_int_equal(atomic_load(&t->total), JOBS);
  for (int i = 0; i < JOBS; i++)
    assert_int_equal(atomic_load(&t->runs[i]), 1);
  assert_int_equal(atomic_load(&t->on_caller), 0);
  offload_free(&o);
  assert_null(o);
  free(slots);
  free(t);
}

typedef struct order {
  int next;
  int out_of_order;
} order;

typedef struct step {
  order *o;
  int n;
} step;

static void in_turn(void *arg) {
  step *s = arg;
  if (s->o->next != s->n)
    s->o->out_of_order++;
  s->o->next = s->n + 1;
}

static void one_thread_runs_jobs_in_order(void **state) {
  (void)state;
  order ord = {0, 0};
  step steps[500];
  offload *o = offload_start(1);
  assert_non_null(o);
  for (int i = 0; i < 500; i++) {
    steps[i] = (step){&ord, i};
    offload_run(o, in_turn, &steps[i]);
  }
  offload_free(&o); /* closes first */
  assert_int_equal(ord.next, 500);
  assert_int_equal(ord.out_of_order, 0);
}

static void after_close_jobs_run_on_the_caller(void **state) {
  (void)state;
  tally *t = tally_new();
  slot s[2] = {{t, 0}, {t, 1}};
  offload *o = offload_start(2);
  assert_non_null(o);
  offload_close(o);
  offload_close(o); /* twice is harmless */
  offload_run(o, count, &s[0]);
  assert_int_equal(atomic_load(&t->total), 1); /* at once, not queued */
  offload_run(NULL, count, &s[1]);
  assert_int_equal(atomic_load(&t->total), 2);
  assert_int_equal(atomic_load(&t->on_caller), 2);
  offload_free(&o);
  offload_free(&o); /* NULL after the first */
  offload_close(NULL);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_job_runs_once_on_a_handler_thread),
      cmocka_unit_test(one_thread_runs_jobs_in_order),
      cmocka_unit_test(after_close_jobs_run_on_the_caller),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
