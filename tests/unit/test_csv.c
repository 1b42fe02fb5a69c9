/* CSV fields and rows (RFC 4180), and the formula guard of csv_text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* The text of one row written with write, as a NUL-terminated string. */
static void row_is(void (*write)(csv_writer *), const char *want) {
  wipebuf b = {0};
  csv_writer w;
  csv_writer_init(&w, &b, 1 << 20);
  write(&w);
  assert_false(w.failed);
  assert_string_equal(b.data, want);
  wipebuf_release(&b);
}

static void plain(csv_writer *w) {
  csv_field(w, "a");
  csv_field(w, "");
  csv_field(w, NULL);
  csv_int(w, -42);
  csv_end_row(w);
}

static void quoted(csv_writer *w) {
  csv_field(w, "Lab, north");
  csv_field(w, "say \"hi\"");
  csv_field(w, "two\nlines");
  csv_field(w, "cr\rhere");
  csv_field(w, " padded ");
  csv_field(w, "\"");
  csv_end_row(w);
  csv_field(w, "second");
  csv_end_row(w);
}

static void guarded(csv_writer *w) {
  csv_text(w, "=1+1");
  csv_text(w, "+44 20");
  csv_text(w, "-5");
  csv_text(w, "@SUM(A1)");
  csv_text(w, "\tx");
  csv_text(w, "=\"a,b\"");
  csv_text(w, "a=b");
  csv_text(w, "");
  csv_field(w, "-5"); /* not text: as it is */
  csv_end_row(w);
}

static void test_plain(void **state) {
  (void)state;
  row_is(plain, "a,,,-42\r\n");
}

static void test_quoted(void **state) {
  (void)state;
  row_is(quoted, "\"Lab, north\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\" padded \","
                 "\"\"\"\"\r\nsecond\r\n");
}

static void test_formula_guard(void **state) {
  (void)state;
  row_is(guarded, "'=1+1,'+44 20,'-5,'@SUM(A1),'\tx,\"'=\"\"a,b\"\"\",a=b,,-5\r\n");
}

static void test_full_buffer_fails(void **state) {
  (void)state;
  wipebuf b = {0};
  csv_writer w;
  csv_writer_init(&w, &b, 8);
  csv_field(&w, "12345");
  csv_field(&w, "67890");
  csv_end_row(&w);
  assert_true(w.failed);
  wipebuf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain),
      cmocka_unit_test(test_quoted),
      cmocka_unit_test(test_formula_guard),
      cmocka_unit_test(test_full_buffer_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
