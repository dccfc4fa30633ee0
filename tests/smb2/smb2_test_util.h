/* SPDX-License-Identifier: MIT */
/* Shared helpers of the lib/smb2 tests: a round-trip + truncation +
 * NOBUF harness driven by a table of (vector, decoder, encoder). */
#ifndef SMBX_TEST_SMB2_UTIL_H
#define SMBX_TEST_SMB2_UTIL_H

#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>

#include <smbx/smb2.h>

typedef int (*rt_dec_fn)(const uint8_t *p, size_t n, void *out,
                         smbx_error_detail *e);
typedef smbx_ssize (*rt_enc_fn)(const smbx_smb2_hdr *h, const void *in,
                                uint8_t *b, size_t cap, size_t *needed);

typedef struct rt_case {
  const char *name;
  const uint8_t *vec;
  size_t len;
  rt_dec_fn dec;
  rt_enc_fn enc;
  size_t out_size;
  int pad_byte; /* last byte is the counted byte of an odd SS (droppable) */
} rt_case;

/* Wrappers giving every decoder/encoder one signature. */
#define RT_WRAP(NAME, DEC, ENC, T)                                            \
  static int dec_##NAME(const uint8_t *p, size_t n, void *o,                  \
                        smbx_error_detail *e)                                 \
  {                                                                           \
    return DEC(p, n, (T *)o, e);                                              \
  }                                                                           \
  static smbx_ssize enc_##NAME(const smbx_smb2_hdr *h, const void *o,         \
                               uint8_t *b, size_t c, size_t *nd)              \
  {                                                                           \
    return ENC(h, (const T *)o, b, c, nd);                                    \
  }

#define RT_CASE(NAME, VEC, PAD, T)                                            \
  {#VEC, smb2_vec_##VEC, sizeof smb2_vec_##VEC, dec_##NAME, enc_##NAME,       \
   sizeof(T), PAD}

/* decode -> encode must reproduce the vector byte for byte, and the
 * second decode -> encode too. */
static inline void rt_check_roundtrip(const rt_case *c)
{
  uint8_t out[512], out2[512];
  uint8_t buf[4096], buf2[4096];
  smbx_smb2_hdr h;
  smbx_error_detail e = {NULL, 0};
  assert_true(c->out_size <= sizeof out);
  memset(out, 0, sizeof out);
  int rc = c->dec(c->vec, c->len, out, &e);
  if (rc)
    fprintf(stderr, "# %s: decode failed: %s @%zu\n", c->name,
            e.reason ? e.reason : "?", e.offset);
  assert_int_equal(rc, 0);
  assert_int_equal(smbx_smb2_hdr_decode(c->vec, c->len, &h, NULL), 0);
  assert_int_equal(smbx_smb2_pdu_validate(c->vec, c->len, NULL, &e), 0);
  size_t needed = 0;
  smbx_ssize n = c->enc(&h, out, buf, sizeof buf, &needed);
  if (n != (smbx_ssize)c->len)
    fprintf(stderr, "# %s: encoded %td bytes, vector %zu\n", c->name, n,
            c->len);
  assert_int_equal(n, (smbx_ssize)c->len);
  assert_int_equal(needed, c->len);
  for (size_t i = 0; i < c->len; i++)
    if (buf[i] != c->vec[i]) {
      fprintf(stderr, "# %s: byte %zu differs: %02x vs %02x\n", c->name, i,
              buf[i], c->vec[i]);
      fail();
    }
  memset(out2, 0, sizeof out2);
  assert_int_equal(c->dec(buf, (size_t)n, out2, NULL), 0);
  assert_int_equal(c->enc(&h, out2, buf2, sizeof buf2, NULL), n);
  assert_memory_equal(buf, buf2, (size_t)n);
}

/* Every truncation fails (except dropping the counted pad byte), reading
 * only what it was given: the copy sits in an exact-size heap block so
 * ASan flags any overread. */
static inline void rt_check_truncation(const rt_case *c)
{
  uint8_t out[512];
  for (size_t k = 0; k < c->len; k++) {
    uint8_t *p = malloc(k ? k : 1);
    assert_non_null(p);
    memcpy(p, c->vec, k);
    smbx_error_detail e = {NULL, 0};
    int rc = c->dec(p, k, out, &e);
    free(p);
    if (c->pad_byte && k == c->len - 1) {
      assert_int_equal(rc, 0);
      continue;
    }
    if (rc != SMBX_ERR_DECODE)
      fprintf(stderr, "# %s: truncation to %zu gave %d\n", c->name, k, rc);
    assert_int_equal(rc, SMBX_ERR_DECODE);
    assert_non_null(e.reason);
    assert_true(e.offset <= c->len);
  }
}

/* Any capacity below the size: SMBX_ERR_NOBUF, nothing written, the
 * needed size reported. */
static inline void rt_check_nobuf(const rt_case *c)
{
  uint8_t out[512];
  uint8_t buf[4096];
  smbx_smb2_hdr h;
  assert_int_equal(c->dec(c->vec, c->len, out, NULL), 0);
  assert_int_equal(smbx_smb2_hdr_decode(c->vec, c->len, &h, NULL), 0);
  for (size_t cap = 0; cap < c->len; cap++) {
    size_t needed = 0;
    memset(buf, 0xEE, sizeof buf);
    assert_int_equal(c->enc(&h, out, buf, cap, &needed), SMBX_ERR_NOBUF);
    assert_int_equal(needed, c->len);
    for (size_t i = 0; i < cap; i++)
      assert_int_equal(buf[i], 0xEE);
  }
  assert_int_equal(c->enc(NULL, out, buf, sizeof buf, NULL), SMBX_ERR_INVAL);
  assert_int_equal(c->enc(&h, NULL, buf, sizeof buf, NULL), SMBX_ERR_INVAL);
}

static inline void rt_run_table(const rt_case *t, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    rt_check_roundtrip(&t[i]);
    rt_check_truncation(&t[i]);
    rt_check_nobuf(&t[i]);
  }
}

/* Copy of a vector for hostile edits. */
static inline uint8_t *vec_dup(const uint8_t *v, size_t n, size_t extra)
{
  uint8_t *p = calloc(1, n + extra + 1);
  assert_non_null(p);
  memcpy(p, v, n);
  return p;
}

static inline void put16(uint8_t *p, size_t off, uint16_t v)
{
  p[off] = (uint8_t)v;
  p[off + 1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, size_t off, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, size_t off, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

#endif
