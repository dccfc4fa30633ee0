/* SPDX-License-Identifier: MIT */
/* smbx-server: serve one local directory over SMB2/3 on Direct TCP.
 *
 *   smbx-server --listen ADDR:PORT --root DIR [--share NAME]
 *               [--config FILE] [--pcap FILE] [-v]
 *   smbx-server --rdma ADDR:PORT ... (SMB Direct through examples/ibverbs;
 *               with or without --listen); `smbx-server server OWN PEER
 *               PORT` is the soft-RoCE lab's convention (smbx_lab.h)
 *
 * One poll() loop: a non-blocking listening socket, one non-blocking socket
 * per client, the posixfs change-notify fd. Bytes read from a client go to
 * smbx_server_tcp_feed(); the node's TCP send hook appends to the client's
 * output buffer, written when the socket takes it. Events are drained after
 * every feed: SESSION_SETUP runs sxauth (NTLMSSP in SPNEGO), TREE_CONNECT
 * checks the share name, REQUEST events are decoded with the codec and
 * answered through posixfs. CHANGE_NOTIFY and blocked LOCKs go async (their
 * received bytes are released at once: everything needed is copied). See
 * docs/smbx-server.md. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <smbx/event.h>
#include <smbx/lease.h>
#include <smbx/server.h>
#include <smbx/smb2.h>
#include <smbx/smbx.h>

#include "pcapw.h"
#include "posixfs.h"
#include "smbx_openssl.h"
#include "sxauth.h"
#ifdef SMBX_HAVE_IBV
#include "smbx_ibv.h"
#include "smbx_lab.h"
#endif

#define MAX_CLIENTS 64
#define MAX_BOUND 8 /* sessions bound to one connection */
#define RECV_CHUNK (256u * 1024u)
#define OUT_HIGH (16u * 1024u * 1024u) /* stop reading above this backlog */
#define MAX_USERS 64
#define IO_MAX (1024u * 1024u)
#define SCRATCH (IO_MAX + 4096u)

static volatile sig_atomic_t g_stop;
static int g_verbose;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
  if (!g_verbose)
    return;
  va_list ap;
  va_start(ap, fmt);
  fputs("smbx-server: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- state ---------------------------------------------------------------- */

typedef struct client {
  int fd;
  uint64_t conn;
  uint8_t *out;
  size_t out_len, out_off, out_cap;
  bool closing; /* CONN_DOWN seen: flush what is queued, then close */
  bool dead;    /* close now */
  bool pcap;    /* this connection is the one recorded */
  uint16_t dialect;
  uint32_t caps;
  uint32_t neg_caps;     /* capabilities in effect (leases) */
  uint8_t guid[16];      /* ClientGuid (leases) */
  uint64_t bound[MAX_BOUND]; /* multichannel: sessions bound to this
                                connection (their opens are usable here;
                                smbtorture smb2.session.bind2 binds two) */
  bool rdma;              /* SMB Direct: no socket (fd -1); the glue
                             (examples/ibverbs) owns the QP and frees the
                             node's connection when it closed */
  struct server *s;
} client;

typedef struct open_rec {
  smbx_smb2_fileid fid;
  uint64_t conn, session;
  uint32_t tree;
  uint64_t lopen;          /* lease manager open (0: none) */
  posixfs_key key, parent; /* file keys of the object and its directory */
  bool wrote;              /* its close changes the directory */
  bool doc;                /* delete-on-close set through this open */
  bool notified;           /* a CHANGE_NOTIFY came: notify_cap is set */
  uint32_t notify_cap;     /* the first CHANGE_NOTIFY's OutputBufferLength */
} open_rec;

/* A CREATE's lease request between its steps (docs/leases.md). */
typedef struct lease_ctx {
  smbx_lease_open_req req;
  uint64_t lopen;   /* 0: not begun yet (a new object) */
  bool share_tried; /* the share-conflict H break already ran */
  bool opened;      /* the file system open is done (r) */
  posixfs_key obj, parent;
  posixfs_create_result r;
} lease_ctx;

/* A tree connected to IPC$: no named pipes are served, so a CREATE there
   answers OBJECT_NAME_NOT_FOUND instead of reaching posixfs. */
typedef struct ipc_tree {
  uint64_t conn, session;
  uint32_t tree;
} ipc_tree;

typedef struct accept_rec {
  uint64_t conn, session;
  sxauth_accept *a;
} accept_rec;

typedef struct pending {
  int kind; /* 1 notify, 2 lock, 3 CREATE / 4 SET_INFO waiting for lease
              acks */
  uint64_t conn, req;
  smbx_smb2_fileid fid;
  uint32_t out_len;                /* notify: OutputBufferLength */
  smbx_smb2_lock_element *locks;   /* lock: copied elements */
  size_t n_locks;
  uint64_t epoch;
  lease_ctx lc;   /* CREATE: its lease request */
  smbx_event ev;  /* CREATE: the request, its PDU in pdu_copy */
  uint8_t *pdu_copy;
} pending;

typedef struct server {
  smbx_server *srv;
  smbx_lease_mgr *lm;
  bool lease_hold; /* a lease was granted in the message being handled:
                      its breaks wait until the message is answered */
  posixfs *fs;
  sxauth_server *auth;
  sxauth_crypto *auth_crypto;
  smbx_openssl *ossl;
  pcapw *pcap;
  bool pcap_used;
  const char *share;
  uint8_t guid[16];
  uint16_t security_mode;
  bool encrypt;
  bool share_encrypt; /* the share's TREE_CONNECT sets ENCRYPT_DATA */
  client *clients[MAX_CLIENTS];
  open_rec *opens;
  size_t n_opens, cap_opens;
  accept_rec accepts[256];
  ipc_tree ipc[MAX_CLIENTS * 4];
  size_t n_ipc;
  pending *pend;
  size_t n_pend, cap_pend;
  uint8_t *scratch;  /* data read from posixfs / built outputs */
  uint8_t *resp;     /* encoded responses */
  uint8_t rbuf[RECV_CHUNK];
  uint64_t now;
  struct smbx_ibv *ibv; /* --rdma: SMB Direct connections (examples/ibverbs) */
  struct rdma_buf *rdma_free;  /* registered I/O buffers not in use */
  struct rdma_xfer *xfers;     /* READ/WRITE moving by RDMA */
  size_t n_xfers, cap_xfers;
} server;

/* ---- TCP output ------------------------------------------------------------- */

/* The node's output collects in c->out during a loop turn and goes out in
 * one send() after it; c->out exists only while bytes wait (flush_client
 * frees it once the socket took them all), so an idle connection holds no
 * output buffer and a burst's backlog is not kept for the connection's
 * life. */
static int tcp_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  client *c = ud;
  (void)conn;
  if (c->pcap && c->s->pcap)
    (void)pcapw_tcp(c->s->pcap, 1, b, n);
  if (c->out_off > 0 && c->out_off == c->out_len)
    c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap) {
    if (c->out_off > 0) {
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 65536;
      while (cap < c->out_len + n)
        cap *= 2;
      uint8_t *p = realloc(c->out, cap);
      if (!p)
        return SMBX_ERR_NOMEM;
      c->out = p;
      c->out_cap = cap;
    }
  }
  memcpy(c->out + c->out_len, b, n);
  c->out_len += n;
  return 0;
}

static void flush_client(client *c)
{
  while (c->out_off < c->out_len && !c->dead) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                     MSG_NOSIGNAL);
    if (w > 0) {
      c->out_off += (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      c->dead = true;
    }
  }
  if (c->out_off == c->out_len) {
    free(c->out);
    c->out = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
  }
}

static client *client_by_conn(server *s, uint64_t conn)
{
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i] && s->clients[i]->conn == conn)
      return s->clients[i];
  return NULL;
}

/* ---- opens, pending requests -------------------------------------------------- */

static bool fid_eq(smbx_smb2_fileid a, smbx_smb2_fileid b)
{
  return a.persistent_id == b.persistent_id && a.volatile_id == b.volatile_id;
}

static bool bound_to(const client *c, uint64_t session)
{
  for (size_t i = 0; c && session && i < MAX_BOUND; i++)
    if (c->bound[i] == session)
      return true;
  return false;
}

/* An open is usable on the connection that created it and on every
 * connection its session is bound to (multichannel). */
static bool open_on(server *s, const open_rec *o, uint64_t conn)
{
  if (o->conn == conn)
    return true;
  return bound_to(client_by_conn(s, conn), o->session);
}

static open_rec *open_find(server *s, uint64_t conn, smbx_smb2_fileid fid)
{
  for (size_t i = 0; i < s->n_opens; i++)
    if (fid_eq(s->opens[i].fid, fid) && open_on(s, &s->opens[i], conn))
      return &s->opens[i];
  return NULL;
}

/* A connection goes: the opens of a session bound to another connection
 * move there (the node moved the session), the rest are closed. */
static void move_bound_opens(server *s, uint64_t conn)
{
  for (size_t i = 0; i < s->n_opens; i++) {
    open_rec *o = &s->opens[i];
    for (size_t k = 0; o->conn == conn && k < MAX_CLIENTS; k++) {
      const client *c = s->clients[k];
      if (c && c->conn != conn && !c->closing && bound_to(c, o->session))
        o->conn = c->conn;
    }
  }
}

static int open_add(server *s, uint64_t conn, uint64_t session, uint32_t tree,
                    smbx_smb2_fileid fid)
{
  if (s->n_opens == s->cap_opens) {
    size_t cap = s->cap_opens ? s->cap_opens * 2 : 64;
    open_rec *p = realloc(s->opens, cap * sizeof *p);
    if (!p)
      return -1;
    s->opens = p;
    s->cap_opens = cap;
  }
  s->opens[s->n_opens++] =
      (open_rec){.fid = fid, .conn = conn, .session = session, .tree = tree};
  return 0;
}

/* A CREATE parked for lease acks goes away (cancel, connection loss). */
static void lease_park_drop(server *s, pending *p)
{
  (void)smbx_lease_cancel(s->lm, p->req, s->now);
  if (p->kind == 3 && p->lc.opened)
    (void)posixfs_close(s->fs, p->lc.r.file_id, NULL);
}

static void pending_drop(server *s, size_t i)
{
  free(s->pend[i].locks);
  free(s->pend[i].pdu_copy);
  s->pend[i] = s->pend[--s->n_pend];
}

static pending *pending_add(server *s)
{
  if (s->n_pend == s->cap_pend) {
    size_t cap = s->cap_pend ? s->cap_pend * 2 : 16;
    pending *p = realloc(s->pend, cap * sizeof *p);
    if (!p)
      return NULL;
    s->pend = p;
    s->cap_pend = cap;
  }
  pending *p = &s->pend[s->n_pend++];
  memset(p, 0, sizeof *p);
  return p;
}

/* Complete (when the connection lives) and forget pending requests on a
 * handle being closed. */
static void pending_cleanup_fid(server *s, uint64_t conn, smbx_smb2_fileid fid)
{
  for (size_t i = 0; i < s->n_pend;) {
    pending *p = &s->pend[i];
    if (p->conn == conn && fid_eq(p->fid, fid)) {
      /* a lock waiting on a handle being closed: RANGE_NOT_LOCKED, as
       * Windows and Samba answer (smbtorture smb2.lock.cancel) */
      uint32_t st = p->kind == 1 ? SMBX_STATUS_NOTIFY_CLEANUP
                                 : SMBX_STATUS_RANGE_NOT_LOCKED;
      if (p->kind == 1) {
        /* NOTIFY_CLEANUP is a success status with an empty output buffer */
        uint8_t body[9] = {9, 0, 0x48, 0, 0, 0, 0, 0, 0};
        (void)smbx_server_respond(s->srv, conn, p->req, st, body, sizeof body,
                                  s->now);
      } else {
        (void)smbx_server_respond_error(s->srv, conn, p->req, st, NULL, 0,
                                        s->now);
      }
      pending_drop(s, i);
    } else {
      i++;
    }
  }
}

/* Opens stay in creation order: a tree disconnect or logoff closes them
 * oldest first, and a lock waiting on a later open is granted when an
 * earlier one's lock goes (smbtorture smb2.lock.cancel-tdis). */
static void open_remove(server *s, size_t i)
{
  s->n_opens--;
  memmove(&s->opens[i], &s->opens[i + 1],
          (s->n_opens - i) * sizeof *s->opens);
}

static void retry_locks(server *s);

static void close_open_at(server *s, size_t i)
{
  open_rec o = s->opens[i];
  open_remove(s, i);
  pending_cleanup_fid(s, o.conn, o.fid);
  (void)posixfs_close(s->fs, o.fid, NULL);
  if (o.lopen)
    (void)smbx_lease_close(s->lm, o.lopen, s->now);
}

/* Close the opens of a connection (session 0 = any, tree 0 = any). */
static void close_opens(server *s, uint64_t conn, uint64_t session,
                        uint32_t tree)
{
  for (size_t i = 0; i < s->n_opens;) {
    open_rec *o = &s->opens[i];
    if (o->conn == conn && (!session || o->session == session) &&
        (!tree || o->tree == tree)) {
      close_open_at(s, i);
      retry_locks(s);
    } else
      i++;
  }
  for (size_t i = 0; i < s->n_ipc;) {
    ipc_tree *t = &s->ipc[i];
    if (t->conn == conn && (!session || t->session == session) &&
        (!tree || t->tree == tree))
      *t = s->ipc[--s->n_ipc];
    else
      i++;
  }
}

static bool is_ipc_tree(const server *s, const smbx_event *e)
{
  for (size_t i = 0; i < s->n_ipc; i++)
    if (s->ipc[i].conn == e->conn &&
        s->ipc[i].session == e->u.pdu.hdr.session_id &&
        s->ipc[i].tree == e->u.pdu.hdr.tree_id)
      return true;
  return false;
}

static void forget_conn(server *s, uint64_t conn)
{
  for (size_t i = 0; i < s->n_pend;) {
    if (s->pend[i].conn == conn) {
      if (s->pend[i].kind >= 3)
        lease_park_drop(s, &s->pend[i]);
      pending_drop(s, i);
    }
    else
      i++;
  }
  move_bound_opens(s, conn);
  close_opens(s, conn, 0, 0);
  (void)smbx_lease_conn_down(s->lm, conn);
  for (size_t i = 0; i < sizeof s->accepts / sizeof s->accepts[0]; i++)
    if (s->accepts[i].a && s->accepts[i].conn == conn) {
      sxauth_accept_free(s->accepts[i].a);
      s->accepts[i].a = NULL;
    }
}

/* ---- responses ------------------------------------------------------------- */

static int respond_body(server *s, const smbx_event *e, uint32_t status,
                        smbx_ssize n)
{
  if (n < 64) {
    fprintf(stderr, "smbx-server: encoder failed (%d)\n", (int)n);
    return smbx_server_respond_error(s->srv, e->conn, e->u.pdu.req,
                                     SMBX_STATUS_INSUFFICIENT_RESOURCES, NULL,
                                     0, s->now);
  }
  return smbx_server_respond(s->srv, e->conn, e->u.pdu.req, status,
                             s->resp + 64, (size_t)n - 64, s->now);
}

static int respond_err(server *s, const smbx_event *e, uint32_t status)
{
  logf_("cmd %u mid %llu -> 0x%08x\n", e->u.pdu.hdr.command,
        (unsigned long long)e->u.pdu.hdr.message_id, status);
  return smbx_server_respond_error(s->srv, e->conn, e->u.pdu.req, status,
                                   NULL, 0, s->now);
}

/* A related compound member with others after it: it cannot wait (its
 * followers wait for its answer), so a LOCK or CHANGE_NOTIFY that would
 * go async fails INTERNAL_ERROR, as Windows does (MS-SMB2 3.3.5.2.7 MAY,
 * <159>; smbtorture smb2.compound.interim2). */
static bool mid_chain(const smbx_event *e)
{
  return (e->flags & SMBX_EVF_RELATED) && !(e->flags & SMBX_EVF_LAST);
}

/* The request's FileId: the inherited one in related compounds. */
static smbx_smb2_fileid req_fid(const smbx_event *e, smbx_smb2_fileid body)
{
  return (e->flags & SMBX_EVF_FILEID) ? e->u.pdu.file_id : body;
}

/* ---- leases (lease manager, docs/leases.md) ----------------------------------- */

static open_rec *open_by_lopen(server *s, uint64_t lopen)
{
  for (size_t i = 0; i < s->n_opens; i++)
    if (s->opens[i].lopen == lopen)
      return &s->opens[i];
  return NULL;
}

static void lease_change(server *s, uint32_t kind, uint64_t lopen,
                         const posixfs_key *k)
{
  if (!k->valid)
    return;
  smbx_lease_change c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.kind = kind;
  c.open = lopen;
  posixfs_key_file_key(k, kind == SMBX_LEASE_CHG_DATA ? c.file_key
                                                      : c.dir_key);
  (void)smbx_lease_change_report(s->lm, &c, s->now);
}

/* Parse the CREATE's RqLs, look the object up and, when it exists, start
 * the open in the manager (breaks before the file system opens it). */
static uint32_t lease_prepare(server *s, const smbx_event *e,
                              const smbx_smb2_create_req *q, lease_ctx *lc)
{
  memset(lc, 0, sizeof *lc);
  smbx_lease_open_req *r = &lc->req;
  r->struct_size = sizeof *r;
  uint32_t st = 0;
  (void)smbx_lease_create_parse(q, 0, r, &st);
  if (st != SMBX_STATUS_SUCCESS)
    return st;
  client *c = client_by_conn(s, e->conn);
  if (c) {
    memcpy(r->client_guid, c->guid, 16);
    r->capabilities = c->neg_caps;
    r->dialect = c->dialect;
  }
  r->conn = e->conn;
  r->user = e->u.pdu.req;
  r->access = q->desired_access;
  r->disposition = q->create_disposition;
  if (posixfs_lookup(s->fs, q->name.p, q->name.len, &lc->obj, &lc->parent) !=
      SMBX_STATUS_SUCCESS) {
    /* a new object is begun once created; its key must be unused */
    smbx_lease_info li;
    memset(&li, 0, sizeof li);
    li.struct_size = sizeof li;
    if (r->has_lease && r->requested_oplock == SMBX_SMB2_OPLOCK_LEVEL_LEASE &&
        smbx_lease_query(s->lm, r->client_guid, r->lease.key, &li) == 0)
      return SMBX_STATUS_INVALID_PARAMETER;
    return SMBX_STATUS_SUCCESS;
  }
  posixfs_key_file_key(&lc->obj, r->file_key);
  r->is_dir = (uint8_t)lc->obj.is_dir;
  if (lc->parent.valid) {
    r->has_parent = 1;
    r->parent_key[0] = lc->parent.dev;
    r->parent_key[1] = lc->parent.ino;
  }
  return SMBX_STATUS_SUCCESS;
}

static int lease_park(server *s, const smbx_event *e, const lease_ctx *lc,
                      int kind);

/* Start (or restart) the open in the manager: 0 go on, 1 wait for READY
 * (the request was made async and parked), <0 failed (answered). */
static int lease_begin(server *s, const smbx_event *e, lease_ctx *lc)
{
  uint32_t st = 0;
  int rc = smbx_lease_open_begin(s->lm, &lc->req, s->now, &lc->lopen, &st);
  if (rc < 0 || st != SMBX_STATUS_SUCCESS) {
    lc->lopen = 0;
    (void)respond_err(s, e,
                      rc < 0 ? SMBX_STATUS_INSUFFICIENT_RESOURCES : st);
    return -1;
  }
  if (rc == 0)
    return 0;
  return lease_park(s, e, lc, 3) < 0 ? -1 : 1;
}

/* Park a request until the manager's READY (kind 3 CREATE with its lease
 * context, kind 4 SET_INFO): 0 parked, -1 failed (answered). */
static int lease_park(server *s, const smbx_event *e, const lease_ctx *lc,
                      int kind)
{
  pending *p = pending_add(s);
  if (!p) {
    (void)smbx_lease_cancel(s->lm, e->u.pdu.req, s->now);
    (void)respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    return -1;
  }
  p->kind = kind;
  p->conn = e->conn;
  p->req = e->u.pdu.req;
  if (lc)
    p->lc = *lc;
  p->ev = *e;
  /* the PDU is copied and its bytes released at once: the ack this CREATE
   * waits for arrives on the same connection */
  p->pdu_copy = malloc(e->u.pdu.len ? e->u.pdu.len : 1);
  if (!p->pdu_copy) {
    pending_drop(s, s->n_pend - 1);
    (void)smbx_lease_cancel(s->lm, e->u.pdu.req, s->now);
    (void)respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    return -1;
  }
  memcpy(p->pdu_copy, e->u.pdu.data, e->u.pdu.len);
  p->ev.u.pdu.data = p->pdu_copy;
  p->ev.hold = 0;
  /* interim STATUS_PENDING (a resumed request is async already) */
  int ar = smbx_server_go_async(s->srv, e->conn, e->u.pdu.req, s->now, NULL);
  if (ar < 0 && ar != SMBX_ERR_STATE)
    logf_("go_async failed: %s\n", smbx_strerror(ar));
  if (e->hold)
    (void)smbx_server_release(s->srv, e->conn, e->hold, s->now);
  return 0;
}

static void lease_fail(server *s, lease_ctx *lc, uint32_t st)
{
  if (lc->lopen)
    (void)smbx_lease_open_finish(s->lm, lc->lopen, st, s->now, NULL);
  lc->lopen = 0;
}

static int create_step(server *s, const smbx_event *e, lease_ctx *resume);
static int set_info_step(server *s, const smbx_event *e, bool resumed);

static int do_break_ack(server *s, const smbx_event *e)
{
  static const uint8_t zero[16];
  client *c = client_by_conn(s, e->conn);
  smbx_lease_ack_result res;
  memset(&res, 0, sizeof res);
  res.struct_size = sizeof res;
  int rc = smbx_server_lease_ack(s->srv, s->lm, e, c ? c->guid : zero, s->now,
                                 &res);
  if (rc != 0 || res.kind != SMBX_SMB2_BREAK_OPLOCK)
    return rc;
  smbx_smb2_fileid fid = req_fid(e, res.file_id);
  open_rec *o = open_find(s, e->conn, fid);
  if (!o || !o->lopen)
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  uint8_t level = 0;
  uint32_t st = 0;
  (void)smbx_lease_oplock_ack(s->lm, o->lopen, res.oplock_level, s->now,
                              &level, &st);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  smbx_smb2_oplock_break ob;
  memset(&ob, 0, sizeof ob);
  ob.oplock_level = level;
  ob.file_id = fid;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  return respond_body(
      s, e, 0, smbx_smb2_encode_oplock_break(&h, &ob, s->resp, SCRATCH, NULL));
}

/* Deliver the manager's breaks (after the responses of this round went
 * out) and resume CREATEs whose breaks were acknowledged. */
static void lease_drain(server *s)
{
  smbx_lease_event le;
  memset(&le, 0, sizeof le);
  le.struct_size = sizeof le;
  while (smbx_lease_next_event(s->lm, &le) == 1) {
    int rc = 0;
    if (le.type == SMBX_LEASE_EV_BREAK) {
      rc = smbx_server_lease_deliver(s->srv, s->lm, &le, NULL, 0, s->now);
    } else if (le.type == SMBX_LEASE_EV_OPLOCK_BREAK) {
      open_rec *o = open_by_lopen(s, le.open);
      if (o)
        rc = smbx_server_lease_deliver(s->srv, s->lm, &le, &o->fid,
                                       o->session, s->now);
    } else if (le.type == SMBX_LEASE_EV_READY) {
      for (size_t i = 0; i < s->n_pend; i++) {
        pending *p = &s->pend[i];
        bool create = p->kind == 3 && le.open && p->lc.lopen == le.open;
        bool setinfo = p->kind == 4 && !le.open && p->req == le.user;
        if (!create && !setinfo)
          continue;
        pending copy = *p;
        p->pdu_copy = NULL; /* freed below, after the step used it */
        pending_drop(s, i);
        rc = create ? create_step(s, &copy.ev, &copy.lc)
                    : set_info_step(s, &copy.ev, true);
        if (rc < 0)
          (void)smbx_server_respond_error(
              s->srv, copy.conn, copy.req,
              SMBX_STATUS_INSUFFICIENT_RESOURCES, NULL, 0, s->now);
        free(copy.pdu_copy);
        break;
      }
    }
    if (rc < 0)
      logf_("lease event %u: %s\n", le.type, smbx_strerror(rc));
  }
}

/* ---- CREATE ----------------------------------------------------------------- */

static int do_create(server *s, const smbx_event *e)
{
  return create_step(s, e, NULL);
}

static int create_step(server *s, const smbx_event *e, lease_ctx *resume)
{
  smbx_smb2_create_req q;
  if (smbx_smb2_decode_create_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  bool want_mxac = false, want_qfid = false;
  uint64_t alsi = 0;
  smbx_smb2_bytes eas = {NULL, 0}; /* ExtA: posixfs checks and stores it */
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx cx;
  if (q.contexts.len) {
    (void)smbx_smb2_create_ctx_iter_init(&it, q.contexts, q.contexts_offset);
    int r;
    while ((r = smbx_smb2_create_ctx_next(&it, &cx, NULL)) == 1) {
      uint32_t tag = smbx_smb2_create_ctx_tag(&cx);
      if (tag == SMBX_SMB2_CTX_TAG_MXAC) {
        want_mxac = true;
      } else if (tag == SMBX_SMB2_CTX_TAG_QFID) {
        want_qfid = true;
      } else if (tag == SMBX_SMB2_CTX_TAG_ALSI) {
        smbx_smb2_ctx_data d;
        if (smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_ALSI_REQ, cx.data, &d,
                                      NULL) == 0)
          alsi = d.value;
      } else if (tag == SMBX_SMB2_CTX_TAG_TWRP) {
        return respond_err(s, e, SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
      } else if (tag == SMBX_SMB2_CTX_TAG_EXTA) {
        eas = cx.data;
      }
    }
    if (r < 0)
      return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  }
  lease_ctx lc;
  if (resume) {
    lc = *resume;
  } else {
    uint32_t lst = lease_prepare(s, e, &q, &lc);
    if (lst != SMBX_STATUS_SUCCESS)
      return respond_err(s, e, lst);
    /* an overwrite resolves the conflicts before the data goes; other
     * opens do it once the share check passed (a share conflict breaks
     * only H, leases.md 3.3) */
    uint32_t d = q.create_disposition;
    if (lc.obj.valid && (d == POSIXFS_SUPERSEDE || d == POSIXFS_OVERWRITE ||
                         d == POSIXFS_OVERWRITE_IF)) {
      if (lease_begin(s, e, &lc) != 0)
        return 0;
    }
  }
  posixfs_create_args a = {
      .name = q.name.p,
      .name_len = q.name.len,
      .desired_access = q.desired_access,
      .file_attributes = q.file_attributes,
      .share_access = q.share_access,
      .create_disposition = q.create_disposition,
      .create_options = q.create_options,
      .allocation_size = alsi,
      .eas = eas.p,
      .eas_len = eas.len,
  };
  posixfs_create_result r;
  memset(&r, 0, sizeof r);
  uint32_t st = SMBX_STATUS_SUCCESS;
  if (lc.opened)
    r = lc.r;
  else
    st = posixfs_create(s->fs, &a, &r);
  if (st == SMBX_STATUS_SHARING_VIOLATION && lc.obj.valid && !lc.share_tried) {
    /* break other clients' H, then check the share modes again */
    lease_fail(s, &lc, st);
    lc.share_tried = true;
    lc.req.share_conflict = 1;
    int br = lease_begin(s, e, &lc);
    if (br != 0)
      return 0;
    lease_fail(s, &lc, st); /* no H to wait for: the conflict stands */
  }
  if (st != SMBX_STATUS_SUCCESS) {
    lease_fail(s, &lc, st);
    return respond_err(s, e, st);
  }
  if (!lc.opened) {
    lc.opened = true;
    lc.r = r;
    if (lc.obj.valid && lc.req.share_conflict) {
      /* the share conflict is gone: this open is an ordinary one now */
      lease_fail(s, &lc, SMBX_STATUS_SHARING_VIOLATION);
      lc.req.share_conflict = 0;
    }
    if (lc.obj.valid && !lc.lopen) {
      /* an existing object: W of other leases goes before the answer */
      int br = lease_begin(s, e, &lc);
      if (br < 0)
        (void)posixfs_close(s->fs, r.file_id, NULL);
      if (br != 0)
        return 0;
    }
  }
  if (open_add(s, e->conn, e->u.pdu.hdr.session_id, e->u.pdu.hdr.tree_id,
               r.file_id) != 0) {
    lease_fail(s, &lc, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    (void)posixfs_close(s->fs, r.file_id, NULL);
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  }
  /* the lease: a new object is begun now (nothing to break on it) */
  smbx_lease_grant lg;
  memset(&lg, 0, sizeof lg);
  lg.struct_size = sizeof lg;
  if (!lc.lopen && !lc.obj.valid) {
    posixfs_key pk = lc.parent;
    (void)posixfs_lookup(s->fs, q.name.p, q.name.len, &lc.obj, &lc.parent);
    if (!lc.parent.valid)
      lc.parent = pk;
    posixfs_key_file_key(&lc.obj, lc.req.file_key);
    lc.req.is_dir = (uint8_t)lc.obj.is_dir;
    uint32_t bst = 0;
    if (!lc.obj.valid ||
        smbx_lease_open_begin(s->lm, &lc.req, s->now, &lc.lopen, &bst) < 0 ||
        bst != SMBX_STATUS_SUCCESS)
      lc.lopen = 0;
  }
  if (lc.lopen &&
      smbx_lease_open_finish(s->lm, lc.lopen, 0, s->now, &lg) != 0)
    lc.lopen = 0;
  if (lg.oplock_level != SMBX_SMB2_OPLOCK_LEVEL_NONE)
    s->lease_hold = true;
  open_rec *orec = &s->opens[s->n_opens - 1];
  orec->lopen = lc.lopen;
  orec->key = lc.obj;
  orec->parent = lc.parent;
  orec->doc = (q.create_options & POSIXFS_DELETE_ON_CLOSE) != 0;
  /* a child created or replaced changes its directory (leases.md 3.4) */
  if (r.create_action != POSIXFS_ACTION_OPENED)
    lease_change(s, SMBX_LEASE_CHG_CHILD, lc.lopen, &lc.parent);
  /* response contexts */
  uint8_t mx[8], qf[32], ls[52], ctxbuf[256];
  smbx_smb2_create_ctx out[3];
  size_t n_out = 0;
  if (lg.has_lease) {
    smbx_ssize n = smbx_smb2_lease_encode(&lg.lease, ls, sizeof ls, NULL);
    if (n > 0)
      out[n_out++] = (smbx_smb2_create_ctx){
          {(const uint8_t *)"RqLs", 4}, {ls, (size_t)n}, 0};
  }
  if (want_mxac) {
    smbx_smb2_ctx_data d;
    memset(&d, 0, sizeof d);
    d.query_status = SMBX_STATUS_SUCCESS;
    d.maximal_access = r.maximal_access;
    smbx_ssize n =
        smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_MXAC_RESP, &d, mx, sizeof mx,
                                  NULL);
    if (n > 0)
      out[n_out++] = (smbx_smb2_create_ctx){
          {(const uint8_t *)"MxAc", 4}, {mx, (size_t)n}, 0};
  }
  if (want_qfid) {
    smbx_smb2_ctx_data d;
    memset(&d, 0, sizeof d);
    d.disk_file_id = r.disk_file_id;
    d.volume_id = r.volume_id;
    smbx_ssize n =
        smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_QFID_RESP, &d, qf, sizeof qf,
                                  NULL);
    if (n > 0)
      out[n_out++] = (smbx_smb2_create_ctx){
          {(const uint8_t *)"QFid", 4}, {qf, (size_t)n}, 0};
  }
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.oplock_level = lg.oplock_level;
  rs.create_action = r.create_action;
  rs.creation_time = r.info.creation_time;
  rs.last_access_time = r.info.last_access_time;
  rs.last_write_time = r.info.last_write_time;
  rs.change_time = r.info.change_time;
  rs.allocation_size = r.info.allocation_size;
  rs.end_of_file = r.info.end_of_file;
  rs.file_attributes = r.info.file_attributes;
  rs.file_id = r.file_id;
  if (n_out) {
    smbx_ssize n = smbx_smb2_create_ctx_list_encode(out, n_out, ctxbuf,
                                                    sizeof ctxbuf, NULL);
    if (n > 0) {
      rs.contexts.p = ctxbuf;
      rs.contexts.len = (size_t)n;
    }
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  return respond_body(
      s, e, 0, smbx_smb2_encode_create_resp(&h, &rs, s->resp, SCRATCH, NULL));
}

static int do_close(server *s, const smbx_event *e)
{
  smbx_smb2_close_req q;
  if (smbx_smb2_decode_close_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  open_rec *o = open_find(s, e->conn, fid);
  if (!o)
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  size_t idx = (size_t)(o - s->opens);
  open_rec closed = *o;
  open_remove(s, idx);
  pending_cleanup_fid(s, e->conn, fid);
  smbx_smb2_file_network_open_info post;
  memset(&post, 0, sizeof post);
  uint32_t st = posixfs_close(s->fs, fid, &post);
  /* close after writing, or a delete at close: the directory changed */
  if (closed.wrote || closed.doc)
    lease_change(s, SMBX_LEASE_CHG_CHILD, closed.lopen, &closed.parent);
  if (closed.lopen)
    (void)smbx_lease_close(s->lm, closed.lopen, s->now);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  smbx_smb2_close_resp rs;
  memset(&rs, 0, sizeof rs);
  if (q.flags & SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) {
    rs.flags = SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
    rs.creation_time = post.creation_time;
    rs.last_access_time = post.last_access_time;
    rs.last_write_time = post.last_write_time;
    rs.change_time = post.change_time;
    rs.allocation_size = post.allocation_size;
    rs.end_of_file = post.end_of_file;
    rs.file_attributes = post.file_attributes;
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  return respond_body(
      s, e, 0, smbx_smb2_encode_close_resp(&h, &rs, s->resp, SCRATCH, NULL));
}

/* ---- READ / WRITE / FLUSH ------------------------------------------------------- */

#ifdef SMBX_HAVE_IBV
/* ---- RDMA direct placement (READ/WRITE with an RDMA channel) ------------------- */

/* An I/O buffer registered once on the glue's protection domain and kept
 * on a free list: the file data goes between it and the client's memory
 * by RDMA, never through the node. */
typedef struct rdma_buf {
  uint8_t *p;
  uint64_t handle;
  struct rdma_buf *next;
} rdma_buf;

typedef struct rdma_xfer {
  uint64_t conn, req;
  rdma_buf *b;
  bool write;
  smbx_smb2_fileid fid;
  uint64_t offset;
  uint32_t len;
} rdma_xfer;

static rdma_buf *rdma_buf_get(server *s)
{
  rdma_buf *b = s->rdma_free;
  if (b) {
    s->rdma_free = b->next;
    return b;
  }
  if (!(b = calloc(1, sizeof *b)))
    return NULL;
  b->p = aligned_alloc(4096, IO_MAX);
  if (!b->p || smbx_ibv_register(s->ibv, b->p, IO_MAX, &b->handle) != 0) {
    free(b->p);
    free(b);
    return NULL;
  }
  return b;
}

static void rdma_buf_put(server *s, rdma_buf *b)
{
  b->next = s->rdma_free;
  s->rdma_free = b;
}

static rdma_xfer *xfer_add(server *s)
{
  if (s->n_xfers == s->cap_xfers) {
    size_t cap = s->cap_xfers ? 2 * s->cap_xfers : 64;
    rdma_xfer *p = realloc(s->xfers, cap * sizeof *p);
    if (!p)
      return NULL;
    s->xfers = p;
    s->cap_xfers = cap;
  }
  rdma_xfer *x = &s->xfers[s->n_xfers++];
  memset(x, 0, sizeof *x);
  return x;
}

static void xfer_drop(server *s, size_t i)
{
  rdma_buf_put(s, s->xfers[i].b);
  s->xfers[i] = s->xfers[--s->n_xfers];
}

/* READ: the data goes from a registered buffer into the client's
 * descriptors; the node sends the response when the writes completed. */
static int do_read_rdma(server *s, const smbx_event *e,
                        const smbx_smb2_read_req *q, smbx_smb2_fileid fid)
{
  uint32_t want =
      q->length < e->u.pdu.rdma_length ? q->length : e->u.pdu.rdma_length;
  if (want > IO_MAX)
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  rdma_buf *b = rdma_buf_get(s);
  rdma_xfer *x = b ? xfer_add(s) : NULL;
  if (!x) {
    if (b)
      rdma_buf_put(s, b);
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  }
  x->conn = e->conn;
  x->req = e->u.pdu.req;
  x->b = b;
  uint32_t got = 0;
  uint32_t st = posixfs_read(s->fs, fid, q->offset, b->p, want, &got);
  if (st == SMBX_STATUS_SUCCESS && (got == 0 || got < q->minimum_count))
    st = SMBX_STATUS_END_OF_FILE;
  int rc;
  if (st != SMBX_STATUS_SUCCESS) {
    rc = respond_err(s, e, st);
  } else {
    smbx_sge sg = {b->p, got, 0, b->handle};
    rc = smbx_server_rdma_push(s->srv, e->conn, e->u.pdu.req, &sg, 1, s->now);
    if (rc == 0)
      return 0;
  }
  xfer_drop(s, s->n_xfers - 1);
  return rc;
}

/* WRITE: the client's data comes into a registered buffer by RDMA READ;
 * the file is written and the WRITE answered at SMBX_EV_RDMA_DONE. */
static int do_write_rdma(server *s, const smbx_event *e,
                         const smbx_smb2_write_req *q, smbx_smb2_fileid fid)
{
  if (e->u.pdu.rdma_length > IO_MAX)
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  rdma_buf *b = rdma_buf_get(s);
  rdma_xfer *x = b ? xfer_add(s) : NULL;
  if (!x) {
    if (b)
      rdma_buf_put(s, b);
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  }
  x->conn = e->conn;
  x->req = e->u.pdu.req;
  x->b = b;
  x->write = true;
  x->fid = fid;
  x->offset = q->offset;
  x->len = e->u.pdu.rdma_length;
  smbx_sge sg = {b->p, x->len, 0, b->handle};
  int rc = smbx_server_rdma_pull(s->srv, e->conn, e->u.pdu.req, &sg, 1, s->now);
  if (rc != 0)
    xfer_drop(s, s->n_xfers - 1);
  return rc;
}

static void rdma_done(server *s, const smbx_event *e)
{
  size_t i = 0;
  while (i < s->n_xfers &&
         (s->xfers[i].conn != e->conn || s->xfers[i].req != e->u.pdu.req))
    i++;
  if (i == s->n_xfers)
    return;
  rdma_xfer *x = &s->xfers[i];
  if (x->write && e->u.pdu.err == 0) {
    uint32_t done = 0;
    uint32_t st = open_find(s, x->conn, x->fid)
                      ? posixfs_write(s->fs, x->fid, x->offset, x->b->p,
                                      x->len, &done)
                      : SMBX_STATUS_FILE_CLOSED;
    int rc;
    if (st != SMBX_STATUS_SUCCESS) {
      rc = respond_err(s, e, st);
    } else {
      smbx_smb2_write_resp rs;
      memset(&rs, 0, sizeof rs);
      rs.count = done;
      smbx_smb2_hdr h;
      memset(&h, 0, sizeof h);
      rc = respond_body(s, e, 0,
                        smbx_smb2_encode_write_resp(&h, &rs, s->resp, SCRATCH,
                                                    NULL));
    }
    if (rc < 0)
      logf_("RDMA WRITE answer on conn %llu: %s\n",
            (unsigned long long)e->conn, smbx_strerror(rc));
  } else if (e->u.pdu.err) {
    logf_("RDMA transfer on conn %llu failed: %s\n",
          (unsigned long long)e->conn, smbx_strerror(e->u.pdu.err));
  }
  xfer_drop(s, i);
}

/* Transfers of connections the glue freed (their QP is gone, nothing can
 * touch the buffers any more) give their buffers back. */
/* An SMB Direct connection gets a client record (no socket) once the
 * transport is negotiated, for what the server keeps per connection
 * (dialect, capabilities for VALIDATE_NEGOTIATE, bound session). */
static void rdma_client_add(server *s, uint64_t conn)
{
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (!s->clients[i]) {
      client *c = calloc(1, sizeof *c);
      if (!c)
        break;
      c->fd = -1;
      c->conn = conn;
      c->rdma = true;
      c->s = s;
      s->clients[i] = c;
      return;
    }
  fprintf(stderr, "smbx-server: no room for SMB Direct conn %llu\n",
          (unsigned long long)conn);
  (void)smbx_server_close_conn(s->srv, conn, s->now);
}

static void rdma_sweep(server *s)
{
  for (size_t i = 0; i < s->n_xfers;)
    if (!smbx_ibv_has_conn(s->ibv, s->xfers[i].conn))
      xfer_drop(s, i);
    else
      i++;
}
#endif

static int do_read(server *s, const smbx_event *e)
{
  smbx_smb2_read_req q;
  if (smbx_smb2_decode_read_req(e->u.pdu.data, e->u.pdu.len, &q, NULL) ||
      (q.channel != 0 && !(e->flags & SMBX_EVF_RDMA)))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
#ifdef SMBX_HAVE_IBV
  if (e->flags & SMBX_EVF_RDMA)
    return do_read_rdma(s, e, &q, fid);
#endif
  if (q.length > IO_MAX)
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  uint32_t got = 0;
  uint32_t st = posixfs_read(s->fs, fid, q.offset, s->scratch, q.length, &got);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  if (got < q.minimum_count)
    return respond_err(s, e, SMBX_STATUS_END_OF_FILE);
  smbx_smb2_read_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.data.len = got; /* data.p NULL: fixed part only, data gathered */
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_ssize n = smbx_smb2_encode_read_resp(&h, &rs, s->resp, SCRATCH, NULL);
  if (n < 80)
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  smbx_iov iov[2] = {{s->resp + 64, 16}, {s->scratch, got}};
  return smbx_server_respond_iov(s->srv, e->conn, e->u.pdu.req, 0, iov,
                                 got ? 2 : 1, s->now);
}

static int do_write(server *s, const smbx_event *e)
{
  smbx_smb2_write_req q;
  if (smbx_smb2_decode_write_req(e->u.pdu.data, e->u.pdu.len, &q, NULL) ||
      (q.channel != 0 && !(e->flags & SMBX_EVF_RDMA)) ||
      q.data.len > UINT32_MAX)
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
#ifdef SMBX_HAVE_IBV
  if (e->flags & SMBX_EVF_RDMA)
    return do_write_rdma(s, e, &q, fid);
#endif
  uint32_t done = 0;
  uint32_t st = posixfs_write(s->fs, fid, q.offset, q.data.p,
                              (uint32_t)q.data.len, &done);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  open_rec *wo = open_find(s, e->conn, fid);
  if (wo) { /* a write takes R from the other leases (leases.md 3.3) */
    wo->wrote = true;
    lease_change(s, SMBX_LEASE_CHG_DATA, wo->lopen, &wo->key);
  }
  smbx_smb2_write_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.count = done;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  return respond_body(
      s, e, 0, smbx_smb2_encode_write_resp(&h, &rs, s->resp, SCRATCH, NULL));
}

static int do_flush(server *s, const smbx_event *e)
{
  smbx_smb2_flush_req q;
  if (smbx_smb2_decode_flush_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  uint32_t st = posixfs_flush(s->fs, fid);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  static const uint8_t body[4] = {4, 0, 0, 0};
  return smbx_server_respond(s->srv, e->conn, e->u.pdu.req, 0, body,
                             sizeof body, s->now);
}

/* ---- QUERY_DIRECTORY / QUERY_INFO / SET_INFO -------------------------------------- */

static int respond_output(server *s, const smbx_event *e, uint32_t status,
                          const uint8_t *p, size_t n, uint16_t command)
{
  smbx_smb2_output_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.output.p = p;
  rs.output.len = n;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_ssize r;
  if (command == SMBX_SMB2_QUERY_DIRECTORY)
    r = smbx_smb2_encode_query_directory_resp(&h, &rs, s->resp, SCRATCH, NULL);
  else if (command == SMBX_SMB2_CHANGE_NOTIFY)
    r = smbx_smb2_encode_change_notify_resp(&h, &rs, s->resp, SCRATCH, NULL);
  else
    r = smbx_smb2_encode_query_info_resp(&h, &rs, s->resp, SCRATCH, NULL);
  return respond_body(s, e, status, r);
}

static uint32_t cap_len(uint32_t want)
{
  return want > IO_MAX ? IO_MAX : want;
}

static int do_query_directory(server *s, const smbx_event *e)
{
  smbx_smb2_query_directory_req q;
  if (smbx_smb2_decode_query_directory_req(e->u.pdu.data, e->u.pdu.len, &q,
                                           NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  uint32_t n = 0;
  uint32_t st = posixfs_query_directory(
      s->fs, fid, q.info_class, q.flags, q.file_name.p, q.file_name.len,
      s->scratch, cap_len(q.output_buffer_length), &n);
  if (st != SMBX_STATUS_SUCCESS && st != SMBX_STATUS_BUFFER_OVERFLOW)
    return respond_err(s, e, st);
  return respond_output(s, e, st, s->scratch, n, SMBX_SMB2_QUERY_DIRECTORY);
}

/* BUFFER_TOO_SMALL carries the size needed as ErrorData (MS-SMB2
 * 3.3.5.20.3: security descriptors, EA lists). */
static int respond_too_small(server *s, const smbx_event *e, uint32_t need)
{
  uint8_t d[4] = {(uint8_t)need, (uint8_t)(need >> 8), (uint8_t)(need >> 16),
                  (uint8_t)(need >> 24)};
  return smbx_server_respond_error(s->srv, e->conn, e->u.pdu.req,
                                   SMBX_STATUS_BUFFER_TOO_SMALL, d, sizeof d,
                                   s->now);
}

static int do_query_info(server *s, const smbx_event *e)
{
  smbx_smb2_query_info_req q;
  if (smbx_smb2_decode_query_info_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  uint32_t n = 0;
  if (q.info_type == SMBX_SMB2_0_INFO_SECURITY) {
    uint32_t st = posixfs_query_security(s->fs, fid, q.additional_information,
                                         s->scratch,
                                         cap_len(q.output_buffer_length), &n);
    if (st == SMBX_STATUS_BUFFER_TOO_SMALL)
      return respond_too_small(s, e, n);
    if (st != SMBX_STATUS_SUCCESS)
      return respond_err(s, e, st);
    return respond_output(s, e, st, s->scratch, n, SMBX_SMB2_QUERY_INFO);
  }
  /* FileNormalizedNameInformation exists from 3.1.1 on (MS-SMB2 3.3.5.20.1) */
  client *qc = client_by_conn(s, e->conn);
  if (q.info_type == SMBX_SMB2_0_INFO_FILE &&
      q.file_info_class == POSIXFS_FILE_NORMALIZED_NAME_INFORMATION &&
      (!qc || qc->dialect < SMBX_SMB2_DIALECT_311))
    return respond_err(s, e, SMBX_STATUS_NOT_SUPPORTED);
  uint32_t st = posixfs_query_info(s->fs, fid, q.info_type, q.file_info_class,
                                   s->scratch,
                                   cap_len(q.output_buffer_length), &n);
  if (st == SMBX_STATUS_BUFFER_TOO_SMALL) /* FileFullEaInformation */
    return respond_too_small(s, e, n);
  if (st != SMBX_STATUS_SUCCESS && st != SMBX_STATUS_BUFFER_OVERFLOW)
    return respond_err(s, e, st);
  /* FileFsVolumeInformation (18 bytes + label): posixfs leaves the label
   * empty; Samba's client refuses a reply under 24 bytes and fails on an
   * empty label, so the share name becomes the label (as Samba does) */
  if (st == SMBX_STATUS_SUCCESS && q.info_type == SMBX_SMB2_0_INFO_FILESYSTEM &&
      q.file_info_class == POSIXFS_FS_VOLUME_INFORMATION && n >= 18) {
    uint8_t label[128];
    size_t ln = 0;
    if (smbx_utf8_to_utf16le((const uint8_t *)s->share, strlen(s->share),
                             label, sizeof label, &ln) == 0 &&
        18 + ln <= q.output_buffer_length && 18 + ln <= IO_MAX) {
      s->scratch[12] = (uint8_t)ln; /* VolumeLabelLength (u32 LE) */
      s->scratch[13] = (uint8_t)(ln >> 8);
      s->scratch[14] = s->scratch[15] = 0;
      memcpy(s->scratch + 18, label, ln);
      n = (uint32_t)(18 + ln);
      if (((n + 7u) & ~7u) <= q.output_buffer_length) { /* pad as Windows */
        memset(s->scratch + n, 0, ((n + 7u) & ~7u) - n);
        n = (n + 7u) & ~7u;
      }
    }
  }
  return respond_output(s, e, st, s->scratch, n, SMBX_SMB2_QUERY_INFO);
}

static int set_info_step(server *s, const smbx_event *e, bool resumed);

static int do_set_info(server *s, const smbx_event *e)
{
  return set_info_step(s, e, false);
}

/* resumed: the H breaks a rename needs were acknowledged (leases.md 3.3) */
static int set_info_step(server *s, const smbx_event *e, bool resumed)
{
  smbx_smb2_set_info_req q;
  if (smbx_smb2_decode_set_info_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  open_rec *ro = open_find(s, e->conn, fid);
  if (!ro)
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  if (!resumed && q.info_type == SMBX_SMB2_0_INFO_FILE &&
      (q.file_info_class == 10 || q.file_info_class == 65) && ro->key.valid) {
    /* a rename takes H from the other leases first and waits */
    smbx_lease_change c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.kind = SMBX_LEASE_CHG_HANDLES;
    c.open = ro->lopen;
    c.user = e->u.pdu.req;
    posixfs_key_file_key(&ro->key, c.file_key);
    if (smbx_lease_change_report(s->lm, &c, s->now) == 1)
      return lease_park(s, e, NULL, 4);
  }
  uint32_t st =
      q.info_type == SMBX_SMB2_0_INFO_SECURITY
          ? posixfs_set_security(s->fs, fid, q.additional_information,
                                 q.buffer.p, q.buffer.len)
          : posixfs_set_info(s->fs, fid, q.info_type, q.file_info_class,
                             q.buffer.p, q.buffer.len);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  open_rec *so = open_find(s, e->conn, fid);
  if (so && q.info_type == SMBX_SMB2_0_INFO_FILE) {
    uint8_t cls = q.file_info_class;
    if (cls == 13 || cls == 64) { /* disposition: the delete comes at close */
      so->doc = q.buffer.len > 0 && (q.buffer.p[0] & 1);
    } else {
      if (cls == 19 || cls == 20) /* allocation, EOF: the data changed */
        lease_change(s, SMBX_LEASE_CHG_DATA, so->lopen, &so->key);
      /* attributes, times, size, rename: the directory changed */
      lease_change(s, SMBX_LEASE_CHG_CHILD, so->lopen, &so->parent);
      /* FILE_RENAME_INFORMATION: FileNameLength @16, FileName @20; a
       * rename into another directory changes that one too, and the
       * open's object now lives there */
      if ((cls == 10 || cls == 65) && q.buffer.len >= 20) {
        const uint8_t *b = q.buffer.p;
        uint32_t nl = (uint32_t)b[16] | (uint32_t)b[17] << 8 |
                      (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
        posixfs_key obj, dir;
        if (nl <= q.buffer.len - 20 &&
            posixfs_lookup(s->fs, b + 20, nl, &obj, &dir) ==
                SMBX_STATUS_SUCCESS &&
            dir.valid &&
            (dir.dev != so->parent.dev || dir.ino != so->parent.ino)) {
          lease_change(s, SMBX_LEASE_CHG_CHILD, so->lopen, &dir);
          so->parent = dir;
        }
      }
    }
  }
  static const uint8_t body[2] = {2, 0};
  return smbx_server_respond(s->srv, e->conn, e->u.pdu.req, 0, body,
                             sizeof body, s->now);
}

/* ---- LOCK ------------------------------------------------------------------------- */

static int lock_ok(server *s, uint64_t conn, uint64_t req)
{
  static const uint8_t body[4] = {4, 0, 0, 0};
  return smbx_server_respond(s->srv, conn, req, 0, body, sizeof body, s->now);
}

static int do_lock(server *s, const smbx_event *e)
{
  smbx_smb2_lock_req q;
  if (smbx_smb2_decode_lock_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  size_t n = q.lock_count;
  smbx_smb2_lock_element *el = calloc(n ? n : 1, sizeof *el);
  if (!el)
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  for (size_t i = 0; i < n; i++)
    if (smbx_smb2_lock_req_get(&q, i, &el[i]) != 0) {
      free(el);
      return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
    }
  uint64_t epoch = posixfs_lock_epoch(s->fs);
  uint32_t st = posixfs_lock(s->fs, fid, el, n);
  if (st != SMBX_STATUS_PENDING) {
    free(el);
    if (st != SMBX_STATUS_SUCCESS)
      return respond_err(s, e, st);
    open_rec *lo = open_find(s, e->conn, fid);
    if (lo) /* a byte-range lock takes R from the other leases */
      lease_change(s, SMBX_LEASE_CHG_DATA, lo->lopen, &lo->key);
    return lock_ok(s, e->conn, e->u.pdu.req);
  }
  if (mid_chain(e)) {
    free(el);
    return respond_err(s, e, 0xC00000E5u /* INTERNAL_ERROR */);
  }
  pending *p = pending_add(s);
  if (!p) {
    free(el);
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  }
  p->kind = 2;
  p->conn = e->conn;
  p->req = e->u.pdu.req;
  p->fid = fid;
  p->locks = el;
  p->n_locks = n;
  p->epoch = epoch;
  int rc = smbx_server_go_async(s->srv, e->conn, e->u.pdu.req, s->now, NULL);
  if (e->hold)
    (void)smbx_server_release(s->srv, e->conn, e->hold, s->now);
  return rc;
}

static void retry_locks(server *s)
{
  uint64_t epoch = posixfs_lock_epoch(s->fs);
  for (size_t i = 0; i < s->n_pend;) {
    pending *p = &s->pend[i];
    if (p->kind != 2 || p->epoch == epoch) {
      i++;
      continue;
    }
    p->epoch = epoch;
    uint32_t st = posixfs_lock(s->fs, p->fid, p->locks, p->n_locks);
    if (st == SMBX_STATUS_PENDING) {
      i++;
      continue;
    }
    if (st == SMBX_STATUS_SUCCESS)
      (void)lock_ok(s, p->conn, p->req);
    else
      (void)smbx_server_respond_error(s->srv, p->conn, p->req, st, NULL, 0,
                                      s->now);
    pending_drop(s, i);
  }
}

/* ---- CHANGE_NOTIFY ------------------------------------------------------------ */

static void notify_answer(server *s, uint64_t conn, uint64_t req,
                          uint32_t st, uint32_t n)
{
  smbx_smb2_output_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.output.p = s->scratch;
  rs.output.len = st == SMBX_STATUS_SUCCESS ? n : 0;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  if (st != SMBX_STATUS_SUCCESS && st != SMBX_STATUS_NOTIFY_ENUM_DIR) {
    (void)smbx_server_respond_error(s->srv, conn, req, st, NULL, 0, s->now);
    return;
  }
  smbx_ssize r =
      smbx_smb2_encode_change_notify_resp(&h, &rs, s->resp, SCRATCH, NULL);
  if (r >= 64)
    (void)smbx_server_respond(s->srv, conn, req, st, s->resp + 64,
                              (size_t)r - 64, s->now);
}

static int do_notify(server *s, const smbx_event *e)
{
  smbx_smb2_change_notify_req q;
  if (smbx_smb2_decode_change_notify_req(e->u.pdu.data, e->u.pdu.len, &q,
                                         NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  open_rec *o = open_find(s, e->conn, fid);
  if (!o)
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  if (q.output_buffer_length > IO_MAX) /* above MaxTransactSize */
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  /* the first request's buffer stays the handle's limit, as on Windows
   * and Samba: one too small for an entry makes every answer
   * NOTIFY_ENUM_DIR (smbtorture smb2.notify.valid-req) */
  if (!o->notified) {
    o->notified = true;
    o->notify_cap = q.output_buffer_length;
  }
  uint32_t st = posixfs_notify_watch(s->fs, fid, q.completion_filter,
                                     (q.flags & SMBX_SMB2_WATCH_TREE) != 0);
  if (st != SMBX_STATUS_SUCCESS)
    return respond_err(s, e, st);
  uint32_t n = 0;
  uint32_t cap = q.output_buffer_length < o->notify_cap ? q.output_buffer_length
                                                        : o->notify_cap;
  st = posixfs_notify_take(s->fs, fid, s->scratch, cap, &n);
  if (st != SMBX_STATUS_PENDING) {
    notify_answer(s, e->conn, e->u.pdu.req, st, n);
    return 0;
  }
  if (mid_chain(e))
    return respond_err(s, e, 0xC00000E5u /* INTERNAL_ERROR */);
  pending *p = pending_add(s);
  if (!p)
    return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
  p->kind = 1;
  p->conn = e->conn;
  p->req = e->u.pdu.req;
  p->fid = fid;
  p->out_len = cap;
  int rc = smbx_server_go_async(s->srv, e->conn, e->u.pdu.req, s->now, NULL);
  if (e->hold)
    (void)smbx_server_release(s->srv, e->conn, e->hold, s->now);
  return rc;
}

/* Completes the waiting CHANGE_NOTIFYs that have something to say: queued
 * events, or a watched directory that became delete-pending (no inotify
 * event: the directory is still there while a handle is open). */
static void notify_complete(server *s)
{
  for (size_t i = 0; i < s->n_pend;) {
    pending *p = &s->pend[i];
    if (p->kind != 1) {
      i++;
      continue;
    }
    uint32_t n = 0;
    uint32_t st = posixfs_notify_take(s->fs, p->fid, s->scratch, p->out_len,
                                      &n);
    if (st == SMBX_STATUS_PENDING) {
      i++;
      continue;
    }
    notify_answer(s, p->conn, p->req, st, n);
    pending_drop(s, i);
  }
}

static void do_cancel(server *s, const smbx_event *e)
{
  for (size_t i = 0; i < s->n_pend; i++)
    if (s->pend[i].conn == e->conn && s->pend[i].req == e->u.pdu.req) {
      if (s->pend[i].kind >= 3)
        lease_park_drop(s, &s->pend[i]);
      (void)smbx_server_respond_error(s->srv, e->conn, e->u.pdu.req,
                                      SMBX_STATUS_CANCELLED, NULL, 0, s->now);
      pending_drop(s, i);
      return;
    }
}

/* ---- IOCTL -------------------------------------------------------------------- */

static int ioctl_reply(server *s, const smbx_event *e,
                       const smbx_smb2_ioctl_req *q, const uint8_t *out,
                       size_t n)
{
  smbx_smb2_ioctl_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.ctl_code = q->ctl_code;
  rs.file_id = q->file_id;
  rs.output.p = out;
  rs.output.len = n;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  return respond_body(
      s, e, 0, smbx_smb2_encode_ioctl_resp(&h, &rs, s->resp, SCRATCH, NULL));
}

static int do_ioctl(server *s, const smbx_event *e)
{
  smbx_smb2_ioctl_req q;
  if (smbx_smb2_decode_ioctl_req(e->u.pdu.data, e->u.pdu.len, &q, NULL))
    return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
  if (!(q.flags & SMBX_SMB2_IOCTL_IS_FSCTL))
    return respond_err(s, e, SMBX_STATUS_NOT_SUPPORTED);
  client *c = client_by_conn(s, e->conn);
  if (q.ctl_code == SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO) {
    smbx_smb2_vni_req v;
    if (!c || smbx_smb2_vni_req_decode(q.input.p, q.input.len, &v, NULL))
      return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
    if (q.max_output_response < 24)
      return respond_err(s, e, SMBX_STATUS_INVALID_PARAMETER);
    smbx_smb2_vni_resp r;
    memset(&r, 0, sizeof r);
    r.capabilities = c->caps;
    memcpy(r.guid, s->guid, 16);
    r.security_mode = s->security_mode;
    r.dialect = c->dialect;
    uint8_t out[24];
    smbx_ssize n = smbx_smb2_vni_resp_encode(&r, out, sizeof out, NULL);
    if (n != 24)
      return respond_err(s, e, SMBX_STATUS_INSUFFICIENT_RESOURCES);
    return ioctl_reply(s, e, &q, out, 24);
  }
  if (q.ctl_code == SMBX_SMB2_FSCTL_DFS_GET_REFERRALS ||
      q.ctl_code == 0x000601B0u /* DFS_GET_REFERRALS_EX */)
    return respond_err(s, e, 0xC000019Cu /* FS_DRIVER_REQUIRED */);
  if (q.ctl_code == SMBX_SMB2_FSCTL_PIPE_TRANSCEIVE)
    return respond_err(s, e, SMBX_STATUS_NOT_SUPPORTED);
  /* the rest act on a file: an unknown handle is FILE_CLOSED first */
  smbx_smb2_fileid fid = req_fid(e, q.file_id);
  if (!open_find(s, e->conn, fid))
    return respond_err(s, e, SMBX_STATUS_FILE_CLOSED);
  if (q.ctl_code == 0x000900C0u /* FSCTL_CREATE_OR_GET_OBJECT_ID */) {
    /* FILE_OBJECTID_BUFFER: ObjectId = the file's inode number
     * (FileInternalInformation); the birth and domain ids stay zero */
    uint8_t out[64];
    memset(out, 0, sizeof out);
    uint32_t n = 0;
    if (posixfs_query_info(s->fs, fid, SMBX_SMB2_0_INFO_FILE,
                           SMBX_SMB2_FILE_INTERNAL_INFORMATION, out, 8,
                           &n) != SMBX_STATUS_SUCCESS ||
        n != 8)
      return respond_err(s, e, SMBX_STATUS_INVALID_DEVICE_REQUEST);
    if (q.max_output_response < sizeof out)
      return respond_err(s, e, SMBX_STATUS_BUFFER_TOO_SMALL);
    return ioctl_reply(s, e, &q, out, sizeof out);
  }
  return respond_err(s, e, SMBX_STATUS_INVALID_DEVICE_REQUEST);
}

/* ---- sessions and trees ----------------------------------------------------------- */

static accept_rec *accept_get(server *s, uint64_t conn, uint64_t session,
                              bool make)
{
  accept_rec *free_slot = NULL;
  for (size_t i = 0; i < sizeof s->accepts / sizeof s->accepts[0]; i++) {
    accept_rec *a = &s->accepts[i];
    if (a->a && a->conn == conn && a->session == session)
      return a;
    if (!a->a && !free_slot)
      free_slot = a;
  }
  if (!make || !free_slot)
    return NULL;
  if (sxauth_accept_new(&free_slot->a, s->auth) != 0) {
    free_slot->a = NULL;
    return NULL;
  }
  free_slot->conn = conn;
  free_slot->session = session;
  return free_slot;
}

static int do_session(server *s, const smbx_event *e)
{
  uint64_t conn = e->conn, req = e->u.session.req;
  accept_rec *a = accept_get(s, conn, e->u.session.session_id, true);
  if (!a)
    return smbx_server_session_respond(s->srv, conn, req,
                                       SMBX_STATUS_INSUFFICIENT_RESOURCES,
                                       NULL, 0, NULL, 0, 0, s->now);
  const uint8_t *out = NULL;
  size_t out_len = 0;
  int st = sxauth_accept_step(a->a, e->u.session.blob, e->u.session.blob_len,
                              &out, &out_len);
  if (st == SXAUTH_CONTINUE)
    return smbx_server_session_respond(s->srv, conn, req,
                                       SMBX_STATUS_MORE_PROCESSING_REQUIRED,
                                       out, out_len, NULL, 0, 0, s->now);
  int rc;
  if (st != SXAUTH_DONE) {
    logf_("logon failed: %s\n", sxauth_accept_error(a->a));
    rc = smbx_server_session_respond(s->srv, conn, req,
                                     SMBX_STATUS_LOGON_FAILURE, NULL, 0, NULL,
                                     0, 0, s->now);
  } else {
    sxauth_result r;
    (void)sxauth_accept_result(a->a, &r);
    uint16_t flags = r.session_flags;
    if (s->encrypt && r.has_key)
      flags |= SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA;
    logf_("logon: user '%s' (%s)\n", r.user,
          r.kind == SXAUTH_KIND_USER    ? "user"
          : r.kind == SXAUTH_KIND_GUEST ? "guest"
                                        : "anonymous");
    /* the node refuses a binding by another user than the session's */
    size_t ul = r.user ? strlen(r.user) : 0;
    if (r.kind == SXAUTH_KIND_USER && ul && ul <= SMBX_SERVER_USER_MAX)
      (void)smbx_server_session_user(s->srv, conn, req,
                                     (const uint8_t *)r.user, ul);
    rc = smbx_server_session_respond(s->srv, conn, req, SMBX_STATUS_SUCCESS,
                                     out, out_len,
                                     r.has_key ? r.session_key : NULL,
                                     r.has_key ? 16 : 0, flags, s->now);
    client *bc = client_by_conn(s, conn);
    if (rc == 0 && bc &&
        (e->u.session.req_flags & SMBX_SMB2_SESSION_FLAG_BINDING)) {
      size_t k = 0;
      while (k < MAX_BOUND && bc->bound[k])
        k++;
      if (k < MAX_BOUND)
        bc->bound[k] = e->u.session.session_id;
      logf_("conn %llu bound to session 0x%llx%s\n", (unsigned long long)conn,
            (unsigned long long)e->u.session.session_id,
            k < MAX_BOUND ? "" : " (table full: its opens stay elsewhere)");
    }
  }
  sxauth_accept_free(a->a);
  a->a = NULL;
  return rc;
}

static int do_tree(server *s, const smbx_event *e)
{
  uint8_t path[1024];
  size_t n = 0;
  uint32_t st = SMBX_STATUS_BAD_NETWORK_NAME;
  bool ipc = false;
  if (smbx_utf16le_to_utf8(e->u.tree.path, e->u.tree.path_len, path,
                           sizeof path - 1, &n) == 0) {
    path[n] = 0;
    const char *name = strrchr((const char *)path, '\\');
    name = name ? name + 1 : (const char *)path;
    ipc = strcasecmp(name, "IPC$") == 0;
    if (strcasecmp(name, s->share) == 0 || ipc)
      st = SMBX_STATUS_SUCCESS;
    /* clients that connect to IPC$ first (share enumeration, DFS) get a
       pipe share; opening a pipe there fails (is_ipc_tree) */
    if (ipc && s->n_ipc == sizeof s->ipc / sizeof s->ipc[0])
      st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    logf_("tree connect '%s': %s\n", (const char *)path,
          st ? "refused" : "ok");
  }
  smbx_smb2_tree_connect_resp r;
  memset(&r, 0, sizeof r);
  r.share_type = ipc ? SMBX_SMB2_SHARE_TYPE_PIPE : SMBX_SMB2_SHARE_TYPE_DISK;
  r.maximal_access = POSIXFS_FILE_ALL_ACCESS;
  /* the node refuses (ACCESS_DENIED) a session that cannot encrypt, and
   * fails any request on the tree that did not arrive encrypted */
  if (s->share_encrypt && !ipc)
    r.share_flags |= SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA;
  uint32_t tree = 0;
  int rc = smbx_server_tree_respond(s->srv, e->conn, e->u.tree.req, st, &r,
                                    s->now, &tree);
  if (rc == SMBX_ERR_AUTH) {
    logf_("tree connect refused: the share encrypts, the session cannot\n");
    return 0;
  }
  if (rc == 0 && st == SMBX_STATUS_SUCCESS && ipc)
    s->ipc[s->n_ipc++] = (ipc_tree){e->conn, e->u.tree.session_id, tree};
  return rc;
}

/* ---- the event loop --------------------------------------------------------------- */

static int do_request(server *s, const smbx_event *e)
{
  if (e->u.pdu.hdr.command == SMBX_SMB2_CREATE && is_ipc_tree(s, e))
    return respond_err(s, e, SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  switch (e->u.pdu.hdr.command) {
  case SMBX_SMB2_CREATE:
    return do_create(s, e);
  case SMBX_SMB2_CLOSE:
    return do_close(s, e);
  case SMBX_SMB2_READ:
    return do_read(s, e);
  case SMBX_SMB2_WRITE:
    return do_write(s, e);
  case SMBX_SMB2_FLUSH:
    return do_flush(s, e);
  case SMBX_SMB2_QUERY_DIRECTORY:
    return do_query_directory(s, e);
  case SMBX_SMB2_QUERY_INFO:
    return do_query_info(s, e);
  case SMBX_SMB2_SET_INFO:
    return do_set_info(s, e);
  case SMBX_SMB2_LOCK:
    return do_lock(s, e);
  case SMBX_SMB2_IOCTL:
    return do_ioctl(s, e);
  case SMBX_SMB2_CHANGE_NOTIFY:
    return do_notify(s, e);
  case SMBX_SMB2_OPLOCK_BREAK:
    return do_break_ack(s, e);
  case SMBX_SMB2_ECHO: {
    static const uint8_t body[4] = {4, 0, 0, 0};
    return smbx_server_respond(s->srv, e->conn, e->u.pdu.req, 0, body,
                               sizeof body, s->now);
  }
  default:
    return respond_err(s, e, SMBX_STATUS_NOT_SUPPORTED);
  }
}

static void drain(server *s)
{
  smbx_event e;
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  while (smbx_server_next_event(s->srv, &e) == 1) {
    int rc = 0;
    client *c;
    switch (e.type) {
    case SMBX_EV_NEGOTIATED:
      c = client_by_conn(s, e.conn);
      if (c) {
        c->dialect = e.u.negotiated.dialect;
        /* what the NEGOTIATE response advertised (VALIDATE_NEGOTIATE) */
        c->caps = e.u.negotiated.own_capabilities;
        c->neg_caps = e.u.negotiated.capabilities;
        memcpy(c->guid, e.u.negotiated.guid, 16);
      }
      logf_("conn %llu negotiated dialect 0x%04x\n",
            (unsigned long long)e.conn, e.u.negotiated.dialect);
      break;
    case SMBX_EV_SESSION_SETUP:
      rc = do_session(s, &e);
      break;
    case SMBX_EV_SESSION_DOWN:
      /* LOGOFF, connection loss, or a reconnect's PreviousSessionId
       * (MS-SMB2 3.3.5.5.3): its opens close either way (pending
       * CHANGE_NOTIFYs complete NOTIFY_CLEANUP) */
      if (e.u.session.status == SMBX_STATUS_USER_SESSION_DELETED)
        logf_("session 0x%llx expired by a reconnect\n",
              (unsigned long long)e.u.session.session_id);
      close_opens(s, e.conn, e.u.session.session_id, 0);
      break;
    case SMBX_EV_TREE_CONNECT:
      rc = do_tree(s, &e);
      break;
    case SMBX_EV_TREE_DISCONNECT:
      close_opens(s, e.conn, e.u.tree.session_id, e.u.tree.tree_id);
      break;
    case SMBX_EV_REQUEST:
      rc = do_request(s, &e);
      if (rc < 0 && rc > SMBX_ERR_FATAL) {
        /* the answer did not go out (e.g. RANGE): fail the request so
         * the client is not left waiting and the bytes are released */
        (void)smbx_server_respond_error(s->srv, e.conn, e.u.pdu.req,
                                        SMBX_STATUS_INSUFFICIENT_RESOURCES,
                                        NULL, 0, s->now);
        if (e.hold)
          (void)smbx_server_release(s->srv, e.conn, e.hold, s->now);
      }
      /* breaks this request caused go out now, ahead of the rest of its
       * compound (as Samba; smbtorture lease.rename_wait), unless a
       * member of this message was granted a lease: its response must go
       * first (breaks then wait for the end of the message) */
      if (e.flags & SMBX_EVF_LAST) {
        s->lease_hold = false;
        lease_drain(s);
      } else if (!s->lease_hold) {
        lease_drain(s);
      }
      break;
    case SMBX_EV_CANCEL:
      do_cancel(s, &e);
      break;
#ifdef SMBX_HAVE_IBV
    case SMBX_EV_SMBD: /* disconnect / free the QP (SMB Direct) */
      if (s->ibv)
        (void)smbx_ibv_smbd_event(s->ibv, &e);
      break;
    case SMBX_EV_RDMA_DONE:
      rdma_done(s, &e);
      break;
    case SMBX_EV_CONN_UP: /* SMB Direct negotiated */
      if (s->ibv && smbx_ibv_has_conn(s->ibv, e.conn))
        rdma_client_add(s, e.conn);
      break;
#endif
    case SMBX_EV_CONN_DOWN:
      logf_("conn %llu down: %s\n", (unsigned long long)e.conn,
            e.u.down.reason ? e.u.down.reason : "");
      c = client_by_conn(s, e.conn);
      if (c)
        c->closing = true;
      forget_conn(s, e.conn);
      break;
    default:
      break;
    }
    if (rc < 0)
      logf_("answer failed on conn %llu: %s\n", (unsigned long long)e.conn,
            smbx_strerror(rc));
    /* anything still held and not async is released here */
    if (e.hold && e.type != SMBX_EV_REQUEST &&
        e.type != SMBX_EV_SESSION_SETUP && e.type != SMBX_EV_TREE_CONNECT)
      (void)smbx_server_release(s->srv, e.conn, e.hold, s->now);
  }
  lease_drain(s);
}

static void client_free(server *s, size_t i)
{
  client *c = s->clients[i];
  if (!c)
    return;
  forget_conn(s, c->conn);
  if (!c->rdma) { /* SMB Direct: the glue closes it when the QP is done */
    (void)smbx_server_close_conn(s->srv, c->conn, s->now);
    drain(s);
    close(c->fd);
  }
  free(c->out);
  free(c);
  s->clients[i] = NULL;
}

static void accept_clients(server *s, int lfd)
{
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    size_t slot = MAX_CLIENTS;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
      if (!s->clients[i]) {
        slot = i;
        break;
      }
    client *c = slot < MAX_CLIENTS ? calloc(1, sizeof *c) : NULL;
    if (!c) {
      close(fd);
      continue;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->s = s;
    smbx_tcp_hooks h = {sizeof h, c, tcp_send};
    if (smbx_server_add_tcp(s->srv, &h, s->now, &c->conn) != 0) {
      close(fd);
      free(c);
      continue;
    }
    s->clients[slot] = c;
    logf_("conn %llu accepted\n", (unsigned long long)c->conn);
  }
}

static void read_client(server *s, client *c)
{
  for (int rounds = 0; rounds < 16 && !c->dead; rounds++) {
    ssize_t n = recv(c->fd, s->rbuf, sizeof s->rbuf, 0);
    if (n == 0) {
      c->dead = true;
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        c->dead = true;
      return;
    }
    if (s->pcap && !s->pcap_used) { /* the first client that talks */
      c->pcap = true;
      s->pcap_used = true;
    }
    if (c->pcap && s->pcap)
      (void)pcapw_tcp(s->pcap, 0, s->rbuf, (size_t)n);
    size_t off = 0;
    while (off < (size_t)n) {
      s->now = now_ns();
      smbx_ssize r = smbx_server_tcp_feed(s->srv, c->conn, s->rbuf + off,
                                          (size_t)n - off, s->now);
      if (r < 0) {
        drain(s);
        c->dead = true;
        return;
      }
      off += (size_t)r;
      drain(s);
      if (r == 0) {
        /* split message still held: should not happen (everything is
         * answered or released in drain) */
        c->dead = true;
        return;
      }
    }
    if (c->out_len - c->out_off > OUT_HIGH)
      return;
  }
}

/* ---- configuration --------------------------------------------------------------- */

typedef struct config {
  sxauth_user users[MAX_USERS];
  char *strings[2 * MAX_USERS]; /* owned copies behind users[] */
  size_t n_users;
  int guest;
  int encrypt;
  int share_encrypt;
  int signing_required;
  int no_large_mtu;
  int multichannel;
  int dir_write; /* grant W on directories (SMBX_LEASE_DIR_WRITE) */
} config;

static char *trim(char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  size_t n = strlen(p);
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' ||
               p[n - 1] == '\r'))
    p[--n] = 0;
  return p;
}

static bool yes(const char *v)
{
  return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1");
}

/* Lines: `user:password`, `guest = yes|no`, `encrypt = yes|no`,
 * `share_encrypt = yes|no`, `signing = required|enabled`, `large_mtu = yes|no`,
 * `directory_write_leases = yes|no`; `#` starts a
 * comment. */
static int load_config(const char *path, config *cfg)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "smbx-server: %s: %s\n", path, strerror(errno));
    return -1;
  }
  char line[512];
  int ln = 0;
  while (fgets(line, sizeof line, f)) {
    ln++;
    char *p = trim(line);
    if (!*p || *p == '#')
      continue;
    char *eq = strchr(p, '=');
    char *colon = strchr(p, ':');
    if (eq && (!colon || eq < colon)) {
      *eq = 0;
      char *k = trim(p), *v = trim(eq + 1);
      if (!strcasecmp(k, "guest"))
        cfg->guest = yes(v);
      else if (!strcasecmp(k, "encrypt"))
        cfg->encrypt = yes(v);
      else if (!strcasecmp(k, "share_encrypt"))
        cfg->share_encrypt = yes(v);
      else if (!strcasecmp(k, "large_mtu"))
        cfg->no_large_mtu = !yes(v);
      else if (!strcasecmp(k, "multichannel"))
        cfg->multichannel = yes(v);
      else if (!strcasecmp(k, "directory_write_leases"))
        cfg->dir_write = yes(v);
      else if (!strcasecmp(k, "signing"))
        cfg->signing_required = !strcasecmp(v, "required") || yes(v);
      else
        fprintf(stderr, "smbx-server: %s:%d: unknown key '%s'\n", path, ln, k);
    } else if (colon && cfg->n_users < MAX_USERS) {
      *colon = 0;
      char *u = strdup(trim(p)), *pw = strdup(colon + 1);
      cfg->strings[2 * cfg->n_users] = u;
      cfg->strings[2 * cfg->n_users + 1] = pw;
      cfg->users[cfg->n_users].user = u;
      cfg->users[cfg->n_users].password = pw;
      cfg->n_users++;
      if (!u || !pw) {
        fclose(f);
        return -1;
      }
    } else {
      fprintf(stderr, "smbx-server: %s:%d: cannot parse\n", path, ln);
      fclose(f);
      return -1;
    }
  }
  fclose(f);
  return 0;
}

/* Link speed of a NIC in bit/s (Linux sysfs, Mb/s there); 10 Gb/s when
 * unknown (loopback, virtual NICs). */
static uint64_t link_speed(const char *ifname)
{
  char path[128];
  snprintf(path, sizeof path, "/sys/class/net/%s/speed", ifname);
  FILE *f = fopen(path, "r");
  long mbps = -1;
  if (f) {
    if (fscanf(f, "%ld", &mbps) != 1)
      mbps = -1;
    fclose(f);
  }
  return mbps > 0 ? (uint64_t)mbps * 1000000u : 10000000000ull;
}

/* Multichannel: the node answers FSCTL_QUERY_NETWORK_INTERFACE_INFO from
 * the listening addresses (a wildcard listener: every address of every
 * NIC that is up; [::] includes IPv4). The --rdma address is
 * RDMA_CAPABLE. */
static int advertise_interfaces(server *s, int lfd, const char *rdma_ip)
{
  struct sockaddr_storage la;
  socklen_t ll = sizeof la;
  memset(&la, 0, sizeof la);
  if (lfd >= 0 && getsockname(lfd, (struct sockaddr *)&la, &ll) != 0)
    return -1;
  struct in6_addr rdma6;
  struct in_addr rdma4;
  int rdma_fam = 0;
  if (rdma_ip && inet_pton(AF_INET, rdma_ip, &rdma4) == 1)
    rdma_fam = AF_INET;
  else if (rdma_ip && inet_pton(AF_INET6, rdma_ip, &rdma6) == 1)
    rdma_fam = AF_INET6;
  struct ifaddrs *all = NULL;
  if (getifaddrs(&all) != 0)
    return -1;
  smbx_smb2_netif ifs[SMBX_SERVER_MAX_INTERFACES];
  size_t n = 0;
  for (struct ifaddrs *a = all; a && n < SMBX_SERVER_MAX_INTERFACES;
       a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP))
      continue;
    int fam = a->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6)
      continue;
    const void *ip = fam == AF_INET
                         ? (const void *)&((struct sockaddr_in *)a->ifa_addr)
                               ->sin_addr
                         : (const void *)&((struct sockaddr_in6 *)a->ifa_addr)
                               ->sin6_addr;
    size_t iplen = fam == AF_INET ? 4 : 16;
    bool tcp = false;
    if (la.ss_family == AF_INET) {
      const struct sockaddr_in *l = (const struct sockaddr_in *)&la;
      tcp = fam == AF_INET && (l->sin_addr.s_addr == htonl(INADDR_ANY) ||
                               !memcmp(&l->sin_addr, ip, 4));
    } else if (la.ss_family == AF_INET6) {
      const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&la;
      tcp = IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr) ||
            (fam == AF_INET6 && !memcmp(&l->sin6_addr, ip, 16));
    }
    bool rdma = rdma_fam == fam &&
                !memcmp(fam == AF_INET ? (const void *)&rdma4
                                       : (const void *)&rdma6,
                        ip, iplen);
    unsigned idx = if_nametoindex(a->ifa_name);
    if ((!tcp && !rdma) || idx == 0)
      continue;
    smbx_smb2_netif *e = &ifs[n++];
    memset(e, 0, sizeof *e);
    e->if_index = idx;
    e->capability = rdma ? SMBX_SMB2_NETIF_RDMA_CAPABLE : 0;
    e->link_speed = link_speed(a->ifa_name);
    e->family = fam == AF_INET ? SMBX_SMB2_NETIF_FAMILY_INET
                               : SMBX_SMB2_NETIF_FAMILY_INET6;
    memcpy(e->addr, ip, iplen);
    if (fam == AF_INET6)
      e->scope_id = ((struct sockaddr_in6 *)a->ifa_addr)->sin6_scope_id;
  }
  freeifaddrs(all);
  int rc = smbx_server_set_interfaces(s->srv, ifs, n);
  if (rc == 0 && g_verbose)
    fprintf(stderr, "smbx-server: multichannel: %zu interface(s)\n", n);
  return rc;
}

static int listen_on(const char *spec)
{
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof host) {
    fprintf(stderr, "smbx-server: --listen wants ADDR:PORT\n");
    return -1;
  }
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = 0;
  char *h = host;
  if (h[0] == '[') { /* [v6]:port */
    h++;
    size_t n = strlen(h);
    if (n && h[n - 1] == ']')
      h[n - 1] = 0;
  }
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "smbx-server: %s: %s\n", spec, gai_strerror(rc));
    return -1;
  }
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  0);
  int one = 1;
  if (fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    fprintf(stderr, "smbx-server: listen on %s: %s\n", spec, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  return fd;
}

static void on_signal(int sig)
{
  (void)sig;
  g_stop = 1;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: smbx-server --listen ADDR:PORT --root DIR [--share NAME]\n"
          "                   [--config FILE] [--pcap FILE] [-v]\n"
          "                   [--rdma ADDR:PORT (SMB Direct; IB/RoCE: 445)]\n");
}

int main(int argc, char **argv)
{
  const char *listen_spec = NULL, *root = NULL, *share = "share",
             *config_path = NULL, *pcap_path = NULL, *rdma_spec = NULL;
#ifdef SMBX_HAVE_IBV
  if (smbx_lab_server_args(&argc, &argv) < 0)
    return 1;
#endif
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = NULL;
    if (!strcmp(a, "--listen"))
      dst = &listen_spec;
    else if (!strcmp(a, "--rdma"))
      dst = &rdma_spec;
    else if (!strcmp(a, "--root"))
      dst = &root;
    else if (!strcmp(a, "--share"))
      dst = &share;
    else if (!strcmp(a, "--config"))
      dst = &config_path;
    else if (!strcmp(a, "--pcap"))
      dst = &pcap_path;
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      g_verbose = 1;
      continue;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage();
      return 0;
    } else {
      usage();
      return 2;
    }
    if (++i >= argc) {
      usage();
      return 2;
    }
    *dst = argv[i];
  }
  if ((!listen_spec && !rdma_spec) || !root) {
    usage();
    return 2;
  }
#ifndef SMBX_HAVE_IBV
  if (rdma_spec) {
    fprintf(stderr, "smbx-server: built without rdma-core: no --rdma\n");
    return 2;
  }
#endif
  config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.guest = 1;
  if (config_path && load_config(config_path, &cfg) != 0)
    return 1;

  server *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  s->share = share;
  s->encrypt = cfg.encrypt != 0;
  s->share_encrypt = cfg.share_encrypt != 0;
  s->scratch = malloc(SCRATCH);
  s->resp = malloc(SCRATCH + 256);
  int ret = 1, lfd = -1;
  if (!s->scratch || !s->resp)
    goto out;
  int rc = posixfs_new(root, &s->fs);
  if (rc != 0) {
    fprintf(stderr, "smbx-server: %s: %s\n", root, strerror(-rc));
    goto out;
  }
  char err[256];
  if (smbx_openssl_new(&s->ossl, 0, err, sizeof err) != 0) {
    fprintf(stderr, "smbx-server: OpenSSL: %s\n", err);
    goto out;
  }
  if (sxauth_crypto_new(&s->auth_crypto) != 0) {
    fprintf(stderr, "smbx-server: sxauth: no OpenSSL legacy provider\n");
    goto out;
  }
  sxauth_server_config sc;
  memset(&sc, 0, sizeof sc);
  sc.users = cfg.users;
  sc.n_users = cfg.n_users;
  sc.allow_guest = cfg.guest;
  sc.allow_anonymous = cfg.guest;
  sc.crypto = s->auth_crypto;
  if (sxauth_server_new(&s->auth, &sc) != 0) {
    fprintf(stderr, "smbx-server: sxauth_server_new failed\n");
    goto out;
  }
  const uint8_t *blob = NULL;
  size_t blob_len = 0;
  (void)sxauth_server_negotiate_blob(s->auth, &blob, &blob_len);

  FILE *ur = fopen("/dev/urandom", "rb");
  if (!ur || fread(s->guid, 1, 16, ur) != 16) {
    fprintf(stderr, "smbx-server: /dev/urandom\n");
    if (ur)
      fclose(ur);
    goto out;
  }
  fclose(ur);

  smbx_server_settings ss;
  smbx_server_settings_default(&ss, sizeof ss);
  memcpy(ss.server_guid, s->guid, 16);
  ss.security_blob = blob;
  ss.security_blob_len = blob_len;
  ss.max_read_size = ss.max_write_size = ss.max_transact_size = IO_MAX;
  ss.credits_max = 8192; /* as Windows and Samba: smbtorture smb2.credits */
  ss.flags |= SMBX_SERVER_MIXED_COMPOUNDS; /* as Windows and Samba */
  if (cfg.signing_required)
    ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  if (cfg.multichannel)
    ss.capabilities |= SMBX_SMB2_CAP_MULTI_CHANNEL;
  if (cfg.no_large_mtu) { /* single-credit I/O only: 64 KiB messages */
    ss.capabilities &= ~(uint32_t)SMBX_SMB2_CAP_LARGE_MTU;
    ss.max_read_size = ss.max_write_size = ss.max_transact_size = 65536;
  }
  ss.capabilities |= SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  s->security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  if (cfg.signing_required)
    s->security_mode |= SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED;
  smbx_crypto cr;
  smbx_openssl_crypto(s->ossl, &cr);
  s->now = now_ns();
  smbx_lease_settings lset;
  smbx_lease_settings_default(&lset, sizeof lset);
  memcpy(&lset.hash_seed, s->guid, sizeof lset.hash_seed);
  lset.max_leases = lset.max_opens = lset.max_files = 65536;
  if (cfg.dir_write)
    lset.flags |= SMBX_LEASE_DIR_WRITE;
  if (smbx_lease_mgr_new(&s->lm, &lset, NULL) != 0) {
    fprintf(stderr, "smbx-server: lease manager\n");
    goto out;
  }
  rc = smbx_server_new(&s->srv, &ss, &cr, NULL, s->now);
  if (rc != 0) {
    fprintf(stderr, "smbx-server: smbx_server_new: %s\n", smbx_strerror(rc));
    goto out;
  }
  if (listen_spec && (lfd = listen_on(listen_spec)) < 0)
    goto out;
#ifdef SMBX_HAVE_IBV
  if (rdma_spec) {
    const char *colon = strrchr(rdma_spec, ':');
    char ip[256];
    if (!colon || (size_t)(colon - rdma_spec) >= sizeof ip) {
      fprintf(stderr, "smbx-server: --rdma wants ADDR:PORT\n");
      goto out;
    }
    memcpy(ip, rdma_spec, (size_t)(colon - rdma_spec));
    ip[colon - rdma_spec] = 0;
    smbx_ibv_node node;
    smbx_ibv_server_node(s->srv, &node);
    smbx_ibv_config icfg;
    smbx_ibv_config_default(&icfg);
    icfg.verbose = 1; /* connection events and error completions: rare */
    /* an inline 1 MiB WRITE (plus its header) reassembled in one buffer */
    icfg.smbd.max_fragmented_recv_size = IO_MAX + 64u * 1024u;
    if ((rc = smbx_ibv_new(&s->ibv, &node, &icfg)) != 0 ||
        (rc = smbx_ibv_listen(s->ibv, ip, (uint16_t)atoi(colon + 1))) != 0) {
      fprintf(stderr, "smbx-server: --rdma %s: %s\n", rdma_spec,
              strerror(-rc));
      goto out;
    }
  }
#endif
  if (cfg.multichannel) {
    char rip[256] = "";
    const char *rc2 = rdma_spec ? strrchr(rdma_spec, ':') : NULL;
    if (rc2 && (size_t)(rc2 - rdma_spec) < sizeof rip) {
      memcpy(rip, rdma_spec, (size_t)(rc2 - rdma_spec));
      rip[rc2 - rdma_spec] = 0;
    }
    if (advertise_interfaces(s, lfd, rip[0] ? rip : NULL) != 0) {
      fprintf(stderr, "smbx-server: multichannel: cannot list interfaces\n");
      goto out;
    }
  }
  if (pcap_path && listen_spec) {
    /* pcapw's default server port 445, whatever the real one: tshark reads
       the 24-bit Direct-TCP length only there (NBSS on another port has 17
       bits, so messages over 128 KiB would decode as malformed) */
    pcapw_opts po;
    memset(&po, 0, sizeof po);
    po.mss = 65000;
    s->pcap = pcapw_open(pcap_path, &po);
    if (!s->pcap) {
      fprintf(stderr, "smbx-server: cannot write %s\n", pcap_path);
      goto out;
    }
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "smbx-server: serving %s as \\\\%s on %s%s%s\n", root,
          share, listen_spec ? listen_spec : "",
          rdma_spec ? " rdma " : "", rdma_spec ? rdma_spec : "");
  if (rdma_spec) { /* the lab starts its client on this line */
    printf("smbx ready\n");
    fflush(stdout);
  }

  struct pollfd pfd[MAX_CLIENTS + 2 + 64];
  size_t map[MAX_CLIENTS + 2];
  while (!g_stop) {
    size_t np = 0;
    pfd[np++] = (struct pollfd){lfd, POLLIN, 0};
    pfd[np++] = (struct pollfd){posixfs_notify_fd(s->fs), POLLIN, 0};
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
      client *c = s->clients[i];
      if (!c)
        continue;
      short ev = 0;
      if (!c->closing && c->out_len - c->out_off <= OUT_HIGH)
        ev |= POLLIN;
      if (c->out_len > c->out_off)
        ev |= POLLOUT;
      map[np] = i;
      pfd[np++] = (struct pollfd){c->fd, ev, 0};
    }
    size_t n_tcp = np;
#ifdef SMBX_HAVE_IBV
    if (s->ibv)
      np += smbx_ibv_pollfds(s->ibv, pfd + np, 64);
#endif
    s->now = now_ns();
    uint64_t exp = smbx_server_expiry(s->srv);
    if (smbx_lease_expiry(s->lm) < exp)
      exp = smbx_lease_expiry(s->lm);
    int timeout = 1000;
    if (exp != UINT64_MAX) {
      uint64_t d = exp > s->now ? (exp - s->now + 999999) / 1000000 : 0;
      if (d < 1000)
        timeout = (int)d;
    }
    int n = poll(pfd, (nfds_t)np, timeout);
    if (n < 0 && errno != EINTR)
      break;
    s->now = now_ns();
    if (smbx_server_expiry(s->srv) <= s->now) {
      (void)smbx_server_handle_expiry(s->srv, s->now);
      drain(s);
    }
    if (smbx_lease_expiry(s->lm) <= s->now) { /* break-ack timeouts */
      (void)smbx_lease_handle_expiry(s->lm, s->now);
      lease_drain(s);
    }
#ifdef SMBX_HAVE_IBV
    if (s->ibv) { /* CM events, completions, connections that closed */
      (void)smbx_ibv_process(s->ibv, s->now);
      drain(s);
      rdma_sweep(s);
    }
#endif
    if (n <= 0)
      continue;
    if (pfd[1].revents & POLLIN)
      (void)posixfs_notify_drain(s->fs);
    for (size_t k = 2; k < n_tcp; k++) {
      client *c = s->clients[map[k]];
      if (!c)
        continue;
      if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
        read_client(s, c);
      if (pfd[k].revents & POLLOUT)
        flush_client(c);
    }
    if (pfd[0].revents & POLLIN)
      accept_clients(s, lfd);
    retry_locks(s);
    notify_complete(s);
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
      client *c = s->clients[i];
      if (!c)
        continue;
      flush_client(c);
      if (c->dead || (c->closing && c->out_off == c->out_len)) {
        logf_("conn %llu closed\n", (unsigned long long)c->conn);
        client_free(s, i);
      }
    }
  }
  fprintf(stderr, "smbx-server: shutting down\n");
  ret = 0;
out:
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i]) {
      flush_client(s->clients[i]);
      client_free(s, i);
    }
  if (lfd >= 0)
    close(lfd);
#ifdef SMBX_HAVE_IBV
  while (s->n_xfers)
    xfer_drop(s, 0);
  free(s->xfers);
  for (rdma_buf *b = s->rdma_free, *next; b; b = next) {
    next = b->next;
    smbx_ibv_deregister(s->ibv, b->handle);
    free(b->p);
    free(b);
  }
  smbx_ibv_free(s->ibv);
#endif
  for (size_t i = 0; i < s->n_pend; i++)
    free(s->pend[i].locks);
  free(s->pend);
  free(s->opens);
  for (size_t i = 0; i < sizeof s->accepts / sizeof s->accepts[0]; i++)
    sxauth_accept_free(s->accepts[i].a);
  smbx_server_free(s->srv);
  smbx_lease_mgr_free(s->lm);
  posixfs_free(s->fs);
  sxauth_server_free(s->auth);
  sxauth_crypto_free(s->auth_crypto);
  smbx_openssl_free(s->ossl);
  if (s->pcap && pcapw_close(s->pcap) != 0) {
    fprintf(stderr, "smbx-server: writing the pcap failed\n");
    ret = 1;
  }
  free(s->scratch);
  free(s->resp);
  free(s);
  for (size_t i = 0; i < cfg.n_users; i++) {
    free(cfg.strings[2 * i]);
    free(cfg.strings[2 * i + 1]);
  }
  return ret;
}
