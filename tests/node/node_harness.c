/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbx/tcp.h>

#include "node_harness.h"
#include "pcapw.h"

#ifdef NH_HAVE_OPENSSL
#include "smbx_openssl.h"
#endif

/* ---- pipes ----------------------------------------------------------------- */

static void pipe_put(nh_pipe *q, const uint8_t *b, size_t n)
{
  if (q->len + n > q->cap) {
    size_t c = q->cap ? q->cap : 4096;
    while (c < q->len + n)
      c *= 2;
    q->p = realloc(q->p, c);
    assert_non_null(q->p);
    q->cap = c;
  }
  memcpy(q->p + q->len, b, n);
  q->len += n;
  q->total += n;
}

static int tcp_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  nh_pipe *q = ud;
  if (q->fail_in > 0 && --q->fail_in == 0) {
    q->fail_in = 1;
    return -1;
  }
  if (q->pcap)
    assert_int_equal(pcapw_tcp(q->pcap, q->dir, b, n), 0);
  pipe_put(q, b, n);
  return 0;
}

/* ---- setup ------------------------------------------------------------------ */

void nh_setup(nh *x, bool crypto)
{
  memset(x, 0, sizeof *x);
  test_alloc_init(&x->ta);
  x->use_ta = true;
  smbx_server_settings_default(&x->ss, sizeof x->ss);
  smbx_client_settings_default(&x->cs, sizeof x->cs);
  /* tests grant guest sessions (session_flags) and expect them up */
  x->cs.flags |= SMBX_CLIENT_ALLOW_GUEST;
  x->auth_rounds = 2;
  for (int i = 0; i < 16; i++)
    x->key[i] = (uint8_t)(0xA0 + i);
  x->next_fid = 0x100;
#ifdef NH_HAVE_OPENSSL
  if (crypto) {
    smbx_openssl *o = NULL;
    char err[256];
    if (smbx_openssl_new(&o, 0, err, sizeof err) == 0) {
      smbx_openssl_crypto(o, &x->cr);
      x->ossl = o;
      x->have_cr = true;
    }
  }
#else
  (void)crypto;
#endif
}

int nh_start(nh *x)
{
  int rc = smbx_server_new(&x->srv, &x->ss, x->have_cr ? &x->cr : NULL,
                           x->use_ta ? &x->ta.a : NULL, x->now);
  if (rc)
    return rc;
  return smbx_client_new(&x->cli, &x->cs, x->have_cr ? &x->cr : NULL,
                         x->use_ta ? &x->ta.a : NULL, x->now);
}

void nh_fini(nh *x)
{
  smbx_client_free(x->cli);
  smbx_server_free(x->srv);
  x->cli = NULL;
  x->srv = NULL;
  for (int i = 0; i < NH_PAIRS; i++) {
    free(x->pair[i].c2s.p);
    free(x->pair[i].s2c.p);
  }
  for (size_t i = 0; i < x->n_log; i++)
    free(x->log[i].bytes);
  for (int i = 0; i < NH_FILES; i++)
    free(x->files[i].data);
  if (x->w)
    sim_free(x->w);
  if (x->w2)
    sim_free(x->w2);
  free(x->rmem[0]);
  free(x->rmem[1]);
  free(x->rmem2[0]);
  free(x->rmem2[1]);
#ifdef NH_HAVE_OPENSSL
  smbx_openssl_free(x->ossl);
#endif
  if (x->use_ta)
    assert_int_equal(x->ta.live, 0);
}

int nh_add_tcp(nh *x, bool raw_client)
{
  int i = 0;
  while (i < NH_PAIRS && x->pair[i].used)
    i++;
  assert_true(i < NH_PAIRS);
  nh_pair *p = &x->pair[i];
  memset(p, 0, sizeof *p);
  p->used = true;
  p->raw_client = raw_client;
  p->c2s.pcap = p->s2c.pcap = x->pcap;
  p->c2s.dir = 0;
  p->s2c.dir = 1;
  smbx_tcp_hooks h = {sizeof h, &p->s2c, tcp_send};
  assert_int_equal(smbx_server_add_tcp(x->srv, &h, x->now, &p->sconn), 0);
  if (!raw_client) {
    smbx_tcp_hooks hc = {sizeof hc, &p->c2s, tcp_send};
    assert_int_equal(smbx_client_add_tcp(x->cli, &hc, x->now, &p->cconn), 0);
  }
  return i;
}

int nh_add_smbd(nh *x)
{
  int i = 0;
  while (i < NH_PAIRS && x->pair[i].used)
    i++;
  assert_true(i < NH_PAIRS);
  nh_pair *p = &x->pair[i];
  memset(p, 0, sizeof *p);
  p->used = true;
  p->smbd = true;
  bool second = x->w != NULL;
  assert_true(!second || !x->w2);
  sim **w = second ? &x->w2 : &x->w;
  uint8_t **rmem = second ? x->rmem2 : x->rmem;
  smbx_smbd_recv_buf(*rbufs)[64] = second ? x->rbufs2 : x->rbufs;
  smbx_transport *t = second ? x->t2 : x->t;
  *w = sim_new(1000);
  (*w)->now = x->now;
  p->w = *w;
  smbx_smbd_settings st[2];
  sim_pair_smbd_settings(st, 64);
  for (int k = 0; k < 2; k++) {
    st[k].send_buffers = 1024;
    rmem[k] = sim_pair_lend(rbufs[k], 64, st[k].max_recv_size);
    assert_non_null(rmem[k]);
    t[k] = sim_transport(*w, k);
  }
  sim_pair sp = {x->cli, 0, x->srv, 0};
  assert_int_equal(sim_pair_connect(&sp, st, &t[0], &t[1], rbufs[0], rbufs[1],
                                    64, x->now),
                   0);
  p->cconn = sp.cconn;
  p->sconn = sp.sconn;
  return i;
}

/* ---- server host: fake authenticator + in-memory file system ---------------- */

static int pair_of_sconn(nh *x, uint64_t conn)
{
  for (int i = 0; i < NH_PAIRS; i++)
    if (x->pair[i].used && x->pair[i].sconn == conn)
      return i;
  return -1;
}

static nh_file *file_by_id(nh *x, uint64_t id)
{
  for (int i = 0; i < NH_FILES; i++)
    if (x->files[i].used && x->files[i].id == id)
      return &x->files[i];
  return NULL;
}

static void answer_body(nh *x, uint64_t conn, uint64_t req, uint32_t st,
                        const uint8_t *pdu, smbx_ssize n)
{
  assert_true(n >= 64);
  assert_int_equal(smbx_server_respond(x->srv, conn, req, st, pdu + 64,
                                       (size_t)n - 64, x->now),
                   0);
}

static void fs_create(nh *x, const smbx_event *e)
{
  smbx_smb2_create_req r;
  assert_int_equal(
      smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &r, NULL), 0);
  char name[64];
  size_t nl = 0;
  assert_int_equal(smbx_utf16le_to_utf8(r.name.p, r.name.len,
                                        (uint8_t *)name, sizeof name - 1, &nl),
                   0);
  name[nl] = 0;
  nh_file *f = NULL;
  for (int i = 0; i < NH_FILES; i++)
    if (x->files[i].used && strcmp(x->files[i].name, name) == 0)
      f = &x->files[i];
  uint32_t action = 1;
  if (!f) {
    if (r.create_disposition == 1) {
      assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                                 SMBX_STATUS_OBJECT_NAME_NOT_FOUND,
                                                 NULL, 0, x->now),
                       0);
      return;
    }
    for (int i = 0; i < NH_FILES && !f; i++)
      if (!x->files[i].used)
        f = &x->files[i];
    assert_non_null(f);
    memset(f, 0, sizeof *f);
    f->used = true;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->id = x->next_fid++;
    action = 2;
  }
  f->opens++;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.create_action = action;
  rs.end_of_file = f->len;
  rs.file_attributes = 0x80;
  rs.file_id.persistent_id = f->id;
  rs.file_id.volatile_id = f->id ^ 0xFFFF;
  uint8_t out[256];
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
  answer_body(x, e->conn, e->u.pdu.req, 0, out, n);
}

static smbx_smb2_fileid req_fid(const smbx_event *e, smbx_smb2_fileid wire)
{
  return (e->flags & SMBX_EVF_FILEID) ? e->u.pdu.file_id : wire;
}

/* An RDMA READ/WRITE (SMBX_EVF_RDMA): the file's bytes registered on
 * the pair's NIC and pushed / pulled by the node; the WRITE is answered
 * at its RDMA_DONE (fs_rdma_done). */
static void fs_rdma(nh *x, const smbx_event *e, nh_file *f, uint64_t off)
{
  int p = pair_of_sconn(x, e->conn);
  assert_true(p >= 0 && x->pair[p].w);
  /* the event carries the decoded Offset (u.pdu.rdma_offset) */
  assert_int_equal(e->u.pdu.rdma_offset, off);
  bool read = e->u.pdu.hdr.command == SMBX_SMB2_READ;
  size_t len = e->u.pdu.rdma_length;
  if (read && off + len > f->len)
    len = f->len - (size_t)off;
  if (!read && off + len > f->cap) {
    /* growing moves the bytes: never under a lent registration */
    for (size_t i = 0; i < NH_LENT; i++)
      assert_int_equal(x->lent[i].req, 0);
    f->cap = (size_t)off + len;
    f->data = realloc(f->data, f->cap);
  }
  size_t k = 0;
  while (k < NH_LENT && x->lent[k].req)
    k++;
  assert_true(k < NH_LENT);
  smbx_transport t = sim_transport(x->pair[p].w, 1);
  assert_int_equal(t.register_mr(t.user_data, f->data + off, len,
                                 SMBX_MR_LOCAL_WRITE, &x->lent[k].mr),
                   0);
  x->lent[k].conn = e->conn;
  x->lent[k].req = e->u.pdu.req;
  x->lent[k].w = x->pair[p].w;
  smbx_sge sg = {f->data + off, (uint32_t)len, 0, x->lent[k].mr.handle};
  assert_int_equal(read ? smbx_server_rdma_push(x->srv, e->conn, e->u.pdu.req,
                                                &sg, 1, x->now)
                        : smbx_server_rdma_pull(x->srv, e->conn, e->u.pdu.req,
                                                &sg, 1, x->now),
                   0);
  if (!read && off + len > f->len)
    f->len = (size_t)off + len;
}

static void fs_rdma_done(nh *x, const smbx_event *e)
{
  x->srv_rdma_done++;
  for (size_t k = 0; k < NH_LENT; k++) {
    if (!x->lent[k].req || x->lent[k].conn != e->conn ||
        x->lent[k].req != e->u.pdu.req)
      continue;
    smbx_transport t = sim_transport(x->lent[k].w, 1);
    t.deregister_mr(t.user_data, &x->lent[k].mr);
    memset(&x->lent[k], 0, sizeof x->lent[k]);
  }
  if (e->u.pdu.err || e->u.pdu.hdr.command != SMBX_SMB2_WRITE)
    return;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = e->u.pdu.rdma_length;
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &rs, out, sizeof out, NULL);
  answer_body(x, e->conn, e->u.pdu.req, 0, out, n);
}

static void fs_write(nh *x, const smbx_event *e)
{
  smbx_smb2_write_req r;
  assert_int_equal(
      smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len, &r, NULL), 0);
  nh_file *f = file_by_id(x, req_fid(e, r.file_id).persistent_id);
  if (!f) {
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_FILE_CLOSED, NULL,
                                               0, x->now),
                     0);
    return;
  }
  if (e->flags & SMBX_EVF_RDMA) {
    fs_rdma(x, e, f, r.offset);
    return;
  }
  size_t end = (size_t)r.offset + r.data.len;
  if (end > f->cap) {
    f->cap = end;
    f->data = realloc(f->data, f->cap);
  }
  memcpy(f->data + r.offset, r.data.p, r.data.len);
  if (end > f->len)
    f->len = end;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = (uint32_t)r.data.len;
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &rs, out, sizeof out, NULL);
  answer_body(x, e->conn, e->u.pdu.req, 0, out, n);
}

static void fs_read(nh *x, const smbx_event *e)
{
  smbx_smb2_read_req r;
  assert_int_equal(
      smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &r, NULL), 0);
  nh_file *f = file_by_id(x, req_fid(e, r.file_id).persistent_id);
  assert_non_null(f);
  if (r.offset < f->len && (e->flags & SMBX_EVF_RDMA)) {
    fs_rdma(x, e, f, r.offset);
    return;
  }
  if (r.offset >= f->len) {
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_END_OF_FILE, NULL,
                                               0, x->now),
                     0);
    return;
  }
  size_t n = f->len - (size_t)r.offset;
  if (n > r.length)
    n = r.length;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_read_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.data.p = NULL; /* scatter-gather: fixed part only */
  rs.data.len = n;
  uint8_t out[128];
  smbx_ssize k = smbx_smb2_encode_read_resp(&h, &rs, out, sizeof out, NULL);
  assert_int_equal(k, 80);
  smbx_iov iov[2] = {{out + 64, 16}, {f->data + r.offset, n}};
  assert_int_equal(smbx_server_respond_iov(x->srv, e->conn, e->u.pdu.req, 0,
                                           iov, 2, x->now),
                   0);
}

static void fs_close(nh *x, const smbx_event *e)
{
  smbx_smb2_close_req r;
  assert_int_equal(
      smbx_smb2_decode_close_req(e->u.pdu.data, e->u.pdu.len, &r, NULL), 0);
  nh_file *f = file_by_id(x, req_fid(e, r.file_id).persistent_id);
  if (!f) {
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_FILE_CLOSED, NULL,
                                               0, x->now),
                     0);
    return;
  }
  f->opens--;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_close_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.flags = r.flags;
  if (r.flags & SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) {
    rs.end_of_file = f->len;
    rs.file_attributes = 0x80;
  }
  uint8_t out[160];
  smbx_ssize n = smbx_smb2_encode_close_resp(&h, &rs, out, sizeof out, NULL);
  answer_body(x, e->conn, e->u.pdu.req, 0, out, n);
}

static void fs_query_dir(nh *x, const smbx_event *e)
{
  smbx_smb2_query_directory_req r;
  assert_int_equal(smbx_smb2_decode_query_directory_req(
                       e->u.pdu.data, e->u.pdu.len, &r, NULL),
                   0);
  static uint8_t buf[8192];
  smbx_smb2_dir_builder b;
  assert_int_equal(smbx_smb2_dir_builder_init(&b, r.info_class, buf,
                                              r.output_buffer_length <
                                                      sizeof buf
                                                  ? r.output_buffer_length
                                                  : sizeof buf),
                   0);
  int n = 0;
  for (int i = 0; i < NH_FILES; i++) {
    if (!x->files[i].used)
      continue;
    uint8_t w[128];
    size_t wl = 0;
    assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)x->files[i].name,
                                          strlen(x->files[i].name), w,
                                          sizeof w, &wl),
                     0);
    smbx_smb2_dir_entry de;
    memset(&de, 0, sizeof de);
    de.end_of_file = x->files[i].len;
    de.file_attributes = 0x80;
    de.file_id = x->files[i].id;
    de.file_name.p = w;
    de.file_name.len = wl;
    assert_int_equal(smbx_smb2_dir_builder_add(&b, &de), 0);
    n++;
  }
  if (n == 0 || (r.flags & SMBX_SMB2_RETURN_SINGLE_ENTRY)) {
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_NO_MORE_FILES, NULL,
                                               0, x->now),
                     0);
    return;
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_output_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.output.p = buf;
  rs.output.len = b.len;
  static uint8_t out[8192 + 128];
  smbx_ssize k =
      smbx_smb2_encode_query_directory_resp(&h, &rs, out, sizeof out, NULL);
  answer_body(x, e->conn, e->u.pdu.req, 0, out, k);
}

void nh_answer_deferred(nh *x, size_t i, uint32_t status)
{
  assert_true(i < x->n_deferred);
  int rc = smbx_server_respond_error(x->srv, x->deferred[i].conn,
                                     x->deferred[i].req, status, NULL, 0,
                                     x->now);
  assert_int_equal(rc, 0);
  x->deferred[i].req = 0;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *base,
                   size_t len)
{
  return base && p >= base && (size_t)(p - base) <= len &&
         n <= len - (size_t)(p - base);
}

static void srv_request(nh *x, const smbx_event *e)
{
  x->srv_requests++;
  for (int i = 0; i < NH_PAIRS; i++)
    if (x->pair[i].used &&
        inside(e->u.pdu.data, e->u.pdu.len, x->pair[i].c2s.p,
               x->pair[i].c2s.len))
      x->srv_inplace++;
  if (x->rmem[1] &&
      inside(e->u.pdu.data, e->u.pdu.len, x->rmem[1],
             (size_t)64 * x->rbufs[1][0].length))
    x->srv_inplace++;
  x->last_req_flags = e->flags;
  x->last_req_fileid = e->u.pdu.file_id;
  if (x->srv_requests == 1)
    x->srv_req_flags_and = e->flags;
  x->srv_req_flags_and &= e->flags;
  x->srv_req_flags_or |= e->flags;
  if (e->u.pdu.hdr.flags & SMBX_SMB2_FLAGS_REPLAY_OPERATION) {
    x->srv_replays++;
    x->replay_conn = e->conn;
    x->replay_seq = (uint16_t)e->u.pdu.hdr.status; /* 3.x: @8 */
  }
  if (x->host_request && x->host_request(x, e))
    return;
  uint16_t cmd = e->u.pdu.hdr.command;
  if (x->defer || cmd == SMBX_SMB2_CHANGE_NOTIFY) {
    assert_true(x->n_deferred < NH_DEFER);
    x->deferred[x->n_deferred].conn = e->conn;
    x->deferred[x->n_deferred].req = e->u.pdu.req;
    x->deferred[x->n_deferred].cmd = cmd;
    x->deferred[x->n_deferred].channel_sequence =
        (uint16_t)e->u.pdu.hdr.status;
    x->deferred[x->n_deferred].hdr_flags = e->u.pdu.hdr.flags;
    x->n_deferred++;
    if (cmd == SMBX_SMB2_CHANGE_NOTIFY)
      assert_int_equal(
          smbx_server_go_async(x->srv, e->conn, e->u.pdu.req, x->now, NULL),
          0);
    return;
  }
  switch (cmd) {
  case SMBX_SMB2_CREATE:
    fs_create(x, e);
    break;
  case SMBX_SMB2_WRITE:
    fs_write(x, e);
    break;
  case SMBX_SMB2_READ:
    fs_read(x, e);
    break;
  case SMBX_SMB2_CLOSE:
    fs_close(x, e);
    break;
  case SMBX_SMB2_QUERY_DIRECTORY:
    fs_query_dir(x, e);
    break;
  default:
    assert_int_equal(smbx_server_respond_error(x->srv, e->conn, e->u.pdu.req,
                                               SMBX_STATUS_NOT_SUPPORTED, NULL,
                                               0, x->now),
                     0);
    break;
  }
}

static void srv_session(nh *x, const smbx_event *e)
{
  /* the client sends "NEGO", "AUTH1", "AUTH2"...; rounds 1..auth_rounds
   * answer MORE_PROCESSING_REQUIRED with "CHALn", then SUCCESS */
  const uint8_t *b = e->u.session.blob;
  size_t n = e->u.session.blob_len;
  char tok[16] = {0}; /* a short token ("BAD") is still read at tok + 4 */
  size_t k = n < sizeof tok - 1 ? n : sizeof tok - 1;
  memcpy(tok, b, k);
  tok[k] = 0;
  int round = strcmp(tok, "NEGO") == 0 ? 0 : atoi(tok + 4);
  if (strcmp(tok, "BAD") == 0) {
    assert_int_equal(smbx_server_session_respond(
                         x->srv, e->conn, e->u.session.req,
                         SMBX_STATUS_LOGON_FAILURE, NULL, 0, NULL, 0, 0,
                         x->now),
                     0);
    return;
  }
  if (round < x->auth_rounds) {
    char chal[16];
    int cl = snprintf(chal, sizeof chal, "CHAL%d", round + 1);
    assert_int_equal(smbx_server_session_respond(
                         x->srv, e->conn, e->u.session.req,
                         SMBX_STATUS_MORE_PROCESSING_REQUIRED,
                         (const uint8_t *)chal, (size_t)cl, NULL, 0, 0,
                         x->now),
                     0);
    return;
  }
  bool anon = (x->session_flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                                   SMBX_SMB2_SESSION_FLAG_IS_NULL)) != 0;
  if (x->auth_user)
    assert_int_equal(smbx_server_session_user(
                         x->srv, e->conn, e->u.session.req,
                         (const uint8_t *)x->auth_user, strlen(x->auth_user)),
                     0);
  int rc = smbx_server_session_respond(
      x->srv, e->conn, e->u.session.req, SMBX_STATUS_SUCCESS,
      (const uint8_t *)"DONE", 4, anon ? NULL : x->key, anon ? 0 : 16,
      x->session_flags, x->now);
  /* a binding by another user than the session's is refused by the node */
  assert_true(rc == 0 || (rc == SMBX_ERR_AUTH &&
                          (e->u.session.req_flags &
                           SMBX_SMB2_SESSION_FLAG_BINDING)));
}

static void srv_tree(nh *x, const smbx_event *e)
{
  uint8_t w[64];
  size_t wl = 0;
  const char *want = "\\\\srv\\share";
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)want, strlen(want), w,
                                        sizeof w, &wl),
                   0);
  if (e->u.tree.path_len != wl || memcmp(e->u.tree.path, w, wl) != 0) {
    assert_int_equal(smbx_server_tree_respond(x->srv, e->conn, e->u.tree.req,
                                              SMBX_STATUS_BAD_NETWORK_NAME,
                                              NULL, x->now, NULL),
                     0);
    return;
  }
  smbx_smb2_tree_connect_resp r;
  memset(&r, 0, sizeof r);
  r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
  r.share_flags = x->share_flags;
  r.maximal_access = 0x1F01FF;
  int rc = smbx_server_tree_respond(x->srv, e->conn, e->u.tree.req, 0, &r,
                                    x->now, &x->tree_id);
  /* an encrypting share is refused to a session that cannot encrypt */
  assert_true(rc == 0 || (rc == SMBX_ERR_AUTH &&
                          (x->share_flags & SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA)));
}

static void srv_drain(nh *x)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(x->srv, &e) == 1) {
    if (e.type < 16)
      x->srv_events[e.type]++;
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP:
      srv_session(x, &e);
      break;
    case SMBX_EV_TREE_CONNECT:
      srv_tree(x, &e);
      break;
    case SMBX_EV_REQUEST:
      srv_request(x, &e);
      break;
    case SMBX_EV_NEGOTIATED:
      x->srv_dialect = e.u.negotiated.dialect;
      break;
    case SMBX_EV_RDMA_DONE:
      fs_rdma_done(x, &e);
      break;
    case SMBX_EV_CANCEL:
      for (size_t i = 0; i < x->n_deferred; i++)
        if (x->deferred[i].conn == e.conn &&
            x->deferred[i].req == e.u.pdu.req)
          nh_answer_deferred(x, i, SMBX_STATUS_CANCELLED);
      break;
    case SMBX_EV_CONN_DOWN: {
      int p = pair_of_sconn(x, e.conn);
      if (p >= 0) {
        x->pair[p].sdown = true;
        x->pair[p].sdown_err = e.u.down.err;
      }
      break;
    }
    default:
      break;
    }
  }
}

/* ---- client log ------------------------------------------------------------------ */

static void cli_drain(nh *x)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(x->cli, &e) == 1) {
    assert_true(x->n_log < NH_LOG);
    nh_cev *c = &x->log[x->n_log++];
    memset(c, 0, sizeof *c);
    c->ev = e;
    const uint8_t *p = NULL;
    size_t n = 0;
    if (e.type == SMBX_EV_RESPONSE || e.type == SMBX_EV_BREAK) {
      p = e.u.pdu.data;
      n = e.u.pdu.len;
    } else if (e.type == SMBX_EV_SESSION_SETUP) {
      p = e.u.session.blob;
      n = e.u.session.blob_len;
    } else if (e.type == SMBX_EV_NEGOTIATED) {
      p = e.u.negotiated.blob;
      n = e.u.negotiated.blob_len;
    }
    if (n) {
      c->bytes = malloc(n);
      memcpy(c->bytes, p, n);
      c->len = n;
    }
    if (e.hold)
      assert_int_equal(smbx_client_release(x->cli, e.conn, e.hold, x->now), 0);
    if (e.type == SMBX_EV_CONN_DOWN)
      for (int i = 0; i < NH_PAIRS; i++)
        if (x->pair[i].used && x->pair[i].cconn == e.conn) {
          x->pair[i].cdown = true;
          x->pair[i].cdown_err = e.u.down.err;
        }
  }
}

/* ---- pumping ---------------------------------------------------------------------- */

static bool feed_side(nh *x, nh_pair *p, bool to_server)
{
  nh_pipe *q = to_server ? &p->c2s : &p->s2c;
  bool moved = false;
  while (q->off < q->len) {
    if (to_server ? p->sdown : (p->cdown || p->raw_client))
      break;
    size_t n = q->len - q->off;
    if (x->feed_max && n > x->feed_max)
      n = x->feed_max;
    smbx_ssize r = to_server
                       ? smbx_server_tcp_feed(x->srv, p->sconn, q->p + q->off,
                                              n, x->now)
                       : smbx_client_tcp_feed(x->cli, p->cconn, q->p + q->off,
                                              n, x->now);
    if (r < 0) {
      q->off = q->len;
      moved = true;
      break;
    }
    if (r == 0)
      break;
    q->off += (size_t)r;
    moved = true;
    if ((size_t)r < n)
      break;
  }
  /* the buffer is reused only when the node holds nothing in it */
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  int rc = to_server ? smbx_server_conn_info(x->srv, p->sconn, &ci)
                     : (p->raw_client
                            ? SMBX_ERR_NOTFOUND
                            : smbx_client_conn_info(x->cli, p->cconn, &ci));
  if (q->off == q->len && (rc != 0 || ci.holds == 0 || ci.err)) {
    q->len = 0;
    q->off = 0;
  }
  return moved;
}

static bool smbd_step_pair(nh *x, nh_pair *p)
{
  sim_pair sp = {x->cli, p->cconn, x->srv, p->sconn};
  int moved = sim_pair_step(p->w, &sp, x->now);
  assert_true(moved >= 0); /* every server completion is one smbx posted */
  return moved > 0;
}

static void sims_at(nh *x, uint64_t t)
{
  if (x->w)
    x->w->now = t;
  if (x->w2)
    x->w2->now = t;
}

static bool smbd_step(nh *x)
{
  bool moved = false;
  for (int i = 0; i < NH_PAIRS; i++)
    if (x->pair[i].used && x->pair[i].smbd)
      moved |= smbd_step_pair(x, &x->pair[i]);
  if (moved)
    return true;
  /* nothing due now: the virtual clock moves to the next delivery */
  uint64_t next = UINT64_MAX;
  for (int i = 0; i < NH_PAIRS; i++)
    if (x->pair[i].used && x->pair[i].smbd &&
        sim_next_time(x->pair[i].w) < next)
      next = sim_next_time(x->pair[i].w);
  if (next == UINT64_MAX)
    return false;
  x->now = next > x->now ? next : x->now;
  sims_at(x, x->now);
  return true;
}

void nh_pump(nh *x)
{
  for (int iter = 0; iter < 100000; iter++) {
    bool moved = false;
    sims_at(x, x->now);
    for (int i = 0; i < NH_PAIRS; i++) {
      nh_pair *p = &x->pair[i];
      if (!p->used || p->smbd)
        continue;
      moved |= feed_side(x, p, true);
    }
    moved |= smbd_step(x);
    size_t before = x->n_log;
    srv_drain(x);
    for (int i = 0; i < NH_PAIRS; i++) {
      nh_pair *p = &x->pair[i];
      if (!p->used || p->smbd)
        continue;
      moved |= feed_side(x, p, false);
    }
    moved |= smbd_step(x);
    srv_drain(x);
    cli_drain(x);
    if (x->n_log != before)
      moved = true;
    if (!moved)
      return;
  }
  fail_msg("nh_pump: no quiescence");
}

void nh_advance(nh *x, uint64_t t)
{
  x->now = t;
  sims_at(x, t);
  (void)smbx_server_handle_expiry(x->srv, t);
  (void)smbx_client_handle_expiry(x->cli, t);
  nh_pump(x);
}

const nh_cev *nh_wait(nh *x, uint32_t type)
{
  nh_pump(x);
  for (size_t i = x->cursor; i < x->n_log; i++)
    if (x->log[i].ev.type == type) {
      x->cursor = i + 1;
      return &x->log[i];
    }
  return NULL;
}

size_t nh_count(const nh *x, uint32_t type)
{
  size_t n = 0;
  for (size_t i = 0; i < x->n_log; i++)
    n += x->log[i].ev.type == type;
  return n;
}

const nh_cev *nh_response(nh *x, uint64_t req)
{
  nh_pump(x);
  for (size_t i = 0; i < x->n_log; i++)
    if (x->log[i].ev.type == SMBX_EV_RESPONSE && x->log[i].ev.u.pdu.req == req)
      return &x->log[i];
  fail_msg("no RESPONSE for request %llx", (unsigned long long)req);
  return NULL;
}

/* ---- flows ---------------------------------------------------------------------------- */

void nh_setup_multichannel(nh *x)
{
  nh_setup(x, true);
  x->ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  x->cs.dialects = SMBX_DIALECT_MASK_302;
}

void nh_close_pair(nh *x, int p)
{
  assert_int_equal(smbx_client_close_conn(x->cli, x->pair[p].cconn, x->now),
                   0);
  assert_int_equal(smbx_server_close_conn(x->srv, x->pair[p].sconn, x->now),
                   0);
  x->pair[p].used = false;
}

bool nh_have_openssl(void)
{
#ifdef NH_HAVE_OPENSSL
  return true;
#else
  return false;
#endif
}

int nh_start_tcp(nh *x)
{
  assert_int_equal(nh_start(x), 0);
  int p = nh_add_tcp(x, false);
  nh_negotiate(x, p);
  return p;
}

void nh_negotiate(nh *x, int p)
{
  if (x->pair[p].smbd) {
    nh_pump(x);
    assert_non_null(nh_wait(x, SMBX_EV_CONN_UP));
  }
  assert_int_equal(smbx_client_negotiate(x->cli, x->pair[p].cconn, x->now), 0);
  const nh_cev *e = nh_wait(x, SMBX_EV_NEGOTIATED);
  assert_non_null(e);
  assert_int_equal(e->ev.u.negotiated.err, 0);
}

uint64_t nh_session(nh *x, int p)
{
  uint64_t conn = x->pair[p].cconn;
  uint64_t s = 0;
  assert_int_equal(smbx_client_session_setup(x->cli, conn, &s,
                                             (const uint8_t *)"NEGO", 4,
                                             x->now),
                   0);
  assert_true(s != 0);
  for (int round = 1;; round++) {
    const nh_cev *e = nh_wait(x, SMBX_EV_SESSION_SETUP);
    assert_non_null(e);
    assert_int_equal(e->ev.u.session.err, 0);
    assert_int_equal(e->ev.u.session.session, s);
    if (e->ev.u.session.status == SMBX_STATUS_SUCCESS)
      break;
    assert_int_equal(e->ev.u.session.status,
                     SMBX_STATUS_MORE_PROCESSING_REQUIRED);
    char want[16];
    int wl = snprintf(want, sizeof want, "CHAL%d", round);
    assert_int_equal(e->len, (size_t)wl);
    assert_memory_equal(e->bytes, want, (size_t)wl);
    if (round == x->auth_rounds &&
        !(x->session_flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                              SMBX_SMB2_SESSION_FLAG_IS_NULL)))
      assert_int_equal(smbx_client_session_key(x->cli, s, x->key, 16, x->now),
                       0);
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    assert_int_equal(smbx_client_session_setup(x->cli, conn, &s,
                                               (const uint8_t *)tok,
                                               (size_t)tl, x->now),
                     0);
  }
  const nh_cev *up = nh_wait(x, SMBX_EV_SESSION_UP);
  assert_non_null(up);
  assert_int_equal(up->ev.u.session.session, s);
  return s;
}

const nh_cev *nh_session_final(nh *x, int p, uint64_t *s, bool keyless)
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
    if (keyless && round == x->auth_rounds)
      assert_int_equal(smbx_client_session_key(x->cli, *s, NULL, 0, x->now),
                       0);
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    assert_int_equal(smbx_client_session_setup(x->cli, conn, s,
                                               (const uint8_t *)tok,
                                               (size_t)tl, x->now),
                     0);
  }
}

void nh_bind(nh *x, int p, uint64_t s)
{
  uint64_t c = x->pair[p].cconn;
  assert_int_equal(smbx_client_session_bind(x->cli, c, s,
                                            (const uint8_t *)"NEGO", 4,
                                            x->now),
                   0);
  for (int round = 1;; round++) {
    const nh_cev *e = nh_wait(x, SMBX_EV_SESSION_SETUP);
    assert_non_null(e);
    assert_int_equal(e->ev.conn, c);
    assert_int_equal(e->ev.u.session.err, 0);
    if (e->ev.u.session.status == SMBX_STATUS_SUCCESS)
      break;
    assert_int_equal(e->ev.u.session.status,
                     SMBX_STATUS_MORE_PROCESSING_REQUIRED);
    char tok[16];
    int tl = snprintf(tok, sizeof tok, "AUTH%d", round);
    if (round == 1)
      assert_int_equal(smbx_client_session_bind_key(x->cli, c, s, x->key,
                                                    sizeof x->key, x->now),
                       0);
    assert_int_equal(smbx_client_session_bind(x->cli, c, s,
                                              (const uint8_t *)tok,
                                              (size_t)tl, x->now),
                     0);
  }
  const nh_cev *up = nh_wait(x, SMBX_EV_SESSION_UP);
  assert_non_null(up);
  assert_int_equal(up->ev.conn, c);
  /* up: the binding key is taken */
  assert_int_equal(smbx_client_session_bind_key(x->cli, c, s, x->key,
                                                sizeof x->key, x->now),
                   SMBX_ERR_STATE);
}

uint32_t nh_tree(nh *x, int p, uint64_t sess)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_tree_connect(x->cli, x->pair[p].cconn, sess,
                                            "\\\\srv\\share", x->now, &req),
                   0);
  const nh_cev *e = nh_wait(x, SMBX_EV_TREE_CONNECT);
  assert_non_null(e);
  assert_int_equal(e->ev.u.tree.err, 0);
  assert_int_equal(e->ev.u.tree.status, 0);
  assert_int_equal(e->ev.u.tree.share_type, SMBX_SMB2_SHARE_TYPE_DISK);
  assert_int_equal(e->ev.u.tree.tree_id, x->tree_id);
  return e->ev.u.tree.tree_id;
}

int nh_up_tcp(nh *x, bool crypto, uint64_t *sess, uint32_t *tree)
{
  nh_setup(x, crypto);
  assert_int_equal(nh_start(x), 0);
  int p = nh_add_tcp(x, false);
  nh_negotiate(x, p);
  *sess = nh_session(x, p);
  *tree = nh_tree(x, p, *sess);
  return p;
}

smbx_smb2_fileid nh_create(nh *x, int p, uint64_t sess, uint32_t tree,
                           const char *name)
{
  uint8_t w[128];
  size_t wl = 0;
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)name, strlen(name), w,
                                        sizeof w, &wl),
                   0);
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x12019F;
  c.file_attributes = 0x80;
  c.share_access = 3;
  c.create_disposition = 3; /* OPEN_IF */
  c.name.p = w;
  c.name.len = wl;
  uint64_t req = 0;
  assert_int_equal(
      smbx_client_create(x->cli, x->pair[p].cconn, sess, tree, &c, x->now, &req),
      0);
  const nh_cev *e = nh_response(x, req);
  assert_int_equal(e->ev.u.pdu.err, 0);
  assert_int_equal(e->ev.u.pdu.status, 0);
  smbx_smb2_create_resp r;
  assert_int_equal(smbx_smb2_decode_create_resp(e->bytes, e->len, &r, NULL), 0);
  return r.file_id;
}

void nh_compound_create_write_close(nh *x, int p, uint64_t sess,
                                    uint32_t tree, const char *name,
                                    const char *data, uint64_t user,
                                    uint64_t reqs[3])
{
  uint8_t w[128];
  size_t wl = 0;
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)name, strlen(name), w,
                                        sizeof w, &wl),
                   0);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.impersonation_level = 2;
  cr.desired_access = 0x12019F;
  cr.create_disposition = 3; /* OPEN_IF */
  cr.name.p = w;
  cr.name.len = wl;
  uint8_t b0[256], b1[256], b2[128];
  smbx_ssize n0 = smbx_smb2_encode_create_req(&h, &cr, b0, sizeof b0, NULL);
  smbx_smb2_fileid inherit = {UINT64_MAX, UINT64_MAX};
  smbx_smb2_write_req wr;
  memset(&wr, 0, sizeof wr);
  wr.file_id = inherit;
  wr.data.p = (const uint8_t *)data;
  wr.data.len = strlen(data);
  smbx_ssize n1 = smbx_smb2_encode_write_req(&h, &wr, b1, sizeof b1, NULL);
  smbx_smb2_close_req cl;
  memset(&cl, 0, sizeof cl);
  cl.file_id = inherit;
  smbx_ssize n2 = smbx_smb2_encode_close_req(&h, &cl, b2, sizeof b2, NULL);
  assert_true(n0 > 64 && n1 > 64 && n2 > 64);
  smbx_client_op ops[3] = {
      {SMBX_SMB2_CREATE, 0, 0, b0 + 64, (size_t)n0 - 64},
      {SMBX_SMB2_WRITE, 0, 0, b1 + 64, (size_t)n1 - 64},
      {SMBX_SMB2_CLOSE, 0, 0, b2 + 64, (size_t)n2 - 64}};
  assert_int_equal(smbx_client_compound(x->cli, x->pair[p].cconn, sess, tree,
                                        ops, 3, 1, user, x->now, reqs),
                   0);
}

void nh_compound_two_echoes(nh *x, int p, uint64_t sess, uint64_t reqs[2])
{
  static const uint8_t four[4] = {4, 0, 0, 0};
  smbx_client_op ops[2] = {{SMBX_SMB2_ECHO, 0, 0, four, 4},
                           {SMBX_SMB2_ECHO, 0, 0, four, 4}};
  assert_int_equal(smbx_client_compound(x->cli, x->pair[p].cconn, sess, 0, ops,
                                        2, 0, 0, x->now, reqs),
                   0);
}

/* ---- raw bytes -------------------------------------------------------------------------- */

void nh_raw(nh *x, int p, const uint8_t *b, size_t len)
{
  pipe_put(&x->pair[p].c2s, b, len);
}

size_t nh_frame_req(uint8_t *out, size_t cap, uint16_t cmd, uint64_t mid,
                    uint16_t charge, uint16_t credits, uint64_t sid,
                    uint32_t tid, const uint8_t *body, size_t blen)
{
  assert_true(cap >= 4 + 64 + blen);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = cmd;
  h.message_id = mid;
  h.credit_charge = charge;
  h.credits = credits;
  h.session_id = sid;
  h.tree_id = tid;
  assert_int_equal(smbx_smb2_hdr_encode(&h, out + 4, 64, NULL), 64);
  if (blen)
    memcpy(out + 68, body, blen);
  assert_int_equal(smbx_tcp_encode_prefix(out, 4, 64 + blen), 4);
  return 68 + blen;
}
