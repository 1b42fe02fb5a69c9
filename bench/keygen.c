/* bench/keygen.c: what server key mode costs per deployment before the CA
 * is called: the same calls as make_server_key() in server/issue.c (an
 * RSA-2048 key, its CSR, the key as PEM, sealed with the master key).
 * Prints "keygen_ms_median N", "keygen_ms_mean N" and "keygen_ms_p90 N"
 * over ITERATIONS keys (default 40) on one thread.
 *
 *   cc -O2 -Ilib bench/keygen.c build/libserver.a $(pkg-config --libs ...) */
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 40;
  if (n < 1 || n > 10000)
    return 2;
  unsigned char master[CRYPTO_MASTER_KEY_LEN];
  memset(master, 7, sizeof(master));
  double *t = calloc((size_t)n, sizeof(double)), sum = 0;
  if (t == NULL)
    return 1;
  for (int i = 0; i < n; i++) {
    double start = now_ms();
    crypto_key *key = crypto_key_generate_rsa(2048);
    char *csr = key ? crypto_csr_create(key, "bench-00000001", NULL) : NULL;
    char *pem = key ? crypto_key_to_pem(key) : NULL;
    char *sealed = pem ? crypto_seal(master, pem, strlen(pem)) : NULL;
    if (sealed == NULL) {
      fprintf(stderr, "keygen: failed\n");
      return 1;
    }
    t[i] = now_ms() - start;
    sum += t[i];
    free(sealed);
    crypto_free_secret(pem);
    free(csr);
    crypto_key_free(&key);
  }
  qsort(t, (size_t)n, sizeof(double), cmp);
  printf("keygen_ms_median %.1f\nkeygen_ms_mean %.1f\nkeygen_ms_p90 %.1f\n", t[n / 2], sum / n,
         t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1]);
  free(t);
  return 0;
}
