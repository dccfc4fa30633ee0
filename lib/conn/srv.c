/* SPDX-License-Identifier: MIT */
/* Server role: receive checks (window, structure, compounds, signing),
 * responses with credit grants, async interim responses, CANCEL, ECHO. */
#include "conn/conn_int.h"
#include "smb2/validate.h"

#define SEVERITY_ERROR(st) (((st) & 0xC0000000u) == 0xC0000000u)

static uint16_t ids_for(const smbx__conn *c, uint16_t charge)
{
  /* 6.1: max(1, CreditCharge) with LARGE_MTU; otherwise one id */
  if (!c->large_mtu || charge == 0)
    return 1;
  return charge;
}

/* ---- building and sending responses --------------------------------------- */

static void patch(const smbx__conn_ri *ri, uint8_t *p, uint16_t g,
                  uint32_t next, bool rel)
{
  bool async = (ri->flags & RI_ASYNC) != 0;
  uint32_t flags = smbx__conn_ld32(p + 16);
  flags &= ~(SMBX_SMB2_FLAGS_SIGNED | SMBX_SMB2_FLAGS_ASYNC_COMMAND |
             SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
  flags |= SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  if (async)
    flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
  if (rel)
    flags |= SMBX_SMB2_FLAGS_RELATED_OPERATIONS; /* 2nd.. of a compound */
  smbx__conn_st32(p + 0, SMBX_SMB2_PROTOCOL_ID);
  smbx__conn_st16(p + 4, 64);
  smbx__conn_st16(p + 6, ri->charge);
  smbx__conn_st16(p + 12, ri->command);
  smbx__conn_st16(p + 14, g);
  smbx__conn_st32(p + 16, flags);
  smbx__conn_st32(p + 20, next);
  smbx__conn_st64(p + 24, ri->msg_id);
  if (async)
    smbx__conn_st64(p + 32, ri->async_id);
  memset(p + 48, 0, 16);
}

/* Sends one message; over SMB Direct as SEND_WITH_INVALIDATE of rkey when
 * inv (smbd.md sec. 4). */
static int xmit_inv(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                    const smbx__conn_keys *k, uint64_t sid, bool inv,
                    uint32_t rkey, uint64_t now)
{
  c->send_inv = inv;
  c->send_inv_rkey = inv ? rkey : 0;
  int rc = smbx__conn_xmit(c, buf, cap, len, k, sid, now);
  c->send_inv = false;
  c->send_inv_rkey = 0;
  return rc;
}

int smbx__conn_cb_flush(smbx__conn *c, bool early, uint64_t now)
{
  if (!c->cb_len) {
    if (c->cb_answered >= c->cb_expect)
      c->cb_hold = 0;
    c->cb_stuck = false;
    return 0;
  }
  uint8_t *lp = c->cbuf + SMBX__CONN_HEADROOM + c->cb_last_off;
  if (early && smbx__conn_ld32(lp + 20) != 0) {
    /* the chain stops here for now: its last gathered member becomes the
     * message's last (its padding stays inside it, signed) */
    smbx__conn_st32(lp + 20, 0);
    /* re-signed when it was signed; an unsigned member (its signature is
     * zero) keeps its flags */
    if (c->cb_last_sign) {
      smbx__conn_st32(lp + 16, smbx__conn_ld32(lp + 16) &
                                   ~SMBX_SMB2_FLAGS_SIGNED);
      memset(lp + 48, 0, 16);
      if (smbx_smb2_sign(&c->cr, c->cb_last_keys.keys.signing_alg,
                         c->cb_last_keys.keys.signing, lp, c->cb_last_len,
                         SMBX_CRYPTO_SIGN_SET_FLAG) != 0)
        return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "signing hook failed",
                                0, 0);
    }
  }
  int rc = xmit_inv(c, c->cbuf, SMBX__CONN_HEADROOM + c->cb_cap, c->cb_len,
                    c->cb_enc ? &c->cb_keys : NULL, c->cb_sid, c->cb_inv,
                    c->cb_inv_rkey, now);
  if (rc == SMBX_ERR_AGAIN) {
    c->cb_stuck = true;
    return rc;
  }
  c->cb_stuck = false;
  c->cb_len = 0;
  c->cb_inv = false;
  if (c->cb_answered >= c->cb_expect)
    c->cb_hold = 0; /* the next compound may start gathering */
  return rc;
}

/* Does a response to ri go out plain: no keys (`have`: nothing to sign or
 * encrypt), not part of a compound, nothing gathered waiting, no hash to
 * update? The common case. */
static inline bool goes_plain(const smbx__conn *c, const smbx__conn_ri *ri,
                              const smbx__conn_send_opts *o, bool have)
{
  return !have && !(ri->flags & RI_COMPOUND) && !c->cb_stuck &&
         !(o && o->preauth) &&
         !(ri->command == SMBX_SMB2_NEGOTIATE && c->preauth_state == 1);
}

/* A response that goes_plain(): grant, patch, send (with an armed
 * SEND_WITH_INVALIDATE), commit the grant once it went out. */
static int send_plain(smbx__conn *c, smbx__conn_ri *ri, uint8_t *buf,
                      size_t cap, size_t len, uint32_t oflags, uint64_t now)
{
  uint8_t *p = buf + SMBX__CONN_HEADROOM;
  uint16_t g = smbx__conn_grant(c, ri);
  patch(ri, p, g, 0, false);
  /* an error answer to a signed request keeps SIGNED (see finish) */
  if ((ri->flags & RI_SIGNED) && SEVERITY_ERROR(smbx__conn_ld32(p + 8)) &&
      !(oflags & SMBX__CONN_SEND_NO_SIGN))
    smbx__conn_st32(p + 16, smbx__conn_ld32(p + 16) | SMBX_SMB2_FLAGS_SIGNED);
  int rc = smbx__conn_xmit(c, buf, cap, len, NULL, 0, now);
  c->send_inv = false;
  c->send_inv_rkey = 0;
  if (rc)
    return rc;
  smbx__conn_grant_commit(c, ri, g);
  ri->flags |= RI_GRANTED;
  c->n_out++;
  return 0;
}

/* Patches, signs, encrypts and sends a response to ri at buf + HEADROOM
 * (or gathers it into the compound-response buffer); commits the grant
 * only once it went out or was gathered. */
static int finish(smbx__conn *c, smbx__conn_ri *ri, uint8_t *buf, size_t cap,
                  size_t len, const smbx__conn_send_opts *o, uint64_t now)
{
  uint8_t *p = buf + SMBX__CONN_HEADROOM;
  uint32_t status = smbx__conn_ld32(p + 8);
  uint64_t sid = smbx__conn_ld64(p + 40);
  uint32_t oflags = o ? o->flags : 0;
  bool neg = ri->command == SMBX_SMB2_NEGOTIATE;
  smbx__conn_keys k;
  bool have = !neg && smbx__conn_get_keys(c, sid, &k);
  if (goes_plain(c, ri, o, have))
    return send_plain(c, ri, buf, cap, len, oflags, now);
  /* 6.5: a SESSION_SETUP response is encrypted only when its request was
   * (re-authentication); binding legs and first legs never are */
  bool enc_all = have && (k.flags & SMBX__CONN_KEYS_ENCRYPT_ALL) &&
                 ri->command != SMBX_SMB2_SESSION_SETUP;
  bool enc = have && (k.flags & SMBX__CONN_KEYS_CIPHER) &&
             ((ri->flags & RI_ENCRYPTED) || enc_all ||
              (oflags & SMBX__CONN_SEND_ENCRYPT));
  if (oflags & SMBX__CONN_SEND_NO_ENCRYPT)
    enc = false;
  /* an armed SEND_WITH_INVALIDATE is this response's: the message that
   * carries it (alone or gathered) invalidates, not a flush of what was
   * gathered before it */
  bool inv = c->send_inv;
  uint32_t inv_rkey = c->send_inv_rkey;
  c->send_inv = false;
  c->send_inv_rkey = 0;
  /* 6.2: the responses of a compound request are gathered into one
   * compounded message, one request message at a time (the "current"
   * one, cb_hold, from its first answer until all its members are
   * answered: an interim counts, it goes alone after what was gathered;
   * final responses of async members and members of other messages go
   * alone) */
  bool counted = (ri->flags & RI_COMPOUND) &&
                 (status == SMBX_STATUS_PENDING || !(ri->flags & RI_ASYNC));
  if (c->cb_stuck) {
    int rc = smbx__conn_cb_flush(c, true, now);
    if (rc)
      return rc; /* what was gathered goes first */
  }
  /* the first compound answered makes the buffer (this response is the
   * first counted one of its message); without memory the connection
   * answers members one by one from then on */
  if (counted && !c->cbuf && c->cb_cap) {
    c->cbuf = smbx__alloc(&c->alloc, SMBX__CONN_HEADROOM + c->cb_cap, 8);
    if (!c->cbuf)
      c->cb_cap = 0;
  }
  if (counted && c->cbuf && c->cb_hold == 0) {
    c->cb_hold = ri->hold;
    c->cb_expect = ri->members;
    c->cb_answered = 0;
  }
  bool mine = counted && c->cbuf && c->cb_hold == ri->hold;
  bool chained = false, last = false;
  size_t plen = len;
  if (mine && !(ri->flags & RI_ASYNC) && status != SMBX_STATUS_PENDING &&
      (c->cb_len == 0 || (c->cb_enc == enc && (!enc || c->cb_sid == sid) &&
                          !(inv && c->cb_inv)))) {
    last = c->cb_answered + 1u >= c->cb_expect;
    size_t padded = last ? len : ((len + 7) & ~(size_t)7);
    if ((!last || c->cb_len > 0) && c->cb_len + padded <= c->cb_cap) {
      chained = true;
      plen = padded;
    }
  }
  if (!chained && mine && c->cb_len) {
    int rc = smbx__conn_cb_flush(c, true, now);
    if (rc)
      return rc;
  }
  if (chained) {
    uint8_t *q = c->cbuf + SMBX__CONN_HEADROOM + c->cb_len;
    memmove(q, p, len);
    memset(q + len, 0, plen - len);
    p = q;
  }
  uint16_t g = smbx__conn_grant(c, ri);
  patch(ri, p, g, chained && !last ? (uint32_t)plen : 0,
        chained && c->cb_len > 0 && (ri->flags & RI_RELATED));
  bool sign = !enc && have && (k.flags & SMBX__CONN_KEYS_SIGNING) &&
              status != SMBX_STATUS_PENDING &&
              ((ri->flags & RI_SIGNED) || (k.flags & SMBX__CONN_KEYS_SIGN_ALL) ||
               (oflags & SMBX__CONN_SEND_SIGN));
  if (oflags & SMBX__CONN_SEND_NO_SIGN)
    sign = false;
  if (sign && smbx_smb2_sign(&c->cr, k.keys.signing_alg, k.keys.signing, p,
                             plen, SMBX_CRYPTO_SIGN_SET_FLAG) != 0)
    return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "signing hook failed", 0,
                            0);
  /* 3.3.4.1.1: an error answer to a signed request that no key can sign
   * (its session is unknown here: USER_SESSION_DELETED) keeps SIGNED with
   * a zero signature, as Samba and ksmbd answer; Samba's client refuses
   * an answer without SIGNED to a signed request before it looks at the
   * status (smbtorture smb2.session.bind2) */
  if (!enc && (ri->flags & RI_SIGNED) && SEVERITY_ERROR(status) &&
      !(have && (k.flags & SMBX__CONN_KEYS_SIGNING)) &&
      !(oflags & SMBX__CONN_SEND_NO_SIGN))
    smbx__conn_st32(p + 16,
                    smbx__conn_ld32(p + 16) | SMBX_SMB2_FLAGS_SIGNED);
  uint8_t pa[64];
  bool pa_ok = false;
  if (o && o->preauth) {
    memcpy(pa, o->preauth, 64);
    pa_ok = smbx_smb2_preauth_update(&c->cr, pa, p, plen) == 0;
  }
  bool neg_hash = neg && !(ri->flags & RI_SMB1) && c->preauth_state == 1;
  uint8_t conn_pa[64];
  if (neg_hash) {
    memcpy(conn_pa, c->preauth, 64);
    if (smbx_smb2_preauth_update(&c->cr, conn_pa, p, plen) != 0)
      neg_hash = false;
  }
  if (chained) {
    if (c->cb_len == 0) {
      c->cb_enc = enc;
      c->cb_sid = sid;
      if (enc)
        c->cb_keys = k;
    }
    c->cb_last_off = c->cb_len;
    c->cb_last_len = plen;
    c->cb_last_sign = sign;
    if (sign)
      c->cb_last_keys = k;
    c->cb_len += plen;
    c->cb_hold = ri->hold;
    if (inv) { /* one message carries one invalidation */
      c->cb_inv = true;
      c->cb_inv_rkey = inv_rkey;
    }
  } else {
    int rc = xmit_inv(c, buf, cap, len, enc ? &k : NULL, sid, inv, inv_rkey,
                      now);
    if (rc)
      return rc;
  }
  smbx__conn_grant_commit(c, ri, g);
  ri->flags |= RI_GRANTED;
  if (mine)
    c->cb_answered++;
  if (pa_ok)
    memcpy(o->preauth, pa, 64);
  if (neg_hash) {
    memcpy(c->preauth, conn_pa, 64);
    c->preauth_state = 2;
  }
  c->n_out++;
  if (mine && c->cb_answered >= c->cb_expect) {
    int rc = smbx__conn_cb_flush(c, false, now);
    if (rc && rc != SMBX_ERR_AGAIN)
      return rc; /* AGAIN: gathered, sent after the next SEND_DONE */
  }
  return 0;
}

static void fill_hdr(const smbx__conn_ri *ri, uint32_t status,
                     smbx_smb2_hdr *h)
{
  memset(h, 0, sizeof *h);
  h->credit_charge = ri->charge;
  h->status = status;
  h->command = ri->command;
  h->flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  h->message_id = ri->msg_id;
  if (ri->flags & RI_ASYNC) {
    h->flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
    h->async_id = ri->async_id;
  } else {
    h->tree_id = ri->tree_id;
  }
  h->session_id = ri->session_id == SMBX_SMB2_SESSION_ID_INHERIT
                      ? 0
                      : ri->session_id;
}

/* An ERROR response built by the connection (no request slot). */
static int send_error(smbx__conn *c, smbx__conn_ri *ri, uint32_t status,
                      uint64_t now)
{
  smbx_smb2_hdr h;
  fill_hdr(ri, status, &h);
  smbx_smb2_error_resp er;
  memset(&er, 0, sizeof er);
  smbx_ssize n = smbx_smb2_encode_error_resp(
      &h, &er, c->ebuf + SMBX__CONN_HEADROOM, SMBX__CONN_EBUF, NULL);
  if (n < 0)
    return smbx__conn_fatal(c, SMBX_ERR_STATE, "error response encoding", 0,
                            0);
  return finish(c, ri, c->ebuf, SMBX__CONN_HEADROOM + SMBX__CONN_EBUF,
                (size_t)n, NULL, now);
}

/* 6.4: ECHO answered by the connection. */
static int send_echo(smbx__conn *c, smbx__conn_ri *ri, uint64_t now)
{
  smbx_smb2_hdr h;
  fill_hdr(ri, SMBX_STATUS_SUCCESS, &h);
  uint8_t *p = c->ebuf + SMBX__CONN_HEADROOM;
  (void)smbx_smb2_hdr_encode(&h, p, SMBX__CONN_EBUF, NULL);
  smbx__conn_st16(p + 64, 4);
  smbx__conn_st16(p + 66, 0);
  return finish(c, ri, c->ebuf, SMBX__CONN_HEADROOM + SMBX__CONN_EBUF, 68,
                NULL, now);
}

/* ---- request slots -------------------------------------------------------- */

static void req_free(smbx__conn *c, smbx__conn_req *r)
{
  smbx__list_remove(&r->link);
  if (r->ri.flags & RI_ASYNC)
    c->n_async--;
  smbx__slab_put_live(&c->reqs, r->handle);
}

void smbx__conn_srv_teardown(smbx__conn *c, int err)
{
  smbx__list *n;
  while ((n = smbx__list_first(&c->live))) {
    smbx__conn_req *r = SMBX__CONTAINER_OF(n, smbx__conn_req, link);
    uint64_t hh = r->handle;
    req_free(c, r);
    if (c->up.abort)
      c->up.abort(c->up.ctx, hh, err);
  }
}

/* 6.3 / 3.3.5.16: CANCEL by AsyncId (ASYNC) or MessageId; no response. */
static void handle_cancel(smbx__conn *c, const smbx_smb2_hdr *hd)
{
  smbx__conn_req *r = NULL;
  if (hd->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) {
    r = smbx__slab_lookup(&c->reqs, hd->async_id);
    if (r && !(r->ri.flags & RI_ASYNC))
      r = NULL;
  } else {
    SMBX__LIST_FOREACH(it, &c->live) {
      smbx__conn_req *q = SMBX__CONTAINER_OF(it, smbx__conn_req, link);
      if (q->ri.msg_id == hd->message_id) {
        r = q;
        break;
      }
    }
  }
  if (!r || (r->ri.flags & RI_CANCELLED))
    return;
  r->ri.flags |= RI_CANCELLED;
  if (c->up.cancel)
    c->up.cancel(c->up.ctx, r->handle);
}

/* ---- one compound member -------------------------------------------------- */

static bool is_all_ones(smbx_smb2_fileid f)
{
  return f.persistent_id == UINT64_MAX && f.volatile_id == UINT64_MAX;
}

/* 6.1: the CreditCharge covers the payload the request carries or asks
 * for (without LARGE_MTU: at most 64 KiB at all) */
static inline bool charge_covers(smbx__conn *c, const uint8_t *pdu,
                                 size_t len, const smbx_smb2_hdr *hd)
{
  uint64_t payload = 0;
  uint16_t need = smbx__conn_charge_for(c, pdu, len, &payload);
  if (!c->large_mtu)
    return payload <= 65536;
  return !(hd->credit_charge == 0 && payload > 65536) &&
         need <= (hd->credit_charge ? hd->credit_charge : 1);
}

/* Handles member `idx` of the message in hold h. Returns true when it was
 * delivered to the owner. */
static bool member(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                   uint8_t *pdu, size_t len, const smbx_smb2_hdr *hd,
                   uint16_t idx, bool last, uint64_t now)
{
  c->n_in++;
  if (hd->command == SMBX_SMB2_CANCEL) {
    /* 3.3.5.2.4: a CANCEL whose signature fails, or that is unsigned on a
     * session requiring signing, is dropped (it has no response) */
    smbx__conn_keys k;
    uint64_t sid = hd->session_id;
    if (!h->encrypted && smbx__conn_get_keys(c, sid, &k) &&
        (k.flags & SMBX__CONN_KEYS_SIGNING)) {
      if (hd->flags & SMBX_SMB2_FLAGS_SIGNED) {
        if (smbx_smb2_verify(&c->cr, k.keys.signing_alg, k.keys.signing, pdu,
                             len) != 0)
          return false;
      } else if (k.flags & SMBX__CONN_KEYS_SIGN_ALL) {
        return false;
      }
    }
    handle_cancel(c, hd);
    return false;
  }
  smbx__conn_ri ri = {
      .msg_id = hd->message_id,
      .session_id = hd->session_id,
      .tree_id = hd->tree_id,
      .flags = (h->expect > 1 ? RI_COMPOUND : 0) |
               (hd->flags & SMBX_SMB2_FLAGS_SIGNED ? RI_SIGNED : 0) |
               (h->encrypted ? RI_ENCRYPTED : 0),
      .command = hd->command,
      .charge = hd->credit_charge,
      .ids = ids_for(c, hd->credit_charge),
      .credit_req = hd->credits,
      .members = h->expect > 1 ? h->expect : 0,
      .hold = hh,
  };
  uint32_t pflags = 0;
  uint32_t status = 0;
  bool sync = !(hd->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  bool rel = (hd->flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) != 0;
  if (h->mixed)
    status = SMBX_STATUS_INVALID_PARAMETER;
  /* 6.2: a chain with RELATED members runs one member at a time; a
   * RELATED member inherits the FileId the member before it carried or
   * created (or fails as that member did). RELATED on the first member
   * fails it INVALID_PARAMETER (and so its RELATED followers). Mixed
   * styles fail every member (h->mixed) unless the owner set
   * SMBX__CONN_F_MIXED_COMPOUNDS (Windows and Samba run them, MS-SMB2
   * <264>): then an unrelated member starts over with its own ids. A failed CREATE or FileId carrier (or
   * a RELATED first member) fails every RELATED follower with its
   * status, as Samba's compound_create_err. */
  if (h->related) {
    ri.flags |= RI_RELATED;
    pflags |= SMBX__CONN_PDU_RELATED;
    if (idx == 0 && rel)
      status = SMBX_STATUS_INVALID_PARAMETER;
    if (idx > 0 && !rel) {
      h->have_sess = h->have_tree = h->have_fid = false;
      h->c_err = 0;
    }
    if (idx > 0 && rel && ri.session_id == SMBX_SMB2_SESSION_ID_INHERIT) {
      if (h->have_sess)
        ri.session_id = h->c_sess;
      else if (!status)
        status = SMBX_STATUS_INVALID_PARAMETER;
    }
    if (idx > 0 && rel && sync && ri.tree_id == SMBX_SMB2_TREE_ID_INHERIT) {
      if (h->have_tree)
        ri.tree_id = h->c_tree;
      else if (!status)
        status = SMBX_STATUS_INVALID_PARAMETER;
    }
    if (idx > 0 && rel && h->c_err && !status)
      status = h->c_err; /* the chain's FileId (or its first member) failed */
    if (ri.session_id != SMBX_SMB2_SESSION_ID_INHERIT) {
      h->c_sess = ri.session_id;
      h->have_sess = true;
    }
    if (sync && ri.tree_id != SMBX_SMB2_TREE_ID_INHERIT) {
      h->c_tree = ri.tree_id;
      h->have_tree = true;
    }
  }
  smbx_error_detail d = {0, 0};
  /* 3.3.5.2.6 table pass: structure sizes -> INVALID_PARAMETER */
  if (!status && smbx__smb2_pdu_check(pdu, len, hd, &d) != 0)
    status = SMBX_STATUS_INVALID_PARAMETER;
  /* 2.2: a SIGNED NEGOTIATE is failed */
  if (!status && ri.command == SMBX_SMB2_NEGOTIATE && (ri.flags & RI_SIGNED))
    status = SMBX_STATUS_INVALID_PARAMETER;
  if (!status && !charge_covers(c, pdu, len, hd))
    status = SMBX_STATUS_INVALID_PARAMETER;
  smbx_smb2_fileid fid = {0, 0};
  size_t foff = smbx__conn_fileid_off(ri.command);
  if (foff && len >= foff + 16) {
    fid.persistent_id = smbx__conn_ld64(pdu + foff);
    fid.volatile_id = smbx__conn_ld64(pdu + foff + 8);
    if (h->related && idx > 0 && rel && is_all_ones(fid)) {
      if (h->c_err) {
        if (!status)
          status = h->c_err; /* the member that carried it failed */
      } else if (h->have_fid) {
        fid = h->c_fid;
        pflags |= SMBX__CONN_PDU_FILEID;
      } else if (!status && ri.command != SMBX_SMB2_IOCTL) {
        status = SMBX_STATUS_INVALID_HANDLE;
      }
    } else {
      pflags |= SMBX__CONN_PDU_FILEID;
      if (h->related && !is_all_ones(fid)) {
        h->c_fid = fid;
        h->have_fid = true;
      } else if (h->related && !h->have_fid) {
        ri.flags |= RI_FID_SOURCE; /* its failure fails its followers */
      }
    }
  }
  /* 3.3.5.2.4 / 3.3.5.2.9: signatures and encryption required */
  bool sess_setup = ri.command == SMBX_SMB2_SESSION_SETUP;
  if (!status && ri.command != SMBX_SMB2_NEGOTIATE) {
    smbx__conn_keys k;
    bool have = smbx__conn_get_keys(c, ri.session_id, &k);
    if (ri.flags & RI_SIGNED) {
      pflags |= SMBX__CONN_PDU_SIGNED;
      if (h->encrypted) {
        /* inside a TRANSFORM the signature is not checked */
      } else if (have && (k.flags & SMBX__CONN_KEYS_SIGNING)) {
        if (smbx_smb2_verify(&c->cr, k.keys.signing_alg, k.keys.signing, pdu,
                             len) == 0)
          pflags |= SMBX__CONN_PDU_VERIFIED;
        else if (sess_setup)
          pflags |= SMBX__CONN_PDU_SIG_BAD;
        else
          status = SMBX_STATUS_ACCESS_DENIED;
      } else {
        pflags |= SMBX__CONN_PDU_SIG_UNCHECKED;
      }
    } else if (have && !h->encrypted && !sess_setup &&
               (k.flags & SMBX__CONN_KEYS_SIGN_ALL)) {
      status = SMBX_STATUS_ACCESS_DENIED;
    }
    if (!status && have && !h->encrypted && !sess_setup &&
        (k.flags & SMBX__CONN_KEYS_ENCRYPT_ALL))
      status = SMBX_STATUS_ACCESS_DENIED;
  }
  if (status) {
    if (h->related && !h->c_err &&
        (ri.command == SMBX_SMB2_CREATE || (ri.flags & RI_FID_SOURCE) ||
         (idx == 0 && rel)))
      h->c_err = status;
    (void)send_error(c, &ri, status, now);
    return false;
  }
  if (ri.command == SMBX_SMB2_ECHO &&
      !(c->s.flags & SMBX__CONN_F_DELIVER_ECHO)) {
    (void)send_echo(c, &ri, now);
    return false;
  }
  if (ri.command == SMBX_SMB2_NEGOTIATE)
    smbx__conn_preauth_msg(c, pdu, len, true);
  smbx__conn_req *r = smbx__conn_req_take(c);
  if (!r) {
    (void)send_error(c, &ri, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
    return false;
  }
  smbx__list_init(&r->tlink);
  r->ri = ri;
  r->user = 0;
  r->deadline = 0;
  r->extra = 0;
  r->chain_index = idx;
  smbx__list_insert_tail(&c->live, &r->link);
  smbx__conn_pdu pd = {
      .data = pdu,
      .len = len,
      .hdr = *hd,
      .fileid = fid,
      .req = r->handle,
      .hold = hh,
      .flags = pflags | (h->encrypted ? SMBX__CONN_PDU_ENCRYPTED : 0) |
               (last ? SMBX__CONN_PDU_LAST : 0),
      .chain_index = idx,
      .chain_count = h->count,
  };
  pd.hdr.session_id = ri.session_id;
  if (sync)
    pd.hdr.tree_id = ri.tree_id;
  h->refs++;
  if (h->related)
    h->waiting = 1; /* before the upcall: it may answer at once */
  c->up.request(c->up.ctx, &pd);
  return true;
}

/* Walks the members of a message: all at once (unrelated), or one at a
 * time, each after the previous was answered (related). Re-entrant: a
 * response given inside the request upcall only "kicks" the outer walk. */
static void run_chain(smbx__conn *c, uint64_t hh, uint64_t now)
{
  smbx__conn_hold *h = smbx__slab_lookup(&c->holds, hh);
  if (!h)
    return;
  if (h->running) {
    h->kick = 1;
    return;
  }
  h->running = 1;
  do {
    h->kick = 0;
    while (h->more && !h->waiting && !c->err) {
      smbx_smb2_chain ch;
      smbx_smb2_bytes pdu;
      smbx_smb2_hdr hd;
      (void)smbx_smb2_chain_init(&ch, h->msg + h->next_off,
                                 h->len - h->next_off, 1);
      if (smbx_smb2_chain_next(&ch, &pdu, &hd, NULL) != 1) {
        h->more = false; /* validated in the first pass: cannot happen */
        break;
      }
      uint8_t *p = h->msg + h->next_off;
      if (hd.next_command) {
        h->next_off += hd.next_command;
      } else {
        h->next_off = h->len;
        h->more = false;
      }
      uint16_t idx = h->index++;
      (void)member(c, hh, h, p, pdu.len, &hd, idx, !h->more, now);
    }
  } while (h->kick && !c->err);
  h->running = 0;
  if (!h->more || c->err) {
    h->more = false;
    h->waiting = 0;
    smbx__conn_hold_unref(c, hh, now);
  }
}

/* What a related member's response tells its followers, read before the
 * response is encrypted in place. */
typedef struct answer {
  uint32_t status;
  uint32_t tree;
  uint64_t sid;
  smbx_smb2_fileid fid;
  bool have_fid;
} answer;

static void read_answer(const uint8_t *p, size_t len, answer *a)
{
  memset(a, 0, sizeof *a);
  a->status = smbx__conn_ld32(p + 8);
  a->tree = smbx__conn_ld32(p + 36);
  a->sid = smbx__conn_ld64(p + 40);
  if (len >= 144) {
    /* 2.2.14: a CREATE response's FileId at @128 */
    a->fid.persistent_id = smbx__conn_ld64(p + 128);
    a->fid.volatile_id = smbx__conn_ld64(p + 136);
    a->have_fid = true;
  }
}

/* A related member was answered: remember what its followers inherit. */
static void chain_answered(smbx__conn *c, const smbx__conn_req *r,
                           const answer *a, uint64_t now)
{
  smbx__conn_hold *h = smbx__slab_lookup(&c->holds, r->ri.hold);
  if (!h || !(r->ri.flags & RI_RELATED) || !h->waiting)
    return;
  uint32_t st = a->status;
  if ((r->ri.flags & RI_FID_SOURCE) && SEVERITY_ERROR(st) && !h->c_err)
    h->c_err = st;
  if (r->ri.command == SMBX_SMB2_CREATE) {
    if (SEVERITY_ERROR(st)) {
      if (!h->c_err)
        h->c_err = st;
    } else if (a->have_fid) {
      h->c_fid = a->fid;
      h->have_fid = true;
    }
  } else if (r->ri.command == SMBX_SMB2_TREE_CONNECT && st == 0) {
    h->c_tree = a->tree;
    h->have_tree = true;
  } else if (r->ri.command == SMBX_SMB2_SESSION_SETUP && st == 0) {
    h->c_sess = a->sid;
    h->have_sess = true;
  }
  h->waiting = 0;
  run_chain(c, r->ri.hold, now);
}

/* ---- SMB1 NEGOTIATE -------------------------------------------------------- */

static void smb1_negotiate(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                           uint64_t now)
{
  smbx_smb1_negotiate n1;
  smbx_error_detail d = {0, 0};
  if (c->any_msg) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "SMB1 after the first message", 0, 0);
  } else if (smbx_smb1_negotiate_decode(h->msg, h->len, &n1, &d) != 0) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  } else if (!n1.has_smb2_002 && !n1.has_smb2_wildcard) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "SMB1 NEGOTIATE without SMB2", 0, 0);
  } else if (smbx__conn_win_take(c, 0, 1) != 0) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "SMB1 NEGOTIATE: id 0 used", 0, 0);
  } else {
    c->any_msg = true;
    c->n_in++;
    smbx__conn_req *r = smbx__slab_get_zeroed(&c->reqs);
    if (!r) {
      smbx__conn_fatal(c, SMBX_ERR_LIMIT, "no request slot", 0, 0);
    } else {
      r->handle = smbx__slab_handle(&c->reqs, r);
      smbx__list_init(&r->tlink);
      r->ri.command = SMBX_SMB2_NEGOTIATE;
      r->ri.ids = 1;
      r->ri.credit_req = 1;
      r->ri.flags = RI_SMB1;
      r->ri.session_id = 0;
      smbx__list_insert_tail(&c->live, &r->link);
      smbx__conn_pdu pd;
      memset(&pd, 0, sizeof pd);
      pd.data = h->msg;
      pd.len = h->len;
      pd.hdr.structure_size = 64;
      pd.hdr.command = SMBX_SMB2_NEGOTIATE;
      pd.req = r->handle;
      pd.hold = hh;
      pd.flags = SMBX__CONN_PDU_SMB1 | SMBX__CONN_PDU_LAST;
      pd.chain_count = 1;
      h->refs++;
      c->up.request(c->up.ctx, &pd);
    }
  }
  smbx__conn_hold_unref(c, hh, now);
}

/* ---- a transport message --------------------------------------------------- */

/* A plain message of one unrelated PDU (not a TRANSFORM, NextCommand 0,
 * no RELATED), the common case: the first pass's checks and member()'s
 * delivery in one straight path, the header decoded once into the
 * delivered PDU. A request that is not a plain one (CANCEL, NEGOTIATE,
 * SESSION_SETUP, ECHO, SIGNED, a session that signs or encrypts
 * everything) or that fails a check is handed to member(). */
static void srv_one(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                    uint64_t now)
{
  smbx__conn_pdu pd;
  smbx_smb2_hdr *hd = &pd.hdr;
  smbx_error_detail d = {0, 0};
  c->any_msg = true;
  /* 3.3.5.2.6, 6.1: these drop the connection without a response */
  if (smbx_smb2_hdr_decode(h->msg, h->len, hd, &d) != 0) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  } else if (hd->command >= SMBX_SMB2_COMMAND_COUNT) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "unknown command", 12, 0);
  } else if (hd->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "response flag in a request", 16, 0);
  } else if (hd->command != SMBX_SMB2_CANCEL &&
             (hd->message_id == SMBX_SMB2_MSGID_UNSOLICITED ||
              smbx__conn_win_take(c, hd->message_id,
                                  ids_for(c, hd->credit_charge)) != 0)) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO,
                     "MessageId outside the window or already used", 24, 0);
  }
  if (c->err) {
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  uint16_t cmd = hd->command;
  bool plain = cmd != SMBX_SMB2_CANCEL && cmd != SMBX_SMB2_NEGOTIATE &&
               cmd != SMBX_SMB2_SESSION_SETUP && cmd != SMBX_SMB2_ECHO &&
               !(hd->flags & SMBX_SMB2_FLAGS_SIGNED) &&
               smbx__smb2_pdu_check(h->msg, h->len, hd, NULL) == 0;
  if (plain)
    plain = charge_covers(c, h->msg, h->len, hd);
  smbx__conn_keys k;
  /* 3.3.5.2.4 / 3.3.5.2.9: an unsigned, unencrypted request on a session
   * that requires either is member()'s to fail */
  if (plain && smbx__conn_get_keys(c, hd->session_id, &k) &&
      (k.flags & (SMBX__CONN_KEYS_SIGN_ALL | SMBX__CONN_KEYS_ENCRYPT_ALL)))
    plain = false;
  smbx__conn_req *r = plain ? smbx__conn_req_take(c) : NULL;
  if (!r) {
    h->count = 1;
    h->expect = cmd != SMBX_SMB2_CANCEL;
    h->mixed = false;
    h->index = 1;
    h->running = 1;
    (void)member(c, hh, h, h->msg, h->len, hd, 0, true, now);
    h->running = 0;
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  c->n_in++;
  smbx__list_init(&r->tlink);
  r->ri.msg_id = hd->message_id;
  r->ri.async_id = 0;
  r->ri.session_id = hd->session_id;
  r->ri.tree_id = hd->tree_id;
  r->ri.flags = 0;
  r->ri.command = cmd;
  r->ri.charge = hd->credit_charge;
  r->ri.ids = ids_for(c, hd->credit_charge);
  r->ri.credit_req = hd->credits;
  r->ri.members = 0;
  r->ri.hold = hh;
  r->user = 0;
  r->deadline = 0;
  r->extra = 0;
  r->chain_index = 0;
  smbx__list_insert_tail(&c->live, &r->link);
  pd.data = h->msg;
  pd.len = h->len;
  pd.flags = SMBX__CONN_PDU_LAST;
  size_t foff = smbx__conn_fileid_off(cmd);
  if (foff && h->len >= foff + 16) {
    pd.fileid.persistent_id = smbx__conn_ld64(h->msg + foff);
    pd.fileid.volatile_id = smbx__conn_ld64(h->msg + foff + 8);
    pd.flags |= SMBX__CONN_PDU_FILEID;
  } else {
    pd.fileid.persistent_id = pd.fileid.volatile_id = 0;
  }
  pd.req = r->handle;
  pd.user = 0;
  pd.hold = hh;
  pd.chain_index = 0;
  pd.chain_count = 1;
  pd.invalidated_rkey = 0;
  /* the connection's reference on the message becomes the owner's: the
   * connection is done with it (the owner may release it in the upcall) */
  c->up.request(c->up.ctx, &pd);
}

/* Any other message: SMB1, a TRANSFORM, a compound, garbage. */
static void srv_msg_any(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now)
{
  int kind = smbx_smb2_msg_kind(h->msg, h->len);
  if (kind == SMBX_SMB2_MSG_SMB1) {
    smb1_negotiate(c, hh, h, now);
    return;
  }
  if (kind == SMBX_SMB2_MSG_TRANSFORM) {
    smbx_ssize n = smbx__conn_decrypt(c, h->msg, h->len, &h->tf_sid);
    if (n < 0) {
      smbx__conn_hold_unref(c, hh, now);
      return;
    }
    h->msg += SMBX_SMB2_TRANSFORM_HDR_SIZE;
    h->len = (size_t)n;
    h->encrypted = 1;
  } else if (kind != SMBX_SMB2_MSG_SMB2) {
    /* COMPRESSION is never negotiated; garbage -> disconnect */
    smbx__conn_fatal(c, SMBX_ERR_PROTO,
                     kind == SMBX_SMB2_MSG_COMPRESSION
                         ? "COMPRESSION message (not negotiated)"
                         : "not an SMB2 message",
                     0, 0);
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  c->any_msg = true;
  /* first pass: every header, the window, the chain layout. Any failure
   * here drops the connection without a response (3.3.5.2.6, 6.1, 6.2) */
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr hd;
  smbx_error_detail d = {0, 0};
  uint32_t n = 0, expect = 0;
  size_t first_len = 0;
  bool related = false, later_rel = false, later_unrel = false;
  int rc;
  for (rc = smbx__conn_first_pdu(&ch, h->msg, h->len, c->s.max_chain, &pdu,
                                 &hd, &d);
       rc == 1; rc = smbx_smb2_chain_next(&ch, &pdu, &hd, &d)) {
    if (n == 0)
      first_len = pdu.len;
    size_t at = (size_t)(pdu.p - h->msg);
    if (hd.command >= SMBX_SMB2_COMMAND_COUNT) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO, "unknown command", at + 12, 0);
      break;
    }
    if (hd.flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO, "response flag in a request",
                       at + 16, 0);
      break;
    }
    /* 3.3.5.2.1.1: every PDU inside a TRANSFORM belongs to its session
     * (a related member may say "inherit": it takes the first's) */
    if (h->encrypted && hd.session_id != h->tf_sid &&
        !(n > 0 && (hd.flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) &&
          hd.session_id == SMBX_SMB2_SESSION_ID_INHERIT)) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO,
                       "SessionId differs from the TRANSFORM's", at + 40, 0);
      break;
    }
    if (hd.command != SMBX_SMB2_CANCEL) {
      expect++; /* every member but a CANCEL gets a response */
      if (hd.message_id == SMBX_SMB2_MSGID_UNSOLICITED ||
          smbx__conn_win_take(c, hd.message_id,
                              ids_for(c, hd.credit_charge)) != 0) {
        smbx__conn_fatal(c, SMBX_ERR_PROTO,
                         "MessageId outside the window or already used",
                         at + 24, 0);
        break;
      }
    }
    if (hd.flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) {
      related = true;
      later_rel = later_rel || n > 0;
    } else if (n > 0) {
      later_unrel = true;
    }
    n++;
    if (!hd.next_command)
      break; /* the chain ends here (chain_next would say 0) */
  }
  if (!c->err && rc < 0)
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  if (c->err) {
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  h->count = (uint16_t)n;
  h->expect = (uint16_t)expect;
  h->related = related;
  /* 6.2: the styles MUST NOT be mixed; the server SHOULD fail every member
   * INVALID_PARAMETER (3.3.5.2.7), unless the owner runs them as Windows */
  h->mixed = later_rel && later_unrel &&
             !(c->s.flags & SMBX__CONN_F_MIXED_COMPOUNDS);
  h->index = 0;
  if (n == 1 && !related) {
    /* one unrelated PDU, the common case: hd is its header, decoded
     * above; no chain walk (nothing waits for its answer) */
    h->index = 1;
    h->running = 1;
    (void)member(c, hh, h, h->msg, first_len, &hd, 0, true, now);
    h->running = 0;
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  h->c_sess = 0;
  h->c_tree = 0;
  h->have_sess = h->have_tree = h->have_fid = false;
  h->c_fid.persistent_id = h->c_fid.volatile_id = 0;
  h->c_err = 0;
  h->next_off = 0;
  h->more = true;
  run_chain(c, hh, now);
}

void smbx__conn_srv_msg(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now)
{
  const uint8_t *m = h->msg;
  if (h->len >= SMBX_SMB2_HDR_SIZE &&
      smbx__conn_ld32(m) == SMBX_SMB2_PROTOCOL_ID &&
      smbx__conn_ld32(m + 20) == 0 &&
      !(smbx__conn_ld32(m + 16) & SMBX_SMB2_FLAGS_RELATED_OPERATIONS))
    srv_one(c, hh, h, now);
  else
    srv_msg_any(c, hh, h, now);
}

/* ---- owner calls ------------------------------------------------------------ */

int smbx__conn_resp_hdr(const smbx__conn *c, uint64_t req, uint32_t status,
                        smbx_smb2_hdr *h)
{
  if (!c || !h)
    return SMBX_ERR_INVAL;
  const smbx__conn_req *r = smbx__slab_lookup(&c->reqs, req);
  if (!r || c->role != SMBX__CONN_SERVER)
    return SMBX_ERR_NOTFOUND;
  fill_hdr(&r->ri, status, h);
  return 0;
}

static int respond(smbx__conn *c, uint64_t req, uint8_t *buf, size_t cap,
                   size_t len, const smbx__conn_send_opts *o, uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  smbx__conn_req *r = smbx__slab_lookup(&c->reqs, req);
  if (!r || c->role != SMBX__CONN_SERVER)
    return SMBX_ERR_NOTFOUND;
  if (c->err) {
    req_free(c, r);
    return c->err;
  }
  if (!buf || len < SMBX_SMB2_HDR_SIZE || cap < SMBX__CONN_HEADROOM ||
      cap - SMBX__CONN_HEADROOM < len)
    return SMBX_ERR_INVAL;
  /* a related member's answer tells its followers (read before it is
   * encrypted in place) */
  bool related = (r->ri.flags & RI_RELATED) != 0;
  answer a;
  if (related)
    read_answer(buf + SMBX__CONN_HEADROOM, len, &a);
  /* without crypto hooks there are no keys: finish()'s plain case is
   * decided here, without its loads */
  int rc = !c->have_cr && goes_plain(c, &r->ri, o, false)
               ? send_plain(c, &r->ri, buf, cap, len, o ? o->flags : 0,
                            now_ns)
               : finish(c, &r->ri, buf, cap, len, o, now_ns);
  if (rc == SMBX_ERR_AGAIN || rc == SMBX_ERR_RANGE)
    return rc;
  if (rc < 0) {
    /* teardown already aborted it when fatal */
    r = smbx__slab_lookup(&c->reqs, req);
    if (r)
      req_free(c, r);
    return rc;
  }
  if (!related) {
    req_free(c, r);
    return 0;
  }
  smbx__conn_req copy = *r;
  req_free(c, r);
  chain_answered(c, &copy, &a, now_ns);
  return 0;
}

int smbx__conn_respond(smbx__conn *c, uint64_t req, uint8_t *buf, size_t cap,
                       size_t len, const smbx__conn_send_opts *o,
                       uint64_t now_ns)
{
  int rc = respond(c, req, buf, cap, len, o, now_ns);
  if (c)
    smbx__conn_kick(c, now_ns);
  return rc;
}

int smbx__conn_respond_error(smbx__conn *c, uint64_t req, uint32_t status,
                             uint8_t ctx_count, const uint8_t *data,
                             size_t data_len, uint64_t now_ns)
{
  if (!c || (!data && data_len))
    return SMBX_ERR_INVAL;
  if (data_len > SMBX__CONN_EBUF - 72)
    return SMBX_ERR_RANGE;
  smbx_smb2_hdr h;
  int rc = smbx__conn_resp_hdr(c, req, status, &h);
  if (rc)
    return rc;
  smbx_smb2_error_resp er;
  memset(&er, 0, sizeof er);
  er.context_count = ctx_count;
  er.data.p = data;
  er.data.len = data_len;
  smbx_ssize n = smbx_smb2_encode_error_resp(
      &h, &er, c->ebuf + SMBX__CONN_HEADROOM, SMBX__CONN_EBUF, NULL);
  if (n < 0)
    return (int)n;
  return smbx__conn_respond(c, req, c->ebuf,
                            SMBX__CONN_HEADROOM + SMBX__CONN_EBUF, (size_t)n,
                            NULL, now_ns);
}

int smbx__conn_go_async(smbx__conn *c, uint64_t req, uint64_t *async_id,
                        uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  smbx__conn_req *r = smbx__slab_lookup(&c->reqs, req);
  if (!r || c->role != SMBX__CONN_SERVER)
    return SMBX_ERR_NOTFOUND;
  if (c->err)
    return c->err;
  if (r->ri.flags & (RI_ASYNC | RI_SMB1))
    return SMBX_ERR_STATE;
  /* 6.3: the AsyncId is the request handle: non-zero, unique while live */
  r->ri.flags |= RI_ASYNC;
  r->ri.async_id = req;
  smbx_smb2_hdr h;
  fill_hdr(&r->ri, SMBX_STATUS_PENDING, &h);
  smbx_smb2_error_resp er;
  memset(&er, 0, sizeof er);
  smbx_ssize n = smbx_smb2_encode_error_resp(
      &h, &er, c->ebuf + SMBX__CONN_HEADROOM, SMBX__CONN_EBUF, NULL);
  int rc = n < 0 ? (int)n
                 : finish(c, &r->ri, c->ebuf,
                          SMBX__CONN_HEADROOM + SMBX__CONN_EBUF, (size_t)n,
                          NULL, now_ns);
  r = smbx__slab_lookup(&c->reqs, req);
  if (rc) {
    if (r) {
      r->ri.flags &= ~RI_ASYNC;
      r->ri.async_id = 0;
    }
    smbx__conn_kick(c, now_ns);
    return rc;
  }
  c->n_async++;
  if (async_id)
    *async_id = req;
  smbx__conn_kick(c, now_ns);
  return 0;
}

/* ---- unsolicited notifications ---------------------------------------------- */

int smbx__conn_notify(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                      uint64_t session_id, uint64_t now_ns)
{
  if (!c || !buf || cap < SMBX__CONN_HEADROOM ||
      cap - SMBX__CONN_HEADROOM < len ||
      (len != SMBX_SMB2_HDR_SIZE + 24 && len != SMBX_SMB2_HDR_SIZE + 44))
    return SMBX_ERR_INVAL;
  if (c->role != SMBX__CONN_SERVER)
    return SMBX_ERR_STATE;
  if (c->err)
    return c->err;
  if (c->dialect == 0)
    return SMBX_ERR_STATE;
  uint8_t *p = buf + SMBX__CONN_HEADROOM;
  /* 2.2.23 / 3.3.4.6-7: OPLOCK_BREAK, MessageId all-ones, no credits,
   * SessionId / TreeId 0, never signed */
  memset(p, 0, SMBX_SMB2_HDR_SIZE);
  smbx__conn_st32(p + 0, SMBX_SMB2_PROTOCOL_ID);
  smbx__conn_st16(p + 4, 64);
  smbx__conn_st16(p + 12, SMBX_SMB2_OPLOCK_BREAK);
  smbx__conn_st32(p + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  smbx__conn_st64(p + 24, SMBX_SMB2_MSGID_UNSOLICITED);
  /* 3.3.4.1.4: encrypted when the session of the broken open encrypts
   * its traffic (Session.EncryptData), in that session's TRANSFORM */
  smbx__conn_keys k;
  bool enc = session_id && c->dialect >= SMBX_SMB2_DIALECT_300 &&
             smbx__conn_get_keys(c, session_id, &k) &&
             (k.flags & SMBX__CONN_KEYS_CIPHER) &&
             (k.flags & SMBX__CONN_KEYS_ENCRYPT_ALL);
  int rc = smbx__conn_xmit(c, buf, cap, len, enc ? &k : NULL, session_id,
                           now_ns);
  if (rc == 0)
    c->n_out++;
  smbx__conn_kick(c, now_ns);
  return rc;
}
