/* SPDX-License-Identifier: MIT */
/* Lease breaks and CREATE responses with lease contexts into a client
 * node whose directory cache holds a listing (lib/client/lease_cache.c,
 * lib/lease). The node is set up by a scripted server (3.0.2, anonymous
 * session, a directory under an RH lease with three cached entries);
 * then each input op is one of: a lease break notification with fuzzed
 * fields (key: the directory's, the file's or the input's), raw bytes as
 * an unsolicited OPLOCK_BREAK body, a CREATE of a child whose response
 * carries fuzzed RqLs data (and possibly a break before it), a clock
 * step, a re-listing, the loss of the connection, taking or releasing a
 * held snapshot. Invariant checked after every op: while the table says
 * the directory lease lacks R (or was purged), the cache serves nothing
 * -- no stale entry after a break was processed, by enumeration or by a
 * new snapshot -- and a served listing is exactly the three entries; a
 * snapshot held across the ops still reads the three entries it was
 * taken with (ASan: its block stays alive until released). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/lease_client.h>

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c))                                                                 \
      abort();                                                                \
  } while (0)

#define SID 0x77u
#define TID 3u

typedef struct fz {
  smbx_client *cli;
  uint64_t conn, session;
  uint32_t scope;
  uint8_t out[1 << 16];
  size_t out_len;
  uint8_t *feeds[512];
  size_t n_feeds;
  uint64_t now;
  uint8_t dir_key[16], file_key[16];
  smbx_smb2_fileid dir_fid;
  uint64_t fid;
  uint16_t msgid_hint;
  smbx_lease_dir_snapshot held;
} fz;

static const uint8_t GUID[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

static int hook_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  fz *f = ud;
  if (f->out_len + n > sizeof f->out)
    f->out_len = 0; /* requests nobody answers: forget them */
  memcpy(f->out + f->out_len, b, n);
  f->out_len += n;
  return 0;
}

/* Oldest request: its header, body view (valid until the next call). */
static bool take_req(fz *f, smbx_smb2_hdr *h, uint8_t *pdu, size_t *len)
{
  if (f->out_len < 4)
    return false;
  size_t n = (size_t)f->out[1] << 16 | (size_t)f->out[2] << 8 | f->out[3];
  if (n > 8192 || 4 + n > f->out_len)
    return false;
  memcpy(pdu, f->out + 4, n);
  *len = n;
  memmove(f->out, f->out + 4 + n, f->out_len - 4 - n);
  f->out_len -= 4 + n;
  return smbx_smb2_hdr_decode(pdu, n, h, NULL) == 0;
}

static void drain(fz *f)
{
  smbx_event ev;
  ev.struct_size = sizeof ev;
  while (smbx_client_next_event(f->cli, &ev) == 1)
    if (ev.hold)
      (void)smbx_client_release(f->cli, ev.conn, ev.hold, f->now);
}

static void feed(fz *f, const uint8_t *pdu, size_t n)
{
  if (f->n_feeds == 512)
    return;
  uint8_t *b = malloc(n + 4);
  CHECK(b);
  b[0] = 0;
  b[1] = (uint8_t)(n >> 16);
  b[2] = (uint8_t)(n >> 8);
  b[3] = (uint8_t)n;
  memcpy(b + 4, pdu, n);
  f->feeds[f->n_feeds++] = b;
  (void)smbx_client_tcp_feed(f->cli, f->conn, b, n + 4, f->now);
  drain(f);
}

static smbx_smb2_hdr rhdr(const smbx_smb2_hdr *q, uint32_t status)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = q->command;
  h.message_id = q->message_id;
  h.credits = 64;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  h.status = status;
  h.session_id = q->session_id;
  h.tree_id = q->tree_id;
  return h;
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

/* CREATE response carrying `data` as RqLs data (any length). */
static void create_resp(fz *f, const smbx_smb2_hdr *q, const uint8_t *data,
                        size_t dlen, smbx_smb2_fileid *fid)
{
  uint8_t area[256];
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {data, dlen}, 0};
  smbx_ssize al = smbx_smb2_create_ctx_list_encode(&c, 1, area, sizeof area,
                                                   NULL);
  smbx_smb2_create_resp cr;
  memset(&cr, 0, sizeof cr);
  cr.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  cr.file_id.persistent_id = ++f->fid;
  cr.file_id.volatile_id = f->fid;
  if (al > 0) {
    cr.contexts.p = area;
    cr.contexts.len = (size_t)al;
  }
  uint8_t p[512];
  smbx_smb2_hdr h = rhdr(q, 0);
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &cr, p, sizeof p, NULL);
  if (n > 0)
    feed(f, p, (size_t)n);
  if (fid)
    *fid = cr.file_id;
}

static void lease_of(const uint8_t *pdu, size_t len, smbx_smb2_lease *out)
{
  memset(out, 0, sizeof *out);
  smbx_smb2_create_req cr;
  if (smbx_smb2_decode_create_req(pdu, len, &cr, NULL) != 0)
    return;
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  (void)smbx_smb2_create_ctx_iter_init(&it, cr.contexts, 0);
  while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1)
    if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS)
      (void)smbx_smb2_lease_decode(c.data, out, NULL);
}

static bool create(fz *f, const char *path, uint32_t flags,
                   smbx_smb2_hdr *q, smbx_smb2_lease *ls)
{
  uint8_t name[64];
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.impersonation_level = 2;
  cr.desired_access = 0x120089;
  cr.share_access = 7;
  cr.create_disposition = 1;
  cr.name.p = name;
  cr.name.len = u16(path, name);
  if (smbx_client_create_leased(f->cli, f->conn, f->session, TID, f->scope,
                                &cr, flags, f->now, NULL) != 0)
    return false;
  uint8_t pdu[8192];
  size_t len;
  if (!take_req(f, q, pdu, &len))
    return false;
  lease_of(pdu, len, ls);
  return true;
}

static const char *NAMES[3] = {"one", "two", "three"};

static bool list_fill(fz *f)
{
  static const uint8_t star[2] = {'*', 0};
  smbx_smb2_query_directory_req in;
  memset(&in, 0, sizeof in);
  in.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  in.flags = SMBX_SMB2_RESTART_SCANS;
  in.file_id = f->dir_fid;
  in.file_name.p = star;
  in.file_name.len = 2;
  in.output_buffer_length = 65536;
  if (smbx_client_dir_query(f->cli, f->conn, f->session, TID, &in, f->now,
                            NULL) != 0)
    return false;
  smbx_smb2_hdr q;
  uint8_t pdu[8192];
  size_t len;
  if (!take_req(f, &q, pdu, &len))
    return false;
  uint8_t buf[1024], p[2048];
  smbx_smb2_dir_builder b;
  (void)smbx_smb2_dir_builder_init(&b, in.info_class, buf, sizeof buf);
  for (int i = 0; i < 3; i++) {
    uint8_t nm[16];
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_name.p = nm;
    e.file_name.len = u16(NAMES[i], nm);
    e.end_of_file = (uint64_t)i + 1;
    (void)smbx_smb2_dir_builder_add(&b, &e);
  }
  smbx_smb2_output_resp o = {0, {buf, b.len}};
  smbx_smb2_hdr h = rhdr(&q, 0);
  smbx_ssize n = smbx_smb2_encode_query_directory_resp(&h, &o, p, sizeof p,
                                                       NULL);
  feed(f, p, (size_t)n);
  in.flags = 0;
  if (smbx_client_dir_query(f->cli, f->conn, f->session, TID, &in, f->now,
                            NULL) != 0 ||
      !take_req(f, &q, pdu, &len))
    return false;
  memset(p, 0, 73);
  h = rhdr(&q, SMBX_STATUS_NO_MORE_FILES);
  (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
  p[64] = 9;
  feed(f, p, 73);
  return true;
}

static bool setup(fz *f)
{
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.dialects = SMBX_DIALECT_MASK_302;
  cs.max_io = 65536; /* small buffers: many executions per second */
  cs.max_requests = 64;
  cs.max_connections = 1;
  cs.max_sessions = 1;
  if (smbx_client_new(&f->cli, &cs, NULL, NULL, 0) != 0)
    return false;
  smbx_lease_client_settings ls;
  smbx_lease_client_settings_default(&ls, sizeof ls);
  ls.max_leases = 8;
  ls.max_dir_entries = 64;
  if (smbx_client_leases_enable(f->cli, &ls, 0) != 0)
    return false;
  smbx_tcp_hooks hk = {sizeof hk, f, hook_send};
  if (smbx_client_add_tcp(f->cli, &hk, 0, &f->conn) != 0 ||
      smbx_client_negotiate(f->cli, f->conn, 0) != 0)
    return false;
  smbx_smb2_hdr q;
  uint8_t pdu[8192], p[512];
  size_t len;
  if (!take_req(f, &q, pdu, &len))
    return false;
  smbx_smb2_negotiate_resp nr;
  memset(&nr, 0, sizeof nr);
  nr.dialect_revision = SMBX_SMB2_DIALECT_302;
  memcpy(nr.server_guid, GUID, 16);
  nr.capabilities = SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  nr.max_transact_size = nr.max_read_size = nr.max_write_size = 65536;
  smbx_smb2_hdr h = rhdr(&q, 0);
  feed(f, p, (size_t)smbx_smb2_encode_negotiate_resp(&h, &nr, p, sizeof p,
                                                     NULL));
  static const uint8_t blob[1] = {0x60};
  if (smbx_client_session_setup(f->cli, f->conn, &f->session, blob, 1, 0) ||
      !take_req(f, &q, pdu, &len))
    return false;
  smbx_smb2_session_setup_resp sr;
  memset(&sr, 0, sizeof sr);
  sr.session_flags = SMBX_SMB2_SESSION_FLAG_IS_NULL;
  h = rhdr(&q, 0);
  h.session_id = SID;
  feed(f, p, (size_t)smbx_smb2_encode_session_setup_resp(&h, &sr, p, sizeof p,
                                                         NULL));
  if (smbx_client_tree_connect(f->cli, f->conn, f->session, "\\\\s\\x", 0,
                               NULL) ||
      !take_req(f, &q, pdu, &len))
    return false;
  smbx_smb2_tree_connect_resp tr;
  memset(&tr, 0, sizeof tr);
  tr.share_type = 1;
  h = rhdr(&q, 0);
  h.tree_id = TID;
  feed(f, p, (size_t)smbx_smb2_encode_tree_connect_resp(&h, &tr, p, sizeof p,
                                                        NULL));
  if (smbx_client_lease_scope(f->cli, GUID, "x", 0, &f->scope) != 0)
    return false;
  smbx_smb2_lease l;
  if (!create(f, "d", SMBX_LEASE_REQ_DIR, &q, &l))
    return false;
  memcpy(f->dir_key, l.key, 16);
  l.state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE;
  l.epoch = 1;
  uint8_t data[52];
  smbx_ssize dl = smbx_smb2_lease_encode(&l, data, sizeof data, NULL);
  create_resp(f, &q, data, (size_t)dl, &f->dir_fid);
  return list_fill(f);
}

static void check_snapshot(const smbx_lease_dir_snapshot *sn)
{
  CHECK(sn->count == 3);
  for (uint32_t i = 0; i < 3; i++) {
    uint8_t nm[16];
    size_t nl = u16(NAMES[i], nm);
    const smbx_lease_dir_entry *e = &sn->entries[i];
    CHECK(e->name_len == nl &&
          memcmp(smbx_lease_dir_entry_name(e), nm, nl) == 0);
  }
}

/* No stale entry: without R (or after a purge) nothing is served; what is
 * served is the listing the server gave. */
static void check(fz *f)
{
  uint8_t dp[2];
  size_t dn = u16("d", dp);
  uint32_t st = 0;
  CHECK(smbx_lease_client_state(smbx_client_lease_table(f->cli), f->dir_key,
                                &st, NULL) == 0);
  uint32_t cur = 0, n = 0;
  smbx_smb2_dir_entry e;
  int rc;
  while ((rc = smbx_client_dir_next(f->cli, f->scope, dp, dn, f->now, &cur,
                                    &e)) == 1) {
    CHECK(st & SMBX_SMB2_LEASE_READ);
    CHECK(n < 3);
    uint8_t nm[16];
    size_t nl = u16(NAMES[n], nm);
    CHECK(e.file_name.len == nl && memcmp(e.file_name.p, nm, nl) == 0);
    n++;
  }
  CHECK(rc == 0 || rc == SMBX_ERR_NOTFOUND);
  CHECK(rc == SMBX_ERR_NOTFOUND || n == 3);
  smbx_lease_dir_snapshot sn;
  sn.struct_size = sizeof sn;
  rc = smbx_client_dir_snapshot(f->cli, f->scope, dp, dn, f->now, &sn);
  CHECK(rc == 0 || rc == SMBX_ERR_NOTFOUND);
  if (rc == 0) {
    CHECK(st & SMBX_SMB2_LEASE_READ);
    check_snapshot(&sn);
    smbx_client_dir_release(f->cli, &sn);
  }
  if (f->held.ref)
    check_snapshot(&f->held);
}

static void notif(fz *f, const uint8_t *body, size_t blen)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = UINT64_MAX;
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  uint8_t p[64 + 128];
  (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
  memcpy(p + 64, body, blen);
  feed(f, p, 64 + blen);
}

/* Answers what the node sent on its own (CLOSE of deferred handles, acks). */
static void answer_node(fz *f)
{
  smbx_smb2_hdr q;
  uint8_t pdu[8192], p[160];
  size_t len;
  while (take_req(f, &q, pdu, &len)) {
    memset(p, 0, sizeof p);
    smbx_smb2_hdr h = rhdr(&q, 0);
    (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
    size_t body = 9;
    if (q.command == SMBX_SMB2_CLOSE) {
      p[64] = 60;
      body = 60;
    } else if (q.command == SMBX_SMB2_OPLOCK_BREAK && len >= 64 + 36) {
      memcpy(p + 64, pdu + 64, 36);
      body = 36;
    } else {
      p[64] = 9;
    }
    feed(f, p, 64 + body);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz *f = calloc(1, sizeof *f);
  CHECK(f);
  if (setup(f)) {
    check(f);
    /* a deferred directory handle, so breaks close it */
    (void)smbx_client_dir_close(f->cli, f->conn, f->session, TID, f->dir_fid,
                                f->now, NULL);
    size_t i = 0;
    while (i < size && f->n_feeds < 500) {
      uint8_t op = data[i++];
      size_t left = size - i;
      switch (op % 8) {
      case 0: { /* a well-formed lease break with fuzzed fields */
        if (left < 8)
          break;
        smbx_smb2_lease_break_notify n;
        memset(&n, 0, sizeof n);
        const uint8_t *k = data[i] % 3 == 0   ? f->dir_key
                           : data[i] % 3 == 1 ? f->file_key
                                              : data + i;
        memcpy(n.lease_key, k, left >= 16 ? 16 : 1);
        n.new_epoch = (uint16_t)(data[i + 1] | data[i + 2] << 8);
        n.flags = data[i + 3] & 1;
        n.current_state = data[i + 4];
        n.new_state = data[i + 5];
        n.break_reason = data[i + 6];
        smbx_smb2_hdr h;
        memset(&h, 0, sizeof h);
        h.command = SMBX_SMB2_OPLOCK_BREAK;
        h.message_id = UINT64_MAX;
        h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
        uint8_t p[128];
        smbx_ssize m = smbx_smb2_encode_lease_break_notify(&h, &n, p, sizeof p,
                                                           NULL);
        if (m > 0)
          feed(f, p, (size_t)m);
        i += 8;
        break;
      }
      case 1: { /* raw notification body */
        size_t n = left < 1 ? 0 : data[i] % 64;
        if (n > left - 1)
          n = left - 1;
        if (left >= 1) {
          notif(f, data + i + 1, n);
          i += 1 + n;
        }
        break;
      }
      case 2: { /* CREATE of a child; fuzzed RqLs data; maybe an early
                 * break first */
        if (left < 3)
          break;
        smbx_smb2_hdr q;
        smbx_smb2_lease l;
        if (!create(f, "d\\f", 0, &q, &l)) {
          i = size;
          break;
        }
        memcpy(f->file_key, l.key, 16);
        size_t dl = data[i] % 64;
        bool early = data[i + 1] & 1;
        i += 2;
        if (dl > size - i)
          dl = size - i;
        uint8_t rq[64];
        memcpy(rq, data + i, dl);
        /* half the time the data names the requested key */
        if (dl >= 16 && (rq[0] & 1))
          memcpy(rq, l.key, 16);
        i += dl;
        if (early) {
          uint8_t body[44];
          memset(body, 0, sizeof body);
          body[0] = 44;
          body[2] = 2;
          body[4] = 1;
          memcpy(body + 8, l.key, 16);
          body[24] = 7;
          body[28] = 3;
          notif(f, body, 44);
        }
        create_resp(f, &q, rq, dl, NULL);
        break;
      }
      case 3: /* time */
        if (left >= 1) {
          f->now += (uint64_t)data[i++] * 250000000u;
          (void)smbx_client_handle_expiry(f->cli, f->now);
          drain(f);
        }
        break;
      case 4: /* list again (fills only under R) */
        if (!list_fill(f))
          i = size;
        break;
      case 5: /* the connection dies: every lease it carried goes */
        (void)smbx_client_abort_conn(f->cli, f->conn, SMBX_ERR_TRANSPORT,
                                     f->now);
        drain(f);
        i = size;
        break;
      case 6: { /* take a snapshot to hold, or release the held one */
        uint8_t dp[2];
        size_t dn = u16("d", dp);
        if (f->held.ref) {
          smbx_client_dir_release(f->cli, &f->held);
        } else {
          f->held.struct_size = sizeof f->held;
          int rc = smbx_client_dir_snapshot(f->cli, f->scope, dp, dn, f->now,
                                            &f->held);
          CHECK(rc == 0 || rc == SMBX_ERR_NOTFOUND);
        }
        break;
      }
      default:
        answer_node(f);
        break;
      }
      answer_node(f);
      check(f);
    }
  }
  if (f->held.ref)
    smbx_client_dir_release(f->cli, &f->held);
  smbx_client_free(f->cli);
  for (size_t k = 0; k < f->n_feeds; k++)
    free(f->feeds[k]);
  free(f);
  return 0;
}
