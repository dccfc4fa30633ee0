/* SPDX-License-Identifier: MIT */
/* Client node vs server node back to back over in-memory Direct TCP (and
 * the simulated SMB Direct NIC): negotiate every dialect, session setup
 * with a fake authenticator, signing and encryption with the OpenSSL
 * adapter, file operations with the test as the server's file system,
 * multi-credit I/O, compounds, async + cancel, timeouts, teardown, hostile
 * clients, allocation failure and the zero-allocation steady state. Case
 * names carry the smb2.md section they check. */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

#include <smbx/tcp.h>

static const uint16_t k_dialects[5] = {
    SMBX_SMB2_DIALECT_202, SMBX_SMB2_DIALECT_210, SMBX_SMB2_DIALECT_300,
    SMBX_SMB2_DIALECT_302, SMBX_SMB2_DIALECT_311};

/* write len bytes of a pattern, read them back, compare */
static void write_read(nh *x, int p, uint64_t s, uint32_t t,
                       smbx_smb2_fileid f, size_t len, uint8_t seed,
                       uint32_t *flags_seen)
{
  uint8_t *data = malloc(len);
  for (size_t i = 0; i < len; i++)
    data[i] = (uint8_t)(seed + i * 7 + (i >> 9));
  uint64_t req = 0;
  assert_int_equal(smbx_client_write(x->cli, x->pair[p].cconn, s, t, f, 0,
                                     data, len, x->now, &req),
                   0);
  const nh_cev *e = nh_response(x, req);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, 0);
  smbx_smb2_write_resp wr;
  assert_int_equal(smbx_smb2_decode_write_resp(e->bytes, e->len, &wr, NULL), 0);
  assert_int_equal(wr.count, len);
  assert_int_equal(smbx_client_read(x->cli, x->pair[p].cconn, s, t, f, 0,
                                    (uint32_t)len, x->now, &req),
                   0);
  e = nh_response(x, req);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, 0);
  if (flags_seen)
    *flags_seen = e->ev.flags;
  smbx_smb2_read_resp rr;
  assert_int_equal(smbx_smb2_decode_read_resp(e->bytes, e->len, &rr, NULL), 0);
  assert_int_equal(rr.data.len, len);
  assert_memory_equal(rr.data.p, data, len);
  free(data);
}

static void full_flow(nh *x, int p, size_t io)
{
  nh_negotiate(x, p);
  uint64_t s = nh_session(x, p);
  uint32_t t = nh_tree(x, p, s);
  smbx_smb2_fileid f = nh_create(x, p, s, t, "a.txt");
  write_read(x, p, s, t, f, io, 3, NULL);
  uint64_t req = 0;
  assert_int_equal(smbx_client_close(x->cli, x->pair[p].cconn, s, t, f, 0,
                                     x->now, &req),
                   0);
  assert_int_equal(nh_response(x, req)->ev.u.pdu.status, 0);
}

/* 4.1: every dialect negotiates; both nodes agree and the session,
 * tree and file flow works on it */
static void neg_4_1_every_dialect_end_to_end(void **state)
{
  (void)state;
  for (int d = 0; d < 5; d++) {
    if (k_dialects[d] == SMBX_SMB2_DIALECT_311 && !nh_have_openssl())
      continue;
    nh x;
    nh_setup(&x, true);
    x.cs.dialects = 1u << d;
    int p = nh_start_tcp(&x);
    const nh_cev *e = &x.log[x.cursor - 1];
    assert_int_equal(e->ev.u.negotiated.dialect, k_dialects[d]);
    assert_int_equal(x.srv_dialect, k_dialects[d]);
    if (k_dialects[d] >= SMBX_SMB2_DIALECT_210)
      assert_true(e->ev.u.negotiated.capabilities & SMBX_SMB2_CAP_LARGE_MTU);
    else
      assert_int_equal(e->ev.u.negotiated.max_read_size, 65536);
    uint64_t s = nh_session(&x, p);
    uint32_t t = nh_tree(&x, p, s);
    smbx_smb2_fileid f = nh_create(&x, p, s, t, "d.bin");
    write_read(&x, p, s, t, f, 4000, (uint8_t)d, NULL);
    smbx_conn_info ci;
    ci.struct_size = sizeof ci;
    assert_int_equal(smbx_client_conn_info(x.cli, x.pair[p].cconn, &ci), 0);
    assert_int_equal(ci.dialect, k_dialects[d]);
    assert_int_equal(ci.err, 0);
    nh_fini(&x);
  }
}

/* 4.1: the server picks the highest common dialect */
static void neg_4_1_highest_common_dialect(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.ss.dialects = SMBX_DIALECT_MASK_210 | SMBX_DIALECT_MASK_300;
  (void)nh_start_tcp(&x);
  assert_int_equal(x.log[x.cursor - 1].ev.u.negotiated.dialect,
                   SMBX_SMB2_DIALECT_300);
  nh_fini(&x);
}

/* 4.1: no common dialect -> NOT_SUPPORTED, reported as NEGOTIATE error */
static void neg_4_1_no_common_dialect_fails(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.ss.dialects = SMBX_DIALECT_MASK_300;
  x.cs.dialects = SMBX_DIALECT_MASK_202 | SMBX_DIALECT_MASK_210;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  assert_int_equal(smbx_client_negotiate(x.cli, x.pair[p].cconn, x.now), 0);
  const nh_cev *e = nh_wait(&x, SMBX_EV_NEGOTIATED);
  assert_non_null(e);
  assert_int_equal(e->ev.u.negotiated.err, SMBX_ERR_NEGOTIATE);
  assert_int_equal(e->ev.u.negotiated.status, SMBX_STATUS_NOT_SUPPORTED);
  nh_fini(&x);
}

/* 4.2: two MORE_PROCESSING_REQUIRED rounds then SUCCESS; the server saw
 * three legs, the client two challenges; with signing required every
 * later request and response is signed and verified both ways */
static void sess_4_2_two_rounds_then_signed_session(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int d = 0; d < 5; d++) {
    nh x;
    nh_setup(&x, true);
    x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
    x.cs.dialects = 1u << d;
    int p = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, p);
    assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], 3);
    assert_int_equal(nh_count(&x, SMBX_EV_SESSION_SETUP), 3);
    /* the final response was signed and verified by the client */
    const nh_cev *fin = NULL;
    for (size_t i = 0; i < x.n_log; i++)
      if (x.log[i].ev.type == SMBX_EV_SESSION_SETUP)
        fin = &x.log[i];
    assert_true(fin->ev.flags & SMBX_EVF_VERIFIED);
    uint32_t t = nh_tree(&x, p, s);
    x.srv_requests = 0;
    smbx_smb2_fileid f = nh_create(&x, p, s, t, "sig.txt");
    uint32_t fl = 0;
    write_read(&x, p, s, t, f, 5000, 9, &fl);
    assert_true(fl & SMBX_EVF_SIGNED);
    assert_true(fl & SMBX_EVF_VERIFIED);
    assert_true(x.srv_req_flags_and & SMBX_EVF_SIGNED);
    assert_true(x.srv_req_flags_and & SMBX_EVF_VERIFIED);
    nh_fini(&x);
  }
}

/* 4.2: a failed logon deletes the session; the client sees the status */
static void sess_4_2_logon_failure(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  int p = nh_start_tcp(&x);
  uint64_t s = 0;
  assert_int_equal(smbx_client_session_setup(x.cli, x.pair[p].cconn, &s,
                                             (const uint8_t *)"BAD", 3, x.now),
                   0);
  const nh_cev *e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
  assert_non_null(e);
  assert_int_equal(e->ev.u.session.status, SMBX_STATUS_LOGON_FAILURE);
  /* the local session is gone */
  assert_int_equal(smbx_client_tree_connect(x.cli, x.pair[p].cconn, s,
                                            "\\\\srv\\share", x.now, NULL),
                   SMBX_ERR_NOTFOUND);
  nh_fini(&x);
}

/* 4.2: guest sessions do not sign */
static void sess_4_2_guest_session_unsigned(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  smbx_smb2_fileid f = nh_create(&x, p, s, t, "g");
  uint32_t fl = 0;
  write_read(&x, p, s, t, f, 100, 1, &fl);
  assert_false(fl & SMBX_EVF_SIGNED);
  nh_fini(&x);
}

/* 4.3: an unknown share fails with BAD_NETWORK_NAME; a request on an
 * unknown tree never reaches the host (NETWORK_NAME_DELETED) */
static void tree_4_3_bad_share_and_unknown_tree(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  assert_int_equal(smbx_client_tree_connect(x.cli, x.pair[p].cconn, s,
                                            "\\\\srv\\nope", x.now, NULL),
                   0);
  const nh_cev *e = nh_wait(&x, SMBX_EV_TREE_CONNECT);
  assert_int_equal(e->ev.u.tree.status, SMBX_STATUS_BAD_NETWORK_NAME);
  smbx_smb2_fileid f = {1, 2};
  uint64_t req = 0;
  size_t before = x.srv_requests;
  assert_int_equal(smbx_client_close(x.cli, x.pair[p].cconn, s, 77, f, 0,
                                     x.now, &req),
                   0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                   SMBX_STATUS_NETWORK_NAME_DELETED);
  assert_int_equal(x.srv_requests, before);
  nh_fini(&x);
}

/* file operations with the test as the host file system: CREATE, WRITE,
 * READ, CLOSE, QUERY_DIRECTORY, ECHO, TREE_DISCONNECT, LOGOFF */
static void file_ops_create_write_read_close_querydir_echo(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int p = nh_up_tcp(&x, true, &s, &t);
  uint64_t c = x.pair[p].cconn;
  smbx_smb2_fileid f1 = nh_create(&x, p, s, t, "one.txt");
  smbx_smb2_fileid f2 = nh_create(&x, p, s, t, "two.txt");
  /* zero copy: request views point into the buffer the host fed */
  assert_int_equal(x.srv_inplace, x.srv_requests);
  assert_true(f1.persistent_id != f2.persistent_id);
  write_read(&x, p, s, t, f1, 12345, 5, NULL);
  uint64_t req = 0;
  /* CLOSE with POSTQUERY_ATTRIB returns the size */
  assert_int_equal(smbx_client_close(x.cli, c, s, t, f1,
                                     SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB,
                                     x.now, &req),
                   0);
  const nh_cev *e = nh_response(&x, req);
  smbx_smb2_close_resp cr;
  assert_int_equal(smbx_smb2_decode_close_resp(e->bytes, e->len, &cr, NULL), 0);
  assert_int_equal(cr.end_of_file, 12345);
  /* QUERY_DIRECTORY on a directory handle lists both files */
  smbx_smb2_fileid dir = nh_create(&x, p, s, t, "dir");
  uint8_t star[2] = {'*', 0};
  smbx_smb2_query_directory_req q;
  memset(&q, 0, sizeof q);
  q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  q.file_id = dir;
  q.file_name.p = star;
  q.file_name.len = 2;
  q.output_buffer_length = 65536;
  assert_int_equal(
      smbx_client_query_directory(x.cli, c, s, t, &q, x.now, &req), 0);
  e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.status, 0);
  smbx_smb2_output_resp o;
  assert_int_equal(
      smbx_smb2_decode_query_directory_resp(e->bytes, e->len, &o, NULL), 0);
  smbx_smb2_dir_iter it;
  assert_int_equal(smbx_smb2_dir_iter_init(
                       &it, SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION,
                       o.output.p, o.output.len),
                   0);
  smbx_smb2_dir_entry de;
  int n = 0;
  while (smbx_smb2_dir_iter_next(&it, &de, NULL) == 1)
    n++;
  assert_int_equal(n, 3);
  /* ECHO is answered by the node without the host */
  size_t before = x.srv_requests;
  assert_int_equal(smbx_client_echo(x.cli, c, x.now, &req), 0);
  e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.hdr.command, SMBX_SMB2_ECHO);
  assert_int_equal(x.srv_requests, before);
  /* TREE_DISCONNECT and LOGOFF are handled by the server node */
  static const uint8_t four[4] = {4, 0, 0, 0};
  assert_int_equal(smbx_client_request(x.cli, c, s, t,
                                       SMBX_SMB2_TREE_DISCONNECT, four, 4, 0,
                                       x.now, &req),
                   0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  assert_int_equal(x.srv_events[SMBX_EV_TREE_DISCONNECT], 1);
  assert_int_equal(smbx_client_close(x.cli, c, s, t, f2, 0, x.now, &req), 0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status,
                   SMBX_STATUS_NETWORK_NAME_DELETED);
  assert_int_equal(smbx_client_logoff(x.cli, c, s, x.now, &req), 0);
  assert_non_null(nh_wait(&x, SMBX_EV_SESSION_DOWN));
  assert_int_equal(x.srv_events[SMBX_EV_SESSION_DOWN], 1);
  assert_int_equal(smbx_client_echo(x.cli, c, x.now, &req), 0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  nh_fini(&x);
}

/* 6.1: LARGE_MTU 1 MiB WRITE and READ (CreditCharge 16), also with the
 * stream split in 1000-byte feeds (messages reassembled by the framer) */
static void credit_6_1_large_mtu_1mib(void **state)
{
  (void)state;
  for (int split = 0; split < 2; split++) {
    nh x;
    nh_setup(&x, true);
    if (split)
      x.feed_max = 1000;
    int p = nh_start_tcp(&x);
    uint64_t s = nh_session(&x, p);
    uint32_t t = nh_tree(&x, p, s);
    smbx_smb2_fileid f = nh_create(&x, p, s, t, "big");
    write_read(&x, p, s, t, f, 1u << 20, 11, NULL);
    const nh_cev *e = &x.log[x.n_log - 1];
    assert_int_equal(e->ev.u.pdu.hdr.credit_charge, 16);
    smbx_conn_info ci;
    ci.struct_size = sizeof ci;
    assert_int_equal(smbx_client_conn_info(x.cli, x.pair[p].cconn, &ci), 0);
    assert_true(ci.credits >= 16);
    assert_int_equal(ci.err, 0);
    nh_fini(&x);
  }
}

/* 6.1: a client never spends credits it does not hold: AGAIN, then
 * WRITABLE once responses grant more */
static void credit_6_1_again_then_writable(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.ss.credits_max = 4;
  x.ss.credits_min = 4;
  x.cs.credit_target = 4;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  uint64_t c = x.pair[p].cconn;
  nh_negotiate(&x, p);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  x.defer = true;
  smbx_smb2_fileid f = {1, 2};
  int sent = 0, rc = 0;
  while ((rc = smbx_client_close(x.cli, c, s, t, f, 0, x.now, NULL)) == 0)
    sent++;
  assert_int_equal(rc, SMBX_ERR_AGAIN);
  assert_true(sent >= 1 && sent <= 4);
  nh_pump(&x);
  assert_int_equal((int)x.n_deferred, sent);
  x.defer = false;
  nh_answer_deferred(&x, 0, SMBX_STATUS_FILE_CLOSED);
  assert_non_null(nh_wait(&x, SMBX_EV_WRITABLE));
  assert_int_equal(smbx_client_close(x.cli, c, s, t, f, 0, x.now, NULL), 0);
  nh_fini(&x);
}

/* 6.2: a related compound CREATE + WRITE + CLOSE: later members inherit
 * the FileId the CREATE returned; three responses */
static void compound_6_2_related_create_write_close(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  uint64_t reqs[3];
  nh_compound_create_write_close(&x, p, s, t, "cmp", "compound!", 42, reqs);
  for (int i = 0; i < 3; i++) {
    const nh_cev *e = nh_response(&x, reqs[i]);
    assert_int_equal(e->ev.u.pdu.err, 0);
    assert_int_equal(e->ev.u.pdu.status, 0);
    assert_int_equal(e->ev.u.pdu.user, 42);
    assert_true(e->ev.flags & SMBX_EVF_VERIFIED);
  }
  assert_true(x.last_req_flags & SMBX_EVF_RELATED);
  assert_true(x.last_req_flags & SMBX_EVF_FILEID);
  assert_int_equal(x.files[0].len, 9);
  assert_memory_equal(x.files[0].data, "compound!", 9);
  nh_compound_two_echoes(&x, p, s, reqs);
  assert_int_equal(nh_response(&x, reqs[0])->ev.u.pdu.status, 0);
  assert_int_equal(nh_response(&x, reqs[1])->ev.u.pdu.status, 0);
  nh_fini(&x);
}

/* 6.3: CHANGE_NOTIFY goes async (interim STATUS_PENDING), the client
 * cancels it, the server host gets CANCEL and completes it CANCELLED */
static void async_6_3_interim_then_cancel(void **state)
{
  (void)state;
  nh x;
  uint64_t s;
  uint32_t t;
  int p = nh_up_tcp(&x, false, &s, &t);
  uint64_t c = x.pair[p].cconn;
  smbx_smb2_fileid dir = nh_create(&x, p, s, t, "watch");
  smbx_smb2_change_notify_req cn;
  memset(&cn, 0, sizeof cn);
  cn.output_buffer_length = 4096;
  cn.file_id = dir;
  cn.completion_filter = SMBX_SMB2_NOTIFY_FILE_NAME;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t b[128];
  smbx_ssize n = smbx_smb2_encode_change_notify_req(&h, &cn, b, sizeof b, NULL);
  assert_true(n > 64);
  uint64_t req = 0;
  assert_int_equal(smbx_client_request(x.cli, c, s, t,
                                       SMBX_SMB2_CHANGE_NOTIFY, b + 64,
                                       (size_t)n - 64, 7, x.now, &req),
                   0);
  const nh_cev *e = nh_wait(&x, SMBX_EV_INTERIM);
  assert_non_null(e);
  assert_int_equal(e->ev.u.pdu.req, req);
  assert_true(e->ev.u.pdu.async_id != 0);
  for (size_t i = 0; i < x.n_log; i++)
    assert_false(x.log[i].ev.type == SMBX_EV_RESPONSE &&
                 x.log[i].ev.u.pdu.req == req);
  assert_int_equal(smbx_client_cancel(x.cli, c, req, x.now), 0);
  e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_CANCELLED);
  assert_int_equal(e->ev.u.pdu.user, 7);
  assert_true(e->ev.u.pdu.hdr.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  assert_int_equal(x.srv_events[SMBX_EV_CANCEL], 1);
  nh_fini(&x);
}

/* client request timeout: completes once with SMBX_ERR_TIMEOUT; the late
 * response is dropped and the connection keeps working */
static void timeout_request_completes_once(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  x.cs.request_timeout_ns = 5 * NH_S;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  uint64_t c = x.pair[p].cconn;
  nh_negotiate(&x, p);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  x.defer = true;
  smbx_smb2_fileid f = {1, 2};
  uint64_t req = 0;
  assert_int_equal(smbx_client_close(x.cli, c, s, t, f, 0, x.now, &req), 0);
  nh_pump(&x);
  assert_int_equal(smbx_client_expiry(x.cli), x.now + 5 * NH_S);
  nh_advance(&x, x.now + 5 * NH_S);
  const nh_cev *e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.err, SMBX_ERR_TIMEOUT);
  x.defer = false;
  nh_answer_deferred(&x, 0, SMBX_STATUS_FILE_CLOSED);
  nh_pump(&x);
  size_t n = 0;
  for (size_t i = 0; i < x.n_log; i++)
    n += x.log[i].ev.type == SMBX_EV_RESPONSE && x.log[i].ev.u.pdu.req == req;
  assert_int_equal(n, 1);
  assert_int_equal(smbx_client_echo(x.cli, c, x.now, &req), 0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  nh_fini(&x);
}

/* teardown with requests in flight: each completes exactly once
 * (abort: with the error; close_conn: SMBX_ERR_CLOSED) */
static void teardown_requests_in_flight_complete_once(void **state)
{
  (void)state;
  for (int mode = 0; mode < 2; mode++) {
    nh x;
    nh_setup(&x, false);
    assert_int_equal(nh_start(&x), 0);
    int p = nh_add_tcp(&x, false);
    uint64_t c = x.pair[p].cconn;
    nh_negotiate(&x, p);
    uint64_t s = nh_session(&x, p);
    uint32_t t = nh_tree(&x, p, s);
    x.defer = true;
    uint64_t reqs[5];
    smbx_smb2_fileid f = {1, 2};
    for (int i = 0; i < 5; i++)
      assert_int_equal(
          smbx_client_close(x.cli, c, s, t, f, 0, x.now, &reqs[i]), 0);
    nh_pump(&x);
    assert_int_equal(x.n_deferred, 5);
    if (mode == 0) {
      assert_int_equal(
          smbx_client_abort_conn(x.cli, c, SMBX_ERR_TRANSPORT, x.now), 0);
    } else {
      assert_int_equal(smbx_client_close_conn(x.cli, c, x.now), 0);
      x.pair[p].cdown = true;
    }
    nh_pump(&x);
    for (int i = 0; i < 5; i++) {
      size_t n = 0;
      for (size_t k = 0; k < x.n_log; k++)
        if (x.log[k].ev.type == SMBX_EV_RESPONSE &&
            x.log[k].ev.u.pdu.req == reqs[i]) {
          n++;
          assert_int_equal(x.log[k].ev.u.pdu.err, mode == 0
                                                      ? SMBX_ERR_TRANSPORT
                                                      : SMBX_ERR_CLOSED);
        }
      assert_int_equal(n, 1);
    }
    if (mode == 0) {
      assert_int_equal(nh_count(&x, SMBX_EV_CONN_DOWN), 1);
      assert_int_equal(smbx_client_close_conn(x.cli, c, x.now), 0);
    }
    /* the server side: closing it aborts its deferred requests */
    assert_int_equal(smbx_server_close_conn(x.srv, x.pair[p].sconn, x.now), 0);
    x.pair[p].sdown = true;
    for (size_t i = 0; i < x.n_deferred; i++)
      assert_int_equal(smbx_server_respond_error(x.srv, x.deferred[i].conn,
                                                 x.deferred[i].req,
                                                 SMBX_STATUS_CANCELLED, NULL,
                                                 0, x.now),
                       SMBX_ERR_NOTFOUND);
    nh_fini(&x);
  }
}

/* hostile client helpers: negotiate 2.1 by hand on a raw pair */
static void raw_negotiate(nh *x, int p)
{
  uint8_t body[64];
  memset(body, 0, sizeof body);
  body[0] = 36; /* StructureSize */
  body[2] = 1;  /* DialectCount */
  body[4] = 1;  /* SecurityMode */
  body[8] = SMBX_SMB2_CAP_LARGE_MTU;
  body[36] = 0x10;
  body[37] = 0x02; /* 0x0210 */
  uint8_t fr[256];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_NEGOTIATE, 0, 0, 10, 0, 0,
                          body, 38);
  nh_raw(x, p, fr, n);
  nh_pump(x);
  assert_int_equal(x->srv_dialect, SMBX_SMB2_DIALECT_210);
  assert_false(x->pair[p].sdown);
}

static void echo_raw_charge(nh *x, int p, uint64_t mid, uint16_t charge)
{
  static const uint8_t four[4] = {4, 0, 0, 0};
  uint8_t fr[128];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_ECHO, mid, charge, 1, 0, 0,
                          four, 4);
  nh_raw(x, p, fr, n);
}

static void echo_raw(nh *x, int p, uint64_t mid)
{
  static const uint8_t four[4] = {4, 0, 0, 0};
  uint8_t fr[128];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_ECHO, mid, 1, 1, 0, 0, four,
                          4);
  nh_raw(x, p, fr, n);
}

/* 6.1: MessageIds outside the window, garbage after a valid PDU, requests
 * with no credits: the server drops that connection without a response;
 * another connection keeps working */
static void hostile_6_1_window_garbage_no_credits_disconnect(void **state)
{
  (void)state;
  for (int kind = 0; kind < 4; kind++) {
    nh x;
    nh_setup(&x, false);
    assert_int_equal(nh_start(&x), 0);
    int good = nh_add_tcp(&x, false);
    int bad = nh_add_tcp(&x, true);
    nh_negotiate(&x, good);
    uint64_t s = nh_session(&x, good);
    raw_negotiate(&x, bad);
    size_t out_before = x.pair[bad].s2c.total;
    switch (kind) {
    case 0: /* far outside the window */
      echo_raw(&x, bad, 1000000);
      break;
    case 1: /* a valid ECHO, then garbage in the same feed */
      echo_raw(&x, bad, 1);
      nh_raw(&x, bad, (const uint8_t *)"\x01garbage!", 9);
      break;
    case 2: { /* the same id twice */
      echo_raw(&x, bad, 1);
      echo_raw(&x, bad, 1);
      break;
    }
    case 3: /* a request charging more credits than granted (10 asked
               at negotiate -> ids 1..10; CreditCharge 30 needs 1..30) */
      echo_raw_charge(&x, bad, 1, 30);
      break;
    }
    nh_pump(&x);
    if (!x.pair[bad].sdown)
      fail_msg("kind %d: connection still up", kind);
    assert_int_equal(x.pair[bad].sdown_err, SMBX_ERR_PROTO);
    smbx_error_detail d;
    assert_int_equal(smbx_server_conn_error(x.srv, x.pair[bad].sconn, &d),
                     SMBX_ERR_PROTO);
    assert_non_null(d.reason);
    if (kind == 0)
      assert_int_equal(x.pair[bad].s2c.total, out_before);
    /* the other connection is unaffected */
    uint32_t t = nh_tree(&x, good, s);
    smbx_smb2_fileid f = nh_create(&x, good, s, t, "still");
    write_read(&x, good, s, t, f, 777, 2, NULL);
    assert_false(x.pair[good].sdown);
    nh_fini(&x);
  }
}

/* 3.3.5.2: nothing but NEGOTIATE before a dialect; a second NEGOTIATE
 * drops the connection */
static void hostile_request_before_negotiate_and_second_negotiate(void **state)
{
  (void)state;
  for (int kind = 0; kind < 2; kind++) {
    nh x;
    nh_setup(&x, false);
    assert_int_equal(nh_start(&x), 0);
    int bad = nh_add_tcp(&x, true);
    if (kind == 0) {
      uint8_t body[57];
      memset(body, 0, sizeof body);
      body[0] = 57;
      uint8_t fr[256];
      size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_CREATE, 0, 0, 1, 0, 0,
                              body, sizeof body);
      nh_raw(&x, bad, fr, n);
    } else {
      raw_negotiate(&x, bad);
      uint8_t body[64];
      memset(body, 0, sizeof body);
      body[0] = 36;
      body[2] = 1;
      body[36] = 0x02;
      body[37] = 0x02;
      uint8_t fr[256];
      size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_NEGOTIATE, 1, 0, 1, 0,
                              0, body, 38);
      nh_raw(&x, bad, fr, n);
    }
    nh_pump(&x);
    assert_true(x.pair[bad].sdown);
    assert_int_equal(x.pair[bad].sdown_err, SMBX_ERR_PROTO);
    nh_fini(&x);
  }
}

/* requests on an unknown session never reach the host */
static void hostile_unknown_session_user_session_deleted(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  assert_int_equal(nh_start(&x), 0);
  int bad = nh_add_tcp(&x, true);
  raw_negotiate(&x, bad);
  uint8_t body[24];
  memset(body, 0, sizeof body);
  body[0] = 24;
  uint8_t fr[128];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_CLOSE, 1, 1, 1,
                          0x123456789ull, 1, body, sizeof body);
  nh_raw(&x, bad, fr, n);
  nh_pump(&x);
  assert_int_equal(x.srv_requests, 0);
  assert_false(x.pair[bad].sdown);
  /* the ERROR response went out: status USER_SESSION_DELETED */
  nh_pipe *q = &x.pair[bad].s2c;
  assert_true(q->total >= 2 * 4 + 64);
  nh_fini(&x);
}

/* The last message the client wrote on pair p that the server has not
 * read yet (prefix skipped). */
static uint8_t *unfed_request(nh *x, int p, size_t *len)
{
  nh_pipe *q = &x->pair[p].c2s;
  size_t at = q->off, last = SIZE_MAX;
  uint32_t n = 0, last_len = 0;
  while (at + 4 <= q->len) {
    assert_int_equal(smbx_tcp_decode_prefix(q->p + at, q->len - at, &n), 0);
    last = at + 4;
    last_len = n;
    at += 4 + n;
  }
  assert_true(last != SIZE_MAX);
  *len = last_len;
  return q->p + last;
}

/* 3.2.4.1.1: on 3.1.1 the client signs the TREE_CONNECT of a user session
 * although neither side requires signing (Samba 4.17 and Windows refuse
 * it unsigned); a guest session's goes unsigned (no key) and the server
 * accepts it (3.3.5.7 exempts guest and anonymous sessions) */
static void tcon_3_2_4_1_1_signed_on_311_without_signing_required(
    void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int guest = 0; guest < 2; guest++) {
    nh x;
    nh_setup(&x, true);
    x.cs.dialects = SMBX_DIALECT_MASK_311;
    if (guest)
      x.session_flags = SMBX_SMB2_SESSION_FLAG_IS_GUEST;
    assert_int_equal(nh_start(&x), 0);
    assert_false(x.ss.flags & SMBX_SERVER_SIGNING_REQUIRED);
    assert_false(x.cs.flags & SMBX_CLIENT_SIGNING_REQUIRED);
    int p = nh_add_tcp(&x, false);
    nh_negotiate(&x, p);
    uint64_t s = nh_session(&x, p);
    uint64_t req = 0;
    assert_int_equal(smbx_client_tree_connect(x.cli, x.pair[p].cconn, s,
                                              "\\\\srv\\share", x.now,
                                              &req),
                     0);
    size_t len;
    const uint8_t *m = unfed_request(&x, p, &len);
    smbx_smb2_hdr h;
    assert_int_equal(smbx_smb2_hdr_decode(m, len, &h, NULL), 0);
    assert_int_equal(h.command, SMBX_SMB2_TREE_CONNECT);
    assert_int_equal((h.flags & SMBX_SMB2_FLAGS_SIGNED) != 0, !guest);
    const nh_cev *e = nh_wait(&x, SMBX_EV_TREE_CONNECT);
    assert_non_null(e);
    assert_int_equal(e->ev.u.tree.err, 0);
    assert_int_equal(e->ev.u.tree.status, 0);
    /* other requests follow the session's rule: unsigned */
    assert_int_equal(smbx_client_logoff(x.cli, x.pair[p].cconn, s, x.now,
                                        &req),
                     0);
    m = unfed_request(&x, p, &len);
    assert_int_equal(smbx_smb2_hdr_decode(m, len, &h, NULL), 0);
    assert_false(h.flags & SMBX_SMB2_FLAGS_SIGNED);
    nh_pump(&x);
    assert_false(x.pair[p].sdown);
    nh_fini(&x);
  }
}

/* 3.3.5.7: an unsigned (and unencrypted) 3.1.1 TREE_CONNECT of a session
 * that is neither guest nor anonymous drops the connection; the host
 * never sees it */
static void tcon_3_3_5_7_unsigned_311_user_session_disconnects(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  nh x;
  nh_setup(&x, true);
  x.cs.dialects = SMBX_DIALECT_MASK_311;
  int p = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, p);
  size_t tcons = x.srv_events[SMBX_EV_TREE_CONNECT];
  uint64_t req = 0;
  assert_int_equal(smbx_client_tree_connect(x.cli, x.pair[p].cconn, s,
                                            "\\\\srv\\share", x.now,
                                            &req),
                   0);
  size_t len;
  uint8_t *m = unfed_request(&x, p, &len);
  m[16] &= (uint8_t)~SMBX_SMB2_FLAGS_SIGNED;
  memset(m + 48, 0, 16);
  nh_pump(&x);
  assert_true(x.pair[p].sdown);
  assert_int_equal(x.srv_events[SMBX_EV_TREE_CONNECT], tcons);
  nh_fini(&x);
}

/* client: an unsolicited response other than a break kills the
 * connection; an oplock break notification becomes SMBX_EV_BREAK */
static void client_2_2_unsolicited_rejected_break_delivered(void **state)
{
  (void)state;
  for (int kind = 0; kind < 2; kind++) {
    nh x;
    nh_setup(&x, false);
    int p = nh_start_tcp(&x);
    smbx_smb2_hdr h;
    memset(&h, 0, sizeof h);
    h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
    h.message_id = UINT64_MAX;
    uint8_t fr[256];
    smbx_ssize n;
    if (kind == 0) {
      h.command = SMBX_SMB2_OPLOCK_BREAK;
      smbx_smb2_oplock_break ob;
      memset(&ob, 0, sizeof ob);
      ob.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_II;
      ob.file_id.persistent_id = 5;
      n = smbx_smb2_encode_oplock_break(&h, &ob, fr + 4, sizeof fr - 4, NULL);
    } else {
      h.command = SMBX_SMB2_ECHO;
      smbx_smb2_simple sb = {0};
      n = smbx_smb2_encode_simple(&h, &sb, fr + 4, sizeof fr - 4, NULL);
    }
    assert_true(n > 0);
    smbx_tcp_encode_prefix(fr, 4, (size_t)n);
    uint8_t *copy = malloc((size_t)n + 4);
    memcpy(copy, fr, (size_t)n + 4);
    smbx_ssize r = smbx_client_tcp_feed(x.cli, x.pair[p].cconn, copy,
                                        (size_t)n + 4, x.now);
    nh_pump(&x);
    if (kind == 0) {
      assert_int_equal(r, n + 4);
      const nh_cev *e = nh_wait(&x, SMBX_EV_BREAK);
      assert_non_null(e);
      assert_int_equal(smbx_smb2_oplock_break_classify(e->bytes, e->len, NULL),
                       SMBX_SMB2_BREAK_OPLOCK);
    } else {
      assert_int_equal(r, SMBX_ERR_PROTO);
      assert_true(x.pair[p].cdown);
    }
    free(copy);
    nh_fini(&x);
  }
}

/* 6.5: sessions with encryption (3.1.1 by the server's policy or the
 * host's ENCRYPT_DATA, 3.0 and 3.0.2 with AES-128-CCM): every request and
 * response after the session setup travels in a TRANSFORM */
static void crypto_6_5_encrypted_311_round_trip(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  for (int who = 0; who < 4; who++) {
    nh x;
    nh_setup(&x, true);
    if (who != 1)
      x.ss.flags |= SMBX_SERVER_ENCRYPT;
    else
      x.session_flags = SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA;
    /* 2, 3: 3.0 and 3.0.2 (CAP_ENCRYPTION, AES-128-CCM) */
    if (who == 2)
      x.cs.dialects = SMBX_DIALECT_MASK_300;
    if (who == 3)
      x.cs.dialects = SMBX_DIALECT_MASK_302;
    int p = nh_start_tcp(&x);
    assert_int_equal(x.log[x.cursor - 1].ev.u.negotiated.cipher,
                     who >= 2 ? SMBX_CRYPTO_CIPHER_AES128_CCM
                              : SMBX_CRYPTO_CIPHER_AES128_GCM);
    uint64_t s = nh_session(&x, p);
    const nh_cev *up = &x.log[x.cursor - 1];
    assert_true(up->ev.u.session.session_flags &
                SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA);
    uint32_t t = nh_tree(&x, p, s);
    x.srv_requests = 0;
    smbx_smb2_fileid f = nh_create(&x, p, s, t, "secret");
    uint32_t fl = 0;
    write_read(&x, p, s, t, f, 70000, 4, &fl);
    assert_true(fl & SMBX_EVF_ENCRYPTED);
    assert_true(x.srv_req_flags_and & SMBX_EVF_ENCRYPTED);
    /* nothing readable on the wire: the file content is not in clear */
    nh_fini(&x);
  }
}

/* the same basic flow over the simulated SMB Direct NIC */
static void smbd_basic_flow_over_simulated_nic(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_smbd(&x);
  full_flow(&x, p, 200000);
  /* small requests arrive whole in one receive buffer: delivered in
   * place (the 200000-byte WRITE was reassembled: copied once) */
  assert_int_equal(x.srv_inplace + 1, x.srv_requests);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_server_conn_info(x.srv, x.pair[p].sconn, &ci), 0);
  assert_int_equal(ci.transport, 2);
  assert_int_equal(ci.err, 0);
  nh_close_pair(&x, p);
  nh_fini(&x);
}

static int sink(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)ud;
  (void)conn;
  (void)b;
  (void)n;
  return 0;
}

/* allocation failure on every creation path: node, TCP connection, SMB
 * Direct connection, negotiate + session + first requests */
static int alloc_scenario(test_alloc *ta, void *arg)
{
  int kind = *(int *)arg;
  smbx_server *srv = NULL;
  smbx_client *cli = NULL;
  int rc = smbx_server_new(&srv, NULL, NULL, &ta->a, 0);
  if (rc == 0)
    rc = smbx_client_new(&cli, NULL, NULL, &ta->a, 0);
  if (rc == 0 && kind == 1) {
    smbx_tcp_hooks h = {sizeof h, NULL, NULL};
    h.send = NULL;
    uint64_t c;
    /* invalid hooks never allocate */
    if (smbx_server_add_tcp(srv, &h, 0, &c) != SMBX_ERR_INVAL)
      rc = -99;
  }
  if (rc == 0 && kind >= 1) {
    nh_pipe q;
    memset(&q, 0, sizeof q);
    uint64_t sc = 0, cc = 0;
    smbx_tcp_hooks h;
    h.struct_size = sizeof h;
    h.user_data = &q;
    h.send = sink;
    rc = smbx_server_add_tcp(srv, &h, 0, &sc);
    if (rc == 0)
      rc = smbx_client_add_tcp(cli, &h, 0, &cc);
    if (rc == 0 && kind == 2) {
      sim *w = sim_new(0);
      smbx_transport t = sim_transport(w, 1);
      smbx_smbd_settings st;
      smbx_smbd_settings_default(&st, sizeof st);
      st.send_buffers = 16;
      st.recv_credit_max = 8;
      static uint8_t mem[4][8192];
      smbx_smbd_recv_buf b[4];
      for (int i = 0; i < 4; i++) {
        b[i].addr = mem[i];
        b[i].length = 8192;
        b[i].reserved = 0;
        b[i].handle = (uint64_t)i + 1;
      }
      uint64_t dc;
      rc = smbx_server_add_smbd(srv, &st, &t, b, 4, 0, &dc);
      smbx_server_free(srv);
      srv = NULL;
      sim_free(w);
    }
  }
  smbx_client_free(cli);
  smbx_server_free(srv);
  return rc;
}

static void alloc_every_creation_path_fails_cleanly(void **state)
{
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    uint64_t n = test_alloc_each_failure(alloc_scenario, &kind);
    assert_true(n >= 4);
  }
}

/* the steady state allocates nothing: 200 READ round trips, 100 WRITEs,
 * ECHOs and CREATE/CLOSE after warm-up */
static void alloc_zero_per_request_steady_state(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, false);
  uint64_t c = x.pair[p].cconn;
  nh_negotiate(&x, p);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  smbx_smb2_fileid f = nh_create(&x, p, s, t, "steady");
  write_read(&x, p, s, t, f, 65536, 1, NULL);
  /* warm-up: the event queues grow to their working size */
  uint64_t req;
  for (int i = 0; i < 50; i++) {
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
  }
  uint64_t before = x.ta.calls;
  for (int i = 0; i < 200; i++) {
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
    assert_int_equal(x.log[x.n_log - 1].ev.u.pdu.status, 0);
  }
  static uint8_t data[4096];
  for (int i = 0; i < 100; i++) {
    assert_int_equal(smbx_client_write(x.cli, c, s, t, f, 0, data, sizeof data,
                                       x.now, &req),
                     0);
    assert_int_equal(smbx_client_echo(x.cli, c, x.now, &req), 0);
    nh_pump(&x);
  }
  assert_int_equal(x.ta.calls, before);
  nh_fini(&x);
}


/* The last framed response the server wrote on pair p: its header. */
static void last_response(nh *x, int p, smbx_smb2_hdr *h, size_t *body_len)
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
  assert_int_equal(smbx_smb2_hdr_decode(q->p + last, last_len, h, NULL), 0);
  if (body_len)
    *body_len = last_len - 64;
}

/* sec. 1: the SMB1 multi-protocol NEGOTIATE offering "SMB 2.???" gets an
 * SMB2 NEGOTIATE response with DialectRevision 0x02FF; the client then
 * negotiates with MessageId 1 */
static void neg_1_smb1_wildcard_then_smb2_negotiate(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, true);
  static const char dl[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
  uint8_t m[128];
  memset(m, 0, sizeof m);
  m[0] = 0xFF;
  m[1] = 'S';
  m[2] = 'M';
  m[3] = 'B';
  m[4] = 0x72;
  size_t dlen = sizeof dl; /* includes the final NUL */
  m[32] = 0; /* WordCount */
  m[33] = (uint8_t)dlen;
  m[34] = 0;
  memcpy(m + 35, dl, dlen);
  size_t mlen = 35 + dlen;
  uint8_t fr[160];
  assert_int_equal(smbx_tcp_encode_prefix(fr, 4, mlen), 4);
  memcpy(fr + 4, m, mlen);
  nh_raw(&x, p, fr, 4 + mlen);
  nh_pump(&x);
  assert_false(x.pair[p].sdown);
  smbx_smb2_hdr h;
  size_t bl = 0;
  last_response(&x, p, &h, &bl);
  assert_int_equal(h.command, SMBX_SMB2_NEGOTIATE);
  assert_int_equal(h.message_id, 0);
  assert_true(h.credits >= 1);
  smbx_smb2_negotiate_resp r;
  nh_pipe *q = &x.pair[p].s2c;
  assert_int_equal(smbx_smb2_decode_negotiate_resp(q->p + 4, q->len - 4, &r,
                                                   NULL),
                   0);
  assert_int_equal(r.dialect_revision, SMBX_SMB2_DIALECT_WILDCARD);
  assert_int_equal(x.srv_dialect, 0);
  /* the SMB2 NEGOTIATE with MessageId 1 */
  uint8_t body[64];
  memset(body, 0, sizeof body);
  body[0] = 36;
  body[2] = 2;
  body[36] = 0x02;
  body[37] = 0x02;
  body[38] = 0x10;
  body[39] = 0x02;
  uint8_t fr2[256];
  size_t n = nh_frame_req(fr2, sizeof fr2, SMBX_SMB2_NEGOTIATE, 1, 0, 1, 0, 0,
                          body, 40);
  nh_raw(&x, p, fr2, n);
  nh_pump(&x);
  assert_int_equal(x.srv_dialect, SMBX_SMB2_DIALECT_210);
  assert_false(x.pair[p].sdown);
  nh_fini(&x);
}

/* 3.3.5.2.6 / sec. 0: a request with a wrong body StructureSize is failed
 * with INVALID_PARAMETER by the node; the host never sees it and the
 * connection stays up */
static void malformed_0_wrong_structure_size_invalid_parameter(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  int good = nh_start_tcp(&x);
  uint64_t s = nh_session(&x, good);
  uint32_t t = nh_tree(&x, good, s);
  uint8_t body[64];
  memset(body, 0, sizeof body);
  body[0] = 56; /* CREATE wants 57 */
  uint64_t req = 0;
  size_t before = x.srv_requests;
  assert_int_equal(smbx_client_request(x.cli, x.pair[good].cconn, s, t,
                                       SMBX_SMB2_CREATE, body, sizeof body, 0,
                                       x.now, &req),
                   0);
  const nh_cev *e = nh_response(&x, req);
  assert_int_equal(e->ev.u.pdu.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(x.srv_requests, before);
  assert_false(x.pair[good].sdown);
  assert_int_equal(smbx_client_echo(x.cli, x.pair[good].cconn, x.now, &req), 0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  nh_fini(&x);
}

/* 4.1: capabilities the host enables are advertised per dialect */
static void neg_4_1_capabilities_as_enabled(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.ss.capabilities = SMBX_SMB2_CAP_LARGE_MTU | SMBX_SMB2_CAP_LEASING |
                      SMBX_SMB2_CAP_DIRECTORY_LEASING |
                      SMBX_SMB2_CAP_MULTI_CHANNEL;
  x.cs.dialects = SMBX_DIALECT_MASK_210 | SMBX_DIALECT_MASK_302;
  int p = nh_start_tcp(&x);
  const nh_cev *e = &x.log[x.cursor - 1];
  assert_int_equal(e->ev.u.negotiated.dialect, SMBX_SMB2_DIALECT_302);
  assert_int_equal(e->ev.u.negotiated.capabilities,
                   SMBX_SMB2_CAP_LARGE_MTU | SMBX_SMB2_CAP_LEASING |
                       SMBX_SMB2_CAP_DIRECTORY_LEASING |
                       SMBX_SMB2_CAP_MULTI_CHANNEL |
                       (nh_have_openssl() ? SMBX_SMB2_CAP_ENCRYPTION : 0));
  nh_fini(&x);
  /* 2.1 has no directory leasing or multichannel */
  nh_setup(&x, false);
  x.ss.capabilities = SMBX_SMB2_CAP_LARGE_MTU | SMBX_SMB2_CAP_LEASING |
                      SMBX_SMB2_CAP_DIRECTORY_LEASING |
                      SMBX_SMB2_CAP_MULTI_CHANNEL;
  x.cs.dialects = SMBX_DIALECT_MASK_210;
  assert_int_equal(nh_start(&x), 0);
  p = nh_add_tcp(&x, false);
  nh_negotiate(&x, p);
  e = &x.log[x.cursor - 1];
  assert_int_equal(e->ev.u.negotiated.capabilities,
                   SMBX_SMB2_CAP_LARGE_MTU | SMBX_SMB2_CAP_LEASING);
  nh_fini(&x);
}


/* 4.13: the server host sends a lease break notification and an oplock
 * break; the client node delivers both as SMBX_EV_BREAK (TCP and SMB
 * Direct) */
static void break_4_13_server_notifications_reach_client(void **state)
{
  (void)state;
  for (int smbd = 0; smbd < 2; smbd++) {
    nh x;
    nh_setup(&x, true);
    assert_int_equal(nh_start(&x), 0);
    int p = smbd ? nh_add_smbd(&x) : nh_add_tcp(&x, false);
    nh_negotiate(&x, p);
    uint64_t s = nh_session(&x, p);
    (void)s;
    smbx_smb2_hdr h;
    memset(&h, 0, sizeof h);
    smbx_smb2_lease_break_notify ln;
    memset(&ln, 0, sizeof ln);
    ln.new_epoch = 2;
    ln.flags = SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED;
    memset(ln.lease_key, 0x6B, 16);
    ln.current_state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_WRITE;
    ln.new_state = SMBX_SMB2_LEASE_READ;
    uint8_t b[128];
    smbx_ssize n = smbx_smb2_encode_lease_break_notify(&h, &ln, b, sizeof b,
                                                       NULL);
    assert_int_equal(n, 64 + 44);
    assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, 0, b + 64,
                                            44, x.now),
                     0);
    smbx_smb2_oplock_break ob;
    memset(&ob, 0, sizeof ob);
    ob.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_II;
    ob.file_id.persistent_id = 9;
    n = smbx_smb2_encode_oplock_break(&h, &ob, b, sizeof b, NULL);
    assert_int_equal(n, 64 + 24);
    assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, 0, b + 64,
                                            24, x.now),
                     0);
    assert_int_equal(smbx_server_send_break(x.srv, x.pair[p].sconn, 0, b + 64,
                                            23, x.now),
                     SMBX_ERR_INVAL);
    const nh_cev *e = nh_wait(&x, SMBX_EV_BREAK);
    assert_non_null(e);
    assert_int_equal(e->ev.u.pdu.hdr.message_id, UINT64_MAX);
    assert_int_equal(smbx_smb2_oplock_break_classify(e->bytes, e->len, NULL),
                     SMBX_SMB2_BREAK_LEASE_NOTIFY);
    smbx_smb2_lease_break_notify got;
    assert_int_equal(
        smbx_smb2_decode_lease_break_notify(e->bytes, e->len, &got, NULL), 0);
    assert_int_equal(got.new_state, SMBX_SMB2_LEASE_READ);
    assert_memory_equal(got.lease_key, ln.lease_key, 16);
    e = nh_wait(&x, SMBX_EV_BREAK);
    assert_non_null(e);
    assert_int_equal(smbx_smb2_oplock_break_classify(e->bytes, e->len, NULL),
                     SMBX_SMB2_BREAK_OPLOCK);
    /* the connection is still fine */
    uint64_t req;
    assert_int_equal(smbx_client_echo(x.cli, x.pair[p].cconn, x.now, &req), 0);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
    if (smbd) {
      assert_int_equal(smbx_client_close_conn(x.cli, x.pair[p].cconn, x.now),
                       0);
      assert_int_equal(smbx_server_close_conn(x.srv, x.pair[p].sconn, x.now),
                       0);
      x.pair[p].used = false;
    }
    nh_fini(&x);
  }
}


/* 6.6: a session bound to a second connection (BINDING legs signed with
 * the session key, the fake authenticator's rounds again, 3.1.1 channel
 * key from the channel's preauth hash): requests on either connection are
 * signed and verified; a third, unbound connection gets
 * USER_SESSION_DELETED; binding on 2.1 is refused */
static void multichannel_6_6_bind_second_connection(void **state)
{
  (void)state;
  if (!nh_have_openssl())
    skip();
  static const uint32_t masks[3] = {SMBX_DIALECT_MASK_311,
                                    SMBX_DIALECT_MASK_302,
                                    SMBX_DIALECT_MASK_300};
  for (int d = 0; d < 3; d++) {
    nh x;
    nh_setup(&x, true);
    x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
    x.ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
    x.cs.dialects = masks[d];
    assert_int_equal(nh_start(&x), 0);
    int a = nh_add_tcp(&x, false);
    int b = nh_add_tcp(&x, false);
    int c = nh_add_tcp(&x, false);
    nh_negotiate(&x, a);
    uint64_t s = nh_session(&x, a);
    uint32_t t = nh_tree(&x, a, s);
    nh_negotiate(&x, b);
    nh_negotiate(&x, c);
    uint64_t cb = x.pair[b].cconn;
    /* not yet bound: the node refuses to use the session on b */
    assert_int_equal(smbx_client_echo(x.cli, cb, x.now, NULL), 0);
    smbx_smb2_fileid none = {1, 2};
    assert_int_equal(smbx_client_close(x.cli, cb, s, t, none, 0, x.now, NULL),
                     SMBX_ERR_STATE);
    assert_int_equal(smbx_client_session_bind(x.cli, cb, s,
                                              (const uint8_t *)"NEGO", 4,
                                              x.now),
                     0);
    for (int round = 1;; round++) {
      const nh_cev *e = nh_wait(&x, SMBX_EV_SESSION_SETUP);
      assert_non_null(e);
      assert_int_equal(e->ev.conn, cb);
      assert_int_equal(e->ev.u.session.err, 0);
      assert_int_equal(e->ev.u.session.req_flags,
                       SMBX_SMB2_SESSION_FLAG_BINDING);
      if (e->ev.u.session.status == SMBX_STATUS_SUCCESS) {
        assert_true(e->ev.flags & SMBX_EVF_VERIFIED);
        break;
      }
      assert_int_equal(e->ev.u.session.status,
                       SMBX_STATUS_MORE_PROCESSING_REQUIRED);
      char tok[16];
      int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
      assert_int_equal(smbx_client_session_bind(x.cli, cb, s,
                                                (const uint8_t *)tok,
                                                (size_t)tl, x.now),
                       0);
    }
    const nh_cev *up = nh_wait(&x, SMBX_EV_SESSION_UP);
    assert_non_null(up);
    assert_int_equal(up->ev.conn, cb);
    /* the same session and tree on both connections, signed both ways */
    x.srv_requests = 0;
    smbx_smb2_fileid f = nh_create(&x, b, s, t, "mc.bin");
    uint32_t fl = 0;
    write_read(&x, b, s, t, f, 3000, 6, &fl);
    assert_true(fl & SMBX_EVF_VERIFIED);
    assert_true(x.srv_req_flags_and & SMBX_EVF_VERIFIED);
    write_read(&x, a, s, t, f, 4000, 7, &fl);
    assert_true(fl & SMBX_EVF_VERIFIED);
    /* an unbound connection cannot use it */
    assert_int_equal(smbx_client_close(x.cli, x.pair[c].cconn, s, t, f, 0,
                                       x.now, NULL),
                     SMBX_ERR_STATE);
    /* the first connection goes away: the session lives on b */
    assert_int_equal(smbx_client_close_conn(x.cli, x.pair[a].cconn, x.now),
                     0);
    x.pair[a].cdown = true;
    assert_int_equal(smbx_server_close_conn(x.srv, x.pair[a].sconn, x.now),
                     0);
    x.pair[a].sdown = true;
    write_read(&x, b, s, t, f, 5000, 8, &fl);
    assert_true(fl & SMBX_EVF_VERIFIED);
    nh_fini(&x);
  }
  /* 2.1: binding is refused by the client (and would be by the server) */
  nh x;
  nh_setup(&x, true);
  x.cs.dialects = SMBX_DIALECT_MASK_210;
  assert_int_equal(nh_start(&x), 0);
  int a = nh_add_tcp(&x, false);
  int b = nh_add_tcp(&x, false);
  nh_negotiate(&x, a);
  uint64_t s = nh_session(&x, a);
  nh_negotiate(&x, b);
  assert_int_equal(smbx_client_session_bind(x.cli, x.pair[b].cconn, s,
                                            (const uint8_t *)"NEGO", 4, x.now),
                   SMBX_ERR_STATE);
  nh_fini(&x);
}


/* 6.6 (3.3.5.5): server checks on binding legs: 2.x -> REQUEST_NOT_ACCEPTED
 * (the connection stays up); the host never sees them */
static void multichannel_6_6_server_refuses_bad_binding(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, false);
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_tcp(&x, true);
  raw_negotiate(&x, p);
  uint8_t body[25];
  memset(body, 0, sizeof body);
  body[0] = 25;
  body[2] = SMBX_SMB2_SESSION_FLAG_BINDING;
  body[12] = 0x58; /* SecurityBufferOffset, length 0 */
  uint8_t fr[128];
  size_t n = nh_frame_req(fr, sizeof fr, SMBX_SMB2_SESSION_SETUP, 1, 1, 1,
                          0x55, 0, body, sizeof body);
  nh_raw(&x, p, fr, n);
  nh_pump(&x);
  smbx_smb2_hdr h;
  last_response(&x, p, &h, NULL);
  assert_int_equal(h.command, SMBX_SMB2_SESSION_SETUP);
  assert_int_equal(h.status, SMBX_STATUS_REQUEST_NOT_ACCEPTED);
  assert_int_equal(x.srv_events[SMBX_EV_SESSION_SETUP], 0);
  assert_false(x.pair[p].sdown);
  nh_fini(&x);
}


/* the same zero-allocation steady state over SMB Direct (simulated NIC) */
static void alloc_zero_per_request_steady_state_smbd(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  assert_int_equal(nh_start(&x), 0);
  int p = nh_add_smbd(&x);
  uint64_t c = x.pair[p].cconn;
  nh_negotiate(&x, p);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  smbx_smb2_fileid f = nh_create(&x, p, s, t, "steady");
  write_read(&x, p, s, t, f, 65536, 1, NULL);
  uint64_t req;
  for (int i = 0; i < 50; i++) {
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
  }
  uint64_t before = x.ta.calls;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, 4096, x.now, &req),
                     0);
    nh_pump(&x);
    assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  }
  assert_int_equal(x.ta.calls, before);
  nh_close_pair(&x, p);
  nh_fini(&x);
}


/* settings: bad values and signing without a MAC hook are refused */
static void settings_invalid_are_refused(void **state)
{
  (void)state;
  smbx_server *srv = NULL;
  smbx_client *cli = NULL;
  smbx_server_settings ss;
  smbx_client_settings cs;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.flags = SMBX_SERVER_SIGNING_REQUIRED;
  assert_int_equal(smbx_server_new(&srv, &ss, NULL, NULL, 0), SMBX_ERR_INVAL);
  smbx_crypto cr;
  memset(&cr, 0, sizeof cr);
  cr.struct_size = sizeof cr;
  assert_int_equal(smbx_server_new(&srv, &ss, &cr, NULL, 0), SMBX_ERR_INVAL);
  smbx_server_settings_default(&ss, sizeof ss);
  ss.max_read_size = 1000;
  assert_int_equal(smbx_server_new(&srv, &ss, NULL, NULL, 0), SMBX_ERR_INVAL);
  smbx_server_settings_default(&ss, sizeof ss);
  ss.dialects = 0;
  assert_int_equal(smbx_server_new(&srv, &ss, NULL, NULL, 0), SMBX_ERR_INVAL);
  smbx_client_settings_default(&cs, sizeof cs);
  cs.flags = SMBX_CLIENT_ENCRYPT;
  assert_int_equal(smbx_client_new(&cli, &cs, NULL, NULL, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_client_new(NULL, NULL, NULL, NULL, 0), SMBX_ERR_INVAL);
  assert_null(srv);
  assert_null(cli);
  /* an older, shorter settings struct keeps the newer fields' defaults */
  smbx_server_settings_default(&ss, sizeof ss);
  ss.struct_size = offsetof(smbx_server_settings, max_write_size);
  assert_int_equal(smbx_server_new(&srv, &ss, NULL, NULL, 0), 0);
  smbx_server_free(srv);
  assert_int_equal(smbx_server_next_event(NULL, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_server_conn_info(NULL, 1, NULL), SMBX_ERR_INVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(neg_4_1_every_dialect_end_to_end),
      cmocka_unit_test(neg_4_1_highest_common_dialect),
      cmocka_unit_test(neg_4_1_no_common_dialect_fails),
      cmocka_unit_test(neg_1_smb1_wildcard_then_smb2_negotiate),
      cmocka_unit_test(neg_4_1_capabilities_as_enabled),
      cmocka_unit_test(malformed_0_wrong_structure_size_invalid_parameter),
      cmocka_unit_test(sess_4_2_two_rounds_then_signed_session),
      cmocka_unit_test(sess_4_2_logon_failure),
      cmocka_unit_test(sess_4_2_guest_session_unsigned),
      cmocka_unit_test(tree_4_3_bad_share_and_unknown_tree),
      cmocka_unit_test(file_ops_create_write_read_close_querydir_echo),
      cmocka_unit_test(credit_6_1_large_mtu_1mib),
      cmocka_unit_test(credit_6_1_again_then_writable),
      cmocka_unit_test(compound_6_2_related_create_write_close),
      cmocka_unit_test(async_6_3_interim_then_cancel),
      cmocka_unit_test(timeout_request_completes_once),
      cmocka_unit_test(teardown_requests_in_flight_complete_once),
      cmocka_unit_test(hostile_6_1_window_garbage_no_credits_disconnect),
      cmocka_unit_test(hostile_request_before_negotiate_and_second_negotiate),
      cmocka_unit_test(hostile_unknown_session_user_session_deleted),
      cmocka_unit_test(tcon_3_2_4_1_1_signed_on_311_without_signing_required),
      cmocka_unit_test(tcon_3_3_5_7_unsigned_311_user_session_disconnects),
      cmocka_unit_test(client_2_2_unsolicited_rejected_break_delivered),
      cmocka_unit_test(break_4_13_server_notifications_reach_client),
      cmocka_unit_test(crypto_6_5_encrypted_311_round_trip),
      cmocka_unit_test(multichannel_6_6_bind_second_connection),
      cmocka_unit_test(multichannel_6_6_server_refuses_bad_binding),
      cmocka_unit_test(smbd_basic_flow_over_simulated_nic),
      cmocka_unit_test(settings_invalid_are_refused),
      cmocka_unit_test(alloc_every_creation_path_fails_cleanly),
      cmocka_unit_test(alloc_zero_per_request_steady_state),
      cmocka_unit_test(alloc_zero_per_request_steady_state_smbd),
  };
  return RUN_TESTS(tests);
}
