/* api_call.c: a REST API call, and the error answers sorted into exit
 * statuses with the server's own message. */
#include "api_call.h"

#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "output.h"

int api_call_failed(const api_client *c, long status, const json_t *reply) {
  const json_t *error = json_object_get(reply, "error");
  const char *code = json_string_value(json_object_get(error, "code"));
  const char *message = json_string_value(json_object_get(error, "message"));
  int rc = status == 401 || status == 403 ? CTL_EXIT_UNREACHABLE : CTL_EXIT_API;
  char *safe_message = NULL;
  char *safe_code = NULL;

  if (status >= 200 && status < 300) {
    fprintf(stderr,
            "certdeployctl: the reply from %s (HTTP %ld) is not a JSON object; is --server "
            "right?\n",
            api_client_base_url(c), status);
    return CTL_EXIT_API;
  }
  /* The message may echo what a device sent: no terminal escapes. */
  safe_message = output_sanitize(message != NULL ? message : "the server refused the request");
  safe_code = code != NULL ? output_sanitize(code) : NULL;
  if (safe_message == NULL || (code != NULL && safe_code == NULL))
    ctl_report(NULL);
  else if (safe_code != NULL)
    fprintf(stderr, "certdeployctl: %s (HTTP %ld %s)\n", safe_message, status, safe_code);
  else
    fprintf(stderr, "certdeployctl: %s (HTTP %ld)\n", safe_message, status);
  free(safe_message);
  free(safe_code);
  return rc;
}

int api_call(api_client *c, const char *method, const char *path, const json_t *body,
             json_t **reply) {
  long status = 0;
  char *err = NULL;
  json_t *answer = NULL;

  *reply = NULL;
  if (api_client_request(c, method, path, NULL, body, &status, &answer, &err) != 0) {
    ctl_report(err);
    free(err);
    return CTL_EXIT_UNREACHABLE;
  }
  if (status >= 200 && status < 300 && json_is_object(answer)) {
    *reply = answer;
    return 0;
  }
  int rc = api_call_failed(c, status, answer);
  json_decref(answer);
  return rc;
}

int api_download(api_client *c, const char *path, const char *accept, api_client_sink sink,
                 void *sink_arg) {
  long status = 0;
  char *err = NULL;
  json_t *answer = NULL;
  int rc = api_client_download(c, path, accept, sink, sink_arg, &status, &answer, &err);
  if (rc != 0) {
    ctl_report(err);
    free(err);
    return rc == -1 ? CTL_EXIT_UNREACHABLE : CTL_EXIT_API;
  }
  if (status >= 200 && status < 300)
    return 0;
  rc = api_call_failed(c, status, answer);
  json_decref(answer);
  return rc;
}
