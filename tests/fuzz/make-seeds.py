#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (how they were made).

    python3 tests/fuzz/make-seeds.py

Keys and certificates are fresh each run (openssl CLI), so the output
differs from what is checked in; rerun only to change the seeds, and
commit the result. Not run by the tests.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
UUID = "3f2b6c1e-8d4a-4b7e-9c21-5a6f0e1d2c3b"
UUID2 = "9a7c0d52-1e36-4f0b-8b4d-2c5e7f913a60"
SHA = "5f1d3c8a9e2b47f6a0c4d8e1b3f5a7c9e2d4f6a8b0c1d3e5f7a9b2c4d6e8f0a1"
tmp = tempfile.mkdtemp(prefix="certdeploy-seeds.")


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, check=True,
                          capture_output=True).stdout


def path(name):
    return os.path.join(tmp, name)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


def key(name, *genpkey_args):
    openssl("genpkey", *genpkey_args, "-out", path(name))
    return path(name)


def csr(keyfile, subj, *extra):
    return openssl("req", "-new", "-key", keyfile, "-subj", subj, "-sha256", *extra)


def pem_der(pem):
    lines = pem.decode().strip().splitlines()
    return lines[0], base64.b64decode("".join(lines[1:-1])), lines[-1]


def der_pem(head, der, tail):
    b64 = base64.b64encode(der).decode()
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f"{head}\n{body}\n{tail}\n".encode()


def flip(pem, offset_from_end):
    head, der, tail = pem_der(pem)
    der = bytearray(der)
    der[len(der) - offset_from_end] ^= 0x01
    return der_pem(head, bytes(der), tail)


def replace_in_der(pem, old, new):
    head, der, tail = pem_der(pem)
    assert old in der and len(old) == len(new)
    return der_pem(head, der.replace(old, new, 1), tail)


# ---- hand-built DER, for names openssl's CLI refuses to write ----------
def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(size)]) + size
    return bytes([tag]) + head + content


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([parts[0] * 40 + parts[1]])
    for v in parts[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, out)


def cn_name(value):
    """A Name of one CN in a UTF8String, of any length or content."""
    return tlv(0x30, tlv(0x31, tlv(0x30, oid("2.5.4.3") + tlv(0x0C, value))))


ECDSA_SHA256 = tlv(0x30, oid("1.2.840.10045.4.3.2"))


def signed(keyfile, tbs):
    with open(path("tbs.der"), "wb") as f:
        f.write(tbs)
    sig = openssl("dgst", "-sha256", "-sign", keyfile, "-binary", path("tbs.der"))
    return tlv(0x30, tbs + ECDSA_SHA256 + tlv(0x03, b"\x00" + sig))


def spki(keyfile):
    return openssl("pkey", "-in", keyfile, "-pubout", "-outform", "DER")


def der_csr(keyfile, cn):
    """A correctly self-signed CSR (EC key) with subject CN=cn."""
    info = tlv(0x30, tlv(0x02, b"\x00") + cn_name(cn) + spki(keyfile) + tlv(0xA0, b""))
    return der_pem("-----BEGIN CERTIFICATE REQUEST-----", signed(keyfile, info),
                   "-----END CERTIFICATE REQUEST-----")


def der_cert(keyfile, cn):
    """A correctly self-signed certificate (EC key) with subject and issuer CN=cn."""
    validity = tlv(0x30, tlv(0x17, b"260101000000Z") + tlv(0x17, b"270101000000Z"))
    tbs = tlv(0x30, tlv(0xA0, tlv(0x02, b"\x02")) + tlv(0x02, b"\x01\x23") + ECDSA_SHA256 +
              cn_name(cn) + validity + cn_name(cn) + spki(keyfile))
    return der_pem("-----BEGIN CERTIFICATE-----", signed(keyfile, tbs),
                   "-----END CERTIFICATE-----")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(obj):
    return json.dumps(obj, ensure_ascii=False)


def main():
    for t in ("fuzz_json_body", "fuzz_csr", "fuzz_cert", "fuzz_ca_reply",
              "fuzz_template", "fuzz_cursor"):
        shutil.rmtree(os.path.join(ROOT, t), ignore_errors=True)

    # ---- keys and CSRs ---------------------------------------------------
    rsa2048 = key("rsa2048.key", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    rsa1024 = key("rsa1024.key", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")
    rsa4096 = key("rsa4096.key", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096")
    p256 = key("p256.key", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    p384 = key("p384.key", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
    p521 = key("p521.key", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521")
    k1 = key("k1.key", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1")
    ed = key("ed.key", "-algorithm", "ED25519")
    explicit = path("explicit.key")
    openssl("ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey",
            "-noout", "-out", explicit)

    cn = "/CN=SN-0042"
    csr_rsa = csr(rsa2048, cn)
    csr_ec = csr(p256, "/CN=lab-pc-01.example.com")
    write("fuzz_csr", "rsa2048.pem", csr_rsa)
    write("fuzz_csr", "ec-p256.pem", csr_ec)
    write("fuzz_csr", "ec-p384.pem", csr(p384, cn))
    write("fuzz_csr", "ec-p521.pem", csr(p521, cn))
    write("fuzz_csr", "rsa4096-san.pem",
          csr(rsa4096, "/C=DE/O=Example GmbH/CN=SN-0042",
              "-addext", "subjectAltName=DNS:lab-pc-01.example.com,IP:10.0.0.7"))
    write("fuzz_csr", "weak-rsa1024.pem", csr(rsa1024, cn))
    write("fuzz_csr", "weak-secp256k1.pem", csr(k1, cn))
    write("fuzz_csr", "weak-ed25519.pem", openssl("req", "-new", "-key", ed, "-subj", cn))
    write("fuzz_csr", "weak-explicit-curve.pem", csr(explicit, cn))
    write("fuzz_csr", "no-subject.pem", csr(p256, "/"))
    write("fuzz_csr", "utf8-cn.pem", csr(p256, "/CN=Büro Köln ☃", "-utf8"))
    write("fuzz_csr", "two-cns.pem", csr(p256, "/CN=first/CN=second"))
    write("fuzz_csr", "cn-255-bytes.pem", der_csr(p256, b"c" * 255))
    write("fuzz_csr", "cn-too-long.pem", der_csr(p256, b"c" * 300))
    write("fuzz_csr", "cn-with-nul.pem", der_csr(p256, b"SN\x00-0042"))
    write("fuzz_csr", "tampered-signature.pem", flip(csr_ec, 3))
    write("fuzz_csr", "tampered-cn.pem", replace_in_der(csr_rsa, b"SN-0042", b"SN-0043"))
    write("fuzz_csr", "truncated.pem", csr_ec[: len(csr_ec) // 2])
    write("fuzz_csr", "crlf.pem", csr_ec.replace(b"\n", b"\r\n"))
    write("fuzz_csr", "new-header.pem",
          csr_ec.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"))
    write("fuzz_csr", "garbage-before.pem", b"subject=CN = SN-0042\n" + csr_rsa)
    write("fuzz_csr", "not-base64.pem",
          b"-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n")
    write("fuzz_csr", "empty.pem", b"")

    # ---- certificates ----------------------------------------------------
    def selfsigned(keyfile, subj, *extra):
        return openssl("req", "-x509", "-new", "-key", keyfile, "-subj", subj, "-sha256",
                       *extra)

    ca_pem = selfsigned(p384, "/O=Example/CN=Example Issuing CA", "-days", "3650")
    with open(path("ca.pem"), "wb") as f:
        f.write(ca_pem)

    def leaf(csr_pem, serial, days="365"):
        with open(path("leaf.csr"), "wb") as f:
            f.write(csr_pem)
        return openssl("x509", "-req", "-in", path("leaf.csr"), "-CA", path("ca.pem"),
                       "-CAkey", p384, "-set_serial", serial, "-days", days, "-sha256")

    leaf_ec = leaf(csr_ec, "0x5A3C0F17E2B94D8610C7")
    leaf_highbit = leaf(csr_ec, "0xC3A1F00D4B2E6C5A")  # DER keeps a leading 00
    leaf_rsa = leaf(csr_rsa, "0x" + "7F" * 20)  # the longest serial RFC 5280 allows
    write("fuzz_cert", "ec-leaf.pem", leaf_ec)
    write("fuzz_cert", "rsa-leaf-20-byte-serial.pem", leaf_rsa)
    write("fuzz_cert", "serial-high-bit.pem", leaf_highbit)
    write("fuzz_cert", "serial-zero.pem", selfsigned(p256, "/CN=zero", "-set_serial", "0"))
    write("fuzz_cert", "ca-p384.pem", ca_pem)
    write("fuzz_cert", "leaf-and-chain.pem", leaf_ec + ca_pem)
    write("fuzz_cert", "no-cn.pem", selfsigned(p256, "/O=Example/OU=Devices"))
    write("fuzz_cert", "utf8-cn.pem", selfsigned(p256, "/CN=Büro Köln ☃", "-utf8"))
    write("fuzz_cert", "generalized-time-2070.pem", selfsigned(p256, "/CN=late", "-days", "17000"))
    write("fuzz_cert", "ed25519.pem", selfsigned(ed, "/CN=ed"))
    write("fuzz_cert", "cn-too-long.pem", der_cert(p256, b"c" * 300))
    write("fuzz_cert", "cn-with-nul.pem", der_cert(p256, b"SN\x00-0042"))
    write("fuzz_cert", "crlf.pem", leaf_ec.replace(b"\n", b"\r\n"))
    write("fuzz_cert", "tampered.pem", flip(leaf_ec, 40))
    write("fuzz_cert", "truncated.pem", leaf_ec[:300])
    write("fuzz_cert", "trusted-header.pem",
          leaf_ec.replace(b"CERTIFICATE", b"TRUSTED CERTIFICATE"))
    write("fuzz_cert", "csr-not-cert.pem", csr_ec)
    write("fuzz_cert", "empty.pem", b"")

    # ---- DigiCert TLM replies --------------------------------------------
    def serial_of(pem):
        return openssl("x509", "-noout", "-serial", stdin=pem).decode().strip().split("=")[1]

    s_ec = serial_of(leaf_ec)
    s_hb = serial_of(leaf_highbit)

    def issued(serial, cert, fmt="x509"):
        return js({"serial_number": serial, "delivery_format": fmt,
                   "certificate": cert.decode()})

    write("fuzz_ca_reply", "issued.json", issued(s_ec, leaf_ec))
    write("fuzz_ca_reply", "issued-with-chain.json", issued(s_ec, leaf_ec + ca_pem))
    write("fuzz_ca_reply", "issued-sign-byte.json", issued("00" + s_hb, leaf_highbit))
    write("fuzz_ca_reply", "issued-lower-case.json", issued(s_ec.lower(), leaf_ec))
    write("fuzz_ca_reply", "issued-serial-mismatch.json", issued("0A" + s_ec[2:], leaf_ec))
    write("fuzz_ca_reply", "issued-odd-serial.json", issued(s_ec[1:], leaf_ec))
    write("fuzz_ca_reply", "issued-pkcs7.json", issued(s_ec, leaf_ec, "pkcs7"))
    write("fuzz_ca_reply", "issued-no-end-line.json",
          issued(s_ec, leaf_ec.replace(b"-----END CERTIFICATE-----", b"")))
    write("fuzz_ca_reply", "issued-bad-chain.json", issued(s_ec, leaf_ec + leaf_ec[:200]
                                                          + b"-----END CERTIFICATE-----\n"))
    write("fuzz_ca_reply", "issued-no-certificate.json",
          js({"serial_number": s_ec, "delivery_format": "x509"}))
    write("fuzz_ca_reply", "error-invalid-api-key.json",
          js({"errors": [{"code": "invalid_api_key", "message": "Invalid API key"}]}))
    write("fuzz_ca_reply", "error-validation.json", js({"errors": [
        {"code": "invalid_input", "field": "seat.seat_id", "message": "Seat ID is required"},
        {"code": "invalid_input", "message": "Common name \u00e9 exceeds 64 characters\n"}]}))
    write("fuzz_ca_reply", "error-many.json", js({"errors": [
        {"code": f"e{i}", "message": f"problem {i}"} for i in range(13)]}))
    write("fuzz_ca_reply", "error-code-only.json",
          js({"errors": [{"code": "profile_not_found"}, {"message": "", "code": "c2"}]}))
    write("fuzz_ca_reply", "error-top-message.json",
          js({"message": "Too many requests", "retry_after": 30}))
    write("fuzz_ca_reply", "error-html-502.html",
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
          "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
    write("fuzz_ca_reply", "error-not-utf8.txt", b"upstream said \xff\xfe\xc3( \xed\xa0\x80 bye")
    write("fuzz_ca_reply", "profile-active.json", js({
        "id": "IOT_bd7b5a1e-2e52-4c7e-a5f1-2a0cf5a4e3b1", "name": "Device client auth",
        "status": "Active", "certificate_type": "PRIVATE_SSL",
        "enrollment_method": "REST_API", "authentication_method": "3RD_PARTY_APP"}))
    write("fuzz_ca_reply", "profile-disabled.json", js({"id": "p1", "status": "Disabled"}))
    write("fuzz_ca_reply", "profile-no-status.json", js({"id": "p1"}))
    write("fuzz_ca_reply", "profile-status-number.json", js({"id": "p1", "status": 1}))
    write("fuzz_ca_reply", "duplicate-keys.json", '{"status":"Active","status":"Disabled"}')
    write("fuzz_ca_reply", "array.json", '[{"errors":[]}]')
    write("fuzz_ca_reply", "empty.txt", b"")

    # ---- request bodies --------------------------------------------------
    body = {
        "enroll.json": {"enroll_secret": "cde_q3Zk9vPpWm1xT0rL7sYb2nHf4cJd8gAe", "serial":
                        "SN-0042", "name": "lab-pc-01"},
        "enroll-minimal.json": {"enroll_secret": "cde_x", "serial": "SN-1"},
        "enroll-no-serial.json": {"enroll_secret": "cde_x"},
        "enroll-unknown-field.json": {"enroll_secret": "cde_x", "serial": "1", "mac": "x"},
        "enroll-null-name.json": {"enroll_secret": "cde_x", "serial": "1", "name": None},
        "enroll-long-name.json": {"enroll_secret": "cde_x", "serial": "1", "name": "n" * 129},
        "enroll-empty-serial.json": {"enroll_secret": "cde_x", "serial": ""},
        "csr.json": {"generation": 3, "csr": csr_ec.decode()},
        "csr-generation-string.json": {"generation": "3", "csr": "x"},
        "ack-installed.json": {"generation": 3, "result": "installed", "sha256": SHA},
        "ack-error.json": {"generation": 4, "result": "error",
                           "detail": "certutil: -importPFX failed 0x80092004 (-2146885628)"},
        "checkin.json": {"installed": [{"profile_id": UUID, "sha256": SHA}]},
        "checkin-empty.json": {},
        "checkin-bad-items.json": {"installed": [1, {"profile_id": None}, {"sha256": SHA}]},
        "profile-create.json": {
            "name": "Device client auth", "ca_id": UUID, "common_name": "$DEVICE_SERIAL",
            "user_principal_names": ["$DEVICE_NAME@example.com"], "seat_id": "$DEVICE_ID",
            "key_mode": "device", "renew_before_days": 30, "assign_all": True},
        "profile-patch.json": {"renew_before_days": None, "assign_all": False},
        "profile-bool-as-int.json": {"name": "p", "assign_all": 1},
        "ca-create.json": {
            "name": "DigiCert TLM", "type": "digicert", "url": "https://one.digicert.com",
            "api_token": "01e615c60f4e874a1a6b2e3c4d5f6a7b8_9c0d1e2f3a4b5c6d",
            "profile_id": "IOT_bd7b5a1e-2e52-4c7e-a5f1-2a0cf5a4e3b1",
            "ca_certificate": ca_pem.decode()},
        "assignments.json": {"device_ids": [UUID, UUID2]},
        "assignments-all.json": {"all": True},
        "enroll-secret.json": {"name": "Lab rollout — Köln ☃"},
        "token.json": {"name": "ci", "role": "admin"},
        "resend.json": {"status": "failed"},
    }
    for name, obj in body.items():
        write("fuzz_json_body", name, js(obj))
    raw = {
        "empty.json": b"",
        "array.json": b"[]",
        "null.json": b"null",
        "truncated.json": b'{"serial":"SN-',
        "trailing.json": b'{"serial":"1"}}',
        "duplicate-key.json": b'{"serial":"a","serial":"b","enroll_secret":"x"}',
        "escaped-nul.json": b'{"name":"a\\u0000b"}',
        "lone-surrogate.json": b'{"name":"\\ud800"}',
        "not-utf8.json": b'{"name":"\xff\xfe"}',
        "bom.json": b'\xef\xbb\xbf{"name":"x"}',
        "huge-int.json": b'{"generation":99999999999999999999999,"csr":"x"}',
        "float.json": b'{"generation":3.0,"csr":"x"}',
        "deep.json": b'{"installed":' + b"[" * 200 + b"]" * 200 + b"}",
        "uuid.txt": UUID.encode(),
        "uuid-upper.txt": UUID.upper().encode(),
        "uuid-no-dashes.txt": UUID.replace("-", "").encode(),
    }
    for name, data in raw.items():
        write("fuzz_json_body", name, data)

    # ---- templates -------------------------------------------------------
    templates = {
        "serial.txt": "$DEVICE_SERIAL",
        "cn.txt": "CN=$DEVICE_NAME,O=Example",
        "upn.txt": "$DEVICE_NAME@corp.example.com",
        "all.txt": "$DEVICE_ID/$DEVICE_SERIAL/$DEVICE_NAME",
        "dollar.txt": "cost $$5",
        "lone-dollar.txt": "trailing $",
        "braces.txt": "${DEVICE_ID}",
        "longer-name.txt": "$DEVICE_IDX",
        "lower-case.txt": "$device_serial",
        "unknown.txt": "$DEVICE_MAC",
        "adjacent.txt": "$DEVICE_SERIAL$DEVICE_NAME$$$DEVICE_ID",
        "utf8.txt": "Büro-$DEVICE_SERIAL-☃",
        "plain.txt": "static-common-name",
        "empty.txt": "",
    }
    for name, text in templates.items():
        write("fuzz_template", name, text)

    # ---- cursors ---------------------------------------------------------
    def cursor(raw_text):
        return raw_text.encode().hex()

    cursors = {
        "created-at.txt": cursor(f"2026-11-23T18:00:00.123456Z\n{UUID}"),
        "event-id.txt": cursor(f"1234567\n{UUID2}"),
        "upper-hex.txt": cursor(f"2026-11-23T18:00:00.000001Z\n{UUID}").upper(),
        "odd-length.txt": cursor(f"1\n{UUID}")[:-1],
        "no-newline.txt": cursor("2026-11-23T18:00:00Z"),
        "empty-key.txt": cursor(f"\n{UUID}"),
        "bad-id.txt": cursor("1\nnot-a-uuid"),
        "nul-after-id.txt": cursor(f"1\n{UUID}") + "00" + cursor("tail"),
        "too-long.txt": cursor("k" * 200 + f"\n{UUID}"),
        "not-hex.txt": "zz" * 20,
    }
    for name, text in cursors.items():
        write("fuzz_cursor", name, text)

    shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
