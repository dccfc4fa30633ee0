/* SPDX-License-Identifier: MIT */
#include "core/hash.h"

#include <string.h>

#include "core/alloc.h"
#include "core/cursor.h"

#define SLOT_ALIGN 8
#define KEY_LEN_MAX 64

/* xor-shift-multiply finalizer (splitmix64 constants): a bijection on 64
 * bits where every input bit affects every output bit. */
static uint64_t mix(uint64_t x)
{
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

uint64_t smbx__hash_u64(uint64_t key, uint64_t seed)
{
  return mix(key ^ seed);
}

uint64_t smbx__hash_bytes(const void *p, size_t len, uint64_t seed)
{
  const uint8_t *b = p;
  /* the length goes in first, so zero padding of the tail is unambiguous */
  uint64_t h = seed ^ mix((uint64_t)len + UINT64_C(0x9e3779b97f4a7c15));
  while (len >= 8) {
    h = mix(h ^ smbx__get_le64(b));
    b += 8;
    len -= 8;
  }
  if (len) {
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
      w |= (uint64_t)b[i] << (8 * i);
    h = mix(h ^ w);
  }
  return mix(h ^ seed);
}

size_t smbx__hash_max_len(size_t cap)
{
  if (cap < 2)
    return 0;
  size_t reserve = cap / 8;
  return cap - (reserve ? reserve : 1);
}

size_t smbx__hash_cap_for(size_t n)
{
  size_t cap = 2;
  while (smbx__hash_max_len(cap) < n) {
    if (cap > SIZE_MAX / 2)
      return 0;
    cap *= 2;
  }
  return cap;
}

static uint8_t *slot_at(const smbx__hash *h, size_t i)
{
  return h->slots + i * h->stride;
}

static void *slot_value(const smbx__hash *h, const uint8_t *slot)
{
  void *v;
  memcpy(&v, slot + h->voff, sizeof v);
  return v;
}

static void slot_set(const smbx__hash *h, uint8_t *slot, const void *key,
                     void *value)
{
  memcpy(slot, key, h->key_len);
  memcpy(slot + h->voff, &value, sizeof value);
}

static void slot_clear(const smbx__hash *h, uint8_t *slot)
{
  void *null = NULL;
  memcpy(slot + h->voff, &null, sizeof null);
}

static size_t home_of(const smbx__hash *h, const void *key)
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

/* Slot holding key, or SIZE_MAX; *empty gets the first empty slot of the
 * probe chain when the key is absent. */
static size_t find(const smbx__hash *h, const void *key, size_t *empty)
{
  if (h->cap == 0)
    return SIZE_MAX;
  size_t mask = h->cap - 1;
  /* at least one slot is always empty, so the probe ends */
  for (size_t i = home_of(h, key);; i = (i + 1) & mask) {
    const uint8_t *s = slot_at(h, i);
    if (!slot_value(h, s)) {
      if (empty)
        *empty = i;
      return SIZE_MAX;
    }
    if (memcmp(s, key, h->key_len) == 0)
      return i;
  }
}

static void reset(smbx__hash *h, const smbx_allocator *a, size_t key_len,
                  uint64_t seed)
{
  h->slots = NULL;
  h->a = a;
  h->key_len = key_len;
  h->voff = (key_len + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
  h->stride = h->voff +
              (sizeof(void *) + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
  h->cap = 0;
  h->len = 0;
  h->seed = seed;
}

int smbx__hash_init(smbx__hash *h, const smbx_allocator *a, size_t key_len,
                    size_t cap, uint64_t seed)
{
  if (!h)
    return SMBX_ERR_INVAL;
  reset(h, a, key_len <= KEY_LEN_MAX ? key_len : 0, seed);
  if (!a || key_len == 0 || key_len > KEY_LEN_MAX || cap < 2 ||
      (cap & (cap - 1)) != 0)
    return SMBX_ERR_INVAL;
  if (cap > SIZE_MAX / h->stride)
    return SMBX_ERR_RANGE;
  h->slots = smbx__calloc(a, cap, h->stride, SLOT_ALIGN);
  if (!h->slots)
    return SMBX_ERR_NOMEM;
  h->cap = cap;
  return 0;
}

void smbx__hash_free(smbx__hash *h)
{
  if (h->slots)
    smbx__free(h->a, h->slots, h->cap * h->stride, SLOT_ALIGN);
  h->slots = NULL;
  h->cap = 0;
  h->len = 0;
}

void smbx__hash_clear(smbx__hash *h)
{
  for (size_t i = 0; i < h->cap; i++)
    slot_clear(h, slot_at(h, i));
  h->len = 0;
}

int smbx__hash_grow(smbx__hash *h)
{
  if (h->cap == 0 || h->cap > SIZE_MAX / 2 / h->stride)
    return SMBX_ERR_RANGE;
  smbx__hash n = *h;
  n.cap = h->cap * 2;
  n.slots = smbx__calloc(h->a, n.cap, n.stride, SLOT_ALIGN);
  if (!n.slots)
    return SMBX_ERR_NOMEM;
  for (size_t i = 0; i < h->cap; i++) {
    const uint8_t *s = slot_at(h, i);
    void *v = slot_value(h, s);
    if (!v)
      continue;
    size_t j = home_of(&n, s);
    while (slot_value(&n, slot_at(&n, j)))
      j = (j + 1) & (n.cap - 1);
    slot_set(&n, slot_at(&n, j), s, v);
  }
  smbx__free(h->a, h->slots, h->cap * h->stride, SLOT_ALIGN);
  *h = n;
  return 0;
}

int smbx__hash_insert(smbx__hash *h, const void *key, void *value)
{
  if (!value || !key)
    return SMBX_ERR_INVAL;
  size_t empty = 0;
  if (find(h, key, &empty) != SIZE_MAX)
    return SMBX_ERR_EXISTS;
  if (h->len >= smbx__hash_max_len(h->cap))
    return SMBX_ERR_LIMIT;
  slot_set(h, slot_at(h, empty), key, value);
  h->len++;
  return 0;
}

void *smbx__hash_get(const smbx__hash *h, const void *key)
{
  size_t i = find(h, key, NULL);
  return i == SIZE_MAX ? NULL : slot_value(h, slot_at(h, i));
}

void *smbx__hash_replace(smbx__hash *h, const void *key, void *value)
{
  if (!value)
    return NULL;
  size_t i = find(h, key, NULL);
  if (i == SIZE_MAX)
    return NULL;
  uint8_t *s = slot_at(h, i);
  void *old = slot_value(h, s);
  memcpy(s + h->voff, &value, sizeof value);
  return old;
}

/* Empties slot i and shifts later members of its probe chain back so no
 * lookup ever has to step over a hole (no tombstones). */
static void remove_at(smbx__hash *h, size_t i)
{
  size_t mask = h->cap - 1, hole = i;
  for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    uint8_t *s = slot_at(h, j);
    void *v = slot_value(h, s);
    if (!v)
      break;
    size_t home = home_of(h, s);
    /* the entry may move into the hole unless its home lies after the
     * hole (cyclically within (hole, j]) */
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      memcpy(slot_at(h, hole), s, h->stride);
      hole = j;
    }
  }
  slot_clear(h, slot_at(h, hole));
  h->len--;
}

void *smbx__hash_remove(smbx__hash *h, const void *key)
{
  size_t i = find(h, key, NULL);
  if (i == SIZE_MAX)
    return NULL;
  void *v = slot_value(h, slot_at(h, i));
  remove_at(h, i);
  return v;
}

/* 8-byte keys (request MessageIds on the data path): the slot is the key
 * then the value, 16 bytes (see reset); the probe compares words, no
 * memcmp. */
_Static_assert(sizeof(void *) <= SLOT_ALIGN, "a u64 slot is 16 bytes");
static uint64_t slot_key_u64(const uint8_t *slot)
{
  uint64_t k;
  memcpy(&k, slot, sizeof k);
  return k;
}

/* Slot holding key, or SIZE_MAX with *empty the probe chain's first empty
 * slot; h->key_len is 8 and h->cap non-zero. */
static size_t find_u64(const smbx__hash *h, uint64_t key, size_t *empty)
{
  size_t mask = h->cap - 1;
  for (size_t i = (size_t)smbx__hash_u64(key, h->seed) & mask;;
       i = (i + 1) & mask) {
    const uint8_t *s = h->slots + i * 16;
    void *v;
    memcpy(&v, s + 8, sizeof v);
    if (!v) {
      *empty = i;
      return SIZE_MAX;
    }
    if (slot_key_u64(s) == key)
      return i;
  }
}

int smbx__hash_insert_u64(smbx__hash *h, uint64_t key, void *value)
{
  if (h->key_len != 8 || !value)
    return SMBX_ERR_INVAL;
  if (h->cap == 0)
    return SMBX_ERR_LIMIT;
  size_t empty = 0;
  if (find_u64(h, key, &empty) != SIZE_MAX)
    return SMBX_ERR_EXISTS;
  if (h->len >= smbx__hash_max_len(h->cap))
    return SMBX_ERR_LIMIT;
  slot_set(h, slot_at(h, empty), &key, value);
  h->len++;
  return 0;
}

void *smbx__hash_get_u64(const smbx__hash *h, uint64_t key)
{
  if (h->key_len != 8 || h->cap == 0)
    return NULL;
  size_t empty;
  size_t i = find_u64(h, key, &empty);
  return i == SIZE_MAX ? NULL : slot_value(h, slot_at(h, i));
}

void *smbx__hash_remove_u64(smbx__hash *h, uint64_t key)
{
  if (h->key_len != 8 || h->cap == 0)
    return NULL;
  size_t empty;
  size_t i = find_u64(h, key, &empty);
  if (i == SIZE_MAX)
    return NULL;
  void *v = slot_value(h, slot_at(h, i));
  remove_at(h, i);
  return v;
}

void smbx__hash_iter_init(const smbx__hash *h, smbx__hash_iter *it)
{
  it->start = 0;
  it->step = 0;
  it->current = false;
  for (size_t i = 0; i < h->cap; i++) {
    if (!slot_value(h, slot_at(h, i))) {
      it->start = i;
      break;
    }
  }
}

bool smbx__hash_iter_next(const smbx__hash *h, smbx__hash_iter *it,
                          const void **key, void **value)
{
  it->current = false;
  while (it->step + 1 < h->cap) {
    it->step++;
    const uint8_t *s = slot_at(h, (it->start + it->step) & (h->cap - 1));
    void *v = slot_value(h, s);
    if (v) {
      it->current = true;
      if (key)
        *key = s;
      if (value)
        *value = v;
      return true;
    }
  }
  return false;
}

void smbx__hash_iter_remove(smbx__hash *h, smbx__hash_iter *it)
{
  if (!it->current)
    return;
  it->current = false;
  remove_at(h, (it->start + it->step) & (h->cap - 1));
  /* a later chain member may have moved into slot i: look at it again */
  it->step--;
}
