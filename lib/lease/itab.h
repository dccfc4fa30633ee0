/* SPDX-License-Identifier: MIT */
/* Index hash table: open addressing over 4-byte slots holding index + 1 of
 * an object in a caller-owned array (0 = empty), keys compared in place in
 * those objects (base + index * stride + key_off, key_len bytes). Linear
 * probing, backward-shift deletion. The slot count is a power of two
 * fixed at init (load at most 7/8), so insert/find/remove never allocate.
 * 4 bytes a slot keep a million-entry table near 8 bytes per entry.
 *
 * The caller hashes (seeded, from the host's random source, so a peer
 * choosing keys cannot force collisions) once per operation and passes the
 * hash in; the table never hashes on the way to an object. The slot bits
 * an index + 1 does not need (12 of them for a million objects) hold:
 *   - the entry's distance from its home slot (4 bits, 15 = "15 or more"),
 *     so a removal shifts the following entries back without reading
 *     their objects; only a saturated distance asks `rehash`;
 *   - a tag from the hash, so a probe dereferences (and misses the cache
 *     on) only objects whose tag matches, not every object of its run.
 * With fewer than 8 spare bits (over 16M objects) there is no distance
 * field (every shift asks `rehash`) and the tag takes what is left. */
#ifndef SMBX_LEASE_ITAB_H
#define SMBX_LEASE_ITAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <smbx/smbx.h>

/* The hash the owner gives object idx (its stored key). */
typedef uint64_t (*smbx__itab_rehash_fn)(const void *ctx, uint32_t idx);

typedef struct smbx__itab {
  uint32_t *slots;
  const smbx_allocator *a;
  const uint8_t *base; /* the objects' array */
  size_t stride;
  size_t key_off, key_len;
  size_t mask; /* slots - 1 */
  size_t len, max_len;
  uint32_t idx_mask;   /* slot bits holding index + 1 */
  uint32_t dist_shift; /* the distance field: (v >> dist_shift) & dist_max */
  uint32_t dist_max;   /* saturated distance; 0: no distance field */
  uint32_t tag_mask;   /* the remaining bits: tag */
  smbx__itab_rehash_fn rehash;
  const void *ctx;
} smbx__itab;

/* Sized for n entries. 0; SMBX_ERR_INVAL; SMBX_ERR_RANGE; SMBX_ERR_NOMEM. */
int smbx__itab_init(smbx__itab *t, const smbx_allocator *a, const void *base,
                    size_t stride, size_t key_off, size_t key_len, size_t n,
                    smbx__itab_rehash_fn rehash, const void *ctx);
void smbx__itab_free(smbx__itab *t);
/* Starts loading the cache line at p (a dependent miss to come later). */
static inline void smbx__prefetch(const void *p)
{
#if defined(__GNUC__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

/* The same for a line about to be written: a store that misses stalls the
 * stores queued behind it, a load does not. */
static inline void smbx__prefetch_write(const void *p)
{
#if defined(__GNUC__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

/* Starts loading the home slot of hash h (a lookup to come). */
static inline void smbx__itab_prefetch(const smbx__itab *t, uint64_t h)
{
  if (t->slots)
    smbx__prefetch(&t->slots[(size_t)h & t->mask]);
}

/* Index of the object with key (hash h), or UINT32_MAX. */
uint32_t smbx__itab_find(const smbx__itab *t, const void *key, uint64_t h);

/* A probe for hash h: smbx__itab_probe_next() yields, in probe order,
 * each object whose slot tag matches (the candidates whose key the caller
 * compares, in place or through what the object names), then UINT32_MAX.
 * A slot whose tag differs is passed without touching its object. */
typedef struct smbx__itab_probe {
  size_t i; /* the next slot */
  uint32_t tag;
} smbx__itab_probe;

static inline smbx__itab_probe smbx__itab_probe_start(const smbx__itab *t,
                                                      uint64_t h)
{
  smbx__itab_probe p = {(size_t)h & t->mask, (uint32_t)(h >> 32) & t->tag_mask};
  return p;
}

static inline uint32_t smbx__itab_probe_next(const smbx__itab *t,
                                             smbx__itab_probe *p)
{
  if (!t->slots)
    return UINT32_MAX;
  /* at least one slot stays empty (max_len < slots), so the probe ends */
  for (;;) {
    uint32_t v = t->slots[p->i];
    if (v == 0)
      return UINT32_MAX;
    p->i = (p->i + 1) & t->mask;
    if ((v & t->tag_mask) == p->tag)
      return (v & t->idx_mask) - 1;
  }
}

/* smbx__itab_find inlined into a caller that passes the table's key_len
 * as a constant, so the probe and the key compare compile to straight
 * loads. */
static inline uint32_t smbx__itab_find_len(const smbx__itab *t,
                                           const void *key, size_t key_len,
                                           uint64_t h)
{
  smbx__itab_probe p = smbx__itab_probe_start(t, h);
  for (uint32_t idx; (idx = smbx__itab_probe_next(t, &p)) != UINT32_MAX;)
    if (memcmp(t->base + (size_t)idx * t->stride + t->key_off, key,
               key_len) == 0)
      return idx;
  return UINT32_MAX;
}
/* Adds object idx (its key already stored, hash h). 0; SMBX_ERR_LIMIT when
 * full. */
int smbx__itab_insert(smbx__itab *t, uint32_t idx, uint64_t h);
/* Removes object idx (hash h). 0; SMBX_ERR_NOTFOUND. */
int smbx__itab_remove(smbx__itab *t, uint32_t idx, uint64_t h);
/* Bytes held by the slots. */
size_t smbx__itab_bytes(const smbx__itab *t);

#endif
