/* SPDX-License-Identifier: MIT */
/* Internal allocation helpers: every allocation in lib/ goes through these. */
#ifndef SMBX_CORE_ALLOC_H
#define SMBX_CORE_ALLOC_H

#include <stddef.h>

#include <smbx/smbx.h>

/* Copies a caller's allocator (NULL = the default) honouring struct_size.
 * Returns SMBX_ERR_INVAL when the copy lacks alloc or free. */
int smbx__allocator_copy(smbx_allocator *dst, const smbx_allocator *src);

void *smbx__alloc(const smbx_allocator *a, size_t size, size_t align);
/* Zero-filled. */
void *smbx__calloc(const smbx_allocator *a, size_t n, size_t size,
                   size_t align);
/* Returns NULL (p untouched) on failure or on n * size overflow. */
void *smbx__realloc(const smbx_allocator *a, void *p, size_t old_size,
                    size_t new_size, size_t align);
void smbx__free(const smbx_allocator *a, void *p, size_t size, size_t align);

#define SMBX__NEW(a, type) \
  ((type *)smbx__calloc((a), 1, sizeof(type), _Alignof(type)))
#define SMBX__DELETE(a, p, type) smbx__free((a), (p), sizeof(type), _Alignof(type))

#endif
