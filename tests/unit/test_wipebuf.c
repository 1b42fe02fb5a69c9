/*
 * test_wipebuf.c: lib/wipebuf.c keeps what was appended, NUL-terminated,
 * refuses past its bound without changing anything, and leaves no byte of
 * what it held in the block once cleared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wipebuf.h"

static void appends_grow_and_stay_terminated(void **state) {
  (void)state;
  wipebuf b = {0};
  char chunk[1000];
  memset(chunk, 'x', sizeof(chunk));
  for (int i = 0; i < 20; i++)
    assert_int_equal(wipebuf_append(&b, chunk, sizeof(chunk), 1 << 20), WIPEBUF_OK);
  assert_int_equal(b.len, 20000);
  assert_true(b.cap > b.len);
  assert_int_equal(strlen(b.data), 20000);
  assert_int_equal(wipebuf_append(&b, "end", 3, 1 << 20), WIPEBUF_OK);
  assert_string_equal(b.data + 20000, "end");
  wipebuf_release(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
}

static void past_the_bound_nothing_changes(void **state) {
  (void)state;
  wipebuf b = {0};
  assert_int_equal(wipebuf_append(&b, "0123456789", 10, 16), WIPEBUF_OK);
  assert_int_equal(wipebuf_append(&b, "0123456789", 7, 16), WIPEBUF_TOO_BIG);
  assert_int_equal(b.len, 10);
  assert_string_equal(b.data, "0123456789");
  assert_int_equal(wipebuf_append(&b, "012345", 6, 16), WIPEBUF_OK);
  assert_int_equal(b.len, 16);
  assert_int_equal(wipebuf_append(&b, "x", (size_t)-1, 16), WIPEBUF_TOO_BIG);
  wipebuf_release(&b);
}

static void clear_wipes_every_byte(void **state) {
  (void)state;
  wipebuf b = {0};
  assert_int_equal(wipebuf_append(&b, "secret-token", 12, 4096), WIPEBUF_OK);
  char *block = b.data;
  size_t cap = b.cap;
  wipebuf_clear(&b);
  assert_int_equal(b.len, 0);
  assert_ptr_equal(b.data, block); /* kept for reuse */
  for (size_t i = 0; i < cap; i++)
    assert_int_equal(block[i], 0);
  assert_int_equal(wipebuf_append(&b, "next", 4, 4096), WIPEBUF_OK);
  assert_string_equal(b.data, "next");
  wipebuf_release(&b);
  wipebuf_release(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(appends_grow_and_stay_terminated),
      cmocka_unit_test(past_the_bound_nothing_changes),
      cmocka_unit_test(clear_wipes_every_byte),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
