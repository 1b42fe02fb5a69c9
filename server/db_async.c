/* db_async.c: a thread that runs reads on its own connections and waits
 * on all of them at once. */
#include "db_async.h"

#include "db_internal.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* How long the thread waits before it tries a lost database again. */
#define DB_ASYNC_RECONNECT_SECONDS 1
/* Most reads in one execution; more queued at once make more of them. */
#define DB_ASYNC_MAX_KEYS 256

/* A read handed over, or a statement to prepare. Once sent, a read
 * carries the others of its execution (more). */
typedef struct job {
  db_stmt *stmt;
  int prepare; /* a PQsendPrepare() of stmt, not a read */
  int key_col;
  char *key;
  db_async_done done;
  void *arg;
  struct job *more; /* sent: the other reads of this execution */
  int nkeys;        /* sent: the reads it carries, itself included */
  struct job *next;
} job;

/* A connection in pipeline mode: the executions it sent, answered in
 * order, each batch closed by a Sync. */
typedef struct slot {
  db_conn conn;
  job *head, *tail; /* sent, in the order the answers come */
  int njobs;
  int nsyncs;     /* batches whose Sync has not come back */
  int want_write; /* PQflush() has more to send */
  PGresult *res;  /* the head execution's answer, until its end */
  int rc;         /* the head execution's error */
} slot;

struct db_async {
  char *conninfo;
  int nslots;
  slot *slots;
  struct pollfd *fds; /* wake_fd, then the connections with reads out */
  slot **polled;      /* the slot of each fds[k + 1] */
  pthread_t thread;
  int started;
  int wake_fd; /* eventfd: a read was queued, or stop */
  pthread_mutex_t mu;
  job *head, *tail; /* queued, not yet sent */
  int closing;
  int sleeping;    /* the thread is in poll(): a new read writes wake_fd */
  time_t retry_at; /* no connection until then */
};

static void job_free(job *j) {
  free(j->key);
  free(j);
}

/* One key's rows in a result: [row, row + n). */
typedef struct run {
  const char *key;
  int row, n;
} run;

static int by_key(const void *a, const void *b) {
  return strcmp(((const run *)a)->key, ((const run *)b)->key);
}

/* The runs of equal keys in column col of res, sorted by key for
 * bsearch(), into *runs (malloc'd). Returns their count, or -1. */
static int key_runs(const PGresult *res, int col, run **runs) {
  int n = PQntuples(res), count = 0;
  if (col >= PQnfields(res) || (*runs = malloc(sizeof(run) * (size_t)(n ? n : 1))) == NULL)
    return -1;
  for (int r = 0; r < n; r++) {
    const char *k = PQgetvalue(res, r, col);
    if (count > 0 && strcmp((*runs)[count - 1].key, k) == 0)
      (*runs)[count - 1].n++;
    else
      (*runs)[count++] = (run){k, r, 1};
  }
  qsort(*runs, (size_t)count, sizeof(run), by_key);
  return count;
}

/* Completes j and every read it carries, each with its own key's rows. */
static void job_finish(job *j, const PGresult *res, int rc) {
  run *runs = NULL;
  int nruns = 0;
  if (res != NULL && j->key != NULL && (nruns = key_runs(res, j->key_col, &runs)) < 0) {
    res = NULL;
    rc = DB_HARD_ERROR;
  }
  while (j != NULL) {
    job *more = j->more;
    if (j->done != NULL) {
      run want = {.key = j->key};
      const run *r = res ? bsearch(&want, runs, (size_t)nruns, sizeof(run), by_key) : NULL;
      j->done(j->arg, res, r ? r->row : 0, r ? r->n : 0, rc);
    }
    job_free(j);
    j = more;
  }
  free(runs);
}

void db_async_read(db_async *q, db_stmt *stmt, int key_col, const char *key, db_async_done done,
                   void *arg) {
  job *j = calloc(1, sizeof(*j));
  if (j == NULL || (j->key = strdup(key)) == NULL) {
    free(j);
    done(arg, NULL, 0, 0, DB_HARD_ERROR);
    return;
  }
  j->stmt = stmt;
  j->key_col = key_col;
  j->done = done;
  j->arg = arg;
  j->nkeys = 1;
  pthread_mutex_lock(&q->mu);
  if (q->closing) {
    pthread_mutex_unlock(&q->mu);
    job_finish(j, NULL, DB_SOFT_ERROR);
    return;
  }
  if (q->tail)
    q->tail->next = j;
  else
    q->head = j;
  q->tail = j;
  int wake = q->sleeping;
  q->sleeping = 0;
  pthread_mutex_unlock(&q->mu);
  if (wake) {
    uint64_t one = 1;
    if (write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
      log_msg(LOG_ERROR, "cannot wake the database reads thread: %s", strerror(errno));
  }
}

static void slot_push(slot *s, job *j) {
  j->next = NULL;
  if (s->tail)
    s->tail->next = j;
  else
    s->head = j;
  s->tail = j;
  s->njobs++;
}

static job *slot_pop(slot *s) {
  job *j = s->head;
  s->head = j->next;
  if (s->head == NULL)
    s->tail = NULL;
  s->njobs--;
  return j;
}

/* The connection broke: its reads fail and it reconnects when next used. */
static void slot_broke(db_async *q, slot *s) {
  s->conn.broken = 1;
  s->want_write = 0;
  s->nsyncs = 0;
  if (s->res)
    PQclear(s->res);
  s->res = NULL;
  s->rc = 0;
  while (s->head != NULL)
    job_finish(slot_pop(s), NULL, DB_SOFT_ERROR);
  q->retry_at = 0; /* try again at once: another session may be fine */
}

/* A working session in pipeline mode. Returns 0 or -1. */
static int slot_ready(db_async *q, slot *s) {
  if (db_conn_alive(&s->conn))
    return 0; /* the session set up below is still there */
  if (time(NULL) < q->retry_at)
    return -1;
  if (db_conn_ensure(&s->conn, q->conninfo) != 0) {
    q->retry_at = time(NULL) + DB_ASYNC_RECONNECT_SECONDS; /* from this failure, not pushed on */
    return -1;
  }
  /* The reads' statement is best planned once, whatever a batch's number
   * of keys: left to choose, PostgreSQL plans every batch of a few keys
   * anew (a custom plan looks cheaper for them), and planning costs more
   * than such a batch's execution. */
  PGresult *r = PQexec(s->conn.pg, "SET plan_cache_mode = force_generic_plan");
  int set = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!set || PQsetnonblocking(s->conn.pg, 1) != 0 || !PQenterPipelineMode(s->conn.pg)) {
    s->conn.broken = 1;
    return -1;
  }
  return 0;
}

/* The keys of j and the reads it carries as a text[] literal,
 * {"k1","k2",...}; malloc'd. */
static char *keys_literal(const job *j) {
  size_t len = 3;
  for (const job *m = j; m != NULL; m = m->more)
    len += 2 * strlen(m->key) + 3;
  char *out = malloc(len), *o = out;
  if (out == NULL)
    return NULL;
  *o++ = '{';
  for (const job *m = j; m != NULL; m = m->more) {
    if (m != j)
      *o++ = ',';
    *o++ = '"';
    for (const char *c = m->key; *c; c++) {
      if (*c == '"' || *c == '\\')
        *o++ = '\\';
      *o++ = *c;
    }
    *o++ = '"';
  }
  *o++ = '}';
  *o = '\0';
  return out;
}

/* Queues the execution of j (and the reads it carries) on s, behind a
 * prepare of its statement on a new session. */
static int slot_queue(slot *s, job *j) {
  db_conn *c = &s->conn;
  int id = db_stmt_id(j->stmt);
  if (id < 0)
    return DB_HARD_ERROR;
  if (!db_is_prepared(c, id)) {
    job *p = calloc(1, sizeof(*p));
    if (p == NULL)
      return DB_HARD_ERROR;
    p->stmt = j->stmt;
    p->prepare = 1;
    if (!PQsendPrepare(c->pg, j->stmt->name, j->stmt->sql, 0, NULL)) {
      free(p);
      c->broken = 1;
      return DB_SOFT_ERROR;
    }
    db_set_prepared(c, id, 1);
    slot_push(s, p);
  }
  char *keys = keys_literal(j);
  if (keys == NULL)
    return DB_HARD_ERROR;
  const char *params[] = {keys};
  int sent = PQsendQueryPrepared(c->pg, j->stmt->name, 1, params, NULL, NULL, 0);
  free(keys);
  if (!sent) {
    c->broken = 1;
    return DB_SOFT_ERROR;
  }
  slot_push(s, j);
  return 0;
}

/* Gathers the queued reads j (a list through next) into executions: one
 * per statement, of at most DB_ASYNC_MAX_KEYS reads each. Returns the
 * executions, a list through next. */
static job *gather(job *j) {
  job *execs = NULL, *last = NULL;
  while (j != NULL) {
    job *next = j->next, *e;
    j->next = NULL;
    for (e = execs; e != NULL; e = e->next)
      if (e->stmt == j->stmt && e->nkeys < DB_ASYNC_MAX_KEYS)
        break;
    if (e != NULL) {
      j->more = e->more;
      e->more = j;
      e->nkeys++;
    } else if (last != NULL) {
      last = last->next = j;
    } else {
      execs = last = j;
    }
    j = next;
  }
  return execs;
}

/* The working connection with the fewest reads in flight, or NULL. */
static slot *least_busy(db_async *q) {
  slot *best = NULL;
  for (int i = 0; i < q->nslots; i++) {
    slot *s = &q->slots[i];
    if ((best == NULL || s->njobs < best->njobs) && slot_ready(q, s) == 0)
      best = s;
  }
  return best;
}

/* Sends every queued read, as one batch (one write, one Sync) on an idle
 * connection, the reads of each statement as one execution over all
 * their keys (gather()): PostgreSQL answers a batch without waiting for
 * us, and starts and ends one execution where it would have run one per
 * read. While every connection has a batch out, the reads gather for the
 * next one (fewer, larger batches: fewer wake-ups and context switches than
 * sending each at once); then it returns 1. Without a working connection
 * the reads fail, so no request waits on a database that does not answer. */
static int dispatch(db_async *q) {
  slot *s = least_busy(q);
  if (s != NULL && s->njobs > 0)
    return 1;
  pthread_mutex_lock(&q->mu);
  job *j = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
  if (j == NULL)
    return 0;
  int sent = 0;
  for (j = gather(j); j != NULL;) {
    job *next = j->next;
    int rc = s == NULL || s->conn.broken ? DB_SOFT_ERROR : slot_queue(s, j);
    if (rc != 0)
      job_finish(j, NULL, rc);
    else
      sent++;
    j = next;
  }
  if (s == NULL || sent == 0)
    return 0;
  if (s->conn.broken || !PQpipelineSync(s->conn.pg)) {
    slot_broke(q, s);
    return 0;
  }
  s->nsyncs++;
  int f = PQflush(s->conn.pg);
  if (f < 0)
    slot_broke(q, s);
  else
    s->want_write = f == 1;
  return 0;
}

/* The head read's answer is whole. */
static void slot_complete(slot *s) {
  job *j = slot_pop(s);
  if (j->prepare && s->rc != 0) /* its reads fail on their own; prepare again next session */
    db_set_prepared(&s->conn, db_stmt_id(j->stmt), 0);
  job_finish(j, s->rc == 0 ? s->res : NULL, s->rc);
  if (s->res)
    PQclear(s->res);
  s->res = NULL;
  s->rc = 0;
}

/* Reads what arrived on s and completes the reads whose answers are whole. */
static void slot_read(db_async *q, slot *s) {
  if (!PQconsumeInput(s->conn.pg)) {
    slot_broke(q, s);
    return;
  }
  while ((s->head != NULL || s->nsyncs > 0) && !PQisBusy(s->conn.pg)) {
    PGresult *r = PQgetResult(s->conn.pg);
    if (r == NULL) { /* the end of the head read */
      if (s->head == NULL) {
        slot_broke(q, s); /* out of step with the server */
        return;
      }
      slot_complete(s);
      continue;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      s->nsyncs--;
    } else if (s->head == NULL) {
      /* an answer nobody asked for */
    } else if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && s->res == NULL) {
      s->res = r;
      continue;
    } else if (st == PGRES_PIPELINE_ABORTED) {
      s->rc = DB_SOFT_ERROR; /* an earlier read of the batch failed: ask again */
    } else if (s->rc == 0) {
      s->rc = db_failed(&s->conn, s->head->stmt, r);
    }
    PQclear(r);
  }
  if (s->conn.broken)
    slot_broke(q, s);
}

static void *reads_thread(void *arg) {
  pthread_setname_np(pthread_self(), "cd-db-reads"); /* for top -H, perf */
  db_async *q = arg;
  struct pollfd *fds = q->fds;
  slot **polled = q->polled;
  for (;;) {
    int held = dispatch(q); /* then a connection's answer, not wake_fd, says when to go on */
    int n = 0;
    fds[n++] = (struct pollfd){.fd = q->wake_fd, .events = POLLIN};
    for (int i = 0; i < q->nslots; i++) {
      slot *s = &q->slots[i];
      if (s->head == NULL && s->nsyncs == 0)
        continue;
      polled[n - 1] = s;
      fds[n++] = (struct pollfd){.fd = PQsocket(s->conn.pg),
                                 .events = (short)(POLLIN | (s->want_write ? POLLOUT : 0))};
    }
    pthread_mutex_lock(&q->mu);
    int closing = q->closing;
    int queued = q->head != NULL && !held;
    q->sleeping = !closing && !queued && !held;
    pthread_mutex_unlock(&q->mu);
    if (closing)
      break;
    /* reads queued meanwhile: only look at what arrived, then send them */
    if (poll(fds, (nfds_t)n, queued ? 0 : 1000) < 0 && errno != EINTR)
      log_msg(LOG_ERROR, "database reads: poll: %s", strerror(errno));
    pthread_mutex_lock(&q->mu);
    q->sleeping = 0;
    pthread_mutex_unlock(&q->mu);
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      if (read(q->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        log_msg(LOG_ERROR, "database reads: wake: %s", strerror(errno));
    }
    for (int k = 1; k < n; k++) {
      slot *s = polled[k - 1];
      if (fds[k].revents & POLLOUT) {
        int f = PQflush(s->conn.pg);
        if (f < 0) {
          slot_broke(q, s);
          continue;
        }
        s->want_write = f == 1;
      }
      if (fds[k].revents & (POLLIN | POLLERR | POLLHUP))
        slot_read(q, s);
    }
  }
  return NULL;
}

db_async *db_async_start(const char *conninfo, int nconns) {
  db_async *q = calloc(1, sizeof(*q));
  if (q == NULL)
    return NULL;
  pthread_mutex_init(&q->mu, NULL);
  q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  q->conninfo = strdup(conninfo);
  q->nslots = nconns;
  q->slots = calloc((size_t)nconns, sizeof(slot));
  q->fds = calloc((size_t)nconns + 1, sizeof(*q->fds));
  q->polled = calloc((size_t)nconns, sizeof(*q->polled));
  if (q->wake_fd < 0 || q->conninfo == NULL || q->slots == NULL || q->fds == NULL ||
      q->polled == NULL || pthread_create(&q->thread, NULL, reads_thread, q) != 0) {
    log_fail("cannot start the database reads thread");
    db_async_free(&q);
    return NULL;
  }
  q->started = 1;
  return q;
}

void db_async_close(db_async *q) {
  if (q == NULL)
    return;
  pthread_mutex_lock(&q->mu);
  int was_closing = q->closing;
  q->closing = 1;
  pthread_mutex_unlock(&q->mu);
  if (was_closing)
    return;
  if (q->started) {
    uint64_t one = 1;
    if (write(q->wake_fd, &one, sizeof(one)) < 0)
      log_msg(LOG_ERROR, "cannot wake the database reads thread: %s", strerror(errno));
    pthread_join(q->thread, NULL);
    q->started = 0;
  }
  /* the thread is gone: what it left and what is queued fails here */
  for (int i = 0; q->slots != NULL && i < q->nslots; i++) {
    slot_broke(q, &q->slots[i]);
    PQfinish(q->slots[i].conn.pg);
    q->slots[i].conn.pg = NULL;
  }
  pthread_mutex_lock(&q->mu);
  job *j = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
  while (j != NULL) {
    job *next = j->next;
    job_finish(j, NULL, DB_SOFT_ERROR);
    j = next;
  }
}

void db_async_free(db_async **qp) {
  if (qp == NULL || *qp == NULL)
    return;
  db_async *q = *qp;
  db_async_close(q);
  if (q->wake_fd >= 0)
    close(q->wake_fd);
  pthread_mutex_destroy(&q->mu);
  free(q->slots);
  free(q->fds);
  free(q->polled);
  free(q->conninfo);
  free(q);
  *qp = NULL;
}
