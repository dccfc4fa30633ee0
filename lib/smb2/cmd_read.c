/* SPDX-License-Identifier: MIT */
/* READ request/response (MS-SMB2 2.2.19/2.2.20, smb2.md 4.6; RDMA
 * channel info: smbd.md 4). */
#include "smb2/hot.h"
#include "smb2/io_int.h"

#define READ_REQ_FIXED_END SMBX__SMB2_READ_REQ_FIXED_END
#define READ_RESP_FIXED_END 80u  /* 64 + (17 & ~1) */

int smbx_smb2_decode_read_req(const uint8_t *pdu, size_t len,
                              smbx_smb2_read_req *out, smbx_error_detail *err)
{
  int rc = smbx__smb2_begin_checks(pdu, len, out, SMBX_SMB2_READ, 49, err);
  if (rc)
    return rc;
  /* the checks proved the 48-byte fixed part there: fixed-offset loads,
   * one bounds check for all of them (a READ is the hot request) */
  out->padding = pdu[66];
  out->flags = pdu[67];
  out->length = smbx__get_le32(pdu + 68);
  out->offset = smbx__get_le64(pdu + 72);
  out->file_id.persistent_id = smbx__get_le64(pdu + 80);
  out->file_id.volatile_id = smbx__get_le64(pdu + 88);
  out->minimum_count = smbx__get_le32(pdu + 96);
  out->channel = smbx__get_le32(pdu + 100);
  out->remaining_bytes = smbx__get_le32(pdu + 104);
  out->channel_info_offset = smbx__get_le16(pdu + 108);
  uint16_t ci_len = smbx__get_le16(pdu + 110);
  size_t ci_off = out->channel_info_offset;
  /* The usual RDMA form inline: a descriptor list (length > 0, x16; a u16
   * length never exceeds 4095 of them) after the fixed part, inside the
   * PDU: what smbx__smb2_area and smbx__smb2_channel_parse accept.
   * Anything else, every error included, goes through them. */
  if ((out->channel == SMBX_SMB2_CHANNEL_RDMA_V1 ||
       out->channel == SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE) &&
      ci_len != 0 && ci_len % SMBX_SMB2_BUFFER_DESC_SIZE == 0 &&
      ci_off >= READ_REQ_FIXED_END && ci_off <= len && ci_len <= len - ci_off) {
    out->channel_info.p = pdu + ci_off;
    out->channel_info.len = ci_len;
    out->descs.bytes = out->channel_info;
    out->descs.count = ci_len / SMBX_SMB2_BUFFER_DESC_SIZE;
    memset(&out->transform, 0, sizeof out->transform);
    return 0;
  }
  /* smb2.md 0 / cases 27, 28: the channel info may not sit in the header
   * or the fixed part, and must end inside the PDU */
  rc = smbx__smb2_area(pdu, len, READ_REQ_FIXED_END, out->channel_info_offset,
                       ci_len, &out->channel_info, err, 108);
  if (rc)
    return rc;
  return smbx__smb2_channel_parse(out->channel, out->channel_info,
                                  out->channel_info_offset, &out->descs,
                                  &out->transform, err, 108);
}

smbx_ssize smbx_smb2_encode_read_req(const smbx_smb2_hdr *h,
                                     const smbx_smb2_read_req *in,
                                     uint8_t *buf, size_t cap, size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->channel_info))
    return SMBX_ERR_INVAL;
  size_t ci = in->channel_info.len;
  if (ci > UINT16_MAX)
    return SMBX_ERR_RANGE;
  size_t total = READ_REQ_FIXED_END + (ci ? ci : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  /* enc_start proved cap >= total (so buf is not NULL): stores at fixed
   * offsets, no cursor (MS-SMB2 2.2.19; a READ is the hot request) */
  smbx__smb2_read_req_store(buf, h, in, (uint16_t)ci);
  if (ci)
    memcpy(buf + READ_REQ_FIXED_END, in->channel_info.p, ci);
  return (smbx_ssize)total;
}

/* Fixed-offset loads of the 16-byte fixed part (the caller proved it). */
static void read_resp_fixed_load(const uint8_t *pdu,
                                 smbx__smb2_read_resp_fields *f)
{
  f->data_offset = pdu[66];
  f->reserved = pdu[67];
  f->data_length = smbx__get_le32(pdu + 68);
  f->data_remaining = smbx__get_le32(pdu + 72);
  f->flags = smbx__get_le32(pdu + 76);
}

int smbx__smb2_read_resp_fixed_get(const uint8_t *pdu, size_t len,
                                   smbx__smb2_read_resp_fields *out)
{
  if (!pdu || len < READ_RESP_FIXED_END ||
      smbx__get_le16(pdu + 12) != SMBX_SMB2_READ ||
      smbx__get_le16(pdu + 64) != 17)
    return SMBX_ERR_DECODE;
  read_resp_fixed_load(pdu, out);
  return 0;
}

int smbx_smb2_decode_read_resp(const uint8_t *pdu, size_t len,
                               smbx_smb2_read_resp *out,
                               smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_READ, 17, &r, err);
  if (rc)
    return rc;
  /* begin() proved the 16-byte fixed part there: fixed-offset loads */
  smbx__smb2_read_resp_fields f;
  read_resp_fixed_load(pdu, &f);
  out->data_offset = f.data_offset;
  out->reserved = f.reserved;
  uint32_t dl = f.data_length;
  out->data_remaining = f.data_remaining;
  out->flags = f.flags;
  out->transform_info.p = NULL;
  out->transform_info.len = 0;
  memset(&out->transform, 0, sizeof out->transform);
  rc = smbx__smb2_area(pdu, len, READ_RESP_FIXED_END, out->data_offset, dl,
                       &out->data, err, 66);
  if (rc)
    return rc;
  if (!(out->flags & SMBX_SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM))
    return 0;
  /* MS-SMB2 3.2.5.11: an SMB2_RDMA_TRANSFORM sits at DataOffset; without
   * a DataLength it runs to the end of the PDU */
  smbx_smb2_bytes t = out->data;
  if (dl == 0) {
    if (out->data_offset < READ_RESP_FIXED_END || out->data_offset > len)
      return smbx__smb2_fail(err, "read resp: bad DataOffset for transform",
                             66);
    t.p = pdu + out->data_offset;
    t.len = len - out->data_offset;
  }
  out->transform_info = t;
  return smbx__smb2_rdma_transform_parse(t.p, t.len, &out->transform, err,
                                         out->data_offset);
}

void smbx__smb2_read_resp_fixed(uint8_t *b, uint8_t reserved,
                                uint32_t data_len, uint32_t data_remaining,
                                uint32_t flags)
{
  smbx__put_le16(b, 17);
  b[2] = (uint8_t)READ_RESP_FIXED_END; /* DataOffset 0x50 */
  b[3] = reserved;
  smbx__put_le32(b + 4, data_len);
  smbx__put_le32(b + 8, data_remaining);
  smbx__put_le32(b + 12, flags);
}

smbx_ssize smbx_smb2_encode_read_resp(const smbx_smb2_hdr *h,
                                      const smbx_smb2_read_resp *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!h || !in || !smbx__io_view_ok(in->transform_info))
    return SMBX_ERR_INVAL;
  /* scatter-gather: header + fixed part only, data sent by the caller */
  bool sg = !in->data.p && in->data.len;
  if (in->transform_info.len && in->data.len)
    return SMBX_ERR_INVAL;
  if (in->data.len > UINT32_MAX ||
      in->transform_info.len > UINT32_MAX - READ_RESP_FIXED_END)
    return SMBX_ERR_RANGE;
  size_t var = in->transform_info.len ? in->transform_info.len : in->data.len;
  size_t total = READ_RESP_FIXED_END + (sg ? 0 : var ? var : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_READ);
  /* enc_start proved the room: one take for the fixed part (2.2.20) */
  uint8_t *b = smbx__wr_take(&w, READ_RESP_FIXED_END - SMBX_SMB2_HDR_SIZE);
  if (b)
    smbx__smb2_read_resp_fixed(b, in->reserved, (uint32_t)in->data.len,
                               in->data_remaining, in->flags);
  if (sg)
    return smbx__smb2_enc_done(&w);
  if (in->transform_info.len)
    smbx__wr_bytes(&w, in->transform_info.p, in->transform_info.len);
  else if (in->data.len)
    smbx__wr_bytes(&w, in->data.p, in->data.len);
  else
    smbx__wr_u8(&w, 0); /* SS 17 counts one Buffer byte */
  return smbx__smb2_enc_done(&w);
}
