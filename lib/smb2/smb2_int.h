/* SPDX-License-Identifier: MIT */
/* lib/smb2 internals shared by the command files (rank 1).
 *
 * Every command decoder starts with smbx__smb2_begin() (header + the
 * command's StructureSize + body >= SS & ~1, the "table pass"), reads the
 * fixed part through one cursor over the whole PDU (so r.off is the
 * header-relative offset used in error details), then validates each data
 * area with smbx__smb2_area(). Encoders compute the total size first,
 * call smbx__smb2_enc_start() (NULL checks, *needed, NOBUF) and then write
 * with a cursor that cannot overrun. */
#ifndef SMBX_SMB2_INT_H
#define SMBX_SMB2_INT_H

#include <stdbool.h>

#include <smbx/smb2.h>

#include "core/cursor.h"

/* Sets err (optional) and returns SMBX_ERR_DECODE. */
int smbx__smb2_fail(smbx_error_detail *err, const char *reason, size_t off);

/* Header checks shared by every decoder (smb2.md 2.1): len >= 64,
 * ProtocolId FE 'SMB', header SS 64, AsyncId != 0 when ASYNC. Inline:
 * every PDU passes here once per decoder. */
static inline int smbx__smb2_hdr_check(const uint8_t *pdu, size_t len,
                                       smbx_error_detail *err)
{
  /* [MS-SMB2] 2.2.1; 3.3.5.2.6: a message < 64 bytes is dropped */
  if (len < SMBX_SMB2_HDR_SIZE)
    return smbx__smb2_fail(err, "smb2 header: shorter than 64 bytes", len);
  if (smbx__get_le32(pdu) != SMBX_SMB2_PROTOCOL_ID)
    return smbx__smb2_fail(err, "smb2 header: ProtocolId is not FE 'SMB'", 0);
  if (smbx__get_le16(pdu + 4) != 64)
    return smbx__smb2_fail(err, "smb2 header: StructureSize is not 64", 4);
  /* 2.2.1.1: AsyncId is a non-zero server-assigned value (smb2.md 6.3) */
  if ((smbx__get_le32(pdu + 16) & SMBX_SMB2_FLAGS_ASYNC_COMMAND) &&
      smbx__get_le64(pdu + 32) == 0)
    return smbx__smb2_fail(err, "smb2 header: ASYNC with AsyncId 0", 32);
  return 0;
}

/* The checks smbx__smb2_begin() makes, inline for the data path's
 * decoders (READ, WRITE) that then load their fixed part at fixed
 * offsets without a cursor. */
static inline int smbx__smb2_begin_checks(const uint8_t *pdu, size_t len,
                                          const void *out, uint16_t cmd,
                                          uint16_t ss, smbx_error_detail *err)
{
  if ((!pdu && len) || !out)
    return SMBX_ERR_INVAL;
  int rc = smbx__smb2_hdr_check(pdu, len, err);
  if (rc)
    return rc;
  if (smbx__get_le16(pdu + 12) != cmd)
    return smbx__smb2_fail(err, "smb2: Command does not match the decoder",
                           12);
  if (len < SMBX_SMB2_HDR_SIZE + 2)
    return smbx__smb2_fail(err, "smb2 body: missing StructureSize", 64);
  /* smb2.md sec. 0 and 3: SS fixed per command */
  if (smbx__get_le16(pdu + 64) != ss)
    return smbx__smb2_fail(err, "smb2 body: wrong StructureSize", 64);
  /* body >= SS & ~1: a byte counted by an odd SS may be absent */
  if (len - 64 < (size_t)(ss & ~1u))
    return smbx__smb2_fail(err, "smb2 body: shorter than StructureSize",
                           len);
  /* bytes after the body are not checked: servers (Windows, Samba) pad
   * the last member of a compounded response to 8 */
  return 0;
}

/* Start of a command decoder: NULL checks (SMBX_ERR_INVAL when pdu is NULL
 * with len > 0 or out is NULL), header checks, Command == cmd, body SS ==
 * ss, body >= ss & ~1 (smb2.md sec. 0). On success *r is a cursor over the
 * whole PDU positioned at @66 (after the body StructureSize). */
int smbx__smb2_begin(const uint8_t *pdu, size_t len, const void *out,
                     uint16_t cmd, uint16_t ss, smbx__rd *r,
                     smbx_error_detail *err);

/* The data-area rule every command shares (smb2.md sec. 0, case 27):
 * n == 0 -> empty view, offset ignored; else off != 0, off >= fixed_end
 * (64 + SS & ~1: not into the header or the fixed body) and off + n <= len
 * computed in 64 bits. `field_off` is the header-relative offset of the
 * Offset field, reported on failure. */
int smbx__smb2_area(const uint8_t *pdu, size_t len, size_t fixed_end,
                    uint64_t off, uint64_t n, smbx_smb2_bytes *out,
                    smbx_error_detail *err, size_t field_off);

/* True when two non-empty header-relative ranges intersect (case 28). */
bool smbx__smb2_overlap(uint64_t a_off, uint64_t a_len, uint64_t b_off,
                        uint64_t b_len);

/* Encoder start: SMBX_ERR_INVAL for NULL h/in or NULL buf with cap > 0;
 * stores total in *needed (optional); SMBX_ERR_NOBUF when cap < total;
 * else 0. */
int smbx__smb2_enc_start(const void *h, const void *in,
                         const uint8_t *buf, size_t cap, size_t total,
                         size_t *needed);

/* Writes the 64-byte header (SS 64, Command = cmd, the rest from h). */
void smbx__smb2_put_hdr(smbx__wr *w, const smbx_smb2_hdr *h, uint16_t cmd);

/* The OPLOCK_BREAK bodies (from StructureSize on, no header) of a lease
 * break notification (44 bytes) and an oplock break (24): the encoders
 * write them after the header, the server lease manager alone into its
 * events. */
#define SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN 44u
/* The lease break body at q (44 bytes the caller has): fixed offsets
 * (2.2.23.2), inline so the lease manager's event fill is plain stores. */
static inline void smbx__smb2_put_lease_break_notify(
    uint8_t q[SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN],
    const smbx_smb2_lease_break_notify *in)
{
  smbx__put_le16(q, SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN);
  smbx__put_le16(q + 2, in->new_epoch);
  smbx__put_le32(q + 4, in->flags);
  memcpy(q + 8, in->lease_key, 16);
  smbx__put_le32(q + 24, in->current_state);
  smbx__put_le32(q + 28, in->new_state);
  smbx__put_le32(q + 32, in->break_reason);
  smbx__put_le32(q + 36, in->access_mask_hint);
  smbx__put_le32(q + 40, in->share_mask_hint);
}
void smbx__smb2_put_oplock_break(smbx__wr *w,
                                 const smbx_smb2_oplock_break *in);

/* Returns w->off as smbx_ssize (the encoder checked capacity first). */
smbx_ssize smbx__smb2_enc_done(const smbx__wr *w);

/* Rounds up to a multiple of 8 (v < SIZE_MAX - 7 guaranteed by callers). */
static inline size_t smbx__smb2_pad8(size_t v)
{
  return (v + 7) & ~(size_t)7;
}

/* FileId helpers (16 bytes: persistent, volatile). */
static inline smbx_smb2_fileid smbx__smb2_rd_fileid(smbx__rd *r)
{
  smbx_smb2_fileid f;
  f.persistent_id = smbx__rd_u64(r);
  f.volatile_id = smbx__rd_u64(r);
  return f;
}

static inline void smbx__smb2_wr_fileid(smbx__wr *w, smbx_smb2_fileid f)
{
  smbx__wr_u64(w, f.persistent_id);
  smbx__wr_u64(w, f.volatile_id);
}

/* The network-open block shared by the CREATE and CLOSE responses
 * ([MS-SMB2] 2.2.14, 2.2.16) and FileNetworkOpenInformation (MS-FSCC
 * 2.4.29): four times, AllocationSize, EndOfFile, FileAttributes. `o` is
 * any struct with those member names; r/w are cursor pointers. */
#define SMBX__SMB2_RD_NETOPEN(r, o)                                           \
  do {                                                                        \
    (o)->creation_time = smbx__rd_u64(r);                                     \
    (o)->last_access_time = smbx__rd_u64(r);                                  \
    (o)->last_write_time = smbx__rd_u64(r);                                   \
    (o)->change_time = smbx__rd_u64(r);                                       \
    (o)->allocation_size = smbx__rd_u64(r);                                   \
    (o)->end_of_file = smbx__rd_u64(r);                                       \
    (o)->file_attributes = smbx__rd_u32(r);                                   \
  } while (0)

#define SMBX__SMB2_WR_NETOPEN(w, o)                                           \
  do {                                                                        \
    smbx__wr_u64(w, (o)->creation_time);                                      \
    smbx__wr_u64(w, (o)->last_access_time);                                   \
    smbx__wr_u64(w, (o)->last_write_time);                                    \
    smbx__wr_u64(w, (o)->change_time);                                        \
    smbx__wr_u64(w, (o)->allocation_size);                                    \
    smbx__wr_u64(w, (o)->end_of_file);                                        \
    smbx__wr_u32(w, (o)->file_attributes);                                    \
  } while (0)

#endif
