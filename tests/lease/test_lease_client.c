/* SPDX-License-Identifier: MIT */
/* Client lease table and directory cache (lib/lease/table.c, dircache.c):
 * leases.md sec. 4 rules and the client conformance cases 59-65 at the
 * table level (the node-level runs are in test_lease_node.c). */
#include "test_main.h"

#include <smbx/lease_client.h>

#include "lease/client_int.h"

#define S 1000000000ull
#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE
#define V3 SMBX_SMB2_DIALECT_311
#define CAPS (SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING)

typedef struct fx {
  test_alloc ta;
  smbx_lease_client *lc;
  uint32_t scope;
} fx;

static const uint8_t GUID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                 15, 16};

/* ASCII -> UTF-16LE into a static buffer (one use per statement pair) */
static size_t u16(const char *s, uint8_t *out)
{
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = (uint8_t)s[i];
    out[2 * i + 1] = 0;
  }
  return 2 * n;
}

static void fx_init(fx *f, const smbx_lease_client_settings *s)
{
  test_alloc_init(&f->ta);
  assert_int_equal(smbx_lease_client_new(&f->lc, s, &f->ta.a, 0), 0);
  assert_int_equal(smbx_lease_client_scope(f->lc, GUID,
                                           (const uint8_t *)"share", 5, 0,
                                           &f->scope),
                   0);
}

static void fx_fini(fx *f)
{
  smbx_lease_client_free(f->lc);
  assert_int_equal(f->ta.live, 0);
}

/* Requests and grants `state` (v2, epoch `epoch`) for path. */
static void grant(fx *f, const char *path, uint32_t flags, uint32_t state,
                  uint16_t epoch, uint8_t key[16])
{
  uint8_t p[512];
  size_t n = u16(path, p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f->lc, f->scope, p, n, flags, V3,
                                             CAPS, 7, &rq),
                   0);
  smbx_smb2_lease rs = rq;
  rs.state = state;
  rs.epoch = epoch;
  rs.flags = 0;
  assert_int_equal(smbx_lease_client_granted(f->lc, rq.key, &rs, 0), 0);
  memcpy(key, rq.key, 16);
}

static smbx_smb2_lease_break_notify notif(const uint8_t key[16], uint32_t from,
                                          uint32_t to, uint16_t epoch,
                                          bool ack)
{
  smbx_smb2_lease_break_notify n;
  memset(&n, 0, sizeof n);
  memcpy(n.lease_key, key, 16);
  n.current_state = from;
  n.new_state = to;
  n.new_epoch = epoch;
  n.flags = ack ? SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED : 0;
  return n;
}

static int next(fx *f, smbx_lease_client_event *ev)
{
  memset(ev, 0, sizeof *ev);
  ev->struct_size = sizeof *ev;
  return smbx_lease_client_next_event(f->lc, ev);
}

static void fill(fx *f, const uint8_t key[16], const char **names, size_t n,
                 uint64_t now)
{
  assert_int_equal(smbx_lease_client_dir_fill_begin(f->lc, key, now), 0);
  for (size_t i = 0; i < n; i++) {
    uint8_t nm[256];
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(names[i], nm);
    e.end_of_file = 100 + i;
    e.file_attributes = 0x20;
    e.file_id = 1000 + i;
    assert_int_equal(smbx_lease_client_dir_fill_add(f->lc, key, &e), 0);
  }
  assert_int_equal(smbx_lease_client_dir_fill_end(f->lc, key, now), 0);
}

/* f with the directory "d" leased RH (its key in k) and names cached */
static void dir_fx_init(fx *f, const char **names, size_t n, uint8_t k[16])
{
  fx_init(f, NULL);
  grant(f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  fill(f, k, names, n, 0);
}

static int lookup(fx *f, const uint8_t key[16], const char *name, uint64_t now,
                  smbx_smb2_dir_entry *e)
{
  uint8_t nm[256];
  size_t n = u16(name, nm);
  return smbx_lease_client_dir_lookup(f->lc, key, nm, n, now, e);
}

static void drain(fx *f)
{
  smbx_lease_client_event ev;
  while (next(f, &ev) == 1)
    ;
}

/* ---- requesting (4.1) --------------------------------------------------- */

static void lease_4_1_one_key_per_path_rh_for_dirs(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t p[64], p2[64];
  size_t n = u16("dir\\file.txt", p);
  size_t n2 = u16("DIR\\FILE.TXT", p2);
  smbx_smb2_lease a, b, d;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n, 0, V3, CAPS,
                                             1, &a),
                   0);
  /* same path, another case, another application: the same key */
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p2, n2, 0, V3,
                                             CAPS, 2, &b),
                   0);
  assert_memory_equal(a.key, b.key, 16);
  assert_int_equal(a.version, 2);
  assert_int_equal(a.state, R | W | H);
  assert_int_equal(a.flags, 0); /* parent has no lease */
  n = u16("dir", p);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 1,
                                             &d),
                   0);
  assert_int_equal(d.state, R | H); /* no W on a directory by default */
  smbx_smb2_lease dw;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n,
                                             SMBX_LEASE_REQ_DIR |
                                                 SMBX_LEASE_REQ_DIR_WRITE,
                                             V3, CAPS, 1, &dw),
                   0);
  assert_int_equal(dw.state, R | W | H);
  assert_memory_equal(dw.key, d.key, 16);
  assert_memory_not_equal(d.key, a.key, 16);
  /* 2.1: v1, files only; 2.0.2 none */
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n,
                                             SMBX_LEASE_REQ_DIR,
                                             SMBX_SMB2_DIALECT_210, CAPS, 1,
                                             &d),
                   SMBX_ERR_UNSUPPORTED);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n,
                                             SMBX_LEASE_REQ_DIR, V3,
                                             SMBX_SMB2_CAP_LEASING, 1, &d),
                   SMBX_ERR_UNSUPPORTED);
  n = u16("f21", p);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n, 0,
                                             SMBX_SMB2_DIALECT_210, CAPS, 1,
                                             &d),
                   0);
  assert_int_equal(d.version, 1);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n, 0,
                                             SMBX_SMB2_DIALECT_202, CAPS, 1,
                                             &d),
                   SMBX_ERR_UNSUPPORTED);
  fx_fini(&f);
}

static void lease_4_1_parent_key_when_parent_leased(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t kd[16];
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, kd);
  uint8_t p[64];
  size_t n = u16("d\\f", p);
  smbx_smb2_lease a;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n, 0, V3, CAPS,
                                             1, &a),
                   0);
  assert_int_equal(a.flags, SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET);
  assert_memory_equal(a.parent_key, kd, 16);
  /* the share root is the parent of a top-level name */
  uint8_t kr[16];
  grant(&f, "", SMBX_LEASE_REQ_DIR, R | H, 1, kr);
  n = u16("top", p);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, n, 0, V3, CAPS,
                                             1, &a),
                   0);
  assert_memory_equal(a.parent_key, kr, 16);
  fx_fini(&f);
}

/* ---- breaks (4.2) ------------------------------------------------------------ */

static void lease_case_59_client_epochs(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t k[16];
  grant(&f, "a", 0, R | W | H, 5, k);
  smbx_lease_client_event ev;
  /* NewEpoch 4 < 5: stale, state kept, ack required still answered */
  smbx_smb2_lease_break_notify n = notif(k, R | W | H, R | H, 4, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_BREAK);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_STALE | SMBX_LEASE_CEVF_SETTLED |
                                 SMBX_LEASE_CEVF_ACK);
  assert_int_equal(ev.to, R | W | H);
  assert_int_equal(ev.ack_state, R | H);
  uint32_t st;
  uint16_t ep;
  assert_int_equal(smbx_lease_client_state(f.lc, k, &st, &ep), 0);
  assert_int_equal(st, R | W | H);
  assert_int_equal(ep, 5);
  /* NewEpoch 5 == stored: a step of the current cycle, applied */
  n = notif(k, R | W | H, R | H, 5, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_SETTLED | SMBX_LEASE_CEVF_ACK);
  assert_int_equal(ev.from, R | W | H);
  assert_int_equal(ev.to, R | H);
  assert_int_equal(ev.ack_state, R | H);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_FLUSH);
  assert_int_equal(smbx_lease_client_state(f.lc, k, &st, &ep), 0);
  assert_int_equal(st, R | H);
  /* u16 serial order: 0xFFFF -> 0 is ahead */
  uint8_t k2[16];
  grant(&f, "b", 0, R, 0xFFFF, k2);
  n = notif(k2, R, 0, 0, false);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.flags & SMBX_LEASE_CEVF_STALE, 0);
  assert_int_equal(ev.to, 0);
  assert_int_equal(next(&f, &ev), 0);
  fx_fini(&f);
}

static void lease_case_60_client_epoch_gap(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  static const char *names[] = {"x", "y"};
  uint8_t k[16];
  smbx_lease_client_event ev;
  smbx_smb2_dir_entry e;
  /* notification keeping RH with epoch 7 over 5: purge */
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 5, k);
  fill(&f, k, names, 2, 0);
  assert_int_equal(lookup(&f, k, "x", 1, &e), 1);
  smbx_smb2_lease_break_notify n = notif(k, R | H, R | H, 7, false);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 1), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_BREAK);
  assert_true(ev.flags & SMBX_LEASE_CEVF_EPOCH_GAP);
  assert_true(ev.actions & SMBX_LEASE_ACT_PURGE);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_INVALIDATE);
  assert_int_equal(ev.reason, SMBX_LEASE_INVAL_EPOCH);
  assert_int_equal(lookup(&f, k, "x", 1, &e), SMBX_ERR_NOTFOUND);
  /* a lease response keeping RH with epoch 9 over 7: purge too */
  fill(&f, k, names, 2, 2);
  assert_int_equal(lookup(&f, k, "y", 2, &e), 1);
  uint8_t p[8];
  size_t pn = u16("d", p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, pn,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 7,
                                             &rq),
                   0);
  assert_int_equal(rq.epoch, 7);
  smbx_smb2_lease rs = rq;
  rs.state = R | H;
  rs.epoch = 9;
  assert_int_equal(smbx_lease_client_granted(f.lc, rq.key, &rs, 3), 0);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_INVALIDATE);
  assert_int_equal(ev.reason, SMBX_LEASE_INVAL_EPOCH);
  assert_int_equal(lookup(&f, k, "y", 3, &e), SMBX_ERR_NOTFOUND);
  /* one ahead (a normal upgrade/new cycle) keeps the listing */
  fill(&f, k, names, 2, 4);
  n = notif(k, R | H, R | H, 10, false);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 4), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.flags & SMBX_LEASE_CEVF_EPOCH_GAP, 0);
  assert_int_equal(next(&f, &ev), 0);
  assert_int_equal(lookup(&f, k, "y", 4, &e), 1);
  fx_fini(&f);
}

static void lease_case_61_client_early_break(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t p[8];
  size_t pn = u16("e", p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, pn, 0, V3,
                                             CAPS, 7, &rq),
                   0);
  /* the break overtakes the CREATE response that grants RWH epoch 1 */
  smbx_smb2_lease_break_notify n = notif(rq.key, R | W | H, R | H, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 2);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 0);
  smbx_smb2_lease rs = rq;
  rs.state = R | W | H;
  rs.epoch = 1;
  assert_int_equal(smbx_lease_client_granted(f.lc, rq.key, &rs, 0), 0);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_BREAK);
  assert_int_equal(ev.from, R | W | H);
  assert_int_equal(ev.to, R | H);
  assert_int_equal(ev.epoch, 2);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_ACK | SMBX_LEASE_CEVF_SETTLED);
  assert_int_equal(ev.ack_state, R | H);
  assert_int_equal(ev.owner, 7);
  uint32_t st;
  uint16_t ep;
  assert_int_equal(smbx_lease_client_state(f.lc, rq.key, &st, &ep), 0);
  assert_int_equal(st, R | H);
  assert_int_equal(ep, 2);
  /* a second response without a CREATE outstanding is refused */
  assert_int_equal(smbx_lease_client_granted(f.lc, rq.key, &rs, 0),
                   SMBX_ERR_STATE);
  fx_fini(&f);
}

static void lease_case_62_client_transitions(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t k[16];
  uint32_t ack;
  smbx_lease_client_event ev;
  grant(&f, "file", 0, R | W | H, 1, k);
  /* RWH -> RH with dirty data: FLUSH, and the ack waits for the host */
  assert_int_equal(smbx_lease_client_set_cached(f.lc, k,
                                                SMBX_LEASE_CACHED_DIRTY |
                                                    SMBX_LEASE_CACHED_HANDLES,
                                                0),
                   0);
  smbx_smb2_lease_break_notify n = notif(k, R | W | H, R | H, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_FLUSH);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_ACK | SMBX_LEASE_CEVF_WAIT_FLUSH);
  assert_int_equal(smbx_lease_client_set_cached(f.lc, k, 0,
                                                SMBX_LEASE_CACHED_DIRTY),
                   0);
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack), 1);
  assert_int_equal(ack, R | H);
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack),
                   SMBX_ERR_STATE);
  /* RH -> R: deferred handles closed before the ack */
  n = notif(k, R | H, R, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_CLOSE_HANDLES);
  assert_int_equal(ev.flags,
                   SMBX_LEASE_CEVF_ACK | SMBX_LEASE_CEVF_WAIT_HANDLES);
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack), 1);
  assert_int_equal(ack, R);
  /* R -> NONE without ack: PURGE, settled, nothing owed */
  n = notif(k, R, 0, 2, false);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_PURGE);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_SETTLED);
  assert_int_equal(ev.to, 0);
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack),
                   SMBX_ERR_STATE);
  /* nothing cached: RWH -> R settles at once with both actions */
  uint8_t k2[16];
  grant(&f, "g", 0, R | W | H, 1, k2);
  n = notif(k2, R | W | H, R, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.actions,
                   SMBX_LEASE_ACT_FLUSH | SMBX_LEASE_ACT_CLOSE_HANDLES);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_ACK | SMBX_LEASE_CEVF_SETTLED);
  assert_int_equal(ev.ack_state, R);
  fx_fini(&f);
}

static void lease_case_63_client_dir_cache(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  static const char *names[] = {".", "..", "Alpha.txt", "beta"};
  uint8_t k[16];
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  smbx_smb2_dir_entry e;
  uint32_t cur = 0;
  /* nothing cached yet: ask the server */
  assert_int_equal(smbx_lease_client_dir_next(f.lc, k, 0, &cur, &e),
                   SMBX_ERR_NOTFOUND);
  fill(&f, k, names, 4, 0);
  /* the second enumeration comes from the cache, in server order */
  cur = 0;
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(smbx_lease_client_dir_next(f.lc, k, 1, &cur, &e), 1);
    uint8_t nm[64];
    size_t nl = u16(names[i], nm);
    assert_int_equal(e.file_name.len, nl);
    assert_memory_equal(e.file_name.p, nm, nl);
    assert_int_equal(e.end_of_file, 100 + i);
    assert_int_equal(e.file_id, 1000 + i);
  }
  assert_int_equal(smbx_lease_client_dir_next(f.lc, k, 1, &cur, &e), 0);
  /* lookups, case-insensitive by default; "not found" is an answer */
  assert_int_equal(lookup(&f, k, "ALPHA.TXT", 1, &e), 1);
  assert_int_equal(e.end_of_file, 102);
  assert_int_equal(lookup(&f, k, "gamma", 1, &e), 0);
  /* the break: RH -> NONE, the listing goes and the next one is a miss */
  smbx_smb2_lease_break_notify n = notif(k, R | H, 0, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 2), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_BREAK);
  assert_int_equal(ev.actions,
                   SMBX_LEASE_ACT_CLOSE_HANDLES | SMBX_LEASE_ACT_PURGE);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_INVALIDATE);
  assert_int_equal(ev.reason, SMBX_LEASE_INVAL_BREAK);
  cur = 0;
  assert_int_equal(smbx_lease_client_dir_next(f.lc, k, 2, &cur, &e),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(lookup(&f, k, "beta", 2, &e), SMBX_ERR_NOTFOUND);
  /* and no fill without R */
  assert_int_equal(smbx_lease_client_dir_fill_begin(f.lc, k, 2),
                   SMBX_ERR_STATE);
  fx_fini(&f);
}

static void lease_case_64_client_own_change(void **state)
{
  (void)state;
  fx f;
  static const char *names[] = {"a"};
  uint8_t k[16];
  dir_fx_init(&f, names, 1, k);
  /* this client creates d\f with the directory's key as parent key */
  uint8_t p[16];
  size_t pn = u16("d\\f", p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, pn, 0, V3,
                                             CAPS, 1, &rq),
                   0);
  assert_memory_equal(rq.parent_key, k, 16);
  uint8_t nm[4];
  smbx_smb2_dir_entry e, got;
  memset(&e, 0, sizeof e);
  e.file_name.p = nm;
  e.file_name.len = u16("f", nm);
  e.end_of_file = 5;
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k, SMBX_LEASE_OWN_ADD,
                                                &e, 1),
                   1);
  assert_int_equal(lookup(&f, k, "F", 1, &got), 1);
  assert_int_equal(got.end_of_file, 5);
  e.end_of_file = 9;
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k,
                                                SMBX_LEASE_OWN_SETATTR, &e, 1),
                   1);
  assert_int_equal(lookup(&f, k, "f", 1, &got), 1);
  assert_int_equal(got.end_of_file, 9);
  uint32_t cur = 0, count = 0;
  while (smbx_lease_client_dir_next(f.lc, k, 1, &cur, &got) == 1)
    count++;
  assert_int_equal(count, 2);
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k,
                                                SMBX_LEASE_OWN_REMOVE, &e, 1),
                   1);
  assert_int_equal(lookup(&f, k, "f", 1, &got), 0);
  /* a change to a name the listing does not know: stop serving it */
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k,
                                                SMBX_LEASE_OWN_REMOVE, &e, 1),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(lookup(&f, k, "a", 1, &got), SMBX_ERR_NOTFOUND);
  drain(&f);
  fx_fini(&f);
}

static void lease_case_65_client_unknown_key(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t k[16];
  memset(k, 0x5A, 16);
  smbx_smb2_lease_break_notify n = notif(k, R | H, 0, 3, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 0);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 0);
  uint32_t ack;
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack),
                   SMBX_ERR_NOTFOUND);
  fx_fini(&f);
}

static void lease_case_14_client_reserved_ignored(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint8_t k[16];
  grant(&f, "f", 0, R | H, 1, k);
  smbx_smb2_lease_break_notify n = notif(k, R | H, R, 2, true);
  n.break_reason = 0xDEADBEEF;
  n.access_mask_hint = 0xFFFFFFFF;
  n.share_mask_hint = 7;
  n.new_state |= 0xF0; /* undefined bits never enter the state */
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.to, R);
  assert_int_equal(ev.ack_state, R);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_CLOSE_HANDLES);
  fx_fini(&f);
}

/* ---- directory cache bounds (4.3) ------------------------------------------- */

static void lease_4_3_lifetime_even_under_lease(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL); /* default 30 s */
  static const char *names[] = {"a"};
  uint8_t k[16];
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  fill(&f, k, names, 1, 10 * S);
  assert_int_equal(smbx_lease_client_expiry(f.lc), 40 * S);
  smbx_smb2_dir_entry e;
  assert_int_equal(lookup(&f, k, "a", 40 * S - 1, &e), 1);
  assert_int_equal(smbx_lease_client_handle_expiry(f.lc, 40 * S - 1), 0);
  assert_int_equal(smbx_lease_client_handle_expiry(f.lc, 40 * S), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_INVALIDATE);
  assert_int_equal(ev.reason, SMBX_LEASE_INVAL_EXPIRED);
  assert_int_equal(lookup(&f, k, "a", 40 * S, &e), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_lease_client_expiry(f.lc), UINT64_MAX);
  /* served lazily never past the deadline either */
  fill(&f, k, names, 1, 50 * S);
  assert_int_equal(lookup(&f, k, "a", 80 * S, &e), SMBX_ERR_NOTFOUND);
  /* 0 disables the cache */
  fx g;
  smbx_lease_client_settings s;
  smbx_lease_client_settings_default(&s, sizeof s);
  s.dir_max_age_ns = 0;
  fx_init(&g, &s);
  grant(&g, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  assert_int_equal(smbx_lease_client_dir_fill_begin(g.lc, k, 0),
                   SMBX_ERR_STATE);
  fx_fini(&g);
  drain(&f);
  fx_fini(&f);
}

static void lease_4_3_lru_by_entries_and_bytes(void **state)
{
  (void)state;
  fx f;
  smbx_lease_client_settings s;
  smbx_lease_client_settings_default(&s, sizeof s);
  s.max_dir_entries = 5;
  fx_init(&f, &s);
  static const char *two[] = {"a", "b"};
  static const char *six[] = {"1", "2", "3", "4", "5", "6"};
  uint8_t k1[16], k2[16], k3[16];
  grant(&f, "d1", SMBX_LEASE_REQ_DIR, R | H, 1, k1);
  grant(&f, "d2", SMBX_LEASE_REQ_DIR, R | H, 1, k2);
  grant(&f, "d3", SMBX_LEASE_REQ_DIR, R | H, 1, k3);
  fill(&f, k1, two, 2, 0);
  fill(&f, k2, two, 2, 0);
  smbx_smb2_dir_entry e;
  assert_int_equal(lookup(&f, k1, "a", 1, &e), 1); /* d1 is now the newest */
  fill(&f, k3, two, 2, 1); /* 6 entries > 5: the least recently used goes */
  assert_int_equal(lookup(&f, k2, "a", 1, &e), SMBX_ERR_NOTFOUND);
  assert_int_equal(lookup(&f, k1, "a", 1, &e), 1);
  assert_int_equal(lookup(&f, k3, "a", 1, &e), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_LEASE_CEV_INVALIDATE);
  assert_int_equal(ev.reason, SMBX_LEASE_INVAL_EVICTED);
  assert_memory_equal(ev.key, k2, 16);
  /* a listing larger than the whole cache is abandoned, never partial */
  assert_int_equal(smbx_lease_client_dir_fill_begin(f.lc, k2, 2), 0);
  int rc = 0;
  uint8_t nm[8];
  for (size_t i = 0; i < 6 && rc == 0; i++) {
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(six[i], nm);
    rc = smbx_lease_client_dir_fill_add(f.lc, k2, &e);
  }
  assert_int_equal(rc, SMBX_ERR_LIMIT);
  assert_int_equal(smbx_lease_client_dir_fill_end(f.lc, k2, 2),
                   SMBX_ERR_STATE);
  assert_int_equal(lookup(&f, k2, "1", 2, &e), SMBX_ERR_NOTFOUND);
  drain(&f);
  fx_fini(&f);
  /* bytes bound */
  smbx_lease_client_settings_default(&s, sizeof s);
  s.max_dir_bytes = 3000;
  fx_init(&f, &s);
  grant(&f, "d1", SMBX_LEASE_REQ_DIR, R | H, 1, k1);
  grant(&f, "d2", SMBX_LEASE_REQ_DIR, R | H, 1, k2);
  fill(&f, k1, two, 2, 0);
  fill(&f, k2, two, 2, 0);
  smbx_lease_client_stats st;
  st.struct_size = sizeof st;
  assert_int_equal(smbx_lease_client_get_stats(f.lc, &st), 0);
  assert_true(st.bytes <= 3000);
  assert_int_equal(st.listings, 1); /* a listing's arrays alone are ~1 KiB */
  assert_int_equal(lookup(&f, k1, "a", 0, &e), SMBX_ERR_NOTFOUND);
  assert_int_equal(lookup(&f, k2, "a", 0, &e), 1);
  drain(&f);
  fx_fini(&f);
}

static void lease_4_3_case_sensitive_scope(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  uint32_t cs;
  assert_int_equal(smbx_lease_client_scope(f.lc, GUID,
                                           (const uint8_t *)"posix", 5,
                                           SMBX_LEASE_SCOPE_CASE_SENSITIVE,
                                           &cs),
                   0);
  assert_int_not_equal(cs, f.scope);
  uint8_t p[8];
  size_t pn = u16("d", p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, cs, p, pn,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 1,
                                             &rq),
                   0);
  smbx_smb2_lease rs = rq;
  rs.state = R | H;
  assert_int_equal(smbx_lease_client_granted(f.lc, rq.key, &rs, 0), 0);
  static const char *names[] = {"Readme"};
  fill(&f, rq.key, names, 1, 0);
  smbx_smb2_dir_entry e;
  assert_int_equal(lookup(&f, rq.key, "Readme", 1, &e), 1);
  assert_int_equal(lookup(&f, rq.key, "README", 1, &e), 0);
  /* the case rule cannot change once the scope has keys */
  assert_int_equal(smbx_lease_client_scope(f.lc, GUID,
                                           (const uint8_t *)"posix", 5, 0,
                                           &cs),
                   SMBX_ERR_STATE);
  fx_fini(&f);
}

static void lease_4_3_write_lease_log_in_order(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  static const char *names[] = {"old"};
  uint8_t k[16];
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | W | H, 1, k); /* opt-in server */
  fill(&f, k, names, 1, 0);
  uint8_t n1[8], n2[8];
  smbx_smb2_dir_entry e1, e2, got;
  memset(&e1, 0, sizeof e1);
  memset(&e2, 0, sizeof e2);
  e1.file_name.p = n1;
  e1.file_name.len = u16("new", n1);
  e2.file_name.p = n2;
  e2.file_name.len = u16("old", n2);
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k, SMBX_LEASE_OWN_ADD,
                                                &e1, 1),
                   2);
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k,
                                                SMBX_LEASE_OWN_REMOVE, &e2, 1),
                   2);
  assert_int_equal(lookup(&f, k, "new", 1, &got), 1);
  assert_int_equal(lookup(&f, k, "old", 1, &got), 0);
  /* losing W: the log must be written back before the ack */
  smbx_smb2_lease_break_notify n = notif(k, R | W | H, R | H, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 1), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.actions, SMBX_LEASE_ACT_FLUSH);
  assert_int_equal(ev.flags, SMBX_LEASE_CEVF_ACK | SMBX_LEASE_CEVF_DIR |
                                 SMBX_LEASE_CEVF_WAIT_FLUSH);
  uint32_t op;
  assert_int_equal(smbx_lease_client_dir_log_peek(f.lc, k, &op, &got), 1);
  assert_int_equal(op, SMBX_LEASE_OWN_ADD);
  assert_memory_equal(got.file_name.p, n1, e1.file_name.len);
  assert_int_equal(smbx_lease_client_dir_log_pop(f.lc, k), 0);
  assert_int_equal(smbx_lease_client_dir_log_peek(f.lc, k, &op, &got), 1);
  assert_int_equal(op, SMBX_LEASE_OWN_REMOVE);
  assert_int_equal(smbx_lease_client_dir_log_pop(f.lc, k), 0);
  assert_int_equal(smbx_lease_client_dir_log_peek(f.lc, k, &op, &got), 0);
  uint32_t ack;
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 1, &ack), 1);
  assert_int_equal(ack, R | H);
  /* without W changes are not logged */
  memset(&e1, 0, sizeof e1);
  e1.file_name.p = n1;
  e1.file_name.len = u16("z", n1);
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k, SMBX_LEASE_OWN_ADD,
                                                &e1, 1),
                   1);
  assert_int_equal(smbx_lease_client_dir_log_peek(f.lc, k, &op, &got), 0);
  fx_fini(&f);
}

static void lease_4_1_table_full_reuses_idle_entries(void **state)
{
  (void)state;
  fx f;
  smbx_lease_client_settings s;
  smbx_lease_client_settings_default(&s, sizeof s);
  s.max_leases = 2;
  fx_init(&f, &s);
  uint8_t k1[16], k2[16], k3[16];
  grant(&f, "a", 0, R, 1, k1);
  grant(&f, "b", 0, 0, 1, k2); /* holds nothing */
  grant(&f, "c", 0, R, 1, k3);
  uint32_t st;
  assert_int_equal(smbx_lease_client_state(f.lc, k2, &st, NULL),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_lease_client_state(f.lc, k1, &st, NULL), 0);
  uint8_t p[4];
  size_t pn = u16("d", p);
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, pn, 0, V3,
                                             CAPS, 1, &rq),
                   SMBX_ERR_LIMIT);
  smbx_lease_client_stats stt;
  stt.struct_size = sizeof stt;
  assert_int_equal(smbx_lease_client_get_stats(f.lc, &stt), 0);
  assert_int_equal(stt.leases, 2);
  assert_true(stt.bytes_per_lease <= 64);
  fx_fini(&f);
}

static int scenario_fill(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx_lease_client *lc;
  int rc = smbx_lease_client_new(&lc, NULL, &ta->a, 0);
  if (rc)
    return rc;
  uint32_t scope;
  uint8_t p[4] = {'d', 0};
  smbx_smb2_lease rq;
  if ((rc = smbx_lease_client_scope(lc, GUID, NULL, 0, 0, &scope)) == 0 &&
      (rc = smbx_lease_client_request(lc, scope, p, 2, SMBX_LEASE_REQ_DIR, V3,
                                      CAPS, 1, &rq)) == 0) {
    smbx_smb2_lease rs = rq;
    rs.state = R | H;
    (void)smbx_lease_client_granted(lc, rq.key, &rs, 0);
    rc = smbx_lease_client_dir_fill_begin(lc, rq.key, 0);
    for (int i = 0; i < 200 && rc == 0; i++) {
      uint8_t nm[8] = {(uint8_t)('a' + i % 26), 0, (uint8_t)('0' + i / 26), 0};
      smbx_smb2_dir_entry e;
      memset(&e, 0, sizeof e);
      e.file_name.p = nm;
      e.file_name.len = 4;
      rc = smbx_lease_client_dir_fill_add(lc, rq.key, &e);
    }
    if (rc == 0)
      rc = smbx_lease_client_dir_fill_end(lc, rq.key, 0);
  }
  smbx_lease_client_free(lc);
  return rc;
}

/* 4.1: an open of a key whose break this client already applied, sent
 * before the ack reached the server, is answered with the state before
 * the break and BREAK_IN_PROGRESS (Windows, Samba). The break's target
 * stays the state (the ack must not claim more) and nothing waits for
 * another notification; a response of a newer epoch still does. */
static void lease_4_1_open_during_own_break_keeps_target(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  static const char *names[] = {"a", "b"};
  uint8_t k[16], p[8];
  size_t pn = u16("d", p);
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  fill(&f, k, names, 2, 0);
  /* a deferred handle: the ack waits for its close */
  assert_int_equal(smbx_lease_client_set_cached(f.lc, k,
                                                SMBX_LEASE_CACHED_HANDLES, 0),
                   0);
  smbx_smb2_lease_break_notify n = notif(k, R | H, 0, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  smbx_lease_client_event ev;
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.flags & SMBX_LEASE_CEVF_SETTLED, 0);
  drain(&f);
  /* the application opens the directory again before the ack is sent */
  smbx_smb2_lease rq;
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p, pn,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 7,
                                             &rq),
                   0);
  assert_memory_equal(rq.key, k, 16);
  smbx_smb2_lease rs = rq;
  rs.state = R | H; /* the server's state until the ack */
  rs.epoch = 2;
  rs.flags = SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
  assert_int_equal(smbx_lease_client_granted(f.lc, k, &rs, 0), 0);
  uint32_t st = 99;
  assert_int_equal(smbx_lease_client_state(f.lc, k, &st, NULL), 0);
  assert_int_equal(st, 0);
  uint32_t ack = 99;
  assert_int_equal(smbx_lease_client_break_done(f.lc, k, 0, &ack), 1);
  assert_int_equal(ack, 0); /* a subset of the break's NewLeaseState */
  assert_int_equal(smbx_lease_client_set_cached(f.lc, k, 0,
                                                SMBX_LEASE_CACHED_HANDLES),
                   0);

  /* the same when the response comes after the ack: RH -> R applied and
   * acked at once, then the open answered RH + BREAK_IN_PROGRESS */
  uint8_t k2[16], p2[8];
  size_t pn2 = u16("e", p2);
  grant(&f, "e", SMBX_LEASE_REQ_DIR, R | H, 1, k2);
  n = notif(k2, R | H, R, 2, true);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p2, pn2,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 7,
                                             &rq),
                   0);
  /* (the request counts as outstanding: the break arrives first, is
   * queued, and applies at the response) */
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 2);
  rs = rq;
  rs.state = R | H;
  rs.epoch = 1;
  rs.flags = 0;
  assert_int_equal(smbx_lease_client_granted(f.lc, k2, &rs, 0), 0);
  assert_int_equal(next(&f, &ev), 1);
  assert_int_equal(ev.to, R);
  assert_int_equal(ev.ack_state, R);
  drain(&f);
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p2, pn2,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 7,
                                             &rq),
                   0);
  rs = rq;
  rs.state = R | H;
  rs.epoch = 2;
  rs.flags = SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
  assert_int_equal(smbx_lease_client_granted(f.lc, k2, &rs, 0), 0);
  assert_int_equal(smbx_lease_client_state(f.lc, k2, &st, NULL), 0);
  assert_int_equal(st, R);
  fill(&f, k2, names, 2, 0); /* settled: the listing is cached again */
  smbx_smb2_dir_entry e;
  assert_int_equal(lookup(&f, k2, "b", 0, &e), 1);

  /* a newer epoch in progress is another break still to come */
  assert_int_equal(smbx_lease_client_request(f.lc, f.scope, p2, pn2,
                                             SMBX_LEASE_REQ_DIR, V3, CAPS, 7,
                                             &rq),
                   0);
  rs = rq;
  rs.state = R;
  rs.epoch = 3;
  rs.flags = SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
  assert_int_equal(smbx_lease_client_granted(f.lc, k2, &rs, 0), 0);
  assert_int_equal(lookup(&f, k2, "b", 0, &e), SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_lease_client_dir_fill_begin(f.lc, k2, 0),
                   SMBX_ERR_STATE);
  drain(&f);
  fx_fini(&f);
}

/* ---- snapshots (leases.md 4.3) ----------------------------------------- */

static int snap_take(fx *f, const uint8_t key[16], uint64_t now,
                     smbx_lease_dir_snapshot *sn)
{
  memset(sn, 0, sizeof *sn);
  sn->struct_size = sizeof *sn;
  return smbx_lease_client_dir_snapshot(f->lc, key, now, sn);
}

/* The snapshot holds exactly `names` in order (end_of_file 100 + i). */
static void snap_expect(const smbx_lease_dir_snapshot *sn, const char **names,
                        size_t n)
{
  assert_int_equal(sn->count, n);
  for (size_t i = 0; i < n; i++) {
    const smbx_lease_dir_entry *e = &sn->entries[i];
    uint8_t nm[64];
    size_t nl = u16(names[i], nm);
    assert_int_equal(e->name_len, nl);
    assert_memory_equal(smbx_lease_dir_entry_name(e), nm, nl);
    assert_int_equal(e->end_of_file, 100 + i);
    assert_int_equal(e->file_attributes, 0x20);
  }
}

static void stats(fx *f, smbx_lease_client_stats *st)
{
  st->struct_size = sizeof *st;
  assert_int_equal(smbx_lease_client_get_stats(f->lc, st), 0);
}

static void lease_4_3_snapshot_outlives_break(void **state)
{
  (void)state;
  fx f;
  fx_init(&f, NULL);
  static const char *names[] = {".", "..", "a.txt", "b"};
  uint8_t k[16];
  grant(&f, "d", SMBX_LEASE_REQ_DIR, R | H, 1, k);
  smbx_lease_dir_snapshot sn, again;
  assert_int_equal(snap_take(&f, k, 0, &sn), SMBX_ERR_NOTFOUND);
  fill(&f, k, names, 4, 0);
  /* a snapshot references the block built at fill_end: no allocation,
   * the same block for every snapshot of the unchanged listing */
  uint64_t calls = f.ta.calls;
  assert_int_equal(snap_take(&f, k, 1, &sn), 0);
  assert_int_equal(snap_take(&f, k, 1, &again), 0);
  assert_int_equal(f.ta.calls, calls);
  assert_ptr_equal(sn.entries, again.entries);
  assert_int_equal(sn.filled_at, 0);
  snap_expect(&sn, names, 4);
  smbx_lease_client_dir_release(f.lc, &again);
  assert_null(again.ref);
  smbx_lease_client_dir_release(f.lc, &again); /* cleared: no-op */
  /* the break drops the listing; nothing new is served from it... */
  smbx_smb2_lease_break_notify n = notif(k, R | H, 0, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 2), 1);
  drain(&f);
  assert_int_equal(snap_take(&f, k, 2, &again), SMBX_ERR_NOTFOUND);
  smbx_smb2_dir_entry e;
  uint32_t cur = 0;
  assert_int_equal(smbx_lease_client_dir_next(f.lc, k, 2, &cur, &e),
                   SMBX_ERR_NOTFOUND);
  /* ...but the snapshot taken before is intact and counted as held */
  snap_expect(&sn, names, 4);
  smbx_lease_client_stats st;
  stats(&f, &st);
  assert_int_equal(st.listings, 0);
  assert_int_equal(st.snapshots, 1);
  assert_true(st.snapshot_bytes >= 4 * sizeof(smbx_lease_dir_entry));
  assert_int_equal(st.bytes, st.snapshot_bytes);
  smbx_lease_client_dir_release(f.lc, &sn);
  stats(&f, &st);
  assert_int_equal(st.snapshots, 0);
  assert_int_equal(st.snapshot_bytes, 0);
  assert_int_equal(st.bytes, 0);
  fx_fini(&f);
}

/* A block's reference count never wraps: at UINT32_MAX references a
 * snapshot is refused (LIMIT) instead of wrapping the count to 0, after
 * which a release would free the block the cache and every other
 * snapshot still read. (The count is set as 2^32 - 3 more snapshots
 * would leave it.) */
static void lease_4_3_snapshot_refs_never_wrap(void **state)
{
  (void)state;
  fx f;
  static const char *names[] = {".", "..", "a.txt", "b"};
  uint8_t k[16];
  dir_fx_init(&f, names, 4, k);
  smbx_lease_dir_snapshot sn, more;
  assert_int_equal(snap_take(&f, k, 1, &sn), 0);
  lc_block *b = sn.ref;
  uint32_t held = b->refs; /* the cache's and sn's */
  b->refs = UINT32_MAX;
  assert_int_equal(snap_take(&f, k, 1, &more), SMBX_ERR_LIMIT);
  assert_null(more.ref);
  assert_int_equal(b->refs, UINT32_MAX);
  b->refs = held;
  smbx_lease_client_stats st;
  stats(&f, &st);
  assert_int_equal(st.snapshots, 1);
  snap_expect(&sn, names, 4);
  smbx_lease_client_dir_release(f.lc, &sn);
  stats(&f, &st);
  assert_int_equal(st.snapshots, 0);
  fx_fini(&f);
}

static void lease_4_3_snapshot_outlives_expiry_and_lru(void **state)
{
  (void)state;
  fx f;
  smbx_lease_client_settings s;
  smbx_lease_client_settings_default(&s, sizeof s);
  s.max_dir_entries = 5;
  s.dir_max_age_ns = 10 * S;
  fx_init(&f, &s);
  static const char *two[] = {"a", "b"};
  uint8_t k1[16], k2[16], k3[16];
  grant(&f, "d1", SMBX_LEASE_REQ_DIR, R | H, 1, k1);
  grant(&f, "d2", SMBX_LEASE_REQ_DIR, R | H, 1, k2);
  grant(&f, "d3", SMBX_LEASE_REQ_DIR, R | H, 1, k3);
  fill(&f, k1, two, 2, 0);
  fill(&f, k2, two, 2, 0);
  smbx_lease_dir_snapshot s1, s2;
  assert_int_equal(snap_take(&f, k1, 1, &s1), 0); /* d1 the newest */
  assert_int_equal(snap_take(&f, k2, 1, &s2), 0); /* now d2 */
  fill(&f, k3, two, 2, 1); /* 6 > 5 entries: d1, least recently used, goes */
  smbx_lease_dir_snapshot x;
  memset(&x, 0, sizeof x); /* struct_size unset */
  assert_int_equal(smbx_lease_client_dir_snapshot(f.lc, k1, 1, &x),
                   SMBX_ERR_INVAL);
  assert_int_equal(snap_take(&f, k1, 1, &x), SMBX_ERR_NOTFOUND);
  snap_expect(&s1, two, 2);
  /* d2 (filled at 0, d3 at 1) expires under its lease: its snapshot
   * stays readable */
  assert_int_equal(smbx_lease_client_handle_expiry(f.lc, 10 * S), 1);
  assert_int_equal(snap_take(&f, k2, 10 * S, &x), SMBX_ERR_NOTFOUND);
  snap_expect(&s2, two, 2);
  smbx_lease_client_stats st;
  stats(&f, &st);
  assert_int_equal(st.listings, 1); /* d3 */
  assert_int_equal(st.snapshots, 2);
  assert_true(st.snapshot_bytes > 0 && st.bytes > st.snapshot_bytes);
  uint64_t d3_bytes = st.bytes - st.snapshot_bytes;
  smbx_lease_client_dir_release(f.lc, &s2);
  smbx_lease_client_dir_release(f.lc, &s1);
  stats(&f, &st);
  assert_int_equal(st.snapshot_bytes, 0);
  assert_int_equal(st.bytes, d3_bytes);
  drain(&f);
  fx_fini(&f);
}

/* Held blocks count in max_dir_bytes: while a dropped listing's snapshot
 * is held, a listing that would need its room is not cached. */
static void lease_4_3_snapshot_counts_in_byte_bound(void **state)
{
  (void)state;
  static const char *twenty[] = {"n00", "n01", "n02", "n03", "n04", "n05",
                                 "n06", "n07", "n08", "n09", "n10", "n11",
                                 "n12", "n13", "n14", "n15", "n16", "n17",
                                 "n18", "n19"};
  fx f;
  smbx_lease_client_settings s;
  smbx_lease_client_settings_default(&s, sizeof s);
  fx_init(&f, &s);
  uint8_t k1[16], k2[16];
  grant(&f, "d1", SMBX_LEASE_REQ_DIR, R | H, 1, k1);
  fill(&f, k1, twenty, 20, 0);
  smbx_lease_dir_snapshot s1;
  assert_int_equal(snap_take(&f, k1, 0, &s1), 0);
  smbx_lease_client_stats one;
  stats(&f, &one); /* a 20-entry listing, block included */
  smbx_lease_client_dir_release(f.lc, &s1);
  fx_fini(&f);
  /* room for one such listing and a bit, not two */
  s.max_dir_bytes = one.bytes + one.bytes / 2;
  fx_init(&f, &s);
  grant(&f, "d1", SMBX_LEASE_REQ_DIR, R | H, 1, k1);
  grant(&f, "d2", SMBX_LEASE_REQ_DIR, R | H, 1, k2);
  fill(&f, k1, twenty, 20, 0);
  assert_int_equal(snap_take(&f, k1, 0, &s1), 0);
  smbx_smb2_lease_break_notify n = notif(k1, R | H, 0, 2, true);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  drain(&f);
  smbx_lease_client_stats st;
  stats(&f, &st);
  assert_true(st.snapshot_bytes > 0);
  assert_true(st.bytes + one.bytes > s.max_dir_bytes);
  /* d2's listing does not fit beside the held block: abandoned */
  assert_int_equal(smbx_lease_client_dir_fill_begin(f.lc, k2, 0), 0);
  int rc = 0;
  for (size_t i = 0; i < 20 && rc == 0; i++) {
    uint8_t nm[16];
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(twenty[i], nm);
    rc = smbx_lease_client_dir_fill_add(f.lc, k2, &e);
  }
  assert_int_equal(rc, SMBX_ERR_LIMIT);
  stats(&f, &st);
  assert_true(st.bytes <= s.max_dir_bytes);
  assert_int_equal(s1.count, 20);
  assert_int_equal(s1.entries[19].name_len, 6);
  assert_memory_equal(smbx_lease_dir_entry_name(&s1.entries[19]),
                      "n\0" "1\0" "9\0", 6);
  /* released: the room is back */
  smbx_lease_client_dir_release(f.lc, &s1);
  fill(&f, k2, twenty, 20, 1);
  stats(&f, &st);
  assert_int_equal(st.listings, 1);
  assert_true(st.bytes <= s.max_dir_bytes);
  fx_fini(&f);
}

/* Own changes never touch a block a snapshot holds; the next snapshot
 * compacts the changed listing into a new block once. */
static void lease_4_3_snapshot_after_own_change(void **state)
{
  (void)state;
  fx f;
  static const char *names[] = {"a", "b", "c"};
  uint8_t k[16];
  dir_fx_init(&f, names, 3, k);
  smbx_lease_dir_snapshot before, after, again;
  assert_int_equal(snap_take(&f, k, 0, &before), 0);
  uint8_t nm[8];
  smbx_smb2_dir_entry e;
  memset(&e, 0, sizeof e);
  e.file_name.p = nm;
  e.file_name.len = u16("b", nm);
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k, SMBX_LEASE_OWN_REMOVE,
                                                &e, 0),
                   1);
  e.file_name.len = u16("new", nm);
  e.end_of_file = 7;
  assert_int_equal(smbx_lease_client_dir_update(f.lc, k, SMBX_LEASE_OWN_ADD,
                                                &e, 0),
                   1);
  snap_expect(&before, names, 3);
  uint64_t calls = f.ta.calls;
  assert_int_equal(snap_take(&f, k, 0, &after), 0);
  assert_int_equal(f.ta.calls, calls + 1); /* the new block */
  assert_int_equal(snap_take(&f, k, 0, &again), 0);
  assert_int_equal(f.ta.calls, calls + 1);
  assert_ptr_equal(after.entries, again.entries);
  assert_int_equal(after.count, 3);
  assert_int_equal(after.entries[0].end_of_file, 100);
  assert_int_equal(after.entries[1].end_of_file, 102); /* "c" */
  assert_int_equal(after.entries[2].end_of_file, 7);
  assert_memory_equal(smbx_lease_dir_entry_name(&after.entries[2]),
                      "n\0e\0w\0", 6);
  assert_int_equal(lookup(&f, k, "NEW", 0, &e), 1);
  assert_int_equal(lookup(&f, k, "b", 0, &e), 0);
  snap_expect(&before, names, 3);
  smbx_lease_client_dir_release(f.lc, &before);
  smbx_lease_client_dir_release(f.lc, &again);
  smbx_lease_client_dir_release(f.lc, &after);
  smbx_lease_client_stats st;
  stats(&f, &st);
  assert_int_equal(st.snapshots, 0);
  assert_int_equal(st.snapshot_bytes, 0);
  fx_fini(&f);
}

/* A table freed with a snapshot still held frees the block too (the
 * snapshot is dangling then: the host must release first). */
static void lease_4_3_snapshot_freed_with_table(void **state)
{
  (void)state;
  fx f;
  static const char *names[] = {"a"};
  uint8_t k[16];
  dir_fx_init(&f, names, 1, k);
  smbx_lease_dir_snapshot sn;
  assert_int_equal(snap_take(&f, k, 0, &sn), 0);
  smbx_smb2_lease_break_notify n = notif(k, R | H, 0, 2, false);
  assert_int_equal(smbx_lease_client_break(f.lc, &n, V3, 0), 1);
  drain(&f);
  fx_fini(&f); /* no leak */
}

static void lease_client_alloc_failures_clean(void **state)
{
  (void)state;
  assert_true(test_alloc_each_failure(scenario_fill, NULL) > 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lease_4_1_one_key_per_path_rh_for_dirs),
      cmocka_unit_test(lease_4_1_parent_key_when_parent_leased),
      cmocka_unit_test(lease_4_1_table_full_reuses_idle_entries),
      cmocka_unit_test(lease_case_14_client_reserved_ignored),
      cmocka_unit_test(lease_case_59_client_epochs),
      cmocka_unit_test(lease_case_60_client_epoch_gap),
      cmocka_unit_test(lease_case_61_client_early_break),
      cmocka_unit_test(lease_case_62_client_transitions),
      cmocka_unit_test(lease_case_63_client_dir_cache),
      cmocka_unit_test(lease_case_64_client_own_change),
      cmocka_unit_test(lease_case_65_client_unknown_key),
      cmocka_unit_test(lease_4_3_lifetime_even_under_lease),
      cmocka_unit_test(lease_4_3_lru_by_entries_and_bytes),
      cmocka_unit_test(lease_4_3_case_sensitive_scope),
      cmocka_unit_test(lease_4_3_write_lease_log_in_order),
      cmocka_unit_test(lease_4_1_open_during_own_break_keeps_target),
      cmocka_unit_test(lease_4_3_snapshot_outlives_break),
      cmocka_unit_test(lease_4_3_snapshot_refs_never_wrap),
      cmocka_unit_test(lease_4_3_snapshot_outlives_expiry_and_lru),
      cmocka_unit_test(lease_4_3_snapshot_counts_in_byte_bound),
      cmocka_unit_test(lease_4_3_snapshot_after_own_change),
      cmocka_unit_test(lease_4_3_snapshot_freed_with_table),
      cmocka_unit_test(lease_client_alloc_failures_clean),
  };
  return RUN_TESTS(tests);
}
