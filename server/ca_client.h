/*
 * ca_client.h: the DigiCert Trust Lifecycle Manager adapter (the /mpki
 * API), the only module that talks to libcurl.
 *
 * - ca_validate():  GET  {url}/mpki/api/v2/profile/{profile_id}
 * - ca_issue():     POST {url}/mpki/api/v1/certificate
 * Both send the API token in `X-API-Key`, time out after
 * ca_endpoint.timeout_seconds, never follow redirects, cap reply bodies at
 * CA_REPLY_MAX_BYTES, and describe the result in a ca_outcome.
 *
 * Classes (DESIGN.md "CA error classes"):
 * - CA_PERMANENT: HTTP 400, 401, 403, 404, 410; any 2xx reply that is not
 *   exactly the documented success (malformed); any other status not listed
 *   as transient below (3xx, 405, 409, 422, 501, ...: retrying the same
 *   request cannot help, and the contract forbids hammering a CA that
 *   refuses); a reply that is not HTTP at all; configuration errors found
 *   before sending (a plain http:// URL to a non-loopback host, an API
 *   token with control characters, an unusable CSR, a trust anchor PEM
 *   that does not load).
 * - CA_TRANSIENT: HTTP 429 and 503 (with Retry-After), 500, 502, 504;
 *   connection failures before the request was sent (refused, DNS, TLS
 *   handshake or certificate verification); timeouts; a connection reset
 *   or closed after the request was sent; local memory exhaustion.
 *   When the failure happened after the request was (possibly) sent,
 *   maybe_issued is 1 and detail says "the CA may have issued; retrying".
 *
 * Threads: after ca_client_global_init(), ca_validate() and ca_issue() may
 * be called from any number of threads at once. Each thread keeps one
 * cached curl handle, so its connections to the CA (and TLS sessions) are
 * reused between requests; the handle is freed when the thread exits.
 */
#ifndef CERTDEPLOY_CA_CLIENT_H
#define CERTDEPLOY_CA_CLIENT_H

#include "crypto.h"

/* Reply bodies larger than this are refused (malformed on a 2xx). */
#define CA_REPLY_MAX_BYTES (1024L * 1024L)
/* Used when ca_endpoint.timeout_seconds is 0 or negative. */
#define CA_DEFAULT_TIMEOUT_SECONDS 20L

typedef enum { CA_OK = 0, CA_PERMANENT, CA_TRANSIENT } ca_class;

/* One configured CA. All strings are borrowed for the call's duration. */
typedef struct ca_endpoint {
  const char *name;       /* shown in details ("Corp CA"); NULL = "the CA" */
  const char *url;        /* base URL, e.g. "https://tlm.example.com"; see ca_url_check */
  const char *api_token;  /* secret; sent only in X-API-Key */
  const char *profile_id; /* TLM profile id (URL-escaped in the validate path) */
  const char *ca_pem;     /* extra trust anchors (PEM) added to the system
                             store for https; NULL = system store only */
  long timeout_seconds;   /* whole request, connect included; <= 0 = default */
} ca_endpoint;

/* One certificate request; strings borrowed, templates already expanded. */
typedef struct ca_issue_request {
  const char *csr_pem;           /* PKCS#10 PEM; must pass crypto_csr_check */
  const char *csr_pubkey_sha256; /* set by a caller that made csr_pem from its own
                                    key (crypto_csr_create): the CSR is then not
                                    checked again; NULL: checked here */
  const char *common_name;       /* attributes.subject.common_name */
  const char *upn;               /* NULL or "" = no extensions object */
  const char *seat_id;           /* seat.seat_id */
} ca_issue_request;

/* What one call produced. Fill with ca_validate/ca_issue, free with
 * ca_outcome_release. Owned strings are malloc'd and NUL-terminated. */
typedef struct ca_outcome {
  ca_class cls;
  long http_status;         /* final HTTP status, 0 when no reply arrived */
  long retry_after_seconds; /* from Retry-After on 429/503 (capped at one
                               day), -1 when absent or another status */
  int maybe_issued;         /* 1: issue request failed after it was sent */
  char *detail;             /* owned; human text for the deployment or the
                               422 of a CA save. NULL on CA_OK (and only
                               after a memory failure otherwise) */
  const char *result_label; /* static metrics label, never NULL:
                               "ok", "rejected" (4xx/3xx, or refused before
                               sending: bad URL, token, CSR), "throttled"
                               (429), "server_error" (5xx), "timeout",
                               "connect_error" (connection failed or was
                               reset, TLS failure, local failure),
                               "malformed" (a 2xx that is not the documented
                               success, or a reply that is not HTTP) */
  double seconds;           /* wall time of the HTTP exchange, 0 when none */
  char *serial;             /* owned, on CA_OK from ca_issue: the issued
                               certificate's serial, upper-case hex */
  char *certificate_pem;    /* owned, on CA_OK from ca_issue: the leaf (first
                               PEM certificate of the reply), ends in "\n" */
  char *chain_pem;          /* owned, on CA_OK from ca_issue: any further PEM
                               certificates of the reply; NULL when none */
  crypto_cert_info leaf;    /* on CA_OK from ca_issue: certificate_pem, parsed */
} ca_outcome;

/* Initialises libcurl for the process. Call once from the main thread
 * before any other thread exists. 0 on success, -1 on failure. */
int ca_client_global_init(void);

/* Frees what ca_client_global_init set up and the calling thread's cached
 * handle. Call after every thread that used the client has exited (their
 * handles were freed as they exited). Safe without a prior init. */
void ca_client_global_cleanup(void);

/*
 * Checks a CA base URL at save time, without any network access: absolute
 * http or https URL, a host, no user name or password, no query or
 * fragment (the API paths are appended to it), and plain http only for a
 * loopback host (127.0.0.0/8, ::1, localhost). Returns 0 when usable, else
 * -1 and, when err is not NULL, a malloc'd reason in *err (the caller frees
 * it; NULL after a memory failure), e.g. "CA URL \"http://tlm.corp\" uses
 * plain http to a non-loopback host; use https".
 */
int ca_url_check(const char *url, char **err);

/*
 * Validates ca: its URL (ca_url_check), its API token and its profile,
 * which must be reported with "status":"Active". Fills *out (always; any
 * previous content is overwritten, not freed). Returns 0 when out->cls is
 * CA_OK, -1 otherwise. Details: a 401 says the API token was rejected, a
 * 403/404 that the profile is unknown or not allowed, another profile
 * status names it ("profile \"p1\" is Suspended, not Active"); the CA's own
 * error messages are always included. serial/certificate_pem/chain_pem
 * stay NULL and maybe_issued 0.
 */
int ca_validate(const ca_endpoint *ca, ca_outcome *out);

/*
 * Asks ca for a certificate for req. Fills *out (always; any previous
 * content is overwritten, not freed). Returns 0 when out->cls is CA_OK,
 * -1 otherwise. Success requires HTTP 201, "delivery_format":"x509", a
 * non-empty even-length hex "serial_number" equal to the certificate's
 * serial, and a PEM "certificate" whose public key is the CSR's; any
 * further certificates in it (all must parse) become chain_pem. Failure
 * details start with "Couldn't get certificate from <CA name>: " and carry
 * the CA's error messages joined with "; " and the HTTP status.
 */
int ca_issue(const ca_endpoint *ca, const ca_issue_request *req, ca_outcome *out);

/* Frees the owned strings of out and resets it to an empty outcome
 * (cls CA_OK, label "ok", retry_after -1). Accepts NULL. */
void ca_outcome_release(ca_outcome *out);

#endif
