/* SPDX-License-Identifier: MIT */
/* Lease suite: the client node's directory cache against the round trips
 * it saves. A client node and a server node back to back over in-memory
 * Direct TCP; the server's host serves a directory of 10,000 entries
 * (FileIdBothDirectoryInformation, 64 KiB per QUERY_DIRECTORY) and
 * grants the client's RqLs an RH lease. Measured in the same run:
 *   - uncached: CREATE + QUERY_DIRECTORY rounds to NO_MORE_FILES + CLOSE
 *     through both nodes (the anchor);
 *   - cached: the same 10,000 entries under the lease as a snapshot
 *     (smbx_client_dir_snapshot: pointer + count into the block the cache
 *     built when the listing was filled, every entry's name and fields
 *     readable from it with no further call), checked and released --
 *     goal >= 100x faster (ratio <= 0.01); 0 PDUs sent and 0 allocations
 *     (invariants);
 *   - reported beside it: the snapshot plus reading every entry's size
 *     and name (the application's own pass over 10,000 entries), and the
 *     entry-at-a-time smbx_client_dir_next() path;
 *   - bytes per client lease record (goal <= 64) and per cached entry
 *     beyond its name (goal <= 128), from smbx_lease_client_get_stats(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/lease_client.h>
#include <smbx/server.h>

#include "bench.h"

#define PIPE_CAP (1024u * 1024u)
#define N_ENTRIES 10000u
#define OUT_MAX 65536u

typedef struct lpipe {
  uint8_t *p;
  size_t len;
} lpipe;

typedef struct lstate {
  bench_alloc ba;
  smbx_server *srv;
  smbx_client *cli;
  uint64_t sconn, cconn, sess;
  uint32_t tree, scope;
  lpipe c2s, s2c;
  uint8_t guid[16];
  uint32_t next_entry; /* the server's enumeration cursor */
  uint8_t *qbuf;       /* one QUERY_DIRECTORY output buffer */
  uint64_t last_req;
  uint32_t last_status;
  smbx_smb2_fileid last_fid;
  uint8_t (*names)[32]; /* the entries' UTF-16 names, made once */
  uint8_t name_len[N_ENTRIES];
  uint64_t consumed; /* entries the client read from responses */
  int failed;
} lstate;

static int lpipe_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  lpipe *q = ud;
  if (PIPE_CAP - q->len < n)
    return SMBX_ERR_NOBUF;
  memcpy(q->p + q->len, b, n);
  q->len += n;
  return 0;
}

static size_t entry_name(uint32_t i, uint8_t *out)
{
  char a[32];
  int n = snprintf(a, sizeof a, "file-%05u.dat", (unsigned)i);
  for (int k = 0; k < n; k++) {
    out[2 * k] = (uint8_t)a[k];
    out[2 * k + 1] = 0;
  }
  return 2 * (size_t)n;
}

/* The server's host: CREATE grants the RqLs it finds as RH (what the
 * lease manager gives a directory), QUERY_DIRECTORY pages the entries. */
static void answer_create(lstate *s, const smbx_event *e)
{
  smbx_smb2_create_req rq;
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.file_id.persistent_id = 7;
  rs.file_id.volatile_id = 9;
  rs.file_attributes = 0x10;
  uint8_t data[52], area[128], out[512];
  if (smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &rq, NULL) ==
      0) {
    smbx_smb2_create_ctx_iter it;
    smbx_smb2_create_ctx c;
    (void)smbx_smb2_create_ctx_iter_init(&it, rq.contexts, 0);
    while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1) {
      smbx_smb2_lease l;
      if (smbx_smb2_create_ctx_tag(&c) != SMBX_SMB2_CTX_TAG_RQLS ||
          smbx_smb2_lease_decode(c.data, &l, NULL) != 0)
        continue;
      l.state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE;
      l.epoch++;
      smbx_ssize dl = smbx_smb2_lease_encode(&l, data, sizeof data, NULL);
      smbx_smb2_create_ctx r = {{(const uint8_t *)"RqLs", 4},
                                {data, (size_t)dl}, 0};
      smbx_ssize al =
          smbx_smb2_create_ctx_list_encode(&r, 1, area, sizeof area, NULL);
      rs.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
      rs.contexts.p = area;
      rs.contexts.len = (size_t)al;
    }
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL);
  if (n < 64 || smbx_server_respond(s->srv, e->conn, e->u.pdu.req, 0,
                                    out + 64, (size_t)n - 64, 0))
    s->failed = 1;
}

static void answer_qdir(lstate *s, const smbx_event *e)
{
  smbx_smb2_query_directory_req rq;
  if (smbx_smb2_decode_query_directory_req(e->u.pdu.data, e->u.pdu.len, &rq,
                                           NULL) != 0) {
    s->failed = 1;
    return;
  }
  if (rq.flags & SMBX_SMB2_RESTART_SCANS)
    s->next_entry = 0;
  if (s->next_entry >= N_ENTRIES) {
    (void)smbx_server_respond(s->srv, e->conn, e->u.pdu.req,
                              SMBX_STATUS_NO_MORE_FILES, NULL, 0, 0);
    return;
  }
  smbx_smb2_dir_builder b;
  (void)smbx_smb2_dir_builder_init(&b, rq.info_class, s->qbuf, OUT_MAX);
  while (s->next_entry < N_ENTRIES) {
    smbx_smb2_dir_entry d;
    memset(&d, 0, sizeof d);
    d.file_name.p = s->names[s->next_entry];
    d.file_name.len = s->name_len[s->next_entry];
    d.end_of_file = s->next_entry;
    d.file_attributes = 0x20;
    d.file_id = 1000u + s->next_entry;
    if (smbx_smb2_dir_builder_add(&b, &d) != 0)
      break;
    s->next_entry++;
  }
  /* StructureSize 9, OutputBufferOffset 0x48, OutputBufferLength: the
   * 8-byte fixed part, then the entries gathered */
  uint8_t hdr8[8];
  memset(hdr8, 0, sizeof hdr8);
  hdr8[0] = 9;
  hdr8[2] = 0x48;
  hdr8[4] = (uint8_t)b.len;
  hdr8[5] = (uint8_t)(b.len >> 8);
  hdr8[6] = (uint8_t)(b.len >> 16);
  smbx_iov iov[2] = {{hdr8, 8}, {s->qbuf, b.len}};
  if (smbx_server_respond_iov(s->srv, e->conn, e->u.pdu.req, 0, iov, 2, 0))
    s->failed = 1;
}

static void srv_events(lstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_server_next_event(s->srv, &e) == 1) {
    if (e.type == SMBX_EV_SESSION_SETUP) {
      (void)smbx_server_session_respond(s->srv, e.conn, e.u.session.req, 0,
                                        NULL, 0, NULL, 0,
                                        SMBX_SMB2_SESSION_FLAG_IS_NULL, 0);
    } else if (e.type == SMBX_EV_TREE_CONNECT) {
      smbx_smb2_tree_connect_resp r;
      memset(&r, 0, sizeof r);
      r.share_type = 1;
      (void)smbx_server_tree_respond(s->srv, e.conn, e.u.tree.req, 0, &r, 0,
                                     NULL);
    } else if (e.type == SMBX_EV_REQUEST) {
      uint16_t cmd = e.u.pdu.hdr.command;
      if (cmd == SMBX_SMB2_CREATE) {
        answer_create(s, &e);
      } else if (cmd == SMBX_SMB2_QUERY_DIRECTORY) {
        answer_qdir(s, &e);
      } else { /* CLOSE */
        uint8_t body[60];
        memset(body, 0, sizeof body);
        body[0] = 60;
        (void)smbx_server_respond(s->srv, e.conn, e.u.pdu.req, 0, body,
                                  sizeof body, 0);
      }
    }
  }
}

static void cli_events(lstate *s)
{
  smbx_event e;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(s->cli, &e) == 1) {
    if (e.type == SMBX_EV_NEGOTIATED)
      memcpy(s->guid, e.u.negotiated.guid, 16);
    else if (e.type == SMBX_EV_SESSION_UP)
      s->sess = e.u.session.session;
    else if (e.type == SMBX_EV_TREE_CONNECT)
      s->tree = e.u.tree.tree_id;
    else if (e.type == SMBX_EV_RESPONSE) {
      s->last_req = e.u.pdu.req;
      s->last_status = e.u.pdu.status;
      if (e.u.pdu.err)
        s->failed = 1;
      smbx_smb2_create_resp cr;
      smbx_smb2_output_resp qr;
      smbx_smb2_dir_iter it;
      smbx_smb2_dir_entry de;
      if (e.u.pdu.hdr.command == SMBX_SMB2_CREATE && e.u.pdu.status == 0 &&
          smbx_smb2_decode_create_resp(e.u.pdu.data, e.u.pdu.len, &cr,
                                       NULL) == 0)
        s->last_fid = cr.file_id;
      /* a listing is read by whoever asked for it: decode every entry */
      if (e.u.pdu.hdr.command == SMBX_SMB2_QUERY_DIRECTORY &&
          e.u.pdu.status == 0 &&
          smbx_smb2_decode_query_directory_resp(e.u.pdu.data, e.u.pdu.len,
                                                &qr, NULL) == 0 &&
          smbx_smb2_dir_iter_init(&it,
                                  SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION,
                                  qr.output.p, qr.output.len) == 0)
        while (smbx_smb2_dir_iter_next(&it, &de, NULL) == 1)
          s->consumed += de.end_of_file + de.file_name.len;
    }
    if (e.hold)
      (void)smbx_client_release(s->cli, e.conn, e.hold, 0);
  }
}

static void lpump(lstate *s)
{
  for (int i = 0; i < 4 && (s->c2s.len || s->s2c.len); i++) {
    if (s->c2s.len) {
      size_t n = s->c2s.len;
      s->c2s.len = 0;
      if (smbx_server_tcp_feed(s->srv, s->sconn, s->c2s.p, n, 0) !=
          (smbx_ssize)n)
        s->failed = 1;
      srv_events(s);
    }
    if (s->s2c.len) {
      size_t n = s->s2c.len;
      s->s2c.len = 0;
      if (smbx_client_tcp_feed(s->cli, s->cconn, s->s2c.p, n, 0) !=
          (smbx_ssize)n)
        s->failed = 1;
      cli_events(s);
    }
  }
}

static const uint8_t DIRNAME[2] = {'d', 0};

/* One whole listing through both nodes: CREATE, QUERY_DIRECTORY until
 * NO_MORE_FILES, CLOSE. leased: with the RqLs (the node fills its cache). */
static void listing_via_server(lstate *s, bool leased)
{
  smbx_smb2_create_req c;
  memset(&c, 0, sizeof c);
  c.impersonation_level = 2;
  c.desired_access = 0x100081;
  c.share_access = 7;
  c.create_disposition = 1;
  c.create_options = 1;
  c.name.p = DIRNAME;
  c.name.len = 2;
  int rc = leased ? smbx_client_create_leased(s->cli, s->cconn, s->sess,
                                              s->tree, s->scope, &c,
                                              SMBX_LEASE_REQ_DIR, 0, NULL)
                  : smbx_client_create(s->cli, s->cconn, s->sess, s->tree,
                                       &c, 0, NULL);
  if (rc)
    abort();
  lpump(s);
  smbx_smb2_fileid fid = s->last_fid;
  static const uint8_t star[2] = {'*', 0};
  for (int round = 0;; round++) {
    smbx_smb2_query_directory_req q;
    memset(&q, 0, sizeof q);
    q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
    q.flags = round == 0 ? SMBX_SMB2_RESTART_SCANS : 0;
    q.file_id = fid;
    q.file_name.p = star;
    q.file_name.len = 2;
    q.output_buffer_length = OUT_MAX;
    rc = leased ? smbx_client_dir_query(s->cli, s->cconn, s->sess, s->tree,
                                        &q, 0, NULL)
                : smbx_client_query_directory(s->cli, s->cconn, s->sess,
                                              s->tree, &q, 0, NULL);
    if (rc)
      abort();
    lpump(s);
    if (s->failed)
      abort();
    if (s->last_status == SMBX_STATUS_NO_MORE_FILES)
      break;
  }
  if (leased) {
    if (smbx_client_dir_close(s->cli, s->cconn, s->sess, s->tree, fid, 0,
                              NULL) != 1)
      abort(); /* deferred under H */
  } else {
    if (smbx_client_close(s->cli, s->cconn, s->sess, s->tree, fid, 0, 0,
                          NULL))
      abort();
    lpump(s);
  }
}

static int lsetup(void **state, void *arg)
{
  (void)arg;
  lstate *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  bench_alloc_init(&s->ba);
  s->c2s.p = malloc(PIPE_CAP);
  s->s2c.p = malloc(PIPE_CAP);
  s->qbuf = malloc(OUT_MAX);
  s->names = malloc(sizeof *s->names * N_ENTRIES);
  if (!s->names)
    return 1;
  for (uint32_t i = 0; i < N_ENTRIES; i++)
    s->name_len[i] = (uint8_t)entry_name(i, s->names[i]);
  smbx_tcp_hooks hs = {sizeof hs, &s->s2c, lpipe_send};
  smbx_tcp_hooks hc = {sizeof hc, &s->c2s, lpipe_send};
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.dialects = SMBX_DIALECT_MASK_302;
  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  ss.capabilities |= SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  if (!s->c2s.p || !s->s2c.p || !s->qbuf ||
      smbx_server_new(&s->srv, &ss, NULL, &s->ba.a, 0) ||
      smbx_client_new(&s->cli, &cs, NULL, &s->ba.a, 0) ||
      smbx_client_leases_enable(s->cli, NULL, 0) ||
      smbx_server_add_tcp(s->srv, &hs, 0, &s->sconn) ||
      smbx_client_add_tcp(s->cli, &hc, 0, &s->cconn) ||
      smbx_client_negotiate(s->cli, s->cconn, 0))
    return 1;
  lpump(s);
  uint64_t sess = 0;
  if (smbx_client_session_setup(s->cli, s->cconn, &sess,
                                (const uint8_t *)"x", 1, 0))
    return 1;
  lpump(s);
  if (!s->sess || smbx_client_tree_connect(s->cli, s->cconn, s->sess,
                                           "\\\\b\\s", 0, NULL))
    return 1;
  lpump(s);
  if (!s->tree ||
      smbx_client_lease_scope(s->cli, s->guid, "s", 0, &s->scope) != 0)
    return 1;
  listing_via_server(s, true); /* fills the cache under RH */
  if (s->failed)
    return 1;
  *state = s;
  return 0;
}

static void lteardown(void *state)
{
  lstate *s = state;
  smbx_client_free(s->cli);
  smbx_server_free(s->srv);
  free(s->c2s.p);
  free(s->s2c.p);
  free(s->qbuf);
  free(s->names);
  free(s);
}

/* ns per 10,000-entry listing through both nodes (no lease) */
static double run_uncached(void *state, uint64_t iters)
{
  lstate *s = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    listing_via_server(s, false);
  uint64_t t1 = bench_now_ns();
  bench_consume(s->consumed);
  return (double)(t1 - t0) / (double)iters;
}

/* The application's part of a cached listing: a snapshot is all 10,000
 * entries at once; the first and last names are checked (they are in the
 * block with the rest), then it is released. */
static uint64_t cached_listing(lstate *s)
{
  smbx_lease_dir_snapshot snap;
  snap.struct_size = sizeof snap;
  if (smbx_client_dir_snapshot(s->cli, s->scope, DIRNAME, 2, 1, &snap) != 0 ||
      snap.count != N_ENTRIES)
    abort();
  const smbx_lease_dir_entry *first = &snap.entries[0];
  const smbx_lease_dir_entry *last = &snap.entries[N_ENTRIES - 1];
  if (first->name_len != s->name_len[0] ||
      memcmp(smbx_lease_dir_entry_name(first), s->names[0],
             first->name_len) != 0 ||
      last->end_of_file != N_ENTRIES - 1)
    abort();
  uint64_t sum = snap.count + last->name_len;
  smbx_client_dir_release(s->cli, &snap);
  return sum;
}

/* The same, reading every entry's size and name length and the first
 * unit of its name (what a listing program prints from). */
static uint64_t cached_listing_read(lstate *s)
{
  smbx_lease_dir_snapshot snap;
  snap.struct_size = sizeof snap;
  if (smbx_client_dir_snapshot(s->cli, s->scope, DIRNAME, 2, 1, &snap) != 0 ||
      snap.count != N_ENTRIES)
    abort();
  uint64_t sum = 0;
  for (uint32_t i = 0; i < snap.count; i++) {
    const smbx_lease_dir_entry *e = &snap.entries[i];
    sum += e->end_of_file + e->name_len + smbx_lease_dir_entry_name(e)[0];
  }
  smbx_client_dir_release(s->cli, &snap);
  return sum;
}

static uint64_t cached_listing_next(lstate *s)
{
  uint32_t cur = 0;
  uint64_t n = 0, sum = 0;
  smbx_smb2_dir_entry e;
  while (smbx_client_dir_next(s->cli, s->scope, DIRNAME, 2, 1, &cur, &e) ==
         1) {
    sum += e.end_of_file + e.file_name.len;
    n++;
  }
  if (n != N_ENTRIES)
    abort();
  return sum;
}

/* ns per 10,000-entry listing from the cache by listing (one of the
 * cached_listing* above; inlined, so no indirect call is timed) */
static inline double timed_listings(lstate *s, uint64_t iters,
                                    uint64_t (*listing)(lstate *))
{
  uint64_t sum = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    sum += listing(s);
  uint64_t t1 = bench_now_ns();
  bench_consume(sum);
  return (double)(t1 - t0) / (double)iters;
}

static double run_cached(void *state, uint64_t iters)
{
  return timed_listings(state, iters, cached_listing);
}

static double run_cached_read(void *state, uint64_t iters)
{
  return timed_listings(state, iters, cached_listing_read);
}

static double run_cached_next(void *state, uint64_t iters)
{
  return timed_listings(state, iters, cached_listing_next);
}

/* PDUs the client sends for a cached listing */
static double run_cached_pdus(void *state, uint64_t iters)
{
  lstate *s = state;
  smbx_conn_info a, b;
  a.struct_size = b.struct_size = sizeof a;
  (void)smbx_client_conn_info(s->cli, s->cconn, &a);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < iters; i++)
    sum += cached_listing(s);
  bench_consume(sum);
  (void)smbx_client_conn_info(s->cli, s->cconn, &b);
  return (double)(b.requests - a.requests) / (double)iters;
}

/* allocations per cached listing (the steady state allocates nothing) */
static double run_cached_allocs(void *state, uint64_t iters)
{
  lstate *s = state;
  uint64_t a0 = bench_alloc_calls(&s->ba), sum = 0;
  for (uint64_t i = 0; i < iters; i++)
    sum += cached_listing(s);
  bench_consume(sum);
  return (double)(bench_alloc_calls(&s->ba) - a0) / (double)iters;
}

static double run_bytes_lease(void *state, uint64_t iters)
{
  (void)iters;
  lstate *s = state;
  smbx_lease_client_stats st;
  st.struct_size = sizeof st;
  (void)smbx_lease_client_get_stats(smbx_client_lease_table(s->cli), &st);
  return (double)st.bytes_per_lease;
}

static double run_bytes_entry(void *state, uint64_t iters)
{
  (void)iters;
  lstate *s = state;
  smbx_lease_client_stats st;
  st.struct_size = sizeof st;
  (void)smbx_lease_client_get_stats(smbx_client_lease_table(s->cli), &st);
  uint64_t names = 0;
  for (uint32_t i = 0; i < N_ENTRIES; i++)
    names += s->name_len[i];
  if (st.entries != N_ENTRIES)
    abort();
  return (double)(st.bytes - names) / (double)st.entries;
}

static const bench_metric lease_metrics[] = {
  {.name = "lease.dir_list_10k_uncached", .unit = "ns/listing",
   .run = run_uncached, .setup = lsetup, .teardown = lteardown,
   .flags = BENCH_F_ANCHOR},
  {.name = "lease.dir_list_10k_cached", .unit = "ns/listing",
   .run = run_cached, .setup = lsetup, .teardown = lteardown,
   .anchor = "lease.dir_list_10k_uncached", .goal = BENCH_LE(0.01)},
  {.name = "lease.dir_list_10k_cached_read_all", .unit = "ns/listing",
   .run = run_cached_read, .setup = lsetup, .teardown = lteardown,
   .anchor = "lease.dir_list_10k_uncached"},
  {.name = "lease.dir_list_10k_cached_next", .unit = "ns/listing",
   .run = run_cached_next, .setup = lsetup, .teardown = lteardown,
   .anchor = "lease.dir_list_10k_uncached"},
  {.name = "lease.dir_list_cached_pdus", .unit = "PDUs/listing",
   .run = run_cached_pdus, .setup = lsetup, .teardown = lteardown,
   .iters = 4, .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "lease.dir_list_cached_allocs", .unit = "allocs/listing",
   .run = run_cached_allocs, .setup = lsetup, .teardown = lteardown,
   .iters = 4, .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "lease.bytes_per_client_lease", .unit = "B",
   .run = run_bytes_lease, .setup = lsetup, .teardown = lteardown,
   .iters = 1, .goal = BENCH_LE(64), .flags = BENCH_F_INVARIANT},
  {.name = "lease.bytes_per_cached_entry_beyond_name", .unit = "B",
   .run = run_bytes_entry, .setup = lsetup, .teardown = lteardown,
   .iters = 1, .goal = BENCH_LE(128), .flags = BENCH_F_INVARIANT},
};

BENCH_SUITE_DEFINE(lease, lease_metrics);
