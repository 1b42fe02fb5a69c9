/*
 * test_crypto.c: unit tests of lib/crypto_*.c (no network, no database).
 *
 * Certificates are inspected through crypto_cert_parse and, for the
 * extensions the API does not expose (SAN, EKU), by looking for their
 * exact DER encodings in the certificate bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

/* ---- helpers ---------------------------------------------------------- */

static char *make_tmpdir(void) {
  char tmpl[] = "/tmp/certdeploy-test-crypto-XXXXXX";
  char *dir = mkdtemp(tmpl);
  assert_non_null(dir);
  return strdup(dir);
}

static void path_in(char *out, size_t outsz, const char *dir, const char *name) {
  assert_true((size_t)snprintf(out, outsz, "%s/%s", dir, name) < outsz);
}

static void remove_tree(char *dir) {
  char cmd[512];
  assert_true((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < sizeof(cmd));
  assert_int_equal(system(cmd), 0);
  free(dir);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long len;
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  len = ftell(f);
  assert_true(len >= 0);
  assert_int_equal(fseek(f, 0, SEEK_SET), 0);
  buf = malloc((size_t)len + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  buf[len] = '\0';
  fclose(f);
  return buf;
}

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static mode_t file_mode(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 07777;
}

/* DER bytes of the first PEM block of pem. */
static unsigned char *pem_to_der(const char *pem, size_t *der_len) {
  const char *start = strstr(pem, "-----\n");
  const char *end = strstr(pem, "\n-----END");
  char *b64;
  size_t n = 0;
  unsigned char *der = NULL;

  assert_non_null(start);
  assert_non_null(end);
  start += 6;
  b64 = malloc((size_t)(end - start) + 1);
  assert_non_null(b64);
  for (const char *p = start; p < end; p++) {
    if (*p != '\n') {
      b64[n++] = *p;
    }
  }
  b64[n] = '\0';
  assert_int_equal(crypto_base64_decode(b64, &der, der_len), 0);
  free(b64);
  return der;
}

/* PEM block of der with the given label, lines of 64. */
static char *der_to_pem(const unsigned char *der, size_t len, const char *label) {
  char *b64 = crypto_base64_encode(der, len);
  size_t blen = strlen(b64);
  size_t cap = blen + blen / 64 + 128;
  char *out = malloc(cap);
  size_t used;

  assert_non_null(out);
  used = (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", label);
  for (size_t i = 0; i < blen; i += 64) {
    size_t chunk = blen - i < 64 ? blen - i : 64;
    memcpy(out + used, b64 + i, chunk);
    used += chunk;
    out[used++] = '\n';
  }
  snprintf(out + used, cap - used, "-----END %s-----\n", label);
  free(b64);
  return out;
}

static int memfind(const unsigned char *hay, size_t hay_len, const void *needle, size_t n) {
  if (n > hay_len) {
    return 0;
  }
  for (size_t i = 0; i + n <= hay_len; i++) {
    if (memcmp(hay + i, needle, n) == 0) {
      return 1;
    }
  }
  return 0;
}

static int cert_contains(const char *pem, const void *needle, size_t n) {
  size_t der_len = 0;
  unsigned char *der = pem_to_der(pem, &der_len);
  int found = memfind(der, der_len, needle, n);
  free(der);
  return found;
}

static int is_even_upper_hex(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len % 2 != 0) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F'))) {
      return 0;
    }
  }
  return 1;
}

static char *csr_for(const crypto_key *key, const char *cn) {
  char *csr = crypto_csr_create(key, cn, NULL);
  assert_non_null(csr);
  return csr;
}

/* ---- hashing, randomness, encoding ------------------------------------ */

static void test_sha256_known_vectors(void **state) {
  char out[65];
  (void)state;
  crypto_sha256_hex("abc", 3, out);
  assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  crypto_sha256_hex("", 0, out);
  assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_base64_roundtrip(void **state) {
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  unsigned char bin[256];
  (void)state;

  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
    char *enc = crypto_base64_encode(plain[i], strlen(plain[i]));
    unsigned char *dec = NULL;
    size_t dec_len = 99;
    assert_string_equal(enc, coded[i]);
    assert_int_equal(crypto_base64_decode(enc, &dec, &dec_len), 0);
    assert_int_equal(dec_len, strlen(plain[i]));
    assert_memory_equal(dec, plain[i], dec_len);
    assert_int_equal(dec[dec_len], '\0');
    free(enc);
    free(dec);
  }
  for (size_t i = 0; i < sizeof(bin); i++) {
    bin[i] = (unsigned char)i;
  }
  {
    char *enc = crypto_base64_encode(bin, sizeof(bin));
    unsigned char *dec = NULL;
    size_t dec_len = 0;
    assert_int_equal(crypto_base64_decode(enc, &dec, &dec_len), 0);
    assert_int_equal(dec_len, sizeof(bin));
    assert_memory_equal(dec, bin, sizeof(bin));
    free(enc);
    free(dec);
  }
}

static void test_base64_bad_input(void **state) {
  static const char *const bad[] = {
      "Zm9", "Zm9v!", "Zm!v", "Z===", "Zm9v\nYmFy", "=Zm9", "Zm=v", "Zm9v Ymfy"};
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned char *dec = NULL;
    size_t dec_len = 0;
    assert_int_equal(crypto_base64_decode(bad[i], &dec, &dec_len), -1);
    assert_null(dec);
  }
}

static void test_token_shape(void **state) {
  char *a = crypto_random_token("cdt_", 32);
  char *b = crypto_random_token("cdt_", 32);
  (void)state;
  assert_non_null(a);
  assert_non_null(b);
  assert_memory_equal(a, "cdt_", 4);
  /* 32 bytes -> 43 base64url characters without padding */
  assert_int_equal(strlen(a), 4 + 43);
  for (const char *p = a + 4; *p; p++) {
    assert_true((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '_');
  }
  assert_string_not_equal(a, b);
  crypto_free_secret(a);
  crypto_free_secret(b);
  crypto_free_secret(NULL);
}

static void test_uuid_and_equal(void **state) {
  char u[37];
  char v[37];
  (void)state;
  assert_int_equal(crypto_uuid_v4(u), 0);
  assert_int_equal(crypto_uuid_v4(v), 0);
  assert_int_equal(strlen(u), 36);
  assert_int_equal(u[8], '-');
  assert_int_equal(u[13], '-');
  assert_int_equal(u[14], '4');
  assert_int_equal(u[18], '-');
  assert_true(strchr("89ab", u[19]) != NULL);
  assert_int_equal(u[23], '-');
  assert_string_not_equal(u, v);
  assert_int_equal(crypto_equal("abcd", "abcd", 4), 1);
  assert_int_equal(crypto_equal("abcd", "abce", 4), 0);
}

/* ---- master key and sealing ------------------------------------------ */

static void test_seal_open(void **state) {
  unsigned char key[CRYPTO_MASTER_KEY_LEN];
  unsigned char other[CRYPTO_MASTER_KEY_LEN];
  const char *secret = "api-token-value";
  char *sealed;
  char *sealed2;
  char *plain = NULL;
  size_t len = 0;
  unsigned char *raw = NULL;
  size_t raw_len = 0;
  (void)state;

  assert_int_equal(crypto_random_bytes(key, sizeof(key)), 0);
  memcpy(other, key, sizeof(key));
  other[0] ^= 1;
  sealed = crypto_seal(key, secret, strlen(secret));
  sealed2 = crypto_seal(key, secret, strlen(secret));
  assert_non_null(sealed);
  assert_string_not_equal(sealed, sealed2); /* fresh nonce each time */
  assert_null(strstr(sealed, "api-token"));

  assert_int_equal(crypto_open(key, sealed, &plain, &len), 0);
  assert_int_equal(len, strlen(secret));
  assert_string_equal(plain, secret);
  crypto_free_secret(plain);
  plain = NULL;

  assert_int_equal(crypto_open(other, sealed, &plain, &len), -1);
  assert_null(plain);

  /* layout: "v1" || nonce || ciphertext || tag; flip one ciphertext bit */
  assert_int_equal(crypto_base64_decode(sealed, &raw, &raw_len), 0);
  assert_int_equal(raw_len, 2 + 12 + strlen(secret) + 16);
  assert_memory_equal(raw, "v1", 2);
  raw[2 + 12] ^= 0x01;
  {
    char *tampered = crypto_base64_encode(raw, raw_len);
    assert_int_equal(crypto_open(key, tampered, &plain, &len), -1);
    free(tampered);
  }
  raw[2 + 12] ^= 0x01;
  raw[1] = '2'; /* the version is authenticated too */
  {
    char *tampered = crypto_base64_encode(raw, raw_len);
    assert_int_equal(crypto_open(key, tampered, &plain, &len), -1);
    free(tampered);
  }
  assert_int_equal(crypto_open(key, "not base64!", &plain, &len), -1);
  assert_int_equal(crypto_open(key, "djE=", &plain, &len), -1);
  free(raw);

  /* empty plaintext works */
  free(sealed2);
  sealed2 = crypto_seal(key, "", 0);
  assert_non_null(sealed2);
  assert_int_equal(crypto_open(key, sealed2, &plain, &len), 0);
  assert_int_equal(len, 0);
  assert_string_equal(plain, "");
  crypto_free_secret(plain);
  free(sealed);
  free(sealed2);
}

static void test_master_key(void **state) {
  char *dir = make_tmpdir();
  char path[512];
  char bad[512];
  unsigned char k1[CRYPTO_MASTER_KEY_LEN];
  unsigned char k2[CRYPTO_MASTER_KEY_LEN];
  unsigned char zero[CRYPTO_MASTER_KEY_LEN];
  char *err = NULL;
  (void)state;

  path_in(path, sizeof(path), dir, "master.key");
  memset(zero, 0, sizeof(zero));
  assert_int_equal(crypto_master_key_load(path, k1, &err), 0);
  assert_null(err);
  assert_int_equal(file_mode(path), 0600);
  assert_memory_not_equal(k1, zero, sizeof(zero));
  assert_int_equal(crypto_master_key_load(path, k2, &err), 0);
  assert_memory_equal(k1, k2, sizeof(k1));

  path_in(bad, sizeof(bad), dir, "short.key");
  write_bytes(bad, "0123456789", 10);
  assert_int_equal(crypto_master_key_load(bad, k2, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, bad));
  assert_non_null(strstr(err, "10 bytes"));
  free(err);
  err = NULL;

  path_in(bad, sizeof(bad), dir, "missing-dir/master.key");
  assert_int_equal(crypto_master_key_load(bad, k2, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, bad));
  free(err);
  assert_int_equal(crypto_master_key_load(bad, k2, NULL), -1);
  remove_tree(dir);
}

/* ---- keys and CSRs ----------------------------------------------------- */

static void test_key_pem_roundtrip(void **state) {
  crypto_key *key = crypto_key_generate_ec_p256();
  crypto_key *back;
  char *pem;
  char h1[65];
  char h2[65];
  char *err = NULL;
  (void)state;

  assert_non_null(key);
  pem = crypto_key_to_pem(key);
  assert_non_null(pem);
  assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
  back = crypto_key_from_pem(pem, &err);
  assert_non_null(back);
  assert_int_equal(crypto_key_pubkey_sha256(key, h1), 0);
  assert_int_equal(crypto_key_pubkey_sha256(back, h2), 0);
  assert_string_equal(h1, h2);
  assert_null(
      crypto_key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", &err));
  assert_non_null(err);
  free(err);
  crypto_free_secret(pem);
  crypto_key_free(&key);
  assert_null(key);
  crypto_key_free(&key);
  crypto_key_free(NULL);
  crypto_key_free(&back);
}

/* crypto_key_from_pem reads PKCS#8 through the decoder its OID names;
 * other PEM forms (here OpenSSL's "EC PARAMETERS" + "EC PRIVATE KEY")
 * take the general path. Both give the same key. */
static void test_key_pem_forms(void **state) {
  static const char traditional_ec[] =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MHcCAQEEIIIeil8+0LSmGf20YMXAjPu2JckdEqBnBw2Bue8VJQokoAoGCCqGSM49\n"
      "AwEHoUQDQgAErDSxA07KAWzz17xlxSkU7aiAQmVxSxz2TZesQ+hakkdM9wZJlbsg\n"
      "P+Ll3KmrJEHoEHyQNe/H2iHY+qfuRm7nyw==\n"
      "-----END EC PRIVATE KEY-----\n";
  /* `openssl pkey -pubout -outform DER | sha256sum` of that key */
  static const char traditional_ec_spki[] =
      "d91d8f256e2cd11299f75a2b15f65b132c2240b58c6aea52d7be5a8a273af5a4";
  char h1[65], h2[65];
  (void)state;

  crypto_key *ec = crypto_key_from_pem(traditional_ec, NULL);
  assert_non_null(ec);
  assert_int_equal(crypto_key_pubkey_sha256(ec, h1), 0);
  assert_string_equal(h1, traditional_ec_spki);
  char *pkcs8 = crypto_key_to_pem(ec);
  crypto_key *back = crypto_key_from_pem(pkcs8, NULL);
  assert_non_null(back);
  assert_int_equal(crypto_key_pubkey_sha256(back, h2), 0);
  assert_string_equal(h2, traditional_ec_spki);
  crypto_free_secret(pkcs8);
  crypto_key_free(&back);
  crypto_key_free(&ec);

  crypto_key *rsa = crypto_key_generate_rsa(2048);
  pkcs8 = crypto_key_to_pem(rsa);
  back = crypto_key_from_pem(pkcs8, NULL);
  assert_non_null(back);
  assert_int_equal(crypto_key_pubkey_sha256(rsa, h1), 0);
  assert_int_equal(crypto_key_pubkey_sha256(back, h2), 0);
  assert_string_equal(h1, h2);
  crypto_free_secret(pkcs8);
  crypto_key_free(&back);
  crypto_key_free(&rsa);
}

static void test_csr_create_check(void **state) {
  crypto_key *rsa = crypto_key_generate_rsa(2048);
  crypto_key *ec = crypto_key_generate_ec_p256();
  crypto_csr_info info;
  char *csr;
  char *err = NULL;
  char h[65];
  (void)state;

  char made[65];
  assert_non_null(rsa);
  assert_non_null(ec);
  csr = crypto_csr_create(rsa, "device-rsa", made);
  assert_non_null(csr);
  assert_non_null(strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----"));
  assert_int_equal(crypto_csr_check(csr, &info, &err), 0);
  assert_null(err);
  assert_string_equal(info.key_type, "RSA");
  assert_int_equal(info.key_bits, 2048);
  assert_string_equal(info.curve, "");
  assert_string_equal(info.common_name, "device-rsa");
  assert_int_equal(crypto_key_pubkey_sha256(rsa, h), 0);
  assert_string_equal(info.pubkey_sha256, h);
  assert_string_equal(made, h); /* the hash crypto_csr_create hands back */
  free(csr);

  csr = crypto_csr_create(ec, "device-ec", made);
  assert_non_null(csr);
  assert_int_equal(crypto_csr_check(csr, &info, &err), 0);
  assert_int_equal(crypto_key_pubkey_sha256(ec, h), 0);
  assert_string_equal(info.pubkey_sha256, h);
  assert_string_equal(made, h);
  assert_string_equal(info.key_type, "EC");
  assert_int_equal(info.key_bits, 256);
  assert_string_equal(info.curve, "prime256v1");
  assert_string_equal(info.common_name, "device-ec");
  assert_int_equal(crypto_csr_check(csr, NULL, NULL), 0);
  free(csr);

  assert_int_equal(crypto_csr_check("garbage", &info, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, "CSR"));
  free(err);
  crypto_key_free(&rsa);
  crypto_key_free(&ec);
}

static void test_csr_weak_rsa_refused(void **state) {
  crypto_key *weak = crypto_key_generate_rsa(1024);
  char *csr;
  char *err = NULL;
  crypto_csr_info info;
  (void)state;

  assert_non_null(weak);
  csr = csr_for(weak, "weak");
  assert_int_equal(crypto_csr_check(csr, &info, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, "RSA key of 1024 bits is too weak"));
  assert_non_null(strstr(err, "RSA-2048"));
  free(err);
  free(csr);
  crypto_key_free(&weak);
}

static void test_csr_bad_signature_refused(void **state) {
  crypto_key *key = crypto_key_generate_ec_p256();
  char *csr = csr_for(key, "signed-name");
  size_t der_len = 0;
  unsigned char *der = pem_to_der(csr, &der_len);
  char *tampered;
  char *err = NULL;
  int flipped = 0;
  (void)state;

  /* Change one letter of the CN, which lies inside the signed part. */
  for (size_t i = 0; i + 11 <= der_len; i++) {
    if (memcmp(der + i, "signed-name", 11) == 0) {
      der[i] = 'S';
      flipped = 1;
      break;
    }
  }
  assert_true(flipped);
  tampered = der_to_pem(der, der_len, "CERTIFICATE REQUEST");
  assert_int_equal(crypto_csr_check(tampered, NULL, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, "signature does not verify"));
  free(err);
  free(tampered);
  free(der);
  free(csr);
  crypto_key_free(&key);
}

/* ---- certificates ------------------------------------------------------ */

static const unsigned char IP_127_0_0_1[] = {0x87, 0x04, 0x7f, 0x00, 0x00, 0x01};
static const unsigned char OID_CLIENT_AUTH[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
                                                0x05, 0x05, 0x07, 0x03, 0x02};
static const unsigned char OID_SERVER_AUTH[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
                                                0x05, 0x05, 0x07, 0x03, 0x01};
static const unsigned char OID_MS_UPN[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                           0x01, 0x82, 0x37, 0x14, 0x02, 0x03};

static void test_selfsigned_and_parse(void **state) {
  char *dir = make_tmpdir();
  char cert_path[512];
  char key_path[512];
  char *cert_pem;
  char *key_pem;
  crypto_cert_info info;
  crypto_key *key;
  char h[65];
  char *err = NULL;
  time_t t0 = time(NULL);
  (void)state;

  path_in(cert_path, sizeof(cert_path), dir, "tls.pem");
  path_in(key_path, sizeof(key_path), dir, "tls.key");
  assert_int_equal(crypto_selfsigned_write(cert_path, key_path, "cd.example.test", &err), 0);
  assert_null(err);
  assert_int_equal(file_mode(key_path), 0600);
  cert_pem = read_text(cert_path);
  key_pem = read_text(key_path);

  assert_int_equal(crypto_cert_parse(cert_pem, &info, &err), 0);
  assert_string_equal(info.common_name, "cd.example.test");
  assert_string_equal(info.issuer_cn, "cd.example.test");
  assert_true(is_even_upper_hex(info.serial));
  assert_true(info.not_before >= t0 - 1 && info.not_before <= time(NULL));
  assert_int_equal(info.not_after - info.not_before, 365L * 86400L);
  assert_int_equal(strlen(info.sha256), 64);
  assert_true(cert_contains(cert_pem, IP_127_0_0_1, sizeof(IP_127_0_0_1)));
  assert_true(cert_contains(cert_pem, "localhost", 9));
  assert_true(cert_contains(cert_pem, "cd.example.test", 15));
  assert_true(cert_contains(cert_pem, OID_SERVER_AUTH, sizeof(OID_SERVER_AUTH)));

  /* the key on disk is the certificate's key */
  key = crypto_key_from_pem(key_pem, &err);
  assert_non_null(key);
  assert_int_equal(crypto_key_pubkey_sha256(key, h), 0);
  assert_string_equal(h, info.pubkey_sha256);

  /* the DER hash is the certificate's SHA-256 */
  {
    size_t der_len = 0;
    unsigned char *der = pem_to_der(cert_pem, &der_len);
    char want[65];
    crypto_sha256_hex(der, der_len, want);
    assert_string_equal(info.sha256, want);
    free(der);
  }

  assert_int_equal(crypto_cert_parse("nope", &info, &err), -1);
  assert_non_null(err);
  free(err);
  err = NULL;
  assert_int_equal(crypto_selfsigned_write(cert_path, key_path, "bad host,IP:1.2.3.4", &err), -1);
  assert_non_null(err);
  free(err);

  crypto_key_free(&key);
  free(cert_pem);
  crypto_free_secret(key_pem);
  remove_tree(dir);
}

static void test_pkcs12_roundtrip(void **state) {
  char *dir = make_tmpdir();
  char cert_path[512];
  char key_path[512];
  char *cert_pem;
  char *key_pem;
  unsigned char *der = NULL;
  size_t der_len = 0;
  char *out_cert = NULL;
  char *out_key = NULL;
  char *err = NULL;
  crypto_cert_info a;
  crypto_cert_info b;
  crypto_key *k;
  char h[65];
  (void)state;

  path_in(cert_path, sizeof(cert_path), dir, "c.pem");
  path_in(key_path, sizeof(key_path), dir, "c.key");
  assert_int_equal(crypto_selfsigned_write(cert_path, key_path, NULL, &err), 0);
  cert_pem = read_text(cert_path);
  key_pem = read_text(key_path);

  assert_int_equal(
      crypto_pkcs12_create(cert_pem, key_pem, cert_pem, "pw-123", &der, &der_len, &err), 0);
  assert_non_null(der);
  assert_true(der_len > 100);
  assert_int_equal(crypto_pkcs12_parse(der, der_len, "pw-123", &out_cert, &out_key, &err), 0);
  assert_int_equal(crypto_cert_parse(cert_pem, &a, NULL), 0);
  assert_int_equal(crypto_cert_parse(out_cert, &b, NULL), 0);
  assert_string_equal(a.sha256, b.sha256);
  k = crypto_key_from_pem(out_key, &err);
  assert_non_null(k);
  assert_int_equal(crypto_key_pubkey_sha256(k, h), 0);
  assert_string_equal(h, a.pubkey_sha256);
  free(out_cert);
  crypto_free_secret(out_key);
  out_cert = NULL;
  out_key = NULL;

  assert_int_equal(crypto_pkcs12_parse(der, der_len, "wrong", &out_cert, &out_key, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err, "password"));
  assert_null(out_cert);
  assert_null(out_key);
  free(err);
  err = NULL;
  assert_int_equal(
      crypto_pkcs12_parse((const unsigned char *)"junk", 4, "pw", &out_cert, &out_key, &err), -1);
  free(err);
  err = NULL;

  /* a key that is not the certificate's is refused */
  {
    crypto_key *other = crypto_key_generate_ec_p256();
    char *other_pem = crypto_key_to_pem(other);
    unsigned char *der2 = NULL;
    size_t der2_len = 0;
    assert_int_equal(crypto_pkcs12_create(cert_pem, other_pem, NULL, "pw", &der2, &der2_len, &err),
                     -1);
    assert_non_null(strstr(err, "does not match"));
    assert_null(der2);
    free(err);
    crypto_free_secret(other_pem);
    crypto_key_free(&other);
  }

  crypto_key_free(&k);
  free(der);
  free(cert_pem);
  crypto_free_secret(key_pem);
  remove_tree(dir);
}

/* ---- issuing CA ------------------------------------------------------- */

static void test_ca_load_or_create_persists(void **state) {
  char *dir = make_tmpdir();
  char key_path[512];
  char cert_path[512];
  char *err = NULL;
  crypto_ca *ca = crypto_ca_load_or_create(dir, &err);
  crypto_ca *again;
  char *first;
  crypto_cert_info info;
  (void)state;

  assert_non_null(ca);
  assert_null(err);
  path_in(key_path, sizeof(key_path), dir, "ca.key");
  path_in(cert_path, sizeof(cert_path), dir, "ca.pem");
  assert_int_equal(file_mode(key_path), 0600);
  first = strdup(crypto_ca_cert_pem(ca));
  assert_int_equal(crypto_cert_parse(first, &info, NULL), 0);
  assert_string_equal(info.common_name, "certdeploy mock CA");
  assert_string_equal(info.issuer_cn, "certdeploy mock CA");
  assert_true(info.not_after - info.not_before >= 3650L * 86400L);
  crypto_ca_free(&ca);
  assert_null(ca);
  crypto_ca_free(&ca);

  again = crypto_ca_load_or_create(dir, &err);
  assert_non_null(again);
  assert_string_equal(crypto_ca_cert_pem(again), first);
  crypto_ca_free(&again);

  /* half a pair is an error naming the missing file, never a new CA */
  assert_int_equal(unlink(key_path), 0);
  assert_null(crypto_ca_load_or_create(dir, &err));
  assert_non_null(err);
  assert_non_null(strstr(err, key_path));
  free(err);
  {
    char *still = read_text(cert_path);
    assert_string_equal(still, first);
    free(still);
  }
  free(first);
  remove_tree(dir);
}

static void test_ca_issue(void **state) {
  char *dir = make_tmpdir();
  char *err = NULL;
  crypto_ca *ca = crypto_ca_load_or_create(dir, &err);
  crypto_key *key = crypto_key_generate_rsa(2048);
  char *csr = csr_for(key, "name-in-csr");
  crypto_csr_info csr_info;
  crypto_cert_info info;
  crypto_cert_info ca_info;
  crypto_cert_info made; /* what crypto_ca_issue reports of its certificate */
  char *leaf;
  time_t t0;
  time_t t1;
  (void)state;

  assert_non_null(ca);
  assert_int_equal(crypto_csr_check(csr, &csr_info, NULL), 0);
  t0 = time(NULL);
  leaf = crypto_ca_issue(ca, csr, "device-0042", "user42@example.test", 3600, &made, &err);
  t1 = time(NULL);
  assert_non_null(leaf);
  assert_null(err);
  assert_int_equal(crypto_cert_parse(leaf, &info, &err), 0);
  assert_memory_equal(&made, &info, sizeof(info)); /* the same facts as parsing its PEM */
  assert_int_equal(crypto_cert_parse(crypto_ca_cert_pem(ca), &ca_info, NULL), 0);

  assert_string_equal(info.common_name, "device-0042");
  assert_string_equal(info.issuer_cn, "certdeploy mock CA");
  assert_null(strstr(leaf, "name-in-csr"));
  assert_false(cert_contains(leaf, "name-in-csr", 11));
  assert_true(cert_contains(leaf, OID_MS_UPN, sizeof(OID_MS_UPN)));
  assert_true(cert_contains(leaf, "user42@example.test", 19));
  assert_true(cert_contains(leaf, OID_CLIENT_AUTH, sizeof(OID_CLIENT_AUTH)));
  assert_false(cert_contains(leaf, OID_SERVER_AUTH, sizeof(OID_SERVER_AUTH)));
  assert_true(info.not_before >= t0 && info.not_before <= t1);
  assert_int_equal(info.not_after, info.not_before + 3600);
  assert_true(is_even_upper_hex(info.serial));
  assert_int_equal(strlen(info.serial), 32);
  assert_string_equal(info.pubkey_sha256, csr_info.pubkey_sha256);
  assert_string_not_equal(info.pubkey_sha256, ca_info.pubkey_sha256);
  free(leaf);

  /* no UPN: no otherName; serials differ between issues */
  leaf = crypto_ca_issue(ca, csr, "device-0043", NULL, 60, NULL, &err);
  assert_non_null(leaf);
  {
    crypto_cert_info second;
    assert_int_equal(crypto_cert_parse(leaf, &second, NULL), 0);
    assert_false(cert_contains(leaf, OID_MS_UPN, sizeof(OID_MS_UPN)));
    assert_string_not_equal(second.serial, info.serial);
    assert_int_equal(second.not_after - second.not_before, 60);
  }
  free(leaf);

  /* refusals carry a reason */
  assert_null(crypto_ca_issue(ca, csr, "", NULL, 60, NULL, &err));
  assert_non_null(strstr(err, "common name"));
  free(err);
  err = NULL;
  assert_null(crypto_ca_issue(ca, csr,
                              "a-common-name-that-is-far-too-long-for-x509-which-allows-64-chars",
                              NULL, 60, NULL, &err));
  assert_non_null(strstr(err, "64"));
  free(err);
  err = NULL;
  assert_null(crypto_ca_issue(ca, csr, "x", NULL, 0, NULL, &err));
  assert_non_null(err);
  free(err);
  err = NULL;
  {
    crypto_key *weak = crypto_key_generate_rsa(1024);
    char *weak_csr = csr_for(weak, "weak");
    assert_null(crypto_ca_issue(ca, weak_csr, "x", NULL, 60, NULL, &err));
    assert_non_null(strstr(err, "too weak"));
    free(err);
    free(weak_csr);
    crypto_key_free(&weak);
  }

  free(csr);
  crypto_key_free(&key);
  crypto_ca_free(&ca);
  remove_tree(dir);
}

/* RFC 4231 test cases 1, 2, 6 and 7 (6 and 7: a key longer than the block). */
static void test_hmac_sha256_rfc4231(void **state) {
  (void)state;
  char out[65];
  unsigned char key20[20], key131[131];
  memset(key20, 0x0b, sizeof(key20));
  memset(key131, 0xaa, sizeof(key131));
  assert_int_equal(crypto_hmac_sha256_hex(key20, sizeof(key20), "Hi There", 8, out), 0);
  assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  const char *what = "what do ya want for nothing?";
  assert_int_equal(crypto_hmac_sha256_hex("Jefe", 4, what, strlen(what), out), 0);
  assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
  assert_int_equal(crypto_hmac_sha256_hex(key131, sizeof(key131), big, strlen(big), out), 0);
  assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const char *big2 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
  assert_int_equal(crypto_hmac_sha256_hex(key131, sizeof(key131), big2, strlen(big2), out), 0);
  assert_string_equal(out, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  /* an empty key is a key, not "the previous one" */
  assert_int_equal(crypto_hmac_sha256_hex("", 0, "", 0, out), 0);
  assert_string_equal(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256_known_vectors),
      cmocka_unit_test(test_hmac_sha256_rfc4231),
      cmocka_unit_test(test_base64_roundtrip),
      cmocka_unit_test(test_base64_bad_input),
      cmocka_unit_test(test_token_shape),
      cmocka_unit_test(test_uuid_and_equal),
      cmocka_unit_test(test_seal_open),
      cmocka_unit_test(test_master_key),
      cmocka_unit_test(test_key_pem_roundtrip),
      cmocka_unit_test(test_key_pem_forms),
      cmocka_unit_test(test_csr_create_check),
      cmocka_unit_test(test_csr_weak_rsa_refused),
      cmocka_unit_test(test_csr_bad_signature_refused),
      cmocka_unit_test(test_selfsigned_and_parse),
      cmocka_unit_test(test_pkcs12_roundtrip),
      cmocka_unit_test(test_ca_load_or_create_persists),
      cmocka_unit_test(test_ca_issue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
