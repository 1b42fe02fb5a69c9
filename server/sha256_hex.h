/*
 * sha256_hex.h: a SHA-256 digest as hex text, as devices send it.
 */
#ifndef CERTDEPLOY_SHA256_HEX_H
#define CERTDEPLOY_SHA256_HEX_H

/* 1 when s is 64 hex digits (a SHA-256), then written in lower case into
 * out; 0 otherwise (out untouched). */
int sha256_hex_normal(const char *s, char out[65]);

#endif
