/* ratelimit.c: a small fixed table of recent failures per address. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SLOTS 4096

typedef struct slot {
  char ip[64];
  time_t window_start;
  int failures;
} slot;

static slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int max_failures = 30;
static int window = 60;

void ratelimit_configure(int limit, int window_seconds) {
  pthread_mutex_lock(&mu);
  max_failures = limit;
  window = window_seconds > 0 ? window_seconds : 60;
  memset(table, 0, sizeof(table));
  pthread_mutex_unlock(&mu);
}

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The slot of ip, with its window restarted when it is over. Caller locks. */
static slot *find(const char *ip, time_t now) {
  slot *s = &table[hash(ip) % SLOTS];
  if (strcmp(s->ip, ip) != 0) {
    /* another address had this slot: its record is dropped (bounded memory) */
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    s->window_start = now;
    s->failures = 0;
  }
  if (now - s->window_start >= window) {
    s->window_start = now;
    s->failures = 0;
  }
  return s;
}

long ratelimit_blocked(const char *ip) {
  time_t now = time(NULL);
  long wait = 0;
  pthread_mutex_lock(&mu);
  if (max_failures > 0) {
    slot *s = find(ip, now);
    if (s->failures >= max_failures)
      wait = (long)(s->window_start + window - now);
  }
  pthread_mutex_unlock(&mu);
  return wait > 0 ? wait : 0;
}

void ratelimit_failure(const char *ip) {
  time_t now = time(NULL);
  pthread_mutex_lock(&mu);
  if (max_failures > 0)
    find(ip, now)->failures++;
  pthread_mutex_unlock(&mu);
}
