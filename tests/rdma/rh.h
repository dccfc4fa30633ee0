/* SPDX-License-Identifier: MIT */
/* Test host for RDMA direct placement: a client node and a server node on
 * the simulated NIC (tests/sim), a server host whose one file lives in
 * registered memory (READ pushes from it, WRITE pulls into it), and a log
 * of the client's events. Shared by tests/rdma, the fuzz target's replay
 * and the demo-free benchmarks. */
#ifndef SMBX_TESTS_RDMA_RH_H
#define SMBX_TESTS_RDMA_RH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "pair.h"
#include "sim.h"
#include "test_alloc.h"

#define RH_FILE (8u << 20) /* the server's file: 8 MiB of registered memory */
#define RH_RBUFS 64
#define RH_LOG 1024

typedef struct rh_ev {
  smbx_event ev;
  uint8_t hdr[192]; /* first bytes of the PDU (fixed parts; a CREATE
                       response with its FileId) */
  size_t len;
} rh_ev;

typedef struct rh {
  test_alloc ta;
  sim *w;
  smbx_server *srv;
  smbx_client *cli;
  smbx_server_settings ss;
  smbx_client_settings cs;
  smbx_smbd_settings st[2];
  smbx_transport t[2];
  uint8_t *rmem[2];
  smbx_smbd_recv_buf rb[2][RH_RBUFS];
  uint64_t sconn, cconn, sess, now;
  uint32_t tree;
  smbx_smb2_fileid fid;
  /* server host: the file, registered with the sim as the host would */
  uint8_t *file;
  size_t file_len;
  smbx_mr file_mr;
  uint32_t host_sge; /* answer RDMA in this many elements (1..16) */
  uint32_t eof_at;   /* READs at or past this offset: END_OF_FILE (0: none) */
  bool hold_rdma;    /* keep RDMA requests unanswered (tests drive them) */
  uint64_t held_req;
  smbx_event held_ev;
  /* server events */
  size_t n_rdma_done, n_rdma_done_err, n_requests, n_rdma_requests;
  size_t n_sdown;
  int last_done_err;
  /* client log */
  rh_ev log[RH_LOG];
  size_t n_log;
  bool cdown;
  int cdown_err;
  /* offered every server event first; 1 = it answered (tests/vmo) */
  int (*route)(struct rh *x, const smbx_event *e);
  void *route_user;
} rh;

/* Sets defaults (dialects 3.0.2 and below: no crypto hooks). Adjust
 * x->ss / x->cs / x->st before rh_start. */
void rh_init(rh *x);
/* Creates nodes and the SMB Direct pair, negotiates, sets up a session,
 * a tree and opens the file. */
void rh_start(rh *x);
void rh_fini(rh *x);
void rh_pump(rh *x);
/* The RESPONSE of req (pumping first); fails the test when absent. */
const rh_ev *rh_response(rh *x, uint64_t req);
/* READ/WRITE through the node API; return the RESPONSE. */
const rh_ev *rh_read(rh *x, uint64_t off, void *buf, uint32_t len);
const rh_ev *rh_write(rh *x, uint64_t off, const void *buf, uint32_t len);
/* Sends a hand-built READ/WRITE body (after the header). */
const rh_ev *rh_raw(rh *x, uint16_t cmd, const uint8_t *body, size_t len);
/* Registers client memory with the sim as a host would (for raw
 * requests). */
smbx_mr rh_client_mr(rh *x, void *p, size_t len, uint32_t access);

#endif
