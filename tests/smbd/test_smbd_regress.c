/* SPDX-License-Identifier: MIT */
/* Regression tests, one per Linux SMB Direct bug of spec/smbd.md sec. 5
 * that applies to an engine (named smbd_linux_bug_<what>; read as a
 * checklist of sec. 5), then the deviations found by the engine review
 * (smbd_review_<what>), each failing before its fix. Run under ASan too:
 * several only show their bug as a bad memory access. */
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "core/cursor.h"

#define ACT 0
#define PAS 1

/* Engine on side 1 (passive) negotiated against a raw active peer. */
static void pas_up(h *x, smbx_smbd_settings s, size_t nbuf,
                   uint16_t credits_requested)
{
  assert_int_equal(h_init(x, NULL, &s, 0, nbuf, 1000), 0);
  h_raw_negotiate(x, PAS, 0, credits_requested);
  assert_int_equal(h_count(x, PAS, SMBX_SMBD_EV_NEGOTIATED), 1);
}

/* A data message from the raw side `from`, then run to quiescence. */
static void raw_from(h *x, int from, uint16_t cr, uint16_t cg, uint16_t fl,
                     uint32_t rem, uint32_t off, uint32_t dlen, uint8_t fill,
                     size_t len)
{
  static uint8_t b[70000];
  memset(b, 0, 64);
  size_t n = h_data_msg(b, cr, cg, fl, rem, off, dlen, fill);
  h_raw(x, from, b, len ? len : n);
  h_run(x, 0);
}

/* Replays the wire log in posting order from the raw peer's view: the
 * engine on `eng` holds the credits the raw side granted minus the data
 * messages it sent. Every engine message needs a credit, and one sent
 * with its LAST credit must grant >= 1 (errata 3.1.5.1). Valid when the
 * test runs to quiescence between raw sends (log order = causal order).
 * Returns how many messages went out on a last credit. */
static size_t check_last_credit_rule(h *x, int eng, uint32_t credits)
{
  size_t last = 0;
  int64_t c = credits;
  size_t seen_eng = 0, seen_raw = 0;
  for (size_t k = 0; k < x->w->log_n; k++) {
    const sim_msg *m = &x->w->log[k];
    smbx_smbd_data d;
    if (m->from != eng) {
      if (eng == PAS && seen_raw++ == 0)
        continue; /* the negotiate request grants nothing */
      if (smbx_smbd_decode_data(m->bytes, m->len, 0, 0, &d, NULL) == 0)
        c += d.credits_granted;
      continue;
    }
    if (seen_eng++ == 0)
      continue; /* negotiate request / response: no credit */
    assert_int_equal(smbx_smbd_decode_data(m->bytes, m->len, 0, 0, &d, NULL), 0);
    assert_true(c >= 1);
    if (c == 1) {
      assert_true(d.credits_granted >= 1);
      last++;
    }
    c--;
  }
  return last;
}

/* ---- spec sec. 5: Linux bugs ---------------------------------------- */

/* Linux bug: "last send credit" - ksmbd spent its last send credit on a
 * message that granted nothing; Windows Server 2025 then sat on zero
 * credits and disconnected ksmbd. The passive engine (server role) keeps
 * its last credit for a message that grants >= 1, and holds its queue
 * when nothing is grantable until a receive can be posted. */
static void smbd_linux_bug_last_send_credit_disconnect(void **state)
{
  (void)state;
  h x;
  pas_up(&x, h_settings(SMBX_SMBD_ROLE_PASSIVE), 4, 3);
  x.s[PAS].auto_release = false; /* the server holds every request */
  smbx_smbd_params p = h_params(&x, PAS);
  assert_int_equal(p.recv_credits, 3); /* 4 buffers, one in reserve */
  assert_int_equal(p.send_credits, 0);
  raw_from(&x, ACT, 3, 2, 0, 0, 24, 8, 1, 0); /* request, 2 credits */
  for (int k = 0; k < 3; k++)
    assert_int_equal(h_send(&x, PAS, 10, (uint8_t)k), 0);
  h_run(&x, 0);
  /* one reply (granting the reserve receive); the second would spend the
   * last credit with nothing grantable: held */
  size_t sent = sim_sent_count(x.w, PAS);
  assert_int_equal(sent, 1 + 1);
  assert_int_equal(h_sent_data(&x, PAS, 1).credits_granted, 1);
  p = h_params(&x, PAS);
  assert_int_equal(p.send_credits, 1);
  assert_int_equal(p.sends_queued, 2);
  /* the client spends a credit: its receive is copied out and reposted,
   * so the last credit can carry a grant */
  raw_from(&x, ACT, 3, 0, 0, 0, 24, 8, 2, 0);
  assert_int_equal(sim_sent_count(x.w, PAS), sent + 1);
  assert_true(h_sent_data(&x, PAS, sent).credits_granted >= 1);
  assert_int_equal(h_params(&x, PAS).send_credits, 0);
  raw_from(&x, ACT, 3, 5, 0, 0, 0, 0, 0, 20); /* credits again */
  assert_int_equal(h_params(&x, PAS).sends_queued, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_SEND_DONE), 3);
  assert_int_equal(check_last_credit_rule(&x, PAS, 0), 1);
  h_expect_alive(&x, PAS);
  for (size_t k = 0; k < h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE); k++)
    smbx_smbd_release(x.s[PAS].d,
                      h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, k)->token, x.w->now);
  h_fini(&x);
}

/* Linux bug: an empty (credit-only) message inside a fragmented stream.
 * Receiving: older Linux senders put one (RemainingDataLength 0) between
 * fragments; it carries credits/flags only and the reassembly goes on
 * (Wireshark and Linux receivers ended the message there). Sending: the
 * engine never puts one between its own fragments, even when a reply to
 * RESPONSE_REQUESTED and a credit refill are due mid-sequence. */
static void smbd_linux_bug_empty_message_inside_fragmented_stream(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 3;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  /* receive side: fragment, empty (Remaining 0, grants 2, flag 0x1),
   * fragment */
  raw_from(&x, PAS, 255, 0, 0, 1000, 24, 1000, 0x11, 0);
  raw_from(&x, PAS, 255, 2, 0, 0, 0, 0, 0, 20);
  raw_from(&x, PAS, 255, 0, 0, 0, 24, 1000, 0x22, 0);
  h_expect_alive(&x, ACT);
  const h_ev *m = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_non_null(m);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 1);
  assert_int_equal(m->len, 2000);
  assert_int_equal(m->frags, 2);
  for (size_t k = 0; k < 2000; k++)
    assert_int_equal(m->data[k], k < 1000 ? 0x11 : 0x22);
  /* send side: a 6-fragment message stalls for credits midway while the
   * peer asks for a response and spends credits */
  size_t before = sim_sent_count(x.w, ACT);
  uint32_t credits = h_params(&x, ACT).send_credits;
  assert_int_equal(h_send(&x, ACT, 6 * 1340, 7), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before + credits);
  assert_int_equal(h_params(&x, ACT).send_credits, 0);
  raw_from(&x, PAS, 255, 0, SMBX_SMBD_FLAG_RESPONSE_REQUESTED, 0, 24, 8, 3, 0);
  raw_from(&x, PAS, 255, 0, 0, 0, 24, 8, 4, 0);
  raw_from(&x, PAS, 255, 1, 0, 0, 0, 0, 0, 20);
  raw_from(&x, PAS, 255, 50, 0, 0, 0, 0, 0, 20);
  assert_int_equal(h_params(&x, ACT).sends_queued, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 1);
  /* from the first fragment to the last: data only, exact chain */
  uint32_t expect = 6 * 1340;
  size_t k = before;
  for (; expect; k++) {
    smbx_smbd_data d = h_sent_data(&x, ACT, k);
    assert_int_equal(d.data_length, 1340);
    assert_int_equal(d.data_length + d.remaining_data_length, expect);
    expect = d.remaining_data_length;
  }
  assert_true(k >= before + 6);
  h_expect_alive(&x, ACT);
  h_fini(&x);
}

/* Linux bug: send-queue overflow when the peer over-grants (65535
 * credits): posting one send per credit overflowed the QP's send queue.
 * In-flight sends stay within send_queue_depth; credits add up exactly. */
static void smbd_linux_bug_send_queue_overflow_on_peer_overgrant(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.send_queue_depth = 8;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 65535;
  h_active_up(&x, s, 16, &r);
  raw_from(&x, PAS, 255, 65535, 0, 0, 0, 0, 0, 20);
  raw_from(&x, PAS, 255, 65535, 0, 0, 0, 0, 0, 20);
  uint32_t c0 = h_params(&x, ACT).send_credits;
  assert_int_equal(c0, 3u * 65535 - 1); /* - the initial grant message */
  for (int k = 0; k < 200; k++) {
    assert_int_equal(h_send(&x, ACT, 3000, (uint8_t)k), 0);
    assert_true(h_params(&x, ACT).sends_in_flight <= 8);
    if (k % 7 == 0)
      h_run(&x, 0);
  }
  h_run(&x, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 200);
  assert_int_equal(x.w->rnr, 0);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.sends_in_flight, 0);
  assert_int_equal(p.send_credits, c0 - 200 * 3);
  h_expect_alive(&x, ACT);
  h_fini(&x);
}

/* Linux bug: MaxFragmentedRecvSize 1 MiB with 255 receives of 1364 bytes
 * (341700 payload bytes) starved credits: a message larger than the
 * receive ring can never complete while the upper layer is not reading.
 * Fragments are copied out and their receives reposted at once, so 1 MiB
 * messages arrive at Linux buffer sizes while the owner reads nothing;
 * when the reassembly buffers are all held the next message waits, and
 * flows again on release (no deadlock, no RNR). */
static void smbd_linux_bug_1mib_fragmented_size_starving_credits(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_linux(SMBX_SMBD_ROLE_ACTIVE);
  smbx_smbd_settings sp = h_linux(SMBX_SMBD_ROLE_PASSIVE);
  sa.max_fragmented_recv_size = sp.max_fragmented_recv_size = 1048576;
  assert_int_equal(h_init(&x, &sa, &sp, 255, 255, 1000), 0);
  h_establish(&x);
  h_run(&x, 0);
  x.s[PAS].auto_release = false;
  for (int k = 0; k < 3; k++) {
    assert_int_equal(h_send(&x, ACT, 1048576, (uint8_t)(10 + k)), 0);
    h_run(&x, 0);
  }
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 2);
  uint8_t *want = malloc(1048576);
  for (size_t k = 0; k < 2; k++) {
    const h_ev *m = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, k);
    assert_int_equal(m->len, 1048576);
    h_fill(want, 1048576, (uint8_t)(10 + k));
    assert_memory_equal(m->data, want, 1048576);
  }
  h_expect_alive(&x, ACT);
  h_expect_alive(&x, PAS);
  assert_int_equal(x.w->rnr, 0);
  assert_int_equal(smbx_smbd_release(
                       x.s[PAS].d, h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 0)->token,
                       x.w->now),
                   0);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 3);
  const h_ev *m = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 2);
  h_fill(want, 1048576, 12);
  assert_int_equal(m->len, 1048576);
  assert_memory_equal(m->data, want, 1048576);
  free(want);
  for (size_t k = 1; k < 3; k++)
    smbx_smbd_release(x.s[PAS].d, h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, k)->token,
                      x.w->now);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 3);
  assert_int_equal(x.w->rnr, 0);
  h_fini(&x);
}

/* Linux bug: an unbounded peer credit target (65535 taken as is) and no
 * refill when the peer raised its target again. The target served is
 * clamped to ReceiveCreditMax and to the buffers; lowered, consumed
 * receives are not reposted; raised, the engine refills and grants the
 * difference at once in a credit-only message. */
static void smbd_linux_bug_unbounded_peer_credit_target_and_refill(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_requested = 65535;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 64, &r);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.recv_credit_target, 255); /* ReceiveCreditMax */
  assert_int_equal(p.recv_credits, 63);        /* 64 buffers - reserve */
  assert_int_equal(p.recv_posted, 63);
  raw_from(&x, PAS, 65535, 0, 0, 0, 24, 8, 1, 0);
  p = h_params(&x, ACT);
  assert_int_equal(p.recv_credit_target, 255);
  assert_true(p.recv_posted <= 64 && p.recv_credits <= p.recv_posted);
  for (int k = 0; k < 40; k++)
    raw_from(&x, PAS, 4, 0, 0, 0, 24, 8, 2, 0);
  p = h_params(&x, ACT);
  assert_int_equal(p.recv_credit_target, 4);
  uint32_t low = p.recv_credits;
  /* consumed receives are not reposted (one ungranted may remain) */
  assert_true(p.recv_posted >= low && p.recv_posted <= low + 1);
  assert_true(low < 63);
  size_t before = sim_sent_count(x.w, ACT);
  raw_from(&x, PAS, 64, 0, 0, 0, 24, 8, 3, 0); /* raised */
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.data_length, 0);
  assert_int_equal(d.credits_granted, 63 - (low - 1));
  p = h_params(&x, ACT);
  assert_int_equal(p.recv_credits, 63);
  assert_int_equal(p.recv_posted, 63);
  h_expect_alive(&x, ACT);
  h_fini(&x);
}

/* Linux bug: missing DataOffset/DataLength/RemainingDataLength checks
 * (out-of-bounds reads in the client and ksmbd, out-of-bounds writes in
 * reassembly). Each hostile header terminates with a protocol error and
 * a clean teardown; ASan watches every access. */
static void smbd_linux_bug_missing_offset_length_remaining_checks(void **state)
{
  (void)state;
  static const struct {
    uint32_t rem, off, dlen;
    size_t len; /* bytes on the wire (0 = off + dlen) */
    int second;  /* as the second fragment after a 1000 + 1000 first */
  } bad[] = {
      {0, 24, 100, 100, 0},                  /* payload past the end */
      {0, 0xFFFFFFF8u, 16, 64, 0},           /* offset + length wraps u32 */
      {0, 24, 0xFFFFFFFFu, 64, 0},           /* length wraps */
      {0, 0x10000u, 0, 64, 0},               /* offset past the end, empty */
      {0xFFFFFFFFu, 24, 1, 25, 0},           /* remaining + length wraps */
      {1048576, 24, 1, 25, 0},               /* above MaxFragmentedRecvSize */
      {0, 28, 8, 36, 0},                     /* unaligned offset */
      {2000, 24, 1000, 1024, 1},             /* chain grows: would overflow */
      {0, 24, 1001, 1025, 1},                /* last one byte too long */
      {0, 24, 999, 1023, 1},                 /* premature end */
      {0xFFFFFC18u, 24, 1000, 1024, 1},      /* wrap to the expected sum */
  };
  for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
    h x;
    h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, NULL);
    if (bad[c].second)
      raw_from(&x, PAS, 255, 0, 0, 1000, 24, 1000, 5, 0);
    h_expect_alive(&x, ACT);
    static uint8_t b[70000];
    memset(b, 0xEE, sizeof b);
    smbx__put_le16(b, 255);
    smbx__put_le16(b + 2, 0);
    smbx__put_le16(b + 4, 0);
    smbx__put_le16(b + 6, 0);
    smbx__put_le32(b + 8, bad[c].rem);
    smbx__put_le32(b + 12, bad[c].off);
    smbx__put_le32(b + 16, bad[c].dlen);
    smbx__put_le32(b + 20, 0);
    h_raw(&x, PAS, b, bad[c].len);
    h_run(&x, 0);
    assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), 0);
    h_expect_dead(&x, ACT, SMBX_ERR_PROTO);
    h_fini(&x);
  }
}

/* Linux bug: a receive completion before the CM's ESTABLISHED event
 * (mlx5/irdma complete the negotiate request first) was dropped or used
 * state not set up yet. It waits and is processed on ESTABLISHED. */
static void smbd_linux_bug_receive_completion_before_established(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, NULL, &s, 0, 16, 1000), 0);
  smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 255, 1364, 8192, 1048576};
  uint8_t b[20];
  smbx_smbd_encode_negotiate_req(&q, b, 20);
  h_raw(&x, ACT, b, 20);
  h_run(&x, 0); /* the receive completes; no ESTABLISHED yet */
  assert_int_equal(sim_sent_count(x.w, PAS), 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_NEGOTIATED), 0);
  assert_int_equal(h_params(&x, PAS).state, SMBX_SMBD_STATE_AWAIT_NEGOTIATE_REQ);
  assert_int_equal(smbx_smbd_cm_event(x.s[PAS].d, SMBX_SMBD_CM_ESTABLISHED, 1,
                                      8, x.w->now),
                   0);
  h_drain(&x, PAS);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_int_equal(sim_sent_count(x.w, PAS), 1);
  const sim_msg *m = sim_sent(x.w, PAS, 0);
  assert_int_equal(m->len, 32);
  smbx_smbd_negotiate_resp r;
  assert_int_equal(smbx_smbd_decode_negotiate_resp(m->bytes, 32, &r, NULL), 0);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.credits_granted, 15);
  h_run(&x, 0);
  h_expect_alive(&x, PAS);
  h_fini(&x);
}

/* Linux bug: old ksmbd checked the negotiate minimums with <=, rejecting
 * MaxReceiveSize 128 and MaxFragmentedSize 131072 exactly. Both roles
 * accept the exact minimums and refuse one below. */
static void smbd_linux_bug_ksmbd_off_by_one_minimums(void **state)
{
  (void)state;
  static const struct {
    uint32_t mrs, mfs;
    int ok;
  } v[] = {{128, 131072, 1}, {127, 131072, 0}, {128, 131071, 0}};
  for (size_t c = 0; c < 3; c++) {
    h x; /* passive engine, raw request */
    smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
    assert_int_equal(h_init(&x, NULL, &s, 0, 16, 1000), 0);
    h_establish(&x);
    smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 10, 1364, v[c].mrs, v[c].mfs};
    uint8_t b[32];
    smbx_smbd_encode_negotiate_req(&q, b, 20);
    h_raw(&x, ACT, b, 20);
    h_run(&x, 0);
    if (v[c].ok) {
      assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_NEGOTIATED), 1);
      smbx_smbd_params p = h_params(&x, PAS);
      assert_int_equal(p.max_send_size, 128);
      assert_int_equal(p.max_fragmented_send_size, 131072);
      h_expect_alive(&x, PAS);
    } else {
      assert_int_equal(sim_sent_count(x.w, PAS), 0); /* no reply */
      h_expect_dead(&x, PAS, SMBX_ERR_NEGOTIATE);
    }
    h_fini(&x);
    /* active engine, raw response */
    smbx_smbd_settings sa = h_settings(SMBX_SMBD_ROLE_ACTIVE);
    assert_int_equal(h_init(&x, &sa, NULL, 16, 0, 1000), 0);
    h_establish(&x);
    h_run(&x, 0);
    smbx_smbd_negotiate_resp r = h_good_resp;
    r.max_receive_size = v[c].mrs;
    r.max_fragmented_size = v[c].mfs;
    smbx_smbd_encode_negotiate_resp(&r, b, 32);
    h_raw(&x, PAS, b, 32);
    h_run(&x, 0);
    if (v[c].ok) {
      assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_NEGOTIATED), 1);
      assert_int_equal(h_params(&x, ACT).max_send_size, 128);
      h_expect_alive(&x, ACT);
    } else {
      h_expect_dead(&x, ACT, SMBX_ERR_NEGOTIATE);
    }
    h_fini(&x);
  }
}

/* Linux bug: ksmbd sent no keepalives (until 2025): a passive engine
 * sends RESPONSE_REQUESTED after 120 s of silence and drops a peer that
 * does not answer within 5 s; an answer keeps it alive. */
static void smbd_linux_bug_ksmbd_no_keepalive(void **state)
{
  (void)state;
  h x;
  pas_up(&x, h_settings(SMBX_SMBD_ROLE_PASSIVE), 16, 255);
  raw_from(&x, ACT, 255, 10, 0, 0, 0, 0, 0, 20);
  uint64_t t0 = x.w->now;
  size_t before = sim_sent_count(x.w, PAS);
  h_run(&x, t0 + 119 * H_S);
  assert_int_equal(sim_sent_count(x.w, PAS), before);
  h_run(&x, t0 + 120 * H_S + 1);
  assert_int_equal(sim_sent_count(x.w, PAS), before + 1);
  assert_int_equal(h_sent_data(&x, PAS, before).flags,
                   SMBX_SMBD_FLAG_RESPONSE_REQUESTED);
  raw_from(&x, ACT, 255, 1, 0, 0, 0, 0, 0, 20); /* the answer */
  h_run(&x, x.w->now + 10 * H_S);
  h_expect_alive(&x, PAS);
  h_run(&x, x.w->now + 120 * H_S); /* next keepalive, unanswered */
  h_expect_dead(&x, PAS, SMBX_ERR_TIMEOUT);
  h_fini(&x);
}

/* Linux bug: ksmbd waited 120 s for the negotiate request (a cheap way to
 * pin server resources); the passive default is 5 s. */
static void smbd_linux_bug_ksmbd_120s_passive_negotiate_timeout(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, NULL, &s, 0, 16, 1000), 0);
  h_establish(&x);
  assert_int_equal(smbx_smbd_expiry(x.s[PAS].d), 5 * H_S);
  h_run(&x, 5 * H_S - 1);
  h_expect_alive(&x, PAS);
  h_run(&x, 5 * H_S);
  h_expect_dead(&x, PAS, SMBX_ERR_TIMEOUT);
  h_fini(&x);
}

/* Linux bug: use-after-free on unsignaled sibling completions - a batch
 * was freed on its signaled completion while flushed completions of its
 * siblings still referred to it. Every engine WR is signaled; completions
 * fed out of order, duplicated, for ids never posted, after teardown and
 * after CLOSED touch only live state (ASan) and each buffer and message
 * comes back exactly once. */
static void smbd_linux_bug_uaf_on_unsignaled_sibling_completions(void **state)
{
  (void)state;
  h x;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, NULL);
  x.s[ACT].auto_release = false;
  smbx_smbd *d = x.s[ACT].d;
  /* a held message and a partial reassembly on the receive side */
  raw_from(&x, PAS, 255, 0, 0, 0, 24, 100, 1, 0);
  raw_from(&x, PAS, 255, 0, 0, 3000, 24, 1000, 2, 0);
  /* sends: a 4-fragment message and two small ones, completions kept */
  assert_int_equal(h_send(&x, ACT, 4 * 1340, 1), 0);
  assert_int_equal(h_send(&x, ACT, 10, 2), 0);
  assert_int_equal(h_send(&x, ACT, 10, 3), 0);
  while (sim_deliver(x.w) == 0 && sim_next_time(x.w) != UINT64_MAX)
    x.w->now = sim_next_time(x.w);
  sim_cqe c[64];
  size_t n = 0;
  while (n < 64 && sim_poll(x.w, ACT, &c[n]))
    n++;
  assert_int_equal(n, 6);
  for (size_t k = 0; k < n; k++)
    assert_false(c[k].is_recv);
  /* reverse order, each twice: the duplicate is refused */
  for (size_t k = n; k-- > 0;) {
    assert_int_equal(smbx_smbd_send_done(d, &c[k].wc, x.w->now), 0);
    assert_int_equal(smbx_smbd_send_done(d, &c[k].wc, x.w->now), SMBX_ERR_INVAL);
  }
  h_drain(&x, ACT);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 3);
  /* ids never posted, wrong tag, out of range */
  smbx_wc bogus;
  memset(&bogus, 0, sizeof bogus);
  bogus.wr_id = 0x5353ull << 32 | 899;
  assert_int_equal(smbx_smbd_send_done(d, &bogus, x.w->now), SMBX_ERR_INVAL);
  bogus.wr_id = 0x5352ull << 32 | 100000;
  assert_int_equal(smbx_smbd_recv(d, &bogus, x.w->now), SMBX_ERR_INVAL);
  bogus.wr_id = 7;
  assert_int_equal(smbx_smbd_recv(d, &bogus, x.w->now), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_send_done(d, &bogus, x.w->now), SMBX_ERR_INVAL);
  h_expect_alive(&x, ACT);
  /* more sends in flight, then the QP dies: flushed completions arrive
   * after DISCONNECTED, receive ones before send ones, reversed */
  assert_int_equal(h_send(&x, ACT, 3 * 1340, 4), 0);
  x.s[ACT].auto_disconnect = false;
  sim_disconnect(x.w);
  n = 0;
  while (n < 64 && sim_poll(x.w, ACT, &c[n]))
    n++;
  assert_true(n > 3);
  assert_int_equal(smbx_smbd_cm_event(d, SMBX_SMBD_CM_DISCONNECTED, 0, 0,
                                      x.w->now),
                   SMBX_ERR_CLOSED);
  h_drain(&x, ACT);
  for (int pass = 0; pass < 2; pass++)
    for (size_t k = n; k-- > 0;) {
      if (c[k].is_recv != (pass == 0))
        continue;
      int rc = c[k].is_recv ? smbx_smbd_recv(d, &c[k].wc, x.w->now)
                            : smbx_smbd_send_done(d, &c[k].wc, x.w->now);
      assert_int_equal(rc, 0);
      h_drain(&x, ACT);
      rc = c[k].is_recv ? smbx_smbd_recv(d, &c[k].wc, x.w->now)
                        : smbx_smbd_send_done(d, &c[k].wc, x.w->now);
      assert_int_equal(rc, SMBX_ERR_INVAL);
    }
  assert_false(x.s[ACT].closed); /* the owner still holds a message */
  const h_ev *held = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_non_null(held);
  assert_int_equal(smbx_smbd_release(d, held->token, x.w->now), 0);
  assert_int_equal(smbx_smbd_release(d, held->token, x.w->now), SMBX_ERR_INVAL);
  h_drain(&x, ACT);
  h_expect_dead(&x, ACT, SMBX_ERR_CLOSED);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 3);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_CLOSED), 1);
  /* after CLOSED: stale completions and tokens are refused */
  for (size_t k = 0; k < n; k++)
    assert_int_equal(c[k].is_recv ? smbx_smbd_recv(d, &c[k].wc, x.w->now)
                                  : smbx_smbd_send_done(d, &c[k].wc, x.w->now),
                     SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_release(d, held->token, x.w->now), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_cm_event(d, SMBX_SMBD_CM_FATAL, 0, 0, x.w->now), 0);
  h_drain(&x, ACT);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_CLOSED), 1);
  h_fini(&x);
}

/* Linux bug: no remote invalidation on error responses - ksmbd answered
 * V1_INVALIDATE requests that failed with a plain SEND, leaving the
 * client's MR registered (fixed 2022; newest ksmbd puts the invalidate on
 * the first WR of the response). The engine posts SEND_WITH_INVALIDATE of
 * the rkey on the FIRST fragment of any message sent with the flag - a
 * 73-byte error reply, a fragmented reply, and one that had to wait for
 * credits - and on no other; the receiving engine reports it. */
static void smbd_linux_bug_no_remote_invalidation_on_error_responses(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  smbx_smbd_settings sp = h_settings(SMBX_SMBD_ROLE_PASSIVE);
  assert_int_equal(h_init(&x, &sa, &sp, 16, 16, 1000), 0);
  h_establish(&x);
  h_run(&x, 0);
  x.s[ACT].auto_release = false;
  uint8_t err_reply[73];
  h_fill(err_reply, sizeof err_reply, 9);
  smbx_sge sg = {err_reply, sizeof err_reply, 0, 0};
  size_t before = sim_sent_count(x.w, PAS);
  assert_int_equal(smbx_smbd_send(x.s[PAS].d, &sg, 1, SMBX_SEND_INVALIDATE,
                                  0xABCD01u, NULL, x.w->now),
                   0);
  static uint8_t big[3 * 1340 + 5];
  h_fill(big, sizeof big, 3);
  smbx_sge sg2 = {big, sizeof big, 0, 0};
  assert_int_equal(smbx_smbd_send(x.s[PAS].d, &sg2, 1, SMBX_SEND_INVALIDATE,
                                  0xABCD02u, NULL, x.w->now),
                   0);
  assert_int_equal(smbx_smbd_send(x.s[PAS].d, &sg, 1, 0, 0xABCD03u, NULL,
                                  x.w->now),
                   0);
  h_run(&x, 0);
  size_t after = sim_sent_count(x.w, PAS);
  uint32_t inv[8], rk[8], dl[8];
  size_t nd = 0;
  for (size_t k = before; k < after && nd < 8; k++) {
    const sim_msg *m = sim_sent(x.w, PAS, k);
    smbx_smbd_data d = h_sent_data(&x, PAS, k);
    if (!d.data_length) {
      assert_int_equal(m->flags, 0);
      continue;
    }
    inv[nd] = m->flags;
    rk[nd] = m->rkey;
    dl[nd++] = d.data_length;
  }
  assert_int_equal(nd, 1 + 4 + 1);
  assert_int_equal(inv[0], SMBX_SEND_INVALIDATE);
  assert_int_equal(rk[0], 0xABCD01u);
  assert_int_equal(dl[0], 73);
  assert_int_equal(inv[1], SMBX_SEND_INVALIDATE);
  assert_int_equal(rk[1], 0xABCD02u);
  for (size_t k = 2; k < 6; k++)
    assert_int_equal(inv[k], 0);
  const h_ev *m0 = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  const h_ev *m1 = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 1);
  const h_ev *m2 = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 2);
  assert_int_equal(m0->mflags, SMBX_SMBD_MSG_INVALIDATED);
  assert_int_equal(m0->rkey, 0xABCD01u);
  assert_int_equal(m1->mflags, SMBX_SMBD_MSG_INVALIDATED);
  assert_int_equal(m1->rkey, 0xABCD02u);
  assert_int_equal(m1->len, sizeof big);
  assert_int_equal(m2->mflags, 0);
  for (size_t k = 0; k < 3; k++)
    smbx_smbd_release(x.s[ACT].d, h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, k)->token,
                      x.w->now);
  h_fini(&x);
  /* a reply that waits for credits keeps its invalidate on fragment 1 */
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 1;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, &r);
  assert_int_equal(h_params(&x, ACT).send_credits, 0);
  assert_int_equal(smbx_smbd_send(x.s[ACT].d, &sg2, 1, SMBX_SEND_INVALIDATE,
                                  0x77u, NULL, x.w->now),
                   0);
  h_run(&x, 0);
  before = sim_sent_count(x.w, ACT);
  raw_from(&x, PAS, 255, 10, 0, 0, 0, 0, 0, 20);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 4);
  for (size_t k = 0; k < 4; k++) {
    const sim_msg *m = sim_sent(x.w, ACT, before + k);
    assert_int_equal(m->flags, k == 0 ? SMBX_SEND_INVALIDATE : 0u);
    assert_int_equal(m->rkey, k == 0 ? 0x77u : 0u);
  }
  h_fini(&x);
}

/* Linux bug: IRD/ORD negotiation and endianness (iWARP private data read
 * as the wrong endianness, values from the wrong perspective). The host
 * resolves the CM private data; the engine reports exactly what the host
 * passed with ESTABLISHED, in get_params and the NEGOTIATED event. */
static void smbd_linux_bug_ird_ord_reporting(void **state)
{
  (void)state;
  for (int role = 0; role < 2; role++) {
    h x;
    smbx_smbd_settings s = h_settings((uint32_t)role);
    assert_int_equal(h_init(&x, role ? NULL : &s, role ? &s : NULL, 16, 16,
                            1000),
                     0);
    smbx_smbd *d = x.s[role].d;
    assert_int_equal(smbx_smbd_cm_event(d, SMBX_SMBD_CM_ESTABLISHED, 8, 1, 0),
                     0);
    assert_int_equal(smbx_smbd_cm_event(d, SMBX_SMBD_CM_ESTABLISHED, 8, 1, 0),
                     SMBX_ERR_STATE);
    h_run(&x, 0);
    uint8_t b[32];
    if (role == 0) {
      smbx_smbd_encode_negotiate_resp(&h_good_resp, b, 32);
      h_raw(&x, PAS, b, 32);
    } else {
      smbx_smbd_negotiate_req q = {0x100, 0x100, 0, 255, 1364, 8192, 1048576};
      smbx_smbd_encode_negotiate_req(&q, b, 20);
      h_raw(&x, ACT, b, 20);
    }
    h_run(&x, 0);
    smbx_smbd_params p = h_params(&x, role);
    assert_int_equal(p.ird, 8);
    assert_int_equal(p.ord, 1);
    assert_int_equal(h_count(&x, role, SMBX_SMBD_EV_NEGOTIATED), 1);
    h_fini(&x);
  }
}

/* Linux bug (codec): missing buffer descriptor validation. */
static void smbd_linux_bug_missing_descriptor_validation(void **state)
{
  (void)state;
  uint8_t b[16 * 4096 + 16];
  memset(b, 0, sizeof b);
  size_t n = 0;
  smbx_smbd_buffer_desc out[2];
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 0, out, 2, &n, NULL),
                   SMBX_ERR_DECODE);
  smbx__put_le32(b + 12, 4096);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 15, out, 2, &n, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 17, out, 2, &n, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 32, out, 2, &n, NULL),
                   SMBX_ERR_DECODE); /* second has Length 0 */
  smbx__put_le32(b + 28, 1);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 32, out, 2, &n, NULL), 0);
  assert_int_equal(n, 2);
  for (size_t k = 0; k < 4096; k++)
    smbx__put_le32(b + 16 * k + 12, 1);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 16 * 4095, NULL, 0, &n, NULL),
                   0);
  assert_int_equal(n, 4095);
  assert_int_equal(smbx_smbd_decode_buffer_descs(b, 16 * 4096, NULL, 0, &n, NULL),
                   SMBX_ERR_DECODE);
}

/* ---- review findings -------------------------------------------------- */

/* 3.1.5.9 (b): with ReceiveCredits 0 the sender MUST post and grant a
 * receive; if none can be posted the answer is "cannot send now" - even
 * with send credits to spare (the peer could never answer). The engine
 * used to send with CreditsGranted 0 while it had >= 2 credits. */
static void smbd_review_cannot_send_now_without_grantable_receive(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 10;
  r.credits_requested = 3;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 4, &r);
  x.s[ACT].auto_release = false; /* the owner reads nothing */
  int guard = 0;
  while (h_params(&x, ACT).recv_credits > 0 && guard++ < 20)
    raw_from(&x, PAS, 3, 0, 0, 0, 24, 8, (uint8_t)guard, 0);
  h_expect_alive(&x, ACT);
  smbx_smbd_params p = h_params(&x, ACT);
  assert_int_equal(p.recv_credits, 0);
  assert_int_equal(p.recv_posted, 0); /* every buffer held or copied */
  assert_true(p.send_credits >= 2);
  size_t before = sim_sent_count(x.w, ACT);
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before); /* cannot send now */
  assert_int_equal(h_params(&x, ACT).sends_queued, 1);
  const h_ev *m = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_int_equal(smbx_smbd_release(x.s[ACT].d, m->token, x.w->now), 0);
  h_run(&x, 0);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.data_length, 10);
  assert_true(d.credits_granted >= 1);
  for (size_t k = 1; k < h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE); k++)
    smbx_smbd_release(x.s[ACT].d, h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, k)->token,
                      x.w->now);
  h_expect_alive(&x, ACT);
  h_fini(&x);
}

/* A failing repost of the last fragment's receive tore the connection
 * down before the message was handed over: the MESSAGE went out after
 * DISCONNECTED with a token naming no reassembly buffer, its release
 * failed and CLOSED never came. Now the message is delivered first (valid
 * token), then the failure tears down, and CLOSED follows the release. */
static void smbd_review_repost_failure_on_last_fragment_tears_down_cleanly(
    void **state)
{
  (void)state;
  h x;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, NULL);
  raw_from(&x, PAS, 255, 0, 0, 100, 24, 1000, 1, 0);
  x.w->ep[ACT].fail_post_recv = 1;
  raw_from(&x, PAS, 255, 0, 0, 0, 24, 100, 2, 0);
  const h_ev *m = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_non_null(m);
  assert_int_equal(m->len, 1100);
  assert_int_equal(m->frags, 2);
  assert_true(m < h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0));
  h_expect_dead(&x, ACT, SMBX_ERR_TRANSPORT);
  h_fini(&x);
}

/* The event queue is sized for what can be pending at once; a host that
 * kept sending (and completing sends) without draining events overflowed
 * it and SEND_DONE events were silently dropped. Now send returns
 * SMBX_ERR_AGAIN first, and every accepted message gets its SEND_DONE. */
static void smbd_review_send_without_draining_events_keeps_every_send_done(
    void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
  s.send_buffers = 8;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 65535;
  h_active_up(&x, s, 16, &r);
  smbx_smbd *d = x.s[ACT].d;
  uint8_t b[10] = {0};
  smbx_sge sg = {b, sizeof b, 0, 0};
  size_t ok = 0, again = 0;
  for (int k = 0; k < 200; k++) {
    int rc = smbx_smbd_send(d, &sg, 1, 0, 0, NULL, x.w->now);
    if (rc == 0)
      ok++;
    else {
      assert_int_equal(rc, SMBX_ERR_AGAIN);
      again++;
    }
    x.w->now += 1000;
    sim_deliver(x.w);
    sim_cqe c;
    while (sim_poll(x.w, ACT, &c))
      assert_int_equal(c.is_recv ? smbx_smbd_recv(d, &c.wc, x.w->now)
                                 : smbx_smbd_send_done(d, &c.wc, x.w->now),
                       0);
  }
  assert_true(again > 0);
  h_drain(&x, ACT);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), ok);
  assert_int_equal(h_send(&x, ACT, 10, 1), 0); /* drained: sends again */
  h_run(&x, 0);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), ok + 1);
  h_expect_alive(&x, ACT);
  h_fini(&x);
}

/* Timer settings were added to now unchecked: a host disabling a timer
 * with UINT64_MAX got a deadline that wrapped into the past (keepalive at
 * once, then a TIMEOUT), and keepalive_interval_ns 0 did the same. Now
 * deadlines saturate (never) and interval 0 means no keepalive. */
static void smbd_review_huge_or_zero_timer_settings_never_fire(void **state)
{
  (void)state;
  for (int c = 0; c < 2; c++) {
    h x;
    smbx_smbd_settings s = h_settings(SMBX_SMBD_ROLE_ACTIVE);
    s.keepalive_interval_ns = c ? 0 : UINT64_MAX;
    s.negotiate_timeout_ns = UINT64_MAX;
    s.zero_credit_timeout_ns = UINT64_MAX;
    assert_int_equal(h_init(&x, &s, NULL, 16, 0, 1000), 0);
    x.w->now = 5;
    h_establish(&x);
    h_run(&x, 0);
    assert_int_equal(smbx_smbd_expiry(x.s[ACT].d), UINT64_MAX);
    uint8_t b[32];
    smbx_smbd_negotiate_resp r = h_good_resp;
    r.credits_granted = 1;
    smbx_smbd_encode_negotiate_resp(&r, b, 32);
    h_raw(&x, PAS, b, 32);
    h_run(&x, 0);
    assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_NEGOTIATED), 1);
    assert_int_equal(h_send(&x, ACT, 10, 1), 0); /* waits on zero credits */
    size_t before = sim_sent_count(x.w, ACT);
    assert_int_equal(smbx_smbd_expiry(x.s[ACT].d), UINT64_MAX);
    h_run(&x, x.w->now + 1000 * H_S);
    assert_int_equal(sim_sent_count(x.w, ACT), before);
    h_expect_alive(&x, ACT);
    h_fini(&x);
  }
}

/* 3.1.5.1 (digest 3.2): sending the keepalive request arms the short
 * timer. The engine armed it only when the idle timer fired, so a request
 * that waited for a grantable credit (the owner held every buffer) left
 * the peer less than 5 s to answer. */
static void smbd_review_keepalive_timeout_counts_from_the_send(void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 10;
  r.credits_requested = 3;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 4, &r);
  x.s[ACT].auto_release = false;
  int guard = 0;
  while (h_params(&x, ACT).recv_credits > 0 && guard++ < 20)
    raw_from(&x, PAS, 3, 0, 0, 0, 24, 8, (uint8_t)guard, 0);
  assert_int_equal(h_params(&x, ACT).recv_posted, 0);
  uint64_t idle = smbx_smbd_expiry(x.s[ACT].d);
  size_t before = sim_sent_count(x.w, ACT);
  h_run(&x, idle); /* keepalive due, but no credit can be granted */
  assert_int_equal(sim_sent_count(x.w, ACT), before);
  h_run(&x, idle + 3 * H_S);
  const h_ev *m = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_int_equal(smbx_smbd_release(x.s[ACT].d, m->token, x.w->now), 0);
  h_run(&x, x.w->now);
  assert_int_equal(sim_sent_count(x.w, ACT), before + 1);
  smbx_smbd_data d = h_sent_data(&x, ACT, before);
  assert_int_equal(d.flags, SMBX_SMBD_FLAG_RESPONSE_REQUESTED);
  assert_true(d.credits_granted >= 1);
  h_run(&x, idle + 7 * H_S); /* 4 s after the request: still waiting */
  h_expect_alive(&x, ACT);
  raw_from(&x, PAS, 3, 1, 0, 0, 0, 0, 0, 20); /* the answer */
  h_run(&x, idle + 20 * H_S);
  h_expect_alive(&x, ACT);
  for (size_t k = 1; k < h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE); k++)
    smbx_smbd_release(x.s[ACT].d, h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, k)->token,
                      x.w->now);
  h_fini(&x);
}

/* smbx_smbd_release and smbx_smbd_set_backpressure are documented to
 * return 0 or SMBX_ERR_INVAL, but returned SMBX_ERR_TRANSPORT when a send
 * they unblocked failed to post (found by fuzz_smbd_data). The token is
 * released all the same; the failure is the DISCONNECTED event. */
static void smbd_review_release_and_backpressure_return_0_when_a_post_fails(
    void **state)
{
  (void)state;
  h x;
  smbx_smbd_negotiate_resp r = h_good_resp;
  r.credits_granted = 10;
  r.credits_requested = 3;
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 4, &r);
  x.s[ACT].auto_release = false;
  int guard = 0;
  while (h_params(&x, ACT).recv_credits > 0 && guard++ < 20)
    raw_from(&x, PAS, 3, 0, 0, 0, 24, 8, (uint8_t)guard, 0);
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  assert_int_equal(h_params(&x, ACT).sends_queued, 1); /* cannot send now */
  x.w->ep[ACT].fail_post_send = 1;
  const h_ev *m = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, 0);
  assert_int_equal(smbx_smbd_release(x.s[ACT].d, m->token, x.w->now), 0);
  assert_int_equal(smbx_smbd_release(x.s[ACT].d, m->token, x.w->now),
                   SMBX_ERR_INVAL);
  h_run(&x, 0);
  for (size_t k = 1; k < h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE); k++)
    assert_int_equal(
        smbx_smbd_release(x.s[ACT].d,
                          h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, k)->token,
                          x.w->now),
        0);
  h_drain(&x, ACT);
  h_expect_dead(&x, ACT, SMBX_ERR_TRANSPORT);
  h_fini(&x);
  /* backpressure off: the refill grant fails to post */
  h_active_up(&x, h_settings(SMBX_SMBD_ROLE_ACTIVE), 16, NULL);
  assert_int_equal(smbx_smbd_set_backpressure(x.s[ACT].d, 1, x.w->now), 0);
  for (int k = 0; k < 15; k++)
    raw_from(&x, PAS, 255, 0, 0, 0, 24, 8, 1, 0);
  assert_int_equal(h_params(&x, ACT).recv_credits, 1);
  x.w->ep[ACT].fail_post_send = 1;
  assert_int_equal(smbx_smbd_set_backpressure(x.s[ACT].d, 0, x.w->now), 0);
  h_run(&x, 0);
  h_expect_dead(&x, ACT, SMBX_ERR_TRANSPORT);
  h_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smbd_linux_bug_last_send_credit_disconnect),
      cmocka_unit_test(smbd_linux_bug_empty_message_inside_fragmented_stream),
      cmocka_unit_test(smbd_linux_bug_send_queue_overflow_on_peer_overgrant),
      cmocka_unit_test(smbd_linux_bug_1mib_fragmented_size_starving_credits),
      cmocka_unit_test(smbd_linux_bug_unbounded_peer_credit_target_and_refill),
      cmocka_unit_test(smbd_linux_bug_missing_offset_length_remaining_checks),
      cmocka_unit_test(smbd_linux_bug_receive_completion_before_established),
      cmocka_unit_test(smbd_linux_bug_ksmbd_off_by_one_minimums),
      cmocka_unit_test(smbd_linux_bug_ksmbd_no_keepalive),
      cmocka_unit_test(smbd_linux_bug_ksmbd_120s_passive_negotiate_timeout),
      cmocka_unit_test(smbd_linux_bug_uaf_on_unsignaled_sibling_completions),
      cmocka_unit_test(smbd_linux_bug_no_remote_invalidation_on_error_responses),
      cmocka_unit_test(smbd_linux_bug_ird_ord_reporting),
      cmocka_unit_test(smbd_linux_bug_missing_descriptor_validation),
      cmocka_unit_test(smbd_review_cannot_send_now_without_grantable_receive),
      cmocka_unit_test(
          smbd_review_repost_failure_on_last_fragment_tears_down_cleanly),
      cmocka_unit_test(
          smbd_review_send_without_draining_events_keeps_every_send_done),
      cmocka_unit_test(smbd_review_huge_or_zero_timer_settings_never_fire),
      cmocka_unit_test(smbd_review_keepalive_timeout_counts_from_the_send),
      cmocka_unit_test(
          smbd_review_release_and_backpressure_return_0_when_a_post_fails),
  };
  return RUN_TESTS(tests);
}
