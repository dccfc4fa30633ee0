/* SPDX-License-Identifier: MIT */
/* SMB Direct wire codec, internal inline forms (the data path and the
 * engine use these; lib/smbd/pdu.c wraps them as the public codec).
 * Layouts: [MS-SMBD] 2.2.1 (Negotiate Request), 2.2.2 (Negotiate Response),
 * 2.2.3 (Data Transfer), 2.2.3.1 (Buffer Descriptor V1). */
#ifndef SMBX_SMBD_PDU_H
#define SMBX_SMBD_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbd.h>

#include "core/cursor.h"

/* Outcome of the receiver checks on a Negotiate Request, [MS-SMBD] 3.1.5.6 */
enum {
  SMBX__SMBD_NEG_OK = 0,
  SMBX__SMBD_NEG_TERMINATE = 1, /* disconnect without a reply */
  SMBX__SMBD_NEG_NOT_SUPPORTED = 2 /* failure response, then disconnect */
};

static inline void smbx__smbd_set_detail(smbx_error_detail *det,
                                         const char *reason, size_t off)
{
  if (det) {
    det->reason = reason;
    det->offset = off;
  }
}

/* [MS-SMBD] 2.2.3 layout and 3.1.5.8 receiver rules; max_frag 0 = no limit. */
static inline int smbx__smbd_decode_data(const uint8_t *p, size_t len,
                                         uint32_t max_frag, bool strict,
                                         smbx_smbd_data *m,
                                         smbx_error_detail *det)
{
  if (len < SMBX_SMBD_DATA_HDR_EMPTY || !p) {
    /* 3.1.5.8: fewer than 20 bytes -> terminate */
    smbx__smbd_set_detail(det, "smbd data: shorter than 20 bytes", len);
    return SMBX_ERR_DECODE;
  }
  m->credits_requested = smbx__get_le16(p);
  m->credits_granted = smbx__get_le16(p + 2);
  m->flags = smbx__get_le16(p + 4);   /* unknown bits ignored (3.1.5.8) */
  m->reserved = smbx__get_le16(p + 6); /* ignored (2.2.3) */
  m->remaining_data_length = smbx__get_le32(p + 8);
  m->data_offset = smbx__get_le32(p + 12);
  m->data_length = smbx__get_le32(p + 16);
  m->padding = len >= SMBX_SMBD_DATA_HDR_SIZE ? smbx__get_le32(p + 20) : 0;
  m->payload = NULL;
  /* 3.1.5.8: CreditsRequested MUST be > 0 */
  if (m->credits_requested == 0) {
    smbx__smbd_set_detail(det, "smbd data: CreditsRequested 0", 0);
    return SMBX_ERR_DECODE;
  }
  /* 3.1.5.8: DataOffset MUST be 8-byte aligned */
  if (m->data_offset % 8 != 0) {
    smbx__smbd_set_detail(det, "smbd data: DataOffset not 8-aligned", 12);
    return SMBX_ERR_DECODE;
  }
  /* 3.1.5.8: DataOffset + DataLength within the message (64-bit sum) */
  if ((uint64_t)m->data_offset + m->data_length > len) {
    smbx__smbd_set_detail(det, "smbd data: payload past the end", 16);
    return SMBX_ERR_DECODE;
  }
  /* 3.1.5.8: DataLength + RemainingDataLength <= MaxFragmentedRecvSize */
  if (max_frag &&
      (uint64_t)m->data_length + m->remaining_data_length > max_frag) {
    smbx__smbd_set_detail(det, "smbd data: exceeds MaxFragmentedSize", 8);
    return SMBX_ERR_DECODE;
  }
  /* 2.2.3 allows a payload below offset 24 (Linux: "strange but valid");
   * strict mode rejects it because it overlaps the header. */
  if (strict && m->data_length && m->data_offset < SMBX_SMBD_DATA_HDR_SIZE) {
    smbx__smbd_set_detail(det, "smbd data: DataOffset inside the header", 12);
    return SMBX_ERR_DECODE;
  }
  if (m->data_length)
    m->payload = p + m->data_offset;
  return 0;
}

/* Writes the data header: 20 bytes if data_length is 0, else 24 (payload
 * placed by the caller at offset 24). cap checked by the caller. */
static inline size_t smbx__smbd_put_data_hdr(uint8_t *p, uint16_t credits_req,
                                             uint16_t granted, uint16_t flags,
                                             uint32_t remaining,
                                             uint32_t data_len)
{
  smbx__put_le16(p, credits_req);
  smbx__put_le16(p + 2, granted);
  smbx__put_le16(p + 4, flags);
  smbx__put_le16(p + 6, 0);
  smbx__put_le32(p + 8, remaining);
  smbx__put_le32(p + 12, data_len ? SMBX_SMBD_DATA_HDR_SIZE : 0);
  smbx__put_le32(p + 16, data_len);
  if (!data_len)
    return SMBX_SMBD_DATA_HDR_EMPTY;
  smbx__put_le32(p + 20, 0);
  return SMBX_SMBD_DATA_HDR_SIZE;
}

void smbx__smbd_decode_negotiate_req(const uint8_t *p,
                                     smbx_smbd_negotiate_req *m);
void smbx__smbd_decode_negotiate_resp(const uint8_t *p,
                                      smbx_smbd_negotiate_resp *m);
void smbx__smbd_encode_negotiate_req(const smbx_smbd_negotiate_req *m,
                                     uint8_t *p);
void smbx__smbd_encode_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                      uint8_t *p);
/* [MS-SMBD] 3.1.5.6 passive checks; returns SMBX__SMBD_NEG_* */
int smbx__smbd_check_negotiate_req(const smbx_smbd_negotiate_req *m,
                                   smbx_error_detail *det);
/* [MS-SMBD] 3.1.5.7 active checks; own_max_recv is the local
 * MaxReceiveSize, min_rw the smallest MaxReadWriteSize accepted. Returns 0
 * or SMBX_ERR_NEGOTIATE. */
int smbx__smbd_check_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                    uint32_t own_max_recv, uint32_t min_rw,
                                    smbx_error_detail *det);

#endif
