/* SPDX-License-Identifier: MIT */
/* QUERY_DIRECTORY (the 7 classes of spec/smb2.md 4.10) and CHANGE_NOTIFY
 * (FILE_NOTIFY_INFORMATION, 4.11): cases 14, 15, 33, 34. */
#include "io_test.h"

#include "../vectors/smb2/io_dir.h"

IO_CODEC(query_directory_req, smbx_smb2_query_directory_req)
IO_CODEC(query_directory_resp, smbx_smb2_output_resp)
IO_CODEC(change_notify_req, smbx_smb2_change_notify_req)
IO_CODEC(change_notify_resp, smbx_smb2_output_resp)

#define LEN(a) (sizeof(a))

static const uint8_t classes[7] = {1, 2, 3, 12, 37, 38, 60};

static const uint8_t *class_vec(uint8_t cls, size_t *len)
{
  switch (cls) {
  case 1: *len = LEN(io_dir_class_1); return io_dir_class_1;
  case 2: *len = LEN(io_dir_class_2); return io_dir_class_2;
  case 3: *len = LEN(io_dir_class_3); return io_dir_class_3;
  case 12: *len = LEN(io_dir_class_12); return io_dir_class_12;
  case 37: *len = LEN(io_dir_class_37); return io_dir_class_37;
  case 38: *len = LEN(io_dir_class_38); return io_dir_class_38;
  default: *len = LEN(io_dir_class_60); return io_dir_class_60;
  }
}

static bool name_is(smbx_smb2_bytes n, const char *ascii)
{
  size_t l = strlen(ascii);
  if (n.len != 2 * l)
    return false;
  for (size_t i = 0; i < l; i++)
    if (n.p[2 * i] != (uint8_t)ascii[i] || n.p[2 * i + 1] != 0)
      return false;
  return true;
}

/* Iterates all entries; returns the count, or the error code. */
static int walk(uint8_t cls, const uint8_t *p, size_t len,
                smbx_smb2_dir_entry *out, int max, smbx_error_detail *err)
{
  smbx_smb2_dir_iter it;
  assert_int_equal(smbx_smb2_dir_iter_init(&it, cls, p, len), 0);
  int n = 0, rc;
  smbx_smb2_dir_entry e;
  while ((rc = smbx_smb2_dir_iter_next(&it, &e, err)) == 1) {
    if (n < max)
      out[n] = e;
    n++;
  }
  if (rc < 0) {
    /* sticky: the iterator stays at its end */
    assert_int_equal(smbx_smb2_dir_iter_next(&it, &e, NULL), 0);
    return rc;
  }
  return n;
}

/* ---- case 14 ---- */

static void smb2_case_14_query_directory_star_round_trip(void **state)
{
  (void)state;
  smbx_smb2_query_directory_req q;
  uint8_t *keep;
  io_round_trip(io_qdir_req, LEN(io_qdir_req), dec_query_directory_req,
                enc_query_directory_req, &q, &keep);
  assert_int_equal(q.info_class, SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION);
  assert_int_equal(q.flags, SMBX_SMB2_RESTART_SCANS);
  assert_int_equal(q.file_name_offset, 0x60);
  assert_true(name_is(q.file_name, "*"));
  assert_ptr_equal(q.file_name.p, keep + 0x60);
  assert_int_equal(q.output_buffer_length, 65536);
  free(keep);
  io_truncations(io_qdir_req, LEN(io_qdir_req), dec_query_directory_req, &q,
                 LEN(io_qdir_req));
}

static void smb2_case_14_class_37_dot_dotdot_odd_length_name(void **state)
{
  (void)state;
  smbx_smb2_output_resp r;
  uint8_t *keep;
  io_round_trip(io_qdir_resp_37, LEN(io_qdir_resp_37),
                dec_query_directory_resp, enc_query_directory_resp, &r, &keep);
  assert_int_equal(r.output_buffer_offset, 0x48);
  assert_ptr_equal(r.output.p, keep + 0x48);
  smbx_smb2_dir_entry e[3];
  assert_int_equal(walk(37, r.output.p, r.output.len, e, 3, NULL), 3);
  assert_true(name_is(e[0].file_name, "."));
  assert_true(name_is(e[1].file_name, ".."));
  assert_true(name_is(e[2].file_name, "abc")); /* 3 characters */
  assert_int_equal(e[0].file_attributes, 0x10);
  assert_int_equal(e[2].file_attributes, 0x20);
  assert_true(e[2].file_id == 0x1003);
  assert_true(e[2].end_of_file == 3 * 1234);
  assert_true(name_is(e[2].short_name, "ABC"));
  assert_int_equal(e[0].short_name.len, 0);
  assert_int_equal(e[0].next_entry_offset % 8, 0);
  assert_int_equal(e[2].next_entry_offset, 0);
  free(keep);
  io_truncations(io_qdir_resp_37, LEN(io_qdir_resp_37),
                 dec_query_directory_resp, &r, LEN(io_qdir_resp_37));
}

static void smb2_case_14_every_class_decodes_and_rebuilds(void **state)
{
  (void)state;
  for (size_t c = 0; c < sizeof classes; c++) {
    uint8_t cls = classes[c];
    size_t len;
    const uint8_t *v = class_vec(cls, &len);
    uint8_t *p = io_dup(v, len);
    smbx_smb2_dir_entry e[3];
    assert_int_equal(walk(cls, p, len, e, 3, NULL), 3);
    assert_true(name_is(e[0].file_name, "."));
    assert_true(name_is(e[1].file_name, ".."));
    assert_true(name_is(e[2].file_name, "abc"));
    assert_int_equal(e[2].file_index, 3);
    assert_ptr_equal(e[2].file_name.p,
                     p + e[0].next_entry_offset + e[1].next_entry_offset +
                         smbx_smb2_dir_entry_fixed_size(cls));
    if (cls != SMBX_SMB2_FILE_NAMES_INFORMATION) {
      assert_true(e[1].creation_time == 0x01D9000000000001ull);
      assert_true(e[1].change_time == 0x01D9000000000004ull);
      assert_true(e[1].allocation_size == 4096);
    } else {
      assert_true(e[1].creation_time == 0);
    }
    if (cls == 38)
      assert_true(e[2].file_id == 0x1003);
    if (cls == 60)
      assert_int_equal(e[2].file_id_128[15], 3);
    if (cls == 3 || cls == 37)
      assert_true(name_is(e[2].short_name, "ABC"));
    /* the builder packs the decoded entries into the same bytes */
    uint8_t out[512];
    smbx_smb2_dir_builder b;
    assert_int_equal(smbx_smb2_dir_builder_init(&b, cls, out, sizeof out), 0);
    for (int i = 0; i < 3; i++)
      assert_int_equal(smbx_smb2_dir_builder_add(&b, &e[i]), 0);
    assert_int_equal(b.len, len);
    assert_memory_equal(out, v, len);
    /* truncation anywhere inside the buffer is an error, never an entry
     * read out of bounds */
    for (size_t l = 1; l < len; l++) {
      uint8_t *t = io_dup(v, l);
      smbx_error_detail err = {NULL, 0};
      assert_int_equal(walk(cls, t, l, e, 3, &err), SMBX_ERR_DECODE);
      assert_non_null(err.reason);
      assert_true(err.offset < l);
      free(t);
    }
    free(p);
  }
  /* an empty buffer has no entries */
  smbx_smb2_dir_entry e;
  assert_int_equal(walk(37, NULL, 0, &e, 1, NULL), 0);
  smbx_smb2_dir_iter it;
  assert_int_equal(smbx_smb2_dir_iter_init(&it, 4, io_dir_class_1, 8),
                   SMBX_ERR_UNSUPPORTED);
  smbx_smb2_dir_builder b;
  uint8_t out[8];
  assert_int_equal(smbx_smb2_dir_builder_init(&b, 0, out, sizeof out),
                   SMBX_ERR_UNSUPPORTED);
  assert_int_equal(smbx_smb2_dir_entry_fixed_size(37), 104);
  assert_int_equal(smbx_smb2_dir_entry_fixed_size(12), 12);
}

static void dir_builder_full_response_leaves_builder_unchanged(void **state)
{
  (void)state;
  uint8_t out[300];
  smbx_smb2_dir_builder b;
  assert_int_equal(smbx_smb2_dir_builder_init(&b, 37, out, sizeof out), 0);
  smbx_smb2_dir_entry e;
  memset(&e, 0, sizeof e);
  e.file_name.p = (const uint8_t *)"x\0y\0z\0";
  e.file_name.len = 6; /* 104 + 6 = 110 bytes, 112 with padding */
  int added = 0;
  while (smbx_smb2_dir_builder_add(&b, &e) == 0)
    added++;
  assert_int_equal(added, 2); /* 110 + 2 + 110 = 222; a third needs 334 */
  assert_int_equal(b.len, 222);
  assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), SMBX_ERR_NOBUF);
  assert_int_equal(b.len, 222);
  assert_int_equal(b.count, 2);
  smbx_smb2_dir_entry got[2];
  assert_int_equal(walk(37, out, b.len, got, 2, NULL), 2);
  /* argument errors */
  e.file_name.len = 5;
  assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), SMBX_ERR_RANGE);
  e.file_name.len = 6;
  e.short_name.p = out;
  e.short_name.len = 25;
  assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), SMBX_ERR_RANGE);
  e.short_name.p = NULL;
  e.short_name.len = 2;
  assert_int_equal(smbx_smb2_dir_builder_add(&b, &e), SMBX_ERR_INVAL);
}

/* ---- case 33: UTF-16 lengths and contents ---- */

static void smb2_case_33_file_name_length_5(void **state)
{
  (void)state;
  /* QUERY_DIRECTORY request pattern */
  uint8_t *b = io_dup(io_qdir_req, LEN(io_qdir_req));
  smbx_smb2_query_directory_req q;
  io_put16(b, 90, 1);
  smbx_error_detail e = io_expect_fail(b, LEN(io_qdir_req),
                                       dec_query_directory_req, &q);
  assert_int_equal(e.offset, 90);
  free(b);
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_qdir_req, 64, &h, NULL), 0);
  smbx_smb2_query_directory_req in;
  memset(&in, 0, sizeof in);
  in.file_name.p = (const uint8_t *)"abcde";
  in.file_name.len = 5;
  uint8_t out[256];
  assert_int_equal(smbx_smb2_encode_query_directory_req(&h, &in, out,
                                                        sizeof out, NULL),
                   SMBX_ERR_RANGE);
  /* a directory entry with FileNameLength 5 */
  uint8_t *d = io_dup(io_dir_class_1, LEN(io_dir_class_1));
  io_put32(d, 60, 5);
  smbx_smb2_dir_entry ent;
  assert_int_equal(walk(1, d, LEN(io_dir_class_1), &ent, 1, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "dir entry: odd FileNameLength");
  assert_int_equal(e.offset, 60);
  free(d);
  /* a notify entry with FileNameLength 5 */
  uint8_t *n = io_dup(io_notify_payload, LEN(io_notify_payload));
  io_put32(n, 8, 5);
  smbx_smb2_notify_iter it;
  smbx_smb2_notify_entry ne;
  assert_int_equal(smbx_smb2_notify_iter_init(&it, n, LEN(io_notify_payload)),
                   0);
  assert_int_equal(smbx_smb2_notify_iter_next(&it, &ne, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 8);
  free(n);
}

static void smb2_case_33_embedded_nul_and_lone_surrogate_are_opaque(
    void **state)
{
  (void)state;
  /* entry "abc" of class 1 gets U+0000 and a lone high surrogate */
  uint8_t *d = io_dup(io_dir_class_1, LEN(io_dir_class_1));
  size_t e2 = (size_t)io_dir_class_1[0] + io_dir_class_1[io_dir_class_1[0]];
  d[e2 + 64 + 2] = 0; /* 'b' -> U+0000 */
  d[e2 + 64 + 4] = 0x00;
  d[e2 + 64 + 5] = 0xD8; /* 'c' -> U+D800 */
  smbx_smb2_dir_entry ent[3];
  assert_int_equal(walk(1, d, LEN(io_dir_class_1), ent, 3, NULL), 3);
  assert_int_equal(ent[2].file_name.len, 6);
  assert_ptr_equal(ent[2].file_name.p, d + e2 + 64);
  /* converting is the caller's choice; the lone surrogate is reported */
  uint8_t u8[16];
  size_t n = 0;
  assert_int_equal(smbx_utf16le_to_utf8(ent[2].file_name.p,
                                        ent[2].file_name.len, u8, sizeof u8,
                                        &n),
                   SMBX_ERR_ENCODING);
  free(d);
}

/* ---- case 34: hostile directory and notify chains ---- */

static void smb2_case_34_dir_next_entry_offset_hostile(void **state)
{
  (void)state;
  size_t len = LEN(io_dir_class_37);
  uint32_t first = io_dir_class_37[0] | (uint32_t)io_dir_class_37[1] << 8;
  static const struct {
    uint32_t next;
    const char *reason;
  } bad[] = {
    {0x61, "dir entry: NextEntryOffset not 8-aligned"},
    {4, "dir entry: NextEntryOffset not 8-aligned"},
    {8, "dir entry: NextEntryOffset < fixed size"},
    {96, "dir entry: NextEntryOffset < fixed size"},
    {0xFFFFFFF8u, "dir entry: NextEntryOffset past end"},
    {0, NULL}, /* filled below: exactly the buffer length */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *d = io_dup(io_dir_class_37, len);
    uint32_t next = bad[i].reason ? bad[i].next : (uint32_t)len;
    io_put32(d, 0, next);
    smbx_smb2_dir_entry e[3];
    smbx_error_detail err = {NULL, 0};
    assert_int_equal(walk(37, d, len, e, 3, &err), SMBX_ERR_DECODE);
    if (bad[i].reason)
      assert_string_equal(err.reason, bad[i].reason);
    free(d);
  }
  /* NextEntryOffset shorter than fixed part + name (the name would run
   * into the next entry) */
  uint8_t *d = io_dup(io_dir_class_37, len);
  io_put32(d, 60, 16); /* "." now claims 16 bytes, entry is 112 */
  smbx_smb2_dir_entry e[3];
  smbx_error_detail err;
  assert_int_equal(walk(37, d, len, e, 3, &err), SMBX_ERR_DECODE);
  assert_string_equal(err.reason, "dir entry: FileName past entry");
  /* FileNameLength near 2^32: fixed + length must not wrap */
  io_put32(d, 60, 0xFFFFFFFEu);
  assert_int_equal(walk(37, d, len, e, 3, &err), SMBX_ERR_DECODE);
  /* the last entry's name past the buffer */
  memcpy(d, io_dir_class_37, len);
  size_t last = first + (d[first] | (uint32_t)d[first + 1] << 8);
  io_put32(d, last + 60, 8);
  assert_int_equal(walk(37, d, len, e, 3, &err), SMBX_ERR_DECODE);
  assert_int_equal(err.offset, last + 60);
  /* ShortNameLength 25 */
  memcpy(d, io_dir_class_37, len);
  d[68] = 25;
  assert_int_equal(walk(37, d, len, e, 3, &err), SMBX_ERR_DECODE);
  assert_string_equal(err.reason, "dir entry: ShortNameLength > 24");
  free(d);
  /* a chain of 8-byte steps can never loop: entries advance by >= fixed */
  uint8_t names[4096];
  memset(names, 0, sizeof names);
  for (size_t off = 0; off + 16 <= sizeof names; off += 16)
    io_put32(names, off, 16); /* class 12: 12 + 0 name, next 16 */
  io_put32(names, sizeof names - 16, 0);
  smbx_smb2_dir_iter it;
  assert_int_equal(smbx_smb2_dir_iter_init(&it, 12, names, sizeof names), 0);
  smbx_smb2_dir_entry one;
  int n = 0;
  while (smbx_smb2_dir_iter_next(&it, &one, NULL) == 1)
    n++;
  assert_int_equal(n, 256);
}

static void smb2_case_34_notify_offset_not_multiple_of_4(void **state)
{
  (void)state;
  size_t len = LEN(io_notify_payload);
  static const struct {
    size_t at;
    uint32_t v;
    const char *reason;
  } bad[] = {
    {0, 18, "notify: NextEntryOffset not a multiple of 4"},
    {0, 2, "notify: NextEntryOffset not a multiple of 4"},
    {0, 8, "notify: NextEntryOffset < 12"},
    {0, 0xFFFFFFFCu, "notify: NextEntryOffset past end"},
    {8, 6, "notify: FileName past entry"},
    {8, 0xFFFFFFFEu, "notify: FileName past entry"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *n = io_dup(io_notify_payload, len);
    io_put32(n, bad[i].at, bad[i].v);
    smbx_smb2_notify_iter it;
    smbx_smb2_notify_entry e;
    smbx_error_detail err = {NULL, 0};
    assert_int_equal(smbx_smb2_notify_iter_init(&it, n, len), 0);
    assert_int_equal(smbx_smb2_notify_iter_next(&it, &e, &err),
                     SMBX_ERR_DECODE);
    assert_string_equal(err.reason, bad[i].reason);
    assert_int_equal(smbx_smb2_notify_iter_next(&it, &e, &err), 0);
    free(n);
  }
  /* every truncation fails */
  for (size_t l = 1; l < len; l++) {
    uint8_t *n = io_dup(io_notify_payload, l);
    smbx_smb2_notify_iter it;
    smbx_smb2_notify_entry e;
    int rc;
    assert_int_equal(smbx_smb2_notify_iter_init(&it, n, l), 0);
    while ((rc = smbx_smb2_notify_iter_next(&it, &e, NULL)) == 1)
      ;
    assert_int_equal(rc, SMBX_ERR_DECODE);
    free(n);
  }
}

/* ---- case 15: CHANGE_NOTIFY ---- */

static void smb2_case_15_change_notify_request_round_trip(void **state)
{
  (void)state;
  smbx_smb2_change_notify_req q;
  uint8_t *keep;
  io_round_trip(io_notify_req, LEN(io_notify_req), dec_change_notify_req,
                enc_change_notify_req, &q, &keep);
  assert_int_equal(q.flags, SMBX_SMB2_WATCH_TREE);
  assert_int_equal(q.output_buffer_length, 4096);
  assert_int_equal(q.completion_filter,
                   SMBX_SMB2_NOTIFY_FILE_NAME | SMBX_SMB2_NOTIFY_DIR_NAME |
                       SMBX_SMB2_NOTIFY_ATTRIBUTES |
                       SMBX_SMB2_NOTIFY_LAST_WRITE);
  free(keep);
  io_truncations(io_notify_req, LEN(io_notify_req), dec_change_notify_req, &q,
                 LEN(io_notify_req));
}

static void smb2_case_15_interim_pending(void **state)
{
  (void)state;
  /* the interim response is an ASYNC ERROR body with STATUS_PENDING */
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_notify_resp, 64, &h, NULL), 0);
  h.status = SMBX_STATUS_PENDING;
  smbx_smb2_error_resp er;
  memset(&er, 0, sizeof er);
  uint8_t out[128];
  smbx_ssize n = smbx_smb2_encode_error_resp(&h, &er, out, sizeof out, NULL);
  assert_int_equal(n, 73);
  smbx_smb2_hdr g;
  assert_int_equal(smbx_smb2_hdr_decode(out, (size_t)n, &g, NULL), 0);
  assert_int_equal(g.command, SMBX_SMB2_CHANGE_NOTIFY);
  assert_true(g.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  assert_true(g.async_id == 0x77);
  assert_int_equal(g.status, SMBX_STATUS_PENDING);
  assert_int_equal(smbx_smb2_decode_error_resp(out, (size_t)n, &er, NULL), 0);
  assert_int_equal(er.data.len, 0);
}

static void smb2_case_15_final_with_three_entries(void **state)
{
  (void)state;
  smbx_smb2_output_resp r;
  uint8_t *keep;
  io_round_trip(io_notify_resp, LEN(io_notify_resp), dec_change_notify_resp,
                enc_change_notify_resp, &r, &keep);
  assert_int_equal(r.output.len, LEN(io_notify_payload));
  assert_memory_equal(r.output.p, io_notify_payload, r.output.len);
  smbx_smb2_notify_iter it;
  smbx_smb2_notify_entry e[3];
  assert_int_equal(smbx_smb2_notify_iter_init(&it, r.output.p, r.output.len),
                   0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(smbx_smb2_notify_iter_next(&it, &e[i], NULL), 1);
  assert_int_equal(smbx_smb2_notify_iter_next(&it, &e[0], NULL), 0);
  assert_int_equal(e[0].action, SMBX_SMB2_ACTION_ADDED);
  assert_true(name_is(e[0].file_name, "a"));
  assert_int_equal(e[0].next_entry_offset, 16); /* 14 padded to 4 */
  assert_int_equal(e[1].action, SMBX_SMB2_ACTION_RENAMED_OLD_NAME);
  assert_true(name_is(e[1].file_name, "bcd"));
  assert_int_equal(e[1].next_entry_offset, 20); /* 18 padded to 4 */
  assert_int_equal(e[2].action, SMBX_SMB2_ACTION_RENAMED_NEW_NAME);
  assert_true(name_is(e[2].file_name, "ef"));
  assert_int_equal(e[2].next_entry_offset, 0);
  /* the builder reproduces the payload */
  uint8_t out[64];
  smbx_smb2_notify_builder b;
  assert_int_equal(smbx_smb2_notify_builder_init(&b, out, sizeof out), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(smbx_smb2_notify_builder_add(&b, &e[i]), 0);
  assert_int_equal(b.len, LEN(io_notify_payload));
  assert_memory_equal(out, io_notify_payload, b.len);
  /* full: unchanged */
  assert_int_equal(smbx_smb2_notify_builder_init(&b, out, 30), 0);
  assert_int_equal(smbx_smb2_notify_builder_add(&b, &e[0]), 0);
  assert_int_equal(smbx_smb2_notify_builder_add(&b, &e[1]), SMBX_ERR_NOBUF);
  assert_int_equal(b.len, 14);
  smbx_smb2_notify_entry odd = e[0];
  odd.file_name.len = 3;
  assert_int_equal(smbx_smb2_notify_builder_add(&b, &odd), SMBX_ERR_RANGE);
  free(keep);
  io_truncations(io_notify_resp, LEN(io_notify_resp), dec_change_notify_resp,
                 &r, LEN(io_notify_resp));
}

static void smb2_case_15_notify_enum_dir_empty(void **state)
{
  (void)state;
  smbx_smb2_output_resp r;
  uint8_t *keep;
  io_round_trip(io_notify_resp_enum_dir, LEN(io_notify_resp_enum_dir),
                dec_change_notify_resp, enc_change_notify_resp, &r, &keep);
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(keep, 64, &h, NULL), 0);
  assert_int_equal(h.status, SMBX_STATUS_NOTIFY_ENUM_DIR);
  assert_int_equal(r.output.len, 0);
  smbx_smb2_notify_iter it;
  smbx_smb2_notify_entry e;
  assert_int_equal(smbx_smb2_notify_iter_init(&it, r.output.p, r.output.len),
                   0);
  assert_int_equal(smbx_smb2_notify_iter_next(&it, &e, NULL), 0);
  free(keep);
  io_truncations(io_notify_resp_enum_dir, LEN(io_notify_resp_enum_dir),
                 dec_change_notify_resp, &r,
                 LEN(io_notify_resp_enum_dir) - 1);
}

static void output_resp_hostile_offsets(void **state)
{
  (void)state;
  size_t n = LEN(io_qdir_resp_37);
  uint8_t *b = io_dup(io_qdir_resp_37, n);
  smbx_smb2_output_resp r;
  io_put16(b, 66, 0x40); /* into the header */
  io_expect_fail(b, n, dec_query_directory_resp, &r);
  io_put16(b, 66, 0x44); /* into the fixed body */
  io_expect_fail(b, n, dec_query_directory_resp, &r);
  io_put16(b, 66, 0x48);
  io_put32(b, 68, 0xFFFFFFFFu); /* offset + length wraps 32 bits */
  smbx_error_detail e = io_expect_fail(b, n, dec_query_directory_resp, &r);
  assert_int_equal(e.offset, 66);
  io_put16(b, 66, 0);
  io_put32(b, 68, 8);
  io_expect_fail(b, n, dec_query_directory_resp, &r);
  /* a CHANGE_NOTIFY decoder refuses a QUERY_DIRECTORY PDU */
  io_expect_fail(io_qdir_resp_37, n, dec_change_notify_resp, &r);
  free(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_14_query_directory_star_round_trip),
    cmocka_unit_test(smb2_case_14_class_37_dot_dotdot_odd_length_name),
    cmocka_unit_test(smb2_case_14_every_class_decodes_and_rebuilds),
    cmocka_unit_test(dir_builder_full_response_leaves_builder_unchanged),
    cmocka_unit_test(smb2_case_33_file_name_length_5),
    cmocka_unit_test(smb2_case_33_embedded_nul_and_lone_surrogate_are_opaque),
    cmocka_unit_test(smb2_case_34_dir_next_entry_offset_hostile),
    cmocka_unit_test(smb2_case_34_notify_offset_not_multiple_of_4),
    cmocka_unit_test(smb2_case_15_change_notify_request_round_trip),
    cmocka_unit_test(smb2_case_15_interim_pending),
    cmocka_unit_test(smb2_case_15_final_with_three_entries),
    cmocka_unit_test(smb2_case_15_notify_enum_dir_empty),
    cmocka_unit_test(output_resp_hostile_offsets),
  };
  return RUN_TESTS(tests);
}
