/* SPDX-License-Identifier: MIT */
/* Bounds-checked little-endian cursors with a sticky error flag.
 *
 * Readers: every getter returns 0 (or NULL) past the end and sets `bad`;
 * once bad, the cursor stays bad and never moves. Check `bad` once, before
 * using any value read. Writers mirror this: past capacity nothing is
 * written, `bad` is set, and `need` keeps counting so an encoder can report
 * the size it would have needed. Internal only; inline for the data path. */
#ifndef SMBX_CORE_CURSOR_H
#define SMBX_CORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct smbx__rd {
  const uint8_t *p;
  size_t len;
  size_t off;
  bool bad;
} smbx__rd;

typedef struct smbx__wr {
  uint8_t *p;
  size_t cap;
  size_t off;  /* bytes written (== need while not bad) */
  size_t need; /* bytes the whole encoding needs */
  bool bad;
} smbx__wr;

/* Little-endian loads and stores at a fixed position (the caller checked
 * the bounds). On a little-endian host a fixed-size memcpy is one move;
 * the byte-wise form is the portable fallback. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SMBX__LE_HOST 1
#else
#define SMBX__LE_HOST 0
#endif

static inline void smbx__put_le16(uint8_t *p, uint16_t v)
{
#if SMBX__LE_HOST
  memcpy(p, &v, 2);
#else
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
#endif
}

static inline void smbx__put_le32(uint8_t *p, uint32_t v)
{
#if SMBX__LE_HOST
  memcpy(p, &v, 4);
#else
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline void smbx__put_le64(uint8_t *p, uint64_t v)
{
#if SMBX__LE_HOST
  memcpy(p, &v, 8);
#else
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint16_t smbx__get_le16(const uint8_t *p)
{
#if SMBX__LE_HOST
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
#else
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
#endif
}

static inline uint32_t smbx__get_le32(const uint8_t *p)
{
#if SMBX__LE_HOST
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
#else
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
#endif
}

static inline uint64_t smbx__get_le64(const uint8_t *p)
{
#if SMBX__LE_HOST
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
#else
  return (uint64_t)smbx__get_le32(p) | (uint64_t)smbx__get_le32(p + 4) << 32;
#endif
}

static inline smbx__rd smbx__rd_make(const void *p, size_t len)
{
  smbx__rd r = {(const uint8_t *)p, p ? len : 0, 0, false};
  return r;
}

static inline size_t smbx__rd_left(const smbx__rd *r)
{
  return r->bad ? 0 : r->len - r->off;
}

/* Returns a pointer to the next n bytes and advances, or NULL + bad. */
static inline const uint8_t *smbx__rd_take(smbx__rd *r, size_t n)
{
  if (r->bad || r->len - r->off < n) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *q = r->p ? r->p + r->off : NULL; /* NULL + 0 is UB */
  r->off += n;
  return q;
}

static inline uint8_t smbx__rd_u8(smbx__rd *r)
{
  const uint8_t *q = smbx__rd_take(r, 1);
  return q ? q[0] : 0;
}

static inline uint16_t smbx__rd_u16(smbx__rd *r)
{
  const uint8_t *q = smbx__rd_take(r, 2);
  return q ? smbx__get_le16(q) : 0;
}

static inline uint32_t smbx__rd_u32(smbx__rd *r)
{
  const uint8_t *q = smbx__rd_take(r, 4);
  return q ? smbx__get_le32(q) : 0;
}

static inline uint64_t smbx__rd_u64(smbx__rd *r)
{
  const uint8_t *q = smbx__rd_take(r, 8);
  return q ? smbx__get_le64(q) : 0;
}

/* Copies n bytes out; on overrun dst is zero-filled. */
static inline void smbx__rd_copy(smbx__rd *r, void *dst, size_t n)
{
  const uint8_t *q = smbx__rd_take(r, n);
  if (q)
    memcpy(dst, q, n);
  else if (n)
    memset(dst, 0, n);
}

static inline void smbx__rd_skip(smbx__rd *r, size_t n)
{
  (void)smbx__rd_take(r, n);
}

/* Moves to an absolute offset inside the cursor (len itself allowed). */
static inline void smbx__rd_seek(smbx__rd *r, size_t off)
{
  if (r->bad || off > r->len)
    r->bad = true;
  else
    r->off = off;
}

/* Skips to the next multiple of 8 from the cursor's start; past the end
 * (the padding is missing) is an error, exactly at the end is not. */
static inline void smbx__rd_align8(smbx__rd *r)
{
  size_t pad = (8 - (r->off & 7)) & 7;
  smbx__rd_skip(r, pad);
}

/* Splits off the next n bytes as their own cursor and advances past them.
 * On overrun both the parent and the returned cursor are bad. */
static inline smbx__rd smbx__rd_sub(smbx__rd *r, size_t n)
{
  const uint8_t *q = smbx__rd_take(r, n);
  smbx__rd s = {q, r->bad ? 0 : n, 0, r->bad};
  return s;
}

static inline smbx__wr smbx__wr_make(void *p, size_t cap)
{
  smbx__wr w = {(uint8_t *)p, p ? cap : 0, 0, 0, false};
  return w;
}

/* Reserves n bytes; returns where to write them or NULL + bad. `need`
 * grows either way so the caller learns the full size. */
static inline uint8_t *smbx__wr_take(smbx__wr *w, size_t n)
{
  if (SIZE_MAX - w->need < n) {
    w->bad = true;
    w->need = SIZE_MAX;
    return NULL;
  }
  w->need += n;
  if (w->bad || w->cap - w->off < n) {
    w->bad = true;
    return NULL;
  }
  uint8_t *q = w->p ? w->p + w->off : NULL;
  w->off += n;
  return q;
}

static inline void smbx__wr_u8(smbx__wr *w, uint8_t v)
{
  uint8_t *q = smbx__wr_take(w, 1);
  if (q)
    q[0] = v;
}

static inline void smbx__wr_u16(smbx__wr *w, uint16_t v)
{
  uint8_t *q = smbx__wr_take(w, 2);
  if (q)
    smbx__put_le16(q, v);
}

static inline void smbx__wr_u32(smbx__wr *w, uint32_t v)
{
  uint8_t *q = smbx__wr_take(w, 4);
  if (q)
    smbx__put_le32(q, v);
}

static inline void smbx__wr_u64(smbx__wr *w, uint64_t v)
{
  uint8_t *q = smbx__wr_take(w, 8);
  if (q)
    smbx__put_le64(q, v);
}

static inline void smbx__wr_bytes(smbx__wr *w, const void *src, size_t n)
{
  uint8_t *q = smbx__wr_take(w, n);
  if (q && n)
    memcpy(q, src, n);
}

static inline void smbx__wr_zero(smbx__wr *w, size_t n)
{
  uint8_t *q = smbx__wr_take(w, n);
  if (q && n)
    memset(q, 0, n);
}

/* Zero-pads to the next multiple of 8 from the cursor's start. */
static inline void smbx__wr_align8(smbx__wr *w)
{
  smbx__wr_zero(w, (8 - (w->need & 7)) & 7);
}

#endif
