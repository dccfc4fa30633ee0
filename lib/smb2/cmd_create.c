/* SPDX-License-Identifier: MIT */
/* CREATE request/response, the create-context chain, RqLs and the
 * fixed-layout contexts ([MS-SMB2] 2.2.13, 2.2.13.2.x, 2.2.14,
 * 2.2.14.2.x; smb2.md 4.4; leases.md 2.1-2.3). */
#include "smb2/smb2_int.h"

int smbx_smb2_create_ctx_iter_init(smbx_smb2_create_ctx_iter *it,
                                   smbx_smb2_bytes area, size_t base)
{
  if (!it || (!area.p && area.len))
    return SMBX_ERR_INVAL;
  it->p = area.p;
  it->len = area.len;
  it->off = 0;
  it->base = base;
  it->count = 0;
  it->done = area.len == 0;
  return 0;
}

static int ctx_fail(smbx_smb2_create_ctx_iter *it, smbx_error_detail *err,
                    const char *reason, size_t off)
{
  it->done = 1;
  return smbx__smb2_fail(err, reason, it->base + off);
}

int smbx_smb2_create_ctx_next(smbx_smb2_create_ctx_iter *it,
                              smbx_smb2_create_ctx *out,
                              smbx_error_detail *err)
{
  if (!it || !out)
    return SMBX_ERR_INVAL;
  if (it->done)
    return 0;
  size_t start = it->off;
  size_t left = it->len - start;
  /* leases.md 2.2 (Samba's set, plus overlap): at least a header left */
  if (left < 16)
    return ctx_fail(it, err, "create ctx: fewer than 16 bytes left", start);
  if (++it->count > SMBX_SMB2_CREATE_CTX_MAX)
    return ctx_fail(it, err, "create ctx: too many contexts", start);
  const uint8_t *q = it->p + start;
  uint32_t next = smbx__get_le32(q);
  uint16_t name_off = smbx__get_le16(q + 4);
  uint16_t name_len = smbx__get_le16(q + 6);
  uint16_t reserved = smbx__get_le16(q + 8);
  uint16_t data_off = smbx__get_le16(q + 10);
  uint32_t data_len = smbx__get_le32(q + 12);
  size_t rec = left;
  if (next) {
    /* 2.2.13.2: Next 8-aligned; must advance past a header and leave a
     * whole header for the next record */
    if (next % 8 != 0)
      return ctx_fail(it, err, "create ctx: Next not 8-aligned", start);
    if (next < 16)
      return ctx_fail(it, err, "create ctx: Next < 16", start);
    if (next > left || left - next < 16)
      return ctx_fail(it, err, "create ctx: Next past the contexts", start);
    rec = next;
  }
  /* Samba: NameOffset 16 (right after the header), NameLength >= 4 */
  if (name_off != 16)
    return ctx_fail(it, err, "create ctx: NameOffset is not 16", start + 4);
  if (name_len < 4)
    return ctx_fail(it, err, "create ctx: NameLength < 4", start + 6);
  uint64_t name_end = (uint64_t)name_off + name_len;
  if (name_end > rec)
    return ctx_fail(it, err, "create ctx: name outside the record",
                    start + 6);
  if (data_off % 8 != 0)
    return ctx_fail(it, err, "create ctx: DataOffset not 8-aligned",
                    start + 10);
  if (data_off != 0 && data_off < name_end)
    return ctx_fail(it, err, "create ctx: DataOffset inside the name",
                    start + 10);
  if (data_len) {
    if (data_off == 0)
      return ctx_fail(it, err, "create ctx: DataOffset 0 with data",
                      start + 10);
    /* 64-bit sum (leases.md case 8); the record ends at Next, so this
     * also rejects a Next that lands inside the data (case 9) */
    if ((uint64_t)data_off + data_len > rec)
      return ctx_fail(it, err, "create ctx: data outside the record",
                      start + 12);
  }
  out->name.p = q + name_off;
  out->name.len = name_len;
  out->data.p = data_len ? q + data_off : NULL;
  out->data.len = data_len;
  out->reserved = reserved;
  if (next)
    it->off = start + next;
  else
    it->done = 1;
  return 1;
}

uint32_t smbx_smb2_create_ctx_tag(const smbx_smb2_create_ctx *c)
{
  if (!c || c->name.len != 4 || !c->name.p)
    return 0;
  const uint8_t *n = c->name.p;
  return (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 | (uint32_t)n[2] << 8 |
         n[3];
}

smbx_ssize smbx_smb2_create_ctx_list_encode(const smbx_smb2_create_ctx *c,
                                            size_t n, uint8_t *buf,
                                            size_t cap, size_t *needed)
{
  if ((!c && n) || (!buf && cap))
    return SMBX_ERR_INVAL;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (c[i].name.len < 4 || c[i].name.len > 0xFFFF - 24 || !c[i].name.p ||
        c[i].data.len > UINT32_MAX || (!c[i].data.p && c[i].data.len))
      return SMBX_ERR_RANGE;
    if (i)
      total = smbx__smb2_pad8(total);
    size_t rec = c[i].data.len ? smbx__smb2_pad8(16 + c[i].name.len) +
                                     c[i].data.len
                               : 16 + c[i].name.len;
    if (rec > UINT32_MAX - 8 || total > SIZE_MAX / 2 - rec)
      return SMBX_ERR_RANGE;
    total += rec;
  }
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  for (size_t i = 0; i < n; i++) {
    if (i)
      smbx__wr_align8(&w);
    size_t data_off = c[i].data.len ? smbx__smb2_pad8(16 + c[i].name.len) : 0;
    size_t rec = data_off ? data_off + c[i].data.len : 16 + c[i].name.len;
    uint32_t next = i + 1 < n ? (uint32_t)smbx__smb2_pad8(rec) : 0;
    smbx__wr_u32(&w, next);
    smbx__wr_u16(&w, 16);
    smbx__wr_u16(&w, (uint16_t)c[i].name.len);
    smbx__wr_u16(&w, c[i].reserved);
    smbx__wr_u16(&w, (uint16_t)data_off);
    smbx__wr_u32(&w, (uint32_t)c[i].data.len);
    smbx__wr_bytes(&w, c[i].name.p, c[i].name.len);
    if (data_off) {
      smbx__wr_align8(&w);
      smbx__wr_bytes(&w, c[i].data.p, c[i].data.len);
    }
  }
  return (smbx_ssize)w.off;
}

/* Walks a whole chain once so a decoded CREATE implies a valid chain. */
static int check_chain(smbx_smb2_bytes area, size_t base,
                       smbx_error_detail *err)
{
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  int rc;
  smbx_smb2_create_ctx_iter_init(&it, area, base);
  while ((rc = smbx_smb2_create_ctx_next(&it, &c, err)) == 1)
    ;
  return rc;
}

/* The contexts area of a CREATE request or response. */
static int ctx_area(const uint8_t *pdu, size_t len, size_t fixed_end,
                    uint32_t off, uint32_t n, size_t field_off,
                    smbx_smb2_bytes *out, smbx_error_detail *err)
{
  int rc = smbx__smb2_area(pdu, len, fixed_end, off, n, out, err, field_off);
  if (rc)
    return rc;
  /* 2.2.13: CreateContextsOffset 8-aligned */
  if (n && off % 8 != 0)
    return smbx__smb2_fail(err, "create: CreateContextsOffset not 8-aligned",
                           field_off);
  return check_chain(*out, off, err);
}

int smbx_smb2_decode_create_req(const uint8_t *pdu, size_t len,
                                smbx_smb2_create_req *out,
                                smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_CREATE, 57, &r, err);
  if (rc)
    return rc;
  /* 2.2.13 */
  out->security_flags = smbx__rd_u8(&r);
  out->requested_oplock_level = smbx__rd_u8(&r);
  out->impersonation_level = smbx__rd_u32(&r);
  out->smb_create_flags = smbx__rd_u64(&r);
  out->reserved = smbx__rd_u64(&r);
  out->desired_access = smbx__rd_u32(&r);
  out->file_attributes = smbx__rd_u32(&r);
  out->share_access = smbx__rd_u32(&r);
  out->create_disposition = smbx__rd_u32(&r);
  out->create_options = smbx__rd_u32(&r);
  uint16_t name_off = smbx__rd_u16(&r);
  uint16_t name_len = smbx__rd_u16(&r);
  out->contexts_offset = smbx__rd_u32(&r);
  uint32_t ctx_len = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "create: truncated fixed part", len);
  /* 3.3.5.9: NameLength odd, NameOffset < 0x78, name past the request
   * -> INVALID_PARAMETER (a zero-length name may carry any offset:
   * Windows and Linux send 0x78, some clients 0) */
  if (name_len % 2)
    return smbx__smb2_fail(err, "create: odd NameLength", 110);
  rc = smbx__smb2_area(pdu, len, 120, name_off, name_len, &out->name, err,
                       108);
  if (rc)
    return rc;
  rc = ctx_area(pdu, len, 120, out->contexts_offset, ctx_len, 112,
                &out->contexts, err);
  if (rc)
    return rc;
  /* case 28: the name may not run into the contexts */
  if (smbx__smb2_overlap(name_off, name_len, out->contexts_offset, ctx_len))
    return smbx__smb2_fail(err, "create: name overlaps the contexts", 108);
  return 0;
}

smbx_ssize smbx_smb2_encode_create_req(const smbx_smb2_hdr *h,
                                       const smbx_smb2_create_req *in,
                                       uint8_t *buf, size_t cap,
                                       size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  if (in->name.len > 0xFFFF || in->name.len % 2 ||
      (!in->name.p && in->name.len) || in->contexts.len > 0xFFFFFF ||
      (!in->contexts.p && in->contexts.len))
    return SMBX_ERR_RANGE;
  size_t name_end = 120 + (in->name.len ? in->name.len : 1);
  size_t ctx_off = in->contexts.len ? smbx__smb2_pad8(name_end) : 0;
  size_t total = ctx_off ? ctx_off + in->contexts.len : name_end;
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_CREATE);
  smbx__wr_u16(&w, 57);
  smbx__wr_u8(&w, in->security_flags);
  smbx__wr_u8(&w, in->requested_oplock_level);
  smbx__wr_u32(&w, in->impersonation_level);
  smbx__wr_u64(&w, in->smb_create_flags);
  smbx__wr_u64(&w, in->reserved);
  smbx__wr_u32(&w, in->desired_access);
  smbx__wr_u32(&w, in->file_attributes);
  smbx__wr_u32(&w, in->share_access);
  smbx__wr_u32(&w, in->create_disposition);
  smbx__wr_u32(&w, in->create_options);
  smbx__wr_u16(&w, SMBX_SMB2_CREATE_NAME_OFFSET);
  smbx__wr_u16(&w, (uint16_t)in->name.len);
  smbx__wr_u32(&w, (uint32_t)ctx_off);
  smbx__wr_u32(&w, (uint32_t)in->contexts.len);
  if (in->name.len)
    smbx__wr_bytes(&w, in->name.p, in->name.len);
  else
    smbx__wr_u8(&w, 0); /* SS 57 counts a byte (case 8) */
  if (ctx_off) {
    smbx__wr_align8(&w);
    smbx__wr_bytes(&w, in->contexts.p, in->contexts.len);
  }
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_decode_create_resp(const uint8_t *pdu, size_t len,
                                 smbx_smb2_create_resp *out,
                                 smbx_error_detail *err)
{
  smbx__rd r;
  int rc = smbx__smb2_begin(pdu, len, out, SMBX_SMB2_CREATE, 89, &r, err);
  if (rc)
    return rc;
  /* 2.2.14 */
  out->oplock_level = smbx__rd_u8(&r);
  out->flags = smbx__rd_u8(&r);
  out->create_action = smbx__rd_u32(&r);
  SMBX__SMB2_RD_NETOPEN(&r, out);
  out->reserved2 = smbx__rd_u32(&r);
  out->file_id = smbx__smb2_rd_fileid(&r);
  out->contexts_offset = smbx__rd_u32(&r);
  uint32_t ctx_len = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "create resp: truncated fixed part", len);
  return ctx_area(pdu, len, 152, out->contexts_offset, ctx_len, 144,
                  &out->contexts, err);
}

smbx_ssize smbx_smb2_encode_create_resp(const smbx_smb2_hdr *h,
                                        const smbx_smb2_create_resp *in,
                                        uint8_t *buf, size_t cap,
                                        size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  if (in->contexts.len > 0xFFFFFF || (!in->contexts.p && in->contexts.len))
    return SMBX_ERR_RANGE;
  size_t total = 152 + (in->contexts.len ? in->contexts.len : 1);
  int rc = smbx__smb2_enc_start(h, in, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, SMBX_SMB2_CREATE);
  smbx__wr_u16(&w, 89);
  smbx__wr_u8(&w, in->oplock_level);
  smbx__wr_u8(&w, in->flags);
  smbx__wr_u32(&w, in->create_action);
  SMBX__SMB2_WR_NETOPEN(&w, in);
  smbx__wr_u32(&w, in->reserved2);
  smbx__smb2_wr_fileid(&w, in->file_id);
  smbx__wr_u32(&w, in->contexts.len ? 152u : 0u);
  smbx__wr_u32(&w, (uint32_t)in->contexts.len);
  if (in->contexts.len)
    smbx__wr_bytes(&w, in->contexts.p, in->contexts.len);
  else
    smbx__wr_u8(&w, 0); /* SS 89 counts a byte */
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_lease_decode(smbx_smb2_bytes data, smbx_smb2_lease *out,
                           smbx_error_detail *err)
{
  if (!out || (!data.p && data.len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  /* leases.md 2.3: the version is decided by DataLength alone */
  if (data.len != 32 && data.len != 52)
    return smbx__smb2_fail(err, "lease ctx: DataLength is not 32 or 52", 0);
  smbx__rd r = smbx__rd_make(data.p, data.len);
  out->version = data.len == 32 ? 1 : 2;
  smbx__rd_copy(&r, out->key, 16);
  out->state = smbx__rd_u32(&r);
  out->flags = smbx__rd_u32(&r);
  out->duration = smbx__rd_u64(&r);
  if (out->version == 2) {
    smbx__rd_copy(&r, out->parent_key, 16);
    out->epoch = smbx__rd_u16(&r);
    out->reserved = smbx__rd_u16(&r);
  }
  return r.bad ? smbx__smb2_fail(err, "lease ctx: truncated", 0) : 0;
}

smbx_ssize smbx_smb2_lease_encode(const smbx_smb2_lease *in, uint8_t *buf,
                                  size_t cap, size_t *needed)
{
  if (!in || (!buf && cap) || (in->version != 1 && in->version != 2))
    return SMBX_ERR_INVAL;
  size_t total = in->version == 1 ? 32 : 52;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_bytes(&w, in->key, 16);
  smbx__wr_u32(&w, in->state);
  smbx__wr_u32(&w, in->flags);
  smbx__wr_u64(&w, in->duration);
  if (in->version == 2) {
    smbx__wr_bytes(&w, in->parent_key, 16);
    smbx__wr_u16(&w, in->epoch);
    smbx__wr_u16(&w, in->reserved);
  }
  return (smbx_ssize)w.off;
}

/* Exact data length per kind; -1 unknown. MxAc request: 0 or 8. */
static int ctxd_len(int kind)
{
  switch (kind) {
  case SMBX_SMB2_CTXD_DHNQ_REQ:
  case SMBX_SMB2_CTXD_DHNC_REQ:
    return 16;
  case SMBX_SMB2_CTXD_DHNQ_RESP:
  case SMBX_SMB2_CTXD_DH2Q_RESP:
  case SMBX_SMB2_CTXD_MXAC_REQ:
  case SMBX_SMB2_CTXD_MXAC_RESP:
  case SMBX_SMB2_CTXD_TWRP_REQ:
  case SMBX_SMB2_CTXD_ALSI_REQ:
    return 8;
  case SMBX_SMB2_CTXD_DH2Q_REQ:
  case SMBX_SMB2_CTXD_QFID_RESP:
    return 32;
  case SMBX_SMB2_CTXD_DH2C_REQ:
    return 36;
  default:
    return -1;
  }
}

int smbx_smb2_ctx_data_decode(int kind, smbx_smb2_bytes data,
                              smbx_smb2_ctx_data *out, smbx_error_detail *err)
{
  int want = ctxd_len(kind);
  if (!out || want < 0 || (!data.p && data.len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  /* 2.2.13.2.5: MxAc request data is empty or an 8-byte Timestamp */
  if (kind == SMBX_SMB2_CTXD_MXAC_REQ && data.len == 0)
    return 0;
  /* 2.2.13.2.x / 2.2.14.2.x: fixed sizes (QFid response 32 in the spec,
   * Samba, ksmbd and Linux alike) */
  if (data.len != (size_t)want)
    return smbx__smb2_fail(err, "create ctx: wrong DataLength for its tag",
                           0);
  smbx__rd r = smbx__rd_make(data.p, data.len);
  switch (kind) {
  case SMBX_SMB2_CTXD_DHNQ_REQ:
    smbx__rd_copy(&r, out->reserved, 16);
    break;
  case SMBX_SMB2_CTXD_DHNQ_RESP:
  case SMBX_SMB2_CTXD_TWRP_REQ:
  case SMBX_SMB2_CTXD_ALSI_REQ:
    out->value = smbx__rd_u64(&r);
    break;
  case SMBX_SMB2_CTXD_MXAC_REQ:
    out->value = smbx__rd_u64(&r);
    out->has_value = 1;
    break;
  case SMBX_SMB2_CTXD_DHNC_REQ:
    out->file_id = smbx__smb2_rd_fileid(&r);
    break;
  case SMBX_SMB2_CTXD_DH2Q_REQ:
    out->timeout = smbx__rd_u32(&r);
    out->flags = smbx__rd_u32(&r);
    out->value = smbx__rd_u64(&r);
    smbx__rd_copy(&r, out->guid, 16);
    break;
  case SMBX_SMB2_CTXD_DH2Q_RESP:
    out->timeout = smbx__rd_u32(&r);
    out->flags = smbx__rd_u32(&r);
    break;
  case SMBX_SMB2_CTXD_DH2C_REQ:
    out->file_id = smbx__smb2_rd_fileid(&r);
    smbx__rd_copy(&r, out->guid, 16);
    out->flags = smbx__rd_u32(&r);
    break;
  case SMBX_SMB2_CTXD_MXAC_RESP:
    out->query_status = smbx__rd_u32(&r);
    out->maximal_access = smbx__rd_u32(&r);
    break;
  case SMBX_SMB2_CTXD_QFID_RESP:
    out->disk_file_id = smbx__rd_u64(&r);
    out->volume_id = smbx__rd_u64(&r);
    smbx__rd_copy(&r, out->reserved, 16);
    break;
  default:
    break;
  }
  return r.bad ? smbx__smb2_fail(err, "create ctx: truncated", 0) : 0;
}

smbx_ssize smbx_smb2_ctx_data_encode(int kind, const smbx_smb2_ctx_data *in,
                                     uint8_t *buf, size_t cap, size_t *needed)
{
  int want = ctxd_len(kind);
  if (!in || want < 0 || (!buf && cap))
    return SMBX_ERR_INVAL;
  size_t total = (size_t)want;
  if (kind == SMBX_SMB2_CTXD_MXAC_REQ && !in->has_value)
    total = 0;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  switch (kind) {
  case SMBX_SMB2_CTXD_DHNQ_REQ:
    smbx__wr_bytes(&w, in->reserved, 16);
    break;
  case SMBX_SMB2_CTXD_DHNQ_RESP:
  case SMBX_SMB2_CTXD_TWRP_REQ:
  case SMBX_SMB2_CTXD_ALSI_REQ:
    smbx__wr_u64(&w, in->value);
    break;
  case SMBX_SMB2_CTXD_MXAC_REQ:
    if (in->has_value)
      smbx__wr_u64(&w, in->value);
    break;
  case SMBX_SMB2_CTXD_DHNC_REQ:
    smbx__smb2_wr_fileid(&w, in->file_id);
    break;
  case SMBX_SMB2_CTXD_DH2Q_REQ:
    smbx__wr_u32(&w, in->timeout);
    smbx__wr_u32(&w, in->flags);
    smbx__wr_u64(&w, in->value);
    smbx__wr_bytes(&w, in->guid, 16);
    break;
  case SMBX_SMB2_CTXD_DH2Q_RESP:
    smbx__wr_u32(&w, in->timeout);
    smbx__wr_u32(&w, in->flags);
    break;
  case SMBX_SMB2_CTXD_DH2C_REQ:
    smbx__smb2_wr_fileid(&w, in->file_id);
    smbx__wr_bytes(&w, in->guid, 16);
    smbx__wr_u32(&w, in->flags);
    break;
  case SMBX_SMB2_CTXD_MXAC_RESP:
    smbx__wr_u32(&w, in->query_status);
    smbx__wr_u32(&w, in->maximal_access);
    break;
  case SMBX_SMB2_CTXD_QFID_RESP:
    smbx__wr_u64(&w, in->disk_file_id);
    smbx__wr_u64(&w, in->volume_id);
    smbx__wr_bytes(&w, in->reserved, 16);
    break;
  default:
    break;
  }
  return (smbx_ssize)w.off;
}
