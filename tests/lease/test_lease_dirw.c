/* SPDX-License-Identifier: MIT */
/* Directory W end to end on the node harness, over TCP and over the
 * simulated SMB Direct NIC: the client node holds an RWH lease on "d"
 * (the server's directory-W opt-in), creates, deletes and changes the
 * attributes of children only in its cache (0 requests); another client's
 * open of "d" makes the server break W; the client writes the three
 * changes back in order (each CREATE carrying d's key as ParentLeaseKey)
 * before its ack, and the other client's listing -- answered after the
 * ack -- is exactly the result. And the open that races the node's own
 * break (answered BREAK_IN_PROGRESS before the ack). The test is the
 * server's host: a small directory model (leases.md 4.1, 4.3, 3.5). */
#include "test_main.h"

#include <stdio.h>

#include <smbx/lease_client.h>

#include "node_harness.h"

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE
#define DELETE_ON_CLOSE 0x1000u

typedef struct hent {
  bool used;
  char name[16];
  uint32_t attrs;
} hent;

typedef struct hopen {
  bool used, dir, doc, listed;
  int ent;
} hopen;

/* The server host: directory d and its lease. */
typedef struct host {
  hent ents[8];
  hopen opens[16];
  uint8_t key[16];
  bool keyed;
  uint32_t state;
  uint16_t epoch;
  uint64_t holder_conn;
  uint64_t held_conn, held_req; /* the other client's CREATE of d */
  uint32_t acked_state;
  int acks;
  bool breaking;
  bool hold_close; /* keep CLOSE requests unanswered */
  uint64_t kept_conn, kept_req;
  smbx_smb2_fileid kept_fid;
  int child_opens_with_parent_key;
  int child_opens;
} host;

static size_t u16(const char *s, uint8_t *out)
{
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = (uint8_t)s[i];
    out[2 * i + 1] = 0;
  }
  return 2 * n;
}

static void ascii(smbx_smb2_bytes b, char *out, size_t cap)
{
  size_t n = b.len / 2 < cap - 1 ? b.len / 2 : cap - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)b.p[2 * i];
  out[n] = 0;
}

static int ent_find(host *s, const char *name)
{
  for (int i = 0; i < 8; i++)
    if (s->ents[i].used && strcmp(s->ents[i].name, name) == 0)
      return i;
  return -1;
}

static int ent_add(host *s, const char *name, uint32_t attrs)
{
  for (int i = 0; i < 8; i++)
    if (!s->ents[i].used) {
      s->ents[i].used = true;
      snprintf(s->ents[i].name, sizeof s->ents[i].name, "%s", name);
      s->ents[i].attrs = attrs;
      return i;
    }
  fail();
  return -1;
}

static uint64_t open_add(host *s, bool dir, int ent, bool doc)
{
  for (uint64_t i = 0; i < 16; i++)
    if (!s->opens[i].used) {
      s->opens[i] = (hopen){true, dir, doc, false, ent};
      return i + 1;
    }
  fail();
  return 0;
}

static void respond(nh *x, uint64_t conn, uint64_t req, uint32_t status,
                    const uint8_t *pdu, smbx_ssize n)
{
  assert_true(n >= 64);
  assert_int_equal(smbx_server_respond(x->srv, conn, req, status, pdu + 64,
                                       (size_t)n - 64, x->now),
                   0);
}

static void create_answer(nh *x, uint64_t conn, uint64_t req, uint64_t vid,
                          const smbx_smb2_lease *grant)
{
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.file_id.persistent_id = vid;
  rs.file_id.volatile_id = vid;
  rs.create_action = 1;
  uint8_t data[52], area[128], out[512];
  if (grant) {
    smbx_ssize dl = smbx_smb2_lease_encode(grant, data, sizeof data, NULL);
    smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4},
                              {data, (size_t)dl}, 0};
    rs.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
    rs.contexts.p = area;
    rs.contexts.len = (size_t)smbx_smb2_create_ctx_list_encode(
        &c, 1, area, sizeof area, NULL);
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  respond(x, conn, req, 0, out,
          smbx_smb2_encode_create_resp(&h, &rs, out, sizeof out, NULL));
}

/* A break to `to` with ACK_REQUIRED to the holder (3.3.4.7, leases.md
 * 3.5); the state stays until the ack. */
static void send_break(nh *x, host *s, uint32_t to)
{
  smbx_smb2_lease_break_notify bn;
  memset(&bn, 0, sizeof bn);
  memcpy(bn.lease_key, s->key, 16);
  bn.current_state = s->state;
  bn.new_state = to;
  s->breaking = true;
  bn.new_epoch = ++s->epoch;
  bn.flags = SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_lease_break_notify(&h, &bn, out, sizeof out,
                                                     NULL);
  assert_true(n > 64);
  assert_int_equal(smbx_server_send_break(x->srv, s->holder_conn, 0, out + 64,
                                          (size_t)n - 64, x->now),
                   0);
}

static void host_create(nh *x, host *s, const smbx_event *e)
{
  smbx_smb2_create_req rq;
  assert_int_equal(
      smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &rq, NULL), 0);
  char name[32];
  ascii(rq.name, name, sizeof name);
  smbx_smb2_lease l;
  bool leased = false;
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  assert_int_equal(smbx_smb2_create_ctx_iter_init(&it, rq.contexts, 0), 0);
  while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1)
    if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS &&
        smbx_smb2_lease_decode(c.data, &l, NULL) == 0)
      leased = true;
  if (strcmp(name, "d") == 0) {
    if (!leased) {
      /* another client: W must be written back first */
      if (s->state & W) {
        s->held_conn = e->conn;
        s->held_req = e->u.pdu.req;
        send_break(x, s, s->state & ~W);
        return;
      }
      create_answer(x, e->conn, e->u.pdu.req, open_add(s, true, -1, false),
                    NULL);
      return;
    }
    if (!s->keyed) {
      memcpy(s->key, l.key, 16);
      s->keyed = true;
      s->holder_conn = e->conn;
    }
    assert_memory_equal(l.key, s->key, 16);
    uint32_t want = l.state & (R | W | H); /* the opt-in: W for dirs */
    if (!s->breaking && want != s->state) {
      s->state = want;
      s->epoch++;
    }
    smbx_smb2_lease g = l;
    g.state = s->state;
    g.epoch = s->epoch;
    /* breaking: the state before the break (Windows, Samba) */
    g.flags = s->breaking ? SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS : 0;
    create_answer(x, e->conn, e->u.pdu.req, open_add(s, true, -1, false), &g);
    return;
  }
  /* a child of d, from the lease holder's write-back */
  assert_true(strncmp(name, "d\\", 2) == 0);
  s->child_opens++;
  if (leased && (l.flags & SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET) &&
      memcmp(l.parent_key, s->key, 16) == 0)
    s->child_opens_with_parent_key++;
  int i = ent_find(s, name + 2);
  if (i < 0 && rq.create_disposition == 3 /* OPEN_IF */)
    i = ent_add(s, name + 2, rq.file_attributes ? rq.file_attributes : 0x20);
  if (i < 0) {
    assert_int_equal(smbx_server_respond_error(
                         x->srv, e->conn, e->u.pdu.req,
                         SMBX_STATUS_OBJECT_NAME_NOT_FOUND, NULL, 0, x->now),
                     0);
    return;
  }
  /* no lease on the files: the write-back opens only carry the key */
  create_answer(x, e->conn, e->u.pdu.req,
                open_add(s, false, i,
                         (rq.create_options & DELETE_ON_CLOSE) != 0),
                NULL);
}

static hopen *open_of(host *s, const smbx_event *e, smbx_smb2_fileid wire)
{
  smbx_smb2_fileid f = (e->flags & SMBX_EVF_FILEID) ? e->u.pdu.file_id : wire;
  assert_true(f.volatile_id >= 1 && f.volatile_id <= 16);
  hopen *o = &s->opens[f.volatile_id - 1];
  assert_true(o->used);
  return o;
}

static void host_query_dir(nh *x, host *s, const smbx_event *e)
{
  smbx_smb2_query_directory_req rq;
  assert_int_equal(smbx_smb2_decode_query_directory_req(
                       e->u.pdu.data, e->u.pdu.len, &rq, NULL),
                   0);
  hopen *o = open_of(s, e, rq.file_id);
  if (rq.flags & SMBX_SMB2_RESTART_SCANS)
    o->listed = false;
  if (o->listed) {
    assert_int_equal(smbx_server_respond(x->srv, e->conn, e->u.pdu.req,
                                         SMBX_STATUS_NO_MORE_FILES, NULL, 0,
                                         x->now),
                     0);
    return;
  }
  o->listed = true;
  uint8_t buf[2048];
  smbx_smb2_dir_builder b;
  assert_int_equal(smbx_smb2_dir_builder_init(&b, rq.info_class, buf,
                                              sizeof buf),
                   0);
  static const char *dots[] = {".", ".."};
  for (int i = -2; i < 8; i++) {
    if (i >= 0 && !s->ents[i].used)
      continue;
    uint8_t nm[32];
    smbx_smb2_dir_entry d;
    memset(&d, 0, sizeof d);
    d.file_name.p = nm;
    d.file_name.len = u16(i < 0 ? dots[i + 2] : s->ents[i].name, nm);
    d.file_attributes = i < 0 ? 0x10 : s->ents[i].attrs;
    d.file_id = (uint64_t)(i + 10);
    assert_int_equal(smbx_smb2_dir_builder_add(&b, &d), 0);
  }
  smbx_smb2_output_resp out = {0, {buf, b.len}};
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[2200];
  respond(x, e->conn, e->u.pdu.req, 0, pdu,
          smbx_smb2_encode_query_directory_resp(&h, &out, pdu, sizeof pdu,
                                                NULL));
}

static void host_set_info(nh *x, host *s, const smbx_event *e)
{
  smbx_smb2_set_info_req rq;
  assert_int_equal(
      smbx_smb2_decode_set_info_req(e->u.pdu.data, e->u.pdu.len, &rq, NULL),
      0);
  hopen *o = open_of(s, e, rq.file_id);
  assert_int_equal(rq.file_info_class, SMBX_SMB2_FILE_BASIC_INFORMATION);
  smbx_smb2_file_basic_info bi;
  assert_int_equal(smbx_smb2_file_basic_info_decode(rq.buffer.p, rq.buffer.len,
                                                    &bi, NULL),
                   0);
  assert_true(o->ent >= 0);
  if (bi.file_attributes)
    s->ents[o->ent].attrs = bi.file_attributes;
  smbx_smb2_set_info_resp r;
  memset(&r, 0, sizeof r);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[80];
  respond(x, e->conn, e->u.pdu.req, 0, pdu,
          smbx_smb2_encode_set_info_resp(&h, &r, pdu, sizeof pdu, NULL));
}

static void close_answer(nh *x, host *s, uint64_t conn, uint64_t req,
                         hopen *o);

static void host_close(nh *x, host *s, const smbx_event *e)
{
  smbx_smb2_close_req rq;
  assert_int_equal(
      smbx_smb2_decode_close_req(e->u.pdu.data, e->u.pdu.len, &rq, NULL), 0);
  hopen *o = open_of(s, e, rq.file_id);
  if (s->hold_close) {
    s->kept_conn = e->conn;
    s->kept_req = e->u.pdu.req;
    s->kept_fid = rq.file_id;
    return;
  }
  close_answer(x, s, e->conn, e->u.pdu.req, o);
}

static void close_answer(nh *x, host *s, uint64_t conn, uint64_t req,
                         hopen *o)
{
  if (o->doc && o->ent >= 0)
    s->ents[o->ent].used = false;
  o->used = false;
  smbx_smb2_close_resp r;
  memset(&r, 0, sizeof r);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[160];
  respond(x, conn, req, 0, pdu,
          smbx_smb2_encode_close_resp(&h, &r, pdu, sizeof pdu, NULL));
  (void)s;
}

/* The lease break ack: the state is what it acks; the other client's
 * open goes on. */
static void host_ack(nh *x, host *s, const smbx_event *e)
{
  smbx_smb2_lease_break_ack a;
  assert_int_equal(
      smbx_smb2_decode_lease_break_ack(e->u.pdu.data, e->u.pdu.len, &a, NULL),
      0);
  assert_memory_equal(a.lease_key, s->key, 16);
  s->acks++;
  s->acked_state = a.lease_state;
  s->state = a.lease_state;
  s->breaking = false;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t pdu[128];
  respond(x, e->conn, e->u.pdu.req, 0, pdu,
          smbx_smb2_encode_lease_break_ack(&h, &a, pdu, sizeof pdu, NULL));
  if (s->held_req) {
    create_answer(x, s->held_conn, s->held_req, open_add(s, true, -1, false),
                  NULL);
    s->held_req = 0;
  }
}

static bool host_request(nh *x, const smbx_event *e)
{
  host *s = x->host_ud;
  switch (e->u.pdu.hdr.command) {
  case SMBX_SMB2_CREATE:
    host_create(x, s, e);
    return true;
  case SMBX_SMB2_QUERY_DIRECTORY:
    host_query_dir(x, s, e);
    return true;
  case SMBX_SMB2_SET_INFO:
    host_set_info(x, s, e);
    return true;
  case SMBX_SMB2_CLOSE:
    host_close(x, s, e);
    return true;
  case SMBX_SMB2_OPLOCK_BREAK:
    host_ack(x, s, e);
    return true;
  default:
    return false;
  }
}

/* ---- the client side ------------------------------------------------ */

typedef struct side {
  int p;
  uint64_t conn, sess;
  uint32_t tree;
} side;

static side connect_pair(nh *x, bool smbd)
{
  side c;
  c.p = smbd ? nh_add_smbd(x) : nh_add_tcp(x, false);
  nh_negotiate(x, c.p);
  c.sess = nh_session(x, c.p);
  c.tree = nh_tree(x, c.p, c.sess);
  c.conn = x->pair[c.p].cconn;
  return c;
}

/* The node pair with directory leasing on, host s behind the server,
 * the first connection up and the client's lease scope for guid made. */
static side start_leasing(nh *x, host *s, bool smbd, const uint8_t *guid,
                          uint32_t *scope)
{
  nh_setup(x, false);
  x->ss.capabilities |=
      SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  assert_int_equal(nh_start(x), 0);
  x->host_request = host_request;
  x->host_ud = s;
  side c = connect_pair(x, smbd);
  assert_int_equal(smbx_client_leases_enable(x->cli, NULL, x->now), 0);
  assert_int_equal(smbx_client_lease_scope(x->cli, guid, "share", 0, scope),
                   0);
  return c;
}

static smbx_smb2_create_req create_req(const uint8_t *name, size_t len,
                                       bool dir)
{
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.impersonation_level = 2;
  q.desired_access = 0x100081;
  q.share_access = 7;
  q.create_disposition = 1;
  q.create_options = dir ? 1 : 0x40;
  q.name.p = name;
  q.name.len = len;
  return q;
}

/* The response to request req of connection conn (request handles are
 * per connection: the newest match). */
static const nh_cev *response(nh *x, uint64_t conn, uint64_t req)
{
  nh_pump(x);
  for (size_t i = x->n_log; i-- > 0;)
    if (x->log[i].ev.type == SMBX_EV_RESPONSE && x->log[i].ev.conn == conn &&
        x->log[i].ev.u.pdu.req == req)
      return &x->log[i];
  fail_msg("no RESPONSE for request %llx", (unsigned long long)req);
  return NULL;
}

static smbx_smb2_fileid create_fid(nh *x, uint64_t conn, uint64_t req)
{
  const nh_cev *r = response(x, conn, req);
  assert_int_equal(r->ev.u.pdu.status, 0);
  smbx_smb2_create_resp cr;
  assert_int_equal(smbx_smb2_decode_create_resp(r->bytes, r->len, &cr, NULL),
                   0);
  return cr.file_id;
}

/* names[0..n) sorted, joined by spaces into out */
static void sorted_names(char (*names)[16], size_t n, char *out, size_t cap)
{
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char t[16];
      memcpy(t, names[j], 16);
      memcpy(names[j], names[j - 1], 16);
      memcpy(names[j - 1], t, 16);
    }
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    strncat(out, names[i], cap - strlen(out) - 1);
    if (i + 1 < n)
      strncat(out, " ", cap - strlen(out) - 1);
  }
}

/* A whole "*" enumeration of fid; names sorted into out (space
 * separated). leased: through the node's directory cache. */
static void list_dir(nh *x, const side *c, smbx_smb2_fileid fid, bool leased,
                     char *out, size_t cap)
{
  static const uint8_t star[2] = {'*', 0};
  char names[16][16];
  size_t n = 0;
  for (int round = 0;; round++) {
    smbx_smb2_query_directory_req q;
    memset(&q, 0, sizeof q);
    q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
    q.flags = round == 0 ? SMBX_SMB2_RESTART_SCANS : 0;
    q.file_id = fid;
    q.file_name.p = star;
    q.file_name.len = 2;
    q.output_buffer_length = 65536;
    uint64_t req = 0;
    assert_int_equal(leased ? smbx_client_dir_query(x->cli, c->conn, c->sess,
                                                    c->tree, &q, x->now, &req)
                            : smbx_client_query_directory(x->cli, c->conn,
                                                          c->sess, c->tree,
                                                          &q, x->now, &req),
                     0);
    nh_pump(x);
    const nh_cev *r = response(x, c->conn, req);
    if (r->ev.u.pdu.status == SMBX_STATUS_NO_MORE_FILES)
      break;
    assert_int_equal(r->ev.u.pdu.status, 0);
    smbx_smb2_output_resp o;
    assert_int_equal(smbx_smb2_decode_query_directory_resp(r->bytes, r->len,
                                                           &o, NULL),
                     0);
    smbx_smb2_dir_iter it;
    smbx_smb2_dir_entry d;
    assert_int_equal(smbx_smb2_dir_iter_init(&it, q.info_class, o.output.p,
                                             o.output.len),
                     0);
    while (smbx_smb2_dir_iter_next(&it, &d, NULL) == 1) {
      assert_true(n < 16);
      ascii(d.file_name, names[n++], 16);
    }
  }
  /* sorted: the server's order is its own */
  sorted_names(names, n, out, cap);
}

/* The snapshot's names, sorted, as list_dir gives them. */
static void snapshot_names(nh *x, uint32_t scope, const uint8_t *dp,
                           size_t dn, char *out, size_t cap,
                           uint32_t *b_attrs)
{
  smbx_lease_dir_snapshot sn;
  sn.struct_size = sizeof sn;
  assert_int_equal(smbx_client_dir_snapshot(x->cli, scope, dp, dn, x->now,
                                            &sn),
                   0);
  char names[16][16];
  assert_true(sn.count <= 16);
  for (uint32_t i = 0; i < sn.count; i++) {
    const smbx_lease_dir_entry *e = &sn.entries[i];
    smbx_smb2_bytes b = {smbx_lease_dir_entry_name(e), e->name_len};
    ascii(b, names[i], 16);
    if (strcmp(names[i], "b") == 0)
      *b_attrs = e->file_attributes;
  }
  size_t n = sn.count;
  smbx_client_dir_release(x->cli, &sn);
  sorted_names(names, n, out, cap);
}

/* One own change under W: the listed entry (REMOVE, SETATTR) or a new one
 * (ADD); must be cached and logged (2). */
static void own_change(smbx_lease_client *lt, const uint8_t key[16],
                       uint32_t op, const char *name, uint32_t attrs,
                       uint64_t now)
{
  uint8_t nm[32];
  size_t nl = u16(name, nm);
  smbx_smb2_dir_entry e;
  memset(&e, 0, sizeof e);
  if (op == SMBX_LEASE_OWN_ADD) {
    e.file_name.p = nm;
    e.file_name.len = nl;
  } else {
    assert_int_equal(smbx_lease_client_dir_lookup(lt, key, nm, nl, now, &e),
                     1);
  }
  e.file_attributes = attrs;
  assert_int_equal(smbx_lease_client_dir_update(lt, key, op, &e, now), 2);
}

/* The write-back of the log, oldest first, as the application does it
 * when the break asks for FLUSH: each change through an open carrying
 * d's key as ParentLeaseKey. */
static int write_back(nh *x, const side *c, uint32_t scope,
                      smbx_lease_client *lt, const uint8_t key[16])
{
  int n = 0;
  uint32_t op;
  smbx_smb2_dir_entry e;
  while (smbx_lease_client_dir_log_peek(lt, key, &op, &e) == 1) {
    uint8_t path[64];
    size_t pl = u16("d\\", path);
    assert_true(pl + e.file_name.len <= sizeof path);
    memcpy(path + pl, e.file_name.p, e.file_name.len);
    pl += e.file_name.len;
    smbx_smb2_create_req q = create_req(path, pl, false);
    q.create_disposition = op == SMBX_LEASE_OWN_ADD ? 3 : 1;
    q.file_attributes = op == SMBX_LEASE_OWN_ADD ? e.file_attributes : 0;
    q.desired_access = op == SMBX_LEASE_OWN_REMOVE ? 0x10080u : 0x100180u;
    if (op == SMBX_LEASE_OWN_REMOVE)
      q.create_options |= DELETE_ON_CLOSE;
    uint32_t attrs = e.file_attributes; /* e's names go with the next call */
    uint64_t req = 0;
    assert_int_equal(smbx_client_create_leased(x->cli, c->conn, c->sess,
                                               c->tree, scope, &q, 0, x->now,
                                               &req),
                     0);
    nh_pump(x);
    smbx_smb2_fileid fid = create_fid(x, c->conn, req);
    if (op == SMBX_LEASE_OWN_SETATTR) {
      smbx_smb2_file_basic_info bi;
      memset(&bi, 0, sizeof bi);
      bi.file_attributes = attrs;
      uint8_t info[64], pdu[256];
      smbx_ssize il = smbx_smb2_file_basic_info_encode(&bi, info, sizeof info,
                                                       NULL);
      smbx_smb2_set_info_req si;
      memset(&si, 0, sizeof si);
      si.info_type = SMBX_SMB2_0_INFO_FILE;
      si.file_info_class = SMBX_SMB2_FILE_BASIC_INFORMATION;
      si.file_id = fid;
      si.buffer.p = info;
      si.buffer.len = (size_t)il;
      smbx_smb2_hdr h;
      memset(&h, 0, sizeof h);
      smbx_ssize pn =
          smbx_smb2_encode_set_info_req(&h, &si, pdu, sizeof pdu, NULL);
      assert_true(pn > 64);
      assert_int_equal(smbx_client_request(x->cli, c->conn, c->sess, c->tree,
                                           SMBX_SMB2_SET_INFO, pdu + 64,
                                           (size_t)pn - 64, 0, x->now, &req),
                       0);
      nh_pump(x);
      assert_int_equal(response(x, c->conn, req)->ev.u.pdu.status, 0);
    }
    assert_int_equal(smbx_client_close(x->cli, c->conn, c->sess, c->tree, fid,
                                       0, x->now, &req),
                     0);
    nh_pump(x);
    assert_int_equal(response(x, c->conn, req)->ev.u.pdu.status, 0);
    assert_int_equal(smbx_lease_client_dir_log_pop(lt, key), 0);
    n++;
  }
  return n;
}

static void dir_write_end_to_end(bool smbd)
{
  nh x;
  host s;
  memset(&s, 0, sizeof s);
  ent_add(&s, "a", 0x20);
  ent_add(&s, "b", 0x20);
  ent_add(&s, "c", 0x20);
  static const uint8_t guid[16] = {7};
  uint32_t scope;
  side c1 = start_leasing(&x, &s, smbd, guid, &scope);
  smbx_lease_client *lt = smbx_client_lease_table(x.cli);
  /* d under RWH, listed into the cache, its handle kept under H */
  uint8_t dp[4];
  size_t dn = u16("d", dp);
  smbx_smb2_create_req q = create_req(dp, dn, true);
  uint64_t req = 0;
  assert_int_equal(smbx_client_create_leased(
                       x.cli, c1.conn, c1.sess, c1.tree, scope, &q,
                       SMBX_LEASE_REQ_DIR | SMBX_LEASE_REQ_DIR_WRITE, x.now,
                       &req),
                   0);
  nh_pump(&x);
  smbx_smb2_fileid dfid = create_fid(&x, c1.conn, req);
  uint8_t key[16];
  assert_int_equal(smbx_lease_client_key(lt, scope, dp, dn, key), 0);
  uint32_t st = 0;
  assert_int_equal(smbx_lease_client_state(lt, key, &st, NULL), 0);
  assert_int_equal(st, R | W | H);
  char got[128];
  list_dir(&x, &c1, dfid, true, got, sizeof got);
  assert_string_equal(got, ". .. a b c");
  assert_int_equal(smbx_client_dir_close(x.cli, c1.conn, c1.sess, c1.tree,
                                         dfid, x.now, NULL),
                   1);
  /* create "new", delete "a", make "b" READONLY: cache only */
  size_t seen = x.srv_requests;
  own_change(lt, key, SMBX_LEASE_OWN_ADD, "new", 0x20, x.now);
  own_change(lt, key, SMBX_LEASE_OWN_REMOVE, "a", 0x20, x.now);
  own_change(lt, key, SMBX_LEASE_OWN_SETATTR, "b", 0x21, x.now);
  nh_pump(&x);
  assert_int_equal(x.srv_requests, seen);
  uint32_t b_attrs = 0;
  snapshot_names(&x, scope, dp, dn, got, sizeof got, &b_attrs);
  assert_string_equal(got, ". .. b c new");
  assert_int_equal(b_attrs, 0x21);
  assert_true(ent_find(&s, "a") >= 0); /* nothing on the server yet */
  assert_true(ent_find(&s, "new") < 0);
  assert_int_equal(s.ents[ent_find(&s, "b")].attrs, 0x20);
  /* another client opens d: the server breaks W first */
  side c2 = connect_pair(&x, smbd);
  q = create_req(dp, dn, true);
  uint64_t req2 = 0;
  assert_int_equal(smbx_client_create(x.cli, c2.conn, c2.sess, c2.tree, &q,
                                      x.now, &req2),
                   0);
  const nh_cev *ev = nh_wait(&x, SMBX_EV_LEASE_BREAK);
  assert_non_null(ev);
  assert_int_equal(ev->ev.u.lease.from, R | W | H);
  assert_int_equal(ev->ev.u.lease.to, R | H);
  assert_true(ev->ev.u.lease.actions & SMBX_LEASE_ACT_FLUSH);
  assert_int_equal(ev->ev.u.lease.flags & SMBX_LEASE_CEVF_SETTLED, 0);
  assert_true(ev->ev.u.lease.flags & SMBX_LEASE_CEVF_WAIT_FLUSH);
  assert_int_equal(s.acks, 0); /* no ack before the write-back */
  assert_true(s.held_req != 0);
  /* the write-back, in order, then the ack */
  assert_int_equal(write_back(&x, &c1, scope, lt, key), 3);
  assert_int_equal(s.child_opens, 3);
  assert_int_equal(s.child_opens_with_parent_key, 3);
  assert_int_equal(s.acks, 0);
  assert_int_equal(smbx_client_lease_break_done(x.cli, key, x.now), 1);
  nh_pump(&x);
  assert_int_equal(s.acks, 1);
  assert_int_equal(s.acked_state, R | H);
  /* the other client's open went on; its listing is exactly the result */
  smbx_smb2_fileid fid2 = create_fid(&x, c2.conn, req2);
  list_dir(&x, &c2, fid2, false, got, sizeof got);
  assert_string_equal(got, ". .. b c new");
  assert_true(ent_find(&s, "a") < 0);
  assert_int_equal(s.ents[ent_find(&s, "b")].attrs, 0x21);
  assert_int_equal(s.ents[ent_find(&s, "new")].attrs, 0x20);
  /* the holder keeps RH and its listing, which says the same */
  assert_int_equal(smbx_lease_client_state(lt, key, &st, NULL), 0);
  assert_int_equal(st, R | H);
  snapshot_names(&x, scope, dp, dn, got, sizeof got, &b_attrs);
  assert_string_equal(got, ". .. b c new");
  nh_fini(&x);
}

/* 4.1 on the wire: while the node closes its kept handle before acking a
 * break RH -> NONE, the application opens d again; the server answers
 * with the state before the break and BREAK_IN_PROGRESS. The node must
 * ack NONE (a subset of the break's NewLeaseState; it acked RH and stayed
 * unsettled before, so no later listing was cached) and a later open
 * under a fresh grant caches again. */
static void lease_4_1_open_during_own_break_node(void **state)
{
  (void)state;
  nh x;
  host s;
  memset(&s, 0, sizeof s);
  ent_add(&s, "a", 0x20);
  static const uint8_t guid[16] = {8};
  uint32_t scope;
  side c1 = start_leasing(&x, &s, false, guid, &scope);
  smbx_lease_client *lt = smbx_client_lease_table(x.cli);
  uint8_t dp[4];
  size_t dn = u16("d", dp);
  smbx_smb2_create_req q = create_req(dp, dn, true);
  uint64_t req = 0;
  assert_int_equal(smbx_client_create_leased(x.cli, c1.conn, c1.sess, c1.tree,
                                             scope, &q, SMBX_LEASE_REQ_DIR,
                                             x.now, &req),
                   0);
  smbx_smb2_fileid dfid = create_fid(&x, c1.conn, req);
  char got[128];
  list_dir(&x, &c1, dfid, true, got, sizeof got);
  assert_string_equal(got, ". .. a");
  assert_int_equal(smbx_client_dir_close(x.cli, c1.conn, c1.sess, c1.tree,
                                         dfid, x.now, NULL),
                   1);
  uint8_t key[16];
  assert_int_equal(smbx_lease_client_key(lt, scope, dp, dn, key), 0);
  /* the break; the node's CLOSE of the kept handle waits at the host */
  s.hold_close = true;
  send_break(&x, &s, 0);
  assert_non_null(nh_wait(&x, SMBX_EV_LEASE_BREAK));
  assert_true(s.kept_req != 0);
  assert_int_equal(s.acks, 0);
  /* the application lists d again meanwhile */
  q = create_req(dp, dn, true);
  assert_int_equal(smbx_client_create_leased(x.cli, c1.conn, c1.sess, c1.tree,
                                             scope, &q, SMBX_LEASE_REQ_DIR,
                                             x.now, &req),
                   0);
  smbx_smb2_fileid fid2 = create_fid(&x, c1.conn, req);
  uint32_t st = 99;
  assert_int_equal(smbx_lease_client_state(lt, key, &st, NULL), 0);
  assert_int_equal(st, 0);
  /* the kept handle's CLOSE completes: the node acks NONE */
  s.hold_close = false;
  close_answer(&x, &s, s.kept_conn, s.kept_req,
               &s.opens[s.kept_fid.volatile_id - 1]);
  nh_pump(&x);
  assert_int_equal(s.acks, 1);
  assert_int_equal(s.acked_state, 0);
  /* no lease on the second handle: a real CLOSE, nothing cached */
  assert_int_equal(smbx_client_dir_close(x.cli, c1.conn, c1.sess, c1.tree,
                                         fid2, x.now, &req),
                   0);
  assert_int_equal(response(&x, c1.conn, req)->ev.u.pdu.status, 0);
  /* a fresh open is granted RH and its listing is cached again */
  q = create_req(dp, dn, true);
  assert_int_equal(smbx_client_create_leased(x.cli, c1.conn, c1.sess, c1.tree,
                                             scope, &q, SMBX_LEASE_REQ_DIR,
                                             x.now, &req),
                   0);
  smbx_smb2_fileid fid3 = create_fid(&x, c1.conn, req);
  assert_int_equal(smbx_lease_client_state(lt, key, &st, NULL), 0);
  assert_int_equal(st, R | H);
  list_dir(&x, &c1, fid3, true, got, sizeof got);
  uint32_t unused = 0;
  snapshot_names(&x, scope, dp, dn, got, sizeof got, &unused);
  assert_string_equal(got, ". .. a");
  nh_fini(&x);
}

static void lease_4_3_dir_write_end_to_end_tcp(void **state)
{
  (void)state;
  dir_write_end_to_end(false);
}

static void lease_4_3_dir_write_end_to_end_smbd(void **state)
{
  (void)state;
  dir_write_end_to_end(true);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lease_4_1_open_during_own_break_node),
      cmocka_unit_test(lease_4_3_dir_write_end_to_end_tcp),
      cmocka_unit_test(lease_4_3_dir_write_end_to_end_smbd),
  };
  return RUN_TESTS(tests);
}
