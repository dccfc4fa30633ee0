/* SPDX-License-Identifier: MIT */
/* Fixed-capacity FIFO of fixed-size elements (event queues, send queues).
 *
 * The buffer is allocated once at init through the owner's allocator, so
 * push and pop never allocate. smbx__ring_grow() (doubling, order kept) is
 * for pools that may grow at setup; it moves the elements, so pointers from
 * push_slot/front/back/at are valid only until the next grow or free.
 * Elements are stored at a stride of elem_size bytes; elem_size must be a
 * multiple of elem_align (true for sizeof/_Alignof of one type; use
 * SMBX__RING_INIT). The allocator must outlive the ring. */
#ifndef SMBX_CORE_RING_H
#define SMBX_CORE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

typedef struct smbx__ring {
  uint8_t *buf;
  const smbx_allocator *a;
  size_t elem;  /* element size in bytes */
  size_t align; /* element alignment */
  size_t cap;   /* elements */
  size_t head;  /* slot of the front element */
  size_t len;   /* elements stored */
} smbx__ring;

/* Allocates room for cap elements. Returns 0; SMBX_ERR_INVAL on a NULL
 * argument, elem_size or cap 0, align not a power of two or not dividing
 * elem_size; SMBX_ERR_RANGE when cap * elem_size overflows; SMBX_ERR_NOMEM.
 * On failure *r is an empty ring of capacity 0 (free is a no-op). */
int smbx__ring_init(smbx__ring *r, const smbx_allocator *a, size_t elem_size,
                    size_t elem_align, size_t cap);
#define SMBX__RING_INIT(r, a, type, cap) \
  smbx__ring_init((r), (a), sizeof(type), _Alignof(type), (cap))

/* Releases the buffer and leaves an empty ring of capacity 0. Safe on a
 * zeroed or already freed ring. */
void smbx__ring_free(smbx__ring *r);

/* Doubles the capacity, keeping the order (the front moves to slot 0).
 * Returns 0; SMBX_ERR_RANGE on size overflow or capacity 0 (a failed
 * init); SMBX_ERR_NOMEM. On failure the ring is unchanged. */
int smbx__ring_grow(smbx__ring *r);

/* Copies elem_size bytes from elem to the back. 0; SMBX_ERR_AGAIN when
 * full (nothing changes). */
int smbx__ring_push(smbx__ring *r, const void *elem);
/* Same at the front (to requeue an element popped too early). */
int smbx__ring_push_front(smbx__ring *r, const void *elem);

/* Removes the front element, copying it to out unless out is NULL.
 * 0; SMBX_ERR_NOTFOUND when empty (out untouched). */
int smbx__ring_pop(smbx__ring *r, void *out);
/* Removes the back element (undo of a push). 0; SMBX_ERR_NOTFOUND. */
int smbx__ring_pop_back(smbx__ring *r, void *out);

/* Drops every element (capacity unchanged). */
void smbx__ring_clear(smbx__ring *r);

static inline size_t smbx__ring_len(const smbx__ring *r)
{
  return r->len;
}

static inline size_t smbx__ring_cap(const smbx__ring *r)
{
  return r->cap;
}

static inline bool smbx__ring_empty(const smbx__ring *r)
{
  return r->len == 0;
}

static inline bool smbx__ring_full(const smbx__ring *r)
{
  return r->len == r->cap;
}

/* The i-th element from the front (0 = front), or NULL when i >= len. */
static inline void *smbx__ring_at(const smbx__ring *r, size_t i)
{
  if (i >= r->len)
    return NULL;
  size_t slot = r->head + i; /* head < cap and i < cap: no overflow */
  if (slot >= r->cap)
    slot -= r->cap;
  return r->buf + slot * r->elem;
}

/* Reserves the back slot and returns it (contents undefined) for the
 * caller to fill in place; NULL when full. Inline: every event is built
 * in its slot. */
static inline void *smbx__ring_push_slot(smbx__ring *r)
{
  if (r->len == r->cap)
    return NULL;
  size_t slot = r->head + r->len; /* head < cap and len < cap */
  if (slot >= r->cap)
    slot -= r->cap;
  r->len++;
  return r->buf + slot * r->elem;
}

/* Removes the front element of a ring that has one (inline: an event
 * queue drops each event it has read in place). */
static inline void smbx__ring_drop_front(smbx__ring *r)
{
  r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
  r->len--;
}

/* Peek at the front / back element; NULL when empty. */
static inline void *smbx__ring_front(const smbx__ring *r)
{
  return smbx__ring_at(r, 0);
}

static inline void *smbx__ring_back(const smbx__ring *r)
{
  return r->len ? smbx__ring_at(r, r->len - 1) : NULL;
}

#endif
