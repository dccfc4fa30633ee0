/* SPDX-License-Identifier: MIT */
/* File information classes of smb2.md 4.12 (MS-FSCC 2.4.7 Basic, 2.4.41
 * Standard, 2.4.22 Internal, 2.4.2 All, 2.4.29 NetworkOpen, 2.4.37.2
 * Rename for SMB2, 2.4.11 Disposition, 2.4.13 EndOfFile). Decoders need
 * the fixed size (extra bytes are ignored); encoders write the layout. */
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
