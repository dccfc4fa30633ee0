/* SPDX-License-Identifier: MIT */
/* lib/smb2: CREATE and its contexts, leases, CLOSE, FLUSH, OPLOCK_BREAK
 * (smb2.md 4.4, 4.5, 4.13; leases.md sec. 2; cases 7-9, 17, 27, 28, 30,
 * 33; leases.md wire cases 1-10). */
#include "smb2_test_util.h"

#include "../vectors/smb2/create_ctx.h"
#include "../vectors/smb2/pdus.h"

RT_WRAP(creq, smbx_smb2_decode_create_req, smbx_smb2_encode_create_req,
        smbx_smb2_create_req)
RT_WRAP(cresp, smbx_smb2_decode_create_resp, smbx_smb2_encode_create_resp,
        smbx_smb2_create_resp)
RT_WRAP(clreq, smbx_smb2_decode_close_req, smbx_smb2_encode_close_req,
        smbx_smb2_close_req)
RT_WRAP(clresp, smbx_smb2_decode_close_resp, smbx_smb2_encode_close_resp,
        smbx_smb2_close_resp)
RT_WRAP(flreq, smbx_smb2_decode_flush_req, smbx_smb2_encode_flush_req,
        smbx_smb2_flush_req)
RT_WRAP(obrk, smbx_smb2_decode_oplock_break, smbx_smb2_encode_oplock_break,
        smbx_smb2_oplock_break)
RT_WRAP(lbn, smbx_smb2_decode_lease_break_notify,
        smbx_smb2_encode_lease_break_notify, smbx_smb2_lease_break_notify)
RT_WRAP(lba, smbx_smb2_decode_lease_break_ack,
        smbx_smb2_encode_lease_break_ack, smbx_smb2_lease_break_ack)

/* Collects a chain; returns the count or the error. */
static int walk(smbx_smb2_bytes area, size_t base, smbx_smb2_create_ctx *out,
                int max, smbx_error_detail *e)
{
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  int rc, n = 0;
  smbx_smb2_create_ctx_iter_init(&it, area, base);
  while ((rc = smbx_smb2_create_ctx_next(&it, &c, e)) == 1) {
    if (n < max)
      out[n] = c;
    n++;
  }
  return rc < 0 ? rc : n;
}

static int walk_raw(const uint8_t *p, size_t n, smbx_error_detail *e)
{
  smbx_smb2_create_ctx tmp[8];
  smbx_smb2_bytes a = {p, n};
  return walk(a, 0, tmp, 8, e);
}

static void smb2_case_7_create_with_mxac_qfid_dh2q_rqls_v2(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(creq, create_req_case7, 0, smbx_smb2_create_req),
    RT_CASE(cresp, create_resp_case7, 0, smbx_smb2_create_resp),
    RT_CASE(creq, create_req_allctx, 0, smbx_smb2_create_req),
    RT_CASE(creq, create_req_lease_v1, 0, smbx_smb2_create_req),
  };
  rt_run_table(t, sizeof t / sizeof t[0]);
  smbx_smb2_create_req q;
  assert_int_equal(smbx_smb2_decode_create_req(smb2_vec_create_req_case7,
                                               sizeof smb2_vec_create_req_case7,
                                               &q, NULL),
                   0);
  assert_int_equal(q.requested_oplock_level, SMBX_SMB2_OPLOCK_LEVEL_LEASE);
  assert_ptr_equal(q.name.p, smb2_vec_create_req_case7 + 0x78);
  assert_int_equal(q.name.len, 24);
  uint8_t u8[32];
  size_t un = 0;
  assert_int_equal(smbx_utf16le_to_utf8(q.name.p, q.name.len, u8, sizeof u8,
                                        &un),
                   0);
  assert_memory_equal(u8, "dir\\file.txt", 12);
  assert_int_equal(q.contexts_offset, 0x90);
  smbx_smb2_create_ctx c[8];
  assert_int_equal(walk(q.contexts, q.contexts_offset, c, 8, NULL), 4);
  static const uint32_t tags[] = {SMBX_SMB2_CTX_TAG_MXAC,
                                  SMBX_SMB2_CTX_TAG_QFID,
                                  SMBX_SMB2_CTX_TAG_DH2Q,
                                  SMBX_SMB2_CTX_TAG_RQLS};
  /* Next 24, 24, 56, 0 */
  static const uint32_t nexts[] = {24, 24, 56, 0};
  const uint8_t *rec = q.contexts.p;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(smbx_smb2_create_ctx_tag(&c[i]), tags[i]);
    uint32_t nx = (uint32_t)(rec[0] | rec[1] << 8 | rec[2] << 16);
    assert_int_equal(nx, nexts[i]);
    rec += nx;
  }
  smbx_smb2_ctx_data d;
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_MXAC_REQ,
                                             c[0].data, &d, NULL),
                   0);
  assert_int_equal(d.has_value, 0);
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_DH2Q_REQ,
                                             c[2].data, &d, NULL),
                   0);
  assert_int_equal(d.timeout, 60000);
  assert_int_equal(d.guid[0], 0x70);
  smbx_smb2_lease l;
  assert_int_equal(smbx_smb2_lease_decode(c[3].data, &l, NULL), 0);
  assert_int_equal(l.version, 2);
  assert_int_equal(l.state, 7);
  assert_int_equal(l.flags, SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET);
  assert_int_equal(l.epoch, 7);
  assert_int_equal(l.key[0], 0xC0);
  assert_int_equal(l.parent_key[15], 0xDF);
  /* rebuild the chain from its parts: same bytes */
  uint8_t buf[512];
  size_t need = 0;
  assert_int_equal(smbx_smb2_create_ctx_list_encode(c, 4, buf, sizeof buf,
                                                    &need),
                   (smbx_ssize)q.contexts.len);
  assert_memory_equal(buf, q.contexts.p, q.contexts.len);
  for (size_t cap = 0; cap < need; cap++)
    assert_int_equal(smbx_smb2_create_ctx_list_encode(c, 4, buf, cap, NULL),
                     SMBX_ERR_NOBUF);
  /* response: MxAc(8) + QFid(32) @0x98 */
  smbx_smb2_create_resp r;
  assert_int_equal(smbx_smb2_decode_create_resp(
                       smb2_vec_create_resp_case7,
                       sizeof smb2_vec_create_resp_case7, &r, NULL),
                   0);
  assert_int_equal(r.contexts_offset, 0x98);
  assert_int_equal(r.file_id.persistent_id, 0x1122334455667788ull);
  assert_int_equal(r.file_id.volatile_id, 0x99AABBCCDDEEFF00ull);
  assert_int_equal(r.create_action, 1);
  assert_int_equal(r.end_of_file, 1234);
  assert_int_equal(walk(r.contexts, r.contexts_offset, c, 8, NULL), 2);
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_MXAC_RESP,
                                             c[0].data, &d, NULL),
                   0);
  assert_int_equal(d.query_status, 0);
  assert_int_equal(d.maximal_access, 0x001F01FF);
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_QFID_RESP,
                                             c[1].data, &d, NULL),
                   0);
  assert_int_equal(d.disk_file_id, 0x0102030405060708ull);
  assert_int_equal(d.volume_id, 0x1112131415161718ull);
}

/* Every fixed-layout kind decodes and re-encodes to the same bytes. */
static void create_ctx_every_kind_roundtrip(void **state)
{
  (void)state;
  smbx_smb2_create_req q;
  assert_int_equal(smbx_smb2_decode_create_req(smb2_vec_create_req_allctx,
                                               sizeof smb2_vec_create_req_allctx,
                                               &q, NULL),
                   0);
  smbx_smb2_create_ctx c[8];
  assert_int_equal(walk(q.contexts, q.contexts_offset, c, 8, NULL), 8);
  static const int kinds[] = {SMBX_SMB2_CTXD_DHNQ_REQ, SMBX_SMB2_CTXD_DHNC_REQ,
                              SMBX_SMB2_CTXD_DH2C_REQ, SMBX_SMB2_CTXD_MXAC_REQ,
                              SMBX_SMB2_CTXD_TWRP_REQ, SMBX_SMB2_CTXD_ALSI_REQ};
  static const uint32_t tags[] = {SMBX_SMB2_CTX_TAG_DHNQ, SMBX_SMB2_CTX_TAG_DHNC,
                                  SMBX_SMB2_CTX_TAG_DH2C, SMBX_SMB2_CTX_TAG_MXAC,
                                  SMBX_SMB2_CTX_TAG_TWRP, SMBX_SMB2_CTX_TAG_ALSI};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(smbx_smb2_create_ctx_tag(&c[i]), tags[i]);
    smbx_smb2_ctx_data d;
    uint8_t buf[64];
    assert_int_equal(smbx_smb2_ctx_data_decode(kinds[i], c[i].data, &d, NULL),
                     0);
    assert_int_equal(smbx_smb2_ctx_data_encode(kinds[i], &d, buf, sizeof buf,
                                               NULL),
                     (smbx_ssize)c[i].data.len);
    assert_memory_equal(buf, c[i].data.p, c[i].data.len);
    /* wrong length for the kind */
    smbx_smb2_bytes shorter = {c[i].data.p, c[i].data.len - 1};
    assert_int_equal(smbx_smb2_ctx_data_decode(kinds[i], shorter, &d, NULL),
                     SMBX_ERR_DECODE);
  }
  smbx_smb2_ctx_data d;
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_DHNC_REQ,
                                             c[1].data, &d, NULL),
                   0);
  assert_int_equal(d.file_id.persistent_id, 0x1122334455667788ull);
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_DH2C_REQ,
                                             c[2].data, &d, NULL),
                   0);
  assert_int_equal(d.flags, 2);
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_ALSI_REQ,
                                             c[5].data, &d, NULL),
                   0);
  assert_int_equal(d.value, 1u << 20);
  /* the AppInstanceId GUID context: 16-byte name, tag 0 */
  assert_int_equal(c[7].name.len, 16);
  assert_int_equal(smbx_smb2_create_ctx_tag(&c[7]), 0);
  assert_int_equal(c[7].data.len, 20);
  /* the response-only kinds round trip too */
  uint8_t buf[64];
  memset(&d, 0, sizeof d);
  d.timeout = 1000;
  d.flags = SMBX_SMB2_DH2_FLAG_PERSISTENT;
  smbx_smb2_ctx_data d2;
  assert_int_equal(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_DH2Q_RESP, &d, buf,
                                             sizeof buf, NULL),
                   8);
  smbx_smb2_bytes b = {buf, 8};
  assert_int_equal(smbx_smb2_ctx_data_decode(SMBX_SMB2_CTXD_DH2Q_RESP, b, &d2,
                                             NULL),
                   0);
  assert_int_equal(d2.timeout, 1000);
  assert_int_equal(d2.flags, 2);
  d.value = 0;
  assert_int_equal(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_DHNQ_RESP, &d, buf,
                                             sizeof buf, NULL),
                   8);
  assert_int_equal(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_DHNQ_RESP, &d, buf,
                                             7, NULL),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_ctx_data_encode(99, &d, buf, sizeof buf, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_ctx_data_decode(0, b, &d, NULL), SMBX_ERR_INVAL);
}

static void smb2_case_8_create_empty_name_pad_byte(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(creq, create_req_empty_name, 1, smbx_smb2_create_req),
  };
  rt_run_table(t, 1);
  assert_int_equal(sizeof smb2_vec_create_req_empty_name, 121);
  smbx_smb2_create_req q;
  assert_int_equal(smbx_smb2_decode_create_req(
                       smb2_vec_create_req_empty_name, 121, &q, NULL),
                   0);
  assert_int_equal(q.name.len, 0);
  assert_null(q.name.p);
  assert_int_equal(q.contexts.len, 0);
}

static void smb2_case_9_close_with_and_without_postquery(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(clreq, close_req, 0, smbx_smb2_close_req),
    RT_CASE(clreq, close_req_postquery, 0, smbx_smb2_close_req),
    RT_CASE(clresp, close_resp, 0, smbx_smb2_close_resp),
    RT_CASE(clresp, close_resp_postquery, 0, smbx_smb2_close_resp),
    RT_CASE(flreq, flush_req, 0, smbx_smb2_flush_req),
  };
  rt_run_table(t, sizeof t / sizeof t[0]);
  smbx_smb2_close_req q;
  smbx_smb2_close_resp r;
  assert_int_equal(smbx_smb2_decode_close_req(smb2_vec_close_req_postquery, 88,
                                              &q, NULL),
                   0);
  assert_int_equal(q.flags, SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
  assert_int_equal(q.file_id.volatile_id, 0x99AABBCCDDEEFF00ull);
  assert_int_equal(smbx_smb2_decode_close_resp(smb2_vec_close_resp_postquery,
                                               124, &r, NULL),
                   0);
  assert_int_equal(r.flags, 1);
  assert_int_equal(r.end_of_file, 1234);
  assert_int_equal(r.file_attributes, 0x20);
  assert_int_equal(smbx_smb2_decode_close_resp(smb2_vec_close_resp, 124, &r,
                                               NULL),
                   0);
  assert_int_equal(r.flags, 0);
  assert_int_equal(r.end_of_file, 0);
  assert_int_equal(r.creation_time, 0);
}

static void smb2_case_17_oplock_break_notify_ack_resp(void **state)
{
  (void)state;
  const rt_case t[] = {
    RT_CASE(obrk, oplock_break_notify, 0, smbx_smb2_oplock_break),
    RT_CASE(obrk, oplock_break_ack, 0, smbx_smb2_oplock_break),
    RT_CASE(obrk, oplock_break_resp, 0, smbx_smb2_oplock_break),
    RT_CASE(lbn, lease_break_notify, 0, smbx_smb2_lease_break_notify),
    RT_CASE(lba, lease_break_ack, 0, smbx_smb2_lease_break_ack),
    RT_CASE(lba, lease_break_resp, 0, smbx_smb2_lease_break_ack),
  };
  rt_run_table(t, sizeof t / sizeof t[0]);
  smbx_smb2_hdr h;
  smbx_smb2_hdr_decode(smb2_vec_oplock_break_notify, 88, &h, NULL);
  assert_int_equal(h.message_id, SMBX_SMB2_MSGID_UNSOLICITED);
  smbx_smb2_oplock_break o;
  assert_int_equal(smbx_smb2_decode_oplock_break(smb2_vec_oplock_break_notify,
                                                 88, &o, NULL),
                   0);
  assert_int_equal(o.oplock_level, SMBX_SMB2_OPLOCK_LEVEL_II);
  assert_int_equal(o.file_id.persistent_id, 0x1122334455667788ull);
  /* classification by direction, MessageId and SS (leases.md 2.7) */
  assert_int_equal(smbx_smb2_oplock_break_classify(
                       smb2_vec_oplock_break_notify, 88, NULL),
                   SMBX_SMB2_BREAK_OPLOCK);
  assert_int_equal(smbx_smb2_oplock_break_classify(smb2_vec_oplock_break_ack,
                                                   88, NULL),
                   SMBX_SMB2_BREAK_OPLOCK);
  assert_int_equal(smbx_smb2_oplock_break_classify(
                       smb2_vec_lease_break_notify,
                       sizeof smb2_vec_lease_break_notify, NULL),
                   SMBX_SMB2_BREAK_LEASE_NOTIFY);
  assert_int_equal(smbx_smb2_oplock_break_classify(
                       smb2_vec_lease_break_ack,
                       sizeof smb2_vec_lease_break_ack, NULL),
                   SMBX_SMB2_BREAK_LEASE_ACK);
  assert_int_equal(smbx_smb2_oplock_break_classify(
                       smb2_vec_lease_break_resp,
                       sizeof smb2_vec_lease_break_resp, NULL),
                   SMBX_SMB2_BREAK_LEASE_ACK);
  smbx_smb2_lease_break_notify n;
  assert_int_equal(smbx_smb2_decode_lease_break_notify(
                       smb2_vec_lease_break_notify,
                       sizeof smb2_vec_lease_break_notify, &n, NULL),
                   0);
  assert_int_equal(n.new_epoch, 8);
  assert_int_equal(n.flags, SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED);
  assert_int_equal(n.current_state, 7);
  assert_int_equal(n.new_state, 3);
  assert_int_equal(n.lease_key[0], 0xC0);
  smbx_smb2_lease_break_ack a;
  assert_int_equal(smbx_smb2_decode_lease_break_ack(
                       smb2_vec_lease_break_ack,
                       sizeof smb2_vec_lease_break_ack, &a, NULL),
                   0);
  assert_int_equal(a.lease_state, 3);
  /* the wrong decoder for a form fails on its StructureSize */
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_decode_oplock_break(smb2_vec_lease_break_ack,
                                                 sizeof smb2_vec_lease_break_ack,
                                                 &o, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 64);
}

static void smb2_case_27_offsets_past_end_zero_into_header_wrap(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_create_req_case7;
  uint8_t *p = vec_dup(smb2_vec_create_req_case7, n, 0);
  smbx_smb2_create_req q;
  smbx_error_detail e;
  /* name: past the end, offset 0, into the header, into the fixed body */
  const uint16_t name_offs[] = {(uint16_t)(n - 23), 0, 0x20, 0x76};
  for (size_t i = 0; i < 4; i++) {
    memcpy(p, smb2_vec_create_req_case7, n);
    put16(p, 108, name_offs[i]);
    assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                     SMBX_ERR_DECODE);
    assert_int_equal(e.offset, 108);
  }
  /* contexts: offset + length wrapping 32 bits, past end, 0, header */
  memcpy(p, smb2_vec_create_req_case7, n);
  put32(p, 116, 0xFFFFFFF8u);
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 112);
  static const uint32_t ctx_offs[] = {0xFFFFFFF8u, 0, 0x40, 0x98};
  for (size_t i = 0; i < 4; i++) {
    memcpy(p, smb2_vec_create_req_case7, n);
    put32(p, 112, ctx_offs[i]);
    assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                     SMBX_ERR_DECODE);
    assert_int_equal(e.offset, 112);
  }
  free(p);
  /* SESSION_SETUP security buffer into the fixed body / past the end */
  n = sizeof smb2_vec_session_setup_req;
  p = vec_dup(smb2_vec_session_setup_req, n, 0);
  smbx_smb2_session_setup_req s;
  put16(p, 76, 0x50);
  assert_int_equal(smbx_smb2_decode_session_setup_req(p, n, &s, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 76);
  put16(p, 76, 0x58);
  put16(p, 78, 17);
  assert_int_equal(smbx_smb2_decode_session_setup_req(p, n, &s, &e),
                   SMBX_ERR_DECODE);
  /* length 0 with any offset is an empty view */
  put16(p, 76, 0);
  put16(p, 78, 0);
  assert_int_equal(smbx_smb2_decode_session_setup_req(p, n, &s, &e), 0);
  assert_int_equal(s.security_buffer.len, 0);
  free(p);
  /* CREATE response contexts into the fixed part */
  n = sizeof smb2_vec_create_resp_case7;
  p = vec_dup(smb2_vec_create_resp_case7, n, 0);
  smbx_smb2_create_resp r;
  put32(p, 144, 0x90);
  assert_int_equal(smbx_smb2_decode_create_resp(p, n, &r, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 144);
  free(p);
}

static void smb2_case_28_create_name_overlaps_contexts(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_create_req_case7;
  uint8_t *p = vec_dup(smb2_vec_create_req_case7, n, 0);
  smbx_smb2_create_req q;
  smbx_error_detail e;
  put16(p, 110, 32); /* name 0x78..0x98 runs over the contexts @0x90 */
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create: name overlaps the contexts");
  free(p);
}

static void smb2_case_30_create_ctx_hostile(void **state)
{
  (void)state;
  const uint8_t *v = smb2_vec_create_req_case7;
  size_t n = sizeof smb2_vec_create_req_case7;
  smbx_smb2_create_req q;
  assert_int_equal(smbx_smb2_decode_create_req(v, n, &q, NULL), 0);
  size_t base = q.contexts_offset, len = q.contexts.len;
  uint8_t *a = vec_dup(q.contexts.p, len, 0);
  smbx_error_detail e;
  /* records at 0 (MxAc), 24 (QFid), 48 (DH2Q), 104 (RqLs) */
  const uint32_t bad_next[] = {20, 8, 0, 0xFFFFFFF8u, (uint32_t)len};
  for (size_t i = 0; i < sizeof bad_next / sizeof bad_next[0]; i++) {
    memcpy(a, q.contexts.p, len);
    put32(a, 0, bad_next[i]);
    int rc = walk_raw(a, len, &e);
    if (bad_next[i] == 0) {
      /* Next 0 makes MxAc the last record, spanning the rest: valid */
      assert_int_equal(rc, 1);
      continue;
    }
    assert_int_equal(rc, SMBX_ERR_DECODE);
    assert_int_equal(e.offset, 0);
  }
  /* not strictly advancing is impossible (Next >= 16); a loop back needs
   * a negative Next: 0xFFFFFFE8 = -24 */
  memcpy(a, q.contexts.p, len);
  put32(a, 24, 0xFFFFFFE8u);
  assert_int_equal(walk_raw(a, len, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 24);
  /* Next past CreateContextsLength: shorten the area */
  assert_int_equal(walk_raw(q.contexts.p, 100, &e), SMBX_ERR_DECODE);
  /* name outside the context */
  memcpy(a, q.contexts.p, len);
  put16(a, 6, 9); /* MxAc NameLength 9 > record of 24 - 16 */
  assert_int_equal(walk_raw(a, len, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 6);
  /* data outside the context (DH2Q @48: DataOffset 24, DataLength 32) */
  memcpy(a, q.contexts.p, len);
  put32(a, 48 + 12, 33);
  assert_int_equal(walk_raw(a, len, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 48 + 12);
  put32(a, 48 + 12, 0xFFFFFFFFu);
  assert_int_equal(walk_raw(a, len, &e), SMBX_ERR_DECODE);
  /* DataOffset 0 with data */
  memcpy(a, q.contexts.p, len);
  put16(a, 48 + 10, 0);
  assert_int_equal(walk_raw(a, len, &e), SMBX_ERR_DECODE);
  /* fewer than 16 bytes */
  assert_int_equal(walk_raw(q.contexts.p, 15, &e), SMBX_ERR_DECODE);
  free(a);
  /* duplicates are all reported, in order */
  smbx_smb2_create_ctx two[2];
  two[0].name.p = (const uint8_t *)"RqLs";
  two[0].name.len = 4;
  two[0].data.p = smb2_ctx_lease_ctx_v1 + 24;
  two[0].data.len = 32;
  two[0].reserved = 0;
  two[1] = two[0];
  two[1].data.p = smb2_ctx_lease_ctx_v2 + 24;
  two[1].data.len = 52;
  uint8_t buf[256];
  smbx_ssize m = smbx_smb2_create_ctx_list_encode(two, 2, buf, sizeof buf,
                                                  NULL);
  assert_int_equal(m, 56 + 76);
  smbx_smb2_create_ctx got[4];
  smbx_smb2_bytes area = {buf, (size_t)m};
  assert_int_equal(walk(area, 0, got, 4, NULL), 2);
  assert_int_equal(got[0].data.len, 32);
  assert_int_equal(got[1].data.len, 52);
  /* the CREATE decoder rejects a bad chain as a whole */
  uint8_t *p = vec_dup(v, n, 0);
  put32(p, base + 48, 20);
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, base + 48);
  free(p);
  /* 300 minimal contexts: the count cap */
  size_t cnt = 300;
  uint8_t *many = calloc(cnt, 24);
  assert_non_null(many);
  for (size_t i = 0; i < cnt; i++) {
    uint8_t *r = many + i * 24;
    put32(r, 0, i + 1 < cnt ? 24 : 0);
    put16(r, 4, 16);
    put16(r, 6, 4);
    memcpy(r + 16, "ABCD", 4);
  }
  assert_int_equal(walk_raw(many, cnt * 24, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create ctx: too many contexts");
  assert_int_equal(walk_raw(many + 100 * 24, 200 * 24, &e), 200);
  free(many);
}

static void smb2_case_33_utf16_odd_nul_surrogate(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_create_req_case7;
  uint8_t *p = vec_dup(smb2_vec_create_req_case7, n, 0);
  smbx_smb2_create_req q;
  smbx_error_detail e;
  put16(p, 110, 3); /* NameLength 3 */
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 110);
  /* embedded NUL and a lone surrogate: opaque to the codec */
  memcpy(p, smb2_vec_create_req_case7, n);
  put16(p, 0x78 + 2, 0);
  put16(p, 0x78 + 4, 0xD800);
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e), 0);
  assert_int_equal(q.name.len, 24);
  uint8_t u8[64];
  size_t un;
  assert_int_equal(smbx_utf16le_to_utf8(q.name.p, q.name.len, u8, sizeof u8,
                                        &un),
                   SMBX_ERR_ENCODING);
  free(p);
}

/* leases.md wire case 1: v1 lease context -> exact 56 bytes */
static void lease_case_1_v1_encode(void **state)
{
  (void)state;
  smbx_smb2_lease l;
  memset(&l, 0, sizeof l);
  l.version = 1;
  for (int i = 0; i < 16; i++)
    l.key[i] = (uint8_t)(0xC0 + i);
  l.state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE |
            SMBX_SMB2_LEASE_WRITE;
  uint8_t data[52], buf[128];
  size_t need = 0;
  assert_int_equal(smbx_smb2_lease_encode(&l, data, sizeof data, &need), 32);
  assert_int_equal(need, 32);
  assert_int_equal(smbx_smb2_lease_encode(&l, data, 31, NULL), SMBX_ERR_NOBUF);
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {data, 32}, 0};
  assert_int_equal(smbx_smb2_create_ctx_list_encode(&c, 1, buf, sizeof buf,
                                                    NULL),
                   56);
  assert_memory_equal(buf, smb2_ctx_lease_ctx_v1, 56);
  assert_int_equal(buf[16], 'R');
  assert_int_equal(buf[10], 24); /* data @24 */
  assert_int_equal(buf[12], 32); /* DataLength 32 */
  smbx_smb2_lease d;
  smbx_smb2_bytes b = {data, 32};
  assert_int_equal(smbx_smb2_lease_decode(b, &d, NULL), 0);
  assert_int_equal(d.version, 1);
  assert_memory_equal(&d, &l, sizeof d);
}

/* leases.md wire case 2: v2 with parent key and epoch 7 -> 76 bytes,
 * Flags @44 = 0x04, parent key @56, epoch @72 */
static void lease_case_2_v2_encode(void **state)
{
  (void)state;
  smbx_smb2_lease l;
  memset(&l, 0, sizeof l);
  l.version = 2;
  for (int i = 0; i < 16; i++) {
    l.key[i] = (uint8_t)(0xC0 + i);
    l.parent_key[i] = (uint8_t)(0xD0 + i);
  }
  l.state = 7;
  l.flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
  l.epoch = 7;
  uint8_t data[52], buf[128];
  assert_int_equal(smbx_smb2_lease_encode(&l, data, sizeof data, NULL), 52);
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4}, {data, 52}, 0};
  assert_int_equal(smbx_smb2_create_ctx_list_encode(&c, 1, buf, sizeof buf,
                                                    NULL),
                   76);
  assert_memory_equal(buf, smb2_ctx_lease_ctx_v2, 76);
  assert_int_equal(buf[44], 0x04);
  assert_int_equal(buf[56], 0xD0);
  assert_int_equal(buf[72], 7);
  smbx_smb2_lease d;
  smbx_smb2_bytes b = {data, 52};
  assert_int_equal(smbx_smb2_lease_decode(b, &d, NULL), 0);
  assert_memory_equal(&d, &l, sizeof d);
  l.version = 3;
  assert_int_equal(smbx_smb2_lease_encode(&l, data, sizeof data, NULL),
                   SMBX_ERR_INVAL);
}

/* leases.md wire case 3: DataLength 0,31,33,51,53,64 rejected */
static void lease_case_3_rqls_bad_length(void **state)
{
  (void)state;
  uint8_t data[64] = {0};
  static const size_t lens[] = {0, 31, 33, 51, 53, 64};
  for (size_t i = 0; i < 6; i++) {
    smbx_smb2_lease d;
    smbx_smb2_bytes b = {data, lens[i]};
    smbx_error_detail e;
    assert_int_equal(smbx_smb2_lease_decode(b, &d, &e), SMBX_ERR_DECODE);
  }
}

static void lease_case_4_ctx_next_unaligned(void **state)
{
  (void)state;
  smbx_smb2_create_ctx two[2] = {
    {{(const uint8_t *)"RqLs", 4}, {smb2_ctx_lease_ctx_v1 + 24, 32}, 0},
    {{(const uint8_t *)"MxAc", 4}, {NULL, 0}, 0}};
  uint8_t buf[128];
  smbx_ssize n = smbx_smb2_create_ctx_list_encode(two, 2, buf, sizeof buf,
                                                  NULL);
  assert_int_equal(n, 56 + 20);
  assert_int_equal(walk_raw(buf, (size_t)n, NULL), 2);
  smbx_error_detail e;
  put32(buf, 0, 20);
  assert_int_equal(walk_raw(buf, (size_t)n, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create ctx: Next not 8-aligned");
}

static void lease_case_5_ctx_next_beyond(void **state)
{
  (void)state;
  smbx_smb2_create_ctx two[2] = {
    {{(const uint8_t *)"RqLs", 4}, {smb2_ctx_lease_ctx_v1 + 24, 32}, 0},
    {{(const uint8_t *)"MxAc", 4}, {NULL, 0}, 0}};
  uint8_t buf[128];
  smbx_ssize n = smbx_smb2_create_ctx_list_encode(two, 2, buf, sizeof buf,
                                                  NULL);
  smbx_error_detail e;
  put32(buf, 0, 64); /* remaining after 64: 12 < 16 */
  assert_int_equal(walk_raw(buf, (size_t)n, &e), SMBX_ERR_DECODE);
  put32(buf, 0, 80);
  assert_int_equal(walk_raw(buf, (size_t)n, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create ctx: Next past the contexts");
}

static void lease_case_6_ctx_name_bad(void **state)
{
  (void)state;
  uint8_t *a = vec_dup(smb2_ctx_lease_ctx_v1, 56, 0);
  smbx_error_detail e;
  put16(a, 4, 8);
  assert_int_equal(walk_raw(a, 56, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 4);
  memcpy(a, smb2_ctx_lease_ctx_v1, 56);
  put16(a, 6, 2);
  assert_int_equal(walk_raw(a, 56, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 6);
  free(a);
}

static void lease_case_7_ctx_data_in_name(void **state)
{
  (void)state;
  uint8_t *a = vec_dup(smb2_ctx_lease_ctx_v1, 56, 0);
  smbx_error_detail e;
  put16(a, 10, 16);
  assert_int_equal(walk_raw(a, 56, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create ctx: DataOffset inside the name");
  /* also with DataLength 0 (Samba's check ignores the length) */
  put32(a, 12, 0);
  assert_int_equal(walk_raw(a, 56, &e), SMBX_ERR_DECODE);
  free(a);
}

static void lease_case_8_ctx_overflow(void **state)
{
  (void)state;
  uint8_t *a = vec_dup(smb2_ctx_lease_ctx_v1, 56, 0);
  smbx_error_detail e;
  put32(a, 12, 0xFFFFFFF0u);
  assert_int_equal(walk_raw(a, 56, &e), SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 12);
  free(a);
}

static void lease_case_9_ctx_overlap(void **state)
{
  (void)state;
  smbx_smb2_create_ctx two[2] = {
    {{(const uint8_t *)"RqLs", 4}, {smb2_ctx_lease_ctx_v1 + 24, 32}, 0},
    {{(const uint8_t *)"RqLs", 4}, {smb2_ctx_lease_ctx_v1 + 24, 32}, 0}};
  uint8_t buf[128];
  smbx_ssize n = smbx_smb2_create_ctx_list_encode(two, 2, buf, sizeof buf,
                                                  NULL);
  assert_int_equal(n, 112);
  smbx_error_detail e;
  put32(buf, 0, 32); /* into the first record's data (24..56) */
  assert_int_equal(walk_raw(buf, (size_t)n, &e), SMBX_ERR_DECODE);
  assert_string_equal(e.reason, "create ctx: data outside the record");
}

static void lease_case_10_ctx_area_outside_pdu(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_create_req_lease_v1;
  uint8_t *p = vec_dup(smb2_vec_create_req_lease_v1, n, 0);
  smbx_smb2_create_req q;
  smbx_error_detail e;
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e), 0);
  put32(p, 116, 57); /* past the body */
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  memcpy(p, smb2_vec_create_req_lease_v1, n);
  put32(p, 112, 0x70); /* inside the fixed part */
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  assert_int_equal(e.offset, 112);
  memcpy(p, smb2_vec_create_req_lease_v1, n);
  put32(p, 112, 0x84); /* not 8-aligned */
  assert_int_equal(smbx_smb2_decode_create_req(p, n, &q, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

/* leases.md 2.7 / wire-level parts of cases 12 and 13 */
static void lease_break_bad_sizes_rejected(void **state)
{
  (void)state;
  size_t n = sizeof smb2_vec_lease_break_notify;
  uint8_t *p = vec_dup(smb2_vec_lease_break_notify, n, 0);
  smbx_error_detail e;
  put16(p, 64, 36); /* notification with SS 36 */
  assert_int_equal(smbx_smb2_oplock_break_classify(p, n, &e),
                   SMBX_ERR_DECODE);
  smbx_smb2_lease_break_notify ln;
  memcpy(p, smb2_vec_lease_break_notify, n);
  assert_int_equal(smbx_smb2_decode_lease_break_notify(p, n - 1, &ln, &e),
                   SMBX_ERR_DECODE);
  free(p);
  n = sizeof smb2_vec_lease_break_ack;
  p = vec_dup(smb2_vec_lease_break_ack, n, 0);
  put16(p, 64, 30); /* ack with SS 30 */
  assert_int_equal(smbx_smb2_oplock_break_classify(p, n, &e),
                   SMBX_ERR_DECODE);
  put16(p, 64, 44); /* a lease notification form as a request */
  assert_int_equal(smbx_smb2_oplock_break_classify(p, n, &e),
                   SMBX_ERR_DECODE);
  free(p);
}

static void create_encoder_rejects_bad_views(void **state)
{
  (void)state;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  uint8_t buf[256];
  q.name.p = buf;
  q.name.len = 3;
  assert_int_equal(smbx_smb2_encode_create_req(&h, &q, buf, sizeof buf, NULL),
                   SMBX_ERR_RANGE);
  smbx_smb2_create_ctx c = {{(const uint8_t *)"Rq", 2}, {NULL, 0}, 0};
  assert_int_equal(smbx_smb2_create_ctx_list_encode(&c, 1, buf, sizeof buf,
                                                    NULL),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx_smb2_create_ctx_list_encode(NULL, 1, buf, sizeof buf,
                                                    NULL),
                   SMBX_ERR_INVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(smb2_case_7_create_with_mxac_qfid_dh2q_rqls_v2),
    cmocka_unit_test(create_ctx_every_kind_roundtrip),
    cmocka_unit_test(smb2_case_8_create_empty_name_pad_byte),
    cmocka_unit_test(smb2_case_9_close_with_and_without_postquery),
    cmocka_unit_test(smb2_case_17_oplock_break_notify_ack_resp),
    cmocka_unit_test(smb2_case_27_offsets_past_end_zero_into_header_wrap),
    cmocka_unit_test(smb2_case_28_create_name_overlaps_contexts),
    cmocka_unit_test(smb2_case_30_create_ctx_hostile),
    cmocka_unit_test(smb2_case_33_utf16_odd_nul_surrogate),
    cmocka_unit_test(lease_case_1_v1_encode),
    cmocka_unit_test(lease_case_2_v2_encode),
    cmocka_unit_test(lease_case_3_rqls_bad_length),
    cmocka_unit_test(lease_case_4_ctx_next_unaligned),
    cmocka_unit_test(lease_case_5_ctx_next_beyond),
    cmocka_unit_test(lease_case_6_ctx_name_bad),
    cmocka_unit_test(lease_case_7_ctx_data_in_name),
    cmocka_unit_test(lease_case_8_ctx_overflow),
    cmocka_unit_test(lease_case_9_ctx_overlap),
    cmocka_unit_test(lease_case_10_ctx_area_outside_pdu),
    cmocka_unit_test(lease_break_bad_sizes_rejected),
    cmocka_unit_test(create_encoder_rejects_bad_views),
  };
  return RUN_TESTS(tests);
}
