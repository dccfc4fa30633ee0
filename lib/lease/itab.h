/* SPDX-License-Identifier: MIT */
/* Index hash table: open addressing over 4-byte slots holding index + 1 of
 * an object in a caller-owned array (0 = empty), keys compared in place in
 * those objects (base + index * stride + key_off, key_len bytes). Linear
 * probing, backward-shift deletion. The slot count is a power of two
 * fixed at init (load at most 7/8), so insert/find/remove never allocate.
 * 4 bytes a slot keep a million-entry table near 8 bytes per entry. The
 * slot bits an index + 1 does not need (12 of them for a million objects)
 * hold a tag from the hash, so a probe dereferences (and misses the cache
 * on) only objects whose tag matches, not every object of its run. Seeded (host random) so a
 * peer choosing keys cannot force collisions. */
#ifndef SMBX_LEASE_ITAB_H
#define SMBX_LEASE_ITAB_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

typedef struct smbx__itab {
  uint32_t *slots;
  const smbx_allocator *a;
  const uint8_t *base; /* the objects' array */
  size_t stride;
  size_t key_off, key_len;
  size_t mask; /* slots - 1 */
  size_t len, max_len;
  uint32_t idx_mask; /* slot bits holding index + 1; the rest: tag */
  uint64_t seed;
} smbx__itab;

/* Sized for n entries. 0; SMBX_ERR_INVAL; SMBX_ERR_RANGE; SMBX_ERR_NOMEM. */
int smbx__itab_init(smbx__itab *t, const smbx_allocator *a, const void *base,
                    size_t stride, size_t key_off, size_t key_len, size_t n,
                    uint64_t seed);
void smbx__itab_free(smbx__itab *t);
/* Index of the object with key, or UINT32_MAX. */
uint32_t smbx__itab_find(const smbx__itab *t, const void *key);
/* Adds object idx (its key already stored). 0; SMBX_ERR_LIMIT when full. */
int smbx__itab_insert(smbx__itab *t, uint32_t idx);
/* Removes object idx (its key still stored). 0; SMBX_ERR_NOTFOUND. */
int smbx__itab_remove(smbx__itab *t, uint32_t idx);
/* Bytes held by the slots. */
size_t smbx__itab_bytes(const smbx__itab *t);

#endif
