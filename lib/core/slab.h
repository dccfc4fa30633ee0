/* SPDX-License-Identifier: MIT */
/* Pool of n fixed-size objects allocated at init in one block.
 *
 * get/put are O(1) through a free list kept outside the objects (an object's
 * bytes are never touched by the pool). Objects are named by index
 * (0..n-1) or by a 64-bit handle = index | generation << 32: each slot's
 * generation is odd while the object is live and even while free, and it
 * changes on every get and put, so a handle of a freed (or reused) object
 * is rejected. Handle 0 is never valid (a live generation is odd). A second
 * put of the same object returns SMBX_ERR_STATE and changes nothing. The
 * pool never grows (pointers into it stay valid until free). The allocator
 * must outlive the slab. */
#ifndef SMBX_CORE_SLAB_H
#define SMBX_CORE_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

typedef struct smbx__slab_meta {
  uint32_t gen;  /* odd: live */
  uint32_t next; /* free-list link (index; SMBX__SLAB_NONE ends it) */
} smbx__slab_meta;

typedef struct smbx__slab {
  uint8_t *mem;          /* objects (n * stride), then the meta array */
  smbx__slab_meta *meta; /* inside mem */
  const smbx_allocator *a;
  size_t stride; /* object size rounded up to its alignment */
  /* stride = odd << shift; inv * odd == 1 mod 2^64: an exact division by
   * the stride is a shift and a multiply (pointer -> index without a
   * divide instruction on every handle and put) */
  uint64_t stride_inv;
  unsigned stride_shift;
  size_t align;
  size_t bytes; /* size of the block */
  uint32_t n;
  uint32_t live;
  uint32_t free_head;
  uint32_t touched; /* indices ever handed out: every live one is below */
} smbx__slab;

#define SMBX__SLAB_NONE UINT32_MAX
#define SMBX__SLAB_MAX (UINT32_MAX - 1) /* most objects a slab holds */

/* n objects of obj_size bytes aligned to obj_align (power of two <= 64).
 * Returns 0; SMBX_ERR_INVAL on NULL s/a, obj_size 0, n 0 or above
 * SMBX__SLAB_MAX, or a bad alignment; SMBX_ERR_RANGE when the block size
 * overflows; SMBX_ERR_NOMEM. On failure *s is an empty pool of 0 objects
 * (get returns NULL, free is a no-op). */
int smbx__slab_init(smbx__slab *s, const smbx_allocator *a, size_t obj_size,
                    size_t obj_align, uint32_t n);
#define SMBX__SLAB_INIT(s, a, type, n) \
  smbx__slab_init((s), (a), sizeof(type), _Alignof(type), (n))
/* Releases the block (every object with it); leaves an empty pool. */
void smbx__slab_free(smbx__slab *s);

/* Takes a free object (contents undefined / zero-filled); NULL when every
 * object is live. Free objects are reused last-in first-out; a fresh pool
 * hands out index 0, 1, 2, ... Inline: every request and hold of the
 * data path takes one. */
static inline void *smbx__slab_get(smbx__slab *s)
{
  uint32_t i = s->free_head;
  if (i == SMBX__SLAB_NONE)
    return NULL;
  smbx__slab_meta *m = &s->meta[i];
  s->free_head = m->next;
  m->next = SMBX__SLAB_NONE;
  m->gen++; /* even -> odd: live */
  s->live++;
  if (i >= s->touched)
    s->touched = i + 1;
  return s->mem + (size_t)i * s->stride;
}
void *smbx__slab_get_zeroed(smbx__slab *s);
/* smbx__slab_get with the object's handle in *handle (a caller that keeps
 * the handle skips a pointer -> index conversion). */
static inline void *smbx__slab_get_h(smbx__slab *s, uint64_t *handle)
{
  uint32_t i = s->free_head;
  void *obj = smbx__slab_get(s);
  if (obj)
    *handle = (uint64_t)i | (uint64_t)s->meta[i].gen << 32;
  return obj;
}

/* Same by handle. 0; SMBX_ERR_NOTFOUND for a stale or invalid handle. */
int smbx__slab_put_handle(smbx__slab *s, uint64_t handle);

/* The object at index whether live or free (setup code that prepares every
 * object, e.g. registering the block once); NULL when out of range. The
 * objects are one contiguous span: smbx__slab_slot(s, 0), n * stride. */
void *smbx__slab_slot(const smbx__slab *s, size_t index);
/* The live object a handle names, or NULL when stale or invalid. Inline:
 * every public call resolves one or more handles. */
static inline void *smbx__slab_lookup(const smbx__slab *s, uint64_t handle)
{
  uint32_t i = (uint32_t)handle;
  uint32_t gen = (uint32_t)(handle >> 32);
  /* an odd generation is a live object; equal to the slot's: not reused */
  if (i >= s->n || !(gen & 1u) || s->meta[i].gen != gen)
    return NULL;
  return s->mem + (size_t)i * s->stride;
}

/* True when obj is a live object of this pool. */
bool smbx__slab_is_live(const smbx__slab *s, const void *obj);

static inline uint32_t smbx__slab_live(const smbx__slab *s)
{
  return s->live;
}

static inline uint32_t smbx__slab_cap(const smbx__slab *s)
{
  return s->n;
}

/* A bound for scans over live objects: no live index is at or above it.
 * The free list hands out fresh indices in order, reused ones first, so it
 * is the peak number of live objects, not the capacity. */
static inline uint32_t smbx__slab_scan_end(const smbx__slab *s)
{
  return s->touched;
}

/* Bytes from one object to the next (object size rounded up to align). */
static inline size_t smbx__slab_stride(const smbx__slab *s)
{
  return s->stride;
}

/* ---- inline: every public call and every message resolves objects ---- */

/* Index of obj (live or not), or SIZE_MAX when obj is not the start of an
 * object of this pool. */
static inline size_t smbx__slab_index(const smbx__slab *s, const void *obj)
{
  uintptr_t base = (uintptr_t)s->mem, p = (uintptr_t)obj;
  if (!s->mem || p < base)
    return SIZE_MAX;
  uintptr_t off = p - base;
  if (off & (((uintptr_t)1 << s->stride_shift) - 1))
    return SIZE_MAX;
  /* (off >> shift) times the odd part's inverse is off / stride when the
   * stride divides off, and above UINT64_MAX / odd >= n when it does not
   * (the divisibility test of Granlund and Montgomery): one compare
   * rejects interior pointers and pointers past the end alike */
  uint64_t i = (uint64_t)(off >> s->stride_shift) * s->stride_inv;
  return i < s->n ? (size_t)i : SIZE_MAX;
}

static inline bool smbx__slab_live_at(const smbx__slab *s, size_t i)
{
  return i < s->n && (s->meta[i].gen & 1u);
}

/* Returns obj to the pool. 0; SMBX_ERR_INVAL when obj is not the start of
 * an object of this pool; SMBX_ERR_STATE when it is already free. */
static inline int smbx__slab_put(smbx__slab *s, void *obj)
{
  size_t i = smbx__slab_index(s, obj);
  if (i == SIZE_MAX)
    return SMBX_ERR_INVAL;
  if (!smbx__slab_live_at(s, i))
    return SMBX_ERR_STATE;
  smbx__slab_meta *m = &s->meta[i];
  m->gen++; /* odd -> even: free */
  m->next = s->free_head;
  s->free_head = (uint32_t)i;
  s->live--;
  return 0;
}

/* Returns the object of a live handle (one smbx__slab_lookup resolves, or
 * smbx__slab_get_h gave): smbx__slab_put without the pointer -> index
 * conversion and its checks, which the handle's generation stands for. */
static inline void smbx__slab_put_live(smbx__slab *s, uint64_t handle)
{
  uint32_t i = (uint32_t)handle;
  smbx__slab_meta *m = &s->meta[i];
  m->gen++; /* odd -> even: free */
  m->next = s->free_head;
  s->free_head = i;
  s->live--;
}

/* The live object at index, or NULL (out of range, or free). */
static inline void *smbx__slab_at(const smbx__slab *s, size_t index)
{
  return smbx__slab_live_at(s, index) ? s->mem + index * s->stride : NULL;
}

/* Handle of a live object; 0 when obj is not a live object of this pool. */
static inline uint64_t smbx__slab_handle(const smbx__slab *s, const void *obj)
{
  size_t i = smbx__slab_index(s, obj);
  if (i == SIZE_MAX || !smbx__slab_live_at(s, i))
    return 0;
  return (uint64_t)i | (uint64_t)s->meta[i].gen << 32;
}

#endif
