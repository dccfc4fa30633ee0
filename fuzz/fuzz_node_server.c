/* SPDX-License-Identifier: MIT */
/* fuzz_node_server: a server node after NEGOTIATE + SESSION_SETUP + TREE
 * CONNECT (driven by a real client node) fed input-chosen operations:
 * well-formed requests of any command with arbitrary bodies (through the
 * client node, so ids, credits and signatures are valid), compounds, raw
 * bytes and raw framed PDUs (hostile client), host answers (normal bodies
 * from the input, errors, deferral, async, early releases), CANCELs,
 * timer steps, break notifications and connection close. The crypto hooks are cheap
 * fakes (not cryptography), so 3.1.1, signing and encryption paths run.
 * Always ends with smbx_server_free / smbx_client_free.
 *
 * Oracle (abort on violation), beyond memory safety and leaks: every
 * client request completes exactly once (a RESPONSE event for a handle
 * that is not in flight aborts; none may remain after teardown). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>
#include <smbx/tcp.h>

#include "fuzz_node_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- fake AEAD and random (deterministic, not secure; the other hooks
 * are in fuzz_node_common.h) ---- */

static int f_enc(void *u, uint32_t c, const uint8_t *key, size_t kl,
                 const uint8_t *nonce, size_t nl, const uint8_t *aad,
                 size_t al, uint8_t *buf, size_t len, uint8_t tag[16])
{
  (void)u;
  (void)c;
  uint64_t h = 11;
  mix(tag, 16, key, kl, &h);
  mix(tag, 16, nonce, nl, &h);
  mix(tag, 16, aad, al, &h);
  mix(tag, 16, buf, len, &h);
  for (size_t i = 0; i < len; i++)
    buf[i] ^= key[i % kl];
  return 0;
}

static int f_dec(void *u, uint32_t c, const uint8_t *key, size_t kl,
                 const uint8_t *nonce, size_t nl, const uint8_t *aad,
                 size_t al, uint8_t *buf, size_t len, const uint8_t tag[16])
{
  (void)u;
  (void)c;
  for (size_t i = 0; i < len; i++)
    buf[i] ^= key[i % kl];
  uint8_t t[16];
  uint64_t h = 11;
  mix(t, 16, key, kl, &h);
  mix(t, 16, nonce, nl, &h);
  mix(t, 16, aad, al, &h);
  mix(t, 16, buf, len, &h);
  return memcmp(t, tag, 16) == 0 ? 0 : SMBX_ERR_AUTH;
}

static int f_random(void *u, uint8_t *buf, size_t len)
{
  (void)u;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(i * 37 + 1);
  return 0;
}

/* ---- host --------------------------------------------------------------------- */

typedef struct pipe_buf {
  uint8_t *p;
  size_t len, cap, off;
} pipe_buf;

#define NDEF 64
#define NREQ 512

typedef struct fz {
  const uint8_t *in;
  size_t n, at;
  smbx_server *srv;
  smbx_client *cli;
  uint64_t sconn, cconn, sess;
  uint32_t tree;
  pipe_buf c2s, s2c;
  uint64_t now;
  int mode;      /* server host policy */
  bool raw_used; /* hostile bytes were written: client oracles off */
  bool sdown, cdown;
  struct {
    uint64_t conn, req;
  } def[NDEF];
  size_t ndef;
  uint64_t reqs[NREQ];
  size_t nreq;
  bool overflow;
} fz;

static uint8_t take(fz *f)
{
  return f->at < f->n ? f->in[f->at++] : 0;
}

static uint16_t take16(fz *f)
{
  uint16_t v = take(f);
  return (uint16_t)(v | (uint16_t)(take(f) << 8));
}

static const uint8_t *take_bytes(fz *f, size_t *len)
{
  size_t avail = f->n - f->at;
  if (*len > avail)
    *len = avail;
  const uint8_t *p = f->in + f->at;
  f->at += *len;
  return p;
}

static int pipe_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  pipe_buf *q = ud;
  if (q->len + n > q->cap) {
    size_t c = q->cap ? q->cap : 4096;
    while (c < q->len + n)
      c *= 2;
    uint8_t *np = realloc(q->p, c);
    if (!np)
      abort();
    q->p = np;
    q->cap = c;
  }
  memcpy(q->p + q->len, b, n);
  q->len += n;
  return 0;
}

static void answer(fz *f, const smbx_event *e)
{
  uint64_t req = e->u.pdu.req;
  int mode = f->mode;
  if (mode == 1 && f->ndef < NDEF) {
    f->def[f->ndef].conn = e->conn;
    f->def[f->ndef].req = req;
    f->ndef++;
    return;
  }
  if (mode == 2 && f->ndef < NDEF) {
    if (smbx_server_go_async(f->srv, e->conn, req, f->now, NULL) == 0) {
      f->def[f->ndef].conn = e->conn;
      f->def[f->ndef].req = req;
      f->ndef++;
      return;
    }
  }
  if (mode == 3) {
    (void)smbx_server_release(f->srv, e->conn, e->hold, f->now);
  }
  size_t len = take(f);
  const uint8_t *b = take_bytes(f, &len);
  uint32_t st = (mode == 4) ? SMBX_STATUS_ACCESS_DENIED : 0;
  if (mode == 5)
    (void)smbx_server_respond_error(f->srv, e->conn, req,
                                    SMBX_STATUS_BUFFER_TOO_SMALL, b, len,
                                    f->now);
  else
    (void)smbx_server_respond(f->srv, e->conn, req, st, b, len, f->now);
}

static void srv_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(f->srv, &e) == 1) {
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP: {
      bool first = e.u.session.blob_len == 1;
      static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                      9, 10, 11, 12, 13, 14, 15, 16};
      /* one user for every session: a hostile SESSION_SETUP's
       * PreviousSessionId can expire the driven session (3.3.5.5.3) */
      if (!first)
        (void)smbx_server_session_user(f->srv, e.conn, e.u.session.req,
                                       (const uint8_t *)"u", 1);
      (void)smbx_server_session_respond(
          f->srv, e.conn, e.u.session.req,
          first ? SMBX_STATUS_MORE_PROCESSING_REQUIRED : SMBX_STATUS_SUCCESS,
          (const uint8_t *)"x", 1, first ? NULL : key, first ? 0 : 16,
          (uint16_t)(f->mode == 6 ? SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA : 0),
          f->now);
      break;
    }
    case SMBX_EV_TREE_CONNECT: {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = 1;
      (void)smbx_server_tree_respond(f->srv, e.conn, e.u.tree.req, 0, &r,
                                     f->now, NULL);
      break;
    }
    case SMBX_EV_REQUEST:
      answer(f, &e);
      break;
    case SMBX_EV_CANCEL:
      (void)smbx_server_respond_error(f->srv, e.conn, e.u.pdu.req,
                                      SMBX_STATUS_CANCELLED, NULL, 0, f->now);
      break;
    case SMBX_EV_CONN_DOWN:
      if (e.conn == f->sconn)
        f->sdown = true;
      break;
    default:
      break;
    }
  }
}

static void cli_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(f->cli, &e) == 1) {
    if (e.type == SMBX_EV_RESPONSE) {
      bool found = false;
      for (size_t i = 0; i < f->nreq && !found; i++)
        if (f->reqs[i] == e.u.pdu.req) {
          f->reqs[i] = 0; /* the handle may be reused later */
          found = true;
        }
      CHECK(found || f->overflow);
    }
    if (e.type == SMBX_EV_SESSION_UP)
      f->sess = e.u.session.session;
    if (e.type == SMBX_EV_TREE_CONNECT)
      f->tree = e.u.tree.tree_id;
    if (e.type == SMBX_EV_CONN_DOWN && e.conn == f->cconn)
      f->cdown = true;
    if (e.hold)
      CHECK(smbx_client_release(f->cli, e.conn, e.hold, f->now) == 0);
  }
}

static void feed(fz *f, pipe_buf *q, bool to_server)
{
  while (q->off < q->len) {
    smbx_ssize r;
    if (to_server)
      r = f->sdown ? -1
                   : smbx_server_tcp_feed(f->srv, f->sconn, q->p + q->off,
                                          q->len - q->off, f->now);
    else
      r = f->cdown ? -1
                   : smbx_client_tcp_feed(f->cli, f->cconn, q->p + q->off,
                                          q->len - q->off, f->now);
    if (r <= 0) {
      if (r < 0)
        q->off = q->len;
      break;
    }
    q->off += (size_t)r;
  }
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  int rc = to_server ? smbx_server_conn_info(f->srv, f->sconn, &ci)
                     : smbx_client_conn_info(f->cli, f->cconn, &ci);
  if (q->off == q->len && (rc || ci.holds == 0 || ci.err))
    q->off = q->len = 0;
}

static void pump(fz *f)
{
  for (int i = 0; i < 64; i++) {
    size_t a = f->c2s.len + f->s2c.len;
    feed(f, &f->c2s, true);
    srv_drain(f);
    feed(f, &f->s2c, false);
    srv_drain(f);
    cli_drain(f);
    if (f->c2s.len + f->s2c.len == 0 || f->c2s.len + f->s2c.len == a)
      break;
  }
}

static void note_req(fz *f, uint64_t r)
{
  for (size_t i = 0; i < f->nreq; i++)
    if (f->reqs[i] == 0) {
      f->reqs[i] = r;
      return;
    }
  if (f->nreq < NREQ)
    f->reqs[f->nreq++] = r;
  else
    f->overflow = true;
}

static void setup(fz *f, uint8_t cfg)
{
  smbx_crypto cr;
  fake_crypto_init(&cr);
  cr.aead_encrypt = f_enc;
  cr.aead_decrypt = f_dec;
  cr.random = f_random;
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.max_requests = 64;
  ss.max_connections = 2;
  ss.max_sessions = 4;
  ss.max_trees = 4;
  ss.credits_max = 64;
  ss.credits_min = 8;
  ss.max_read_size = ss.max_write_size = ss.max_transact_size = 65536;
  if (cfg & 1)
    ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  if (cfg & 2)
    ss.flags |= SMBX_SERVER_ENCRYPT;
  ss.dialects = (cfg >> 2) & 0x1F ? (cfg >> 2) & 0x1F : SMBX_DIALECT_MASK_ALL;
  /* multichannel: interface info, binding checks, ChannelSequence */
  if (cfg & 0x80)
    ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.max_io = 65536;
  cs.max_requests = 64;
  cs.max_connections = 1;
  cs.max_sessions = 2;
  cs.credit_target = 32;
  cs.request_timeout_ns = 1000000000ull;
  CHECK(smbx_server_new(&f->srv, &ss, &cr, NULL, 0) == 0);
  CHECK(smbx_client_new(&f->cli, &cs, &cr, NULL, 0) == 0);
  smbx_smb2_netif ni;
  memset(&ni, 0, sizeof ni);
  ni.if_index = 1;
  ni.capability = SMBX_SMB2_NETIF_RDMA_CAPABLE;
  ni.family = SMBX_SMB2_NETIF_FAMILY_INET;
  ni.addr[0] = 127;
  ni.addr[3] = 1;
  CHECK(smbx_server_set_interfaces(f->srv, &ni, 1) == 0);
  smbx_tcp_hooks hs = {sizeof hs, &f->s2c, pipe_send};
  smbx_tcp_hooks hc = {sizeof hc, &f->c2s, pipe_send};
  CHECK(smbx_server_add_tcp(f->srv, &hs, 0, &f->sconn) == 0);
  CHECK(smbx_client_add_tcp(f->cli, &hc, 0, &f->cconn) == 0);
  if (smbx_client_negotiate(f->cli, f->cconn, 0) == 0)
    pump(f);
  uint64_t s = 0;
  if (smbx_client_session_setup(f->cli, f->cconn, &s, (const uint8_t *)"a", 1,
                                0) == 0) {
    pump(f);
    /* the key the server side answers with (srv_drain): else the final
     * response does not verify and no session ever comes up */
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                    9, 10, 11, 12, 13, 14, 15, 16};
    (void)smbx_client_session_key(f->cli, s, key, 16, 0);
    if (smbx_client_session_setup(f->cli, f->cconn, &s,
                                  (const uint8_t *)"bb", 2, 0) == 0)
      pump(f);
  }
  if (f->sess && smbx_client_tree_connect(f->cli, f->cconn, f->sess,
                                          "\\\\s\\t", 0, NULL) == 0)
    pump(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz f;
  memset(&f, 0, sizeof f);
  f.in = data;
  f.n = size;
  setup(&f, take(&f));
  for (int steps = 0; steps < 256 && f.at < f.n; steps++) {
    uint8_t op = take(&f);
    switch (op % 12) {
    case 0: { /* a request of any command with an arbitrary body */
      uint16_t cmd = (uint16_t)(take(&f) % SMBX_SMB2_COMMAND_COUNT);
      size_t len = take16(&f) % 2048;
      const uint8_t *b = take_bytes(&f, &len);
      uint64_t r = 0;
      if (smbx_client_request(f.cli, f.cconn, f.sess, f.tree, cmd, b, len, 0,
                              f.now, &r) == 0)
        note_req(&f, r);
      break;
    }
    case 1: { /* raw bytes (hostile) */
      size_t len = take(&f);
      const uint8_t *b = take_bytes(&f, &len);
      f.raw_used = true;
      (void)pipe_send(&f.c2s, 0, b, len);
      break;
    }
    case 2: { /* a raw framed PDU */
      size_t len = take16(&f) % 4096;
      const uint8_t *b = take_bytes(&f, &len);
      if (len) {
        uint8_t pre[4];
        (void)smbx_tcp_encode_prefix(pre, 4, len);
        f.raw_used = true;
        (void)pipe_send(&f.c2s, 0, pre, 4);
        (void)pipe_send(&f.c2s, 0, b, len);
      }
      break;
    }
    case 3:
      pump(&f);
      break;
    case 4: { /* time */
      f.now += (uint64_t)take16(&f) * 1000000ull;
      (void)smbx_server_handle_expiry(f.srv, f.now);
      (void)smbx_client_handle_expiry(f.cli, f.now);
      pump(&f);
      break;
    }
    case 5:
      f.mode = take(&f) % 7;
      break;
    case 6: /* answer a deferred request */
      if (f.ndef) {
        size_t i = take(&f) % f.ndef;
        size_t len = take(&f);
        const uint8_t *b = take_bytes(&f, &len);
        (void)smbx_server_respond(f.srv, f.def[i].conn, f.def[i].req,
                                  take(&f) & 1 ? SMBX_STATUS_CANCELLED : 0, b,
                                  len, f.now);
        f.def[i] = f.def[--f.ndef];
      }
      break;
    case 7: /* cancel one of ours */
      if (f.nreq) {
        size_t i = take(&f) % f.nreq;
        if (f.reqs[i])
          (void)smbx_client_cancel(f.cli, f.cconn, f.reqs[i], f.now);
      }
      break;
    case 8: { /* a compound of 2..3 members */
      smbx_client_op ops[3];
      size_t k = 2 + take(&f) % 2;
      for (size_t i = 0; i < k; i++) {
        ops[i].command = (uint16_t)(take(&f) % SMBX_SMB2_COMMAND_COUNT);
        ops[i].reserved = 0;
        ops[i].reserved2 = 0;
        size_t len = take(&f);
        ops[i].body = take_bytes(&f, &len);
        ops[i].len = len;
      }
      uint64_t r[3];
      if (smbx_client_compound(f.cli, f.cconn, f.sess, f.tree, ops, k,
                               take(&f) & 1, 0, f.now, r) == 0)
        for (size_t i = 0; i < k; i++)
          note_req(&f, r[i]);
      break;
    }
    case 9: /* close the server connection (the client sees EOF) */
      if (take(&f) == 0x5A) {
        (void)smbx_server_close_conn(f.srv, f.sconn, f.now);
        f.sdown = true;
        f.ndef = 0;
        (void)smbx_client_abort_conn(f.cli, f.cconn, SMBX_ERR_CLOSED, f.now);
      }
      break;
    case 10: { /* an unsolicited break notification from the host */
      size_t len = take(&f) & 1 ? 44 : 24;
      const uint8_t *b = take_bytes(&f, &len);
      if (len == 24 || len == 44)
        (void)smbx_server_send_break(f.srv, f.sconn, 0, b, len, f.now);
      break;
    }
    default: /* echo */
      if (take(&f) & 1) {
        uint64_t r = 0;
        if (smbx_client_echo(f.cli, f.cconn, f.now, &r) == 0)
          note_req(&f, r);
      }
      break;
    }
  }
  pump(&f);
  /* teardown completes everything still in flight, exactly once */
  (void)smbx_client_abort_conn(f.cli, f.cconn, SMBX_ERR_CLOSED, f.now);
  cli_drain(&f);
  for (size_t i = 0; i < f.nreq; i++)
    CHECK(f.reqs[i] == 0 || f.overflow);
  smbx_client_free(f.cli);
  smbx_server_free(f.srv);
  free(f.c2s.p);
  free(f.s2c.p);
  return 0;
}
