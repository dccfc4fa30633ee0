/* SPDX-License-Identifier: MIT */
#include "test_main.h"

#include "core/alloc.h"

static void allocator_copy_null_gives_default(void **state)
{
  (void)state;
  smbx_allocator a;
  assert_int_equal(smbx__allocator_copy(&a, NULL), 0);
  assert_ptr_equal(a.alloc, smbx_allocator_default()->alloc);
  void *p = smbx__alloc(&a, 100, 8);
  assert_non_null(p);
  p = smbx__realloc(&a, p, 100, 5000, 8);
  assert_non_null(p);
  smbx__free(&a, p, 5000, 8);
  /* over-aligned blocks take the alloc+copy path */
  void *q = smbx__alloc(&a, 10, 64);
  assert_non_null(q);
  assert_int_equal((uintptr_t)q % 64, 0);
  q = smbx__realloc(&a, q, 10, 200, 64);
  assert_non_null(q);
  assert_int_equal((uintptr_t)q % 64, 0);
  smbx__free(&a, q, 200, 64);
}

static void allocator_copy_rejects_missing_hooks_and_short_struct(void **state)
{
  (void)state;
  smbx_allocator a, src = *smbx_allocator_default();
  src.free = NULL;
  assert_int_equal(smbx__allocator_copy(&a, &src), SMBX_ERR_INVAL);
  src = *smbx_allocator_default();
  src.struct_size = sizeof(size_t);
  assert_int_equal(smbx__allocator_copy(&a, &src), SMBX_ERR_INVAL);
}

static void calloc_rejects_overflow_and_zero_fills(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  assert_null(smbx__calloc(&ta.a, SIZE_MAX / 2, 4, 4));
  assert_int_equal(ta.calls, 0);
  uint32_t *v = smbx__calloc(&ta.a, 16, sizeof *v, _Alignof(uint32_t));
  assert_non_null(v);
  for (int i = 0; i < 16; i++)
    assert_int_equal(v[i], 0);
  smbx__free(&ta.a, v, 16 * sizeof *v, _Alignof(uint32_t));
  assert_int_equal(ta.live, 0);
}

static void realloc_failure_keeps_the_old_block(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  uint8_t *p = smbx__alloc(&ta.a, 4, 1);
  memcpy(p, "abcd", 4);
  test_alloc_fail_nth(&ta, 1);
  assert_null(smbx__realloc(&ta.a, p, 4, 8, 1));
  assert_memory_equal(p, "abcd", 4);
  assert_int_equal(ta.live, 1);
  smbx__free(&ta.a, p, 4, 1);
  assert_int_equal(ta.live, 0);
}

static void test_allocator_fails_exactly_the_nth(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  test_alloc_fail_nth(&ta, 3);
  void *a = smbx__alloc(&ta.a, 1, 1), *b = smbx__alloc(&ta.a, 1, 1);
  void *c = smbx__alloc(&ta.a, 1, 1), *d = smbx__alloc(&ta.a, 1, 1);
  assert_non_null(a);
  assert_non_null(b);
  assert_null(c);
  assert_non_null(d);
  assert_int_equal(ta.live, 3);
  assert_int_equal(ta.failed, 1);
  smbx__free(&ta.a, a, 1, 1);
  smbx__free(&ta.a, b, 1, 1);
  smbx__free(&ta.a, d, 1, 1);
  smbx__free(&ta.a, NULL, 1, 1);
  assert_int_equal(ta.live, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(allocator_copy_null_gives_default),
    cmocka_unit_test(allocator_copy_rejects_missing_hooks_and_short_struct),
    cmocka_unit_test(calloc_rejects_overflow_and_zero_fills),
    cmocka_unit_test(realloc_failure_keeps_the_old_block),
    cmocka_unit_test(test_allocator_fails_exactly_the_nth),
  };
  return RUN_TESTS(tests);
}
