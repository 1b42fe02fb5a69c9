/*
 * offload.h: handler threads, where work that may wait runs.
 *
 * The HTTP connection threads (http.c) read requests and write replies
 * for many connections each; a handler that waits on PostgreSQL, the CA
 * or the disk would hold up every other connection of its thread. Such
 * work is handed over here instead (request_offload()): a fixed set of
 * threads takes the jobs in order, each running one job at a time.
 *
 * Every job handed over runs exactly once: once the threads are closed
 * (or a job cannot be queued), offload_run() runs it at once on the
 * caller's thread.
 *
 * docs/threads.md: every kind of thread, and what each may wait on.
 */
#ifndef CERTDEPLOY_OFFLOAD_H
#define CERTDEPLOY_OFFLOAD_H

typedef struct offload offload;

/* Starts nthreads threads. NULL with a logged reason on failure. */
offload *offload_start(int nthreads);

/* Runs job(arg) on one of the threads, or at once (see above). */
void offload_run(offload *o, void (*job)(void *arg), void *arg);

/* Runs the jobs still queued, then stops the threads; jobs handed over
 * later run on their caller's thread. Accepts NULL. */
void offload_close(offload *o);

/* Frees, closing first if needed, once no thread can hand a job over any
 * more. Accepts NULL. */
void offload_free(offload **o);

#endif
