/* SPDX-License-Identifier: MIT */
/* Helpers for the I/O-command codec tests (test_smb2_io/_dir/_ioctl/_info):
 * round trips against independent vectors, truncation at every byte, and
 * patching fields of a vector copy. */
#ifndef SMBX_TESTS_SMB2_IO_TEST_H
#define SMBX_TESTS_SMB2_IO_TEST_H

#include <stdlib.h>

#include "test_main.h"

#include <smbx/smb2.h>

typedef int (*io_dec_fn)(const uint8_t *p, size_t n, void *out,
                         smbx_error_detail *err);
typedef smbx_ssize (*io_enc_fn)(const smbx_smb2_hdr *h, const void *in,
                                uint8_t *buf, size_t cap, size_t *needed);

/* Typed adapters for a command codec smbx_smb2_{de,en}code_<name>. */
#define IO_CODEC(name, T)                                                     \
  __attribute__((unused)) static int dec_##name(                              \
      const uint8_t *p, size_t n, void *o, smbx_error_detail *e)              \
  {                                                                           \
    return smbx_smb2_decode_##name(p, n, (T *)o, e);                          \
  }                                                                           \
  __attribute__((unused)) static smbx_ssize enc_##name(                       \
      const smbx_smb2_hdr *h, const void *i, uint8_t *b, size_t c,            \
      size_t *nd)                                                             \
  {                                                                           \
    return smbx_smb2_encode_##name(h, (const T *)i, b, c, nd);                \
  }

/* An exact-size heap copy, so ASan flags any read past `n`. */
static inline uint8_t *io_dup(const uint8_t *p, size_t n)
{
  uint8_t *b = malloc(n ? n : 1);
  assert_non_null(b);
  if (n)
    memcpy(b, p, n);
  return b;
}

static inline void io_put16(uint8_t *p, size_t off, uint16_t v)
{
  p[off] = (uint8_t)v;
  p[off + 1] = (uint8_t)(v >> 8);
}

static inline void io_put32(uint8_t *p, size_t off, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* Decodes `vec` (a canonical encoding), re-encodes it with its own header
 * and requires the same bytes; then checks NOBUF with every smaller
 * capacity reports the full size, and a second decode/encode cycle.
 * `st` must hold the decoded struct; returns with `st` decoded from a
 * buffer the caller must free (*keep). */
static inline void io_round_trip(const uint8_t *vec, size_t len,
                                 io_dec_fn dec, io_enc_fn enc, void *st,
                                 uint8_t **keep)
{
  smbx_smb2_hdr h;
  smbx_error_detail e = {0, 0};
  assert_int_equal(smbx_smb2_hdr_decode(vec, len, &h, NULL), 0);
  uint8_t *in = io_dup(vec, len);
  int rc = dec(in, len, st, &e);
  if (rc)
    fail_msg("decode failed: %s at %zu", e.reason, e.offset);
  uint8_t *out = malloc(len + 64);
  assert_non_null(out);
  size_t need = 0;
  assert_int_equal(enc(&h, st, out, len + 64, &need), (smbx_ssize)len);
  assert_int_equal(need, len);
  assert_memory_equal(out, vec, len);
  for (size_t cap = 0; cap < len; cap += (cap < 130 ? 1 : 97)) {
    need = 0;
    assert_int_equal(enc(&h, st, cap ? out : NULL, cap, &need),
                     cap ? SMBX_ERR_NOBUF : SMBX_ERR_NOBUF);
    assert_int_equal(need, len);
  }
  assert_memory_equal(out, vec, len); /* NOBUF wrote nothing */
  /* second cycle from the encoder's own output */
  uint8_t *in2 = io_dup(out, len);
  assert_int_equal(dec(in2, len, st, NULL), 0);
  assert_int_equal(enc(&h, st, out, len, NULL), (smbx_ssize)len);
  assert_memory_equal(out, vec, len);
  free(in2);
  free(out);
  assert_int_equal(dec(in, len, st, NULL), 0);
  *keep = in;
}

/* Every prefix shorter than ok_from must fail with SMBX_ERR_DECODE; the
 * prefixes from ok_from on (a trailing pad byte) must decode. Each prefix
 * lives in an exact-size buffer. */
static inline void io_truncations(const uint8_t *vec, size_t len,
                                  io_dec_fn dec, void *st, size_t ok_from)
{
  for (size_t l = 0; l < len; l++) {
    uint8_t *b = io_dup(vec, l);
    smbx_error_detail e = {NULL, 0};
    int rc = dec(b, l, st, &e);
    if (l >= ok_from) {
      assert_int_equal(rc, 0);
    } else {
      if (rc != SMBX_ERR_DECODE)
        fail_msg("prefix %zu of %zu: rc %d", l, len, rc);
      assert_non_null(e.reason);
    }
    free(b);
  }
}

/* Decodes a patched copy and expects SMBX_ERR_DECODE; returns the detail. */
static inline smbx_error_detail io_expect_fail(const uint8_t *p, size_t len,
                                               io_dec_fn dec, void *st)
{
  smbx_error_detail e = {NULL, 0};
  uint8_t *b = io_dup(p, len);
  int rc = dec(b, len, st, &e);
  free(b);
  if (rc != SMBX_ERR_DECODE)
    fail_msg("expected SMBX_ERR_DECODE, got %d", rc);
  assert_non_null(e.reason);
  return e;
}

#endif
