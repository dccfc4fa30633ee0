/* SPDX-License-Identifier: MIT */
/* SPNEGO tokens ([MS-SPNG], RFC 4178 4.2) in DER, with the GSS-API initial
 * context token framing of RFC 2743 3.1 (0x60, thisMech OID). Only what
 * NTLMSSP-over-SPNEGO needs: single-byte tags, definite lengths up to 4
 * length octets, every length checked against what remains. */
#include <string.h>

#include "auth_int.h"

/* 1.3.6.1.4.1.311.2.2.10 */
const uint8_t sxauth__oid_ntlmssp[10] = { 0x2b, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x02, 0x0a };
/* 1.3.6.1.5.5.2 */
const uint8_t sxauth__oid_spnego[6] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };

#define MAX_MECH_TYPES 32

typedef struct der {
  const uint8_t *p;
  size_t n; /* bytes left */
} der;

/* One TLV: tag, value, and the whole encoding. -1 on any overrun. */
static int der_get(der *d, uint8_t *tag, sxauth__slice *val,
                   sxauth__slice *whole)
{
  if (d->n < 2)
    return -1;
  uint8_t t = d->p[0];
  if ((t & 0x1f) == 0x1f)
    return -1; /* high tag numbers are not used by SPNEGO */
  size_t pos = 1;
  size_t len = d->p[pos++];
  if (len & 0x80) {
    size_t k = len & 0x7f;
    if (k == 0 || k > 4 || d->n - pos < k)
      return -1; /* indefinite form is not DER */
    len = 0;
    for (size_t i = 0; i < k; i++)
      len = len << 8 | d->p[pos++];
  }
  if (d->n - pos < len)
    return -1;
  *tag = t;
  val->p = d->p + pos;
  val->len = len;
  if (whole) {
    whole->p = d->p;
    whole->len = pos + len;
  }
  d->p += pos + len;
  d->n -= pos + len;
  return 0;
}

/* The value must be exactly one TLV with tag `want`. */
static int der_only(sxauth__slice in, uint8_t want, sxauth__slice *val,
                    sxauth__slice *whole)
{
  der d = { in.p, in.len };
  uint8_t tag;
  if (der_get(&d, &tag, val, whole) != 0 || tag != want || d.n != 0)
    return -1;
  return 0;
}

static int fail(const char **why, const char *text)
{
  *why = text;
  return SXAUTH_ERR_DECODE;
}

/* MechTypeList ::= SEQUENCE OF OBJECT IDENTIFIER */
static int parse_mech_types(sxauth__slice v, sxauth__neg_init *o)
{
  sxauth__slice seq, whole;
  if (der_only(v, 0x30, &seq, &whole) != 0)
    return -1;
  o->mech_types = whole;
  o->ntlm_index = -1;
  der d = { seq.p, seq.len };
  int i = 0;
  while (d.n) {
    uint8_t tag;
    sxauth__slice oid;
    if (i >= MAX_MECH_TYPES || der_get(&d, &tag, &oid, NULL) != 0 ||
        tag != 0x06)
      return -1;
    if (o->ntlm_index < 0 && oid.len == sizeof sxauth__oid_ntlmssp &&
        memcmp(oid.p, sxauth__oid_ntlmssp, oid.len) == 0)
      o->ntlm_index = i;
    i++;
  }
  return i == 0 ? -1 : 0;
}

/* [MS-SPNG] 2.2.1 / RFC 4178 4.2.1: NegTokenInit (and NegTokenInit2, whose
 * [3] is negHints and [4] mechListMIC). */
int sxauth__spnego_parse_init(const uint8_t *p, size_t n, sxauth__neg_init *o,
                              const char **why)
{
  memset(o, 0, sizeof *o);
  o->ntlm_index = -1;
  if (!p)
    return fail(why, "SPNEGO: empty token");
  der d = { p, n };
  uint8_t tag;
  sxauth__slice v, oid, inner, seq;
  if (der_get(&d, &tag, &v, NULL) != 0 || tag != 0x60 || d.n != 0)
    return fail(why, "SPNEGO: no GSS-API framing (0x60)");
  der g = { v.p, v.len };
  if (der_get(&g, &tag, &oid, NULL) != 0 || tag != 0x06 ||
      oid.len != sizeof sxauth__oid_spnego ||
      memcmp(oid.p, sxauth__oid_spnego, oid.len) != 0)
    return fail(why, "SPNEGO: thisMech is not the SPNEGO OID");
  if (der_get(&g, &tag, &inner, NULL) != 0 || tag != 0xa0 || g.n != 0)
    return fail(why, "SPNEGO: no negTokenInit");
  if (der_only(inner, 0x30, &seq, NULL) != 0)
    return fail(why, "SPNEGO: negTokenInit is not a SEQUENCE");
  der s = { seq.p, seq.len };
  int last = -1, have_types = 0;
  while (s.n) {
    sxauth__slice f, x;
    if (der_get(&s, &tag, &f, NULL) != 0)
      return fail(why, "SPNEGO: negTokenInit field overruns");
    int num = tag - 0xa0;
    if (tag < 0xa0 || num > 4 || num <= last)
      return fail(why, "SPNEGO: negTokenInit field out of order");
    last = num;
    switch (num) {
    case 0:
      if (parse_mech_types(f, o) != 0)
        return fail(why, "SPNEGO: bad mechTypes");
      have_types = 1;
      break;
    case 1: /* reqFlags: ignored */
      break;
    case 2:
      if (der_only(f, 0x04, &x, NULL) != 0)
        return fail(why, "SPNEGO: bad mechToken");
      o->mech_token = x;
      if (!o->mech_token.p)
        o->mech_token.p = f.p;
      break;
    case 3: /* mechListMIC, or negHints in NegTokenInit2 */
    case 4: {
      der t = { f.p, f.len };
      sxauth__slice hv;
      if (der_get(&t, &tag, &hv, NULL) != 0 || t.n != 0)
        return fail(why, "SPNEGO: bad mechListMIC/negHints");
      if (tag == 0x04)
        o->mech_list_mic = hv;
      else if (tag != 0x30 || num != 3)
        return fail(why, "SPNEGO: bad mechListMIC/negHints");
      break;
    }
    }
  }
  if (!have_types)
    return fail(why, "SPNEGO: negTokenInit without mechTypes");
  return 0;
}

/* RFC 4178 4.2.2 NegTokenResp. */
int sxauth__spnego_parse_resp(const uint8_t *p, size_t n, sxauth__neg_resp *o,
                              const char **why)
{
  memset(o, 0, sizeof *o);
  o->neg_state = -1;
  if (!p)
    return fail(why, "SPNEGO: empty token");
  der d = { p, n };
  uint8_t tag;
  sxauth__slice v, seq;
  if (der_get(&d, &tag, &v, NULL) != 0 || tag != 0xa1 || d.n != 0)
    return fail(why, "SPNEGO: not a negTokenResp");
  if (der_only(v, 0x30, &seq, NULL) != 0)
    return fail(why, "SPNEGO: negTokenResp is not a SEQUENCE");
  der s = { seq.p, seq.len };
  int last = -1;
  while (s.n) {
    sxauth__slice f, x;
    if (der_get(&s, &tag, &f, NULL) != 0)
      return fail(why, "SPNEGO: negTokenResp field overruns");
    int num = tag - 0xa0;
    if (tag < 0xa0 || num > 3 || num <= last)
      return fail(why, "SPNEGO: negTokenResp field out of order");
    last = num;
    switch (num) {
    case 0:
      if (der_only(f, 0x0a, &x, NULL) != 0 || x.len != 1 || x.p[0] > 3)
        return fail(why, "SPNEGO: bad negState");
      o->neg_state = x.p[0];
      break;
    case 1:
      if (der_only(f, 0x06, &x, NULL) != 0 || x.len == 0)
        return fail(why, "SPNEGO: bad supportedMech");
      o->supported_mech = x;
      break;
    case 2:
    case 3:
      if (der_only(f, 0x04, &x, NULL) != 0)
        return fail(why, "SPNEGO: bad responseToken/mechListMIC");
      if (!x.p)
        x.p = f.p;
      if (num == 2)
        o->response_token = x;
      else
        o->mech_list_mic = x;
      break;
    }
  }
  return 0;
}

static void put_len(sxauth__buf *b, size_t n)
{
  if (n < 0x80) {
    sxauth__buf_u8(b, (uint8_t)n);
  } else if (n <= 0xff) {
    sxauth__buf_u8(b, 0x81);
    sxauth__buf_u8(b, (uint8_t)n);
  } else if (n <= 0xffff) {
    sxauth__buf_u8(b, 0x82);
    sxauth__buf_u8(b, (uint8_t)(n >> 8));
    sxauth__buf_u8(b, (uint8_t)n);
  } else {
    sxauth__buf_u8(b, 0x83);
    sxauth__buf_u8(b, (uint8_t)(n >> 16));
    sxauth__buf_u8(b, (uint8_t)(n >> 8));
    sxauth__buf_u8(b, (uint8_t)n);
  }
}

static void put_tlv(sxauth__buf *b, uint8_t tag, const uint8_t *v, size_t n)
{
  sxauth__buf_u8(b, tag);
  put_len(b, n);
  sxauth__buf_put(b, v, n);
}

/* Wrap the content of `in` as tag, appending to out; marks out bad when
 * in is bad. */
static void wrap(sxauth__buf *out, uint8_t tag, const sxauth__buf *in)
{
  if (in->bad) {
    out->bad = 1;
    return;
  }
  put_tlv(out, tag, in->p, in->len);
}

void sxauth__spnego_ntlm_mech_types(sxauth__buf *b)
{
  sxauth__buf_u8(b, 0x30);
  sxauth__buf_u8(b, 2 + sizeof sxauth__oid_ntlmssp);
  put_tlv(b, 0x06, sxauth__oid_ntlmssp, sizeof sxauth__oid_ntlmssp);
}

void sxauth__spnego_build_init(sxauth__buf *b, const uint8_t *mech_types,
                               size_t mt_len, const uint8_t *token,
                               size_t token_len)
{
  sxauth__buf seq = { 0 }, t = { 0 }, init = { 0 }, gss = { 0 };
  put_tlv(&seq, 0xa0, mech_types, mt_len);
  if (token) {
    put_tlv(&t, 0x04, token, token_len);
    wrap(&seq, 0xa2, &t);
  }
  wrap(&init, 0x30, &seq);
  put_tlv(&gss, 0x06, sxauth__oid_spnego, sizeof sxauth__oid_spnego);
  wrap(&gss, 0xa0, &init);
  wrap(b, 0x60, &gss);
  sxauth__buf_free(&seq);
  sxauth__buf_free(&t);
  sxauth__buf_free(&init);
  sxauth__buf_free(&gss);
}

void sxauth__spnego_build_resp(sxauth__buf *b, int neg_state,
                               int supported_mech_ntlm, const uint8_t *token,
                               size_t token_len, const uint8_t *mic,
                               size_t mic_len)
{
  sxauth__buf seq = { 0 }, t = { 0 }, outer = { 0 };
  if (neg_state >= 0) {
    uint8_t e[3] = { 0x0a, 0x01, (uint8_t)neg_state };
    put_tlv(&seq, 0xa0, e, sizeof e);
  }
  if (supported_mech_ntlm) {
    put_tlv(&t, 0x06, sxauth__oid_ntlmssp, sizeof sxauth__oid_ntlmssp);
    wrap(&seq, 0xa1, &t);
    sxauth__buf_reset(&t);
  }
  if (token) {
    put_tlv(&t, 0x04, token, token_len);
    wrap(&seq, 0xa2, &t);
    sxauth__buf_reset(&t);
  }
  if (mic) {
    put_tlv(&t, 0x04, mic, mic_len);
    wrap(&seq, 0xa3, &t);
  }
  wrap(&outer, 0x30, &seq);
  wrap(b, 0xa1, &outer);
  sxauth__buf_free(&seq);
  sxauth__buf_free(&t);
  sxauth__buf_free(&outer);
}
