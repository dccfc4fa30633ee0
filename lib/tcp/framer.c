/* SPDX-License-Identifier: MIT */
/* Direct TCP framing ([MS-SMB2] 2.1, spec/smb2.md sec. 1): 0x00 + 24-bit
 * big-endian length. Sans-I/O; in place when a message arrives whole. */
#include <string.h>

#include <smbx/tcp.h>

#include "core/alloc.h"

struct smbx_tcp_framer {
  smbx_allocator a;
  uint32_t max_frame;
  uint8_t hdr[4];
  uint32_t hdr_have; /* prefix bytes seen of the current message (0..4) */
  uint32_t need;     /* message length once hdr_have == 4 */
  uint32_t have;     /* bytes of a split message copied into buf */
  uint8_t *buf;      /* reassembly buffer, only for split messages */
  size_t buf_cap;
  uint64_t pos;        /* stream bytes consumed so far */
  uint64_t msg_start;  /* stream offset of the current message's prefix */
  int err;             /* sticky error, 0 = healthy */
  const char *reason;
  uint64_t err_off;
};

static int fail(smbx_tcp_framer *f, const char *why, uint64_t off)
{
  f->err = SMBX_ERR_PROTO;
  f->reason = why;
  f->err_off = off;
  return SMBX_ERR_PROTO;
}

int smbx_tcp_framer_new(smbx_tcp_framer **out, uint32_t max_frame,
                        const smbx_allocator *a)
{
  if (!out || max_frame == 0 || max_frame > SMBX_TCP_MAX_FRAME)
    return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc < 0)
    return rc;
  smbx_tcp_framer *f = SMBX__NEW(&al, smbx_tcp_framer);
  if (!f)
    return SMBX_ERR_NOMEM;
  f->a = al;
  f->max_frame = max_frame;
  *out = f;
  return 0;
}

void smbx_tcp_framer_free(smbx_tcp_framer *f)
{
  if (!f)
    return;
  smbx_allocator al = f->a;
  if (f->buf)
    smbx__free(&al, f->buf, f->buf_cap, 1);
  SMBX__DELETE(&al, f, smbx_tcp_framer);
}

/* Grows the reassembly buffer to at least n bytes (n <= max_frame). Only
 * called before the first body byte of a message is copied (have == 0), so
 * the old contents need not survive: free + alloc, no copy. Happens once
 * per new high-water mark; a warmed-up framer never allocates. */
static int ensure(smbx_tcp_framer *f, size_t n)
{
  if (f->buf_cap >= n)
    return 0;
  if (f->buf)
    smbx__free(&f->a, f->buf, f->buf_cap, 1);
  f->buf = NULL;
  f->buf_cap = 0;
  uint8_t *nb = smbx__alloc(&f->a, n, 1);
  if (!nb)
    return SMBX_ERR_NOMEM;
  f->buf = nb;
  f->buf_cap = n;
  return 0;
}

int smbx_tcp_framer_reserve(smbx_tcp_framer *f, uint32_t size)
{
  if (!f || size > f->max_frame)
    return SMBX_ERR_INVAL;
  if (f->have && (size ? size : f->max_frame) > f->buf_cap)
    return SMBX_ERR_STATE; /* would drop the split message being copied */
  return ensure(f, size ? size : f->max_frame);
}

int smbx_tcp_framer_feed(smbx_tcp_framer *f, const uint8_t *data, size_t len,
                         size_t *consumed, smbx_tcp_pdu *pdu)
{
  if (consumed)
    *consumed = 0;
  if (!f || !consumed || !pdu || (!data && len))
    return SMBX_ERR_INVAL;
  if (f->err)
    return f->err;
  size_t off = 0;

  /* Prefix: each byte is checked as soon as it is seen, before any body
   * byte is buffered (spec/smb2.md sec. 1). */
  while (f->hdr_have < 4) {
    if (off == len) {
      *consumed = off;
      f->pos += off;
      return 0;
    }
    if (f->hdr_have == 0)
      f->msg_start = f->pos + off;
    uint8_t b = data[off];
    if (f->hdr_have == 0 && b != 0) {
      *consumed = off;
      f->pos += off;
      return fail(f, "direct tcp: first prefix byte is not 0x00",
                  f->msg_start);
    }
    f->hdr[f->hdr_have++] = b;
    off++;
    if (f->hdr_have == 4) {
      uint32_t n = (uint32_t)f->hdr[1] << 16 | (uint32_t)f->hdr[2] << 8 |
                   f->hdr[3];
      if (n == 0 || n > f->max_frame) {
        *consumed = off;
        f->pos += off;
        return fail(f,
                    n == 0 ? "direct tcp: message length 0"
                           : "direct tcp: message length above max_frame",
                    f->msg_start + 1);
      }
      f->need = n;
      f->have = 0;
    }
  }

  size_t avail = len - off;
  if (f->have == 0 && avail >= f->need) {
    /* whole message inside this buffer: in place, no copy */
    pdu->data = data + off;
    pdu->len = f->need;
    pdu->copied = 0;
    pdu->reserved = 0;
    pdu->stream_offset = f->msg_start;
    off += f->need;
    f->hdr_have = 0;
    f->need = 0;
    *consumed = off;
    f->pos += off;
    return 1;
  }
  if (avail == 0) {
    *consumed = off;
    f->pos += off;
    return 0;
  }
  int rc = f->have ? 0 : ensure(f, f->need);
  if (rc < 0) {
    *consumed = off; /* the prefix is kept; feed the rest again */
    f->pos += off;
    return rc;
  }
  size_t take = f->need - f->have;
  if (take > avail)
    take = avail;
  memcpy(f->buf + f->have, data + off, take);
  f->have += (uint32_t)take;
  off += take;
  *consumed = off;
  f->pos += off;
  if (f->have < f->need)
    return 0;
  pdu->data = f->buf;
  pdu->len = f->need;
  pdu->copied = 1;
  pdu->reserved = 0;
  pdu->stream_offset = f->msg_start;
  f->hdr_have = 0;
  f->need = 0;
  f->have = 0;
  return 1;
}

size_t smbx_tcp_framer_pending(const smbx_tcp_framer *f)
{
  if (!f)
    return 0;
  /* a complete prefix is parsed into need: only a partial one counts */
  return (f->hdr_have < 4 ? f->hdr_have : 0u) + f->have;
}

int smbx_tcp_framer_error_detail(const smbx_tcp_framer *f,
                                 smbx_error_detail *detail)
{
  if (!f)
    return SMBX_ERR_INVAL;
  if (detail) {
    detail->reason = f->err ? f->reason : NULL;
    detail->offset = f->err ? (size_t)f->err_off : 0;
  }
  return f->err;
}

int smbx_tcp_encode_prefix(uint8_t *out, size_t cap, size_t len)
{
  if (!out && cap)
    return SMBX_ERR_INVAL;
  if (len == 0 || len > SMBX_TCP_MAX_FRAME)
    return SMBX_ERR_RANGE;
  if (cap < 4)
    return SMBX_ERR_NOBUF;
  out[0] = 0;
  out[1] = (uint8_t)(len >> 16);
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)len;
  return 4;
}

int smbx_tcp_decode_prefix(const uint8_t *p, size_t avail, uint32_t *len)
{
  if (!len || (!p && avail))
    return SMBX_ERR_INVAL;
  if (avail < 4)
    return SMBX_ERR_NOBUF;
  uint32_t n = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  if (p[0] != 0 || n == 0)
    return SMBX_ERR_DECODE;
  *len = n;
  return 0;
}
