/* delivery.c: the install payload: certificate, chain, PKCS#12. */
#include "delivery.h"

#include "crypto.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

int delivery_add_install(app *a, db_conn *c, const db_deployment *d, json_t *entry) {
  char *sealed = NULL, *cert = NULL, *chain = NULL, *key = NULL, *password = NULL, *b64 = NULL;
  unsigned char *der = NULL;
  size_t der_len = 0, key_len = 0;
  char *err = NULL;
  int ret =
      db_deployment_key(c, d->device_id, d->profile_id, d->generation, &sealed, &cert, &chain);
  if (ret <= 0) {
    ret = ret == 0 ? DELIVERY_NOT_INSTALLABLE : ret;
    goto out;
  }
  ret = DELIVERY_NOT_INSTALLABLE;
  json_object_set_new(entry, "certificate", json_string(cert ? cert : ""));
  json_object_set_new(entry, "chain", json_string(chain ? chain : ""));
  if (strcmp(d->key_mode, "server") != 0) {
    ret = DELIVERY_ADDED;
    goto out;
  }
  if (sealed == NULL || crypto_open(a->master_key, sealed, &key, &key_len) != 0) {
    log_msg(LOG_ERROR,
            "cannot open the stored key of %s/%s: was the master key replaced? resend the "
            "deployment to issue a new key",
            d->device_id, d->profile_id);
    goto out;
  }
  password = crypto_random_token("", 18);
  if (password == NULL ||
      crypto_pkcs12_create(cert, key, chain, password, &der, &der_len, &err) != 0) {
    log_msg(LOG_ERROR, "cannot build the PKCS#12 for %s/%s: %s", d->device_id, d->profile_id,
            err ? err : "out of memory");
    goto out;
  }
  b64 = crypto_base64_encode(der, der_len);
  if (b64 == NULL)
    goto out;
  json_object_set_new(entry, "pkcs12", json_string(b64));
  json_object_set_new(entry, "pkcs12_password", json_string(password));
  ret = DELIVERY_ADDED;
out:
  if (der)
    crypto_cleanse(der, der_len);
  free(der);
  crypto_free_secret(b64);
  crypto_free_secret(password);
  crypto_free_secret(key);
  free(sealed);
  free(cert);
  free(chain);
  free(err);
  return ret;
}
