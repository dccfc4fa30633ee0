/* SPDX-License-Identifier: MIT */
/* Open-addressing hash table: fixed-size keys stored inline, a void *value
 * per key, linear probing, backward-shift deletion (no tombstones).
 *
 * The slot count is a power of two fixed at init; one block allocated once
 * through the owner's allocator, so insert/get/remove never allocate. An
 * insert that would push the load above 7/8 (always leaving one empty slot)
 * returns SMBX_ERR_LIMIT; the owner may then call smbx__hash_grow() (setup
 * paths only) and retry. Keys are key_len bytes compared with memcmp
 * (8 for the _u64 helpers, 16 for a LeaseKey, 32 for ClientGuid+LeaseKey);
 * values must not be NULL (NULL marks an empty slot). The hash is seeded by
 * the owner (from the host's random source) so a peer choosing keys cannot
 * force collisions. The allocator must outlive the table. */
#ifndef SMBX_CORE_HASH_H
#define SMBX_CORE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

#include "core/cursor.h"

typedef struct smbx__hash {
  uint8_t *slots; /* cap * stride bytes: key, padding, value */
  const smbx_allocator *a;
  size_t key_len;
  size_t voff;   /* offset of the value in a slot */
  size_t stride; /* bytes per slot (multiple of 8) */
  size_t cap;    /* slots, power of two (0 after a failed init) */
  size_t len;    /* entries */
  uint64_t seed;
} smbx__hash;

typedef struct smbx__hash_iter {
  size_t start; /* an empty slot: no probe chain crosses it */
  size_t step;  /* slots visited after start */
  bool current; /* step names the entry last returned (still present) */
} smbx__hash_iter;

/* A 64-bit mixer (bijective for a fixed seed) and a seeded byte hash. */
uint64_t smbx__hash_u64(uint64_t key, uint64_t seed);
uint64_t smbx__hash_bytes(const void *p, size_t len, uint64_t seed);
/* Odd constants with balanced bits (those of wyhash) keep the seeded words
 * away from zero, where a multiply would lose its other operand. */
#define SMBX__FOLD_K0 UINT64_C(0xa0761d6478bd642f)
#define SMBX__FOLD_K1 UINT64_C(0xe7037ed1a0b428db)
#define SMBX__FOLD_K2 UINT64_C(0x8ebc6af09c88c6e3)
#define SMBX__FOLD_K3 UINT64_C(0x589965cc75374cc3)

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 smbx__fold_u128;
#endif

/* a * b as a 128-bit product, its halves xored: the high half carries the
 * mixing of every bit of both operands down to the low bits. */
static inline uint64_t smbx__fold_mul(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
  smbx__fold_u128 p = (smbx__fold_u128)a * b;
  return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
  uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
  uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
  uint64_t lo = (mid << 32) | (uint32_t)ll;
  uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return lo ^ hi;
#endif
}

/* Seeded hashes of fixed 16- and 32-byte keys (a LeaseKey or ClientGuid;
 * a ClientGuid + LeaseKey pair): two or three 64x64->128 multiplies folded
 * to 64 bits, every input bit reaching every output bit, far cheaper than
 * smbx__hash_bytes. Not cryptographic: flooding resistance rests on the
 * seed staying secret, as for smbx__hash_bytes. Inline: a lookup's hash
 * is a few instructions, less than a call's. */
static inline uint64_t smbx__hash_16(const uint8_t k[16], uint64_t seed)
{
  uint64_t h = smbx__fold_mul(smbx__get_le64(k) ^ seed ^ SMBX__FOLD_K0,
                              smbx__get_le64(k + 8) ^ seed ^ SMBX__FOLD_K1);
  return smbx__fold_mul(h ^ SMBX__FOLD_K2, seed ^ SMBX__FOLD_K3);
}

static inline uint64_t smbx__hash_32(const uint8_t a[16], const uint8_t b[16],
                                     uint64_t seed)
{
  /* the two halves multiply independently (in parallel on the CPU) */
  uint64_t x = smbx__fold_mul(smbx__get_le64(a) ^ seed ^ SMBX__FOLD_K0,
                              smbx__get_le64(a + 8) ^ seed ^ SMBX__FOLD_K1);
  uint64_t y = smbx__fold_mul(smbx__get_le64(b) ^ seed ^ SMBX__FOLD_K2,
                              smbx__get_le64(b + 8) ^ seed ^ SMBX__FOLD_K3);
  return smbx__fold_mul(x ^ SMBX__FOLD_K1, y ^ seed ^ SMBX__FOLD_K2);
}

/* Largest number of entries a table of cap slots holds (7/8 of cap, and
 * always at least one slot empty). */
size_t smbx__hash_max_len(size_t cap);
/* Smallest power-of-two slot count that holds n entries; 0 on overflow. */
size_t smbx__hash_cap_for(size_t n);

/* cap: slots, a power of two >= 2; key_len 1..64 bytes. Returns 0;
 * SMBX_ERR_INVAL on NULL h/a or a bad cap/key_len; SMBX_ERR_RANGE when
 * the size overflows; SMBX_ERR_NOMEM. On failure *h is an empty table of
 * capacity 0 (every insert fails with SMBX_ERR_LIMIT; free is a no-op). */
int smbx__hash_init(smbx__hash *h, const smbx_allocator *a, size_t key_len,
                    size_t cap, uint64_t seed);
/* Releases the slots; leaves an empty table of capacity 0. */
void smbx__hash_free(smbx__hash *h);
/* Doubles the slot count, rehashing every entry. 0; SMBX_ERR_RANGE (size
 * overflow, or capacity 0); SMBX_ERR_NOMEM. On failure nothing changes. */
int smbx__hash_grow(smbx__hash *h);
/* Removes every entry. */
void smbx__hash_clear(smbx__hash *h);

/* Adds key -> value. 0; SMBX_ERR_INVAL on a NULL value; SMBX_ERR_EXISTS
 * when the key is present (its value unchanged); SMBX_ERR_LIMIT when the
 * table is at smbx__hash_max_len(). */
int smbx__hash_insert(smbx__hash *h, const void *key, void *value);
/* The value stored for key, or NULL. */
void *smbx__hash_get(const smbx__hash *h, const void *key);
/* Replaces the value of a present key; returns the old value or NULL
 * (nothing stored) when the key is absent or value is NULL. */
void *smbx__hash_replace(smbx__hash *h, const void *key, void *value);
/* Removes key; returns its value, or NULL when absent. */
void *smbx__hash_remove(smbx__hash *h, const void *key);

/* The same for 8-byte tables keyed by a uint64_t (key_len must be 8). */
int smbx__hash_insert_u64(smbx__hash *h, uint64_t key, void *value);
void *smbx__hash_get_u64(const smbx__hash *h, uint64_t key);
void *smbx__hash_remove_u64(smbx__hash *h, uint64_t key);

static inline size_t smbx__hash_len(const smbx__hash *h)
{
  return h->len;
}

static inline size_t smbx__hash_cap(const smbx__hash *h)
{
  return h->cap;
}

/* Iteration in slot order. Between init and the end of the walk the table
 * may be changed only by smbx__hash_iter_remove (each entry is then still
 * visited exactly once). */
void smbx__hash_iter_init(const smbx__hash *h, smbx__hash_iter *it);
/* Returns true and sets *key (pointer into the table, key_len bytes) and
 * *value (either may be NULL) for the next entry; false at the end. */
bool smbx__hash_iter_next(const smbx__hash *h, smbx__hash_iter *it,
                          const void **key, void **value);
/* Removes the entry the last iter_next returned (no-op when called again
 * before the next iter_next). */
void smbx__hash_iter_remove(smbx__hash *h, smbx__hash_iter *it);

#endif
