/* SPDX-License-Identifier: MIT */
/* Index hash table (see itab.h). */
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "lease/itab.h"

/* distance bits (when at least DIST_MIN_SPARE slot bits are spare) */
#define DIST_BITS 4u
#define DIST_MIN_SPARE 8u

static size_t home(const smbx__itab *t, uint64_t h)
{
  return (size_t)h & t->mask;
}

/* The tag bits of a slot: hash bits above those any slot index uses. */
static uint32_t tag_of(const smbx__itab *t, uint64_t h)
{
  return (uint32_t)(h >> 32) & t->tag_mask;
}

/* Object index + 1 of a non-empty slot. */
static uint32_t slot_idx(const smbx__itab *t, uint32_t v)
{
  return v & t->idx_mask;
}

/* Slot value of object idx at distance d from its home. */
static uint32_t slot_make(const smbx__itab *t, uint32_t idx, size_t d,
                          uint32_t tag)
{
  uint32_t dist = d < t->dist_max ? (uint32_t)d : t->dist_max;
  return (idx + 1) | dist << t->dist_shift | tag;
}

/* Distance of slot j's entry from its home: from the slot while below
 * saturation, else from the owner's hash of the object. */
static size_t slot_dist(const smbx__itab *t, size_t j, uint32_t v)
{
  uint32_t dist = (v >> t->dist_shift) & t->dist_max;
  if (dist < t->dist_max)
    return dist;
  uint64_t h = t->rehash(t->ctx, slot_idx(t, v) - 1);
  return (j - home(t, h)) & t->mask;
}

int smbx__itab_init(smbx__itab *t, const smbx_allocator *a, const void *base,
                    size_t stride, size_t key_off, size_t key_len, size_t n,
                    smbx__itab_rehash_fn rehash, const void *ctx)
{
  if (!t)
    return SMBX_ERR_INVAL;
  memset(t, 0, sizeof *t);
  if (!a || !base || !key_len || key_off + key_len > stride || n == 0 ||
      n >= UINT32_MAX || !rehash)
    return SMBX_ERR_INVAL;
  size_t cap = smbx__hash_cap_for(n);
  if (cap == 0 || cap > SIZE_MAX / sizeof(uint32_t))
    return SMBX_ERR_RANGE;
  t->slots = smbx__alloc(a, cap * sizeof(uint32_t), _Alignof(uint32_t));
  if (!t->slots)
    return SMBX_ERR_NOMEM;
  memset(t->slots, 0, cap * sizeof(uint32_t));
  t->a = a;
  t->base = base;
  t->stride = stride;
  t->key_off = key_off;
  t->key_len = key_len;
  t->mask = cap - 1;
  t->max_len = smbx__hash_max_len(cap);
  t->rehash = rehash;
  t->ctx = ctx;
  /* index + 1 needs the low bits up to n; then the distance; the rest
   * carry the tag */
  uint32_t idx_bits = 1;
  t->idx_mask = 1;
  while (t->idx_mask < n) {
    t->idx_mask = t->idx_mask << 1 | 1;
    idx_bits++;
  }
  if (32 - idx_bits >= DIST_MIN_SPARE) {
    t->dist_shift = idx_bits;
    t->dist_max = (1u << DIST_BITS) - 1;
  }
  t->tag_mask = ~(t->idx_mask | t->dist_max << t->dist_shift);
  return 0;
}

void smbx__itab_free(smbx__itab *t)
{
  if (t && t->slots)
    smbx__free(t->a, t->slots, (t->mask + 1) * sizeof(uint32_t),
               _Alignof(uint32_t));
  if (t)
    t->slots = NULL;
}

uint32_t smbx__itab_find(const smbx__itab *t, const void *key, uint64_t h)
{
  return smbx__itab_find_len(t, key, t->key_len, h);
}

int smbx__itab_insert(smbx__itab *t, uint32_t idx, uint64_t h)
{
  if (!t->slots || t->len >= t->max_len || idx >= t->idx_mask)
    return SMBX_ERR_LIMIT;
  size_t i = home(t, h);
  while (t->slots[i] != 0)
    i = (i + 1) & t->mask;
  t->slots[i] = slot_make(t, idx, (i - home(t, h)) & t->mask, tag_of(t, h));
  t->len++;
  return 0;
}

int smbx__itab_remove(smbx__itab *t, uint32_t idx, uint64_t h)
{
  if (!t->slots || idx >= t->idx_mask)
    return SMBX_ERR_NOTFOUND;
  size_t i = home(t, h);
  for (;; i = (i + 1) & t->mask) {
    if (t->slots[i] == 0)
      return SMBX_ERR_NOTFOUND;
    if (slot_idx(t, t->slots[i]) == idx + 1)
      break;
  }
  /* backward shift: pull later members of the probe run into the hole
   * unless their home lies cyclically in (hole, j], i.e. unless they are
   * closer to home than to the hole */
  size_t hole = i;
  for (size_t j = (i + 1) & t->mask; t->slots[j] != 0; j = (j + 1) & t->mask) {
    uint32_t v = t->slots[j];
    size_t d = slot_dist(t, j, v), gap = (j - hole) & t->mask;
    if (d >= gap) {
      t->slots[hole] = slot_make(t, slot_idx(t, v) - 1, d - gap,
                                 v & t->tag_mask);
      hole = j;
    }
  }
  t->slots[hole] = 0;
  t->len--;
  return 0;
}

size_t smbx__itab_bytes(const smbx__itab *t)
{
  return t->slots ? (t->mask + 1) * sizeof(uint32_t) : 0;
}
