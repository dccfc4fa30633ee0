/* SPDX-License-Identifier: MIT */
/* One SMB2 connection: life cycle, transports (Direct TCP framer, SMB
 * Direct engine), message holds, sending, teardown. See conn.h. */
#include "conn/conn_int.h"

#include "core/compiler.h"
#include "core/time.h"
#include "smb2/sec.h"

void smbx__conn_settings_default(smbx__conn_settings *s, uint32_t role)
{
  memset(s, 0, sizeof *s);
  s->role = role;
  s->max_requests = 8192;
  s->credits_max = 8192;
  s->credits_min = 512;
  s->credit_target = 512;
  s->max_msg = 8u * 1024 * 1024 + 65536;
  s->max_chain = SMBX_SMB2_CHAIN_MAX_DEFAULT;
  s->max_holds = 1024;
  s->request_timeout_ns = 60ull * 1000000000ull;
  s->compound_buf = 65536;
}

/* ---- holds ---------------------------------------------------------------- */

int smbx__conn_release(smbx__conn *c, uint64_t hold, uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  if (hold == 0)
    return 0;
  smbx__conn_hold *h = smbx__slab_lookup(&c->holds, hold);
  if (!h || h->refs == 0)
    return SMBX_ERR_NOTFOUND;
  /* the connection's own reference is dropped elsewhere; a caller cannot
   * release more than it was given: refs counts delivered PDUs + 1 while
   * the connection still walks the message */
  if (h->refs == 1 && (h->running || h->more))
    return SMBX_ERR_NOTFOUND;
  smbx__conn_hold_drop(c, h, hold, now_ns);
  smbx__conn_kick(c, now_ns);
  return 0;
}

/* ---- creation ------------------------------------------------------------- */

static int check_settings(const smbx__conn_settings *s,
                          const smbx__conn_upcalls *up)
{
  if (s->role != SMBX__CONN_CLIENT && s->role != SMBX__CONN_SERVER)
    return SMBX_ERR_INVAL;
  if (s->max_requests == 0 || s->max_requests > (1u << 24) ||
      s->credits_max == 0 || s->credits_max > 65535 || s->credits_min == 0 ||
      s->credits_min > s->credits_max || s->max_msg < 64 ||
      s->max_msg > SMBX_TCP_MAX_FRAME || s->max_holds == 0 ||
      s->max_holds > (1u << 24) || s->max_chain > 4096)
    return SMBX_ERR_INVAL;
  if (s->role == SMBX__CONN_SERVER && !up->request)
    return SMBX_ERR_INVAL;
  if (s->role == SMBX__CONN_CLIENT && !up->complete)
    return SMBX_ERR_INVAL;
  return 0;
}

static void conn_free_tables(smbx__conn *c)
{
  smbx__slab_free(&c->reqs);
  smbx__slab_free(&c->holds);
  smbx__hash_free(&c->ids);
  if (c->dm)
    smbx__free(&c->alloc, c->dm, sizeof *c->dm * (c->dm_mask + 1),
               _Alignof(smbx__conn_req *));
  c->dm = NULL;
  smbx__conn_win_free(c);
  if (c->ebuf)
    smbx__free(&c->alloc, c->ebuf, SMBX__CONN_HEADROOM + SMBX__CONN_EBUF, 8);
  c->ebuf = NULL;
  if (c->sev)
    smbx__free(&c->alloc, c->sev, sizeof *c->sev * c->sev_cap,
               _Alignof(smbx__conn_sev));
  c->sev = NULL;
  if (c->pend)
    smbx__free(&c->alloc, c->pend, sizeof *c->pend * c->s.max_chain,
               _Alignof(smbx__conn_pend));
  c->pend = NULL;
  if (c->cbuf)
    smbx__free(&c->alloc, c->cbuf, SMBX__CONN_HEADROOM + c->cb_cap, 8);
  c->cbuf = NULL;
}

static int conn_alloc(smbx__conn **out, const smbx__conn_settings *s,
                      const smbx__conn_upcalls *up, const smbx_crypto *cr,
                      const smbx_allocator *a, uint32_t extra_holds)
{
  if (!out || !s || !up)
    return SMBX_ERR_INVAL;
  int rc = check_settings(s, up);
  if (rc)
    return rc;
  smbx_allocator al;
  rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx__conn *c = SMBX__NEW(&al, smbx__conn);
  if (!c)
    return SMBX_ERR_NOMEM;
  c->alloc = al;
  c->s = *s;
  c->up = *up;
  c->role = s->role;
  if (c->s.max_chain == 0)
    c->s.max_chain = SMBX_SMB2_CHAIN_MAX_DEFAULT;
  if (cr) {
    if (smbx__smb2_crypto_copy(&c->cr, cr)) {
      SMBX__DELETE(&al, c, smbx__conn);
      return SMBX_ERR_INVAL;
    }
    c->have_cr = true;
  }
  smbx__list_init(&c->live);
  smbx__list_init(&c->timers);
  uint32_t nh = s->max_holds + extra_holds;
  if ((rc = SMBX__SLAB_INIT(&c->reqs, &c->alloc, smbx__conn_req,
                            s->max_requests)) ||
      (rc = SMBX__SLAB_INIT(&c->holds, &c->alloc, smbx__conn_hold, nh)) ||
      (rc = smbx__conn_win_init(c)))
    goto fail;
  if (c->role == SMBX__CONN_CLIENT) {
    /* the hash holds only requests whose table slot is taken: it starts
     * small and grows before a send that could overfill it */
    size_t cap = smbx__hash_cap_for(s->max_requests < SMBX__CONN_IDS_MIN
                                        ? s->max_requests
                                        : SMBX__CONN_IDS_MIN);
    if (!cap) {
      rc = SMBX_ERR_RANGE;
      goto fail;
    }
    if ((rc = smbx__hash_init(&c->ids, &c->alloc, 8, cap, s->hash_seed)))
      goto fail;
    size_t dm = 1;
    while (dm < s->max_requests && dm < SMBX__CONN_DM_MAX)
      dm <<= 1;
    c->dm = smbx__calloc(&c->alloc, dm, sizeof *c->dm,
                         _Alignof(smbx__conn_req *));
    c->dm_mask = c->dm ? dm - 1 : 0;
    c->pend = smbx__calloc(&c->alloc, c->s.max_chain, sizeof *c->pend,
                           _Alignof(smbx__conn_pend));
    if (!c->dm || !c->pend) {
      rc = SMBX_ERR_NOMEM;
      goto fail;
    }
  }
  c->ebuf = smbx__alloc(&c->alloc, SMBX__CONN_HEADROOM + SMBX__CONN_EBUF, 8);
  if (!c->ebuf) {
    rc = SMBX_ERR_NOMEM;
    goto fail;
  }
  if (c->role == SMBX__CONN_SERVER &&
      (s->flags & SMBX__CONN_F_COMPOUND_RESPONSES) && s->compound_buf) {
    /* the buffer itself is made by the first compound answered
     * (smbx__conn_respond): most connections never send one */
    c->cb_cap = s->compound_buf < 256 ? 256 : s->compound_buf;
  }
  *out = c;
  return 0;
fail:
  conn_free_tables(c);
  SMBX__DELETE(&c->alloc, c, smbx__conn);
  return rc == SMBX_ERR_RANGE ? SMBX_ERR_INVAL : rc;
}

int smbx__conn_new_tcp(smbx__conn **out, const smbx__conn_settings *s,
                       const smbx__conn_upcalls *up, const smbx_crypto *cr,
                       const smbx_allocator *a, uint64_t now_ns)
{
  (void)now_ns;
  if (!up || !up->send)
    return SMBX_ERR_INVAL;
  smbx__conn *c = NULL;
  int rc = conn_alloc(&c, s, up, cr, a, 0);
  if (rc)
    return rc;
  c->transport = SMBX__CONN_TCP;
  rc = smbx_tcp_framer_new(&c->framer, s->max_msg, &c->alloc);
  if (rc == 0 && s->tcp_reserve)
    rc = smbx_tcp_framer_reserve(
        c->framer, s->tcp_reserve > s->max_msg ? s->max_msg : s->tcp_reserve);
  if (rc) {
    smbx__conn_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static void smbd_upcall(void *ctx, const smbx_smbd_event *ev);

int smbx__conn_new_smbd(smbx__conn **out, const smbx__conn_settings *s,
                        const smbx__conn_upcalls *up, const smbx_crypto *cr,
                        smbx_smbd *d, const smbx_allocator *a,
                        uint64_t now_ns)
{
  (void)now_ns;
  if (!d)
    return SMBX_ERR_INVAL;
  smbx__conn *c = NULL;
  /* every message the engine can have delivered at once needs a hold */
  int rc = conn_alloc(&c, s, up, cr, a, d->n_rb + d->n_ra);
  if (rc)
    return rc;
  c->transport = SMBX__CONN_SMBD;
  c->sev_cap = d->ev_cap ? d->ev_cap : 16;
  c->sev = smbx__calloc(&c->alloc, c->sev_cap, sizeof *c->sev,
                        _Alignof(smbx__conn_sev));
  if (!c->sev) {
    smbx__conn_free(c);
    return SMBX_ERR_NOMEM;
  }
  c->smbd = d;
  smbx__smbd_set_upcall(d, smbd_upcall, c);
  *out = c;
  return 0;
}

int smbx__conn_new_smbd_engine(smbx__conn **out, const smbx__conn_settings *s,
                               const smbx__conn_upcalls *up,
                               const smbx_crypto *cr,
                               const smbx_smbd_settings *st,
                               const smbx_transport *t,
                               const smbx_smbd_recv_buf *bufs, size_t n,
                               const smbx_allocator *a, uint64_t now_ns)
{
  smbx_smbd *d = NULL;
  int rc = smbx_smbd_new(&d, st, t, bufs, n, a, now_ns);
  if (rc)
    return rc;
  rc = smbx__conn_new_smbd(out, s, up, cr, d, a, now_ns);
  if (rc)
    smbx_smbd_free(d);
  return rc;
}

int smbx__conn_tcp_hooks_copy(smbx_tcp_hooks *dst, const smbx_tcp_hooks *src)
{
  if (src->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  memset(dst, 0, sizeof *dst);
  memcpy(dst, src,
         src->struct_size < sizeof *dst ? src->struct_size : sizeof *dst);
  return dst->send ? 0 : SMBX_ERR_INVAL;
}

int smbx__conn_smbd_settings_copy(smbx_smbd_settings *dst,
                                  const smbx_smbd_settings *src,
                                  uint32_t role)
{
  smbx_smbd_settings_default(dst, sizeof *dst);
  if (src) {
    if (src->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(dst, src,
           src->struct_size < sizeof *dst ? src->struct_size : sizeof *dst);
    dst->struct_size = sizeof *dst;
  }
  dst->role = role;
  return 0;
}

void smbx__conn_free(smbx__conn *c)
{
  if (!c)
    return;
  if (c->smbd) {
    smbx__smbd_set_upcall(c->smbd, NULL, NULL);
    smbx_smbd_free(c->smbd);
  }
  smbx_tcp_framer_free(c->framer);
  conn_free_tables(c);
  smbx_allocator al = c->alloc;
  SMBX__DELETE(&al, c, smbx__conn);
}

/* ---- teardown ------------------------------------------------------------- */

static void conn_down(smbx__conn *c, int err)
{
  c->cb_hold = 0;
  c->cb_len = 0;
  c->cb_stuck = false;
  c->cb_inv = false;
  if (c->role == SMBX__CONN_CLIENT)
    smbx__conn_cli_teardown(c, err);
  else
    smbx__conn_srv_teardown(c, err);
  /* holds still walking a chain lose the connection's reference */
  for (uint32_t i = 0; i < smbx__slab_cap(&c->holds); i++) {
    smbx__conn_hold *h = smbx__slab_at(&c->holds, i);
    if (h && h->more) {
      h->more = false;
      h->waiting = 0;
      if (!h->running)
        smbx__conn_hold_unref(c, smbx__slab_handle(&c->holds, h), 0);
    }
  }
  if (c->smbd) {
    smbx_smbd_params p;
    p.struct_size = sizeof p;
    if (smbx_smbd_get_params(c->smbd, &p) == 0 &&
        p.state < SMBX_SMBD_STATE_DISCONNECTING)
      (void)smbx_smbd_close(c->smbd, 0);
  }
  if (!c->down_called) {
    c->down_called = true;
    if (c->up.down)
      c->up.down(c->up.ctx, err == SMBX_ERR_CLOSED ? 0 : err, c->err_status,
                 c->detail.reason ? c->detail.reason : "closed");
  }
}

int smbx__conn_fatal(smbx__conn *c, int err, const char *reason, size_t off,
                     uint32_t status)
{
  if (c->err)
    return c->err;
  c->err = err;
  c->err_status = status;
  c->detail.reason = reason;
  c->detail.offset = off;
  conn_down(c, err);
  return err;
}

int smbx__conn_close(smbx__conn *c, uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  if (c->err)
    return c->err;
  smbx__conn_fatal(c, SMBX_ERR_CLOSED, "closed by the owner", 0, 0);
  smbx__conn_kick(c, now_ns);
  return 0;
}

int smbx__conn_fail(smbx__conn *c, int err, const char *reason,
                    uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  int rc = smbx__conn_fatal(c, err < 0 ? err : SMBX_ERR_TRANSPORT,
                            reason ? reason : "failed by the owner", 0, 0);
  smbx__conn_kick(c, now_ns);
  return rc;
}

int smbx__conn_abort(smbx__conn *c, int err, const char *reason,
                     uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  if (err > SMBX_ERR_FATAL)
    err = SMBX_ERR_TRANSPORT;
  int rc = smbx__conn_fatal(c, err, reason ? reason : "aborted by the owner",
                            0, 0);
  smbx__conn_kick(c, now_ns);
  return rc;
}

/* ---- crypto helpers ------------------------------------------------------- */

bool smbx__conn_ask_keys(smbx__conn *c, uint64_t sid, smbx__conn_keys *k)
{
  if (!c->up.keys || sid == 0 || sid == SMBX_SMB2_SESSION_ID_INHERIT)
    return false;
  k->flags = 0;
  return c->up.keys(c->up.ctx, sid, k) == 0;
}

void smbx__conn_preauth_msg(smbx__conn *c, const uint8_t *p, size_t len,
                            bool restart)
{
  if (!c->have_cr || !c->cr.sha512 || (c->s.flags & SMBX__CONN_F_NO_PREAUTH))
    return;
  if (restart) {
    smbx_smb2_preauth_init(c->preauth);
    c->preauth_state = 0;
  } else if (c->preauth_state != 1) {
    return;
  }
  if (smbx_smb2_preauth_update(&c->cr, c->preauth, p, len) == 0)
    c->preauth_state++;
  else
    c->preauth_state = 0;
}

int smbx__conn_preauth(const smbx__conn *c, uint8_t out[64])
{
  if (!c || !out)
    return SMBX_ERR_INVAL;
  if (!c->have_cr || !c->cr.sha512 || (c->s.flags & SMBX__CONN_F_NO_PREAUTH))
    return SMBX_ERR_UNSUPPORTED;
  if (c->preauth_state != 2)
    return SMBX_ERR_STATE;
  memcpy(out, c->preauth, 64);
  return 0;
}

int smbx__conn_preauth_update(const smbx__conn *c, uint8_t hash[64],
                              const uint8_t *pdu, size_t len)
{
  if (!c || !hash)
    return SMBX_ERR_INVAL;
  if (!c->have_cr)
    return SMBX_ERR_UNSUPPORTED;
  return smbx_smb2_preauth_update(&c->cr, hash, pdu, len);
}

smbx_ssize smbx__conn_decrypt(smbx__conn *c, uint8_t *msg, size_t len,
                              uint64_t *sid)
{
  smbx_smb2_transform_hdr th;
  smbx_error_detail d = {0, 0};
  if (smbx_smb2_transform_decode(msg, len, &th, &d))
    return smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  smbx__conn_keys k;
  /* 3.3.5.2.1.1 / 3.2.5.1.1.1: unknown session or no keys -> disconnect */
  if (!smbx__conn_get_keys(c, th.session_id, &k) ||
      !(k.flags & SMBX__CONN_KEYS_CIPHER))
    return smbx__conn_fatal(c, SMBX_ERR_PROTO,
                            "TRANSFORM: unknown session or no cipher", 44, 0);
  smbx_ssize n = smbx_smb2_decrypt(&c->cr, k.keys.cipher, k.keys.decryption,
                                   k.keys.cipher_key_len, msg, len, NULL);
  if (n < 0)
    return smbx__conn_fatal(c, SMBX_ERR_PROTO,
                            n == SMBX_ERR_AUTH ? "TRANSFORM: decryption failed"
                                               : "TRANSFORM: bad message",
                            0, 0);
  if (smbx_smb2_msg_kind(msg + SMBX_SMB2_TRANSFORM_HDR_SIZE, (size_t)n) !=
      SMBX_SMB2_MSG_SMB2)
    return smbx__conn_fatal(c, SMBX_ERR_PROTO,
                            "TRANSFORM: plaintext is not SMB2 (compression "
                            "is not negotiated)",
                            52, 0);
  *sid = th.session_id;
  return n;
}

/* ---- sending -------------------------------------------------------------- */

/* [MS-SMBD] send space: the engine refuses with AGAIN when short of send
 * buffers; check first so an encrypted message is never left half done.
 * 0, SMBX_ERR_AGAIN or SMBX_ERR_NOMEM (no memory for more send buffers). */
static int smbd_room(const smbx__conn *c, size_t n)
{
  smbx_smbd *d = c->smbd;
  if (d->err || d->closing || d->state != SMBX_SMBD_STATE_CONNECTED)
    return 0; /* let smbx_smbd_send report it */
  if (d->max_send <= SMBX_SMBD_DATA_HDR_SIZE)
    return 0;
  uint64_t nf = smbx__smbd_frags(n, d->max_send - SMBX_SMBD_DATA_HDR_SIZE);
  if (nf > d->n_slots - 1)
    return 0; /* never fits: smbx_smbd_send says so */
  return smbx__smbd_reserve_slots(d, nf);
}

int smbx__conn_smbd_post_failed(smbx__conn *c, int rc)
{
  if (rc == SMBX_ERR_AGAIN) {
    c->want_writable = true;
    return rc;
  }
  if (rc == SMBX_ERR_RANGE || rc == SMBX_ERR_LIMIT)
    return SMBX_ERR_RANGE;
  if (rc <= SMBX_ERR_FATAL)
    return smbx__conn_fatal(c, rc, "SMB Direct send failed", 0, 0);
  return rc;
}

int smbx__conn_xmit_any(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                        const smbx__conn_keys *k, uint64_t session_id,
                        uint64_t now)
{
  uint8_t *p = buf + SMBX__CONN_HEADROOM;
  size_t n = len;
  if (c->transport == SMBX__CONN_SMBD) {
    /* not negotiated yet (or closing): the engine would refuse it; say so
     * before anything is encrypted in place */
    int rc = smbx__conn_smbd_ready(c);
    if (rc)
      return rc;
    /* a plain message: smbx_smbd_send makes the same space check */
    if (k) {
      int room = smbd_room(c, len + SMBX_SMB2_TRANSFORM_HDR_SIZE);
      if (room == SMBX_ERR_AGAIN)
        c->want_writable = true;
      if (room)
        return room;
    }
  }
  if (k) {
    uint8_t *t = p - SMBX_SMB2_TRANSFORM_HDR_SIZE;
    smbx_ssize r = smbx_smb2_encrypt(
        &c->cr, k->keys.cipher, k->keys.encryption, k->keys.cipher_key_len,
        session_id, NULL, t, cap - (SMBX__CONN_HEADROOM - SMBX_SMB2_TRANSFORM_HDR_SIZE),
        len);
    if (r < 0)
      return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT,
                              "encryption hook failed", 0, 0);
    p = t;
    n = (size_t)r;
  }
  if (c->transport == SMBX__CONN_TCP) {
    if (n > SMBX_TCP_MAX_FRAME)
      return SMBX_ERR_RANGE;
    (void)smbx_tcp_encode_prefix(p - SMBX_TCP_PREFIX_LEN, SMBX_TCP_PREFIX_LEN,
                                 n);
    if (c->up.send(c->up.ctx, p - SMBX_TCP_PREFIX_LEN,
                   n + SMBX_TCP_PREFIX_LEN) != 0)
      return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "send upcall failed", 0,
                              0);
    return 0;
  }
  return smbx__conn_smbd_post(c, p, n, now);
}

/* ---- incoming messages ---------------------------------------------------- */

static void process_msg(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now)
{
  if (c->role == SMBX__CONN_SERVER)
    smbx__conn_srv_msg(c, hh, h, now);
  else
    smbx__conn_cli_msg(c, hh, h, now);
}

int smbx__conn_tcp_feed(smbx__conn *c, uint8_t *data, size_t len,
                        size_t *consumed, uint64_t now_ns)
{
  if (!c || !consumed || (!data && len))
    return SMBX_ERR_INVAL;
  *consumed = 0;
  if (c->transport != SMBX__CONN_TCP)
    return SMBX_ERR_STATE;
  if (c->err)
    return c->err;
  size_t off = 0;
  while (off < len) {
    if (c->framer_held || smbx__slab_live(&c->holds) >= smbx__slab_cap(&c->holds)) {
      *consumed = off;
      return SMBX_ERR_AGAIN;
    }
    size_t n = 0;
    smbx_tcp_pdu pdu;
    int rc = smbx_tcp_framer_feed(c->framer, data + off, len - off, &n, &pdu);
    off += n;
    *consumed = off;
    if (rc == SMBX_ERR_NOMEM)
      return rc;
    if (rc < 0) {
      smbx_error_detail d = {0, 0};
      (void)smbx_tcp_framer_error_detail(c->framer, &d);
      return smbx__conn_fatal(c, SMBX_ERR_PROTO,
                              d.reason ? d.reason : "Direct TCP framing",
                              d.offset, 0);
    }
    if (rc == 0)
      break;
    uint8_t *msg;
    uint8_t kind;
    if (pdu.copied) {
      /* the framer's own buffer (writable memory it allocated) */
      msg = (uint8_t *)(uintptr_t)pdu.data;
      kind = HK_FRAMER;
    } else {
      msg = data + (pdu.data - data);
      kind = HK_PLAIN;
    }
    /* a hold is free: checked above */
    uint64_t hh = 0;
    smbx__conn_hold *h = smbx__conn_hold_new(c, msg, pdu.len, kind, 0, &hh);
    if (kind == HK_FRAMER) {
      c->framer_held = true;
      c->framer_hold = hh;
    }
    process_msg(c, hh, h, now_ns);
    if (c->err)
      return c->err;
    if (c->framer_held && off < len)
      return SMBX_ERR_AGAIN;
  }
  return c->err ? c->err : 0;
}

/* A message the engine delivered (its token released when it is done):
 * held and processed. */
/* A message the connection cannot take: dead, or no hold left (fatal). */
static SMBX__COLD void refuse_message(smbx__conn *c, uint64_t token,
                                      uint64_t now)
{
  (void)smbx_smbd_release(c->smbd, token, now);
  if (!c->err)
    smbx__conn_fatal(c, SMBX_ERR_LIMIT, "no hold for a message", 0, 0);
}

static inline void take_message(smbx__conn *c, uint8_t *p, size_t len,
                                uint64_t token, bool inv, uint32_t rkey,
                                uint64_t now)
{
  /* the receive or reassembly buffer is memory lent to / owned by the
   * engine; the connection decrypts in place in it */
  uint64_t hh;
  smbx__conn_hold *h =
      c->err ? NULL : smbx__conn_hold_new(c, p, len, HK_SMBD, token, &hh);
  if (!h) {
    refuse_message(c, token, now);
    return;
  }
  if (inv) {
    h->inv = true;
    h->inv_rkey = rkey;
  }
  process_msg(c, hh, h, now);
}

/* SMB Direct: events arrive synchronously inside an engine call; queue
 * them and act once the engine returned (it must not be re-entered, with
 * the exceptions below). */
static void smbd_upcall(void *ctx, const smbx_smbd_event *ev)
{
  smbx__conn *c = ctx;
  /* a message delivered in place is the engine's last step for that
   * receive (docs/smbd.md, owner upcall): with nothing queued before it
   * and no drain running it is taken at once, without the queue; events
   * it causes arrive nested and are queued */
  if (c->sev_n == 0) {
    if (ev->type == SMBX_SMBD_EV_MESSAGE) {
      if (c->in_recv && !c->draining &&
          ev->u.message.token >> 32 == SMBX__SMBD_TOK_INPLACE) {
        c->draining = true;
        take_message(c, (uint8_t *)(uintptr_t)ev->u.message.data,
                     ev->u.message.len, ev->u.message.token,
                     (ev->u.message.flags & SMBX_SMBD_MSG_INVALIDATED) != 0,
                     ev->u.message.invalidated_rkey, c->recv_now);
        c->draining = false;
        return;
      }
    } else if (ev->type == SMBX_SMBD_EV_SEND_DONE && !c->cb_stuck &&
               !c->want_writable) {
      /* a SEND_DONE the connection has nothing to do for (no gathered
       * compound waits to go out, no writable() owed) and that no queued
       * event precedes (it might leave the connection waiting for space)
       * is dropped here: the owner is not told of SEND_DONE (conn.h) */
      return;
    }
  }
  if (c->sev_n == c->sev_cap)
    return; /* cannot happen: sized like the engine's own event queue */
  uint32_t at = c->sev_head + c->sev_n;
  if (at >= c->sev_cap)
    at -= c->sev_cap;
  /* only the fields of its type are written (and read back) */
  smbx__conn_sev *s = &c->sev[at];
  s->type = ev->type;
  s->flags = ev->flags;
  switch (ev->type) {
  case SMBX_SMBD_EV_MESSAGE:
    s->p = ev->u.message.data;
    s->len = ev->u.message.len;
    s->x = ev->u.message.token;
    s->a = ev->u.message.flags;
    s->b = ev->u.message.invalidated_rkey;
    s->c = ev->u.message.fragments;
    break;
  case SMBX_SMBD_EV_DISCONNECTED:
    s->error = ev->u.disconnected.error;
    s->ntstatus = ev->u.disconnected.ntstatus;
    s->reason = ev->u.disconnected.reason;
    break;
  case SMBX_SMBD_EV_RECV_BUFFER:
    s->p = ev->u.recv_buf.addr;
    s->a = ev->u.recv_buf.length;
    s->b = ev->u.recv_buf.index;
    s->x = ev->u.recv_buf.handle;
    break;
  default:
    break;
  }
  c->sev_n++;
}

static void forward_smbd(smbx__conn *c, const smbx__conn_sev *s)
{
  if (!c->up.smbd_event)
    return;
  smbx_smbd_event ev;
  ev.struct_size = sizeof ev;
  ev.type = s->type;
  ev.flags = s->flags;
  memset(&ev.u, 0, sizeof ev.u);
  switch (s->type) {
  case SMBX_SMBD_EV_NEGOTIATED:
    ev.u.params.struct_size = sizeof ev.u.params;
    (void)smbx_smbd_get_params(c->smbd, &ev.u.params);
    break;
  case SMBX_SMBD_EV_DISCONNECTED:
    ev.u.disconnected.error = s->error;
    ev.u.disconnected.ntstatus = s->ntstatus;
    ev.u.disconnected.reason = s->reason;
    break;
  case SMBX_SMBD_EV_RECV_BUFFER:
    ev.u.recv_buf.addr = (void *)(uintptr_t)s->p;
    ev.u.recv_buf.length = s->a;
    ev.u.recv_buf.index = s->b;
    ev.u.recv_buf.handle = s->x;
    break;
  default:
    break;
  }
  c->up.smbd_event(c->up.ctx, &ev);
}

static void smbd_drain(smbx__conn *c, uint64_t now)
{
  if (c->draining)
    return;
  c->draining = true;
  while (c->sev_n) {
    /* the slot is free once popped: events raised while this one is acted
     * on may reuse it, so what is needed is read first */
    const smbx__conn_sev *q = &c->sev[c->sev_head];
    c->sev_head = c->sev_head + 1 == c->sev_cap ? 0 : c->sev_head + 1;
    c->sev_n--;
    if (q->type == SMBX_SMBD_EV_MESSAGE) {
      uint8_t *p = (uint8_t *)(uintptr_t)q->p;
      size_t len = q->len;
      uint64_t token = q->x;
      bool inv = (q->a & SMBX_SMBD_MSG_INVALIDATED) != 0;
      take_message(c, p, len, token, inv, q->b, now);
      continue;
    }
    smbx__conn_sev s = *q;
    switch (s.type) {
    case SMBX_SMBD_EV_DISCONNECTED:
      smbx__conn_fatal(c, s.error ? s.error : SMBX_ERR_CLOSED,
                       s.reason ? s.reason : "SMB Direct disconnected", 0,
                       s.ntstatus);
      forward_smbd(c, &s);
      break;
    case SMBX_SMBD_EV_SEND_DONE:
      if (c->cb_stuck && !c->err)
        (void)smbx__conn_cb_flush(c, false, now);
      if (c->want_writable && !c->err) {
        c->want_writable = false;
        if (c->up.writable)
          c->up.writable(c->up.ctx);
      }
      break;
    default:
      forward_smbd(c, &s);
      break;
    }
  }
  c->draining = false;
}

void smbx__conn_invalidate_next(smbx__conn *c, bool on, uint32_t rkey)
{
  c->send_inv = on;
  c->send_inv_rkey = on ? rkey : 0;
}

void smbx__conn_drain(smbx__conn *c, uint64_t now)
{
  smbd_drain(c, now);
}

static int smbd_ret(smbx__conn *c, int rc, uint64_t now)
{
  if (c->sev_n)
    smbd_drain(c, now);
  if (rc < 0)
    return rc;
  return c->err && c->err != SMBX_ERR_CLOSED ? c->err : 0;
}

int smbx__conn_smbd_recv(smbx__conn *c, const smbx_wc *wc, uint64_t now_ns)
{
  if (!c || !c->smbd)
    return SMBX_ERR_INVAL;
  c->in_recv = true;
  c->recv_now = now_ns;
  int rc = smbx_smbd_recv(c->smbd, wc, now_ns);
  c->in_recv = false;
  return smbd_ret(c, rc, now_ns);
}

int smbx__conn_smbd_send_done(smbx__conn *c, const smbx_wc *wc,
                              uint64_t now_ns)
{
  if (!c || !c->smbd)
    return SMBX_ERR_INVAL;
  return smbd_ret(c, smbx_smbd_send_done(c->smbd, wc, now_ns), now_ns);
}

int smbx__conn_smbd_cm_event(smbx__conn *c, uint32_t event, uint32_t ird,
                             uint32_t ord, uint64_t now_ns)
{
  if (!c || !c->smbd)
    return SMBX_ERR_INVAL;
  return smbd_ret(c, smbx_smbd_cm_event(c->smbd, event, ird, ord, now_ns),
                  now_ns);
}

smbx_smbd *smbx__conn_smbd(const smbx__conn *c)
{
  return c ? c->smbd : NULL;
}

uint32_t smbx__conn_smbd_max_rw(const smbx__conn *c, uint32_t *ord)
{
  const smbx_smbd *d = c ? c->smbd : NULL;
  if (ord)
    *ord = d ? d->ord : 0;
  return d ? d->max_rw : 0;
}

/* ---- negotiated state, time, inspection ----------------------------------- */

int smbx__conn_set_dialect(smbx__conn *c, uint16_t dialect,
                           uint32_t capabilities)
{
  if (!c)
    return SMBX_ERR_INVAL;
  switch (dialect) {
  case SMBX_SMB2_DIALECT_202:
  case SMBX_SMB2_DIALECT_210:
  case SMBX_SMB2_DIALECT_300:
  case SMBX_SMB2_DIALECT_302:
  case SMBX_SMB2_DIALECT_311:
    break;
  default:
    return SMBX_ERR_INVAL;
  }
  c->dialect = dialect;
  c->caps = capabilities;
  c->large_mtu = dialect != SMBX_SMB2_DIALECT_202 &&
                 (capabilities & SMBX_SMB2_CAP_LARGE_MTU);
  return 0;
}

void smbx__conn_set_backpressure(smbx__conn *c, bool on)
{
  if (c)
    c->backpressure = on;
}

uint64_t smbx__conn_expiry(const smbx__conn *c)
{
  if (!c || c->err)
    return c && c->smbd ? smbx_smbd_expiry(c->smbd) : SMBX__NO_DEADLINE;
  uint64_t t = SMBX__NO_DEADLINE;
  smbx__list *f = smbx__list_first(&c->timers);
  if (f)
    t = SMBX__CONTAINER_OF(f, smbx__conn_req, tlink)->deadline;
  if (c->smbd)
    t = smbx__deadline_min(t, smbx_smbd_expiry(c->smbd));
  return t;
}

int smbx__conn_handle_expiry(smbx__conn *c, uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  if (c->smbd) {
    int rc = smbd_ret(c, smbx_smbd_handle_expiry(c->smbd, now_ns), now_ns);
    if (rc < 0 && !c->err)
      return rc;
  }
  while (!c->err) {
    smbx__list *f = smbx__list_first(&c->timers);
    if (!f)
      break;
    smbx__conn_req *r = SMBX__CONTAINER_OF(f, smbx__conn_req, tlink);
    if (!smbx__deadline_passed(now_ns, r->deadline))
      break;
    smbx__list_remove(&r->tlink);
    if (c->s.flags & SMBX__CONN_F_TIMEOUT_FATAL) {
      smbx__conn_fatal(c, SMBX_ERR_TIMEOUT, "request timed out", 0,
                       SMBX_STATUS_IO_TIMEOUT);
      break;
    }
    /* the id stays reserved: a late response is dropped silently */
    r->ri.flags |= RI_ZOMBIE;
    c->n_zombie++;
    c->up.complete(c->up.ctx, r->handle, r->user,
                   SMBX_ERR_TIMEOUT, NULL);
  }
  return c->err && c->err != SMBX_ERR_CLOSED ? c->err : 0;
}

void smbx__conn_get_info(const smbx__conn *c, smbx__conn_info *o)
{
  memset(o, 0, sizeof *o);
  if (!c)
    return;
  o->role = c->role;
  o->transport = c->transport;
  o->dialect = c->dialect;
  o->capabilities = c->caps;
  o->win_low = c->low;
  o->win_high = c->high;
  uint64_t cr = c->role == SMBX__CONN_SERVER ? smbx__conn_server_held(c)
                                             : c->high - c->low;
  o->credits = cr > UINT32_MAX ? UINT32_MAX : (uint32_t)cr;
  o->outstanding = smbx__slab_live(&c->reqs);
  o->holds = smbx__slab_live(&c->holds);
  o->async = c->n_async;
  o->err = c->err;
  o->requests = c->role == SMBX__CONN_SERVER ? c->n_in : c->n_out;
  o->responses = c->role == SMBX__CONN_SERVER ? c->n_out : c->n_in;
}

int smbx__conn_error_detail(const smbx__conn *c, smbx_error_detail *d)
{
  if (!c)
    return SMBX_ERR_INVAL;
  if (d) {
    d->reason = c->err ? c->detail.reason : NULL;
    d->offset = c->err ? c->detail.offset : 0;
  }
  return c->err;
}
