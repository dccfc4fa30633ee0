/* SPDX-License-Identifier: MIT */
/* Internals shared by the I/O-command codecs (smbx/smb2_io.h): READ,
 * WRITE, LOCK, IOCTL, QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO/SET_INFO
 * and their payloads. Conventions: smb2_int.h. */
#ifndef SMBX_SMB2_IO_INT_H
#define SMBX_SMB2_IO_INT_H

#include <smbx/smb2_io.h>

#include "smb2/smb2_int.h"

static inline size_t smbx__io_pad8(size_t n) { return (8 - (n & 7)) & 7; }
static inline size_t smbx__io_pad4(size_t n) { return (4 - (n & 3)) & 3; }

/* Payload decoders with `base` added to every error offset, so a command
 * decoding a sub-area reports PDU-relative offsets. */
int smbx__smb2_desc_list_parse(const uint8_t *p, size_t len,
                               smbx_smb2_desc_list *out,
                               smbx_error_detail *err, size_t base);
int smbx__smb2_rdma_transform_parse(const uint8_t *p, size_t len,
                                    smbx_smb2_rdma_transform *out,
                                    smbx_error_detail *err, size_t base);

/* READ/WRITE request channel info (smb2.md 4.6/4.7, smbd.md 4): `ci` is
 * the validated channel-info area at header offset `ci_off`; parses it by
 * `channel` into descs/transform. `field_off` is the offset of the
 * ChannelInfoOffset field. */
int smbx__smb2_channel_parse(uint32_t channel, smbx_smb2_bytes ci,
                             size_t ci_off, smbx_smb2_desc_list *descs,
                             smbx_smb2_rdma_transform *transform,
                             smbx_error_detail *err, size_t field_off);

/* The SS-9 output-buffer response of QUERY_DIRECTORY, CHANGE_NOTIFY and
 * QUERY_INFO (cmd selects the header Command). */
int smbx__smb2_output_resp_decode(const uint8_t *pdu, size_t len,
                                  uint16_t cmd, smbx_smb2_output_resp *out,
                                  smbx_error_detail *err);
smbx_ssize smbx__smb2_output_resp_encode(const smbx_smb2_hdr *h, uint16_t cmd,
                                         const smbx_smb2_output_resp *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed);

/* A view's bytes are usable: p non-NULL unless len is 0. */
static inline bool smbx__io_view_ok(smbx_smb2_bytes b)
{
  return b.p || b.len == 0;
}

#endif
