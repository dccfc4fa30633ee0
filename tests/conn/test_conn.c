/* SPDX-License-Identifier: MIT */
/* lib/conn: connection-level rules of spec/smb2.md sec. 6 and cases 24,
 * 29a, 36, 37 (4a: test_conn_crypto.c); back-to-back client/server over
 * Direct TCP and SMB Direct; hostile peers; teardown; timeouts. */
#include "test_main.h"

#include <stdlib.h>

#include <smbx/smb2.h>

#include "conn/conn_int.h"
#include "th.h"

#define S_NS 1000000000ull

/* ---- raw PDUs ------------------------------------------------------------- */

static size_t rq(uint8_t *p, uint16_t cmd, uint64_t mid, uint16_t charge,
                 uint16_t credits, uint32_t flags)
{
  size_t n = th_pdu(p, cmd, false, 0, 0);
  smbx__conn_st16(p + 6, charge);
  smbx__conn_st16(p + 14, credits);
  smbx__conn_st32(p + 16, flags);
  smbx__conn_st64(p + 24, mid);
  return n;
}

static void raw_req(th *x, uint16_t cmd, uint64_t mid, uint16_t charge,
                    uint16_t credits)
{
  uint8_t b[256];
  size_t n = rq(b, cmd, mid, charge, credits, 0);
  th_raw_send(x, TH_CLI, b, n);
}

/* The next response the server sent the raw client: header decoded. */
static bool raw_resp(th *x, smbx_smb2_hdr *h, const uint8_t **pdu,
                     size_t *len)
{
  const uint8_t *m;
  size_t n;
  if (!th_raw_next(x, TH_CLI, &m, &n))
    return false;
  assert_int_equal(smbx_smb2_hdr_decode(m, n, h, NULL), 0);
  assert_true(h->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  if (pdu)
    *pdu = m;
  if (len)
    *len = n;
  return true;
}

/* server conn vs raw client; the server answers every request at once */
static void srv_raw_flags(th *x, bool auto_respond, uint32_t flags)
{
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= flags;
  assert_int_equal(th_init_tcp(x, NULL, &s, NULL), 0);
  x->s[TH_SRV].auto_respond = auto_respond;
}

static void srv_raw(th *x, bool auto_respond)
{
  srv_raw_flags(x, auto_respond, 0);
}

/* raw client: gets `want` credits with ECHO id 0 (answered by the conn) */
static void raw_credits(th *x, uint16_t want)
{
  raw_req(x, SMBX_SMB2_ECHO, 0, 1, want);
  th_run(x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(x, &h, NULL, NULL));
  assert_int_equal(h.command, SMBX_SMB2_ECHO);
  assert_int_equal(h.credits, want);
}

static void assert_down(th *x, int side, int err)
{
  assert_int_equal(x->s[side].downs, 1);
  assert_int_equal(x->s[side].down_err, err);
  smbx__conn_info inf;
  smbx__conn_get_info(x->s[side].c, &inf);
  assert_int_equal(inf.err, err);
}

/* ---- case 24: the MessageId window --------------------------------------- */

static void smb2_case_24_out_of_order_ids_accepted(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 8); /* ids 1..8 granted */
  raw_req(&x, SMBX_SMB2_FLUSH, 5, 1, 1);
  raw_req(&x, SMBX_SMB2_FLUSH, 2, 1, 1);
  raw_req(&x, SMBX_SMB2_FLUSH, 8, 1, 1);
  raw_req(&x, SMBX_SMB2_FLUSH, 1, 1, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 4);
  uint64_t want[4] = {5, 2, 8, 1};
  for (int i = 0; i < 4; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, want[i]);
    assert_int_equal(h.status, 0);
    assert_true(h.credits >= 1);
  }
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.win_low, 3); /* 0, 1, 2 seen; 3 not yet */
  assert_int_equal(inf.err, 0);
  th_fini(&x);
}

static void smb2_case_24_duplicate_id_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 8);
  raw_req(&x, SMBX_SMB2_FLUSH, 3, 1, 1);
  raw_req(&x, SMBX_SMB2_FLUSH, 3, 1, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_false(raw_resp(&x, &h, NULL, NULL)); /* no answer to the dup */
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_24_id_equal_to_top_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 4); /* window [1, 5) */
  raw_req(&x, SMBX_SMB2_FLUSH, 5, 1, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL));
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  smbx_error_detail d;
  assert_int_equal(smbx__conn_error_detail(x.s[TH_SRV].c, &d),
                   SMBX_ERR_PROTO);
  assert_int_equal(d.offset, 24);
  th_fini(&x);
}

static void smb2_case_24_first_request_must_be_id_0(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_req(&x, SMBX_SMB2_ECHO, 1, 1, 1); /* start: valid ids {0} */
  th_run(&x);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_24_cancel_reuses_an_id(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 4);
  raw_req(&x, SMBX_SMB2_FLUSH, 1, 1, 1);
  th_run(&x);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_non_null(r);
  uint64_t req = r->req;
  /* CANCEL with the target's id: no window check, no response */
  raw_req(&x, SMBX_SMB2_CANCEL, 1, 0, 0);
  raw_req(&x, SMBX_SMB2_CANCEL, 1, 0, 0); /* twice: reported once */
  th_run(&x);
  assert_int_equal(x.s[TH_SRV].downs, 0);
  assert_int_equal(th_count(&x, TH_SRV, TE_CANCEL), 1);
  assert_int_equal(th_find(&x, TH_SRV, TE_CANCEL, 0)->req, req);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(th_respond(&x, req, SMBX_STATUS_CANCELLED), 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 1);
  assert_int_equal(h.status, SMBX_STATUS_CANCELLED);
  /* id 2 is still usable */
  raw_req(&x, SMBX_SMB2_FLUSH, 2, 1, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2);
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

/* ---- case 36: charges and ids ---------------------------------------------- */

static void srv_raw_large_mtu(th *x)
{
  srv_raw(x, true);
  th_dialect(x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
}

static void smb2_case_36_credit_charge_ffff_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw_large_mtu(&x);
  raw_credits(&x, 100);
  raw_req(&x, SMBX_SMB2_READ, 1, 0xFFFF, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_36_message_id_wrap_rejected(void **state)
{
  (void)state;
  th x;
  srv_raw_large_mtu(&x);
  smbx__conn *c = x.s[TH_SRV].c;
  /* a window placed at the top of the id space (test only) */
  c->low = UINT64_MAX - 3;
  c->high = UINT64_MAX;
  assert_int_equal(smbx__conn_win_take(c, UINT64_MAX - 1, 4),
                   SMBX_ERR_PROTO);
  assert_int_equal(smbx__conn_win_take(c, UINT64_MAX - 3, 4),
                   SMBX_ERR_PROTO); /* ends past high */
  assert_int_equal(smbx__conn_win_take(c, UINT64_MAX - 3, 3), 0);
  assert_int_equal(c->low, UINT64_MAX);
  /* and on the wire: id 2^64-2 with charge 4 */
  c->low = 0;
  c->high = 1;
  c->inflight = 0;
  raw_credits(&x, 10);
  raw_req(&x, SMBX_SMB2_READ, UINT64_MAX - 1, 4, 1);
  th_run(&x);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_36_message_id_all_ones_request_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 4);
  raw_req(&x, SMBX_SMB2_FLUSH, UINT64_MAX, 0, 1);
  th_run(&x);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_36_charge_below_payload_invalid_parameter(void **state)
{
  (void)state;
  th x;
  srv_raw_large_mtu(&x);
  raw_credits(&x, 100);
  uint8_t b[256];
  /* READ 65537 bytes needs charge 2; it says 1 */
  size_t n = rq(b, SMBX_SMB2_READ, 1, 1, 1, 0);
  smbx__conn_st32(b + 68, 65537);
  th_raw_send(&x, TH_CLI, b, n);
  /* charge 0 with a payload above 64 KiB */
  n = rq(b, SMBX_SMB2_READ, 2, 0, 1, 0);
  smbx__conn_st32(b + 68, 65537);
  th_raw_send(&x, TH_CLI, b, n);
  /* exact charge: accepted (ids 3, 4) */
  n = rq(b, SMBX_SMB2_READ, 3, 2, 1, 0);
  smbx__conn_st32(b + 68, 65537);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 1);
  assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_true(h.credits >= 1);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 2);
  assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 3);
  assert_int_equal(h.status, 0);
  assert_int_equal(h.credit_charge, 2);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

static void smb2_6_1_no_large_mtu_payload_above_64k_invalid(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  th_dialect(&x, SMBX_SMB2_DIALECT_202, 0);
  raw_credits(&x, 4);
  uint8_t b[256];
  size_t n = rq(b, SMBX_SMB2_READ, 1, 0, 1, 0);
  smbx__conn_st32(b + 68, 65537);
  th_raw_send(&x, TH_CLI, b, n);
  n = rq(b, SMBX_SMB2_READ, 2, 0, 1, 0);
  smbx__conn_st32(b + 68, 65536);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.status, 0);
  th_fini(&x);
}

/* ---- case 29a: compounding state ------------------------------------------- */

static size_t chain3(uint8_t *b, uint32_t f0, uint32_t f1, uint32_t f2,
                     uint64_t mid)
{
  size_t off = 0;
  uint16_t cmds[3] = {SMBX_SMB2_CREATE, SMBX_SMB2_QUERY_INFO,
                      SMBX_SMB2_CLOSE};
  uint32_t fl[3] = {f0, f1, f2};
  for (int i = 0; i < 3; i++) {
    uint8_t *p = b + off;
    size_t n = rq(p, cmds[i], mid + (uint64_t)i, 1, 1, fl[i]);
    uint64_t sid = 0x77, tid = 5;
    if (fl[i] & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) {
      sid = UINT64_MAX;
      tid = 0xFFFFFFFFu;
    }
    smbx__conn_st64(p + 40, sid);
    smbx__conn_st32(p + 36, (uint32_t)tid);
    size_t fo = smbx__conn_fileid_off(cmds[i]);
    if (fo && i > 0)
      memset(p + fo, 0xFF, 16);
    if (i < 2) {
      smbx_ssize m = smbx_smb2_chain_link(p, n, 4096);
      assert_true(m > 0);
      n = (size_t)m;
    }
    off += n;
  }
  return off;
}

#define REL SMBX_SMB2_FLAGS_RELATED_OPERATIONS

static void smb2_case_29a_related_on_first_fails_the_chain(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, REL, REL, REL, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0);
  for (int i = 0; i < 3; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  }
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

/* 3.3.5.2.7: the styles MUST NOT be mixed; by default every member of
 * such a chain fails INVALID_PARAMETER and none reaches the owner */
static void smb2_case_29a_mixed_styles_invalid_parameter(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, 0, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0);
  for (int i = 0; i < 3; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  }
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

static void smb2_case_29a_mixed_styles_member_by_member(void **state)
{
  (void)state;
  th x;
  srv_raw_flags(&x, false, SMBX__CONN_F_MIXED_COMPOUNDS);
  raw_credits(&x, 8);
  uint8_t b[1024];
  /* CREATE, RELATED QUERY_INFO, unrelated CLOSE (FileId all-ones): as on
   * Windows and Samba each member runs; only the RELATED one inherits */
  size_t n = chain3(b, 0, REL, 0, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  th_ev *r0 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(th_respond(&x, r0->req, 0), 0);
  th_run(&x);
  th_ev *r1 = th_find(&x, TH_SRV, TE_REQUEST, 1);
  assert_non_null(r1);
  assert_int_equal(r1->hdr.session_id, 0x77);
  assert_int_equal(r1->fileid.volatile_id, 1); /* the CREATE's */
  assert_int_equal(th_respond(&x, r1->req, 0), 0);
  th_run(&x);
  th_ev *r2 = th_find(&x, TH_SRV, TE_REQUEST, 2);
  assert_non_null(r2);
  assert_int_equal(r2->hdr.command, SMBX_SMB2_CLOSE);
  assert_int_equal(r2->fileid.persistent_id, UINT64_MAX); /* its own */
  assert_int_equal(r2->fileid.volatile_id, UINT64_MAX);
  assert_int_equal(th_respond(&x, r2->req, SMBX_STATUS_FILE_CLOSED), 0);
  uint32_t want[3] = {0, 0, SMBX_STATUS_FILE_CLOSED};
  for (int i = 0; i < 3; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, want[i]);
  }
  th_fini(&x);
}

/* 6.2: the member that brought the chain its FileId (here all-ones, on a
 * QUERY_INFO) failed: the RELATED followers fail with its status */
static void smb2_6_2_failed_fileid_carrier_fails_followers(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  uint8_t b[1024];
  uint8_t *p = b;
  size_t n = rq(p, SMBX_SMB2_QUERY_INFO, 1, 1, 1, 0);
  smbx__conn_st64(p + 40, 0x77);
  memset(p + 88, 0xFF, 16);
  n = (size_t)smbx_smb2_chain_link(p, n, 1024);
  uint8_t *q = b + n;
  size_t m = rq(q, SMBX_SMB2_CLOSE, 2, 1, 1, REL);
  smbx__conn_st64(q + 40, UINT64_MAX);
  smbx__conn_st32(q + 36, 0xFFFFFFFFu);
  memset(q + smbx__conn_fileid_off(SMBX_SMB2_CLOSE), 0xFF, 16);
  th_raw_send(&x, TH_CLI, b, n + m);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  th_ev *r0 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(th_respond(&x, r0->req, SMBX_STATUS_FILE_CLOSED), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1); /* CLOSE not run */
  for (int i = 0; i < 2; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, SMBX_STATUS_FILE_CLOSED);
  }
  th_fini(&x);
}

static void smb2_case_29a_related_members_inherit_ids(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, REL, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  /* one at a time: only the CREATE so far */
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  th_ev *r0 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(r0->hdr.command, SMBX_SMB2_CREATE);
  assert_int_equal(r0->chain_count, 3);
  assert_true(r0->flags & SMBX__CONN_PDU_RELATED);
  assert_int_equal(th_respond(&x, r0->req, 0), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2);
  th_ev *r1 = th_find(&x, TH_SRV, TE_REQUEST, 1);
  assert_int_equal(r1->hdr.command, SMBX_SMB2_QUERY_INFO);
  assert_int_equal(r1->hdr.session_id, 0x77);
  assert_int_equal(r1->hdr.tree_id, 5);
  assert_true(r1->flags & SMBX__CONN_PDU_FILEID);
  assert_int_equal(r1->fileid.persistent_id, 0xF1);
  assert_int_equal(r1->fileid.volatile_id, 1); /* CREATE's MessageId */
  assert_int_equal(r1->chain_index, 1);
  /* respond inside... later: the CLOSE follows */
  assert_int_equal(th_respond(&x, r1->req, 0), 0);
  th_ev *r2 = th_find(&x, TH_SRV, TE_REQUEST, 2);
  assert_non_null(r2);
  assert_int_equal(r2->hdr.command, SMBX_SMB2_CLOSE);
  assert_int_equal(r2->fileid.volatile_id, 1);
  assert_true(r2->flags & SMBX__CONN_PDU_LAST);
  assert_int_equal(th_respond(&x, r2->req, 0), 0);
  for (int i = 0; i < 3; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, 0);
  }
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.holds, 0);
  assert_int_equal(inf.outstanding, 0);
  th_fini(&x);
}

static void smb2_case_29a_failed_create_fails_followers(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, REL, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  th_ev *r0 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(th_respond(&x, r0->req, SMBX_STATUS_OBJECT_NAME_NOT_FOUND),
                   0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  for (int i = 0; i < 3; i++) {
    smbx_smb2_hdr h;
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  }
  th_fini(&x);
}

static void smb2_6_2_related_without_fileid_invalid_handle(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 8);
  /* FLUSH(real id) is fine; a related CLOSE inherits it; but a related
   * QUERY_INFO first in line after an ECHO has no FileId to inherit */
  uint8_t b[1024];
  uint8_t *p = b;
  size_t n = rq(p, SMBX_SMB2_ECHO, 1, 1, 1, 0);
  smbx__conn_st64(p + 40, 0x77);
  n = (size_t)smbx_smb2_chain_link(p, n, 1024);
  uint8_t *q = b + n;
  size_t m = rq(q, SMBX_SMB2_QUERY_INFO, 2, 1, 1, REL);
  smbx__conn_st64(q + 40, UINT64_MAX);
  smbx__conn_st32(q + 36, 0xFFFFFFFFu);
  memset(q + 88, 0xFF, 16);
  th_raw_send(&x, TH_CLI, b, n + m);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.command, SMBX_SMB2_ECHO);
  assert_int_equal(h.status, 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.command, SMBX_SMB2_QUERY_INFO);
  /* TreeId missing (ECHO had none? it had 0: a real value) -> FileId */
  assert_int_equal(h.status, SMBX_STATUS_INVALID_HANDLE);
  th_fini(&x);
}

static void smb2_6_2_unrelated_chain_delivered_at_once(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, 0, 0, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  for (int i = 0; i < 3; i++) {
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, (size_t)i);
    assert_int_equal(r->chain_index, i);
    assert_false(r->flags & SMBX__CONN_PDU_RELATED);
  }
  /* answered out of order */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 2)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 1)->req, 0),
                   0);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 3);
  th_fini(&x);
}

static void srv_raw_compound(th *x)
{
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  assert_int_equal(th_init_tcp(x, NULL, &s, NULL), 0);
}

static void smb2_6_2_related_responses_compounded(void **state)
{
  (void)state;
  th x;
  srv_raw_compound(&x);
  x.s[TH_SRV].auto_respond = true;
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, REL, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  const uint8_t *m;
  size_t len;
  assert_true(th_raw_next(&x, TH_CLI, &m, &len)); /* one message */
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_chain_init(&ch, m, len, 0), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 1);
    assert_int_equal(h.message_id, 1 + (uint64_t)i);
    assert_int_equal(h.status, 0);
    assert_true(h.credits >= 1);
    assert_int_equal((h.flags & REL) != 0, i > 0);
    assert_int_equal(h.next_command != 0, i < 2);
    assert_int_equal(h.next_command % 8, 0);
    assert_int_equal(smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL), 0);
  }
  assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 0);
  smbx_smb2_hdr hh;
  assert_false(raw_resp(&x, &hh, NULL, NULL)); /* nothing else */
  /* answered later, each view released first: still one message */
  x.s[TH_SRV].auto_respond = false;
  n = chain3(b, 0, REL, REL, 4);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  for (size_t i = 3; i < 6; i++) {
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, i);
    assert_non_null(r);
    assert_true(r->released);
    assert_false(raw_resp(&x, &hh, NULL, NULL));
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    th_run(&x);
  }
  assert_true(th_raw_next(&x, TH_CLI, &m, &len));
  assert_int_equal(smbx_smb2_chain_init(&ch, m, len, 0), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 1);
    assert_int_equal(h.message_id, 4 + (uint64_t)i);
  }
  assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 0);
  assert_false(raw_resp(&x, &hh, NULL, NULL));
  th_fini(&x);
}

/* The raw client sends the related chain CREATE, QUERY_INFO, CLOSE with
 * MessageIds first..first+2; the server's host answers the three requests
 * it is given (its request events first..first+2 in arrival order). */
static void chain3_answered(th *x, uint64_t first)
{
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, REL, first);
  th_raw_send(x, TH_CLI, b, n);
  th_run(x);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(
        th_respond(x, th_find(x, TH_SRV, TE_REQUEST, first - 1 + i)->req, 0),
        0);
  th_run(x);
}

/* The compound buffer is made by the first compound answered, not with the
 * connection, and kept; when it cannot be made the connection answers
 * members one by one from then on. */
static void smb2_6_2_compound_buffer_made_by_first_compound(void **state)
{
  (void)state;
  th x;
  smbx_smb2_hdr h;
  srv_raw_compound(&x);
  raw_credits(&x, 8);
  for (uint64_t first = 1; first <= 4; first += 3) {
    uint64_t bytes = x.ta.live_bytes;
    chain3_answered(&x, first);
    if (first == 1)
      assert_true(x.ta.live_bytes >= bytes + 65536); /* made now */
    else
      assert_int_equal(x.ta.live_bytes, bytes); /* kept, not made again */
    assert_true(raw_resp(&x, &h, NULL, NULL));
    assert_int_equal(h.message_id, first);
    assert_true(h.next_command != 0); /* compounded */
    assert_false(raw_resp(&x, &h, NULL, NULL));
  }
  th_fini(&x);

  srv_raw_compound(&x);
  raw_credits(&x, 8);
  for (uint64_t first = 1; first <= 4; first += 3) {
    test_alloc_fail_nth(&x.ta, 1); /* the buffer's allocation */
    chain3_answered(&x, first);
    /* asked for once, at the first compound; never again */
    assert_int_equal(x.ta.failed, 1);
    assert_int_equal(x.ta.calls, first == 1 ? 1 : 0);
    for (uint64_t k = 0; k < 3; k++) {
      assert_true(raw_resp(&x, &h, NULL, NULL)); /* each alone */
      assert_int_equal(h.message_id, first + k);
      assert_int_equal(h.status, 0);
      assert_int_equal(h.next_command, 0);
    }
    assert_false(raw_resp(&x, &h, NULL, NULL));
  }
  th_fini(&x);
}

static void smb2_6_2_compound_flushed_before_an_interim(void **state)
{
  (void)state;
  th x;
  srv_raw_compound(&x);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, REL, REL, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  th_ev *r0 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(th_respond(&x, r0->req, 0), 0);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL)); /* gathered */
  th_ev *r1 = th_find(&x, TH_SRV, TE_REQUEST, 1);
  uint64_t aid;
  assert_int_equal(smbx__conn_go_async(x.s[TH_SRV].c, r1->req, &aid, x.now),
                   0);
  /* the CREATE response goes first, alone, then the interim */
  const uint8_t *m;
  size_t len;
  assert_true(raw_resp(&x, &h, &m, &len));
  assert_int_equal(h.message_id, 1);
  assert_int_equal(h.next_command, 0);
  assert_int_equal(smbx_smb2_pdu_validate(m, len, NULL, NULL), 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 2);
  assert_int_equal(h.status, SMBX_STATUS_PENDING);
  assert_int_equal(th_respond(&x, r1->req, 0), 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 2);
  assert_true(h.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  th_ev *r2 = th_find(&x, TH_SRV, TE_REQUEST, 2);
  assert_non_null(r2);
  assert_int_equal(th_respond(&x, r2->req, 0), 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 3);
  assert_false(raw_resp(&x, &h, NULL, NULL));
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.holds, 0);
  th_fini(&x);
}

/* 6.2: an unrelated compound is answered by one compounded message in
 * the order the members were answered (no RELATED flags); an interim
 * goes alone, after what was gathered, and the async member's final
 * response follows alone */
static void smb2_6_2_unrelated_responses_compounded_in_answer_order(
    void **state)
{
  (void)state;
  th x;
  srv_raw_compound(&x);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, 0, 0, 1);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  smbx_smb2_hdr h;
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 2)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  assert_false(raw_resp(&x, &h, NULL, NULL)); /* gathered */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 1)->req, 0),
                   0);
  const uint8_t *m;
  size_t len;
  assert_true(th_raw_next(&x, TH_CLI, &m, &len)); /* one message */
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  const uint64_t order[3] = {3, 1, 2};
  assert_int_equal(smbx_smb2_chain_init(&ch, m, len, 0), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 1);
    assert_int_equal(h.message_id, order[i]);
    assert_false(h.flags & REL);
    assert_int_equal(h.next_command != 0, i < 2);
    assert_int_equal(h.next_command % 8, 0);
    assert_int_equal(smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL), 0);
  }
  assert_int_equal(smbx_smb2_chain_next(&ch, &pdu, &h, NULL), 0);
  assert_false(raw_resp(&x, &h, NULL, NULL));
  /* a second chain: one member answered, one goes async, one answered */
  n = chain3(b, 0, 0, 0, 4);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 3)->req, 0),
                   0);
  uint64_t aid;
  assert_int_equal(smbx__conn_go_async(x.s[TH_SRV].c,
                                       th_find(&x, TH_SRV, TE_REQUEST, 4)->req,
                                       &aid, x.now),
                   0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 4);
  assert_int_equal(h.next_command, 0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 5);
  assert_int_equal(h.status, SMBX_STATUS_PENDING);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 5)->req, 0),
                   0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 6);
  assert_int_equal(h.next_command, 0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 4)->req, 0),
                   0);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 5);
  assert_true(h.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  assert_false(raw_resp(&x, &h, NULL, NULL));
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.holds, 0);
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

static void b2b_compounded_responses(bool smbd)
{
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  if (smbd)
    assert_int_equal(th_init_smbd(&x, &c, &s, NULL), 0);
  else
    assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  for (int round = 0; round < 3; round++) {
    th_side *e = &x.s[TH_CLI];
    size_t n = chain3(e->out + SMBX__CONN_HEADROOM, 0, REL, REL, 0);
    uint64_t reqs[3];
    assert_int_equal(smbx__conn_send(e->c, e->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, n,
                                     NULL, 9, reqs, 3, x.now),
                     3);
    th_run(&x);
    for (int i = 0; i < 3; i++) {
      th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)(3 * round + i));
      assert_non_null(v);
      assert_int_equal(v->req, reqs[i]);
      assert_int_equal(v->err, 0);
      assert_int_equal(v->chain_index, i);
    }
  }
  smbx__conn_info ci, si;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(ci.win_high, si.win_high);
  assert_int_equal(si.holds, 0);
  assert_int_equal(ci.outstanding, 0);
  th_fini(&x);
}

static void b2b_tcp_compounded_responses(void **state)
{
  (void)state;
  b2b_compounded_responses(false);
}

static void b2b_smbd_compounded_responses(void **state)
{
  (void)state;
  b2b_compounded_responses(true);
}

/* Server SEND_WITH_INVALIDATEs of rkey (smbd.md sec. 4). */
static size_t srv_inv_sends(const th *x, uint32_t rkey)
{
  size_t n = 0, k = sim_sent_count(x->w, TH_SRV);
  for (size_t i = 0; i < k; i++) {
    const sim_msg *m = sim_sent(x->w, TH_SRV, i);
    n += (m->flags & SMBX_SEND_INVALIDATE) && m->rkey == rkey;
  }
  return n;
}

/* smbd.md sec. 4 / case 55 with compounded responses: the answer armed
 * with an invalidation is gathered, so the compounded message that
 * carries it goes SEND_WITH_INVALIDATE (once); a second member armed too
 * goes in its own message with its own key */
static void smbd_4_compound_member_invalidates(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  assert_int_equal(th_init_smbd(&x, &c, &s, NULL), 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  size_t n = chain3(e->out + SMBX__CONN_HEADROOM, 0, REL, REL, 0);
  uint64_t reqs[3];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, NULL,
                                   9, reqs, 3, x.now),
                   3);
  th_run(&x);
  smbx__conn *sc = x.s[TH_SRV].c;
  size_t sent0 = sim_sent_count(x.w, TH_SRV);
  for (size_t i = 0; i < 3; i++) {
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, i);
    assert_non_null(r);
    bool arm = i != 1;
    smbx__conn_invalidate_next(sc, arm, 0xAB00u + (uint32_t)i);
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    smbx__conn_invalidate_next(sc, false, 0);
    th_run(&x);
  }
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 4);
  /* CREATE + QUERY_INFO gathered (the CREATE's key), CLOSE alone */
  assert_int_equal(sim_sent_count(x.w, TH_SRV) - sent0, 2);
  assert_int_equal(srv_inv_sends(&x, 0xAB00u), 1);
  assert_int_equal(srv_inv_sends(&x, 0xAB02u), 1);
  for (int i = 0; i < 3; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)i);
    assert_int_equal(v->req, reqs[i]);
    assert_int_equal(v->err, 0);
    assert_true(v->flags & SMBX__CONN_PDU_INVALIDATED);
  }
  th_fini(&x);
}

/* over SMB Direct a compound flush refused for lack of send buffers is
 * retried after the next SEND_DONE; the responses stay in order */
static void b2b_smbd_compound_flush_waits_for_send_space(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  th_smbd_send_buffers = 48;
  assert_int_equal(th_init_smbd(&x, &c, &s, NULL), 0);
  th_smbd_send_buffers = 900;
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  /* a plain READ of 40000 bytes, then a related chain of three READs of
   * 10000 bytes each */
  uint64_t big;
  assert_int_equal(th_send_read(&x, 40000, 50, &big), 1);
  th_side *e = &x.s[TH_CLI];
  uint8_t *b = e->out + SMBX__CONN_HEADROOM;
  size_t off = 0;
  for (int i = 0; i < 3; i++) {
    uint8_t *p = b + off;
    size_t n = th_pdu(p, SMBX_SMB2_READ, false, 0, 0);
    smbx__conn_st32(p + 68, 10000);
    smbx__conn_st64(p + 40, i ? UINT64_MAX : 7);
    smbx__conn_st32(p + 36, i ? 0xFFFFFFFFu : 1);
    if (i) {
      smbx__conn_st32(p + 16, REL);
      memset(p + 80, 0xFF, 16);
    }
    if (i < 2)
      n = (size_t)smbx_smb2_chain_link(p, n, 4096);
    off += n;
  }
  uint64_t reqs[3];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, off,
                                   NULL, 60, reqs, 3, x.now),
                   3);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2); /* big + first */
  /* the big response takes ~30 of the 47 usable send buffers */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 1)->req, 0),
                   0);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 2)->req, 0),
                   0);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 4);
  /* the last one completes the compound (~30 KB): no room yet, gathered */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 3)->req, 0),
                   0);
  assert_true(x.s[TH_SRV].c->cb_stuck);
  th_run(&x);
  assert_false(x.s[TH_SRV].c->cb_stuck);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 5);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1);
  assert_int_equal(v->req, big);
  for (int i = 0; i < 3; i++) {
    v = th_find(&x, TH_CLI, TE_COMPLETE, 2 + (size_t)i);
    assert_int_equal(v->req, reqs[i]);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->chain_index, i);
    assert_true(v->len >= 80 + 10000);
  }
  assert_int_equal(x.s[TH_CLI].downs + x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

/* ---- hostile clients --------------------------------------------------------- */

static void smb2_3_3_5_2_6_unknown_command_disconnects_silently(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  uint8_t b[256];
  size_t n = rq(b, SMBX_SMB2_ECHO, 0, 1, 1, 0);
  smbx__conn_st16(b + 12, 0x13);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL));
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_3_3_5_2_6_message_below_64_bytes_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  uint8_t b[256];
  (void)rq(b, SMBX_SMB2_ECHO, 0, 1, 1, 0);
  th_raw_send(&x, TH_CLI, b, 63);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL));
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_hostile_truncated_compound_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  raw_credits(&x, 8);
  uint8_t b[1024];
  size_t n = chain3(b, 0, 0, 0, 1);
  th_raw_send(&x, TH_CLI, b, n - 60); /* the last member cut short */
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0);
  smbx_smb2_hdr h;
  assert_false(raw_resp(&x, &h, NULL, NULL)); /* nothing answered */
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_hostile_garbage_after_a_valid_pdu(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  /* trailing bytes inside the message belong to the last PDU: served */
  uint8_t b[256];
  size_t n = rq(b, SMBX_SMB2_ECHO, 0, 1, 4, 0);
  memset(b + n, 0xEE, 40);
  th_raw_send(&x, TH_CLI, b, n + 40);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.status, 0);
  /* a garbage frame after it: not SMB2 -> disconnect, no answer */
  th_raw_send(&x, TH_CLI, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  th_run(&x);
  assert_false(raw_resp(&x, &h, NULL, NULL));
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_hostile_bad_tcp_prefix_disconnects(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  th_side *e = &x.s[TH_SRV];
  memcpy(e->in, "\x01\x00\x00\x44", 4);
  e->in_len = 4;
  th_run(&x);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_hostile_requests_without_credits_disconnect(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 3); /* ids 1, 2, 3 */
  for (uint64_t i = 1; i <= 4; i++)
    raw_req(&x, SMBX_SMB2_FLUSH, i, 1, 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  /* the three taken requests were aborted exactly once */
  assert_int_equal(th_count(&x, TH_SRV, TE_ABORT), 3);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(th_find(&x, TH_SRV, TE_ABORT, i)->err, SMBX_ERR_PROTO);
  /* responding afterwards: the sticky error, the handle is gone */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   SMBX_ERR_NOTFOUND);
  th_fini(&x);
}

static void smb2_hostile_flood_is_capped_by_credits(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.credits_max = 100;
  assert_int_equal(th_init_tcp(&x, NULL, &s, NULL), 0);
  /* the client asks for 1000 credits at every step: never above 100 */
  raw_req(&x, SMBX_SMB2_ECHO, 0, 1, 1000);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.credits, 100);
  for (uint64_t i = 1; i <= 100; i++)
    raw_req(&x, SMBX_SMB2_FLUSH, i, 1, 1000);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 100);
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.credits, 100); /* all in flight */
  /* one more id than granted */
  raw_req(&x, SMBX_SMB2_FLUSH, 101, 1, 1);
  th_run(&x);
  assert_down(&x, TH_SRV, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_6_1_server_grants_what_is_asked_within_limits(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.credits_max = 100;
  s.credits_min = 10;
  assert_int_equal(th_init_tcp(&x, NULL, &s, NULL), 0);
  x.s[TH_SRV].auto_respond = true;
  /* asks 0: still gets one (never run dry) */
  raw_req(&x, SMBX_SMB2_ECHO, 0, 1, 0);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.credits, 1);
  raw_req(&x, SMBX_SMB2_ECHO, 1, 1, 5);
  th_run(&x);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.credits, 5);
  /* backpressure: held capped at credits_min (10); holds 5 now */
  smbx__conn_set_backpressure(x.s[TH_SRV].c, true);
  raw_req(&x, SMBX_SMB2_ECHO, 2, 1, 50);
  th_run(&x);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.credits, 6); /* 4 left + 6 = 10 */
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_SRV].c, &inf);
  assert_int_equal(inf.credits, 10);
  smbx__conn_set_backpressure(x.s[TH_SRV].c, false);
  raw_req(&x, SMBX_SMB2_ECHO, 3, 1, 500);
  th_run(&x);
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.credits, 91); /* 9 + 91 = 100 */
  th_fini(&x);
}

static void smb2_3_3_5_2_6_signed_negotiate_invalid_parameter(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  uint8_t b[256];
  size_t n = rq(b, SMBX_SMB2_NEGOTIATE, 0, 0, 1, SMBX_SMB2_FLAGS_SIGNED);
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_true(h.credits >= 1); /* grants >= 1 on NEGOTIATE */
  th_fini(&x);
}

/* 3.3.4.1.1: an error answer to a signed request that no key can sign
 * (USER_SESSION_DELETED: the session is unknown on this connection)
 * keeps SIGNED with a zero signature, as Samba and ksmbd answer
 * (smbtorture smb2.session.bind2); a success answer, or any answer to an
 * unsigned request, goes without it */
static void smb2_3_3_4_1_1_keyless_error_to_signed_request_keeps_signed(
    void **state)
{
  (void)state;
  static const struct {
    uint32_t flags, status;
    bool want_signed;
  } k[] = {
      {SMBX_SMB2_FLAGS_SIGNED, SMBX_STATUS_USER_SESSION_DELETED, true},
      {SMBX_SMB2_FLAGS_SIGNED, SMBX_STATUS_SUCCESS, false},
      {0, SMBX_STATUS_USER_SESSION_DELETED, false},
  };
  th x;
  srv_raw(&x, false);
  raw_credits(&x, 8);
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    uint8_t b[256];
    size_t n = rq(b, SMBX_SMB2_FLUSH, i + 1, 1, 1, k[i].flags);
    smbx__conn_st64(b + 40, 0x77);
    if (k[i].flags)
      memset(b + 48, 0xAB, 16);
    th_raw_send(&x, TH_CLI, b, n);
    th_run(&x);
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, i);
    assert_non_null(r);
    assert_int_equal((r->flags & SMBX__CONN_PDU_SIG_UNCHECKED) != 0,
                     k[i].flags != 0);
    assert_int_equal(th_respond(&x, r->req, k[i].status), 0);
    th_run(&x);
    smbx_smb2_hdr h;
    const uint8_t *pdu;
    size_t len;
    assert_true(raw_resp(&x, &h, &pdu, &len));
    assert_int_equal(h.message_id, i + 1);
    assert_int_equal(h.status, k[i].status);
    assert_int_equal((h.flags & SMBX_SMB2_FLAGS_SIGNED) != 0,
                     k[i].want_signed);
    static const uint8_t zero[16];
    assert_memory_equal(pdu + 48, zero, 16);
  }
  th_fini(&x);
}

static void smb2_3_3_5_2_6_wrong_structure_size_invalid_parameter(
    void **state)
{
  (void)state;
  th x;
  srv_raw(&x, true);
  uint8_t b[256];
  size_t n = rq(b, SMBX_SMB2_ECHO, 0, 1, 1, 0);
  b[64] = 6;
  th_raw_send(&x, TH_CLI, b, n);
  th_run(&x);
  smbx_smb2_hdr h;
  const uint8_t *pdu;
  size_t len;
  assert_true(raw_resp(&x, &h, &pdu, &len));
  assert_int_equal(h.status, SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(len, 73); /* ERROR body with the one zero byte */
  th_fini(&x);
}

static void smb2_1_smb1_negotiate_answered_as_id_0(void **state)
{
  (void)state;
  th x;
  srv_raw(&x, false);
  /* SMB1 NEGOTIATE offering "SMB 2.002" and "SMB 2.???" */
  uint8_t b[128];
  memset(b, 0, sizeof b);
  memcpy(b, "\xFFSMB\x72", 5);
  const char d[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
  size_t dl = sizeof d;
  b[32] = 0; /* WordCount */
  b[33] = (uint8_t)dl;
  b[34] = 0;
  memcpy(b + 35, d, dl);
  th_raw_send(&x, TH_CLI, b, 35 + dl);
  th_run(&x);
  assert_int_equal(x.s[TH_SRV].downs, 0);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_non_null(r);
  assert_true(r->flags & SMBX__CONN_PDU_SMB1);
  assert_int_equal(r->hdr.command, SMBX_SMB2_NEGOTIATE);
  assert_int_equal(th_respond(&x, r->req, 0), 0);
  smbx_smb2_hdr h;
  assert_true(raw_resp(&x, &h, NULL, NULL));
  assert_int_equal(h.message_id, 0);
  assert_int_equal(h.command, SMBX_SMB2_NEGOTIATE);
  /* next SMB2 NEGOTIATE uses id 1 */
  raw_req(&x, SMBX_SMB2_NEGOTIATE, 1, 0, 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2);
  th_fini(&x);
}

/* ---- case 37: the client checks responses ------------------------------------ */

static void cli_raw(th *x)
{
  smbx__conn_settings s = th_settings(SMBX__CONN_CLIENT);
  assert_int_equal(th_init_tcp(x, &s, NULL, NULL), 0);
}

static size_t rs(uint8_t *p, uint16_t cmd, uint64_t mid, uint16_t credits,
                 uint32_t status, uint32_t flags)
{
  size_t n = th_pdu(p, cmd, true, status, 0);
  smbx__conn_st16(p + 14, credits);
  smbx__conn_st32(p + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR | flags);
  smbx__conn_st64(p + 24, mid);
  return n;
}

static void raw_srv_resp(th *x, uint16_t cmd, uint64_t mid, uint16_t credits,
                         uint32_t status, uint32_t flags)
{
  uint8_t b[256];
  size_t n = rs(b, cmd, mid, credits, status, flags);
  th_raw_send(x, TH_SRV, b, n);
}

static void smb2_case_37_grant_overflowing_65535_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 0, 65535, 0, 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 1);
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_CLI].c, &inf);
  assert_int_equal(inf.credits, 65535);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 2, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 1, 2, 0, 0); /* 65534 + 2 */
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  /* the request was completed once, with the error */
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 2);
  assert_int_equal(th_find(&x, TH_CLI, TE_COMPLETE, 1)->err, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_37_unknown_message_id_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 7, 1, 0, 0);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  assert_int_equal(th_find(&x, TH_CLI, TE_COMPLETE, 0)->err, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_37_wrong_command_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_FLUSH, 0, 1, 0, 0);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_37_missing_server_to_redir_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  uint8_t b[256];
  size_t n = rs(b, SMBX_SMB2_ECHO, 0, 1, 0, 0);
  smbx__conn_st32(b + 16, 0);
  th_raw_send(&x, TH_SRV, b, n);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_37_second_pending_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  uint8_t b[256];
  size_t n = rs(b, SMBX_SMB2_ECHO, 0, 1, SMBX_STATUS_PENDING,
                SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  smbx__conn_st64(b + 32, 0x55);
  th_raw_send(&x, TH_SRV, b, n);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_INTERIM), 1);
  assert_int_equal(th_find(&x, TH_CLI, TE_INTERIM, 0)->hdr.async_id, 0x55);
  assert_int_equal(x.s[TH_CLI].downs, 0);
  th_raw_send(&x, TH_SRV, b, n);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_case_37_unsolicited_oplock_break_reported(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  raw_srv_resp(&x, SMBX_SMB2_OPLOCK_BREAK, UINT64_MAX, 0, 0, 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_NOTIFY), 1);
  assert_int_equal(x.s[TH_CLI].downs, 0);
  /* any other unsolicited command is a protocol error */
  raw_srv_resp(&x, SMBX_SMB2_ECHO, UINT64_MAX, 0, 0, 0);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_6_3_final_with_other_async_id_disconnects(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  uint8_t b[256];
  size_t n = rs(b, SMBX_SMB2_ECHO, 0, 1, SMBX_STATUS_PENDING,
                SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  smbx__conn_st64(b + 32, 0x55);
  th_raw_send(&x, TH_SRV, b, n);
  n = rs(b, SMBX_SMB2_ECHO, 0, 0, 0, SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  smbx__conn_st64(b + 32, 0x56);
  th_raw_send(&x, TH_SRV, b, n);
  th_run(&x);
  assert_down(&x, TH_CLI, SMBX_ERR_PROTO);
  th_fini(&x);
}

static void smb2_6_2_client_takes_a_compounded_response(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 0, 10, 0, 0);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  size_t n = chain3(e->out + SMBX__CONN_HEADROOM, 0, REL, REL, 0);
  uint64_t reqs[3];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, NULL,
                                   5, reqs, 3, x.now),
                   3);
  /* one message, three responses (ids 1, 2, 3), the second an error */
  uint8_t b[1024];
  size_t off = 0;
  uint16_t cmds[3] = {SMBX_SMB2_CREATE, SMBX_SMB2_QUERY_INFO,
                      SMBX_SMB2_CLOSE};
  for (int i = 0; i < 3; i++) {
    size_t m = rs(b + off, cmds[i], 1 + (uint64_t)i, 1,
                  i == 1 ? SMBX_STATUS_ACCESS_DENIED : 0,
                  i ? SMBX_SMB2_FLAGS_RELATED_OPERATIONS : 0);
    if (i < 2)
      m = (size_t)smbx_smb2_chain_link(b + off, m, sizeof b - off);
    off += m;
  }
  th_raw_send(&x, TH_SRV, b, off);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 4);
  for (int i = 0; i < 3; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)i);
    assert_int_equal(v->req, reqs[i]);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->chain_index, i);
    assert_int_equal(v->hdr.command, cmds[i]);
    assert_int_equal(v->status, i == 1 ? SMBX_STATUS_ACCESS_DENIED : 0);
    assert_int_equal((v->flags & SMBX__CONN_PDU_LAST) != 0, i == 2);
  }
  smbx__conn_info inf;
  smbx__conn_get_info(e->c, &inf);
  assert_int_equal(inf.outstanding, 0);
  assert_int_equal(inf.holds, 0);
  assert_int_equal(inf.credits, 7 + 3); /* 10 - 3 spent + 3 granted */
  th_fini(&x);
}

/* ---- client credits ----------------------------------------------------------- */

static void smb2_6_1_client_never_exceeds_credits(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  /* one credit at start: the second request waits */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 2, NULL),
                   SMBX_ERR_AGAIN);
  const uint8_t *m;
  size_t n;
  assert_true(th_raw_next(&x, TH_SRV, &m, &n));
  smbx_smb2_hdr h;
  assert_int_equal(smbx_smb2_hdr_decode(m, n, &h, NULL), 0);
  assert_int_equal(h.message_id, 0);
  assert_int_equal(h.credits, 64); /* asks for credit_target */
  assert_false(th_raw_next(&x, TH_SRV, &m, &n));
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 0, 3, 0, 0);
  th_run(&x);
  assert_int_equal(x.s[TH_CLI].writable_n, 1);
  for (int i = 0; i < 3; i++)
    assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 3, NULL), 1);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 3, NULL),
                   SMBX_ERR_AGAIN);
  for (uint64_t i = 1; i <= 3; i++) {
    assert_true(th_raw_next(&x, TH_SRV, &m, &n));
    assert_int_equal(smbx_smb2_hdr_decode(m, n, &h, NULL), 0);
    assert_int_equal(h.message_id, i); /* lowest free ids, in order */
  }
  th_fini(&x);
}

static void smb2_6_1_client_multi_credit_charge(void **state)
{
  (void)state;
  th x;
  cli_raw(&x);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  raw_srv_resp(&x, SMBX_SMB2_ECHO, 0, 10, 0, 0);
  th_run(&x);
  /* 8 MiB needs 128 credits: can never fit 10 now -> AGAIN */
  assert_int_equal(th_send_read(&x, 8u << 20, 1, NULL), SMBX_ERR_AGAIN);
  /* 65537 bytes: charge 2, ids 1 and 2 */
  assert_int_equal(th_send_read(&x, 65537, 2, NULL), 1);
  assert_int_equal(th_send_read(&x, 65536, 3, NULL), 1);
  const uint8_t *m;
  size_t n;
  smbx_smb2_hdr h;
  assert_true(th_raw_next(&x, TH_SRV, &m, &n)); /* the ECHO */
  assert_true(th_raw_next(&x, TH_SRV, &m, &n));
  assert_int_equal(smbx_smb2_hdr_decode(m, n, &h, NULL), 0);
  assert_int_equal(h.message_id, 1);
  assert_int_equal(h.credit_charge, 2);
  assert_true(th_raw_next(&x, TH_SRV, &m, &n));
  assert_int_equal(smbx_smb2_hdr_decode(m, n, &h, NULL), 0);
  assert_int_equal(h.message_id, 3);
  assert_int_equal(h.credit_charge, 1);
  smbx__conn_info inf;
  smbx__conn_get_info(x.s[TH_CLI].c, &inf);
  assert_int_equal(inf.credits, 7);
  assert_int_equal(inf.win_low, 4);
  /* 2.0.2: charge 0, one id, payloads above 64 KiB refused */
  th_dialect(&x, SMBX_SMB2_DIALECT_202, 0);
  assert_int_equal(th_send_read(&x, 65537, 4, NULL), SMBX_ERR_RANGE);
  th_fini(&x);
}

/* ---- back to back ------------------------------------------------------------- */

static void pair_tcp(th *x)
{
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  assert_int_equal(th_init_tcp(x, &c, &s, NULL), 0);
}

static void pair(th *x, bool smbd)
{
  if (!smbd) {
    pair_tcp(x);
    return;
  }
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  assert_int_equal(th_init_smbd(x, &c, &s, NULL), 0);
}

/* 3.2.5.1: a response is matched to its request by MessageId. The client
 * finds a request in a direct-mapped table by the id's low bits; one whose
 * slot a longer-lived request holds (ids max_requests apart) is kept in
 * the hash: both are found, each completes its own request, and an
 * unknown id is still a protocol error. */
static void smb2_3_2_5_1_message_id_slot_collision(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  c.max_requests = 4; /* a 4-slot table: ids 1 and 5 share a slot */
  assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  /* ECHO (id 0, answered by the server's connection) brings credits */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 1);
  uint64_t a = 0, b = 0;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 100, &a), 1); /* id 1 */
  for (uint64_t id = 2; id <= 4; id++) { /* sent and answered one by one */
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL), 1);
    th_run(&x);
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, (size_t)id - 1);
    assert_non_null(r);
    assert_int_equal(r->hdr.message_id, id);
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    th_run(&x);
  }
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 500, &b), 1); /* id 5 */
  th_run(&x);
  th_ev *rb = th_find(&x, TH_SRV, TE_REQUEST, 4);
  assert_non_null(rb);
  assert_int_equal(rb->hdr.message_id, 5);
  /* the later request (in the hash) answered first, then the older one */
  assert_int_equal(th_respond(&x, rb->req, 0), 0);
  th_run(&x);
  th_ev *ra = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(ra->hdr.message_id, 1);
  assert_int_equal(th_respond(&x, ra->req, 0), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 6);
  th_ev *vb = th_find(&x, TH_CLI, TE_COMPLETE, 4);
  th_ev *va = th_find(&x, TH_CLI, TE_COMPLETE, 5);
  assert_int_equal(vb->req, b);
  assert_int_equal(vb->user, 500);
  assert_int_equal(vb->hdr.message_id, 5);
  assert_int_equal(va->req, a);
  assert_int_equal(va->user, 100);
  assert_int_equal(va->hdr.message_id, 1);
  smbx__conn_info ci;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.err, 0);
  th_fini(&x);
}

/* The same with the colliding request still live when the one in its slot
 * completes: the slot frees, the hashed request stays findable, and a
 * response naming an id no request has is a protocol error. */
static void smb2_3_2_5_1_hashed_request_outlives_slot_owner(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  c.max_requests = 4;
  assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  uint64_t a = 0, b = 0;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 100, &a), 1); /* id 1 */
  for (uint64_t id = 2; id <= 4; id++) {
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL), 1);
    th_run(&x);
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, (size_t)id - 1);
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    th_run(&x);
  }
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 500, &b), 1); /* id 5 */
  th_run(&x);
  /* the slot's owner (id 1) completes first */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  th_run(&x);
  /* id 9 shares the freed slot with the hashed id 5 */
  uint64_t d = 0;
  for (uint64_t id = 6; id <= 9; id++) {
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id * 10, &d), 1);
    th_run(&x);
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, (size_t)id - 1);
    assert_int_equal(r->hdr.message_id, id);
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    th_run(&x);
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, (size_t)id - 1);
    assert_int_equal(v->req, d);
    assert_int_equal(v->user, id * 10);
  }
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 4)->req, 0),
                   0);
  th_run(&x);
  th_ev *vb = th_find(&x, TH_CLI, TE_COMPLETE, 9);
  assert_int_equal(vb->req, b);
  assert_int_equal(vb->user, 500);
  assert_int_equal(x.s[TH_CLI].downs, 0);
  th_fini(&x);
}

/* More live requests than the small MessageId hash starts with find their
 * table slots taken: the hash grows before the sends (memory, not a steady
 * state cost), every response finds its request; when that memory cannot
 * be had the send fails SMBX_ERR_NOMEM with nothing sent, and a retry
 * works. */
static void smb2_3_2_5_1_many_slot_collisions_grow_the_hash(void **state)
{
  (void)state;
  enum { LIVE = 30 }; /* above the 28 the hash holds at first */
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  c.max_requests = 64; /* a 64-slot table */
  c.credit_target = 128;
  assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 0, NULL), 1);
  th_run(&x);
  /* ids 1..LIVE stay live */
  for (uint64_t id = 1; id <= LIVE; id++)
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL), 1);
  th_run(&x);
  size_t srv_n = LIVE;
  /* ids LIVE+1..64 go and come back one by one */
  for (uint64_t id = LIVE + 1; id < 64; id++) {
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL), 1);
    th_run(&x);
    th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, srv_n++);
    assert_int_equal(r->hdr.message_id, id);
    assert_int_equal(th_respond(&x, r->req, 0), 0);
    th_run(&x);
  }
  /* ids 64..64+LIVE-1: slots 0..LIVE-1; 1..LIVE-1 are taken */
  for (uint64_t id = 64; id < 64 + LIVE; id++) {
    bool grows = id == 64 + 29; /* the 29th colliding request */
    if (grows) {
      test_alloc_fail_nth(&x.ta, 1); /* no memory first */
      assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL),
                       SMBX_ERR_NOMEM);
      th_run(&x);
      assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), srv_n + (id - 64));
      test_alloc_fail_nth(&x.ta, 0); /* counts from 0 again */
    }
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, id, NULL), 1);
    if (grows)
      assert_int_equal(x.ta.calls, 1); /* the larger hash */
  }
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), srv_n + LIVE);
  /* every live request answered, newest first */
  size_t done0 = th_count(&x, TH_CLI, TE_COMPLETE);
  for (size_t k = srv_n + LIVE; k-- > srv_n;)
    assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, k)->req,
                                0),
                     0);
  for (size_t k = LIVE; k-- > 0;)
    assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, k)->req,
                                0),
                     0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), done0 + 2 * LIVE);
  for (size_t k = done0; k < done0 + 2 * LIVE; k++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, k);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->user, v->hdr.message_id);
  }
  smbx__conn_info ci;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.err, 0);
  th_fini(&x);
}

static void b2b_echo_and_credits(bool smbd)
{
  th x;
  pair(&x, smbd);
  uint64_t req = 0;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 42, &req), 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 0); /* conn answers */
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 1);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 0);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->req, req);
  assert_int_equal(v->user, 42);
  assert_int_equal(v->hdr.command, SMBX_SMB2_ECHO);
  smbx__conn_info ci, si;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(ci.credits, 64);
  assert_int_equal(si.credits, 64);
  assert_int_equal(ci.win_high, si.win_high);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.holds, 0);
  th_fini(&x);
}

static void b2b_tcp_echo_and_credits(void **state)
{
  (void)state;
  b2b_echo_and_credits(false);
}

static void b2b_smbd_echo_and_credits(void **state)
{
  (void)state;
  b2b_echo_and_credits(true);
}

/* A plain one-PDU READ takes each role's straight path: the request is
 * delivered with the message's only reference (the owner's: one hold
 * live, released once, a second release NOTFOUND), the response is
 * matched and completed, and SEND_DONE, the connection's alone, never
 * reaches the owner's smbd_event (conn.h). */
static void b2b_smbd_plain_read_hold_is_the_owners_send_done_unreported(
    void **state)
{
  (void)state;
  th x;
  pair(&x, true);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  x.s[TH_SRV].auto_release = false;
  uint64_t req = 0;
  assert_int_equal(th_send_read(&x, 4096, 9, &req), 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_int_equal(r->hdr.command, SMBX_SMB2_READ);
  assert_int_equal(r->flags & (SMBX__CONN_PDU_FILEID | SMBX__CONN_PDU_LAST),
                   SMBX__CONN_PDU_FILEID | SMBX__CONN_PDU_LAST);
  assert_int_equal(r->chain_count, 1);
  smbx__conn_info si;
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.holds, 1);
  assert_int_equal(si.outstanding, 1);
  assert_int_equal(smbx__conn_release(x.s[TH_SRV].c, r->hold, 0), 0);
  assert_int_equal(smbx__conn_release(x.s[TH_SRV].c, r->hold, 0),
                   SMBX_ERR_NOTFOUND);
  r->released = true;
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.holds, 0);
  assert_int_equal(th_respond(&x, r->req, 0), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 2);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->req, req);
  assert_int_equal(v->user, 9);
  assert_int_equal(v->hdr.command, SMBX_SMB2_READ);
  smbx__conn_info ci;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.holds, 0);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.outstanding, 0);
  for (int side = 0; side < 2; side++)
    for (size_t i = 0; i < x.s[side].ev_n; i++)
      assert_false(x.s[side].ev[i].kind == TE_SMBD &&
                   x.s[side].ev[i].status == SMBX_SMBD_EV_SEND_DONE);
  th_fini(&x);
}

static void b2b_multi_credit_read(bool smbd)
{
  th x;
  pair(&x, smbd);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  uint32_t len = smbd ? (960u << 10) : (1u << 20);
  uint64_t req;
  assert_int_equal(th_send_read(&x, len, 7, &req), 1);
  th_run(&x);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_non_null(r);
  assert_int_equal(r->hdr.credit_charge, (len - 1) / 65536 + 1);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1);
  assert_non_null(v);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->req, req);
  assert_int_equal(v->len, 80 + len);
  for (uint32_t i = 0; i < len; i += 4099)
    assert_int_equal(v->bytes[80 + i], (uint8_t)(i * 7 + 1));
  smbx__conn_info ci, si;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(ci.win_high, si.win_high);
  assert_int_equal(ci.credits, si.credits);
  th_fini(&x);
}

static void b2b_tcp_multi_credit_read(void **state)
{
  (void)state;
  b2b_multi_credit_read(false);
}

static void b2b_smbd_multi_credit_read(void **state)
{
  (void)state;
  b2b_multi_credit_read(true);
}

static void b2b_related_compound(bool smbd)
{
  th x;
  pair(&x, smbd);
  x.s[TH_SRV].auto_respond = true; /* answers inside the upcall */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  uint8_t *b = e->out + SMBX__CONN_HEADROOM;
  size_t n = chain3(b, 0, REL, REL, 0);
  uint64_t reqs[3];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, NULL,
                                   9, reqs, 3, x.now),
                   3);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  th_ev *q = th_find(&x, TH_SRV, TE_REQUEST, 2);
  assert_int_equal(q->fileid.persistent_id, 0xF1);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 4);
  for (int i = 0; i < 3; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)i);
    assert_int_equal(v->req, reqs[i]);
    assert_int_equal(v->user, 9);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->status, 0);
  }
  smbx__conn_info si;
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.holds, 0);
  assert_int_equal(si.outstanding, 0);
  th_fini(&x);
}

static void b2b_tcp_related_compound(void **state)
{
  (void)state;
  b2b_related_compound(false);
}

static void b2b_smbd_related_compound(void **state)
{
  (void)state;
  b2b_related_compound(true);
}

static void b2b_async_and_cancel(bool smbd)
{
  th x;
  pair(&x, smbd);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  uint64_t creq;
  assert_int_equal(th_send(&x, SMBX_SMB2_CHANGE_NOTIFY, 0x77, 3, 5, &creq), 1);
  th_run(&x);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  uint64_t aid = 0;
  assert_int_equal(smbx__conn_go_async(x.s[TH_SRV].c, r->req, &aid, x.now),
                   0);
  assert_true(aid != 0);
  assert_int_equal(smbx__conn_go_async(x.s[TH_SRV].c, r->req, &aid, x.now),
                   SMBX_ERR_STATE);
  th_run(&x);
  th_ev *it = th_find(&x, TH_CLI, TE_INTERIM, 0);
  assert_non_null(it);
  assert_int_equal(it->hdr.async_id, aid);
  assert_int_equal(it->req, creq);
  assert_true(it->hdr.credits >= 1); /* credits come with the interim */
  assert_int_equal(smbx__conn_cancel(x.s[TH_CLI].c, creq, x.now), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_CANCEL), 1);
  assert_int_equal(th_find(&x, TH_SRV, TE_CANCEL, 0)->req, r->req);
  smbx__conn_info si;
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.async, 1);
  assert_int_equal(th_respond(&x, r->req, SMBX_STATUS_CANCELLED), 0);
  th_run(&x);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1);
  assert_non_null(v);
  assert_int_equal(v->status, SMBX_STATUS_CANCELLED);
  assert_true(v->hdr.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND);
  assert_int_equal(v->hdr.async_id, aid);
  assert_int_equal(v->hdr.credits, 0); /* final of async grants 0 */
  smbx__conn_info ci;
  smbx__conn_get_info(x.s[TH_CLI].c, &ci);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(ci.win_high, si.win_high);
  assert_int_equal(si.async, 0);
  assert_int_equal(smbx__conn_cancel(x.s[TH_CLI].c, creq, x.now),
                   SMBX_ERR_NOTFOUND);
  th_fini(&x);
}

static void b2b_tcp_async_and_cancel(void **state)
{
  (void)state;
  b2b_async_and_cancel(false);
}

static void b2b_smbd_async_and_cancel(void **state)
{
  (void)state;
  b2b_async_and_cancel(true);
}

static void b2b_teardown_in_flight(bool smbd)
{
  th x;
  pair(&x, smbd);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  for (uint64_t i = 0; i < 10; i++)
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x77, 1, 100 + i, NULL), 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 10);
  /* answer two; the rest stay in flight */
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 5)->req, 0),
                   0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 3);
  assert_int_equal(smbx__conn_close(x.s[TH_CLI].c, x.now), 0);
  assert_int_equal(smbx__conn_close(x.s[TH_CLI].c, x.now), SMBX_ERR_CLOSED);
  th_run(&x);
  /* every client request completed exactly once */
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 11);
  uint64_t seen = 0;
  for (size_t k = 0; k < 11; k++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, k);
    if (v->user >= 100) {
      assert_false(seen & (1ull << (v->user - 100)));
      seen |= 1ull << (v->user - 100);
    }
    if (k >= 3)
      assert_int_equal(v->err, SMBX_ERR_CLOSED);
  }
  assert_int_equal(seen, 0x3FF);
  assert_int_equal(x.s[TH_CLI].downs, 1);
  assert_int_equal(x.s[TH_CLI].down_err, 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL),
                   SMBX_ERR_CLOSED);
  /* server side: close aborts the 8 unanswered, each once */
  if (!smbd)
    assert_int_equal(smbx__conn_close(x.s[TH_SRV].c, x.now), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_ABORT), 8);
  assert_int_equal(x.s[TH_SRV].downs, 1);
  smbx__conn_info si;
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(si.outstanding, 0);
  th_fini(&x);
}

static void b2b_tcp_teardown_with_requests_in_flight(void **state)
{
  (void)state;
  b2b_teardown_in_flight(false);
}

static void b2b_smbd_teardown_with_requests_in_flight(void **state)
{
  (void)state;
  b2b_teardown_in_flight(true);
}

static void b2b_tcp_request_timeout(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  c.request_timeout_ns = 5 * S_NS;
  assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  assert_int_equal(smbx__conn_expiry(x.s[TH_CLI].c), UINT64_MAX);
  x.now = 1 * S_NS;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 2, NULL), 1);
  x.now = 2 * S_NS;
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  o.timeout_ns = 1 * S_NS; /* earlier deadline, sent later */
  th_side *e = &x.s[TH_CLI];
  size_t n = th_pdu(e->out + SMBX__CONN_HEADROOM, SMBX_SMB2_FLUSH, false, 0,
                    0);
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, &o, 3,
                                   NULL, 0, x.now),
                   1);
  th_run(&x);
  assert_int_equal(smbx__conn_expiry(e->c), 3 * S_NS);
  assert_int_equal(smbx__conn_handle_expiry(e->c, 3 * S_NS), 0);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 2);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1);
  assert_int_equal(v->user, 3);
  assert_int_equal(v->err, SMBX_ERR_TIMEOUT);
  assert_int_equal(smbx__conn_expiry(e->c), 6 * S_NS);
  assert_int_equal(smbx__conn_handle_expiry(e->c, 6 * S_NS), 0);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 3);
  assert_int_equal(th_find(&x, TH_CLI, TE_COMPLETE, 2)->user, 2);
  /* late responses are dropped silently, credits still counted */
  x.now = 7 * S_NS;
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 0)->req, 0),
                   0);
  assert_int_equal(th_respond(&x, th_find(&x, TH_SRV, TE_REQUEST, 1)->req, 0),
                   0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 3);
  assert_int_equal(e->downs, 0);
  smbx__conn_info ci, si;
  smbx__conn_get_info(e->c, &ci);
  smbx__conn_get_info(x.s[TH_SRV].c, &si);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.win_high, si.win_high);
  th_fini(&x);
}

static void b2b_tcp_timeout_fatal(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  c.request_timeout_ns = 5 * S_NS;
  c.flags |= SMBX__CONN_F_TIMEOUT_FATAL;
  assert_int_equal(th_init_tcp(&x, &c, &s, NULL), 0);
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 1, NULL), 1);
  th_run(&x);
  assert_int_equal(smbx__conn_handle_expiry(x.s[TH_CLI].c, 5 * S_NS),
                   SMBX_ERR_TIMEOUT);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 1);
  assert_int_equal(th_find(&x, TH_CLI, TE_COMPLETE, 0)->err, SMBX_ERR_TIMEOUT);
  assert_down(&x, TH_CLI, SMBX_ERR_TIMEOUT);
  th_fini(&x);
}

static void b2b_tcp_pipelined_and_split_stream(void **state)
{
  (void)state;
  th x;
  pair_tcp(&x);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  for (int i = 0; i < 50; i++)
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, (uint64_t)i, NULL), 1);
  /* feed the server byte by byte: split messages are copied by the
   * framer, held, and the feed stops until released */
  th_side *e = &x.s[TH_SRV];
  while (e->in_off < e->in_len) {
    size_t used = 0;
    int rc = smbx__conn_tcp_feed(e->c, e->in + e->in_off, 1, &used, x.now);
    assert_true(rc == 0 || rc == SMBX_ERR_AGAIN);
    e->in_off += used;
  }
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 50);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 51);
  th_fini(&x);
}

static void b2b_tcp_framer_hold_blocks_feed(void **state)
{
  (void)state;
  th x;
  pair_tcp(&x);
  th_side *e = &x.s[TH_SRV];
  e->auto_release = false;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 1, NULL), 1);
  x.s[TH_CLI].c->high = 5; /* (test) credits without a response */
  x.s[TH_SRV].c->high = 5;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 2, NULL), 1);
  size_t used = 0;
  /* first message split: 10 bytes, then the rest */
  assert_int_equal(smbx__conn_tcp_feed(e->c, e->in, 10, &used, 0), 0);
  assert_int_equal(used, 10);
  size_t total = e->in_len;
  int rc = smbx__conn_tcp_feed(e->c, e->in + 10, total - 10, &used, 0);
  assert_int_equal(rc, SMBX_ERR_AGAIN); /* held framer copy */
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 1);
  th_ev *r = th_find(&x, TH_SRV, TE_REQUEST, 0);
  assert_true(r->ptr < e->in || r->ptr >= e->in + TH_IN_CAP); /* a copy */
  size_t off = 10 + used;
  assert_int_equal(smbx__conn_tcp_feed(e->c, e->in + off, total - off, &used,
                                       0),
                   SMBX_ERR_AGAIN);
  assert_int_equal(used, 0);
  assert_int_equal(smbx__conn_release(e->c, r->hold, 0), 0);
  assert_int_equal(smbx__conn_release(e->c, r->hold, 0), SMBX_ERR_NOTFOUND);
  r->released = true;
  assert_int_equal(smbx__conn_tcp_feed(e->c, e->in + off, total - off, &used,
                                       0),
                   0);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2);
  r = th_find(&x, TH_SRV, TE_REQUEST, 1);
  assert_ptr_equal(r->ptr, e->in + off + 4); /* in place, zero copy */
  th_release_all(&x, TH_SRV);
  e->in_off = e->in_len;
  th_fini(&x);
}

static void b2b_tcp_send_upcall_failure_is_fatal(void **state)
{
  (void)state;
  th x;
  pair_tcp(&x);
  x.s[TH_CLI].send_fail = 1;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL),
                   SMBX_ERR_TRANSPORT);
  assert_down(&x, TH_CLI, SMBX_ERR_TRANSPORT);
  th_fini(&x);
}

static void b2b_tcp_abort_reports_reason(void **state)
{
  (void)state;
  th x;
  pair_tcp(&x);
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0, 0, 1, NULL), 1);
  assert_int_equal(smbx__conn_abort(x.s[TH_CLI].c, SMBX_ERR_TRANSPORT,
                                    "socket reset", 0),
                   SMBX_ERR_TRANSPORT);
  smbx_error_detail d;
  assert_int_equal(smbx__conn_error_detail(x.s[TH_CLI].c, &d),
                   SMBX_ERR_TRANSPORT);
  assert_string_equal(d.reason, "socket reset");
  assert_int_equal(th_find(&x, TH_CLI, TE_COMPLETE, 0)->err,
                   SMBX_ERR_TRANSPORT);
  th_fini(&x);
}

/* ---- allocation ---------------------------------------------------------------- */

static int stub_send(void *ctx, const uint8_t *p, size_t len)
{
  (void)ctx;
  (void)p;
  (void)len;
  return -1;
}

static void stub_request(void *ctx, const smbx__conn_pdu *p)
{
  (void)ctx;
  (void)p;
}

static void stub_complete(void *ctx, uint64_t req, uint64_t user, int err,
                          const smbx__conn_pdu *p)
{
  (void)ctx;
  (void)req;
  (void)user;
  (void)err;
  (void)p;
}

static int alloc_scenario(test_alloc *ta, void *arg)
{
  int kind = *(int *)arg;
  smbx__conn_settings s =
      th_settings(kind == 1 ? SMBX__CONN_SERVER : SMBX__CONN_CLIENT);
  s.tcp_reserve = 4096;
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  u.send = stub_send;
  u.request = stub_request;
  u.complete = stub_complete;
  smbx__conn *c = NULL;
  int rc;
  if (kind < 2) {
    rc = smbx__conn_new_tcp(&c, &s, &u, NULL, &ta->a, 0);
  } else {
    sim *w = sim_new(0);
    smbx_transport t = sim_transport(w, 0);
    smbx_smbd_settings ss;
    smbx_smbd_settings_default(&ss, sizeof ss);
    static uint8_t mem[4][8192];
    smbx_smbd_recv_buf bufs[4];
    for (int i = 0; i < 4; i++) {
      bufs[i].addr = mem[i];
      bufs[i].length = 8192;
      bufs[i].reserved = 0;
      bufs[i].handle = (uint64_t)i + 1;
    }
    smbx_smbd *d = NULL;
    rc = smbx_smbd_new(&d, &ss, &t, bufs, 4, &ta->a, 0);
    if (rc == 0) {
      rc = smbx__conn_new_smbd(&c, &s, &u, NULL, d, &ta->a, 0);
      if (rc)
        smbx_smbd_free(d);
    }
    if (rc == 0)
      assert_non_null(c);
    smbx__conn_free(c); /* frees the engine: before the NIC */
    sim_free(w);
    return rc;
  }
  if (rc == 0)
    assert_non_null(c);
  smbx__conn_free(c);
  return rc;
}

static void conn_test_alloc_each_failure(void **state)
{
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    uint64_t n = test_alloc_each_failure(alloc_scenario, &kind);
    assert_true(n >= 5);
  }
}

static void conn_steady_state_allocates_nothing(void **state)
{
  (void)state;
  th x;
  pair_tcp(&x);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  x.s[TH_SRV].auto_respond = true;
  /* warm up: credits, the framer's buffer (a split READ response) */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  uint64_t before = x.ta.total;
  for (int i = 0; i < 2000; i++) {
    assert_int_equal(th_send_read(&x, 4096, (uint64_t)i, NULL), 1);
    if (i % 7 == 0)
      assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
    th_run(&x);
  }
  assert_int_equal(x.ta.total, before);
  assert_true(th_count(&x, TH_CLI, TE_COMPLETE) > 2000);
  th_fini(&x);
}

static void b2b_smbd_send_before_negotiation_is_not_fatal(void **state)
{
  (void)state;
  sim *w = sim_new(0);
  smbx_transport t = sim_transport(w, 0);
  smbx_smbd_settings ss;
  smbx_smbd_settings_default(&ss, sizeof ss);
  static uint8_t mem[4][8192];
  smbx_smbd_recv_buf bufs[4];
  for (int i = 0; i < 4; i++) {
    bufs[i].addr = mem[i];
    bufs[i].length = 8192;
    bufs[i].reserved = 0;
    bufs[i].handle = (uint64_t)i + 1;
  }
  smbx_smbd *d = NULL;
  assert_int_equal(smbx_smbd_new(&d, &ss, &t, bufs, 4, NULL, 0), 0);
  smbx__conn_settings s = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  u.complete = stub_complete;
  smbx__conn *c = NULL;
  assert_int_equal(smbx__conn_new_smbd(&c, &s, &u, NULL, d, NULL, 0), 0);
  assert_ptr_equal(smbx__conn_smbd(c), d);
  static uint8_t buf[SMBX__CONN_HEADROOM + 256];
  size_t n = th_pdu(buf + SMBX__CONN_HEADROOM, SMBX_SMB2_ECHO, false, 0, 0);
  assert_int_equal(smbx__conn_send(c, buf, sizeof buf, n, NULL, 1, NULL, 0, 0),
                   SMBX_ERR_STATE);
  smbx__conn_info inf;
  smbx__conn_get_info(c, &inf);
  assert_int_equal(inf.err, 0);
  assert_int_equal(inf.outstanding, 0);
  assert_int_equal(inf.win_low, 0); /* nothing spent */
  smbx__conn_free(c);
  sim_free(w);
}

static void conn_settings_rejected(void **state)
{
  (void)state;
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  smbx__conn_upcalls u;
  memset(&u, 0, sizeof u);
  smbx__conn *c = NULL;
  assert_int_equal(smbx__conn_new_tcp(&c, &s, &u, NULL, NULL, 0),
                   SMBX_ERR_INVAL); /* no send */
  u.send = stub_send;
  assert_int_equal(smbx__conn_new_tcp(&c, &s, &u, NULL, NULL, 0),
                   SMBX_ERR_INVAL); /* server without request */
  u.request = stub_request;
  s.credits_min = s.credits_max + 1;
  assert_int_equal(smbx__conn_new_tcp(&c, &s, &u, NULL, NULL, 0),
                   SMBX_ERR_INVAL);
  s = th_settings(SMBX__CONN_SERVER);
  s.role = 7;
  assert_int_equal(smbx__conn_new_tcp(&c, &s, &u, NULL, NULL, 0),
                   SMBX_ERR_INVAL);
  assert_null(c);
  s = th_settings(SMBX__CONN_SERVER);
  assert_int_equal(smbx__conn_new_tcp(&c, &s, &u, NULL, NULL, 0), 0);
  assert_int_equal(smbx__conn_set_dialect(c, 0x0200, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx__conn_respond(c, 12345, NULL, 0, 0, NULL, 0),
                   SMBX_ERR_NOTFOUND);
  assert_int_equal(smbx__conn_release(c, 0, 0), 0);
  assert_int_equal(smbx__conn_release(c, 99, 0), SMBX_ERR_NOTFOUND);
  uint8_t h[64];
  assert_int_equal(smbx__conn_preauth(c, h), SMBX_ERR_UNSUPPORTED);
  smbx__conn_free(c);
  smbx__conn_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smb2_case_24_out_of_order_ids_accepted),
      cmocka_unit_test(smb2_3_2_5_1_message_id_slot_collision),
      cmocka_unit_test(smb2_3_2_5_1_hashed_request_outlives_slot_owner),
      cmocka_unit_test(smb2_3_2_5_1_many_slot_collisions_grow_the_hash),
      cmocka_unit_test(smb2_case_24_duplicate_id_disconnects),
      cmocka_unit_test(smb2_case_24_id_equal_to_top_disconnects),
      cmocka_unit_test(smb2_case_24_first_request_must_be_id_0),
      cmocka_unit_test(smb2_case_24_cancel_reuses_an_id),
      cmocka_unit_test(smb2_case_36_credit_charge_ffff_disconnects),
      cmocka_unit_test(smb2_case_36_message_id_wrap_rejected),
      cmocka_unit_test(smb2_case_36_message_id_all_ones_request_disconnects),
      cmocka_unit_test(smb2_case_36_charge_below_payload_invalid_parameter),
      cmocka_unit_test(smb2_6_1_no_large_mtu_payload_above_64k_invalid),
      cmocka_unit_test(smb2_case_29a_related_on_first_fails_the_chain),
      cmocka_unit_test(smb2_case_29a_mixed_styles_invalid_parameter),
      cmocka_unit_test(smb2_case_29a_mixed_styles_member_by_member),
      cmocka_unit_test(smb2_6_2_failed_fileid_carrier_fails_followers),
      cmocka_unit_test(smb2_case_29a_related_members_inherit_ids),
      cmocka_unit_test(smb2_case_29a_failed_create_fails_followers),
      cmocka_unit_test(smb2_6_2_related_without_fileid_invalid_handle),
      cmocka_unit_test(smb2_6_2_unrelated_chain_delivered_at_once),
      cmocka_unit_test(smb2_6_2_related_responses_compounded),
      cmocka_unit_test(smb2_6_2_compound_buffer_made_by_first_compound),
      cmocka_unit_test(
          smb2_6_2_unrelated_responses_compounded_in_answer_order),
      cmocka_unit_test(smb2_6_2_compound_flushed_before_an_interim),
      cmocka_unit_test(b2b_tcp_compounded_responses),
      cmocka_unit_test(b2b_smbd_compounded_responses),
      cmocka_unit_test(b2b_smbd_compound_flush_waits_for_send_space),
      cmocka_unit_test(smbd_4_compound_member_invalidates),
      cmocka_unit_test(smb2_3_3_5_2_6_unknown_command_disconnects_silently),
      cmocka_unit_test(smb2_3_3_5_2_6_message_below_64_bytes_disconnects),
      cmocka_unit_test(smb2_hostile_truncated_compound_disconnects),
      cmocka_unit_test(smb2_hostile_garbage_after_a_valid_pdu),
      cmocka_unit_test(smb2_hostile_bad_tcp_prefix_disconnects),
      cmocka_unit_test(smb2_hostile_requests_without_credits_disconnect),
      cmocka_unit_test(smb2_hostile_flood_is_capped_by_credits),
      cmocka_unit_test(smb2_6_1_server_grants_what_is_asked_within_limits),
      cmocka_unit_test(smb2_3_3_5_2_6_signed_negotiate_invalid_parameter),
      cmocka_unit_test(
          smb2_3_3_4_1_1_keyless_error_to_signed_request_keeps_signed),
      cmocka_unit_test(smb2_3_3_5_2_6_wrong_structure_size_invalid_parameter),
      cmocka_unit_test(smb2_1_smb1_negotiate_answered_as_id_0),
      cmocka_unit_test(smb2_case_37_grant_overflowing_65535_disconnects),
      cmocka_unit_test(smb2_case_37_unknown_message_id_disconnects),
      cmocka_unit_test(smb2_case_37_wrong_command_disconnects),
      cmocka_unit_test(smb2_case_37_missing_server_to_redir_disconnects),
      cmocka_unit_test(smb2_case_37_second_pending_disconnects),
      cmocka_unit_test(smb2_case_37_unsolicited_oplock_break_reported),
      cmocka_unit_test(smb2_6_3_final_with_other_async_id_disconnects),
      cmocka_unit_test(smb2_6_2_client_takes_a_compounded_response),
      cmocka_unit_test(smb2_6_1_client_never_exceeds_credits),
      cmocka_unit_test(smb2_6_1_client_multi_credit_charge),
      cmocka_unit_test(b2b_tcp_echo_and_credits),
      cmocka_unit_test(b2b_smbd_echo_and_credits),
      cmocka_unit_test(
          b2b_smbd_plain_read_hold_is_the_owners_send_done_unreported),
      cmocka_unit_test(b2b_tcp_multi_credit_read),
      cmocka_unit_test(b2b_smbd_multi_credit_read),
      cmocka_unit_test(b2b_tcp_related_compound),
      cmocka_unit_test(b2b_smbd_related_compound),
      cmocka_unit_test(b2b_tcp_async_and_cancel),
      cmocka_unit_test(b2b_smbd_async_and_cancel),
      cmocka_unit_test(b2b_tcp_teardown_with_requests_in_flight),
      cmocka_unit_test(b2b_smbd_teardown_with_requests_in_flight),
      cmocka_unit_test(b2b_tcp_request_timeout),
      cmocka_unit_test(b2b_tcp_timeout_fatal),
      cmocka_unit_test(b2b_tcp_pipelined_and_split_stream),
      cmocka_unit_test(b2b_tcp_framer_hold_blocks_feed),
      cmocka_unit_test(b2b_tcp_send_upcall_failure_is_fatal),
      cmocka_unit_test(b2b_tcp_abort_reports_reason),
      cmocka_unit_test(conn_test_alloc_each_failure),
      cmocka_unit_test(conn_steady_state_allocates_nothing),
      cmocka_unit_test(b2b_smbd_send_before_negotiation_is_not_fatal),
      cmocka_unit_test(conn_settings_rejected),
  };
  return RUN_TESTS(tests);
}
