/* SPDX-License-Identifier: MIT */
/* File information classes of smb2.md 4.12 (MS-FSCC 2.4.7 Basic, 2.4.41
 * Standard, 2.4.22 Internal, 2.4.2 All, 2.4.29 NetworkOpen, 2.4.37.2
 * Rename for SMB2, 2.4.11 Disposition, 2.4.13 EndOfFile, the one-field
 * Ea/Access/Position/Mode/Alignment, AttributeTag, Compression, Stream)
 * and file system classes (MS-FSCC 2.5: Volume, Size, Device, Attribute,
 * FullSize, SectorSize). Decoders need the fixed size (extra bytes are
 * ignored); encoders write the layout. */
#include "smb2/io_int.h"

/* ---- shared pieces ---- */

static void rd_basic(smbx__rd *r, smbx_smb2_file_basic_info *b)
{
  b->creation_time = smbx__rd_u64(r);
  b->last_access_time = smbx__rd_u64(r);
  b->last_write_time = smbx__rd_u64(r);
  b->change_time = smbx__rd_u64(r);
  b->file_attributes = smbx__rd_u32(r);
  b->reserved = smbx__rd_u32(r);
}

static void wr_basic(smbx__wr *w, const smbx_smb2_file_basic_info *b)
{
  smbx__wr_u64(w, b->creation_time);
  smbx__wr_u64(w, b->last_access_time);
  smbx__wr_u64(w, b->last_write_time);
  smbx__wr_u64(w, b->change_time);
  smbx__wr_u32(w, b->file_attributes);
  smbx__wr_u32(w, b->reserved);
}

static void rd_standard(smbx__rd *r, smbx_smb2_file_standard_info *s)
{
  s->allocation_size = smbx__rd_u64(r);
  s->end_of_file = smbx__rd_u64(r);
  s->number_of_links = smbx__rd_u32(r);
  s->delete_pending = smbx__rd_u8(r);
  s->directory = smbx__rd_u8(r);
  s->reserved = smbx__rd_u16(r);
}

static void wr_standard(smbx__wr *w, const smbx_smb2_file_standard_info *s)
{
  smbx__wr_u64(w, s->allocation_size);
  smbx__wr_u64(w, s->end_of_file);
  smbx__wr_u32(w, s->number_of_links);
  smbx__wr_u8(w, s->delete_pending);
  smbx__wr_u8(w, s->directory);
  smbx__wr_u16(w, s->reserved);
}

/* Encoder prologue for a fixed total: NULL checks, needed, capacity. */
static int enc_start(const void *in, const uint8_t *buf, size_t cap,
                     size_t total, size_t *needed)
{
  if (!in || (!buf && cap))
    return SMBX_ERR_INVAL;
  if (needed)
    *needed = total;
  return cap < total ? SMBX_ERR_NOBUF : 0;
}

/* A UTF-16 name behind a u32 FileNameLength at `len_at`, starting at
 * `name_at` (MS-FSCC: even byte length, inside the buffer). */
static int rd_name(const uint8_t *p, size_t len, size_t len_at, size_t name_at,
                   smbx_smb2_bytes *name, smbx_error_detail *err,
                   const char *odd, const char *past)
{
  uint32_t n = smbx__get_le32(p + len_at);
  if (n % 2 != 0)
    return smbx__smb2_fail(err, odd, len_at);
  if (n > len - name_at)
    return smbx__smb2_fail(err, past, len_at);
  name->p = n ? p + name_at : NULL;
  name->len = n;
  return 0;
}

static int name_range(smbx_smb2_bytes name)
{
  if (!smbx__io_view_ok(name))
    return SMBX_ERR_INVAL;
  if (name.len % 2 != 0 || name.len > UINT32_MAX - 128)
    return SMBX_ERR_RANGE;
  return 0;
}

#define DECODE_PROLOGUE(p, len, out)                                          \
  do {                                                                        \
    if (!(out) || (!(p) && (len)))                                            \
      return SMBX_ERR_INVAL;                                                  \
  } while (0)

/* ---- FileBasicInformation (4): 40 bytes ---- */

int smbx_smb2_file_basic_info_decode(const uint8_t *p, size_t len,
                                     smbx_smb2_file_basic_info *out,
                                     smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  smbx__rd r = smbx__rd_make(p, len);
  rd_basic(&r, out);
  if (r.bad)
    return smbx__smb2_fail(err, "basic info: shorter than 40 bytes", len);
  return 0;
}

smbx_ssize smbx_smb2_file_basic_info_encode(const smbx_smb2_file_basic_info *in,
                                            uint8_t *buf, size_t cap,
                                            size_t *needed)
{
  int rc = enc_start(in, buf, cap, 40, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  wr_basic(&w, in);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileStandardInformation (5): 24 bytes ---- */

int smbx_smb2_file_standard_info_decode(const uint8_t *p, size_t len,
                                        smbx_smb2_file_standard_info *out,
                                        smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  smbx__rd r = smbx__rd_make(p, len);
  rd_standard(&r, out);
  if (r.bad)
    return smbx__smb2_fail(err, "standard info: shorter than 24 bytes", len);
  return 0;
}

smbx_ssize smbx_smb2_file_standard_info_encode(
    const smbx_smb2_file_standard_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 24, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  wr_standard(&w, in);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileInternalInformation (6): 8 bytes ---- */

int smbx_smb2_file_internal_info_decode(const uint8_t *p, size_t len,
                                        smbx_smb2_file_internal_info *out,
                                        smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 8)
    return smbx__smb2_fail(err, "internal info: shorter than 8 bytes", len);
  out->index_number = smbx__get_le64(p);
  return 0;
}

smbx_ssize smbx_smb2_file_internal_info_encode(
    const smbx_smb2_file_internal_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 8, needed);
  if (rc)
    return rc;
  smbx__put_le64(buf, in->index_number);
  return 8;
}

/* ---- FileAllInformation (18): 100 bytes + FileName ---- */

int smbx_smb2_file_all_info_decode(const uint8_t *p, size_t len,
                                   smbx_smb2_file_all_info *out,
                                   smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  smbx__rd r = smbx__rd_make(p, len);
  rd_basic(&r, &out->basic);               /* @0 */
  rd_standard(&r, &out->standard);         /* @40 */
  out->index_number = smbx__rd_u64(&r);    /* @64 */
  out->ea_size = smbx__rd_u32(&r);         /* @72 */
  out->access_flags = smbx__rd_u32(&r);    /* @76 */
  out->current_byte_offset = smbx__rd_u64(&r); /* @80 */
  out->mode = smbx__rd_u32(&r);            /* @88 */
  out->alignment_requirement = smbx__rd_u32(&r); /* @92 */
  smbx__rd_skip(&r, 4);                    /* @96 FileNameLength */
  if (r.bad)
    return smbx__smb2_fail(err, "all info: shorter than 100 bytes", len);
  return rd_name(p, len, 96, 100, &out->file_name, err,
                 "all info: odd FileNameLength",
                 "all info: FileName past end");
}

smbx_ssize smbx_smb2_file_all_info_encode(const smbx_smb2_file_all_info *in,
                                          uint8_t *buf, size_t cap,
                                          size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  int rc = name_range(in->file_name);
  if (rc)
    return rc;
  rc = enc_start(in, buf, cap, 100 + in->file_name.len, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  wr_basic(&w, &in->basic);
  wr_standard(&w, &in->standard);
  smbx__wr_u64(&w, in->index_number);
  smbx__wr_u32(&w, in->ea_size);
  smbx__wr_u32(&w, in->access_flags);
  smbx__wr_u64(&w, in->current_byte_offset);
  smbx__wr_u32(&w, in->mode);
  smbx__wr_u32(&w, in->alignment_requirement);
  smbx__wr_u32(&w, (uint32_t)in->file_name.len);
  smbx__wr_bytes(&w, in->file_name.p, in->file_name.len);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileNetworkOpenInformation (34): 56 bytes ---- */

int smbx_smb2_file_network_open_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_network_open_info *out,
    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  smbx__rd r = smbx__rd_make(p, len);
  SMBX__SMB2_RD_NETOPEN(&r, out);
  out->reserved = smbx__rd_u32(&r);
  if (r.bad)
    return smbx__smb2_fail(err, "network open info: shorter than 56 bytes",
                           len);
  return 0;
}

smbx_ssize smbx_smb2_file_network_open_info_encode(
    const smbx_smb2_file_network_open_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 56, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  SMBX__SMB2_WR_NETOPEN(&w, in);
  smbx__wr_u32(&w, in->reserved);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileRenameInformation, SMB2 form (10): 20 bytes + FileName ---- */

int smbx_smb2_file_rename_info_decode(const uint8_t *p, size_t len,
                                      smbx_smb2_file_rename_info *out,
                                      smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 20)
    return smbx__smb2_fail(err, "rename info: shorter than 20 bytes", len);
  out->replace_if_exists = p[0]; /* @1 Reserved[7] ignored */
  out->root_directory = smbx__get_le64(p + 8);
  return rd_name(p, len, 16, 20, &out->file_name, err,
                 "rename info: odd FileNameLength",
                 "rename info: FileName past end");
}

smbx_ssize smbx_smb2_file_rename_info_encode(
    const smbx_smb2_file_rename_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  int rc = name_range(in->file_name);
  if (rc)
    return rc;
  rc = enc_start(in, buf, cap, 20 + in->file_name.len, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u8(&w, in->replace_if_exists);
  smbx__wr_zero(&w, 7);
  smbx__wr_u64(&w, in->root_directory);
  smbx__wr_u32(&w, (uint32_t)in->file_name.len);
  smbx__wr_bytes(&w, in->file_name.p, in->file_name.len);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileDispositionInformation (13): 1 byte ---- */

int smbx_smb2_file_disposition_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_disposition_info *out,
    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 1)
    return smbx__smb2_fail(err, "disposition info: empty", 0);
  out->delete_pending = p[0];
  return 0;
}

smbx_ssize smbx_smb2_file_disposition_info_encode(
    const smbx_smb2_file_disposition_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 1, needed);
  if (rc)
    return rc;
  buf[0] = in->delete_pending;
  return 1;
}

/* ---- FileEndOfFileInformation (20): 8 bytes ---- */

int smbx_smb2_file_end_of_file_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_end_of_file_info *out,
    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 8)
    return smbx__smb2_fail(err, "end-of-file info: shorter than 8 bytes",
                           len);
  out->end_of_file = smbx__get_le64(p);
  return 0;
}

smbx_ssize smbx_smb2_file_end_of_file_info_encode(
    const smbx_smb2_file_end_of_file_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 8, needed);
  if (rc)
    return rc;
  smbx__put_le64(buf, in->end_of_file);
  return 8;
}

/* ---- one-field classes: FileEaInformation (7), FileAccessInformation (8),
 * FilePositionInformation (14), FileModeInformation (16),
 * FileAlignmentInformation (17) (MS-FSCC 2.4.13, 2.4.1, 2.4.35, 2.4.26,
 * 2.4.3) ---- */

/* One little-endian field of n (4 or 8) bytes at p. */
static int dec_field(const uint8_t *p, size_t len, size_t n, uint64_t *v,
                     smbx_error_detail *err, const char *why)
{
  if (len < n)
    return smbx__smb2_fail(err, why, len);
  *v = n == 8 ? smbx__get_le64(p) : smbx__get_le32(p);
  return 0;
}

static smbx_ssize enc_field(const void *in, uint64_t v, size_t n, uint8_t *buf,
                            size_t cap, size_t *needed)
{
  int rc = enc_start(in, buf, cap, n, needed);
  if (rc)
    return rc;
  if (n == 8)
    smbx__put_le64(buf, v);
  else
    smbx__put_le32(buf, (uint32_t)v);
  return (smbx_ssize)n;
}

int smbx_smb2_file_ea_info_decode(const uint8_t *p, size_t len,
                                  smbx_smb2_file_ea_info *out,
                                  smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  uint64_t v = 0;
  int rc = dec_field(p, len, 4, &v, err, "ea info: shorter than 4 bytes");
  if (!rc)
    out->ea_size = (uint32_t)v;
  return rc;
}

smbx_ssize smbx_smb2_file_ea_info_encode(const smbx_smb2_file_ea_info *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  return enc_field(in, in ? in->ea_size : 0, 4, buf, cap, needed);
}

int smbx_smb2_file_access_info_decode(const uint8_t *p, size_t len,
                                      smbx_smb2_file_access_info *out,
                                      smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  uint64_t v = 0;
  int rc = dec_field(p, len, 4, &v, err, "access info: shorter than 4 bytes");
  if (!rc)
    out->access_flags = (uint32_t)v;
  return rc;
}

smbx_ssize smbx_smb2_file_access_info_encode(
    const smbx_smb2_file_access_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  return enc_field(in, in ? in->access_flags : 0, 4, buf, cap, needed);
}

int smbx_smb2_file_position_info_decode(const uint8_t *p, size_t len,
                                        smbx_smb2_file_position_info *out,
                                        smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  uint64_t v = 0;
  int rc =
      dec_field(p, len, 8, &v, err, "position info: shorter than 8 bytes");
  if (!rc)
    out->current_byte_offset = v;
  return rc;
}

smbx_ssize smbx_smb2_file_position_info_encode(
    const smbx_smb2_file_position_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  return enc_field(in, in ? in->current_byte_offset : 0, 8, buf, cap, needed);
}

int smbx_smb2_file_mode_info_decode(const uint8_t *p, size_t len,
                                    smbx_smb2_file_mode_info *out,
                                    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  uint64_t v = 0;
  int rc = dec_field(p, len, 4, &v, err, "mode info: shorter than 4 bytes");
  if (!rc)
    out->mode = (uint32_t)v;
  return rc;
}

smbx_ssize smbx_smb2_file_mode_info_encode(const smbx_smb2_file_mode_info *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed)
{
  return enc_field(in, in ? in->mode : 0, 4, buf, cap, needed);
}

int smbx_smb2_file_alignment_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_file_alignment_info *out,
                                         smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  uint64_t v = 0;
  int rc =
      dec_field(p, len, 4, &v, err, "alignment info: shorter than 4 bytes");
  if (!rc)
    out->alignment_requirement = (uint32_t)v;
  return rc;
}

smbx_ssize smbx_smb2_file_alignment_info_encode(
    const smbx_smb2_file_alignment_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  return enc_field(in, in ? in->alignment_requirement : 0, 4, buf, cap,
                   needed);
}

/* ---- FileAttributeTagInformation (35): 8 bytes (MS-FSCC 2.4.6) ---- */

int smbx_smb2_file_attribute_tag_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_attribute_tag_info *out,
    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 8)
    return smbx__smb2_fail(err, "attribute tag info: shorter than 8 bytes",
                           len);
  out->file_attributes = smbx__get_le32(p);
  out->reparse_tag = smbx__get_le32(p + 4);
  return 0;
}

smbx_ssize smbx_smb2_file_attribute_tag_info_encode(
    const smbx_smb2_file_attribute_tag_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 8, needed);
  if (rc)
    return rc;
  smbx__put_le32(buf, in->file_attributes);
  smbx__put_le32(buf + 4, in->reparse_tag);
  return 8;
}

/* ---- FileCompressionInformation (28): 16 bytes (MS-FSCC 2.4.9) ---- */

int smbx_smb2_file_compression_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_compression_info *out,
    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  smbx__rd r = smbx__rd_make(p, len);
  out->compressed_file_size = smbx__rd_u64(&r);
  out->compression_format = smbx__rd_u16(&r);
  out->compression_unit_shift = smbx__rd_u8(&r);
  out->chunk_shift = smbx__rd_u8(&r);
  out->cluster_shift = smbx__rd_u8(&r);
  smbx__rd_skip(&r, 3); /* Reserved */
  if (r.bad)
    return smbx__smb2_fail(err, "compression info: shorter than 16 bytes",
                           len);
  return 0;
}

smbx_ssize smbx_smb2_file_compression_info_encode(
    const smbx_smb2_file_compression_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 16, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u64(&w, in->compressed_file_size);
  smbx__wr_u16(&w, in->compression_format);
  smbx__wr_u8(&w, in->compression_unit_shift);
  smbx__wr_u8(&w, in->chunk_shift);
  smbx__wr_u8(&w, in->cluster_shift);
  smbx__wr_zero(&w, 3);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileStreamInformation (22): entries of 24 bytes + StreamName, each
 * at an 8-byte boundary (MS-FSCC 2.4.43) ---- */

int smbx_smb2_file_stream_info_next(const uint8_t *p, size_t len, size_t *pos,
                                    smbx_smb2_file_stream_entry *e,
                                    smbx_error_detail *err)
{
  if (!pos || !e || (!p && len))
    return SMBX_ERR_INVAL;
  size_t at = *pos;
  if (at >= len)
    return 0;
  if (len - at < 24)
    return smbx__smb2_fail(err, "stream info: entry shorter than 24 bytes",
                           at);
  const uint8_t *q = p + at;
  uint32_t next = smbx__get_le32(q);
  uint32_t nlen = smbx__get_le32(q + 4);
  if (nlen % 2 != 0)
    return smbx__smb2_fail(err, "stream info: odd StreamNameLength", at + 4);
  if (nlen > len - at - 24)
    return smbx__smb2_fail(err, "stream info: StreamName past end", at + 4);
  if (next != 0 && (next % 8 != 0 || next < 24 + (uint64_t)nlen ||
                    next >= len - at))
    return smbx__smb2_fail(err, "stream info: bad NextEntryOffset", at);
  e->next_entry_offset = next;
  e->stream_size = smbx__get_le64(q + 8);
  e->stream_allocation_size = smbx__get_le64(q + 16);
  e->stream_name.p = nlen ? q + 24 : NULL;
  e->stream_name.len = nlen;
  *pos = next ? at + next : len;
  return 1;
}

smbx_ssize smbx_smb2_file_stream_info_encode(
    const smbx_smb2_file_stream_entry *e, size_t n, uint8_t *buf, size_t cap,
    size_t *needed)
{
  if (!e || n == 0)
    return SMBX_ERR_INVAL;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = name_range(e[i].stream_name);
    if (rc)
      return rc;
    if (i)
      total += smbx__io_pad8(total);
    total += 24 + e[i].stream_name.len;
  }
  int rc = enc_start(e, buf, cap, total, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  for (size_t i = 0; i < n; i++) {
    size_t here = 24 + e[i].stream_name.len;
    size_t next = i + 1 < n ? here + smbx__io_pad8(here) : 0;
    smbx__wr_u32(&w, (uint32_t)next);
    smbx__wr_u32(&w, (uint32_t)e[i].stream_name.len);
    smbx__wr_u64(&w, e[i].stream_size);
    smbx__wr_u64(&w, e[i].stream_allocation_size);
    smbx__wr_bytes(&w, e[i].stream_name.p, e[i].stream_name.len);
    if (next)
      smbx__wr_zero(&w, next - here);
  }
  return smbx__smb2_enc_done(&w);
}

/* ---- FileFsVolumeInformation (1): 18 bytes + VolumeLabel (MS-FSCC
 * 2.5.9) ---- */

int smbx_smb2_fs_volume_info_decode(const uint8_t *p, size_t len,
                                    smbx_smb2_fs_volume_info *out,
                                    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 18)
    return smbx__smb2_fail(err, "fs volume info: shorter than 18 bytes", len);
  out->volume_creation_time = smbx__get_le64(p);
  out->volume_serial_number = smbx__get_le32(p + 8);
  out->supports_objects = p[16];
  return rd_name(p, len, 12, 18, &out->volume_label, err,
                 "fs volume info: odd VolumeLabelLength",
                 "fs volume info: VolumeLabel past end");
}

smbx_ssize smbx_smb2_fs_volume_info_encode(const smbx_smb2_fs_volume_info *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  int rc = name_range(in->volume_label);
  if (rc)
    return rc;
  rc = enc_start(in, buf, cap, 18 + in->volume_label.len, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u64(&w, in->volume_creation_time);
  smbx__wr_u32(&w, in->volume_serial_number);
  smbx__wr_u32(&w, (uint32_t)in->volume_label.len);
  smbx__wr_u8(&w, in->supports_objects);
  smbx__wr_u8(&w, 0); /* Reserved */
  smbx__wr_bytes(&w, in->volume_label.p, in->volume_label.len);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileFsSizeInformation (3): 24 bytes (MS-FSCC 2.5.8) ---- */

int smbx_smb2_fs_size_info_decode(const uint8_t *p, size_t len,
                                  smbx_smb2_fs_size_info *out,
                                  smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 24)
    return smbx__smb2_fail(err, "fs size info: shorter than 24 bytes", len);
  out->total_allocation_units = smbx__get_le64(p);
  out->available_allocation_units = smbx__get_le64(p + 8);
  out->sectors_per_allocation_unit = smbx__get_le32(p + 16);
  out->bytes_per_sector = smbx__get_le32(p + 20);
  return 0;
}

smbx_ssize smbx_smb2_fs_size_info_encode(const smbx_smb2_fs_size_info *in,
                                         uint8_t *buf, size_t cap,
                                         size_t *needed)
{
  int rc = enc_start(in, buf, cap, 24, needed);
  if (rc)
    return rc;
  smbx__put_le64(buf, in->total_allocation_units);
  smbx__put_le64(buf + 8, in->available_allocation_units);
  smbx__put_le32(buf + 16, in->sectors_per_allocation_unit);
  smbx__put_le32(buf + 20, in->bytes_per_sector);
  return 24;
}

/* ---- FileFsDeviceInformation (4): 8 bytes (MS-FSCC 2.5.10) ---- */

int smbx_smb2_fs_device_info_decode(const uint8_t *p, size_t len,
                                    smbx_smb2_fs_device_info *out,
                                    smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 8)
    return smbx__smb2_fail(err, "fs device info: shorter than 8 bytes", len);
  out->device_type = smbx__get_le32(p);
  out->characteristics = smbx__get_le32(p + 4);
  return 0;
}

smbx_ssize smbx_smb2_fs_device_info_encode(const smbx_smb2_fs_device_info *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed)
{
  int rc = enc_start(in, buf, cap, 8, needed);
  if (rc)
    return rc;
  smbx__put_le32(buf, in->device_type);
  smbx__put_le32(buf + 4, in->characteristics);
  return 8;
}

/* ---- FileFsAttributeInformation (5): 12 bytes + FileSystemName (MS-FSCC
 * 2.5.1) ---- */

int smbx_smb2_fs_attribute_info_decode(const uint8_t *p, size_t len,
                                       smbx_smb2_fs_attribute_info *out,
                                       smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 12)
    return smbx__smb2_fail(err, "fs attribute info: shorter than 12 bytes",
                           len);
  out->file_system_attributes = smbx__get_le32(p);
  out->maximum_component_name_length = smbx__get_le32(p + 4);
  return rd_name(p, len, 8, 12, &out->file_system_name, err,
                 "fs attribute info: odd FileSystemNameLength",
                 "fs attribute info: FileSystemName past end");
}

smbx_ssize smbx_smb2_fs_attribute_info_encode(
    const smbx_smb2_fs_attribute_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  if (!in)
    return SMBX_ERR_INVAL;
  int rc = name_range(in->file_system_name);
  if (rc)
    return rc;
  rc = enc_start(in, buf, cap, 12 + in->file_system_name.len, needed);
  if (rc)
    return rc;
  smbx__wr w = smbx__wr_make(buf, cap);
  smbx__wr_u32(&w, in->file_system_attributes);
  smbx__wr_u32(&w, in->maximum_component_name_length);
  smbx__wr_u32(&w, (uint32_t)in->file_system_name.len);
  smbx__wr_bytes(&w, in->file_system_name.p, in->file_system_name.len);
  return smbx__smb2_enc_done(&w);
}

/* ---- FileFsFullSizeInformation (7): 32 bytes (MS-FSCC 2.5.4) ---- */

int smbx_smb2_fs_full_size_info_decode(const uint8_t *p, size_t len,
                                       smbx_smb2_fs_full_size_info *out,
                                       smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 32)
    return smbx__smb2_fail(err, "fs full size info: shorter than 32 bytes",
                           len);
  out->total_allocation_units = smbx__get_le64(p);
  out->caller_available_allocation_units = smbx__get_le64(p + 8);
  out->actual_available_allocation_units = smbx__get_le64(p + 16);
  out->sectors_per_allocation_unit = smbx__get_le32(p + 24);
  out->bytes_per_sector = smbx__get_le32(p + 28);
  return 0;
}

smbx_ssize smbx_smb2_fs_full_size_info_encode(
    const smbx_smb2_fs_full_size_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 32, needed);
  if (rc)
    return rc;
  smbx__put_le64(buf, in->total_allocation_units);
  smbx__put_le64(buf + 8, in->caller_available_allocation_units);
  smbx__put_le64(buf + 16, in->actual_available_allocation_units);
  smbx__put_le32(buf + 24, in->sectors_per_allocation_unit);
  smbx__put_le32(buf + 28, in->bytes_per_sector);
  return 32;
}

/* ---- FileFsSectorSizeInformation (11): 28 bytes (MS-FSCC 2.5.7) ---- */

int smbx_smb2_fs_sector_size_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_sector_size_info *out,
                                         smbx_error_detail *err)
{
  DECODE_PROLOGUE(p, len, out);
  if (len < 28)
    return smbx__smb2_fail(err, "fs sector size info: shorter than 28 bytes",
                           len);
  out->logical_bytes_per_sector = smbx__get_le32(p);
  out->physical_bytes_per_sector_for_atomicity = smbx__get_le32(p + 4);
  out->physical_bytes_per_sector_for_performance = smbx__get_le32(p + 8);
  out->effective_physical_bytes_per_sector_for_atomicity =
      smbx__get_le32(p + 12);
  out->flags = smbx__get_le32(p + 16);
  out->byte_offset_for_sector_alignment = smbx__get_le32(p + 20);
  out->byte_offset_for_partition_alignment = smbx__get_le32(p + 24);
  return 0;
}

smbx_ssize smbx_smb2_fs_sector_size_info_encode(
    const smbx_smb2_fs_sector_size_info *in, uint8_t *buf, size_t cap,
    size_t *needed)
{
  int rc = enc_start(in, buf, cap, 28, needed);
  if (rc)
    return rc;
  smbx__put_le32(buf, in->logical_bytes_per_sector);
  smbx__put_le32(buf + 4, in->physical_bytes_per_sector_for_atomicity);
  smbx__put_le32(buf + 8, in->physical_bytes_per_sector_for_performance);
  smbx__put_le32(buf + 12,
                 in->effective_physical_bytes_per_sector_for_atomicity);
  smbx__put_le32(buf + 16, in->flags);
  smbx__put_le32(buf + 20, in->byte_offset_for_sector_alignment);
  smbx__put_le32(buf + 24, in->byte_offset_for_partition_alignment);
  return 28;
}
