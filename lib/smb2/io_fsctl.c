/* SPDX-License-Identifier: MIT */
/* FSCTL payloads: NETWORK_INTERFACE_INFO chains (MS-SMB2 2.2.32.5) and
 * VALIDATE_NEGOTIATE_INFO (2.2.31.4 / 2.2.32.6); smb2.md 4.9. */
#include "smb2/io_int.h"

static uint16_t get_be16(const uint8_t *p)
{
  return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (24 - 8 * i));
}

int smbx_smb2_netif_iter_init(smbx_smb2_netif_iter *it, const uint8_t *buf,
                              size_t len)
{
  if (!it || (!buf && len))
    return SMBX_ERR_INVAL;
  memset(it, 0, sizeof *it);
  it->buf = buf;
  it->len = len;
  return 0;
}

int smbx_smb2_netif_iter_next(smbx_smb2_netif_iter *it, smbx_smb2_netif *e,
                              smbx_error_detail *err)
{
  if (!it || !e)
    return SMBX_ERR_INVAL;
  if (it->done || it->pos >= it->len)
    return 0;
  size_t pos = it->pos, left = it->len - pos;
  it->done = 1; /* cleared below when another entry follows */
  if (it->count > it->len / SMBX_SMB2_NETIF_SIZE)
    return smbx__smb2_fail(err, "netif: too many entries", pos);
  /* 2.2.32.5: fixed 152-byte entries */
  if (left < SMBX_SMB2_NETIF_SIZE)
    return smbx__smb2_fail(err, "netif: entry past end", pos);
  const uint8_t *q = it->buf + pos;
  memset(e, 0, sizeof *e);
  e->next = smbx__get_le32(q);
  e->if_index = smbx__get_le32(q + 4);
  e->capability = smbx__get_le32(q + 8);
  e->rss_queue_count = smbx__get_le32(q + 12);
  e->link_speed = smbx__get_le64(q + 16);
  e->family = smbx__get_le16(q + 24);
  /* case 35: Next < 152, unaligned or past end */
  if (e->next) {
    if (e->next % 8 != 0)
      return smbx__smb2_fail(err, "netif: Next not 8-aligned", pos);
    if (e->next < SMBX_SMB2_NETIF_SIZE)
      return smbx__smb2_fail(err, "netif: Next < 152", pos);
    if (e->next >= left)
      return smbx__smb2_fail(err, "netif: Next past end", pos);
  }
  /* SockAddr_Storage @24: port/flow/scope in network order */
  const uint8_t *sa = q + 24;
  e->port = get_be16(sa + 2);
  if (e->family == SMBX_SMB2_NETIF_FAMILY_INET) {
    memcpy(e->addr, sa + 4, 4);
  } else if (e->family == SMBX_SMB2_NETIF_FAMILY_INET6) {
    e->flow_info = get_be32(sa + 4);
    memcpy(e->addr, sa + 8, 16);
    e->scope_id = get_be32(sa + 24);
  } else {
    return smbx__smb2_fail(err, "netif: unknown address family", pos + 24);
  }
  it->count++;
  if (e->next) {
    it->pos = pos + e->next;
    it->done = 0;
  }
  return 1;
}

smbx_ssize smbx_smb2_netif_encode(const smbx_smb2_netif *e, size_t n,
                                  uint8_t *buf, size_t cap, size_t *needed)
{
  if (!e || n == 0 || (!buf && cap))
    return SMBX_ERR_INVAL;
  for (size_t i = 0; i < n; i++)
    if (e[i].family != SMBX_SMB2_NETIF_FAMILY_INET &&
        e[i].family != SMBX_SMB2_NETIF_FAMILY_INET6)
      return SMBX_ERR_INVAL;
  if (n > SIZE_MAX / SMBX_SMB2_NETIF_SIZE)
    return SMBX_ERR_RANGE;
  size_t total = n * SMBX_SMB2_NETIF_SIZE;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  memset(buf, 0, total);
  for (size_t i = 0; i < n; i++) {
    uint8_t *q = buf + i * SMBX_SMB2_NETIF_SIZE;
    smbx__put_le32(q, i + 1 < n ? SMBX_SMB2_NETIF_SIZE : 0);
    smbx__put_le32(q + 4, e[i].if_index);
    smbx__put_le32(q + 8, e[i].capability);
    smbx__put_le32(q + 12, e[i].rss_queue_count);
    smbx__put_le64(q + 16, e[i].link_speed);
    smbx__put_le16(q + 24, e[i].family);
    uint8_t *sa = q + 24;
    put_be16(sa + 2, e[i].port);
    if (e[i].family == SMBX_SMB2_NETIF_FAMILY_INET) {
      memcpy(sa + 4, e[i].addr, 4);
    } else {
      put_be32(sa + 4, e[i].flow_info);
      memcpy(sa + 8, e[i].addr, 16);
      put_be32(sa + 24, e[i].scope_id);
    }
  }
  return (smbx_ssize)total;
}

/* 2.2.31.4: Capabilities u32, Guid[16], SecurityMode u16, DialectCount
 * u16, Dialects u16[DialectCount] */
int smbx_smb2_vni_req_decode(const uint8_t *p, size_t len,
                             smbx_smb2_vni_req *out, smbx_error_detail *err)
{
  if (!out || (!p && len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  smbx__rd r = smbx__rd_make(p, len);
  out->capabilities = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->guid, 16);
  out->security_mode = smbx__rd_u16(&r);
  uint16_t count = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "vni req: shorter than 24 bytes", len);
  if (count == 0)
    return smbx__smb2_fail(err, "vni req: DialectCount 0", 22);
  if ((size_t)count * 2 > smbx__rd_left(&r))
    return smbx__smb2_fail(err, "vni req: dialects past end", 22);
  out->dialects.p = p + 24;
  out->dialects.len = (size_t)count * 2;
  return 0;
}

smbx_ssize smbx_smb2_vni_req_encode(const smbx_smb2_vni_req *in, uint8_t *buf,
                                    size_t cap, size_t *needed)
{
  if (!in || (!buf && cap) || !smbx__io_view_ok(in->dialects))
    return SMBX_ERR_INVAL;
  if (in->dialects.len == 0 || in->dialects.len % 2 != 0 ||
      in->dialects.len / 2 > UINT16_MAX)
    return SMBX_ERR_RANGE;
  size_t total = 24 + in->dialects.len;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_bytes(&w, in->guid, 16);
  smbx__wr_u16(&w, in->security_mode);
  smbx__wr_u16(&w, (uint16_t)(in->dialects.len / 2));
  smbx__wr_bytes(&w, in->dialects.p, in->dialects.len);
  return smbx__smb2_enc_done(&w);
}

/* 2.2.32.6: Capabilities u32, Guid[16], SecurityMode u16, Dialect u16 */
int smbx_smb2_vni_resp_decode(const uint8_t *p, size_t len,
                              smbx_smb2_vni_resp *out, smbx_error_detail *err)
{
  if (!out || (!p && len))
    return SMBX_ERR_INVAL;
  smbx__rd r = smbx__rd_make(p, len);
  out->capabilities = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->guid, 16);
  out->security_mode = smbx__rd_u16(&r);
  out->dialect = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "vni resp: shorter than 24 bytes", len);
  return 0;
}

smbx_ssize smbx_smb2_vni_resp_encode(const smbx_smb2_vni_resp *in,
                                     uint8_t *buf, size_t cap, size_t *needed)
{
  if (!in || (!buf && cap))
    return SMBX_ERR_INVAL;
  if (needed)
    *needed = 24;
  if (cap < 24)
    return SMBX_ERR_NOBUF;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u32(&w, in->capabilities);
  smbx__wr_bytes(&w, in->guid, 16);
  smbx__wr_u16(&w, in->security_mode);
  smbx__wr_u16(&w, in->dialect);
  return smbx__smb2_enc_done(&w);
}
