/* SPDX-License-Identifier: MIT */
/* QUERY_INFO / SET_INFO requests and responses (MS-SMB2 2.2.37-2.2.40,
 * smb2.md 4.12). Information classes: io_fileinfo.c. */
#include "smb2/io_int.h"

#define QI_REQ_FIXED_END 104u /* 64 + (41 & ~1) */
#define SI_REQ_FIXED_END 96u  /* 64 + (33 & ~1) */

int smbx_smb2_decode_query_info_req(const uint8_t *pdu, size_t len,
                                    smbx_smb2_query_info_req *out,
                                    smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_QUERY_INFO, 41, &r, err);
  if (rc)
    return rc;
  out->info_type = smbx__rd_u8(&r);               /* @66 */
  out->file_info_class = smbx__rd_u8(&r);         /* @67 */
  out->output_buffer_length = smbx__rd_u32(&r);   /* @68 */
  out->input_buffer_offset = smbx__rd_u16(&r);    /* @72 */
  out->reserved = smbx__rd_u16(&r);               /* @74 */
  uint32_t in_len = smbx__rd_u32(&r);             /* @76 */
  out->additional_information = smbx__rd_u32(&r); /* @80 */
  out->flags = smbx__rd_u32(&r);                  /* @84 */
  out->file_id = smbx__smb2_rd_fileid(&r);        /* @88 */
  if (r.bad)
    return smbx__smb2_fail(err, "query info req: truncated", len);
  return smbx__smb2_area(pdu, len, QI_REQ_FIXED_END, out->input_buffer_offset,
                         in_len, &out->input, err, 72);
}

smbx_ssize smbx_smb2_encode_query_info_req(const smbx_smb2_hdr *h,
                                           const smbx_smb2_query_info_req *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->input))
    return SMBX_ERR_INVAL;
  size_t n = in->input.len;
  if (n > UINT32_MAX - QI_REQ_FIXED_END)
    return SMBX_ERR_RANGE;
  size_t total = QI_REQ_FIXED_END + (n ? n : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_QUERY_INFO);
  smbx__wr_u16(&w, 41);
  smbx__wr_u8(&w, in->info_type);
  smbx__wr_u8(&w, in->file_info_class);
  smbx__wr_u32(&w, in->output_buffer_length);
  smbx__wr_u16(&w, (uint16_t)QI_REQ_FIXED_END); /* 0x68 */
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, (uint32_t)n);
  smbx__wr_u32(&w, in->additional_information);
  smbx__wr_u32(&w, in->flags);
  smbx__smb2_wr_fileid(&w, in->file_id);
  if (n)
    smbx__wr_bytes(&w, in->input.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 41 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_query_info_resp(const uint8_t *pdu, size_t len,
                                     smbx_smb2_output_resp *out,
                                     smbx_error_detail *err)
{
  return smbx__smb2_output_resp_decode(pdu, len, SMBX_SMB2_QUERY_INFO, out,
                                       err);
}

smbx_ssize smbx_smb2_encode_query_info_resp(const smbx_smb2_hdr *h,
                                            const smbx_smb2_output_resp *in,
                                            uint8_t *buf, size_t cap,
                                            size_t *needed)
{
  return smbx__smb2_output_resp_encode(h, SMBX_SMB2_QUERY_INFO, in, buf, cap,
                                       needed);
}

int smbx_smb2_decode_set_info_req(const uint8_t *pdu, size_t len,
                                  smbx_smb2_set_info_req *out,
                                  smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_SET_INFO, 33, &r, err);
  if (rc)
    return rc;
  out->info_type = smbx__rd_u8(&r);               /* @66 */
  out->file_info_class = smbx__rd_u8(&r);         /* @67 */
  uint32_t n = smbx__rd_u32(&r);                  /* @68 */
  out->buffer_offset = smbx__rd_u16(&r);          /* @72 */
  out->reserved = smbx__rd_u16(&r);               /* @74 */
  out->additional_information = smbx__rd_u32(&r); /* @76 */
  out->file_id = smbx__smb2_rd_fileid(&r);        /* @80 */
  if (r.bad)
    return smbx__smb2_fail(err, "set info req: truncated", len);
  return smbx__smb2_area(pdu, len, SI_REQ_FIXED_END, out->buffer_offset, n,
                         &out->buffer, err, 72);
}

smbx_ssize smbx_smb2_encode_set_info_req(const smbx_smb2_hdr *h,
                                         const smbx_smb2_set_info_req *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->buffer))
    return SMBX_ERR_INVAL;
  size_t n = in->buffer.len;
  if (n > UINT32_MAX)
    return SMBX_ERR_RANGE;
  size_t total = SI_REQ_FIXED_END + (n ? n : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_SET_INFO);
  smbx__wr_u16(&w, 33);
  smbx__wr_u8(&w, in->info_type);
  smbx__wr_u8(&w, in->file_info_class);
  smbx__wr_u32(&w, (uint32_t)n);
  smbx__wr_u16(&w, (uint16_t)SI_REQ_FIXED_END); /* 0x60 */
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->additional_information);
  smbx__smb2_wr_fileid(&w, in->file_id);
  if (n)
    smbx__wr_bytes(&w, in->buffer.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 33 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_set_info_resp(const uint8_t *pdu, size_t len,
                                   smbx_smb2_set_info_resp *out,
                                   smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_SET_INFO, 2, &r, err);
  if (rc)
    return rc;
  out->structure_size = 2;
  return 0;
}

smbx_ssize smbx_smb2_encode_set_info_resp(const smbx_smb2_hdr *h,
                                          const smbx_smb2_set_info_resp *in,
                                          uint8_t *buf, size_t cap,
                                          size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 66, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_SET_INFO);
  smbx__wr_u16(&w, 2);
  return smbx__smb2_enc_done(&w);
}
