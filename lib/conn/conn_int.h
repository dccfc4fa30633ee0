/* SPDX-License-Identifier: MIT */
/* lib/conn internals shared by conn.c, win.c, srv.c and cli.c. */
#ifndef SMBX_CONN_INT_H
#define SMBX_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <smbx/tcp.h>

#include "conn/conn.h"
#include "core/alloc.h"
#include "core/cursor.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/slab.h"
#include "smbd/smbd_int.h"

/* little-endian helpers (core's: plain loads and stores on LE hosts) */
static inline uint16_t smbx__conn_ld16(const uint8_t *p)
{
  return smbx__get_le16(p);
}
static inline uint32_t smbx__conn_ld32(const uint8_t *p)
{
  return smbx__get_le32(p);
}
static inline uint64_t smbx__conn_ld64(const uint8_t *p)
{
  return smbx__get_le64(p);
}
static inline void smbx__conn_st16(uint8_t *p, uint16_t v)
{
  smbx__put_le16(p, v);
}
static inline void smbx__conn_st32(uint8_t *p, uint32_t v)
{
  smbx__put_le32(p, v);
}
static inline void smbx__conn_st64(uint8_t *p, uint64_t v)
{
  smbx__put_le64(p, v);
}

/* request-info flags (ri.flags) */
#define RI_SIGNED 0x01u    /* request carried SIGNED (server) / was signed */
#define RI_ENCRYPTED 0x02u /* request arrived / was sent encrypted */
#define RI_ASYNC 0x04u     /* server: interim sent; client: interim seen */
#define RI_GRANTED 0x08u   /* server: credits already granted (interim) */
#define RI_CANCELLED 0x10u /* server: CANCEL matched it */
#define RI_SMB1 0x20u      /* server: SMB1 NEGOTIATE */
#define RI_ZOMBIE 0x40u    /* client: timed out, id kept until a response */
#define RI_RELATED 0x80u   /* member of a related chain */
#define RI_COMPOUND 0x100u /* server: its message holds other requests */
#define RI_FID_SOURCE 0x200u /* server: brings a related chain its FileId */

/* What a response needs to know about its request. */
typedef struct smbx__conn_ri {
  uint64_t msg_id;
  uint64_t async_id;
  uint64_t session_id;
  uint32_t tree_id;
  uint32_t flags;     /* RI_* */
  uint16_t command;
  uint16_t charge;    /* CreditCharge as on the wire */
  uint16_t ids;       /* ids consumed: max(1, charge) or 1 */
  uint16_t credit_req; /* CreditRequest */
  uint16_t members;   /* server, RI_COMPOUND: answers its message needs */
  uint64_t hold;      /* server: the message it came in */
} smbx__conn_ri;

/* hold kinds */
enum { HK_PLAIN = 0, HK_FRAMER = 1, HK_SMBD = 2 };

/* A transport message delivered upward (or being processed). */
typedef struct smbx__conn_hold {
  uint8_t *msg;    /* plaintext SMB2 message (after a TRANSFORM: msg + 52) */
  size_t len;
  uint64_t token;  /* SMB Direct release token */
  uint32_t refs;   /* delivered unreleased PDUs + 1 while being processed */
  uint8_t kind;    /* HK_* */
  uint8_t encrypted;
  uint8_t related, running, kick, waiting;
  uint64_t tf_sid;  /* TRANSFORM SessionId when encrypted */
  /* chain walk state (server) */
  size_t next_off;  /* offset of the next member to process */
  bool more;        /* members remain */
  uint16_t index, count;
  uint16_t expect;  /* server: members to answer (all but CANCELs) */
  uint64_t c_sess;
  uint32_t c_tree;
  bool have_sess, have_tree, have_fid;
  smbx_smb2_fileid c_fid;
  uint32_t c_err; /* status of the failed CREATE or FileId carrier */
  bool mixed;     /* RELATED and unrelated members after the first */
  bool inv;          /* SMB Direct: received WITH_INVALIDATE of inv_rkey */
  uint32_t inv_rkey;
} smbx__conn_hold;

/* A request slot (both roles). */
typedef struct smbx__conn_req {
  smbx__list link;  /* c->live */
  smbx__list tlink; /* client: c->timers, ordered by deadline */
  smbx__conn_ri ri;
  uint64_t user;
  uint64_t deadline;
  uint64_t handle; /* its own slab handle */
  uint16_t extra;  /* client: credits asked beyond the charge */
  uint16_t chain_index;
} smbx__conn_req;

/* Client: a member of the message being sent. */
typedef struct smbx__conn_pend {
  smbx__conn_req *r;
  uint16_t charge; /* CreditCharge computed in the first pass */
} smbx__conn_pend;

/* A queued SMB Direct engine event (compact). */
typedef struct smbx__conn_sev {
  uint32_t type, flags;
  const uint8_t *p;
  size_t len;
  uint64_t x; /* token / msg_id / handle */
  uint32_t a, b, c, d;
  int error;
  uint32_t ntstatus;
  const char *reason;
} smbx__conn_sev;

#define SMBX__CONN_DM_MAX 1024u /* client: most direct-mapped id slots */
#define SMBX__CONN_IDS_MIN 16u  /* client: requests the id hash starts for */
#define SMBX__CONN_EBUF 1024u /* ERROR/ECHO/CANCEL scratch (plus headroom) */

struct smbx__conn {
  smbx_allocator alloc;
  smbx__conn_settings s;
  smbx__conn_upcalls up;
  smbx_crypto cr;
  bool have_cr;
  uint32_t role, transport;
  uint16_t dialect;
  uint32_t caps;
  bool large_mtu;
  bool backpressure;
  bool want_writable;
  bool down_called;
  bool any_msg; /* server: a message arrived (SMB1 only as the first) */
  /* sticky error */
  int err;
  uint32_t err_status;
  smbx_error_detail detail;
  /* transports */
  smbx_tcp_framer *framer;
  bool framer_held;
  uint64_t framer_hold;
  smbx_smbd *smbd;
  smbx__conn_sev *sev;
  uint32_t sev_cap, sev_head, sev_n;
  bool draining;
  /* inside smbx_smbd_recv: an in-place message may be taken at once */
  bool in_recv;
  uint64_t recv_now;
  /* window */
  uint64_t low, high;   /* server: lowest unseen id; client: low = next */
  uint64_t *bm;         /* server bitmap, bm_bits bits */
  uint64_t bm_bits;
  uint64_t nseen;       /* server: seen ids above low */
  uint64_t inflight;    /* server: ids of requests not yet granted for */
  uint64_t asked;       /* client: credits asked beyond charges, in flight */
  /* requests */
  smbx__slab reqs;
  smbx__list live;
  smbx__list timers;
  /* client: MessageId -> req. A request sits in slot id & dm_mask of the
   * direct-mapped table (ids are handed out in order, so live ones rarely
   * collide); one whose slot is taken goes to the hash (n_hashed). */
  smbx__conn_req **dm;
  uint64_t dm_mask;
  uint32_t n_hashed;
  smbx__hash ids;
  smbx__conn_pend *pend; /* client: max_chain members of a message being
                            sent */
  uint32_t n_async;
  uint32_t n_zombie; /* client: timed-out requests keeping their ids */
  /* holds */
  smbx__slab holds;
  /* preauth */
  uint8_t preauth[64];
  uint8_t preauth_state; /* 0 none, 1 request hashed, 2 complete */
  /* scratch for connection-built PDUs */
  uint8_t *ebuf;
  /* server: responses of a related chain compounded into one message
   * (SMBX__CONN_F_COMPOUND_RESPONSES) */
  uint8_t *cbuf;
  size_t cb_cap, cb_len, cb_last_off, cb_last_len;
  uint64_t cb_hold, cb_sid; /* cb_hold: the request message gathered */
  uint16_t cb_expect, cb_answered; /* its members to answer, answered */
  bool cb_enc, cb_last_sign, cb_stuck;
  bool cb_inv; /* a gathered member's answer must invalidate cb_inv_rkey */
  uint32_t cb_inv_rkey;
  smbx__conn_keys cb_keys, cb_last_keys;
  /* counters */
  uint64_t n_in, n_out;
  /* SMB Direct: SEND_WITH_INVALIDATE for the next message */
  bool send_inv;
  uint32_t send_inv_rkey;
};

/* conn.c */
int smbx__conn_fatal(smbx__conn *c, int err, const char *reason, size_t off,
                     uint32_t status);
/* SMB Direct: 0 when the engine takes messages (negotiated, not closing),
 * else its sticky error, SMBX_ERR_CLOSED or SMBX_ERR_STATE. */
static inline int smbx__conn_smbd_ready(const smbx__conn *c)
{
  const smbx_smbd *d = c->smbd;
  if (d->err)
    return d->err;
  if (d->closing)
    return SMBX_ERR_CLOSED;
  return d->state == SMBX_SMBD_STATE_CONNECTED ? 0 : SMBX_ERR_STATE;
}
/* The answer to a refused smbx_smbd_send (rc < 0): SMBX_ERR_AGAIN
 * (writable() owed), SMBX_ERR_RANGE (too large), or a fatal code. */
int smbx__conn_smbd_post_failed(smbx__conn *c, int rc);
/* SMB Direct: hands n bytes at p to the engine, as SEND_WITH_INVALIDATE
 * when one is armed (then it is spent). Only after smbx__conn_smbd_ready
 * said 0: the engine's owner entry skips those checks. */
static inline int smbx__conn_smbd_post(smbx__conn *c, uint8_t *p, size_t n,
                                       uint64_t now)
{
  uint32_t sflags = c->send_inv ? SMBX_SEND_INVALIDATE : 0;
  c->send_inv = false;
  int rc = smbx__smbd_send_msg(c->smbd, p, n, sflags, c->send_inv_rkey, now);
  return rc < 0 ? smbx__conn_smbd_post_failed(c, rc) : 0;
}
/* Sends the message at buf + HEADROOM (len bytes), encrypting with k when
 * k is not NULL. SMBX_ERR_AGAIN (nothing sent), or a fatal code. */
int smbx__conn_xmit_any(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                        const smbx__conn_keys *k, uint64_t session_id,
                        uint64_t now);
static inline int smbx__conn_xmit(smbx__conn *c, uint8_t *buf, size_t cap,
                                  size_t len, const smbx__conn_keys *k,
                                  uint64_t session_id, uint64_t now)
{
  /* a plain message over SMB Direct, the common case: the engine checks
   * its space itself */
  if (!k && c->transport == SMBX__CONN_SMBD) {
    int rc = smbx__conn_smbd_ready(c);
    return rc ? rc : smbx__conn_smbd_post(c, buf + SMBX__CONN_HEADROOM, len,
                                          now);
  }
  return smbx__conn_xmit_any(c, buf, cap, len, k, session_id, now);
}
/* Acts on the queued SMB Direct engine events (unless a drain runs). */
void smbx__conn_drain(smbx__conn *c, uint64_t now);
/* Engine events raised by calls outside the wrappers (a send, a release, a
 * close) are acted on before the owner's call returns; calls made from an
 * upcall during a drain leave them to the running drain. Only an SMB
 * Direct connection queues events. */
static inline void smbx__conn_kick(smbx__conn *c, uint64_t now)
{
  if (c->sev_n && !c->draining)
    smbx__conn_drain(c, now);
}
/* Decrypts a TRANSFORM message in place; returns the plaintext length (at
 * msg + 52) and its SessionId in *sid, or a fatal code (connection down). */
smbx_ssize smbx__conn_decrypt(smbx__conn *c, uint8_t *msg, size_t len,
                              uint64_t *sid);
bool smbx__conn_ask_keys(smbx__conn *c, uint64_t sid, smbx__conn_keys *k);
/* The keys of session sid; callers read *k only when it returns true (the
 * owner then filled it). Without crypto hooks nothing is asked. */
static inline bool smbx__conn_get_keys(smbx__conn *c, uint64_t sid,
                                       smbx__conn_keys *k)
{
  return c->have_cr && smbx__conn_ask_keys(c, sid, k);
}
void smbx__conn_preauth_msg(smbx__conn *c, const uint8_t *p, size_t len,
                            bool restart);

/* win.c */
int smbx__conn_win_init(smbx__conn *c);
void smbx__conn_win_free(smbx__conn *c);
/* server: smbx__conn_win_take for every case but the in-order one */
int smbx__conn_win_take_any(smbx__conn *c, uint64_t mid, uint64_t n);
/* server: checks and marks [mid, mid + n); 0 or SMBX_ERR_PROTO */
static inline int smbx__conn_win_take(smbx__conn *c, uint64_t mid,
                                      uint64_t n)
{
  if (mid == c->low && c->nseen == 0 && n != 0 && n <= c->high - c->low) {
    /* in order with nothing seen above low (the common case): every id
     * of the range is unseen and low moves past it, no bit changes */
    c->low += n;
    c->inflight += n;
    return 0;
  }
  return smbx__conn_win_take_any(c, mid, n);
}

/* The first PDU of a message: one with NextCommand 0 (the whole message,
 * the common case) is decoded directly, without the chain walker (the
 * same checks and error detail); otherwise the walker starts on ch.
 * 1 with *pdu and *hd, or a negative code with *d. */
static inline int smbx__conn_first_pdu(smbx_smb2_chain *ch,
                                       const uint8_t *msg, size_t len,
                                       uint32_t max, smbx_smb2_bytes *pdu,
                                       smbx_smb2_hdr *hd,
                                       smbx_error_detail *d)
{
  if (len >= SMBX_SMB2_HDR_SIZE && smbx__conn_ld32(msg + 20) == 0) {
    int rc = smbx_smb2_hdr_decode(msg, len, hd, d);
    if (rc)
      return rc;
    pdu->p = msg;
    pdu->len = len;
    return 1;
  }
  (void)smbx_smb2_chain_init(ch, msg, len, max);
  return smbx_smb2_chain_next(ch, pdu, hd, d);
}

/* A free request slot with its own handle stored in it; NULL when every
 * slot is taken. */
static inline smbx__conn_req *smbx__conn_req_take(smbx__conn *c)
{
  uint64_t rh;
  smbx__conn_req *r = smbx__slab_get_h(&c->reqs, &rh);
  if (r)
    r->handle = rh;
  return r;
}

/* message holds (every received message is one): the new hold, its
 * handle in *hh; NULL when every hold is taken */
static inline smbx__conn_hold *smbx__conn_hold_new(smbx__conn *c,
                                                   uint8_t *msg, size_t len,
                                                   uint8_t kind,
                                                   uint64_t token,
                                                   uint64_t *hh)
{
  smbx__conn_hold *h = smbx__slab_get_h(&c->holds, hh);
  if (!h)
    return NULL;
  /* the chain-walk fields are set by srv_msg when a message needs them */
  h->msg = msg;
  h->len = len;
  h->token = token;
  h->refs = 1; /* the connection's own reference while processing */
  h->kind = kind;
  h->encrypted = 0;
  h->related = h->running = h->kick = h->waiting = 0;
  h->more = false;
  h->inv = false;
  return h;
}

/* Drops one reference of live hold h (handle hh); the last frees it. */
static inline void smbx__conn_hold_drop(smbx__conn *c, smbx__conn_hold *h,
                                        uint64_t hh, uint64_t now)
{
  if (--h->refs > 0)
    return;
  if (h->kind == HK_SMBD) {
    if (c->smbd)
      (void)smbx_smbd_release(c->smbd, h->token, now);
  } else if (h->kind == HK_FRAMER && c->framer_hold == hh) {
    c->framer_held = false;
    c->framer_hold = 0;
  }
  smbx__slab_put_live(&c->holds, hh);
}

static inline void smbx__conn_hold_unref(smbx__conn *c, uint64_t hh,
                                         uint64_t now)
{
  smbx__conn_hold *h = smbx__slab_lookup(&c->holds, hh);
  if (h && h->refs)
    smbx__conn_hold_drop(c, h, hh, now);
}
/* credit policy and request layout (smb2.md 6.1), inline: every response
 * grants, every request's FileId offset is looked up */
/* Credits the client holds: granted ids not yet used + ids of requests
 * not yet answered with credits. */
static inline uint64_t smbx__conn_server_held(const smbx__conn *c)
{
  return (c->high - c->low - c->nseen) + c->inflight;
}

/* The grant for a response to ri (see conn.h "Server credit policy"). */
static inline uint16_t smbx__conn_grant(const smbx__conn *c,
                                        const smbx__conn_ri *ri)
{
  if (ri->flags & RI_GRANTED)
    return 0; /* the final response of an async request */
  uint64_t held = smbx__conn_server_held(c);
  uint64_t base = held >= ri->ids ? held - ri->ids : 0;
  uint64_t want = ri->credit_req ? ri->credit_req : 1;
  uint64_t cap = c->backpressure ? c->s.credits_min : c->s.credits_max;
  uint64_t room = cap > base ? cap - base : 0;
  uint64_t g = want < room ? want : room;
  uint64_t span = c->high - c->low;
  uint64_t span_room = c->bm_bits > span ? c->bm_bits - span : 0;
  if (g > span_room)
    g = span_room;
  /* never leave the client without a credit (6.1) */
  if (base + g == 0)
    g = 1;
  if (g > 65535)
    g = 65535;
  return (uint16_t)g;
}

static inline void smbx__conn_grant_commit(smbx__conn *c,
                                           const smbx__conn_ri *ri, uint16_t g)
{
  if (!(ri->flags & RI_GRANTED))
    c->inflight = c->inflight >= ri->ids ? c->inflight - ri->ids : 0;
  c->high += g;
}

/* FileId offset of a request body, 0 when the command has none */
static inline size_t smbx__conn_fileid_off(uint16_t command)
{
  switch (command) {
  case SMBX_SMB2_CLOSE:
  case SMBX_SMB2_FLUSH:
  case SMBX_SMB2_LOCK:
  case SMBX_SMB2_IOCTL:
  case SMBX_SMB2_QUERY_DIRECTORY:
  case SMBX_SMB2_CHANGE_NOTIFY:
  case SMBX_SMB2_OPLOCK_BREAK:
    return 72;
  case SMBX_SMB2_READ:
  case SMBX_SMB2_WRITE:
  case SMBX_SMB2_SET_INFO:
    return 80;
  case SMBX_SMB2_QUERY_INFO:
    return 88;
  default:
    return 0;
  }
}

/* the u32 at off of a PDU of len bytes, 0 past its end */
static inline uint32_t smbx__conn_at32(const uint8_t *pdu, size_t len,
                                       size_t off)
{
  return len >= off + 4 ? smbx__conn_ld32(pdu + off) : 0;
}

/* The CreditCharge a request PDU needs (smb2.md 6.1) on connection c,
 * from the payload it moves in either direction (0 for 2.0.2 / no
 * LARGE_MTU); the payload size is also returned (optional) for the
 * > 64 KiB check. */
static inline uint16_t smbx__conn_charge_for(const smbx__conn *c,
                                             const uint8_t *pdu, size_t len,
                                             uint64_t *payload)
{
  uint64_t p = 0;
  if (pdu && len >= SMBX_SMB2_HDR_SIZE) {
    uint16_t cmd = smbx__conn_ld16(pdu + 12);
    uint64_t a, b;
    switch (cmd) {
    case SMBX_SMB2_READ: /* 4.6: Length */
      p = smbx__conn_at32(pdu, len, 68);
      break;
    case SMBX_SMB2_WRITE: /* 4.7: Length, RemainingBytes on RDMA channels */
      a = smbx__conn_at32(pdu, len, 68);
      b = smbx__conn_at32(pdu, len, 96) ? smbx__conn_at32(pdu, len, 100)
                                        : 0;
      p = a > b ? a : b;
      break;
    case SMBX_SMB2_IOCTL: /* 4.9: max(InputCount, MaxOutputResponse) */
      a = smbx__conn_at32(pdu, len, 92);
      b = smbx__conn_at32(pdu, len, 108);
      p = a > b ? a : b;
      break;
    case SMBX_SMB2_QUERY_DIRECTORY: /* 4.10: OutputBufferLength */
      p = smbx__conn_at32(pdu, len, 92);
      break;
    case SMBX_SMB2_CHANGE_NOTIFY: /* 4.11 */
      p = smbx__conn_at32(pdu, len, 68);
      break;
    case SMBX_SMB2_QUERY_INFO: /* 4.12: output and input buffers */
      a = smbx__conn_at32(pdu, len, 68);
      b = smbx__conn_at32(pdu, len, 76);
      p = a > b ? a : b;
      break;
    default:
      break;
    }
  }
  if (payload)
    *payload = p;
  /* smbx_smb2_credit_charge's rule with the dialect and capabilities
   * folded into c->large_mtu: one credit per started 64 KiB, at least
   * one, at most 65535 */
  if (!c->large_mtu)
    return 0;
  uint64_t n = p ? ((p - 1) >> 16) + 1 : 1;
  return n > 0xFFFF ? 0xFFFF : (uint16_t)n;
}

/* srv.c */
/* sends the compound-response buffer (retry after SMBX_ERR_AGAIN) */
int smbx__conn_cb_flush(smbx__conn *c, bool early, uint64_t now);
/* a received message in live hold h (handle hh) */
void smbx__conn_srv_msg(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now);
void smbx__conn_srv_teardown(smbx__conn *c, int err);

/* cli.c */
void smbx__conn_cli_msg(smbx__conn *c, uint64_t hh, smbx__conn_hold *h,
                        uint64_t now);
void smbx__conn_cli_teardown(smbx__conn *c, int err);

#endif
