/* SPDX-License-Identifier: MIT */
/* Simulated RDMA NIC for tests: two endpoints (queue pairs) in one
 * process on a virtual clock. post_send/post_recv/register_mr as
 * smbx_transport hooks; a SEND lands in the peer's oldest posted receive
 * after `latency_ns`; completions wait in per-queue FIFOs (a queue's
 * completions stay in order; send vs receive queues may be interleaved in
 * any order, like separate CQs). Failure knobs: failing hooks, error
 * completions, and receive exhaustion = RNR (rnr_retry 0: the connection
 * dies and every posted work request is flushed). A `raw` endpoint has no
 * engine: it records what it receives and tests inject bytes from it.
 * Memory registration is real bookkeeping (keys, bounds, access flags,
 * remote invalidation by SEND_WITH_INVALIDATE); RDMA READ/WRITE are
 * memcpy between registered regions after `latency_ns`, checked first:
 * a bad key, an invalidated key, missing access or an access outside the
 * region completes with an error and touches nothing (counted in
 * `rdma_faults`); `violations` counts what no correct engine may do
 * (deregistering a key twice, claiming a remote invalidation that did not
 * happen). Every RDMA operation is logged (addresses, keys, bytes). */
#ifndef SMBX_TESTS_SIM_H
#define SMBX_TESTS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/transport.h>

#include "mr_table.h"

#define SIM_MAX_WR 4096
#define SIM_MAX_MSG 65536
#define SIM_MAX_MR 4096
#define SIM_MAX_SGE 16
#define SIM_MAX_ROP 1024

typedef struct sim sim;

typedef struct sim_msg {
  int from;         /* endpoint index that sent it */
  uint32_t len;
  uint32_t flags;   /* SMBX_SEND_INVALIDATE */
  uint32_t rkey;
  uint64_t at_ns;   /* when it was posted */
  uint8_t *bytes;
} sim_msg;

typedef struct sim_cqe {
  smbx_wc wc;
  int is_recv;
} sim_cqe;

typedef struct sim_ep {
  sim *w;
  int idx;
  int raw;       /* no engine: accepts every SEND, records it */
  int qp_error;  /* flushed / disconnected */
  /* posted receives, FIFO */
  struct { uint64_t wr_id; uint8_t *addr; uint32_t len; } rq[SIM_MAX_WR];
  uint32_t rq_head, rq_n;
  /* completions: send and receive queues */
  sim_cqe scq[SIM_MAX_WR], rcq[SIM_MAX_WR];
  uint32_t scq_head, scq_n, rcq_head, rcq_n;
  /* failure knobs: fail the Nth next hook call (1 = the next one) */
  uint32_t fail_post_send, fail_post_recv, fail_register;
  uint32_t fail_send_completion; /* Nth next send completes with ERROR */
  uint32_t mr_live, mr_total;
  uint64_t posted_sends, posted_recvs;
  /* RDMA: fail the Nth next rdma hook / complete the Nth next op with an
   * error (nothing moves) */
  uint32_t fail_post_rdma, fail_rdma_completion;
  uint64_t rdma_delay_ns; /* extra latency of this side's RDMA ops */
  uint64_t rdma_reads, rdma_writes, rdma_bytes;
} sim_ep;

/* One RDMA operation as posted (for assertions: zero copy by identity). */
typedef struct sim_rop {
  int ep, is_read, done;
  uint64_t wr_id, deliver_at, raddr;
  uint32_t rkey, n_sg, bytes;
  smbx_sge sg[SIM_MAX_SGE];
} sim_rop;

struct sim {
  uint64_t now;
  uint64_t latency_ns;
  uint32_t seed;
  int reorder; /* poll picks send or receive queue pseudo-randomly */
  sim_ep ep[2];
  /* in flight on the wire */
  struct { int from; uint64_t deliver_at; uint64_t wr_id; sim_msg m; } fly[SIM_MAX_WR];
  uint32_t fly_n;
  /* every SEND ever posted, in order (for assertions and pcap) */
  sim_msg *log;
  size_t log_n, log_cap;
  int rnr; /* an RNR happened */
  /* memory registrations (keys are global, like a shared PD) */
  sim_mr mr[SIM_MAX_MR];
  sim_mrt mrt; /* over mr[], handles 0x10000 + slot */
  /* RDMA operations not yet completed, and the log of all */
  sim_rop rop[SIM_MAX_ROP];
  uint32_t rop_n;
  sim_rop *rlog;
  size_t rlog_n, rlog_cap;
  uint64_t rdma_faults;  /* accesses refused (error completions) */
  uint64_t violations;   /* engine misbehaviour the sim caught */
  uint64_t invalidations; /* keys invalidated by SEND_WITH_INVALIDATE */
};

sim *sim_new(uint64_t latency_ns);
void sim_free(sim *w);
/* transport hooks bound to endpoint i */
smbx_transport sim_transport(sim *w, int i);
/* Deliver every in-flight SEND due at w->now. Returns how many. */
int sim_deliver(sim *w);
/* Earliest pending delivery time, UINT64_MAX if none. */
uint64_t sim_next_time(const sim *w);
/* Pops one completion of endpoint i (send or receive queue); 1/0. */
int sim_poll(sim *w, int i, sim_cqe *out);
/* Raw endpoint i sends bytes to the other side (as a SEND). */
int sim_raw_send(sim *w, int i, const void *bytes, size_t len);
/* Disconnect: both QPs to error, posted work flushed (FLUSH completions). */
void sim_disconnect(sim *w);
/* The registration holding key, or NULL. */
const sim_mr *sim_mr_by_key(const sim *w, uint32_t key);
/* Live registrations of endpoint i. */
uint32_t sim_mr_live(const sim *w, int i);
/* Log entries sent by endpoint i: count, and the k-th. */
size_t sim_sent_count(const sim *w, int from);
const sim_msg *sim_sent(const sim *w, int from, size_t k);

#endif
