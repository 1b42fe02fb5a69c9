/*
 * stop_signal.h: stopping `checkin --loop` (and `--wait`) cleanly on
 * SIGINT or SIGTERM.
 *
 * The handler only records the signal. A transfer in flight aborts (the
 * HTTP client watches the flag), the run stops before its next step, and
 * a sleep between runs ends at once; the agent then exits 0 after --loop,
 * 1 after --wait (what it waited for did not happen).
 */
#ifndef CERTDEPLOY_AGENT_STOP_SIGNAL_H
#define CERTDEPLOY_AGENT_STOP_SIGNAL_H

#include <signal.h>

/* Installs the SIGINT/SIGTERM handlers. Returns the flag they set (to the
 * signal's number; 0 until then), NULL when sigaction fails. */
volatile sig_atomic_t *stop_signal_install(void);

/* Sleeps up to seconds. Returns 1 when a stop signal arrived before or
 * during the sleep, else 0. A signal that lands between the check and the
 * wait is not lost: both are blocked while checked and waited for. */
int stop_signal_sleep(long seconds);

/* stop_signal_sleep to the millisecond. */
int stop_signal_sleep_ms(long ms);

#endif
