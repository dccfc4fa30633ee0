/* SPDX-License-Identifier: MIT */
/* Cursor fuzzer: the input is a little program of reader and writer
 * operations (lib/core/cursor.h) run against a small buffer, each checked
 * against an independent model. Invariants: no access outside the buffer
 * (the buffers are exactly sized, so ASan sees any overrun), values read
 * match the bytes, `bad` is sticky and freezes the offset, off <= len,
 * writer need >= off, nothing is written past cap.
 *
 * Input layout: [flags] [rlen] [rlen bytes of reader data] [wcap] [ops...]
 * flags bit 0: reader made from NULL; bit 1: writer made from NULL. Each op
 * is one opcode byte, some followed by one argument byte (see arg_len). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)   \
  do {             \
    if (!(c))      \
      abort();     \
  } while (0)

enum {
  OP_RD_U8, OP_RD_U16, OP_RD_U32, OP_RD_U64, OP_RD_TAKE, OP_RD_SKIP,
  OP_RD_SEEK, OP_RD_ALIGN8, OP_RD_SUB, OP_RD_POP, OP_RD_COPY,
  OP_WR_U8, OP_WR_U16, OP_WR_U32, OP_WR_U64, OP_WR_BYTES, OP_WR_ZERO,
  OP_WR_ALIGN8, OP_WR_TAKE, OP_COUNT
};

/* Argument bytes become lengths: mostly small, sometimes huge. */
static size_t arg_len(uint8_t b)
{
  if (b == 0xFF)
    return SIZE_MAX;
  if (b == 0xFE)
    return SIZE_MAX - 7;
  return b % 80;
}

/* Model of a reader: what the cursor must look like. */
typedef struct mrd {
  const uint8_t *p;
  size_t len, off;
  bool bad;
} mrd;

static void same(const smbx__rd *r, const mrd *m)
{
  CHECK(r->bad == m->bad);
  CHECK(r->off == m->off);
  CHECK(r->len == m->len);
  CHECK(r->off <= r->len);
  CHECK(smbx__rd_left(r) == (m->bad ? 0 : m->len - m->off));
}

/* Advances the model by n (or marks it bad); returns the old offset. */
static bool model_take(mrd *m, size_t n, size_t *at)
{
  if (m->bad || m->len - m->off < n) {
    m->bad = true;
    return false;
  }
  *at = m->off;
  m->off += n;
  return true;
}

static uint64_t le(const uint8_t *p, size_t n)
{
  uint64_t v = 0;
  for (size_t i = n; i > 0; i--)
    v = v << 8 | p[i - 1];
  return v;
}

#define DEPTH 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 3 || size > 4096)
    return 0;
  uint8_t flags = data[0];
  size_t rlen = data[1] % 65;
  if (size < 3 + rlen)
    return 0;
  size_t wcap = data[2 + rlen] % 65;
  const uint8_t *ops = data + 3 + rlen;
  size_t nops = size - 3 - rlen;

  /* exactly sized copies: any overrun is an ASan report */
  uint8_t *rbuf = malloc(rlen ? rlen : 1);
  uint8_t *wbuf = malloc(wcap ? wcap : 1);
  uint8_t *shadow = malloc(wcap ? wcap : 1);
  CHECK(rbuf && wbuf && shadow);
  if (rlen)
    memcpy(rbuf, data + 2, rlen);
  memset(wbuf, 0xA5, wcap ? wcap : 1);
  memset(shadow, 0xA5, wcap ? wcap : 1);

  smbx__rd stack[DEPTH];
  mrd mstack[DEPTH];
  int depth = 0;
  if (flags & 1) {
    stack[0] = smbx__rd_make(NULL, rlen);
    mstack[0] = (mrd){NULL, 0, 0, false};
  } else {
    stack[0] = smbx__rd_make(rbuf, rlen);
    mstack[0] = (mrd){rbuf, rlen, 0, false};
  }
  smbx__wr w = smbx__wr_make((flags & 2) ? NULL : wbuf, wcap);
  size_t mcap = (flags & 2) ? 0 : wcap, moff = 0, mneed = 0;
  bool mbad = false;
  CHECK(w.cap == mcap && w.off == 0 && w.need == 0 && !w.bad);

  for (size_t pc = 0; pc < nops;) {
    uint8_t op = (uint8_t)(ops[pc++] % OP_COUNT);
    uint8_t arg = pc < nops ? ops[pc] : 0;
    smbx__rd *r = &stack[depth];
    mrd *m = &mstack[depth];
    bool was_bad = m->bad;
    size_t at = 0;
    switch (op) {
    case OP_RD_U8:
    case OP_RD_U16:
    case OP_RD_U32:
    case OP_RD_U64: {
      size_t n = (size_t)1 << (op - OP_RD_U8);
      uint64_t v = op == OP_RD_U8    ? smbx__rd_u8(r)
                   : op == OP_RD_U16 ? smbx__rd_u16(r)
                   : op == OP_RD_U32 ? smbx__rd_u32(r)
                                     : smbx__rd_u64(r);
      if (model_take(m, n, &at))
        CHECK(v == le(m->p + at, n));
      else
        CHECK(v == 0);
      break;
    }
    case OP_RD_TAKE:
    case OP_RD_SKIP: {
      pc++;
      size_t n = arg_len(arg);
      const uint8_t *q = NULL;
      if (op == OP_RD_TAKE)
        q = smbx__rd_take(r, n);
      else
        smbx__rd_skip(r, n);
      bool ok = model_take(m, n, &at);
      if (op == OP_RD_TAKE) {
        if (!ok)
          CHECK(q == NULL);
        else if (m->p)
          CHECK(q == m->p + at);
        else
          CHECK(q == NULL && n == 0);
        /* touch every byte handed out: ASan checks the bounds */
        if (ok && q) {
          volatile uint8_t sink = 0;
          for (size_t i = 0; i < n; i++)
            sink ^= q[i];
          (void)sink;
        }
      }
      break;
    }
    case OP_RD_SEEK: {
      pc++;
      size_t to = arg_len(arg);
      smbx__rd_seek(r, to);
      if (m->bad || to > m->len)
        m->bad = true;
      else
        m->off = to;
      break;
    }
    case OP_RD_ALIGN8: {
      smbx__rd_align8(r);
      size_t pad = (8 - (m->off & 7)) & 7;
      model_take(m, pad, &at);
      CHECK(m->bad || m->off % 8 == 0);
      break;
    }
    case OP_RD_SUB: {
      pc++;
      size_t n = arg_len(arg);
      smbx__rd s = smbx__rd_sub(r, n);
      bool ok = model_take(m, n, &at);
      mrd ms = {ok && m->p ? m->p + at : NULL, ok ? n : 0, 0, !ok};
      CHECK(s.p == ms.p);
      same(&s, &ms);
      if (depth + 1 < DEPTH) {
        stack[depth + 1] = s;
        mstack[depth + 1] = ms;
        same(r, m); /* parent checked before switching */
        depth++;
        r = &stack[depth];
        m = &mstack[depth];
        was_bad = m->bad;
      }
      break;
    }
    case OP_RD_POP:
      if (depth > 0) {
        same(r, m);
        depth--;
        r = &stack[depth];
        m = &mstack[depth];
        was_bad = m->bad;
      }
      break;
    case OP_RD_COPY: {
      pc++;
      size_t n = arg % 80;
      uint8_t out[80];
      memset(out, 0x5A, sizeof out);
      smbx__rd_copy(r, out, n);
      if (model_take(m, n, &at)) {
        CHECK(n == 0 || memcmp(out, m->p + at, n) == 0);
      } else {
        for (size_t i = 0; i < n; i++)
          CHECK(out[i] == 0);
      }
      for (size_t i = n; i < sizeof out; i++)
        CHECK(out[i] == 0x5A);
      break;
    }
    default: {
      /* writer ops */
      size_t n = 0;
      uint8_t bytes[80];
      bool wr_was_bad = mbad;
      size_t off_before = w.off;
      switch (op) {
      case OP_WR_U8:
        pc++;
        n = 1;
        bytes[0] = arg;
        smbx__wr_u8(&w, arg);
        break;
      case OP_WR_U16:
        pc++;
        n = 2;
        smbx__put_le16(bytes, (uint16_t)(arg * 0x0101u));
        smbx__wr_u16(&w, (uint16_t)(arg * 0x0101u));
        break;
      case OP_WR_U32:
        pc++;
        n = 4;
        for (size_t i = 0; i < 4; i++)
          bytes[i] = (uint8_t)(arg + i);
        smbx__wr_u32(&w, (uint32_t)le(bytes, 4));
        break;
      case OP_WR_U64:
        pc++;
        n = 8;
        for (size_t i = 0; i < 8; i++)
          bytes[i] = (uint8_t)(arg ^ (i * 17));
        smbx__wr_u64(&w, le(bytes, 8));
        break;
      case OP_WR_BYTES:
        pc++;
        n = arg % 80;
        for (size_t i = 0; i < n; i++)
          bytes[i] = (uint8_t)(i * 31 + arg);
        smbx__wr_bytes(&w, bytes, n);
        break;
      case OP_WR_ZERO:
        pc++;
        n = arg % 80;
        memset(bytes, 0, n);
        smbx__wr_zero(&w, n);
        break;
      case OP_WR_ALIGN8:
        n = (8 - (mneed & 7)) & 7;
        memset(bytes, 0, n);
        smbx__wr_align8(&w);
        break;
      default: { /* OP_WR_TAKE with a possibly huge length */
        pc++;
        size_t len = arg_len(arg);
        uint8_t *q = smbx__wr_take(&w, len);
        if (SIZE_MAX - mneed < len) {
          mbad = true;
          mneed = SIZE_MAX;
        } else {
          mneed += len;
          if (mbad || mcap - moff < len) {
            mbad = true;
          } else {
            CHECK(q == (w.p ? wbuf + moff : NULL));
            if (q && len) {
              memset(q, 0x3C, len); /* in bounds, or ASan reports */
              memset(shadow + moff, 0x3C, len);
            }
            moff += len;
          }
        }
        if (mbad && !wr_was_bad)
          CHECK(q == NULL);
        n = SIZE_MAX; /* handled */
        break;
      }
      }
      if (n != SIZE_MAX) {
        if (SIZE_MAX - mneed < n) {
          mbad = true;
          mneed = SIZE_MAX;
        } else {
          mneed += n;
          if (mbad || mcap - moff < n) {
            mbad = true;
          } else {
            if (n)
              memcpy(shadow + moff, bytes, n);
            moff += n;
          }
        }
      }
      CHECK(w.bad == mbad);
      CHECK(w.need == mneed);
      CHECK(w.off == moff);
      CHECK(w.need >= w.off);
      CHECK(w.off <= w.cap);
      if (wr_was_bad)
        CHECK(w.off == off_before); /* bad is sticky: nothing moves */
      break;
    }
    }
    /* reader invariants after every op */
    if (was_bad)
      CHECK(m->bad);
    same(r, m);
  }
  for (int d = 0; d <= depth; d++)
    same(&stack[d], &mstack[d]);
  /* bytes written are exactly the model's, and nothing else changed */
  CHECK(memcmp(wbuf, shadow, wcap ? wcap : 1) == 0);
  free(rbuf);
  free(wbuf);
  free(shadow);
  return 0;
}
