/* SPDX-License-Identifier: MIT */
/* Client role: MessageIds and credits for outgoing requests, CreditCharge,
 * signing/encryption, response matching and checks, CANCEL, timeouts. */
#include "conn/conn_int.h"
#include "smb2/smb2_int.h"
#include "smb2/validate.h"

#include "core/time.h"

static void timer_insert(smbx__conn *c, smbx__conn_req *r)
{
  smbx__list_remove(&r->tlink);
  if (r->deadline == SMBX__NO_DEADLINE)
    return;
  /* ordered by deadline; new deadlines are usually the latest */
  SMBX__LIST_FOREACH_REVERSE_SAFE(it, tmp, &c->timers) {
    (void)tmp;
    smbx__conn_req *q = SMBX__CONTAINER_OF(it, smbx__conn_req, tlink);
    if (q->deadline <= r->deadline) {
      smbx__list_insert_after(it, &r->tlink);
      return;
    }
  }
  smbx__list_insert_head(&c->timers, &r->tlink);
}

/* ---- MessageId -> request ------------------------------------------------- */

static void id_insert(smbx__conn *c, smbx__conn_req *r)
{
  smbx__conn_req **slot = &c->dm[r->ri.msg_id & c->dm_mask];
  if (!*slot) {
    *slot = r;
    return;
  }
  /* id_room made room before the send */
  if (smbx__hash_insert_u64(&c->ids, r->ri.msg_id, r) == 0)
    c->n_hashed++;
}

/* Room in the hash for n more requests (grown before anything is sent,
 * so an insert after the send cannot fail). 0 or SMBX_ERR_NOMEM. */
static int id_room(smbx__conn *c, size_t n)
{
  while (smbx__hash_max_len(c->ids.cap) < c->n_hashed + n)
    if (smbx__hash_grow(&c->ids) != 0)
      return SMBX_ERR_NOMEM;
  return 0;
}

static smbx__conn_req *id_find(const smbx__conn *c, uint64_t mid)
{
  smbx__conn_req *r = c->dm[mid & c->dm_mask];
  if (r && r->ri.msg_id == mid)
    return r;
  return c->n_hashed ? smbx__hash_get_u64(&c->ids, mid) : NULL;
}

static void id_remove(smbx__conn *c, const smbx__conn_req *r)
{
  smbx__conn_req **slot = &c->dm[r->ri.msg_id & c->dm_mask];
  if (*slot == r)
    *slot = NULL;
  else if (smbx__hash_remove_u64(&c->ids, r->ri.msg_id))
    c->n_hashed--;
}

static void req_free(smbx__conn *c, smbx__conn_req *r)
{
  smbx__list_remove(&r->link);
  smbx__list_remove(&r->tlink);
  id_remove(c, r);
  if (r->ri.flags & RI_ZOMBIE)
    c->n_zombie--;
  smbx__slab_put_live(&c->reqs, r->handle);
}

uint32_t smbx__conn_owed(const smbx__conn *c)
{
  if (!c || c->role != SMBX__CONN_CLIENT)
    return 0;
  return smbx__slab_live(&c->reqs) - c->n_zombie + (c->down_called ? 0 : 1);
}

/* The ids of a request are back with the server once a response (interim
 * or final) granted for it. */
static void returned(smbx__conn *c, smbx__conn_req *r)
{
  if (r->ri.flags & RI_GRANTED)
    return;
  r->ri.flags |= RI_GRANTED;
  c->inflight = c->inflight >= r->ri.ids ? c->inflight - r->ri.ids : 0;
  c->asked = c->asked >= r->extra ? c->asked - r->extra : 0;
}

void smbx__conn_cli_teardown(smbx__conn *c, int err)
{
  smbx__list *n;
  while ((n = smbx__list_first(&c->live))) {
    smbx__conn_req *r = SMBX__CONTAINER_OF(n, smbx__conn_req, link);
    uint64_t hh = r->handle;
    uint64_t user = r->user;
    bool zombie = (r->ri.flags & RI_ZOMBIE) != 0;
    req_free(c, r);
    if (!zombie)
      c->up.complete(c->up.ctx, hh, user, err, NULL);
  }
}

static uint16_t ids_of(const smbx__conn *c, uint16_t charge)
{
  return (!c->large_mtu || charge == 0) ? 1 : charge;
}

/* ---- sending --------------------------------------------------------------- */

/* The PDU at *off of a message whose chain pass 1 of smbx__conn_send
 * validated already (every NextCommand aligned, in bounds, past the body):
 * its length, and *off moved to the next one (len at the end). */
static size_t validated_pdu(const uint8_t *msg, size_t len, size_t *off)
{
  uint32_t next = smbx__conn_ld32(msg + *off + 20);
  size_t n = next ? next : len - *off;
  *off += n;
  return n;
}

/* Signing, encryption and preauth hashing state of one message sent. */
typedef struct send_crypto {
  smbx__conn_keys k, ek; /* k: of cached_sid; ek: the TRANSFORM's */
  uint64_t cached_sid, enc_sid;
  bool have_k, enc, pa_ok, neg_hash;
  uint8_t pa[64], conn_pa[64];
} send_crypto;

static void crypto_begin(send_crypto *x, const smbx__conn_send_opts *o)
{
  x->cached_sid = x->enc_sid = 0;
  x->have_k = x->enc = x->neg_hash = false;
  x->pa_ok = o && o->preauth;
  if (x->pa_ok)
    memcpy(x->pa, o->preauth, 64);
}

/* Member i of the message (at p, plen bytes, patched, session sid) with
 * crypto hooks: decides the message's encryption on member 0, signs,
 * hashes. 1 when it was signed, 0, or a negative code (hook failed). */
static int protect(smbx__conn *c, send_crypto *x, uint8_t *p, size_t plen,
                   uint16_t command, uint64_t sid, uint32_t i,
                   uint32_t oflags)
{
  bool neg = command == SMBX_SMB2_NEGOTIATE;
  bool have = false;
  if (!neg && sid) {
    if (sid != x->cached_sid) {
      x->have_k = smbx__conn_get_keys(c, sid, &x->k);
      x->cached_sid = sid;
    }
    have = x->have_k;
  }
  const smbx__conn_keys *k = &x->k;
  /* 6.5: a binding SESSION_SETUP (Flags @66 bit 0) is never encrypted */
  bool binding = command == SMBX_SMB2_SESSION_SETUP && plen > 66 &&
                 (p[66] & 1);
  if (i == 0 && have && !binding && (k->flags & SMBX__CONN_KEYS_CIPHER) &&
      !(oflags & SMBX__CONN_SEND_NO_ENCRYPT) &&
      ((k->flags & SMBX__CONN_KEYS_ENCRYPT_ALL) ||
       (oflags & SMBX__CONN_SEND_ENCRYPT))) {
    x->enc = true;
    x->ek = *k;
  }
  bool sign = !x->enc && have && (k->flags & SMBX__CONN_KEYS_SIGNING) &&
              ((k->flags & SMBX__CONN_KEYS_SIGN_ALL) ||
               (oflags & SMBX__CONN_SEND_SIGN)) &&
              !(oflags & SMBX__CONN_SEND_NO_SIGN);
  if (sign && smbx_smb2_sign(&c->cr, k->keys.signing_alg, k->keys.signing, p,
                             plen, SMBX_CRYPTO_SIGN_SET_FLAG) != 0)
    return SMBX_ERR_TRANSPORT;
  if (x->pa_ok && smbx_smb2_preauth_update(&c->cr, x->pa, p, plen) != 0)
    x->pa_ok = false;
  if (neg && i == 0 && c->cr.sha512 &&
      !(c->s.flags & SMBX__CONN_F_NO_PREAUTH)) {
    smbx_smb2_preauth_init(x->conn_pa);
    x->neg_hash = smbx_smb2_preauth_update(&c->cr, x->conn_pa, p, plen) == 0;
  }
  return sign ? 1 : 0;
}

/* Patches the header of a member: CreditCharge, CreditRequest, flags,
 * MessageId, no signature (ChannelSequence zero before 3.0). */
static void patch_req(const smbx__conn *c, uint8_t *p, uint16_t charge,
                      uint16_t creq, uint64_t mid)
{
  uint32_t fl = smbx__conn_ld32(p + 16);
  fl &= ~(SMBX_SMB2_FLAGS_SERVER_TO_REDIR | SMBX_SMB2_FLAGS_ASYNC_COMMAND |
          SMBX_SMB2_FLAGS_SIGNED);
  smbx__conn_st16(p + 6, charge);
  if (c->dialect < SMBX_SMB2_DIALECT_300)
    smbx__conn_st32(p + 8, 0);
  smbx__conn_st16(p + 14, creq);
  smbx__conn_st32(p + 16, fl);
  smbx__conn_st64(p + 24, mid);
  memset(p + 48, 0, 16);
}

/* Fills the slot of a member from its patched header (synchronous:
 * TreeId @36); linked only once the message went out. */
static void fill_req(smbx__conn_req *r, const uint8_t *p, uint64_t mid,
                     uint64_t sid, uint16_t ids, uint32_t flags,
                     uint64_t user, uint64_t deadline, uint32_t i)
{
  uint16_t credits = smbx__conn_ld16(p + 14);
  r->ri.msg_id = mid;
  r->ri.async_id = 0;
  r->ri.session_id = sid;
  r->ri.tree_id = smbx__conn_ld32(p + 36);
  r->ri.flags = flags | (smbx__conn_ld32(p + 16) &
                                 SMBX_SMB2_FLAGS_RELATED_OPERATIONS
                             ? RI_RELATED
                             : 0);
  r->ri.command = smbx__conn_ld16(p + 12);
  r->ri.charge = smbx__conn_ld16(p + 6);
  r->ri.ids = ids;
  r->ri.credit_req = credits;
  r->ri.members = 0;
  r->ri.hold = 0;
  r->user = user;
  r->deadline = deadline;
  r->extra = credits > ids ? (uint16_t)(credits - ids) : 0;
  r->chain_index = (uint16_t)i;
  smbx__list_init(&r->link);
  smbx__list_init(&r->tlink);
}

/* A request that went out: live, findable by MessageId, timed. */
static inline void link_req(smbx__conn *c, smbx__conn_req *r)
{
  c->asked += r->extra;
  smbx__list_insert_tail(&c->live, &r->link);
  id_insert(c, r);
  timer_insert(c, r);
}

static uint64_t deadline_for(const smbx__conn *c,
                             const smbx__conn_send_opts *o, uint64_t now)
{
  uint64_t timeout = c->s.request_timeout_ns;
  if (o && o->timeout_ns)
    timeout = o->timeout_ns;
  return (timeout == 0 || timeout == UINT64_MAX)
             ? SMBX__NO_DEADLINE
             : smbx__deadline_add(now, timeout);
}

/* CreditRequest of the last member: automatic = aim at credit_target held
 * (available + in flight + already asked) */
static uint16_t credit_request(const smbx__conn *c,
                               const smbx__conn_send_opts *o, uint64_t ids,
                               bool last)
{
  uint64_t creq;
  if (o && o->credit_request) {
    creq = o->credit_request;
  } else {
    uint64_t held = (c->high - c->low) + c->inflight + c->asked;
    creq = ids + (last && c->s.credit_target > held
                      ? c->s.credit_target - held
                      : 0);
  }
  return creq > 65535 ? 65535 : (uint16_t)creq;
}

static void send_done_common(smbx__conn *c, send_crypto *x,
                             const smbx__conn_send_opts *o, uint64_t total,
                             uint32_t n, uint64_t now)
{
  c->inflight += total;
  c->low += total;
  c->n_out += n;
  if (x && x->pa_ok)
    memcpy(o->preauth, x->pa, 64);
  if (x && x->neg_hash) {
    memcpy(c->preauth, x->conn_pa, 64);
    c->preauth_state = 1;
  }
  smbx__conn_kick(c, now);
}

/* One PDU (NextCommand 0): the common case, the same checks and effects
 * as the chain path without its walks. The owner's header is checked as
 * a decoder would (length, ProtocolId, StructureSize, AsyncId) and the
 * two fields needed are read from it. */
static int send_one(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                    const smbx__conn_send_opts *o, uint64_t user,
                    uint64_t *reqs, size_t n_reqs, uint64_t now)
{
  uint8_t *p = buf + SMBX__CONN_HEADROOM;
  if (smbx__smb2_hdr_check(p, len, NULL) != 0)
    return SMBX_ERR_INVAL;
  uint16_t cmd = smbx__conn_ld16(p + 12);
  if (cmd >= SMBX_SMB2_COMMAND_COUNT || cmd == SMBX_SMB2_CANCEL)
    return SMBX_ERR_INVAL;
  uint64_t payload = 0;
  uint16_t charge = smbx__conn_charge_for(c, p, len, &payload);
  if (!c->large_mtu && payload > 65536)
    return SMBX_ERR_RANGE;
  if (reqs && n_reqs == 0)
    return SMBX_ERR_INVAL;
  uint16_t ids = ids_of(c, charge);
  /* 6.1: never more than the credits held; the caller retries */
  if (ids > c->high - c->low ||
      smbx__slab_live(&c->reqs) >= smbx__slab_cap(&c->reqs)) {
    c->want_writable = true;
    return SMBX_ERR_AGAIN;
  }
  uint64_t mid = c->low;
  if (c->dm[mid & c->dm_mask] && id_room(c, 1))
    return SMBX_ERR_NOMEM; /* its table slot is taken: it goes to the hash */
  patch_req(c, p, charge, credit_request(c, o, ids, true), mid);
  uint64_t sid = smbx__conn_ld64(p + 40);
  if (sid == SMBX_SMB2_SESSION_ID_INHERIT)
    sid = 0;
  send_crypto x;
  int signed_ = 0;
  if (c->have_cr) {
    crypto_begin(&x, o);
    signed_ = protect(c, &x, p, len, cmd, sid, 0, o ? o->flags : 0);
    if (signed_ < 0)
      return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "signing hook failed",
                              0, 0);
  }
  bool enc = c->have_cr && x.enc;
  smbx__conn_req *r = smbx__conn_req_take(c); /* room checked */
  fill_req(r, p, mid, sid, ids,
           (signed_ ? RI_SIGNED : 0) | (enc ? RI_ENCRYPTED : 0), user,
           deadline_for(c, o, now), 0);
  int rc = smbx__conn_xmit(c, buf, cap, len, enc ? &x.ek : NULL, sid, now);
  if (rc) {
    (void)smbx__slab_put(&c->reqs, r);
    smbx__conn_kick(c, now);
    return rc;
  }
  link_req(c, r);
  if (reqs)
    reqs[0] = r->handle;
  send_done_common(c, c->have_cr ? &x : NULL, o, ids, 1, now);
  return 1;
}

static int send_chain(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                      const smbx__conn_send_opts *o, uint64_t user,
                      uint64_t *reqs, size_t n_reqs, uint64_t now_ns);

int smbx__conn_send(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                    const smbx__conn_send_opts *o, uint64_t user,
                    uint64_t *reqs, size_t n_reqs, uint64_t now_ns)
{
  if (!c || !buf || len < SMBX_SMB2_HDR_SIZE || cap < SMBX__CONN_HEADROOM ||
      cap - SMBX__CONN_HEADROOM < len)
    return SMBX_ERR_INVAL;
  if (c->role != SMBX__CONN_CLIENT)
    return SMBX_ERR_STATE;
  if (c->err)
    return c->err;
  if (smbx__conn_ld32(buf + SMBX__CONN_HEADROOM + 20) == 0) /* one PDU */
    return send_one(c, buf, cap, len, o, user, reqs, n_reqs, now_ns);
  return send_chain(c, buf, cap, len, o, user, reqs, n_reqs, now_ns);
}

/* A compound chain: every member's header walked, charged, patched,
 * signed. */
static int send_chain(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                      const smbx__conn_send_opts *o, uint64_t user,
                      uint64_t *reqs, size_t n_reqs, uint64_t now_ns)
{
  uint8_t *msg = buf + SMBX__CONN_HEADROOM;
  uint32_t oflags = o ? o->flags : 0;
  /* pass 1: layout, charges, total ids */
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr hd;
  (void)smbx_smb2_chain_init(&ch, msg, len, c->s.max_chain);
  int rc = smbx_smb2_chain_next(&ch, &pdu, &hd, NULL);
  uint64_t total = 0;
  uint32_t n = 0;
  for (; rc == 1; rc = smbx_smb2_chain_next(&ch, &pdu, &hd, NULL)) {
    if (hd.command >= SMBX_SMB2_COMMAND_COUNT ||
        hd.command == SMBX_SMB2_CANCEL)
      return SMBX_ERR_INVAL;
    uint64_t payload = 0;
    uint16_t charge = smbx__conn_charge_for(c, pdu.p, pdu.len, &payload);
    if (!c->large_mtu && payload > 65536)
      return SMBX_ERR_RANGE;
    total += ids_of(c, charge);
    c->pend[n].charge = charge; /* chain_next stops at max_chain */
    n++;
    if (!hd.next_command)
      break; /* the chain ends here (chain_next would say 0) */
  }
  if (rc < 0 || n == 0)
    return SMBX_ERR_INVAL;
  if (reqs && n_reqs < n)
    return SMBX_ERR_INVAL;
  /* 6.1: never more than the credits held; the caller retries */
  if (total > 65535)
    return SMBX_ERR_RANGE;
  if (total > c->high - c->low ||
      smbx__slab_live(&c->reqs) + n > smbx__slab_cap(&c->reqs)) {
    c->want_writable = true;
    return SMBX_ERR_AGAIN;
  }
  /* any member may find its table slot taken */
  if (id_room(c, n))
    return SMBX_ERR_NOMEM;
  uint64_t deadline = deadline_for(c, o, now_ns);
  /* pass 2: patch, sign, hash; the request slots are filled before the
   * message is encrypted in place */
  send_crypto x;
  crypto_begin(&x, o);
  uint64_t mid = c->low, last_sid = 0;
  uint32_t i = 0;
  for (size_t off = 0; i < n;) {
    uint8_t *p = msg + off;
    size_t plen = validated_pdu(msg, len, &off);
    uint16_t ids = ids_of(c, c->pend[i].charge);
    patch_req(c, p, c->pend[i].charge,
              credit_request(c, o, ids, i + 1 == n), mid);
    uint64_t sid = smbx__conn_ld64(p + 40);
    if (sid == SMBX_SMB2_SESSION_ID_INHERIT)
      sid = last_sid;
    else
      last_sid = sid;
    if (i == 0)
      x.enc_sid = sid;
    int signed_ = 0;
    if (c->have_cr &&
        (signed_ = protect(c, &x, p, plen, smbx__conn_ld16(p + 12), sid, i,
                           oflags)) < 0) {
      for (uint32_t j = 0; j < i; j++)
        (void)smbx__slab_put(&c->reqs, c->pend[j].r);
      return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "signing hook failed",
                              0, 0);
    }
    smbx__conn_req *r = smbx__conn_req_take(c); /* room checked */
    c->pend[i].r = r;
    fill_req(r, p, mid, sid, ids,
             (signed_ ? RI_SIGNED : 0) | (x.enc ? RI_ENCRYPTED : 0), user,
             deadline, i);
    mid += ids;
    i++;
  }
  rc = smbx__conn_xmit(c, buf, cap, len, x.enc ? &x.ek : NULL, x.enc_sid,
                       now_ns);
  if (rc) {
    for (uint32_t j = 0; j < n; j++)
      (void)smbx__slab_put(&c->reqs, c->pend[j].r);
    smbx__conn_kick(c, now_ns);
    return rc;
  }
  for (uint32_t j = 0; j < n; j++) {
    link_req(c, c->pend[j].r);
    if (reqs)
      reqs[j] = c->pend[j].r->handle;
  }
  send_done_common(c, c->have_cr ? &x : NULL, o, total, n, now_ns);
  return (int)n;
}

int smbx__conn_cancel(smbx__conn *c, uint64_t req, uint64_t now_ns)
{
  if (!c)
    return SMBX_ERR_INVAL;
  smbx__conn_req *r = smbx__slab_lookup(&c->reqs, req);
  if (!r || c->role != SMBX__CONN_CLIENT || (r->ri.flags & RI_ZOMBIE))
    return SMBX_ERR_NOTFOUND;
  if (c->err)
    return c->err;
  /* 6.3: MessageId of the target, ASYNC + AsyncId after an interim, its
   * SessionId, no credit */
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_CANCEL;
  h.message_id = r->ri.msg_id;
  h.session_id = r->ri.session_id;
  if (r->ri.flags & RI_ASYNC) {
    h.flags = SMBX_SMB2_FLAGS_ASYNC_COMMAND;
    h.async_id = r->ri.async_id;
  } else {
    h.tree_id = r->ri.tree_id;
  }
  uint8_t *p = c->ebuf + SMBX__CONN_HEADROOM;
  (void)smbx_smb2_hdr_encode(&h, p, SMBX__CONN_EBUF, NULL);
  smbx__conn_st16(p + 64, 4);
  smbx__conn_st16(p + 66, 0);
  smbx__conn_keys k;
  bool have = smbx__conn_get_keys(c, h.session_id, &k);
  bool enc = have && (r->ri.flags & RI_ENCRYPTED) &&
             (k.flags & SMBX__CONN_KEYS_CIPHER);
  if (!enc && have && (r->ri.flags & RI_SIGNED) &&
      (k.flags & SMBX__CONN_KEYS_SIGNING) &&
      smbx_smb2_sign(&c->cr, k.keys.signing_alg, k.keys.signing, p, 68,
                     SMBX_CRYPTO_SIGN_SET_FLAG) != 0)
    return smbx__conn_fatal(c, SMBX_ERR_TRANSPORT, "signing hook failed", 0,
                            0);
  int rc = smbx__conn_xmit(c, c->ebuf, SMBX__CONN_HEADROOM + SMBX__CONN_EBUF,
                           68, enc ? &k : NULL, h.session_id, now_ns);
  smbx__conn_kick(c, now_ns);
  return rc;
}

/* ---- responses -------------------------------------------------------------- */

static void writable(smbx__conn *c)
{
  if (c->want_writable && !c->err && c->high > c->low) {
    c->want_writable = false;
    if (c->up.writable)
      c->up.writable(c->up.ctx);
  }
}

/* 3.2.5.1: one response PDU. Returns false when the connection died. */
static bool cli_pdu(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                    uint8_t *p, size_t len, const smbx_smb2_hdr *hd,
                    uint16_t idx, bool last, uint64_t now)
{
  c->n_in++;
  uint32_t pflags = (h->encrypted ? SMBX__CONN_PDU_ENCRYPTED : 0) |
                    (last ? SMBX__CONN_PDU_LAST : 0) |
                    (h->inv ? SMBX__CONN_PDU_INVALIDATED : 0);
  smbx__conn_pdu pd;
  memset(&pd, 0, sizeof pd);
  pd.invalidated_rkey = h->inv ? h->inv_rkey : 0;
  pd.data = p;
  pd.len = len;
  pd.hdr = *hd;
  pd.chain_index = idx;
  size_t at = (size_t)(p - h->msg);
  if (hd->message_id == SMBX_SMB2_MSGID_UNSOLICITED) {
    /* 2.2 / 4.13: only oplock and lease break notifications */
    if (hd->command != SMBX_SMB2_OPLOCK_BREAK) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO,
                       "unsolicited response other than OPLOCK_BREAK",
                       at + 24, 0);
      return false;
    }
    if (c->up.notify) {
      pd.hold = hh;
      pd.flags = pflags;
      h->refs++;
      c->up.notify(c->up.ctx, &pd);
    }
    return !c->err;
  }
  smbx__conn_req *r = id_find(c, hd->message_id);
  if (!r) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "response for an unknown MessageId",
                     at + 24, 0);
    return false;
  }
  if (r->ri.command != hd->command) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "response Command differs",
                     at + 12, 0);
    return false;
  }
  /* 6.1 (Samba's rule): credits held may not pass 65535 */
  c->high += hd->credits;
  if (c->high - c->low > 65535) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "credit grant overflows 65535",
                     at + 14, 0);
    return false;
  }
  bool is_async = (hd->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) != 0;
  if (hd->status == SMBX_STATUS_PENDING) {
    /* 6.3: interim; a second one is a protocol error */
    if (!is_async || (r->ri.flags & RI_ASYNC)) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO,
                       is_async ? "second STATUS_PENDING"
                                : "STATUS_PENDING without ASYNC",
                       at + 8, 0);
      return false;
    }
    r->ri.flags |= RI_ASYNC;
    r->ri.async_id = hd->async_id;
    returned(c, r);
    if (!(r->ri.flags & RI_ZOMBIE)) {
      r->deadline = c->s.async_timeout_ns
                        ? smbx__deadline_add(now, c->s.async_timeout_ns)
                        : SMBX__NO_DEADLINE;
      timer_insert(c, r);
      if (c->up.interim) {
        pd.req = r->handle;
        pd.user = r->user;
        pd.hold = hh;
        pd.flags = pflags | SMBX__CONN_PDU_INTERIM;
        h->refs++;
        c->up.interim(c->up.ctx, pd.req, r->user, &pd);
      }
    }
    writable(c);
    return !c->err;
  }
  if ((r->ri.flags & RI_ASYNC) &&
      (!is_async || hd->async_id != r->ri.async_id)) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "final response AsyncId differs",
                     at + 32, 0);
    return false;
  }
  returned(c, r);
  uint64_t rh = r->handle;
  uint64_t user = r->user;
  bool zombie = (r->ri.flags & RI_ZOMBIE) != 0;
  bool neg = r->ri.command == SMBX_SMB2_NEGOTIATE;
  /* 3.2.5.1.3: the session is the request's (a response naming another,
   * or the inherited all-ones Samba echoes, is checked with the request's
   * keys); only a SESSION_SETUP response names a new one */
  uint64_t sid = r->ri.session_id;
  if (r->ri.command == SMBX_SMB2_SESSION_SETUP && hd->session_id &&
      hd->session_id != SMBX_SMB2_SESSION_ID_INHERIT)
    sid = hd->session_id;
  req_free(c, r);
  if (zombie) {
    writable(c);
    return !c->err;
  }
  int err = 0;
  smbx__conn_keys k;
  bool have = !neg && smbx__conn_get_keys(c, sid, &k);
  if (hd->flags & SMBX_SMB2_FLAGS_SIGNED) {
    pflags |= SMBX__CONN_PDU_SIGNED;
    if (h->encrypted) {
      /* a TRANSFORM authenticates it */
    } else if (have && (k.flags & SMBX__CONN_KEYS_SIGNING)) {
      if (smbx_smb2_verify(&c->cr, k.keys.signing_alg, k.keys.signing, p,
                           len) == 0)
        pflags |= SMBX__CONN_PDU_VERIFIED;
      else
        err = SMBX_ERR_AUTH;
    } else {
      pflags |= SMBX__CONN_PDU_SIG_UNCHECKED;
    }
  } else if (have && !h->encrypted &&
             (k.flags & SMBX__CONN_KEYS_SIGN_ALL) &&
             hd->command != SMBX_SMB2_SESSION_SETUP &&
             hd->status != SMBX_STATUS_USER_SESSION_DELETED &&
             hd->status != SMBX_STATUS_NETWORK_SESSION_EXPIRED) {
    /* 3.2.5.1.3: an unsigned response on a signing session */
    err = SMBX_ERR_AUTH;
  }
  if (neg)
    smbx__conn_preauth_msg(c, p, len, false);
  if (err) {
    c->up.complete(c->up.ctx, rh, user, err, NULL);
  } else {
    pd.req = rh;
    pd.user = user;
    pd.hold = hh;
    pd.flags = pflags;
    h->refs++;
    c->up.complete(c->up.ctx, rh, user, 0, &pd);
  }
  writable(c);
  return !c->err;
}

/* A plain message of one PDU (not a TRANSFORM, NextCommand 0), the
 * common case: the first pass's checks and cli_pdu()'s matching and
 * completion in one straight path, the header decoded once into the
 * delivered PDU. A response that is not a plain final one (unsolicited,
 * unmatched, interim, to an async or timed-out request, to NEGOTIATE or
 * SESSION_SETUP, SIGNED, on a session that signs everything) is handed to
 * cli_pdu(). */
static void cli_one(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                    uint64_t now)
{
  smbx__conn_pdu pd;
  smbx_smb2_hdr *hd = &pd.hdr;
  smbx_error_detail d = {0, 0};
  if (smbx_smb2_hdr_decode(h->msg, h->len, hd, &d) != 0) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  } else if (!(hd->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR)) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "response without SERVER_TO_REDIR",
                     16, 0);
  } else if (smbx__smb2_pdu_check(h->msg, h->len, hd, &d) != 0 &&
             !(hd->message_id == SMBX_SMB2_MSGID_UNSOLICITED &&
               hd->command == SMBX_SMB2_OPLOCK_BREAK)) {
    /* leases.md 2.7: a break notification of a size we do not know is
     * that PDU's error, not the connection's: the owner classifies it */
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  }
  if (c->err) {
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  smbx__conn_req *r = hd->message_id == SMBX_SMB2_MSGID_UNSOLICITED
                          ? NULL
                          : id_find(c, hd->message_id);
  smbx__conn_keys k;
  if (!r || r->ri.command != hd->command ||
      hd->status == SMBX_STATUS_PENDING ||
      (r->ri.flags & (RI_ASYNC | RI_ZOMBIE)) ||
      hd->command == SMBX_SMB2_NEGOTIATE ||
      hd->command == SMBX_SMB2_SESSION_SETUP ||
      (hd->flags & SMBX_SMB2_FLAGS_SIGNED) ||
      (smbx__conn_get_keys(c, r->ri.session_id, &k) &&
       (k.flags & SMBX__CONN_KEYS_SIGN_ALL))) {
    h->running = 1;
    (void)cli_pdu(c, hh, h, h->msg, h->len, hd, 0, true, now);
    h->running = 0;
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  c->n_in++;
  /* 6.1 (Samba's rule): credits held may not pass 65535 */
  c->high += hd->credits;
  if (c->high - c->low > 65535) {
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "credit grant overflows 65535", 14,
                     0);
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  returned(c, r);
  uint64_t rh = r->handle;
  uint64_t user = r->user;
  req_free(c, r);
  pd.data = h->msg;
  pd.len = h->len;
  pd.fileid.persistent_id = pd.fileid.volatile_id = 0;
  pd.req = rh;
  pd.user = user;
  pd.hold = hh;
  pd.flags = SMBX__CONN_PDU_LAST | (h->inv ? SMBX__CONN_PDU_INVALIDATED : 0);
  pd.chain_index = 0;
  pd.chain_count = 0;
  pd.invalidated_rkey = h->inv ? h->inv_rkey : 0;
  /* the connection's reference on the message becomes the owner's: the
   * connection is done with it (the owner may release it in the upcall) */
  c->up.complete(c->up.ctx, rh, user, 0, &pd);
  writable(c);
}

void smbx__conn_cli_msg(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now)
{
  const uint8_t *m = h->msg;
  if (h->len >= SMBX_SMB2_HDR_SIZE &&
      smbx__conn_ld32(m) == SMBX_SMB2_PROTOCOL_ID &&
      smbx__conn_ld32(m + 20) == 0) {
    cli_one(c, hh, h, now);
    return;
  }
  int kind = smbx_smb2_msg_kind(h->msg, h->len);
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
    smbx__conn_fatal(c, SMBX_ERR_PROTO, "not an SMB2 response message", 0, 0);
    smbx__conn_hold_unref(c, hh, now);
    return;
  }
  /* first pass: the whole chain is well formed and every PDU a response */
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr hd;
  smbx_error_detail d = {0, 0};
  int rc;
  uint32_t n = 0;
  size_t first_len = 0;
  for (rc = smbx__conn_first_pdu(&ch, h->msg, h->len, c->s.max_chain, &pdu,
                                 &hd, &d);
       rc == 1; rc = smbx_smb2_chain_next(&ch, &pdu, &hd, &d)) {
    size_t at = (size_t)(pdu.p - h->msg);
    if (n == 0)
      first_len = pdu.len;
    if (!(hd.flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR)) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO, "response without SERVER_TO_REDIR",
                       at + 16, 0);
      break;
    }
    /* 3.2.5.1.1.1: every PDU inside a TRANSFORM belongs to its session;
     * a break notification carries SessionId 0 inside the TRANSFORM of
     * the session whose open it breaks, and a related member may echo
     * the inherited all-ones of its request (both as Samba sends them) */
    if (h->encrypted && hd.session_id != h->tf_sid &&
        !(hd.message_id == SMBX_SMB2_MSGID_UNSOLICITED &&
          hd.command == SMBX_SMB2_OPLOCK_BREAK && hd.session_id == 0) &&
        !(n > 0 && (hd.flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) &&
          hd.session_id == SMBX_SMB2_SESSION_ID_INHERIT)) {
      smbx__conn_fatal(c, SMBX_ERR_PROTO,
                       "SessionId differs from the TRANSFORM's", at + 40, 0);
      break;
    }
    if (smbx__smb2_pdu_check(pdu.p, pdu.len, &hd, &d) != 0 &&
        !(hd.message_id == SMBX_SMB2_MSGID_UNSOLICITED &&
          hd.command == SMBX_SMB2_OPLOCK_BREAK)) {
      /* leases.md 2.7: a break notification of a size we do not know is
       * that PDU's error, not the connection's: the owner classifies it */
      smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, at + d.offset, 0);
      break;
    }
    n++;
    if (!hd.next_command)
      break; /* the chain ends here (chain_next would say 0) */
  }
  if (!c->err && rc < 0)
    smbx__conn_fatal(c, SMBX_ERR_PROTO, d.reason, d.offset, 0);
  if (!c->err && n == 1) {
    /* one PDU, the common case: hd is its header, decoded above */
    h->running = 1;
    (void)cli_pdu(c, hh, h, h->msg, first_len, &hd, 0, true, now);
    h->running = 0;
  } else if (!c->err) {
    h->running = 1;
    (void)smbx_smb2_chain_init(&ch, h->msg, h->len, c->s.max_chain);
    uint16_t idx = 0;
    while (smbx_smb2_chain_next(&ch, &pdu, &hd, NULL) == 1) {
      uint8_t *p = h->msg + (pdu.p - h->msg);
      bool last = (uint32_t)idx + 1 == n;
      if (!cli_pdu(c, hh, h, p, pdu.len, &hd, idx, last, now))
        break;
      idx++;
    }
    h->running = 0;
  }
  smbx__conn_hold_unref(c, hh, now);
}
