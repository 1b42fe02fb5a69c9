/*
 * tls.h: the server's TLS pair: the configured files, or a self-signed
 * pair kept in the state dir (created on first start).
 */
#ifndef CERTDEPLOY_TLS_H
#define CERTDEPLOY_TLS_H

#include "config.h"

/* Loads the PEM certificate and key into malloc'd strings (free the key
 * with crypto_free_secret). Returns 0, or -1 after logging what to fix. */
int tls_load(const config *cfg, char **cert_pem, char **key_pem);

#endif
