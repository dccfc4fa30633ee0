/* SPDX-License-Identifier: MIT */
/* The client node with its lease table (lib/client/lease_cache.c) against
 * a scripted server written here with the codec: exact requests on the
 * wire, responses and break notifications in any order (leases.md client
 * cases 12, 61-65 through the node; directory listings with zero round
 * trips; deferred directory handles). */
#include "test_main.h"

#include <stdlib.h>

#include <smbx/client.h>
#include <smbx/lease_client.h>

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE
#define SID 0x1111u
#define TID 5u

typedef struct req {
  smbx_smb2_hdr h;
  uint8_t pdu[4096];
  size_t len;
} req;

typedef struct fx {
  test_alloc ta;
  smbx_client *cli;
  uint64_t conn, session;
  uint32_t scope;
  uint8_t out[1 << 16]; /* client -> server bytes not yet read */
  size_t out_len;
  uint8_t *feed[256]; /* fed buffers stay valid until the end */
  size_t n_feed;
  uint64_t now;
  uint64_t wire_requests;
} fx;

static const uint8_t SGUID[16] = {0xA, 0xB, 0xC, 0xD, 1, 2, 3, 4,
                                  5, 6, 7, 8, 9, 10, 11, 12};

static int hook_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  fx *f = ud;
  assert_true(f->out_len + n <= sizeof f->out);
  memcpy(f->out + f->out_len, b, n);
  f->out_len += n;
  return 0;
}

/* Next request the client sent (one per transport message here). */
static bool next_req(fx *f, req *q)
{
  if (f->out_len < 4)
    return false;
  size_t n = (size_t)f->out[1] << 16 | (size_t)f->out[2] << 8 | f->out[3];
  assert_true(n <= sizeof q->pdu && 4 + n <= f->out_len);
  memcpy(q->pdu, f->out + 4, n);
  q->len = n;
  memmove(f->out, f->out + 4 + n, f->out_len - 4 - n);
  f->out_len -= 4 + n;
  assert_int_equal(smbx_smb2_hdr_decode(q->pdu, n, &q->h, NULL), 0);
  f->wire_requests++;
  return true;
}

static void feed(fx *f, const uint8_t *pdu, size_t n)
{
  uint8_t *b = test_malloc(n + 4);
  b[0] = 0;
  b[1] = (uint8_t)(n >> 16);
  b[2] = (uint8_t)(n >> 8);
  b[3] = (uint8_t)n;
  memcpy(b + 4, pdu, n);
  assert_true(f->n_feed < 256);
  f->feed[f->n_feed++] = b;
  assert_int_equal(smbx_client_tcp_feed(f->cli, f->conn, b, n + 4, f->now),
                   (smbx_ssize)(n + 4));
}

static uint16_t g_grant = 32; /* credits each response grants */

static smbx_smb2_hdr resp_hdr(const req *q, uint32_t status)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = q->h.command;
  h.message_id = q->h.message_id;
  h.credits = g_grant;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  h.status = status;
  h.session_id = q->h.session_id;
  h.tree_id = q->h.tree_id;
  return h;
}

/* An error response (ERROR body, 9 bytes). */
static void answer_status(fx *f, const req *q, uint32_t status)
{
  uint8_t p[64 + 9];
  memset(p, 0, sizeof p);
  smbx_smb2_hdr h = resp_hdr(q, status);
  assert_int_equal(smbx_smb2_hdr_encode(&h, p, 64, NULL), 64);
  p[64] = 9;
  feed(f, p, sizeof p);
}

static int next_ev(fx *f, smbx_event *ev)
{
  memset(ev, 0, sizeof *ev);
  ev->struct_size = sizeof *ev;
  int rc = smbx_client_next_event(f->cli, ev);
  if (rc == 1 && ev->hold)
    assert_int_equal(smbx_client_release(f->cli, ev->conn, ev->hold, f->now),
                     0);
  return rc;
}

/* Drains events until one of `type`; fails if none. */
static void want_ev(fx *f, uint32_t type, smbx_event *ev)
{
  while (next_ev(f, ev) == 1)
    if (ev->type == type)
      return;
  fail_msg("no event of type %u", type);
}

static void no_events(fx *f)
{
  smbx_event ev;
  while (next_ev(f, &ev) == 1)
    assert_true(ev.type != SMBX_EV_LEASE_BREAK &&
                ev.type != SMBX_EV_DIR_INVALIDATE &&
                ev.type != SMBX_EV_BREAK && ev.type != SMBX_EV_CONN_DOWN);
}

static void fx_up(fx *f)
{
  memset(f, 0, sizeof *f);
  test_alloc_init(&f->ta);
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.dialects = SMBX_DIALECT_MASK_302;
  assert_int_equal(smbx_client_new(&f->cli, &cs, NULL, &f->ta.a, 0), 0);
  assert_int_equal(smbx_client_leases_enable(f->cli, NULL, 0), 0);
  smbx_tcp_hooks hk = {sizeof hk, f, hook_send};
  assert_int_equal(smbx_client_add_tcp(f->cli, &hk, 0, &f->conn), 0);
  req q;
  smbx_event ev;
  /* NEGOTIATE: 3.0.2 with LEASING and DIRECTORY_LEASING */
  assert_int_equal(smbx_client_negotiate(f->cli, f->conn, 0), 0);
  assert_true(next_req(f, &q));
  smbx_smb2_negotiate_resp nr;
  memset(&nr, 0, sizeof nr);
  nr.dialect_revision = SMBX_SMB2_DIALECT_302;
  memcpy(nr.server_guid, SGUID, 16);
  nr.capabilities = SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  nr.max_transact_size = nr.max_read_size = nr.max_write_size = 65536;
  uint8_t p[512];
  smbx_smb2_hdr h = resp_hdr(&q, 0);
  smbx_ssize n = smbx_smb2_encode_negotiate_resp(&h, &nr, p, sizeof p, NULL);
  assert_true(n > 0);
  feed(f, p, (size_t)n);
  want_ev(f, SMBX_EV_NEGOTIATED, &ev);
  assert_int_equal(ev.u.negotiated.err, 0);
  /* anonymous session */
  static const uint8_t blob[1] = {0x60};
  assert_int_equal(smbx_client_session_setup(f->cli, f->conn, &f->session,
                                             blob, 1, 0),
                   0);
  assert_true(next_req(f, &q));
  smbx_smb2_session_setup_resp sr;
  memset(&sr, 0, sizeof sr);
  sr.session_flags = SMBX_SMB2_SESSION_FLAG_IS_NULL;
  h = resp_hdr(&q, 0);
  h.session_id = SID;
  n = smbx_smb2_encode_session_setup_resp(&h, &sr, p, sizeof p, NULL);
  feed(f, p, (size_t)n);
  want_ev(f, SMBX_EV_SESSION_UP, &ev);
  /* tree */
  assert_int_equal(smbx_client_tree_connect(f->cli, f->conn, f->session,
                                            "\\\\srv\\share", 0, NULL),
                   0);
  assert_true(next_req(f, &q));
  smbx_smb2_tree_connect_resp tr;
  memset(&tr, 0, sizeof tr);
  tr.share_type = 1;
  tr.maximal_access = 0x1F01FF;
  h = resp_hdr(&q, 0);
  h.tree_id = TID;
  n = smbx_smb2_encode_tree_connect_resp(&h, &tr, p, sizeof p, NULL);
  feed(f, p, (size_t)n);
  want_ev(f, SMBX_EV_TREE_CONNECT, &ev);
  assert_int_equal(ev.u.tree.tree_id, TID);
  assert_int_equal(smbx_client_lease_scope(f->cli, SGUID, "share", 0,
                                           &f->scope),
                   0);
  f->wire_requests = 0;
}

static void fx_down(fx *f)
{
  smbx_client_free(f->cli);
  for (size_t i = 0; i < f->n_feed; i++)
    test_free(f->feed[i]);
  assert_int_equal(f->ta.live, 0);
}

static size_t u16(const char *s, uint8_t *out)
{
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = (uint8_t)s[i];
    out[2 * i + 1] = 0;
  }
  return 2 * n;
}

/* The RqLs the client sent in CREATE q. */
static void req_lease(const req *q, smbx_smb2_lease *out)
{
  smbx_smb2_create_req cr;
  assert_int_equal(smbx_smb2_decode_create_req(q->pdu, q->len, &cr, NULL), 0);
  assert_int_equal(cr.requested_oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  assert_int_equal(smbx_smb2_create_ctx_iter_init(&it, cr.contexts, 0), 0);
  while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1)
    if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS) {
      assert_int_equal(smbx_smb2_lease_decode(c.data, out, NULL), 0);
      return;
    }
  fail_msg("no RqLs in the CREATE");
}

static uint64_t g_fid = 0x100;

/* CREATE response granting `state` (epoch +1) for the request's lease. */
static smbx_smb2_fileid answer_create(fx *f, const req *q, uint32_t state,
                                      bool dir)
{
  smbx_smb2_lease ls;
  req_lease(q, &ls);
  ls.state = state;
  ls.epoch = (uint16_t)(ls.epoch + 1);
  ls.flags &= SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
  uint8_t data[52], area[128];
  smbx_ssize dl = smbx_smb2_lease_encode(&ls, data, sizeof data, NULL);
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {data, (size_t)dl},
                            0};
  smbx_ssize al = smbx_smb2_create_ctx_list_encode(&c, 1, area, sizeof area,
                                                   NULL);
  assert_true(al > 0);
  smbx_smb2_create_resp cr;
  memset(&cr, 0, sizeof cr);
  cr.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  cr.create_action = 1;
  cr.file_attributes = dir ? 0x10 : 0x20;
  cr.file_id.persistent_id = ++g_fid;
  cr.file_id.volatile_id = g_fid;
  cr.contexts.p = area;
  cr.contexts.len = (size_t)al;
  uint8_t p[512];
  smbx_smb2_hdr h = resp_hdr(q, 0);
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &cr, p, sizeof p, NULL);
  assert_true(n > 0);
  feed(f, p, (size_t)n);
  return cr.file_id;
}

static void create(fx *f, const char *path, uint32_t flags, req *q)
{
  uint8_t name[256];
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.impersonation_level = 2;
  cr.desired_access = 0x120089;
  cr.share_access = 7;
  cr.create_disposition = 1;
  cr.create_options = (flags & SMBX_LEASE_REQ_DIR) ? 1 : 0;
  cr.name.p = name;
  cr.name.len = u16(path, name);
  assert_int_equal(smbx_client_create_leased(f->cli, f->conn, f->session, TID,
                                             f->scope, &cr, flags, f->now,
                                             NULL),
                   0);
  assert_true(next_req(f, q));
  assert_int_equal(q->h.command, SMBX_SMB2_CREATE);
}

static void notify(fx *f, const uint8_t key[16], uint32_t from, uint32_t to,
                   uint16_t epoch, bool ack)
{
  smbx_smb2_lease_break_notify n;
  memset(&n, 0, sizeof n);
  memcpy(n.lease_key, key, 16);
  n.current_state = from;
  n.new_state = to;
  n.new_epoch = epoch;
  n.flags = ack ? SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED : 0;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = UINT64_MAX;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  uint8_t p[128];
  smbx_ssize k = smbx_smb2_encode_lease_break_notify(&h, &n, p, sizeof p,
                                                     NULL);
  assert_int_equal(k, 64 + 44);
  feed(f, p, (size_t)k);
}

/* The ack the client sent: its key and state. */
static void want_ack(fx *f, const uint8_t key[16], uint32_t state)
{
  req q;
  assert_true(next_req(f, &q));
  assert_int_equal(q.h.command, SMBX_SMB2_OPLOCK_BREAK);
  assert_int_equal(q.h.session_id, SID);
  assert_int_equal(q.h.tree_id, TID);
  smbx_smb2_lease_break_ack a;
  assert_int_equal(smbx_smb2_decode_lease_break_ack(q.pdu, q.len, &a, NULL),
                   0);
  assert_memory_equal(a.lease_key, key, 16);
  assert_int_equal(a.lease_state, state);
  /* the Lease Break Response goes back to the node, not to the host */
  smbx_smb2_hdr h = resp_hdr(&q, 0);
  uint8_t p[128];
  smbx_ssize n = smbx_smb2_encode_lease_break_ack(&h, &a, p, sizeof p, NULL);
  feed(f, p, (size_t)n);
  smbx_event ev;
  while (next_ev(f, &ev) == 1)
    assert_int_not_equal(ev.type, SMBX_EV_RESPONSE);
}

/* A QUERY_DIRECTORY response with FileIdBothDirectoryInformation entries. */
static void answer_qdir(fx *f, const req *q, const char **names, size_t n)
{
  uint8_t buf[8192];
  smbx_smb2_dir_builder b;
  assert_int_equal(smbx_smb2_dir_builder_init(
                       &b, SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION, buf,
                       sizeof buf),
                   0);
  for (size_t i = 0; i < n; i++) {
    uint8_t nm[128];
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(names[i], nm);
    e.end_of_file = 10 * (i + 1);
    e.file_attributes = 0x20;
    e.file_id = 500 + i;
    assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), 0);
  }
  smbx_smb2_output_resp o = {0, {buf, b.len}};
  uint8_t p[9000];
  smbx_smb2_hdr h = resp_hdr(q, 0);
  smbx_ssize k = smbx_smb2_encode_query_directory_resp(&h, &o, p, sizeof p,
                                                       NULL);
  assert_true(k > 0);
  feed(f, p, (size_t)k);
}

static void query(fx *f, smbx_smb2_fileid fid, uint8_t flags, req *q)
{
  static const uint8_t star[2] = {'*', 0};
  smbx_smb2_query_directory_req in;
  memset(&in, 0, sizeof in);
  in.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  in.flags = flags;
  in.file_id = fid;
  in.file_name.p = star;
  in.file_name.len = 2;
  in.output_buffer_length = 65536;
  assert_int_equal(smbx_client_dir_query(f->cli, f->conn, f->session, TID,
                                         &in, f->now, NULL),
                   0);
  assert_true(next_req(f, q));
  assert_int_equal(q->h.command, SMBX_SMB2_QUERY_DIRECTORY);
}

/* ---- cases ----------------------------------------------------------------- */

static void lease_case_63_client_dir_cache_node(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  static const char *names[] = {".", "..", "a.txt", "B.TXT", "c"};
  req q;
  smbx_event ev;
  create(&f, "d", SMBX_LEASE_REQ_DIR, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  assert_int_equal(ls.state, R | H);
  smbx_smb2_fileid fid = answer_create(&f, &q, R | H, true);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  /* the first listing goes to the server: entries, then NO_MORE_FILES */
  query(&f, fid, SMBX_SMB2_RESTART_SCANS, &q);
  answer_qdir(&f, &q, names, 5);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  query(&f, fid, 0, &q);
  answer_status(&f, &q, SMBX_STATUS_NO_MORE_FILES);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  assert_int_equal(ev.u.pdu.status, SMBX_STATUS_NO_MORE_FILES);
  /* closing under H: deferred, nothing on the wire */
  uint64_t before = f.wire_requests;
  assert_int_equal(smbx_client_dir_close(f.cli, f.conn, f.session, TID, fid,
                                         f.now, NULL),
                   1);
  /* the second listing and lookups: zero round trips */
  uint8_t dp[4], nm[16];
  size_t dn = u16("d", dp);
  uint32_t cur = 0, count = 0;
  smbx_smb2_dir_entry e;
  while (smbx_client_dir_next(f.cli, f.scope, dp, dn, f.now, &cur, &e) == 1) {
    uint8_t want[32];
    size_t wn = u16(names[count], want);
    assert_int_equal(e.file_name.len, wn);
    assert_memory_equal(e.file_name.p, want, wn);
    assert_int_equal(e.end_of_file, 10 * (count + 1));
    count++;
  }
  assert_int_equal(count, 5);
  size_t nn = u16("b.txt", nm);
  assert_int_equal(smbx_client_dir_lookup(f.cli, f.scope, dp, dn, nm, nn,
                                          f.now, &e),
                   1);
  assert_int_equal(e.file_id, 503);
  nn = u16("zzz", nm);
  assert_int_equal(smbx_client_dir_lookup(f.cli, f.scope, dp, dn, nm, nn,
                                          f.now, &e),
                   0);
  /* a later open of the directory takes the deferred handle back */
  uint64_t c2, s2;
  uint32_t t2;
  smbx_smb2_fileid fid2;
  assert_int_equal(smbx_client_dir_reopen(f.cli, f.scope, dp, dn, &c2, &s2,
                                          &t2, &fid2),
                   1);
  assert_int_equal(fid2.volatile_id, fid.volatile_id);
  assert_int_equal(c2, f.conn);
  assert_int_equal(t2, TID);
  assert_int_equal(smbx_client_dir_close(f.cli, f.conn, f.session, TID, fid,
                                         f.now, NULL),
                   1);
  assert_int_equal(f.wire_requests, before);
  assert_false(next_req(&f, &q));
  /* another client changes d: RH -> NONE. The node closes the deferred
   * handle, then acks; the listing is gone */
  notify(&f, ls.key, R | H, 0, 2, true);
  assert_true(next_req(&f, &q));
  assert_int_equal(q.h.command, SMBX_SMB2_CLOSE);
  want_ev(&f, SMBX_EV_LEASE_BREAK, &ev);
  assert_memory_equal(ev.u.lease.key, ls.key, 16);
  assert_int_equal(ev.u.lease.from, R | H);
  assert_int_equal(ev.u.lease.to, 0);
  assert_int_equal(ev.u.lease.actions,
                   SMBX_LEASE_ACT_CLOSE_HANDLES | SMBX_LEASE_ACT_PURGE);
  assert_true(ev.u.lease.flags & SMBX_LEASE_CEVF_SETTLED);
  want_ev(&f, SMBX_EV_DIR_INVALIDATE, &ev);
  assert_int_equal(ev.u.lease.reason, SMBX_LEASE_INVAL_BREAK);
  assert_false(next_req(&f, &q)); /* no ack before the close completed */
  uint8_t cp[64 + 60];
  memset(cp, 0, sizeof cp);
  smbx_smb2_hdr h = resp_hdr(&q, 0);
  smbx_smb2_close_resp clr;
  memset(&clr, 0, sizeof clr);
  smbx_ssize k = smbx_smb2_encode_close_resp(&h, &clr, cp, sizeof cp, NULL);
  feed(&f, cp, (size_t)k);
  want_ack(&f, ls.key, 0);
  cur = 0;
  assert_int_equal(smbx_client_dir_next(f.cli, f.scope, dp, dn, f.now, &cur,
                                        &e),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx_client_dir_reopen(f.cli, f.scope, dp, dn, &c2, &s2,
                                          &t2, &fid2),
                   0);
  fx_down(&f);
}

static void lease_case_61_client_early_break_node(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  req q;
  smbx_event ev;
  create(&f, "file", 0, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  assert_int_equal(ls.state, R | W | H);
  /* the break overtakes the CREATE response */
  notify(&f, ls.key, R | W | H, R | H, 2, true);
  no_events(&f);
  assert_false(next_req(&f, &q) && q.h.command == SMBX_SMB2_OPLOCK_BREAK);
  (void)answer_create(&f, &q, R | W | H, false);
  /* RESPONSE first, then the break it carried, then the ack */
  assert_int_equal(next_ev(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_EV_RESPONSE);
  assert_int_equal(next_ev(&f, &ev), 1);
  assert_int_equal(ev.type, SMBX_EV_LEASE_BREAK);
  assert_int_equal(ev.u.lease.from, R | W | H);
  assert_int_equal(ev.u.lease.to, R | H);
  assert_int_equal(ev.u.lease.epoch, 2);
  assert_int_equal(ev.u.lease.actions, SMBX_LEASE_ACT_FLUSH);
  want_ack(&f, ls.key, R | H);
  fx_down(&f);
}

static void lease_case_62_client_transitions_node(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  req q;
  smbx_event ev;
  create(&f, "f", 0, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  (void)answer_create(&f, &q, R | W | H, false);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  /* the host holds dirty data: the ack waits for its flush */
  assert_int_equal(smbx_lease_client_set_cached(smbx_client_lease_table(f.cli),
                                                ls.key,
                                                SMBX_LEASE_CACHED_DIRTY, 0),
                   0);
  notify(&f, ls.key, R | W | H, R | H, 2, true);
  want_ev(&f, SMBX_EV_LEASE_BREAK, &ev);
  assert_int_equal(ev.u.lease.actions, SMBX_LEASE_ACT_FLUSH);
  assert_int_equal(ev.u.lease.flags & SMBX_LEASE_CEVF_SETTLED, 0);
  assert_false(next_req(&f, &q));
  assert_int_equal(smbx_lease_client_set_cached(smbx_client_lease_table(f.cli),
                                                ls.key, 0,
                                                SMBX_LEASE_CACHED_DIRTY),
                   0);
  assert_int_equal(smbx_client_lease_break_done(f.cli, ls.key, f.now), 1);
  want_ack(&f, ls.key, R | H);
  /* RH -> R with nothing cached: acked at once */
  notify(&f, ls.key, R | H, R, 2, true);
  want_ack(&f, ls.key, R);
  /* R -> NONE: no ack asked, none sent */
  notify(&f, ls.key, R, 0, 2, false);
  want_ev(&f, SMBX_EV_LEASE_BREAK, &ev);
  assert_int_equal(ev.u.lease.actions, SMBX_LEASE_ACT_PURGE);
  assert_false(next_req(&f, &q));
  fx_down(&f);
}

static void lease_case_64_client_own_change_node(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  req q;
  smbx_event ev;
  create(&f, "d", SMBX_LEASE_REQ_DIR, &q);
  smbx_smb2_lease ld;
  req_lease(&q, &ld);
  (void)answer_create(&f, &q, R | H, true);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  /* a child CREATE carries the directory's key as ParentLeaseKey */
  create(&f, "d\\f", 0, &q);
  smbx_smb2_lease lf;
  req_lease(&q, &lf);
  assert_int_equal(lf.version, 2);
  assert_int_equal(lf.flags, SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET);
  assert_memory_equal(lf.parent_key, ld.key, 16);
  assert_memory_not_equal(lf.key, ld.key, 16);
  (void)answer_create(&f, &q, R | W | H, false);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  fx_down(&f);
}

static void lease_case_65_client_unknown_key_node(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  uint8_t k[16];
  memset(k, 0x77, 16);
  notify(&f, k, R | H, 0, 4, true);
  no_events(&f);
  req q;
  assert_false(next_req(&f, &q));
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(f.cli, f.conn, &ci), 0);
  assert_int_equal(ci.err, 0);
  fx_down(&f);
}

static void lease_case_12_notif_bad_size(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  req q;
  smbx_event ev;
  create(&f, "f", 0, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  (void)answer_create(&f, &q, R | W | H, false);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  /* StructureSize 36 with MessageId all-ones, then 44 with a 40-byte body */
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = UINT64_MAX;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  uint8_t p[64 + 44];
  memset(p, 0, sizeof p);
  assert_int_equal(smbx_smb2_hdr_encode(&h, p, 64, NULL), 64);
  p[64] = 36;
  memcpy(p + 64 + 8, ls.key, 16);
  p[64 + 24] = R | W | H; /* current */
  p[64 + 28] = 0;         /* new: NONE */
  feed(&f, p, 64 + 36);
  p[64] = 44;
  feed(&f, p, 64 + 40);
  no_events(&f);
  assert_false(next_req(&f, &q));
  uint32_t st;
  assert_int_equal(smbx_lease_client_state(smbx_client_lease_table(f.cli),
                                           ls.key, &st, NULL),
                   0);
  assert_int_equal(st, R | W | H);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(f.cli, f.conn, &ci), 0);
  assert_int_equal(ci.err, 0);
  /* the connection lives on: a well-formed break still works */
  notify(&f, ls.key, R | W | H, R | H, 2, true);
  want_ack(&f, ls.key, R | H);
  fx_down(&f);
}

static void lease_node_ack_waits_for_a_credit(void **state)
{
  (void)state;
  g_grant = 1; /* the client holds one credit at a time */
  fx f;
  fx_up(&f);
  req q, echo;
  smbx_event ev;
  create(&f, "f", 0, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  (void)answer_create(&f, &q, R | W | H, false);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  /* the only credit is in flight: the ack cannot go yet */
  assert_int_equal(smbx_client_echo(f.cli, f.conn, f.now, NULL), 0);
  assert_true(next_req(&f, &echo));
  notify(&f, ls.key, R | W | H, R | H, 2, true);
  want_ev(&f, SMBX_EV_LEASE_BREAK, &ev);
  assert_false(next_req(&f, &q));
  /* the echo's answer brings a credit back: the ack goes then */
  uint8_t p[64 + 4];
  memset(p, 0, sizeof p);
  smbx_smb2_hdr h = resp_hdr(&echo, 0);
  assert_int_equal(smbx_smb2_hdr_encode(&h, p, 64, NULL), 64);
  p[64] = 4;
  feed(&f, p, sizeof p);
  want_ev(&f, SMBX_EV_RESPONSE, &ev); /* the echo's, for the host */
  want_ack(&f, ls.key, R | H);
  g_grant = 32;
  fx_down(&f);
}

static void lease_node_connection_loss_drops_leases(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  static const char *names[] = {".", "..", "x"};
  req q;
  smbx_event ev;
  create(&f, "d", SMBX_LEASE_REQ_DIR, &q);
  smbx_smb2_lease ls;
  req_lease(&q, &ls);
  smbx_smb2_fileid fid = answer_create(&f, &q, R | H, true);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  query(&f, fid, SMBX_SMB2_RESTART_SCANS, &q);
  answer_qdir(&f, &q, names, 3);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  query(&f, fid, 0, &q);
  answer_status(&f, &q, SMBX_STATUS_NO_MORE_FILES);
  want_ev(&f, SMBX_EV_RESPONSE, &ev);
  assert_int_equal(smbx_client_dir_close(f.cli, f.conn, f.session, TID, fid,
                                         f.now, NULL),
                   1);
  uint8_t dp[4];
  size_t dn = u16("d", dp);
  uint32_t cur = 0;
  smbx_smb2_dir_entry e;
  assert_int_equal(smbx_client_dir_next(f.cli, f.scope, dp, dn, f.now, &cur,
                                        &e),
                   1);
  /* the server drops leases with the connection: nothing cached stays */
  assert_int_equal(smbx_client_abort_conn(f.cli, f.conn, SMBX_ERR_TRANSPORT,
                                          f.now),
                   0);
  want_ev(&f, SMBX_EV_DIR_INVALIDATE, &ev);
  assert_int_equal(ev.u.lease.reason, SMBX_LEASE_INVAL_LOST);
  assert_memory_equal(ev.u.lease.key, ls.key, 16);
  cur = 0;
  assert_int_equal(smbx_client_dir_next(f.cli, f.scope, dp, dn, f.now, &cur,
                                        &e),
                   SMBX_ERR_NOTFOUND);
  uint64_t c2, s2;
  uint32_t t2;
  smbx_smb2_fileid f2;
  assert_int_equal(smbx_client_dir_reopen(f.cli, f.scope, dp, dn, &c2, &s2,
                                          &t2, &f2),
                   0);
  uint32_t st = 1;
  assert_int_equal(smbx_lease_client_state(smbx_client_lease_table(f.cli),
                                           ls.key, &st, NULL),
                   0);
  assert_int_equal(st, 0);
  fx_down(&f);
}

static void lease_node_oplock_breaks_stay_with_the_host(void **state)
{
  (void)state;
  fx f;
  fx_up(&f);
  smbx_smb2_oplock_break ob;
  memset(&ob, 0, sizeof ob);
  ob.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_II;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = UINT64_MAX;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  uint8_t p[128];
  smbx_ssize k = smbx_smb2_encode_oplock_break(&h, &ob, p, sizeof p, NULL);
  feed(&f, p, (size_t)k);
  smbx_event ev;
  want_ev(&f, SMBX_EV_BREAK, &ev);
  fx_down(&f);
}

static int scenario_enable(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx_client *cli;
  int rc = smbx_client_new(&cli, NULL, NULL, &ta->a, 0);
  if (rc)
    return rc;
  rc = smbx_client_leases_enable(cli, NULL, 0);
  smbx_client_free(cli);
  return rc;
}

static void lease_node_enable_alloc_failures_clean(void **state)
{
  (void)state;
  assert_true(test_alloc_each_failure(scenario_enable, NULL) > 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lease_case_12_notif_bad_size),
      cmocka_unit_test(lease_case_61_client_early_break_node),
      cmocka_unit_test(lease_case_62_client_transitions_node),
      cmocka_unit_test(lease_case_63_client_dir_cache_node),
      cmocka_unit_test(lease_case_64_client_own_change_node),
      cmocka_unit_test(lease_case_65_client_unknown_key_node),
      cmocka_unit_test(lease_node_ack_waits_for_a_credit),
      cmocka_unit_test(lease_node_connection_loss_drops_leases),
      cmocka_unit_test(lease_node_oplock_breaks_stay_with_the_host),
      cmocka_unit_test(lease_node_enable_alloc_failures_clean),
  };
  return RUN_TESTS(tests);
}
