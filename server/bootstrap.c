/* bootstrap.c: create the first admin token. */
#include "bootstrap.h"

#include "auth.h"
#include "crypto.h"
#include "db_tokens.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* A given bootstrap token must look like the ones we generate, so that
 * auth can tell token kinds apart by prefix. */
static int given_token_ok(const char *t) {
  return strncmp(t, TOKEN_PREFIX_API, strlen(TOKEN_PREFIX_API)) == 0 &&
         strlen(t) >= strlen(TOKEN_PREFIX_API) + 16 && strlen(t) <= 256 &&
         strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(t);
}

int bootstrap_admin_token(app *a) {
  const char *given = a->cfg->bootstrap_token;
  char *generated = NULL;
  int ret = -1;
  if (given[0] && !given_token_ok(given))
    return log_fail("CERTDEPLOY_BOOTSTRAP_TOKEN must start with 'cdt_' followed by at least 16 "
                    "letters, digits, '-' or '_' (for example: cdt_$(openssl rand -hex 24))");
  const char *token = given;
  if (!given[0]) {
    generated = crypto_random_token(TOKEN_PREFIX_API, 32);
    if (generated == NULL)
      return log_fail("cannot generate a bootstrap token");
    token = generated;
  }
  char hash[65];
  crypto_sha256_hex(token, strlen(token), hash);
  db_conn *c = db_acquire(a->db);
  if (c == NULL) {
    log_fail("cannot reach the database to create the bootstrap token");
    goto out;
  }
  int rc = db_token_bootstrap(c, "bootstrap", hash);
  db_release(a->db, c);
  if (rc < 0) {
    log_fail("cannot create the bootstrap token");
    goto out;
  }
  if (rc == 1) {
    log_msg(LOG_INFO, "created the admin API token 'bootstrap'");
    if (generated) {
      printf("certdeployd: admin API token (shown once, store it now): %s\n", generated);
      fflush(stdout);
    }
  }
  ret = 0;
out:
  crypto_free_secret(generated);
  return ret;
}
