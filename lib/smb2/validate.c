/* SPDX-License-Identifier: MIT */
/* The table pass (STYLE.md sec. 4.3): StructureSize per command and
 * direction, the shared data-area rule, and the encoder preamble. */
#include "smb2/smb2_int.h"
#include "smb2/validate.h"

/* smb2.md sec. 3: request / response StructureSize (0 = none). */
static const uint16_t ss_table[SMBX_SMB2_COMMAND_COUNT][2] = {
  [SMBX_SMB2_NEGOTIATE] = {36, 65},
  [SMBX_SMB2_SESSION_SETUP] = {25, 9},
  [SMBX_SMB2_LOGOFF] = {4, 4},
  [SMBX_SMB2_TREE_CONNECT] = {9, 16},
  [SMBX_SMB2_TREE_DISCONNECT] = {4, 4},
  [SMBX_SMB2_CREATE] = {57, 89},
  [SMBX_SMB2_CLOSE] = {24, 60},
  [SMBX_SMB2_FLUSH] = {24, 4},
  [SMBX_SMB2_READ] = {49, 17},
  [SMBX_SMB2_WRITE] = {49, 17},
  [SMBX_SMB2_LOCK] = {48, 4},
  [SMBX_SMB2_IOCTL] = {57, 49},
  [SMBX_SMB2_CANCEL] = {4, 0},
  [SMBX_SMB2_ECHO] = {4, 4},
  [SMBX_SMB2_QUERY_DIRECTORY] = {33, 9},
  [SMBX_SMB2_CHANGE_NOTIFY] = {32, 9},
  [SMBX_SMB2_QUERY_INFO] = {41, 9},
  [SMBX_SMB2_SET_INFO] = {33, 2},
  [SMBX_SMB2_OPLOCK_BREAK] = {24, 24},
};

uint16_t smbx_smb2_structure_size(uint16_t command, int response)
{
  if (command >= SMBX_SMB2_COMMAND_COUNT)
    return 0;
  return ss_table[command][response ? 1 : 0];
}

int smbx__smb2_fail(smbx_error_detail *err, const char *reason, size_t off)
{
  if (err) {
    err->reason = reason;
    err->offset = off;
  }
  return SMBX_ERR_DECODE;
}

int smbx__smb2_begin(const uint8_t *pdu, size_t len, const void *out,
                     uint16_t cmd, uint16_t ss, smbx__rd *r,
                     smbx_error_detail *err)
{
  int rc = smbx__smb2_begin_checks(pdu, len, out, cmd, ss, err);
  if (rc)
    return rc;
  *r = smbx__rd_make(pdu, len);
  smbx__rd_seek(r, 66);
  return 0;
}

int smbx__smb2_area(const uint8_t *pdu, size_t len, size_t fixed_end,
                    uint64_t off, uint64_t n, smbx_smb2_bytes *out,
                    smbx_error_detail *err, size_t field_off)
{
  out->p = NULL;
  out->len = 0;
  /* an empty area may carry any offset: Windows and Samba send the
   * canonical offset with length 0, some clients (and READ/WRITE on RDMA
   * channels) send offset 0 */
  if (n == 0)
    return 0;
  /* smb2.md sec. 0 / case 27: offsets are header-relative, never 0 */
  if (off == 0)
    return smbx__smb2_fail(err, "smb2 body: offset 0 with non-zero length",
                           field_off);
  if (off < fixed_end)
    return smbx__smb2_fail(err,
                           "smb2 body: offset into the header or fixed body",
                           field_off);
  if (off > len || n > (uint64_t)len - off)
    return smbx__smb2_fail(err, "smb2 body: data area past the end of the PDU",
                           field_off);
  out->p = pdu + off;
  out->len = (size_t)n;
  return 0;
}

bool smbx__smb2_overlap(uint64_t a_off, uint64_t a_len, uint64_t b_off,
                        uint64_t b_len)
{
  if (a_len == 0 || b_len == 0)
    return false;
  return a_off < b_off + b_len && b_off < a_off + a_len;
}

int smbx__smb2_enc_start(const void *h, const void *in,
                         const uint8_t *buf, size_t cap, size_t total,
                         size_t *needed)
{
  if (!h || !in || (!buf && cap))
    return SMBX_ERR_INVAL;
  if (needed)
    *needed = total;
  if (cap < total)
    return SMBX_ERR_NOBUF;
  return 0;
}

smbx_ssize smbx__smb2_enc_done(const smbx__wr *w)
{
  return (smbx_ssize)w->off;
}

int smbx_smb2_pdu_validate(const uint8_t *p, size_t len, smbx_smb2_hdr *h,
                           smbx_error_detail *err)
{
  if (!p && len)
    return SMBX_ERR_INVAL;
  smbx_smb2_hdr tmp;
  smbx_smb2_hdr *hh = h ? h : &tmp;
  int rc = smbx_smb2_hdr_decode(p, len, hh, err);
  if (rc)
    return rc;
  return smbx__smb2_pdu_check(p, len, hh, err);
}

int smbx__smb2_pdu_check(const uint8_t *p, size_t len, const smbx_smb2_hdr *hh,
                         smbx_error_detail *err)
{
  /* 3.3.5.2.6: unknown Command -> disconnect (decoder: error) */
  if (hh->command >= SMBX_SMB2_COMMAND_COUNT)
    return smbx__smb2_fail(err, "smb2 header: unknown Command", 12);
  int resp = (hh->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) != 0;
  if (hh->next_command) {
    /* smb2.md 6.2: NextCommand 8-aligned, >= 66, inside the message */
    if (hh->next_command % 8 != 0)
      return smbx__smb2_fail(err, "smb2 header: NextCommand not 8-aligned",
                             20);
    if (hh->next_command < 66)
      return smbx__smb2_fail(err, "smb2 header: NextCommand < 66", 20);
    if (hh->next_command > len)
      return smbx__smb2_fail(err, "smb2 header: NextCommand past the end",
                             20);
    len = hh->next_command;
  }
  if (len - 64 < 2)
    return smbx__smb2_fail(err, "smb2 body: missing StructureSize", 64);
  uint16_t ss = smbx__get_le16(p + 64);
  uint16_t want = ss_table[hh->command][resp]; /* Command checked above */
  bool ok = ss == want && want != 0;
  /* 2.2.2: any response may carry the ERROR body (SS 9) on failure, and
   * STATUS_PENDING interim responses use it too */
  if (resp && ss == 9 && hh->status != SMBX_STATUS_SUCCESS)
    ok = true;
  /* 2.2.23-2.2.25: OPLOCK_BREAK lease forms (leases.md 2.7) */
  if (hh->command == SMBX_SMB2_OPLOCK_BREAK && (ss == 36 || (resp && ss == 44)))
    ok = true;
  if (!ok)
    return smbx__smb2_fail(err, "smb2 body: wrong StructureSize", 64);
  /* body >= SS & ~1 (the ERROR quirk, 2.2.2: ByteCount 0 may omit its
   * counted byte, is covered by the & ~1) */
  if (len - 64 < (size_t)(ss & ~1u))
    return smbx__smb2_fail(err, "smb2 body: shorter than StructureSize",
                           len);
  return 0;
}
