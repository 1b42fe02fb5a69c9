/*
 * commands.h: certdeployctl's commands, one file each. main.c has checked
 * the command line (which flags belong to which command, ids, statuses)
 * and connected the client; a command sends its requests, prints the
 * result (a table, or with --json the API's JSON) on stdout, and returns
 * the exit status (ctl.h). Failures are reported on stderr by api_call.
 */
#ifndef CERTDEPLOY_CTL_COMMANDS_H
#define CERTDEPLOY_CTL_COMMANDS_H

#include "api_client.h"
#include "ctl.h"

/* status [--profile ID] [--fail-on STATUS,...]: GET /api/v1/status. The
 * counts are printed even when the gate trips (exit CTL_EXIT_GATE). */
int cmd_status(api_client *c, const ctl_options *o);

/* resend DEVICE_ID PROFILE_ID: POST .../devices/{id}/profiles/{id}/resend;
 * resend --profile ID --status S: POST /api/v1/profiles/{id}/resend. */
int cmd_resend(api_client *c, const ctl_options *o);

/* devices [--q TEXT] [--status S] [--profile ID] [--limit N]: GET
 * /api/v1/devices, following next_cursor to the end or to N devices. */
int cmd_devices(api_client *c, const ctl_options *o);

/* deployments [--status S] [--profile ID] [--failure-source SRC]
 * [--expires-before T] [--q TEXT] [--limit N | --csv]: GET
 * /api/v1/deployments, every page (or N deployments) as a table or
 * --json, or with --csv the server's CSV export copied to stdout as it
 * comes. */
int cmd_deployments(api_client *c, const ctl_options *o);

#endif
