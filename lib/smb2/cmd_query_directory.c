/* SPDX-License-Identifier: MIT */
/* QUERY_DIRECTORY request/response (MS-SMB2 2.2.33/2.2.34, smb2.md 4.10)
 * and the SS-9 output-buffer response it shares with CHANGE_NOTIFY and
 * QUERY_INFO (2.2.36, 2.2.38). Entry iterators: io_dir.c. */
#include "smb2/io_int.h"

#define QD_REQ_FIXED_END 96u     /* 64 + (33 & ~1) */
#define OUTPUT_RESP_FIXED_END 72u /* 64 + (9 & ~1) */

int smbx__smb2_output_resp_decode(const uint8_t *pdu, size_t len,
                                  uint16_t cmd, smbx_smb2_output_resp *out,
                                  smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, cmd, 9, &r, err);
  if (rc)
    return rc;
  out->output_buffer_offset = smbx__rd_u16(&r); /* @66 */
  uint32_t n = smbx__rd_u32(&r);                /* @68 */
  if (r.bad)
    return smbx__smb2_fail(err, "output resp: truncated", len);
  return smbx__smb2_area(pdu, len, OUTPUT_RESP_FIXED_END,
                         out->output_buffer_offset, n, &out->output, err, 66);
}

smbx_ssize smbx__smb2_output_resp_encode(const smbx_smb2_hdr *h, uint16_t cmd,
                                         const smbx_smb2_output_resp *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->output))
    return SMBX_ERR_INVAL;
  size_t n = in->output.len;
  if (n > UINT32_MAX)
    return SMBX_ERR_RANGE;
  size_t total = OUTPUT_RESP_FIXED_END + (n ? n : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, cmd);
  smbx__wr_u16(&w, 9);
  smbx__wr_u16(&w, (uint16_t)OUTPUT_RESP_FIXED_END); /* 0x48 */
  smbx__wr_u32(&w, (uint32_t)n);
  if (n)
    smbx__wr_bytes(&w, in->output.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 9 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_query_directory_req(const uint8_t *pdu, size_t len,
                                         smbx_smb2_query_directory_req *out,
                                         smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_QUERY_DIRECTORY, 33, &r,
                            err);
  if (rc)
    return rc;
  out->info_class = smbx__rd_u8(&r);             /* @66 */
  out->flags = smbx__rd_u8(&r);                  /* @67 */
  out->file_index = smbx__rd_u32(&r);            /* @68 */
  out->file_id = smbx__smb2_rd_fileid(&r);       /* @72 */
  out->file_name_offset = smbx__rd_u16(&r);      /* @88 */
  uint16_t name_len = smbx__rd_u16(&r);          /* @90 */
  out->output_buffer_length = smbx__rd_u32(&r);  /* @92 */
  if (r.bad)
    return smbx__smb2_fail(err, "query directory req: truncated", len);
  /* smb2.md 0 / case 33: UTF-16 byte lengths are even */
  if (name_len % 2 != 0)
    return smbx__smb2_fail(err, "query directory req: odd FileNameLength",
                           90);
  return smbx__smb2_area(pdu, len, QD_REQ_FIXED_END, out->file_name_offset,
                         name_len, &out->file_name, err, 88);
}

smbx_ssize smbx_smb2_encode_query_directory_req(
    const smbx_smb2_hdr *h, const smbx_smb2_query_directory_req *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->file_name))
    return SMBX_ERR_INVAL;
  size_t n = in->file_name.len;
  if (n > UINT16_MAX || n % 2 != 0)
    return SMBX_ERR_RANGE;
  size_t total = QD_REQ_FIXED_END + (n ? n : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_QUERY_DIRECTORY);
  smbx__wr_u16(&w, 33);
  smbx__wr_u8(&w, in->info_class);
  smbx__wr_u8(&w, in->flags);
  smbx__wr_u32(&w, in->file_index);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u16(&w, (uint16_t)QD_REQ_FIXED_END); /* 0x60 */
  smbx__wr_u16(&w, (uint16_t)n);
  smbx__wr_u32(&w, in->output_buffer_length);
  if (n)
    smbx__wr_bytes(&w, in->file_name.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 33 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_query_directory_resp(const uint8_t *pdu, size_t len,
                                          smbx_smb2_output_resp *out,
                                          smbx_error_detail *err)
{
  return smbx__smb2_output_resp_decode(pdu, len, SMBX_SMB2_QUERY_DIRECTORY,
                                       out, err);
}

smbx_ssize smbx_smb2_encode_query_directory_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_output_resp *in, uint8_t *buf,
    size_t cap, size_t *needed)
{
  return smbx__smb2_output_resp_encode(h, SMBX_SMB2_QUERY_DIRECTORY, in, buf,
                                       cap, needed);
}
