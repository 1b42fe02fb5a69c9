/*
 * timefmt.h: timestamps as the database and the API write them,
 * RFC 3339 in UTC to the second ("2026-11-23T18:00:00Z"), and back.
 */
#ifndef CERTDEPLOY_TIMEFMT_H
#define CERTDEPLOY_TIMEFMT_H

#include <time.h>

/* Formats t (Unix seconds) into out. */
void time_format(time_t t, char out[24]);

/* Parses "YYYY-MM-DDTHH:MM:SSZ". Returns 0 and sets *t, or -1. */
int time_parse(const char *text, time_t *t);

#endif
