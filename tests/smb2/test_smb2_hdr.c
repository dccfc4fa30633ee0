/* SPDX-License-Identifier: MIT */
/* lib/smb2: header, table pass, compound chains, TRANSFORM / COMPRESSION /
 * SMB1 recognition, CreditCharge, ERROR responses (smb2.md sec. 1-3, 4.14,
 * 6.1, 6.2; cases 18-23, 25, 26, 29, 38-40). */
#include "smb2_test_util.h"

#include "../vectors/smb2/pdus.h"

RT_WRAP(error, smbx_smb2_decode_error_resp, smbx_smb2_encode_error_resp,
        smbx_smb2_error_resp)

static void hdr_roundtrip_sync_and_async(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  uint8_t buf[64];
  const uint8_t *vecs[] = {smb2_vec_echo_req, smb2_vec_cancel_req_async,
                           smb2_vec_session_setup_resp_signed};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_hdr_decode(vecs[i], 64, &h, NULL), 0);
    size_t need = 0;
    assert_int_equal(smbx_smb2_hdr_encode(&h, buf, sizeof buf, &need), 64);
    assert_int_equal(need, 64);
    assert_memory_equal(buf, vecs[i], 64);
    assert_int_equal(smbx_smb2_hdr_encode(&h, buf, 63, &need),
                     SMBX_ERR_NOBUF);
  }
  assert_int_equal(smbx_smb2_hdr_decode(smb2_vec_cancel_req_async, 68, &h,
                                        NULL),
                   0);
  assert_int_equal(h.command, SMBX_SMB2_CANCEL);
  assert_int_equal(h.flags, SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  assert_int_equal(h.async_id, 0x2A);
  assert_int_equal(h.tree_id, 0);
  assert_int_equal(h.message_id, 9);
  assert_int_equal(h.session_id, 0x100000001ull);
  assert_int_equal(smbx_smb2_hdr_decode(smb2_vec_echo_req, 68, &h, NULL), 0);
  assert_int_equal(h.tree_id, 5);
  assert_int_equal(h.async_id, 0);
  assert_int_equal(h.structure_size, 64);
  assert_int_equal(smbx_smb2_hdr_decode(NULL, 0, &h, NULL), SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_hdr_decode(smb2_vec_echo_req, 68, NULL, NULL),
                   SMBX_ERR_INVAL);
}

static void hdr_unknown_flag_bits_preserved(void **state)
{
  (void)state;
  uint8_t *p = vec_dup(smb2_vec_echo_req, 68, 0);
  put32(p, 16, 0x40000070u); /* priority 7 + an unknown bit */
  smbx_smb2_hdr h;
  uint8_t buf[64];
  assert_int_equal(smbx_smb2_hdr_decode(p, 68, &h, NULL), 0);
  assert_int_equal(smbx_smb2_hdr_encode(&h, buf, 64, NULL), 64);
  assert_memory_equal(buf, p, 64);
  free(p);
}

static void smb2_case_18_error_forms(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(error, error_resp_73, 1, smbx_smb2_error_resp),
    RT_CASE(error, error_resp_buffer_too_small, 0, smbx_smb2_error_resp),
    RT_CASE(error, error_resp_ctx, 0, smbx_smb2_error_resp),
    RT_CASE(error, error_resp_pending, 1, smbx_smb2_error_resp),
  };
  rt_run_table(t, sizeof t / sizeof t[0]);
  smbx_smb2_error_resp r;
  /* 72-byte form accepted, encoder writes 73 */
  assert_int_equal(smbx_smb2_decode_error_resp(smb2_vec_error_resp_72, 72, &r,
                                               NULL),
                   0);
  assert_int_equal(r.data.len, 0);
  smbx_smb2_hdr h;
  uint8_t buf[128];
  smbx_smb2_hdr_decode(smb2_vec_error_resp_72, 72, &h, NULL);
  assert_int_equal(smbx_smb2_encode_error_resp(&h, &r, buf, sizeof buf, NULL),
                   73);
  assert_memory_equal(buf, smb2_vec_error_resp_73, 73);
  assert_int_equal(smbx_smb2_pdu_validate(smb2_vec_error_resp_72, 72, &h,
                                          NULL),
                   0);
  /* the counted byte's value is ignored (Windows may leave it garbage) */
  uint8_t *p = vec_dup(smb2_vec_error_resp_73, 73, 0);
  p[72] = 0xCC;
  assert_int_equal(smbx_smb2_decode_error_resp(p, 73, &r, NULL), 0);
  free(p);
  /* BUFFER_TOO_SMALL carries a u32 */
  assert_int_equal(smbx_smb2_decode_error_resp(
                       smb2_vec_error_resp_buffer_too_small,
                       sizeof smb2_vec_error_resp_buffer_too_small, &r, NULL),
                   0);
  assert_int_equal(r.data.len, 4);
  assert_int_equal(r.data.p[0] | r.data.p[1] << 8, 1024);
  /* 3.1.1 contexts */
  assert_int_equal(smbx_smb2_decode_error_resp(smb2_vec_error_resp_ctx,
                                               sizeof smb2_vec_error_resp_ctx,
                                               &r, NULL),
                   0);
  assert_int_equal(r.context_count, 2);
  size_t off = 0;
  smbx_smb2_error_ctx c;
  assert_int_equal(smbx_smb2_error_ctx_next(r.data, &off, &c, NULL), 1);
  assert_int_equal(c.error_id, SMBX_SMB2_ERROR_ID_DEFAULT);
  assert_int_equal(c.data.len, 4);
  assert_int_equal(smbx_smb2_error_ctx_next(r.data, &off, &c, NULL), 1);
  assert_int_equal(c.error_id, SMBX_SMB2_ERROR_ID_SHARE_REDIRECT);
  assert_int_equal(c.data.len, 8);
  assert_int_equal(smbx_smb2_error_ctx_next(r.data, &off, &c, NULL), 0);
  /* the context builder reproduces ErrorData */
  smbx_smb2_error_ctx cs[2];
  off = 0;
  smbx_smb2_error_ctx_next(r.data, &off, &cs[0], NULL);
  smbx_smb2_error_ctx_next(r.data, &off, &cs[1], NULL);
  size_t need = 0;
  assert_int_equal(smbx_smb2_error_ctx_encode(cs, 2, buf, sizeof buf, &need),
                   (smbx_ssize)r.data.len);
  assert_memory_equal(buf, r.data.p, r.data.len);
  assert_int_equal(smbx_smb2_error_ctx_encode(cs, 2, buf, need - 1, NULL),
                   SMBX_ERR_NOBUF);
}

static void smb2_case_38_error_bytecount_and_ctx_overflow(void **state)
{
  (void)state;
  smbx_smb2_error_resp r;
  smbx_error_detail e;
  size_t n = sizeof smb2_vec_error_resp_buffer_too_small;
  uint8_t *p = vec_dup(smb2_vec_error_resp_buffer_too_small, n, 0);
  put32(p, 68, 5); /* ByteCount > remaining */
  assert_int_equal(smbx_smb2_decode_error_resp(p, n, &r, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 68);
  put32(p, 68, 0xFFFFFFFFu);
  assert_int_equal(smbx_smb2_decode_error_resp(p, n, &r, &e),
                   SMBX_ERR_DECODE);
  free(p);
  n = sizeof smb2_vec_error_resp_ctx;
  p = vec_dup(smb2_vec_error_resp_ctx, n, 0);
  put32(p, 72, 0xFFFFFFF8u); /* ErrorDataLength overflowing */
  assert_int_equal(smbx_smb2_decode_error_resp(p, n, &r, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 72);
  memcpy(p, smb2_vec_error_resp_ctx, n);
  p[66] = 3; /* count says 3, two present */
  assert_int_equal(smbx_smb2_decode_error_resp(p, n, &r, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 66);
  p[66] = 1; /* bytes after the counted contexts are ignored */
  assert_int_equal(smbx_smb2_decode_error_resp(p, n, &r, &e), 0);
  free(p);
}

static void smb2_case_19_related_compound_chain(void **state)
{
  (void)state;
  smbx_smb2_chain c;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr h;
  static const uint16_t req_cmds[] = {SMBX_SMB2_CREATE, SMBX_SMB2_QUERY_INFO,
                                      SMBX_SMB2_CLOSE};
  static const size_t req_lens[] = {0x90, 0x70, 88};
  assert_int_equal(smbx_smb2_chain_init(&c, smb2_vec_compound_req_case19,
                                        sizeof smb2_vec_compound_req_case19,
                                        0),
                   0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_chain_next(&c, &pdu, &h, NULL), 1);
    assert_int_equal(h.command, req_cmds[i]);
    assert_int_equal(pdu.len, req_lens[i]);
    assert_int_equal(h.message_id, 20u + (unsigned)i);
    assert_int_equal((h.flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) != 0,
                     i > 0);
    assert_int_equal(smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL), 0);
  }
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, &h, NULL), 0);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, &h, NULL), 0);
  /* compounded response: CREATE (padded to 160), QUERY_INFO, CLOSE */
  static const size_t resp_lens[] = {160, 128, 124};
  smbx_smb2_chain_init(&c, smb2_vec_compound_resp_case19,
                       sizeof smb2_vec_compound_resp_case19, 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_chain_next(&c, &pdu, &h, NULL), 1);
    assert_int_equal(pdu.len, resp_lens[i]);
    assert_int_equal(smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL), 0);
  }
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, &h, NULL), 0);
  /* building the request chain: encode each, link all but the last */
  uint8_t buf[512];
  size_t off = 0;
  smbx_smb2_chain_init(&c, smb2_vec_compound_req_case19,
                       sizeof smb2_vec_compound_req_case19, 0);
  for (int i = 0; i < 3; i++) {
    smbx_smb2_chain_next(&c, &pdu, &h, NULL);
    size_t unpadded = i == 1 ? 105 : pdu.len;
    memcpy(buf + off, pdu.p, unpadded);
    put32(buf + off, 20, 0);
    if (i < 2) {
      smbx_ssize n = smbx_smb2_chain_link(buf + off, unpadded,
                                          sizeof buf - off);
      assert_int_equal(n, (smbx_ssize)pdu.len);
      off += (size_t)n;
    } else {
      off += unpadded;
    }
  }
  assert_int_equal(off, sizeof smb2_vec_compound_req_case19);
  assert_memory_equal(buf, smb2_vec_compound_req_case19, off);
  /* every truncation of either chain fails in the iterator or in the
   * table pass of one member (exact-size copies: ASan sees overreads) */
  const uint8_t *chains[] = {smb2_vec_compound_req_case19,
                             smb2_vec_compound_resp_case19};
  const size_t chain_lens[] = {sizeof smb2_vec_compound_req_case19,
                               sizeof smb2_vec_compound_resp_case19};
  for (int v = 0; v < 2; v++)
    for (size_t k = 0; k < chain_lens[v]; k++) {
      uint8_t *t = malloc(k ? k : 1);
      assert_non_null(t);
      memcpy(t, chains[v], k);
      smbx_smb2_chain_init(&c, t, k, 0);
      int rc, errors = 0, n = 0;
      while ((rc = smbx_smb2_chain_next(&c, &pdu, &h, NULL)) == 1) {
        n++;
        if (smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL) != 0)
          errors++;
      }
      if (rc < 0)
        errors++;
      free(t);
      assert_true(errors > 0);
      assert_true(n <= 3);
    }
  assert_int_equal(smbx_smb2_chain_link(buf, 105, 111), SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_chain_link(buf, 63, 100), SMBX_ERR_INVAL);
}

static void smb2_case_20_transform_and_compression_headers(void **state)
{
  (void)state;
  smbx_smb2_transform_hdr t;
  size_t n = sizeof smb2_vec_transform_msg;
  assert_int_equal(smbx_smb2_msg_kind(smb2_vec_transform_msg, n),
                   SMBX_SMB2_MSG_TRANSFORM);
  assert_int_equal(smbx_smb2_transform_decode(smb2_vec_transform_msg, n, &t,
                                              NULL),
                   0);
  assert_int_equal(t.original_message_size, 68);
  assert_int_equal(t.flags, 1);
  assert_int_equal(t.session_id, 0x100000001ull);
  assert_int_equal(t.ciphertext.len, 68);
  assert_ptr_equal(t.ciphertext.p, smb2_vec_transform_msg + 52);
  assert_ptr_equal(t.aad.p, smb2_vec_transform_msg + 20);
  assert_int_equal(t.aad.len, 32);
  uint8_t buf[64];
  assert_int_equal(smbx_smb2_transform_encode(&t, buf, sizeof buf, NULL), 52);
  assert_memory_equal(buf, smb2_vec_transform_msg, 52);
  assert_int_equal(smbx_smb2_transform_encode(&t, buf, 51, NULL),
                   SMBX_ERR_NOBUF);
  /* unchained compression */
  smbx_smb2_compression_hdr ch;
  n = sizeof smb2_vec_compression_msg;
  assert_int_equal(smbx_smb2_msg_kind(smb2_vec_compression_msg, n),
                   SMBX_SMB2_MSG_COMPRESSION);
  assert_int_equal(smbx_smb2_compression_decode(smb2_vec_compression_msg, n,
                                                &ch, NULL),
                   0);
  assert_int_equal(ch.original_size, 200);
  assert_int_equal(ch.algorithm, SMBX_SMB2_COMP_LZ77);
  assert_int_equal(ch.offset, 64);
  assert_int_equal(ch.prefix.len, 64);
  assert_ptr_equal(ch.prefix.p, smb2_vec_compression_msg + 16);
  assert_int_equal(ch.payload.len, n - 80);
  assert_int_equal(smbx_smb2_compression_encode(&ch, buf, sizeof buf, NULL),
                   16);
  assert_memory_equal(buf, smb2_vec_compression_msg, 16);
  /* chained: NONE payload with the header, then Pattern_V1 */
  n = sizeof smb2_vec_compression_msg_chained;
  assert_int_equal(smbx_smb2_compression_decode(
                       smb2_vec_compression_msg_chained, n, &ch, NULL),
                   0);
  assert_int_equal(ch.flags, SMBX_SMB2_COMP_FLAG_CHAINED);
  size_t off = 0;
  smbx_smb2_comp_payload pl;
  assert_int_equal(smbx_smb2_comp_payload_next(ch.payload, &off, &pl, NULL),
                   1);
  assert_int_equal(pl.algorithm, SMBX_SMB2_COMP_NONE);
  assert_int_equal(pl.data.len, 68);
  assert_int_equal(smbx_smb2_comp_payload_next(ch.payload, &off, &pl, NULL),
                   1);
  assert_int_equal(pl.algorithm, SMBX_SMB2_COMP_PATTERN_V1);
  assert_int_equal(pl.data.len, 8);
  assert_int_equal(smbx_smb2_comp_payload_next(ch.payload, &off, &pl, NULL),
                   0);
  /* kinds */
  assert_int_equal(smbx_smb2_msg_kind(smb2_vec_echo_req, 68),
                   SMBX_SMB2_MSG_SMB2);
  assert_int_equal(smbx_smb2_msg_kind(smb2_vec_smb1_negotiate, 4),
                   SMBX_SMB2_MSG_SMB1);
  static const uint8_t junk[] = {0xFE, 'S', 'M', 'C'};
  assert_int_equal(smbx_smb2_msg_kind(junk, 4), SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_msg_kind(junk, 3), SMBX_ERR_DECODE);
}

static void smb2_case_40_transform_hostile(void **state)
{
  (void)state;
  smbx_smb2_transform_hdr t;
  smbx_error_detail e;
  size_t n = sizeof smb2_vec_transform_msg;
  uint8_t *p = vec_dup(smb2_vec_transform_msg, n, 0);
  put32(p, 36, 69); /* OriginalMessageSize > frame */
  assert_int_equal(smbx_smb2_transform_decode(p, n, &t, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 36);
  put32(p, 36, 0xFFFFFFFFu);
  assert_int_equal(smbx_smb2_transform_decode(p, n, &t, &e), SMBX_ERR_DECODE);
  put32(p, 36, 63); /* cannot hold an SMB2 header */
  assert_int_equal(smbx_smb2_transform_decode(p, n, &t, &e), SMBX_ERR_DECODE);
  for (size_t k = 0; k < 52; k++)
    assert_int_equal(smbx_smb2_transform_decode(smb2_vec_transform_msg, k, &t,
                                                &e),
                     SMBX_ERR_DECODE);
  /* unknown SessionId is the connection's business: decodes fine */
  memcpy(p, smb2_vec_transform_msg, n);
  put64(p, 44, 0xDEADBEEFull);
  assert_int_equal(smbx_smb2_transform_decode(p, n, &t, &e), 0);
  /* nested TRANSFORM in the decrypted plaintext */
  assert_int_equal(smbx_smb2_plaintext_check(smb2_vec_transform_msg, n, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_plaintext_check(smb2_vec_smb1_negotiate,
                                             sizeof smb2_vec_smb1_negotiate,
                                             &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_plaintext_check(smb2_vec_echo_req, 68, &e), 0);
  free(p);
  /* compression Offset / Length past the end */
  smbx_smb2_compression_hdr ch;
  n = sizeof smb2_vec_compression_msg;
  p = vec_dup(smb2_vec_compression_msg, n, 0);
  put32(p, 12, (uint32_t)(n - 16 + 1));
  assert_int_equal(smbx_smb2_compression_decode(p, n, &ch, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 12);
  put32(p, 12, (uint32_t)(n - 16));
  assert_int_equal(smbx_smb2_compression_decode(p, n, &ch, &e), 0);
  free(p);
  n = sizeof smb2_vec_compression_msg_chained;
  p = vec_dup(smb2_vec_compression_msg_chained, n, 0);
  put32(p, 12, 0xFFFFFFF0u); /* first payload Length */
  assert_int_equal(smbx_smb2_compression_decode(p, n, &ch, &e), 0);
  size_t off = 0;
  smbx_smb2_comp_payload pl;
  assert_int_equal(smbx_smb2_comp_payload_next(ch.payload, &off, &pl, &e),
                   SMBX_ERR_DECODE);
  memcpy(p, smb2_vec_compression_msg_chained, n);
  put16(p, 8, SMBX_SMB2_COMP_LZ77); /* needs OriginalPayloadSize */
  put32(p, 12, 2);
  assert_int_equal(smbx_smb2_compression_decode(p, n, &ch, &e), 0);
  off = 0;
  assert_int_equal(smbx_smb2_comp_payload_next(ch.payload, &off, &pl, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void smb1_negotiate_recognised(void **state)
{
  (void)state;
  smbx_smb1_negotiate s;
  size_t n = sizeof smb2_vec_smb1_negotiate;
  assert_int_equal(smbx_smb1_negotiate_decode(smb2_vec_smb1_negotiate, n, &s,
                                              NULL),
                   0);
  assert_int_equal(s.dialect_count, 3);
  assert_true(s.has_smb2_002);
  assert_true(s.has_smb2_wildcard);
  smbx_error_detail e;
  for (size_t k = 0; k < n; k++)
    assert_int_equal(smbx_smb1_negotiate_decode(smb2_vec_smb1_negotiate, k,
                                                &s, &e),
                     SMBX_ERR_DECODE);
  uint8_t *p = vec_dup(smb2_vec_smb1_negotiate, n, 0);
  p[4] = 0x73; /* SESSION_SETUP_ANDX: not legal */
  assert_int_equal(smbx_smb1_negotiate_decode(p, n, &s, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 4);
  p[4] = 0x72;
  p[n - 1] = 'X'; /* last string unterminated */
  assert_int_equal(smbx_smb1_negotiate_decode(p, n, &s, &e), SMBX_ERR_DECODE);
  free(p);
}

static void smb2_case_21_smallest_pdu_echo(void **state)
{
  (void)state;
  smbx_smb2_simple s;
  assert_int_equal(smbx_smb2_decode_simple(smb2_vec_echo_req, 68,
                                           SMBX_SMB2_ECHO, 0, &s, NULL),
                   0);
  assert_int_equal(smbx_smb2_pdu_validate(smb2_vec_echo_req, 68, NULL, NULL),
                   0);
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_decode_simple(smb2_vec_echo_req, 67,
                                           SMBX_SMB2_ECHO, 0, &s, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_pdu_validate(smb2_vec_echo_req, 67, NULL, &e),
                   SMBX_ERR_DECODE);
}

static void smb2_case_22_body_exactly_ss_minus_one(void **state)
{
  (void)state;
  /* SESSION_SETUP response (SS 9) with an 8-byte body, empty buffer */
  size_t n = sizeof smb2_vec_session_setup_resp_signed;
  assert_int_equal(n, 73);
  smbx_smb2_session_setup_resp r;
  assert_int_equal(smbx_smb2_decode_session_setup_resp(
                       smb2_vec_session_setup_resp_signed, 72, &r, NULL),
                   0);
  assert_int_equal(r.security_buffer.len, 0);
  assert_int_equal(smbx_smb2_pdu_validate(smb2_vec_session_setup_resp_signed,
                                          72, NULL, NULL),
                   0);
  /* CREATE request (SS 57) with a 56-byte body and NameLength 0 */
  smbx_smb2_create_req c;
  assert_int_equal(smbx_smb2_decode_create_req(smb2_vec_create_req_empty_name,
                                               120, &c, NULL),
                   0);
  assert_int_equal(c.name.len, 0);
  /* ... but not one byte less */
  assert_int_equal(smbx_smb2_decode_create_req(smb2_vec_create_req_empty_name,
                                               119, &c, NULL),
                   SMBX_ERR_DECODE);
}

static void smb2_case_23_credit_charge(void **state)
{
  (void)state;
  const uint32_t mtu = SMBX_SMB2_CAP_LARGE_MTU;
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, 65536, 0), 1);
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, 0, 65537), 2);
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, 8u << 20, 0), 128);
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, 0, 0), 1);
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, 1, 1), 1);
  assert_int_equal(smbx_smb2_credit_charge(0x0311, mtu, UINT64_MAX, 0),
                   0xFFFF);
  assert_int_equal(smbx_smb2_credit_charge(0x0202, mtu, 65537, 0), 0);
  assert_int_equal(smbx_smb2_credit_charge(0x0210, 0, 65537, 0), 0);
}

static void smb2_case_25_bad_header(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  smbx_error_detail e;
  for (size_t k = 0; k < 64; k++) {
    assert_int_equal(smbx_smb2_hdr_decode(smb2_vec_echo_req, k, &h, &e),
                     SMBX_ERR_DECODE);
    assert_int_equal(smbx_smb2_pdu_validate(smb2_vec_echo_req, k, &h, &e),
                     SMBX_ERR_DECODE);
  }
  uint8_t *p = vec_dup(smb2_vec_echo_req, 68, 0);
  p[3] = 'C'; /* FE 'SMC' */
  assert_int_equal(smbx_smb2_hdr_decode(p, 68, &h, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 0);
  p[3] = 'B';
  put16(p, 4, 63); /* header SS 63 */
  assert_int_equal(smbx_smb2_hdr_decode(p, 68, &h, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 4);
  put16(p, 4, 64);
  put16(p, 12, 0x13); /* unknown command */
  assert_int_equal(smbx_smb2_hdr_decode(p, 68, &h, &e), 0);
  assert_int_equal(smbx_smb2_pdu_validate(p, 68, &h, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 12);
  free(p);
}

/* Every command and direction: the table SS passes, SS-1 / SS+1 fail. */
static void smb2_case_26_wrong_structure_size_every_command(void **state)
{
  (void)state;
  uint8_t p[64 + 128];
  for (uint16_t cmd = 0; cmd < SMBX_SMB2_COMMAND_COUNT; cmd++)
    for (int resp = 0; resp < 2; resp++) {
      uint16_t ss = smbx_smb2_structure_size(cmd, resp);
      if (ss == 0) {
        assert_true(cmd == SMBX_SMB2_CANCEL && resp);
        continue;
      }
      memset(p, 0, sizeof p);
      memcpy(p, smb2_vec_echo_req, 64);
      put16(p, 12, cmd);
      put32(p, 16, resp ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0);
      size_t len = 64 + (ss & ~1u);
      put16(p, 64, ss);
      smbx_error_detail e;
      assert_int_equal(smbx_smb2_pdu_validate(p, len, NULL, &e), 0);
      assert_int_equal(smbx_smb2_pdu_validate(p, len - 1, NULL, &e),
                       SMBX_ERR_DECODE);
      for (int d = -1; d <= 1; d += 2) {
        uint16_t bad = (uint16_t)(ss + d);
        if (cmd == SMBX_SMB2_OPLOCK_BREAK)
          continue; /* covered below: 36/44 are the lease forms */
        put16(p, 64, bad);
        assert_int_equal(smbx_smb2_pdu_validate(p, 64 + 128, NULL, &e),
                         SMBX_ERR_DECODE);
        assert_int_equal(e.offset, 64);
      }
    }
  /* OPLOCK_BREAK: 24/36 requests, 24/36/44 responses, others fail */
  memset(p, 0, sizeof p);
  memcpy(p, smb2_vec_echo_req, 64);
  put16(p, 12, SMBX_SMB2_OPLOCK_BREAK);
  static const uint16_t ok_req[] = {24, 36}, bad_req[] = {23, 25, 30, 44};
  for (size_t i = 0; i < 2; i++) {
    put16(p, 64, ok_req[i]);
    assert_int_equal(smbx_smb2_pdu_validate(p, 64 + 48, NULL, NULL), 0);
  }
  for (size_t i = 0; i < 4; i++) {
    put16(p, 64, bad_req[i]);
    assert_int_equal(smbx_smb2_pdu_validate(p, 64 + 48, NULL, NULL),
                     SMBX_ERR_DECODE);
  }
  /* a response may carry the ERROR body (SS 9) only with a failure status */
  memcpy(p, smb2_vec_error_resp_73, 73);
  put16(p, 12, SMBX_SMB2_CREATE);
  assert_int_equal(smbx_smb2_pdu_validate(p, 73, NULL, NULL), 0);
  put32(p, 8, 0);
  assert_int_equal(smbx_smb2_pdu_validate(p, 73, NULL, NULL),
                   SMBX_ERR_DECODE);
}

static void smb2_case_29_next_command_hostile(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_compound_req_case19;
  uint8_t *p = vec_dup(smb2_vec_compound_req_case19, n, 0);
  smbx_smb2_chain c;
  smbx_smb2_bytes pdu;
  smbx_error_detail e;
  static const uint32_t bad[] = {0x91, 0x94, 0x40, 0x38, 0, 8,
                                 0x98 + 0x70 + 88, 0xFFFFFFF8u};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (bad[i] == 0)
      continue;
    put32(p, 20, bad[i]);
    smbx_smb2_chain_init(&c, p, n, 0);
    assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e),
                     SMBX_ERR_DECODE);
    assert_int_equal(e.offset, 20);
    /* the iterator stays finished */
    assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), 0);
  }
  /* NextCommand 0x70 lands inside CREATE's fixed body (64 + 56) */
  put32(p, 20, 0x70);
  smbx_smb2_chain_init(&c, p, n, 0);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason,
                      "smb2 chain: NextCommand inside the current body");
  /* next header past the end: NextCommand == remaining */
  put32(p, 20, 0x90);
  put32(p, 0x90 + 20, (uint32_t)(n - 0x90));
  smbx_smb2_chain_init(&c, p, n, 0);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), 1);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 0x90 + 20);
  /* a bad header in the middle of the chain */
  memcpy(p, smb2_vec_compound_req_case19, n);
  p[0x90] = 0xFD;
  smbx_smb2_chain_init(&c, p, n, 0);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), 1);
  assert_int_equal(smbx_smb2_chain_next(&c, &pdu, NULL, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 0x90);
  free(p);
  /* 10 000 tiny chained ECHOs (72 bytes each): the count cap stops it */
  size_t count = 10000, each = 72;
  uint8_t *big = calloc(count, each);
  assert_non_null(big);
  for (size_t i = 0; i < count; i++) {
    memcpy(big + i * each, smb2_vec_echo_req, 68);
    put32(big + i * each, 20, i + 1 < count ? (uint32_t)each : 0);
  }
  smbx_smb2_chain_init(&c, big, count * each, 0);
  int rc, got = 0;
  while ((rc = smbx_smb2_chain_next(&c, &pdu, NULL, &e)) == 1)
    got++;
  assert_int_equal(rc, SMBX_ERR_DECODE);
  assert_int_equal(got, SMBX_SMB2_CHAIN_MAX_DEFAULT);
  /* with an explicit larger cap the whole chain walks */
  smbx_smb2_chain_init(&c, big, count * each, 20000);
  got = 0;
  while ((rc = smbx_smb2_chain_next(&c, &pdu, NULL, &e)) == 1)
    got++;
  assert_int_equal(rc, 0);
  assert_int_equal(got, (int)count);
  free(big);
  /* NULL arguments */
  assert_int_equal(smbx_smb2_chain_init(NULL, NULL, 0, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_chain_next(&c, NULL, NULL, NULL),
                   SMBX_ERR_INVAL);
}

static void smb2_case_39_async_id_zero(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  smbx_error_detail e;
  uint8_t *p = vec_dup(smb2_vec_cancel_req_async, 68, 0);
  put64(p, 32, 0);
  assert_int_equal(smbx_smb2_hdr_decode(p, 68, &h, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 32);
  smbx_smb2_simple s;
  assert_int_equal(smbx_smb2_decode_simple(p, 68, SMBX_SMB2_CANCEL, 0, &s, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void error_ctx_encode_rejects_bad_args(void **state)
{
  (void)state;
  uint8_t buf[16];
  assert_int_equal(smbx_smb2_error_ctx_encode(NULL, 1, buf, 16, NULL),
                   SMBX_ERR_INVAL);
  smbx_smb2_error_ctx c = {0, {NULL, 4}};
  assert_int_equal(smbx_smb2_error_ctx_encode(&c, 1, buf, 16, NULL),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx_smb2_error_ctx_encode(NULL, 0, buf, 16, NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(hdr_roundtrip_sync_and_async),
    cmocka_unit_test(hdr_unknown_flag_bits_preserved),
    cmocka_unit_test(smb2_case_18_error_forms),
    cmocka_unit_test(smb2_case_19_related_compound_chain),
    cmocka_unit_test(smb2_case_20_transform_and_compression_headers),
    cmocka_unit_test(smb2_case_21_smallest_pdu_echo),
    cmocka_unit_test(smb2_case_22_body_exactly_ss_minus_one),
    cmocka_unit_test(smb2_case_23_credit_charge),
    cmocka_unit_test(smb2_case_25_bad_header),
    cmocka_unit_test(smb2_case_26_wrong_structure_size_every_command),
    cmocka_unit_test(smb2_case_29_next_command_hostile),
    cmocka_unit_test(smb2_case_38_error_bytecount_and_ctx_overflow),
    cmocka_unit_test(smb2_case_39_async_id_zero),
    cmocka_unit_test(smb2_case_40_transform_hostile),
    cmocka_unit_test(smb1_negotiate_recognised),
    cmocka_unit_test(error_ctx_encode_rejects_bad_args),
  };
  return RUN_TESTS(tests);
}
