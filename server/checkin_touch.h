/*
 * checkin_touch.h: devices' last contact times, written in batches.
 *
 * Authenticating a device is a read; the contact time it implies
 * (devices.last_checkin_at) is kept in memory and written once a second
 * for all devices seen, in one statement, so a check-in never waits for a
 * WAL flush. A crash loses at most the last second of contact times,
 * never a deployment transition. The times are the database's clock
 * (recorded as ages, see db_device_touch). A device whose stored time is
 * younger than DB_CONTACT_RESOLUTION_SECONDS (the authenticating read
 * tells) is not recorded again: a storm of check-ins writes each device
 * once a minute, not at every request.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_CHECKIN_TOUCH_H
#define CERTDEPLOY_CHECKIN_TOUCH_H

#include "app.h"

#define CHECKIN_TOUCH_MAX 65536 /* contacts held between two writes */
#define CHECKIN_TOUCH_INTERVAL_MS 1000

typedef struct checkin_touch checkin_touch;

/* Starts the writer thread on the app's database pool. NULL on failure. */
checkin_touch *checkin_touch_start(app *a);

/* Notes that the device (a UUID) made contact now. Never blocks on the
 * database; when CHECKIN_TOUCH_MAX contacts wait already (the database
 * is down), the contact is counted as dropped. Accepts NULL t. */
void checkin_touch_record(checkin_touch *t, const char *device_id);

/* Stops the thread after a last write. Accepts NULL. */
void checkin_touch_stop(checkin_touch **t);

#endif
