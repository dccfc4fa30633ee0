/* SPDX-License-Identifier: MIT */
/* RDMA suite: SMB2 READ/WRITE by direct placement between a client node
 * and a server node over SMB Direct, on an in-process NIC stub.
 *
 * The stub is a NIC, not smbx: a SEND lands in the peer's oldest posted
 * receive at once; registrations have keys, bounds and access flags and
 * every RDMA operation is checked against them (a failed check completes
 * with an error and the metric aborts: the engines must never need it);
 * SEND_WITH_INVALIDATE kills the receiver's key. RDMA payloads are
 * memcpy'd (1 MiB metrics: the wire's work is part of the I/O) or not
 * copied at all (4 KiB engine metric: "the simulated NIC's copy
 * excluded"). What the stub sees also proves zero copy: an RDMA
 * operation whose local elements are the server host's own memory and
 * whose remote range is the client caller's own buffer moved the payload
 * directly; any other byte delivered was copied by someone.
 *
 * Metrics (docs/bench.md):
 *  rdma.read_4k_engine   client read_into + descriptor, SMB Direct framing
 *                        and credits, server parse + rdma_write + response,
 *                        client completion + invalidation; <= 20x naive parse
 *  rdma.read_1m / write_1m  1 MiB I/O with the stub's copy; <= 1.25x the
 *                        time of memcpy of 1 MiB (>= 0.8x its speed)
 *  rdma.payload_copied   bytes per I/O not moved directly (invariant 0)
 *  rdma.allocs           allocations per I/O (invariant 0)
 *  rdma.state_bytes_conn_server / _client, rdma.state_bytes_open */
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>
#include <smbx/vmo.h>

#include "../tests/sim/mr_table.h"
#include "bench.h"
#include "vmo/vmo_int.h"

#define NIC_RQ 256
#define NIC_CQ 1024
#define NIC_MR 256
#define NIC_RBUFS 64
#define NIC_SEND_MAX 8192
#define FILE_BYTES (1u << 20)
/* a message of an RDMA I/O is headers, fixed parts and descriptors; a
 * longer one would be carrying payload inline */
#define INLINE_LIMIT 512u

typedef struct nic nic;

/* What a completion reports, as a verbs completion's opcode tells the
 * host (so the host needs no smbx_wr_id_kind()). */
enum { WC_SEND, WC_RECV, WC_RDMA };

typedef struct nic_ep {
  nic *n;
  int idx;
  struct nic_ep *peer;
  struct {
    uint64_t wr_id;
    uint8_t *addr;
    uint32_t len;
  } rq[NIC_RQ];
  uint32_t rq_head, rq_n;
  smbx_wc cq[NIC_CQ];
  uint8_t cq_kind[NIC_CQ]; /* WC_* of cq[i] */
  uint32_t cq_head, cq_n;
} nic_ep;

struct nic {
  nic_ep ep[2]; /* 0 client, 1 server */
  int copy;     /* RDMA payloads memcpy'd */
  /* registrations and their checks: the test NIC's (tests/sim) */
  sim_mr mr[NIC_MR];
  sim_mrt mrt; /* over mr[], handles 0x100 + slot */
  /* zero-copy accounting */
  const uint8_t *host_lo, *host_hi; /* server host memory */
  const uint8_t *cli_lo, *cli_hi;   /* client caller buffers */
  uint64_t direct_bytes, send_payload_bytes;
  int broken; /* a check failed: the metric aborts */
  smbx_wc lost; /* where a completion goes when its CQ is full */
};

/* The next completion of e, zeroed, for the caller to fill in place; a
 * full CQ breaks the metric (the completion is lost). */
static smbx_wc *cq_push(nic_ep *e, int kind)
{
  smbx_wc *wc = &e->n->lost;
  if (e->cq_n == NIC_CQ) {
    e->n->broken = 1;
  } else {
    uint32_t at = (e->cq_head + e->cq_n) % NIC_CQ;
    e->cq_kind[at] = (uint8_t)kind;
    e->cq_n++;
    wc = &e->cq[at];
  }
  memset(wc, 0, sizeof *wc);
  return wc;
}

static int nic_post_recv(void *ud, uint64_t wr_id, const smbx_sge *b)
{
  nic_ep *e = ud;
  if (e->rq_n == NIC_RQ)
    return -1;
  uint32_t at = (e->rq_head + e->rq_n) % NIC_RQ;
  e->rq[at].wr_id = wr_id;
  e->rq[at].addr = b->addr;
  e->rq[at].len = b->length;
  e->rq_n++;
  return 0;
}

static int nic_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                         size_t nsg, uint32_t flags, uint32_t rkey)
{
  nic_ep *s = ud;
  nic *n = s->n;
  nic_ep *d = s->peer;
  if (d->rq_n == 0)
    return -1; /* RNR: the engines' credits must prevent it */
  uint32_t h = d->rq_head;
  uint64_t len = 0;
  for (size_t k = 0; k < nsg; k++)
    len += sg[k].length;
  if (len > d->rq[h].len)
    return -1;
  d->rq_head = (h + 1) % NIC_RQ;
  d->rq_n--;
  if (len > INLINE_LIMIT)
    n->send_payload_bytes += len;
  smbx_wc *wc = cq_push(d, WC_RECV);
  wc->wr_id = d->rq[h].wr_id;
  wc->byte_len = (uint32_t)len;
  if (flags & SMBX_SEND_INVALIDATE) {
    if (sim_mrt_invalidate(&n->mrt, d->idx, rkey) != 0) {
      n->broken = 1;
    } else {
      wc->flags = SMBX_WC_WITH_INVALIDATE;
      wc->invalidated_rkey = rkey;
    }
  }
  cq_push(s, WC_SEND)->wr_id = wr_id;
  /* the bytes last: nobody reads the completions before this returns,
   * and nothing else need live across the copies */
  uint8_t *to = d->rq[h].addr;
  for (size_t k = 0; k < nsg; k++) {
    memcpy(to, sg[k].addr, sg[k].length);
    to += sg[k].length;
  }
  return 0;
}

static int nic_register(void *ud, void *addr, size_t len, uint32_t access,
                        smbx_mr *out)
{
  nic_ep *e = ud;
  return sim_mrt_add(&e->n->mrt, e->idx, addr, len, access, out);
}

static void nic_deregister(void *ud, const smbx_mr *mr)
{
  nic_ep *e = ud;
  if (sim_mrt_remove(&e->n->mrt, e->idx, mr) != 0)
    e->n->broken = 1; /* twice, foreign, or a false invalidation claim */
}

static int nic_rdma(nic_ep *s, int is_read, uint64_t wr_id,
                    const smbx_sge *sg, size_t nsg, uint64_t raddr,
                    uint32_t rkey)
{
  nic *n = s->n;
  uint64_t len = 0;
  int direct = 1;
  for (size_t k = 0; k < nsg; k++) {
    const uint8_t *p = sg[k].addr;
    direct &= p >= n->host_lo && p + sg[k].length <= n->host_hi;
    len += sg[k].length;
  }
  uint8_t *r = sim_mrt_remote(
      &n->mrt, 1 - s->idx, raddr, rkey, len,
      is_read ? SMBX_MR_REMOTE_READ : SMBX_MR_REMOTE_WRITE);
  if (!sim_mrt_local_ok(&n->mrt, s->idx, sg, nsg, is_read) || !r)
    n->broken = 1;
  smbx_wc *wc = cq_push(s, WC_RDMA);
  wc->wr_id = wr_id;
  if (n->broken) {
    wc->status = SMBX_WC_ERROR;
    return 0;
  }
  direct &= r >= n->cli_lo && r + len <= n->cli_hi;
  if (n->copy)
    for (size_t k = 0; k < nsg; k++) {
      if (is_read)
        memcpy(sg[k].addr, r, sg[k].length);
      else
        memcpy(r, sg[k].addr, sg[k].length);
      r += sg[k].length;
    }
  if (direct)
    n->direct_bytes += len;
  wc->byte_len = (uint32_t)len;
  return 0;
}

static int nic_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg,
                         size_t nsg, uint64_t raddr, uint32_t rkey)
{
  return nic_rdma(ud, 1, wr_id, sg, nsg, raddr, rkey);
}

static int nic_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                          size_t nsg, uint64_t raddr, uint32_t rkey)
{
  return nic_rdma(ud, 0, wr_id, sg, nsg, raddr, rkey);
}

static smbx_transport nic_transport(nic *n, int i)
{
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = &n->ep[i];
  t.post_send = nic_post_send;
  t.post_recv = nic_post_recv;
  t.register_mr = nic_register;
  t.deregister_mr = nic_deregister;
  t.rdma_read = nic_rdma_read;
  t.rdma_write = nic_rdma_write;
  return t;
}

/* ---- the two nodes and their hosts --------------------------------------- */

typedef struct rstate {
  bench_alloc sa, ca; /* the server's and the client's allocators */
  uint64_t s_node_bytes, c_node_bytes; /* live right after *_new */
  nic n;
  smbx_server *srv;
  smbx_client *cli;
  uint64_t sconn, cconn, sess;
  uint32_t tree;
  smbx_smb2_fileid fid;
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rb[2][NIC_RBUFS];
  uint8_t *file; /* the server host's file, registered once */
  smbx_mr file_mr;
  uint8_t *buf; /* the client caller's buffer */
  size_t io_len;
  uint64_t last_req, responses, placed;
  uint32_t last_status;
  int conn_up, failed;
  uint64_t wire_sess;
  /* the vmo suite: a memory object answers instead of the host */
  smbx_vmo_table *tbl;
  uint64_t obj, vmo_create_req;
  uint64_t failed_status; /* RESPONSEs with a status other than SUCCESS */
  uint8_t *obj_mem;
} rstate;

static void answer_write(rstate *s, uint64_t conn, uint64_t req,
                         uint32_t count)
{
  uint8_t out[128];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = count;
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &rs, out, sizeof out, NULL);
  if (n <= 64 || smbx_server_respond(s->srv, conn, req, 0, out + 64,
                                     (size_t)n - 64, 0))
    s->failed = 1;
}

/* The server host: the RDMA request event carries its Offset
 * (u.pdu.rdma_offset); the host hands over its file memory there (one
 * element). */
static void host_rdma(rstate *s, const smbx_event *e)
{
  uint64_t off = e->u.pdu.rdma_offset;
  uint32_t len = e->u.pdu.rdma_length;
  if (off > FILE_BYTES || len > FILE_BYTES - off) {
    s->failed = 1;
    return;
  }
  smbx_sge sg = {s->file + off, len, 0, s->file_mr.handle};
  int rc = e->u.pdu.hdr.command == SMBX_SMB2_READ
               ? smbx_server_rdma_push(s->srv, e->conn, e->u.pdu.req, &sg, 1,
                                       0)
               : smbx_server_rdma_pull(s->srv, e->conn, e->u.pdu.req, &sg, 1,
                                       0);
  if (rc)
    s->failed = 1;
}

/* Server events other than an RDMA READ/WRITE request and RDMA_DONE:
 * setup traffic and failures. */
static void srv_event_other(rstate *s, const smbx_event *e)
{
  if (e->type == SMBX_EV_SESSION_SETUP) {
    (void)smbx_server_session_respond(s->srv, e->conn, e->u.session.req, 0,
                                      NULL, 0, NULL, 0,
                                      SMBX_SMB2_SESSION_FLAG_IS_NULL, 0);
  } else if (e->type == SMBX_EV_TREE_CONNECT) {
    smbx_smb2_tree_connect_resp r;
    memset(&r, 0, sizeof r);
    r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
    r.maximal_access = 0x1F01FF;
    (void)smbx_server_tree_respond(s->srv, e->conn, e->u.tree.req, 0, &r, 0,
                                   NULL);
  } else if (e->type == SMBX_EV_REQUEST) {
    uint8_t out[160];
    smbx_smb2_hdr h;
    memset(&h, 0, sizeof h);
    if (e->u.pdu.hdr.command != SMBX_SMB2_CREATE) {
      (void)smbx_server_respond_error(s->srv, e->conn, e->u.pdu.req,
                                      SMBX_STATUS_NOT_SUPPORTED, NULL, 0, 0);
      return;
    }
    smbx_smb2_create_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.create_action = 1;
    rs.file_id.persistent_id = 1;
    rs.file_id.volatile_id = 2;
    smbx_ssize n = smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
    (void)smbx_server_respond(s->srv, e->conn, e->u.pdu.req, 0, out + 64,
                              (size_t)n - 64, 0);
  } else if (e->type == SMBX_EV_CONN_DOWN) {
    s->failed = 1;
  }
}

static void srv_events(rstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(s->srv, &e) == 1) {
    if (s->tbl && smbx_server_vmo_route(s->srv, s->tbl, &e, 0) == 1)
      continue;
    if (e.type == SMBX_EV_REQUEST && (e.flags & SMBX_EVF_RDMA)) {
      host_rdma(s, &e);
    } else if (e.type == SMBX_EV_RDMA_DONE) {
      if (e.u.pdu.err)
        s->failed = 1;
      else if (e.u.pdu.hdr.command == SMBX_SMB2_WRITE)
        answer_write(s, e.conn, e.u.pdu.req, e.u.pdu.rdma_length);
    } else {
      srv_event_other(s, &e);
    }
  }
}

/* Client events other than RESPONSE (setup and failures). */
static void cli_event_other(rstate *s, const smbx_event *e)
{
  if (e->type == SMBX_EV_CONN_UP) {
    s->conn_up = 1;
  } else if (e->type == SMBX_EV_SESSION_UP) {
    s->sess = e->u.session.session;
    s->wire_sess = e->u.session.session_id;
  } else if (e->type == SMBX_EV_TREE_CONNECT) {
    s->tree = e->u.tree.tree_id;
  } else if (e->type == SMBX_EV_CONN_DOWN) {
    s->failed = 1;
  }
}

static void cli_events(rstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(s->cli, &e) == 1) {
    if (e.type == SMBX_EV_RESPONSE) {
      s->last_req = e.u.pdu.req;
      s->last_status = e.u.pdu.status;
      if (e.u.pdu.status)
        s->failed_status++;
      if (e.u.pdu.err)
        s->failed = 1;
      if (e.flags & SMBX_EVF_RDMA)
        s->placed += e.u.pdu.rdma_length;
      s->responses++;
      smbx_smb2_create_resp cr;
      if (s->vmo_create_req && e.u.pdu.req == s->vmo_create_req &&
          e.u.pdu.status == 0 &&
          smbx_smb2_decode_create_resp(e.u.pdu.data, e.u.pdu.len, &cr,
                                       NULL) == 0)
        s->fid = cr.file_id;
    } else {
      cli_event_other(s, &e);
    }
    if (e.hold)
      (void)smbx_client_release(s->cli, e.conn, e.hold, 0);
  }
}

/* Hands endpoint i's completions to its node, in order, each read in its
 * CQ slot (a completion posted meanwhile goes behind it); whether there
 * were any. */
static int poll_cq(rstate *s, int i)
{
  nic_ep *e = &s->n.ep[i];
  if (!e->cq_n)
    return 0;
  do {
    const smbx_wc *wc = &e->cq[e->cq_head];
    int kind = e->cq_kind[e->cq_head];
    if (i == 0)
      (void)(kind == WC_RECV ? smbx_client_recv(s->cli, s->cconn, wc, 0)
                             : smbx_client_send_done(s->cli, s->cconn, wc, 0));
    else if (kind == WC_RDMA)
      (void)smbx_server_rdma_done(s->srv, s->sconn, wc, 0);
    else
      (void)(kind == WC_RECV ? smbx_server_recv(s->srv, s->sconn, wc, 0)
                             : smbx_server_send_done(s->srv, s->sconn, wc, 0));
    e->cq_head = (e->cq_head + 1) % NIC_CQ;
    e->cq_n--;
  } while (e->cq_n);
  return 1;
}

/* nodes the caller called before pump() whose events are drained first
 * (a call that posts work needs none: its completion comes) */
#define FED_CLI 1u
#define FED_SRV 2u

/* Runs the NIC and both hosts until nothing moves. A node's events are
 * drained after it was fed (its completions, or the caller's calls). */
static void pump(rstate *s, unsigned fed)
{
  if (fed & FED_CLI)
    cli_events(s);
  if (fed & FED_SRV)
    srv_events(s);
  for (;;) {
    int moved = 0;
    if (poll_cq(s, 0)) {
      cli_events(s);
      moved = 1;
    }
    if (poll_cq(s, 1)) {
      srv_events(s);
      moved = 1;
    }
    if (!moved)
      return;
  }
}

static void smbd_settings(smbx_smbd_settings *st, uint32_t role)
{
  smbx_smbd_settings_default(st, sizeof *st);
  st->role = role;
  st->recv_credit_max = NIC_RBUFS;
  st->send_credit_target = NIC_RBUFS;
}

/* Nodes created and an SMB Direct connection established (both roles). */
static int connect_nodes(rstate *s)
{
  bench_alloc_init(&s->sa);
  bench_alloc_init(&s->ca);
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.max_read_size = FILE_BYTES;
  ss.max_write_size = FILE_BYTES;
  if (smbx_server_new(&s->srv, &ss, NULL, &s->sa.a, 0) ||
      smbx_client_new(&s->cli, NULL, NULL, &s->ca.a, 0))
    return 1;
  s->s_node_bytes = s->sa.live_bytes;
  s->c_node_bytes = s->ca.live_bytes;
  s->n.mrt.mr = s->n.mr;
  s->n.mrt.n = NIC_MR;
  s->n.mrt.handle_base = 0x100u;
  for (int k = 0; k < 2; k++) {
    s->n.ep[k].n = &s->n;
    s->n.ep[k].idx = k;
    s->n.ep[k].peer = &s->n.ep[1 - k];
    s->rmem[k] = calloc(NIC_RBUFS, NIC_SEND_MAX);
    if (!s->rmem[k])
      return 1;
    for (int b = 0; b < NIC_RBUFS; b++) {
      s->rb[k][b].addr = s->rmem[k] + (size_t)b * NIC_SEND_MAX;
      s->rb[k][b].length = NIC_SEND_MAX;
      s->rb[k][b].reserved = 0;
      s->rb[k][b].handle = 0x10u + (uint64_t)b;
    }
  }
  smbx_smbd_settings st[2];
  smbd_settings(&st[0], SMBX_SMBD_ROLE_ACTIVE);
  smbd_settings(&st[1], SMBX_SMBD_ROLE_PASSIVE);
  smbx_transport t0 = nic_transport(&s->n, 0), t1 = nic_transport(&s->n, 1);
  if (smbx_client_add_smbd(s->cli, &st[0], &t0, s->rb[0], NIC_RBUFS, 0,
                           &s->cconn) ||
      smbx_server_add_smbd(s->srv, &st[1], &t1, s->rb[1], NIC_RBUFS, 0,
                           &s->sconn) ||
      smbx_client_cm_event(s->cli, s->cconn, SMBX_SMBD_CM_ESTABLISHED, 16, 16,
                           0) ||
      smbx_server_cm_event(s->srv, s->sconn, SMBX_SMBD_CM_ESTABLISHED, 16, 16,
                           0))
    return 1;
  pump(s, FED_CLI | FED_SRV);
  return !s->conn_up || s->failed;
}

static int open_file(rstate *s)
{
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  uint8_t name[2] = {'f', 0};
  c.impersonation_level = 2;
  c.desired_access = 0x12019F;
  c.create_disposition = 3;
  c.name.p = name;
  c.name.len = sizeof name;
  uint64_t req = 0;
  if (smbx_client_create(s->cli, s->cconn, s->sess, s->tree, &c, 0, &req))
    return 1;
  pump(s, FED_CLI);
  return s->last_req != req || s->last_status != 0 || s->failed;
}

static void rfree(rstate *s)
{
  if (!s)
    return;
  smbx_client_free(s->cli);
  smbx_server_free(s->srv);
  smbx_vmo_free(s->tbl);
  free(s->obj_mem);
  free(s->rmem[0]);
  free(s->rmem[1]);
  free(s->file);
  free(s->buf);
  free(s);
}

/* io_len: bytes per I/O; copy: the stub copies RDMA payloads */
static int rsetup_common(void **state, size_t io_len, int copy)
{
  rstate *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  s->io_len = io_len;
  s->n.copy = copy;
  s->file = malloc(FILE_BYTES);
  s->buf = malloc(FILE_BYTES);
  if (!s->file || !s->buf || connect_nodes(s)) {
    rfree(s);
    return 1;
  }
  for (size_t i = 0; i < FILE_BYTES; i++) {
    s->file[i] = (uint8_t)(i * 7 + (i >> 10));
    s->buf[i] = 0;
  }
  s->n.host_lo = s->file;
  s->n.host_hi = s->file + FILE_BYTES;
  s->n.cli_lo = s->buf;
  s->n.cli_hi = s->buf + FILE_BYTES;
  smbx_transport t1 = nic_transport(&s->n, 1);
  uint64_t sess = 0;
  if (t1.register_mr(t1.user_data, s->file, FILE_BYTES, SMBX_MR_LOCAL_WRITE,
                     &s->file_mr) ||
      smbx_client_negotiate(s->cli, s->cconn, 0)) {
    rfree(s);
    return 1;
  }
  pump(s, FED_CLI);
  if (smbx_client_session_setup(s->cli, s->cconn, &sess,
                                (const uint8_t *)"x", 1, 0)) {
    rfree(s);
    return 1;
  }
  pump(s, FED_CLI);
  if (!s->sess || smbx_client_tree_connect(s->cli, s->cconn, s->sess,
                                           "\\\\b\\s", 0, NULL)) {
    rfree(s);
    return 1;
  }
  pump(s, FED_CLI);
  if (!s->tree || open_file(s)) {
    rfree(s);
    return 1;
  }
  s->fid.persistent_id = 1;
  s->fid.volatile_id = 2;
  *state = s;
  return 0;
}

static int setup_4k(void **state, void *arg)
{
  (void)arg;
  return rsetup_common(state, 4096, 0);
}

static int setup_1m(void **state, void *arg)
{
  (void)arg;
  return rsetup_common(state, FILE_BYTES, 1);
}

static int setup_64k(void **state, void *arg)
{
  (void)arg;
  return rsetup_common(state, 65536, 1);
}

static void rteardown(void *state)
{
  rfree(state);
}

/* One I/O by direct placement; aborts unless it was placed whole. */
static void one_io(rstate *s, int write)
{
  uint64_t req = 0, placed0 = s->placed;
  int rc = write ? smbx_client_write_from(s->cli, s->cconn, s->sess, s->tree,
                                          s->fid, 0, s->buf, (uint32_t)s->io_len,
                                          0, &req)
                 : smbx_client_read_into(s->cli, s->cconn, s->sess, s->tree,
                                         s->fid, 0, s->buf, (uint32_t)s->io_len,
                                         0, &req);
  if (rc)
    abort();
  /* an event read_into raised is drained after the client's next
   * completion (its send's, at the latest) */
  pump(s, 0);
  if (s->failed || s->n.broken || s->last_req != req || s->last_status != 0 ||
      (!write && s->placed - placed0 != s->io_len))
    abort();
}

static double run_io(rstate *s, uint64_t iters, int write)
{
  one_io(s, write);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    one_io(s, write);
  uint64_t t1 = bench_now_ns();
  bench_consume(s->responses);
  bench_clobber(s->buf);
  return (double)(t1 - t0) / (double)iters;
}

static double read_run(void *state, uint64_t iters)
{
  return run_io(state, iters, 0);
}

static double write_run(void *state, uint64_t iters)
{
  return run_io(state, iters, 1);
}

/* Payload bytes per I/O that did not go straight from the host's memory
 * to the caller's buffer (or back) in an RDMA operation, plus any message
 * long enough to be carrying payload inline. READs and WRITEs alternate. */
static double copied_run(void *state, uint64_t iters)
{
  rstate *s = state;
  uint64_t d0 = s->n.direct_bytes, p0 = s->n.send_payload_bytes;
  for (uint64_t i = 0; i < iters; i++)
    one_io(s, (int)(i & 1));
  uint64_t moved = iters * s->io_len;
  uint64_t direct = s->n.direct_bytes - d0;
  uint64_t copied = (moved > direct ? moved - direct : 0) +
                    (s->n.send_payload_bytes - p0);
  return (double)copied / (double)iters;
}

static double allocs_run(void *state, uint64_t iters)
{
  rstate *s = state;
  for (int i = 0; i < 64; i++) /* warm: event queues at working size */
    one_io(s, i & 1);
  uint64_t a0 = bench_alloc_calls(&s->sa) + bench_alloc_calls(&s->ca);
  for (uint64_t i = 0; i < iters; i++)
    one_io(s, (int)(i & 1));
  return (double)(bench_alloc_calls(&s->sa) + bench_alloc_calls(&s->ca) -
                  a0) /
         (double)iters;
}

/* ---- state sizes ---------------------------------------------------------- */

/* Live bytes a node holds for one established SMB Direct connection
 * (engine, SMB Direct send buffers, RDMA tracker or registration pool). */
static double conn_bytes(int server)
{
  rstate *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  double r = -1;
  if (connect_nodes(s) == 0)
    r = server ? (double)(s->sa.live_bytes - s->s_node_bytes)
               : (double)(s->ca.live_bytes - s->c_node_bytes);
  rfree(s);
  return r;
}

static double conn_server_run(void *state, uint64_t iters)
{
  (void)state;
  (void)iters;
  return conn_bytes(1);
}

static double conn_client_run(void *state, uint64_t iters)
{
  (void)state;
  (void)iters;
  return conn_bytes(0);
}

/* Live bytes both nodes add per open file (the host keeps its own). */
static double open_run(void *state, uint64_t iters)
{
  (void)iters;
  rstate *s = state;
  enum { OPENS = 16 };
  uint64_t b0 = s->sa.live_bytes + s->ca.live_bytes;
  for (int i = 0; i < OPENS; i++)
    if (open_file(s))
      abort();
  return (double)(s->sa.live_bytes + s->ca.live_bytes - b0) / OPENS;
}

static const bench_metric rdma_metrics[] = {
  {.name = "rdma.read_4k_engine", .unit = "ns/io", .run = read_run,
   .setup = setup_4k, .teardown = rteardown, .anchor = "anchor.naive_parse",
   .goal = BENCH_LE(20)},
  {.name = "rdma.read_1m", .unit = "ns/io", .run = read_run,
   .setup = setup_1m, .teardown = rteardown, .anchor = "anchor.memcpy_1m_hot",
   .goal = BENCH_LE(1.25)},
  {.name = "rdma.write_1m", .unit = "ns/io", .run = write_run,
   .setup = setup_1m, .teardown = rteardown, .anchor = "anchor.memcpy_1m_hot",
   .goal = BENCH_LE(1.25)},
  {.name = "rdma.payload_copied", .unit = "bytes/io", .run = copied_run,
   .setup = setup_64k, .teardown = rteardown, .iters = 256,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "rdma.allocs", .unit = "allocs/io", .run = allocs_run,
   .setup = setup_4k, .teardown = rteardown, .iters = 256,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "rdma.state_bytes_conn_server", .unit = "bytes",
   .run = conn_server_run, .iters = 1},
  {.name = "rdma.state_bytes_conn_client", .unit = "bytes",
   .run = conn_client_run, .iters = 1},
  {.name = "rdma.state_bytes_open", .unit = "bytes", .run = open_run,
   .setup = setup_4k, .teardown = rteardown, .iters = 1},
};

BENCH_SUITE_DEFINE(rdma, rdma_metrics);

/* ---- vmo suite: 256 MiB between two memory objects ------------------------ */

/* Object A (the server's): 256 MiB in VMO_BLOCKS blocks with a 4 KiB hole
 * between any two; B is the client's 256 MiB, registered 1 MiB at a time
 * by smbx_client_read_into/_write_from as any caller buffer (the
 * responses' order is checked by count, not by request id). */
#define VMO_BYTES ((size_t)256 << 20)
#define VMO_BLOCKS 4u
#define VMO_IO ((size_t)1 << 20)

static int vmo_random(void *ud, uint8_t *buf, size_t len)
{
  uint32_t *x = ud;
  for (size_t i = 0; i < len; i++) {
    *x = *x * 1103515245u + 12345u;
    buf[i] = (uint8_t)(*x >> 16);
  }
  return 0;
}

static uint32_t vmo_seed = 1;

static int vmo_setup_common(void **state, int copy)
{
  if (rsetup_common(state, VMO_IO, copy))
    return 1;
  rstate *s = *state;
  size_t hole = 4096, blk = VMO_BYTES / VMO_BLOCKS;
  s->obj_mem = malloc(VMO_BYTES + (VMO_BLOCKS - 1) * hole);
  uint8_t *dst = malloc(VMO_BYTES);
  if (!s->obj_mem || !dst) {
    free(dst);
    rfree(s);
    return 1;
  }
  free(s->buf);
  s->buf = dst;
  smbx_vmo_block b[VMO_BLOCKS];
  for (uint32_t i = 0; i < VMO_BLOCKS; i++) {
    b[i].addr = s->obj_mem + i * (blk + hole);
    b[i].length = blk;
    memset(b[i].addr, (int)(0x11 * (i + 1)), blk);
  }
  memset(dst, 0, VMO_BYTES);
  s->n.host_lo = s->obj_mem;
  s->n.host_hi = s->obj_mem + VMO_BYTES + (VMO_BLOCKS - 1) * hole;
  s->n.cli_lo = dst;
  s->n.cli_hi = dst + VMO_BYTES;
  smbx_transport t1 = nic_transport(&s->n, 1);
  smbx_vmo_settings vs;
  smbx_vmo_settings_default(&vs, sizeof vs);
  smbx_vmo_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.struct_size = sizeof sp;
  sp.blocks = b;
  sp.n_blocks = VMO_BLOCKS;
  sp.access = SMBX_VMO_READ | SMBX_VMO_WRITE;
  sp.sessions = &s->wire_sess;
  sp.n_sessions = 1;
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t nl = 0;
  if (smbx_vmo_new(&s->tbl, &vs, &t1, vmo_random, &vmo_seed, &s->sa.a) ||
      smbx_vmo_create(s->tbl, &sp, &s->obj) ||
      smbx_vmo_path(s->tbl, s->obj, NULL, 0, NULL, name, sizeof name, &nl)) {
    rfree(s);
    return 1;
  }
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x3;
  c.create_disposition = 1;
  c.name.p = name;
  c.name.len = nl;
  uint64_t req = 0;
  if (smbx_client_create(s->cli, s->cconn, s->sess, s->tree, &c, 0, &req)) {
    rfree(s);
    return 1;
  }
  s->fid.persistent_id = 0;
  s->vmo_create_req = req;
  pump(s, FED_CLI);
  if (s->last_req != req || s->last_status != 0 ||
      s->fid.persistent_id != SMBX_VMO_FILEID_TAG) {
    rfree(s);
    return 1;
  }
  return 0;
}

static int vmo_setup_copy(void **state, void *arg)
{
  (void)arg;
  return vmo_setup_common(state, 1);
}

static int vmo_setup_engine(void **state, void *arg)
{
  (void)arg;
  return vmo_setup_common(state, 0);
}

/* Requests in flight at once (the SMB2 credits and SMB Direct receive
 * credits of the defaults cover them). */
#define VMO_DEPTH 8u

/* The whole object, 1 MiB per request, VMO_DEPTH requests issued before
 * the NIC runs; aborts unless every request succeeded and (READ) every
 * byte was placed. Returns the ns it took. */
static uint64_t vmo_pass(rstate *s, int write)
{
  uint64_t t0 = bench_now_ns();
  uint64_t resp0 = s->responses, placed0 = s->placed;
  for (size_t off = 0; off < VMO_BYTES;) {
    for (unsigned k = 0; k < VMO_DEPTH && off < VMO_BYTES; k++, off += VMO_IO) {
      uint64_t req = 0;
      int rc = write ? smbx_client_write_from(s->cli, s->cconn, s->sess,
                                              s->tree, s->fid, off,
                                              s->buf + off, VMO_IO, 0, &req)
                     : smbx_client_read_into(s->cli, s->cconn, s->sess,
                                             s->tree, s->fid, off,
                                             s->buf + off, VMO_IO, 0, &req);
      if (rc)
        abort();
    }
    pump(s, FED_CLI);
  }
  if (s->failed || s->n.broken || s->failed_status ||
      s->responses - resp0 != VMO_BYTES / VMO_IO ||
      (!write && s->placed - placed0 != VMO_BYTES))
    abort();
  return bench_now_ns() - t0;
}

/* memcpy of the same 256 MiB (object to buffer), in the same run */
static uint64_t vmo_memcpy_ns(rstate *s)
{
  size_t blk = VMO_BYTES / VMO_BLOCKS;
  uint64_t t0 = bench_now_ns();
  for (uint32_t i = 0; i < VMO_BLOCKS; i++)
    memcpy(s->buf + i * blk, s->obj_mem + i * (blk + 4096), blk);
  uint64_t t = bench_now_ns() - t0;
  bench_clobber(s->buf);
  return t;
}

/* Speed relative to memcpy (memcpy time / transfer time): >= 0.8 */
static double vmo_ratio(void *state, uint64_t iters, int write)
{
  rstate *s = state;
  (void)vmo_pass(s, write); /* warm */
  uint64_t t = 0, m = 0;
  for (uint64_t i = 0; i < iters; i++) {
    m += vmo_memcpy_ns(s);
    t += vmo_pass(s, write);
  }
  if (!write && memcmp(s->buf, s->obj_mem, VMO_BYTES / VMO_BLOCKS) != 0)
    abort();
  return (double)m / (double)t;
}

static double vmo_pull_run(void *state, uint64_t iters)
{
  return vmo_ratio(state, iters, 0);
}

static double vmo_push_run(void *state, uint64_t iters)
{
  return vmo_ratio(state, iters, 1);
}

/* Engine CPU on both nodes and the table per GiB moved (the NIC stub
 * checks every operation but moves no bytes). */
static double vmo_engine_run(void *state, uint64_t iters)
{
  rstate *s = state;
  uint64_t t = 0;
  for (uint64_t i = 0; i < iters; i++)
    t += vmo_pass(s, (int)(i & 1));
  return (double)t / ((double)iters * (double)VMO_BYTES / (double)(1u << 30));
}

static double vmo_allocs_run(void *state, uint64_t iters)
{
  rstate *s = state;
  (void)vmo_pass(s, 0);
  uint64_t a0 = bench_alloc_calls(&s->sa) + bench_alloc_calls(&s->ca);
  for (uint64_t i = 0; i < iters; i++)
    (void)vmo_pass(s, (int)(i & 1));
  return (double)(bench_alloc_calls(&s->sa) + bench_alloc_calls(&s->ca) -
                  a0) /
         ((double)iters * (double)(VMO_BYTES / VMO_IO));
}

/* Finding a transfer's pin at RDMA_DONE: the owner index with every pin
 * of the default table live (1024 over 64 objects). */
#define PIN_OBJS 64u
#define PIN_N 1024u

typedef struct pstate {
  smbx_vmo_table *tbl;
  uint8_t mem[PIN_OBJS][64];
  uint64_t sum;
} pstate;

static int pin_register(void *ud, void *addr, size_t len, uint32_t access,
                        smbx_mr *out)
{
  (void)ud;
  (void)len;
  (void)access;
  memset(out, 0, sizeof *out);
  out->address = (uint64_t)(uintptr_t)addr;
  out->handle = 1;
  return 0;
}

static void pin_deregister(void *ud, const smbx_mr *mr)
{
  (void)ud;
  (void)mr;
}

static int pin_setup(void **state, void *arg)
{
  (void)arg;
  pstate *p = calloc(1, sizeof *p);
  if (!p)
    return 1;
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.register_mr = pin_register;
  t.deregister_mr = pin_deregister;
  smbx_vmo_settings vs;
  smbx_vmo_settings_default(&vs, sizeof vs);
  vs.max_objects = PIN_OBJS;
  vs.max_pins = PIN_N;
  uint32_t seed = 7;
  int rc = smbx_vmo_new(&p->tbl, &vs, &t, vmo_random, &seed, NULL);
  for (uint32_t o = 0; o < PIN_OBJS && !rc; o++) {
    smbx_vmo_block b = {p->mem[o], sizeof p->mem[o]};
    uint64_t sess = 1, id = 0, open = 0;
    smbx_vmo_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.blocks = &b;
    sp.n_blocks = 1;
    sp.access = SMBX_VMO_READ;
    sp.sessions = &sess;
    sp.n_sessions = 1;
    uint8_t name[2 * SMBX_VMO_PATH_MAX];
    size_t nl = 0;
    rc = smbx_vmo_create(p->tbl, &sp, &id) ||
         smbx_vmo_path(p->tbl, id, NULL, 0, NULL, name, sizeof name, &nl) ||
         smbx_vmo_open(p->tbl, name, nl, 1, NULL, 0, SMBX_VMO_READ, &open);
    for (uint32_t k = 0; k < PIN_N / PIN_OBJS && !rc; k++) {
      smbx_sge sg[1];
      size_t n = 0;
      uint64_t bytes = 0, pin = 0;
      rc = smbx_vmo_map(p->tbl, open, false, k, 1, sg, 1, &n, &bytes, &pin) ||
           smbx__vmo_pin_owner(p->tbl, pin, 1 + o, 100 + k);
    }
  }
  if (rc) {
    smbx_vmo_free(p->tbl);
    free(p);
    return 1;
  }
  *state = p;
  return 0;
}

static void pin_teardown(void *state)
{
  pstate *p = state;
  smbx_vmo_free(p->tbl);
  free(p);
}

static double pin_lookup_run(void *state, uint64_t iters)
{
  pstate *p = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    uint32_t k = (uint32_t)(i * 7919u) % PIN_N;
    uint64_t pin = smbx__vmo_pin_of(p->tbl, 1 + k / (PIN_N / PIN_OBJS),
                                    100 + k % (PIN_N / PIN_OBJS));
    if (!pin)
      abort();
    p->sum += pin;
  }
  uint64_t t = bench_now_ns() - t0;
  bench_clobber(&p->sum);
  return (double)t / (double)iters;
}

static const bench_metric vmo_metrics[] = {
  {.name = "vmo.pull_256m", .unit = "x memcpy", .run = vmo_pull_run,
   .setup = vmo_setup_copy, .teardown = rteardown, .iters = 2,
   .goal = BENCH_GE(0.8)},
  {.name = "vmo.push_256m", .unit = "x memcpy", .run = vmo_push_run,
   .setup = vmo_setup_copy, .teardown = rteardown, .iters = 2,
   .goal = BENCH_GE(0.8)},
  {.name = "vmo.engine_cpu", .unit = "ns/GiB", .run = vmo_engine_run,
   .setup = vmo_setup_engine, .teardown = rteardown, .iters = 2},
  {.name = "vmo.allocs", .unit = "allocs/req", .run = vmo_allocs_run,
   .setup = vmo_setup_engine, .teardown = rteardown, .iters = 2,
   .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "vmo.pin_lookup", .unit = "ns/lookup", .run = pin_lookup_run,
   .setup = pin_setup, .teardown = pin_teardown},
};

BENCH_SUITE_DEFINE(vmo, vmo_metrics);
