/* SPDX-License-Identifier: MIT */
/* CHANGE_NOTIFY request/response (MS-SMB2 2.2.35/2.2.36, smb2.md 4.11).
 * FILE_NOTIFY_INFORMATION iterator and builder: io_dir.c. */
#include "smb2/io_int.h"

int smbx_smb2_decode_change_notify_req(const uint8_t *pdu, size_t len,
                                       smbx_smb2_change_notify_req *out,
                                       smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_CHANGE_NOTIFY, 32, &r,
                            err);
  if (rc)
    return rc;
  out->flags = smbx__rd_u16(&r);                 /* @66 */
  out->output_buffer_length = smbx__rd_u32(&r);  /* @68 */
  out->file_id = smbx__smb2_rd_fileid(&r);       /* @72 */
  out->completion_filter = smbx__rd_u32(&r);     /* @88 */
  out->reserved = smbx__rd_u32(&r);              /* @92 */
  return r.bad ? smbx__smb2_fail(err, "change notify req: truncated", len)
               : 0;
}

smbx_ssize smbx_smb2_encode_change_notify_req(
    const smbx_smb2_hdr *h, const smbx_smb2_change_notify_req *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 96, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_CHANGE_NOTIFY);
  smbx__wr_u16(&w, 32);
  smbx__wr_u16(&w, in->flags);
  smbx__wr_u32(&w, in->output_buffer_length);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u32(&w, in->completion_filter);
  smbx__wr_u32(&w, in->reserved);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_change_notify_resp(const uint8_t *pdu, size_t len,
                                        smbx_smb2_output_resp *out,
                                        smbx_error_detail *err)
{
  return smbx__smb2_output_resp_decode(pdu, len, SMBX_SMB2_CHANGE_NOTIFY, out,
                                       err);
}

smbx_ssize smbx_smb2_encode_change_notify_resp(const smbx_smb2_hdr *h,
                                               const smbx_smb2_output_resp *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed)
{
  return smbx__smb2_output_resp_encode(h, SMBX_SMB2_CHANGE_NOTIFY, in, buf,
                                       cap, needed);
}
