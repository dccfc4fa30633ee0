/* SPDX-License-Identifier: MIT */
/* The client node's directory cache over SMB Direct: client and server
 * nodes on the simulated NIC (tests/node harness, tests/sim); the test is
 * the server's host (requests kept and answered here: a directory RH
 * lease, a listing, a break sent with smbx_server_send_break). The second
 * listing and lookups cost no request on the wire; the break drops the
 * listing, the node closes the kept handle and then acks. */
#include "test_main.h"

#include <smbx/lease_client.h>

#include "node_harness.h"

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE

static size_t u16(const char *s, uint8_t *out)
{
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = (uint8_t)s[i];
    out[2 * i + 1] = 0;
  }
  return 2 * n;
}

/* The one kept request, of command cmd; forgets it. */
static void take(nh *x, uint16_t cmd, uint64_t *conn, uint64_t *req)
{
  nh_pump(x);
  assert_int_equal(x->n_deferred, 1);
  assert_int_equal(x->deferred[0].cmd, cmd);
  *conn = x->deferred[0].conn;
  *req = x->deferred[0].req;
  x->n_deferred = 0;
}

static void lease_smbd_dir_cache_zero_round_trips(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.ss.capabilities |=
      SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_smbd(&x);
  nh_negotiate(&x, p);
  uint64_t sess = nh_session(&x, p);
  uint32_t tree = nh_tree(&x, p, sess);
  uint64_t cconn = x.pair[p].cconn;
  assert_int_equal(smbx_client_leases_enable(x.cli, NULL, x.now), 0);
  static const uint8_t guid[16] = {1};
  uint32_t scope;
  assert_int_equal(smbx_client_lease_scope(x.cli, guid, "share", 0, &scope),
                   0);
  x.defer = true;
  /* CREATE d with a lease: the host grants RH */
  uint8_t dp[4];
  size_t dn = u16("d", dp);
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.impersonation_level = 2;
  cr.desired_access = 0x100081;
  cr.share_access = 7;
  cr.create_disposition = 1;
  cr.create_options = 1;
  cr.name.p = dp;
  cr.name.len = dn;
  assert_int_equal(smbx_client_create_leased(x.cli, cconn, sess, tree, scope,
                                             &cr, SMBX_LEASE_REQ_DIR, x.now,
                                             NULL),
                   0);
  uint64_t sc, rq;
  take(&x, SMBX_SMB2_CREATE, &sc, &rq);
  smbx_lease_client *lt = smbx_client_lease_table(x.cli);
  smbx_smb2_lease ls;
  memset(&ls, 0, sizeof ls);
  ls.version = 2;
  assert_int_equal(smbx_lease_client_key(lt, scope, dp, dn, ls.key), 0);
  ls.state = R | H;
  ls.epoch = 1;
  uint8_t data[52], area[128], out[512];
  smbx_ssize dl = smbx_smb2_lease_encode(&ls, data, sizeof data, NULL);
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {data, (size_t)dl},
                            0};
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  rs.file_attributes = 0x10;
  rs.file_id.persistent_id = 0x51;
  rs.file_id.volatile_id = 0x52;
  rs.contexts.p = area;
  rs.contexts.len = (size_t)smbx_smb2_create_ctx_list_encode(
      &c, 1, area, sizeof area, NULL);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
  assert_int_equal(smbx_server_respond(x.srv, sc, rq, 0, out + 64,
                                       (size_t)n - 64, x.now),
                   0);
  assert_non_null(nh_wait(&x, SMBX_EV_RESPONSE));
  uint32_t st = 0;
  assert_int_equal(smbx_lease_client_state(lt, ls.key, &st, NULL), 0);
  assert_int_equal(st, R | H);
  /* the listing: three entries, then NO_MORE_FILES */
  static const uint8_t star[2] = {'*', 0};
  smbx_smb2_query_directory_req qd;
  memset(&qd, 0, sizeof qd);
  qd.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  qd.flags = SMBX_SMB2_RESTART_SCANS;
  qd.file_id = rs.file_id;
  qd.file_name.p = star;
  qd.file_name.len = 2;
  qd.output_buffer_length = 65536;
  assert_int_equal(smbx_client_dir_query(x.cli, cconn, sess, tree, &qd, x.now,
                                         NULL),
                   0);
  take(&x, SMBX_SMB2_QUERY_DIRECTORY, &sc, &rq);
  static const char *names[] = {"alpha", "Beta", "gamma"};
  uint8_t buf[1024];
  smbx_smb2_dir_builder b;
  assert_int_equal(smbx_smb2_dir_builder_init(&b, qd.info_class, buf,
                                              sizeof buf),
                   0);
  for (int i = 0; i < 3; i++) {
    uint8_t nm[16];
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(names[i], nm);
    e.end_of_file = 100u + (uint64_t)i;
    assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), 0);
  }
  smbx_smb2_output_resp o = {0, {buf, b.len}};
  uint8_t qout[2048];
  n = smbx_smb2_encode_query_directory_resp(&h, &o, qout, sizeof qout, NULL);
  assert_int_equal(smbx_server_respond(x.srv, sc, rq, 0, qout + 64,
                                       (size_t)n - 64, x.now),
                   0);
  assert_non_null(nh_wait(&x, SMBX_EV_RESPONSE));
  qd.flags = 0;
  assert_int_equal(smbx_client_dir_query(x.cli, cconn, sess, tree, &qd, x.now,
                                         NULL),
                   0);
  take(&x, SMBX_SMB2_QUERY_DIRECTORY, &sc, &rq);
  assert_int_equal(smbx_server_respond(x.srv, sc, rq,
                                       SMBX_STATUS_NO_MORE_FILES, NULL, 0,
                                       x.now),
                   0);
  assert_non_null(nh_wait(&x, SMBX_EV_RESPONSE));
  /* closing under H keeps the handle; the second listing and lookups
   * never reach the server */
  assert_int_equal(smbx_client_dir_close(x.cli, cconn, sess, tree,
                                         rs.file_id, x.now, NULL),
                   1);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(x.cli, cconn, &ci), 0);
  uint64_t sent = ci.requests, seen = x.srv_requests;
  uint32_t cur = 0, count = 0;
  smbx_smb2_dir_entry e;
  while (smbx_client_dir_next(x.cli, scope, dp, dn, x.now, &cur, &e) == 1) {
    uint8_t nm[16];
    size_t nl = u16(names[count], nm);
    assert_int_equal(e.file_name.len, nl);
    assert_memory_equal(e.file_name.p, nm, nl);
    count++;
  }
  assert_int_equal(count, 3);
  uint8_t nm[16];
  size_t nl = u16("BETA", nm);
  assert_int_equal(smbx_client_dir_lookup(x.cli, scope, dp, dn, nm, nl, x.now,
                                          &e),
                   1);
  assert_int_equal(e.end_of_file, 101);
  nh_pump(&x);
  assert_int_equal(smbx_client_conn_info(x.cli, cconn, &ci), 0);
  assert_int_equal(ci.requests, sent);
  assert_int_equal(x.srv_requests, seen);
  /* another client changed d: RH -> NONE with ACK_REQUIRED */
  smbx_smb2_lease_break_notify bn;
  memset(&bn, 0, sizeof bn);
  memcpy(bn.lease_key, ls.key, 16);
  bn.current_state = R | H;
  bn.new_state = 0;
  bn.new_epoch = 2;
  bn.flags = SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED;
  n = smbx_smb2_encode_lease_break_notify(&h, &bn, out, sizeof out, NULL);
  assert_int_equal(smbx_server_send_break(x.srv, sc, 0, out + 64,
                                          (size_t)n - 64, x.now),
                   0);
  const nh_cev *ev = nh_wait(&x, SMBX_EV_LEASE_BREAK);
  assert_non_null(ev);
  assert_int_equal(ev->ev.u.lease.to, 0);
  assert_non_null(nh_wait(&x, SMBX_EV_DIR_INVALIDATE));
  cur = 0;
  assert_int_equal(smbx_client_dir_next(x.cli, scope, dp, dn, x.now, &cur,
                                        &e),
                   SMBX_ERR_NOTFOUND);
  /* the kept handle is closed first, then the ack goes */
  take(&x, SMBX_SMB2_CLOSE, &sc, &rq);
  uint8_t cb[60];
  memset(cb, 0, sizeof cb);
  cb[0] = 60;
  assert_int_equal(smbx_server_respond(x.srv, sc, rq, 0, cb, sizeof cb,
                                       x.now),
                   0);
  take(&x, SMBX_SMB2_OPLOCK_BREAK, &sc, &rq);
  smbx_smb2_lease_break_ack ack;
  memset(&ack, 0, sizeof ack);
  memcpy(ack.lease_key, ls.key, 16);
  n = smbx_smb2_encode_lease_break_ack(&h, &ack, out, sizeof out, NULL);
  assert_int_equal(smbx_server_respond(x.srv, sc, rq, 0, out + 64,
                                       (size_t)n - 64, x.now),
                   0);
  nh_pump(&x);
  assert_int_equal(x.n_deferred, 0);
  nh_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lease_smbd_dir_cache_zero_round_trips),
  };
  return RUN_TESTS(tests);
}
