/*
 * test_wipebuf.c: lib/wipebuf.c keeps what was appended, NUL-terminated,
 * refuses past its bound without changing anything, and leaves no byte of
 * what it held in a block it gives up: not when it grows, not when it is
 * cleared or released.
 *
 * The binary is linked with --wrap=free (Makefile), so every free() of
 * wipebuf.c comes through wrap_free() below, which looks at the block
 * being freed while it still may be read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wipebuf.h"

/* ---- watching a block until it is freed ---------------------------------- */

void __real_free(void *p);
void __wrap_free(void *p);

static struct {
  const unsigned char *block; /* the block watched, NULL for none */
  size_t len;                 /* how much of it must be zero when freed */
  int freed;                  /* it was freed */
  int wiped;                  /* every one of its len bytes was zero then */
} watch;

static void watch_block(const void *block, size_t len) {
  watch.block = block;
  watch.len = len;
  watch.freed = watch.wiped = 0;
}

void __wrap_free(void *p) {
  if (p != NULL && p == watch.block) {
    watch.freed = 1;
    watch.wiped = 1;
    for (size_t i = 0; i < watch.len; i++)
      if (watch.block[i] != 0)
        watch.wiped = 0;
    watch.block = NULL;
  }
  __real_free(p);
}

/* ---- tests ------------------------------------------------------------------ */

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
  assert_int_equal(wipebuf_reserve(&b, 1, 16), WIPEBUF_TOO_BIG);
  assert_int_equal(wipebuf_reserve(&b, (size_t)-1, (size_t)-1), WIPEBUF_TOO_BIG);
  assert_int_equal(wipebuf_reserve(&b, (size_t)-1 - 16, (size_t)-1), WIPEBUF_NO_MEMORY);
  assert_int_equal(b.len, 16);
  assert_string_equal(b.data, "0123456789012345");
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

/* The old block is wiped whole before it is freed: a realloc would have
 * left the secret in freed memory (server/ca_client.c's reply did). */
static void growth_wipes_the_old_block(void **state) {
  (void)state;
  wipebuf b = {0};
  char secret[WIPEBUF_MIN_CAP - 1];
  memset(secret, 'S', sizeof(secret));
  assert_int_equal(wipebuf_append(&b, secret, sizeof(secret), 1 << 20), WIPEBUF_OK);
  assert_int_equal(b.cap, WIPEBUF_MIN_CAP); /* full, NUL included */
  char *old = b.data;
  watch_block(old, WIPEBUF_MIN_CAP);
  assert_int_equal(wipebuf_append(&b, "!", 1, 1 << 20), WIPEBUF_OK);
  assert_true(b.data != old);
  assert_true(watch.freed);
  assert_true(watch.wiped);
  assert_int_equal(b.cap, 2 * WIPEBUF_MIN_CAP);
  assert_int_equal(b.len, sizeof(secret) + 1);
  assert_memory_equal(b.data, secret, sizeof(secret));
  assert_string_equal(b.data + sizeof(secret), "!");

  /* releasing wipes the last block as well */
  watch_block(b.data, b.cap);
  wipebuf_release(&b);
  assert_true(watch.freed);
  assert_true(watch.wiped);
}

static void reserve_makes_room_and_keeps_content(void **state) {
  (void)state;
  wipebuf b = {0};
  assert_int_equal(wipebuf_reserve(&b, 10, 100), WIPEBUF_OK);
  assert_non_null(b.data);
  assert_string_equal(b.data, ""); /* usable as text at once */
  assert_int_equal(b.cap, WIPEBUF_MIN_CAP);
  assert_int_equal(wipebuf_append(&b, "abc", 3, 100), WIPEBUF_OK);
  char *block = b.data;
  assert_int_equal(wipebuf_reserve(&b, 5000, 1 << 20), WIPEBUF_OK);
  assert_true(b.cap >= 3 + 5000 + 1);
  assert_true(b.data != block);
  assert_string_equal(b.data, "abc");
  block = b.data;
  /* appends within what was reserved never move the block */
  for (int i = 0; i < 50; i++)
    assert_int_equal(wipebuf_append(&b, "0123456789", 10, 1 << 20), WIPEBUF_OK);
  assert_ptr_equal(b.data, block);
  assert_int_equal(b.len, 503);
  wipebuf_release(&b);
}

static void detach_hands_over_the_text(void **state) {
  (void)state;
  wipebuf b = {0};
  size_t len = 99;
  assert_int_equal(wipebuf_append(&b, "{\"token\":", 9, 100), WIPEBUF_OK);
  assert_int_equal(wipebuf_append(&b, "\"t\"}", 4, 100), WIPEBUF_OK);
  char *block = b.data;
  char *text = wipebuf_detach(&b, &len);
  assert_ptr_equal(text, block); /* no copy left behind */
  assert_string_equal(text, "{\"token\":\"t\"}");
  assert_int_equal(len, 13);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  free(text);

  /* nothing appended: the empty string, still the caller's to free */
  text = wipebuf_detach(&b, NULL);
  assert_non_null(text);
  assert_string_equal(text, "");
  assert_null(b.data);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(appends_grow_and_stay_terminated),
      cmocka_unit_test(past_the_bound_nothing_changes),
      cmocka_unit_test(clear_wipes_every_byte),
      cmocka_unit_test(growth_wipes_the_old_block),
      cmocka_unit_test(reserve_makes_room_and_keeps_content),
      cmocka_unit_test(detach_hands_over_the_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
