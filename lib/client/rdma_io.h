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
#include "smb2/hot.h"

/* Per connection (rdma_io.c owns it; here for the inline prepare). */
typedef struct smbx__cli_rdma {
  smbx_allocator a;
  smbx_transport t;
  smbx__rdma_regs regs; /* every record's registrations */
  uint32_t threshold, chunk_max;
  uint64_t ios, bytes;
} smbx__cli_rdma;

/* A request's registrations, kept in the request's own slot of its
 * connection (client_int.h cslot): found by the request index, never
 * looked up by key. A zeroed record is unbound. */
typedef struct smbx__cli_rdma_rec {
  void *buf;      /* the caller's: a failover re-registers it elsewhere */
  uint32_t chain; /* the registrations (while bound) */
  uint32_t length, channel;
  bool bound, read;
} smbx__cli_rdma_rec;

/* For an SMB Direct connection whose transport registers memory (else
 * *out stays NULL: I/O goes inline). */
int smbx__cli_rdma_new(smbx__cli_rdma **out, const smbx_transport *t,
                       const smbx_client_settings *s,
                       const smbx_allocator *a);
/* Deregisters whatever is still registered, then frees. */
void smbx__cli_rdma_free(smbx__cli_rdma *r);

/* Decides and registers (smbd.md 4): RDMA for length >= rdma_threshold
 * on 3.x when the request is neither signed nor encrypted (protect).
 * Returns the descriptor bytes written at desc (RDMA, *chain and *channel
 * set), 0 (inline), or SMBX_ERR_AGAIN / _RANGE / _TRANSPORT. Inline: the
 * caller's READ/WRITE goes straight to the registration. */
static inline smbx_ssize
smbx__cli_rdma_prepare(smbx__cli_rdma *r, uint16_t dialect, bool protect,
                       uint32_t peer_max_rw, void *buf, uint32_t length,
                       bool read, uint8_t *desc, size_t cap, uint32_t *chain,
                       uint32_t *channel)
{
  *chain = SMBX__RDMA_NIL;
  *channel = SMBX_SMB2_CHANNEL_NONE;
  if (!r || protect || dialect < SMBX_SMB2_DIALECT_300 ||
      length < r->threshold || peer_max_rw == 0)
    return 0;
  /* [MS-SMBD] MaxReadWriteSize bounds one I/O's RDMA transfer */
  if (length > peer_max_rw)
    return SMBX_ERR_RANGE;
  uint32_t chunk = r->chunk_max && r->chunk_max < peer_max_rw ? r->chunk_max
                                                              : peer_max_rw;
  uint32_t access = read ? SMBX_MR_LOCAL_WRITE | SMBX_MR_REMOTE_WRITE
                         : SMBX_MR_REMOTE_READ;
  smbx_ssize n = smbx__rdma_register(&r->regs, &r->t, buf, length, chunk,
                                     access, desc, cap, chain);
  if (n < 0)
    return n;
  *channel = dialect >= SMBX_SMB2_DIALECT_302
                 ? SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE
                 : SMBX_SMB2_CHANNEL_RDMA_V1;
  return n;
}

/* The request went out: its registrations (of the caller's buf) are its
 * record's now (the record of the request's slot, unbound: a slot is
 * zeroed when it is filled). */
static inline void smbx__cli_rdma_bind(smbx__cli_rdma_rec *q, uint32_t chain,
                                       void *buf, uint32_t length, bool read,
                                       uint32_t channel)
{
  q->buf = buf;
  q->chain = chain;
  q->length = length;
  q->channel = channel;
  q->read = read;
  q->bound = true;
}
/* It did not go out: deregister. */
void smbx__cli_rdma_unprepare(smbx__cli_rdma *r, uint32_t *chain);
/* The request of record q completed (resp NULL when locally): its
 * registrations are deregistered now, once, a key the server invalidated
 * remotely flagged so, and q is unbound. Returns true when it had any;
 * *placed = bytes a READ placed (DataRemaining, within the
 * registration), *channel. Inline: the response's completion runs
 * straight through. */
static inline bool smbx__cli_rdma_complete(smbx__cli_rdma *r,
                                           smbx__cli_rdma_rec *q,
                                           const smbx__conn_pdu *resp,
                                           uint32_t *placed,
                                           uint32_t *channel)
{
  *placed = 0;
  *channel = 0;
  if (!r || !q->bound)
    return false;
  q->bound = false;
  bool inv = resp && (resp->flags & SMBX__CONN_PDU_INVALIDATED);
  (void)smbx__rdma_deregister(&r->regs, &r->t, &q->chain, inv,
                              inv ? resp->invalidated_rkey : 0);
  *channel = q->channel;
  if (resp && q->read && resp->hdr.status == 0) {
    /* DataRemaining counts the bytes placed; never more than we lent. The
     * connection checked the header: the fixed part is enough unless an
     * RDMA transform asks for the whole decoder */
    smbx__smb2_read_resp_fields f;
    smbx_smb2_read_resp rr;
    bool ok = smbx__smb2_read_resp_fixed_get(resp->data, resp->len, &f) == 0;
    if (ok && (f.flags & SMBX_SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM))
      ok = smbx_smb2_decode_read_resp(resp->data, resp->len, &rr, NULL) == 0;
    if (ok && f.data_length == 0)
      *placed = f.data_remaining < q->length ? f.data_remaining : q->length;
  } else if (resp && !q->read && resp->hdr.status == 0) {
    smbx_smb2_write_resp wr;
    if (smbx_smb2_decode_write_resp(resp->data, resp->len, &wr, NULL) == 0)
      *placed = wr.count < q->length ? wr.count : q->length;
  }
  r->ios++;
  r->bytes += *placed;
  return true;
}
void smbx__cli_rdma_info(const smbx__cli_rdma *r, smbx_conn_info *o);

#endif
