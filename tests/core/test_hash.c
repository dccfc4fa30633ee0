/* SPDX-License-Identifier: MIT */
/* lib/core/hash: open addressing with linear probing and backward-shift
 * deletion. Collisions are forced with a fixed seed (keys searched so they
 * share a home slot), deletions land in the middle of probe chains
 * (including chains that wrap past the last slot), and after each change
 * every remaining key must still be found and the probe invariant hold. */
#include "test_main.h"

#include "core/hash.h"

#define SEED UINT64_C(0x0123456789abcdef)

/* A value pointer for key k (never NULL). */
static uint64_t vals[4096];
static void *val(uint64_t k)
{
  return &vals[k % 4096];
}

static size_t home_of(const smbx__hash *h, const uint8_t *key)
{
  uint64_t x;
  if (h->key_len == 8) {
    uint64_t k;
    memcpy(&k, key, 8);
    x = smbx__hash_u64(k, h->seed);
  } else {
    x = smbx__hash_bytes(key, h->key_len, h->seed);
  }
  return (size_t)x & (h->cap - 1);
}

static bool occupied(const smbx__hash *h, size_t i)
{
  void *v;
  memcpy(&v, h->slots + i * h->stride + h->voff, sizeof v);
  return v != NULL;
}

/* Every entry is reachable from its home slot without crossing an empty
 * slot, the count matches, and at least one slot is empty. */
static void assert_invariant(const smbx__hash *h)
{
  size_t n = 0, empty = 0;
  for (size_t i = 0; i < h->cap; i++) {
    if (!occupied(h, i)) {
      empty++;
      continue;
    }
    n++;
    for (size_t j = home_of(h, h->slots + i * h->stride); j != i;
         j = (j + 1) & (h->cap - 1))
      assert_true(occupied(h, j));
  }
  assert_int_equal(n, h->len);
  if (h->cap)
    assert_true(empty >= 1);
}

/* Finds `count` keys >= from whose home slot (for cap and SEED) is `slot`. */
static void keys_with_home(uint64_t *out, size_t count, size_t cap,
                           size_t slot, uint64_t from)
{
  size_t n = 0;
  for (uint64_t k = from; n < count; k++)
    if ((smbx__hash_u64(k, SEED) & (cap - 1)) == slot)
      out[n++] = k;
}

static void hash_mixer_properties(void **state)
{
  (void)state;
  /* different seeds move keys; the mixer is not the identity */
  assert_true(smbx__hash_u64(1, 0) != 1);
  assert_true(smbx__hash_u64(1, 1) != smbx__hash_u64(1, 2));
  assert_true(smbx__hash_u64(1, SEED) != smbx__hash_u64(2, SEED));
  /* sequential keys spread: 4096 keys over 256 buckets, none too full */
  unsigned bucket[256] = {0};
  for (uint64_t k = 0; k < 4096; k++)
    bucket[smbx__hash_u64(k, SEED) & 255]++;
  for (int i = 0; i < 256; i++)
    assert_true(bucket[i] > 0 && bucket[i] < 48);
  /* byte hash: length is part of the input (zero padding is not ambiguous),
   * each byte matters, the seed matters */
  uint8_t a[33] = {0};
  assert_true(smbx__hash_bytes(a, 3, SEED) != smbx__hash_bytes(a, 4, SEED));
  assert_true(smbx__hash_bytes(a, 0, SEED) != smbx__hash_bytes(a, 8, SEED));
  assert_true(smbx__hash_bytes(a, 32, 1) != smbx__hash_bytes(a, 32, 2));
  uint64_t base = smbx__hash_bytes(a, 33, SEED);
  for (int i = 0; i < 33; i++) {
    a[i] = 1;
    assert_true(smbx__hash_bytes(a, 33, SEED) != base);
    a[i] = 0;
  }
  assert_true(smbx__hash_bytes(a, 33, SEED) == base);
  assert_true(smbx__hash_bytes(NULL, 0, SEED) == smbx__hash_bytes(a, 0, SEED));
}

static uint64_t xorshift(uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* smbx__hash_16 / smbx__hash_32 (LeaseKey, ClientGuid + LeaseKey): each
 * input bit flips each output bit about half the time (avalanche, 64
 * random keys per input bit: within 6 standard deviations), keys that
 * differ only in a counter spread over the low (home slot) bits, the
 * seed matters and the two halves of a 32-byte key are not symmetric. */
static void hash_fixed_keys_avalanche(void **state)
{
  (void)state;
  enum { SAMPLES = 64 };
  uint64_t rng = 0x9e3779b97f4a7c15u;
  for (int wide = 0; wide < 2; wide++) {
    int in_bits = wide ? 256 : 128;
    for (int bit = 0; bit < in_bits; bit++) {
      unsigned flips[64] = {0};
      for (int n = 0; n < SAMPLES; n++) {
        uint8_t k[32];
        for (int w = 0; w < 4; w++) {
          uint64_t r = xorshift(&rng);
          memcpy(k + 8 * w, &r, 8);
        }
        uint64_t h0 = wide ? smbx__hash_32(k, k + 16, SEED)
                           : smbx__hash_16(k, SEED);
        k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint64_t h1 = wide ? smbx__hash_32(k, k + 16, SEED)
                           : smbx__hash_16(k, SEED);
        for (int o = 0; o < 64; o++)
          flips[o] += (unsigned)((h0 ^ h1) >> o & 1);
      }
      for (int o = 0; o < 64; o++)
        assert_true(flips[o] >= 8 && flips[o] <= SAMPLES - 8);
    }
  }
  unsigned b16[256] = {0}, b32[256] = {0};
  uint8_t a[16] = {0}, b[16] = {0};
  for (uint64_t k = 0; k < 4096; k++) {
    memcpy(a, &k, 8);
    b16[smbx__hash_16(a, SEED) & 255]++;
    b32[smbx__hash_32(b, a, SEED) & 255]++;
  }
  for (int i = 0; i < 256; i++) {
    assert_true(b16[i] > 0 && b16[i] < 48);
    assert_true(b32[i] > 0 && b32[i] < 48);
  }
  a[0] = 1;
  assert_true(smbx__hash_16(a, 1) != smbx__hash_16(a, 2));
  assert_true(smbx__hash_32(a, b, 1) != smbx__hash_32(a, b, 2));
  assert_true(smbx__hash_32(a, b, SEED) != smbx__hash_32(b, a, SEED));
  uint8_t z[16] = {0};
  assert_true(smbx__hash_16(z, 0) != 0 && smbx__hash_32(z, z, 0) != 0);
}

static void hash_max_len_and_cap_for(void **state)
{
  (void)state;
  assert_int_equal(smbx__hash_max_len(0), 0);
  assert_int_equal(smbx__hash_max_len(1), 0);
  assert_int_equal(smbx__hash_max_len(2), 1);
  assert_int_equal(smbx__hash_max_len(4), 3);
  assert_int_equal(smbx__hash_max_len(8), 7);
  assert_int_equal(smbx__hash_max_len(16), 14);
  assert_int_equal(smbx__hash_max_len(1024), 896);
  assert_int_equal(smbx__hash_cap_for(0), 2);
  assert_int_equal(smbx__hash_cap_for(1), 2);
  assert_int_equal(smbx__hash_cap_for(2), 4);
  assert_int_equal(smbx__hash_cap_for(7), 8);
  assert_int_equal(smbx__hash_cap_for(8), 16);
  assert_int_equal(smbx__hash_cap_for(896), 1024);
  assert_int_equal(smbx__hash_cap_for(897), 2048);
  assert_int_equal(smbx__hash_cap_for(SIZE_MAX), 0);
}

static void hash_init_rejects_bad_arguments(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(NULL, &ta.a, 8, 8, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, NULL, 8, 8, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, &ta.a, 0, 8, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, &ta.a, 65, 8, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, 0, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, 1, SEED), SMBX_ERR_INVAL);
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, 12, SEED), SMBX_ERR_INVAL);
  size_t huge = (SIZE_MAX >> 1) + 1; /* a power of two far too big */
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, huge, SEED), SMBX_ERR_RANGE);
  assert_int_equal(ta.calls, 0);
  /* the failed table is empty and inert */
  assert_int_equal(smbx__hash_cap(&h), 0);
  assert_int_equal(smbx__hash_insert_u64(&h, 1, val(1)), SMBX_ERR_LIMIT);
  assert_null(smbx__hash_get_u64(&h, 1));
  assert_null(smbx__hash_remove_u64(&h, 1));
  assert_int_equal(smbx__hash_grow(&h), SMBX_ERR_RANGE);
  smbx__hash_iter it;
  smbx__hash_iter_init(&h, &it);
  assert_false(smbx__hash_iter_next(&h, &it, NULL, NULL));
  smbx__hash_clear(&h);
  smbx__hash_free(&h);
  smbx__hash_free(&h);
}

static void hash_insert_get_remove_basics(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, 16, SEED), 0);
  assert_null(smbx__hash_get_u64(&h, 5));
  assert_null(smbx__hash_remove_u64(&h, 5));
  assert_int_equal(smbx__hash_insert_u64(&h, 5, val(5)), 0);
  assert_int_equal(smbx__hash_insert_u64(&h, 0, val(0)), 0); /* key 0 ok */
  assert_int_equal(smbx__hash_insert_u64(&h, UINT64_MAX, val(7)), 0);
  assert_int_equal(smbx__hash_len(&h), 3);
  assert_ptr_equal(smbx__hash_get_u64(&h, 5), val(5));
  assert_ptr_equal(smbx__hash_get_u64(&h, 0), val(0));
  assert_ptr_equal(smbx__hash_get_u64(&h, UINT64_MAX), val(7));
  /* duplicate: EXISTS, old value kept */
  assert_int_equal(smbx__hash_insert_u64(&h, 5, val(6)), SMBX_ERR_EXISTS);
  assert_ptr_equal(smbx__hash_get_u64(&h, 5), val(5));
  /* NULL values are refused (NULL marks an empty slot) */
  assert_int_equal(smbx__hash_insert_u64(&h, 9, NULL), SMBX_ERR_INVAL);
  assert_null(smbx__hash_get_u64(&h, 9));
  /* replace */
  assert_ptr_equal(smbx__hash_replace(&h, &(uint64_t){5}, val(6)), val(5));
  assert_ptr_equal(smbx__hash_get_u64(&h, 5), val(6));
  assert_null(smbx__hash_replace(&h, &(uint64_t){5}, NULL));
  assert_ptr_equal(smbx__hash_get_u64(&h, 5), val(6));
  assert_null(smbx__hash_replace(&h, &(uint64_t){55}, val(55)));
  assert_null(smbx__hash_get_u64(&h, 55));
  /* remove */
  assert_ptr_equal(smbx__hash_remove_u64(&h, 5), val(6));
  assert_null(smbx__hash_get_u64(&h, 5));
  assert_null(smbx__hash_remove_u64(&h, 5));
  assert_int_equal(smbx__hash_len(&h), 2);
  assert_invariant(&h);
  smbx__hash_clear(&h);
  assert_int_equal(smbx__hash_len(&h), 0);
  assert_null(smbx__hash_get_u64(&h, 0));
  assert_int_equal(smbx__hash_insert_u64(&h, 0, val(0)), 0);
  assert_int_equal(ta.calls, 1);
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

static void hash_u64_helpers_need_8_byte_keys(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 16, 8, SEED), 0);
  assert_int_equal(smbx__hash_insert_u64(&h, 1, val(1)), SMBX_ERR_INVAL);
  assert_null(smbx__hash_get_u64(&h, 1));
  assert_null(smbx__hash_remove_u64(&h, 1));
  assert_int_equal(smbx__hash_len(&h), 0);
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

/* The table holds exactly smbx__hash_max_len(cap) entries for each cap
 * (capacity 2 holds one); the next insert is SMBX_ERR_LIMIT; after a grow
 * it succeeds and every key is still there. */
static void hash_limit_at_seven_eighths_then_grow(void **state)
{
  (void)state;
  for (size_t cap = 2; cap <= 256; cap *= 2) {
    test_alloc ta;
    test_alloc_init(&ta);
    smbx__hash h;
    assert_int_equal(smbx__hash_init(&h, &ta.a, 8, cap, SEED), 0);
    size_t max = smbx__hash_max_len(cap);
    for (uint64_t k = 0; k < max; k++)
      assert_int_equal(smbx__hash_insert_u64(&h, k * 7919, val(k)), 0);
    assert_int_equal(smbx__hash_insert_u64(&h, 999999, val(1)),
                     SMBX_ERR_LIMIT);
    /* a duplicate in a full table is still reported as a duplicate */
    assert_int_equal(smbx__hash_insert_u64(&h, 0, val(1)), SMBX_ERR_EXISTS);
    assert_null(smbx__hash_get_u64(&h, 999999));
    assert_int_equal(smbx__hash_len(&h), max);
    assert_invariant(&h);
    assert_int_equal(smbx__hash_grow(&h), 0);
    assert_int_equal(smbx__hash_cap(&h), cap * 2);
    assert_invariant(&h);
    for (uint64_t k = 0; k < max; k++)
      assert_ptr_equal(smbx__hash_get_u64(&h, k * 7919), val(k));
    assert_int_equal(smbx__hash_insert_u64(&h, 999999, val(1)), 0);
    smbx__hash_free(&h);
    assert_int_equal(ta.live, 0);
  }
}

/* 40 keys sharing home slot 5 and 20 sharing home slot 7 in a 128-slot
 * table: one long chain with interleaved members. Remove from the middle,
 * start and end of the chain and check every remaining key each time. */
static void hash_forced_collisions_delete_mid_chain(void **state)
{
  (void)state;
  enum { CAP = 128, NA = 40, NB = 20 };
  uint64_t ka[NA], kb[NB];
  keys_with_home(ka, NA, CAP, 5, 1);
  keys_with_home(kb, NB, CAP, 7, 1);
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, SEED), 0);
  for (int i = 0; i < NA; i++) {
    assert_int_equal(smbx__hash_insert_u64(&h, ka[i], val(ka[i])), 0);
    if (i < NB)
      assert_int_equal(smbx__hash_insert_u64(&h, kb[i], val(kb[i])), 0);
  }
  assert_invariant(&h);
  bool gone_a[NA] = {false}, gone_b[NB] = {false};
  /* removal order: middle, first, last, then the rest interleaved */
  static const int order_a[] = {20, 0, 39, 10, 30, 1, 38, 15, 25};
  static const int order_b[] = {10, 0, 19, 5, 15};
  for (size_t s = 0; s < sizeof order_a / sizeof order_a[0]; s++) {
    int i = order_a[s];
    assert_ptr_equal(smbx__hash_remove_u64(&h, ka[i]), val(ka[i]));
    gone_a[i] = true;
    if (s < sizeof order_b / sizeof order_b[0]) {
      int j = order_b[s];
      assert_ptr_equal(smbx__hash_remove_u64(&h, kb[j]), val(kb[j]));
      gone_b[j] = true;
    }
    assert_invariant(&h);
    for (int k = 0; k < NA; k++)
      if (gone_a[k])
        assert_null(smbx__hash_get_u64(&h, ka[k]));
      else
        assert_ptr_equal(smbx__hash_get_u64(&h, ka[k]), val(ka[k]));
    for (int k = 0; k < NB; k++)
      if (gone_b[k])
        assert_null(smbx__hash_get_u64(&h, kb[k]));
      else
        assert_ptr_equal(smbx__hash_get_u64(&h, kb[k]), val(kb[k]));
  }
  /* a key with the same home that was never inserted walks the chain and
   * misses */
  uint64_t extra[NA + 1];
  keys_with_home(extra, NA + 1, CAP, 5, 1);
  assert_null(smbx__hash_get_u64(&h, extra[NA]));
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

/* Many keys (600) sharing one home slot near the end of a 1024-slot table,
 * so the single chain wraps; remove every third from the middle outwards,
 * then every remaining key is found, and the table refills to the limit. */
static void hash_forced_collisions_many_keys_one_chain(void **state)
{
  (void)state;
  enum { CAP = 1024, N = 600 };
  static uint64_t keys[N];
  keys_with_home(keys, N, CAP, 1000, 1);
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, SEED), 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(smbx__hash_insert_u64(&h, keys[i], val(keys[i])), 0);
  assert_true(occupied(&h, 0)); /* the chain wrapped */
  for (int d = 0; d < N / 2; d += 3) {
    int lo = N / 2 - 1 - d, hi = N / 2 + d;
    assert_ptr_equal(smbx__hash_remove_u64(&h, keys[lo]), val(keys[lo]));
    assert_ptr_equal(smbx__hash_remove_u64(&h, keys[hi]), val(keys[hi]));
  }
  assert_invariant(&h);
  for (int i = 0; i < N; i++) {
    int d = i < N / 2 ? N / 2 - 1 - i : i - N / 2;
    assert_ptr_equal(smbx__hash_get_u64(&h, keys[i]),
                     d % 3 == 0 ? NULL : val(keys[i]));
  }
  size_t max = smbx__hash_max_len(CAP);
  for (uint64_t k = UINT64_C(1) << 50; smbx__hash_len(&h) < max; k++)
    assert_int_equal(smbx__hash_insert_u64(&h, k, val(k)), 0);
  assert_int_equal(smbx__hash_insert_u64(&h, 7, val(7)), SMBX_ERR_LIMIT);
  assert_invariant(&h);
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

/* A chain that starts in the last slots and wraps to slot 0: deleting its
 * members one at a time, in every order position, keeps the rest. */
static void hash_collisions_wrapping_past_the_end(void **state)
{
  (void)state;
  enum { CAP = 16, N = 6 };
  uint64_t k14[3], k15[3];
  keys_with_home(k14, 3, CAP, 14, 100);
  keys_with_home(k15, 3, CAP, 15, 100);
  uint64_t keys[N] = {k14[0], k15[0], k14[1], k15[1], k14[2], k15[2]};
  for (int victim = 0; victim < N; victim++) {
    test_alloc ta;
    test_alloc_init(&ta);
    smbx__hash h;
    assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, SEED), 0);
    for (int i = 0; i < N; i++)
      assert_int_equal(smbx__hash_insert_u64(&h, keys[i], val(keys[i])), 0);
    /* slots 14, 15, 0, 1, 2, 3 are used */
    for (size_t s = 0; s < 4; s++)
      assert_true(occupied(&h, s));
    assert_true(occupied(&h, 14) && occupied(&h, 15));
    assert_false(occupied(&h, 4));
    assert_ptr_equal(smbx__hash_remove_u64(&h, keys[victim]),
                     val(keys[victim]));
    assert_invariant(&h);
    for (int i = 0; i < N; i++)
      if (i == victim)
        assert_null(smbx__hash_get_u64(&h, keys[i]));
      else
        assert_ptr_equal(smbx__hash_get_u64(&h, keys[i]), val(keys[i]));
    /* the hole left at the end of the chain is slot 3 */
    assert_false(occupied(&h, 3));
    smbx__hash_free(&h);
  }
}

/* Random inserts and removes against a reference set over a small key
 * space in a small table, checking all keys and the invariant every step. */
static void hash_random_ops_match_reference(void **state)
{
  (void)state;
  enum { KEYS = 48, CAP = 64 };
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, SEED), 0);
  bool in[KEYS] = {false};
  size_t n = 0;
  uint64_t x = 88172645463325252ull;
  for (int step = 0; step < 6000; step++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t k = x % KEYS;
    /* key k * 2^40 makes the keys differ only in high bits */
    uint64_t key = k << 40;
    if ((x >> 32) & 1) {
      int rc = smbx__hash_insert_u64(&h, key, val(k));
      if (in[k]) {
        assert_int_equal(rc, SMBX_ERR_EXISTS);
      } else if (n >= smbx__hash_max_len(CAP)) {
        assert_int_equal(rc, SMBX_ERR_LIMIT);
      } else {
        assert_int_equal(rc, 0);
        in[k] = true;
        n++;
      }
    } else {
      void *v = smbx__hash_remove_u64(&h, key);
      if (in[k]) {
        assert_ptr_equal(v, val(k));
        in[k] = false;
        n--;
      } else {
        assert_null(v);
      }
    }
    if (step % 16 == 0 || n > 40) {
      assert_invariant(&h);
      for (uint64_t j = 0; j < KEYS; j++)
        assert_ptr_equal(smbx__hash_get_u64(&h, j << 40),
                         in[j] ? val(j) : NULL);
    }
  }
  assert_int_equal(smbx__hash_len(&h), n);
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

static void hash_iterate_while_full_visits_each_once(void **state)
{
  (void)state;
  enum { CAP = 32 };
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, SEED), 0);
  size_t max = smbx__hash_max_len(CAP);
  for (uint64_t k = 0; k < max; k++)
    assert_int_equal(smbx__hash_insert_u64(&h, k, val(k)), 0);
  uint32_t seen = 0;
  size_t count = 0;
  smbx__hash_iter it;
  smbx__hash_iter_init(&h, &it);
  const void *key;
  void *v;
  while (smbx__hash_iter_next(&h, &it, &key, &v)) {
    uint64_t k;
    memcpy(&k, key, 8);
    assert_true(k < max);
    assert_false(seen & (1u << k));
    assert_ptr_equal(v, val(k));
    seen |= 1u << k;
    count++;
  }
  assert_int_equal(count, max);
  assert_false(smbx__hash_iter_next(&h, &it, &key, &v));
  smbx__hash_free(&h);
}

/* Removing during iteration (every entry, or every other one) visits each
 * entry exactly once, also when chains wrap and entries shift back into
 * the slot being visited. Done for many seeds to cover many layouts. */
static void hash_iterate_and_remove(void **state)
{
  (void)state;
  enum { CAP = 16 };
  for (uint64_t seed = 0; seed < 200; seed++) {
    for (int mode = 0; mode < 2; mode++) {
      test_alloc ta;
      test_alloc_init(&ta);
      smbx__hash h;
      assert_int_equal(smbx__hash_init(&h, &ta.a, 8, CAP, seed), 0);
      size_t max = smbx__hash_max_len(CAP);
      for (uint64_t k = 0; k < max; k++)
        assert_int_equal(smbx__hash_insert_u64(&h, k, val(k)), 0);
      uint32_t seen = 0;
      smbx__hash_iter it;
      smbx__hash_iter_init(&h, &it);
      const void *key;
      while (smbx__hash_iter_next(&h, &it, &key, NULL)) {
        uint64_t k;
        memcpy(&k, key, 8);
        assert_false(seen & (1u << k));
        seen |= 1u << k;
        if (mode == 0 || k % 2 == 0) {
          smbx__hash_iter_remove(&h, &it);
          /* a second remove before iter_next does nothing */
          size_t len = smbx__hash_len(&h);
          smbx__hash_iter_remove(&h, &it);
          assert_int_equal(smbx__hash_len(&h), len);
        }
      }
      assert_int_equal(seen, (1u << max) - 1);
      assert_invariant(&h);
      for (uint64_t k = 0; k < max; k++) {
        bool kept = mode == 1 && k % 2 == 1;
        assert_ptr_equal(smbx__hash_get_u64(&h, k), kept ? val(k) : NULL);
      }
      assert_int_equal(smbx__hash_len(&h), mode == 0 ? 0 : max / 2);
      smbx__hash_free(&h);
      assert_int_equal(ta.live, 0);
    }
  }
}

/* 32-byte keys (ClientGuid + LeaseKey): keys differing in a single byte
 * are distinct entries. */
static void hash_byte_keys_32(void **state)
{
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx__hash h;
  assert_int_equal(smbx__hash_init(&h, &ta.a, 32, 128, SEED), 0);
  uint8_t keys[64][32];
  for (int i = 0; i < 64; i++) {
    memset(keys[i], 0x5a, 32);
    keys[i][i / 2] ^= (uint8_t)(1u << (i % 2)); /* one bit differs */
    assert_int_equal(smbx__hash_insert(&h, keys[i], val((uint64_t)i)), 0);
  }
  uint8_t base[32];
  memset(base, 0x5a, 32);
  assert_null(smbx__hash_get(&h, base));
  assert_int_equal(smbx__hash_insert(&h, keys[3], val(99)), SMBX_ERR_EXISTS);
  for (int i = 0; i < 64; i += 3)
    assert_ptr_equal(smbx__hash_remove(&h, keys[i]), val((uint64_t)i));
  assert_invariant(&h);
  for (int i = 0; i < 64; i++)
    assert_ptr_equal(smbx__hash_get(&h, keys[i]),
                     i % 3 == 0 ? NULL : val((uint64_t)i));
  assert_int_equal(smbx__hash_grow(&h), 0);
  assert_invariant(&h);
  for (int i = 0; i < 64; i++)
    assert_ptr_equal(smbx__hash_get(&h, keys[i]),
                     i % 3 == 0 ? NULL : val((uint64_t)i));
  /* odd key length: 16 + 5 */
  smbx__hash h2;
  assert_int_equal(smbx__hash_init(&h2, &ta.a, 21, 8, SEED), 0);
  assert_int_equal(smbx__hash_insert(&h2, keys[0], val(0)), 0);
  assert_int_equal(smbx__hash_insert(&h2, keys[50], val(50)), 0);
  /* keys 50..53 differ from each other only in bytes 25 and 26, beyond the
   * 21 bytes of this table's key: they are one key here */
  assert_int_equal(smbx__hash_insert(&h2, keys[51], val(51)),
                   SMBX_ERR_EXISTS);
  assert_ptr_equal(smbx__hash_get(&h2, keys[52]), val(50));
  assert_ptr_equal(smbx__hash_get(&h2, keys[0]), val(0));
  assert_null(smbx__hash_get(&h2, keys[1]));
  smbx__hash_free(&h2);
  smbx__hash_free(&h);
  assert_int_equal(ta.live, 0);
}

/* Allocation failure: init and two grows each fail cleanly; after a failed
 * grow the table is unchanged and still usable. */
static int hash_alloc_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx__hash h;
  int rc = smbx__hash_init(&h, &ta->a, 8, 4, SEED);
  if (rc != 0) {
    assert_int_equal(rc, SMBX_ERR_NOMEM);
    assert_int_equal(smbx__hash_cap(&h), 0);
    assert_int_equal(smbx__hash_insert_u64(&h, 1, val(1)), SMBX_ERR_LIMIT);
    smbx__hash_free(&h);
    return rc;
  }
  uint64_t k = 0;
  for (int g = 0; g < 2; g++) {
    while (smbx__hash_insert_u64(&h, k, val(k)) == 0)
      k++;
    size_t cap = smbx__hash_cap(&h);
    uint8_t *slots = h.slots;
    rc = smbx__hash_grow(&h);
    if (rc != 0) {
      assert_int_equal(rc, SMBX_ERR_NOMEM);
      assert_int_equal(smbx__hash_cap(&h), cap);
      assert_ptr_equal(h.slots, slots);
      assert_int_equal(smbx__hash_len(&h), k);
      for (uint64_t j = 0; j < k; j++)
        assert_ptr_equal(smbx__hash_get_u64(&h, j), val(j));
      assert_int_equal(smbx__hash_insert_u64(&h, k, val(k)), SMBX_ERR_LIMIT);
      assert_ptr_equal(smbx__hash_remove_u64(&h, 0), val(0));
      assert_int_equal(smbx__hash_insert_u64(&h, k, val(k)), 0);
      assert_invariant(&h);
      smbx__hash_free(&h);
      return rc;
    }
    assert_invariant(&h);
  }
  assert_int_equal(smbx__hash_cap(&h), 16);
  for (uint64_t j = 0; j < k; j++)
    assert_ptr_equal(smbx__hash_get_u64(&h, j), val(j));
  smbx__hash_free(&h);
  return 0;
}

static void hash_alloc_failure_init_and_grow(void **state)
{
  (void)state;
  assert_int_equal(test_alloc_each_failure(hash_alloc_scenario, NULL), 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(hash_mixer_properties),
    cmocka_unit_test(hash_fixed_keys_avalanche),
    cmocka_unit_test(hash_max_len_and_cap_for),
    cmocka_unit_test(hash_init_rejects_bad_arguments),
    cmocka_unit_test(hash_insert_get_remove_basics),
    cmocka_unit_test(hash_u64_helpers_need_8_byte_keys),
    cmocka_unit_test(hash_limit_at_seven_eighths_then_grow),
    cmocka_unit_test(hash_forced_collisions_delete_mid_chain),
    cmocka_unit_test(hash_forced_collisions_many_keys_one_chain),
    cmocka_unit_test(hash_collisions_wrapping_past_the_end),
    cmocka_unit_test(hash_random_ops_match_reference),
    cmocka_unit_test(hash_iterate_while_full_visits_each_once),
    cmocka_unit_test(hash_iterate_and_remove),
    cmocka_unit_test(hash_byte_keys_32),
    cmocka_unit_test(hash_alloc_failure_init_and_grow),
  };
  return RUN_TESTS(tests);
}
