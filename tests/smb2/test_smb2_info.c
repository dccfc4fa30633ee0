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
    cmocka_unit_test(query_and_set_info_hostile_areas),
  };
  return RUN_TESTS(tests);
}
