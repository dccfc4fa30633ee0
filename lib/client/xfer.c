/* SPDX-License-Identifier: MIT */
/* Client node, pipelined transfers (docs/smbx-client.md "Transfers"): a
 * range cut into pieces of at most `chunk` bytes, sent with
 * smbx__cli_io (RDMA straight from/into the caller's memory over SMB
 * Direct) while fewer than `depth` are in flight and the connection takes
 * them; every piece's completion sends the next ones, so the credits the
 * server grants stay busy. Pieces are named by their cookie
 * (generation, table slot, piece index) and checked against the
 * (conn, request) they went out as, so a host cookie never matches one.
 * All state is allocated at start; a piece costs nothing. Every live
 * transfer holds room in the client's event queue for its XFER_DONE
 * (smbx__cli_xfers_live), so ending one never needs memory. */
#include <string.h>

#include "client/client_int.h"
#include "client/lease_cache.h"
#include "client/xfer.h"
#include "core/alloc.h"

typedef struct piece {
  uint64_t conn, req; /* as first sent; 0: free */
  uint64_t offset;    /* within the range */
  uint32_t length;
} piece;

typedef struct xf {
  smbx_client_xfer p;
  uint32_t gen;
  uint64_t next;   /* range offset of the next piece */
  uint64_t end;    /* range length, lowered to where a read met EOF */
  uint64_t bytes, issued, requests;
  uint32_t inflight, max_inflight;
  int err;
  uint32_t status, done_flags;
  bool stopping; /* failed or cancelled: no new pieces */
  bool pumping;  /* inside pump: a completion there must not finish it */
  bool stalled;  /* refused (AGAIN) with nothing in flight: another
                    request's completion must resume it */
  piece *pieces;
  uint16_t *free_ix; /* stack of free piece indexes */
  uint32_t n_free;
} xf;

struct smbx__cli_xfers {
  smbx_allocator a;
  xf **slot;
  uint32_t n;
  uint32_t gen;
  uint32_t n_stalled;
  uint32_t n_live; /* each owes one XFER_DONE */
};

#define XF_SLOT_MAX 65535u

static uint64_t cookie(const xf *x, uint32_t slot, uint32_t ix)
{
  return ((uint64_t)x->gen << 32) | ((uint64_t)slot << 16) | ix;
}

static xf *by_handle(const smbx__cli_xfers *t, uint64_t h, uint32_t *slot)
{
  uint32_t i = (uint32_t)(h & 0xFFFFu);
  if (!t || i == 0 || i > t->n || !t->slot[i - 1] ||
      t->slot[i - 1]->gen != (uint32_t)(h >> 32) || (h & 0xFFFF0000u))
    return NULL;
  *slot = i - 1;
  return t->slot[i - 1];
}

static void set_stalled(smbx__cli_xfers *t, xf *x, bool on)
{
  if (x->stalled != on)
    t->n_stalled = on ? t->n_stalled + 1 : t->n_stalled - 1;
  x->stalled = on;
}

static void xf_free(smbx__cli_xfers *t, uint32_t slot)
{
  xf *x = t->slot[slot];
  set_stalled(t, x, false);
  uint32_t d = x->p.depth;
  smbx__free(&t->a, x->pieces, d * sizeof *x->pieces, _Alignof(piece));
  smbx__free(&t->a, x->free_ix, d * sizeof *x->free_ix, _Alignof(uint16_t));
  SMBX__DELETE(&t->a, x, xf);
  t->slot[slot] = NULL;
  t->n_live--;
}

/* Sends pieces while the range lasts, depth allows and the channel takes
 * them (SMBX_ERR_AGAIN: a completion or WRITABLE resumes). */
static void pump(smbx_client *cli, smbx__cli_xfers *t, uint32_t slot)
{
  xf *x = t->slot[slot];
  bool read = !(x->p.flags & SMBX_XFER_WRITE);
  x->pumping = true;
  while (!x->stopping && x->next < x->end && x->n_free) {
    uint64_t conn = x->p.conn ? x->p.conn
                              : smbx__cli_pick(cli, x->p.session);
    uint32_t max = conn ? smbx__cli_io_max(cli, conn, x->p.session, read) : 0;
    uint32_t len = x->p.chunk;
    if (max && len > max)
      len = max;
    if (len > x->end - x->next)
      len = (uint32_t)(x->end - x->next);
    uint16_t ix = x->free_ix[x->n_free - 1];
    uint64_t req = 0;
    int rc = max ? smbx__cli_io(cli, conn, x->p.session, x->p.tree_id,
                                x->p.file_id, x->p.offset + x->next,
                                (uint8_t *)x->p.buf + x->next, len, read,
                                cookie(x, slot, ix), &req)
                 : SMBX_ERR_STATE;
    if (rc == SMBX_ERR_AGAIN) {
      /* credits, send slots or registrations are all taken: a WRITABLE
       * or any completion resumes it */
      set_stalled(t, x, x->inflight == 0);
      break;
    }
    if (rc) {
      /* its channel died: the session's others carry the rest */
      uint64_t alt = smbx__cli_pick(cli, x->p.session);
      if (x->p.conn && alt && alt != x->p.conn) {
        x->p.conn = alt;
        continue;
      }
      if (!x->err)
        x->err = rc;
      x->stopping = true;
      break;
    }
    set_stalled(t, x, false);
    x->n_free--;
    piece *pc = &x->pieces[ix];
    pc->conn = conn;
    pc->req = req;
    pc->offset = x->next;
    pc->length = len;
    x->next += len;
    x->issued += len;
    x->requests++;
    if (++x->inflight > x->max_inflight)
      x->max_inflight = x->inflight;
  }
  x->pumping = false;
}

/* Pumps, then ends the transfer once nothing is in flight and nothing
 * more will be sent. */
static void settle(smbx_client *cli, smbx__cli_xfers *t, uint32_t slot)
{
  xf *x = t->slot[slot];
  if (x->pumping)
    return;
  pump(cli, t, slot);
  if (x->inflight || (!x->stopping && x->next < x->end))
    return;
  /* the room held since start (n_live) carries this event */
  smbx_event *e = smbx__client_push(cli, SMBX_EV_XFER_DONE, x->p.conn);
  if (e) {
    e->u.xfer.xfer = ((uint64_t)x->gen << 32) | (slot + 1);
    e->u.xfer.user = x->p.user;
    e->u.xfer.bytes = x->bytes;
    e->u.xfer.requests = x->requests;
    e->u.xfer.err = x->err;
    e->u.xfer.status = x->status;
    e->u.xfer.flags = x->done_flags;
    e->u.xfer.max_inflight = x->max_inflight;
  }
  xf_free(t, slot);
}

static void fail(xf *x, int err, uint32_t status)
{
  if (!x->err && !x->status) {
    x->err = err;
    x->status = status;
  }
  x->stopping = true;
}

/* A read piece answered: its bytes are in buf (RDMA) or in the response
 * (inline: copied once). Returns the bytes, or a negative code. */
static int64_t read_bytes(xf *x, const piece *pc, const smbx__conn_pdu *r,
                          bool rdma, uint32_t placed)
{
  if (rdma)
    return placed;
  smbx_smb2_read_resp rr;
  if (smbx_smb2_decode_read_resp(r->data, r->len, &rr, NULL) != 0 ||
      rr.data.len > pc->length)
    return SMBX_ERR_PROTO;
  if (rr.data.len)
    memcpy((uint8_t *)x->p.buf + pc->offset, rr.data.p, rr.data.len);
  return (int64_t)rr.data.len;
}

bool smbx__cli_xfer_complete(smbx_client *cli, uint64_t conn, uint64_t req,
                             uint64_t user, int err, const smbx__conn_pdu *r,
                             bool rdma, uint32_t placed)
{
  smbx__cli_xfers *t = *smbx__client_xfers(cli);
  uint32_t slot = (uint32_t)(user >> 16) & 0xFFFFu;
  uint32_t ix = (uint32_t)user & 0xFFFFu;
  if (!t || slot >= t->n || !t->slot[slot])
    return false;
  xf *x = t->slot[slot];
  if (x->gen != (uint32_t)(user >> 32) || ix >= x->p.depth)
    return false;
  piece *pc = &x->pieces[ix];
  if (pc->req != req || pc->conn != conn || pc->req == 0)
    return false;
  bool read = !(x->p.flags & SMBX_XFER_WRITE);
  uint32_t st = r ? r->hdr.status : 0;
  if (err || !r) {
    fail(x, err ? err : SMBX_ERR_PROTO, 0);
  } else if (read && st == SMBX_STATUS_END_OF_FILE) {
    if (pc->offset < x->end)
      x->end = pc->offset;
    x->done_flags |= SMBX_XFER_DONE_EOF;
  } else if (st != SMBX_STATUS_SUCCESS) {
    fail(x, 0, st);
  } else if (read) {
    int64_t n = read_bytes(x, pc, r, rdma, placed);
    if (n < 0) {
      fail(x, (int)n, 0);
    } else {
      x->bytes += (uint64_t)n;
      if ((uint64_t)n < pc->length) { /* a short read: EOF there */
        if (pc->offset + (uint64_t)n < x->end)
          x->end = pc->offset + (uint64_t)n;
        x->done_flags |= SMBX_XFER_DONE_EOF;
      }
    }
  } else {
    smbx_smb2_write_resp wr;
    uint32_t n = 0;
    if (rdma)
      n = placed;
    else if (smbx_smb2_decode_write_resp(r->data, r->len, &wr, NULL) == 0)
      n = wr.count;
    if (n != pc->length) /* a write is whole or it failed */
      fail(x, SMBX_ERR_PROTO, 0);
    else
      x->bytes += n;
  }
  memset(pc, 0, sizeof *pc);
  x->free_ix[x->n_free++] = (uint16_t)ix;
  x->inflight--;
  settle(cli, t, slot);
  smbx__cli_xfer_kick(cli);
  return true;
}

void smbx__cli_xfer_writable(smbx_client *cli)
{
  smbx__cli_xfers *t = *smbx__client_xfers(cli);
  for (uint32_t i = 0; t && i < t->n; i++)
    if (t->slot[i])
      settle(cli, t, i);
}

void smbx__cli_xfer_kick(smbx_client *cli)
{
  smbx__cli_xfers *t = *smbx__client_xfers(cli);
  for (uint32_t i = 0; t && t->n_stalled && i < t->n; i++)
    if (t->slot[i] && t->slot[i]->stalled && !t->slot[i]->pumping)
      settle(cli, t, i);
}

void smbx__cli_xfer_conn_down(smbx_client *cli, int err)
{
  smbx__cli_xfers *t = *smbx__client_xfers(cli);
  for (uint32_t i = 0; t && t->n_stalled && i < t->n; i++) {
    xf *x = t->slot[i];
    if (!x || !x->stalled || x->pumping)
      continue;
    /* no completion or WRITABLE will come from a dead channel: go on
     * over a surviving one of the session, or end with its error */
    if (!smbx__cli_pick(cli, x->p.session))
      fail(x, err, 0);
    settle(cli, t, i);
  }
}

uint32_t smbx__cli_xfers_live(const smbx__cli_xfers *t)
{
  return t ? t->n_live : 0;
}

void smbx__cli_xfers_free(smbx_client *cli, smbx__cli_xfers *t)
{
  (void)cli;
  if (!t)
    return;
  for (uint32_t i = 0; i < t->n; i++)
    if (t->slot[i])
      xf_free(t, i);
  smbx_allocator a = t->a;
  if (t->slot)
    smbx__free(&a, t->slot, t->n * sizeof *t->slot, _Alignof(xf *));
  SMBX__DELETE(&a, t, smbx__cli_xfers);
}

/* A free table slot (the table grows by doubling, at start only). */
static int slot_get(smbx_client *cli, smbx__cli_xfers **tp, uint32_t *slot)
{
  smbx__cli_xfers *t = *tp;
  if (!t) {
    const smbx_allocator *a = smbx__client_allocator(cli);
    t = SMBX__NEW(a, smbx__cli_xfers);
    if (!t)
      return SMBX_ERR_NOMEM;
    t->a = *a;
    *tp = t;
  }
  for (uint32_t i = 0; i < t->n; i++)
    if (!t->slot[i]) {
      *slot = i;
      return 0;
    }
  if (t->n >= XF_SLOT_MAX)
    return SMBX_ERR_LIMIT;
  uint32_t n = t->n ? t->n * 2 : 4;
  if (n > XF_SLOT_MAX)
    n = XF_SLOT_MAX;
  xf **s = smbx__realloc(&t->a, t->slot, t->n * sizeof *s, n * sizeof *s,
                         _Alignof(xf *));
  if (!s)
    return SMBX_ERR_NOMEM;
  memset(s + t->n, 0, (n - t->n) * sizeof *s);
  *slot = t->n;
  t->slot = s;
  t->n = n;
  return 0;
}

int smbx_client_xfer_start(smbx_client *cli, const smbx_client_xfer *in,
                           uint64_t now_ns, uint64_t *handle)
{
  if (!cli || !in || !handle || in->struct_size < sizeof *in || !in->buf ||
      in->length == 0 || in->session == 0 ||
      (in->flags & ~SMBX_XFER_WRITE) || in->depth > 0xFFFFu ||
      in->offset + in->length < in->offset)
    return SMBX_ERR_INVAL;
  cli->now = now_ns; /* the pieces' request timers start now */
  bool read = !(in->flags & SMBX_XFER_WRITE);
  uint64_t conn = in->conn ? in->conn : smbx__cli_pick(cli, in->session);
  uint32_t max = conn ? smbx__cli_io_max(cli, conn, in->session, read) : 0;
  if (!max)
    return conn ? SMBX_ERR_STATE : SMBX_ERR_NOTFOUND;
  if (in->chunk > max)
    return SMBX_ERR_RANGE;
  /* the room its XFER_DONE will take, counted from here on (n_live) */
  if (!smbx__client_room(cli, 1))
    return SMBX_ERR_NOMEM;
  smbx__cli_xfers **tp = smbx__client_xfers(cli);
  uint32_t slot;
  int rc = slot_get(cli, tp, &slot);
  if (rc)
    return rc;
  smbx__cli_xfers *t = *tp;
  xf *x = SMBX__NEW(&t->a, xf);
  if (!x)
    return SMBX_ERR_NOMEM;
  x->p = *in;
  x->p.struct_size = sizeof x->p;
  if (x->p.depth == 0)
    x->p.depth = 64;
  if (x->p.chunk == 0)
    x->p.chunk = max;
  uint32_t d = x->p.depth;
  x->pieces = smbx__calloc(&t->a, d, sizeof *x->pieces, _Alignof(piece));
  x->free_ix = smbx__calloc(&t->a, d, sizeof *x->free_ix, _Alignof(uint16_t));
  if (!x->pieces || !x->free_ix) {
    if (x->pieces)
      smbx__free(&t->a, x->pieces, d * sizeof *x->pieces, _Alignof(piece));
    if (x->free_ix)
      smbx__free(&t->a, x->free_ix, d * sizeof *x->free_ix,
                 _Alignof(uint16_t));
    SMBX__DELETE(&t->a, x, xf);
    return SMBX_ERR_NOMEM;
  }
  t->slot[slot] = x;
  t->n_live++;
  /* lowest index on top: pieces go out 0, 1, 2, ... */
  for (uint32_t i = 0; i < d; i++)
    x->free_ix[i] = (uint16_t)(d - 1 - i);
  x->n_free = d;
  x->end = in->length;
  if (++t->gen == 0)
    t->gen = 1;
  x->gen = t->gen;
  pump(cli, t, slot);
  if (x->requests == 0 && x->stopping) { /* nothing went out: no event */
    rc = x->err;
    xf_free(t, slot);
    return rc ? rc : SMBX_ERR_STATE;
  }
  *handle = ((uint64_t)x->gen << 32) | (slot + 1);
  /* the connection died sending a later piece and completed the earlier
   * ones in the pump: no completion is left to end it */
  if (x->inflight == 0 && x->stopping)
    settle(cli, t, slot);
  return 0;
}

int smbx_client_xfer_cancel(smbx_client *cli, uint64_t handle,
                            uint64_t now_ns)
{
  smbx__cli_xfers *t = cli ? *smbx__client_xfers(cli) : NULL;
  uint32_t slot;
  xf *x = by_handle(t, handle, &slot);
  if (!x)
    return SMBX_ERR_NOTFOUND;
  if (!(x->done_flags & SMBX_XFER_DONE_CANCELLED)) {
    x->done_flags |= SMBX_XFER_DONE_CANCELLED;
    x->stopping = true;
    /* best effort: a piece replayed elsewhere is no longer known by its
     * first handle, and the server may answer any piece normally. A
     * CANCEL whose send kills the connection completes the pieces in
     * here: pumping keeps settle from freeing x under the loop */
    x->pumping = true;
    for (uint32_t i = 0; i < x->p.depth; i++)
      if (x->pieces[i].req)
        (void)smbx_client_cancel(cli, x->pieces[i].conn, x->pieces[i].req,
                                 now_ns);
    x->pumping = false;
  }
  if (x->inflight == 0)
    settle(cli, t, slot);
  return 0;
}

int smbx_client_xfer_get_info(const smbx_client *cli, uint64_t handle,
                              smbx_client_xfer_info *out)
{
  if (!cli || !out || out->struct_size < sizeof *out)
    return SMBX_ERR_INVAL;
  uint32_t slot;
  xf *x = by_handle(*smbx__client_xfers((smbx_client *)(uintptr_t)cli),
                    handle, &slot);
  if (!x)
    return SMBX_ERR_NOTFOUND;
  out->bytes = x->bytes;
  out->issued = x->issued;
  out->requests = x->requests;
  out->inflight = x->inflight;
  out->max_inflight = x->max_inflight;
  return 0;
}
