/*
 * config.h: every certdeployd setting, from flags, environment and defaults.
 *
 * The settings live in one table (CONFIG_SETTINGS); --help, parsing and
 * validation all read it. Precedence: flag, then environment, then default.
 */
#ifndef CERTDEPLOY_CONFIG_H
#define CERTDEPLOY_CONFIG_H

/* X(field, ENV, flag, default, kind, min, max, help)
 * kind: STR (text; "" = unset) or INT (within [min, max]). */
#define CONFIG_SETTINGS(X)                                                                         \
  X(database_url, "CERTDEPLOY_DATABASE_URL", "database-url", "", STR, 0, 0,                        \
    "libpq conninfo or URI (required)")                                                            \
  X(listen, "CERTDEPLOY_LISTEN", "listen", "127.0.0.1:8443", STR, 0, 0,                            \
    "host:port to serve HTTPS on ([::1]:8443 for IPv6; port 0 picks a free one)")                  \
  X(tls_cert, "CERTDEPLOY_TLS_CERT", "tls-cert", "", STR, 0, 0,                                    \
    "PEM certificate; unset: a self-signed pair is created in the state dir")                      \
  X(tls_key, "CERTDEPLOY_TLS_KEY", "tls-key", "", STR, 0, 0, "PEM private key for --tls-cert")     \
  X(state_dir, "CERTDEPLOY_STATE_DIR", "state-dir", "./var", STR, 0, 0,                            \
    "holds the generated TLS pair and the master key")                                             \
  X(master_key_file, "CERTDEPLOY_MASTER_KEY_FILE", "master-key-file", "$STATE_DIR/master.key",     \
    STR, 0, 0, "32-byte key encrypting secrets at rest (created 0600 when missing)")               \
  X(bootstrap_token, "CERTDEPLOY_BOOTSTRAP_TOKEN", "bootstrap-token", "", STR, 0, 0,               \
    "admin token created when the database has none (else one is generated and printed)")          \
  X(scheduler_interval_seconds, "CERTDEPLOY_SCHEDULER_INTERVAL_SECONDS",                           \
    "scheduler-interval-seconds", "30", INT, 1, 86400,                                             \
    "how often due renewals and retries are looked for")                                           \
  X(retry_base_seconds, "CERTDEPLOY_RETRY_BASE_SECONDS", "retry-base-seconds", "60", INT, 0,       \
    86400, "first backoff after a transient CA error (doubles, with jitter)")                      \
  X(retry_max_seconds, "CERTDEPLOY_RETRY_MAX_SECONDS", "retry-max-seconds", "3600", INT, 0,        \
    604800, "backoff cap")                                                                         \
  X(retry_max_attempts, "CERTDEPLOY_RETRY_MAX_ATTEMPTS", "retry-max-attempts", "5", INT, 1, 1000,  \
    "most CA requests for one generation before the deployment fails")                             \
  X(ca_timeout_seconds, "CERTDEPLOY_CA_TIMEOUT_SECONDS", "ca-timeout-seconds", "20", INT, 1, 600,  \
    "timeout of one CA request")                                                                   \
  X(ca_concurrency, "CERTDEPLOY_CA_CONCURRENCY", "ca-concurrency", "16", INT, 1, 256,              \
    "CA requests in flight per instance")                                                          \
  X(webhook_url, "CERTDEPLOY_WEBHOOK_URL", "webhook-url", "", STR, 0, 0,                           \
    "receives a POST for every transition to failed")                                              \
  X(log_format, "CERTDEPLOY_LOG_FORMAT", "log-format", "text", STR, 0, 0, "text or json")          \
  X(http_threads, "CERTDEPLOY_HTTP_THREADS", "http-threads", "0", INT, 0, 256,                     \
    "HTTP handler threads: they run API requests (0: 8 per CPU, 8 to 32)")                         \
  X(db_pool_size, "CERTDEPLOY_DB_POOL_SIZE", "db-pool-size", "0", INT, 0, 256,                     \
    "PostgreSQL connections per instance (0: one per HTTP handler thread plus two)")               \
  X(key_pool_size, "CERTDEPLOY_KEY_POOL_SIZE", "key-pool-size", "16", INT, 0, 100000,              \
    "RSA keys for server key mode generated ahead of need, shared by instances (0: none)")         \
  X(key_pool_lookahead_hours, "CERTDEPLOY_KEY_POOL_LOOKAHEAD_HOURS", "key-pool-lookahead-hours",   \
    "24", INT, 0, 8760,                                                                            \
    "also keep a key for every server-key renewal due within this many hours (0: only the pool "   \
    "size)")                                                                                       \
  X(key_pool_max, "CERTDEPLOY_KEY_POOL_MAX", "key-pool-max", "2000", INT, 0, 1000000,              \
    "most keys the pool holds, lookahead included")                                                \
  X(auth_failure_limit, "CERTDEPLOY_AUTH_FAILURE_LIMIT", "auth-failure-limit", "30", INT, 0,       \
    100000,                                                                                        \
    "failed token or enroll-secret attempts per client address per minute before 429 "             \
    "(0: no limit)")                                                                               \
  X(web_dir, "CERTDEPLOY_WEB_DIR", "web-dir", "./web-ui", STR, 0, 0,                               \
    "directory of the dashboard's static files, served at /")

typedef struct config {
#define CONFIG_FIELD_STR(field) char *field;
#define CONFIG_FIELD_INT(field) long field;
#define X(field, env, flag, def, kind, min, max, help) CONFIG_FIELD_##kind(field)
  CONFIG_SETTINGS(X)
#undef X
#undef CONFIG_FIELD_STR
#undef CONFIG_FIELD_INT
  const char *command; /* "serve" (default) or "migrate" */
} config;

/* Fills cfg from argv, the environment and defaults.
 * Returns 0 on success; 1 when --help or --version was printed (exit 0;
 * the environment is not read then); -1 on a bad flag or value, after
 * printing a message that names the setting.
 * Strings in cfg are malloc'd; release with config_release. */
int config_load(config *cfg, int argc, char **argv);

/* Frees the strings of cfg (wiping the bootstrap token). */
void config_release(config *cfg);

/* Prints usage with every setting, its env var and default, to stdout. */
void config_print_help(void);

#endif
