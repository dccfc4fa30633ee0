/* SPDX-License-Identifier: MIT */
/* Boundary cases for every cursor function in lib/core/cursor.h. */
#include "test_main.h"

#include "core/cursor.h"

static const uint8_t seq[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static void rd_reads_little_endian(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, sizeof seq);
  assert_int_equal(smbx__rd_u8(&r), 0x01);
  assert_int_equal(smbx__rd_u16(&r), 0x0302);
  assert_int_equal(smbx__rd_u32(&r), 0x07060504u);
  assert_int_equal(smbx__rd_u64(&r), 0x0f0e0d0c0b0a0908ull);
  assert_false(r.bad);
  assert_int_equal(smbx__rd_left(&r), 1);
  assert_int_equal(smbx__rd_u8(&r), 0x10);
  assert_int_equal(smbx__rd_left(&r), 0);
  assert_false(r.bad);
}

/* For each width, reading exactly to the end works and one byte short fails. */
static void rd_each_width_exact_end_and_one_short(void **state)
{
  (void)state;
  static const size_t widths[] = {1, 2, 4, 8};
  for (size_t i = 0; i < 4; i++) {
    size_t w = widths[i];
    smbx__rd ok = smbx__rd_make(seq, w);
    smbx__rd shortr = smbx__rd_make(seq, w - 1);
    uint64_t v_ok = 0, v_short = 1;
    switch (w) {
    case 1: v_ok = smbx__rd_u8(&ok); v_short = smbx__rd_u8(&shortr); break;
    case 2: v_ok = smbx__rd_u16(&ok); v_short = smbx__rd_u16(&shortr); break;
    case 4: v_ok = smbx__rd_u32(&ok); v_short = smbx__rd_u32(&shortr); break;
    default: v_ok = smbx__rd_u64(&ok); v_short = smbx__rd_u64(&shortr); break;
    }
    assert_false(ok.bad);
    assert_int_not_equal(v_ok, 0);
    assert_int_equal(ok.off, w);
    assert_true(shortr.bad);
    assert_int_equal(v_short, 0);
    assert_int_equal(shortr.off, 0);
  }
}

static void rd_error_is_sticky(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, 3);
  assert_int_equal(smbx__rd_u32(&r), 0);
  assert_true(r.bad);
  /* a 1-byte read would fit, but the cursor is already bad */
  assert_int_equal(smbx__rd_u8(&r), 0);
  assert_int_equal(smbx__rd_left(&r), 0);
  assert_null(smbx__rd_take(&r, 0));
}

static void rd_take_zero_at_end_is_ok(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, 2);
  smbx__rd_skip(&r, 2);
  assert_non_null(smbx__rd_take(&r, 0));
  assert_false(r.bad);
  smbx__rd_skip(&r, 1);
  assert_true(r.bad);
}

static void rd_take_huge_length_does_not_wrap(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, sizeof seq);
  smbx__rd_skip(&r, 4);
  assert_null(smbx__rd_take(&r, SIZE_MAX));
  assert_true(r.bad);
  smbx__rd r2 = smbx__rd_make(seq, sizeof seq);
  assert_null(smbx__rd_take(&r2, SIZE_MAX - 2));
  assert_true(r2.bad);
}

static void rd_null_buffer_is_empty(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(NULL, 100);
  assert_int_equal(smbx__rd_left(&r), 0);
  assert_int_equal(smbx__rd_u8(&r), 0);
  assert_true(r.bad);
}

static void rd_copy_in_bounds_and_zero_fill_on_overrun(void **state)
{
  (void)state;
  uint8_t out[8];
  smbx__rd r = smbx__rd_make(seq, 10);
  smbx__rd_copy(&r, out, 8);
  assert_memory_equal(out, seq, 8);
  memset(out, 0xAA, sizeof out);
  smbx__rd_copy(&r, out, 3); /* only 2 left */
  assert_true(r.bad);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(out[i], 0);
  assert_int_equal(out[3], 0xAA);
}

static void rd_seek_inside_at_end_and_past_end(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, 8);
  smbx__rd_seek(&r, 6);
  assert_int_equal(smbx__rd_u16(&r), 0x0807);
  smbx__rd_seek(&r, 8);
  assert_false(r.bad);
  assert_int_equal(smbx__rd_left(&r), 0);
  smbx__rd_seek(&r, 0);
  assert_int_equal(smbx__rd_u8(&r), 1);
  smbx__rd_seek(&r, 9);
  assert_true(r.bad);
}

static void rd_align8_from_each_offset(void **state)
{
  (void)state;
  for (size_t off = 0; off <= 16; off++) {
    smbx__rd r = smbx__rd_make(seq, sizeof seq);
    smbx__rd_seek(&r, off);
    smbx__rd_align8(&r);
    assert_false(r.bad);
    assert_int_equal(r.off, (off + 7) / 8 * 8);
  }
  /* padding missing at the end of the buffer */
  smbx__rd r = smbx__rd_make(seq, 12);
  smbx__rd_seek(&r, 9);
  smbx__rd_align8(&r);
  assert_true(r.bad);
}

static void rd_sub_cursor_is_bounded(void **state)
{
  (void)state;
  smbx__rd r = smbx__rd_make(seq, sizeof seq);
  smbx__rd_skip(&r, 2);
  smbx__rd s = smbx__rd_sub(&r, 4);
  assert_false(r.bad);
  assert_int_equal(r.off, 6);
  assert_int_equal(smbx__rd_u32(&s), 0x06050403u);
  assert_false(s.bad);
  assert_int_equal(smbx__rd_u8(&s), 0);
  assert_true(s.bad);
  assert_false(r.bad); /* the parent is unaffected by the child's overrun */
  smbx__rd s2 = smbx__rd_sub(&r, 11);
  assert_true(s2.bad);
  assert_true(r.bad);
}

static void wr_writes_little_endian(void **state)
{
  (void)state;
  uint8_t buf[16];
  smbx__wr w = smbx__wr_make(buf, sizeof buf);
  smbx__wr_u8(&w, 0x01);
  smbx__wr_u16(&w, 0x0302);
  smbx__wr_u32(&w, 0x07060504u);
  smbx__wr_u64(&w, 0x0f0e0d0c0b0a0908ull);
  smbx__wr_u8(&w, 0x10);
  assert_false(w.bad);
  assert_int_equal(w.off, 16);
  assert_int_equal(w.need, 16);
  assert_memory_equal(buf, seq, 16);
}

static void wr_overrun_counts_need_and_writes_nothing(void **state)
{
  (void)state;
  uint8_t buf[6];
  memset(buf, 0xEE, sizeof buf);
  smbx__wr w = smbx__wr_make(buf, 5);
  smbx__wr_u32(&w, 0x11223344u);
  smbx__wr_u16(&w, 0x5566); /* needs 6, has 5 */
  assert_true(w.bad);
  assert_int_equal(w.off, 4);
  assert_int_equal(buf[4], 0xEE);
  assert_int_equal(buf[5], 0xEE);
  smbx__wr_u64(&w, 1);
  smbx__wr_zero(&w, 10);
  assert_int_equal(w.need, 4 + 2 + 8 + 10);
  assert_int_equal(w.off, 4);
}

static void wr_each_width_exact_capacity(void **state)
{
  (void)state;
  uint8_t buf[8];
  static const size_t widths[] = {1, 2, 4, 8};
  for (size_t i = 0; i < 4; i++) {
    size_t n = widths[i];
    smbx__wr ok = smbx__wr_make(buf, n);
    smbx__wr shortw = smbx__wr_make(buf, n - 1);
    switch (n) {
    case 1: smbx__wr_u8(&ok, 1); smbx__wr_u8(&shortw, 1); break;
    case 2: smbx__wr_u16(&ok, 1); smbx__wr_u16(&shortw, 1); break;
    case 4: smbx__wr_u32(&ok, 1); smbx__wr_u32(&shortw, 1); break;
    default: smbx__wr_u64(&ok, 1); smbx__wr_u64(&shortw, 1); break;
    }
    assert_false(ok.bad);
    assert_int_equal(ok.off, n);
    assert_true(shortw.bad);
    assert_int_equal(shortw.off, 0);
    assert_int_equal(shortw.need, n);
  }
}

static void wr_bytes_zero_and_align8(void **state)
{
  (void)state;
  uint8_t buf[24];
  memset(buf, 0xEE, sizeof buf);
  smbx__wr w = smbx__wr_make(buf, sizeof buf);
  smbx__wr_bytes(&w, seq, 3);
  smbx__wr_align8(&w);
  assert_int_equal(w.off, 8);
  assert_memory_equal(buf, seq, 3);
  for (size_t i = 3; i < 8; i++)
    assert_int_equal(buf[i], 0);
  smbx__wr_align8(&w); /* already aligned: no-op */
  assert_int_equal(w.off, 8);
  smbx__wr_zero(&w, 16);
  assert_false(w.bad);
  smbx__wr_zero(&w, 1);
  assert_true(w.bad);
  smbx__wr_bytes(&w, NULL, 0);
  assert_int_equal(w.need, 25);
}

static void wr_need_saturates_instead_of_wrapping(void **state)
{
  (void)state;
  smbx__wr w = smbx__wr_make(NULL, 0);
  assert_null(smbx__wr_take(&w, SIZE_MAX - 1));
  assert_null(smbx__wr_take(&w, 4));
  assert_true(w.bad);
  assert_int_equal(w.need, SIZE_MAX);
}

static void fixed_position_helpers_round_trip(void **state)
{
  (void)state;
  uint8_t b[8];
  smbx__put_le16(b, 0xBEEF);
  assert_int_equal(smbx__get_le16(b), 0xBEEF);
  smbx__put_le32(b, 0xDEADBEEFu);
  assert_int_equal(smbx__get_le32(b), 0xDEADBEEFu);
  assert_int_equal(b[0], 0xEF);
  smbx__put_le64(b, 0x0123456789ABCDEFull);
  assert_int_equal(smbx__get_le64(b), 0x0123456789ABCDEFull);
  assert_int_equal(b[7], 0x01);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(rd_reads_little_endian),
    cmocka_unit_test(rd_each_width_exact_end_and_one_short),
    cmocka_unit_test(rd_error_is_sticky),
    cmocka_unit_test(rd_take_zero_at_end_is_ok),
    cmocka_unit_test(rd_take_huge_length_does_not_wrap),
    cmocka_unit_test(rd_null_buffer_is_empty),
    cmocka_unit_test(rd_copy_in_bounds_and_zero_fill_on_overrun),
    cmocka_unit_test(rd_seek_inside_at_end_and_past_end),
    cmocka_unit_test(rd_align8_from_each_offset),
    cmocka_unit_test(rd_sub_cursor_is_bounded),
    cmocka_unit_test(wr_writes_little_endian),
    cmocka_unit_test(wr_overrun_counts_need_and_writes_nothing),
    cmocka_unit_test(wr_each_width_exact_capacity),
    cmocka_unit_test(wr_bytes_zero_and_align8),
    cmocka_unit_test(wr_need_saturates_instead_of_wrapping),
    cmocka_unit_test(fixed_position_helpers_round_trip),
  };
  return RUN_TESTS(tests);
}
