/* SPDX-License-Identifier: MIT */
/* Whole-connection target, client role: the input picks allocation
 * failures at creation, then a program of operations - requests (single or
 * compound, any command, multi-credit lengths), server messages built from
 * a few bytes (responses to outstanding ids or to others, interim, async,
 * credits up to 65535, unsolicited breaks, missing SERVER_TO_REDIR, bad
 * sizes), raw stream bytes, CANCELs, hold releases, time steps and expiry
 * calls, dialect and key changes (toy crypto), close/abort - and always
 * ends with close + free. Checks: every request handle is completed exactly
 * once by the end, never more than the credits held are used, no leak. */
#include "fuzz_conn_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSENT 4096
#define NHOLD 64
#define NBUF 512

typedef struct cli {
  smbx__conn *c;
  uint64_t sent[NSENT];
  uint8_t done[NSENT];
  uint64_t mids[NSENT];
  size_t nsent;
  uint64_t hold[NHOLD];
  int downs;
  bool keys_on;
  smbx__conn_keys keys;
  uint8_t *bufs[NBUF];
  size_t nbufs;
  uint64_t now;
  uint8_t out[SMBX__CONN_HEADROOM + 8 * 512];
} cli;

static int up_send(void *ctx, const uint8_t *p, size_t len)
{
  (void)ctx;
  uint32_t n = 0;
  if (len < 4 + 64 || smbx_tcp_decode_prefix(p, len, &n) != 0 ||
      n != len - 4)
    abort();
  return 0;
}

static void keep_hold(cli *s, uint64_t h)
{
  if (!h)
    abort();
  hold_keep(s->c, s->hold, NHOLD, h, s->now);
}

static void up_complete(void *ctx, uint64_t req, uint64_t user, int err,
                        const smbx__conn_pdu *resp)
{
  cli *s = ctx;
  if (user >= s->nsent || s->sent[user] != req)
    abort(); /* not a request we sent */
  if (s->done[user]++)
    abort(); /* completed twice */
  if ((err == 0) != (resp != NULL))
    abort();
  if (resp) {
    if (resp->hdr.message_id != s->mids[user] ||
        !(resp->hdr.flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR))
      abort();
    keep_hold(s, resp->hold);
  }
}

static void up_interim(void *ctx, uint64_t req, uint64_t user,
                       const smbx__conn_pdu *resp)
{
  cli *s = ctx;
  if (user >= s->nsent || s->sent[user] != req || s->done[user])
    abort();
  if (resp->hdr.status != SMBX_STATUS_PENDING)
    abort();
  keep_hold(s, resp->hold);
}

static void up_notify(void *ctx, const smbx__conn_pdu *p)
{
  cli *s = ctx;
  if (p->hdr.message_id != UINT64_MAX ||
      p->hdr.command != SMBX_SMB2_OPLOCK_BREAK)
    abort();
  keep_hold(s, p->hold);
}

static int up_keys(void *ctx, uint64_t sid, smbx__conn_keys *out)
{
  cli *s = ctx;
  if (!s->keys_on || sid != 1)
    return SMBX_ERR_NOTFOUND;
  *out = s->keys;
  return 0;
}

static void up_down(void *ctx, int err, uint32_t st, const char *reason)
{
  (void)err;
  (void)st;
  cli *s = ctx;
  if (!reason || ++s->downs > 1)
    abort();
}

static void feed(cli *s, const uint8_t *bytes, size_t n)
{
  feed_kept(s->c, s->bufs, &s->nbufs, NBUF, s->hold, NHOLD, bytes, n,
            s->now);
}

static void send_req(cli *s, fin *f)
{
  if (s->nsent + 3 > NSENT)
    return;
  int k = 1 + in_u8(f) % 3;
  uint8_t *m = s->out + SMBX__CONN_HEADROOM;
  size_t cap = sizeof s->out - SMBX__CONN_HEADROOM, off = 0;
  for (int i = 0; i < k; i++) {
    size_t n = build_pdu(f, m + off, cap - off, false, 0);
    if (!n)
      return;
    if (i + 1 < k) {
      smbx_ssize l = smbx_smb2_chain_link(m + off, n, cap - off);
      if (l < 0)
        return;
      n = (size_t)l;
    }
    off += n;
  }
  smbx__conn_info a, b;
  smbx__conn_get_info(s->c, &a);
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  o.flags = in_u8(f) & 0xF;
  o.credit_request = in_u8(f) & 3;
  uint64_t reqs[3];
  size_t user = s->nsent;
  int rc = smbx__conn_send(s->c, s->out, sizeof s->out, off, &o, user, reqs,
                           3, s->now);
  smbx__conn_get_info(s->c, &b);
  if (rc <= 0) {
    if (b.win_low != a.win_low)
      abort(); /* nothing may be spent on failure */
    return;
  }
  if (b.win_low > a.win_high)
    abort(); /* spent more than granted */
  /* every PDU carries the same user cookie: one slot per PDU */
  uint64_t mid = a.win_low;
  for (int i = 0; i < rc; i++) {
    s->sent[user + (size_t)i] = reqs[i];
    s->mids[user + (size_t)i] = mid;
    smbx__conn_req *r = smbx__slab_lookup(&s->c->reqs, reqs[i]);
    if (r)
      mid += r->ri.ids;
  }
  s->nsent += (size_t)rc;
  /* completions carry `user`, the first index: map the others later */
  for (int i = 1; i < rc; i++) {
    smbx__conn_req *r = smbx__slab_lookup(&s->c->reqs, reqs[i]);
    if (r)
      r->user = user + (uint64_t)i;
  }
}

static void server_msg(cli *s, fin *f)
{
  uint8_t msg[4 + 3 * 512];
  int k = 1 + in_u8(f) % 2;
  size_t off = 4;
  for (int i = 0; i < k; i++) {
    uint64_t base = 0;
    uint8_t pick = in_u8(f);
    if (s->nsent && pick < 0xC0)
      base = s->mids[pick % s->nsent];
    size_t n = build_pdu(f, msg + off, sizeof msg - off, true, base);
    if (!n)
      return;
    if (pick < 0xC0 && s->nsent) {
      /* exact id and the request's command most of the time */
      smbx__conn_st64(msg + off + 24, base);
      smbx__conn_req *r = smbx__hash_get_u64(&s->c->ids, base);
      if (r && (pick & 1))
        smbx__conn_st16(msg + off + 12, r->ri.command);
    }
    if (i + 1 < k) {
      smbx_ssize l = smbx_smb2_chain_link(msg + off, n, sizeof msg - off);
      if (l < 0)
        return;
      n = (size_t)l;
    }
    off += n;
  }
  (void)smbx_tcp_encode_prefix(msg, 4, off - 4);
  feed(s, msg, off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1u << 16))
    return 0;
  fin f = {data, size, 0};
  uint8_t b0 = in_u8(&f);
  fz_alloc z;
  fz_alloc_init(&z, (b0 & 0x80) ? (uint64_t)(b0 & 0x1F) + 1 : 0);
  static cli s;
  memset(&s, 0, sizeof s);
  smbx__conn_settings st;
  smbx__conn_settings_default(&st, SMBX__CONN_CLIENT);
  st.max_requests = 64;
  st.credit_target = 16;
  st.max_holds = 16;
  st.max_chain = 8;
  st.max_msg = 4096;
  st.request_timeout_ns = (b0 & 1) ? 1000 : 0;
  st.async_timeout_ns = (b0 & 4) ? 5000 : 0;
  if (b0 & 8)
    st.flags |= SMBX__CONN_F_TIMEOUT_FATAL;
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  u.ctx = &s;
  u.send = up_send;
  u.complete = up_complete;
  u.interim = (b0 & 16) ? up_interim : NULL;
  u.notify = up_notify;
  u.keys = up_keys;
  u.down = up_down;
  smbx_crypto cr = toy_crypto();
  int rc = smbx__conn_new_tcp(&s.c, &st, &u, (b0 & 2) ? &cr : NULL, &z.a, 0);
  if (rc) {
    if (rc != SMBX_ERR_NOMEM || z.live != 0)
      abort();
    return 0;
  }
  for (int ops = 0; ops < 4000 && !in_done(&f); ops++) {
    switch (in_u8(&f) % 10) {
    case 0:
      send_req(&s, &f);
      break;
    case 1:
      server_msg(&s, &f);
      break;
    case 2: { /* raw stream bytes */
      size_t n = in_u8(&f);
      if (n > f.n - f.off)
        n = f.n - f.off;
      feed(&s, f.p + f.off, n);
      f.off += n;
      break;
    }
    case 3:
      if (s.nsent)
        (void)smbx__conn_cancel(s.c, s.sent[in_u8(&f) % s.nsent], s.now);
      break;
    case 4:
      op_release_hold(s.c, s.hold, NHOLD, &f, s.now);
      break;
    case 5:
      op_time(s.c, &s.now, &f, 15);
      break;
    case 6:
      op_set_dialect(s.c, &f);
      break;
    case 7: {
      uint8_t m = in_u8(&f);
      s.keys_on = m & 0x80;
      toy_keys(&s.keys, m);
      break;
    }
    case 8:
      if (in_u8(&f) == 0x5A)
        (void)smbx__conn_abort(s.c, SMBX_ERR_TRANSPORT, "fuzz", s.now);
      break;
    default:
      break;
    }
  }
  (void)smbx__conn_close(s.c, s.now);
  if (s.downs != 1)
    abort();
  for (size_t i = 0; i < s.nsent; i++)
    if (s.done[i] != 1)
      abort(); /* every request completed exactly once */
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
