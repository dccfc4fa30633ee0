/* SPDX-License-Identifier: MIT */
/* Server lease manager (lib/lease/server_mgr.c): the server conformance
 * cases of spec/leases.md sec. 5, named lease_case_<id>_..., driven with a
 * host clock. Clients A, B, C are ClientGuids; "conn" numbers stand for
 * the host's connection handles. */
#include "test_main.h"

#include <smbx/lease.h>
#include <smbx/smb2.h>

#include "core/hash.h"
#include "lease/itab.h"
#include "lease/server_int.h"

#define S 1000000000ull
#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE
#define ACK SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED
#define BIP SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS
#define PKS SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET

#define ACC_READ 0x00120089u  /* FILE_GENERIC_READ */
#define ACC_RW 0x0012019Fu    /* read + write */
#define ACC_STAT 0x00000080u  /* FILE_READ_ATTRIBUTES */
#define ACC_DELETE 0x00010000u
#define DISP_OPEN 1u
#define DISP_OVERWRITE 4u

static const uint8_t GA[16] = {0xA1, 0xA1, 0xA1, 0xA1};
static const uint8_t GB[16] = {0xB2, 0xB2, 0xB2, 0xB2};
static const uint8_t GC[16] = {0xC3, 0xC3, 0xC3, 0xC3};
static const uint64_t F1[2] = {7, 1001};
static const uint64_t F2[2] = {7, 1002};
static const uint64_t D1[2] = {7, 2001};
static const uint64_t D2[2] = {7, 2002};
static const uint64_t P1[2] = {7, 2000}; /* parent of D1 */

typedef struct fx {
  test_alloc ta;
  smbx_lease_mgr *m;
  uint32_t flags;
  uint64_t now;
} fx;

/* One open's parameters (0 / NULL fields take the defaults below). */
typedef struct oa {
  const uint8_t *guid;
  uint64_t conn;
  const uint64_t *file;
  const uint64_t *parent;
  uint32_t access;
  uint32_t disposition;
  uint16_t dialect;
  uint8_t dir, share_conflict, byte_locks;
  uint8_t level; /* RequestedOplockLevel; 0xFF with a lease */
  uint8_t version; /* 0: no RqLs */
  uint8_t key;     /* LeaseKey = 16 x key */
  uint8_t state;
  uint16_t epoch;
  uint8_t parent_key; /* v2 ParentLeaseKey = 16 x parent_key (0: none) */
  uint64_t user;
} oa;

static void key16(uint8_t k[16], uint8_t v)
{
  memset(k, v, 16);
}

static fx *fx_new_limits(uint32_t flags, uint32_t max_leases,
                         uint32_t max_files, uint32_t max_opens)
{
  fx *f = test_calloc(1, sizeof *f);
  test_alloc_init(&f->ta);
  smbx_lease_settings s;
  assert_int_equal(smbx_lease_settings_default(&s, sizeof s), 0);
  s.flags = flags;
  s.max_leases = max_leases;
  s.max_opens = max_opens;
  s.max_files = max_files;
  s.max_clients = 8;
  s.max_waiters = 16;
  s.max_events = 4;
  s.hash_seed = 0x1234;
  assert_int_equal(smbx_lease_mgr_new(&f->m, &s, &f->ta.a), 0);
  f->flags = flags;
  f->now = 1000 * S;
  return f;
}

static fx *fx_new_sized(uint32_t flags, uint32_t max_leases,
                        uint32_t max_files)
{
  return fx_new_limits(flags, max_leases, max_files, 256);
}

static fx *fx_new(uint32_t flags)
{
  return fx_new_sized(flags, 64, 64);
}

static void fx_free(fx *f)
{
  smbx_lease_mgr_free(f->m);
  assert_int_equal(f->ta.live, 0);
  test_free(f);
}

static smbx_lease_open_req mkreq(const oa *a)
{
  smbx_lease_open_req q;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  memcpy(q.client_guid, a->guid ? a->guid : GA, 16);
  q.conn = a->conn ? a->conn : (a->guid == GB ? 2 : a->guid == GC ? 3 : 1);
  q.user = a->user;
  const uint64_t *fk = a->file ? a->file : F1;
  q.file_key[0] = fk[0];
  q.file_key[1] = fk[1];
  if (a->parent) {
    q.has_parent = 1;
    q.parent_key[0] = a->parent[0];
    q.parent_key[1] = a->parent[1];
  }
  q.access = a->access ? a->access : ACC_READ;
  q.disposition = a->disposition ? a->disposition : DISP_OPEN;
  q.dialect = a->dialect ? a->dialect : SMBX_SMB2_DIALECT_311;
  q.capabilities = SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  q.is_dir = a->dir;
  q.share_conflict = a->share_conflict;
  q.byte_locks = a->byte_locks;
  q.requested_oplock = a->version ? SMBX_SMB2_OPLOCK_LEVEL_LEASE : a->level;
  if (a->level && a->version)
    q.requested_oplock = a->level;
  if (a->version) {
    q.has_lease = 1;
    q.lease.version = a->version;
    key16(q.lease.key, a->key);
    q.lease.state = a->state;
    q.lease.epoch = a->epoch;
    if (a->parent_key) {
      q.lease.flags = PKS;
      key16(q.lease.parent_key, a->parent_key);
    }
  }
  return q;
}

static int begin(fx *f, const oa *a, uint64_t *open)
{
  smbx_lease_open_req q = mkreq(a);
  uint32_t st = 0;
  int rc = smbx_lease_open_begin(f->m, &q, f->now, open, &st);
  assert_int_equal(st, SMBX_STATUS_SUCCESS);
  return rc;
}

static smbx_lease_grant finish(fx *f, uint64_t open)
{
  smbx_lease_grant g;
  memset(&g, 0, sizeof g);
  g.struct_size = sizeof g;
  assert_int_equal(smbx_lease_open_finish(f->m, open, 0, f->now, &g), 0);
  return g;
}

/* An open that completes at once. */
static smbx_lease_grant open_now(fx *f, const oa *a, uint64_t *open)
{
  uint64_t o = 0;
  assert_int_equal(begin(f, a, &o), 0);
  if (open)
    *open = o;
  return finish(f, o);
}

static int next(fx *f, smbx_lease_event *e)
{
  memset(e, 0, sizeof *e);
  e->struct_size = sizeof *e;
  return smbx_lease_next_event(f->m, e);
}

static void no_event(fx *f)
{
  smbx_lease_event e;
  assert_int_equal(next(f, &e), 0);
}

/* The next event must be a lease break of key k from cur to nxt. */
static smbx_lease_event expect_break(fx *f, uint8_t k, uint32_t cur,
                                     uint32_t nxt, uint32_t flags,
                                     uint16_t epoch)
{
  smbx_lease_event e;
  assert_int_equal(next(f, &e), 1);
  assert_int_equal(e.type, SMBX_LEASE_EV_BREAK);
  uint8_t kk[16];
  key16(kk, k);
  assert_memory_equal(e.lease_key, kk, 16);
  assert_int_equal(e.current_state, cur);
  assert_int_equal(e.new_state, nxt);
  assert_int_equal(e.flags, flags);
  assert_int_equal(e.new_epoch, epoch);
  assert_int_equal(e.body_len, 44);
  /* the body is the wire notification */
  uint8_t pdu[64 + 44];
  memset(pdu, 0, 64);
  pdu[12] = 0x12; /* Command OPLOCK_BREAK */
  pdu[16] = 1;    /* SERVER_TO_REDIR */
  memset(pdu + 24, 0xFF, 8);
  memcpy(pdu + 64, e.body, 44);
  pdu[0] = 0xFE, pdu[1] = 'S', pdu[2] = 'M', pdu[3] = 'B', pdu[4] = 64;
  smbx_smb2_lease_break_notify n;
  assert_int_equal(
      smbx_smb2_decode_lease_break_notify(pdu, sizeof pdu, &n, NULL), 0);
  assert_int_equal(n.new_epoch, epoch);
  assert_int_equal(n.flags, flags);
  assert_int_equal(n.current_state, cur);
  assert_int_equal(n.new_state, nxt);
  assert_memory_equal(n.lease_key, kk, 16);
  assert_int_equal(n.break_reason, 0);
  return e;
}

static void expect_ready(fx *f, uint64_t user)
{
  smbx_lease_event e;
  assert_int_equal(next(f, &e), 1);
  assert_int_equal(e.type, SMBX_LEASE_EV_READY);
  assert_int_equal(e.user, user);
}

static uint32_t ack(fx *f, const uint8_t *guid, uint8_t k, uint32_t state,
                    uint32_t *resp_state)
{
  smbx_smb2_lease_break_ack a, r;
  memset(&a, 0, sizeof a);
  key16(a.lease_key, k);
  a.lease_state = state;
  uint32_t st = 0;
  assert_int_equal(smbx_lease_ack(f->m, guid, &a, f->now, &r, &st), 0);
  if (resp_state)
    *resp_state = r.lease_state;
  if (st == SMBX_STATUS_SUCCESS)
    assert_memory_equal(r.lease_key, a.lease_key, 16);
  return st;
}

static smbx_lease_info info(fx *f, const uint8_t *guid, uint8_t k)
{
  smbx_lease_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  uint8_t kk[16];
  key16(kk, k);
  assert_int_equal(smbx_lease_query(f->m, guid, kk, &in), 0);
  return in;
}

static bool exists(fx *f, const uint8_t *guid, uint8_t k)
{
  smbx_lease_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  uint8_t kk[16];
  key16(kk, k);
  return smbx_lease_query(f->m, guid, kk, &in) == 0;
}

static int change(fx *f, uint32_t kind, uint64_t open, const uint64_t *a,
                  const uint64_t *b, uint64_t user)
{
  smbx_lease_change c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.kind = kind;
  c.open = open;
  c.user = user;
  if (kind == SMBX_LEASE_CHG_DATA || kind == SMBX_LEASE_CHG_HANDLES) {
    c.file_key[0] = a[0];
    c.file_key[1] = a[1];
  } else {
    c.dir_key[0] = a[0];
    c.dir_key[1] = a[1];
  }
  if (b) {
    c.has_dir2 = 1;
    c.dir2_key[0] = b[0];
    c.dir2_key[1] = b[1];
  }
  return smbx_lease_change_report(f->m, &c, f->now);
}

/* ---- wire and hostile input (server) ------------------------------------ */

/* Builds a CREATE request with the given contexts and decodes it. */
static void create_with(uint8_t *buf, size_t cap, const smbx_smb2_create_ctx *c,
                        size_t n, smbx_smb2_create_req *out)
{
  uint8_t area[512];
  smbx_ssize an = smbx_smb2_create_ctx_list_encode(c, n, area, sizeof area,
                                                   NULL);
  assert_true(an > 0);
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.requested_oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  q.impersonation_level = 2;
  q.desired_access = ACC_READ;
  q.share_access = 7;
  q.create_disposition = 1;
  q.name.p = (const uint8_t *)"a\0";
  q.name.len = 2;
  q.contexts.p = area;
  q.contexts.len = (size_t)an;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_CREATE;
  smbx_ssize pn = smbx_smb2_encode_create_req(&h, &q, buf, cap, NULL);
  assert_true(pn > 0);
  assert_int_equal(smbx_smb2_decode_create_req(buf, (size_t)pn, out, NULL), 0);
}

static size_t rqls(uint8_t *d, uint8_t key, uint32_t state, size_t len)
{
  memset(d, 0, len);
  memset(d, key, 16);
  d[16] = (uint8_t)state;
  return len;
}

static void lease_case_11_dup_rqls(void **st)
{
  (void)st;
  uint8_t d1[52], d2[52], pdu[1024];
  rqls(d1, 0x11, R | H, 52);
  rqls(d2, 0x22, R, 52);
  smbx_smb2_create_ctx c[2] = {{{(const uint8_t *)"RqLs", 4}, {d1, 52}, 0},
                               {{(const uint8_t *)"RqLs", 4}, {d2, 52}, 0}};
  smbx_smb2_create_req cr;
  create_with(pdu, sizeof pdu, c, 2, &cr);
  smbx_lease_open_req q;
  memset(&q, 0, sizeof q);
  uint32_t status = 1;
  assert_int_equal(smbx_lease_create_parse(&cr, 0, &q, &status), 0);
  assert_int_equal(status, SMBX_STATUS_SUCCESS);
  assert_int_equal(q.has_lease, 1); /* the first wins */
  assert_int_equal(q.lease.key[0], 0x11);
  assert_int_equal(q.lease.state, R | H);
  assert_int_equal(q.lease.version, 2);
  assert_int_equal(
      smbx_lease_create_parse(&cr, SMBX_LEASE_STRICT_DUP, &q, &status), 0);
  assert_int_equal(status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(q.has_lease, 0);
}

/* leases.md case 3 seen from the manager: a bad DataLength fails the
 * CREATE before any lease state exists */
static void lease_case_3_rqls_bad_length_no_state(void **st)
{
  (void)st;
  static const size_t lens[] = {0, 31, 33, 51, 53, 64};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    uint8_t d[64], pdu[1024];
    rqls(d, 0x33, R, sizeof d);
    smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4},
                              {lens[i] ? d : NULL, lens[i]}, 0};
    smbx_smb2_create_req cr;
    create_with(pdu, sizeof pdu, &c, 1, &cr);
    smbx_lease_open_req q;
    memset(&q, 0, sizeof q);
    uint32_t status = 0;
    assert_int_equal(smbx_lease_create_parse(&cr, 0, &q, &status), 0);
    assert_int_equal(status, SMBX_STATUS_INVALID_PARAMETER);
    assert_int_equal(q.has_lease, 0);
  }
}

static void lease_case_13_ack_bad_size(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint8_t pdu[64 + 36];
  memset(pdu, 0, sizeof pdu);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = 5;
  smbx_smb2_lease_break_ack a;
  memset(&a, 0, sizeof a);
  assert_int_equal(
      smbx_smb2_encode_lease_break_ack(&h, &a, pdu, sizeof pdu, NULL), 100);
  pdu[64] = 30; /* StructureSize 30 */
  smbx_lease_ack_result r;
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  assert_int_equal(smbx_lease_ack_pdu(f->m, GA, SMBX_SMB2_DIALECT_311, pdu,
                                      sizeof pdu, f->now, &r),
                   0);
  assert_int_equal(r.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(r.body_len, 0);
  /* a lease ack on 2.0.2 is invalid too */
  pdu[64] = 36;
  assert_int_equal(smbx_lease_ack_pdu(f->m, GA, SMBX_SMB2_DIALECT_202, pdu,
                                      sizeof pdu, f->now, &r),
                   0);
  assert_int_equal(r.status, SMBX_STATUS_INVALID_PARAMETER);
  /* the right size reaches the ack rules (unknown key) */
  assert_int_equal(smbx_lease_ack_pdu(f->m, GA, SMBX_SMB2_DIALECT_311, pdu,
                                      sizeof pdu, f->now, &r),
                   0);
  assert_int_equal(r.status, SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  fx_free(f);
}

static void lease_case_14_reserved_ignored(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  /* RqLs with LeaseDuration and Reserved set: ignored, reply carries 0 */
  uint8_t d[52], pdu[1024];
  rqls(d, 0x44, R | W | H, 52);
  memset(d + 24, 0x77, 8); /* LeaseDuration */
  d[50] = 0x55;            /* Reserved */
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {d, 52}, 0};
  smbx_smb2_create_req cr;
  create_with(pdu, sizeof pdu, &c, 1, &cr);
  smbx_lease_open_req q = mkreq(&(oa){.guid = GA});
  uint32_t status = 1;
  assert_int_equal(smbx_lease_create_parse(&cr, 0, &q, &status), 0);
  assert_int_equal(status, 0);
  assert_int_equal(q.lease.duration, 0);
  assert_int_equal(q.lease.reserved, 0);
  uint64_t o;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.lease.state, R | W | H);
  assert_int_equal(g.lease.duration, 0);
  assert_int_equal(g.lease.reserved, 0);
  uint8_t out[52];
  assert_int_equal(smbx_smb2_lease_encode(&g.lease, out, sizeof out, NULL),
                   52);
  static const uint8_t zero[8];
  assert_memory_equal(out + 24, zero, 8);
  assert_int_equal(out[50] | out[51], 0);
  /* ack with LeaseDuration / Reserved / Flags set: ignored, reply 0 */
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW}, &ob), 1);
  expect_break(f, 0x44, R | W | H, R | H, ACK, 2);
  smbx_smb2_lease_break_ack a, r;
  memset(&a, 0, sizeof a);
  key16(a.lease_key, 0x44);
  a.lease_state = R | H;
  a.lease_duration = 99;
  a.reserved = 7;
  a.flags = 3;
  assert_int_equal(smbx_lease_ack(f->m, GA, &a, f->now, &r, &status), 0);
  assert_int_equal(status, 0);
  assert_int_equal(r.lease_state, R | H);
  assert_int_equal(r.lease_duration, 0);
  assert_int_equal(r.reserved, 0);
  assert_int_equal(r.flags, 0);
  fx_free(f);
}

/* ---- negotiation and granting ------------------------------------------- */

static void lease_case_15_caps(void **st)
{
  (void)st;
  /* the node's NEGOTIATE: see tests/lease/test_lease_node.c
   * (lease_case_15_caps_node); here the manager's side of the gate: a
   * directory lease needs DIRECTORY_LEASING negotiated */
  fx *f = fx_new(0);
  smbx_lease_open_req q =
      mkreq(&(oa){.file = D1, .dir = 1, .version = 2, .key = 1,
                  .state = R | H});
  q.capabilities = SMBX_SMB2_CAP_LEASING;
  uint64_t o;
  uint32_t status;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  assert_false(exists(f, GA, 1));
  /* and a file lease needs LEASING */
  q = mkreq(&(oa){.version = 2, .key = 2, .state = R});
  q.capabilities = 0;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  g = finish(f, o);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  fx_free(f);
}

static void lease_case_16_v2_on_21(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g = open_now(
      f,
      &(oa){.dialect = SMBX_SMB2_DIALECT_210, .version = 2, .key = 1,
            .state = R | H},
      NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  assert_false(exists(f, GA, 1));
  /* v1 on 2.1 is honoured */
  g = open_now(f,
               &(oa){.dialect = SMBX_SMB2_DIALECT_210, .version = 1, .key = 2,
                     .state = R | H},
               NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
  assert_int_equal(g.lease.version, 1);
  assert_int_equal(g.lease.state, R | H);
  fx_free(f);
}

/* an ignored context (v2 on 2.1) makes a lease-less open: it breaks the
 * lease of the same key like any other open (found by fuzz_lease_seq) */
static void lease_case_16_ignored_context_breaks_own_key(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.dialect = SMBX_SMB2_DIALECT_210,
                                  .access = ACC_RW, .version = 2, .key = 1,
                                  .state = R | W | H, .user = 3},
                         &o),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 3);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.has_lease, 0);
  assert_int_equal(info(f, GA, 1).opens, 1);
  fx_free(f);
}

static void lease_case_17_dir_on_21(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g =
      open_now(f,
               &(oa){.file = D1, .dir = 1, .dialect = SMBX_SMB2_DIALECT_210,
                     .version = 1, .key = 1, .state = R | H},
               NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  /* v1 on a directory over 3.x: ignored too (3.x clients send v2) */
  g = open_now(f,
               &(oa){.file = D1, .dir = 1, .version = 1, .key = 2,
                     .state = R | H},
               NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  fx_free(f);
}

static void lease_case_18_level_without_ctx_ctx_without_level(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  /* 0xFF without RqLs -> NONE */
  smbx_lease_grant g =
      open_now(f, &(oa){.level = SMBX_SMB2_OPLOCK_LEVEL_LEASE}, NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  /* RqLs with level II -> the context is ignored, II granted */
  g = open_now(f,
               &(oa){.file = F2, .version = 2, .key = 1, .state = R | H,
                     .level = SMBX_SMB2_OPLOCK_LEVEL_II},
               NULL);
  assert_int_equal(g.has_lease, 0);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  assert_false(exists(f, GA, 1));
  fx_free(f);
}

static void lease_case_19_zero_key(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g =
      open_now(f, &(oa){.version = 2, .key = 0, .state = R | W | H}, NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(g.has_lease, 0);
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  assert_int_equal(s.leases, 0);
  fx_free(f);
}

static void lease_case_20_file_grants(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  static const uint8_t ask[8] = {0, R, H, W, R | H, R | W, W | H, R | W | H};
  static const uint8_t got[8] = {0, R, 0, 0, R | H, R | W, 0, R | W | H};
  for (uint8_t i = 0; i < 8; i++) {
    uint64_t fk[2] = {9, 100u + i};
    uint64_t o;
    smbx_lease_grant g = open_now(
        f, &(oa){.file = fk, .version = 2, .key = (uint8_t)(i + 1),
                 .state = ask[i], .epoch = 3},
        &o);
    assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
    assert_int_equal(g.has_lease, 1);
    assert_int_equal(g.lease.state, got[i]);
    assert_int_equal(g.lease.epoch, got[i] ? 4 : 3);
    assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  }
  /* a stream takes its own key: its own file key */
  uint64_t stream[2] = {9, 555};
  open_now(f, &(oa){.version = 2, .key = 0x31, .state = R | W | H}, NULL);
  smbx_lease_grant g = open_now(
      f, &(oa){.file = stream, .version = 2, .key = 0x32, .state = R | W | H},
      NULL);
  assert_int_equal(g.lease.state, R | W | H);
  no_event(f);
  fx_free(f);
}

static void lease_case_21_dir_grants(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  static const uint8_t ask[4] = {R | W | H, R | W, R | H, R};
  static const uint8_t got[4] = {R | H, R, R | H, R};
  for (uint8_t i = 0; i < 4; i++) {
    smbx_lease_grant g = open_now(
        f, &(oa){.file = D1, .dir = 1, .version = 2, .key = (uint8_t)(i + 1),
                 .state = ask[i], .epoch = (uint16_t)(10 * i)},
        NULL);
    assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
    assert_int_equal(g.lease.state, got[i]);
    assert_int_equal(g.lease.epoch, 10 * i + 1);
  }
  no_event(f);
  fx_free(f);
}

static void lease_case_21_dir_write_opt_in(void **st)
{
  (void)st;
  fx *f = fx_new(SMBX_LEASE_DIR_WRITE);
  smbx_lease_grant g = open_now(
      f, &(oa){.file = D1, .dir = 1, .version = 2, .key = 1,
               .state = R | W | H},
      NULL);
  assert_int_equal(g.lease.state, R | W | H);
  /* another client's open inside the directory breaks W and waits */
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.guid = GB, .file = F1, .parent = D1,
                                  .user = 77},
                         &o),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  no_event(f);
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 77);
  finish(f, o);
  /* the holder's own child open (ParentLeaseKey = its key) does not break:
   * get W back first */
  smbx_lease_grant g2 = open_now(
      f, &(oa){.file = D1, .dir = 1, .version = 2, .key = 1,
               .state = R | W | H},
      NULL);
  assert_int_equal(g2.lease.state, R | W | H);
  uint64_t o2;
  assert_int_equal(begin(f, &(oa){.file = F2, .parent = D1, .version = 2,
                                  .key = 5, .state = R, .parent_key = 1},
                         &o2),
                   0);
  finish(f, o2);
  no_event(f);
  /* enumeration through the holder's own directory handle: no break */
  uint64_t od;
  open_now(f, &(oa){.file = D1, .dir = 1, .version = 2, .key = 1,
                    .state = R | W | H},
           &od);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DIR_ACCESS, od, D1, NULL, 87), 0);
  no_event(f);
  /* enumeration by another client: DIR_ACCESS breaks W and waits */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DIR_ACCESS, 0, D1, NULL, 88), 1);
  expect_break(f, 1, R | W | H, R | H, ACK, 4);
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 88);
  fx_free(f);
}

static void lease_case_22_dir_no_oplock(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  static const uint8_t lv[3] = {SMBX_SMB2_OPLOCK_LEVEL_II,
                                SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE,
                                SMBX_SMB2_OPLOCK_LEVEL_BATCH};
  for (int i = 0; i < 3; i++) {
    smbx_lease_grant g =
        open_now(f, &(oa){.file = D1, .dir = 1, .level = lv[i]}, NULL);
    assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  }
  fx_free(f);
}

static void lease_case_23_epoch_new(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g = open_now(
      f, &(oa){.version = 2, .key = 1, .state = R | H, .epoch = 100}, NULL);
  assert_int_equal(g.lease.state, R | H);
  assert_int_equal(g.lease.epoch, 101);
  g = open_now(f,
               &(oa){.file = F2, .byte_locks = 1, .version = 2, .key = 2,
                     .state = R | H, .epoch = 100},
               NULL);
  assert_int_equal(g.lease.state, 0);
  assert_int_equal(g.lease.epoch, 100);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
  fx_free(f);
}

static void lease_case_24_upgrade(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g =
      open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  assert_int_equal(g.lease.state, R);
  assert_int_equal(g.lease.epoch, 1);
  g = open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(g.lease.state, R | H);
  assert_int_equal(g.lease.epoch, 2);
  g = open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  assert_int_equal(g.lease.state, R | W | H);
  assert_int_equal(g.lease.epoch, 3);
  g = open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(g.lease.state, R | W | H); /* never down */
  assert_int_equal(g.lease.epoch, 3);
  g = open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  assert_int_equal(g.lease.epoch, 3); /* no change, no bump */
  assert_int_equal(info(f, GA, 1).opens, 5);
  no_event(f);
  fx_free(f);
}

static void lease_case_25_upgrade_all_or_nothing(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  open_now(f, &(oa){.guid = GB, .version = 2, .key = 2, .state = R}, NULL);
  smbx_lease_grant g =
      open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  assert_int_equal(g.lease.state, R);
  g = open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(g.lease.state, R | H);
  no_event(f);
  /* RW held, RH asked -> stays RW */
  open_now(f, &(oa){.file = F2, .version = 2, .key = 3, .state = R | W},
           NULL);
  g = open_now(f, &(oa){.file = F2, .version = 2, .key = 3, .state = R | H},
               NULL);
  assert_int_equal(g.lease.state, R | W);
  no_event(f);
  fx_free(f);
}

static void lease_case_26_key_reuse_other_file(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  smbx_lease_open_req q = mkreq(&(oa){.file = F2, .version = 2, .key = 1,
                                      .state = R});
  uint64_t o = 5;
  uint32_t status = 0;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  assert_int_equal(status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(o, 0);
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  assert_int_equal(s.opens, 1);
  assert_int_equal(s.files, 1);
  /* another client may use the same key for file2 */
  smbx_lease_grant g = open_now(
      f, &(oa){.guid = GB, .file = F2, .version = 2, .key = 1, .state = R},
      NULL);
  assert_int_equal(g.lease.state, R);
  fx_free(f);
}

static void lease_case_27_parent_key_echo(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g = open_now(
      f, &(oa){.version = 2, .key = 1, .state = R, .parent_key = 0x99},
      NULL);
  assert_int_equal(g.lease.flags, PKS);
  uint8_t pk[16];
  key16(pk, 0x99);
  assert_memory_equal(g.lease.parent_key, pk, 16);
  /* a parent key without the flag: both zero in the reply */
  uint8_t d[52], pdu[1024];
  rqls(d, 0x02, R, 52);
  memset(d + 32, 0x98, 16); /* ParentLeaseKey, flag not set */
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {d, 52}, 0};
  smbx_smb2_create_req cr;
  create_with(pdu, sizeof pdu, &c, 1, &cr);
  smbx_lease_open_req q = mkreq(&(oa){.file = F2});
  uint32_t status;
  assert_int_equal(smbx_lease_create_parse(&cr, 0, &q, &status), 0);
  uint64_t o;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  g = finish(f, o);
  assert_int_equal(g.lease.flags, 0);
  static const uint8_t zero[16];
  assert_memory_equal(g.lease.parent_key, zero, 16);
  fx_free(f);
}

static void lease_case_28_request_flags_ignored(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint8_t d[52], pdu[1024];
  rqls(d, 0x05, R | H, 52);
  d[20] = BIP; /* BREAK_IN_PROGRESS in a request */
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {d, 52}, 0};
  smbx_smb2_create_req cr;
  create_with(pdu, sizeof pdu, &c, 1, &cr);
  smbx_lease_open_req q = mkreq(&(oa){.guid = GA});
  uint32_t status;
  assert_int_equal(smbx_lease_create_parse(&cr, 0, &q, &status), 0);
  assert_int_equal(q.lease.flags, 0);
  uint64_t o;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status), 0);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.lease.state, R | H);
  assert_int_equal(g.lease.flags, 0);
  fx_free(f);
}

static void lease_case_29_stat_open(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  smbx_lease_grant g =
      open_now(f, &(oa){.guid = GB, .access = ACC_STAT}, NULL);
  assert_int_equal(g.oplock_level, 0);
  no_event(f);
  assert_int_equal(info(f, GA, 1).state, R | W | H);
  fx_free(f);
}

/* ---- file breaks and acks ------------------------------------------------ */

static void lease_case_30_w_break_waits(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .version = 2,
                                  .key = 2, .state = R | W | H, .user = 42},
                         &o),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  no_event(f);
  uint32_t rs;
  assert_int_equal(ack(f, GA, 1, R | H, &rs), SMBX_STATUS_SUCCESS);
  assert_int_equal(rs, R | H);
  expect_ready(f, 42);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.lease.state, R | H);
  assert_int_equal(info(f, GA, 1).state, R | H);
  assert_int_equal(info(f, GA, 1).breaking, 0);
  no_event(f);
  fx_free(f);
}

static void lease_case_31_share_conflict_h_only(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_STAT,
                                  .share_conflict = 1, .user = 9},
                         &o),
                   1);
  expect_break(f, 1, R | W | H, R | W, ACK, 2);
  assert_int_equal(ack(f, GA, 1, R | W, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 9);
  /* the host checks the share again: A still has its handle */
  smbx_lease_grant g;
  memset(&g, 0, sizeof g);
  g.struct_size = sizeof g;
  assert_int_equal(smbx_lease_open_finish(f->m, o,
                                          SMBX_STATUS_SHARING_VIOLATION,
                                          f->now, &g),
                   0);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), SMBX_ERR_NOTFOUND);
  assert_int_equal(info(f, GA, 1).state, R | W);
  fx_free(f);
}

static void lease_case_32_r_break_no_ack(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  uint64_t ob;
  open_now(f, &(oa){.guid = GB, .access = ACC_RW}, &ob);
  no_event(f); /* R holds no W: the open breaks nothing */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, ob, F1, NULL, 0), 0);
  expect_break(f, 1, R, 0, 0, 2);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).breaking, 0);
  assert_int_equal(smbx_lease_expiry(f->m), UINT64_MAX);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_UNSUCCESSFUL);
  fx_free(f);
}

static void lease_case_33_nobreakself(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t o1;
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, &o1);
  open_now(f, &(oa){.version = 2, .key = 2, .state = R}, NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, o1, F1, NULL, 0), 0);
  expect_break(f, 2, R, 0, 0, 2);
  no_event(f);
  assert_int_equal(info(f, GA, 1).state, R);
  fx_free(f);
}

static void lease_case_34_leaseless_writer(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  uint64_t ob;
  smbx_lease_grant g = open_now(f, &(oa){.guid = GB, .access = ACC_RW}, &ob);
  assert_int_equal(g.has_lease, 0);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, ob, F1, NULL, 0), 0);
  expect_break(f, 1, R, 0, 0, 2);
  /* a local (non-SMB) write breaks too */
  open_now(f, &(oa){.file = F2, .version = 1, .key = 3, .state = R | H},
           NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F2, NULL, 0), 0);
  expect_break(f, 3, R | H, 0, ACK, 0); /* v1: NewEpoch 0 */
  fx_free(f);
}

static void lease_case_35_breaking_create(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 1},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  smbx_lease_grant g =
      open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  assert_int_equal(g.lease.state, R | W | H);
  assert_int_equal(g.lease.flags, BIP);
  assert_int_equal(g.lease.epoch, 2);
  assert_int_equal(info(f, GA, 1).opens, 2);
  fx_free(f);
}

static void lease_case_36_ack_superset(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW,
                                  .disposition = DISP_OVERWRITE, .user = 1},
                         &ob),
                   0); /* no W held: overwrite does not wait */
  expect_break(f, 1, R | H, 0, ACK, 2);
  static const uint32_t bad[4] = {R, R | H, R | W, R | W | H};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(ack(f, GA, 1, bad[i], NULL),
                     SMBX_STATUS_REQUEST_NOT_ACCEPTED);
    assert_int_equal(info(f, GA, 1).breaking, 1);
  }
  uint32_t rs = 9;
  assert_int_equal(ack(f, GA, 1, 0, &rs), SMBX_STATUS_SUCCESS);
  assert_int_equal(rs, 0);
  assert_int_equal(info(f, GA, 1).state, 0);
  fx_free(f);
}

static void lease_case_37_ack_less(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 5},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 5);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).breaking, 0);
  no_event(f);
  fx_free(f);
}

static void lease_case_38_ack_unknown_key(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  assert_int_equal(ack(f, GA, 0x5A, 0, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(ack(f, GC, 0x5A, 0, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  fx_free(f);
}

static void lease_case_39_ack_other_guid(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW}, &ob), 1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(ack(f, GB, 1, R | H, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(info(f, GA, 1).breaking, 1);
  fx_free(f);
}

static void lease_case_40_ack_other_conn_same_guid(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  /* opens of one lease on two connections of client A */
  open_now(f, &(oa){.conn = 11, .version = 2, .key = 1, .state = R | W | H},
           NULL);
  open_now(f, &(oa){.conn = 12, .version = 2, .key = 1, .state = R | W | H},
           NULL);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 3},
                         &ob),
                   1);
  smbx_lease_event e = expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(e.conn, 11); /* the client's oldest connection */
  /* the ack names no connection: any connection of GA is accepted */
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  expect_ready(f, 3);
  /* a dead connection is skipped for the next break */
  assert_int_equal(smbx_lease_conn_down(f->m, 11), 0);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  e = expect_break(f, 1, R | H, 0, ACK, 3);
  assert_int_equal(e.conn, 12);
  fx_free(f);
}

static void lease_case_41_ack_not_breaking(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(ack(f, GA, 1, R, NULL), SMBX_STATUS_UNSUCCESSFUL);
  assert_int_equal(info(f, GA, 1).state, R | H);
  fx_free(f);
}

static void lease_case_42_ack_after_close(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t oa1;
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, &oa1);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 6},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(smbx_lease_close(f->m, oa1, f->now), 0);
  expect_ready(f, 6);
  assert_false(exists(f, GA, 1));
  assert_int_equal(smbx_lease_expiry(f->m), UINT64_MAX);
  assert_int_equal(ack(f, GA, 1, R | H, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  fx_free(f);
}

static void lease_case_43_stepwise(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t ob, oc;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 1},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  /* C overwrites while A breaks: no second notification */
  assert_int_equal(begin(f, &(oa){.guid = GC, .access = ACC_RW,
                                  .disposition = DISP_OVERWRITE, .user = 2},
                         &oc),
                   1);
  no_event(f);
  assert_int_equal(info(f, GA, 1).required, 0);
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  expect_break(f, 1, R | H, R, ACK, 2);
  no_event(f); /* B and C wait for the whole chain (smbtorture breaking3) */
  assert_int_equal(ack(f, GA, 1, R, NULL), SMBX_STATUS_SUCCESS);
  expect_break(f, 1, R, 0, 0, 2);
  expect_ready(f, 1);
  expect_ready(f, 2);
  no_event(f);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).epoch, 2);
  fx_free(f);
}

static void lease_case_44_timeout(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t oa1;
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, &oa1);
  uint64_t ob;
  uint64_t t0 = f->now;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 8},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(smbx_lease_expiry(f->m), t0 + 35 * S);
  assert_int_equal(smbx_lease_handle_expiry(f->m, t0 + 34 * S + 900000000ull),
                   0);
  assert_int_equal(info(f, GA, 1).breaking, 1);
  no_event(f);
  assert_int_equal(smbx_lease_handle_expiry(f->m, t0 + 35 * S), 1);
  expect_ready(f, 8);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).breaking, 0);
  assert_int_equal(info(f, GA, 1).opens, 1); /* A's handle still works */
  smbx_lease_info oi;
  memset(&oi, 0, sizeof oi);
  oi.struct_size = sizeof oi;
  assert_int_equal(smbx_lease_open_query(f->m, oa1, &oi), 0);
  finish(f, ob);
  f->now = t0 + 36 * S;
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_UNSUCCESSFUL);
  fx_free(f);
}

static void lease_case_45_timeout_without_contender(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t ob;
  uint64_t t0 = f->now;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 4},
                         &ob),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(smbx_lease_cancel(f->m, 4, f->now), 0);
  assert_int_equal(smbx_lease_cancel(f->m, 4, f->now), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_lease_handle_expiry(f->m, t0 + 40 * S), 1);
  no_event(f); /* no READY for a cancelled waiter */
  assert_int_equal(info(f, GA, 1).state, 0);
  fx_free(f);
}

static void lease_case_46_epoch_sequence(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H, .epoch = 0xFFFD},
           NULL);
  assert_int_equal(info(f, GA, 1).epoch, 0xFFFE);
  /* cycle 1: RH -> R via a handle break */
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, F1, NULL, 1), 1);
  expect_break(f, 1, R | H, R, ACK, 0xFFFF);
  assert_int_equal(ack(f, GA, 1, R, NULL), 0);
  expect_ready(f, 1);
  /* upgrade back (+1 wraps to 0), cycle 2 */
  smbx_lease_grant g =
      open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(g.lease.epoch, 0);
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, F1, NULL, 2), 1);
  expect_break(f, 1, R | H, R, ACK, 1);
  /* v1: NewEpoch 0 */
  open_now(f, &(oa){.file = F2, .version = 1, .key = 2, .state = R | H},
           NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F2, NULL, 0), 0);
  expect_break(f, 2, R | H, 0, ACK, 0);
  fx_free(f);
}

static void assert_lease_structure(fx *f)
{
  const char *why = NULL;
  assert_int_equal(smbx__lease_check(f->m, &why), 0);
}

/* Waiters sit on a chain per watched file: an ack wakes the waiters of
 * its lease's file only, first come first woken (user 12 reuses the
 * waiter slot user 21 freed, so slot order would wake it before 11), and
 * a waiter leaves every chain it was on (smbx__lease_check walks them). */
static void lease_waiters_woken_per_file_in_order(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  open_now(f, &(oa){.file = F2, .version = 2, .key = 2, .state = R | H},
           NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, F2, NULL, 21), 1);
  expect_break(f, 2, R | H, R, ACK, 2);
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, F1, NULL, 11), 1);
  expect_break(f, 1, R | H, R, ACK, 2);
  assert_lease_structure(f);
  assert_int_equal(ack(f, GA, 2, R, NULL), 0);
  expect_ready(f, 21);
  no_event(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, F1, NULL, 12), 1);
  uint64_t o = 0;
  assert_int_equal(
      begin(f, &(oa){.guid = GB, .share_conflict = 1, .user = 13}, &o), 1);
  no_event(f); /* key 1 is already breaking to R */
  assert_lease_structure(f);
  assert_int_equal(ack(f, GA, 1, R, NULL), 0);
  expect_ready(f, 11);
  expect_ready(f, 12);
  expect_ready(f, 13);
  no_event(f);
  assert_lease_structure(f);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.has_lease, 0);
  assert_lease_structure(f);
  fx_free(f);
}

/* case 47 (notification header, order after the CREATE response) runs
 * through the node: tests/lease/test_lease_node.c */

/* ---- directory leases ---------------------------------------------------- */

static void dir_lease(fx *f, const uint8_t *guid, const uint64_t *d,
                      uint8_t key, uint8_t state)
{
  smbx_lease_grant g = open_now(
      f, &(oa){.guid = guid, .file = d, .dir = 1, .version = 2, .key = key,
               .state = state},
      NULL);
  assert_int_equal(g.lease.state, state);
}

/* B's child open in D1 (ParentLeaseKey pk, 0 = none); returns its handle */
static uint64_t child(fx *f, const uint8_t *guid, const uint64_t *file,
                      const uint64_t *dir, uint8_t key, uint8_t pk)
{
  uint64_t o;
  smbx_lease_grant g = open_now(
      f, &(oa){.guid = guid, .file = file, .parent = dir, .access = ACC_RW,
               .version = key ? 2 : 0, .key = key, .state = key ? R : 0,
               .parent_key = pk},
      &o);
  (void)g;
  return o;
}

static void lease_case_48_dir_child_create(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R | H);
  uint64_t ob = child(f, GB, F1, D1, 0, 0);
  assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, ob, D1, NULL, 0), 0);
  expect_break(f, 0xD1, R | H, 0, ACK, 2);
  /* B's CREATE is not held: nothing waits, B's open is complete */
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  assert_int_equal(s.waiters, 0);
  assert_int_equal(ack(f, GA, 0xD1, 0, NULL), SMBX_STATUS_SUCCESS);
  fx_free(f);
}

static void lease_case_49_dir_parent_key(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R | H);
  dir_lease(f, GA, D1, 0xD2, R | H);
  uint64_t o = child(f, GA, F1, D1, 0x10, 0xD1);
  assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1, NULL, 0), 0);
  expect_break(f, 0xD2, R | H, 0, ACK, 2);
  no_event(f);
  assert_int_equal(info(f, GA, 0xD1).state, R | H);
  fx_free(f);
}

static void lease_case_49_parent_key_other_client(void **st)
{
  (void)st;
  /* default key-only: B's child with A's directory key exempts A's lease
   * (smbtorture); PARENT_SAME_CLIENT: it does not */
  for (int strict = 0; strict < 2; strict++) {
    fx *f = fx_new(strict ? SMBX_LEASE_PARENT_SAME_CLIENT : 0);
    dir_lease(f, GA, D1, 0xD1, R | H);
    uint64_t o = child(f, GB, F1, D1, 0x10, 0xD1);
    assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1, NULL, 0), 0);
    if (strict)
      expect_break(f, 0xD1, R | H, 0, ACK, 2);
    no_event(f);
    fx_free(f);
  }
}

static void lease_case_50_dir_setinfo(void **st)
{
  (void)st;
  /* EOF, attributes, btime, mtime, ctime, atime set through a child handle:
   * each is a content change of the directory; without the parent key it
   * breaks, with it it does not (12 cases) */
  for (int what = 0; what < 6; what++) {
    for (int with_key = 0; with_key < 2; with_key++) {
      fx *f = fx_new(0);
      dir_lease(f, GA, D1, 0xD1, R | H);
      uint64_t o = child(f, GA, F1, D1, 0x10, with_key ? 0xD1 : 0);
      assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1, NULL, 0), 0);
      if (!with_key)
        expect_break(f, 0xD1, R | H, 0, ACK, 2);
      no_event(f);
      assert_int_equal(info(f, GA, 0xD1).breaking_to, with_key ? R | H : 0);
      fx_free(f);
    }
  }
}

static void lease_case_51_dir_write_then_close(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R | H);
  uint64_t o = child(f, GB, F1, D1, 0, 0);
  /* the write changes the child's data: the directory lease is not on F1 */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, o, F1, NULL, 0), 0);
  no_event(f);
  /* the close of a handle that wrote is a content change */
  assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1, NULL, 0), 0);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  expect_break(f, 0xD1, R | H, 0, ACK, 2);
  fx_free(f);
}

static void lease_case_52_dir_unlink_last_close(void **st)
{
  (void)st;
  /* two child opens (setter with parent key KD, other without); the
   * directory breaks only when the object goes away at the last close,
   * exempt only when the setter is also the last closer */
  for (int setter_last = 0; setter_last < 2; setter_last++) {
    fx *f = fx_new(0);
    dir_lease(f, GA, D1, 0xD1, R | H);
    uint64_t setter = child(f, GA, F1, D1, 0x10, 0xD1);
    uint64_t other = child(f, GA, F1, D1, 0x11, 0);
    uint64_t first = setter_last ? other : setter;
    uint64_t last = setter_last ? setter : other;
    assert_int_equal(smbx_lease_close(f->m, first, f->now), 0);
    no_event(f);
    /* the host reports the deletion with the setter's open only when it
     * is the last closer, then closes */
    assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, setter_last ? last : 0,
                            D1, NULL, 0),
                     0);
    assert_int_equal(smbx_lease_close(f->m, last, f->now), 0);
    if (setter_last) {
      no_event(f);
      assert_int_equal(info(f, GA, 0xD1).state, R | H);
    } else {
      expect_break(f, 0xD1, R | H, 0, ACK, 2);
    }
    fx_free(f);
  }
}

static void lease_case_53_dir_rename_matrix(void **st)
{
  (void)st;
  /* {same dir, cross dir} x {parent key = source lease, = destination
   * lease, wrong key, none}: which directory leases break */
  struct {
    bool cross;
    uint8_t pk;
    bool src_breaks, dst_breaks;
  } m[7] = {
      {false, 0xD1, false, false}, /* same dir, correct key */
      {false, 0x77, true, false},  /* same dir, wrong key */
      {false, 0, true, false},     /* same dir, no key */
      {true, 0xD1, false, true},   /* cross, key of the source */
      {true, 0xD2, true, false},   /* cross, key of the destination */
      {true, 0x77, true, true},    /* cross, wrong key */
      {true, 0, true, true},       /* cross, no key */
  };
  for (int i = 0; i < 7; i++) {
    fx *f = fx_new(0);
    dir_lease(f, GA, D1, 0xD1, R | H);
    dir_lease(f, GA, D2, 0xD2, R | H);
    uint64_t o = child(f, GA, F1, D1, 0x10, m[i].pk);
    assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1,
                            m[i].cross ? D2 : NULL, 0),
                     0);
    if (m[i].src_breaks)
      expect_break(f, 0xD1, R | H, 0, ACK, 2);
    if (m[i].dst_breaks)
      expect_break(f, 0xD2, R | H, 0, ACK, 2);
    no_event(f);
    fx_free(f);
  }
}

static void lease_case_54_dir_r_only(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R);
  assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, 0, D1, NULL, 0), 0);
  expect_break(f, 0xD1, R, 0, 0, 2);
  assert_int_equal(info(f, GA, 0xD1).breaking, 0);
  assert_int_equal(smbx_lease_expiry(f->m), UINT64_MAX);
  fx_free(f);
}

static void lease_case_55_dir_h_conflict(void **st)
{
  (void)st;
  for (int closed = 0; closed < 2; closed++) {
    fx *f = fx_new(0);
    uint64_t oa1, ob1;
    open_now(f, &(oa){.guid = GA, .file = D1, .dir = 1, .version = 2,
                      .key = 0xA, .state = R | H},
             &oa1);
    open_now(f, &(oa){.guid = GB, .file = D1, .dir = 1, .version = 2,
                      .key = 0xB, .state = R | H},
             &ob1);
    uint64_t oc;
    assert_int_equal(begin(f, &(oa){.guid = GC, .file = D1, .dir = 1,
                                    .access = ACC_DELETE, .share_conflict = 1,
                                    .user = 55},
                           &oc),
                     1);
    smbx_lease_event e1, e2;
    assert_int_equal(next(f, &e1), 1);
    assert_int_equal(next(f, &e2), 1);
    assert_int_equal(e1.type, SMBX_LEASE_EV_BREAK);
    assert_int_equal(e2.type, SMBX_LEASE_EV_BREAK);
    assert_int_equal(e1.current_state, R | H);
    assert_int_equal(e1.new_state, R);
    assert_int_equal(e2.new_state, R);
    assert_int_equal(e1.lease_key[0] ^ e2.lease_key[0], 0xA ^ 0xB);
    if (closed) {
      /* holders close their handles instead of acking */
      assert_int_equal(smbx_lease_close(f->m, oa1, f->now), 0);
      no_event(f);
      assert_int_equal(smbx_lease_close(f->m, ob1, f->now), 0);
    } else {
      assert_int_equal(ack(f, GA, 0xA, R, NULL), 0);
      no_event(f);
      assert_int_equal(ack(f, GB, 0xB, R, NULL), 0);
    }
    expect_ready(f, 55);
    /* the host decides: SHARING_VIOLATION while handles remain */
    smbx_lease_grant g;
    memset(&g, 0, sizeof g);
    g.struct_size = sizeof g;
    assert_int_equal(
        smbx_lease_open_finish(f->m, oc,
                               closed ? 0 : SMBX_STATUS_SHARING_VIOLATION,
                               f->now, &g),
        0);
    fx_free(f);
  }
}

static void lease_case_56_dir_parent_rename(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.file = D1, .parent = P1, .dir = 1, .version = 2,
                    .key = 0xD1, .state = R | H},
           NULL);
  /* C renames P: the host breaks the handle leases of the open objects
   * under it and waits */
  assert_int_equal(change(f, SMBX_LEASE_CHG_HANDLES, 0, D1, NULL, 56), 1);
  expect_break(f, 0xD1, R | H, R, ACK, 2);
  no_event(f);
  assert_int_equal(ack(f, GA, 0xD1, R, NULL), 0);
  expect_ready(f, 56);
  /* A kept its handle: the host fails the rename (ACCESS_DENIED) */
  assert_int_equal(info(f, GA, 0xD1).opens, 1);
  assert_int_equal(info(f, GA, 0xD1).state, R);
  fx_free(f);
}

static void lease_case_57_dir_no_deadlock(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R | H);
  /* A (one credit left) creates D\f without a parent key: the CREATE
   * completes at once; the break follows */
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.file = F1, .parent = D1, .access = ACC_RW,
                                  .version = 2, .key = 0x10, .state = R},
                         &o),
                   0);
  no_event(f);
  smbx_lease_grant g = finish(f, o);
  assert_int_equal(g.lease.state, R);
  no_event(f); /* nothing before the host answers the CREATE */
  assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, o, D1, NULL, 0), 0);
  expect_break(f, 0xD1, R | H, 0, ACK, 2);
  fx_free(f);
}

static void lease_case_58_dir_no_storm(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  dir_lease(f, GA, D1, 0xD1, R | H);
  for (int i = 0; i < 100; i++)
    assert_int_equal(change(f, SMBX_LEASE_CHG_CHILD, 0, D1, NULL, 0), 0);
  expect_break(f, 0xD1, R | H, 0, ACK, 2);
  no_event(f);
  /* multibreak for files: two conflicting opens, one notification */
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, NULL);
  uint64_t o1, o2;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_RW, .user = 1},
                         &o1),
                   1);
  assert_int_equal(begin(f, &(oa){.guid = GC, .access = ACC_RW, .user = 2},
                         &o2),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  no_event(f);
  fx_free(f);
}

/* ---- oplocks ------------------------------------------------------------- */

static void lease_oplock_batch_break_to_ii(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t oa1;
  smbx_lease_grant g =
      open_now(f, &(oa){.level = SMBX_SMB2_OPLOCK_LEVEL_BATCH, .user = 0x99},
               &oa1);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_BATCH);
  uint64_t ob;
  assert_int_equal(begin(f, &(oa){.guid = GB, .access = ACC_READ,
                                  .level = SMBX_SMB2_OPLOCK_LEVEL_BATCH,
                                  .user = 7},
                         &ob),
                   1);
  smbx_lease_event e;
  assert_int_equal(next(f, &e), 1);
  assert_int_equal(e.type, SMBX_LEASE_EV_OPLOCK_BREAK);
  assert_int_equal(e.open, oa1);
  assert_int_equal(e.user, 0x99);
  assert_int_equal(e.current_state, SMBX_SMB2_OPLOCK_LEVEL_BATCH);
  assert_int_equal(e.new_state, SMBX_SMB2_OPLOCK_LEVEL_II);
  assert_int_equal(e.body_len, 24);
  assert_int_equal(e.body[0], 24);
  assert_int_equal(e.body[2], SMBX_SMB2_OPLOCK_LEVEL_II);
  uint8_t lvl;
  uint32_t status;
  /* acking above the offered level is refused */
  assert_int_equal(smbx_lease_oplock_ack(f->m, oa1,
                                         SMBX_SMB2_OPLOCK_LEVEL_BATCH, f->now,
                                         &lvl, &status),
                   0);
  assert_int_equal(status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(smbx_lease_oplock_ack(f->m, oa1, SMBX_SMB2_OPLOCK_LEVEL_II,
                                         f->now, &lvl, &status),
                   0);
  assert_int_equal(status, 0);
  assert_int_equal(lvl, SMBX_SMB2_OPLOCK_LEVEL_II);
  expect_ready(f, 7);
  g = finish(f, ob);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  /* a write breaks level II to NONE without an ack */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, ob, F1, NULL, 0), 0);
  assert_int_equal(next(f, &e), 1);
  assert_int_equal(e.type, SMBX_LEASE_EV_OPLOCK_BREAK);
  assert_int_equal(e.open, oa1);
  assert_int_equal(e.new_state, SMBX_SMB2_OPLOCK_LEVEL_NONE);
  assert_int_equal(smbx_lease_oplock_ack(f->m, oa1, 0, f->now, &lvl, &status),
                   0);
  assert_int_equal(status, SMBX_STATUS_INVALID_OPLOCK_PROTOCOL);
  fx_free(f);
}

static void lease_oplock_blocks_lease_h(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_grant g = open_now(
      f, &(oa){.access = ACC_STAT, .level = SMBX_SMB2_OPLOCK_LEVEL_II}, NULL);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  g = open_now(f, &(oa){.guid = GB, .version = 2, .key = 1, .state = R | H},
               NULL);
  assert_int_equal(g.lease.state, R); /* a plain oplock present: no H */
  fx_free(f);
}

/* The file remembers whether a plain oplock is among its leases (a grant
 * without W at stake skips the walk of the other opens otherwise): with
 * two oplocks, closing one leaves the flag set, closing both clears it. */
static void lease_oplock_flag_follows_the_oplocks(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t a, b, c, d;
  smbx_lease_grant g = open_now(
      f, &(oa){.access = ACC_STAT, .level = SMBX_SMB2_OPLOCK_LEVEL_II}, &a);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  g = open_now(f, &(oa){.guid = GC, .access = ACC_STAT,
                        .level = SMBX_SMB2_OPLOCK_LEVEL_II}, &b);
  assert_int_equal(g.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  assert_int_equal(smbx_lease_close(f->m, a, f->now), 0);
  assert_lease_structure(f);
  g = open_now(f, &(oa){.guid = GB, .version = 2, .key = 1, .state = R | H},
               &c);
  assert_int_equal(g.lease.state, R); /* the other oplock still there */
  assert_int_equal(smbx_lease_close(f->m, b, f->now), 0);
  assert_lease_structure(f);
  g = open_now(f, &(oa){.guid = GB, .version = 2, .key = 2, .state = R | H},
               &d);
  assert_int_equal(g.lease.state, R | H);
  assert_lease_structure(f);
  fx_free(f);
}

/* ---- resources ----------------------------------------------------------- */

static int scenario_new(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx_lease_mgr *m = NULL;
  int rc = smbx_lease_mgr_new(&m, NULL, &ta->a);
  smbx_lease_mgr_free(m);
  return rc;
}

static void lease_mgr_new_alloc_failures(void **st)
{
  (void)st;
  assert_true(test_alloc_each_failure(scenario_new, NULL) >= 5);
}

/* The lease and file tables at full load (7/8): slots carry index + 1, the
 * distance from home and a hash tag; every live key is found, absent keys
 * are not, and removal (backward shift across tagged slots) keeps the rest
 * reachable. */
typedef struct tkey {
  uint8_t key[20];
} tkey;

static void tkey_fill(tkey *k, uint32_t i, uint32_t salt)
{
  memset(k->key, 0, sizeof k->key);
  memcpy(k->key, &i, 4);
  memcpy(k->key + 16, &salt, 4);
}

/* the table's owner hashes: here the generic byte hash, or (colliding) a
 * hash with only 3 home bits, so runs get long and distances saturate */
typedef struct tset {
  const tkey *obj;
  uint64_t home_mask;
  unsigned rehashes;
} tset;

static uint64_t tset_hash(const tset *ts, const tkey *k)
{
  uint64_t h = smbx__hash_bytes(k->key, sizeof k->key, 0x1234);
  return (h & ~UINT64_C(0xffffffff)) | (h & ts->home_mask);
}

static uint64_t tset_rehash(const void *ctx, uint32_t idx)
{
  tset *ts = (tset *)(uintptr_t)ctx;
  ts->rehashes++;
  return tset_hash(ts, &ts->obj[idx]);
}

/* Every entry sits in its home's run (no empty slot between), its slot's
 * distance field is exact below saturation, and the count matches. */
static void itab_assert_invariant(const smbx__itab *t, const tset *ts)
{
  size_t n = 0;
  for (size_t i = 0; i <= t->mask; i++) {
    uint32_t v = t->slots[i];
    if (!v)
      continue;
    n++;
    uint32_t idx = (v & t->idx_mask) - 1;
    size_t home = (size_t)tset_hash(ts, &ts->obj[idx]) & t->mask;
    size_t d = (i - home) & t->mask;
    for (size_t j = home; j != i; j = (j + 1) & t->mask)
      assert_true(t->slots[j] != 0);
    uint32_t dist = (v >> t->dist_shift) & t->dist_max;
    assert_int_equal(dist, d < t->dist_max ? d : t->dist_max);
  }
  assert_int_equal(n, t->len);
}

static void itab_full_load_run(uint64_t home_mask, bool expect_rehash)
{
  enum { N = 896 }; /* 1024 slots at 7/8 */
  static tkey obj[N];
  tset ts = {obj, home_mask, 0};
  smbx__itab t;
  assert_int_equal(smbx__itab_init(&t, smbx_allocator_default(), obj,
                                   sizeof(tkey), 0, 20, N, tset_rehash, &ts),
                   0);
  assert_int_equal(smbx__itab_bytes(&t), 1024 * sizeof(uint32_t));
  assert_int_equal(t.dist_max, 15); /* 10 index bits, 22 spare */
  for (uint32_t i = 0; i < N; i++) {
    tkey_fill(&obj[i], i * 2654435761u, 7);
    assert_int_equal(smbx__itab_insert(&t, i, tset_hash(&ts, &obj[i])), 0);
  }
  itab_assert_invariant(&t, &ts);
  tkey extra;
  tkey_fill(&extra, 1, 1);
  assert_int_equal(smbx__itab_insert(&t, N, tset_hash(&ts, &extra)),
                   SMBX_ERR_LIMIT);
  for (uint32_t i = 0; i < N; i++)
    assert_int_equal(smbx__itab_find(&t, obj[i].key, tset_hash(&ts, &obj[i])),
                     i);
  for (uint32_t i = 0; i < 4 * N; i++) {
    tkey_fill(&extra, i * 2654435761u, 8); /* same words but the salt */
    assert_int_equal(smbx__itab_find(&t, extra.key, tset_hash(&ts, &extra)),
                     UINT32_MAX);
  }
  ts.rehashes = 0;
  for (uint32_t i = 0; i < N; i += 2)
    assert_int_equal(smbx__itab_remove(&t, i, tset_hash(&ts, &obj[i])), 0);
  /* the distance field spares the objects' hashes unless saturated */
  assert_true(expect_rehash ? ts.rehashes > 0 : ts.rehashes < N / 8);
  itab_assert_invariant(&t, &ts);
  assert_int_equal(smbx__itab_remove(&t, 0, tset_hash(&ts, &obj[0])),
                   SMBX_ERR_NOTFOUND);
  for (uint32_t i = 0; i < N; i++)
    assert_int_equal(smbx__itab_find(&t, obj[i].key, tset_hash(&ts, &obj[i])),
                     i % 2 ? i : UINT32_MAX);
  for (uint32_t i = 0; i < N; i += 2)
    assert_int_equal(smbx__itab_insert(&t, i, tset_hash(&ts, &obj[i])), 0);
  itab_assert_invariant(&t, &ts);
  for (uint32_t i = 0; i < N; i++)
    assert_int_equal(smbx__itab_find(&t, obj[i].key, tset_hash(&ts, &obj[i])),
                     i);
  smbx__itab_free(&t);
}

static void lease_itab_tagged_slots_full_load(void **st)
{
  (void)st;
  itab_full_load_run(UINT64_C(0xffffffff), false);
}

/* 896 keys over 8 home slots: every run is long, distances saturate at 15
 * and the backward shift asks the owner's hash for those entries. */
static void lease_itab_saturated_distances(void **st)
{
  (void)st;
  itab_full_load_run(7, true);
}

static void lease_limits_and_stale_handles(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t o;
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, &o);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_lease_close(f->m, 0, f->now), SMBX_ERR_NOTFOUND);
  assert_false(exists(f, GA, 1));
  /* clients table full (each client holds a lease): LIMIT */
  uint8_t g[16] = {0};
  uint64_t opens[8];
  for (uint8_t i = 0; i < 8; i++) {
    g[0] = (uint8_t)(0x40 + i);
    smbx_lease_open_req q = mkreq(&(oa){.guid = g, .version = 2, .key = 1,
                                        .state = R});
    uint32_t status;
    assert_int_equal(
        smbx_lease_open_begin(f->m, &q, f->now, &opens[i], &status), 0);
    finish(f, opens[i]);
  }
  g[0] = 0x50;
  smbx_lease_open_req q = mkreq(&(oa){.guid = g});
  uint32_t status;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status),
                   SMBX_ERR_LIMIT);
  for (int i = 0; i < 8; i++)
    assert_int_equal(smbx_lease_close(f->m, opens[i], f->now), 0);
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  assert_int_equal(s.opens + s.files + s.clients + s.leases + s.waiters, 0);
  fx_free(f);
}

/* The file table holds the files in place (buckets of two, linear probing,
 * a spill count per bucket instead of tombstones): filled to max_files it
 * refuses one more file, and files closed in a scrambled order leave every
 * other file findable at its place with exact spill counts
 * (smbx__lease_check), so the freed slots serve new files again. */
static void lease_file_table_fill_and_remove(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  enum { NF = 64 }; /* fx_new's max_files */
  uint64_t keys[NF][2], opens[NF];
  for (uint32_t i = 0; i < NF; i++) {
    keys[i][0] = 0xF00D;
    keys[i][1] = i * 7919u;
    open_now(f, &(oa){.file = keys[i]}, &opens[i]);
    assert_lease_structure(f);
  }
  uint64_t extra[2] = {0xF00D, 1}, o = 0;
  smbx_lease_open_req q = mkreq(&(oa){.file = extra});
  uint32_t status = 0;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &o, &status),
                   SMBX_ERR_LIMIT);
  /* i * 37 mod 64 visits every file once, neighbours far apart */
  for (uint32_t n = 0; n < NF; n++) {
    uint32_t i = n * 37u % NF;
    assert_int_equal(smbx_lease_close(f->m, opens[i], f->now), 0);
    assert_lease_structure(f);
    if (n % 2 == 0) { /* the slot is taken again at once */
      keys[i][1] += 1u << 20;
      open_now(f, &(oa){.file = keys[i]}, &opens[i]);
      assert_lease_structure(f);
      assert_int_equal(smbx_lease_close(f->m, opens[i], f->now), 0);
      assert_lease_structure(f);
    }
  }
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  assert_int_equal(s.files, 0);
  open_now(f, &(oa){.file = extra}, &o);
  assert_lease_structure(f);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  fx_free(f);
}

/* finish reuses begin's lookup of the key only while no lease entered or
 * left the table since: a lease keyed meanwhile by another open of the
 * same key is joined, not duplicated, and one deleted meanwhile is not
 * revived. */
static void lease_finish_sees_keys_changed_since_begin(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t o1, o2;
  assert_int_equal(begin(f, &(oa){.version = 2, .key = 1, .state = R}, &o1),
                   0);
  assert_int_equal(begin(f, &(oa){.version = 2, .key = 1, .state = R}, &o2),
                   0);
  assert_int_equal(finish(f, o1).lease.state, R);
  assert_int_equal(finish(f, o2).lease.state, R);
  assert_int_equal(info(f, GA, 1).opens, 2);
  assert_lease_structure(f);
  /* the key's lease goes away between the next open's begin and finish */
  uint64_t o3;
  assert_int_equal(begin(f, &(oa){.version = 2, .key = 1, .state = R}, &o3),
                   0);
  assert_int_equal(smbx_lease_close(f->m, o1, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, o2, f->now), 0);
  assert_false(exists(f, GA, 1));
  assert_int_equal(finish(f, o3).lease.state, R);
  assert_int_equal(info(f, GA, 1).opens, 1);
  assert_lease_structure(f);
  assert_int_equal(smbx_lease_close(f->m, o3, f->now), 0);
  assert_false(exists(f, GA, 1));
  fx_free(f);
}

/* A caller built against an older, shorter struct gets exactly its prefix
 * of an event or a lease's state (the full-size structs are filled in
 * place, the short ones through a copy): the bytes past struct_size stay
 * as they were. */
static void lease_short_structs_get_their_prefix(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  size_t ev_short = offsetof(smbx_lease_event, current_state);
  smbx_lease_event e;
  memset(&e, 0xEE, sizeof e);
  e.struct_size = ev_short;
  assert_int_equal(smbx_lease_next_event(f->m, &e), 1);
  assert_int_equal(e.struct_size, ev_short);
  assert_int_equal(e.type, SMBX_LEASE_EV_BREAK);
  uint8_t kk[16];
  key16(kk, 1);
  assert_memory_equal(e.lease_key, kk, 16);
  assert_int_equal(e.current_state, 0xEEEEEEEEu);
  assert_int_equal(e.body[0], 0xEE);
  assert_int_equal(smbx_lease_next_event(f->m, &e), 0); /* consumed */
  size_t in_short = offsetof(smbx_lease_info, epoch);
  smbx_lease_info in;
  memset(&in, 0xEE, sizeof in);
  in.struct_size = in_short;
  key16(kk, 1);
  assert_int_equal(smbx_lease_query(f->m, GA, kk, &in), 0);
  assert_int_equal(in.struct_size, in_short);
  assert_int_equal(in.opens, 1);
  assert_int_equal(in.epoch, 0xEEEE);
  assert_int_equal(in.file_key[0], 0xEEEEEEEEEEEEEEEEull);
  fx_free(f);
}

/* A query reports the lease's file key and ParentLeaseKey: a lease
 * without a parent key answers from its copy of the file key (kept where
 * the parent key would be), one with a parent key from its file, an
 * oplock like a lease without one. */
static void lease_query_reports_file_and_parent_keys(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  open_now(f, &(oa){.file = F2, .version = 2, .key = 2, .state = R,
                    .parent_key = 9}, NULL);
  uint64_t op;
  open_now(f, &(oa){.guid = GB, .file = D1,
                    .level = SMBX_SMB2_OPLOCK_LEVEL_II}, &op);
  static const uint8_t zero[16];
  uint8_t nines[16];
  key16(nines, 9);
  smbx_lease_info in = info(f, GA, 1);
  assert_int_equal(in.file_key[0], F1[0]);
  assert_int_equal(in.file_key[1], F1[1]);
  assert_int_equal(in.has_parent, 0);
  assert_memory_equal(in.parent_lease_key, zero, 16);
  in = info(f, GA, 2);
  assert_int_equal(in.file_key[0], F2[0]);
  assert_int_equal(in.file_key[1], F2[1]);
  assert_int_equal(in.has_parent, 1);
  assert_memory_equal(in.parent_lease_key, nines, 16);
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  assert_int_equal(smbx_lease_open_query(f->m, op, &in), 0);
  assert_int_equal(in.version, 0);
  assert_int_equal(in.file_key[1], D1[1]);
  assert_memory_equal(in.parent_lease_key, zero, 16);
  assert_lease_structure(f);
  fx_free(f);
}

/* A break leaves a hint of its lease for the ack; the hint is checked
 * against the lease's own client and key: once the lease is gone, and
 * once its slot serves another key of the same client, an ack of the old
 * key finds nothing, and the new lease is not touched. */
static void lease_ack_hint_never_names_another_lease(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  smbx_lease_event e;
  uint64_t o;
  /* key 3 keeps client A known throughout */
  open_now(f, &(oa){.file = F2, .version = 2, .key = 3, .state = R}, NULL);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, &o);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  assert_int_equal(next(f, &e), 1); /* RH -> NONE, ack required */
  assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* the freed lease slot is reused by key 2 of the same client */
  open_now(f, &(oa){.version = 2, .key = 2, .state = R | H}, NULL);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(info(f, GA, 2).state, R | H);
  /* key 2 breaking: its own ack goes through */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  assert_int_equal(next(f, &e), 1);
  assert_int_equal(ack(f, GA, 2, 0, NULL), SMBX_STATUS_SUCCESS);
  assert_int_equal(info(f, GA, 2).state, 0);
  assert_lease_structure(f);
  fx_free(f);
}

/* A file keeps the union of its leases' states and break cycles (a
 * superset: lowering leaves bits, a full walk makes it exact), and an open
 * or change whose bits are not in it reads none of the leases. The union
 * must take every raise: after a break made it exact (nothing left), an
 * upgrade of the same key to RH is in it, so an overwrite still breaks
 * that lease. */
static void lease_file_sum_takes_every_raise(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t a, b, c;
  smbx_lease_grant g =
      open_now(f, &(oa){.access = ACC_STAT, .version = 2, .key = 1,
                        .state = R}, &a);
  assert_int_equal(g.lease.state, R);
  /* R -> NONE needs no ack: the walk leaves the union empty */
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  expect_break(f, 1, R, 0, 0, 2);
  no_event(f);
  assert_lease_structure(f);
  /* an open that takes only W reads no lease and breaks nothing */
  open_now(f, &(oa){.guid = GB, .version = 2, .key = 2, .state = R}, &c);
  no_event(f);
  /* the upgrade to RH raises the union */
  g = open_now(f, &(oa){.access = ACC_STAT, .version = 2, .key = 1,
                        .state = R | H}, &b);
  assert_int_equal(g.lease.state, R | H);
  assert_lease_structure(f);
  /* an overwrite takes everything: both leases break */
  uint64_t o;
  assert_int_equal(begin(f, &(oa){.guid = GC, .disposition = DISP_OVERWRITE},
                         &o), 0);
  smbx_lease_event e1, e2;
  assert_int_equal(next(f, &e1), 1);
  assert_int_equal(next(f, &e2), 1);
  no_event(f);
  uint8_t k1[16];
  key16(k1, 1);
  const smbx_lease_event *ea =
      memcmp(e1.lease_key, k1, 16) == 0 ? &e1 : &e2;
  assert_memory_equal(ea->lease_key, k1, 16);
  assert_int_equal(ea->current_state, R | H);
  assert_int_equal(ea->new_state, 0);
  assert_int_equal(ea->flags, ACK);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_SUCCESS);
  assert_lease_structure(f);
  finish(f, o);
  assert_int_equal(smbx_lease_close(f->m, a, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, b, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, c, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, o, f->now), 0);
  assert_lease_structure(f);
  fx_free(f);
}

/* The lease pool holds max_leases leases whether it is the size of the
 * file table (a home entry per file slot: more entries than max_leases)
 * or smaller: one past the limit opens without a lease, and a freed entry
 * is found again (the free bits, checked by smbx__lease_check). */
static void lease_pool_limit_and_reuse(void **st)
{
  (void)st;
  static const uint32_t sizes[][2] = {{3, 8}, {8, 8}, {5, 4}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    uint32_t max = sizes[k][0];
    fx *f = fx_new_sized(0, max, sizes[k][1]);
    uint64_t o[9];
    uint64_t fk[9][2];
    for (uint32_t i = 0; i <= max; i++) {
      /* the files the table can hold, then a second key on a held one */
      fk[i][0] = 0xF;
      fk[i][1] = i < sizes[k][1] ? i : 0;
      smbx_lease_grant g =
          open_now(f, &(oa){.file = fk[i], .version = 2,
                            .key = (uint8_t)(i + 1), .state = R | H},
                   &o[i]);
      assert_int_equal(g.has_lease, i < max);
      assert_lease_structure(f);
    }
    assert_int_equal(smbx_lease_close(f->m, o[1], f->now), 0);
    assert_false(exists(f, GA, 2));
    smbx_lease_grant g = open_now(
        f, &(oa){.file = fk[0], .version = 2, .key = 0x77, .state = R},
        NULL);
    assert_int_equal(g.has_lease, 1);
    assert_lease_structure(f);
    for (uint32_t i = 0; i <= max; i++)
      if (i != 1)
        assert_int_equal(smbx_lease_close(f->m, o[i], f->now), 0);
    fx_free(f);
  }
}

/* leases.md 3.8 while the client has a live connection elsewhere: a lease
 * none of whose opens has a connection breaks at once, without a
 * notification; it keeps knowing that through conn_down, a close of its
 * last connected open and a new open joining it. */
static void lease_connless_breaks_at_once_beside_a_live_client_conn(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  /* key 1 on F1 through conn 11 only; key 2 on F2 through conn 12 */
  open_now(f, &(oa){.conn = 11, .version = 2, .key = 1, .state = R | H},
           NULL);
  assert_int_equal(smbx_lease_conn_down(f->m, 11), 0);
  open_now(f, &(oa){.conn = 12, .file = F2, .version = 2, .key = 2,
                    .state = R | H},
           NULL);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  no_event(f);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).breaking, 0);

  /* key 3 on F3 through conns 12 and 13; 13 goes down, 12's open closes */
  static const uint64_t F3[2] = {7, 1003};
  uint64_t a, b;
  open_now(f, &(oa){.conn = 12, .file = F3, .version = 2, .key = 3,
                    .state = R | H},
           &a);
  open_now(f, &(oa){.conn = 13, .file = F3, .version = 2, .key = 3,
                    .state = R | H},
           &b);
  assert_int_equal(smbx_lease_conn_down(f->m, 13), 0);
  assert_lease_structure(f);
  assert_int_equal(smbx_lease_close(f->m, a, f->now), 0);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F3, NULL, 0), 0);
  no_event(f);
  assert_int_equal(info(f, GA, 3).state, 0);

  /* a lease made by an open with no connection (a host's own open) */
  static const uint64_t F4[2] = {7, 1004};
  smbx_lease_open_req q =
      mkreq(&(oa){.file = F4, .version = 2, .key = 4, .state = R | H});
  q.conn = 0;
  uint64_t c;
  uint32_t status = 1;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, &c, &status), 0);
  assert_int_equal(status, SMBX_STATUS_SUCCESS);
  assert_int_equal(finish(f, c).lease.state, R | H);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F4, NULL, 0), 0);
  no_event(f);
  assert_int_equal(info(f, GA, 4).state, 0);

  /* an open through a live connection joins it: breaks are sent again */
  open_now(f, &(oa){.conn = 14, .file = F3, .version = 2, .key = 3,
                    .state = R | H},
           NULL);
  assert_lease_structure(f);
  assert_int_equal(info(f, GA, 3).state, R | H);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F3, NULL, 0), 0);
  smbx_lease_event e = expect_break(f, 3, R | H, 0, ACK, 4);
  assert_int_equal(e.conn, 12); /* the client's connection, not 14 */
  assert_int_equal(e.open, 0);
  assert_int_equal(e.user, 0);
  fx_free(f);
}

/* A lease break event is written field by field, not zeroed first: over
 * a struct full of junk it leaves nothing of the junk (reserved and the
 * body's tail are zero), and it equals the event a zeroed struct gets. */
static void lease_break_event_overwrites_every_field(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | H}, NULL);
  open_now(f, &(oa){.file = F2, .version = 2, .key = 2, .state = R | H},
           NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F2, NULL, 0), 0);
  smbx_lease_event clean, junk;
  assert_int_equal(next(f, &clean), 1);
  memset(&junk, 0xAA, sizeof junk);
  junk.struct_size = sizeof junk;
  assert_int_equal(smbx_lease_next_event(f->m, &junk), 1);
  assert_int_equal(junk.type, SMBX_LEASE_EV_BREAK);
  assert_int_equal(junk.reserved, 0);
  assert_int_equal(junk.body_len, 44);
  static const uint8_t zero[sizeof junk.body - 44];
  assert_memory_equal(junk.body + 44, zero, sizeof zero);
  /* a lease break names the client, not an open */
  assert_int_equal(junk.open, 0);
  assert_int_equal(junk.user, 0);
  /* the same event but for the key (also in the body) */
  key16(clean.lease_key, 2);
  key16(clean.body + 8, 2);
  assert_memory_equal(&clean, &junk, sizeof junk);
  fx_free(f);
}

/* A lookup tells two clients' leases of one key apart by the client's
 * GUID (the client is not looked up first) and finds none for an unknown
 * GUID; a query writes every field of the caller's info, with a lease and
 * for an open without one. */
static void lease_query_by_guid_writes_every_field(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  open_now(f, &(oa){.version = 2, .key = 1, .state = R}, NULL);
  open_now(f, &(oa){.guid = GB, .file = F2, .version = 2, .key = 1,
                    .state = R | H}, NULL);
  uint64_t op;
  open_now(f, &(oa){.file = D1}, &op);
  smbx_lease_info a = info(f, GA, 1), b = info(f, GB, 1), junk;
  assert_int_equal(a.file_key[1], F1[1]);
  assert_int_equal(a.state, R);
  assert_int_equal(b.file_key[1], F2[1]);
  assert_int_equal(b.state, R | H);
  uint8_t k1[16];
  key16(k1, 1);
  memset(&junk, 0xAA, sizeof junk);
  junk.struct_size = sizeof junk;
  assert_int_equal(smbx_lease_query(f->m, GB, k1, &junk), 0);
  assert_memory_equal(&junk, &b, sizeof b);
  assert_int_equal(smbx_lease_query(f->m, GC, k1, &junk), SMBX_ERR_NOTFOUND);
  smbx_lease_info none;
  memset(&none, 0, sizeof none);
  none.struct_size = sizeof none;
  none.deadline = UINT64_MAX;
  memset(&junk, 0xAA, sizeof junk);
  junk.struct_size = sizeof junk;
  assert_int_equal(smbx_lease_open_query(f->m, op, &junk), 0);
  assert_memory_equal(&junk, &none, sizeof none);
  fx_free(f);
}

/* ---- lease placement and the connection-less flag (review of the group
 * placement) ------------------------------------------------------------- */

/* Answers every queued lease break with the state it offers. */
static void ack_all_breaks(fx *f)
{
  smbx_lease_event e;
  while (next(f, &e) == 1) {
    assert_int_equal(e.type, SMBX_LEASE_EV_BREAK);
    if (!(e.flags & ACK))
      continue;
    smbx_smb2_lease_break_ack a, r;
    memset(&a, 0, sizeof a);
    memcpy(a.lease_key, e.lease_key, 16);
    a.lease_state = e.new_state;
    uint32_t status = 1;
    assert_int_equal(
        smbx_lease_ack(f->m, e.client_guid, &a, f->now, &r, &status), 0);
    assert_int_equal(status, SMBX_STATUS_SUCCESS);
  }
}

static uint32_t live_leases(fx *f)
{
  smbx_lease_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  assert_int_equal(smbx_lease_get_stats(f->m, &s), 0);
  return s.leases;
}

/* Pools whose size is not a multiple of the 4-entry group or of the
 * 64-entry free word (1 and 3 have no group at all, 5 and 65 entries
 * outside every group, 64 groups ending a word): all max_leases entries
 * are granted, one more open gets none, and a fill, a break of every
 * lease, a close of every other open and a refill keep the free bits
 * exact (smbx__lease_check after each step). */
static void lease_pool_odd_sizes_fill_break_and_refill(void **st)
{
  (void)st;
  static const uint32_t sizes[] = {1, 3, 4, 5, 63, 64, 65, 130};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    uint32_t n = sizes[k], nf = n / 2 + 1;
    fx *f = fx_new_sized(0, n, nf + 1);
    uint64_t o[131], fk[66][2], spare;
    for (uint32_t i = 0; i < nf; i++) {
      fk[i][0] = 0xB0B;
      fk[i][1] = i;
    }
    /* two clients, so a key byte names a lease n times over */
    for (uint32_t i = 0; i < n; i++) {
      smbx_lease_grant g = open_now(
          f, &(oa){.guid = i & 1 ? GB : GA, .file = fk[i % nf], .version = 2,
                   .key = (uint8_t)(i / 2 + 1), .state = R | H},
          &o[i]);
      assert_int_equal(g.has_lease, 1);
      assert_int_equal(g.lease.state, R | H);
      assert_lease_structure(f);
    }
    assert_int_equal(live_leases(f), n);
    smbx_lease_grant g = open_now(
        f, &(oa){.guid = GC, .file = fk[0], .version = 2, .key = 1,
                 .state = R | H},
        &spare);
    assert_int_equal(g.has_lease, 0);
    assert_lease_structure(f);
    for (uint32_t i = 0; i < nf; i++) {
      assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, fk[i], NULL, 0), 0);
      ack_all_breaks(f);
      assert_lease_structure(f);
    }
    for (uint32_t i = 0; i < n; i += 2) {
      assert_int_equal(smbx_lease_close(f->m, o[i], f->now), 0);
      assert_lease_structure(f);
    }
    assert_int_equal(live_leases(f), n / 2);
    for (uint32_t i = 0; i < n; i += 2) {
      g = open_now(f, &(oa){.guid = GC, .file = fk[i % nf], .version = 2,
                            .key = (uint8_t)(i + 1), .state = R},
                   &o[i]);
      assert_int_equal(g.has_lease, 1);
      assert_lease_structure(f);
    }
    assert_int_equal(live_leases(f), n);
    assert_int_equal(smbx_lease_close(f->m, spare, f->now), 0);
    for (uint32_t i = 0; i < n; i++)
      assert_int_equal(smbx_lease_close(f->m, o[i], f->now), 0);
    assert_lease_structure(f);
    assert_int_equal(live_leases(f), 0);
    fx_free(f);
  }
}

/* One open of file {0x516, i} with lease key i (GA, conn 1). */
static bool open_keyed(fx *f, uint32_t i, uint64_t *o)
{
  const uint64_t file[2] = {0x516, i};
  smbx_lease_open_req q =
      mkreq(&(oa){.file = file, .version = 2, .key = 0x5A, .state = R});
  memcpy(q.lease.key, &i, sizeof i);
  uint32_t status = 1;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, o, &status), 0);
  assert_int_equal(status, SMBX_STATUS_SUCCESS);
  return finish(f, *o).has_lease;
}

/* A pool of more than 4096 entries has two words of free-word summary
 * bits. Entries past the last whole group are reached only by the search
 * for any free entry, which goes on from where the last one ended: the
 * first fill leaves it at the second word (the tail entries are taken
 * there once the first word is full), the refill must wrap back to the
 * first. Every entry is granted both times. */
static void lease_pool_search_wraps_past_the_last_summary_word(void **st)
{
  (void)st;
  enum { N = 4096 + 2 * 64 + 5 };
  fx *f = fx_new_limits(0, N, N + 1, N + 1);
  static uint64_t o[N];
  for (int round = 0; round < 2; round++) {
    for (uint32_t i = 0; i < N; i++) {
      assert_true(open_keyed(f, i, &o[i]));
      if (i % 512 == 0)
        assert_lease_structure(f);
    }
    assert_lease_structure(f);
    assert_int_equal(live_leases(f), N);
    uint64_t extra;
    assert_false(open_keyed(f, N, &extra));
    assert_int_equal(smbx_lease_close(f->m, extra, f->now), 0);
    for (uint32_t i = 0; i < N; i++)
      assert_int_equal(smbx_lease_close(f->m, o[i], f->now), 0);
    assert_lease_structure(f);
    assert_int_equal(live_leases(f), 0);
  }
  fx_free(f);
}

/* Open through no connection (the host's own open). */
static smbx_lease_grant open_connless(fx *f, const oa *a, uint64_t *open)
{
  smbx_lease_open_req q = mkreq(a);
  q.conn = 0;
  uint32_t status = 1;
  assert_int_equal(smbx_lease_open_begin(f->m, &q, f->now, open, &status), 0);
  assert_int_equal(status, SMBX_STATUS_SUCCESS);
  return finish(f, *open);
}

/* leases.md 3.8 counts the connections of all of a lease's opens: an open
 * without one joining a lease leaves it notified; with the client's
 * oldest connection down (conn_down of one of the lease's two
 * connections) the break goes to the other; with both down it takes
 * effect at once, even after an open without a connection raises it. */
static void lease_connless_counts_every_open_of_the_lease(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t o;
  open_now(f, &(oa){.conn = 11, .version = 2, .key = 1, .state = R | H},
           NULL);
  assert_int_equal(open_connless(f, &(oa){.version = 2, .key = 1,
                                          .state = R | H},
                                 &o)
                       .lease.state,
                   R | H);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  assert_int_equal(expect_break(f, 1, R | H, 0, ACK, 2).conn, 11);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_SUCCESS);

  /* a second connection's open raises it again; the first goes down */
  open_now(f, &(oa){.conn = 12, .version = 2, .key = 1, .state = R | H},
           NULL);
  assert_int_equal(smbx_lease_conn_down(f->m, 11), 0);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  assert_int_equal(expect_break(f, 1, R | H, 0, ACK, 4).conn, 12);
  assert_int_equal(ack(f, GA, 1, 0, NULL), SMBX_STATUS_SUCCESS);

  /* both down, the client's open of F2 through 13 is its connection;
   * an open without a connection raises the lease */
  assert_int_equal(smbx_lease_conn_down(f->m, 12), 0);
  assert_lease_structure(f);
  open_now(f, &(oa){.conn = 13, .file = F2, .version = 2, .key = 2,
                    .state = R},
           NULL);
  assert_int_equal(open_connless(f, &(oa){.version = 2, .key = 1,
                                          .state = R | H},
                                 &o)
                       .lease.state,
                   R | H);
  assert_lease_structure(f);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, 0, F1, NULL, 0), 0);
  no_event(f);
  assert_int_equal(info(f, GA, 1).state, 0);
  assert_int_equal(info(f, GA, 1).breaking, 0);
  fx_free(f);
}

/* An oplock is a lease of one open: granted to an open without a
 * connection, or kept after its connection went down, it breaks at once
 * (3.8) and its contender does not wait. */
static void lease_oplock_without_a_connection_breaks_at_once(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t own, down, b;
  assert_int_equal(open_connless(f, &(oa){.level = SMBX_SMB2_OPLOCK_LEVEL_BATCH},
                                 &own)
                       .oplock_level,
                   SMBX_SMB2_OPLOCK_LEVEL_BATCH);
  assert_lease_structure(f);
  assert_int_equal(
      open_now(f, &(oa){.conn = 5, .file = F2,
                        .level = SMBX_SMB2_OPLOCK_LEVEL_BATCH},
               &down)
          .oplock_level,
      SMBX_SMB2_OPLOCK_LEVEL_BATCH);
  assert_int_equal(smbx_lease_conn_down(f->m, 5), 0);
  assert_lease_structure(f);
  static const uint64_t *const files[2] = {F1, F2};
  const uint64_t handles[2] = {own, down};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(
        begin(f, &(oa){.guid = GB, .file = files[i], .access = ACC_RW}, &b),
        0);
    finish(f, b);
    no_event(f);
    smbx_lease_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    assert_int_equal(smbx_lease_open_query(f->m, handles[i], &in), 0);
    assert_int_equal(in.state, R);
    assert_int_equal(in.breaking, 0);
    assert_lease_structure(f);
  }
  fx_free(f);
}

/* conn_down while opens of that connection are still in progress (begun,
 * waiting for an ack): they have no lease yet, so no lease is looked at
 * for them (their `ref` names a waiter). The lease one of them then makes
 * has no connected open and breaks at once. */
static void lease_conn_down_of_opens_in_progress_touches_no_lease(void **st)
{
  (void)st;
  fx *f = fx_new(0);
  uint64_t a, b[3];
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, &a);
  assert_int_equal(begin(f, &(oa){.guid = GB, .conn = 7, .access = ACC_RW,
                                  .user = 21},
                         &b[0]),
                   1);
  assert_int_equal(begin(f, &(oa){.guid = GB, .conn = 7, .access = ACC_RW,
                                  .user = 22},
                         &b[1]),
                   1);
  assert_int_equal(begin(f, &(oa){.guid = GB, .conn = 7, .access = ACC_RW,
                                  .version = 2, .key = 4, .state = R | H,
                                  .user = 23},
                         &b[2]),
                   1);
  expect_break(f, 1, R | W | H, R | H, ACK, 2);
  assert_int_equal(smbx_lease_conn_down(f->m, 7), 0);
  assert_lease_structure(f);
  assert_int_equal(ack(f, GA, 1, R | H, NULL), SMBX_STATUS_SUCCESS);
  for (int i = 0; i < 3; i++)
    expect_ready(f, 21u + (unsigned)i);
  for (int i = 0; i < 3; i++)
    finish(f, b[i]);
  assert_int_equal(info(f, GB, 4).state, R | H);
  assert_lease_structure(f);
  /* A's own write breaks GB's lease, which no connected open holds,
   * while GB has a connection again (its open of F2) */
  open_now(f, &(oa){.guid = GB, .conn = 8, .file = F2}, NULL);
  assert_int_equal(change(f, SMBX_LEASE_CHG_DATA, a, F1, NULL, 0), 0);
  no_event(f);
  assert_int_equal(info(f, GB, 4).state, 0);
  assert_int_equal(info(f, GA, 1).state, R | H);
  fx_free(f);
}

/* An open in progress names its waiter, not a lease: with every waiter
 * slot taken by opens in progress through a live connection and a pool
 * no larger than the waiter table, the lease that loses its only
 * connected open in conn_down stays marked as having none, whichever
 * entry it has. */
static void lease_conn_down_reads_no_waiter_index_as_a_lease(void **st)
{
  (void)st;
  enum { WAITERS = 16 }; /* fx_new_limits' max_waiters */
  fx *f = fx_new_limits(0, WAITERS, 64, 256);
  uint64_t a, l, w[WAITERS];
  open_now(f, &(oa){.version = 2, .key = 1, .state = R | W | H}, &a);
  open_now(f, &(oa){.guid = GC, .conn = 9, .file = F2, .version = 2,
                    .key = 3, .state = R},
           &l);
  for (uint32_t i = 0; i < WAITERS; i++)
    assert_int_equal(begin(f, &(oa){.guid = GB, .conn = 7, .access = ACC_RW,
                                    .user = 100 + i},
                           &w[i]),
                     1);
  assert_int_equal(smbx_lease_conn_down(f->m, 9), 0);
  assert_lease_structure(f);
  for (uint32_t i = 0; i < WAITERS; i++)
    assert_int_equal(smbx_lease_close(f->m, w[i], f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, l, f->now), 0);
  assert_int_equal(smbx_lease_close(f->m, a, f->now), 0);
  assert_lease_structure(f);
  fx_free(f);
}

int main(void)
{
  const struct CMUnitTest t[] = {
      cmocka_unit_test(lease_case_3_rqls_bad_length_no_state),
      cmocka_unit_test(lease_case_11_dup_rqls),
      cmocka_unit_test(lease_case_13_ack_bad_size),
      cmocka_unit_test(lease_case_14_reserved_ignored),
      cmocka_unit_test(lease_case_15_caps),
      cmocka_unit_test(lease_case_16_v2_on_21),
      cmocka_unit_test(lease_case_16_ignored_context_breaks_own_key),
      cmocka_unit_test(lease_case_17_dir_on_21),
      cmocka_unit_test(lease_case_18_level_without_ctx_ctx_without_level),
      cmocka_unit_test(lease_case_19_zero_key),
      cmocka_unit_test(lease_case_20_file_grants),
      cmocka_unit_test(lease_case_21_dir_grants),
      cmocka_unit_test(lease_case_21_dir_write_opt_in),
      cmocka_unit_test(lease_case_22_dir_no_oplock),
      cmocka_unit_test(lease_case_23_epoch_new),
      cmocka_unit_test(lease_case_24_upgrade),
      cmocka_unit_test(lease_case_25_upgrade_all_or_nothing),
      cmocka_unit_test(lease_case_26_key_reuse_other_file),
      cmocka_unit_test(lease_case_27_parent_key_echo),
      cmocka_unit_test(lease_case_28_request_flags_ignored),
      cmocka_unit_test(lease_case_29_stat_open),
      cmocka_unit_test(lease_case_30_w_break_waits),
      cmocka_unit_test(lease_case_31_share_conflict_h_only),
      cmocka_unit_test(lease_case_32_r_break_no_ack),
      cmocka_unit_test(lease_case_33_nobreakself),
      cmocka_unit_test(lease_case_34_leaseless_writer),
      cmocka_unit_test(lease_case_35_breaking_create),
      cmocka_unit_test(lease_case_36_ack_superset),
      cmocka_unit_test(lease_case_37_ack_less),
      cmocka_unit_test(lease_case_38_ack_unknown_key),
      cmocka_unit_test(lease_case_39_ack_other_guid),
      cmocka_unit_test(lease_case_40_ack_other_conn_same_guid),
      cmocka_unit_test(lease_case_41_ack_not_breaking),
      cmocka_unit_test(lease_case_42_ack_after_close),
      cmocka_unit_test(lease_case_43_stepwise),
      cmocka_unit_test(lease_case_44_timeout),
      cmocka_unit_test(lease_case_45_timeout_without_contender),
      cmocka_unit_test(lease_case_46_epoch_sequence),
      cmocka_unit_test(lease_waiters_woken_per_file_in_order),
      cmocka_unit_test(lease_case_48_dir_child_create),
      cmocka_unit_test(lease_case_49_dir_parent_key),
      cmocka_unit_test(lease_case_49_parent_key_other_client),
      cmocka_unit_test(lease_case_50_dir_setinfo),
      cmocka_unit_test(lease_case_51_dir_write_then_close),
      cmocka_unit_test(lease_case_52_dir_unlink_last_close),
      cmocka_unit_test(lease_case_53_dir_rename_matrix),
      cmocka_unit_test(lease_case_54_dir_r_only),
      cmocka_unit_test(lease_case_55_dir_h_conflict),
      cmocka_unit_test(lease_case_56_dir_parent_rename),
      cmocka_unit_test(lease_case_57_dir_no_deadlock),
      cmocka_unit_test(lease_case_58_dir_no_storm),
      cmocka_unit_test(lease_oplock_batch_break_to_ii),
      cmocka_unit_test(lease_oplock_blocks_lease_h),
      cmocka_unit_test(lease_oplock_flag_follows_the_oplocks),
      cmocka_unit_test(lease_file_sum_takes_every_raise),
      cmocka_unit_test(lease_break_event_overwrites_every_field),
      cmocka_unit_test(lease_query_by_guid_writes_every_field),
      cmocka_unit_test(lease_pool_limit_and_reuse),
      cmocka_unit_test(lease_connless_breaks_at_once_beside_a_live_client_conn),
      cmocka_unit_test(lease_pool_odd_sizes_fill_break_and_refill),
      cmocka_unit_test(lease_pool_search_wraps_past_the_last_summary_word),
      cmocka_unit_test(lease_connless_counts_every_open_of_the_lease),
      cmocka_unit_test(lease_oplock_without_a_connection_breaks_at_once),
      cmocka_unit_test(lease_conn_down_of_opens_in_progress_touches_no_lease),
      cmocka_unit_test(lease_conn_down_reads_no_waiter_index_as_a_lease),
      cmocka_unit_test(lease_mgr_new_alloc_failures),
      cmocka_unit_test(lease_limits_and_stale_handles),
      cmocka_unit_test(lease_file_table_fill_and_remove),
      cmocka_unit_test(lease_finish_sees_keys_changed_since_begin),
      cmocka_unit_test(lease_short_structs_get_their_prefix),
      cmocka_unit_test(lease_query_reports_file_and_parent_keys),
      cmocka_unit_test(lease_ack_hint_never_names_another_lease),
      cmocka_unit_test(lease_itab_tagged_slots_full_load),
      cmocka_unit_test(lease_itab_saturated_distances),
  };
  return RUN_TESTS(t);
}
