/* SPDX-License-Identifier: MIT */
/* Server node, RDMA direct placement (smbd.md sec. 4, DESIGN.md
 * "Buffers"): two phases per READ/WRITE with an RDMA channel.
 *   REQUEST event (validated descriptors) -> host answers with where the
 *   data is (READ, smbx_server_rdma_push) or goes (WRITE,
 *   smbx_server_rdma_pull) -> lib/rdma posts rdma_write / rdma_read ->
 *   completions -> READ: the node sends the response (DataLength 0,
 *   DataRemaining = bytes) then RDMA_DONE; WRITE: RDMA_DONE, then the host
 *   answers the WRITE.
 * Every answer to an RDMA_V1_INVALIDATE request, errors too, goes as
 * SEND_WITH_INVALIDATE of the first descriptor's token, exactly once
 * (case 55). An RDMA error completion tears the connection down; a
 * failed transfer's RDMA_DONE waits until its posted operations are back
 * (completed or flushed), so the host's memory is free when it comes. */
#include <string.h>

#include <smbx/smbd.h>

#include "core/alloc.h"
#include "server/rdma_io.h"

enum { RS_NONE = 0, RS_WAIT, RS_MOVING, RS_RESPOND, RS_READY, RS_FAILED };

typedef struct rreq {
  uint64_t req;
  smbx_smb2_desc_list descs; /* view into the held request PDU */
  uint32_t length, channel, inv_key;
  uint64_t moved;
  uint16_t cmd;
  uint8_t state;
  bool inv;
} rreq;

struct smbx__srv_rdma {
  smbx_allocator a;
  smbx_server *srv;
  uint64_t conn;
  smbx__conn *c;
  smbx__rdma *trk;
  smbx__srv_rdma_push_fn push;
  void *push_ctx;
  rreq *q;
  uint32_t n, max_sge, n_respond;
  uint32_t max_rw; /* SMB Direct MaxReadWriteSize once negotiated, or 0 */
  uint64_t now;
  bool kill, down;
  uint64_t ios;
};

static void on_done(void *ctx, uint64_t user, int err, uint64_t bytes);

int smbx__srv_rdma_new(smbx__srv_rdma **out, smbx_server *srv, uint64_t conn,
                       smbx__conn *c, const smbx_transport *t,
                       const smbx_server_settings *s, uint32_t n_slots,
                       smbx__srv_rdma_push_fn push, void *push_ctx,
                       const smbx_allocator *a)
{
  *out = NULL;
  if (!t->rdma_read || !t->rdma_write || s->rdma_max_ops == 0)
    return 0;
  smbx__srv_rdma *r = SMBX__NEW(a, smbx__srv_rdma);
  if (!r)
    return SMBX_ERR_NOMEM;
  r->a = *a;
  r->srv = srv;
  r->conn = conn;
  r->c = c;
  r->push = push;
  r->push_ctx = push_ctx;
  r->n = n_slots;
  /* a transfer may name more elements than one operation carries */
  r->max_sge = s->rdma_max_xfer_sge > s->rdma_max_sge ? s->rdma_max_xfer_sge
                                                      : s->rdma_max_sge;
  r->q = smbx__calloc(a, n_slots, sizeof *r->q, _Alignof(rreq));
  smbx__rdma_settings ts = {s->rdma_max_ops, s->rdma_max_ops, s->rdma_max_sge,
                            s->rdma_max_op_size, r->max_sge};
  smbx__rdma_upcalls up = {r, on_done};
  int rc = r->q ? smbx__rdma_new(&r->trk, &ts, t, &up, a) : SMBX_ERR_NOMEM;
  if (rc) {
    smbx__srv_rdma_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void smbx__srv_rdma_free(smbx__srv_rdma *r)
{
  if (!r)
    return;
  smbx__rdma_free(r->trk);
  smbx_allocator a = r->a;
  if (r->q)
    smbx__free(&a, r->q, r->n * sizeof *r->q, _Alignof(rreq));
  SMBX__DELETE(&a, r, smbx__srv_rdma);
}

static rreq *find(const smbx__srv_rdma *r, uint64_t req)
{
  if (!r)
    return NULL;
  uint32_t i = (uint32_t)req;
  return i < r->n && r->q[i].state != RS_NONE && r->q[i].req == req
             ? &r->q[i]
             : NULL;
}

/* Negotiated once per connection: asked of the connection until it is. */
static uint32_t rdma_max_rw(smbx__srv_rdma *r)
{
  if (!r->max_rw)
    r->max_rw = smbx__conn_smbd_max_rw(r->c, NULL);
  return r->max_rw;
}

uint32_t smbx__srv_rdma_check(smbx__srv_rdma *r,
                              const smbx__conn_pdu *pd, bool smbd,
                              uint16_t dialect, uint32_t max_read,
                              uint32_t max_write,
                              smbx__rdma_xfer *x, const char **why)
{
  uint16_t cmd = pd->hdr.command;
  if (smbx__rdma_channel_of(pd->data, pd->len, cmd) ==
      SMBX_SMB2_CHANNEL_NONE) {
    x->length = 0;
    return 0;
  }
  /* the rules fill *x */
  smbx__rdma_limits l = {
      .dialect = dialect,
      .smbd = smbd,
      .enabled = r != NULL,
      .max_rw = r ? rdma_max_rw(r) : 0,
      .max_io = cmd == SMBX_SMB2_READ ? max_read : max_write,
  };
  return cmd == SMBX_SMB2_READ
             ? smbx__rdma_check_read(pd->data, pd->len, &l, x, why)
             : smbx__rdma_check_write(pd->data, pd->len, &l, x, why);
}

void smbx__srv_rdma_accept(smbx__srv_rdma *r, uint64_t req,
                           const smbx__rdma_xfer *x, smbx_event *e)
{
  uint32_t i = (uint32_t)req;
  if (!r || i >= r->n)
    return;
  rreq *q = &r->q[i];
  /* every field written (no memset first: one per RDMA request) */
  q->req = req;
  q->descs = x->descs;
  q->length = x->length;
  q->channel = x->channel;
  q->inv_key = x->inv_key;
  q->moved = 0;
  q->cmd = e->u.pdu.hdr.command;
  q->state = RS_WAIT;
  q->inv = x->inv;
  e->flags |= SMBX_EVF_RDMA;
  e->u.pdu.rdma_channel = x->channel;
  e->u.pdu.rdma_length = x->length;
  e->u.pdu.rdma_offset = x->offset;
  e->u.pdu.rdma_descs = x->descs.bytes.p;
  e->u.pdu.rdma_desc_count = x->descs.count;
}

int smbx__srv_rdma_respond_begin(smbx__srv_rdma *r, uint64_t req)
{
  rreq *q = find(r, req);
  if (!q)
    return 0;
  /* the host's memory is named in posted operations, or they failed */
  if (q->state == RS_MOVING || q->state == RS_FAILED)
    return SMBX_ERR_STATE;
  smbx__conn_invalidate_next(r->c, q->inv, q->inv_key);
  return 0;
}

void smbx__srv_rdma_respond_end(smbx__srv_rdma *r, uint64_t req, int rc)
{
  if (!r)
    return;
  smbx__conn_invalidate_next(r->c, false, 0);
  rreq *q = find(r, req);
  /* sent (or the connection died): the invalidation was spent once */
  if (q && (rc == 0 || rc <= SMBX_ERR_FATAL || rc == SMBX_ERR_NOTFOUND)) {
    if (q->state == RS_RESPOND)
      r->n_respond--;
    memset(q, 0, sizeof *q);
  }
}

void smbx__srv_rdma_forget(smbx__srv_rdma *r, uint64_t req)
{
  rreq *q = find(r, req);
  if (!q)
    return;
  if (q->state == RS_RESPOND)
    r->n_respond--;
  /* a transfer still posted ends in smbx__srv_rdma_down() */
  if (q->state != RS_MOVING)
    memset(q, 0, sizeof *q);
}

static void push_done(smbx__srv_rdma *r, const rreq *q, int err)
{
  smbx_event *e = r->push(r->push_ctx, SMBX_EV_RDMA_DONE);
  if (!e)
    return;
  e->flags = SMBX_EVF_RDMA;
  e->u.pdu.req = q->req;
  e->u.pdu.err = err;
  e->u.pdu.hdr.command = q->cmd;
  e->u.pdu.rdma_channel = q->channel;
  e->u.pdu.rdma_length = (uint32_t)q->moved;
}

/* READ: every byte is placed; the response names them (smb2.md 4.6:
 * DataLength 0, DataRemaining = bytes placed). Only the 16-byte fixed part
 * goes out: StructureSize 17 stands whatever the Buffer's length, and
 * Linux cifs takes any byte after the fixed part as inline data of an
 * RDMA read (it fails the read, then reads past the message). */
static void read_respond(smbx__srv_rdma *r, rreq *q)
{
  rreq done = *q;
  int rc = smbx__srv_respond_placed(r->push_ctx, done.req, (uint32_t)done.moved,
                                    done.inv, done.inv_key);
  if (rc == SMBX_ERR_AGAIN)
    return; /* no send space: smbx__srv_rdma_writable() retries */
  /* sent, or never will be; a teardown inside may have forgotten it and
   * a related chain's next member taken its index */
  if (q->state == RS_RESPOND && q->req == done.req) {
    r->n_respond--;
    q->state = RS_NONE;
  }
  if (rc == 0)
    r->ios++;
  push_done(r, &done, rc);
}

static void on_done(void *ctx, uint64_t user, int err, uint64_t bytes)
{
  smbx__srv_rdma *r = ctx;
  rreq *q = find(r, user);
  if (!q)
    return;
  q->moved = bytes;
  if (err) {
    q->state = RS_FAILED;
    push_done(r, q, err);
    if (!r->down)
      r->kill = true;
    return;
  }
  if (q->cmd == SMBX_SMB2_READ) {
    q->state = RS_RESPOND;
    r->n_respond++;
    read_respond(r, q);
    return;
  }
  q->state = RS_READY;
  r->ios++;
  push_done(r, q, 0);
}

/* A transfer failed: the connection goes (smbd.md 3.6). */
static int settle(smbx__srv_rdma *r, int rc, uint64_t now)
{
  if (r->kill) {
    r->kill = false;
    return smbx__conn_abort(r->c, SMBX_ERR_TRANSPORT,
                            "RDMA operation failed", now);
  }
  return rc;
}

int smbx__srv_rdma_start(smbx__srv_rdma *r, uint64_t req, uint32_t dir,
                         const smbx_sge *sg, size_t n, uint64_t now)
{
  if (!sg || n == 0)
    return SMBX_ERR_INVAL;
  rreq *q = find(r, req);
  if (!q || q->state != RS_WAIT ||
      (dir == SMBX__RDMA_PUSH) != (q->cmd == SMBX_SMB2_READ))
    return SMBX_ERR_STATE;
  if (n > r->max_sge)
    return SMBX_ERR_INVAL;
  uint64_t sum = 0;
  /* READ: up to Length (a short read); WRITE: exactly RemainingBytes */
  if (smbx__rdma_sge_total(sg, n, &sum) != 0 || sum == 0 || sum > q->length ||
      (dir == SMBX__RDMA_PULL && sum != q->length))
    return SMBX_ERR_INVAL;
  r->now = now;
  q->state = RS_MOVING;
  int rc = smbx__rdma_start(r->trk, req, dir, sg, n, &q->descs, sum);
  if (rc) {
    q->state = RS_WAIT;
    return rc;
  }
  return settle(r, 0, now);
}

int smbx__srv_rdma_done(smbx__srv_rdma *r, const smbx_wc *wc, uint64_t now)
{
  if (!wc)
    return SMBX_ERR_INVAL;
  r->now = now;
  int rc = smbx__rdma_complete(r->trk, wc);
  if (rc == SMBX_ERR_TRANSPORT && !r->down)
    r->kill = true;
  return settle(r, 0, now);
}

void smbx__srv_rdma_cm(smbx__srv_rdma *r)
{
  if (!r)
    return;
  uint32_t ord = 0;
  (void)smbx__conn_smbd_max_rw(r->c, &ord);
  smbx__rdma_set_ord(r->trk, ord);
}

void smbx__srv_rdma_down(smbx__srv_rdma *r, int err)
{
  if (!r)
    return;
  r->down = true;
  r->kill = false;
  smbx__rdma_cancel_all(r->trk, err ? err : SMBX_ERR_CLOSED);
}

uint32_t smbx__srv_rdma_live(const smbx__srv_rdma *r)
{
  if (!r)
    return 0;
  smbx__rdma_stats st;
  smbx__rdma_get_stats(r->trk, &st);
  return st.live;
}

void smbx__srv_rdma_writable(smbx__srv_rdma *r)
{
  if (!r || !r->n_respond)
    return;
  for (uint32_t i = 0; i < r->n && r->n_respond; i++)
    if (r->q[i].state == RS_RESPOND)
      read_respond(r, &r->q[i]);
}

void smbx__srv_rdma_info(const smbx__srv_rdma *r, smbx_conn_info *o)
{
  if (!r)
    return;
  smbx__rdma_stats st;
  smbx__rdma_get_stats(r->trk, &st);
  o->rdma_ios = r->ios;
  o->rdma_ops = st.ops;
  o->rdma_bytes = st.bytes;
}
