/* SPDX-License-Identifier: MIT */
/* Pipelined transfers (smbx_client_xfer_start, lib/client/xfer.c;
 * docs/smbx-client.md "Transfers"): a range moved by READ/WRITE pieces
 * that keep the granted credits busy, by RDMA over SMB Direct (the
 * simulated NIC) or inline over Direct TCP; one XFER_DONE with the bytes
 * and the first error; EOF, failures mid-way, a channel's death (pieces
 * replayed on the session's other channel) and cancel; no allocation per
 * request. Client and server nodes back to back (node_harness.c). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

static nh_file *file_named(nh *x, const char *name)
{
  for (int i = 0; i < NH_FILES; i++)
    if (x->files[i].used && strcmp(x->files[i].name, name) == 0)
      return &x->files[i];
  return NULL;
}

/* The server host's file `name` holds len bytes of pattern seed. */
static void fill(nh *x, const char *name, size_t len, uint8_t seed)
{
  nh_file *f = file_named(x, name);
  assert_non_null(f);
  f->data = realloc(f->data, len);
  assert_non_null(f->data);
  for (size_t i = 0; i < len; i++)
    f->data[i] = (uint8_t)(i * 31 + seed + (i >> 12));
  f->len = f->cap = len;
}

static const nh_cev *done_event(nh *x)
{
  const nh_cev *e = nh_wait(x, SMBX_EV_XFER_DONE);
  assert_non_null(e);
  return e;
}

static void xparams(smbx_client_xfer *p, uint64_t conn, uint64_t s,
                    uint32_t t, smbx_smb2_fileid f, bool write, uint64_t off,
                    void *buf, uint64_t len, uint32_t chunk, uint32_t depth)
{
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->conn = conn;
  p->session = s;
  p->tree_id = t;
  p->flags = write ? SMBX_XFER_WRITE : 0;
  p->file_id = f;
  p->offset = off;
  p->buf = buf;
  p->length = len;
  p->chunk = chunk;
  p->depth = depth;
  p->user = 0x5EED;
}

static size_t count_responses(const nh *x)
{
  return nh_count(x, SMBX_EV_RESPONSE);
}

/* One SMB Direct channel (unsigned session: RDMA allowed). */
static int smbd_setup(nh *x, uint64_t *s, uint32_t *t)
{
  nh_setup(x, true);
  assert_int_equal(nh_start(x), 0);
  int a = nh_add_smbd(x);
  nh_negotiate(x, a);
  *s = nh_session(x, a);
  *t = nh_tree(x, a, *s);
  return a;
}

/* One Direct TCP channel. */
/* credits: the server grants exactly that many (0: its defaults) */
static int tcp_setup_credits(nh *x, uint64_t *s, uint32_t *t,
                             uint32_t credits)
{
  nh_setup(x, false);
  if (credits) {
    x->ss.credits_max = credits;
    x->ss.credits_min = credits;
  }
  int a = nh_start_tcp(x);
  *s = nh_session(x, a);
  *t = nh_tree(x, a, *s);
  return a;
}

static int tcp_setup(nh *x, uint64_t *s, uint32_t *t)
{
  return tcp_setup_credits(x, s, t, 0);
}

/* The host's file `name` (1 MiB of pattern seed) opened on channel a; a
 * transfer of all of it to or from buf starts while the host holds back
 * every request: its depth pieces are out and unanswered. */
static uint64_t start_held_back(nh *x, int a, uint64_t s, uint32_t t,
                                const char *name, uint8_t seed, bool write,
                                uint8_t *buf, uint32_t depth)
{
  smbx_smb2_fileid f = nh_create(x, a, s, t, name);
  fill(x, name, 1 << 20, seed);
  x->defer = true;
  x->n_deferred = 0;
  smbx_client_xfer p;
  xparams(&p, x->pair[a].cconn, s, t, f, write, 0, buf, 1 << 20, 65536,
          depth);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x->cli, &p, x->now, &h), 0);
  nh_pump(x);
  assert_int_equal(x->n_deferred, depth);
  return h;
}

/* A read of the whole file from an unaligned offset, crossing every 64
 * KiB chunk edge, by RDMA straight into the buffer; then a read running
 * past EOF ends short with the EOF flag and the bytes up to EOF. */
static void xfer_read_rdma_whole_range_and_eof(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = smbd_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "big.bin");
  enum { LEN = (1 << 20) + 12345, OFF = 777 };
  fill(&x, "big.bin", LEN, 3);
  uint8_t *got = calloc(1, LEN);
  assert_non_null(got);
  uint64_t c = x.pair[a].cconn;
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(x.cli, c, &ci), 0);
  uint64_t rdma_before = ci.rdma_ios;
  size_t resp_before = count_responses(&x);
  smbx_client_xfer p;
  xparams(&p, c, s, t, f, false, OFF, got, LEN - OFF, 65536, 0);
  uint64_t h = 0;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  smbx_client_xfer_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_client_xfer_get_info(x.cli, h, &in), 0);
  assert_true(in.inflight > 1);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.xfer, h);
  assert_int_equal(e->ev.u.xfer.user, 0x5EED);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN - OFF);
  assert_int_equal(e->ev.u.xfer.requests, (LEN - OFF + 65535) / 65536);
  assert_int_equal(e->ev.u.xfer.flags, 0);
  assert_memory_equal(got, file_named(&x, "big.bin")->data + OFF, LEN - OFF);
  /* every piece by RDMA; none surfaced as a RESPONSE */
  assert_int_equal(smbx_client_conn_info(x.cli, c, &ci), 0);
  assert_int_equal(ci.rdma_ios - rdma_before, e->ev.u.xfer.requests);
  assert_int_equal(count_responses(&x), resp_before);
  assert_int_equal(x.w->violations, 0);
  assert_int_equal(x.w->rdma_faults, 0);
  /* the handle is gone */
  assert_int_equal(smbx_client_xfer_get_info(x.cli, h, &in),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now),
                   SMBX_ERR_NOTFOUND);

  /* past EOF: 300 KiB asked from 100 bytes before the end */
  memset(got, 0, LEN);
  xparams(&p, c, s, t, f, false, LEN - 100, got, 300 << 10, 65536, 8);
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, 100);
  assert_true(e->ev.u.xfer.flags & SMBX_XFER_DONE_EOF);
  assert_memory_equal(got, file_named(&x, "big.bin")->data + LEN - 100, 100);
  free(got);
  nh_fini(&x);
}

/* A write by RDMA from an unaligned offset, chunk 0 (the negotiated and
 * SMB Direct limits), lands byte-exact; every registration goes back. */
static void xfer_write_rdma_whole_range(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = smbd_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "out.bin");
  enum { LEN = (3 << 20) + 4097, OFF = 4095 };
  fill(&x, "out.bin", OFF + LEN, 0); /* room: the host never grows it */
  uint32_t base = sim_mr_live(x.w, 0);
  uint8_t *put = malloc(LEN);
  assert_non_null(put);
  for (size_t i = 0; i < LEN; i++)
    put[i] = (uint8_t)(i * 7 + 11);
  smbx_client_xfer p;
  xparams(&p, x.pair[a].cconn, s, t, f, true, OFF, put, LEN, 0, 0);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN);
  assert_true(e->ev.u.xfer.requests >= 4);
  assert_memory_equal(file_named(&x, "out.bin")->data + OFF, put, LEN);
  assert_int_equal(x.w->violations, 0);
  assert_int_equal(sim_mr_live(x.w, 0), base);
  assert_int_equal(x.w->rdma_faults, 0);
  free(put);
  nh_fini(&x);
}

/* Over TCP (inline) with the server granting `credits`: the pipeline
 * fills exactly what is granted, never more. */
static void credits_case(uint32_t credits, uint32_t depth)
{
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup_credits(&x, &s, &t, credits);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "c.bin");
  enum { LEN = 1 << 20 };
  fill(&x, "c.bin", LEN, 9);
  static uint8_t got[LEN];
  memset(got, 0, sizeof got);
  uint64_t c = x.pair[a].cconn;
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(x.cli, c, &ci), 0);
  uint32_t granted = ci.credits;
  assert_true(granted >= 1 && granted <= credits);
  smbx_client_xfer p;
  xparams(&p, c, s, t, f, false, 0, got, LEN, 65536, depth);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  smbx_client_xfer_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_client_xfer_get_info(x.cli, h, &in), 0);
  uint32_t expect = granted < depth ? granted : depth;
  assert_int_equal(in.inflight, expect);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN);
  assert_int_equal(e->ev.u.xfer.requests, LEN / 65536);
  assert_int_equal(e->ev.u.xfer.max_inflight, expect);
  assert_memory_equal(got, file_named(&x, "c.bin")->data, LEN);
  nh_fini(&x);
}

static void xfer_credits_one_keeps_one_in_flight(void **state)
{
  (void)state;
  credits_case(1, 64);
}

static void xfer_credits_many_all_busy(void **state)
{
  (void)state;
  credits_case(12, 64);
}

static void xfer_depth_below_credits_caps_in_flight(void **state)
{
  (void)state;
  credits_case(64, 5);
}

/* A piece failing (ACCESS_DENIED) stops new pieces; XFER_DONE waits for
 * the rest in flight and reports the first failure. */
static void xfer_error_mid_transfer_stops_and_reports_first(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  static uint8_t got[1 << 20];
  (void)start_held_back(&x, a, s, t, "e.bin", 1, false, got, 4);
  nh_answer_deferred(&x, 1, SMBX_STATUS_ACCESS_DENIED);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 4); /* nothing new went out */
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 0);
  nh_answer_deferred(&x, 0, SMBX_STATUS_NETWORK_NAME_DELETED);
  nh_answer_deferred(&x, 2, SMBX_STATUS_ACCESS_DENIED);
  nh_pump(&x);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 0);
  nh_answer_deferred(&x, 3, SMBX_STATUS_ACCESS_DENIED);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(e->ev.u.xfer.requests, 4);
  assert_int_equal(e->ev.u.xfer.bytes, 0);
  nh_fini(&x);
}

/* The only channel dies with pieces in flight: each completes with the
 * connection's error, one XFER_DONE carries it. */
static void xfer_channel_death_without_other_channel_fails(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = smbd_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "d.bin");
  fill(&x, "d.bin", 1 << 20, 2);
  static uint8_t got[1 << 20];
  x.defer = true;
  x.n_deferred = 0;
  uint32_t base = sim_mr_live(x.w, 0);
  smbx_client_xfer p;
  xparams(&p, x.pair[a].cconn, s, t, f, false, 0, got, sizeof got, 65536, 6);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 6);
  assert_int_equal(sim_mr_live(x.w, 0), base + 6);
  assert_int_equal(smbx_client_abort_conn(x.cli, x.pair[a].cconn,
                                          SMBX_ERR_TRANSPORT, x.now),
                   0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, SMBX_ERR_TRANSPORT);
  assert_int_equal(e->ev.u.xfer.requests, 6);
  assert_int_equal(e->ev.u.xfer.bytes, 0);
  /* every registration went back, once */
  assert_int_equal(sim_mr_live(x.w, 0), base);
  assert_int_equal(x.w->violations, 0);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  nh_fini(&x);
}

/* Multichannel: control on TCP (a), bulk on SMB Direct (b) bound to the
 * session. b dies with pieces in flight: they are replayed on a
 * (REPLAY_OPERATION) and the rest of the transfer goes there; the data is
 * whole and exactly one XFER_DONE reports success. */
static void xfer_channel_death_replays_on_other_channel(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  assert_int_equal(nh_start(&x), 0);
  int b = nh_add_smbd(&x);
  nh_negotiate(&x, b);
  int a = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  nh_bind(&x, b, s);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "m.bin");
  enum { LEN = 1 << 20 };
  fill(&x, "m.bin", LEN, 5);
  static uint8_t got[LEN];
  memset(got, 0, sizeof got);
  uint64_t cb = x.pair[b].cconn;
  x.defer = true;
  x.n_deferred = 0;
  smbx_client_xfer p;
  xparams(&p, cb, s, t, f, false, 0, got, LEN, 65536, 4);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 4);
  x.defer = false; /* a's host answers the replays and the rest */
  assert_int_equal(smbx_client_abort_conn(x.cli, cb, SMBX_ERR_TRANSPORT,
                                          x.now),
                   0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN);
  assert_int_equal(e->ev.u.xfer.requests, LEN / 65536);
  assert_int_equal(x.srv_replays, 4);
  assert_int_equal(x.replay_conn, x.pair[a].sconn);
  assert_memory_equal(got, file_named(&x, "m.bin")->data, LEN);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  assert_int_equal(x.w->violations, 0);
  nh_close_pair(&x, b);
  nh_fini(&x);
}

/* Cancel: the pieces in flight are cancelled (the host answers
 * CANCELLED), nothing new goes out, XFER_DONE flags it. */
static void xfer_cancel_in_flight(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  static uint8_t put[1 << 20];
  uint64_t h = start_held_back(&x, a, s, t, "k.bin", 4, true, put, 3);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now), 0);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now), 0); /* again */
  const nh_cev *e = done_event(&x);
  assert_true(e->ev.u.xfer.flags & SMBX_XFER_DONE_CANCELLED);
  assert_int_equal(e->ev.u.xfer.status, SMBX_STATUS_CANCELLED);
  assert_int_equal(e->ev.u.xfer.requests, 3);
  assert_int_equal(x.srv_events[SMBX_EV_CANCEL], 3);
  assert_int_equal(x.n_deferred, 3);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now),
                   SMBX_ERR_NOTFOUND);
  nh_fini(&x);
}

/* The socket dies as the cancel goes out: the connection's teardown
 * completes every piece inside smbx_client_xfer_cancel(); the transfer
 * ends once, after the cancel loop is done with it (it was freed under
 * the loop). */
static void xfer_cancel_send_failure_ends_once(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  static uint8_t got[1 << 20];
  uint64_t h = start_held_back(&x, a, s, t, "q.bin", 8, false, got, 3);
  x.pair[a].c2s.fail_in = 1;
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now), 0);
  const nh_cev *e = done_event(&x);
  assert_true(e->ev.u.xfer.flags & SMBX_XFER_DONE_CANCELLED);
  assert_int_equal(e->ev.u.xfer.err, SMBX_ERR_TRANSPORT);
  assert_int_equal(e->ev.u.xfer.requests, 3);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now),
                   SMBX_ERR_NOTFOUND);
  nh_fini(&x);
}

/* The socket dies sending the second piece at start: the first completes
 * with the connection's error inside smbx_client_xfer_start(), nothing is
 * left in flight, and the XFER_DONE still comes (no completion would
 * ever bring it later). */
static void xfer_start_send_failure_after_first_piece_ends(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "r.bin");
  fill(&x, "r.bin", 1 << 20, 9);
  static uint8_t got[1 << 20];
  x.defer = true;
  x.n_deferred = 0;
  x.pair[a].c2s.fail_in = 2;
  smbx_client_xfer p;
  xparams(&p, x.pair[a].cconn, s, t, f, false, 0, got, sizeof got, 65536, 3);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, SMBX_ERR_TRANSPORT);
  assert_int_equal(e->ev.u.xfer.requests, 1);
  assert_int_equal(e->ev.u.xfer.bytes, 0);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  assert_int_equal(smbx_client_xfer_cancel(x.cli, h, x.now),
                   SMBX_ERR_NOTFOUND);
  nh_fini(&x);
}

/* Every registration is taken by the host's own READ when the transfer
 * starts: refused with nothing in flight, it resumes when that READ
 * completes (no WRITABLE comes for registrations). */
static void xfer_stalled_resumes_on_other_completion(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.cs.rdma_max_regs = 1;
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_smbd(&x);
  nh_negotiate(&x, a);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "s.bin");
  enum { LEN = 256 << 10 };
  fill(&x, "s.bin", LEN, 7);
  static uint8_t got[LEN], own[65536];
  uint64_t c = x.pair[a].cconn;
  x.defer = true;
  x.n_deferred = 0;
  uint64_t req;
  assert_int_equal(smbx_client_read_into(x.cli, c, s, t, f, 0, own,
                                         sizeof own, x.now, &req),
                   0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 1);
  smbx_client_xfer p;
  xparams(&p, c, s, t, f, false, 0, got, LEN, 65536, 4);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
  smbx_client_xfer_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_client_xfer_get_info(x.cli, h, &in), 0);
  assert_int_equal(in.inflight, 0);
  assert_int_equal(in.requests, 0);
  x.defer = false;
  nh_answer_deferred(&x, 0, SMBX_STATUS_ACCESS_DENIED);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN);
  assert_int_equal(e->ev.u.xfer.max_inflight, 1);
  assert_memory_equal(got, file_named(&x, "s.bin")->data, LEN);
  nh_fini(&x);
}

/* Over TCP with the server granting a single credit, the host's own READ
 * on channel b holds it when a transfer pinned to b starts: the transfer is
 * refused (SMBX_ERR_AGAIN) with nothing in flight. The READ's answer is
 * rewritten on the wire to grant no credit back (a server may), so the
 * client holds none and nothing is outstanding: no completion will come
 * to resume the transfer. The file is opened on channel a. */
static uint64_t start_starved_on(nh *x, int a, int b, uint64_t s, uint32_t t,
                                 const char *name, uint8_t *buf, size_t len)
{
  static uint8_t own[4096];
  smbx_smb2_fileid f = nh_create(x, a, s, t, name);
  fill(x, name, len, 4);
  uint64_t c = x->pair[b].cconn, req;
  x->defer = true;
  x->n_deferred = 0;
  assert_int_equal(smbx_client_read_into(x->cli, c, s, t, f, 0, own,
                                         sizeof own, x->now, &req),
                   0);
  nh_pump(x);
  assert_int_equal(x->n_deferred, 1);
  smbx_client_xfer p;
  xparams(&p, c, s, t, f, false, 0, buf, len, 65536, 4);
  uint64_t h;
  assert_int_equal(smbx_client_xfer_start(x->cli, &p, x->now, &h), 0);
  x->defer = false;
  nh_pipe *in = &x->pair[b].s2c;
  size_t at = in->len;
  nh_answer_deferred(x, 0, SMBX_STATUS_ACCESS_DENIED);
  /* Direct TCP prefix, then the header's CreditResponse at 14 */
  assert_true(in->len >= at + 4 + SMBX_SMB2_HDR_SIZE);
  in->p[at + 4 + 14] = 0;
  in->p[at + 4 + 15] = 0;
  nh_pump(x);
  assert_int_equal(nh_response(x, req)->ev.u.pdu.status,
                   SMBX_STATUS_ACCESS_DENIED);
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(x->cli, c, &ci), 0);
  assert_int_equal(ci.credits, 0);
  assert_int_equal(ci.outstanding, 0);
  smbx_client_xfer_info in_;
  memset(&in_, 0, sizeof in_);
  in_.struct_size = sizeof in_;
  assert_int_equal(smbx_client_xfer_get_info(x->cli, h, &in_), 0);
  assert_int_equal(in_.inflight, 0);
  assert_int_equal(in_.requests, 0);
  return h;
}

/* start_starved_on with one channel. */
static uint64_t start_credit_starved(nh *x, int a, uint64_t s, uint32_t t,
                                     const char *name, uint8_t *buf,
                                     size_t len)
{
  return start_starved_on(x, a, a, s, t, name, buf, len);
}

/* The credit-starved transfer's only channel goes down: XFER_DONE ends
 * it with the connection's error (it used to wait for credits forever),
 * and its state is freed with it. */
static void xfer_credit_stall_conn_down_fails(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup_credits(&x, &s, &t, 1);
  static uint8_t got[256 << 10];
  uint64_t h = start_credit_starved(&x, a, s, t, "cs.bin", got, sizeof got);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 0);
  uint64_t live = x.ta.live;
  assert_int_equal(smbx_client_abort_conn(x.cli, x.pair[a].cconn,
                                          SMBX_ERR_TRANSPORT, x.now),
                   0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.xfer, h);
  assert_int_equal(e->ev.u.xfer.err, SMBX_ERR_TRANSPORT);
  assert_int_equal(e->ev.u.xfer.requests, 0);
  assert_int_equal(e->ev.u.xfer.bytes, 0);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  smbx_client_xfer_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_client_xfer_get_info(x.cli, h, &in),
                   SMBX_ERR_NOTFOUND);
  /* the transfer, its pieces and its index stack went back */
  assert_true(x.ta.live + 3 <= live);
  nh_fini(&x);
}

/* Multichannel over two TCP channels: the transfer pinned to the bound
 * channel b is credit-starved there when b goes down; it moves to the
 * session's surviving channel a and completes whole (it used to wait on
 * b forever). */
static void xfer_credit_stall_moves_to_surviving_channel(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  x.ss.credits_max = 1;
  x.ss.credits_min = 1;
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  int b = nh_add_tcp(&x, false);
  nh_negotiate(&x, b);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  nh_bind(&x, b, s);
  enum { LEN = 256 << 10 };
  static uint8_t got[LEN];
  memset(got, 0, sizeof got);
  uint64_t h = start_starved_on(&x, a, b, s, t, "mv.bin", got, LEN);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 0);
  assert_int_equal(smbx_client_abort_conn(x.cli, x.pair[b].cconn,
                                          SMBX_ERR_TRANSPORT, x.now),
                   0);
  const nh_cev *e = done_event(&x);
  assert_int_equal(e->ev.u.xfer.xfer, h);
  assert_int_equal(e->ev.u.xfer.err, 0);
  assert_int_equal(e->ev.u.xfer.status, 0);
  assert_int_equal(e->ev.u.xfer.bytes, LEN);
  assert_int_equal(e->ev.u.xfer.requests, LEN / 65536);
  assert_memory_equal(got, file_named(&x, "mv.bin")->data, LEN);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  nh_fini(&x);
}

/* Cancelling a credit-starved transfer ends it at once, inside
 * smbx_client_xfer_cancel(): with the allocator failing, its XFER_DONE
 * still comes (the room was held since start), for more transfers than
 * the event queue first had room for, none of them drained meanwhile. */
static void xfer_cancel_with_failing_allocator_keeps_done(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup_credits(&x, &s, &t, 1);
  static uint8_t got[65536];
  enum { N = 100 }; /* above the 64 events the queue starts with */
  uint64_t h[N];
  h[0] = start_credit_starved(&x, a, s, t, "cf.bin", got, sizeof got);
  smbx_smb2_fileid f = x.last_req_fileid;
  smbx_client_xfer p;
  xparams(&p, x.pair[a].cconn, s, t, f, false, 0, got, sizeof got, 0, 1);
  for (int i = 1; i < N; i++)
    assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h[i]), 0);
  size_t done_before = nh_count(&x, SMBX_EV_XFER_DONE);
  x.ta.fail_from = x.ta.calls + 1;
  for (int i = 0; i < N; i++)
    assert_int_equal(smbx_client_xfer_cancel(x.cli, h[i], x.now), 0);
  x.ta.fail_from = 0;
  nh_pump(&x);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE) - done_before, N);
  for (int i = 0; i < N; i++) {
    const nh_cev *e = done_event(&x);
    assert_int_equal(e->ev.u.xfer.xfer, h[i]);
    assert_int_equal(e->ev.u.xfer.flags, SMBX_XFER_DONE_CANCELLED);
    assert_int_equal(e->ev.u.xfer.requests, 0);
    assert_int_equal(smbx_client_xfer_cancel(x.cli, h[i], x.now),
                     SMBX_ERR_NOTFOUND);
  }
  nh_fini(&x);
}

/* Bad parameters are refused before anything goes out. */
static void xfer_start_refusals(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "r.bin");
  uint8_t b[16];
  uint64_t c = x.pair[a].cconn, h;
  smbx_client_xfer p;
  xparams(&p, c, s, t, f, false, 0, b, sizeof b, 0, 0);
  assert_int_equal(smbx_client_xfer_start(NULL, &p, x.now, &h),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, NULL),
                   SMBX_ERR_INVAL);
  p.length = 0;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_INVAL);
  p.length = sizeof b;
  p.offset = UINT64_MAX - 4; /* the range wraps */
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_INVAL);
  p.offset = 0;
  p.flags = 0x80;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_INVAL);
  p.flags = 0;
  p.depth = 70000;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_INVAL);
  p.depth = 0;
  p.chunk = x.cs.max_io + 1; /* inline: above max_io */
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_RANGE);
  p.chunk = 0;
  p.session = 999;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_STATE);
  p.session = s;
  p.conn = 12345;
  assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h),
                   SMBX_ERR_STATE);
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 0);
  nh_fini(&x);
}

/* Allocations happen at start only: a 64-piece transfer allocates as
 * much as a 2-piece one. */
static void xfer_alloc_zero_per_request(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = smbd_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "z.bin");
  enum { LEN = 4 << 20 };
  fill(&x, "z.bin", LEN, 6);
  uint8_t *got = malloc(LEN);
  assert_non_null(got);
  smbx_client_xfer p;
  uint64_t h, calls[2];
  for (int warm = 0; warm < 2; warm++) {
    xparams(&p, x.pair[a].cconn, s, t, f, false, 0, got, LEN, 65536, 8);
    assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
    (void)done_event(&x);
  }
  for (int k = 0; k < 2; k++) {
    uint64_t before = x.ta.calls;
    uint64_t len = k ? LEN : 2 * 65536;
    xparams(&p, x.pair[a].cconn, s, t, f, k == 0, 0, got, len, 65536, 8);
    assert_int_equal(smbx_client_xfer_start(x.cli, &p, x.now, &h), 0);
    const nh_cev *e = done_event(&x);
    assert_int_equal(e->ev.u.xfer.bytes, len);
    assert_int_equal(e->ev.u.xfer.requests, len / 65536);
    calls[k] = x.ta.calls - before;
  }
  assert_int_equal(calls[0], calls[1]);
  assert_true(calls[1] <= 3); /* the transfer, its pieces, its stack */
  free(got);
  nh_fini(&x);
}

/* Allocation failure at start: NOMEM, nothing sent, no event. */
static void xfer_alloc_failure_at_start(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int a = tcp_setup(&x, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "n.bin");
  fill(&x, "n.bin", 65536, 8);
  static uint8_t got[65536];
  smbx_client_xfer p;
  xparams(&p, x.pair[a].cconn, s, t, f, false, 0, got, sizeof got, 0, 0);
  uint64_t h;
  size_t reqs = x.srv_requests;
  for (uint64_t n = 1; n <= 4; n++) {
    x.ta.fail_at = x.ta.calls + n;
    int rc = smbx_client_xfer_start(x.cli, &p, x.now, &h);
    x.ta.fail_at = 0;
    if (rc == 0) {
      (void)done_event(&x);
      break;
    }
    assert_int_equal(rc, SMBX_ERR_NOMEM);
    nh_pump(&x);
    assert_int_equal(x.srv_requests, reqs);
  }
  assert_int_equal(nh_count(&x, SMBX_EV_XFER_DONE), 1);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(xfer_read_rdma_whole_range_and_eof),
      cmocka_unit_test(xfer_write_rdma_whole_range),
      cmocka_unit_test(xfer_credits_one_keeps_one_in_flight),
      cmocka_unit_test(xfer_credits_many_all_busy),
      cmocka_unit_test(xfer_depth_below_credits_caps_in_flight),
      cmocka_unit_test(xfer_error_mid_transfer_stops_and_reports_first),
      cmocka_unit_test(xfer_channel_death_without_other_channel_fails),
      cmocka_unit_test(xfer_channel_death_replays_on_other_channel),
      cmocka_unit_test(xfer_cancel_in_flight),
      cmocka_unit_test(xfer_cancel_send_failure_ends_once),
      cmocka_unit_test(xfer_start_send_failure_after_first_piece_ends),
      cmocka_unit_test(xfer_stalled_resumes_on_other_completion),
      cmocka_unit_test(xfer_credit_stall_conn_down_fails),
      cmocka_unit_test(xfer_credit_stall_moves_to_surviving_channel),
      cmocka_unit_test(xfer_cancel_with_failing_allocator_keeps_done),
      cmocka_unit_test(xfer_start_refusals),
      cmocka_unit_test(xfer_alloc_zero_per_request),
      cmocka_unit_test(xfer_alloc_failure_at_start),
  };
  return RUN_TESTS(tests);
}
