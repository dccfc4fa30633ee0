/* SPDX-License-Identifier: MIT */
/* smbx-migrate: a simulated live migration between two hosts in one
 * process (issue #11, docs/vmo.md "Live migration").
 *
 * Host A (a server node) binds its "guest memory" (several
 * non-contiguous blocks) as a memory object readable only by host B's
 * session, and puts the object's path in a control file on its share
 * that only that session may open. Host B (a client node) reads the
 * control file over its Direct TCP session, binds the same session to an
 * SMB Direct channel (the simulated NIC, tests/sim), opens the object and
 * its `:dirty` stream there and pulls the whole memory with a pipelined
 * transfer (smbx_client_xfer_start: RDMA WRITEs by A straight from the
 * blocks into B's memory). Then A dirties random pages in rounds while B
 * pulls what the dirty stream reports, until a round is small enough;
 * the final round is the stop-and-copy, after which both memories must
 * match (checksum and byte compare). Prints each round (pages, bytes,
 * MB/s) and a summary with the full pull's ratio to memcpy of the same
 * bytes in the same run. Exits 0 only when every step succeeded and the
 * memories match.
 *
 * Everything here is host code: the nodes never do I/O and never read a
 * clock; this program moves bytes between them and the simulated NIC,
 * authenticates with a fixed shared key, and answers A's share. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbx/client.h>
#include <smbx/server.h>
#include <smbx/smbx.h>
#include <smbx/vmo.h>

#include "pcapw.h"
#include "sim.h"
#include "smbx_openssl.h"

#define MIB ((size_t)1 << 20)
#define PAGE 4096u
#define MAX_BLOCKS 16u
#define XFERS 64u       /* dirty runs pulled at once */
#define RESP_SLOTS 64u
#define DONE_SLOTS 256u
#define CTL_NAME "migrate.ctl"
#define SHARE "\\\\hostA\\migrate"

static bool g_quiet;
static pcapw *g_pcap; /* --pcap: every TCP byte, SEND and RDMA operation */
static int g_pcap_err;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
  if (g_quiet)
    return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

static double seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Direct TCP byte pipes ------------------------------------------------ */

typedef struct pipe_buf {
  uint8_t *p;
  size_t len, cap, off;
  int dir; /* capture direction: 0 B -> A, 1 A -> B */
} pipe_buf;

static int pipe_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  pipe_buf *q = ud;
  if (q->len + n > q->cap) {
    size_t c = q->cap ? q->cap : 65536;
    while (c < q->len + n)
      c *= 2;
    uint8_t *p = realloc(q->p, c);
    if (!p)
      return -1;
    q->p = p;
    q->cap = c;
  }
  memcpy(q->p + q->len, b, n);
  q->len += n;
  if (g_pcap && pcapw_tcp(g_pcap, q->dir, b, n))
    g_pcap_err = 1;
  return 0;
}

/* ---- the simulated NIC, captured ------------------------------------------ */

/* sim's hooks for one endpoint, with every SEND and RDMA operation also
 * written to the capture as the wire would carry it */
typedef struct nic_side {
  smbx_transport inner;
  sim *w;
  int dir;
} nic_side;

static uint8_t *g_gather;
static size_t g_gather_cap;

static const uint8_t *gather(const smbx_sge *sg, size_t n, size_t *len)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += sg[i].length;
  if (total > g_gather_cap) {
    uint8_t *p = realloc(g_gather, total);
    if (!p)
      return NULL;
    g_gather = p;
    g_gather_cap = total;
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(g_gather + off, sg[i].addr, sg[i].length);
    off += sg[i].length;
  }
  *len = total;
  return g_gather;
}

static int nic_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                         size_t n, uint32_t flags, uint32_t rkey)
{
  nic_side *s = ud;
  size_t len = 0;
  const uint8_t *m = g_pcap ? gather(sg, n, &len) : NULL;
  if (m && ((flags & SMBX_SEND_INVALIDATE)
                ? pcapw_smbd_send_inv(g_pcap, s->dir, rkey, m, len)
                : pcapw_smbd_send(g_pcap, s->dir, m, len)))
    g_pcap_err = 1;
  return s->inner.post_send(s->inner.user_data, wr_id, sg, n, flags, rkey);
}

static int nic_post_recv(void *ud, uint64_t wr_id, const smbx_sge *b)
{
  nic_side *s = ud;
  return s->inner.post_recv(s->inner.user_data, wr_id, b);
}

static int nic_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg,
                         size_t n, uint64_t raddr, uint32_t rkey)
{
  nic_side *s = ud;
  const sim_mr *mr = g_pcap ? sim_mr_by_key(s->w, rkey) : NULL;
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += sg[i].length;
  uint64_t base = mr ? (uint64_t)(uintptr_t)mr->addr : 0;
  if (mr && raddr >= base && raddr - base <= mr->len &&
      len <= mr->len - (raddr - base) &&
      pcapw_rdma_read(g_pcap, s->dir, raddr, rkey, mr->addr + (raddr - base),
                      len))
    g_pcap_err = 1;
  return s->inner.rdma_read(s->inner.user_data, wr_id, sg, n, raddr, rkey);
}

static int nic_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                          size_t n, uint64_t raddr, uint32_t rkey)
{
  nic_side *s = ud;
  size_t len = 0;
  const uint8_t *d = g_pcap ? gather(sg, n, &len) : NULL;
  if (d && pcapw_rdma_write(g_pcap, s->dir, raddr, rkey, d, len))
    g_pcap_err = 1;
  return s->inner.rdma_write(s->inner.user_data, wr_id, sg, n, raddr, rkey);
}

static int nic_register(void *ud, void *addr, size_t len, uint32_t access,
                        smbx_mr *out)
{
  nic_side *s = ud;
  return s->inner.register_mr(s->inner.user_data, addr, len, access, out);
}

static void nic_deregister(void *ud, const smbx_mr *mr)
{
  nic_side *s = ud;
  s->inner.deregister_mr(s->inner.user_data, mr);
}

static smbx_transport nic_transport(nic_side *s)
{
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = s;
  t.post_send = nic_post_send;
  t.post_recv = nic_post_recv;
  t.rdma_read = nic_rdma_read;
  t.rdma_write = nic_rdma_write;
  t.register_mr = nic_register;
  t.deregister_mr = nic_deregister;
  return t;
}

/* ---- the two hosts ------------------------------------------------------------ */

typedef struct resp {
  bool used;
  uint64_t req;
  int err;
  uint32_t status;
  uint32_t rdma_length;
  uint8_t *data; /* the response PDU (copied) */
  size_t len;
} resp;

typedef struct world {
  uint64_t now; /* virtual clock (the NIC's) */
  int failed;
  /* host A: server node, memory objects, the share's control file */
  smbx_server *srv;
  smbx_vmo_table *tbl;
  uint64_t obj;
  uint8_t *a_alloc;
  size_t a_alloc_len;
  smbx_vmo_block blocks[MAX_BLOCKS];
  size_t n_blocks;
  uint64_t b_wire_session; /* the only session the object and ctl allow */
  char ctl[SMBX_VMO_PATH_MAX];
  size_t ctl_len;
  uint64_t s_tcp, s_rdma;
  /* host B: client node and its memory */
  smbx_client *cli;
  smbx_openssl *ossl;
  uint8_t *b_mem;
  uint64_t c_tcp, c_rdma;
  /* links */
  pipe_buf c2s, s2c;
  sim *w;
  nic_side nic[2];
  smbx_transport t[2];
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rbufs[2][64];
  /* B's view of its events */
  resp resp[RESP_SLOTS];
  smbx_event xdone[DONE_SLOTS];
  size_t xdone_head, xdone_n;
  uint32_t ev_count[32];
  smbx_event ev_last[32];
} world;

static const uint8_t g_key[16] = {0x6d, 0x69, 0x67, 0x72, 0x61, 0x74, 0x65,
                                  0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31,
                                  0x32, 0x33};

static void failf(world *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void failf(world *x, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "smbx-migrate: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  x->failed = 1;
}

/* ---- host A: answers its share ------------------------------------------------ */

static void a_respond_pdu(world *x, const smbx_event *e, const uint8_t *pdu,
                          smbx_ssize n)
{
  if (n < 64 || smbx_server_respond(x->srv, e->conn, e->u.pdu.req, 0,
                                    pdu + 64, (size_t)n - 64, x->now) != 0)
    failf(x, "host A: answering a request failed");
}

static void a_error(world *x, const smbx_event *e, uint32_t st)
{
  if (smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req, st, NULL, 0,
                                x->now) != 0)
    failf(x, "host A: answering a request failed");
}

#define CTL_FILEID 0x4354u /* the control file's FileId */

/* The share holds one file, the control file: only B's session finds it
 * (any other gets the answer a missing name gets). */
static void a_request(world *x, const smbx_event *e)
{
  uint8_t out[256];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  switch (e->u.pdu.hdr.command) {
  case SMBX_SMB2_CREATE: {
    smbx_smb2_create_req r;
    uint8_t name[64];
    size_t nl = 0;
    if (smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &r, NULL) ||
        smbx_utf16le_to_utf8(r.name.p, r.name.len, name, sizeof name, &nl) ||
        nl != strlen(CTL_NAME) || memcmp(name, CTL_NAME, nl) != 0 ||
        e->u.pdu.hdr.session_id != x->b_wire_session) {
      a_error(x, e, SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
      return;
    }
    smbx_smb2_create_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.create_action = 1;
    rs.end_of_file = x->ctl_len;
    rs.allocation_size = x->ctl_len;
    rs.file_attributes = 0x80;
    rs.file_id.persistent_id = CTL_FILEID;
    rs.file_id.volatile_id = CTL_FILEID;
    a_respond_pdu(x, e,
                  out, smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out,
                                                    NULL));
    return;
  }
  case SMBX_SMB2_READ: {
    smbx_smb2_read_req r;
    if (smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &r, NULL) ||
        r.file_id.persistent_id != CTL_FILEID) {
      a_error(x, e, SMBX_STATUS_FILE_CLOSED);
      return;
    }
    if (r.offset >= x->ctl_len) {
      a_error(x, e, SMBX_STATUS_END_OF_FILE);
      return;
    }
    size_t n = x->ctl_len - (size_t)r.offset;
    if (n > r.length)
      n = r.length;
    smbx_smb2_read_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.data.len = n; /* scatter-gather: the fixed part, then the bytes */
    smbx_ssize k = smbx_smb2_encode_read_resp(&h, &rs, out, sizeof out, NULL);
    smbx_iov iov[2] = {{out + 64, (size_t)k - 64},
                       {(const uint8_t *)x->ctl + r.offset, n}};
    if (k < 64 || smbx_server_respond_iov(x->srv, e->conn, e->u.pdu.req, 0,
                                          iov, 2, x->now) != 0)
      failf(x, "host A: answering READ failed");
    return;
  }
  case SMBX_SMB2_CLOSE: {
    smbx_smb2_close_req r;
    if (smbx_smb2_decode_close_req(e->u.pdu.data, e->u.pdu.len, &r, NULL) ||
        r.file_id.persistent_id != CTL_FILEID) {
      a_error(x, e, SMBX_STATUS_FILE_CLOSED);
      return;
    }
    smbx_smb2_close_resp rs;
    memset(&rs, 0, sizeof rs);
    a_respond_pdu(x, e, out,
                  smbx_smb2_encode_close_resp(&h, &rs, out, sizeof out, NULL));
    return;
  }
  default:
    a_error(x, e, SMBX_STATUS_NOT_SUPPORTED);
  }
}

/* One leg proves the peer: its blob names the user (the demo's stand-in
 * for an authenticator), both sides hold g_key. B's first session is the
 * one A lets open its object and control file. */
static void a_session(world *x, const smbx_event *e)
{
  const uint8_t *user = e->u.session.blob;
  size_t ul = e->u.session.blob_len;
  bool binding = e->u.session.req_flags & SMBX_SMB2_SESSION_FLAG_BINDING;
  if (ul == 0 || ul > SMBX_SERVER_USER_MAX ||
      smbx_server_session_user(x->srv, e->conn, e->u.session.req, user, ul) ||
      smbx_server_session_respond(x->srv, e->conn, e->u.session.req,
                                  SMBX_STATUS_SUCCESS, NULL, 0, g_key,
                                  sizeof g_key, 0, x->now)) {
    failf(x, "host A: SESSION_SETUP answer failed");
    return;
  }
  if (!binding && !x->b_wire_session)
    x->b_wire_session = e->u.session.session_id;
}

static void a_tree(world *x, const smbx_event *e)
{
  smbx_smb2_tree_connect_resp r;
  memset(&r, 0, sizeof r);
  r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
  r.maximal_access = 0x1F01FF;
  if (smbx_server_tree_respond(x->srv, e->conn, e->u.tree.req, 0, &r, x->now,
                               NULL))
    failf(x, "host A: TREE_CONNECT answer failed");
}

static bool a_drain(world *x)
{
  bool moved = false;
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(x->srv, &e) == 1) {
    moved = true;
    /* memory objects first: their requests never reach this host */
    int rc = x->tbl ? smbx_server_vmo_route(x->srv, x->tbl, &e, x->now) : 0;
    if (rc == 1)
      continue;
    if (rc < 0) {
      failf(x, "host A: memory object answer failed: %s",
            smbx_strerror(rc));
      continue;
    }
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP:
      a_session(x, &e);
      break;
    case SMBX_EV_TREE_CONNECT:
      a_tree(x, &e);
      break;
    case SMBX_EV_REQUEST:
      a_request(x, &e);
      break;
    case SMBX_EV_CONN_DOWN:
      failf(x, "host A: a connection went down: %s",
            e.u.down.reason ? e.u.down.reason : "?");
      break;
    default:
      if (e.hold)
        (void)smbx_server_release(x->srv, e.conn, e.hold, x->now);
      break;
    }
  }
  return moved;
}

/* ---- host B: its events ----------------------------------------------------------- */

static void b_keep_response(world *x, const smbx_event *e)
{
  resp *r = NULL;
  for (size_t i = 0; i < RESP_SLOTS && !r; i++)
    if (!x->resp[i].used)
      r = &x->resp[i];
  if (!r) {
    failf(x, "host B: too many unclaimed responses");
    return;
  }
  r->used = true;
  r->req = e->u.pdu.req;
  r->err = e->u.pdu.err;
  r->status = e->u.pdu.status;
  r->rdma_length = (e->flags & SMBX_EVF_RDMA) ? e->u.pdu.rdma_length : 0;
  r->len = e->u.pdu.len;
  r->data = r->len ? malloc(r->len) : NULL;
  if (r->len && !r->data) {
    failf(x, "host B: out of memory");
    r->len = 0;
  }
  if (r->data)
    memcpy(r->data, e->u.pdu.data, r->len);
}

static bool b_drain(world *x)
{
  bool moved = false;
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(x->cli, &e) == 1) {
    moved = true;
    if (e.type < 32) {
      x->ev_count[e.type]++;
      x->ev_last[e.type] = e;
    }
    if (e.type == SMBX_EV_RESPONSE) {
      b_keep_response(x, &e);
    } else if (e.type == SMBX_EV_XFER_DONE) {
      if (x->xdone_n == DONE_SLOTS)
        failf(x, "host B: transfer completions overflow");
      else
        x->xdone[(x->xdone_head + x->xdone_n++) % DONE_SLOTS] = e;
    } else if (e.type == SMBX_EV_CONN_DOWN) {
      failf(x, "host B: a connection went down: %s",
            e.u.down.reason ? e.u.down.reason : "?");
    }
    if (e.hold)
      (void)smbx_client_release(x->cli, e.conn, e.hold, x->now);
  }
  return moved;
}

/* ---- moving bytes -------------------------------------------------------------------- */

static bool feed(world *x, pipe_buf *q, bool to_a)
{
  bool moved = false;
  while (q->off < q->len) {
    smbx_ssize r =
        to_a ? smbx_server_tcp_feed(x->srv, x->s_tcp, q->p + q->off,
                                    q->len - q->off, x->now)
             : smbx_client_tcp_feed(x->cli, x->c_tcp, q->p + q->off,
                                    q->len - q->off, x->now);
    if (r < 0) {
      failf(x, "Direct TCP feed failed: %s", smbx_strerror((int)r));
      q->off = q->len;
      return true;
    }
    if (r == 0)
      break;
    q->off += (size_t)r;
    moved = true;
  }
  /* the buffer is reused once the node holds nothing in it */
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  int rc = to_a ? smbx_server_conn_info(x->srv, x->s_tcp, &ci)
                : smbx_client_conn_info(x->cli, x->c_tcp, &ci);
  if (q->off == q->len && (rc != 0 || ci.holds == 0)) {
    q->off = 0;
    q->len = 0;
  }
  return moved;
}

static bool nic_step(world *x)
{
  if (!x->w)
    return false;
  x->w->now = x->now;
  bool moved = sim_deliver(x->w) > 0;
  sim_cqe c;
  while (sim_poll(x->w, 0, &c)) {
    moved = true;
    if (c.is_recv)
      (void)smbx_client_recv(x->cli, x->c_rdma, &c.wc, x->now);
    else
      (void)smbx_client_send_done(x->cli, x->c_rdma, &c.wc, x->now);
  }
  while (sim_poll(x->w, 1, &c)) {
    moved = true;
    if (c.is_recv)
      (void)smbx_server_recv(x->srv, x->s_rdma, &c.wc, x->now);
    else if (smbx_wr_id_kind(c.wc.wr_id) == SMBX_WR_KIND_RDMA)
      (void)smbx_server_rdma_done(x->srv, x->s_rdma, &c.wc, x->now);
    else
      (void)smbx_server_send_done(x->srv, x->s_rdma, &c.wc, x->now);
  }
  return moved;
}

/* Runs both hosts until nothing moves (the virtual clock jumps to the
 * NIC's next delivery when nothing is due). */
static void pump(world *x)
{
  for (uint64_t iter = 0; iter < 100000000u && !x->failed; iter++) {
    bool moved = feed(x, &x->c2s, true);
    moved |= nic_step(x);
    moved |= a_drain(x);
    moved |= feed(x, &x->s2c, false);
    moved |= nic_step(x);
    moved |= a_drain(x);
    moved |= b_drain(x);
    if (moved)
      continue;
    uint64_t next = x->w ? sim_next_time(x->w) : UINT64_MAX;
    if (next == UINT64_MAX)
      return;
    if (next > x->now)
      x->now = next;
  }
  if (!x->failed)
    failf(x, "the hosts never settled");
}

/* The response of B's request `req` (pumping first), or NULL. The slot
 * is freed by claim_done(). */
static resp *wait_resp(world *x, uint64_t req)
{
  pump(x);
  for (size_t i = 0; i < RESP_SLOTS; i++)
    if (x->resp[i].used && x->resp[i].req == req)
      return &x->resp[i];
  failf(x, "host B: no response to request %#llx", (unsigned long long)req);
  return NULL;
}

static void claim_done(resp *r)
{
  free(r->data);
  memset(r, 0, sizeof *r);
}

/* ---- B's steps ------------------------------------------------------------------------- */

static int b_negotiate(world *x, uint64_t conn)
{
  uint32_t before = x->ev_count[SMBX_EV_NEGOTIATED];
  int rc = smbx_client_negotiate(x->cli, conn, x->now);
  pump(x);
  if (rc || x->ev_count[SMBX_EV_NEGOTIATED] != before + 1 ||
      x->ev_last[SMBX_EV_NEGOTIATED].u.negotiated.err) {
    failf(x, "NEGOTIATE failed (%d)", rc);
    return -1;
  }
  return 0;
}

/* CREATE (FILE_OPEN, read) of name: 0 with *status the answer's. */
static int b_create_status(world *x, uint64_t conn, uint64_t sess,
                           uint32_t tree, const char *name,
                           smbx_smb2_fileid *fid, uint32_t *status)
{
  uint8_t w[2 * (SMBX_VMO_PATH_MAX + 16)];
  size_t wl = 0;
  if (smbx_utf8_to_utf16le((const uint8_t *)name, strlen(name), w, sizeof w,
                           &wl))
    return -1;
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x00120089; /* FILE_GENERIC_READ */
  c.share_access = 1;
  c.create_disposition = 1; /* FILE_OPEN */
  c.name.p = w;
  c.name.len = wl;
  uint64_t req = 0;
  if (smbx_client_create(x->cli, conn, sess, tree, &c, x->now, &req))
    return -1;
  resp *r = wait_resp(x, req);
  smbx_smb2_create_resp cr;
  int rc = -1;
  if (r && !r->err) {
    *status = r->status;
    rc = r->status ? 0
         : smbx_smb2_decode_create_resp(r->data, r->len, &cr, NULL) ? -1
                                                                    : 0;
    if (rc == 0 && r->status == 0)
      *fid = cr.file_id;
  }
  if (r)
    claim_done(r);
  return rc;
}

static int b_create(world *x, uint64_t conn, uint64_t sess, uint32_t tree,
                    const char *name, smbx_smb2_fileid *fid)
{
  uint32_t st = 0;
  if (b_create_status(x, conn, sess, tree, name, fid, &st) || st) {
    failf(x, "CREATE %s failed (status %#x)", name, st);
    return -1;
  }
  return 0;
}

/* Another session (user "eve") on B's TCP connection finds neither the
 * control file nor the object: both answer as a name that never existed. */
static int eve_finds_nothing(world *x, const char *path)
{
  uint64_t sess = 0, req = 0;
  uint32_t ups = x->ev_count[SMBX_EV_SESSION_UP];
  uint32_t trees = x->ev_count[SMBX_EV_TREE_CONNECT];
  if (smbx_client_session_setup(x->cli, x->c_tcp, &sess,
                                (const uint8_t *)"eve", 3, x->now) ||
      smbx_client_session_key(x->cli, sess, g_key, sizeof g_key, x->now))
    return -1;
  pump(x);
  if (x->ev_count[SMBX_EV_SESSION_UP] != ups + 1 ||
      smbx_client_tree_connect(x->cli, x->c_tcp, sess, SHARE, x->now, &req))
    return -1;
  pump(x);
  const smbx_event *t = &x->ev_last[SMBX_EV_TREE_CONNECT];
  if (x->ev_count[SMBX_EV_TREE_CONNECT] != trees + 1 || t->u.tree.err ||
      t->u.tree.status)
    return -1;
  const char *names[2] = {CTL_NAME, path};
  for (int i = 0; i < 2; i++) {
    smbx_smb2_fileid f;
    uint32_t st = 0;
    if (b_create_status(x, x->c_tcp, sess, t->u.tree.tree_id, names[i], &f,
                        &st) ||
        st != SMBX_STATUS_OBJECT_NAME_NOT_FOUND) {
      failf(x, "eve's CREATE %s: status %#x, not OBJECT_NAME_NOT_FOUND",
            names[i], st);
      return -1;
    }
  }
  return 0;
}

/* B reads the control file over TCP: the object's path. */
static int b_read_ctl(world *x, uint64_t sess, uint32_t tree, char *path,
                      size_t cap)
{
  smbx_smb2_fileid f;
  if (b_create(x, x->c_tcp, sess, tree, CTL_NAME, &f))
    return -1;
  uint64_t req = 0;
  if (smbx_client_read(x->cli, x->c_tcp, sess, tree, f, 0,
                       (uint32_t)cap - 1, x->now, &req))
    return -1;
  resp *r = wait_resp(x, req);
  smbx_smb2_read_resp rr;
  int rc = -1;
  if (r && r->err == 0 && r->status == 0 &&
      smbx_smb2_decode_read_resp(r->data, r->len, &rr, NULL) == 0 &&
      rr.data.len < cap) {
    memcpy(path, rr.data.p, rr.data.len);
    path[rr.data.len] = 0;
    rc = 0;
  }
  if (r)
    claim_done(r);
  if (smbx_client_close(x->cli, x->c_tcp, sess, tree, f, 0, x->now, &req) ==
      0) {
    r = wait_resp(x, req);
    if (r)
      claim_done(r);
  }
  return rc;
}

/* The dirty record (rec_len bytes) at generation G: its next generation
 * and bitmap. Asked with at least a page: a READ that large moves by RDMA
 * (rdma_threshold), so even a small guest's record never crosses inline. */
static int b_read_dirty(world *x, uint64_t sess, uint32_t tree,
                        smbx_smb2_fileid df, uint64_t g, uint8_t *rec,
                        uint32_t rec_len, uint64_t *next)
{
  uint64_t req = 0;
  uint32_t ask = rec_len < PAGE ? PAGE : rec_len;
  int rc = smbx_client_read_into(x->cli, x->c_rdma, sess, tree, df, g, rec,
                                 ask, x->now, &req);
  if (rc) {
    failf(x, "dirty READ: %s", smbx_strerror(rc));
    return -1;
  }
  resp *r = wait_resp(x, req);
  if (!r)
    return -1;
  rc = -1;
  smbx_smb2_read_resp rr;
  if (r->err || r->status) {
    failf(x, "dirty READ failed (%d, status %#x)", r->err, r->status);
  } else if (r->rdma_length == rec_len) {
    rc = 0; /* placed in rec by RDMA */
  } else if (smbx_smb2_decode_read_resp(r->data, r->len, &rr, NULL) == 0 &&
             rr.data.len == rec_len) {
    memcpy(rec, rr.data.p, rec_len); /* small: inline */
    rc = 0;
  } else {
    failf(x, "dirty READ: short record");
  }
  claim_done(r);
  if (rc == 0) {
    uint64_t gen = 0;
    for (int i = 7; i >= 0; i--)
      gen = (gen << 8) | rec[i];
    *next = gen;
  }
  return rc;
}

typedef struct pull {
  uint64_t bytes, requests, ranges;
  uint32_t max_inflight;
  double secs;
} pull;

/* Pull [off, off+len) ranges: `runs` of (offset, length) pairs, up to
 * XFERS transfers at once. */
static int b_pull(world *x, uint64_t sess, uint32_t tree, smbx_smb2_fileid f,
                  const uint64_t *runs, size_t n_runs, pull *out)
{
  memset(out, 0, sizeof *out);
  double t0 = seconds();
  size_t next = 0, live = 0;
  while ((next < n_runs || live) && !x->failed) {
    while (next < n_runs && live < XFERS) {
      smbx_client_xfer p;
      memset(&p, 0, sizeof p);
      p.struct_size = sizeof p;
      p.conn = x->c_rdma;
      p.session = sess;
      p.tree_id = tree;
      p.file_id = f;
      p.offset = runs[2 * next];
      p.length = runs[2 * next + 1];
      p.buf = x->b_mem + p.offset;
      p.user = next;
      uint64_t h;
      int rc = smbx_client_xfer_start(x->cli, &p, x->now, &h);
      if (rc) {
        failf(x, "transfer start: %s", smbx_strerror(rc));
        return -1;
      }
      next++;
      live++;
    }
    pump(x);
    if (x->xdone_n == 0 && live) {
      failf(x, "transfers stalled");
      return -1;
    }
    while (x->xdone_n) {
      const smbx_event *e = &x->xdone[x->xdone_head];
      x->xdone_head = (x->xdone_head + 1) % DONE_SLOTS;
      x->xdone_n--;
      live--;
      uint64_t want = runs[2 * e->u.xfer.user + 1];
      if (e->u.xfer.err || e->u.xfer.status || e->u.xfer.bytes != want) {
        failf(x, "transfer failed: err %d status %#x, %llu of %llu bytes",
              e->u.xfer.err, e->u.xfer.status,
              (unsigned long long)e->u.xfer.bytes, (unsigned long long)want);
        return -1;
      }
      out->bytes += e->u.xfer.bytes;
      out->requests += e->u.xfer.requests;
      if (e->u.xfer.max_inflight > out->max_inflight)
        out->max_inflight = e->u.xfer.max_inflight;
      out->ranges++;
    }
  }
  out->secs = seconds() - t0;
  return x->failed ? -1 : 0;
}

/* ---- host A's guest -------------------------------------------------------------------- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* The guest byte at object offset off. */
static uint8_t *a_byte(world *x, uint64_t off)
{
  for (size_t i = 0; i < x->n_blocks; i++) {
    if (off < x->blocks[i].length)
      return (uint8_t *)x->blocks[i].addr + off;
    off -= x->blocks[i].length;
  }
  return NULL;
}

/* The guest runs: n random pages get new bytes and are marked dirty. */
static int a_dirty(world *x, uint64_t size, uint64_t n)
{
  uint64_t pages = size / PAGE;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t pg = rnd() % pages;
    uint64_t at = pg * PAGE + (rnd() % (PAGE / 8)) * 8;
    uint64_t v = rnd();
    uint8_t *p = a_byte(x, at);
    memcpy(p, &v, sizeof v); /* 8 bytes never cross a block: blocks are
                                page multiples */
    if (smbx_vmo_mark_dirty(x->tbl, x->obj, at, sizeof v))
      return -1;
  }
  return 0;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

/* ---- the migration ------------------------------------------------------------------------ */

typedef struct opts {
  size_t size_mib;
  uint32_t blocks;
  uint32_t max_rounds;
  uint64_t first_round_pages, small_pages;
  const char *pcap;
} opts;

static int setup_nodes(world *x)
{
  smbx_openssl *o = NULL;
  char err[256];
  if (smbx_openssl_new(&o, 0, err, sizeof err)) {
    fprintf(stderr, "smbx-migrate: OpenSSL: %s\n", err);
    return -1;
  }
  smbx_crypto cr;
  smbx_openssl_crypto(o, &cr);
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  int rc = smbx_server_new(&x->srv, &ss, &cr, NULL, 0);
  if (rc == 0)
    rc = smbx_client_new(&x->cli, &cs, &cr, NULL, 0);
  x->ossl = o; /* the nodes use its state until they are freed */
  return rc;
}

static int connect_smbd(world *x)
{
  x->w = sim_new(1000);
  smbx_smbd_settings st[2];
  for (int k = 0; k < 2; k++) {
    smbx_smbd_settings_default(&st[k], sizeof st[k]);
    st[k].role = k == 0 ? SMBX_SMBD_ROLE_ACTIVE : SMBX_SMBD_ROLE_PASSIVE;
    st[k].recv_credit_max = 64;
    st[k].send_credit_target = 64;
    st[k].send_buffers = 1024;
    x->rmem[k] = calloc(64, st[k].max_recv_size);
    if (!x->rmem[k])
      return -1;
    for (int b = 0; b < 64; b++) {
      x->rbufs[k][b].addr = x->rmem[k] + (size_t)b * st[k].max_recv_size;
      x->rbufs[k][b].length = st[k].max_recv_size;
      x->rbufs[k][b].handle = 0x1000u + (uint64_t)b;
    }
    x->nic[k].inner = sim_transport(x->w, k);
    x->nic[k].w = x->w;
    x->nic[k].dir = k;
    x->t[k] = nic_transport(&x->nic[k]);
  }
  if (smbx_client_add_smbd(x->cli, &st[0], &x->t[0], x->rbufs[0], 64, x->now,
                           &x->c_rdma) ||
      smbx_server_add_smbd(x->srv, &st[1], &x->t[1], x->rbufs[1], 64, x->now,
                           &x->s_rdma) ||
      smbx_client_cm_event(x->cli, x->c_rdma, SMBX_SMBD_CM_ESTABLISHED, 16,
                           16, x->now) ||
      smbx_server_cm_event(x->srv, x->s_rdma, SMBX_SMBD_CM_ESTABLISHED, 16,
                           16, x->now))
    return -1;
  pump(x);
  return x->ev_count[SMBX_EV_CONN_UP] == 1 ? 0 : -1;
}

static int vmo_random(void *ud, uint8_t *buf, size_t len)
{
  (void)ud;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(rnd() >> 24);
  return 0;
}

/* A's guest memory: `blocks` blocks of page-multiple sizes with a gap of
 * one page between any two (never one contiguous range); pairs of blocks
 * differ by a few pages so that 1 MiB READs straddle block edges. */
static int a_bind(world *x, const opts *o, uint64_t size)
{
  uint64_t pages = size / PAGE, per = pages / o->blocks;
  x->a_alloc_len = (size_t)size + (o->blocks - 1) * PAGE;
  x->a_alloc = malloc(x->a_alloc_len);
  if (!x->a_alloc)
    return -1;
  x->n_blocks = o->blocks;
  uint8_t *at = x->a_alloc;
  uint64_t used = 0, skew = per > 8 ? 3 : 0;
  for (uint32_t i = 0; i < o->blocks; i++) {
    uint64_t np = i + 1 == o->blocks ? pages - used
                  : (i % 2 == 0 ? per - skew : per + skew);
    used += np;
    x->blocks[i].addr = at;
    x->blocks[i].length = (size_t)(np * PAGE);
    for (size_t k = 0; k < x->blocks[i].length; k += 8) {
      uint64_t v = rnd();
      memcpy(at + k, &v, 8);
    }
    at += x->blocks[i].length + PAGE;
  }
  smbx_vmo_settings vs;
  smbx_vmo_settings_default(&vs, sizeof vs);
  vs.page_size = PAGE;
  vs.max_sge = 16;
  smbx_vmo_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.struct_size = sizeof sp;
  sp.blocks = x->blocks;
  sp.n_blocks = x->n_blocks;
  sp.access = SMBX_VMO_READ;
  sp.sessions = &x->b_wire_session;
  sp.n_sessions = 1;
  /* the blocks are registered on A's side of the NIC */
  if (smbx_vmo_new(&x->tbl, &vs, &x->t[1], vmo_random, NULL, NULL) ||
      smbx_vmo_create(x->tbl, &sp, &x->obj) ||
      smbx_vmo_path(x->tbl, x->obj, x->ctl, sizeof x->ctl, &x->ctl_len, NULL,
                    0, NULL))
    return -1;
  return 0;
}

static int b_session(world *x, uint64_t *sess, uint32_t *tree)
{
  *sess = 0;
  if (smbx_client_session_setup(x->cli, x->c_tcp, sess,
                                (const uint8_t *)"hostB", 5, x->now) ||
      smbx_client_session_key(x->cli, *sess, g_key, sizeof g_key, x->now))
    return -1;
  pump(x);
  if (x->ev_count[SMBX_EV_SESSION_UP] != 1)
    return -1;
  uint64_t req;
  if (smbx_client_tree_connect(x->cli, x->c_tcp, *sess, SHARE, x->now, &req))
    return -1;
  pump(x);
  const smbx_event *t = &x->ev_last[SMBX_EV_TREE_CONNECT];
  if (x->ev_count[SMBX_EV_TREE_CONNECT] != 1 || t->u.tree.err ||
      t->u.tree.status)
    return -1;
  *tree = t->u.tree.tree_id;
  return 0;
}

static int b_bind(world *x, uint64_t sess)
{
  uint32_t ups = x->ev_count[SMBX_EV_SESSION_UP];
  if (smbx_client_session_bind(x->cli, x->c_rdma, sess,
                               (const uint8_t *)"hostB", 5, x->now) ||
      smbx_client_session_bind_key(x->cli, x->c_rdma, sess, g_key,
                                   sizeof g_key, x->now))
    return -1;
  pump(x);
  return x->ev_count[SMBX_EV_SESSION_UP] == ups + 1 &&
                 x->ev_last[SMBX_EV_SESSION_UP].conn == x->c_rdma
             ? 0
             : -1;
}

/* Runs of set bits in the dirty bitmap as (offset, length) byte ranges. */
static size_t dirty_runs(const uint8_t *bm, uint64_t pages, uint64_t *runs,
                         uint64_t *n_pages)
{
  size_t n = 0;
  *n_pages = 0;
  for (uint64_t p = 0; p < pages;) {
    if (!(bm[p / 8] & (1u << (p % 8)))) {
      p++;
      continue;
    }
    uint64_t s = p;
    while (p < pages && (bm[p / 8] & (1u << (p % 8))))
      p++;
    runs[2 * n] = s * PAGE;
    runs[2 * n + 1] = (p - s) * PAGE;
    *n_pages += p - s;
    n++;
  }
  return n;
}

static double mbs(uint64_t bytes, double secs)
{
  return secs > 0 ? (double)bytes / (double)MIB / secs : 0;
}

/* memcpy of the whole guest (A's blocks into B's memory), best of two */
static double memcpy_secs(world *x)
{
  double best = 0;
  for (int k = 0; k < 2; k++) {
    double t0 = seconds();
    size_t off = 0;
    for (size_t i = 0; i < x->n_blocks; i++) {
      memcpy(x->b_mem + off, x->blocks[i].addr, x->blocks[i].length);
      off += x->blocks[i].length;
    }
    double t = seconds() - t0;
    if (k == 0 || t < best)
      best = t;
  }
  return best;
}

static int migrate(world *x, const opts *o)
{
  uint64_t size = (uint64_t)o->size_mib * MIB;
  uint64_t pages = size / PAGE;
  if (setup_nodes(x)) {
    failf(x, "creating the nodes failed");
    return -1;
  }
  /* B -> A over Direct TCP: the control session */
  x->c2s.dir = 0;
  x->s2c.dir = 1;
  smbx_tcp_hooks hs = {sizeof hs, &x->s2c, pipe_send};
  smbx_tcp_hooks hc = {sizeof hc, &x->c2s, pipe_send};
  uint64_t sess = 0;
  uint32_t tree = 0;
  if (smbx_server_add_tcp(x->srv, &hs, x->now, &x->s_tcp) ||
      smbx_client_add_tcp(x->cli, &hc, x->now, &x->c_tcp) ||
      b_negotiate(x, x->c_tcp) || b_session(x, &sess, &tree)) {
    failf(x, "the TCP session failed");
    return -1;
  }
  say("B: session %#llx up over Direct TCP, tree %u\n",
      (unsigned long long)x->b_wire_session, tree);
  /* A binds its guest memory to an object only B's session may open */
  if (connect_smbd(x) || a_bind(x, o, size)) {
    failf(x, "binding the guest memory failed");
    return -1;
  }
  say("A: %zu MiB of guest memory in %zu blocks -> %.*s\n", o->size_mib,
      x->n_blocks, (int)x->ctl_len, x->ctl);
  char path[SMBX_VMO_PATH_MAX + 16];
  if (b_read_ctl(x, sess, tree, path, sizeof path - 8) ||
      strlen(path) != x->ctl_len) {
    failf(x, "reading the control file failed");
    return -1;
  }
  say("B: read the path from %s over TCP\n", CTL_NAME);
  if (eve_finds_nothing(x, path)) {
    failf(x, "another session's check failed");
    return -1;
  }
  say("eve (another session): %s and the object not found\n", CTL_NAME);
  /* bulk on SMB Direct, bound to the same session */
  smbx_smb2_fileid data, dirty;
  char dpath[sizeof path + sizeof SMBX_VMO_DIRTY_SUFFIX];
  snprintf(dpath, sizeof dpath, "%s%s", path, SMBX_VMO_DIRTY_SUFFIX);
  if (b_negotiate(x, x->c_rdma) || b_bind(x, sess) ||
      b_create(x, x->c_rdma, sess, tree, path, &data) ||
      b_create(x, x->c_rdma, sess, tree, dpath, &dirty)) {
    failf(x, "opening the object over SMB Direct failed");
    return -1;
  }
  say("B: SMB Direct channel bound; object and its dirty stream open\n");
  double mc = memcpy_secs(x);
  memset(x->b_mem, 0, size);
  uint32_t rec_len = SMBX_VMO_DIRTY_HEADER + (uint32_t)((pages + 7) / 8);
  uint8_t *rec = malloc(rec_len < PAGE ? PAGE : rec_len);
  uint64_t *runs = malloc(sizeof *runs * 2 * (pages / 2 + 1));
  if (!rec || !runs) {
    free(rec);
    free(runs);
    failf(x, "out of memory");
    return -1;
  }
  int rc = -1;
  uint64_t gen = 0, total = 0;
  double total_secs = 0;
  pull full;
  /* the generation to ask from after the full pull */
  if (b_read_dirty(x, sess, tree, dirty, 0, rec, rec_len, &gen))
    goto out;
  runs[0] = 0;
  runs[1] = size;
  if (b_pull(x, sess, tree, data, runs, 1, &full))
    goto out;
  total += full.bytes;
  total_secs += full.secs;
  say("round 0 (full): %llu pages, %llu bytes, %llu requests (%u in flight "
      "at most), %.1f MB/s\n",
      (unsigned long long)pages, (unsigned long long)full.bytes,
      (unsigned long long)full.requests, full.max_inflight,
      mbs(full.bytes, full.secs));
  uint64_t dirtying = o->first_round_pages;
  uint32_t round = 1;
  for (;; round++) {
    bool last = dirtying <= o->small_pages || round >= o->max_rounds;
    /* the guest ran during the previous pull; at the last round it is
     * stopped after this: the stop-and-copy */
    if (a_dirty(x, size, dirtying)) {
      failf(x, "marking pages dirty failed");
      goto out;
    }
    uint64_t g2 = 0, n_pages = 0;
    if (b_read_dirty(x, sess, tree, dirty, gen, rec, rec_len, &g2))
      goto out;
    gen = g2;
    size_t n = dirty_runs(rec + SMBX_VMO_DIRTY_HEADER, pages, runs, &n_pages);
    pull pr;
    if (b_pull(x, sess, tree, data, runs, n, &pr))
      goto out;
    total += pr.bytes;
    total_secs += pr.secs;
    say("round %u%s: %llu pages dirty, %zu ranges, %llu bytes, %.1f MB/s\n",
        round, last ? " (stop-and-copy)" : "", (unsigned long long)n_pages, n,
        (unsigned long long)pr.bytes, mbs(pr.bytes, pr.secs));
    if (last)
      break;
    dirtying /= 4;
  }
  /* both memories must match */
  uint64_t ha = 0xCBF29CE484222325ull, hb = ha;
  size_t off = 0;
  bool same = true;
  for (size_t i = 0; i < x->n_blocks; i++) {
    ha = fnv1a(ha, x->blocks[i].addr, x->blocks[i].length);
    same = same && memcmp(x->blocks[i].addr, x->b_mem + off,
                          x->blocks[i].length) == 0;
    off += x->blocks[i].length;
  }
  hb = fnv1a(hb, x->b_mem, size);
  double ratio = mc > 0 ? mbs(full.bytes, full.secs) / mbs(size, mc) : 0;
  printf("smbx-migrate: %zu MiB in %zu blocks, %u rounds after the full "
         "pull, %llu bytes moved in %.3f s; full pull %.1f MB/s = %.2fx "
         "memcpy (%.1f MB/s); checksum A %016llx B %016llx: %s\n",
         o->size_mib, x->n_blocks, round, (unsigned long long)total,
         total_secs, mbs(full.bytes, full.secs), ratio, mbs(size, mc),
         (unsigned long long)ha, (unsigned long long)hb,
         same && ha == hb ? "match" : "MISMATCH");
  if (!same || ha != hb) {
    failf(x, "the memories differ");
    goto out;
  }
  if (x->w->rdma_faults || x->w->violations) {
    failf(x, "the NIC saw %llu refused accesses, %llu violations",
          (unsigned long long)x->w->rdma_faults,
          (unsigned long long)x->w->violations);
    goto out;
  }
  rc = 0;
out:
  free(rec);
  free(runs);
  return rc;
}

static void world_free(world *x)
{
  smbx_client_free(x->cli);
  smbx_server_free(x->srv);
  smbx_vmo_free(x->tbl);
  smbx_openssl_free(x->ossl);
  for (size_t i = 0; i < RESP_SLOTS; i++)
    free(x->resp[i].data);
  if (x->w)
    sim_free(x->w);
  free(x->rmem[0]);
  free(x->rmem[1]);
  free(x->c2s.p);
  free(x->s2c.p);
  free(x->a_alloc);
  free(x->b_mem);
  free(g_gather);
}

static int usage(void)
{
  fprintf(stderr,
          "usage: smbx-migrate [-q] [--size MIB] [--blocks N] [--rounds N] "
          "[--pcap FILE]\n"
          "  --size MIB   guest memory (default 256; 1 with --pcap)\n"
          "  --blocks N   non-contiguous blocks, 1..%u (default 8)\n"
          "  --rounds N   most dirty rounds after the full pull (default 8)\n"
          "  --pcap FILE  write the run's capture (TCP, SMB Direct, RDMA)\n",
          MAX_BLOCKS);
  return 2;
}

int main(int argc, char **argv)
{
  opts o;
  memset(&o, 0, sizeof o);
  o.blocks = 8;
  o.max_rounds = 8;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "-q") == 0) {
      g_quiet = true;
    } else if (strcmp(a, "--size") == 0 && v) {
      o.size_mib = strtoul(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--blocks") == 0 && v) {
      o.blocks = (uint32_t)strtoul(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--rounds") == 0 && v) {
      o.max_rounds = (uint32_t)strtoul(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--pcap") == 0 && v) {
      o.pcap = v;
      i++;
    } else {
      return usage();
    }
  }
  if (o.size_mib == 0)
    o.size_mib = o.pcap ? 1 : 256;
  if (o.blocks == 0 || o.blocks > MAX_BLOCKS || o.max_rounds == 0 ||
      o.size_mib > 4096 || o.size_mib * MIB / PAGE < o.blocks)
    return usage();
  uint64_t pages = o.size_mib * MIB / PAGE;
  o.first_round_pages = pages / 8 ? pages / 8 : 1; /* 1/8 of the guest */
  o.small_pages = pages / 512 ? pages / 512 : 1;
  world *x = calloc(1, sizeof *x);
  if (!x)
    return 1;
  x->b_mem = calloc(1, o.size_mib * MIB);
  if (!x->b_mem) {
    free(x);
    return 1;
  }
  if (o.pcap) {
    g_pcap = pcapw_open(o.pcap, NULL);
    if (!g_pcap) {
      fprintf(stderr, "smbx-migrate: cannot write %s\n", o.pcap);
      free(x->b_mem);
      free(x);
      return 1;
    }
  }
  int rc = migrate(x, &o);
  if (g_pcap && (pcapw_close(g_pcap) != 0 || g_pcap_err)) {
    fprintf(stderr, "smbx-migrate: writing the capture failed\n");
    rc = -1;
  }
  world_free(x);
  free(x);
  return rc == 0 ? 0 : 1;
}
