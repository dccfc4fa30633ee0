/* SPDX-License-Identifier: MIT */
/* lib/smb2 encoder pieces for the nodes' data path (rank 1): plain stores
 * at fixed offsets for a caller that proved the room, shared with the
 * public encoders (one encoder per wire structure). */
#ifndef SMBX_SMB2_HOT_H
#define SMBX_SMB2_HOT_H

#include <smbx/smb2.h>

/* The 64-byte SMB2 header at p (MS-SMB2 2.2.1): ProtocolId, SS 64,
 * Command = cmd, the rest from h; what smbx_smb2_hdr_encode() writes. */
void smbx__smb2_hdr_store(uint8_t *p, const smbx_smb2_hdr *h, uint16_t cmd);

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
