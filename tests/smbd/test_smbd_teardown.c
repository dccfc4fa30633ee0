/* SPDX-License-Identifier: MIT */
/* SMB Direct teardown from every state (every lent receive buffer comes
 * back exactly once, then CLOSED), transport failures, sticky errors,
 * graceful close, the owner upcall, and allocation failure on every
 * allocating path. */
#include "test_main.h"

#include <stdlib.h>

#include "harness.h"
#include "smbd/smbd_int.h"

#define ACT 0
#define PAS 1

static void b2b(h *x, size_t nb)
{
  smbx_smbd_settings sa = h_settings(0), sp = h_settings(1);
  assert_int_equal(h_init(x, &sa, &sp, nb, nb, 1000), 0);
  h_establish(x);
  h_run(x, 0);
  assert_int_equal(h_count(x, 0, SMBX_SMBD_EV_NEGOTIATED), 1);
  assert_int_equal(h_count(x, 1, SMBX_SMBD_EV_NEGOTIATED), 1);
}

static void all_back_once(h *x, int side)
{
  h_side *e = &x->s[side];
  assert_true(e->closed);
  assert_int_equal(e->n_returned, e->nbuf);
  for (size_t k = 0; k < e->nbuf; k++)
    assert_int_equal(e->returned[k], 1);
  assert_int_equal(h_count(x, side, SMBX_SMBD_EV_CLOSED), 1);
  assert_int_equal(h_count(x, side, SMBX_SMBD_EV_DISCONNECTED), 1);
  /* CLOSED is the last event */
  assert_int_equal(e->ev[e->ev_n - 1].type, SMBX_SMBD_EV_CLOSED);
  smbx_smbd_params p = h_params(x, side);
  assert_int_equal(p.state, SMBX_SMBD_STATE_CLOSED);
  assert_int_equal(p.recv_posted, 0);
  assert_int_equal(p.sends_in_flight, 0);
}

static void teardown_before_established(void **state)
{
  (void)state;
  for (uint32_t role = 0; role < 2; role++) {
    h x;
    smbx_smbd_settings s = h_settings(role);
    assert_int_equal(h_init(&x, role ? NULL : &s, role ? &s : NULL, 6, 6, 1000), 0);
    int side = (int)role;
    assert_int_equal(smbx_smbd_close(x.s[side].d, 0), 0);
    h_drain(&x, side);
    assert_false(x.s[side].closed); /* the negotiate receive is posted */
    h_run(&x, 0);
    all_back_once(&x, side);
    assert_int_equal(h_find(&x, side, SMBX_SMBD_EV_DISCONNECTED, 0)->error, 0);
    h_fini(&x);
  }
}

static void teardown_negotiate_sent_peer_disconnects(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings s = h_settings(0);
  assert_int_equal(h_init(&x, &s, NULL, 6, 0, 1000), 0);
  h_establish(&x);
  h_run(&x, 0);
  assert_int_equal(smbx_smbd_cm_event(x.s[0].d, SMBX_SMBD_CM_DISCONNECTED, 0, 0,
                                      x.w->now),
                   SMBX_ERR_CLOSED);
  h_run(&x, 0);
  all_back_once(&x, 0);
  assert_int_equal(h_find(&x, 0, SMBX_SMBD_EV_DISCONNECTED, 0)->error,
                   SMBX_ERR_CLOSED);
  /* sticky */
  uint8_t b = 0;
  smbx_sge sg = {&b, 1, 0, 0};
  assert_int_equal(smbx_smbd_send(x.s[0].d, &sg, 1, 0, 0, NULL, x.w->now),
                   SMBX_ERR_CLOSED);
  assert_int_equal(smbx_smbd_close(x.s[0].d, x.w->now), SMBX_ERR_CLOSED);
  h_fini(&x);
}

static void teardown_connected_with_everything_outstanding(void **state)
{
  (void)state;
  h x;
  b2b(&x, 16);
  x.s[PAS].auto_release = false;
  /* held in-place message, a delivered reassembled one, a partial one in
   * reassembly, queued and in-flight sends */
  assert_int_equal(h_send(&x, ACT, 100, 1), 0);
  assert_int_equal(h_send(&x, ACT, 5000, 2), 0);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 2);
  assert_int_equal(h_send(&x, ACT, 200000, 3), 0);
  for (int k = 0; k < 3; k++)
    h_step(&x), x.w->now += 1000;
  for (int k = 0; k < 40; k++)
    assert_int_equal(h_send(&x, PAS, 2000, 4), 0);
  smbx_smbd_params p = h_params(&x, PAS);
  assert_true(p.sends_queued > 0 || p.sends_in_flight > 0);
  /* the device goes away under the passive side */
  assert_int_equal(smbx_smbd_cm_event(x.s[PAS].d, SMBX_SMBD_CM_DEVICE_REMOVAL, 0,
                                      0, x.w->now),
                   SMBX_ERR_TRANSPORT);
  h_run(&x, 0);
  assert_false(x.s[PAS].closed); /* two tokens still out */
  size_t n = h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE);
  for (size_t k = 0; k < n; k++) {
    uint64_t tok = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, k)->token;
    assert_int_equal(smbx_smbd_release(x.s[PAS].d, tok, x.w->now), 0);
    assert_int_equal(smbx_smbd_release(x.s[PAS].d, tok, x.w->now),
                     SMBX_ERR_INVAL); /* exactly once */
  }
  h_drain(&x, PAS);
  all_back_once(&x, PAS);
  all_back_once(&x, ACT);
  assert_int_equal(h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0)->error,
                   SMBX_ERR_CLOSED);
  h_fini(&x);
}

static void graceful_close_sends_queue_first(void **state)
{
  (void)state;
  h x;
  b2b(&x, 16);
  for (int k = 0; k < 5; k++)
    assert_int_equal(h_send(&x, ACT, 3000, (uint8_t)k), 0);
  assert_int_equal(smbx_smbd_close(x.s[ACT].d, x.w->now), 0);
  assert_int_equal(h_send(&x, ACT, 10, 1), SMBX_ERR_CLOSED);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 5);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_SEND_DONE), 5);
  assert_int_equal(h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0)->error, 0);
  all_back_once(&x, ACT);
  all_back_once(&x, PAS);
  h_fini(&x);
}

static void rnr_is_fatal_for_the_sender(void **state)
{
  (void)state;
  /* a host bug: the passive engine's buffers are stolen (its receive
   * queue emptied), the next SEND hits RNR (rnr_retry 0) */
  h x;
  b2b(&x, 8);
  x.w->ep[PAS].rq_n = 0;
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  h_run(&x, 0);
  assert_int_equal(x.w->rnr, 1);
  /* the RNR error and the flush of the QP race in the CQs */
  int err = h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0)->error;
  assert_true(err == SMBX_ERR_TRANSPORT || err == SMBX_ERR_CLOSED);
  all_back_once(&x, ACT);
  /* the passive side's stolen receives never complete: no CLOSED there */
  assert_false(x.s[PAS].closed);
  h_fini(&x);
}

static void post_failures_are_fatal(void **state)
{
  (void)state;
  h x;
  b2b(&x, 8);
  x.w->ep[ACT].fail_post_send = 1;
  assert_int_equal(h_send(&x, ACT, 10, 1), SMBX_ERR_TRANSPORT);
  h_run(&x, 0);
  all_back_once(&x, ACT);
  smbx_error_detail det;
  assert_int_equal(smbx_smbd_error_detail(x.s[ACT].d, &det), SMBX_ERR_TRANSPORT);
  assert_string_equal(det.reason, "smbd: post_send failed");
  h_fini(&x);
  b2b(&x, 8);
  x.w->ep[PAS].fail_post_recv = 1;
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  h_run(&x, 0);
  assert_int_equal(h_find(&x, PAS, SMBX_SMBD_EV_DISCONNECTED, 0)->error,
                   SMBX_ERR_TRANSPORT);
  all_back_once(&x, PAS);
  h_fini(&x);
  b2b(&x, 8);
  x.w->ep[ACT].fail_send_completion = 1;
  assert_int_equal(h_send(&x, ACT, 10, 1), 0);
  h_run(&x, 0);
  assert_int_equal(h_find(&x, ACT, SMBX_SMBD_EV_DISCONNECTED, 0)->error,
                   SMBX_ERR_TRANSPORT);
  all_back_once(&x, ACT);
  h_fini(&x);
}

static void bad_completions_are_rejected(void **state)
{
  (void)state;
  h x;
  b2b(&x, 8);
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = 12345;
  assert_int_equal(smbx_smbd_recv(x.s[0].d, &wc, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_send_done(x.s[0].d, &wc, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_release(x.s[0].d, 99, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_cm_event(x.s[0].d, 99, 0, 0, 0), SMBX_ERR_INVAL);
  assert_int_equal(smbx_smbd_cm_event(x.s[0].d, SMBX_SMBD_CM_ESTABLISHED, 0, 0, 0),
                   SMBX_ERR_STATE);
  assert_int_equal(smbx_smbd_error_detail(x.s[0].d, NULL), 0);
  h_fini(&x);
}

static void settings_defaults_are_windows(void **state)
{
  (void)state;
  smbx_smbd_settings s;
  assert_int_equal(smbx_smbd_settings_default(&s, sizeof s), 0);
  assert_int_equal(s.struct_size, sizeof s);
  assert_int_equal(s.recv_credit_max, 255);
  assert_int_equal(s.send_credit_target, 255);
  assert_int_equal(s.max_send_size, 1364);
  assert_int_equal(s.max_recv_size, 8192);
  assert_int_equal(s.max_fragmented_recv_size, 1048576);
  assert_int_equal(s.keepalive_interval_ns, 120 * H_S);
  assert_int_equal(s.keepalive_timeout_ns, 5 * H_S);
  assert_int_equal(smbx_smbd_settings_default(NULL, sizeof s), SMBX_ERR_INVAL);
  /* an older, shorter struct: only its bytes are touched */
  uint8_t small[sizeof(size_t) + 8 + 4];
  memset(small, 0xEE, sizeof small);
  assert_int_equal(smbx_smbd_settings_default((smbx_smbd_settings *)(void *)small,
                                              sizeof(size_t) + 8),
                   0);
  assert_int_equal(small[sizeof small - 1], 0xEE);
}

static void linux_peer_profile_negotiates(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_settings(0), sp = h_linux(1);
  assert_int_equal(h_init(&x, &sa, &sp, 32, 32, 1000), 0);
  h_establish(&x);
  h_run(&x, 0);
  smbx_smbd_params a = h_params(&x, ACT), p = h_params(&x, PAS);
  assert_int_equal(a.max_send_size, 1364);
  assert_int_equal(a.max_recv_size, 1364);
  assert_int_equal(a.max_fragmented_send_size, 173910);
  assert_int_equal(p.max_fragmented_send_size, 1048576);
  assert_int_equal(h_send(&x, ACT, 173911, 1), SMBX_ERR_RANGE);
  assert_int_equal(h_send(&x, ACT, 173910, 1), 0);
  h_run(&x, 0);
  assert_int_equal(h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 0)->len, 173910);
  h_fini(&x);
}

static int upcalls;
static void upcall(void *ctx, const smbx_smbd_event *ev)
{
  (void)ctx;
  if (ev->type == SMBX_SMBD_EV_NEGOTIATED)
    upcalls++;
}

static void owner_upcall_replaces_the_queue(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_settings(0), sp = h_settings(1);
  assert_int_equal(h_init(&x, &sa, &sp, 8, 8, 1000), 0);
  smbx__smbd_set_upcall(x.s[0].d, upcall, NULL);
  upcalls = 0;
  h_establish(&x);
  h_run(&x, 0);
  assert_int_equal(upcalls, 1);
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_NEGOTIATED), 0);
  assert_int_equal(h_count(&x, 1, SMBX_SMBD_EV_NEGOTIATED), 1);
  h_fini(&x);
}

/* A message delivered in place is the last thing the engine does for
 * that receive: an owner may answer it and release it from inside the
 * upcall (what lets the connection layer skip its event queue). */
typedef struct echo_owner {
  h *x;
  size_t echoed, in_place, other;
} echo_owner;

static void echo_upcall(void *ctx, const smbx_smbd_event *ev)
{
  echo_owner *o = ctx;
  if (ev->type != SMBX_SMBD_EV_MESSAGE) {
    o->other++;
    return;
  }
  smbx_smbd *d = o->x->s[PAS].d;
  uint64_t now = o->x->w->now;
  o->in_place += ev->u.message.token >> 32 == SMBX__SMBD_TOK_INPLACE;
  smbx_sge sg = {(void *)(uintptr_t)ev->u.message.data,
                 (uint32_t)ev->u.message.len, 0, 0};
  assert_int_equal(smbx_smbd_send(d, &sg, 1, 0, 0, NULL, now), 0);
  assert_int_equal(smbx_smbd_release(d, ev->u.message.token, now), 0);
  o->echoed++;
}

static void owner_may_answer_an_in_place_message_from_the_upcall(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_settings(0), sp = h_settings(1);
  assert_int_equal(h_init(&x, &sa, &sp, 16, 16, 1000), 0);
  echo_owner o = {&x, 0, 0, 0};
  smbx__smbd_set_upcall(x.s[PAS].d, echo_upcall, &o);
  h_establish(&x);
  h_run(&x, 0);
  enum { N = 40 };
  for (size_t k = 0; k < N; k++) {
    assert_int_equal(h_send(&x, ACT, 100 + k, (uint8_t)k), 0);
    h_run(&x, 0);
  }
  assert_int_equal(o.echoed, N);
  assert_int_equal(o.in_place, N);
  assert_int_equal(h_count(&x, ACT, SMBX_SMBD_EV_MESSAGE), N);
  uint8_t want[200];
  for (size_t k = 0; k < N; k++) {
    const h_ev *e = h_find(&x, ACT, SMBX_SMBD_EV_MESSAGE, k);
    h_fill(want, 100 + k, (uint8_t)k);
    assert_int_equal(e->len, 100 + k);
    assert_memory_equal(e->data, want, 100 + k);
  }
  h_expect_alive(&x, ACT);
  smbx_smbd_params p = h_params(&x, PAS);
  assert_int_equal(p.state, SMBX_SMBD_STATE_CONNECTED);
  assert_int_equal(p.sends_in_flight, 0);
  assert_int_equal(p.sends_queued, 0);
  assert_true(p.recv_posted >= 1);
  h_fini(&x);
}

/* The owner's send entry (smbx__smbd_send_msg, after the owner's own
 * state check) answers as smbx_smbd_send: empty or above the peer's
 * MaxFragmentedSize is RANGE; one fragment goes at once, a longer message
 * is fragmented; the bytes arrive unchanged and in order. */
static void owner_send_entry_answers_as_smbd_send(void **state)
{
  (void)state;
  h x;
  smbx_smbd_settings sa = h_settings(0), sp = h_settings(1);
  assert_int_equal(h_init(&x, &sa, &sp, 16, 16, 1000), 0);
  upcalls = 0;
  smbx__smbd_set_upcall(x.s[ACT].d, upcall, NULL);
  h_establish(&x);
  h_run(&x, 0);
  smbx_smbd *d = x.s[ACT].d;
  smbx_smbd_params p = h_params(&x, ACT);
  static uint8_t big[8000], small[300];
  uint64_t now = x.w->now;
  assert_int_equal(smbx__smbd_send_msg(d, small, 0, 0, 0, now),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx__smbd_send_msg(d, big,
                                       (size_t)p.max_fragmented_send_size + 1,
                                       0, 0, now),
                   SMBX_ERR_RANGE);
  h_fill(small, sizeof small, 7);
  h_fill(big, sizeof big, 9);
  assert_int_equal(smbx__smbd_send_msg(d, small, sizeof small, 0, 0, now), 0);
  assert_int_equal(smbx__smbd_send_msg(d, big, sizeof big, 0, 0, now), 0);
  assert_int_equal(smbx__smbd_send_msg(d, small, sizeof small, 0, 0, now), 0);
  h_run(&x, 0);
  assert_int_equal(h_count(&x, PAS, SMBX_SMBD_EV_MESSAGE), 3);
  const h_ev *e = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 0);
  assert_int_equal(e->len, sizeof small);
  assert_memory_equal(e->data, small, sizeof small);
  e = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 1);
  assert_int_equal(e->len, sizeof big);
  assert_true(e->frags > 1);
  assert_memory_equal(e->data, big, sizeof big);
  e = h_find(&x, PAS, SMBX_SMBD_EV_MESSAGE, 2);
  assert_int_equal(e->len, sizeof small);
  assert_memory_equal(e->data, small, sizeof small);
  h_expect_alive(&x, PAS);
  p = h_params(&x, ACT);
  assert_int_equal(p.sends_in_flight, 0);
  assert_int_equal(p.sends_queued, 0);
  h_fini(&x);
}

/* Every allocation smbx_smbd_new makes fails in turn: NOMEM, nothing
 * leaked, nothing registered. */
static int alloc_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  sim *w = sim_new(1000);
  smbx_transport t = sim_transport(w, 0);
  static uint8_t mem[4][8192];
  smbx_smbd_recv_buf bufs[4];
  for (int k = 0; k < 4; k++) {
    bufs[k].addr = mem[k];
    bufs[k].length = 8192;
    bufs[k].reserved = 0;
    bufs[k].handle = (uint64_t)k;
  }
  smbx_smbd_settings s = h_settings(0);
  s.send_buffers = 16;
  smbx_smbd *d = NULL;
  int rc = smbx_smbd_new(&d, &s, &t, bufs, 4, &ta->a, 0);
  if (rc == 0) {
    smbx_smbd_cm_event(d, SMBX_SMBD_CM_ESTABLISHED, 0, 0, 0);
    smbx_smbd_close(d, 0);
    smbx_smbd_free(d);
  }
  if (w->ep[0].mr_live != 0)
    rc = -999;
  sim_free(w);
  return rc;
}

static void test_alloc_each_failure_smbd_new(void **state)
{
  (void)state;
  uint64_t n = test_alloc_each_failure(alloc_scenario, NULL);
  assert_true(n >= 5);
}

/* Both engines on the counting allocator ta (h_init uses the default
 * one), 16 receive buffers of 8192 bytes each, negotiated. */
static void h_init_counted(h *x, test_alloc *ta)
{
  memset(x, 0, sizeof *x);
  test_alloc_init(ta);
  x->w = sim_new(1000);
  smbx_smbd_settings st[2] = {h_settings(0), h_settings(1)};
  for (int i = 0; i < 2; i++) {
    h_side *e = &x->s[i];
    e->auto_release = e->auto_disconnect = true;
    e->nbuf = 16;
    e->mem = calloc(16, 8192);
    for (size_t k = 0; k < 16; k++) {
      e->bufs[k].addr = e->mem + k * 8192;
      e->bufs[k].length = 8192;
    }
    e->t = sim_transport(x->w, i);
    assert_int_equal(
        smbx_smbd_new(&e->d, &st[i], &e->t, e->bufs, 16, &ta->a, 0), 0);
  }
  h_establish(x);
  h_run(x, 0);
}

static void steady_state_allocates_nothing(void **state)
{
  (void)state;
  h x;
  test_alloc ta;
  h_init_counted(&x, &ta);
  /* the largest message, once each way, makes the send slots and the
   * reassembly buffer the loop needs (both are made on first need) */
  for (int k = 0; k < 2; k++) {
    assert_int_equal(h_send(&x, k, 9000, 1), 0);
    h_run(&x, 0);
  }
  uint64_t before = ta.calls;
  for (int k = 0; k < 500; k++) {
    assert_int_equal(h_send(&x, k & 1, (size_t)(1 + k * 37 % 9000), 1), 0);
    h_run(&x, 0);
  }
  h_run(&x, x.w->now + 600 * H_S); /* keepalives too */
  assert_int_equal(ta.calls, before);
  h_fini(&x);
  assert_int_equal(ta.live, 0);
}

/* The message side 1 received k-th is len bytes of pattern seed. */
static void assert_received(const h *x, size_t k, size_t len, uint8_t seed)
{
  const h_ev *m = h_find(x, 1, SMBX_SMBD_EV_MESSAGE, k);
  assert_non_null(m);
  assert_int_equal(m->len, len);
  uint8_t *want = malloc(len);
  h_fill(want, len, seed);
  assert_memory_equal(m->data, want, len);
  free(want);
}

/* An engine holds one chunk of send slots and no reassembly memory until
 * a message needs more: a 64 KiB message makes a second chunk on the
 * sender and a 64 KiB reassembly buffer on the receiver, once. */
static void buffers_are_made_on_first_need(void **state)
{
  (void)state;
  h x;
  test_alloc ta;
  h_init_counted(&x, &ta);
  smbx_smbd_params p0 = h_params(&x, 0), p1 = h_params(&x, 1);
  const uint64_t slot = 1368; /* max_send_size 1364, 8-aligned */
  assert_int_equal(p0.buffer_bytes, 32 * slot);
  assert_int_equal(p1.buffer_bytes, 32 * slot);
  /* 49 fragments of 1340 bytes plus the slot kept for credits: 64 made */
  assert_int_equal(h_send(&x, 0, 65536, 3), 0);
  h_run(&x, 0);
  assert_received(&x, 0, 65536, 3);
  assert_int_equal(h_params(&x, 0).buffer_bytes, 64 * slot);
  assert_int_equal(h_params(&x, 1).buffer_bytes, 32 * slot + 65536);
  uint64_t calls = ta.calls;
  assert_int_equal(h_send(&x, 0, 65536, 4), 0);
  h_run(&x, 0);
  assert_received(&x, 1, 65536, 4);
  assert_int_equal(ta.calls, calls);
  h_fini(&x);
  assert_int_equal(ta.live, 0);
}

/* More send slots cannot be made (their registration fails): the send is
 * refused with NOMEM and the connection carries on; a retry succeeds. */
static void send_slots_not_made_is_not_fatal(void **state)
{
  (void)state;
  h x;
  test_alloc ta;
  h_init_counted(&x, &ta);
  x.w->ep[0].fail_register = 1;
  assert_int_equal(h_send(&x, 0, 65536, 5), SMBX_ERR_NOMEM);
  h_run(&x, 0);
  assert_int_equal(h_params(&x, 0).state, SMBX_SMBD_STATE_CONNECTED);
  assert_int_equal(h_send(&x, 0, 65536, 6), 0);
  h_run(&x, 0);
  assert_received(&x, 0, 65536, 6);
  assert_int_equal(h_count(&x, 0, SMBX_SMBD_EV_DISCONNECTED), 0);
  h_fini(&x);
}

/* No memory for the reassembly buffer a fragmented message needs: the
 * receiver cannot take the message and terminates with NOMEM. */
static void reassembly_without_memory_terminates(void **state)
{
  (void)state;
  h x;
  test_alloc ta;
  h_init_counted(&x, &ta);
  /* the sender's second chunk of slots is the next allocation, made in
   * h_send; the receiver's reassembly buffer comes after it */
  test_alloc_fail_nth(&ta, 2);
  assert_int_equal(h_send(&x, 0, 65536, 7), 0);
  h_run(&x, 0);
  const h_ev *d = h_find(&x, 1, SMBX_SMBD_EV_DISCONNECTED, 0);
  assert_non_null(d);
  assert_int_equal(d->error, SMBX_ERR_NOMEM);
  assert_int_equal(h_count(&x, 1, SMBX_SMBD_EV_MESSAGE), 0);
  h_fini(&x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(teardown_before_established),
      cmocka_unit_test(teardown_negotiate_sent_peer_disconnects),
      cmocka_unit_test(teardown_connected_with_everything_outstanding),
      cmocka_unit_test(graceful_close_sends_queue_first),
      cmocka_unit_test(rnr_is_fatal_for_the_sender),
      cmocka_unit_test(post_failures_are_fatal),
      cmocka_unit_test(bad_completions_are_rejected),
      cmocka_unit_test(settings_defaults_are_windows),
      cmocka_unit_test(linux_peer_profile_negotiates),
      cmocka_unit_test(owner_upcall_replaces_the_queue),
      cmocka_unit_test(owner_may_answer_an_in_place_message_from_the_upcall),
      cmocka_unit_test(owner_send_entry_answers_as_smbd_send),
      cmocka_unit_test(test_alloc_each_failure_smbd_new),
      cmocka_unit_test(steady_state_allocates_nothing),
      cmocka_unit_test(buffers_are_made_on_first_need),
      cmocka_unit_test(send_slots_not_made_is_not_fatal),
      cmocka_unit_test(reassembly_without_memory_terminates),
  };
  return RUN_TESTS(tests);
}
