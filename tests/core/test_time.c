/* SPDX-License-Identifier: MIT */
/* lib/core/time.h: constants and saturating deadline arithmetic. */
#include "test_main.h"

#include "core/time.h"

static void time_constants(void **state)
{
  (void)state;
  assert_int_equal(SMBX__NS_PER_US, 1000);
  assert_int_equal(SMBX__NS_PER_MS, 1000 * SMBX__NS_PER_US);
  assert_int_equal(SMBX__NS_PER_S, 1000 * SMBX__NS_PER_MS);
  assert_true(SMBX__NO_DEADLINE == UINT64_MAX);
}

static void time_deadline_add_plain_and_saturating(void **state)
{
  (void)state;
  assert_int_equal(smbx__deadline_add(0, 0), 0);
  assert_int_equal(smbx__deadline_add(5, 7), 12);
  assert_int_equal(smbx__deadline_add(1000, 120 * SMBX__NS_PER_S),
                   1000 + 120 * SMBX__NS_PER_S);
  /* exactly reaching UINT64_MAX - 1 is fine */
  assert_true(smbx__deadline_add(UINT64_MAX - 11, 10) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(UINT64_MAX - 12, 10) == UINT64_MAX - 2);
  /* one more would read as "no deadline": clamped */
  assert_true(smbx__deadline_add(UINT64_MAX - 10, 10) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(UINT64_MAX - 1, 0) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(UINT64_MAX, 0) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(1, UINT64_MAX) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(0, UINT64_MAX - 1) == UINT64_MAX - 1);
  assert_true(smbx__deadline_add(0, UINT64_MAX - 2) == UINT64_MAX - 2);
}

static void time_deadline_min_and_passed(void **state)
{
  (void)state;
  assert_int_equal(smbx__deadline_min(3, 9), 3);
  assert_int_equal(smbx__deadline_min(9, 3), 3);
  assert_int_equal(smbx__deadline_min(SMBX__NO_DEADLINE, 42), 42);
  assert_true(smbx__deadline_min(SMBX__NO_DEADLINE, SMBX__NO_DEADLINE) ==
              SMBX__NO_DEADLINE);
  assert_false(smbx__deadline_passed(99, 100));
  assert_true(smbx__deadline_passed(100, 100));
  assert_true(smbx__deadline_passed(101, 100));
  assert_false(smbx__deadline_passed(UINT64_MAX, SMBX__NO_DEADLINE));
  assert_true(smbx__deadline_passed(UINT64_MAX, UINT64_MAX - 1));
}

static void time_deadline_left(void **state)
{
  (void)state;
  assert_int_equal(smbx__deadline_left(10, 25), 15);
  assert_int_equal(smbx__deadline_left(25, 25), 0);
  assert_int_equal(smbx__deadline_left(30, 25), 0);
  assert_true(smbx__deadline_left(0, SMBX__NO_DEADLINE) == UINT64_MAX);
  assert_true(smbx__deadline_left(0, UINT64_MAX - 1) == UINT64_MAX - 1);
}

static void time_unit_conversions_saturate(void **state)
{
  (void)state;
  assert_int_equal(smbx__ns_from_ms(0), 0);
  assert_int_equal(smbx__ns_from_ms(5000), 5 * SMBX__NS_PER_S);
  assert_int_equal(smbx__ns_from_s(120), 120 * SMBX__NS_PER_S);
  uint64_t max_s = UINT64_MAX / SMBX__NS_PER_S;
  assert_true(smbx__ns_from_s(max_s) == max_s * SMBX__NS_PER_S);
  assert_true(smbx__ns_from_s(max_s + 1) == UINT64_MAX);
  assert_true(smbx__ns_from_ms(UINT64_MAX) == UINT64_MAX);
  assert_int_equal(smbx__ns_mul(7, 0), 0);
  assert_true(smbx__ns_mul(UINT64_MAX, 1) == UINT64_MAX);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(time_constants),
    cmocka_unit_test(time_deadline_add_plain_and_saturating),
    cmocka_unit_test(time_deadline_min_and_passed),
    cmocka_unit_test(time_deadline_left),
    cmocka_unit_test(time_unit_conversions_saturate),
  };
  return RUN_TESTS(tests);
}
