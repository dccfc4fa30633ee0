/* SPDX-License-Identifier: MIT */
/* WRITE request/response (MS-SMB2 2.2.21/2.2.22, smb2.md 4.7; RDMA form:
 * smbd.md 4). */
#include "smb2/io_int.h"

#define WRITE_REQ_FIXED_END 112u  /* 64 + (49 & ~1) */
#define WRITE_RESP_FIXED_END 80u  /* 64 + (17 & ~1) */

int smbx_smb2_decode_write_req(const uint8_t *pdu, size_t len,
                               smbx_smb2_write_req *out,
                               smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_WRITE, 49, &r, err);
  if (rc)
    return rc;
  out->data_offset = smbx__rd_u16(&r);         /* @66 */
  uint32_t dl = smbx__rd_u32(&r);              /* @68 */
  out->offset = smbx__rd_u64(&r);              /* @72 */
  out->file_id = smbx__smb2_rd_fileid(&r);     /* @80 */
  out->channel = smbx__rd_u32(&r);             /* @96 */
  out->remaining_bytes = smbx__rd_u32(&r);     /* @100 */
  out->channel_info_offset = smbx__rd_u16(&r); /* @104 */
  uint16_t ci_len = smbx__rd_u16(&r);          /* @106 */
  out->flags = smbx__rd_u32(&r);               /* @108 */
  if (r.bad)
    return smbx__smb2_fail(err, "write req: truncated", len);
  /* Length 0 (the RDMA form sends DataOffset 0 too): empty view */
  rc = smbx__smb2_area(pdu, len, WRITE_REQ_FIXED_END, out->data_offset, dl,
                       &out->data, err, 66);
  if (rc)
    return rc;
  rc = smbx__smb2_area(pdu, len, WRITE_REQ_FIXED_END,
                       out->channel_info_offset, ci_len, &out->channel_info,
                       err, 104);
  if (rc)
    return rc;
  /* case 28: two areas of one PDU may not overlap */
  if (smbx__smb2_overlap(out->data_offset, dl, out->channel_info_offset,
                         ci_len))
    return smbx__smb2_fail(err, "write req: data overlaps channel info", 104);
  return smbx__smb2_channel_parse(out->channel, out->channel_info,
                                  out->channel_info_offset, &out->descs,
                                  &out->transform, err, 104);
}

smbx_ssize smbx_smb2_encode_write_req(const smbx_smb2_hdr *h,
                                      const smbx_smb2_write_req *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->channel_info))
    return SMBX_ERR_INVAL;
  bool sg = !in->data.p && in->data.len; /* scatter-gather data */
  size_t dl = in->data.len, ci = in->channel_info.len;
  if (sg && ci)
    return SMBX_ERR_INVAL;
  if (dl > UINT32_MAX || ci > UINT16_MAX)
    return SMBX_ERR_RANGE;
  uint16_t data_off = (uint16_t)WRITE_REQ_FIXED_END, ci_off = 0;
  size_t total;
  if (dl && ci) {
    /* channel info after the data, 8-aligned; must fit the u16 offset */
    if (dl > UINT16_MAX - WRITE_REQ_FIXED_END - 7)
      return SMBX_ERR_RANGE;
    ci_off = (uint16_t)smbx__smb2_pad8(WRITE_REQ_FIXED_END + dl);
    total = (size_t)ci_off + ci;
  } else if (ci) {
    /* smb2.md 4.7 RDMA form: Length 0, DataOffset 0, info at 0x70 */
    data_off = 0;
    ci_off = (uint16_t)WRITE_REQ_FIXED_END;
    total = WRITE_REQ_FIXED_END + ci;
  } else {
    total = WRITE_REQ_FIXED_END + (sg ? 0 : dl ? dl : 1);
  }
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_WRITE);
  smbx__wr_u16(&w, 49);
  smbx__wr_u16(&w, data_off);
  smbx__wr_u32(&w, (uint32_t)dl);
  smbx__wr_u64(&w, in->offset);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u32(&w, in->channel);
  smbx__wr_u32(&w, in->remaining_bytes);
  smbx__wr_u16(&w, ci_off);
  smbx__wr_u16(&w, (uint16_t)ci);
  smbx__wr_u32(&w, in->flags);
  if (sg)
    return smbx__smb2_enc_done(&w);
  if (dl)
    smbx__wr_bytes(&w, in->data.p, dl);
  if (ci) {
    smbx__wr_align8(&w);
    smbx__wr_bytes(&w, in->channel_info.p, ci);
  }
  if (!dl && !ci)
    smbx__wr_u8(&w, 0); /* SS 49 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_write_resp(const uint8_t *pdu, size_t len,
                                smbx_smb2_write_resp *out,
                                smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_WRITE, 17, &r, err);
  if (rc)
    return rc;
  out->reserved = smbx__rd_u16(&r);            /* @66 */
  out->count = smbx__rd_u32(&r);               /* @68 */
  out->remaining = smbx__rd_u32(&r);           /* @72 */
  out->channel_info_offset = smbx__rd_u16(&r); /* @76 */
  uint16_t ci_len = smbx__rd_u16(&r);          /* @78 */
  if (r.bad)
    return smbx__smb2_fail(err, "write resp: truncated", len);
  return smbx__smb2_area(pdu, len, WRITE_RESP_FIXED_END,
                         out->channel_info_offset, ci_len,
                         &out->channel_info, err, 76);
}

smbx_ssize smbx_smb2_encode_write_resp(const smbx_smb2_hdr *h,
                                       const smbx_smb2_write_resp *in,
                                       uint8_t *buf, size_t cap,
                                       size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->channel_info))
    return SMBX_ERR_INVAL;
  size_t ci = in->channel_info.len;
  if (ci > UINT16_MAX)
    return SMBX_ERR_RANGE;
  size_t total = WRITE_RESP_FIXED_END + (ci ? ci : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_WRITE);
  smbx__wr_u16(&w, 17);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->count);
  smbx__wr_u32(&w, in->remaining);
  smbx__wr_u16(&w, ci ? (uint16_t)WRITE_RESP_FIXED_END : 0);
  smbx__wr_u16(&w, (uint16_t)ci);
  if (ci)
    smbx__wr_bytes(&w, in->channel_info.p, ci);
  else
    smbx__wr_u8(&w, 0); /* SS 17 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}
