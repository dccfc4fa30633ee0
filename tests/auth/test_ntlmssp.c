/* SPDX-License-Identifier: MIT */
/* sxauth (examples/auth): NTLMSSP + SPNEGO, client and server.
 * Known answers are [MS-NLMP] 4.2.4 (NTLMv2), cross-checked with impacket
 * 0.10 (impacket.ntlm.NTOWFv2 / computeResponseNTLMv2, ARC4 of the
 * session base key) before being written here. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth_int.h"
#include "sxauth.h"
#include "vectors_samba.h"

static sxauth_crypto *cr;

static int group_setup(void **state)
{
  (void)state;
  return sxauth_crypto_new(&cr) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
  (void)state;
  sxauth_crypto_free(cr);
  cr = NULL;
  return 0;
}

static void hex(const char *h, uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static char *tohex(const uint8_t *p, size_t n)
{
  char *s = malloc(2 * n + 1);
  assert_non_null(s);
  for (size_t i = 0; i < n; i++)
    snprintf(s + 2 * i, 3, "%02x", p[i]);
  s[2 * n] = 0;
  return s;
}

/* ---- deterministic hooks ---------------------------------------------- */

typedef struct fixed {
  const uint8_t *seq; /* bytes handed out first, in order */
  size_t len, pos;
  uint8_t fill;       /* then this byte */
  uint64_t time;
} fixed;

static int fixed_random(void *u, uint8_t *buf, size_t n)
{
  fixed *f = u;
  for (size_t i = 0; i < n; i++)
    buf[i] = f->pos < f->len ? f->seq[f->pos++] : f->fill;
  return 0;
}

static uint64_t fixed_time(void *u)
{
  return ((fixed *)u)->time;
}

static sxauth_hooks hooks_of(fixed *f)
{
  sxauth_hooks h = { fixed_random, fixed_time, f };
  return h;
}

/* ---- [MS-NLMP] 4.2.4 known answers ------------------------------------ */

static const char *const kat_ntowfv2 = "0c868a403bfd7a93a3001ef22ef02e3f";
static const char *const kat_lmv2 =
    "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa";
static const char *const kat_ntproof = "68cd0ab851e51c96aabc927bebef6a1c";
static const char *const kat_sbk = "8de40ccadbc14a82f15cb0ad0de95ca3";
static const char *const kat_enc_key = "c5dad2544fc9799094ce1ce90bc9d03e";
/* 4.2.4.2.2 temp: 01 01 Z(6) Time=0 ClientChallenge Z(4) AV pairs Z(4) */
static const char *const kat_temp =
    "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000"
    "02000c0044006f006d00610069006e0001000c005300650072007600650072"
    "000000000000000000";

/* 4.2.4: AV pairs NbDomainName "Domain", NbComputerName "Server", EOL */
static void kat_av(sxauth__buf *b)
{
  sxauth__buf_u16(b, MSV_AV_NB_DOMAIN_NAME);
  sxauth__buf_u16(b, 12);
  sxauth__utf8_to_utf16le("Domain", b);
  sxauth__buf_u16(b, MSV_AV_NB_COMPUTER_NAME);
  sxauth__buf_u16(b, 12);
  sxauth__utf8_to_utf16le("Server", b);
  sxauth__buf_u32(b, 0);
}

static void u16(const char *s, sxauth__buf *b)
{
  assert_int_equal(sxauth__utf8_to_utf16le(s, b), 0);
}

static void nlmp_4_2_4_1_1_ntowfv2_known_answer(void **state)
{
  (void)state;
  uint8_t nt[16], k[16], want[16];
  sxauth__buf user = { 0 }, dom = { 0 };
  u16("User", &user);
  u16("Domain", &dom);
  assert_int_equal(sxauth__nt_hash(cr, "Password", nt), 0);
  /* MD4(UTF-16LE("Password")) */
  hex("a4f49c406510bdcab6824ee7c30fd852", want, 16);
  assert_memory_equal(nt, want, 16);
  assert_int_equal(sxauth__ntowfv2(cr, nt, user.p, user.len, dom.p, dom.len,
                                   k), 0);
  hex(kat_ntowfv2, want, 16);
  assert_memory_equal(k, want, 16);
  /* the user name is upper-cased, the domain is not */
  sxauth__buf lower = { 0 };
  u16("user", &lower);
  assert_int_equal(sxauth__ntowfv2(cr, nt, lower.p, lower.len, dom.p,
                                   dom.len, k), 0);
  assert_memory_equal(k, want, 16);
  sxauth__buf_free(&user);
  sxauth__buf_free(&dom);
  sxauth__buf_free(&lower);
}

static void nlmp_4_2_4_2_ntlmv2_response_and_keys_known_answer(void **state)
{
  (void)state;
  uint8_t sc[8], cc[8], key[16], proof[16], sbk[16], lm[16], enc[16];
  uint8_t want[64];
  hex("0123456789abcdef", sc, 8);
  memset(cc, 0xaa, 8);
  hex(kat_ntowfv2, key, 16);
  sxauth__buf av = { 0 }, temp = { 0 };
  kat_av(&av);
  sxauth__build_temp(&temp, 0, cc, av.p, av.len);
  assert_false(temp.bad);
  size_t tl = strlen(kat_temp) / 2;
  uint8_t *wt = malloc(tl);
  hex(kat_temp, wt, tl);
  assert_int_equal(temp.len, tl);
  assert_memory_equal(temp.p, wt, tl);
  free(wt);

  assert_int_equal(sxauth__ntproof(cr, key, sc, temp.p, temp.len, proof), 0);
  hex(kat_ntproof, want, 16);
  assert_memory_equal(proof, want, 16);

  sxauth__slice pp = { proof, 16 };
  assert_int_equal(sxauth__hmac_md5(cr, key, 16, &pp, 1, sbk), 0);
  hex(kat_sbk, want, 16);
  assert_memory_equal(sbk, want, 16);

  /* 4.2.4.2.1 LMv2 = HMAC_MD5(key, SC || CC) || CC */
  sxauth__slice lp[2] = { { sc, 8 }, { cc, 8 } };
  assert_int_equal(sxauth__hmac_md5(cr, key, 16, lp, 2, lm), 0);
  hex(kat_lmv2, want, 24);
  assert_memory_equal(lm, want, 16);

  /* 4.2.4.2.3: RC4(SessionBaseKey, RandomSessionKey 55..55) */
  uint8_t rsk[16];
  memset(rsk, 0x55, 16);
  assert_int_equal(sxauth__rc4(cr, sbk, 16, rsk, enc, 16), 0);
  hex(kat_enc_key, want, 16);
  assert_memory_equal(enc, want, 16);
  sxauth__buf_free(&av);
  sxauth__buf_free(&temp);
}

/* A CHALLENGE like 4.2.4.3's: flags e28a8233, ServerChallenge, TargetName
 * "Server", TargetInfo (Domain, Server), Version. */
static void kat_challenge(sxauth__buf *c)
{
  sxauth__buf av = { 0 }, tn = { 0 };
  kat_av(&av);
  u16("Server", &tn);
  uint8_t sc[8];
  hex("0123456789abcdef", sc, 8);
  sxauth__buf_put(c, sxauth__ntlmssp_sig, 8);
  sxauth__buf_u32(c, 2);
  sxauth__buf_u16(c, (uint16_t)tn.len);
  sxauth__buf_u16(c, (uint16_t)tn.len);
  sxauth__buf_u32(c, 56);
  sxauth__buf_u32(c, 0xe28a8233u);
  sxauth__buf_put(c, sc, 8);
  sxauth__buf_zero(c, 8);
  sxauth__buf_u16(c, (uint16_t)av.len);
  sxauth__buf_u16(c, (uint16_t)av.len);
  sxauth__buf_u32(c, (uint32_t)(56 + tn.len));
  sxauth__put_version(c);
  sxauth__buf_put(c, tn.p, tn.len);
  sxauth__buf_put(c, av.p, av.len);
  assert_false(c->bad);
  sxauth__buf_free(&av);
  sxauth__buf_free(&tn);
}

/* Our client, driven with 4.2.4's inputs (ClientChallenge aa.., random
 * session key 55.., Time 0 taken from the hook: no MsvAvTimestamp), builds
 * the published LMv2, NTLMv2 response and encrypted session key. */
static void nlmp_4_2_4_client_authenticate_known_answer(void **state)
{
  (void)state;
  uint8_t seq[24];
  memset(seq, 0xaa, 8);
  memset(seq + 8, 0x55, 16);
  fixed f = { seq, sizeof seq, 0, 0x77, 0 };
  sxauth_client_config cc = { 0 };
  cc.user = "User";
  cc.domain = "Domain";
  cc.password = "Password";
  cc.raw_ntlmssp = 1;
  cc.crypto = cr;
  cc.hooks = hooks_of(&f);
  sxauth_client *c;
  assert_int_equal(sxauth_client_new(&c, &cc), 0);
  const uint8_t *out;
  size_t out_len;
  assert_int_equal(sxauth_client_step(c, NULL, 0, &out, &out_len),
                   SXAUTH_CONTINUE);
  assert_int_equal(out_len, 40);
  assert_memory_equal(out, "NTLMSSP\0\1\0\0\0", 12);
  sxauth__buf ch = { 0 };
  kat_challenge(&ch);
  assert_int_equal(sxauth_client_step(c, ch.p, ch.len, &out, &out_len),
                   SXAUTH_CONTINUE);
  sxauth__authenticate m;
  const char *why;
  assert_int_equal(sxauth__parse_authenticate(out, out_len, &m, &why), 0);
  uint8_t want[64];
  hex(kat_lmv2, want, 24);
  assert_int_equal(m.lm.len, 24);
  assert_memory_equal(m.lm.p, want, 24);
  hex(kat_ntproof, want, 16);
  assert_int_equal(m.nt.len, 16 + strlen(kat_temp) / 2);
  assert_memory_equal(m.nt.p, want, 16);
  hex(kat_enc_key, want, 16);
  assert_int_equal(m.enc_key.len, 16);
  assert_memory_equal(m.enc_key.p, want, 16);
  /* no timestamp in the CHALLENGE: no MIC, header without the MIC field */
  assert_int_equal(sxauth__le32(out + 32), 72); /* DomainName offset */
  uint8_t key[16], rsk[16];
  memset(rsk, 0x55, 16);
  assert_int_equal(sxauth_client_session_key(c, key), 0);
  assert_memory_equal(key, rsk, 16);
  /* flags = CHALLENGE's & ours: KEY_EXCH 56 128 VERSION TARGET_INFO ESS
   * ALWAYS_SIGN NTLM SIGN UNICODE (no SEAL, OEM, TARGET_TYPE_SERVER) */
  assert_int_equal(m.flags, 0xe2888211u);
  sxauth__buf_free(&ch);
  sxauth_client_free(c);
}

/* ---- SPNEGO ------------------------------------------------------------- */

static void spng_server_negotiate_blob_is_neg_token_init_ntlmssp(void **state)
{
  (void)state;
  sxauth_server_config sc = { 0 };
  sc.crypto = cr;
  sxauth_server *s;
  assert_int_equal(sxauth_server_new(&s, &sc), 0);
  const uint8_t *b;
  size_t n;
  assert_int_equal(sxauth_server_negotiate_blob(s, &b, &n), 0);
  uint8_t want[30];
  hex("601c06062b0601050502a0123010a00e300c060a2b06010401823702020a", want,
      30);
  assert_int_equal(n, 30);
  assert_memory_equal(b, want, 30);
  sxauth__neg_init ni;
  const char *why;
  assert_int_equal(sxauth__spnego_parse_init(b, n, &ni, &why), 0);
  assert_int_equal(ni.ntlm_index, 0);
  assert_null(ni.mech_token.p);
  sxauth_server_free(s);
}

static void spng_init_and_resp_round_trip_long_lengths(void **state)
{
  (void)state;
  static uint8_t tok[70000];
  for (size_t i = 0; i < sizeof tok; i++)
    tok[i] = (uint8_t)(i * 7);
  size_t sizes[] = { 0, 1, 100, 127, 128, 255, 256, 1000, 65535 };
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    sxauth__buf mt = { 0 }, b = { 0 };
    sxauth__spnego_ntlm_mech_types(&mt);
    sxauth__spnego_build_init(&b, mt.p, mt.len, tok, sizes[k]);
    assert_false(b.bad);
    sxauth__neg_init ni;
    const char *why;
    assert_int_equal(sxauth__spnego_parse_init(b.p, b.len, &ni, &why), 0);
    assert_int_equal(ni.mech_token.len, sizes[k]);
    if (sizes[k])
      assert_memory_equal(ni.mech_token.p, tok, sizes[k]);
    assert_int_equal(ni.mech_types.len, mt.len);
    assert_memory_equal(ni.mech_types.p, mt.p, mt.len);
    sxauth__buf_reset(&b);
    uint8_t mic[16];
    memset(mic, 0x5a, 16);
    sxauth__spnego_build_resp(&b, 1, 1, tok, sizes[k], mic, 16);
    sxauth__neg_resp nr;
    assert_int_equal(sxauth__spnego_parse_resp(b.p, b.len, &nr, &why), 0);
    assert_int_equal(nr.neg_state, 1);
    assert_int_equal(nr.supported_mech.len, 10);
    assert_int_equal(nr.response_token.len, sizes[k]);
    if (sizes[k])
      assert_memory_equal(nr.response_token.p, tok, sizes[k]);
    assert_int_equal(nr.mech_list_mic.len, 16);
    assert_memory_equal(nr.mech_list_mic.p, mic, 16);
    sxauth__buf_free(&mt);
    sxauth__buf_free(&b);
  }
}

/* negTokenInit with krb5 first, NTLMSSP second, and negTokenInit2's
 * negHints (as Windows and Samba servers send). */
static void spng_init_mech_list_order_and_neg_hints(void **state)
{
  (void)state;
  /* 60 len 06 06 spnego a0 len 30 len
   *   a0 len 30 len 06 09 krb5(1.2.840.113554.1.2.2) 06 0a ntlmssp
   *   a3 len 30 len a0 len 1b 04 "ab@c" */
  uint8_t b[] = {
    0x60, 0x37, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x2d,
    0x30, 0x2b, 0xa0, 0x19, 0x30, 0x17, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
    0xf7, 0x12, 0x01, 0x02, 0x02, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
    0x82, 0x37, 0x02, 0x02, 0x0a, 0xa3, 0x0e, 0x30, 0x0c, 0xa0, 0x0a, 0x1b,
    0x08, 'a', 'b', '@', 'c', 'd', 'e', 'f', 'g',
  };
  sxauth__neg_init ni;
  const char *why;
  assert_int_equal(sxauth__spnego_parse_init(b, sizeof b, &ni, &why), 0);
  assert_int_equal(ni.ntlm_index, 1);
  assert_int_equal(ni.mech_types.len, 25);
  assert_null(ni.mech_list_mic.p);
  /* the client side accepts it (NTLMSSP is offered) */
  sxauth_client_config cc = { 0 };
  cc.user = "u";
  cc.password = "p";
  cc.crypto = cr;
  sxauth_client *c;
  assert_int_equal(sxauth_client_new(&c, &cc), 0);
  const uint8_t *out;
  size_t n;
  assert_int_equal(sxauth_client_step(c, b, sizeof b, &out, &n),
                   SXAUTH_CONTINUE);
  sxauth_client_free(c);
}

static void spng_hostile_der_is_decode_error(void **state)
{
  (void)state;
  const char *why;
  sxauth__neg_init ni;
  sxauth__neg_resp nr;
  /* indefinite length */
  uint8_t a[] = { 0x60, 0x80, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
                  0x00, 0x00 };
  assert_int_equal(sxauth__spnego_parse_init(a, sizeof a, &ni, &why),
                   SXAUTH_ERR_DECODE);
  /* length past the end, 4-byte length form */
  uint8_t b[] = { 0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06 };
  assert_int_equal(sxauth__spnego_parse_init(b, sizeof b, &ni, &why),
                   SXAUTH_ERR_DECODE);
  /* 5 length octets */
  uint8_t c[] = { 0xa1, 0x85, 0, 0, 0, 0, 1, 0 };
  assert_int_equal(sxauth__spnego_parse_resp(c, sizeof c, &nr, &why),
                   SXAUTH_ERR_DECODE);
  /* high tag number form */
  uint8_t d[] = { 0xbf, 0x01, 0x00 };
  assert_int_equal(sxauth__spnego_parse_resp(d, sizeof d, &nr, &why),
                   SXAUTH_ERR_DECODE);
  /* trailing byte after the token */
  uint8_t e[] = { 0xa1, 0x05, 0x30, 0x03, 0xa0, 0x01, 0x00, 0x00 };
  assert_int_equal(sxauth__spnego_parse_resp(e, sizeof e, &nr, &why),
                   SXAUTH_ERR_DECODE);
  /* fields out of order, and negState 4 */
  uint8_t f[] = { 0xa1, 0x0c, 0x30, 0x0a, 0xa2, 0x02, 0x04, 0x00,
                  0xa0, 0x03, 0x0a, 0x01, 0x00 };
  f[1] = 0x0b;
  f[3] = 0x09;
  assert_int_equal(sxauth__spnego_parse_resp(f, 13, &nr, &why),
                   SXAUTH_ERR_DECODE);
  uint8_t g[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x04 };
  assert_int_equal(sxauth__spnego_parse_resp(g, sizeof g, &nr, &why),
                   SXAUTH_ERR_DECODE);
  uint8_t g0[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02 };
  assert_int_equal(sxauth__spnego_parse_resp(g0, sizeof g0, &nr, &why), 0);
  assert_int_equal(nr.neg_state, SPNEGO_REJECT);
  /* wrong thisMech OID */
  uint8_t h[] = { 0x60, 0x08, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x03 };
  assert_int_equal(sxauth__spnego_parse_init(h, sizeof h, &ni, &why),
                   SXAUTH_ERR_DECODE);
  /* empty mechTypes */
  uint8_t i[] = { 0x60, 0x0e, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
                  0xa0, 0x04, 0x30, 0x02, 0xa0, 0x00 };
  assert_int_equal(sxauth__spnego_parse_init(i, sizeof i, &ni, &why),
                   SXAUTH_ERR_DECODE);
  assert_int_equal(sxauth__spnego_parse_init(NULL, 0, &ni, &why),
                   SXAUTH_ERR_DECODE);
}

/* ---- client vs server ----------------------------------------------------- */

typedef void (*tamper_fn)(int msg, uint8_t *p, size_t n);

typedef struct xchg {
  int c1, s1, c2, s2, c3; /* step results in order (99 = not run) */
  sxauth_result res;
  int ckey_rc;
  uint8_t ckey[16];
  char swhy[128], cwhy[128];
} xchg;

static void deliver(tamper_fn t, int msg, const uint8_t *in, size_t n,
                    uint8_t **copy)
{
  *copy = malloc(n ? n : 1);
  assert_non_null(*copy);
  if (n)
    memcpy(*copy, in, n);
  if (t)
    t(msg, *copy, n);
}

/* Runs one exchange: server NEGOTIATE blob (msg 0) -> client (msg 1) ->
 * server (msg 2) -> client (msg 3) -> server (msg 4) -> client. */
static void run(const sxauth_client_config *cc, const sxauth_server_config *sc,
                tamper_fn t, xchg *x)
{
  memset(x, 0, sizeof *x);
  x->c1 = x->s1 = x->c2 = x->s2 = x->c3 = 99;
  sxauth_server *s;
  sxauth_accept *a;
  sxauth_client *c;
  assert_int_equal(sxauth_server_new(&s, sc), 0);
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  assert_int_equal(sxauth_client_new(&c, cc), 0);
  const uint8_t *o;
  size_t n;
  uint8_t *m;
  assert_int_equal(sxauth_server_negotiate_blob(s, &o, &n), 0);
  deliver(t, 0, o, n, &m);
  x->c1 = sxauth_client_step(c, m, n, &o, &n);
  free(m);
  if (x->c1 == SXAUTH_CONTINUE) {
    deliver(t, 1, o, n, &m);
    x->s1 = sxauth_accept_step(a, m, n, &o, &n);
    free(m);
  }
  if (x->s1 == SXAUTH_CONTINUE) {
    deliver(t, 2, o, n, &m);
    x->c2 = sxauth_client_step(c, m, n, &o, &n);
    free(m);
  }
  if (x->c2 == SXAUTH_CONTINUE) {
    deliver(t, 3, o, n, &m);
    x->s2 = sxauth_accept_step(a, m, n, &o, &n);
    free(m);
  }
  if (x->s2 == SXAUTH_DONE) {
    assert_int_equal(sxauth_accept_result(a, &x->res), 0);
    snprintf(x->swhy, sizeof x->swhy, "%s", x->res.user);
    deliver(t, 4, o, n, &m);
    x->c3 = sxauth_client_step(c, m, n, &o, &n);
    free(m);
  } else {
    snprintf(x->swhy, sizeof x->swhy, "%s", sxauth_accept_error(a));
    assert_int_equal(sxauth_accept_result(a, &x->res), SXAUTH_ERR_STATE);
  }
  snprintf(x->cwhy, sizeof x->cwhy, "%s", sxauth_client_error(c));
  x->ckey_rc = sxauth_client_session_key(c, x->ckey);
  /* results are copied out: the pointers die with the accept */
  x->res.user = x->res.domain = x->res.workstation = NULL;
  sxauth_client_free(c);
  sxauth_accept_free(a);
  sxauth_server_free(s);
}

static const uint8_t bob_hash[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
                                      9, 10, 11, 12, 13, 14, 15, 16 };

static sxauth_server_config server_cfg(void)
{
  static const sxauth_user users[] = {
    { "alice", "Secret#1", NULL },
    { "bob", NULL, bob_hash },
  };
  sxauth_server_config sc = { 0 };
  sc.users = users;
  sc.n_users = 2;
  sc.nb_domain = "TESTDOM";
  sc.nb_computer = "TESTSRV";
  sc.dns_domain = "test.example";
  sc.dns_computer = "testsrv.test.example";
  sc.crypto = cr;
  return sc;
}

static sxauth_client_config client_cfg(const char *user, const char *pw)
{
  sxauth_client_config cc = { 0 };
  cc.user = user;
  cc.password = pw;
  cc.domain = "TESTDOM";
  cc.workstation = "WS1";
  cc.target_spn = "cifs/testsrv";
  cc.crypto = cr;
  return cc;
}

static void nlmp_3_2_5_1_2_ntlmv2_user_same_session_key(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  xchg x;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.c1, SXAUTH_CONTINUE);
  assert_int_equal(x.s1, SXAUTH_CONTINUE);
  assert_int_equal(x.c2, SXAUTH_CONTINUE);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_DONE);
  assert_int_equal(x.res.kind, SXAUTH_KIND_USER);
  assert_string_equal(x.swhy, "alice");
  assert_int_equal(x.res.has_key, 1);
  assert_int_equal(x.res.session_flags, 0);
  assert_int_equal(x.ckey_rc, 0);
  assert_memory_equal(x.ckey, x.res.session_key, 16);

  /* user names match case-insensitively; NT hash instead of password */
  cc = client_cfg("ALICE", "Secret#1");
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.res.kind, SXAUTH_KIND_USER);
  assert_memory_equal(x.ckey, x.res.session_key, 16);
  cc = client_cfg("bob", NULL);
  cc.nt_hash = bob_hash;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_DONE);
  assert_memory_equal(x.ckey, x.res.session_key, 16);
}

static void nlmp_raw_ntlmssp_without_spnego(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  cc.raw_ntlmssp = 1;
  xchg x;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_DONE);
  assert_int_equal(x.res.kind, SXAUTH_KIND_USER);
  assert_memory_equal(x.ckey, x.res.session_key, 16);
}

static void nlmp_3_2_5_1_2_wrong_password_rejected(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sc.allow_guest = 1; /* a known user with a bad password is never guest */
  sxauth_client_config cc = client_cfg("alice", "secret#1");
  xchg x;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_LOGON);
  assert_int_equal(x.res.kind, SXAUTH_KIND_NONE);
  assert_int_equal(x.c3, 99);
}

static void nlmp_unknown_user_guest_when_allowed(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("mallory", "x");
  xchg x;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_LOGON);
  sc.allow_guest = 1;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_DONE);
  assert_int_equal(x.res.kind, SXAUTH_KIND_GUEST);
  assert_int_equal(x.res.has_key, 0);
  assert_int_equal(x.res.session_flags, SXAUTH_SMB2_SESSION_FLAG_IS_GUEST);
}

static void nlmp_anonymous_null_session(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = { 0 };
  cc.anonymous = 1;
  cc.crypto = cr;
  xchg x;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_LOGON);
  sc.allow_anonymous = 1;
  run(&cc, &sc, NULL, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_DONE);
  assert_int_equal(x.res.kind, SXAUTH_KIND_ANONYMOUS);
  assert_int_equal(x.res.has_key, 0);
  assert_int_equal(x.res.session_flags, SXAUTH_SMB2_SESSION_FLAG_IS_NULL);
  assert_int_equal(x.ckey_rc, SXAUTH_ERR_STATE); /* no key */
}

/* Where the AUTHENTICATE sits inside the client's negTokenResp. */
static uint8_t *find_ntlmssp(uint8_t *p, size_t n, size_t *rest)
{
  for (size_t i = 0; i + 8 <= n; i++)
    if (memcmp(p + i, sxauth__ntlmssp_sig, 8) == 0) {
      *rest = n - i;
      return p + i;
    }
  fail();
  return NULL;
}

static void flip_mic(int msg, uint8_t *p, size_t n)
{
  size_t r;
  if (msg == 3)
    find_ntlmssp(p, n, &r)[NTLMSSP_AUTH_MIC_OFFSET + 3] ^= 1;
}

static void flip_mech_list_mic(int msg, uint8_t *p, size_t n)
{
  if (msg == 3)
    p[n - 1] ^= 0x80; /* mechListMIC is the last field */
}

static void flip_negotiate_flag(int msg, uint8_t *p, size_t n)
{
  size_t r;
  if (msg == 1) /* NEGOTIATE flags byte 3: drop NTLMSSP_NEGOTIATE_56 */
    find_ntlmssp(p, n, &r)[15] &= 0x7f;
}

static void flip_server_mech_list_mic(int msg, uint8_t *p, size_t n)
{
  if (msg == 4)
    p[n - 1] ^= 1;
}

static void nlmp_3_2_5_1_2_mic_binds_all_three_messages(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  xchg x;
  run(&cc, &sc, flip_mic, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_MIC);
  assert_string_equal(x.swhy, "AUTHENTICATE MIC mismatch");
  /* a NEGOTIATE changed in flight breaks the MIC although every flag the
   * server used still agrees with the client's */
  run(&cc, &sc, flip_negotiate_flag, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_MIC);
  assert_string_equal(x.swhy, "AUTHENTICATE MIC mismatch");
}

static void spng_mech_list_mic_checked_both_ways(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  xchg x;
  run(&cc, &sc, flip_mech_list_mic, &x);
  assert_int_equal(x.s2, SXAUTH_ERR_MIC);
  assert_string_equal(x.swhy, "client mechListMIC mismatch");
  run(&cc, &sc, flip_server_mech_list_mic, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  assert_int_equal(x.c3, SXAUTH_ERR_MIC);
  assert_string_equal(x.cwhy, "server mechListMIC mismatch");
}

/* A hand-made AUTHENTICATE (raw NTLMSSP) after a real NEGOTIATE. */
static int raw_auth(const sxauth_server_config *sc, const uint8_t *lm,
                    size_t lm_len, const uint8_t *nt, size_t nt_len,
                    const char *user, uint32_t flags)
{
  sxauth_server *s;
  sxauth_accept *a;
  assert_int_equal(sxauth_server_new(&s, sc), 0);
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  uint8_t neg[40] = "NTLMSSP";
  neg[8] = 1;
  neg[12] = 0x01; /* UNICODE */
  neg[14] = 0x08; /* ESS */
  const uint8_t *o;
  size_t n;
  assert_int_equal(sxauth_accept_step(a, neg, 32, &o, &n), SXAUTH_CONTINUE);
  sxauth__buf m = { 0 }, un = { 0 };
  u16(user, &un);
  sxauth__buf_put(&m, sxauth__ntlmssp_sig, 8);
  sxauth__buf_u32(&m, 3);
  size_t off = 64;
  size_t lens[6] = { lm_len, nt_len, 0, un.len, 0, 0 };
  for (int i = 0; i < 6; i++) {
    sxauth__buf_u16(&m, (uint16_t)lens[i]);
    sxauth__buf_u16(&m, (uint16_t)lens[i]);
    sxauth__buf_u32(&m, (uint32_t)off);
    off += lens[i];
  }
  sxauth__buf_u32(&m, flags);
  sxauth__buf_put(&m, lm, lm_len);
  sxauth__buf_put(&m, nt, nt_len);
  sxauth__buf_put(&m, un.p, un.len);
  int rc = sxauth_accept_step(a, m.p, m.len, &o, &n);
  sxauth__buf_free(&m);
  sxauth__buf_free(&un);
  sxauth_accept_free(a);
  sxauth_server_free(s);
  return rc;
}

static void nlmp_3_2_5_1_2_lm_and_ntlmv1_rejected(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sc.allow_anonymous = 1;
  sc.allow_guest = 1;
  uint8_t r24[24], r44[44];
  memset(r24, 0x42, sizeof r24);
  memset(r44, 0x42, sizeof r44);
  /* NTLMv1: 24-byte NT response */
  assert_int_equal(raw_auth(&sc, r24, 24, r24, 24, "alice", 0x80201),
                   SXAUTH_ERR_UNSUPPORTED);
  /* LM only: NT response empty, LM response present */
  assert_int_equal(raw_auth(&sc, r24, 24, NULL, 0, "alice", 0x80201),
                   SXAUTH_ERR_UNSUPPORTED);
  /* OEM strings */
  assert_int_equal(raw_auth(&sc, NULL, 0, NULL, 0, "", 0x80202),
                   SXAUTH_ERR_UNSUPPORTED);
  /* NTLMv2 blob with a bad RespType, and one too short */
  assert_int_equal(raw_auth(&sc, NULL, 0, r44, 44, "alice", 0x80201),
                   SXAUTH_ERR_DECODE);
  assert_int_equal(raw_auth(&sc, NULL, 0, r44, 43, "alice", 0x80201),
                   SXAUTH_ERR_DECODE);
  /* anonymous: empty LM, or Z(1) */
  uint8_t z = 0;
  assert_int_equal(raw_auth(&sc, NULL, 0, NULL, 0, "", 0x80a01),
                   SXAUTH_DONE);
  assert_int_equal(raw_auth(&sc, &z, 1, NULL, 0, "", 0x80a01), SXAUTH_DONE);
  /* empty responses with a user name are not anonymous */
  assert_int_equal(raw_auth(&sc, NULL, 0, NULL, 0, "alice", 0x80201),
                   SXAUTH_ERR_LOGON);
}

/* RFC 4178 5: NTLMSSP offered second; the server selects it, asks for its
 * token and then requires the mechListMIC. */
static void spng_ntlmssp_not_first_requires_mech_list_mic(void **state)
{
  (void)state;
  for (int with_mic = 0; with_mic < 2; with_mic++) {
    sxauth_server_config sc = server_cfg();
    sxauth_server *s;
    sxauth_accept *a;
    assert_int_equal(sxauth_server_new(&s, &sc), 0);
    assert_int_equal(sxauth_accept_new(&a, s), 0);
    sxauth_client_config cc = client_cfg("alice", "Secret#1");
    cc.raw_ntlmssp = 1;
    sxauth_client *c;
    assert_int_equal(sxauth_client_new(&c, &cc), 0);
    /* mechTypes: krb5, NTLMSSP; an (opaque) krb5 optimistic token */
    uint8_t mt[] = { 0x30, 0x17, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                     0x12, 0x01, 0x02, 0x02, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                     0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
    uint8_t krb[4] = { 1, 2, 3, 4 };
    sxauth__buf b = { 0 };
    sxauth__spnego_build_init(&b, mt, sizeof mt, krb, sizeof krb);
    const uint8_t *o;
    size_t n;
    assert_int_equal(sxauth_accept_step(a, b.p, b.len, &o, &n),
                     SXAUTH_CONTINUE);
    sxauth__neg_resp nr;
    const char *why;
    assert_int_equal(sxauth__spnego_parse_resp(o, n, &nr, &why), 0);
    assert_int_equal(nr.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
    assert_int_equal(nr.supported_mech.len, 10);
    assert_null(nr.response_token.p);
    /* NEGOTIATE */
    assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
    sxauth__buf_reset(&b);
    sxauth__spnego_build_resp(&b, -1, 0, o, n, NULL, 0);
    assert_int_equal(sxauth_accept_step(a, b.p, b.len, &o, &n),
                     SXAUTH_CONTINUE);
    assert_int_equal(sxauth__spnego_parse_resp(o, n, &nr, &why), 0);
    assert_non_null(nr.response_token.p);
    /* AUTHENTICATE */
    assert_int_equal(sxauth_client_step(c, nr.response_token.p,
                                        nr.response_token.len, &o, &n),
                     SXAUTH_CONTINUE);
    uint8_t key[16], mic[16];
    assert_int_equal(sxauth_client_session_key(c, key), 0);
    uint32_t flags = sxauth__le32(o + 60);
    assert_int_equal(sxauth__ntlm_mac(cr, flags, key, 1, 0, mt, sizeof mt,
                                      mic), 0);
    sxauth__buf_reset(&b);
    sxauth__spnego_build_resp(&b, -1, 0, o, n, with_mic ? mic : NULL, 16);
    int rc = sxauth_accept_step(a, b.p, b.len, &o, &n);
    if (!with_mic) {
      assert_int_equal(rc, SXAUTH_ERR_MIC);
      assert_string_equal(sxauth_accept_error(a),
                          "mechListMIC required but missing");
    } else {
      assert_int_equal(rc, SXAUTH_DONE);
      assert_int_equal(sxauth__spnego_parse_resp(o, n, &nr, &why), 0);
      assert_int_equal(nr.neg_state, SPNEGO_ACCEPT_COMPLETED);
      assert_int_equal(sxauth__ntlm_mac(cr, flags, key, 0, 0, mt, sizeof mt,
                                        mic), 0);
      assert_int_equal(nr.mech_list_mic.len, 16);
      assert_memory_equal(nr.mech_list_mic.p, mic, 16);
    }
    sxauth__buf_free(&b);
    sxauth_client_free(c);
    sxauth_accept_free(a);
    sxauth_server_free(s);
  }
}

/* RFC 4178 4.2.2 negState/supportedMech in the server's first reply, as
 * the client sees them; and a client's reject as the server sees it. */
static void spng_4_2_2_neg_state_and_supported_mech_checked(void **state)
{
  (void)state;
  sxauth_server_config sc = server_cfg();
  sxauth_server *s;
  assert_int_equal(sxauth_server_new(&s, &sc), 0);
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  /* a real CHALLENGE to wrap */
  sxauth_accept *a;
  sxauth_client *c;
  const uint8_t *o;
  size_t n;
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  assert_int_equal(sxauth_client_new(&c, &cc), 0);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_accept_step(a, o, n, &o, &n), SXAUTH_CONTINUE);
  sxauth__neg_resp nr;
  const char *why;
  assert_int_equal(sxauth__spnego_parse_resp(o, n, &nr, &why), 0);
  sxauth__buf chal = { 0 };
  sxauth__buf_put(&chal, nr.response_token.p, nr.response_token.len);
  sxauth_client_free(c);
  sxauth_accept_free(a);

  static const struct {
    int neg_state, mech, token, want;
  } cases[] = {
    { SPNEGO_ACCEPT_INCOMPLETE, 1, 1, SXAUTH_CONTINUE },
    { SPNEGO_REQUEST_MIC, 1, 1, SXAUTH_CONTINUE },
    { -1, 0, 1, SXAUTH_CONTINUE },
    { SPNEGO_ACCEPT_COMPLETED, 1, 1, SXAUTH_ERR_DECODE },
    { SPNEGO_REJECT, 0, 0, SXAUTH_ERR_LOGON },
    { SPNEGO_ACCEPT_INCOMPLETE, 1, 0, SXAUTH_ERR_DECODE },
    { SPNEGO_ACCEPT_INCOMPLETE, 2, 1, SXAUTH_ERR_UNSUPPORTED },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(sxauth_client_new(&c, &cc), 0);
    assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
    sxauth__buf b = { 0 };
    if (cases[i].mech == 2) { /* supportedMech krb5 */
      uint8_t t[] = { 0xa1, 0x0f, 0x30, 0x0d, 0xa0, 0x03, 0x0a, 0x01, 0x01,
                      0xa1, 0x06, 0x06, 0x04, 0x2a, 0x86, 0x48, 0x86 };
      sxauth__buf_put(&b, t, sizeof t);
    } else {
      sxauth__spnego_build_resp(&b, cases[i].neg_state, cases[i].mech,
                                cases[i].token ? chal.p : NULL, chal.len,
                                NULL, 0);
    }
    assert_int_equal(sxauth_client_step(c, b.p, b.len, &o, &n),
                     cases[i].want);
    sxauth__buf_free(&b);
    sxauth_client_free(c);
  }
  /* the client rejects: the server stops with a logon failure */
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  assert_int_equal(sxauth_client_new(&c, &cc), 0);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_accept_step(a, o, n, &o, &n), SXAUTH_CONTINUE);
  sxauth__buf rej = { 0 };
  sxauth__spnego_build_resp(&rej, SPNEGO_REJECT, 0, NULL, 0, NULL, 0);
  assert_int_equal(sxauth_accept_step(a, rej.p, rej.len, &o, &n),
                   SXAUTH_ERR_LOGON);
  sxauth__buf_free(&rej);
  sxauth__buf_free(&chal);
  sxauth_client_free(c);
  sxauth_accept_free(a);
  sxauth_server_free(s);
}

/* ---- truncation at every byte ----------------------------------------- */

typedef struct transcript {
  uint8_t *m[5];
  size_t n[5];
} transcript;

static void keep(int msg, uint8_t *p, size_t n, transcript *t)
{
  t->m[msg] = malloc(n ? n : 1);
  if (n)
    memcpy(t->m[msg], p, n);
  t->n[msg] = n;
}

static transcript *cur;
static void record(int msg, uint8_t *p, size_t n)
{
  keep(msg, p, n, cur);
}

/* Every proper prefix of each message, fed to a peer in the state that
 * expects it, is a clean error (the empty NEGOTIATE blob and the empty
 * final blob are valid: an SMB2 server may send none). */
static void truncation_of(int raw)
{
  fixed f = { NULL, 0, 0, 0x33, 132000000000000000ull };
  sxauth_server_config sc = server_cfg();
  sc.hooks = hooks_of(&f);
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  cc.raw_ntlmssp = raw;
  cc.hooks = hooks_of(&f);
  transcript t = { 0 };
  cur = &t;
  xchg x;
  run(&cc, &sc, record, &x);
  assert_int_equal(x.c3, SXAUTH_DONE);
  sxauth_server *s;
  assert_int_equal(sxauth_server_new(&s, &sc), 0);
  for (int msg = 0; msg < 5; msg++) {
    for (size_t len = 0; len < t.n[msg]; len++) {
      const uint8_t *o;
      size_t n;
      int rc;
      uint8_t *cut = malloc(len ? len : 1);
      memcpy(cut, t.m[msg], len);
      if (msg % 2 == 1) { /* to the server */
        sxauth_accept *a;
        assert_int_equal(sxauth_accept_new(&a, s), 0);
        if (msg == 3)
          assert_int_equal(sxauth_accept_step(a, t.m[1], t.n[1], &o, &n),
                           SXAUTH_CONTINUE);
        rc = sxauth_accept_step(a, cut, len, &o, &n);
        assert_true(rc < 0);
        assert_int_equal(sxauth_accept_step(a, cut, len, &o, &n), rc);
        sxauth_accept_free(a);
      } else { /* to the client */
        sxauth_client *c;
        assert_int_equal(sxauth_client_new(&c, &cc), 0);
        if (msg >= 2)
          assert_int_equal(sxauth_client_step(c, t.m[0], t.n[0], &o, &n),
                           SXAUTH_CONTINUE);
        if (msg == 4)
          assert_int_equal(sxauth_client_step(c, t.m[2], t.n[2], &o, &n),
                           SXAUTH_CONTINUE);
        rc = sxauth_client_step(c, cut, len, &o, &n);
        if (len == 0 && (msg == 0 || msg == 4))
          assert_true(rc >= 0);
        else if (raw && msg == 0)
          assert_int_equal(rc, SXAUTH_CONTINUE); /* raw ignores it */
        else if (raw && msg == 4)
          assert_int_equal(rc, SXAUTH_DONE);
        else
          assert_true(rc < 0);
        sxauth_client_free(c);
      }
      free(cut);
    }
  }
  for (int msg = 0; msg < 5; msg++)
    free(t.m[msg]);
  sxauth_server_free(s);
}

static void nlmp_2_2_truncation_at_every_byte_spnego(void **state)
{
  (void)state;
  truncation_of(0);
}

static void nlmp_2_2_truncation_at_every_byte_raw(void **state)
{
  (void)state;
  truncation_of(1);
}

/* Corrupting single bytes of an AUTHENTICATE never crashes and never
 * yields a logon with a different key. */
static void nlmp_2_2_1_3_field_offsets_out_of_bounds(void **state)
{
  (void)state;
  fixed f = { NULL, 0, 0, 0x33, 132000000000000000ull };
  sxauth_server_config sc = server_cfg();
  sc.hooks = hooks_of(&f);
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  cc.raw_ntlmssp = 1;
  cc.hooks = hooks_of(&f);
  transcript t = { 0 };
  cur = &t;
  xchg x;
  run(&cc, &sc, record, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  sxauth_server *s;
  assert_int_equal(sxauth_server_new(&s, &sc), 0);
  /* each of the six fields: offset pointing past the end, length past it */
  for (size_t fld = 12; fld <= 52; fld += 8) {
    for (int which = 0; which < 2; which++) {
      sxauth_accept *a;
      const uint8_t *o;
      size_t n;
      assert_int_equal(sxauth_accept_new(&a, s), 0);
      assert_int_equal(sxauth_accept_step(a, t.m[1], t.n[1], &o, &n),
                       SXAUTH_CONTINUE);
      uint8_t *m = malloc(t.n[3]);
      memcpy(m, t.m[3], t.n[3]);
      if (which == 0) {
        m[fld + 4] = 0xff; /* offset 0xffffxxxx */
        m[fld + 7] = 0xff;
      } else {
        m[fld] = m[fld + 1] = 0xff; /* length 65535 */
      }
      int rc = sxauth_accept_step(a, m, t.n[3], &o, &n);
      if (sxauth__le16(t.m[3] + fld) == 0 && which == 0)
        assert_true(rc == SXAUTH_DONE || rc < 0);
      else
        assert_int_equal(rc, SXAUTH_ERR_DECODE);
      free(m);
      sxauth_accept_free(a);
    }
  }
  for (int i = 0; i < 5; i++)
    free(t.m[i]);
  sxauth_server_free(s);
}

/* ---- independent implementation: impacket ------------------------------ */

static int have_impacket(void)
{
  FILE *p = popen("/usr/bin/python3 -c 'import impacket.ntlm' 2>/dev/null",
                  "r");
  if (!p)
    return 0;
  return pclose(p) == 0;
}

static void need_impacket(void)
{
  if (have_impacket())
    return;
  if (getenv("CI")) /* CI installs python3-impacket: missing is a failure */
    fail_msg("impacket not importable by /usr/bin/python3");
  skip();
}

/* Runs the helper script; returns its stdout (malloc'd) and exit status. */
static char *py(const char *args, int *status)
{
  size_t cap = strlen(args) + 512;
  char *cmd = malloc(cap);
  snprintf(cmd, cap, "/usr/bin/python3 '%s' %s", SXAUTH_IMPACKET_SCRIPT, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t len = 0, ocap = 1 << 16;
  char *out = malloc(ocap);
  size_t r;
  while ((r = fread(out + len, 1, ocap - len - 1, p)) > 0) {
    len += r;
    if (ocap - len < 2) {
      ocap *= 2;
      out = realloc(out, ocap);
    }
  }
  out[len] = 0;
  *status = pclose(p);
  free(cmd);
  return out;
}

static size_t unhex(const char *h, uint8_t **out)
{
  size_t n = 0;
  while ((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f'))
    n++;
  *out = malloc(n / 2 + 1);
  hex(h, *out, n / 2);
  return n / 2;
}

/* impacket's client (getNTLMSSPType1/getNTLMSSPType3, its own SPNEGO
 * encoder) against our server: accepted, with the session key impacket
 * computed. Raw and SPNEGO, with and without KEY_EXCH. */
static void interop_impacket_client_against_our_server(void **state)
{
  (void)state;
  need_impacket();
  for (int mode = 0; mode < 4; mode++) {
    int spnego = mode & 1, sign = (mode & 2) != 0;
    sxauth_server_config sc = server_cfg();
    sxauth_server *s;
    sxauth_accept *a;
    assert_int_equal(sxauth_server_new(&s, &sc), 0);
    assert_int_equal(sxauth_accept_new(&a, s), 0);
    int st;
    char args[64];
    snprintf(args, sizeof args, "type1 %s", sign ? "sign" : "nosign");
    char *o1 = py(args, &st);
    assert_int_equal(st, 0);
    char *sp = strchr(o1, ' ');
    assert_non_null(sp);
    uint8_t *t1_spnego, *t1_raw;
    size_t n_spnego = unhex(o1, &t1_spnego);
    size_t n_raw = unhex(sp + 1, &t1_raw);
    const uint8_t *o;
    size_t n;
    if (spnego)
      assert_int_equal(sxauth_accept_step(a, t1_spnego, n_spnego, &o, &n),
                       SXAUTH_CONTINUE);
    else
      assert_int_equal(sxauth_accept_step(a, t1_raw, n_raw, &o, &n),
                       SXAUTH_CONTINUE);
    char *t1h = tohex(t1_raw, n_raw);
    char *t2h = tohex(o, n);
    size_t cap = strlen(t1h) + strlen(t2h) + 128;
    char *a3 = malloc(cap);
    snprintf(a3, cap, "type3 %s %s alice 'Secret#1' TESTDOM %s", t1h, t2h,
             spnego ? "spnego" : "raw");
    char *o3 = py(a3, &st);
    assert_int_equal(st, 0);
    sp = strchr(o3, ' ');
    assert_non_null(sp);
    uint8_t *t3, *key;
    size_t n3 = unhex(o3, &t3);
    assert_int_equal(unhex(sp + 1, &key), 16);
    assert_int_equal(sxauth_accept_step(a, t3, n3, &o, &n), SXAUTH_DONE);
    sxauth_result r;
    assert_int_equal(sxauth_accept_result(a, &r), 0);
    assert_int_equal(r.kind, SXAUTH_KIND_USER);
    assert_string_equal(r.user, "alice");
    assert_string_equal(r.domain, "TESTDOM");
    assert_memory_equal(r.session_key, key, 16);
    free(o1);
    free(o3);
    free(a3);
    free(t1h);
    free(t2h);
    free(t1_spnego);
    free(t1_raw);
    free(t3);
    free(key);
    sxauth_accept_free(a);
    sxauth_server_free(s);
  }
  /* and a wrong password from impacket is refused */
  sxauth_server_config sc = server_cfg();
  sxauth_server *s;
  sxauth_accept *a;
  assert_int_equal(sxauth_server_new(&s, &sc), 0);
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  int st;
  char *o1 = py("type1 sign", &st);
  uint8_t *t1;
  size_t n1 = unhex(strchr(o1, ' ') + 1, &t1);
  const uint8_t *o;
  size_t n;
  assert_int_equal(sxauth_accept_step(a, t1, n1, &o, &n), SXAUTH_CONTINUE);
  char *t1h = tohex(t1, n1), *t2h = tohex(o, n);
  size_t cap = strlen(t1h) + strlen(t2h) + 128;
  char *a3 = malloc(cap);
  snprintf(a3, cap, "type3 %s %s alice wrong TESTDOM raw", t1h, t2h);
  char *o3 = py(a3, &st);
  assert_int_equal(st, 0);
  uint8_t *t3;
  size_t n3 = unhex(o3, &t3);
  assert_int_equal(sxauth_accept_step(a, t3, n3, &o, &n), SXAUTH_ERR_LOGON);
  free(o1);
  free(o3);
  free(a3);
  free(t1h);
  free(t2h);
  free(t1);
  free(t3);
  sxauth_accept_free(a);
  sxauth_server_free(s);
}

/* Our client's AUTHENTICATE checked by impacket's NTOWFv2/hmac_md5 and
 * ARC4: NTProofStr, exported session key and MIC. */
static void interop_our_client_verified_by_impacket(void **state)
{
  (void)state;
  need_impacket();
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  cc.raw_ntlmssp = 1;
  transcript t = { 0 };
  cur = &t;
  xchg x;
  run(&cc, &sc, record, &x);
  assert_int_equal(x.s2, SXAUTH_DONE);
  char *h[4];
  h[0] = tohex(t.m[1], t.n[1]);
  h[1] = tohex(t.m[2], t.n[2]);
  h[2] = tohex(t.m[3], t.n[3]);
  h[3] = tohex(x.ckey, 16);
  size_t cap = strlen(h[0]) + strlen(h[1]) + strlen(h[2]) + 256;
  char *args = malloc(cap);
  snprintf(args, cap, "verify %s %s %s alice 'Secret#1' TESTDOM %s", h[0],
           h[1], h[2], h[3]);
  int st;
  char *out = py(args, &st);
  assert_string_equal(out, "OK\n");
  assert_int_equal(st, 0);
  free(out);
  /* the check can fail: a different password does not verify */
  snprintf(args, cap, "verify %s %s %s alice 'Secret#2' TESTDOM %s", h[0],
           h[1], h[2], h[3]);
  out = py(args, &st);
  assert_string_equal(out, "NTProofStr differs\n");
  assert_int_not_equal(st, 0);
  free(out);
  free(args);
  for (int i = 0; i < 4; i++)
    free(h[i]);
  for (int i = 0; i < 5; i++)
    free(t.m[i]);
}

/* The SPNEGO mechListMICs both of ours sign ([MS-NLMP] 3.4.4.2 MAC with
 * extended session security, RC4-sealed checksum under KEY_EXCH) equal
 * impacket's SIGNKEY/SEALKEY/MAC. */
static void interop_mech_list_mic_matches_impacket(void **state)
{
  (void)state;
  need_impacket();
  sxauth_server_config sc = server_cfg();
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  transcript t = { 0 };
  cur = &t;
  xchg x;
  run(&cc, &sc, record, &x);
  assert_int_equal(x.c3, SXAUTH_DONE);
  sxauth__neg_resp cr_, sr_;
  const char *why;
  assert_int_equal(sxauth__spnego_parse_resp(t.m[3], t.n[3], &cr_, &why), 0);
  assert_int_equal(sxauth__spnego_parse_resp(t.m[4], t.n[4], &sr_, &why), 0);
  assert_int_equal(cr_.mech_list_mic.len, 16);
  assert_int_equal(sr_.mech_list_mic.len, 16);
  uint32_t flags = sxauth__le32(cr_.response_token.p + 60);
  assert_true(flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
  sxauth__buf mt = { 0 };
  sxauth__spnego_ntlm_mech_types(&mt);
  char *key = tohex(x.ckey, 16), *types = tohex(mt.p, mt.len);
  for (int dir = 0; dir < 3; dir++) {
    const sxauth__neg_resp *r = dir == 1 ? &sr_ : &cr_;
    char *mic = tohex(r->mech_list_mic.p, 16);
    char args[512];
    /* dir 2: the client's MIC checked as the server's must differ */
    snprintf(args, sizeof args, "maclist %08x %s %s %s %s", flags, key,
             types, mic, dir == 0 ? "client" : "server");
    int st;
    char *out = py(args, &st);
    if (dir < 2) {
      assert_string_equal(out, "OK\n");
      assert_int_equal(st, 0);
    } else {
      assert_int_not_equal(st, 0);
    }
    free(out);
    free(mic);
  }
  free(key);
  free(types);
  sxauth__buf_free(&mt);
  for (int i = 0; i < 5; i++)
    free(t.m[i]);
}

/* ---- independent implementation: Samba's ntlm_auth client -------------- */

typedef struct child {
  pid_t pid;
  FILE *to, *from;
} child;

static void spawn(child *c, char *const argv[])
{
  int to[2], from[2];
  assert_int_equal(pipe(to), 0);
  assert_int_equal(pipe(from), 0);
  c->pid = fork();
  assert_true(c->pid >= 0);
  if (c->pid == 0) {
    dup2(to[0], 0);
    dup2(from[1], 1);
    close(to[0]);
    close(to[1]);
    close(from[0]);
    close(from[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  c->to = fdopen(to[1], "w");
  c->from = fdopen(from[0], "r");
  assert_non_null(c->to);
  assert_non_null(c->from);
}

static void reap(child *c)
{
  fclose(c->to);
  fclose(c->from);
  int st;
  waitpid(c->pid, &st, 0);
}

/* Sends "CMD [base64(data)]", returns the reply's verb in verb[3] and its
 * base64 payload decoded into *out (malloc'd). */
static size_t helper_talk(child *c, const char *cmd, const uint8_t *data,
                          size_t n, char verb[3], uint8_t **out)
{
  char *b64 = malloc(4 * (n / 3 + 1) + 1);
  int bl = EVP_EncodeBlock((unsigned char *)b64, data, (int)n);
  fprintf(c->to, "%s%s%.*s\n", cmd, n ? " " : "", bl, b64);
  fflush(c->to);
  free(b64);
  static char line[1 << 17];
  assert_non_null(fgets(line, sizeof line, c->from));
  size_t len = strcspn(line, "\r\n");
  line[len] = 0;
  memcpy(verb, line, 2);
  verb[2] = 0;
  *out = NULL;
  if (len <= 3 || line[2] != ' ' || strcmp(verb, "BH") == 0)
    return 0;
  const char *p = line + 3;
  size_t pl = strlen(p);
  *out = malloc(pl + 1);
  int dl = EVP_DecodeBlock(*out, (const unsigned char *)p, (int)pl);
  assert_true(dl >= 0);
  while (pl && p[pl - 1] == '=') { /* EVP_DecodeBlock counts padding */
    pl--;
    dl--;
  }
  return (size_t)dl;
}

/* Samba's own client (ntlm_auth --helper-protocol=gss-spnego-client, Samba
 * 4.17) against our server: its SPNEGO and NTLMv2 response (with its
 * MsvAvSingleHost and MsvAvChannelBindings pairs) are accepted and it
 * accepts our final negTokenResp. A wrong password is refused. */
static void interop_samba_ntlm_auth_client_against_our_server(void **state)
{
  (void)state;
  if (access("/usr/bin/ntlm_auth", X_OK) != 0)
    skip(); /* Debian winbind package */
  for (int good = 1; good >= 0; good--) {
    sxauth_server_config sc = server_cfg();
    sxauth_server *s;
    sxauth_accept *a;
    assert_int_equal(sxauth_server_new(&s, &sc), 0);
    assert_int_equal(sxauth_accept_new(&a, s), 0);
    char *argv[] = { "/usr/bin/ntlm_auth", "--helper-protocol=gss-spnego-client",
                     "--username=alice",
                     good ? "--password=Secret#1" : "--password=Secret#2",
                     "--domain=TESTDOM", NULL };
    child c;
    spawn(&c, argv);
    char verb[3];
    uint8_t *tok;
    size_t n = helper_talk(&c, "YR", NULL, 0, verb, &tok);
    assert_string_equal(verb, "YR");
    const uint8_t *o;
    size_t on;
    assert_int_equal(sxauth_accept_step(a, tok, n, &o, &on), SXAUTH_CONTINUE);
    free(tok);
    n = helper_talk(&c, "TT", o, on, verb, &tok);
    assert_string_equal(verb, "KK");
    int rc = sxauth_accept_step(a, tok, n, &o, &on);
    free(tok);
    if (!good) {
      assert_int_equal(rc, SXAUTH_ERR_LOGON);
    } else {
      assert_int_equal(rc, SXAUTH_DONE);
      sxauth_result r;
      assert_int_equal(sxauth_accept_result(a, &r), 0);
      assert_int_equal(r.kind, SXAUTH_KIND_USER);
      assert_string_equal(r.user, "alice");
      /* without NTLMSSP_NEGOTIATE_SIGN (ntlm_auth does not ask for it)
       * Samba sends neither MIC nor mechListMIC, so neither do we */
      sxauth__neg_resp nr;
      const char *why;
      assert_int_equal(sxauth__spnego_parse_resp(o, on, &nr, &why), 0);
      assert_int_equal(nr.neg_state, SPNEGO_ACCEPT_COMPLETED);
      n = helper_talk(&c, "TT", o, on, verb, &tok);
      assert_string_equal(verb, "AF");
      free(tok);
    }
    reap(&c);
    sxauth_accept_free(a);
    sxauth_server_free(s);
  }
}

/* A real exchange of Samba's smbclient (SIGN, KEY_EXCH, MIC, mechListMIC)
 * with Samba's smbd (vectors_samba.h): the server's verification code
 * accepts the client's NTLMv2 response, decrypts its exported key, checks
 * its MIC, and the client's mechListMIC equals ours under that key. Our
 * client takes the Samba server's tokens. */
static void interop_samba_smbclient_exchange_verifies(void **state)
{
  (void)state;
  const char *why;
  sxauth__neg_init ni;
  sxauth__neg_resp chr, aur, fin;
  assert_int_equal(sxauth__spnego_parse_init(samba_neg_init,
                                             sizeof samba_neg_init, &ni,
                                             &why), 0);
  assert_int_equal(ni.ntlm_index, 0);
  assert_int_equal(sxauth__spnego_parse_resp(samba_chal_resp,
                                             sizeof samba_chal_resp, &chr,
                                             &why), 0);
  assert_int_equal(chr.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
  assert_int_equal(sxauth__spnego_parse_resp(samba_auth_resp,
                                             sizeof samba_auth_resp, &aur,
                                             &why), 0);
  assert_int_equal(sxauth__spnego_parse_resp(samba_final_resp,
                                             sizeof samba_final_resp, &fin,
                                             &why), 0);
  assert_int_equal(fin.neg_state, SPNEGO_ACCEPT_COMPLETED);
  assert_null(fin.mech_list_mic.p); /* guest: Samba sends none either */

  sxauth__negotiate ng;
  sxauth__challenge ch;
  sxauth__authenticate m;
  assert_int_equal(sxauth__parse_negotiate(ni.mech_token.p, ni.mech_token.len,
                                           &ng, &why), 0);
  assert_int_equal(sxauth__parse_challenge(chr.response_token.p,
                                           chr.response_token.len, &ch, &why),
                   0);
  assert_int_equal(sxauth__parse_authenticate(aur.response_token.p,
                                              aur.response_token.len, &m,
                                              &why), 0);
  uint32_t flags = m.flags & ch.flags;
  assert_true(flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
  assert_true(flags & NTLMSSP_NEGOTIATE_SIGN);
  int mic = 0;
  assert_int_equal(sxauth__ntlmv2_check_response(&m.nt, &mic, &why), 0);
  assert_int_equal(mic, 1);
  uint8_t nt[16], key[16], mac[16];
  assert_int_equal(sxauth__nt_hash(cr, "Secret#1", nt), 0);
  assert_int_equal(
      sxauth__ntlmv2_verify(cr, nt, flags, ch.server_challenge, &m, mic,
                            ni.mech_token.p, ni.mech_token.len,
                            chr.response_token.p, chr.response_token.len,
                            aur.response_token.p, aur.response_token.len, key,
                            &why),
      0);
  assert_int_equal(sxauth__ntlm_mac(cr, flags, key, 1, 0, ni.mech_types.p,
                                    ni.mech_types.len, mac), 0);
  assert_int_equal(aur.mech_list_mic.len, 16);
  assert_memory_equal(mac, aur.mech_list_mic.p, 16);
  /* a wrong password, and a MIC over a different NEGOTIATE, are caught */
  uint8_t bad[16];
  assert_int_equal(sxauth__nt_hash(cr, "Secret#2", bad), 0);
  assert_int_equal(
      sxauth__ntlmv2_verify(cr, bad, flags, ch.server_challenge, &m, mic,
                            ni.mech_token.p, ni.mech_token.len,
                            chr.response_token.p, chr.response_token.len,
                            aur.response_token.p, aur.response_token.len, key,
                            &why),
      SXAUTH_ERR_LOGON);
  assert_int_equal(
      sxauth__ntlmv2_verify(cr, nt, flags, ch.server_challenge, &m, mic,
                            ni.mech_token.p, ni.mech_token.len - 1,
                            chr.response_token.p, chr.response_token.len,
                            aur.response_token.p, aur.response_token.len, key,
                            &why),
      SXAUTH_ERR_MIC);

  /* our client against the Samba server's CHALLENGE and final token */
  sxauth_client_config cc = client_cfg("alice", "Secret#1");
  sxauth_client *c;
  const uint8_t *o;
  size_t n;
  assert_int_equal(sxauth_client_new(&c, &cc), 0);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_client_step(c, samba_chal_resp,
                                      sizeof samba_chal_resp, &o, &n),
                   SXAUTH_CONTINUE);
  assert_int_equal(sxauth_client_step(c, samba_final_resp,
                                      sizeof samba_final_resp, &o, &n),
                   SXAUTH_DONE);
  sxauth_client_free(c);
}

/* ---- API edges --------------------------------------------------------- */

static void api_bad_arguments_and_states(void **state)
{
  (void)state;
  sxauth_client *c;
  sxauth_client_config cc = { 0 };
  cc.crypto = cr;
  assert_int_equal(sxauth_client_new(&c, &cc), SXAUTH_ERR_INVAL); /* no user */
  cc.user = "a\xff";
  assert_int_equal(sxauth_client_new(&c, &cc), SXAUTH_ERR_INVAL); /* UTF-8 */
  assert_int_equal(sxauth_client_new(NULL, &cc), SXAUTH_ERR_INVAL);
  sxauth_server *s;
  sxauth_server_config sc = { 0 };
  sc.crypto = cr;
  sc.n_users = 1;
  assert_int_equal(sxauth_server_new(&s, &sc), SXAUTH_ERR_INVAL);
  sxauth_user bad = { "", "x", NULL };
  sc.users = &bad;
  assert_int_equal(sxauth_server_new(&s, &sc), SXAUTH_ERR_INVAL);
  /* steps after DONE */
  sxauth_server_config ok = server_cfg();
  sxauth_client_config cu = client_cfg("alice", "Secret#1");
  cu.raw_ntlmssp = 1;
  assert_int_equal(sxauth_server_new(&s, &ok), 0);
  sxauth_accept *a;
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  assert_int_equal(sxauth_client_new(&c, &cu), 0);
  const uint8_t *o;
  size_t n;
  uint8_t key[16];
  assert_int_equal(sxauth_client_session_key(c, key), SXAUTH_ERR_STATE);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_accept_step(a, o, n, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_client_step(c, o, n, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_accept_step(a, o, n, &o, &n), SXAUTH_DONE);
  assert_int_equal(n, 0);
  assert_int_equal(sxauth_accept_step(a, NULL, 0, &o, &n), SXAUTH_ERR_STATE);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_DONE);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_ERR_STATE);
  assert_int_equal(sxauth_client_step(c, NULL, 1, &o, &n), SXAUTH_ERR_INVAL);
  sxauth_client_free(c);
  sxauth_accept_free(a);
  sxauth_server_free(s);
  /* tokens longer than SMB2's 16-bit SecurityBufferLength */
  static uint8_t big[65536];
  assert_int_equal(sxauth_server_new(&s, &ok), 0);
  assert_int_equal(sxauth_accept_new(&a, s), 0);
  assert_int_equal(sxauth_accept_step(a, big, sizeof big, &o, &n),
                   SXAUTH_ERR_DECODE);
  assert_int_equal(sxauth_client_new(&c, &cu), 0);
  assert_int_equal(sxauth_client_step(c, NULL, 0, &o, &n), SXAUTH_CONTINUE);
  assert_int_equal(sxauth_client_step(c, big, sizeof big, &o, &n),
                   SXAUTH_ERR_DECODE);
  sxauth_client_free(c);
  sxauth_accept_free(a);
  sxauth_server_free(s);
  assert_string_equal(sxauth_strerror(SXAUTH_ERR_MIC), "MIC mismatch");
  assert_string_equal(sxauth_strerror(12345), "unknown error");
}

/* Without OpenSSL's legacy provider (MD4, RC4) creation fails with
 * SXAUTH_ERR_CRYPTO (and a message on stderr), never later. */
static void crypto_missing_legacy_provider_fails_clearly(void **state)
{
  (void)state;
  const char *old = getenv("OPENSSL_MODULES");
  char *saved = old ? strdup(old) : NULL;
  assert_int_equal(setenv("OPENSSL_MODULES", "/nonexistent-sxauth", 1), 0);
  sxauth_crypto *c2 = NULL;
  int rc = sxauth_crypto_new(&c2);
  sxauth_client *c = NULL;
  sxauth_client_config cc = client_cfg("alice", "x");
  cc.crypto = NULL;
  int rc2 = sxauth_client_new(&c, &cc);
  if (saved) {
    setenv("OPENSSL_MODULES", saved, 1);
    free(saved);
  } else {
    unsetenv("OPENSSL_MODULES");
  }
  assert_int_equal(rc, SXAUTH_ERR_CRYPTO);
  assert_null(c2);
  assert_int_equal(rc2, SXAUTH_ERR_CRYPTO);
  assert_null(c);
  /* and with the modules back it works again */
  assert_int_equal(sxauth_crypto_new(&c2), 0);
  sxauth_crypto_free(c2);
}

static void utf16_conversions(void **state)
{
  (void)state;
  sxauth__buf b = { 0 };
  assert_int_equal(sxauth__utf8_to_utf16le("a\xc3\xa9\xf0\x9f\x98\x80", &b),
                   0);
  uint8_t want[] = { 'a', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde };
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.p, want, sizeof want);
  char *s;
  assert_int_equal(sxauth__utf16le_to_utf8(b.p, b.len, &s), 0);
  assert_string_equal(s, "a\xc3\xa9\xf0\x9f\x98\x80");
  free(s);
  assert_int_equal(sxauth__utf16le_to_utf8(b.p, 3, &s), -1); /* odd */
  assert_int_equal(sxauth__utf16le_to_utf8(b.p + 4, 2, &s), -1); /* lone */
  assert_int_equal(sxauth__utf16le_to_utf8(b.p + 6, 2, &s), -1);
  size_t before = b.len;
  assert_int_equal(sxauth__utf8_to_utf16le("\xc0\x80", &b), -1); /* overlong */
  assert_int_equal(sxauth__utf8_to_utf16le("\xed\xa0\x80", &b), -1);
  assert_int_equal(b.len, before);
  sxauth__buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(nlmp_4_2_4_1_1_ntowfv2_known_answer),
    cmocka_unit_test(nlmp_4_2_4_2_ntlmv2_response_and_keys_known_answer),
    cmocka_unit_test(nlmp_4_2_4_client_authenticate_known_answer),
    cmocka_unit_test(spng_server_negotiate_blob_is_neg_token_init_ntlmssp),
    cmocka_unit_test(spng_init_and_resp_round_trip_long_lengths),
    cmocka_unit_test(spng_init_mech_list_order_and_neg_hints),
    cmocka_unit_test(spng_hostile_der_is_decode_error),
    cmocka_unit_test(nlmp_3_2_5_1_2_ntlmv2_user_same_session_key),
    cmocka_unit_test(nlmp_raw_ntlmssp_without_spnego),
    cmocka_unit_test(nlmp_3_2_5_1_2_wrong_password_rejected),
    cmocka_unit_test(nlmp_unknown_user_guest_when_allowed),
    cmocka_unit_test(nlmp_anonymous_null_session),
    cmocka_unit_test(nlmp_3_2_5_1_2_mic_binds_all_three_messages),
    cmocka_unit_test(spng_mech_list_mic_checked_both_ways),
    cmocka_unit_test(nlmp_3_2_5_1_2_lm_and_ntlmv1_rejected),
    cmocka_unit_test(spng_ntlmssp_not_first_requires_mech_list_mic),
    cmocka_unit_test(spng_4_2_2_neg_state_and_supported_mech_checked),
    cmocka_unit_test(nlmp_2_2_truncation_at_every_byte_spnego),
    cmocka_unit_test(nlmp_2_2_truncation_at_every_byte_raw),
    cmocka_unit_test(nlmp_2_2_1_3_field_offsets_out_of_bounds),
    cmocka_unit_test(interop_impacket_client_against_our_server),
    cmocka_unit_test(interop_our_client_verified_by_impacket),
    cmocka_unit_test(interop_mech_list_mic_matches_impacket),
    cmocka_unit_test(interop_samba_ntlm_auth_client_against_our_server),
    cmocka_unit_test(interop_samba_smbclient_exchange_verifies),
    cmocka_unit_test(api_bad_arguments_and_states),
    cmocka_unit_test(crypto_missing_legacy_provider_fails_clearly),
    cmocka_unit_test(utf16_conversions),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
