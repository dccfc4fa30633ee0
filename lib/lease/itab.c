/* SPDX-License-Identifier: MIT */
/* Index hash table (see itab.h). */
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "lease/itab.h"

static const uint8_t *key_at(const smbx__itab *t, uint32_t idx)
{
  return t->base + (size_t)idx * t->stride + t->key_off;
}

static uint64_t hash_of(const smbx__itab *t, const void *key)
{
  return smbx__hash_bytes(key, t->key_len, t->seed);
}

static size_t home(const smbx__itab *t, uint64_t h)
{
  return (size_t)h & t->mask;
}

/* The tag bits of a slot: hash bits above those any slot index uses. */
static uint32_t tag_of(const smbx__itab *t, uint64_t h)
{
  return (uint32_t)(h >> 32) & ~t->idx_mask;
}

/* Object index + 1 of a non-empty slot. */
static uint32_t slot_idx(const smbx__itab *t, uint32_t v)
{
  return v & t->idx_mask;
}

int smbx__itab_init(smbx__itab *t, const smbx_allocator *a, const void *base,
                    size_t stride, size_t key_off, size_t key_len, size_t n,
                    uint64_t seed)
{
  if (!t)
    return SMBX_ERR_INVAL;
  memset(t, 0, sizeof *t);
  if (!a || !base || !key_len || key_off + key_len > stride || n == 0 ||
      n >= UINT32_MAX)
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
  t->seed = seed;
  /* index + 1 needs the low bits up to n; the rest carry the tag */
  t->idx_mask = 1;
  while (t->idx_mask < n)
    t->idx_mask = t->idx_mask << 1 | 1;
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

uint32_t smbx__itab_find(const smbx__itab *t, const void *key)
{
  if (!t->slots)
    return UINT32_MAX;
  uint64_t h = hash_of(t, key);
  uint32_t tag = tag_of(t, h);
  /* at least one slot stays empty (max_len < slots), so the probe ends;
   * a slot whose tag differs is passed without touching its object */
  for (size_t i = home(t, h);; i = (i + 1) & t->mask) {
    uint32_t v = t->slots[i];
    if (v == 0)
      return UINT32_MAX;
    if ((v & ~t->idx_mask) == tag &&
        memcmp(key_at(t, slot_idx(t, v) - 1), key, t->key_len) == 0)
      return slot_idx(t, v) - 1;
  }
}

int smbx__itab_insert(smbx__itab *t, uint32_t idx)
{
  if (!t->slots || t->len >= t->max_len || idx >= t->idx_mask)
    return SMBX_ERR_LIMIT;
  uint64_t h = hash_of(t, key_at(t, idx));
  size_t i = home(t, h);
  while (t->slots[i] != 0)
    i = (i + 1) & t->mask;
  t->slots[i] = (idx + 1) | tag_of(t, h);
  t->len++;
  return 0;
}

int smbx__itab_remove(smbx__itab *t, uint32_t idx)
{
  if (!t->slots || idx >= t->idx_mask)
    return SMBX_ERR_NOTFOUND;
  size_t i = home(t, hash_of(t, key_at(t, idx)));
  for (;; i = (i + 1) & t->mask) {
    if (t->slots[i] == 0)
      return SMBX_ERR_NOTFOUND;
    if (slot_idx(t, t->slots[i]) == idx + 1)
      break;
  }
  /* backward shift: pull later members of the probe run into the hole
   * unless their home lies cyclically in (hole, j] */
  size_t hole = i;
  for (size_t j = (i + 1) & t->mask; t->slots[j] != 0; j = (j + 1) & t->mask) {
    size_t h = home(t, hash_of(t, key_at(t, slot_idx(t, t->slots[j]) - 1)));
    if (((j - h) & t->mask) >= ((j - hole) & t->mask)) {
      t->slots[hole] = t->slots[j];
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
