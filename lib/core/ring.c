/* SPDX-License-Identifier: MIT */
#include "core/ring.h"

#include <string.h>

#include "core/alloc.h"

static void reset(smbx__ring *r, const smbx_allocator *a, size_t elem,
                  size_t align)
{
  r->buf = NULL;
  r->a = a;
  r->elem = elem;
  r->align = align;
  r->cap = 0;
  r->head = 0;
  r->len = 0;
}

int smbx__ring_init(smbx__ring *r, const smbx_allocator *a, size_t elem_size,
                    size_t elem_align, size_t cap)
{
  if (!r)
    return SMBX_ERR_INVAL;
  reset(r, a, elem_size, elem_align ? elem_align : 1);
  if (!a || elem_size == 0 || cap == 0 || elem_align == 0 ||
      (elem_align & (elem_align - 1)) != 0 || elem_size % elem_align != 0)
    return SMBX_ERR_INVAL;
  if (cap > SIZE_MAX / elem_size)
    return SMBX_ERR_RANGE;
  r->buf = smbx__alloc(a, cap * elem_size, elem_align);
  if (!r->buf)
    return SMBX_ERR_NOMEM;
  r->cap = cap;
  return 0;
}

void smbx__ring_free(smbx__ring *r)
{
  if (r->buf)
    smbx__free(r->a, r->buf, r->cap * r->elem, r->align);
  r->buf = NULL;
  r->cap = 0;
  r->head = 0;
  r->len = 0;
}

int smbx__ring_grow(smbx__ring *r)
{
  if (r->cap == 0 || r->cap > SIZE_MAX / 2 / r->elem)
    return SMBX_ERR_RANGE;
  size_t ncap = r->cap * 2;
  uint8_t *nb = smbx__alloc(r->a, ncap * r->elem, r->align);
  if (!nb)
    return SMBX_ERR_NOMEM;
  /* copy the (possibly wrapped) contents in order: [head, end) then [0, ..) */
  size_t first = r->cap - r->head;
  if (first > r->len)
    first = r->len;
  if (first)
    memcpy(nb, r->buf + r->head * r->elem, first * r->elem);
  if (r->len > first)
    memcpy(nb + first * r->elem, r->buf, (r->len - first) * r->elem);
  smbx__free(r->a, r->buf, r->cap * r->elem, r->align);
  r->buf = nb;
  r->cap = ncap;
  r->head = 0;
  return 0;
}

int smbx__ring_push(smbx__ring *r, const void *elem)
{
  void *slot = smbx__ring_push_slot(r);
  if (!slot)
    return SMBX_ERR_AGAIN;
  memcpy(slot, elem, r->elem);
  return 0;
}

int smbx__ring_push_front(smbx__ring *r, const void *elem)
{
  if (r->len == r->cap)
    return SMBX_ERR_AGAIN;
  r->head = r->head ? r->head - 1 : r->cap - 1;
  r->len++;
  memcpy(r->buf + r->head * r->elem, elem, r->elem);
  return 0;
}

int smbx__ring_pop(smbx__ring *r, void *out)
{
  if (r->len == 0)
    return SMBX_ERR_NOTFOUND;
  if (out)
    memcpy(out, r->buf + r->head * r->elem, r->elem);
  smbx__ring_drop_front(r);
  return 0;
}

int smbx__ring_pop_back(smbx__ring *r, void *out)
{
  if (r->len == 0)
    return SMBX_ERR_NOTFOUND;
  if (out)
    memcpy(out, smbx__ring_back(r), r->elem);
  r->len--;
  return 0;
}

void smbx__ring_clear(smbx__ring *r)
{
  r->head = 0;
  r->len = 0;
}
