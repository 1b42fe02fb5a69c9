/* $DEVICE_* template validation and expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ca_template.h"

static const ca_template_vars vars = {
    .device_serial = "C02XK1",
    .device_name = "alice-mbp",
    .device_id = "6f1c0b1e-8d5a-4c3e-9b7a-2f4e1d0c9b8a",
};

/* Expands tmpl, expects success and the text want. */
static void expect_expansion(const char *tmpl, const char *want) {
  char *out = NULL;
  char *unknown = NULL;
  if (ca_template_expand(tmpl, &vars, &out, &unknown) != 0)
    fail_msg("expanding \"%s\" failed (unknown %s)", tmpl, unknown ? unknown : "(none)");
  assert_null(unknown);
  assert_string_equal(out, want);
  assert_int_equal(ca_template_validate(tmpl, NULL), 0);
  free(out);
}

/* Expects validate and expand to refuse tmpl, naming want_name. */
static void expect_unknown(const char *tmpl, const char *want_name) {
  char *out = NULL;
  char *unknown = NULL;
  assert_int_equal(ca_template_validate(tmpl, &unknown), -1);
  assert_non_null(unknown);
  assert_string_equal(unknown, want_name);
  free(unknown);
  unknown = NULL;
  assert_int_equal(ca_template_expand(tmpl, &vars, &out, &unknown), -1);
  assert_null(out);
  assert_non_null(unknown);
  assert_string_equal(unknown, want_name);
  free(unknown);
}

static void test_each_variable(void **state) {
  (void)state;
  expect_expansion("$DEVICE_SERIAL", "C02XK1");
  expect_expansion("$DEVICE_NAME", "alice-mbp");
  expect_expansion("$DEVICE_ID", "6f1c0b1e-8d5a-4c3e-9b7a-2f4e1d0c9b8a");
  expect_expansion("$DEVICE_NAME@corp.example", "alice-mbp@corp.example");
  expect_expansion("dev-$DEVICE_SERIAL.corp", "dev-C02XK1.corp");
}

static void test_plain_and_empty(void **state) {
  (void)state;
  expect_expansion("", "");
  expect_expansion("static-cn", "static-cn");
  expect_expansion(NULL, "");
}

static void test_repeated_and_mixed(void **state) {
  (void)state;
  expect_expansion("$DEVICE_SERIAL-$DEVICE_SERIAL", "C02XK1-C02XK1");
  expect_expansion("$DEVICE_NAME/$DEVICE_SERIAL/$DEVICE_ID",
                   "alice-mbp/C02XK1/6f1c0b1e-8d5a-4c3e-9b7a-2f4e1d0c9b8a");
}

static void test_dollar_escape(void **state) {
  (void)state;
  expect_expansion("cost$$", "cost$");
  expect_expansion("$$DEVICE_NAME", "$DEVICE_NAME");
  expect_expansion("$$$DEVICE_NAME", "$alice-mbp");
}

static void test_values_not_reexpanded(void **state) {
  ca_template_vars tricky = {.device_serial = "$DEVICE_NAME", .device_name = "x"};
  char *out = NULL;
  (void)state;
  assert_int_equal(ca_template_expand("$DEVICE_SERIAL", &tricky, &out, NULL), 0);
  assert_string_equal(out, "$DEVICE_NAME");
  free(out);
}

static void test_missing_values_expand_empty(void **state) {
  ca_template_vars none = {0};
  char *out = NULL;
  (void)state;
  assert_int_equal(ca_template_expand("[$DEVICE_NAME]", &none, &out, NULL), 0);
  assert_string_equal(out, "[]");
  free(out);
}

static void test_unknown_variables(void **state) {
  (void)state;
  expect_unknown("$DEVICE_MAC", "$DEVICE_MAC");
  expect_unknown("cn-$FOO-x", "$FOO");
  expect_unknown("$DEVICE_IDX", "$DEVICE_IDX");
  expect_unknown("$device_id", "$device_id");
  expect_unknown("$DEVICE_NAME $OTHER $THIRD", "$OTHER");
}

static void test_lone_dollar(void **state) {
  (void)state;
  expect_unknown("price$", "$");
  expect_unknown("$", "$");
  expect_unknown("${DEVICE_ID}", "$");
  expect_unknown("a $ b", "$");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_variable),
      cmocka_unit_test(test_plain_and_empty),
      cmocka_unit_test(test_repeated_and_mixed),
      cmocka_unit_test(test_dollar_escape),
      cmocka_unit_test(test_values_not_reexpanded),
      cmocka_unit_test(test_missing_values_expand_empty),
      cmocka_unit_test(test_unknown_variables),
      cmocka_unit_test(test_lone_dollar),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
