/* renewal.c: renewal windows and retry backoff. */
#include "renewal.h"

#include "timefmt.h"

#include <stdint.h>

/* FNV-1a: stable across processes and versions, unlike a seeded hash. */
static uint64_t stable_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

time_t renewal_time(time_t not_before, time_t not_after, int renew_before_days,
                    const char *device_id) {
  long long validity = (long long)not_after - (long long)not_before;
  if (validity <= 0)
    return not_after;
  long long window;
  if (renew_before_days > 0)
    window = (long long)renew_before_days * 86400;
  else if (validity > (long long)RENEWAL_DEFAULT_WINDOW_DAYS * 86400)
    window = (long long)RENEWAL_DEFAULT_WINDOW_DAYS * 86400;
  else
    window = validity / 2;
  if (window > validity)
    window = validity;
  long long start = (long long)not_after - window;
  long long spread = window / 10;
  long long offset = spread > 0 ? (long long)(stable_hash(device_id) % (uint64_t)spread) : 0;
  return (time_t)(start + offset);
}

int renewal_time_text(const char *not_before, const char *not_after, int renew_before_days,
                      const char *device_id, char renew_at[24]) {
  time_t nb, na;
  if (time_parse(not_before, &nb) != 0 || time_parse(not_after, &na) != 0)
    return -1;
  time_format(renewal_time(nb, na, renew_before_days, device_id), renew_at);
  return 0;
}

long retry_delay_seconds(int attempts_made, long base, long max, long retry_after,
                         double random01) {
  double d = (double)base;
  for (int i = 1; i < attempts_made && d < (double)max; i++)
    d *= 2;
  if (d > (double)max)
    d = (double)max;
  if (random01 < 0)
    random01 = 0;
  if (random01 >= 1)
    random01 = 0.999999;
  long delay = (long)(d * (0.5 + random01 / 2));
  if (delay < 1 && base > 0)
    delay = 1;
  if (retry_after > delay)
    delay = retry_after;
  return delay;
}
