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

/* A caller compiled against a newer, larger smbx_allocator: the known
 * fields are copied, struct_size becomes ours, realloc may be NULL. */
static void allocator_copy_accepts_larger_struct_and_null_realloc(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  struct {
    smbx_allocator a;
    uint64_t newer_field;
  } big;
  memset(&big, 0, sizeof big);
  big.a = ta.a;
  big.a.struct_size = sizeof big;
  big.a.realloc = NULL;
  big.newer_field = 7;
  smbx_allocator a;
  assert_int_equal(smbx__allocator_copy(&a, &big.a), 0);
  assert_int_equal(a.struct_size, sizeof(smbx_allocator));
  assert_ptr_equal(a.alloc, ta.a.alloc);
  assert_ptr_equal(a.free, ta.a.free);
  assert_null(a.realloc);
  assert_ptr_equal(a.user_data, &ta);
  smbx_allocator no_alloc = ta.a;
  no_alloc.alloc = NULL;
  assert_int_equal(smbx__allocator_copy(&a, &no_alloc), SMBX_ERR_INVAL);
}

/* Without a realloc hook, smbx__realloc is alloc + copy + free: it copies
 * min(old, new) bytes, frees the old block with its own size, and on
 * failure keeps the old block. A NULL pointer is a plain alloc. */
static void realloc_without_hook_copies_and_frees(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx_allocator a = ta.a;
  a.realloc = NULL;
  uint8_t *p = smbx__realloc(&a, NULL, 0, 6, 2);
  assert_non_null(p);
  assert_int_equal(ta.live, 1);
  memcpy(p, "abcdef", 6);
  p = smbx__realloc(&a, p, 6, 10, 2); /* grow */
  assert_non_null(p);
  assert_memory_equal(p, "abcdef", 6);
  assert_int_equal(ta.live, 1);
  assert_int_equal(ta.live_bytes, 10);
  p = smbx__realloc(&a, p, 10, 3, 2); /* shrink */
  assert_non_null(p);
  assert_memory_equal(p, "abc", 3);
  assert_int_equal(ta.live_bytes, 3);
  test_alloc_fail_nth(&ta, 1);
  assert_null(smbx__realloc(&a, p, 3, 50, 2));
  assert_memory_equal(p, "abc", 3);
  assert_int_equal(ta.live, 1);
  smbx__free(&a, p, 3, 2);
  assert_int_equal(ta.live, 0);
}

typedef struct pair {
  uint64_t x;
  uint32_t y;
} pair;

static void new_and_delete_macros_zero_and_size(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pair *p = SMBX__NEW(&ta.a, pair);
  assert_non_null(p);
  assert_int_equal(p->x, 0);
  assert_int_equal(p->y, 0);
  assert_int_equal(ta.live_bytes, sizeof(pair));
  assert_int_equal((uintptr_t)p % _Alignof(pair), 0);
  SMBX__DELETE(&ta.a, p, pair); /* the test allocator checks size/align */
  assert_int_equal(ta.live, 0);
  test_alloc_fail_nth(&ta, 1);
  assert_null(SMBX__NEW(&ta.a, pair));
  assert_int_equal(ta.live, 0);
}

static void calloc_zero_count_or_size(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  void *p = smbx__calloc(&ta.a, 0, 8, 8);
  void *q = smbx__calloc(&ta.a, 8, 0, 8);
  assert_int_equal(ta.calls, 2);
  smbx__free(&ta.a, p, 0, 8);
  smbx__free(&ta.a, q, 0, 8);
  assert_int_equal(ta.live, 0);
  /* the largest product that fits is not an overflow */
  test_alloc_fail_nth(&ta, 1);
  assert_null(smbx__calloc(&ta.a, SIZE_MAX / 8, 8, 8));
  assert_int_equal(ta.failed, 1); /* reached the allocator */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(allocator_copy_null_gives_default),
    cmocka_unit_test(allocator_copy_rejects_missing_hooks_and_short_struct),
    cmocka_unit_test(calloc_rejects_overflow_and_zero_fills),
    cmocka_unit_test(realloc_failure_keeps_the_old_block),
    cmocka_unit_test(test_allocator_fails_exactly_the_nth),
    cmocka_unit_test(allocator_copy_accepts_larger_struct_and_null_realloc),
    cmocka_unit_test(realloc_without_hook_copies_and_frees),
    cmocka_unit_test(new_and_delete_macros_zero_and_size),
    cmocka_unit_test(calloc_zero_count_or_size),
  };
  return RUN_TESTS(tests);
}
