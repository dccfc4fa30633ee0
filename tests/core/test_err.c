/* SPDX-License-Identifier: MIT */
#include "test_main.h"

#include <smbx/smbx.h>

static const int known[] = {
  SMBX_OK, SMBX_ERR_INVAL, SMBX_ERR_NOMEM, SMBX_ERR_NOBUF, SMBX_ERR_AGAIN,
  SMBX_ERR_STATE, SMBX_ERR_RANGE, SMBX_ERR_NOTFOUND, SMBX_ERR_EXISTS,
  SMBX_ERR_LIMIT, SMBX_ERR_UNSUPPORTED, SMBX_ERR_DECODE, SMBX_ERR_ENCODING,
  SMBX_ERR_AUTH,
  SMBX_ERR_FATAL, SMBX_ERR_PROTO, SMBX_ERR_TRANSPORT, SMBX_ERR_TIMEOUT,
  SMBX_ERR_CLOSED, SMBX_ERR_NEGOTIATE,
};

static void strerror_every_known_code_has_distinct_text_and_name(void **state)
{
  (void)state;
  size_t n = sizeof known / sizeof known[0];
  for (size_t i = 0; i < n; i++) {
    const char *t = smbx_strerror(known[i]);
    const char *nm = smbx_strerror_name(known[i]);
    assert_non_null(t);
    assert_non_null(nm);
    assert_string_not_equal(nm, "SMBX_ERR_UNKNOWN");
    assert_true(strncmp(nm, "SMBX_", 5) == 0);
    for (size_t j = 0; j < i; j++) {
      assert_string_not_equal(t, smbx_strerror(known[j]));
      assert_string_not_equal(nm, smbx_strerror_name(known[j]));
    }
  }
}

static void strerror_never_null_for_any_int(void **state)
{
  (void)state;
  static const int odd[] = {INT32_MIN, -99999, -1000, -101 - 50, -50, 7, INT32_MAX};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    assert_non_null(smbx_strerror(odd[i]));
    assert_string_equal(smbx_strerror_name(odd[i]), "SMBX_ERR_UNKNOWN");
  }
  assert_string_equal(smbx_strerror(-5000), "unknown fatal error");
  assert_string_equal(smbx_strerror(-50), "unknown error");
}

static void fatal_codes_sort_below_the_boundary(void **state)
{
  (void)state;
  assert_true(SMBX_ERR_PROTO < SMBX_ERR_FATAL);
  assert_true(SMBX_ERR_TRANSPORT < SMBX_ERR_FATAL);
  assert_true(SMBX_ERR_TIMEOUT < SMBX_ERR_FATAL);
  assert_true(SMBX_ERR_CLOSED < SMBX_ERR_FATAL);
  assert_true(SMBX_ERR_NEGOTIATE < SMBX_ERR_FATAL);
  assert_true(SMBX_ERR_ENCODING > SMBX_ERR_FATAL);
}

static void version_matches_headers(void **state)
{
  (void)state;
  assert_string_equal(smbx_version(), SMBX_VERSION_STRING);
  assert_int_equal(smbx_version_num(), SMBX_VERSION_NUM);
  assert_int_equal(smbx_version_num() >> 16, SMBX_VERSION_MAJOR);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(strerror_every_known_code_has_distinct_text_and_name),
    cmocka_unit_test(strerror_never_null_for_any_int),
    cmocka_unit_test(fatal_codes_sort_below_the_boundary),
    cmocka_unit_test(version_matches_headers),
  };
  return RUN_TESTS(tests);
}
