/* SPDX-License-Identifier: MIT */
/* SMB Direct data path: spec/smbd.md sec. 6 cases 23-50 (receive
 * validation [MS-SMBD] 3.1.5.8, credits 3.1.5.9 + errata, keepalive
 * 3.1.6.2, fragmentation 3.1.5.1), back-to-back engines, and regression
 * tests for the Linux bugs of spec sec. 5. */
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#include "core/cursor.h"

#define ACT 0
#define PAS 1

static void up(h *x, size_t nbuf)
{
  h_active_up(x, h_settings(SMBX_SMBD_ROLE_ACTIVE), nbuf, NULL);
}

static void raw_msg(h *x, uint16_t cr, uint16_t cg, uint16_t fl, uint32_t rem,
                    uint32_t off, uint32_t dlen, uint8_t fill, size_t len)
{
  uint8_t b[9000] = {0};
  size_t n = h_data_msg(b, cr, cg, fl, rem, off, dlen, fill);
  h_raw(x, PAS, b, len ? len : n);
  h_run(x, 0);
}

static const h_ev *msg(h *x, int side, size_t k)
{
  return h_find(x, side, SMBX_SMBD_EV_MESSAGE, k);
}

/* ---- receive validation ------------------------------------------------ */

static void smbd_case_23_19_bytes_terminates_20_byte_empty_ok(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 1, 0, 0, 0, 0, 0, 20);
  h_expect_alive(&x, ACT);
  assert_int_equal(h_params(&x, ACT).send_credits, 10); /* 10 - 1 + 1 */
  raw_msg(&x, 10, 1, 0, 0, 0, 0, 0, 19);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  h_fini(&x);
}

static void smbd_case_24_credits_requested_0_terminates(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  raw_msg(&x, 0, 1, 0, 0, 24, 8, 1, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  smbx_error_detail det;
  smbx_smbd_error_detail(x.s[ACT].d, &det);
  assert_string_equal(det.reason, "smbd data: CreditsRequested 0");
  h_fini(&x);
}

static void smbd_case_25_data_offset_23_25_terminate_32_ok(void **state)
{
  (void)state;
  for (uint32_t off = 23; off <= 25; off += 2) {
    h x;
    up(&x, 16);
    uint8_t b[64] = {0};
    h_data_msg(b, 10, 0, 0, 0, 24, 8, 1);
    smbx__put_le32(b + 12, off);
    h_raw(&x, PAS, b, 40);
    h_run(&x, 0);
    h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
    h_fini(&x);
  }
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 0, 32, 12, 0x5A, 0); /* 8 bytes of padding */
  h_expect_alive(&x, ACT);
  const h_ev *m = msg(&x, ACT, 0);
  assert_non_null(m);
  assert_int_equal(m->len, 12);
  assert_int_equal(m->data[0], 0x5A);
  assert_int_equal(m->data[11], 0x5A);
  h_fini(&x);
}

static void smbd_case_26_payload_past_end_and_u32_wrap_terminate(void **state)
{
  (void)state;
  static const uint32_t offlen[3][2] = {
      {24, 9}, {0xFFFFFFF8u, 8}, {24, 0xFFFFFFFFu}};
  for (int k = 0; k < 3; k++) {
    h x;
    up(&x, 16);
    uint8_t b[64] = {0};
    h_data_msg(b, 10, 0, 0, 0, 24, 8, 1);
    smbx__put_le32(b + 12, offlen[k][0]);
    smbx__put_le32(b + 16, offlen[k][1]);
    h_raw(&x, PAS, b, 32); /* Offset + Length = len + 1 for the first */
    h_run(&x, 0);
    h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
    h_fini(&x);
  }
}

static void smbd_case_27_length_plus_remaining_vs_max_fragmented(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 1048576 - 8, 24, 8, 1, 0); /* == max: starts */
  h_expect_alive(&x, ACT);
  h_fini(&x);
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 1048576 - 7, 24, 8, 1, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  h_fini(&x);
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 0xFFFFFFFFu, 24, 1, 1, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  h_fini(&x);
}

static void smbd_case_28_remaining_chain_must_shrink_exactly(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 16, 24, 8, 1, 0);
  raw_msg(&x, 10, 0, 0, 4, 24, 8, 2, 0); /* should be 8 */
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  smbx_error_detail det;
  smbx_smbd_error_detail(x.s[ACT].d, &det);
  assert_string_equal(det.reason, "smbd data: RemainingDataLength chain broken");
  h_fini(&x);
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 16, 24, 8, 1, 0);
  raw_msg(&x, 10, 0, 0, 0, 24, 8, 2, 0); /* premature 0 */
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 0);
  h_fini(&x);
}

static void smbd_case_29_empty_message_mid_sequence_carries_credits_only(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  uint32_t sc0 = h_params(&x, ACT).send_credits;
  raw_msg(&x, 10, 0, 0, 8, 24, 8, 0x11, 0);
  raw_msg(&x, 10, 3, 0, 0, 0, 0, 0, 20);     /* Remaining 0: older Linux */
  raw_msg(&x, 10, 1, 0, 12345, 0, 0, 0, 20); /* any value in range */
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 0);
  assert_int_equal(h_params(&x, ACT).send_credits, sc0 + 4);
  raw_msg(&x, 10, 0, 0, 0, 24, 8, 0x22, 0);
  h_expect_alive(&x, ACT);
  const h_ev *m = msg(&x, ACT, 0);
  assert_non_null(m);
  assert_int_equal(m->len, 16);
  assert_int_equal(m->frags, 2);
  assert_int_equal(m->data[0], 0x11);
  assert_int_equal(m->data[8], 0x22);
  h_fini(&x);
}

static void smbd_case_30_one_byte_fragments_up_to_max_fragmented(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.max_fragmented_recv_size = 131072;
  h_active_up(&x, s, 64, NULL);
  uint32_t total = 131072, sent = 0;
  uint64_t granted = 0;
  size_t seen = 1; /* after the negotiate request */
  uint8_t b[32];
  while (sent < total) {
    for (; seen < sim_sent_count(x.w, ACT); seen++)
      granted += h_sent_data(&x, ACT, seen).credits_granted;
    assert_true(granted > sent);
    while (granted > sent && sent < total) {
      size_t n = h_data_msg(b, 64, 1, 0, total - sent - 1, 24, 1, 0);
      b[24] = (uint8_t)(sent * 31 + 7);
      h_raw(&x, PAS, b, n);
      sent++;
    }
    h_run(&x, 0);
    h_expect_alive(&x, ACT);
  }
  const h_ev *m = msg(&x, ACT, 0);
  assert_non_null(m);
  assert_int_equal(m->len, total);
  assert_int_equal(m->frags, total);
  for (uint32_t k = 0; k < total; k++)
    if (m->data[k] != (uint8_t)(k * 31 + 7))
      fail_msg("byte %u differs", k);
  h_fini(&x);
}

static void smbd_case_31_trailing_bytes_ignored(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 0, 24, 8, 0x33, 24 + 8 + 100);
  h_expect_alive(&x, ACT);
  assert_int_equal(msg(&x, ACT, 0)->len, 8);
  h_fini(&x);
}

static void smbd_case_32_unknown_flags_and_reserved_ignored(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  size_t before = sim_sent_count(x.w, ACT);
  uint8_t b[64] = {0};
  size_t n = h_data_msg(b, 10, 0, 0xFFFE, 0, 24, 8, 1);
  smbx__put_le16(b + 6, 0xFFFF);
  h_raw(&x, PAS, b, n);
  h_run(&x, 0);
  h_expect_alive(&x, ACT);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 1);
  assert_int_equal(sim_sent_count(x.w, ACT), before); /* no reply asked */
  h_fini(&x);
}

static void smbd_case_33_message_above_max_receive_terminates(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  assert_int_equal(h_params(&x, ACT).max_recv_size, 1364);
  raw_msg(&x, 10, 0, 0, 0, 24, 1340, 1, 0); /* exactly 1364 */
  h_expect_alive(&x, ACT);
  raw_msg(&x, 10, 0, 0, 0, 24, 1341, 1, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  h_fini(&x);
}

static void smbd_case_34_offset_inside_header_strict_terminates(void **state)
{
  (void)state;
  for (uint32_t off = 0; off <= 16; off += 8) {
    h x;
    smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
    s.flags = SMBX_SMBD_STRICT;
    h_active_up(&x, s, 16, NULL);
    uint8_t b[64] = {0};
    h_data_msg(b, 10, 0, 0, 0, 24, 8, 1);
    smbx__put_le32(b + 12, off);
    h_raw(&x, PAS, b, 32);
    h_run(&x, 0);
    h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
    h_fini(&x);
    up(&x, 16); /* not strict: allowed */
    h_raw(&x, PAS, b, 32);
    h_run(&x, 0);
    h_expect_alive(&x, ACT);
    assert_int_equal(msg(&x, ACT, 0)->len, 8);
    h_fini(&x);
  }
}

/* ---- credits ----------------------------------------------------------- */

/* The active side up with the peer granting 1 credit, which the engine
 * keeps back: it holds 0 send credits. Returns the count sent so far. */
static size_t up_without_send_credits(h *x)
{
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 1;
  h_active_up(x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  assert_int_equal(h_params(x, ACT).send_credits, 0);
  return sim_sent_count(x->w, ACT);
}

static void smbd_case_35_zero_send_credits_queue_then_flush_in_order(void **state)
{
  (void)state;
  h x;
  size_t before = up_without_send_credits(&x);
  for (int k = 0; k < 3; k++)
    assert_int_equal(h_send(&x, ACT, 100 + (size_t)k, (uint8_t)k), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before);
  assert_int_equal(h_params(&x, ACT).sends_queued, 3);
  raw_msg(&x, 10, 5, 0, 0, 0, 0, 0, 20);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 3);
  for (size_t k = 0; k < 3; k++)
    assert_int_equal(h_sent_data(&x, ACT, before + k).data_length, 100 + k);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 3);
  h_fini(&x);
}

/* A message of one fragment with a credit to spare goes out without the
 * send queue; it must never overtake fragments queued for want of
 * credits, and once they are out the next one goes at once. */
static void smbd_send_single_fragment_never_overtakes_queued_ones(void **state)
{
  (void)state;
  h x;
  size_t before = up_without_send_credits(&x);
  assert_int_equal(h_send(&x, ACT, 3000, 1), 0); /* 1340 + 1340 + 320 */
  assert_int_equal(h_send(&x, ACT, 100, 2), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before);
  assert_int_equal(h_params(&x, ACT).sends_queued, 4);
  raw_msg(&x, 10, 20, 0, 0, 0, 0, 0, 20);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 4);
  static const uint32_t len[4] = {1340, 1340, 320, 100};
  static const uint32_t rem[4] = {1660, 320, 0, 0};
  for (size_t k = 0; k < 4; k++) {
    smbx_smbd_data m = h_sent_data(&x, ACT, before + k);
    assert_int_equal(m.data_length, len[k]);
    assert_int_equal(m.remaining_data_length, rem[k]);
  }
  assert_int_equal(h_send(&x, ACT, 200, 3), 0);
  assert_int_equal(h_params(&x, ACT).sends_queued, 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 5);
  assert_int_equal(h_sent_data(&x, ACT, before + 4).data_length, 200);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 3);
  h_fini(&x);
}

static void smbd_case_36_last_credit_held_when_nothing_grantable(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.reassembly_buffers = 1;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 2;
  r.credits_requested = 3;
  h_active_up(&x, s, 4, &r);
  x.s[ACT].auto_release = false; /* the owner holds every message */
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.send_credits, 1);
  assert_int_equal(p.recv_credits, 3); /* 4 buffers, one kept in reserve */
  static const uint16_t grants[5] = {0, 0, 0, 1, 1};
  for (int k = 0; k < 5; k++)
    raw_msg(&x, 3, grants[k], 0, 0, 24, 8, (uint8_t)k, 0);
  h_expect_alive(&x, ACT);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 5);
  p = h_params(&x, ACT);
  assert_int_equal(p.send_credits, 1);
  assert_int_equal(p.recv_credits, 0);
  assert_int_equal(p.recv_posted, 0); /* all four held by the owner */
  size_t before = sim_sent_count(x.w, ACT);
  assert_int_equal(h_send(&x, ACT, 50, 1), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before); /* held */
  assert_int_equal(h_params(&x, ACT).sends_queued, 1);
  assert_int_equal(smbx_smbd_release(x.s[ACT].d, msg(&x, ACT, 0)->token,
                                     x.w->now),
                   0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.credits_granted, 1);
  assert_int_equal(d.data_length, 50);
  assert_int_equal(h_params(&x, ACT).send_credits, 0);
  for (size_t k = 1; k < 5; k++)
    smbx_smbd_release(x.s[ACT].d, msg(&x, ACT, k)->token, x.w->now);
  h_fini(&x);
}

static void smbd_case_37_peer_overgrant_capped_by_send_queue_depth(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.send_queue_depth = 16;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 65535;
  h_active_up(&x, s, 16, &r);
  for (int k = 0; k < 100; k++)
    assert_int_equal(h_send(&x, ACT, 10, (uint8_t)k), 0);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.sends_in_flight, 16);
  assert_int_equal(p.sends_queued, 84);
  h_run(&x, 0);
  p = h_params(&x, ACT);
  assert_int_equal(p.sends_in_flight, 0);
  assert_int_equal(p.sends_queued, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 100);
  assert_int_equal(x.w->rnr, 0);
  h_fini(&x);
}

static void smbd_case_38_peer_lowers_then_raises_target(void **state)
{
  (void)state;
  h x;
  up(&x, 64);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.recv_credits, 63);
  assert_int_equal(p.recv_posted, 63);
  for (int k = 0; k < 40; k++) /* target lowered to 4 */
    raw_msg(&x, 4, 0, 0, 0, 24, 8, 1, 0);
  p = h_params(&x, ACT);
  assert_int_equal(p.recv_credit_target, 4);
  assert_int_equal(p.recv_credits, 23);
  assert_int_equal(p.recv_posted, 23); /* consumed receives not reposted */
  size_t before = sim_sent_count(x.w, ACT);
  raw_msg(&x, 64, 0, 0, 0, 24, 8, 1, 0); /* raised again */
  p = h_params(&x, ACT);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.data_length, 0);
  assert_int_equal(d.credits_granted, 41);
  assert_int_equal(p.recv_credits, 63);
  assert_int_equal(p.recv_posted, 63);
  h_fini(&x);
}

static void check_grant_invariant(h *x)
{
  for (int i = 0; i < 2; i++) {
    smbx_smbd_params p = h_params(x, i);
    assert_true(p.recv_credits <= p.recv_posted);
  }
}

static void smbd_case_39_grants_never_exceed_posted_receives(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_linux(SMBX_SMBD_ROLE_ACTIVE);
  smbx_smbd_settings sp = h_linux(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, &sa, &sp, 24, 24, 1000), 0);
  x.w->reorder = 1;
  h_establish(&x);
  h_run(&x, 0);
  uint32_t seed = 7;
  for (int k = 0; k < 300; k++) {
    seed = seed * 1103515245u + 12345u;
    size_t len = 1 + (seed >> 8) % 6000;
    int side = (seed >> 20) & 1;
    int rc = h_send(&x, side, len, (uint8_t)k);
    assert_true(rc == 0 || rc == SMBX_ERR_AGAIN);
    check_grant_invariant(&x);
    for (int j = 0; j < (int)((seed >> 24) & 3); j++) {
      h_step(&x);
      check_grant_invariant(&x);
      x.w->now += 500;
    }
  }
  h_run(&x, 0);
  check_grant_invariant(&x);
  assert_int_equal(x.w->rnr, 0);
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_DISCONNECTED), 0);
  assert_int_equal(h_count(&x, 1, SMBX_SMBD_EV_DISCONNECTED), 0);
  h_fini(&x);
}

static void smbd_case_40_peer_spends_all_credits_we_grant_empty(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, NULL, &s, 0, 32, 1000), 0);
  h_establish(&x);
  smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 10, 1364, 8192, 1048576};
  uint8_t b[64];
  smbx_smbd_encode_negotiate_req(&q, b, 20);
  h_raw(&x, 0, b, 20);
  h_run(&x, 0);
  assert_int_equal(h_params(&x, PAS).recv_credits, 10);
  /* MSTS ConsumeAllSendCredits: ten messages, each granting one credit */
  for (int k = 0; k < 10; k++) {
    size_t n = h_data_msg(b, 10, 1, 0, 0, 24, 8, (uint8_t)k);
    h_raw(&x, 0, b, n);
  }
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 10);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_DISCONNECTED), 0);
  size_t n = sim_sent_count(x.w, PAS);
  assert_true(n >= 2);
  uint32_t granted = 0;
  for (size_t k = 1; k < n; k++) {
    smbx_smbd_data d = h_sent_data(&x, PAS, k);
    assert_int_equal(d.data_length, 0);
    granted += d.credits_granted;
  }
  /* refilled at 1/4 of the target, before the peer ran dry */
  assert_int_equal(granted, 8);
  assert_int_equal(h_params(&x, PAS).recv_credits, 8);
  h_fini(&x);
}

static void b2b(h *x, smbx_smbd_settings sa, smbx_smbd_settings sp, size_t nb)
{
  assert_int_equal(h_init(x, &sa, &sp, nb, nb, 1000), 0);
  h_establish(x);
  h_run(x, 0);
  assert_int_equal(h_count(x, 0, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_int_equal(h_count(x, 1, SMBX_SMBD_EV_NEGOTIATED), 1);
}

static void smbd_case_41_two_idle_engines_send_bounded_empties(void **state)
{
  (void)state;
  h x;
  b2b(&x, h_settings(0), h_settings(1), 32);
  size_t n0 = x.w->log_n;
  h_run(&x, 3600 * H_S);
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_DISCONNECTED), 0);
  assert_int_equal(h_count(&x, 1, SMBX_SMBD_EV_DISCONNECTED), 0);
  /* per 120 s interval: at most a keepalive and its answer per side */
  assert_true(x.w->log_n - n0 <= 4 * 30 + 4);
  assert_true(x.w->log_n - n0 >= 30); /* keepalives did run */
  h_fini(&x);
}

static void smbd_case_42_owner_not_reading_keeps_a_credit_grantable(void **state)
{
  (void)state;
  h x;
  b2b(&x, h_settings(0), h_settings(1), 16);
  x.s[PAS].auto_release = false;
  for (int k = 0; k < 60; k++)
    assert_int_equal(h_send(&x, ACT, 1, (uint8_t)k), 0);
  h_run(&x, 0);
  assert_int_equal(x.w->rnr, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_DISCONNECTED), 0);
  size_t got = h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE);
  assert_true(got >= 16); /* the two reassembly buffers took the last ones */
  assert_true(got < 60);
  /* the owner reads again: everything arrives, in order */
  for (size_t done = 0; done < 60;) {
    size_t n = h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE);
    for (; done < n; done++)
      assert_int_equal(smbx_smbd_release(x.s[PAS].d, msg(&x, PAS, done)->token,
                                         x.w->now),
                       0);
    h_run(&x, 0);
    assert_true(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE) > done || done == 60);
  }
  for (size_t k = 0; k < 60; k++) {
    uint8_t want;
    h_fill(&want, 1, (uint8_t)k);
    assert_int_equal(msg(&x, PAS, k)->data[0], want);
  }
  /* backpressure: one credit at a time, traffic still flows */
  x.s[PAS].auto_release = true;
  smbx_smbd_set_backpressure(x.s[PAS].d, 1, x.w->now);
  for (int k = 0; k < 300; k++)
    assert_int_equal(h_send(&x, ACT, 3, 1), 0);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 360);
  assert_true(h_params(&x, PAS).recv_credits >= 1);
  assert_true(h_params(&x, PAS).recv_credits <= 16);
  h_fini(&x);
}

static void smbd_case_43_receive_without_credit_is_protocol_error(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, NULL, &s, 0, 32, 1000), 0);
  h_establish(&x);
  smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 2, 1364, 8192, 1048576};
  uint8_t b[64];
  smbx_smbd_encode_negotiate_req(&q, b, 20);
  h_raw(&x, 0, b, 20);
  h_run(&x, 0);
  assert_int_equal(h_params(&x, PAS).recv_credits, 2);
  /* the first message raises the target to 8: receives get posted, but
   * with no send credit nothing can grant them */
  size_t n = h_data_msg(b, 8, 0, 0, 0, 24, 8, 1);
  h_raw(&x, 0, b, n);
  h_run(&x, 0);
  smbx_smbd_params p = h_params(&x, PAS);
  assert_int_equal(p.recv_credits, 1);
  assert_int_equal(p.recv_posted, 2); /* one posted, not granted */
  h_raw(&x, 0, b, n);
  h_raw(&x, 0, b, n); /* no credit for this one */
  h_run(&x, 0);
  const h_ev *e = h_find(&x, PAS, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(e);
  assert_int_equal(e->error, SMBX_ERR_PROTO);
  assert_string_equal(e->reason, "smbd data: message without a credit");
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 2);
  h_fini(&x);
}

static void smbd_case_44_zero_send_credits_5s_terminates(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.zero_credit_timeout_ns = 5 * H_S;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 1;
  h_active_up(&x, s, 16, &r);
  uint64_t t0 = x.w->now;
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  h_run(&x, t0 + 4 * H_S);
  h_expect_alive(&x, ACT);
  h_run(&x, t0 + 5 * H_S);
  h_expect_dead(&x, ACT, SMBX_ERR_TIMEOUT);
  h_fini(&x);
}

/* ---- keepalive --------------------------------------------------------- */

static void smbd_case_45_idle_keepalive_and_timeout(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  uint64_t t0 = x.w->now;
  size_t before = sim_sent_count(x.w, ACT);
  h_run(&x, t0 + 120 * H_S);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.flags, SMBX_SMBD_FLAG_RESPONSE_REQUESTED);
  assert_int_equal(d.data_length, 0);
  x.w->now = t0 + 121 * H_S;
  raw_msg(&x, 10, 1, 0, 0, 0, 0, 0, 20); /* the answer */
  h_run(&x, t0 + 126 * H_S);
  h_expect_alive(&x, ACT);
  uint64_t ta = t0 + 121 * H_S + 1000; /* the answer arrived */
  h_run(&x, ta + 120 * H_S - 1);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  h_run(&x, ta + 120 * H_S); /* next keepalive 120 s after the answer */
  assert_int_equal(sim_sent_count(x.w, ACT), before + 2);
  h_run(&x, ta + 125 * H_S - 1);
  h_expect_alive(&x, ACT);
  h_run(&x, ta + 125 * H_S);
  h_expect_dead(&x, ACT, SMBX_ERR_TIMEOUT);
  assert_int_equal(h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0)->at,
                   ta + 125 * H_S);
  h_fini(&x);
}

static void smbd_case_46_response_requested_gets_prompt_plain_reply(void **state)
{
  (void)state;
  h x;
  up(&x, 16);
  size_t before = sim_sent_count(x.w, ACT);
  uint64_t t = x.w->now;
  raw_msg(&x, 10, 0, SMBX_SMBD_FLAG_RESPONSE_REQUESTED, 0, 0, 0, 0, 20);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  const sim_msg *m = sim_sent(x.w, ACT, before);
  assert_int_equal(m->at_ns, t + 1000); /* as soon as it arrived */
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.flags, 0);
  assert_int_equal(m->len, 20);
  h_fini(&x);
}

static void smbd_case_47_keepalive_flag_piggybacks_on_data(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.send_queue_depth = 1;
  h_active_up(&x, s, 16, NULL);
  uint64_t e = smbx_smbd_expiry(x.s[ACT].d);
  x.w->now = e - 1;
  size_t before = sim_sent_count(x.w, ACT);
  assert_int_equal(h_send(&x, ACT, 30, 1), 0);
  assert_int_equal(h_send(&x, ACT, 40, 2), 0); /* queued behind depth 1 */
  x.w->now = e;
  assert_int_equal(smbx_smbd_handle_expiry(x.s[ACT].d, e), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 2);
  smbx_smbd_data d0 = h_sent_data(&x, ACT, before);
  smbx_smbd_data d1 = h_sent_data(&x, ACT, before + 1);
  assert_int_equal(d0.flags, 0);
  assert_int_equal(d1.flags, SMBX_SMBD_FLAG_RESPONSE_REQUESTED);
  assert_int_equal(d1.data_length, 40);
  h_fini(&x);
}

/* ---- fragmentation ----------------------------------------------------- */

static void smbd_case_48_fragment_count_and_remaining_chain(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 255;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  size_t before = sim_sent_count(x.w, ACT);
  uint32_t n = 5000, per = 1364 - 24;
  assert_int_equal(h_send(&x, ACT, n, 9), 0);
  h_run(&x, 0);
  uint32_t nf = (n + per - 1) / per;
  assert_int_equal(sim_sent_count(x.w, ACT), before + nf);
  uint8_t *all = malloc(n), *want = malloc(n);
  h_fill(want, n, 9);
  uint32_t off = 0;
  for (uint32_t k = 0; k < nf; k++) {
    const sim_msg *m = sim_sent(x.w, ACT, before + k);
    smbx_smbd_data d = h_sent_data(&x, ACT, before + k);
    assert_int_equal(d.data_offset, 24);
    assert_int_equal(d.padding, 0);
    assert_int_equal(smbx__get_le32(m->bytes + 20), 0);
    assert_int_equal(d.data_length, k + 1 < nf ? per : n - per * (nf - 1));
    assert_int_equal(d.remaining_data_length, n - off - d.data_length);
    assert_int_equal(m->len, 24 + d.data_length);
    memcpy(all + off, d.payload, d.data_length);
    off += d.data_length;
  }
  assert_memory_equal(all, want, n);
  free(all);
  free(want);
  h_fini(&x);
}

static void smbd_case_49_message_above_peer_max_fragmented_is_local_error(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.max_fragmented_size = 131072;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  assert_int_equal(h_send(&x, ACT, 131073, 1), SMBX_ERR_RANGE);
  assert_int_equal(h_send(&x, ACT, 0, 1), SMBX_ERR_RANGE);
  h_expect_alive(&x, ACT);
  assert_int_equal(h_send(&x, ACT, 131072, 1), 0);
  h_fini(&x);
}

static void smbd_case_50_no_interleaving_no_empty_inside_a_sequence(void **state)
{
  (void)state;
  h x;
  b2b(&x, h_linux(0), h_linux(1), 8);
  for (int round = 0; round < 6; round++) {
    for (int k = 0; k < 3; k++) {
      assert_int_equal(h_send(&x, ACT, 9000 + (size_t)k * 333, (uint8_t)k), 0);
      assert_int_equal(h_send(&x, PAS, 3000, 5), 0);
    }
    x.w->now = smbx_smbd_expiry(x.s[ACT].d); /* keepalive mid-way */
    smbx_smbd_handle_expiry(x.s[ACT].d, x.w->now);
    h_run(&x, 0);
  }
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 18);
  for (int side = 0; side < 2; side++) {
    bool in_seq = false;
    size_t n = sim_sent_count(x.w, side);
    for (size_t k = 1; k < n; k++) { /* 0 is the negotiate message */
      smbx_smbd_data d = h_sent_data(&x, side, k);
      if (in_seq)
        assert_true(d.data_length > 0);
      in_seq = d.data_length > 0 && d.remaining_data_length > 0;
    }
    assert_false(in_seq);
  }
  for (size_t k = 0; k < 18; k++) {
    const h_ev *m = msg(&x, PAS, k);
    size_t len = 9000 + (k % 3) * 333;
    uint8_t *want = malloc(len);
    h_fill(want, len, (uint8_t)(k % 3));
    assert_int_equal(m->len, len);
    assert_memory_equal(m->data, want, len);
    free(want);
  }
  h_fini(&x);
}

/* ---- back to back ------------------------------------------------------ */

static void big_message(smbx_smbd_settings sa, smbx_smbd_settings sp, size_t nb,
                        size_t len)
{
  h x;
  b2b(&x, sa, sp, nb);
  assert_int_equal(h_send(&x, ACT, len, 3), 0);
  h_run(&x, 0);
  const h_ev *m = msg(&x, PAS, 0);
  assert_non_null(m);
  assert_int_equal(m->len, len);
  uint8_t *want = malloc(len);
  h_fill(want, len, 3);
  assert_memory_equal(m->data, want, len);
  free(want);
  uint32_t per = h_params(&x, ACT).max_send_size - 24;
  assert_int_equal(m->frags, (len + per - 1) / per);
  assert_int_equal(x.w->rnr, 0);
  h_fini(&x);
}

static void smbd_b2b_1mib_windows_sizes(void **state)
{
  (void)state;
  big_message(h_settings(0), h_settings(1), 64, 1048576);
}

static void smbd_b2b_linux_sizes_max_fragmented(void **state)
{
  (void)state;
  big_message(h_linux(0), h_linux(1), 255, 173910);
}

/* Linux bug (spec sec. 5): a 1 MiB fragmented size starving credits - the
 * fragments are copied out and their receives reposted at once, so 16
 * receive buffers (credits run out mid-message many times) carry 1 MiB */
static void smbd_linux_bug_1mib_with_16_credits_mid_fragment(void **state)
{
  (void)state;
  big_message(h_settings(0), h_settings(1), 16, 1048576);
}

static void smbd_b2b_one_byte_messages(void **state)
{
  (void)state;
  h x;
  b2b(&x, h_settings(0), h_settings(1), 32);
  for (int k = 0; k < 2000; k++) {
    int rc = h_send(&x, k & 1, 1, (uint8_t)k);
    assert_int_equal(rc, 0);
    if (k % 50 == 0)
      h_run(&x, 0);
  }
  h_run(&x, 0);
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_MESSAGE), 1000);
  assert_int_equal(h_count(&x, 1, SMBX_SMBD_EV_MESSAGE), 1000);
  for (size_t k = 0; k < 1000; k++) {
    const h_ev *m = msg(&x, 1, k);
    assert_int_equal(m->len, 1);
    assert_ptr_not_equal(m->ptr, NULL);
  }
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_SEND_DONE), 1000);
  h_fini(&x);
}

static void smbd_b2b_single_fragment_delivered_in_place(void **state)
{
  (void)state;
  h x;
  b2b(&x, h_settings(0), h_settings(1), 8);
  assert_int_equal(h_send(&x, ACT, 500, 4), 0);
  h_run(&x, 0);
  const h_ev *m = msg(&x, PAS, 0);
  /* zero-copy by identity: the view points into a host receive buffer */
  bool inside = false;
  for (size_t k = 0; k < x.s[PAS].nbuf; k++) {
    const uint8_t *b = x.s[PAS].bufs[k].addr;
    if (m->ptr == b + 24)
      inside = true;
  }
  assert_true(inside);
  h_fini(&x);
}

static void smbd_b2b_peer_granting_zero_loses_nothing(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 3;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  for (int k = 0; k < 10; k++)
    assert_int_equal(h_send(&x, ACT, 2000, (uint8_t)k), 0);
  h_run(&x, 0);
  size_t n = sim_sent_count(x.w, ACT);
  /* negotiate, grant, two fragments (the last credit carries a grant of
   * the reserve receive), then nothing: the peer grants no more */
  assert_int_equal(n, 1 + 1 + 2);
  assert_int_equal(h_sent_data(&x, ACT, 3).credits_granted, 1);
  h_run(&x, x.w->now + 60 * H_S); /* peer never grants: nothing moves */
  assert_int_equal(sim_sent_count(x.w, ACT), n);
  h_expect_alive(&x, ACT);
  raw_msg(&x, 10, 100, 0, 0, 0, 0, 0, 20);
  assert_int_equal(h_params(&x, ACT).sends_queued, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 10);
  h_fini(&x);
}

/* The receive path takes a whole one-fragment message at DataOffset 24
 * with a few compares of its own: on each side of every one of them it
 * decides as the decoder (3.1.5.8) does, with the decoder's reason, and
 * delivers what it keeps in place (one fragment, in a receive buffer). */
static void smbd_in_place_receive_decides_as_the_decoder(void **state)
{
  (void)state;
  static const struct {
    uint16_t cr;
    uint32_t rem, off, dlen;
    size_t len; /* bytes received (0: 24 + dlen) */
  } v[] = {
      {10, 0, 24, 8, 0},             /* the fast path's message */
      {10, 0, 24, 1, 0},             /* one byte */
      {10, 0, 24, 1340, 0},          /* exactly MaxReceiveSize */
      {10, 0, 24, 8, 40},            /* trailing bytes */
      {10, 0, 24, 9, 32},            /* one byte past the end */
      {10, 0, 24, 0xFFFFFFFFu, 32},  /* DataLength - 1 wraps */
      {10, 0, 24, 0, 0},             /* DataOffset 24, nothing in it */
      {0, 0, 24, 8, 0},              /* CreditsRequested 0 */
      {10, 1, 24, 8, 0},             /* a first fragment */
      {10, 0, 32, 8, 0},             /* payload after padding */
      {10, 0, 28, 8, 40},            /* DataOffset not aligned */
  };
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
    h x;
    up(&x, 16);
    uint8_t b[1400] = {0};
    h_data_msg(b, v[k].cr, 1, 0, v[k].rem, 24, 8, (uint8_t)(k + 1));
    smbx__put_le32(b + 12, v[k].off);
    smbx__put_le32(b + 16, v[k].dlen);
    size_t len = v[k].len ? v[k].len : 24 + (size_t)v[k].dlen;
    smbx_smbd_data m;
    smbx_error_detail want = {NULL, 0};
    int verdict = smbx_smbd_decode_data(b, len, 1048576, 0, &m, &want);
    h_raw(&x, PAS, b, len);
    h_run(&x, 0);
    if (verdict) {
      h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
      smbx_error_detail got;
      smbx_smbd_error_detail(x.s[ACT].d, &got);
      assert_string_equal(got.reason, want.reason);
      h_fini(&x);
      continue;
    }
    h_expect_alive(&x, ACT);
    size_t n = h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE);
    assert_int_equal(n, m.data_length && !m.remaining_data_length ? 1 : 0);
    if (n) {
      const h_ev *e = msg(&x, ACT, 0);
      assert_int_equal(e->len, m.data_length);
      assert_int_equal(e->frags, 1);
      assert_memory_equal(e->data, b + v[k].off, m.data_length);
      bool inside = false;
      for (size_t r = 0; r < x.s[ACT].nbuf; r++)
        if (e->ptr == (const uint8_t *)x.s[ACT].bufs[r].addr + v[k].off)
          inside = true;
      assert_true(inside);
    }
    h_fini(&x);
  }
  /* one byte above MaxReceiveSize: the engine's own limit */
  h x;
  up(&x, 16);
  raw_msg(&x, 10, 0, 0, 0, 24, 1341, 1, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
  smbx_error_detail got;
  smbx_smbd_error_detail(x.s[ACT].d, &got);
  assert_string_equal(got.reason, "smbd data: longer than MaxReceiveSize");
  h_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smbd_case_23_19_bytes_terminates_20_byte_empty_ok),
      cmocka_unit_test(smbd_case_24_credits_requested_0_terminates),
      cmocka_unit_test(smbd_case_25_data_offset_23_25_terminate_32_ok),
      cmocka_unit_test(smbd_case_26_payload_past_end_and_u32_wrap_terminate),
      cmocka_unit_test(smbd_case_27_length_plus_remaining_vs_max_fragmented),
      cmocka_unit_test(smbd_case_28_remaining_chain_must_shrink_exactly),
      cmocka_unit_test(smbd_case_29_empty_message_mid_sequence_carries_credits_only),
      cmocka_unit_test(smbd_case_30_one_byte_fragments_up_to_max_fragmented),
      cmocka_unit_test(smbd_case_31_trailing_bytes_ignored),
      cmocka_unit_test(smbd_case_32_unknown_flags_and_reserved_ignored),
      cmocka_unit_test(smbd_case_33_message_above_max_receive_terminates),
      cmocka_unit_test(smbd_case_34_offset_inside_header_strict_terminates),
      cmocka_unit_test(smbd_case_35_zero_send_credits_queue_then_flush_in_order),
      cmocka_unit_test(smbd_send_single_fragment_never_overtakes_queued_ones),
      cmocka_unit_test(smbd_case_36_last_credit_held_when_nothing_grantable),
      cmocka_unit_test(smbd_case_37_peer_overgrant_capped_by_send_queue_depth),
      cmocka_unit_test(smbd_case_38_peer_lowers_then_raises_target),
      cmocka_unit_test(smbd_case_39_grants_never_exceed_posted_receives),
      cmocka_unit_test(smbd_case_40_peer_spends_all_credits_we_grant_empty),
      cmocka_unit_test(smbd_case_41_two_idle_engines_send_bounded_empties),
      cmocka_unit_test(smbd_case_42_owner_not_reading_keeps_a_credit_grantable),
      cmocka_unit_test(smbd_case_43_receive_without_credit_is_protocol_error),
      cmocka_unit_test(smbd_case_44_zero_send_credits_5s_terminates),
      cmocka_unit_test(smbd_case_45_idle_keepalive_and_timeout),
      cmocka_unit_test(smbd_case_46_response_requested_gets_prompt_plain_reply),
      cmocka_unit_test(smbd_case_47_keepalive_flag_piggybacks_on_data),
      cmocka_unit_test(smbd_case_48_fragment_count_and_remaining_chain),
      cmocka_unit_test(smbd_case_49_message_above_peer_max_fragmented_is_local_error),
      cmocka_unit_test(smbd_case_50_no_interleaving_no_empty_inside_a_sequence),
      cmocka_unit_test(smbd_b2b_1mib_windows_sizes),
      cmocka_unit_test(smbd_b2b_linux_sizes_max_fragmented),
      cmocka_unit_test(smbd_linux_bug_1mib_with_16_credits_mid_fragment),
      cmocka_unit_test(smbd_b2b_one_byte_messages),
      cmocka_unit_test(smbd_b2b_single_fragment_delivered_in_place),
      cmocka_unit_test(smbd_b2b_peer_granting_zero_loses_nothing),
      cmocka_unit_test(smbd_in_place_receive_decides_as_the_decoder),
  };
  return RUN_TESTS(tests);
}
