/* SPDX-License-Identifier: MIT */
/* ERROR response body and 3.1.1 error contexts ([MS-SMB2] 2.2.2,
 * 2.2.2.1; smb2.md 4.14). */
#include "smb2/smb2_int.h"

int smbx_smb2_error_ctx_next(smbx_smb2_bytes data, size_t *off,
                             smbx_smb2_error_ctx *out, smbx_error_detail *err)
{
  if (!off || !out || (!data.p && data.len))
    return SMBX_ERR_INVAL;
  if (*off >= data.len)
    return 0;
  /* 2.2.2.1: {ErrorDataLength u32, ErrorId u32, data}, each 8-aligned
   * from the start of ErrorData */
  smbx__rd r = smbx__rd_make(data.p, data.len);
  smbx__rd_seek(&r, *off);
  size_t start = *off;
  uint32_t n = smbx__rd_u32(&r);
  out->error_id = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "error ctx: truncated header", start);
  if ((uint64_t)n > smbx__rd_left(&r))
    return smbx__smb2_fail(err, "error ctx: ErrorDataLength past the end",
                           start);
  out->data.p = data.p + r.off;
  out->data.len = n;
  size_t end = r.off + n;
  /* the next context starts at the next 8-byte boundary; the last one
   * needs no padding */
  size_t next = end > SIZE_MAX - 7 ? data.len : smbx__smb2_pad8(end);
  *off = next > data.len ? data.len : next;
  return 1;
}

int smbx_smb2_decode_error_resp(const uint8_t *pdu, size_t len,
                                smbx_smb2_error_resp *out,
                                smbx_error_detail *err)
{
  if ((!pdu && len) || !out)
    return SMBX_ERR_INVAL;
  int rc = smbx__smb2_hdr_check(pdu, len, err);
  if (rc)
    return rc;
  smbx__rd r = smbx__rd_make(pdu, len);
  smbx__rd_seek(&r, 64);
  uint16_t ss = smbx__rd_u16(&r);
  out->context_count = smbx__rd_u8(&r);
  out->reserved = smbx__rd_u8(&r);
  uint32_t bc = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "error resp: body shorter than 8 bytes", len);
  if (ss != 9)
    return smbx__smb2_fail(err, "error resp: StructureSize is not 9", 64);
  /* 2.2.2 quirk (Windows): with ByteCount 0 the counted byte is sent (73
   * bytes) or not (72); its value is ignored */
  if ((uint64_t)bc > smbx__rd_left(&r))
    return smbx__smb2_fail(err, "error resp: ByteCount past the end", 68);
  out->data.p = bc ? pdu + 72 : NULL;
  out->data.len = bc;
  /* 2.2.2.1: walk exactly ErrorContextCount contexts; bytes after the
   * last one (padding to 8) are ignored */
  size_t off = 0;
  for (unsigned i = 0; i < out->context_count; i++) {
    smbx_smb2_error_ctx c;
    rc = smbx_smb2_error_ctx_next(out->data, &off, &c, err);
    if (rc < 0) {
      if (err)
        err->offset += 72;
      return rc;
    }
    if (rc == 0)
      return smbx__smb2_fail(err,
                             "error resp: fewer contexts than ErrorContextCount",
                             66);
  }
  return 0;
}

smbx_ssize smbx_smb2_encode_error_resp(const smbx_smb2_hdr *h,
                                       const smbx_smb2_error_resp *in,
                                       uint8_t *buf, size_t cap,
                                       size_t *needed)
{
  if (in && (in->data.len > UINT32_MAX || (!in->data.p && in->data.len)))
    return SMBX_ERR_RANGE;
  size_t dl = in ? in->data.len : 0;
  size_t total = 72 + (dl ? dl : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, h->command);
  smbx__wr_u16(&w, 9);
  smbx__wr_u8(&w, in->context_count);
  smbx__wr_u8(&w, in->reserved);
  smbx__wr_u32(&w, (uint32_t)dl);
  if (dl)
    smbx__wr_bytes(&w, in->data.p, dl);
  else
    smbx__wr_u8(&w, 0); /* 2.2.2: one ErrorData byte even when empty */
  return smbx__smb2_enc_done(&w);
}

smbx_ssize smbx_smb2_error_ctx_encode(const smbx_smb2_error_ctx *c, size_t n,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if ((!c && n) || (!buf && cap))
    return SMBX_ERR_INVAL;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (c[i].data.len > UINT32_MAX || (!c[i].data.p && c[i].data.len))
      return SMBX_ERR_RANGE;
    if (i)
      total = smbx__smb2_pad8(total);
    if (c[i].data.len > SIZE_MAX / 2 - total)
      return SMBX_ERR_RANGE;
    total += 8 + c[i].data.len;
  }
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  for (size_t i = 0; i < n; i++) {
    if (i)
      smbx__wr_align8(&w);
    smbx__wr_u32(&w, (uint32_t)c[i].data.len);
    smbx__wr_u32(&w, c[i].error_id);
    smbx__wr_bytes(&w, c[i].data.p, c[i].data.len);
  }
  return (smbx_ssize)w.off;
}
