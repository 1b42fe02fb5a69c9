/* db_listen.c: LISTEN/NOTIFY on a connection of its own. */
#include "db_listen.h"

#include "db_internal.h"
#include "log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_listener {
  char *conninfo;
  char channel[64];
  db_conn *conn;
};

db_listener *db_listener_new(const char *conninfo, const char *channel) {
  db_listener *l = calloc(1, sizeof(*l));
  if (l == NULL)
    return NULL;
  l->conninfo = strdup(conninfo);
  if (l->conninfo == NULL) {
    free(l);
    return NULL;
  }
  snprintf(l->channel, sizeof(l->channel), "%s", channel);
  return l;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int ensure(db_listener *l) {
  if (l->conn && PQstatus(l->conn->pg) == CONNECTION_OK)
    return 0;
  db_disconnect(&l->conn);
  l->conn = db_connect(l->conninfo);
  if (l->conn == NULL)
    return -1;
  char sql[96];
  snprintf(sql, sizeof(sql), "LISTEN %s", l->channel);
  if (db_exec_simple(l->conn, sql) != 0) {
    db_disconnect(&l->conn);
    return -1;
  }
  return 0;
}

int db_listener_wait(db_listener *l, int timeout_ms) {
  if (ensure(l) != 0) {
    sleep_ms(timeout_ms);
    return -1;
  }
  PGconn *pg = l->conn->pg;
  int got = 0;
  PQconsumeInput(pg);
  PGnotify *n;
  while ((n = PQnotifies(pg)) != NULL) {
    got = 1;
    PQfreemem(n);
  }
  if (got)
    return 1;
  struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
  int r = poll(&pfd, 1, timeout_ms);
  if (r <= 0)
    return 0;
  if (!PQconsumeInput(pg)) {
    db_disconnect(&l->conn); /* the server went away: reconnect next time */
    return -1;
  }
  while ((n = PQnotifies(pg)) != NULL) {
    got = 1;
    PQfreemem(n);
  }
  return got;
}

void db_listener_free(db_listener **lp) {
  if (lp == NULL || *lp == NULL)
    return;
  db_disconnect(&(*lp)->conn);
  free((*lp)->conninfo);
  free(*lp);
  *lp = NULL;
}
