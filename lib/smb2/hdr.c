/* SPDX-License-Identifier: MIT */
/* SMB2 header, compound chains, TRANSFORM / COMPRESSION / SMB1
 * recognition, CreditCharge (smb2.md sec. 1, 2, 6.1, 6.2). */
#include <string.h>

#include "smb2/hot.h"
#include "smb2/smb2_int.h"

int smbx_smb2_hdr_decode(const uint8_t *p, size_t len, smbx_smb2_hdr *h,
                         smbx_error_detail *err)
{
  if (!h || (!p && len))
    return SMBX_ERR_INVAL;
  int rc = smbx__smb2_hdr_check(p, len, err);
  if (rc)
    return rc;
  /* [MS-SMB2] 2.2.1; hdr_check proved len >= 64: fixed-offset loads */
  h->structure_size = smbx__get_le16(p + 4);
  h->credit_charge = smbx__get_le16(p + 6);
  h->status = smbx__get_le32(p + 8);
  h->command = smbx__get_le16(p + 12);
  h->credits = smbx__get_le16(p + 14);
  h->flags = smbx__get_le32(p + 16);
  h->next_command = smbx__get_le32(p + 20);
  h->message_id = smbx__get_le64(p + 24);
  if (h->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) {
    h->async_id = smbx__get_le64(p + 32);
    h->reserved = 0;
    h->tree_id = 0;
  } else {
    h->async_id = 0;
    h->reserved = smbx__get_le32(p + 32);
    h->tree_id = smbx__get_le32(p + 36);
  }
  h->session_id = smbx__get_le64(p + 40);
  memcpy(h->signature, p + 48, 16);
  return 0;
}

void smbx__smb2_put_hdr(smbx__wr *w, const smbx_smb2_hdr *h, uint16_t cmd)
{
  /* one capacity check for the fixed 64 bytes (MS-SMB2 2.2.1), then stores
   * at fixed offsets: every encoder starts here */
  uint8_t *p = smbx__wr_take(w, SMBX_SMB2_HDR_SIZE);
  if (p)
    smbx__smb2_hdr_store(p, h, cmd);
}

smbx_ssize smbx_smb2_hdr_encode(const smbx_smb2_hdr *h, uint8_t *buf,
                                size_t cap, size_t *needed)
{
  int rc = smbx__smb2_enc_start(h, h, buf, cap, SMBX_SMB2_HDR_SIZE, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__smb2_put_hdr(&w, h, h->command);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_chain_init(smbx_smb2_chain *c, const uint8_t *buf, size_t len,
                         uint32_t max)
{
  if (!c || (!buf && len))
    return SMBX_ERR_INVAL;
  c->buf = buf;
  c->len = len;
  c->off = 0;
  c->count = 0;
  c->max = max ? max : SMBX_SMB2_CHAIN_MAX_DEFAULT;
  c->done = 0;
  return 0;
}

static int chain_fail(smbx_smb2_chain *c, smbx_error_detail *err,
                      const char *reason, size_t off)
{
  c->done = 1;
  return smbx__smb2_fail(err, reason, off);
}

int smbx_smb2_chain_next(smbx_smb2_chain *c, smbx_smb2_bytes *pdu,
                         smbx_smb2_hdr *h, smbx_error_detail *err)
{
  if (!c || !pdu)
    return SMBX_ERR_INVAL;
  pdu->p = NULL;
  pdu->len = 0;
  if (c->done)
    return 0;
  size_t left = c->len - c->off;
  if (c->count >= c->max)
    return chain_fail(c, err, "smb2 chain: too many PDUs in one compound",
                      c->off);
  smbx_smb2_hdr tmp;
  smbx_smb2_hdr *hh = h ? h : &tmp;
  smbx_error_detail e = {NULL, 0};
  if (smbx_smb2_hdr_decode(c->buf + c->off, left, hh, &e))
    return chain_fail(c, err, e.reason, c->off + e.offset);
  uint32_t next = hh->next_command;
  size_t this_len = left;
  if (next) {
    /* smb2.md 6.2 / 3.3.5.2.7: NextCommand 8-aligned (later headers start
     * 8-aligned), at least a header and a StructureSize, and the next
     * header must fit in what is left */
    if (next % 8 != 0)
      return chain_fail(c, err, "smb2 chain: NextCommand not 8-aligned",
                        c->off + 20);
    if (next < 66)
      return chain_fail(c, err, "smb2 chain: NextCommand < 66", c->off + 20);
    if (next > left || left - next < SMBX_SMB2_HDR_SIZE)
      return chain_fail(c, err, "smb2 chain: NextCommand past the end",
                        c->off + 20);
    /* case 29: NextCommand may not land inside this PDU's fixed body */
    if (hh->command < SMBX_SMB2_COMMAND_COUNT) {
      int resp = (hh->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) != 0;
      uint16_t ss = smbx_smb2_structure_size(hh->command, resp);
      uint16_t got = smbx__get_le16(c->buf + c->off + 64);
      /* an ERROR body (SS 9) may replace any response body */
      if (resp && got == 9)
        ss = 9;
      if (next < 64u + (ss & ~1u))
        return chain_fail(c, err,
                          "smb2 chain: NextCommand inside the current body",
                          c->off + 20);
    }
    this_len = next;
  }
  pdu->p = c->buf + c->off;
  pdu->len = this_len;
  c->count++;
  if (next)
    c->off += next;
  else
    c->done = 1;
  return 1;
}

smbx_ssize smbx_smb2_chain_link(uint8_t *pdu, size_t len, size_t cap)
{
  if (!pdu || len < SMBX_SMB2_HDR_SIZE || cap < len)
    return SMBX_ERR_INVAL;
  if (len > UINT32_MAX - 7)
    return SMBX_ERR_RANGE;
  size_t padded = smbx__smb2_pad8(len);
  if (cap < padded)
    return SMBX_ERR_NOBUF;
  memset(pdu + len, 0, padded - len);
  smbx__put_le32(pdu + 20, (uint32_t)padded);
  return (smbx_ssize)padded;
}

int smbx_smb2_msg_kind(const uint8_t *msg, size_t len)
{
  if (!msg || len < 4)
    return SMBX_ERR_DECODE;
  /* smb2.md sec. 1: demux by the first 4 bytes */
  switch (smbx__get_le32(msg)) {
  case SMBX_SMB2_PROTOCOL_ID:
    return SMBX_SMB2_MSG_SMB2;
  case SMBX_SMB2_TRANSFORM_ID:
    return SMBX_SMB2_MSG_TRANSFORM;
  case SMBX_SMB2_COMPRESSION_ID:
    return SMBX_SMB2_MSG_COMPRESSION;
  case SMBX_SMB1_PROTOCOL_ID:
    return SMBX_SMB2_MSG_SMB1;
  default:
    return SMBX_ERR_DECODE;
  }
}

int smbx_smb2_transform_decode(const uint8_t *msg, size_t len,
                               smbx_smb2_transform_hdr *out,
                               smbx_error_detail *err)
{
  if (!out || (!msg && len))
    return SMBX_ERR_INVAL;
  /* [MS-SMB2] 2.2.41, smb2.md 2.3 */
  smbx__rd r = smbx__rd_make(msg, len);
  uint32_t id = smbx__rd_u32(&r);
  smbx__rd_copy(&r, out->signature, 16);
  smbx__rd_copy(&r, out->nonce, 16);
  out->original_message_size = smbx__rd_u32(&r);
  out->reserved = smbx__rd_u16(&r);
  out->flags = smbx__rd_u16(&r);
  out->session_id = smbx__rd_u64(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "transform: shorter than 52 bytes", len);
  if (id != SMBX_SMB2_TRANSFORM_ID)
    return smbx__smb2_fail(err, "transform: ProtocolId is not FD 'SMB'", 0);
  /* the plaintext is an SMB2 message: at least one 64-byte header */
  if (out->original_message_size < SMBX_SMB2_HDR_SIZE)
    return smbx__smb2_fail(err, "transform: OriginalMessageSize < 64", 36);
  if ((uint64_t)out->original_message_size > len - 52)
    return smbx__smb2_fail(err,
                           "transform: OriginalMessageSize past the frame", 36);
  out->aad.p = msg + 20;
  out->aad.len = 32;
  out->ciphertext.p = msg + 52;
  out->ciphertext.len = out->original_message_size;
  return 0;
}

smbx_ssize smbx_smb2_transform_encode(const smbx_smb2_transform_hdr *in,
                                      uint8_t *buf, size_t cap,
                                      size_t *needed)
{
  int rc = smbx__smb2_enc_start(in, in,
                                buf, cap, SMBX_SMB2_TRANSFORM_HDR_SIZE,
                                needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u32(&w, SMBX_SMB2_TRANSFORM_ID);
  smbx__wr_bytes(&w, in->signature, 16);
  smbx__wr_bytes(&w, in->nonce, 16);
  smbx__wr_u32(&w, in->original_message_size);
  smbx__wr_u16(&w, in->reserved);
  smbx__wr_u16(&w, in->flags);
  smbx__wr_u64(&w, in->session_id);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb2_plaintext_check(const uint8_t *msg, size_t len,
                              smbx_error_detail *err)
{
  int k = smbx_smb2_msg_kind(msg, len);
  /* case 40: a TRANSFORM inside a TRANSFORM is never valid; SMB1 neither */
  if (k == SMBX_SMB2_MSG_SMB2 || k == SMBX_SMB2_MSG_COMPRESSION)
    return 0;
  if (k == SMBX_SMB2_MSG_TRANSFORM)
    return smbx__smb2_fail(err, "transform: nested TRANSFORM", 0);
  return smbx__smb2_fail(err, "transform: plaintext is not SMB2", 0);
}

int smbx_smb2_compression_decode(const uint8_t *msg, size_t len,
                                 smbx_smb2_compression_hdr *out,
                                 smbx_error_detail *err)
{
  if (!out || (!msg && len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  /* [MS-SMB2] 2.2.42, smb2.md 2.4 */
  smbx__rd r = smbx__rd_make(msg, len);
  uint32_t id = smbx__rd_u32(&r);
  out->original_size = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "compression: shorter than 8 bytes", len);
  if (id != SMBX_SMB2_COMPRESSION_ID)
    return smbx__smb2_fail(err, "compression: ProtocolId is not FC 'SMB'", 0);
  if (len < 12)
    return smbx__smb2_fail(err, "compression: truncated header", len);
  uint16_t flags = smbx__get_le16(msg + 10);
  if (flags & SMBX_SMB2_COMP_FLAG_CHAINED) {
    /* 2.2.42.2: payload headers start at byte 8 */
    out->flags = flags;
    out->payload.p = msg + 8;
    out->payload.len = len - 8;
    if (len - 8 < 8)
      return smbx__smb2_fail(err, "compression: no chained payload header",
                             len);
    return 0;
  }
  out->algorithm = smbx__rd_u16(&r);
  out->flags = smbx__rd_u16(&r);
  out->offset = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "compression: shorter than 16 bytes", len);
  /* case 40: the uncompressed prefix must lie inside the message */
  if ((uint64_t)out->offset > len - 16)
    return smbx__smb2_fail(err, "compression: Offset past the end", 12);
  out->prefix.p = msg + 16;
  out->prefix.len = out->offset;
  out->payload.p = msg + 16 + out->offset;
  out->payload.len = len - 16 - out->offset;
  return 0;
}

int smbx_smb2_comp_payload_next(smbx_smb2_bytes payload, size_t *off,
                                smbx_smb2_comp_payload *out,
                                smbx_error_detail *err)
{
  if (!off || !out || (!payload.p && payload.len))
    return SMBX_ERR_INVAL;
  if (*off >= payload.len)
    return 0;
  smbx__rd r = smbx__rd_make(payload.p, payload.len);
  smbx__rd_seek(&r, *off);
  size_t start = *off;
  out->algorithm = smbx__rd_u16(&r);
  out->flags = smbx__rd_u16(&r);
  out->length = smbx__rd_u32(&r);
  out->original_size = 0;
  if (r.bad)
    return smbx__smb2_fail(err, "compression: truncated payload header",
                           start);
  if ((uint64_t)out->length > smbx__rd_left(&r))
    return smbx__smb2_fail(err, "compression: payload Length past the end",
                           start + 4);
  smbx__rd body = smbx__rd_sub(&r, out->length);
  switch (out->algorithm) {
  case SMBX_SMB2_COMP_LZNT1:
  case SMBX_SMB2_COMP_LZ77:
  case SMBX_SMB2_COMP_LZ77_HUFFMAN:
  case SMBX_SMB2_COMP_LZ4:
    /* 2.2.42.2.1: OriginalPayloadSize is included in Length */
    out->original_size = smbx__rd_u32(&body);
    if (body.bad)
      return smbx__smb2_fail(err, "compression: Length < 4 for OriginalPayloadSize",
                             start + 4);
    break;
  default:
    break;
  }
  out->data.p = body.p + body.off;
  out->data.len = body.len - body.off;
  *off = r.off;
  return 1;
}

smbx_ssize smbx_smb2_compression_encode(const smbx_smb2_compression_hdr *in,
                                        uint8_t *buf, size_t cap,
                                        size_t *needed)
{
  int rc = smbx__smb2_enc_start(in, in,
                                buf, cap, SMBX_SMB2_COMPRESSION_HDR_SIZE,
                                needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u32(&w, SMBX_SMB2_COMPRESSION_ID);
  smbx__wr_u32(&w, in->original_size);
  smbx__wr_u16(&w, in->algorithm);
  smbx__wr_u16(&w, in->flags);
  smbx__wr_u32(&w, in->offset);
  return smbx__smb2_enc_done(&w);
}

int smbx_smb1_negotiate_decode(const uint8_t *msg, size_t len,
                               smbx_smb1_negotiate *out,
                               smbx_error_detail *err)
{
  if (!out || (!msg && len))
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  /* [MS-CIFS] 2.2.3.1 header (32 bytes), 2.2.4.52.1 NEGOTIATE request */
  smbx__rd r = smbx__rd_make(msg, len);
  uint32_t id = smbx__rd_u32(&r);
  uint8_t cmd = smbx__rd_u8(&r);
  smbx__rd_seek(&r, 32);
  uint8_t wc = smbx__rd_u8(&r);
  uint16_t bc = smbx__rd_u16(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "smb1: shorter than a NEGOTIATE", len);
  if (id != SMBX_SMB1_PROTOCOL_ID)
    return smbx__smb2_fail(err, "smb1: ProtocolId is not FF 'SMB'", 0);
  /* smb2.md sec. 1: only the multi-protocol NEGOTIATE is legal */
  if (cmd != 0x72)
    return smbx__smb2_fail(err, "smb1: not a NEGOTIATE", 4);
  if (wc != 0)
    return smbx__smb2_fail(err, "smb1: NEGOTIATE WordCount not 0", 32);
  if (bc > smbx__rd_left(&r))
    return smbx__smb2_fail(err, "smb1: ByteCount past the end", 33);
  const uint8_t *b = msg + 35;
  size_t i = 0;
  while (i < bc) {
    /* each dialect: BufferFormat 0x02, NUL-terminated OEM string */
    if (b[i] != 0x02)
      return smbx__smb2_fail(err, "smb1: dialect BufferFormat not 0x02",
                             35 + i);
    size_t s = i + 1, e = s;
    while (e < bc && b[e] != 0)
      e++;
    if (e >= bc)
      return smbx__smb2_fail(err, "smb1: dialect string not terminated",
                             35 + i);
    size_t n = e - s;
    if (n == 9 && memcmp(b + s, "SMB 2.002", 9) == 0)
      out->has_smb2_002 = 1;
    if (n == 9 && memcmp(b + s, "SMB 2.???", 9) == 0)
      out->has_smb2_wildcard = 1;
    out->dialect_count++;
    i = e + 1;
  }
  return 0;
}

uint16_t smbx_smb2_credit_charge(uint16_t dialect, uint32_t capabilities,
                                 uint64_t send_len, uint64_t expect_len)
{
  /* smb2.md 6.1: 2.0.2 and no LARGE_MTU -> CreditCharge 0 */
  if (dialect == SMBX_SMB2_DIALECT_202 ||
      !(capabilities & SMBX_SMB2_CAP_LARGE_MTU))
    return 0;
  uint64_t m = send_len > expect_len ? send_len : expect_len;
  if (m == 0)
    return 1;
  uint64_t c = (m - 1) / 65536 + 1;
  return c > 0xFFFF ? 0xFFFF : (uint16_t)c;
}

uint16_t smbx_smb2_bytes_u16(smbx_smb2_bytes b, size_t i)
{
  if (!b.p || b.len / 2 <= i)
    return 0;
  return smbx__get_le16(b.p + 2 * i);
}
