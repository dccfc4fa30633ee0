/* SPDX-License-Identifier: MIT */
/* Node behaviour that rests on lib/conn's connection rules: the client's
 * event queue never loses an event (allocation failure while it must
 * grow), break notifications through lib/conn (encrypted for an
 * encrypting session), compounded responses, sessions without a key, and
 * what the server's NEGOTIATED event reports. Client node vs server node
 * over in-memory Direct TCP (tests/node/node_harness.c). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

/* Client bytes of pair p fed straight to the client node, without
 * draining its event queue (nh_pump would drain it). */
static void feed_client_raw(nh *x, int p)
{
  nh_pipe *q = &x->pair[p].s2c;
  while (q->off < q->len) {
    smbx_ssize r = smbx_client_tcp_feed(x->cli, x->pair[p].cconn,
                                        q->p + q->off, q->len - q->off,
                                        x->now);
    if (r <= 0) {
      q->off = q->len; /* the connection is down */
      break;
    }
    q->off += (size_t)r;
  }
}

static size_t count_since(const nh *x, size_t from, uint32_t type)
{
  size_t n = 0;
  for (size_t i = from; i < x->n_log; i++)
    if (x->log[i].ev.type == type)
      n++;
  return n;
}

/* A lease break body (44 bytes) at b + 64; returns b + 64. */
static const uint8_t *lease_break_body(uint8_t b[128])
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_lease_break_notify ln;
  memset(&ln, 0, sizeof ln);
  ln.new_epoch = 3;
  memset(ln.lease_key, 0x5A, 16);
  ln.current_state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE;
  ln.new_state = SMBX_SMB2_LEASE_READ;
  assert_int_equal(
      smbx_smb2_encode_lease_break_notify(&h, &ln, b, 128, NULL), 64 + 44);
  return b + 64;
}

/* Unsolicited events (breaks) arrive while the client's event queue is
 * full and the allocator fails: the connection goes down with
 * SMBX_ERR_NOMEM, every outstanding request still completes exactly once
 * and CONN_DOWN is delivered (the queue keeps room for them). */
static void client_event_queue_full_alloc_fails_conn_down_nomem(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int p = nh_up_tcp(&x, false, &s, &t);
  uint64_t c = x.pair[p].cconn;
  /* three requests the server host keeps unanswered */
  x.defer = true;
  smbx_smb2_fileid f = {7, 7};
  uint64_t req[3];
  for (int i = 0; i < 3; i++)
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 512, x.now,
                                      &req[i]),
                     0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 3);
  size_t mark = x.n_log;
  /* from now on every allocation fails; 300 breaks queue up unread */
  x.ta.fail_from = x.ta.calls + 1;
  uint8_t b[128];
  const uint8_t *body = lease_break_body(b);
  for (int i = 0; i < 300; i++)
    assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, 0, body,
                                            44, x.now),
                     0);
  feed_client_raw(&x, p);
  x.ta.fail_from = 0;
  nh_pump(&x);
  size_t breaks = count_since(&x, mark, SMBX_EV_BREAK);
  assert_true(breaks > 0 && breaks < 300);
  /* each outstanding READ completed once, with the connection's error */
  for (int i = 0; i < 3; i++) {
    const nh_cev *r = nh_response(&x, req[i]);
    assert_int_equal(r->ev.u.pdu.err, SMBX_ERR_NOMEM);
  }
  assert_int_equal(count_since(&x, mark, SMBX_EV_RESPONSE), 3);
  assert_int_equal(count_since(&x, mark, SMBX_EV_SESSION_DOWN), 1);
  assert_int_equal(count_since(&x, mark, SMBX_EV_CONN_DOWN), 1);
  const nh_cev *d = &x.log[x.n_log - 1];
  assert_int_equal(d->ev.type, SMBX_EV_CONN_DOWN);
  assert_int_equal(d->ev.u.down.err, SMBX_ERR_NOMEM);
  assert_string_equal(d->ev.u.down.reason, "event queue: out of memory");
  assert_true(x.pair[p].cdown);
  nh_fini(&x);
}

/* A request whose completion could not be queued (the queue cannot grow)
 * is refused with SMBX_ERR_NOMEM before anything is sent; the connection
 * stays up and every request that was sent completes once. */
static void client_request_refused_nomem_when_queue_cannot_grow(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int p = nh_up_tcp(&x, false, &s, &t);
  uint64_t c = x.pair[p].cconn;
  x.defer = true;
  smbx_smb2_fileid f = {7, 7};
  size_t mark = x.n_log;
  x.ta.fail_from = x.ta.calls + 1;
  uint64_t req[128];
  int sent = 0, rc = 0;
  while (sent < 128) {
    rc = smbx_client_read(x.cli, c, s, t, f, 0, 512, x.now, &req[sent]);
    if (rc)
      break;
    sent++;
  }
  x.ta.fail_from = 0;
  assert_int_equal(rc, SMBX_ERR_NOMEM);
  assert_true(sent > 0 && sent < 128);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(x.cli, c, &ci), 0);
  assert_int_equal(ci.err, 0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, (size_t)sent);
  for (size_t i = 0; i < x.n_deferred; i++)
    nh_answer_deferred(&x, i, SMBX_STATUS_END_OF_FILE);
  nh_pump(&x);
  assert_int_equal(count_since(&x, mark, SMBX_EV_RESPONSE), (size_t)sent);
  for (int i = 0; i < sent; i++)
    assert_int_equal(nh_response(&x, req[i])->ev.u.pdu.status,
                     SMBX_STATUS_END_OF_FILE);
  nh_fini(&x);
}

/* The room a send proves is kept across sends without walking the
 * connections each time (ev_spare): with a second session being set up
 * between them (its SESSION_SETUP unanswered) and every allocation
 * failing, requests stop where the queue's room ends (SMBX_ERR_NOMEM),
 * and a teardown delivers each request's completion, the SESSION_SETUP's,
 * the live session's SESSION_DOWN and CONN_DOWN without growing the
 * queue. */
static void client_event_room_counts_a_session_made_between_sends(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int p = nh_up_tcp(&x, false, &s, &t);
  uint64_t c = x.pair[p].cconn;
  x.defer = true;
  smbx_smb2_fileid f = {7, 7};
  uint64_t req[512];
  int sent = 0;
  /* the requests' MessageId table grown beforehand: the queue is what
   * runs out below */
  for (; sent < 100; sent++)
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 512, x.now,
                                      &req[sent]),
                     0);
  size_t mark = x.n_log;
  uint64_t s2 = 0;
  const uint8_t blob[8] = {0};
  assert_int_equal(
      smbx_client_session_setup(x.cli, c, &s2, blob, sizeof blob, x.now), 0);
  x.ta.fail_from = x.ta.calls + 1;
  int rc = 0;
  while (sent < 512) {
    rc = smbx_client_read(x.cli, c, s, t, f, 0, 512, x.now, &req[sent]);
    if (rc)
      break;
    sent++;
  }
  assert_int_equal(rc, SMBX_ERR_NOMEM);
  assert_true(sent > 100 && sent < 512);
  assert_int_equal(smbx_client_abort_conn(x.cli, c, SMBX_ERR_CLOSED, x.now),
                   0);
  nh_pump(&x);
  x.ta.fail_from = 0;
  for (int i = 0; i < sent; i++)
    assert_int_equal(nh_response(&x, req[i])->ev.u.pdu.err, SMBX_ERR_CLOSED);
  assert_int_equal(count_since(&x, mark, SMBX_EV_RESPONSE), (size_t)sent);
  assert_int_equal(count_since(&x, mark, SMBX_EV_SESSION_SETUP), 1);
  assert_int_equal(count_since(&x, mark, SMBX_EV_SESSION_DOWN), 1);
  assert_int_equal(count_since(&x, mark, SMBX_EV_CONN_DOWN), 1);
  nh_fini(&x);
}

/* 3.3.4.1.4 / 3.3.4.7: a break for an open of an encrypting session goes
 * in that session's TRANSFORM (header SessionId 0, MessageId all-ones,
 * unsigned); without a session it goes in the clear */
static void break_3_3_4_7_encrypted_for_encrypting_session(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  x.ss.flags |= SMBX_SERVER_ENCRYPT;
  int p = nh_start_tcp(&x);
  (void)nh_session(&x, p);
  uint64_t wire = x.log[x.cursor - 1].ev.u.session.session_id;
  assert_true(wire != 0);
  uint8_t b[128];
  const uint8_t *body = lease_break_body(b);
  nh_pipe *q = &x.pair[p].s2c;
  size_t at = q->len;
  assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, wire, body,
                                          44, x.now),
                   0);
  /* on the wire: one TRANSFORM of that session */
  assert_int_equal(q->p[at + 4], 0xFD);
  uint64_t tsid = 0;
  for (size_t i = 8; i-- > 0;)
    tsid = tsid << 8 | q->p[at + 4 + 44 + i];
  assert_int_equal(tsid, wire);
  const nh_cev *e = nh_wait(&x, SMBX_EV_BREAK);
  assert_non_null(e);
  assert_true(e->ev.flags & SMBX_EVF_ENCRYPTED);
  assert_false(e->ev.flags & SMBX_EVF_SIGNED);
  assert_int_equal(e->ev.u.pdu.hdr.message_id, UINT64_MAX);
  assert_int_equal(e->ev.u.pdu.hdr.session_id, 0);
  assert_int_equal(e->len, 64 + 44);
  assert_memory_equal(e->bytes + 64, body, 44);
  /* no session named: in the clear */
  at = q->len;
  assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, 0, body,
                                          44, x.now),
                   0);
  assert_int_equal(q->p[at + 4], 0xFE);
  e = nh_wait(&x, SMBX_EV_BREAK);
  assert_non_null(e);
  assert_false(e->ev.flags & (SMBX_EVF_ENCRYPTED | SMBX_EVF_SIGNED));
  assert_false(x.pair[p].cdown || x.pair[p].sdown);
  nh_fini(&x);
}

/* 6.2: the server node answers a compound request with one compounded
 * response (as Windows and Samba do): related CREATE + WRITE + CLOSE and
 * an unrelated pair of ECHOs, each PDU signed (verified by the client) or
 * the whole in one TRANSFORM; only the last response is the last PDU of
 * its transport message */
static void compound_6_2_compound_request_compound_response(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int enc = 0; enc < 2; enc++) {
    nh x;
    nh_setup(&x, true);
    x.ss.flags |= enc ? SMBX_SERVER_ENCRYPT : SMBX_SERVER_SIGNING_REQUIRED;
    int p = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, p);
    uint32_t t = nh_tree(&x, p, s);
    uint64_t reqs[3];
    nh_compound_create_write_close(&x, p, s, t, "cmp", "compound", 0, reqs);
    uint32_t want = enc ? SMBX_EVF_ENCRYPTED : SMBX_EVF_VERIFIED;
    for (int i = 0; i < 3; i++) {
      const nh_cev *e = nh_response(&x, reqs[i]);
      assert_int_equal(e->ev.u.pdu.err, 0);
      assert_int_equal(e->ev.u.pdu.status, 0);
      assert_true(e->ev.flags & want);
      assert_int_equal((e->ev.flags & SMBX_EVF_LAST) != 0, i == 2);
      assert_int_equal(e->ev.u.pdu.chain_index, i);
    }
    assert_memory_equal(x.files[0].data, "compound", 8);
    nh_compound_two_echoes(&x, p, s, reqs);
    for (int i = 0; i < 2; i++) {
      const nh_cev *e = nh_response(&x, reqs[i]);
      assert_int_equal(e->ev.u.pdu.status, 0);
      assert_int_equal((e->ev.flags & SMBX_EVF_LAST) != 0, i == 1);
    }
    assert_false(x.pair[p].cdown || x.pair[p].sdown);
    nh_fini(&x);
  }
}

/* A session the host declares keyless (smbx_client_session_key with no
 * key) comes up without signing or encryption; with signing or
 * encryption required by the client it is refused (SMBX_ERR_AUTH), and a
 * key of length 0 given after the final response is refused likewise */
static void sess_keyless_session_unsigned_or_refused(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int required = 0; required < 2; required++) {
    nh x;
    nh_setup(&x, true);
    if (required)
      x.cs.flags |= SMBX_CLIENT_SIGNING_REQUIRED;
    /* 3.0.2: on 3.1.1 a keyless user session cannot connect a tree (its
     * TREE_CONNECT must be signed, MS-SMB2 3.3.5.7) */
    x.cs.dialects = SMBX_DIALECT_MASK_302;
    int p = nh_start_tcp(&x);
    uint64_t s;
    const nh_cev *e = nh_session_final(&x, p, &s, true);
    assert_int_equal(e->ev.u.session.status, SMBX_STATUS_SUCCESS);
    if (required) {
      assert_int_equal(e->ev.u.session.err, SMBX_ERR_AUTH);
      nh_pump(&x);
      assert_int_equal(nh_count(&x, SMBX_EV_SESSION_UP), 0);
      nh_fini(&x);
      continue;
    }
    assert_int_equal(e->ev.u.session.err, 0);
    assert_non_null(nh_wait(&x, SMBX_EV_SESSION_UP));
    uint32_t t = nh_tree(&x, p, s);
    uint64_t req;
    (void)t;
    assert_int_equal(smbx_client_echo(x.cli, x.pair[p].cconn, x.now, &req),
                     0);
    const nh_cev *r = nh_response(&x, req);
    assert_int_equal(r->ev.u.pdu.status, 0);
    assert_false(r->ev.flags & (SMBX_EVF_SIGNED | SMBX_EVF_ENCRYPTED));
    /* the key cannot be given any more */
    assert_int_equal(smbx_client_session_key(x.cli, s, NULL, 0, x.now),
                     SMBX_ERR_STATE);
    assert_int_equal(smbx_client_session_key(x.cli, s, NULL, 4, x.now),
                     SMBX_ERR_INVAL);
    nh_fini(&x);
  }
  /* said after the final response: refused when signing is required */
  nh x;
  nh_setup(&x, true);
  x.cs.flags |= SMBX_CLIENT_ENCRYPT;
  x.auth_rounds = 1;
  int p = nh_start_tcp(&x);
  uint64_t s = 0;
  assert_int_equal(smbx_client_session_setup(x.cli, x.pair[p].cconn, &s,
                                             (const uint8_t *)"NEGO", 4,
                                             x.now),
                   0);
  const nh_cev *e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
  assert_int_equal(e->ev.u.session.status, SMBX_STATUS_MORE_PROCESSING_REQUIRED);
  assert_int_equal(smbx_client_session_setup(x.cli, x.pair[p].cconn, &s,
                                             (const uint8_t *)"AUTH1", 5,
                                             x.now),
                   0);
  e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
  assert_int_equal(e->ev.u.session.status, SMBX_STATUS_SUCCESS);
  assert_int_equal(e->ev.u.session.err, 0); /* waiting for the key */
  assert_int_equal(smbx_client_session_key(x.cli, s, NULL, 0, x.now),
                   SMBX_ERR_AUTH);
  nh_pump(&x);
  assert_int_equal(nh_count(&x, SMBX_EV_SESSION_UP), 0);
  /* a real key still brings it up */
  assert_int_equal(smbx_client_session_key(x.cli, s, x.key, 16, x.now), 0);
  assert_non_null(nh_wait(&x, SMBX_EV_SESSION_UP));
  nh_fini(&x);
}

/* The NEGOTIATED events carry the node's own Capabilities/SecurityMode
 * as sent (server: the response, which VALIDATE_NEGOTIATE must repeat;
 * client: the request), next to the intersection in effect */
static void neg_4_1_negotiated_event_has_own_capabilities(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  x.ss.capabilities = SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_LARGE_MTU |
                      SMBX_SMB2_CAP_MULTI_CHANNEL;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, true);
  /* a 3.0.2 client offering only LARGE_MTU */
  static const uint8_t dl[6] = {0x10, 0x02, 0x00, 0x03, 0x02, 0x03};
  smbx_smb2_negotiate_req nr;
  memset(&nr, 0, sizeof nr);
  nr.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  nr.capabilities = SMBX_SMB2_CAP_LARGE_MTU;
  nr.dialects.p = dl;
  nr.dialects.len = sizeof dl;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_NEGOTIATE;
  uint8_t pdu[256], frame[300];
  smbx_ssize n = smbx_smb2_encode_negotiate_req(&h, &nr, pdu, sizeof pdu,
                                                NULL);
  assert_true(n > 64);
  size_t fl = nh_frame_req(frame, sizeof frame, SMBX_SMB2_NEGOTIATE, 0, 0, 1,
                           0, 0, pdu + 64, (size_t)n - 64);
  assert_int_equal(smbx_server_tcp_feed(x.srv, x.pair[p].sconn, frame, fl,
                                        x.now),
                   (smbx_ssize)fl);
  smbx_event e;
  e.struct_size = sizeof e;
  bool seen = false;
  while (smbx_server_next_event(x.srv, &e) == 1)
    if (e.type == SMBX_EV_NEGOTIATED) {
      seen = true;
      break;
    }
  assert_true(seen);
  /* the response on the wire */
  nh_pipe *q = &x.pair[p].s2c;
  assert_true(q->len > 4 + 64);
  smbx_smb2_negotiate_resp rs;
  assert_int_equal(
      smbx_smb2_decode_negotiate_resp(q->p + 4, q->len - 4, &rs, NULL), 0);
  assert_int_equal(rs.dialect_revision, SMBX_SMB2_DIALECT_302);
  assert_int_equal(e.u.negotiated.own_capabilities, rs.capabilities);
  assert_int_equal(e.u.negotiated.own_security_mode, rs.security_mode);
  assert_true(e.u.negotiated.own_security_mode &
              SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED);
  assert_true(rs.capabilities & SMBX_SMB2_CAP_LEASING);
  assert_int_equal(e.u.negotiated.capabilities, SMBX_SMB2_CAP_LARGE_MTU);
  /* client node: what its request carried */
  int c = nh_add_tcp(&x, false);
  nh_negotiate(&x, c);
  const nh_cev *ce = &x.log[x.cursor - 1];
  assert_int_equal(ce->ev.type, SMBX_EV_NEGOTIATED);
  assert_int_equal(ce->ev.u.negotiated.own_capabilities, x.cs.capabilities);
  assert_int_equal(ce->ev.u.negotiated.own_security_mode,
                   SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(client_event_queue_full_alloc_fails_conn_down_nomem),
      cmocka_unit_test(client_request_refused_nomem_when_queue_cannot_grow),
      cmocka_unit_test(client_event_room_counts_a_session_made_between_sends),
      cmocka_unit_test(break_3_3_4_7_encrypted_for_encrypting_session),
      cmocka_unit_test(compound_6_2_compound_request_compound_response),
      cmocka_unit_test(sess_keyless_session_unsigned_or_refused),
      cmocka_unit_test(neg_4_1_negotiated_event_has_own_capabilities),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
