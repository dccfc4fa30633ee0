/* SPDX-License-Identifier: MIT */
/* fuzz_node_vmo: a server node over SMB Direct on the simulated NIC
 * (tests/sim) with live memory objects (include/smbx/vmo.h): the server
 * host offers every event to smbx_server_vmo_route() first. A real client
 * node sets up SMB Direct, NEGOTIATE, SESSION_SETUP and TREE_CONNECT; the
 * input then sends CREATEs of object paths (right, one digit guessed,
 * truncated, the namespace directory, raw bytes, the :dirty stream), READ/WRITE/QUERY_INFO/
 * CLOSE on the FileIds it got or on made-up ones (QUERY_INFO of any type,
 * class and output length), with any offset, length,
 * Channel and descriptor list (aimed at the client's registered regions
 * with right or wrong keys, or raw), marks pages dirty, revokes objects
 * and reduces rights mid-I/O, injects NIC faults and disconnects.
 *
 * Oracle (abort on violation), beyond memory safety and leaks:
 *  - every RDMA operation the server posts names host memory inside a
 *    block of an object whose blocks were not given back yet, with that
 *    block's registration handle (or an object's whole dirty record), and
 *    at most OP_SGE elements (a transfer over more blocks is split);
 *  - guard bytes between the blocks and around the client's regions never
 *    change;
 *  - when everything is quiet no transfer holds a pin, and every object
 *    destroyed is released exactly once;
 *  - a CREATE never opens an object the session may not: another
 *    session's, another user's, or a user's from a guest session (the
 *    host names the session's user, or answers it as a guest);
 *  - a QUERY_INFO answer never carries more than the output length asked.
 * Always ends with smbx_server_free / smbx_client_free / smbx_vmo_free. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>
#include <smbx/vmo.h>

#include "../tests/sim/pair.h"
#include "../tests/sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RBUFS 32
#define RECV_SIZE 8192
#define MAX_IO 65536u
#define ARENA 393216u
#define NOBJ 5
#define USER "FZ\\alice"
#define NQI 16
/* elements per RDMA operation: a transfer over three blocks takes two */
#define OP_SGE 2u
#define NBLK 3
#define NREG 4
#define REG_LEN 16384u
#define GUARD 64u
#define NFID 8
#define MAX_OPS 48

typedef struct fz {
  const uint8_t *in;
  size_t n, at;
  sim *w;
  smbx_transport t[2];
  smbx_transport real_srv;
  smbx_server *srv;
  smbx_client *cli;
  smbx_vmo_table *tbl;
  uint64_t sconn, cconn, sess, wire_sess, now;
  uint32_t tree;
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rb[2][RBUFS];
  /* host memory: objects' blocks carved from one arena, guards between */
  uint8_t *arena;
  smbx_vmo_block blk[NOBJ][NBLK];
  uint64_t id[NOBJ];
  bool live[NOBJ], released[NOBJ];
  uint32_t rnd;
  /* client memory */
  uint8_t *cmem;
  smbx_mr reg[NREG];
  bool reg_live[NREG];
  /* FileIds the CREATE responses gave */
  uint64_t create_req[NFID];
  smbx_smb2_fileid fid[NFID];
  size_t nfid, ncreate;
  bool conn_up;
  bool guest; /* the session is a guest's, else USER's */
  /* QUERY_INFO requests in flight and the output length each asked */
  uint64_t qi_req[NQI];
  uint32_t qi_len[NQI];
  size_t qi_n;
} fz;

static fz *g;

static void srv_drain(fz *f);
static void cli_drain(fz *f);

#include "fuzz_node_sim.h"

/* ---- the oracle at the NIC ---------------------------------------------- */

static void check_op(const smbx_sge *sg, size_t n)
{
  fz *f = g;
  if (n > OP_SGE)
    abort(); /* more elements than one operation may carry */
  for (size_t k = 0; k < n; k++) {
    const uint8_t *p = sg[k].addr;
    bool ok = false;
    for (int o = 0; o < NOBJ && !ok; o++) {
      if (f->released[o] || !f->id[o])
        continue;
      for (int b = 0; b < NBLK && !ok; b++) {
        const uint8_t *a = f->blk[o][b].addr;
        const sim_mr *m = NULL;
        ok = p >= a && sg[k].length <= f->blk[o][b].length &&
             (size_t)(p - a) <= f->blk[o][b].length - sg[k].length;
        if (ok)
          for (uint32_t i = 0; i < SIM_MAX_MR && !m; i++)
            if (f->w->mr[i].live && f->w->mr[i].handle == sg[k].handle)
              m = &f->w->mr[i];
        ok = ok && m && m->addr == a;
      }
    }
    /* an object's dirty record: a whole registration of the server side
     * that is none of the blocks */
    for (uint32_t i = 0; i < SIM_MAX_MR && !ok; i++) {
      const sim_mr *m = &f->w->mr[i];
      ok = m->live && m->ep == 1 && m->handle == sg[k].handle &&
           m->addr == p && m->len == sg[k].length &&
           !(p >= f->arena && p < f->arena + ARENA);
    }
    if (!ok)
      abort(); /* memory no live object binds, or the wrong registration */
  }
}

static int w_rdma_read(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
                       uint64_t raddr, uint32_t rkey)
{
  check_op(sg, n);
  return g->real_srv.rdma_read(ud, wr_id, sg, n, raddr, rkey);
}

static int w_rdma_write(void *ud, uint64_t wr_id, const smbx_sge *sg,
                        size_t n, uint64_t raddr, uint32_t rkey)
{
  check_op(sg, n);
  return g->real_srv.rdma_write(ud, wr_id, sg, n, raddr, rkey);
}

static int fz_random(void *ud, uint8_t *buf, size_t len)
{
  fz *f = ud;
  for (size_t i = 0; i < len; i++) {
    f->rnd = f->rnd * 1103515245u + 12345u;
    buf[i] = (uint8_t)(f->rnd >> 16);
  }
  return 0;
}

/* ---- hosts ----------------------------------------------------------------- */

static void drain_vmo(fz *f)
{
  smbx_vmo_event e;
  e.struct_size = sizeof e;
  while (smbx_vmo_next_event(f->tbl, &e) == 1) {
    int o = (int)e.cookie;
    if (e.type != SMBX_VMO_EV_RELEASED || o < 0 || o >= NOBJ ||
        f->live[o] || f->released[o] || e.id != f->id[o])
      abort(); /* released twice, or while live */
    f->released[o] = true;
  }
}

static void srv_drain(fz *f)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(f->srv, &e) == 1) {
    int rc = smbx_server_vmo_route(f->srv, f->tbl, &e, f->now);
    drain_vmo(f);
    if (rc == 1)
      continue;
    switch (e.type) {
    case SMBX_EV_SESSION_SETUP:
      f->wire_sess = e.u.session.session_id;
      /* the user is named either way: a guest must still match nobody */
      (void)smbx_server_session_user(f->srv, e.conn, e.u.session.req,
                                     (const uint8_t *)USER, strlen(USER));
      (void)smbx_server_session_respond(
          f->srv, e.conn, e.u.session.req, 0, NULL, 0, NULL, 0,
          f->guest ? SMBX_SMB2_SESSION_FLAG_IS_GUEST : 0, f->now);
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
      /* not a memory object: this host has no files */
      (void)smbx_server_respond_error(f->srv, e.conn, e.u.pdu.req,
                                      SMBX_STATUS_OBJECT_NAME_NOT_FOUND, NULL,
                                      0, f->now);
      break;
    case SMBX_EV_RDMA_DONE:
      abort(); /* only memory objects start transfers here */
    default:
      break;
    }
  }
}

/* Object 2 is another session's, 3 USER's, 4 another user's. */
static void check_opener(const fz *f, smbx_smb2_fileid fid)
{
  uint64_t id = 0;
  if (fid.persistent_id != SMBX_VMO_FILEID_TAG ||
      smbx_vmo_open_info(f->tbl, fid.volatile_id, &id, NULL, NULL) !=
          SMBX_STATUS_SUCCESS)
    return;
  if (id == f->id[2] || id == f->id[4] || (id == f->id[3] && f->guest))
    abort(); /* opened by a session the object does not allow */
}

static void check_query_info(fz *f, const smbx_event *e)
{
  for (size_t i = 0; i < f->qi_n; i++) {
    if (f->qi_req[i] != e->u.pdu.req)
      continue;
    uint32_t asked = f->qi_len[i];
    f->qi_req[i] = f->qi_req[--f->qi_n];
    f->qi_len[i] = f->qi_len[f->qi_n];
    smbx_smb2_output_resp r;
    uint32_t st = e->u.pdu.status;
    if ((st == 0 || st == SMBX_STATUS_BUFFER_OVERFLOW) &&
        smbx_smb2_decode_query_info_resp(e->u.pdu.data, e->u.pdu.len, &r,
                                         NULL) == 0 &&
        r.output.len > asked)
      abort(); /* more than the client made room for */
    return;
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
    else if (e.type == SMBX_EV_RESPONSE && e.u.pdu.status == 0 &&
             e.u.pdu.hdr.command == SMBX_SMB2_CREATE) {
      smbx_smb2_create_resp r;
      if (smbx_smb2_decode_create_resp(e.u.pdu.data, e.u.pdu.len, &r,
                                       NULL) == 0) {
        check_opener(f, r.file_id);
        if (f->nfid < NFID)
          f->fid[f->nfid++] = r.file_id;
      }
    } else if (e.type == SMBX_EV_RESPONSE &&
               e.u.pdu.hdr.command == SMBX_SMB2_QUERY_INFO) {
      check_query_info(f, &e);
    }
    if (e.hold)
      (void)smbx_client_release(f->cli, e.conn, e.hold, f->now);
  }
}

/* ---- requests ---------------------------------------------------------------- */

static smbx_smb2_fileid pick_fid(fz *f)
{
  uint8_t s = take(f);
  if (f->nfid && s < 224)
    return f->fid[s % f->nfid];
  smbx_smb2_fileid id;
  id.persistent_id = s & 1 ? SMBX_VMO_FILEID_TAG : take32(f);
  id.volatile_id = (uint64_t)take32(f) << 32 | take32(f);
  return id;
}

static void create(fz *f)
{
  uint8_t name[2 * SMBX_VMO_PATH_MAX + 8];
  size_t len = 0;
  uint8_t s = take(f);
  int o = s % NOBJ;
  if (!f->id[o] || smbx_vmo_path(f->tbl, f->id[o], NULL, 0, NULL, name,
                                 sizeof name, &len) != 0) {
    /* a revoked object's path: keep trying a plausible shape */
    memcpy(name, "s\0m\0b\0x\0-\0v\0m\0o\0\\\0", 18);
    len = 18;
  }
  switch ((s >> 2) & 7) {
  case 0: /* a guessed digit */
    if (len > 18)
      name[18 + 2 * (take(f) % ((len - 18) / 2))] = (uint8_t)"0123456789abcdefg"[take(f) % 17];
    break;
  case 1: /* truncated */
    len = 2 * (take(f) % (len / 2 + 1));
    break;
  case 2: /* raw bytes */
    len = take(f) % sizeof name;
    for (size_t i = 0; i < len; i++)
      name[i] = take(f);
    break;
  case 4: /* its dirty stream */
    if (len + 12 <= sizeof name) {
      memcpy(name + len, ":\0d\0i\0r\0t\0y\0", 12);
      len += 12;
    }
    break;
  default:
    break;
  }
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = s & 0x20 ? take32(f) : 0x3;
  c.share_access = 7;
  c.create_disposition = s & 0x40 ? take(f) % 6u : 1u;
  c.name.p = name;
  c.name.len = len;
  uint64_t req;
  (void)smbx_client_create(f->cli, f->cconn, f->sess, f->tree, &c, f->now,
                           &req);
}

static void io(fz *f, uint16_t cmd)
{
  uint8_t sel = take(f);
  smbx_smb2_fileid fid = pick_fid(f);
  uint64_t off = sel & 0x80 ? (uint64_t)take32(f) << 16 | take16(f)
                            : take32(f) % (ARENA + 4096);
  uint8_t ci[16 * 6];
  uint32_t sum = 0;
  static const desc_shape shape = {6, false, REG_LEN - 4096u};
  size_t cl = (sel & 3) ? build_descs(f, &shape, ci, sizeof ci, &sum) : 0;
  uint32_t channel = (sel & 3) == 0   ? SMBX_SMB2_CHANNEL_NONE
                     : (sel & 3) == 1 ? SMBX_SMB2_CHANNEL_RDMA_V1
                     : (sel & 3) == 2 ? SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE
                                      : take32(f);
  uint32_t length = sel & 0x10 ? take32(f) : cl ? sum : take16(f) % 2048u;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[64 + 48 + 2048 + sizeof ci + 8];
  smbx_ssize n;
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req r;
    memset(&r, 0, sizeof r);
    r.padding = 0x50;
    r.length = length;
    r.offset = off;
    r.file_id = fid;
    r.channel = channel;
    r.channel_info.p = cl ? ci : NULL;
    r.channel_info.len = cl;
    n = smbx_smb2_encode_read_req(&h, &r, pdu, sizeof pdu, NULL);
  } else {
    smbx_smb2_write_req w;
    memset(&w, 0, sizeof w);
    static uint8_t junk[2048];
    w.offset = off;
    w.file_id = fid;
    w.channel = channel;
    if (cl) {
      w.remaining_bytes = length;
      w.channel_info.p = ci;
      w.channel_info.len = cl;
    } else {
      w.data.p = junk;
      w.data.len = length % sizeof junk;
    }
    n = smbx_smb2_encode_write_req(&h, &w, pdu, sizeof pdu, NULL);
  }
  if (n <= 64)
    return;
  uint64_t req;
  (void)smbx_client_request(f->cli, f->cconn, f->sess, f->tree, cmd, pdu + 64,
                            (size_t)n - 64, 0, f->now, &req);
}

static void info_or_close(fz *f)
{
  uint8_t sel = take(f);
  smbx_smb2_fileid fid = pick_fid(f);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[256];
  smbx_ssize n;
  uint16_t cmd;
  if (sel & 1) {
    smbx_smb2_query_info_req q;
    memset(&q, 0, sizeof q);
    q.info_type = take(f) % 5;
    q.file_info_class = take(f);
    q.output_buffer_length = take16(f);
    q.file_id = fid;
    n = smbx_smb2_encode_query_info_req(&h, &q, pdu, sizeof pdu, NULL);
    cmd = SMBX_SMB2_QUERY_INFO;
  } else {
    smbx_smb2_close_req c;
    memset(&c, 0, sizeof c);
    c.flags = sel & 2 ? SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB : 0;
    c.file_id = fid;
    n = smbx_smb2_encode_close_req(&h, &c, pdu, sizeof pdu, NULL);
    cmd = SMBX_SMB2_CLOSE;
  }
  uint64_t req = 0;
  if (n > 64 &&
      smbx_client_request(f->cli, f->cconn, f->sess, f->tree, cmd, pdu + 64,
                          (size_t)n - 64, 0, f->now, &req) == 0 &&
      cmd == SMBX_SMB2_QUERY_INFO && f->qi_n < NQI) {
    f->qi_req[f->qi_n] = req;
    f->qi_len[f->qi_n++] = (uint32_t)(pdu[64 + 4] | pdu[64 + 5] << 8);
  }
}

static void owner(fz *f)
{
  uint8_t s = take(f);
  int o = s % NOBJ;
  if (!f->live[o])
    return;
  if ((s & 0x60) == 0x60) {
    (void)smbx_vmo_mark_dirty(f->tbl, f->id[o], take32(f) % ARENA,
                              1u + take16(f));
  } else if (s & 4) {
    (void)smbx_vmo_destroy(f->tbl, f->id[o]);
    f->live[o] = false;
    drain_vmo(f);
  } else {
    (void)smbx_vmo_set_access(f->tbl, f->id[o], (s >> 3) & 3u);
  }
}

static void fault(fz *f)
{
  uint8_t k = take(f);
  sim_ep *s = &f->w->ep[1];
  switch (k % 4) {
  case 0:
    s->fail_rdma_completion = 1u + take(f) % 4u;
    break;
  case 1:
    s->fail_post_rdma = 1u + take(f) % 4u;
    break;
  case 2:
    s->rdma_delay_ns = (uint64_t)take(f) * 1000u;
    break;
  default:
    sim_disconnect(f->w);
    break;
  }
}

/* ---- setup and one input ------------------------------------------------------ */

static bool bind_objects(fz *f)
{
  /* blocks of 4 KiB..20 KiB, 64 bytes of guard between any two */
  size_t at = GUARD;
  for (int o = 0; o < NOBJ; o++) {
    for (int b = 0; b < NBLK; b++) {
      size_t len = 4096u + (size_t)(take16(f) % 16384u);
      f->blk[o][b].addr = f->arena + at;
      f->blk[o][b].length = len;
      at += len + GUARD;
    }
    smbx_vmo_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.blocks = f->blk[o];
    sp.n_blocks = NBLK;
    /* object 0 read-write, 1 read-only, 2 someone else's session, 3 the
     * session's user's, 4 another user's */
    sp.access = o == 1 ? SMBX_VMO_READ : SMBX_VMO_READ | SMBX_VMO_WRITE;
    uint64_t allowed = o == 2 ? f->wire_sess + 1 : f->wire_sess;
    smbx_vmo_user u = {(const uint8_t *)(o == 3 ? USER : "FZ\\bob"),
                       o == 3 ? strlen(USER) : 6};
    if (o < 3) {
      sp.sessions = &allowed;
      sp.n_sessions = 1;
    } else {
      sp.users = &u;
      sp.n_users = 1;
    }
    sp.cookie = (uint64_t)o;
    if (smbx_vmo_create(f->tbl, &sp, &f->id[o]) != 0)
      return false;
    f->live[o] = true;
  }
  return at <= ARENA;
}

static bool setup(fz *f)
{
  f->w = sim_new(1000);
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.max_read_size = MAX_IO;
  ss.max_write_size = MAX_IO;
  ss.rdma_max_sge = OP_SGE;
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.dialects = SMBX_DIALECT_MASK_302;
  cs.flags |= SMBX_CLIENT_ALLOW_GUEST; /* guest sessions are exercised */
  if (smbx_server_new(&f->srv, &ss, NULL, NULL, 0) ||
      smbx_client_new(&f->cli, &cs, NULL, NULL, 0))
    return false;
  smbx_smbd_settings st[2];
  sim_pair_smbd_settings(st, RBUFS);
  for (int k = 0; k < 2; k++) {
    st[k].max_recv_size = RECV_SIZE;
    st[k].max_read_write_size = MAX_IO;
    st[k].send_buffers = 64;
    st[k].max_fragmented_recv_size = 131072;
    f->t[k] = sim_transport(f->w, k);
    f->rmem[k] = sim_pair_lend(f->rb[k], RBUFS, RECV_SIZE);
    if (!f->rmem[k])
      abort();
  }
  f->real_srv = f->t[1];
  smbx_transport ts = f->t[1];
  ts.rdma_read = w_rdma_read;
  ts.rdma_write = w_rdma_write;
  f->arena = malloc(ARENA);
  if (!f->arena || !cmem_alloc(f))
    abort();
  memset(f->arena, 0xA5, ARENA);
  smbx_vmo_settings vs;
  smbx_vmo_settings_default(&vs, sizeof vs);
  if (smbx_vmo_new(&f->tbl, &vs, &f->t[1], fz_random, f, NULL))
    return false;
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
  f->guest = take(f) & 1;
  /* no session key: a signed-in user's session runs unsigned here */
  if (smbx_client_session_setup(f->cli, f->cconn, &sess,
                                (const uint8_t *)"HI", 2, f->now) ||
      smbx_client_session_key(f->cli, sess, NULL, 0, f->now))
    return false;
  pump(f);
  if (!f->sess || smbx_client_tree_connect(f->cli, f->cconn, f->sess,
                                           "\\\\srv\\share", f->now, NULL))
    return false;
  pump(f);
  return f->tree != 0 && bind_objects(f);
}

static bool guards_intact(const fz *f)
{
  size_t at = 0;
  for (int o = 0; o < NOBJ; o++)
    for (int b = 0; b < NBLK; b++) {
      const uint8_t *a = f->blk[o][b].addr;
      if (!a)
        continue;
      for (; f->arena + at < a; at++)
        if (f->arena[at] != 0xA5)
          return false;
      at += f->blk[o][b].length;
    }
  return cmem_guards_intact(f);
}

static void teardown(fz *f)
{
  smbx_client_free(f->cli);
  smbx_server_free(f->srv);
  smbx_vmo_free(f->tbl);
  cmem_deregister(f);
  sim_free(f->w);
  free(f->arena);
  free(f->cmem);
  free(f->rmem[0]);
  free(f->rmem[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static fz f;
  memset(&f, 0, sizeof f);
  g = &f;
  f.in = data;
  f.n = size;
  f.rnd = 1;
  if (!setup(&f)) {
    teardown(&f);
    return 0;
  }
  for (int ops = 0; ops < MAX_OPS && f.at < f.n; ops++) {
    switch (take(&f) % 8) {
    case 0:
      create(&f);
      break;
    case 1:
      io(&f, SMBX_SMB2_READ);
      break;
    case 2:
      io(&f, SMBX_SMB2_WRITE);
      break;
    case 3:
      info_or_close(&f);
      break;
    case 4:
      owner(&f);
      break;
    case 5:
      fault(&f);
      break;
    case 6:
      f.now += (uint64_t)take(&f) * 500u;
      (void)step(&f);
      break;
    default:
      pump(&f);
      break;
    }
  }
  pump(&f);
  if (!guards_intact(&f))
    abort(); /* bytes moved outside the blocks or the client's regions */
  smbx_vmo_stats st;
  st.struct_size = sizeof st;
  if (smbx_vmo_stats_get(f.tbl, &st) != 0 || st.pins != 0)
    abort(); /* everything is quiet, yet a transfer holds an object */
  for (int o = 0; o < NOBJ; o++)
    if (f.live[o]) {
      (void)smbx_vmo_destroy(f.tbl, f.id[o]);
      f.live[o] = false;
    }
  drain_vmo(&f);
  for (int o = 0; o < NOBJ; o++)
    if (f.id[o] && !f.released[o])
      abort(); /* revoked, nothing in flight, blocks never given back */
  teardown(&f);
  return 0;
}
