/* SPDX-License-Identifier: MIT */
/* Whole-connection target, server role (STYLE.md sec. 6, after ngtcp2's
 * read_write_pkt): the input picks allocation failures at creation,
 * settings bits, then a program of operations - messages built from a few
 * bytes (compounds, bad sizes, ids in and out of the window, signed,
 * inherit ids), raw stream bytes, split feeds, responses / interim /
 * error responses, hold releases, time steps and expiry calls, dialect and
 * backpressure changes, key modes (toy crypto), close/abort - and always
 * ends with close + free. Checks: every request is answered or aborted
 * exactly once, down() once, every hold releasable, no leak. */
#include "fuzz_conn_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NREQ 64
#define NHOLD 64
#define NBUF 512

typedef struct srv {
  smbx__conn *c;
  uint64_t req[NREQ];
  uint64_t hold[NHOLD];
  int downs;
  bool keys_on;
  smbx__conn_keys keys;
  uint8_t *bufs[NBUF];
  size_t nbufs;
  uint64_t now;
  uint8_t out[SMBX__CONN_HEADROOM + 1024];
} srv;

static int up_send(void *ctx, const uint8_t *p, size_t len)
{
  (void)ctx;
  uint32_t n = 0;
  if (len < 4 + 64 || smbx_tcp_decode_prefix(p, len, &n) != 0 ||
      n != len - 4)
    abort();
  int k = smbx_smb2_msg_kind(p + 4, n);
  if (k != SMBX_SMB2_MSG_SMB2 && k != SMBX_SMB2_MSG_TRANSFORM)
    abort();
  return 0;
}

static void keep_hold(srv *s, uint64_t h)
{
  hold_keep(s->c, s->hold, NHOLD, h, s->now);
}

static void up_request(void *ctx, const smbx__conn_pdu *p)
{
  srv *s = ctx;
  if (!p->req || !p->hold || p->len < 64)
    abort();
  for (int i = 0; i < NREQ; i++)
    if (s->req[i] == p->req)
      abort(); /* delivered twice */
  keep_hold(s, p->hold);
  for (int i = 0; i < NREQ; i++)
    if (!s->req[i]) {
      s->req[i] = p->req;
      return;
    }
  /* table full: answer at once (re-entrant respond); on failure it stays
   * outstanding and is aborted at close */
  (void)smbx__conn_respond_error(s->c, p->req,
                                 SMBX_STATUS_INSUFFICIENT_RESOURCES, 0, NULL, 0,
                                 s->now);
}

static void up_abort(void *ctx, uint64_t req, int err)
{
  srv *s = ctx;
  if (err >= 0)
    abort(); /* a teardown code: fatal, or the owner's (smbx__conn_fail) */
  for (int i = 0; i < NREQ; i++)
    if (s->req[i] == req) {
      s->req[i] = 0;
      return;
    }
  /* a request we could not store: fine, but never twice */
}

static int up_keys(void *ctx, uint64_t sid, smbx__conn_keys *out)
{
  srv *s = ctx;
  if (!s->keys_on || sid != 1)
    return SMBX_ERR_NOTFOUND;
  *out = s->keys;
  return 0;
}

static void up_down(void *ctx, int err, uint32_t st, const char *reason)
{
  (void)err;
  (void)st;
  srv *s = ctx;
  if (!reason)
    abort();
  s->downs++;
  if (s->downs > 1)
    abort();
}

static void feed(srv *s, const uint8_t *bytes, size_t n)
{
  feed_kept(s->c, s->bufs, &s->nbufs, NBUF, s->hold, NHOLD, bytes, n,
            s->now);
}

static void answer(srv *s, fin *f, int how)
{
  int i = in_u8(f) % NREQ;
  uint64_t r = s->req[i];
  if (!r)
    return;
  int rc;
  if (how == 0) {
    smbx_smb2_hdr h;
    uint8_t st = in_u8(f);
    uint32_t status = st & 1 ? SMBX_STATUS_ACCESS_DENIED : 0;
    if (smbx__conn_resp_hdr(s->c, r, status, &h) != 0)
      abort();
    uint8_t *p = s->out + SMBX__CONN_HEADROOM;
    (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
    uint16_t ss = status ? 9 : smbx_smb2_structure_size(h.command, 1);
    memset(p + 64, 0, 200);
    p[64] = (uint8_t)ss;
    size_t n = 64 + (size_t)(ss & ~1u) + (ss & 1u) + (st >> 4);
    smbx__conn_send_opts o;
    memset(&o, 0, sizeof o);
    o.flags = (st >> 1) & 0xF;
    rc = smbx__conn_respond(s->c, r, s->out, sizeof s->out, n, &o, s->now);
  } else if (how == 1) {
    uint64_t aid = 0;
    rc = smbx__conn_go_async(s->c, r, &aid, s->now);
    if (rc == 0 && aid == 0)
      abort();
    return; /* still outstanding */
  } else {
    uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    rc = smbx__conn_respond_error(s->c, r, SMBX_STATUS_INVALID_PARAMETER,
                                  0, d, in_u8(f) & 7, s->now);
  }
  if (rc == 0 || rc <= SMBX_ERR_FATAL || rc == SMBX_ERR_NOTFOUND)
    s->req[i] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1u << 16))
    return 0;
  fin f = {data, size, 0};
  uint8_t b0 = in_u8(&f);
  fz_alloc z;
  fz_alloc_init(&z, (b0 & 0x80) ? (uint64_t)(b0 & 0x1F) + 1 : 0);
  static srv s;
  memset(&s, 0, sizeof s);
  smbx__conn_settings st;
  smbx__conn_settings_default(&st, SMBX__CONN_SERVER);
  st.max_requests = 32;
  st.credits_max = 64;
  st.credits_min = 8;
  st.max_holds = 16;
  st.max_chain = 8;
  st.max_msg = 4096;
  st.flags = (b0 & 1) ? SMBX__CONN_F_DELIVER_ECHO : 0;
  if (b0 & 4) {
    st.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
    st.compound_buf = 300; /* small: early flushes */
  }
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  u.ctx = &s;
  u.send = up_send;
  u.request = up_request;
  u.abort = up_abort;
  u.keys = up_keys;
  u.down = up_down;
  smbx_crypto cr = toy_crypto();
  int rc = smbx__conn_new_tcp(&s.c, &st, &u, (b0 & 2) ? &cr : NULL, &z.a, 0);
  if (rc) {
    if (rc != SMBX_ERR_NOMEM || z.live != 0)
      abort();
    return 0;
  }
  uint8_t msg[4 + 8 * 512];
  for (int ops = 0; ops < 4000 && !in_done(&f); ops++) {
    uint8_t op = in_u8(&f) % 12;
    switch (op) {
    case 0:
    case 11: { /* one message of 1-3 PDUs, whole or split */
      int k = 1 + in_u8(&f) % 3;
      size_t off = 4;
      smbx__conn_info inf;
      smbx__conn_get_info(s.c, &inf);
      for (int i = 0; i < k; i++) {
        size_t n = build_pdu(&f, msg + off, sizeof msg - off, false,
                             inf.win_low);
        if (!n)
          break;
        if (i + 1 < k) {
          smbx_ssize m = smbx_smb2_chain_link(msg + off, n, sizeof msg - off);
          if (m < 0)
            break;
          n = (size_t)m;
        }
        off += n;
      }
      (void)smbx_tcp_encode_prefix(msg, 4, off - 4);
      if (op == 0) {
        feed(&s, msg, off);
      } else {
        size_t cut = in_u8(&f) % off;
        feed(&s, msg, cut);
        feed(&s, msg + cut, off - cut);
      }
      break;
    }
    case 1: { /* raw stream bytes */
      size_t n = in_u8(&f);
      if (n > f.n - f.off)
        n = f.n - f.off;
      feed(&s, f.p + f.off, n);
      f.off += n;
      break;
    }
    case 2:
      answer(&s, &f, 0);
      break;
    case 3:
      answer(&s, &f, 1);
      break;
    case 4:
      answer(&s, &f, 2);
      break;
    case 5:
      op_release_hold(s.c, s.hold, NHOLD, &f, s.now);
      break;
    case 6:
      op_time(s.c, &s.now, &f, 31);
      break;
    case 7:
      op_set_dialect(s.c, &f);
      break;
    case 8:
      smbx__conn_set_backpressure(s.c, in_u8(&f) & 1);
      break;
    case 9: {
      uint8_t m = in_u8(&f);
      s.keys_on = m & 0x80;
      toy_keys(&s.keys, m);
      break;
    }
    case 10: {
      uint8_t m = in_u8(&f);
      if (m == 0x5A) {
        (void)smbx__conn_abort(s.c, SMBX_ERR_TRANSPORT, "fuzz", s.now);
      } else if (m == 0x46) {
        (void)smbx__conn_fail(s.c, SMBX_ERR_NOMEM, "fuzz", s.now);
      } else if (m == 0x4E) {
        /* a break notification: oplock or lease body, session 0 or 1 */
        uint8_t b = in_u8(&f);
        size_t len = 64 + ((b & 1) ? 44 : 24);
        memset(msg + 64, 0, len);
        smbx__conn_st16(msg + 128, (b & 1) ? 44 : 24);
        (void)smbx__conn_notify(s.c, msg, sizeof msg, len, (b >> 1) & 1,
                                s.now);
      }
      break;
    }
    default:
      break;
    }
  }
  (void)smbx__conn_close(s.c, s.now);
  if (s.downs != 1)
    abort();
  for (int i = 0; i < NREQ; i++)
    if (s.req[i] && smbx__slab_lookup(&s.c->reqs, s.req[i]))
      abort(); /* outstanding after teardown */
  for (int i = 0; i < NHOLD; i++)
    if (s.hold[i] && smbx__conn_release(s.c, s.hold[i], s.now) != 0)
      abort();
  smbx__conn_info inf;
  smbx__conn_get_info(s.c, &inf);
  if (inf.holds != 0 || inf.outstanding != 0)
    abort();
  smbx__conn_free(s.c);
  for (size_t i = 0; i < s.nbufs; i++)
    free(s.bufs[i]);
  if (z.live != 0)
    abort();
  return 0;
}
