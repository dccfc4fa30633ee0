/* SPDX-License-Identifier: MIT */
/* SMB Direct engine metrics (issue: SMB Direct engine).
 *
 * smbd.hdr_codec       decode the data header + the SMB2 header behind it
 *                      with the library's decoders and re-encode the data
 *                      header; ratio to anchor.naive_parse (goal <= 1.25).
 * smbd.msg_pingpong    one small message from an active to a passive engine
 *                      through an in-memory loopback NIC, events, release
 *                      and credit grants included; ratio to the naive parse
 *                      (goal <= 8).
 * smbd.msg_allocs      allocations per message in that loop (invariant 0).
 * smbd.reasm_1m        a 1 MiB message arriving as 8 KiB fragments into a
 *                      passive engine (the peer is the bench itself, writing
 *                      only each fragment's 24-byte header, as a NIC would
 *                      have placed the payload); the engine's one
 *                      reassembly copy against anchor.memcpy_1m_hot
 *                      (goal: time <= 1/0.9 of the memcpy).
 * smbd.reasm_allocs    allocations per 1 MiB message (invariant 0).
 * smbd.state_bytes     engine state per connection excluding buffers and
 *                      their descriptor tables (goal <= 1024).
 * smbd.table_bytes_per_recv_buf  the descriptor tables and event queue,
 *                      which scale with the buffer counts, per receive
 *                      buffer (reported). */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>
#include <smbx/smbd.h>

#include "bench.h"
#include "smbd/smbd_pdu.h"

/* ---- smbd.hdr_codec ----------------------------------------------------- */

static double hdr_codec_run(void *state, uint64_t iters)
{
  (void)state;
  const uint8_t *msgs = bench_hdr_msgs();
  const uint32_t *lens = bench_hdr_msg_lens();
  uint8_t out[SMBX_SMBD_DATA_HDR_SIZE];
  uint64_t acc = 0, t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    uint32_t k = (uint32_t)(i % BENCH_HDR_MSGS);
    const uint8_t *p = msgs + (size_t)k * BENCH_HDR_MSG_LEN;
    smbx_smbd_data m;
    smbx_smb2_hdr h;
    if (smbx__smbd_decode_data(p, lens[k], 1u << 20, false, &m, NULL) != 0 ||
        smbx_smb2_hdr_decode(m.payload, m.data_length, &h, NULL) != 0)
      continue;
    acc += smbx__smbd_put_data_hdr(out, m.credits_requested,
                                   m.credits_granted, m.flags,
                                   m.remaining_data_length, m.data_length);
    acc += h.message_id + h.command + out[2];
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* ---- an in-memory loopback NIC ------------------------------------------ */

#define LB_RQ 512
#define LB_CQ 2048
#define LB_RECV_BUFS 256
#define LB_BUF_SIZE 8192

typedef struct lb_ep lb_ep;
typedef struct lb_rq {
  uint64_t wr_id;
  uint8_t *addr;
  uint32_t len;
} lb_rq;

struct lb_ep {
  lb_ep *peer;
  smbx_smbd *d;     /* NULL: the bench itself is this side (raw peer) */
  lb_rq rq[LB_RQ];  /* posted receives, FIFO */
  uint32_t rq_head, rq_n;
  smbx_wc rcq[LB_CQ], scq[LB_CQ];
  uint32_t rcq_head, rcq_n, scq_head, scq_n;
  uint8_t *bufs;    /* LB_RECV_BUFS x LB_BUF_SIZE */
  /* raw peer bookkeeping: what the engine on the other side sent us */
  uint32_t raw_credits;     /* send credits the engine granted us */
  uint32_t raw_owed_grants; /* its sends we have not re-granted yet */
  uint64_t messages;        /* MESSAGE events seen */
  uint64_t msg_bytes;
  int negotiated;
  int dead;
};

static void cq_push(smbx_wc *q, uint32_t head, uint32_t *n, const smbx_wc *wc)
{
  q[(head + *n) % LB_CQ] = *wc;
  (*n)++;
}

static void raw_take(lb_ep *raw, const uint8_t *msg, size_t len)
{
  /* the raw peer reads the credits the engine grants it */
  if (!raw->negotiated) {
    smbx_smbd_negotiate_resp r;
    if (smbx_smbd_decode_negotiate_resp(msg, len, &r, NULL) == 0) {
      raw->raw_credits += r.credits_granted;
      raw->negotiated = 1;
    }
    return;
  }
  if (len >= SMBX_SMBD_DATA_HDR_EMPTY)
    raw->raw_credits += smbx__get_le16(msg + 2);
  raw->raw_owed_grants++;
}

static int lb_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n_sg, uint32_t flags, uint32_t rkey)
{
  (void)flags;
  (void)rkey;
  lb_ep *ep = ud, *peer = ep->peer;
  smbx_wc done = {.wr_id = wr_id, .status = SMBX_WC_SUCCESS};
  if (!peer->d) {
    /* the raw peer reads only the header: gather its first 32 bytes
     * (a negotiate response is 32, a data header 20 or 24) */
    uint8_t hdr[SMBX_SMBD_NEGOTIATE_RESP_SIZE];
    size_t len = 0;
    for (size_t i = 0; i < n_sg && len < sizeof hdr; i++) {
      size_t n = sg[i].length < sizeof hdr - len ? sg[i].length
                                                 : sizeof hdr - len;
      memcpy(hdr + len, sg[i].addr, n);
      len += n;
    }
    raw_take(peer, hdr, len);
  } else {
    if (peer->rq_n == 0)
      return -1; /* RNR: the engines must never let this happen */
    lb_rq *r = &peer->rq[peer->rq_head];
    peer->rq_head = (peer->rq_head + 1) % LB_RQ;
    peer->rq_n--;
    uint32_t len = 0;
    for (size_t i = 0; i < n_sg; i++) {
      if (sg[i].length > r->len - len)
        return -1;
      memcpy(r->addr + len, sg[i].addr, sg[i].length);
      len += sg[i].length;
    }
    smbx_wc rc = {.wr_id = r->wr_id, .status = SMBX_WC_SUCCESS,
                  .byte_len = len};
    cq_push(peer->rcq, peer->rcq_head, &peer->rcq_n, &rc);
  }
  cq_push(ep->scq, ep->scq_head, &ep->scq_n, &done);
  return 0;
}

static int lb_post_recv(void *ud, uint64_t wr_id, const smbx_sge *buf)
{
  lb_ep *ep = ud;
  if (ep->rq_n == LB_RQ)
    return -1;
  lb_rq *r = &ep->rq[(ep->rq_head + ep->rq_n) % LB_RQ];
  r->wr_id = wr_id;
  r->addr = buf->addr;
  r->len = buf->length;
  ep->rq_n++;
  return 0;
}

static int lb_register(void *ud, void *addr, size_t len, uint32_t access,
                       smbx_mr *out)
{
  (void)ud;
  (void)len;
  (void)access;
  out->address = (uint64_t)(uintptr_t)addr;
  out->handle = (uint64_t)(uintptr_t)addr;
  out->key = 0x1234;
  out->flags = 0;
  return 0;
}

static void lb_deregister(void *ud, const smbx_mr *mr)
{
  (void)ud;
  (void)mr;
}

/* Drains completions and events of one engine; returns work done. */
static int lb_pump_ep(lb_ep *ep, uint64_t now)
{
  int work = 0;
  if (!ep->d)
    return 0;
  while (ep->scq_n) {
    smbx_wc wc = ep->scq[ep->scq_head];
    ep->scq_head = (ep->scq_head + 1) % LB_CQ;
    ep->scq_n--;
    if (smbx_smbd_send_done(ep->d, &wc, now) < 0)
      ep->dead = 1;
    work++;
  }
  while (ep->rcq_n) {
    smbx_wc wc = ep->rcq[ep->rcq_head];
    ep->rcq_head = (ep->rcq_head + 1) % LB_CQ;
    ep->rcq_n--;
    if (smbx_smbd_recv(ep->d, &wc, now) < 0)
      ep->dead = 1;
    work++;
  }
  smbx_smbd_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_smbd_next_event(ep->d, &ev) == 1) {
    work++;
    switch (ev.type) {
    case SMBX_SMBD_EV_NEGOTIATED:
      ep->negotiated = 1;
      break;
    case SMBX_SMBD_EV_MESSAGE:
      ep->messages++;
      ep->msg_bytes += ev.u.message.len;
      smbx_smbd_release(ep->d, ev.u.message.token, now);
      break;
    case SMBX_SMBD_EV_DISCONNECTED:
      ep->dead = 1;
      break;
    default:
      break;
    }
  }
  return work;
}

static void lb_pump(lb_ep *a, lb_ep *b, uint64_t now)
{
  while (lb_pump_ep(a, now) + lb_pump_ep(b, now))
    ;
}

typedef struct lb_pair {
  bench_alloc ba;
  lb_ep ep[2]; /* 0 active (or the raw peer), 1 passive */
  uint64_t now;
  uint8_t *msg; /* message to send */
  size_t msg_len;
} lb_pair;

static void lb_free(lb_pair *p)
{
  for (int i = 0; i < 2; i++) {
    smbx_smbd_free(p->ep[i].d);
    free(p->ep[i].bufs);
  }
  free(p->msg);
  free(p);
}

static int lb_engine(lb_pair *p, int i, uint32_t role, uint32_t send_size)
{
  lb_ep *ep = &p->ep[i];
  ep->bufs = malloc((size_t)LB_RECV_BUFS * LB_BUF_SIZE);
  if (!ep->bufs)
    return -1;
  smbx_smbd_recv_buf rb[LB_RECV_BUFS];
  for (size_t k = 0; k < LB_RECV_BUFS; k++) {
    rb[k].addr = ep->bufs + k * LB_BUF_SIZE;
    rb[k].length = LB_BUF_SIZE;
    rb[k].reserved = 0;
    rb[k].handle = (uint64_t)(uintptr_t)rb[k].addr;
  }
  smbx_smbd_settings s;
  smbx_smbd_settings_default(&s, sizeof s);
  s.role = role;
  s.max_send_size = send_size;
  s.max_recv_size = LB_BUF_SIZE;
  smbx_transport t = {
    .struct_size = sizeof t, .user_data = ep, .post_send = lb_post_send,
    .post_recv = lb_post_recv, .register_mr = lb_register,
    .deregister_mr = lb_deregister,
  };
  return smbx_smbd_new(&ep->d, &s, &t, rb, LB_RECV_BUFS, &p->ba.a, p->now);
}

static lb_pair *lb_new(int raw_active, uint32_t send_size)
{
  lb_pair *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  bench_alloc_init(&p->ba);
  p->now = 1000;
  p->ep[0].peer = &p->ep[1];
  p->ep[1].peer = &p->ep[0];
  if ((!raw_active &&
       lb_engine(p, 0, SMBX_SMBD_ROLE_ACTIVE, send_size) != 0) ||
      lb_engine(p, 1, SMBX_SMBD_ROLE_PASSIVE, send_size) != 0) {
    lb_free(p);
    return NULL;
  }
  smbx_smbd_cm_event(p->ep[1].d, SMBX_SMBD_CM_ESTABLISHED, 8, 8, p->now);
  if (!raw_active) {
    smbx_smbd_cm_event(p->ep[0].d, SMBX_SMBD_CM_ESTABLISHED, 8, 8, p->now);
    lb_pump(&p->ep[0], &p->ep[1], p->now);
    if (!p->ep[0].negotiated || !p->ep[1].negotiated) {
      lb_free(p);
      return NULL;
    }
  }
  return p;
}

/* ---- smbd.msg_pingpong / smbd.msg_allocs --------------------------------- */

/* One message end to end; returns 0 when it arrived. */
static int pingpong_one(lb_pair *p)
{
  smbx_sge sg = {.addr = p->msg, .length = (uint32_t)p->msg_len};
  uint64_t before = p->ep[1].messages;
  if (smbx_smbd_send(p->ep[0].d, &sg, 1, 0, 0, NULL, p->now) != 0)
    return -1;
  lb_pump(&p->ep[0], &p->ep[1], p->now);
  return p->ep[1].messages == before + 1 && !p->ep[0].dead && !p->ep[1].dead
             ? 0
             : -1;
}

static int pingpong_setup(void **state, void *arg)
{
  (void)arg;
  lb_pair *p = lb_new(0, 1364);
  if (!p)
    return -1;
  p->msg_len = 64;
  p->msg = calloc(1, p->msg_len);
  if (!p->msg) {
    lb_free(p);
    return -1;
  }
  /* steady state before measuring: cycle every send slot and receive
   * buffer once, so first-touch page faults stay out of short runs */
  for (int i = 0; i < 4096; i++)
    if (pingpong_one(p) != 0) {
      lb_free(p);
      return -1;
    }
  *state = p;
  return 0;
}

static void pingpong_teardown(void *state)
{
  lb_free(state);
}

static double pingpong_run(void *state, uint64_t iters)
{
  lb_pair *p = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    if (pingpong_one(p) != 0)
      return 1e12; /* broken pipeline: an absurd time, never a PASS */
  return (double)(bench_now_ns() - t0) / (double)iters;
}

static double pingpong_allocs_run(void *state, uint64_t iters)
{
  lb_pair *p = state;
  uint64_t before = bench_alloc_calls(&p->ba);
  for (uint64_t i = 0; i < iters; i++)
    if (pingpong_one(p) != 0)
      return 1e9;
  return (double)(bench_alloc_calls(&p->ba) - before) / (double)iters;
}

/* ---- smbd.reasm_1m / smbd.reasm_allocs ----------------------------------- */

#define REASM_MSG (1u << 20)
#define REASM_FRAG (LB_BUF_SIZE - SMBX_SMBD_DATA_HDR_SIZE)

/* The bench is the active peer: negotiate by hand, pre-fill every receive
 * buffer's payload area once, then per fragment write only its header. */
static int raw_deliver(lb_pair *p, const uint8_t *hdr, size_t hdr_len,
                       uint32_t total_len)
{
  lb_ep *e = &p->ep[1];
  if (e->rq_n == 0)
    return -1;
  lb_rq *r = &e->rq[e->rq_head];
  e->rq_head = (e->rq_head + 1) % LB_RQ;
  e->rq_n--;
  memcpy(r->addr, hdr, hdr_len);
  smbx_wc wc = {.wr_id = r->wr_id, .status = SMBX_WC_SUCCESS,
                .byte_len = total_len};
  int rc = smbx_smbd_recv(e->d, &wc, p->now);
  /* completions and events are drained in batches, as a host polling its
   * CQ would: at the end of a message or when credits run low */
  if (total_len == hdr_len || p->ep[0].raw_credits < 16 ||
      smbx__get_le32(hdr + 8) == 0)
    lb_pump_ep(e, p->now);
  return rc < 0 || e->dead ? -1 : 0;
}

static int reasm_one(lb_pair *p)
{
  lb_ep *raw = &p->ep[0];
  uint64_t before = p->ep[1].messages;
  uint32_t remaining = REASM_MSG;
  while (remaining) {
    if (raw->raw_credits == 0)
      return -1; /* the engine stopped granting: a broken pipeline */
    uint32_t n = remaining < REASM_FRAG ? remaining : REASM_FRAG;
    remaining -= n;
    uint8_t hdr[SMBX_SMBD_DATA_HDR_SIZE];
    /* re-grant one credit per message the engine sent us */
    uint16_t grant = (uint16_t)(raw->raw_owed_grants > 255 ? 255 : raw->raw_owed_grants);
    raw->raw_owed_grants -= grant;
    smbx__smbd_put_data_hdr(hdr, 255, grant, 0, remaining, n);
    raw->raw_credits--;
    if (raw_deliver(p, hdr, sizeof hdr, SMBX_SMBD_DATA_HDR_SIZE + n) != 0)
      return -1;
  }
  return p->ep[1].messages == before + 1 ? 0 : -1;
}

static int reasm_setup(void **state, void *arg)
{
  (void)arg;
  lb_pair *p = lb_new(1, LB_BUF_SIZE);
  if (!p)
    return -1;
  lb_ep *e = &p->ep[1];
  /* payload areas hold a known pattern; only headers change later */
  for (size_t k = 0; k < LB_RECV_BUFS; k++)
    memset(e->bufs + k * LB_BUF_SIZE + SMBX_SMBD_DATA_HDR_SIZE, 0x5A,
           REASM_FRAG);
  smbx_smbd_negotiate_req req = {
    .min_version = SMBX_SMBD_VERSION, .max_version = SMBX_SMBD_VERSION,
    .credits_requested = 255, .preferred_send_size = LB_BUF_SIZE,
    .max_receive_size = LB_BUF_SIZE, .max_fragmented_size = REASM_MSG,
  };
  uint8_t neg[SMBX_SMBD_NEGOTIATE_REQ_SIZE];
  smbx_smbd_encode_negotiate_req(&req, neg, sizeof neg);
  if (raw_deliver(p, neg, sizeof neg, sizeof neg) != 0 ||
      !p->ep[0].negotiated) {
    lb_free(p);
    return -1;
  }
  /* the passive engine starts with no send credits: grant it plenty, as
   * an active peer must right after negotiate ([MS-SMBD] errata) */
  p->ep[0].raw_owed_grants = 255;
  if (reasm_one(p) != 0 || p->ep[1].msg_bytes != REASM_MSG) {
    lb_free(p);
    return -1;
  }
  *state = p;
  return 0;
}

static double reasm_run(void *state, uint64_t iters)
{
  lb_pair *p = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    if (reasm_one(p) != 0)
      return 1e12;
  return (double)(bench_now_ns() - t0) / (double)iters;
}

static double reasm_allocs_run(void *state, uint64_t iters)
{
  lb_pair *p = state;
  uint64_t before = bench_alloc_calls(&p->ba);
  for (uint64_t i = 0; i < iters; i++)
    if (reasm_one(p) != 0)
      return 1e9;
  return (double)(bench_alloc_calls(&p->ba) - before) / (double)iters;
}

/* ---- smbd.state_bytes ---------------------------------------------------- */

static double state_bytes_run(void *state, uint64_t iters)
{
  (void)iters;
  lb_pair *p = state;
  smbx_smbd_params prm;
  prm.struct_size = sizeof prm;
  if (smbx_smbd_get_params(p->ep[1].d, &prm) != 0)
    return 1e9;
  return (double)prm.state_bytes;
}

/* Bookkeeping that scales with the buffer counts, per receive buffer plus
 * its share of send slots and events: reported, no goal. */
static double table_bytes_run(void *state, uint64_t iters)
{
  (void)iters;
  lb_pair *p = state;
  smbx_smbd_params prm;
  prm.struct_size = sizeof prm;
  if (smbx_smbd_get_params(p->ep[1].d, &prm) != 0)
    return 1e9;
  return (double)prm.table_bytes / LB_RECV_BUFS;
}

static const bench_metric smbd_metrics[] = {
  {.name = "smbd.hdr_codec", .unit = "ns/msg", .run = hdr_codec_run,
   .anchor = "anchor.naive_parse", .goal = BENCH_LE(1.25)},
  {.name = "smbd.msg_pingpong", .unit = "ns/msg", .run = pingpong_run,
   .setup = pingpong_setup, .teardown = pingpong_teardown,
   .anchor = "anchor.naive_parse", .goal = BENCH_LE(8.0)},
  {.name = "smbd.msg_allocs", .unit = "allocs/msg", .run = pingpong_allocs_run,
   .setup = pingpong_setup, .teardown = pingpong_teardown, .iters = 4096,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "smbd.reasm_1m", .unit = "ns/copy", .run = reasm_run,
   .setup = reasm_setup, .teardown = pingpong_teardown,
   .anchor = "anchor.memcpy_1m_hot", .goal = BENCH_LE(1.0 / 0.9)},
  {.name = "smbd.reasm_allocs", .unit = "allocs/msg", .run = reasm_allocs_run,
   .setup = reasm_setup, .teardown = pingpong_teardown, .iters = 64,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "smbd.state_bytes", .unit = "bytes", .run = state_bytes_run,
   .setup = pingpong_setup, .teardown = pingpong_teardown, .iters = 1,
   .goal = BENCH_LE(1024)},
  {.name = "smbd.table_bytes_per_recv_buf", .unit = "bytes",
   .run = table_bytes_run, .setup = pingpong_setup,
   .teardown = pingpong_teardown, .iters = 1},
};

BENCH_SUITE_DEFINE(smbd, smbd_metrics);
