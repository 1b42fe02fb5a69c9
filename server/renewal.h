/*
 * renewal.h: when to renew, and how long to wait before retrying the CA.
 * Pure functions; times are Unix seconds (UTC).
 */
#ifndef CERTDEPLOY_RENEWAL_H
#define CERTDEPLOY_RENEWAL_H

#include <stddef.h>
#include <time.h>

#define RENEWAL_DEFAULT_WINDOW_DAYS 30

/* The moment a certificate valid from not_before to not_after should be
 * renewed. The window is renew_before_days before expiry (0: 30 days when
 * the validity is over 30 days, else half the validity; never more than
 * the validity). Devices are spread by a stable offset derived from
 * device_id inside the first tenth of the window, never before it. */
time_t renewal_time(time_t not_before, time_t not_after, int renew_before_days,
                    const char *device_id);

/* renewal_time() of a certificate whose validity is given as it is
 * stored (time_format() text, timefmt.h), written the same way into
 * renew_at. Returns 0, or -1 when a date does not parse. */
int renewal_time_text(const char *not_before, const char *not_after, int renew_before_days,
                      const char *device_id, char renew_at[24]);

/* Seconds to wait after the attempts_made-th failed CA request: base
 * doubled per attempt, capped at max, with jitter (random01 in [0,1)
 * scales it into [d/2, d)), and never less than retry_after (-1: none). */
long retry_delay_seconds(int attempts_made, long base, long max, long retry_after, double random01);

#endif
