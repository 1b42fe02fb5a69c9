/* errors.c: lookups into the API_ERRORS registry. */
#include "errors.h"

static const struct {
  int status;
  const char *code;
  const char *message;
} registry[API_ERROR_COUNT] = {
#define X(name, status, code, message) [name] = {status, code, message},
    API_ERRORS(X)
#undef X
};

int api_error_status(api_error_code e) {
  return registry[e].status;
}

const char *api_error_name(api_error_code e) {
  return registry[e].code;
}

const char *api_error_default_message(api_error_code e) {
  return registry[e].message;
}
