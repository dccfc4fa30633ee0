/* SPDX-License-Identifier: MIT */
/* Client node, RDMA direct placement (docs/rdma.md): the caller's
 * READ/WRITE buffer registered through the host, advertised as buffer
 * descriptors, deregistered exactly once when the request completes.
 * client.c calls these at a few points; the state lives in rdma_io.c. */
#ifndef SMBX_CLIENT_RDMA_IO_H
#define SMBX_CLIENT_RDMA_IO_H

#include <smbx/client.h>

#include "conn/conn.h"
#include "rdma/rdma.h"

typedef struct smbx__cli_rdma smbx__cli_rdma;

/* For an SMB Direct connection whose transport registers memory (else
 * *out stays NULL: I/O goes inline). */
int smbx__cli_rdma_new(smbx__cli_rdma **out, const smbx_transport *t,
                       const smbx_client_settings *s, uint32_t n_slots,
                       const smbx_allocator *a);
/* Deregisters whatever is still registered, then frees. */
void smbx__cli_rdma_free(smbx__cli_rdma *r);

/* Decides and registers (smbd.md 4): RDMA for length >= rdma_threshold
 * on 3.x when the request is neither signed nor encrypted (protect).
 * Returns the descriptor bytes written at desc (RDMA, *chain and *channel
 * set), 0 (inline), or SMBX_ERR_AGAIN / _RANGE / _TRANSPORT. */
smbx_ssize smbx__cli_rdma_prepare(smbx__cli_rdma *r, uint16_t dialect,
                                  bool protect, uint32_t peer_max_rw,
                                  void *buf, uint32_t length, bool read,
                                  uint8_t *desc, size_t cap, uint32_t *chain,
                                  uint32_t *channel);
/* The request went out as `req`: its registrations (of the caller's buf)
 * are its own now. */
void smbx__cli_rdma_bind(smbx__cli_rdma *r, uint64_t req, uint32_t chain,
                         void *buf, uint32_t length, bool read,
                         uint32_t channel);
/* The caller's buffer of live request `req` (for a failover rebuild,
 * asked before smbx__cli_rdma_complete forgets it). Returns false when
 * req has no registrations. */
bool smbx__cli_rdma_take(const smbx__cli_rdma *r, uint64_t req, void **buf,
                         uint32_t *length, bool *read);
/* It did not go out: deregister. */
void smbx__cli_rdma_unprepare(smbx__cli_rdma *r, uint32_t *chain);
/* Request `req` completed (resp NULL when locally): its registrations
 * are deregistered now, once, a key the server invalidated remotely
 * flagged so. Returns true when it had any; *placed = bytes a READ
 * placed (DataRemaining, within the registration), *channel. */
bool smbx__cli_rdma_complete(smbx__cli_rdma *r, uint64_t req,
                             const smbx__conn_pdu *resp, uint32_t *placed,
                             uint32_t *channel);
void smbx__cli_rdma_info(const smbx__cli_rdma *r, smbx_conn_info *o);

#endif
