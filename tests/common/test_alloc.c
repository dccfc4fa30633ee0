/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_alloc.h"

/* Header kept in front of each block to verify free() sizes. */
typedef struct block_hdr {
  size_t size;
  size_t align;
  uint64_t magic;
  uint64_t pad;
} block_hdr;

#define BLOCK_MAGIC 0x736d6278616c6c63ull

static bool should_fail(test_alloc *ta)
{
  ta->calls++;
  if ((ta->fail_at && ta->calls == ta->fail_at) ||
      (ta->fail_from && ta->calls >= ta->fail_from)) {
    ta->failed++;
    return true;
  }
  return false;
}

static void *ta_alloc(size_t size, size_t align, void *ud)
{
  test_alloc *ta = ud;
  assert_true(align != 0 && (align & (align - 1)) == 0);
  assert_true(align <= 64);
  if (should_fail(ta))
    return NULL;
  uint8_t *raw = test_malloc(sizeof(block_hdr) + sizeof(void *) + align + size);
  assert_non_null(raw);
  uintptr_t base = (uintptr_t)raw + sizeof(block_hdr) + sizeof(void *);
  uintptr_t user = (base + align - 1) & ~(uintptr_t)(align - 1);
  block_hdr *h = (block_hdr *)(user - sizeof(block_hdr) - sizeof(void *));
  memcpy((uint8_t *)user - sizeof(void *), &raw, sizeof raw);
  h->size = size;
  h->align = align;
  h->magic = BLOCK_MAGIC;
  ta->live++;
  ta->live_bytes += size;
  ta->total++;
  return (void *)user;
}

static void ta_free(void *p, size_t size, size_t align, void *ud)
{
  test_alloc *ta = ud;
  if (!p)
    return;
  block_hdr *h = (block_hdr *)((uint8_t *)p - sizeof(block_hdr) - sizeof(void *));
  assert_int_equal(h->magic, BLOCK_MAGIC);
  assert_int_equal(h->size, size);
  assert_int_equal(h->align, align);
  h->magic = 0;
  void *raw;
  memcpy(&raw, (uint8_t *)p - sizeof(void *), sizeof raw);
  assert_true(ta->live > 0);
  ta->live--;
  ta->live_bytes -= size;
  test_free(raw);
}

static void *ta_realloc(void *p, size_t old, size_t size, size_t align,
                        void *ud)
{
  test_alloc *ta = ud;
  void *q = ta_alloc(size, align, ud);
  if (!q)
    return NULL;
  if (p) {
    memcpy(q, p, old < size ? old : size);
    ta_free(p, old, align, ud);
  }
  (void)ta;
  return q;
}

void test_alloc_init(test_alloc *ta)
{
  memset(ta, 0, sizeof *ta);
  ta->a.struct_size = sizeof ta->a;
  ta->a.alloc = ta_alloc;
  ta->a.realloc = ta_realloc;
  ta->a.free = ta_free;
  ta->a.user_data = ta;
}

void test_alloc_fail_nth(test_alloc *ta, uint64_t n)
{
  ta->calls = 0;
  ta->fail_at = n;
}

uint64_t test_alloc_each_failure(test_alloc_scenario scenario, void *arg)
{
  test_alloc ta;
  test_alloc_init(&ta);
  assert_int_equal(scenario(&ta, arg), 0);
  assert_int_equal(ta.live, 0);
  uint64_t n = ta.calls;
  for (uint64_t i = 1; i <= n; i++) {
    test_alloc_init(&ta);
    test_alloc_fail_nth(&ta, i);
    int rc = scenario(&ta, arg);
    if (rc != SMBX_ERR_NOMEM)
      fail_msg("allocation %llu of %llu failed but the scenario returned %d",
               (unsigned long long)i, (unsigned long long)n, rc);
    if (ta.live != 0)
      fail_msg("allocation %llu of %llu failed and %llu blocks leaked",
               (unsigned long long)i, (unsigned long long)n,
               (unsigned long long)ta.live);
  }
  return n;
}
