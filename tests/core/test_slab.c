/* SPDX-License-Identifier: MIT */
/* lib/core/slab: exhaustion, LIFO reuse, index/pointer/handle mapping,
 * stale handles, double put, foreign pointers, allocation failure. */
#include "test_main.h"

#include "core/slab.h"

typedef struct obj {
  uint64_t a;
  uint32_t b;
  uint8_t c;
} obj; /* 16 bytes, align 8 */

static void slab_init_rejects_bad_arguments(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(smbx__slab_init(NULL, &ta.a, 8, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, NULL, 8, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 0, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 8, 8, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 8, 0, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 8, 3, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 8, 128, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, 8, 8, UINT32_MAX),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_init(&s, &ta.a, SIZE_MAX - 2, 8, 4),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx__slab_init(&s, &ta.a, SIZE_MAX / 4, 8, 8),
                   SMBX_ERR_RANGE);
  assert_int_equal(ta.calls, 0);
  /* the failed pool is empty and inert */
  assert_null(smbx__slab_get(&s));
  assert_null(smbx__slab_get_zeroed(&s));
  assert_null(smbx__slab_at(&s, 0));
  assert_null(smbx__slab_lookup(&s, 1ull << 32));
  int x;
  assert_int_equal(smbx__slab_put(&s, &x), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_index(&s, &x), SIZE_MAX);
  assert_int_equal(smbx__slab_live(&s), 0);
  assert_int_equal(smbx__slab_cap(&s), 0);
  smbx__slab_free(&s);
  smbx__slab_free(&s);
}

static void slab_fresh_pool_hands_out_in_index_order(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 5), 0);
  assert_int_equal(ta.total, 1); /* one block */
  assert_int_equal(smbx__slab_cap(&s), 5);
  obj *o[5];
  for (size_t i = 0; i < 5; i++) {
    o[i] = smbx__slab_get(&s);
    assert_non_null(o[i]);
    assert_int_equal((uintptr_t)o[i] % _Alignof(obj), 0);
    assert_int_equal(smbx__slab_index(&s, o[i]), i);
    assert_ptr_equal(smbx__slab_at(&s, i), o[i]);
    assert_int_equal(smbx__slab_live(&s), i + 1);
    o[i]->a = i;
    o[i]->b = (uint32_t)i;
    o[i]->c = (uint8_t)i;
  }
  /* exhausted */
  assert_null(smbx__slab_get(&s));
  assert_null(smbx__slab_get_zeroed(&s));
  assert_int_equal(smbx__slab_live(&s), 5);
  /* objects do not overlap */
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(o[i]->a, i);
    assert_int_equal(o[i]->c, i);
  }
  assert_int_equal(ta.calls, 1); /* get never allocates */
  smbx__slab_free(&s);
  assert_int_equal(ta.live, 0);
}

static void slab_put_reuses_last_in_first_out(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 4), 0);
  obj *o[4];
  for (int i = 0; i < 4; i++)
    o[i] = smbx__slab_get(&s);
  assert_int_equal(smbx__slab_put(&s, o[1]), 0);
  assert_int_equal(smbx__slab_put(&s, o[3]), 0);
  assert_int_equal(smbx__slab_live(&s), 2);
  assert_null(smbx__slab_at(&s, 1));
  assert_null(smbx__slab_at(&s, 3));
  assert_ptr_equal(smbx__slab_at(&s, 2), o[2]);
  /* the pool never touches object bytes: a live neighbour is intact and
   * the freed object keeps its contents until reused */
  o[2]->a = 0x1111;
  o[3]->a = 0x3333;
  assert_ptr_equal(smbx__slab_get(&s), o[3]);
  assert_int_equal(o[3]->a, 0x3333);
  obj *z = smbx__slab_get_zeroed(&s);
  assert_ptr_equal(z, o[1]);
  assert_int_equal(z->a, 0);
  assert_int_equal(z->b, 0);
  assert_int_equal(z->c, 0);
  assert_int_equal(o[2]->a, 0x1111);
  assert_null(smbx__slab_get(&s));
  smbx__slab_free(&s);
  assert_int_equal(ta.live, 0);
}

static void slab_capacity_one(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(smbx__slab_init(&s, &ta.a, 1, 1, 1), 0);
  uint64_t prev = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t *p = smbx__slab_get(&s);
    assert_non_null(p);
    assert_null(smbx__slab_get(&s));
    uint64_t hd = smbx__slab_handle(&s, p);
    assert_int_equal(hd & UINT32_MAX, 0);
    assert_true(hd != prev);
    assert_ptr_equal(smbx__slab_lookup(&s, hd), p);
    if (prev)
      assert_null(smbx__slab_lookup(&s, prev));
    prev = hd;
    assert_int_equal(smbx__slab_put(&s, p), 0);
    assert_int_equal(smbx__slab_live(&s), 0);
  }
  smbx__slab_free(&s);
  assert_int_equal(ta.live, 0);
}

/* A handle dies with its object: lookups and puts by a stale handle fail
 * after the put and after the slot is reused. Handle 0 is never valid. */
static void slab_stale_handles_rejected(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 3), 0);
  obj *a = smbx__slab_get(&s);
  uint64_t ha = smbx__slab_handle(&s, a);
  assert_true(ha != 0);
  assert_int_equal(ha & UINT32_MAX, 0);
  assert_int_equal(ha >> 32, 1); /* first generation: 1 (odd = live) */
  assert_ptr_equal(smbx__slab_lookup(&s, ha), a);
  assert_true(smbx__slab_is_live(&s, a));
  assert_null(smbx__slab_lookup(&s, 0));
  assert_int_equal(smbx__slab_put(&s, a), 0);
  assert_false(smbx__slab_is_live(&s, a));
  assert_int_equal(smbx__slab_handle(&s, a), 0); /* free: no handle */
  assert_null(smbx__slab_lookup(&s, ha));
  assert_int_equal(smbx__slab_put_handle(&s, ha), SMBX_ERR_NOTFOUND);
  /* the same slot comes back with a new generation */
  obj *a2 = smbx__slab_get(&s);
  assert_ptr_equal(a2, a);
  uint64_t ha2 = smbx__slab_handle(&s, a2);
  assert_int_equal(ha2 >> 32, 3);
  assert_null(smbx__slab_lookup(&s, ha));
  assert_int_equal(smbx__slab_put_handle(&s, ha), SMBX_ERR_NOTFOUND);
  assert_ptr_equal(smbx__slab_lookup(&s, ha2), a2);
  /* a free generation number (even) or out-of-range index never matches */
  assert_null(smbx__slab_lookup(&s, 2ull << 32));
  assert_null(smbx__slab_lookup(&s, (1ull << 32) | 1));  /* slot 1 free */
  assert_null(smbx__slab_lookup(&s, (1ull << 32) | 3));  /* past the end */
  assert_null(smbx__slab_lookup(&s, (3ull << 32) | 0xffffffffu));
  assert_int_equal(smbx__slab_put_handle(&s, ha2), 0);
  assert_int_equal(smbx__slab_live(&s), 0);
  assert_int_equal(smbx__slab_put_handle(&s, ha2), SMBX_ERR_NOTFOUND);
  smbx__slab_free(&s);
  assert_int_equal(ta.live, 0);
}

/* Generation wraps from 0xffffffff (live) to 0 (free) keeping parity. */
static void slab_generation_wraps_keeping_parity(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 1), 0);
  s.meta[0].gen = UINT32_MAX - 1; /* free, about to wrap */
  obj *o = smbx__slab_get(&s);
  uint64_t h = smbx__slab_handle(&s, o);
  assert_int_equal(h >> 32, UINT32_MAX);
  assert_int_equal(smbx__slab_put(&s, o), 0);
  assert_int_equal(s.meta[0].gen, 0);
  assert_int_equal(smbx__slab_put(&s, o), SMBX_ERR_STATE);
  o = smbx__slab_get(&s);
  assert_int_equal(smbx__slab_handle(&s, o) >> 32, 1);
  assert_null(smbx__slab_lookup(&s, h));
  smbx__slab_free(&s);
}

/* A second put is refused and corrupts nothing: the free list does not get
 * the object twice, so two later gets never return the same object. */
static void slab_double_put_detected(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 3), 0);
  obj *a = smbx__slab_get(&s), *b = smbx__slab_get(&s);
  assert_int_equal(smbx__slab_put(&s, a), 0);
  assert_int_equal(smbx__slab_put(&s, a), SMBX_ERR_STATE);
  assert_int_equal(smbx__slab_live(&s), 1);
  /* a never-handed-out object (index 2) is free too */
  obj *never = (obj *)(void *)(s.mem + 2 * s.stride);
  assert_int_equal(smbx__slab_put(&s, never), SMBX_ERR_STATE);
  obj *g1 = smbx__slab_get(&s), *g2 = smbx__slab_get(&s);
  assert_non_null(g1);
  assert_non_null(g2);
  assert_ptr_not_equal(g1, g2);
  assert_ptr_not_equal(g1, b);
  assert_ptr_not_equal(g2, b);
  assert_null(smbx__slab_get(&s));
  assert_int_equal(smbx__slab_live(&s), 3);
  smbx__slab_free(&s);
  assert_int_equal(ta.live, 0);
}

/* Pointers that are not the start of one of this pool's objects. */
static void slab_foreign_and_interior_pointers_rejected(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s, t;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 4), 0);
  assert_int_equal(SMBX__SLAB_INIT(&t, &ta.a, obj, 4), 0);
  obj *a = smbx__slab_get(&s), *b = smbx__slab_get(&t);
  uint8_t *inside = (uint8_t *)a + 1;
  assert_int_equal(smbx__slab_put(&s, inside), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_index(&s, inside), SIZE_MAX);
  assert_int_equal(smbx__slab_put(&s, b), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_index(&s, b), SIZE_MAX);
  assert_false(smbx__slab_is_live(&s, b));
  assert_int_equal(smbx__slab_handle(&s, b), 0);
  /* one past the last object (the meta array) is not an object */
  void *past = s.mem + 4 * s.stride;
  assert_int_equal(smbx__slab_index(&s, past), SIZE_MAX);
  assert_int_equal(smbx__slab_put(&s, past), SMBX_ERR_INVAL);
  assert_int_equal(smbx__slab_put(&s, NULL), SMBX_ERR_INVAL);
  assert_null(smbx__slab_at(&s, 4));
  assert_null(smbx__slab_at(&s, SIZE_MAX));
  assert_int_equal(smbx__slab_live(&s), 1);
  assert_int_equal(smbx__slab_put(&s, a), 0);
  assert_int_equal(smbx__slab_put(&t, b), 0);
  smbx__slab_free(&s);
  smbx__slab_free(&t);
  assert_int_equal(ta.live, 0);
}

/* Odd object sizes and over-alignment: stride rounds up, every object is
 * aligned, and writing a whole object never spills into its neighbour. */
static void slab_odd_sizes_and_alignment(void **state)
{
  (void)state;
  static const size_t sizes[] = {1, 3, 7, 9, 63, 65, 100};
  static const size_t aligns[] = {1, 2, 8, 16, 64};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    for (size_t ai = 0; ai < sizeof aligns / sizeof aligns[0]; ai++) {
      test_alloc ta;
      test_alloc_init(&ta);
      smbx__slab s;
      size_t sz = sizes[si], al = aligns[ai];
      assert_int_equal(smbx__slab_init(&s, &ta.a, sz, al, 6), 0);
      uint8_t *p[6];
      for (int i = 0; i < 6; i++) {
        p[i] = smbx__slab_get(&s);
        assert_int_equal((uintptr_t)p[i] % al, 0);
        memset(p[i], 0xa0 + i, sz);
      }
      for (int i = 0; i < 6; i++) {
        for (size_t k = 0; k < sz; k++)
          assert_int_equal(p[i][k], 0xa0 + i);
        assert_int_equal(smbx__slab_index(&s, p[i]), (size_t)i);
      }
      /* the pool's own bookkeeping survived the writes */
      for (int i = 5; i >= 0; i--)
        assert_int_equal(smbx__slab_put(&s, p[i]), 0);
      for (int i = 0; i < 6; i++)
        assert_ptr_equal(smbx__slab_get(&s), p[i]);
      smbx__slab_free(&s);
      assert_int_equal(ta.live, 0);
    }
  }
}

/* pointer -> index without a divide (shift + multiply by the inverse of
 * the stride's odd part): every byte offset in and just past the block
 * maps to its object's index only at an object's start */
static void slab_index_exact_for_every_offset(void **state)
{
  (void)state;
  static const size_t sizes[] = {8, 24, 40, 56, 96, 120, 200, 1000};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    test_alloc ta;
    test_alloc_init(&ta);
    smbx__slab s;
    assert_int_equal(smbx__slab_init(&s, &ta.a, sizes[si], 8, 13), 0);
    size_t stride = smbx__slab_stride(&s);
    const uint8_t *base = smbx__slab_slot(&s, 0);
    for (size_t off = 0; off < 14 * stride; off++) {
      size_t want = off % stride == 0 && off / stride < 13 ? off / stride
                                                            : SIZE_MAX;
      assert_int_equal(smbx__slab_index(&s, base + off), want);
    }
    const void *before = (const void *)((uintptr_t)base - stride);
    assert_int_equal(smbx__slab_index(&s, before), SIZE_MAX);
    smbx__slab_free(&s);
  }
}

static void slab_at_iterates_live_objects(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 8), 0);
  obj *o[8];
  for (int i = 0; i < 8; i++)
    o[i] = smbx__slab_get(&s);
  for (int i = 0; i < 8; i += 3)
    assert_int_equal(smbx__slab_put(&s, o[i]), 0);
  size_t n = 0;
  for (size_t i = 0; i < smbx__slab_cap(&s); i++) {
    obj *x = smbx__slab_at(&s, i);
    if (x) {
      assert_true(i % 3 != 0);
      assert_ptr_equal(x, o[i]);
      assert_int_equal(smbx__slab_lookup(&s, smbx__slab_handle(&s, x)) == x,
                       1);
      n++;
    }
  }
  assert_int_equal(n, smbx__slab_live(&s));
  assert_int_equal(n, 5);
  /* slot() reaches live and free objects alike, and nothing past the end */
  for (size_t i = 0; i < 8; i++)
    assert_ptr_equal(smbx__slab_slot(&s, i), o[i]);
  assert_null(smbx__slab_slot(&s, 8));
  assert_int_equal((uint8_t *)smbx__slab_slot(&s, 7) -
                       (uint8_t *)smbx__slab_slot(&s, 0),
                   7 * smbx__slab_stride(&s));
  assert_int_equal(smbx__slab_stride(&s), sizeof(obj));
  smbx__slab_free(&s);
  assert_null(smbx__slab_slot(&s, 0));
}

/* scan_end bounds every live index and grows only with the peak number of
 * live objects: reused indices come first */
static void slab_scan_end_tracks_peak_live(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__slab s;
  assert_int_equal(SMBX__SLAB_INIT(&s, &ta.a, obj, 8), 0);
  assert_int_equal(smbx__slab_scan_end(&s), 0);
  obj *a = smbx__slab_get(&s), *b = smbx__slab_get(&s);
  assert_int_equal(smbx__slab_scan_end(&s), 2);
  for (int round = 0; round < 4; round++) {
    assert_int_equal(smbx__slab_put(&s, a), 0);
    a = smbx__slab_get(&s);
    assert_int_equal(smbx__slab_scan_end(&s), 2);
  }
  obj *c = smbx__slab_get(&s);
  assert_int_equal(smbx__slab_index(&s, c), 2);
  assert_int_equal(smbx__slab_scan_end(&s), 3);
  assert_int_equal(smbx__slab_put(&s, a), 0);
  assert_int_equal(smbx__slab_put(&s, b), 0);
  /* a bound, not a count: it stays while the pool drains */
  assert_int_equal(smbx__slab_scan_end(&s), 3);
  for (size_t i = smbx__slab_scan_end(&s); i < smbx__slab_cap(&s); i++)
    assert_null(smbx__slab_at(&s, i));
  smbx__slab_free(&s);
  assert_int_equal(smbx__slab_scan_end(&s), 0);
}

static int slab_alloc_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx__slab s;
  int rc = SMBX__SLAB_INIT(&s, &ta->a, obj, 16);
  if (rc != 0) {
    assert_int_equal(rc, SMBX_ERR_NOMEM);
    assert_null(smbx__slab_get(&s));
    assert_int_equal(smbx__slab_cap(&s), 0);
    smbx__slab_free(&s);
    return rc;
  }
  for (int i = 0; i < 16; i++)
    assert_non_null(smbx__slab_get(&s));
  smbx__slab_free(&s);
  return 0;
}

static void slab_alloc_failure_init(void **state)
{
  (void)state;
  assert_int_equal(test_alloc_each_failure(slab_alloc_scenario, NULL), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(slab_init_rejects_bad_arguments),
    cmocka_unit_test(slab_fresh_pool_hands_out_in_index_order),
    cmocka_unit_test(slab_put_reuses_last_in_first_out),
    cmocka_unit_test(slab_capacity_one),
    cmocka_unit_test(slab_stale_handles_rejected),
    cmocka_unit_test(slab_generation_wraps_keeping_parity),
    cmocka_unit_test(slab_double_put_detected),
    cmocka_unit_test(slab_foreign_and_interior_pointers_rejected),
    cmocka_unit_test(slab_odd_sizes_and_alignment),
    cmocka_unit_test(slab_index_exact_for_every_offset),
    cmocka_unit_test(slab_at_iterates_live_objects),
    cmocka_unit_test(slab_scan_end_tracks_peak_live),
    cmocka_unit_test(slab_alloc_failure_init),
  };
  return RUN_TESTS(tests);
}
