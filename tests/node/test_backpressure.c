/* SPDX-License-Identifier: MIT */
/* Server backpressure (docs/nodes.md "Backpressure", STYLE.md sec. 1):
 * while the host leaves more than 4096 events queued, every connection
 * grants clients only credits_min (nothing while they hold more); once
 * fewer than 1024 are left normal grants resume. The test is the server
 * host: it feeds the client node's bytes to the server node itself and
 * pops and answers ECHO requests (SMBX_SERVER_DELIVER_ECHO) only when it
 * chooses, so the server's queue is as long as each case needs. ECHOs go
 * in unrelated compounds of 64 (one TCP message each: a connection holds
 * at most 1024 messages, not 4097). */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "test_main.h"

#define EVQ_HIGH 4096u /* more queued than this: backpressure on */
#define EVQ_LOW 1024u  /* fewer left than this: off again */
#define CHAIN 64u      /* ECHOs per compound request */
#define CREDITS_MAX 8192u
#define CREDITS_MIN 64u
#define MAX_MID 16384u

typedef struct bp {
  nh x;
  int a;           /* the loaded pair */
  uint64_t sess;
  size_t queued;   /* events the server holds for the host */
  bool on;         /* backpressure as the host sees it (the rule above) */
  size_t answered; /* REQUEST events answered */
  size_t answered_on;
  size_t responses; /* client RESPONSE events taken */
  uint64_t granted_on, granted_off; /* CreditResponse sums */
  size_t negotiated; /* client NEGOTIATED events taken */
  uint64_t neg_conn;
  /* per MessageId of the loaded connection */
  uint8_t seen[MAX_MID];    /* server: REQUEST events */
  uint8_t expect0[MAX_MID]; /* answered while backpressure was on */
  uint8_t done[MAX_MID];    /* client: RESPONSE events */
} bp;

static bp B;

static const uint8_t echo_body[4] = {4, 0, 0, 0};

/* nh_pump's host (warm-up, after the load): ECHO answered SUCCESS */
static bool host_echo(nh *x, const smbx_event *e)
{
  if (e->u.pdu.hdr.command != SMBX_SMB2_ECHO)
    return false;
  assert_int_equal(smbx_server_respond(x->srv, e->conn, e->u.pdu.req, 0,
                                       echo_body, 4, x->now),
                   0);
  return true;
}

static uint32_t srv_credits(bp *b, int p)
{
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_server_conn_info(b->x.srv, b->x.pair[p].sconn, &ci),
                   0);
  return ci.credits;
}

static smbx_conn_info cli_info(bp *b, int p)
{
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_client_conn_info(b->x.cli, b->x.pair[p].cconn, &ci),
                   0);
  return ci;
}

/* Server and client nodes over TCP; ECHOs delivered; the client holds
 * enough credits for `need` requests in flight. */
static void setup(bp *b, size_t need)
{
  memset(b, 0, sizeof *b);
  nh *x = &b->x;
  nh_setup(x, false);
  x->ss.flags |= SMBX_SERVER_DELIVER_ECHO;
  x->ss.credits_max = CREDITS_MAX;
  x->ss.credits_min = CREDITS_MIN;
  x->ss.max_requests = CREDITS_MAX;
  x->cs.credit_target = CREDITS_MAX;
  x->cs.max_requests = CREDITS_MAX;
  x->host_request = host_echo;
  b->a = nh_start_tcp(x);
  b->sess = nh_session(x, b->a);
  for (int i = 0; i < 8 && cli_info(b, b->a).credits < need; i++) {
    assert_int_equal(smbx_client_echo(x->cli, x->pair[b->a].cconn, x->now,
                                      NULL),
                     0);
    nh_pump(x);
  }
  assert_true(cli_info(b, b->a).credits >= need);
}

/* The client node sends n ECHOs on the loaded pair, CHAIN per compound. */
static void send_echoes(bp *b, size_t n)
{
  smbx_client_op ops[CHAIN];
  for (size_t i = 0; i < CHAIN; i++) {
    smbx_client_op o = {SMBX_SMB2_ECHO, 0, 0, echo_body, 4};
    ops[i] = o;
  }
  while (n) {
    size_t k = n < CHAIN ? n : CHAIN;
    int rc = k == 1 ? smbx_client_echo(b->x.cli, b->x.pair[b->a].cconn,
                                       b->x.now, NULL)
                    : smbx_client_compound(b->x.cli, b->x.pair[b->a].cconn,
                                           b->sess, 0, ops, k, 0, 0,
                                           b->x.now, NULL);
    assert_int_equal(rc, 0);
    n -= k;
  }
}

/* The client's bytes on pair p into the server, no event taken; `events`
 * is how many that queues (the host's own count). */
static void srv_feed(bp *b, int p, size_t events)
{
  nh *x = &b->x;
  nh_pipe *q = &x->pair[p].c2s;
  while (q->off < q->len) {
    smbx_ssize r = smbx_server_tcp_feed(x->srv, x->pair[p].sconn,
                                        q->p + q->off, q->len - q->off,
                                        x->now);
    assert_true(r > 0);
    q->off += (size_t)r;
  }
  for (size_t i = 0; i < events; i++) {
    /* pushed onto `queued` events: more than EVQ_HIGH turns it on */
    if (b->queued >= EVQ_HIGH)
      b->on = true;
    b->queued++;
  }
}

/* Pops n server events and answers each ECHO at once. */
static void srv_take(bp *b, size_t n)
{
  nh *x = &b->x;
  for (size_t k = 0; k < n; k++) {
    smbx_event e;
    e.struct_size = sizeof e;
    assert_int_equal(smbx_server_next_event(x->srv, &e), 1);
    assert_true(b->queued > 0);
    if (b->queued <= EVQ_LOW)
      b->on = false;
    b->queued--;
    if (e.type == SMBX_EV_NEGOTIATED)
      continue;
    assert_int_equal(e.type, SMBX_EV_REQUEST);
    assert_int_equal(e.conn, x->pair[b->a].sconn);
    assert_int_equal(e.u.pdu.hdr.command, SMBX_SMB2_ECHO);
    uint64_t mid = e.u.pdu.hdr.message_id;
    assert_true(mid < MAX_MID);
    assert_int_equal(b->seen[mid], 0);
    b->seen[mid] = 1;
    b->expect0[mid] = b->on;
    b->answered_on += b->on;
    b->answered++;
    assert_int_equal(smbx_server_respond(x->srv, e.conn, e.u.pdu.req, 0,
                                         echo_body, 4, x->now),
                     0);
  }
}

/* Moves every server byte to the client node and takes its events:
 * each RESPONSE of the loaded pair is checked against the grant rule. */
static void cli_take(bp *b)
{
  nh *x = &b->x;
  for (int p = 0; p < NH_PAIRS; p++) {
    nh_pair *pr = &x->pair[p];
    if (!pr->used)
      continue;
    nh_pipe *q = &pr->s2c;
    while (q->off < q->len) {
      smbx_ssize r = smbx_client_tcp_feed(x->cli, pr->cconn, q->p + q->off,
                                          q->len - q->off, x->now);
      assert_true(r >= 0);
      q->off += (size_t)r;
      smbx_event e;
      e.struct_size = sizeof e;
      size_t got = 0;
      while (smbx_client_next_event(x->cli, &e) == 1) {
        got++;
        if (e.type == SMBX_EV_NEGOTIATED) {
          b->negotiated++;
          b->neg_conn = e.conn;
          assert_int_equal(e.u.negotiated.err, 0);
        } else {
          assert_int_equal(e.type, SMBX_EV_RESPONSE);
          assert_int_equal(e.conn, pr->cconn);
          assert_int_equal(e.u.pdu.err, 0);
          assert_int_equal(e.u.pdu.status, 0);
          uint64_t mid = e.u.pdu.hdr.message_id;
          uint16_t g = e.u.pdu.hdr.credits;
          assert_true(mid < MAX_MID);
          assert_int_equal(b->done[mid], 0);
          assert_int_equal(b->seen[mid], 1);
          b->done[mid] = 1;
          b->responses++;
          if (b->expect0[mid]) {
            /* the client holds far more than credits_min: nothing */
            assert_int_equal(g, 0);
            b->granted_on += g;
          } else {
            assert_true(g >= 1);
            b->granted_off += g;
          }
        }
        if (e.hold)
          assert_int_equal(smbx_client_release(x->cli, e.conn, e.hold, x->now),
                           0);
      }
      assert_true(r > 0 || got > 0); /* no progress: stuck */
    }
    q->off = q->len = 0;
  }
}

/* Every request answered once, the server's queue empty, nothing held. */
static void check_nothing_lost(bp *b, size_t requests)
{
  smbx_event e;
  e.struct_size = sizeof e;
  assert_int_equal(smbx_server_next_event(b->x.srv, &e), 0);
  assert_int_equal(b->queued, 0);
  assert_int_equal(b->answered, requests);
  assert_int_equal(b->responses, requests);
  smbx_conn_info ci = cli_info(b, b->a);
  assert_int_equal(ci.outstanding, 0);
  assert_int_equal(ci.err, 0);
  smbx_conn_info si;
  si.struct_size = sizeof si;
  assert_int_equal(smbx_server_conn_info(b->x.srv, b->x.pair[b->a].sconn,
                                         &si),
                   0);
  assert_int_equal(si.holds, 0);
  assert_int_equal(si.err, 0);
}

/* 5120 ECHOs queued (backpressure on at the 4097th): the 4096 answered
 * while at least 1024 are left grant nothing (the client holds more than
 * credits_min); a connection added meanwhile gets only credits_min from
 * its NEGOTIATE response; the last 1024 grant again, and afterwards both
 * connections are topped up to credits_max. Every request answered once. */
static void bp_past_high_mark_grants_only_credits_min(void **state)
{
  (void)state;
  bp *b = &B;
  const size_t n = EVQ_HIGH + EVQ_LOW;
  setup(b, n);
  nh *x = &b->x;
  send_echoes(b, n);
  srv_feed(b, b->a, n);
  assert_true(b->on);

  /* added while on: its first grant is credits_min although the client
   * asks for credit_target (8192) */
  int c = nh_add_tcp(x, false);
  assert_int_equal(smbx_client_negotiate(x->cli, x->pair[c].cconn, x->now), 0);
  srv_feed(b, c, 1);
  cli_take(b);
  assert_int_equal(b->negotiated, 1);
  assert_int_equal(b->neg_conn, x->pair[c].cconn);
  assert_int_equal(srv_credits(b, c), CREDITS_MIN);
  assert_int_equal(cli_info(b, c).credits, CREDITS_MIN);

  /* down to EVQ_LOW left (n ECHOs + the NEGOTIATED event queued):
   * still on */
  srv_take(b, n + 1 - EVQ_LOW);
  assert_true(b->on);
  cli_take(b);
  assert_int_equal(b->answered_on, n + 1 - EVQ_LOW);
  /* the last answered waits for the rest of its compound's response */
  assert_int_equal(b->responses, n - EVQ_LOW);
  assert_int_equal(b->granted_on, 0);
  /* what the client holds: what it has left to spend (nothing was
   * granted) and the requests not answered yet */
  assert_int_equal(srv_credits(b, b->a),
                   cli_info(b, b->a).credits + (n - b->answered));

  /* the rest: below EVQ_LOW left, grants resume */
  srv_take(b, EVQ_LOW);
  assert_false(b->on);
  cli_take(b);
  assert_int_equal(b->answered_on, n + 1 - EVQ_LOW);
  assert_true(b->granted_off >= EVQ_LOW - 1);
  check_nothing_lost(b, n);

  /* one more ECHO on each connection: back up to credits_max */
  assert_int_equal(smbx_client_echo(x->cli, x->pair[b->a].cconn, x->now,
                                    NULL),
                   0);
  assert_int_equal(smbx_client_echo(x->cli, x->pair[c].cconn, x->now, NULL),
                   0);
  nh_pump(x);
  assert_int_equal(srv_credits(b, b->a), CREDITS_MAX);
  assert_int_equal(srv_credits(b, c), CREDITS_MAX);
  assert_int_equal(cli_info(b, c).credits, CREDITS_MAX);
  nh_fini(x);
}

/* Exactly EVQ_HIGH queued is not "more than": every answer grants; one
 * event more turns it on (the first answer grants nothing). */
static void bp_high_mark_needs_more_than_4096_queued(void **state)
{
  (void)state;
  bp *b = &B;
  setup(b, EVQ_HIGH + 1);
  nh *x = &b->x;
  send_echoes(b, EVQ_HIGH);
  srv_feed(b, b->a, EVQ_HIGH);
  assert_false(b->on);
  srv_take(b, EVQ_HIGH);
  cli_take(b);
  assert_int_equal(b->answered_on, 0);
  assert_true(b->granted_off >= EVQ_HIGH);
  check_nothing_lost(b, EVQ_HIGH);
  assert_int_equal(srv_credits(b, b->a), CREDITS_MAX);

  memset(b->seen, 0, sizeof b->seen);
  memset(b->done, 0, sizeof b->done);
  b->answered = b->responses = b->answered_on = 0;
  b->granted_on = b->granted_off = 0;
  send_echoes(b, EVQ_HIGH + 1);
  srv_feed(b, b->a, EVQ_HIGH + 1);
  assert_true(b->on);
  srv_take(b, EVQ_HIGH + 1);
  cli_take(b);
  /* answered with more than EVQ_LOW queued before each: granted nothing
   * (cli_take checks each); the rest granted */
  assert_int_equal(b->answered_on, EVQ_HIGH + 1 - EVQ_LOW);
  assert_int_equal(b->granted_on, 0);
  assert_true(b->granted_off >= EVQ_LOW);
  check_nothing_lost(b, EVQ_HIGH + 1);
  nh_fini(x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bp_past_high_mark_grants_only_credits_min),
      cmocka_unit_test(bp_high_mark_needs_more_than_4096_queued),
  };
  return RUN_TESTS(tests);
}
