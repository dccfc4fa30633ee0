/* SPDX-License-Identifier: MIT */
/* Helpers shared by the smb2 I/O-command codecs (READ/WRITE/LOCK/IOCTL,
 * QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO/SET_INFO and their payloads). */
#ifndef SMBX_SMB2_IO_INT_H
#define SMBX_SMB2_IO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smb2_io.h>

#include "core/cursor.h"

/* Records a decode failure (static reason, byte offset) and returns
 * SMBX_ERR_DECODE. */
static inline int smbx__io_fail(smbx_error_detail *err, const char *reason,
                                size_t off)
{
  if (err) {
    err->reason = reason;
    err->offset = off;
  }
  return SMBX_ERR_DECODE;
}

static inline size_t smbx__io_pad8(size_t n) { return (8 - (n & 7)) & 7; }
static inline size_t smbx__io_pad4(size_t n) { return (4 - (n & 3)) & 3; }

/* Encoder epilogue: reports bytes written or needed. */
static inline int smbx__io_done(const smbx__wr *w, size_t *out_len)
{
  *out_len = w->need;
  return w->bad ? SMBX_ERR_NOBUF : 0;
}

/* Internal forms of the payload decoders: `base` is added to every error
 * offset so a caller decoding a sub-area reports PDU-relative offsets. */
int smbx__smb2_desc_list_parse(const uint8_t *p, size_t len,
                               smbx_smb2_desc_list *out,
                               smbx_error_detail *err, size_t base);
int smbx__smb2_rdma_transform_parse(const uint8_t *p, size_t len,
                                    smbx_smb2_rdma_transform *out,
                                    smbx_error_detail *err, size_t base);

#endif
