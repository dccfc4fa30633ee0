/* SPDX-License-Identifier: MIT */
/* smbx-client: a small SMB2/3 client over TCP built on the smbx client
 * node (include/smbx/client.h), the SMB2 codec, sxauth (NTLMv2 in SPNEGO,
 * examples/auth) and the OpenSSL crypto adapter (examples/crypto).
 *
 *   smbx-client [options] //host[:port]/share CMD [ARGS]
 *   smbx-client [options] //host[:port]/share -c 'CMD1; CMD2; ...'
 *   smbx-client --rdma ... (SMB Direct through examples/ibverbs);
 *   smbx-client client OWN PEER PORT: the soft-RoCE lab's convention
 *
 * The node does no I/O and reads no clock: this host owns a blocking TCP
 * socket driven with poll(), feeds received bytes to the node, buffers the
 * bytes the node's send hook hands over, drives the node's timers with
 * CLOCK_MONOTONIC, and runs the authenticator. See docs/smbx-client.md. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <smbx/client.h>
#include <smbx/lease_client.h>
#include <smbx/smbx.h>

#include "pcapw.h"
#include "smbx_openssl.h"
#include "sxauth.h"
#ifdef SMBX_HAVE_IBV
#include "smbx_ibv.h"
#include "smbx_lab.h"
#endif

#define MIB (1024u * 1024u)
#define MAX_OPS 64u
#define WINDOW 16u /* pipelined READ/WRITE requests */
#define RBUF_CAP (4u * MIB)

/* SMB2 access masks, dispositions, options (MS-SMB2 2.2.13) */
#define A_READ_DATA 0x00000001u
#define A_WRITE_DATA 0x00000002u
#define A_APPEND_DATA 0x00000004u
#define A_READ_EA 0x00000008u
#define A_WRITE_EA 0x00000010u
#define A_READ_ATTRIBUTES 0x00000080u
#define A_WRITE_ATTRIBUTES 0x00000100u
#define A_DELETE 0x00010000u
#define A_READ_CONTROL 0x00020000u
#define A_SYNCHRONIZE 0x00100000u
#define DISP_OPEN 1u
#define DISP_CREATE 2u
#define DISP_OVERWRITE_IF 5u
#define OPT_DIRECTORY_FILE 0x00000001u
#define OPT_NON_DIRECTORY_FILE 0x00000040u
#define SHARE_ALL 7u
#define ATTR_DIRECTORY 0x10u

typedef struct op {
  bool used, done;
  uint64_t req;
  int err;
  uint32_t status;
  uint32_t flags;
  uint8_t *pdu;
  size_t len;
  uint64_t off; /* transfers: offset and length of this chunk */
  uint32_t n;
  uint32_t rdma_len; /* READ by RDMA (SMBX_EVF_RDMA): bytes placed */
  uint64_t conn;     /* the connection it was sent on */
} op;

typedef struct cl {
  int fd;
  struct smbx_ibv *ibv; /* --rdma: the rdma-core glue (examples/ibverbs) */
  bool conn_up;         /* SMB Direct negotiated (CONN_UP) */
  smbx_client *cli;
  uint64_t conn, sess;
  uint32_t tree;
  bool dead, want_sign, want_encrypt, verbose;
  int down_err;
  const char *down_reason;
  pcapw *pcap;
  /* socket buffers */
  uint8_t *rbuf;
  size_t rlen;
  uint8_t *obuf;
  size_t olen, ocap;
  /* results of the session-level events */
  bool negotiated, setup_done, session_up, tree_done, session_down;
  int ev_err;
  uint32_t ev_status;
  uint8_t *blob;
  size_t blob_len;
  uint16_t dialect, cipher, signing_alg, session_flags;
  uint32_t max_read, max_write;
  uint32_t tree_id;
  op ops[MAX_OPS];
  uint64_t unprotected; /* responses that arrived neither verified nor
                           encrypted while --sign/--encrypt asked */
  /* --leases: the node's lease table and directory cache */
  bool leases, watch;
  bool dir_write;  /* --dir-write: ls asks RWH directory leases */
  char wdir[512];  /* the directory last listed with --dir-write */
  uint8_t server_guid[16];
  uint32_t scope;
  bool invalidated;      /* a listing was dropped (SMBX_EV_DIR_INVALIDATE) */
  bool brk;              /* a lease break arrived (SMBX_EV_LEASE_BREAK) */
  uint8_t brk_key[16];
  uint32_t brk_from, brk_to, brk_actions, brk_flags;
  /* --multichannel: a second TCP connection bound to the session */
  struct {
    int fd;
    uint64_t conn;
    uint8_t *rbuf;
    size_t rlen;
    uint8_t *obuf;
    size_t olen, ocap;
    bool bound, dead;
  } ch2;
  uint64_t responses[2]; /* per channel: responses (PDU counters of the
                            connections) from the binding on */
  /* get / put: the XFER_DONE of each of the two segments (move_file) */
  struct {
    bool done;
    int err;
    uint32_t status;
    uint64_t bytes;
  } xd[2];
} cl;

static const char *g_prog = "smbx-client";

static void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", g_prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *status_name(uint32_t s)
{
  switch (s) {
  case SMBX_STATUS_SUCCESS: return "STATUS_SUCCESS";
  case SMBX_STATUS_NO_MORE_FILES: return "STATUS_NO_MORE_FILES";
  case SMBX_STATUS_INVALID_PARAMETER: return "STATUS_INVALID_PARAMETER";
  case SMBX_STATUS_NO_SUCH_FILE: return "STATUS_NO_SUCH_FILE";
  case SMBX_STATUS_END_OF_FILE: return "STATUS_END_OF_FILE";
  case SMBX_STATUS_ACCESS_DENIED: return "STATUS_ACCESS_DENIED";
  case SMBX_STATUS_OBJECT_NAME_INVALID: return "STATUS_OBJECT_NAME_INVALID";
  case SMBX_STATUS_OBJECT_NAME_NOT_FOUND:
    return "STATUS_OBJECT_NAME_NOT_FOUND";
  case SMBX_STATUS_OBJECT_NAME_COLLISION:
    return "STATUS_OBJECT_NAME_COLLISION";
  case SMBX_STATUS_OBJECT_PATH_NOT_FOUND:
    return "STATUS_OBJECT_PATH_NOT_FOUND";
  case SMBX_STATUS_SHARING_VIOLATION: return "STATUS_SHARING_VIOLATION";
  case SMBX_STATUS_DELETE_PENDING: return "STATUS_DELETE_PENDING";
  case SMBX_STATUS_LOGON_FAILURE: return "STATUS_LOGON_FAILURE";
  case SMBX_STATUS_DISK_FULL: return "STATUS_DISK_FULL";
  case SMBX_STATUS_FILE_IS_A_DIRECTORY: return "STATUS_FILE_IS_A_DIRECTORY";
  case SMBX_STATUS_NOT_SUPPORTED: return "STATUS_NOT_SUPPORTED";
  case SMBX_STATUS_BAD_NETWORK_NAME: return "STATUS_BAD_NETWORK_NAME";
  case SMBX_STATUS_NETWORK_ACCESS_DENIED:
    return "STATUS_NETWORK_ACCESS_DENIED";
  case SMBX_STATUS_DIRECTORY_NOT_EMPTY: return "STATUS_DIRECTORY_NOT_EMPTY";
  case SMBX_STATUS_NOT_A_DIRECTORY: return "STATUS_NOT_A_DIRECTORY";
  case SMBX_STATUS_CANCELLED: return "STATUS_CANCELLED";
  case SMBX_STATUS_USER_SESSION_DELETED:
    return "STATUS_USER_SESSION_DELETED";
  case SMBX_STATUS_NOT_FOUND: return "STATUS_NOT_FOUND";
  default: return "NTSTATUS";
  }
}

/* ---- socket and node plumbing -------------------------------------------- */

static int hook_send2(void *ud, uint64_t conn, const uint8_t *b, size_t n);

static int hook_send(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  cl *c = ud;
  if (c->ch2.conn && conn == c->ch2.conn)
    return hook_send2(ud, conn, b, n);
  if (c->olen + n > c->ocap) {
    size_t cap = c->ocap ? c->ocap : 65536;
    while (cap < c->olen + n)
      cap *= 2;
    uint8_t *p = realloc(c->obuf, cap);
    if (!p)
      return SMBX_ERR_NOMEM;
    c->obuf = p;
    c->ocap = cap;
  }
  memcpy(c->obuf + c->olen, b, n);
  c->olen += n;
  if (c->pcap)
    (void)pcapw_tcp(c->pcap, 0, b, n);
  return 0;
}

/* Request handles are per connection: a completion names the connection
 * the request was sent on (u.pdu.first_conn, also after a failover). */
static op *op_find(cl *c, uint64_t conn, uint64_t req)
{
  for (size_t i = 0; i < MAX_OPS; i++)
    if (c->ops[i].used && c->ops[i].req == req && c->ops[i].conn == conn)
      return &c->ops[i];
  return NULL;
}

static op *op_add(cl *c, uint64_t req)
{
  for (size_t i = 0; i < MAX_OPS; i++)
    if (!c->ops[i].used) {
      op *o = &c->ops[i];
      memset(o, 0, sizeof *o);
      o->used = true;
      o->req = req;
      o->conn = c->conn;
      return o;
    }
  return NULL; /* never: callers keep fewer than MAX_OPS in flight */
}

static void op_free(op *o)
{
  free(o->pdu);
  memset(o, 0, sizeof *o);
}

static void keep_blob(cl *c, const uint8_t *p, size_t n)
{
  free(c->blob);
  c->blob = NULL;
  c->blob_len = 0;
  if (n && (c->blob = malloc(n)) != NULL) {
    memcpy(c->blob, p, n);
    c->blob_len = n;
  }
}

static const char *lease_name(uint32_t st)
{
  static const char *n[8] = {"NONE", "R", "H", "RH", "W", "RW", "WH", "RWH"};
  return n[st & 7];
}

/* --watch: one line per lease break / dropped listing, on stdout */
static void print_lease_event(const smbx_event *e)
{
  static const char *why[] = {"?",       "break", "expired",
                              "evicted", "epoch", "lost"};
  printf("%s ", e->type == SMBX_EV_LEASE_BREAK ? "break" : "invalidate");
  for (int k = 0; k < 4; k++)
    printf("%02x", e->u.lease.key[k]);
  if (e->type == SMBX_EV_LEASE_BREAK) {
    printf(" %s -> %s epoch %u actions%s%s%s%s%s\n", lease_name(e->u.lease.from),
           lease_name(e->u.lease.to), (unsigned)e->u.lease.epoch,
           e->u.lease.actions & SMBX_LEASE_ACT_FLUSH ? " flush" : "",
           e->u.lease.actions & SMBX_LEASE_ACT_CLOSE_HANDLES ? " close" : "",
           e->u.lease.actions & SMBX_LEASE_ACT_PURGE ? " purge" : "",
           e->u.lease.actions ? "" : " none",
           e->u.lease.flags & SMBX_LEASE_CEVF_STALE ? " (stale)" : "");
  } else {
    printf(" listing dropped (%s)\n", why[e->u.lease.reason < 6 ? e->u.lease.reason : 0]);
  }
  fflush(stdout);
}

static unsigned drain(cl *c, uint64_t now)
{
  smbx_event e;
  unsigned n = 0;
  e.struct_size = sizeof e;
  while (smbx_client_next_event(c->cli, &e) == 1) {
    n++;
    switch (e.type) {
    case SMBX_EV_RESPONSE: {
      op *o = op_find(c, e.u.pdu.first_conn, e.u.pdu.req);
      if (o) {
        o->done = true;
        o->err = e.u.pdu.err;
        o->status = e.u.pdu.status;
        o->flags = e.flags;
        o->rdma_len = e.u.pdu.rdma_length;
        if (!e.u.pdu.err && e.u.pdu.len &&
            (o->pdu = malloc(e.u.pdu.len)) != NULL) {
          memcpy(o->pdu, e.u.pdu.data, e.u.pdu.len);
          o->len = e.u.pdu.len;
        } else if (!e.u.pdu.err && e.u.pdu.len) {
          o->err = SMBX_ERR_NOMEM;
        }
        /* ECHO goes out with SessionId 0 (no session): never protected */
        if (!e.u.pdu.err && c->sess && e.u.pdu.hdr.session_id != 0 &&
            (((c->want_encrypt) && !(e.flags & SMBX_EVF_ENCRYPTED)) ||
             (c->want_sign && !(e.flags & (SMBX_EVF_VERIFIED |
                                           SMBX_EVF_ENCRYPTED)))))
          c->unprotected++;
      }
      break;
    }
    case SMBX_EV_NEGOTIATED:
      c->negotiated = true;
      c->ev_err = e.u.negotiated.err;
      c->ev_status = e.u.negotiated.status;
      c->dialect = e.u.negotiated.dialect;
      c->cipher = e.u.negotiated.cipher;
      c->signing_alg = e.u.negotiated.signing_alg;
      c->max_read = e.u.negotiated.max_read_size;
      c->max_write = e.u.negotiated.max_write_size;
      keep_blob(c, e.u.negotiated.blob, e.u.negotiated.blob_len);
      memcpy(c->server_guid, e.u.negotiated.guid, 16);
      break;
    case SMBX_EV_LEASE_BREAK:
      c->brk = true;
      memcpy(c->brk_key, e.u.lease.key, 16);
      c->brk_from = e.u.lease.from;
      c->brk_to = e.u.lease.to;
      c->brk_actions = e.u.lease.actions;
      c->brk_flags = e.u.lease.flags;
      if (c->watch || c->verbose)
        print_lease_event(&e);
      break;
    case SMBX_EV_DIR_INVALIDATE:
      c->invalidated = true;
      if (c->watch || c->verbose)
        print_lease_event(&e);
      break;
    case SMBX_EV_SESSION_SETUP:
      if (c->verbose)
        fprintf(stderr, "session setup: status 0x%08x err %d flags 0x%x\n",
                (unsigned)e.u.session.status, e.u.session.err,
                (unsigned)e.u.session.session_flags);
      c->setup_done = true;
      c->ev_err = e.u.session.err;
      c->ev_status = e.u.session.status;
      c->session_flags = e.u.session.session_flags;
      keep_blob(c, e.u.session.blob, e.u.session.blob_len);
      break;
    case SMBX_EV_SESSION_UP:
      if (e.u.session.req_flags & SMBX_SMB2_SESSION_FLAG_BINDING)
        c->ch2.bound = true;
      else
        c->session_up = true;
      break;
    case SMBX_EV_SESSION_DOWN:
      c->session_down = true;
      break;
    case SMBX_EV_TREE_CONNECT:
      c->tree_done = true;
      c->ev_err = e.u.tree.err;
      c->ev_status = e.u.tree.status;
      c->tree_id = e.u.tree.tree_id;
      break;
    case SMBX_EV_CONN_UP:
      c->conn_up = true;
      break;
    case SMBX_EV_XFER_DONE:
      if (e.u.xfer.user < 2) {
        c->xd[e.u.xfer.user].done = true;
        c->xd[e.u.xfer.user].err = e.u.xfer.err;
        c->xd[e.u.xfer.user].status = e.u.xfer.status;
        c->xd[e.u.xfer.user].bytes = e.u.xfer.bytes;
      }
      break;
#ifdef SMBX_HAVE_IBV
    case SMBX_EV_SMBD: /* disconnect / free the QP (SMB Direct) */
      if (c->ibv)
        (void)smbx_ibv_smbd_event(c->ibv, &e);
      break;
#endif
    case SMBX_EV_CONN_DOWN:
      if (c->ch2.conn && e.conn == c->ch2.conn) {
        /* the second channel: the session goes on over the first */
        c->ch2.dead = true;
        break;
      }
      c->dead = true;
      c->down_err = e.u.down.err ? e.u.down.err : SMBX_ERR_CLOSED;
      c->down_reason = e.u.down.reason;
      break;
    default: /* INTERIM, BREAK (no oplocks asked), WRITABLE */
      break;
    }
    if (e.hold)
      (void)smbx_client_release(c->cli, e.conn, e.hold, now);
  }
  return n;
}

static int flush_out(cl *c)
{
  size_t off = 0;
  while (off < c->olen) {
    ssize_t w = send(c->fd, c->obuf + off, c->olen - off,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      return -1;
    }
    off += (size_t)w;
  }
  memmove(c->obuf, c->obuf + off, c->olen - off);
  c->olen -= off;
  return 0;
}

static void kill_conn(cl *c, const char *why)
{
  if (!c->dead) {
    errf("connection lost: %s", why);
    (void)smbx_client_abort_conn(c->cli, c->conn, SMBX_ERR_TRANSPORT,
                                 now_ns());
    drain(c, now_ns());
    c->dead = true;
    if (!c->down_err)
      c->down_err = SMBX_ERR_TRANSPORT;
  }
}

/* ---- --multichannel: the second TCP connection ---------------------------- */

static int hook_send2(void *ud, uint64_t conn, const uint8_t *b, size_t n)
{
  (void)conn;
  cl *c = ud;
  if (c->ch2.olen + n > c->ch2.ocap) {
    size_t cap = c->ch2.ocap ? c->ch2.ocap : 65536;
    while (cap < c->ch2.olen + n)
      cap *= 2;
    uint8_t *p = realloc(c->ch2.obuf, cap);
    if (!p)
      return SMBX_ERR_NOMEM;
    c->ch2.obuf = p;
    c->ch2.ocap = cap;
  }
  memcpy(c->ch2.obuf + c->ch2.olen, b, n);
  c->ch2.olen += n;
  return 0;
}

/* A socket error on the second channel: the node resends what was in
 * flight there on the first (failover replay). */
static void ch2_lost(cl *c, const char *why)
{
  if (c->ch2.dead)
    return;
  if (c->verbose)
    fprintf(stderr, "second channel lost: %s\n", why);
  (void)smbx_client_abort_conn(c->cli, c->ch2.conn, SMBX_ERR_TRANSPORT,
                               now_ns());
  c->ch2.dead = true;
}

static void ch2_flush(cl *c)
{
  size_t off = 0;
  while (!c->ch2.dead && off < c->ch2.olen) {
    ssize_t w = send(c->ch2.fd, c->ch2.obuf + off, c->ch2.olen - off,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        ch2_lost(c, strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  memmove(c->ch2.obuf, c->ch2.obuf + off, c->ch2.olen - off);
  c->ch2.olen -= off;
}

static void ch2_read(cl *c, uint64_t now)
{
  ssize_t r = recv(c->ch2.fd, c->ch2.rbuf + c->ch2.rlen,
                   RBUF_CAP - c->ch2.rlen, 0);
  if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
    ch2_lost(c, r == 0 ? "peer closed the connection" : strerror(errno));
    return;
  }
  if (r < 0)
    return;
  c->ch2.rlen += (size_t)r;
  size_t off = 0;
  int stalls = 0;
  while (off < c->ch2.rlen && !c->ch2.dead) {
    smbx_ssize n = smbx_client_tcp_feed(c->cli, c->ch2.conn, c->ch2.rbuf + off,
                                        c->ch2.rlen - off, now);
    drain(c, now); /* copies and releases every held view */
    if (n < 0) {
      c->ch2.dead = true;
      break;
    }
    off += (size_t)n;
    if (n == 0 && ++stalls > 2)
      break;
  }
  memmove(c->ch2.rbuf, c->ch2.rbuf + off, c->ch2.rlen - off);
  c->ch2.rlen -= off;
}

#ifdef SMBX_HAVE_IBV
/* pump() over SMB Direct: poll the glue's fds (CM events, completions),
 * report what came, timers, events. */
static int pump_rdma(cl *c, int timeout_ms)
{
  uint64_t now = now_ns();
  if (drain(c, now) > 0)
    timeout_ms = 0;
  uint64_t exp = smbx_client_expiry(c->cli);
  if (exp != UINT64_MAX) {
    uint64_t left = exp > now ? (exp - now) / 1000000u + 1 : 0;
    if (left < (uint64_t)timeout_ms)
      timeout_ms = (int)left;
  }
  struct pollfd pfd[8];
  size_t n = smbx_ibv_pollfds(c->ibv, pfd, 8);
  if (poll(pfd, (nfds_t)n, timeout_ms) < 0 && errno != EINTR) {
    kill_conn(c, strerror(errno));
    return SMBX_ERR_TRANSPORT;
  }
  now = now_ns();
  if (smbx_ibv_process(c->ibv, now) < 0)
    kill_conn(c, "rdma_cm event channel failed");
  if (smbx_client_expiry(c->cli) <= now)
    (void)smbx_client_handle_expiry(c->cli, now);
  drain(c, now);
  return c->dead ? (c->down_err ? c->down_err : SMBX_ERR_CLOSED) : 0;
}

#endif

/* One round of I/O: flush, poll (at most timeout_ms, less when a node
 * timer expires sooner), read and feed, timers, events. Returns 0, or a
 * negative code once the connection is dead. */
static int pump(cl *c, int timeout_ms)
{
  if (c->dead)
    return c->down_err ? c->down_err : SMBX_ERR_CLOSED;
#ifdef SMBX_HAVE_IBV
  if (c->ibv)
    return pump_rdma(c, timeout_ms);
#endif
  if (flush_out(c) < 0) {
    kill_conn(c, strerror(errno));
    return SMBX_ERR_TRANSPORT;
  }
  uint64_t now = now_ns();
  /* events queued by calls made since the last pump (e.g. SESSION_UP after
   * smbx_client_session_key): report them without waiting on the socket */
  if (drain(c, now) > 0)
    timeout_ms = 0;
  uint64_t exp = smbx_client_expiry(c->cli);
  if (exp != UINT64_MAX) {
    uint64_t left = exp > now ? (exp - now) / 1000000u + 1 : 0;
    if (left < (uint64_t)timeout_ms)
      timeout_ms = (int)left;
  }
  struct pollfd pfds[2] = {{c->fd, POLLIN, 0}, {c->ch2.fd, POLLIN, 0}};
  if (c->olen)
    pfds[0].events |= POLLOUT;
  if (c->ch2.olen)
    pfds[1].events |= POLLOUT;
  nfds_t nfd = c->ch2.conn && !c->ch2.dead ? 2 : 1;
  int pr = poll(pfds, nfd, timeout_ms);
  if (pr < 0 && errno != EINTR) {
    kill_conn(c, strerror(errno));
    return SMBX_ERR_TRANSPORT;
  }
  struct pollfd pfd = pfds[0];
  now = now_ns();
  if (pr > 0 && nfd == 2 && (pfds[1].revents & (POLLIN | POLLHUP | POLLERR)))
    ch2_read(c, now);
  if (pr > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen, 0);
    if (r == 0) {
      kill_conn(c, "peer closed the connection");
    } else if (r < 0 && errno != EINTR && errno != EAGAIN) {
      kill_conn(c, strerror(errno));
    } else if (r > 0) {
      if (c->pcap)
        (void)pcapw_tcp(c->pcap, 1, c->rbuf + c->rlen, (size_t)r);
      c->rlen += (size_t)r;
      size_t off = 0;
      int stalls = 0;
      while (off < c->rlen && !c->dead) {
        smbx_ssize n = smbx_client_tcp_feed(c->cli, c->conn, c->rbuf + off,
                                            c->rlen - off, now);
        if (n < 0) {
          drain(c, now);
          if (!c->dead)
            kill_conn(c, smbx_strerror((int)n));
          break;
        }
        drain(c, now); /* copies and releases every held view */
        off += (size_t)n;
        if (n == 0 && ++stalls > 2)
          break;
      }
      memmove(c->rbuf, c->rbuf + off, c->rlen - off);
      c->rlen -= off;
    }
  }
  if (smbx_client_expiry(c->cli) <= now)
    (void)smbx_client_handle_expiry(c->cli, now);
  drain(c, now);
  if (!c->dead && flush_out(c) < 0)
    kill_conn(c, strerror(errno));
  if (c->ch2.conn)
    ch2_flush(c);
  return c->dead ? (c->down_err ? c->down_err : SMBX_ERR_CLOSED) : 0;
}

/* Retries a request call while the node is out of credits. */
#define SUBMIT(c, rc, expr)                                                   \
  do {                                                                        \
    while (((rc) = (expr)) == SMBX_ERR_AGAIN) {                               \
      int p_ = pump((c), 1000);                                               \
      if (p_ < 0) {                                                           \
        (rc) = p_;                                                            \
        break;                                                                \
      }                                                                       \
    }                                                                         \
  } while (0)

static int wait_op(cl *c, op *o)
{
  while (!o->done) {
    int rc = pump(c, 1000);
    if (rc < 0 && !o->done)
      return rc;
  }
  return 0;
}

static int wait_flag(cl *c, const bool *flag)
{
  while (!*flag) {
    int rc = pump(c, 1000);
    if (rc < 0 && !*flag)
      return rc;
  }
  return 0;
}

/* Sends an encoded request (buf from a codec encoder, n bytes including the
 * 64-byte header) and waits for its response. */
static int call(cl *c, uint16_t cmd, const uint8_t *buf, smbx_ssize n,
                op **out)
{
  if (n < 64)
    return n < 0 ? (int)n : SMBX_ERR_INVAL;
  int rc;
  uint64_t req = 0;
  SUBMIT(c, rc, smbx_client_request(c->cli, c->conn, c->sess, c->tree, cmd,
                                    buf + 64, (size_t)n - 64, 0, now_ns(),
                                    &req));
  if (rc < 0)
    return rc;
  op *o = op_add(c, req);
  if (!o)
    return SMBX_ERR_NOMEM;
  if ((rc = wait_op(c, o)) < 0) {
    op_free(o);
    return rc;
  }
  *out = o;
  return 0;
}

/* ---- paths and small helpers ------------------------------------------- */

/* share-relative path -> UTF-16LE with backslashes, no leading separator */
static int utf16_path(const char *path, uint8_t *out, size_t cap, size_t *n)
{
  char tmp[1024];
  size_t j = 0;
  while (*path == '/' || *path == '\\')
    path++;
  for (; *path && j + 1 < sizeof tmp; path++)
    tmp[j++] = *path == '/' ? '\\' : *path;
  while (j && tmp[j - 1] == '\\')
    j--;
  if (j + 1 >= sizeof tmp)
    return SMBX_ERR_RANGE;
  return smbx_utf8_to_utf16le((const uint8_t *)tmp, j, out, cap, n);
}

static void print_utf16(FILE *f, const uint8_t *p, size_t n)
{
  char buf[2048];
  size_t m = 0;
  if (smbx_utf16le_to_utf8(p, n, (uint8_t *)buf, sizeof buf - 1, &m) != 0)
    m = 0;
  fwrite(buf, 1, m, f);
}

static const char *op_status_text(const op *o, char *tmp, size_t cap)
{
  if (o->err)
    snprintf(tmp, cap, "%s", smbx_strerror(o->err));
  else
    snprintf(tmp, cap, "%s (0x%08x)", status_name(o->status),
             (unsigned)o->status);
  return tmp;
}

static int open_path(cl *c, const char *path, uint32_t access,
                     uint32_t disposition, uint32_t options, uint32_t attrs,
                     smbx_smb2_create_resp *cr, const char *what)
{
  uint8_t name[2048];
  size_t nl = 0;
  int rc = utf16_path(path, name, sizeof name, &nl);
  if (rc) {
    errf("%s %s: bad path (%s)", what, path, smbx_strerror(rc));
    return rc;
  }
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.impersonation_level = 2;
  q.desired_access = access;
  q.file_attributes = attrs;
  q.share_access = SHARE_ALL;
  q.create_disposition = disposition;
  q.create_options = options;
  q.name.p = name;
  q.name.len = nl;
  uint64_t req = 0;
  SUBMIT(c, rc, smbx_client_create(c->cli, c->conn, c->sess, c->tree, &q,
                                   now_ns(), &req));
  if (rc < 0) {
    errf("%s %s: %s", what, path, smbx_strerror(rc));
    return rc;
  }
  op *o = op_add(c, req);
  if ((rc = wait_op(c, o)) < 0) {
    errf("%s %s: %s", what, path, smbx_strerror(rc));
    op_free(o);
    return rc;
  }
  char tmp[96];
  if (o->err || o->status ||
      smbx_smb2_decode_create_resp(o->pdu, o->len, cr, NULL) != 0) {
    errf("%s %s: open failed: %s", what, path,
         op_status_text(o, tmp, sizeof tmp));
    op_free(o);
    return -1;
  }
  op_free(o);
  return 0;
}

static int close_file(cl *c, smbx_smb2_fileid fid, uint16_t flags,
                      smbx_smb2_close_resp *out)
{
  int rc;
  uint64_t req = 0;
  SUBMIT(c, rc, smbx_client_close(c->cli, c->conn, c->sess, c->tree, fid,
                                  flags, now_ns(), &req));
  if (rc < 0)
    return rc;
  op *o = op_add(c, req);
  if ((rc = wait_op(c, o)) < 0) {
    op_free(o);
    return rc;
  }
  char tmp[96];
  smbx_smb2_close_resp r;
  if (o->err || o->status ||
      smbx_smb2_decode_close_resp(o->pdu, o->len, out ? out : &r, NULL)) {
    errf("close: %s", op_status_text(o, tmp, sizeof tmp));
    op_free(o);
    return -1;
  }
  op_free(o);
  return 0;
}

/* ---- progress ---------------------------------------------------------- */

typedef struct progress {
  const char *what, *name;
  uint64_t total, t0, last;
  bool on;
} progress;

static void progress_update(progress *p, uint64_t done, bool final)
{
  if (!p->on)
    return;
  uint64_t t = now_ns();
  if (!final && (done == 0 || t - p->last < 200000000u))
    return;
  p->last = t;
  double secs = (double)(t - p->t0) / 1e9;
  double mib = (double)done / MIB;
  fprintf(stderr, "\r%s %s: %.1f / %.1f MiB (%3u%%) %.1f MiB/s%s", p->what,
          p->name, mib, (double)p->total / MIB,
          p->total ? (unsigned)(done * 100 / p->total) : 100u,
          secs > 0 ? mib / secs : 0.0, final ? "\n" : "");
  fflush(stderr);
}

/* ---- commands ------------------------------------------------------------ */

static uint32_t chunk_size(uint32_t negotiated)
{
  uint32_t n = negotiated ? negotiated : 65536;
  if (n > MIB)
    n = MIB; /* the node's max_io */
  return n;
}

/* get / put move the file through pipelined transfers
 * (smbx_client_xfer_start: the node keeps WINDOW READ/WRITE requests in
 * flight, by RDMA straight from/into the segment over SMB Direct) of SEG
 * bytes, two at a time: while one segment moves, the other is written to
 * (get) or read from (put) the local file. */
#define SEG (8u * MIB)

typedef struct seg {
  bool busy;
  uint64_t xfer, off;
  uint32_t len;
  uint8_t *buf;
} seg;

/* XFER_DONE of segment k (drain() records it in c->xd[k]) */
static int seg_done(cl *c, seg *s, unsigned k, int fd, bool put,
                    const char *what, const char *remote, const char *local)
{
  s->busy = false;
  c->xd[k].done = false;
  char tmp[96];
  if (c->xd[k].err || c->xd[k].status) {
    op o;
    memset(&o, 0, sizeof o);
    o.err = c->xd[k].err;
    o.status = c->xd[k].status;
    errf("%s %s: at %llu: %s", what, remote, (unsigned long long)s->off,
         op_status_text(&o, tmp, sizeof tmp));
    return -1;
  }
  if (c->xd[k].bytes != s->len) {
    errf("%s %s: short %s at %llu: %llu of %u bytes", what, remote,
         put ? "write" : "read", (unsigned long long)s->off,
         (unsigned long long)c->xd[k].bytes, (unsigned)s->len);
    return -1;
  }
  if (!put && pwrite(fd, s->buf, s->len, (off_t)s->off) != (ssize_t)s->len) {
    errf("%s: %s: %s", what, local, strerror(errno));
    return -1;
  }
  return 0;
}

static int move_file(cl *c, smbx_smb2_fileid fid, int fd, uint64_t size,
                     bool put, const char *what, const char *remote,
                     const char *local, uint64_t *moved)
{
  uint8_t *mem = malloc(2 * (size_t)SEG);
  seg s[2];
  memset(s, 0, sizeof s);
  memset(c->xd, 0, sizeof c->xd);
  s[0].buf = mem;
  s[1].buf = mem ? mem + SEG : NULL;
  uint64_t next = 0, done = 0;
  int ret = mem ? 0 : -1;
  progress pg = {what, remote, size, now_ns(), 0, size > MIB};
  while (ret == 0 && done < size) {
    for (unsigned k = 0; k < 2 && ret == 0 && next < size; k++) {
      if (s[k].busy)
        continue;
      uint32_t len = size - next < SEG ? (uint32_t)(size - next) : SEG;
      if (put && pread(fd, s[k].buf, len, (off_t)next) != (ssize_t)len) {
        errf("%s: %s: read failed", what, local);
        ret = -1;
        break;
      }
      smbx_client_xfer p;
      memset(&p, 0, sizeof p);
      p.struct_size = sizeof p;
      /* with a bound second channel: the node's choice per request */
      p.conn = c->ch2.bound && !c->ch2.dead ? 0 : c->conn;
      p.session = c->sess;
      p.tree_id = c->tree;
      p.flags = put ? SMBX_XFER_WRITE : 0;
      p.file_id = fid;
      p.offset = next;
      p.buf = s[k].buf;
      p.length = len;
      p.chunk = 0; /* the negotiated size within the node's and SMB
                      Direct's limits, per channel */
      p.depth = WINDOW;
      p.user = k;
      int rc = smbx_client_xfer_start(c->cli, &p, now_ns(), &s[k].xfer);
      if (rc < 0) {
        errf("%s %s: transfer at %llu: %s", what, remote,
             (unsigned long long)next, smbx_strerror(rc));
        ret = -1;
        break;
      }
      s[k].busy = true;
      s[k].off = next;
      s[k].len = len;
      next += len;
    }
    if (ret)
      break;
    int prc = pump(c, 1000);
    uint64_t moving = 0;
    for (unsigned k = 0; k < 2; k++) {
      if (s[k].busy && c->xd[k].done) {
        if (seg_done(c, &s[k], k, fd, put, what, remote, local) < 0)
          ret = -1;
        else
          done += s[k].len;
      }
      smbx_client_xfer_info in;
      memset(&in, 0, sizeof in);
      in.struct_size = sizeof in;
      if (s[k].busy &&
          smbx_client_xfer_get_info(c->cli, s[k].xfer, &in) == 0)
        moving += in.bytes;
    }
    if (prc < 0 && ret == 0 && done < size) {
      errf("%s %s: %s", what, remote, smbx_strerror(prc));
      ret = -1;
    }
    progress_update(&pg, done + moving, false);
  }
  /* after an error: stop what still moves and wait for its end (a dead
   * connection completes every request locally) */
  bool ended = true;
  for (unsigned k = 0; k < 2; k++) {
    if (!s[k].busy)
      continue;
    (void)smbx_client_xfer_cancel(c->cli, s[k].xfer, now_ns());
    for (int i = 0; i < 60 && !c->xd[k].done; i++)
      if (pump(c, 1000) < 0 && drain(c, now_ns()) == 0)
        break;
    ended = ended && c->xd[k].done;
  }
  /* a transfer that has not ended still owns its segment: a late answer
   * is copied or placed by RDMA there, so it is never freed under it */
  if (ended)
    free(mem);
  if (ret == 0)
    progress_update(&pg, done, true);
  *moved = done;
  return ret;
}

static int cmd_get(cl *c, const char *remote, const char *local)
{
  smbx_smb2_create_resp cr;
  if (open_path(c, remote, A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OPEN, OPT_NON_DIRECTORY_FILE, 0, &cr, "get") < 0)
    return -1;
  int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    errf("get: %s: %s", local, strerror(errno));
    (void)close_file(c, cr.file_id, 0, NULL);
    return -1;
  }
  uint64_t size = cr.end_of_file, got = 0;
  int ret = move_file(c, cr.file_id, fd, size, false, "get", remote, local,
                      &got);
  if (close(fd) != 0 && ret == 0) {
    errf("get: %s: %s", local, strerror(errno));
    ret = -1;
  }
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  if (ret == 0 && got != size) {
    errf("get %s: %llu of %llu bytes", remote, (unsigned long long)got,
         (unsigned long long)size);
    ret = -1;
  }
  if (ret == 0)
    printf("get %s -> %s: %llu bytes\n", remote, local,
           (unsigned long long)got);
  return ret;
}

static int cmd_put(cl *c, const char *local, const char *remote)
{
  int fd = open(local, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    errf("put: %s: %s", local, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  uint64_t size = (uint64_t)st.st_size;
  smbx_smb2_create_resp cr;
  if (open_path(c, remote,
                A_READ_DATA | A_WRITE_DATA | A_APPEND_DATA | A_READ_ATTRIBUTES |
                    A_WRITE_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OVERWRITE_IF, OPT_NON_DIRECTORY_FILE, 0x80u, &cr,
                "put") < 0) {
    close(fd);
    return -1;
  }
  uint64_t put = 0;
  int ret = move_file(c, cr.file_id, fd, size, true, "put", remote, local,
                      &put);
  close(fd);
  smbx_smb2_close_resp clr;
  memset(&clr, 0, sizeof clr);
  if (close_file(c, cr.file_id, SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB, &clr) <
      0)
    ret = -1;
  else if (ret == 0 && clr.end_of_file != size) {
    errf("put %s: server reports %llu bytes, sent %llu", remote,
         (unsigned long long)clr.end_of_file, (unsigned long long)size);
    ret = -1;
  }
  if (ret == 0)
    printf("put %s -> %s: %llu bytes\n", local, remote,
           (unsigned long long)put);
  return ret;
}

/* --leases: a listing the node's directory cache still holds (a complete
 * enumeration under a directory R lease) is printed with no round trip,
 * from a snapshot of the cached block. Returns 1 when served, 0 when not
 * cached. */
static int ls_cached(cl *c, const char *dir)
{
  uint8_t p[2048];
  size_t pl = 0;
  if (!c->leases || utf16_path(dir, p, sizeof p, &pl) != 0)
    return 0;
  smbx_conn_info a, b;
  a.struct_size = b.struct_size = sizeof a;
  (void)smbx_client_conn_info(c->cli, c->conn, &a);
  smbx_lease_dir_snapshot snap;
  snap.struct_size = sizeof snap;
  if (smbx_client_dir_snapshot(c->cli, c->scope, p, pl, now_ns(), &snap) != 0)
    return 0;
  unsigned entries = snap.count;
  for (uint32_t i = 0; i < snap.count; i++) {
    const smbx_lease_dir_entry *e = &snap.entries[i];
    bool is_dir = (e->file_attributes & ATTR_DIRECTORY) != 0;
    printf("%c %12llu  ", is_dir ? 'D' : '-',
           (unsigned long long)e->end_of_file);
    print_utf16(stdout, smbx_lease_dir_entry_name(e), e->name_len);
    putchar('\n');
  }
  smbx_client_dir_release(c->cli, &snap);
  fflush(stdout); /* the listing before its summary line on stderr */
  (void)smbx_client_conn_info(c->cli, c->conn, &b);
  fprintf(stderr, "ls %s: %u entries from the lease cache (%llu PDUs)\n",
          *dir ? dir : "\\", entries,
          (unsigned long long)(b.requests - a.requests));
  return 1;
}

/* --leases: a directory handle under an RH lease (a deferred one taken
 * back, else CREATE with a v2 lease). *leased false: a plain open. */
static int open_dir(cl *c, const char *dir, smbx_smb2_fileid *fid,
                    bool *leased)
{
  *leased = false;
  uint8_t name[2048];
  size_t nl = 0;
  if (c->leases && utf16_path(dir, name, sizeof name, &nl) == 0) {
    uint64_t conn, sess;
    uint32_t tree;
    if (smbx_client_dir_reopen(c->cli, c->scope, name, nl, &conn, &sess,
                               &tree, fid) == 1) {
      *leased = true;
      return 0;
    }
    smbx_smb2_create_req q;
    memset(&q, 0, sizeof q);
    q.impersonation_level = 2;
    q.desired_access = A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE;
    q.share_access = SHARE_ALL;
    q.create_disposition = DISP_OPEN;
    q.create_options = OPT_DIRECTORY_FILE;
    q.name.p = name;
    q.name.len = nl;
    uint64_t req = 0;
    int rc;
    SUBMIT(c, rc,
           smbx_client_create_leased(
               c->cli, c->conn, c->sess, c->tree, c->scope, &q,
               SMBX_LEASE_REQ_DIR |
                   (c->dir_write ? SMBX_LEASE_REQ_DIR_WRITE : 0),
               now_ns(), &req));
    if (rc == 0) {
      op *o = op_add(c, req);
      smbx_smb2_create_resp cr;
      char tmp[96];
      if ((rc = wait_op(c, o)) < 0 || o->err || o->status ||
          smbx_smb2_decode_create_resp(o->pdu, o->len, &cr, NULL) != 0) {
        errf("ls %s: open failed: %s", dir,
             rc < 0 ? smbx_strerror(rc) : op_status_text(o, tmp, sizeof tmp));
        op_free(o);
        return -1;
      }
      op_free(o);
      *fid = cr.file_id;
      *leased = true;
      return 0;
    }
    if (rc != SMBX_ERR_UNSUPPORTED) {
      errf("ls %s: %s", dir, smbx_strerror(rc));
      return -1;
    }
    /* no directory leasing here (2.x, or the server did not offer it) */
  }
  smbx_smb2_create_resp cr;
  if (open_path(c, dir, A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OPEN, OPT_DIRECTORY_FILE, 0, &cr, "ls") < 0)
    return -1;
  *fid = cr.file_id;
  return 0;
}

static int cmd_ls(cl *c, const char *dir)
{
  if (ls_cached(c, dir))
    return 0;
  smbx_smb2_fileid fid;
  bool leased;
  if (open_dir(c, dir, &fid, &leased) < 0)
    return -1;
  if (leased && c->dir_write)
    snprintf(c->wdir, sizeof c->wdir, "%s", dir);
  static const uint8_t star[2] = {'*', 0};
  int ret = 0;
  unsigned entries = 0, rounds = 0;
  for (;;) {
    smbx_smb2_query_directory_req q;
    memset(&q, 0, sizeof q);
    q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
    q.flags = rounds == 0 ? 0x01u /* RESTART_SCANS */ : 0;
    q.file_id = fid;
    q.file_name.p = star;
    q.file_name.len = 2;
    q.output_buffer_length = 65536;
    uint64_t req = 0;
    int rc;
    /* under a lease the node fills the directory cache from the answers */
    SUBMIT(c, rc,
           leased ? smbx_client_dir_query(c->cli, c->conn, c->sess, c->tree,
                                          &q, now_ns(), &req)
                  : smbx_client_query_directory(c->cli, c->conn, c->sess,
                                                c->tree, &q, now_ns(), &req));
    if (rc < 0) {
      errf("ls %s: %s", dir, smbx_strerror(rc));
      ret = -1;
      break;
    }
    op *o = op_add(c, req);
    if (wait_op(c, o) < 0) {
      op_free(o);
      ret = -1;
      break;
    }
    rounds++;
    if (!o->err && o->status == SMBX_STATUS_NO_MORE_FILES) {
      op_free(o);
      break;
    }
    smbx_smb2_output_resp out;
    char tmp[96];
    if (o->err || o->status ||
        smbx_smb2_decode_query_directory_resp(o->pdu, o->len, &out, NULL)) {
      errf("ls %s: %s", dir, op_status_text(o, tmp, sizeof tmp));
      op_free(o);
      ret = -1;
      break;
    }
    smbx_smb2_dir_iter it;
    smbx_smb2_dir_entry e;
    (void)smbx_smb2_dir_iter_init(&it, q.info_class, out.output.p,
                                  out.output.len);
    while ((rc = smbx_smb2_dir_iter_next(&it, &e, NULL)) == 1) {
      bool is_dir = (e.file_attributes & ATTR_DIRECTORY) != 0;
      printf("%c %12llu  ", is_dir ? 'D' : '-',
             (unsigned long long)e.end_of_file);
      print_utf16(stdout, e.file_name.p, e.file_name.len);
      putchar('\n');
      entries++;
    }
    op_free(o);
    if (rc < 0) {
      errf("ls %s: malformed directory entries", dir);
      ret = -1;
      break;
    }
  }
  if (leased) {
    /* under H the node keeps the handle open for the next ls */
    uint64_t req = 0;
    int rc;
    SUBMIT(c, rc, smbx_client_dir_close(c->cli, c->conn, c->sess, c->tree,
                                        fid, now_ns(), &req));
    if (rc == 0) {
      op *o = op_add(c, req);
      if (wait_op(c, o) < 0 || o->err || o->status)
        ret = -1;
      op_free(o);
    } else if (rc < 0) {
      ret = -1;
    }
  } else if (close_file(c, fid, 0, NULL) < 0) {
    ret = -1;
  }
  if (ret == 0)
    fprintf(stderr, "ls %s: %u entries in %u QUERY_DIRECTORY rounds\n",
            *dir ? dir : "\\", entries, rounds);
  return ret;
}

/* --dir-write: a directory's changes cached under its W lease go to the
 * server in order. Each CREATE carries the directory's key as
 * ParentLeaseKey (smbx_client_create_leased), so the server does not break
 * our own lease for them. Returns the number written back, or -1. */
static int set_info(cl *c, smbx_smb2_fileid fid, uint8_t cls,
                    const uint8_t *info, size_t len, const char *what,
                    const char *path);

/* SET_INFO FileBasicInformation: only the attributes (zero times are
 * left as they are, 2.4.7 of MS-FSCC). */
static int set_attributes(cl *c, smbx_smb2_fileid fid, uint32_t attrs,
                          const char *what, const char *path)
{
  smbx_smb2_file_basic_info b;
  memset(&b, 0, sizeof b);
  b.file_attributes = attrs;
  uint8_t info[64];
  smbx_ssize n = smbx_smb2_file_basic_info_encode(&b, info, sizeof info, NULL);
  if (n < 0)
    return -1;
  return set_info(c, fid, SMBX_SMB2_FILE_BASIC_INFORMATION, info, (size_t)n,
                  what, path);
}

static int writeback(cl *c, const char *dir)
{
  uint8_t dp[1024];
  size_t dl = 0;
  uint8_t key[16];
  smbx_lease_client *lt = smbx_client_lease_table(c->cli);
  if (utf16_path(dir, dp, sizeof dp, &dl) != 0 ||
      smbx_lease_client_key(lt, c->scope, dp, dl, key) != 0)
    return 0;
  uint32_t kind;
  smbx_smb2_dir_entry e;
  int n = 0;
  while (smbx_lease_client_dir_log_peek(lt, key, &kind, &e) == 1) {
    uint8_t cp[1600];
    size_t pl = dl;
    memcpy(cp, dp, dl);
    if (dl) {
      cp[pl++] = '\\';
      cp[pl++] = 0;
    }
    if (e.file_name.len > sizeof cp - pl)
      return -1;
    memcpy(cp + pl, e.file_name.p, e.file_name.len);
    pl += e.file_name.len;
    smbx_smb2_create_req q;
    memset(&q, 0, sizeof q);
    q.impersonation_level = 2;
    q.share_access = SHARE_ALL;
    q.name.p = cp;
    q.name.len = pl;
    if (kind == SMBX_LEASE_OWN_REMOVE) {
      q.desired_access = A_DELETE | A_READ_ATTRIBUTES | A_SYNCHRONIZE;
      q.create_disposition = DISP_OPEN;
      q.create_options = OPT_NON_DIRECTORY_FILE | 0x1000u; /* DELETE_ON_CLOSE */
    } else if (kind == SMBX_LEASE_OWN_SETATTR) {
      q.desired_access = A_READ_ATTRIBUTES | A_WRITE_ATTRIBUTES |
                         A_SYNCHRONIZE;
      q.create_disposition = DISP_OPEN;
      q.create_options = OPT_NON_DIRECTORY_FILE;
    } else {
      q.desired_access = A_READ_ATTRIBUTES | A_WRITE_ATTRIBUTES |
                         A_SYNCHRONIZE;
      q.file_attributes = e.file_attributes;
      q.create_disposition = 3; /* OPEN_IF */
      q.create_options = OPT_NON_DIRECTORY_FILE;
    }
    uint64_t req = 0;
    int rc;
    SUBMIT(c, rc, smbx_client_create_leased(c->cli, c->conn, c->sess, c->tree,
                                            c->scope, &q, 0, now_ns(), &req));
    if (rc < 0)
      return -1;
    op *o = op_add(c, req);
    smbx_smb2_create_resp cr;
    if (wait_op(c, o) < 0 || o->err || o->status ||
        smbx_smb2_decode_create_resp(o->pdu, o->len, &cr, NULL) != 0) {
      op_free(o);
      return -1;
    }
    op_free(o);
    int ret = 0;
    if (kind == SMBX_LEASE_OWN_SETATTR)
      ret = set_attributes(c, cr.file_id, e.file_attributes, "write-back",
                           dir);
    if (close_file(c, cr.file_id, 0, NULL) < 0 || ret < 0)
      return -1;
    (void)smbx_lease_client_dir_log_pop(lt, key);
    n++;
  }
  return n;
}

/* Under the parent directory's W lease (--dir-write) a create (ADD), a
 * delete (REMOVE) or an attribute change (SETATTR, to attrs) of the file
 * PATH is only cached: applied to the listing and logged for write-back,
 * 0 PDUs. A delete or change of a name the listing does not hold is not
 * cached. Returns 1 when cached, 0 when the server must do it. */
static int dir_w_cached(cl *c, const char *path, uint32_t kind,
                        uint32_t attrs, const char *what)
{
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  char *bs = strrchr(dir, '\\');
  if (bs > slash)
    slash = bs;
  const char *name = slash ? slash + 1 : dir;
  char namebuf[1024];
  snprintf(namebuf, sizeof namebuf, "%s", name);
  if (slash)
    *slash = 0;
  else
    dir[0] = 0;
  uint8_t dp[1024], np[1024];
  size_t dl = 0, nl = 0;
  uint8_t key[16];
  uint32_t st = 0;
  smbx_lease_client *lt = c->leases ? smbx_client_lease_table(c->cli) : NULL;
  if (!lt || utf16_path(dir, dp, sizeof dp, &dl) != 0 ||
      utf16_path(namebuf, np, sizeof np, &nl) != 0 ||
      smbx_lease_client_key(lt, c->scope, dp, dl, key) != 0 ||
      smbx_lease_client_state(lt, key, &st, NULL) != 0 ||
      !(st & SMBX_SMB2_LEASE_WRITE))
    return 0;
  smbx_smb2_dir_entry e;
  memset(&e, 0, sizeof e);
  if (kind == SMBX_LEASE_OWN_ADD) {
    e.file_name.p = np;
    e.file_name.len = nl;
    e.file_attributes = 0x20; /* ARCHIVE */
  } else {
    /* the listed entry (its sizes, times, exact name) */
    if (smbx_lease_client_dir_lookup(lt, key, np, nl, now_ns(), &e) != 1 ||
        (e.file_attributes & ATTR_DIRECTORY))
      return 0;
    if (kind == SMBX_LEASE_OWN_SETATTR)
      e.file_attributes = attrs;
  }
  if (smbx_lease_client_dir_update(lt, key, kind, &e, now_ns()) != 2)
    return 0;
  printf("%s %s: cached under the directory's W lease (0 PDUs)\n", what,
         path);
  fflush(stdout);
  return 1;
}

/* touch PATH: cached under the directory's W lease, or created on the
 * server. */
static int cmd_touch(cl *c, const char *path)
{
  if (dir_w_cached(c, path, SMBX_LEASE_OWN_ADD, 0, "touch"))
    return 0;
  smbx_smb2_create_resp cr;
  if (open_path(c, path, A_WRITE_ATTRIBUTES | A_SYNCHRONIZE, 3 /* OPEN_IF */,
                OPT_NON_DIRECTORY_FILE, 0x20, &cr, "touch") < 0)
    return -1;
  printf("touch %s: created on the server\n", path);
  return close_file(c, cr.file_id, 0, NULL);
}

/* flush DIR: write back what --dir-write cached. */
static int cmd_flush(cl *c, const char *dir)
{
  int n = writeback(c, dir);
  if (n < 0) {
    errf("flush %s: write-back failed", dir);
    return -1;
  }
  printf("flush %s: %d change(s) written back\n", dir, n);
  return 0;
}

/* wait SECS: keep the connection; a break that takes W from the directory
 * listed with --dir-write is answered by writing its changes back first,
 * then the node acks. */
static int cmd_wait(cl *c, const char *secs_s)
{
  uint32_t secs = (uint32_t)strtoul(secs_s, NULL, 10);
  uint64_t end = now_ns() + (uint64_t)secs * 1000000000u;
  smbx_lease_client *lt = c->leases ? smbx_client_lease_table(c->cli) : NULL;
  uint8_t dp[1024], key[16];
  size_t dl = 0;
  bool have_key = lt && c->wdir[0] != 0 &&
                  utf16_path(c->wdir, dp, sizeof dp, &dl) == 0 &&
                  smbx_lease_client_key(lt, c->scope, dp, dl, key) == 0;
  if (lt && c->wdir[0] == 0)
    have_key = smbx_lease_client_key(lt, c->scope, dp, 0, key) == 0;
  c->brk = false;
  while (now_ns() < end) {
    if (pump(c, 200) < 0)
      return -1;
    if (!c->brk)
      continue;
    c->brk = false;
    if (!have_key || memcmp(c->brk_key, key, 16) != 0 ||
        (c->brk_flags & SMBX_LEASE_CEVF_SETTLED))
      continue;
    int n = writeback(c, c->wdir);
    (void)smbx_client_lease_break_done(c->cli, key, now_ns());
    printf("wait: break %s -> %s, %d change(s) written back, acked\n",
           lease_name(c->brk_from), lease_name(c->brk_to), n < 0 ? 0 : n);
    fflush(stdout);
  }
  return 0;
}

/* Whether the lease of DIR holds R now (the watch sees the next change). */
static bool dir_read_leased(cl *c, const char *dir)
{
  smbx_lease_client *lt = smbx_client_lease_table(c->cli);
  uint8_t p[2048], key[16];
  size_t pl = 0;
  uint32_t st = 0;
  return lt && utf16_path(dir, p, sizeof p, &pl) == 0 &&
         smbx_lease_client_key(lt, c->scope, p, pl, key) == 0 &&
         smbx_lease_client_state(lt, key, &st, NULL) == 0 &&
         (st & SMBX_SMB2_LEASE_READ) != 0;
}

/* --watch DIR: list it under a lease, then print every break and dropped
 * listing as it arrives and list again after each (SECS 0: forever). A
 * listing that raced a break (a put breaks twice: the child's CREATE,
 * then the close after its write) -- the break arrived while it ran, or
 * its open went out before the ack and got the break's target -- holds
 * no R: it is printed, and the directory is listed again until the lease
 * is held, so the next change breaks it. */
static int cmd_watch(cl *c, const char *dir, uint32_t secs)
{
  if (cmd_ls(c, dir) < 0)
    return -1;
  uint64_t end = secs ? now_ns() + (uint64_t)secs * 1000000000u : UINT64_MAX;
  /* a server that grants the directory no R lease at all is listed again
   * a few times, not forever */
  unsigned unleased = 0;
  c->invalidated = c->brk = false;
  while (now_ns() < end) {
    if (pump(c, 200) < 0)
      return -1;
    bool held = dir_read_leased(c, dir);
    unleased = held ? 0 : unleased + 1;
    if (!c->invalidated && !c->brk && (held || unleased > 10))
      continue;
    printf("relist %s: %s\n", *dir ? dir : "\\",
           c->invalidated || c->brk ? "changed" : "no lease held");
    /* let the node finish the break it is in (close the kept handle,
     * ack) before the next open */
    if (pump(c, 20) < 0)
      return -1;
    fflush(stdout);
    /* cleared before the listing, not after: a break that comes while it
     * runs leaves the listing uncached and is seen on the next round */
    c->invalidated = c->brk = false;
    if (cmd_ls(c, dir) < 0)
      return -1;
    fflush(stdout);
  }
  return 0;
}

/* hold FILE [SECS]: open FILE under an RWH lease and keep a line of data
 * dirty (cached, not written) until a break takes W away; then write it
 * back, and the node acks the break. Shows break -> flush -> ack against
 * a second client's open. */
static int cmd_hold(cl *c, const char *path, const char *secs_s)
{
  uint32_t secs = secs_s && *secs_s ? (uint32_t)strtoul(secs_s, NULL, 10) : 30;
  uint8_t name[2048];
  size_t nl = 0;
  if (!c->leases || utf16_path(path, name, sizeof name, &nl) != 0) {
    errf("hold %s: needs --leases and a valid path", path);
    return -1;
  }
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.impersonation_level = 2;
  q.desired_access = A_READ_DATA | A_WRITE_DATA | A_READ_ATTRIBUTES |
                     A_SYNCHRONIZE;
  q.share_access = SHARE_ALL;
  q.create_disposition = 3; /* OPEN_IF */
  q.create_options = OPT_NON_DIRECTORY_FILE;
  q.name.p = name;
  q.name.len = nl;
  uint64_t req = 0;
  int rc;
  SUBMIT(c, rc, smbx_client_create_leased(c->cli, c->conn, c->sess, c->tree,
                                          c->scope, &q, 0, now_ns(), &req));
  if (rc < 0) {
    errf("hold %s: %s", path, smbx_strerror(rc));
    return -1;
  }
  op *o = op_add(c, req);
  smbx_smb2_create_resp cr;
  char tmp[96];
  if ((rc = wait_op(c, o)) < 0 || o->err || o->status ||
      smbx_smb2_decode_create_resp(o->pdu, o->len, &cr, NULL) != 0) {
    errf("hold %s: open failed: %s", path,
         rc < 0 ? smbx_strerror(rc) : op_status_text(o, tmp, sizeof tmp));
    op_free(o);
    return -1;
  }
  op_free(o);
  smbx_lease_client *lt = smbx_client_lease_table(c->cli);
  uint8_t key[16];
  uint32_t st = 0;
  if (smbx_lease_client_key(lt, c->scope, name, nl, key) != 0 ||
      smbx_lease_client_state(lt, key, &st, NULL) != 0 ||
      !(st & SMBX_SMB2_LEASE_WRITE)) {
    errf("hold %s: no write lease granted (%s)", path, lease_name(st));
    (void)close_file(c, cr.file_id, 0, NULL);
    return -1;
  }
  static const char data[] = "written back under the lease break\n";
  (void)smbx_lease_client_set_cached(lt, key, SMBX_LEASE_CACHED_DIRTY, 0);
  printf("hold %s: lease %s, %zu bytes dirty\n", path, lease_name(st),
         sizeof data - 1);
  fflush(stdout);
  c->brk = false;
  uint64_t end = now_ns() + (uint64_t)secs * 1000000000u;
  while (!c->brk && now_ns() < end)
    if (pump(c, 200) < 0)
      return -1;
  int ret = 0;
  /* the flush: before the ack when the break takes W, else at the end */
  SUBMIT(c, rc, smbx_client_write(c->cli, c->conn, c->sess, c->tree,
                                  cr.file_id, 0, (const uint8_t *)data,
                                  sizeof data - 1, now_ns(), &req));
  if (rc == 0) {
    o = op_add(c, req);
    if (wait_op(c, o) < 0 || o->err || o->status)
      ret = -1;
    op_free(o);
  } else {
    ret = -1;
  }
  (void)smbx_lease_client_set_cached(lt, key, 0, SMBX_LEASE_CACHED_DIRTY);
  if (c->brk) {
    if (!(c->brk_flags & SMBX_LEASE_CEVF_SETTLED))
      (void)smbx_client_lease_break_done(c->cli, key, now_ns());
    printf("hold %s: break %s -> %s, flushed %zu bytes, acked\n", path,
           lease_name(c->brk_from), lease_name(c->brk_to), sizeof data - 1);
  } else {
    printf("hold %s: no break in %u s, flushed %zu bytes\n", path, secs,
           sizeof data - 1);
  }
  fflush(stdout);
  (void)pump(c, 0);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  return ret;
}

static void print_time(const char *label, uint64_t ft)
{
  char buf[64] = "-";
  if (ft >= 116444736000000000ull) {
    time_t t = (time_t)((ft - 116444736000000000ull) / 10000000u);
    struct tm tm;
    if (gmtime_r(&t, &tm))
      strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  }
  printf("  %-8s %s\n", label, buf);
}

static int cmd_stat(cl *c, const char *path)
{
  smbx_smb2_create_resp cr;
  if (open_path(c, path, A_READ_ATTRIBUTES | A_SYNCHRONIZE, DISP_OPEN, 0, 0,
                &cr, "stat") < 0)
    return -1;
  smbx_smb2_query_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = SMBX_SMB2_0_INFO_FILE;
  q.file_info_class = SMBX_SMB2_FILE_ALL_INFORMATION;
  q.output_buffer_length = 4096;
  q.file_id = cr.file_id;
  uint8_t buf[256];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  op *o = NULL;
  int ret = 0;
  int rc = call(c, SMBX_SMB2_QUERY_INFO, buf,
                smbx_smb2_encode_query_info_req(&h, &q, buf, sizeof buf, NULL),
                &o);
  smbx_smb2_output_resp out;
  smbx_smb2_file_all_info ai;
  char tmp[96];
  if (rc < 0) {
    errf("stat %s: %s", path, smbx_strerror(rc));
    ret = -1;
  } else if (o->err || o->status ||
             smbx_smb2_decode_query_info_resp(o->pdu, o->len, &out, NULL) ||
             smbx_smb2_file_all_info_decode(out.output.p, out.output.len, &ai,
                                            NULL)) {
    errf("stat %s: query info: %s", path, op_status_text(o, tmp, sizeof tmp));
    ret = -1;
  } else {
    printf("%s:\n", path);
    printf("  type     %s\n", ai.standard.directory ? "directory" : "file");
    printf("  size     %llu\n", (unsigned long long)ai.standard.end_of_file);
    printf("  alloc    %llu\n",
           (unsigned long long)ai.standard.allocation_size);
    printf("  attrs    0x%08x\n", (unsigned)ai.basic.file_attributes);
    printf("  links    %u\n", (unsigned)ai.standard.number_of_links);
    printf("  index    0x%016llx\n", (unsigned long long)ai.index_number);
    print_time("created", ai.basic.creation_time);
    print_time("accessed", ai.basic.last_access_time);
    print_time("written", ai.basic.last_write_time);
    print_time("changed", ai.basic.change_time);
  }
  if (o)
    op_free(o);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  return ret;
}

static int cmd_mkdir(cl *c, const char *path)
{
  smbx_smb2_create_resp cr;
  if (open_path(c, path, A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_CREATE, OPT_DIRECTORY_FILE, ATTR_DIRECTORY, &cr,
                "mkdir") < 0)
    return -1;
  return close_file(c, cr.file_id, 0, NULL);
}

static int set_info(cl *c, smbx_smb2_fileid fid, uint8_t cls,
                    const uint8_t *info, size_t len, const char *what,
                    const char *path)
{
  smbx_smb2_set_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = SMBX_SMB2_0_INFO_FILE;
  q.file_info_class = cls;
  q.file_id = fid;
  q.buffer.p = info;
  q.buffer.len = len;
  uint8_t buf[4096];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  op *o = NULL;
  int rc = call(c, SMBX_SMB2_SET_INFO, buf,
                smbx_smb2_encode_set_info_req(&h, &q, buf, sizeof buf, NULL),
                &o);
  char tmp[96];
  if (rc < 0) {
    errf("%s %s: %s", what, path, smbx_strerror(rc));
    return -1;
  }
  int ret = 0;
  if (o->err || o->status) {
    errf("%s %s: %s", what, path, op_status_text(o, tmp, sizeof tmp));
    ret = -1;
  }
  op_free(o);
  return ret;
}

static int cmd_rm(cl *c, const char *path)
{
  if (dir_w_cached(c, path, SMBX_LEASE_OWN_REMOVE, 0, "rm"))
    return 0;
  smbx_smb2_create_resp cr;
  if (open_path(c, path, A_DELETE | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OPEN, 0, 0, &cr, "rm") < 0)
    return -1;
  uint8_t info[1] = {1};
  int ret = set_info(c, cr.file_id, SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                     info, 1, "rm", path);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  return ret;
}

/* setattr PATH ATTRS: set a file's FileAttributes (e.g. 0x21: READONLY |
 * ARCHIVE); cached under the directory's W lease, else on the server. */
static int cmd_setattr(cl *c, const char *path, const char *attrs_s)
{
  char *endp = NULL;
  unsigned long v = strtoul(attrs_s, &endp, 0);
  if (!*attrs_s || *endp || v > UINT32_MAX) {
    errf("setattr %s: bad attributes '%s'", path, attrs_s);
    return -1;
  }
  uint32_t attrs = (uint32_t)v;
  if (dir_w_cached(c, path, SMBX_LEASE_OWN_SETATTR, attrs, "setattr"))
    return 0;
  smbx_smb2_create_resp cr;
  if (open_path(c, path, A_READ_ATTRIBUTES | A_WRITE_ATTRIBUTES |
                             A_SYNCHRONIZE,
                DISP_OPEN, 0, 0, &cr, "setattr") < 0)
    return -1;
  int ret = set_attributes(c, cr.file_id, attrs, "setattr", path);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  if (ret == 0)
    printf("setattr %s: set on the server\n", path);
  return ret;
}

static int cmd_mv(cl *c, const char *from, const char *to)
{
  uint8_t name[2048];
  size_t nl = 0;
  if (utf16_path(to, name, sizeof name, &nl) != 0) {
    errf("mv: bad path %s", to);
    return -1;
  }
  smbx_smb2_create_resp cr;
  if (open_path(c, from, A_DELETE | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OPEN, 0, 0, &cr, "mv") < 0)
    return -1;
  smbx_smb2_file_rename_info ri;
  memset(&ri, 0, sizeof ri);
  ri.file_name.p = name;
  ri.file_name.len = nl;
  uint8_t info[2100];
  smbx_ssize n = smbx_smb2_file_rename_info_encode(&ri, info, sizeof info,
                                                   NULL);
  int ret = n < 0 ? -1
                  : set_info(c, cr.file_id, SMBX_SMB2_FILE_RENAME_INFORMATION,
                             info, (size_t)n, "mv", from);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  return ret;
}

static int cmd_echo(cl *c)
{
  int rc;
  uint64_t req = 0;
  uint64_t t0 = now_ns();
  SUBMIT(c, rc, smbx_client_echo(c->cli, c->conn, now_ns(), &req));
  if (rc < 0) {
    errf("echo: %s", smbx_strerror(rc));
    return -1;
  }
  op *o = op_add(c, req);
  char tmp[96];
  if (wait_op(c, o) < 0 || o->err || o->status) {
    errf("echo: %s", op_status_text(o, tmp, sizeof tmp));
    op_free(o);
    return -1;
  }
  op_free(o);
  printf("echo: %.3f ms\n", (double)(now_ns() - t0) / 1e6);
  return 0;
}

static int cmd_notify(cl *c, const char *dir)
{
  smbx_smb2_create_resp cr;
  if (open_path(c, dir, A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE,
                DISP_OPEN, OPT_DIRECTORY_FILE, 0, &cr, "notify") < 0)
    return -1;
  smbx_smb2_change_notify_req q;
  memset(&q, 0, sizeof q);
  q.flags = 0;
  q.output_buffer_length = 65536;
  q.file_id = cr.file_id;
  q.completion_filter = 0x17fu; /* names, attributes, size, times, EA */
  uint8_t buf[128];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  op *o = NULL;
  int ret = 0;
  char tmp[96];
  fprintf(stderr, "notify %s: waiting for a change\n", *dir ? dir : "\\");
  int rc = call(c, SMBX_SMB2_CHANGE_NOTIFY, buf,
                smbx_smb2_encode_change_notify_req(&h, &q, buf, sizeof buf,
                                                   NULL),
                &o);
  smbx_smb2_output_resp out;
  if (rc < 0) {
    errf("notify %s: %s", dir, smbx_strerror(rc));
    ret = -1;
  } else if (o->err || o->status ||
             smbx_smb2_decode_change_notify_resp(o->pdu, o->len, &out,
                                                 NULL)) {
    errf("notify %s: %s", dir, op_status_text(o, tmp, sizeof tmp));
    ret = -1;
  } else {
    static const char *acts[] = {"?",        "added",    "removed",
                                 "modified", "renamed-from", "renamed-to"};
    smbx_smb2_notify_iter it;
    smbx_smb2_notify_entry e;
    (void)smbx_smb2_notify_iter_init(&it, out.output.p, out.output.len);
    while ((rc = smbx_smb2_notify_iter_next(&it, &e, NULL)) == 1) {
      printf("%s ", e.action < 6 ? acts[e.action] : "?");
      print_utf16(stdout, e.file_name.p, e.file_name.len);
      putchar('\n');
    }
    if (rc < 0) {
      errf("notify %s: malformed notification", dir);
      ret = -1;
    }
  }
  if (o)
    op_free(o);
  if (close_file(c, cr.file_id, 0, NULL) < 0)
    ret = -1;
  return ret;
}

/* cat: one related compound CREATE + READ + CLOSE (FileId all-ones in the
 * READ and CLOSE bodies: inherited from the CREATE), data to stdout. */
static int cmd_cat(cl *c, const char *path)
{
  uint8_t name[2048];
  size_t nl = 0;
  if (utf16_path(path, name, sizeof name, &nl) != 0) {
    errf("cat: bad path %s", path);
    return -1;
  }
  uint32_t chunk = chunk_size(c->max_read);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.impersonation_level = 2;
  q.desired_access = A_READ_DATA | A_READ_ATTRIBUTES | A_SYNCHRONIZE;
  q.share_access = SHARE_ALL;
  q.create_disposition = DISP_OPEN;
  q.create_options = OPT_NON_DIRECTORY_FILE;
  q.name.p = name;
  q.name.len = nl;
  smbx_smb2_fileid inherit;
  memset(&inherit, 0xFF, sizeof inherit);
  smbx_smb2_read_req rq;
  memset(&rq, 0, sizeof rq);
  rq.padding = 0x50;
  rq.length = chunk;
  rq.file_id = inherit;
  smbx_smb2_close_req cq;
  memset(&cq, 0, sizeof cq);
  cq.file_id = inherit;
  uint8_t b0[2200], b1[160], b2[96];
  smbx_ssize n0 = smbx_smb2_encode_create_req(&h, &q, b0, sizeof b0, NULL);
  smbx_ssize n1 = smbx_smb2_encode_read_req(&h, &rq, b1, sizeof b1, NULL);
  smbx_ssize n2 = smbx_smb2_encode_close_req(&h, &cq, b2, sizeof b2, NULL);
  if (n0 < 64 || n1 < 64 || n2 < 64) {
    errf("cat %s: encoding failed", path);
    return -1;
  }
  smbx_client_op ops[3];
  memset(ops, 0, sizeof ops);
  ops[0].command = SMBX_SMB2_CREATE;
  ops[0].body = b0 + 64;
  ops[0].len = (size_t)n0 - 64;
  ops[1].command = SMBX_SMB2_READ;
  ops[1].body = b1 + 64;
  ops[1].len = (size_t)n1 - 64;
  ops[2].command = SMBX_SMB2_CLOSE;
  ops[2].body = b2 + 64;
  ops[2].len = (size_t)n2 - 64;
  uint64_t reqs[3] = {0, 0, 0};
  int rc;
  SUBMIT(c, rc, smbx_client_compound(c->cli, c->conn, c->sess, c->tree, ops,
                                     3, 1, 0, now_ns(), reqs));
  if (rc < 0) {
    errf("cat %s: %s", path, smbx_strerror(rc));
    return -1;
  }
  op *o[3];
  for (int i = 0; i < 3; i++)
    o[i] = op_add(c, reqs[i]);
  int ret = 0;
  for (int i = 0; i < 3; i++)
    if (wait_op(c, o[i]) < 0)
      ret = -1;
  char tmp[96];
  smbx_smb2_create_resp cr;
  smbx_smb2_read_resp rr;
  memset(&cr, 0, sizeof cr);
  memset(&rr, 0, sizeof rr);
  if (ret == 0 &&
      (o[0]->err || o[0]->status ||
       smbx_smb2_decode_create_resp(o[0]->pdu, o[0]->len, &cr, NULL))) {
    errf("cat %s: open failed: %s", path, op_status_text(o[0], tmp, sizeof tmp));
    ret = -1;
  } else if (ret == 0 && !o[1]->err && o[1]->status == SMBX_STATUS_END_OF_FILE &&
             cr.end_of_file == 0) {
    /* empty file */
  } else if (ret == 0 &&
             (o[1]->err || o[1]->status ||
              smbx_smb2_decode_read_resp(o[1]->pdu, o[1]->len, &rr, NULL))) {
    errf("cat %s: read failed: %s", path, op_status_text(o[1], tmp, sizeof tmp));
    ret = -1;
  } else if (ret == 0 && rr.data.len != cr.end_of_file) {
    errf("cat %s: %zu of %llu bytes (cat reads files up to %u bytes; use get)",
         path, rr.data.len, (unsigned long long)cr.end_of_file,
         (unsigned)chunk);
    ret = -1;
  } else if (ret == 0) {
    if (fwrite(rr.data.p, 1, rr.data.len, stdout) != rr.data.len)
      ret = -1;
    fflush(stdout);
  }
  if (ret == 0 && (o[2]->err || o[2]->status)) {
    errf("cat %s: close failed: %s", path, op_status_text(o[2], tmp, sizeof tmp));
    ret = -1;
  }
  for (int i = 0; i < 3; i++)
    op_free(o[i]);
  return ret;
}

/* ---- command line ---------------------------------------------------- */

static int run_command(cl *c, int argc, char **argv)
{
  if (argc == 0)
    return 0;
  const char *cmd = argv[0];
  struct {
    const char *name;
    int min, max;
  } const tab[] = {{"ls", 0, 1},    {"dir", 0, 1},  {"get", 1, 2},
                   {"put", 1, 2},   {"stat", 1, 1}, {"allinfo", 1, 1},
                   {"mkdir", 1, 1}, {"rm", 1, 1},   {"del", 1, 1},
                   {"rmdir", 1, 1}, {"mv", 2, 2},   {"rename", 2, 2},
                   {"echo", 0, 0},  {"notify", 0, 1}, {"cat", 1, 1},
                   {"hold", 1, 2}, {"touch", 1, 1},  {"flush", 0, 1},
                   {"wait", 1, 1},  {"setattr", 2, 2}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
    if (strcmp(cmd, tab[i].name) != 0)
      continue;
    if (argc - 1 < tab[i].min || argc - 1 > tab[i].max) {
      errf("%s: wrong number of arguments", cmd);
      return -1;
    }
    const char *a1 = argc > 1 ? argv[1] : "";
    const char *base1 = strrchr(a1, '/');
    base1 = base1 ? base1 + 1 : a1;
    switch (cmd[0]) {
    case 'l':
      return cmd_ls(c, a1);
    case 'g':
      return cmd_get(c, a1, argc > 2 ? argv[2] : base1);
    case 'p':
      return cmd_put(c, a1, argc > 2 ? argv[2] : base1);
    case 's':
      if (cmd[1] == 'e')
        return cmd_setattr(c, a1, argv[2]);
      return cmd_stat(c, a1);
    case 'a':
      return cmd_stat(c, a1);
    case 'e':
      return cmd_echo(c);
    case 'h':
      return cmd_hold(c, a1, argc > 2 ? argv[2] : NULL);
    case 't':
      return cmd_touch(c, a1);
    case 'f':
      return cmd_flush(c, a1);
    case 'w':
      return cmd_wait(c, a1);
    case 'c':
      return cmd_cat(c, a1);
    case 'n':
      return cmd_notify(c, a1);
    case 'm':
      return cmd[1] == 'k' ? cmd_mkdir(c, a1) : cmd_mv(c, a1, argv[2]);
    case 'r':
      return cmd[1] == 'e' ? cmd_mv(c, a1, argv[2]) : cmd_rm(c, a1);
    case 'd':
      return cmd[1] == 'i' ? cmd_ls(c, a1) : cmd_rm(c, a1);
    default:
      break;
    }
  }
  errf("unknown command '%s'", cmd);
  return -1;
}

/* Splits a -c script on ';' and runs each command (words split on blanks;
 * "double quotes" keep blanks). Stops at the first failure. */
static int run_script(cl *c, char *script)
{
  char *save = NULL;
  for (char *part = strtok_r(script, ";\n", &save); part;
       part = strtok_r(NULL, ";\n", &save)) {
    char *argv[8];
    int argc = 0;
    char *p = part;
    while (*p && argc < 8) {
      while (*p == ' ' || *p == '\t')
        p++;
      if (!*p)
        break;
      if (*p == '"') {
        argv[argc++] = ++p;
        while (*p && *p != '"')
          p++;
      } else {
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
          p++;
      }
      if (*p)
        *p++ = 0;
    }
    if (run_command(c, argc, argv) < 0)
      return -1;
  }
  return 0;
}

static void usage(FILE *f)
{
  fprintf(f,
          "usage: smbx-client [options] //host[:port]/share CMD [ARGS]\n"
          "       smbx-client [options] //host[:port]/share -c 'CMD1; CMD2'\n"
          "commands: ls [DIR] | get REMOTE [LOCAL] | put LOCAL [REMOTE] |\n"
          "          stat PATH | mkdir DIR | rm PATH | mv OLD NEW | echo |\n"
          "          notify [DIR] | cat PATH (compound CREATE+READ+CLOSE) |\n"
          "          hold FILE [SECS] (--leases: RWH lease, dirty data\n"
          "          written back when a break takes W, then acked) |\n"
          "          setattr PATH ATTRS (FileAttributes, e.g. 0x21) |\n"
          "          touch PATH | flush [DIR] | wait SECS (--dir-write:\n"
          "          touch, rm and setattr in a directory listed under its\n"
          "          W lease are cached, written back when a break takes W)\n"
          "options:\n"
          "  -U, --user USER[%%PASS]   NTLMv2 user (default: anonymous)\n"
          "  -W, --domain DOMAIN\n"
          "  -g, --guest              guest logon (user 'guest', no "
          "password)\n"
          "  -d, --dialect D          2.0.2, 2.1, 3.0, 3.0.2 or 3.1.1 "
          "(default: all)\n"
          "  -s, --sign               require signing\n"
          "  -e, --encrypt            require encryption (3.x)\n"
          "      --cipher C           offer only C: aes-128-ccm, aes-128-gcm,\n"
          "                           aes-256-ccm, aes-256-gcm (default: all)\n"
          "  -p, --pcap FILE          write the TCP exchange as pcap\n"
          "  -t, --timeout SECS       per-request timeout (default 60, 0: "
          "none)\n"
          "  -v, --verbose            print negotiation details\n"
          "  -c, --command 'CMDS'     run ';'-separated commands\n"
          "      --rdma               SMB Direct over rdma_cm (port 445 on "
          "IB/RoCE)\n"
          "      --multichannel       bind a second TCP connection to the\n"
          "                           session (3.x, -U) and spread get/put\n"
          "                           over both\n"
          "      --leases             lease table and directory cache: a\n"
          "                           second ls of a directory held under\n"
          "                           an RH lease is served with 0 PDUs\n"
          "      --dir-write          (--leases) ask RWH directory leases: touch\n"
          "                           under W is cached, written back by\n"
          "                           flush or when a break takes W (wait)\n"
          "      --watch DIR          (--leases) list DIR, then print each\n"
          "                           lease break / dropped listing and list\n"
          "                           again; --watch-time SECS bounds it\n"
          "exit status: 0 when every command succeeded, 1 otherwise, 2 "
          "usage\n");
}

static int parse_dialect(const char *s, uint32_t *mask)
{
  static const struct {
    const char *name;
    uint32_t mask;
  } d[] = {{"2.0.2", SMBX_DIALECT_MASK_202}, {"2.02", SMBX_DIALECT_MASK_202},
           {"2.1", SMBX_DIALECT_MASK_210},   {"2.10", SMBX_DIALECT_MASK_210},
           {"3.0", SMBX_DIALECT_MASK_300},   {"3.00", SMBX_DIALECT_MASK_300},
           {"3.0.2", SMBX_DIALECT_MASK_302}, {"3.02", SMBX_DIALECT_MASK_302},
           {"3.1.1", SMBX_DIALECT_MASK_311}, {"3.11", SMBX_DIALECT_MASK_311}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
    if (strcmp(s, d[i].name) == 0) {
      *mask = d[i].mask;
      return 0;
    }
  return -1;
}

/* //host[:port]/share (or \\host\share) */
static int parse_url(const char *url, char *host, size_t hcap, char *port,
                     size_t pcap, char *share, size_t scap)
{
  if (!((url[0] == '/' && url[1] == '/') ||
        (url[0] == '\\' && url[1] == '\\')))
    return -1;
  url += 2;
  size_t n = strcspn(url, "/\\");
  if (n == 0 || !url[n] || !url[n + 1])
    return -1;
  char hp[256];
  if (n >= sizeof hp)
    return -1;
  memcpy(hp, url, n);
  hp[n] = 0;
  snprintf(port, pcap, "445");
  char *colon = NULL;
  if (hp[0] == '[') { /* [v6]:port */
    char *rb = strchr(hp, ']');
    if (!rb)
      return -1;
    *rb = 0;
    if (rb[1] == ':')
      snprintf(port, pcap, "%s", rb + 2);
    snprintf(host, hcap, "%s", hp + 1);
  } else {
    colon = strrchr(hp, ':');
    if (colon) {
      *colon = 0;
      snprintf(port, pcap, "%s", colon + 1);
    }
    snprintf(host, hcap, "%s", hp);
  }
  snprintf(share, scap, "%s", url + n + 1);
  size_t sl = strlen(share);
  while (sl && (share[sl - 1] == '/' || share[sl - 1] == '\\'))
    share[--sl] = 0;
  return sl && !strpbrk(share, "/\\") ? 0 : -1;
}

static int tcp_connect(const char *host, const char *port)
{
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    errf("%s: %s", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0)
      continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
      break;
    close(fd);
    fd = -1;
  }
  if (fd < 0)
    errf("connect to %s:%s: %s", host, port, strerror(errno));
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

typedef struct opts {
  const char *user, *password, *domain, *pcap, *script;
  bool guest, sign, encrypt, verbose;
  uint32_t dialects;
  uint32_t ciphers; /* 0: the node's default (all) */
  uint32_t timeout_s;
  bool have_timeout;
  bool rdma; /* SMB Direct (examples/ibverbs) instead of Direct TCP */
  bool leases, dir_write;
  bool multichannel; /* bind a second TCP connection to the session */
  const char *watch;
  uint32_t watch_s;
} opts;

#ifdef SMBX_HAVE_IBV
/* Connects over SMB Direct; the glue reports ESTABLISHED to the node. */
static int rdma_start(cl *c, const char *host, const char *port,
                      const opts *o)
{
  smbx_ibv_node node;
  smbx_ibv_client_node(c->cli, &node);
  smbx_ibv_config icfg;
  smbx_ibv_config_default(&icfg);
  icfg.verbose = o->verbose;
  /* probe a silent server after half the request timeout, so a dead one
   * is noticed before the requests time out */
  if (o->have_timeout && o->timeout_s)
    icfg.smbd.keepalive_interval_ns =
        (uint64_t)o->timeout_s * 500000000u;
  int rc = smbx_ibv_new(&c->ibv, &node, &icfg);
  if (rc == 0)
    rc = smbx_ibv_connect(c->ibv, host, (uint16_t)atoi(port), 30000, 5,
                          &c->conn);
  if (rc != 0) {
    errf("rdma connect to %s:%s: %s", host, port, strerror(-rc));
    return -1;
  }
  /* until the SMB Direct negotiate is done (CONN_UP) */
  while (!c->dead && !c->conn_up)
    (void)pump_rdma(c, 100);
  if (c->conn_up)
    return 0;
  errf("SMB Direct negotiate: %s", c->down_reason ? c->down_reason : "failed");
  return -1;
}

/* Orderly end: DREQ, then the engine's buffers back, then CLOSED. */
static void rdma_stop(cl *c)
{
  if (!c->ibv)
    return;
  if (c->conn && smbx_ibv_disconnect(c->ibv, c->conn) == 0)
    for (int k = 0; k < 40 && smbx_ibv_has_conn(c->ibv, c->conn); k++) {
      struct pollfd pfd[8];
      size_t n = smbx_ibv_pollfds(c->ibv, pfd, 8);
      (void)poll(pfd, (nfds_t)n, 50);
      (void)smbx_ibv_process(c->ibv, now_ns());
      drain(c, now_ns());
    }
  if (!smbx_ibv_has_conn(c->ibv, c->conn))
    c->conn = 0; /* closed by the glue */
}
#endif

static int connect_session(cl *c, const opts *o, const char *host,
                           const char *share)
{
  /* NEGOTIATE */
  int rc = smbx_client_negotiate(c->cli, c->conn, now_ns());
  if (rc < 0 || wait_flag(c, &c->negotiated) < 0) {
    errf("negotiate: %s", smbx_strerror(rc < 0 ? rc : c->down_err));
    return -1;
  }
  if (c->ev_err) {
    errf("negotiate failed: %s (status 0x%08x)", smbx_strerror(c->ev_err),
         (unsigned)c->ev_status);
    return -1;
  }
  static const char *ciphers[] = {"none", "AES-128-CCM", "AES-128-GCM",
                                  "AES-256-CCM", "AES-256-GCM"};
  static const char *signs[] = {"HMAC-SHA256", "AES-CMAC", "AES-GMAC"};
  if (o->verbose)
    fprintf(stderr,
            "negotiated SMB %x.%x.%x, cipher %s, signing %s, max read %u, "
            "max write %u\n",
            c->dialect >> 8, (c->dialect >> 4) & 15, c->dialect & 15,
            ciphers[c->cipher <= 4 ? c->cipher : 0],
            signs[c->signing_alg <= 2 ? c->signing_alg : 0],
            (unsigned)c->max_read, (unsigned)c->max_write);
  /* SESSION_SETUP: NTLMv2 in SPNEGO through sxauth */
  sxauth_client_config ac;
  memset(&ac, 0, sizeof ac);
  char spn[300];
  snprintf(spn, sizeof spn, "cifs/%s", host);
  ac.target_spn = spn;
  if (o->guest) {
    ac.user = "guest";
    ac.password = "";
  } else if (o->user) {
    ac.user = o->user;
    ac.password = o->password ? o->password : "";
    ac.domain = o->domain;
  } else {
    ac.anonymous = 1;
  }
  sxauth_client *auth = NULL;
  int ar = sxauth_client_new(&auth, &ac);
  if (ar != 0) {
    errf("authentication setup: %s", sxauth_strerror(ar));
    return -1;
  }
  const uint8_t *out = NULL;
  size_t out_len = 0;
  int ret = -1;
  ar = sxauth_client_step(auth, c->blob, c->blob_len, &out, &out_len);
  if (ar != SXAUTH_CONTINUE) {
    errf("authentication: %s", sxauth_strerror(ar));
    goto done;
  }
  c->sess = 0;
  for (;;) {
    c->setup_done = false;
    uint64_t sess = c->sess;
    rc = smbx_client_session_setup(c->cli, c->conn, &sess, out, out_len,
                                   now_ns());
    c->sess = sess;
    if (rc < 0 || wait_flag(c, &c->setup_done) < 0) {
      errf("session setup: %s", smbx_strerror(rc < 0 ? rc : c->down_err));
      goto done;
    }
    if (c->ev_err) {
      errf("session setup: %s", smbx_strerror(c->ev_err));
      goto done;
    }
    if (c->ev_status == SMBX_STATUS_SUCCESS)
      break;
    if (c->ev_status != SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
      errf("session setup: %s (0x%08x)", status_name(c->ev_status),
           (unsigned)c->ev_status);
      goto done;
    }
    ar = sxauth_client_step(auth, c->blob, c->blob_len, &out, &out_len);
    if (ar < 0) {
      errf("authentication: %s (%s)", sxauth_strerror(ar),
           sxauth_client_error(auth));
      goto done;
    }
    uint8_t key[16];
    if (sxauth_client_session_key(auth, key) == 0)
      (void)smbx_client_session_key(c->cli, c->sess, key, 16, now_ns());
  }
  ar = sxauth_client_step(auth, c->blob, c->blob_len, &out, &out_len);
  if (ar != SXAUTH_DONE) {
    errf("authentication: server's final token: %s", sxauth_strerror(ar));
    goto done;
  }
  if (ac.anonymous && !c->session_up) {
    /* Samba answers an anonymous NTLMSSP logon with SessionFlags 0 (not
     * IS_NULL), so the node waits for a session key: tell it there is
     * none (nothing is signed; signing is refused for anonymous logons) */
    drain(c, now_ns());
    if (!c->session_up)
      (void)smbx_client_session_key(c->cli, c->sess, NULL, 0, now_ns());
  }
  if (wait_flag(c, &c->session_up) < 0) {
    errf("session setup: %s", smbx_strerror(c->down_err));
    goto done;
  }
  if (o->verbose)
    fprintf(stderr, "session up: %s%s\n",
            o->guest ? "guest" : o->user ? o->user : "anonymous",
            c->session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST ? " (as guest)"
            : c->session_flags & SMBX_SMB2_SESSION_FLAG_IS_NULL
                ? " (null session)"
                : "");
  if ((o->sign || o->encrypt) &&
      (ac.anonymous || c->session_flags & (SMBX_SMB2_SESSION_FLAG_IS_GUEST |
                           SMBX_SMB2_SESSION_FLAG_IS_NULL))) {
    errf("--sign/--encrypt need a user session (-U), not a %s one",
         c->session_flags & SMBX_SMB2_SESSION_FLAG_IS_GUEST ? "guest"
                                                            : "null");
    goto done;
  }
  if (o->encrypt && c->cipher == 0) {
    errf("--encrypt: no cipher agreed (dialect %x.%x.%x)", c->dialect >> 8,
         (c->dialect >> 4) & 15, c->dialect & 15);
    goto done;
  }
  /* TREE_CONNECT */
  char path[600];
  snprintf(path, sizeof path, "\\\\%s\\%s", host, share);
  uint64_t req = 0;
  rc = smbx_client_tree_connect(c->cli, c->conn, c->sess, path, now_ns(),
                                &req);
  if (rc < 0 || wait_flag(c, &c->tree_done) < 0) {
    errf("tree connect %s: %s", path,
         smbx_strerror(rc < 0 ? rc : c->down_err));
    goto done;
  }
  if (c->ev_err || c->ev_status) {
    errf("tree connect %s: %s (0x%08x)", path,
         c->ev_err ? smbx_strerror(c->ev_err) : status_name(c->ev_status),
         (unsigned)c->ev_status);
    goto done;
  }
  c->tree = c->tree_id;
  ret = 0;
done:
  sxauth_client_free(auth);
  return ret;
}

/* --multichannel: a second TCP connection to the same server, negotiated
 * and bound to the session (smbx_client_session_bind with a fresh NTLMv2
 * exchange; the channel key from its own session key). */
static int bind_second_channel(cl *c, const opts *o, const char *host,
                               const char *port)
{
  if (!o->user || c->dialect < 0x0300) {
    errf("--multichannel needs a user session (-U) on SMB 3.x");
    return -1;
  }
  if ((c->ch2.fd = tcp_connect(host, port)) < 0)
    return -1;
  c->ch2.rbuf = malloc(RBUF_CAP);
  smbx_tcp_hooks hooks = {sizeof hooks, c, hook_send2};
  int rc = c->ch2.rbuf ? smbx_client_add_tcp(c->cli, &hooks, now_ns(),
                                             &c->ch2.conn)
                       : SMBX_ERR_NOMEM;
  if (rc == 0) {
    c->negotiated = false;
    rc = smbx_client_negotiate(c->cli, c->ch2.conn, now_ns());
  }
  if (rc < 0 || wait_flag(c, &c->negotiated) < 0 || c->ev_err) {
    errf("second channel: negotiate: %s",
         smbx_strerror(rc < 0 ? rc : c->ev_err ? c->ev_err : c->down_err));
    return -1;
  }
  sxauth_client_config ac;
  memset(&ac, 0, sizeof ac);
  char spn[300];
  snprintf(spn, sizeof spn, "cifs/%s", host);
  ac.target_spn = spn;
  ac.user = o->user;
  ac.password = o->password ? o->password : "";
  ac.domain = o->domain;
  sxauth_client *auth = NULL;
  int ar = sxauth_client_new(&auth, &ac);
  if (ar != 0) {
    errf("second channel: authentication setup: %s", sxauth_strerror(ar));
    return -1;
  }
  const uint8_t *out = NULL;
  size_t out_len = 0;
  int ret = -1;
  ar = sxauth_client_step(auth, c->blob, c->blob_len, &out, &out_len);
  for (; ar == SXAUTH_CONTINUE;) {
    c->setup_done = false;
    rc = smbx_client_session_bind(c->cli, c->ch2.conn, c->sess, out, out_len,
                                  now_ns());
    if (rc < 0 || wait_flag(c, &c->setup_done) < 0 || c->ev_err) {
      errf("second channel: bind: %s",
           smbx_strerror(rc < 0 ? rc : c->ev_err ? c->ev_err : c->down_err));
      goto done;
    }
    if (c->ev_status == SMBX_STATUS_SUCCESS)
      break;
    if (c->ev_status != SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
      errf("second channel: bind: %s (0x%08x)", status_name(c->ev_status),
           (unsigned)c->ev_status);
      goto done;
    }
    ar = sxauth_client_step(auth, c->blob, c->blob_len, &out, &out_len);
    uint8_t key[16];
    if (ar >= 0 && sxauth_client_session_key(auth, key) == 0)
      (void)smbx_client_session_bind_key(c->cli, c->ch2.conn, c->sess, key,
                                         16, now_ns());
  }
  if (ar < 0) {
    errf("second channel: authentication: %s", sxauth_strerror(ar));
    goto done;
  }
  if (wait_flag(c, &c->ch2.bound) < 0) {
    errf("second channel: bind: %s", smbx_strerror(c->down_err));
    goto done;
  }
  if (o->verbose)
    fprintf(stderr, "second channel bound\n");
  /* what the channels answer from here on (transfers spread their
   * pieces over both; their responses are no events) */
  const uint64_t conns[2] = {c->conn, c->ch2.conn};
  for (int k = 0; k < 2; k++) {
    smbx_conn_info ci;
    memset(&ci, 0, sizeof ci);
    ci.struct_size = sizeof ci;
    (void)smbx_client_conn_info(c->cli, conns[k], &ci);
    c->responses[k] = ci.responses;
  }
  ret = 0;
done:
  sxauth_client_free(auth);
  return ret;
}

static int client_main(int argc, char **argv)
{
  opts o;
  memset(&o, 0, sizeof o);
  o.dialects = SMBX_DIALECT_MASK_ALL;
  int i = 1;
  char userbuf[512];
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(s, l) (strcmp(a, s) == 0 || strcmp(a, l) == 0)
    if (OPT("-h", "--help")) {
      usage(stdout);
      return 0;
    } else if (OPT("-U", "--user") && v) {
      snprintf(userbuf, sizeof userbuf, "%s", v);
      char *pct = strchr(userbuf, '%');
      if (pct) {
        *pct = 0;
        o.password = pct + 1;
      }
      char *bs = strchr(userbuf, '\\');
      if (bs) {
        *bs = 0;
        o.domain = userbuf;
        o.user = bs + 1;
      } else {
        o.user = userbuf;
      }
      i++;
    } else if (OPT("-W", "--domain") && v) {
      o.domain = v;
      i++;
    } else if (OPT("-g", "--guest")) {
      o.guest = true;
    } else if (OPT("-d", "--dialect") && v) {
      if (parse_dialect(v, &o.dialects) != 0) {
        errf("unknown dialect '%s'", v);
        return 2;
      }
      i++;
    } else if (OPT("-s", "--sign")) {
      o.sign = true;
    } else if (OPT("-e", "--encrypt")) {
      o.encrypt = true;
    } else if (OPT("-t", "--timeout") && v) {
      char *end = NULL;
      unsigned long t = strtoul(v, &end, 10);
      if (!end || *end || t > 86400) {
        errf("bad timeout '%s'", v);
        return 2;
      }
      o.timeout_s = (uint32_t)t;
      o.have_timeout = true;
      i++;
    } else if (strcmp(a, "--cipher") == 0 && v) {
      static const char *names[] = {"", "aes-128-ccm", "aes-128-gcm",
                                    "aes-256-ccm", "aes-256-gcm"};
      o.ciphers = 0;
      for (uint32_t k = 1; k < 5; k++)
        if (strcmp(v, names[k]) == 0)
          o.ciphers = 1u << k;
      if (!o.ciphers) {
        errf("unknown cipher '%s'", v);
        return 2;
      }
      i++;
    } else if (OPT("-p", "--pcap") && v) {
      o.pcap = v;
      i++;
    } else if (OPT("-v", "--verbose")) {
      o.verbose = true;
    } else if (strcmp(a, "--rdma") == 0) {
      o.rdma = true;
    } else if (strcmp(a, "--multichannel") == 0) {
      o.multichannel = true;
    } else if (strcmp(a, "--leases") == 0) {
      o.leases = true;
    } else if (strcmp(a, "--dir-write") == 0) {
      o.leases = o.dir_write = true;
    } else if (strcmp(a, "--watch") == 0 && v) {
      o.watch = v;
      o.leases = true;
      i++;
    } else if (strcmp(a, "--watch-time") == 0 && v) {
      o.watch_s = (uint32_t)strtoul(v, NULL, 10);
      i++;
    } else if (OPT("-c", "--command") && v) {
      o.script = v;
      i++;
    } else {
      errf("bad option '%s'", a);
      usage(stderr);
      return 2;
    }
#undef OPT
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  char host[256], port[16], share[256];
  if (parse_url(argv[i], host, sizeof host, port, sizeof port, share,
                sizeof share) != 0) {
    errf("bad share '%s' (want //host[:port]/share)", argv[i]);
    return 2;
  }
  i++;
  /* -c may also follow the share */
  if (i + 1 < argc && strcmp(argv[i], "-c") == 0 && !o.script) {
    o.script = argv[i + 1];
    i += 2;
  }
  if (!o.script && !o.watch && i >= argc) {
    errf("no command");
    usage(stderr);
    return 2;
  }

  int ret = 1;
  cl c;
  memset(&c, 0, sizeof c);
  c.fd = -1;
  c.ch2.fd = -1;
  c.want_sign = o.sign;
  c.want_encrypt = o.encrypt;
  c.verbose = o.verbose;
  char *script = o.script ? strdup(o.script) : NULL;
  smbx_openssl *ossl = NULL;
  char err[256] = "";
  if (smbx_openssl_new(&ossl, 0, err, sizeof err) != 0) {
    errf("OpenSSL: %s", err);
    free(script);
    return 1;
  }
  smbx_crypto crypto;
  smbx_openssl_crypto(ossl, &crypto);
  smbx_client_settings cs;
  smbx_client_settings_default(&cs, sizeof cs);
  cs.dialects = o.dialects;
  { /* a fresh ClientGuid per run (the node's default is zero) */
    int rfd = open("/dev/urandom", O_RDONLY);
    if (rfd >= 0) {
      if (read(rfd, cs.client_guid, sizeof cs.client_guid) < 0)
        memset(cs.client_guid, 0, sizeof cs.client_guid);
      close(rfd);
    }
  }
  if (o.ciphers)
    cs.ciphers = o.ciphers;
  if (o.have_timeout)
    cs.request_timeout_ns = (uint64_t)o.timeout_s * 1000000000u;
  if (o.sign)
    cs.flags |= SMBX_CLIENT_SIGNING_REQUIRED;
  if (o.encrypt)
    cs.flags |= SMBX_CLIENT_ENCRYPT;
  /* a guest session only when no credentials were given (--guest or
   * anonymous); a user's logon that the server maps to guest fails */
  if (o.guest || !o.user)
    cs.flags |= SMBX_CLIENT_ALLOW_GUEST;
  c.rbuf = malloc(RBUF_CAP);
  int rc;
  if (!c.rbuf ||
      (rc = smbx_client_new(&c.cli, &cs, &crypto, NULL, now_ns())) != 0) {
    errf("client: %s", smbx_strerror(c.rbuf ? rc : SMBX_ERR_NOMEM));
    goto out;
  }
  if (o.pcap && !(c.pcap = pcapw_open(o.pcap, NULL))) {
    errf("--pcap %s: cannot create", o.pcap);
    goto out;
  }
  if (o.rdma) {
#ifdef SMBX_HAVE_IBV
    if (rdma_start(&c, host, port, &o) < 0)
      goto out;
#else
    errf("built without rdma-core: no --rdma");
    goto out;
#endif
  } else {
    if ((c.fd = tcp_connect(host, port)) < 0)
      goto out;
    smbx_tcp_hooks hooks = {sizeof hooks, &c, hook_send};
    if ((rc = smbx_client_add_tcp(c.cli, &hooks, now_ns(), &c.conn)) != 0) {
      errf("client: %s", smbx_strerror(rc));
      goto out;
    }
  }
  if (connect_session(&c, &o, host, share) < 0)
    goto out;
  if (o.multichannel && (o.rdma || bind_second_channel(&c, &o, host, port) <
                                       0)) {
    if (o.rdma)
      errf("--multichannel binds a TCP channel: not with --rdma");
    goto out;
  }
  if (o.leases) {
    if ((rc = smbx_client_leases_enable(c.cli, NULL, now_ns())) != 0 ||
        (rc = smbx_client_lease_scope(c.cli, c.server_guid, share, 0,
                                      &c.scope)) != 0) {
      errf("leases: %s", smbx_strerror(rc));
      goto out;
    }
    c.leases = true;
    c.watch = o.watch != NULL;
    c.dir_write = o.dir_write;
  }
  rc = script ? run_script(&c, script)
       : i < argc ? run_command(&c, argc - i, argv + i)
                  : 0;
  if (rc == 0 && o.watch)
    rc = cmd_watch(&c, o.watch, o.watch_s);
  if (rc == 0 && c.unprotected) {
    errf("%llu response(s) arrived neither %s", (unsigned long long)c.unprotected,
         o.encrypt ? "encrypted" : "signed nor encrypted");
    rc = -1;
  }
  /* LOGOFF, then close */
  uint64_t req = 0;
  if (!c.dead &&
      smbx_client_logoff(c.cli, c.conn, c.sess, now_ns(), &req) == 0) {
    for (int k = 0; k < 50 && !c.session_down && !c.dead; k++)
      (void)pump(&c, 100);
    if (o.verbose)
      fprintf(stderr, "logoff: %s\n", c.session_down ? "ok" : "no answer");
  }
  if (o.multichannel && o.verbose) {
    const uint64_t conns[2] = {c.conn, c.ch2.conn};
    uint64_t n[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
      smbx_conn_info ci;
      memset(&ci, 0, sizeof ci);
      ci.struct_size = sizeof ci;
      if (smbx_client_conn_info(c.cli, conns[k], &ci) == 0)
        n[k] = ci.responses - c.responses[k];
    }
    fprintf(stderr, "multichannel: %llu responses on the first channel, "
                    "%llu on the second\n",
            (unsigned long long)n[0], (unsigned long long)n[1]);
  }
  ret = rc == 0 ? 0 : 1;
out:
  if (c.cli && c.ch2.conn) {
    (void)smbx_client_close_conn(c.cli, c.ch2.conn, now_ns());
    drain(&c, now_ns());
  }
  if (c.ch2.fd >= 0)
    close(c.ch2.fd);
  free(c.ch2.rbuf);
  free(c.ch2.obuf);
#ifdef SMBX_HAVE_IBV
  rdma_stop(&c);
#endif
  if (c.cli && c.conn) {
    (void)smbx_client_close_conn(c.cli, c.conn, now_ns());
    drain(&c, now_ns());
    (void)flush_out(&c);
  }
  if (c.fd >= 0)
    close(c.fd);
  if (c.pcap && pcapw_close(c.pcap) != 0) {
    errf("--pcap %s: write failed", o.pcap);
    ret = 1;
  }
  for (size_t k = 0; k < MAX_OPS; k++)
    if (c.ops[k].used)
      op_free(&c.ops[k]);
#ifdef SMBX_HAVE_IBV
  smbx_ibv_free(c.ibv); /* before the node: it closes its connections */
#endif
  smbx_client_free(c.cli);
  smbx_openssl_free(ossl);
  free(c.rbuf);
  free(c.obuf);
  free(c.blob);
  free(script);
  return ret;
}

int main(int argc, char **argv)
{
#ifdef SMBX_HAVE_IBV
  int lab = smbx_lab_client_args(&argc, &argv);
  if (lab < 0)
    return 1;
  if (lab)
    return smbx_lab_client_finish(client_main(argc, argv));
#endif
  return client_main(argc, argv);
}
