/* SPDX-License-Identifier: MIT */
/* fuzz_node_client: a client node against a server played by the input.
 * The harness parses every request the node sends (Direct TCP frames,
 * compound members) and the input decides how the "server" answers the
 * oldest outstanding one: a NEGOTIATE response built by the codec with
 * input-chosen dialect, capabilities and contexts, a SESSION_SETUP /
 * TREE_CONNECT response, any body with any status and credits, an interim
 * STATUS_PENDING, a break notification, or raw bytes. The input also
 * drives the client (negotiate, session legs, keys, binding-free
 * requests, compounds, cancels, timers). Fake crypto hooks let 3.1.1,
 * signing and encryption paths run. Always ends with smbx_client_free.
 *
 * The input also starts pipelined transfers (smbx_client_xfer_start) and
 * cancels them; their pieces are requests the played server answers.
 *
 * Oracle (abort on violation), beyond memory safety and leaks: every
 * request the node accepted completes exactly once (RESPONSE events for
 * unknown handles abort; none may remain after teardown); every transfer
 * started ends with exactly one XFER_DONE, never reporting more bytes
 * than its range. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
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
  mix(tag, 16, nonce, nl, &h);
  mix(tag, 16, aad, al, &h);
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
  uint8_t t[16];
  uint64_t h = 11;
  mix(t, 16, nonce, nl, &h);
  mix(t, 16, aad, al, &h);
  for (size_t i = 0; i < len; i++)
    buf[i] ^= key[i % kl];
  return memcmp(t, tag, 16) == 0 ? 0 : SMBX_ERR_AUTH;
}

static int f_random(void *u, uint8_t *buf, size_t len)
{
  (void)u;
  memset(buf, 0x5C, len);
  return 0;
}

/* ---- the played server --------------------------------------------------------- */

#define NOUT 256
#define NREQ 512
#define NXFER 16

typedef struct outreq {
  uint16_t cmd;
  uint64_t mid;
  uint64_t sid;
} outreq;

typedef struct fz {
  const uint8_t *in;
  size_t n, at;
  smbx_client *cli;
  uint64_t conn, sess;
  outreq out[NOUT];
  size_t nout;
  uint64_t now;
  uint64_t reqs[NREQ];
  size_t nreq;
  bool overflow;
  struct {
    uint64_t h, length;
  } xfers[NXFER]; /* live transfers (h 0: free) */
} fz;

static uint8_t g_xbuf[1 << 20]; /* every transfer's local memory */

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

/* Every request the node writes: remember command, MessageId, SessionId. */
static int on_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  fz *f = ud;
  uint32_t len = 0;
  if (n < 4 || smbx_tcp_decode_prefix(b, n, &len) != 0 || len != n - 4)
    abort(); /* the node frames exactly one message per send */
  const uint8_t *m = b + 4;
  if (len >= 4 && m[0] == 0xFD) /* encrypted: cannot parse, skip */
    return 0;
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr h;
  CHECK(smbx_smb2_chain_init(&ch, m, len, 0) == 0);
  while (smbx_smb2_chain_next(&ch, &pdu, &h, NULL) == 1) {
    CHECK(!(h.flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR));
    if (h.command == SMBX_SMB2_CANCEL || f->nout == NOUT)
      continue;
    f->out[f->nout].cmd = h.command;
    f->out[f->nout].mid = h.message_id;
    f->out[f->nout].sid = h.session_id;
    f->nout++;
  }
  return 0;
}

static void cli_drain(fz *f);

/* Feeds one framed message to the node; its events are drained (holds
 * released) before the buffer is freed. */
static void deliver(fz *f, const uint8_t *msg, size_t len)
{
  if (len == 0 || len > 0xFFFFFF)
    return;
  size_t need = len + 4;
  uint8_t *buf = malloc(need);
  if (!buf)
    abort();
  (void)smbx_tcp_encode_prefix(buf, 4, len);
  memcpy(buf + 4, msg, len);
  size_t off = 0;
  while (off < need) {
    smbx_ssize r = smbx_client_tcp_feed(f->cli, f->conn, buf + off,
                                        need - off, f->now);
    cli_drain(f);
    if (r <= 0)
      break;
    off += (size_t)r;
  }
  free(buf);
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

static void cli_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(f->cli, &e) == 1) {
    if (e.type == SMBX_EV_RESPONSE) {
      bool found = false;
      for (size_t i = 0; i < f->nreq && !found; i++)
        if (f->reqs[i] == e.u.pdu.req) {
          f->reqs[i] = 0;
          found = true;
        }
      CHECK(found || f->overflow);
      if (e.u.pdu.data && e.u.pdu.len)
        CHECK(e.u.pdu.data[0] == 0xFE);
      /* multichannel: any response fed to the interface-info parser */
      smbx_smb2_netif ni[2];
      size_t nn = 0;
      int nrc = smbx_client_interfaces(&e, ni, 2, &nn);
      CHECK(nrc == 0 || nrc == SMBX_ERR_STATE || nrc == SMBX_ERR_DECODE);
      CHECK(nrc != 0 || nn <= e.u.pdu.len / SMBX_SMB2_NETIF_SIZE);
    }
    if (e.type == SMBX_EV_XFER_DONE) {
      bool found = false;
      for (size_t i = 0; i < NXFER && !found; i++)
        if (f->xfers[i].h && f->xfers[i].h == e.u.xfer.xfer) {
          CHECK(e.u.xfer.bytes <= f->xfers[i].length);
          f->xfers[i].h = 0;
          found = true;
        }
      CHECK(found);
    }
    if (e.type == SMBX_EV_SESSION_SETUP && e.u.session.session)
      f->sess = e.u.session.session;
    if (e.hold)
      CHECK(smbx_client_release(f->cli, e.conn, e.hold, f->now) == 0);
  }
}

static void hdr_for(const outreq *o, smbx_smb2_hdr *h, uint32_t status,
                    uint16_t credits)
{
  memset(h, 0, sizeof *h);
  h->command = o->cmd;
  h->message_id = o->mid;
  h->session_id = o->sid ? o->sid : 0x1000;
  h->flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  h->status = status;
  h->credits = credits;
}

static void answer(fz *f, uint8_t how)
{
  if (!f->nout)
    return;
  size_t k = take(f) % f->nout;
  outreq o = f->out[k];
  static const uint32_t sts[8] = {
      0, SMBX_STATUS_MORE_PROCESSING_REQUIRED, SMBX_STATUS_ACCESS_DENIED,
      SMBX_STATUS_BUFFER_OVERFLOW, SMBX_STATUS_PENDING,
      SMBX_STATUS_CANCELLED, SMBX_STATUS_USER_SESSION_DELETED,
      SMBX_STATUS_NOT_SUPPORTED};
  uint32_t st = sts[take(f) & 7];
  uint16_t credits = (uint16_t)(take(f) % 64);
  uint8_t msg[4096];
  smbx_smb2_hdr h;
  hdr_for(&o, &h, st, credits);
  smbx_ssize n = -1;
  if (how == 0 && o.cmd == SMBX_SMB2_NEGOTIATE) {
    smbx_smb2_negotiate_resp r;
    memset(&r, 0, sizeof r);
    static const uint16_t ds[6] = {0x202, 0x210, 0x300, 0x302, 0x311, 0x2FF};
    r.dialect_revision = ds[take(f) % 6];
    r.security_mode = take(f) & 3;
    r.capabilities = take(f);
    r.max_transact_size = r.max_read_size = r.max_write_size =
        65536u << (take(f) % 5);
    size_t bl = take(f) % 16;
    r.security_buffer.p = take_bytes(f, &bl);
    r.security_buffer.len = bl;
    uint8_t ctx[256];
    if (r.dialect_revision == 0x311) {
      smbx_smb2_neg_ctx cx[3];
      uint8_t d0[40], d1[8], d2[8];
      size_t m = 0;
      if (take(f) & 1) { /* PREAUTH */
        memset(d0, 0, sizeof d0);
        d0[0] = 1;
        d0[2] = 32;
        d0[4] = take(f) & 1 ? 1 : 2;
        cx[m].type = SMBX_SMB2_NEG_CTX_PREAUTH;
        cx[m].reserved = 0;
        cx[m].data.p = d0;
        cx[m].data.len = 38;
        m++;
      }
      if (take(f) & 1) { /* ENCRYPTION */
        d1[0] = 1;
        d1[1] = 0;
        d1[2] = take(f) % 6;
        d1[3] = 0;
        cx[m].type = SMBX_SMB2_NEG_CTX_ENCRYPTION;
        cx[m].reserved = 0;
        cx[m].data.p = d1;
        cx[m].data.len = 4;
        m++;
      }
      if (take(f) & 1) { /* SIGNING */
        d2[0] = 1;
        d2[1] = 0;
        d2[2] = take(f) % 4;
        d2[3] = 0;
        cx[m].type = SMBX_SMB2_NEG_CTX_SIGNING;
        cx[m].reserved = 0;
        cx[m].data.p = d2;
        cx[m].data.len = 4;
        m++;
      }
      smbx_ssize cl = smbx_smb2_neg_ctx_list_encode(cx, m, ctx, sizeof ctx,
                                                    NULL);
      if (cl > 0) {
        r.neg_ctx_count = (uint16_t)m;
        r.neg_ctx.p = ctx;
        r.neg_ctx.len = (size_t)cl;
      }
    }
    n = smbx_smb2_encode_negotiate_resp(&h, &r, msg, sizeof msg, NULL);
  } else if (how == 0 && o.cmd == SMBX_SMB2_SESSION_SETUP) {
    smbx_smb2_session_setup_resp r;
    memset(&r, 0, sizeof r);
    r.session_flags = take(f) & 7;
    size_t bl = take(f) % 32;
    r.security_buffer.p = take_bytes(f, &bl);
    r.security_buffer.len = bl;
    if (take(f) & 1)
      h.flags |= SMBX_SMB2_FLAGS_SIGNED;
    n = smbx_smb2_encode_session_setup_resp(&h, &r, msg, sizeof msg, NULL);
  } else if (how == 0 && o.cmd == SMBX_SMB2_TREE_CONNECT) {
    smbx_smb2_tree_connect_resp r;
    memset(&r, 0, sizeof r);
    r.share_type = take(f);
    h.tree_id = take(f);
    n = smbx_smb2_encode_tree_connect_resp(&h, &r, msg, sizeof msg, NULL);
  } else if (how == 1) { /* interim */
    h.status = SMBX_STATUS_PENDING;
    h.flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
    h.async_id = 1 + take(f);
    smbx_smb2_error_resp er;
    memset(&er, 0, sizeof er);
    n = smbx_smb2_encode_error_resp(&h, &er, msg, sizeof msg, NULL);
    if (n > 0) {
      deliver(f, msg, (size_t)n);
      return; /* the request stays outstanding */
    }
  } else { /* any body */
    if (take(f) & 1) {
      h.flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
      h.async_id = 1 + take(f);
    }
    (void)smbx_smb2_hdr_encode(&h, msg, sizeof msg, NULL);
    size_t bl = take16(f) % (sizeof msg - 64);
    const uint8_t *b = take_bytes(f, &bl);
    memcpy(msg + 64, b, bl);
    n = (smbx_ssize)(64 + bl);
  }
  f->out[k] = f->out[--f->nout];
  if (n > 0)
    deliver(f, msg, (size_t)n);
}

/* A transfer of an input-chosen range, direction, chunk and depth (only
 * kept track of while a slot is free: a start without one is skipped). */
static void start_xfer(fz *f, uint8_t v)
{
  size_t slot = 0;
  while (slot < NXFER && f->xfers[slot].h)
    slot++;
  if (slot == NXFER || !f->sess)
    return;
  smbx_client_xfer x;
  memset(&x, 0, sizeof x);
  x.struct_size = sizeof x;
  x.conn = (v & 1) ? f->conn : 0;
  x.session = f->sess;
  x.tree_id = take(f);
  x.flags = (v & 2) ? SMBX_XFER_WRITE : 0;
  x.offset = (v & 4) ? UINT64_MAX - take16(f) : (uint64_t)take16(f) * 4096;
  x.length = 1 + (uint64_t)take16(f) * 16;
  x.chunk = (v & 8) ? 4096u << (take(f) % 5) : 0;
  x.depth = take(f) % 8;
  x.buf = g_xbuf;
  uint64_t h = 0;
  if (smbx_client_xfer_start(f->cli, &x, f->now, &h) == 0) {
    CHECK(h != 0);
    f->xfers[slot].h = h;
    f->xfers[slot].length = x.length;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz f;
  memset(&f, 0, sizeof f);
  f.in = data;
  f.n = size;
  smbx_crypto cr;
  fake_crypto_init(&cr);
  cr.aead_encrypt = f_enc;
  cr.aead_decrypt = f_dec;
  cr.random = f_random;
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  uint8_t cfg = take(&f);
  cs.dialects = cfg & 0x1F ? cfg & 0x1F : SMBX_DIALECT_MASK_ALL;
  if (cfg & 0x20)
    cs.flags |= SMBX_CLIENT_SIGNING_REQUIRED;
  if (cfg & 0x40)
    cs.flags |= SMBX_CLIENT_ENCRYPT;
  cs.max_io = 65536;
  cs.max_requests = 64;
  cs.max_connections = 1;
  cs.max_sessions = 2;
  cs.request_timeout_ns = 1000000000ull;
  CHECK(smbx_client_new(&f.cli, &cs, &cr, NULL, 0) == 0);
  smbx_tcp_hooks hk = {sizeof hk, &f, on_send};
  CHECK(smbx_client_add_tcp(f.cli, &hk, 0, &f.conn) == 0);
  for (int steps = 0; steps < 256 && f.at < f.n; steps++) {
    uint8_t op = take(&f);
    switch (op % 10) {
    case 0:
      (void)smbx_client_negotiate(f.cli, f.conn, f.now);
      break;
    case 1: {
      size_t bl = take(&f) % 16;
      const uint8_t *b = take_bytes(&f, &bl);
      uint64_t s = (take(&f) & 1) ? f.sess : 0;
      (void)smbx_client_session_setup(f.cli, f.conn, &s, b, bl, f.now);
      break;
    }
    case 2:
      if (f.sess)
        (void)smbx_client_session_key(f.cli, f.sess,
                                      (const uint8_t *)"0123456789abcdef", 16,
                                      f.now);
      break;
    case 3: {
      uint8_t v = take(&f);
      if (v >= 0xF0) {
        start_xfer(&f, v);
        break;
      }
      uint16_t cmd = (uint16_t)(v % SMBX_SMB2_COMMAND_COUNT);
      size_t bl = take(&f);
      const uint8_t *b = take_bytes(&f, &bl);
      uint64_t r = 0;
      if (smbx_client_request(f.cli, f.conn, (take(&f) & 1) ? f.sess : 0,
                              take(&f), cmd, b, bl, 0, f.now, &r) == 0)
        note_req(&f, r);
      break;
    }
    case 4:
    case 5:
      answer(&f, 0);
      break;
    case 6:
      answer(&f, take(&f) & 1 ? 1 : 2);
      break;
    case 7: { /* raw bytes, framed */
      size_t bl = take(&f);
      const uint8_t *b = take_bytes(&f, &bl);
      deliver(&f, b, bl);
      break;
    }
    case 8:
      f.now += (uint64_t)take16(&f) * 1000000ull;
      (void)smbx_client_handle_expiry(f.cli, f.now);
      break;
    default:
      for (size_t i = 0; i < NXFER; i++)
        if (f.xfers[i].h && (take(&f) & 1))
          (void)smbx_client_xfer_cancel(f.cli, f.xfers[i].h, f.now);
      if (f.nreq) {
        size_t i = take(&f) % f.nreq;
        if (f.reqs[i])
          (void)smbx_client_cancel(f.cli, f.conn, f.reqs[i], f.now);
      }
      {
        uint64_t r = 0;
        if (smbx_client_echo(f.cli, f.conn, f.now, &r) == 0)
          note_req(&f, r);
      }
      break;
    }
    cli_drain(&f);
  }
  (void)smbx_client_abort_conn(f.cli, f.conn, SMBX_ERR_CLOSED, f.now);
  cli_drain(&f);
  for (size_t i = 0; i < f.nreq; i++)
    CHECK(f.reqs[i] == 0 || f.overflow);
  for (size_t i = 0; i < NXFER; i++)
    CHECK(f.xfers[i].h == 0);
  smbx_client_free(f.cli);
  return 0;
}
