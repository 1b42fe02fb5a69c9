/*
 * json_wipe.h: wipe secrets that jansson holds before it frees them.
 *
 * Request and reply JSON carries secrets (device and API tokens, enroll
 * secrets, CA API tokens, PKCS#12 passwords and files). Two ways to wipe:
 * - json_wipe_install() routes every jansson allocation through a free that
 *   zeroes the block, including jansson's internal buffers (the parser's
 *   token buffer, json_dumps' growing buffer). certdeployd and the agent
 *   both do this, first thing in main.
 * - json_wipe_decref() wipes the string values a json_decref() is about to
 *   free, and only those: a string or container that something else still
 *   references (refcount above 1) is left alone. Code that frees secrets
 *   calls it, so they are wiped even where the allocator is not
 *   installed (a test, a library user); once it is, the walk is skipped.
 */
#ifndef CERTDEPLOY_JSON_WIPE_H
#define CERTDEPLOY_JSON_WIPE_H

#include <jansson.h>

/* Installs the wiping allocator. Call once at start, before any JSON
 * value exists (jansson requires it). */
void json_wipe_install(void);

/* Wipes and frees a malloc'd block of unknown size (the allocator knows
 * it): memory allocated by jansson, such as the text json_dumps() returns,
 * or any other malloc'd buffer. Accepts NULL. */
void json_wipe_free(void *p);

/* Zeroes, in place, the bytes of every string value that a json_decref(v)
 * would free now: v itself when its refcount is 1, and, inside such
 * objects and arrays, each member whose own refcount is 1. Object keys are
 * left alone. The wiped strings stay valid (all zero bytes, same length)
 * until freed. Accepts NULL. */
void json_wipe_values(json_t *v);

/* json_wipe_values(v), then json_decref(v); only json_decref(v) once
 * json_wipe_install() has run, as its free wipes the same bytes. Accepts
 * NULL. */
void json_wipe_decref(json_t *v);

#endif
