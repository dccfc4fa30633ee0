/* SPDX-License-Identifier: MIT */
/* QUERY_INFO / SET_INFO and the file information classes of
 * spec/smb2.md 4.12: case 16 plus hostile inputs. */
#include "io_test.h"

#include "../vectors/smb2/io_info.h"

IO_CODEC(query_info_req, smbx_smb2_query_info_req)
IO_CODEC(query_info_resp, smbx_smb2_output_resp)
IO_CODEC(set_info_req, smbx_smb2_set_info_req)
IO_CODEC(set_info_resp, smbx_smb2_set_info_resp)

#define LEN(a) (sizeof(a))

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

static void smb2_case_16_query_info_file_all_information(void **state)
{
  (void)state;
  smbx_smb2_query_info_req q;
  uint8_t *keep;
  io_round_trip(io_qinfo_req_18, LEN(io_qinfo_req_18), dec_query_info_req,
                enc_query_info_req, &q, &keep);
  assert_int_equal(q.info_type, SMBX_SMB2_0_INFO_FILE);
  assert_int_equal(q.file_info_class, SMBX_SMB2_FILE_ALL_INFORMATION);
  assert_int_equal(q.output_buffer_length, 4096);
  assert_int_equal(q.input.len, 0);
  free(keep);
  io_truncations(io_qinfo_req_18, LEN(io_qinfo_req_18), dec_query_info_req,
                 &q, LEN(io_qinfo_req_18) - 1);

  smbx_smb2_output_resp r;
  io_round_trip(io_qinfo_resp_18, LEN(io_qinfo_resp_18), dec_query_info_resp,
                enc_query_info_resp, &r, &keep);
  assert_ptr_equal(r.output.p, keep + 0x48);
  smbx_smb2_file_all_info a;
  assert_int_equal(smbx_smb2_file_all_info_decode(r.output.p, r.output.len,
                                                  &a, NULL),
                   0);
  assert_true(a.basic.creation_time == 0x01D9000000000001ull);
  assert_true(a.basic.change_time == 0x01D9000000000004ull);
  assert_int_equal(a.basic.file_attributes, 0x20);
  assert_true(a.standard.allocation_size == 8192);
  assert_true(a.standard.end_of_file == 5000);
  assert_int_equal(a.standard.number_of_links, 1);
  assert_true(a.index_number == 0x1234);
  assert_int_equal(a.access_flags, 0x12019F);
  assert_true(name_is(a.file_name, "dir\\file.txt"));
  assert_ptr_equal(a.file_name.p, r.output.p + 100);
  uint8_t out[256];
  size_t need = 0;
  assert_int_equal(smbx_smb2_file_all_info_encode(&a, out, 50, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, LEN(io_file_all_info));
  assert_int_equal(smbx_smb2_file_all_info_encode(&a, out, sizeof out, &need),
                   (smbx_ssize)LEN(io_file_all_info));
  assert_memory_equal(out, io_file_all_info, LEN(io_file_all_info));
  free(keep);
  io_truncations(io_qinfo_resp_18, LEN(io_qinfo_resp_18), dec_query_info_resp,
                 &r, LEN(io_qinfo_resp_18));
  /* every truncation of the class itself fails */
  for (size_t l = 0; l < LEN(io_file_all_info); l++) {
    uint8_t *t = io_dup(io_file_all_info, l);
    assert_int_equal(smbx_smb2_file_all_info_decode(t, l, &a, NULL),
                     SMBX_ERR_DECODE);
    free(t);
  }
  /* odd and overflowing FileNameLength */
  uint8_t *t = io_dup(io_file_all_info, LEN(io_file_all_info));
  smbx_error_detail e;
  io_put32(t, 96, 5);
  assert_int_equal(smbx_smb2_file_all_info_decode(t, LEN(io_file_all_info),
                                                  &a, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 96);
  io_put32(t, 96, 0xFFFFFFFEu);
  assert_int_equal(smbx_smb2_file_all_info_decode(t, LEN(io_file_all_info),
                                                  &a, NULL),
                   SMBX_ERR_DECODE);
  free(t);
}

static void smb2_case_16_query_info_network_open_information(void **state)
{
  (void)state;
  smbx_smb2_query_info_req q;
  uint8_t *keep;
  io_round_trip(io_qinfo_req_34, LEN(io_qinfo_req_34), dec_query_info_req,
                enc_query_info_req, &q, &keep);
  assert_int_equal(q.file_info_class, SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION);
  free(keep);
  smbx_smb2_output_resp r;
  io_round_trip(io_qinfo_resp_34, LEN(io_qinfo_resp_34), dec_query_info_resp,
                enc_query_info_resp, &r, &keep);
  smbx_smb2_file_network_open_info n;
  assert_int_equal(smbx_smb2_file_network_open_info_decode(
                       r.output.p, r.output.len, &n, NULL),
                   0);
  assert_true(n.last_write_time == 0x01D9000000000003ull);
  assert_true(n.allocation_size == 8192);
  assert_true(n.end_of_file == 5000);
  assert_int_equal(n.file_attributes, 0x20);
  uint8_t out[64];
  assert_int_equal(smbx_smb2_file_network_open_info_encode(&n, out, sizeof out,
                                                           NULL),
                   56);
  assert_memory_equal(out, io_file_network_open_info, 56);
  assert_int_equal(smbx_smb2_file_network_open_info_decode(r.output.p, 55, &n,
                                                           NULL),
                   SMBX_ERR_DECODE);
  free(keep);
  io_truncations(io_qinfo_resp_34, LEN(io_qinfo_resp_34), dec_query_info_resp,
                 &r, LEN(io_qinfo_resp_34));
}

static void smb2_case_16_set_info_basic_information(void **state)
{
  (void)state;
  smbx_smb2_set_info_req s;
  uint8_t *keep;
  io_round_trip(io_setinfo_req_4, LEN(io_setinfo_req_4), dec_set_info_req,
                enc_set_info_req, &s, &keep);
  assert_int_equal(s.info_type, SMBX_SMB2_0_INFO_FILE);
  assert_int_equal(s.file_info_class, SMBX_SMB2_FILE_BASIC_INFORMATION);
  assert_int_equal(s.buffer_offset, 0x60);
  assert_int_equal(s.buffer.len, 40);
  smbx_smb2_file_basic_info b;
  assert_int_equal(smbx_smb2_file_basic_info_decode(s.buffer.p, s.buffer.len,
                                                    &b, NULL),
                   0);
  assert_true(b.creation_time == 0); /* 0 = keep */
  assert_true(b.last_write_time == 0x01D9000000000009ull);
  assert_int_equal(b.file_attributes, 0x80);
  uint8_t out[64];
  assert_int_equal(smbx_smb2_file_basic_info_encode(&b, out, 39, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_basic_info_encode(&b, out, sizeof out, NULL),
                   40);
  assert_memory_equal(out, io_file_basic_info, 40);
  assert_int_equal(smbx_smb2_file_basic_info_decode(s.buffer.p, 39, &b, NULL),
                   SMBX_ERR_DECODE);
  free(keep);
  io_truncations(io_setinfo_req_4, LEN(io_setinfo_req_4), dec_set_info_req,
                 &s, LEN(io_setinfo_req_4));

  smbx_smb2_set_info_resp sr;
  io_round_trip(io_setinfo_resp, LEN(io_setinfo_resp), dec_set_info_resp,
                enc_set_info_resp, &sr, &keep);
  assert_int_equal(sr.structure_size, 2);
  free(keep);
  io_truncations(io_setinfo_resp, LEN(io_setinfo_resp), dec_set_info_resp,
                 &sr, LEN(io_setinfo_resp));
}

static void smb2_case_16_set_info_rename_information(void **state)
{
  (void)state;
  smbx_smb2_set_info_req s;
  uint8_t *keep;
  io_round_trip(io_setinfo_req_10, LEN(io_setinfo_req_10), dec_set_info_req,
                enc_set_info_req, &s, &keep);
  assert_int_equal(s.file_info_class, SMBX_SMB2_FILE_RENAME_INFORMATION);
  smbx_smb2_file_rename_info rn;
  assert_int_equal(smbx_smb2_file_rename_info_decode(s.buffer.p, s.buffer.len,
                                                     &rn, NULL),
                   0);
  assert_int_equal(rn.replace_if_exists, 1);
  assert_true(rn.root_directory == 0);
  assert_true(name_is(rn.file_name, "newname.txt"));
  assert_ptr_equal(rn.file_name.p, s.buffer.p + 20);
  uint8_t out[64];
  assert_int_equal(smbx_smb2_file_rename_info_encode(&rn, out, sizeof out,
                                                     NULL),
                   (smbx_ssize)LEN(io_file_rename_info));
  assert_memory_equal(out, io_file_rename_info, LEN(io_file_rename_info));
  for (size_t l = 0; l < LEN(io_file_rename_info); l++) {
    uint8_t *t = io_dup(io_file_rename_info, l);
    assert_int_equal(smbx_smb2_file_rename_info_decode(t, l, &rn, NULL),
                     SMBX_ERR_DECODE);
    free(t);
  }
  uint8_t *t = io_dup(io_file_rename_info, LEN(io_file_rename_info));
  io_put32(t, 16, 21);
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_file_rename_info_decode(
                       t, LEN(io_file_rename_info), &rn, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "rename info: odd FileNameLength");
  free(t);
  rn.file_name.len = 3;
  assert_int_equal(smbx_smb2_file_rename_info_encode(&rn, out, sizeof out,
                                                     NULL),
                   SMBX_ERR_RANGE);
  free(keep);
  io_truncations(io_setinfo_req_10, LEN(io_setinfo_req_10), dec_set_info_req,
                 &s, LEN(io_setinfo_req_10));
}

static void fixed_size_classes_round_trip(void **state)
{
  (void)state;
  uint8_t out[64], again[64];
  smbx_smb2_file_standard_info st = {8192, 5000, 2, 1, 0, 0};
  assert_int_equal(smbx_smb2_file_standard_info_encode(&st, out, sizeof out,
                                                       NULL),
                   24);
  smbx_smb2_file_standard_info st2;
  assert_int_equal(smbx_smb2_file_standard_info_decode(out, 24, &st2, NULL),
                   0);
  assert_int_equal(st2.number_of_links, 2);
  assert_int_equal(st2.delete_pending, 1);
  assert_int_equal(smbx_smb2_file_standard_info_encode(&st2, again,
                                                       sizeof again, NULL),
                   24);
  assert_memory_equal(out, again, 24);
  assert_int_equal(smbx_smb2_file_standard_info_decode(out, 23, &st2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_internal_info in = {0xDEADBEEF00000001ull}, in2;
  assert_int_equal(smbx_smb2_file_internal_info_encode(&in, out, 7, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_internal_info_encode(&in, out, 8, NULL), 8);
  assert_int_equal(smbx_smb2_file_internal_info_decode(out, 8, &in2, NULL), 0);
  assert_true(in2.index_number == in.index_number);
  assert_int_equal(smbx_smb2_file_internal_info_decode(out, 7, &in2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_disposition_info d = {1}, d2;
  assert_int_equal(smbx_smb2_file_disposition_info_encode(&d, out, 0, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_disposition_info_encode(&d, out, 1, NULL),
                   1);
  assert_int_equal(smbx_smb2_file_disposition_info_decode(out, 1, &d2, NULL),
                   0);
  assert_int_equal(d2.delete_pending, 1);
  assert_int_equal(smbx_smb2_file_disposition_info_decode(out, 0, &d2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_end_of_file_info eof = {123456789}, eof2;
  assert_int_equal(smbx_smb2_file_end_of_file_info_encode(&eof, out, 8, NULL),
                   8);
  assert_int_equal(smbx_smb2_file_end_of_file_info_decode(out, 8, &eof2, NULL),
                   0);
  assert_true(eof2.end_of_file == 123456789);
  assert_int_equal(smbx_smb2_file_end_of_file_info_decode(out, 7, &eof2, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_file_end_of_file_info_decode(NULL, 8, &eof2,
                                                          NULL),
                   SMBX_ERR_INVAL);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
  return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
         (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

/* Ea, Access, Position, Mode, Alignment: one little-endian field each. */
static void file_info_one_field_classes(void **state)
{
  (void)state;
  uint8_t out[16];
  smbx_smb2_file_ea_info ea = {0x11223344}, ea2;
  assert_int_equal(smbx_smb2_file_ea_info_encode(&ea, out, 3, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_ea_info_encode(&ea, out, 16, NULL), 4);
  assert_int_equal(out[0], 0x44);
  assert_int_equal(out[3], 0x11);
  assert_int_equal(smbx_smb2_file_ea_info_decode(out, 4, &ea2, NULL), 0);
  assert_int_equal(ea2.ea_size, 0x11223344);
  assert_int_equal(smbx_smb2_file_ea_info_decode(out, 3, &ea2, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_file_ea_info_encode(NULL, out, 16, NULL),
                   SMBX_ERR_INVAL);

  smbx_smb2_file_access_info ac = {0x0012019F}, ac2;
  assert_int_equal(smbx_smb2_file_access_info_encode(&ac, out, 4, NULL), 4);
  assert_int_equal(smbx_smb2_file_access_info_decode(out, 4, &ac2, NULL), 0);
  assert_int_equal(ac2.access_flags, 0x0012019F);
  assert_int_equal(smbx_smb2_file_access_info_decode(out, 0, &ac2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_position_info po = {0x0102030405060708ull}, po2;
  size_t need = 0;
  assert_int_equal(smbx_smb2_file_position_info_encode(&po, out, 7, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 8);
  assert_int_equal(smbx_smb2_file_position_info_encode(&po, out, 8, NULL), 8);
  assert_int_equal(out[0], 0x08);
  assert_int_equal(out[7], 0x01);
  assert_int_equal(smbx_smb2_file_position_info_decode(out, 8, &po2, NULL),
                   0);
  assert_true(po2.current_byte_offset == po.current_byte_offset);
  assert_int_equal(smbx_smb2_file_position_info_decode(out, 7, &po2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_mode_info mo = {0x20}, mo2;
  assert_int_equal(smbx_smb2_file_mode_info_encode(&mo, out, 4, NULL), 4);
  assert_int_equal(smbx_smb2_file_mode_info_decode(out, 4, &mo2, NULL), 0);
  assert_int_equal(mo2.mode, 0x20);
  assert_int_equal(smbx_smb2_file_mode_info_decode(out, 2, &mo2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_alignment_info al = {0x1FF}, al2;
  assert_int_equal(smbx_smb2_file_alignment_info_encode(&al, out, 4, NULL),
                   4);
  assert_int_equal(smbx_smb2_file_alignment_info_decode(out, 4, &al2, NULL),
                   0);
  assert_int_equal(al2.alignment_requirement, 0x1FF);
  assert_int_equal(smbx_smb2_file_alignment_info_decode(NULL, 4, &al2, NULL),
                   SMBX_ERR_INVAL);
}

static void file_attribute_tag_and_compression_info(void **state)
{
  (void)state;
  uint8_t out[32];
  smbx_smb2_file_attribute_tag_info t = {0x80, 0xA000000C}, t2;
  assert_int_equal(smbx_smb2_file_attribute_tag_info_encode(&t, out, 7, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_attribute_tag_info_encode(&t, out, 8, NULL),
                   8);
  static const uint8_t tag[8] = {0x80, 0, 0, 0, 0x0C, 0, 0, 0xA0};
  assert_memory_equal(out, tag, 8);
  assert_int_equal(smbx_smb2_file_attribute_tag_info_decode(out, 8, &t2, NULL),
                   0);
  assert_int_equal(t2.reparse_tag, 0xA000000C);
  assert_int_equal(smbx_smb2_file_attribute_tag_info_decode(out, 7, &t2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_file_compression_info c = {123456, 2, 16, 12, 9}, c2;
  memset(out, 0xEE, sizeof out);
  assert_int_equal(smbx_smb2_file_compression_info_encode(&c, out, 15, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_file_compression_info_encode(&c, out, 32, NULL),
                   16);
  assert_int_equal(out[8], 2);  /* CompressionFormat */
  assert_int_equal(out[10], 16); /* CompressionUnitShift */
  assert_int_equal(out[11], 12); /* ChunkShift */
  assert_int_equal(out[12], 9);  /* ClusterShift */
  assert_int_equal(out[13] | out[14] | out[15], 0); /* Reserved */
  assert_int_equal(out[16], 0xEE);
  assert_int_equal(smbx_smb2_file_compression_info_decode(out, 16, &c2, NULL),
                   0);
  assert_true(c2.compressed_file_size == 123456);
  assert_int_equal(c2.compression_format, 2);
  assert_int_equal(c2.cluster_shift, 9);
  assert_int_equal(smbx_smb2_file_compression_info_decode(out, 15, &c2, NULL),
                   SMBX_ERR_DECODE);
}

static void u16(uint8_t *dst, const char *ascii)
{
  for (size_t i = 0; ascii[i]; i++) {
    dst[2 * i] = (uint8_t)ascii[i];
    dst[2 * i + 1] = 0;
  }
}

static void file_stream_info_entries_and_hostile(void **state)
{
  (void)state;
  uint8_t n1[14], n2[24];
  u16(n1, "::$DATA");
  u16(n2, ":dirty:$DATA");
  smbx_smb2_file_stream_entry e[2];
  memset(e, 0, sizeof e);
  e[0].stream_name.p = n1;
  e[0].stream_name.len = 14;
  e[0].stream_size = 12000;
  e[0].stream_allocation_size = 12288;
  e[1].stream_name.p = n2;
  e[1].stream_name.len = 24;
  e[1].stream_size = 18;
  e[1].stream_allocation_size = 18;
  uint8_t out[128];
  size_t need = 0;
  /* 24 + 14 padded to 40, then 24 + 24 unpadded */
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 2, out, 87, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 88);
  memset(out, 0xEE, sizeof out);
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 2, out, sizeof out,
                                                     NULL),
                   88);
  assert_int_equal(rd32(out, 0), 40);
  assert_int_equal(rd32(out, 4), 14);
  assert_int_equal(out[38] | out[39], 0); /* padding zeroed */
  assert_int_equal(rd32(out, 40), 0);
  assert_int_equal(out[88], 0xEE);
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 1, out, sizeof out,
                                                     NULL),
                   38);
  assert_int_equal(rd32(out, 0), 0);
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 0, out, sizeof out,
                                                     NULL),
                   SMBX_ERR_INVAL);
  e[1].stream_name.len = 23;
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 2, out, sizeof out,
                                                     NULL),
                   SMBX_ERR_RANGE);
  e[1].stream_name.len = 24;
  assert_int_equal(smbx_smb2_file_stream_info_encode(e, 2, out, sizeof out,
                                                     NULL),
                   88);
  /* walk it back */
  size_t pos = 0;
  smbx_smb2_file_stream_entry d;
  assert_int_equal(smbx_smb2_file_stream_info_next(out, 88, &pos, &d, NULL),
                   1);
  assert_int_equal(d.next_entry_offset, 40);
  assert_true(name_is(d.stream_name, "::$DATA"));
  assert_true(d.stream_size == 12000 && d.stream_allocation_size == 12288);
  assert_int_equal(pos, 40);
  assert_int_equal(smbx_smb2_file_stream_info_next(out, 88, &pos, &d, NULL),
                   1);
  assert_true(name_is(d.stream_name, ":dirty:$DATA"));
  assert_int_equal(pos, 88);
  assert_int_equal(smbx_smb2_file_stream_info_next(out, 88, &pos, &d, NULL),
                   0);
  /* hostile: every truncation, an odd or overlong name, a NextEntryOffset
   * not a multiple of 8, inside the entry, or past the buffer */
  for (size_t l = 1; l < 88; l++) {
    uint8_t *t = io_dup(out, l);
    int rc = 1;
    pos = 0;
    while (rc == 1)
      rc = smbx_smb2_file_stream_info_next(t, l, &pos, &d, NULL);
    assert_int_equal(rc, SMBX_ERR_DECODE);
    free(t);
  }
  struct {
    size_t at;
    uint32_t v;
    size_t err_at;
  } bad[] = {{4, 13, 4}, {4, 0xFFFFFFF0u, 4}, {0, 44, 0},
             {0, 32, 0}, {0, 88, 0},          {0, 0xFFFFFFF8u, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *t = io_dup(out, 88);
    io_put32(t, bad[i].at, bad[i].v);
    smbx_error_detail er;
    pos = 0;
    assert_int_equal(smbx_smb2_file_stream_info_next(t, 88, &pos, &d, &er),
                     SMBX_ERR_DECODE);
    assert_int_equal(er.offset, bad[i].err_at);
    free(t);
  }
  pos = 0;
  assert_int_equal(smbx_smb2_file_stream_info_next(NULL, 8, &pos, &d, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_file_stream_info_next(out, 0, &pos, &d, NULL),
                   0);
}

static void fs_info_classes(void **state)
{
  (void)state;
  uint8_t out[64], lbl[8];
  u16(lbl, "vmo!");
  size_t need = 0;

  smbx_smb2_fs_volume_info v = {0x01D9000000000001ull, 0xCAFE, 1, {lbl, 8}},
                           v2;
  assert_int_equal(smbx_smb2_fs_volume_info_encode(&v, out, 25, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 26);
  assert_int_equal(smbx_smb2_fs_volume_info_encode(&v, out, sizeof out, NULL),
                   26);
  assert_int_equal(rd32(out, 8), 0xCAFE);
  assert_int_equal(rd32(out, 12), 8); /* VolumeLabelLength */
  assert_int_equal(out[16], 1);           /* SupportsObjects */
  assert_int_equal(out[17], 0);           /* Reserved */
  assert_int_equal(smbx_smb2_fs_volume_info_decode(out, 26, &v2, NULL), 0);
  assert_true(name_is(v2.volume_label, "vmo!"));
  assert_true(v2.volume_creation_time == v.volume_creation_time);
  assert_int_equal(smbx_smb2_fs_volume_info_decode(out, 25, &v2, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_fs_volume_info_decode(out, 17, &v2, NULL),
                   SMBX_ERR_DECODE);
  io_put32(out, 12, 7);
  assert_int_equal(smbx_smb2_fs_volume_info_decode(out, 26, &v2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_fs_size_info z = {1000, 10, 8, 512}, z2;
  assert_int_equal(smbx_smb2_fs_size_info_encode(&z, out, 23, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_fs_size_info_encode(&z, out, 24, NULL), 24);
  assert_int_equal(rd32(out, 20), 512);
  assert_int_equal(smbx_smb2_fs_size_info_decode(out, 24, &z2, NULL), 0);
  assert_true(z2.total_allocation_units == 1000 &&
              z2.available_allocation_units == 10 &&
              z2.sectors_per_allocation_unit == 8);
  assert_int_equal(smbx_smb2_fs_size_info_decode(out, 23, &z2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_fs_device_info dv = {7, 0x20}, dv2;
  assert_int_equal(smbx_smb2_fs_device_info_encode(&dv, out, 8, NULL), 8);
  assert_int_equal(smbx_smb2_fs_device_info_decode(out, 8, &dv2, NULL), 0);
  assert_int_equal(dv2.device_type, 7);
  assert_int_equal(dv2.characteristics, 0x20);
  assert_int_equal(smbx_smb2_fs_device_info_decode(out, 7, &dv2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_fs_attribute_info at = {0x6, 255, {lbl, 8}}, at2;
  assert_int_equal(smbx_smb2_fs_attribute_info_encode(&at, out, 19, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 20);
  assert_int_equal(smbx_smb2_fs_attribute_info_encode(&at, out, 20, NULL),
                   20);
  assert_int_equal(rd32(out, 8), 8);
  assert_int_equal(smbx_smb2_fs_attribute_info_decode(out, 20, &at2, NULL), 0);
  assert_int_equal(at2.maximum_component_name_length, 255);
  assert_true(name_is(at2.file_system_name, "vmo!"));
  assert_int_equal(smbx_smb2_fs_attribute_info_decode(out, 19, &at2, NULL),
                   SMBX_ERR_DECODE);
  at.file_system_name.len = 3;
  assert_int_equal(smbx_smb2_fs_attribute_info_encode(&at, out, 64, NULL),
                   SMBX_ERR_RANGE);

  smbx_smb2_fs_full_size_info f = {1000, 10, 20, 8, 4096}, f2;
  assert_int_equal(smbx_smb2_fs_full_size_info_encode(&f, out, 31, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_fs_full_size_info_encode(&f, out, 32, NULL), 32);
  assert_int_equal(smbx_smb2_fs_full_size_info_decode(out, 32, &f2, NULL), 0);
  assert_true(f2.caller_available_allocation_units == 10 &&
              f2.actual_available_allocation_units == 20 &&
              f2.bytes_per_sector == 4096);
  assert_int_equal(smbx_smb2_fs_full_size_info_decode(out, 31, &f2, NULL),
                   SMBX_ERR_DECODE);

  smbx_smb2_fs_sector_size_info sc = {512, 4096, 4096, 4096, 3, 0, 0}, sc2;
  assert_int_equal(smbx_smb2_fs_sector_size_info_encode(&sc, out, 27, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_fs_sector_size_info_encode(&sc, out, 28, NULL),
                   28);
  assert_int_equal(rd32(out, 16), 3);
  assert_int_equal(smbx_smb2_fs_sector_size_info_decode(out, 28, &sc2, NULL),
                   0);
  assert_int_equal(sc2.physical_bytes_per_sector_for_atomicity, 4096);
  assert_int_equal(sc2.flags, 3);
  assert_int_equal(smbx_smb2_fs_sector_size_info_decode(out, 27, &sc2, NULL),
                   SMBX_ERR_DECODE);
}

static void query_and_set_info_hostile_areas(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_qinfo_req_18, 64, &h, NULL), 0);
  /* a QUERY_INFO with an input buffer (quota query shape) */
  smbx_smb2_query_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = SMBX_SMB2_0_INFO_QUOTA;
  uint8_t in[16] = {1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  q.input.p = in;
  q.input.len = sizeof in;
  uint8_t out[256];
  smbx_ssize n = smbx_smb2_encode_query_info_req(&h, &q, out, sizeof out, NULL);
  assert_int_equal(n, 104 + 16);
  smbx_smb2_query_info_req d;
  assert_int_equal(smbx_smb2_decode_query_info_req(out, (size_t)n, &d, NULL),
                   0);
  assert_int_equal(d.input_buffer_offset, 0x68);
  assert_ptr_equal(d.input.p, out + 0x68);
  io_put32(out, 76, 0xFFFFFFFFu);
  smbx_error_detail e = io_expect_fail(out, (size_t)n, dec_query_info_req, &d);
  assert_int_equal(e.offset, 72);
  io_put32(out, 76, 16);
  io_put16(out, 72, 0x60); /* into the fixed body */
  io_expect_fail(out, (size_t)n, dec_query_info_req, &d);

  uint8_t *s = io_dup(io_setinfo_req_4, LEN(io_setinfo_req_4));
  smbx_smb2_set_info_req si;
  io_put16(s, 72, 0x50);
  e = io_expect_fail(s, LEN(io_setinfo_req_4), dec_set_info_req, &si);
  assert_int_equal(e.offset, 72);
  io_put16(s, 72, 0x60);
  io_put32(s, 68, 41);
  io_expect_fail(s, LEN(io_setinfo_req_4), dec_set_info_req, &si);
  free(s);
  /* a QUERY_INFO decoder refuses a SET_INFO PDU and vice versa */
  io_expect_fail(io_setinfo_req_4, LEN(io_setinfo_req_4), dec_query_info_req,
                 &d);
  io_expect_fail(io_qinfo_req_18, LEN(io_qinfo_req_18), dec_set_info_req, &si);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_16_query_info_file_all_information),
    cmocka_unit_test(smb2_case_16_query_info_network_open_information),
    cmocka_unit_test(smb2_case_16_set_info_basic_information),
    cmocka_unit_test(smb2_case_16_set_info_rename_information),
    cmocka_unit_test(fixed_size_classes_round_trip),
    cmocka_unit_test(file_info_one_field_classes),
    cmocka_unit_test(file_attribute_tag_and_compression_info),
    cmocka_unit_test(file_stream_info_entries_and_hostile),
    cmocka_unit_test(fs_info_classes),
    cmocka_unit_test(query_and_set_info_hostile_areas),
  };
  return RUN_TESTS(tests);
}
