/* SPDX-License-Identifier: MIT */
/* The SMB Direct engine fed arbitrary receive completions interleaved with
 * send completions (in order, newest first, duplicated), timer steps,
 * token releases, sends and CM events, all chosen by the input.
 * fuzz_smbd_negotiate starts in the negotiate phase (passive awaiting the
 * request or active awaiting the response, by the first byte);
 * fuzz_smbd_data (same driver, FUZZ_SMBD_DATA) starts established,
 * optionally mid-reassembly. Always ends with smbx_smbd_free; the replay
 * build checks leaks with ASan.
 *
 * Oracles (abort on violation), beyond memory safety: the engine's
 * buffer/slot bookkeeping agrees with itself after every step; it never
 * grants a credit without a posted (or unprocessed) receive; it never
 * posts a receive buffer twice or after returning it; every message it
 * sends decodes, fragments chain exactly with no empty message inside a
 * sequence, the last send credit always carries a grant, and
 * SEND_WITH_INVALIDATE rides only on a first fragment; each lent buffer
 * comes back at most once (all of them by CLOSED); no MESSAGE or
 * SEND_DONE after DISCONNECTED; every delivered token releases exactly
 * once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smbd.h>

#include "smbd/smbd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NB 8
#define BL 1024
#define QN 256

typedef struct fz {
  uint64_t rq[QN], sq[QN], tok[QN];
  uint32_t rq_n, sq_n, tok_n;
  int fail_next, fail_next_recv;
  smbx_smbd *d;
  uint8_t posted[NB], returned[NB];
  uint32_t out_expect; /* RemainingDataLength of the last fragment sent */
  uint64_t done_send, done_recv; /* a completed wr_id, to replay */
  int disconnected, closed;
} fz;

static uint8_t bufmem[NB][BL];

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c))                                                                 \
      abort();                                                                \
  } while (0)

/* What goes on the wire: decodes, chains, keeps the last-credit rule. */
static void check_sent(fz *f, uint64_t wr, const smbx_sge *sg, size_t n,
                       uint32_t fl)
{
  const smbx_smbd *d = f->d;
  uint32_t i = (uint32_t)(wr & 0xFFFFFFFFu);
  CHECK(wr >> 32 == SMBX__SMBD_WR_SEND && i < d->n_made && n == 1);
  CHECK(d->slot[i].state == SS_INFLIGHT);
  uint8_t kind = d->slot[i].kind;
  if (kind == SK_NEG || kind == SK_NEG_FAIL) {
    CHECK(sg[0].length == 20 || sg[0].length == 32);
    CHECK(fl == 0);
    return;
  }
  smbx_smbd_data m;
  CHECK(smbx_smbd_decode_data(sg[0].addr, sg[0].length, 0, 0, &m, NULL) == 0);
  CHECK(sg[0].length <= d->max_send);
  CHECK(m.credits_requested >= 1);
  /* errata 3.1.5.1: the last credit (now spent) carries a grant;
   * 3.1.5.9 (b): so does any message sent while the peer had no credit
   * (ReceiveCredits already includes this grant) */
  if (d->send_credits == 0 || d->recv_credits == 0)
    CHECK(m.credits_granted >= 1);
  if (fl & SMBX_SEND_INVALIDATE)
    CHECK(f->out_expect == 0 && m.data_length > 0);
  if (f->out_expect) { /* 3.2: nothing but the next fragment */
    CHECK(m.data_length > 0);
    CHECK((uint64_t)m.data_length + m.remaining_data_length == f->out_expect);
  } else if (m.data_length == 0) {
    CHECK(m.remaining_data_length == 0);
  }
  f->out_expect = m.remaining_data_length;
}

static int f_send(void *ud, uint64_t wr, const smbx_sge *sg, size_t n,
                  uint32_t fl, uint32_t rk)
{
  fz *f = ud;
  (void)rk;
  if (f->fail_next) {
    f->fail_next = 0;
    return -1;
  }
  check_sent(f, wr, sg, n, fl);
  if (f->sq_n == QN)
    abort();
  f->sq[f->sq_n++] = wr;
  return 0;
}

static int f_recv(void *ud, uint64_t wr, const smbx_sge *b)
{
  fz *f = ud;
  uint32_t i = (uint32_t)(wr & 0xFFFFFFFFu);
  if (f->fail_next_recv) {
    f->fail_next_recv = 0;
    return -1;
  }
  if (b->length < BL || f->rq_n == QN)
    abort();
  CHECK(wr >> 32 == SMBX__SMBD_WR_RECV && i < NB && b->addr == bufmem[i]);
  CHECK(!f->posted[i] && !f->returned[i]);
  f->posted[i] = 1;
  f->rq[f->rq_n++] = wr;
  return 0;
}

/* The engine's bookkeeping agrees with itself; credits are backed. */
static void check_state(const fz *f)
{
  const smbx_smbd *d = f->d;
  uint32_t cnt[5] = {0}, nfl = 0, nbl = 0;
  for (uint32_t i = 0; i < d->n_rb; i++)
    cnt[d->rb[i].state]++;
  for (uint32_t i = d->rbf_head; i != SMBX__SMBD_NIL; i = d->rb[i].next)
    CHECK(++nfl <= d->n_rb && d->rb[i].state == RB_FREE);
  for (uint32_t i = d->bl_head; i != SMBX__SMBD_NIL; i = d->rb[i].next)
    CHECK(++nbl <= d->n_rb && d->rb[i].state == RB_BACKLOG);
  CHECK(cnt[RB_FREE] == d->n_free && nfl == d->n_free);
  CHECK(cnt[RB_POSTED] == d->n_posted && cnt[RB_HELD] == d->n_held);
  CHECK(cnt[RB_BACKLOG] == nbl);
  uint32_t sc[3] = {0}, nq = 0, busy = 0;
  CHECK(d->n_made <= d->n_slots);
  for (uint32_t i = 0; i < d->n_made; i++)
    sc[d->slot[i].state]++;
  for (uint32_t i = d->n_made; i < d->n_slots; i++) /* not made yet */
    CHECK(d->slot[i].state == SS_FREE);
  for (uint32_t i = d->q_head; i != SMBX__SMBD_NIL; i = d->slot[i].next)
    CHECK(++nq <= d->n_slots && d->slot[i].state == SS_QUEUED);
  CHECK(sc[SS_FREE] == d->n_free_slots && sc[SS_QUEUED] == d->n_queued);
  CHECK(sc[SS_INFLIGHT] == d->n_inflight && nq == d->n_queued);
  CHECK(d->n_inflight <= d->s.send_queue_depth + 1);
  for (uint32_t r = 0; r < d->n_ra; r++)
    busy += d->ra[r].busy;
  CHECK(busy == d->n_ra_busy);
  /* 3.3: never a credit without a receive posted (or arrived, unread) */
  if (!d->torn && d->state == SMBX_SMBD_STATE_CONNECTED)
    CHECK(d->recv_credits <= d->n_posted + nbl);
  CHECK(d->ev_n == 0 && d->ev_sd == 0); /* drained */
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

static volatile uint8_t sink;

/* The engine allocates only in smbx_smbd_new and frees only in
 * smbx_smbd_free: keep its blocks for the next input instead of mapping
 * and unmapping ~220 KiB per run (they stay ASan-allocated, so overflows
 * still hit redzones). */
#define CACHE_N 32
static struct {
  void *p;
  size_t size, align;
  int used;
} cache[CACHE_N];

static void *c_alloc(size_t size, size_t align, void *ud)
{
  (void)ud;
  for (int k = 0; k < CACHE_N; k++)
    if (cache[k].p && !cache[k].used && cache[k].size == size &&
        cache[k].align == align) {
      cache[k].used = 1;
      return cache[k].p;
    }
  size_t a = align < sizeof(void *) ? sizeof(void *) : align;
  void *p = aligned_alloc(a, (size + a - 1) / a * a);
  if (!p)
    return NULL;
  for (int k = 0; k < CACHE_N; k++)
    if (!cache[k].p) {
      cache[k].p = p;
      cache[k].size = size;
      cache[k].align = align;
      cache[k].used = 1;
      break;
    }
  return p;
}

static void c_free(void *p, size_t size, size_t align, void *ud)
{
  (void)size, (void)align, (void)ud;
  for (int k = 0; k < CACHE_N; k++)
    if (cache[k].p == p) {
      CHECK(cache[k].used);
      cache[k].used = 0;
      return;
    }
  free(p);
}

static void *c_realloc(void *p, size_t o, size_t n, size_t align, void *ud)
{
  (void)p, (void)o, (void)n, (void)align, (void)ud;
  abort(); /* the engine never reallocates */
}

static const smbx_allocator cache_alloc = {sizeof(smbx_allocator), c_alloc,
                                           c_realloc, c_free, NULL};

static void drain(smbx_smbd *d, fz *f)
{
  smbx_smbd_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_smbd_next_event(d, &ev) == 1) {
    switch (ev.type) {
    case SMBX_SMBD_EV_MESSAGE:
      CHECK(!f->disconnected && ev.u.message.len > 0);
      /* touch both ends: ASan checks the view */
      sink = (uint8_t)(ev.u.message.data[0] ^
                       ev.u.message.data[ev.u.message.len - 1]);
      if (f->tok_n < QN)
        f->tok[f->tok_n++] = ev.u.message.token;
      else
        CHECK(smbx_smbd_release(d, ev.u.message.token, 0) == 0);
      break;
    case SMBX_SMBD_EV_SEND_DONE:
      CHECK(!f->disconnected);
      break;
    case SMBX_SMBD_EV_DISCONNECTED:
      CHECK(!f->disconnected);
      f->disconnected = 1;
      break;
    case SMBX_SMBD_EV_RECV_BUFFER:
      CHECK(ev.u.recv_buf.index < NB && !f->returned[ev.u.recv_buf.index]);
      CHECK(!f->posted[ev.u.recv_buf.index]);
      f->returned[ev.u.recv_buf.index] = 1;
      break;
    case SMBX_SMBD_EV_CLOSED:
      CHECK(f->disconnected && !f->closed);
      f->closed = 1;
      for (int k = 0; k < NB; k++)
        CHECK(f->returned[k]);
      break;
    default:
      break;
    }
  }
  check_state(f);
}

/* Deliver bytes into the oldest posted receive (its index is in wr_id). */
static void deliver(smbx_smbd *d, fz *f, const uint8_t *p, size_t len,
                    uint32_t status, uint32_t wcf, uint64_t now)
{
  if (!f->rq_n)
    return;
  uint64_t wr = pop(f->rq, &f->rq_n);
  uint32_t idx = (uint32_t)(wr & 0xFFFFFFFFu);
  if (len > BL)
    len = BL;
  if (idx < NB && len)
    memcpy(bufmem[idx], p, len);
  f->posted[idx] = 0;
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = wr;
  wc.status = status;
  wc.flags = wcf;
  wc.invalidated_rkey = wcf ? 0x1234u : 0;
  wc.byte_len = (uint32_t)len;
  CHECK(smbx_smbd_recv(d, &wc, now) != SMBX_ERR_INVAL);
  f->done_recv = wr;
  drain(d, f);
}

/* a send completion: the oldest (RC order) or, by choice, the newest */
static void complete_send(smbx_smbd *d, fz *f, int newest, uint32_t st,
                          uint64_t now)
{
  if (!f->sq_n)
    return;
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = newest ? f->sq[--f->sq_n] : pop(f->sq, &f->sq_n);
  wc.status = st;
  CHECK(smbx_smbd_send_done(d, &wc, now) != SMBX_ERR_INVAL);
  f->done_send = wc.wr_id;
  drain(d, f);
}

#ifdef FUZZ_SMBD_DATA
static void complete_sends(smbx_smbd *d, fz *f, uint64_t now)
{
  while (f->sq_n)
    complete_send(d, f, 0, SMBX_WC_SUCCESS, now);
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
  if (smbx_smbd_new(&d, &s, &t, bufs, NB, &cache_alloc, now) != 0)
    return 0;
  f.d = d;
  f.posted[0] = 1; /* posted inside smbx_smbd_new, before f.d was known */
#ifndef FUZZ_SMBD_DATA
  /* mode bit 4: ESTABLISHED comes later (an op 6 of 0x06..0x1E), after
   * receives may have completed (mlx5/irdma order) */
  if (!(mode & 16))
#endif
    smbx_smbd_cm_event(d, SMBX_SMBD_CM_ESTABLISHED, 1, 1, now);
  drain(d, &f);
#ifdef FUZZ_SMBD_DATA
  /* negotiate with a well-formed peer first */
  if (s.role == SMBX_SMBD_ROLE_ACTIVE) {
    uint8_t b[32];
    smbx_smbd_negotiate_resp r = {0x100, 0x100, 0x100, 0, 32, 8, 0,
                                  1048576, 1024, 1024, 131072};
    smbx_smbd_encode_negotiate_resp(&r, b, 32);
    deliver(d, &f, b, 32, 0, 0, now);
  } else {
    uint8_t b[20];
    smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 32, 1024, 1024, 131072};
    smbx_smbd_encode_negotiate_req(&q, b, 20);
    deliver(d, &f, b, 20, 0, 0, now);
  }
  complete_sends(d, &f, now);
  if (mode & 8) { /* mid-reassembly: a first fragment of 4000 bytes */
    uint8_t b[64];
    memset(b, 0, sizeof b);
    smbx_smbd_data m = {32, 4, 0, 0, 3968, 24, 32, 0, b + 32};
    smbx_smbd_encode_data(&m, b, sizeof b);
    deliver(d, &f, b, 56, 0, 0, now);
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
      deliver(d, &f, data + i, len, 0,
              op & 0x80 ? SMBX_WC_WITH_INVALIDATE : 0u, now);
      i += len;
      break;
    }
    case 1: /* complete the oldest send (or the newest: hosts reorder) */
      complete_send(d, &f, (op & 0xC0) == 0xC0,
                    (op & 0x30) == 0x30 ? SMBX_WC_ERROR : SMBX_WC_SUCCESS, now);
      break;
    case 2: /* time passes, timers fire */
      now += (uint64_t)(op >> 3) * 1000000000ull;
      smbx_smbd_handle_expiry(d, now);
      drain(d, &f);
      break;
    case 3: /* the owner releases its oldest token; or a stale completion */
      if (op & 0x80) {
        smbx_wc wc;
        memset(&wc, 0, sizeof wc);
        wc.wr_id = op & 0x40 ? f.done_send : f.done_recv;
        /* still posted (reused) or refused; never a crash */
        if (op & 0x40 && wc.wr_id && !(wc.wr_id >> 32 == SMBX__SMBD_WR_SEND &&
                                       d->slot[wc.wr_id & 0xFFFFFFFFu].state ==
                                           SS_INFLIGHT))
          CHECK(smbx_smbd_send_done(d, &wc, now) == SMBX_ERR_INVAL);
        else if (!(op & 0x40) && wc.wr_id &&
                 !f.posted[wc.wr_id & 0xFFFFFFFFu])
          CHECK(smbx_smbd_recv(d, &wc, now) == SMBX_ERR_INVAL);
        drain(d, &f);
      } else if (f.tok_n) {
        CHECK(smbx_smbd_release(d, pop(f.tok, &f.tok_n), now) == 0);
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
      deliver(d, &f, NULL, 0, op & 8 ? SMBX_WC_ERROR : SMBX_WC_FLUSH, 0, now);
      break;
    case 6: /* connection manager */
      smbx_smbd_cm_event(d, 1u + (uint32_t)(op >> 5), 0, 0, now);
      drain(d, &f);
      break;
    default: /* backpressure, close, or a failing next post (send/recv) */
      if (op & 8)
        smbx_smbd_set_backpressure(d, op & 16, now);
      else if (op & 16)
        smbx_smbd_close(d, now);
      else if (op & 32)
        f.fail_next_recv = 1;
      else
        f.fail_next = 1;
      drain(d, &f);
      break;
    }
  }
  smbx_smbd_free(d);
  for (int k = 0; k < CACHE_N; k++)
    CHECK(!cache[k].used); /* everything allocated was freed */
  return 0;
}
