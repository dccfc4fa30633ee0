/* SPDX-License-Identifier: MIT */
/* IOCTL request/response (MS-SMB2 2.2.31/2.2.32, smb2.md 4.9). FSCTL
 * payloads: io_fsctl.c. */
#include "smb2/io_int.h"

#define IOCTL_REQ_FIXED_END 120u  /* 64 + (57 & ~1) */
#define IOCTL_RESP_FIXED_END 112u /* 64 + (49 & ~1) */

/* Input and output areas of either direction: each a data area, and the
 * two may not overlap (case 28). */
static int ioctl_areas(const uint8_t *pdu, size_t len, size_t fixed_end,
                       uint32_t in_off, uint32_t in_cnt, size_t in_field,
                       uint32_t out_off, uint32_t out_cnt, size_t out_field,
                       smbx_smb2_bytes *in, smbx_smb2_bytes *out,
                       smbx_error_detail *err)
{
  int rc = smbx__smb2_area(pdu, len, fixed_end, in_off, in_cnt, in, err,
                           in_field);
  if (rc)
    return rc;
  rc = smbx__smb2_area(pdu, len, fixed_end, out_off, out_cnt, out, err,
                       out_field);
  if (rc)
    return rc;
  if (smbx__smb2_overlap(in_off, in_cnt, out_off, out_cnt))
    return smbx__smb2_fail(err, "ioctl: input overlaps output", out_field);
  return 0;
}

/* Layout shared by both encoders: input at the end of the fixed part,
 * output after it 8-aligned; returns the total or 0 when out of range. */
static size_t ioctl_layout(size_t fixed_end, smbx_smb2_bytes in,
                           smbx_smb2_bytes out, uint32_t *out_off)
{
  if (in.len > UINT32_MAX - 4096 || out.len > UINT32_MAX - 4096)
    return 0;
  uint64_t o = in.len ? smbx__smb2_pad8(fixed_end + in.len) : fixed_end;
  uint64_t total = out.len ? o + out.len : fixed_end + in.len;
  if (o > UINT32_MAX || total > SIZE_MAX)
    return 0;
  *out_off = (uint32_t)o;
  return total == fixed_end ? fixed_end + 1 : (size_t)total;
}

static void ioctl_write_bufs(smbx__wr *w, smbx_smb2_bytes in,
                             smbx_smb2_bytes out)
{
  smbx__wr_bytes(w, in.p, in.len);
  if (out.len) {
    smbx__wr_align8(w);
    smbx__wr_bytes(w, out.p, out.len);
  }
  if (!in.len && !out.len)
    smbx__wr_u8(w, 0); /* the SS counts one Buffer byte */
}

int smbx_smb2_decode_ioctl_req(const uint8_t *pdu, size_t len,
                               smbx_smb2_ioctl_req *out,
                               smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_IOCTL, 57, &r, err);
  if (rc)
    return rc;
  out->reserved = smbx__rd_u16(&r);            /* @66 */
  out->ctl_code = smbx__rd_u32(&r);            /* @68 */
  out->file_id = smbx__smb2_rd_fileid(&r);     /* @72 */
  out->input_offset = smbx__rd_u32(&r);        /* @88 */
  uint32_t in_cnt = smbx__rd_u32(&r);          /* @92 */
  out->max_input_response = smbx__rd_u32(&r);  /* @96 */
  out->output_offset = smbx__rd_u32(&r);       /* @100 */
  uint32_t out_cnt = smbx__rd_u32(&r);         /* @104 */
  out->max_output_response = smbx__rd_u32(&r); /* @108 */
  out->flags = smbx__rd_u32(&r);               /* @112 */
  out->reserved2 = smbx__rd_u32(&r);           /* @116 */
  if (r.bad)
    return smbx__smb2_fail(err, "ioctl req: truncated", len);
  return ioctl_areas(pdu, len, IOCTL_REQ_FIXED_END, out->input_offset, in_cnt,
                     88, out->output_offset, out_cnt, 100, &out->input,
                     &out->output, err);
}

smbx_ssize smbx_smb2_encode_ioctl_req(const smbx_smb2_hdr *h,
                                      const smbx_smb2_ioctl_req *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->input) ||
      !smbx__io_view_ok(in->output))
    return SMBX_ERR_INVAL;
  uint32_t out_off = 0;
  size_t total = ioctl_layout(IOCTL_REQ_FIXED_END, in->input, in->output,
                              &out_off);
  if (!total)
    return SMBX_ERR_RANGE;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_IOCTL);
  smbx__wr_u16(&w, 57);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->ctl_code);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u32(&w, IOCTL_REQ_FIXED_END);
  smbx__wr_u32(&w, (uint32_t)in->input.len);
  smbx__wr_u32(&w, in->max_input_response);
  smbx__wr_u32(&w, out_off);
  smbx__wr_u32(&w, (uint32_t)in->output.len);
  smbx__wr_u32(&w, in->max_output_response);
  smbx__wr_u32(&w, in->flags);
  smbx__wr_u32(&w, in->reserved2);
  ioctl_write_bufs(&w, in->input, in->output);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_ioctl_resp(const uint8_t *pdu, size_t len,
                                smbx_smb2_ioctl_resp *out,
                                smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_IOCTL, 49, &r, err);
  if (rc)
    return rc;
  out->reserved = smbx__rd_u16(&r);        /* @66 */
  out->ctl_code = smbx__rd_u32(&r);        /* @68 */
  out->file_id = smbx__smb2_rd_fileid(&r); /* @72 */
  out->input_offset = smbx__rd_u32(&r);    /* @88 */
  uint32_t in_cnt = smbx__rd_u32(&r);      /* @92 */
  out->output_offset = smbx__rd_u32(&r);   /* @96 */
  uint32_t out_cnt = smbx__rd_u32(&r);     /* @100 */
  out->flags = smbx__rd_u32(&r);           /* @104 */
  out->reserved2 = smbx__rd_u32(&r);       /* @108 */
  if (r.bad)
    return smbx__smb2_fail(err, "ioctl resp: truncated", len);
  return ioctl_areas(pdu, len, IOCTL_RESP_FIXED_END, out->input_offset,
                     in_cnt, 88, out->output_offset, out_cnt, 96, &out->input,
                     &out->output, err);
}

smbx_ssize smbx_smb2_encode_ioctl_resp(const smbx_smb2_hdr *h,
                                       const smbx_smb2_ioctl_resp *in,
                                       uint8_t *buf, size_t cap,
                                       size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->input) ||
      !smbx__io_view_ok(in->output))
    return SMBX_ERR_INVAL;
  uint32_t out_off = 0;
  size_t total = ioctl_layout(IOCTL_RESP_FIXED_END, in->input, in->output,
                              &out_off);
  if (!total)
    return SMBX_ERR_RANGE;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_IOCTL);
  smbx__wr_u16(&w, 49);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->ctl_code);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u32(&w, IOCTL_RESP_FIXED_END);
  smbx__wr_u32(&w, (uint32_t)in->input.len);
  smbx__wr_u32(&w, out_off);
  smbx__wr_u32(&w, (uint32_t)in->output.len);
  smbx__wr_u32(&w, in->flags);
  smbx__wr_u32(&w, in->reserved2);
  ioctl_write_bufs(&w, in->input, in->output);
  return smbx__smb2_enc_done(&w);
}
