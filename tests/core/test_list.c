/* SPDX-License-Identifier: MIT */
/* lib/core/list.h: intrusive list boundary cases and safe iteration. */
#include "test_main.h"

#include "core/list.h"

typedef struct item {
  uint32_t id;
  smbx__list link;
  uint32_t tail_guard;
} item;

static item *it_of(smbx__list *n)
{
  return SMBX__CONTAINER_OF(n, item, link);
}

static void make(item *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    v[i].id = (uint32_t)i;
    v[i].tail_guard = 0xabcdef00u + (uint32_t)i;
    smbx__list_init(&v[i].link);
  }
}

/* Asserts the list holds exactly ids[0..n) forwards and backwards. */
static void assert_ids(const smbx__list *head, const uint32_t *ids, size_t n)
{
  assert_int_equal(smbx__list_len(head), n);
  size_t k = 0;
  for (smbx__list *p = smbx__list_first(head); p;
       p = smbx__list_next(head, p)) {
    assert_true(k < n);
    assert_int_equal(it_of(p)->id, ids[k++]);
  }
  assert_int_equal(k, n);
  for (smbx__list *p = smbx__list_last(head); p;
       p = smbx__list_prev(head, p))
    assert_int_equal(it_of(p)->id, ids[--k]);
  assert_int_equal(k, 0);
}

static void list_empty_head(void **state)
{
  (void)state;
  smbx__list h;
  smbx__list_init(&h);
  assert_true(smbx__list_empty(&h));
  assert_false(smbx__list_linked(&h));
  assert_null(smbx__list_first(&h));
  assert_null(smbx__list_last(&h));
  assert_null(smbx__list_pop_head(&h));
  assert_int_equal(smbx__list_len(&h), 0);
  int visits = 0;
  SMBX__LIST_FOREACH(p, &h) { (void)p; visits++; }
  SMBX__LIST_FOREACH_SAFE(p, t, &h) { (void)p; visits++; }
  SMBX__LIST_FOREACH_REVERSE_SAFE(p, t, &h) { (void)p; visits++; }
  assert_int_equal(visits, 0);
}

static void list_container_of_recovers_the_object(void **state)
{
  (void)state;
  item v[1];
  make(v, 1);
  assert_ptr_equal(it_of(&v[0].link), &v[0]);
  const smbx__list *cl = &v[0].link;
  const item *ci = SMBX__CONTAINER_OF_CONST(cl, item, link);
  assert_ptr_equal(ci, &v[0]);
  assert_int_equal(ci->tail_guard, 0xabcdef00u);
}

static void list_one_element(void **state)
{
  (void)state;
  item v[1];
  make(v, 1);
  smbx__list h;
  smbx__list_init(&h);
  smbx__list_insert_tail(&h, &v[0].link);
  assert_false(smbx__list_empty(&h));
  assert_true(smbx__list_linked(&v[0].link));
  assert_ptr_equal(smbx__list_first(&h), &v[0].link);
  assert_ptr_equal(smbx__list_last(&h), &v[0].link);
  assert_null(smbx__list_next(&h, &v[0].link));
  assert_null(smbx__list_prev(&h, &v[0].link));
  smbx__list_remove(&v[0].link);
  assert_true(smbx__list_empty(&h));
  assert_false(smbx__list_linked(&v[0].link));
  /* removing again is harmless */
  smbx__list_remove(&v[0].link);
  assert_true(smbx__list_empty(&h));
  assert_ptr_equal(h.next, &h);
  assert_ptr_equal(h.prev, &h);
}

static void list_insert_head_tail_before_after(void **state)
{
  (void)state;
  item v[6];
  make(v, 6);
  smbx__list h;
  smbx__list_init(&h);
  smbx__list_insert_tail(&h, &v[2].link);
  smbx__list_insert_head(&h, &v[0].link);
  smbx__list_insert_tail(&h, &v[4].link);
  smbx__list_insert_after(&v[0].link, &v[1].link);
  smbx__list_insert_before(&v[4].link, &v[3].link);
  smbx__list_insert_before(&h, &v[5].link); /* before head == tail */
  static const uint32_t want[] = {0, 1, 2, 3, 4, 5};
  assert_ids(&h, want, 6);
}

static void list_remove_first_middle_last(void **state)
{
  (void)state;
  item v[5];
  make(v, 5);
  smbx__list h;
  smbx__list_init(&h);
  for (int i = 0; i < 5; i++)
    smbx__list_insert_tail(&h, &v[i].link);
  smbx__list_remove(&v[0].link);
  static const uint32_t a[] = {1, 2, 3, 4};
  assert_ids(&h, a, 4);
  smbx__list_remove(&v[2].link);
  static const uint32_t b[] = {1, 3, 4};
  assert_ids(&h, b, 3);
  smbx__list_remove(&v[4].link);
  static const uint32_t c[] = {1, 3};
  assert_ids(&h, c, 2);
  assert_ptr_equal(smbx__list_pop_head(&h), &v[1].link);
  assert_false(smbx__list_linked(&v[1].link));
  static const uint32_t d[] = {3};
  assert_ids(&h, d, 1);
}

/* Removing every node while iterating visits each once; so does removing
 * every other node; the reverse walk likewise. */
static void list_safe_iteration_while_removing(void **state)
{
  (void)state;
  item v[7];
  make(v, 7);
  smbx__list h;
  smbx__list_init(&h);
  for (int i = 0; i < 7; i++)
    smbx__list_insert_tail(&h, &v[i].link);
  uint32_t seen = 0;
  SMBX__LIST_FOREACH_SAFE(p, t, &h) {
    item *x = it_of(p);
    seen |= 1u << x->id;
    if (x->id % 2 == 0)
      smbx__list_remove(p);
  }
  assert_int_equal(seen, 0x7f);
  static const uint32_t odd[] = {1, 3, 5};
  assert_ids(&h, odd, 3);
  seen = 0;
  uint32_t order[3];
  int k = 0;
  SMBX__LIST_FOREACH_REVERSE_SAFE(p, t, &h) {
    order[k++] = it_of(p)->id;
    smbx__list_remove(p);
  }
  assert_int_equal(k, 3);
  assert_int_equal(order[0], 5);
  assert_int_equal(order[1], 3);
  assert_int_equal(order[2], 1);
  assert_true(smbx__list_empty(&h));
  for (int i = 0; i < 7; i++)
    assert_false(smbx__list_linked(&v[i].link));
}

/* Moving the current node to the tail of another list while iterating. */
static void list_move_tail_and_splice(void **state)
{
  (void)state;
  item v[6];
  make(v, 6);
  smbx__list a, b;
  smbx__list_init(&a);
  smbx__list_init(&b);
  for (int i = 0; i < 6; i++)
    smbx__list_insert_tail(&a, &v[i].link);
  SMBX__LIST_FOREACH_SAFE(p, t, &a) {
    if (it_of(p)->id >= 3)
      smbx__list_move_tail(&b, p);
  }
  static const uint32_t lo[] = {0, 1, 2}, hi[] = {3, 4, 5};
  assert_ids(&a, lo, 3);
  assert_ids(&b, hi, 3);
  /* LRU touch: move 0 to the tail of its own list */
  smbx__list_move_tail(&a, &v[0].link);
  static const uint32_t lru[] = {1, 2, 0};
  assert_ids(&a, lru, 3);
  /* move_tail of an unlinked node just inserts it */
  smbx__list_remove(&v[2].link);
  smbx__list_move_tail(&b, &v[2].link);
  static const uint32_t b2[] = {3, 4, 5, 2};
  assert_ids(&b, b2, 4);
  smbx__list_splice_tail(&a, &b);
  static const uint32_t all[] = {1, 0, 3, 4, 5, 2};
  assert_ids(&a, all, 6);
  assert_true(smbx__list_empty(&b));
  /* splicing an empty list changes nothing */
  smbx__list_splice_tail(&a, &b);
  assert_ids(&a, all, 6);
  smbx__list_splice_tail(&b, &a);
  assert_ids(&b, all, 6);
  assert_true(smbx__list_empty(&a));
}

static void list_foreach_visits_in_order(void **state)
{
  (void)state;
  item v[4];
  make(v, 4);
  smbx__list h;
  smbx__list_init(&h);
  for (int i = 3; i >= 0; i--)
    smbx__list_insert_head(&h, &v[i].link);
  uint32_t expect = 0;
  SMBX__LIST_FOREACH(p, &h) assert_int_equal(it_of(p)->id, expect++);
  assert_int_equal(expect, 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(list_empty_head),
    cmocka_unit_test(list_container_of_recovers_the_object),
    cmocka_unit_test(list_one_element),
    cmocka_unit_test(list_insert_head_tail_before_after),
    cmocka_unit_test(list_remove_first_middle_last),
    cmocka_unit_test(list_safe_iteration_while_removing),
    cmocka_unit_test(list_move_tail_and_splice),
    cmocka_unit_test(list_foreach_visits_in_order),
  };
  return RUN_TESTS(tests);
}
