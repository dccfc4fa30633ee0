/* SPDX-License-Identifier: MIT */
/* lib/core/ring: boundary cases (empty, full, wrap-around, capacity 1),
 * grow while wrapped, and allocation failure of init and grow. */
#include "test_main.h"

#include "core/ring.h"

typedef struct ev {
  uint64_t id;
  uint32_t kind;
  uint32_t pad;
} ev;

static ev mk(uint64_t id)
{
  ev e = {id, (uint32_t)(id * 3), 0};
  return e;
}

/* Checks the ring holds ids first, first+1, ... (len of them) in order. */
static void assert_seq(const smbx__ring *r, uint64_t first, size_t len)
{
  assert_int_equal(smbx__ring_len(r), len);
  for (size_t i = 0; i < len; i++) {
    const ev *e = smbx__ring_at(r, i);
    assert_non_null(e);
    assert_int_equal(e->id, first + i);
    assert_int_equal(e->kind, (uint32_t)((first + i) * 3));
  }
  assert_null(smbx__ring_at(r, len));
}

static void ring_init_rejects_bad_arguments(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(smbx__ring_init(NULL, &ta.a, 8, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, NULL, 8, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 0, 1, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 8, 8, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 8, 0, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 12, 8, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 12, 3, 4), SMBX_ERR_INVAL);
  assert_int_equal(smbx__ring_init(&r, &ta.a, 16, 8, SIZE_MAX / 8),
                   SMBX_ERR_RANGE);
  assert_int_equal(ta.calls, 0);
  /* a failed ring is empty with capacity 0: every operation is harmless */
  assert_int_equal(smbx__ring_cap(&r), 0);
  assert_true(smbx__ring_empty(&r));
  assert_true(smbx__ring_full(&r));
  ev e = mk(1);
  assert_int_equal(smbx__ring_push(&r, &e), SMBX_ERR_AGAIN);
  assert_int_equal(smbx__ring_push_front(&r, &e), SMBX_ERR_AGAIN);
  assert_null(smbx__ring_push_slot(&r));
  assert_int_equal(smbx__ring_pop(&r, &e), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx__ring_grow(&r), SMBX_ERR_RANGE);
  smbx__ring_free(&r);
  smbx__ring_free(&r);
}

static void ring_empty_pop_peek_at_fail(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 4), 0);
  assert_int_equal(ta.live, 1);
  assert_true(smbx__ring_empty(&r));
  assert_false(smbx__ring_full(&r));
  assert_int_equal(smbx__ring_len(&r), 0);
  assert_int_equal(smbx__ring_cap(&r), 4);
  assert_null(smbx__ring_front(&r));
  assert_null(smbx__ring_back(&r));
  assert_null(smbx__ring_at(&r, 0));
  ev out = mk(77);
  assert_int_equal(smbx__ring_pop(&r, &out), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx__ring_pop_back(&r, &out), SMBX_ERR_NOTFOUND);
  assert_int_equal(out.id, 77); /* untouched */
  smbx__ring_free(&r);
  assert_int_equal(ta.live, 0);
}

static void ring_fifo_order_and_full(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 4), 0);
  for (uint64_t i = 0; i < 4; i++) {
    ev e = mk(i);
    assert_int_equal(smbx__ring_push(&r, &e), 0);
  }
  assert_true(smbx__ring_full(&r));
  ev e = mk(99);
  assert_int_equal(smbx__ring_push(&r, &e), SMBX_ERR_AGAIN);
  assert_int_equal(smbx__ring_push_front(&r, &e), SMBX_ERR_AGAIN);
  assert_null(smbx__ring_push_slot(&r));
  assert_seq(&r, 0, 4);
  assert_int_equal(((ev *)smbx__ring_front(&r))->id, 0);
  assert_int_equal(((ev *)smbx__ring_back(&r))->id, 3);
  for (uint64_t i = 0; i < 4; i++) {
    ev out;
    assert_int_equal(smbx__ring_pop(&r, &out), 0);
    assert_int_equal(out.id, i);
    assert_int_equal(out.kind, i * 3);
  }
  assert_true(smbx__ring_empty(&r));
  assert_int_equal(ta.calls, 1); /* push/pop never allocate */
  smbx__ring_free(&r);
  assert_int_equal(ta.live, 0);
}

/* The head walks all the way round several times; at every offset the
 * contents stay in order and full/empty are exact. */
static void ring_wraps_around_at_every_offset(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 5), 0);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 23; round++) {
    /* fill to the brim from the current offset */
    while (!smbx__ring_full(&r)) {
      ev e = mk(next_in++);
      assert_int_equal(smbx__ring_push(&r, &e), 0);
    }
    assert_seq(&r, next_out, 5);
    /* drain a varying amount, including all of it */
    size_t k = (size_t)round % 6;
    for (size_t i = 0; i < k; i++) {
      ev out;
      assert_int_equal(smbx__ring_pop(&r, &out), 0);
      assert_int_equal(out.id, next_out++);
    }
    assert_seq(&r, next_out, 5 - (k > 5 ? 5 : k));
  }
  smbx__ring_free(&r);
}

static void ring_capacity_one(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 1), 0);
  for (uint64_t i = 0; i < 5; i++) {
    ev e = mk(i), out;
    assert_true(smbx__ring_empty(&r));
    assert_int_equal(smbx__ring_push(&r, &e), 0);
    assert_true(smbx__ring_full(&r));
    assert_int_equal(smbx__ring_push(&r, &e), SMBX_ERR_AGAIN);
    assert_ptr_equal(smbx__ring_front(&r), smbx__ring_back(&r));
    assert_int_equal(smbx__ring_pop(&r, &out), 0);
    assert_int_equal(out.id, i);
  }
  /* push_front on capacity 1 wraps the head from 0 to 0 */
  ev e = mk(42), out;
  assert_int_equal(smbx__ring_push_front(&r, &e), 0);
  assert_int_equal(smbx__ring_pop_back(&r, &out), 0);
  assert_int_equal(out.id, 42);
  assert_int_equal(r.head, 0);
  smbx__ring_free(&r);
  assert_int_equal(ta.live, 0);
}

static void ring_push_slot_fills_in_place(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 2), 0);
  ev tmp = mk(0);
  assert_int_equal(smbx__ring_push(&r, &tmp), 0);
  assert_int_equal(smbx__ring_pop(&r, NULL), 0); /* discard; head at 1 */
  ev *s1 = smbx__ring_push_slot(&r);
  assert_non_null(s1);
  *s1 = mk(10);
  ev *s2 = smbx__ring_push_slot(&r); /* wraps to slot 0 */
  assert_non_null(s2);
  *s2 = mk(11);
  assert_ptr_equal(s2, r.buf);
  assert_null(smbx__ring_push_slot(&r));
  assert_seq(&r, 10, 2);
  smbx__ring_free(&r);
}

static void ring_push_front_and_pop_back_mirror(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 4), 0);
  ev e;
  e = mk(2);
  assert_int_equal(smbx__ring_push(&r, &e), 0);
  e = mk(1);
  assert_int_equal(smbx__ring_push_front(&r, &e), 0); /* head wraps to 3 */
  assert_int_equal(r.head, 3);
  e = mk(0);
  assert_int_equal(smbx__ring_push_front(&r, &e), 0);
  e = mk(3);
  assert_int_equal(smbx__ring_push(&r, &e), 0);
  assert_seq(&r, 0, 4);
  ev out;
  assert_int_equal(smbx__ring_pop_back(&r, &out), 0);
  assert_int_equal(out.id, 3);
  assert_int_equal(smbx__ring_pop_back(&r, NULL), 0);
  assert_seq(&r, 0, 2);
  smbx__ring_clear(&r);
  assert_true(smbx__ring_empty(&r));
  assert_int_equal(smbx__ring_cap(&r), 4);
  smbx__ring_free(&r);
}

/* Grow with the contents wrapped across the end of the buffer (and for
 * every head position): order is kept and the front moves to slot 0. */
static void ring_grow_while_wrapped_keeps_order(void **state)
{
  (void)state;
  for (size_t head = 0; head < 4; head++) {
    for (size_t len = 0; len <= 4; len++) {
      test_alloc ta;
      test_alloc_init(&ta);
      smbx__ring r;
      assert_int_equal(SMBX__RING_INIT(&r, &ta.a, ev, 4), 0);
      for (size_t i = 0; i < head; i++) {
        ev e = mk(1000);
        assert_int_equal(smbx__ring_push(&r, &e), 0);
        assert_int_equal(smbx__ring_pop(&r, NULL), 0);
      }
      for (uint64_t i = 0; i < len; i++) {
        ev e = mk(i);
        assert_int_equal(smbx__ring_push(&r, &e), 0);
      }
      assert_int_equal(smbx__ring_grow(&r), 0);
      assert_int_equal(smbx__ring_cap(&r), 8);
      assert_int_equal(r.head, 0);
      assert_seq(&r, 0, len);
      /* the new room is usable */
      for (uint64_t i = len; i < 8; i++) {
        ev e = mk(i);
        assert_int_equal(smbx__ring_push(&r, &e), 0);
      }
      assert_true(smbx__ring_full(&r));
      assert_seq(&r, 0, 8);
      smbx__ring_free(&r);
      assert_int_equal(ta.live, 0);
    }
  }
}

static void ring_grow_overflow_is_range(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  /* a ring whose doubled size would overflow size_t; never allocated */
  smbx__ring r = {NULL, &ta.a, 16, 8, SIZE_MAX / 16, 0, 0};
  assert_int_equal(smbx__ring_grow(&r), SMBX_ERR_RANGE);
  assert_int_equal(ta.calls, 0);
}

static void ring_byte_elements_and_alignment(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__ring r;
  assert_int_equal(smbx__ring_init(&r, &ta.a, 64, 64, 3), 0);
  assert_int_equal((uintptr_t)r.buf % 64, 0);
  uint8_t blk[64];
  for (int i = 0; i < 3; i++) {
    memset(blk, i + 1, sizeof blk);
    assert_int_equal(smbx__ring_push(&r, blk), 0);
  }
  assert_int_equal(smbx__ring_grow(&r), 0);
  assert_int_equal((uintptr_t)r.buf % 64, 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx__ring_pop(&r, blk), 0);
    for (int k = 0; k < 64; k++)
      assert_int_equal(blk[k], i + 1);
  }
  smbx__ring_free(&r);
  assert_int_equal(ta.live, 0);
}

/* Allocation failure: init and grow each fail cleanly; a failed grow
 * leaves the wrapped contents intact and the ring usable. */
static int ring_alloc_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx__ring r;
  int rc = SMBX__RING_INIT(&r, &ta->a, ev, 3);
  if (rc != 0) {
    assert_int_equal(rc, SMBX_ERR_NOMEM);
    assert_int_equal(smbx__ring_cap(&r), 0);
    assert_null(r.buf);
    smbx__ring_free(&r);
    return rc;
  }
  /* wrap: head at 2, contents 0,1,2 */
  for (uint64_t i = 0; i < 2; i++) {
    ev e = mk(500);
    assert_int_equal(smbx__ring_push(&r, &e), 0);
    assert_int_equal(smbx__ring_pop(&r, NULL), 0);
  }
  for (uint64_t i = 0; i < 3; i++) {
    ev e = mk(i);
    assert_int_equal(smbx__ring_push(&r, &e), 0);
  }
  for (int g = 0; g < 2; g++) {
    size_t cap = smbx__ring_cap(&r);
    void *buf = r.buf;
    rc = smbx__ring_grow(&r);
    if (rc != 0) {
      assert_int_equal(rc, SMBX_ERR_NOMEM);
      assert_int_equal(smbx__ring_cap(&r), cap);
      assert_ptr_equal(r.buf, buf);
      assert_seq(&r, 0, 3);
      ev e = mk(3), out;
      if (!smbx__ring_full(&r)) {
        assert_int_equal(smbx__ring_push(&r, &e), 0);
        assert_int_equal(smbx__ring_pop_back(&r, &out), 0);
      }
      assert_seq(&r, 0, 3);
      smbx__ring_free(&r);
      return rc;
    }
    assert_seq(&r, 0, 3);
  }
  assert_int_equal(smbx__ring_cap(&r), 12);
  smbx__ring_free(&r);
  return 0;
}

static void ring_alloc_failure_init_and_grow(void **state)
{
  (void)state;
  assert_int_equal(test_alloc_each_failure(ring_alloc_scenario, NULL), 3);
}

/* Without a realloc hook the allocator is still only asked for alloc/free. */
static void ring_works_with_default_allocator(void **state)
{
  (void)state;
  smbx__ring r;
  assert_int_equal(SMBX__RING_INIT(&r, smbx_allocator_default(), uint32_t, 2),
                   0);
  for (uint32_t i = 0; i < 100; i++) {
    if (smbx__ring_full(&r))
      assert_int_equal(smbx__ring_grow(&r), 0);
    assert_int_equal(smbx__ring_push(&r, &i), 0);
  }
  assert_int_equal(smbx__ring_cap(&r), 128);
  for (uint32_t i = 0; i < 100; i++) {
    uint32_t v;
    assert_int_equal(smbx__ring_pop(&r, &v), 0);
    assert_int_equal(v, i);
  }
  smbx__ring_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(ring_init_rejects_bad_arguments),
    cmocka_unit_test(ring_empty_pop_peek_at_fail),
    cmocka_unit_test(ring_fifo_order_and_full),
    cmocka_unit_test(ring_wraps_around_at_every_offset),
    cmocka_unit_test(ring_capacity_one),
    cmocka_unit_test(ring_push_slot_fills_in_place),
    cmocka_unit_test(ring_push_front_and_pop_back_mirror),
    cmocka_unit_test(ring_grow_while_wrapped_keeps_order),
    cmocka_unit_test(ring_grow_overflow_is_range),
    cmocka_unit_test(ring_byte_elements_and_alignment),
    cmocka_unit_test(ring_alloc_failure_init_and_grow),
    cmocka_unit_test(ring_works_with_default_allocator),
  };
  return RUN_TESTS(tests);
}
