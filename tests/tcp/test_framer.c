/* SPDX-License-Identifier: MIT */
/* Direct TCP framer: spec/smb2.md sec. 1 and case 1. */
#include "test_main.h"

#include <smbx/tcp.h>

/* Builds prefix + n body bytes (body[i] = seed + i) into out; returns the
 * total length. */
static size_t frame(uint8_t *out, size_t n, uint8_t seed)
{
  assert_int_equal(smbx_tcp_encode_prefix(out, 4, n), 4);
  for (size_t i = 0; i < n; i++)
    out[4 + i] = (uint8_t)(seed + i);
  return 4 + n;
}

static void check_body(const smbx_tcp_pdu *p, size_t n, uint8_t seed)
{
  assert_int_equal(p->len, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(p->data[i], (uint8_t)(seed + i));
}

static smbx_tcp_framer *mk(test_alloc *ta, uint32_t max)
{
  smbx_tcp_framer *f = NULL;
  test_alloc_init(ta);
  assert_int_equal(smbx_tcp_framer_new(&f, max, &ta->a), 0);
  assert_non_null(f);
  return f;
}

static void done(test_alloc *ta, smbx_tcp_framer *f)
{
  smbx_tcp_framer_free(f);
  assert_int_equal(ta->live, 0);
}

static void smb2_case_1_one_pdu_delivered_in_place(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 20);
  uint8_t buf[4 + 68];
  size_t n = frame(buf, 68, 1);
  smbx_tcp_pdu p;
  size_t used = 99;
  assert_int_equal(smbx_tcp_framer_feed(f, buf, n, &used, &p), 1);
  assert_int_equal(used, n);
  assert_ptr_equal(p.data, buf + 4); /* zero copy: a view into our buffer */
  assert_int_equal(p.copied, 0);
  assert_int_equal(p.stream_offset, 0);
  check_body(&p, 68, 1);
  assert_int_equal(smbx_tcp_framer_pending(f), 0);
  assert_int_equal(ta.total, 1); /* only the framer itself */
  done(&ta, f);
}

static void smb2_case_1_two_pdus_in_one_feed(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 20);
  uint8_t buf[200];
  size_t a = frame(buf, 70, 3);
  size_t b = frame(buf + a, 100, 9);
  smbx_tcp_pdu p;
  size_t used;
  assert_int_equal(smbx_tcp_framer_feed(f, buf, a + b, &used, &p), 1);
  assert_int_equal(used, a);
  assert_ptr_equal(p.data, buf + 4);
  check_body(&p, 70, 3);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + a, b, &used, &p), 1);
  assert_int_equal(used, b);
  assert_ptr_equal(p.data, buf + a + 4);
  assert_int_equal(p.copied, 0);
  assert_int_equal(p.stream_offset, a);
  check_body(&p, 100, 9);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + a + b, 0, &used, &p), 0);
  assert_int_equal(used, 0);
  assert_int_equal(ta.total, 1);
  done(&ta, f);
}

static void smb2_case_1_pdu_fed_byte_by_byte(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 20);
  uint8_t buf[2 * (4 + 90)];
  size_t a = frame(buf, 90, 5);
  size_t b = frame(buf + a, 90, 77);
  int got = 0;
  for (size_t i = 0; i < a + b; i++) {
    smbx_tcp_pdu p;
    size_t used;
    int rc = smbx_tcp_framer_feed(f, buf + i, 1, &used, &p);
    assert_int_equal(used, 1);
    assert_true(smbx_tcp_framer_pending(f) <= 90 + 3);
    if (i == a - 1 || i == a + b - 1) {
      assert_int_equal(rc, 1);
      assert_int_equal(p.copied, 1);
      assert_true(p.data < buf || p.data >= buf + sizeof buf);
      check_body(&p, 90, got ? 77 : 5);
      assert_int_equal(p.stream_offset, got ? a : 0);
      got++;
      assert_int_equal(smbx_tcp_framer_pending(f), 0);
    } else {
      assert_int_equal(rc, 0);
    }
  }
  assert_int_equal(got, 2);
  /* the reassembly buffer was allocated once and reused */
  assert_int_equal(ta.total, 2);
  done(&ta, f);
}

static void smb2_case_1_prefix_split_1_plus_3(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 20);
  uint8_t buf[4 + 64];
  size_t n = frame(buf, 64, 0x40);
  smbx_tcp_pdu p;
  size_t used;
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 1, &used, &p), 0);
  assert_int_equal(used, 1);
  assert_int_equal(smbx_tcp_framer_pending(f), 1);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 1, 3, &used, &p), 0);
  assert_int_equal(used, 3);
  assert_int_equal(smbx_tcp_framer_pending(f), 0);
  /* the body then arrives whole: still in place although the prefix was
   * split (the prefix is not part of the message) */
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 4, n - 4, &used, &p), 1);
  assert_ptr_equal(p.data, buf + 4);
  assert_int_equal(p.copied, 0);
  check_body(&p, 64, 0x40);
  /* split 1 + (3 + body) */
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 1, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 1, n - 1, &used, &p), 1);
  assert_int_equal(used, n - 1);
  assert_ptr_equal(p.data, buf + 4);
  assert_int_equal(ta.total, 1);
  done(&ta, f);
}

static void smb2_case_1_length_ffffff_accepted_only_if_within_max(void **state)
{
  (void)state;
  const uint8_t pre[4] = {0, 0xFF, 0xFF, 0xFF};
  smbx_tcp_pdu p;
  size_t used;
  test_alloc ta;
  /* max = 0xFFFFFF: accepted, body buffered when it arrives in pieces */
  smbx_tcp_framer *f = mk(&ta, SMBX_TCP_MAX_FRAME);
  assert_int_equal(smbx_tcp_framer_feed(f, pre, 4, &used, &p), 0);
  assert_int_equal(used, 4);
  uint8_t *body = test_calloc(1, SMBX_TCP_MAX_FRAME);
  body[0] = 0xFE;
  body[SMBX_TCP_MAX_FRAME - 1] = 0x42;
  assert_int_equal(smbx_tcp_framer_feed(f, body, SMBX_TCP_MAX_FRAME, &used, &p),
                   1);
  assert_ptr_equal(p.data, body);
  assert_int_equal(p.len, SMBX_TCP_MAX_FRAME);
  /* and split in two: copied into one buffer of exactly the message size */
  assert_int_equal(smbx_tcp_framer_feed(f, pre, 4, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, body, 1000, &used, &p), 0);
  assert_true(ta.live_bytes >= SMBX_TCP_MAX_FRAME);
  assert_int_equal(
      smbx_tcp_framer_feed(f, body + 1000, SMBX_TCP_MAX_FRAME - 1000, &used, &p),
      1);
  assert_int_equal(p.copied, 1);
  assert_int_equal(p.len, SMBX_TCP_MAX_FRAME);
  assert_memory_equal(p.data, body, SMBX_TCP_MAX_FRAME);
  test_free(body);
  done(&ta, f);

  /* max one below: protocol error right after the prefix, nothing buffered */
  f = mk(&ta, SMBX_TCP_MAX_FRAME - 1);
  assert_int_equal(smbx_tcp_framer_feed(f, pre, 4, &used, &p), SMBX_ERR_PROTO);
  assert_int_equal(used, 4);
  assert_int_equal(smbx_tcp_framer_pending(f), 0);
  assert_int_equal(ta.total, 1);
  done(&ta, f);
}

static void smb2_1_length_above_max_rejected_before_buffering(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 100);
  uint8_t buf[4 + 101];
  frame(buf, 101, 0);
  smbx_tcp_pdu p;
  size_t used;
  /* prefix arrives in pieces; the error comes with its last byte */
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 3, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 3, sizeof buf - 3, &used, &p),
                   SMBX_ERR_PROTO);
  assert_int_equal(used, 1);
  smbx_error_detail d;
  assert_int_equal(smbx_tcp_framer_error_detail(f, &d), SMBX_ERR_PROTO);
  assert_string_equal(d.reason, "direct tcp: message length above max_frame");
  assert_int_equal(d.offset, 1);
  assert_int_equal(ta.total, 1); /* nothing was buffered */
  /* exactly max is fine on a fresh framer */
  done(&ta, f);
  f = mk(&ta, 100);
  frame(buf, 100, 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 104, &used, &p), 1);
  assert_int_equal(p.len, 100);
  done(&ta, f);
}

static void smb2_1_first_byte_not_zero_is_sticky_proto_error(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1000);
  uint8_t buf[4 + 10 + 4 + 10];
  size_t a = frame(buf, 10, 0);
  frame(buf + a, 10, 0);
  buf[a] = 0x85; /* NetBIOS keepalive-like type byte */
  smbx_tcp_pdu p;
  size_t used;
  assert_int_equal(smbx_tcp_framer_feed(f, buf, sizeof buf, &used, &p), 1);
  assert_int_equal(used, a);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + a, sizeof buf - a, &used, &p),
                   SMBX_ERR_PROTO);
  assert_int_equal(used, 0);
  smbx_error_detail d;
  assert_int_equal(smbx_tcp_framer_error_detail(f, &d), SMBX_ERR_PROTO);
  assert_string_equal(d.reason, "direct tcp: first prefix byte is not 0x00");
  assert_int_equal(d.offset, a);
  /* sticky: even a valid frame is refused now */
  frame(buf, 10, 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 14, &used, &p), SMBX_ERR_PROTO);
  assert_int_equal(used, 0);
  done(&ta, f);
}

static void smb2_1_length_zero_is_proto_error(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1000);
  const uint8_t z[8] = {0, 0, 0, 0, 0xFE, 'S', 'M', 'B'};
  smbx_tcp_pdu p;
  size_t used;
  assert_int_equal(smbx_tcp_framer_feed(f, z, 2, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, z + 2, 6, &used, &p), SMBX_ERR_PROTO);
  assert_int_equal(used, 2);
  smbx_error_detail d;
  assert_int_equal(smbx_tcp_framer_error_detail(f, &d), SMBX_ERR_PROTO);
  assert_string_equal(d.reason, "direct tcp: message length 0");
  assert_int_equal(d.offset, 1);
  done(&ta, f);
}

static void smb2_1_healthy_framer_reports_no_error(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1000);
  smbx_error_detail d = {"x", 7};
  assert_int_equal(smbx_tcp_framer_error_detail(f, &d), 0);
  assert_null(d.reason);
  assert_int_equal(d.offset, 0);
  assert_int_equal(smbx_tcp_framer_error_detail(f, NULL), 0);
  assert_int_equal(smbx_tcp_framer_error_detail(NULL, &d), SMBX_ERR_INVAL);
  done(&ta, f);
}

static void tcp_invalid_arguments(void **state)
{
  (void)state;
  smbx_tcp_framer *f = NULL;
  assert_int_equal(smbx_tcp_framer_new(NULL, 10, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_new(&f, 0, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_new(&f, SMBX_TCP_MAX_FRAME + 1, NULL),
                   SMBX_ERR_INVAL);
  assert_null(f);
  smbx_allocator bad = *smbx_allocator_default();
  bad.alloc = NULL;
  assert_int_equal(smbx_tcp_framer_new(&f, 10, &bad), SMBX_ERR_INVAL);
  assert_null(f);
  assert_int_equal(smbx_tcp_framer_new(&f, 10, NULL), 0); /* default alloc */
  smbx_tcp_pdu p;
  size_t used = 5;
  uint8_t b[4] = {0};
  assert_int_equal(smbx_tcp_framer_feed(NULL, b, 4, &used, &p), SMBX_ERR_INVAL);
  assert_int_equal(used, 0);
  assert_int_equal(smbx_tcp_framer_feed(f, NULL, 4, &used, &p), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_feed(f, b, 4, NULL, &p), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_feed(f, b, 4, &used, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_feed(f, NULL, 0, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_reserve(f, 11), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_reserve(NULL, 1), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_framer_pending(NULL), 0);
  smbx_tcp_framer_free(f);
  smbx_tcp_framer_free(NULL);
}

static void tcp_reserve_preallocates_so_feeding_never_allocates(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 4096);
  assert_int_equal(smbx_tcp_framer_reserve(f, 0), 0);
  assert_int_equal(ta.total, 2);
  assert_int_equal(ta.live, 2);
  assert_true(ta.live_bytes >= 4096);
  uint8_t buf[4 + 4096];
  frame(buf, 4096, 1);
  smbx_tcp_pdu p;
  size_t used;
  for (int round = 0; round < 3; round++) {
    assert_int_equal(smbx_tcp_framer_feed(f, buf, 1000, &used, &p), 0);
    assert_int_equal(smbx_tcp_framer_feed(f, buf + 1000, sizeof buf - 1000,
                                          &used, &p),
                     1);
    assert_int_equal(p.copied, 1);
    check_body(&p, 4096, 1);
  }
  assert_int_equal(ta.total, 2);
  /* growing while a split message is in progress would lose it */
  smbx_tcp_framer_free(f);
  f = mk(&ta, 4096);
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 10, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_pending(f), 6);
  assert_int_equal(smbx_tcp_framer_reserve(f, 4096), 0); /* cap is 4096 */
  frame(buf, 2000, 1);
  smbx_tcp_framer_free(f);
  f = mk(&ta, 4096);
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 10, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_reserve(f, 4096), SMBX_ERR_STATE);
  assert_int_equal(smbx_tcp_framer_reserve(f, 1000), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 10, 1994, &used, &p), 1);
  check_body(&p, 2000, 1);
  done(&ta, f);
}

static void tcp_growth_keeps_largest_buffer(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 16);
  static uint8_t buf[4 + 5000];
  smbx_tcp_pdu p;
  size_t used;
  size_t sizes[] = {100, 5000, 3000, 5000, 10};
  for (size_t i = 0; i < 5; i++) {
    size_t n = frame(buf, sizes[i], (uint8_t)i);
    assert_int_equal(smbx_tcp_framer_feed(f, buf, 5, &used, &p), 0);
    assert_int_equal(smbx_tcp_framer_feed(f, buf + 5, n - 5, &used, &p), 1);
    check_body(&p, sizes[i], (uint8_t)i);
  }
  /* framer + 100-byte buffer + 5000-byte buffer, then no more */
  assert_int_equal(ta.total, 3);
  assert_int_equal(ta.live, 2);
  done(&ta, f);
}

static int split_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  smbx_tcp_framer *f = NULL;
  int rc = smbx_tcp_framer_new(&f, 1 << 16, &ta->a);
  if (rc < 0)
    return rc;
  uint8_t buf[4 + 300];
  frame(buf, 300, 7);
  smbx_tcp_pdu p;
  size_t used;
  rc = smbx_tcp_framer_feed(f, buf, 100, &used, &p);
  if (rc == SMBX_ERR_NOMEM) {
    /* nothing lost: the prefix was kept, the rest can be fed again after
     * the allocator recovers */
    assert_int_equal(used, 4);
    assert_int_equal(smbx_tcp_framer_error_detail(f, NULL), 0);
    smbx_tcp_framer_free(f);
    return rc;
  }
  assert_int_equal(rc, 0);
  rc = smbx_tcp_framer_feed(f, buf + 100, sizeof buf - 100, &used, &p);
  assert_int_equal(rc, 1);
  check_body(&p, 300, 7);
  smbx_tcp_framer_free(f);
  return 0;
}

static void tcp_allocation_failure_each_step(void **state)
{
  (void)state;
  assert_int_equal(test_alloc_each_failure(split_scenario, NULL), 2);
}

static void tcp_nomem_then_retry_completes(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 1 << 16);
  uint8_t buf[4 + 300];
  frame(buf, 300, 7);
  smbx_tcp_pdu p;
  size_t used;
  test_alloc_fail_nth(&ta, 1);
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 100, &used, &p), SMBX_ERR_NOMEM);
  assert_int_equal(used, 4);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 4, 96, &used, &p), 0);
  assert_int_equal(used, 96);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 100, 204, &used, &p), 1);
  check_body(&p, 300, 7);
  done(&ta, f);
}

static void tcp_reserve_nomem_leaves_framer_usable(void **state)
{
  (void)state;
  test_alloc ta;
  smbx_tcp_framer *f = mk(&ta, 4096);
  test_alloc_fail_nth(&ta, 1);
  assert_int_equal(smbx_tcp_framer_reserve(f, 0), SMBX_ERR_NOMEM);
  assert_int_equal(ta.live, 1);
  assert_int_equal(smbx_tcp_framer_error_detail(f, NULL), 0);
  uint8_t buf[4 + 200];
  frame(buf, 200, 3);
  smbx_tcp_pdu p;
  size_t used;
  assert_int_equal(smbx_tcp_framer_feed(f, buf, 50, &used, &p), 0);
  assert_int_equal(smbx_tcp_framer_feed(f, buf + 50, 154, &used, &p), 1);
  check_body(&p, 200, 3);
  done(&ta, f);
}

static void tcp_encode_and_decode_prefix(void **state)
{
  (void)state;
  uint8_t b[8] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
  assert_int_equal(smbx_tcp_encode_prefix(b, sizeof b, 0x123456), 4);
  const uint8_t want[5] = {0, 0x12, 0x34, 0x56, 0xAA};
  assert_memory_equal(b, want, 5);
  assert_int_equal(smbx_tcp_encode_prefix(b, 8, 0), SMBX_ERR_RANGE);
  assert_int_equal(smbx_tcp_encode_prefix(b, 8, SMBX_TCP_MAX_FRAME + 1),
                   SMBX_ERR_RANGE);
  assert_int_equal(smbx_tcp_encode_prefix(b, 3, 10), SMBX_ERR_NOBUF);
  assert_int_equal(smbx_tcp_encode_prefix(NULL, 4, 10), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_encode_prefix(b, 4, SMBX_TCP_MAX_FRAME), 4);
  uint32_t n = 0;
  assert_int_equal(smbx_tcp_decode_prefix(b, 4, &n), 0);
  assert_int_equal(n, SMBX_TCP_MAX_FRAME);
  assert_int_equal(smbx_tcp_decode_prefix(b, 3, &n), SMBX_ERR_NOBUF);
  assert_int_equal(smbx_tcp_decode_prefix(b, 4, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_tcp_decode_prefix(NULL, 4, &n), SMBX_ERR_INVAL);
  b[0] = 1;
  assert_int_equal(smbx_tcp_decode_prefix(b, 4, &n), SMBX_ERR_DECODE);
  const uint8_t z[4] = {0};
  assert_int_equal(smbx_tcp_decode_prefix(z, 4, &n), SMBX_ERR_DECODE);
}

/* Every split point of a 3-message stream gives the same messages, and
 * messages that fall wholly inside one piece are never copied. */
static void smb2_case_1_every_two_way_split(void **state)
{
  (void)state;
  uint8_t buf[3 * 4 + 20 + 1 + 33];
  size_t a = frame(buf, 20, 1);
  size_t b = frame(buf + a, 1, 50);
  size_t c = frame(buf + a + b, 33, 90);
  size_t total = a + b + c;
  const size_t ends[3] = {a, a + b, total};
  for (size_t cut = 0; cut <= total; cut++) {
    test_alloc ta;
    smbx_tcp_framer *f = mk(&ta, 64);
    size_t got = 0, pos = 0;
    const uint8_t *piece[2] = {buf, buf + cut};
    size_t plen[2] = {cut, total - cut};
    for (int k = 0; k < 2; k++) {
      size_t o = 0;
      while (o < plen[k]) {
        smbx_tcp_pdu p;
        size_t used;
        int rc = smbx_tcp_framer_feed(f, piece[k] + o, plen[k] - o, &used, &p);
        assert_true(rc >= 0);
        o += used;
        pos += used;
        if (rc == 1) {
          assert_int_equal(pos, ends[got]);
          size_t start = got ? ends[got - 1] : 0;
          bool inside = (start + 4 >= cut) || (ends[got] <= cut);
          assert_int_equal(p.copied, inside ? 0 : 1);
          if (inside)
            assert_ptr_equal(p.data, buf + start + 4);
          assert_memory_equal(p.data, buf + start + 4, ends[got] - start - 4);
          got++;
        } else {
          assert_int_equal(o, plen[k]);
        }
      }
    }
    assert_int_equal(got, 3);
    done(&ta, f);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smb2_case_1_one_pdu_delivered_in_place),
      cmocka_unit_test(smb2_case_1_two_pdus_in_one_feed),
      cmocka_unit_test(smb2_case_1_pdu_fed_byte_by_byte),
      cmocka_unit_test(smb2_case_1_prefix_split_1_plus_3),
      cmocka_unit_test(smb2_case_1_length_ffffff_accepted_only_if_within_max),
      cmocka_unit_test(smb2_case_1_every_two_way_split),
      cmocka_unit_test(smb2_1_length_above_max_rejected_before_buffering),
      cmocka_unit_test(smb2_1_first_byte_not_zero_is_sticky_proto_error),
      cmocka_unit_test(smb2_1_length_zero_is_proto_error),
      cmocka_unit_test(smb2_1_healthy_framer_reports_no_error),
      cmocka_unit_test(tcp_invalid_arguments),
      cmocka_unit_test(tcp_reserve_preallocates_so_feeding_never_allocates),
      cmocka_unit_test(tcp_growth_keeps_largest_buffer),
      cmocka_unit_test(tcp_allocation_failure_each_step),
      cmocka_unit_test(tcp_nomem_then_retry_completes),
      cmocka_unit_test(tcp_reserve_nomem_leaves_framer_usable),
      cmocka_unit_test(tcp_encode_and_decode_prefix),
  };
  return RUN_TESTS(tests);
}
