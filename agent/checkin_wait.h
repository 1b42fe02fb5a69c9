/*
 * checkin_wait.h: `checkin --wait SECONDS`: check in until every profile
 * assigned to the device is installed or failed, or the time is up.
 *
 * Right after enroll the CA is usually still issuing, so one check-in
 * finds nothing to install; a script that wants the certificate in place
 * waits instead. Each round is a checkin_run(); rounds are 250 ms apart at
 * first, doubling up to 1 s. The check-in reply's per-profile "status"
 * decides: "verified" (the server confirmed the certificate this device
 * installed) is installed, "failed" is final (sticky until an admin
 * resends; "detail" says why), anything else is still on its way.
 */
#ifndef CERTDEPLOY_AGENT_CHECKIN_WAIT_H
#define CERTDEPLOY_AGENT_CHECKIN_WAIT_H

#include <signal.h>

#include "checkin.h"

/* Checks in as dev until every assigned profile is verified or failed,
 * or seconds pass (a request in flight then may take up to its own
 * timeout), or *stop is set. Returns the exit status: 0 when every
 * assigned profile is installed, also when none is assigned (after the
 * first round); 1 when one failed (each printed on stderr with the
 * server's detail), the time ran out (each profile not installed printed
 * with what it still waits for), the server refused the device, its reply
 * does not tell the status, or a stop signal came. Transient check-in
 * errors are printed and retried. */
int checkin_wait(api_client *http, const agent_device *dev, const checkin_options *opts,
                 long seconds, volatile sig_atomic_t *stop);

#endif
