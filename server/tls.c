/* tls.c: configured or generated TLS pair. */
#include "tls.h"

#include "crypto.h"
#include "fileutil.h"
#include "http.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX (1024 * 1024)

int tls_load(const config *cfg, char **cert_pem, char **key_pem) {
  char cert_path[4096], key_path[4096];
  *cert_pem = *key_pem = NULL;
  if (cfg->tls_cert[0]) {
    snprintf(cert_path, sizeof(cert_path), "%s", cfg->tls_cert);
    snprintf(key_path, sizeof(key_path), "%s", cfg->tls_key);
  } else {
    snprintf(cert_path, sizeof(cert_path), "%s/tls.crt", cfg->state_dir);
    snprintf(key_path, sizeof(key_path), "%s/tls.key", cfg->state_dir);
    if (!file_exists(cert_path) || !file_exists(key_path)) {
      char host[256];
      int port;
      char *err = NULL;
      if (http_parse_listen(cfg->listen, host, sizeof(host), &port) != 0)
        snprintf(host, sizeof(host), "localhost");
      if (crypto_selfsigned_write(cert_path, key_path, host, &err) != 0) {
        log_fail("cannot create a self-signed TLS pair in %s: %s", cfg->state_dir,
                 err ? err : "unknown error");
        free(err);
        return -1;
      }
      log_msg(LOG_INFO, "created a self-signed TLS certificate %s", cert_path);
    }
  }
  *cert_pem = file_read(cert_path, PEM_MAX, NULL);
  if (*cert_pem == NULL)
    return log_fail("cannot read TLS certificate %s: %s", cert_path, strerror(errno));
  *key_pem = file_read(key_path, PEM_MAX, NULL);
  if (*key_pem == NULL) {
    free(*cert_pem);
    *cert_pem = NULL;
    return log_fail("cannot read TLS key %s: %s", key_path, strerror(errno));
  }
  return 0;
}
