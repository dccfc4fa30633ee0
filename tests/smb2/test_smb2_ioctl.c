/* SPDX-License-Identifier: MIT */
/* IOCTL with FSCTL_VALIDATE_NEGOTIATE_INFO and
 * FSCTL_QUERY_NETWORK_INTERFACE_INFO payloads: spec/smb2.md 4.9 and sec. 7
 * cases 13, 28 (input over output), 35. */
#include "io_test.h"

#include "../vectors/smb2/io_ioctl.h"

IO_CODEC(ioctl_req, smbx_smb2_ioctl_req)
IO_CODEC(ioctl_resp, smbx_smb2_ioctl_resp)

#define LEN(a) (sizeof(a))

static void smb2_case_13_validate_negotiate_info(void **state)
{
  (void)state;
  smbx_smb2_ioctl_req q;
  uint8_t *keep;
  io_round_trip(io_ioctl_req_vni, LEN(io_ioctl_req_vni), dec_ioctl_req,
                enc_ioctl_req, &q, &keep);
  assert_int_equal(q.ctl_code, SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO);
  assert_true(q.file_id.persistent_id == UINT64_MAX);
  assert_true(q.file_id.volatile_id == UINT64_MAX);
  assert_int_equal(q.flags, SMBX_SMB2_IOCTL_IS_FSCTL);
  assert_int_equal(q.input_offset, 0x78);
  assert_int_equal(q.max_output_response, 24);
  assert_int_equal(q.output.len, 0);
  assert_ptr_equal(q.input.p, keep + 0x78);
  smbx_smb2_vni_req v;
  assert_int_equal(smbx_smb2_vni_req_decode(q.input.p, q.input.len, &v, NULL),
                   0);
  assert_int_equal(v.capabilities, 0x7F);
  assert_int_equal(v.guid[0], 0x10);
  assert_int_equal(v.guid[15], 0x1F);
  assert_int_equal(v.security_mode, 1);
  assert_int_equal(v.dialects.len, 8);
  assert_int_equal(smbx_smb2_bytes_u16(v.dialects, 0), SMBX_SMB2_DIALECT_202);
  assert_int_equal(smbx_smb2_bytes_u16(v.dialects, 3), SMBX_SMB2_DIALECT_302);
  uint8_t out[64];
  size_t need = 0;
  assert_int_equal(smbx_smb2_vni_req_encode(&v, out, 31, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 32);
  assert_int_equal(smbx_smb2_vni_req_encode(&v, out, sizeof out, &need), 32);
  assert_memory_equal(out, q.input.p, 32);
  /* hostile VNI inputs */
  uint8_t b[32];
  smbx_error_detail e;
  memcpy(b, q.input.p, 32);
  io_put16(b, 22, 0);
  assert_int_equal(smbx_smb2_vni_req_decode(b, 32, &v, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "vni req: DialectCount 0");
  io_put16(b, 22, 0xFFFF);
  assert_int_equal(smbx_smb2_vni_req_decode(b, 32, &v, NULL),
                   SMBX_ERR_DECODE);
  for (size_t l = 0; l < 32; l++) {
    uint8_t *t = io_dup(q.input.p, l);
    assert_int_equal(smbx_smb2_vni_req_decode(t, l, &v, NULL),
                     SMBX_ERR_DECODE);
    free(t);
  }
  v.dialects.len = 0;
  assert_int_equal(smbx_smb2_vni_req_encode(&v, out, sizeof out, NULL),
                   SMBX_ERR_RANGE);
  free(keep);
  io_truncations(io_ioctl_req_vni, LEN(io_ioctl_req_vni), dec_ioctl_req, &q,
                 LEN(io_ioctl_req_vni));

  smbx_smb2_ioctl_resp r;
  io_round_trip(io_ioctl_resp_vni, LEN(io_ioctl_resp_vni), dec_ioctl_resp,
                enc_ioctl_resp, &r, &keep);
  assert_int_equal(r.output.len, 24);
  assert_int_equal(r.input.len, 0);
  smbx_smb2_vni_resp vr;
  assert_int_equal(smbx_smb2_vni_resp_decode(r.output.p, r.output.len, &vr,
                                             NULL),
                   0);
  assert_int_equal(vr.capabilities, 0x2F);
  assert_int_equal(vr.dialect, SMBX_SMB2_DIALECT_302);
  assert_int_equal(vr.guid[0], 0x30);
  assert_int_equal(smbx_smb2_vni_resp_encode(&vr, out, 23, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_vni_resp_encode(&vr, out, sizeof out, &need), 24);
  assert_memory_equal(out, r.output.p, 24);
  assert_int_equal(smbx_smb2_vni_resp_decode(r.output.p, 23, &vr, NULL),
                   SMBX_ERR_DECODE);
  free(keep);
  io_truncations(io_ioctl_resp_vni, LEN(io_ioctl_resp_vni), dec_ioctl_resp,
                 &r, LEN(io_ioctl_resp_vni));
}

static int walk_netif(const uint8_t *p, size_t len, smbx_smb2_netif *out,
                      int max, smbx_error_detail *err)
{
  smbx_smb2_netif_iter it;
  assert_int_equal(smbx_smb2_netif_iter_init(&it, p, len), 0);
  smbx_smb2_netif e;
  int n = 0, rc;
  while ((rc = smbx_smb2_netif_iter_next(&it, &e, err)) == 1) {
    if (n < max)
      out[n] = e;
    n++;
  }
  if (rc < 0) {
    assert_int_equal(smbx_smb2_netif_iter_next(&it, &e, NULL), 0);
    return rc;
  }
  return n;
}

static void smb2_case_13_network_interface_info_ipv4_ipv6(void **state)
{
  (void)state;
  smbx_smb2_ioctl_req q;
  uint8_t *keep;
  io_round_trip(io_ioctl_req_netif, LEN(io_ioctl_req_netif), dec_ioctl_req,
                enc_ioctl_req, &q, &keep);
  assert_int_equal(q.ctl_code, SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO);
  assert_int_equal(q.input.len, 0);
  assert_int_equal(q.max_output_response, 65536);
  free(keep);
  io_truncations(io_ioctl_req_netif, LEN(io_ioctl_req_netif), dec_ioctl_req,
                 &q, LEN(io_ioctl_req_netif) - 1);

  smbx_smb2_ioctl_resp r;
  io_round_trip(io_ioctl_resp_netif, LEN(io_ioctl_resp_netif), dec_ioctl_resp,
                enc_ioctl_resp, &r, &keep);
  assert_int_equal(r.output.len, 2 * 152);
  smbx_smb2_netif e[2];
  assert_int_equal(walk_netif(r.output.p, r.output.len, e, 2, NULL), 2);
  assert_int_equal(e[0].next, 152);
  assert_int_equal(e[0].if_index, 3);
  assert_int_equal(e[0].capability,
                   SMBX_SMB2_NETIF_RSS_CAPABLE | SMBX_SMB2_NETIF_RDMA_CAPABLE);
  assert_true(e[0].link_speed == 100000000000ull);
  assert_int_equal(e[0].family, SMBX_SMB2_NETIF_FAMILY_INET);
  static const uint8_t v4[4] = {192, 168, 7, 1};
  assert_memory_equal(e[0].addr, v4, 4);
  assert_int_equal(e[1].next, 0);
  assert_int_equal(e[1].family, SMBX_SMB2_NETIF_FAMILY_INET6);
  assert_int_equal(e[1].capability, SMBX_SMB2_NETIF_RSS_CAPABLE);
  static const uint8_t v6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
  assert_memory_equal(e[1].addr, v6, 16);
  assert_int_equal(e[1].port, 0);
  uint8_t out[400];
  size_t need = 0;
  assert_int_equal(smbx_smb2_netif_encode(e, 2, out, 303, &need),
                   SMBX_ERR_NOBUF);
  assert_int_equal(need, 304);
  assert_int_equal(smbx_smb2_netif_encode(e, 2, out, sizeof out, &need), 304);
  assert_memory_equal(out, io_netif_payload, 304);
  /* IPv6 flow/scope survive in network order */
  e[1].flow_info = 0x01020304;
  e[1].scope_id = 7;
  assert_int_equal(smbx_smb2_netif_encode(e, 2, out, sizeof out, NULL), 304);
  assert_int_equal(out[152 + 28], 0x01);
  assert_int_equal(out[152 + 51], 7);
  smbx_smb2_netif back[2];
  assert_int_equal(walk_netif(out, 304, back, 2, NULL), 2);
  assert_int_equal(back[1].flow_info, 0x01020304);
  assert_int_equal(back[1].scope_id, 7);
  e[0].family = 0x1C;
  assert_int_equal(smbx_smb2_netif_encode(e, 2, out, sizeof out, NULL),
                   SMBX_ERR_INVAL);
  free(keep);
  io_truncations(io_ioctl_resp_netif, LEN(io_ioctl_resp_netif),
                 dec_ioctl_resp, &r, LEN(io_ioctl_resp_netif));
}

static void smb2_case_35_network_interface_next_hostile(void **state)
{
  (void)state;
  size_t len = LEN(io_netif_payload);
  static const struct {
    size_t at;
    uint32_t v;
    const char *reason;
  } bad[] = {
    {0, 144, "netif: Next < 152"},
    {0, 8, "netif: Next < 152"},
    {0, 156, "netif: Next not 8-aligned"},
    {0, 153, "netif: Next not 8-aligned"},
    {0, 160, "netif: entry past end"}, /* second entry cut short */
    {0, 304, "netif: Next past end"},
    {0, 0xFFFFFFF8u, "netif: Next past end"},
    {24, 0x1C, "netif: unknown address family"},
    {152 + 24, 0, "netif: unknown address family"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *p = io_dup(io_netif_payload, len);
    if (bad[i].at % 152 == 24)
      io_put16(p, bad[i].at, (uint16_t)bad[i].v);
    else
      io_put32(p, bad[i].at, bad[i].v);
    smbx_smb2_netif e[2];
    smbx_error_detail err = {NULL, 0};
    assert_int_equal(walk_netif(p, len, e, 2, &err), SMBX_ERR_DECODE);
    assert_string_equal(err.reason, bad[i].reason);
    free(p);
  }
  for (size_t l = 1; l < len; l++) {
    uint8_t *p = io_dup(io_netif_payload, l);
    smbx_smb2_netif e[2];
    assert_int_equal(walk_netif(p, l, e, 2, NULL), SMBX_ERR_DECODE);
    free(p);
  }
  /* a larger aligned Next is followed (the gap is ignored) */
  uint8_t big[480];
  memset(big, 0, sizeof big);
  memcpy(big, io_netif_payload, 152);
  memcpy(big + 160, io_netif_payload + 152, 152);
  io_put32(big, 0, 160);
  smbx_smb2_netif e[2];
  assert_int_equal(walk_netif(big, 312, e, 2, NULL), 2);
  assert_int_equal(walk_netif(NULL, 0, e, 2, NULL), 0);
}

static void smb2_case_28_ioctl_input_over_output(void **state)
{
  (void)state;
  size_t n = LEN(io_ioctl_req_vni);
  uint8_t *b = io_dup(io_ioctl_req_vni, n);
  smbx_smb2_ioctl_req q;
  /* output inside the input */
  io_put32(b, 100, 0x80);
  io_put32(b, 104, 8);
  smbx_error_detail e = io_expect_fail(b, n, dec_ioctl_req, &q);
  assert_string_equal(e.reason, "ioctl: input overlaps output");
  assert_int_equal(e.offset, 100);
  /* output exactly after the input is fine */
  io_put32(b, 92, 24);
  io_put32(b, 100, 0x78 + 24);
  assert_int_equal(dec_ioctl_req(b, n, &q, NULL), 0);
  /* the same in a response */
  size_t rn = LEN(io_ioctl_resp_vni);
  uint8_t *rb = io_dup(io_ioctl_resp_vni, rn);
  smbx_smb2_ioctl_resp r;
  io_put32(rb, 92, 8); /* input = first 8 bytes of the output */
  e = io_expect_fail(rb, rn, dec_ioctl_resp, &r);
  assert_string_equal(e.reason, "ioctl: input overlaps output");
  free(rb);
  /* case 27: offsets into the fixed part, wrapping 32 bits, offset 0 */
  memcpy(b, io_ioctl_req_vni, n);
  io_put32(b, 88, 0x70);
  e = io_expect_fail(b, n, dec_ioctl_req, &q);
  assert_int_equal(e.offset, 88);
  io_put32(b, 88, 0xFFFFFFF0u);
  io_put32(b, 92, 0x20);
  io_expect_fail(b, n, dec_ioctl_req, &q);
  io_put32(b, 88, 0);
  io_expect_fail(b, n, dec_ioctl_req, &q);
  memcpy(b, io_ioctl_req_vni, n);
  io_put32(b, 104, 0xFFFFFFFFu); /* OutputCount */
  e = io_expect_fail(b, n, dec_ioctl_req, &q);
  assert_int_equal(e.offset, 100);
  free(b);
}

static void ioctl_encoder_layout_input_and_output(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(io_ioctl_req_vni, 64, &h, NULL), 0);
  smbx_smb2_ioctl_req q;
  memset(&q, 0, sizeof q);
  q.ctl_code = SMBX_SMB2_FSCTL_PIPE_TRANSCEIVE;
  q.input.p = (const uint8_t *)"abc";
  q.input.len = 3;
  q.output.p = (const uint8_t *)"defgh";
  q.output.len = 5;
  uint8_t out[256];
  smbx_ssize n = smbx_smb2_encode_ioctl_req(&h, &q, out, sizeof out, NULL);
  assert_int_equal(n, 128 + 5);
  smbx_smb2_ioctl_req d;
  assert_int_equal(smbx_smb2_decode_ioctl_req(out, (size_t)n, &d, NULL), 0);
  assert_int_equal(d.input_offset, 120);
  assert_int_equal(d.output_offset, 128);
  assert_memory_equal(d.output.p, "defgh", 5);
  assert_memory_equal(d.input.p, "abc", 3);
  q.input.p = NULL;
  assert_int_equal(smbx_smb2_encode_ioctl_req(&h, &q, out, sizeof out, NULL),
                   SMBX_ERR_INVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_13_validate_negotiate_info),
    cmocka_unit_test(smb2_case_13_network_interface_info_ipv4_ipv6),
    cmocka_unit_test(smb2_case_35_network_interface_next_hostile),
    cmocka_unit_test(smb2_case_28_ioctl_input_over_output),
    cmocka_unit_test(ioctl_encoder_layout_input_and_output),
  };
  return RUN_TESTS(tests);
}
