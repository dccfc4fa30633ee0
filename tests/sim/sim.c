/* SPDX-License-Identifier: MIT */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

sim *sim_new(uint64_t latency_ns)
{
  sim *w = calloc(1, sizeof *w);
  if (!w)
    abort();
  w->latency_ns = latency_ns;
  w->seed = 12345;
  w->mrt.mr = w->mr;
  w->mrt.n = SIM_MAX_MR;
  w->mrt.handle_base = 0x10000u;
  for (int i = 0; i < 2; i++) {
    w->ep[i].w = w;
    w->ep[i].idx = i;
  }
  return w;
}

void sim_free(sim *w)
{
  if (!w)
    return;
  for (size_t k = 0; k < w->log_n; k++)
    free(w->log[k].bytes);
  for (uint32_t k = 0; k < w->fly_n; k++)
    free(w->fly[k].m.bytes);
  free(w->log);
  free(w->rlog);
  free(w);
}

static void push_cqe(sim_ep *e, int is_recv, uint64_t wr_id, uint32_t status,
                     uint32_t len, uint32_t flags, uint32_t rkey)
{
  sim_cqe c;
  memset(&c, 0, sizeof c);
  c.wc.wr_id = wr_id;
  c.wc.status = status;
  c.wc.byte_len = len;
  c.wc.flags = flags;
  c.wc.invalidated_rkey = rkey;
  c.is_recv = is_recv;
  sim_cqe *q = is_recv ? e->rcq : e->scq;
  uint32_t *h = is_recv ? &e->rcq_head : &e->scq_head;
  uint32_t *n = is_recv ? &e->rcq_n : &e->scq_n;
  if (*n == SIM_MAX_WR)
    abort();
  q[(*h + *n) % SIM_MAX_WR] = c;
  (*n)++;
}

static void flush_ep(sim_ep *e)
{
  e->qp_error = 1;
  while (e->rq_n) {
    push_cqe(e, 1, e->rq[e->rq_head].wr_id, SMBX_WC_FLUSH, 0, 0, 0);
    e->rq_head = (e->rq_head + 1) % SIM_MAX_WR;
    e->rq_n--;
  }
}

void sim_disconnect(sim *w)
{
  /* sends on the wire are flushed too */
  for (uint32_t k = 0; k < w->fly_n; k++) {
    push_cqe(&w->ep[w->fly[k].from], 0, w->fly[k].wr_id, SMBX_WC_FLUSH, 0, 0, 0);
    free(w->fly[k].m.bytes);
  }
  w->fly_n = 0;
  for (uint32_t k = 0; k < w->rop_n; k++)
    push_cqe(&w->ep[w->rop[k].ep], 0, w->rop[k].wr_id, SMBX_WC_FLUSH, 0, 0, 0);
  w->rop_n = 0;
  flush_ep(&w->ep[0]);
  flush_ep(&w->ep[1]);
}

static int hook_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                          size_t n, uint32_t flags, uint32_t rkey)
{
  sim_ep *e = ud;
  sim *w = e->w;
  if (e->fail_post_send && --e->fail_post_send == 0)
    return -1;
  e->posted_sends++;
  size_t len = 0;
  for (size_t k = 0; k < n; k++)
    len += sg[k].length;
  if (len > SIM_MAX_MSG)
    abort();
  uint8_t *b = malloc(len ? len : 1);
  if (!b)
    abort();
  size_t off = 0;
  for (size_t k = 0; k < n; k++) {
    memcpy(b + off, sg[k].addr, sg[k].length);
    off += sg[k].length;
  }
  if (e->qp_error) {
    free(b);
    push_cqe(e, 0, wr_id, SMBX_WC_FLUSH, 0, 0, 0);
    return 0;
  }
  if (w->log_n == w->log_cap) {
    w->log_cap = w->log_cap ? 2 * w->log_cap : 256;
    w->log = realloc(w->log, w->log_cap * sizeof *w->log);
    if (!w->log)
      abort();
  }
  sim_msg m = {e->idx, (uint32_t)len, flags, rkey, w->now, NULL};
  m.bytes = malloc(len ? len : 1);
  if (!m.bytes)
    abort();
  memcpy(m.bytes, b, len);
  w->log[w->log_n++] = m;
  if (w->fly_n == SIM_MAX_WR)
    abort();
  w->fly[w->fly_n].from = e->idx;
  w->fly[w->fly_n].deliver_at = w->now + w->latency_ns;
  w->fly[w->fly_n].wr_id = wr_id;
  w->fly[w->fly_n].m = m;
  w->fly[w->fly_n].m.bytes = b;
  w->fly_n++;
  return 0;
}

static int hook_post_recv(void *ud, uint64_t wr_id, const smbx_sge *buf)
{
  sim_ep *e = ud;
  if (e->fail_post_recv && --e->fail_post_recv == 0)
    return -1;
  e->posted_recvs++;
  if (e->qp_error) {
    push_cqe(e, 1, wr_id, SMBX_WC_FLUSH, 0, 0, 0);
    return 0;
  }
  if (e->rq_n == SIM_MAX_WR)
    abort();
  uint32_t at = (e->rq_head + e->rq_n) % SIM_MAX_WR;
  e->rq[at].wr_id = wr_id;
  e->rq[at].addr = buf->addr;
  e->rq[at].len = buf->length;
  e->rq_n++;
  return 0;
}

const sim_mr *sim_mr_by_key(const sim *w, uint32_t key)
{
  return sim_mrt_find(&w->mrt, key);
}

uint32_t sim_mr_live(const sim *w, int i)
{
  return w->ep[i].mr_live;
}

static int hook_register(void *ud, void *addr, size_t len, uint32_t access,
                         smbx_mr *out)
{
  sim_ep *e = ud;
  sim *w = e->w;
  if (e->fail_register && --e->fail_register == 0)
    return -1;
  if (sim_mrt_add(&w->mrt, e->idx, addr, len, access, out) != 0)
    return -1;
  e->mr_live++;
  e->mr_total++;
  return 0;
}

static void hook_deregister(void *ud, const smbx_mr *mr)
{
  sim_ep *e = ud;
  sim *w = e->w;
  if (e->mr_live == 0)
    abort();
  /* the engine's own send buffers use keys the sim gave too */
  int rc = sim_mrt_remove(&w->mrt, e->idx, mr);
  if (rc != 0)
    w->violations++; /* twice, a key never given, or a false claim */
  if (rc != SIM_MRT_UNKNOWN)
    e->mr_live--;
}

static int post_rdma(sim_ep *e, int is_read, uint64_t wr_id,
                     const smbx_sge *sg, size_t n, uint64_t raddr,
                     uint32_t rkey)
{
  sim *w = e->w;
  if (e->fail_post_rdma && --e->fail_post_rdma == 0)
    return -1;
  if (n == 0 || n > SIM_MAX_SGE || w->rop_n == SIM_MAX_ROP)
    abort();
  sim_rop r;
  memset(&r, 0, sizeof r);
  r.ep = e->idx;
  r.is_read = is_read;
  r.wr_id = wr_id;
  r.deliver_at = w->now + w->latency_ns + e->rdma_delay_ns;
  r.raddr = raddr;
  r.rkey = rkey;
  r.n_sg = (uint32_t)n;
  for (size_t k = 0; k < n; k++) {
    r.sg[k] = sg[k];
    r.bytes += sg[k].length;
  }
  if (w->rlog_n == w->rlog_cap) {
    w->rlog_cap = w->rlog_cap ? 2 * w->rlog_cap : 256;
    w->rlog = realloc(w->rlog, w->rlog_cap * sizeof *w->rlog);
    if (!w->rlog)
      abort();
  }
  w->rlog[w->rlog_n++] = r;
  if (e->qp_error) {
    push_cqe(e, 0, wr_id, SMBX_WC_FLUSH, 0, 0, 0);
    return 0;
  }
  w->rop[w->rop_n++] = r;
  return 0;
}

static int hook_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg,
                          size_t n, uint64_t raddr, uint32_t rkey)
{
  return post_rdma(ud, 1, wr_id, sg, n, raddr, rkey);
}

static int hook_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                           size_t n, uint64_t raddr, uint32_t rkey)
{
  return post_rdma(ud, 0, wr_id, sg, n, raddr, rkey);
}

/* Executes one RDMA operation: checks everything, then copies. */
static void rop_run(sim *w, const sim_rop *r)
{
  sim_ep *e = &w->ep[r->ep];
  int peer = 1 - r->ep;
  uint32_t st = SMBX_WC_SUCCESS;
  uint8_t *remote = NULL;
  if (e->qp_error) {
    st = SMBX_WC_FLUSH;
  } else if (e->fail_rdma_completion && --e->fail_rdma_completion == 0) {
    st = SMBX_WC_ERROR;
  } else if (!sim_mrt_local_ok(&w->mrt, r->ep, r->sg, r->n_sg, r->is_read) ||
             !(remote = sim_mrt_remote(&w->mrt, peer, r->raddr, r->rkey,
                                       r->bytes,
                                       r->is_read ? SMBX_MR_REMOTE_READ
                                                  : SMBX_MR_REMOTE_WRITE))) {
    st = SMBX_WC_ERROR; /* remote access error: nothing moves */
    w->rdma_faults++;
  }
  if (st == SMBX_WC_SUCCESS) {
    size_t off = 0;
    for (uint32_t k = 0; k < r->n_sg; k++) {
      if (r->is_read)
        memcpy(r->sg[k].addr, remote + off, r->sg[k].length);
      else
        memcpy(remote + off, r->sg[k].addr, r->sg[k].length);
      off += r->sg[k].length;
    }
    if (r->is_read)
      e->rdma_reads++;
    else
      e->rdma_writes++;
    e->rdma_bytes += r->bytes;
  }
  push_cqe(e, 0, r->wr_id, st, st == SMBX_WC_SUCCESS ? r->bytes : 0, 0, 0);
  if (st == SMBX_WC_ERROR) {
    /* an RC QP goes to error: both sides flush */
    flush_ep(&w->ep[0]);
    flush_ep(&w->ep[1]);
  }
}

smbx_transport sim_transport(sim *w, int i)
{
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = &w->ep[i];
  t.post_send = hook_post_send;
  t.post_recv = hook_post_recv;
  t.register_mr = hook_register;
  t.deregister_mr = hook_deregister;
  t.rdma_read = hook_rdma_read;
  t.rdma_write = hook_rdma_write;
  return t;
}

static void deliver_one(sim *w, uint32_t k)
{
  int from = w->fly[k].from;
  sim_ep *s = &w->ep[from], *r = &w->ep[1 - from];
  sim_msg *m = &w->fly[k].m;
  uint64_t wr_id = w->fly[k].wr_id;
  if (s->qp_error) {
    push_cqe(s, 0, wr_id, SMBX_WC_FLUSH, 0, 0, 0);
  } else if (r->raw) {
    push_cqe(s, 0, wr_id, SMBX_WC_SUCCESS, 0, 0, 0);
  } else if (r->qp_error || r->rq_n == 0) {
    /* receiver not ready: RNR with rnr_retry 0 kills the connection */
    w->rnr = 1;
    push_cqe(s, 0, wr_id, SMBX_WC_ERROR, 0, 0, 0);
    free(m->bytes);
    m->bytes = NULL;
    /* the rest of the wire and every posted WR are flushed */
    for (uint32_t j = k + 1; j < w->fly_n; j++) {
      push_cqe(&w->ep[w->fly[j].from], 0, w->fly[j].wr_id, SMBX_WC_FLUSH, 0,
               0, 0);
      free(w->fly[j].m.bytes);
    }
    w->fly_n = k + 1;
    flush_ep(s);
    flush_ep(r);
    return;
  } else {
    uint32_t h = r->rq_head;
    r->rq_head = (r->rq_head + 1) % SIM_MAX_WR;
    r->rq_n--;
    if (m->len > r->rq[h].len) {
      push_cqe(r, 1, r->rq[h].wr_id, SMBX_WC_ERROR, 0, 0, 0);
      push_cqe(s, 0, wr_id, SMBX_WC_ERROR, 0, 0, 0);
    } else {
      memcpy(r->rq[h].addr, m->bytes, m->len);
      if (m->flags & SMBX_SEND_INVALIDATE) {
        /* the receiver's key dies before its completion is seen */
        if (sim_mrt_invalidate(&w->mrt, r->idx, m->rkey) == 0)
          w->invalidations++;
        else
          w->violations++; /* invalidating a key it may not */
      }
      uint32_t st = SMBX_WC_SUCCESS;
      if (s->fail_send_completion && --s->fail_send_completion == 0)
        st = SMBX_WC_ERROR;
      push_cqe(r, 1, r->rq[h].wr_id, SMBX_WC_SUCCESS, m->len,
               (m->flags & SMBX_SEND_INVALIDATE) ? SMBX_WC_WITH_INVALIDATE : 0,
               m->rkey);
      push_cqe(s, 0, wr_id, st, 0, 0, 0);
    }
  }
  free(m->bytes);
  m->bytes = NULL;
}

int sim_deliver(sim *w)
{
  int n = 0;
  for (uint32_t k = 0; k < w->rop_n;) {
    if (w->rop[k].deliver_at > w->now) {
      k++;
      continue;
    }
    sim_rop r = w->rop[k];
    memmove(&w->rop[k], &w->rop[k + 1], (w->rop_n - k - 1) * sizeof w->rop[0]);
    w->rop_n--;
    rop_run(w, &r);
    n++;
  }
  uint32_t k = 0;
  while (k < w->fly_n) {
    if (w->fly[k].deliver_at > w->now) {
      k++;
      continue;
    }
    deliver_one(w, k);
    if (k < w->fly_n) {
      memmove(&w->fly[k], &w->fly[k + 1], (w->fly_n - k - 1) * sizeof w->fly[0]);
      w->fly_n--;
    }
    n++;
  }
  return n;
}

uint64_t sim_next_time(const sim *w)
{
  uint64_t t = UINT64_MAX;
  for (uint32_t k = 0; k < w->fly_n; k++)
    if (w->fly[k].deliver_at < t)
      t = w->fly[k].deliver_at;
  for (uint32_t k = 0; k < w->rop_n; k++)
    if (w->rop[k].deliver_at < t)
      t = w->rop[k].deliver_at;
  return t;
}

int sim_poll(sim *w, int i, sim_cqe *out)
{
  sim_ep *e = &w->ep[i];
  int pick_recv;
  if (!e->scq_n && !e->rcq_n)
    return 0;
  if (!e->scq_n)
    pick_recv = 1;
  else if (!e->rcq_n)
    pick_recv = 0;
  else if (w->reorder) {
    w->seed = w->seed * 1103515245u + 12345u;
    pick_recv = (w->seed >> 16) & 1;
  } else {
    pick_recv = 1;
  }
  if (pick_recv) {
    *out = e->rcq[e->rcq_head];
    e->rcq_head = (e->rcq_head + 1) % SIM_MAX_WR;
    e->rcq_n--;
  } else {
    *out = e->scq[e->scq_head];
    e->scq_head = (e->scq_head + 1) % SIM_MAX_WR;
    e->scq_n--;
  }
  return 1;
}

int sim_raw_send(sim *w, int i, const void *bytes, size_t len)
{
  smbx_sge sg = {(void *)(uintptr_t)bytes, (uint32_t)len, 0, 0};
  return hook_post_send(&w->ep[i], 0xFFFF0000u + w->log_n, &sg, 1, 0, 0);
}

size_t sim_sent_count(const sim *w, int from)
{
  size_t n = 0;
  for (size_t k = 0; k < w->log_n; k++)
    n += w->log[k].from == from;
  return n;
}

const sim_msg *sim_sent(const sim *w, int from, size_t k)
{
  for (size_t j = 0; j < w->log_n; j++)
    if (w->log[j].from == from && k-- == 0)
      return &w->log[j];
  return NULL;
}
