/* SPDX-License-Identifier: MIT */
/* The SMB Direct engine fed arbitrary receive completions interleaved with
 * send completions, timer steps, token releases, sends and CM events, all
 * chosen by the input. fuzz_smbd_negotiate starts in the negotiate phase
 * (passive awaiting the request or active awaiting the response, by the
 * first byte); fuzz_smbd_data (same driver, FUZZ_SMBD_DATA) starts
 * established, optionally mid-reassembly. Always ends with smbx_smbd_free;
 * the replay build checks leaks with ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smbd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NB 8
#define BL 1024
#define QN 256

typedef struct fz {
  uint64_t rq[QN], sq[QN], tok[QN];
  uint32_t rq_n, sq_n, tok_n;
  int fail_next;
} fz;

static uint8_t bufmem[NB][BL];

static int f_send(void *ud, uint64_t wr, const smbx_sge *sg, size_t n,
                  uint32_t fl, uint32_t rk)
{
  fz *f = ud;
  (void)sg, (void)n, (void)fl, (void)rk;
  if (f->fail_next) {
    f->fail_next = 0;
    return -1;
  }
  if (f->sq_n == QN)
    abort();
  f->sq[f->sq_n++] = wr;
  return 0;
}

static int f_recv(void *ud, uint64_t wr, const smbx_sge *b)
{
  fz *f = ud;
  if (b->length < BL || f->rq_n == QN)
    abort();
  f->rq[f->rq_n++] = wr;
  return 0;
}

static int f_reg(void *ud, void *a, size_t l, uint32_t acc, smbx_mr *o)
{
  (void)ud, (void)a, (void)l, (void)acc;
  memset(o, 0, sizeof *o);
  return 0;
}

static void f_dereg(void *ud, const smbx_mr *m)
{
  (void)ud, (void)m;
}

static uint64_t pop(uint64_t *q, uint32_t *n)
{
  uint64_t v = q[0];
  memmove(q, q + 1, (*n - 1) * sizeof *q);
  (*n)--;
  return v;
}

static void drain(smbx_smbd *d, fz *f)
{
  smbx_smbd_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_smbd_next_event(d, &ev) == 1) {
    if (ev.type == SMBX_SMBD_EV_MESSAGE) {
      if (ev.u.message.len && ev.u.message.data[0] == 0x5A &&
          ev.u.message.data[ev.u.message.len - 1] == 0xA5)
        (void)0; /* touch both ends: ASan checks the view */
      if (f->tok_n < QN)
        f->tok[f->tok_n++] = ev.u.message.token;
    }
  }
}

/* Deliver bytes into the oldest posted receive (its index is in wr_id). */
static void deliver(smbx_smbd *d, fz *f, const uint8_t *p, size_t len,
                    uint32_t status, uint64_t now)
{
  if (!f->rq_n)
    return;
  uint64_t wr = pop(f->rq, &f->rq_n);
  uint32_t idx = (uint32_t)(wr & 0xFFFFFFFFu);
  if (len > BL)
    len = BL;
  if (idx < NB && len)
    memcpy(bufmem[idx], p, len);
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = wr;
  wc.status = status;
  wc.byte_len = (uint32_t)len;
  smbx_smbd_recv(d, &wc, now);
  drain(d, f);
}

#ifdef FUZZ_SMBD_DATA
static void complete_sends(smbx_smbd *d, fz *f, uint64_t now)
{
  while (f->sq_n) {
    smbx_wc wc;
    memset(&wc, 0, sizeof wc);
    wc.wr_id = pop(f->sq, &f->sq_n);
    smbx_smbd_send_done(d, &wc, now);
    drain(d, f);
  }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 1 << 16)
    return 0;
  fz f;
  memset(&f, 0, sizeof f);
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = &f;
  t.post_send = f_send;
  t.post_recv = f_recv;
  t.register_mr = f_reg;
  t.deregister_mr = f_dereg;
  smbx_smbd_recv_buf bufs[NB];
  for (int k = 0; k < NB; k++) {
    bufs[k].addr = bufmem[k];
    bufs[k].length = BL;
    bufs[k].reserved = 0;
    bufs[k].handle = (uint64_t)k;
  }
  smbx_smbd_settings s;
  smbx_smbd_settings_default(&s, sizeof s);
  uint8_t mode = data[0];
  s.role = mode & 1 ? SMBX_SMBD_ROLE_PASSIVE : SMBX_SMBD_ROLE_ACTIVE;
  s.max_recv_size = BL;
  s.max_fragmented_recv_size = 131072;
  s.send_buffers = 64;
  s.send_queue_depth = 16;
  s.reassembly_buffers = 1;
  s.flags = mode & 2 ? SMBX_SMBD_STRICT : 0;
  s.zero_credit_timeout_ns = mode & 4 ? 5000000000ull : 0;
  smbx_smbd *d = NULL;
  uint64_t now = 0;
  if (smbx_smbd_new(&d, &s, &t, bufs, NB, NULL, now) != 0)
    return 0;
  smbx_smbd_cm_event(d, SMBX_SMBD_CM_ESTABLISHED, 1, 1, now);
  drain(d, &f);
#ifdef FUZZ_SMBD_DATA
  /* negotiate with a well-formed peer first */
  if (s.role == SMBX_SMBD_ROLE_ACTIVE) {
    uint8_t b[32];
    smbx_smbd_negotiate_resp r = {0x100, 0x100, 0x100, 0, 32, 8, 0,
                                  1048576, 1024, 1024, 131072};
    smbx_smbd_encode_negotiate_resp(&r, b, 32);
    deliver(d, &f, b, 32, 0, now);
  } else {
    uint8_t b[20];
    smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 32, 1024, 1024, 131072};
    smbx_smbd_encode_negotiate_req(&q, b, 20);
    deliver(d, &f, b, 20, 0, now);
  }
  complete_sends(d, &f, now);
  if (mode & 8) { /* mid-reassembly: a first fragment of 4000 bytes */
    uint8_t b[64];
    memset(b, 0, sizeof b);
    smbx_smbd_data m = {32, 4, 0, 0, 3968, 24, 32, 0, b + 32};
    smbx_smbd_encode_data(&m, b, sizeof b);
    deliver(d, &f, b, 56, 0, now);
  }
#endif
  size_t i = 1;
  while (i < size) {
    uint8_t op = data[i++];
    switch (op % 8) {
    case 0: { /* a receive completion with the next bytes */
      size_t len = i < size ? data[i++] : 0;
      if (op & 8)
        len = len * 8;
      if (len > size - i)
        len = size - i;
      deliver(d, &f, data + i, len, 0, now);
      i += len;
      break;
    }
    case 1: /* complete the oldest send */
      if (f.sq_n) {
        smbx_wc wc;
        memset(&wc, 0, sizeof wc);
        wc.wr_id = pop(f.sq, &f.sq_n);
        wc.status = (op & 0x30) == 0x30 ? SMBX_WC_ERROR : SMBX_WC_SUCCESS;
        smbx_smbd_send_done(d, &wc, now);
        drain(d, &f);
      }
      break;
    case 2: /* time passes, timers fire */
      now += (uint64_t)(op >> 3) * 1000000000ull;
      smbx_smbd_handle_expiry(d, now);
      drain(d, &f);
      break;
    case 3: /* the owner releases its oldest token */
      if (f.tok_n) {
        smbx_smbd_release(d, pop(f.tok, &f.tok_n), now);
        drain(d, &f);
      }
      break;
    case 4: { /* the owner sends */
      static uint8_t msg[8192];
      size_t len = (size_t)(op >> 3) * 211 + 1;
      smbx_sge sg = {msg, (uint32_t)len, 0, 0};
      smbx_smbd_send(d, &sg, 1, op & 0x80 ? SMBX_SEND_INVALIDATE : 0, 7, NULL,
                     now);
      drain(d, &f);
      break;
    }
    case 5: /* a flushed or failed receive */
      deliver(d, &f, NULL, 0, op & 8 ? SMBX_WC_ERROR : SMBX_WC_FLUSH, now);
      break;
    case 6: /* connection manager */
      smbx_smbd_cm_event(d, 1u + (uint32_t)(op >> 5), 0, 0, now);
      drain(d, &f);
      break;
    default: /* backpressure, close, or a failing next post */
      if (op & 8)
        smbx_smbd_set_backpressure(d, op & 16, now);
      else if (op & 16)
        smbx_smbd_close(d, now);
      else
        f.fail_next = 1;
      drain(d, &f);
      break;
    }
  }
  smbx_smbd_free(d);
  return 0;
}
