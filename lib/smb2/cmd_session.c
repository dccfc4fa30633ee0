/* SPDX-License-Identifier: MIT */
/* SESSION_SETUP, TREE_CONNECT, and the 4-byte bodies (LOGOFF,
 * TREE_DISCONNECT, ECHO, CANCEL, FLUSH/LOCK responses)
 * ([MS-SMB2] 2.2.5-2.2.12, 2.2.28-2.2.30; smb2.md 4.2, 4.3, sec. 3). */
#include "smb2/smb2_int.h"

int smbx_smb2_decode_session_setup_req(const uint8_t *pdu, size_t len,
                                       smbx_smb2_session_setup_req *out,
                                       smbx_error_detail *err)
{
  smbx__rd r;
  int rc =
      smbx__smb2_begin(pdu, len, out, SMBX_SMB2_SESSION_SETUP, 25, &r, err);
  if (rc)
    return rc;
  /* 2.2.5 */
  out->flags = smbx__rd_u8(&r);
  out->security_mode = smbx__rd_u8(&r);
  out->capabilities = smbx__rd_u32(&r);
  out->channel = smbx__rd_u32(&r);
  uint16_t off = smbx__rd_u16(&r);
  uint16_t n = smbx__rd_u16(&r);
  out->previous_session_id = smbx__rd_u64(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "session setup: truncated fixed part", len);
  return smbx__smb2_area(pdu, len, 88, off, n, &out->security_buffer, err,
                         76);
}

smbx_ssize smbx_smb2_encode_session_setup_req(
    const smbx_smb2_hdr *h, const smbx_smb2_session_setup_req *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  if (in && (in->security_buffer.len > 0xFFFF ||
             (!in->security_buffer.p && in->security_buffer.len)))
    return SMBX_ERR_RANGE;
  size_t n = in ? in->security_buffer.len : 0;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 88 + (n ? n : 1), needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_SESSION_SETUP);
  smbx__wr_u16(&w, 25);
  smbx__wr_u8(&w, in->flags);
  smbx__wr_u8(&w, in->security_mode);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_u32(&w, in->channel);
  smbx__wr_u16(&w, 88);
  smbx__wr_u16(&w, (uint16_t)n);
  smbx__wr_u64(&w, in->previous_session_id);
  if (n)
    smbx__wr_bytes(&w, in->security_buffer.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 25 counts a byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_session_setup_resp(const uint8_t *pdu, size_t len,
                                        smbx_smb2_session_setup_resp *out,
                                        smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_SESSION_SETUP, 9, &r, err);
  if (rc)
    return rc;
  /* 2.2.6 */
  out->session_flags = smbx__rd_u16(&r);
  uint16_t off = smbx__rd_u16(&r);
  uint16_t n = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "session setup resp: truncated fixed part",
                           len);
  return smbx__smb2_area(pdu, len, 72, off, n, &out->security_buffer, err,
                         68);
}

smbx_ssize smbx_smb2_encode_session_setup_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_session_setup_resp *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  if (in && (in->security_buffer.len > 0xFFFF ||
             (!in->security_buffer.p && in->security_buffer.len)))
    return SMBX_ERR_RANGE;
  size_t n = in ? in->security_buffer.len : 0;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 72 + (n ? n : 1), needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_SESSION_SETUP);
  smbx__wr_u16(&w, 9);
  smbx__wr_u16(&w, in->session_flags);
  smbx__wr_u16(&w, 72);
  smbx__wr_u16(&w, (uint16_t)n);
  if (n)
    smbx__wr_bytes(&w, in->security_buffer.p, n);
  else
    smbx__wr_u8(&w, 0); /* SS 9 counts a byte */
  return smbx__smb2_enc_done(&w);
}

/* Commands with a 4-byte body in a direction (smb2.md sec. 3). */
static int simple_ok(uint16_t command, int response)
{
  switch (command) {
  case SMBX_SMB2_LOGOFF:
  case SMBX_SMB2_TREE_DISCONNECT:
  case SMBX_SMB2_ECHO:
    return 1;
  case SMBX_SMB2_CANCEL:
    return !response;
  case SMBX_SMB2_FLUSH:
  case SMBX_SMB2_LOCK:
    return response;
  default:
    return 0;
  }
}

int smbx_smb2_decode_simple(const uint8_t *pdu, size_t len, uint16_t command,
                            int response, smbx_smb2_simple *out,
                            smbx_error_detail *err)
{
  if (!simple_ok(command, response))
    return SMBX_ERR_INVAL;
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, command, 4, &r, err);
  if (rc)
    return rc;
  out->reserved = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "smb2 body: truncated", len);
  if (command == SMBX_SMB2_CANCEL) {
    /* case 39: a CANCEL body is exactly 4 bytes; a compound member may
     * carry up to 7 bytes of padding to the next 8-byte boundary */
    size_t extra = len - 68;
    if (extra && (smbx__get_le32(pdu + 20) == 0 || extra > 7))
      return smbx__smb2_fail(err, "cancel: body longer than 4 bytes", 68);
  }
  return 0;
}

smbx_ssize smbx_smb2_encode_simple(const smbx_smb2_hdr *h,
                                   const smbx_smb2_simple *in, uint8_t *buf,
                                   size_t cap, size_t *needed)
{
  if (h && !simple_ok(h->command, 0) && !simple_ok(h->command, 1))
    return SMBX_ERR_INVAL;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 68, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, h->command);
  smbx__wr_u16(&w, 4);
  smbx__wr_u16(&w, in->reserved);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_tree_connect_req(const uint8_t *pdu, size_t len,
                                      smbx_smb2_tree_connect_req *out,
                                      smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_TREE_CONNECT, 9, &r, err);
  if (rc)
    return rc;
  /* 2.2.9 */
  out->flags = smbx__rd_u16(&r);
  uint16_t off = smbx__rd_u16(&r);
  uint16_t n = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "tree connect: truncated fixed part", len);
  out->ctx_offset = 0;
  out->ctx_count = 0;
  memset(out->ext_reserved, 0, sizeof out->ext_reserved);
  out->contexts.p = NULL;
  out->contexts.len = 0;
  size_t fixed_end = 72;
  if (out->flags & SMBX_SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT) {
    /* 2.2.9.1: the extension sits at the start of Buffer (@72) */
    out->ctx_offset = smbx__rd_u32(&r);
    out->ctx_count = smbx__rd_u16(&r);
    smbx__rd_copy(&r, out->ext_reserved, 10);
    if (r.bad)
      return smbx__smb2_fail(err, "tree connect: truncated extension", len);
    fixed_end = 88;
  }
  rc = smbx__smb2_area(pdu, len, fixed_end, off, n, &out->path, err, 68);
  if (rc)
    return rc;
  if (n % 2)
    return smbx__smb2_fail(err, "tree connect: odd PathLength", 70);
  if (out->ctx_count) {
    /* 2.2.9.2: contexts 8-aligned, same layout as negotiate contexts */
    if (out->ctx_offset % 8 != 0 || out->ctx_offset < fixed_end ||
        out->ctx_offset > len)
      return smbx__smb2_fail(err, "tree connect: bad TreeConnectContextOffset",
                             72);
    if (out->ctx_count > SMBX_SMB2_NEG_CTX_MAX)
      return smbx__smb2_fail(err, "tree connect: too many contexts", 76);
    smbx_smb2_bytes all = {pdu + out->ctx_offset, len - out->ctx_offset};
    smbx_smb2_neg_ctx_iter it;
    smbx_smb2_neg_ctx_iter_init(&it, all, out->ctx_count, out->ctx_offset);
    smbx_smb2_neg_ctx c;
    while ((rc = smbx_smb2_neg_ctx_next(&it, &c, err)) == 1)
      ;
    if (rc < 0)
      return rc;
    if (smbx__smb2_overlap(off, n, out->ctx_offset, it.off))
      return smbx__smb2_fail(err, "tree connect: path overlaps the contexts",
                             68);
    out->contexts.p = all.p;
    out->contexts.len = it.off;
  }
  return 0;
}

smbx_ssize smbx_smb2_encode_tree_connect_req(
    const smbx_smb2_hdr *h, const smbx_smb2_tree_connect_req *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  if (in->path.len > 0xFFFF || in->path.len % 2 ||
      (!in->path.p && in->path.len) || in->contexts.len > 0xFFFFFF ||
      (!in->contexts.p && in->contexts.len))
    return SMBX_ERR_RANGE;
  int ext = (in->flags & SMBX_SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT) != 0;
  size_t path_off = ext ? 88 : 72;
  size_t total = path_off + in->path.len;
  size_t ctx_off = 0;
  if (ext && in->contexts.len) {
    ctx_off = smbx__smb2_pad8(total);
    total = ctx_off + in->contexts.len;
  }
  if (total == 72)
    total = 73; /* SS 9 counts a byte */
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_TREE_CONNECT);
  smbx__wr_u16(&w, 9);
  smbx__wr_u16(&w, in->flags);
  smbx__wr_u16(&w, (uint16_t)path_off);
  smbx__wr_u16(&w, (uint16_t)in->path.len);
  if (ext) {
    smbx__wr_u32(&w, (uint32_t)ctx_off);
    smbx__wr_u16(&w, ctx_off ? in->ctx_count : 0);
    smbx__wr_bytes(&w, in->ext_reserved, 10);
  }
  smbx__wr_bytes(&w, in->path.p, in->path.len);
  if (ctx_off) {
    smbx__wr_align8(&w);
    smbx__wr_bytes(&w, in->contexts.p, in->contexts.len);
  }
  if (w.off == 72)
    smbx__wr_u8(&w, 0);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_tree_connect_resp(const uint8_t *pdu, size_t len,
                                       smbx_smb2_tree_connect_resp *out,
                                       smbx_error_detail *err)
{
  smbx__rd r;
  int rc =
      smbx__smb2_begin(pdu, len, out, SMBX_SMB2_TREE_CONNECT, 16, &r, err);
  if (rc)
    return rc;
  /* 2.2.10 */
  out->share_type = smbx__rd_u8(&r);
  out->reserved = smbx__rd_u8(&r);
  out->share_flags = smbx__rd_u32(&r);
  out->capabilities = smbx__rd_u32(&r);
  out->maximal_access = smbx__rd_u32(&r);
  return r.bad ? smbx__smb2_fail(err, "tree connect resp: truncated", len)
               : 0;
}

smbx_ssize smbx_smb2_encode_tree_connect_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_tree_connect_resp *in,
    uint8_t *buf, size_t cap, size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, in, buf, cap, 80, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_TREE_CONNECT);
  smbx__wr_u16(&w, 16);
  smbx__wr_u8(&w, in->share_type);
  smbx__wr_u8(&w, in->reserved);
  smbx__wr_u32(&w, in->share_flags);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_u32(&w, in->maximal_access);
  return smbx__smb2_enc_done(&w);
}
