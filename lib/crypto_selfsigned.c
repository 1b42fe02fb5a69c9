/* crypto_selfsigned.c: the self-signed TLS server pair certdeployd makes for itself. */
#include "crypto_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#define SELFSIGNED_VALIDITY_SECONDS (365L * 86400L)

static int gens_add_dns(GENERAL_NAMES *gens, const char *dns) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_IA5STRING *s = ASN1_IA5STRING_new();
  if (gen == NULL || s == NULL || ASN1_STRING_set(s, dns, -1) != 1) {
    GENERAL_NAME_free(gen);
    ASN1_IA5STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gen, GEN_DNS, s);
  if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
    GENERAL_NAME_free(gen);
    return -1;
  }
  return 0;
}

static int gens_add_ip(GENERAL_NAMES *gens, const char *ip) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_OCTET_STRING *s = a2i_IPADDRESS(ip);
  if (gen == NULL || s == NULL) {
    GENERAL_NAME_free(gen);
    ASN1_OCTET_STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gen, GEN_IPADD, s);
  if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
    GENERAL_NAME_free(gen);
    return -1;
  }
  return 0;
}

static int is_ip_literal(const char *host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int host_is_default(const char *host) {
  return host == NULL || host[0] == '\0' || strcmp(host, "localhost") == 0 ||
         strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0;
}

static int host_is_valid_dns(const char *host) {
  size_t len = strlen(host);
  if (len == 0 || len > 253) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    char c = host[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '*')) {
      return 0;
    }
  }
  return 1;
}

int crypto_selfsigned_write(const char *cert_path, const char *key_path, const char *host,
                            char **err) {
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  GENERAL_NAMES *gens = NULL;
  const char *cn = host_is_default(host) ? "localhost" : host;
  int rc = -1;

  if (!host_is_default(host) && !is_ip_literal(host) && !host_is_valid_dns(host)) {
    return cr_set_err(err, "host %s is neither an IP address nor a DNS name", host);
  }
  if (strlen(cn) > MAX_CN_LEN) {
    cn = "localhost";
  }
  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (pkey == NULL) {
    cr_set_err(err, "cannot generate an EC P-256 key");
    goto out;
  }
  x = cr_cert_new(pkey, NULL, cn, time(NULL), SELFSIGNED_VALIDITY_SECONDS, LEAF_SERIAL_BYTES);
  gens = sk_GENERAL_NAME_new_null();
  if (x == NULL || gens == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
      gens_add_dns(gens, "localhost") != 0 || gens_add_ip(gens, "127.0.0.1") != 0 ||
      gens_add_ip(gens, "::1") != 0 ||
      (!host_is_default(host) &&
       (is_ip_literal(host) ? gens_add_ip(gens, host) : gens_add_dns(gens, host)) != 0) ||
      cr_add_san(x, gens) != 0 ||
      cr_add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
      cr_add_ext(x, x, NID_key_usage, "critical,digitalSignature") != 0 ||
      cr_add_ext(x, x, NID_ext_key_usage, "serverAuth") != 0 ||
      cr_add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
      X509_sign(x, pkey, EVP_sha256()) <= 0) {
    cr_set_err(err, "cannot build the self-signed certificate");
    goto out;
  }
  rc = cr_write_pair(cert_path, key_path, x, pkey, "self-signed", err);
out:
  ERR_clear_error();
  GENERAL_NAMES_free(gens);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return rc;
}
