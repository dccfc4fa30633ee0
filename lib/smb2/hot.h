/* SPDX-License-Identifier: MIT */
/* lib/smb2 encoder pieces for the nodes' data path (rank 1): plain stores
 * at fixed offsets for a caller that proved the room, shared with the
 * public encoders (one encoder per wire structure). */
#ifndef SMBX_SMB2_HOT_H
#define SMBX_SMB2_HOT_H

#include <string.h>

#include <smbx/smb2.h>

#include "core/cursor.h"

/* The 64-byte SMB2 header at p (MS-SMB2 2.2.1): ProtocolId, SS 64,
 * Command = cmd, the rest from h; what smbx_smb2_hdr_encode() writes.
 * Inline: a caller that builds h in place has its zero fields stored as
 * constants. */
static inline void smbx__smb2_hdr_store(uint8_t *p, const smbx_smb2_hdr *h,
                                        uint16_t cmd)
{
  smbx__put_le32(p, SMBX_SMB2_PROTOCOL_ID);
  smbx__put_le16(p + 4, 64);
  smbx__put_le16(p + 6, h->credit_charge);
  smbx__put_le32(p + 8, h->status);
  smbx__put_le16(p + 12, cmd);
  smbx__put_le16(p + 14, h->credits);
  smbx__put_le32(p + 16, h->flags);
  smbx__put_le32(p + 20, h->next_command);
  smbx__put_le64(p + 24, h->message_id);
  if (h->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) {
    smbx__put_le64(p + 32, h->async_id);
  } else {
    smbx__put_le32(p + 32, h->reserved);
    smbx__put_le32(p + 36, h->tree_id);
  }
  smbx__put_le64(p + 40, h->session_id);
  memcpy(p + 48, h->signature, 16);
}

/* A READ request's ReadChannelInfo sits right after its fixed part
 * (MS-SMB2 2.2.19: 64 + (49 & ~1)); a sender may build it there first. */
#define SMBX__SMB2_READ_REQ_FIXED_END 112u

/* The READ request at p (MS-SMB2 2.2.19): header from h, the 48-byte
 * fixed part from in with ReadChannelInfoOffset/Length for ci_len bytes
 * at SMBX__SMB2_READ_REQ_FIXED_END, which the caller puts there (before
 * or after); with ci_len 0, the one Buffer byte StructureSize 49 counts.
 * The caller proved FIXED_END + max(ci_len, 1) bytes of room. What
 * smbx_smb2_encode_read_req() writes. */
static inline void smbx__smb2_read_req_store(uint8_t *p,
                                             const smbx_smb2_hdr *h,
                                             const smbx_smb2_read_req *in,
                                             uint16_t ci_len)
{
  smbx__smb2_hdr_store(p, h, SMBX_SMB2_READ);
  uint8_t *b = p + SMBX_SMB2_HDR_SIZE;
  smbx__put_le16(b, 49);
  b[2] = in->padding;
  b[3] = in->flags;
  smbx__put_le32(b + 4, in->length);
  smbx__put_le64(b + 8, in->offset);
  smbx__put_le64(b + 16, in->file_id.persistent_id);
  smbx__put_le64(b + 24, in->file_id.volatile_id);
  smbx__put_le32(b + 32, in->minimum_count);
  smbx__put_le32(b + 36, in->channel);
  smbx__put_le32(b + 40, in->remaining_bytes);
  smbx__put_le16(b + 44, ci_len ? (uint16_t)SMBX__SMB2_READ_REQ_FIXED_END : 0);
  smbx__put_le16(b + 46, ci_len);
  if (!ci_len)
    p[SMBX__SMB2_READ_REQ_FIXED_END] = 0;
}

/* One SMB_DIRECT_BUFFER_DESCRIPTOR_V1 ([MS-SMBD] 2.2.3.1) at q, 16 bytes
 * the caller proved: Offset, Token, Length. What
 * smbx_smb2_desc_list_encode() writes per descriptor. */
static inline void smbx__smb2_desc_store(uint8_t *q, uint64_t offset,
                                         uint32_t token, uint32_t length)
{
  smbx__put_le64(q, offset);
  smbx__put_le32(q + 8, token);
  smbx__put_le32(q + 12, length);
}

/* The 16-byte fixed part of a READ response at b (MS-SMB2 2.2.20):
 * StructureSize 17, DataOffset 0x50, DataLength data_len, DataRemaining,
 * Flags; what smbx_smb2_encode_read_resp() writes after the header. A
 * server whose data went by RDMA sends just this (smb2.md 4.6). */
void smbx__smb2_read_resp_fixed(uint8_t *b, uint8_t reserved,
                                uint32_t data_len, uint32_t data_remaining,
                                uint32_t flags);

/* The 16-byte fixed part of a READ response (MS-SMB2 2.2.20). */
typedef struct smbx__smb2_read_resp_fields {
  uint8_t data_offset, reserved;
  uint32_t data_length, data_remaining, flags;
} smbx__smb2_read_resp_fields;

/* The fixed part of a READ response PDU for a caller whose connection
 * decoded and checked its header: Command READ, StructureSize 17 and the
 * 16 bytes present, else SMBX_ERR_DECODE. The loads
 * smbx_smb2_decode_read_resp() makes; the data area and an RDMA transform
 * (flags) are left to that decoder. */
int smbx__smb2_read_resp_fixed_get(const uint8_t *pdu, size_t len,
                                   smbx__smb2_read_resp_fields *out);

#endif
