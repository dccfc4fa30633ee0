/* SPDX-License-Identifier: MIT */
/* smbx_utf16le_to_utf8 / smbx_utf8_to_utf16le: RFC 2781 (UTF-16) and
 * RFC 3629 (UTF-8) validity rules, exact NOBUF sizes and no writes past
 * cap. The reference encoder below is written from the RFCs' tables and
 * used to check the library over every code point. */
#include "test_main.h"

#include <stdlib.h>

/* RFC 3629 section 3 table. */
static size_t ref_utf8(uint32_t cp, uint8_t *o)
{
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xC0 | cp >> 6);
    o[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xE0 | cp >> 12);
    o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | cp >> 18);
  o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* RFC 2781 section 2.1, little-endian. */
static size_t ref_utf16(uint32_t cp, uint8_t *o)
{
  if (cp < 0x10000) {
    o[0] = (uint8_t)cp;
    o[1] = (uint8_t)(cp >> 8);
    return 2;
  }
  uint32_t u = cp - 0x10000, hi = 0xD800 | u >> 10, lo = 0xDC00 | (u & 0x3FF);
  o[0] = (uint8_t)hi;
  o[1] = (uint8_t)(hi >> 8);
  o[2] = (uint8_t)lo;
  o[3] = (uint8_t)(lo >> 8);
  return 4;
}

typedef int (*conv_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *);

/* Converts src with a canary-guarded buffer of exactly cap bytes; checks
 * nothing is written at or past cap. */
static int conv_guarded(conv_fn f, const uint8_t *src, size_t len,
                        uint8_t *out, size_t cap, size_t *out_len)
{
  uint8_t *buf = malloc(cap + 16);
  assert_non_null(buf);
  memset(buf, 0xCC, cap + 16);
  int rc = f(src, len, cap ? buf : NULL, cap, out_len);
  for (size_t i = cap; i < cap + 16; i++)
    assert_int_equal(buf[i], 0xCC);
  if (out && cap)
    memcpy(out, buf, cap);
  free(buf);
  return rc;
}

static void expect_ok(conv_fn f, const uint8_t *src, size_t len,
                      const uint8_t *want, size_t want_len)
{
  uint8_t out[64];
  size_t n = 12345;
  assert_true(want_len <= sizeof out);
  assert_int_equal(conv_guarded(f, src, len, out, want_len, &n), 0);
  assert_int_equal(n, want_len);
  assert_memory_equal(out, want, want_len);
  /* and with room to spare */
  n = 12345;
  assert_int_equal(conv_guarded(f, src, len, out, sizeof out, &n), 0);
  assert_int_equal(n, want_len);
  assert_memory_equal(out, want, want_len);
}

static void expect_encoding(conv_fn f, const uint8_t *src, size_t len)
{
  size_t n = 12345;
  assert_int_equal(conv_guarded(f, src, len, NULL, 64, &n),
                   SMBX_ERR_ENCODING);
  assert_int_equal(n, 0);
  /* also when the buffer is too small: the error is ENCODING, not NOBUF */
  n = 12345;
  assert_int_equal(conv_guarded(f, src, len, NULL, 0, &n), SMBX_ERR_ENCODING);
}

#define U16(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void utf16_null_arguments(void **state)
{
  (void)state;
  uint8_t src[2] = {'a', 0}, dst[8];
  size_t n;
  assert_int_equal(smbx_utf16le_to_utf8(src, 2, dst, 8, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_utf8_to_utf16le(src, 1, dst, 8, NULL), SMBX_ERR_INVAL);
  assert_int_equal(smbx_utf16le_to_utf8(NULL, 2, dst, 8, &n), SMBX_ERR_INVAL);
  assert_int_equal(smbx_utf8_to_utf16le(NULL, 1, dst, 8, &n), SMBX_ERR_INVAL);
  assert_int_equal(smbx_utf16le_to_utf8(src, 2, NULL, 8, &n), SMBX_ERR_INVAL);
  assert_int_equal(smbx_utf8_to_utf16le(src, 1, NULL, 8, &n), SMBX_ERR_INVAL);
  /* NULL with length 0 / capacity 0 is fine */
  n = 99;
  assert_int_equal(smbx_utf16le_to_utf8(NULL, 0, NULL, 0, &n), 0);
  assert_int_equal(n, 0);
  n = 99;
  assert_int_equal(smbx_utf8_to_utf16le(NULL, 0, NULL, 0, &n), 0);
  assert_int_equal(n, 0);
  /* NULL dst with cap 0 asks for the size */
  n = 0;
  assert_int_equal(smbx_utf16le_to_utf8(src, 2, NULL, 0, &n), SMBX_ERR_NOBUF);
  assert_int_equal(n, 1);
  n = 0;
  assert_int_equal(smbx_utf8_to_utf16le(src, 1, NULL, 0, &n), SMBX_ERR_NOBUF);
  assert_int_equal(n, 2);
}

static void rfc2781_odd_length_rejected(void **state)
{
  (void)state;
  static const uint8_t s[7] = {'a', 0, 'b', 0, 'c', 0, 'd'};
  for (size_t len = 1; len <= 7; len += 2)
    expect_encoding(smbx_utf16le_to_utf8, s, len);
}

static void rfc2781_unpaired_high_surrogate_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf16le_to_utf8;
  expect_encoding(f, U16(0x00, 0xD8));                        /* alone */
  expect_encoding(f, U16(0x00, 0xD8, 0x41, 0x00));            /* start */
  expect_encoding(f, U16(0x41, 0x00, 0xFF, 0xDB, 0x42, 0x00)); /* middle */
  expect_encoding(f, U16(0x41, 0x00, 0x00, 0xD8));            /* end */
  /* high followed by high, then a valid low */
  expect_encoding(f, U16(0x00, 0xD8, 0x00, 0xD8, 0x00, 0xDC));
  /* high followed by a BMP character just past the low range */
  expect_encoding(f, U16(0x00, 0xD8, 0x00, 0xE0));
  /* high followed by one just below it */
  expect_encoding(f, U16(0x00, 0xD8, 0xFF, 0xD7));
  /* high then an odd trailing byte */
  expect_encoding(f, U16(0x00, 0xD8, 0x00));
}

static void rfc2781_unpaired_low_surrogate_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf16le_to_utf8;
  expect_encoding(f, U16(0x00, 0xDC));
  expect_encoding(f, U16(0xFF, 0xDF, 0x41, 0x00));
  expect_encoding(f, U16(0x41, 0x00, 0x00, 0xDC, 0x42, 0x00));
  expect_encoding(f, U16(0x41, 0x00, 0xFF, 0xDF));
  /* low then high: reversed pair */
  expect_encoding(f, U16(0x00, 0xDC, 0x00, 0xD8));
  /* a valid pair followed by a stray low */
  expect_encoding(f, U16(0x00, 0xD8, 0x00, 0xDC, 0x00, 0xDC));
}

static void rfc2781_surrogate_pairs_decode(void **state)
{
  (void)state;
  conv_fn f = smbx_utf16le_to_utf8;
  /* U+10000 */
  expect_ok(f, U16(0x00, 0xD8, 0x00, 0xDC), U16(0xF0, 0x90, 0x80, 0x80));
  /* U+10FFFF */
  expect_ok(f, U16(0xFF, 0xDB, 0xFF, 0xDF), U16(0xF4, 0x8F, 0xBF, 0xBF));
  /* U+1F600 between ASCII */
  expect_ok(f, U16(0x41, 0x00, 0x3D, 0xD8, 0x00, 0xDE, 0x42, 0x00),
            U16(0x41, 0xF0, 0x9F, 0x98, 0x80, 0x42));
  /* two pairs back to back */
  expect_ok(f, U16(0x00, 0xD8, 0x00, 0xDC, 0xFF, 0xDB, 0xFF, 0xDF),
            U16(0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF));
}

static void rfc3629_bmp_edges_both_ways(void **state)
{
  (void)state;
  static const uint32_t edges[] = {0x0,    0x1,    0x7F,   0x80,   0x7FF,
                                   0x800,  0xFFF,  0x1000, 0xD7FF, 0xE000,
                                   0xFFFD, 0xFFFE, 0xFFFF, 0x10000,
                                   0x10FFFF};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    uint8_t u8[4], u16[4];
    size_t n8 = ref_utf8(edges[i], u8), n16 = ref_utf16(edges[i], u16);
    expect_ok(smbx_utf16le_to_utf8, u16, n16, u8, n8);
    expect_ok(smbx_utf8_to_utf16le, u8, n8, u16, n16);
  }
  /* spot check the reference against RFC 3629's examples */
  uint8_t o[4];
  assert_int_equal(ref_utf8(0xFFFF, o), 3);
  assert_memory_equal(o, "\xEF\xBF\xBF", 3);
  assert_int_equal(ref_utf8(0x10FFFF, o), 4);
  assert_memory_equal(o, "\xF4\x8F\xBF\xBF", 4);
  assert_int_equal(ref_utf8(0x7FF, o), 2);
  assert_memory_equal(o, "\xDF\xBF", 2);
}

static void rfc3629_overlong_forms_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf8_to_utf16le;
  expect_encoding(f, U16(0xC0, 0x80));             /* U+0000 in 2 bytes */
  expect_encoding(f, U16(0xC1, 0xBF));             /* U+007F in 2 bytes */
  expect_encoding(f, U16(0xE0, 0x80, 0x80));       /* U+0000 in 3 bytes */
  expect_encoding(f, U16(0xE0, 0x9F, 0xBF));       /* U+07FF in 3 bytes */
  expect_encoding(f, U16(0xF0, 0x80, 0x80, 0x80)); /* U+0000 in 4 bytes */
  expect_encoding(f, U16(0xF0, 0x8F, 0xBF, 0xBF)); /* U+FFFF in 4 bytes */
  expect_encoding(f, U16(0x41, 0xC0, 0xAF, 0x42)); /* overlong '/' inside */
  /* the shortest forms just above are fine */
  expect_ok(f, U16(0xC2, 0x80), U16(0x80, 0x00));
  expect_ok(f, U16(0xE0, 0xA0, 0x80), U16(0x00, 0x08));
  expect_ok(f, U16(0xF0, 0x90, 0x80, 0x80), U16(0x00, 0xD8, 0x00, 0xDC));
}

static void rfc3629_encoded_surrogates_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf8_to_utf16le;
  expect_encoding(f, U16(0xED, 0xA0, 0x80)); /* U+D800 */
  expect_encoding(f, U16(0xED, 0xAF, 0xBF)); /* U+DBFF */
  expect_encoding(f, U16(0xED, 0xB0, 0x80)); /* U+DC00 */
  expect_encoding(f, U16(0xED, 0xBF, 0xBF)); /* U+DFFF */
  /* CESU-8 style pair for U+10000 */
  expect_encoding(f, U16(0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80));
  /* neighbours are fine */
  expect_ok(f, U16(0xED, 0x9F, 0xBF), U16(0xFF, 0xD7));
  expect_ok(f, U16(0xEE, 0x80, 0x80), U16(0x00, 0xE0));
}

static void rfc3629_above_10ffff_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf8_to_utf16le;
  expect_encoding(f, U16(0xF4, 0x90, 0x80, 0x80)); /* U+110000 */
  expect_encoding(f, U16(0xF4, 0xBF, 0xBF, 0xBF));
  expect_encoding(f, U16(0xF5, 0x80, 0x80, 0x80));
  expect_encoding(f, U16(0xF7, 0xBF, 0xBF, 0xBF)); /* U+1FFFFF */
  expect_encoding(f, U16(0xF8, 0x88, 0x80, 0x80, 0x80)); /* 5-byte form */
  expect_encoding(f, U16(0xFC, 0x84, 0x80, 0x80, 0x80, 0x80));
  expect_encoding(f, U16(0xFE));
  expect_encoding(f, U16(0xFF));
  expect_ok(f, U16(0xF4, 0x8F, 0xBF, 0xBF), U16(0xFF, 0xDB, 0xFF, 0xDF));
}

static void rfc3629_truncated_and_stray_bytes_rejected(void **state)
{
  (void)state;
  conv_fn f = smbx_utf8_to_utf16le;
  expect_encoding(f, U16(0xC2));
  expect_encoding(f, U16(0xE0, 0xA0));
  expect_encoding(f, U16(0xE2));
  expect_encoding(f, U16(0xF0, 0x90, 0x80));
  expect_encoding(f, U16(0xF0, 0x90));
  expect_encoding(f, U16(0x41, 0x42, 0xF0, 0x9F, 0x98)); /* at the end */
  expect_encoding(f, U16(0xC2, 0x41));             /* ASCII where cont. due */
  expect_encoding(f, U16(0xE0, 0xA0, 0x41));
  expect_encoding(f, U16(0xF0, 0x90, 0x80, 0xC2, 0x80));
  expect_encoding(f, U16(0x80));                   /* bare continuation */
  expect_encoding(f, U16(0xBF));
  expect_encoding(f, U16(0x41, 0x80, 0x42));
  expect_encoding(f, U16(0xC2, 0x80, 0x80));       /* one too many */
}

/* Every scalar value converts both ways exactly as the reference says. */
static void rfc3629_every_code_point_round_trips(void **state)
{
  (void)state;
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF)
      continue;
    uint8_t u8[4], u16[4], o[8];
    size_t n8 = ref_utf8(cp, u8), n16 = ref_utf16(cp, u16), n = 0;
    if (smbx_utf16le_to_utf8(u16, n16, o, sizeof o, &n) != 0 || n != n8 ||
        memcmp(o, u8, n8) != 0)
      fail_msg("utf16->utf8 wrong for U+%04X", (unsigned)cp);
    if (smbx_utf8_to_utf16le(u8, n8, o, sizeof o, &n) != 0 || n != n16 ||
        memcmp(o, u16, n16) != 0)
      fail_msg("utf8->utf16 wrong for U+%04X", (unsigned)cp);
  }
  /* every lone 16-bit unit in the surrogate range is rejected */
  for (uint32_t u = 0xD800; u <= 0xDFFF; u++) {
    uint8_t s[2] = {(uint8_t)u, (uint8_t)(u >> 8)}, o[8];
    size_t n;
    assert_int_equal(smbx_utf16le_to_utf8(s, 2, o, sizeof o, &n),
                     SMBX_ERR_ENCODING);
  }
}

/* Accepts a 2- or 3-byte sequence exactly when RFC 3629's grammar does. */
static bool ref_valid_utf8(const uint8_t *s, size_t n)
{
  uint32_t cp;
  if (n == 2) {
    if (s[0] < 0xC2 || s[0] > 0xDF || (s[1] & 0xC0) != 0x80)
      return false;
    return true;
  }
  if (n == 3) {
    if ((s[0] & 0xF0) != 0xE0 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
      return false;
    cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
         (s[2] & 0x3F);
    return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
  }
  if ((s[0] & 0xF8) != 0xF0 || (s[1] & 0xC0) != 0x80 ||
      (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
    return false;
  cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
       (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
  return cp >= 0x10000 && cp <= 0x10FFFF;
}

/* Every 2- and 3-byte input whose lead byte is multi-byte, and 4-byte
 * inputs around the continuation boundaries: accepted iff valid. */
static void rfc3629_byte_sequences_match_grammar(void **state)
{
  (void)state;
  uint8_t s[4], o[8];
  size_t n;
  for (unsigned b0 = 0x80; b0 <= 0xFF; b0++)
    for (unsigned b1 = 0; b1 <= 0xFF; b1++) {
      s[0] = (uint8_t)b0;
      s[1] = (uint8_t)b1;
      int rc = smbx_utf8_to_utf16le(s, 2, o, sizeof o, &n);
      if ((rc == 0) != ref_valid_utf8(s, 2))
        fail_msg("2-byte %02X %02X: rc %d", b0, b1, rc);
    }
  for (unsigned b0 = 0xE0; b0 <= 0xEF; b0++)
    for (unsigned b1 = 0; b1 <= 0xFF; b1++)
      for (unsigned b2 = 0; b2 <= 0xFF; b2++) {
        s[0] = (uint8_t)b0;
        s[1] = (uint8_t)b1;
        s[2] = (uint8_t)b2;
        int rc = smbx_utf8_to_utf16le(s, 3, o, sizeof o, &n);
        if ((rc == 0) != ref_valid_utf8(s, 3))
          fail_msg("3-byte %02X %02X %02X: rc %d", b0, b1, b2, rc);
      }
  static const uint8_t edge[] = {0x00, 0x7F, 0x80, 0x8F, 0x90,
                                 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (unsigned b0 = 0xF0; b0 <= 0xFF; b0++)
    for (size_t i = 0; i < sizeof edge; i++)
      for (size_t j = 0; j < sizeof edge; j++)
        for (size_t k = 0; k < sizeof edge; k++) {
          s[0] = (uint8_t)b0;
          s[1] = edge[i];
          s[2] = edge[j];
          s[3] = edge[k];
          int rc = smbx_utf8_to_utf16le(s, 4, o, sizeof o, &n);
          if ((rc == 0) != ref_valid_utf8(s, 4))
            fail_msg("4-byte %02X %02X %02X %02X: rc %d", b0, s[1], s[2],
                     s[3], rc);
        }
}

/* For every cap from 0 to need-1 the result is NOBUF with the exact size
 * needed, and nothing is written at or past cap. */
static void check_nobuf_every_cap(conv_fn f, const uint8_t *src, size_t len,
                                  size_t need)
{
  for (size_t cap = 0; cap < need; cap++) {
    size_t n = 0;
    int rc = conv_guarded(f, src, len, NULL, cap, &n);
    if (rc != SMBX_ERR_NOBUF || n != need)
      fail_msg("cap %zu: rc %d, out_len %zu, want NOBUF and %zu", cap, rc, n,
               need);
  }
  size_t n = 0;
  assert_int_equal(conv_guarded(f, src, len, NULL, need, &n), 0);
  assert_int_equal(n, need);
}

static void nobuf_reports_exact_size_for_every_cap(void **state)
{
  (void)state;
  /* "a" U+00E9 U+20AC U+1F600 "z": 1+2+3+4+1 = 11 UTF-8 bytes, 12 UTF-16 */
  static const uint8_t u16[] = {0x61, 0x00, 0xE9, 0x00, 0xAC, 0x20,
                                0x3D, 0xD8, 0x00, 0xDE, 0x7A, 0x00};
  static const uint8_t u8[] = {0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC,
                               0xF0, 0x9F, 0x98, 0x80, 0x7A};
  check_nobuf_every_cap(smbx_utf16le_to_utf8, u16, sizeof u16, sizeof u8);
  check_nobuf_every_cap(smbx_utf8_to_utf16le, u8, sizeof u8, sizeof u16);
  expect_ok(smbx_utf16le_to_utf8, u16, sizeof u16, u8, sizeof u8);
  expect_ok(smbx_utf8_to_utf16le, u8, sizeof u8, u16, sizeof u16);
  /* only surrogate pairs (the widest UTF-16 unit) */
  static const uint8_t p16[] = {0x00, 0xD8, 0x00, 0xDC, 0xFF, 0xDB,
                                0xFF, 0xDF, 0x3D, 0xD8, 0x00, 0xDE};
  static const uint8_t p8[] = {0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F,
                               0xBF, 0xBF, 0xF0, 0x9F, 0x98, 0x80};
  check_nobuf_every_cap(smbx_utf16le_to_utf8, p16, sizeof p16, sizeof p8);
  check_nobuf_every_cap(smbx_utf8_to_utf16le, p8, sizeof p8, sizeof p16);
}

/* An error after the output has already overflowed is still ENCODING. */
static void encoding_error_wins_over_nobuf(void **state)
{
  (void)state;
  size_t n = 99;
  assert_int_equal(conv_guarded(smbx_utf16le_to_utf8,
                                U16(0x41, 0x00, 0x42, 0x00, 0x00, 0xD8), NULL,
                                1, &n),
                   SMBX_ERR_ENCODING);
  assert_int_equal(n, 0);
  n = 99;
  assert_int_equal(conv_guarded(smbx_utf8_to_utf16le,
                                U16(0x41, 0x42, 0x43, 0xC0, 0x80), NULL, 2,
                                &n),
                   SMBX_ERR_ENCODING);
  assert_int_equal(n, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(utf16_null_arguments),
    cmocka_unit_test(rfc2781_odd_length_rejected),
    cmocka_unit_test(rfc2781_unpaired_high_surrogate_rejected),
    cmocka_unit_test(rfc2781_unpaired_low_surrogate_rejected),
    cmocka_unit_test(rfc2781_surrogate_pairs_decode),
    cmocka_unit_test(rfc3629_bmp_edges_both_ways),
    cmocka_unit_test(rfc3629_overlong_forms_rejected),
    cmocka_unit_test(rfc3629_encoded_surrogates_rejected),
    cmocka_unit_test(rfc3629_above_10ffff_rejected),
    cmocka_unit_test(rfc3629_truncated_and_stray_bytes_rejected),
    cmocka_unit_test(rfc3629_every_code_point_round_trips),
    cmocka_unit_test(rfc3629_byte_sequences_match_grammar),
    cmocka_unit_test(nobuf_reports_exact_size_for_every_cap),
    cmocka_unit_test(encoding_error_wins_over_nobuf),
  };
  return RUN_TESTS(tests);
}
