/*
 * reply_stream.h: a reply whose body is made while it is sent, one piece
 * at a time (the CSV export of a whole fleet), so that the server's
 * memory does not grow with the body.
 *
 * The handler gives a fill function and its state. fill runs on a handler
 * thread (offload.h), where it may wait on PostgreSQL: first inside
 * reply_stream() itself, so that a failure before the first byte is an
 * ordinary error reply, then each time the transport has sent the whole
 * previous piece. The connection thread that sends the body never waits:
 * when it has sent a piece and the next is not made yet, the transport
 * holds the connection back (no thread waiting) and hands the fill to a
 * handler thread, which resumes it when the piece is there. Between two
 * pieces nothing is held but the state and one piece's buffer (no
 * database connection, no thread); a client that goes away ends the
 * stream at the next piece at the latest, and the state is freed then.
 *
 * Threads: fill and the transport never run at the same time for one
 * stream, so fill's state needs no lock.
 */
#ifndef CERTDEPLOY_REPLY_STREAM_H
#define CERTDEPLOY_REPLY_STREAM_H

#include "request.h"
#include "wipebuf.h"

struct MHD_Response;
struct MHD_Connection;
struct offload;

#define REPLY_STREAM_PIECE_MAX (16 * 1024 * 1024) /* the most one fill may append */

/* Appends the next piece of the body to out (empty when called; append
 * with wipebuf_append and REPLY_STREAM_PIECE_MAX). Returns 1 when more
 * pieces follow, 0 when this was the last one, or a DB_*_ERROR: before
 * the first byte it becomes the reply (reply_db_error), later it cuts the
 * transfer short, so that the client sees it failed (an unterminated
 * chunked body). */
typedef int (*reply_stream_fill)(void *state, wipebuf *out);

/* Sets rep to `status` with a streamed body of content_type (a static
 * string) and runs fill for the first piece. Takes state: freed with
 * free_state when the stream ends, however it ends (here already when the
 * first fill fails). */
void reply_stream(reply *rep, int status, const char *content_type, reply_stream_fill fill,
                  void *state, void (*free_state)(void *state));

/* For the transport (http.c): the response that sends rep's stream over
 * connection c, taking the stream out of rep; later fills go to handlers.
 * NULL when out of memory (the stream is freed). */
struct MHD_Response *reply_stream_response(reply *rep, struct MHD_Connection *c,
                                           struct offload *handlers);

/* Frees a stream that was never handed to the transport (reply_release).
 * Accepts NULL. */
void reply_stream_free(struct reply_stream **s);

#endif
