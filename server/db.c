/* db.c: the connection pool, statement preparation, result classification. */
#include "db_internal.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_pool {
  char *conninfo;
  int size;
  db_conn *conns;
  int *free_stack; /* indexes of idle connections */
  int nfree;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

/* How long a request waits for a free connection before answering 503. */
#define DB_ACQUIRE_WAIT_SECONDS 10

static pthread_mutex_t stmt_ids_mu = PTHREAD_MUTEX_INITIALIZER;
static int next_stmt_id;

static PGconn *pg_open(const char *conninfo) {
  /* Defaults first: values in the user's conninfo come later and win. */
  const char *keys[] = {"application_name", "connect_timeout", "dbname", NULL};
  const char *vals[] = {"certdeployd", "5", conninfo, NULL};
  return PQconnectdbParams(keys, vals, 1);
}

db_conn *db_connect(const char *conninfo) {
  db_conn *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->pg = pg_open(conninfo);
  if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
    log_fail("cannot connect to PostgreSQL: %s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
    PQfinish(c->pg);
    free(c);
    return NULL;
  }
  return c;
}

void db_disconnect(db_conn **cp) {
  if (cp == NULL || *cp == NULL)
    return;
  PQfinish((*cp)->pg);
  free(*cp);
  *cp = NULL;
}

db_pool *db_pool_create(const char *conninfo, int size) {
  db_pool *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->conninfo = strdup(conninfo);
  p->size = size;
  p->conns = calloc((size_t)size, sizeof(db_conn));
  p->free_stack = calloc((size_t)size, sizeof(int));
  if (p->conninfo == NULL || p->conns == NULL || p->free_stack == NULL) {
    db_pool_destroy(&p);
    return NULL;
  }
  for (int i = 0; i < size; i++)
    p->free_stack[p->nfree++] = size - 1 - i;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return p;
}

void db_pool_destroy(db_pool **pp) {
  if (pp == NULL || *pp == NULL)
    return;
  db_pool *p = *pp;
  if (p->conns) {
    for (int i = 0; i < p->size; i++)
      PQfinish(p->conns[i].pg);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
  }
  free(p->conns);
  free(p->free_stack);
  free(p->conninfo);
  free(p);
  *pp = NULL;
}

int db_conn_ensure(db_conn *c, const char *conninfo) {
  if (db_conn_alive(c))
    return 0;
  PQfinish(c->pg);
  memset(c->prepared, 0, sizeof(c->prepared));
  c->broken = 0;
  c->in_tx = 0;
  c->pg = pg_open(conninfo);
  if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
    msg[strcspn(msg, "\n")] = '\0';
    log_field f[] = {{"detail", msg, 0}};
    log_event(LOG_WARN, "database unreachable", f, 1);
    PQfinish(c->pg);
    c->pg = NULL;
    return -1;
  }
  return 0;
}

db_conn *db_acquire(db_pool *p) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += DB_ACQUIRE_WAIT_SECONDS;
  pthread_mutex_lock(&p->mu);
  while (p->nfree == 0) {
    if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT) {
      pthread_mutex_unlock(&p->mu);
      log_msg(LOG_WARN, "all %d database connections stayed busy for %d s", p->size,
              DB_ACQUIRE_WAIT_SECONDS);
      return NULL;
    }
  }
  db_conn *c = &p->conns[p->free_stack[--p->nfree]];
  pthread_mutex_unlock(&p->mu);
  if (db_conn_ensure(c, p->conninfo) != 0) {
    db_release(p, c);
    return NULL;
  }
  return c;
}

void db_release(db_pool *p, db_conn *c) {
  if (c == NULL)
    return;
  if (c->pg && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
    db_rollback(c);
  pthread_mutex_lock(&p->mu);
  p->free_stack[p->nfree++] = (int)(c - p->conns);
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

/* A pooled session the database dropped (it restarted) fails its first
 * use, which says nothing about the database now: such a failure tries
 * again, on another session or a new one, so /readyz does not flap back to
 * 503 after the database is up. */
int db_ping(db_pool *p) {
  for (int tries = 0; tries <= p->size; tries++) {
    db_conn *c = db_acquire(p);
    if (c == NULL)
      return -1; /* no session to be had: the database is unreachable */
    int rc = db_exec_simple(c, "SELECT 1");
    int dropped = rc != 0 && c->broken;
    db_release(p, c);
    if (!dropped)
      return rc == 0 ? 0 : -1;
  }
  return -1;
}

const char *db_last_sqlstate(const db_conn *c) {
  return c->sqlstate;
}

int db_classify(db_conn *c, const PGresult *res) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
  if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = 1;
    return DB_SOFT_ERROR;
  }
  if (state == NULL)
    return DB_HARD_ERROR;
  if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
      strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "53300") == 0) {
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
      c->broken = 1;
    return DB_SOFT_ERROR;
  }
  return DB_HARD_ERROR;
}

int db_stmt_id(db_stmt *s) {
  int id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE);
  if (id >= 0)
    return id;
  pthread_mutex_lock(&stmt_ids_mu);
  if (s->id < 0) {
    if (next_stmt_id >= DB_MAX_STATEMENTS) {
      pthread_mutex_unlock(&stmt_ids_mu);
      return -1;
    }
    __atomic_store_n(&s->id, next_stmt_id++, __ATOMIC_RELEASE);
  }
  id = s->id;
  pthread_mutex_unlock(&stmt_ids_mu);
  return id;
}

/* Logs a failed statement, unless it is a constraint or guard (SQLSTATE
 * class 23, P0001) whose meaning the caller decides. */
static void log_failure(db_conn *c, const char *what, const PGresult *res) {
  if (strncmp(c->sqlstate, "23", 2) == 0 || strcmp(c->sqlstate, "P0001") == 0)
    return; /* constraint or guard: the caller decides what it means */
  char msg[512];
  snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
  msg[strcspn(msg, "\n")] = '\0';
  log_field f[] = {{"statement", what, 0}, {"sqlstate", c->sqlstate, 0}, {"detail", msg, 0}};
  log_event(LOG_WARN, "database error", f, 3);
}

/* Prepares s on c unless it already is (after a reconnect it is not).
 * Returns 0 or a DB_*_ERROR. */
static int db_prepare(db_conn *c, db_stmt *s) {
  c->sqlstate[0] = '\0';
  int id = db_stmt_id(s);
  if (id < 0) {
    log_fail("too many prepared statements: raise DB_MAX_STATEMENTS");
    return DB_HARD_ERROR;
  }
  if (db_is_prepared(c, id))
    return 0;
  PGresult *pr = PQprepare(c->pg, s->name, s->sql, 0, NULL);
  if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
    int rc = db_failed(c, s, pr);
    PQclear(pr);
    return rc;
  }
  PQclear(pr);
  db_set_prepared(c, id, 1);
  return 0;
}

int db_failed(db_conn *c, const db_stmt *s, const PGresult *res) {
  int rc = db_classify(c, res);
  log_failure(c, s->name, res);
  return rc;
}

PGresult *db_exec(db_conn *c, db_stmt *s, int nparams, const char *const *params, int *rc) {
  if ((*rc = db_prepare(c, s)) != 0)
    return NULL;
  PGresult *res = PQexecPrepared(c->pg, s->name, nparams, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return res;
  *rc = db_failed(c, s, res);
  PQclear(res);
  return NULL;
}

int db_exec_affected(db_conn *c, db_stmt *s, int nparams, const char *const *params) {
  int rc;
  PGresult *res = db_exec(c, s, nparams, params, &rc);
  if (res == NULL)
    return rc;
  int n = db_affected(res);
  PQclear(res);
  return n;
}

int db_exec_count(db_conn *c, db_stmt *s, int nparams, const char *const *params) {
  int rc;
  PGresult *res = db_exec(c, s, nparams, params, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res) > 0 ? db_col_int(res, 0, 0) : 0;
  PQclear(res);
  return n;
}

int db_exec_rows(db_conn *c, db_stmt *s, int nparams, const char *const *params,
                 const db_row_reader *reader, void **rows) {
  int rc;
  *rows = NULL;
  PGresult *res = db_exec(c, s, nparams, params, &rc);
  if (res == NULL)
    return rc;
  int n = PQntuples(res);
  unsigned char *elements = calloc((size_t)(n ? n : 1), reader->row_size);
  if (elements == NULL) {
    PQclear(res);
    return DB_HARD_ERROR;
  }
  for (int i = 0; i < n; i++) {
    if (reader->read_row(res, i, elements + (size_t)i * reader->row_size) != 0) {
      for (int j = 0; reader->release_row != NULL && j <= i; j++)
        reader->release_row(elements + (size_t)j * reader->row_size);
      free(elements);
      PQclear(res);
      return DB_HARD_ERROR;
    }
  }
  PQclear(res);
  *rows = elements;
  return n;
}

int db_exec_simple(db_conn *c, const char *sql) {
  c->sqlstate[0] = '\0';
  PGresult *res = PQexec(c->pg, sql);
  ExecStatusType st = PQresultStatus(res);
  int rc = 0;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    rc = db_classify(c, res);
    log_failure(c, "simple query", res);
  }
  PQclear(res);
  return rc;
}

int db_begin(db_conn *c) {
  int rc = db_exec_simple(c, "BEGIN");
  c->in_tx = (rc == 0);
  return rc;
}

int db_commit(db_conn *c) {
  int rc = db_exec_simple(c, "COMMIT");
  c->in_tx = 0;
  return rc;
}

void db_rollback(db_conn *c) {
  if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
    db_exec_simple(c, "ROLLBACK");
  c->in_tx = 0;
}

int db_affected(const PGresult *res) {
  const char *t = PQcmdTuples((PGresult *)res);
  char *end = NULL;
  long n = strtol(t, &end, 10);
  return (end == t || n < 0 || n > 1000000000) ? 0 : (int)n;
}
