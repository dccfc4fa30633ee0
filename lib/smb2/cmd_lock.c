/* SPDX-License-Identifier: MIT */
/* LOCK request/response (MS-SMB2 2.2.26/2.2.27, smb2.md 4.8). */
#include "smb2/io_int.h"

#define LOCK_REQ_LOCKS_AT 88u /* @88: the first SMB2_LOCK_ELEMENT */

int smbx_smb2_lock_req_get(const smbx_smb2_lock_req *r, size_t i,
                           smbx_smb2_lock_element *out)
{
  if (!r || !out)
    return SMBX_ERR_INVAL;
  if (!r->locks.p || i >= r->locks.len / SMBX_SMB2_LOCK_ELEMENT_SIZE)
    return SMBX_ERR_RANGE;
  const uint8_t *q = r->locks.p + i * SMBX_SMB2_LOCK_ELEMENT_SIZE;
  out->offset = smbx__get_le64(q);
  out->length = smbx__get_le64(q + 8);
  out->flags = smbx__get_le32(q + 16);
  out->reserved = smbx__get_le32(q + 20);
  return 0;
}

int smbx_smb2_decode_lock_req(const uint8_t *pdu, size_t len,
                              smbx_smb2_lock_req *out, smbx_error_detail *err)
{
  smbx__rd r;
  /* SS 48 counts the first 24-byte element: begin() ensures it is there */
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_LOCK, 48, &r, err);
  if (rc)
    return rc;
  out->lock_count = smbx__rd_u16(&r);        /* @66 */
  out->lock_sequence = smbx__rd_u32(&r);     /* @68 */
  out->file_id = smbx__smb2_rd_fileid(&r);   /* @72 */
  out->elements = NULL;
  if (r.bad)
    return smbx__smb2_fail(err, "lock req: truncated", len);
  /* 2.2.26: LockCount MUST be >= 1 (case 32) */
  if (out->lock_count == 0)
    return smbx__smb2_fail(err, "lock req: LockCount 0", 66);
  /* case 32: count bounded by the bytes present (product fits 64 bits) */
  uint64_t need = (uint64_t)out->lock_count * SMBX_SMB2_LOCK_ELEMENT_SIZE;
  if (need > len - LOCK_REQ_LOCKS_AT)
    return smbx__smb2_fail(err, "lock req: LockCount past the end", 66);
  out->locks.p = pdu + LOCK_REQ_LOCKS_AT;
  out->locks.len = (size_t)need;
  return 0;
}

smbx_ssize smbx_smb2_encode_lock_req(const smbx_smb2_hdr *h,
                                     const smbx_smb2_lock_req *in,
                                     uint8_t *buf, size_t cap,
                                     size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->locks))
    return SMBX_ERR_INVAL;
  size_t n = in->elements ? in->lock_count
                          : in->locks.len / SMBX_SMB2_LOCK_ELEMENT_SIZE;
  if (!in->elements && in->locks.len % SMBX_SMB2_LOCK_ELEMENT_SIZE != 0)
    return SMBX_ERR_RANGE;
  if (n == 0 || n > UINT16_MAX)
    return SMBX_ERR_RANGE;
  size_t total = LOCK_REQ_LOCKS_AT + n * SMBX_SMB2_LOCK_ELEMENT_SIZE;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_LOCK);
  smbx__wr_u16(&w, 48);
  smbx__wr_u16(&w, (uint16_t)n);
  smbx__wr_u32(&w, in->lock_sequence);
  smbx__smb2_wr_fileid(&w, in->file_id);
  if (in->elements) {
    for (size_t i = 0; i < n; i++) {
      smbx__wr_u64(&w, in->elements[i].offset);
      smbx__wr_u64(&w, in->elements[i].length);
      smbx__wr_u32(&w, in->elements[i].flags);
      smbx__wr_u32(&w, in->elements[i].reserved);
    }
  } else {
    smbx__wr_bytes(&w, in->locks.p, in->locks.len);
  }
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_lock_resp(const uint8_t *pdu, size_t len,
                               smbx_smb2_lock_resp *out,
                               smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_LOCK, 4, &r, err);
  if (rc)
    return rc;
  out->reserved = smbx__rd_u16(&r); /* @66 */
  return r.bad ? smbx__smb2_fail(err, "lock resp: truncated", len) : 0;
}

smbx_ssize smbx_smb2_encode_lock_resp(const smbx_smb2_hdr *h,
                                      const smbx_smb2_lock_resp *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 68, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_LOCK);
  smbx__wr_u16(&w, 4);
  smbx__wr_u16(&w, in->reserved);
  return smbx__smb2_enc_done(&w);
}
