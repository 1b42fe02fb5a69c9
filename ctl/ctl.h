/*
 * ctl.h: what every part of certdeployctl shares: the public exit
 * statuses, the parsed command line, and one-line error messages.
 *
 * Functions that can fail take `char **err`: on failure they store a
 * malloc'd one-line message there (the caller frees it with free()); err
 * may be NULL when the caller does not care why.
 */
#ifndef CERTDEPLOY_CTL_H
#define CERTDEPLOY_CTL_H

#include "fail.h" /* fail_set(), fail_format(): how ctl functions fail */

/* Exit statuses; public (DESIGN.md "certdeployctl", certdeployctl(1)). */
enum {
  CTL_EXIT_OK = 0,          /* success */
  CTL_EXIT_GATE = 1,        /* the --fail-on gate tripped */
  CTL_EXIT_USAGE = 2,       /* usage error; nothing was sent */
  CTL_EXIT_UNREACHABLE = 3, /* no answer, or the token was refused (401/403) */
  CTL_EXIT_API = 4,         /* any other API error; output that could not be written */
};

/* The command line after parsing and the environment fallbacks. Strings
 * point into argv or the environment, except token, which is a copy that
 * main wipes and frees. NULL: not given. */
typedef struct ctl_options {
  const char *server;  /* https:// base URL */
  char *token;         /* API token (a copy; argv's is wiped) */
  const char *ca_file; /* PEM to verify the server against */
  int insecure;        /* 1: do not verify the server */
  long timeout;        /* seconds for one request */
  int json;            /* 1: print the API's JSON instead of tables */
  const char *command; /* "status", "resend", "devices" or "deployments" */
  const char *args[2]; /* positional arguments after the command */
  int nargs;
  const char *profile;        /* --profile ID */
  const char *fail_on;        /* --fail-on STATUS,... (checked) */
  const char *status;         /* --status S (checked) */
  const char *q;              /* --q TEXT */
  long limit;                 /* --limit N; 0: no limit */
  const char *failure_source; /* --failure-source server|device (checked) */
  const char *expires_before; /* --expires-before T: RFC 3339, or expires_buf */
  char expires_buf[32];       /* --expires-before Nd made a time */
  int csv;                    /* --csv: the CSV export */
} ctl_options;

/* Prints "certdeployctl: <msg>" and a newline on stderr; msg NULL reads
 * "out of memory". */
void ctl_report(const char *msg);

#endif
