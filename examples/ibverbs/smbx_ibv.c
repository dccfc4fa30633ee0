/* SPDX-License-Identifier: MIT */
/* smbx_ibv: librdmacm + libibverbs transport for smbx nodes (smbx_ibv.h,
 * docs/ibverbs.md). */
#define _GNU_SOURCE
#include "smbx_ibv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <rdma/rdma_cma.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SGE 16u
#define RDMA_WR_ROOM 256u       /* send-queue room for RDMA READ/WRITE */
#define BIND_WR_ID UINT64_MAX   /* unsignaled memory-window binds */
#define CLOSE_GRACE_NS (5ull * 1000000000ull) /* flushes that never come */
#define CM_RETRY 6              /* transport retries, as Linux cifs/ksmbd */
#define CM_RNR_RETRY 0          /* both Linux peers: RNR is fatal */
#define CLIENT_IRD_MAX 32u      /* responder resources cifs offers */

enum { K_FREE, K_RECV, K_SEND, K_RDMA };

typedef struct wr_slot {
  uint64_t wr_id; /* the engine's */
  uint32_t kind;
  uint32_t next; /* free list */
} wr_slot;

/* A registration handed out as smbx_mr.handle / smbx_sge.handle. Remote
 * access goes through a type-2 memory window when the device has them:
 * only a window (or a fast-registered MR) can be invalidated by the peer's
 * SEND_WITH_INVALIDATE; a plain MR's rkey would break the QP (rxe). */
typedef struct reg {
  struct ibv_mr *mr;
  struct ibv_mw *mw;
} reg;

typedef struct ibv_conn {
  struct smbx_ibv *g;
  struct rdma_cm_id *id;
  struct ibv_pd *pd; /* the glue's */
  struct ibv_comp_channel *cch;
  struct ibv_cq *cq;
  struct ibv_device_attr dattr;
  uint8_t *bufs;
  reg rreg; /* the receive buffers' registration */
  wr_slot *slots;
  uint32_t n_slots, free_slot;
  uint32_t max_sge;
  uint64_t conn; /* the node's handle */
  bool in_node, passive, established, disconnect_sent, closed, no_mw;
  uint64_t down_at;
  uint32_t ird, ord;
  struct ibv_conn *next;
} ibv_conn;

struct smbx_ibv {
  smbx_ibv_node node;
  smbx_ibv_config cfg;
  struct rdma_event_channel *ch;
  struct rdma_cm_id *listen_id;
  struct ibv_context *async_ctx;
  struct ibv_pd *pd; /* one per glue: the host's registrations serve every
                        connection (smbx_ibv_register) */
  ibv_conn *conns;
  uint32_t n_conns;
};

static uint64_t mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void vlog(const smbx_ibv *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vlog(const smbx_ibv *g, const char *fmt, ...)
{
  if (!g->cfg.verbose)
    return;
  va_list ap;
  va_start(ap, fmt);
  fputs("ibv: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static int set_nonblock(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* ---- node adapters ---------------------------------------------------------- */

static int srv_add(void *n, const smbx_smbd_settings *ss,
                   const smbx_transport *t, const smbx_smbd_recv_buf *b,
                   size_t nb, uint64_t now, uint64_t *conn)
{
  return smbx_server_add_smbd(n, ss, t, b, nb, now, conn);
}
static int srv_recv(void *n, uint64_t c, const smbx_wc *wc, uint64_t now)
{
  return smbx_server_recv(n, c, wc, now);
}
static int srv_send_done(void *n, uint64_t c, const smbx_wc *wc, uint64_t now)
{
  return smbx_server_send_done(n, c, wc, now);
}
static int srv_cm(void *n, uint64_t c, uint32_t ev, uint32_t ird, uint32_t ord,
                  uint64_t now)
{
  return smbx_server_cm_event(n, c, ev, ird, ord, now);
}
static int srv_rdma_done(void *n, uint64_t c, const smbx_wc *wc, uint64_t now)
{
  return smbx_server_rdma_done(n, c, wc, now);
}
static int srv_close(void *n, uint64_t c, uint64_t now)
{
  return smbx_server_close_conn(n, c, now);
}

void smbx_ibv_server_node(smbx_server *srv, smbx_ibv_node *out)
{
  memset(out, 0, sizeof *out);
  out->node = srv;
  out->add = srv_add;
  out->recv = srv_recv;
  out->send_done = srv_send_done;
  out->rdma_done = srv_rdma_done;
  out->cm_event = srv_cm;
  out->close = srv_close;
}

static int cli_add(void *n, const smbx_smbd_settings *ss,
                   const smbx_transport *t, const smbx_smbd_recv_buf *b,
                   size_t nb, uint64_t now, uint64_t *conn)
{
  return smbx_client_add_smbd(n, ss, t, b, nb, now, conn);
}
static int cli_recv(void *n, uint64_t c, const smbx_wc *wc, uint64_t now)
{
  return smbx_client_recv(n, c, wc, now);
}
static int cli_send_done(void *n, uint64_t c, const smbx_wc *wc, uint64_t now)
{
  return smbx_client_send_done(n, c, wc, now);
}
static int cli_cm(void *n, uint64_t c, uint32_t ev, uint32_t ird, uint32_t ord,
                  uint64_t now)
{
  return smbx_client_cm_event(n, c, ev, ird, ord, now);
}
static int cli_close(void *n, uint64_t c, uint64_t now)
{
  return smbx_client_close_conn(n, c, now);
}

void smbx_ibv_client_node(smbx_client *cli, smbx_ibv_node *out)
{
  memset(out, 0, sizeof *out);
  out->node = cli;
  out->add = cli_add;
  out->recv = cli_recv;
  out->send_done = cli_send_done;
  out->cm_event = cli_cm;
  out->close = cli_close;
}

/* ---- work-request slots --------------------------------------------------------- */

static int slot_get(ibv_conn *c, uint64_t wr_id, uint32_t kind)
{
  if (c->free_slot == UINT32_MAX)
    return -1;
  uint32_t i = c->free_slot;
  c->free_slot = c->slots[i].next;
  c->slots[i].wr_id = wr_id;
  c->slots[i].kind = kind;
  return (int)i;
}

static void slot_put(ibv_conn *c, uint32_t i)
{
  c->slots[i].kind = K_FREE;
  c->slots[i].next = c->free_slot;
  c->free_slot = i;
}

/* ---- transport hooks -------------------------------------------------------------- */

static int to_ibv_sge(ibv_conn *c, const smbx_sge *sg, size_t n,
                      struct ibv_sge *out)
{
  if (n == 0 || n > c->max_sge)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const reg *r = (const reg *)(uintptr_t)sg[i].handle;
    if (!r || !r->mr)
      return -1;
    out[i].addr = (uint64_t)(uintptr_t)sg[i].addr;
    out[i].length = sg[i].length;
    out[i].lkey = r->mr->lkey;
  }
  return 0;
}

static int post_one(ibv_conn *c, struct ibv_send_wr *wr, uint64_t wr_id,
                    uint32_t kind)
{
  int s = slot_get(c, wr_id, kind);
  if (s < 0) {
    vlog(c->g, "send queue full");
    return -1;
  }
  wr->wr_id = (uint64_t)s;
  wr->send_flags |= IBV_SEND_SIGNALED;
  struct ibv_send_wr *bad = NULL;
  int rc = ibv_post_send(c->id->qp, wr, &bad);
  if (rc) {
    slot_put(c, (uint32_t)s);
    vlog(c->g, "ibv_post_send (opcode %d): %s", wr->opcode, strerror(rc));
    return -1;
  }
  return 0;
}

static int h_post_send(void *ud, uint64_t wr_id, const smbx_sge *sg,
                       size_t n_sg, uint32_t flags, uint32_t inv_rkey)
{
  ibv_conn *c = ud;
  struct ibv_sge s[MAX_SGE];
  if (to_ibv_sge(c, sg, n_sg, s))
    return -1;
  struct ibv_send_wr wr;
  memset(&wr, 0, sizeof wr);
  wr.sg_list = s;
  wr.num_sge = (int)n_sg;
  wr.opcode = IBV_WR_SEND;
  if (flags & SMBX_SEND_INVALIDATE) {
    wr.opcode = IBV_WR_SEND_WITH_INV;
    wr.invalidate_rkey = inv_rkey;
  }
  return post_one(c, &wr, wr_id, K_SEND);
}

static int h_post_recv(void *ud, uint64_t wr_id, const smbx_sge *buf)
{
  ibv_conn *c = ud;
  struct ibv_sge s;
  if (to_ibv_sge(c, buf, 1, &s))
    return -1;
  int slot = slot_get(c, wr_id, K_RECV);
  if (slot < 0)
    return -1;
  struct ibv_recv_wr wr, *bad = NULL;
  memset(&wr, 0, sizeof wr);
  wr.wr_id = (uint64_t)slot;
  wr.sg_list = &s;
  wr.num_sge = 1;
  int rc = ibv_post_recv(c->id->qp, &wr, &bad);
  if (rc) {
    slot_put(c, (uint32_t)slot);
    vlog(c->g, "ibv_post_recv: %s", strerror(rc));
    return -1;
  }
  return 0;
}

static int post_rdma(ibv_conn *c, enum ibv_wr_opcode op, uint64_t wr_id,
                     const smbx_sge *sg, size_t n_sg, uint64_t raddr,
                     uint32_t rkey)
{
  struct ibv_sge s[MAX_SGE];
  if (to_ibv_sge(c, sg, n_sg, s))
    return -1;
  struct ibv_send_wr wr;
  memset(&wr, 0, sizeof wr);
  wr.sg_list = s;
  wr.num_sge = (int)n_sg;
  wr.opcode = op;
  wr.wr.rdma.remote_addr = raddr;
  wr.wr.rdma.rkey = rkey;
  return post_one(c, &wr, wr_id, K_RDMA);
}

static int h_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg,
                       size_t n_sg, uint64_t raddr, uint32_t rkey)
{
  return post_rdma(ud, IBV_WR_RDMA_READ, wr_id, sg, n_sg, raddr, rkey);
}

static int h_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n_sg, uint64_t raddr, uint32_t rkey)
{
  return post_rdma(ud, IBV_WR_RDMA_WRITE, wr_id, sg, n_sg, raddr, rkey);
}

/* Binds a type-2 window over r->mr; the bind is ordered before every later
 * work request on the QP, so the key is usable at once. */
static int bind_window(ibv_conn *c, reg *r, void *addr, size_t len,
                       unsigned remote, uint32_t *rkey)
{
  r->mw = ibv_alloc_mw(c->pd, IBV_MW_TYPE_2);
  if (!r->mw)
    return -1;
  struct ibv_send_wr wr, *bad = NULL;
  memset(&wr, 0, sizeof wr);
  wr.wr_id = BIND_WR_ID;
  wr.opcode = IBV_WR_BIND_MW;
  wr.bind_mw.mw = r->mw;
  wr.bind_mw.rkey = ibv_inc_rkey(r->mw->rkey);
  wr.bind_mw.bind_info.mr = r->mr;
  wr.bind_mw.bind_info.addr = (uint64_t)(uintptr_t)addr;
  wr.bind_mw.bind_info.length = len;
  wr.bind_mw.bind_info.mw_access_flags = remote;
  int rc = ibv_post_send(c->id->qp, &wr, &bad);
  if (rc) {
    vlog(c->g, "memory-window bind: %s (plain MR keys from now on)",
         strerror(rc));
    (void)ibv_dealloc_mw(r->mw);
    r->mw = NULL;
    return -1;
  }
  *rkey = wr.bind_mw.rkey;
  return 0;
}

static int h_register(void *ud, void *addr, size_t len, uint32_t access,
                      smbx_mr *out)
{
  ibv_conn *c = ud;
  unsigned remote = 0;
  if (access & SMBX_MR_REMOTE_WRITE)
    remote |= IBV_ACCESS_REMOTE_WRITE;
  if (access & SMBX_MR_REMOTE_READ)
    remote |= IBV_ACCESS_REMOTE_READ;
  reg *r = calloc(1, sizeof *r);
  if (!r)
    return -1;
  /* windows need a connected QP to be bound on */
  bool window = remote && !c->no_mw && c->established;
  unsigned fl = IBV_ACCESS_LOCAL_WRITE | remote;
  r->mr = ibv_reg_mr(c->pd, addr, len,
                     fl | (window ? (unsigned)IBV_ACCESS_MW_BIND : 0u));
  if (!r->mr && window) {
    window = false;
    r->mr = ibv_reg_mr(c->pd, addr, len, fl);
  }
  if (!r->mr) {
    vlog(c->g, "ibv_reg_mr(%zu bytes): %s", len, strerror(errno));
    free(r);
    return -1;
  }
  memset(out, 0, sizeof *out);
  out->address = (uint64_t)(uintptr_t)addr;
  out->handle = (uint64_t)(uintptr_t)r;
  out->key = r->mr->rkey;
  if (window && bind_window(c, r, addr, len, remote, &out->key) != 0)
    c->no_mw = true;
  return 0;
}

static void h_deregister(void *ud, const smbx_mr *mr)
{
  (void)ud;
  reg *r = (reg *)(uintptr_t)mr->handle;
  if (!r)
    return;
  if (r->mw)
    (void)ibv_dealloc_mw(r->mw);
  if (r->mr)
    (void)ibv_dereg_mr(r->mr);
  free(r);
}

/* ---- connections -------------------------------------------------------------------- */

static void conn_free(smbx_ibv *g, ibv_conn *c, uint64_t now)
{
  for (ibv_conn **pp = &g->conns; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      g->n_conns--;
      break;
    }
  if (c->in_node) /* frees the engine: its send registration goes too */
    (void)g->node.close(g->node.node, c->conn, now);
  if (c->id && c->id->qp)
    rdma_destroy_qp(c->id);
  if (c->cq)
    (void)ibv_destroy_cq(c->cq);
  if (c->cch)
    (void)ibv_destroy_comp_channel(c->cch);
  if (c->rreg.mr)
    (void)ibv_dereg_mr(c->rreg.mr);
  if (c->id)
    (void)rdma_destroy_id(c->id);
  free(c->bufs);
  free(c->slots);
  free(c);
}

/* PD, completion channel, CQ, QP and receive buffers for id. */
static int conn_new(smbx_ibv *g, struct rdma_cm_id *id, ibv_conn **out)
{
  ibv_conn *c = calloc(1, sizeof *c);
  if (!c)
    return -ENOMEM;
  c->g = g;
  c->id = id;
  id->context = c;
  c->next = g->conns;
  g->conns = c;
  g->n_conns++;
  const smbx_smbd_settings *ss = &g->cfg.smbd;
  uint32_t nb = g->cfg.recv_buffers;
  int rc = -EIO;
  if (ibv_query_device(id->verbs, &c->dattr) != 0)
    goto fail;
  uint32_t sq = ss->send_queue_depth + RDMA_WR_ROOM;
  if (sq > (uint32_t)c->dattr.max_qp_wr)
    sq = (uint32_t)c->dattr.max_qp_wr;
  c->max_sge = (uint32_t)c->dattr.max_sge < MAX_SGE ? (uint32_t)c->dattr.max_sge
                                                    : MAX_SGE;
  c->n_slots = sq + nb;
  c->slots = calloc(c->n_slots, sizeof *c->slots);
  c->bufs = aligned_alloc(4096, ((size_t)nb * ss->max_recv_size + 4095) &
                                    ~(size_t)4095);
  if (!c->slots || !c->bufs) {
    rc = -ENOMEM;
    goto fail;
  }
  for (uint32_t i = 0; i < c->n_slots; i++)
    c->slots[i].next = i + 1 < c->n_slots ? i + 1 : UINT32_MAX;
  c->free_slot = 0;
  if (!g->pd)
    g->pd = ibv_alloc_pd(id->verbs);
  if (!g->pd || g->pd->context != id->verbs) {
    vlog(g, "connection on a second RDMA device: not supported");
    goto fail;
  }
  c->pd = g->pd;
  if (!(c->cch = ibv_create_comp_channel(id->verbs)) ||
      set_nonblock(c->cch->fd) != 0 ||
      !(c->cq = ibv_create_cq(id->verbs, (int)c->n_slots, c, c->cch, 0)) ||
      ibv_req_notify_cq(c->cq, 0) != 0)
    goto fail;
  struct ibv_qp_init_attr qa;
  memset(&qa, 0, sizeof qa);
  qa.qp_context = c;
  qa.send_cq = qa.recv_cq = c->cq;
  qa.qp_type = IBV_QPT_RC;
  qa.cap.max_send_wr = sq;
  qa.cap.max_recv_wr = nb;
  qa.cap.max_send_sge = c->max_sge;
  qa.cap.max_recv_sge = 1;
  if (rdma_create_qp(id, c->pd, &qa) != 0) {
    rc = -errno;
    vlog(g, "rdma_create_qp: %s", strerror(errno));
    goto fail;
  }
  c->rreg.mr = ibv_reg_mr(c->pd, c->bufs, (size_t)nb * ss->max_recv_size,
                          IBV_ACCESS_LOCAL_WRITE);
  if (!c->rreg.mr)
    goto fail;
  if (!g->async_ctx && set_nonblock(id->verbs->async_fd) == 0)
    g->async_ctx = id->verbs;
  *out = c;
  return 0;
fail:
  if (id->qp)
    rdma_destroy_qp(id);
  c->id = NULL; /* the caller owns id on failure */
  id->context = NULL;
  conn_free(g, c, 0);
  return rc;
}

/* Adds the connection to the node: the engine registers its send buffers
 * and posts its first receive (before any connect or accept). */
static int conn_add_to_node(smbx_ibv *g, ibv_conn *c, uint64_t now)
{
  uint32_t nb = g->cfg.recv_buffers;
  smbx_smbd_recv_buf *rb = calloc(nb, sizeof *rb);
  if (!rb)
    return -ENOMEM;
  for (uint32_t i = 0; i < nb; i++) {
    rb[i].addr = c->bufs + (size_t)i * g->cfg.smbd.max_recv_size;
    rb[i].length = g->cfg.smbd.max_recv_size;
    rb[i].handle = (uint64_t)(uintptr_t)&c->rreg;
  }
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.user_data = c;
  t.post_send = h_post_send;
  t.post_recv = h_post_recv;
  t.rdma_read = h_rdma_read;
  t.rdma_write = h_rdma_write;
  t.register_mr = h_register;
  t.deregister_mr = h_deregister;
  int rc = g->node.add(g->node.node, &g->cfg.smbd, &t, rb, nb, now, &c->conn);
  free(rb);
  if (rc != 0) {
    vlog(g, "adding the connection to the node: %s", smbx_strerror(rc));
    return -EIO;
  }
  c->in_node = true;
  return 0;
}

static ibv_conn *conn_by_handle(const smbx_ibv *g, uint64_t conn)
{
  for (ibv_conn *c = g->conns; c; c = c->next)
    if (c->in_node && c->conn == conn)
      return c;
  return NULL;
}

static void conn_cm(ibv_conn *c, uint32_t ev, uint64_t now)
{
  if (c->in_node)
    (void)c->g->node.cm_event(c->g->node.node, c->conn, ev, c->ird, c->ord,
                              now);
}

static void conn_disconnect(ibv_conn *c, uint64_t now)
{
  if (c->disconnect_sent)
    return;
  c->disconnect_sent = true;
  c->down_at = now;
  /* moves the QP to error: posted work flushes back to the engine */
  if (rdma_disconnect(c->id) != 0 && c->id->qp) {
    struct ibv_qp_attr a;
    memset(&a, 0, sizeof a);
    a.qp_state = IBV_QPS_ERR;
    (void)ibv_modify_qp(c->id->qp, &a, IBV_QP_STATE);
  }
}

/* ---- completions ------------------------------------------------------------------ */

static void report_wc(ibv_conn *c, const struct ibv_wc *w, uint64_t now)
{
  smbx_ibv *g = c->g;
  if (w->wr_id == BIND_WR_ID || w->wr_id >= c->n_slots) {
    if (w->status != IBV_WC_SUCCESS && w->status != IBV_WC_WR_FLUSH_ERR)
      vlog(g, "memory-window bind failed: %s", ibv_wc_status_str(w->status));
    return;
  }
  wr_slot s = c->slots[w->wr_id];
  if (s.kind == K_FREE)
    return;
  slot_put(c, (uint32_t)w->wr_id);
  smbx_wc x;
  memset(&x, 0, sizeof x);
  x.wr_id = s.wr_id;
  x.status = w->status == IBV_WC_SUCCESS        ? SMBX_WC_SUCCESS
             : w->status == IBV_WC_WR_FLUSH_ERR ? SMBX_WC_FLUSH
                                                : SMBX_WC_ERROR;
  x.byte_len = w->byte_len;
  x.vendor_err = w->vendor_err;
  if (w->status == IBV_WC_SUCCESS && (w->wc_flags & IBV_WC_WITH_INV)) {
    x.flags |= SMBX_WC_WITH_INVALIDATE;
    x.invalidated_rkey = w->invalidated_rkey;
  }
  if (x.status == SMBX_WC_ERROR)
    vlog(g, "conn %llu: %s completion: %s (vendor 0x%x)",
         (unsigned long long)c->conn,
         s.kind == K_RECV ? "receive" : s.kind == K_SEND ? "send" : "RDMA",
         ibv_wc_status_str(w->status), w->vendor_err);
  if (!c->in_node)
    return;
  void *n = g->node.node;
  switch (s.kind) {
  case K_RECV:
    (void)g->node.recv(n, c->conn, &x, now);
    break;
  case K_SEND:
    (void)g->node.send_done(n, c->conn, &x, now);
    break;
  default:
    if (g->node.rdma_done)
      (void)g->node.rdma_done(n, c->conn, &x, now);
    break;
  }
}

static void conn_poll_cq(ibv_conn *c, uint64_t now)
{
  struct ibv_cq *ecq;
  void *ectx;
  unsigned events = 0;
  while (ibv_get_cq_event(c->cch, &ecq, &ectx) == 0)
    events++;
  if (events) {
    ibv_ack_cq_events(c->cq, events);
    (void)ibv_req_notify_cq(c->cq, 0);
  }
  struct ibv_wc wc[32];
  int n;
  while (!c->closed && (n = ibv_poll_cq(c->cq, 32, wc)) > 0)
    for (int i = 0; i < n && !c->closed; i++)
      report_wc(c, &wc[i], now);
}

/* ---- CM events -------------------------------------------------------------------- */

static const char *cm_name(enum rdma_cm_event_type t)
{
  return rdma_event_str(t);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
  return a < b ? a : b;
}

static void on_connect_request(smbx_ibv *g, struct rdma_cm_event *ev,
                               uint64_t now)
{
  struct rdma_cm_id *id = ev->id;
  struct rdma_conn_param req = ev->param.conn;
  (void)rdma_ack_cm_event(ev);
  ibv_conn *c = NULL;
  if (g->n_conns >= g->cfg.max_conns || conn_new(g, id, &c) != 0) {
    vlog(g, "connect request refused (%u connections)", g->n_conns);
    (void)rdma_reject(id, NULL, 0);
    (void)rdma_destroy_id(id);
    return;
  }
  c->passive = true;
  struct rdma_conn_param p;
  memset(&p, 0, sizeof p);
  /* the CM already turned the REQ's values to our side: initiator_depth
   * = the peer's responder resources (our ORD at most), responder_resources
   * = the peer's initiator depth (our IRD at least) */
  p.responder_resources = (uint8_t)min_u32(
      req.responder_resources, (uint32_t)c->dattr.max_qp_rd_atom);
  p.initiator_depth = (uint8_t)min_u32(
      req.initiator_depth, (uint32_t)c->dattr.max_qp_init_rd_atom);
  p.retry_count = CM_RETRY;
  p.rnr_retry_count = CM_RNR_RETRY;
  c->ird = p.responder_resources;
  c->ord = p.initiator_depth;
  if (conn_add_to_node(g, c, now) != 0 || rdma_accept(id, &p) != 0) {
    vlog(g, "accept failed: %s", strerror(errno));
    (void)rdma_reject(id, NULL, 0);
    conn_free(g, c, now);
    return;
  }
  vlog(g, "conn %llu: accepted (offered ird %u ord %u; ours ird %u ord %u)",
       (unsigned long long)c->conn, req.responder_resources,
       req.initiator_depth, c->ird, c->ord);
}

static void on_conn_event(smbx_ibv *g, ibv_conn *c,
                          const struct rdma_cm_event *ev, uint64_t now)
{
  vlog(g, "conn %llu: %s (status %d)", (unsigned long long)c->conn,
       cm_name(ev->event), ev->status);
  switch (ev->event) {
  case RDMA_CM_EVENT_ESTABLISHED:
    if (!c->passive) { /* the REP's values, already from our side */
      c->ird = ev->param.conn.responder_resources;
      c->ord = ev->param.conn.initiator_depth;
    }
    c->established = true;
    conn_cm(c, SMBX_SMBD_CM_ESTABLISHED, now);
    break;
  case RDMA_CM_EVENT_DISCONNECTED:
    conn_cm(c, SMBX_SMBD_CM_DISCONNECTED, now);
    conn_disconnect(c, now);
    break;
  case RDMA_CM_EVENT_REJECTED:
    conn_cm(c, SMBX_SMBD_CM_REJECTED, now);
    conn_disconnect(c, now);
    break;
  case RDMA_CM_EVENT_ADDR_ERROR:
  case RDMA_CM_EVENT_ROUTE_ERROR:
  case RDMA_CM_EVENT_UNREACHABLE:
    conn_cm(c, SMBX_SMBD_CM_UNREACHABLE, now);
    conn_disconnect(c, now);
    break;
  case RDMA_CM_EVENT_CONNECT_ERROR:
    conn_cm(c, SMBX_SMBD_CM_CONNECT_ERROR, now);
    conn_disconnect(c, now);
    break;
  case RDMA_CM_EVENT_DEVICE_REMOVAL:
    conn_cm(c, SMBX_SMBD_CM_DEVICE_REMOVAL, now);
    conn_disconnect(c, now);
    break;
  default: /* TIMEWAIT_EXIT, ADDR_CHANGE, ...: nothing to do */
    break;
  }
}

static int cm_process(smbx_ibv *g, uint64_t now)
{
  struct rdma_cm_event *ev;
  while (rdma_get_cm_event(g->ch, &ev) == 0) {
    if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
      on_connect_request(g, ev, now);
      continue;
    }
    struct rdma_cm_event copy = *ev;
    ibv_conn *c = ev->id ? ev->id->context : NULL;
    (void)rdma_ack_cm_event(ev);
    if (c)
      on_conn_event(g, c, &copy, now);
    else
      vlog(g, "listener: %s", cm_name(copy.event));
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
                                                                  : -errno;
}

static void async_process(smbx_ibv *g, uint64_t now)
{
  if (!g->async_ctx)
    return;
  struct ibv_async_event ae;
  while (ibv_get_async_event(g->async_ctx, &ae) == 0) {
    ibv_conn *c = NULL;
    switch (ae.event_type) {
    case IBV_EVENT_COMM_EST: /* data before the RTU: let the CM know */
      c = ae.element.qp->qp_context;
      if (c)
        (void)rdma_notify(c->id, IBV_EVENT_COMM_EST);
      c = NULL;
      break;
    case IBV_EVENT_QP_FATAL:
    case IBV_EVENT_QP_REQ_ERR:
    case IBV_EVENT_QP_ACCESS_ERR:
      c = ae.element.qp->qp_context;
      break;
    case IBV_EVENT_CQ_ERR:
      c = ae.element.cq->cq_context;
      break;
    case IBV_EVENT_DEVICE_FATAL:
      for (ibv_conn *x = g->conns; x; x = x->next) {
        conn_cm(x, SMBX_SMBD_CM_FATAL, now);
        conn_disconnect(x, now);
      }
      break;
    default:
      break;
    }
    vlog(g, "async event: %s", ibv_event_type_str(ae.event_type));
    ibv_ack_async_event(&ae);
    if (c) {
      conn_cm(c, SMBX_SMBD_CM_FATAL, now);
      conn_disconnect(c, now);
    }
  }
}

/* ---- public ---------------------------------------------------------------------- */

void smbx_ibv_config_default(smbx_ibv_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  smbx_smbd_settings_default(&cfg->smbd, sizeof cfg->smbd);
  cfg->smbd.recv_credit_max = 63;
  cfg->smbd.send_credit_target = 255;
  cfg->recv_buffers = 64; /* credits granted: buffers - 1 */
  cfg->max_conns = 16;
}

int smbx_ibv_new(smbx_ibv **out, const smbx_ibv_node *node,
                 const smbx_ibv_config *cfg)
{
  smbx_ibv *g = calloc(1, sizeof *g);
  if (!g)
    return -ENOMEM;
  g->node = *node;
  g->cfg = *cfg;
  if (g->cfg.recv_buffers < 2)
    g->cfg.recv_buffers = 2;
  g->ch = rdma_create_event_channel();
  if (!g->ch || set_nonblock(g->ch->fd) != 0) {
    int rc = -errno;
    smbx_ibv_free(g);
    return rc ? rc : -EIO;
  }
  *out = g;
  return 0;
}

void smbx_ibv_free(smbx_ibv *g)
{
  if (!g)
    return;
  uint64_t now = mono_ns();
  while (g->conns) {
    ibv_conn *c = g->conns;
    if (c->established && !c->disconnect_sent)
      (void)rdma_disconnect(c->id);
    conn_free(g, c, now);
  }
  if (g->pd)
    (void)ibv_dealloc_pd(g->pd);
  if (g->listen_id)
    (void)rdma_destroy_id(g->listen_id);
  if (g->ch)
    rdma_destroy_event_channel(g->ch);
  free(g);
}

static int parse_addr(const char *ip, uint16_t port,
                      struct sockaddr_storage *ss)
{
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  char p[8];
  snprintf(p, sizeof p, "%u", port);
  if (getaddrinfo(ip, p, &hints, &res) != 0 || !res)
    return -EINVAL;
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

int smbx_ibv_listen(smbx_ibv *g, const char *ip, uint16_t port)
{
  struct sockaddr_storage sa;
  if (g->listen_id || parse_addr(ip, port, &sa) != 0)
    return -EINVAL;
  if (rdma_create_id(g->ch, &g->listen_id, NULL, RDMA_PS_TCP) != 0)
    return -errno;
  if (rdma_bind_addr(g->listen_id, (struct sockaddr *)&sa) != 0 ||
      rdma_listen(g->listen_id, 16) != 0) {
    int rc = -errno;
    (void)rdma_destroy_id(g->listen_id);
    g->listen_id = NULL;
    return rc;
  }
  if (g->listen_id->verbs && !g->async_ctx &&
      set_nonblock(g->listen_id->verbs->async_fd) == 0)
    g->async_ctx = g->listen_id->verbs;
  if (g->listen_id->verbs && !g->pd)
    g->pd = ibv_alloc_pd(g->listen_id->verbs);
  vlog(g, "listening on %s port %u", ip, port);
  return 0;
}

/* Waits for the next CM event of id (the only active id during connect). */
static int wait_cm(smbx_ibv *g, struct rdma_cm_id *id, uint64_t deadline,
                   struct rdma_cm_event *out)
{
  for (;;) {
    struct rdma_cm_event *ev;
    if (rdma_get_cm_event(g->ch, &ev) == 0) {
      bool mine = ev->id == id;
      *out = *ev;
      out->param.conn.private_data = NULL;
      (void)rdma_ack_cm_event(ev);
      if (mine)
        return 0;
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return -errno;
    uint64_t now = mono_ns();
    if (now >= deadline)
      return -ETIMEDOUT;
    struct pollfd p = {g->ch->fd, POLLIN, 0};
    (void)poll(&p, 1, (int)((deadline - now) / 1000000u + 1));
  }
}

static int connect_once(smbx_ibv *g, struct sockaddr_storage *dst,
                        int timeout_ms, uint64_t *conn)
{
  uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
  struct rdma_cm_id *id = NULL;
  struct rdma_cm_event ev;
  if (rdma_create_id(g->ch, &id, NULL, RDMA_PS_TCP) != 0)
    return -errno;
  int rc;
  if (rdma_resolve_addr(id, NULL, (struct sockaddr *)dst, 2000) != 0 ||
      (rc = wait_cm(g, id, deadline, &ev)) != 0 ||
      ev.event != RDMA_CM_EVENT_ADDR_RESOLVED ||
      rdma_resolve_route(id, 2000) != 0 ||
      (rc = wait_cm(g, id, deadline, &ev)) != 0 ||
      ev.event != RDMA_CM_EVENT_ROUTE_RESOLVED) {
    vlog(g, "address/route resolution failed");
    (void)rdma_destroy_id(id);
    return -EHOSTUNREACH;
  }
  ibv_conn *c = NULL;
  if ((rc = conn_new(g, id, &c)) != 0) {
    (void)rdma_destroy_id(id);
    return rc;
  }
  uint64_t now = mono_ns();
  if ((rc = conn_add_to_node(g, c, now)) != 0) {
    conn_free(g, c, now);
    return rc;
  }
  struct rdma_conn_param p;
  memset(&p, 0, sizeof p);
  /* as Linux cifs: no private data on IB/RoCE, no RDMA READs of our own
   * (the server reads and writes our buffers) */
  p.responder_resources =
      (uint8_t)min_u32((uint32_t)c->dattr.max_qp_rd_atom, CLIENT_IRD_MAX);
  p.initiator_depth = 0;
  p.retry_count = CM_RETRY;
  p.rnr_retry_count = CM_RNR_RETRY;
  if (rdma_connect(id, &p) != 0) {
    rc = -errno;
    conn_free(g, c, mono_ns());
    return rc;
  }
  rc = wait_cm(g, id, deadline, &ev);
  now = mono_ns();
  if (rc == 0 && ev.event == RDMA_CM_EVENT_ESTABLISHED) {
    on_conn_event(g, c, &ev, now);
    *conn = c->conn;
    return 0;
  }
  if (rc == 0)
    vlog(g, "connect: %s (status %d)", cm_name(ev.event), ev.status);
  rc = rc ? rc
       : ev.event == RDMA_CM_EVENT_REJECTED ? -ECONNREFUSED
                                             : -EHOSTUNREACH;
  conn_free(g, c, now);
  return rc;
}

int smbx_ibv_connect(smbx_ibv *g, const char *ip, uint16_t port,
                     int timeout_ms, int retries, uint64_t *conn)
{
  struct sockaddr_storage dst;
  if (parse_addr(ip, port, &dst) != 0)
    return -EINVAL;
  for (int attempt = 0;; attempt++) {
    int rc = connect_once(g, &dst, timeout_ms, conn);
    if (rc != -ECONNREFUSED || attempt >= retries)
      return rc;
    vlog(g, "rejected (a stale connection?): retrying");
    sleep(1);
  }
}

size_t smbx_ibv_pollfds(smbx_ibv *g, struct pollfd *pfd, size_t max)
{
  size_t n = 0;
  if (n < max)
    pfd[n++] = (struct pollfd){g->ch->fd, POLLIN, 0};
  if (g->async_ctx && n < max)
    pfd[n++] = (struct pollfd){g->async_ctx->async_fd, POLLIN, 0};
  for (ibv_conn *c = g->conns; c && n < max; c = c->next)
    pfd[n++] = (struct pollfd){c->cch->fd, POLLIN, 0};
  return n;
}

int smbx_ibv_process(smbx_ibv *g, uint64_t now)
{
  int rc = cm_process(g, now);
  async_process(g, now);
  for (ibv_conn *c = g->conns; c; c = c->next)
    if (!c->closed)
      conn_poll_cq(c, now);
  for (ibv_conn *c = g->conns, *next; c; c = next) {
    next = c->next;
    if (!c->closed && c->disconnect_sent && now - c->down_at > CLOSE_GRACE_NS) {
      vlog(g, "conn %llu: buffers did not come back; freeing it",
           (unsigned long long)c->conn);
      c->closed = true;
    }
    if (c->closed)
      conn_free(g, c, now);
  }
  return rc;
}

int smbx_ibv_smbd_event(smbx_ibv *g, const smbx_event *e)
{
  ibv_conn *c = conn_by_handle(g, e->conn);
  if (!c)
    return 0;
  switch (e->u.smbd.type) {
  case SMBX_SMBD_EV_DISCONNECTED:
    vlog(g, "conn %llu: engine disconnected (%s)",
         (unsigned long long)c->conn,
         e->u.smbd.error ? smbx_strerror(e->u.smbd.error) : "graceful");
    conn_disconnect(c, mono_ns());
    break;
  case SMBX_SMBD_EV_CLOSED:
    c->closed = true; /* freed by the next smbx_ibv_process */
    break;
  default: /* RECV_BUFFER: the buffers are freed with the connection */
    break;
  }
  return 1;
}

int smbx_ibv_disconnect(smbx_ibv *g, uint64_t conn)
{
  ibv_conn *c = conn_by_handle(g, conn);
  if (!c)
    return -ENOENT;
  conn_disconnect(c, mono_ns());
  return 0;
}

int smbx_ibv_register(smbx_ibv *g, void *addr, size_t len, uint64_t *handle)
{
  if (!g->pd)
    return -ENODEV;
  reg *r = calloc(1, sizeof *r);
  if (!r)
    return -ENOMEM;
  r->mr = ibv_reg_mr(g->pd, addr, len, IBV_ACCESS_LOCAL_WRITE);
  if (!r->mr) {
    int rc = -errno;
    free(r);
    return rc ? rc : -EIO;
  }
  *handle = (uint64_t)(uintptr_t)r;
  return 0;
}

void smbx_ibv_deregister(smbx_ibv *g, uint64_t handle)
{
  (void)g;
  reg *r = (reg *)(uintptr_t)handle;
  if (!r)
    return;
  (void)ibv_dereg_mr(r->mr);
  free(r);
}

int smbx_ibv_has_conn(const smbx_ibv *g, uint64_t conn)
{
  const ibv_conn *c = conn_by_handle(g, conn);
  return c && !c->closed;
}

int smbx_ibv_conn_rdma(const smbx_ibv *g, uint64_t conn, uint32_t *ird,
                       uint32_t *ord)
{
  const ibv_conn *c = conn_by_handle(g, conn);
  if (!c)
    return -ENOENT;
  *ird = c->ird;
  *ord = c->ord;
  return 0;
}
