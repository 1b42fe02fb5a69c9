/*
 * worker.h: the issuance worker and the scheduler of one instance.
 *
 * Issue threads each claim one due deployment at a time (a lease in the
 * database, so instances never work on the same one), make the CA
 * request, and apply the outcome only if the generation is unchanged. At
 * most CERTDEPLOY_CA_CONCURRENCY requests are with the CA at once; half
 * as many threads again prepare the next requests (keys, CSRs) and record
 * outcomes meanwhile. A listener thread wakes them on NOTIFY certdeploy_work
 * (new work from any instance), when the next retry comes due, and every
 * scheduler interval, when it also starts renewals that are due.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_WORKER_H
#define CERTDEPLOY_WORKER_H

#include "app.h"

typedef struct worker worker;

/* Starts the threads. NULL after logging why. */
worker *worker_start(app *a);

/* Stops the threads, letting CA requests in flight finish. Accepts NULL. */
void worker_stop(worker **w);

#endif
