/* SPDX-License-Identifier: MIT */
/* Growable byte buffer, little-endian helpers and UTF-8/UTF-16LE text. */
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

/* Nothing we build is larger than a few tokens. */
#define BUF_LIMIT ((size_t)SXAUTH_MAX_TOKEN * 4u)

void sxauth__buf_free(sxauth__buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->bad = 0;
}

void sxauth__buf_reset(sxauth__buf *b)
{
  b->len = 0;
  b->bad = 0;
}

static int reserve(sxauth__buf *b, size_t n)
{
  if (b->bad)
    return -1;
  if (n > BUF_LIMIT || b->len > BUF_LIMIT - n) {
    b->bad = 1;
    return -1;
  }
  if (b->len + n <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n)
    cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) {
    b->bad = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void sxauth__buf_put(sxauth__buf *b, const void *data, size_t n)
{
  if (n == 0 || reserve(b, n) != 0)
    return;
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

void sxauth__buf_zero(sxauth__buf *b, size_t n)
{
  if (n == 0 || reserve(b, n) != 0)
    return;
  memset(b->p + b->len, 0, n);
  b->len += n;
}

void sxauth__buf_u8(sxauth__buf *b, uint8_t v)
{
  sxauth__buf_put(b, &v, 1);
}

void sxauth__buf_u16(sxauth__buf *b, uint16_t v)
{
  uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
  sxauth__buf_put(b, t, 2);
}

void sxauth__buf_u32(sxauth__buf *b, uint32_t v)
{
  uint8_t t[4];
  for (int i = 0; i < 4; i++)
    t[i] = (uint8_t)(v >> (8 * i));
  sxauth__buf_put(b, t, 4);
}

void sxauth__buf_u64(sxauth__buf *b, uint64_t v)
{
  uint8_t t[8];
  for (int i = 0; i < 8; i++)
    t[i] = (uint8_t)(v >> (8 * i));
  sxauth__buf_put(b, t, 8);
}

void sxauth__buf_set(sxauth__buf *b, size_t off, const void *data, size_t n)
{
  if (b->bad || off > b->len || b->len - off < n) {
    b->bad = 1;
    return;
  }
  if (n)
    memcpy(b->p + off, data, n);
}

void sxauth__buf_set_u16(sxauth__buf *b, size_t off, uint16_t v)
{
  uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
  sxauth__buf_set(b, off, t, 2);
}

void sxauth__buf_set_u32(sxauth__buf *b, size_t off, uint32_t v)
{
  uint8_t t[4];
  for (int i = 0; i < 4; i++)
    t[i] = (uint8_t)(v >> (8 * i));
  sxauth__buf_set(b, off, t, 4);
}

uint16_t sxauth__le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

uint32_t sxauth__le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

uint64_t sxauth__le64(const uint8_t *p)
{
  return (uint64_t)sxauth__le32(p) | (uint64_t)sxauth__le32(p + 4) << 32;
}

/* RFC 3629: shortest form, no surrogates, <= U+10FFFF. */
int sxauth__utf8_to_utf16le(const char *s, sxauth__buf *b)
{
  if (!s)
    return 0;
  size_t start = b->len;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    uint32_t cp;
    size_t n;
    if (p[0] < 0x80) {
      cp = p[0];
      n = 1;
    } else if ((p[0] & 0xe0) == 0xc0) {
      cp = p[0] & 0x1fu;
      n = 2;
    } else if ((p[0] & 0xf0) == 0xe0) {
      cp = p[0] & 0x0fu;
      n = 3;
    } else if ((p[0] & 0xf8) == 0xf0) {
      cp = p[0] & 0x07u;
      n = 4;
    } else {
      goto bad;
    }
    for (size_t i = 1; i < n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        goto bad;
      cp = cp << 6 | (p[i] & 0x3fu);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      goto bad;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      sxauth__buf_u16(b, (uint16_t)(0xd800 + (cp >> 10)));
      sxauth__buf_u16(b, (uint16_t)(0xdc00 + (cp & 0x3ff)));
    } else {
      sxauth__buf_u16(b, (uint16_t)cp);
    }
    p += n;
  }
  return 0;
bad:
  if (!b->bad)
    b->len = start;
  return -1;
}

int sxauth__utf16le_to_utf8(const uint8_t *p, size_t n, char **out)
{
  *out = NULL;
  if (n % 2)
    return -1;
  /* at most 3 UTF-8 bytes per UTF-16 unit (a pair gives 4 for 2 units) */
  char *s = malloc(n / 2 * 3 + 1);
  if (!s)
    return -2;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 2) {
    uint32_t cp = sxauth__le16(p + i);
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (n - i < 4)
        goto bad;
      uint32_t lo = sxauth__le16(p + i + 2);
      if (lo < 0xdc00 || lo > 0xdfff)
        goto bad;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      i += 2;
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      goto bad;
    }
    if (cp == 0)
      goto bad; /* a NUL would truncate the C string */
    if (cp < 0x80) {
      s[o++] = (char)cp;
    } else if (cp < 0x800) {
      s[o++] = (char)(0xc0 | cp >> 6);
      s[o++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s[o++] = (char)(0xe0 | cp >> 12);
      s[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      s[o++] = (char)(0x80 | (cp & 0x3f));
    } else {
      s[o++] = (char)(0xf0 | cp >> 18);
      s[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
      s[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      s[o++] = (char)(0x80 | (cp & 0x3f));
    }
  }
  s[o] = 0;
  *out = s;
  return 0;
bad:
  free(s);
  return -1;
}

void sxauth__utf16le_upper_ascii(uint8_t *p, size_t n)
{
  for (size_t i = 0; i + 1 < n; i += 2)
    if (p[i + 1] == 0 && p[i] >= 'a' && p[i] <= 'z')
      p[i] = (uint8_t)(p[i] - ('a' - 'A'));
}

char *sxauth__strdup(const char *s)
{
  if (!s)
    s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}
