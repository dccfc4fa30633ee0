/* SPDX-License-Identifier: MIT */
/* lib/rdma (rank 3): RDMA direct placement for SMB2 over SMB Direct
 * (smbd.md sec. 4, smb2.md 4.6/4.7). Internal API for the nodes; see
 * docs/rdma.md.
 *
 * - Channel rules (bdesc.c): what a server checks in a READ/WRITE before
 *   data may move by RDMA, as one function per command returning the
 *   NTSTATUS to fail with. The wire layout itself is the smb2 codec's
 *   (smbx_smb2_decode_read_req / _write_req, smbx_smb2_desc_list_*).
 * - Registrations (mr.c): a fixed pool of registration records; a client
 *   buffer is registered through the host's register_mr in chunks, one
 *   buffer descriptor each, and deregistered exactly once.
 * - Operation tracking (track.c): the server's RDMA READ/WRITE pieces
 *   (each within one descriptor, at most max_op_size, at most max_sge
 *   local elements), posted within the connection's budget (max_ops in
 *   flight, reads at most the ORD; a pull waiting for a read slot does
 *   not hold back pushes), completions matched by wr_id, and one done()
 *   upcall per transfer, after its last posted operation came back.
 * Everything is allocated at creation; the data path allocates nothing
 * and never touches payload bytes. */
#ifndef SMBX_RDMA_RDMA_H
#define SMBX_RDMA_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smb2.h>
#include <smbx/smbx.h>
#include <smbx/transport.h>

/* wr_id tag (high 32 bits) of RDMA operations; smbd uses "SR"/"SS" */
#define SMBX__RDMA_WR_TAG 0x5244ull /* "RD" */

/* ---- channel rules (bdesc.c) ------------------------------------------ */

/* What the server knows when it checks a request. */
typedef struct smbx__rdma_limits {
  uint16_t dialect;    /* negotiated SMB2 dialect */
  bool smbd;           /* the connection is SMB Direct */
  bool enabled;        /* the node moves data by RDMA on it */
  uint32_t max_rw;     /* SMB Direct MaxReadWriteSize in effect */
  uint32_t max_io;     /* the server's MaxReadSize / MaxWriteSize */
} smbx__rdma_limits;

/* A checked RDMA transfer. */
typedef struct smbx__rdma_xfer {
  uint32_t channel;          /* RDMA_V1 or RDMA_V1_INVALIDATE */
  uint32_t length;           /* bytes to move */
  uint64_t offset;           /* the READ/WRITE Offset (file position) */
  smbx_smb2_desc_list descs; /* validated, a view into the PDU */
  uint32_t inv_key;          /* token to invalidate with the response */
  bool inv;                  /* the response goes SEND_WITH_INVALIDATE */
} smbx__rdma_xfer;

/* The Channel field of a READ (@100) or WRITE (@96) PDU, read without
 * decoding the body; 0 when the PDU is too short for it. Inline: the
 * server asks it of every READ and WRITE. */
static inline uint32_t smbx__rdma_channel_of(const uint8_t *pdu, size_t len,
                                             uint16_t cmd)
{
  size_t at = cmd == SMBX_SMB2_READ ? 100 : cmd == SMBX_SMB2_WRITE ? 96 : 0;
  if (!pdu || at == 0 || len < at + 4)
    return 0;
  return (uint32_t)pdu[at] | (uint32_t)pdu[at + 1] << 8 |
         (uint32_t)pdu[at + 2] << 16 | (uint32_t)pdu[at + 3] << 24;
}

/* Checks a READ / WRITE whose Channel is not NONE. Returns 0 with *x
 * filled, or the NTSTATUS to fail the request with (INVALID_PARAMETER,
 * smbd.md sec. 4 / cases 51-57) and a static reason in *why. Even on
 * failure x->inv / x->inv_key tell whether the error response must
 * invalidate (a V1_INVALIDATE request whose first descriptor decoded). */
uint32_t smbx__rdma_check_read(const uint8_t *pdu, size_t len,
                               const smbx__rdma_limits *l, smbx__rdma_xfer *x,
                               const char **why);
uint32_t smbx__rdma_check_write(const uint8_t *pdu, size_t len,
                                const smbx__rdma_limits *l,
                                smbx__rdma_xfer *x, const char **why);

/* ---- registrations (mr.c) ----------------------------------------------- */

#define SMBX__RDMA_NIL UINT32_MAX

typedef struct smbx__rdma_reg {
  smbx_mr mr;
  uint32_t next; /* chain of one I/O, or the free list */
  uint32_t len;
  bool busy; /* registered (not on the free list) */
} smbx__rdma_reg;

typedef struct smbx__rdma_regs {
  smbx__rdma_reg *r;
  uint32_t n, free_head, live;
  uint64_t total; /* registrations made (statistics) */
} smbx__rdma_regs;

int smbx__rdma_regs_init(smbx__rdma_regs *g, const smbx_allocator *a,
                         uint32_t n);
/* Frees the pool; live registrations are deregistered first. */
void smbx__rdma_regs_fini(smbx__rdma_regs *g, const smbx_transport *t,
                          const smbx_allocator *a);
/* Chunks [buf, buf + len) needs at `chunk` bytes each. */
uint32_t smbx__rdma_chunks(size_t len, uint32_t chunk);
/* Registers [buf, buf + len) in chunks of at most `chunk` bytes with
 * `access`, appending one 16-byte SMB_DIRECT_BUFFER_DESCRIPTOR_V1 per
 * chunk at desc_out (capacity cap bytes). *head gets the chain. Returns
 * the descriptor bytes written; SMBX_ERR_AGAIN (not enough free records:
 * nothing registered); SMBX_ERR_RANGE (more than 4095 chunks or cap too
 * small); SMBX_ERR_TRANSPORT (register_mr failed: what was registered is
 * deregistered again). */
smbx_ssize smbx__rdma_register(smbx__rdma_regs *g, const smbx_transport *t,
                               void *buf, size_t len, uint32_t chunk,
                               uint32_t access, uint8_t *desc_out,
                               size_t cap, uint32_t *head);
/* Deregisters the chain at head exactly once (head becomes NIL). The
 * record whose key equals inv_rkey (when inv) goes to deregister_mr with
 * SMBX_MR_F_INVALIDATED: the peer invalidated it remotely. Returns whether
 * a remote invalidation matched. */
bool smbx__rdma_deregister(smbx__rdma_regs *g, const smbx_transport *t,
                           uint32_t *head, bool inv, uint32_t inv_rkey);
/* Bytes registered in the chain at head. */
uint64_t smbx__rdma_chain_bytes(const smbx__rdma_regs *g, uint32_t head);

/* ---- operation tracking (track.c) ---------------------------------------- */

typedef struct smbx__rdma smbx__rdma;

#define SMBX__RDMA_PUSH 0u /* RDMA WRITE local -> peer (SMB2 READ) */
#define SMBX__RDMA_PULL 1u /* RDMA READ peer -> local (SMB2 WRITE) */

typedef struct smbx__rdma_settings {
  uint32_t max_ops;     /* operations posted at once (<= 65535) */
  uint32_t max_xfers;   /* transfers live at once */
  uint32_t max_sge;     /* local elements per operation */
  uint32_t max_op_size; /* largest single operation */
  uint32_t max_xfer_sge; /* local elements per transfer (>= max_sge;
                            0 = max_sge): cut into operations of at most
                            max_sge each */
} smbx__rdma_settings;

typedef struct smbx__rdma_upcalls {
  void *ctx;
  /* Transfer `user` finished: err 0 (every byte moved), or the error
   * that ended it (SMBX_ERR_TRANSPORT, or cancel_all's). Called once per
   * transfer, when none of its operations is posted any more (so the
   * host's memory is free), from smbx__rdma_start(),
   * smbx__rdma_complete() or smbx__rdma_cancel_all(). */
  void (*done)(void *ctx, uint64_t user, int err, uint64_t bytes);
} smbx__rdma_upcalls;

typedef struct smbx__rdma_stats {
  uint64_t ops, reads, writes, bytes, xfers;
  uint32_t inflight, reads_inflight, live;
} smbx__rdma_stats;

/* Allocates the tracker (s, t and up are copied). Returns 0;
 * SMBX_ERR_INVAL (bad settings, t without rdma_read / rdma_write);
 * SMBX_ERR_NOMEM. */
int smbx__rdma_new(smbx__rdma **out, const smbx__rdma_settings *s,
                   const smbx_transport *t, const smbx__rdma_upcalls *up,
                   const smbx_allocator *a);
void smbx__rdma_free(smbx__rdma *r);
/* RDMA READs the peer lets us keep in flight (the connection's ORD;
 * 0 counts as 1). */
void smbx__rdma_set_ord(smbx__rdma *r, uint32_t ord);
/* The bytes n host elements name, in *total; SMBX_ERR_INVAL for an element
 * with a length and no address. Inline: every push and pull asks. */
static inline int smbx__rdma_sge_total(const smbx_sge *sg, size_t n,
                                       uint64_t *total)
{
  uint64_t sum = 0;
  for (size_t k = 0; k < n; k++) {
    if (!sg[k].addr && sg[k].length)
      return SMBX_ERR_INVAL;
    sum += sg[k].length;
  }
  *total = sum;
  return 0;
}
/* Starts a transfer of `bytes` (= the local elements' total, checked by
 * the caller with smbx__rdma_sge_total) between local elements (copied)
 * and the peer's descriptors (a view that must stay valid until done();
 * checked by the caller, smbx__rdma_check_*, to hold >= bytes with no
 * empty descriptor) and posts what the budget allows. Returns 0;
 * SMBX_ERR_INVAL; SMBX_ERR_AGAIN (max_xfers live). A post hook that fails
 * fails the transfer: it posts nothing more and ends with
 * done(SMBX_ERR_TRANSPORT) once the operations posted before are back (at
 * once when there are none); the owner tears the connection down from
 * done(). */
int smbx__rdma_start(smbx__rdma *r, uint64_t user, uint32_t dir,
                     const smbx_sge *local, size_t n,
                     const smbx_smb2_desc_list *remote, uint64_t bytes);
/* A completion of an operation this tracker posted. Returns 0;
 * SMBX_ERR_NOTFOUND (not ours: ignore); SMBX_ERR_TRANSPORT (an error
 * completion, or a post failed while refilling: that transfer ends with
 * done(SMBX_ERR_TRANSPORT) once its last posted operation is back). */
int smbx__rdma_complete(smbx__rdma *r, const smbx_wc *wc);
/* Teardown: every live transfer fails with err (unless it failed
 * already): one with nothing posted ends with done() now, the others
 * when their posted operations come back (completed or flushed: a queue
 * pair in error flushes every posted work request). */
void smbx__rdma_cancel_all(smbx__rdma *r, int err);
void smbx__rdma_get_stats(const smbx__rdma *r, smbx__rdma_stats *st);
/* Bytes of per-connection state (tables), for the benchmarks. */
size_t smbx__rdma_state_bytes(const smbx__rdma *r);

#endif
