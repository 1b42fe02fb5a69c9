/*
 * test_json_wipe.c: secrets held by jansson are wiped before they are freed
 * (lib/json_wipe.c), and replies wipe what they free without touching JSON
 * that something else still holds (server/reply.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json_wipe.h"
#include "reply.h"

/* 1 when the n bytes at p are all zero. */
static int all_zero(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

/* A parsed request body: every string it alone holds is zeroed in place,
 * at every depth; numbers, booleans and keys are left alone. */
static void wipes_every_string_a_body_holds(void **state) {
  (void)state;
  json_t *body = json_loads("{\"api_token\":\"tok-secret-1\",\"nested\":{\"password\":\"pw-2\"},"
                            "\"list\":[\"item-3\",{\"k\":\"deep-4\"}],\"n\":3,\"ok\":true}",
                            JSON_REJECT_DUPLICATES, NULL);
  assert_non_null(body);
  json_t *strings[] = {
      json_object_get(body, "api_token"),
      json_object_get(json_object_get(body, "nested"), "password"),
      json_array_get(json_object_get(body, "list"), 0),
      json_object_get(json_array_get(json_object_get(body, "list"), 1), "k"),
  };
  const size_t lengths[] = {12, 4, 6, 6};
  json_wipe_values(body);
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
    assert_int_equal(json_string_length(strings[i]), lengths[i]);
    assert_true(all_zero(json_string_value(strings[i]), lengths[i]));
  }
  assert_int_equal(json_integer_value(json_object_get(body, "n")), 3);
  assert_true(json_is_true(json_object_get(body, "ok")));
  assert_non_null(json_object_get(body, "api_token")); /* keys stay */
  json_decref(body);
}

/* What another reference keeps alive is not freed by this decref: it must
 * come out intact, whether a string or a container. */
static void leaves_what_others_still_hold(void **state) {
  (void)state;
  json_t *kept = json_string("still-needed");
  json_t *list = json_pack("[s]", "in-a-kept-list");
  json_t *gone = json_pack("{s:O, s:O, s:s}", "kept", kept, "list", list, "gone", "wiped");
  json_t *gone_str = json_object_get(gone, "gone");
  json_wipe_values(gone);
  assert_true(all_zero(json_string_value(gone_str), 5));
  json_decref(gone);
  assert_string_equal(json_string_value(kept), "still-needed");
  assert_string_equal(json_string_value(json_array_get(list, 0)), "in-a-kept-list");
  json_wipe_decref(kept);
  json_wipe_decref(list);
  /* singletons (refcount -1) and NULL are no-ops */
  json_wipe_values(json_true());
  json_wipe_values(json_null());
  json_wipe_values(NULL);
  json_wipe_decref(NULL);
  json_wipe_free(NULL);
}

/* The check-in pattern: a reply borrows ("O") a list the handler still
 * holds. The reply's body has the secret; the handler's list is intact
 * until the handler wipes it itself. */
static void a_reply_keeps_borrowed_json_and_wipes_its_own(void **state) {
  (void)state;
  reply rep;
  memset(&rep, 0, sizeof(rep));
  json_t *profiles = json_pack("[{s:s}]", "pkcs12_password", "pw-in-profiles");
  reply_json(&rep, 200, json_pack("{s:O, s:s}", "profiles", profiles, "token", "cdt_new"));
  assert_int_equal(rep.status, 200);
  assert_non_null(strstr(rep.body, "pw-in-profiles"));
  assert_non_null(strstr(rep.body, "cdt_new"));
  json_t *pw = json_object_get(json_array_get(profiles, 0), "pkcs12_password");
  assert_string_equal(json_string_value(pw), "pw-in-profiles");
  json_wipe_values(profiles);
  assert_true(all_zero(json_string_value(pw), 14));
  json_decref(profiles);
  /* a body handed to the transport is freed (and wiped) without its length */
  char *taken = rep.body;
  rep.body = NULL;
  reply_body_free(taken);
  reply_release(&rep);
  assert_null(rep.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wipes_every_string_a_body_holds),
      cmocka_unit_test(leaves_what_others_still_hold),
      cmocka_unit_test(a_reply_keeps_borrowed_json_and_wipes_its_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
