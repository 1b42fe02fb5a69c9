/*
 * main.c: certdeployctl's command line: flags and the environment, the
 * checks that make a mistake a usage error before anything is sent, and
 * the dispatch to the commands (one file each).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "check.h"
#include "commands.h"
#include "crypto.h"
#include "ctl.h"
#include "json_wipe.h"
#include "version.h"

#define PARSED_EXIT (-1) /* parse_args printed --help or --version */
#define MAX_LIMIT 10000000L
/* A page of 100 devices is some 40 KiB; leave room, but stay bounded. */
#define MAX_REPLY_BYTES (16 * 1024 * 1024)

static const char usage[] =
    "usage: certdeployctl [--server URL] [--token TOKEN] [--ca-file PEM | --insecure]\n"
    "                     [--timeout SECONDS] [--json] COMMAND [ARGS]\n"
    "\n"
    "An admin and CI client of the certdeploy REST API.\n"
    "\n"
    "commands:\n"
    "  status [--profile ID] [--fail-on STATUS,...]\n"
    "      deployment counts by status, of every profile or of one. With\n"
    "      --fail-on (a comma-separated list of pending, verifying, verified,\n"
    "      failed), exit 1 when a listed status counts any deployment: a CI gate.\n"
    "  resend DEVICE_ID PROFILE_ID\n"
    "      give one failed or verified deployment a new generation.\n"
    "  resend --profile ID --status failed|verified\n"
    "      resend every deployment of the profile in that status; prints how many.\n"
    "  devices [--q TEXT] [--status S] [--profile ID] [--limit N]\n"
    "      enrolled devices with their last check-in and deployment counts, all\n"
    "      of them (every page) unless --limit N. --q matches part of the serial\n"
    "      or name; --status and --profile keep devices with a deployment in that\n"
    "      status or of that profile.\n"
    "  deployments [--status S] [--profile ID] [--failure-source server|device]\n"
    "              [--expires-before T] [--q TEXT] [--limit N | --csv]\n"
    "      every deployment of the fleet (all filters must hold): device, profile,\n"
    "      status, when the installed certificate expires, and why it failed.\n"
    "      --expires-before takes an RFC 3339 time or a number of days from now\n"
    "      (14d). --csv prints the server's CSV export of every match as it\n"
    "      comes.\n"
    "\n"
    "options:\n"
    "  --server URL       https:// base URL of certdeployd (env CERTDEPLOY_URL)\n"
    "  --token TOKEN      API token (env CERTDEPLOY_TOKEN, which keeps it out of ps)\n"
    "  --ca-file PEM      verify the server against this CA only (env\n"
    "                     CERTDEPLOY_CA_FILE); default: the system's CAs\n"
    "  --insecure         do not verify the server (prints a warning)\n"
    "  --timeout SECONDS  limit for each request, 1 to 3600 (default 30)\n"
    "  --json             print the API's JSON (one line) instead of a table\n"
    "  --csv              deployments: the CSV export instead of a table\n"
    "  --version          print \"certdeployctl VERSION\" and exit\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 success, 1 the --fail-on gate tripped, 2 usage error, 3 the\n"
    "server could not be reached or refused the token (HTTP 401, 403), 4 any other\n"
    "API error (its message on stderr).\n";

enum {
  OPT_SERVER = 256,
  OPT_TOKEN,
  OPT_CA_FILE,
  OPT_INSECURE,
  OPT_TIMEOUT,
  OPT_JSON,
  OPT_PROFILE,
  OPT_FAIL_ON,
  OPT_STATUS,
  OPT_Q,
  OPT_LIMIT,
  OPT_FAILURE_SOURCE,
  OPT_EXPIRES_BEFORE,
  OPT_CSV,
  OPT_HELP,
  OPT_VERSION,
};

static const struct option long_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"status", required_argument, NULL, OPT_STATUS},
    {"q", required_argument, NULL, OPT_Q},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"failure-source", required_argument, NULL, OPT_FAILURE_SOURCE},
    {"expires-before", required_argument, NULL, OPT_EXPIRES_BEFORE},
    {"csv", no_argument, NULL, OPT_CSV},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Prints one line "certdeployctl: <what>; see certdeployctl --help" and
 * returns CTL_EXIT_USAGE. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "certdeployctl: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "; see certdeployctl --help\n");
  va_end(ap);
  return CTL_EXIT_USAGE;
}

/* Fills o from argv. 0 to go on, PARSED_EXIT after printing --help or
 * --version, else the exit status to end with after a usage error. */
static int parse_args(int argc, char **argv, ctl_options *o) {
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_SERVER:
      o->server = optarg;
      break;
    case OPT_TOKEN:
      if (crypto_take_arg_secret(&o->token, optarg) != 0)
        return usage_error("%s", "out of memory");
      break;
    case OPT_CA_FILE:
      o->ca_file = optarg;
      break;
    case OPT_INSECURE:
      o->insecure = 1;
      break;
    case OPT_TIMEOUT:
      if (check_number(optarg, 1, 3600, &o->timeout) != 0)
        return usage_error("--timeout wants whole seconds from 1 to 3600, not \"%s\"", optarg);
      break;
    case OPT_JSON:
      o->json = 1;
      break;
    case OPT_PROFILE:
      if (!check_uuid(optarg))
        return usage_error("--profile wants a profile id (a UUID), not \"%s\"", optarg);
      o->profile = optarg;
      break;
    case OPT_FAIL_ON:
      if (!check_status_list(optarg))
        return usage_error("--fail-on wants a comma-separated list of pending, verifying, "
                           "verified, failed, not \"%s\"",
                           optarg);
      o->fail_on = optarg;
      break;
    case OPT_STATUS:
      if (!check_status(optarg))
        return usage_error("--status is pending, verifying, verified or failed, not \"%s\"",
                           optarg);
      o->status = optarg;
      break;
    case OPT_Q:
      o->q = optarg;
      break;
    case OPT_LIMIT:
      if (check_number(optarg, 1, MAX_LIMIT, &o->limit) != 0)
        return usage_error("--limit wants a number from 1 to 10000000, not \"%s\"", optarg);
      break;
    case OPT_FAILURE_SOURCE:
      if (strcmp(optarg, "server") != 0 && strcmp(optarg, "device") != 0)
        return usage_error("--failure-source is server or device, not \"%s\"", optarg);
      o->failure_source = optarg;
      break;
    case OPT_EXPIRES_BEFORE:
      /* a time the server checks (400, exit 4), or days from now */
      o->expires_before = check_days_ahead(optarg, o->expires_buf) ? o->expires_buf : optarg;
      break;
    case OPT_CSV:
      o->csv = 1;
      break;
    case OPT_HELP:
    case 'h':
      fputs(usage, stdout);
      return PARSED_EXIT;
    case OPT_VERSION:
      printf("certdeployctl %s\n", CERTDEPLOY_VERSION);
      return PARSED_EXIT;
    case ':':
      return usage_error("%s needs a value", argv[optind - 1]);
    default:
      return usage_error("unknown option \"%s\"", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return usage_error("%s", "missing command: status, resend, devices or deployments");
  o->command = argv[optind++];
  for (; optind < argc; optind++) {
    if (o->nargs == 2)
      return usage_error("unexpected argument \"%s\"", argv[optind]);
    o->args[o->nargs++] = argv[optind];
  }
  return 0;
}

/* The checks of one command's arguments and flags. 0, or the exit status
 * after a usage error. */
static int check_command(const ctl_options *o) {
  /* Which commands each command flag belongs to. */
  const struct {
    const char *flag;
    const char *commands; /* " status resend " */
    int given;
  } uses[] = {
      {"--profile", " status resend devices deployments ", o->profile != NULL},
      {"--fail-on", " status ", o->fail_on != NULL},
      {"--status", " resend devices deployments ", o->status != NULL},
      {"--q", " devices deployments ", o->q != NULL},
      {"--limit", " devices deployments ", o->limit > 0},
      {"--failure-source", " deployments ", o->failure_source != NULL},
      {"--expires-before", " deployments ", o->expires_before != NULL},
      {"--csv", " deployments ", o->csv},
  };
  char padded[32];
  if (strcmp(o->command, "status") != 0 && strcmp(o->command, "resend") != 0 &&
      strcmp(o->command, "devices") != 0 && strcmp(o->command, "deployments") != 0)
    return usage_error("unknown command \"%s\" (status, resend, devices or deployments)",
                       o->command);
  snprintf(padded, sizeof(padded), " %s ", o->command);
  for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
    if (uses[i].given && strstr(uses[i].commands, padded) == NULL)
      return usage_error("%s is not an option of %s", uses[i].flag, o->command);
  if (o->csv && o->json)
    return usage_error("%s", "--csv and --json exclude each other");
  if (o->csv && o->limit > 0)
    return usage_error("%s", "--csv exports every match: it takes no --limit");
  if (strcmp(o->command, "resend") != 0) {
    if (o->nargs > 0)
      return usage_error("unexpected argument \"%s\"", o->args[0]);
    return 0;
  }
  if (o->profile != NULL) {
    if (o->nargs > 0)
      return usage_error("%s", "resend takes DEVICE_ID PROFILE_ID or --profile ID --status S, "
                               "not both");
    if (o->status == NULL)
      return usage_error("%s", "resend --profile ID needs --status failed (or verified)");
    if (strcmp(o->status, "failed") != 0 && strcmp(o->status, "verified") != 0)
      return usage_error("resend --status is failed or verified, not \"%s\" (pending and "
                         "verifying deployments are already on their way)",
                         o->status);
    return 0;
  }
  if (o->status != NULL)
    return usage_error("%s", "resend --status goes with --profile ID");
  if (o->nargs != 2)
    return usage_error("%s", "resend needs DEVICE_ID PROFILE_ID (or --profile ID --status S)");
  if (!check_uuid(o->args[0]))
    return usage_error("DEVICE_ID must be a device id (a UUID), not \"%s\"", o->args[0]);
  if (!check_uuid(o->args[1]))
    return usage_error("PROFILE_ID must be a profile id (a UUID), not \"%s\"", o->args[1]);
  return 0;
}

/* Fills what the flags left out from the environment, then checks what
 * every command needs. 0, or the exit status after a usage error. */
static int take_environment(ctl_options *o) {
  const char *env = NULL;
  if (o->server == NULL && (env = getenv("CERTDEPLOY_URL")) != NULL && env[0] != '\0')
    o->server = env;
  if (o->token == NULL && (env = getenv("CERTDEPLOY_TOKEN")) != NULL && env[0] != '\0' &&
      (o->token = strdup(env)) == NULL)
    return usage_error("%s", "out of memory");
  if (o->ca_file == NULL && !o->insecure && (env = getenv("CERTDEPLOY_CA_FILE")) != NULL &&
      env[0] != '\0')
    o->ca_file = env;
  if (o->server == NULL)
    return usage_error("%s", "no server: pass --server URL or set CERTDEPLOY_URL");
  if (o->token == NULL || o->token[0] == '\0')
    return usage_error("%s", "no token: set CERTDEPLOY_TOKEN (or pass --token TOKEN)");
  if (strpbrk(o->token, "\r\n") != NULL)
    return usage_error("%s", "the token must be one line");
  if (o->ca_file != NULL && o->insecure)
    return usage_error("%s", "--ca-file and --insecure exclude each other");
  /* every request carries the token: never in the clear */
  if (strncmp(o->server, "https://", 8) != 0 || o->server[8] == '\0')
    return usage_error("--server must be an https:// URL, not \"%s\"", o->server);
  if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0)
    return usage_error("cannot read the CA file %s; give the PEM of the CA that signed the "
                       "server's certificate",
                       o->ca_file);
  return 0;
}

static int run_command(const ctl_options *o) {
  char *err = NULL;
  api_client_options ho = {
      .base_url = o->server,
      .token = o->token,
      .ca_file = o->ca_file,
      .insecure = o->insecure,
      .timeout_seconds = o->timeout,
      .user_agent = "certdeployctl/" CERTDEPLOY_VERSION,
      .max_reply_bytes = MAX_REPLY_BYTES,
  };
  api_client *c = api_client_new(&ho, &err);
  if (c == NULL) {
    ctl_report(err);
    free(err);
    return CTL_EXIT_UNREACHABLE;
  }
  if (o->insecure)
    fprintf(stderr, "certdeployctl: warning: --insecure: the server's TLS certificate is not "
                    "verified, anyone on the path can pose as it and take the token\n");
  int rc;
  if (strcmp(o->command, "status") == 0)
    rc = cmd_status(c, o);
  else if (strcmp(o->command, "resend") == 0)
    rc = cmd_resend(c, o);
  else if (strcmp(o->command, "devices") == 0)
    rc = cmd_devices(c, o);
  else
    rc = cmd_deployments(c, o);
  api_client_free(&c);
  return rc;
}

int main(int argc, char **argv) {
  ctl_options o = {.timeout = 30};

  json_wipe_install();
  int rc = parse_args(argc, argv, &o);
  if (rc == PARSED_EXIT)
    rc = CTL_EXIT_OK;
  else if (rc == 0 && (rc = check_command(&o)) == 0 && (rc = take_environment(&o)) == 0)
    rc = run_command(&o);
  /* Output that could not be written (a full disk) must not pass as done. */
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CTL_EXIT_OK) {
    ctl_report("cannot write the output");
    rc = CTL_EXIT_API;
  }
  crypto_free_secret(o.token);
  return rc;
}
