/* SPDX-License-Identifier: MIT */
/* A client node and a server node joined by SMB Direct on the simulated
 * NIC: the receive buffers each side lends, the connection set-up (both
 * engines added, ESTABLISHED reported to both) and one step that routes
 * every completion to the node that posted it. Shared by the RDMA test
 * host (tests/rdma/rh.c), the node harness and the node fuzz targets;
 * it asserts nothing, its callers decide what a failure means. */
#ifndef SMBX_TESTS_SIM_PAIR_H
#define SMBX_TESTS_SIM_PAIR_H

#include <stdint.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "sim.h"

typedef struct sim_pair {
  smbx_client *cli; /* endpoint 0, the active side */
  uint64_t cconn;
  smbx_server *srv; /* endpoint 1, the passive side */
  uint64_t sconn;
} sim_pair;

/* Defaults for both roles (st[0] active, st[1] passive), the receive
 * credit maximum and send credit target at `credits`. */
void sim_pair_smbd_settings(smbx_smbd_settings st[2], uint32_t credits);

/* Fills rb[0..n) with n zeroed buffers of size bytes each (handles
 * 0x1000 + index) in one allocation, returned (free() it); NULL when
 * memory runs out. */
uint8_t *sim_pair_lend(smbx_smbd_recv_buf *rb, uint32_t n, uint32_t size);

/* Adds the SMB Direct connection on both nodes (the client's over tc with
 * the buffers rbc, the server's over ts with rbs, n each) and reports
 * ESTABLISHED to both at now: 0 or the first failing call's code. */
int sim_pair_connect(sim_pair *p, const smbx_smbd_settings st[2],
                     const smbx_transport *tc, const smbx_transport *ts,
                     const smbx_smbd_recv_buf *rbc,
                     const smbx_smbd_recv_buf *rbs, uint32_t n, uint64_t now);

/* Delivers what is due on w (at w->now) and hands every completion to its
 * node at now. Returns how many deliveries and completions moved (0:
 * nothing), or -1 after a server completion whose wr_id no smbx call
 * posted (nobody to route it to; the rest are still handed over). */
int sim_pair_step(sim *w, const sim_pair *p, uint64_t now);

#endif
