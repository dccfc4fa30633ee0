/* SPDX-License-Identifier: MIT */
/* SMB_DIRECT_BUFFER_DESCRIPTOR_V1 lists ([MS-SMBD] 2.2.3.1, smbd.md 1.4),
 * the SMB2_RDMA_TRANSFORM channel info (MS-SMB2 2.2.43/2.2.43.1, smbd.md
 * 4) and the READ/WRITE channel-info dispatch (smb2.md 4.6/4.7). */
#include "smb2/desc.h"
#include "smb2/hot.h"
#include "smb2/io_int.h"

int smbx__smb2_desc_list_parse(const uint8_t *p, size_t len,
                               smbx_smb2_desc_list *out,
                               smbx_error_detail *err, size_t base)
{
  out->bytes.p = NULL;
  out->bytes.len = 0;
  out->count = 0;
  /* smbd.md 4: channel info length > 0 and a multiple of 16 */
  if (len == 0)
    return smbx__smb2_fail(err, "channel info: no buffer descriptor", base);
  if (len % SMBX_SMB2_BUFFER_DESC_SIZE != 0)
    return smbx__smb2_fail(err, "channel info: length not a multiple of 16",
                           base);
  /* smbd.md 1.4: the u16 channel-info length caps a list at 4095 */
  if (len / SMBX_SMB2_BUFFER_DESC_SIZE > SMBX_SMB2_BUFFER_DESC_MAX)
    return smbx__smb2_fail(err, "channel info: more than 4095 descriptors",
                           base);
  out->bytes.p = p;
  out->bytes.len = len;
  out->count = (uint32_t)(len / SMBX_SMB2_BUFFER_DESC_SIZE);
  return 0;
}

int smbx_smb2_desc_list_decode(const uint8_t *p, size_t len,
                               smbx_smb2_desc_list *out,
                               smbx_error_detail *err)
{
  if (!out || (!p && len))
    return SMBX_ERR_INVAL;
  return smbx__smb2_desc_list_parse(p, len, out, err, 0);
}

int smbx_smb2_desc_list_get(const smbx_smb2_desc_list *l, uint32_t i,
                            smbx_smb2_buffer_desc *out)
{
  if (!l || !out)
    return SMBX_ERR_INVAL;
  /* bounded by both the count and the view, whoever filled them */
  if (i >= l->count || !l->bytes.p ||
      (size_t)i >= l->bytes.len / SMBX_SMB2_BUFFER_DESC_SIZE)
    return SMBX_ERR_RANGE;
  smbx__smb2_desc_at(l, i, out);
  return 0;
}

int smbx_smb2_desc_list_check(const smbx_smb2_desc_list *l, uint64_t need,
                              uint64_t *total)
{
  if (!l)
    return SMBX_ERR_INVAL;
  size_t n = l->bytes.p ? l->bytes.len / SMBX_SMB2_BUFFER_DESC_SIZE : 0;
  if (n > l->count)
    n = l->count;
  uint64_t sum = 0; /* <= 2^32 entries of u32: cannot wrap 64 bits */
  bool zero = n == 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = smbx__get_le32(l->bytes.p + i * 16 + 12);
    zero |= v == 0;
    sum += v;
  }
  if (total)
    *total = sum;
  /* smbd.md 4: every descriptor Length > 0, sum >= the requested length */
  return zero || sum < need ? SMBX_ERR_RANGE : 0;
}

smbx_ssize smbx_smb2_desc_list_encode(const smbx_smb2_buffer_desc *d,
                                      size_t n, uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!d || n == 0 || (!buf && cap))
    return SMBX_ERR_INVAL;
  if (n > SMBX_SMB2_BUFFER_DESC_MAX)
    return SMBX_ERR_RANGE;
  size_t total = n * SMBX_SMB2_BUFFER_DESC_SIZE;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  /* the room is proved (buf is not NULL): stores at fixed offsets */
  uint8_t *q = buf;
  for (size_t i = 0; i < n; i++, q += SMBX_SMB2_BUFFER_DESC_SIZE)
    smbx__smb2_desc_store(q, d[i].offset, d[i].token, d[i].length);
  return (smbx_ssize)total;
}

/* MS-SMB2 2.2.43: 16-byte fixed part, TransformCount crypto transforms
 * (2.2.43.1: 8 bytes + Signature + Nonce, padded so what follows starts
 * 8-aligned), descriptors at RdmaDescriptorOffset from this struct. */
int smbx__smb2_rdma_transform_parse(const uint8_t *p, size_t len,
                                    smbx_smb2_rdma_transform *out,
                                    smbx_error_detail *err, size_t base)
{
  memset(out, 0, sizeof *out);
  smbx__rd r = smbx__rd_make(p, len);
  out->desc_offset = smbx__rd_u16(&r);
  out->desc_length = smbx__rd_u16(&r);
  out->channel = smbx__rd_u32(&r);
  out->transform_count = smbx__rd_u16(&r);
  smbx__rd_skip(&r, 6); /* Reserved1 u16, Reserved2 u32: ignored */
  if (r.bad)
    return smbx__smb2_fail(err, "rdma transform: shorter than 16 bytes",
                           base);
  /* 2.2.43: TransformCount MUST be greater than 0 */
  if (out->transform_count == 0)
    return smbx__smb2_fail(err, "rdma transform: TransformCount 0", base + 8);
  /* each transform takes >= 8 bytes, so the loop is bounded by len / 8 */
  size_t pos = 16, end = 16;
  for (uint32_t i = 0; i < out->transform_count; i++) {
    if (pos > len || len - pos < 8)
      return smbx__smb2_fail(err, "rdma transform: crypto transform past end",
                             base + end);
    uint16_t sig = smbx__get_le16(p + pos + 2);
    uint16_t nonce = smbx__get_le16(p + pos + 4);
    /* 2.2.43.1: the Signature MUST be <= 16 bytes */
    if (sig > 16)
      return smbx__smb2_fail(err, "rdma transform: SignatureLength > 16",
                             base + pos + 2);
    size_t n = 8 + (size_t)sig + nonce; /* <= 8 + 16 + 65535 */
    if (len - pos < n)
      return smbx__smb2_fail(err, "rdma transform: signature/nonce past end",
                             base + pos + 4);
    end = pos + n;
    pos = end + smbx__io_pad8(end); /* the next one starts 8-aligned */
  }
  out->transforms.p = p + 16;
  out->transforms.len = end - 16;
  switch (out->channel) {
  case SMBX_SMB2_CHANNEL_NONE:
    /* 2.2.43: offset/length MUST be ignored by the receiver */
    return 0;
  case SMBX_SMB2_CHANNEL_RDMA_V1:
  case SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE:
    break;
  default:
    return smbx__smb2_fail(err, "rdma transform: bad inner Channel",
                           base + 4);
  }
  if ((uint64_t)out->desc_offset + out->desc_length > len)
    return smbx__smb2_fail(err, "rdma transform: descriptors past end", base);
  /* the descriptors follow the transforms: they may not overlap them or
   * the fixed part */
  if (out->desc_offset < end)
    return smbx__smb2_fail(err,
                           "rdma transform: descriptors overlap transforms",
                           base);
  return smbx__smb2_desc_list_parse(p + out->desc_offset, out->desc_length,
                                    &out->descs, err,
                                    base + out->desc_offset);
}

int smbx_smb2_rdma_transform_decode(const uint8_t *p, size_t len,
                                    smbx_smb2_rdma_transform *out,
                                    smbx_error_detail *err)
{
  if (!out || (!p && len))
    return SMBX_ERR_INVAL;
  return smbx__smb2_rdma_transform_parse(p, len, out, err, 0);
}

int smbx_smb2_rdma_transform_next(const smbx_smb2_rdma_transform *t,
                                  size_t *off,
                                  smbx_smb2_rdma_crypto_transform *out)
{
  if (!t || !off || !out)
    return SMBX_ERR_INVAL;
  size_t len = t->transforms.len;
  if (*off >= len)
    return 0;
  /* re-checked: a hand-made struct must not make us read out of bounds */
  if (!t->transforms.p || len - *off < 8)
    return SMBX_ERR_DECODE;
  const uint8_t *q = t->transforms.p + *off;
  out->transform_type = smbx__get_le16(q);
  uint16_t sig = smbx__get_le16(q + 2);
  uint16_t nonce = smbx__get_le16(q + 4);
  out->reserved = smbx__get_le16(q + 6);
  size_t n = 8 + (size_t)sig + nonce;
  if (len - *off < n)
    return SMBX_ERR_DECODE;
  out->signature.p = sig ? q + 8 : NULL;
  out->signature.len = sig;
  out->nonce.p = nonce ? q + 8 + sig : NULL;
  out->nonce.len = nonce;
  /* `transforms` starts at offset 16 of the struct: same alignment */
  size_t next = *off + n;
  *off = next + smbx__io_pad8(next);
  return 1;
}

smbx_ssize smbx_smb2_rdma_transform_encode(
    uint32_t channel, const smbx_smb2_rdma_crypto_transform *xf, size_t nxf,
    const smbx_smb2_buffer_desc *d, size_t nd, uint8_t *buf, size_t cap,
    size_t *needed)
{
  if (!xf || nxf == 0 || (nd && !d) || (!buf && cap))
    return SMBX_ERR_INVAL;
  if (channel == SMBX_SMB2_CHANNEL_NONE) {
    if (nd != 0)
      return SMBX_ERR_INVAL;
  } else if (channel == SMBX_SMB2_CHANNEL_RDMA_V1 ||
             channel == SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
    if (nd == 0)
      return SMBX_ERR_INVAL;
  } else {
    return SMBX_ERR_INVAL;
  }
  if (nxf > UINT16_MAX || nd > SMBX_SMB2_BUFFER_DESC_MAX)
    return SMBX_ERR_RANGE;
  size_t total = 16;
  for (size_t i = 0; i < nxf; i++) {
    if (!smbx__io_view_ok(xf[i].signature) || !smbx__io_view_ok(xf[i].nonce))
      return SMBX_ERR_INVAL;
    if (xf[i].signature.len > 16 || xf[i].nonce.len > UINT16_MAX)
      return SMBX_ERR_RANGE;
    total += 8 + xf[i].signature.len + xf[i].nonce.len;
    total += smbx__io_pad8(total);
    if (total > UINT16_MAX) /* the result must fit a u16 channel length */
      return SMBX_ERR_RANGE;
  }
  size_t desc_off = total;
  total += nd * SMBX_SMB2_BUFFER_DESC_SIZE;
  if (total > UINT16_MAX)
    return SMBX_ERR_RANGE;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u16(&w, nd ? (uint16_t)desc_off : 0);
  smbx__wr_u16(&w, (uint16_t)(nd * SMBX_SMB2_BUFFER_DESC_SIZE));
  smbx__wr_u32(&w, channel);
  smbx__wr_u16(&w, (uint16_t)nxf);
  smbx__wr_zero(&w, 6); /* Reserved1, Reserved2 */
  for (size_t i = 0; i < nxf; i++) {
    smbx__wr_u16(&w, xf[i].transform_type);
    smbx__wr_u16(&w, (uint16_t)xf[i].signature.len);
    smbx__wr_u16(&w, (uint16_t)xf[i].nonce.len);
    smbx__wr_u16(&w, xf[i].reserved);
    smbx__wr_bytes(&w, xf[i].signature.p, xf[i].signature.len);
    smbx__wr_bytes(&w, xf[i].nonce.p, xf[i].nonce.len);
    smbx__wr_align8(&w);
  }
  for (size_t i = 0; i < nd; i++) {
    smbx__wr_u64(&w, d[i].offset);
    smbx__wr_u32(&w, d[i].token);
    smbx__wr_u32(&w, d[i].length);
  }
  return smbx__smb2_enc_done(&w);
}

int smbx__smb2_channel_parse(uint32_t channel, smbx_smb2_bytes ci,
                             size_t ci_off, smbx_smb2_desc_list *descs,
                             smbx_smb2_rdma_transform *transform,
                             smbx_error_detail *err, size_t field_off)
{
  memset(descs, 0, sizeof *descs);
  memset(transform, 0, sizeof *transform);
  switch (channel) {
  case SMBX_SMB2_CHANNEL_RDMA_V1:
  case SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE:
    /* smbd.md 4: length > 0, multiple of 16; offset checked by the area */
    if (ci.len == 0)
      return smbx__smb2_fail(err, "channel info: empty for an RDMA channel",
                             field_off);
    return smbx__smb2_desc_list_parse(ci.p, ci.len, descs, err, ci_off);
  case SMBX_SMB2_CHANNEL_RDMA_TRANSFORM:
    if (ci.len == 0)
      return smbx__smb2_fail(err, "channel info: empty for RDMA_TRANSFORM",
                             field_off);
    if (smbx__smb2_rdma_transform_parse(ci.p, ci.len, transform, err, ci_off))
      return SMBX_ERR_DECODE;
    *descs = transform->descs;
    return 0;
  default:
    /* NONE: channel info ignored (MS-SMB2 3.3.5.12); unknown values are
     * the caller's INVALID_PARAMETER, not a layout error */
    return 0;
  }
}
