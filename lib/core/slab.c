/* SPDX-License-Identifier: MIT */
#include "core/slab.h"

#include <string.h>

#include "core/alloc.h"

#define ALIGN_MAX 64

static void reset(smbx__slab *s, const smbx_allocator *a)
{
  s->mem = NULL;
  s->meta = NULL;
  s->a = a;
  s->stride = 0;
  s->stride_inv = 0;
  s->stride_shift = 0;
  s->align = 1;
  s->bytes = 0;
  s->n = 0;
  s->live = 0;
  s->free_head = SMBX__SLAB_NONE;
  s->touched = 0;
}

int smbx__slab_init(smbx__slab *s, const smbx_allocator *a, size_t obj_size,
                    size_t obj_align, uint32_t n)
{
  if (!s)
    return SMBX_ERR_INVAL;
  reset(s, a);
  if (!a || obj_size == 0 || n == 0 || n > SMBX__SLAB_MAX ||
      obj_align == 0 || obj_align > ALIGN_MAX ||
      (obj_align & (obj_align - 1)) != 0)
    return SMBX_ERR_INVAL;
  size_t align = obj_align < _Alignof(smbx__slab_meta)
                     ? _Alignof(smbx__slab_meta)
                     : obj_align;
  if (obj_size > SIZE_MAX - align)
    return SMBX_ERR_RANGE;
  /* stride keeps each object aligned; the meta array follows the objects,
   * and stride being a multiple of align keeps it aligned too */
  size_t stride = (obj_size + align - 1) / align * align;
  if (n > SIZE_MAX / stride)
    return SMBX_ERR_RANGE;
  size_t objs = n * stride;
  if ((size_t)n > (SIZE_MAX - objs) / sizeof(smbx__slab_meta))
    return SMBX_ERR_RANGE;
  size_t bytes = objs + (size_t)n * sizeof(smbx__slab_meta);
  uint8_t *mem = smbx__alloc(a, bytes, align);
  if (!mem)
    return SMBX_ERR_NOMEM;
  s->mem = mem;
  s->meta = (smbx__slab_meta *)(void *)(mem + objs);
  s->stride = stride;
  unsigned shift = 0;
  while (!((stride >> shift) & 1u))
    shift++;
  uint64_t odd = (uint64_t)(stride >> shift), inv = odd;
  /* Newton's iteration doubles the correct low bits: 3 -> 6 -> ... -> 96 */
  for (int k = 0; k < 5; k++)
    inv *= 2 - odd * inv;
  s->stride_shift = shift;
  s->stride_inv = inv;
  s->align = align;
  s->bytes = bytes;
  s->n = n;
  for (uint32_t i = 0; i < n; i++) {
    s->meta[i].gen = 0;
    s->meta[i].next = i + 1 < n ? i + 1 : SMBX__SLAB_NONE;
  }
  s->free_head = 0;
  return 0;
}

void smbx__slab_free(smbx__slab *s)
{
  if (s->mem)
    smbx__free(s->a, s->mem, s->bytes, s->align);
  reset(s, s->a);
}

void *smbx__slab_get_zeroed(smbx__slab *s)
{
  void *p = smbx__slab_get(s);
  if (p)
    memset(p, 0, s->stride);
  return p;
}

void *smbx__slab_slot(const smbx__slab *s, size_t index)
{
  return index < s->n ? s->mem + index * s->stride : NULL;
}

bool smbx__slab_is_live(const smbx__slab *s, const void *obj)
{
  size_t i = smbx__slab_index(s, obj);
  return i != SIZE_MAX && smbx__slab_live_at(s, i);
}

int smbx__slab_put_handle(smbx__slab *s, uint64_t handle)
{
  void *obj = smbx__slab_lookup(s, handle);
  return obj ? smbx__slab_put(s, obj) : SMBX_ERR_NOTFOUND;
}
