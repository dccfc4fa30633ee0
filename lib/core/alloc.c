/* SPDX-License-Identifier: MIT */
#include "core/alloc.h"

#include <string.h>

int smbx__allocator_copy(smbx_allocator *dst, const smbx_allocator *src)
{
  if (!src)
    src = smbx_allocator_default();
  if (src->struct_size < offsetof(smbx_allocator, user_data) + sizeof(void *))
    return SMBX_ERR_INVAL;
  *dst = *src;
  dst->struct_size = sizeof *dst;
  if (!dst->alloc || !dst->free)
    return SMBX_ERR_INVAL;
  return 0;
}

void *smbx__alloc(const smbx_allocator *a, size_t size, size_t align)
{
  return a->alloc(size, align, a->user_data);
}

void *smbx__calloc(const smbx_allocator *a, size_t n, size_t size,
                   size_t align)
{
  if (size && n > SIZE_MAX / size)
    return NULL;
  void *p = a->alloc(n * size, align, a->user_data);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void *smbx__realloc(const smbx_allocator *a, void *p, size_t old_size,
                    size_t new_size, size_t align)
{
  if (!p)
    return smbx__alloc(a, new_size, align);
  if (a->realloc)
    return a->realloc(p, old_size, new_size, align, a->user_data);
  void *q = a->alloc(new_size, align, a->user_data);
  if (!q)
    return NULL;
  memcpy(q, p, old_size < new_size ? old_size : new_size);
  a->free(p, old_size, align, a->user_data);
  return q;
}

void smbx__free(const smbx_allocator *a, void *p, size_t size, size_t align)
{
  if (p)
    a->free(p, size, align, a->user_data);
}
