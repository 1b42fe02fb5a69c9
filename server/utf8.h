/*
 * utf8.h: well-formed UTF-8, as JSON needs it.
 */
#ifndef CERTDEPLOY_UTF8_H
#define CERTDEPLOY_UTF8_H

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or bytes past
 * U+10FFFF). */
int utf8_valid(const char *s);

/* Replaces every byte of s that is not part of a well-formed UTF-8
 * sequence with '?', in place, so the text can go into JSON. */
void utf8_scrub(char *s);

#endif
