/*
 * main.c: certdeploy-agent's command line: flags, the enroll and checkin
 * commands, and the --loop driver (--wait is checkin_wait.c).
 */
#include <getopt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fail.h"
#include "agent_state.h"
#include "checkin.h"
#include "checkin_wait.h"
#include "crypto.h"
#include "enroll.h"
#include "api_client.h"
#include "json_wipe.h"
#include "stop_signal.h"
#include "version.h"

#define EXIT_USAGE 2
#define PARSED_HELP (-1)    /* parse_args printed --help */
#define PARSED_VERSION (-2) /* parse_args printed --version */
#define MAX_WAIT_SECONDS 86400L
/* Replies are small JSON documents; a PKCS#12 bundle is a few KiB. */
#define MAX_REPLY_BYTES (4 * 1024 * 1024)

static const char usage[] =
    "usage: certdeploy-agent --server URL --state-dir DIR [--ca-file PEM | --insecure]\n"
    "                        [--timeout SECONDS] COMMAND [OPTIONS]\n"
    "\n"
    "The reference certdeploy device: enrolls, checks in over HTTPS, answers CSR\n"
    "requests with a fresh key, installs delivered certificates under\n"
    "DIR/profiles/<profile_id>/{cert.pem,chain.pem,key.pem} and acknowledges them.\n"
    "\n"
    "commands:\n"
    "  enroll --enroll-secret S --serial X [--name N]\n"
    "      register this device; stores DIR/device.json (mode 0600).\n"
    "      The secret may come from CERTDEPLOY_ENROLL_SECRET instead.\n"
    "      --name defaults to the host name.\n"
    "  checkin [--loop SECONDS] [--wait SECONDS] [--fail-install PROFILE_ID]\n"
    "          [--key-type ec|rsa]\n"
    "      report the inventory, act on what the server answers, and check in\n"
    "      again at once (up to 3 rounds) while that changed something.\n"
    "      --loop SECONDS   repeat every SECONDS until SIGINT/SIGTERM (exit 0);\n"
    "                       failures are logged and retried at the next round\n"
    "      --wait SECONDS   check in again (pausing up to 1 s) until every profile\n"
    "                       assigned to this device is installed (verified by the\n"
    "                       server) or failed, for at most SECONDS (1 to 86400;\n"
    "                       not with --loop). Exit 0 when all are installed (or\n"
    "                       none is assigned); 1 when one failed (the server's\n"
    "                       reason is printed) or the time ran out (what each one\n"
    "                       still waits for is printed)\n"
    "      --fail-install ID  report an install error for that profile (testing)\n"
    "      --key-type       key of CSRs: ec (P-256, default) or rsa (2048 bits)\n"
    "\n"
    "options:\n"
    "  --server URL       https:// base URL of certdeployd (checkin defaults to the\n"
    "                     one enrolled against)\n"
    "  --state-dir DIR    where the token, keys and certificates live (created 0700)\n"
    "  --ca-file PEM      verify the server against this CA only\n"
    "  --insecure         do not verify the server (prints a warning)\n"
    "  --timeout SECONDS  limit for each request (default 30)\n"
    "  --version          print \"certdeploy-agent VERSION\" and exit\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 on success, 1 on any failure, 2 on a usage error.\n";

/* Everything the command line says. Strings point into argv except
 * enroll_secret, which is a copy (argv's is wiped). */
typedef struct options {
  const char *server;
  const char *state_dir;
  const char *ca_file;
  int insecure;
  long timeout;
  const char *command;
  char *enroll_secret;
  const char *serial;
  const char *name;
  long loop;                /* 0: one run */
  long wait;                /* checkin --wait SECONDS; 0: no waiting */
  const char *fail_install; /* NULL: none */
  pending_key_type key_type;
  const char *enroll_flag;  /* an enroll-only flag seen, for checking the command */
  const char *checkin_flag; /* a checkin-only flag seen */
} options;

enum {
  OPT_SERVER = 256,
  OPT_STATE_DIR,
  OPT_CA_FILE,
  OPT_INSECURE,
  OPT_TIMEOUT,
  OPT_ENROLL_SECRET,
  OPT_SERIAL,
  OPT_NAME,
  OPT_LOOP,
  OPT_WAIT,
  OPT_FAIL_INSTALL,
  OPT_KEY_TYPE,
  OPT_HELP,
  OPT_VERSION,
};

static const struct option long_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"enroll-secret", required_argument, NULL, OPT_ENROLL_SECRET},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"name", required_argument, NULL, OPT_NAME},
    {"loop", required_argument, NULL, OPT_LOOP},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"fail-install", required_argument, NULL, OPT_FAIL_INSTALL},
    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "certdeploy-agent: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "; see certdeploy-agent --help\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* Parses a whole number in [min, max]; -1 when text is anything else. */
static int parse_seconds(const char *text, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* Fills o from argv. 0 to go on, PARSED_HELP after printing --help,
 * PARSED_VERSION after printing --version, else the exit status to end
 * with after a one-line usage error. */
static int parse_args(int argc, char **argv, options *o) {
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_SERVER:
      o->server = optarg;
      break;
    case OPT_STATE_DIR:
      o->state_dir = optarg;
      break;
    case OPT_CA_FILE:
      o->ca_file = optarg;
      break;
    case OPT_INSECURE:
      o->insecure = 1;
      break;
    case OPT_TIMEOUT:
      if (parse_seconds(optarg, 1, 3600, &o->timeout) != 0)
        return usage_error("--timeout wants whole seconds from 1 to 3600, not \"%s\"", optarg);
      break;
    case OPT_ENROLL_SECRET:
      if (crypto_take_arg_secret(&o->enroll_secret, optarg) != 0)
        return usage_error("%s", "out of memory");
      o->enroll_flag = "--enroll-secret";
      break;
    case OPT_SERIAL:
      o->serial = optarg;
      o->enroll_flag = "--serial";
      break;
    case OPT_NAME:
      o->name = optarg;
      o->enroll_flag = "--name";
      break;
    case OPT_LOOP:
      if (parse_seconds(optarg, 1, 7 * 86400, &o->loop) != 0)
        return usage_error("--loop wants whole seconds from 1 to 604800, not \"%s\"", optarg);
      o->checkin_flag = "--loop";
      break;
    case OPT_WAIT:
      if (parse_seconds(optarg, 1, MAX_WAIT_SECONDS, &o->wait) != 0)
        return usage_error("--wait wants whole seconds from 1 to 86400, not \"%s\"", optarg);
      o->checkin_flag = "--wait";
      break;
    case OPT_FAIL_INSTALL:
      o->fail_install = optarg;
      o->checkin_flag = "--fail-install";
      break;
    case OPT_KEY_TYPE:
      if (strcmp(optarg, "ec") == 0)
        o->key_type = PENDING_KEY_EC_P256;
      else if (strcmp(optarg, "rsa") == 0)
        o->key_type = PENDING_KEY_RSA_2048;
      else
        return usage_error("--key-type is ec or rsa, not \"%s\"", optarg);
      o->checkin_flag = "--key-type";
      break;
    case OPT_HELP:
    case 'h':
      fputs(usage, stdout);
      return PARSED_HELP;
    case OPT_VERSION:
      printf("certdeploy-agent %s\n", CERTDEPLOY_VERSION);
      return PARSED_VERSION;
    case ':':
      return usage_error("%s needs a value", argv[optind - 1]);
    default:
      return usage_error("unknown option \"%s\"", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return usage_error("%s", "missing command: enroll or checkin");
  o->command = argv[optind];
  if (optind + 1 < argc)
    return usage_error("unexpected argument \"%s\"", argv[optind + 1]);
  if (strcmp(o->command, "enroll") != 0 && strcmp(o->command, "checkin") != 0)
    return usage_error("unknown command \"%s\" (enroll or checkin)", o->command);
  if (o->state_dir == NULL || o->state_dir[0] == '\0')
    return usage_error("%s", "--state-dir DIR is required");
  if (o->ca_file != NULL && o->insecure)
    return usage_error("%s", "--ca-file and --insecure exclude each other");
  if (strcmp(o->command, "checkin") == 0 && o->enroll_flag != NULL)
    return usage_error("%s belongs to enroll, not checkin", o->enroll_flag);
  if (strcmp(o->command, "enroll") == 0 && o->checkin_flag != NULL)
    return usage_error("%s belongs to checkin, not enroll", o->checkin_flag);
  if (o->wait > 0 && o->loop > 0)
    return usage_error("%s", "--wait and --loop exclude each other (--wait ends once every "
                             "profile is installed; --loop runs until stopped)");
  return 0;
}

static void report(const char *err) {
  fprintf(stderr, "certdeploy-agent: %s\n", err != NULL ? err : "out of memory");
}

static api_client *connect_server(const options *o, const char *server,
                                  volatile sig_atomic_t *cancel, char **err) {
  api_client_options ho = {
      .base_url = server,
      .ca_file = o->ca_file,
      .insecure = o->insecure,
      .timeout_seconds = o->timeout,
      .user_agent = "certdeploy-agent/1",
      .max_reply_bytes = MAX_REPLY_BYTES,
      .json_required = 1, /* a 2xx that is not JSON: --server is not certdeployd */
      .cancel = cancel,
  };
  if (o->insecure)
    fprintf(stderr, "certdeploy-agent: warning: --insecure: the server's TLS certificate is not "
                    "verified, anyone on the path can pose as it\n");
  return api_client_new(&ho, err);
}

static int cmd_enroll(options *o) {
  int rc = EXIT_FAILURE;
  char *err = NULL;
  char host[256];
  api_client *http = NULL;
  const char *env_secret = getenv("CERTDEPLOY_ENROLL_SECRET");

  if (o->server == NULL)
    return usage_error("%s", "enroll needs --server URL");
  if (o->enroll_secret == NULL && env_secret != NULL && env_secret[0] != '\0' &&
      (o->enroll_secret = strdup(env_secret)) == NULL)
    return usage_error("%s", "out of memory");
  if (o->enroll_secret == NULL || o->enroll_secret[0] == '\0')
    return usage_error("%s", "enroll needs --enroll-secret S (from the admin's enroll secrets)");
  if (o->serial == NULL || o->serial[0] == '\0')
    return usage_error("%s", "enroll needs --serial X (this device's serial number)");
  if (o->name == NULL) {
    o->name = o->serial;
    if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
      host[sizeof(host) - 1] = '\0';
      o->name = host;
    }
  }
  http = connect_server(o, o->server, NULL, &err);
  if (http == NULL)
    goto out;
  enroll_request req = {.enroll_secret = o->enroll_secret, .serial = o->serial, .name = o->name};
  if (enroll_run(http, o->state_dir, &req, &err) != 0)
    goto out;
  rc = EXIT_SUCCESS;
out:
  if (rc != EXIT_SUCCESS)
    report(err);
  api_client_free(&http);
  free(err);
  return rc;
}

/* checkin --loop: runs until a stop signal (exit 0) or a fatal error. */
static int checkin_loop(api_client *http, const agent_device *dev, const checkin_options *co,
                        long interval, volatile sig_atomic_t *stop) {
  int rc = EXIT_SUCCESS;
  char *err = NULL;
  for (;;) {
    checkin_status st = checkin_run(http, dev, co, NULL, &err);
    if (*stop)
      break;
    if (st == CHECKIN_FATAL) {
      report(err);
      rc = EXIT_FAILURE;
      goto out;
    }
    if (st == CHECKIN_TRANSIENT)
      fprintf(stderr, "certdeploy-agent: %s; retrying in %ld s\n",
              err != NULL ? err : "out of memory", interval);
    free(err);
    err = NULL;
    if (stop_signal_sleep(interval))
      break;
  }
  printf("stopping: got signal %d\n", (int)*stop);
out:
  free(err);
  return rc;
}

static int cmd_checkin(options *o) {
  int rc = EXIT_FAILURE;
  char *err = NULL;
  agent_device dev = {0};
  api_client *http = NULL;
  volatile sig_atomic_t *stop = NULL;
  int loaded = agent_device_load(o->state_dir, &dev, &err);

  if (loaded == 1) {
    fprintf(stderr, "certdeploy-agent: enroll first: no device token in %s/device.json\n",
            o->state_dir);
    goto out;
  }
  if (loaded != 0) {
    report(err);
    goto out;
  }
  const char *server = o->server != NULL ? o->server : dev.server;
  if (server == NULL) {
    report("no server known; pass --server URL");
    goto out;
  }
  if ((o->loop > 0 || o->wait > 0) && (stop = stop_signal_install()) == NULL) {
    report("cannot install the SIGINT/SIGTERM handlers");
    goto out;
  }
  http = connect_server(o, server, stop, &err);
  if (http == NULL) {
    report(err);
    goto out;
  }
  checkin_options co = {
      .state_dir = o->state_dir,
      .fail_install = o->fail_install,
      .key_type = o->key_type,
      .cancel = stop,
      .quiet = o->wait > 0,
  };
  if (o->loop > 0) {
    rc = checkin_loop(http, &dev, &co, o->loop, stop);
    goto out;
  }
  if (o->wait > 0) {
    rc = checkin_wait(http, &dev, &co, o->wait, stop);
    goto out;
  }
  checkin_status st = checkin_run(http, &dev, &co, NULL, &err);
  if (st == CHECKIN_PROFILE_FAILED)
    report("some profiles failed (see above); the server records the failure, an admin can "
           "resend");
  else if (st == CHECKIN_TRANSIENT)
    fprintf(stderr, "certdeploy-agent: %s; try again later\n", err != NULL ? err : "out of memory");
  else if (st != CHECKIN_OK)
    report(err);
  else
    rc = EXIT_SUCCESS;
out:
  api_client_free(&http);
  agent_device_release(&dev);
  free(err);
  return rc;
}

int main(int argc, char **argv) {
  int rc;
  options o = {.timeout = 30, .key_type = PENDING_KEY_EC_P256};

  setvbuf(stdout, NULL, _IOLBF, 0);
  json_wipe_install();
  rc = parse_args(argc, argv, &o);
  if (rc == PARSED_HELP || rc == PARSED_VERSION)
    rc = EXIT_SUCCESS;
  else if (rc == 0 && strcmp(o.command, "enroll") == 0)
    rc = cmd_enroll(&o);
  else if (rc == 0)
    rc = cmd_checkin(&o);
  crypto_free_secret(o.enroll_secret);
  return rc;
}
