/* SPDX-License-Identifier: MIT */
/* Multichannel (smb2.md 6.6; docs/multichannel.md): the server node's
 * FSCTL_QUERY_NETWORK_INTERFACE_INFO answer and the client's parse,
 * session binding checks (3.3.5.5) with hostile binding legs, channel
 * choice spreading requests, and failover replay when a channel dies with
 * requests in flight (REPLAY_OPERATION + ChannelSequence, exactly once).
 * Client and server nodes back to back over in-memory Direct TCP and the
 * simulated SMB Direct NIC (tests/node/node_harness.c). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

#include <smbx/tcp.h>

static void netif4(smbx_smb2_netif *e, uint32_t idx, uint32_t cap,
                   uint8_t last)
{
  memset(e, 0, sizeof *e);
  e->if_index = idx;
  e->capability = cap;
  e->link_speed = 100000000000ull;
  e->family = SMBX_SMB2_NETIF_FAMILY_INET;
  e->addr[0] = 10;
  e->addr[3] = last;
}

/* The wire SessionId of local session s (from its SESSION_UP). */
static uint64_t wire_id(const nh *x, uint64_t s)
{
  for (size_t i = 0; i < x->n_log; i++)
    if (x->log[i].ev.type == SMBX_EV_SESSION_UP &&
        x->log[i].ev.u.session.session == s)
      return x->log[i].ev.u.session.session_id;
  fail_msg("no SESSION_UP");
  return 0;
}

/* Two TCP channels (a first, b bound) of one signed session on a
 * MULTI_CHANNEL server; dialect by mask. */
static void two_channels(nh *x, uint32_t mask, int *a, int *b, uint64_t *s,
                         uint32_t *t)
{
  nh_setup(x, true);
  x->ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  x->ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  x->cs.dialects = mask;
  assert_int_equal(nh_start(x), 0);
  *a = nh_add_tcp(x, false);
  *b = nh_add_tcp(x, false);
  nh_negotiate(x, *a);
  *s = nh_session(x, *a);
  *t = nh_tree(x, *a, *s);
  nh_negotiate(x, *b);
  nh_bind(x, *b, *s);
}

/* ---- 2.2.32.5 / 3.3.5.15.11: interface info ---------------------------------- */

/* smb2.md case 13 end to end: the host's list (IPv4 RSS|RDMA, IPv6) goes
 * out as NETWORK_INTERFACE_INFO and the client node parses it back */
static void netif_2_2_32_5_round_trip_through_both_nodes(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  two_channels(&x, SMBX_DIALECT_MASK_311, &a, &b, &s, &t);
  smbx_smb2_netif in[3];
  netif4(&in[0], 3, SMBX_SMB2_NETIF_RSS_CAPABLE | SMBX_SMB2_NETIF_RDMA_CAPABLE,
         7);
  in[0].rss_queue_count = 8;
  memset(&in[1], 0, sizeof in[1]);
  in[1].if_index = 3; /* the same NIC's IPv6 address */
  in[1].link_speed = 100000000000ull;
  in[1].family = SMBX_SMB2_NETIF_FAMILY_INET6;
  in[1].addr[0] = 0xfe;
  in[1].addr[1] = 0x80;
  in[1].addr[15] = 1;
  in[1].scope_id = 3;
  netif4(&in[2], 9, 0, 8);
  in[2].link_speed = 1000000000ull;
  assert_int_equal(smbx_server_set_interfaces(x.srv, in, 3), 0);
  uint64_t req = 0;
  assert_int_equal(smbx_client_query_interfaces(x.cli, x.pair[b].cconn, s, t,
                                                x.now, &req),
                   0);
  const nh_cev *e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_true(e->ev.flags & SMBX_EVF_VERIFIED);
  /* the node answered: the host never saw an IOCTL */
  assert_int_equal(x.srv_requests, 0);
  smbx_event ev = e->ev;
  ev.u.pdu.data = e->bytes; /* the logged copy of the PDU */
  smbx_smb2_netif out[4];
  size_t n = 0;
  assert_int_equal(smbx_client_interfaces(&ev, out, 4, &n), 0);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(out[i].if_index, in[i].if_index);
    assert_int_equal(out[i].capability, in[i].capability);
    assert_int_equal(out[i].rss_queue_count, in[i].rss_queue_count);
    assert_int_equal(out[i].link_speed, in[i].link_speed);
    assert_int_equal(out[i].family, in[i].family);
    assert_int_equal(out[i].scope_id, in[i].scope_id);
    assert_memory_equal(out[i].addr, in[i].addr, 16);
  }
  assert_int_equal(out[0].next, SMBX_SMB2_NETIF_SIZE);
  assert_int_equal(out[2].next, 0);
  /* cap smaller than the list: n still counts every entry */
  assert_int_equal(smbx_client_interfaces(&ev, out, 1, &n), 0);
  assert_int_equal(n, 3);
  /* a response of another kind is not interface info */
  ev.u.pdu.hdr.command = SMBX_SMB2_READ;
  assert_int_equal(smbx_client_interfaces(&ev, out, 4, &n), SMBX_ERR_STATE);
  assert_int_equal(smbx_client_interfaces(NULL, out, 4, &n), SMBX_ERR_INVAL);
  /* a hostile chain (case 35: Next < 152) in an otherwise good response */
  uint8_t *bad = malloc(e->len);
  memcpy(bad, e->bytes, e->len);
  smbx_smb2_ioctl_resp r;
  assert_int_equal(smbx_smb2_decode_ioctl_resp(bad, e->len, &r, NULL), 0);
  bad[r.output_offset] = 8; /* Next of the first entry */
  ev = e->ev;
  ev.u.pdu.data = bad;
  assert_int_equal(smbx_client_interfaces(&ev, out, 4, &n), SMBX_ERR_DECODE);
  free(bad);
  nh_fini(&x);
}

/* 3.3.5.15.11: NOT_SUPPORTED without a list or without MULTI_CHANNEL,
 * BUFFER_TOO_SMALL below MaxOutputResponse; bad lists are refused */
static void netif_3_3_5_15_11_refusals(void **state)
{
  (void)state;
  for (int multi = 0; multi < 2; multi++) {
    nh x;
    nh_setup(&x, false);
    if (multi)
      x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
    x.cs.dialects = SMBX_DIALECT_MASK_302;
    int p = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, p);
    uint32_t t = nh_tree(&x, p, s);
    uint64_t c = x.pair[p].cconn;
    smbx_smb2_netif in[2];
    netif4(&in[0], 1, SMBX_SMB2_NETIF_RDMA_CAPABLE, 1);
    netif4(&in[1], 0, 0, 2);
    assert_int_equal(smbx_server_set_interfaces(x.srv, in, 2),
                     SMBX_ERR_INVAL); /* IfIndex 0 */
    in[1].if_index = 2;
    in[1].family = 0x1C;
    assert_int_equal(smbx_server_set_interfaces(x.srv, in, 2),
                     SMBX_ERR_INVAL); /* unknown family */
    assert_int_equal(smbx_server_set_interfaces(x.srv, NULL, 1),
                     SMBX_ERR_INVAL);
    assert_int_equal(smbx_server_set_interfaces(
                         x.srv, in, SMBX_SERVER_MAX_INTERFACES + 1),
                     SMBX_ERR_INVAL);
    uint64_t req;
    /* no list yet */
    assert_int_equal(smbx_client_query_interfaces(x.cli, c, s, t, x.now, &req),
                     0);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                     SMBX_STATUS_NOT_SUPPORTED);
    in[1].family = SMBX_SMB2_NETIF_FAMILY_INET;
    assert_int_equal(smbx_server_set_interfaces(x.srv, in, 2), 0);
    assert_int_equal(smbx_client_query_interfaces(x.cli, c, s, t, x.now, &req),
                     0);
    const nh_cev *e = nh_response(&x, req);
    assert_int_equal(e->ev.u.pdu.status,
                     multi ? SMBX_STATUS_SUCCESS : SMBX_STATUS_NOT_SUPPORTED);
    /* MaxOutputResponse 300 < 2 x 152 */
    smbx_smb2_ioctl_req q;
    memset(&q, 0, sizeof q);
    q.ctl_code = SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO;
    q.file_id.persistent_id = q.file_id.volatile_id = UINT64_MAX;
    q.max_output_response = 300;
    q.flags = SMBX_SMB2_IOCTL_IS_FSCTL;
    smbx_smb2_hdr h;
    memset(&h, 0, sizeof h);
    uint8_t body[160];
    smbx_ssize n = smbx_smb2_encode_ioctl_req(&h, &q, body, sizeof body, NULL);
    assert_true(n > 64);
    assert_int_equal(smbx_client_request(x.cli, c, s, t, SMBX_SMB2_IOCTL,
                                         body + 64, (size_t)n - 64, 0, x.now,
                                         &req),
                     0);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                     multi ? SMBX_STATUS_BUFFER_TOO_SMALL
                           : SMBX_STATUS_NOT_SUPPORTED);
    /* without IS_FSCTL */
    q.max_output_response = 65536;
    q.flags = 0;
    n = smbx_smb2_encode_ioctl_req(&h, &q, body, sizeof body, NULL);
    assert_int_equal(smbx_client_request(x.cli, c, s, t, SMBX_SMB2_IOCTL,
                                         body + 64, (size_t)n - 64, 0, x.now,
                                         &req),
                     0);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                     SMBX_STATUS_INVALID_PARAMETER);
    /* other FSCTLs stay the host's */
    q.ctl_code = SMBX_SMB2_FSCTL_PIPE_TRANSCEIVE;
    q.flags = SMBX_SMB2_IOCTL_IS_FSCTL;
    n = smbx_smb2_encode_ioctl_req(&h, &q, body, sizeof body, NULL);
    size_t before = x.srv_requests;
    assert_int_equal(smbx_client_request(x.cli, c, s, t, SMBX_SMB2_IOCTL,
                                         body + 64, (size_t)n - 64, 0, x.now,
                                         &req),
                     0);
    (void)nh_response(&x, req);
    assert_int_equal(x.srv_requests, before + 1);
    /* n 0 clears the list */
    assert_int_equal(smbx_server_set_interfaces(x.srv, NULL, 0), 0);
    assert_int_equal(smbx_client_query_interfaces(x.cli, c, s, t, x.now, &req),
                     0);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                     SMBX_STATUS_NOT_SUPPORTED);
    nh_fini(&x);
  }
}

/* set_interfaces under allocation failure: NOMEM and the old list stays */
static void netif_alloc_failure_keeps_old_list(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  assert_int_equal(nh_start(&x), 0);
  smbx_smb2_netif in[1];
  netif4(&in[0], 1, 0, 1);
  assert_int_equal(smbx_server_set_interfaces(x.srv, in, 1), 0);
  for (uint64_t k = 1; k <= 2; k++) {
    test_alloc_fail_nth(&x.ta, k);
    assert_int_equal(smbx_server_set_interfaces(x.srv, in, 1),
                     SMBX_ERR_NOMEM);
  }
  test_alloc_fail_nth(&x.ta, 0);
  nh_fini(&x); /* leak-checked by the test allocator */
}

/* ---- 3.3.5.5: binding checks with hostile legs ------------------------------------ */

/* NEGOTIATE on a raw pair: one dialect, MULTI_CHANNEL, ClientGuid g. */
static void raw_negotiate3(nh *x, int p, uint16_t dialect, uint8_t g)
{
  uint8_t body[40];
  memset(body, 0, sizeof body);
  body[0] = 36;
  body[2] = 1; /* DialectCount */
  body[4] = 1; /* SecurityMode */
  body[8] = SMBX_SMB2_CAP_MULTI_CHANNEL;
  memset(body + 12, g, 16);
  body[36] = (uint8_t)dialect;
  body[37] = (uint8_t)(dialect >> 8);
  uint8_t fr[256];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_NEGOTIATE, 0, 0, 64, 0, 0,
                          body, 38);
  nh_raw(x, p, fr, n);
  nh_pump(x);
  assert_int_equal(x->srv_dialect, dialect);
}

/* The status of the last response on pair p. */
static uint32_t last_status(nh *x, int p)
{
  nh_pipe *q = &x->pair[p].s2c;
  size_t at = 0, last = SIZE_MAX, last_len = 0;
  while (at + 4 <= q->len) {
    uint32_t n = 0;
    assert_int_equal(smbx_tcp_decode_prefix(q->p + at, q->len - at, &n), 0);
    last = at + 4;
    last_len = n;
    at += 4 + n;
  }
  assert_true(last != SIZE_MAX);
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(q->p + last, last_len, &h, NULL), 0);
  assert_int_equal(h.command, SMBX_SMB2_SESSION_SETUP);
  return h.status;
}

enum { SIG_NONE, SIG_GOOD, SIG_BAD };

/* A binding SESSION_SETUP on raw pair p for wire session sid. */
static uint32_t raw_bind(nh *x, int p, uint64_t mid, uint64_t sid, int sig,
                         const smbx_smb2_keys *k)
{
  uint8_t body[28];
  memset(body, 0, sizeof body);
  body[0] = 25;
  body[2] = SMBX_SMB2_SESSION_FLAG_BINDING;
  body[3] = 1;
  body[12] = 0x58; /* SecurityBufferOffset */
  body[14] = 4;    /* SecurityBufferLength: "NEGO" */
  memcpy(body + 24, "NEGO", 4);
  uint8_t fr[160];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_SESSION_SETUP, mid, 1, 1,
                          sid, 0, body, sizeof body);
  if (sig != SIG_NONE) {
    assert_int_equal(smbx_smb2_sign(&x->cr, k->signing_alg, k->signing, fr + 4,
                                    n - 4, SMBX_CRYPTO_SIGN_SET_FLAG),
                     0);
    if (sig == SIG_BAD)
      fr[4 + 48] ^= 1;
  }
  nh_raw(x, p, fr, n);
  nh_pump(x);
  return last_status(x, p);
}

/* 3.3.5.5 (smb2.md 6.6): unknown session -> USER_SESSION_DELETED,
 * unsigned -> INVALID_PARAMETER, bad signature -> ACCESS_DENIED, another
 * dialect -> INVALID_PARAMETER, another ClientGuid -> USER_SESSION_DELETED,
 * a server without MULTI_CHANNEL -> REQUEST_NOT_ACCEPTED, a guest session
 * -> NOT_SUPPORTED; none reaches the host; a good leg does */
static void bind_3_3_5_5_hostile_binding_legs(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int multi = 0; multi < 2; multi++) {
    nh x;
    nh_setup(&x, true);
    if (multi)
      x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
    x.cs.dialects = SMBX_DIALECT_MASK_302;
    int a = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, a);
    uint64_t sid = wire_id(&x, s);
    smbx_smb2_keys k;
    assert_int_equal(smbx_smb2_derive_keys(&x.cr, SMBX_SMB2_DIALECT_302,
                                           SMBX_CRYPTO_ROLE_CLIENT,
                                           SMBX_CRYPTO_SIGN_DEFAULT, 0, x.key,
                                           sizeof x.key, NULL, &k),
                     0);
    int r = nh_add_tcp(&x, true);
    raw_negotiate3(&x, r, SMBX_SMB2_DIALECT_302, 0);
    size_t setups = x.srv_events[SMBX_EV_SESSION_SETUP];
    if (!multi) {
      assert_int_equal(raw_bind(&x, r, 1, sid, SIG_GOOD, &k),
                       SMBX_STATUS_REQUEST_NOT_ACCEPTED);
      assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], setups);
      nh_fini(&x);
      continue;
    }
    assert_int_equal(raw_bind(&x, r, 1, sid + 77, SIG_GOOD, &k),
                     SMBX_STATUS_USER_SESSION_DELETED);
    assert_int_equal(raw_bind(&x, r, 2, sid, SIG_NONE, &k),
                     SMBX_STATUS_INVALID_PARAMETER);
    assert_int_equal(raw_bind(&x, r, 3, sid, SIG_BAD, &k),
                     SMBX_STATUS_ACCESS_DENIED);
    assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], setups);
    assert_false(x.pair[r].sdown);
    /* a good leg reaches the host (its authenticator answers); the
     * MORE_PROCESSING answer is signed with Session.SigningKey (3.3.4.1.1;
     * Samba's client refuses it unsigned) */
    assert_int_equal(raw_bind(&x, r, 4, sid, SIG_GOOD, &k),
                     SMBX_STATUS_MORE_PROCESSING_REQUIRED);
    assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], setups + 1);
    {
      nh_pipe *q = &x.pair[r].s2c;
      size_t at = 0, last = 0, last_len = 0;
      while (at + 4 <= q->len) {
        uint32_t m = 0;
        assert_int_equal(smbx_tcp_decode_prefix(q->p + at, q->len - at, &m),
                         0);
        last = at + 4;
        last_len = m;
        at += 4 + m;
      }
      smbx_smb2_hdr rh;
      assert_int_equal(smbx_smb2_hdr_decode(q->p + last, last_len, &rh, NULL),
                       0);
      assert_true(rh.flags & SMBX_SMB2_FLAGS_SIGNED);
      assert_int_equal(smbx_smb2_verify(&x.cr, k.signing_alg, k.signing,
                                        q->p + last, last_len),
                       0);
    }
    /* another dialect */
    int r2 = nh_add_tcp(&x, true);
    raw_negotiate3(&x, r2, SMBX_SMB2_DIALECT_300, 0);
    assert_int_equal(raw_bind(&x, r2, 1, sid, SIG_GOOD, &k),
                     SMBX_STATUS_INVALID_PARAMETER);
    /* another ClientGuid */
    int r3 = nh_add_tcp(&x, true);
    raw_negotiate3(&x, r3, SMBX_SMB2_DIALECT_302, 0x5A);
    assert_int_equal(raw_bind(&x, r3, 1, sid, SIG_GOOD, &k),
                     SMBX_STATUS_USER_SESSION_DELETED);
    assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], setups + 1);
    nh_fini(&x);
  }
  /* a guest session cannot be bound */
  nh x;
  nh_setup_multichannel(&x);
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  int a = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, a);
  smbx_smb2_keys k;
  assert_int_equal(smbx_smb2_derive_keys(&x.cr, SMBX_SMB2_DIALECT_302,
                                         SMBX_CRYPTO_ROLE_CLIENT,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, x.key,
                                         sizeof x.key, NULL, &k),
                   0);
  int r = nh_add_tcp(&x, true);
  raw_negotiate3(&x, r, SMBX_SMB2_DIALECT_302, 0);
  assert_int_equal(raw_bind(&x, r, 1, wire_id(&x, s), SIG_GOOD, &k),
                   SMBX_STATUS_NOT_SUPPORTED);
  nh_fini(&x);
}

/* The last message the server sent raw pair p (prefix skipped). */
static const uint8_t *last_msg(nh *x, int p, smbx_smb2_hdr *h, size_t *len)
{
  nh_pipe *q = &x->pair[p].s2c;
  size_t at = 0, last = SIZE_MAX;
  uint32_t n = 0, last_len = 0;
  while (at + 4 <= q->len) {
    assert_int_equal(smbx_tcp_decode_prefix(q->p + at, q->len - at, &n), 0);
    last = at + 4;
    last_len = n;
    at += 4 + n;
  }
  assert_true(last != SIZE_MAX);
  assert_int_equal(smbx_smb2_hdr_decode(q->p + last, last_len, h, NULL), 0);
  *len = last_len;
  return q->p + last;
}

/* 3.3.4.1.1 (smbtorture smb2.session.bind2): a signed request for a
 * session that is not bound to this connection fails with
 * USER_SESSION_DELETED; the answer keeps SIGNED (zero signature: no key
 * of this connection can sign it), else Samba's client reports
 * ACCESS_DENIED. An unsigned request's answer stays unsigned. */
static void bind2_3_3_4_1_1_unbound_session_answer_keeps_signed(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  int a = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, a);
  uint64_t sid = wire_id(&x, s);
  smbx_smb2_keys k;
  assert_int_equal(smbx_smb2_derive_keys(&x.cr, SMBX_SMB2_DIALECT_302,
                                         SMBX_CRYPTO_ROLE_CLIENT,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, x.key,
                                         sizeof x.key, NULL, &k),
                   0);
  int r = nh_add_tcp(&x, true);
  raw_negotiate3(&x, r, SMBX_SMB2_DIALECT_302, 0);
  for (int sign = 1; sign >= 0; sign--) {
    const uint8_t body[4] = {4, 0, 0, 0};
    uint8_t fr[128];
    size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_LOGOFF,
                            (uint64_t)(2 - sign), 1, 1, sid, 0, body,
                            sizeof body);
    if (sign)
      assert_int_equal(smbx_smb2_sign(&x.cr, k.signing_alg, k.signing,
                                      fr + 4, n - 4,
                                      SMBX_CRYPTO_SIGN_SET_FLAG),
                       0);
    nh_raw(&x, r, fr, n);
    nh_pump(&x);
    smbx_smb2_hdr h;
    size_t len;
    const uint8_t *m = last_msg(&x, r, &h, &len);
    assert_int_equal(h.command, SMBX_SMB2_LOGOFF);
    assert_int_equal(h.message_id, (uint64_t)(2 - sign));
    assert_int_equal(h.status, SMBX_STATUS_USER_SESSION_DELETED);
    assert_int_equal((h.flags & SMBX_SMB2_FLAGS_SIGNED) != 0, sign);
    static const uint8_t zero[16];
    assert_memory_equal(m + 48, zero, 16);
  }
  assert_false(x.pair[r].sdown);
  /* the LOGOFF never reached the session: it still works on its own
   * connection */
  (void)nh_tree(&x, a, s);
  nh_fini(&x);
}

/* 3.2.5.3.3 SHOULD: a binding response flagged IS_GUEST (here from a
 * hostile server: the leg's answer rewritten and re-signed) ends the
 * binding with SMBX_ERR_PROTO; the channel never comes up */
static void bind_3_2_5_3_3_guest_binding_response_refused(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_tcp(&x, false);
  int b = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  nh_negotiate(&x, b);
  smbx_smb2_keys k;
  assert_int_equal(smbx_smb2_derive_keys(&x.cr, SMBX_SMB2_DIALECT_302,
                                         SMBX_CRYPTO_ROLE_SERVER,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, x.key,
                                         sizeof x.key, NULL, &k),
                   0);
  /* hold the server's answers to b while the leg runs */
  x.pair[b].raw_client = true;
  assert_int_equal(smbx_client_session_bind(x.cli, x.pair[b].cconn, s,
                                            (const uint8_t *)"NEGO", 4,
                                            x.now),
                   0);
  nh_pump(&x);
  nh_pipe *q = &x.pair[b].s2c;
  assert_true(q->len >= q->off + 4 + 64 + 8);
  uint8_t *m = q->p + q->off + 4;
  size_t len = q->len - q->off - 4;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(m, len, &h, NULL), 0);
  assert_int_equal(h.command, SMBX_SMB2_SESSION_SETUP);
  assert_int_equal(h.status, SMBX_STATUS_MORE_PROCESSING_REQUIRED);
  assert_true(h.flags & SMBX_SMB2_FLAGS_SIGNED);
  m[64 + 2] |= SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  memset(m + 48, 0, 16);
  assert_int_equal(smbx_smb2_sign(&x.cr, k.signing_alg, k.signing, m, len,
                                  SMBX_CRYPTO_SIGN_SET_FLAG),
                   0);
  x.pair[b].raw_client = false;
  const nh_cev *e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
  assert_non_null(e);
  assert_int_equal(e->ev.conn, x.pair[b].cconn);
  assert_int_equal(e->ev.u.session.err, SMBX_ERR_PROTO);
  assert_int_equal(nh_count(&x, SMBX_EV_SESSION_UP), 1);
  /* not bound: the node refuses to use the session there */
  uint64_t req;
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "g.bin");
  assert_int_equal(smbx_client_read(x.cli, x.pair[b].cconn, s, t, f, 0, 16,
                                    x.now, &req),
                   SMBX_ERR_STATE);
  nh_fini(&x);
}

/* 3.3.5.5.3: when the host names users (smbx_server_session_user), a
 * binding that authenticated someone else fails with NOT_SUPPORTED (the
 * client sees the status, the channel is not bound); the same user binds */
static void bind_3_3_5_5_3_other_user_refused(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  x.cs.dialects = SMBX_DIALECT_MASK_311;
  x.auth_user = "alice";
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_tcp(&x, false);
  int b = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  nh_negotiate(&x, b);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  uint64_t cb = x.pair[b].cconn;
  x.auth_user = "mallory";
  assert_int_equal(smbx_client_session_bind(x.cli, cb, s,
                                            (const uint8_t *)"NEGO", 4, x.now),
                   0);
  for (int round = 1;; round++) {
    const nh_cev *e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
    assert_non_null(e);
    if (e->ev.u.session.status != SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
      assert_int_equal(e->ev.u.session.status, SMBX_STATUS_NOT_SUPPORTED);
      break;
    }
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    assert_int_equal(smbx_client_session_bind(x.cli, cb, s,
                                              (const uint8_t *)tok,
                                              (size_t)tl, x.now),
                     0);
  }
  uint64_t req;
  smbx_smb2_fileid none = {1, 2};
  assert_int_equal(smbx_client_close(x.cli, cb, s, t, none, 0, x.now, &req),
                   SMBX_ERR_STATE);
  assert_false(x.pair[b].sdown);
  /* the right user binds */
  x.auth_user = "alice";
  nh_bind(&x, b, s);
  assert_int_equal(smbx_client_echo(x.cli, cb, x.now, &req), 0);
  /* argument checks */
  assert_int_equal(smbx_server_session_user(x.srv, x.pair[a].sconn, 12345,
                                            (const uint8_t *)"a", 1),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_server_session_user(x.srv, x.pair[a].sconn, 1, NULL,
                                            1),
                   SMBX_ERR_INVAL);
  nh_fini(&x);
}

/* 6.6 on 3.0.x: the channel key comes from the binding's own session key
 * (SMB2AESCMAC/SmbSign), so a different binding key still verifies both
 * ways when both sides use it, and a wrong one fails the final response */
static void bind_6_6_channel_key_from_binding_key(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  two_channels(&x, SMBX_DIALECT_MASK_300, &a, &b, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, b, s, t, "k.bin");
  uint64_t req;
  assert_int_equal(smbx_client_read(x.cli, x.pair[b].cconn, s, t, f, 0, 16,
                                    x.now, &req),
                   0);
  const nh_cev *e = nh_response(&x, req);
  assert_true(e->ev.flags & SMBX_EVF_VERIFIED);
  /* a third channel whose client-side binding key differs: the server's
   * signed final response does not verify */
  int c = nh_add_tcp(&x, false);
  nh_negotiate(&x, c);
  uint64_t cc = x.pair[c].cconn;
  assert_int_equal(smbx_client_session_bind(x.cli, cc, s,
                                            (const uint8_t *)"NEGO", 4, x.now),
                   0);
  uint8_t wrong[16];
  memset(wrong, 0xEE, sizeof wrong);
  assert_int_equal(smbx_client_session_bind_key(x.cli, cc, s, wrong,
                                                sizeof wrong, x.now),
                   0);
  assert_int_equal(smbx_client_session_bind_key(x.cli, cc, s, NULL, 16, x.now),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_client_session_bind_key(x.cli, x.pair[a].cconn, s,
                                                wrong, 16, x.now),
                   SMBX_ERR_NOTFOUND);
  for (int round = 1;; round++) {
    const nh_cev *ev = nh_wait(&x, SMBX_EV_SESSION_SETUP);
    assert_non_null(ev);
    if (ev->ev.u.session.status != SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
      assert_int_equal(ev->ev.u.session.status, SMBX_STATUS_SUCCESS);
      assert_int_equal(ev->ev.u.session.err, SMBX_ERR_AUTH);
      break;
    }
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    assert_int_equal(smbx_client_session_bind(x.cli, cc, s,
                                              (const uint8_t *)tok,
                                              (size_t)tl, x.now),
                     0);
  }
  /* not bound: the node refuses to use the session there */
  assert_int_equal(smbx_client_read(x.cli, cc, s, t, f, 0, 16, x.now, &req),
                   SMBX_ERR_STATE);
  nh_fini(&x);
}

/* ---- spreading ------------------------------------------------------------------- */

/* conn 0 picks the least loaded live channel: with responses held, 16
 * READs alternate between the two channels; both carry I/O */
static void spread_requests_use_both_channels(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  two_channels(&x, SMBX_DIALECT_MASK_311, &a, &b, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "spread.bin");
  x.defer = true;
  x.n_deferred = 0;
  size_t on[2] = {0, 0};
  for (int i = 0; i < 16; i++) {
    uint64_t pick = 0;
    assert_int_equal(smbx_client_session_channel(x.cli, s, &pick), 0);
    assert_true(pick == x.pair[a].cconn || pick == x.pair[b].cconn);
    assert_int_equal(smbx_client_read(x.cli, 0, s, t, f, 0, 512, x.now, NULL),
                     0);
    nh_pump(&x);
  }
  for (size_t i = 0; i < x.n_deferred; i++)
    on[x.deferred[i].conn == x.pair[b].sconn]++;
  assert_int_equal(x.n_deferred, 16);
  assert_int_equal(on[0], 8);
  assert_int_equal(on[1], 8);
  for (size_t i = 0; i < x.n_deferred; i++)
    nh_answer_deferred(&x, i, SMBX_STATUS_END_OF_FILE);
  nh_pump(&x);
  size_t got[2] = {0, 0};
  for (size_t i = 0; i < x.n_log; i++)
    if (x.log[i].ev.type == SMBX_EV_RESPONSE &&
        x.log[i].ev.u.pdu.status == SMBX_STATUS_END_OF_FILE) {
      assert_true(x.log[i].ev.flags & SMBX_EVF_VERIFIED);
      assert_int_equal(x.log[i].ev.u.pdu.first_conn, x.log[i].ev.conn);
      got[x.log[i].ev.conn == x.pair[b].cconn]++;
    }
  assert_int_equal(got[0], 8);
  assert_int_equal(got[1], 8);
  /* errors: unknown session, none; a dead channel is never picked */
  uint64_t pick;
  assert_int_equal(smbx_client_session_channel(x.cli, s + 999, &pick),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_client_session_channel(x.cli, s, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_client_read(x.cli, 0, 0, t, f, 0, 1, x.now, NULL),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_client_abort_conn(x.cli, x.pair[b].cconn,
                                          SMBX_ERR_TRANSPORT, x.now),
                   0);
  nh_pump(&x);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(smbx_client_session_channel(x.cli, s, &pick), 0);
    assert_int_equal(pick, x.pair[a].cconn);
  }
  nh_fini(&x);
}

/* ---- failover replay ----------------------------------------------------------------- */

static size_t responses_for(const nh *x, uint64_t first_conn, uint64_t req,
                            const nh_cev **last)
{
  size_t n = 0;
  for (size_t i = 0; i < x->n_log; i++)
    if (x->log[i].ev.type == SMBX_EV_RESPONSE &&
        x->log[i].ev.u.pdu.req == req &&
        x->log[i].ev.u.pdu.first_conn == first_conn) {
      n++;
      *last = &x->log[i];
    }
  return n;
}

/* 6.6 / MS-SMB2 3.2.5.1.x: channel a dies with a WRITE, a READ and a
 * QUERY_DIRECTORY in flight: the WRITE and READ are resent on b exactly
 * once with REPLAY_OPERATION and ChannelSequence 1 and complete there
 * (named by their first connection and handle, SMBX_EVF_REPLAYED); the
 * QUERY_DIRECTORY (not replayable) completes with the channel's error.
 * When b dies too, nothing is left to replay on: its requests complete
 * with the error, once. The second channel is TCP or SMB Direct. */
static void failover_6_6_replayed_once_with_flag_and_sequence(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int smbd = 0; smbd < 2; smbd++) {
    nh x;
    nh_setup(&x, true);
    x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
    x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
    x.cs.dialects = SMBX_DIALECT_MASK_311;
    assert_int_equal(nh_start(&x), 0);
    int a = nh_add_tcp(&x, false);
    int b = smbd ? nh_add_smbd(&x) : nh_add_tcp(&x, false);
    nh_negotiate(&x, b); /* first: it waits for SMB Direct's CONN_UP */
    nh_negotiate(&x, a);
    uint64_t s = nh_session(&x, a);
    uint32_t t = nh_tree(&x, a, s);
    nh_bind(&x, b, s);
    smbx_smb2_fileid f = nh_create(&x, a, s, t, "fo.bin");
    uint64_t ca = x.pair[a].cconn, cb = x.pair[b].cconn;
    x.defer = true;
    x.n_deferred = 0;
    static const uint8_t data[3000] = {1, 2, 3};
    uint64_t wreq, rreq, qreq;
    assert_int_equal(smbx_client_write(x.cli, ca, s, t, f, 0, data,
                                       sizeof data, x.now, &wreq),
                     0);
    assert_int_equal(smbx_client_read(x.cli, ca, s, t, f, 0, 100, x.now,
                                      &rreq),
                     0);
    smbx_smb2_query_directory_req qd;
    memset(&qd, 0, sizeof qd);
    qd.info_class = 37;
    qd.file_id = f;
    qd.output_buffer_length = 4096;
    qd.file_name.p = (const uint8_t *)"*\0";
    qd.file_name.len = 2;
    assert_int_equal(smbx_client_query_directory(x.cli, ca, s, t, &qd, x.now,
                                                 &qreq),
                     0);
    nh_pump(&x);
    assert_int_equal(x.n_deferred, 3);
    for (size_t i = 0; i < 3; i++) {
      assert_int_equal(x.deferred[i].channel_sequence, 0);
      assert_false(x.deferred[i].hdr_flags & SMBX_SMB2_FLAGS_REPLAY_OPERATION);
    }
    /* channel a dies (the host saw its socket fail) */
    assert_int_equal(smbx_client_abort_conn(x.cli, ca, SMBX_ERR_TRANSPORT,
                                            x.now),
                     0);
    assert_int_equal(smbx_server_close_conn(x.srv, x.pair[a].sconn, x.now),
                     0);
    x.pair[a].sdown = true;
    nh_pump(&x);
    const nh_cev *e = NULL;
    /* QUERY_DIRECTORY: completed with the error, once */
    assert_int_equal(responses_for(&x, ca, qreq, &e), 1);
    assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_TRANSPORT);
    assert_int_equal(responses_for(&x, ca, wreq, &e), 0);
    assert_int_equal(responses_for(&x, ca, rreq, &e), 0);
    /* the WRITE and the READ arrived again on b, marked */
    assert_int_equal(x.n_deferred, 5);
    for (size_t i = 3; i < 5; i++) {
      assert_int_equal(x.deferred[i].conn, x.pair[b].sconn);
      assert_true(x.deferred[i].hdr_flags & SMBX_SMB2_FLAGS_REPLAY_OPERATION);
      assert_int_equal(x.deferred[i].channel_sequence, 1);
    }
    assert_int_equal(x.deferred[3].cmd, SMBX_SMB2_WRITE);
    assert_int_equal(x.deferred[4].cmd, SMBX_SMB2_READ);
    nh_answer_deferred(&x, 3, SMBX_STATUS_DISK_FULL);
    nh_answer_deferred(&x, 4, SMBX_STATUS_END_OF_FILE);
    nh_pump(&x);
    assert_int_equal(responses_for(&x, ca, wreq, &e), 1);
    assert_int_equal(e->ev.conn, cb);
    assert_int_equal(e->ev.u.pdu.err, 0);
    assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_DISK_FULL);
    assert_true(e->ev.flags & SMBX_EVF_REPLAYED);
    assert_true(e->ev.flags & SMBX_EVF_VERIFIED);
    assert_int_equal(responses_for(&x, ca, rreq, &e), 1);
    assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_END_OF_FILE);
    /* later requests carry the new ChannelSequence, without the flag */
    uint64_t req;
    assert_int_equal(smbx_client_read(x.cli, 0, s, t, f, 0, 10, x.now, &req),
                     0);
    nh_pump(&x);
    assert_int_equal(x.n_deferred, 6);
    assert_int_equal(x.deferred[5].channel_sequence, 1);
    assert_false(x.deferred[5].hdr_flags & SMBX_SMB2_FLAGS_REPLAY_OPERATION);
    nh_answer_deferred(&x, 5, SMBX_STATUS_END_OF_FILE);
    nh_pump(&x);
    /* b dies with a WRITE in flight: no channel left, it fails once */
    assert_int_equal(smbx_client_write(x.cli, cb, s, t, f, 0, data, 100,
                                       x.now, &wreq),
                     0);
    nh_pump(&x);
    assert_int_equal(smbx_client_abort_conn(x.cli, cb, SMBX_ERR_TRANSPORT,
                                            x.now),
                     0);
    nh_pump(&x);
    assert_int_equal(responses_for(&x, cb, wreq, &e), 1);
    assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_TRANSPORT);
    assert_false(e->ev.flags & SMBX_EVF_REPLAYED);
    if (smbd) {
      assert_int_equal(smbx_client_close_conn(x.cli, cb, x.now), 0);
      assert_int_equal(smbx_server_close_conn(x.srv, x.pair[b].sconn, x.now),
                       0);
      x.pair[b].used = false;
    }
    nh_fini(&x);
  }
}

/* a replayed request whose second channel dies too is not replayed again:
 * it completes once, with the error, named as first sent */
static void failover_replay_is_once_only(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  assert_int_equal(nh_start(&x), 0);
  int p[3];
  for (int i = 0; i < 3; i++) {
    p[i] = nh_add_tcp(&x, false);
    nh_negotiate(&x, p[i]);
  }
  uint64_t s = nh_session(&x, p[0]);
  uint32_t t = nh_tree(&x, p[0], s);
  nh_bind(&x, p[1], s);
  smbx_smb2_fileid f = nh_create(&x, p[0], s, t, "once.bin");
  x.defer = true;
  x.n_deferred = 0;
  uint64_t c0 = x.pair[p[0]].cconn, c1 = x.pair[p[1]].cconn;
  uint64_t req;
  assert_int_equal(smbx_client_read(x.cli, c0, s, t, f, 0, 64, x.now, &req),
                   0);
  nh_pump(&x);
  assert_int_equal(smbx_client_abort_conn(x.cli, c0, SMBX_ERR_TRANSPORT,
                                          x.now),
                   0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 2); /* first send + the replay on c1 */
  assert_int_equal(smbx_client_abort_conn(x.cli, c1, SMBX_ERR_PROTO, x.now),
                   0);
  nh_pump(&x);
  const nh_cev *e = NULL;
  assert_int_equal(responses_for(&x, c0, req, &e), 1);
  assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_PROTO);
  assert_true(e->ev.flags & SMBX_EVF_REPLAYED);
  assert_int_equal(e->ev.conn, c1);
  assert_int_equal(x.n_deferred, 2);
  nh_fini(&x);
}

static const nh_file *file_named(const nh *x, const char *name)
{
  for (int i = 0; i < NH_FILES; i++)
    if (x->files[i].used && strcmp(x->files[i].name, name) == 0)
      return &x->files[i];
  return NULL;
}

/* Channel a (SMB Direct, unsigned) dies with a READ by RDMA, a WRITE by
 * RDMA and an inline READ in flight; channel b is SMB Direct (its own
 * NIC) or TCP. The RDMA I/O is rebuilt on b (REPLAY_OPERATION, the bumped
 * ChannelSequence): the caller's buffers registered anew through b's NIC
 * (a's keys never reach b: no refused access there), or inline on TCP.
 * a's registrations are deregistered exactly once (the sim counts a
 * second deregistration as a violation), b's once after completion; each
 * request completes once, byte-exact, without an allocation. `fail_reg`:
 * b's NIC refuses the READ's registration: it completes with a's error,
 * nothing registered is left behind. */
static void rdma_failover(bool b_smbd, bool fail_reg)
{
  nh x;
  nh_setup_multichannel(&x);
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_smbd(&x);
  nh_negotiate(&x, a); /* before b: its CONN_UP would be passed over */
  int b = b_smbd ? nh_add_smbd(&x) : nh_add_tcp(&x, false);
  nh_negotiate(&x, b);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  nh_bind(&x, b, s);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "rdma.bin");
  uint64_t ca = x.pair[a].cconn;
  enum { N = 8192 };
  static uint8_t old[N], put[N], got[N];
  for (size_t i = 0; i < N; i++) {
    old[i] = (uint8_t)(i * 7 + 1);
    put[i] = (uint8_t)(i * 13 + 5);
  }
  memset(got, 0, sizeof got);
  /* the file holds `old` twice: the WRITE by RDMA overwrites the second */
  const nh_cev *e = NULL;
  for (uint64_t at = 0; at < 2 * N; at += N) {
    uint64_t req;
    assert_int_equal(smbx_client_write(x.cli, ca, s, t, f, at, old, N, x.now,
                                       &req),
                     0);
    nh_pump(&x);
    assert_int_equal(responses_for(&x, ca, req, &e), 1);
    assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_SUCCESS);
  }
  if (fail_reg)
    x.w2->ep[0].fail_register = 1;
  /* registrations the host made itself (receive memory) stay */
  uint32_t a_base = sim_mr_live(x.w, 0);
  uint32_t b_base = b_smbd ? sim_mr_live(x.w2, 0) : 0;
  uint64_t calls = x.ta.calls;
  x.defer = true;
  x.n_deferred = 0;
  uint64_t rreq, wreq, ireq;
  assert_int_equal(smbx_client_read_into(x.cli, ca, s, t, f, 0, got, N, x.now,
                                         &rreq),
                   0);
  assert_int_equal(smbx_client_write_from(x.cli, ca, s, t, f, N, put, N,
                                          x.now, &wreq),
                   0);
  assert_int_equal(smbx_client_read(x.cli, ca, s, t, f, 0, 100, x.now, &ireq),
                   0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 3);
  assert_int_equal(sim_mr_live(x.w, 0), a_base + 2); /* both by RDMA */
  uint32_t a_regs = x.w->ep[0].mr_total;
  uint32_t b_regs = b_smbd ? x.w2->ep[0].mr_total : 0;
  x.defer = false; /* b's host answers the replays */
  assert_int_equal(smbx_client_abort_conn(x.cli, ca, SMBX_ERR_TRANSPORT,
                                          x.now),
                   0);
  nh_pump(&x);
  /* a: every registration gone, once; none made after its death */
  assert_int_equal(sim_mr_live(x.w, 0), a_base);
  assert_int_equal(x.w->ep[0].mr_total, a_regs);
  assert_int_equal(x.w->violations, 0);
  /* on b, REPLAY_OPERATION and ChannelSequence 1; the READ whose
   * registration b refused is never sent */
  assert_int_equal(x.srv_replays, fail_reg ? 2 : 3);
  assert_int_equal(x.replay_conn, x.pair[b].sconn);
  assert_int_equal(x.replay_seq, 1);
  assert_int_equal(responses_for(&x, ca, ireq, &e), 1);
  assert_true(e->ev.flags & SMBX_EVF_REPLAYED);
  assert_int_equal(responses_for(&x, ca, wreq, &e), 1);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_SUCCESS);
  assert_true(e->ev.flags & SMBX_EVF_REPLAYED);
  assert_int_equal(!!(e->ev.flags & SMBX_EVF_RDMA), b_smbd);
  if (b_smbd)
    assert_int_equal(e->ev.u.pdu.rdma_length, N);
  const nh_file *fl = file_named(&x, "rdma.bin");
  assert_non_null(fl);
  assert_int_equal(fl->len, 2 * N);
  assert_memory_equal(fl->data, old, N);
  assert_memory_equal(fl->data + N, put, N);
  assert_int_equal(responses_for(&x, ca, rreq, &e), 1);
  assert_int_equal(!!(e->ev.flags & SMBX_EVF_REPLAYED), !fail_reg);
  if (fail_reg) {
    /* not resent: completes on a, with a's error */
    assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_TRANSPORT);
    assert_int_equal(e->ev.u.pdu.rdma_length, 0);
  } else if (b_smbd) {
    assert_int_equal(e->ev.u.pdu.err, 0);
    assert_true(e->ev.flags & SMBX_EVF_RDMA);
    assert_int_equal(e->ev.u.pdu.rdma_length, N);
    assert_memory_equal(got, old, N);
  } else {
    /* inline on TCP: the RESPONSE carries the data */
    assert_int_equal(e->ev.u.pdu.err, 0);
    assert_false(e->ev.flags & SMBX_EVF_RDMA);
    smbx_smb2_read_resp rr;
    assert_int_equal(smbx_smb2_decode_read_resp(e->bytes, e->len, &rr, NULL),
                     0);
    assert_int_equal(rr.data.len, N);
    assert_memory_equal(rr.data.p, old, N);
  }
  if (b_smbd) {
    /* b: new keys only (a's would be refused), each freed once */
    assert_int_equal(x.w2->rdma_faults, 0);
    assert_int_equal(x.w2->violations, 0);
    assert_int_equal(sim_mr_live(x.w2, 0), b_base);
    assert_int_equal(x.w2->ep[0].mr_total, b_regs + (fail_reg ? 1 : 2));
    assert_int_equal(x.w2->ep[1].rdma_reads, 1);
    assert_int_equal(x.w2->ep[1].rdma_writes, fail_reg ? 0 : 1);
  }
  assert_int_equal(x.ta.calls, calls); /* no allocation on the way */
  nh_close_pair(&x, a);
  nh_fini(&x);
}

static void failover_6_6_rdma_io_rebuilt_on_smbd_channel(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  rdma_failover(true, false);
}

static void failover_6_6_rdma_io_resent_inline_on_tcp_channel(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  rdma_failover(false, false);
}

static void failover_rdma_registration_failure_completes_once(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  rdma_failover(true, true);
}

/* replay_buffer_size 0: no copies, a dead channel's requests just fail;
 * the arena's allocation failure fails the bind call with NOMEM */
static void failover_disabled_and_arena_alloc_failure(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup_multichannel(&x);
  x.cs.replay_buffer_size = 0;
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_tcp(&x, false);
  int b = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  nh_negotiate(&x, b);
  uint64_t s = nh_session(&x, a);
  uint32_t t = nh_tree(&x, a, s);
  nh_bind(&x, b, s);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "off.bin");
  x.defer = true;
  uint64_t req;
  uint64_t ca = x.pair[a].cconn;
  assert_int_equal(smbx_client_read(x.cli, ca, s, t, f, 0, 64, x.now, &req),
                   0);
  nh_pump(&x);
  assert_int_equal(smbx_client_abort_conn(x.cli, ca, SMBX_ERR_TRANSPORT,
                                          x.now),
                   0);
  nh_pump(&x);
  const nh_cev *e = NULL;
  assert_int_equal(responses_for(&x, ca, req, &e), 1);
  assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_TRANSPORT);
  nh_fini(&x);

  nh y;
  nh_setup(&y, true);
  y.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  y.cs.dialects = SMBX_DIALECT_MASK_302;
  assert_int_equal(nh_start(&y), 0);
  a = nh_add_tcp(&y, false);
  b = nh_add_tcp(&y, false);
  nh_negotiate(&y, a);
  nh_negotiate(&y, b);
  s = nh_session(&y, a);
  test_alloc_fail_nth(&y.ta, 1);
  assert_int_equal(smbx_client_session_bind(y.cli, y.pair[b].cconn, s,
                                            (const uint8_t *)"NEGO", 4, y.now),
                   SMBX_ERR_NOMEM);
  test_alloc_fail_nth(&y.ta, 0);
  nh_bind(&y, b, s);
  nh_fini(&y);
}


/* ---- 3.3.5.2.10: ChannelSequence on the server ---------------------------------- */

/* One raw request on pair p with ChannelSequence seq; the response PDU is
 * copied into out (returns its length, header in *h). */
static size_t raw_call(nh *x, int p, uint16_t cmd, uint64_t mid, uint64_t sid,
                       uint32_t tid, uint16_t seq, const uint8_t *pdu,
                       size_t len, smbx_smb2_hdr *h, uint8_t *out, size_t cap)
{
  uint8_t fr[512];
  size_t n = nh_frame_req(fr, sizeof fr, cmd, mid, 1, 8, sid, tid, pdu + 64,
                          len - 64);
  fr[4 + 8] = (uint8_t)seq;
  fr[4 + 9] = (uint8_t)(seq >> 8);
  nh_pipe *q = &x->pair[p].s2c;
  size_t before = q->len;
  nh_raw(x, p, fr, n);
  nh_pump(x);
  assert_true(q->len > before + 4);
  uint32_t m = 0;
  assert_int_equal(smbx_tcp_decode_prefix(q->p + before, 4, &m), 0);
  assert_true(m <= cap);
  memcpy(out, q->p + before + 4, m);
  assert_int_equal(smbx_smb2_hdr_decode(out, m, h, NULL), 0);
  assert_int_equal(h->message_id, mid);
  return m;
}

static uint32_t raw_write(nh *x, int p, uint64_t mid, uint64_t sid,
                          uint32_t tid, uint16_t seq, smbx_smb2_fileid f)
{
  smbx_smb2_write_req w;
  memset(&w, 0, sizeof w);
  w.file_id = f;
  w.data.p = (const uint8_t *)"abcd";
  w.data.len = 4;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[256], out[512];
  smbx_ssize n = smbx_smb2_encode_write_req(&h, &w, pdu, sizeof pdu, NULL);
  assert_true(n > 64);
  raw_call(x, p, SMBX_SMB2_WRITE, mid, sid, tid, seq, pdu, (size_t)n, &h, out,
           sizeof out);
  return h.status;
}

/* 3.3.5.2.10 (smb2.md 6.6): an open starts with its CREATE's
 * ChannelSequence; a newer one (16-bit difference <= 0x7FFF) becomes the
 * open's; WRITE / SET_INFO with an older one fail with FILE_NOT_AVAILABLE
 * before the host sees them; READ is not guarded; CLOSE forgets the open;
 * a server without MULTI_CHANNEL guards nothing */
static void chseq_3_3_5_2_10_stale_requests_fail(void **state)
{
  (void)state;
  for (int multi = 0; multi < 2; multi++) {
    nh x;
    nh_setup(&x, false);
    x.auth_rounds = 0;
    x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
    if (multi)
      x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
    assert_int_equal(nh_start(&x), 0);
    int r = nh_add_tcp(&x, true);
    raw_negotiate3(&x, r, SMBX_SMB2_DIALECT_302, 0);
    smbx_smb2_hdr h, q;
    memset(&q, 0, sizeof q);
    uint8_t pdu[512], out[1024];
    /* session (guest: unsigned) */
    smbx_smb2_session_setup_req ssr;
    memset(&ssr, 0, sizeof ssr);
    ssr.security_buffer.p = (const uint8_t *)"NEGO";
    ssr.security_buffer.len = 4;
    smbx_ssize n = smbx_smb2_encode_session_setup_req(&q, &ssr, pdu,
                                                      sizeof pdu, NULL);
    raw_call(&x, r, SMBX_SMB2_SESSION_SETUP, 1, 0, 0, 0, pdu, (size_t)n, &h,
             out, sizeof out);
    assert_int_equal(h.status, 0);
    uint64_t sid = h.session_id;
    /* tree */
    uint8_t w[64];
    size_t wl = 0;
    assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)"\\\\srv\\share",
                                          11, w, sizeof w, &wl),
                     0);
    smbx_smb2_tree_connect_req tr;
    memset(&tr, 0, sizeof tr);
    tr.path.p = w;
    tr.path.len = wl;
    n = smbx_smb2_encode_tree_connect_req(&q, &tr, pdu, sizeof pdu, NULL);
    raw_call(&x, r, SMBX_SMB2_TREE_CONNECT, 2, sid, 0, 0, pdu, (size_t)n, &h,
             out, sizeof out);
    assert_int_equal(h.status, 0);
    uint32_t tid = h.tree_id;
    /* the open, created with ChannelSequence 3 */
    assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)"cs.bin", 6, w,
                                          sizeof w, &wl),
                     0);
    smbx_smb2_create_req cr;
    memset(&cr, 0, sizeof cr);
    cr.impersonation_level = 2;
    cr.desired_access = 0x12019F;
    cr.share_access = 7;
    cr.create_disposition = 3; /* OPEN_IF */
    cr.name.p = w;
    cr.name.len = wl;
    n = smbx_smb2_encode_create_req(&q, &cr, pdu, sizeof pdu, NULL);
    size_t m = raw_call(&x, r, SMBX_SMB2_CREATE, 3, sid, tid, 3, pdu,
                        (size_t)n, &h, out, sizeof out);
    assert_int_equal(h.status, 0);
    smbx_smb2_create_resp crs;
    assert_int_equal(smbx_smb2_decode_create_resp(out, m, &crs, NULL), 0);
    smbx_smb2_fileid f = crs.file_id;
    uint64_t mid = 4;
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 3, f), 0);
    uint32_t stale = multi ? SMBX_STATUS_FILE_NOT_AVAILABLE : 0;
    size_t seen = x.srv_requests;
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 2, f), stale);
    assert_int_equal(x.srv_requests, seen + (multi ? 0 : 1));
    /* newer: adopted; then 3 is stale */
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 5, f), 0);
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 3, f), stale);
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 5, f), 0);
    /* 16-bit arithmetic: 5 + 0x7FFF is newer, then 5 is older */
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 0x8004, f), 0);
    assert_int_equal(raw_write(&x, r, mid++, sid, tid, 5, f), stale);
    /* SET_INFO is guarded as well (the host would say NOT_SUPPORTED) */
    smbx_smb2_set_info_req si;
    memset(&si, 0, sizeof si);
    si.info_type = 1;
    si.file_info_class = 4;
    uint8_t basic[40] = {0};
    si.buffer.p = basic;
    si.buffer.len = sizeof basic;
    si.file_id = f;
    n = smbx_smb2_encode_set_info_req(&q, &si, pdu, sizeof pdu, NULL);
    raw_call(&x, r, SMBX_SMB2_SET_INFO, mid++, sid, tid, 0x8003, pdu,
             (size_t)n,
             &h, out, sizeof out);
    assert_int_equal(h.status, multi ? SMBX_STATUS_FILE_NOT_AVAILABLE
                                     : SMBX_STATUS_NOT_SUPPORTED);
    /* READ is not */
    smbx_smb2_read_req rd;
    memset(&rd, 0, sizeof rd);
    rd.padding = 0x50;
    rd.length = 4;
    rd.file_id = f;
    n = smbx_smb2_encode_read_req(&q, &rd, pdu, sizeof pdu, NULL);
    raw_call(&x, r, SMBX_SMB2_READ, mid++, sid, tid, 0x8003, pdu, (size_t)n, &h,
             out, sizeof out);
    assert_int_equal(h.status, 0);
    /* CLOSE forgets the open: the host answers what follows */
    smbx_smb2_close_req cl;
    memset(&cl, 0, sizeof cl);
    cl.file_id = f;
    n = smbx_smb2_encode_close_req(&q, &cl, pdu, sizeof pdu, NULL);
    raw_call(&x, r, SMBX_SMB2_CLOSE, mid++, sid, tid, 1, pdu, (size_t)n, &h,
             out, sizeof out);
    assert_int_equal(h.status, 0);
    seen = x.srv_requests;
    assert_true(raw_write(&x, r, mid++, sid, tid, 1, f) !=
                SMBX_STATUS_FILE_NOT_AVAILABLE);
    assert_int_equal(x.srv_requests, seen + 1);
    assert_false(x.pair[r].sdown);
    nh_fini(&x);
  }
}


/* ---- memory ------------------------------------------------------------------------ */

static int server_new_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  smbx_server *srv = NULL;
  int rc = smbx_server_new(&srv, &ss, NULL, &ta->a, 0);
  if (rc == 0) {
    smbx_smb2_netif e;
    netif4(&e, 1, 0, 1);
    rc = smbx_server_set_interfaces(srv, &e, 1);
  }
  smbx_server_free(srv);
  return rc;
}

/* a MULTI_CHANNEL server's open table and interface list: every
 * allocation failure ends in SMBX_ERR_NOMEM without a leak */
static void alloc_multichannel_server_fails_cleanly(void **state)
{
  (void)state;
  assert_true(test_alloc_each_failure(server_new_scenario, NULL) >= 6);
}

/* the multichannel steady state allocates nothing either: READs and
 * WRITEs spread over two channels with their replay copies, CREATE/CLOSE
 * (the server's open table) */
static void alloc_zero_per_request_multichannel(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  two_channels(&x, SMBX_DIALECT_MASK_311, &a, &b, &s, &t);
  smbx_smb2_fileid f = nh_create(&x, a, s, t, "steady.bin");
  static const uint8_t data[4096] = {7};
  uint64_t req;
  for (int i = 0; i < 50; i++) {
    assert_int_equal(smbx_client_write(x.cli, 0, s, t, f, 0, data,
                                       sizeof data, x.now, &req),
                     0);
    assert_int_equal(smbx_client_read(x.cli, 0, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
  }
  uint64_t before = x.ta.calls;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(smbx_client_write(x.cli, 0, s, t, f, 0, data,
                                       sizeof data, x.now, &req),
                     0);
    assert_int_equal(smbx_client_read(x.cli, 0, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
  }
  /* CREATE + CLOSE on the second channel (the server's open table) */
  uint8_t w[32];
  size_t wl = 0;
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)"steady.bin", 10, w,
                                        sizeof w, &wl),
                   0);
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.impersonation_level = 2;
  cr.desired_access = 0x12019F;
  cr.share_access = 3;
  cr.create_disposition = 3;
  cr.name.p = w;
  cr.name.len = wl;
  uint64_t cb = x.pair[b].cconn;
  assert_int_equal(smbx_client_create(x.cli, cb, s, t, &cr, x.now, &req), 0);
  nh_pump(&x);
  const nh_cev *e = NULL;
  assert_int_equal(responses_for(&x, cb, req, &e), 1);
  smbx_smb2_create_resp crs;
  assert_int_equal(smbx_smb2_decode_create_resp(e->bytes, e->len, &crs, NULL),
                   0);
  assert_int_equal(smbx_client_close(x.cli, cb, s, t, crs.file_id, 0, x.now,
                                     &req),
                   0);
  nh_pump(&x);
  assert_int_equal(x.ta.calls, before);
  /* every request completed, successfully */
  size_t ok = 0;
  for (size_t i = 0; i < x.n_log; i++)
    if (x.log[i].ev.type == SMBX_EV_RESPONSE && x.log[i].ev.u.pdu.err == 0 &&
        x.log[i].ev.u.pdu.status == 0)
      ok++;
  assert_true(ok >= 300 + 2);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(netif_2_2_32_5_round_trip_through_both_nodes),
      cmocka_unit_test(netif_3_3_5_15_11_refusals),
      cmocka_unit_test(netif_alloc_failure_keeps_old_list),
      cmocka_unit_test(bind_3_3_5_5_hostile_binding_legs),
      cmocka_unit_test(bind_3_3_5_5_3_other_user_refused),
      cmocka_unit_test(bind2_3_3_4_1_1_unbound_session_answer_keeps_signed),
      cmocka_unit_test(bind_3_2_5_3_3_guest_binding_response_refused),
      cmocka_unit_test(bind_6_6_channel_key_from_binding_key),
      cmocka_unit_test(spread_requests_use_both_channels),
      cmocka_unit_test(failover_6_6_replayed_once_with_flag_and_sequence),
      cmocka_unit_test(failover_replay_is_once_only),
      cmocka_unit_test(failover_6_6_rdma_io_rebuilt_on_smbd_channel),
      cmocka_unit_test(failover_6_6_rdma_io_resent_inline_on_tcp_channel),
      cmocka_unit_test(failover_rdma_registration_failure_completes_once),
      cmocka_unit_test(failover_disabled_and_arena_alloc_failure),
      cmocka_unit_test(chseq_3_3_5_2_10_stale_requests_fail),
      cmocka_unit_test(alloc_multichannel_server_fails_cleanly),
      cmocka_unit_test(alloc_zero_per_request_multichannel),
  };
  return RUN_TESTS(tests);
}
