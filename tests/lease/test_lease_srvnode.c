/* SPDX-License-Identifier: MIT */
/* Server lease manager through the server node (lib/server/lease_glue.c,
 * NEGOTIATE capabilities): leases.md cases 15 and 47, on the node test
 * harness (tests/node: client and server nodes over in-memory Direct TCP,
 * or a raw client injecting bytes). */
#include "test_main.h"

#include <smbx/lease.h>
#include <smbx/smb2.h>
#include <smbx/tcp.h>

#include "node_harness.h"

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE

/* The capabilities of the server's NEGOTIATE response to a raw request
 * for `dialect` offering `caps`. */
static uint32_t negotiate_caps(uint32_t server_caps, uint16_t dialect,
                               uint32_t caps)
{
  nh x;
  nh_setup(&x, false);
  x.ss.capabilities = server_caps;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, true);
  uint8_t body[64];
  memset(body, 0, sizeof body);
  body[0] = 36; /* StructureSize */
  body[2] = 1;  /* DialectCount */
  body[4] = 1;  /* SecurityMode */
  body[8] = (uint8_t)caps;
  body[36] = (uint8_t)dialect;
  body[37] = (uint8_t)(dialect >> 8);
  uint8_t fr[256];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_NEGOTIATE, 0, 0, 10, 0, 0,
                          body, 38);
  nh_raw(&x, p, fr, n);
  nh_pump(&x);
  assert_int_equal(x.srv_dialect, dialect);
  nh_pipe *q = &x.pair[p].s2c;
  uint32_t len = 0;
  assert_int_equal(smbx_tcp_decode_prefix(q->p, q->len, &len), 0);
  assert_true(len >= 64 + 28 && 4 + (size_t)len <= q->len);
  const uint8_t *b = q->p + 4 + 64;
  /* 2.2.4: Capabilities at 24 of the response body */
  uint32_t got = (uint32_t)b[24] | (uint32_t)b[25] << 8 |
                 (uint32_t)b[26] << 16 | (uint32_t)b[27] << 24;
  nh_fini(&x);
  return got;
}

static void lease_case_15_caps_node(void **st)
{
  (void)st;
  const uint32_t L = SMBX_SMB2_CAP_LEASING, DL =
      SMBX_SMB2_CAP_DIRECTORY_LEASING;
  /* 2.1 never gets 0x20, even offered */
  uint32_t c = negotiate_caps(L | DL, SMBX_SMB2_DIALECT_210, DL);
  assert_true(c & L);
  assert_false(c & DL);
  /* 3.x: only when enabled and offered */
  assert_true(negotiate_caps(L | DL, SMBX_SMB2_DIALECT_302, DL) & DL);
  assert_false(negotiate_caps(L | DL, SMBX_SMB2_DIALECT_302, 0) & DL);
  assert_false(negotiate_caps(L, SMBX_SMB2_DIALECT_302, DL) & DL);
  assert_true(negotiate_caps(L | DL, SMBX_SMB2_DIALECT_300, DL) & DL);
}

static smbx_lease_mgr *mgr(nh *x)
{
  smbx_lease_mgr *m = NULL;
  assert_int_equal(smbx_lease_mgr_new(&m, NULL, &x->ta.a), 0);
  return m;
}

static uint64_t lease_open(smbx_lease_mgr *m, uint64_t conn, uint8_t guid,
                           uint32_t access, uint8_t key, uint8_t state,
                           uint64_t now, int want_rc)
{
  smbx_lease_open_req q;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  memset(q.client_guid, guid, 16);
  q.conn = conn;
  q.file_key[0] = 1;
  q.file_key[1] = 2;
  q.access = access;
  q.disposition = 1;
  q.dialect = SMBX_SMB2_DIALECT_311;
  q.capabilities = SMBX_SMB2_CAP_LEASING;
  if (key) {
    q.requested_oplock = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
    q.has_lease = 1;
    q.lease.version = 2;
    memset(q.lease.key, key, 16);
    q.lease.state = state;
  }
  uint64_t o = 0;
  uint32_t status = 1;
  assert_int_equal(smbx_lease_open_begin(m, &q, now, &o, &status), want_rc);
  assert_int_equal(status, 0);
  if (want_rc == 0) {
    smbx_lease_grant g;
    memset(&g, 0, sizeof g);
    g.struct_size = sizeof g;
    assert_int_equal(smbx_lease_open_finish(m, o, 0, now, &g), 0);
    assert_int_equal(g.lease.state, state);
  }
  return o;
}

static void lease_case_47_break_header(void **st)
{
  (void)st;
  nh x;
  nh_setup(&x, true);
  x.ss.capabilities |= SMBX_SMB2_CAP_LEASING;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  nh_negotiate(&x, p);
  uint64_t sess = nh_session(&x, p);
  uint32_t tree = nh_tree(&x, p, sess);
  smbx_lease_mgr *m = mgr(&x);
  /* A's CREATE: granted RWH when the host answers it */
  (void)nh_create(&x, p, sess, tree, "f");
  lease_open(m, x.pair[p].sconn, 0xA, 0x0012019F, 0x44, R | W | H, x.now, 0);
  size_t create_at = x.n_log;
  /* B's conflicting open: the break goes out through the node */
  lease_open(m, 77, 0xB, 0x0012019F, 0, 0, x.now, 1);
  smbx_lease_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  assert_int_equal(smbx_lease_next_event(m, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_EV_BREAK);
  assert_int_equal(ev.conn, x.pair[p].sconn);
  assert_int_equal(smbx_server_lease_deliver(x.srv, m, &ev, NULL, 0, x.now),
                   0);
  const nh_cev *b = nh_wait(&x, SMBX_EV_BREAK);
  assert_non_null(b);
  /* after the CREATE response that granted the lease */
  size_t at = (size_t)(b - x.log);
  assert_true(at >= create_at);
  bool create_before = false;
  for (size_t i = 0; i < at; i++)
    if (x.log[i].ev.type == SMBX_EV_RESPONSE &&
        x.log[i].ev.u.pdu.hdr.command == SMBX_SMB2_CREATE)
      create_before = true;
  assert_true(create_before);
  /* 2.4: the header */
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(b->bytes, b->len, &h, NULL), 0);
  assert_int_equal(h.command, SMBX_SMB2_OPLOCK_BREAK);
  assert_int_equal(h.message_id, UINT64_MAX);
  assert_int_equal(h.session_id, 0);
  assert_int_equal(h.tree_id, 0);
  assert_int_equal(h.credit_charge, 0);
  assert_int_equal(h.flags, SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  static const uint8_t zero_sig[16];
  assert_memory_equal(b->bytes + 48, zero_sig, 16);
  assert_int_equal(smbx_smb2_oplock_break_classify(b->bytes, b->len, NULL),
                   SMBX_SMB2_BREAK_LEASE_NOTIFY);
  smbx_smb2_lease_break_notify n;
  assert_int_equal(
      smbx_smb2_decode_lease_break_notify(b->bytes, b->len, &n, NULL), 0);
  assert_int_equal(n.current_state, R | W | H);
  assert_int_equal(n.new_state, R | H);
  assert_int_equal(n.flags, SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED);
  assert_int_equal(n.new_epoch, 2);
  assert_int_equal(n.lease_key[0], 0x44);
  /* a break naming a connection the node does not know: reported to the
   * manager, sent on A's live connection instead */
  ev.conn = 0xdead;
  assert_int_equal(smbx_server_lease_deliver(x.srv, m, &ev, NULL, 0, x.now),
                   0);
  nh_pump(&x);
  assert_int_equal(nh_count(&x, SMBX_EV_BREAK), 2);
  smbx_lease_mgr_free(m);
  nh_fini(&x);
}

static void lease_deliver_no_connection(void **st)
{
  (void)st;
  nh x;
  nh_setup(&x, false);
  assert_int_equal(nh_start(&x), 0);
  smbx_lease_mgr *m = mgr(&x);
  lease_open(m, 0x999, 0xA, 0x0012019F, 0x44, R | W | H, x.now, 0);
  lease_open(m, 0x998, 0xB, 0x0012019F, 0, 0, x.now, 1);
  smbx_lease_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  assert_int_equal(smbx_lease_next_event(m, &ev), 1);
  assert_int_equal(smbx_server_lease_deliver(x.srv, m, &ev, NULL, 0, x.now),
                   SMBX_ERR_NOTFOUND);
  /* the dead connection was reported: a new break finds no connection and
   * takes effect at once (leases.md 3.8) */
  smbx_smb2_lease_break_ack a, r;
  memset(&a, 0, sizeof a);
  memset(a.lease_key, 0x44, 16);
  a.lease_state = R | H;
  uint8_t g[16];
  memset(g, 0xA, 16);
  uint32_t status;
  assert_int_equal(smbx_lease_ack(m, g, &a, x.now, &r, &status), 0);
  assert_int_equal(status, 0);
  smbx_lease_change c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.kind = SMBX_LEASE_CHG_DATA;
  c.file_key[0] = 1;
  c.file_key[1] = 2;
  assert_int_equal(smbx_lease_change_report(m, &c, x.now), 0);
  smbx_lease_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_lease_query(m, g, a.lease_key, &in), 0);
  assert_int_equal(in.state, 0);
  assert_int_equal(in.breaking, 0);
  smbx_lease_mgr_free(m);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest t[] = {
      cmocka_unit_test(lease_case_15_caps_node),
      cmocka_unit_test(lease_case_47_break_header),
      cmocka_unit_test(lease_deliver_no_connection),
  };
  return RUN_TESTS(t);
}
