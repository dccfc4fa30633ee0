/* SPDX-License-Identifier: MIT */
/* Client session and tree policy against the server node (in-memory
 * Direct TCP, tests/node/node_harness.c): guest fallback (MS-SMB2
 * 3.2.5.3.1; SMBX_CLIENT_ALLOW_GUEST). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

static bool have_openssl(void)
{
#ifdef NH_HAVE_OPENSSL
  return true;
#else
  return false;
#endif
}

/* Runs the harness's SESSION_SETUP legs; returns the final response's
 * event (status SUCCESS). */
static const nh_cev *final_setup(nh *x, int p, uint64_t *s)
{
  uint64_t conn = x->pair[p].cconn;
  *s = 0;
  assert_int_equal(smbx_client_session_setup(x->cli, conn, s,
                                             (const uint8_t *)"NEGO", 4,
                                             x->now),
                   0);
  for (int round = 1;; round++) {
    const nh_cev *e = nh_wait(x, SMBX_EV_SESSION_SETUP);
    assert_non_null(e);
    if (e->ev.u.session.status == SMBX_STATUS_SUCCESS)
      return e;
    assert_int_equal(e->ev.u.session.status,
                     SMBX_STATUS_MORE_PROCESSING_REQUIRED);
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    assert_int_equal(smbx_client_session_setup(x->cli, conn, s,
                                               (const uint8_t *)tok,
                                               (size_t)tl, x->now),
                     0);
  }
}

/* A server that falls back to guest (IS_GUEST: the credentials were not
 * checked) is refused by default, as Windows with insecure guest logons
 * disabled: SMBX_ERR_AUTH, IS_GUEST reported, no SESSION_UP, the session
 * cannot be used. */
static void sess_3_2_5_3_1_guest_fallback_refused_by_default(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.cs.flags &= ~SMBX_CLIENT_ALLOW_GUEST;
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  nh_negotiate(&x, p);
  uint64_t s;
  const nh_cev *e = final_setup(&x, p, &s);
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
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  nh_negotiate(&x, p);
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
  if (!have_openssl())
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
      assert_int_equal(nh_start(&x), 0);
      int p = nh_add_tcp(&x, false);
      nh_negotiate(&x, p);
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
  nh_setup(&x, false);
  x.cs.flags &= ~SMBX_CLIENT_ALLOW_GUEST;
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_NULL;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  nh_negotiate(&x, p);
  uint64_t s;
  const nh_cev *e = final_setup(&x, p, &s);
  assert_int_equal(e->ev.u.session.err, 0);
  e = nh_wait(&x, SMBX_EV_SESSION_UP);
  assert_non_null(e);
  assert_int_equal(e->ev.u.session.session_flags,
                   SMBX_SMB2_SESSION_FLAG_IS_NULL);
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
  };
  return RUN_TESTS(tests);
}
