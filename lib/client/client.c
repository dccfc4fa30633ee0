/* SPDX-License-Identifier: MIT */
/* The client node (rank 6): connections (lib/conn), sessions, requests and
 * their completions as one ordered event queue. See include/smbx/client.h
 * and docs/nodes.md. */
#include <string.h>

#include <smbx/client.h>

#include "client/client_int.h"
#include "conn/conn.h"
#include "core/alloc.h"
#include "core/compiler.h"
#include "core/cursor.h"
#include "core/hash.h"
#include "core/evq.h"
#include "core/ring.h"
#include "core/slab.h"
#include "core/time.h"
#include "client/rdma_io.h"
#include "client/lease_cache.h"
#include "client/xfer.h"
#include "smb2/hot.h"
#include "smb2/sec.h"

int smbx_client_settings_default(smbx_client_settings *s, size_t struct_size)
{
  if (!s || struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_client_settings d;
  memset(&d, 0, sizeof d);
  d.struct_size = struct_size;
  d.dialects = SMBX_DIALECT_MASK_ALL;
  d.capabilities = SMBX_SMB2_CAP_LARGE_MTU | SMBX_SMB2_CAP_LEASING |
                   SMBX_SMB2_CAP_DIRECTORY_LEASING |
                   SMBX_SMB2_CAP_MULTI_CHANNEL | SMBX_SMB2_CAP_ENCRYPTION;
  d.ciphers = 0x1Eu;
  d.signing_algs = 0x7u;
  d.max_io = 1u << 20;
  d.credit_target = 512;
  d.max_requests = 1024;
  d.max_connections = 16;
  d.max_sessions = 64;
  d.rdma_threshold = 4096;
  d.rdma_max_regs = 256;
  d.request_timeout_ns = 60ull * 1000000000ull;
  d.replay_buffer_size = 4u << 20;
  memcpy(s, &d, struct_size < sizeof d ? struct_size : sizeof d);
  return 0;
}

/* ---- events ----------------------------------------------------------------- */

static smbx_event *ev_push(smbx_client *cli, uint32_t type, const cconn *cc)
{
  if (smbx__ring_full(&cli->evq) && smbx__ring_grow(&cli->evq) != 0)
    return NULL;
  return smbx__evq_push(&cli->evq, type, cc ? cc->handle : 0);
}

/* Events that must never be lost are those the connections still owe
 * (one completion per request, CONN_DOWN: smbx__conn_owed), a
 * SESSION_DOWN per session and an XFER_DONE per live transfer. The
 * queue always keeps that much room: a
 * request is refused (SMBX_ERR_NOMEM) when the queue cannot grow for its
 * completion, and an unsolicited event (BREAK, INTERIM, WRITABLE,
 * SESSION_UP, CONN_UP, SMBD) that would eat into the room tears its
 * connection down instead (ev_lost), which only uses reserved room. */
static SMBX__COLD bool ev_room_walk(smbx_client *cli, size_t more)
{
  uint64_t need = more + smbx__slab_live(&cli->sessions) +
                  smbx__cli_xfers_live(cli->xfers);
  for (uint32_t i = 0; i < smbx__slab_scan_end(&cli->conns); i++) {
    const cconn *cc = smbx__slab_at(&cli->conns, i);
    if (cc)
      need += smbx__conn_owed(cc->c);
  }
  while (smbx__ring_cap(&cli->evq) - smbx__ring_len(&cli->evq) < need)
    if (smbx__ring_grow(&cli->evq) != 0)
      return false;
  cli->ev_spare = smbx__ring_cap(&cli->evq) - smbx__ring_len(&cli->evq) - need;
  return true;
}

/* ev_spare only falls between two walks: by what each caller reserves
 * here, by every push that is not a reserved completion
 * (smbx__client_push), and to 0 when a session is made or a request
 * moves to another channel; completions and the host's pops only free
 * room. So a send usually proves its room without the walk. */
static bool ev_room(smbx_client *cli, size_t more)
{
  if (cli->ev_spare >= more) {
    cli->ev_spare -= more;
    return true;
  }
  return ev_room_walk(cli, more);
}

static smbx_event *ev_push_extra(smbx_client *cli, uint32_t type,
                                 const cconn *cc)
{
  return ev_room(cli, 1) ? ev_push(cli, type, cc) : NULL;
}

/* An unsolicited event could not be queued: the connection goes down with
 * SMBX_ERR_NOMEM (its completions and CONN_DOWN use reserved room). */
static void ev_lost(cconn *cc)
{
  (void)smbx__conn_fail(cc->c, SMBX_ERR_NOMEM, "event queue: out of memory",
                        cc->cli->now);
}

int smbx_client_next_event(smbx_client *cli, smbx_event *ev)
{
  if (!cli || !ev || ev->struct_size < offsetof(smbx_event, u))
    return SMBX_ERR_INVAL;
  return smbx__evq_pop(&cli->evq, ev);
}

/* The connection goes away: queued views die; completions stay, as
 * local errors. */
static void ev_purge(smbx_client *cli, uint64_t conn)
{
  for (size_t i = 0; i < smbx__ring_len(&cli->evq); i++) {
    smbx_event *e = smbx__ring_at(&cli->evq, i);
    if (e->conn != conn || !e->hold)
      continue;
    e->hold = 0;
    if (e->type == SMBX_EV_RESPONSE) {
      e->u.pdu.data = NULL;
      e->u.pdu.len = 0;
      e->u.pdu.err = SMBX_ERR_CLOSED;
    } else if (e->type == SMBX_EV_SESSION_SETUP) {
      e->u.session.blob = NULL;
      e->u.session.blob_len = 0;
      e->u.session.err = SMBX_ERR_CLOSED;
    } else if (e->type == SMBX_EV_NEGOTIATED) {
      e->u.negotiated.blob = NULL;
      e->u.negotiated.blob_len = 0;
    } else {
      e->type = SMBX_EV_NONE;
    }
  }
}

/* ---- lookups ------------------------------------------------------------------ */

static cconn *conn_get(const smbx_client *cli, uint64_t h)
{
  return cli ? smbx__slab_lookup(&cli->conns, h) : NULL;
}

static csess *sess_get(const smbx_client *cli, uint64_t h)
{
  return h ? smbx__slab_lookup(&cli->sessions, h) : NULL;
}

static cslot *slot_live(cconn *cc, uint64_t req)
{
  uint32_t i = (uint32_t)req;
  if (i >= cc->n_slots)
    return NULL;
  cslot *s = &cc->slots[i];
  return s->kind != CK_NONE && s->req == req ? s : NULL;
}

static cchan *chan_find(const smbx_client *cli, uint64_t sh, uint64_t conn)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->chans); i++) {
    cchan *ch = smbx__slab_at(&cli->chans, i);
    if (ch && ch->session == sh && (conn == 0 || ch->conn == conn))
      return ch;
  }
  return NULL;
}

static void chan_free(smbx_client *cli, cchan *ch)
{
  memset(ch, 0, sizeof *ch);
  (void)smbx__slab_put(&cli->chans, ch);
}

bool smbx__cli_can_encrypt(const csess *cs)
{
  return cs->have_keys && cs->dialect >= SMBX_SMB2_DIALECT_300 &&
         (cs->keys.flags & SMBX__CONN_KEYS_CIPHER) &&
         !(cs->flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                        SMBX_SMB2_SESSION_FLAG_IS_NULL));
}

static bool tree_encrypts(const csess *cs, uint32_t tree_id)
{
  if (cs->enc_any)
    return true;
  for (uint32_t i = 0; i < cs->n_enc_trees; i++)
    if (cs->enc_trees[i] == tree_id || tree_id == UINT32_MAX)
      return true;
  return false;
}

bool smbx__cli_protected(const csess *cs, uint32_t tree_id)
{
  return (cs->have_keys && (cs->keys.flags & (SMBX__CONN_KEYS_SIGN_ALL |
                                              SMBX__CONN_KEYS_ENCRYPT_ALL))) ||
         tree_encrypts(cs, tree_id);
}

static void tree_forget(csess *cs, uint32_t tree_id)
{
  for (uint32_t i = 0; i < cs->n_enc_trees; i++)
    if (cs->enc_trees[i] == tree_id) {
      cs->enc_trees[i] = cs->enc_trees[--cs->n_enc_trees];
      return;
    }
}

static void sess_free(smbx_client *cli, csess *cs)
{
  uint64_t sh = smbx__slab_handle(&cli->sessions, cs);
  cchan *ch;
  while ((ch = chan_find(cli, sh, 0)) != NULL)
    chan_free(cli, ch);
  if (cs->wire_id)
    (void)smbx__hash_remove_u64(&cli->sids, cs->wire_id);
  memset(cs, 0, sizeof *cs);
  (void)smbx__slab_put(&cli->sessions, cs);
}

static uint8_t *out_pdu(smbx_client *cli)
{
  return cli->sbuf + SMBX__CONN_HEADROOM;
}

static size_t out_cap(const smbx_client *cli)
{
  return cli->sbuf_cap - SMBX__CONN_HEADROOM;
}

/* ---- keys ------------------------------------------------------------------- */

/* A session without a key (smbx_client_session_key with none, or a guest
 * or anonymous logon) cannot sign or encrypt: it is refused when the
 * client requires signing or encryption or the server asked for
 * encryption (ENCRYPT_DATA) rather than run in the clear. */
static bool keyless_refused(const smbx_client *cli, const csess *cs)
{
  bool keyless = (cs->have_key && cs->key_len == 0) ||
                 (cs->flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                               SMBX_SMB2_SESSION_FLAG_IS_NULL));
  return keyless &&
         ((cli->s.flags & (SMBX_CLIENT_SIGNING_REQUIRED | SMBX_CLIENT_ENCRYPT)) ||
          (cs->flags & SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA));
}

static int derive(smbx_client *cli, cconn *cc, csess *cs)
{
  memset(&cs->keys, 0, sizeof cs->keys);
  cs->have_keys = false;
  if (!cs->have_key || cs->key_len == 0 ||
      (cs->flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                    SMBX_SMB2_SESSION_FLAG_IS_NULL)))
    return 0;
  if (!cli->have_cr || !cli->cr.mac)
    return 0; /* nothing can be signed: the key is not used */
  uint16_t alg = cc ? cc->sign_alg : SMBX_CRYPTO_SIGN_DEFAULT;
  uint16_t cipher = cc ? cc->cipher : 0;
  int rc = smbx_smb2_derive_keys(
      &cli->cr, cs->dialect, SMBX_CRYPTO_ROLE_CLIENT, alg, cipher, cs->key,
      cs->key_len, cs->dialect == SMBX_SMB2_DIALECT_311 ? cs->preauth : NULL,
      &cs->keys.keys);
  if (rc)
    return rc;
  cs->keys.flags = SMBX__CONN_KEYS_SIGNING;
  if ((cli->s.flags & SMBX_CLIENT_SIGNING_REQUIRED) ||
      (cc && (cc->server_secmode & SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED)))
    cs->keys.flags |= SMBX__CONN_KEYS_SIGN_ALL;
  if (cipher) {
    cs->keys.flags |= SMBX__CONN_KEYS_CIPHER;
    if ((cs->flags & SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA) ||
        (cli->s.flags & SMBX_CLIENT_ENCRYPT))
      cs->keys.flags |= SMBX__CONN_KEYS_ENCRYPT_ALL;
  }
  cs->have_keys = true;
  return 0;
}

static void push_session_up(smbx_client *cli, cconn *cc, csess *cs)
{
  smbx_event *e = ev_push_extra(cli, SMBX_EV_SESSION_UP, cc);
  if (!e) {
    if (cc)
      ev_lost(cc);
    return;
  }
  e->conn = cs->conn;
  e->u.session.session = smbx__slab_handle(&cli->sessions, cs);
  e->u.session.session_id = cs->wire_id;
  e->u.session.session_flags = cs->flags;
  e->u.session.dialect = cs->dialect;
}

/* ---- upcalls ------------------------------------------------------------------ */

static uint32_t ev_flags(uint32_t pf)
{
  uint32_t f = 0;
  if (pf & SMBX__CONN_PDU_SIGNED)
    f |= SMBX_EVF_SIGNED;
  if (pf & SMBX__CONN_PDU_VERIFIED)
    f |= SMBX_EVF_VERIFIED;
  if (pf & SMBX__CONN_PDU_ENCRYPTED)
    f |= SMBX_EVF_ENCRYPTED;
  if (pf & SMBX__CONN_PDU_LAST)
    f |= SMBX_EVF_LAST;
  return f;
}

static void on_negotiate(cconn *cc, int err, const smbx__conn_pdu *r)
{
  smbx_client *cli = cc->cli;
  smbx_event *e = ev_push(cli, SMBX_EV_NEGOTIATED, cc);
  if (!e) {
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  cc->state = 0;
  /* what smbx_client_negotiate put in the request */
  e->u.negotiated.own_capabilities = cli->s.capabilities;
  e->u.negotiated.own_security_mode =
      (uint16_t)(SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED |
                 ((cli->s.flags & SMBX_CLIENT_SIGNING_REQUIRED)
                      ? SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED
                      : 0));
  if (err) {
    e->u.negotiated.err = err;
    return;
  }
  e->u.negotiated.status = r->hdr.status;
  smbx_smb2_negotiate_resp rs;
  uint32_t mask = 0;
  switch (0) {
  default:
    if (r->hdr.status != SMBX_STATUS_SUCCESS) {
      e->u.negotiated.err = SMBX_ERR_NEGOTIATE;
      break;
    }
    if (smbx_smb2_decode_negotiate_resp(r->data, r->len, &rs, NULL) != 0) {
      e->u.negotiated.err = SMBX_ERR_PROTO;
      break;
    }
    switch (rs.dialect_revision) {
    case SMBX_SMB2_DIALECT_202:
      mask = SMBX_DIALECT_MASK_202;
      break;
    case SMBX_SMB2_DIALECT_210:
      mask = SMBX_DIALECT_MASK_210;
      break;
    case SMBX_SMB2_DIALECT_300:
      mask = SMBX_DIALECT_MASK_300;
      break;
    case SMBX_SMB2_DIALECT_302:
      mask = SMBX_DIALECT_MASK_302;
      break;
    case SMBX_SMB2_DIALECT_311:
      mask = SMBX_DIALECT_MASK_311;
      break;
    default:
      break;
    }
    if (!(mask & cli->s.dialects)) {
      /* 3.2.5.2: a dialect we did not offer */
      e->u.negotiated.err = SMBX_ERR_NEGOTIATE;
      break;
    }
    uint16_t cipher = 0, alg = SMBX_CRYPTO_SIGN_DEFAULT;
    bool pa = false;
    if (rs.dialect_revision == SMBX_SMB2_DIALECT_311) {
      smbx_smb2_neg_ctx_iter it;
      smbx_smb2_neg_ctx cx;
      (void)smbx_smb2_neg_ctx_iter_init(&it, rs.neg_ctx, rs.neg_ctx_count, 0);
      while (smbx_smb2_neg_ctx_next(&it, &cx, NULL) == 1) {
        smbx_smb2_neg_ctx_info in;
        if (smbx_smb2_neg_ctx_parse(&cx, &in, NULL) != 0)
          continue;
        uint16_t id = smbx_smb2_bytes_u16(in.ids, 0);
        if (cx.type == SMBX_SMB2_NEG_CTX_PREAUTH)
          pa = in.count == 1 && id == SMBX_SMB2_HASH_SHA512;
        else if (cx.type == SMBX_SMB2_NEG_CTX_ENCRYPTION && in.count == 1 &&
                 id >= 1 && id <= 4 && (cli->s.ciphers & (1u << id)))
          cipher = id;
        else if (cx.type == SMBX_SMB2_NEG_CTX_SIGNING && in.count == 1 &&
                 id <= 2 && (cli->s.signing_algs & (1u << id)))
          alg = id;
      }
      if (!pa) {
        e->u.negotiated.err = SMBX_ERR_NEGOTIATE;
        break;
      }
    } else if ((rs.dialect_revision == SMBX_SMB2_DIALECT_300 ||
                rs.dialect_revision == SMBX_SMB2_DIALECT_302) &&
               (rs.capabilities & SMBX_SMB2_CAP_ENCRYPTION) &&
               (cli->s.capabilities & SMBX_SMB2_CAP_ENCRYPTION) &&
               (cli->s.ciphers & (1u << SMBX_CRYPTO_CIPHER_AES128_CCM))) {
      cipher = SMBX_CRYPTO_CIPHER_AES128_CCM;
    }
    cc->dialect = rs.dialect_revision;
    cc->caps = rs.capabilities & cli->s.capabilities;
    cc->cipher = cipher;
    cc->sign_alg = cc->dialect < SMBX_SMB2_DIALECT_300
                       ? (uint16_t)SMBX_CRYPTO_SIGN_HMAC_SHA256
                   : alg == SMBX_CRYPTO_SIGN_DEFAULT
                       ? (uint16_t)SMBX_CRYPTO_SIGN_AES_CMAC
                       : alg;
    cc->server_secmode = rs.security_mode;
    (void)smbx__conn_set_dialect(cc->c, cc->dialect, cc->caps);
    cc->state = 2;
    e->hold = r->hold;
    e->u.negotiated.dialect = cc->dialect;
    e->u.negotiated.cipher = cipher;
    e->u.negotiated.signing_alg = cc->sign_alg;
    e->u.negotiated.security_mode = rs.security_mode;
    e->u.negotiated.capabilities = cc->caps;
    e->u.negotiated.max_transact_size = rs.max_transact_size;
    e->u.negotiated.max_read_size = rs.max_read_size;
    e->u.negotiated.max_write_size = rs.max_write_size;
    cc->max_read = rs.max_read_size;
    cc->max_write = rs.max_write_size;
    e->u.negotiated.blob = rs.security_buffer.p;
    e->u.negotiated.blob_len = rs.security_buffer.len;
    memcpy(e->u.negotiated.guid, rs.server_guid, 16);
    return;
  }
  (void)smbx__conn_release(cc->c, r->hold, cli->now);
}

static void on_session(cconn *cc, uint64_t shandle, int err,
                       const smbx__conn_pdu *r)
{
  smbx_client *cli = cc->cli;
  csess *cs = sess_get(cli, shandle);
  smbx_event *e = ev_push(cli, SMBX_EV_SESSION_SETUP, cc);
  if (!e || !cs) {
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  cs->inflight = false;
  e->u.session.session = shandle;
  e->u.session.dialect = cs->dialect;
  if (err) {
    e->u.session.err = err;
    e->u.session.session_id = cs->wire_id;
    sess_free(cli, cs);
    return;
  }
  uint32_t st = r->hdr.status;
  e->u.session.status = st;
  e->flags = ev_flags(r->flags);
  smbx_smb2_session_setup_resp rs;
  bool ok = (st == SMBX_STATUS_SUCCESS ||
             st == SMBX_STATUS_MORE_PROCESSING_REQUIRED) &&
            smbx_smb2_decode_session_setup_resp(r->data, r->len, &rs, NULL) ==
                0;
  if (!ok) {
    e->u.session.session_id = cs->wire_id;
    if (st == SMBX_STATUS_SUCCESS || st == SMBX_STATUS_MORE_PROCESSING_REQUIRED)
      e->u.session.err = SMBX_ERR_PROTO;
    (void)smbx__conn_release(cc->c, r->hold, cli->now);
    sess_free(cli, cs);
    return;
  }
  if (!cs->wire_id && r->hdr.session_id) {
    cs->wire_id = r->hdr.session_id;
    if (smbx__hash_insert_u64(&cli->sids, cs->wire_id, cs) != 0) {
      cs->wire_id = 0;
      e->u.session.err = SMBX_ERR_PROTO;
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
      sess_free(cli, cs);
      return;
    }
  }
  e->hold = r->hold;
  e->u.session.session_id = cs->wire_id;
  e->u.session.blob = rs.security_buffer.p;
  e->u.session.blob_len = rs.security_buffer.len;
  e->u.session.session_flags = rs.session_flags;
  if (st == SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    if (cs->dialect == SMBX_SMB2_DIALECT_311)
      (void)smbx__conn_preauth_update(cc->c, cs->preauth, r->data, r->len);
    return;
  }
  /* SUCCESS: keys from the key given so far; verify the signature */
  cs->flags = rs.session_flags;
  /* a guest fallback: the server did not check who this is */
  if ((cs->flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST) &&
      !(cli->s.flags & SMBX_CLIENT_ALLOW_GUEST)) {
    e->u.session.err = SMBX_ERR_AUTH;
    return;
  }
  bool anon = (cs->flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                            SMBX_SMB2_SESSION_FLAG_IS_NULL)) != 0;
  if (!cs->have_key && !anon) {
    cs->state = CS_NEEDKEY;
    return;
  }
  if (keyless_refused(cli, cs) || derive(cli, cc, cs) != 0) {
    e->u.session.err = SMBX_ERR_AUTH;
    return;
  }
  if (cs->have_keys && (r->hdr.flags & SMBX_SMB2_FLAGS_SIGNED) &&
      !(r->flags & SMBX__CONN_PDU_ENCRYPTED)) {
    if (smbx_smb2_verify(&cli->cr, cs->keys.keys.signing_alg,
                         cs->keys.keys.signing, r->data, r->len) != 0) {
      e->u.session.err = SMBX_ERR_AUTH;
      cs->have_keys = false;
      return;
    }
    e->flags |= SMBX_EVF_VERIFIED;
  } else if (cs->have_keys && cs->dialect == SMBX_SMB2_DIALECT_311) {
    /* 3.2.5.3.1: the final 3.1.1 response must be signed */
    e->u.session.err = SMBX_ERR_AUTH;
    cs->have_keys = false;
    return;
  }
  cs->state = CS_UP;
  push_session_up(cli, cc, cs);
}

/* A response to a binding leg (smbx_client_session_bind). */
static void on_bind(cconn *cc, uint64_t shandle, int err,
                    const smbx__conn_pdu *r)
{
  smbx_client *cli = cc->cli;
  csess *cs = sess_get(cli, shandle);
  cchan *ch = cs ? chan_find(cli, shandle, cc->handle) : NULL;
  smbx_event *e = ev_push(cli, SMBX_EV_SESSION_SETUP, cc);
  if (!e || !ch) {
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  ch->inflight = false;
  e->u.session.session = shandle;
  e->u.session.session_id = cs->wire_id;
  e->u.session.dialect = cs->dialect;
  e->u.session.req_flags = SMBX_SMB2_SESSION_FLAG_BINDING;
  smbx_smb2_session_setup_resp rs;
  uint32_t st = r ? r->hdr.status : 0;
  if (err || (st != SMBX_STATUS_SUCCESS &&
              st != SMBX_STATUS_MORE_PROCESSING_REQUIRED) ||
      smbx_smb2_decode_session_setup_resp(r->data, r->len, &rs, NULL) != 0) {
    e->u.session.err = err ? err : (st == 0 || st == SMBX_STATUS_MORE_PROCESSING_REQUIRED) ? SMBX_ERR_PROTO : 0;
    e->u.session.status = st;
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    chan_free(cli, ch);
    return;
  }
  e->u.session.status = st;
  if (rs.session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST) {
    /* 3.2.5.3.3 SHOULD: a guest answer to a binding is an invalid network
     * response (a guest has no key to sign the channel with) */
    e->u.session.err = SMBX_ERR_PROTO;
    (void)smbx__conn_release(cc->c, r->hold, cli->now);
    chan_free(cli, ch);
    return;
  }
  e->flags = ev_flags(r->flags);
  e->hold = r->hold;
  e->u.session.blob = rs.security_buffer.p;
  e->u.session.blob_len = rs.security_buffer.len;
  e->u.session.session_flags = rs.session_flags;
  if (st == SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    if (cs->dialect == SMBX_SMB2_DIALECT_311)
      (void)smbx__conn_preauth_update(cc->c, ch->preauth, r->data, r->len);
    return;
  }
  /* SUCCESS: the channel's signing key, from the binding's session key
   * (smbx_client_session_bind_key; else the session's) with
   * SMB2AESCMAC/SmbSign (3.0.x) or the channel's preauth hash (3.1.1) */
  ch->keys = cs->keys;
  smbx_smb2_keys k;
  const uint8_t *bk = ch->have_key ? ch->key : cs->key;
  size_t bk_len = ch->have_key ? ch->key_len : cs->key_len;
  if (!bk_len ||
      smbx_smb2_derive_keys(
          &cli->cr, cs->dialect, SMBX_CRYPTO_ROLE_CLIENT,
          cs->keys.keys.signing_alg, 0, bk, bk_len,
          cs->dialect == SMBX_SMB2_DIALECT_311 ? ch->preauth : NULL,
          &k) != 0) {
    e->u.session.err = SMBX_ERR_AUTH;
    chan_free(cli, ch);
    return;
  }
  memcpy(ch->keys.keys.signing, k.signing, sizeof k.signing);
  if (!(r->hdr.flags & SMBX_SMB2_FLAGS_SIGNED) ||
      smbx_smb2_verify(&cli->cr, ch->keys.keys.signing_alg,
                       ch->keys.keys.signing, r->data, r->len) != 0) {
    e->u.session.err = SMBX_ERR_AUTH;
    chan_free(cli, ch);
    return;
  }
  e->flags |= SMBX_EVF_VERIFIED;
  ch->state = CS_UP;
  smbx_event *u = ev_push_extra(cli, SMBX_EV_SESSION_UP, cc);
  if (!u)
    ev_lost(cc);
  if (u) {
    u->u.session.session = shandle;
    u->u.session.session_id = cs->wire_id;
    u->u.session.session_flags = cs->flags;
    u->u.session.dialect = cs->dialect;
    u->u.session.req_flags = SMBX_SMB2_SESSION_FLAG_BINDING;
  }
}

/* 3.2.5.5: a tree whose share asks for encryption is remembered so
 * every request on it is encrypted (past SMBX__CLI_ENC_TREES such trees,
 * every request of the session); 0, or SMBX_ERR_AUTH when the session
 * cannot encrypt (2.x, no cipher, guest or anonymous): its requests are
 * then refused locally, never sent in the clear. */
static int tree_encrypt(smbx_client *cli, uint64_t shandle,
                        const smbx__conn_pdu *r)
{
  smbx_smb2_tree_connect_resp tr;
  csess *cs = sess_get(cli, shandle);
  if (!cs || r->hdr.status != SMBX_STATUS_SUCCESS ||
      smbx_smb2_decode_tree_connect_resp(r->data, r->len, &tr, NULL) != 0 ||
      !(tr.share_flags & SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA))
    return 0;
  if (!tree_encrypts(cs, r->hdr.tree_id)) {
    if (cs->n_enc_trees == SMBX__CLI_ENC_TREES)
      cs->enc_any = true;
    else
      cs->enc_trees[cs->n_enc_trees++] = r->hdr.tree_id;
  }
  return smbx__cli_can_encrypt(cs) ? 0 : SMBX_ERR_AUTH;
}

static void on_tree(cconn *cc, uint64_t shandle, int err,
                    const smbx__conn_pdu *r)
{
  smbx_client *cli = cc->cli;
  int enc = r ? tree_encrypt(cli, shandle, r) : 0;
  smbx_event *e = ev_push(cli, SMBX_EV_TREE_CONNECT, cc);
  if (e) {
    e->u.tree.session = shandle;
    e->u.tree.err = err;
    if (r) {
      e->u.tree.status = r->hdr.status;
      e->u.tree.session_id = r->hdr.session_id;
      smbx_smb2_tree_connect_resp tr;
      if (r->hdr.status == SMBX_STATUS_SUCCESS) {
        if (smbx_smb2_decode_tree_connect_resp(r->data, r->len, &tr, NULL) ==
            0) {
          e->u.tree.tree_id = r->hdr.tree_id;
          e->u.tree.share_type = tr.share_type;
          e->u.tree.share_flags = tr.share_flags;
          e->u.tree.capabilities = tr.capabilities;
          e->u.tree.maximal_access = tr.maximal_access;
          if (!err)
            e->u.tree.err = enc;
        } else {
          e->u.tree.err = SMBX_ERR_PROTO;
        }
      }
    }
  }
  if (r)
    (void)smbx__conn_release(cc->c, r->hold, cli->now);
}

static void up_complete(void *ctx, uint64_t req, uint64_t user, int err,
                        const smbx__conn_pdu *r)
{
  cconn *cc = ctx;
  smbx_client *cli = cc->cli;
  cslot *sl = slot_live(cc, req);
  cslot s = {.kind = CK_REQ};
  /* a failover rebuild registers the caller's buffer anew: what it needs
   * is kept before the old registrations go */
  crdma_io io = {NULL, 0, false};
  /* its registrations go first, once, whatever the outcome (docs/rdma.md),
   * straight from the request's slot */
  uint32_t placed = 0, rdma_channel = 0;
  bool rdma = false;
  if (sl) {
    if (err && sl->io.bound)
      io = (crdma_io){sl->io.buf, sl->io.length, sl->io.read};
    rdma = smbx__cli_rdma_complete(cc->rdma, &sl->io, err ? NULL : r,
                                   &placed, &rdma_channel);
    s = *sl;
    sl->kind = CK_NONE; /* free: the next request there fills every field */
  }
  if (s.replay) {
    /* its channel died: resent on a surviving one, it completes there */
    bool resent = err && smbx__cli_failover(cc, &s, req, user, &io);
    smbx__cli_replay_drop(cli, s.replay);
    if (resent)
      return;
  }
  switch (s.kind) {
  case CK_NEG:
    on_negotiate(cc, err, r);
    return;
  case CK_SESS:
    on_session(cc, s.session, err, r);
    return;
  case CK_TREE:
    on_tree(cc, s.session, err, r);
    return;
  case CK_BIND:
    on_bind(cc, s.session, err, r);
    return;
  case CK_LOGOFF: {
    csess *cs = sess_get(cli, s.session);
    smbx_event *e = ev_push(cli, SMBX_EV_SESSION_DOWN, cc);
    if (e) {
      e->u.session.session = s.session;
      e->u.session.err = err;
      e->u.session.status = r ? r->hdr.status : 0;
      e->u.session.session_id = cs ? cs->wire_id : 0;
    }
    if (cs)
      sess_free(cli, cs);
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  default:
    break;
  }
  if (smbx__cli_lease_complete(cli, cli->leases, cc->handle, req, err, r))
    return; /* the lease table's own ack or close */
  /* a transfer's piece has its transfer's generation (never 0) in the
   * cookie's high half (xfer.c) */
  if ((user >> 32) != 0 &&
      smbx__cli_xfer_complete(cli, s.first_req ? s.first_conn : cc->handle,
                              s.first_req ? s.first_req : req, user, err, r,
                              rdma, placed)) {
    if (r) /* a transfer's piece: no RESPONSE event */
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  smbx_event *e = ev_push(cli, SMBX_EV_RESPONSE, cc);
  if (!e) {
    if (r)
      (void)smbx__conn_release(cc->c, r->hold, cli->now);
    return;
  }
  e->u.pdu.req = s.first_req ? s.first_req : req;
  e->u.pdu.first_conn = s.first_req ? s.first_conn : cc->handle;
  if (s.first_req)
    e->flags |= SMBX_EVF_REPLAYED;
  e->u.pdu.user = user;
  e->u.pdu.session = s.session;
  e->u.pdu.err = err;
  if (r) {
    e->hold = r->hold;
    e->flags |= ev_flags(r->flags);
    e->u.pdu.data = r->data;
    e->u.pdu.len = r->len;
    e->u.pdu.hdr = r->hdr;
    e->u.pdu.status = r->hdr.status;
    e->u.pdu.chain_index = r->chain_index;
  }
  if (rdma) {
    e->flags |= SMBX_EVF_RDMA;
    e->u.pdu.rdma_channel = rdma_channel;
    e->u.pdu.rdma_length = placed;
  }
  smbx__cli_lease_after_response(cli, cli->leases);
  smbx__cli_xfer_kick(cli);
}

static void up_interim(void *ctx, uint64_t req, uint64_t user,
                       const smbx__conn_pdu *r)
{
  cconn *cc = ctx;
  smbx_event *e = ev_push_extra(cc->cli, SMBX_EV_INTERIM, cc);
  (void)smbx__conn_release(cc->c, r->hold, cc->cli->now);
  if (!e) {
    ev_lost(cc);
    return;
  }
  const cslot *sl = slot_live(cc, req);
  if (sl && sl->first_req) {
    /* a failover replay: named as the host knows it */
    req = sl->first_req;
    e->flags |= SMBX_EVF_REPLAYED;
    e->u.pdu.first_conn = sl->first_conn;
  }
  e->u.pdu.req = req;
  e->u.pdu.user = user;
  e->u.pdu.async_id = r->hdr.async_id;
  e->u.pdu.hdr = r->hdr;
  e->u.pdu.status = r->hdr.status;
}

static void up_notify(void *ctx, const smbx__conn_pdu *r)
{
  cconn *cc = ctx;
  if (smbx__cli_lease_notify(cc->cli, cc->cli->leases, cc->handle,
                             cc->dialect, r))
    return;
  smbx_event *e = ev_push_extra(cc->cli, SMBX_EV_BREAK, cc);
  if (!e) {
    (void)smbx__conn_release(cc->c, r->hold, cc->cli->now);
    ev_lost(cc);
    return;
  }
  e->hold = r->hold;
  e->flags = ev_flags(r->flags);
  e->u.pdu.data = r->data;
  e->u.pdu.len = r->len;
  e->u.pdu.hdr = r->hdr;
}

static void up_writable(void *ctx)
{
  cconn *cc = ctx;
  smbx__cli_xfer_writable(cc->cli);
  if (!ev_push_extra(cc->cli, SMBX_EV_WRITABLE, cc))
    ev_lost(cc);
}

static int up_send(void *ctx, const uint8_t *p, size_t len)
{
  cconn *cc = ctx;
  return cc->tcp.send(cc->tcp.user_data, cc->handle, p, len);
}

static int up_keys(void *ctx, uint64_t sid, smbx__conn_keys *out)
{
  cconn *cc = ctx;
  smbx_client *cli = cc->cli;
  csess *cs = smbx__hash_get_u64(&cli->sids, sid);
  if (!cs || cs->state != CS_UP || !cs->have_keys)
    return SMBX_ERR_NOTFOUND;
  if (cs->conn == cc->handle) {
    *out = cs->keys;
    return 0;
  }
  if (cli->binding == cs) {
    /* a binding leg: signed with the session's key, never encrypted */
    memset(out, 0, sizeof *out);
    out->flags = SMBX__CONN_KEYS_SIGNING;
    out->keys = cs->keys.keys;
    return 0;
  }
  const cchan *ch =
      chan_find(cli, smbx__slab_handle(&cli->sessions, cs), cc->handle);
  if (!ch || ch->state != CS_UP)
    return SMBX_ERR_NOTFOUND;
  *out = ch->keys;
  return 0;
}

static void up_smbd(void *ctx, const smbx_smbd_event *ev)
{
  cconn *cc = ctx;
  if (ev->type == SMBX_SMBD_EV_NEGOTIATED) {
    if (!ev_push_extra(cc->cli, SMBX_EV_CONN_UP, cc))
      ev_lost(cc);
    return;
  }
  smbx_event *e = ev_push_extra(cc->cli, SMBX_EV_SMBD, cc);
  if (!e) {
    ev_lost(cc);
    return;
  }
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

static void up_down(void *ctx, int err, uint32_t ntstatus, const char *reason)
{
  cconn *cc = ctx;
  smbx_client *cli = cc->cli;
  smbx__cli_lease_conn_down(cli, cli->leases, cc->handle);
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->chans); i++) {
    cchan *ch = smbx__slab_at(&cli->chans, i);
    if (ch && ch->conn == cc->handle)
      chan_free(cli, ch);
  }
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->sessions); i++) {
    csess *cs = smbx__slab_at(&cli->sessions, i);
    if (!cs || cs->conn != cc->handle)
      continue;
    /* a session with another bound channel moves there */
    uint64_t sh = smbx__slab_handle(&cli->sessions, cs);
    cchan *next = chan_find(cli, sh, 0);
    if (next && next->state == CS_UP && cs->state == CS_UP) {
      cs->conn = next->conn;
      cs->keys = next->keys;
      chan_free(cli, next);
      continue;
    }
    {
      if (cs->state == CS_UP) {
        smbx_event *e = ev_push(cli, SMBX_EV_SESSION_DOWN, cc);
        if (e) {
          e->u.session.session = smbx__slab_handle(&cli->sessions, cs);
          e->u.session.session_id = cs->wire_id;
          e->u.session.err = err ? err : SMBX_ERR_CLOSED;
        }
      }
      sess_free(cli, cs);
    }
  }
  smbx__cli_xfer_conn_down(cli, err ? err : SMBX_ERR_CLOSED);
  smbx_event *e = ev_push(cli, SMBX_EV_CONN_DOWN, cc);
  if (e) {
    e->u.down.err = err;
    e->u.down.ntstatus = ntstatus;
    e->u.down.reason = reason;
  }
}

/* ---- life cycle ------------------------------------------------------------------ */

int smbx_client_new(smbx_client **out, const smbx_client_settings *s,
                    const smbx_crypto *cr, const smbx_allocator *a,
                    uint64_t now_ns)
{
  if (!out)
    return SMBX_ERR_INVAL;
  smbx_client_settings st;
  smbx_client_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  if (!(st.dialects & SMBX_DIALECT_MASK_ALL) || st.max_io < 65536 ||
      st.max_io > 8u << 20 || st.credit_target == 0 ||
      st.credit_target > 8192 || st.max_requests == 0 ||
      st.max_requests > (1u << 20) || st.max_connections == 0 ||
      st.max_connections > 4096 || st.max_sessions == 0 ||
      st.max_sessions > 65536)
    return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx_client *cli = SMBX__NEW(&al, smbx_client);
  if (!cli)
    return SMBX_ERR_NOMEM;
  cli->alloc = al;
  cli->s = st;
  cli->now = now_ns;
  if (cr) {
    if (smbx__smb2_crypto_copy(&cli->cr, cr) != 0) {
      SMBX__DELETE(&al, cli, smbx_client);
      return SMBX_ERR_INVAL;
    }
    cli->have_cr = true;
    if (cli->cr.random)
      (void)cli->cr.random(cli->cr.user_data, (uint8_t *)&cli->seed,
                           sizeof cli->seed);
  }
  /* signing cannot be required without a MAC hook (the copy honours the
   * table's struct_size) */
  if ((st.flags & (SMBX_CLIENT_SIGNING_REQUIRED | SMBX_CLIENT_ENCRYPT)) &&
      !cli->cr.mac) {
    SMBX__DELETE(&al, cli, smbx_client);
    return SMBX_ERR_INVAL;
  }
  cli->sbuf_cap = SMBX__CONN_HEADROOM + st.max_io + 65536;
  if (SMBX__SLAB_INIT(&cli->conns, &cli->alloc, cconn, st.max_connections) ||
      SMBX__SLAB_INIT(&cli->sessions, &cli->alloc, csess, st.max_sessions) ||
      SMBX__SLAB_INIT(&cli->chans, &cli->alloc, cchan, st.max_sessions) ||
      smbx__hash_init(&cli->sids, &cli->alloc, 8,
                      smbx__hash_cap_for(st.max_sessions), cli->seed) ||
      SMBX__RING_INIT(&cli->evq, &cli->alloc, smbx_event, 64))
    goto nomem;
  cli->sbuf = smbx__alloc(&cli->alloc, cli->sbuf_cap, 8);
  if (!cli->sbuf)
    goto nomem;
  *out = cli;
  return 0;
nomem:
  smbx_client_free(cli);
  return SMBX_ERR_NOMEM;
}

static void conn_destroy(smbx_client *cli, cconn *cc)
{
  smbx__cli_rdma_free(cc->rdma);
  smbx__conn_free(cc->c);
  if (cc->slots)
    smbx__free(&cli->alloc, cc->slots, sizeof(cslot) * cc->n_slots,
               _Alignof(cslot));
  memset(cc, 0, sizeof *cc);
  (void)smbx__slab_put(&cli->conns, cc);
}

void smbx_client_free(smbx_client *cli)
{
  if (!cli)
    return;
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->conns); i++) {
    cconn *cc = smbx__slab_at(&cli->conns, i);
    if (cc)
      conn_destroy(cli, cc);
  }
  smbx__slab_free(&cli->conns);
  smbx__slab_free(&cli->sessions);
  smbx__slab_free(&cli->chans);
  smbx__hash_free(&cli->sids);
  smbx__ring_free(&cli->evq);
  smbx__cli_leases_free(cli, cli->leases);
  smbx__cli_xfers_free(cli, cli->xfers);
  smbx__cli_replay_free(cli);
  if (cli->sbuf)
    smbx__free(&cli->alloc, cli->sbuf, cli->sbuf_cap, 8);
  smbx_allocator al = cli->alloc;
  SMBX__DELETE(&al, cli, smbx_client);
}

static int conn_prepare(smbx_client *cli, cconn **out, smbx__conn_settings *cs,
                        smbx__conn_upcalls *up)
{
  if (!ev_room(cli, 1)) /* room for this connection's CONN_DOWN */
    return SMBX_ERR_NOMEM;
  cconn *cc = smbx__slab_get_zeroed(&cli->conns);
  if (!cc)
    return SMBX_ERR_LIMIT;
  cc->cli = cli;
  cc->handle = smbx__slab_handle(&cli->conns, cc);
  cc->n_slots = cli->s.max_requests;
  cc->slots = smbx__calloc(&cli->alloc, cc->n_slots, sizeof(cslot),
                           _Alignof(cslot));
  if (!cc->slots) {
    memset(cc, 0, sizeof *cc);
    (void)smbx__slab_put(&cli->conns, cc);
    return SMBX_ERR_NOMEM;
  }
  smbx__conn_settings_default(cs, SMBX__CONN_CLIENT);
  cs->max_requests = cli->s.max_requests;
  cs->credit_target = cli->s.credit_target;
  cs->max_msg = cli->s.max_io + 65536 + SMBX_SMB2_TRANSFORM_HDR_SIZE;
  cs->request_timeout_ns = cli->s.request_timeout_ns;
  cs->hash_seed = cli->seed;
  if (cli->s.flags & SMBX_CLIENT_TIMEOUT_FATAL)
    cs->flags |= SMBX__CONN_F_TIMEOUT_FATAL;
  memset(up, 0, sizeof *up);
  up->ctx = cc;
  up->send = up_send;
  up->complete = up_complete;
  up->interim = up_interim;
  up->notify = up_notify;
  up->writable = up_writable;
  up->keys = up_keys;
  up->smbd_event = up_smbd;
  up->down = up_down;
  *out = cc;
  return 0;
}

static void conn_unprepare(smbx_client *cli, cconn *cc)
{
  cc->c = NULL;
  conn_destroy(cli, cc);
}

int smbx_client_add_tcp(smbx_client *cli, const smbx_tcp_hooks *h,
                        uint64_t now_ns, uint64_t *conn)
{
  if (!cli || !h || !conn)
    return SMBX_ERR_INVAL;
  smbx_tcp_hooks hk;
  if (smbx__conn_tcp_hooks_copy(&hk, h))
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  cconn *cc;
  smbx__conn_settings cs;
  smbx__conn_upcalls up;
  int rc = conn_prepare(cli, &cc, &cs, &up);
  if (rc)
    return rc;
  cc->tcp = hk;
  rc = smbx__conn_new_tcp(&cc->c, &cs, &up, cli->have_cr ? &cli->cr : NULL,
                          &cli->alloc, now_ns);
  if (rc) {
    conn_unprepare(cli, cc);
    return rc;
  }
  *conn = cc->handle;
  return 0;
}

int smbx_client_add_smbd(smbx_client *cli, const smbx_smbd_settings *ss,
                         const smbx_transport *t,
                         const smbx_smbd_recv_buf *bufs, size_t n,
                         uint64_t now_ns, uint64_t *conn)
{
  if (!cli || !t || !conn)
    return SMBX_ERR_INVAL;
  smbx_smbd_settings st;
  if (smbx__conn_smbd_settings_copy(&st, ss, SMBX_SMBD_ROLE_ACTIVE))
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  cconn *cc;
  smbx__conn_settings cs;
  smbx__conn_upcalls up;
  int rc = conn_prepare(cli, &cc, &cs, &up);
  if (rc)
    return rc;
  cc->smbd = true;
  rc = smbx__conn_new_smbd_engine(&cc->c, &cs, &up,
                                  cli->have_cr ? &cli->cr : NULL, &st, t, bufs,
                                  n, &cli->alloc, now_ns);
  if (rc) {
    conn_unprepare(cli, cc);
    return rc;
  }
  rc = smbx__cli_rdma_new(&cc->rdma, t, &cli->s, &cli->alloc);
  if (rc) {
    conn_destroy(cli, cc);
    return rc;
  }
  *conn = cc->handle;
  return 0;
}

/* ---- transport input ------------------------------------------------------------- */

smbx_ssize smbx_client_tcp_feed(smbx_client *cli, uint64_t conn,
                                uint8_t *bytes, size_t len, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cli || (!bytes && len))
    return SMBX_ERR_INVAL;
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  cli->now = now_ns;
  size_t used = 0;
  int rc = smbx__conn_tcp_feed(cc->c, bytes, len, &used, now_ns);
  if (rc < 0 && rc != SMBX_ERR_AGAIN)
    return rc;
  return (smbx_ssize)used;
}

int smbx_client_recv(smbx_client *cli, uint64_t conn, const smbx_wc *wc,
                     uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  return smbx__conn_smbd_recv(cc->c, wc, now_ns);
}

int smbx_client_send_done(smbx_client *cli, uint64_t conn, const smbx_wc *wc,
                          uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  return smbx__conn_smbd_send_done(cc->c, wc, now_ns);
}

int smbx_client_cm_event(smbx_client *cli, uint64_t conn, uint32_t event,
                         uint32_t ird, uint32_t ord, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  return smbx__conn_smbd_cm_event(cc->c, event, ird, ord, now_ns);
}

int smbx_client_release(smbx_client *cli, uint64_t conn, uint64_t hold,
                        uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  return smbx__conn_release(cc->c, hold, now_ns);
}

/* ---- sending ------------------------------------------------------------------- */

/* Sends the message at sbuf + HEADROOM and records its slots. A request
 * on a tree whose share asked for encryption goes encrypted, or not at
 * all (SMBX_ERR_AUTH) when the session cannot encrypt (3.2.4.1.8). */
static int send_msg_cs(cconn *cc, csess *cs, size_t len,
                       const smbx__conn_send_opts *o, uint64_t user,
                       uint8_t kind, uint64_t session, uint64_t *reqs,
                       size_t n)
{
  smbx_client *cli = cc->cli;
  uint64_t one;
  uint64_t *r = reqs ? reqs : &one;
  const uint8_t *pdu = out_pdu(cli);
  uint32_t tid = len >= SMBX_SMB2_HDR_SIZE ? smbx__get_le32(pdu + 36) : 0;
  uint16_t cmd = len >= SMBX_SMB2_HDR_SIZE ? smbx__get_le16(pdu + 12) : 0;
  smbx__conn_send_opts eo;
  if (cs && (cs->n_enc_trees || cs->enc_any) && tree_encrypts(cs, tid)) {
    if (!smbx__cli_can_encrypt(cs))
      return SMBX_ERR_AUTH;
    if (o)
      eo = *o;
    else
      memset(&eo, 0, sizeof eo);
    eo.flags |= SMBX__CONN_SEND_ENCRYPT;
    o = &eo;
  }
  /* multichannel: ChannelSequence, and a copy kept for failover */
  /* room for the completions (events owed) of this message */
  if (!ev_room(cli, reqs ? n : 1))
    return SMBX_ERR_NOMEM;
  uint32_t keep = smbx__cli_before_send(cc, cs, session, len);
  int rc = smbx__conn_send(cc->c, cli->sbuf, cli->sbuf_cap, len, o, user, r,
                           reqs ? n : 1, cli->now);
  if (rc < 0) {
    smbx__cli_replay_drop(cli, keep);
    return rc;
  }
  if (cs && cmd == SMBX_SMB2_TREE_DISCONNECT)
    tree_forget(cs, tid);
  for (int i = 0; i < rc; i++) {
    uint32_t ix = (uint32_t)r[i];
    if (ix < cc->n_slots) {
      if (cc->slots[ix].io.bound) /* a stale record: never leak it */
        smbx__cli_rdma_unprepare(cc->rdma, &cc->slots[ix].io.chain);
      memset(&cc->slots[ix], 0, sizeof cc->slots[ix]);
      cc->slots[ix].req = r[i];
      cc->slots[ix].session = session;
      cc->slots[ix].kind = kind;
      cc->slots[ix].replay = keep;
    }
  }
  return 0;
}

/* send_msg_cs for session handle `session` (0: none). */
static int send_msg(cconn *cc, size_t len, const smbx__conn_send_opts *o,
                    uint64_t user, uint8_t kind, uint64_t session,
                    uint64_t *reqs, size_t n)
{
  return send_msg_cs(cc, sess_get(cc->cli, session), len, o, user, kind,
                     session, reqs, n);
}

static void req_hdr(smbx_smb2_hdr *h, uint16_t cmd, uint64_t sid,
                    uint32_t tid)
{
  memset(h, 0, sizeof *h);
  h->command = cmd;
  h->session_id = sid;
  h->tree_id = tid;
}

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* Builds one negotiate context from in into data and appends it to cx
 * (with no data when building fails). */
static void add_neg_ctx(smbx_smb2_neg_ctx *cx, size_t *ncx,
                        const smbx_smb2_neg_ctx_info *in, uint8_t *data,
                        size_t cap)
{
  smbx_ssize k = smbx_smb2_neg_ctx_build(in, data, cap, NULL);
  cx[*ncx].type = in->type;
  cx[*ncx].reserved = 0;
  cx[*ncx].data.p = data;
  cx[*ncx].data.len = k > 0 ? (size_t)k : 0;
  (*ncx)++;
}

int smbx_client_negotiate(smbx_client *cli, uint64_t conn, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (cc->state)
    return SMBX_ERR_STATE;
  cli->now = now_ns;
  uint32_t m = cli->s.dialects;
  if (!cli->have_cr || !cli->cr.sha512 || !cli->cr.kdf)
    m &= ~SMBX_DIALECT_MASK_311;
  static const uint16_t all[5] = {
      SMBX_SMB2_DIALECT_202, SMBX_SMB2_DIALECT_210, SMBX_SMB2_DIALECT_300,
      SMBX_SMB2_DIALECT_302, SMBX_SMB2_DIALECT_311};
  uint8_t dl[10];
  size_t nd = 0;
  bool has311 = false;
  for (unsigned i = 0; i < 5; i++)
    if (m & (1u << i)) {
      put16(dl + 2 * nd++, all[i]);
      has311 = all[i] == SMBX_SMB2_DIALECT_311;
    }
  if (!nd)
    return SMBX_ERR_UNSUPPORTED;
  smbx_smb2_negotiate_req nr;
  memset(&nr, 0, sizeof nr);
  nr.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  if (cli->s.flags & SMBX_CLIENT_SIGNING_REQUIRED)
    nr.security_mode |= SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED;
  nr.capabilities = cli->s.capabilities;
  memcpy(nr.client_guid, cli->s.client_guid, 16);
  nr.dialects.p = dl;
  nr.dialects.len = 2 * nd;
  uint8_t ctxbuf[192];
  if (has311) {
    uint8_t salt[32], pa_id[2], cids[8], sids[6], data[3][64];
    memset(salt, 0, sizeof salt);
    if (cli->cr.random)
      (void)cli->cr.random(cli->cr.user_data, salt, sizeof salt);
    static const uint16_t corder[4] = {
        SMBX_CRYPTO_CIPHER_AES128_GCM, SMBX_CRYPTO_CIPHER_AES128_CCM,
        SMBX_CRYPTO_CIPHER_AES256_GCM, SMBX_CRYPTO_CIPHER_AES256_CCM};
    static const uint16_t sorder[3] = {SMBX_CRYPTO_SIGN_AES_GMAC,
                                       SMBX_CRYPTO_SIGN_AES_CMAC,
                                       SMBX_CRYPTO_SIGN_HMAC_SHA256};
    uint16_t nc = 0, ns = 0;
    for (unsigned i = 0; i < 4; i++)
      if ((cli->s.ciphers & (1u << corder[i])) && cli->cr.aead_encrypt &&
          cli->cr.aead_decrypt)
        put16(cids + 2 * nc++, corder[i]);
    for (unsigned i = 0; i < 3; i++)
      if (cli->s.signing_algs & (1u << sorder[i]))
        put16(sids + 2 * ns++, sorder[i]);
    smbx_smb2_neg_ctx cx[3];
    size_t ncx = 0;
    smbx_smb2_neg_ctx_info in;
    memset(&in, 0, sizeof in);
    in.type = SMBX_SMB2_NEG_CTX_PREAUTH;
    in.count = 1;
    put16(pa_id, SMBX_SMB2_HASH_SHA512);
    in.ids.p = pa_id;
    in.ids.len = 2;
    in.salt.p = salt;
    in.salt.len = sizeof salt;
    add_neg_ctx(cx, &ncx, &in, data[0], sizeof data[0]);
    if (nc) {
      memset(&in, 0, sizeof in);
      in.type = SMBX_SMB2_NEG_CTX_ENCRYPTION;
      in.count = nc;
      in.ids.p = cids;
      in.ids.len = 2u * nc;
      add_neg_ctx(cx, &ncx, &in, data[1], sizeof data[1]);
    }
    if (ns) {
      memset(&in, 0, sizeof in);
      in.type = SMBX_SMB2_NEG_CTX_SIGNING;
      in.count = ns;
      in.ids.p = sids;
      in.ids.len = 2u * ns;
      add_neg_ctx(cx, &ncx, &in, data[2], sizeof data[2]);
    }
    smbx_ssize cl = smbx_smb2_neg_ctx_list_encode(cx, ncx, ctxbuf,
                                                  sizeof ctxbuf, NULL);
    if (cl < 0)
      return (int)cl;
    nr.neg_ctx_count = (uint16_t)ncx;
    nr.neg_ctx.p = ctxbuf;
    nr.neg_ctx.len = (size_t)cl;
  }
  smbx_smb2_hdr h;
  req_hdr(&h, SMBX_SMB2_NEGOTIATE, 0, 0);
  smbx_ssize n = smbx_smb2_encode_negotiate_req(&h, &nr, out_pdu(cli),
                                                out_cap(cli), NULL);
  if (n < 0)
    return (int)n;
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  o.flags = SMBX__CONN_SEND_NO_SIGN | SMBX__CONN_SEND_NO_ENCRYPT;
  int rc = send_msg(cc, (size_t)n, &o, 0, CK_NEG, 0, NULL, 0);
  if (rc == 0)
    cc->state = 1;
  return rc;
}

int smbx_client_session_setup(smbx_client *cli, uint64_t conn,
                              uint64_t *session, const uint8_t *blob,
                              size_t len, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cli || !session || (!blob && len))
    return SMBX_ERR_INVAL;
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  if (cc->state != 2)
    return SMBX_ERR_STATE;
  if (len > 65535)
    return SMBX_ERR_RANGE;
  cli->now = now_ns;
  csess *cs;
  bool fresh = false;
  if (*session == 0) {
    cs = smbx__slab_get_zeroed(&cli->sessions);
    if (!cs)
      return SMBX_ERR_LIMIT;
    cli->ev_spare = 0; /* its SESSION_DOWN: ev_room walks again */
    fresh = true;
    cs->conn = conn;
    cs->dialect = cc->dialect;
    cs->state = CS_PENDING;
    if (cc->dialect == SMBX_SMB2_DIALECT_311 &&
        smbx__conn_preauth(cc->c, cs->preauth) != 0)
      smbx_smb2_preauth_init(cs->preauth);
  } else {
    cs = sess_get(cli, *session);
    if (!cs || cs->conn != conn)
      return SMBX_ERR_NOTFOUND;
    if (cs->state != CS_PENDING || cs->inflight)
      return SMBX_ERR_STATE;
  }
  smbx_smb2_hdr h;
  req_hdr(&h, SMBX_SMB2_SESSION_SETUP, cs->wire_id, 0);
  smbx_smb2_session_setup_req r;
  memset(&r, 0, sizeof r);
  r.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  if (cli->s.flags & SMBX_CLIENT_SIGNING_REQUIRED)
    r.security_mode |= SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED;
  r.capabilities = cli->s.capabilities & SMBX_SMB2_CAP_DFS;
  r.security_buffer.p = blob;
  r.security_buffer.len = len;
  smbx_ssize n = smbx_smb2_encode_session_setup_req(&h, &r, out_pdu(cli),
                                                    out_cap(cli), NULL);
  uint64_t sh = smbx__slab_handle(&cli->sessions, cs);
  int rc = (int)n;
  if (n >= 0) {
    smbx__conn_send_opts o;
    memset(&o, 0, sizeof o);
    o.flags = SMBX__CONN_SEND_NO_ENCRYPT;
    if (cs->dialect == SMBX_SMB2_DIALECT_311)
      o.preauth = cs->preauth;
    rc = send_msg(cc, (size_t)n, &o, 0, CK_SESS, sh, NULL, 0);
  }
  if (rc < 0) {
    if (fresh)
      sess_free(cli, cs);
    return rc;
  }
  cs->inflight = true;
  *session = sh;
  return 0;
}

int smbx_client_session_bind(smbx_client *cli, uint64_t conn,
                             uint64_t session, const uint8_t *blob,
                             size_t len, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cli || (!blob && len))
    return SMBX_ERR_INVAL;
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  csess *cs = sess_get(cli, session);
  if (!cs)
    return SMBX_ERR_NOTFOUND;
  if (len > 65535)
    return SMBX_ERR_RANGE;
  if (cc->state != 2 || cs->state != CS_UP || !cs->have_keys ||
      cs->conn == conn || cc->dialect != cs->dialect ||
      cs->dialect < SMBX_SMB2_DIALECT_300)
    return SMBX_ERR_STATE;
  cli->now = now_ns;
  int arc = smbx__cli_replay_init(cli);
  if (arc)
    return arc;
  cchan *ch = chan_find(cli, session, conn);
  bool fresh = false;
  if (ch && (ch->state == CS_UP || ch->inflight))
    return SMBX_ERR_STATE;
  if (!ch) {
    ch = smbx__slab_get_zeroed(&cli->chans);
    if (!ch)
      return SMBX_ERR_LIMIT;
    fresh = true;
    ch->session = session;
    ch->conn = conn;
    ch->state = CS_PENDING;
    if (cs->dialect == SMBX_SMB2_DIALECT_311 &&
        smbx__conn_preauth(cc->c, ch->preauth) != 0)
      smbx_smb2_preauth_init(ch->preauth);
  }
  smbx_smb2_hdr h;
  req_hdr(&h, SMBX_SMB2_SESSION_SETUP, cs->wire_id, 0);
  smbx_smb2_session_setup_req r;
  memset(&r, 0, sizeof r);
  r.flags = SMBX_SMB2_SESSION_FLAG_BINDING;
  r.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  if (cli->s.flags & SMBX_CLIENT_SIGNING_REQUIRED)
    r.security_mode |= SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED;
  r.security_buffer.p = blob;
  r.security_buffer.len = len;
  smbx_ssize n = smbx_smb2_encode_session_setup_req(&h, &r, out_pdu(cli),
                                                    out_cap(cli), NULL);
  int rc = (int)n;
  if (n >= 0) {
    smbx__conn_send_opts o;
    memset(&o, 0, sizeof o);
    o.flags = SMBX__CONN_SEND_SIGN | SMBX__CONN_SEND_NO_ENCRYPT;
    if (cs->dialect == SMBX_SMB2_DIALECT_311)
      o.preauth = ch->preauth;
    cli->binding = cs;
    rc = send_msg(cc, (size_t)n, &o, 0, CK_BIND, session, NULL, 0);
    cli->binding = NULL;
  }
  if (rc < 0) {
    if (fresh)
      chan_free(cli, ch);
    return rc;
  }
  ch->inflight = true;
  return 0;
}

int smbx_client_session_key(smbx_client *cli, uint64_t session,
                            const uint8_t *key, size_t len, uint64_t now_ns)
{
  if (!cli || (!key && len) || len > 64)
    return SMBX_ERR_INVAL;
  csess *cs = sess_get(cli, session);
  if (!cs)
    return SMBX_ERR_NOTFOUND;
  if (cs->have_key && cs->state == CS_UP)
    return SMBX_ERR_STATE;
  cli->now = now_ns;
  if (len)
    memcpy(cs->key, key, len);
  cs->key_len = len; /* 0: the session has no key */
  cs->have_key = true;
  if (cs->state == CS_NEEDKEY) {
    cconn *cc = conn_get(cli, cs->conn);
    if (keyless_refused(cli, cs)) {
      cs->have_key = false;
      return SMBX_ERR_AUTH;
    }
    int rc = derive(cli, cc, cs);
    if (rc)
      return rc;
    cs->state = CS_UP;
    push_session_up(cli, cc, cs);
  }
  return 0;
}

/* Header + gathered body at sbuf + HEADROOM; returns the PDU length. */
static smbx_ssize build(smbx_client *cli, const smbx_smb2_hdr *h,
                        const smbx_iov *iov, size_t n, size_t at)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (!iov[i].base && iov[i].len)
      return SMBX_ERR_INVAL;
    total += iov[i].len;
    if (total > out_cap(cli))
      return SMBX_ERR_RANGE;
  }
  if (at > out_cap(cli) || out_cap(cli) - at < SMBX_SMB2_HDR_SIZE + total)
    return SMBX_ERR_RANGE;
  uint8_t *p = out_pdu(cli) + at;
  (void)smbx_smb2_hdr_encode(h, p, SMBX_SMB2_HDR_SIZE, NULL);
  size_t off = SMBX_SMB2_HDR_SIZE;
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len)
      memcpy(p + off, iov[i].base, iov[i].len);
    off += iov[i].len;
  }
  return (smbx_ssize)off;
}

/* Common checks; *sid gets the wire SessionId. */
static inline int prep(smbx_client *cli, uint64_t conn, uint64_t session,
                       cconn **ccp, csess **csp, uint64_t *sid)
{
  /* conn 0: the session's least loaded channel */
  if (cli && conn == 0 && session &&
      (conn = smbx__cli_pick(cli, session)) == 0)
    return sess_get(cli, session) ? SMBX_ERR_STATE : SMBX_ERR_NOTFOUND;
  cconn *cc = conn_get(cli, conn);
  if (!cli)
    return SMBX_ERR_INVAL;
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  if (cc->state != 2)
    return SMBX_ERR_STATE;
  *sid = 0;
  *csp = NULL;
  if (session) {
    csess *cs = sess_get(cli, session);
    if (!cs)
      return SMBX_ERR_NOTFOUND;
    if (cs->state != CS_UP)
      return SMBX_ERR_STATE;
    if (cs->conn != conn) {
      const cchan *ch = chan_find(cli, session, conn);
      if (!ch || ch->state != CS_UP)
        return SMBX_ERR_STATE;
    }
    *sid = cs->wire_id;
    *csp = cs;
  }
  *ccp = cc;
  return 0;
}

int smbx_client_request_iov(smbx_client *cli, uint64_t conn, uint64_t session,
                            uint32_t tree_id, uint16_t command,
                            const smbx_iov *iov, size_t n, uint64_t user,
                            uint64_t now_ns, uint64_t *req)
{
  cconn *cc;
  csess *cs;
  uint64_t sid;
  int rc = prep(cli, conn, session, &cc, &cs, &sid);
  if (rc)
    return rc;
  if ((!iov && n) || command >= SMBX_SMB2_COMMAND_COUNT ||
      command == SMBX_SMB2_NEGOTIATE || command == SMBX_SMB2_SESSION_SETUP ||
      command == SMBX_SMB2_CANCEL)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  smbx_smb2_hdr h;
  req_hdr(&h, command, sid, tree_id);
  smbx_ssize len = build(cli, &h, iov, n, 0);
  if (len < 0)
    return (int)len;
  uint64_t r = 0;
  rc = send_msg(cc, (size_t)len, NULL, user, CK_REQ, session, &r, 1);
  if (rc == 0 && req)
    *req = r;
  return rc;
}

int smbx_client_request(smbx_client *cli, uint64_t conn, uint64_t session,
                        uint32_t tree_id, uint16_t command,
                        const uint8_t *body, size_t len, uint64_t user,
                        uint64_t now_ns, uint64_t *req)
{
  smbx_iov v = {body, len};
  return smbx_client_request_iov(cli, conn, session, tree_id, command, &v, 1,
                                 user, now_ns, req);
}

int smbx_client_compound(smbx_client *cli, uint64_t conn, uint64_t session,
                         uint32_t tree_id, const smbx_client_op *ops,
                         size_t n, int related, uint64_t user,
                         uint64_t now_ns, uint64_t *reqs)
{
  cconn *cc;
  csess *cs;
  uint64_t sid;
  int rc = prep(cli, conn, session, &cc, &cs, &sid);
  if (rc)
    return rc;
  if (!ops || n == 0 || n > SMBX_SMB2_CHAIN_MAX_DEFAULT)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    if (ops[i].command >= SMBX_SMB2_COMMAND_COUNT ||
        ops[i].command == SMBX_SMB2_NEGOTIATE ||
        ops[i].command == SMBX_SMB2_SESSION_SETUP ||
        ops[i].command == SMBX_SMB2_CANCEL)
      return SMBX_ERR_INVAL;
    smbx_smb2_hdr h;
    req_hdr(&h, ops[i].command, sid, tree_id);
    if (related && i > 0) {
      h.flags = SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
      h.session_id = SMBX_SMB2_SESSION_ID_INHERIT;
      h.tree_id = SMBX_SMB2_TREE_ID_INHERIT;
    }
    smbx_iov v = {ops[i].body, ops[i].len};
    smbx_ssize k = build(cli, &h, &v, 1, at);
    if (k < 0)
      return (int)k;
    if (i + 1 < n) {
      k = smbx_smb2_chain_link(out_pdu(cli) + at, (size_t)k,
                               out_cap(cli) - at);
      if (k < 0)
        return SMBX_ERR_RANGE;
    }
    at += (size_t)k;
  }
  uint64_t local[SMBX_SMB2_CHAIN_MAX_DEFAULT];
  rc = send_msg(cc, at, NULL, user, CK_REQ, session, local, n);
  if (rc == 0 && reqs)
    memcpy(reqs, local, n * sizeof *reqs);
  return rc;
}

/* After a codec encoder wrote n bytes at sbuf + HEADROOM: append extra
 * bytes (WRITE data) and send. */
static int send_built(smbx_client *cli, cconn *cc, uint64_t session,
                      smbx_ssize n, const uint8_t *extra, size_t extra_len,
                      uint64_t user, uint64_t *req)
{
  if (n < 0)
    return n == SMBX_ERR_NOBUF ? SMBX_ERR_RANGE : (int)n;
  size_t len = (size_t)n;
  if (extra_len) {
    if (out_cap(cli) - len < extra_len)
      return SMBX_ERR_RANGE;
    memcpy(out_pdu(cli) + len, extra, extra_len);
    len += extra_len;
  }
  uint64_t r = 0;
  int rc = send_msg(cc, len, NULL, user, CK_REQ, session, &r, 1);
  if (rc == 0 && req)
    *req = r;
  return rc;
}

/* Encodes with a codec encoder at sbuf + HEADROOM, then sends. */
#define ENCODE_AND_SEND(enc, in, extra_p, extra_len)                          \
  do {                                                                        \
    cconn *cc_;                                                               \
    csess *cs_;                                                               \
    uint64_t sid_;                                                            \
    int rc_ = prep(cli, conn, session, &cc_, &cs_, &sid_);                    \
    if (rc_)                                                                  \
      return rc_;                                                             \
    cli->now = now_ns;                                                        \
    smbx_smb2_hdr h_;                                                         \
    req_hdr(&h_, cmd_, sid_, tree_id);                                        \
    smbx_ssize n_ = enc(&h_, in, out_pdu(cli), out_cap(cli), NULL);           \
    return send_built(cli, cc_, session, n_, extra_p, extra_len, 0, req);     \
  } while (0)

int smbx_client_create(smbx_client *cli, uint64_t conn, uint64_t session,
                       uint32_t tree_id, const smbx_smb2_create_req *in,
                       uint64_t now_ns, uint64_t *req)
{
  const uint16_t cmd_ = SMBX_SMB2_CREATE;
  if (!in)
    return SMBX_ERR_INVAL;
  ENCODE_AND_SEND(smbx_smb2_encode_create_req, in, (const uint8_t *)NULL,
                  (size_t)0);
}

int smbx_client_close(smbx_client *cli, uint64_t conn, uint64_t session,
                      uint32_t tree_id, smbx_smb2_fileid file_id,
                      uint16_t flags, uint64_t now_ns, uint64_t *req)
{
  const uint16_t cmd_ = SMBX_SMB2_CLOSE;
  smbx_smb2_close_req in;
  memset(&in, 0, sizeof in);
  in.flags = flags;
  in.file_id = file_id;
  ENCODE_AND_SEND(smbx_smb2_encode_close_req, &in, (const uint8_t *)NULL,
                  (size_t)0);
}

int smbx_client_read(smbx_client *cli, uint64_t conn, uint64_t session,
                     uint32_t tree_id, smbx_smb2_fileid file_id,
                     uint64_t offset, uint32_t length, uint64_t now_ns,
                     uint64_t *req)
{
  const uint16_t cmd_ = SMBX_SMB2_READ;
  if (length > cli->s.max_io)
    return SMBX_ERR_RANGE;
  smbx_smb2_read_req in;
  memset(&in, 0, sizeof in);
  in.padding = 0x50;
  in.length = length;
  in.offset = offset;
  in.file_id = file_id;
  ENCODE_AND_SEND(smbx_smb2_encode_read_req, &in, (const uint8_t *)NULL,
                  (size_t)0);
}

int smbx_client_write(smbx_client *cli, uint64_t conn, uint64_t session,
                      uint32_t tree_id, smbx_smb2_fileid file_id,
                      uint64_t offset, const uint8_t *data, size_t len,
                      uint64_t now_ns, uint64_t *req)
{
  const uint16_t cmd_ = SMBX_SMB2_WRITE;
  if (!cli || (!data && len))
    return SMBX_ERR_INVAL;
  if (len == 0 || len > cli->s.max_io)
    return len ? SMBX_ERR_RANGE : SMBX_ERR_INVAL;
  smbx_smb2_write_req in;
  memset(&in, 0, sizeof in);
  in.offset = offset;
  in.file_id = file_id;
  in.data.p = NULL; /* scatter-gather: header + fixed part only */
  in.data.len = len;
  ENCODE_AND_SEND(smbx_smb2_encode_write_req, &in, data, len);
}

/* READ/WRITE straight from/into the caller's buffer by RDMA when allowed
 * (lib/client/rdma_io.c), else inline. */
static int rdma_or_inline(smbx_client *cli, uint64_t conn, uint64_t session,
                          uint32_t tree_id, smbx_smb2_fileid file_id,
                          uint64_t offset, void *buf, uint32_t length,
                          bool read, uint64_t user, uint64_t now_ns,
                          uint64_t *req)
{
  cconn *cc;
  csess *cs;
  uint64_t sid;
  int rc = prep(cli, conn, session, &cc, &cs, &sid);
  if (rc)
    return rc;
  if (!buf || length == 0)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  /* case 56: never by RDMA when the request is signed or encrypted */
  bool protect = cs && smbx__cli_protected(cs, tree_id);
  uint32_t peer_rw = smbx__conn_smbd_max_rw(cc->c, NULL);
  /* a READ's descriptors are registered straight into their place in
   * the PDU, after the fixed part; a WRITE's at the end of the send
   * buffer, the PDU at its start (its encoder copies them) */
  size_t cap = out_cap(cli);
  size_t dcap = cap / 2;
  if (dcap > SMBX_SMB2_BUFFER_DESC_MAX * SMBX_SMB2_BUFFER_DESC_SIZE)
    dcap = SMBX_SMB2_BUFFER_DESC_MAX * SMBX_SMB2_BUFFER_DESC_SIZE;
  uint8_t *desc = out_pdu(cli) + cap - dcap;
  if (read) {
    if (cap < SMBX__SMB2_READ_REQ_FIXED_END + dcap)
      dcap = cap > SMBX__SMB2_READ_REQ_FIXED_END
                 ? cap - SMBX__SMB2_READ_REQ_FIXED_END
                 : 0;
    desc = out_pdu(cli) + SMBX__SMB2_READ_REQ_FIXED_END;
  }
  uint32_t chain, channel;
  smbx_ssize nd = smbx__cli_rdma_prepare(cc->rdma, cc->dialect, protect,
                                         peer_rw, buf, length, read, desc,
                                         dcap, &chain, &channel);
  if (nd < 0)
    return (int)nd;
  smbx_smb2_hdr h;
  req_hdr(&h, read ? SMBX_SMB2_READ : SMBX_SMB2_WRITE, sid, tree_id);
  if (nd == 0) { /* inline, as smbx_client_read / _write */
    if (length > cli->s.max_io)
      return SMBX_ERR_RANGE;
    smbx_ssize n;
    if (read) {
      smbx_smb2_read_req in;
      memset(&in, 0, sizeof in);
      in.padding = 0x50;
      in.length = length;
      in.offset = offset;
      in.file_id = file_id;
      n = smbx_smb2_encode_read_req(&h, &in, out_pdu(cli), out_cap(cli),
                                    NULL);
    } else {
      smbx_smb2_write_req in;
      memset(&in, 0, sizeof in);
      in.offset = offset;
      in.file_id = file_id;
      in.data.len = length; /* scatter-gather: header + fixed part only */
      n = smbx_smb2_encode_write_req(&h, &in, out_pdu(cli), out_cap(cli),
                                     NULL);
    }
    return send_built(cli, cc, session, n, read ? NULL : buf,
                      read ? 0 : length, user, req);
  }
  smbx_smb2_bytes ci = {desc, (size_t)nd};
  smbx_ssize n;
  if (read) {
    /* the descriptors are in place and the room proved (dcap): the
     * header and fixed part are stored around them */
    smbx_smb2_read_req in = {.padding = 0x50,
                             .length = length,
                             .offset = offset,
                             .file_id = file_id,
                             .channel = channel};
    smbx__smb2_read_req_store(out_pdu(cli), &h, &in, (uint16_t)nd);
    n = (smbx_ssize)(SMBX__SMB2_READ_REQ_FIXED_END + (size_t)nd);
  } else {
    /* smb2.md 4.7: Length 0, DataOffset 0, RemainingBytes = the bytes */
    smbx_smb2_write_req in;
    memset(&in, 0, sizeof in);
    in.offset = offset;
    in.file_id = file_id;
    in.channel = channel;
    in.remaining_bytes = length;
    in.channel_info = ci;
    n = smbx_smb2_encode_write_req(&h, &in, out_pdu(cli), cap - dcap, NULL);
  }
  uint64_t r = 0;
  rc = n < 0 ? SMBX_ERR_RANGE
             : send_msg_cs(cc, cs, (size_t)n, NULL, user, CK_REQ, session, &r,
                           1);
  if (rc) {
    smbx__cli_rdma_unprepare(cc->rdma, &chain);
    return rc;
  }
  if ((uint32_t)r < cc->n_slots)
    smbx__cli_rdma_bind(&cc->slots[(uint32_t)r].io, chain, buf, length, read,
                        channel);
  else /* cannot happen: slot indexes are below n_slots */
    smbx__cli_rdma_unprepare(cc->rdma, &chain);
  if (req)
    *req = r;
  return 0;
}

int smbx_client_read_into(smbx_client *cli, uint64_t conn, uint64_t session,
                          uint32_t tree_id, smbx_smb2_fileid file_id,
                          uint64_t offset, void *buf, uint32_t length,
                          uint64_t now_ns, uint64_t *req)
{
  return rdma_or_inline(cli, conn, session, tree_id, file_id, offset, buf,
                        length, true, 0, now_ns, req);
}

int smbx_client_write_from(smbx_client *cli, uint64_t conn, uint64_t session,
                           uint32_t tree_id, smbx_smb2_fileid file_id,
                           uint64_t offset, const void *buf, uint32_t length,
                           uint64_t now_ns, uint64_t *req)
{
  /* registered REMOTE_READ only: smbx and the server never write it */
  return rdma_or_inline(cli, conn, session, tree_id, file_id, offset,
                        (void *)(uintptr_t)buf, length, false, 0, now_ns,
                        req);
}

/* ---- services for xfer.c ------------------------------------------------------ */

int smbx__cli_io(smbx_client *cli, uint64_t conn, uint64_t session,
                 uint32_t tree_id, smbx_smb2_fileid file_id, uint64_t offset,
                 void *buf, uint32_t length, bool read, uint64_t user,
                 uint64_t *req)
{
  return rdma_or_inline(cli, conn, session, tree_id, file_id, offset, buf,
                        length, read, user, cli->now, req);
}

uint32_t smbx__cli_io_max(const smbx_client *cli, uint64_t conn,
                          uint64_t session, bool read)
{
  const cconn *cc = conn_get(cli, conn);
  const csess *cs = sess_get(cli, session);
  if (!cc || cc->state != 2 || !cs || cs->state != CS_UP)
    return 0;
  if (cs->conn != conn) {
    const cchan *ch = chan_find(cli, session, conn);
    if (!ch || ch->state != CS_UP)
      return 0;
  }
  /* the choice rdma_or_inline makes for a large piece (any encrypting
   * tree of the session counts: the tree is not known here) */
  bool protect = smbx__cli_protected(cs, UINT32_MAX);
  uint32_t lim = cli->s.max_io;
  uint32_t peer_rw = smbx__conn_smbd_max_rw(cc->c, NULL);
  if (cc->rdma && !protect && cc->dialect >= SMBX_SMB2_DIALECT_300 && peer_rw)
    lim = peer_rw;
  uint32_t m = read ? cc->max_read : cc->max_write;
  return m && m < lim ? m : lim;
}

smbx__cli_xfers **smbx__client_xfers(smbx_client *cli)
{
  return &cli->xfers;
}

bool smbx__client_room(smbx_client *cli, size_t more)
{
  return ev_room(cli, more);
}

int smbx_client_query_directory(smbx_client *cli, uint64_t conn,
                                uint64_t session, uint32_t tree_id,
                                const smbx_smb2_query_directory_req *in,
                                uint64_t now_ns, uint64_t *req)
{
  const uint16_t cmd_ = SMBX_SMB2_QUERY_DIRECTORY;
  if (!in)
    return SMBX_ERR_INVAL;
  ENCODE_AND_SEND(smbx_smb2_encode_query_directory_req, in,
                  (const uint8_t *)NULL, (size_t)0);
}

int smbx_client_echo(smbx_client *cli, uint64_t conn, uint64_t now_ns,
                     uint64_t *req)
{
  static const uint8_t body[4] = {4, 0, 0, 0};
  return smbx_client_request(cli, conn, 0, 0, SMBX_SMB2_ECHO, body, 4, 0,
                             now_ns, req);
}

int smbx_client_logoff(smbx_client *cli, uint64_t conn, uint64_t session,
                       uint64_t now_ns, uint64_t *req)
{
  cconn *cc;
  csess *cs;
  uint64_t sid;
  int rc = prep(cli, conn, session, &cc, &cs, &sid);
  if (rc)
    return rc;
  if (!session)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  static const uint8_t body[4] = {4, 0, 0, 0};
  smbx_smb2_hdr h;
  req_hdr(&h, SMBX_SMB2_LOGOFF, sid, 0);
  smbx_iov v = {body, 4};
  smbx_ssize len = build(cli, &h, &v, 1, 0);
  if (len < 0)
    return (int)len;
  uint64_t r = 0;
  rc = send_msg(cc, (size_t)len, NULL, 0, CK_LOGOFF, session, &r, 1);
  if (rc == 0 && req)
    *req = r;
  return rc;
}

int smbx_client_tree_connect(smbx_client *cli, uint64_t conn, uint64_t session,
                             const char *path, uint64_t now_ns, uint64_t *req)
{
  cconn *cc;
  csess *cs;
  uint64_t sid;
  int rc = prep(cli, conn, session, &cc, &cs, &sid);
  if (rc)
    return rc;
  if (!path || !session)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  uint8_t wpath[1024];
  size_t wlen = 0;
  rc = smbx_utf8_to_utf16le((const uint8_t *)path, strlen(path), wpath,
                            sizeof wpath, &wlen);
  if (rc == SMBX_ERR_NOBUF)
    return SMBX_ERR_RANGE;
  if (rc)
    return rc;
  smbx_smb2_tree_connect_req in;
  memset(&in, 0, sizeof in);
  in.path.p = wpath;
  in.path.len = wlen;
  smbx_smb2_hdr h;
  req_hdr(&h, SMBX_SMB2_TREE_CONNECT, sid, 0);
  smbx_ssize n = smbx_smb2_encode_tree_connect_req(&h, &in, out_pdu(cli),
                                                   out_cap(cli), NULL);
  if (n < 0)
    return (int)n;
  /* 3.2.4.1.1: on 3.1.1 the TREE_CONNECT of a session that is neither
   * guest nor anonymous (it has keys) is signed even when signing is not
   * required (encrypted instead when the session encrypts everything);
   * Samba and Windows refuse it unsigned */
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  if (cs->dialect == SMBX_SMB2_DIALECT_311 && cs->have_keys)
    o.flags = SMBX__CONN_SEND_SIGN;
  uint64_t r = 0;
  rc = send_msg(cc, (size_t)n, &o, 0, CK_TREE, session, &r, 1);
  if (rc == 0 && req)
    *req = r;
  return rc;
}

int smbx_client_cancel(smbx_client *cli, uint64_t conn, uint64_t req,
                       uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  return smbx__conn_cancel(cc->c, req, now_ns);
}

/* ---- time and connection management ----------------------------------------------- */

uint64_t smbx_client_expiry(const smbx_client *cli)
{
  uint64_t t = SMBX__NO_DEADLINE;
  if (!cli)
    return t;
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->conns); i++) {
    const cconn *cc = smbx__slab_at(&cli->conns, i);
    if (cc)
      t = smbx__deadline_min(t, smbx__conn_expiry(cc->c));
  }
  return smbx__deadline_min(t, smbx__cli_lease_expiry(cli->leases));
}

int smbx_client_handle_expiry(smbx_client *cli, uint64_t now_ns)
{
  if (!cli)
    return SMBX_ERR_INVAL;
  cli->now = now_ns;
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->conns); i++) {
    cconn *cc = smbx__slab_at(&cli->conns, i);
    if (cc && smbx__deadline_passed(now_ns, smbx__conn_expiry(cc->c)))
      (void)smbx__conn_handle_expiry(cc->c, now_ns);
  }
  smbx__cli_lease_handle_expiry(cli, cli->leases, now_ns);
  return 0;
}

int smbx_client_close_conn(smbx_client *cli, uint64_t conn, uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  (void)smbx__conn_close(cc->c, now_ns);
  ev_purge(cli, conn);
  conn_destroy(cli, cc);
  return 0;
}

int smbx_client_abort_conn(smbx_client *cli, uint64_t conn, int err,
                           uint64_t now_ns)
{
  cconn *cc = conn_get(cli, conn);
  if (!cc)
    return cli ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  cli->now = now_ns;
  (void)smbx__conn_abort(cc->c, err, "aborted by the host", now_ns);
  return 0;
}

int smbx_client_conn_info(const smbx_client *cli, uint64_t conn,
                          smbx_conn_info *info)
{
  if (!cli || !info || info->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  const cconn *cc = conn_get(cli, conn);
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  smbx__conn_info ci;
  smbx__conn_get_info(cc->c, &ci);
  smbx_conn_info o;
  memset(&o, 0, sizeof o);
  o.struct_size = info->struct_size;
  o.dialect = cc->dialect;
  o.transport = (uint16_t)ci.transport;
  o.capabilities = cc->caps;
  o.credits = ci.credits;
  o.outstanding = ci.outstanding;
  o.holds = ci.holds;
  o.err = ci.err;
  o.requests = ci.requests;
  o.responses = ci.responses;
  smbx__cli_rdma_info(cc->rdma, &o);
  memcpy(info, &o, info->struct_size < sizeof o ? info->struct_size : sizeof o);
  return 0;
}

int smbx_client_conn_error(const smbx_client *cli, uint64_t conn,
                           smbx_error_detail *detail)
{
  const cconn *cc = conn_get(cli, conn);
  if (!cc)
    return SMBX_ERR_NOTFOUND;
  return smbx__conn_error_detail(cc->c, detail);
}

/* ---- services for lease_cache.c ------------------------------------------------- */

smbx__cli_leases **smbx__client_leases(smbx_client *cli)
{
  return &cli->leases;
}

const smbx_allocator *smbx__client_allocator(const smbx_client *cli)
{
  return &cli->alloc;
}

void smbx__client_random(smbx_client *cli, uint8_t *p, size_t n)
{
  memset(p, 0, n);
  if (cli->have_cr && cli->cr.random)
    (void)cli->cr.random(cli->cr.user_data, p, n);
}

smbx_event *smbx__client_push(smbx_client *cli, uint32_t type, uint64_t conn)
{
  /* a lease or transfer event takes room ev_room may have counted free */
  if (cli->ev_spare)
    cli->ev_spare--;
  smbx_event *e = ev_push(cli, type, NULL);
  if (e)
    e->conn = conn;
  return e;
}

int smbx__client_conn_proto(const smbx_client *cli, uint64_t conn,
                            uint16_t *dialect, uint32_t *caps)
{
  const cconn *cc = conn_get(cli, conn);
  if (!cc || cc->state != 2)
    return SMBX_ERR_NOTFOUND;
  *dialect = cc->dialect;
  *caps = cc->caps;
  return 0;
}
