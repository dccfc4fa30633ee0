/* SPDX-License-Identifier: MIT */
/* Server node internals (rank 6) shared by the files of lib/server:
 * server.c (connections, sessions, trees, requests, events) and channel.c
 * (multichannel: interface list, ChannelSequence of opens). */
#ifndef SMBX_SERVER_SERVER_INT_H
#define SMBX_SERVER_SERVER_INT_H

#include <smbx/server.h>

#include "conn/conn.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/ring.h"
#include "core/slab.h"

enum { K_NONE = 0, K_REQ, K_SESS, K_TREE, K_BIND };

/* What the node remembers about a request it delivered (indexed by the
 * connection's request slot index). */
typedef struct slot {
  uint64_t req;
  uint64_t hold;
  uint64_t session;
  uint8_t kind;
  uint16_t command;          /* K_REQ: the request's Command ... */
  uint16_t channel_sequence; /* ... and ChannelSequence (3.x) */
} slot;

typedef struct sconn {
  smbx_server *srv;
  smbx__conn *c;
  uint64_t handle;
  smbx_tcp_hooks tcp;
  slot *slots;
  uint32_t n_slots;
  bool negotiated;
  bool down;
  bool smbd;
  uint16_t dialect;
  uint32_t caps;
  uint16_t cipher;
  uint16_t sign_alg;
  uint16_t client_secmode;
  uint8_t client_guid[16]; /* 3.3.5.5: a binding must come from the same
                              client */
  const char *kill; /* deferred teardown (cannot abort inside an upcall) */
  struct smbx__srv_rdma *rdma; /* direct placement (SMB Direct), or NULL */
  /* CONN_DOWN waits for the last RDMA_DONE (transfers still posted at the
   * teardown end when their operations are flushed back) */
  bool down_owed;
  int down_err;
  uint32_t down_status;
  const char *down_reason;
} sconn;

#define SS_PENDING 1u
#define SS_UP 2u

typedef struct ssess {
  uint64_t conn;     /* connection it was set up on */
  uint64_t pending;  /* request handle of the leg in flight, or 0 */
  uint8_t state;
  uint16_t dialect;
  uint16_t flags;    /* SessionFlags */
  uint8_t preauth[64];
  smbx__conn_keys keys;
  bool have_keys;
  uint8_t client_guid[16]; /* of the connection that set it up */
  uint8_t user_len;        /* smbx_server_session_user: who it is */
  uint8_t user[SMBX_SERVER_USER_MAX];
  uint64_t previous; /* PreviousSessionId of the leg in flight (3.3.5.5.3) */
} ssess;

/* A channel of a session on another connection (multichannel binding,
 * smb2.md 6.6). The session's own connection is its first channel. */
typedef struct schan {
  uint64_t session;
  uint64_t conn;
  uint8_t state; /* SS_PENDING, SS_UP */
  uint8_t preauth[64];
  smbx__conn_keys keys;
  uint8_t user_len; /* who the binding authenticated (must be the
                       session's user) */
  uint8_t user[SMBX_SERVER_USER_MAX];
} schan;

typedef struct stree {
  uint64_t session;
  uint64_t conn;
  bool encrypt; /* Share.EncryptData: requests in the clear are refused */
} stree;

struct smbx_server {
  smbx_allocator alloc;
  smbx_server_settings s;
  uint8_t *blob;
  smbx_crypto cr;
  bool have_cr;
  smbx__slab conns, sessions, trees, chans;
  smbx__ring evq;
  uint8_t *sbuf;
  size_t sbuf_cap;
  uint64_t now;
  uint64_t seed;
  bool bp; /* backpressure on */
  const ssess *binding; /* answering a binding leg: its non-SUCCESS
                           response is signed with this session's key */
  /* channel.c: FSCTL_QUERY_NETWORK_INTERFACE_INFO from the host's list */
  uint8_t *ifwire;  /* the NETWORK_INTERFACE_INFO chain as sent */
  size_t ifwire_len;
  uint8_t *ifresp;  /* where the IOCTL response is encoded */
  size_t ifresp_cap;
  /* channel.c: Open.ChannelSequence (3.3.5.2.10) of the opens the host
   * created, by FileId; only with MULTI_CHANNEL */
  smbx__slab opens;
  smbx__hash open_ids;
};

/* ---- channel.c: multichannel --------------------------------------------- */

/* An IOCTL request the node answers itself
 * (FSCTL_QUERY_NETWORK_INTERFACE_INFO, 3.3.5.15.11): true when answered;
 * false: it is the host's. */
bool smbx__srv_ioctl(sconn *sc, const smbx__conn_pdu *pd);
/* Allocates the open table (smbx_server_new; MULTI_CHANNEL only). */
int smbx__srv_channel_init(smbx_server *srv);
/* Frees the interface list and the open table (smbx_server_free). */
void smbx__srv_channel_free(smbx_server *srv);
/* The host answered CREATE request sl with SUCCESS and the response PDU
 * (len bytes): its FileId starts with the request's ChannelSequence. */
void smbx__srv_open_created(sconn *sc, const slot *sl, const uint8_t *pdu,
                            size_t len);
/* 3.3.5.2.10 before a request reaches the host: a WRITE, SET_INFO or
 * IOCTL with a stale ChannelSequence is failed here
 * (FILE_NOT_AVAILABLE; true); a newer one becomes the open's; a CLOSE
 * forgets the open. */
bool smbx__srv_channel_sequence(sconn *sc, const smbx__conn_pdu *pd);
/* Whether smbx__srv_channel_sequence() may act on a request of command
 * cmd (the others pass it without a look at their body). */
static inline bool smbx__srv_channel_sequence_guards(uint16_t cmd)
{
  return cmd == SMBX_SMB2_WRITE || cmd == SMBX_SMB2_SET_INFO ||
         cmd == SMBX_SMB2_IOCTL || cmd == SMBX_SMB2_CLOSE;
}
/* Session sid ended: forget its opens. */
void smbx__srv_opens_drop_session(smbx_server *srv, uint64_t sid);

/* ---- vmo_glue.c: who opens a memory object -------------------------------- */

/* The user smbx_server_session_user() named for established session sid
 * (*len its bytes); NULL (*len 0) when the session is unknown, not
 * established, guest or anonymous, or has no named user. */
const uint8_t *smbx__srv_session_user(smbx_server *srv, uint64_t sid,
                                      size_t *len);

#endif
