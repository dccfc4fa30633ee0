/* SPDX-License-Identifier: MIT */
/* lib/conn with real crypto (the OpenSSL adapter of examples/crypto):
 * case 4a (preauth integrity chain over NEGOTIATE and SESSION_SETUP legs,
 * binding leg included, checked against an independent SHA-512), signing
 * and verification both ways, TRANSFORM encryption over TCP and SMB
 * Direct, tampering. */
#define _POSIX_C_SOURCE 200809L
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include <smbx/crypto.h>
#include <smbx/smb2.h>

#include "conn/conn_int.h"
#include "pcapw.h"
#include "smbx_openssl.h"
#include "th.h"

#include <unistd.h>

static smbx_openssl *ossl;
static smbx_crypto CR;

static int setup(void **state)
{
  (void)state;
  char err[256];
  if (smbx_openssl_new(&ossl, 0, err, sizeof err) != 0)
    return -1;
  smbx_openssl_crypto(ossl, &CR);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  smbx_openssl_free(ossl);
  return 0;
}

/* independent oracle: h = SHA-512(h || m) with OpenSSL directly */
static void oracle(uint8_t h[64], const uint8_t *m, size_t n)
{
  EVP_MD_CTX *x = EVP_MD_CTX_new();
  unsigned int l = 0;
  assert_int_equal(EVP_DigestInit_ex(x, EVP_sha512(), NULL), 1);
  assert_int_equal(EVP_DigestUpdate(x, h, 64), 1);
  assert_int_equal(EVP_DigestUpdate(x, m, n), 1);
  assert_int_equal(EVP_DigestFinal_ex(x, h, &l), 1);
  assert_int_equal(l, 64);
  EVP_MD_CTX_free(x);
}

/* PREAUTH_INTEGRITY_CAPABILITIES: SHA-512, 32-byte salt */
static size_t preauth_ctx(uint8_t *p, uint8_t salt)
{
  memset(p, 0, 48);
  smbx__conn_st16(p, 1);
  smbx__conn_st16(p + 2, 38);
  smbx__conn_st16(p + 8, 1);
  smbx__conn_st16(p + 10, 32);
  smbx__conn_st16(p + 12, 1);
  for (int i = 0; i < 32; i++)
    p[14 + i] = (uint8_t)(salt + i);
  return 46;
}

static size_t neg_req(uint8_t *p, uint8_t salt)
{
  static const uint8_t dialects[] = {0x02, 0x02, 0x10, 0x02, 0x00, 0x03,
                                     0x02, 0x03, 0x11, 0x03};
  uint8_t ctx[48];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_negotiate_req r;
  memset(&r, 0, sizeof r);
  r.security_mode = 1;
  r.capabilities = SMBX_SMB2_CAP_LARGE_MTU;
  memset(r.client_guid, 0xC1, 16);
  r.dialects.p = dialects;
  r.dialects.len = sizeof dialects;
  r.neg_ctx.p = ctx;
  r.neg_ctx.len = preauth_ctx(ctx, salt);
  r.neg_ctx_count = 1;
  smbx_ssize n = smbx_smb2_encode_negotiate_req(&h, &r, p, 4096, NULL);
  assert_true(n > 0);
  return (size_t)n;
}

static size_t neg_resp(th *x, uint64_t req, uint8_t *p, uint8_t salt)
{
  uint8_t ctx[48];
  static const uint8_t blob[] = {0x60, 0x06, 0x06, 0x04, 0x2b, 0x06};
  smbx_smb2_hdr h;
  assert_int_equal(smbx__conn_resp_hdr(x->s[TH_SRV].c, req, 0, &h), 0);
  smbx_smb2_negotiate_resp r;
  memset(&r, 0, sizeof r);
  r.security_mode = 1;
  r.dialect_revision = SMBX_SMB2_DIALECT_311;
  r.capabilities = SMBX_SMB2_CAP_LARGE_MTU;
  r.max_transact_size = r.max_read_size = r.max_write_size = 8u << 20;
  r.security_buffer.p = blob;
  r.security_buffer.len = sizeof blob;
  r.neg_ctx.p = ctx;
  r.neg_ctx.len = preauth_ctx(ctx, salt);
  r.neg_ctx_count = 1;
  smbx_ssize n = smbx_smb2_encode_negotiate_resp(&h, &r, p, 4096, NULL);
  assert_true(n > 0);
  return (size_t)n;
}

static th_ev *last(th *x, int side, int kind)
{
  size_t n = th_count(x, side, kind);
  assert_true(n > 0);
  return th_find(x, side, kind, n - 1);
}

/* NEGOTIATE 3.1.1 over a fresh pair; returns the expected hash */
static void negotiate(th *x, uint8_t salt, uint8_t expect[64])
{
  th_side *c = &x->s[TH_CLI], *s = &x->s[TH_SRV];
  size_t n = neg_req(c->out + SMBX__CONN_HEADROOM, salt);
  assert_int_equal(smbx__conn_send(c->c, c->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, NULL,
                                   0, NULL, 0, x->now),
                   1);
  th_run(x);
  th_ev *rq = last(x, TH_SRV, TE_REQUEST);
  assert_int_equal(rq->hdr.command, SMBX_SMB2_NEGOTIATE);
  uint8_t tmp[64];
  assert_int_equal(smbx__conn_preauth(s->c, tmp), SMBX_ERR_STATE);
  n = neg_resp(x, rq->req, s->out + SMBX__CONN_HEADROOM, salt);
  assert_int_equal(smbx__conn_respond(s->c, rq->req, s->out,
                                      TH_OUT_CAP + SMBX__CONN_HEADROOM, n,
                                      NULL, x->now),
                   0);
  th_run(x);
  th_ev *rs = last(x, TH_CLI, TE_COMPLETE);
  assert_int_equal(rs->err, 0);
  assert_int_equal(rs->hdr.command, SMBX_SMB2_NEGOTIATE);
  memset(expect, 0, 64);
  oracle(expect, rq->bytes, rq->len);
  oracle(expect, rs->bytes, rs->len);
  uint8_t hc[64], hs[64];
  assert_int_equal(smbx__conn_preauth(c->c, hc), 0);
  assert_int_equal(smbx__conn_preauth(s->c, hs), 0);
  assert_memory_equal(hc, expect, 64);
  assert_memory_equal(hs, expect, 64);
  th_dialect(x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
}

/* One SESSION_SETUP leg: client request (hashed as sent), server answer
 * `status` (hashed when MORE_PROCESSING_REQUIRED). */
static void ss_leg(th *x, uint64_t sid, uint8_t flags, uint32_t status,
                   uint64_t new_sid, uint8_t hc[64], uint8_t hs[64],
                   uint8_t oracle_h[64], uint32_t send_flags, bool tamper)
{
  th_side *c = &x->s[TH_CLI], *s = &x->s[TH_SRV];
  uint8_t blob[40];
  memset(blob, 0x4E, sizeof blob);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.session_id = sid;
  smbx_smb2_session_setup_req rq;
  memset(&rq, 0, sizeof rq);
  rq.flags = flags;
  rq.security_mode = 1;
  rq.security_buffer.p = blob;
  rq.security_buffer.len = sizeof blob;
  smbx_ssize n = smbx_smb2_encode_session_setup_req(
      &h, &rq, c->out + SMBX__CONN_HEADROOM, 4096, NULL);
  assert_true(n > 0);
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  o.preauth = hc;
  o.flags = send_flags;
  if (tamper)
    c->keys.keys.signing[0] ^= 0xFF;
  assert_int_equal(smbx__conn_send(c->c, c->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM,
                                   (size_t)n, &o, 0, NULL, 0, x->now),
                   1);
  if (tamper)
    c->keys.keys.signing[0] ^= 0xFF;
  th_run(x);
  th_ev *r = last(x, TH_SRV, TE_REQUEST);
  assert_int_equal(r->hdr.command, SMBX_SMB2_SESSION_SETUP);
  assert_int_equal(smbx__conn_preauth_update(s->c, hs, r->bytes, r->len), 0);
  oracle(oracle_h, r->bytes, r->len);
  smbx_smb2_hdr rh;
  assert_int_equal(smbx__conn_resp_hdr(s->c, r->req, status, &rh), 0);
  rh.session_id = new_sid;
  smbx_smb2_session_setup_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.security_buffer.p = blob;
  rs.security_buffer.len = 16;
  n = smbx_smb2_encode_session_setup_resp(&rh, &rs,
                                          s->out + SMBX__CONN_HEADROOM, 4096,
                                          NULL);
  assert_true(n > 0);
  memset(&o, 0, sizeof o);
  if (status == SMBX_STATUS_MORE_PROCESSING_REQUIRED)
    o.preauth = hs;
  assert_int_equal(smbx__conn_respond(s->c, r->req, s->out,
                                      TH_OUT_CAP + SMBX__CONN_HEADROOM,
                                      (size_t)n, &o, x->now),
                   0);
  th_run(x);
  th_ev *v = last(x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->status, status);
  if (status == SMBX_STATUS_MORE_PROCESSING_REQUIRED) {
    assert_int_equal(smbx__conn_preauth_update(c->c, hc, v->bytes, v->len),
                     0);
    oracle(oracle_h, v->bytes, v->len);
  }
}

static void pair(th *x, bool smbd)
{
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  if (smbd)
    assert_int_equal(th_init_smbd(x, &c, &s, &CR), 0);
  else
    assert_int_equal(th_init_tcp(x, &c, &s, &CR), 0);
}

static void set_keys(th *x, uint64_t sid, uint16_t dialect, uint16_t sign_alg,
                     uint16_t cipher, const uint8_t *preauth, uint32_t flags)
{
  static const uint8_t skey[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                   9, 10, 11, 12, 13, 14, 15, 16};
  for (int i = 0; i < 2; i++) {
    th_side *e = &x->s[i];
    memset(&e->keys, 0, sizeof e->keys);
    assert_int_equal(smbx_smb2_derive_keys(
                         &CR, dialect,
                         i == TH_CLI ? SMBX_CRYPTO_ROLE_CLIENT
                                     : SMBX_CRYPTO_ROLE_SERVER,
                         sign_alg, cipher, skey, sizeof skey,
                         dialect == SMBX_SMB2_DIALECT_311 ? preauth : NULL,
                         &e->keys.keys),
                     0);
    e->keys.flags = SMBX__CONN_KEYS_SIGNING | flags |
                    (cipher ? SMBX__CONN_KEYS_CIPHER : 0);
    e->keys_on = true;
    e->key_sid = sid;
  }
}

static void smb2_case_4a_preauth_chain_negotiate_and_session_setup(
    void **state)
{
  (void)state;
  th x;
  pair(&x, false);
  uint8_t h[64];
  negotiate(&x, 0x10, h);
  uint8_t hc[64], hs[64], ho[64];
  memcpy(hc, h, 64);
  memcpy(hs, h, 64);
  memcpy(ho, h, 64);
  ss_leg(&x, 0, 0, SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x1234, hc, hs, ho,
         0, false);
  assert_memory_equal(hc, ho, 64);
  assert_memory_equal(hs, ho, 64);
  ss_leg(&x, 0x1234, 0, SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x1234, hc, hs,
         ho, 0, false);
  /* the final SUCCESS response is not hashed */
  ss_leg(&x, 0x1234, 0, SMBX_STATUS_SUCCESS, 0x1234, hc, hs, ho, 0, false);
  assert_memory_equal(hc, ho, 64);
  assert_memory_equal(hs, ho, 64);
  /* the session's keys come from it; signed traffic verifies both ways */
  set_keys(&x, 0x1234, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_NONE, hc, SMBX__CONN_KEYS_SIGN_ALL);
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x1234, 1, 1, NULL), 1);
  th_run(&x);
  th_ev *r = last(&x, TH_SRV, TE_REQUEST);
  assert_true(r->flags & SMBX__CONN_PDU_VERIFIED);
  assert_true(r->hdr.flags & SMBX_SMB2_FLAGS_SIGNED);
  assert_int_equal(th_respond(&x, r->req, 0), 0);
  th_run(&x);
  th_ev *v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->err, 0);
  assert_true(v->flags & SMBX__CONN_PDU_VERIFIED);
  th_fini(&x);
}

static void smb2_case_4a_binding_leg_starts_from_the_new_connection(
    void **state)
{
  (void)state;
  /* first channel: session 0x1234 established */
  th a;
  pair(&a, false);
  uint8_t h[64], hc[64], hs[64], ho[64];
  negotiate(&a, 0x10, h);
  memcpy(hc, h, 64);
  memcpy(hs, h, 64);
  memcpy(ho, h, 64);
  ss_leg(&a, 0, 0, SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x1234, hc, hs, ho,
         0, false);
  ss_leg(&a, 0x1234, 0, SMBX_STATUS_SUCCESS, 0x1234, hc, hs, ho, 0, false);
  uint8_t session_hash[64];
  memcpy(session_hash, hc, 64);
  th_fini(&a);
  /* second channel: its own NEGOTIATE hash; the binding leg is signed
   * with the session's key and hashed from the new connection's value */
  th b;
  pair(&b, false);
  uint8_t h2[64];
  negotiate(&b, 0x20, h2);
  assert_memory_not_equal(h2, h, 64);
  /* the session encrypts everything, yet binding legs are never
   * encrypted (6.5) */
  set_keys(&b, 0x1234, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_CMAC,
           SMBX_CRYPTO_CIPHER_AES128_GCM, session_hash,
           SMBX__CONN_KEYS_ENCRYPT_ALL);
  memcpy(hc, h2, 64);
  memcpy(hs, h2, 64);
  memcpy(ho, h2, 64);
  ss_leg(&b, 0x1234, 0x01 /* BINDING */,
         SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x1234, hc, hs, ho,
         SMBX__CONN_SEND_SIGN, false);
  th_ev *r = last(&b, TH_SRV, TE_REQUEST);
  assert_true(r->hdr.flags & SMBX_SMB2_FLAGS_SIGNED);
  assert_true(r->flags & SMBX__CONN_PDU_VERIFIED);
  assert_false(r->flags & SMBX__CONN_PDU_ENCRYPTED);
  th_ev *rv = last(&b, TH_CLI, TE_COMPLETE);
  assert_false(rv->flags & SMBX__CONN_PDU_ENCRYPTED);
  assert_true(rv->flags & SMBX__CONN_PDU_VERIFIED);
  assert_memory_equal(hc, ho, 64);
  assert_memory_equal(hs, ho, 64);
  /* and a tampered binding request is delivered flagged, not failed */
  ss_leg(&b, 0x1234, 0x01, SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x1234, hc,
         hs, ho, SMBX__CONN_SEND_SIGN, true);
  r = last(&b, TH_SRV, TE_REQUEST);
  assert_true(r->flags & SMBX__CONN_PDU_SIG_BAD);
  th_fini(&b);
}

static void tap_pcap(void *ud, int dir, const uint8_t *p, size_t len)
{
  assert_int_equal(pcapw_tcp(ud, dir, p, len), 0);
}

static int hexval(char ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

/* tshark's smb2.preauth_hash of every SMB2 frame, in order (64 bytes each;
 * all-zero when the field is absent). Returns the frame count, -1 without
 * tshark. */
static int tshark_hashes(const char *path, uint8_t out[][64], int max)
{
  if (system("command -v tshark >/dev/null 2>&1") != 0)
    return -1;
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "tshark -r '%s' -Y smb2 -T fields -e smb2.preauth_hash "
           "2>/dev/null",
           path);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  char line[1024];
  int n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    memset(out[n], 0, 64);
    size_t k = 0;
    for (char *c = line; *c && k < 128; c++) {
      int v = hexval(*c);
      if (v < 0)
        continue; /* ':' separators, newline */
      out[n][k / 2] = (uint8_t)(out[n][k / 2] << 4 | v);
      k++;
    }
    assert_true(k == 0 || k == 128);
    n++;
  }
  assert_int_equal(pclose(f), 0);
  return n;
}

/* Case 4a against Wireshark: the exchange goes into a pcap through
 * tools/pcap (pcapw); tshark's smb2.preauth_hash of each frame must equal
 * the chain the connections kept (tshark shows, per frame, the value after
 * hashing that frame: the connection hash on NEGOTIATE, the session hash
 * on SESSION_SETUP; the final SUCCESS leg shows the value it was signed
 * from). */
static void smb2_case_4a_preauth_hash_equals_tshark(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "/tmp/smbx_conn_4a_%d.pcap", (int)getpid());
  pcapw *w = pcapw_open(path, NULL);
  assert_non_null(w);
  th x;
  pair(&x, false);
  x.tap = tap_pcap;
  x.tap_ud = w;
  uint8_t h[64], hc[64], hs[64], ho[64];
  uint8_t want[8][64];
  memset(want, 0, sizeof want);
  negotiate(&x, 0x40, h);
  memcpy(want[1], h, 64); /* NEGOTIATE response: the connection hash */
  memcpy(hc, h, 64);
  memcpy(hs, h, 64);
  memcpy(ho, h, 64);
  uint8_t h0[64];
  memset(h0, 0, 64);
  oracle(h0, th_find(&x, TH_SRV, TE_REQUEST, 0)->bytes,
         th_find(&x, TH_SRV, TE_REQUEST, 0)->len);
  memcpy(want[0], h0, 64); /* NEGOTIATE request */
  ss_leg(&x, 0, 0, SMBX_STATUS_MORE_PROCESSING_REQUIRED, 0x4321, hc, hs, ho,
         0, false);
  uint8_t after_resp1[64];
  memcpy(after_resp1, ho, 64);
  ss_leg(&x, 0x4321, 0, SMBX_STATUS_SUCCESS, 0x4321, hc, hs, ho, 0, false);
  x.tap = NULL;
  assert_int_equal(pcapw_close(w), 0);
  /* expected per frame: req1 = H(neg || req1), resp1 = H(.. || resp1),
   * req2 = H(.. || req2) = final session hash, resp2 (SUCCESS) = same */
  uint8_t r1[64];
  memcpy(r1, h, 64);
  th_ev *q1 = th_find(&x, TH_SRV, TE_REQUEST, 1);
  oracle(r1, q1->bytes, q1->len);
  memcpy(want[2], r1, 64);
  memcpy(want[3], after_resp1, 64);
  memcpy(want[4], ho, 64);
  memcpy(want[5], ho, 64);
  uint8_t got[8][64];
  int n = tshark_hashes(path, got, 8);
  unlink(path);
  if (n < 0) {
    th_fini(&x);
    skip(); /* tshark not installed */
  }
  assert_int_equal(n, 6);
  for (int i = 0; i < 6; i++) {
    if (memcmp(got[i], want[i], 64) != 0) {
      fprintf(stderr, "frame %d: tshark ", i);
      for (int k = 0; k < 8; k++)
        fprintf(stderr, "%02x", got[i][k]);
      fprintf(stderr, " want ");
      for (int k = 0; k < 8; k++)
        fprintf(stderr, "%02x", want[i][k]);
      fprintf(stderr, "\n");
    }
  }
  for (int i = 0; i < 6; i++)
    assert_memory_equal(got[i], want[i], 64);
  th_fini(&x);
}

static void signing_roundtrip(uint16_t dialect, uint16_t alg)
{
  th x;
  pair(&x, false);
  uint8_t pa[64];
  memset(pa, 0x5A, sizeof pa);
  th_dialect(&x, dialect, 0);
  set_keys(&x, 0x99, dialect, alg, SMBX_CRYPTO_CIPHER_NONE, pa,
           SMBX__CONN_KEYS_SIGN_ALL);
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x99, 1, 1, NULL), 1);
  th_run(&x);
  th_ev *r = last(&x, TH_SRV, TE_REQUEST);
  assert_true(r->flags & SMBX__CONN_PDU_VERIFIED);
  /* the bytes were signed with the negotiated algorithm */
  smbx__conn_keys *k = &x.s[TH_SRV].keys;
  assert_int_equal(smbx_smb2_verify(&CR, k->keys.signing_alg,
                                    k->keys.signing, r->bytes, r->len),
                   0);
  assert_int_equal(th_respond(&x, r->req, 0), 0);
  th_run(&x);
  th_ev *v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->err, 0);
  assert_true(v->flags & SMBX__CONN_PDU_VERIFIED);
  /* a response signed with another key: completed with SMBX_ERR_AUTH */
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x99, 1, 2, NULL), 1);
  th_run(&x);
  r = last(&x, TH_SRV, TE_REQUEST);
  x.s[TH_SRV].keys.keys.signing[3] ^= 1;
  assert_int_equal(th_respond(&x, r->req, 0), 0);
  th_run(&x);
  v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->err, SMBX_ERR_AUTH);
  assert_int_equal(v->user, 2);
  x.s[TH_SRV].keys.keys.signing[3] ^= 1;
  /* a request signed with another key: ACCESS_DENIED by the connection */
  x.s[TH_CLI].keys.keys.signing[3] ^= 1;
  assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x99, 1, 3, NULL), 1);
  x.s[TH_CLI].keys.keys.signing[3] ^= 1;
  size_t before = th_count(&x, TH_SRV, TE_REQUEST);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), before);
  v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->user, 3);
  assert_int_equal(v->err, 0); /* the error response verifies */
  assert_int_equal(v->status, SMBX_STATUS_ACCESS_DENIED);
  /* unsigned on a signing session: ACCESS_DENIED */
  smbx__conn_send_opts o;
  memset(&o, 0, sizeof o);
  o.flags = SMBX__CONN_SEND_NO_SIGN;
  th_side *c = &x.s[TH_CLI];
  size_t n = th_pdu(c->out + SMBX__CONN_HEADROOM, SMBX_SMB2_FLUSH, false, 0,
                    0);
  smbx__conn_st64(c->out + SMBX__CONN_HEADROOM + 40, 0x99);
  assert_int_equal(smbx__conn_send(c->c, c->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n, &o, 4,
                                   NULL, 0, x.now),
                   1);
  th_run(&x);
  v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->user, 4);
  assert_int_equal(v->status, SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(x.s[TH_CLI].downs + x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

/* 6.3: CANCEL is signed like its target; a bad or missing signature on a
 * signing session drops it */
static void smb2_6_3_cancel_signature_checked(void **state)
{
  (void)state;
  th x;
  pair(&x, false);
  uint8_t pa[64];
  memset(pa, 0x11, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, 0);
  set_keys(&x, 0x99, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_NONE, pa, SMBX__CONN_KEYS_SIGN_ALL);
  uint64_t req;
  assert_int_equal(th_send(&x, SMBX_SMB2_CHANGE_NOTIFY, 0x99, 1, 1, &req), 1);
  th_run(&x);
  th_ev *r = last(&x, TH_SRV, TE_REQUEST);
  uint64_t aid;
  assert_int_equal(smbx__conn_go_async(x.s[TH_SRV].c, r->req, &aid, x.now),
                   0);
  th_run(&x);
  /* signed with a wrong key: dropped */
  x.s[TH_CLI].keys.keys.signing[0] ^= 1;
  assert_int_equal(smbx__conn_cancel(x.s[TH_CLI].c, req, x.now), 0);
  x.s[TH_CLI].keys.keys.signing[0] ^= 1;
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_CANCEL), 0);
  /* the genuine one (GMAC nonce with the CANCEL bit) is honoured */
  assert_int_equal(smbx__conn_cancel(x.s[TH_CLI].c, req, x.now), 0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_CANCEL), 1);
  assert_int_equal(th_respond(&x, r->req, SMBX_STATUS_CANCELLED), 0);
  th_run(&x);
  th_ev *v = last(&x, TH_CLI, TE_COMPLETE);
  assert_int_equal(v->status, SMBX_STATUS_CANCELLED);
  assert_true(v->flags & SMBX__CONN_PDU_VERIFIED);
  th_fini(&x);
}

static void smb2_6_5_signing_hmac_sha256_both_ways(void **state)
{
  (void)state;
  signing_roundtrip(SMBX_SMB2_DIALECT_210, SMBX_CRYPTO_SIGN_HMAC_SHA256);
}

static void smb2_6_5_signing_aes_cmac_both_ways(void **state)
{
  (void)state;
  signing_roundtrip(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_SIGN_AES_CMAC);
}

static void smb2_6_5_signing_aes_gmac_both_ways(void **state)
{
  (void)state;
  signing_roundtrip(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC);
}

static void encryption_roundtrip(bool smbd, uint16_t cipher)
{
  th x;
  pair(&x, smbd);
  uint8_t pa[64];
  memset(pa, 0x33, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC, cipher,
           pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  size_t base = th_count(&x, TH_CLI, TE_COMPLETE);
  if (!smbd) {
    th_side *s = &x.s[TH_SRV];
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x42, 1, 2, NULL), 1);
    /* on the wire: a TRANSFORM message */
    assert_int_equal(s->in[s->in_off + 4], 0xFD);
    assert_memory_equal(s->in + s->in_off + 5, "SMB", 3);
  } else {
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x42, 1, 2, NULL), 1);
  }
  th_run(&x);
  th_ev *r = last(&x, TH_SRV, TE_REQUEST);
  assert_true(r->flags & SMBX__CONN_PDU_ENCRYPTED);
  assert_int_equal(r->hdr.session_id, 0x42);
  th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, base);
  if (!v) {
    smbx_error_detail d;
    int e = smbx__conn_error_detail(x.s[TH_CLI].c, &d);
    fprintf(stderr, "client err %d %s\n", e, d.reason ? d.reason : "-");
    e = smbx__conn_error_detail(x.s[TH_SRV].c, &d);
    fprintf(stderr, "server err %d %s\n", e, d.reason ? d.reason : "-");
  }
  assert_non_null(v);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->user, 2);
  assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
  /* a multi-credit READ through the TRANSFORM */
  x.s[TH_CLI].read_sid = 0x42;
  assert_int_equal(th_send_read(&x, 200000, 3, NULL), 1);
  th_run(&x);
  v = th_find(&x, TH_CLI, TE_COMPLETE, base + 1);
  assert_non_null(v);
  assert_int_equal(v->err, 0);
  assert_int_equal(v->len, 80 + 200000);
  assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
  if (!smbd) {
    /* a flipped ciphertext byte: the server drops the connection */
    th_side *s = &x.s[TH_SRV];
    assert_int_equal(th_send(&x, SMBX_SMB2_FLUSH, 0x42, 1, 4, NULL), 1);
    s->in[s->in_len - 1] ^= 0x80;
    th_run(&x);
    assert_int_equal(s->downs, 1);
    assert_int_equal(s->down_err, SMBX_ERR_PROTO);
  }
  th_fini(&x);
}

static void smb2_6_5_encryption_aes128_gcm_tcp(void **state)
{
  (void)state;
  encryption_roundtrip(false, SMBX_CRYPTO_CIPHER_AES128_GCM);
}

static void smb2_6_5_encryption_aes256_ccm_tcp(void **state)
{
  (void)state;
  encryption_roundtrip(false, SMBX_CRYPTO_CIPHER_AES256_CCM);
}

static void smb2_6_5_encryption_aes128_ccm_smbd(void **state)
{
  (void)state;
  encryption_roundtrip(true, SMBX_CRYPTO_CIPHER_AES128_CCM);
}

static void smb2_6_5_encryption_aes256_gcm_smbd(void **state)
{
  (void)state;
  encryption_roundtrip(true, SMBX_CRYPTO_CIPHER_AES256_GCM);
}

/* 6.2/6.5: a compounded response: each member signed on its own (padding
 * included), or the whole compound in one TRANSFORM */
static void compound_crypto(uint32_t kflags, uint16_t cipher)
{
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  s.flags |= SMBX__CONN_F_COMPOUND_RESPONSES;
  assert_int_equal(th_init_tcp(&x, &c, &s, &CR), 0);
  uint8_t pa[64];
  memset(pa, 0x77, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC, cipher,
           pa, kflags);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  uint8_t *b = e->out + SMBX__CONN_HEADROOM;
  uint16_t cmds[3] = {SMBX_SMB2_CREATE, SMBX_SMB2_QUERY_INFO,
                      SMBX_SMB2_CLOSE};
  size_t off = 0;
  for (int i = 0; i < 3; i++) {
    uint8_t *p = b + off;
    size_t n = th_pdu(p, cmds[i], false, 0, 0);
    smbx__conn_st64(p + 40, i ? UINT64_MAX : 0x42);
    smbx__conn_st32(p + 36, i ? 0xFFFFFFFFu : 1);
    if (i) {
      smbx__conn_st32(p + 16, SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
      memset(p + smbx__conn_fileid_off(cmds[i]), 0xFF, 16);
    }
    if (i < 2)
      n = (size_t)smbx_smb2_chain_link(p, n, 4096);
    off += n;
  }
  uint64_t reqs[3];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, off,
                                   NULL, 9, reqs, 3, x.now),
                   3);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 3);
  for (int i = 0; i < 3; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)i);
    assert_non_null(v);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->req, reqs[i]);
    if (cipher)
      assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
    else
      assert_true(v->flags & SMBX__CONN_PDU_VERIFIED);
  }
  assert_int_equal(x.s[TH_CLI].downs + x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

static void smb2_6_2_compounded_responses_signed_each(void **state)
{
  (void)state;
  compound_crypto(SMBX__CONN_KEYS_SIGN_ALL, SMBX_CRYPTO_CIPHER_NONE);
}

static void smb2_6_2_compounded_responses_one_transform(void **state)
{
  (void)state;
  compound_crypto(SMBX__CONN_KEYS_ENCRYPT_ALL, SMBX_CRYPTO_CIPHER_AES128_GCM);
}

/* 3.2.5.1.3 with Samba's related responses: a related member may carry
 * the inherited SessionId (all ones) the request had; its signature is
 * checked with the keys of the session the request inherited (VERIFIED),
 * and a bad one fails that request with SMBX_ERR_AUTH */
static void smb2_3_2_5_1_3_related_response_inherited_session_verified(
    void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  assert_int_equal(th_init_tcp(&x, &c, NULL, &CR), 0);
  uint8_t pa[64];
  memset(pa, 0x3C, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_NONE, pa, SMBX__CONN_KEYS_SIGN_ALL);
  const smbx_smb2_keys *sk = &x.s[TH_SRV].keys.keys;
  /* an ECHO answered with credits for the compounds */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  const uint8_t *m;
  size_t mlen;
  assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
  uint8_t rsp[512];
  size_t n = th_pdu(rsp, SMBX_SMB2_ECHO, true, 0, 0);
  smbx__conn_st16(rsp + 14, 16);
  th_raw_send(&x, TH_SRV, rsp, n);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  for (int bad = 0; bad < 2; bad++) {
    /* CREATE + related CLOSE (SessionId/TreeId/FileId inherited) */
    uint8_t *b = e->out + SMBX__CONN_HEADROOM;
    size_t n1 = th_pdu(b, SMBX_SMB2_CREATE, false, 0, 0);
    smbx__conn_st64(b + 40, 0x42);
    smbx__conn_st32(b + 36, 1);
    n1 = (size_t)smbx_smb2_chain_link(b, n1, 4096);
    uint8_t *p2 = b + n1;
    size_t n2 = th_pdu(p2, SMBX_SMB2_CLOSE, false, 0, 0);
    smbx__conn_st64(p2 + 40, UINT64_MAX);
    smbx__conn_st32(p2 + 36, 0xFFFFFFFFu);
    smbx__conn_st32(p2 + 16, SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
    memset(p2 + smbx__conn_fileid_off(SMBX_SMB2_CLOSE), 0xFF, 16);
    uint64_t reqs[2];
    assert_int_equal(smbx__conn_send(e->c, e->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM,
                                     n1 + n2, NULL, 10, reqs, 2, x.now),
                     2);
    assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
    uint64_t mid1 = smbx__conn_ld64(m + 24);
    uint64_t mid2 = smbx__conn_ld64(m + smbx__conn_ld32(m + 20) + 24);
    /* the answer as Samba sends it: the CLOSE names SessionId all ones */
    size_t r1 = th_pdu(rsp, SMBX_SMB2_CREATE, true, 0, 0);
    smbx__conn_st64(rsp + 24, mid1);
    smbx__conn_st64(rsp + 40, 0x42);
    smbx__conn_st16(rsp + 14, 1);
    r1 = (size_t)smbx_smb2_chain_link(rsp, r1, sizeof rsp);
    uint8_t *q2 = rsp + r1;
    size_t r2 = th_pdu(q2, SMBX_SMB2_CLOSE, true, 0, 0);
    smbx__conn_st64(q2 + 24, mid2);
    smbx__conn_st64(q2 + 40, UINT64_MAX);
    smbx__conn_st32(q2 + 36, 0xFFFFFFFFu);
    smbx__conn_st32(q2 + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR |
                                 SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
    smbx__conn_st16(q2 + 14, 1);
    assert_int_equal(smbx_smb2_sign(&CR, sk->signing_alg, sk->signing, rsp,
                                    r1, SMBX_CRYPTO_SIGN_SET_FLAG),
                     0);
    assert_int_equal(smbx_smb2_sign(&CR, sk->signing_alg, sk->signing, q2,
                                    r2, SMBX_CRYPTO_SIGN_SET_FLAG),
                     0);
    if (bad)
      q2[50] ^= 1;
    size_t before = th_count(&x, TH_CLI, TE_COMPLETE);
    th_raw_send(&x, TH_SRV, rsp, r1 + r2);
    th_run(&x);
    assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), before + 2);
    th_ev *v1 = th_find(&x, TH_CLI, TE_COMPLETE, before);
    th_ev *v2 = th_find(&x, TH_CLI, TE_COMPLETE, before + 1);
    assert_int_equal(v1->req, reqs[0]);
    assert_int_equal(v1->err, 0);
    assert_true(v1->flags & SMBX__CONN_PDU_VERIFIED);
    assert_int_equal(v2->req, reqs[1]);
    if (bad) {
      assert_int_equal(v2->err, SMBX_ERR_AUTH);
    } else {
      assert_int_equal(v2->err, 0);
      assert_true(v2->flags & SMBX__CONN_PDU_VERIFIED);
    }
  }
  assert_int_equal(e->downs, 0);
  th_fini(&x);
}

/* 3.2.5.1.3: a response is verified with the session of its request (the
 * response's own SessionId counts for SESSION_SETUP only): a response
 * whose SessionId names another session, unsigned or with a signature no
 * key checks, fails its request with SMBX_ERR_AUTH instead of passing as
 * unchecked on a signing session */
static void smb2_3_2_5_1_3_response_session_id_spoofed(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  assert_int_equal(th_init_tcp(&x, &c, NULL, &CR), 0);
  uint8_t pa[64];
  memset(pa, 0x3D, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_NONE, pa, SMBX__CONN_KEYS_SIGN_ALL);
  for (int signed_flag = 0; signed_flag < 2; signed_flag++) {
    uint64_t req = 0;
    assert_int_equal(
        th_send(&x, SMBX_SMB2_CREATE, 0x42, 1, 20 + (uint64_t)signed_flag,
                &req),
        1);
    const uint8_t *m;
    size_t mlen;
    assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
    uint8_t rsp[512];
    size_t n = th_pdu(rsp, SMBX_SMB2_CREATE, true, 0, 0);
    smbx__conn_st64(rsp + 24, smbx__conn_ld64(m + 24));
    smbx__conn_st64(rsp + 40, 0x77); /* not the request's session */
    smbx__conn_st32(rsp + 36, 1);
    smbx__conn_st16(rsp + 14, 1);
    if (signed_flag) {
      smbx__conn_st32(rsp + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR |
                                    SMBX_SMB2_FLAGS_SIGNED);
      memset(rsp + 48, 0xA5, 16);
    }
    size_t before = th_count(&x, TH_CLI, TE_COMPLETE);
    th_raw_send(&x, TH_SRV, rsp, n);
    th_run(&x);
    assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), before + 1);
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, before);
    assert_int_equal(v->req, req);
    assert_int_equal(v->err, SMBX_ERR_AUTH);
  }
  th_fini(&x);
}

/* SMB Direct send buffers run out: respond returns SMBX_ERR_AGAIN before
 * anything is encrypted in place, writable() follows the send
 * completions, and the same buffer sent again decrypts at the peer. */
static void smbd_send_space_again_then_retry(void **state)
{
  (void)state;
  th x;
  th_smbd_send_buffers = 48;
  pair(&x, true);
  th_smbd_send_buffers = 900;
  uint8_t pa[64];
  memset(pa, 0x21, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_AES128_GCM, pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  x.s[TH_CLI].read_sid = 0x42;
  uint64_t q1, q2;
  assert_int_equal(th_send_read(&x, 40000, 1, &q1), 1);
  assert_int_equal(th_send_read(&x, 40000, 2, &q2), 1);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_SRV, TE_REQUEST), 2);
  th_ev *r1 = th_find(&x, TH_SRV, TE_REQUEST, 0);
  th_ev *r2 = th_find(&x, TH_SRV, TE_REQUEST, 1);
  uint64_t req2 = r2->req;
  assert_int_equal(th_respond(&x, r1->req, 0), 0);
  /* ~30 of 47 usable send slots are queued: the second does not fit */
  assert_int_equal(th_respond(&x, req2, 0), SMBX_ERR_AGAIN);
  int before = x.s[TH_SRV].writable_n;
  th_run(&x);
  assert_true(x.s[TH_SRV].writable_n > before);
  /* the very same bytes again: they were left as plaintext */
  th_side *sv = &x.s[TH_SRV];
  assert_int_equal(smbx__conn_respond(sv->c, req2, sv->out,
                                      TH_OUT_CAP + SMBX__CONN_HEADROOM,
                                      80 + 40000, NULL, x.now),
                   0);
  th_run(&x);
  for (int i = 0; i < 2; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, 1 + (size_t)i);
    assert_non_null(v);
    assert_int_equal(v->err, 0);
    assert_int_equal(v->len, 80 + 40000);
    assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
    assert_int_equal(v->bytes[80 + 39999], (uint8_t)(39999 * 7 + 1));
  }
  assert_int_equal(x.s[TH_CLI].downs + x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

/* case 40: a TRANSFORM whose OriginalMessageSize runs past the frame, or
 * that is shorter than a header, drops the connection (before any key
 * lookup); so does one for an unknown session (below) */
static void smb2_case_40_transform_size_past_frame_disconnects(void **state)
{
  (void)state;
  for (int k = 0; k < 2; k++) {
    th x;
    smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
    assert_int_equal(th_init_tcp(&x, NULL, &s, &CR), 0);
    uint8_t m[52 + 68];
    memset(m, 0, sizeof m);
    memcpy(m, "\xFDSMB", 4);
    smbx__conn_st32(m + 36, k ? 60 : 1000); /* past the frame / < 64 */
    smbx__conn_st16(m + 42, 1);
    smbx__conn_st64(m + 44, 0x42);
    th_raw_send(&x, TH_CLI, m, sizeof m);
    th_run(&x);
    assert_int_equal(x.s[TH_SRV].downs, 1);
    assert_int_equal(x.s[TH_SRV].down_err, SMBX_ERR_PROTO);
    th_fini(&x);
  }
}

static void smb2_6_5_transform_for_unknown_session_disconnects(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings s = th_settings(SMBX__CONN_SERVER);
  assert_int_equal(th_init_tcp(&x, NULL, &s, &CR), 0);
  uint8_t m[52 + 68];
  memset(m, 0, sizeof m);
  memcpy(m, "\xFDSMB", 4);
  smbx__conn_st32(m + 36, 68);
  smbx__conn_st16(m + 42, 1);
  smbx__conn_st64(m + 44, 0x777);
  th_raw_send(&x, TH_CLI, m, sizeof m);
  th_run(&x);
  assert_int_equal(x.s[TH_SRV].downs, 1);
  assert_int_equal(x.s[TH_SRV].down_err, SMBX_ERR_PROTO);
  th_fini(&x);
}

/* 3.3.5.2.1.1: a PDU inside a TRANSFORM that names another session than
 * the TRANSFORM's: the server drops the connection (a related member's
 * "inherit" SessionId is accepted: smb2_6_2_compounded_responses_*) */
static void smb2_3_3_5_2_1_1_transform_session_mismatch_disconnects(
    void **state)
{
  (void)state;
  th x;
  pair(&x, false);
  uint8_t pa[64];
  memset(pa, 0x15, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_AES128_GCM, pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  x.s[TH_SRV].auto_respond = true;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0, 0, 1, NULL), 1);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  size_t done = th_count(&x, TH_CLI, TE_COMPLETE);
  /* an unrelated chain: ECHO of session 0x42, ECHO of session 0x43, in
   * one TRANSFORM of session 0x42 */
  uint8_t *b = e->out + SMBX__CONN_HEADROOM;
  size_t n0 = th_pdu(b, SMBX_SMB2_ECHO, false, 0, 0);
  smbx__conn_st64(b + 40, 0x42);
  n0 = (size_t)smbx_smb2_chain_link(b, n0, 4096);
  size_t n1 = th_pdu(b + n0, SMBX_SMB2_ECHO, false, 0, 0);
  smbx__conn_st64(b + n0 + 40, 0x43);
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n0 + n1,
                                   NULL, 1, NULL, 0, x.now),
                   2);
  th_side *s = &x.s[TH_SRV];
  assert_int_equal(s->in[s->in_off + 4], 0xFD);
  th_run(&x);
  assert_int_equal(s->downs, 1);
  assert_int_equal(s->down_err, SMBX_ERR_PROTO);
  smbx_error_detail d;
  assert_int_equal(smbx__conn_error_detail(s->c, &d), SMBX_ERR_PROTO);
  assert_string_equal(d.reason, "SessionId differs from the TRANSFORM's");
  /* nothing was answered */
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), done);
  th_fini(&x);
}

/* The raw server side encrypts `msg` (plaintext at buf + 52) with its keys
 * in a TRANSFORM of session `sid` and sends it to the client. */
static void raw_send_encrypted(th *x, uint8_t *buf, size_t cap, size_t len,
                               uint64_t sid)
{
  const smbx_smb2_keys *k = &x->s[TH_SRV].keys.keys;
  smbx_ssize n = smbx_smb2_encrypt(&CR, k->cipher, k->encryption,
                                   k->cipher_key_len, sid, NULL, buf, cap,
                                   len);
  assert_true(n > 0);
  th_raw_send(x, TH_SRV, buf, (size_t)n);
}

/* 3.2.5.1.1.1: the client accepts a break notification with SessionId 0
 * inside a session's TRANSFORM, and drops the connection when a response
 * inside a TRANSFORM names another session */
static void smb2_3_2_5_1_1_1_transform_session_mismatch_disconnects(
    void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  assert_int_equal(th_init_tcp(&x, &c, NULL, &CR), 0);
  uint8_t pa[64];
  memset(pa, 0x16, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_AES128_GCM, pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  uint64_t req;
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0x42, 0, 7, &req), 1);
  const uint8_t *m;
  size_t mlen;
  assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
  assert_int_equal(m[0], 0xFD);
  uint8_t buf[52 + 256];
  /* a lease break: SessionId 0 inside the TRANSFORM of 0x42 */
  memset(buf, 0, sizeof buf);
  uint8_t *p = buf + 52;
  smbx__conn_st32(p, SMBX_SMB2_PROTOCOL_ID);
  smbx__conn_st16(p + 4, 64);
  smbx__conn_st16(p + 12, SMBX_SMB2_OPLOCK_BREAK);
  smbx__conn_st32(p + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  smbx__conn_st64(p + 24, UINT64_MAX);
  smbx__conn_st16(p + 64, 44);
  raw_send_encrypted(&x, buf, sizeof buf, 108, 0x42);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_NOTIFY), 1);
  th_ev *v = th_find(&x, TH_CLI, TE_NOTIFY, 0);
  assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
  assert_int_equal(x.s[TH_CLI].downs, 0);
  /* the ECHO response names session 0x43 inside the TRANSFORM of 0x42 */
  memset(buf, 0, sizeof buf);
  smbx__conn_st32(p, SMBX_SMB2_PROTOCOL_ID);
  smbx__conn_st16(p + 4, 64);
  smbx__conn_st16(p + 12, SMBX_SMB2_ECHO);
  smbx__conn_st16(p + 14, 1);
  smbx__conn_st32(p + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  smbx__conn_st64(p + 24, 0);
  smbx__conn_st64(p + 40, 0x43);
  smbx__conn_st16(p + 64, 4);
  raw_send_encrypted(&x, buf, sizeof buf, 68, 0x42);
  th_run(&x);
  th_side *e = &x.s[TH_CLI];
  assert_int_equal(e->downs, 1);
  assert_int_equal(e->down_err, SMBX_ERR_PROTO);
  /* the request completed once, with the sticky error, not the PDU */
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), 1);
  v = th_find(&x, TH_CLI, TE_COMPLETE, 0);
  assert_int_equal(v->req, req);
  assert_int_equal(v->err, SMBX_ERR_PROTO);
  th_fini(&x);
}

/* 3.2.5.1.1.1 with Samba's related responses: a related member inside the
 * TRANSFORM may echo the inherited SessionId (all ones) its request had;
 * it belongs to the TRANSFORM's session (as the server side accepts it),
 * and the compound completes without dropping the connection */
static void smb2_3_2_5_1_1_1_transform_related_inherited_session(void **state)
{
  (void)state;
  th x;
  smbx__conn_settings c = th_settings(SMBX__CONN_CLIENT);
  assert_int_equal(th_init_tcp(&x, &c, NULL, &CR), 0);
  uint8_t pa[64];
  memset(pa, 0x17, sizeof pa);
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_AES128_GCM, pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  /* credits for a compound */
  assert_int_equal(th_send(&x, SMBX_SMB2_ECHO, 0x42, 0, 1, NULL), 1);
  const uint8_t *m;
  size_t mlen;
  assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
  uint8_t buf[52 + 512];
  memset(buf, 0, sizeof buf);
  uint8_t *p = buf + 52;
  size_t n = th_pdu(p, SMBX_SMB2_ECHO, true, 0, 0);
  smbx__conn_st64(p + 40, 0x42);
  smbx__conn_st16(p + 14, 16);
  raw_send_encrypted(&x, buf, sizeof buf, n, 0x42);
  th_run(&x);
  /* CREATE + related CLOSE */
  th_side *e = &x.s[TH_CLI];
  uint8_t *b = e->out + SMBX__CONN_HEADROOM;
  size_t n1 = th_pdu(b, SMBX_SMB2_CREATE, false, 0, 0);
  smbx__conn_st64(b + 40, 0x42);
  smbx__conn_st32(b + 36, 1);
  n1 = (size_t)smbx_smb2_chain_link(b, n1, 4096);
  uint8_t *p2 = b + n1;
  size_t n2 = th_pdu(p2, SMBX_SMB2_CLOSE, false, 0, 0);
  smbx__conn_st64(p2 + 40, UINT64_MAX);
  smbx__conn_st32(p2 + 36, 0xFFFFFFFFu);
  smbx__conn_st32(p2 + 16, SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
  memset(p2 + smbx__conn_fileid_off(SMBX_SMB2_CLOSE), 0xFF, 16);
  uint64_t reqs[2];
  assert_int_equal(smbx__conn_send(e->c, e->out,
                                   TH_OUT_CAP + SMBX__CONN_HEADROOM, n1 + n2,
                                   NULL, 10, reqs, 2, x.now),
                   2);
  assert_true(th_raw_next(&x, TH_SRV, &m, &mlen));
  assert_int_equal(m[0], 0xFD);
  /* the answer as Samba sends it: the CLOSE echoes SessionId all ones */
  memset(buf, 0, sizeof buf);
  size_t r1 = th_pdu(p, SMBX_SMB2_CREATE, true, 0, 0);
  uint64_t mid = 1; /* the ECHO had 0 */
  smbx__conn_st64(p + 24, mid);
  smbx__conn_st64(p + 40, 0x42);
  smbx__conn_st16(p + 14, 1);
  r1 = (size_t)smbx_smb2_chain_link(p, r1, sizeof buf - 52);
  uint8_t *q2 = p + r1;
  size_t r2 = th_pdu(q2, SMBX_SMB2_CLOSE, true, 0, 0);
  smbx__conn_st64(q2 + 24, mid + 1);
  smbx__conn_st64(q2 + 40, UINT64_MAX);
  smbx__conn_st32(q2 + 36, 0xFFFFFFFFu);
  smbx__conn_st32(q2 + 16, SMBX_SMB2_FLAGS_SERVER_TO_REDIR |
                               SMBX_SMB2_FLAGS_RELATED_OPERATIONS);
  smbx__conn_st16(q2 + 14, 1);
  size_t before = th_count(&x, TH_CLI, TE_COMPLETE);
  raw_send_encrypted(&x, buf, sizeof buf, r1 + r2, 0x42);
  th_run(&x);
  assert_int_equal(e->downs, 0);
  assert_int_equal(th_count(&x, TH_CLI, TE_COMPLETE), before + 2);
  for (size_t i = 0; i < 2; i++) {
    th_ev *v = th_find(&x, TH_CLI, TE_COMPLETE, before + i);
    assert_int_equal(v->req, reqs[i]);
    assert_int_equal(v->err, 0);
    assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
  }
  th_fini(&x);
}

/* A break notification body at the server side's out buffer + HEADROOM
 * + 64 (oplock: 24 bytes, lease: 44). Returns the message length. */
static size_t break_msg(th *x, bool lease)
{
  uint8_t *p = x->s[TH_SRV].out + SMBX__CONN_HEADROOM;
  memset(p, 0xEE, 64); /* the connection writes the header */
  memset(p + 64, 0, 44);
  smbx__conn_st16(p + 64, lease ? 44 : 24);
  p[66] = lease ? 0 : 1;
  return lease ? 108 : 88;
}

/* 4.13 / 3.3.4.6-7: smbx__conn_notify writes the header (MessageId
 * all-ones, SessionId 0, no credits, unsigned); for a session that
 * encrypts, the notification goes in that session's TRANSFORM; for no
 * session (or one that only signs) in the clear and unsigned */
static void notify(bool smbd)
{
  th x;
  pair(&x, smbd);
  uint8_t pa[64];
  memset(pa, 0x17, sizeof pa);
  th_side *s = &x.s[TH_SRV];
  size_t len = break_msg(&x, false);
  assert_int_equal(smbx__conn_notify(s->c, s->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, len, 0,
                                     x.now),
                   SMBX_ERR_STATE); /* no dialect yet */
  th_dialect(&x, SMBX_SMB2_DIALECT_311, SMBX_SMB2_CAP_LARGE_MTU);
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC,
           SMBX_CRYPTO_CIPHER_AES256_GCM, pa, SMBX__CONN_KEYS_ENCRYPT_ALL);
  assert_int_equal(smbx__conn_notify(s->c, s->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, 90, 0,
                                     x.now),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx__conn_notify(x.s[TH_CLI].c, s->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, len, 0,
                                     x.now),
                   SMBX_ERR_STATE);
  /* the session encrypts: a lease break in its TRANSFORM */
  len = break_msg(&x, true);
  assert_int_equal(smbx__conn_notify(s->c, s->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, len,
                                     0x42, x.now),
                   0);
  if (!smbd) {
    th_side *c = &x.s[TH_CLI];
    assert_int_equal(c->in[c->in_off + 4], 0xFD);
    assert_int_equal(smbx__conn_ld64(c->in + c->in_off + 4 + 44), 0x42);
  }
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_NOTIFY), 1);
  th_ev *v = th_find(&x, TH_CLI, TE_NOTIFY, 0);
  assert_true(v->flags & SMBX__CONN_PDU_ENCRYPTED);
  assert_int_equal(v->hdr.message_id, UINT64_MAX);
  assert_int_equal(v->hdr.session_id, 0);
  assert_int_equal(v->hdr.tree_id, 0);
  assert_int_equal(v->hdr.credits, 0);
  assert_int_equal(v->hdr.command, SMBX_SMB2_OPLOCK_BREAK);
  assert_int_equal(v->len, 108);
  assert_int_equal(smbx__conn_ld16(v->bytes + 64), 44);
  /* no session: an oplock break in the clear, never signed even though
   * the keys sign everything */
  set_keys(&x, 0x42, SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_SIGN_AES_GMAC, 0, pa,
           SMBX__CONN_KEYS_SIGN_ALL);
  len = break_msg(&x, false);
  assert_int_equal(smbx__conn_notify(s->c, s->out,
                                     TH_OUT_CAP + SMBX__CONN_HEADROOM, len,
                                     0x42, x.now),
                   0);
  th_run(&x);
  assert_int_equal(th_count(&x, TH_CLI, TE_NOTIFY), 2);
  v = th_find(&x, TH_CLI, TE_NOTIFY, 1);
  assert_false(v->flags & (SMBX__CONN_PDU_ENCRYPTED | SMBX__CONN_PDU_SIGNED));
  assert_int_equal(v->hdr.flags, SMBX_SMB2_FLAGS_SERVER_TO_REDIR);
  assert_int_equal(v->len, 88);
  assert_int_equal(x.s[TH_CLI].downs + x.s[TH_SRV].downs, 0);
  th_fini(&x);
}

static void smb2_4_13_notify_unsolicited_break_tcp(void **state)
{
  (void)state;
  notify(false);
}

static void smb2_4_13_notify_unsolicited_break_smbd(void **state)
{
  (void)state;
  notify(true);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smb2_case_4a_preauth_chain_negotiate_and_session_setup),
      cmocka_unit_test(smb2_case_4a_binding_leg_starts_from_the_new_connection),
      cmocka_unit_test(smb2_case_4a_preauth_hash_equals_tshark),
      cmocka_unit_test(smb2_6_3_cancel_signature_checked),
      cmocka_unit_test(smb2_6_5_signing_hmac_sha256_both_ways),
      cmocka_unit_test(smb2_6_5_signing_aes_cmac_both_ways),
      cmocka_unit_test(smb2_6_5_signing_aes_gmac_both_ways),
      cmocka_unit_test(smb2_6_5_encryption_aes128_gcm_tcp),
      cmocka_unit_test(smb2_6_5_encryption_aes256_ccm_tcp),
      cmocka_unit_test(smb2_6_5_encryption_aes128_ccm_smbd),
      cmocka_unit_test(smb2_6_5_encryption_aes256_gcm_smbd),
      cmocka_unit_test(smb2_6_5_transform_for_unknown_session_disconnects),
      cmocka_unit_test(smb2_case_40_transform_size_past_frame_disconnects),
      cmocka_unit_test(smbd_send_space_again_then_retry),
      cmocka_unit_test(smb2_6_2_compounded_responses_signed_each),
      cmocka_unit_test(
          smb2_3_2_5_1_3_related_response_inherited_session_verified),
      cmocka_unit_test(smb2_3_2_5_1_3_response_session_id_spoofed),
      cmocka_unit_test(smb2_6_2_compounded_responses_one_transform),
      cmocka_unit_test(
          smb2_3_3_5_2_1_1_transform_session_mismatch_disconnects),
      cmocka_unit_test(
          smb2_3_2_5_1_1_1_transform_session_mismatch_disconnects),
      cmocka_unit_test(smb2_3_2_5_1_1_1_transform_related_inherited_session),
      cmocka_unit_test(smb2_4_13_notify_unsolicited_break_tcp),
      cmocka_unit_test(smb2_4_13_notify_unsolicited_break_smbd),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
