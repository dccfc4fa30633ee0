/* SPDX-License-Identifier: MIT */
/* QUERY_DIRECTORY entries of the seven classes of smb2.md 4.10 (MS-FSCC
 * 2.4.10/.14/.8/.17/.18/.26/.20) and FILE_NOTIFY_INFORMATION chains (MS-FSCC
 * 2.7.1, smb2.md 4.11): iterators and builders. */
#include "smb2/io_int.h"

/* offset of FileName = fixed size per class (smb2.md 4.10 table) */
size_t smbx_smb2_dir_entry_fixed_size(uint8_t info_class)
{
  switch (info_class) {
  case SMBX_SMB2_FILE_DIRECTORY_INFORMATION: return 64;
  case SMBX_SMB2_FILE_FULL_DIRECTORY_INFORMATION: return 68;
  case SMBX_SMB2_FILE_BOTH_DIRECTORY_INFORMATION: return 94;
  case SMBX_SMB2_FILE_NAMES_INFORMATION: return 12;
  case SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION: return 104;
  case SMBX_SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION: return 80;
  case SMBX_SMB2_FILE_ID_EXTD_DIRECTORY_INFORMATION: return 88;
  default: return 0;
  }
}

int smbx_smb2_dir_iter_init(smbx_smb2_dir_iter *it, uint8_t info_class,
                            const uint8_t *buf, size_t len)
{
  if (!it || (!buf && len))
    return SMBX_ERR_INVAL;
  memset(it, 0, sizeof *it);
  if (smbx_smb2_dir_entry_fixed_size(info_class) == 0)
    return SMBX_ERR_UNSUPPORTED;
  it->buf = buf;
  it->len = len;
  it->info_class = info_class;
  return 0;
}

static int dir_fail(smbx_smb2_dir_iter *it, smbx_error_detail *err,
                    const char *reason, size_t off)
{
  it->done = 1;
  return smbx__smb2_fail(err, reason, off);
}

/* Reads the class-specific part of an entry whose fixed part is in
 * bounds (q points at the entry). */
static void read_dir_entry(uint8_t cls, const uint8_t *q,
                           smbx_smb2_dir_entry *e)
{
  e->next_entry_offset = smbx__get_le32(q);
  e->file_index = smbx__get_le32(q + 4);
  if (cls == SMBX_SMB2_FILE_NAMES_INFORMATION) {
    e->file_name.len = smbx__get_le32(q + 8);
    return;
  }
  e->creation_time = smbx__get_le64(q + 8);
  e->last_access_time = smbx__get_le64(q + 16);
  e->last_write_time = smbx__get_le64(q + 24);
  e->change_time = smbx__get_le64(q + 32);
  e->end_of_file = smbx__get_le64(q + 40);
  e->allocation_size = smbx__get_le64(q + 48);
  e->file_attributes = smbx__get_le32(q + 56);
  e->file_name.len = smbx__get_le32(q + 60);
  if (cls == SMBX_SMB2_FILE_DIRECTORY_INFORMATION)
    return;
  e->ea_size = smbx__get_le32(q + 64);
  switch (cls) {
  case SMBX_SMB2_FILE_BOTH_DIRECTORY_INFORMATION:
  case SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION:
    e->short_name.len = q[68]; /* <= 24 checked by the caller */
    e->short_name.p = q + 70;
    if (cls == SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION)
      e->file_id = smbx__get_le64(q + 96);
    break;
  case SMBX_SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION:
    e->file_id = smbx__get_le64(q + 72);
    break;
  case SMBX_SMB2_FILE_ID_EXTD_DIRECTORY_INFORMATION:
    e->reparse_tag = smbx__get_le32(q + 68);
    memcpy(e->file_id_128, q + 72, 16);
    break;
  default:
    break;
  }
}

int smbx_smb2_dir_iter_next(smbx_smb2_dir_iter *it, smbx_smb2_dir_entry *e,
                            smbx_error_detail *err)
{
  if (!it || !e)
    return SMBX_ERR_INVAL;
  if (it->done || it->pos >= it->len)
    return 0;
  size_t fixed = smbx_smb2_dir_entry_fixed_size(it->info_class);
  size_t pos = it->pos, left = it->len - pos;
  if (fixed == 0)
    return dir_fail(it, err, "dir entry: unsupported class", pos);
  /* STYLE 4.5: capped count; each entry is >= 12 bytes, so this only
   * trips on an iterator state that was tampered with */
  if (it->count > it->len / 8)
    return dir_fail(it, err, "dir entry: too many entries", pos);
  /* smb2.md 4.10: entries are 8-aligned */
  if (pos % 8 != 0)
    return dir_fail(it, err, "dir entry: not 8-aligned", pos);
  if (left < fixed)
    return dir_fail(it, err, "dir entry: fixed part past end", pos);
  memset(e, 0, sizeof *e);
  const uint8_t *q = it->buf + pos;
  read_dir_entry(it->info_class, q, e);
  size_t name_at_field =
      it->info_class == SMBX_SMB2_FILE_NAMES_INFORMATION ? 8 : 60;
  /* smb2.md 0: UTF-16 byte lengths are even */
  if (e->file_name.len % 2 != 0)
    return dir_fail(it, err, "dir entry: odd FileNameLength",
                    pos + name_at_field);
  uint32_t next = e->next_entry_offset;
  if (next) {
    /* STYLE 4.5: advance by at least the fixed size, stay aligned, stay in
     * bounds (the next entry must start before the end) */
    if (next % 8 != 0)
      return dir_fail(it, err, "dir entry: NextEntryOffset not 8-aligned",
                      pos);
    if (next >= left)
      return dir_fail(it, err, "dir entry: NextEntryOffset past end", pos);
    if (next < fixed)
      return dir_fail(it, err, "dir entry: NextEntryOffset < fixed size",
                      pos);
  }
  size_t room = next ? next : left; /* the entry ends at the next one */
  if (e->file_name.len > room - fixed)
    return dir_fail(it, err, "dir entry: FileName past entry",
                    pos + name_at_field);
  if (e->short_name.len > 24)
    return dir_fail(it, err, "dir entry: ShortNameLength > 24", pos + 68);
  e->file_name.p = e->file_name.len ? q + fixed : NULL;
  it->count++;
  if (next)
    it->pos = pos + next; /* > pos: next >= fixed + name > 0 */
  else
    it->done = 1;
  return 1;
}

int smbx_smb2_dir_builder_init(smbx_smb2_dir_builder *b, uint8_t info_class,
                               uint8_t *buf, size_t cap)
{
  if (!b || (!buf && cap))
    return SMBX_ERR_INVAL;
  memset(b, 0, sizeof *b);
  if (smbx_smb2_dir_entry_fixed_size(info_class) == 0)
    return SMBX_ERR_UNSUPPORTED;
  b->buf = buf;
  b->cap = cap;
  b->info_class = info_class;
  return 0;
}

static void write_dir_entry(uint8_t cls, smbx__wr *w,
                            const smbx_smb2_dir_entry *e)
{
  uint32_t name_len = (uint32_t)e->file_name.len; /* range-checked */
  smbx__wr_u32(w, 0); /* NextEntryOffset: patched by the next add */
  smbx__wr_u32(w, e->file_index);
  if (cls == SMBX_SMB2_FILE_NAMES_INFORMATION) {
    smbx__wr_u32(w, name_len);
    smbx__wr_bytes(w, e->file_name.p, e->file_name.len);
    return;
  }
  smbx__wr_u64(w, e->creation_time);
  smbx__wr_u64(w, e->last_access_time);
  smbx__wr_u64(w, e->last_write_time);
  smbx__wr_u64(w, e->change_time);
  smbx__wr_u64(w, e->end_of_file);
  smbx__wr_u64(w, e->allocation_size);
  smbx__wr_u32(w, e->file_attributes);
  smbx__wr_u32(w, name_len);
  switch (cls) {
  case SMBX_SMB2_FILE_FULL_DIRECTORY_INFORMATION:
    smbx__wr_u32(w, e->ea_size);
    break;
  case SMBX_SMB2_FILE_BOTH_DIRECTORY_INFORMATION:
  case SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION:
    smbx__wr_u32(w, e->ea_size);
    smbx__wr_u8(w, (uint8_t)e->short_name.len);
    smbx__wr_u8(w, 0); /* Reserved */
    smbx__wr_bytes(w, e->short_name.p, e->short_name.len);
    smbx__wr_zero(w, 24u - e->short_name.len);
    if (cls == SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION) {
      smbx__wr_u16(w, 0); /* Reserved2 */
      smbx__wr_u64(w, e->file_id);
    }
    break;
  case SMBX_SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION:
    smbx__wr_u32(w, e->ea_size);
    smbx__wr_u32(w, 0); /* Reserved */
    smbx__wr_u64(w, e->file_id);
    break;
  case SMBX_SMB2_FILE_ID_EXTD_DIRECTORY_INFORMATION:
    smbx__wr_u32(w, e->ea_size);
    smbx__wr_u32(w, e->reparse_tag);
    smbx__wr_bytes(w, e->file_id_128, 16);
    break;
  default:
    break;
  }
  smbx__wr_bytes(w, e->file_name.p, e->file_name.len);
}

int smbx_smb2_dir_builder_add(smbx_smb2_dir_builder *b,
                              const smbx_smb2_dir_entry *e)
{
  if (!b || !e || !smbx__io_view_ok(e->file_name) ||
      !smbx__io_view_ok(e->short_name) || b->len > b->cap ||
      (!b->buf && b->cap))
    return SMBX_ERR_INVAL;
  size_t fixed = smbx_smb2_dir_entry_fixed_size(b->info_class);
  if (fixed == 0)
    return SMBX_ERR_INVAL;
  /* smb2.md 0: even UTF-16 byte lengths; MS-FSCC: ShortName[24] */
  if (e->file_name.len % 2 != 0 || e->file_name.len > UINT32_MAX - 128 ||
      e->short_name.len > 24)
    return SMBX_ERR_RANGE;
  size_t pad = b->count ? smbx__io_pad8(b->len) : 0;
  /* capacity first; the builder is untouched on NOBUF */
  uint64_t size = (uint64_t)fixed + e->file_name.len;
  if ((uint64_t)pad + size > b->cap - b->len)
    return SMBX_ERR_NOBUF;
  size_t at = b->len + pad;
  if (pad)
    memset(b->buf + b->len, 0, pad);
  if (b->count)
    smbx__put_le32(b->buf + b->last, (uint32_t)(at - b->last));
  smbx__wr w = smbx__wr_make(b->buf + at, (size_t)size);
  write_dir_entry(b->info_class, &w, e);
  b->last = at;
  b->len = at + (size_t)size;
  b->count++;
  return 0;
}

/* ---- FILE_NOTIFY_INFORMATION (MS-FSCC 2.7.1) ---- */

int smbx_smb2_notify_iter_init(smbx_smb2_notify_iter *it, const uint8_t *buf,
                               size_t len)
{
  if (!it || (!buf && len))
    return SMBX_ERR_INVAL;
  memset(it, 0, sizeof *it);
  it->buf = buf;
  it->len = len;
  return 0;
}

int smbx_smb2_notify_iter_next(smbx_smb2_notify_iter *it,
                               smbx_smb2_notify_entry *e,
                               smbx_error_detail *err)
{
  if (!it || !e)
    return SMBX_ERR_INVAL;
  if (it->done || it->pos >= it->len)
    return 0;
  size_t pos = it->pos, left = it->len - pos;
  it->done = 1; /* cleared below when another entry follows */
  /* STYLE 4.5: capped count (entries are >= 12 bytes) */
  if (it->count > it->len / 4)
    return smbx__smb2_fail(err, "notify: too many entries", pos);
  /* smb2.md 4.11: NextEntryOffset is a multiple of 4 */
  if (pos % 4 != 0)
    return smbx__smb2_fail(err, "notify: entry not 4-aligned", pos);
  if (left < 12)
    return smbx__smb2_fail(err, "notify: entry past end", pos);
  const uint8_t *q = it->buf + pos;
  e->next_entry_offset = smbx__get_le32(q);
  e->action = smbx__get_le32(q + 4);
  uint32_t name_len = smbx__get_le32(q + 8);
  uint32_t next = e->next_entry_offset;
  if (next % 4 != 0)
    return smbx__smb2_fail(err, "notify: NextEntryOffset not a multiple of 4",
                           pos);
  if (next && next >= left)
    return smbx__smb2_fail(err, "notify: NextEntryOffset past end", pos);
  if (next && next < 12)
    return smbx__smb2_fail(err, "notify: NextEntryOffset < 12", pos);
  if (name_len % 2 != 0)
    return smbx__smb2_fail(err, "notify: odd FileNameLength", pos + 8);
  size_t room = next ? next : left;
  if (name_len > room - 12)
    return smbx__smb2_fail(err, "notify: FileName past entry", pos + 8);
  e->file_name.p = name_len ? q + 12 : NULL;
  e->file_name.len = name_len;
  it->count++;
  if (next) {
    it->pos = pos + next;
    it->done = 0;
  }
  return 1;
}

int smbx_smb2_notify_builder_init(smbx_smb2_notify_builder *b, uint8_t *buf,
                                  size_t cap)
{
  if (!b || (!buf && cap))
    return SMBX_ERR_INVAL;
  memset(b, 0, sizeof *b);
  b->buf = buf;
  b->cap = cap;
  return 0;
}

int smbx_smb2_notify_builder_add(smbx_smb2_notify_builder *b,
                                 const smbx_smb2_notify_entry *e)
{
  if (!b || !e || !smbx__io_view_ok(e->file_name) || b->len > b->cap ||
      (!b->buf && b->cap))
    return SMBX_ERR_INVAL;
  if (e->file_name.len % 2 != 0 || e->file_name.len > UINT32_MAX - 64)
    return SMBX_ERR_RANGE;
  size_t pad = b->count ? smbx__io_pad4(b->len) : 0;
  uint64_t size = 12 + (uint64_t)e->file_name.len;
  if ((uint64_t)pad + size > b->cap - b->len)
    return SMBX_ERR_NOBUF;
  size_t at = b->len + pad;
  if (pad)
    memset(b->buf + b->len, 0, pad);
  if (b->count)
    smbx__put_le32(b->buf + b->last, (uint32_t)(at - b->last));
  smbx__put_le32(b->buf + at, 0);
  smbx__put_le32(b->buf + at + 4, e->action);
  smbx__put_le32(b->buf + at + 8, (uint32_t)e->file_name.len);
  if (e->file_name.len)
    memcpy(b->buf + at + 12, e->file_name.p, e->file_name.len);
  b->last = at;
  b->len = at + (size_t)size;
  b->count++;
  return 0;
}
