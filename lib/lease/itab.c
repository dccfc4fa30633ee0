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

static size_t home(const smbx__itab *t, const void *key)
{
  return (size_t)smbx__hash_bytes(key, t->key_len, t->seed) & t->mask;
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
  /* at least one slot stays empty (max_len < slots), so the probe ends */
  for (size_t i = home(t, key);; i = (i + 1) & t->mask) {
    uint32_t v = t->slots[i];
    if (v == 0)
      return UINT32_MAX;
    if (memcmp(key_at(t, v - 1), key, t->key_len) == 0)
      return v - 1;
  }
}

int smbx__itab_insert(smbx__itab *t, uint32_t idx)
{
  if (!t->slots || t->len >= t->max_len)
    return SMBX_ERR_LIMIT;
  size_t i = home(t, key_at(t, idx));
  while (t->slots[i] != 0)
    i = (i + 1) & t->mask;
  t->slots[i] = idx + 1;
  t->len++;
  return 0;
}

int smbx__itab_remove(smbx__itab *t, uint32_t idx)
{
  if (!t->slots)
    return SMBX_ERR_NOTFOUND;
  size_t i = home(t, key_at(t, idx));
  for (;; i = (i + 1) & t->mask) {
    if (t->slots[i] == 0)
      return SMBX_ERR_NOTFOUND;
    if (t->slots[i] == idx + 1)
      break;
  }
  /* backward shift: pull later members of the probe run into the hole
   * unless their home lies cyclically in (hole, j] */
  size_t hole = i;
  for (size_t j = (i + 1) & t->mask; t->slots[j] != 0; j = (j + 1) & t->mask) {
    size_t h = home(t, key_at(t, t->slots[j] - 1));
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
