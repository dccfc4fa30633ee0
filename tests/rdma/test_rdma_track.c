/* SPDX-License-Identifier: MIT */
/* RDMA operation tracking (lib/rdma/track.c) and its server glue: a
 * failed transfer reports done() / SMBX_EV_RDMA_DONE exactly once, after
 * the last operation it posted came back (completed or flushed), so the
 * host's memory is free when the event says so; the ORD bounds RDMA
 * READs only, so pulls waiting for a read slot do not hold back pushes.
 * Unit tests drive the tracker with a recording transport; node tests
 * use the simulated NIC's fault injection (tests/sim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rdma/rdma.h"
#include "rh.h"

/* ---- a recording transport --------------------------------------------- */

#define MAX_POSTS 64

typedef struct posted {
  uint64_t wr_id;
  int is_read;
  uint64_t user; /* the transfer it belongs to (from the remote address) */
} posted;

typedef struct rec {
  posted p[MAX_POSTS];
  int n;
  int fail_at; /* the Nth next post fails (0: none) */
  /* done() calls */
  int dones;
  uint64_t done_user;
  int done_err;
  uint64_t done_bytes;
  int posts_back_at_done; /* completions fed when done() came */
  int back;
} rec;

static int rec_post(rec *r, int is_read, uint64_t wr_id, uint64_t raddr)
{
  if (r->fail_at && --r->fail_at == 0)
    return -1;
  assert_true(r->n < MAX_POSTS);
  r->p[r->n].wr_id = wr_id;
  r->p[r->n].is_read = is_read;
  r->p[r->n].user = raddr >> 16; /* descriptors sit at user << 16 */
  r->n++;
  return 0;
}

static int t_read(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
                  uint64_t raddr, uint32_t rkey)
{
  (void)sg;
  (void)n;
  (void)rkey;
  return rec_post(ud, 1, wr_id, raddr);
}

static int t_write(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
                   uint64_t raddr, uint32_t rkey)
{
  (void)sg;
  (void)n;
  (void)rkey;
  return rec_post(ud, 0, wr_id, raddr);
}

static void t_done(void *ctx, uint64_t user, int err, uint64_t bytes)
{
  rec *r = ctx;
  r->dones++;
  r->done_user = user;
  r->done_err = err;
  r->done_bytes = bytes;
  r->posts_back_at_done = r->back;
}

typedef struct trk {
  test_alloc ta;
  rec rc;
  smbx__rdma *r;
  uint8_t wire[8][16];
  smbx_smb2_desc_list dl[8];
  uint8_t mem[8][8000];
} trk;

/* max_ops 8, 4 transfers, 1000-byte operations */
static void trk_new(trk *t, uint32_t ord)
{
  memset(t, 0, sizeof *t);
  test_alloc_init(&t->ta);
  smbx_transport tp;
  memset(&tp, 0, sizeof tp);
  tp.struct_size = sizeof tp;
  tp.user_data = &t->rc;
  tp.rdma_read = t_read;
  tp.rdma_write = t_write;
  smbx__rdma_settings s = {8, 4, 4, 1000, 4};
  smbx__rdma_upcalls up = {&t->rc, t_done};
  assert_int_equal(smbx__rdma_new(&t->r, &s, &tp, &up, &t->ta.a), 0);
  smbx__rdma_set_ord(t->r, ord);
}

static void trk_free(trk *t)
{
  smbx__rdma_free(t->r);
  assert_int_equal(t->ta.live, 0);
}

/* Transfer `user` (1..7) of `bytes` in one descriptor at user << 16. */
static void trk_start(trk *t, uint64_t user, uint32_t dir, uint32_t bytes)
{
  smbx_smb2_buffer_desc d = {user << 16, 5, bytes};
  assert_int_equal(smbx_smb2_desc_list_encode(&d, 1, t->wire[user], 16, NULL),
                   16);
  assert_int_equal(
      smbx_smb2_desc_list_decode(t->wire[user], 16, &t->dl[user], NULL), 0);
  smbx_sge sg = {t->mem[user], bytes, 0, 1};
  assert_int_equal(smbx__rdma_start(t->r, user, dir, &sg, 1, &t->dl[user],
                                    bytes),
                   0);
}

/* The NIC reports the k-th posted operation with status st. */
static int trk_back(trk *t, int k, uint32_t st)
{
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = t->rc.p[k].wr_id;
  wc.status = st;
  t->rc.back++;
  return smbx__rdma_complete(t->r, &wc);
}

/* Error on the first of 4 posted writes; the second and third complete
 * later, the fourth is flushed: done() once, after the fourth. */
static void rdma_track_error_first_done_after_last(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 8);
  trk_start(&t, 1, SMBX__RDMA_PUSH, 4000);
  assert_int_equal(t.rc.n, 4);
  assert_int_equal(trk_back(&t, 0, SMBX_WC_ERROR), SMBX_ERR_TRANSPORT);
  assert_int_equal(t.rc.dones, 0);
  assert_int_equal(trk_back(&t, 1, SMBX_WC_SUCCESS), 0);
  assert_int_equal(trk_back(&t, 2, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 0);
  assert_int_equal(trk_back(&t, 3, SMBX_WC_FLUSH), SMBX_ERR_TRANSPORT);
  assert_int_equal(t.rc.dones, 1);
  assert_int_equal(t.rc.posts_back_at_done, 4);
  assert_int_equal(t.rc.done_user, 1);
  assert_int_equal(t.rc.done_err, SMBX_ERR_TRANSPORT);
  assert_int_equal(t.rc.done_bytes, 2000);
  /* nothing more was posted for it, and a repeat is not ours */
  assert_int_equal(t.rc.n, 4);
  assert_int_equal(trk_back(&t, 3, SMBX_WC_FLUSH), SMBX_ERR_NOTFOUND);
  assert_int_equal(t.rc.dones, 1);
  smbx__rdma_stats s;
  smbx__rdma_get_stats(t.r, &s);
  assert_int_equal(s.live, 0);
  assert_int_equal(s.inflight, 0);
  trk_free(&t);
}

/* An error while pieces of the transfer still wait to be posted: they
 * never are; other transfers go on. */
static void rdma_track_error_stops_posting(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 8);
  trk_start(&t, 3, SMBX__RDMA_PUSH, 2000);
  trk_start(&t, 1, SMBX__RDMA_PUSH, 8000); /* 6 posted, 2 wait */
  assert_int_equal(t.rc.n, 8);
  assert_int_equal(trk_back(&t, 2, SMBX_WC_ERROR), SMBX_ERR_TRANSPORT);
  assert_int_equal(trk_back(&t, 0, SMBX_WC_SUCCESS), 0);
  assert_int_equal(trk_back(&t, 1, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 1);
  assert_int_equal(t.rc.done_user, 3);
  assert_int_equal(t.rc.done_err, 0);
  assert_int_equal(t.rc.n, 8); /* free slots, yet 1 posts nothing more */
  trk_start(&t, 2, SMBX__RDMA_PUSH, 3000);
  assert_int_equal(t.rc.n, 11);
  for (int k = 8; k < 11; k++)
    assert_int_equal(t.rc.p[k].user, 2);
  for (int k = 3; k < 8; k++) {
    assert_int_equal(t.rc.dones, 1);
    (void)trk_back(&t, k, SMBX_WC_FLUSH);
  }
  assert_int_equal(t.rc.dones, 2);
  assert_int_equal(t.rc.done_user, 1);
  assert_int_equal(t.rc.done_err, SMBX_ERR_TRANSPORT);
  assert_int_equal(t.rc.done_bytes, 0);
  for (int k = 8; k < 11; k++)
    assert_int_equal(trk_back(&t, k, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 3);
  assert_int_equal(t.rc.done_err, 0);
  trk_free(&t);
}

/* Teardown with operations posted: a transfer with nothing posted ends
 * at once, the others when their operations are flushed back. */
static void rdma_track_cancel_waits_for_flush(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 8);
  trk_start(&t, 1, SMBX__RDMA_PUSH, 3000);
  trk_start(&t, 2, SMBX__RDMA_PUSH, 5000);
  trk_start(&t, 3, SMBX__RDMA_PUSH, 2000); /* waits: 8 ops posted */
  assert_int_equal(t.rc.n, 8);
  smbx__rdma_cancel_all(t.r, SMBX_ERR_CLOSED);
  assert_int_equal(t.rc.dones, 1);
  assert_int_equal(t.rc.done_user, 3);
  assert_int_equal(t.rc.done_err, SMBX_ERR_CLOSED);
  /* transfer 1's three operations come back flushed */
  for (int k = 0; k < 3; k++) {
    assert_int_equal(t.rc.dones, 1);
    assert_int_equal(trk_back(&t, k, SMBX_WC_FLUSH), SMBX_ERR_TRANSPORT);
  }
  assert_int_equal(t.rc.dones, 2);
  assert_int_equal(t.rc.done_user, 1);
  assert_int_equal(t.rc.done_err, SMBX_ERR_CLOSED); /* the first reason */
  for (int k = 3; k < 8; k++)
    (void)trk_back(&t, k, SMBX_WC_FLUSH);
  assert_int_equal(t.rc.dones, 3);
  assert_int_equal(t.rc.done_user, 2);
  assert_int_equal(t.rc.posts_back_at_done, 8);
  assert_int_equal(t.rc.n, 8);
  trk_free(&t);
}

/* A post hook failing mid-transfer: the pieces posted before it still
 * name the memory; done() waits for them. */
static void rdma_track_post_failure_waits_for_posted(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 8);
  t.rc.fail_at = 3;
  trk_start(&t, 1, SMBX__RDMA_PUSH, 4000);
  assert_int_equal(t.rc.n, 2);
  assert_int_equal(t.rc.dones, 0);
  assert_int_equal(trk_back(&t, 0, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 0);
  assert_int_equal(trk_back(&t, 1, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 1);
  assert_int_equal(t.rc.done_err, SMBX_ERR_TRANSPORT);
  assert_int_equal(t.rc.done_bytes, 2000);
  /* nothing posted: the failure ends the transfer at once */
  t.rc.fail_at = 1;
  trk_start(&t, 2, SMBX__RDMA_PUSH, 1000);
  assert_int_equal(t.rc.dones, 2);
  assert_int_equal(t.rc.done_user, 2);
  trk_free(&t);
}

/* A transfer one operation carries is posted from start without the
 * queue, but only when nothing waits before it and the budget allows:
 * a pull with the ORD used up waits in the queue, a push behind it goes
 * out, and the pull follows when the read slot frees. */
static void rdma_track_one_op_start_keeps_budget_and_order(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 1);
  trk_start(&t, 1, SMBX__RDMA_PULL, 1000);
  assert_int_equal(t.rc.n, 1);
  trk_start(&t, 2, SMBX__RDMA_PULL, 1000);
  assert_int_equal(t.rc.n, 1); /* the ORD is used up: queued */
  trk_start(&t, 3, SMBX__RDMA_PUSH, 1000);
  assert_int_equal(t.rc.n, 2);
  assert_int_equal(t.rc.p[1].user, 3);
  assert_int_equal(t.rc.p[1].is_read, 0);
  assert_int_equal(trk_back(&t, 0, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 1);
  assert_int_equal(t.rc.done_user, 1);
  assert_int_equal(t.rc.done_bytes, 1000);
  assert_int_equal(t.rc.n, 3);
  assert_int_equal(t.rc.p[2].user, 2);
  assert_int_equal(t.rc.p[2].is_read, 1);
  assert_int_equal(trk_back(&t, 1, SMBX_WC_SUCCESS), 0);
  assert_int_equal(trk_back(&t, 2, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 3);
  smbx__rdma_stats s;
  smbx__rdma_get_stats(t.r, &s);
  assert_int_equal(s.live, 0);
  assert_int_equal(s.inflight, 0);
  assert_int_equal(s.ops, 3);
  /* the same again on the reused slots: the first posts at once, the
   * second waits for the read slot */
  trk_start(&t, 1, SMBX__RDMA_PULL, 1000);
  trk_start(&t, 2, SMBX__RDMA_PULL, 1000);
  assert_int_equal(t.rc.n, 4);
  assert_int_equal(trk_back(&t, 3, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.n, 5);
  assert_int_equal(t.rc.p[4].user, 2);
  assert_int_equal(trk_back(&t, 4, SMBX_WC_SUCCESS), 0);
  assert_int_equal(t.rc.dones, 5);
  trk_free(&t);
}

/* ORD 1: a pull waits for its read slot while the push queued behind it
 * posts every piece (ORD limits RDMA READs only, MS-SMBD 3.1.5). */
static void rdma_track_ord_does_not_block_writes(void **st)
{
  (void)st;
  trk t;
  trk_new(&t, 1);
  trk_start(&t, 1, SMBX__RDMA_PULL, 3000);
  assert_int_equal(t.rc.n, 1);
  trk_start(&t, 2, SMBX__RDMA_PUSH, 2000);
  trk_start(&t, 3, SMBX__RDMA_PULL, 1000);
  /* the push went out before the read slot freed; the second pull waits */
  assert_int_equal(t.rc.n, 3);
  assert_int_equal(t.rc.p[1].is_read, 0);
  assert_int_equal(t.rc.p[1].user, 2);
  assert_int_equal(t.rc.p[2].is_read, 0);
  assert_int_equal(t.rc.p[2].user, 2);
  smbx__rdma_stats s;
  smbx__rdma_get_stats(t.r, &s);
  assert_int_equal(s.reads_inflight, 1);
  /* reads still go one at a time, oldest pull first */
  int k = 0;
  while (t.rc.dones < 3) {
    int reads = 0;
    for (int i = k; i < t.rc.n; i++)
      reads += t.rc.p[i].is_read;
    assert_true(reads <= 1);
    assert_int_equal(trk_back(&t, k, SMBX_WC_SUCCESS), 0);
    k++;
    assert_true(k < MAX_POSTS);
  }
  assert_int_equal(t.rc.n, 6);
  for (int i = 3; i < 5; i++)
    assert_int_equal(t.rc.p[i].user, 1);
  assert_int_equal(t.rc.p[5].user, 3);
  trk_free(&t);
}

/* ---- the server node over the simulated NIC ------------------------------- */

typedef struct order {
  size_t rdma_fed;      /* RDMA completions given to the server */
  size_t done_n, down_n;
  size_t fed_at_done;   /* rdma_fed when RDMA_DONE came */
  int done_err;
  bool down_before_done;
} order;

/* Drains the server's events, noting when RDMA_DONE and CONN_DOWN come. */
static void drain_order(rh *x, order *o)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(x->srv, &e) == 1) {
    if (e.type == SMBX_EV_RDMA_DONE) {
      o->done_n++;
      o->fed_at_done = o->rdma_fed;
      o->done_err = e.u.pdu.err;
      o->down_before_done = o->down_n > 0;
    }
    if (e.type == SMBX_EV_CONN_DOWN)
      o->down_n++;
  }
}

/* rh_pump, but the server's completions one at a time, its events
 * drained after each: what the host sees between two completions. */
static void pump_each(rh *x, order *o)
{
  for (int iter = 0; iter < 100000; iter++) {
    x->w->now = x->now;
    bool moved = sim_deliver(x->w) > 0;
    sim_cqe c;
    while (sim_poll(x->w, 0, &c)) {
      moved = true;
      if (c.is_recv)
        (void)smbx_client_recv(x->cli, x->cconn, &c.wc, x->now);
      else
        (void)smbx_client_send_done(x->cli, x->cconn, &c.wc, x->now);
    }
    smbx_event e;
    e.struct_size = sizeof e;
    while (smbx_client_next_event(x->cli, &e) == 1)
      if (e.hold)
        (void)smbx_client_release(x->cli, e.conn, e.hold, x->now);
    if (sim_poll(x->w, 1, &c)) {
      moved = true;
      switch (smbx_wr_id_kind(c.wc.wr_id)) {
      case SMBX_WR_KIND_RECV:
        (void)smbx_server_recv(x->srv, x->sconn, &c.wc, x->now);
        break;
      case SMBX_WR_KIND_SEND:
        (void)smbx_server_send_done(x->srv, x->sconn, &c.wc, x->now);
        break;
      default:
        assert_int_equal(smbx_wr_id_kind(c.wc.wr_id), SMBX_WR_KIND_RDMA);
        o->rdma_fed++;
        (void)smbx_server_rdma_done(x->srv, x->sconn, &c.wc, x->now);
      }
    }
    drain_order(x, o);
    if (!moved) {
      uint64_t t = sim_next_time(x->w);
      if (t == UINT64_MAX)
        return;
      x->now = t;
    }
  }
  fail_msg("pump_each: no quiescence");
}

static size_t rdma_posted_by(const rh *x, int ep, size_t from, int is_read)
{
  size_t n = 0;
  for (size_t i = from; i < x->w->rlog_n; i++)
    n += x->w->rlog[i].ep == ep && x->w->rlog[i].is_read == is_read;
  return n;
}

/* The first of 8 RDMA WRITEs of a READ fails, the NIC flushes the other
 * seven: RDMA_DONE(err) comes once, after the eighth completion, and
 * CONN_DOWN after it. */
static void rdma_node_error_first_of_n_done_after_last(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.ss.rdma_max_op_size = 8192;
  rh_start(&x);
  x.hold_rdma = true;
  static uint8_t buf[65536];
  uint64_t req = 0;
  assert_int_equal(smbx_client_read_into(x.cli, x.cconn, x.sess, x.tree,
                                         x.fid, 0, buf, sizeof buf, x.now,
                                         &req),
                   0);
  rh_pump(&x);
  assert_true(x.held_req != 0);
  size_t mark = x.w->rlog_n;
  x.w->ep[1].fail_rdma_completion = 1;
  smbx_sge sg = {x.file, sizeof buf, 0, x.file_mr.handle};
  assert_int_equal(smbx_server_rdma_push(x.srv, x.sconn, x.held_req, &sg, 1,
                                         x.now),
                   0);
  assert_int_equal(rdma_posted_by(&x, 1, mark, 0), 8);
  order o;
  memset(&o, 0, sizeof o);
  pump_each(&x, &o);
  assert_int_equal(o.rdma_fed, 8);
  assert_int_equal(o.done_n, 1);
  assert_int_equal(o.fed_at_done, 8);
  /* the error completion, or the receive flushes it causes, whichever
   * the host reports first, is the teardown's reason */
  assert_true(o.done_err <= SMBX_ERR_FATAL);
  assert_int_equal(o.down_n, 1);
  assert_false(o.down_before_done);
  smbx_client_abort_conn(x.cli, x.cconn, SMBX_ERR_TRANSPORT, x.now);
  rh_pump(&x);
  rh_fini(&x);
}

/* The connection is torn down for another reason while a transfer's
 * operations are posted (the host disconnects: everything is flushed):
 * RDMA_DONE waits for the flushes, CONN_DOWN for RDMA_DONE. */
static void rdma_node_teardown_done_after_flush(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.ss.rdma_max_op_size = 16384;
  rh_start(&x);
  x.hold_rdma = true;
  static uint8_t buf[65536];
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(x.cli, x.cconn, x.sess, x.tree,
                                          x.fid, 0, buf, sizeof buf, x.now,
                                          &req),
                   0);
  rh_pump(&x);
  assert_true(x.held_req != 0);
  smbx_sge sg = {x.file, sizeof buf, 0, x.file_mr.handle};
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, x.held_req, &sg, 1,
                                         x.now),
                   0);
  /* the host closes the transport: every posted work request flushes */
  assert_int_equal(smbx_server_cm_event(x.srv, x.sconn,
                                        SMBX_SMBD_CM_DISCONNECTED, 0, 0,
                                        x.now),
                   SMBX_ERR_CLOSED);
  order o;
  memset(&o, 0, sizeof o);
  drain_order(&x, &o);
  assert_int_equal(o.done_n, 0);
  assert_int_equal(o.down_n, 0);
  sim_disconnect(x.w);
  pump_each(&x, &o);
  assert_int_equal(o.done_n, 1);
  assert_int_equal(o.fed_at_done, 4);
  assert_int_equal(o.done_err, SMBX_ERR_CLOSED);
  assert_int_equal(o.down_n, 1);
  assert_false(o.down_before_done);
  smbx_client_abort_conn(x.cli, x.cconn, SMBX_ERR_TRANSPORT, x.now);
  rh_pump(&x);
  rh_fini(&x);
}

/* Mixed traffic with the ORD used up (16, as the harness reports): a
 * WRITE's 32 RDMA READs go 16 at a time, the READ's 16 RDMA WRITEs go
 * out before a read slot frees. */
static void rdma_node_ord_full_writes_pass_reads(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.ss.rdma_max_op_size = 1024;
  rh_start(&x);
  x.hold_rdma = true;
  static uint8_t wbuf[32768], rbuf[16384];
  memset(wbuf, 0x5A, sizeof wbuf);
  uint64_t wreq = 0, rreq = 0;
  assert_int_equal(smbx_client_write_from(x.cli, x.cconn, x.sess, x.tree,
                                          x.fid, 0, wbuf, sizeof wbuf, x.now,
                                          &wreq),
                   0);
  rh_pump(&x);
  smbx_event held_w = x.held_ev;
  assert_int_equal(held_w.u.pdu.hdr.command, SMBX_SMB2_WRITE);
  assert_int_equal(smbx_client_read_into(x.cli, x.cconn, x.sess, x.tree,
                                         x.fid, 65536, rbuf, sizeof rbuf,
                                         x.now, &rreq),
                   0);
  rh_pump(&x);
  smbx_event held_r = x.held_ev;
  assert_int_equal(held_r.u.pdu.hdr.command, SMBX_SMB2_READ);
  size_t mark = x.w->rlog_n;
  /* the pull first: it takes every read slot, 16 pieces wait */
  smbx_sge wsg = {x.file, sizeof wbuf, 0, x.file_mr.handle};
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, held_w.u.pdu.req,
                                         &wsg, 1, x.now),
                   0);
  smbx_sge rsg = {x.file + 65536, sizeof rbuf, 0, x.file_mr.handle};
  assert_int_equal(smbx_server_rdma_push(x.srv, x.sconn, held_r.u.pdu.req,
                                         &rsg, 1, x.now),
                   0);
  /* nothing completed yet: 16 RDMA READs and all 16 RDMA WRITEs posted */
  assert_int_equal(x.w->ep[1].rdma_reads + x.w->ep[1].rdma_writes, 0);
  assert_int_equal(rdma_posted_by(&x, 1, mark, 1), 16);
  assert_int_equal(rdma_posted_by(&x, 1, mark, 0), 16);
  x.hold_rdma = false;
  const rh_ev *e = rh_response(&x, rreq);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, 0);
  e = rh_response(&x, wreq);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_memory_equal(x.file, wbuf, sizeof wbuf);
  assert_int_equal(rdma_posted_by(&x, 1, mark, 1), 32);
  rh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rdma_track_error_first_done_after_last),
      cmocka_unit_test(rdma_track_error_stops_posting),
      cmocka_unit_test(rdma_track_cancel_waits_for_flush),
      cmocka_unit_test(rdma_track_post_failure_waits_for_posted),
      cmocka_unit_test(rdma_track_one_op_start_keeps_budget_and_order),
      cmocka_unit_test(rdma_track_ord_does_not_block_writes),
      cmocka_unit_test(rdma_node_error_first_of_n_done_after_last),
      cmocka_unit_test(rdma_node_teardown_done_after_flush),
      cmocka_unit_test(rdma_node_ord_full_writes_pass_reads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
