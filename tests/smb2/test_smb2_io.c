/* SPDX-License-Identifier: MIT */
/* READ / WRITE (channel info, buffer descriptors, SMB2_RDMA_TRANSFORM) and
 * LOCK codecs: spec/smb2.md 4.6-4.8 and sec. 7 cases 10, 11, 12, 27, 28,
 * 32; smbd.md 1.4 and 4. */
#include "io_test.h"

#include "../vectors/smb2/io_dir.h"
#include "../vectors/smb2/io_info.h"
#include "../vectors/smb2/io_ioctl.h"
#include "../vectors/smb2/io_rw.h"
#include "smb2/hot.h"

IO_CODEC(read_req, smbx_smb2_read_req)
IO_CODEC(read_resp, smbx_smb2_read_resp)
IO_CODEC(write_req, smbx_smb2_write_req)
IO_CODEC(write_resp, smbx_smb2_write_resp)
IO_CODEC(lock_req, smbx_smb2_lock_req)
IO_CODEC(lock_resp, smbx_smb2_lock_resp)
IO_CODEC(ioctl_req, smbx_smb2_ioctl_req)
IO_CODEC(ioctl_resp, smbx_smb2_ioctl_resp)
IO_CODEC(query_directory_req, smbx_smb2_query_directory_req)
IO_CODEC(query_directory_resp, smbx_smb2_output_resp)
IO_CODEC(change_notify_req, smbx_smb2_change_notify_req)
IO_CODEC(change_notify_resp, smbx_smb2_output_resp)
IO_CODEC(query_info_req, smbx_smb2_query_info_req)
IO_CODEC(query_info_resp, smbx_smb2_output_resp)
IO_CODEC(set_info_req, smbx_smb2_set_info_req)
IO_CODEC(set_info_resp, smbx_smb2_set_info_resp)

#define LEN(a) (sizeof(a))

/* ---- case 10: READ ---- */

static void smb2_case_10_read_inline_round_trip(void **state)
{
  (void)state;
  smbx_smb2_read_req r;
  uint8_t *keep;
  io_round_trip(io_read_req_inline, LEN(io_read_req_inline), dec_read_req,
                enc_read_req, &r, &keep);
  assert_int_equal(r.padding, 0x50);
  assert_int_equal(r.length, 65536);
  assert_int_equal(r.offset, 0);
  assert_true(r.file_id.persistent_id == 0x1122334455667788ull);
  assert_true(r.file_id.volatile_id == 0x99AABBCCDDEEFF00ull);
  assert_int_equal(r.channel, SMBX_SMB2_CHANNEL_NONE);
  assert_int_equal(r.channel_info.len, 0);
  assert_int_equal(r.descs.count, 0);
  free(keep);
  /* the counted Buffer byte may be absent (smb2.md 0) */
  io_truncations(io_read_req_inline, LEN(io_read_req_inline), dec_read_req,
                 &r, LEN(io_read_req_inline) - 1);

  smbx_smb2_read_resp p;
  io_round_trip(io_read_resp_inline, LEN(io_read_resp_inline), dec_read_resp,
                enc_read_resp, &p, &keep);
  assert_int_equal(p.data_offset, 0x50);
  assert_int_equal(p.data.len, 5);
  assert_ptr_equal(p.data.p, keep + 0x50); /* a view, not a copy */
  assert_memory_equal(p.data.p, "hello", 5);
  free(keep);
  io_truncations(io_read_resp_inline, LEN(io_read_resp_inline),
                 dec_read_resp, &p, LEN(io_read_resp_inline));
}

static void smb2_case_10_read_rdma_v1_invalidate_two_descriptors(void **state)
{
  (void)state;
  smbx_smb2_read_req r;
  uint8_t *keep;
  io_round_trip(io_read_req_rdma_inv, LEN(io_read_req_rdma_inv), dec_read_req,
                enc_read_req, &r, &keep);
  assert_int_equal(r.channel, SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE);
  assert_int_equal(r.channel_info_offset, 0x70);
  assert_int_equal(r.channel_info.len, 32);
  assert_ptr_equal(r.channel_info.p, keep + 0x70);
  assert_int_equal(r.descs.count, 2);
  smbx_smb2_buffer_desc d;
  assert_int_equal(smbx_smb2_desc_list_get(&r.descs, 0, &d), 0);
  assert_true(d.offset == 0x00007F0000010000ull);
  assert_int_equal(d.token, 0x1234);
  assert_int_equal(d.length, 0xFFFC0);
  assert_int_equal(smbx_smb2_desc_list_get(&r.descs, 1, &d), 0);
  assert_int_equal(d.token, 0x1235);
  assert_int_equal(d.length, 0x40);
  assert_int_equal(smbx_smb2_desc_list_get(&r.descs, 2, &d), SMBX_ERR_RANGE);
  /* smbd.md 4: the sum covers the 1 MiB requested, not one byte more */
  uint64_t total = 0;
  assert_int_equal(smbx_smb2_desc_list_check(&r.descs, 0x100000, &total), 0);
  assert_true(total == 0x100000);
  assert_int_equal(smbx_smb2_desc_list_check(&r.descs, 0x100001, NULL),
                   SMBX_ERR_RANGE);
  free(keep);
  io_truncations(io_read_req_rdma_inv, LEN(io_read_req_rdma_inv),
                 dec_read_req, &r, LEN(io_read_req_rdma_inv));

  /* the descriptor list encoder gives the same 32 bytes */
  smbx_smb2_buffer_desc two[2] = {{0x00007F0000010000ull, 0x1234, 0xFFFC0},
                                  {0x00007F0000200000ull, 0x1235, 0x40}};
  uint8_t buf[32];
  size_t need = 0;
  assert_int_equal(smbx_smb2_desc_list_encode(two, 2, buf, 31, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 32);
  assert_int_equal(smbx_smb2_desc_list_encode(two, 2, buf, 32, &need), 32);
  assert_memory_equal(buf, io_read_req_rdma_inv + 0x70, 32);
}

static void smb2_case_10_read_resp_rdma_data_length_zero(void **state)
{
  (void)state;
  smbx_smb2_read_resp p;
  uint8_t *keep;
  io_round_trip(io_read_resp_rdma, LEN(io_read_resp_rdma), dec_read_resp,
                enc_read_resp, &p, &keep);
  assert_int_equal(p.data.len, 0);
  assert_int_equal(p.data_remaining, 0x100000);
  assert_int_equal(p.data_offset, 0x50);
  assert_int_equal(p.flags, 0);
  free(keep);
  io_truncations(io_read_resp_rdma, LEN(io_read_resp_rdma), dec_read_resp,
                 &p, LEN(io_read_resp_rdma) - 1);
}

/* The fixed-part reader of the client's RDMA completion (smb2/hot.h):
 * the decoder's fields; a wrong Command or StructureSize, or a PDU short
 * of the fixed part, is refused. */
static void read_resp_fixed_part_as_the_decoder(void **state)
{
  (void)state;
  smbx_smb2_read_resp p;
  assert_int_equal(smbx_smb2_decode_read_resp(io_read_resp_rdma,
                                              LEN(io_read_resp_rdma), &p,
                                              NULL),
                   0);
  smbx__smb2_read_resp_fields f;
  assert_int_equal(smbx__smb2_read_resp_fixed_get(
                       io_read_resp_rdma, LEN(io_read_resp_rdma), &f),
                   0);
  assert_int_equal(f.data_offset, p.data_offset);
  assert_int_equal(f.reserved, p.reserved);
  assert_int_equal(f.data_length, p.data.len);
  assert_int_equal(f.data_remaining, p.data_remaining);
  assert_int_equal(f.flags, p.flags);
  uint8_t m[LEN(io_read_resp_rdma)];
  memcpy(m, io_read_resp_rdma, sizeof m);
  assert_int_equal(smbx__smb2_read_resp_fixed_get(m, 79, &f),
                   SMBX_ERR_DECODE);
  m[12] = SMBX_SMB2_WRITE;
  assert_int_equal(smbx__smb2_read_resp_fixed_get(m, sizeof m, &f),
                   SMBX_ERR_DECODE);
  m[12] = SMBX_SMB2_READ;
  m[64] = 9; /* an ERROR body */
  assert_int_equal(smbx__smb2_read_resp_fixed_get(m, sizeof m, &f),
                   SMBX_ERR_DECODE);
}

static void read_resp_scatter_gather_writes_header_only(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_read_resp_inline, 64, &h, NULL), 0);
  smbx_smb2_read_resp p;
  memset(&p, 0, sizeof p);
  p.data.len = 5; /* p == NULL: the caller sends the data itself */
  uint8_t out[128];
  size_t need = 0;
  assert_int_equal(smbx_smb2_encode_read_resp(&h, &p, out, 79, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 80);
  assert_int_equal(smbx_smb2_encode_read_resp(&h, &p, out, sizeof out, &need),
                   80);
  memcpy(out + 80, "hello", 5);
  assert_memory_equal(out, io_read_resp_inline, LEN(io_read_resp_inline));
}

/* ---- SMB2_RDMA_TRANSFORM (MS-SMB2 2.2.43, smbd.md 4) ---- */

static void read_rdma_transform_channel_round_trip(void **state)
{
  (void)state;
  smbx_smb2_read_req r;
  uint8_t *keep;
  io_round_trip(io_read_req_transform, LEN(io_read_req_transform),
                dec_read_req, enc_read_req, &r, &keep);
  assert_int_equal(r.channel, SMBX_SMB2_CHANNEL_RDMA_TRANSFORM);
  assert_int_equal(r.transform.transform_count, 1);
  assert_int_equal(r.transform.channel, SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE);
  assert_int_equal(r.transform.desc_offset, 56);
  assert_int_equal(r.descs.count, 1);
  assert_ptr_equal(r.descs.bytes.p, keep + 0x70 + 56);
  smbx_smb2_buffer_desc d;
  assert_int_equal(smbx_smb2_desc_list_get(&r.descs, 0, &d), 0);
  assert_int_equal(d.token, 0x2222);
  assert_int_equal(d.length, 0x10000);
  size_t off = 0;
  smbx_smb2_rdma_crypto_transform x, xs[2];
  assert_int_equal(smbx_smb2_rdma_transform_next(&r.transform, &off, &x), 1);
  assert_int_equal(x.transform_type, SMBX_SMB2_RDMA_TRANSFORM_TYPE_ENCRYPTION);
  assert_int_equal(x.signature.len, 16);
  assert_int_equal(x.signature.p[0], 0xA0);
  assert_int_equal(x.nonce.len, 12);
  assert_int_equal(x.nonce.p[11], 0xCB);
  xs[0] = x;
  assert_int_equal(smbx_smb2_rdma_transform_next(&r.transform, &off, &x), 0);
  /* the transform encoder rebuilds the channel info byte for byte */
  uint8_t buf[128];
  size_t need = 0;
  assert_int_equal(smbx_smb2_rdma_transform_encode(
                       SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE, xs, 1, &d, 1, buf,
                       10, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, r.channel_info.len);
  assert_int_equal(smbx_smb2_rdma_transform_encode(
                       SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE, xs, 1, &d, 1, buf,
                       sizeof buf, &need),
                   (smbx_ssize)r.channel_info.len);
  assert_memory_equal(buf, r.channel_info.p, r.channel_info.len);
  /* encoder argument rules */
  assert_int_equal(smbx_smb2_rdma_transform_encode(
                       SMBX_SMB2_CHANNEL_RDMA_V1, xs, 0, &d, 1, buf,
                       sizeof buf, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_rdma_transform_encode(SMBX_SMB2_CHANNEL_NONE, xs,
                                                   1, &d, 1, buf, sizeof buf,
                                                   NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_rdma_transform_encode(3, xs, 1, &d, 1, buf,
                                                   sizeof buf, NULL),
                   SMBX_ERR_INVAL);
  /* inner NONE: no descriptors, offset/length 0 */
  assert_int_equal(smbx_smb2_rdma_transform_encode(SMBX_SMB2_CHANNEL_NONE, xs,
                                                   1, NULL, 0, buf,
                                                   sizeof buf, &need),
                   56);
  smbx_smb2_rdma_transform t;
  assert_int_equal(smbx_smb2_rdma_transform_decode(buf, 56, &t, NULL), 0);
  assert_int_equal(t.channel, SMBX_SMB2_CHANNEL_NONE);
  assert_int_equal(t.descs.count, 0);
  free(keep);
  io_truncations(io_read_req_transform, LEN(io_read_req_transform),
                 dec_read_req, &r, LEN(io_read_req_transform));
}

static void rdma_transform_hostile_fields(void **state)
{
  (void)state;
  const uint8_t *ci = io_read_req_transform + 0x70;
  size_t n = LEN(io_read_req_transform) - 0x70;
  uint8_t b[128];
  smbx_smb2_rdma_transform t;
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_rdma_transform_decode(ci, n, &t, NULL), 0);

  /* TransformCount 0 -> decode error (2.2.43) */
  memcpy(b, ci, n);
  io_put16(b, 8, 0);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 8);
  /* ... and inside a READ: the error offset is PDU-relative */
  uint8_t *pdu = io_dup(io_read_req_transform, LEN(io_read_req_transform));
  io_put16(pdu, 0x70 + 8, 0);
  smbx_smb2_read_req r;
  e = io_expect_fail(pdu, LEN(io_read_req_transform), dec_read_req, &r);
  assert_int_equal(e.offset, 0x70 + 8);
  free(pdu);
  /* SignatureLength 17 */
  memcpy(b, ci, n);
  io_put16(b, 16 + 2, 17);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* NonceLength running past the end */
  memcpy(b, ci, n);
  io_put16(b, 16 + 4, 0xFFFF);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* TransformCount 2 with one present */
  memcpy(b, ci, n);
  io_put16(b, 8, 2);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* TransformCount 0xFFFF: bounded by the bytes present */
  memcpy(b, ci, n);
  io_put16(b, 8, 0xFFFF);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* inner Channel 3 (a transform inside a transform) */
  memcpy(b, ci, n);
  io_put32(b, 4, 3);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* descriptors overlapping the crypto transform */
  memcpy(b, ci, n);
  io_put16(b, 0, 40);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason,
                      "rdma transform: descriptors overlap transforms");
  /* descriptors past the end, and a length not a multiple of 16 */
  memcpy(b, ci, n);
  io_put16(b, 2, 32);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  memcpy(b, ci, n);
  io_put16(b, 2, 8);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL),
                   SMBX_ERR_DECODE);
  /* inner NONE ignores garbage descriptor fields (2.2.43) */
  memcpy(b, ci, n);
  io_put32(b, 4, 0);
  io_put16(b, 0, 0xFFFF);
  assert_int_equal(smbx_smb2_rdma_transform_decode(b, n, &t, NULL), 0);
  assert_int_equal(t.descs.count, 0);
  /* shorter than 16 */
  assert_int_equal(smbx_smb2_rdma_transform_decode(ci, 15, &t, NULL),
                   SMBX_ERR_DECODE);
  /* every truncation of the transform alone fails */
  for (size_t l = 0; l < n; l++) {
    uint8_t *c = io_dup(ci, l);
    assert_int_equal(smbx_smb2_rdma_transform_decode(c, l, &t, NULL),
                     SMBX_ERR_DECODE);
    free(c);
  }
}

static void read_resp_with_rdma_transform_flag(void **state)
{
  (void)state;
  const uint8_t *ci = io_read_req_transform + 0x70;
  size_t n = LEN(io_read_req_transform) - 0x70;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_read_resp_rdma, 64, &h, NULL), 0);
  smbx_smb2_read_resp p;
  memset(&p, 0, sizeof p);
  p.flags = SMBX_SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM;
  p.data_remaining = 0x10000;
  p.transform_info.p = ci;
  p.transform_info.len = n;
  uint8_t out[256];
  smbx_ssize w = smbx_smb2_encode_read_resp(&h, &p, out, sizeof out, NULL);
  assert_int_equal(w, 80 + (smbx_ssize)n);
  smbx_smb2_read_resp q;
  assert_int_equal(smbx_smb2_decode_read_resp(out, (size_t)w, &q, NULL), 0);
  assert_int_equal(q.data.len, 0);
  assert_int_equal(q.transform.transform_count, 1);
  assert_int_equal(q.transform_info.len, n);
  assert_ptr_equal(q.transform_info.p, out + 80);
  uint8_t again[256];
  assert_int_equal(smbx_smb2_encode_read_resp(&h, &q, again, sizeof again,
                                              NULL),
                   w);
  assert_memory_equal(again, out, (size_t)w);
  /* both data and a transform: caller error */
  p.data.p = (const uint8_t *)"x";
  p.data.len = 1;
  assert_int_equal(smbx_smb2_encode_read_resp(&h, &p, out, sizeof out, NULL),
                   SMBX_ERR_INVAL);
  /* flag set but the transform is bad -> decode error */
  io_put16(out, 80 + 8, 0);
  smbx_error_detail e;
  e = io_expect_fail(out, (size_t)w, dec_read_resp, &q);
  assert_int_equal(e.offset, 80 + 8);
}

/* ---- cases 27, 28, 32: hostile READ channel info ---- */

static void smb2_case_27_read_channel_info_offsets(void **state)
{
  (void)state;
  size_t n = LEN(io_read_req_rdma_inv);
  uint8_t *b = io_dup(io_read_req_rdma_inv, n);
  smbx_smb2_read_req r;
  smbx_error_detail e;
  /* offset + length past the PDU */
  io_put16(b, 110, 48);
  e = io_expect_fail(b, n, dec_read_req, &r);
  assert_int_equal(e.offset, 108);
  /* offset 0 with a length */
  memcpy(b, io_read_req_rdma_inv, n);
  io_put16(b, 108, 0);
  e = io_expect_fail(b, n, dec_read_req, &r);
  assert_string_equal(e.reason, "smb2 body: offset 0 with non-zero length");
  /* largest u16 offset and length (sum in 64 bits) */
  memcpy(b, io_read_req_rdma_inv, n);
  io_put16(b, 108, 0xFFFF);
  io_put16(b, 110, 0xFFF0);
  io_expect_fail(b, n, dec_read_req, &r);
  /* offset into the header */
  memcpy(b, io_read_req_rdma_inv, n);
  io_put16(b, 108, 16);
  io_expect_fail(b, n, dec_read_req, &r);
  free(b);
}

static void smb2_case_28_read_channel_info_inside_fixed_part(void **state)
{
  (void)state;
  size_t n = LEN(io_read_req_rdma_inv);
  uint8_t *b = io_dup(io_read_req_rdma_inv, n);
  smbx_smb2_read_req r;
  /* 0x68 .. 0x88 would cover RemainingBytes / ChannelInfo fields */
  io_put16(b, 108, 0x68);
  smbx_error_detail e = io_expect_fail(b, n, dec_read_req, &r);
  assert_int_equal(e.offset, 108);
  assert_string_equal(e.reason,
                      "smb2 body: offset into the header or fixed body");
  /* 0x6F: one byte into the fixed part */
  io_put16(b, 108, 0x6F);
  io_expect_fail(b, n, dec_read_req, &r);
  /* the same for WRITE (fixed part ends at 0x70 too) */
  uint8_t *w = io_dup(io_write_req_rdma, LEN(io_write_req_rdma));
  smbx_smb2_write_req wr;
  io_put16(w, 104, 0x60);
  e = io_expect_fail(w, LEN(io_write_req_rdma), dec_write_req, &wr);
  assert_int_equal(e.offset, 104);
  free(w);
  free(b);
}

static void smb2_case_32_channel_info_length_not_multiple_of_16(void **state)
{
  (void)state;
  size_t n = LEN(io_read_req_rdma_inv);
  uint8_t *b = io_dup(io_read_req_rdma_inv, n);
  smbx_smb2_read_req r;
  smbx_error_detail e;
  io_put16(b, 110, 24);
  e = io_expect_fail(b, n, dec_read_req, &r);
  assert_string_equal(e.reason, "channel info: length not a multiple of 16");
  assert_int_equal(e.offset, 0x70);
  io_put16(b, 110, 8);
  io_expect_fail(b, n, dec_read_req, &r);
  /* an RDMA channel with no channel info at all */
  io_put16(b, 108, 0);
  io_put16(b, 110, 0);
  e = io_expect_fail(b, n, dec_read_req, &r);
  assert_int_equal(e.offset, 108);
  /* V1 likewise; with Channel NONE the same bytes are fine and unparsed */
  io_put32(b, 100, SMBX_SMB2_CHANNEL_RDMA_V1);
  io_expect_fail(b, n, dec_read_req, &r);
  memcpy(b, io_read_req_rdma_inv, n);
  io_put32(b, 100, SMBX_SMB2_CHANNEL_NONE);
  assert_int_equal(dec_read_req(b, n, &r, NULL), 0);
  assert_int_equal(r.channel_info.len, 32);
  assert_int_equal(r.descs.count, 0);
  /* unknown Channel values are the caller's INVALID_PARAMETER */
  io_put32(b, 100, 7);
  assert_int_equal(dec_read_req(b, n, &r, NULL), 0);
  assert_int_equal(r.channel, 7);
  assert_int_equal(r.descs.count, 0);
  free(b);
}

static void smb2_case_32_more_than_4095_descriptors(void **state)
{
  (void)state;
  size_t max = 4095 * 16;
  uint8_t *b = calloc(1, max + 16);
  assert_non_null(b);
  smbx_smb2_desc_list l;
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_desc_list_decode(b, max, &l, NULL), 0);
  assert_int_equal(l.count, 4095);
  assert_int_equal(smbx_smb2_desc_list_decode(b, max + 16, &l, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "channel info: more than 4095 descriptors");
  assert_int_equal(smbx_smb2_desc_list_decode(b, 0, &l, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_desc_list_decode(b, 17, &l, NULL),
                   SMBX_ERR_DECODE);
  /* zero-length descriptors fail the server-side check, an empty list too */
  assert_int_equal(smbx_smb2_desc_list_check(&l, 0, NULL), SMBX_ERR_RANGE);
  smbx_smb2_desc_list none;
  memset(&none, 0, sizeof none);
  assert_int_equal(smbx_smb2_desc_list_check(&none, 0, NULL), SMBX_ERR_RANGE);
  smbx_smb2_buffer_desc d = {1, 2, 3};
  assert_int_equal(smbx_smb2_desc_list_encode(&d, 4096, b, max + 16, NULL),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx_smb2_desc_list_encode(&d, 0, b, max, NULL),
                   SMBX_ERR_INVAL);
  free(b);
}

/* ---- case 11: WRITE ---- */

static void smb2_case_11_write_inline_round_trip(void **state)
{
  (void)state;
  smbx_smb2_write_req w;
  uint8_t *keep;
  io_round_trip(io_write_req_inline, LEN(io_write_req_inline), dec_write_req,
                enc_write_req, &w, &keep);
  assert_int_equal(w.data_offset, 0x70);
  assert_int_equal(w.data.len, 16);
  assert_ptr_equal(w.data.p, keep + 0x70); /* payload as a view */
  assert_int_equal(w.offset, 4096);
  assert_int_equal(w.flags, SMBX_SMB2_WRITEFLAG_WRITE_THROUGH);
  assert_int_equal(w.channel, SMBX_SMB2_CHANNEL_NONE);
  free(keep);
  io_truncations(io_write_req_inline, LEN(io_write_req_inline),
                 dec_write_req, &w, LEN(io_write_req_inline));

  smbx_smb2_write_resp p;
  io_round_trip(io_write_resp, LEN(io_write_resp), dec_write_resp,
                enc_write_resp, &p, &keep);
  assert_int_equal(p.count, 16);
  assert_int_equal(p.channel_info.len, 0);
  free(keep);
  io_truncations(io_write_resp, LEN(io_write_resp), dec_write_resp, &p,
                 LEN(io_write_resp) - 1);
}

static void smb2_case_11_write_rdma_length_zero_offset_zero(void **state)
{
  (void)state;
  smbx_smb2_write_req w;
  uint8_t *keep;
  io_round_trip(io_write_req_rdma, LEN(io_write_req_rdma), dec_write_req,
                enc_write_req, &w, &keep);
  assert_int_equal(w.data_offset, 0);
  assert_int_equal(w.data.len, 0);
  assert_int_equal(w.remaining_bytes, 0x100000);
  assert_int_equal(w.channel, SMBX_SMB2_CHANNEL_RDMA_V1);
  assert_int_equal(w.channel_info_offset, 0x70);
  assert_int_equal(w.descs.count, 1);
  smbx_smb2_buffer_desc d;
  assert_int_equal(smbx_smb2_desc_list_get(&w.descs, 0, &d), 0);
  assert_int_equal(d.length, 0x100000);
  assert_int_equal(d.token, 0x3333);
  assert_int_equal(smbx_smb2_desc_list_check(&w.descs, w.remaining_bytes,
                                             NULL),
                   0);
  free(keep);
  io_truncations(io_write_req_rdma, LEN(io_write_req_rdma), dec_write_req,
                 &w, LEN(io_write_req_rdma));
}

static void write_layouts_and_hostile_areas(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_write_req_inline, 64, &h, NULL), 0);
  smbx_smb2_write_req w;
  memset(&w, 0, sizeof w);
  /* inline data plus channel info: info after the data, 8-aligned */
  uint8_t ci[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  w.data.p = (const uint8_t *)"abcde";
  w.data.len = 5;
  w.channel = SMBX_SMB2_CHANNEL_RDMA_V1;
  w.channel_info.p = ci;
  w.channel_info.len = 16;
  uint8_t out[256];
  smbx_ssize n = smbx_smb2_encode_write_req(&h, &w, out, sizeof out, NULL);
  assert_int_equal(n, 120 + 16);
  smbx_smb2_write_req d;
  assert_int_equal(smbx_smb2_decode_write_req(out, (size_t)n, &d, NULL), 0);
  assert_int_equal(d.channel_info_offset, 120);
  assert_int_equal(d.data.len, 5);
  assert_int_equal(d.descs.count, 1);
  /* the data overlapping the channel info (case 28) */
  io_put32(out, 68, 9);
  smbx_error_detail e = io_expect_fail(out, (size_t)n, dec_write_req, &d);
  assert_string_equal(e.reason, "write req: data overlaps channel info");
  /* data inside the fixed part, offset 0 with a length, past the end */
  uint8_t *b = io_dup(io_write_req_inline, LEN(io_write_req_inline));
  io_put16(b, 66, 0x68);
  io_expect_fail(b, LEN(io_write_req_inline), dec_write_req, &d);
  io_put16(b, 66, 0);
  io_expect_fail(b, LEN(io_write_req_inline), dec_write_req, &d);
  io_put16(b, 66, 0x70);
  io_put32(b, 68, 0xFFFFFFFF); /* 0x70 + 0xFFFFFFFF wraps 32 bits */
  io_expect_fail(b, LEN(io_write_req_inline), dec_write_req, &d);
  free(b);
  /* scatter-gather: 112 bytes written, Length says 64 KiB */
  memset(&w, 0, sizeof w);
  w.data.len = 65536;
  assert_int_equal(smbx_smb2_encode_write_req(&h, &w, out, sizeof out, NULL),
                   112);
  assert_int_equal(out[68], 0);
  assert_int_equal(out[69], 0);
  assert_int_equal(out[70], 1); /* Length 0x00010000 */
  assert_int_equal(out[71], 0);
  w.channel_info.p = ci;
  w.channel_info.len = 16;
  assert_int_equal(smbx_smb2_encode_write_req(&h, &w, out, sizeof out, NULL),
                   SMBX_ERR_INVAL);
  /* a zero-length write: DataOffset 0x70 and one pad byte */
  memset(&w, 0, sizeof w);
  assert_int_equal(smbx_smb2_encode_write_req(&h, &w, out, sizeof out, NULL),
                   113);
  assert_int_equal(smbx_smb2_decode_write_req(out, 113, &d, NULL), 0);
  assert_int_equal(d.data_offset, 0x70);
  /* channel info too long for its u16 length */
  w.channel_info.p = out;
  w.channel_info.len = 65536;
  assert_int_equal(smbx_smb2_encode_write_req(&h, &w, out, sizeof out, NULL),
                   SMBX_ERR_RANGE);
}

/* ---- case 12 and 32: LOCK ---- */

static void smb2_case_12_lock_three_elements(void **state)
{
  (void)state;
  smbx_smb2_lock_req l;
  uint8_t *keep;
  io_round_trip(io_lock_req, LEN(io_lock_req), dec_lock_req, enc_lock_req, &l,
                &keep);
  assert_int_equal(l.lock_count, 3);
  assert_int_equal(l.lock_sequence, (5 << 4) | 1);
  assert_int_equal(l.locks.len, 72);
  smbx_smb2_lock_element el[3];
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(smbx_smb2_lock_req_get(&l, i, &el[i]), 0);
  assert_int_equal(smbx_smb2_lock_req_get(&l, 3, &el[0]), SMBX_ERR_RANGE);
  assert_int_equal(el[0].flags, SMBX_SMB2_LOCKFLAG_EXCLUSIVE |
                                    SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY);
  assert_int_equal(el[0].length, 100);
  assert_int_equal(el[1].flags, SMBX_SMB2_LOCKFLAG_SHARED);
  assert_int_equal(el[1].offset, 200);
  assert_int_equal(el[2].flags, SMBX_SMB2_LOCKFLAG_UNLOCK);
  /* the element-array form encodes the same bytes */
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_lock_req, 64, &h, NULL), 0);
  smbx_smb2_lock_req e = l;
  e.locks.p = NULL;
  e.locks.len = 0;
  e.elements = el;
  uint8_t out[256];
  assert_int_equal(smbx_smb2_encode_lock_req(&h, &e, out, sizeof out, NULL),
                   (smbx_ssize)LEN(io_lock_req));
  assert_memory_equal(out, io_lock_req, LEN(io_lock_req));
  e.lock_count = 0;
  assert_int_equal(smbx_smb2_encode_lock_req(&h, &e, out, sizeof out, NULL),
                   SMBX_ERR_RANGE);
  free(keep);
  io_truncations(io_lock_req, LEN(io_lock_req), dec_lock_req, &l,
                 LEN(io_lock_req));

  smbx_smb2_lock_resp r;
  io_round_trip(io_lock_resp, LEN(io_lock_resp), dec_lock_resp, enc_lock_resp,
                &r, &keep);
  free(keep);
  io_truncations(io_lock_resp, LEN(io_lock_resp), dec_lock_resp, &r,
                 LEN(io_lock_resp));
}

static void smb2_case_32_lock_count_zero_ffff_and_too_many(void **state)
{
  (void)state;
  size_t n = LEN(io_lock_req);
  uint8_t *b = io_dup(io_lock_req, n);
  smbx_smb2_lock_req l;
  smbx_error_detail e;
  io_put16(b, 66, 0);
  e = io_expect_fail(b, n, dec_lock_req, &l);
  assert_string_equal(e.reason, "lock req: LockCount 0");
  assert_int_equal(e.offset, 66);
  io_put16(b, 66, 0xFFFF);
  e = io_expect_fail(b, n, dec_lock_req, &l);
  assert_string_equal(e.reason, "lock req: LockCount past the end");
  io_put16(b, 66, 4);
  io_expect_fail(b, n, dec_lock_req, &l);
  /* fewer than present is fine: trailing bytes belong to nobody */
  io_put16(b, 66, 2);
  assert_int_equal(dec_lock_req(b, n, &l, NULL), 0);
  assert_int_equal(l.locks.len, 48);
  free(b);
}

/* ---- case 26: wrong body StructureSize, for every I/O decoder ---- */

static void smb2_case_26_wrong_structure_size_io_commands(void **state)
{
  (void)state;
  static const struct {
    const uint8_t *v;
    size_t len;
    io_dec_fn dec;
  } t[] = {
#define V(a, d) {a, sizeof(a), dec_##d}
    V(io_read_req_inline, read_req), V(io_read_resp_inline, read_resp),
    V(io_write_req_inline, write_req), V(io_write_resp, write_resp),
    V(io_lock_req, lock_req), V(io_lock_resp, lock_resp),
    V(io_ioctl_req_vni, ioctl_req), V(io_ioctl_resp_vni, ioctl_resp),
    V(io_qdir_req, query_directory_req),
    V(io_qdir_resp_37, query_directory_resp),
    V(io_notify_req, change_notify_req), V(io_notify_resp, change_notify_resp),
    V(io_qinfo_req_18, query_info_req), V(io_qinfo_resp_18, query_info_resp),
    V(io_setinfo_req_4, set_info_req), V(io_setinfo_resp, set_info_resp),
#undef V
  };
  union {
    smbx_smb2_read_req a;
    smbx_smb2_write_req b;
    smbx_smb2_ioctl_req c;
    smbx_smb2_query_info_req d;
    smbx_smb2_lock_req e;
  } out;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    uint8_t *b = io_dup(t[i].v, t[i].len);
    assert_int_equal(t[i].dec(b, t[i].len, &out, NULL), 0);
    uint16_t ss = (uint16_t)(b[64] | b[65] << 8);
    static const int delta[] = {-1, 1, 2, 0x100};
    for (size_t k = 0; k < 4; k++) {
      io_put16(b, 64, (uint16_t)(ss + delta[k]));
      smbx_error_detail e = io_expect_fail(b, t[i].len, t[i].dec, &out);
      assert_int_equal(e.offset, 64);
    }
    /* another command's code in the header */
    io_put16(b, 64, ss);
    io_put16(b, 12, (uint16_t)(b[12] == 8 ? 9 : 8));
    io_expect_fail(b, t[i].len, t[i].dec, &out);
    free(b);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_10_read_inline_round_trip),
    cmocka_unit_test(smb2_case_10_read_rdma_v1_invalidate_two_descriptors),
    cmocka_unit_test(smb2_case_10_read_resp_rdma_data_length_zero),
    cmocka_unit_test(read_resp_fixed_part_as_the_decoder),
    cmocka_unit_test(read_resp_scatter_gather_writes_header_only),
    cmocka_unit_test(read_rdma_transform_channel_round_trip),
    cmocka_unit_test(rdma_transform_hostile_fields),
    cmocka_unit_test(read_resp_with_rdma_transform_flag),
    cmocka_unit_test(smb2_case_27_read_channel_info_offsets),
    cmocka_unit_test(smb2_case_28_read_channel_info_inside_fixed_part),
    cmocka_unit_test(smb2_case_32_channel_info_length_not_multiple_of_16),
    cmocka_unit_test(smb2_case_32_more_than_4095_descriptors),
    cmocka_unit_test(smb2_case_11_write_inline_round_trip),
    cmocka_unit_test(smb2_case_11_write_rdma_length_zero_offset_zero),
    cmocka_unit_test(write_layouts_and_hostile_areas),
    cmocka_unit_test(smb2_case_12_lock_three_elements),
    cmocka_unit_test(smb2_case_32_lock_count_zero_ffff_and_too_many),
    cmocka_unit_test(smb2_case_26_wrong_structure_size_io_commands),
  };
  return RUN_TESTS(tests);
}
