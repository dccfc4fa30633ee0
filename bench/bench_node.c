/* SPDX-License-Identifier: MIT */
/* Node suite: a client node and a server node back to back over
 * in-memory Direct TCP, one 4 KiB READ request/response per iteration
 * (client request -> framing -> server node -> REQUEST event -> host
 * answer with the data gathered -> framing -> client node -> RESPONSE
 * event -> release). No crypto (unsigned 3.0.2 session): the cost of the
 * engines, not of a MAC. Goal: <= 40x the naive header parse per request;
 * invariant: 0 allocations per request once warm. */
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "bench.h"

#define PIPE_CAP (256u * 1024u)

typedef struct npipe {
  uint8_t *p;
  size_t len, off;
} npipe;

typedef struct nstate {
  bench_alloc ba;
  smbx_server *srv;
  smbx_client *cli;
  uint64_t sconn, cconn, sess;
  uint32_t tree;
  smbx_smb2_fileid fid;
  npipe c2s, s2c;
  uint8_t file[4096];
  uint64_t last_req;
  uint32_t last_status;
  uint64_t responses;
  int failed;
} nstate;

static int pipe_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  npipe *q = ud;
  if (PIPE_CAP - q->len < n)
    return SMBX_ERR_NOBUF;
  memcpy(q->p + q->len, b, n);
  q->len += n;
  return 0;
}

static void srv_events(nstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(s->srv, &e) == 1) {
    if (e.type == SMBX_EV_SESSION_SETUP) {
      (void)smbx_server_session_respond(s->srv, e.conn, e.u.session.req, 0,
                                        NULL, 0, NULL, 0,
                                        SMBX_SMB2_SESSION_FLAG_IS_NULL, 0);
    } else if (e.type == SMBX_EV_TREE_CONNECT) {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = 1;
      (void)smbx_server_tree_respond(s->srv, e.conn, e.u.tree.req, 0, &r, 0,
                                     NULL);
    } else if (e.type == SMBX_EV_REQUEST) {
      uint8_t out[160];
      smbx_smb2_hdr h;
      memset(&h, 0, sizeof h);
      if (e.u.pdu.hdr.command == SMBX_SMB2_READ) {
        smbx_smb2_read_req rq;
        if (smbx_smb2_decode_read_req(e.u.pdu.data, e.u.pdu.len, &rq, NULL))
          s->failed = 1;
        size_t n = rq.length < sizeof s->file ? rq.length : sizeof s->file;
        smbx_smb2_read_resp rs;
        memset(&rs, 0, sizeof rs);
        rs.data.len = n;
        (void)smbx_smb2_encode_read_resp(&h, &rs, out, sizeof out, NULL);
        smbx_iov iov[2] = {{out + 64, 16}, {s->file, n}};
        if (smbx_server_respond_iov(s->srv, e.conn, e.u.pdu.req, 0, iov, 2,
                                    0))
          s->failed = 1;
      } else { /* CREATE */
        smbx_smb2_create_resp rs;
        memset(&rs, 0, sizeof rs);
        rs.file_id.persistent_id = 1;
        rs.file_id.volatile_id = 2;
        smbx_ssize n =
            smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
        (void)smbx_server_respond(s->srv, e.conn, e.u.pdu.req, 0, out + 64,
                                  (size_t)n - 64, 0);
      }
    }
  }
}

static void cli_events(nstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(s->cli, &e) == 1) {
    if (e.type == SMBX_EV_SESSION_UP)
      s->sess = e.u.session.session;
    else if (e.type == SMBX_EV_TREE_CONNECT)
      s->tree = e.u.tree.tree_id;
    else if (e.type == SMBX_EV_RESPONSE) {
      s->last_req = e.u.pdu.req;
      s->last_status = e.u.pdu.status;
      if (e.u.pdu.err)
        s->failed = 1;
      s->responses++;
    }
    if (e.hold)
      (void)smbx_client_release(s->cli, e.conn, e.hold, 0);
  }
}

static void pump(nstate *s)
{
  if (s->c2s.len) {
    smbx_ssize r = smbx_server_tcp_feed(s->srv, s->sconn, s->c2s.p,
                                        s->c2s.len, 0);
    if (r != (smbx_ssize)s->c2s.len)
      s->failed = 1;
    srv_events(s); /* answers release the holds: the buffer is free */
    s->c2s.len = 0;
  }
  if (s->s2c.len) {
    smbx_ssize r = smbx_client_tcp_feed(s->cli, s->cconn, s->s2c.p,
                                        s->s2c.len, 0);
    if (r != (smbx_ssize)s->s2c.len)
      s->failed = 1;
    cli_events(s);
    s->s2c.len = 0;
  }
}

static int nsetup(void **state, void *arg)
{
  (void)arg;
  nstate *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  bench_alloc_init(&s->ba);
  s->c2s.p = malloc(PIPE_CAP);
  s->s2c.p = malloc(PIPE_CAP);
  for (size_t i = 0; i < sizeof s->file; i++)
    s->file[i] = (uint8_t)i;
  smbx_tcp_hooks hs = {sizeof hs, &s->s2c, pipe_send};
  smbx_tcp_hooks hc = {sizeof hc, &s->c2s, pipe_send};
  if (!s->c2s.p || !s->s2c.p ||
      smbx_server_new(&s->srv, NULL, NULL, &s->ba.a, 0) ||
      smbx_client_new(&s->cli, NULL, NULL, &s->ba.a, 0) ||
      smbx_server_add_tcp(s->srv, &hs, 0, &s->sconn) ||
      smbx_client_add_tcp(s->cli, &hc, 0, &s->cconn) ||
      smbx_client_negotiate(s->cli, s->cconn, 0))
    return 1;
  for (int i = 0; i < 4; i++)
    pump(s);
  uint64_t sess = 0;
  if (smbx_client_session_setup(s->cli, s->cconn, &sess,
                                (const uint8_t *)"x", 1, 0))
    return 1;
  for (int i = 0; i < 4; i++)
    pump(s);
  if (!s->sess || smbx_client_tree_connect(s->cli, s->cconn, s->sess,
                                           "\\\\b\\s", 0, NULL))
    return 1;
  for (int i = 0; i < 4; i++)
    pump(s);
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.create_disposition = 1;
  if (!s->tree ||
      smbx_client_create(s->cli, s->cconn, s->sess, s->tree, &c, 0, NULL))
    return 1;
  for (int i = 0; i < 4; i++)
    pump(s);
  s->fid.persistent_id = 1;
  s->fid.volatile_id = 2;
  if (s->failed)
    return 1;
  *state = s;
  return 0;
}

static void nteardown(void *state)
{
  nstate *s = state;
  smbx_client_free(s->cli);
  smbx_server_free(s->srv);
  free(s->c2s.p);
  free(s->s2c.p);
  free(s);
}

static void one_read(nstate *s)
{
  uint64_t req = 0;
  if (smbx_client_read(s->cli, s->cconn, s->sess, s->tree, s->fid, 0, 4096, 0,
                       &req))
    abort();
  pump(s);
  if (s->failed || s->last_req != req || s->last_status != 0)
    abort();
}

/* ns per READ request/response */
static double nrun(void *state, uint64_t iters)
{
  nstate *s = state;
  one_read(s);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    one_read(s);
  uint64_t t1 = bench_now_ns();
  bench_consume(s->responses);
  return (double)(t1 - t0) / (double)iters;
}

static double nallocs(void *state, uint64_t iters)
{
  nstate *s = state;
  for (int i = 0; i < 64; i++) /* warm: event queues at working size */
    one_read(s);
  uint64_t a0 = bench_alloc_calls(&s->ba);
  for (uint64_t i = 0; i < iters; i++)
    one_read(s);
  uint64_t a1 = bench_alloc_calls(&s->ba);
  return (double)(a1 - a0) / (double)iters;
}

static const bench_metric node_metrics[] = {
  {.name = "node.read_4k_tcp", .unit = "ns/req", .run = nrun,
   .setup = nsetup, .teardown = nteardown, .anchor = "anchor.naive_parse",
   .goal = BENCH_LE(40)},
  {.name = "node.read_4k_allocs", .unit = "allocs/req", .run = nallocs,
   .setup = nsetup, .teardown = nteardown, .iters = 256,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
};

BENCH_SUITE_DEFINE(node, node_metrics);
