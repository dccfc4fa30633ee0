/* SPDX-License-Identifier: MIT */
/* SMB_DIRECT_BUFFER_DESCRIPTOR_V1 lists ([MS-SMBD] 2.2.3.1, smbd.md 1.4)
 * and the SMB2_RDMA_TRANSFORM channel info (MS-SMB2 2.2.43/2.2.43.1,
 * smbd.md 4). */
#include "smb2/io_int.h"

int smbx__smb2_desc_list_parse(const uint8_t *p, size_t len,
                               smbx_smb2_desc_list *out,
                               smbx_error_detail *err, size_t base)
{
  out->data = NULL;
  out->count = 0;
  /* smbd.md 4: channel info length > 0 and a multiple of 16 */
  if (len == 0)
    return smbx__io_fail(err, "channel info: no buffer descriptor", base);
  if (len % SMBX_SMB2_BUFFER_DESC_SIZE != 0)
    return smbx__io_fail(err, "channel info: length not a multiple of 16",
                         base);
  /* smbd.md 1.4: a u16 length caps the list at 4095 entries */
  if (len / SMBX_SMB2_BUFFER_DESC_SIZE > SMBX_SMB2_BUFFER_DESC_MAX)
    return smbx__io_fail(err, "channel info: more than 4095 descriptors",
                         base);
  out->data = p;
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
  if (i >= l->count || !l->data)
    return SMBX_ERR_RANGE;
  const uint8_t *q = l->data + (size_t)i * SMBX_SMB2_BUFFER_DESC_SIZE;
  out->offset = smbx__get_le64(q);
  out->token = smbx__get_le32(q + 8);
  out->length = smbx__get_le32(q + 12);
  return 0;
}

int smbx_smb2_desc_list_check(const smbx_smb2_desc_list *l, uint64_t need,
                              uint64_t *total)
{
  if (!l)
    return SMBX_ERR_INVAL;
  uint64_t sum = 0; /* 4095 x u32 cannot overflow 64 bits */
  bool zero = false;
  for (uint32_t i = 0; i < l->count; i++) {
    uint32_t n = smbx__get_le32(l->data + (size_t)i * 16 + 12);
    zero |= n == 0;
    sum += n;
  }
  if (total)
    *total = sum;
  /* smbd.md 4: every descriptor Length > 0, sum >= the requested length */
  return zero || sum < need ? SMBX_ERR_RANGE : 0;
}

int smbx_smb2_desc_list_encode(const smbx_smb2_buffer_desc *d, uint32_t n,
                               uint8_t *buf, size_t cap, size_t *out_len)
{
  if (!d || !out_len || n == 0 || n > SMBX_SMB2_BUFFER_DESC_MAX)
    return SMBX_ERR_INVAL;
  smbx__wr w = smbx__wr_make(buf, cap);
  if (cap < (size_t)n * SMBX_SMB2_BUFFER_DESC_SIZE) {
    *out_len = (size_t)n * SMBX_SMB2_BUFFER_DESC_SIZE;
    return SMBX_ERR_NOBUF;
  }
  for (uint32_t i = 0; i < n; i++) {
    smbx__wr_u64(&w, d[i].offset);
    smbx__wr_u32(&w, d[i].token);
    smbx__wr_u32(&w, d[i].length);
  }
  return smbx__io_done(&w, out_len);
}

/* MS-SMB2 2.2.43: 16-byte fixed part, TransformCount crypto transforms
 * (2.2.43.1: 8 bytes + Signature + Nonce, padded so what follows is
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
    return smbx__io_fail(err, "rdma transform: shorter than 16 bytes", base);
  /* 2.2.43: TransformCount MUST be greater than 0 */
  if (out->transform_count == 0)
    return smbx__io_fail(err, "rdma transform: TransformCount 0", base + 8);
  size_t pos = 16, end = 16;
  for (uint32_t i = 0; i < out->transform_count; i++) {
    if (len - pos < 8)
      return smbx__io_fail(err, "rdma transform: crypto transform past end",
                           base + pos);
    uint16_t sig = smbx__get_le16(p + pos + 2);
    uint16_t nonce = smbx__get_le16(p + pos + 4);
    /* 2.2.43.1: Signature MUST be <= 16 bytes */
    if (sig > 16)
      return smbx__io_fail(err, "rdma transform: SignatureLength > 16",
                           base + pos + 2);
    size_t n = 8 + (size_t)sig + nonce; /* <= 8 + 16 + 65535 */
    if (len - pos < n)
      return smbx__io_fail(err, "rdma transform: signature/nonce past end",
                           base + pos);
    end = pos + n;
    /* the next transform (if any) starts 8-aligned after the padding */
    pos = end + smbx__io_pad8(end);
    if (pos > len && i + 1 < out->transform_count)
      return smbx__io_fail(err, "rdma transform: crypto transform past end",
                           base + end);
  }
  out->transforms = p + 16;
  out->transforms_length = end - 16;
  switch (out->channel) {
  case SMBX_SMB2_CHANNEL_NONE:
    /* 2.2.43: offset/length MUST be ignored by the receiver */
    return 0;
  case SMBX_SMB2_CHANNEL_RDMA_V1:
  case SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE:
    break;
  default:
    return smbx__io_fail(err, "rdma transform: bad inner Channel", base + 4);
  }
  if ((uint64_t)out->desc_offset + out->desc_length > len)
    return smbx__io_fail(err, "rdma transform: descriptors past end",
                         base + 0);
  /* descriptors may not overlap the fixed part or the crypto transforms */
  if (out->desc_offset < end)
    return smbx__io_fail(err, "rdma transform: descriptors overlap transforms",
                         base + 0);
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
                                  size_t *pos,
                                  smbx_smb2_rdma_crypto_transform *out)
{
  if (!t || !pos || !out)
    return SMBX_ERR_INVAL;
  size_t len = t->transforms_length;
  if (*pos >= len)
    return 0;
  /* re-checked so a hand-made struct cannot make us read out of bounds */
  if (!t->transforms || len - *pos < 8)
    return SMBX_ERR_DECODE;
  const uint8_t *q = t->transforms + *pos;
  out->transform_type = smbx__get_le16(q);
  out->signature_length = smbx__get_le16(q + 2);
  out->nonce_length = smbx__get_le16(q + 4);
  size_t n = 8 + (size_t)out->signature_length + out->nonce_length;
  if (len - *pos < n)
    return SMBX_ERR_DECODE;
  out->signature = q + 8;
  out->nonce = q + 8 + out->signature_length;
  /* transforms start at offset 16 of the struct, so alignment is the same
   * relative to `transforms` */
  size_t next = *pos + n;
  *pos = next + smbx__io_pad8(next);
  return 1;
}

int smbx_smb2_rdma_transform_encode(uint32_t channel,
                                    const smbx_smb2_rdma_crypto_transform *xf,
                                    uint16_t nxf,
                                    const smbx_smb2_buffer_desc *d,
                                    uint32_t nd, uint8_t *buf, size_t cap,
                                    size_t *out_len)
{
  if (!out_len || !xf || nxf == 0 || (nd && !d))
    return SMBX_ERR_INVAL;
  if (channel == SMBX_SMB2_CHANNEL_NONE ? nd != 0
      : (channel != SMBX_SMB2_CHANNEL_RDMA_V1 &&
         channel != SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE) ||
            nd == 0 || nd > SMBX_SMB2_BUFFER_DESC_MAX)
    return SMBX_ERR_INVAL;
  size_t total = 16;
  for (uint16_t i = 0; i < nxf; i++) {
    if (xf[i].signature_length > 16 ||
        (xf[i].signature_length && !xf[i].signature) ||
        (xf[i].nonce_length && !xf[i].nonce))
      return SMBX_ERR_INVAL;
    total += 8 + (size_t)xf[i].signature_length + xf[i].nonce_length;
    total += smbx__io_pad8(total);
  }
  size_t desc_off = total;
  total += (size_t)nd * SMBX_SMB2_BUFFER_DESC_SIZE;
  if (total > UINT16_MAX) /* must fit a u16 channel-info length */
    return SMBX_ERR_INVAL;
  if (cap < total || !buf) {
    *out_len = total;
    return SMBX_ERR_NOBUF;
  }
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u16(&w, nd ? (uint16_t)desc_off : 0);
  smbx__wr_u16(&w, (uint16_t)(nd * SMBX_SMB2_BUFFER_DESC_SIZE));
  smbx__wr_u32(&w, channel);
  smbx__wr_u16(&w, nxf);
  smbx__wr_zero(&w, 6);
  for (uint16_t i = 0; i < nxf; i++) {
    smbx__wr_u16(&w, xf[i].transform_type);
    smbx__wr_u16(&w, xf[i].signature_length);
    smbx__wr_u16(&w, xf[i].nonce_length);
    smbx__wr_u16(&w, 0);
    smbx__wr_bytes(&w, xf[i].signature, xf[i].signature_length);
    smbx__wr_bytes(&w, xf[i].nonce, xf[i].nonce_length);
    smbx__wr_align8(&w);
  }
  for (uint32_t i = 0; i < nd; i++) {
    smbx__wr_u64(&w, d[i].offset);
    smbx__wr_u32(&w, d[i].token);
    smbx__wr_u32(&w, d[i].length);
  }
  return smbx__io_done(&w, out_len);
}
