/* SPDX-License-Identifier: MIT */
/* SMB Direct wire codec ([MS-SMBD] 2.2) and the negotiate receiver checks
 * ([MS-SMBD] 3.1.5.6 / 3.1.5.7). Stateless. */
#include "smbd/smbd_pdu.h"

void smbx__smbd_decode_negotiate_req(const uint8_t *p,
                                     smbx_smbd_negotiate_req *m)
{
  m->min_version = smbx__get_le16(p);
  m->max_version = smbx__get_le16(p + 2);
  m->reserved = smbx__get_le16(p + 4);
  m->credits_requested = smbx__get_le16(p + 6);
  m->preferred_send_size = smbx__get_le32(p + 8);
  m->max_receive_size = smbx__get_le32(p + 12);
  m->max_fragmented_size = smbx__get_le32(p + 16);
}

void smbx__smbd_decode_negotiate_resp(const uint8_t *p,
                                      smbx_smbd_negotiate_resp *m)
{
  m->min_version = smbx__get_le16(p);
  m->max_version = smbx__get_le16(p + 2);
  m->negotiated_version = smbx__get_le16(p + 4);
  m->reserved = smbx__get_le16(p + 6);
  m->credits_requested = smbx__get_le16(p + 8);
  m->credits_granted = smbx__get_le16(p + 10);
  m->status = smbx__get_le32(p + 12);
  m->max_read_write_size = smbx__get_le32(p + 16);
  m->preferred_send_size = smbx__get_le32(p + 20);
  m->max_receive_size = smbx__get_le32(p + 24);
  m->max_fragmented_size = smbx__get_le32(p + 28);
}

void smbx__smbd_encode_negotiate_req(const smbx_smbd_negotiate_req *m,
                                     uint8_t *p)
{
  smbx__put_le16(p, m->min_version);
  smbx__put_le16(p + 2, m->max_version);
  smbx__put_le16(p + 4, m->reserved);
  smbx__put_le16(p + 6, m->credits_requested);
  smbx__put_le32(p + 8, m->preferred_send_size);
  smbx__put_le32(p + 12, m->max_receive_size);
  smbx__put_le32(p + 16, m->max_fragmented_size);
}

void smbx__smbd_encode_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                      uint8_t *p)
{
  smbx__put_le16(p, m->min_version);
  smbx__put_le16(p + 2, m->max_version);
  smbx__put_le16(p + 4, m->negotiated_version);
  smbx__put_le16(p + 6, m->reserved);
  smbx__put_le16(p + 8, m->credits_requested);
  smbx__put_le16(p + 10, m->credits_granted);
  smbx__put_le32(p + 12, m->status);
  smbx__put_le32(p + 16, m->max_read_write_size);
  smbx__put_le32(p + 20, m->preferred_send_size);
  smbx__put_le32(p + 24, m->max_receive_size);
  smbx__put_le32(p + 28, m->max_fragmented_size);
}

int smbx__smbd_check_negotiate_req(const smbx_smbd_negotiate_req *m,
                                   smbx_error_detail *det)
{
  /* 3.1.5.6: [MinVersion, MaxVersion] must contain 0x0100, otherwise a
   * failure response with STATUS_NOT_SUPPORTED; otherwise the version
   * fields are ignored (Min 0 / Max 0xFFFF succeeds). */
  if (m->min_version > SMBX_SMBD_VERSION ||
      m->max_version < SMBX_SMBD_VERSION) {
    smbx__smbd_set_detail(det, "smbd negotiate: no common version", 0);
    return SMBX__SMBD_NEG_NOT_SUPPORTED;
  }
  /* 3.1.5.6: CreditsRequested 0 -> terminate */
  if (m->credits_requested == 0) {
    smbx__smbd_set_detail(det, "smbd negotiate: CreditsRequested 0", 6);
    return SMBX__SMBD_NEG_TERMINATE;
  }
  /* 3.1.5.6: MaxReceiveSize < 128 -> terminate (old ksmbd used <=,
   * rejecting the exact minimum; we use <) */
  if (m->max_receive_size < SMBX_SMBD_MIN_RECEIVE_SIZE) {
    smbx__smbd_set_detail(det, "smbd negotiate: MaxReceiveSize < 128", 12);
    return SMBX__SMBD_NEG_TERMINATE;
  }
  /* 3.1.5.6: MaxFragmentedSize < 131072 -> terminate (same ksmbd note) */
  if (m->max_fragmented_size < SMBX_SMBD_MIN_FRAGMENTED_SIZE) {
    smbx__smbd_set_detail(det, "smbd negotiate: MaxFragmentedSize < 131072",
                          16);
    return SMBX__SMBD_NEG_TERMINATE;
  }
  return SMBX__SMBD_NEG_OK;
}

int smbx__smbd_check_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                    uint32_t own_max_recv, uint32_t min_rw,
                                    smbx_error_detail *det)
{
  const char *why = NULL;
  size_t off = 0;
  /* 3.1.5.7, in the order the spec lists them; Status first so a refusal
   * (e.g. STATUS_NOT_SUPPORTED with NegotiatedVersion 0) is surfaced. */
  if (m->status != 0)
    why = "smbd negotiate: peer refused (Status)", off = 12;
  else if (m->negotiated_version != SMBX_SMBD_VERSION)
    why = "smbd negotiate: NegotiatedVersion not 0x0100", off = 4;
  else if (m->max_receive_size < SMBX_SMBD_MIN_RECEIVE_SIZE)
    why = "smbd negotiate: MaxReceiveSize < 128", off = 24;
  else if (m->max_fragmented_size < SMBX_SMBD_MIN_FRAGMENTED_SIZE)
    why = "smbd negotiate: MaxFragmentedSize < 131072", off = 28;
  else if (m->credits_granted == 0)
    why = "smbd negotiate: CreditsGranted 0", off = 10;
  else if (m->credits_requested == 0)
    why = "smbd negotiate: CreditsRequested 0", off = 8;
  else if (m->preferred_send_size > own_max_recv)
    why = "smbd negotiate: PreferredSendSize > our MaxReceiveSize", off = 20;
  /* Linux also fails below PAGE_SIZE: nothing useful fits */
  else if (m->max_read_write_size < min_rw)
    why = "smbd negotiate: MaxReadWriteSize too small", off = 16;
  if (!why)
    return 0;
  smbx__smbd_set_detail(det, why, off);
  return SMBX_ERR_NEGOTIATE;
}

/* A fixed-size negotiate message: shorter (or absent) is a decode
 * error whose detail names the length that was seen. */
static int need_fixed(const uint8_t *p, size_t len, size_t need,
                      const char *why, smbx_error_detail *detail)
{
  if (p && len >= need)
    return 0;
  smbx__smbd_set_detail(detail, why, len);
  return SMBX_ERR_DECODE;
}

int smbx_smbd_decode_negotiate_req(const uint8_t *p, size_t len,
                                   smbx_smbd_negotiate_req *out,
                                   smbx_error_detail *detail)
{
  if (!out)
    return SMBX_ERR_INVAL;
  /* 2.2.1 / 3.1.5.6: fewer than 20 bytes -> terminate; more is fine */
  int rc = need_fixed(p, len, SMBX_SMBD_NEGOTIATE_REQ_SIZE,
                      "smbd negotiate request: shorter than 20 bytes", detail);
  if (!rc)
    smbx__smbd_decode_negotiate_req(p, out);
  return rc;
}

int smbx_smbd_decode_negotiate_resp(const uint8_t *p, size_t len,
                                    smbx_smbd_negotiate_resp *out,
                                    smbx_error_detail *detail)
{
  if (!out)
    return SMBX_ERR_INVAL;
  /* 2.2.2 / 3.1.5.7: fewer than 32 bytes -> terminate */
  int rc = need_fixed(p, len, SMBX_SMBD_NEGOTIATE_RESP_SIZE,
                      "smbd negotiate response: shorter than 32 bytes", detail);
  if (!rc)
    smbx__smbd_decode_negotiate_resp(p, out);
  return rc;
}

int smbx_smbd_decode_data(const uint8_t *p, size_t len,
                          uint32_t max_fragmented_size, uint32_t flags,
                          smbx_smbd_data *out, smbx_error_detail *detail)
{
  if (!out)
    return SMBX_ERR_INVAL;
  return smbx__smbd_decode_data(p, len, max_fragmented_size,
                                (flags & SMBX_SMBD_DECODE_STRICT) != 0, out,
                                detail);
}

int smbx_smbd_encode_negotiate_req(const smbx_smbd_negotiate_req *m,
                                   uint8_t *out, size_t cap)
{
  if (!m || !out)
    return SMBX_ERR_INVAL;
  if (cap < SMBX_SMBD_NEGOTIATE_REQ_SIZE)
    return SMBX_ERR_NOBUF;
  smbx__smbd_encode_negotiate_req(m, out);
  return (int)SMBX_SMBD_NEGOTIATE_REQ_SIZE;
}

int smbx_smbd_encode_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                    uint8_t *out, size_t cap)
{
  if (!m || !out)
    return SMBX_ERR_INVAL;
  if (cap < SMBX_SMBD_NEGOTIATE_RESP_SIZE)
    return SMBX_ERR_NOBUF;
  smbx__smbd_encode_negotiate_resp(m, out);
  return (int)SMBX_SMBD_NEGOTIATE_RESP_SIZE;
}

int smbx_smbd_encode_data(const smbx_smbd_data *m, uint8_t *out, size_t cap)
{
  if (!m || !out || (m->data_length && !m->payload))
    return SMBX_ERR_INVAL;
  if (m->data_length == 0) {
    if (cap < SMBX_SMBD_DATA_HDR_EMPTY)
      return SMBX_ERR_NOBUF;
    smbx__put_le16(out, m->credits_requested);
    smbx__put_le16(out + 2, m->credits_granted);
    smbx__put_le16(out + 4, m->flags);
    smbx__put_le16(out + 6, m->reserved);
    smbx__put_le32(out + 8, m->remaining_data_length);
    smbx__put_le32(out + 12, m->data_offset);
    smbx__put_le32(out + 16, 0);
    return (int)SMBX_SMBD_DATA_HDR_EMPTY;
  }
  /* 2.2.3: the payload starts at an 8-aligned DataOffset past the header */
  if (m->data_offset < SMBX_SMBD_DATA_HDR_SIZE || m->data_offset % 8 != 0)
    return SMBX_ERR_INVAL;
  uint64_t total = (uint64_t)m->data_offset + m->data_length;
  if (total > INT32_MAX)
    return SMBX_ERR_INVAL;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__put_le16(out, m->credits_requested);
  smbx__put_le16(out + 2, m->credits_granted);
  smbx__put_le16(out + 4, m->flags);
  smbx__put_le16(out + 6, m->reserved);
  smbx__put_le32(out + 8, m->remaining_data_length);
  smbx__put_le32(out + 12, m->data_offset);
  smbx__put_le32(out + 16, m->data_length);
  smbx__put_le32(out + 20, m->padding);
  memset(out + 24, 0, m->data_offset - 24u);
  memmove(out + m->data_offset, m->payload, m->data_length);
  return (int)total;
}

int smbx_smbd_decode_buffer_descs(const uint8_t *p, size_t len,
                                  smbx_smbd_buffer_desc *out, size_t cap,
                                  size_t *n, smbx_error_detail *detail)
{
  if (!n)
    return SMBX_ERR_INVAL;
  *n = 0;
  /* 2.2.3.1 entries are 16 bytes; the SMB2 channel-info length is a u16,
   * which caps a list at 4095 entries (MS-SMB2 2.2.19/2.2.21) */
  if (!p || len == 0 || len % SMBX_SMBD_BUFFER_DESC_SIZE != 0 ||
      len / SMBX_SMBD_BUFFER_DESC_SIZE > 4095) {
    smbx__smbd_set_detail(detail, "smbd buffer descriptors: bad list length",
                          0);
    return SMBX_ERR_DECODE;
  }
  size_t cnt = len / SMBX_SMBD_BUFFER_DESC_SIZE;
  for (size_t i = 0; i < cnt; i++) {
    /* a zero-length descriptor names no memory (ksmbd validates this) */
    if (smbx__get_le32(p + 16 * i + 12) == 0) {
      smbx__smbd_set_detail(detail, "smbd buffer descriptor: Length 0",
                            16 * i + 12);
      return SMBX_ERR_DECODE;
    }
  }
  *n = cnt;
  if (!out || cap < cnt)
    return out || cap ? SMBX_ERR_NOBUF : 0;
  for (size_t i = 0; i < cnt; i++) {
    const uint8_t *q = p + 16 * i;
    out[i].offset = smbx__get_le64(q);
    out[i].token = smbx__get_le32(q + 8);
    out[i].length = smbx__get_le32(q + 12);
  }
  return 0;
}

int smbx_smbd_encode_buffer_descs(const smbx_smbd_buffer_desc *d, size_t n,
                                  uint8_t *out, size_t cap)
{
  if (!d || !out || n == 0 || n > 4095)
    return SMBX_ERR_INVAL;
  if (cap / SMBX_SMBD_BUFFER_DESC_SIZE < n)
    return SMBX_ERR_NOBUF;
  for (size_t i = 0; i < n; i++) {
    uint8_t *q = out + 16 * i;
    smbx__put_le64(q, d[i].offset);
    smbx__put_le32(q + 8, d[i].token);
    smbx__put_le32(q + 12, d[i].length);
  }
  return (int)(n * SMBX_SMBD_BUFFER_DESC_SIZE);
}
