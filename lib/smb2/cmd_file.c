/* SPDX-License-Identifier: MIT */
/* CLOSE, FLUSH and OPLOCK_BREAK (oplock and lease forms)
 * ([MS-SMB2] 2.2.15-2.2.18, 2.2.23-2.2.25; smb2.md 4.5, 4.13;
 * leases.md 2.4-2.7). */
#include "smb2/smb2_int.h"

/* CLOSE and FLUSH requests share one layout (2.2.15, 2.2.17):
 * StructureSize 24, a 16-bit field, a 32-bit field, FileId. */
static int dec_fid_req(const uint8_t *pdu, size_t len, const void *out,
                       uint16_t cmd, uint16_t *f16, uint32_t *f32,
                       smbx_smb2_fileid *fid, const char *why,
                       smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, cmd, 24, &r, err);
  if (rc)
    return rc;
  *f16 = smbx__rd_u16(&r);
  *f32 = smbx__rd_u32(&r);
  *fid = smbx__smb2_rd_fileid(&r);
  return r.bad ? smbx__smb2_fail(err, why, len) : 0;
}

static smbx_ssize enc_fid_req(const smbx_smb2_hdr *h, const void *in,
                              uint16_t cmd, uint16_t f16, uint32_t f32,
                              smbx_smb2_fileid fid, uint8_t *buf,
                              size_t cap, size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 88, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, cmd);
  smbx__wr_u16(&w, 24);
  smbx__wr_u16(&w, f16);
  smbx__wr_u32(&w, f32);
  smbx__smb2_wr_fileid(&w, fid);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_close_req(const uint8_t *pdu, size_t len,
                               smbx_smb2_close_req *out,
                               smbx_error_detail *err)
{
  if (!out)
    return SMBX_ERR_INVAL;
  /* 2.2.15 */
  return dec_fid_req(pdu, len, out, SMBX_SMB2_CLOSE, &out->flags,
                     &out->reserved, &out->file_id, "close: truncated", err);
}

smbx_ssize smbx_smb2_encode_close_req(const smbx_smb2_hdr *h,
                                      const smbx_smb2_close_req *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  return enc_fid_req(h, in, SMBX_SMB2_CLOSE, in->flags, in->reserved,
                     in->file_id, buf, cap, needed);
}

int smbx_smb2_decode_close_resp(const uint8_t *pdu, size_t len,
                                smbx_smb2_close_resp *out,
                                smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_CLOSE, 60, &r, err);
  if (rc)
    return rc;
  /* 2.2.16 */
  out->flags = smbx__rd_u16(&r);
  out->reserved = smbx__rd_u32(&r);
  SMBX__SMB2_RD_NETOPEN(&r, out);
  return r.bad ? smbx__smb2_fail(err, "close resp: truncated", len) : 0;
}

smbx_ssize smbx_smb2_encode_close_resp(const smbx_smb2_hdr *h,
                                       const smbx_smb2_close_resp *in,
                                       uint8_t *buf, size_t cap,
                                       size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 124, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_CLOSE);
  smbx__wr_u16(&w, 60);
  smbx__wr_u16(&w, in->flags);
  smbx__wr_u32(&w, in->reserved);
  SMBX__SMB2_WR_NETOPEN(&w, in);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_flush_req(const uint8_t *pdu, size_t len,
                               smbx_smb2_flush_req *out,
                               smbx_error_detail *err)
{
  if (!out)
    return SMBX_ERR_INVAL;
  /* 2.2.17 */
  return dec_fid_req(pdu, len, out, SMBX_SMB2_FLUSH, &out->reserved1,
                     &out->reserved2, &out->file_id, "flush: truncated", err);
}

smbx_ssize smbx_smb2_encode_flush_req(const smbx_smb2_hdr *h,
                                      const smbx_smb2_flush_req *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  return enc_fid_req(h, in, SMBX_SMB2_FLUSH, in->reserved1, in->reserved2, in->file_id,
                     buf, cap, needed);
}

int smbx_smb2_oplock_break_classify(const uint8_t *pdu, size_t len,
                                    smbx_error_detail *err)
{
  if (!pdu && len)
    return SMBX_ERR_INVAL;
  int rc = smbx__smb2_hdr_check(pdu, len, err);
  if (rc)
    return rc;
  if (smbx__get_le16(pdu + 12) != SMBX_SMB2_OPLOCK_BREAK)
    return smbx__smb2_fail(err, "smb2: Command is not OPLOCK_BREAK", 12);
  if (len - 64 < 2)
    return smbx__smb2_fail(err, "oplock break: missing StructureSize", 64);
  uint16_t ss = smbx__get_le16(pdu + 64);
  int resp = (smbx__get_le32(pdu + 16) & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) != 0;
  int unsolicited = smbx__get_le64(pdu + 24) == SMBX_SMB2_MSGID_UNSOLICITED;
  /* leases.md 2.7: notifications 24/44, ack responses 24/36, acks 24/36 */
  if (ss == 24)
    return SMBX_SMB2_BREAK_OPLOCK;
  if (resp && unsolicited && ss == 44)
    return SMBX_SMB2_BREAK_LEASE_NOTIFY;
  if (!(resp && unsolicited) && ss == 36)
    return SMBX_SMB2_BREAK_LEASE_ACK;
  return smbx__smb2_fail(err, "oplock break: StructureSize does not match "
                              "any form",
                         64);
}

int smbx_smb2_decode_oplock_break(const uint8_t *pdu, size_t len,
                                  smbx_smb2_oplock_break *out,
                                  smbx_error_detail *err)
{
  smbx__rd r;
  int rc =
      smbx__smb2_begin(pdu, len, out, SMBX_SMB2_OPLOCK_BREAK, 24, &r, err);
  if (rc)
    return rc;
  /* 2.2.23.1 / 2.2.24.1 / 2.2.25.1 */
  out->oplock_level = smbx__rd_u8(&r);
  out->reserved = smbx__rd_u8(&r);
  out->reserved2 = smbx__rd_u32(&r);
  out->file_id = smbx__smb2_rd_fileid(&r);
  return r.bad ? smbx__smb2_fail(err, "oplock break: truncated", len) : 0;
}

smbx_ssize smbx_smb2_encode_oplock_break(const smbx_smb2_hdr *h,
                                         const smbx_smb2_oplock_break *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 88, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_OPLOCK_BREAK);
  smbx__smb2_put_oplock_break(&w, in);
  return smbx__smb2_enc_done(&w);
}

/* The break bodies are fixed-size: one reservation, then plain stores. */
void smbx__smb2_put_oplock_break(smbx__wr *w, const smbx_smb2_oplock_break *in)
{
  uint8_t *q = smbx__wr_take(w, 24);
  if (!q)
    return;
  smbx__put_le16(q, 24);
  q[2] = in->oplock_level;
  q[3] = in->reserved;
  smbx__put_le32(q + 4, in->reserved2);
  smbx__put_le64(q + 8, in->file_id.persistent_id);
  smbx__put_le64(q + 16, in->file_id.volatile_id);
}

int smbx_smb2_decode_lease_break_notify(const uint8_t *pdu, size_t len,
                                        smbx_smb2_lease_break_notify *out,
                                        smbx_error_detail *err)
{
  smbx__rd r;
  int rc =
      smbx__smb2_begin(pdu, len, out, SMBX_SMB2_OPLOCK_BREAK, 44, &r, err);
  if (rc)
    return rc;
  /* 2.2.23.2, leases.md 2.4 */
  out->new_epoch = smbx__rd_u16(&r);
  out->flags = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->lease_key, 16);
  out->current_state = smbx__rd_u32(&r);
  out->new_state = smbx__rd_u32(&r);
  out->break_reason = smbx__rd_u32(&r);
  out->access_mask_hint = smbx__rd_u32(&r);
  out->share_mask_hint = smbx__rd_u32(&r);
  return r.bad ? smbx__smb2_fail(err, "lease break: truncated", len) : 0;
}

smbx_ssize smbx_smb2_encode_lease_break_notify(
    const smbx_smb2_hdr *h, const smbx_smb2_lease_break_notify *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 108, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_OPLOCK_BREAK);
  uint8_t *body = smbx__wr_take(&w, SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN);
  if (body)
    smbx__smb2_put_lease_break_notify(body, in);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_lease_break_ack(const uint8_t *pdu, size_t len,
                                     smbx_smb2_lease_break_ack *out,
                                     smbx_error_detail *err)
{
  smbx__rd r;
  int rc =
      smbx__smb2_begin(pdu, len, out, SMBX_SMB2_OPLOCK_BREAK, 36, &r, err);
  if (rc)
    return rc;
  /* 2.2.24.2 / 2.2.25.2, leases.md 2.5 */
  out->reserved = smbx__rd_u16(&r);
  out->flags = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->lease_key, 16);
  out->lease_state = smbx__rd_u32(&r);
  out->lease_duration = smbx__rd_u64(&r);
  return r.bad ? smbx__smb2_fail(err, "lease break ack: truncated", len) : 0;
}

smbx_ssize smbx_smb2_encode_lease_break_ack(const smbx_smb2_hdr *h,
                                            const smbx_smb2_lease_break_ack *in,
                                            uint8_t *buf, size_t cap,
                                            size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 100, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_OPLOCK_BREAK);
  smbx__wr_u16(&w, 36);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->flags);
  smbx__wr_bytes(&w, in->lease_key, 16);
  smbx__wr_u32(&w, in->lease_state);
  smbx__wr_u64(&w, in->lease_duration);
  return smbx__smb2_enc_done(&w);
}
