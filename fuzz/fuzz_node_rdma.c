/* SPDX-License-Identifier: MIT */
/* fuzz_node_rdma: a whole server node over SMB Direct on the simulated
 * NIC (tests/sim), after SMB Direct negotiate + NEGOTIATE + SESSION_SETUP
 * + TREE_CONNECT driven by a real client node, fed input-chosen READ and
 * WRITE requests: any Channel, descriptor lists aimed at the client's
 * registered regions (right or wrong keys, offsets and lengths) or raw,
 * hostile RemainingBytes / Length / channel-info fields, patched bytes.
 * The server host answers RDMA requests at once, holds them and answers
 * later (push/pull with 1-4 elements, short READs, errors), and answers
 * WRITEs at SMBX_EV_RDMA_DONE; the input also injects NIC faults (failed
 * posts, error completions, delays), partial progress and disconnects.
 *
 * Oracle (abort on violation), beyond memory safety and leaks:
 *  - every RDMA operation the server posts names host memory inside the
 *    host's registered file region with its handle, and a remote range
 *    inside one descriptor some request carried with that token (an
 *    engine never touches memory nobody offered);
 *  - guard bytes around the host's and the client's registered regions
 *    never change (the NIC only moves bytes inside registrations);
 *  - every transfer the host started ends with exactly one
 *    SMBX_EV_RDMA_DONE: never more, and all of them once the server's
 *    connection is down.
 * Always ends with smbx_server_free / smbx_client_free. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "../tests/sim/pair.h"
#include "../tests/sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RBUFS 32
#define RECV_SIZE 8192
#define FILE_LEN 65536u
#define GUARD 64u
#define NREG 4
#define REG_LEN 16384u
#define NHELD 8
#define NDESC_LOG 512
#define MAX_OPS 48

typedef struct fz {
  const uint8_t *in;
  size_t n, at;
  sim *w;
  smbx_transport t[2];
  smbx_transport real_srv; /* the sim's hooks behind the checking wrapper */
  smbx_server *srv;
  smbx_client *cli;
  uint64_t sconn, cconn, sess, now;
  uint32_t tree;
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rb[2][RBUFS];
  /* server host: its file, registered once, between guards */
  uint8_t *file_mem, *file;
  smbx_mr file_mr;
  int host_mode; /* 0 answer at once, 1 hold, 2 refuse */
  struct {
    uint64_t conn, req;
    uint16_t cmd;
    uint64_t off;
    uint32_t len;
  } held[NHELD];
  size_t nheld;
  /* client memory: NREG regions between guards, re-registered when the
   * server invalidated their key */
  uint8_t *cmem;
  smbx_mr reg[NREG];
  bool reg_live[NREG];
  /* every descriptor any request carried (the remote-range oracle) */
  smbx_smb2_buffer_desc dlog[NDESC_LOG];
  size_t ndlog;
  bool dlog_full;
  uint64_t started, ended;
  bool conn_up, sdown;
} fz;

static fz *g; /* the wrapper hooks reach the harness through it */

static void srv_drain(fz *f);
static void cli_drain(fz *f);

#include "fuzz_node_sim.h"

/* ---- the checking NIC wrapper (server side) ------------------------------ */

static void check_op(const smbx_sge *sg, size_t n, uint64_t raddr,
                     uint32_t rkey)
{
  fz *f = g;
  uint64_t len = 0;
  for (size_t k = 0; k < n; k++) {
    const uint8_t *p = sg[k].addr;
    if (sg[k].handle != f->file_mr.handle || p < f->file ||
        (size_t)(p - f->file) > FILE_LEN ||
        sg[k].length > FILE_LEN - (size_t)(p - f->file))
      abort(); /* host memory the host never handed over */
    len += sg[k].length;
  }
  if (f->dlog_full)
    return;
  for (size_t i = 0; i < f->ndlog; i++) {
    const smbx_smb2_buffer_desc *d = &f->dlog[i];
    if (d->token == rkey && raddr >= d->offset &&
        raddr - d->offset <= d->length && len <= d->length - (raddr - d->offset))
      return;
  }
  abort(); /* a remote range no descriptor offered */
}

static int w_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
                       uint64_t raddr, uint32_t rkey)
{
  check_op(sg, n, raddr, rkey);
  return g->real_srv.rdma_read(ud, wr_id, sg, n, raddr, rkey);
}

static int w_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n, uint64_t raddr, uint32_t rkey)
{
  check_op(sg, n, raddr, rkey);
  return g->real_srv.rdma_write(ud, wr_id, sg, n, raddr, rkey);
}

/* ---- server host ---------------------------------------------------------- */

static void transfer(fz *f, uint64_t conn, uint64_t req, uint16_t cmd,
                     uint64_t off, uint32_t len)
{
  if (off >= FILE_LEN || len > FILE_LEN - off) {
    (void)smbx_server_respond_error(f->srv, conn, req,
                                    SMBX_STATUS_END_OF_FILE, NULL, 0, f->now);
    return;
  }
  uint8_t shape = take(f);
  uint32_t n = 1u + (shape & 3u);
  if (cmd == SMBX_SMB2_READ && (shape & 4) && len > 1)
    len -= 1u + (uint32_t)(take16(f) % (len - 1)); /* a short READ */
  if (n > len)
    n = len ? len : 1;
  smbx_sge sg[4];
  uint32_t at = 0, per = len / n;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t l = i + 1 == n ? len - at : per;
    sg[i].addr = f->file + off + at;
    sg[i].length = l;
    sg[i].reserved = 0;
    sg[i].handle = f->file_mr.handle;
    at += l;
  }
  int rc = cmd == SMBX_SMB2_READ
               ? smbx_server_rdma_push(f->srv, conn, req, sg, n, f->now)
               : smbx_server_rdma_pull(f->srv, conn, req, sg, n, f->now);
  /* a failed post (SMBX_ERR_TRANSPORT) started the transfer too: it
   * ends with SMBX_EV_RDMA_DONE (err < 0) as the connection goes down */
  if (rc == 0 || rc == SMBX_ERR_TRANSPORT)
    f->started++;
  if (rc != 0)
    (void)smbx_server_respond_error(f->srv, conn, req,
                                    SMBX_STATUS_INVALID_PARAMETER, NULL, 0,
                                    f->now);
}

static void rdma_request(fz *f, const smbx_event *e)
{
  uint16_t cmd = e->u.pdu.hdr.command;
  uint64_t off = 0;
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    if (smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &r, NULL))
      abort(); /* the node validated it */
    off = r.offset;
  } else {
    smbx_smb2_write_req w;
    if (smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len, &w, NULL))
      abort();
    off = w.offset;
  }
  if (e->u.pdu.rdma_length == 0 || !e->u.pdu.rdma_descs ||
      e->u.pdu.rdma_desc_count == 0)
    abort();
  if (f->host_mode == 1 && f->nheld < NHELD) {
    f->held[f->nheld].conn = e->conn;
    f->held[f->nheld].req = e->u.pdu.req;
    f->held[f->nheld].cmd = cmd;
    f->held[f->nheld].off = off;
    f->held[f->nheld].len = e->u.pdu.rdma_length;
    f->nheld++;
    return;
  }
  if (f->host_mode == 2) {
    (void)smbx_server_respond_error(f->srv, e->conn, e->u.pdu.req,
                                    SMBX_STATUS_ACCESS_DENIED, NULL, 0, f->now);
    return;
  }
  transfer(f, e->conn, e->u.pdu.req, cmd, off, e->u.pdu.rdma_length);
}

static void answer_write(fz *f, uint64_t conn, uint64_t req, uint32_t count)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = count;
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &rs, out, sizeof out, NULL);
  if (n <= 64)
    abort();
  (void)smbx_server_respond(f->srv, conn, req, 0, out + 64, (size_t)n - 64,
                            f->now);
}

static void srv_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(f->srv, &e) == 1) {
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP:
      (void)smbx_server_session_respond(f->srv, e.conn, e.u.session.req, 0,
                                        NULL, 0, NULL, 0,
                                        SMBX_SMB2_SESSION_FLAG_IS_NULL,
                                        f->now);
      break;
    case SMBX_EV_TREE_CONNECT: {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
      r.maximal_access = 0x1F01FF;
      (void)smbx_server_tree_respond(f->srv, e.conn, e.u.tree.req, 0, &r,
                                     f->now, NULL);
      break;
    }
    case SMBX_EV_REQUEST:
      if (e.flags & SMBX_EVF_RDMA)
        rdma_request(f, &e);
      else
        (void)smbx_server_respond_error(f->srv, e.conn, e.u.pdu.req,
                                        SMBX_STATUS_NOT_SUPPORTED, NULL, 0,
                                        f->now);
      break;
    case SMBX_EV_RDMA_DONE:
      if (++f->ended > f->started)
        abort(); /* a transfer ended twice (or one never started) */
      if (e.u.pdu.err == 0 && e.u.pdu.hdr.command == SMBX_SMB2_WRITE) {
        if (take(f) & 1)
          answer_write(f, e.conn, e.u.pdu.req, e.u.pdu.rdma_length);
        else
          (void)smbx_server_respond_error(f->srv, e.conn, e.u.pdu.req,
                                          SMBX_STATUS_DISK_FULL, NULL, 0,
                                          f->now);
      }
      break;
    case SMBX_EV_CONN_DOWN:
      f->sdown = true;
      break;
    default:
      break;
    }
  }
}

static void cli_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(f->cli, &e) == 1) {
    if (e.type == SMBX_EV_CONN_UP)
      f->conn_up = true;
    else if (e.type == SMBX_EV_SESSION_UP)
      f->sess = e.u.session.session;
    else if (e.type == SMBX_EV_TREE_CONNECT)
      f->tree = e.u.tree.tree_id;
    if (e.hold)
      (void)smbx_client_release(f->cli, e.conn, e.hold, f->now);
  }
}

/* ---- client side: regions and requests ------------------------------------ */

/* Logs the descriptors the request carries as sent (after patching),
 * decoded the way the server decodes them. */
static void log_descs(fz *f, uint16_t cmd, const uint8_t *pdu, size_t len)
{
  smbx_smb2_desc_list l;
  memset(&l, 0, sizeof l);
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    if (smbx_smb2_decode_read_req(pdu, len, &r, NULL) == 0)
      l = r.descs;
  } else {
    smbx_smb2_write_req w;
    if (smbx_smb2_decode_write_req(pdu, len, &w, NULL) == 0)
      l = w.descs;
  }
  for (uint32_t i = 0; i < l.count; i++) {
    if (f->ndlog == NDESC_LOG) {
      f->dlog_full = true;
      return;
    }
    if (smbx_smb2_desc_list_get(&l, i, &f->dlog[f->ndlog]) == 0)
      f->ndlog++;
  }
}

static void request(fz *f, uint16_t cmd)
{
  static const uint32_t channels[4] = {
      SMBX_SMB2_CHANNEL_NONE, SMBX_SMB2_CHANNEL_RDMA_V1,
      SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE, SMBX_SMB2_CHANNEL_RDMA_TRANSFORM};
  uint8_t sel = take(f);
  uint32_t channel = (sel & 7) < 4 ? channels[sel & 3]
                     : (sel & 7) < 6 ? channels[2]
                                     : take32(f);
  uint8_t ci[16 * 8];
  uint32_t sum = 0;
  static const desc_shape shape = {9, true, REG_LEN};
  size_t cl = build_descs(f, &shape, ci, sizeof ci, &sum);
  uint32_t length = (sel & 0x10) ? take32(f) : sum;
  uint64_t off = take16(f);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_fileid fid = {1, 2};
  uint8_t pdu[64 + 48 + sizeof ci + 8];
  smbx_ssize n;
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    memset(&r, 0, sizeof r);
    r.padding = 0x50;
    r.length = length;
    r.offset = off;
    r.file_id = fid;
    r.channel = channel;
    r.remaining_bytes = (sel & 0x20) ? take32(f) : 0;
    r.channel_info.p = cl ? ci : NULL;
    r.channel_info.len = cl;
    n = smbx_smb2_encode_read_req(&h, &r, pdu, sizeof pdu, NULL);
  } else {
    smbx_smb2_write_req w;
    memset(&w, 0, sizeof w);
    w.offset = off;
    w.file_id = fid;
    w.channel = channel;
    w.remaining_bytes = (sel & 0x20) ? take32(f) : length;
    w.channel_info.p = cl ? ci : NULL;
    w.channel_info.len = cl;
    n = smbx_smb2_encode_write_req(&h, &w, pdu, sizeof pdu, NULL);
  }
  if (n <= 64)
    return;
  /* hostile layouts: patch a few body bytes */
  for (int k = (sel & 0x40) ? 1 + take(f) % 3 : 0; k > 0; k--) {
    size_t at = 64 + take(f) % ((size_t)n - 64);
    pdu[at] = take(f);
  }
  log_descs(f, cmd, pdu, (size_t)n);
  uint64_t req;
  (void)smbx_client_request(f->cli, f->cconn, f->sess, f->tree, cmd,
                            pdu + 64, (size_t)n - 64, 0, f->now, &req);
}

static void release_held(fz *f)
{
  if (!f->nheld)
    return;
  size_t i = take(f) % f->nheld;
  uint8_t how = take(f) % 3;
  if (how == 0)
    (void)smbx_server_respond_error(f->srv, f->held[i].conn, f->held[i].req,
                                    SMBX_STATUS_ACCESS_DENIED, NULL, 0,
                                    f->now);
  else
    transfer(f, f->held[i].conn, f->held[i].req, f->held[i].cmd,
             f->held[i].off, f->held[i].len);
  f->held[i] = f->held[--f->nheld];
}

static void fault(fz *f)
{
  uint8_t k = take(f);
  sim_ep *s = &f->w->ep[1];
  switch (k % 5) {
  case 0:
    s->fail_rdma_completion = 1u + take(f) % 4u;
    break;
  case 1:
    s->fail_post_rdma = 1u + take(f) % 4u;
    break;
  case 2:
    s->rdma_delay_ns = (uint64_t)take(f) * 1000u;
    break;
  case 3:
    s->fail_post_send = 1u + take(f) % 8u;
    break;
  default:
    f->w->reorder = !f->w->reorder;
    break;
  }
}

/* ---- setup and one input ----------------------------------------------------- */

static bool setup(fz *f, uint8_t cfg)
{
  f->w = sim_new(1000);
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.max_read_size = FILE_LEN;
  ss.max_write_size = FILE_LEN;
  static const uint32_t op_sizes[4] = {1u << 20, 4096, 1000, 16384};
  static const uint32_t max_ops[4] = {64, 1, 2, 5};
  ss.rdma_max_op_size = op_sizes[cfg & 3];
  ss.rdma_max_ops = max_ops[(cfg >> 2) & 3];
  ss.rdma_max_sge = 1u + ((cfg >> 4) & 3) * 5u;
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  static const uint32_t dialects[4] = {
      SMBX_DIALECT_MASK_302, SMBX_DIALECT_MASK_300, SMBX_DIALECT_MASK_210,
      SMBX_DIALECT_MASK_302 | SMBX_DIALECT_MASK_300};
  cs.dialects = dialects[cfg >> 6];
  if (smbx_server_new(&f->srv, &ss, NULL, NULL, 0) ||
      smbx_client_new(&f->cli, &cs, NULL, NULL, 0))
    return false;
  smbx_smbd_settings st[2];
  sim_pair_smbd_settings(st, RBUFS);
  for (int k = 0; k < 2; k++) {
    st[k].max_recv_size = RECV_SIZE;
    st[k].max_read_write_size = FILE_LEN;
    /* small messages only (RDMA moves the data): keep the per-input
     * allocations small */
    st[k].send_buffers = 64;
    st[k].max_fragmented_recv_size = 131072; /* the least a peer takes */
    f->t[k] = sim_transport(f->w, k);
    f->rmem[k] = sim_pair_lend(f->rb[k], RBUFS, RECV_SIZE);
    if (!f->rmem[k])
      abort();
  }
  /* the server's RDMA posts go through the checking wrapper */
  f->real_srv = f->t[1];
  smbx_transport ts = f->t[1];
  ts.rdma_read = w_rdma_read;
  ts.rdma_write = w_rdma_write;
  f->file_mem = malloc(FILE_LEN + 2 * GUARD);
  if (!f->file_mem || !cmem_alloc(f))
    abort();
  memset(f->file_mem, 0xA5, FILE_LEN + 2 * GUARD);
  f->file = f->file_mem + GUARD;
  if (f->t[1].register_mr(f->t[1].user_data, f->file, FILE_LEN,
                          SMBX_MR_LOCAL_WRITE, &f->file_mr))
    abort();
  sim_pair p = {f->cli, 0, f->srv, 0};
  int rc = sim_pair_connect(&p, st, &f->t[0], &ts, f->rb[0], f->rb[1], RBUFS,
                            0);
  f->cconn = p.cconn;
  f->sconn = p.sconn;
  if (rc)
    return false;
  pump(f);
  if (!f->conn_up || smbx_client_negotiate(f->cli, f->cconn, f->now))
    return false;
  pump(f);
  uint64_t sess = 0;
  if (smbx_client_session_setup(f->cli, f->cconn, &sess,
                                (const uint8_t *)"HI", 2, f->now))
    return false;
  pump(f);
  if (!f->sess || smbx_client_tree_connect(f->cli, f->cconn, f->sess,
                                           "\\\\srv\\share", f->now, NULL))
    return false;
  pump(f);
  return f->tree != 0;
}

static bool guards_intact(const fz *f)
{
  for (size_t i = 0; i < GUARD; i++)
    if (f->file_mem[i] != 0xA5 || f->file_mem[GUARD + FILE_LEN + i] != 0xA5)
      return false;
  return cmem_guards_intact(f);
}

static void teardown(fz *f)
{
  smbx_client_free(f->cli);
  smbx_server_free(f->srv);
  if (f->file_mem && f->w) {
    if (f->file_mr.key)
      f->t[1].deregister_mr(f->t[1].user_data, &f->file_mr);
    cmem_deregister(f);
  }
  sim_free(f->w);
  free(f->file_mem);
  free(f->cmem);
  free(f->rmem[0]);
  free(f->rmem[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  static fz f;
  memset(&f, 0, sizeof f);
  g = &f;
  f.in = data;
  f.n = size;
  f.at = 1;
  if (!setup(&f, data[0])) {
    teardown(&f);
    return 0;
  }
  for (int ops = 0; ops < MAX_OPS && f.at < f.n; ops++) {
    switch (take(&f) % 8) {
    case 0:
      request(&f, SMBX_SMB2_READ);
      break;
    case 1:
      request(&f, SMBX_SMB2_WRITE);
      break;
    case 2:
      pump(&f);
      break;
    case 3:
      f.now += (uint64_t)take(&f) * 500u;
      (void)step(&f);
      break;
    case 4:
      fault(&f);
      break;
    case 5:
      release_held(&f);
      break;
    case 6:
      if (take(&f) & 1)
        sim_disconnect(f.w);
      break;
    default:
      f.host_mode = take(&f) % 3;
      break;
    }
  }
  f.host_mode = 0;
  while (f.nheld && !f.sdown) {
    pump(&f);
    release_held(&f);
  }
  pump(&f);
  if (!guards_intact(&f))
    abort(); /* bytes moved outside a registered region */
  if (f.sdown && f.ended != f.started)
    abort(); /* a transfer never ended on a dead connection */
  teardown(&f);
  return 0;
}
