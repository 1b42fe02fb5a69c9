/* stop_signal.c: SIGINT/SIGTERM set a flag; sleeps wake on them. */
#include "stop_signal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int signo) {
  stop_requested = signo;
}

volatile sig_atomic_t *stop_signal_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
    return NULL;
  return &stop_requested;
}

static int add_ms(struct timespec *t, long ms) {
  if (clock_gettime(CLOCK_MONOTONIC, t) != 0)
    return -1;
  t->tv_sec += ms / 1000;
  t->tv_nsec += (ms % 1000) * 1000000L;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
  return 0;
}

int stop_signal_sleep(long seconds) {
  return stop_signal_sleep_ms(seconds * 1000);
}

int stop_signal_sleep_ms(long ms) {
  sigset_t stops;
  sigset_t saved;
  struct timespec deadline;
  struct timespec now;

  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  if (add_ms(&deadline, ms) != 0 || sigprocmask(SIG_BLOCK, &stops, &saved) != 0)
    return stop_requested != 0;
  while (!stop_requested && clock_gettime(CLOCK_MONOTONIC, &now) == 0) {
    struct timespec left = {deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
    if (left.tv_nsec < 0) {
      left.tv_sec--;
      left.tv_nsec += 1000000000L;
    }
    if (left.tv_sec < 0)
      break;
    /* Takes a pending stop signal off the queue without running the handler. */
    int signo = sigtimedwait(&stops, NULL, &left);
    if (signo > 0)
      stop_requested = signo;
    else if (errno != EINTR)
      break; /* EAGAIN: the time is up */
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  return stop_requested != 0;
}
