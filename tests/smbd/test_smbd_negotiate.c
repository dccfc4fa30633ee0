/* SPDX-License-Identifier: MIT */
/* SMB Direct negotiate, both roles: spec/smbd.md sec. 6 cases 1-22, 58
 * ([MS-SMBD] 3.1.5.2 - 3.1.5.7). The engine under test talks to a raw
 * peer on the simulated NIC; the peer's bytes are built here. */
#include "test_main.h"

#include <stdlib.h>

#include "harness.h"

#define ACT 0
#define PAS 1

/* ---- passive engine (side 1), raw active peer (side 0) ---------------- */

static void passive_up(h *x, size_t nbuf)
{
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(x, NULL, &s, 0, nbuf, 1000), 0);
  h_establish(x);
}

static void send_req(h *x, uint16_t mn, uint16_t mx, uint16_t cr, uint32_t pss,
                     uint32_t mrs, uint32_t mfs, size_t len)
{
  uint8_t b[512] = {0};
  smbx_smbd_negotiate_req q = {mn, mx, 0, cr, pss, mrs, mfs};
  smbx_smbd_encode_negotiate_req(&q, b, sizeof b);
  assert_int_equal(h_raw(x, ACT, b, len), 0);
  h_run(x, 0);
}

static smbx_smbd_negotiate_resp reply_of(h *x)
{
  assert_int_equal(sim_sent_count(x->w, PAS), 1);
  const sim_msg *m = sim_sent(x->w, PAS, 0);
  assert_int_equal(m->len, 32);
  smbx_smbd_negotiate_resp r;
  assert_int_equal(smbx_smbd_decode_negotiate_resp(m->bytes, m->len, &r, NULL), 0);
  return r;
}

static void expect_success(h *x, uint16_t cr)
{
  smbx_smbd_negotiate_resp r = reply_of(x);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.negotiated_version, 0x100);
  assert_int_equal(r.min_version, 0x100);
  assert_int_equal(r.max_version, 0x100);
  assert_true(r.credits_granted >= 1 && r.credits_granted <= cr);
  assert_int_equal(r.credits_requested, 255);
  assert_int_equal(h_count(x, PAS, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_int_equal(h_count(x, PAS, SMBX_SMBD_EV_DISCONNECTED), 0);
  smbx_smbd_params p = h_params(x, PAS);
  assert_int_equal(p.state, SMBX_SMBD_STATE_CONNECTED);
  assert_int_equal(p.recv_credits, r.credits_granted);
  assert_true(p.recv_posted >= p.recv_credits);
}

static void expect_terminated_no_reply(h *x, int err)
{
  assert_int_equal(sim_sent_count(x->w, PAS), 0);
  const h_ev *e = h_find(x, PAS, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, err);
  assert_int_equal(h_count(x, PAS, SMBX_SMBD_EV_NEGOTIATED), 0);
  assert_true(x->s[PAS].closed);
  assert_int_equal(x->s[PAS].n_returned, x->s[PAS].nbuf);
}

static void smbd_case_1_valid_request_gets_32_byte_success(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 32);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 1048576, 20);
  expect_success(&x, 10);
  smbx_smbd_negotiate_resp r = reply_of(&x);
  assert_int_equal(r.credits_granted, 10); /* the target, all posted */
  assert_int_equal(r.max_receive_size, 1364); /* min(8192, PreferredSendSize) */
  assert_int_equal(r.preferred_send_size, 1364);
  assert_int_equal(r.max_fragmented_size, 1048576);
  assert_int_equal(r.max_read_write_size, 1048576);
  smbx_smbd_params p = h_params(&x, PAS);
  assert_int_equal(p.send_credits, 0); /* the request grants nothing */
  h_fini(&x);
}

static void smbd_case_2_19_byte_request_terminates_without_reply(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 1048576, 19);
  expect_terminated_no_reply(&x, SMBX_ERR_NEGOTIATE);
  smbx_error_detail det;
  assert_int_equal(smbx_smbd_error_detail(x.s[PAS].d, &det), SMBX_ERR_NEGOTIATE);
  assert_int_equal(det.offset, 19);
  h_fini(&x);
}

static void smbd_case_3_512_byte_request_succeeds(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 1048576, 512);
  expect_success(&x, 10);
  h_fini(&x);
}

static void not_supported(uint16_t mn, uint16_t mx)
{
  h x;
  passive_up(&x, 8);
  x.s[PAS].auto_disconnect = false;
  send_req(&x, mn, mx, 10, 1364, 8192, 1048576, 20);
  smbx_smbd_negotiate_resp r = reply_of(&x);
  smbx_smbd_negotiate_resp want = {0x100, 0x100, 0, 0, 0, 0, 0xC00000BB, 0, 0, 0, 0};
  assert_memory_equal(&r, &want, sizeof r);
  const h_ev *e = h_find(&x, PAS, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e); /* after the failure response completed */
  assert_int_equal(e->error, SMBX_ERR_NEGOTIATE);
  assert_int_equal(e->ntstatus, 0xC00000BB);
  /* later data is ignored: nothing delivered, nothing sent */
  uint8_t b[64];
  size_t n = h_data_msg(b, 10, 10, 0, 0, 24, 8, 0x55);
  h_raw(&x, ACT, b, n);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 0);
  assert_int_equal(sim_sent_count(x.w, PAS), 1);
  uint64_t id;
  smbx_sge sg = {b, 8, 0, 0};
  assert_int_equal(smbx_smbd_send(x.s[PAS].d, &sg, 1, 0, 0, &id, x.w->now),
                   SMBX_ERR_NEGOTIATE);
  sim_disconnect(x.w);
  h_run(&x, 0);
  assert_true(x.s[PAS].closed);
  h_fini(&x);
}

static void smbd_case_4_unsupported_versions_get_not_supported(void **state)
{
  (void)state;
  not_supported(0, 0);
  not_supported(0xFFFF, 0xFFFF);
  not_supported(0x200, 0x100);
}

static void smbd_case_5_version_range_0_to_ffff_succeeds(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0, 0xFFFF, 10, 1364, 8192, 1048576, 20);
  expect_success(&x, 10);
  h_fini(&x);
}

static void smbd_case_6_credits_requested_0_terminates_65535_clamped(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 0, 1364, 8192, 1048576, 20);
  expect_terminated_no_reply(&x, SMBX_ERR_NEGOTIATE);
  h_fini(&x);
  passive_up(&x, 300);
  send_req(&x, 0x100, 0x100, 65535, 1364, 8192, 1048576, 20);
  expect_success(&x, 65535);
  assert_int_equal(h_params(&x, PAS).recv_credit_target, 255);
  assert_int_equal(reply_of(&x).credits_granted, 255);
  h_fini(&x);
}

static void smbd_case_7_max_receive_size_127_terminates_128_and_max_ok(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 127, 1048576, 20);
  expect_terminated_no_reply(&x, SMBX_ERR_NEGOTIATE);
  h_fini(&x);
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 128, 1048576, 20);
  expect_success(&x, 10);
  assert_int_equal(h_params(&x, PAS).max_send_size, 128);
  assert_int_equal(reply_of(&x).preferred_send_size, 128);
  h_fini(&x);
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 0xFFFFFFFFu, 1048576, 20);
  expect_success(&x, 10);
  assert_int_equal(h_params(&x, PAS).max_send_size, 1364);
  h_fini(&x);
}

static void smbd_case_8_max_fragmented_131071_terminates_131072_ok(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 131071, 20);
  expect_terminated_no_reply(&x, SMBX_ERR_NEGOTIATE);
  h_fini(&x);
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 131072, 20);
  expect_success(&x, 10);
  assert_int_equal(h_params(&x, PAS).max_fragmented_send_size, 131072);
  h_fini(&x);
}

static void smbd_case_9_preferred_send_size_0_or_127_gives_128(void **state)
{
  (void)state;
  for (uint32_t pss = 0; pss <= 127; pss += 127) {
    h x;
    passive_up(&x, 8);
    send_req(&x, 0x100, 0x100, 10, pss, 8192, 1048576, 20);
    expect_success(&x, 10);
    assert_int_equal(reply_of(&x).max_receive_size, 128);
    assert_int_equal(h_params(&x, PAS).max_recv_size, 128);
    h_fini(&x);
  }
}

static void smbd_case_10_reply_preferred_send_within_request_max_receive(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  send_req(&x, 0x100, 0x100, 10, 1364, 1000, 1048576, 20);
  expect_success(&x, 10);
  assert_int_equal(reply_of(&x).preferred_send_size, 1000);
  h_fini(&x);
}

static void smbd_case_11_no_request_in_5s_terminates_4s_ok(void **state)
{
  (void)state;
  h x;
  passive_up(&x, 8);
  h_run(&x, 4 * H_S);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_DISCONNECTED), 0);
  assert_int_equal(smbx_smbd_expiry(x.s[PAS].d), 5 * H_S);
  h_run(&x, 5 * H_S);
  const h_ev *e = h_find(&x, PAS, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, SMBX_ERR_TIMEOUT);
  assert_int_equal(e->at, 5 * H_S);
  assert_true(x.s[PAS].closed);
  h_fini(&x);
}

static void smbd_case_12_request_before_established_is_processed(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, NULL, &s, 0, 8, 1000), 0);
  send_req(&x, 0x100, 0x100, 10, 1364, 8192, 1048576, 20);
  assert_int_equal(sim_sent_count(x.w, PAS), 0); /* buffered */
  h_establish(&x);
  h_run(&x, 0);
  expect_success(&x, 10);
  h_fini(&x);
}

/* ---- active engine (side 0), raw passive peer (side 1) ---------------- */

static void active_up(h *x, size_t nbuf)
{
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  assert_int_equal(h_init(x, &s, NULL, nbuf, 0, 1000), 0);
  h_establish(x);
  h_run(x, 0);
  assert_int_equal(sim_sent_count(x->w, ACT), 1);
  const sim_msg *m = sim_sent(x->w, ACT, 0);
  assert_int_equal(m->len, 20);
  smbx_smbd_negotiate_req q;
  assert_int_equal(smbx_smbd_decode_negotiate_req(m->bytes, 20, &q, NULL), 0);
  assert_int_equal(q.min_version, 0x100);
  assert_int_equal(q.max_version, 0x100);
  assert_int_equal(q.credits_requested, 255);
  assert_int_equal(q.preferred_send_size, 1364);
  assert_int_equal(q.max_receive_size, 8192);
  assert_int_equal(q.max_fragmented_size, 1048576);
}

static void send_resp(h *x, const smbx_smbd_negotiate_resp *r, size_t len)
{
  uint8_t b[32];
  smbx_smbd_encode_negotiate_resp(r, b, 32);
  h_raw(x, PAS, b, len);
  h_run(x, 0);
}

static void active_fails(const smbx_smbd_negotiate_resp *r, size_t len,
                         uint32_t ntstatus)
{
  h x;
  active_up(&x, 8);
  send_resp(&x, r, len);
  const h_ev *e = h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, SMBX_ERR_NEGOTIATE);
  assert_int_equal(e->ntstatus, ntstatus);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_NEGOTIATED), 0);
  assert_int_equal(sim_sent_count(x.w, ACT), 1); /* only the request */
  assert_true(x.s[ACT].closed);
  assert_int_equal(x.s[ACT].n_returned, 8);
  assert_int_equal(smbx_smbd_error_detail(x.s[ACT].d, NULL), SMBX_ERR_NEGOTIATE);
  h_fini(&x);
}

static void smbd_case_13_active_rejects_31_byte_reply(void **state)
{
  (void)state;
  active_fails(&h_good_resp, 31, 0);
}

static void smbd_case_14_active_rejects_negotiated_version(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.negotiated_version = 0x101;
  active_fails(&r, 32, 0);
}

static void smbd_case_15_active_surfaces_failure_status(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = {0x100, 0x100, 0, 0, 0, 0, 0xC00000BB, 0, 0, 0, 0};
  active_fails(&r, 32, 0xC00000BB);
}

static void smbd_case_16_active_rejects_credits_granted_zero(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 0;
  active_fails(&r, 32, 0);
}

static void smbd_case_17_active_rejects_credits_requested_zero(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_requested = 0;
  active_fails(&r, 32, 0);
}

static void smbd_case_18_active_rejects_max_receive_127(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.max_receive_size = 127;
  active_fails(&r, 32, 0);
}

static void smbd_case_19_active_rejects_max_fragmented_131071(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.max_fragmented_size = 131071;
  active_fails(&r, 32, 0);
}

static void smbd_case_20_active_rejects_preferred_send_above_own_receive(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.preferred_send_size = 8193;
  active_fails(&r, 32, 0);
  r.preferred_send_size = 8192; /* equal is fine */
  h x;
  active_up(&x, 8);
  send_resp(&x, &r, 32);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_NEGOTIATED), 1);
  h_fini(&x);
}

static void smbd_case_21_active_rejects_max_read_write_below_4096(void **state)
{
  (void)state;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.max_read_write_size = 4095;
  active_fails(&r, 32, 0);
}

static void smbd_case_22_active_no_reply_in_120s_terminates(void **state)
{
  (void)state;
  h x;
  active_up(&x, 8);
  h_run(&x, 119 * H_S);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_DISCONNECTED), 0);
  h_run(&x, 120 * H_S);
  const h_ev *e = h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, SMBX_ERR_TIMEOUT);
  assert_true(x.s[ACT].closed);
  h_fini(&x);
}

static void smbd_case_58_active_grants_credits_at_once(void **state)
{
  (void)state;
  h x;
  active_up(&x, 16);
  send_resp(&x, &h_good_resp, 32);
  const h_ev *e = h_find(&x, ACT, SMBX_SMBD_EV_NEGOTIATED, 0);
  assert_non_null(e);
  /* a credit-only message right after the response */
  assert_int_equal(sim_sent_count(x.w, ACT), 2);
  const sim_msg *m = sim_sent(x.w, ACT, 1);
  assert_int_equal(m->len, 20);
  smbx_smbd_data d;
  assert_int_equal(smbx_smbd_decode_data(m->bytes, m->len, 0, 0, &d, NULL), 0);
  /* min(peer target 255, 16 buffers less the reserve) */
  assert_int_equal(d.credits_granted, 15);
  assert_int_equal(d.credits_requested, 255);
  assert_int_equal(d.data_length, 0);
  assert_int_equal(d.flags, 0);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.send_credits, 9);
  assert_int_equal(p.recv_credits, 15);
  assert_int_equal(p.recv_posted, 15);
  assert_int_equal(p.max_send_size, 1364);
  assert_int_equal(p.max_recv_size, 1364);
  h_fini(&x);

  /* back to back: the passive engine starts with 0 send credits and waits
   * (like ksmbd); the active side's grant lets it answer the first request */
  smbx_smbd_settings sa = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  smbx_smbd_settings sp = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, &sa, &sp, 32, 32, 1000), 0);
  h_establish(&x);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_true(h_params(&x, PAS).send_credits > 0);
  assert_int_equal(h_send(&x, ACT, 100, 1), 0);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 1);
  assert_int_equal(h_send(&x, PAS, 200, 2), 0);
  h_run(&x, 0);
  const h_ev *r = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_non_null(r);
  assert_int_equal(r->len, 200);
  h_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smbd_case_1_valid_request_gets_32_byte_success),
      cmocka_unit_test(smbd_case_2_19_byte_request_terminates_without_reply),
      cmocka_unit_test(smbd_case_3_512_byte_request_succeeds),
      cmocka_unit_test(smbd_case_4_unsupported_versions_get_not_supported),
      cmocka_unit_test(smbd_case_5_version_range_0_to_ffff_succeeds),
      cmocka_unit_test(smbd_case_6_credits_requested_0_terminates_65535_clamped),
      cmocka_unit_test(smbd_case_7_max_receive_size_127_terminates_128_and_max_ok),
      cmocka_unit_test(smbd_case_8_max_fragmented_131071_terminates_131072_ok),
      cmocka_unit_test(smbd_case_9_preferred_send_size_0_or_127_gives_128),
      cmocka_unit_test(smbd_case_10_reply_preferred_send_within_request_max_receive),
      cmocka_unit_test(smbd_case_11_no_request_in_5s_terminates_4s_ok),
      cmocka_unit_test(smbd_case_12_request_before_established_is_processed),
      cmocka_unit_test(smbd_case_13_active_rejects_31_byte_reply),
      cmocka_unit_test(smbd_case_14_active_rejects_negotiated_version),
      cmocka_unit_test(smbd_case_15_active_surfaces_failure_status),
      cmocka_unit_test(smbd_case_16_active_rejects_credits_granted_zero),
      cmocka_unit_test(smbd_case_17_active_rejects_credits_requested_zero),
      cmocka_unit_test(smbd_case_18_active_rejects_max_receive_127),
      cmocka_unit_test(smbd_case_19_active_rejects_max_fragmented_131071),
      cmocka_unit_test(smbd_case_20_active_rejects_preferred_send_above_own_receive),
      cmocka_unit_test(smbd_case_21_active_rejects_max_read_write_below_4096),
      cmocka_unit_test(smbd_case_22_active_no_reply_in_120s_terminates),
      cmocka_unit_test(smbd_case_58_active_grants_credits_at_once),
  };
  return RUN_TESTS(tests);
}
