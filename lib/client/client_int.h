/* SPDX-License-Identifier: MIT */
/* Client node internals (rank 6) shared by the files of lib/client:
 * client.c (connections, sessions, requests, events) and channel.c
 * (multichannel: channel choice, failover replay, interface query). */
#ifndef SMBX_CLIENT_CLIENT_INT_H
#define SMBX_CLIENT_CLIENT_INT_H

#include <smbx/client.h>

#include "client/rdma_io.h"
#include "conn/conn.h"
#include "core/alloc.h"
#include "core/cursor.h"
#include "core/hash.h"
#include "core/ring.h"
#include "core/slab.h"

typedef struct smbx__cli_leases smbx__cli_leases;

enum { CK_NONE = 0, CK_REQ, CK_NEG, CK_SESS, CK_TREE, CK_LOGOFF, CK_BIND };

typedef struct cslot {
  uint64_t req;
  uint64_t session;
  uint8_t kind;
  uint32_t replay;     /* its copy in the replay arena (offset + 1), or 0 */
  uint64_t first_conn; /* a failover replay: where it was first sent ... */
  uint64_t first_req;  /* ... and its handle there (0: not a replay) */
  smbx__cli_rdma_rec io; /* a READ/WRITE by RDMA: its registrations */
} cslot;

typedef struct cconn {
  smbx_client *cli;
  smbx__conn *c;
  uint64_t handle;
  smbx_tcp_hooks tcp;
  cslot *slots;
  uint32_t n_slots;
  uint8_t state; /* 0 new, 1 negotiating, 2 negotiated */
  bool smbd;
  uint16_t dialect;
  uint32_t caps;
  uint16_t cipher;
  uint16_t sign_alg;
  uint16_t server_secmode;
  uint32_t max_read, max_write; /* negotiated MaxReadSize, MaxWriteSize */
  struct smbx__cli_rdma *rdma; /* direct placement (SMB Direct), or NULL */
} cconn;

/* encrypting trees one session remembers by TreeId */
#define SMBX__CLI_ENC_TREES 16u

#define CS_PENDING 1u
#define CS_UP 2u
#define CS_NEEDKEY 3u /* final SUCCESS seen, waiting for the key */

typedef struct csess {
  uint64_t wire_id;
  uint64_t conn;
  uint8_t state;
  bool inflight;
  bool have_key;
  uint8_t key[64];
  size_t key_len;
  uint16_t dialect;
  uint16_t flags;
  uint8_t preauth[64];
  smbx__conn_keys keys;
  bool have_keys;
  uint16_t channel_sequence; /* 3.2.1.3 Session.ChannelSequence: sent in
                                every request, bumped on a failover */
  uint64_t failed_conn;      /* the channel loss it was bumped for */
  /* TreeConnect.EncryptData (3.2.5.5): trees whose share asked for
   * encryption (SMB2_SHAREFLAG_ENCRYPT_DATA); every request on them is
   * encrypted or not sent. Past SMBX__CLI_ENC_TREES of them every tree
   * of the session counts as one (enc_any). */
  uint32_t enc_trees[SMBX__CLI_ENC_TREES];
  uint8_t n_enc_trees;
  bool enc_any;
} csess;

/* A channel of a session on another connection (binding, smb2.md 6.6). */
typedef struct cchan {
  uint64_t session; /* local session handle */
  uint64_t conn;
  uint8_t state;    /* CS_PENDING, CS_UP */
  bool inflight;
  bool have_key;   /* the binding's own session key was given */
  uint8_t key[64];
  size_t key_len;
  uint8_t preauth[64];
  smbx__conn_keys keys;
} cchan;

struct smbx_client {
  smbx_allocator alloc;
  smbx_client_settings s;
  smbx_crypto cr;
  bool have_cr;
  smbx__slab conns, sessions, chans;
  const csess *binding; /* signing a binding leg with the session's key */
  smbx__hash sids; /* wire SessionId -> csess */
  smbx__ring evq;
  /* a lower bound of evq's free slots beyond what ev_room reserves (see
   * there): a send proves its room from it without the connection walk */
  size_t ev_spare;
  smbx__cli_leases *leases; /* lease table and directory cache, or NULL */
  struct smbx__cli_xfers *xfers; /* pipelined transfers (xfer.c), or NULL */
  uint8_t *sbuf;
  size_t sbuf_cap;
  uint64_t now;
  uint64_t seed;
  /* failover replay arena (channel.c): records of requests in flight,
   * a ring of [u32 len, u32 live, PDU padded to 8] */
  uint8_t *rp;
  size_t rcap, rhead, rtail, rused, rend;
  bool rwrapped;
};

/* ---- client.c: protection ------------------------------------------------- */

/* The session can encrypt (3.x keys with a cipher, not guest/anonymous). */
bool smbx__cli_can_encrypt(const csess *cs);
/* Requests on tree_id are signed or encrypted (case 56: never by RDMA):
 * the session signs or encrypts everything, or the tree's share asked for
 * encryption. tree_id UINT32_MAX: any tree of the session. */
bool smbx__cli_protected(const csess *cs, uint32_t tree_id);

/* ---- channel.c: multichannel --------------------------------------------- */

/* The least loaded live channel of session sh (conn handle), or 0. */
uint64_t smbx__cli_pick(const smbx_client *cli, uint64_t sh);
/* Before conn cc sends the message at sbuf + HEADROOM (len bytes) for
 * session sh (cs: that session, NULL for none): stamps the session's
 * ChannelSequence into each PDU and, for a replayable single PDU on a
 * session with several channels, keeps a copy. Returns the copy's id for
 * the request's slot, or 0. */
uint32_t smbx__cli_before_send_general(cconn *cc, const csess *cs,
                                       uint64_t sh, size_t len);
/* The same, inline for one 3.x PDU when no copies are kept (no replay
 * arena): only the stamp. */
static inline uint32_t smbx__cli_before_send(cconn *cc, const csess *cs,
                                             uint64_t sh, size_t len)
{
  if (!cs || cs->dialect < SMBX_SMB2_DIALECT_300)
    return 0;
  uint8_t *p = cc->cli->sbuf + SMBX__CONN_HEADROOM;
  if (!cc->cli->rp && len >= SMBX_SMB2_HDR_SIZE &&
      smbx__get_le32(p + 20) == 0) { /* NextCommand 0: one PDU */
    smbx__put_le16(p + 8, cs->channel_sequence);
    return 0;
  }
  return smbx__cli_before_send_general(cc, cs, sh, len);
}
/* The send failed or the request completed: drop its copy. */
void smbx__cli_replay_drop(smbx_client *cli, uint32_t id);
/* The caller's buffer of a READ/WRITE by RDMA (its slot's record): what
 * a failover needs to register it again on another channel. */
typedef struct crdma_io {
  void *buf; /* NULL: the request had no registrations */
  uint32_t length;
  bool read;
} crdma_io;
/* Request s (handle req, cookie user) of dying connection cc: resend it
 * on a surviving channel of its session (REPLAY_OPERATION, the bumped
 * ChannelSequence), once; a READ/WRITE by RDMA (io) is rebuilt there with
 * new registrations, or inline. True when resent (it completes later,
 * from there); false: complete it here. */
bool smbx__cli_failover(cconn *cc, const cslot *s, uint64_t req,
                        uint64_t user, const crdma_io *io);
/* Frees the arena (smbx_client_free). */
void smbx__cli_replay_free(smbx_client *cli);
/* Allocates the arena if the settings ask for one (first bind). */
int smbx__cli_replay_init(smbx_client *cli);

#endif
