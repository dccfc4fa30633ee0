/* SPDX-License-Identifier: MIT */
/* The only file in lib/ that names malloc: the default allocator. */
#include <stdlib.h>
#include <string.h>

#include <smbx/smbx.h>

static void *libc_alloc(size_t size, size_t align, void *user_data)
{
  (void)user_data;
  if (align > _Alignof(max_align_t))
    return aligned_alloc(align, (size + align - 1) / align * align);
  return malloc(size ? size : 1);
}

static void *libc_realloc(void *p, size_t old_size, size_t new_size,
                          size_t align, void *user_data)
{
  if (align > _Alignof(max_align_t)) {
    void *q = libc_alloc(new_size, align, user_data); /* keeps alignment */
    if (q) {
      memcpy(q, p, old_size < new_size ? old_size : new_size);
      free(p);
    }
    return q;
  }
  (void)old_size;
  return realloc(p, new_size ? new_size : 1);
}

static void libc_free(void *p, size_t size, size_t align, void *user_data)
{
  (void)size;
  (void)align;
  (void)user_data;
  free(p);
}

static const smbx_allocator libc_allocator = {
  sizeof(smbx_allocator), libc_alloc, libc_realloc, libc_free, NULL,
};

const smbx_allocator *smbx_allocator_default(void)
{
  return &libc_allocator;
}
