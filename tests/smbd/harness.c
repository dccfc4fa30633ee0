/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "test_main.h"

#include "core/cursor.h"

smbx_smbd_settings h_settings(uint32_t role)
{
  smbx_smbd_settings s;
  smbx_smbd_settings_default(&s, sizeof s);
  s.role = role;
  s.send_buffers = 900;
  return s;
}

smbx_smbd_settings h_linux(uint32_t role)
{
  smbx_smbd_settings s = h_settings(role);
  s.max_send_size = 1364;
  s.max_recv_size = 1364;
  s.max_fragmented_recv_size = 173910;
  return s;
}

int h_init(h *x, const smbx_smbd_settings *s0, const smbx_smbd_settings *s1,
           size_t nbuf0, size_t nbuf1, uint64_t latency_ns)
{
  memset(x, 0, sizeof *x);
  x->w = sim_new(latency_ns);
  const smbx_smbd_settings *ss[2] = {s0, s1};
  size_t nb[2] = {nbuf0, nbuf1};
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    h_side *e = &x->s[i];
    e->auto_release = true;
    e->auto_disconnect = true;
    if (!ss[i]) {
      x->w->ep[i].raw = 1;
      continue;
    }
    uint32_t bl = ss[i]->max_recv_size;
    e->nbuf = nb[i];
    e->mem = calloc(e->nbuf, bl);
    for (size_t k = 0; k < e->nbuf; k++) {
      e->bufs[k].addr = e->mem + k * bl;
      e->bufs[k].length = bl;
      e->bufs[k].handle = 0x100 + k;
    }
    e->t = sim_transport(x->w, i);
    rc = smbx_smbd_new(&e->d, ss[i], &e->t, e->bufs, e->nbuf,
                       x->use_ta ? &x->ta.a : NULL, 0);
    if (rc)
      return rc;
  }
  return rc;
}

void h_establish(h *x)
{
  for (int i = 0; i < 2; i++)
    if (x->s[i].d) {
      int rc = smbx_smbd_cm_event(x->s[i].d, SMBX_SMBD_CM_ESTABLISHED, 16, 16,
                                  x->w->now);
      if (rc < 0 && !x->s[i].first_err)
        x->s[i].first_err = rc;
    }
}

static void note(h_side *e, int rc)
{
  if (rc < 0 && !e->first_err)
    e->first_err = rc;
}

void h_drain(h *x, int i)
{
  h_side *e = &x->s[i];
  if (!e->d)
    return;
  smbx_smbd_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_smbd_next_event(e->d, &ev) == 1) {
    if (e->ev_n == e->ev_cap) {
      e->ev_cap = e->ev_cap ? 2 * e->ev_cap : 64;
      e->ev = realloc(e->ev, e->ev_cap * sizeof *e->ev);
    }
    h_ev *r = &e->ev[e->ev_n++];
    memset(r, 0, sizeof *r);
    r->type = ev.type;
    r->at = x->w->now;
    switch (ev.type) {
    case SMBX_SMBD_EV_MESSAGE:
      r->len = ev.u.message.len;
      r->ptr = ev.u.message.data;
      r->data = malloc(r->len ? r->len : 1);
      memcpy(r->data, ev.u.message.data, r->len);
      r->token = ev.u.message.token;
      r->frags = ev.u.message.fragments;
      r->mflags = ev.u.message.flags;
      r->rkey = ev.u.message.invalidated_rkey;
      if (e->auto_release)
        assert_int_equal(smbx_smbd_release(e->d, r->token, x->w->now), 0);
      break;
    case SMBX_SMBD_EV_SEND_DONE:
      r->msg_id = ev.u.send_done.msg_id;
      break;
    case SMBX_SMBD_EV_DISCONNECTED:
      r->error = ev.u.disconnected.error;
      r->ntstatus = ev.u.disconnected.ntstatus;
      r->reason = ev.u.disconnected.reason;
      if (e->auto_disconnect) {
        sim_disconnect(x->w);
        if (x->s[1 - i].d)
          x->s[1 - i].pending_cm = true;
      }
      break;
    case SMBX_SMBD_EV_RECV_BUFFER:
      r->index = ev.u.recv_buf.index;
      assert_true(r->index < e->nbuf);
      assert_ptr_equal(ev.u.recv_buf.addr, e->bufs[r->index].addr);
      e->returned[r->index]++;
      e->n_returned++;
      break;
    case SMBX_SMBD_EV_CLOSED:
      e->closed = true;
      break;
    default:
      break;
    }
  }
}

int h_step(h *x)
{
  int moved = sim_deliver(x->w);
  for (int i = 0; i < 2; i++) {
    h_side *e = &x->s[i];
    sim_cqe c;
    while (sim_poll(x->w, i, &c)) {
      moved++;
      if (!e->d)
        continue;
      if (c.is_recv)
        note(e, smbx_smbd_recv(e->d, &c.wc, x->w->now));
      else
        note(e, smbx_smbd_send_done(e->d, &c.wc, x->w->now));
      h_drain(x, 0);
      h_drain(x, 1);
    }
    h_drain(x, i);
    if (e->pending_cm && e->d) {
      /* a host polls its CQ dry before acting on the CM event */
      e->pending_cm = false;
      moved++;
      note(e, smbx_smbd_cm_event(e->d, SMBX_SMBD_CM_DISCONNECTED, 0, 0,
                                 x->w->now));
      h_drain(x, i);
    }
  }
  for (int i = 0; i < 2; i++)
    if (x->w->ep[i].scq_n || x->w->ep[i].rcq_n || x->s[i].pending_cm)
      moved++;
  return moved;
}

void h_run(h *x, uint64_t until)
{
  for (int guard = 0; guard < 10000000; guard++) {
    while (h_step(x))
      ;
    uint64_t next = sim_next_time(x->w);
    for (int i = 0; i < 2; i++) {
      if (!x->s[i].d)
        continue;
      uint64_t e = smbx_smbd_expiry(x->s[i].d);
      if (e <= x->w->now) {
        note(&x->s[i], smbx_smbd_handle_expiry(x->s[i].d, x->w->now));
        h_drain(x, i);
        next = x->w->now;
      } else if (e < next) {
        next = e;
      }
    }
    if (next == x->w->now)
      continue;
    if (until == 0) { /* only the wire moves time */
      uint64_t wire = sim_next_time(x->w);
      if (wire == UINT64_MAX)
        return;
      x->w->now = wire;
      continue;
    }
    if (next == UINT64_MAX || next > until) {
      if (until != 0 && until != UINT64_MAX && until > x->w->now)
        x->w->now = until;
      return;
    }
    x->w->now = next;
  }
  fail_msg("h_run: no quiescence");
}

void h_fini(h *x)
{
  for (int i = 0; i < 2; i++) {
    h_side *e = &x->s[i];
    smbx_smbd_free(e->d);
    assert_int_equal(x->w->ep[i].mr_live, 0);
    for (size_t k = 0; k < e->ev_n; k++)
      free(e->ev[k].data);
    free(e->ev);
    free(e->mem);
  }
  sim_free(x->w);
}

size_t h_count(const h *x, int side, uint32_t type)
{
  size_t n = 0;
  for (size_t k = 0; k < x->s[side].ev_n; k++)
    n += x->s[side].ev[k].type == type;
  return n;
}

const h_ev *h_find(const h *x, int side, uint32_t type, size_t k)
{
  for (size_t j = 0; j < x->s[side].ev_n; j++)
    if (x->s[side].ev[j].type == type && k-- == 0)
      return &x->s[side].ev[j];
  return NULL;
}

smbx_smbd_params h_params(const h *x, int side)
{
  smbx_smbd_params p;
  memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  assert_int_equal(smbx_smbd_get_params(x->s[side].d, &p), 0);
  return p;
}

void h_fill(uint8_t *p, size_t len, uint8_t seed)
{
  for (size_t k = 0; k < len; k++)
    p[k] = (uint8_t)(seed + k * 7 + (k >> 8));
}

int h_send(h *x, int side, size_t len, uint8_t seed)
{
  uint8_t *b = malloc(len ? len : 1);
  h_fill(b, len, seed);
  smbx_sge sg = {b, (uint32_t)len, 0, 0};
  uint64_t id = 0;
  int rc = smbx_smbd_send(x->s[side].d, &sg, 1, 0, 0, &id, x->w->now);
  free(b);
  h_drain(x, side);
  return rc;
}

int h_raw(h *x, int side, const void *b, size_t len)
{
  return sim_raw_send(x->w, side, b, len);
}

size_t h_data_msg(uint8_t *b, uint16_t cr, uint16_t cg, uint16_t flags,
                  uint32_t rem, uint32_t off, uint32_t dlen, uint8_t fill)
{
  memset(b, 0, 24);
  smbx__put_le16(b, cr);
  smbx__put_le16(b + 2, cg);
  smbx__put_le16(b + 4, flags);
  smbx__put_le32(b + 8, rem);
  smbx__put_le32(b + 12, off);
  smbx__put_le32(b + 16, dlen);
  if (!dlen)
    return 20;
  memset(b + off, fill, dlen);
  return (size_t)off + dlen;
}

void h_raw_negotiate(h *x, int e, uint16_t credits_granted,
                     uint16_t credits_requested)
{
  int raw = 1 - e;
  h_establish(x);
  h_run(x, 0);
  if (e == 0) { /* engine active: answer its request */
    smbx_smbd_negotiate_resp r = {0x100, 0x100, 0x100, 0, credits_requested,
                                  credits_granted, 0, 1048576, 1364, 8192,
                                  1048576};
    uint8_t b[32];
    smbx_smbd_encode_negotiate_resp(&r, b, 32);
    h_raw(x, raw, b, 32);
  } else {
    smbx_smbd_negotiate_req q = {0x100, 0x100, 0, credits_requested, 1364,
                                 8192, 1048576};
    uint8_t b[20];
    smbx_smbd_encode_negotiate_req(&q, b, 20);
    h_raw(x, raw, b, 20);
  }
  (void)credits_granted;
  h_run(x, 0);
}

const smbx_smbd_negotiate_resp h_good_resp = {
    0x100, 0x100, 0x100, 0, 255, 10, 0, 1048576, 1364, 8192, 1048576};

void h_active_up(h *x, smbx_smbd_settings s, size_t nbuf,
                 const smbx_smbd_negotiate_resp *r)
{
  assert_int_equal(h_init(x, &s, NULL, nbuf, 0, 1000), 0);
  h_establish(x);
  h_run(x, 0);
  uint8_t b[32];
  smbx_smbd_encode_negotiate_resp(r ? r : &h_good_resp, b, 32);
  h_raw(x, 1, b, 32);
  h_run(x, 0);
  assert_int_equal(h_count(x, 0, SMBX_SMBD_EV_NEGOTIATED), 1);
}

void h_expect_alive(h *x, int side)
{
  assert_int_equal(h_count(x, side, SMBX_SMBD_EV_DISCONNECTED), 0);
  assert_int_equal(smbx_smbd_error_detail(x->s[side].d, NULL), 0);
}

void h_expect_dead(h *x, int side, int err)
{
  const h_ev *e = h_find(x, side, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, err);
  assert_int_equal(h_count(x, side, SMBX_SMBD_EV_DISCONNECTED), 1);
  assert_true(x->s[side].closed);
  assert_int_equal(x->s[side].n_returned, x->s[side].nbuf);
  for (size_t k = 0; k < x->s[side].nbuf; k++)
    assert_int_equal(x->s[side].returned[k], 1);
  assert_int_equal(smbx_smbd_error_detail(x->s[side].d, NULL), err);
}

smbx_smbd_data h_sent_data(h *x, int side, size_t k)
{
  const sim_msg *m = sim_sent(x->w, side, k);
  assert_non_null(m);
  smbx_smbd_data d;
  assert_int_equal(smbx_smbd_decode_data(m->bytes, m->len, 0, 0, &d, NULL), 0);
  return d;
}
