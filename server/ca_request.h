/*
 * ca_request.h: building DigiCert TLM requests, without any I/O.
 *
 * Used by the CA calls (ca_issue.c, ...). All returned strings are malloc'd and owned by the
 * caller; NULL means memory failure.
 */
#ifndef CERTDEPLOY_CA_REQUEST_H
#define CERTDEPLOY_CA_REQUEST_H

/* "Couldn't <verb> <ca_name>: " ("the CA" when ca_name is NULL or ""). */
char *ca_request_prefix(const char *verb, const char *ca_name);

/*
 * base without its trailing slashes, then path, then segment (may be
 * NULL) percent-encoded except for RFC 3986 unreserved characters:
 * ("https://h/", "/mpki/api/v2/profile/", "a b") gives
 * "https://h/mpki/api/v2/profile/a%20b".
 */
char *ca_request_url(const char *base, const char *path, const char *segment);

/*
 * The compact JSON body of POST /mpki/api/v1/certificate:
 * {"profile":{"id":P},"seat":{"seat_id":S},"delivery_format":"x509",
 *  "csr":PEM,"attributes":{"subject":{"common_name":CN},
 *  "extensions":{"san":{"user_principal_names":[U]}}}}
 * with "extensions" only when upn is neither NULL nor "". Strings must be
 * valid UTF-8 (NULL is returned otherwise).
 */
char *ca_request_issue_body(const char *profile_id, const char *seat_id, const char *csr_pem,
                            const char *common_name, const char *upn);

/* 1 when token can travel in an HTTP header as is (non-empty, visible
 * ASCII only, so no spaces, CR or LF), else 0. */
int ca_request_token_ok(const char *token);

/* 1 when host, as curl's URL parser reports it (IPv6 in brackets), is a
 * loopback name or address: "localhost", 127.0.0.0/8, [::1] or
 * [::ffff:127.x.y.z]; else 0. Other spellings (such as "127.1") are not
 * recognised, so they are treated as remote. */
int ca_request_host_is_loopback(const char *host);

#endif
