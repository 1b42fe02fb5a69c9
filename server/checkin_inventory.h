/*
 * checkin_inventory.h: the body of a device check-in, read into C.
 *
 *   {"installed":[{"profile_id":"<id>","sha256":"<64 hex>"}, ...]}
 *
 * The check-in is the busiest request, and jansson's parser is a noticeable
 * part of its cost (BENCHMARKS.md): its lexer copies the text one byte at a
 * time, and builds a hash table per object. So a body of exactly this
 * shape, with plain ASCII strings (what every agent sends), is read by a
 * scanner that accepts nothing else; any other body, valid or not, goes
 * through jansson and body_fields(), which are the authority on what is
 * accepted and on every error message. The scanner only ever accepts a body
 * that path would accept, with the same items
 * (tests/unit/test_checkin_inventory.c compares both).
 */
#ifndef CERTDEPLOY_CHECKIN_INVENTORY_H
#define CERTDEPLOY_CHECKIN_INVENTORY_H

#include <stddef.h>

#include "request.h"

#define INVENTORY_MAX 1000

typedef struct inventory_item {
  char profile_id[65]; /* as sent, 1 to 64 bytes (matched against ids, not checked) */
  char sha256[65];     /* 64 hex digits, lower case */
} inventory_item;

typedef struct inventory {
  inventory_item *items; /* malloc'd, count of them, in the body's order */
  size_t count;
} inventory;

/* Reads req's body (an empty one is no items). Returns 0, or -1 with rep
 * set to 400 naming the field at fault. Free with inventory_release(). */
int checkin_inventory_read(const request *req, reply *rep, inventory *out);

/* The two paths checkin_inventory_read() takes, for the test. The
 * scanner: 1 when it read body into *out, 0 when it leaves body to
 * jansson (*out untouched), -1 out of memory. The general path: as
 * checkin_inventory_read(). */
int checkin_inventory_scan(const char *body, size_t len, inventory *out);
int checkin_inventory_parse(const request *req, reply *rep, inventory *out);

void inventory_release(inventory *inv);

#endif
