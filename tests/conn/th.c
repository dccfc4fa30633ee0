/* SPDX-License-Identifier: MIT */
#include "conn/conn_int.h"
#include "th.h"

#include <stdlib.h>
#include <string.h>

#include "test_main.h"

#include <smbx/smb2.h>
#include <smbx/tcp.h>

uint32_t th_smbd_send_buffers = 900;

smbx__conn_settings th_settings(uint32_t role)
{
  smbx__conn_settings s;
  smbx__conn_settings_default(&s, role);
  s.max_requests = 1024;
  s.credits_max = 1024;
  s.credits_min = 64;
  s.credit_target = 64;
  s.max_holds = 256;
  return s;
}

static th_ev *push(th_side *e, int kind)
{
  if (e->ev_n == e->ev_cap) {
    e->ev_cap = e->ev_cap ? 2 * e->ev_cap : 64;
    e->ev = realloc(e->ev, e->ev_cap * sizeof *e->ev);
  }
  th_ev *v = &e->ev[e->ev_n++];
  memset(v, 0, sizeof *v);
  v->kind = kind;
  return v;
}

static void copy_pdu(th_ev *v, const smbx__conn_pdu *p)
{
  v->req = p->req;
  v->user = p->user;
  v->hold = p->hold;
  v->flags = p->flags;
  v->hdr = p->hdr;
  v->status = p->hdr.status;
  v->fileid = p->fileid;
  v->chain_index = p->chain_index;
  v->chain_count = p->chain_count;
  v->ptr = p->data;
  v->len = p->len;
  v->bytes = malloc(p->len ? p->len : 1);
  memcpy(v->bytes, p->data, p->len);
}

static void maybe_release(th_side *e, th_ev *v)
{
  if (e->auto_release && v->hold) {
    assert_int_equal(smbx__conn_release(e->c, v->hold, e->x->now), 0);
    v->released = true;
  }
}

static int up_send(void *ctx, const uint8_t *p, size_t len)
{
  th_side *e = ctx;
  if (e->send_fail)
    return -1;
  th_side *peer = &e->x->s[1 - e->idx];
  if (e->x->tap)
    e->x->tap(e->x->tap_ud, e->idx == TH_CLI ? 0 : 1, p, len);
  assert_true(peer->in_len + len <= TH_IN_CAP);
  memcpy(peer->in + peer->in_len, p, len);
  peer->in_len += len;
  return 0;
}

static void up_request(void *ctx, const smbx__conn_pdu *p)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_REQUEST);
  copy_pdu(v, p);
  uint64_t req = v->req;
  maybe_release(e, v);
  if (e->auto_respond)
    assert_int_equal(th_respond(e->x, req, 0), 0);
}

static void up_cancel(void *ctx, uint64_t req)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_CANCEL);
  v->req = req;
}

static void up_abort(void *ctx, uint64_t req, int err)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_ABORT);
  v->req = req;
  v->err = err;
}

static void up_complete(void *ctx, uint64_t req, uint64_t user, int err,
                        const smbx__conn_pdu *resp)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_COMPLETE);
  if (resp) {
    assert_int_equal(err, 0);
    copy_pdu(v, resp);
    assert_int_equal(v->req, req);
    assert_int_equal(v->user, user);
    maybe_release(e, v);
  }
  v->req = req;
  v->user = user;
  v->err = err;
}

static void up_interim(void *ctx, uint64_t req, uint64_t user,
                       const smbx__conn_pdu *resp)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_INTERIM);
  copy_pdu(v, resp);
  v->req = req;
  v->user = user;
  maybe_release(e, v);
}

static void up_notify(void *ctx, const smbx__conn_pdu *p)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_NOTIFY);
  copy_pdu(v, p);
  maybe_release(e, v);
}

static void up_writable(void *ctx)
{
  th_side *e = ctx;
  e->writable_n++;
  push(e, TE_WRITABLE);
}

static int up_keys(void *ctx, uint64_t sid, smbx__conn_keys *out)
{
  th_side *e = ctx;
  if (!e->keys_on || sid != e->key_sid)
    return SMBX_ERR_NOTFOUND;
  *out = e->keys;
  return 0;
}

static void up_smbd_event(void *ctx, const smbx_smbd_event *ev)
{
  th_side *e = ctx;
  th_ev *v = push(e, TE_SMBD);
  v->status = ev->type;
  if (ev->type == SMBX_SMBD_EV_DISCONNECTED) {
    sim_disconnect(e->x->w);
    e->x->s[1 - e->idx].pending_cm = true;
  }
  if (ev->type == SMBX_SMBD_EV_CLOSED)
    e->smbd_closed++;
}

static void up_down(void *ctx, int err, uint32_t status, const char *reason)
{
  th_side *e = ctx;
  assert_non_null(reason);
  assert_int_equal(e->downs, 0); /* once */
  e->downs++;
  e->down_err = err;
  e->down_status = status;
  th_ev *v = push(e, TE_DOWN);
  v->err = err;
}

static smbx__conn_upcalls upcalls(th_side *e)
{
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  u.ctx = e;
  u.send = up_send;
  u.request = up_request;
  u.cancel = up_cancel;
  u.abort = up_abort;
  u.complete = up_complete;
  u.interim = up_interim;
  u.notify = up_notify;
  u.writable = up_writable;
  u.keys = up_keys;
  u.smbd_event = up_smbd_event;
  u.down = up_down;
  return u;
}

static void side_init(th *x, int i)
{
  th_side *e = &x->s[i];
  e->x = x;
  e->idx = i;
  e->auto_release = true;
  e->in = calloc(1, TH_IN_CAP);
  e->out = calloc(1, TH_OUT_CAP + SMBX__CONN_HEADROOM);
}

int th_init_tcp(th *x, const smbx__conn_settings *cli,
                const smbx__conn_settings *srv, const smbx_crypto *cr)
{
  memset(x, 0, sizeof *x);
  test_alloc_init(&x->ta);
  const smbx__conn_settings *ss[2] = {cli, srv};
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    side_init(x, i);
    th_side *e = &x->s[i];
    if (!ss[i]) {
      e->raw = true;
      continue;
    }
    smbx__conn_upcalls u = upcalls(e);
    int r = smbx__conn_new_tcp(&e->c, ss[i], &u, cr, &x->ta.a, 0);
    if (r && !rc)
      rc = r;
  }
  return rc;
}

int th_init_smbd(th *x, const smbx__conn_settings *cli,
                 const smbx__conn_settings *srv, const smbx_crypto *cr)
{
  memset(x, 0, sizeof *x);
  test_alloc_init(&x->ta);
  x->smbd = true;
  x->w = sim_new(1000);
  const smbx__conn_settings *ss[2] = {cli, srv};
  for (int i = 0; i < 2; i++) {
    side_init(x, i);
    th_side *e = &x->s[i];
    smbx_smbd_settings s;
    smbx_smbd_settings_default(&s, sizeof s);
    s.role = i == TH_CLI ? SMBX_SMBD_ROLE_ACTIVE : SMBX_SMBD_ROLE_PASSIVE;
    s.send_buffers = th_smbd_send_buffers;
    uint32_t bl = s.max_recv_size;
    e->mem = calloc(TH_NBUF, bl);
    for (size_t k = 0; k < TH_NBUF; k++) {
      e->bufs[k].addr = e->mem + k * bl;
      e->bufs[k].length = bl;
      e->bufs[k].handle = 0x100 + k;
    }
    e->t = sim_transport(x->w, i);
    int rc = smbx_smbd_new(&e->d, &s, &e->t, e->bufs, TH_NBUF, &x->ta.a, 0);
    if (rc)
      return rc;
    smbx__conn_upcalls u = upcalls(e);
    rc = smbx__conn_new_smbd(&e->c, ss[i], &u, cr, e->d, &x->ta.a, 0);
    if (rc) {
      smbx_smbd_free(e->d);
      e->d = NULL;
      return rc;
    }
  }
  for (int i = 0; i < 2; i++)
    assert_int_equal(smbx__conn_smbd_cm_event(x->s[i].c,
                                              SMBX_SMBD_CM_ESTABLISHED, 16,
                                              16, x->w->now),
                     0);
  th_run(x);
  return 0;
}

void th_fini(th *x)
{
  for (int i = 0; i < 2; i++) {
    th_side *e = &x->s[i];
    smbx__conn_free(e->c);
    for (size_t k = 0; k < e->ev_n; k++)
      free(e->ev[k].bytes);
    free(e->ev);
    free(e->in);
    free(e->out);
    free(e->mem);
  }
  if (x->w)
    sim_free(x->w);
  assert_int_equal(x->ta.live, 0);
}

void th_dialect(th *x, uint16_t dialect, uint32_t caps)
{
  for (int i = 0; i < 2; i++)
    if (x->s[i].c)
      assert_int_equal(smbx__conn_set_dialect(x->s[i].c, dialect, caps), 0);
}

static int tcp_step(th *x)
{
  int moved = 0;
  for (int i = 0; i < 2; i++) {
    th_side *e = &x->s[i];
    if (!e->c) {
      continue;
    }
    if (e->in_off < e->in_len) {
      size_t used = 0;
      int rc = smbx__conn_tcp_feed(e->c, e->in + e->in_off,
                                   e->in_len - e->in_off, &used, x->now);
      e->in_off += used;
      if (used)
        moved++;
      if (rc < 0 && rc != SMBX_ERR_AGAIN)
        e->in_off = e->in_len; /* dead: drop the rest */
    }
    smbx__conn_info inf;
    smbx__conn_get_info(e->c, &inf);
    if (e->in_off == e->in_len && inf.holds == 0)
      e->in_off = e->in_len = 0;
  }
  return moved;
}

static int smbd_step(th *x)
{
  int moved = sim_deliver(x->w);
  for (int i = 0; i < 2; i++) {
    th_side *e = &x->s[i];
    sim_cqe c;
    while (sim_poll(x->w, i, &c)) {
      moved++;
      if (c.is_recv)
        (void)smbx__conn_smbd_recv(e->c, &c.wc, x->w->now);
      else
        (void)smbx__conn_smbd_send_done(e->c, &c.wc, x->w->now);
    }
    if (e->pending_cm) {
      e->pending_cm = false;
      moved++;
      (void)smbx__conn_smbd_cm_event(e->c, SMBX_SMBD_CM_DISCONNECTED, 0, 0,
                                     x->w->now);
    }
  }
  if (!moved && sim_next_time(x->w) != UINT64_MAX) {
    x->w->now = sim_next_time(x->w);
    moved = 1;
  }
  x->now = x->w->now;
  return moved;
}

void th_run(th *x)
{
  for (int guard = 0; guard < 1000000; guard++) {
    int m = x->smbd ? smbd_step(x) : tcp_step(x);
    if (!m)
      return;
  }
  fail_msg("th_run: no quiescence");
}

size_t th_count(const th *x, int side, int kind)
{
  size_t n = 0;
  for (size_t k = 0; k < x->s[side].ev_n; k++)
    if (x->s[side].ev[k].kind == kind)
      n++;
  return n;
}

th_ev *th_find(th *x, int side, int kind, size_t k)
{
  for (size_t i = 0; i < x->s[side].ev_n; i++)
    if (x->s[side].ev[i].kind == kind && k-- == 0)
      return &x->s[side].ev[i];
  return NULL;
}

void th_release_all(th *x, int side)
{
  th_side *e = &x->s[side];
  for (size_t i = 0; i < e->ev_n; i++)
    if (e->ev[i].hold && !e->ev[i].released) {
      assert_int_equal(smbx__conn_release(e->c, e->ev[i].hold, x->now), 0);
      e->ev[i].released = true;
    }
}

size_t th_pdu(uint8_t *p, uint16_t cmd, bool response, uint32_t status,
              size_t extra)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = cmd;
  h.status = status;
  h.flags = response ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0;
  (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
  uint16_t ss = smbx_smb2_structure_size(cmd, response);
  if (response && status != 0 && status != SMBX_STATUS_MORE_PROCESSING_REQUIRED &&
      status != SMBX_STATUS_BUFFER_OVERFLOW)
    ss = 9;
  if (cmd == SMBX_SMB2_CANCEL)
    ss = 4;
  size_t body = (size_t)(ss & ~1u) + (ss & 1u);
  memset(p + 64, 0, body + extra);
  p[64] = (uint8_t)ss;
  p[65] = (uint8_t)(ss >> 8);
  return 64 + body + extra;
}

int th_send(th *x, uint16_t cmd, uint64_t sid, uint32_t tid, uint64_t user,
            uint64_t *req)
{
  th_side *e = &x->s[TH_CLI];
  uint8_t *p = e->out + SMBX__CONN_HEADROOM;
  size_t n = th_pdu(p, cmd, false, 0, 0);
  smbx__conn_st64(p + 40, sid);
  smbx__conn_st32(p + 36, tid);
  return smbx__conn_send(e->c, e->out, TH_OUT_CAP + SMBX__CONN_HEADROOM, n,
                         NULL, user, req, req ? 1 : 0, x->now);
}

int th_send_read(th *x, uint32_t length, uint64_t user, uint64_t *req)
{
  th_side *e = &x->s[TH_CLI];
  uint8_t *p = e->out + SMBX__CONN_HEADROOM;
  size_t n = th_pdu(p, SMBX_SMB2_READ, false, 0, 0);
  smbx__conn_st32(p + 68, length);
  smbx__conn_st64(p + 40, e->read_sid);
  return smbx__conn_send(e->c, e->out, TH_OUT_CAP + SMBX__CONN_HEADROOM, n,
                         NULL, user, req, req ? 1 : 0, x->now);
}

int th_respond(th *x, uint64_t req, uint32_t status)
{
  th_side *e = &x->s[TH_SRV];
  smbx_smb2_hdr h;
  int rc = smbx__conn_resp_hdr(e->c, req, status, &h);
  if (rc)
    return rc;
  uint8_t *p = e->out + SMBX__CONN_HEADROOM;
  size_t n = th_pdu(p, h.command, true, status, 0);
  (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
  if (status == 0 && h.command == SMBX_SMB2_READ) {
    /* the request's Length from our recorded copy */
    uint32_t want = 0;
    for (size_t k = e->ev_n; k-- > 0;)
      if (e->ev[k].kind == TE_REQUEST && e->ev[k].req == req) {
        want = smbx__conn_ld32(e->ev[k].bytes + 68);
        break;
      }
    assert_true(want <= TH_OUT_CAP - 80);
    p[66] = 0x50;
    smbx__conn_st32(p + 68, want);
    for (uint32_t i = 0; i < want; i++)
      p[80 + i] = (uint8_t)(i * 7 + 1);
    n = 80 + want;
  }
  if (status == 0 && h.command == SMBX_SMB2_CREATE) {
    smbx__conn_st64(p + 128, 0xF1);
    smbx__conn_st64(p + 136, h.message_id);
  }
  return smbx__conn_respond(e->c, req, e->out,
                            TH_OUT_CAP + SMBX__CONN_HEADROOM, n, NULL, x->now);
}

void th_raw_send(th *x, int from, const void *msg, size_t len)
{
  th_side *peer = &x->s[1 - from];
  assert_true(peer->in_len + len + 4 <= TH_IN_CAP);
  assert_int_equal(smbx_tcp_encode_prefix(peer->in + peer->in_len, 4, len), 4);
  memcpy(peer->in + peer->in_len + 4, msg, len);
  peer->in_len += len + 4;
}

bool th_raw_next(th *x, int side, const uint8_t **msg, size_t *len)
{
  th_side *e = &x->s[side];
  if (e->raw_off + 4 > e->in_len)
    return false;
  uint32_t n = 0;
  assert_int_equal(smbx_tcp_decode_prefix(e->in + e->raw_off, 4, &n), 0);
  assert_true(e->raw_off + 4 + n <= e->in_len);
  *msg = e->in + e->raw_off + 4;
  *len = n;
  e->raw_off += 4 + n;
  return true;
}
