/* ca_issue.c: asking the CA for a certificate (POST /mpki/api/v1/certificate). */
#include "ca_client.h"
#include "ca_reply.h"
#include "ca_request.h"
#include "ca_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ca_issue(const ca_endpoint *ca, const ca_issue_request *req, ca_outcome *out) {
  char *prefix = NULL, *url = NULL, *body = NULL, *err = NULL;
  crypto_csr_info csr;
  ca_issued issued = {0};
  ca_transfer t;

  ca_outcome_init(out);
  memset(&t, 0, sizeof t);
  prefix = ca_request_prefix("get certificate from", ca->name);
  if (prefix == NULL) {
    ca_fail_local(out);
    goto out;
  }
  if (req->csr_pem == NULL || req->common_name == NULL || req->seat_id == NULL) {
    ca_fail(out, CA_PERMANENT, "rejected", "%sthe request lacks a %s", prefix,
            req->csr_pem == NULL       ? "CSR"
            : req->common_name == NULL ? "common name"
                                       : "seat id");
    goto out;
  }
  if (req->csr_pubkey_sha256 != NULL)
    snprintf(csr.pubkey_sha256, sizeof(csr.pubkey_sha256), "%s", req->csr_pubkey_sha256);
  else if (crypto_csr_check(req->csr_pem, &csr, &err) < 0) {
    ca_fail(out, CA_PERMANENT, "rejected", "%sthe CSR is not acceptable: %s", prefix,
            err ? err : "unreadable");
    goto out;
  }
  if (ca_preflight(ca, prefix, out) < 0)
    goto out;
  url = ca_request_url(ca->url, "/mpki/api/v1/certificate", NULL);
  body =
      ca_request_issue_body(ca->profile_id, req->seat_id, req->csr_pem, req->common_name, req->upn);
  if (url == NULL || body == NULL || ca_transfer_run(ca, "POST", url, body, &t) < 0) {
    ca_fail_local(out);
    goto out;
  }
  if (ca_classify(ca, prefix, 1, &t, NULL, out))
    goto out;
  if (t.status != 201) {
    ca_fail(out, CA_PERMANENT, "malformed", "%sthe CA answered HTTP %ld, expected 201", prefix,
            t.status);
    goto out;
  }
  if (ca_reply_check_issued(t.body.data, t.body.len, csr.pubkey_sha256, &issued, &err) < 0) {
    ca_fail(out, CA_PERMANENT, "malformed", "%s%s", prefix, err ? err : "unreadable reply");
    goto out;
  }
  out->serial = issued.serial;
  out->certificate_pem = issued.certificate_pem;
  out->chain_pem = issued.chain_pem;
  out->leaf = issued.leaf;
  memset(&issued, 0, sizeof issued);
  out->cls = CA_OK;
  out->result_label = "ok";
out:
  ca_issued_release(&issued);
  free(err);
  ca_transfer_release(&t);
  free(body);
  free(url);
  free(prefix);
  return out->cls == CA_OK ? 0 : -1;
}
