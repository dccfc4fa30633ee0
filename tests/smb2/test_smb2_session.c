/* SPDX-License-Identifier: MIT */
/* lib/smb2: NEGOTIATE (+ contexts), SESSION_SETUP, LOGOFF, TREE_CONNECT,
 * TREE_DISCONNECT, ECHO, CANCEL (smb2.md 4.1-4.3; cases 2-6, 31, 32, 39). */
#include "smb2_test_util.h"

#include "../vectors/smb2/pdus.h"

RT_WRAP(negreq, smbx_smb2_decode_negotiate_req,
        smbx_smb2_encode_negotiate_req, smbx_smb2_negotiate_req)
RT_WRAP(negresp, smbx_smb2_decode_negotiate_resp,
        smbx_smb2_encode_negotiate_resp, smbx_smb2_negotiate_resp)
RT_WRAP(ssreq, smbx_smb2_decode_session_setup_req,
        smbx_smb2_encode_session_setup_req, smbx_smb2_session_setup_req)
RT_WRAP(ssresp, smbx_smb2_decode_session_setup_resp,
        smbx_smb2_encode_session_setup_resp, smbx_smb2_session_setup_resp)
RT_WRAP(tcreq, smbx_smb2_decode_tree_connect_req,
        smbx_smb2_encode_tree_connect_req, smbx_smb2_tree_connect_req)
RT_WRAP(tcresp, smbx_smb2_decode_tree_connect_resp,
        smbx_smb2_encode_tree_connect_resp, smbx_smb2_tree_connect_resp)

/* The simple decoders need the command: take it from the header. */
static int dec_simple(const uint8_t *p, size_t n, void *o,
                      smbx_error_detail *e)
{
  if (n < 64)
    return smbx_smb2_decode_simple(p, n, SMBX_SMB2_ECHO, 0,
                                   (smbx_smb2_simple *)o, e);
  uint16_t cmd = (uint16_t)(p[12] | p[13] << 8);
  int resp = p[16] & 1;
  return smbx_smb2_decode_simple(p, n, cmd, resp, (smbx_smb2_simple *)o, e);
}
static smbx_ssize enc_simple(const smbx_smb2_hdr *h, const void *o,
                             uint8_t *b, size_t c, size_t *nd)
{
  return smbx_smb2_encode_simple(h, (const smbx_smb2_simple *)o, b, c, nd);
}

static void smb2_case_2_negotiate_2x_roundtrip(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(negreq, negotiate_req_2x, 0, smbx_smb2_negotiate_req),
    RT_CASE(negresp, negotiate_resp_2x, 0, smbx_smb2_negotiate_resp),
  };
  rt_run_table(t, 2);
  smbx_smb2_negotiate_req q;
  assert_int_equal(smbx_smb2_decode_negotiate_req(
                       smb2_vec_negotiate_req_2x,
                       sizeof smb2_vec_negotiate_req_2x, &q, NULL),
                   0);
  assert_int_equal(q.dialect_count, 4);
  assert_int_equal(smbx_smb2_bytes_u16(q.dialects, 0), 0x0202);
  assert_int_equal(smbx_smb2_bytes_u16(q.dialects, 3), 0x0302);
  assert_int_equal(smbx_smb2_bytes_u16(q.dialects, 4), 0);
  assert_int_equal(q.security_mode, 1);
  assert_int_equal(q.capabilities, 0x7F);
  assert_int_equal(q.client_guid[0], 0x10);
  assert_int_equal(q.neg_ctx.len, 0);
  smbx_smb2_negotiate_resp r;
  assert_int_equal(smbx_smb2_decode_negotiate_resp(
                       smb2_vec_negotiate_resp_2x,
                       sizeof smb2_vec_negotiate_resp_2x, &r, NULL),
                   0);
  assert_int_equal(r.dialect_revision, 0x0302);
  assert_int_equal(r.max_read_size, 8388608);
  assert_ptr_equal(r.security_buffer.p, smb2_vec_negotiate_resp_2x + 0x80);
  assert_int_equal(r.security_buffer.len, 16);
}

static void smb2_case_3_negotiate_311_contexts(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(negreq, negotiate_req_311, 0, smbx_smb2_negotiate_req),
    RT_CASE(negresp, negotiate_resp_311, 0, smbx_smb2_negotiate_resp),
  };
  rt_run_table(t, 2);
  smbx_smb2_negotiate_req q;
  assert_int_equal(smbx_smb2_decode_negotiate_req(
                       smb2_vec_negotiate_req_311,
                       sizeof smb2_vec_negotiate_req_311, &q, NULL),
                   0);
  assert_int_equal(q.dialect_count, 5);
  assert_int_equal(q.neg_ctx_offset, 0x70);
  assert_int_equal(q.neg_ctx_count, 8);
  /* every context, unknown ones included, in order, 8-aligned */
  static const uint16_t types[] = {1, 2, 3, 5, 6, 7, 8, 0x100};
  smbx_smb2_neg_ctx_iter it;
  smbx_smb2_neg_ctx c;
  smbx_smb2_neg_ctx_info info;
  smbx_smb2_neg_ctx_iter_init(&it, q.neg_ctx, q.neg_ctx_count, 0x70);
  smbx_smb2_neg_ctx all[8];
  for (int i = 0; i < 8; i++) {
    assert_int_equal(smbx_smb2_neg_ctx_next(&it, &c, NULL), 1);
    all[i] = c;
    assert_int_equal(c.type, types[i]);
    assert_int_equal((size_t)(c.data.p - smb2_vec_negotiate_req_311 - 8) % 8,
                     0);
    assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, NULL), 0);
    uint8_t buf[128];
    smbx_ssize n = smbx_smb2_neg_ctx_build(&info, buf, sizeof buf, NULL);
    assert_int_equal(n, (smbx_ssize)c.data.len);
    assert_memory_equal(buf, c.data.p, c.data.len);
    switch (c.type) {
    case SMBX_SMB2_NEG_CTX_PREAUTH:
      assert_int_equal(info.count, 1);
      assert_int_equal(smbx_smb2_bytes_u16(info.ids, 0),
                       SMBX_SMB2_HASH_SHA512);
      assert_int_equal(info.salt.len, 32);
      break;
    case SMBX_SMB2_NEG_CTX_ENCRYPTION:
      assert_int_equal(info.count, 4);
      assert_int_equal(smbx_smb2_bytes_u16(info.ids, 0),
                       SMBX_SMB2_CIPHER_AES128_GCM);
      break;
    case SMBX_SMB2_NEG_CTX_NETNAME:
      assert_int_equal(info.value.len, 6);
      break;
    case SMBX_SMB2_NEG_CTX_SIGNING:
      assert_int_equal(info.count, 3);
      assert_int_equal(smbx_smb2_bytes_u16(info.ids, 0),
                       SMBX_SMB2_SIGNING_AES_GMAC);
      break;
    case SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM:
      assert_int_equal(smbx_smb2_bytes_u16(info.ids, 0),
                       SMBX_SMB2_RDMA_TRANSFORM_ENCRYPTION);
      break;
    case SMBX_SMB2_NEG_CTX_POSIX:
      assert_int_equal(info.value.len, 16);
      assert_int_equal(info.value.p[0], 0x93);
      break;
    default:
      break;
    }
  }
  assert_int_equal(smbx_smb2_neg_ctx_next(&it, &c, NULL), 0);
  /* the list encoder reproduces the area */
  uint8_t buf[512];
  size_t need = 0;
  assert_int_equal(smbx_smb2_neg_ctx_list_encode(all, 8, buf, sizeof buf,
                                                 &need),
                   (smbx_ssize)q.neg_ctx.len);
  assert_memory_equal(buf, q.neg_ctx.p, q.neg_ctx.len);
  assert_int_equal(smbx_smb2_neg_ctx_list_encode(all, 8, buf, need - 1, NULL),
                   SMBX_ERR_NOBUF);
  /* response: one cipher, one signing algorithm */
  smbx_smb2_negotiate_resp r;
  assert_int_equal(smbx_smb2_decode_negotiate_resp(
                       smb2_vec_negotiate_resp_311,
                       sizeof smb2_vec_negotiate_resp_311, &r, NULL),
                   0);
  assert_int_equal(r.neg_ctx_offset, 0x90);
  assert_int_equal(r.neg_ctx_count, 3);
  smbx_smb2_neg_ctx_iter_init(&it, r.neg_ctx, r.neg_ctx_count, 0x90);
  int n = 0;
  while (smbx_smb2_neg_ctx_next(&it, &c, NULL) == 1) {
    assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, NULL), 0);
    if (c.type != SMBX_SMB2_NEG_CTX_PREAUTH)
      assert_int_equal(info.count, 1);
    n++;
  }
  assert_int_equal(n, 3);
}

static void smb2_case_4_session_setup_legs(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(ssreq, session_setup_req, 0, smbx_smb2_session_setup_req),
    RT_CASE(ssresp, session_setup_resp_more, 0, smbx_smb2_session_setup_resp),
    RT_CASE(ssresp, session_setup_resp_signed, 1,
            smbx_smb2_session_setup_resp),
    RT_CASE(ssreq, session_setup_req_binding, 0, smbx_smb2_session_setup_req),
  };
  rt_run_table(t, 4);
  smbx_smb2_session_setup_req q;
  assert_int_equal(smbx_smb2_decode_session_setup_req(
                       smb2_vec_session_setup_req_binding,
                       sizeof smb2_vec_session_setup_req_binding, &q, NULL),
                   0);
  assert_int_equal(q.flags, SMBX_SMB2_SESSION_FLAG_BINDING);
  assert_ptr_equal(q.security_buffer.p,
                   smb2_vec_session_setup_req_binding + 0x58);
  assert_int_equal(q.security_buffer.len, 16);
  smbx_smb2_hdr h;
  smbx_smb2_hdr_decode(smb2_vec_session_setup_req_binding, 64, &h, NULL);
  assert_int_equal(h.flags, SMBX_SMB2_FLAGS_SIGNED);
  assert_int_equal(h.signature[0], 0xA0);
  smbx_smb2_session_setup_resp r;
  assert_int_equal(smbx_smb2_decode_session_setup_resp(
                       smb2_vec_session_setup_resp_more,
                       sizeof smb2_vec_session_setup_resp_more, &r, NULL),
                   0);
  assert_ptr_equal(r.security_buffer.p,
                   smb2_vec_session_setup_resp_more + 0x48);
  smbx_smb2_hdr_decode(smb2_vec_session_setup_resp_more, 64, &h, NULL);
  assert_int_equal(h.status, SMBX_STATUS_MORE_PROCESSING_REQUIRED);
}

static void smb2_case_5_simple_bodies_and_cancel_async(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(simple, logoff_req, 0, smbx_smb2_simple),
    RT_CASE(simple, logoff_resp, 0, smbx_smb2_simple),
    RT_CASE(simple, tree_disconnect_req, 0, smbx_smb2_simple),
    RT_CASE(simple, tree_disconnect_resp, 0, smbx_smb2_simple),
    RT_CASE(simple, echo_req, 0, smbx_smb2_simple),
    RT_CASE(simple, echo_resp, 0, smbx_smb2_simple),
    RT_CASE(simple, flush_resp, 0, smbx_smb2_simple),
    RT_CASE(simple, cancel_req, 0, smbx_smb2_simple),
    RT_CASE(simple, cancel_req_async, 0, smbx_smb2_simple),
  };
  rt_run_table(t, sizeof t / sizeof t[0]);
  smbx_smb2_simple s;
  /* a command without a 4-byte body in that direction */
  assert_int_equal(smbx_smb2_decode_simple(smb2_vec_echo_req, 68,
                                           SMBX_SMB2_CANCEL, 1, &s, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_decode_simple(smb2_vec_echo_req, 68,
                                           SMBX_SMB2_CREATE, 0, &s, NULL),
                   SMBX_ERR_INVAL);
  /* command mismatch */
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_decode_simple(smb2_vec_echo_req, 68,
                                           SMBX_SMB2_LOGOFF, 0, &s, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 12);
  smbx_smb2_hdr h;
  uint8_t buf[80];
  smbx_smb2_hdr_decode(smb2_vec_echo_req, 68, &h, NULL);
  h.command = SMBX_SMB2_CREATE;
  assert_int_equal(smbx_smb2_encode_simple(&h, &s, buf, sizeof buf, NULL),
                   SMBX_ERR_INVAL);
}

static void smb2_case_6_tree_connect_disk(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(tcreq, tree_connect_req, 0, smbx_smb2_tree_connect_req),
    RT_CASE(tcresp, tree_connect_resp, 0, smbx_smb2_tree_connect_resp),
    RT_CASE(tcreq, tree_connect_req_ext, 0, smbx_smb2_tree_connect_req),
  };
  rt_run_table(t, 3);
  smbx_smb2_tree_connect_req q;
  assert_int_equal(smbx_smb2_decode_tree_connect_req(
                       smb2_vec_tree_connect_req,
                       sizeof smb2_vec_tree_connect_req, &q, NULL),
                   0);
  uint8_t u8[64];
  size_t n = 0;
  assert_int_equal(smbx_utf16le_to_utf8(q.path.p, q.path.len, u8, sizeof u8,
                                        &n),
                   0);
  assert_int_equal(n, 11);
  assert_memory_equal(u8, "\\\\srv\\share", 11);
  smbx_smb2_tree_connect_resp r;
  assert_int_equal(smbx_smb2_decode_tree_connect_resp(
                       smb2_vec_tree_connect_resp,
                       sizeof smb2_vec_tree_connect_resp, &r, NULL),
                   0);
  assert_int_equal(r.share_type, SMBX_SMB2_SHARE_TYPE_DISK);
  assert_int_equal(r.share_flags, 0x30);
  assert_int_equal(r.maximal_access, 0x001F01FF);
  /* EXTENSION_PRESENT: path @88, one context */
  assert_int_equal(smbx_smb2_decode_tree_connect_req(
                       smb2_vec_tree_connect_req_ext,
                       sizeof smb2_vec_tree_connect_req_ext, &q, NULL),
                   0);
  assert_ptr_equal(q.path.p, smb2_vec_tree_connect_req_ext + 88);
  assert_int_equal(q.ctx_count, 1);
  assert_int_equal(q.ctx_offset, 112);
  smbx_smb2_neg_ctx_iter it;
  smbx_smb2_neg_ctx c;
  smbx_smb2_neg_ctx_iter_init(&it, q.contexts, q.ctx_count, q.ctx_offset);
  assert_int_equal(smbx_smb2_neg_ctx_next(&it, &c, NULL), 1);
  assert_int_equal(c.data.len, 8);
  assert_int_equal(smbx_smb2_neg_ctx_next(&it, &c, NULL), 0);
  /* odd path length */
  uint8_t *p = vec_dup(smb2_vec_tree_connect_req,
                       sizeof smb2_vec_tree_connect_req, 0);
  put16(p, 70, 21);
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_decode_tree_connect_req(
                       p, sizeof smb2_vec_tree_connect_req, &q, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void smb2_case_31_negotiate_ctx_hostile(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_negotiate_req_311;
  uint8_t *p = vec_dup(smb2_vec_negotiate_req_311, n, 0);
  smbx_smb2_negotiate_req q;
  smbx_error_detail e;
  /* count 0xFFFF with a short buffer */
  put16(p, 96, 0xFFFF);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  put16(p, 96, 9); /* one more than present */
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* misaligned offset; offset into the dialects; past the end */
  static const uint32_t offs[] = {0x71, 0x74, 0x68, 0x10, 0, 0xFFFFFFF8u};
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    put32(p, 92, offs[i]);
    assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                     SMBX_ERR_DECODE);
    assert_int_equal(e.offset, 92);
  }
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* first context (PREAUTH) @0x70: DataLength past the end */
  put16(p, 0x72, 0xFFFF);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* HashAlgorithmCount 0 */
  put16(p, 0x78, 0);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 0x78);
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* SaltLength > DataLength */
  put16(p, 0x7A, 33);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* second context (ENCRYPTION) header: 0x70 + 8 + 38 -> 0xA0; CipherCount 0 */
  assert_int_equal(p[0xA0], 2);
  put16(p, 0xA8, 0);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 0xA8);
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* two PREAUTH: retype ENCRYPTION as PREAUTH with valid data */
  put16(p, 0xA0, 1);
  put16(p, 0xA8, 1); /* HashAlgorithmCount 1 */
  put16(p, 0xAA, 0); /* SaltLength 0 */
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "negotiate: more than one PREAUTH context");
  memcpy(p, smb2_vec_negotiate_req_311, n);
  /* no PREAUTH at all: retype it as an unknown context */
  put16(p, 0x70, 0x55);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  put16(p, 96, 0);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  free(p);
  /* parse of hostile data directly */
  smbx_smb2_neg_ctx c = {SMBX_SMB2_NEG_CTX_NETNAME, 0, {(const uint8_t *)"abc",
                                                        3}};
  smbx_smb2_neg_ctx_info info;
  assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, &e), SMBX_ERR_DECODE);
  c.type = SMBX_SMB2_NEG_CTX_TRANSPORT;
  assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, &e), SMBX_ERR_DECODE);
  c.type = SMBX_SMB2_NEG_CTX_POSIX;
  assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, &e), SMBX_ERR_DECODE);
  c.type = SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM;
  assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, &e), SMBX_ERR_DECODE);
  c.type = 0x77; /* unknown: opaque */
  assert_int_equal(smbx_smb2_neg_ctx_parse(&c, &info, &e), 0);
  assert_int_equal(info.value.len, 3);
}

static void smb2_case_32_dialect_count_zero_and_ffff(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_negotiate_req_2x;
  uint8_t *p = vec_dup(smb2_vec_negotiate_req_2x, n, 0);
  smbx_smb2_negotiate_req q;
  smbx_error_detail e;
  put16(p, 66, 0);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 66);
  put16(p, 66, 0xFFFF);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 66);
  put16(p, 66, 5);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void smb2_case_39_signed_negotiate_and_cancel_body(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_negotiate_req_2x;
  uint8_t *p = vec_dup(smb2_vec_negotiate_req_2x, n, 0);
  smbx_smb2_negotiate_req q;
  smbx_error_detail e;
  put32(p, 16, SMBX_SMB2_FLAGS_SIGNED);
  assert_int_equal(smbx_smb2_decode_negotiate_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 16);
  free(p);
  /* CANCEL body > 4 bytes */
  p = vec_dup(smb2_vec_cancel_req, 68, 8);
  smbx_smb2_simple s;
  assert_int_equal(smbx_smb2_decode_simple(p, 69, SMBX_SMB2_CANCEL, 0, &s, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 68);
  /* ... but as a compound member, padding to 8 is fine */
  put32(p, 20, 72);
  assert_int_equal(smbx_smb2_decode_simple(p, 72, SMBX_SMB2_CANCEL, 0, &s, &e),
                   0);
  assert_int_equal(smbx_smb2_decode_simple(p, 76, SMBX_SMB2_CANCEL, 0, &s, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void negotiate_encoder_rejects_bad_views(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_negotiate_req q;
  memset(&q, 0, sizeof q);
  uint8_t buf[256];
  static const uint8_t odd[3] = {2, 2, 0};
  q.dialects.p = odd;
  q.dialects.len = 3;
  assert_int_equal(smbx_smb2_encode_negotiate_req(&h, &q, buf, sizeof buf,
                                                  NULL),
                   SMBX_ERR_RANGE);
  smbx_smb2_session_setup_req ss;
  memset(&ss, 0, sizeof ss);
  ss.security_buffer.len = 0x10000;
  ss.security_buffer.p = buf;
  assert_int_equal(smbx_smb2_encode_session_setup_req(&h, &ss, buf,
                                                      sizeof buf, NULL),
                   SMBX_ERR_RANGE);
  smbx_smb2_tree_connect_req tc;
  memset(&tc, 0, sizeof tc);
  tc.path.p = buf;
  tc.path.len = 5;
  assert_int_equal(smbx_smb2_encode_tree_connect_req(&h, &tc, buf, sizeof buf,
                                                     NULL),
                   SMBX_ERR_RANGE);
  /* an empty path still writes the counted byte */
  tc.path.len = 0;
  assert_int_equal(smbx_smb2_encode_tree_connect_req(&h, &tc, buf, sizeof buf,
                                                     NULL),
                   73);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_2_negotiate_2x_roundtrip),
    cmocka_unit_test(smb2_case_3_negotiate_311_contexts),
    cmocka_unit_test(smb2_case_4_session_setup_legs),
    cmocka_unit_test(smb2_case_5_simple_bodies_and_cancel_async),
    cmocka_unit_test(smb2_case_6_tree_connect_disk),
    cmocka_unit_test(smb2_case_31_negotiate_ctx_hostile),
    cmocka_unit_test(smb2_case_32_dialect_count_zero_and_ffff),
    cmocka_unit_test(smb2_case_39_signed_negotiate_and_cancel_body),
    cmocka_unit_test(negotiate_encoder_rejects_bad_views),
  };
  return RUN_TESTS(tests);
}
