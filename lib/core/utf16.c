/* SPDX-License-Identifier: MIT */
/* UTF-16LE <-> UTF-8. Both directions validate fully: SMB2 names come from
 * the wire and a lenient decoder lets two spellings reach one file. */
#include <smbx/smbx.h>

#include "core/cursor.h"

/* Decodes one code point from UTF-16LE at *i; returns -1 on an unpaired
 * surrogate. The caller guarantees *i + 2 <= len and len is even. */
static int32_t next_utf16(const uint8_t *s, size_t len, size_t *i)
{
  uint32_t u = smbx__get_le16(s + *i);
  *i += 2;
  if (u < 0xD800 || u > 0xDFFF)
    return (int32_t)u;
  if (u > 0xDBFF || len - *i < 2)
    return -1;
  uint32_t lo = smbx__get_le16(s + *i);
  if (lo < 0xDC00 || lo > 0xDFFF)
    return -1;
  *i += 2;
  return (int32_t)(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
}

static size_t utf8_len(uint32_t cp)
{
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static void put_utf8(uint8_t *d, uint32_t cp, size_t n)
{
  static const uint8_t lead[5] = {0, 0x00, 0xC0, 0xE0, 0xF0};
  for (size_t k = n - 1; k > 0; k--) {
    d[k] = (uint8_t)(0x80 | (cp & 0x3F));
    cp >>= 6;
  }
  d[0] = (uint8_t)(lead[n] | cp);
}

int smbx_utf16le_to_utf8(const uint8_t *src, size_t src_len, uint8_t *dst,
                         size_t cap, size_t *out_len)
{
  if (!out_len || (!src && src_len) || (!dst && cap))
    return SMBX_ERR_INVAL;
  *out_len = 0;
  if (src_len % 2)
    return SMBX_ERR_ENCODING;
  size_t need = 0;
  for (size_t i = 0; i < src_len;) {
    int32_t cp = next_utf16(src, src_len, &i);
    if (cp < 0)
      return SMBX_ERR_ENCODING;
    size_t n = utf8_len((uint32_t)cp);
    if (cap - need >= n && need <= cap)
      put_utf8(dst + need, (uint32_t)cp, n);
    need += n;
  }
  *out_len = need;
  return need > cap ? SMBX_ERR_NOBUF : 0;
}

/* Decodes one UTF-8 sequence at *i; -1 on any invalid form. */
static int32_t next_utf8(const uint8_t *s, size_t len, size_t *i)
{
  uint32_t c = s[(*i)++];
  if (c < 0x80)
    return (int32_t)c;
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 1;
    min = 0x80;
    c &= 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    min = 0x800;
    c &= 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    min = 0x10000;
    c &= 0x07;
  } else {
    return -1;
  }
  if (len - *i < n)
    return -1;
  for (size_t k = 0; k < n; k++) {
    uint8_t b = s[(*i)++];
    if ((b & 0xC0) != 0x80)
      return -1;
    c = c << 6 | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return -1;
  return (int32_t)c;
}

int smbx_utf8_to_utf16le(const uint8_t *src, size_t src_len, uint8_t *dst,
                         size_t cap, size_t *out_len)
{
  if (!out_len || (!src && src_len) || (!dst && cap))
    return SMBX_ERR_INVAL;
  *out_len = 0;
  size_t need = 0;
  for (size_t i = 0; i < src_len;) {
    int32_t cp = next_utf8(src, src_len, &i);
    if (cp < 0)
      return SMBX_ERR_ENCODING;
    uint32_t u = (uint32_t)cp;
    size_t n = u >= 0x10000 ? 4 : 2;
    if (need <= cap && cap - need >= n) {
      if (n == 2) {
        smbx__put_le16(dst + need, (uint16_t)u);
      } else {
        u -= 0x10000;
        smbx__put_le16(dst + need, (uint16_t)(0xD800 | (u >> 10)));
        smbx__put_le16(dst + need + 2, (uint16_t)(0xDC00 | (u & 0x3FF)));
      }
    }
    need += n;
  }
  *out_len = need;
  return need > cap ? SMBX_ERR_NOBUF : 0;
}
