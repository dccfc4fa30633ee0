/* SPDX-License-Identifier: MIT */
/* SMB Direct engine: lifecycle, events, negotiate ([MS-SMBD] 3.1.5.2 -
 * 3.1.5.7), timers (3.1.6), teardown. Data path and credits: data.c. */
#include <string.h>

#include "core/compiler.h"
#include "smbd/smbd_int.h"

#define NS_PER_S 1000000000ull

int smbx_smbd_settings_default(smbx_smbd_settings *s, size_t struct_size)
{
  if (!s || struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_smbd_settings v;
  memset(&v, 0, sizeof v);
  v.struct_size = struct_size < sizeof v ? struct_size : sizeof v;
  v.role = SMBX_SMBD_ROLE_ACTIVE;
  v.recv_credit_max = 255;
  v.send_credit_target = 255;
  v.max_send_size = 1364;
  v.max_recv_size = 8192;
  v.max_fragmented_recv_size = 1048576;
  v.max_read_write_size = 1048576;
  v.min_read_write_size = 4096;
  v.send_queue_depth = 255;
  v.send_buffers = 800; /* a 1 MiB message at 1340 payload bytes = 783 */
  v.reassembly_buffers = 2;
  v.keepalive_interval_ns = 120 * NS_PER_S;
  v.keepalive_timeout_ns = 5 * NS_PER_S;
  v.negotiate_timeout_ns = 0;
  v.zero_credit_timeout_ns = 0;
  memcpy(s, &v, v.struct_size);
  return 0;
}

/* ---- events ---------------------------------------------------------- */

static void fill_event(const smbx_smbd *d, const smbx__smbd_ev *e,
                       smbx_smbd_event *out)
{
  out->type = e->type;
  out->flags = 0;
  switch (e->type) {
  case SMBX_SMBD_EV_NEGOTIATED:
    memset(&out->u.params, 0, sizeof out->u.params);
    out->u.params.struct_size = sizeof out->u.params;
    smbx_smbd_get_params(d, &out->u.params);
    break;
  case SMBX_SMBD_EV_MESSAGE:
    out->u.message.data = e->p;
    out->u.message.len = e->len;
    out->u.message.token = e->x;
    out->u.message.flags = e->a;
    out->u.message.invalidated_rkey = e->b;
    out->u.message.fragments = e->c;
    out->u.message.reserved = 0;
    break;
  case SMBX_SMBD_EV_SEND_DONE:
    out->u.send_done.msg_id = e->x;
    break;
  case SMBX_SMBD_EV_DISCONNECTED:
    out->u.disconnected.error = d->ev_err;
    out->u.disconnected.ntstatus = d->ntstatus;
    out->u.disconnected.reason = d->detail.reason ? d->detail.reason : "";
    break;
  case SMBX_SMBD_EV_RECV_BUFFER:
    out->u.recv_buf.addr = (void *)(uintptr_t)e->p;
    out->u.recv_buf.length = (uint32_t)e->len;
    out->u.recv_buf.index = e->a;
    out->u.recv_buf.handle = e->x;
    break;
  default:
    break;
  }
}

void smbx__smbd_queue_push(smbx_smbd *d, const smbx__smbd_ev *e)
{
  /* capacity covers every event that can be pending at once: MESSAGE <=
   * held buffers (n_rb + n_ra), RECV_BUFFER <= n_rb, 3 one-shot events,
   * SEND_DONE <= n_slots (smbx_smbd_send keeps queued SEND_DONEs plus
   * slots in use within n_slots) */
  if (d->ev_n == d->ev_cap)
    return;
  uint32_t at = d->ev_head + d->ev_n;
  if (at >= d->ev_cap)
    at -= d->ev_cap;
  d->ev[at] = *e;
  d->ev_n++;
  d->ev_sd += e->type == SMBX_SMBD_EV_SEND_DONE;
}

void smbx__smbd_emit(smbx_smbd *d, const smbx__smbd_ev *e)
{
  if (d->upcall) {
    smbx_smbd_event ev;
    ev.struct_size = sizeof ev;
    fill_event(d, e, &ev);
    d->upcall(d->upcall_ctx, &ev);
    return;
  }
  smbx__smbd_queue_push(d, e);
}

/* SEND_DONE, built straight into the owner's event when there is an owner
 * (MESSAGE likewise: data.c). */
static inline void send_done_event(smbx_smbd_event *ev, uint64_t msg_id)
{
  ev->struct_size = sizeof *ev;
  ev->type = SMBX_SMBD_EV_SEND_DONE;
  ev->flags = 0;
  ev->u.send_done.msg_id = msg_id;
}

static void emit_send_done(smbx_smbd *d, uint64_t msg_id)
{
  if (d->upcall) {
    smbx_smbd_event ev;
    send_done_event(&ev, msg_id);
    d->upcall(d->upcall_ctx, &ev);
    return;
  }
  smbx__smbd_ev e = {SMBX_SMBD_EV_SEND_DONE, 0, 0, 0, msg_id, NULL, 0};
  smbx__smbd_queue_push(d, &e);
}

int smbx_smbd_next_event(smbx_smbd *d, smbx_smbd_event *ev)
{
  if (!d || !ev || ev->struct_size < offsetof(smbx_smbd_event, u))
    return SMBX_ERR_INVAL;
  if (d->ev_n == 0)
    return 0;
  const smbx__smbd_ev *e = &d->ev[d->ev_head];
  if (ev->struct_size >= sizeof *ev) {
    fill_event(d, e, ev);
    ev->struct_size = sizeof *ev;
  } else {
    smbx_smbd_event full;
    size_t n = ev->struct_size;
    fill_event(d, e, &full);
    full.struct_size = n;
    memcpy(ev, &full, n);
  }
  d->ev_sd -= e->type == SMBX_SMBD_EV_SEND_DONE;
  d->ev_head = d->ev_head + 1 == d->ev_cap ? 0 : d->ev_head + 1;
  d->ev_n--;
  return 1;
}

void smbx__smbd_set_upcall(smbx_smbd *d, smbx__smbd_upcall fn, void *ctx)
{
  d->upcall = fn;
  d->upcall_ctx = ctx;
  /* the owner queues what it keeps: the engine's own queue is not used */
  if (fn && d->ev && d->ev_n == 0) {
    smbx__free(&d->alloc, d->ev, sizeof *d->ev * d->ev_cap,
               _Alignof(smbx__smbd_ev));
    d->ev = NULL;
    d->ev_cap = 0;
    d->ev_head = 0;
  }
}

static void emit_simple(smbx_smbd *d, uint32_t type, uint32_t a, uint64_t x)
{
  smbx__smbd_ev e = {type, a, 0, 0, x, NULL, 0};
  smbx__smbd_emit(d, &e);
}

/* ---- receive buffers and send slots ---------------------------------- */

static void rb_give_back(smbx_smbd *d, uint32_t i)
{
  smbx__smbd_rbuf *b = &d->rb[i];
  b->state = RB_GONE;
  smbx__smbd_ev e = {SMBX_SMBD_EV_RECV_BUFFER, i, 0, 0, b->sg.handle,
                     b->sg.addr, b->sg.length};
  smbx__smbd_emit(d, &e);
}

int smbx__smbd_post_recv_failed(smbx_smbd *d, uint32_t i)
{
  d->n_posted--;
  smbx__smbd_rb_free_push(d, i);
  return smbx__smbd_terminate(d, SMBX_ERR_TRANSPORT, "smbd: post_recv failed",
                              0, 0);
}

void smbx__smbd_recycle_torn(smbx_smbd *d, uint32_t i)
{
  rb_give_back(d, i);
  smbx__smbd_check_closed(d);
}

static size_t chunk_len(const smbx_smbd *d, uint32_t c)
{
  uint32_t n = d->n_slots - c * SMBX__SMBD_CHUNK_SLOTS;
  return (size_t)(n < SMBX__SMBD_CHUNK_SLOTS ? n : SMBX__SMBD_CHUNK_SLOTS) *
         d->slot_size;
}

int smbx__smbd_grow_slots(smbx_smbd *d)
{
  uint32_t c = d->n_made >> SMBX__SMBD_CHUNK_SHIFT;
  size_t len = chunk_len(d, c);
  uint8_t *mem = smbx__alloc(&d->alloc, len, 64);
  if (!mem)
    return SMBX_ERR_NOMEM;
  if (d->t.register_mr(d->t.user_data, mem, len, SMBX_MR_LOCAL_WRITE,
                       &d->chunk[c].mr) != 0) {
    smbx__free(&d->alloc, mem, len, 64);
    return SMBX_ERR_TRANSPORT;
  }
  d->chunk[c].mem = mem;
  uint32_t end = d->n_made + (uint32_t)(len / d->slot_size);
  for (uint32_t i = end; i-- > d->n_made;)
    smbx__smbd_slot_put(d, i);
  d->n_made = end;
  return 0;
}

int smbx__smbd_ra_reserve(smbx_smbd *d, uint32_t r, uint32_t len)
{
  smbx__smbd_reasm *b = &d->ra[r];
  if (b->cap >= len)
    return 0;
  /* doubling, so a workload's growing sizes cost a few allocations before
   * its largest message; never above what the peer may send */
  uint32_t cap = b->cap ? b->cap : 4096u;
  while (cap < len)
    cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
  if (cap > d->max_frag_recv)
    cap = d->max_frag_recv;
  uint8_t *p = smbx__alloc(&d->alloc, cap, 64);
  if (!p)
    return SMBX_ERR_NOMEM;
  if (b->p)
    smbx__free(&d->alloc, b->p, b->cap, 64);
  b->p = p;
  b->cap = cap;
  return 0;
}

int smbx__smbd_post_send_failed(smbx_smbd *d, uint32_t i)
{
  d->n_inflight--;
  smbx__smbd_slot_put(d, i);
  return smbx__smbd_terminate(d, SMBX_ERR_TRANSPORT, "smbd: post_send failed",
                              0, 0);
}

/* ---- teardown -------------------------------------------------------- */

void smbx__smbd_check_closed(smbx_smbd *d)
{
  if (!d->torn || d->closed_emitted || d->n_posted || d->n_inflight ||
      d->n_held || d->n_ra_busy)
    return;
  d->closed_emitted = true;
  d->state = SMBX_SMBD_STATE_CLOSED;
  emit_simple(d, SMBX_SMBD_EV_CLOSED, 0, 0);
}

int smbx__smbd_terminate(smbx_smbd *d, int err, const char *reason,
                         size_t off, uint32_t ntstatus)
{
  if (d->torn)
    return d->err;
  if (!d->err) {
    d->err = err ? err : SMBX_ERR_CLOSED;
    d->ev_err = err;
    d->detail.reason = reason;
    d->detail.offset = off;
    d->ntstatus = ntstatus;
  }
  d->torn = true;
  d->fail_pending = false;
  d->state = SMBX_SMBD_STATE_DISCONNECTED;
  d->neg_deadline = d->idle_at = d->zc_deadline = SMBX__SMBD_NEVER;
  d->due &= (uint8_t)~(DUE_ZC | DUE_QUEUED);
  emit_simple(d, SMBX_SMBD_EV_DISCONNECTED, 0, 0);
  /* queued fragments never go out: their slots are ours again */
  while (d->q_head != SMBX__SMBD_NIL) {
    uint32_t i = d->q_head;
    d->q_head = d->slot[i].next;
    smbx__smbd_slot_put(d, i);
  }
  d->q_tail = SMBX__SMBD_NIL;
  d->n_queued = 0;
  d->ra_cur = SMBX__SMBD_NIL; /* a partial message is dropped */
  /* every buffer the engine holds goes back now; posted ones come back
   * with their (flushed) completions, delivered ones on release */
  while (d->bl_head != SMBX__SMBD_NIL) {
    uint32_t i = d->bl_head;
    d->bl_head = d->rb[i].next;
    rb_give_back(d, i);
  }
  d->bl_tail = SMBX__SMBD_NIL;
  for (uint32_t i = smbx__smbd_rb_free_pop(d); i != SMBX__SMBD_NIL;
       i = smbx__smbd_rb_free_pop(d))
    rb_give_back(d, i);
  smbx__smbd_check_closed(d);
  return err ? d->err : 0;
}

/* ---- creation -------------------------------------------------------- */

static int check_settings(const smbx_smbd_settings *s)
{
  if (s->role > SMBX_SMBD_ROLE_PASSIVE || s->recv_credit_max == 0 ||
      s->recv_credit_max > 65535 || s->send_credit_target == 0 ||
      s->send_credit_target > 65535 ||
      s->max_send_size < SMBX_SMBD_MIN_RECEIVE_SIZE ||
      s->max_send_size > (1u << 24) ||
      s->max_recv_size < SMBX_SMBD_MIN_RECEIVE_SIZE ||
      s->max_fragmented_recv_size < SMBX_SMBD_MIN_FRAGMENTED_SIZE ||
      s->max_fragmented_recv_size > (1u << 30) ||
      s->max_recv_size > s->max_fragmented_recv_size ||
      s->send_queue_depth == 0 || s->send_buffers < 2 ||
      s->send_buffers > (1u << 20) || s->reassembly_buffers == 0 ||
      s->reassembly_buffers > 64)
    return SMBX_ERR_INVAL;
  return 0;
}

static void free_all(smbx_smbd *d)
{
  const smbx_allocator *a = &d->alloc;
  if (d->chunk) {
    for (uint32_t c = 0; c < d->n_chunks; c++) {
      if (!d->chunk[c].mem)
        continue;
      d->t.deregister_mr(d->t.user_data, &d->chunk[c].mr);
      smbx__free(a, d->chunk[c].mem, chunk_len(d, c), 64);
    }
    smbx__free(a, d->chunk, sizeof *d->chunk * d->n_chunks,
               _Alignof(smbx__smbd_chunk));
  }
  if (d->ra) {
    for (uint32_t i = 0; i < d->n_ra; i++)
      if (d->ra[i].p)
        smbx__free(a, d->ra[i].p, d->ra[i].cap, 64);
    smbx__free(a, d->ra, sizeof *d->ra * d->n_ra, _Alignof(smbx__smbd_reasm));
  }
  if (d->slot)
    smbx__free(a, d->slot, sizeof *d->slot * d->n_slots,
               _Alignof(smbx__smbd_slot));
  if (d->rb)
    smbx__free(a, d->rb, sizeof *d->rb * d->n_rb, _Alignof(smbx__smbd_rbuf));
  if (d->ev)
    smbx__free(a, d->ev, sizeof *d->ev * d->ev_cap, _Alignof(smbx__smbd_ev));
  smbx_allocator copy = d->alloc;
  SMBX__DELETE(&copy, d, smbx_smbd);
}

int smbx_smbd_new(smbx_smbd **out, const smbx_smbd_settings *s,
                  const smbx_transport *t, const smbx_smbd_recv_buf *bufs,
                  size_t n_bufs, const smbx_allocator *a, uint64_t now_ns)
{
  if (!out)
    return SMBX_ERR_INVAL;
  *out = NULL;
  smbx_smbd_settings st;
  smbx_smbd_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t) + sizeof(uint32_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  if (!t || t->struct_size < offsetof(smbx_transport, deregister_mr) +
                                 sizeof t->deregister_mr ||
      !t->post_send || !t->post_recv || !t->register_mr || !t->deregister_mr ||
      !bufs || n_bufs < 2 || n_bufs > (1u << 20) || check_settings(&st))
    return SMBX_ERR_INVAL;
  for (size_t i = 0; i < n_bufs; i++)
    if (!bufs[i].addr || bufs[i].length < st.max_recv_size)
      return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx_smbd *d = SMBX__NEW(&al, smbx_smbd);
  if (!d)
    return SMBX_ERR_NOMEM;
  d->alloc = al;
  memset(&d->t, 0, sizeof d->t);
  memcpy(&d->t, t, t->struct_size < sizeof d->t ? t->struct_size : sizeof d->t);
  d->s = st;
  d->role = st.role;
  d->strict = (st.flags & SMBX_SMBD_STRICT) != 0;
  d->max_send = st.max_send_size;
  d->max_recv = st.max_recv_size;
  d->max_frag_recv = st.max_fragmented_recv_size;
  d->max_frag_send = 0;
  d->max_rw = st.max_read_write_size;
  d->send_credit_target = st.send_credit_target;
  d->recv_credit_target = 1;
  d->n_rb = (uint32_t)n_bufs;
  d->n_slots = st.send_buffers;
  d->n_chunks = (d->n_slots + SMBX__SMBD_CHUNK_SLOTS - 1) >> SMBX__SMBD_CHUNK_SHIFT;
  d->n_ra = st.reassembly_buffers;
  d->slot_size = (st.max_send_size + 7u) & ~7u;
  d->ev_cap = 2 * d->n_rb + d->n_slots + d->n_ra + 8;
  smbx__smbd_retarget(d);
  d->free_head = d->q_head = d->q_tail = SMBX__SMBD_NIL;
  d->bl_head = d->bl_tail = SMBX__SMBD_NIL;
  d->ra_cur = SMBX__SMBD_NIL;
  d->idle_at = d->zc_deadline = SMBX__SMBD_NEVER;
  uint64_t nto = st.negotiate_timeout_ns;
  if (!nto)
    nto = (st.role == SMBX_SMBD_ROLE_PASSIVE ? 5 : 120) * NS_PER_S;
  d->neg_deadline = smbx__smbd_after(now_ns, nto);
  d->state = st.role == SMBX_SMBD_ROLE_PASSIVE
                 ? SMBX_SMBD_STATE_AWAIT_NEGOTIATE_REQ
                 : SMBX_SMBD_STATE_CREATED;

  d->ev = smbx__calloc(&al, d->ev_cap, sizeof *d->ev, _Alignof(smbx__smbd_ev));
  d->rb = d->ev ? smbx__calloc(&al, d->n_rb, sizeof *d->rb,
                               _Alignof(smbx__smbd_rbuf))
                : NULL;
  d->slot = d->rb ? smbx__calloc(&al, d->n_slots, sizeof *d->slot,
                                 _Alignof(smbx__smbd_slot))
                  : NULL;
  d->chunk = d->slot ? smbx__calloc(&al, d->n_chunks, sizeof *d->chunk,
                                     _Alignof(smbx__smbd_chunk))
                     : NULL;
  /* reassembly memory comes with the first message that needs it */
  d->ra = d->chunk ? smbx__calloc(&al, d->n_ra, sizeof *d->ra,
                                  _Alignof(smbx__smbd_reasm))
                   : NULL;
  if (!d->ra) {
    if (!d->ev)
      d->ev_cap = 0;
    if (!d->rb)
      d->n_rb = 0;
    if (!d->slot)
      d->n_slots = 0;
    if (!d->chunk)
      d->n_chunks = 0;
    d->n_ra = 0;
    free_all(d);
    return SMBX_ERR_NOMEM;
  }
  d->rbf_head = SMBX__SMBD_NIL;
  for (uint32_t i = 0; i < d->n_rb; i++) {
    d->rb[i].sg.addr = bufs[i].addr;
    d->rb[i].sg.length = bufs[i].length;
    d->rb[i].sg.reserved = 0;
    d->rb[i].sg.handle = bufs[i].handle;
    d->rb[i].next = SMBX__SMBD_NIL;
    d->rb[i].state = RB_GONE;
  }
  for (uint32_t i = d->n_rb; i-- > 1;)
    smbx__smbd_rb_free_push(d, i);
  /* the first chunk of send slots, registered here (negotiation needs
   * one); smbx_smbd_send makes the others when these run short */
  rc = smbx__smbd_grow_slots(d);
  if (rc) {
    free_all(d);
    return rc;
  }
  /* one receive for the negotiate message, posted before the CM connects
   * (the peer may send as soon as it sees ESTABLISHED) */
  if (d->t.post_recv(d->t.user_data, SMBX__SMBD_WR_RECV << 32, &d->rb[0].sg) !=
      0) {
    free_all(d);
    return SMBX_ERR_TRANSPORT;
  }
  d->rb[0].state = RB_POSTED;
  d->n_posted = 1;
  *out = d;
  return 0;
}

void smbx_smbd_free(smbx_smbd *d)
{
  if (d)
    free_all(d);
}

/* ---- negotiate ------------------------------------------------------- */

static int send_neg_slot(smbx_smbd *d, uint8_t kind, const uint8_t *msg,
                         uint32_t len)
{
  uint32_t i = smbx__smbd_slot_get(d);
  smbx__smbd_slot *s = &d->slot[i]; /* a fresh engine always has slots */
  uint8_t *mem = smbx__smbd_slot_mem(d, i);
  memcpy(mem, msg, len);
  s->kind = kind;
  s->wire_len = len;
  s->data_len = 0;
  s->last = 0;
  s->inv = 0;
  s->msg_id = 0;
  return smbx__smbd_post_slot(d, i, mem);
}

/* 3.1.5.6: failure response (versions 0x0100, Status, rest 0), then a
 * disconnect once it completes. */
static int send_failure(smbx_smbd *d, uint32_t status, const char *why)
{
  smbx_smbd_negotiate_resp r;
  memset(&r, 0, sizeof r);
  r.min_version = r.max_version = SMBX_SMBD_VERSION;
  r.status = status;
  uint8_t buf[SMBX_SMBD_NEGOTIATE_RESP_SIZE];
  smbx__smbd_encode_negotiate_resp(&r, buf);
  d->state = SMBX_SMBD_STATE_NEGOTIATE_FAILED;
  d->err = SMBX_ERR_NEGOTIATE;
  d->ev_err = SMBX_ERR_NEGOTIATE;
  d->ntstatus = status;
  d->detail.reason = why;
  d->detail.offset = 0;
  d->fail_pending = true;
  int rc = send_neg_slot(d, SK_NEG_FAIL, buf, sizeof buf);
  return rc ? rc : SMBX_ERR_NEGOTIATE;
}

static int negotiated(smbx_smbd *d, uint64_t now)
{
  d->state = SMBX_SMBD_STATE_CONNECTED;
  d->neg_deadline = SMBX__SMBD_NEVER;
  d->idle_at = now; /* the idle timer starts */
  emit_simple(d, SMBX_SMBD_EV_NEGOTIATED, 0, 0);
  return 0;
}

static int post_up_to_target(smbx_smbd *d)
{
  uint32_t want = d->eff_target;
  while (d->n_posted < want && d->n_free) {
    int rc = smbx__smbd_post_free(d);
    if (rc)
      return rc;
  }
  return 0;
}

/* The peer's negotiate fields, either way (3.1.5.6 / 3.1.5.7): our
 * receive size is the smaller of ours and its PreferredSendSize (never
 * below the minimum), our send size the smaller of ours and its
 * MaxReceiveSize; its MaxFragmentedSize bounds what we send; the credits
 * it asks for, within ReceiveCreditMax, are our receive credit target. */
static void take_peer_params(smbx_smbd *d, uint16_t credits_requested,
                             uint32_t preferred_send, uint32_t max_receive,
                             uint32_t max_fragmented)
{
  uint32_t lr = d->s.max_recv_size;
  if (preferred_send < lr)
    lr = preferred_send;
  d->max_recv = lr < SMBX_SMBD_MIN_RECEIVE_SIZE ? SMBX_SMBD_MIN_RECEIVE_SIZE : lr;
  d->max_send = max_receive < d->s.max_send_size ? max_receive
                                                 : d->s.max_send_size;
  d->max_frag_send = max_fragmented;
  uint32_t per = d->max_send - SMBX_SMBD_DATA_HDR_SIZE;
  d->one_frag_max = per < max_fragmented ? per : max_fragmented;
  d->recv_credit_target = credits_requested < d->s.recv_credit_max
                              ? credits_requested
                              : d->s.recv_credit_max;
  smbx__smbd_retarget(d);
}

/* Passive: [MS-SMBD] 3.1.5.6 */
static int on_negotiate_req(smbx_smbd *d, uint32_t i, uint32_t len, uint64_t now)
{
  smbx_smbd_negotiate_req q;
  smbx_error_detail det = {NULL, 0};
  int rc = smbx_smbd_decode_negotiate_req(d->rb[i].sg.addr, len, &q, &det);
  smbx__smbd_rb_free_push(d, i);
  if (rc)
    return smbx__smbd_terminate(d, SMBX_ERR_NEGOTIATE, det.reason, det.offset, 0);
  switch (smbx__smbd_check_negotiate_req(&q, &det)) {
  case SMBX__SMBD_NEG_NOT_SUPPORTED:
    return send_failure(d, SMBX_SMBD_STATUS_NOT_SUPPORTED, det.reason);
  case SMBX__SMBD_NEG_TERMINATE:
    return smbx__smbd_terminate(d, SMBX_ERR_NEGOTIATE, det.reason, det.offset, 0);
  default:
    break;
  }
  take_peer_params(d, q.credits_requested, q.preferred_send_size,
                   q.max_receive_size, q.max_fragmented_size);
  d->state = SMBX_SMBD_STATE_CONNECTED;
  /* 3.1.5.6 -> 3.1.5.9: post receives; every posted one is granted */
  rc = post_up_to_target(d);
  if (rc)
    return rc;
  if (d->n_posted == 0)
    return send_failure(d, SMBX_SMBD_STATUS_INSUFFICIENT_RESOURCES,
                        "smbd negotiate: no receive could be posted");
  d->recv_credits = d->n_posted;
  smbx_smbd_negotiate_resp r;
  r.min_version = r.max_version = r.negotiated_version = SMBX_SMBD_VERSION;
  r.reserved = 0;
  r.credits_requested = (uint16_t)d->send_credit_target;
  r.credits_granted = (uint16_t)(d->recv_credits > 65535 ? 65535 : d->recv_credits);
  r.status = 0;
  r.max_read_write_size = d->max_rw;
  r.preferred_send_size = d->max_send;
  r.max_receive_size = d->max_recv;
  r.max_fragmented_size = d->max_frag_recv;
  uint8_t buf[SMBX_SMBD_NEGOTIATE_RESP_SIZE];
  smbx__smbd_encode_negotiate_resp(&r, buf);
  rc = send_neg_slot(d, SK_NEG, buf, sizeof buf);
  if (rc)
    return rc;
  return negotiated(d, now);
}

/* Active: [MS-SMBD] 3.1.5.7 */
static int on_negotiate_resp(smbx_smbd *d, uint32_t i, uint32_t len,
                             uint64_t now)
{
  smbx_smbd_negotiate_resp r;
  smbx_error_detail det = {NULL, 0};
  int rc = smbx_smbd_decode_negotiate_resp(d->rb[i].sg.addr, len, &r, &det);
  smbx__smbd_rb_free_push(d, i);
  if (rc)
    return smbx__smbd_terminate(d, SMBX_ERR_NEGOTIATE, det.reason, det.offset, 0);
  if (smbx__smbd_check_negotiate_resp(&r, d->s.max_recv_size,
                                      d->s.min_read_write_size, &det))
    return smbx__smbd_terminate(d, SMBX_ERR_NEGOTIATE, det.reason, det.offset,
                                r.status);
  d->send_credits = r.credits_granted;
  take_peer_params(d, r.credits_requested, r.preferred_send_size,
                   r.max_receive_size, r.max_fragmented_size);
  if (r.max_read_write_size < d->max_rw)
    d->max_rw = r.max_read_write_size;
  d->state = SMBX_SMBD_STATE_CONNECTED;
  rc = post_up_to_target(d);
  if (rc)
    return rc;
  negotiated(d, now);
  /* the request granted nothing: grant at once (a credit-only message when
   * nothing else is queued), or a passive peer that waits (ksmbd) never
   * answers the first request */
  return smbx__smbd_pump(d, now);
}

static int send_negotiate_req(smbx_smbd *d)
{
  smbx_smbd_negotiate_req q;
  q.min_version = q.max_version = SMBX_SMBD_VERSION;
  q.reserved = 0;
  q.credits_requested = (uint16_t)d->send_credit_target;
  q.preferred_send_size = d->s.max_send_size;
  q.max_receive_size = d->s.max_recv_size;
  q.max_fragmented_size = d->s.max_fragmented_recv_size;
  uint8_t buf[SMBX_SMBD_NEGOTIATE_REQ_SIZE];
  smbx__smbd_encode_negotiate_req(&q, buf);
  d->state = SMBX_SMBD_STATE_NEGOTIATE_SENT;
  return send_neg_slot(d, SK_NEG, buf, sizeof buf);
}

/* Processes one received buffer (limbo) by state. */
int smbx__smbd_dispatch(smbx_smbd *d, uint32_t i, uint32_t len, uint32_t wcf,
                        uint32_t rkey, uint64_t now)
{
  switch (d->state) {
  case SMBX_SMBD_STATE_AWAIT_NEGOTIATE_REQ:
    return on_negotiate_req(d, i, len, now);
  case SMBX_SMBD_STATE_NEGOTIATE_SENT:
    return on_negotiate_resp(d, i, len, now);
  case SMBX_SMBD_STATE_CONNECTED:
    return smbx__smbd_recv_data(d, i, len, wcf, rkey, now);
  default: /* negotiate failed: later data is ignored */
    smbx__smbd_rb_free_push(d, i);
    return 0;
  }
}

void smbx__smbd_backlog_push(smbx_smbd *d, uint32_t i, bool front)
{
  smbx__smbd_rbuf *b = &d->rb[i];
  b->state = RB_BACKLOG;
  if (front) {
    b->next = d->bl_head;
    d->bl_head = i;
    if (d->bl_tail == SMBX__SMBD_NIL)
      d->bl_tail = i;
    return;
  }
  b->next = SMBX__SMBD_NIL;
  if (d->bl_tail == SMBX__SMBD_NIL)
    d->bl_head = i;
  else
    d->rb[d->bl_tail].next = i;
  d->bl_tail = i;
}

int smbx__smbd_process_backlog(smbx_smbd *d, uint64_t now)
{
  while (d->bl_head != SMBX__SMBD_NIL && !d->torn && d->established) {
    uint32_t i = d->bl_head;
    d->bl_head = d->rb[i].next;
    if (d->bl_head == SMBX__SMBD_NIL)
      d->bl_tail = SMBX__SMBD_NIL;
    smbx__smbd_rbuf *b = &d->rb[i];
    int rc = smbx__smbd_dispatch(d, i, b->byte_len, b->wc_flags, b->inv_rkey,
                                 now);
    if (rc == SMBX__SMBD_BLOCKED)
      return 0; /* back at the front */
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ---- host inputs ----------------------------------------------------- */

/* A send completion the fast path did not take (slot i in flight): an
 * error completion, a torn engine, a negotiate message. */
static SMBX__NOINLINE int send_done_general(smbx_smbd *d, const smbx_wc *wc,
                                            uint32_t i, uint64_t now_ns)
{
  smbx__smbd_slot *s = &d->slot[i];
  uint8_t kind = s->kind;
  bool done = kind == SK_DATA && s->last && wc->status == SMBX_WC_SUCCESS;
  uint64_t id = s->msg_id;
  d->n_inflight--;
  smbx__smbd_slot_put(d, i);
  if (done && !d->torn)
    emit_send_done(d, id);
  if (d->torn) {
    smbx__smbd_check_closed(d);
    return 0;
  }
  if (wc->status != SMBX_WC_SUCCESS)
    return smbx__smbd_terminate(
        d, wc->status == SMBX_WC_FLUSH ? SMBX_ERR_CLOSED : SMBX_ERR_TRANSPORT,
        wc->status == SMBX_WC_FLUSH ? "smbd: send flushed (QP in error)"
                                    : "smbd: send completion error",
        0, 0);
  if (kind == SK_NEG_FAIL) /* failure response out: now disconnect */
    return smbx__smbd_terminate(d, d->err, d->detail.reason, 0, d->ntstatus);
  int rc = smbx__smbd_pump(d, now_ns);
  return rc < 0 ? rc : 0;
}

/* A send completion. The data path's (success, engine connected: not
 * torn, so no failure response is in flight) frees the slot and reports
 * a message's last fragment; every other one takes send_done_general. */
int smbx_smbd_send_done(smbx_smbd *d, const smbx_wc *wc, uint64_t now_ns)
{
  if (!d || !wc || wc->wr_id >> 32 != SMBX__SMBD_WR_SEND)
    return SMBX_ERR_INVAL;
  uint64_t i64 = wc->wr_id & 0xFFFFFFFFu;
  if (i64 >= d->n_slots || d->slot[i64].state != SS_INFLIGHT)
    return SMBX_ERR_INVAL;
  uint32_t i = (uint32_t)i64;
  if (wc->status != SMBX_WC_SUCCESS ||
      d->state != SMBX_SMBD_STATE_CONNECTED)
    return send_done_general(d, wc, i, now_ns);
  smbx__smbd_slot *s = &d->slot[i];
  bool last = s->last; /* only SK_DATA slots set it */
  uint64_t id = s->msg_id;
  d->n_inflight--;
  smbx__smbd_slot_put(d, i);
  if (last) {
    if (d->upcall) {
      smbx_smbd_event ev;
      send_done_event(&ev, id);
      d->upcall(d->upcall_ctx, &ev);
    } else {
      emit_send_done(d, id);
    }
    if (d->torn) {
      smbx__smbd_check_closed(d);
      return 0;
    }
  }
  int rc = smbx__smbd_pump(d, now_ns);
  return rc < 0 ? rc : 0;
}

int smbx_smbd_cm_event(smbx_smbd *d, uint32_t event, uint32_t ird,
                       uint32_t ord, uint64_t now_ns)
{
  if (!d || event < SMBX_SMBD_CM_ESTABLISHED || event > SMBX_SMBD_CM_FATAL)
    return SMBX_ERR_INVAL;
  if (event == SMBX_SMBD_CM_ESTABLISHED) {
    if (d->established)
      return SMBX_ERR_STATE;
    d->established = true;
    d->ird = ird;
    d->ord = ord;
    if (d->torn)
      return 0;
    if (d->role == SMBX_SMBD_ROLE_ACTIVE) {
      int rc = send_negotiate_req(d);
      if (rc)
        return rc;
    }
    int rc = smbx__smbd_process_backlog(d, now_ns);
    return rc < 0 ? rc : 0;
  }
  if (d->torn)
    return 0;
  static const char *const why[] = {
      "", "", "smbd: peer disconnected", "smbd: connection rejected",
      "smbd: peer unreachable", "smbd: device removed",
      "smbd: connect error", "smbd: fatal QP/CQ event"};
  return smbx__smbd_terminate(d, event == SMBX_SMBD_CM_DISCONNECTED
                                     ? SMBX_ERR_CLOSED
                                     : SMBX_ERR_TRANSPORT,
                              why[event], 0, 0);
}

/* A release the fast path did not take: a reassembly token, an invalid
 * one, a torn or closing engine, a backlog to resume. */
static SMBX__NOINLINE int release_general(smbx_smbd *d, uint64_t token,
                                          uint64_t now_ns)
{
  uint64_t tag = token >> 32, ix = token & 0xFFFFFFFFu;
  if (tag == SMBX__SMBD_TOK_INPLACE) {
    if (ix >= d->n_rb || d->rb[ix].state != RB_HELD)
      return SMBX_ERR_INVAL;
    d->n_held--;
    d->rb[ix].state = RB_GONE;
    smbx__smbd_recycle(d, (uint32_t)ix);
  } else if (tag == SMBX__SMBD_TOK_REASM) {
    if (ix >= d->n_ra || !d->ra[ix].busy)
      return SMBX_ERR_INVAL;
    d->ra[ix].busy = 0;
    d->n_ra_busy--;
    if (d->torn)
      smbx__smbd_check_closed(d);
  } else {
    return SMBX_ERR_INVAL;
  }
  if (d->torn)
    return 0;
  /* the token is released; a failure of what it unblocked (a repost, a
   * send) tears the connection down and shows as DISCONNECTED, not here */
  if (d->bl_head == SMBX__SMBD_NIL ||
      smbx__smbd_process_backlog(d, now_ns) == 0)
    (void)smbx__smbd_pump(d, now_ns);
  return 0;
}

/* The data path's release: a buffer held in place, engine connected with
 * no backlog: recycled (smbx__smbd_recycle's connected case). */
int smbx_smbd_release(smbx_smbd *d, uint64_t token, uint64_t now_ns)
{
  if (!d)
    return SMBX_ERR_INVAL;
  uint64_t ix = token & 0xFFFFFFFFu;
  if (token >> 32 != SMBX__SMBD_TOK_INPLACE || ix >= d->n_rb ||
      d->rb[ix].state != RB_HELD || d->state != SMBX_SMBD_STATE_CONNECTED ||
      d->bl_head != SMBX__SMBD_NIL)
    return release_general(d, token, now_ns);
  d->n_held--;
  uint32_t want = d->eff_target;
  if (want < d->recv_credits)
    want = d->recv_credits;
  if (d->n_posted < want) {
    /* a failing repost tears down (shows as DISCONNECTED) */
    if (smbx__smbd_post_recv(d, (uint32_t)ix) != 0)
      return 0;
  } else {
    smbx__smbd_rb_free_push(d, (uint32_t)ix);
  }
  (void)smbx__smbd_pump(d, now_ns);
  return 0;
}

int smbx_smbd_set_backpressure(smbx_smbd *d, int on, uint64_t now_ns)
{
  if (!d)
    return SMBX_ERR_INVAL;
  d->backpressure = on != 0;
  smbx__smbd_retarget(d);
  if (!d->torn) /* a failing post shows as DISCONNECTED (as in release) */
    (void)smbx__smbd_pump(d, now_ns);
  return 0;
}

/* ---- timers ---------------------------------------------------------- */

uint64_t smbx_smbd_expiry(const smbx_smbd *d)
{
  if (!d || d->torn)
    return SMBX__SMBD_NEVER;
  uint64_t e = d->neg_deadline;
  uint64_t idle = smbx__smbd_idle_deadline(d);
  if (idle < e)
    e = idle;
  if (d->zc_deadline < e)
    e = d->zc_deadline;
  return e;
}

int smbx_smbd_handle_expiry(smbx_smbd *d, uint64_t now_ns)
{
  if (!d)
    return SMBX_ERR_INVAL;
  if (d->torn)
    return 0;
  if (d->neg_deadline <= now_ns)
    return smbx__smbd_terminate(d, SMBX_ERR_TIMEOUT,
                                "smbd: negotiate timeout", 0, 0);
  if (d->zc_deadline <= now_ns)
    return smbx__smbd_terminate(d, SMBX_ERR_TIMEOUT,
                                "smbd: no send credits granted in time", 0, 0);
  if (smbx__smbd_idle_deadline(d) <= now_ns) {
    /* 3.1.6.2 idle timer: first expiry requests a keepalive, a second one
     * without any message received in between terminates */
    if (d->ka != KA_NONE)
      return smbx__smbd_terminate(d, SMBX_ERR_TIMEOUT,
                                  "smbd: keepalive not answered", 0, 0);
    d->ka = KA_PENDING;
    d->due |= DUE_KA;
    d->idle_at = smbx__smbd_after(now_ns, d->s.keepalive_timeout_ns);
    int rc = smbx__smbd_pump(d, now_ns);
    return rc < 0 ? rc : 0;
  }
  return 0;
}

int smbx_smbd_close(smbx_smbd *d, uint64_t now_ns)
{
  if (!d)
    return SMBX_ERR_INVAL;
  if (d->err)
    return d->err;
  d->closing = true;
  d->due |= DUE_CLOSING;
  if (d->state != SMBX_SMBD_STATE_CONNECTED ||
      (d->q_head == SMBX__SMBD_NIL && d->n_inflight == 0))
    return smbx__smbd_terminate(d, 0, "smbd: closed by the host", 0, 0);
  int rc = smbx__smbd_pump(d, now_ns);
  return rc < 0 ? rc : 0;
}

int smbx_smbd_error_detail(const smbx_smbd *d, smbx_error_detail *detail)
{
  if (!d)
    return SMBX_ERR_INVAL;
  if (detail) {
    detail->reason = d->detail.reason ? d->detail.reason : "";
    detail->offset = d->detail.offset;
  }
  return d->err;
}

int smbx_smbd_get_params(const smbx_smbd *d, smbx_smbd_params *p)
{
  if (!d || !p || p->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_smbd_params v;
  memset(&v, 0, sizeof v);
  v.struct_size = p->struct_size < sizeof v ? p->struct_size : sizeof v;
  v.role = d->role;
  v.state = d->state;
  v.max_send_size = d->max_send;
  v.max_recv_size = d->max_recv;
  v.max_fragmented_send_size = d->max_frag_send;
  v.max_fragmented_recv_size = d->max_frag_recv;
  v.max_read_write_size = d->max_rw;
  v.send_credits = d->send_credits;
  v.send_credit_target = d->send_credit_target;
  v.recv_credits = d->recv_credits;
  v.recv_credit_target = d->recv_credit_target;
  v.recv_posted = d->n_posted;
  v.sends_in_flight = d->n_inflight;
  v.sends_queued = d->n_queued;
  v.ird = d->ird;
  v.ord = d->ord;
  v.state_bytes = sizeof *d;
  v.table_bytes = sizeof *d->rb * d->n_rb + sizeof *d->slot * d->n_slots +
                  sizeof *d->chunk * d->n_chunks + sizeof *d->ra * d->n_ra +
                  sizeof *d->ev * d->ev_cap;
  v.buffer_bytes = (uint64_t)d->n_made * d->slot_size;
  for (uint32_t i = 0; i < d->n_ra; i++)
    v.buffer_bytes += d->ra[i].cap;
  memcpy(p, &v, v.struct_size);
  return 0;
}
