/*
 * fuzz_cursor: the ?cursor= decoding of list endpoints (server/page.c).
 *
 * page_from_request() reads the cursor through request_query(), which
 * only http.c implements, on a live libmicrohttpd connection; so this
 * harness includes page.c itself to reach its static decode_cursor() with
 * the cursor text, and links the rest of the server unchanged (nothing is
 * stubbed, nothing new is exported).
 *
 * Checked besides memory safety: an accepted cursor gives a non-empty key
 * without a newline that fits after_key and an id that is a UUID; a
 * decoded cursor encodes (page_cursor) and decodes back to itself; and a
 * cursor the server gives out for any key that fits is one it accepts
 * back.
 */
#include "fuzz_util.h"

#include "../../server/page.c"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void check_page(const page *pg) {
  size_t klen = strnlen(pg->after_key, sizeof pg->after_key);
  FUZZ_CHECK(klen > 0 && klen < sizeof pg->after_key);
  FUZZ_CHECK(strchr(pg->after_key, '\n') == NULL);
  FUZZ_CHECK(uuid_valid(pg->after_id));
  FUZZ_CHECK(page_key(pg) == pg->after_key && page_id(pg) == pg->after_id);
}

/* page_cursor() of (key, id), decoded again: 0 with *pg set, or -1. */
static int trip(const char *key, const char *id, page *pg) {
  json_t *cursor = page_cursor(key, id);
  int rc = -1;
  FUZZ_CHECK(cursor != NULL);
  memset(pg, 0, sizeof *pg);
  if (json_is_string(cursor))
    rc = decode_cursor(json_string_value(cursor), pg);
  json_decref(cursor);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *hex = fuzz_cstring(data, size);
  page pg, again;

  memset(&pg, 0, sizeof pg);
  if (decode_cursor(hex, &pg) == 0) {
    check_page(&pg);
    FUZZ_CHECK(trip(pg.after_key, pg.after_id, &again) == 0);
    FUZZ_CHECK(strcmp(again.after_key, pg.after_key) == 0);
    FUZZ_CHECK(strcmp(again.after_id, pg.after_id) == 0);
  }

  /* The input as a sort key: the server must take back the cursor it gives
   * out for any key of the shapes it sorts by (timestamps and sequence
   * numbers, key_valid() in page.c); forged shapes are refused. */
  const char *key = hex;
  size_t klen = strlen(key);
  if (klen > 0 && klen < sizeof pg.after_key && strchr(key, '\n') == NULL && key_valid(key)) {
    FUZZ_CHECK(trip(key, "3f2b6c1e-8d4a-4b7e-9c21-5a6f0e1d2c3b", &again) == 0);
    FUZZ_CHECK(strcmp(again.after_key, key) == 0);
  }
  free(hex);
  return 0;
}
