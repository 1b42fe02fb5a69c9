/* config.c: flags, environment and defaults for certdeployd. */
#include "config.h"

#include "crypto.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STR, INT };

typedef struct setting {
  const char *env;
  const char *flag;
  const char *def;
  enum kind kind;
  long min, max;
  const char *help;
  size_t offset;
} setting;

static const setting settings[] = {
#define X(field, env, flag, def, kind, min, max, help)                                             \
  {env, flag, def, kind, min, max, help, offsetof(config, field)},
    CONFIG_SETTINGS(X)
#undef X
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void config_print_help(void) {
  printf("usage: certdeployd [flags] [serve|migrate]\n\n"
         "  serve    apply pending migrations and serve (default)\n"
         "  migrate  apply pending migrations and exit\n\n"
         "Every flag has an environment variable; a flag wins over the variable.\n\n");
  for (size_t i = 0; i < NSETTINGS; i++) {
    const setting *s = &settings[i];
    printf("  --%-28s %s\n", s->flag, s->env);
    printf("      %s (default: %s)\n", s->help, s->def[0] ? s->def : "none");
  }
  printf("  --%-28s %s\n", "version", "print \"certdeployd VERSION\" and exit");
  printf("  --%-28s %s\n", "help", "this text");
}

/* Parses a decimal integer within [min, max]; -1 on anything else. */
static int parse_long(const char *text, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int assign(config *cfg, const setting *s, const char *value, const char *source) {
  char *base = (char *)cfg + s->offset;
  if (s->kind == STR) {
    char **slot = (char **)(void *)base;
    free(*slot);
    *slot = strdup(value);
    return *slot ? 0 : -1;
  }
  if (parse_long(value, s->min, s->max, (long *)(void *)base) != 0) {
    fprintf(stderr, "certdeployd: %s: '%s' is not a whole number from %ld to %ld\n", source, value,
            s->min, s->max);
    return -1;
  }
  return 0;
}

static const setting *find_flag(const char *name, size_t len) {
  for (size_t i = 0; i < NSETTINGS; i++)
    if (strlen(settings[i].flag) == len && strncmp(settings[i].flag, name, len) == 0)
      return &settings[i];
  return NULL;
}

/* Answers --help and --version before the environment is read, so that a
 * missing or broken setting (no CERTDEPLOY_DATABASE_URL) does not stop
 * them. A flag's value is skipped: in "--bootstrap-token --help" the
 * token is "--help". Returns 1 when one was answered, else 0. */
static int answer_info_flag(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--version") == 0) {
      printf("certdeployd %s\n", CERTDEPLOY_VERSION);
      return 1;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      config_print_help();
      return 1;
    }
    if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') == NULL &&
        find_flag(arg + 2, strlen(arg + 2)) != NULL)
      i++;
  }
  return 0;
}

int config_load(config *cfg, int argc, char **argv) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->command = "serve";
  if (answer_info_flag(argc, argv))
    return 1;
  for (size_t i = 0; i < NSETTINGS; i++) {
    const char *env = getenv(settings[i].env);
    const char *value = (env != NULL) ? env : settings[i].def;
    if (assign(cfg, &settings[i], value, env ? settings[i].env : "default") != 0)
      return -1;
  }
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) != 0) {
      if (strcmp(arg, "serve") == 0 || strcmp(arg, "migrate") == 0) {
        cfg->command = (arg[0] == 's') ? "serve" : "migrate";
        continue;
      }
      fprintf(stderr, "certdeployd: unknown command '%s' (try --help)\n", arg);
      return -1;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const setting *s = find_flag(name, len);
    if (s == NULL) {
      fprintf(stderr, "certdeployd: unknown flag '%s' (try --help)\n", arg);
      return -1;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL) {
      if (i + 1 >= argc) {
        fprintf(stderr, "certdeployd: --%s needs a value\n", s->flag);
        return -1;
      }
      value = argv[++i];
    }
    char source[64];
    snprintf(source, sizeof(source), "--%s", s->flag);
    if (assign(cfg, s, value, source) != 0)
      return -1;
  }
  if (strcmp(cfg->log_format, "text") != 0 && strcmp(cfg->log_format, "json") != 0) {
    fprintf(stderr, "certdeployd: CERTDEPLOY_LOG_FORMAT must be 'text' or 'json', not '%s'\n",
            cfg->log_format);
    return -1;
  }
  if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
    fprintf(stderr, "certdeployd: set both CERTDEPLOY_TLS_CERT and CERTDEPLOY_TLS_KEY, or "
                    "neither (a self-signed pair is then created)\n");
    return -1;
  }
  if (cfg->retry_max_seconds < cfg->retry_base_seconds) {
    fprintf(stderr,
            "certdeployd: CERTDEPLOY_RETRY_MAX_SECONDS (%ld) is below "
            "CERTDEPLOY_RETRY_BASE_SECONDS (%ld)\n",
            cfg->retry_max_seconds, cfg->retry_base_seconds);
    return -1;
  }
  if (strcmp(cfg->master_key_file, "$STATE_DIR/master.key") == 0) {
    size_t n = strlen(cfg->state_dir) + sizeof("/master.key");
    free(cfg->master_key_file);
    cfg->master_key_file = malloc(n);
    if (cfg->master_key_file == NULL)
      return -1;
    snprintf(cfg->master_key_file, n, "%s/master.key", cfg->state_dir);
  }
  if (cfg->database_url[0] == '\0') {
    fprintf(stderr, "certdeployd: CERTDEPLOY_DATABASE_URL is required (a libpq conninfo such as "
                    "'host=/tmp port=5432 dbname=certdeploy', or a postgresql:// URI)\n");
    return -1;
  }
  return 0;
}

void config_release(config *cfg) {
  if (cfg->bootstrap_token)
    crypto_cleanse(cfg->bootstrap_token, strlen(cfg->bootstrap_token));
#define CONFIG_FREE_STR(field) free(cfg->field);
#define CONFIG_FREE_INT(field)
#define X(field, env, flag, def, kind, min, max, help) CONFIG_FREE_##kind(field)
  CONFIG_SETTINGS(X)
#undef X
#undef CONFIG_FREE_STR
#undef CONFIG_FREE_INT
  memset(cfg, 0, sizeof(*cfg));
}
