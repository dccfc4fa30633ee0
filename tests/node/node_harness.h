/* SPDX-License-Identifier: MIT */
/* Test host for the node tests: a client node and a server node joined by
 * in-memory Direct TCP pipes (or the simulated SMB Direct NIC), a fake
 * authenticator, a tiny in-memory file system acting as the server host,
 * and a log of every client event (bytes copied, holds released at once). */
#ifndef SMBX_TESTS_NODE_HARNESS_H
#define SMBX_TESTS_NODE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "pair.h"
#include "sim.h"
#include "test_alloc.h"

#define NH_PAIRS 4
#define NH_FILES 8
#define NH_LOG 4096
#define NH_DEFER 128
#define NH_LENT 64 /* RDMA transfers the server host runs at once */
#define NH_S 1000000000ull

typedef struct nh_pipe {
  void *pcap; /* pcapw *: every byte sent is also captured */
  int dir;    /* 0 client -> server, 1 server -> client */
  uint8_t *p;
  size_t len, cap;
  size_t off; /* bytes already fed (the rest waits for holds) */
  size_t total;
  int fail_in; /* > 0: that many sends on, this and every later send
                 fails (a dead socket) */
} nh_pipe;

typedef struct nh_pair {
  bool used;
  bool raw_client;  /* no client node: the test injects bytes */
  bool smbd;
  sim *w; /* its simulated NIC (SMB Direct) */
  uint64_t sconn, cconn;
  nh_pipe c2s, s2c;
  bool sdown, cdown;
  int sdown_err, cdown_err;
} nh_pair;

typedef struct nh_file {
  bool used;
  char name[64];
  uint8_t *data;
  size_t len, cap;
  uint64_t id;
  int opens;
} nh_file;

typedef struct nh_cev {
  smbx_event ev;
  uint8_t *bytes; /* copy of the PDU / blob the event viewed */
  size_t len;
} nh_cev;

typedef struct nh {
  test_alloc ta;
  bool use_ta;
  smbx_crypto cr;
  bool have_cr;
  void *ossl;
  smbx_server *srv;
  smbx_client *cli;
  smbx_server_settings ss;
  smbx_client_settings cs;
  nh_pair pair[NH_PAIRS];
  uint64_t now;
  void *pcap;      /* pcapw * for TCP pairs added after it is set */
  size_t feed_max; /* split every feed into pieces of this many bytes */
  /* server host */
  nh_file files[NH_FILES];
  uint64_t next_fid;
  bool defer;      /* keep REQUEST events unanswered */
  /* the test's own host for REQUESTs, asked before `defer` and the
   * built-in file system: true when it answered or kept the request */
  bool (*host_request)(struct nh *x, const smbx_event *e);
  void *host_ud;
  struct {
    uint64_t conn, req;
    uint16_t cmd;
    uint16_t channel_sequence; /* low 16 bits of the header's @8 */
    uint32_t hdr_flags;
  } deferred[NH_DEFER];
  size_t n_deferred;
  /* host memory lent to RDMA transfers, until their RDMA_DONE */
  struct {
    uint64_t conn, req;
    smbx_mr mr;
    sim *w;
  } lent[NH_LENT];
  size_t srv_rdma_done;
  size_t srv_replays;   /* REQUESTs with REPLAY_OPERATION, and the last's */
  uint64_t replay_conn; /* connection and ChannelSequence */
  uint16_t replay_seq;
  size_t srv_events[16]; /* count per type */
  size_t srv_requests;
  size_t srv_inplace; /* REQUEST views pointing into a fed TCP buffer or an
                         SMB Direct receive buffer (zero copy) */
  uint32_t srv_req_flags_and, srv_req_flags_or;
  uint32_t last_req_flags;
  smbx_smb2_fileid last_req_fileid;
  uint32_t tree_id;
  uint16_t srv_dialect;
  uint16_t session_flags; /* what the fake authenticator grants */
  uint32_t share_flags;   /* the share's ShareFlags in TREE_CONNECT */
  uint8_t key[16];
  int auth_rounds; /* MORE_PROCESSING rounds before SUCCESS: 2 */
  const char *auth_user; /* named with smbx_server_session_user before
                            SUCCESS when set */
  /* client log */
  nh_cev log[NH_LOG];
  size_t n_log, cursor;
  /* SMB Direct */
  sim *w;
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rbufs[2][64];
  smbx_transport t[2];
  /* a second SMB Direct pair: its own NIC (multichannel) */
  sim *w2;
  uint8_t *rmem2[2];
  smbx_smbd_recv_buf rbufs2[2][64];
  smbx_transport t2[2];
} nh;

/* Defaults: both nodes with every dialect, the OpenSSL adapter when built
 * with it (NH_HAVE_OPENSSL), test allocator. Adjust x->ss / x->cs between
 * nh_setup and nh_start. */
void nh_setup(nh *x, bool crypto);
/* Whether the harness was built with the OpenSSL adapter (tests that
 * sign or encrypt skip without it). */
bool nh_have_openssl(void);
/* nh_setup with crypto for multichannel: the server offers
 * CAP_MULTI_CHANNEL, the client speaks 3.0.2. */
void nh_setup_multichannel(nh *x);
int nh_start(nh *x);
void nh_fini(nh *x);
/* Adds a TCP pair (client node unless raw). Returns the pair index. */
int nh_add_tcp(nh *x, bool raw_client);
/* nh_start, then a client TCP pair past NEGOTIATE. Returns the pair. */
int nh_start_tcp(nh *x);
/* Adds an SMB Direct pair on a simulated NIC: the first on x->w, a second
 * on x->w2 (two per harness). */
int nh_add_smbd(nh *x);
/* Closes pair p on both nodes and frees its slot. */
void nh_close_pair(nh *x, int p);
/* Moves bytes and events until nothing moves. */
void nh_pump(nh *x);
/* Advances time to t and fires both nodes' timers, then pumps. */
void nh_advance(nh *x, uint64_t t);

/* Next logged client event of `type` after the cursor (pumping first);
 * NULL if none. The cursor moves past it. */
const nh_cev *nh_wait(nh *x, uint32_t type);
size_t nh_count(const nh *x, uint32_t type);

/* Whole flows on pair p; each asserts success. */
void nh_negotiate(nh *x, int p);
uint64_t nh_session(nh *x, int p);
/* SESSION_SETUP on pair p with the fake authenticator's legs, any
 * outcome (keyless: the host tells the client node the session has no
 * key before the last leg); returns the final response's event (status
 * SUCCESS), *s its session. */
const nh_cev *nh_session_final(nh *x, int p, uint64_t *s, bool keyless);
/* Binds session s to pair p (SMB2_SESSION_FLAG_BINDING) with the fake
 * authenticator's rounds and x->key as the binding key; after
 * SESSION_UP the key can no longer be given (SMBX_ERR_STATE). */
void nh_bind(nh *x, int p, uint64_t s);
uint32_t nh_tree(nh *x, int p, uint64_t sess);
/* nh_setup + nh_start, one TCP pair negotiated with a session and a tree
 * connected; returns the pair. */
int nh_up_tcp(nh *x, bool crypto, uint64_t *sess, uint32_t *tree);
smbx_smb2_fileid nh_create(nh *x, int p, uint64_t sess, uint32_t tree,
                           const char *name);
/* Sends on pair p the related compound CREATE name (open-if), WRITE data
 * at offset 0 and CLOSE, the last two inheriting the FileId, each member
 * with `user`; reqs gets the three request handles. */
void nh_compound_create_write_close(nh *x, int p, uint64_t sess,
                                    uint32_t tree, const char *name,
                                    const char *data, uint64_t user,
                                    uint64_t reqs[3]);
/* Sends on pair p the unrelated compound of two ECHOs. */
void nh_compound_two_echoes(nh *x, int p, uint64_t sess, uint64_t reqs[2]);
/* Returns the RESPONSE event of request `req` (asserting it exists). */
const nh_cev *nh_response(nh *x, uint64_t req);

/* Raw bytes into the server side of pair p (hostile client). */
void nh_raw(nh *x, int p, const uint8_t *b, size_t len);
/* Builds a framed request PDU (prefix included) into out; returns length. */
size_t nh_frame_req(uint8_t *out, size_t cap, uint16_t cmd, uint64_t mid,
                    uint16_t charge, uint16_t credits, uint64_t sid,
                    uint32_t tid, const uint8_t *body, size_t blen);

/* The server host's answer to deferred request i. */
void nh_answer_deferred(nh *x, size_t i, uint32_t status);

#endif
