/* SPDX-License-Identifier: MIT */
/* smbx-demo: the README's main job. A client node and a server node in
 * one process, joined first by in-memory Direct TCP byte pipes, then by a
 * pair of SMB Direct engines over a tiny in-memory "RDMA" loopback
 * transport. Over each: NEGOTIATE (3.1.1 when the OpenSSL adapter is
 * built in), SESSION_SETUP (NTLMv2 through examples/auth when available,
 * else a two-round fake authenticator), TREE_CONNECT, CREATE, WRITE 1 MiB,
 * READ it back, verify, CLOSE. A third run, over SMB Direct without
 * signing, writes 64 MiB and reads it back by RDMA direct placement (the
 * loopback's RDMA READ/WRITE copy between registered regions, checked
 * like a NIC would) and prints a summary. Exits 0 only when every step
 * succeeded.
 *
 * Everything here is host code: the nodes never do I/O, never read a
 * clock and never authenticate; this program moves the bytes, answers the
 * server's events as a tiny file system and runs the authenticator. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime: the host reads the clock */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbx/client.h>
#include <smbx/server.h>
#include <smbx/smbx.h>

#include "pcapw.h"

#ifdef DEMO_HAVE_OPENSSL
#include "smbx_openssl.h"
#endif
#ifdef DEMO_HAVE_AUTH
#include "sxauth.h"
#endif

#define MIB (1u << 20)

static bool g_quiet;
/* --pcap: every SEND, RDMA operation and Direct-TCP byte, as RoCEv2 /
 * TCP frames (tools/pcap); NULL without it */
static pcapw *g_pcap;
static int g_pcap_err;

static void trace(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
  if (g_quiet)
    return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

static int fail(const char *what, int rc)
{
  fprintf(stderr, "smbx-demo: %s failed: %d (%s)\n", what, rc,
          rc < 0 ? smbx_strerror(rc) : "status");
  return 1;
}

/* ---- byte pipes (Direct TCP) -------------------------------------------- */

typedef struct pipe_buf {
  uint8_t *p;
  size_t len, cap, off;
  uint64_t total;
  int dir; /* capture direction: 0 client -> server, 1 server -> client */
} pipe_buf;

static int pipe_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  pipe_buf *q = ud;
  if (q->len + n > q->cap) {
    size_t c = q->cap ? q->cap : 65536;
    while (c < q->len + n)
      c *= 2;
    uint8_t *np = realloc(q->p, c);
    if (!np)
      return SMBX_ERR_NOMEM;
    q->p = np;
    q->cap = c;
  }
  memcpy(q->p + q->len, b, n);
  q->len += n;
  q->total += n;
  if (g_pcap && pcapw_tcp(g_pcap, q->dir, b, n))
    g_pcap_err = 1;
  return 0;
}

/* ---- a tiny in-memory RDMA loopback for SMB Direct ---------------------- */

#define LB_WR 1024
#define LB_MR 512

typedef struct lb_side {
  struct lb_side *peer;
  int dir; /* capture direction of what this side sends (0 = client) */
  struct {
    uint64_t wr_id;
    smbx_sge sge;
  } rq[LB_WR];
  size_t rq_head, rq_n;
  struct {
    smbx_wc wc;
    int recv;
  } cq[2 * LB_WR];
  size_t cq_head, cq_n;
  uint64_t next_mr;
  uint64_t sends, bytes;
  /* registrations, checked by every RDMA operation like a NIC would */
  struct {
    uint8_t *addr;
    size_t len;
    uint32_t key, access;
    bool live, invalidated;
  } mr[LB_MR];
  uint64_t rdma_reads, rdma_writes, rdma_bytes, invalidations;
  /* zero copy by identity: bytes an RDMA operation moved straight between
   * [local_lo, local_hi) (the server host's file) and [peer_lo, peer_hi)
   * (the client caller's buffers) */
  const uint8_t *local_lo, *local_hi, *peer_lo, *peer_hi;
  uint64_t direct_bytes;
} lb_side;

static void lb_complete(lb_side *s, const smbx_wc *wc, int recv)
{
  size_t at = (s->cq_head + s->cq_n) % (2 * LB_WR);
  s->cq[at].wc = *wc;
  s->cq[at].recv = recv;
  s->cq_n++;
}

static int lb_post_recv(void *ud, uint64_t wr_id, const smbx_sge *b)
{
  lb_side *s = ud;
  if (s->rq_n == LB_WR)
    return -1;
  size_t at = (s->rq_head + s->rq_n) % LB_WR;
  s->rq[at].wr_id = wr_id;
  s->rq[at].sge = *b;
  s->rq_n++;
  return 0;
}

static int lb_mr_find(const lb_side *s, uint32_t key);

static int lb_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n, uint32_t flags, uint32_t rkey)
{
  lb_side *s = ud;
  lb_side *d = s->peer;
  if (d->rq_n == 0)
    return -1; /* receiver not ready: a real NIC would RNR */
  smbx_sge *dst = &d->rq[d->rq_head].sge;
  uint64_t rid = d->rq[d->rq_head].wr_id;
  d->rq_head = (d->rq_head + 1) % LB_WR;
  d->rq_n--;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    if (off + sg[i].length > dst->length)
      return -1;
    memcpy((uint8_t *)dst->addr + off, sg[i].addr, sg[i].length);
    off += sg[i].length;
  }
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = rid;
  wc.byte_len = (uint32_t)off;
  if (flags & SMBX_SEND_INVALIDATE) {
    /* SEND_WITH_INVALIDATE: the receiver's key dies with this message */
    int i = lb_mr_find(d, rkey);
    if (i >= 0)
      d->mr[i].invalidated = true;
    wc.flags = SMBX_WC_WITH_INVALIDATE;
    wc.invalidated_rkey = rkey;
    d->invalidations++;
  }
  lb_complete(d, &wc, 1);
  memset(&wc, 0, sizeof wc);
  wc.wr_id = wr_id;
  lb_complete(s, &wc, 0);
  if (g_pcap &&
      ((flags & SMBX_SEND_INVALIDATE)
           ? pcapw_smbd_send_inv(g_pcap, s->dir, rkey, dst->addr, off)
           : pcapw_smbd_send(g_pcap, s->dir, dst->addr, off)))
    g_pcap_err = 1;
  s->sends++;
  s->bytes += off;
  return 0;
}

static int lb_mr_find(const lb_side *s, uint32_t key)
{
  for (int i = 0; i < LB_MR; i++)
    if (s->mr[i].live && s->mr[i].key == key)
      return i;
  return -1;
}

/* RDMA READ (is_read) or WRITE between the poster's registered elements
 * and the peer's registered (raddr, rkey): refused unless the key is live,
 * not invalidated, grants the access and covers the range. */
static int lb_rdma(lb_side *s, int is_read, uint64_t wr_id,
                   const smbx_sge *sg, size_t n, uint64_t raddr,
                   uint32_t rkey)
{
  lb_side *p = s->peer;
  int i = lb_mr_find(p, rkey);
  size_t len = 0;
  for (size_t k = 0; k < n; k++)
    len += sg[k].length;
  uint32_t need = is_read ? SMBX_MR_REMOTE_READ : SMBX_MR_REMOTE_WRITE;
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = wr_id;
  uint64_t base = i < 0 ? 0 : (uint64_t)(uintptr_t)p->mr[i].addr;
  if (i < 0 || p->mr[i].invalidated || !(p->mr[i].access & need) ||
      raddr < base || raddr - base > p->mr[i].len ||
      len > p->mr[i].len - (raddr - base)) {
    wc.status = SMBX_WC_ERROR;
    lb_complete(s, &wc, 0);
    return 0;
  }
  uint8_t *r = p->mr[i].addr + (raddr - base);
  const uint8_t *remote = r;
  bool direct = r >= s->peer_lo && r + len <= s->peer_hi;
  for (size_t k = 0; k < n; k++)
    direct = direct && (const uint8_t *)sg[k].addr >= s->local_lo &&
             (const uint8_t *)sg[k].addr + sg[k].length <= s->local_hi;
  if (direct)
    s->direct_bytes += len;
  for (size_t k = 0; k < n; k++) {
    if (is_read)
      memcpy(sg[k].addr, r, sg[k].length);
    else
      memcpy(r, sg[k].addr, sg[k].length);
    r += sg[k].length;
  }
  if (is_read)
    s->rdma_reads++;
  else
    s->rdma_writes++;
  s->rdma_bytes += len;
  /* the remote range holds the moved bytes now, contiguous */
  if (g_pcap &&
      (is_read ? pcapw_rdma_read(g_pcap, s->dir, raddr, rkey, remote, len)
               : pcapw_rdma_write(g_pcap, s->dir, raddr, rkey, remote, len)))
    g_pcap_err = 1;
  wc.byte_len = (uint32_t)len;
  lb_complete(s, &wc, 0);
  return 0;
}

static int lb_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n, uint64_t addr, uint32_t rkey)
{
  return lb_rdma(ud, 1, wr_id, sg, n, addr, rkey);
}

static int lb_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                         size_t n, uint64_t addr, uint32_t rkey)
{
  return lb_rdma(ud, 0, wr_id, sg, n, addr, rkey);
}

static int lb_register(void *ud, void *addr, size_t len, uint32_t access,
                       smbx_mr *out)
{
  lb_side *s = ud;
  int i = 0;
  while (i < LB_MR && s->mr[i].live)
    i++;
  if (i == LB_MR)
    return -1;
  s->next_mr++;
  s->mr[i].addr = addr;
  s->mr[i].len = len;
  s->mr[i].access = access;
  s->mr[i].key = (uint32_t)(s->next_mr << 9 | (uint64_t)i);
  s->mr[i].live = true;
  s->mr[i].invalidated = false;
  memset(out, 0, sizeof *out);
  out->address = (uint64_t)(uintptr_t)addr;
  out->handle = (uint64_t)i + 1;
  out->key = s->mr[i].key;
  return 0;
}

static void lb_deregister(void *ud, const smbx_mr *mr)
{
  lb_side *s = ud;
  int i = lb_mr_find(s, mr->key);
  if (i >= 0)
    s->mr[i].live = false;
}

static smbx_transport lb_transport(lb_side *s)
{
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = s;
  t.post_send = lb_post_send;
  t.post_recv = lb_post_recv;
  t.rdma_read = lb_rdma_read;
  t.rdma_write = lb_rdma_write;
  t.register_mr = lb_register;
  t.deregister_mr = lb_deregister;
  return t;
}

/* ---- the demo host -------------------------------------------------------- */

typedef struct demo {
  smbx_server *srv;
  smbx_client *cli;
  bool smbd;
  uint64_t sconn, cconn;
  pipe_buf c2s, s2c;
  lb_side lb[2]; /* 0 client, 1 server */
  uint64_t now;
  /* server host: one file (registered memory in the RDMA run) */
  uint8_t *file;
  size_t file_len, file_cap;
  bool rdma;
  smbx_mr file_mr;
  uint32_t smbd_max_send, smbd_max_recv, smbd_credits;
  uint32_t smbd_max_frag, smbd_max_rw;
  uint64_t file_id;
  uint32_t tree_id;
  bool dir_listed; /* the open directory's one listing was returned */
  /* authentication */
  int auth_round;
  uint8_t key[16];
#ifdef DEMO_HAVE_AUTH
  sxauth_server *as;
  sxauth_accept *acc;
  sxauth_client *ac;
#endif
  /* client side: events of interest, bytes copied, in order */
  struct {
    smbx_event e;
    uint8_t *bytes;
    size_t len;
  } q[64];
  size_t qh, qn;
  bool moved;
  smbx_event last; /* the event wait_for() returned */
  uint8_t *last_bytes;
  size_t last_len;
  int err;
} demo;

#define DEMO_DIR_ID 0x7

/* QUERY_DIRECTORY on the root: ".", ".." and the file in one response,
 * then NO_MORE_FILES (until a RESTART_SCANS). */
static int list_dir(demo *d, const smbx_event *e)
{
  smbx_smb2_query_directory_req q;
  uint64_t req = e->u.pdu.req;
  if (smbx_smb2_decode_query_directory_req(e->u.pdu.data, e->u.pdu.len, &q,
                                           NULL) ||
      q.file_id.persistent_id != DEMO_DIR_ID)
    return smbx_server_respond_error(d->srv, e->conn, req,
                                     SMBX_STATUS_INVALID_PARAMETER, NULL, 0,
                                     d->now);
  if (q.flags & SMBX_SMB2_RESTART_SCANS)
    d->dir_listed = false;
  uint8_t buf[1024];
  smbx_smb2_dir_builder b;
  size_t cap = q.output_buffer_length < sizeof buf ? q.output_buffer_length
                                                   : sizeof buf;
  if (smbx_smb2_dir_builder_init(&b, q.info_class, buf, cap))
    return smbx_server_respond_error(d->srv, e->conn, req,
                                     SMBX_STATUS_INVALID_INFO_CLASS, NULL, 0,
                                     d->now);
  static const char *names[] = {".", "..", "demo.bin"};
  for (int i = 0; i < 3 && !d->dir_listed; i++) {
    uint8_t w[32];
    size_t wl = 0;
    (void)smbx_utf8_to_utf16le((const uint8_t *)names[i], strlen(names[i]), w,
                               sizeof w, &wl);
    smbx_smb2_dir_entry de;
    memset(&de, 0, sizeof de);
    de.file_index = (uint32_t)i;
    de.end_of_file = i == 2 ? d->file_len : 0;
    de.allocation_size = i == 2 ? d->file_cap : 0;
    de.file_attributes = i == 2 ? 0x80 : 0x10;
    de.file_id = i == 2 ? d->file_id : DEMO_DIR_ID;
    de.file_name.p = w;
    de.file_name.len = wl;
    if (smbx_smb2_dir_builder_add(&b, &de))
      return smbx_server_respond_error(d->srv, e->conn, req,
                                       SMBX_STATUS_BUFFER_TOO_SMALL, NULL, 0,
                                       d->now);
  }
  if (d->dir_listed || b.count == 0)
    return smbx_server_respond_error(d->srv, e->conn, req,
                                     SMBX_STATUS_NO_MORE_FILES, NULL, 0,
                                     d->now);
  d->dir_listed = true;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_output_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.output.p = buf;
  rs.output.len = b.len;
  uint8_t out[1024 + 128];
  smbx_ssize n =
      smbx_smb2_encode_query_directory_resp(&h, &rs, out, sizeof out, NULL);
  if (n <= 64)
    return SMBX_ERR_NOBUF;
  return smbx_server_respond(d->srv, e->conn, req, 0, out + 64, (size_t)n - 64,
                             d->now);
}

static int srv_answer(demo *d, const smbx_event *e)
{
  uint8_t out[256];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint64_t req = e->u.pdu.req;
  if (e->flags & SMBX_EVF_RDMA) {
    /* direct placement: hand over where the data is / goes; the node
     * moves it by RDMA (READ answers itself, WRITE comes back as
     * SMBX_EV_RDMA_DONE) */
    uint64_t off = 0;
    if (e->u.pdu.hdr.command == SMBX_SMB2_READ) {
      smbx_smb2_read_req r;
      if (smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &r, NULL))
        return SMBX_ERR_PROTO;
      off = r.offset;
    } else {
      smbx_smb2_write_req w;
      if (smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len, &w, NULL))
        return SMBX_ERR_PROTO;
      off = w.offset;
    }
    uint32_t len = e->u.pdu.rdma_length;
    if (off > d->file_cap || len > d->file_cap - off)
      return smbx_server_respond_error(d->srv, e->conn, req,
                                       SMBX_STATUS_DISK_FULL, NULL, 0, d->now);
    smbx_sge sg = {d->file + off, len, 0, d->file_mr.handle};
    if (e->u.pdu.hdr.command == SMBX_SMB2_READ)
      return smbx_server_rdma_push(d->srv, e->conn, req, &sg, 1, d->now);
    if (off + len > d->file_len)
      d->file_len = (size_t)(off + len);
    return smbx_server_rdma_pull(d->srv, e->conn, req, &sg, 1, d->now);
  }
  switch (e->u.pdu.hdr.command) {
  case SMBX_SMB2_CREATE: {
    smbx_smb2_create_req c;
    if (smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &c, NULL))
      return smbx_server_respond_error(d->srv, e->conn, req,
                                       SMBX_STATUS_INVALID_PARAMETER, NULL, 0,
                                       d->now);
    /* an empty name is the share's root: the one directory */
    bool root = c.name.len == 0;
    smbx_smb2_create_resp r;
    memset(&r, 0, sizeof r);
    r.create_action = root ? 1 : 2;
    r.file_attributes = root ? 0x10 : 0x80;
    r.end_of_file = root ? 0 : d->file_len;
    r.file_id.persistent_id = root ? DEMO_DIR_ID : d->file_id;
    r.file_id.volatile_id = ~r.file_id.persistent_id;
    if (root)
      d->dir_listed = false;
    smbx_ssize n = smbx_smb2_encode_create_resp(&h, &r, out, sizeof out, NULL);
    return smbx_server_respond(d->srv, e->conn, req, 0, out + 64,
                               (size_t)n - 64, d->now);
  }
  case SMBX_SMB2_WRITE: {
    smbx_smb2_write_req w;
    int rc = smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len, &w, NULL);
    if (rc || w.offset + w.data.len > MIB)
      return smbx_server_respond_error(d->srv, e->conn, req,
                                       SMBX_STATUS_INVALID_PARAMETER, NULL, 0,
                                       d->now);
    memcpy(d->file + w.offset, w.data.p, w.data.len);
    if (w.offset + w.data.len > d->file_len)
      d->file_len = (size_t)(w.offset + w.data.len);
    smbx_smb2_write_resp r;
    memset(&r, 0, sizeof r);
    r.count = (uint32_t)w.data.len;
    smbx_ssize n = smbx_smb2_encode_write_resp(&h, &r, out, sizeof out, NULL);
    return smbx_server_respond(d->srv, e->conn, req, 0, out + 64,
                               (size_t)n - 64, d->now);
  }
  case SMBX_SMB2_READ: {
    smbx_smb2_read_req r;
    int rc = smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &r, NULL);
    if (rc || r.offset >= d->file_len)
      return smbx_server_respond_error(d->srv, e->conn, req,
                                       SMBX_STATUS_END_OF_FILE, NULL, 0,
                                       d->now);
    size_t n = d->file_len - (size_t)r.offset;
    if (n > r.length)
      n = r.length;
    smbx_smb2_read_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.data.len = n; /* data.p NULL: fixed part only, data gathered below */
    (void)smbx_smb2_encode_read_resp(&h, &rs, out, sizeof out, NULL);
    smbx_iov iov[2] = {{out + 64, 16}, {d->file + r.offset, n}};
    return smbx_server_respond_iov(d->srv, e->conn, req, 0, iov, 2, d->now);
  }
  case SMBX_SMB2_QUERY_DIRECTORY:
    return list_dir(d, e);
  case SMBX_SMB2_CLOSE: {
    smbx_smb2_close_resp r;
    memset(&r, 0, sizeof r);
    smbx_ssize n = smbx_smb2_encode_close_resp(&h, &r, out, sizeof out, NULL);
    return smbx_server_respond(d->srv, e->conn, req, 0, out + 64,
                               (size_t)n - 64, d->now);
  }
  default:
    return smbx_server_respond_error(d->srv, e->conn, req,
                                     SMBX_STATUS_NOT_SUPPORTED, NULL, 0,
                                     d->now);
  }
}

static int srv_session(demo *d, const smbx_event *e)
{
#ifdef DEMO_HAVE_AUTH
  if (d->as) {
    if (!d->acc && sxauth_accept_new(&d->acc, d->as) != 0)
      return SMBX_ERR_NOMEM;
    const uint8_t *out = NULL;
    size_t out_len = 0;
    int st = sxauth_accept_step(d->acc, e->u.session.blob,
                                e->u.session.blob_len, &out, &out_len);
    if (st == SXAUTH_CONTINUE)
      return smbx_server_session_respond(
          d->srv, e->conn, e->u.session.req,
          SMBX_STATUS_MORE_PROCESSING_REQUIRED, out, out_len, NULL, 0, 0,
          d->now);
    if (st != SXAUTH_DONE) {
      trace("  server: NTLM failed: %s\n", sxauth_accept_error(d->acc));
      return smbx_server_session_respond(d->srv, e->conn, e->u.session.req,
                                         SMBX_STATUS_LOGON_FAILURE, NULL, 0,
                                         NULL, 0, 0, d->now);
    }
    sxauth_result r;
    (void)sxauth_accept_result(d->acc, &r);
    trace("  server: NTLMv2 logon of '%s' (%s)\n", r.user,
          r.has_key ? "session key" : "no key");
    return smbx_server_session_respond(
        d->srv, e->conn, e->u.session.req, SMBX_STATUS_SUCCESS, out, out_len,
        r.has_key ? r.session_key : NULL, r.has_key ? 16 : 0,
        r.session_flags, d->now);
  }
#endif
  /* fake authenticator: two challenge rounds, then a fixed key */
  if (d->auth_round < 2) {
    d->auth_round++;
    return smbx_server_session_respond(
        d->srv, e->conn, e->u.session.req,
        SMBX_STATUS_MORE_PROCESSING_REQUIRED, (const uint8_t *)"challenge", 9,
        NULL, 0, 0, d->now);
  }
  return smbx_server_session_respond(d->srv, e->conn, e->u.session.req,
                                     SMBX_STATUS_SUCCESS, NULL, 0, d->key, 16,
                                     0, d->now);
}

static void srv_drain(demo *d)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(d->srv, &e) == 1) {
    int rc = 0;
    switch (e.type) {
    case SMBX_EV_NEGOTIATED:
      trace("  server: negotiated dialect %x.%x.%x\n",
            e.u.negotiated.dialect >> 8, (e.u.negotiated.dialect >> 4) & 15,
            e.u.negotiated.dialect & 15);
      break;
    case SMBX_EV_SESSION_SETUP:
      rc = srv_session(d, &e);
      break;
    case SMBX_EV_TREE_CONNECT: {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
      r.maximal_access = 0x1F01FF;
      rc = smbx_server_tree_respond(d->srv, e.conn, e.u.tree.req, 0, &r,
                                    d->now, &d->tree_id);
      break;
    }
    case SMBX_EV_REQUEST:
      rc = srv_answer(d, &e);
      break;
    case SMBX_EV_RDMA_DONE:
      if (e.u.pdu.err) {
        rc = e.u.pdu.err;
      } else if (e.u.pdu.hdr.command == SMBX_SMB2_WRITE) {
        /* the data is in the file: answer the WRITE */
        uint8_t out[128];
        smbx_smb2_hdr h;
        memset(&h, 0, sizeof h);
        smbx_smb2_write_resp r;
        memset(&r, 0, sizeof r);
        r.count = e.u.pdu.rdma_length;
        smbx_ssize n = smbx_smb2_encode_write_resp(&h, &r, out, sizeof out,
                                                   NULL);
        rc = smbx_server_respond(d->srv, e.conn, e.u.pdu.req, 0, out + 64,
                                 (size_t)n - 64, d->now);
      }
      break;
    case SMBX_EV_CONN_DOWN:
      if (e.u.down.err)
        trace("  server: connection down: %s\n", e.u.down.reason);
      break;
    default:
      break;
    }
    if (rc < 0 && !d->err)
      d->err = rc;
  }
}

static void cli_drain(demo *d)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(d->cli, &e) == 1) {
    const uint8_t *p = NULL;
    size_t n = 0;
    if (e.type == SMBX_EV_RESPONSE) {
      p = e.u.pdu.data;
      n = e.u.pdu.len;
    } else if (e.type == SMBX_EV_SESSION_SETUP) {
      p = e.u.session.blob;
      n = e.u.session.blob_len;
    } else if (e.type == SMBX_EV_NEGOTIATED) {
      p = e.u.negotiated.blob;
      n = e.u.negotiated.blob_len;
    } else if (e.type == SMBX_EV_CONN_DOWN) {
      if (e.u.down.err)
        trace("  client: connection down: %s\n", e.u.down.reason);
      if (!d->err)
        d->err = e.u.down.err ? e.u.down.err : SMBX_ERR_CLOSED;
    }
    if ((e.type == SMBX_EV_RESPONSE || e.type == SMBX_EV_SESSION_SETUP ||
         e.type == SMBX_EV_NEGOTIATED || e.type == SMBX_EV_TREE_CONNECT ||
         e.type == SMBX_EV_SESSION_UP || e.type == SMBX_EV_CONN_UP) &&
        d->qn < 64) {
      size_t at = (d->qh + d->qn++) % 64;
      d->q[at].e = e;
      d->q[at].bytes = NULL;
      d->q[at].len = 0;
      if (n && (d->q[at].bytes = malloc(n)) != NULL) {
        memcpy(d->q[at].bytes, p, n);
        d->q[at].len = n;
      }
      d->moved = true;
    }
    if (e.hold)
      (void)smbx_client_release(d->cli, e.conn, e.hold, d->now);
  }
}

static bool feed(demo *d, pipe_buf *q, bool to_server)
{
  if (q->off == q->len)
    return false;
  smbx_ssize r = to_server ? smbx_server_tcp_feed(d->srv, d->sconn,
                                                  q->p + q->off,
                                                  q->len - q->off, d->now)
                           : smbx_client_tcp_feed(d->cli, d->cconn,
                                                  q->p + q->off,
                                                  q->len - q->off, d->now);
  if (r < 0) {
    if (!d->err)
      d->err = (int)r;
    q->off = q->len;
    return true;
  }
  q->off += (size_t)r;
  return r > 0;
}

static bool lb_poll(demo *d)
{
  bool moved = false;
  for (int i = 0; i < 2; i++) {
    lb_side *s = &d->lb[i];
    while (s->cq_n) {
      smbx_wc wc = s->cq[s->cq_head].wc;
      int recv = s->cq[s->cq_head].recv;
      s->cq_head = (s->cq_head + 1) % (2 * LB_WR);
      s->cq_n--;
      moved = true;
      int rc;
      if (i == 0)
        rc = recv ? smbx_client_recv(d->cli, d->cconn, &wc, d->now)
                  : smbx_client_send_done(d->cli, d->cconn, &wc, d->now);
      else if (smbx_wr_id_kind(wc.wr_id) == SMBX_WR_KIND_RDMA)
        rc = smbx_server_rdma_done(d->srv, d->sconn, &wc, d->now);
      else
        rc = recv ? smbx_server_recv(d->srv, d->sconn, &wc, d->now)
                  : smbx_server_send_done(d->srv, d->sconn, &wc, d->now);
      if (rc < 0 && !d->err)
        d->err = rc;
    }
  }
  return moved;
}

/* Moves bytes and events until nothing moves; a feed buffer is reset only
 * when the node holds nothing in it. */
static void pump(demo *d)
{
  for (int i = 0; i < 1000000; i++) {
    bool moved = false;
    d->moved = false;
    if (d->smbd) {
      moved |= lb_poll(d);
    } else {
      moved |= feed(d, &d->c2s, true);
    }
    srv_drain(d);
    if (!d->smbd)
      moved |= feed(d, &d->s2c, false);
    cli_drain(d);
    if (d->moved)
      moved = true;
    if (!d->smbd) {
      smbx_conn_info ci;
      ci.struct_size = sizeof ci;
      if (d->c2s.off == d->c2s.len &&
          smbx_server_conn_info(d->srv, d->sconn, &ci) == 0 && ci.holds == 0)
        d->c2s.len = d->c2s.off = 0;
      if (d->s2c.off == d->s2c.len &&
          smbx_client_conn_info(d->cli, d->cconn, &ci) == 0 && ci.holds == 0)
        d->s2c.len = d->s2c.off = 0;
    }
    if (!moved || d->err)
      return;
  }
}

/* The next logged client event of `type` (earlier ones are skipped). */
static const smbx_event *wait_for(demo *d, uint32_t type)
{
  for (int i = 0; i < 1000 && !d->err; i++) {
    while (d->qn) {
      size_t at = d->qh;
      d->qh = (d->qh + 1) % 64;
      d->qn--;
      free(d->last_bytes);
      d->last = d->q[at].e;
      d->last_bytes = d->q[at].bytes;
      d->last_len = d->q[at].len;
      if (d->last.type == type)
        return &d->last;
    }
    pump(d);
    if (!d->qn)
      break;
  }
  return NULL;
}

static int session(demo *d, uint64_t *sess)
{
  const uint8_t *blob = (const uint8_t *)"hello";
  size_t blob_len = 5;
  bool ntlm = false;
#ifdef DEMO_HAVE_AUTH
  if (d->ac) {
    ntlm = true;
    if (sxauth_client_step(d->ac, d->last_bytes, d->last_len, &blob,
                           &blob_len) != SXAUTH_CONTINUE)
      return fail("NTLM negotiate", -1);
  }
#endif
  *sess = 0;
  int rounds = 0;
  for (;;) {
    int rc = smbx_client_session_setup(d->cli, d->cconn, sess, blob, blob_len,
                                       d->now);
    if (rc)
      return fail("session setup", rc);
    const smbx_event *e = wait_for(d, SMBX_EV_SESSION_SETUP);
    if (!e)
      return fail("session setup response", d->err);
    if (e->u.session.err)
      return fail("session setup", e->u.session.err);
    if (e->u.session.status == SMBX_STATUS_SUCCESS)
      break;
    if (e->u.session.status != SMBX_STATUS_MORE_PROCESSING_REQUIRED)
      return fail("session setup status", (int)e->u.session.status);
    rounds++;
#ifdef DEMO_HAVE_AUTH
    if (ntlm) {
      if (sxauth_client_step(d->ac, d->last_bytes, d->last_len, &blob,
                             &blob_len) < 0)
        return fail("NTLM authenticate", -1);
      uint8_t key[16];
      if (sxauth_client_session_key(d->ac, key) == 0)
        (void)smbx_client_session_key(d->cli, *sess, key, 16, d->now);
      continue;
    }
#endif
    blob = (const uint8_t *)"response";
    blob_len = 8;
    if (rounds == 2)
      (void)smbx_client_session_key(d->cli, *sess, d->key, 16, d->now);
  }
#ifdef DEMO_HAVE_AUTH
  if (ntlm && sxauth_client_step(d->ac, d->last_bytes, d->last_len, &blob,
                                 &blob_len) != SXAUTH_DONE)
    return fail("NTLM final", -1);
#endif
  pump(d);
  trace("  session: %s, %d MORE_PROCESSING round(s), SUCCESS\n",
        ntlm ? "NTLMv2 (examples/auth)" : "fake authenticator", rounds);
  return 0;
}

/* Allocations the nodes make (the data path must make none). */
static uint64_t g_allocs;
static void *count_alloc(size_t size, size_t align, void *ud)
{
  (void)ud;
  const smbx_allocator *a = smbx_allocator_default();
  g_allocs++;
  return a->alloc(size, align, a->user_data);
}
static void count_free(void *p, size_t size, size_t align, void *ud)
{
  (void)ud;
  const smbx_allocator *a = smbx_allocator_default();
  a->free(p, size, align, a->user_data);
}

static double seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CLOSE of an open; 0 or 1 (printed). */
static int close_file(demo *d, uint64_t sess, uint32_t tree,
                      smbx_smb2_fileid fid, const char *what)
{
  uint64_t req;
  int rc = smbx_client_close(d->cli, d->cconn, sess, tree, fid, 0, d->now,
                             &req);
  if (rc)
    return fail(what, rc);
  const smbx_event *e = wait_for(d, SMBX_EV_RESPONSE);
  if (!e || e->u.pdu.err || e->u.pdu.status)
    return fail(what, e ? (e->u.pdu.err ? e->u.pdu.err
                                         : (int)e->u.pdu.status)
                        : d->err);
  return 0;
}

/* Opens the share's root, lists it (QUERY_DIRECTORY until
 * NO_MORE_FILES), prints the entries and closes it. */
static int list_root(demo *d, uint64_t sess, uint32_t tree)
{
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x100081; /* LIST_DIRECTORY | READ_ATTRIBUTES | SYNC */
  c.share_access = 7;
  c.create_disposition = 1;    /* OPEN */
  c.create_options = 1;        /* DIRECTORY_FILE */
  uint64_t req;
  int rc = smbx_client_create(d->cli, d->cconn, sess, tree, &c, d->now, &req);
  if (rc)
    return fail("open directory", rc);
  const smbx_event *e = wait_for(d, SMBX_EV_RESPONSE);
  smbx_smb2_create_resp cr;
  if (!e || e->u.pdu.err || e->u.pdu.status ||
      smbx_smb2_decode_create_resp(d->last_bytes, d->last_len, &cr, NULL))
    return fail("open directory", e ? (int)e->u.pdu.status : d->err);
  uint8_t star[2] = {'*', 0};
  unsigned entries = 0, rounds = 0;
  trace("  directory listing of \\\\loopback\\demo "
        "(QUERY_DIRECTORY, FileIdBothDirectoryInformation):\n");
  for (;;) {
    smbx_smb2_query_directory_req q;
    memset(&q, 0, sizeof q);
    q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
    q.flags = rounds == 0 ? SMBX_SMB2_RESTART_SCANS : 0;
    q.file_id = cr.file_id;
    q.file_name.p = star;
    q.file_name.len = sizeof star;
    q.output_buffer_length = 65536;
    if ((rc = smbx_client_query_directory(d->cli, d->cconn, sess, tree, &q,
                                          d->now, &req)))
      return fail("query directory", rc);
    rounds++;
    e = wait_for(d, SMBX_EV_RESPONSE);
    if (!e || e->u.pdu.err)
      return fail("query directory", e ? e->u.pdu.err : d->err);
    if (e->u.pdu.status == SMBX_STATUS_NO_MORE_FILES)
      break;
    smbx_smb2_output_resp out;
    smbx_smb2_dir_iter it;
    smbx_smb2_dir_entry de;
    if (e->u.pdu.status ||
        smbx_smb2_decode_query_directory_resp(d->last_bytes, d->last_len,
                                              &out, NULL) ||
        smbx_smb2_dir_iter_init(&it, q.info_class, out.output.p,
                                out.output.len))
      return fail("query directory", (int)e->u.pdu.status);
    while ((rc = smbx_smb2_dir_iter_next(&it, &de, NULL)) == 1) {
      uint8_t name[64];
      size_t nl = 0;
      if (smbx_utf16le_to_utf8(de.file_name.p, de.file_name.len, name,
                               sizeof name - 1, &nl))
        nl = 0;
      name[nl] = 0;
      trace("    %-5s %10llu  %s\n",
            (de.file_attributes & 0x10) ? "<DIR>" : "",
            (unsigned long long)de.end_of_file, (const char *)name);
      entries++;
    }
    if (rc < 0)
      return fail("directory entries", rc);
  }
  trace("    %u entries in %u QUERY_DIRECTORY round(s), the last "
        "NO_MORE_FILES\n",
        entries, rounds);
  if (entries != 3)
    return fail("directory listing", -1);
  return close_file(d, sess, tree, cr.file_id, "close directory");
}

/* 64 MiB written and read back by RDMA direct placement, 1 MiB per I/O:
 * the server pulls each WRITE from the caller's buffer and pushes each
 * READ into it; smbx copies none of it. */
static int rdma_run(demo *d, uint64_t sess, uint32_t tree,
                    smbx_smb2_fileid fid)
{
  /* a capture holds every RDMA packet: keep it short */
  const size_t total = (g_pcap ? 2 : 64) * (size_t)MIB;
  /* the caller's buffers: data to write, then room to read it back */
  uint8_t *src = malloc(2 * total), *dst = src + total;
  if (!src)
    return fail("malloc", -2);
  lb_side *nic = &d->lb[1];
  nic->local_lo = d->file;
  nic->local_hi = d->file + d->file_cap;
  nic->peer_lo = src;
  nic->peer_hi = src + 2 * total;
  for (size_t i = 0; i < total; i++)
    src[i] = (uint8_t)(i * 131 + (i >> 12));
  memset(dst, 0, total);
  int rc = 0;
  uint64_t allocs0 = g_allocs;
  double t0 = seconds(), t1 = t0, t2 = t0;
  for (int pass = 0; pass < 2 && !rc; pass++) {
    for (size_t off = 0; off < total && !rc; off += MIB) {
      uint64_t req;
      rc = pass == 0 ? smbx_client_write_from(d->cli, d->cconn, sess, tree,
                                              fid, off, src + off, MIB,
                                              d->now, &req)
                     : smbx_client_read_into(d->cli, d->cconn, sess, tree,
                                             fid, off, dst + off, MIB, d->now,
                                             &req);
      if (rc)
        break;
      const smbx_event *e = wait_for(d, SMBX_EV_RESPONSE);
      if (!e || e->u.pdu.err || e->u.pdu.status ||
          !(e->flags & SMBX_EVF_RDMA) || e->u.pdu.rdma_length != MIB)
        rc = e ? (e->u.pdu.err ? e->u.pdu.err : -1) : d->err ? d->err : -1;
    }
    if (pass == 0)
      t1 = seconds();
    else
      t2 = seconds();
  }
  uint64_t allocs = g_allocs - allocs0;
  bool same = !rc && memcmp(src, dst, total) == 0 &&
              memcmp(d->file, src, total) == 0;
  free(src);
  nic->peer_lo = nic->peer_hi = NULL;
  if (rc)
    return fail("RDMA I/O", rc);
  if (!same) {
    fprintf(stderr, "smbx-demo: RDMA read back differs\n");
    return 1;
  }
  double wt = t1 - t0, rt = t2 - t1;
  unsigned mib = (unsigned)(total / MIB);
  trace("  write %u MiB by RDMA (server RDMA READs the client's buffer): "
        "%.0f MB/s\n",
        mib, wt > 0 ? (double)total / wt / 1e6 : 0.0);
  trace("  read %u MiB back by RDMA (server RDMA WRITEs into it): %.0f "
        "MB/s; identical\n",
        mib, rt > 0 ? (double)total / rt / 1e6 : 0.0);
  if (g_pcap)
    trace("  (--pcap: %u MiB instead of 64 so the capture stays short)\n",
          mib);
  if (close_file(d, sess, tree, fid, "close") || list_root(d, sess, tree))
    return 1;
  smbx_conn_info si, ci;
  si.struct_size = sizeof si;
  ci.struct_size = sizeof ci;
  (void)smbx_server_conn_info(d->srv, d->sconn, &si);
  (void)smbx_client_conn_info(d->cli, d->cconn, &ci);
  trace("  summary:\n");
  trace("    dialect      SMB %x.%x.%x over SMB Direct 1.0, unsigned (direct "
        "placement never carries signed data)\n",
        si.dialect >> 8, (si.dialect >> 4) & 15, si.dialect & 15);
  trace("    SMB Direct   MaxSendSize %u, MaxReceiveSize %u, "
        "MaxFragmentedSize %u, MaxReadWriteSize %u, receive credits %u\n",
        d->smbd_max_send, d->smbd_max_recv, d->smbd_max_frag, d->smbd_max_rw,
        d->smbd_credits);
  trace("    SMB2 credits the client may spend now: %u\n",
        (unsigned)ci.credits);
  trace("    I/O          %u MiB each way in 1 MiB READs/WRITEs, one "
        "SMB_DIRECT_BUFFER_DESCRIPTOR_V1 each, RDMA_V1_INVALIDATE\n",
        mib);
  trace("    speed        write %.0f MB/s, read %.0f MB/s\n",
        wt > 0 ? (double)total / wt / 1e6 : 0.0,
        rt > 0 ? (double)total / rt / 1e6 : 0.0);
  /* every payload byte must have moved in one RDMA operation straight
   * between the host's file and the caller's buffer */
  uint64_t copied = 2 * (uint64_t)total - nic->direct_bytes;
  trace("    RDMA         %llu I/Os, %llu operations (%llu RDMA READ + %llu "
        "RDMA WRITE), %llu payload bytes, %llu copied by smbx\n",
        (unsigned long long)si.rdma_ios, (unsigned long long)si.rdma_ops,
        (unsigned long long)nic->rdma_reads,
        (unsigned long long)nic->rdma_writes,
        (unsigned long long)si.rdma_bytes, (unsigned long long)copied);
  trace("    client       %llu registrations, %llu remote invalidations "
        "(SEND_WITH_INVALIDATE)\n",
        (unsigned long long)ci.rdma_ops,
        (unsigned long long)d->lb[0].invalidations);
  trace("    allocations  %llu by the nodes during the I/O\n",
        (unsigned long long)allocs);
  if (allocs != 0 || copied != 0) {
    fprintf(stderr, "smbx-demo: the data path %s\n",
            allocs ? "allocated" : "copied payload");
    return 1;
  }
  return 0;
}

static int run(demo *d, const char *label)
{
  int rc;
  trace("%s\n", label);
  if (d->smbd) {
    if (!wait_for(d, SMBX_EV_CONN_UP))
      return fail("SMB Direct negotiate", d->err);
    trace("  SMB Direct: transport negotiated\n");
  }
  if ((rc = smbx_client_negotiate(d->cli, d->cconn, d->now)))
    return fail("negotiate", rc);
  const smbx_event *e = wait_for(d, SMBX_EV_NEGOTIATED);
  if (!e || e->u.negotiated.err)
    return fail("negotiate", e ? e->u.negotiated.err : d->err);
  static const char *ciphers[] = {"none", "AES-128-CCM", "AES-128-GCM",
                                  "AES-256-CCM", "AES-256-GCM"};
  static const char *signs[] = {"HMAC-SHA256", "AES-CMAC", "AES-GMAC"};
  trace("  client: dialect %x.%x.%x, cipher %s, signing %s, max read %u\n",
        e->u.negotiated.dialect >> 8, (e->u.negotiated.dialect >> 4) & 15,
        e->u.negotiated.dialect & 15,
        ciphers[e->u.negotiated.cipher <= 4 ? e->u.negotiated.cipher : 0],
        signs[e->u.negotiated.signing_alg <= 2 ? e->u.negotiated.signing_alg
                                               : 0],
        (unsigned)e->u.negotiated.max_read_size);
  uint64_t sess = 0;
  if (session(d, &sess))
    return 1;
  uint64_t req;
  if ((rc = smbx_client_tree_connect(d->cli, d->cconn, sess,
                                     "\\\\loopback\\demo", d->now, &req)))
    return fail("tree connect", rc);
  e = wait_for(d, SMBX_EV_TREE_CONNECT);
  if (!e || e->u.tree.status)
    return fail("tree connect", e ? (int)e->u.tree.status : d->err);
  uint32_t tree = e->u.tree.tree_id;
  trace("  tree connect \\\\loopback\\demo: TreeId %u\n", (unsigned)tree);
  uint8_t name[32];
  size_t nl = 0;
  (void)smbx_utf8_to_utf16le((const uint8_t *)"demo.bin", 8, name, sizeof name,
                             &nl);
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x12019F;
  c.share_access = 3;
  c.create_disposition = 5;
  c.name.p = name;
  c.name.len = nl;
  if ((rc = smbx_client_create(d->cli, d->cconn, sess, tree, &c, d->now,
                               &req)))
    return fail("create", rc);
  e = wait_for(d, SMBX_EV_RESPONSE);
  smbx_smb2_create_resp cr;
  if (!e || e->u.pdu.err || e->u.pdu.status ||
      smbx_smb2_decode_create_resp(d->last_bytes, d->last_len, &cr, NULL))
    return fail("create", e ? e->u.pdu.err : d->err);
  bool signed_ok = (e->flags & SMBX_EVF_VERIFIED) != 0;
  bool encrypted = (e->flags & SMBX_EVF_ENCRYPTED) != 0;
  trace("  create demo.bin: FileId %llx (%s)\n",
        (unsigned long long)cr.file_id.persistent_id,
        encrypted ? "encrypted" : signed_ok ? "signed" : "unsigned");
  if (d->rdma)
    return rdma_run(d, sess, tree, cr.file_id);
  uint8_t *data = malloc(MIB);
  if (!data)
    return fail("malloc", -2);
  for (size_t i = 0; i < MIB; i++)
    data[i] = (uint8_t)(i * 31 + (i >> 8));
  if ((rc = smbx_client_write(d->cli, d->cconn, sess, tree, cr.file_id, 0,
                              data, MIB, d->now, &req))) {
    free(data);
    return fail("write", rc);
  }
  e = wait_for(d, SMBX_EV_RESPONSE);
  smbx_smb2_write_resp wr;
  if (!e || e->u.pdu.status ||
      smbx_smb2_decode_write_resp(d->last_bytes, d->last_len, &wr, NULL) ||
      wr.count != MIB) {
    free(data);
    return fail("write", e ? (int)e->u.pdu.status : d->err);
  }
  trace("  write 1 MiB: CreditCharge %u, %u bytes written\n",
        (unsigned)e->u.pdu.hdr.credit_charge, (unsigned)wr.count);
  if ((rc = smbx_client_read(d->cli, d->cconn, sess, tree, cr.file_id, 0, MIB,
                             d->now, &req))) {
    free(data);
    return fail("read", rc);
  }
  e = wait_for(d, SMBX_EV_RESPONSE);
  smbx_smb2_read_resp rr;
  if (!e || e->u.pdu.status ||
      smbx_smb2_decode_read_resp(d->last_bytes, d->last_len, &rr, NULL) ||
      rr.data.len != MIB || memcmp(rr.data.p, data, MIB) != 0) {
    free(data);
    fprintf(stderr, "smbx-demo: read back differs\n");
    return 1;
  }
  free(data);
  trace("  read 1 MiB back: identical\n");
  if ((rc = smbx_client_close(d->cli, d->cconn, sess, tree, cr.file_id, 0,
                              d->now, &req)))
    return fail("close", rc);
  e = wait_for(d, SMBX_EV_RESPONSE);
  if (!e || e->u.pdu.status)
    return fail("close", e ? (int)e->u.pdu.status : d->err);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  (void)smbx_client_conn_info(d->cli, d->cconn, &ci);
  trace("  close: ok; client holds %u credits, %llu requests, %llu "
        "responses\n",
        (unsigned)ci.credits, (unsigned long long)ci.requests,
        (unsigned long long)ci.responses);
  if (d->smbd)
    trace("  wire: %llu SMB Direct sends client->server, %llu server->client "
          "(%llu + %llu bytes)\n",
          (unsigned long long)d->lb[0].sends,
          (unsigned long long)d->lb[1].sends,
          (unsigned long long)d->lb[0].bytes,
          (unsigned long long)d->lb[1].bytes);
  else
    trace("  wire: %llu bytes client->server, %llu bytes server->client\n",
          (unsigned long long)d->c2s.total, (unsigned long long)d->s2c.total);
  return 0;
}

static int one_run(bool smbd, bool rdma, const smbx_crypto *cr, bool ntlm)
{
  demo d;
  memset(&d, 0, sizeof d);
  d.smbd = smbd;
  d.rdma = rdma;
  d.file_cap = rdma ? 64 * (size_t)MIB : MIB;
  d.file = calloc(1, d.file_cap);
  if (d.file)
    memset(d.file, 0, d.file_cap); /* fault the pages in before timing */
  d.file_id = 0x42;
  d.s2c.dir = 1;
  for (int i = 0; i < 16; i++)
    d.key[i] = (uint8_t)(0x5A ^ i);
  int ret = 1;
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  /* direct placement never carries signed data (smbd.md 4): that run
   * does not require signing */
  if (cr && !rdma)
    ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  smbx_allocator counting = {sizeof counting, count_alloc, NULL, count_free,
                             NULL};
#ifdef DEMO_HAVE_AUTH
  sxauth_crypto *ac = NULL;
  if (ntlm && sxauth_crypto_new(&ac) == 0) {
    sxauth_user u = {"demo", "demo-password", NULL};
    sxauth_server_config sc;
    memset(&sc, 0, sizeof sc);
    sc.users = &u;
    sc.n_users = 1;
    sc.crypto = ac;
    sxauth_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.user = "demo";
    cc.password = "demo-password";
    cc.crypto = ac;
    if (sxauth_server_new(&d.as, &sc) == 0 &&
        sxauth_client_new(&d.ac, &cc) == 0) {
      const uint8_t *b;
      size_t bl;
      if (sxauth_server_negotiate_blob(d.as, &b, &bl) == 0) {
        ss.security_blob = b;
        ss.security_blob_len = bl;
      }
    }
  }
#else
  (void)ntlm;
#endif
  if (!d.file || smbx_server_new(&d.srv, &ss, cr, &counting, 0) ||
      smbx_client_new(&d.cli, &cs, cr, &counting, 0))
    goto out;
  if (smbd) {
    /* each SMB Direct run is its own RC connection in the capture */
    static bool smbd_seen;
    if (g_pcap && smbd_seen && pcapw_roce_reconnect(g_pcap))
      g_pcap_err = 1;
    smbd_seen = true;
    d.lb[0].peer = &d.lb[1];
    d.lb[1].peer = &d.lb[0];
    d.lb[1].dir = 1;
    smbx_transport t0 = lb_transport(&d.lb[0]);
    smbx_transport t1 = lb_transport(&d.lb[1]);
    smbx_smbd_settings st;
    smbx_smbd_settings_default(&st, sizeof st);
    st.recv_credit_max = 64;
    st.send_credit_target = 64;
    st.send_buffers = 2048;
    st.max_fragmented_recv_size = 2 * MIB; /* 1 MiB inline + headers */
    static uint8_t mem[2][64][8192];
    smbx_smbd_recv_buf rb[2][64];
    for (int s = 0; s < 2; s++)
      for (int b = 0; b < 64; b++) {
        rb[s][b].addr = mem[s][b];
        rb[s][b].length = sizeof mem[s][b];
        rb[s][b].reserved = 0;
        rb[s][b].handle = (uint64_t)(s * 64 + b + 1);
      }
    d.smbd_max_send = st.max_send_size;
    d.smbd_max_recv = st.max_recv_size;
    d.smbd_credits = st.recv_credit_max;
    d.smbd_max_frag = st.max_fragmented_recv_size;
    d.smbd_max_rw = st.max_read_write_size;
    /* the server host registers its file memory once */
    if (lb_register(&d.lb[1], d.file, d.file_cap, SMBX_MR_LOCAL_WRITE,
                    &d.file_mr))
      goto out;
    if (smbx_client_add_smbd(d.cli, &st, &t0, rb[0], 64, 0, &d.cconn) ||
        smbx_server_add_smbd(d.srv, &st, &t1, rb[1], 64, 0, &d.sconn) ||
        smbx_server_cm_event(d.srv, d.sconn, SMBX_SMBD_CM_ESTABLISHED, 16, 16,
                             0) ||
        smbx_client_cm_event(d.cli, d.cconn, SMBX_SMBD_CM_ESTABLISHED, 16, 16,
                             0))
      goto out;
    ret = run(&d, rdma ? "SMB2 over SMB Direct, READ/WRITE by RDMA direct "
                         "placement (unsigned):"
                       : "SMB2 over SMB Direct (in-memory RDMA loopback):");
  } else {
    smbx_tcp_hooks hs = {sizeof hs, &d.s2c, pipe_send};
    smbx_tcp_hooks hc = {sizeof hc, &d.c2s, pipe_send};
    if (smbx_server_add_tcp(d.srv, &hs, 0, &d.sconn) ||
        smbx_client_add_tcp(d.cli, &hc, 0, &d.cconn))
      goto out;
    ret = run(&d, "SMB2 over Direct TCP (in-memory byte pipes):");
  }
out:
  smbx_client_free(d.cli);
  smbx_server_free(d.srv);
  free(d.file);
  free(d.c2s.p);
  free(d.s2c.p);
  free(d.last_bytes);
  for (size_t i = 0; i < d.qn; i++)
    free(d.q[(d.qh + i) % 64].bytes);
#ifdef DEMO_HAVE_AUTH
  sxauth_accept_free(d.acc);
  sxauth_client_free(d.ac);
  sxauth_server_free(d.as);
  sxauth_crypto_free(ac);
#endif
  return ret;
}

int main(int argc, char **argv)
{
  const char *pcap_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) {
      g_quiet = true;
    } else if (strcmp(argv[i], "--pcap") == 0 && i + 1 < argc) {
      pcap_path = argv[++i];
    } else {
      fprintf(stderr, "usage: smbx-demo [-q] [--pcap FILE]\n");
      return 2;
    }
  }
  if (pcap_path && !(g_pcap = pcapw_open(pcap_path, NULL))) {
    fprintf(stderr, "smbx-demo: cannot write %s\n", pcap_path);
    return 1;
  }
  trace("smbx %s loopback demo: a client node and a server node in one "
        "process\n",
        smbx_version());
  const smbx_crypto *cr = NULL;
  smbx_crypto table;
#ifdef DEMO_HAVE_OPENSSL
  smbx_openssl *o = NULL;
  char err[256];
  if (smbx_openssl_new(&o, 0, err, sizeof err) == 0) {
    smbx_openssl_crypto(o, &table);
    cr = &table;
    trace("crypto: OpenSSL adapter (examples/crypto): signing, preauth "
          "SHA-512, 3.1.1\n");
  }
#else
  (void)table;
#endif
  if (!cr)
    trace("crypto: none built in: unsigned, 3.0.2 at most\n");
  bool ntlm = false;
#ifdef DEMO_HAVE_AUTH
  ntlm = cr != NULL;
#endif
  int rc = one_run(false, false, cr, ntlm);
  if (rc == 0)
    rc = one_run(true, false, cr, ntlm);
  if (rc == 0)
    rc = one_run(true, true, cr, ntlm);
#ifdef DEMO_HAVE_OPENSSL
  smbx_openssl_free(o);
#endif
  if (g_pcap) {
    uint64_t frames = pcapw_frame_count(g_pcap);
    if (pcapw_close(g_pcap) || g_pcap_err) {
      fprintf(stderr, "smbx-demo: writing %s failed\n", pcap_path);
      rc = 1;
    } else {
      trace("capture: %s, %llu frames (Direct TCP; SMB Direct over RoCEv2, "
            "path MTU 4096, with every RDMA READ/WRITE)\n",
            pcap_path, (unsigned long long)frames);
    }
  }
  trace("%s\n", rc == 0 ? "demo: OK" : "demo: FAILED");
  return rc;
}
