/* offload.c: handler threads taking jobs from one queue, in order. */
#include "offload.h"

#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
  void (*run)(void *arg);
  void *arg;
  struct job *next;
} job;

struct offload {
  pthread_mutex_t mu; /* guards the queue and closing */
  pthread_cond_t wake;
  job *head, *tail;
  int closing;
  int closed; /* the threads are joined */
  int nthreads;
  pthread_t *threads;
};

static void *handler_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-handler"); /* for top -H, perf */
  offload *o = arg;
  pthread_mutex_lock(&o->mu);
  for (;;) {
    job *j = o->head;
    if (j == NULL) {
      if (o->closing)
        break;
      pthread_cond_wait(&o->wake, &o->mu);
      continue;
    }
    o->head = j->next;
    if (o->head == NULL)
      o->tail = NULL;
    pthread_mutex_unlock(&o->mu);
    j->run(j->arg);
    free(j);
    pthread_mutex_lock(&o->mu);
  }
  pthread_mutex_unlock(&o->mu);
  return NULL;
}

void offload_run(offload *o, void (*run)(void *arg), void *arg) {
  job *j = o ? malloc(sizeof(*j)) : NULL;
  if (j != NULL) {
    *j = (job){run, arg, NULL};
    pthread_mutex_lock(&o->mu);
    int queued = !o->closing;
    if (queued) {
      if (o->tail)
        o->tail->next = j;
      else
        o->head = j;
      o->tail = j;
      pthread_cond_signal(&o->wake);
    }
    pthread_mutex_unlock(&o->mu);
    if (queued)
      return;
    free(j);
  }
  run(arg);
}

offload *offload_start(int nthreads) {
  offload *o = calloc(1, sizeof(*o));
  if (o == NULL)
    return NULL;
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->wake, NULL);
  o->threads = calloc((size_t)nthreads, sizeof(*o->threads));
  if (o->threads == NULL) {
    offload_free(&o);
    return NULL;
  }
  for (; o->nthreads < nthreads; o->nthreads++) {
    if (pthread_create(&o->threads[o->nthreads], NULL, handler_thread, o) != 0) {
      log_fail("cannot start handler thread %d of %d", o->nthreads + 1, nthreads);
      offload_free(&o);
      return NULL;
    }
  }
  return o;
}

void offload_close(offload *o) {
  if (o == NULL || o->closed)
    return;
  pthread_mutex_lock(&o->mu);
  o->closing = 1;
  pthread_cond_broadcast(&o->wake);
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < o->nthreads; i++)
    pthread_join(o->threads[i], NULL);
  o->closed = 1;
}

void offload_free(offload **op) {
  if (op == NULL || *op == NULL)
    return;
  offload *o = *op;
  offload_close(o);
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->wake);
  free(o->threads);
  free(o);
  *op = NULL;
}
