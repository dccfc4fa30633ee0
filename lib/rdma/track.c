/* SPDX-License-Identifier: MIT */
/* RDMA operation tracking for the server side of direct placement
 * (smbd.md sec. 4: the server is always the RDMA initiator). A transfer
 * moves bytes between the host's registered elements and the client's
 * buffer descriptors; it is cut into operations that each stay inside one
 * descriptor, carry at most max_op_size bytes and max_sge local elements
 * (a transfer names up to max_xfer_sge elements, so it may take several
 * operations even inside one descriptor).
 * Operations are posted while the budget allows (max_ops in flight; RDMA
 * READs at most the connection's ORD, [MS-SMBD] 3.1.5.x / IRD-ORD in
 * smbd.md sec. 2) and refilled as completions come back in any order;
 * a completion is matched by its wr_id (tag, generation, index).
 * The ORD bounds RDMA READs only: a pull waiting for a read slot does not
 * hold back the RDMA WRITEs queued behind it.
 * A failed transfer (error completion, failed post, teardown) posts
 * nothing more and reports done() once its last posted operation is back,
 * completed or flushed: until then the NIC may still touch the host's
 * memory it names. */
#include <string.h>

#include "core/alloc.h"
#include "rdma/rdma.h"
#include "smb2/desc.h"
#include "smbd/smbd_int.h"

#define NIL SMBX__RDMA_NIL

typedef struct xfer {
  uint64_t user;
  uint64_t total, posted, done;
  smbx_smb2_desc_list remote;
  uint32_t d_i, d_off; /* next remote byte: descriptor, offset in it */
  uint32_t s_i, s_off; /* next local byte: element, offset in it */
  uint32_t n_sg;
  uint32_t inflight;
  uint32_t next; /* posting queue or free list */
  int err;       /* why it failed, reported once inflight drops to 0 */
  uint8_t dir;
  bool live, queued, failed;
} xfer;

typedef struct op {
  uint32_t xfer;
  uint32_t bytes;
  uint32_t next;  /* free list */
  uint16_t gen;
  bool busy, read;
} op;

struct smbx__rdma {
  smbx_allocator a;
  smbx_transport t;
  smbx__rdma_upcalls up;
  smbx__rdma_settings s;
  xfer *x;
  smbx_sge *sg;      /* max_xfers x max_xfer_sge: each transfer's elements */
  smbx_sge *scratch; /* max_sge: one operation's elements */
  op *op;
  uint32_t x_free, op_free, q_head, q_tail;
  uint32_t inflight, reads_inflight, ord, live;
  smbx__rdma_stats st;
};

uint32_t smbx_wr_id_kind(uint64_t wr_id)
{
  switch (wr_id >> 32) {
  case SMBX__SMBD_WR_RECV:
    return SMBX_WR_KIND_RECV;
  case SMBX__SMBD_WR_SEND:
    return SMBX_WR_KIND_SEND;
  case SMBX__RDMA_WR_TAG:
    return SMBX_WR_KIND_RDMA;
  default:
    return SMBX_WR_KIND_UNKNOWN;
  }
}

int smbx__rdma_new(smbx__rdma **out, const smbx__rdma_settings *s,
                   const smbx_transport *t, const smbx__rdma_upcalls *up,
                   const smbx_allocator *a)
{
  if (!out || !s || !t || !up || !up->done || !t->rdma_read ||
      !t->rdma_write || s->max_ops == 0 || s->max_ops > 0xFFFF ||
      s->max_xfers == 0 || s->max_xfers >= NIL || s->max_sge == 0 ||
      s->max_sge > 1024 || s->max_op_size == 0 ||
      (s->max_xfer_sge && s->max_xfer_sge < s->max_sge) ||
      s->max_xfer_sge > 65536)
    return SMBX_ERR_INVAL;
  smbx__rdma *r = SMBX__NEW(a, smbx__rdma);
  if (!r)
    return SMBX_ERR_NOMEM;
  r->a = *a;
  r->t = *t;
  r->up = *up;
  r->s = *s;
  if (r->s.max_xfer_sge == 0)
    r->s.max_xfer_sge = s->max_sge;
  r->ord = 1;
  r->x = smbx__calloc(a, s->max_xfers, sizeof *r->x, _Alignof(xfer));
  r->sg = smbx__calloc(a, (size_t)s->max_xfers * r->s.max_xfer_sge,
                       sizeof *r->sg, _Alignof(smbx_sge));
  r->scratch = smbx__calloc(a, s->max_sge, sizeof *r->scratch,
                            _Alignof(smbx_sge));
  r->op = smbx__calloc(a, s->max_ops, sizeof *r->op, _Alignof(op));
  if (!r->x || !r->sg || !r->scratch || !r->op) {
    smbx__rdma_free(r);
    return SMBX_ERR_NOMEM;
  }
  r->x_free = NIL;
  for (uint32_t i = s->max_xfers; i-- > 0;) {
    r->x[i].next = r->x_free;
    r->x_free = i;
  }
  r->op_free = NIL;
  for (uint32_t i = s->max_ops; i-- > 0;) {
    r->op[i].next = r->op_free;
    r->op_free = i;
  }
  r->q_head = r->q_tail = NIL;
  *out = r;
  return 0;
}

void smbx__rdma_free(smbx__rdma *r)
{
  if (!r)
    return;
  smbx_allocator a = r->a;
  if (r->x)
    smbx__free(&a, r->x, r->s.max_xfers * sizeof *r->x, _Alignof(xfer));
  if (r->sg)
    smbx__free(&a, r->sg,
               (size_t)r->s.max_xfers * r->s.max_xfer_sge * sizeof *r->sg,
               _Alignof(smbx_sge));
  if (r->scratch)
    smbx__free(&a, r->scratch, r->s.max_sge * sizeof *r->scratch,
               _Alignof(smbx_sge));
  if (r->op)
    smbx__free(&a, r->op, r->s.max_ops * sizeof *r->op, _Alignof(op));
  SMBX__DELETE(&a, r, smbx__rdma);
}

void smbx__rdma_set_ord(smbx__rdma *r, uint32_t ord)
{
  r->ord = ord ? ord : 1;
}

/* Takes queued transfer i off the posting queue. */
static void unqueue(smbx__rdma *r, uint32_t i)
{
  uint32_t prev = NIL;
  for (uint32_t k = r->q_head; k != i; prev = k, k = r->x[k].next)
    if (k == NIL)
      return;
  if (prev == NIL)
    r->q_head = r->x[i].next;
  else
    r->x[prev].next = r->x[i].next;
  if (r->q_tail == i)
    r->q_tail = prev;
  r->x[i].queued = false;
  r->x[i].next = NIL;
}

/* Ends transfer i; none of its operations is posted any more. */
static void finish(smbx__rdma *r, uint32_t i, int err)
{
  xfer *xf = &r->x[i];
  uint64_t user = xf->user, done = xf->done;
  /* free (smbx__rdma_start sets every field when it reuses it) */
  xf->live = false;
  xf->queued = false;
  xf->next = r->x_free;
  r->x_free = i;
  r->live--;
  if (!err)
    r->st.xfers++;
  r->up.done(r->up.ctx, user, err, done);
}

/* Transfer i failed with err (the first reason sticks): it posts nothing
 * more and ends when its posted operations are all back. */
static void fail(smbx__rdma *r, uint32_t i, int err)
{
  xfer *xf = &r->x[i];
  if (!xf->failed) {
    xf->failed = true;
    xf->err = err;
  }
  if (xf->queued)
    unqueue(r, i);
  if (xf->inflight == 0)
    finish(r, i, xf->err);
}

/* Posts one operation of transfer i: n elements at r->scratch, `bytes`
 * to the peer's (raddr, token), with a free op slot (the caller checked
 * the budget: a free slot, and a read slot for a pull). 0 posted,
 * SMBX_ERR_TRANSPORT when the hook failed. */
static inline int post_op(smbx__rdma *r, uint32_t i, bool read, uint32_t n,
                   uint32_t bytes, uint64_t raddr, uint32_t token)
{
  uint32_t k = r->op_free;
  op *o = &r->op[k];
  uint16_t gen = (uint16_t)(o->gen + 1);
  uint64_t wr_id = SMBX__RDMA_WR_TAG << 32 | (uint64_t)gen << 16 | k;
  int rc = read ? r->t.rdma_read(r->t.user_data, wr_id, r->scratch, n, raddr,
                                 token)
                : r->t.rdma_write(r->t.user_data, wr_id, r->scratch, n, raddr,
                                  token);
  if (rc != 0)
    return SMBX_ERR_TRANSPORT;
  r->op_free = o->next;
  o->next = NIL;
  o->gen = gen;
  o->busy = true;
  o->read = read;
  o->xfer = i;
  o->bytes = bytes;
  r->inflight++;
  r->x[i].inflight++;
  r->st.ops++;
  if (read) {
    r->reads_inflight++;
    r->st.reads++;
  } else {
    r->st.writes++;
  }
  return 0;
}

/* Posts the next operation of transfer i (the caller checked the budget).
 * 0 posted, SMBX_ERR_TRANSPORT when the hook failed. */
static int post_one(smbx__rdma *r, uint32_t i)
{
  xfer *xf = &r->x[i];
  smbx_smb2_buffer_desc d;
  if (smbx_smb2_desc_list_get(&xf->remote, xf->d_i, &d) != 0 ||
      d.length <= xf->d_off)
    return SMBX_ERR_TRANSPORT; /* cannot happen: checked at start */
  uint64_t left = xf->total - xf->posted;
  uint32_t want = d.length - xf->d_off;
  if (want > left)
    want = (uint32_t)left;
  if (want > r->s.max_op_size)
    want = r->s.max_op_size;
  /* gather the local side without committing the cursor yet */
  const smbx_sge *sg = r->sg + (size_t)i * r->s.max_xfer_sge;
  uint32_t s_i = xf->s_i, s_off = xf->s_off, n = 0, got = 0;
  while (got < want && s_i < xf->n_sg && n < r->s.max_sge) {
    uint32_t avail = sg[s_i].length - s_off;
    if (avail == 0) {
      s_i++;
      s_off = 0;
      continue;
    }
    uint32_t take = avail < want - got ? avail : want - got;
    r->scratch[n].addr = (uint8_t *)sg[s_i].addr + s_off;
    r->scratch[n].length = take;
    r->scratch[n].reserved = 0;
    r->scratch[n].handle = sg[s_i].handle;
    n++;
    got += take;
    s_off += take;
    if (s_off == sg[s_i].length) {
      s_i++;
      s_off = 0;
    }
  }
  if (got == 0)
    return SMBX_ERR_TRANSPORT; /* cannot happen: totals checked at start */
  if (post_op(r, i, xf->dir == SMBX__RDMA_PULL, n, got,
              d.offset + xf->d_off, d.token) != 0)
    return SMBX_ERR_TRANSPORT;
  xf->posted += got;
  xf->s_i = s_i;
  xf->s_off = s_off;
  xf->d_off += got;
  if (xf->d_off == d.length) {
    xf->d_i++;
    xf->d_off = 0;
  }
  return 0;
}

/* Posts what the budget allows, oldest transfer first; while the ORD is
 * used up, pulls wait and the pushes behind them go on. A failed post
 * fails its transfer (SMBX_ERR_TRANSPORT). */
static int pump(smbx__rdma *r)
{
  int ret = 0;
  uint32_t prev = NIL, i = r->q_head;
  while (i != NIL && r->op_free != NIL) {
    xfer *xf = &r->x[i];
    uint32_t next = xf->next;
    if (xf->dir == SMBX__RDMA_PULL && r->reads_inflight >= r->ord) {
      prev = i;
      i = next;
      continue;
    }
    int rc = post_one(r, i);
    if (rc < 0) {
      fail(r, i, SMBX_ERR_TRANSPORT);
      ret = SMBX_ERR_TRANSPORT;
      i = next;
      continue;
    }
    if (xf->posted < xf->total)
      continue;
    /* fully posted: leaves the queue */
    if (prev == NIL)
      r->q_head = next;
    else
      r->x[prev].next = next;
    if (r->q_tail == i)
      r->q_tail = prev;
    xf->queued = false;
    xf->next = NIL;
    i = next;
  }
  return ret;
}

/* The common transfer: nothing waits to post, the budget allows one
 * more operation (a free op slot; a read slot for a pull) and one
 * operation carries all of it (its elements fit max_sge, none empty;
 * within max_op_size and the first descriptor). Its elements are copied
 * to the operation's list, as post_one would gather them. */
static bool one_op(smbx__rdma *r, uint32_t dir, const smbx_sge *local,
                   size_t n, uint64_t bytes, const smbx_smb2_buffer_desc *d)
{
  if (r->q_head != NIL || r->op_free == NIL ||
      (dir == SMBX__RDMA_PULL && r->reads_inflight >= r->ord) ||
      n > r->s.max_sge || bytes > r->s.max_op_size || d->length < bytes)
    return false;
  for (size_t k = 0; k < n; k++) {
    if (local[k].length == 0)
      return false; /* post_one leaves it out: the queue's path does */
    r->scratch[k].addr = local[k].addr;
    r->scratch[k].length = local[k].length;
    r->scratch[k].reserved = 0;
    r->scratch[k].handle = local[k].handle;
  }
  return true;
}

int smbx__rdma_start(smbx__rdma *r, uint64_t user, uint32_t dir,
                     const smbx_sge *local, size_t n,
                     const smbx_smb2_desc_list *remote, uint64_t bytes)
{
  if (!r || !local || !remote || n == 0 || n > r->s.max_xfer_sge ||
      (dir != SMBX__RDMA_PUSH && dir != SMBX__RDMA_PULL) || bytes == 0 ||
      remote->count == 0)
    return SMBX_ERR_INVAL;
  /* the caller proved the rest (rdma.h): bytes is the elements' total,
   * the descriptors (count x 16 bytes, decoded) hold at least that, none
   * empty; so the first is read with the decoder's loads */
  smbx_smb2_buffer_desc d;
  smbx__smb2_desc_at(remote, 0, &d);
  if (r->x_free == NIL)
    return SMBX_ERR_AGAIN;
  uint32_t i = r->x_free;
  xfer *xf = &r->x[i];
  r->x_free = xf->next;
  /* every field set (a finished transfer is not zeroed) */
  xf->user = user;
  xf->total = bytes;
  xf->done = 0;
  xf->remote = *remote;
  xf->d_i = xf->d_off = xf->s_i = xf->s_off = 0;
  xf->n_sg = (uint32_t)n;
  xf->inflight = 0;
  xf->next = NIL;
  xf->err = 0;
  xf->dir = (uint8_t)dir;
  xf->live = true;
  xf->failed = false;
  r->live++;
  if (one_op(r, dir, local, n, bytes, &d)) {
    /* fully posted at once: never queued, its elements never kept */
    xf->posted = bytes;
    xf->queued = false;
    if (post_op(r, i, dir == SMBX__RDMA_PULL, (uint32_t)n, (uint32_t)bytes,
                d.offset, d.token) != 0)
      fail(r, i, SMBX_ERR_TRANSPORT);
    return 0;
  }
  xf->posted = 0;
  xf->queued = true;
  smbx_sge *own = r->sg + (size_t)i * r->s.max_xfer_sge;
  for (size_t k = 0; k < n; k++)
    own[k] = local[k];
  if (r->q_tail == NIL)
    r->q_head = i;
  else
    r->x[r->q_tail].next = i;
  r->q_tail = i;
  (void)pump(r);
  return 0;
}

int smbx__rdma_complete(smbx__rdma *r, const smbx_wc *wc)
{
  if (!r || !wc)
    return SMBX_ERR_INVAL;
  if (wc->wr_id >> 32 != SMBX__RDMA_WR_TAG)
    return SMBX_ERR_NOTFOUND;
  uint32_t k = (uint32_t)(wc->wr_id & 0xFFFF);
  uint16_t gen = (uint16_t)(wc->wr_id >> 16);
  if (k >= r->s.max_ops || !r->op[k].busy || r->op[k].gen != gen)
    return SMBX_ERR_NOTFOUND;
  op *o = &r->op[k];
  uint32_t i = o->xfer;
  uint32_t bytes = o->bytes;
  o->busy = false;
  o->next = r->op_free;
  r->op_free = k;
  r->inflight--;
  if (o->read)
    r->reads_inflight--;
  xfer *xf = &r->x[i];
  xf->inflight--;
  if (wc->status != SMBX_WC_SUCCESS) {
    /* smbd.md 3.6: an error completion kills the connection */
    fail(r, i, SMBX_ERR_TRANSPORT);
    return SMBX_ERR_TRANSPORT;
  }
  xf->done += bytes;
  r->st.bytes += bytes;
  if (xf->failed) {
    if (xf->inflight == 0)
      finish(r, i, xf->err);
    return 0;
  }
  if (xf->done == xf->total)
    finish(r, i, 0);
  /* an op slot (and maybe a read slot) is free again for what waits */
  return r->q_head == NIL ? 0 : pump(r);
}

void smbx__rdma_cancel_all(smbx__rdma *r, int err)
{
  if (!r)
    return;
  for (uint32_t i = 0; i < r->s.max_xfers; i++)
    if (r->x[i].live)
      fail(r, i, err);
}

void smbx__rdma_get_stats(const smbx__rdma *r, smbx__rdma_stats *st)
{
  *st = r->st;
  st->inflight = r->inflight;
  st->reads_inflight = r->reads_inflight;
  st->live = r->live;
}

size_t smbx__rdma_state_bytes(const smbx__rdma *r)
{
  return sizeof *r + r->s.max_xfers * sizeof *r->x +
         (size_t)r->s.max_xfers * r->s.max_xfer_sge * sizeof *r->sg +
         r->s.max_sge * sizeof *r->scratch + r->s.max_ops * sizeof *r->op;
}
