/* main.c: certdeployd: configure, migrate, serve until SIGINT/SIGTERM. */
#include "app.h"
#include "bootstrap.h"
#include "checkin_touch.h"
#include "ca_client.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "db_async.h"
#include "db_migrate.h"
#include "fileutil.h"
#include "http.h"
#include "json_wipe.h"
#include "log.h"
#include "ratelimit.h"
#include "metrics.h"
#include "tls.h"
#include "webhook.h"
#include "keypool.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `per` for each CPU online, within lo..hi. */
static int per_cpu(int per, int lo, int hi) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long n = (cpus > 0 ? cpus : 1) * per;
  return n < lo ? lo : n > hi ? hi : (int)n;
}

/* Connections of the check-ins' reads (db_async.h): one per CPU, 2 to
 * 16. Each carries batches of reads in pipeline mode, so more would only
 * split the batches. */
static int db_reads_connections(void) {
  return per_cpu(1, 2, 16);
}

/* Connection threads (http.h) never wait on PostgreSQL: 2 per CPU, 2
 * to 32, so that a CPU still has one to run while another is preempted.
 * Since none waits, their number matters little (BENCHMARKS.md). */
static int http_connection_threads(void) {
  return per_cpu(2, 2, 32);
}

/* Handler threads spend most of an API request waiting for PostgreSQL,
 * not on a CPU: 8 per CPU, 8 to 32. */
static int http_handler_threads(const config *cfg) {
  return cfg->http_threads > 0 ? (int)cfg->http_threads : per_cpu(8, 8, 32);
}

/* Blocks the stop signals in every thread; main waits for them. */
static void block_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, set, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static int serve(config *cfg) {
  int ret = 1;
  app a = {.cfg = cfg};
  char *cert = NULL, *key = NULL, *err = NULL;
  http_server *http = NULL;
  worker *work = NULL;
  keypool *keys = NULL;
  webhook *hook = NULL;
  sigset_t stop;
  block_signals(&stop);

  if (file_mkdirs(cfg->state_dir, 0700, &err) != 0) {
    log_fail("cannot create the state dir: %s", err ? err : "out of memory");
    goto out;
  }
  if (db_migrate(cfg->database_url) != 0)
    goto out;
  if (crypto_master_key_load(cfg->master_key_file, a.master_key, &err) != 0) {
    log_fail("master key: %s", err ? err : "unknown error");
    goto out;
  }
  if (tls_load(cfg, &cert, &key) != 0)
    goto out;
  ratelimit_configure((int)cfg->auth_failure_limit, 60);
  int handlers = http_handler_threads(cfg), connections = http_connection_threads();
  int pool = cfg->db_pool_size > 0 ? (int)cfg->db_pool_size : handlers + 2;
  a.db = db_pool_create(cfg->database_url, pool);
  if (a.db == NULL)
    goto out;
  int reads = db_reads_connections();
  a.reads = db_async_start(cfg->database_url, reads);
  if (a.reads == NULL)
    goto out;
  if (bootstrap_admin_token(&a) != 0)
    goto out;
  a.touches = checkin_touch_start(&a);
  if (a.touches == NULL)
    goto out;
  keys = keypool_start(&a);
  if (keys == NULL)
    goto out;
  work = worker_start(&a);
  if (work == NULL)
    goto out;
  if (webhook_start(&a, &hook) != 0)
    goto out;
  http = http_start(&a, cfg->listen, cert, key, connections, handlers);
  if (http == NULL)
    goto out;
  char host[256];
  int port;
  http_parse_listen(cfg->listen, host, sizeof(host), &port);
  int bound = http_port(http);
  __atomic_store_n(&a.bound_port, bound, __ATOMIC_RELEASE);
  printf("certdeployd listening on https://%s%s%s:%d/\n", strchr(host, ':') ? "[" : "", host,
         strchr(host, ':') ? "]" : "", bound);
  fflush(stdout);
  log_msg(LOG_INFO,
          "serving on port %d with %d connection and %d handler threads and %d database "
          "connections (+%d for check-ins)",
          bound, connections, handlers, pool, reads);

  int sig = 0;
  sigwait(&stop, &sig);
  log_msg(LOG_INFO, "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  ret = 0;
out:
  db_async_close(a.reads); /* no request may wait for a read when the HTTP server stops */
  http_stop(&http);
  db_async_free(&a.reads);
  checkin_touch_stop(&a.touches);
  webhook_stop(&hook);
  worker_stop(&work);
  keypool_stop(&keys);
  db_pool_destroy(&a.db);
  free(cert);
  crypto_free_secret(key);
  free(err);
  crypto_cleanse(a.master_key, sizeof(a.master_key));
  return ret;
}

int main(int argc, char **argv) {
  /* request and reply JSON carries secrets: jansson's blocks are zeroed
   * when freed (before any JSON value exists) */
  json_wipe_install();
  config cfg;
  int rc = config_load(&cfg, argc, argv);
  if (rc != 0) {
    config_release(&cfg);
    return rc > 0 ? 0 : 2;
  }
  log_set_format(strcmp(cfg.log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);
  metrics_init();
  if (ca_client_global_init() != 0) {
    config_release(&cfg);
    return 1;
  }
  int ret;
  if (strcmp(cfg.command, "migrate") == 0)
    ret = db_migrate(cfg.database_url) == 0 ? 0 : 1;
  else
    ret = serve(&cfg);
  ca_client_global_cleanup();
  config_release(&cfg);
  return ret;
}
