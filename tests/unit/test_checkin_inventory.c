/*
 * test_checkin_inventory.c: the check-in body's scanner accepts only what
 * the jansson path accepts, with the same items, and takes the common
 * shape itself (server/checkin_inventory.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkin_inventory.h"
#include "reply.h"

#define ID1 "40e7672b-1bd0-433d-a50b-b2efa353a16a"
#define ID2 "af3a94c7-062a-4123-8296-14aae79803c5"
#define SHA1 "12772e98a4a308d7266082a23710291b9a820d9f14c6ba29b878b6550aac9e61"
#define SHA2 "609E2DB3FBA679FB67A85B17CC76CF788747646B6DEA08F78D42EF486F792998"

/* The jansson path's answer for body: 0 with its items, or -1 (a 400). */
static int parse(const char *body, size_t len, inventory *out) {
  request req;
  reply rep;
  memset(&req, 0, sizeof(req));
  memset(&rep, 0, sizeof(rep));
  req.body = body;
  req.body_len = len;
  int rc = checkin_inventory_parse(&req, &rep, out);
  assert_int_equal(rc == 0 ? 0 : rep.status, rc == 0 ? 0 : 400);
  reply_release(&rep);
  return rc;
}

/* Whatever the scanner takes, the jansson path takes too, item for item.
 * Returns what the scanner did (1 read, 0 left to jansson). */
static int agrees(const char *body, size_t len) {
  inventory fast = {NULL, 0}, slow = {NULL, 0};
  int scanned = checkin_inventory_scan(body, len, &fast);
  assert_true(scanned >= 0);
  int parsed = parse(body, len, &slow);
  if (scanned) {
    assert_int_equal(parsed, 0);
    assert_int_equal(fast.count, slow.count);
    for (size_t i = 0; i < fast.count; i++) {
      assert_string_equal(fast.items[i].profile_id, slow.items[i].profile_id);
      assert_string_equal(fast.items[i].sha256, slow.items[i].sha256);
    }
  }
  inventory_release(&fast);
  inventory_release(&slow);
  return scanned;
}

static int agrees_str(const char *body) {
  return agrees(body, strlen(body));
}

/* What agents send: the scanner reads it, hashes in lower case. */
static void the_common_shape_is_scanned(void **state) {
  (void)state;
  const char *body = "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"sha256\":\"" SHA1 "\"},"
                     "{\"sha256\":\"" SHA2 "\",\"profile_id\":\"" ID2 "\"}]}";
  inventory inv = {NULL, 0};
  assert_int_equal(checkin_inventory_scan(body, strlen(body), &inv), 1);
  assert_int_equal(inv.count, 2);
  assert_string_equal(inv.items[0].profile_id, ID1);
  assert_string_equal(inv.items[0].sha256, SHA1);
  assert_string_equal(inv.items[1].profile_id, ID2);
  assert_memory_equal(inv.items[1].sha256, "609e2db3fba679fb", 16);
  inventory_release(&inv);
  assert_int_equal(agrees_str(body), 1);
  assert_int_equal(agrees_str(" \n{ \"installed\" :\t[ ] }\r\n"), 1);
  assert_int_equal(
      agrees_str("{\"installed\": [ {\"profile_id\": \"x\", \"sha256\": \"" SHA1 "\"} ] }"), 1);
}

/* Valid bodies outside the shape go to jansson, which decides. */
static void other_valid_bodies_go_to_jansson(void **state) {
  (void)state;
  const char *bodies[] = {
      "",
      "{}",
      "{\"installed\":null}",
      "{\"installed\":[{\"profile_id\":\"\\u0034" ID1 "\",\"sha256\":\"" SHA1 "\"}]}",
      "{\"installed\":[{\"profile_id\":\"caf\xc3\xa9\",\"sha256\":\"" SHA1 "\"}]}",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    assert_int_equal(agrees_str(bodies[i]), 0);
    inventory inv = {NULL, 0};
    assert_int_equal(parse(bodies[i], strlen(bodies[i]), &inv), 0);
    inventory_release(&inv);
  }
}

/* Bodies that must be refused: the scanner leaves each to jansson. */
static void refused_bodies_are_not_scanned(void **state) {
  (void)state;
  const char *bodies[] = {
      "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"profile_id\":\"" ID2 "\"}]}",
      "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"sha256\":\"" SHA1 "\",\"x\":1}]}",
      "{\"installed\":[{\"profile_id\":\"" ID1 "\"}]}",
      "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"sha256\":\"abc\"}]}",
      "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"sha256\":\"" SHA1 "\"},]}",
      "{\"installed\":[{\"profile_id\":\"\",\"sha256\":\"" SHA1 "\"}]}",
      "{\"installed\":[{\"profile_id\":\"" ID1 ID1 "\",\"sha256\":\"" SHA1 "\"}]}",
      "{\"installed\":[],\"installed\":[]}",
      "{\"installed\":[]} x",
      "{\"installed\":[]",
      "{\"installed\":{}}",
      "[]",
      "{\"installed\":[\"" SHA1 "\"]}",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    assert_int_equal(agrees_str(bodies[i]), 0);
    inventory inv = {NULL, 0};
    assert_int_equal(parse(bodies[i], strlen(bodies[i]), &inv), -1);
  }
}

/* At most INVENTORY_MAX items: one more is left to jansson's refusal. */
static void over_the_item_limit_is_not_scanned(void **state) {
  (void)state;
  const char *item = "{\"profile_id\":\"" ID1 "\",\"sha256\":\"" SHA1 "\"}";
  size_t ilen = strlen(item), cap = (INVENTORY_MAX + 1) * (ilen + 1) + 32;
  char *body = malloc(cap);
  assert_non_null(body);
  for (int n = INVENTORY_MAX; n <= INVENTORY_MAX + 1; n++) {
    size_t len = (size_t)snprintf(body, cap, "{\"installed\":[");
    for (int i = 0; i < n; i++)
      len += (size_t)snprintf(body + len, cap - len, "%s%s", i ? "," : "", item);
    len += (size_t)snprintf(body + len, cap - len, "]}");
    assert_int_equal(agrees(body, len), n == INVENTORY_MAX);
  }
  free(body);
}

/* Thousands of one- and two-byte changes to the common shape: whatever
 * the scanner still takes, jansson takes the same way. */
static void mutations_never_disagree(void **state) {
  (void)state;
  const char *base = "{\"installed\":[{\"profile_id\":\"" ID1 "\",\"sha256\":\"" SHA1 "\"},"
                     "{\"sha256\":\"" SHA2 "\",\"profile_id\":\"" ID2 "\"}]}";
  static const char alphabet[] = "{}[]\",: \\\t\n0aAfFgz\x01\x7f\xc3";
  size_t len = strlen(base);
  char body[512];
  unsigned int seed = 12345, scanned = 0;
  for (int round = 0; round < 20000; round++) {
    memcpy(body, base, len);
    size_t blen = len;
    for (int k = 0; k < 1 + round % 2; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % blen;
      char c = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
      if ((seed >> 4) % 3 == 0 && blen > 1) { /* delete */
        memmove(body + at, body + at + 1, blen - at - 1);
        blen--;
      } else if ((seed >> 4) % 3 == 1) { /* insert */
        memmove(body + at + 1, body + at, blen - at);
        body[at] = c;
        blen++;
      } else {
        body[at] = c;
      }
    }
    scanned += (unsigned int)agrees(body, blen);
  }
  assert_true(scanned > 0); /* some mutations keep the shape (hex case, say) */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_common_shape_is_scanned),
      cmocka_unit_test(other_valid_bodies_go_to_jansson),
      cmocka_unit_test(refused_bodies_are_not_scanned),
      cmocka_unit_test(over_the_item_limit_is_not_scanned),
      cmocka_unit_test(mutations_never_disagree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
