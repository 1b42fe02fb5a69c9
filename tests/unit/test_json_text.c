/*
 * test_json_text.c: json_text() writes the same bytes as jansson's
 * json_dumps(v, JSON_COMPACT) for every kind of value a reply may hold
 * (server/json_text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json_text.h"

/* json_text(v) is byte for byte json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY). */
static void same_as_jansson(json_t *v) {
  size_t len = 0;
  char *ours = json_text(v, &len);
  char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  assert_non_null(ours);
  assert_non_null(theirs);
  assert_int_equal(len, strlen(theirs));
  assert_memory_equal(ours, theirs, len + 1);
  free(ours);
  free(theirs);
}

static void documents_match(void **state) {
  (void)state;
  static const char *docs[] = {
      "{}",
      "[]",
      "{\"a\":{},\"b\":[],\"c\":[[]],\"d\":[{}]}",
      "{\"profiles\":[{\"profile_id\":\"40e7672b-1bd0-433d-a50b-b2efa353a16a\",\"generation\":3,"
      "\"action\":\"none\",\"common_name\":\"dev-1.example.com\"}]}",
      "[true,false,null,0,-1,9223372036854775807,-9223372036854775808]",
      "[1.5,-0.0,1e300,2.5e-10,100.0,0.1]",
      "{\"z\":1,\"a\":2,\"m\":3}", /* insertion order, not sorted */
      "{\"quote\\\"key\":\"back\\\\slash\",\"ctl\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"}",
      "[\"caf\\u00e9\",\"\\u20ac\",\"\\ud83d\\ude00\",\"\\u2028\",\"a/b\"]",
      "\"a string alone\"",
      "42",
      "null",
      "[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]",
  };
  for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
    json_error_t err;
    json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &err);
    assert_non_null(v);
    same_as_jansson(v);
    json_decref(v);
  }
}

/* Every byte below 0x20, and a NUL inside a string. */
static void every_control_byte_matches(void **state) {
  (void)state;
  char s[40];
  for (int c = 1; c < 0x20; c++)
    s[c - 1] = (char)c;
  memcpy(s + 31, "x\0y", 3);
  json_t *v = json_pack("{s:s#}", "bytes", s, (int)sizeof(s) - 6);
  assert_non_null(v);
  same_as_jansson(v);
  json_decref(v);
}

/* A body far over the first buffer (a PKCS#12 in base64, say), with
 * escapes on both sides of each growth. */
static void large_bodies_match(void **state) {
  (void)state;
  size_t n = 300 * 1000;
  char *big = malloc(n + 1);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++)
    big[i] = i % 97 == 0 ? '\n' : i % 89 == 0 ? '"' : (char)('A' + i % 26);
  big[n] = '\0';
  json_t *v = json_pack("{s:s, s:[s, s]}", "pkcs12", big, "more", big, "tail");
  assert_non_null(v);
  same_as_jansson(v);
  json_decref(v);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(documents_match),
      cmocka_unit_test(every_control_byte_matches),
      cmocka_unit_test(large_bodies_match),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
