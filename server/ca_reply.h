/*
 * ca_reply.h: reading DigiCert TLM reply bodies, without any I/O.
 *
 * Used by the CA calls (ca_validate.c, ca_issue.c); separate so the checks of what a CA answered
 * can be read (and tested) apart from the transport. Texts returned are malloc'd, owned by the
 * caller, single-line and valid UTF-8 (control characters become spaces, bytes that are not UTF-8
 * become '?').
 */
#ifndef CERTDEPLOY_CA_REPLY_H
#define CERTDEPLOY_CA_REPLY_H

#include "crypto.h"

#include <stddef.h>

/* Longest excerpt of a non-JSON body quoted in a detail. */
#define CA_REPLY_EXCERPT_BYTES 120

/*
 * Describes an error reply for a detail: the "message" of each object in
 * {"errors":[{"code":..,"message":..}]} (its "code" when it has no
 * message) joined with "; "; else, for a body that is not such JSON, a
 * quoted, cleaned excerpt ("non-JSON body \"<html>Bad gateway...\""), or
 * "empty body". NULL only on memory failure.
 */
char *ca_reply_error_text(const char *body, size_t len);

/*
 * Reads a profile reply (GET /mpki/api/v2/profile/{id}, HTTP 200): stores
 * its "status" string (malloc'd, cleaned) in *status and returns 0; returns
 * -1 with *err (malloc'd) when the body is not a JSON object with a string
 * "status". *status / *err are NULL on the other path.
 */
int ca_reply_profile_status(const char *body, size_t len, char **status, char **err);

/* The certificate a successful issue reply carried. */
typedef struct ca_issued {
  char *serial;          /* upper-case hex, from the certificate */
  char *certificate_pem; /* the first certificate, ending in "\n" */
  char *chain_pem;       /* further certificates, or NULL */
  crypto_cert_info leaf; /* the first certificate, parsed */
} ca_issued;

/*
 * Checks a 201 body of POST /mpki/api/v1/certificate against the request:
 * a JSON object with "delivery_format":"x509", a non-empty even-length hex
 * "serial_number" naming the same serial as the certificate (case and
 * leading zero bytes aside), and a "certificate" holding one or more PEM
 * certificates, all parseable, the first with the public key whose
 * SubjectPublicKeyInfo SHA-256 is csr_pubkey_sha256. Returns 0 and fills
 * *issued (free with ca_issued_release); else -1 with a precise *err
 * (malloc'd), e.g. "CA reply had delivery_format \"pkcs7\", expected
 * \"x509\"". *issued is left empty on failure.
 */
int ca_reply_check_issued(const char *body, size_t len, const char *csr_pubkey_sha256,
                          ca_issued *issued, char **err);

/* Frees the members of issued and NULLs them. Accepts NULL. */
void ca_issued_release(ca_issued *issued);

/*
 * Copies at most max bytes of text (len bytes, not NUL-terminated) into a
 * malloc'd single-line string: control characters become spaces, bytes
 * that are not part of valid UTF-8 become '?', and a cut never splits a
 * character. "..." is appended when text was cut. NULL on memory failure.
 */
char *ca_reply_clean(const char *text, size_t len, size_t max);

#endif
