/* SPDX-License-Identifier: MIT */
/* The server node (rank 6): connections (lib/conn), sessions, trees, one
 * ordered event queue. NEGOTIATE, LOGOFF, TREE_DISCONNECT and malformed
 * requests are answered here; session setup, tree connect and every other
 * request become events for the host. See include/smbx/server.h and
 * docs/nodes.md. */
#include <string.h>

#include <smbx/server.h>
#include <smbx/tcp.h>

#include "server/server_int.h"
#include "conn/conn.h"
#include "core/alloc.h"
#include "core/compiler.h"
#include "core/evq.h"
#include "core/ring.h"
#include "core/slab.h"
#include "core/time.h"
#include "server/rdma_io.h"
#include "smb2/hot.h"
#include "smb2/sec.h"

/* ---- state ---------------------------------------------------------------- */

#define NS_PER_S 1000000000ull

int smbx_server_settings_default(smbx_server_settings *s, size_t struct_size)
{
  if (!s || struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_server_settings d;
  memset(&d, 0, sizeof d);
  d.struct_size = struct_size;
  d.dialects = SMBX_DIALECT_MASK_ALL;
  d.capabilities = SMBX_SMB2_CAP_LARGE_MTU;
  d.ciphers = (1u << SMBX_CRYPTO_CIPHER_AES128_CCM) |
              (1u << SMBX_CRYPTO_CIPHER_AES128_GCM) |
              (1u << SMBX_CRYPTO_CIPHER_AES256_CCM) |
              (1u << SMBX_CRYPTO_CIPHER_AES256_GCM);
  d.signing_algs = (1u << SMBX_CRYPTO_SIGN_HMAC_SHA256) |
                   (1u << SMBX_CRYPTO_SIGN_AES_CMAC) |
                   (1u << SMBX_CRYPTO_SIGN_AES_GMAC);
  d.max_transact_size = 1u << 20;
  d.max_read_size = 1u << 20;
  d.max_write_size = 1u << 20;
  d.credits_max = 512;
  d.credits_min = 64;
  d.max_requests = 1024;
  d.max_connections = 64;
  d.max_sessions = 256;
  d.max_trees = 1024;
  d.max_channel_opens = 4096;
  d.rdma_max_ops = 64;
  d.rdma_max_sge = 16;
  d.rdma_max_xfer_sge = 64;
  d.rdma_max_op_size = 1u << 20;
  memcpy(s, &d, struct_size < sizeof d ? struct_size : sizeof d);
  return 0;
}

/* ---- events --------------------------------------------------------------- */

/* Backpressure (STYLE.md sec. 1): while the host leaves more than
 * EVQ_HIGH events queued, connections grant clients only credits_min;
 * below EVQ_LOW normal grants resume. */
#define EVQ_HIGH 4096u
#define EVQ_LOW 1024u

static void set_backpressure(smbx_server *srv, bool on)
{
  srv->bp = on;
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->conns); i++) {
    sconn *sc = smbx__slab_at(&srv->conns, i);
    if (sc && sc->c)
      smbx__conn_set_backpressure(sc->c, on);
  }
}

static smbx_event *ev_push(smbx_server *srv, uint32_t type, const sconn *sc)
{
  if (smbx__ring_full(&srv->evq) && smbx__ring_grow(&srv->evq) != 0)
    return NULL;
  if (!srv->bp && smbx__ring_len(&srv->evq) >= EVQ_HIGH)
    set_backpressure(srv, true);
  return smbx__evq_push(&srv->evq, type, sc ? sc->handle : 0);
}

/* next_event while backpressure is on: off once the host caught up */
SMBX__COLD static int next_event_bp(smbx_server *srv, smbx_event *ev)
{
  if (smbx__ring_len(&srv->evq) <= EVQ_LOW)
    set_backpressure(srv, false);
  return smbx__evq_pop(&srv->evq, ev);
}

int smbx_server_next_event(smbx_server *srv, smbx_event *ev)
{
  if (!srv || !ev || ev->struct_size < offsetof(smbx_event, u))
    return SMBX_ERR_INVAL;
  if (srv->bp)
    return next_event_bp(srv, ev);
  return smbx__evq_pop(&srv->evq, ev);
}

/* Queued events of a connection that is going away: views die with it. */
static void ev_purge(smbx_server *srv, uint64_t conn)
{
  for (size_t i = 0; i < smbx__ring_len(&srv->evq); i++) {
    smbx_event *e = smbx__ring_at(&srv->evq, i);
    if (e->conn == conn && e->hold)
      e->type = SMBX_EV_NONE;
  }
}

static int after(sconn *sc, int rc);

/* ---- lookups ---------------------------------------------------------------- */

static sconn *conn_get(const smbx_server *srv, uint64_t h)
{
  return srv ? smbx__slab_lookup(&srv->conns, h) : NULL;
}

static slot *slot_of(sconn *sc, uint64_t req)
{
  uint32_t i = (uint32_t)req;
  if (i >= sc->n_slots)
    return NULL;
  return &sc->slots[i];
}

static slot *slot_live(sconn *sc, uint64_t req)
{
  slot *sl = slot_of(sc, req);
  return sl && sl->kind != K_NONE && sl->req == req ? sl : NULL;
}

static ssess *sess_get(smbx_server *srv, uint64_t id)
{
  return smbx__slab_lookup(&srv->sessions, id);
}

static stree *tree_get(smbx_server *srv, uint32_t id)
{
  if (id == 0 || id == UINT32_MAX)
    return NULL;
  return smbx__slab_at(&srv->trees, id - 1);
}

static schan *chan_find(smbx_server *srv, uint64_t sid, uint64_t conn)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->chans); i++) {
    schan *ch = smbx__slab_at(&srv->chans, i);
    if (ch && ch->session == sid && ch->conn == conn)
      return ch;
  }
  return NULL;
}

static void chan_free(smbx_server *srv, schan *ch)
{
  memset(ch, 0, sizeof *ch);
  (void)smbx__slab_put(&srv->chans, ch);
}

/* Ends session ss; with event, SESSION_DOWN says why (u.session.status:
 * 0, or USER_SESSION_DELETED when a reconnect expired it). */
static void sess_end(smbx_server *srv, ssess *ss, bool event, uint32_t why)
{
  uint64_t id = smbx__slab_handle(&srv->sessions, ss);
  smbx__srv_opens_drop_session(srv, id);
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->chans); i++) {
    schan *ch = smbx__slab_at(&srv->chans, i);
    if (ch && ch->session == id)
      chan_free(srv, ch);
  }
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->trees); i++) {
    stree *t = smbx__slab_at(&srv->trees, i);
    if (t && t->session == id)
      (void)smbx__slab_put(&srv->trees, t);
  }
  if (event) {
    sconn *sc = conn_get(srv, ss->conn);
    smbx_event *e = ev_push(srv, SMBX_EV_SESSION_DOWN, sc);
    if (e) {
      e->conn = ss->conn;
      e->u.session.session_id = id;
      e->u.session.dialect = ss->dialect;
      e->u.session.status = why;
    }
  }
  memset(ss, 0, sizeof *ss);
  (void)smbx__slab_put(&srv->sessions, ss);
}

/* ---- sending helpers -------------------------------------------------------- */

static void slot_clear(sconn *sc, slot *sl)
{
  if (sl->hold)
    (void)smbx__conn_release(sc->c, sl->hold, sc->srv->now);
  memset(sl, 0, sizeof *sl);
}

/* Responds to `req` (its live slot sl, or NULL) with the PDU at sbuf +
 * HEADROOM; the slot is cleared before (the next member of a related
 * chain may reuse its index). */
static int send_pdu_slot(sconn *sc, slot *sl, uint64_t req, size_t len,
                         const smbx__conn_send_opts *o)
{
  smbx_server *srv = sc->srv;
  slot saved;
  memset(&saved, 0, sizeof saved);
  if (sl) {
    saved = *sl;
    memset(sl, 0, sizeof *sl);
  }
  int rc = smbx__conn_respond(sc->c, req, srv->sbuf, srv->sbuf_cap, len, o,
                              srv->now);
  if (rc == SMBX_ERR_AGAIN || rc == SMBX_ERR_RANGE || rc == SMBX_ERR_INVAL) {
    if (sl && sl->kind == K_NONE)
      *sl = saved;
    return rc;
  }
  if (saved.hold)
    (void)smbx__conn_release(sc->c, saved.hold, srv->now);
  return rc;
}

static int send_pdu(sconn *sc, uint64_t req, size_t len,
                    const smbx__conn_send_opts *o)
{
  return send_pdu_slot(sc, slot_live(sc, req), req, len, o);
}

static int send_error(sconn *sc, uint64_t req, uint32_t status)
{
  slot *sl = slot_live(sc, req);
  slot saved;
  memset(&saved, 0, sizeof saved);
  if (sl) {
    saved = *sl;
    memset(sl, 0, sizeof *sl);
  }
  int rc = smbx__conn_respond_error(sc->c, req, status, 0, NULL, 0,
                                    sc->srv->now);
  if (rc == SMBX_ERR_AGAIN) {
    if (sl && sl->kind == K_NONE)
      *sl = saved;
    return rc;
  }
  if (saved.hold)
    (void)smbx__conn_release(sc->c, saved.hold, sc->srv->now);
  return rc;
}

static uint8_t *out_pdu(smbx_server *srv)
{
  return srv->sbuf + SMBX__CONN_HEADROOM;
}

static size_t out_cap(const smbx_server *srv)
{
  return srv->sbuf_cap - SMBX__CONN_HEADROOM;
}

/* Simple 4-byte body response (LOGOFF, TREE_DISCONNECT). */
static int send_simple(sconn *sc, uint64_t req)
{
  smbx_smb2_hdr h;
  if (smbx__conn_resp_hdr(sc->c, req, 0, &h))
    return SMBX_ERR_NOTFOUND;
  smbx_smb2_simple b = {0};
  smbx_ssize n = smbx_smb2_encode_simple(&h, &b, out_pdu(sc->srv),
                                         out_cap(sc->srv), NULL);
  if (n < 0)
    return (int)n;
  return send_pdu(sc, req, (size_t)n, NULL);
}

/* ---- NEGOTIATE ---------------------------------------------------------------- */

static uint32_t dmask(uint16_t d)
{
  switch (d) {
  case SMBX_SMB2_DIALECT_202:
    return SMBX_DIALECT_MASK_202;
  case SMBX_SMB2_DIALECT_210:
    return SMBX_DIALECT_MASK_210;
  case SMBX_SMB2_DIALECT_300:
    return SMBX_DIALECT_MASK_300;
  case SMBX_SMB2_DIALECT_302:
    return SMBX_DIALECT_MASK_302;
  case SMBX_SMB2_DIALECT_311:
    return SMBX_DIALECT_MASK_311;
  default:
    return 0;
  }
}

/* Dialects this node can serve: 3.1.1 needs SHA-512 for preauth, 3.x
 * signing a KDF. */
static uint32_t usable_dialects(const smbx_server *srv)
{
  uint32_t m = srv->s.dialects & SMBX_DIALECT_MASK_ALL;
  if (!srv->have_cr || !srv->cr.sha512 || !srv->cr.kdf)
    m &= ~SMBX_DIALECT_MASK_311;
  return m;
}

static uint32_t caps_for(const smbx_server *srv, uint16_t d)
{
  uint32_t c = srv->s.capabilities;
  if (d == SMBX_SMB2_DIALECT_202)
    return c & SMBX_SMB2_CAP_DFS;
  if (d == SMBX_SMB2_DIALECT_210)
    return c & (SMBX_SMB2_CAP_DFS | SMBX_SMB2_CAP_LEASING |
                SMBX_SMB2_CAP_LARGE_MTU);
  c &= ~(uint32_t)SMBX_SMB2_CAP_ENCRYPTION;
  if (d == SMBX_SMB2_DIALECT_311)
    c &= ~(uint32_t)SMBX_SMB2_CAP_NOTIFICATIONS;
  return c;
}

static bool cipher_ok(const smbx_server *srv, uint16_t id)
{
  return id >= 1 && id <= 4 && (srv->s.ciphers & (1u << id)) &&
         srv->have_cr && srv->cr.aead_encrypt && srv->cr.aead_decrypt &&
         srv->cr.random;
}

static void push_negotiated(sconn *sc, const smbx_smb2_negotiate_req *nr,
                            const smbx_smb2_negotiate_resp *rs)
{
  smbx_event *e = ev_push(sc->srv, SMBX_EV_NEGOTIATED, sc);
  if (!e)
    return;
  e->u.negotiated.dialect = sc->dialect;
  e->u.negotiated.cipher = sc->cipher;
  e->u.negotiated.signing_alg = sc->sign_alg;
  e->u.negotiated.security_mode = nr ? nr->security_mode : 0;
  e->u.negotiated.capabilities = sc->caps;
  e->u.negotiated.max_transact_size = rs->max_transact_size;
  e->u.negotiated.max_read_size = rs->max_read_size;
  e->u.negotiated.max_write_size = rs->max_write_size;
  if (nr)
    memcpy(e->u.negotiated.guid, nr->client_guid, 16);
  e->u.negotiated.own_capabilities = rs->capabilities;
  e->u.negotiated.own_security_mode = rs->security_mode;
}

static void fill_neg_resp(const smbx_server *srv, uint16_t dialect,
                          smbx_smb2_negotiate_resp *rs)
{
  memset(rs, 0, sizeof *rs);
  rs->security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  if (srv->s.flags & SMBX_SERVER_SIGNING_REQUIRED)
    rs->security_mode |= SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED;
  rs->dialect_revision = dialect;
  memcpy(rs->server_guid, srv->s.server_guid, 16);
  uint32_t lim = dialect == SMBX_SMB2_DIALECT_202 ||
                         dialect == SMBX_SMB2_DIALECT_WILDCARD
                     ? 65536u
                     : UINT32_MAX;
  rs->max_transact_size =
      srv->s.max_transact_size < lim ? srv->s.max_transact_size : lim;
  rs->max_read_size = srv->s.max_read_size < lim ? srv->s.max_read_size : lim;
  rs->max_write_size =
      srv->s.max_write_size < lim ? srv->s.max_write_size : lim;
  rs->security_buffer.p = srv->blob;
  rs->security_buffer.len = srv->s.security_blob_len;
}

/* Over SMB Direct an inline message must fit the peers' fragmented sizes
 * (RDMA channels are not used yet): advertise no more than fits. */
static void smbd_cap_sizes(sconn *sc, smbx_smb2_negotiate_resp *rs)
{
  smbx_smbd_params p;
  p.struct_size = sizeof p;
  const smbx_smbd *d = smbx__conn_smbd(sc->c);
  if (!d || smbx_smbd_get_params(d, &p) != 0)
    return;
  uint32_t out = p.max_fragmented_send_size > 8192
                     ? (p.max_fragmented_send_size - 4096) & ~4095u
                     : 4096;
  uint32_t in = p.max_fragmented_recv_size > 8192
                    ? (p.max_fragmented_recv_size - 4096) & ~4095u
                    : 4096;
  if (rs->max_transact_size > (out < in ? out : in))
    rs->max_transact_size = out < in ? out : in;
  /* with direct placement READ/WRITE data moves by RDMA: MaxReadWriteSize
   * bounds them (docs/rdma.md; clients that sign send smaller I/O) */
  if (sc->rdma)
    out = in = p.max_read_write_size;
  if (rs->max_read_size > out)
    rs->max_read_size = out;
  if (rs->max_write_size > in)
    rs->max_write_size = in;
}

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* SMB1 multi-protocol NEGOTIATE (smb2.md sec. 1). */
static void smb1_negotiate(sconn *sc, const smbx__conn_pdu *pd)
{
  smbx_server *srv = sc->srv;
  smbx_smb1_negotiate n1;
  memset(&n1, 0, sizeof n1);
  (void)smbx_smb1_negotiate_decode(pd->data, pd->len, &n1, NULL);
  uint32_t m = usable_dialects(srv);
  uint16_t d;
  if (n1.has_smb2_wildcard && (m & ~SMBX_DIALECT_MASK_202))
    d = SMBX_SMB2_DIALECT_WILDCARD;
  else if (n1.has_smb2_002 && (m & SMBX_DIALECT_MASK_202))
    d = SMBX_SMB2_DIALECT_202;
  else {
    sc->kill = "SMB1 NEGOTIATE: no common dialect";
    slot *sl = slot_live(sc, pd->req);
    if (sl)
      slot_clear(sc, sl);
    return;
  }
  smbx_smb2_hdr h;
  (void)smbx__conn_resp_hdr(sc->c, pd->req, 0, &h);
  smbx_smb2_negotiate_resp rs;
  fill_neg_resp(srv, d, &rs);
  rs.capabilities = d == SMBX_SMB2_DIALECT_202 ? caps_for(srv, d) : 0;
  smbx_ssize n = smbx_smb2_encode_negotiate_resp(&h, &rs, out_pdu(srv),
                                                 out_cap(srv), NULL);
  if (n < 0 || send_pdu(sc, pd->req, (size_t)n, NULL) != 0)
    return;
  if (d == SMBX_SMB2_DIALECT_202) {
    sc->dialect = d;
    sc->caps = rs.capabilities;
    sc->negotiated = true;
    (void)smbx__conn_set_dialect(sc->c, d, 0);
    push_negotiated(sc, NULL, &rs);
  }
}

static void negotiate(sconn *sc, const smbx__conn_pdu *pd)
{
  smbx_server *srv = sc->srv;
  if (sc->negotiated) {
    /* MS-SMB2 3.3.5.3.1: a second NEGOTIATE drops the connection */
    sc->kill = "second NEGOTIATE";
    slot *sl = slot_live(sc, pd->req);
    if (sl)
      slot_clear(sc, sl);
    return;
  }
  smbx_smb2_negotiate_req nr;
  if (smbx_smb2_decode_negotiate_req(pd->data, pd->len, &nr, NULL) != 0) {
    (void)send_error(sc, pd->req, SMBX_STATUS_INVALID_PARAMETER);
    return;
  }
  uint32_t m = usable_dialects(srv);
  uint16_t best = 0;
  for (size_t i = 0; i < nr.dialect_count; i++) {
    uint16_t d = smbx_smb2_bytes_u16(nr.dialects, i);
    if ((dmask(d) & m) && d > best)
      best = d;
  }
  if (!best) {
    /* 3.3.5.4: no common dialect */
    (void)send_error(sc, pd->req, SMBX_STATUS_NOT_SUPPORTED);
    return;
  }
  uint16_t cipher = 0, sign_alg = SMBX_CRYPTO_SIGN_DEFAULT;
  bool want_enc = false, want_sign = false, have_pa = false;
  if (best == SMBX_SMB2_DIALECT_311) {
    smbx_smb2_neg_ctx_iter it;
    smbx_smb2_neg_ctx cx;
    (void)smbx_smb2_neg_ctx_iter_init(&it, nr.neg_ctx, nr.neg_ctx_count, 0);
    while (smbx_smb2_neg_ctx_next(&it, &cx, NULL) == 1) {
      smbx_smb2_neg_ctx_info in;
      if (smbx_smb2_neg_ctx_parse(&cx, &in, NULL) != 0)
        continue;
      if (cx.type == SMBX_SMB2_NEG_CTX_PREAUTH) {
        for (size_t i = 0; i < in.count; i++)
          if (smbx_smb2_bytes_u16(in.ids, i) == SMBX_SMB2_HASH_SHA512)
            have_pa = true;
      } else if (cx.type == SMBX_SMB2_NEG_CTX_ENCRYPTION && !want_enc) {
        want_enc = true;
        for (size_t i = 0; i < in.count && !cipher; i++) {
          uint16_t id = smbx_smb2_bytes_u16(in.ids, i);
          if (cipher_ok(srv, id))
            cipher = id;
        }
      } else if (cx.type == SMBX_SMB2_NEG_CTX_SIGNING && !want_sign) {
        want_sign = true;
        for (size_t i = 0; i < in.count; i++) {
          uint16_t id = smbx_smb2_bytes_u16(in.ids, i);
          if (id <= 2 && (srv->s.signing_algs & (1u << id))) {
            sign_alg = id;
            break;
          }
        }
      }
    }
    if (!have_pa) {
      (void)send_error(sc, pd->req,
                       SMBX_STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP);
      return;
    }
  }
  smbx_smb2_hdr h;
  (void)smbx__conn_resp_hdr(sc->c, pd->req, 0, &h);
  smbx_smb2_negotiate_resp rs;
  fill_neg_resp(srv, best, &rs);
  rs.capabilities = caps_for(srv, best);
  /* leases.md 2.8: DIRECTORY_LEASING only to a client that offered it */
  if (!(nr.capabilities & SMBX_SMB2_CAP_DIRECTORY_LEASING))
    rs.capabilities &= ~(uint32_t)SMBX_SMB2_CAP_DIRECTORY_LEASING;
  if (sc->smbd)
    smbd_cap_sizes(sc, &rs);
  if ((best == SMBX_SMB2_DIALECT_300 || best == SMBX_SMB2_DIALECT_302) &&
      (nr.capabilities & SMBX_SMB2_CAP_ENCRYPTION) &&
      cipher_ok(srv, SMBX_CRYPTO_CIPHER_AES128_CCM)) {
    rs.capabilities |= SMBX_SMB2_CAP_ENCRYPTION;
    cipher = SMBX_CRYPTO_CIPHER_AES128_CCM;
  }
  /* 3.1.1 contexts: preauth (SHA-512 + salt), cipher, signing */
  uint8_t ctxbuf[160];
  if (best == SMBX_SMB2_DIALECT_311) {
    uint8_t salt[32], ids[3][2], data[3][48];
    memset(salt, 0, sizeof salt);
    if (srv->cr.random)
      (void)srv->cr.random(srv->cr.user_data, salt, sizeof salt);
    smbx_smb2_neg_ctx cx[3];
    size_t ncx = 0;
    smbx_smb2_neg_ctx_info in;
    memset(&in, 0, sizeof in);
    in.type = SMBX_SMB2_NEG_CTX_PREAUTH;
    in.count = 1;
    put16(ids[0], SMBX_SMB2_HASH_SHA512);
    in.ids.p = ids[0];
    in.ids.len = 2;
    in.salt.p = salt;
    in.salt.len = sizeof salt;
    smbx_ssize k = smbx_smb2_neg_ctx_build(&in, data[0], sizeof data[0], NULL);
    cx[ncx].type = in.type;
    cx[ncx].reserved = 0;
    cx[ncx].data.p = data[0];
    cx[ncx].data.len = k > 0 ? (size_t)k : 0;
    ncx++;
    if (want_enc) {
      memset(&in, 0, sizeof in);
      in.type = SMBX_SMB2_NEG_CTX_ENCRYPTION;
      in.count = 1;
      put16(ids[1], cipher);
      in.ids.p = ids[1];
      in.ids.len = 2;
      k = smbx_smb2_neg_ctx_build(&in, data[1], sizeof data[1], NULL);
      cx[ncx].type = in.type;
      cx[ncx].reserved = 0;
      cx[ncx].data.p = data[1];
      cx[ncx].data.len = k > 0 ? (size_t)k : 0;
      ncx++;
    }
    if (want_sign) {
      uint16_t a = sign_alg == SMBX_CRYPTO_SIGN_DEFAULT
                       ? (uint16_t)SMBX_CRYPTO_SIGN_AES_CMAC
                       : sign_alg;
      sign_alg = a;
      memset(&in, 0, sizeof in);
      in.type = SMBX_SMB2_NEG_CTX_SIGNING;
      in.count = 1;
      put16(ids[2], a);
      in.ids.p = ids[2];
      in.ids.len = 2;
      k = smbx_smb2_neg_ctx_build(&in, data[2], sizeof data[2], NULL);
      cx[ncx].type = in.type;
      cx[ncx].reserved = 0;
      cx[ncx].data.p = data[2];
      cx[ncx].data.len = k > 0 ? (size_t)k : 0;
      ncx++;
    }
    smbx_ssize cl = smbx_smb2_neg_ctx_list_encode(cx, ncx, ctxbuf,
                                                  sizeof ctxbuf, NULL);
    if (cl < 0) {
      (void)send_error(sc, pd->req, SMBX_STATUS_INSUFFICIENT_RESOURCES);
      return;
    }
    rs.neg_ctx_count = (uint16_t)ncx;
    rs.neg_ctx.p = ctxbuf;
    rs.neg_ctx.len = (size_t)cl;
  }
  smbx_ssize n = smbx_smb2_encode_negotiate_resp(&h, &rs, out_pdu(srv),
                                                 out_cap(srv), NULL);
  if (n < 0) {
    (void)send_error(sc, pd->req, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    return;
  }
  if (send_pdu(sc, pd->req, (size_t)n, NULL) != 0)
    return;
  sc->dialect = best;
  sc->caps = rs.capabilities & (nr.capabilities | SMBX_SMB2_CAP_ENCRYPTION);
  if (best == SMBX_SMB2_DIALECT_202)
    sc->caps = rs.capabilities;
  sc->cipher = cipher;
  sc->sign_alg = best < SMBX_SMB2_DIALECT_300 ? SMBX_CRYPTO_SIGN_HMAC_SHA256
                 : sign_alg == SMBX_CRYPTO_SIGN_DEFAULT
                     ? (uint16_t)SMBX_CRYPTO_SIGN_AES_CMAC
                     : sign_alg;
  sc->client_secmode = nr.security_mode;
  memcpy(sc->client_guid, nr.client_guid, 16);
  sc->negotiated = true;
  /* MS-SMB2 3.3.5.4: SupportsMultiCredit follows the server's LARGE_MTU
   * alone on 2.1+ (smbclient -m SMB2_10 sends Capabilities 0, impacket only
   * ENCRYPTION, and both still send multi-credit requests) */
  uint32_t conn_caps = sc->caps;
  if (best != SMBX_SMB2_DIALECT_202)
    conn_caps |= rs.capabilities & SMBX_SMB2_CAP_LARGE_MTU;
  (void)smbx__conn_set_dialect(sc->c, best, conn_caps);
  push_negotiated(sc, &nr, &rs);
}

/* ---- SESSION_SETUP ------------------------------------------------------------ */

static void push_session_event(sconn *sc, const smbx__conn_pdu *pd,
                               uint64_t sid,
                               const smbx_smb2_session_setup_req *r)
{
  smbx_event *e = ev_push(sc->srv, SMBX_EV_SESSION_SETUP, sc);
  if (!e) {
    sc->kill = "event queue: out of memory";
    return;
  }
  e->hold = pd->hold;
  e->flags = (pd->flags & SMBX__CONN_PDU_SIGNED) ? SMBX_EVF_SIGNED : 0;
  e->u.session.req = pd->req;
  e->u.session.session_id = sid;
  e->u.session.previous_session_id = r->previous_session_id;
  e->u.session.blob = r->security_buffer.p;
  e->u.session.blob_len = r->security_buffer.len;
  e->u.session.req_flags = r->flags;
  e->u.session.security_mode = r->security_mode;
  e->u.session.capabilities = r->capabilities;
  e->u.session.dialect = sc->dialect;
}

/* 3.3.5.5 (smb2.md 6.6): the checks a binding leg passes before the host
 * sees it, in the spec's order; 0 or the NTSTATUS to fail it with. */
static uint32_t bind_check(const sconn *sc, const smbx__conn_pdu *pd,
                           const ssess *ss)
{
  smbx_server *srv = sc->srv;
  /* 2.x, or a server without multichannel (IsMultiChannelCapable FALSE,
   * Samba's answer too) */
  if (sc->dialect < SMBX_SMB2_DIALECT_300 ||
      !(srv->s.capabilities & SMBX_SMB2_CAP_MULTI_CHANNEL))
    return SMBX_STATUS_REQUEST_NOT_ACCEPTED;
  if (!ss)
    return SMBX_STATUS_USER_SESSION_DELETED;
  if (ss->dialect != sc->dialect ||
      !(pd->hdr.flags & SMBX_SMB2_FLAGS_SIGNED))
    return SMBX_STATUS_INVALID_PARAMETER;
  if (memcmp(ss->client_guid, sc->client_guid, 16) != 0)
    return SMBX_STATUS_USER_SESSION_DELETED;
  /* in progress, or already a channel of this connection (its first) */
  if (ss->state != SS_UP || ss->conn == sc->handle)
    return SMBX_STATUS_REQUEST_NOT_ACCEPTED;
  /* guest and anonymous sessions have no key to bind with */
  if (ss->flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                   SMBX_SMB2_SESSION_FLAG_IS_NULL) ||
      !ss->have_keys)
    return SMBX_STATUS_NOT_SUPPORTED;
  /* 3.3.5.2.4: signed with Session.SigningKey */
  if (smbx_smb2_verify(&srv->cr, ss->keys.keys.signing_alg,
                       ss->keys.keys.signing, pd->data, pd->len) != 0)
    return SMBX_STATUS_ACCESS_DENIED;
  return 0;
}

/* 6.6 / 3.3.5.5: a SESSION_SETUP with BINDING adds this connection as a
 * channel of an established session. Every binding leg is signed with
 * the session's signing key. */
static void bind_setup(sconn *sc, const smbx__conn_pdu *pd, slot *sl,
                       const smbx_smb2_session_setup_req *r)
{
  smbx_server *srv = sc->srv;
  uint64_t sid = pd->hdr.session_id;
  ssess *ss = sess_get(srv, sid);
  uint32_t st = bind_check(sc, pd, ss);
  if (st) {
    (void)send_error(sc, pd->req, st);
    return;
  }
  schan *ch = chan_find(srv, sid, sc->handle);
  if (ch && ch->state == SS_UP) {
    (void)send_error(sc, pd->req, SMBX_STATUS_REQUEST_NOT_ACCEPTED);
    return;
  }
  if (!ch) {
    ch = smbx__slab_get_zeroed(&srv->chans);
    if (!ch) {
      (void)send_error(sc, pd->req, SMBX_STATUS_INSUFFICIENT_RESOURCES);
      return;
    }
    ch->session = sid;
    ch->conn = sc->handle;
    ch->state = SS_PENDING;
    /* 6.5: a binding leg starts from this connection's NEGOTIATE hash */
    if (sc->dialect == SMBX_SMB2_DIALECT_311 &&
        smbx__conn_preauth(sc->c, ch->preauth) != 0)
      smbx_smb2_preauth_init(ch->preauth);
  }
  if (sc->dialect == SMBX_SMB2_DIALECT_311)
    (void)smbx__conn_preauth_update(sc->c, ch->preauth, pd->data, pd->len);
  sl->kind = K_BIND;
  sl->session = sid;
  push_session_event(sc, pd, sid, r);
}

static void session_setup(sconn *sc, const smbx__conn_pdu *pd, slot *sl)
{
  smbx_server *srv = sc->srv;
  smbx_smb2_session_setup_req r;
  if (smbx_smb2_decode_session_setup_req(pd->data, pd->len, &r, NULL) != 0) {
    (void)send_error(sc, pd->req, SMBX_STATUS_INVALID_PARAMETER);
    return;
  }
  if (r.flags & SMBX_SMB2_SESSION_FLAG_BINDING) {
    bind_setup(sc, pd, sl, &r);
    return;
  }
  ssess *ss;
  uint64_t sid = pd->hdr.session_id;
  if (sid == 0) {
    ss = smbx__slab_get_zeroed(&srv->sessions);
    if (!ss) {
      (void)send_error(sc, pd->req, SMBX_STATUS_INSUFFICIENT_RESOURCES);
      return;
    }
    ss->state = SS_PENDING;
    ss->dialect = sc->dialect;
    ss->conn = sc->handle;
    memcpy(ss->client_guid, sc->client_guid, 16);
    if (sc->dialect == SMBX_SMB2_DIALECT_311 &&
        smbx__conn_preauth(sc->c, ss->preauth) != 0)
      smbx_smb2_preauth_init(ss->preauth);
    sid = smbx__slab_handle(&srv->sessions, ss);
  } else {
    ss = sess_get(srv, sid);
    if (!ss || ss->conn != sc->handle) {
      (void)send_error(sc, pd->req, SMBX_STATUS_USER_SESSION_DELETED);
      return;
    }
    if (ss->state != SS_PENDING || ss->pending) {
      /* re-authentication is not supported; one leg at a time */
      (void)send_error(sc, pd->req, SMBX_STATUS_REQUEST_NOT_ACCEPTED);
      return;
    }
  }
  if (sc->dialect == SMBX_SMB2_DIALECT_311)
    (void)smbx__conn_preauth_update(sc->c, ss->preauth, pd->data, pd->len);
  ss->pending = pd->req;
  ss->previous = r.previous_session_id;
  sl->kind = K_SESS;
  sl->session = sid;
  push_session_event(sc, pd, sid, &r);
}

/* The start of every SESSION_SETUP response (first leg or bind): the
 * header for req with sid, the blob, and send options that never
 * encrypt. SMBX_ERR_NOTFOUND when req is no longer live. */
static int sess_resp_start(sconn *sc, uint64_t req, uint32_t status,
                           uint64_t sid, const uint8_t *blob, size_t blob_len,
                           smbx_smb2_hdr *h, smbx_smb2_session_setup_resp *rs,
                           smbx__conn_send_opts *o)
{
  if (smbx__conn_resp_hdr(sc->c, req, status, h))
    return SMBX_ERR_NOTFOUND;
  h->session_id = sid;
  memset(rs, 0, sizeof *rs);
  rs->security_buffer.p = blob;
  rs->security_buffer.len = blob_len;
  memset(o, 0, sizeof *o);
  o->flags = SMBX__CONN_SEND_NO_ENCRYPT;
  return 0;
}

/* 3.3.4.1.1: a binding leg's response other than SUCCESS is signed with
 * Session.SigningKey (Samba's client refuses it unsigned). */
static int bind_send(sconn *sc, const ssess *ss, uint64_t req, uint32_t status,
                     size_t len, const smbx__conn_send_opts *o)
{
  sc->srv->binding = ss;
  int rc = o ? send_pdu(sc, req, len, o) : send_error(sc, req, status);
  sc->srv->binding = NULL;
  return rc;
}

/* The answer to a binding leg (see bind_setup). */
static int bind_respond(sconn *sc, uint64_t req, slot *sl, uint32_t status,
                        const uint8_t *blob, size_t blob_len,
                        const uint8_t *key, size_t key_len)
{
  smbx_server *srv = sc->srv;
  uint64_t sid = sl->session;
  ssess *ss = sess_get(srv, sid);
  schan *ch = chan_find(srv, sid, sc->handle);
  if (!ss || !ch || ss->state != SS_UP) {
    if (ch)
      chan_free(srv, ch);
    (void)send_error(sc, req, SMBX_STATUS_USER_SESSION_DELETED);
    return SMBX_ERR_NOTFOUND;
  }
  if ((status == SMBX_STATUS_SUCCESS && !key_len) ||
      (status != SMBX_STATUS_SUCCESS &&
       status != SMBX_STATUS_MORE_PROCESSING_REQUIRED)) {
    int rc = bind_send(sc, ss, req,
                       status == SMBX_STATUS_SUCCESS
                           ? SMBX_STATUS_ACCESS_DENIED
                           : status,
                       0, NULL);
    if (rc != SMBX_ERR_AGAIN)
      chan_free(srv, ch);
    return rc;
  }
  smbx_smb2_hdr h;
  smbx_smb2_session_setup_resp rs;
  smbx__conn_send_opts o;
  if (sess_resp_start(sc, req, status, sid, blob, blob_len, &h, &rs, &o))
    return SMBX_ERR_NOTFOUND;
  if (status == SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    if (ss->dialect == SMBX_SMB2_DIALECT_311)
      o.preauth = ch->preauth;
    smbx_ssize n = smbx_smb2_encode_session_setup_resp(
        &h, &rs, out_pdu(srv), out_cap(srv), NULL);
    o.flags |= SMBX__CONN_SEND_SIGN;
    return n < 0 ? (int)n : bind_send(sc, ss, req, status, (size_t)n, &o);
  }
  /* 3.3.5.5.3: the binding must have authenticated the session's user
   * (when the host names users; Samba's answer) */
  if (ss->user_len && (ch->user_len != ss->user_len ||
                       memcmp(ch->user, ss->user, ss->user_len) != 0)) {
    int urc = bind_send(sc, ss, req, SMBX_STATUS_NOT_SUPPORTED, 0, NULL);
    if (urc == SMBX_ERR_AGAIN)
      return urc;
    chan_free(srv, ch);
    return SMBX_ERR_AUTH;
  }
  /* SUCCESS: the channel signs with its own key, derived from this
   * binding's session key (3.1.1: with the channel's preauth hash; 3.0.x:
   * SMB2AESCMAC/SmbSign, as Samba and Windows do); ciphers are the
   * session's */
  ch->keys = ss->keys;
  smbx_smb2_keys k;
  int drc = smbx_smb2_derive_keys(
      &srv->cr, ss->dialect, SMBX_CRYPTO_ROLE_SERVER,
      ss->keys.keys.signing_alg, 0, key, key_len,
      ss->dialect == SMBX_SMB2_DIALECT_311 ? ch->preauth : NULL, &k);
  if (drc) {
    (void)send_error(sc, req, SMBX_STATUS_ACCESS_DENIED);
    chan_free(srv, ch);
    return drc;
  }
  memcpy(ch->keys.keys.signing, k.signing, sizeof k.signing);
  rs.session_flags = ss->flags;
  smbx_ssize n = smbx_smb2_encode_session_setup_resp(&h, &rs, out_pdu(srv),
                                                     out_cap(srv), NULL);
  if (n < 0)
    return (int)n;
  ch->state = SS_UP;
  o.flags |= SMBX__CONN_SEND_SIGN;
  int rc = send_pdu(sc, req, (size_t)n, &o);
  if (rc == SMBX_ERR_AGAIN)
    ch->state = SS_PENDING;
  return rc;
}

/* 3.3.5.5.3: once session ss (sid) is authenticated, the established
 * session its PreviousSessionId names, on any connection, ends when the
 * host named the same user for both; anything else is ignored. */
static void expire_previous(smbx_server *srv, ssess *ss, uint64_t sid)
{
  uint64_t prev = ss->previous;
  ss->previous = 0;
  if (prev == 0 || prev == sid || ss->user_len == 0)
    return;
  ssess *old = sess_get(srv, prev);
  if (!old || old->state != SS_UP || old->user_len != ss->user_len ||
      memcmp(old->user, ss->user, ss->user_len) != 0)
    return;
  sess_end(srv, old, true, SMBX_STATUS_USER_SESSION_DELETED);
}

const uint8_t *smbx__srv_session_user(smbx_server *srv, uint64_t sid,
                                      size_t *len)
{
  const ssess *ss = sess_get(srv, sid);
  *len = 0;
  if (!ss || ss->state != SS_UP || ss->user_len == 0 ||
      (ss->flags &
       (SMBX_SMB2_SESSION_FLAG_IS_GUEST | SMBX_SMB2_SESSION_FLAG_IS_NULL)))
    return NULL;
  *len = ss->user_len;
  return ss->user;
}

int smbx_server_session_user(smbx_server *srv, uint64_t conn, uint64_t req,
                             const uint8_t *id, size_t len)
{
  sconn *sc = conn_get(srv, conn);
  if (!srv || !id || len == 0 || len > SMBX_SERVER_USER_MAX)
    return SMBX_ERR_INVAL;
  slot *sl = sc ? slot_live(sc, req) : NULL;
  if (!sl || (sl->kind != K_SESS && sl->kind != K_BIND))
    return SMBX_ERR_NOTFOUND;
  uint8_t *dst, *dlen;
  if (sl->kind == K_BIND) {
    schan *ch = chan_find(srv, sl->session, conn);
    if (!ch)
      return SMBX_ERR_NOTFOUND;
    dst = ch->user;
    dlen = &ch->user_len;
  } else {
    ssess *ss = sess_get(srv, sl->session);
    if (!ss)
      return SMBX_ERR_NOTFOUND;
    dst = ss->user;
    dlen = &ss->user_len;
  }
  memcpy(dst, id, len);
  *dlen = (uint8_t)len;
  return 0;
}

int smbx_server_session_respond(smbx_server *srv, uint64_t conn, uint64_t req,
                                uint32_t status, const uint8_t *blob,
                                size_t blob_len, const uint8_t *key,
                                size_t key_len, uint16_t session_flags,
                                uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  if ((!blob && blob_len) || (!key && key_len) || key_len > 64)
    return SMBX_ERR_INVAL;
  if (blob_len > 65535)
    return SMBX_ERR_RANGE;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (sl && sl->kind == K_BIND)
    return after(sc, bind_respond(sc, req, sl, status, blob, blob_len, key,
                                  key_len));
  if (!sl || sl->kind != K_SESS)
    return SMBX_ERR_NOTFOUND;
  ssess *ss = sess_get(srv, sl->session);
  if (!ss) {
    (void)send_error(sc, req, SMBX_STATUS_USER_SESSION_DELETED);
    return SMBX_ERR_NOTFOUND;
  }
  uint64_t sid = sl->session;
  if (status != SMBX_STATUS_SUCCESS &&
      status != SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    int rc = send_error(sc, req, status);
    if (rc != SMBX_ERR_AGAIN)
      sess_end(srv, ss, false, 0);
    return rc;
  }
  smbx_smb2_hdr h;
  smbx_smb2_session_setup_resp rs;
  smbx__conn_send_opts o;
  if (sess_resp_start(sc, req, status, sid, blob, blob_len, &h, &rs, &o))
    return SMBX_ERR_NOTFOUND;
  if (status == SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    smbx_ssize n = smbx_smb2_encode_session_setup_resp(
        &h, &rs, out_pdu(srv), out_cap(srv), NULL);
    if (n < 0)
      return (int)n;
    /* 6.5: MORE_PROCESSING responses are part of the session hash */
    if (ss->dialect == SMBX_SMB2_DIALECT_311)
      o.preauth = ss->preauth;
    int rc = send_pdu(sc, req, (size_t)n, &o);
    if (rc == 0)
      ss->pending = 0;
    return rc;
  }
  /* SUCCESS: derive the keys before the response (it is signed) */
  bool anon = (session_flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                                SMBX_SMB2_SESSION_FLAG_IS_NULL)) != 0;
  memset(&ss->keys, 0, sizeof ss->keys);
  ss->have_keys = false;
  /* without crypto hooks nothing can be signed: the key is not used */
  if (key_len && !anon && srv->have_cr && srv->cr.mac) {
    uint16_t cipher = sc->cipher;
    int rc = smbx_smb2_derive_keys(
        &srv->cr, ss->dialect, SMBX_CRYPTO_ROLE_SERVER, sc->sign_alg, cipher,
        key, key_len,
        ss->dialect == SMBX_SMB2_DIALECT_311 ? ss->preauth : NULL,
        &ss->keys.keys);
    if (rc != 0) {
      (void)send_error(sc, req, SMBX_STATUS_ACCESS_DENIED);
      sess_end(srv, ss, false, 0);
      return rc;
    }
    ss->keys.flags = SMBX__CONN_KEYS_SIGNING;
    if ((srv->s.flags & SMBX_SERVER_SIGNING_REQUIRED) ||
        (sc->client_secmode & SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED))
      ss->keys.flags |= SMBX__CONN_KEYS_SIGN_ALL;
    if (cipher) {
      ss->keys.flags |= SMBX__CONN_KEYS_CIPHER;
      if ((session_flags & SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA) ||
          (srv->s.flags & SMBX_SERVER_ENCRYPT)) {
        ss->keys.flags |= SMBX__CONN_KEYS_ENCRYPT_ALL;
        session_flags |= SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA;
      }
    }
    ss->have_keys = true;
    o.flags |= SMBX__CONN_SEND_SIGN;
  }
  if (!(ss->keys.flags & SMBX__CONN_KEYS_ENCRYPT_ALL))
    session_flags &= (uint16_t)~SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA;
  rs.session_flags = session_flags;
  smbx_ssize n = smbx_smb2_encode_session_setup_resp(&h, &rs, out_pdu(srv),
                                                     out_cap(srv), NULL);
  if (n < 0)
    return (int)n;
  ss->state = SS_UP;
  ss->flags = session_flags;
  int rc = send_pdu(sc, req, (size_t)n, &o);
  if (rc == SMBX_ERR_AGAIN) {
    ss->state = SS_PENDING;
    return rc;
  }
  ss->pending = 0;
  expire_previous(srv, ss, sid);
  return rc;
}

/* ---- TREE_CONNECT / TREE_DISCONNECT / LOGOFF ------------------------------------ */

/* An established session of this connection (no multichannel binding
 * yet: a session is valid only on the connection that set it up). */
static ssess *live_session(sconn *sc, uint64_t sid)
{
  ssess *ss = sess_get(sc->srv, sid);
  if (!ss || ss->state != SS_UP)
    return NULL;
  if (ss->conn == sc->handle)
    return ss;
  const schan *ch = chan_find(sc->srv, sid, sc->handle);
  return ch && ch->state == SS_UP ? ss : NULL;
}

static void tree_connect(sconn *sc, const smbx__conn_pdu *pd, slot *sl)
{
  smbx_smb2_tree_connect_req r;
  if (smbx_smb2_decode_tree_connect_req(pd->data, pd->len, &r, NULL) != 0) {
    (void)send_error(sc, pd->req, SMBX_STATUS_INVALID_PARAMETER);
    return;
  }
  sl->kind = K_TREE;
  sl->session = pd->hdr.session_id;
  smbx_event *e = ev_push(sc->srv, SMBX_EV_TREE_CONNECT, sc);
  if (!e) {
    sc->kill = "event queue: out of memory";
    return;
  }
  e->hold = pd->hold;
  e->u.tree.req = pd->req;
  e->u.tree.session_id = pd->hdr.session_id;
  e->u.tree.path = r.path.p;
  e->u.tree.path_len = r.path.len;
  e->u.tree.flags = r.flags;
}

int smbx_server_tree_respond(smbx_server *srv, uint64_t conn, uint64_t req,
                             uint32_t status,
                             const smbx_smb2_tree_connect_resp *resp,
                             uint64_t now_ns, uint32_t *tree_id)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_TREE)
    return SMBX_ERR_NOTFOUND;
  if (status != SMBX_STATUS_SUCCESS)
    return send_error(sc, req, status);
  if (!resp)
    return SMBX_ERR_INVAL;
  const ssess *ss = live_session(sc, sl->session);
  if (!ss) {
    (void)send_error(sc, req, SMBX_STATUS_USER_SESSION_DELETED);
    return SMBX_ERR_NOTFOUND;
  }
  /* 3.3.5.7: a share that requires encryption is refused to a session
   * that cannot encrypt (2.x, no cipher, guest or anonymous) */
  bool encrypt = (resp->share_flags & SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA) != 0;
  if (encrypt &&
      !(ss->have_keys && (ss->keys.flags & SMBX__CONN_KEYS_CIPHER))) {
    int rc = send_error(sc, req, SMBX_STATUS_ACCESS_DENIED);
    return rc ? rc : SMBX_ERR_AUTH;
  }
  stree *t = smbx__slab_get_zeroed(&srv->trees);
  if (!t) {
    (void)send_error(sc, req, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    return SMBX_ERR_LIMIT;
  }
  t->session = sl->session;
  t->conn = conn;
  t->encrypt = encrypt;
  uint32_t id = (uint32_t)smbx__slab_index(&srv->trees, t) + 1;
  smbx_smb2_hdr h;
  (void)smbx__conn_resp_hdr(sc->c, req, 0, &h);
  h.tree_id = id;
  smbx_ssize n = smbx_smb2_encode_tree_connect_resp(&h, resp, out_pdu(srv),
                                                    out_cap(srv), NULL);
  int rc = n < 0 ? (int)n : send_pdu(sc, req, (size_t)n, NULL);
  if (rc == SMBX_ERR_AGAIN || n < 0) {
    (void)smbx__slab_put(&srv->trees, t);
    return rc;
  }
  if (tree_id)
    *tree_id = id;
  return rc;
}

static void tree_disconnect(sconn *sc, const smbx__conn_pdu *pd, stree *t)
{
  uint32_t id = pd->hdr.tree_id;
  uint64_t sid = pd->hdr.session_id;
  if (send_simple(sc, pd->req) == SMBX_ERR_AGAIN)
    return;
  (void)smbx__slab_put(&sc->srv->trees, t);
  smbx_event *e = ev_push(sc->srv, SMBX_EV_TREE_DISCONNECT, sc);
  if (e) {
    e->u.tree.session_id = sid;
    e->u.tree.tree_id = id;
  }
}

static void logoff(sconn *sc, const smbx__conn_pdu *pd, ssess *ss)
{
  if (send_simple(sc, pd->req) == SMBX_ERR_AGAIN)
    return;
  sess_end(sc->srv, ss, true, 0);
}

/* ---- requests ---------------------------------------------------------------- */

/* A delivered PDU's SMBX__CONN_PDU_* flags as the event's SMBX_EVF_*:
 * RELATED, ENCRYPTED, SIGNED and VERIFIED (bits 0-3) by a table, FILEID
 * and LAST by a shift. */
#define EVF_LOW(b) \
  (((b) & 1 ? SMBX_EVF_RELATED : 0) | ((b) & 2 ? SMBX_EVF_ENCRYPTED : 0) | \
   ((b) & 4 ? SMBX_EVF_SIGNED : 0) | ((b) & 8 ? SMBX_EVF_VERIFIED : 0))
_Static_assert(SMBX__CONN_PDU_RELATED == 1 && SMBX__CONN_PDU_ENCRYPTED == 2 &&
                   SMBX__CONN_PDU_SIGNED == 4 && SMBX__CONN_PDU_VERIFIED == 8,
               "the low PDU flags index evf_low");
_Static_assert(SMBX__CONN_PDU_FILEID >> 2 == SMBX_EVF_FILEID &&
                   SMBX__CONN_PDU_LAST >> 4 == SMBX_EVF_LAST,
               "FILEID and LAST move by a shift");
static const uint8_t evf_low[16] = {
    EVF_LOW(0),  EVF_LOW(1),  EVF_LOW(2),  EVF_LOW(3),
    EVF_LOW(4),  EVF_LOW(5),  EVF_LOW(6),  EVF_LOW(7),
    EVF_LOW(8),  EVF_LOW(9),  EVF_LOW(10), EVF_LOW(11),
    EVF_LOW(12), EVF_LOW(13), EVF_LOW(14), EVF_LOW(15)};
#undef EVF_LOW

static uint32_t evf_of(uint32_t pdu_flags)
{
  return evf_low[pdu_flags & 0xFu] |
         ((pdu_flags & SMBX__CONN_PDU_FILEID) >> 2) |
         ((pdu_flags & SMBX__CONN_PDU_LAST) >> 4);
}

static bool tree_scoped(uint16_t cmd)
{
  switch (cmd) {
  case SMBX_SMB2_CREATE:
  case SMBX_SMB2_CLOSE:
  case SMBX_SMB2_FLUSH:
  case SMBX_SMB2_READ:
  case SMBX_SMB2_WRITE:
  case SMBX_SMB2_LOCK:
  case SMBX_SMB2_IOCTL:
  case SMBX_SMB2_QUERY_DIRECTORY:
  case SMBX_SMB2_CHANGE_NOTIFY:
  case SMBX_SMB2_QUERY_INFO:
  case SMBX_SMB2_SET_INFO:
  case SMBX_SMB2_TREE_DISCONNECT:
    return true;
  default:
    return false;
  }
}

static void up_request(void *ctx, const smbx__conn_pdu *pd)
{
  sconn *sc = ctx;
  smbx_server *srv = sc->srv;
  slot *sl = slot_of(sc, pd->req);
  if (!sl) {
    (void)smbx__conn_respond_error(sc->c, pd->req,
                                   SMBX_STATUS_INSUFFICIENT_RESOURCES, 0, NULL,
                                   0, srv->now);
    (void)smbx__conn_release(sc->c, pd->hold, srv->now);
    return;
  }
  /* every field written (no memset first: a request per message) */
  sl->req = pd->req;
  sl->hold = pd->hold;
  sl->kind = K_REQ;
  uint16_t cmd = pd->hdr.command;
  sl->command = cmd;
  sl->channel_sequence = (uint16_t)pd->hdr.status;
  sl->session = pd->hdr.session_id;
  if (pd->flags & SMBX__CONN_PDU_SMB1) {
    smb1_negotiate(sc, pd);
    return;
  }
  if (cmd == SMBX_SMB2_NEGOTIATE) {
    negotiate(sc, pd);
    return;
  }
  if (!sc->negotiated) {
    /* 3.3.5.2: nothing but NEGOTIATE before a dialect is agreed */
    sc->kill = "request before NEGOTIATE";
    slot_clear(sc, sl);
    return;
  }
  if (cmd == SMBX_SMB2_SESSION_SETUP) {
    session_setup(sc, pd, sl);
    return;
  }
  if (cmd == SMBX_SMB2_ECHO) {
    /* only with SMBX_SERVER_DELIVER_ECHO */
  } else {
    /* a session on its own connection inline, a bound channel's through
     * live_session */
    ssess *ss = sess_get(srv, pd->hdr.session_id);
    if (!ss || ss->state != SS_UP || ss->conn != sc->handle)
      ss = live_session(sc, pd->hdr.session_id);
    if (!ss) {
      (void)send_error(sc, pd->req, SMBX_STATUS_USER_SESSION_DELETED);
      return;
    }
    if (cmd == SMBX_SMB2_LOGOFF) {
      logoff(sc, pd, ss);
      return;
    }
    if (cmd == SMBX_SMB2_TREE_CONNECT) {
      /* 3.3.5.7: on 3.1.1 a session that is neither guest nor anonymous
       * (it has keys) connects a tree only with a signed or encrypted
       * request, else the connection is dropped (Samba: ACCESS_DENIED) */
      if (ss->dialect == SMBX_SMB2_DIALECT_311 && ss->have_keys &&
          !(pd->flags &
            (SMBX__CONN_PDU_VERIFIED | SMBX__CONN_PDU_ENCRYPTED))) {
        sc->kill = "3.1.1 TREE_CONNECT neither signed nor encrypted";
        slot_clear(sc, sl);
        return;
      }
      tree_connect(sc, pd, sl);
      return;
    }
    if (tree_scoped(cmd)) {
      stree *t = tree_get(srv, pd->hdr.tree_id);
      if (!t || t->session != pd->hdr.session_id) {
        (void)send_error(sc, pd->req, SMBX_STATUS_NETWORK_NAME_DELETED);
        return;
      }
      /* 3.3.5.2.11: the share requires encryption */
      if (t->encrypt && !(pd->flags & SMBX__CONN_PDU_ENCRYPTED)) {
        (void)send_error(sc, pd->req, SMBX_STATUS_ACCESS_DENIED);
        return;
      }
      if (cmd == SMBX_SMB2_TREE_DISCONNECT) {
        tree_disconnect(sc, pd, t);
        return;
      }
      if (cmd == SMBX_SMB2_IOCTL && smbx__srv_ioctl(sc, pd))
        return;
      if (smbx__srv_channel_sequence_guards(cmd) &&
          smbx__srv_channel_sequence(sc, pd))
        return;
    }
  }
  smbx__rdma_xfer x;
  x.length = 0; /* the check fills x for a READ or WRITE */
  if (cmd == SMBX_SMB2_READ || cmd == SMBX_SMB2_WRITE) {
    const char *why = NULL;
    uint32_t st = smbx__srv_rdma_check(sc->rdma, pd, sc->smbd, sc->dialect,
                                       srv->s.max_read_size,
                                       srv->s.max_write_size, &x, &why);
    if (st) {
      /* smbd.md 4 / case 55: an error answer invalidates too */
      smbx__conn_invalidate_next(sc->c, x.inv, x.inv_key);
      (void)send_error(sc, pd->req, st);
      smbx__conn_invalidate_next(sc->c, false, 0);
      return;
    }
  }
  smbx_event *e = ev_push(srv, SMBX_EV_REQUEST, sc);
  if (!e) {
    sc->kill = "event queue: out of memory";
    return;
  }
  e->hold = pd->hold;
  e->flags = evf_of(pd->flags);
  e->u.pdu.data = pd->data;
  e->u.pdu.len = pd->len;
  e->u.pdu.req = pd->req;
  e->u.pdu.hdr = pd->hdr;
  e->u.pdu.file_id = pd->fileid;
  e->u.pdu.chain_index = pd->chain_index;
  e->u.pdu.chain_count = pd->chain_count;
  if (x.length)
    smbx__srv_rdma_accept(sc->rdma, pd->req, &x, e);
}

static void up_cancel(void *ctx, uint64_t req)
{
  sconn *sc = ctx;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_REQ)
    return;
  smbx_event *e = ev_push(sc->srv, SMBX_EV_CANCEL, sc);
  if (e)
    e->u.pdu.req = req;
}

static void up_abort(void *ctx, uint64_t req, int err)
{
  (void)err;
  sconn *sc = ctx;
  smbx__srv_rdma_forget(sc->rdma, req);
  slot *sl = slot_live(sc, req);
  if (!sl)
    return;
  if (sl->kind == K_SESS) {
    ssess *ss = sess_get(sc->srv, sl->session);
    if (ss && ss->pending == req)
      ss->pending = 0;
  }
  slot_clear(sc, sl);
}

static int up_send(void *ctx, const uint8_t *p, size_t len)
{
  sconn *sc = ctx;
  if (!sc->tcp.send)
    return SMBX_ERR_TRANSPORT;
  return sc->tcp.send(sc->tcp.user_data, sc->handle, p, len);
}

static int up_keys(void *ctx, uint64_t sid, smbx__conn_keys *out)
{
  sconn *sc = ctx;
  ssess *ss = sess_get(sc->srv, sid);
  if (!ss || ss->state != SS_UP || !ss->have_keys)
    return SMBX_ERR_NOTFOUND;
  if (ss->conn == sc->handle) {
    *out = ss->keys;
    return 0;
  }
  if (sc->srv->binding == ss) {
    /* a binding leg's answer: the session's signing key, never encrypted */
    memset(out, 0, sizeof *out);
    out->flags = SMBX__CONN_KEYS_SIGNING;
    out->keys = ss->keys.keys;
    return 0;
  }
  const schan *ch = chan_find(sc->srv, sid, sc->handle);
  if (!ch || ch->state != SS_UP)
    return SMBX_ERR_NOTFOUND;
  *out = ch->keys;
  return 0;
}

static void up_smbd(void *ctx, const smbx_smbd_event *ev)
{
  sconn *sc = ctx;
  if (ev->type == SMBX_SMBD_EV_NEGOTIATED) {
    (void)ev_push(sc->srv, SMBX_EV_CONN_UP, sc);
    return;
  }
  smbx_event *e = ev_push(sc->srv, SMBX_EV_SMBD, sc);
  if (!e)
    return;
  e->u.smbd.type = ev->type;
  if (ev->type == SMBX_SMBD_EV_DISCONNECTED)
    e->u.smbd.error = ev->u.disconnected.error;
  if (ev->type == SMBX_SMBD_EV_RECV_BUFFER) {
    e->u.smbd.addr = ev->u.recv_buf.addr;
    e->u.smbd.length = ev->u.recv_buf.length;
    e->u.smbd.index = ev->u.recv_buf.index;
    e->u.smbd.handle = ev->u.recv_buf.handle;
  }
}

/* CONN_DOWN, once the teardown left no RDMA transfer: it is the host's
 * sign that nothing of the connection names its memory any more. */
static void conn_down_event(sconn *sc)
{
  if (!sc->down_owed || smbx__srv_rdma_live(sc->rdma))
    return;
  sc->down_owed = false;
  smbx_event *e = ev_push(sc->srv, SMBX_EV_CONN_DOWN, sc);
  if (e) {
    e->u.down.err = sc->down_err;
    e->u.down.ntstatus = sc->down_status;
    e->u.down.reason = sc->down_reason;
  }
}

static void up_down(void *ctx, int err, uint32_t ntstatus, const char *reason)
{
  sconn *sc = ctx;
  smbx_server *srv = sc->srv;
  sc->down = true;
  /* transfers in flight fail; each RDMA_DONE comes when its posted
   * operations are back, CONN_DOWN after the last */
  smbx__srv_rdma_down(sc->rdma, err);
  /* its channels go; a session set up here moves to a bound channel if
   * it has one, else it ends */
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->sessions); i++) {
    ssess *ss = smbx__slab_at(&srv->sessions, i);
    if (!ss || ss->conn != sc->handle)
      continue;
    uint64_t id = smbx__slab_handle(&srv->sessions, ss);
    schan *next = NULL;
    for (uint32_t k = 0; k < smbx__slab_cap(&srv->chans) && !next; k++) {
      schan *ch = smbx__slab_at(&srv->chans, k);
      if (ch && ch->session == id && ch->conn != sc->handle &&
          ch->state == SS_UP)
        next = ch;
    }
    if (next && ss->state == SS_UP) {
      ss->conn = next->conn;
      ss->keys = next->keys;
      chan_free(srv, next);
    } else {
      sess_end(srv, ss, ss->state == SS_UP, 0);
    }
  }
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->chans); i++) {
    schan *ch = smbx__slab_at(&srv->chans, i);
    if (ch && ch->conn == sc->handle)
      chan_free(srv, ch);
  }
  sc->down_owed = true;
  sc->down_err = err;
  sc->down_status = ntstatus;
  sc->down_reason = reason;
  conn_down_event(sc);
}

static void up_writable(void *ctx)
{
  sconn *sc = ctx;
  smbx__srv_rdma_writable(sc->rdma);
}

static smbx_event *rdma_push_ev(void *ctx, uint32_t type)
{
  sconn *sc = ctx;
  return ev_push(sc->srv, type, sc);
}

/* After every call into a connection: a deferred protocol kill. */
static int after(sconn *sc, int rc)
{
  if (sc->kill) {
    const char *why = sc->kill;
    sc->kill = NULL;
    rc = smbx__conn_abort(sc->c, SMBX_ERR_PROTO, why, sc->srv->now);
  }
  return rc;
}

/* ---- life cycle ----------------------------------------------------------------- */

int smbx_server_new(smbx_server **out, const smbx_server_settings *s,
                    const smbx_crypto *cr, const smbx_allocator *a,
                    uint64_t now_ns)
{
  if (!out)
    return SMBX_ERR_INVAL;
  smbx_server_settings st;
  smbx_server_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  if (s && s->struct_size < offsetof(smbx_server_settings, security_blob_len) +
                                sizeof(size_t)) {
    st.security_blob = NULL;
    st.security_blob_len = 0;
  }
  if (!(st.dialects & SMBX_DIALECT_MASK_ALL) || st.max_read_size < 65536 ||
      st.max_write_size < 65536 || st.max_transact_size < 65536 ||
      st.max_read_size > 8u << 20 || st.max_write_size > 8u << 20 ||
      st.max_transact_size > 8u << 20 || st.credits_max == 0 ||
      st.credits_max > 65535 || st.credits_min == 0 ||
      st.credits_min > st.credits_max || st.max_requests == 0 ||
      st.max_requests > (1u << 20) || st.max_connections == 0 ||
      st.max_connections > (1u << 20) || st.max_sessions == 0 ||
      st.max_sessions > (1u << 20) || st.max_trees == 0 ||
      st.max_trees > (1u << 20) || st.max_channel_opens > (1u << 20) ||
      st.security_blob_len > 65535 ||
      (st.security_blob_len && !st.security_blob) ||
      st.rdma_max_ops > 65535 ||
      (st.rdma_max_ops && (st.rdma_max_sge == 0 || st.rdma_max_sge > 1024 ||
                           st.rdma_max_op_size == 0 ||
                           st.rdma_max_xfer_sge > 65536)))
    return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx_server *srv = SMBX__NEW(&al, smbx_server);
  if (!srv)
    return SMBX_ERR_NOMEM;
  srv->alloc = al;
  srv->s = st;
  srv->now = now_ns;
  if (cr) {
    if (smbx__smb2_crypto_copy(&srv->cr, cr) != 0) {
      SMBX__DELETE(&al, srv, smbx_server);
      return SMBX_ERR_INVAL;
    }
    srv->have_cr = true;
  }
  /* signing cannot be required without a MAC hook (the copy honours the
   * table's struct_size) */
  if ((st.flags & (SMBX_SERVER_SIGNING_REQUIRED | SMBX_SERVER_ENCRYPT)) &&
      !srv->cr.mac) {
    SMBX__DELETE(&al, srv, smbx_server);
    return SMBX_ERR_INVAL;
  }
  size_t big = st.max_read_size;
  if (st.max_transact_size > big)
    big = st.max_transact_size;
  srv->sbuf_cap = SMBX__CONN_HEADROOM + big + 4096;
  if (st.security_blob_len) {
    srv->blob = smbx__alloc(&srv->alloc, st.security_blob_len, 1);
    if (!srv->blob)
      goto nomem;
    memcpy(srv->blob, st.security_blob, st.security_blob_len);
  }
  srv->s.security_blob = srv->blob;
  if (SMBX__SLAB_INIT(&srv->conns, &srv->alloc, sconn, st.max_connections) ||
      SMBX__SLAB_INIT(&srv->sessions, &srv->alloc, ssess, st.max_sessions) ||
      SMBX__SLAB_INIT(&srv->trees, &srv->alloc, stree, st.max_trees) ||
      SMBX__SLAB_INIT(&srv->chans, &srv->alloc, schan, st.max_sessions) ||
      SMBX__RING_INIT(&srv->evq, &srv->alloc, smbx_event, 64) ||
      smbx__srv_channel_init(srv))
    goto nomem;
  srv->sbuf = smbx__alloc(&srv->alloc, srv->sbuf_cap, 8);
  if (!srv->sbuf)
    goto nomem;
  if (srv->have_cr && srv->cr.random)
    (void)srv->cr.random(srv->cr.user_data, (uint8_t *)&srv->seed,
                         sizeof srv->seed);
  *out = srv;
  return 0;
nomem:
  smbx_server_free(srv);
  return SMBX_ERR_NOMEM;
}

static void conn_destroy(smbx_server *srv, sconn *sc)
{
  smbx__srv_rdma_free(sc->rdma);
  smbx__conn_free(sc->c);
  if (sc->slots)
    smbx__free(&srv->alloc, sc->slots, sizeof(slot) * sc->n_slots,
               _Alignof(slot));
  memset(sc, 0, sizeof *sc);
  (void)smbx__slab_put(&srv->conns, sc);
}

void smbx_server_free(smbx_server *srv)
{
  if (!srv)
    return;
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->conns); i++) {
    sconn *sc = smbx__slab_at(&srv->conns, i);
    if (sc)
      conn_destroy(srv, sc);
  }
  smbx__slab_free(&srv->conns);
  smbx__slab_free(&srv->sessions);
  smbx__slab_free(&srv->trees);
  smbx__slab_free(&srv->chans);
  smbx__ring_free(&srv->evq);
  smbx__srv_channel_free(srv);
  if (srv->sbuf)
    smbx__free(&srv->alloc, srv->sbuf, srv->sbuf_cap, 8);
  if (srv->blob)
    smbx__free(&srv->alloc, srv->blob, srv->s.security_blob_len, 1);
  smbx_allocator al = srv->alloc;
  SMBX__DELETE(&al, srv, smbx_server);
}

static int conn_prepare(smbx_server *srv, sconn **out, smbx__conn_settings *cs,
                        smbx__conn_upcalls *up)
{
  sconn *sc = smbx__slab_get_zeroed(&srv->conns);
  if (!sc)
    return SMBX_ERR_LIMIT;
  sc->srv = srv;
  sc->handle = smbx__slab_handle(&srv->conns, sc);
  sc->n_slots = srv->s.max_requests;
  sc->slots = smbx__calloc(&srv->alloc, sc->n_slots, sizeof(slot),
                           _Alignof(slot));
  if (!sc->slots) {
    memset(sc, 0, sizeof *sc);
    (void)smbx__slab_put(&srv->conns, sc);
    return SMBX_ERR_NOMEM;
  }
  smbx__conn_settings_default(cs, SMBX__CONN_SERVER);
  cs->max_requests = srv->s.max_requests;
  cs->credits_max = srv->s.credits_max;
  cs->credits_min = srv->s.credits_min;
  uint32_t big = srv->s.max_write_size;
  if (srv->s.max_transact_size > big)
    big = srv->s.max_transact_size;
  cs->max_msg = big + 65536 + SMBX_SMB2_TRANSFORM_HDR_SIZE;
  cs->hash_seed = srv->seed;
  if (srv->s.flags & SMBX_SERVER_DELIVER_ECHO)
    cs->flags |= SMBX__CONN_F_DELIVER_ECHO;
  if (srv->s.flags & SMBX_SERVER_MIXED_COMPOUNDS)
    cs->flags |= SMBX__CONN_F_MIXED_COMPOUNDS;
  /* a compound request gets a compounded response (as Windows and Samba) */
  cs->flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  memset(up, 0, sizeof *up);
  up->ctx = sc;
  up->send = up_send;
  up->request = up_request;
  up->cancel = up_cancel;
  up->abort = up_abort;
  up->keys = up_keys;
  up->smbd_event = up_smbd;
  up->down = up_down;
  up->writable = up_writable;
  *out = sc;
  return 0;
}

static void conn_unprepare(smbx_server *srv, sconn *sc)
{
  sc->c = NULL;
  conn_destroy(srv, sc);
}

int smbx_server_add_tcp(smbx_server *srv, const smbx_tcp_hooks *h,
                        uint64_t now_ns, uint64_t *conn)
{
  if (!srv || !h || !conn)
    return SMBX_ERR_INVAL;
  smbx_tcp_hooks hk;
  if (smbx__conn_tcp_hooks_copy(&hk, h))
    return SMBX_ERR_INVAL;
  srv->now = now_ns;
  sconn *sc;
  smbx__conn_settings cs;
  smbx__conn_upcalls up;
  int rc = conn_prepare(srv, &sc, &cs, &up);
  if (rc)
    return rc;
  sc->tcp = hk;
  rc = smbx__conn_new_tcp(&sc->c, &cs, &up, srv->have_cr ? &srv->cr : NULL,
                          &srv->alloc, now_ns);
  if (rc) {
    conn_unprepare(srv, sc);
    return rc;
  }
  smbx__conn_set_backpressure(sc->c, srv->bp);
  *conn = sc->handle;
  return 0;
}

int smbx_server_add_smbd(smbx_server *srv, const smbx_smbd_settings *ss,
                         const smbx_transport *t,
                         const smbx_smbd_recv_buf *bufs, size_t n,
                         uint64_t now_ns, uint64_t *conn)
{
  if (!srv || !t || !conn)
    return SMBX_ERR_INVAL;
  smbx_smbd_settings st;
  if (smbx__conn_smbd_settings_copy(&st, ss, SMBX_SMBD_ROLE_PASSIVE))
    return SMBX_ERR_INVAL;
  srv->now = now_ns;
  sconn *sc;
  smbx__conn_settings cs;
  smbx__conn_upcalls up;
  int rc = conn_prepare(srv, &sc, &cs, &up);
  if (rc)
    return rc;
  sc->smbd = true;
  rc = smbx__conn_new_smbd_engine(&sc->c, &cs, &up,
                                  srv->have_cr ? &srv->cr : NULL, &st, t, bufs,
                                  n, &srv->alloc, now_ns);
  if (rc) {
    conn_unprepare(srv, sc);
    return rc;
  }
  rc = smbx__srv_rdma_new(&sc->rdma, srv, sc->handle, sc->c, t, &srv->s,
                          sc->n_slots, rdma_push_ev, sc, &srv->alloc);
  if (rc) {
    conn_destroy(srv, sc);
    return rc;
  }
  smbx__conn_set_backpressure(sc->c, srv->bp);
  *conn = sc->handle;
  return 0;
}

/* ---- transport input ------------------------------------------------------------ */

smbx_ssize smbx_server_tcp_feed(smbx_server *srv, uint64_t conn,
                                uint8_t *bytes, size_t len, uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!srv || (!bytes && len))
    return SMBX_ERR_INVAL;
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  srv->now = now_ns;
  size_t used = 0;
  int rc = smbx__conn_tcp_feed(sc->c, bytes, len, &used, now_ns);
  rc = after(sc, rc);
  if (rc == SMBX_ERR_AGAIN)
    return (smbx_ssize)used;
  if (rc < 0)
    return rc;
  return (smbx_ssize)used;
}

int smbx_server_recv(smbx_server *srv, uint64_t conn, const smbx_wc *wc,
                     uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  return after(sc, smbx__conn_smbd_recv(sc->c, wc, now_ns));
}

int smbx_server_send_done(smbx_server *srv, uint64_t conn, const smbx_wc *wc,
                          uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  return after(sc, smbx__conn_smbd_send_done(sc->c, wc, now_ns));
}

int smbx_server_cm_event(smbx_server *srv, uint64_t conn, uint32_t event,
                         uint32_t ird, uint32_t ord, uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  int rc = smbx__conn_smbd_cm_event(sc->c, event, ird, ord, now_ns);
  smbx__srv_rdma_cm(sc->rdma);
  return after(sc, rc);
}

int smbx_server_release(smbx_server *srv, uint64_t conn, uint64_t hold,
                        uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (hold == 0)
    return 0;
  srv->now = now_ns;
  /* the slot that still names this hold forgets it */
  for (uint32_t i = 0; i < sc->n_slots; i++)
    if (sc->slots[i].kind != K_NONE && sc->slots[i].hold == hold) {
      sc->slots[i].hold = 0;
      break;
    }
  return after(sc, smbx__conn_release(sc->c, hold, now_ns));
}

/* ---- responses ------------------------------------------------------------------ */

/* A host answer (error_status != 0: an ERROR body): a request whose data
 * moves by RDMA refuses until it is done, and its answer invalidates the
 * client's buffer when the channel asked (smbd.md 4). */
static int answer(sconn *sc, uint64_t req, uint32_t error_status, size_t len)
{
  int rc = smbx__srv_rdma_respond_begin(sc->rdma, req);
  if (rc)
    return rc;
  rc = error_status ? send_error(sc, req, error_status)
                    : send_pdu(sc, req, len, NULL);
  smbx__srv_rdma_respond_end(sc->rdma, req, rc);
  return rc;
}

int smbx_server_respond_iov(smbx_server *srv, uint64_t conn, uint64_t req,
                            uint32_t status, const smbx_iov *iov, size_t n,
                            uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!iov && n)
    return SMBX_ERR_INVAL;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_REQ)
    return SMBX_ERR_NOTFOUND;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (!iov[i].base && iov[i].len)
      return SMBX_ERR_INVAL;
    total += iov[i].len;
    if (total > out_cap(srv))
      return SMBX_ERR_RANGE;
  }
  if (total == 0 && status != SMBX_STATUS_SUCCESS)
    return after(sc, answer(sc, req, status, 0));
  if (total > out_cap(srv) - SMBX_SMB2_HDR_SIZE)
    return SMBX_ERR_RANGE;
  smbx_smb2_hdr h;
  if (smbx__conn_resp_hdr(sc->c, req, status, &h))
    return SMBX_ERR_NOTFOUND;
  uint8_t *p = out_pdu(srv);
  smbx__smb2_hdr_store(p, &h, h.command); /* the room was checked above */
  size_t off = SMBX_SMB2_HDR_SIZE;
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len)
      memcpy(p + off, iov[i].base, iov[i].len);
    off += iov[i].len;
  }
  if (sl->command == SMBX_SMB2_CREATE && status == SMBX_STATUS_SUCCESS)
    smbx__srv_open_created(sc, sl, p, off);
  return after(sc, answer(sc, req, 0, off));
}

int smbx__srv_respond_placed(struct sconn *sc, uint64_t req, uint32_t bytes,
                             bool inv, uint32_t inv_key)
{
  slot *sl = slot_live(sc, req);
  smbx_smb2_hdr h;
  if (!sl || sl->kind != K_REQ || smbx__conn_resp_hdr(sc->c, req, 0, &h))
    return SMBX_ERR_NOTFOUND;
  uint8_t *p = out_pdu(sc->srv); /* 80 bytes: far below any sbuf_cap */
  smbx__smb2_hdr_store(p, &h, SMBX_SMB2_READ);
  smbx__smb2_read_resp_fixed(p + SMBX_SMB2_HDR_SIZE, 0, 0, bytes, 0);
  smbx__conn_invalidate_next(sc->c, inv, inv_key);
  int rc = send_pdu_slot(sc, sl, req, SMBX_SMB2_HDR_SIZE + 16, NULL);
  smbx__conn_invalidate_next(sc->c, false, 0);
  return after(sc, rc);
}

int smbx_server_respond(smbx_server *srv, uint64_t conn, uint64_t req,
                        uint32_t status, const uint8_t *body, size_t len,
                        uint64_t now_ns)
{
  smbx_iov v = {body, len};
  return smbx_server_respond_iov(srv, conn, req, status, &v, 1, now_ns);
}

int smbx_server_respond_error(smbx_server *srv, uint64_t conn, uint64_t req,
                              uint32_t status, const uint8_t *data, size_t len,
                              uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_REQ)
    return SMBX_ERR_NOTFOUND;
  slot saved = *sl;
  memset(sl, 0, sizeof *sl);
  int rc = smbx__srv_rdma_respond_begin(sc->rdma, req);
  if (rc == 0) {
    rc = smbx__conn_respond_error(sc->c, req, status, 0, data, len, now_ns);
    smbx__srv_rdma_respond_end(sc->rdma, req, rc);
  } else {
    *sl = saved;
    return rc;
  }
  if (rc == SMBX_ERR_AGAIN || rc == SMBX_ERR_RANGE || rc == SMBX_ERR_INVAL) {
    if (sl->kind == K_NONE)
      *sl = saved;
    return rc;
  }
  if (saved.hold)
    (void)smbx__conn_release(sc->c, saved.hold, now_ns);
  return after(sc, rc);
}

int smbx_server_go_async(smbx_server *srv, uint64_t conn, uint64_t req,
                         uint64_t now_ns, uint64_t *async_id)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_REQ)
    return SMBX_ERR_NOTFOUND;
  return after(sc, smbx__conn_go_async(sc->c, req, async_id, now_ns));
}

/* ---- unsolicited notifications ---------------------------------------------------- */

int smbx_server_send_break(smbx_server *srv, uint64_t conn, uint64_t session_id,
                           const uint8_t *body, size_t len, uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!srv || !body || (len != 24 && len != 44))
    return SMBX_ERR_INVAL;
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  smbx_error_detail d;
  int err = smbx__conn_error_detail(sc->c, &d);
  if (err)
    return err;
  if (!sc->negotiated)
    return SMBX_ERR_STATE;
  srv->now = now_ns;
  /* lib/conn writes the header and encrypts it for an encrypting session */
  uint8_t *p = out_pdu(srv);
  memcpy(p + SMBX_SMB2_HDR_SIZE, body, len);
  return after(sc, smbx__conn_notify(sc->c, srv->sbuf, srv->sbuf_cap,
                                     SMBX_SMB2_HDR_SIZE + len, session_id,
                                     now_ns));
}

/* ---- time and connection management -------------------------------------------- */

/* ---- RDMA direct placement (rdma_io.c) ---------------------------------------- */

static int rdma_call(smbx_server *srv, uint64_t conn, uint64_t req,
                     uint32_t dir, const smbx_sge *sg, size_t n,
                     uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  slot *sl = slot_live(sc, req);
  if (!sl || sl->kind != K_REQ)
    return SMBX_ERR_NOTFOUND;
  if (!sc->rdma)
    return SMBX_ERR_STATE;
  return after(sc, smbx__srv_rdma_start(sc->rdma, req, dir, sg, n, now_ns));
}

int smbx_server_rdma_push(smbx_server *srv, uint64_t conn, uint64_t req,
                          const smbx_sge *data, size_t n, uint64_t now_ns)
{
  return rdma_call(srv, conn, req, SMBX__RDMA_PUSH, data, n, now_ns);
}

int smbx_server_rdma_pull(smbx_server *srv, uint64_t conn, uint64_t req,
                          const smbx_sge *dst, size_t n, uint64_t now_ns)
{
  return rdma_call(srv, conn, req, SMBX__RDMA_PULL, dst, n, now_ns);
}

int smbx_server_rdma_done(smbx_server *srv, uint64_t conn, const smbx_wc *wc,
                          uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc || !wc)
    return !srv || !wc ? SMBX_ERR_INVAL : SMBX_ERR_NOTFOUND;
  srv->now = now_ns;
  if (!sc->rdma)
    return 0;
  int rc = after(sc, smbx__srv_rdma_done(sc->rdma, wc, now_ns));
  conn_down_event(sc);
  return rc;
}

uint64_t smbx_server_expiry(const smbx_server *srv)
{
  uint64_t t = SMBX__NO_DEADLINE;
  if (!srv)
    return t;
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->conns); i++) {
    const sconn *sc = smbx__slab_at(&srv->conns, i);
    if (sc)
      t = smbx__deadline_min(t, smbx__conn_expiry(sc->c));
  }
  return t;
}

int smbx_server_handle_expiry(smbx_server *srv, uint64_t now_ns)
{
  if (!srv)
    return SMBX_ERR_INVAL;
  srv->now = now_ns;
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->conns); i++) {
    sconn *sc = smbx__slab_at(&srv->conns, i);
    if (sc && smbx__deadline_passed(now_ns, smbx__conn_expiry(sc->c)))
      (void)after(sc, smbx__conn_handle_expiry(sc->c, now_ns));
  }
  return 0;
}

int smbx_server_close_conn(smbx_server *srv, uint64_t conn, uint64_t now_ns)
{
  sconn *sc = conn_get(srv, conn);
  if (!sc)
    return srv ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  srv->now = now_ns;
  (void)smbx__conn_close(sc->c, now_ns);
  ev_purge(srv, conn);
  conn_destroy(srv, sc);
  return 0;
}

int smbx_server_conn_info(const smbx_server *srv, uint64_t conn,
                          smbx_conn_info *info)
{
  if (!srv || !info || info->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  const sconn *sc = conn_get(srv, conn);
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  smbx__conn_info ci;
  smbx__conn_get_info(sc->c, &ci);
  smbx_conn_info o;
  memset(&o, 0, sizeof o);
  o.struct_size = info->struct_size;
  o.dialect = sc->dialect;
  o.transport = (uint16_t)ci.transport;
  o.capabilities = sc->caps;
  o.credits = ci.credits;
  o.outstanding = ci.outstanding;
  o.holds = ci.holds;
  o.err = ci.err;
  o.requests = ci.requests;
  o.responses = ci.responses;
  smbx__srv_rdma_info(sc->rdma, &o);
  memcpy(info, &o, info->struct_size < sizeof o ? info->struct_size : sizeof o);
  return 0;
}

int smbx_server_conn_error(const smbx_server *srv, uint64_t conn,
                           smbx_error_detail *detail)
{
  const sconn *sc = conn_get(srv, conn);
  if (!sc)
    return SMBX_ERR_NOTFOUND;
  return smbx__conn_error_detail(sc->c, detail);
}
