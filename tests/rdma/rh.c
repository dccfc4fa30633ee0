/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rh.h"

void rh_init(rh *x)
{
  memset(x, 0, sizeof *x);
  test_alloc_init(&x->ta);
  smbx_server_settings_default(&x->ss, sizeof x->ss);
  smbx_client_settings_default(&x->cs, sizeof x->cs);
  x->cs.flags |= SMBX_CLIENT_ALLOW_GUEST; /* the server answers IS_GUEST */
  x->ss.max_read_size = 1u << 20;
  x->ss.max_write_size = 1u << 20;
  sim_pair_smbd_settings(x->st, RH_RBUFS);
  for (int k = 0; k < 2; k++)
    x->st[k].send_buffers = 1024;
  x->host_sge = 1;
}

static void srv_answer(rh *x, const smbx_event *e);

static uint64_t host_handle(rh *x)
{
  return x->file_mr.handle;
}

/* The server host answers an RDMA READ/WRITE from its registered file. */
static void host_rdma(rh *x, const smbx_event *e)
{
  uint16_t cmd = e->u.pdu.hdr.command;
  uint64_t off;
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    assert_int_equal(smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len,
                                               &r, NULL),
                     0);
    off = r.offset;
  } else {
    smbx_smb2_write_req w;
    assert_int_equal(smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len,
                                                &w, NULL),
                     0);
    off = w.offset;
  }
  /* the event carries the decoded Offset: a host need not decode */
  assert_int_equal(e->u.pdu.rdma_offset, off);
  uint32_t len = e->u.pdu.rdma_length;
  if (cmd == SMBX_SMB2_READ && x->eof_at && off >= x->eof_at) {
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_END_OF_FILE, NULL, 0,
                                               x->now),
                     0);
    return;
  }
  if (cmd == SMBX_SMB2_READ && x->eof_at && off + len > x->eof_at)
    len = (uint32_t)(x->eof_at - off);
  assert_true(off + len <= RH_FILE);
  /* the host hands its memory in host_sge elements */
  smbx_sge sg[16];
  uint32_t n = x->host_sge, per = len / n, at = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t l = i + 1 == n ? len - at : per;
    sg[i].addr = x->file + off + at;
    sg[i].length = l;
    sg[i].reserved = 0;
    sg[i].handle = host_handle(x);
    at += l;
  }
  int rc = cmd == SMBX_SMB2_READ
               ? smbx_server_rdma_push(x->srv, e->conn, e->u.pdu.req, sg, n,
                                       x->now)
               : smbx_server_rdma_pull(x->srv, e->conn, e->u.pdu.req, sg, n,
                                       x->now);
  /* a transport failure tears the connection down; tests check that */
  assert_true(rc == 0 || rc <= SMBX_ERR_FATAL);
  if (cmd == SMBX_SMB2_WRITE && off + len > x->file_len)
    x->file_len = off + len;
}

static void answer_write(rh *x, uint64_t conn, uint64_t req, uint32_t count)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = count;
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &rs, out, sizeof out, NULL);
  assert_true(n > 64);
  assert_int_equal(smbx_server_respond(x->srv, conn, req, 0, out + 64,
                                       (size_t)n - 64, x->now),
                   0);
}

static void srv_answer(rh *x, const smbx_event *e)
{
  uint16_t cmd = e->u.pdu.hdr.command;
  x->n_requests++;
  if (e->flags & SMBX_EVF_RDMA) {
    x->n_rdma_requests++;
    /* the descriptors the event names are the PDU's, validated */
    assert_non_null(e->u.pdu.rdma_descs);
    assert_true(e->u.pdu.rdma_descs >= e->u.pdu.data &&
                e->u.pdu.rdma_descs + 16u * e->u.pdu.rdma_desc_count <=
                    e->u.pdu.data + e->u.pdu.len);
    if (x->hold_rdma) {
      x->held_req = e->u.pdu.req;
      x->held_ev = *e;
      return;
    }
    host_rdma(x, e);
    return;
  }
  uint8_t out[256];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  if (cmd == SMBX_SMB2_CREATE) {
    smbx_smb2_create_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.create_action = 1;
    rs.file_attributes = 0x80;
    rs.end_of_file = x->file_len;
    rs.file_id.persistent_id = 7;
    rs.file_id.volatile_id = 9;
    smbx_ssize n = smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
    assert_int_equal(smbx_server_respond(x->srv, e->conn, e->u.pdu.req, 0,
                                         out + 64, (size_t)n - 64, x->now),
                     0);
    return;
  }
  if (cmd == SMBX_SMB2_WRITE) {
    smbx_smb2_write_req w;
    assert_int_equal(smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len,
                                                &w, NULL),
                     0);
    assert_true(w.offset + w.data.len <= RH_FILE);
    memcpy(x->file + w.offset, w.data.p, w.data.len);
    answer_write(x, e->conn, e->u.pdu.req, (uint32_t)w.data.len);
    return;
  }
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    assert_int_equal(smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len,
                                               &r, NULL),
                     0);
    smbx_smb2_read_resp rs;
    memset(&rs, 0, sizeof rs);
    rs.data.len = r.length;
    smbx_ssize n = smbx_smb2_encode_read_resp(&h, &rs, out, sizeof out, NULL);
    smbx_iov iov[2] = {{out + 64, (size_t)n - 64}, {x->file + r.offset, r.length}};
    assert_int_equal(smbx_server_respond_iov(x->srv, e->conn, e->u.pdu.req, 0,
                                             iov, 2, x->now),
                     0);
    return;
  }
  assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                             SMBX_STATUS_NOT_SUPPORTED, NULL,
                                             0, x->now),
                   0);
}

static void srv_drain(rh *x)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(x->srv, &e) == 1) {
    if (x->route && x->route(x, &e) == 1)
      continue;
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP:
      assert_int_equal(smbx_server_session_respond(
                           x->srv, e.conn, e.u.session.req, 0,
                           (const uint8_t *)"OK", 2, NULL, 0,
                           SMBX_SMB2_SESSION_FLAG_IS_GUEST, x->now),
                       0);
      break;
    case SMBX_EV_TREE_CONNECT: {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
      r.maximal_access = 0x1F01FF;
      assert_int_equal(smbx_server_tree_respond(x->srv, e.conn,
                                                e.u.tree.req, 0, &r, x->now,
                                                NULL),
                       0);
      break;
    }
    case SMBX_EV_REQUEST:
      srv_answer(x, &e);
      break;
    case SMBX_EV_RDMA_DONE:
      x->n_rdma_done++;
      x->last_done_err = e.u.pdu.err;
      if (e.u.pdu.err) {
        x->n_rdma_done_err++;
        break;
      }
      if (e.u.pdu.hdr.command == SMBX_SMB2_WRITE)
        answer_write(x, e.conn, e.u.pdu.req, e.u.pdu.rdma_length);
      break;
    case SMBX_EV_CONN_DOWN:
      x->n_sdown++;
      break;
    default:
      break;
    }
  }
}

static void cli_drain(rh *x)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(x->cli, &e) == 1) {
    assert_true(x->n_log < RH_LOG);
    rh_ev *l = &x->log[x->n_log++];
    memset(l, 0, sizeof *l);
    l->ev = e;
    if (e.type == SMBX_EV_RESPONSE && e.u.pdu.data) {
      l->len = e.u.pdu.len < sizeof l->hdr ? e.u.pdu.len : sizeof l->hdr;
      memcpy(l->hdr, e.u.pdu.data, l->len);
    }
    if (e.type == SMBX_EV_CONN_DOWN) {
      x->cdown = true;
      x->cdown_err = e.u.down.err;
    }
    if (e.hold)
      assert_int_equal(smbx_client_release(x->cli, e.conn, e.hold, x->now), 0);
  }
}

void rh_pump(rh *x)
{
  for (int iter = 0; iter < 1000000; iter++) {
    x->w->now = x->now;
    sim_pair p = {x->cli, x->cconn, x->srv, x->sconn};
    int n = sim_pair_step(x->w, &p, x->now);
    if (n < 0)
      fail_msg("a server completion with a foreign wr_id");
    bool moved = n > 0;
    size_t before = x->n_log;
    srv_drain(x);
    cli_drain(x);
    moved |= x->n_log != before;
    if (!moved) {
      uint64_t t = sim_next_time(x->w);
      if (t == UINT64_MAX)
        return;
      x->now = t > x->now ? t : x->now;
    }
  }
  fail_msg("rh_pump: no quiescence");
}

static const rh_ev *wait_type(rh *x, uint32_t type, size_t from)
{
  rh_pump(x);
  for (size_t i = from; i < x->n_log; i++)
    if (x->log[i].ev.type == type)
      return &x->log[i];
  return NULL;
}

const rh_ev *rh_response(rh *x, uint64_t req)
{
  rh_pump(x);
  for (size_t i = 0; i < x->n_log; i++)
    if (x->log[i].ev.type == SMBX_EV_RESPONSE && x->log[i].ev.u.pdu.req == req)
      return &x->log[i];
  fail_msg("no RESPONSE for %llx", (unsigned long long)req);
  return NULL;
}

smbx_mr rh_client_mr(rh *x, void *p, size_t len, uint32_t access)
{
  smbx_mr mr;
  assert_int_equal(x->t[0].register_mr(x->t[0].user_data, p, len, access, &mr),
                   0);
  return mr;
}

void rh_start(rh *x)
{
  x->w = sim_new(1000);
  assert_int_equal(smbx_server_new(&x->srv, &x->ss, NULL, &x->ta.a, x->now), 0);
  assert_int_equal(smbx_client_new(&x->cli, &x->cs, NULL, &x->ta.a, x->now), 0);
  for (int k = 0; k < 2; k++) {
    x->t[k] = sim_transport(x->w, k);
    x->rmem[k] = sim_pair_lend(x->rb[k], RH_RBUFS, x->st[k].max_recv_size);
    assert_non_null(x->rmem[k]);
  }
  x->file = calloc(1, RH_FILE);
  assert_non_null(x->file);
  /* the server host registers its file memory once, as a real one would */
  assert_int_equal(x->t[1].register_mr(x->t[1].user_data, x->file, RH_FILE,
                                       SMBX_MR_LOCAL_WRITE, &x->file_mr),
                   0);
  sim_pair p = {x->cli, 0, x->srv, 0};
  assert_int_equal(sim_pair_connect(&p, x->st, &x->t[0], &x->t[1], x->rb[0],
                                    x->rb[1], RH_RBUFS, x->now),
                   0);
  x->cconn = p.cconn;
  x->sconn = p.sconn;
  assert_non_null(wait_type(x, SMBX_EV_CONN_UP, 0));
  assert_int_equal(smbx_client_negotiate(x->cli, x->cconn, x->now), 0);
  const rh_ev *e = wait_type(x, SMBX_EV_NEGOTIATED, 0);
  assert_non_null(e);
  assert_int_equal(e->ev.u.negotiated.err, 0);
  assert_int_equal(smbx_client_session_setup(x->cli, x->cconn, &x->sess,
                                             (const uint8_t *)"HI", 2, x->now),
                   0);
  /* no session key: the server host may answer as a guest or name a
   * signed-in user without one (tests/vmo) */
  assert_int_equal(smbx_client_session_key(x->cli, x->sess, NULL, 0, x->now),
                   0);
  assert_non_null(wait_type(x, SMBX_EV_SESSION_UP, 0));
  uint64_t req = 0;
  assert_int_equal(smbx_client_tree_connect(x->cli, x->cconn, x->sess,
                                            "\\\\srv\\share", x->now, &req),
                   0);
  e = wait_type(x, SMBX_EV_TREE_CONNECT, 0);
  assert_non_null(e);
  x->tree = e->ev.u.tree.tree_id;
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  uint8_t name[4] = {'f', 0, 0, 0};
  c.impersonation_level = 2;
  c.desired_access = 0x12019F;
  c.share_access = 3;
  c.create_disposition = 3;
  c.name.p = name;
  c.name.len = 2;
  assert_int_equal(smbx_client_create(x->cli, x->cconn, x->sess, x->tree, &c,
                                      x->now, &req),
                   0);
  e = rh_response(x, req);
  assert_int_equal(e->ev.u.pdu.status, 0);
  /* the host's FileId (srv_answer) */
  x->fid.persistent_id = 7;
  x->fid.volatile_id = 9;
}

void rh_fini(rh *x)
{
  smbx_client_free(x->cli);
  smbx_server_free(x->srv);
  if (x->w && x->file)
    x->t[1].deregister_mr(x->t[1].user_data, &x->file_mr);
  if (x->w) {
    /* every registration smbx made went away exactly once */
    assert_int_equal(x->w->violations, 0);
    assert_int_equal(sim_mr_live(x->w, 0), 0);
    assert_int_equal(sim_mr_live(x->w, 1), 0);
    sim_free(x->w);
  }
  free(x->file);
  free(x->rmem[0]);
  free(x->rmem[1]);
  assert_int_equal(x->ta.live, 0);
}

const rh_ev *rh_read(rh *x, uint64_t off, void *buf, uint32_t len)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_read_into(x->cli, x->cconn, x->sess, x->tree,
                                         x->fid, off, buf, len, x->now, &req),
                   0);
  return rh_response(x, req);
}

const rh_ev *rh_write(rh *x, uint64_t off, const void *buf, uint32_t len)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(x->cli, x->cconn, x->sess, x->tree,
                                          x->fid, off, buf, len, x->now, &req),
                   0);
  return rh_response(x, req);
}

const rh_ev *rh_raw(rh *x, uint16_t cmd, const uint8_t *body, size_t len)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_request(x->cli, x->cconn, x->sess, x->tree, cmd,
                                       body, len, 0, x->now, &req),
                   0);
  return rh_response(x, req);
}
