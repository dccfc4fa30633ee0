/* SPDX-License-Identifier: MIT */
/* Server lease manager suite (lib/lease/server_mgr.c): one manager holding
 * 1,000,000 live leases (100,000 with --quick), each on its own file with
 * one open, keys uniformly random over 1,000 clients, so lookups miss the
 * cache as they would on a loaded appliance. Measured, each as a ratio to
 * the naive-parse anchor (goal <= 20x):
 *   - lookup: smbx_lease_query() of a random live lease;
 *   - grant: CREATE of a new random key on a random leased file (begin,
 *     finish granting R beside the holder's RH) and its CLOSE (the lease
 *     is created and deleted: table insert and removal included);
 *   - newfile: CREATE of a file the manager does not know yet with a new
 *     key, and its CLOSE (file and lease created and dropped), the open
 *     the lease placement must keep cheap;
 *   - break: a write to a random leased file breaks its RH lease
 *     (notification queued), the event is drained and the holder acks
 *     NONE; the lease is re-armed outside the timing.
 * Invariant: 0 allocations in a grant/break/ack/close mix once the tables
 * are sized. Printed: bytes per lease (lease, file, their hash slots;
 * goal <= 128) and per open (goal <= 32). */
#include <stdlib.h>
#include <string.h>

#include <smbx/lease.h>

#include "bench.h"
#include "lease/server_int.h"

#define N_CLIENTS 1000u
#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE

typedef struct lsrv {
  bench_alloc ba;
  smbx_lease_mgr *m;
  uint32_t n;           /* live leases */
  uint64_t rng;
  uint64_t now;
  uint64_t serial;      /* fresh keys for grants */
  int refs;
} lsrv;

static lsrv *shared;

static uint64_t rnd(lsrv *s)
{
  /* xorshift64* */
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return s->rng * UINT64_C(2685821657736338717);
}

/* Lease i's key: two keyed bijective 64-bit mixes of i (splitmix64's
 * finalizer), so the keys are uniformly random over the 128-bit space and
 * an operation on lease i derives its key instead of loading it from a
 * 16 MB array: that load missed the cache on every lookup and break, and
 * it is the harness's miss, not the manager's. */
static uint64_t key_mix(uint64_t x)
{
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static void key_of(uint8_t key[16], uint32_t i)
{
  uint64_t a = key_mix(i ^ UINT64_C(0x6a09e667f3bcc908));
  uint64_t b = key_mix(i ^ UINT64_C(0xbb67ae8584caa73b));
  memcpy(key, &a, 8);
  memcpy(key + 8, &b, 8);
}

static void guid_of(uint8_t g[16], uint32_t c)
{
  memset(g, 0, 16);
  memcpy(g, &c, sizeof c);
  g[15] = 0x5a;
}

static void fill_req(smbx_lease_open_req *q, uint32_t i, const uint8_t key[16],
                     uint32_t state)
{
  memset(q, 0, sizeof *q);
  q->struct_size = sizeof *q;
  guid_of(q->client_guid, i % N_CLIENTS);
  q->conn = 1u + i % N_CLIENTS;
  q->user = i;
  q->file_key[0] = 0xF11E;
  q->file_key[1] = i;
  q->access = 0x00120089u; /* read */
  q->disposition = 1;
  q->dialect = SMBX_SMB2_DIALECT_311;
  q->capabilities = SMBX_SMB2_CAP_LEASING;
  q->requested_oplock = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  q->has_lease = 1;
  q->lease.version = 2;
  memcpy(q->lease.key, key, 16);
  q->lease.state = state;
}

/* begin + finish; returns the open handle or 0 */
static uint64_t open_lease(lsrv *s, uint32_t i, const uint8_t key[16],
                           uint32_t state)
{
  smbx_lease_open_req q;
  fill_req(&q, i, key, state);
  uint64_t o = 0;
  uint32_t st = 0;
  if (smbx_lease_open_begin(s->m, &q, s->now, &o, &st) != 0 || st)
    return 0;
  smbx_lease_grant g;
  memset(&g, 0, sizeof g);
  g.struct_size = sizeof g;
  if (smbx_lease_open_finish(s->m, o, 0, s->now, &g) != 0)
    return 0;
  bench_consume(g.lease.state);
  return o;
}

static int lsetup(void **state, void *arg)
{
  (void)arg;
  if (shared) {
    shared->refs++;
    *state = shared;
    return 0;
  }
  lsrv *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  s->n = bench_quick() ? 100000u : 1000000u;
  s->rng = 0x9E3779B97F4A7C15u;
  s->now = 1;
  bench_alloc_init(&s->ba);
  smbx_lease_settings st;
  smbx_lease_settings_default(&st, sizeof st);
  /* room for the grant metric's extra lease and open per iteration */
  st.max_leases = s->n + 64;
  st.max_opens = s->n + 64;
  st.max_files = s->n + 64;
  st.max_clients = N_CLIENTS + 8;
  st.max_events = 1024;
  st.hash_seed = 0x5EED;
  if (smbx_lease_mgr_new(&s->m, &st, &s->ba.a) != 0)
    return 1;
  for (uint32_t i = 0; i < s->n; i++) {
    uint8_t key[16];
    key_of(key, i);
    if (!open_lease(s, i, key, R | H))
      return 1;
  }
  s->refs = 1;
  shared = s;
  *state = s;
  return 0;
}

static void lteardown(void *state)
{
  lsrv *s = state;
  if (--s->refs)
    return;
  smbx_lease_mgr_free(s->m);
  free(s);
  shared = NULL;
}

static double lookup_run(void *state, uint64_t iters)
{
  lsrv *s = state;
  smbx_lease_info in;
  memset(&in, 0, sizeof in);
  in.struct_size = sizeof in;
  uint64_t acc = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t k = 0; k < iters; k++) {
    uint32_t i = (uint32_t)(rnd(s) % s->n);
    uint8_t g[16], key[16];
    guid_of(g, i % N_CLIENTS);
    key_of(key, i);
    if (smbx_lease_query(s->m, g, key, &in) == 0)
      acc += in.state;
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* an open of file i under a key never used before (its low half a
 * serial, its high half `tag`), then its close */
static void open_close_fresh_key(lsrv *s, uint32_t i, uint8_t tag)
{
  uint8_t key[16];
  uint64_t serial = ++s->serial;
  memcpy(key, &serial, 8);
  memset(key + 8, tag, 8);
  uint64_t o = open_lease(s, i, key, R | H);
  if (o)
    (void)smbx_lease_close(s->m, o, s->now);
}

/* one grant: a fresh key on a random leased file, then its close */
static void grant_one(lsrv *s)
{
  open_close_fresh_key(s, (uint32_t)(rnd(s) % s->n), 0xC3);
}

static double newfile_run(void *state, uint64_t iters)
{
  lsrv *s = state;
  uint64_t t0 = bench_now_ns();
  /* file keys past the live files' (0..n-1): a new file each time */
  for (uint64_t k = 0; k < iters; k++)
    open_close_fresh_key(s, s->n + (uint32_t)(rnd(s) % 1000000000u), 0xC5);
  uint64_t t1 = bench_now_ns();
  return (double)(t1 - t0) / (double)iters;
}

static double grant_run(void *state, uint64_t iters)
{
  lsrv *s = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t k = 0; k < iters; k++)
    grant_one(s);
  uint64_t t1 = bench_now_ns();
  return (double)(t1 - t0) / (double)iters;
}

/* one break: a local write to lease i's file, the notification drained,
 * the ack of NONE */
static void break_one(lsrv *s, uint32_t i)
{
  smbx_lease_change c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.kind = SMBX_LEASE_CHG_DATA;
  c.file_key[0] = 0xF11E;
  c.file_key[1] = i;
  (void)smbx_lease_change_report(s->m, &c, s->now);
  smbx_lease_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_lease_next_event(s->m, &ev) == 1)
    bench_consume(ev.new_state);
  smbx_smb2_lease_break_ack a, r;
  memset(&a, 0, sizeof a);
  key_of(a.lease_key, i);
  uint8_t g[16];
  guid_of(g, i % N_CLIENTS);
  uint32_t st = 0;
  (void)smbx_lease_ack(s->m, g, &a, s->now, &r, &st);
  bench_consume(st);
}

/* back to RH: an upgrade through a second open of the key, closed again */
static void rearm(lsrv *s, uint32_t i)
{
  uint8_t key[16];
  key_of(key, i);
  uint64_t o = open_lease(s, i, key, R | H);
  if (o)
    (void)smbx_lease_close(s->m, o, s->now);
}

#define BREAK_BATCH 256u

static double break_run(void *state, uint64_t iters)
{
  lsrv *s = state;
  uint32_t idx[BREAK_BATCH];
  uint64_t spent = 0;
  for (uint64_t done = 0; done < iters;) {
    uint32_t n = (uint32_t)(iters - done < BREAK_BATCH ? iters - done
                                                       : BREAK_BATCH);
    for (uint32_t k = 0; k < n; k++)
      idx[k] = (uint32_t)(rnd(s) % s->n);
    uint64_t t0 = bench_now_ns();
    for (uint32_t k = 0; k < n; k++)
      break_one(s, idx[k]);
    spent += bench_now_ns() - t0;
    for (uint32_t k = 0; k < n; k++)
      rearm(s, idx[k]);
    done += n;
  }
  return (double)spent / (double)iters;
}

static double allocs_run(void *state, uint64_t iters)
{
  lsrv *s = state;
  uint64_t before = bench_alloc_calls(&s->ba);
  for (uint64_t k = 0; k < iters; k++) {
    grant_one(s);
    uint32_t i = (uint32_t)(rnd(s) % s->n);
    break_one(s, i);
    rearm(s, i);
  }
  return (double)(bench_alloc_calls(&s->ba) - before) / (double)iters;
}

static double bytes_lease_run(void *state, uint64_t iters)
{
  (void)iters;
  lsrv *s = state;
  uint64_t lb = 0, ob = 0;
  smbx__lease_bytes(s->m, &lb, &ob);
  return (double)lb / (double)s->n;
}

static double bytes_open_run(void *state, uint64_t iters)
{
  (void)iters;
  lsrv *s = state;
  uint64_t lb = 0, ob = 0;
  smbx__lease_bytes(s->m, &lb, &ob);
  return (double)ob / (double)(s->n + 64); /* per open slot */
}

static const bench_metric lease_server_metrics[] = {
    {.name = "lease_server.lookup", .unit = "ns/op", .run = lookup_run,
     .setup = lsetup, .teardown = lteardown, .anchor = "anchor.naive_parse",
     .goal = BENCH_LE(20)},
    {.name = "lease_server.grant", .unit = "ns/op", .run = grant_run,
     .setup = lsetup, .teardown = lteardown, .anchor = "anchor.naive_parse",
     .goal = BENCH_LE(20)},
    {.name = "lease_server.newfile", .unit = "ns/op", .run = newfile_run,
     .setup = lsetup, .teardown = lteardown, .anchor = "anchor.naive_parse",
     .goal = BENCH_LE(20)},
    {.name = "lease_server.break", .unit = "ns/op", .run = break_run,
     .setup = lsetup, .teardown = lteardown, .anchor = "anchor.naive_parse",
     .goal = BENCH_LE(20)},
    {.name = "lease_server.allocs", .unit = "allocs/op", .run = allocs_run,
     .setup = lsetup, .teardown = lteardown, .iters = 4096,
     .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
    {.name = "lease_server.bytes_per_lease", .unit = "B", .run =
     bytes_lease_run, .setup = lsetup, .teardown = lteardown, .iters = 1,
     .goal = BENCH_LE(128)},
    {.name = "lease_server.bytes_per_open", .unit = "B", .run =
     bytes_open_run, .setup = lsetup, .teardown = lteardown, .iters = 1,
     .goal = BENCH_LE(32)},
};

BENCH_SUITE_DEFINE(lease_server, lease_server_metrics);
