/* SPDX-License-Identifier: MIT */
/* Reconnect (MS-SMB2 3.3.5.5.3): a SESSION_SETUP whose PreviousSessionId
 * names an established session of the same user (as the host named it
 * with smbx_server_session_user) ends that session once the new one is
 * authenticated, on whichever connection it lives: SMBX_EV_SESSION_DOWN
 * (status USER_SESSION_DELETED) tells the host to close its opens and its
 * later requests fail USER_SESSION_DELETED. The old session is set up by
 * the client node; the reconnect comes from a raw client whose
 * SESSION_SETUP events this test answers as the host. */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

#include <smbx/tcp.h>

typedef struct seen {
  size_t downs;
  uint64_t down_sid, down_conn;
  uint32_t down_status;
} seen;

static void rd_le(const uint8_t *p, size_t n, uint64_t *v)
{
  *v = 0;
  for (size_t i = 0; i < n; i++)
    *v |= (uint64_t)p[i] << (8 * i);
}

static void wr_le(uint8_t *p, size_t n, uint64_t v)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void raw_negotiate(nh *x, int p)
{
  uint8_t body[38];
  memset(body, 0, sizeof body);
  body[0] = 36; /* StructureSize */
  body[2] = 1;  /* DialectCount */
  body[4] = 1;  /* SecurityMode */
  body[36] = 0x10;
  body[37] = 0x02; /* 0x0210 */
  uint8_t fr[256];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_NEGOTIATE, 0, 0, 10, 0, 0,
                          body, sizeof body);
  nh_raw(x, p, fr, n);
  nh_pump(x);
  assert_int_equal(x->srv_dialect, SMBX_SMB2_DIALECT_210);
}

/* Status and SessionId of the last response to command cmd the server
 * sent on raw pair p. */
static void last_response(nh *x, int p, uint16_t cmd, uint32_t *status,
                          uint64_t *sid)
{
  nh_pipe *q = &x->pair[p].s2c;
  size_t at = 0;
  bool found = false;
  uint32_t n = 0;
  while (at + 4 <= q->len) {
    assert_int_equal(smbx_tcp_decode_prefix(q->p + at, q->len - at, &n), 0);
    assert_true(n >= 64 && at + 4 + n <= q->len);
    const uint8_t *h = q->p + at + 4;
    uint64_t c, st;
    rd_le(h + 12, 2, &c);
    if (c == cmd) {
      rd_le(h + 8, 4, &st);
      *status = (uint32_t)st;
      rd_le(h + 40, 8, sid);
      found = true;
    }
    at += 4 + n;
  }
  assert_true(found);
}

/* One SESSION_SETUP leg from raw pair p, answered here as the host:
 * MORE_PROCESSING unless last; on the last, user is named and SUCCESS
 * given. Returns the response's SessionId. */
static uint64_t raw_leg(nh *x, int p, uint64_t mid, uint64_t sid,
                        uint64_t prev, bool last, const char *user, seen *sn)
{
  uint8_t body[24 + 4];
  memset(body, 0, sizeof body);
  body[0] = 25;                    /* StructureSize */
  wr_le(body + 12, 2, 64 + 24);    /* SecurityBufferOffset */
  wr_le(body + 14, 2, 4);          /* SecurityBufferLength */
  wr_le(body + 16, 8, prev);       /* PreviousSessionId */
  memcpy(body + 24, last ? "AUTH" : "NEGO", 4);
  uint8_t fr[256];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_SESSION_SETUP, mid, 1, 10,
                          sid, 0, body, sizeof body);
  assert_int_equal(
      smbx_server_tcp_feed(x->srv, x->pair[p].sconn, fr, n, x->now),
      (smbx_ssize)n);
  smbx_event e;
  e.struct_size = sizeof e;
  size_t setups = 0;
  while (smbx_server_next_event(x->srv, &e) == 1) {
    if (e.type == SMBX_EV_SESSION_DOWN) {
      sn->downs++;
      sn->down_sid = e.u.session.session_id;
      sn->down_conn = e.conn;
      sn->down_status = e.u.session.status;
      continue;
    }
    assert_int_equal(e.type, SMBX_EV_SESSION_SETUP);
    assert_int_equal(e.u.session.previous_session_id, prev);
    setups++;
    if (!last) {
      assert_int_equal(smbx_server_session_respond(
                           x->srv, e.conn, e.u.session.req,
                           SMBX_STATUS_MORE_PROCESSING_REQUIRED,
                           (const uint8_t *)"CHAL", 4, NULL, 0, 0, x->now),
                       0);
      continue;
    }
    assert_int_equal(smbx_server_session_user(x->srv, e.conn, e.u.session.req,
                                              (const uint8_t *)user,
                                              strlen(user)),
                     0);
    assert_int_equal(smbx_server_session_respond(
                         x->srv, e.conn, e.u.session.req,
                         SMBX_STATUS_SUCCESS, (const uint8_t *)"DONE", 4,
                         x->key, 16, 0, x->now),
                     0);
  }
  assert_int_equal(setups, 1);
  nh_pump(x);
  uint32_t st;
  uint64_t got;
  last_response(x, p, SMBX_SMB2_SESSION_SETUP, &st, &got);
  assert_int_equal(st, last ? SMBX_STATUS_SUCCESS
                            : SMBX_STATUS_MORE_PROCESSING_REQUIRED);
  return got;
}

/* The client node's session on pair a (user alice) with a tree and an
 * open; the raw pair b negotiated. */
static void old_session(nh *x, int *a, int *b, uint64_t *s, uint32_t *t,
                        smbx_smb2_fileid *f)
{
  nh_setup(x, false);
  x->cs.dialects = SMBX_DIALECT_MASK_210;
  x->auth_user = "alice";
  assert_int_equal(nh_start(x), 0);
  *a = nh_add_tcp(x, false);
  *b = nh_add_tcp(x, true);
  nh_negotiate(x, *a);
  *s = nh_session(x, *a);
  *t = nh_tree(x, *a, *s);
  *f = nh_create(x, *a, *s, *t, "old.bin");
  raw_negotiate(x, *b);
}

/* A CLOSE on the old session: the status it got, and whether it reached
 * the host. */
static uint32_t close_status(nh *x, int a, uint64_t s, uint32_t t,
                             smbx_smb2_fileid f, bool *reached_host)
{
  size_t before = x->srv_requests;
  uint64_t req;
  assert_int_equal(smbx_client_close(x->cli, x->pair[a].cconn, s, t, f, 0,
                                     x->now, &req),
                   0);
  nh_pump(x);
  *reached_host = x->srv_requests != before;
  return nh_response(x, req)->ev.u.pdu.hdr.status;
}

/* The old session still works: its CLOSE succeeds at the host. */
static void assert_old_session_lives(nh *x, int a, uint64_t s, uint32_t t,
                                     smbx_smb2_fileid f)
{
  bool reached;
  assert_int_equal(close_status(x, a, s, t, f, &reached),
                   SMBX_STATUS_SUCCESS);
  assert_true(reached);
}

/* same user, reconnect on another connection: the old session ends, the
 * host is told (its conn, USER_SESSION_DELETED) to close its opens, and
 * its requests fail USER_SESSION_DELETED without reaching the host */
static void reconnect_3_3_5_5_3_same_user_expires_previous(void **state)
{
  (void)state;
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  smbx_smb2_fileid f;
  old_session(&x, &a, &b, &s, &t, &f);
  seen sn = {0};
  uint64_t n = raw_leg(&x, b, 1, 0, s, true, "alice", &sn);
  assert_true(n != 0 && n != s);
  assert_int_equal(sn.downs, 1);
  assert_int_equal(sn.down_sid, s);
  assert_int_equal(sn.down_conn, x.pair[a].sconn);
  assert_int_equal(sn.down_status, SMBX_STATUS_USER_SESSION_DELETED);
  bool reached;
  assert_int_equal(close_status(&x, a, s, t, f, &reached),
                   SMBX_STATUS_USER_SESSION_DELETED);
  assert_false(reached);
  assert_false(x.pair[a].sdown);
  nh_fini(&x);
}

/* another user's session is kept */
static void reconnect_3_3_5_5_3_other_user_keeps_previous(void **state)
{
  (void)state;
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  smbx_smb2_fileid f;
  old_session(&x, &a, &b, &s, &t, &f);
  seen sn = {0};
  (void)raw_leg(&x, b, 1, 0, s, true, "mallory", &sn);
  assert_int_equal(sn.downs, 0);
  assert_old_session_lives(&x, a, s, t, f);
  nh_fini(&x);
}

/* an id no session has is ignored: the new session comes up, the old one
 * lives */
static void reconnect_3_3_5_5_3_unknown_previous_ignored(void **state)
{
  (void)state;
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  smbx_smb2_fileid f;
  old_session(&x, &a, &b, &s, &t, &f);
  seen sn = {0};
  uint64_t n = raw_leg(&x, b, 1, 0, s ^ 0x5A5A0000ull, true, "alice", &sn);
  assert_true(n != 0);
  assert_int_equal(sn.downs, 0);
  assert_old_session_lives(&x, a, s, t, f);
  nh_fini(&x);
}

/* PreviousSessionId equal to the new session's own id (the last leg of a
 * multi-leg setup names it) is ignored: that session stays up and a
 * TREE_CONNECT on it reaches the host */
static void reconnect_3_3_5_5_3_own_id_ignored(void **state)
{
  (void)state;
  nh x;
  int a, b;
  uint64_t s;
  uint32_t t;
  smbx_smb2_fileid f;
  old_session(&x, &a, &b, &s, &t, &f);
  seen sn = {0};
  uint64_t n = raw_leg(&x, b, 1, 0, 0, false, "alice", &sn);
  assert_true(n != 0);
  assert_int_equal(raw_leg(&x, b, 2, n, n, true, "alice", &sn), n);
  assert_int_equal(sn.downs, 0);
  size_t tcons = x.srv_events[SMBX_EV_TREE_CONNECT];
  uint8_t body[8 + 2] = {9, 0, 0, 0, 72, 0, 2, 0, 'x', 0};
  uint8_t fr[128];
  size_t len = nh_frame_req(fr, sizeof fr, SMBX_SMB2_TREE_CONNECT, 3, 1, 10,
                            n, 0, body, sizeof body);
  nh_raw(&x, b, fr, len);
  nh_pump(&x);
  assert_int_equal(x.srv_events[SMBX_EV_TREE_CONNECT], tcons + 1);
  assert_old_session_lives(&x, a, s, t, f);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reconnect_3_3_5_5_3_same_user_expires_previous),
      cmocka_unit_test(reconnect_3_3_5_5_3_other_user_keeps_previous),
      cmocka_unit_test(reconnect_3_3_5_5_3_unknown_previous_ignored),
      cmocka_unit_test(reconnect_3_3_5_5_3_own_id_ignored),
  };
  return RUN_TESTS(tests);
}
