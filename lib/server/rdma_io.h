/* SPDX-License-Identifier: MIT */
/* Server node, RDMA direct placement (docs/rdma.md, DESIGN.md "Buffers"):
 * the per-connection state between a READ/WRITE REQUEST event with an
 * RDMA channel and its response. server.c owns the connection and calls
 * these at a few points; everything else lives in rdma_io.c. */
#ifndef SMBX_SERVER_RDMA_IO_H
#define SMBX_SERVER_RDMA_IO_H

#include <smbx/server.h>

#include "conn/conn.h"
#include "rdma/rdma.h"

typedef struct smbx__srv_rdma smbx__srv_rdma;
struct sconn; /* server.c's connection: the push context */

/* server.c: answers READ `req` of connection sc, whose `bytes` were
 * placed by RDMA, with the 16-byte fixed part alone (DataLength 0,
 * DataRemaining = bytes; smb2.md 4.6), as SEND_WITH_INVALIDATE of
 * inv_key when inv. Returns what smbx_server_respond would. */
int smbx__srv_respond_placed(struct sconn *sc, uint64_t req, uint32_t bytes,
                             bool inv, uint32_t inv_key);

/* Pushes one event for the connection (server.c's queue; ctx is the
 * connection's, given at creation); NULL when the queue cannot grow. */
typedef smbx_event *(*smbx__srv_rdma_push_fn)(void *ctx, uint32_t type);

/* Created for an SMB Direct connection whose transport has rdma_read and
 * rdma_write (else *out stays NULL: RDMA channels are refused). */
int smbx__srv_rdma_new(smbx__srv_rdma **out, smbx_server *srv, uint64_t conn,
                       smbx__conn *c, const smbx_transport *t,
                       const smbx_server_settings *s, uint32_t n_slots,
                       smbx__srv_rdma_push_fn push, void *push_ctx,
                       const smbx_allocator *a);
void smbx__srv_rdma_free(smbx__srv_rdma *r);

/* A READ/WRITE arrived (r NULL on TCP). Returns 0 when the host gets it
 * (x->length 0: no RDMA, the rest of *x unset; else an RDMA transfer to
 * announce with smbx__srv_rdma_accept), or the NTSTATUS to fail it with;
 * x->inv says whether that error response must invalidate x->inv_key. */
uint32_t smbx__srv_rdma_check(smbx__srv_rdma *r,
                              const smbx__conn_pdu *pd, bool smbd,
                              uint16_t dialect, uint32_t max_read,
                              uint32_t max_write,
                              smbx__rdma_xfer *x, const char **why);
/* Records the accepted transfer of `req` and fills the REQUEST event. */
void smbx__srv_rdma_accept(smbx__srv_rdma *r, uint64_t req,
                           const smbx__rdma_xfer *x, smbx_event *e);

/* Around every host answer of `req`: begin refuses while data moves
 * (SMBX_ERR_STATE) and arms SEND_WITH_INVALIDATE when the channel asked;
 * end disarms and forgets the request once the answer went (rc 0 or
 * fatal). */
int smbx__srv_rdma_respond_begin(smbx__srv_rdma *r, uint64_t req);
void smbx__srv_rdma_respond_end(smbx__srv_rdma *r, uint64_t req, int rc);
/* The request is gone (teardown). */
void smbx__srv_rdma_forget(smbx__srv_rdma *r, uint64_t req);
/* The connection manager reported (smbx_server_cm_event): the tracker
 * posts RDMA reads within the ORD it gave. */
void smbx__srv_rdma_cm(smbx__srv_rdma *r);
/* The connection is down: live transfers fail with err; each ends with
 * RDMA_DONE(err) once none of its operations is posted any more. */
void smbx__srv_rdma_down(smbx__srv_rdma *r, int err);
/* Transfers not yet ended (0 for NULL). */
uint32_t smbx__srv_rdma_live(const smbx__srv_rdma *r);
/* Send space is back: retry READ responses that found none. */
void smbx__srv_rdma_writable(smbx__srv_rdma *r);

/* The public calls, after server.c resolved conn and req. */
int smbx__srv_rdma_start(smbx__srv_rdma *r, uint64_t req, uint32_t dir,
                         const smbx_sge *sg, size_t n, uint64_t now);
int smbx__srv_rdma_done(smbx__srv_rdma *r, const smbx_wc *wc, uint64_t now);
/* smbx_conn_info's RDMA counters. */
void smbx__srv_rdma_info(const smbx__srv_rdma *r, smbx_conn_info *o);

#endif
