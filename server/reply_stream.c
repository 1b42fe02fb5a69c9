/* reply_stream.c: streamed reply bodies, sent by libmicrohttpd's content
 * reader with the connection suspended while the next piece is made. */
#include "reply_stream.h"

#include "log.h"
#include "offload.h"
#include "reply.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* Text sent in one go from one piece: MHD's buffer for the connection. */
#define STREAM_BLOCK_SIZE (64 * 1024)

struct reply_stream {
  reply_stream_fill fill; /* the handler's, with its state */
  void *state;
  void (*free_state)(void *state);
  wipebuf piece;               /* the piece being sent */
  size_t sent;                 /* bytes of piece handed to the transport */
  int more;                    /* fill said pieces follow the current one */
  int failed;                  /* a fill failed after the headers went out */
  struct MHD_Connection *conn; /* the connection sending it */
  offload *handlers;           /* where fills after the first run */
};

/* The next piece in place of the sent one. Returns fill's result. */
static int refill(struct reply_stream *s) {
  wipebuf_clear(&s->piece);
  s->sent = 0;
  int rc = s->fill(s->state, &s->piece);
  s->more = rc > 0;
  s->failed = rc < 0;
  return rc;
}

void reply_stream_free(struct reply_stream **sp) {
  if (sp == NULL || *sp == NULL)
    return;
  struct reply_stream *s = *sp;
  if (s->free_state != NULL)
    s->free_state(s->state);
  wipebuf_release(&s->piece);
  free(s);
  *sp = NULL;
}

void reply_stream(reply *rep, int status, const char *content_type, reply_stream_fill fill,
                  void *state, void (*free_state)(void *state)) {
  struct reply_stream *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    if (free_state != NULL)
      free_state(state);
    reply_error(rep, ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  *s = (struct reply_stream){.fill = fill, .state = state, .free_state = free_state};
  int rc = refill(s);
  if (rc < 0) {
    reply_db_error(rep, rc);
    reply_stream_free(&s);
    return;
  }
  reply_empty(rep, status);
  rep->content_type = content_type;
  rep->stream = s;
}

/* On a handler thread, while the connection is suspended. */
static void refill_job(void *arg) {
  struct reply_stream *s = arg;
  refill(s);
  if (s->failed)
    log_msg(LOG_WARN, "a streamed reply was cut short: the database failed after its first piece");
  MHD_resume_connection(s->conn);
}

/* MHD's content reader, on the connection thread: copies out what the
 * current piece still has; once it is sent, holds the connection back
 * and has the next one made on a handler thread (0: nothing yet). The
 * connection is suspended before the job starts, so its resume always
 * comes after. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct reply_stream *s = cls;
  (void)pos;
  if (s->sent < s->piece.len) {
    size_t n = s->piece.len - s->sent < max ? s->piece.len - s->sent : max;
    memcpy(buf, s->piece.data + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
  }
  if (s->failed)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  if (!s->more)
    return MHD_CONTENT_READER_END_OF_STREAM;
  MHD_suspend_connection(s->conn);
  offload_run(s->handlers, refill_job, s);
  return 0;
}

/* MHD's free callback: the response is done with, sent or not. */
static void stream_done(void *cls) {
  struct reply_stream *s = cls;
  reply_stream_free(&s);
}

struct MHD_Response *reply_stream_response(reply *rep, struct MHD_Connection *c,
                                           struct offload *handlers) {
  struct reply_stream *s = rep->stream;
  rep->stream = NULL;
  s->conn = c;
  s->handlers = handlers;
  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_SIZE,
                                                             stream_read, s, stream_done);
  if (r == NULL)
    reply_stream_free(&s);
  return r;
}
