/* SPDX-License-Identifier: MIT */
/* The client node's side of leasing (leases.md sec. 4): its lease table
 * (lib/lease) fed with the node's CREATE responses and break
 * notifications, directory listings filled from QUERY_DIRECTORY
 * responses, deferred directory handles under H, and the acks the node
 * sends itself once a break is done. See smbx/lease_client.h. */
#include <string.h>

#include <smbx/lease_client.h>

#include "client/lease_cache.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/slab.h"

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE

#define MAX_RECS 1024u
#define MAX_OPENS 256u
#define MAX_BINDS 256u
#define MAX_FIN 64u

/* who a lease's ack goes through: the open's connection, session, tree */
typedef struct lbind {
  uint64_t conn, session;
  uint32_t tree;
} lbind;

/* a directory handle from smbx_client_create_leased() */
typedef struct lopen {
  uint8_t key[16];
  uint64_t bind;
  smbx_smb2_fileid fid;
  bool deferred, filling, queried;
} lopen;

enum { RK_CREATE = 1, RK_QDIR, RK_ACK, RK_CLOSE };

/* a request the node watches, keyed by {conn, req} */
typedef struct lrec {
  uint64_t conn, req;
  uint8_t kind;
  bool dir;
  uint8_t info_class;
  uint8_t key[16];
  uint64_t bind, open;
} lrec;

/* a break waiting for the host's flush and / or the node's closes */
typedef struct lfin {
  uint8_t key[16];
  uint64_t bind; /* the lease's owner: the ack goes through it */
  bool used, host_wait;
  uint32_t closes;
} lfin;

/* an ack that found no credit: sent again when a response comes back */
typedef struct lack {
  uint8_t key[16];
  uint64_t bind;
  uint32_t state;
  bool used;
} lack;
#define MAX_ACK_RETRY 16u

struct smbx__cli_leases {
  smbx_lease_client *lt;
  /* the path smbx_client_dir_next/_lookup named last, and its key (keys
   * are never reused for another path: a stale one only misses) */
  uint32_t memo_scope;
  uint16_t memo_len;
  bool memo_valid;
  uint8_t memo_path[64];
  uint8_t memo_key[16];
  const smbx_allocator *a;
  uint64_t now; /* of the call being served */
  smbx__slab recs, opens, binds;
  smbx__hash by_req; /* {conn, req} -> lrec */
  lfin fin[MAX_FIN];
  lack retry[MAX_ACK_RETRY];
  uint32_t n_retry;
};

static smbx__cli_leases *L(smbx_client *cli)
{
  return cli ? *smbx__client_leases(cli) : NULL;
}

/* ---- node events ---------------------------------------------------------- */

static smbx_event *push(smbx_client *cli, uint32_t type, uint64_t conn)
{
  return smbx__client_push(cli, type, conn);
}

/* ---- records ----------------------------------------------------------------- */

static void rec_key(uint64_t conn, uint64_t req, uint8_t k[16])
{
  memcpy(k, &conn, 8);
  memcpy(k + 8, &req, 8);
}

static lrec *rec_add(smbx__cli_leases *cl, uint64_t conn, uint64_t req,
                     uint8_t kind)
{
  lrec *x = smbx__slab_get_zeroed(&cl->recs);
  if (!x)
    return NULL;
  x->conn = conn;
  x->req = req;
  x->kind = kind;
  uint8_t k[16];
  rec_key(conn, req, k);
  if (smbx__hash_insert(&cl->by_req, k, x) != 0) {
    (void)smbx__slab_put(&cl->recs, x);
    return NULL;
  }
  return x;
}

static void rec_del(smbx__cli_leases *cl, lrec *x)
{
  uint8_t k[16];
  rec_key(x->conn, x->req, k);
  (void)smbx__hash_remove(&cl->by_req, k);
  memset(x, 0, sizeof *x);
  (void)smbx__slab_put(&cl->recs, x);
}

static uint64_t bind_get(smbx__cli_leases *cl, uint64_t conn,
                         uint64_t session, uint32_t tree)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&cl->binds); i++) {
    lbind *b = smbx__slab_at(&cl->binds, i);
    if (b && b->conn == conn && b->session == session && b->tree == tree)
      return smbx__slab_handle(&cl->binds, b);
  }
  lbind *b = smbx__slab_get_zeroed(&cl->binds);
  if (!b)
    return 0;
  b->conn = conn;
  b->session = session;
  b->tree = tree;
  return smbx__slab_handle(&cl->binds, b);
}

static lopen *open_by_fid(smbx__cli_leases *cl, smbx_smb2_fileid fid)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&cl->opens); i++) {
    lopen *o = smbx__slab_at(&cl->opens, i);
    if (o && o->fid.persistent_id == fid.persistent_id &&
        o->fid.volatile_id == fid.volatile_id)
      return o;
  }
  return NULL;
}

static lopen *open_deferred(smbx__cli_leases *cl, const uint8_t key[16])
{
  for (uint32_t i = 0; i < smbx__slab_cap(&cl->opens); i++) {
    lopen *o = smbx__slab_at(&cl->opens, i);
    if (o && o->deferred && memcmp(o->key, key, 16) == 0)
      return o;
  }
  return NULL;
}

static lfin *fin_find(smbx__cli_leases *cl, const uint8_t key[16])
{
  for (uint32_t i = 0; i < MAX_FIN; i++)
    if (cl->fin[i].used && memcmp(cl->fin[i].key, key, 16) == 0)
      return &cl->fin[i];
  return NULL;
}

/* ---- acks and closes the node sends itself ----------------------------------- */

static void send_ack(smbx_client *cli, uint64_t bind, const uint8_t key[16],
                     uint32_t state)
{
  smbx__cli_leases *cl = L(cli);
  const lbind *b = smbx__slab_lookup(&cl->binds, bind);
  if (!b)
    return;
  smbx_smb2_lease_break_ack a;
  memset(&a, 0, sizeof a);
  memcpy(a.lease_key, key, 16);
  a.lease_state = state;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  uint8_t pdu[SMBX_SMB2_HDR_SIZE + 40];
  smbx_ssize n = smbx_smb2_encode_lease_break_ack(&h, &a, pdu, sizeof pdu,
                                                  NULL);
  if (n < SMBX_SMB2_HDR_SIZE)
    return;
  uint64_t req = 0;
  /* leases.md 2.5: a normal request of the session that holds the lease */
  int rc = smbx_client_request(cli, b->conn, b->session, b->tree,
                               SMBX_SMB2_OPLOCK_BREAK,
                               pdu + SMBX_SMB2_HDR_SIZE,
                               (size_t)n - SMBX_SMB2_HDR_SIZE, 0, cl->now,
                               &req);
  if (rc == 0) {
    (void)rec_add(cl, b->conn, req, RK_ACK);
    return;
  }
  if (rc != SMBX_ERR_AGAIN)
    return; /* the connection is gone: the server times the break out */
  for (uint32_t i = 0; i < MAX_ACK_RETRY; i++)
    if (!cl->retry[i].used) {
      memcpy(cl->retry[i].key, key, 16);
      cl->retry[i].bind = bind;
      cl->retry[i].state = state;
      cl->retry[i].used = true;
      cl->n_retry++;
      return;
    }
}

/* Credits may be back: the acks that waited for them go now. */
static void retry_acks(smbx_client *cli, smbx__cli_leases *cl)
{
  uint32_t n = cl->n_retry;
  for (uint32_t i = 0; i < MAX_ACK_RETRY && n; i++) {
    if (!cl->retry[i].used)
      continue;
    n--;
    lack a = cl->retry[i];
    cl->retry[i].used = false;
    cl->n_retry--;
    send_ack(cli, a.bind, a.key, a.state);
  }
}

/* Acks once neither the host nor the node's closes are outstanding. */
static void fin_try(smbx_client *cli, lfin *f)
{
  if (f->host_wait || f->closes)
    return;
  smbx__cli_leases *cl = L(cli);
  uint8_t key[16];
  memcpy(key, f->key, 16);
  uint64_t bind = f->bind;
  memset(f, 0, sizeof *f);
  uint32_t ack = 0;
  if (smbx_lease_client_break_done(cl->lt, key, L(cli)->now, &ack) == 1)
    send_ack(cli, bind, key, ack);
}

static uint32_t close_deferred(smbx_client *cli, const uint8_t key[16])
{
  smbx__cli_leases *cl = L(cli);
  uint32_t n = 0;
  lopen *o;
  while ((o = open_deferred(cl, key)) != NULL) {
    const lbind *b = smbx__slab_lookup(&cl->binds, o->bind);
    uint64_t req = 0;
    if (b && smbx_client_close(cli, b->conn, b->session, b->tree, o->fid, 0,
                               L(cli)->now, &req) == 0) {
      lrec *x = rec_add(cl, b->conn, req, RK_CLOSE);
      if (x) {
        memcpy(x->key, key, 16);
        n++;
      }
    }
    memset(o, 0, sizeof *o);
    (void)smbx__slab_put(&cl->opens, o);
  }
  (void)smbx_lease_client_set_cached(cl->lt, key, 0,
                                     SMBX_LEASE_CACHED_HANDLES);
  return n;
}

/* Moves the table's events to the node queue and does the node's part. */
static void drain(smbx_client *cli)
{
  smbx__cli_leases *cl = L(cli);
  smbx_lease_client_event te;
  te.struct_size = sizeof te;
  while (smbx_lease_client_next_event(cl->lt, &te) == 1) {
    const lbind *b = smbx__slab_lookup(&cl->binds, te.owner);
    uint32_t type = te.type == SMBX_LEASE_CEV_BREAK ? SMBX_EV_LEASE_BREAK
                                                     : SMBX_EV_DIR_INVALIDATE;
    uint32_t flags = te.flags;
    if (te.type == SMBX_LEASE_CEV_BREAK &&
        !(te.flags & SMBX_LEASE_CEVF_SETTLED)) {
      lfin *f = fin_find(cl, te.key);
      for (uint32_t i = 0; i < MAX_FIN && !f; i++)
        if (!cl->fin[i].used)
          f = &cl->fin[i];
      uint32_t closes = (te.flags & SMBX_LEASE_CEVF_WAIT_HANDLES)
                            ? close_deferred(cli, te.key)
                            : 0;
      bool host = (te.flags & SMBX_LEASE_CEVF_WAIT_FLUSH) != 0;
      /* the host has nothing to do when only the node's handles wait */
      if (!host)
        flags |= SMBX_LEASE_CEVF_SETTLED;
      if (f) {
        memcpy(f->key, te.key, 16);
        f->bind = te.owner;
        f->used = true;
        f->host_wait = f->host_wait || host;
        f->closes += closes;
      }
      smbx_event *e = push(cli, type, b ? b->conn : 0);
      if (e) {
        memcpy(e->u.lease.key, te.key, 16);
        e->u.lease.scope = te.scope;
        e->u.lease.flags = flags;
        e->u.lease.from = te.from;
        e->u.lease.to = te.to;
        e->u.lease.actions = te.actions;
        e->u.lease.epoch = te.epoch;
      }
      if (f) {
        fin_try(cli, f);
      } else {
        /* no slot to wait in (MAX_FIN breaks at once): ack now rather
         * than never */
        uint32_t ack = 0;
        if (smbx_lease_client_break_done(cl->lt, te.key, cl->now, &ack) == 1)
          send_ack(cli, te.owner, te.key, ack);
      }
      continue;
    }
    smbx_event *e = push(cli, type, b ? b->conn : 0);
    if (e) {
      memcpy(e->u.lease.key, te.key, 16);
      e->u.lease.scope = te.scope;
      e->u.lease.flags = flags;
      e->u.lease.from = te.from;
      e->u.lease.to = te.to;
      e->u.lease.actions = te.actions;
      e->u.lease.ack_state = te.ack_state;
      e->u.lease.reason = te.reason;
      e->u.lease.epoch = te.epoch;
    }
    if (te.type == SMBX_LEASE_CEV_BREAK &&
        (te.flags & SMBX_LEASE_CEVF_ACK))
      send_ack(cli, te.owner, te.key, te.ack_state);
  }
}

/* ---- public calls ------------------------------------------------------------ */

int smbx_client_leases_enable(smbx_client *cli,
                              const smbx_lease_client_settings *s,
                              uint64_t now_ns)
{
  if (!cli)
    return SMBX_ERR_INVAL;
  smbx__cli_leases **slot = smbx__client_leases(cli);
  if (*slot)
    return SMBX_ERR_STATE;
  smbx_lease_client_settings st;
  smbx_lease_client_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  smbx__client_random(cli, st.key_seed, sizeof st.key_seed);
  uint64_t seed;
  smbx__client_random(cli, (uint8_t *)&seed, sizeof seed);
  const smbx_allocator *a = smbx__client_allocator(cli);
  smbx__cli_leases *cl = SMBX__NEW(a, smbx__cli_leases);
  if (!cl)
    return SMBX_ERR_NOMEM;
  cl->a = a;
  cl->now = now_ns;
  int rc = smbx_lease_client_new(&cl->lt, &st, a, now_ns);
  if (rc == 0 &&
      (SMBX__SLAB_INIT(&cl->recs, a, lrec, MAX_RECS) ||
       SMBX__SLAB_INIT(&cl->opens, a, lopen, MAX_OPENS) ||
       SMBX__SLAB_INIT(&cl->binds, a, lbind, MAX_BINDS) ||
       smbx__hash_init(&cl->by_req, a, 16, smbx__hash_cap_for(MAX_RECS),
                       seed)))
    rc = SMBX_ERR_NOMEM;
  if (rc) {
    smbx__cli_leases_free(cli, cl);
    return rc;
  }
  *slot = cl;
  return 0;
}

void smbx__cli_leases_free(smbx_client *cli, smbx__cli_leases *cl)
{
  (void)cli;
  if (!cl)
    return;
  smbx_lease_client_free(cl->lt);
  smbx__slab_free(&cl->recs);
  smbx__slab_free(&cl->opens);
  smbx__slab_free(&cl->binds);
  smbx__hash_free(&cl->by_req);
  const smbx_allocator *a = cl->a;
  SMBX__DELETE(a, cl, smbx__cli_leases);
}

smbx_lease_client *smbx_client_lease_table(smbx_client *cli)
{
  return L(cli) ? L(cli)->lt : NULL;
}

int smbx_client_lease_scope(smbx_client *cli, const uint8_t server_guid[16],
                            const char *share, uint32_t flags,
                            uint32_t *scope)
{
  if (!cli || !share)
    return SMBX_ERR_INVAL;
  if (!L(cli))
    return SMBX_ERR_STATE;
  return smbx_lease_client_scope(L(cli)->lt, server_guid,
                                 (const uint8_t *)share, strlen(share), flags,
                                 scope);
}

int smbx_client_create_leased(smbx_client *cli, uint64_t conn,
                              uint64_t session, uint32_t tree_id,
                              uint32_t scope, const smbx_smb2_create_req *in,
                              uint32_t flags, uint64_t now_ns, uint64_t *req)
{
  if (!cli || !in)
    return SMBX_ERR_INVAL;
  smbx__cli_leases *cl = L(cli);
  if (!cl)
    return SMBX_ERR_STATE;
  uint16_t dialect;
  uint32_t caps;
  if (smbx__client_conn_proto(cli, conn, &dialect, &caps) != 0)
    return SMBX_ERR_NOTFOUND;
  cl->now = now_ns;
  /* the contexts the caller gave, then RqLs */
  smbx_smb2_create_ctx cx[9];
  size_t n = 0;
  if (in->contexts.len) {
    smbx_smb2_create_ctx_iter it;
    if (smbx_smb2_create_ctx_iter_init(&it, in->contexts, 0) != 0)
      return SMBX_ERR_INVAL;
    int k;
    while ((k = smbx_smb2_create_ctx_next(&it, &cx[n], NULL)) == 1)
      if (++n == 8)
        return SMBX_ERR_RANGE;
    if (k < 0)
      return SMBX_ERR_INVAL;
  }
  uint64_t bind = bind_get(cl, conn, session, tree_id);
  if (!bind)
    return SMBX_ERR_LIMIT;
  smbx_smb2_lease ls;
  int rc = smbx_lease_client_request(cl->lt, scope, in->name.p, in->name.len,
                                     flags, dialect, caps, bind, &ls);
  if (rc)
    return rc;
  uint8_t data[52];
  smbx_ssize dl = smbx_smb2_lease_encode(&ls, data, sizeof data, NULL);
  static const uint8_t tag[4] = {'R', 'q', 'L', 's'};
  uint8_t area[1024];
  smbx_ssize al = SMBX_ERR_RANGE;
  if (dl > 0) {
    cx[n].name.p = tag;
    cx[n].name.len = 4;
    cx[n].data.p = data;
    cx[n].data.len = (size_t)dl;
    cx[n].reserved = 0;
    al = smbx_smb2_create_ctx_list_encode(cx, n + 1, area, sizeof area, NULL);
  }
  uint64_t r = 0;
  if (al > 0) {
    smbx_smb2_create_req c = *in;
    c.requested_oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
    c.contexts.p = area;
    c.contexts.len = (size_t)al;
    rc = smbx_client_create(cli, conn, session, tree_id, &c, now_ns, &r);
  } else {
    rc = al == SMBX_ERR_NOBUF ? SMBX_ERR_RANGE : (int)al;
  }
  lrec *x = rc == 0 ? rec_add(cl, conn, r, RK_CREATE) : NULL;
  if (!x) {
    /* nothing will answer this key's request through the node */
    (void)smbx_lease_client_granted(cl->lt, ls.key, NULL, now_ns);
    drain(cli);
    if (rc == 0)
      rc = SMBX_ERR_LIMIT;
    return rc;
  }
  memcpy(x->key, ls.key, 16);
  x->dir = (flags & SMBX_LEASE_REQ_DIR) != 0;
  x->bind = bind;
  if (req)
    *req = r;
  return 0;
}

static bool star_pattern(smbx_smb2_bytes p)
{
  return p.len == 2 && p.p[0] == '*' && p.p[1] == 0;
}

int smbx_client_dir_query(smbx_client *cli, uint64_t conn, uint64_t session,
                          uint32_t tree_id,
                          const smbx_smb2_query_directory_req *in,
                          uint64_t now_ns, uint64_t *req)
{
  if (!cli || !in)
    return SMBX_ERR_INVAL;
  smbx__cli_leases *cl = L(cli);
  lopen *o = cl ? open_by_fid(cl, in->file_id) : NULL;
  bool fill = false;
  if (o) {
    L(cli)->now = now_ns;
    bool start = (in->flags & (SMBX_SMB2_RESTART_SCANS | SMBX_SMB2_REOPEN)) ||
                 !o->queried;
    if (start) {
      o->filling = false;
      uint32_t st = 0;
      if (star_pattern(in->file_name) && in->file_index == 0 &&
          smbx_smb2_dir_entry_fixed_size(in->info_class) != 0 &&
          smbx_lease_client_state(cl->lt, o->key, &st, NULL) == 0 &&
          (st & R) &&
          smbx_lease_client_dir_fill_begin(cl->lt, o->key, now_ns) == 0)
        o->filling = true;
    }
    fill = o->filling;
  }
  uint64_t r = 0;
  int rc = smbx_client_query_directory(cli, conn, session, tree_id, in,
                                       now_ns, &r);
  if (rc)
    return rc;
  if (o)
    o->queried = true;
  if (fill) {
    lrec *x = rec_add(cl, conn, r, RK_QDIR);
    if (x) {
      memcpy(x->key, o->key, 16);
      x->info_class = in->info_class;
      x->open = smbx__slab_handle(&cl->opens, o);
    } else {
      o->filling = false;
    }
  }
  if (req)
    *req = r;
  return 0;
}

int smbx_client_dir_close(smbx_client *cli, uint64_t conn, uint64_t session,
                          uint32_t tree_id, smbx_smb2_fileid file_id,
                          uint64_t now_ns, uint64_t *req)
{
  if (!cli)
    return SMBX_ERR_INVAL;
  smbx__cli_leases *cl = L(cli);
  lopen *o = cl ? open_by_fid(cl, file_id) : NULL;
  if (o && !o->deferred) {
    uint32_t st = 0;
    lfin *f = fin_find(cl, o->key);
    if (!f && smbx_lease_client_state(cl->lt, o->key, &st, NULL) == 0 &&
        (st & H)) {
      /* 4.3: under H the handle stays open for the next opener */
      o->deferred = true;
      o->filling = false;
      (void)smbx_lease_client_set_cached(cl->lt, o->key,
                                         SMBX_LEASE_CACHED_HANDLES, 0);
      return 1;
    }
    memset(o, 0, sizeof *o);
    (void)smbx__slab_put(&cl->opens, o);
  }
  int rc = smbx_client_close(cli, conn, session, tree_id, file_id, 0, now_ns,
                             req);
  return rc;
}

int smbx_client_dir_reopen(smbx_client *cli, uint32_t scope,
                           const uint8_t *path, size_t path_len,
                           uint64_t *conn, uint64_t *session,
                           uint32_t *tree_id, smbx_smb2_fileid *file_id)
{
  if (!cli || !conn || !session || !tree_id || !file_id)
    return SMBX_ERR_INVAL;
  smbx__cli_leases *cl = L(cli);
  uint8_t key[16];
  if (!cl || smbx_lease_client_key(cl->lt, scope, path, path_len, key) != 0)
    return 0;
  lopen *o = open_deferred(cl, key);
  const lbind *b = o ? smbx__slab_lookup(&cl->binds, o->bind) : NULL;
  if (!b)
    return 0;
  o->deferred = false;
  o->queried = false;
  if (!open_deferred(cl, key))
    (void)smbx_lease_client_set_cached(cl->lt, key, 0,
                                       SMBX_LEASE_CACHED_HANDLES);
  *conn = b->conn;
  *session = b->session;
  *tree_id = b->tree;
  *file_id = o->fid;
  return 1;
}

/* The key of a directory path, through a one-entry memo. */
static int dir_key(smbx__cli_leases *cl, uint32_t scope, const uint8_t *path,
                   size_t len, uint8_t key[16])
{
  if (cl->memo_valid && cl->memo_scope == scope && cl->memo_len == len &&
      (len == 0 || (path && memcmp(cl->memo_path, path, len) == 0))) {
    memcpy(key, cl->memo_key, 16);
    return 0;
  }
  int rc = smbx_lease_client_key(cl->lt, scope, path, len, key);
  if (rc == 0 && len <= sizeof cl->memo_path) {
    cl->memo_valid = true;
    cl->memo_scope = scope;
    cl->memo_len = (uint16_t)len;
    if (len)
      memcpy(cl->memo_path, path, len);
    memcpy(cl->memo_key, key, 16);
  }
  return rc;
}

int smbx_client_dir_next(smbx_client *cli, uint32_t scope,
                         const uint8_t *path, size_t path_len,
                         uint64_t now_ns, uint32_t *cursor,
                         smbx_smb2_dir_entry *e)
{
  smbx__cli_leases *cl = L(cli);
  if (!cl || !cursor)
    return cli && cursor ? SMBX_ERR_STATE : SMBX_ERR_INVAL;
  uint8_t key[16];
  bool first = *cursor == 0;
  int rc = dir_key(cl, scope, path, path_len, key);
  if (rc == 0)
    rc = smbx_lease_client_dir_next(cl->lt, key, now_ns, cursor, e);
  if (rc == SMBX_ERR_NOTFOUND && cl->memo_valid) {
    /* the memo may name a key the table reclaimed: look the path up */
    cl->memo_valid = false;
    if (smbx_lease_client_key(cl->lt, scope, path, path_len, key) == 0)
      rc = smbx_lease_client_dir_next(cl->lt, key, now_ns, cursor, e);
  }
  /* events (expiry, eviction) come from the first call or a miss */
  if (first || rc != 1)
    drain(cli);
  return rc;
}

int smbx_client_dir_snapshot(smbx_client *cli, uint32_t scope,
                             const uint8_t *path, size_t path_len,
                             uint64_t now_ns, smbx_lease_dir_snapshot *snap)
{
  smbx__cli_leases *cl = L(cli);
  if (!cl)
    return cli ? SMBX_ERR_STATE : SMBX_ERR_INVAL;
  uint8_t key[16];
  int rc = dir_key(cl, scope, path, path_len, key);
  if (rc == 0)
    rc = smbx_lease_client_dir_snapshot(cl->lt, key, now_ns, snap);
  if (rc == SMBX_ERR_NOTFOUND && cl->memo_valid) {
    cl->memo_valid = false;
    if (smbx_lease_client_key(cl->lt, scope, path, path_len, key) == 0)
      rc = smbx_lease_client_dir_snapshot(cl->lt, key, now_ns, snap);
  }
  /* events (expiry, eviction) come out at once; a hit has none */
  if (rc != 0)
    drain(cli);
  return rc;
}

void smbx_client_dir_release(smbx_client *cli, smbx_lease_dir_snapshot *snap)
{
  smbx__cli_leases *cl = L(cli);
  if (cl)
    smbx_lease_client_dir_release(cl->lt, snap);
}

int smbx_client_dir_lookup(smbx_client *cli, uint32_t scope,
                           const uint8_t *dir, size_t dir_len,
                           const uint8_t *name, size_t name_len,
                           uint64_t now_ns, smbx_smb2_dir_entry *e)
{
  smbx__cli_leases *cl = L(cli);
  if (!cl)
    return cli ? SMBX_ERR_STATE : SMBX_ERR_INVAL;
  uint8_t key[16];
  int rc = dir_key(cl, scope, dir, dir_len, key);
  if (rc == 0)
    rc = smbx_lease_client_dir_lookup(cl->lt, key, name, name_len, now_ns,
                                      e);
  if (rc == SMBX_ERR_NOTFOUND && cl->memo_valid) {
    cl->memo_valid = false;
    if (smbx_lease_client_key(cl->lt, scope, dir, dir_len, key) == 0)
      rc = smbx_lease_client_dir_lookup(cl->lt, key, name, name_len, now_ns,
                                        e);
  }
  drain(cli);
  return rc;
}

int smbx_client_lease_break_done(smbx_client *cli, const uint8_t key[16],
                                 uint64_t now_ns)
{
  smbx__cli_leases *cl = L(cli);
  if (!cl || !key)
    return cli && key ? SMBX_ERR_STATE : SMBX_ERR_INVAL;
  L(cli)->now = now_ns;
  lfin *f = fin_find(cl, key);
  if (!f)
    return SMBX_ERR_STATE;
  f->host_wait = false;
  bool now = f->closes == 0;
  fin_try(cli, f);
  return now ? 1 : 0;
}

/* ---- hooks -------------------------------------------------------------------- */

bool smbx__cli_lease_notify(smbx_client *cli, smbx__cli_leases *cl,
                            uint64_t conn, uint16_t dialect,
                            const smbx__conn_pdu *r)
{
  if (!cl)
    return false;
  int kind = smbx_smb2_oplock_break_classify(r->data, r->len, NULL);
  if (kind == SMBX_SMB2_BREAK_OPLOCK)
    return false;
  smbx_smb2_lease_break_notify n;
  /* leases.md 2.7, case 12: a notification of another size is refused
   * alone: no state changes, the connection lives on */
  if (kind == SMBX_SMB2_BREAK_LEASE_NOTIFY &&
      smbx_smb2_decode_lease_break_notify(r->data, r->len, &n, NULL) == 0)
    (void)smbx_lease_client_break(cl->lt, &n, dialect, cl->now);
  (void)smbx_client_release(cli, conn, r->hold, cl->now);
  drain(cli);
  return true;
}

static void on_create(smbx_client *cli, lrec *x, int err,
                      const smbx__conn_pdu *r)
{
  smbx__cli_leases *cl = L(cli);
  smbx_smb2_create_resp cr;
  const smbx_smb2_lease *got = NULL;
  smbx_smb2_lease ls;
  if (!err && r && r->hdr.status == SMBX_STATUS_SUCCESS &&
      smbx_smb2_decode_create_resp(r->data, r->len, &cr, NULL) == 0) {
    if (cr.oplock_level == SMBX_SMB2_OPLOCK_LEVEL_LEASE) {
      smbx_smb2_create_ctx_iter it;
      smbx_smb2_create_ctx c;
      (void)smbx_smb2_create_ctx_iter_init(&it, cr.contexts, 0);
      while (!got && smbx_smb2_create_ctx_next(&it, &c, NULL) == 1)
        if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS &&
            smbx_smb2_lease_decode(c.data, &ls, NULL) == 0)
          got = &ls;
    }
    if (x->dir) {
      lopen *o = smbx__slab_get_zeroed(&cl->opens);
      if (o) {
        memcpy(o->key, x->key, 16);
        o->bind = x->bind;
        o->fid = cr.file_id;
      }
    }
  }
  (void)smbx_lease_client_granted(cl->lt, x->key, got, L(cli)->now);
}

static void on_qdir(smbx_client *cli, lrec *x, int err,
                    const smbx__conn_pdu *r)
{
  smbx__cli_leases *cl = L(cli);
  lopen *o = smbx__slab_lookup(&cl->opens, x->open);
  if (!o || !o->filling)
    return;
  uint32_t status = r ? r->hdr.status : 0;
  if (!err && r && status == SMBX_STATUS_NO_MORE_FILES) {
    (void)smbx_lease_client_dir_fill_end(cl->lt, x->key, L(cli)->now);
    o->filling = false;
    return;
  }
  smbx_smb2_output_resp qr;
  smbx_smb2_dir_iter it;
  if (err || !r || status != SMBX_STATUS_SUCCESS ||
      smbx_smb2_decode_query_directory_resp(r->data, r->len, &qr, NULL) ||
      smbx_smb2_dir_iter_init(&it, x->info_class, qr.output.p,
                              qr.output.len)) {
    o->filling = false;
    return;
  }
  smbx_smb2_dir_entry e;
  int k;
  while ((k = smbx_smb2_dir_iter_next(&it, &e, NULL)) == 1)
    if (smbx_lease_client_dir_fill_add(cl->lt, x->key, &e) != 0) {
      o->filling = false;
      return;
    }
  if (k < 0)
    o->filling = false; /* a malformed buffer: the fill stays unserved */
}

bool smbx__cli_lease_complete(smbx_client *cli, smbx__cli_leases *cl,
                              uint64_t conn, uint64_t req, int err,
                              const smbx__conn_pdu *r)
{
  if (!cl)
    return false;
  if (cl->n_retry)
    retry_acks(cli, cl);
  uint8_t k[16];
  rec_key(conn, req, k);
  lrec *x = smbx__hash_get(&cl->by_req, k);
  if (!x)
    return false;
  bool consumed = false;
  switch (x->kind) {
  case RK_CREATE:
    on_create(cli, x, err, r);
    break;
  case RK_QDIR:
    on_qdir(cli, x, err, r);
    break;
  case RK_CLOSE: {
    lfin *f = fin_find(cl, x->key);
    if (f && f->closes) {
      f->closes--;
      fin_try(cli, f);
    }
    consumed = true;
    break;
  }
  default:
    consumed = true; /* RK_ACK: the Lease Break Response */
    break;
  }
  rec_del(cl, x);
  if (consumed) {
    if (r)
      (void)smbx_client_release(cli, conn, r->hold, cl->now);
    drain(cli);
  }
  return consumed;
}

void smbx__cli_lease_after_response(smbx_client *cli, smbx__cli_leases *cl)
{
  if (cl)
    drain(cli);
}

void smbx__cli_lease_conn_down(smbx_client *cli, smbx__cli_leases *cl,
                               uint64_t conn)
{
  if (!cl)
    return;
  for (uint32_t i = 0; i < smbx__slab_cap(&cl->binds); i++) {
    lbind *b = smbx__slab_at(&cl->binds, i);
    if (!b || b->conn != conn)
      continue;
    uint64_t bh = smbx__slab_handle(&cl->binds, b);
    (void)smbx_lease_client_lost(cl->lt, bh, cl->now);
    for (uint32_t k = 0; k < smbx__slab_cap(&cl->opens); k++) {
      lopen *o = smbx__slab_at(&cl->opens, k);
      if (o && o->bind == bh) {
        memset(o, 0, sizeof *o);
        (void)smbx__slab_put(&cl->opens, o);
      }
    }
    for (uint32_t k = 0; k < MAX_FIN; k++)
      if (cl->fin[k].used && cl->fin[k].bind == bh)
        memset(&cl->fin[k], 0, sizeof cl->fin[k]);
    for (uint32_t k = 0; k < MAX_ACK_RETRY; k++)
      if (cl->retry[k].used && cl->retry[k].bind == bh) {
        cl->retry[k].used = false;
        cl->n_retry--;
      }
    memset(b, 0, sizeof *b);
    (void)smbx__slab_put(&cl->binds, b);
  }
  cl->memo_valid = false;
  drain(cli);
}

uint64_t smbx__cli_lease_expiry(const smbx__cli_leases *cl)
{
  return cl ? smbx_lease_client_expiry(cl->lt) : UINT64_MAX;
}

void smbx__cli_lease_handle_expiry(smbx_client *cli, smbx__cli_leases *cl,
                                   uint64_t now)
{
  if (!cl)
    return;
  cl->now = now;
  if (smbx_lease_client_handle_expiry(cl->lt, now) > 0)
    drain(cli);
}
