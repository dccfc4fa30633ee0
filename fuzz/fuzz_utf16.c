/* SPDX-License-Identifier: MIT */
/* UTF-16LE <-> UTF-8: never crash; whatever converts must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smbx.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t a[1 << 17], b[1 << 17];
  if (size > 1 << 15)
    return 0;
  size_t n8 = 0, n16 = 0;
  if (smbx_utf16le_to_utf8(data, size, a, sizeof a, &n8) == 0) {
    if (smbx_utf8_to_utf16le(a, n8, b, sizeof b, &n16) != 0 || n16 != size ||
        memcmp(b, data, size) != 0)
      abort();
  }
  if (smbx_utf8_to_utf16le(data, size, a, sizeof a, &n16) == 0) {
    if (smbx_utf16le_to_utf8(a, n16, b, sizeof b, &n8) != 0 || n8 != size ||
        memcmp(b, data, size) != 0)
      abort();
  }
  /* a too-small buffer must report the same size as a big one */
  size_t small = 0;
  int rc = smbx_utf16le_to_utf8(data, size, a, size / 3, &small);
  if (rc == SMBX_ERR_NOBUF && small <= size / 3)
    abort();
  return 0;
}
