/*
 * ratelimit.h: failed authentication and enrollment attempts per client
 * address. After `limit` failures within a window, the address gets 429
 * until the window ends. Thread-safe; bounded memory (a fixed table; the
 * oldest entries are reused).
 */
#ifndef CERTDEPLOY_RATELIMIT_H
#define CERTDEPLOY_RATELIMIT_H

/* Sets the failures allowed per window and the window length (seconds).
 * limit 0 turns limiting off. */
void ratelimit_configure(int limit, int window_seconds);

/* Seconds until `ip` may try again, or 0 when it may now. */
long ratelimit_blocked(const char *ip);

/* Records one failed attempt from `ip`. */
void ratelimit_failure(const char *ip);

#endif
