/* SPDX-License-Identifier: MIT */
/* Channel rules for READ/WRITE over SMB Direct (smbd.md sec. 4, smb2.md
 * 4.6/4.7; conformance cases 51-57). The layout checks are the codec's;
 * this file adds what depends on the connection. */
#include <string.h>

#include "rdma/rdma.h"
#include "smb2/desc.h"

#define ST_INVALID_PARAMETER 0xC000000Du

static uint32_t fail(const char **why, const char *reason)
{
  *why = reason;
  return ST_INVALID_PARAMETER;
}

/* The rules both commands share, once the body decoded (inline in each:
 * a READ's rules run per request). */
static inline uint32_t check_common(uint32_t channel,
                                    const smbx_smb2_desc_list *dl,
                                    uint32_t length, uint32_t max_io,
                                    const smbx__rdma_limits *l,
                                    smbx__rdma_xfer *x, const char **why)
{
  x->channel = channel;
  x->length = length;
  x->descs = *dl;
  /* one pass over the descriptors (the codec proved count x 16 bytes:
   * its loads without the bounds checks); the rules below then report in
   * their order */
  uint64_t total = 0;
  bool zero = dl->count == 0, wraps = false;
  for (uint32_t i = 0; i < dl->count; i++) {
    smbx_smb2_buffer_desc d;
    smbx__smb2_desc_at(dl, i, &d);
    if (i == 0 && channel == SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
      /* smbd.md 4 / case 55: every response, errors too, invalidates */
      x->inv = true;
      x->inv_key = d.token;
    }
    zero |= d.length == 0;
    total += d.length;
    /* a remote range that wraps the 64-bit address space names no memory */
    wraps |= d.offset > UINT64_MAX - d.length;
  }
  /* smb2.md 4.6: a non-zero Channel on a non-RDMA connection */
  if (!l->smbd)
    return fail(why, "RDMA channel on a connection that is not SMB Direct");
  if (!l->enabled)
    return fail(why, "RDMA channel: direct placement disabled");
  /* smbd.md 4: RDMA_V1 needs 3.0+, RDMA_V1_INVALIDATE 3.0.2+ (case 52) */
  if (l->dialect < SMBX_SMB2_DIALECT_300)
    return fail(why, "RDMA channel before SMB 3.0");
  if (channel == SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE &&
      l->dialect < SMBX_SMB2_DIALECT_302)
    return fail(why, "RDMA_V1_INVALIDATE on SMB 3.0");
  if (length == 0)
    return fail(why, "RDMA channel with nothing to move");
  if (length > l->max_rw || length > max_io)
    return fail(why, "RDMA length above MaxReadWriteSize / MaxRead/WriteSize");
  /* smbd.md 4 / case 53: every descriptor Length > 0, sum >= length */
  if (total < length)
    return fail(why, "buffer descriptors shorter than the I/O");
  if (zero)
    return fail(why, "buffer descriptor of length 0");
  /* a list longer than one I/O may ever be is not a client's to send */
  if (total > l->max_rw)
    return fail(why, "buffer descriptors longer than MaxReadWriteSize");
  if (wraps)
    return fail(why, "buffer descriptor wraps the address space");
  return 0;
}

static uint32_t check_channel(uint32_t channel, const char **why)
{
  if (channel == SMBX_SMB2_CHANNEL_RDMA_TRANSFORM)
    /* case 57: no RDMA transform is ever negotiated by this server */
    return fail(why, "RDMA_TRANSFORM channel not negotiated");
  if (channel != SMBX_SMB2_CHANNEL_RDMA_V1 &&
      channel != SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE)
    return fail(why, "unknown Channel");
  return 0;
}

uint32_t smbx__rdma_check_read(const uint8_t *pdu, size_t len,
                               const smbx__rdma_limits *l, smbx__rdma_xfer *x,
                               const char **why)
{
  memset(x, 0, sizeof *x);
  smbx_smb2_read_req r;
  /* case 53: channel info out of bounds, length 0 or not x16 */
  if (smbx_smb2_decode_read_req(pdu, len, &r, NULL) != 0)
    return fail(why, "READ: bad channel info");
  uint32_t st = check_channel(r.channel, why);
  if (st)
    return st;
  x->offset = r.offset;
  return check_common(r.channel, &r.descs, r.length, l->max_io, l, x, why);
}

uint32_t smbx__rdma_check_write(const uint8_t *pdu, size_t len,
                                const smbx__rdma_limits *l,
                                smbx__rdma_xfer *x, const char **why)
{
  memset(x, 0, sizeof *x);
  smbx_smb2_write_req w;
  if (smbx_smb2_decode_write_req(pdu, len, &w, NULL) != 0)
    return fail(why, "WRITE: bad channel info");
  uint32_t st = check_channel(w.channel, why);
  if (st)
    return st;
  x->offset = w.offset;
  st = check_common(w.channel, &w.descs, w.remaining_bytes, l->max_io, l, x,
                    why);
  if (st)
    return st;
  /* smb2.md 4.7 / case 51: the RDMA form has Length 0 and DataOffset 0 */
  if (w.data.len != 0 || w.data_offset != 0)
    return fail(why, "WRITE over RDMA with Length or DataOffset not 0");
  return 0;
}
