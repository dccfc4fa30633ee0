/* SPDX-License-Identifier: MIT */
/* NEGOTIATE request/response and the 3.1.1 negotiate contexts
 * ([MS-SMB2] 2.2.3, 2.2.3.1.x, 2.2.4; smb2.md 4.1). */
#include "smb2/smb2_int.h"

int smbx_smb2_neg_ctx_iter_init(smbx_smb2_neg_ctx_iter *it,
                                smbx_smb2_bytes list, uint16_t count,
                                size_t base)
{
  if (!it || (!list.p && list.len))
    return SMBX_ERR_INVAL;
  it->p = list.p;
  it->len = list.len;
  it->off = 0;
  it->base = base;
  it->left = count;
  return 0;
}

int smbx_smb2_neg_ctx_next(smbx_smb2_neg_ctx_iter *it, smbx_smb2_neg_ctx *out,
                           smbx_error_detail *err)
{
  if (!it || !out)
    return SMBX_ERR_INVAL;
  if (it->left == 0)
    return 0;
  /* 2.2.3.1: each context starts 8-aligned after the previous data */
  size_t start = it->off;
  if (start % 8 != 0) {
    if (start > SIZE_MAX - 7 || smbx__smb2_pad8(start) > it->len) {
      it->left = 0;
      return smbx__smb2_fail(err, "negotiate ctx: count exceeds the contexts",
                             it->base + it->len);
    }
    start = smbx__smb2_pad8(start);
  }
  smbx__rd r = smbx__rd_make(it->p, it->len);
  smbx__rd_seek(&r, start);
  out->type = smbx__rd_u16(&r);
  uint16_t dl = smbx__rd_u16(&r);
  out->reserved = smbx__rd_u32(&r);
  if (r.bad) {
    it->left = 0;
    return smbx__smb2_fail(err, "negotiate ctx: header past the end",
                           it->base + start);
  }
  if (dl > smbx__rd_left(&r)) {
    it->left = 0;
    return smbx__smb2_fail(err, "negotiate ctx: DataLength past the end",
                           it->base + start + 2);
  }
  out->data.p = it->p + r.off;
  out->data.len = dl;
  it->off = r.off + dl;
  it->left--;
  return 1;
}

/* Reads a u16 count then `count` u16 ids into out->ids. */
static int take_ids(smbx__rd *r, uint16_t count, smbx_smb2_neg_ctx_info *out)
{
  out->ids.len = (size_t)count * 2;
  out->ids.p = smbx__rd_take(r, out->ids.len);
  return r->bad ? -1 : 0;
}

int smbx_smb2_neg_ctx_parse(const smbx_smb2_neg_ctx *c,
                            smbx_smb2_neg_ctx_info *out,
                            smbx_error_detail *err)
{
  if (!c || !out || (!c->data.p && c->data.len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  out->type = c->type;
  smbx__rd r = smbx__rd_make(c->data.p, c->data.len);
  switch (c->type) {
  case SMBX_SMB2_NEG_CTX_PREAUTH: { /* 2.2.3.1.1 */
    out->count = smbx__rd_u16(&r);
    uint16_t salt = smbx__rd_u16(&r);
    if (r.bad)
      return smbx__smb2_fail(err, "preauth ctx: shorter than 4 bytes", 0);
    if (out->count == 0)
      return smbx__smb2_fail(err, "preauth ctx: HashAlgorithmCount 0", 0);
    if (take_ids(&r, out->count, out))
      return smbx__smb2_fail(err, "preauth ctx: hash ids past DataLength", 0);
    out->salt.p = smbx__rd_take(&r, salt);
    out->salt.len = salt;
    if (r.bad)
      return smbx__smb2_fail(err, "preauth ctx: SaltLength past DataLength",
                             2);
    return 0;
  }
  case SMBX_SMB2_NEG_CTX_ENCRYPTION: /* 2.2.3.1.2 */
  case SMBX_SMB2_NEG_CTX_SIGNING:    /* 2.2.3.1.7 */
    out->count = smbx__rd_u16(&r);
    if (r.bad)
      return smbx__smb2_fail(err, "negotiate ctx: missing count", 0);
    if (out->count == 0)
      return smbx__smb2_fail(err, "negotiate ctx: CipherCount / "
                                  "SigningAlgorithmCount 0", 0);
    if (take_ids(&r, out->count, out))
      return smbx__smb2_fail(err, "negotiate ctx: ids past DataLength", 0);
    return 0;
  case SMBX_SMB2_NEG_CTX_COMPRESSION: /* 2.2.3.1.3 */
    out->count = smbx__rd_u16(&r);
    out->reserved16 = smbx__rd_u16(&r);
    out->flags = smbx__rd_u32(&r);
    if (r.bad)
      return smbx__smb2_fail(err, "compression ctx: shorter than 8 bytes", 0);
    if (take_ids(&r, out->count, out))
      return smbx__smb2_fail(err, "compression ctx: ids past DataLength", 0);
    return 0;
  case SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM: /* 2.2.3.1.6 */
    out->count = smbx__rd_u16(&r);
    out->reserved16 = smbx__rd_u16(&r);
    out->reserved32 = smbx__rd_u32(&r);
    if (r.bad)
      return smbx__smb2_fail(err, "rdma transform ctx: shorter than 8 bytes",
                             0);
    if (out->count == 0)
      return smbx__smb2_fail(err, "rdma transform ctx: TransformCount 0", 0);
    if (take_ids(&r, out->count, out))
      return smbx__smb2_fail(err, "rdma transform ctx: ids past DataLength",
                             0);
    return 0;
  case SMBX_SMB2_NEG_CTX_TRANSPORT: /* 2.2.3.1.5 */
    out->flags = smbx__rd_u32(&r);
    if (r.bad)
      return smbx__smb2_fail(err, "transport ctx: shorter than 4 bytes", 0);
    return 0;
  case SMBX_SMB2_NEG_CTX_NETNAME: /* 2.2.3.1.4: UTF-16LE, no terminator */
    if (c->data.len % 2)
      return smbx__smb2_fail(err, "netname ctx: odd UTF-16 length", 0);
    out->value = c->data;
    return 0;
  case SMBX_SMB2_NEG_CTX_POSIX: /* Samba/Linux: a 16-byte GUID */
    if (c->data.len < 16)
      return smbx__smb2_fail(err, "posix ctx: shorter than 16 bytes", 0);
    out->value = c->data;
    return 0;
  default: /* 2.2.3.1: unknown types are skipped; kept opaque */
    out->value = c->data;
    return 0;
  }
}

smbx_ssize smbx_smb2_neg_ctx_build(const smbx_smb2_neg_ctx_info *in,
                                   uint8_t *buf, size_t cap, size_t *needed)
{
  if (!in || (!buf && cap))
    return SMBX_ERR_INVAL;
  size_t ids = (size_t)in->count * 2;
  size_t total;
  switch (in->type) {
  case SMBX_SMB2_NEG_CTX_PREAUTH:
    if (in->salt.len > 0xFFFF)
      return SMBX_ERR_RANGE;
    total = 4 + ids + in->salt.len;
    break;
  case SMBX_SMB2_NEG_CTX_ENCRYPTION:
  case SMBX_SMB2_NEG_CTX_SIGNING:
    total = 2 + ids;
    break;
  case SMBX_SMB2_NEG_CTX_COMPRESSION:
  case SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM:
    total = 8 + ids;
    break;
  case SMBX_SMB2_NEG_CTX_TRANSPORT:
    total = 4;
    break;
  default:
    total = in->value.len;
    break;
  }
  if (in->type != SMBX_SMB2_NEG_CTX_TRANSPORT && in->type >= 1 &&
      in->type <= SMBX_SMB2_NEG_CTX_SIGNING &&
      in->type != SMBX_SMB2_NEG_CTX_NETNAME && in->ids.len < ids)
    return SMBX_ERR_RANGE;
  if ((in->ids.len && !in->ids.p) || (in->salt.len && !in->salt.p) ||
      (in->value.len && !in->value.p))
    return SMBX_ERR_INVAL;
  if (total > 0xFFFF)
    return SMBX_ERR_RANGE;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  switch (in->type) {
  case SMBX_SMB2_NEG_CTX_PREAUTH:
    smbx__wr_u16(&w, in->count);
    smbx__wr_u16(&w, (uint16_t)in->salt.len);
    smbx__wr_bytes(&w, in->ids.p, ids);
    smbx__wr_bytes(&w, in->salt.p, in->salt.len);
    break;
  case SMBX_SMB2_NEG_CTX_ENCRYPTION:
  case SMBX_SMB2_NEG_CTX_SIGNING:
    smbx__wr_u16(&w, in->count);
    smbx__wr_bytes(&w, in->ids.p, ids);
    break;
  case SMBX_SMB2_NEG_CTX_COMPRESSION:
    smbx__wr_u16(&w, in->count);
    smbx__wr_u16(&w, in->reserved16);
    smbx__wr_u32(&w, in->flags);
    smbx__wr_bytes(&w, in->ids.p, ids);
    break;
  case SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM:
    smbx__wr_u16(&w, in->count);
    smbx__wr_u16(&w, in->reserved16);
    smbx__wr_u32(&w, in->reserved32);
    smbx__wr_bytes(&w, in->ids.p, ids);
    break;
  case SMBX_SMB2_NEG_CTX_TRANSPORT:
    smbx__wr_u32(&w, in->flags);
    break;
  default:
    smbx__wr_bytes(&w, in->value.p, in->value.len);
    break;
  }
  return (smbx_ssize)w.off;
}

smbx_ssize smbx_smb2_neg_ctx_list_encode(const smbx_smb2_neg_ctx *c, size_t n,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  if ((!c && n) || (!buf && cap))
    return SMBX_ERR_INVAL;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (c[i].data.len > 0xFFFF || (!c[i].data.p && c[i].data.len))
      return SMBX_ERR_RANGE;
    if (i)
      total = smbx__smb2_pad8(total);
    if (total > SIZE_MAX / 2)
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
    smbx__wr_u16(&w, c[i].type);
    smbx__wr_u16(&w, (uint16_t)c[i].data.len);
    smbx__wr_u32(&w, c[i].reserved);
    smbx__wr_bytes(&w, c[i].data.p, c[i].data.len);
  }
  return (smbx_ssize)w.off;
}

/* Validates a context list at header-relative `off` (count entries) and
 * returns its extent (first context .. end of the last) in *list.
 * fixed_end: contexts may not start before it (dialects / blob). */
static int check_ctx_list(const uint8_t *pdu, size_t len, size_t fixed_end,
                          uint32_t off, uint16_t count, int need_preauth,
                          smbx_smb2_bytes *list, smbx_error_detail *err,
                          size_t field_off)
{
  list->p = NULL;
  list->len = 0;
  /* 3.3.5.4: a 3.1.1 request must carry PREAUTH -> INVALID_PARAMETER */
  if (count == 0 && need_preauth)
    return smbx__smb2_fail(err, "negotiate: 3.1.1 without a PREAUTH context",
                           field_off + 4);
  if (count == 0)
    return 0;
  /* 2.2.3: NegotiateContextOffset 8-aligned, after the fixed data */
  if (off % 8 != 0)
    return smbx__smb2_fail(err, "negotiate: context offset not 8-aligned",
                           field_off);
  if (off < fixed_end)
    return smbx__smb2_fail(err, "negotiate: context offset overlaps the "
                                "fixed part or the preceding data",
                           field_off);
  if (off > len || len - off < 8)
    return smbx__smb2_fail(err, "negotiate: context offset past the end",
                           field_off);
  if (count > SMBX_SMB2_NEG_CTX_MAX)
    return smbx__smb2_fail(err, "negotiate: too many contexts",
                           field_off + 4);
  smbx_smb2_bytes all = {pdu + off, len - off};
  smbx_smb2_neg_ctx_iter it;
  smbx_smb2_neg_ctx_iter_init(&it, all, count, off);
  smbx_smb2_neg_ctx c;
  unsigned preauth = 0;
  int rc;
  while ((rc = smbx_smb2_neg_ctx_next(&it, &c, err)) == 1) {
    smbx_smb2_neg_ctx_info info;
    smbx_error_detail e = {NULL, 0};
    if (smbx_smb2_neg_ctx_parse(&c, &info, &e))
      return smbx__smb2_fail(err, e.reason,
                             (size_t)(c.data.p - pdu) + e.offset);
    if (c.type == SMBX_SMB2_NEG_CTX_PREAUTH && ++preauth > 1)
      /* 3.3.5.4: PREAUTH exactly once -> INVALID_PARAMETER */
      return smbx__smb2_fail(err, "negotiate: more than one PREAUTH context",
                             (size_t)(c.data.p - pdu) - 8);
  }
  if (rc < 0)
    return rc;
  if (need_preauth && preauth == 0)
    return smbx__smb2_fail(err, "negotiate: 3.1.1 without a PREAUTH context",
                           field_off);
  list->p = pdu + off;
  list->len = it.off;
  return 0;
}

static int has_311(smbx_smb2_bytes dialects)
{
  for (size_t i = 0; i < dialects.len / 2; i++)
    if (smbx_smb2_bytes_u16(dialects, i) == SMBX_SMB2_DIALECT_311)
      return 1;
  return 0;
}

int smbx_smb2_decode_negotiate_req(const uint8_t *pdu, size_t len,
                                   smbx_smb2_negotiate_req *out,
                                   smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_NEGOTIATE, 36, &r, err);
  if (rc)
    return rc;
  /* 3.3.5.4 (smb2.md 2.2): a SIGNED NEGOTIATE -> INVALID_PARAMETER */
  if (smbx__get_le32(pdu + 16) & SMBX_SMB2_FLAGS_SIGNED)
    return smbx__smb2_fail(err, "negotiate: SIGNED flag set", 16);
  out->dialect_count = smbx__rd_u16(&r);
  out->security_mode = smbx__rd_u16(&r);
  out->reserved = smbx__rd_u16(&r);
  out->capabilities = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->client_guid, 16);
  out->client_start_time = smbx__rd_u64(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "negotiate: truncated fixed part", len);
  /* 3.3.5.4: DialectCount 0 -> INVALID_PARAMETER */
  if (out->dialect_count == 0)
    return smbx__smb2_fail(err, "negotiate: DialectCount 0", 66);
  size_t dl = (size_t)out->dialect_count * 2;
  out->dialects.p = smbx__rd_take(&r, dl);
  out->dialects.len = dl;
  if (r.bad)
    return smbx__smb2_fail(err, "negotiate: dialects past the end", 66);
  out->neg_ctx_offset = 0;
  out->neg_ctx_count = 0;
  out->reserved2 = 0;
  out->neg_ctx.p = NULL;
  out->neg_ctx.len = 0;
  if (!has_311(out->dialects))
    return 0;
  out->neg_ctx_offset = smbx__get_le32(pdu + 92);
  out->neg_ctx_count = smbx__get_le16(pdu + 96);
  out->reserved2 = smbx__get_le16(pdu + 98);
  out->client_start_time = 0;
  return check_ctx_list(pdu, len, 100 + dl, out->neg_ctx_offset,
                        out->neg_ctx_count, 1, &out->neg_ctx, err, 92);
}

smbx_ssize smbx_smb2_encode_negotiate_req(const smbx_smb2_hdr *h,
                                          const smbx_smb2_negotiate_req *in,
                                          uint8_t *buf, size_t cap,
                                          size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  if (in->dialects.len % 2 || in->dialects.len / 2 > 0xFFFF ||
      in->neg_ctx.len > 0xFFFFFF || (!in->dialects.p && in->dialects.len) ||
      (!in->neg_ctx.p && in->neg_ctx.len))
    return SMBX_ERR_RANGE;
  int v311 = has_311(in->dialects);
  size_t end = 100 + in->dialects.len;
  size_t ctx_off = 0;
  size_t total = end;
  if (v311 && in->neg_ctx.len) {
    ctx_off = smbx__smb2_pad8(end);
    total = ctx_off + in->neg_ctx.len;
  }
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_NEGOTIATE);
  smbx__wr_u16(&w, 36);
  smbx__wr_u16(&w, (uint16_t)(in->dialects.len / 2));
  smbx__wr_u16(&w, in->security_mode);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_bytes(&w, in->client_guid, 16);
  if (v311) {
    smbx__wr_u32(&w, (uint32_t)ctx_off);
    smbx__wr_u16(&w, ctx_off ? in->neg_ctx_count : 0);
    smbx__wr_u16(&w, in->reserved2);
  } else {
    smbx__wr_u64(&w, in->client_start_time);
  }
  smbx__wr_bytes(&w, in->dialects.p, in->dialects.len);
  if (ctx_off) {
    smbx__wr_align8(&w);
    smbx__wr_bytes(&w, in->neg_ctx.p, in->neg_ctx.len);
  }
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_negotiate_resp(const uint8_t *pdu, size_t len,
                                    smbx_smb2_negotiate_resp *out,
                                    smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_NEGOTIATE, 65, &r, err);
  if (rc)
    return rc;
  out->security_mode = smbx__rd_u16(&r);
  out->dialect_revision = smbx__rd_u16(&r);
  out->neg_ctx_count = smbx__rd_u16(&r);
  smbx__rd_copy(&r, out->server_guid, 16);
  out->capabilities = smbx__rd_u32(&r);
  out->max_transact_size = smbx__rd_u32(&r);
  out->max_read_size = smbx__rd_u32(&r);
  out->max_write_size = smbx__rd_u32(&r);
  out->system_time = smbx__rd_u64(&r);
  out->server_start_time = smbx__rd_u64(&r);
  uint16_t sb_off = smbx__rd_u16(&r);
  uint16_t sb_len = smbx__rd_u16(&r);
  out->neg_ctx_offset = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "negotiate resp: truncated fixed part", len);
  /* 2.2.4: SecurityBuffer (the GSS blob) after the fixed part */
  rc = smbx__smb2_area(pdu, len, 128, sb_off, sb_len, &out->security_buffer,
                       err, 120);
  if (rc)
    return rc;
  out->neg_ctx.p = NULL;
  out->neg_ctx.len = 0;
  if (out->dialect_revision != SMBX_SMB2_DIALECT_311)
    return 0;
  size_t blob_end = sb_len ? (size_t)sb_off + sb_len : 128;
  return check_ctx_list(pdu, len, blob_end, out->neg_ctx_offset,
                        out->neg_ctx_count, 0, &out->neg_ctx, err, 124);
}

smbx_ssize smbx_smb2_encode_negotiate_resp(const smbx_smb2_hdr *h,
                                           const smbx_smb2_negotiate_resp *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  if (in->security_buffer.len > 0xFFFF || in->neg_ctx.len > 0xFFFFFF ||
      (!in->security_buffer.p && in->security_buffer.len) ||
      (!in->neg_ctx.p && in->neg_ctx.len))
    return SMBX_ERR_RANGE;
  size_t sb = in->security_buffer.len;
  int v311 = in->dialect_revision == SMBX_SMB2_DIALECT_311;
  size_t total = 128 + (sb ? sb : 1);
  size_t ctx_off = 0;
  if (v311 && in->neg_ctx.len) {
    ctx_off = smbx__smb2_pad8(128 + sb);
    total = ctx_off + in->neg_ctx.len;
  }
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_NEGOTIATE);
  smbx__wr_u16(&w, 65);
  smbx__wr_u16(&w, in->security_mode);
  smbx__wr_u16(&w, in->dialect_revision);
  smbx__wr_u16(&w, v311 ? (ctx_off ? in->neg_ctx_count : 0)
                        : in->neg_ctx_count);
  smbx__wr_bytes(&w, in->server_guid, 16);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_u32(&w, in->max_transact_size);
  smbx__wr_u32(&w, in->max_read_size);
  smbx__wr_u32(&w, in->max_write_size);
  smbx__wr_u64(&w, in->system_time);
  smbx__wr_u64(&w, in->server_start_time);
  smbx__wr_u16(&w, 128);
  smbx__wr_u16(&w, (uint16_t)sb);
  smbx__wr_u32(&w, v311 ? (uint32_t)ctx_off : in->neg_ctx_offset);
  if (sb)
    smbx__wr_bytes(&w, in->security_buffer.p, sb);
  else if (!ctx_off)
    smbx__wr_u8(&w, 0); /* SS 65 counts a byte */
  if (ctx_off) {
    smbx__wr_align8(&w);
    smbx__wr_bytes(&w, in->neg_ctx.p, in->neg_ctx.len);
  }
  return smbx__smb2_enc_done(&w);
}
