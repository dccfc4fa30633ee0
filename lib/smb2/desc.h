/* SPDX-License-Identifier: MIT */
/* lib/smb2 (rank 1): SMB_DIRECT_BUFFER_DESCRIPTOR_V1 loads ([MS-SMBD]
 * 2.2.3.1) for the RDMA data path, shared with the public decoder
 * smbx_smb2_desc_list_get() (one decoder per wire structure). */
#ifndef SMBX_SMB2_DESC_H
#define SMBX_SMB2_DESC_H

#include <smbx/smb2.h>

#include "core/cursor.h"

/* Descriptor i of a list the READ/WRITE decoder filled (count x 16 bytes
 * proved), for a caller that holds i < l->count: the loads
 * smbx_smb2_desc_list_get() makes after its bounds checks. */
static inline void smbx__smb2_desc_at(const smbx_smb2_desc_list *l,
                                      uint32_t i, smbx_smb2_buffer_desc *out)
{
  const uint8_t *q = l->bytes.p + (size_t)i * SMBX_SMB2_BUFFER_DESC_SIZE;
  out->offset = smbx__get_le64(q);
  out->token = smbx__get_le32(q + 8);
  out->length = smbx__get_le32(q + 12);
}

#endif
