/* SPDX-License-Identifier: MIT */
/* Memory objects (lib/vmo, lib/server/vmo_glue.c): the table alone and a
 * server node answering CREATE/READ/WRITE/QUERY_INFO/CLOSE on bound host
 * blocks over SMB Direct on the simulated NIC (tests/rdma's harness; the
 * server host offers every event to smbx_server_vmo_route first). The
 * blocks are carved from one allocation with guard bytes between them, so
 * any byte written outside a block is seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbx/vmo.h>

#include "../rdma/rh.h"
#include "vmo/vmo_int.h"

#define GUARD 0xA5u
#define ARENA (4u << 20)

typedef struct vt {
  rh x;
  smbx_vmo_table *tbl;
  uint8_t *arena;
  smbx_vmo_block blk[64];
  size_t n_blk;
  uint64_t id;
  smbx_smb2_fileid fid;
  uint32_t rnd;
  bool fail_random;
  /* revocation probes */
  bool destroy_on_rdma;  /* destroy id right after a transfer started */
  bool teardown_on_rdma; /* ... then tear its connection down */
  bool mark_on_rdma;     /* mark page 5 dirty right after a transfer started */
  int stuck_conns;
  uint64_t stuck_conn;
  size_t released_early;
  uint64_t last_eof; /* EndOfFile of the last successful CREATE */
  size_t released;
  uint64_t released_id, released_cookie;
  size_t rops_at_release; /* RDMA operations logged when RELEASED came */
  int route_rc_min;
  /* session setup: the user the host names (NULL: the harness's guest) */
  const char *user;
  bool user_guest;  /* ... and still answers it as a guest */
  uint32_t op_sge; /* the server's rdma_max_sge (0: the default) */
} vt;

static int test_random(void *ud, uint8_t *buf, size_t len)
{
  vt *v = ud;
  if (v->fail_random)
    return -1;
  for (size_t i = 0; i < len; i++) {
    v->rnd = v->rnd * 1103515245u + 12345u;
    buf[i] = (uint8_t)(v->rnd >> 16);
  }
  return 0;
}

static void drain_vmo(vt *v)
{
  smbx_vmo_event e;
  e.struct_size = sizeof e;
  while (smbx_vmo_next_event(v->tbl, &e) == 1) {
    assert_int_equal(e.type, SMBX_VMO_EV_RELEASED);
    v->released++;
    v->released_id = e.id;
    v->released_cookie = e.cookie;
    v->rops_at_release = v->x.w->rlog_n;
  }
}

/* A session whose user the host names (smbx_server_session_user), as a
 * guest or not. */
static void answer_session(vt *v, const smbx_event *e)
{
  rh *x = &v->x;
  assert_int_equal(smbx_server_session_user(x->srv, e->conn,
                                            e->u.session.req,
                                            (const uint8_t *)v->user,
                                            strlen(v->user)),
                   0);
  assert_int_equal(
      smbx_server_session_respond(
          x->srv, e->conn, e->u.session.req, 0, (const uint8_t *)"OK", 2,
          NULL, 0, v->user_guest ? SMBX_SMB2_SESSION_FLAG_IS_GUEST : 0,
          x->now),
      0);
}

static int route(rh *x, const smbx_event *e)
{
  vt *v = x->route_user;
  if (v->user && e->type == SMBX_EV_SESSION_SETUP) {
    answer_session(v, e);
    return 1;
  }
  if (!v->tbl)
    return 0; /* rh_start, before the table exists */
  int rc = smbx_server_vmo_route(x->srv, v->tbl, e, x->now);
  if (rc < v->route_rc_min)
    v->route_rc_min = rc;

  if (rc == 1 && v->mark_on_rdma && e->type == SMBX_EV_REQUEST &&
      (e->flags & SMBX_EVF_RDMA)) {
    /* the owner dirties a page while the record is on its way */
    v->mark_on_rdma = false;
    assert_int_equal(smbx_vmo_mark_dirty(v->tbl, v->id, 5 * 4096 + 7, 1), 0);
  }
  if (rc == 1 && v->destroy_on_rdma && e->type == SMBX_EV_REQUEST &&
      (e->flags & SMBX_EVF_RDMA)) {
    v->destroy_on_rdma = false;
    assert_int_equal(smbx_vmo_destroy(v->tbl, v->id), 0);
    if (v->teardown_on_rdma) {
      drain_vmo(v);
      v->released_early = v->released;
      uint64_t conns[4];
      v->stuck_conns = smbx_vmo_pinned_conns(v->tbl, v->id, conns, 4);
      v->stuck_conn = conns[0];
      sim_disconnect(x->w); /* QP to error: posted work is flushed */
    }
  }
  drain_vmo(v);
  return rc;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

/* Blocks of the given sizes, each 4 KiB past the previous one's end (the
 * gap stays GUARD). */
static void carve(vt *v, const size_t *sizes, size_t n)
{
  size_t at = 4096;
  for (size_t i = 0; i < n; i++) {
    v->blk[i].addr = v->arena + at;
    v->blk[i].length = sizes[i];
    at += sizes[i] + 4096;
    assert_true(at <= ARENA);
  }
  v->n_blk = n;
}

/* n blocks of `each` bytes, carved as above. */
static void carve_equal(vt *v, size_t n, size_t each)
{
  size_t sizes[sizeof v->blk / sizeof v->blk[0]];
  assert_true(n <= sizeof sizes / sizeof sizes[0]);
  for (size_t i = 0; i < n; i++)
    sizes[i] = each;
  carve(v, sizes, n);
}

static smbx_vmo_stats stats_of(vt *v)
{
  smbx_vmo_stats st;
  st.struct_size = sizeof st;
  assert_int_equal(smbx_vmo_stats_get(v->tbl, &st), 0);
  return st;
}

static bool guards_intact(const vt *v)
{
  size_t b = 0;
  for (size_t i = 0; i < ARENA; i++) {
    const uint8_t *p = v->arena + i;
    while (b < v->n_blk && p >= (uint8_t *)v->blk[b].addr + v->blk[b].length)
      b++;
    bool inside = b < v->n_blk && p >= (uint8_t *)v->blk[b].addr;
    if (!inside && *p != GUARD)
      return false;
  }
  return true;
}

/* The object's byte at offset off. */
static uint8_t *obj_byte(vt *v, uint64_t off)
{
  for (size_t i = 0; i < v->n_blk; i++) {
    if (off < v->blk[i].length)
      return (uint8_t *)v->blk[i].addr + off;
    off -= v->blk[i].length;
  }
  fail_msg("offset outside the object");
  return NULL;
}

static void table_new(vt *v, const smbx_allocator *a)
{
  smbx_vmo_settings s;
  assert_int_equal(smbx_vmo_settings_default(&s, sizeof s), 0);
  assert_int_equal(smbx_vmo_new(&v->tbl, &s, &v->x.t[1], test_random, v, a),
                   0);
}

/* A harness whose session the host names as `user` (NULL: the default
 * guest session), with the server's RDMA operations carrying at most
 * op_sge elements and its transfers naming at most xfer_sge (0: the
 * defaults). */
static void start_as(vt *v, const char *user, bool guest, uint32_t op_sge,
                     uint32_t xfer_sge)
{
  memset(v, 0, sizeof *v);
  v->user = user;
  v->user_guest = guest;
  rh_init(&v->x);
  if (op_sge)
    v->x.ss.rdma_max_sge = op_sge;
  if (xfer_sge)
    v->x.ss.rdma_max_xfer_sge = xfer_sge;
  v->x.route = route;
  v->x.route_user = v;
  v->rnd = 77;
  rh_start(&v->x);
  v->arena = malloc(ARENA);
  assert_non_null(v->arena);
  memset(v->arena, GUARD, ARENA);
  table_new(v, &v->x.ta.a);
}

static void start(vt *v)
{
  start_as(v, NULL, false, 0, 0);
}

static void stop(vt *v)
{
  smbx_vmo_free(v->tbl);
  rh_fini(&v->x);
  free(v->arena);
}

/* A spec of the carved blocks with `access`, nobody allowed yet. */
static void spec_of(const vt *v, uint32_t access, smbx_vmo_spec *sp)
{
  memset(sp, 0, sizeof *sp);
  sp->struct_size = sizeof *sp;
  sp->blocks = v->blk;
  sp->n_blocks = v->n_blk;
  sp->access = access;
}

static uint64_t bind(vt *v, uint32_t access, uint64_t session)
{
  smbx_vmo_spec sp;
  spec_of(v, access, &sp);
  sp.sessions = &session;
  sp.n_sessions = 1;
  sp.cookie = 0xC00C1E;
  uint64_t id = 0;
  assert_int_equal(smbx_vmo_create(v->tbl, &sp, &id), 0);
  assert_true(id != 0);
  return id;
}

/* An object that only sessions of `user` may open (no session listed). */
static uint64_t bind_user(vt *v, uint32_t access, const char *user)
{
  smbx_vmo_spec sp;
  spec_of(v, access, &sp);
  smbx_vmo_user u = {(const uint8_t *)user, strlen(user)};
  sp.users = &u;
  sp.n_users = 1;
  uint64_t id = 0;
  assert_int_equal(smbx_vmo_create(v->tbl, &sp, &id), 0);
  return id;
}

static uint64_t wire_session(vt *v)
{
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  /* the client's only session: its SessionId as the server saw it */
  for (size_t i = 0; i < v->x.n_log; i++)
    if (v->x.log[i].ev.type == SMBX_EV_SESSION_UP)
      return v->x.log[i].ev.u.session.session_id;
  fail_msg("no session");
  return 0;
}

static uint32_t create_name(vt *v, const uint8_t *name, size_t len,
                            uint32_t access, smbx_smb2_fileid *fid)
{
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = access;
  c.share_access = 7;
  c.create_disposition = 1; /* FILE_OPEN */
  c.name.p = name;
  c.name.len = len;
  uint64_t req = 0;
  assert_int_equal(smbx_client_create(v->x.cli, v->x.cconn, v->x.sess,
                                      v->x.tree, &c, v->x.now, &req),
                   0);
  const rh_ev *e = rh_response(&v->x, req);
  if (e->ev.u.pdu.status == 0) {
    smbx_smb2_create_resp r;
    assert_true(e->len >= 64 + 88);
    /* FileId at body offset 64 (2.2.14) */
    memset(&r, 0, sizeof r);
    uint64_t p = 0, vo = 0;
    for (int i = 7; i >= 0; i--) {
      p = p << 8 | e->hdr[64 + 64 + i];
      vo = vo << 8 | e->hdr[64 + 72 + i];
    }
    fid->persistent_id = p;
    fid->volatile_id = vo;
    uint64_t eof = 0;
    for (int i = 7; i >= 0; i--)
      eof = eof << 8 | e->hdr[64 + 48 + i];
    v->last_eof = eof;
  }
  return e->ev.u.pdu.status;
}

static uint32_t open_obj(vt *v, uint32_t access)
{
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v->tbl, v->id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  uint32_t st = create_name(v, name, len, access, &v->fid);
  if (st == 0)
    assert_int_equal(v->last_eof, smbx_vmo_size(v->tbl, v->id));
  return st;
}

/* The carved blocks bound for the client's session with vmo_access, and
 * opened with open_access. */
static void bind_open(vt *v, uint32_t vmo_access, uint32_t open_access)
{
  v->id = bind(v, vmo_access, wire_session(v));
  assert_int_equal(open_obj(v, open_access), 0);
}

static const rh_ev *vread(vt *v, uint64_t off, void *buf, uint32_t len)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_read_into(v->x.cli, v->x.cconn, v->x.sess,
                                         v->x.tree, v->fid, off, buf, len,
                                         v->x.now, &req),
                   0);
  return rh_response(&v->x, req);
}

static const rh_ev *vwrite(vt *v, uint64_t off, const void *buf, uint32_t len)
{
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(v->x.cli, v->x.cconn, v->x.sess,
                                          v->x.tree, v->fid, off, buf, len,
                                          v->x.now, &req),
                   0);
  return rh_response(&v->x, req);
}

/* Every RDMA operation since `from` names only bytes inside the blocks
 * (zero copy by identity: the node used the bound memory itself). */
static void rops_inside_blocks(const vt *v, size_t from)
{
  for (size_t k = from; k < v->x.w->rlog_n; k++) {
    const sim_rop *r = &v->x.w->rlog[k];
    if (r->ep != 1)
      continue;
    for (uint32_t s = 0; s < r->n_sg; s++) {
      const uint8_t *a = r->sg[s].addr;
      bool in = false;
      for (size_t b = 0; b < v->n_blk && !in; b++)
        in = a >= (uint8_t *)v->blk[b].addr &&
             a + r->sg[s].length <=
                 (uint8_t *)v->blk[b].addr + v->blk[b].length;
      assert_true(in);
    }
  }
}

/* ---- the table alone -------------------------------------------------- */

static void vmo_path_is_namespace_and_128_bit_token(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {8192};
  carve(&v, sizes, 1);
  v.id = bind(&v, SMBX_VMO_READ, 1);
  uint64_t id2 = bind(&v, SMBX_VMO_READ, 1);
  char p1[SMBX_VMO_PATH_MAX], p2[SMBX_VMO_PATH_MAX];
  uint8_t u16[2 * SMBX_VMO_PATH_MAX];
  size_t l1 = 0, l2 = 0, lu = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, p1, sizeof p1, &l1, u16,
                                 sizeof u16, &lu),
                   0);
  assert_int_equal(smbx_vmo_path(v.tbl, id2, p2, sizeof p2, &l2, NULL, 0,
                                 NULL),
                   0);
  assert_int_equal(l1, strlen("smbx-vmo\\") + 32);
  assert_int_equal(lu, 2 * l1);
  assert_memory_equal(p1, "smbx-vmo\\", 9);
  for (size_t i = 9; i < l1; i++)
    assert_non_null(strchr("0123456789abcdef", p1[i]));
  for (size_t i = 0; i < l1; i++) {
    assert_int_equal(u16[2 * i], (uint8_t)p1[i]);
    assert_int_equal(u16[2 * i + 1], 0);
  }
  assert_memory_not_equal(p1 + 9, p2 + 9, 32);
  /* a capacity too small says how much is needed */
  char small[4];
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, small, sizeof small, &l2, NULL,
                                 0, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(l2, l1);
  /* namespace test: the directory, anything under it, nothing else */
  assert_true(smbx_vmo_in_namespace(v.tbl, u16, 16));
  assert_true(smbx_vmo_in_namespace(v.tbl, u16, lu));
  assert_false(smbx_vmo_in_namespace(v.tbl, u16, 14));
  const uint8_t other[] = {'s', 0, 'm', 0, 'b', 0, 'x', 0, '-', 0, 'v', 0,
                           'm', 0, 'o', 0, 'x', 0};
  assert_false(smbx_vmo_in_namespace(v.tbl, other, sizeof other));
  assert_int_equal(smbx_vmo_destroy(v.tbl, id2), 0);
  stop(&v);
}

static void vmo_create_failures_leave_nothing(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[3] = {4096, 4096, 4096};
  carve(&v, sizes, 3);
  uint32_t before = sim_mr_live(v.x.w, 1);
  smbx_vmo_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.struct_size = sizeof sp;
  sp.blocks = v.blk;
  sp.n_blocks = 3;
  sp.access = SMBX_VMO_READ;
  uint64_t sess = 1, id = 0;
  sp.sessions = &sess;
  sp.n_sessions = 1;
  /* the random source fails: no object, no registration */
  v.fail_random = true;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_TRANSPORT);
  v.fail_random = false;
  /* the third register_mr fails: the first two are undone */
  v.x.w->ep[1].fail_register = 3;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_TRANSPORT);
  assert_int_equal(sim_mr_live(v.x.w, 1), before);
  /* bad specs */
  sp.access = 4;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  sp.access = SMBX_VMO_READ;
  sp.n_sessions = 0;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  sp.n_sessions = 1;
  smbx_vmo_block zero = {v.arena, 0};
  sp.blocks = &zero;
  sp.n_blocks = 1;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  smbx_vmo_stats st = stats_of(&v);
  assert_int_equal(st.objects, 0);
  stop(&v);
}

static int alloc_scenario(test_alloc *ta, void *arg)
{
  vt *v = arg;
  smbx_vmo_table *tbl = NULL;
  smbx_vmo_settings s;
  smbx_vmo_settings_default(&s, sizeof s);
  int rc = smbx_vmo_new(&tbl, &s, &v->x.t[1], test_random, v, &ta->a);
  if (rc)
    return rc;
  smbx_vmo_spec sp;
  spec_of(v, SMBX_VMO_READ, &sp);
  uint64_t sess = 1, id = 0;
  sp.sessions = &sess;
  sp.n_sessions = 1;
  smbx_vmo_user u = {(const uint8_t *)"S-1-5-21-7", 10};
  sp.users = &u;
  sp.n_users = 1;
  rc = smbx_vmo_create(tbl, &sp, &id);
  smbx_vmo_free(tbl);
  return rc;
}

static void vmo_allocation_failure_on_every_path(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[2] = {4096, 8192};
  carve(&v, sizes, 2);
  uint32_t before = sim_mr_live(v.x.w, 1);
  /* table: itself, events, the glue's two scratch arrays, three pools,
   * the pin owner index; object: blocks, sessions, users, page stamps,
   * dirty record */
  assert_int_equal(test_alloc_each_failure(alloc_scenario, &v), 13);
  assert_int_equal(sim_mr_live(v.x.w, 1), before);
  stop(&v);
}

static void vmo_map_pieces_and_limits(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[3] = {1000, 3000, 5000};
  carve(&v, sizes, 3);
  v.id = bind(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 5);
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  uint64_t op = 0;
  assert_int_equal(smbx_vmo_open(v.tbl, name, len, 5, NULL, 0,
                                 SMBX_VMO_READ | SMBX_VMO_WRITE, &op),
                   SMBX_STATUS_SUCCESS);
  smbx_sge sg[4];
  size_t n = 0;
  uint64_t bytes = 0;
  /* crossing both block edges, unaligned */
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 999, 4002, sg, 4, &n,
                                &bytes, NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, 3);
  assert_int_equal(bytes, 4002);
  assert_ptr_equal(sg[0].addr, (uint8_t *)v.blk[0].addr + 999);
  assert_int_equal(sg[0].length, 1);
  assert_ptr_equal(sg[1].addr, v.blk[1].addr);
  assert_int_equal(sg[1].length, 3000);
  assert_ptr_equal(sg[2].addr, v.blk[2].addr);
  assert_int_equal(sg[2].length, 1001);
  /* a READ past the end is clipped; at the end: END_OF_FILE */
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 8990, 100, sg, 4, &n,
                                &bytes, NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(bytes, 10);
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 9000, 1, sg, 4, &n, &bytes,
                                NULL),
                   SMBX_STATUS_END_OF_FILE);
  /* zero length inside: success, nothing */
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 10, 0, sg, 4, &n, &bytes,
                                NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(bytes, 0);
  /* a WRITE past the fixed length: DISK_FULL */
  assert_int_equal(smbx_vmo_map(v.tbl, op, true, 8999, 2, sg, 4, &n, &bytes,
                                NULL),
                   SMBX_STATUS_DISK_FULL);
  assert_int_equal(smbx_vmo_map(v.tbl, op, true, UINT64_MAX, 2, sg, 4, &n,
                                &bytes, NULL),
                   SMBX_STATUS_DISK_FULL);
  /* more pieces than room: READ short, WRITE refused */
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 0, 9000, sg, 2, &n, &bytes,
                                NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, 2);
  assert_int_equal(bytes, 4000);
  assert_int_equal(smbx_vmo_map(v.tbl, op, true, 0, 9000, sg, 2, &n, &bytes,
                                NULL),
                   SMBX_STATUS_INVALID_PARAMETER);
  /* pins hold a revoked object until the last one goes */
  uint64_t pin = 0;
  assert_int_equal(smbx_vmo_map(v.tbl, op, true, 0, 10, sg, 4, &n, &bytes,
                                &pin),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  drain_vmo(&v);
  assert_int_equal(v.released, 0);
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 0, 10, sg, 4, &n, &bytes,
                                NULL),
                   SMBX_STATUS_FILE_CLOSED);
  assert_int_equal(smbx_vmo_unpin(v.tbl, pin), 0);
  assert_int_equal(smbx_vmo_unpin(v.tbl, pin), SMBX_ERR_NOTFOUND);
  drain_vmo(&v);
  assert_int_equal(v.released, 1);
  assert_int_equal(v.released_cookie, 0xC00C1E);
  assert_int_equal(smbx_vmo_close(v.tbl, op), 0);
  assert_int_equal(smbx_vmo_close(v.tbl, op), SMBX_ERR_NOTFOUND);
  stop(&v);
}

static uint32_t open_as(vt *v, uint64_t id, uint64_t session,
                        const char *user, uint64_t *op)
{
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v->tbl, id, NULL, 0, NULL, name, sizeof name,
                                 &len),
                   0);
  return smbx_vmo_open(v->tbl, name, len, session, (const uint8_t *)user,
                       user ? strlen(user) : 0, SMBX_VMO_READ, op);
}

static void vmo_allowed_users_table(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {4096};
  carve(&v, sizes, 1);
  uint64_t alice = bind_user(&v, SMBX_VMO_READ, "CORP\\alice");
  uint64_t op = 0;
  /* the user's sessions open it, whatever their SessionId */
  assert_int_equal(open_as(&v, alice, 11, "CORP\\alice", &op),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(open_as(&v, alice, 12, "CORP\\alice", &op),
                   SMBX_STATUS_SUCCESS);
  /* another user, a prefix, a longer name, other case (identities are
   * the host's bytes), no user (guest / anonymous): as if absent */
  const char *others[] = {"CORP\\bob", "CORP\\alic", "CORP\\alice2",
                          "corp\\alice"};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(open_as(&v, alice, 11, others[i], &op),
                     SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(open_as(&v, alice, 11, NULL, &op),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* sessions and users together: either one lets the opener in */
  smbx_vmo_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.struct_size = sizeof sp;
  sp.blocks = v.blk;
  sp.n_blocks = 1;
  sp.access = SMBX_VMO_READ;
  uint64_t sess = 40, both = 0;
  smbx_vmo_user us[2] = {{(const uint8_t *)"S-1-5-21-1", 10},
                         {(const uint8_t *)"S-1-5-21-2", 10}};
  sp.sessions = &sess;
  sp.n_sessions = 1;
  sp.users = us;
  sp.n_users = 2;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &both), 0);
  assert_int_equal(open_as(&v, both, 40, NULL, &op), SMBX_STATUS_SUCCESS);
  assert_int_equal(open_as(&v, both, 41, "S-1-5-21-2", &op),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(open_as(&v, both, 41, "S-1-5-21-3", &op),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* bad user lists: nobody at all, an empty or too long identity, more
   * than max_users, users without an array */
  uint64_t id = 0;
  sp.n_sessions = 0;
  sp.n_users = 0;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  uint8_t longid[SMBX_VMO_USER_MAX + 1];
  memset(longid, 'u', sizeof longid);
  smbx_vmo_user bad[2] = {{(const uint8_t *)"x", 0}, {longid, sizeof longid}};
  for (size_t i = 0; i < 2; i++) {
    sp.users = &bad[i];
    sp.n_users = 1;
    assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  }
  smbx_vmo_user many[9];
  for (size_t i = 0; i < 9; i++)
    many[i] = us[0];
  sp.users = many;
  sp.n_users = 9; /* default max_users 8 */
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  sp.n_users = 8;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), 0);
  sp.users = NULL;
  sp.n_users = 1;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &id), SMBX_ERR_INVAL);
  /* a full-length identity is kept whole */
  uint64_t full = 0;
  smbx_vmo_user fu = {longid, SMBX_VMO_USER_MAX};
  sp.users = &fu;
  sp.n_users = 1;
  assert_int_equal(smbx_vmo_create(v.tbl, &sp, &full), 0);
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, full, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  assert_int_equal(smbx_vmo_open(v.tbl, name, len, 1, longid,
                                 SMBX_VMO_USER_MAX, SMBX_VMO_READ, &op),
                   SMBX_STATUS_SUCCESS);
  stop(&v);
}

/* ---- through the server node ------------------------------------------ */

static void vmo_allowed_user_session_opens_through_node(void **state)
{
  (void)state;
  vt v;
  start_as(&v, "CORP\\alice", false, 0, 0);
  size_t sizes[2] = {3000, 5000};
  carve(&v, sizes, 2);
  fill(v.blk[0].addr, 3000, 3);
  fill(v.blk[1].addr, 5000, 4);
  /* allowed by user only: the node finds the session's user */
  v.id = bind_user(&v, SMBX_VMO_READ, "CORP\\alice");
  assert_int_equal(open_obj(&v, 0x1), 0);
  uint8_t buf[8000];
  const rh_ev *e = vread(&v, 0, buf, 8000);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, 8000);
  assert_memory_equal(buf, obj_byte(&v, 0), 3000);
  assert_memory_equal(buf + 3000, obj_byte(&v, 3000), 5000);
  /* another user's object: not found, never the host's */
  size_t before = v.x.n_requests;
  v.id = bind_user(&v, SMBX_VMO_READ, "CORP\\bob");
  assert_int_equal(open_obj(&v, 0x1), SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(v.x.n_requests, before);
  stop(&v);
}

static void vmo_guest_session_never_matches_user(void **state)
{
  (void)state;
  vt v;
  /* the host named a user yet answered the session as a guest */
  start_as(&v, "CORP\\alice", true, 0, 0);
  size_t sizes[1] = {4096};
  carve(&v, sizes, 1);
  v.id = bind_user(&v, SMBX_VMO_READ, "CORP\\alice");
  assert_int_equal(open_obj(&v, 0x1), SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* the same session listed by its id still opens it */
  bind_open(&v, SMBX_VMO_READ, 0x1);
  stop(&v);
}

/* An I/O crossing more blocks than one RDMA operation may carry is cut
 * into several operations of one transfer; the request completes once
 * they all did. */
static void vmo_io_more_pieces_than_max_sge(void **state)
{
  (void)state;
  vt v;
  start_as(&v, NULL, false, 4, 0); /* at most 4 elements per operation */
  size_t sizes[48];
  size_t size = 0;
  for (size_t i = 0; i < 48; i++) {
    sizes[i] = 97 + 13 * i; /* tiny, uneven blocks */
    size += sizes[i];
  }
  carve(&v, sizes, 48);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint8_t *src = malloc(size), *dst = malloc(size);
  fill(src, size, 31);
  /* a WRITE over 47 block edges (unaligned), by RDMA */
  size_t from = v.x.w->rlog_n;
  const rh_ev *e = vwrite(&v, 5, src, (uint32_t)(size - 10));
  assert_int_equal(e->ev.u.pdu.status, 0);
  size_t ops = 0;
  for (size_t k = from; k < v.x.w->rlog_n; k++)
    if (v.x.w->rlog[k].ep == 1) {
      assert_true(v.x.w->rlog[k].n_sg <= 4);
      ops++;
    }
  assert_true(ops >= 12); /* 48 pieces, 4 per operation */
  rops_inside_blocks(&v, from);
  for (uint64_t off = 0; off < size - 10; off++)
    assert_int_equal(*obj_byte(&v, 5 + off), src[off]);
  assert_true(guards_intact(&v));
  /* and back by RDMA READ */
  from = v.x.w->rlog_n;
  e = vread(&v, 0, dst, (uint32_t)size);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, size);
  for (uint64_t off = 0; off < size; off++)
    assert_int_equal(dst[off], *obj_byte(&v, off));
  rops_inside_blocks(&v, from);
  /* revoked while such a transfer is posted on a slow NIC: the blocks
   * come back only after its last operation */
  v.x.w->ep[1].rdma_delay_ns = 50000000;
  v.destroy_on_rdma = true;
  e = vread(&v, 0, dst, (uint32_t)size);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(v.released, 1);
  assert_int_equal(v.rops_at_release, v.x.w->rlog_n);
  smbx_vmo_stats st = stats_of(&v);
  assert_int_equal(st.pins, 0);
  assert_int_equal(v.route_rc_min, 0);
  free(src);
  free(dst);
  stop(&v);
}

/* A transfer the node refuses before posting anything (more pieces than
 * the server's rdma_max_xfer_sge, set below the table's max_sge) is still
 * answered, and holds no pin. */
static void vmo_transfer_refused_by_node_is_answered(void **state)
{
  (void)state;
  vt v;
  start_as(&v, NULL, false, 0, 16);
  carve_equal(&v, 24, 1000);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint8_t *buf = calloc(1, 24000);
  assert_int_equal(vread(&v, 0, buf, 24000)->ev.u.pdu.status,
                   SMBX_STATUS_INSUFFICIENT_RESOURCES);
  assert_int_equal(vwrite(&v, 0, buf, 24000)->ev.u.pdu.status,
                   SMBX_STATUS_INSUFFICIENT_RESOURCES);
  smbx_vmo_stats st = stats_of(&v);
  assert_int_equal(st.pins, 0);
  /* 16 pieces fit: the connection still works */
  const rh_ev *e = vread(&v, 0, buf, 16000);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, 16000);
  assert_false(v.x.cdown);
  free(buf);
  stop(&v);
}

/* rdma_max_xfer_sge below rdma_max_sge counts as rdma_max_sge: the node
 * starts, and a transfer of rdma_max_sge pieces goes through. */
static void vmo_xfer_sge_below_op_sge_counts_as_op_sge(void **state)
{
  (void)state;
  vt v;
  start_as(&v, NULL, false, 16, 4);
  carve_equal(&v, 16, 1000);
  bind_open(&v, SMBX_VMO_READ, 0x1);
  uint8_t buf[16000];
  const rh_ev *e = vread(&v, 0, buf, sizeof buf);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, sizeof buf);
  stop(&v);
}

/* Finding a transfer's pin at RDMA_DONE is one hash lookup: many objects
 * and many pins at once, each found and released exactly. */
static void vmo_pin_lookup_many_objects(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {8192};
  carve(&v, sizes, 1);
  enum { OBJS = 64, PER = 15 }; /* 960 pins of 1024 */
  uint64_t ids[OBJS], ops[OBJS], pins[OBJS][PER];
  for (size_t i = 0; i < OBJS; i++) {
    ids[i] = bind(&v, SMBX_VMO_READ, 3);
    assert_int_equal(open_as(&v, ids[i], 3, NULL, &ops[i]),
                     SMBX_STATUS_SUCCESS);
  }
  smbx_sge sg[4];
  size_t n;
  uint64_t bytes;
  for (size_t i = 0; i < OBJS; i++)
    for (size_t j = 0; j < PER; j++) {
      assert_int_equal(smbx_vmo_map(v.tbl, ops[i], false, j, 1, sg, 4, &n,
                                    &bytes, &pins[i][j]),
                       SMBX_STATUS_SUCCESS);
      /* owners as the glue records them: (conn, req) */
      assert_int_equal(
          smbx__vmo_pin_owner(v.tbl, pins[i][j], 100 + i, 7000 + j), 0);
    }
  /* a second transfer on one request, a stale pin, conn 0: refused */
  uint64_t extra = 0;
  assert_int_equal(smbx_vmo_map(v.tbl, ops[0], false, 0, 1, sg, 4, &n,
                                &bytes, &extra),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(smbx__vmo_pin_owner(v.tbl, extra, 100, 7000),
                   SMBX_ERR_EXISTS);
  assert_int_equal(smbx__vmo_pin_owner(v.tbl, extra, 0, 1), SMBX_ERR_INVAL);
  assert_int_equal(smbx_vmo_unpin(v.tbl, extra), 0);
  assert_int_equal(smbx__vmo_pin_owner(v.tbl, extra, 1, 1), SMBX_ERR_INVAL);
  for (size_t i = 0; i < OBJS; i++)
    for (size_t j = 0; j < PER; j++)
      assert_int_equal(smbx__vmo_pin_of(v.tbl, 100 + i, 7000 + j),
                       pins[i][j]);
  assert_int_equal(smbx__vmo_pin_of(v.tbl, 100 + OBJS, 7000), 0);
  assert_int_equal(smbx__vmo_pin_of(v.tbl, 100, 7000 + PER), 0);
  /* every object revoked: each is released by its last pin, found by
   * owner; an unpinned owner is gone from the index */
  for (size_t i = 0; i < OBJS; i++)
    assert_int_equal(smbx_vmo_destroy(v.tbl, ids[i]), 0);
  for (size_t i = 0; i < OBJS; i++)
    for (size_t j = 0; j < PER; j++) {
      uint64_t p = smbx__vmo_pin_of(v.tbl, 100 + i, 7000 + j);
      assert_int_equal(p, pins[i][j]);
      assert_int_equal(smbx_vmo_unpin(v.tbl, p), 0);
      assert_int_equal(smbx__vmo_pin_of(v.tbl, 100 + i, 7000 + j), 0);
      drain_vmo(&v);
      assert_int_equal(v.released, j + 1 == PER ? i + 1 : i);
    }
  /* a connection's pins all go when it does */
  uint64_t id = bind(&v, SMBX_VMO_READ, 3), op = 0, p = 0;
  assert_int_equal(open_as(&v, id, 3, NULL, &op), SMBX_STATUS_SUCCESS);
  for (uint64_t j = 0; j < 5; j++) {
    assert_int_equal(smbx_vmo_map(v.tbl, op, false, 0, 1, sg, 4, &n, &bytes,
                                  &p),
                     SMBX_STATUS_SUCCESS);
    assert_int_equal(smbx__vmo_pin_owner(v.tbl, p, 9, j), 0);
  }
  assert_int_equal(smbx__vmo_unpin_conn(v.tbl, 9), 5);
  assert_int_equal(smbx__vmo_pin_of(v.tbl, 9, 0), 0);
  stop(&v);
}

static void vmo_unknown_guessed_and_foreign_session_not_found(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {65536};
  carve(&v, sizes, 1);
  uint64_t sess = wire_session(&v);
  v.id = bind(&v, SMBX_VMO_READ, sess + 1); /* someone else's */
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  smbx_smb2_fileid fid;
  /* not allowed: exactly as if it did not exist */
  assert_int_equal(create_name(&v, name, len, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* a guessed token (one digit changed), a short one, the directory */
  name[len - 2] = name[len - 2] == '0' ? '1' : '0';
  assert_int_equal(create_name(&v, name, len, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(create_name(&v, name, len - 2, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(create_name(&v, name, 16, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* a non-hex token */
  name[len - 2] = 'g';
  assert_int_equal(create_name(&v, name, len, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* none of these reached the host */
  assert_int_equal(v.x.n_requests, 1); /* rh_start's own CREATE */
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static void vmo_rdma_io_many_blocks_crossing_edges(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[5] = {4096, 70001, 12345, 300000, 131072};
  carve(&v, sizes, 5);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  assert_int_equal(v.fid.persistent_id, SMBX_VMO_FILEID_TAG);
  uint64_t size = smbx_vmo_size(v.tbl, v.id);
  assert_int_equal(size, 4096 + 70001 + 12345 + 300000 + 131072);
  uint8_t *src = malloc(size), *dst = malloc(size);
  fill(src, size, 9);
  size_t rop0 = v.x.w->rlog_n;
  /* unaligned pieces crossing every edge, then the whole object */
  const uint64_t offs[] = {1, 4000, 74090, 86440, 386400};
  const uint32_t lens[] = {5000, 100000, 250000, 299999, 200000};
  for (size_t i = 0; i < 5; i++) {
    uint32_t l = lens[i];
    if (offs[i] + l > size)
      l = (uint32_t)(size - offs[i]);
    const rh_ev *e = vwrite(&v, offs[i], src + offs[i], l);
    assert_int_equal(e->ev.u.pdu.status, 0);
  }
  assert_int_equal(vwrite(&v, 0, src, 1)->ev.u.pdu.status, 0);
  for (uint64_t o = 0; o < size; o++)
    assert_int_equal(*obj_byte(&v, o), src[o]);
  assert_true(guards_intact(&v));
  memset(dst, 0, size);
  for (uint64_t o = 0; o < size;) {
    uint32_t l = size - o > 262144 ? 262144 : (uint32_t)(size - o);
    const rh_ev *e = vread(&v, o, dst + o, l);
    assert_int_equal(e->ev.u.pdu.status, 0);
    assert_true(e->ev.flags & SMBX_EVF_RDMA);
    assert_true(e->ev.u.pdu.rdma_length > 0);
    o += e->ev.u.pdu.rdma_length;
  }
  assert_memory_equal(dst, src, size);
  rops_inside_blocks(&v, rop0);
  assert_int_equal(v.x.n_rdma_requests, 0); /* nothing reached the host */
  assert_int_equal(v.x.w->rdma_faults, 0);
  free(src);
  free(dst);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

/* The XFER_DONE of transfer h (pumping first). */
static const smbx_event *xfer_done(vt *v, uint64_t h)
{
  rh_pump(&v->x);
  for (size_t i = 0; i < v->x.n_log; i++)
    if (v->x.log[i].ev.type == SMBX_EV_XFER_DONE &&
        v->x.log[i].ev.u.xfer.xfer == h)
      return &v->x.log[i].ev;
  fail_msg("no XFER_DONE");
  return NULL;
}

/* The peer's pipelined transfers (smbx_client_xfer_start) over an object
 * of five odd-sized blocks: a write of the whole object in 65536-byte
 * pieces and a read of it in 50000-byte pieces asking 10000 bytes past
 * the end cross every block edge by RDMA, land byte-exact, end at EOF,
 * and no RDMA operation leaves the blocks. */
static void vmo_peer_xfer_whole_object_crossing_block_edges(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[5] = {4096, 70001, 12345, 300000, 131072};
  carve(&v, sizes, 5);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint64_t size = smbx_vmo_size(v.tbl, v.id);
  uint8_t *src = malloc(size), *dst = malloc(size + 10000);
  assert_non_null(src);
  assert_non_null(dst);
  fill(src, size, 21);
  size_t rop0 = v.x.w->rlog_n;
  smbx_client_xfer p;
  memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.conn = v.x.cconn;
  p.session = v.x.sess;
  p.tree_id = v.x.tree;
  p.file_id = v.fid;
  p.flags = SMBX_XFER_WRITE;
  p.buf = src;
  p.length = size;
  p.chunk = 65536;
  uint64_t h = 0;
  assert_int_equal(smbx_client_xfer_start(v.x.cli, &p, v.x.now, &h), 0);
  const smbx_event *e = xfer_done(&v, h);
  assert_int_equal(e->u.xfer.err, 0);
  assert_int_equal(e->u.xfer.status, 0);
  assert_int_equal(e->u.xfer.bytes, size);
  assert_int_equal(e->u.xfer.requests, (size + 65535) / 65536);
  for (uint64_t o = 0; o < size; o++)
    assert_int_equal(*obj_byte(&v, o), src[o]);
  assert_true(guards_intact(&v));
  memset(dst, 0, size + 10000);
  p.flags = 0;
  p.buf = dst;
  p.length = size + 10000;
  p.chunk = 50000;
  assert_int_equal(smbx_client_xfer_start(v.x.cli, &p, v.x.now, &h), 0);
  e = xfer_done(&v, h);
  assert_int_equal(e->u.xfer.err, 0);
  assert_int_equal(e->u.xfer.status, 0);
  assert_int_equal(e->u.xfer.bytes, size);
  assert_true(e->u.xfer.flags & SMBX_XFER_DONE_EOF);
  assert_memory_equal(dst, src, size);
  rops_inside_blocks(&v, rop0);
  assert_int_equal(v.x.n_rdma_requests, 0); /* nothing reached the host */
  assert_int_equal(v.x.w->rdma_faults, 0);
  free(src);
  free(dst);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static void vmo_end_past_end_and_zero_length(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[2] = {10000, 10000};
  carve(&v, sizes, 2);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint8_t buf[32768];
  fill(obj_byte(&v, 0), 10000, 3);
  fill(obj_byte(&v, 10000), 10000, 4);
  /* RDMA READ running past the end: short, DataRemaining = what exists */
  const rh_ev *e = vread(&v, 12000, buf, 16384);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, 8000);
  assert_memory_equal(buf, obj_byte(&v, 12000), 8000);
  /* at and past the end */
  assert_int_equal(vread(&v, 20000, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_END_OF_FILE);
  assert_int_equal(vread(&v, 1u << 30, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_END_OF_FILE);
  /* small READ goes inline: the data is in the response */
  e = vread(&v, 9990, buf, 20);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_memory_equal(e->hdr + 64 + 16, obj_byte(&v, 9990), 10);
  assert_memory_equal(e->hdr + 64 + 26, obj_byte(&v, 10000), 10);
  /* zero-length READ inside: empty success (the client API refuses
   * length 0, so the request is built by hand) */
  smbx_smb2_read_req rq;
  memset(&rq, 0, sizeof rq);
  rq.padding = 0x50;
  rq.offset = 5;
  rq.file_id = v.fid;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t body[256];
  smbx_ssize bn = smbx_smb2_encode_read_req(&h, &rq, body, sizeof body, NULL);
  assert_true(bn > 64);
  e = rh_raw(&v.x, SMBX_SMB2_READ, body + 64, (size_t)bn - 64);
  assert_int_equal(e->ev.u.pdu.status, 0);
  /* DataLength 0 (at 64 + 4) */
  assert_int_equal(e->hdr[64 + 4], 0);
  /* WRITE past the end writes nothing (inline and RDMA) */
  uint8_t before[20000];
  memcpy(before, obj_byte(&v, 0), 10000);
  memcpy(before + 10000, obj_byte(&v, 10000), 10000);
  uint8_t junk[16384];
  memset(junk, 0x5A, sizeof junk);
  assert_int_equal(vwrite(&v, 19990, junk, 11)->ev.u.pdu.status,
                   SMBX_STATUS_DISK_FULL);
  assert_int_equal(vwrite(&v, 19000, junk, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_DISK_FULL);
  assert_memory_equal(before, obj_byte(&v, 0), 10000);
  assert_memory_equal(before + 10000, obj_byte(&v, 10000), 10000);
  /* an inline WRITE ending exactly at the end, crossing the edge */
  assert_int_equal(vwrite(&v, 9995, junk, 5)->ev.u.pdu.status, 0);
  assert_int_equal(vwrite(&v, 19995, junk, 5)->ev.u.pdu.status, 0);
  assert_int_equal(*obj_byte(&v, 19999), 0x5A);
  assert_true(guards_intact(&v));
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static void vmo_access_rights_and_reduction(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {65536};
  carve(&v, sizes, 1);
  v.id = bind(&v, SMBX_VMO_READ, wire_session(&v));
  /* asking for write on a read-only object */
  assert_int_equal(open_obj(&v, 0x2), SMBX_STATUS_ACCESS_DENIED);
  /* MAXIMUM_ALLOWED: gets read only */
  assert_int_equal(open_obj(&v, 0x02000000), 0);
  uint8_t buf[8192];
  memset(buf, 1, sizeof buf);
  assert_int_equal(vwrite(&v, 0, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(vread(&v, 0, buf, 8192)->ev.u.pdu.status, 0);
  /* rights reduced: the open's read now fails FILE_CLOSED */
  assert_int_equal(smbx_vmo_set_access(v.tbl, v.id, 0), 0);
  assert_int_equal(vread(&v, 0, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_FILE_CLOSED);
  assert_int_equal(vread(&v, 0, buf, 10)->ev.u.pdu.status,
                   SMBX_STATUS_FILE_CLOSED);
  smbx_vmo_stats st = stats_of(&v);
  assert_int_equal(st.refused, 2);
  /* restored: works again */
  assert_int_equal(smbx_vmo_set_access(v.tbl, v.id, SMBX_VMO_READ), 0);
  assert_int_equal(vread(&v, 0, buf, 8192)->ev.u.pdu.status, 0);
  /* write-only object: READ denied */
  uint64_t ro = v.id;
  v.id = bind(&v, SMBX_VMO_WRITE, wire_session(&v));
  assert_int_equal(open_obj(&v, 0x1), SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(open_obj(&v, 0x2), 0);
  assert_int_equal(vread(&v, 0, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(vwrite(&v, 0, buf, 8192)->ev.u.pdu.status, 0);
  assert_int_equal(smbx_vmo_destroy(v.tbl, ro), 0);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static void vmo_query_info_close_and_revoked_path(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[2] = {5000, 7000};
  carve(&v, sizes, 2);
  bind_open(&v, SMBX_VMO_READ, 0x1);
  smbx_smb2_query_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = 1;
  q.file_info_class = SMBX_SMB2_FILE_STANDARD_INFORMATION;
  q.output_buffer_length = 24;
  q.file_id = v.fid;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t body[256];
  smbx_ssize n = smbx_smb2_encode_query_info_req(&h, &q, body, sizeof body,
                                                 NULL);
  assert_true(n > 64);
  const rh_ev *e = rh_raw(&v.x, SMBX_SMB2_QUERY_INFO, body + 64,
                          (size_t)n - 64);
  assert_int_equal(e->ev.u.pdu.status, 0);
  /* EndOfFile at info offset 8; the info at 64 + 8 */
  uint64_t eof = 0;
  for (int i = 7; i >= 0; i--)
    eof = eof << 8 | e->hdr[64 + 8 + 8 + i];
  assert_int_equal(eof, 12000);
  /* too small / other classes */
  q.output_buffer_length = 8;
  n = smbx_smb2_encode_query_info_req(&h, &q, body, sizeof body, NULL);
  assert_int_equal(rh_raw(&v.x, SMBX_SMB2_QUERY_INFO, body + 64,
                          (size_t)n - 64)->ev.u.pdu.status,
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  q.output_buffer_length = 4096;
  q.file_info_class = 9; /* FileNameInformation: not an SMB2 query */
  n = smbx_smb2_encode_query_info_req(&h, &q, body, sizeof body, NULL);
  assert_int_equal(rh_raw(&v.x, SMBX_SMB2_QUERY_INFO, body + 64,
                          (size_t)n - 64)->ev.u.pdu.status,
                   SMBX_STATUS_INVALID_INFO_CLASS);
  /* revoked: the open's I/O fails FILE_CLOSED, the path is gone */
  uint8_t name[2 * SMBX_VMO_PATH_MAX];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  assert_int_equal(v.released, 0);
  drain_vmo(&v);
  assert_int_equal(v.released, 1);
  uint8_t buf[8192];
  assert_int_equal(vread(&v, 0, buf, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_FILE_CLOSED);
  smbx_smb2_fileid fid;
  assert_int_equal(create_name(&v, name, len, 1, &fid),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* CLOSE still lets go of the open; a second one: FILE_CLOSED */
  smbx_smb2_close_req c;
  memset(&c, 0, sizeof c);
  c.file_id = v.fid;
  n = smbx_smb2_encode_close_req(&h, &c, body, sizeof body, NULL);
  assert_int_equal(rh_raw(&v.x, SMBX_SMB2_CLOSE, body + 64, (size_t)n - 64)
                       ->ev.u.pdu.status,
                   0);
  assert_int_equal(rh_raw(&v.x, SMBX_SMB2_CLOSE, body + 64, (size_t)n - 64)
                       ->ev.u.pdu.status,
                   SMBX_STATUS_FILE_CLOSED);
  stop(&v);
}

/* QUERY_INFO of the open v->fid: the response's status, its output in
 * *out (the first bytes the harness keeps: up to 120) and its length. */
static uint32_t qinfo(vt *v, uint8_t type, uint8_t cls, uint32_t outlen,
                      const uint8_t **out, size_t *len)
{
  smbx_smb2_query_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = type;
  q.file_info_class = cls;
  q.output_buffer_length = outlen;
  q.file_id = v->fid;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t body[256];
  smbx_ssize n = smbx_smb2_encode_query_info_req(&h, &q, body, sizeof body,
                                                 NULL);
  assert_true(n > 64);
  const rh_ev *e = rh_raw(&v->x, SMBX_SMB2_QUERY_INFO, body + 64,
                          (size_t)n - 64);
  *out = NULL;
  *len = 0;
  uint32_t st = e->ev.u.pdu.status;
  if (st == 0 || st == SMBX_STATUS_BUFFER_OVERFLOW) {
    /* OutputBufferLength at body offset 4; the data at 64 + 8 */
    *len = (size_t)e->hdr[68] | (size_t)e->hdr[69] << 8;
    /* an empty output still carries the one Buffer byte */
    assert_int_equal(e->ev.u.pdu.len, 64 + 8 + (*len ? *len : 1));
    *out = e->hdr + 72;
  }
  return st;
}

/* A fixed-size class: its exact size answers, one byte less is
 * INFO_LENGTH_MISMATCH. */
static const uint8_t *qfixed(vt *v, uint8_t type, uint8_t cls, size_t size)
{
  const uint8_t *o;
  size_t n;
  assert_int_equal(qinfo(v, type, cls, (uint32_t)size - 1, &o, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qinfo(v, type, cls, (uint32_t)size, &o, &n), 0);
  assert_int_equal(n, size);
  return o;
}

static bool utf16_is(const uint8_t *p, size_t len, const char *ascii)
{
  if (len != 2 * strlen(ascii))
    return false;
  for (size_t i = 0; ascii[i]; i++)
    if (p[2 * i] != (uint8_t)ascii[i] || p[2 * i + 1] != 0)
      return false;
  return true;
}

static void vmo_query_info_every_class(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[2] = {5000, 7000};
  carve(&v, sizes, 2);
  v.id = bind(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, wire_session(&v));
  assert_int_equal(open_obj(&v, 0x1), 0); /* FILE_READ_DATA only */
  const uint8_t *o;
  size_t n;
  /* fixed-size file classes */
  smbx_smb2_file_basic_info b;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_BASIC_INFORMATION, 40);
  assert_int_equal(smbx_smb2_file_basic_info_decode(o, 40, &b, NULL), 0);
  assert_int_equal(b.file_attributes, 0x80);
  smbx_smb2_file_standard_info sd;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_STANDARD_INFORMATION, 24);
  assert_int_equal(smbx_smb2_file_standard_info_decode(o, 24, &sd, NULL), 0);
  assert_true(sd.end_of_file == 12000 && sd.allocation_size == 12000);
  assert_int_equal(sd.number_of_links, 1);
  assert_int_equal(sd.directory, 0);
  smbx_smb2_file_internal_info in;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_INTERNAL_INFORMATION, 8);
  assert_int_equal(smbx_smb2_file_internal_info_decode(o, 8, &in, NULL), 0);
  assert_true(in.index_number == v.id);
  smbx_smb2_file_ea_info ea;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_EA_INFORMATION, 4);
  assert_int_equal(smbx_smb2_file_ea_info_decode(o, 4, &ea, NULL), 0);
  assert_int_equal(ea.ea_size, 0);
  smbx_smb2_file_access_info ac;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_ACCESS_INFORMATION, 4);
  assert_int_equal(smbx_smb2_file_access_info_decode(o, 4, &ac, NULL), 0);
  assert_int_equal(ac.access_flags, 0x00120089); /* FILE_GENERIC_READ */
  smbx_smb2_file_position_info po;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_POSITION_INFORMATION, 8);
  assert_int_equal(smbx_smb2_file_position_info_decode(o, 8, &po, NULL), 0);
  assert_true(po.current_byte_offset == 0);
  smbx_smb2_file_mode_info mo;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_MODE_INFORMATION, 4);
  assert_int_equal(smbx_smb2_file_mode_info_decode(o, 4, &mo, NULL), 0);
  smbx_smb2_file_alignment_info al;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_ALIGNMENT_INFORMATION, 4);
  assert_int_equal(smbx_smb2_file_alignment_info_decode(o, 4, &al, NULL), 0);
  assert_int_equal(al.alignment_requirement, 0);
  smbx_smb2_file_network_open_info no;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION, 56);
  assert_int_equal(smbx_smb2_file_network_open_info_decode(o, 56, &no, NULL),
                   0);
  assert_true(no.end_of_file == 12000);
  smbx_smb2_file_attribute_tag_info at;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_ATTRIBUTE_TAG_INFORMATION, 8);
  assert_int_equal(smbx_smb2_file_attribute_tag_info_decode(o, 8, &at, NULL),
                   0);
  assert_int_equal(at.file_attributes, 0x80);
  assert_int_equal(at.reparse_tag, 0);
  smbx_smb2_file_compression_info co;
  o = qfixed(&v, 1, SMBX_SMB2_FILE_COMPRESSION_INFORMATION, 16);
  assert_int_equal(smbx_smb2_file_compression_info_decode(o, 16, &co, NULL),
                   0);
  assert_true(co.compressed_file_size == 12000);
  assert_int_equal(co.compression_format, 0);

  /* FileAllInformation: fixed part + "\<path>"; below 104 mismatch, a
   * cut name overflows */
  uint8_t path[2 * SMBX_VMO_PATH_MAX];
  size_t plen = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, NULL, 0, NULL, path,
                                 sizeof path, &plen),
                   0);
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_ALL_INFORMATION, 4096, &o, &n),
                   0);
  assert_int_equal(n, 100 + 2 + plen);
  smbx_smb2_file_all_info a;
  assert_int_equal(smbx_smb2_file_all_info_decode(o, 120, &a, NULL),
                   SMBX_ERR_DECODE); /* only 120 bytes kept here */
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_ALL_INFORMATION, 103, &o, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_ALL_INFORMATION, 110, &o, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 110);
  assert_true(o[64] == (uint8_t)v.id); /* IndexNumber */
  assert_int_equal(o[76], 0x89);       /* AccessFlags: FILE_GENERIC_READ */
  assert_int_equal(o[96] | o[97] << 8, 2 + plen); /* FileNameLength whole */
  assert_int_equal(o[100], '\\');
  assert_memory_equal(o + 102, path, 8); /* the name's first 4 chars */

  /* FileStreamInformation: the memory and its dirty stream */
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_STREAM_INFORMATION, 31, &o, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_STREAM_INFORMATION, 4096, &o,
                         &n),
                   0);
  assert_int_equal(n, 88);
  size_t pos = 0;
  smbx_smb2_file_stream_entry se;
  assert_int_equal(smbx_smb2_file_stream_info_next(o, n, &pos, &se, NULL), 1);
  assert_true(utf16_is(se.stream_name.p, se.stream_name.len, "::$DATA"));
  assert_true(se.stream_size == 12000);
  assert_int_equal(smbx_smb2_file_stream_info_next(o, n, &pos, &se, NULL), 1);
  assert_true(utf16_is(se.stream_name.p, se.stream_name.len,
                       ":dirty:$DATA"));
  uint64_t dirty_size = se.stream_size;
  assert_true(dirty_size == SMBX_VMO_DIRTY_HEADER + 1); /* 3 pages */
  assert_int_equal(smbx_smb2_file_stream_info_next(o, n, &pos, &se, NULL), 0);
  /* room for the first entry only: it alone, ending the list */
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_STREAM_INFORMATION, 87, &o,
                         &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 38);
  pos = 0;
  assert_int_equal(smbx_smb2_file_stream_info_next(o, n, &pos, &se, NULL), 1);
  assert_int_equal(se.next_entry_offset, 0);
  assert_int_equal(smbx_smb2_file_stream_info_next(o, n, &pos, &se, NULL), 0);
  /* room for the fixed part, not one entry: nothing, overflow */
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_STREAM_INFORMATION, 37, &o,
                         &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 0);

  /* file system classes: the object is the volume */
  smbx_smb2_fs_volume_info fv;
  /* MS-FSA: 24 bytes asked at least (up to VolumeLabel, 8-aligned) */
  assert_int_equal(qinfo(&v, 2, SMBX_SMB2_FS_VOLUME_INFORMATION, 23, &o, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qinfo(&v, 2, SMBX_SMB2_FS_VOLUME_INFORMATION, 24, &o, &n),
                   0);
  assert_int_equal(n, 18); /* no label */
  assert_int_equal(smbx_smb2_fs_volume_info_decode(o, n, &fv, NULL), 0);
  assert_int_equal(fv.volume_label.len, 0);
  smbx_smb2_fs_size_info fz;
  o = qfixed(&v, 2, SMBX_SMB2_FS_SIZE_INFORMATION, 24);
  assert_int_equal(smbx_smb2_fs_size_info_decode(o, 24, &fz, NULL), 0);
  assert_true(fz.total_allocation_units == 3); /* 12000 B in 4 KiB pages */
  assert_true(fz.available_allocation_units == 0);
  assert_int_equal(fz.sectors_per_allocation_unit * fz.bytes_per_sector,
                   4096);
  smbx_smb2_fs_full_size_info ff;
  o = qfixed(&v, 2, SMBX_SMB2_FS_FULL_SIZE_INFORMATION, 32);
  assert_int_equal(smbx_smb2_fs_full_size_info_decode(o, 32, &ff, NULL), 0);
  assert_true(ff.total_allocation_units == 3);
  assert_true(ff.caller_available_allocation_units == 0);
  smbx_smb2_fs_device_info fd;
  o = qfixed(&v, 2, SMBX_SMB2_FS_DEVICE_INFORMATION, 8);
  assert_int_equal(smbx_smb2_fs_device_info_decode(o, 8, &fd, NULL), 0);
  assert_int_equal(fd.device_type, 7); /* FILE_DEVICE_DISK */
  smbx_smb2_fs_attribute_info fa;
  assert_int_equal(qinfo(&v, 2, SMBX_SMB2_FS_ATTRIBUTE_INFORMATION, 11, &o,
                         &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qinfo(&v, 2, SMBX_SMB2_FS_ATTRIBUTE_INFORMATION, 4096, &o,
                         &n),
                   0);
  assert_int_equal(smbx_smb2_fs_attribute_info_decode(o, n, &fa, NULL), 0);
  assert_true(utf16_is(fa.file_system_name.p, fa.file_system_name.len,
                       "smbx-vmo"));
  assert_true(fa.file_system_attributes & 0x40000); /* named streams */
  assert_int_equal(qinfo(&v, 2, SMBX_SMB2_FS_ATTRIBUTE_INFORMATION, 15, &o,
                         &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 15);
  assert_int_equal(o[8], 16); /* FileSystemNameLength stays whole */
  smbx_smb2_fs_sector_size_info fs;
  o = qfixed(&v, 2, SMBX_SMB2_FS_SECTOR_SIZE_INFORMATION, 28);
  assert_int_equal(smbx_smb2_fs_sector_size_info_decode(o, 28, &fs, NULL), 0);
  assert_int_equal(fs.logical_bytes_per_sector, 512);

  /* classes not answered, security and quota: INVALID_INFO_CLASS */
  assert_int_equal(qinfo(&v, 1, 21, 4096, &o, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  assert_int_equal(qinfo(&v, 2, 2, 4096, &o, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  assert_int_equal(qinfo(&v, 3, 0, 4096, &o, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  assert_int_equal(qinfo(&v, 4, 0, 4096, &o, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);

  /* the dirty stream: its own size and name, read-only access */
  uint8_t dname[2 * SMBX_VMO_PATH_MAX + 12];
  memcpy(dname, path, plen);
  for (size_t i = 0; i < 6; i++) {
    dname[plen + 2 * i] = (uint8_t)":dirty"[i];
    dname[plen + 2 * i + 1] = 0;
  }
  assert_int_equal(create_name(&v, dname, plen + 12, 0x1, &v.fid), 0);
  o = qfixed(&v, 1, SMBX_SMB2_FILE_STANDARD_INFORMATION, 24);
  assert_int_equal(smbx_smb2_file_standard_info_decode(o, 24, &sd, NULL), 0);
  assert_true(sd.end_of_file == dirty_size);
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_ALL_INFORMATION, 4096, &o, &n),
                   0);
  assert_int_equal(n, 100 + 2 + plen + 12);
  assert_int_equal(qinfo(&v, 1, SMBX_SMB2_FILE_STREAM_INFORMATION, 4096, &o,
                         &n),
                   0);
  assert_int_equal(n, 88);
  /* none of these reached the host */
  assert_int_equal(v.x.n_requests, 1);
  stop(&v);
}

static void vmo_revocation_waits_for_rdma_in_flight(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[3] = {200000, 300000, 524288};
  carve(&v, sizes, 3);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  size_t size = 200000 + 300000 + 524288;
  uint8_t *src = malloc(size), *dst = malloc(size);
  fill(src, size, 21);
  v.x.w->ep[1].rdma_delay_ns = 50000000; /* slow NIC: ops stay posted */
  /* a WRITE whose pull is under way when the object is revoked: it still
   * lands whole and is acknowledged; the blocks come back only after */
  v.destroy_on_rdma = true;
  const rh_ev *e = vwrite(&v, 1, src, 1000000);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(v.released, 1);
  assert_memory_equal(obj_byte(&v, 1), src, 199999);
  assert_memory_equal(obj_byte(&v, 200000), src + 199999, 300000);
  assert_memory_equal(obj_byte(&v, 500000), src + 499999, 1000000 - 499999);
  /* nothing touched the blocks after RELEASED */
  assert_int_equal(v.rops_at_release, v.x.w->rlog_n);
  /* same for a READ */
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  v.destroy_on_rdma = true;
  e = vread(&v, 0, dst, 1000000);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, 1000000);
  assert_int_equal(v.released, 2);
  assert_int_equal(v.rops_at_release, v.x.w->rlog_n);
  assert_memory_equal(dst, obj_byte(&v, 0), 200000);
  /* new requests after the revocation: FILE_CLOSED */
  assert_int_equal(vread(&v, 0, dst, 8192)->ev.u.pdu.status,
                   SMBX_STATUS_FILE_CLOSED);
  assert_int_equal(v.route_rc_min, 0);
  free(src);
  free(dst);
  stop(&v);
}

static void vmo_stuck_revocation_ends_by_teardown(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {1u << 20};
  carve(&v, sizes, 1);
  bind_open(&v, SMBX_VMO_READ, 0x1);
  uint8_t *dst = malloc(1u << 20);
  /* revoked while its RDMA WRITEs are posted and never complete: the host
   * learns which connection holds them and tears it down */
  v.destroy_on_rdma = true;
  v.teardown_on_rdma = true;
  uint64_t req = 0;
  assert_int_equal(smbx_client_read_into(v.x.cli, v.x.cconn, v.x.sess,
                                         v.x.tree, v.fid, 0, dst, 1u << 20,
                                         v.x.now, &req),
                   0);
  rh_pump(&v.x);
  assert_int_equal(v.stuck_conns, 1);
  assert_int_equal(v.stuck_conn, v.x.sconn);
  assert_int_equal(v.released_early, 0);
  assert_int_equal(v.released, 1);
  assert_int_equal(v.rops_at_release, v.x.w->rlog_n);
  assert_true(v.x.cdown);
  uint64_t conns[4];
  assert_int_equal(smbx_vmo_pinned_conns(v.tbl, v.id, conns, 4),
                   SMBX_ERR_NOTFOUND);
  free(dst);
  stop(&v);
}

static void vmo_rdma_error_completion_unpins(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[2] = {65536, 65536};
  carve(&v, sizes, 2);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint8_t buf[131072];
  v.x.w->ep[1].fail_rdma_completion = 1;
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(v.x.cli, v.x.cconn, v.x.sess,
                                          v.x.tree, v.fid, 100, buf, 100000,
                                          v.x.now, &req),
                   0);
  rh_pump(&v.x);
  assert_true(v.x.cdown);
  smbx_vmo_stats st = stats_of(&v);
  assert_int_equal(st.pins, 0);
  /* nothing holds it: revocation gives the blocks back at once */
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  drain_vmo(&v);
  assert_int_equal(v.released, 1);
  stop(&v);
}

static void vmo_concurrent_requests_and_zero_allocations(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[4] = {262144, 262144, 262144, 262144};
  carve(&v, sizes, 4);
  bind_open(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, 0x3);
  uint8_t *src = malloc(1u << 20), *dst = calloc(1, 1u << 20);
  fill(src, 1u << 20, 5);
  /* eight WRITEs in flight at once, unaligned, each crossing an edge */
  uint64_t total0 = v.x.ta.total;
  uint64_t reqs[8];
  for (int i = 0; i < 8; i++) {
    uint64_t off = (uint64_t)i * 131072 + 3;
    uint32_t l = i == 7 ? 131069 : 131072;
    assert_int_equal(smbx_client_write_from(v.x.cli, v.x.cconn, v.x.sess,
                                            v.x.tree, v.fid, off, src + off,
                                            l, v.x.now, &reqs[i]),
                     0);
  }
  for (int i = 0; i < 8; i++)
    assert_int_equal(rh_response(&v.x, reqs[i])->ev.u.pdu.status, 0);
  for (int i = 0; i < 8; i++)
    assert_int_equal(smbx_client_read_into(v.x.cli, v.x.cconn, v.x.sess,
                                           v.x.tree, v.fid,
                                           (uint64_t)i * 131072,
                                           dst + (size_t)i * 131072, 131072,
                                           v.x.now, &reqs[i]),
                     0);
  for (int i = 0; i < 8; i++)
    assert_int_equal(rh_response(&v.x, reqs[i])->ev.u.pdu.status, 0);
  assert_memory_equal(dst + 3, src + 3, (1u << 20) - 3);
  /* the memory objects allocated nothing per request */
  assert_int_equal(v.x.ta.total, total0);
  free(src);
  free(dst);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static uint64_t le(const uint8_t *p, int n)
{
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* Opens the object's dirty stream (path + ":dirty"). */
static uint32_t open_dirty(vt *v, uint32_t access, smbx_smb2_fileid *fid)
{
  uint8_t name[2 * SMBX_VMO_PATH_MAX + 16];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v->tbl, v->id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  const char *suf = SMBX_VMO_DIRTY_SUFFIX;
  for (size_t i = 0; suf[i]; i++) {
    name[len++] = (uint8_t)suf[i];
    name[len++] = 0;
  }
  return create_name(v, name, len, access, fid);
}

/* An inline READ of the dirty stream at generation g: the record's
 * generation and bitmap (12 pages: 2 bytes). */
static uint32_t dirty_inline(vt *v, smbx_smb2_fileid fid, uint64_t g,
                             uint64_t *gen, uint16_t *bits)
{
  smbx_smb2_fileid keep = v->fid;
  v->fid = fid;
  uint8_t buf[64];
  const rh_ev *e = vread(v, g, buf, 64);
  v->fid = keep;
  if (e->ev.u.pdu.status == 0) {
    const uint8_t *r = e->hdr + 64 + 16;
    assert_int_equal(le(e->hdr + 64 + 4, 4), 18); /* DataLength */
    *gen = le(r, 8);
    assert_int_equal(le(r + 8, 4), 4096);
    assert_int_equal(le(r + 12, 4), 12);
    *bits = (uint16_t)le(r + 16, 2);
  }
  return e->ev.u.pdu.status;
}

static void vmo_dirty_stream_generations(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[3] = {16384, 16384, 16384};
  carve(&v, sizes, 3);
  v.id = bind(&v, SMBX_VMO_READ | SMBX_VMO_WRITE, wire_session(&v));
  smbx_smb2_fileid d;
  /* read-only: asking to write is denied */
  assert_int_equal(open_dirty(&v, 0x2, &d), SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(open_dirty(&v, 0x02000000, &d), 0);
  assert_int_equal(v.last_eof, 16 + 2); /* 12 pages: 2 bitmap bytes */
  uint64_t g = 0;
  uint16_t bits = 0xFFFF;
  assert_int_equal(dirty_inline(&v, d, 0, &g, &bits), 0);
  assert_int_equal(g, 1);
  assert_int_equal(bits, 0);
  /* marks: page 0, pages 0-1 (crossing), page 9 */
  assert_int_equal(smbx_vmo_mark_dirty(v.tbl, v.id, 0, 1), 0);
  assert_int_equal(smbx_vmo_mark_dirty(v.tbl, v.id, 4095, 2), 0);
  assert_int_equal(smbx_vmo_mark_dirty(v.tbl, v.id, 40000, 100), 0);
  assert_int_equal(smbx_vmo_mark_dirty(v.tbl, v.id, 0, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_vmo_mark_dirty(v.tbl, v.id, 49150, 3),
                   SMBX_ERR_RANGE);
  assert_int_equal(dirty_inline(&v, d, 1, &g, &bits), 0);
  assert_int_equal(g, 2);
  assert_int_equal(bits, 0x0203);
  /* the response was lost: reading at 1 again loses nothing */
  assert_int_equal(dirty_inline(&v, d, 1, &g, &bits), 0);
  assert_int_equal(g, 3);
  assert_int_equal(bits, 0x0203);
  /* read past it: nothing new */
  assert_int_equal(dirty_inline(&v, d, 3, &g, &bits), 0);
  assert_int_equal(g, 4);
  assert_int_equal(bits, 0);
  /* a generation not reached yet; a READ too short for the record */
  assert_int_equal(dirty_inline(&v, d, 99, &g, &bits),
                   SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid keep = v.fid;
  v.fid = d;
  uint8_t small[8];
  assert_int_equal(vread(&v, 4, small, 8)->ev.u.pdu.status,
                   SMBX_STATUS_BUFFER_TOO_SMALL);
  /* no WRITE on the stream */
  assert_int_equal(vwrite(&v, 0, small, 8)->ev.u.pdu.status,
                   SMBX_STATUS_ACCESS_DENIED);
  /* by RDMA, with the owner dirtying page 5 while the record is sent: the
   * record is the state when the READ arrived, the mark shows next time */
  uint8_t *rec = calloc(1, 8192);
  v.mark_on_rdma = true;
  const rh_ev *e = vread(&v, 4, rec, 8192);
  assert_int_equal(e->ev.u.pdu.status, 0);
  assert_int_equal(e->ev.u.pdu.rdma_length, 18);
  assert_int_equal(le(rec, 8), 5);
  assert_int_equal(le(rec + 16, 2), 0);
  v.fid = keep;
  assert_int_equal(dirty_inline(&v, d, 5, &g, &bits), 0);
  assert_int_equal(bits, 1u << 5);
  /* the data stream of the same object is unaffected */
  assert_int_equal(open_obj(&v, 0x1), 0);
  assert_int_equal(vread(&v, 0, rec, 8192)->ev.u.pdu.status, 0);
  free(rec);
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  stop(&v);
}

static void vmo_dirty_record_pinned_once(void **state)
{
  (void)state;
  vt v;
  start(&v);
  size_t sizes[1] = {3 * 4096 + 1};
  carve(&v, sizes, 1);
  v.id = bind(&v, SMBX_VMO_READ, 9);
  uint8_t name[2 * SMBX_VMO_PATH_MAX + 16];
  size_t len = 0;
  assert_int_equal(smbx_vmo_path(v.tbl, v.id, NULL, 0, NULL, name,
                                 sizeof name, &len),
                   0);
  memcpy(name + len, ":\0D\0i\0R\0t\0Y\0", 12); /* case-insensitive */
  uint64_t op = 0, data = 0, pin = 0, bytes = 0;
  assert_int_equal(smbx_vmo_open(v.tbl, name, len + 12, 9, NULL, 0, SMBX_VMO_READ,
                                 &op),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(smbx_vmo_open(v.tbl, name, len, 9, NULL, 0, SMBX_VMO_READ, &data),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(smbx_vmo_open(v.tbl, name, len + 10, 9, NULL, 0, SMBX_VMO_READ,
                                 &pin),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  uint64_t size = 0;
  uint32_t kind = 0;
  assert_int_equal(smbx_vmo_open_info(v.tbl, op, NULL, &size, &kind), 0);
  assert_int_equal(kind, SMBX_VMO_OPEN_DIRTY);
  assert_int_equal(size, 16 + 1); /* 4 pages: one bitmap byte */
  smbx_sge sg;
  assert_int_equal(smbx_vmo_dirty_read(v.tbl, op, 0, 17, &sg, &bytes, &pin),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(bytes, 17);
  /* the record is the transfer's until unpinned */
  uint64_t pin2 = 0;
  assert_int_equal(smbx_vmo_dirty_read(v.tbl, op, 0, 17, &sg, &bytes, &pin2),
                   SMBX_STATUS_INSUFFICIENT_RESOURCES);
  /* the data open is not the stream, nor the other way round */
  assert_int_equal(smbx_vmo_dirty_read(v.tbl, data, 0, 17, &sg, &bytes, NULL),
                   SMBX_STATUS_ACCESS_DENIED);
  size_t n = 0;
  assert_int_equal(smbx_vmo_map(v.tbl, op, false, 0, 1, &sg, 1, &n, &bytes,
                                NULL),
                   SMBX_STATUS_ACCESS_DENIED);
  /* revoked with the record in flight: released after the unpin */
  assert_int_equal(smbx_vmo_destroy(v.tbl, v.id), 0);
  drain_vmo(&v);
  assert_int_equal(v.released, 0);
  assert_int_equal(smbx_vmo_unpin(v.tbl, pin), 0);
  drain_vmo(&v);
  assert_int_equal(v.released, 1);
  stop(&v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vmo_path_is_namespace_and_128_bit_token),
      cmocka_unit_test(vmo_create_failures_leave_nothing),
      cmocka_unit_test(vmo_allocation_failure_on_every_path),
      cmocka_unit_test(vmo_map_pieces_and_limits),
      cmocka_unit_test(vmo_allowed_users_table),
      cmocka_unit_test(vmo_allowed_user_session_opens_through_node),
      cmocka_unit_test(vmo_guest_session_never_matches_user),
      cmocka_unit_test(vmo_io_more_pieces_than_max_sge),
      cmocka_unit_test(vmo_transfer_refused_by_node_is_answered),
      cmocka_unit_test(vmo_xfer_sge_below_op_sge_counts_as_op_sge),
      cmocka_unit_test(vmo_pin_lookup_many_objects),
      cmocka_unit_test(vmo_unknown_guessed_and_foreign_session_not_found),
      cmocka_unit_test(vmo_rdma_io_many_blocks_crossing_edges),
      cmocka_unit_test(vmo_peer_xfer_whole_object_crossing_block_edges),
      cmocka_unit_test(vmo_end_past_end_and_zero_length),
      cmocka_unit_test(vmo_access_rights_and_reduction),
      cmocka_unit_test(vmo_query_info_close_and_revoked_path),
      cmocka_unit_test(vmo_query_info_every_class),
      cmocka_unit_test(vmo_revocation_waits_for_rdma_in_flight),
      cmocka_unit_test(vmo_stuck_revocation_ends_by_teardown),
      cmocka_unit_test(vmo_rdma_error_completion_unpins),
      cmocka_unit_test(vmo_concurrent_requests_and_zero_allocations),
      cmocka_unit_test(vmo_dirty_stream_generations),
      cmocka_unit_test(vmo_dirty_record_pinned_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
