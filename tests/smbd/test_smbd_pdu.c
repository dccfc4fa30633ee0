/* SPDX-License-Identifier: MIT */
/* SMB Direct wire codec: layouts of [MS-SMBD] 2.2 and the stateless
 * receiver checks of 3.1.5.6 - 3.1.5.8. */
#include "test_main.h"

#include <smbx/smbd.h>

#include "smbd/smbd_pdu.h"

/* MS-SMBD 4.1 style negotiate request: 0x0100/0x0100, 255 credits,
 * 1364 / 8192 / 1 MiB */
static const uint8_t neg_req[20] = {0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff,
                                    0x00, 0x54, 0x05, 0x00, 0x00, 0x00, 0x20,
                                    0x00, 0x00, 0x00, 0x00, 0x10, 0x00};

static void pdu_2_2_1_negotiate_req_roundtrip(void **state)
{
  (void)state;
  smbx_smbd_negotiate_req q;
  smbx_error_detail det = {NULL, 0};
  assert_int_equal(smbx_smbd_decode_negotiate_req(neg_req, 20, &q, &det), 0);
  assert_int_equal(q.min_version, 0x100);
  assert_int_equal(q.max_version, 0x100);
  assert_int_equal(q.credits_requested, 255);
  assert_int_equal(q.preferred_send_size, 1364);
  assert_int_equal(q.max_receive_size, 8192);
  assert_int_equal(q.max_fragmented_size, 1048576);
  uint8_t out[20];
  assert_int_equal(smbx_smbd_encode_negotiate_req(&q, out, sizeof out), 20);
  assert_memory_equal(out, neg_req, 20);
  assert_int_equal(smbx_smbd_encode_negotiate_req(&q, out, 19), SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smbd_decode_negotiate_req(neg_req, 19, &q, &det),
                   SMBX_ERR_DECODE);
  assert_int_equal(det.offset, 19);
  assert_int_equal(smbx_smbd_decode_negotiate_req(neg_req, 20, NULL, NULL),
                   SMBX_ERR_INVAL);
}

static void pdu_3_1_5_6_negotiate_req_checks(void **state)
{
  (void)state;
  smbx_smbd_negotiate_req q;
  smbx__smbd_decode_negotiate_req(neg_req, &q);
  assert_int_equal(smbx__smbd_check_negotiate_req(&q, NULL), SMBX__SMBD_NEG_OK);
  smbx_smbd_negotiate_req v = q;
  v.min_version = 0;
  v.max_version = 0xFFFF;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL), SMBX__SMBD_NEG_OK);
  v.min_version = 0x200;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL),
                   SMBX__SMBD_NEG_NOT_SUPPORTED);
  v = q;
  v.credits_requested = 0;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL),
                   SMBX__SMBD_NEG_TERMINATE);
  v = q;
  v.max_receive_size = 127;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL),
                   SMBX__SMBD_NEG_TERMINATE);
  v.max_receive_size = 128; /* old ksmbd's <= rejected the minimum */
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL), SMBX__SMBD_NEG_OK);
  v.max_fragmented_size = 131071;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL),
                   SMBX__SMBD_NEG_TERMINATE);
  v.max_fragmented_size = 131072;
  assert_int_equal(smbx__smbd_check_negotiate_req(&v, NULL), SMBX__SMBD_NEG_OK);
}

static void pdu_2_2_2_negotiate_resp_roundtrip_and_checks(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = {0x100, 0x100, 0x100, 0, 255, 10, 0,
                                1048576, 1364, 8192, 1048576};
  uint8_t b[32];
  assert_int_equal(smbx_smbd_encode_negotiate_resp(&r, b, 32), 32);
  static const uint8_t want[32] = {
      0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0x00, 0x0a,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x54, 0x05,
      0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00};
  assert_memory_equal(b, want, 32);
  smbx_smbd_negotiate_resp o;
  assert_int_equal(smbx_smbd_decode_negotiate_resp(b, 32, &o, NULL), 0);
  assert_memory_equal(&o, &r, sizeof r);
  assert_int_equal(smbx_smbd_decode_negotiate_resp(b, 31, &o, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx__smbd_check_negotiate_resp(&o, 8192, 4096, NULL), 0);
  smbx_error_detail det;
  o.preferred_send_size = 8193;
  assert_int_equal(smbx__smbd_check_negotiate_resp(&o, 8192, 4096, &det),
                   SMBX_ERR_NEGOTIATE);
  assert_int_equal(det.offset, 20);
  o = r;
  o.status = 0xC00000BB;
  assert_int_equal(smbx__smbd_check_negotiate_resp(&o, 8192, 4096, &det),
                   SMBX_ERR_NEGOTIATE);
  assert_int_equal(det.offset, 12);
}

static void pdu_2_2_3_data_encode_decode(void **state)
{
  (void)state;
  uint8_t pay[5] = {1, 2, 3, 4, 5};
  smbx_smbd_data m = {255, 3, 1, 0, 7, 24, 5, 0, pay};
  uint8_t b[64];
  assert_int_equal(smbx_smbd_encode_data(&m, b, sizeof b), 29);
  static const uint8_t want[29] = {0xff, 0, 3, 0, 1, 0, 0, 0, 7, 0, 0, 0, 24, 0, 0,
                                   0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5};
  assert_memory_equal(b, want, 29);
  smbx_smbd_data o;
  assert_int_equal(smbx_smbd_decode_data(b, 29, 1048576, 0, &o, NULL), 0);
  assert_int_equal(o.credits_requested, 255);
  assert_int_equal(o.credits_granted, 3);
  assert_int_equal(o.remaining_data_length, 7);
  assert_ptr_equal(o.payload, b + 24); /* a view, not a copy */
  /* empty message: exactly 20 bytes, offset/length 0 */
  smbx_smbd_data e = {10, 0, 0, 0, 0, 0, 0, 0, NULL};
  assert_int_equal(smbx_smbd_encode_data(&e, b, 20), 20);
  assert_int_equal(smbx_smbd_decode_data(b, 20, 0, 0, &o, NULL), 0);
  assert_null(o.payload);
  assert_int_equal(smbx_smbd_encode_data(&e, b, 19), SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smbd_encode_data(&m, b, 28), SMBX_ERR_NOBUF);
  m.data_offset = 20;
  assert_int_equal(smbx_smbd_encode_data(&m, b, sizeof b), SMBX_ERR_INVAL);
  m.data_offset = 32; /* gap zero-filled */
  memset(b, 0xAA, sizeof b);
  assert_int_equal(smbx_smbd_encode_data(&m, b, sizeof b), 37);
  for (int k = 24; k < 32; k++)
    assert_int_equal(b[k], 0);
  assert_int_equal(smbx_smbd_decode_data(b, 37, 0, SMBX_SMBD_DECODE_STRICT, &o,
                                         NULL),
                   0);
}

static void put_hdr(uint8_t *b, uint16_t cr, uint32_t rem, uint32_t off,
                    uint32_t len)
{
  memset(b, 0, 24);
  smbx__put_le16(b, cr);
  smbx__put_le32(b + 8, rem);
  smbx__put_le32(b + 12, off);
  smbx__put_le32(b + 16, len);
}

static void pdu_3_1_5_8_data_checks(void **state)
{
  (void)state;
  uint8_t b[64] = {0};
  smbx_smbd_data o;
  smbx_error_detail det;
  put_hdr(b, 1, 0, 24, 8);
  assert_int_equal(smbx_smbd_decode_data(b, 19, 0, 0, &o, &det), SMBX_ERR_DECODE);
  put_hdr(b, 0, 0, 24, 8);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, 0, &o, &det), SMBX_ERR_DECODE);
  assert_string_equal(det.reason, "smbd data: CreditsRequested 0");
  put_hdr(b, 1, 0, 25, 1);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, 0, &o, &det), SMBX_ERR_DECODE);
  assert_int_equal(det.offset, 12);
  put_hdr(b, 1, 0, 24, 9); /* one past the end */
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, 0, &o, &det), SMBX_ERR_DECODE);
  put_hdr(b, 1, 0, 0xFFFFFFF8u, 0xFFFFFFFFu); /* u32 wrap */
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, 0, &o, &det), SMBX_ERR_DECODE);
  put_hdr(b, 1, 131072 - 8, 24, 8);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 131072, 0, &o, &det), 0);
  put_hdr(b, 1, 131072 - 7, 24, 8);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 131072, 0, &o, &det),
                   SMBX_ERR_DECODE);
  assert_int_equal(det.offset, 8);
  put_hdr(b, 1, 0xFFFFFFFFu, 24, 1);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 131072, 0, &o, &det),
                   SMBX_ERR_DECODE);
  put_hdr(b, 1, 0, 8, 8); /* inside the header: allowed unless strict */
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, 0, &o, &det), 0);
  assert_int_equal(smbx_smbd_decode_data(b, 32, 0, SMBX_SMBD_DECODE_STRICT, &o,
                                         &det),
                   SMBX_ERR_DECODE);
}

static void pdu_2_2_3_1_buffer_descriptors(void **state)
{
  (void)state;
  smbx_smbd_buffer_desc in[2] = {{0x1122334455667788ull, 0xAABBCCDD, 0x1000},
                                 {0x10, 7, 0x40}};
  uint8_t b[32];
  assert_int_equal(smbx_smbd_encode_buffer_descs(in, 2, b, sizeof b), 32);
  assert_int_equal(b[0], 0x88);
  assert_int_equal(b[8], 0xDD);
  assert_int_equal(b[12], 0x00);
  assert_int_equal(b[13], 0x10);
  smbx_smbd_buffer_desc out[2];
  size_t n = 0;
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 32, out, 2, &n, NULL), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(out, in, sizeof in);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 32, out, 1, &n, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(n, 2);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 31, out, 2, &n, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 0, out, 2, &n, NULL),
                   SMBX_ERR_DECODE);
  b[28] = b[29] = 0; /* second Length 0 */
  smbx_error_detail det;
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 32, out, 2, &n, &det),
                   SMBX_ERR_DECODE);
  assert_int_equal(det.offset, 28);
  assert_int_equal(smbx_smbd_encode_buffer_descs(in, 2, b, 31), SMBX_ERR_NOBUF);
  /* 4095 entries fit the u16 channel-info length, 4096 do not */
  static uint8_t big[4096 * 16];
  for (size_t k = 0; k < 4096; k++)
    smbx__put_le32(big + 16 * k + 12, 1);
  assert_int_equal(smbx_smbd_decode_buffer_descs(big, 4095 * 16, NULL, 0, &n,
                                                 NULL),
                   0);
  assert_int_equal(n, 4095);
  assert_int_equal(smbx_smbd_decode_buffer_descs(big, 4096 * 16, NULL, 0, &n,
                                                 NULL),
                   SMBX_ERR_DECODE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pdu_2_2_1_negotiate_req_roundtrip),
      cmocka_unit_test(pdu_3_1_5_6_negotiate_req_checks),
      cmocka_unit_test(pdu_2_2_2_negotiate_resp_roundtrip_and_checks),
      cmocka_unit_test(pdu_2_2_3_data_encode_decode),
      cmocka_unit_test(pdu_3_1_5_8_data_checks),
      cmocka_unit_test(pdu_2_2_3_1_buffer_descriptors),
  };
  return RUN_TESTS(tests);
}
