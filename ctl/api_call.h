/*
 * api_call.h: one REST API call and what its answer means for the exit
 * status. Every command goes through here, so every failure reads the
 * same: one line on stderr,
 *
 *   certdeployctl: <error.message> (HTTP <status> <error.code>)
 *
 * and exit status 3 when no answer came or the token was refused
 * (401/403), 4 for any other error answer.
 */
#ifndef CERTDEPLOY_CTL_API_CALL_H
#define CERTDEPLOY_CTL_API_CALL_H

#include <jansson.h>

#include "api_client.h"

/* Sends the request (see api_client_request). Returns 0 with *reply (a
 * JSON object the caller owns) for a 2xx answer. Otherwise *reply is
 * NULL, the reason has been printed, and the return value is the exit
 * status: CTL_EXIT_UNREACHABLE or CTL_EXIT_API. */
int api_call(api_client *c, const char *method, const char *path, const json_t *body,
             json_t **reply);

/* Downloads path (api_client_download), the body of a 2xx answer handed
 * to sink as it comes. Returns 0, or the exit status after reporting why:
 * CTL_EXIT_UNREACHABLE when no answer came or the token was refused, else
 * CTL_EXIT_API (an error answer, or a 2xx answer that broke off). */
int api_download(api_client *c, const char *path, const char *accept, api_client_sink sink,
                 void *sink_arg);

/* Prints the one-line reason for a non-2xx answer (or a 2xx one whose
 * body is not a JSON object) and returns the exit status it calls for:
 * CTL_EXIT_UNREACHABLE for 401 and 403, else CTL_EXIT_API. reply may be
 * NULL. For callers that look at some error answers themselves first. */
int api_call_failed(const api_client *c, long status, const json_t *reply);

#endif
