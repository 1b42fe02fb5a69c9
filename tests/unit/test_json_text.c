/*
 * test_json_text.c: json_text() and the writer write the same bytes as
 * jansson's json_dumps(v, JSON_COMPACT) for every kind of value a reply
 * may hold (server/json_text.c).
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
      ("{\"profiles\":[{\"profile_id\":\"40e7672b-1bd0-433d-a50b-b2efa353a16a\",\"generation\":3,"
       "\"action\":\"none\",\"common_name\":\"dev-1.example.com\"}]}"),
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

/* An entry written piece by piece, with fields added from an object, is
 * the text of the same object built whole; the writer grows past its
 * first buffer on the way. */
static void pieces_match_the_whole(void **state) {
  (void)state;
  char big[3000];
  memset(big, 'k', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  json_t *extra = json_pack("{s:s, s:s}", "certificate", big, "pkcs12_password", "p\"w");
  json_t *whole = json_pack("{s:s, s:i, s:s, s:s}", "profile_id", "id-1", "generation", -7,
                            "action", "install", "common_name", "caf\u00e9\n");
  assert_non_null(extra);
  assert_non_null(whole);
  json_object_update(whole, extra);

  json_writer w;
  json_writer_init(&w);
  json_write_raw(&w, "{\"profile_id\":", 14);
  json_write_string(&w, "id-1");
  json_write_raw(&w, ",\"generation\":", 14);
  json_write_int(&w, -7);
  json_write_raw(&w, ",\"action\":", 10);
  json_write_string(&w, "install");
  json_write_raw(&w, ",\"common_name\":", 15);
  json_write_string(&w, "caf\u00e9\n");
  json_write_members(&w, extra);
  json_write_raw(&w, "}", 1);
  size_t len = 0;
  char *ours = json_writer_finish(&w, &len);
  char *theirs = json_dumps(whole, JSON_COMPACT);
  assert_non_null(ours);
  assert_string_equal(ours, theirs);
  assert_int_equal(len, strlen(theirs));
  assert_null(json_writer_finish(&w, &len)); /* finished: nothing left */
  json_writer_discard(&w);                   /* and safe to discard */
  free(ours);
  free(theirs);
  json_decref(extra);
  json_decref(whole);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(documents_match),
      cmocka_unit_test(every_control_byte_matches),
      cmocka_unit_test(large_bodies_match),
      cmocka_unit_test(pieces_match_the_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
