/* SPDX-License-Identifier: MIT */
/* SMB Direct data path: credits ([MS-SMBD] 3.1.5.9 and the 2019 errata to
 * 3.1.5.1/3.1.5.8), sending and fragmentation (3.1.5.1-3.1.5.3),
 * receiving and reassembly (3.1.5.8). See docs/smbd.md. */
#include <string.h>

#include "core/compiler.h"
#include "smbd/smbd_int.h"

/* The receive credit target we serve: the peer's CreditsRequested clamped
 * to ReceiveCreditMax and to our buffers less one: that reserve receive
 * is what lets our last send credit carry a grant (3.1.5.1 errata; if
 * every receive is granted already, both sides can wait forever). 1 under
 * backpressure (one credit always stays grantable). */
void smbx__smbd_retarget(smbx_smbd *d)
{
  uint32_t t = d->recv_credit_target;
  if (t > d->s.recv_credit_max)
    t = d->s.recv_credit_max;
  if (t > d->n_rb - 1)
    t = d->n_rb - 1;
  if (d->backpressure && t > 1)
    t = 1;
  d->eff_target = t ? t : 1;
}

static uint32_t posted_ungranted(const smbx_smbd *d)
{
  return d->n_posted > d->recv_credits ? d->n_posted - d->recv_credits : 0;
}

/* 3.1.5.9: how many credits the next message grants. Posts receives as
 * needed (a credit is never granted without a posted receive). must: (b),
 * ReceiveCredits == 0 or our last send credit -> grant >= 1 if at all
 * possible. Returns the grant or a fatal code. */
static inline int compute_grant(smbx_smbd *d, bool must)
{
  uint32_t t = d->eff_target;
  uint32_t want = t > d->recv_credits ? t - d->recv_credits : 0; /* (a)/(c) */
  if (must && want == 0)
    want = 1;
  uint32_t avail = posted_ungranted(d);
  while (avail < want && d->n_free) {
    int rc = smbx__smbd_post_free(d);
    if (rc)
      return rc;
    avail++;
  }
  /* <= eff_target <= ReceiveCreditMax <= 65535: fits CreditsGranted */
  return (int)(want < avail ? want : avail);
}

/* Writes the header at post time (credits are decided now) and posts. */
static inline int send_one(smbx_smbd *d, uint32_t i, uint8_t *mem,
                           uint32_t grant, uint64_t now)
{
  smbx__smbd_slot *s = &d->slot[i];
  uint16_t flags = 0;
  if (d->ka == KA_PENDING) { /* 3.1.5.1: keepalive rides on this message */
    flags |= SMBX_SMBD_FLAG_RESPONSE_REQUESTED;
    d->ka = KA_SENT;
    d->due &= (uint8_t)~DUE_KA;
    /* the answer has keepalive_timeout from now, however long the
     * request waited for a credit */
    d->idle_at = smbx__smbd_after(now, d->s.keepalive_timeout_ns);
  }
  uint16_t req = (uint16_t)d->send_credit_target;
  size_t hl = smbx__smbd_put_data_hdr(mem, req, (uint16_t)grant, flags,
                                      s->remaining, s->data_len);
  s->wire_len = (uint32_t)hl + s->data_len;
  d->send_credits--;
  d->recv_credits += grant;
  d->due &= (uint8_t)~(grant ? DUE_REPLY | DUE_RAISED : DUE_REPLY);
  return smbx__smbd_post_slot(d, i, mem);
}

/* 3.1.5.1 as amended: drain the send queue in order while credits allow;
 * then, with nothing queued, send a credit-only/keepalive/response
 * message if one is due. */
int smbx__smbd_pump_work(smbx_smbd *d, uint64_t now)
{
  if (d->torn || d->state != SMBX_SMBD_STATE_CONNECTED)
    return 0;
  while (d->q_head != SMBX__SMBD_NIL) {
    /* peers over-grant (65535): in-flight sends stay within our SQ */
    if (d->n_inflight >= d->s.send_queue_depth || d->send_credits == 0)
      break;
    bool must = d->recv_credits == 0 || d->send_credits == 1;
    int g = compute_grant(d, must);
    if (g < 0)
      return g;
    /* errata 3.1.5.1: the last credit only goes on a message that grants
     * >= 1, or both sides can end up with zero credits; 3.1.5.9 (b): with
     * ReceiveCredits 0 and no receive postable it is "cannot send now"
     * too (the peer could never answer) */
    if (must && g == 0)
      break;
    uint32_t i = d->q_head;
    d->q_head = d->slot[i].next;
    if (d->q_head == SMBX__SMBD_NIL) {
      d->q_tail = SMBX__SMBD_NIL;
      d->due &= (uint8_t)~DUE_QUEUED;
    }
    d->n_queued--;
    int rc = send_one(d, i, smbx__smbd_slot_mem(d, i), (uint32_t)g, now);
    if (rc)
      return rc;
  }
  if (d->q_head == SMBX__SMBD_NIL && d->send_credits > 0 &&
      d->n_inflight < d->s.send_queue_depth) {
    uint32_t t = d->eff_target;
    uint32_t missing = t > d->recv_credits ? t - d->recv_credits : 0;
    uint32_t grantable = posted_ungranted(d) + d->n_free;
    if (grantable > missing)
      grantable = missing;
    /* 3.1.5.8: reply promptly to RESPONSE_REQUESTED; 3.1.6.2: keepalive */
    bool need = (d->due & (DUE_REPLY | DUE_KA)) != 0;
    /* 3.4: refill when the peer is out of credits, low (<= 1/4 of the
     * target) or raised its target; never for a single missing credit
     * (unless the target is 1), or two idle peers ping-pong forever */
    bool guard = missing >= 2 || t == 1;
    bool refill = grantable > 0 &&
                  (d->recv_credits == 0 ||
                   (guard && (d->recv_credits * 4 <= t ||
                              (d->due & DUE_RAISED))));
    if (need || refill) {
      bool must = d->recv_credits == 0 || d->send_credits == 1;
      int g = compute_grant(d, must);
      if (g < 0)
        return g;
      if (!(must && g == 0) && (need || g > 0)) {
        uint32_t i = smbx__smbd_slot_get(d);
        if (i != SMBX__SMBD_NIL) {
          smbx__smbd_slot *s = &d->slot[i];
          s->kind = SK_CTRL;
          s->data_len = 0;
          s->remaining = 0;
          s->last = 0;
          s->inv = 0;
          s->msg_id = 0;
          int rc = send_one(d, i, smbx__smbd_slot_mem(d, i), (uint32_t)g,
                            now);
          if (rc)
            return rc;
        }
      }
    }
  }
  /* Windows: zero send credits with data waiting for too long -> drop */
  if (d->s.zero_credit_timeout_ns && d->q_head != SMBX__SMBD_NIL &&
      d->send_credits == 0) {
    if (d->zc_deadline == SMBX__SMBD_NEVER) {
      d->zc_deadline = smbx__smbd_after(now, d->s.zero_credit_timeout_ns);
      d->due |= DUE_ZC;
    }
  } else {
    d->zc_deadline = SMBX__SMBD_NEVER;
    d->due &= (uint8_t)~DUE_ZC;
  }
  if (d->closing && d->q_head == SMBX__SMBD_NIL && d->n_inflight == 0)
    return smbx__smbd_terminate(d, 0, "smbd: closed by the host", 0, 0);
  return 0;
}

int smbx__smbd_grow_for(smbx_smbd *d, uint64_t nf)
{
  /* slots short: make more before asking the caller to wait; a failure
   * leaves the connection as it was (the host may retry later) */
  while ((d->n_free_slots == 0 || nf > d->n_free_slots - 1) &&
         d->n_made < d->n_slots)
    if (smbx__smbd_grow_slots(d) != 0)
      return SMBX_ERR_NOMEM;
  return d->n_free_slots == 0 || nf > d->n_free_slots - 1 ? SMBX_ERR_AGAIN
                                                          : 0;
}

/* The common case: nothing queued ahead and a credit to spare (no grant
 * is owed), so a message of one fragment goes out now, without the queue
 * round. */
static inline bool can_send_now(const smbx_smbd *d)
{
  return d->q_head == SMBX__SMBD_NIL && d->send_credits > 1 &&
         d->recv_credits > 0 && d->n_inflight < d->s.send_queue_depth;
}

/* Sends the message (total bytes in n_iov pieces, one fragment, a slot
 * reserved, can_send_now) at once. */
static inline int send_single(smbx_smbd *d, const smbx_sge *iov, size_t n_iov,
                              uint32_t total, uint32_t flags,
                              uint32_t invalidate_rkey, uint64_t id,
                              uint64_t now)
{
  int g = compute_grant(d, false);
  if (g < 0)
    return g;
  uint32_t i = smbx__smbd_slot_get(d);
  smbx__smbd_slot *s = &d->slot[i];
  uint8_t *mem = smbx__smbd_slot_mem(d, i);
  uint8_t *dst = mem + SMBX_SMBD_DATA_HDR_SIZE;
  for (size_t k = 0; k < n_iov; k++) {
    if (iov[k].length)
      memcpy(dst, iov[k].addr, iov[k].length);
    dst += iov[k].length;
  }
  s->kind = SK_DATA;
  s->data_len = total;
  s->remaining = 0;
  s->last = 1;
  s->msg_id = id;
  s->inv = (flags & SMBX_SEND_INVALIDATE) != 0;
  s->inv_rkey = s->inv ? invalidate_rkey : 0;
  int rc = send_one(d, i, mem, (uint32_t)g, now);
  if (rc == 0)
    rc = smbx__smbd_pump(d, now);
  return rc < 0 ? rc : 0;
}

/* An owner's message the fast path does not take: through the API. */
static int send_msg_general(smbx_smbd *d, const uint8_t *p, size_t len,
                            uint32_t flags, uint32_t invalidate_rkey,
                            uint64_t now_ns)
{
  smbx_sge sg = {(void *)(uintptr_t)p, (uint32_t)len, 0, 0};
  return smbx_smbd_send(d, &sg, 1, flags, invalidate_rkey, NULL, now_ns);
}

/* The data path's send: one fragment (len 0 wraps past one_frag_max), a
 * slot to spare (one stays for control messages), can_send_now and no
 * keepalive to carry. The header is three words (Flags, Reserved,
 * RemainingDataLength and Padding 0, DataOffset 24) and the slot keeps
 * only what its SEND_DONE reads. No pump after it: with nothing queued
 * (so no zero-credit watchdog), no keepalive owed and the prompt reply
 * this message was, a control message could only be due for credits,
 * and the grant just took every credit there was to grant. */
int smbx__smbd_send_msg(smbx_smbd *d, const uint8_t *p, size_t len,
                        uint32_t flags, uint32_t invalidate_rkey,
                        uint64_t now_ns)
{
  if (len - 1 >= d->one_frag_max || d->n_free_slots <= 1 ||
      !can_send_now(d) || d->ka == KA_PENDING)
    return send_msg_general(d, p, len, flags, invalidate_rkey, now_ns);
  uint32_t i = d->free_head; /* n_free_slots > 1 */
  smbx__smbd_slot *s = &d->slot[i];
  uint8_t *mem = smbx__smbd_slot_mem(d, i);
  memcpy(mem + SMBX_SMBD_DATA_HDR_SIZE, p, len);
  int g = compute_grant(d, false);
  if (g < 0)
    return g;
  d->free_head = s->next;
  d->n_free_slots--;
  smbx__put_le64(mem, d->send_credit_target | (uint64_t)g << 16);
  smbx__put_le64(mem + 8, (uint64_t)SMBX_SMBD_DATA_HDR_SIZE << 32);
  smbx__put_le64(mem + 16, len);
  d->send_credits--;
  d->recv_credits += (uint32_t)g;
  d->due &= (uint8_t)~(g ? DUE_REPLY | DUE_RAISED : DUE_REPLY);
  s->msg_id = ++d->msg_seq;
  s->state = SS_INFLIGHT;
  s->kind = SK_DATA;
  s->last = 1;
  d->n_inflight++;
  uint32_t inv = flags & SMBX_SEND_INVALIDATE;
  smbx_sge sg = {mem, (uint32_t)len + SMBX_SMBD_DATA_HDR_SIZE, 0,
                 d->chunk[i >> SMBX__SMBD_CHUNK_SHIFT].mr.handle};
  if (d->t.post_send(d->t.user_data, SMBX__SMBD_WR_SEND << 32 | i, &sg, 1, inv,
                     inv ? invalidate_rkey : 0) != 0)
    return smbx__smbd_post_send_failed(d, i);
  return 0;
}

int smbx_smbd_send(smbx_smbd *d, const smbx_sge *iov, size_t n_iov,
                   uint32_t flags, uint32_t invalidate_rkey, uint64_t *msg_id,
                   uint64_t now_ns)
{
  if (!d || (n_iov && !iov))
    return SMBX_ERR_INVAL;
  if (d->err)
    return d->err;
  if (d->closing)
    return SMBX_ERR_CLOSED;
  if (d->state != SMBX_SMBD_STATE_CONNECTED)
    return SMBX_ERR_STATE;
  uint64_t total = 0;
  for (size_t k = 0; k < n_iov; k++) {
    if (iov[k].length && !iov[k].addr)
      return SMBX_ERR_INVAL;
    total += iov[k].length;
  }
  /* 3.1.5.1: larger than the peer's MaxFragmentedSize -> local error */
  if (total == 0 || total > d->max_frag_send)
    return SMBX_ERR_RANGE;
  uint32_t per = d->max_send - SMBX_SMBD_DATA_HDR_SIZE;
  uint64_t nf = smbx__smbd_frags(total, per);
  /* one slot stays free for credit-only / keepalive messages */
  if (nf > d->n_slots - 1)
    return SMBX_ERR_LIMIT;
  int rc = smbx__smbd_reserve_slots(d, nf);
  if (rc)
    return rc;
  /* queued SEND_DONE events + every message that can still complete stay
   * within the SEND_DONE part of the event queue: a host that sends
   * without draining events gets AGAIN instead of losing events */
  if (!d->upcall &&
      d->ev_sd + (uint64_t)(d->n_made - d->n_free_slots) + nf > d->n_slots)
    return SMBX_ERR_AGAIN;
  uint64_t id = ++d->msg_seq;
  if (msg_id)
    *msg_id = id;
  if (nf == 1 && can_send_now(d))
    return send_single(d, iov, n_iov, (uint32_t)total, flags,
                       invalidate_rkey, id, now_ns);
  uint64_t left = total;
  size_t k = 0, koff = 0;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t i = smbx__smbd_slot_get(d);
    smbx__smbd_slot *s = &d->slot[i];
    uint32_t n = left < per ? (uint32_t)left : per;
    uint8_t *dst = smbx__smbd_slot_mem(d, i) + SMBX_SMBD_DATA_HDR_SIZE;
    for (uint32_t put = 0; put < n;) {
      while (iov[k].length == koff) {
        k++;
        koff = 0;
      }
      size_t c = iov[k].length - koff;
      if (c > n - put)
        c = n - put;
      memcpy(dst + put, (const uint8_t *)iov[k].addr + koff, c);
      put += (uint32_t)c;
      koff += c;
    }
    left -= n;
    s->kind = SK_DATA;
    s->state = SS_QUEUED;
    s->data_len = n;
    s->remaining = (uint32_t)left;
    s->last = left == 0;
    s->msg_id = id;
    s->inv = f == 0 && (flags & SMBX_SEND_INVALIDATE);
    s->inv_rkey = s->inv ? invalidate_rkey : 0;
    s->next = SMBX__SMBD_NIL;
    if (d->q_tail == SMBX__SMBD_NIL)
      d->q_head = i;
    else
      d->slot[d->q_tail].next = i;
    d->q_tail = i;
    d->n_queued++;
  }
  d->due |= DUE_QUEUED;
  rc = smbx__smbd_pump(d, now_ns);
  return rc < 0 ? rc : 0;
}

static uint32_t ra_find_free(const smbx_smbd *d)
{
  for (uint32_t r = 0; r < d->n_ra; r++)
    if (!d->ra[r].busy && r != d->ra_cur)
      return r;
  return SMBX__SMBD_NIL;
}

/* An owner's MESSAGE event, built in place (the owner reads the message
 * member only). */
static inline void message_event(smbx_smbd_event *ev, const uint8_t *p,
                                 size_t len, uint64_t token, uint32_t flags,
                                 uint32_t rkey, uint32_t frags)
{
  ev->struct_size = sizeof *ev;
  ev->type = SMBX_SMBD_EV_MESSAGE;
  ev->flags = 0;
  ev->u.message.data = p;
  ev->u.message.len = len;
  ev->u.message.token = token;
  ev->u.message.flags = flags;
  ev->u.message.invalidated_rkey = rkey;
  ev->u.message.fragments = frags;
  ev->u.message.reserved = 0;
}

/* MESSAGE, built straight into the owner's event when there is an owner. */
static void emit_message(smbx_smbd *d, const uint8_t *p, size_t len,
                         uint64_t token, uint32_t flags, uint32_t rkey,
                         uint32_t frags)
{
  if (d->upcall) {
    smbx_smbd_event ev;
    message_event(&ev, p, len, token, flags, rkey, frags);
    d->upcall(d->upcall_ctx, &ev);
    return;
  }
  smbx__smbd_ev e = {SMBX_SMBD_EV_MESSAGE, flags, rkey, frags, token, p, len};
  smbx__smbd_queue_push(d, &e);
}

/* 3.1.5.8: the peer's CreditsRequested (clamped) is our receive credit
 * target; a raised one is answered promptly (3.4). Out of line: peers
 * rarely change it. */
static SMBX__COLD void new_target(smbx_smbd *d, uint32_t t)
{
  if (t > d->recv_credit_target)
    d->due |= DUE_RAISED;
  d->recv_credit_target = t;
  smbx__smbd_retarget(d);
}

/* [MS-SMBD] 3.1.5.8 for buffer i (limbo) of len bytes. Inline into the
 * receive completion, its hot caller. */
static inline int recv_data(smbx_smbd *d, uint32_t i, uint32_t len,
                            uint32_t wc_flags, uint32_t rkey, uint64_t now)
{
  const uint8_t *p = d->rb[i].sg.addr;
  smbx_smbd_data m;
  smbx_error_detail det = {NULL, 0};
  /* longer than our MaxReceiveSize -> terminate */
  if (len > d->max_recv) {
    smbx__smbd_rb_free_push(d, i);
    return smbx__smbd_terminate(d, SMBX_ERR_PROTO,
                                "smbd data: longer than MaxReceiveSize", len, 0);
  }
  if (smbx__smbd_decode_data(p, len, d->max_frag_recv, d->strict, &m, &det)) {
    smbx__smbd_rb_free_push(d, i);
    return smbx__smbd_terminate(d, SMBX_ERR_PROTO, det.reason, det.offset, 0);
  }
  bool in_ra = d->ra_cur != SMBX__SMBD_NIL;
  /* a new fragmented message needs a reassembly buffer: wait for one
   * (before any state changes; the receive stays queued in order) */
  if (m.data_length && !in_ra && m.remaining_data_length &&
      ra_find_free(d) == SMBX__SMBD_NIL) {
    smbx__smbd_rbuf *b = &d->rb[i];
    b->byte_len = len;
    b->wc_flags = (uint8_t)(wc_flags & SMBX_WC_WITH_INVALIDATE);
    b->inv_rkey = rkey;
    smbx__smbd_backlog_push(d, i, true);
    return SMBX__SMBD_BLOCKED;
  }
  /* a receive we never granted a credit for: the peer broke 3.1.5.1 */
  if (d->recv_credits == 0) {
    smbx__smbd_rb_free_push(d, i);
    return smbx__smbd_terminate(d, SMBX_ERR_PROTO,
                                "smbd data: message without a credit", 2, 0);
  }
  d->recv_credits--;
  uint32_t t = m.credits_requested < d->s.recv_credit_max ? m.credits_requested
                                                          : d->s.recv_credit_max;
  if (t != d->recv_credit_target)
    new_target(d, t);
  uint64_t sc = (uint64_t)d->send_credits + m.credits_granted;
  d->send_credits = sc > UINT32_MAX ? UINT32_MAX : (uint32_t)sc;
  if (m.flags & SMBX_SMBD_FLAG_RESPONSE_REQUESTED)
    d->due |= DUE_REPLY;
  d->ka = KA_NONE; /* 3.1.5.8: any message resets the idle timer */
  d->due &= (uint8_t)~DUE_KA;
  d->idle_at = now;
  uint32_t mflags = (wc_flags & SMBX_WC_WITH_INVALIDATE) ? SMBX_SMBD_MSG_INVALIDATED : 0;
  if (m.data_length == 0) {
    /* an empty message (also mid-reassembly: older Linux senders) carries
     * credits and flags only; its RemainingDataLength is ignored */
    smbx__smbd_recycle(d, i);
  } else if (in_ra) {
    /* cross-fragment rule (MSTS negative tests = Windows; Linux does not
     * check): each fragment's DataLength + RemainingDataLength equals the
     * previous RemainingDataLength; a premature 0 fails it too */
    if ((uint64_t)m.data_length + m.remaining_data_length != d->ra_expect) {
      smbx__smbd_rb_free_push(d, i);
      return smbx__smbd_terminate(d, SMBX_ERR_PROTO,
                                  "smbd data: RemainingDataLength chain broken",
                                  8, 0);
    }
    smbx__smbd_reasm *r = &d->ra[d->ra_cur];
    memcpy(r->p + d->ra_off, m.payload, m.data_length);
    d->ra_off += m.data_length;
    d->ra_expect = m.remaining_data_length;
    d->ra_frags++;
    d->ra_flags |= mflags;
    if (mflags)
      d->ra_rkey = rkey;
    if (m.remaining_data_length == 0) {
      uint32_t c = d->ra_cur;
      d->ra_cur = SMBX__SMBD_NIL;
      r->busy = 1;
      d->n_ra_busy++;
      emit_message(d, r->p, d->ra_total, SMBX__SMBD_TOK_REASM << 32 | c,
                   d->ra_flags, d->ra_rkey, d->ra_frags);
    }
    /* last: a failing repost tears down, which drops ra_cur */
    smbx__smbd_recycle(d, i);
  } else if (m.remaining_data_length == 0) {
    /* whole message: in place, unless holding this buffer would leave no
     * credit grantable (the owner is not reading): then copy it out */
    uint32_t r = SMBX__SMBD_NIL;
    if (d->n_free + posted_ungranted(d) == 0)
      r = ra_find_free(d);
    /* no memory for the copy: hold the buffer after all */
    if (r != SMBX__SMBD_NIL && smbx__smbd_ra_reserve(d, r, m.data_length))
      r = SMBX__SMBD_NIL;
    if (r != SMBX__SMBD_NIL) {
      memcpy(d->ra[r].p, m.payload, m.data_length);
      d->ra[r].busy = 1;
      d->n_ra_busy++;
      emit_message(d, d->ra[r].p, m.data_length,
                   SMBX__SMBD_TOK_REASM << 32 | r, mflags, rkey, 1);
      smbx__smbd_recycle(d, i); /* may tear down: after the delivery */
    } else {
      d->rb[i].state = RB_HELD;
      d->n_held++;
      emit_message(d, m.payload, m.data_length,
                   SMBX__SMBD_TOK_INPLACE << 32 | i, mflags, rkey, 1);
    }
  } else {
    /* first fragment: copy once into a reassembly buffer, repost at once */
    uint32_t r = ra_find_free(d);
    uint32_t total = m.data_length + m.remaining_data_length;
    if (smbx__smbd_ra_reserve(d, r, total)) {
      smbx__smbd_rb_free_push(d, i);
      return smbx__smbd_terminate(d, SMBX_ERR_NOMEM,
                                  "smbd data: no memory to reassemble", 0, 0);
    }
    d->ra_cur = r;
    d->ra_total = total;
    memcpy(d->ra[r].p, m.payload, m.data_length);
    d->ra_off = m.data_length;
    d->ra_expect = m.remaining_data_length;
    d->ra_frags = 1;
    d->ra_flags = mflags;
    d->ra_rkey = mflags ? rkey : 0;
    smbx__smbd_recycle(d, i);
  }
  if (d->torn)
    return d->err;
  return smbx__smbd_pump(d, now);
}

int smbx__smbd_recv_data(smbx_smbd *d, uint32_t i, uint32_t len,
                         uint32_t wc_flags, uint32_t rkey, uint64_t now)
{
  return recv_data(d, i, len, wc_flags, rkey, now);
}

/* Receive i (limbo) waits at the end of the backlog, its completion kept. */
static void recv_wait(smbx_smbd *d, uint32_t i, const smbx_wc *wc)
{
  smbx__smbd_rbuf *b = &d->rb[i];
  b->byte_len = wc->byte_len;
  b->wc_flags = (uint8_t)(wc->flags & SMBX_WC_WITH_INVALIDATE);
  b->inv_rkey = wc->invalidated_rkey;
  smbx__smbd_backlog_push(d, i, false);
}

/* A successful receive i (limbo, byte_len within its buffer) of a
 * connected engine with no backlog that the fast path did not take: a
 * fragment, an empty message, one to copy out, one that breaks a rule. */
static inline int recv_connected(smbx_smbd *d, const smbx_wc *wc, uint32_t i,
                                 uint64_t now_ns)
{
  int rc = smbx__smbd_recv_data(d, i, wc->byte_len, wc->flags,
                                wc->invalidated_rkey, now_ns);
  return rc < 0 ? rc : 0; /* SMBX__SMBD_BLOCKED: it waits in the backlog */
}

/* A receive completion neither the fast path nor recv_connected takes
 * (buffer i in limbo): an error completion, a torn or negotiating engine,
 * a backlog. */
static SMBX__NOINLINE int recv_general(smbx_smbd *d, const smbx_wc *wc,
                                       uint32_t i, uint64_t now_ns)
{
  smbx__smbd_rbuf *b = &d->rb[i];
  if (d->torn) {
    smbx__smbd_recycle(d, i);
    return 0;
  }
  if (wc->status != SMBX_WC_SUCCESS || wc->byte_len > b->sg.length) {
    smbx__smbd_rb_free_push(d, i);
    /* a flush means the QP went to error: the connection is gone (the
     * peer's disconnect usually; the CM event may come later) */
    return smbx__smbd_terminate(
        d, wc->status == SMBX_WC_FLUSH ? SMBX_ERR_CLOSED : SMBX_ERR_TRANSPORT,
        wc->status == SMBX_WC_FLUSH ? "smbd: receive flushed (QP in error)"
                                    : "smbd: receive completion error",
        0, 0);
  }
  if (d->fail_pending) {
    smbx__smbd_rb_free_push(d, i); /* after a failure response, data is ignored */
    return 0;
  }
  /* mlx5/irdma may complete the first receive before ESTABLISHED: keep it
   * (and anything behind a blocked message) in order */
  if (!d->established || d->bl_head != SMBX__SMBD_NIL) {
    recv_wait(d, i, wc);
    return 0;
  }
  if (d->state == SMBX_SMBD_STATE_CONNECTED)
    return recv_connected(d, wc, i, now_ns);
  int rc = smbx__smbd_dispatch(d, i, wc->byte_len, wc->flags,
                               wc->invalidated_rkey, now_ns);
  return rc < 0 ? rc : 0;
}

_Static_assert(DUE_REPLY == SMBX_SMBD_FLAG_RESPONSE_REQUESTED,
               "a received flag word sets DUE_REPLY without a branch");
_Static_assert(SMBX_WC_WITH_INVALIDATE == SMBX_SMBD_MSG_INVALIDATED,
               "a completion's flag is the message's flag");

/* A receive completion. The data path's common message (one whole
 * fragment at DataOffset 24, engine connected, nothing waiting before it,
 * no reassembly running, a credit it used, and either a free buffer or
 * a posted ungranted one so holding this one leaves a credit grantable)
 * is checked with the 3.1.5.8 rules in a few compares and delivered in
 * place here; other receives of a connected engine take recv_connected,
 * the rest recv_general. */
int smbx_smbd_recv(smbx_smbd *d, const smbx_wc *wc, uint64_t now_ns)
{
  if (!d || !wc || wc->wr_id >> 32 != SMBX__SMBD_WR_RECV)
    return SMBX_ERR_INVAL;
  uint64_t i64 = wc->wr_id & 0xFFFFFFFFu;
  if (i64 >= d->n_rb || d->rb[i64].state != RB_POSTED)
    return SMBX_ERR_INVAL;
  uint32_t i = (uint32_t)i64;
  smbx__smbd_rbuf *b = &d->rb[i];
  b->state = RB_GONE; /* limbo */
  d->n_posted--;
  uint32_t len = wc->byte_len;
  /* CONNECTED: not torn, no failure response pending, ESTABLISHED seen */
  if (wc->status != SMBX_WC_SUCCESS ||
      d->state != SMBX_SMBD_STATE_CONNECTED || d->bl_head != SMBX__SMBD_NIL ||
      len > b->sg.length)
    return recv_general(d, wc, i, now_ns);
  /* 25 <= len <= MaxReceiveSize; RemainingDataLength 0 (whole), DataOffset
   * 24 (aligned, past the header), 1 <= DataLength <= len - 24 (inside the
   * message, and so within MaxFragmentedRecvSize >= MaxReceiveSize) */
  const uint8_t *p = b->sg.addr;
  if (len - (SMBX_SMBD_DATA_HDR_SIZE + 1) >=
          d->max_recv - SMBX_SMBD_DATA_HDR_SIZE ||
      smbx__get_le64(p + 8) != (uint64_t)SMBX_SMBD_DATA_HDR_SIZE << 32)
    return recv_connected(d, wc, i, now_ns);
  uint32_t credits = smbx__get_le32(p); /* CreditsRequested, CreditsGranted */
  uint32_t dl = smbx__get_le32(p + 16);
  if ((credits & 0xFFFFu) == 0 || dl - 1 >= len - SMBX_SMBD_DATA_HDR_SIZE ||
      d->ra_cur != SMBX__SMBD_NIL || d->recv_credits == 0 ||
      (d->n_free == 0 && d->n_posted < d->recv_credits))
    return recv_connected(d, wc, i, now_ns);
  d->recv_credits--;
  uint32_t t = credits & 0xFFFFu;
  if (t > d->s.recv_credit_max)
    t = d->s.recv_credit_max;
  if (t != d->recv_credit_target)
    new_target(d, t);
  uint32_t sc = d->send_credits + (credits >> 16);
  d->send_credits = sc < d->send_credits ? UINT32_MAX : sc; /* saturates */
  /* 3.1.5.8: RESPONSE_REQUESTED is answered promptly; any message resets
   * the idle timer (only its time is kept) */
  d->due = (uint8_t)((d->due & ~(unsigned)DUE_KA) |
                     (smbx__get_le16(p + 4) & SMBX_SMBD_FLAG_RESPONSE_REQUESTED));
  d->ka = KA_NONE;
  d->idle_at = now_ns;
  b->state = RB_HELD;
  d->n_held++;
  if (d->upcall) {
    smbx_smbd_event ev;
    message_event(&ev, p + SMBX_SMBD_DATA_HDR_SIZE, dl,
                  SMBX__SMBD_TOK_INPLACE << 32 | i,
                  wc->flags & SMBX_WC_WITH_INVALIDATE, wc->invalidated_rkey, 1);
    d->upcall(d->upcall_ctx, &ev);
  } else {
    emit_message(d, p + SMBX_SMBD_DATA_HDR_SIZE, dl,
                 SMBX__SMBD_TOK_INPLACE << 32 | i,
                 wc->flags & SMBX_WC_WITH_INVALIDATE, wc->invalidated_rkey, 1);
  }
  if (d->torn)
    return d->err < 0 ? d->err : 0;
  int rc = smbx__smbd_pump(d, now_ns);
  return rc < 0 ? rc : 0;
}
