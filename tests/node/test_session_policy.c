/* SPDX-License-Identifier: MIT */
/* Client session and tree policy against the server node (in-memory
 * Direct TCP, tests/node/node_harness.c): guest fallback (MS-SMB2
 * 3.2.5.3.1; SMBX_CLIENT_ALLOW_GUEST) and shares that require encryption
 * (SMB2_SHAREFLAG_ENCRYPT_DATA: client 3.2.5.5 / 3.2.4.1.8, server
 * 3.3.5.7 / 3.3.5.2.11). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

static const nh_cev *final_setup(nh *x, int p, uint64_t *s)
{
  return nh_session_final(x, p, s, false);
}

/* A TCP pair on a client that refuses guest sessions, to a host that
 * grants session_flags; returns the final SESSION_SETUP event. */
static const nh_cev *final_setup_guest_refused(nh *x, uint16_t session_flags,
                                               int *p, uint64_t *s)
{
  nh_setup(x, false);
  x->cs.flags &= ~SMBX_CLIENT_ALLOW_GUEST;
  x->session_flags = session_flags;
  *p = nh_start_tcp(x);
  return final_setup(x, *p, s);
}

/* A server that falls back to guest (IS_GUEST: the credentials were not
 * checked) is refused by default, as Windows with insecure guest logons
 * disabled: SMBX_ERR_AUTH, IS_GUEST reported, no SESSION_UP, the session
 * cannot be used. */
static void sess_3_2_5_3_1_guest_fallback_refused_by_default(void **state)
{
  (void)state;
  nh x;
  int p;
  uint64_t s;
  const nh_cev *e =
      final_setup_guest_refused(&x, SMBX_SMB2_SESSION_FLAG_IS_GUEST, &p, &s);
  assert_int_equal(e->ev.u.session.err, SMBX_ERR_AUTH);
  assert_true(e->ev.u.session.session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST);
  nh_pump(&x);
  assert_int_equal(nh_count(&x, SMBX_EV_SESSION_UP), 0);
  assert_true(smbx_client_tree_connect(x.cli, x.pair[p].cconn, s,
                                       "\\\\srv\\share", x.now, NULL) < 0);
  nh_fini(&x);
}

/* With SMBX_CLIENT_ALLOW_GUEST the guest session comes up, unsigned, and
 * SESSION_UP says IS_GUEST. */
static void sess_3_2_5_3_1_guest_allowed_reported(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  assert_true(x.cs.flags & SMBX_CLIENT_ALLOW_GUEST);
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  int p = nh_start_tcp(&x);
  uint64_t s;
  const nh_cev *e = final_setup(&x, p, &s);
  assert_int_equal(e->ev.u.session.err, 0);
  assert_true(e->ev.u.session.session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST);
  e = nh_wait(&x, SMBX_EV_SESSION_UP);
  assert_non_null(e);
  assert_true(e->ev.u.session.session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST);
  (void)nh_tree(&x, p, s);
  nh_fini(&x);
}

/* 3.2.5.3.1: a client that requires signing or encryption fails a guest
 * or anonymous session even when guests are allowed (nothing could be
 * signed). */
static void sess_3_2_5_3_1_guest_or_null_with_signing_required_fails(
    void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  const uint32_t req[2] = {SMBX_CLIENT_SIGNING_REQUIRED, SMBX_CLIENT_ENCRYPT};
  const uint16_t kind[2] = {SMBX_SMB2_SESSION_FLAG_IS_GUEST,
                            SMBX_SMB2_SESSION_FLAG_IS_NULL};
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 2; k++) {
      nh x;
      nh_setup(&x, true);
      x.cs.flags |= req[r];
      x.session_flags = kind[k];
      int p = nh_start_tcp(&x);
      uint64_t s;
      const nh_cev *e = final_setup(&x, p, &s);
      assert_int_equal(e->ev.u.session.err, SMBX_ERR_AUTH);
      assert_int_equal(e->ev.u.session.session_flags, kind[k]);
      nh_pump(&x);
      assert_int_equal(nh_count(&x, SMBX_EV_SESSION_UP), 0);
      nh_fini(&x);
    }
}

/* An anonymous logon (IS_NULL: what the host asked for) is no guest
 * fallback: it comes up under the default settings. */
static void sess_null_session_not_refused_as_guest(void **state)
{
  (void)state;
  nh x;
  int p;
  uint64_t s;
  const nh_cev *e =
      final_setup_guest_refused(&x, SMBX_SMB2_SESSION_FLAG_IS_NULL, &p, &s);
  assert_int_equal(e->ev.u.session.err, 0);
  e = nh_wait(&x, SMBX_EV_SESSION_UP);
  assert_non_null(e);
  assert_int_equal(e->ev.u.session.session_flags,
                   SMBX_SMB2_SESSION_FLAG_IS_NULL);
  nh_fini(&x);
}

/* Tree connect on pair p; returns the TREE_CONNECT event. */
static const nh_cev *tcon(nh *x, int p, uint64_t s)
{
  assert_int_equal(smbx_client_tree_connect(x->cli, x->pair[p].cconn, s,
                                            "\\\\srv\\share", x->now, NULL),
                   0);
  const nh_cev *e = nh_wait(x, SMBX_EV_TREE_CONNECT);
  assert_non_null(e);
  return e;
}

/* A CLOSE of an unknown FileId on tree t: the host answers it (not the
 * node), so the response shows how the request travelled. */
static const nh_cev *close_on(nh *x, int p, uint64_t s, uint32_t t,
                              int *rc)
{
  smbx_smb2_fileid f = {0x51, 0x52};
  uint64_t req = 0;
  *rc = smbx_client_close(x->cli, x->pair[p].cconn, s, t, f, 0, x->now, &req);
  return *rc == 0 ? nh_response(x, req) : NULL;
}

/* A share flagged ENCRYPT_DATA on a session that does not encrypt
 * everything: the client encrypts every request on that tree (the server
 * node, which refuses requests in the clear there, answers them), and
 * only there. */
static void tcon_3_2_5_5_encrypt_data_share_requests_encrypted(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  const uint32_t dialects[2] = {SMBX_DIALECT_MASK_302, SMBX_DIALECT_MASK_311};
  for (int d = 0; d < 2; d++) {
    nh x;
    nh_setup(&x, true);
    x.cs.dialects = dialects[d];
    x.share_flags = SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA;
    int p = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, p);
    const nh_cev *e = tcon(&x, p, s);
    assert_int_equal(e->ev.u.tree.err, 0);
    assert_int_equal(e->ev.u.tree.status, 0);
    assert_true(e->ev.u.tree.share_flags & SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA);
    uint32_t t = e->ev.u.tree.tree_id;
    int rc;
    const nh_cev *r = close_on(&x, p, s, t, &rc);
    assert_int_equal(rc, 0);
    assert_true(r->ev.flags & SMBX_EVF_ENCRYPTED);
    assert_int_not_equal(r->ev.u.pdu.status, SMBX_STATUS_ACCESS_DENIED);
    /* ECHO belongs to no tree: not encrypted */
    uint64_t req = 0;
    assert_int_equal(smbx_client_echo(x.cli, x.pair[p].cconn, x.now, &req), 0);
    assert_false(nh_response(&x, req)->ev.flags & SMBX_EVF_ENCRYPTED);
    nh_fini(&x);
  }
}

/* The server node: a share that requires encryption is refused
 * ACCESS_DENIED to a session that cannot encrypt (guest: no keys;
 * 3.3.5.7), and the host's tree_respond says so (SMBX_ERR_AUTH, checked
 * by the harness). */
static void tcon_3_3_5_7_encrypt_data_share_refused_to_guest(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  x.share_flags = SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA;
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  /* the server node: ACCESS_DENIED for a session that cannot encrypt */
  const nh_cev *e = tcon(&x, p, s);
  assert_int_equal(e->ev.u.tree.status, SMBX_STATUS_ACCESS_DENIED);
  nh_fini(&x);
}

/* The client cannot encrypt (the host said the session has no key) while
 * the server, which has the key, grants a share that requires
 * encryption: the client refuses the tree (SMBX_ERR_AUTH) and sends
 * nothing on it in the clear. */
static void tcon_3_2_5_5_encrypt_data_refused_when_client_cannot_encrypt(
    void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  /* 3.0.2: on 3.1.1 a keyless user session cannot connect a tree */
  x.cs.dialects = SMBX_DIALECT_MASK_302;
  x.share_flags = SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA;
  int p = nh_start_tcp(&x);
  uint64_t s;
  const nh_cev *e = nh_session_final(&x, p, &s, true);
  assert_int_equal(e->ev.u.session.err, 0);
  assert_non_null(nh_wait(&x, SMBX_EV_SESSION_UP));
  e = tcon(&x, p, s);
  assert_int_equal(e->ev.u.tree.status, 0);
  assert_int_equal(e->ev.u.tree.err, SMBX_ERR_AUTH);
  uint32_t t = e->ev.u.tree.tree_id;
  size_t before = x.srv_requests;
  int rc;
  assert_null(close_on(&x, p, s, t, &rc));
  assert_int_equal(rc, SMBX_ERR_AUTH);
  nh_pump(&x);
  assert_int_equal(x.srv_requests, before);
  nh_fini(&x);
}

/* The server node: a request in the clear on the tree of a share that
 * requires encryption is failed ACCESS_DENIED before the host sees it
 * (3.3.5.2.11). The client node never sends one, so two CLOSEs are
 * written into the connection by hand after its last request: the first
 * on the encrypting tree, the second on a plain tree (it reaches the
 * host: the framing and MessageIds are right). */
static void tcon_3_3_5_2_11_request_in_clear_access_denied(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  x.cs.dialects = SMBX_DIALECT_MASK_302;
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  uint32_t plain = nh_tree(&x, p, s);
  x.share_flags = SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA;
  const nh_cev *e = tcon(&x, p, s);
  assert_int_equal(e->ev.u.tree.err, 0);
  uint32_t enc = e->ev.u.tree.tree_id;
  assert_int_not_equal(enc, plain);
  uint64_t req = 0;
  assert_int_equal(smbx_client_echo(x.cli, x.pair[p].cconn, x.now, &req), 0);
  const nh_cev *r = nh_response(&x, req);
  uint64_t mid = r->ev.u.pdu.hdr.message_id;
  uint64_t sid = e->ev.u.tree.session_id;
  smbx_smb2_close_req c;
  memset(&c, 0, sizeof c);
  c.file_id.persistent_id = 0x51;
  c.file_id.volatile_id = 0x52;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[128];
  smbx_ssize n = smbx_smb2_encode_close_req(&h, &c, pdu, sizeof pdu, NULL);
  assert_true(n > 64);
  uint8_t fr[2][256];
  size_t fl[2];
  fl[0] = nh_frame_req(fr[0], sizeof fr[0], SMBX_SMB2_CLOSE, mid + 1, 1, 1,
                       sid, enc, pdu + 64, (size_t)n - 64);
  fl[1] = nh_frame_req(fr[1], sizeof fr[1], SMBX_SMB2_CLOSE, mid + 2, 1, 1,
                       sid, plain, pdu + 64, (size_t)n - 64);
  size_t before = x.srv_requests;
  nh_raw(&x, p, fr[0], fl[0]);
  nh_raw(&x, p, fr[1], fl[1]);
  nh_pump(&x);
  assert_int_equal(x.srv_requests, before + 1);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sess_3_2_5_3_1_guest_fallback_refused_by_default),
      cmocka_unit_test(sess_3_2_5_3_1_guest_allowed_reported),
      cmocka_unit_test(
          sess_3_2_5_3_1_guest_or_null_with_signing_required_fails),
      cmocka_unit_test(sess_null_session_not_refused_as_guest),
      cmocka_unit_test(tcon_3_2_5_5_encrypt_data_share_requests_encrypted),
      cmocka_unit_test(tcon_3_3_5_7_encrypt_data_share_refused_to_guest),
      cmocka_unit_test(
          tcon_3_2_5_5_encrypt_data_refused_when_client_cannot_encrypt),
      cmocka_unit_test(tcon_3_3_5_2_11_request_in_clear_access_denied),
  };
  return RUN_TESTS(tests);
}
