/* SPDX-License-Identifier: MIT */
/* Microsoft's published SMB 3.x known answers (kat_ms_blog.h: the Open
 * Specifications blog articles "SMB 2 and SMB 3 security in Windows 10:
 * the anatomy of signing and cryptographic keys", "Encryption in SMB 3.0:
 * A protocol perspective" and "SMB 3.1.1 Encryption in Windows 10") run
 * through the library's SMB2 security helpers (lib/smb2/sec.c) and the
 * OpenSSL 3 adapter (examples/crypto): the 3.1.1 preauth integrity chain
 * of a real Windows exchange (both channels of a multichannel session),
 * 3.0 and 3.1.1 key derivation (SP800-108 counter mode, every key, bound
 * channels), the AES-CMAC signatures Windows put on SESSION_SETUP
 * messages, and TRANSFORM encryption and decryption with AES-128-CCM
 * and AES-128-GCM. */
#include "test_main.h"

#include <smbx/crypto.h>
#include <smbx/smb2.h>

#include "kat_ms_blog.h"
#include "smbx_openssl.h"

static smbx_openssl *g_o;
static smbx_crypto g_cr;

static int group_setup(void **state)
{
  (void)state;
  char err[256];
  if (smbx_openssl_new(&g_o, 0, err, sizeof err) != 0)
    return -1;
  smbx_openssl_crypto(g_o, &g_cr);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  smbx_openssl_free(g_o);
  return 0;
}

static void chain(uint8_t h[64], const uint8_t *msg, size_t len,
                  const uint8_t want[64])
{
  assert_int_equal(smbx_smb2_preauth_update(&g_cr, h, msg, len), 0);
  assert_memory_equal(h, want, 64);
}

/* MS-SMB2 3.2.5.2 / 3.3.5.4 / 3.3.5.5: connection hash over NEGOTIATE
 * request + response, then the session hash over every SESSION_SETUP
 * request and the MORE_PROCESSING response; the binding channel starts
 * from its own connection's hash */
static void ms_blog_311_preauth_chain_first_and_binding_channel(void **state)
{
  (void)state;
  uint8_t h[64];
  smbx_smb2_preauth_init(h);
  chain(h, ms_neg_req1, sizeof ms_neg_req1, ms_hash_neg_req1);
  chain(h, ms_neg_resp1, sizeof ms_neg_resp1, ms_hash_neg_resp1);
  chain(h, ms_ss_req1, sizeof ms_ss_req1, ms_hash_ss_req1);
  chain(h, ms_ss_resp1, sizeof ms_ss_resp1, ms_hash_ss_resp1);
  chain(h, ms_ss_req2, sizeof ms_ss_req2, ms_hash_ss_req2);
  smbx_smb2_preauth_init(h);
  chain(h, ms_neg_req2, sizeof ms_neg_req2, ms_hash_neg_req2);
  chain(h, ms_neg_resp2, sizeof ms_neg_resp2, ms_hash_neg_resp2);
  chain(h, ms_bind_req1, sizeof ms_bind_req1, ms_hash_bind_req1);
  chain(h, ms_bind_resp1, sizeof ms_bind_resp1, ms_hash_bind_resp1);
  chain(h, ms_bind_req2, sizeof ms_bind_req2, ms_hash_bind_req2);
}

static void derive(uint16_t dialect, uint32_t role, uint16_t cipher,
                   const uint8_t sk[16], const uint8_t *preauth,
                   smbx_smb2_keys *k)
{
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, dialect, role,
                                         SMBX_CRYPTO_SIGN_DEFAULT, cipher, sk,
                                         16, preauth, k),
                   0);
}

/* MS-SMB2 3.2.5.3.1: 3.0 keys of both channels of the blog's session (the
 * blog's EncryptionKey is the client's: "ServerIn ") */
static void ms_blog_300_keys_first_and_second_channel(void **state)
{
  (void)state;
  smbx_smb2_keys c, s;
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_AES128_CCM, ms_k300_session, NULL, &c);
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_CIPHER_AES128_CCM, ms_k300_session, NULL, &s);
  assert_int_equal(c.signing_alg, SMBX_CRYPTO_SIGN_AES_CMAC);
  assert_memory_equal(c.signing, ms_k300_signing, 16);
  assert_memory_equal(c.encryption, ms_k300_encryption, 16);
  assert_memory_equal(c.decryption, ms_k300_decryption, 16);
  assert_memory_equal(c.application, ms_k300_application, 16);
  assert_memory_equal(s.signing, ms_k300_signing, 16);
  assert_memory_equal(s.encryption, ms_k300_decryption, 16);
  assert_memory_equal(s.decryption, ms_k300_encryption, 16);
  /* the bound channel signs with a key from its own authentication */
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_NONE, ms_k300_ch2_session, NULL, &c);
  assert_memory_equal(c.signing, ms_k300_ch2_signing, 16);
  /* the encryption sample's session */
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_AES128_CCM, ms_e300_session, NULL, &c);
  assert_memory_equal(c.encryption, ms_e300_encryption, 16);
  assert_memory_equal(c.decryption, ms_e300_decryption, 16);
}

/* MS-SMB2 3.2.5.3.1: 3.1.1 keys from the session's preauth hash (cipher
 * AES-128-GCM), and the binding channel's signing key from its own */
static void ms_blog_311_keys_first_and_binding_channel(void **state)
{
  (void)state;
  smbx_smb2_keys c, s;
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_AES128_GCM, ms_k311_session, ms_hash_ss_req2, &c);
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_CIPHER_AES128_GCM, ms_k311_session, ms_hash_ss_req2, &s);
  assert_memory_equal(c.signing, ms_k311_signing, 16);
  assert_memory_equal(c.encryption, ms_k311_encryption, 16);
  assert_memory_equal(c.decryption, ms_k311_decryption, 16);
  assert_memory_equal(c.application, ms_k311_application, 16);
  assert_memory_equal(s.encryption, ms_k311_decryption, 16);
  assert_memory_equal(s.decryption, ms_k311_encryption, 16);
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_NONE, ms_k311_ch2_session, ms_hash_bind_req2, &c);
  assert_memory_equal(c.signing, ms_k311_ch2_signing, 16);
  /* the encryption sample's session */
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_CIPHER_AES128_GCM, ms_e311_session, ms_e311_preauth, &c);
  assert_memory_equal(c.encryption, ms_e311_encryption, 16);
  assert_memory_equal(c.decryption, ms_e311_decryption, 16);
}

/* Verifies the signature Windows put on `msg`, then signs a copy with its
 * signature zeroed and SIGNED cleared: the same bytes come back. */
static void signed_as_published(const uint8_t *msg, size_t len,
                                const uint8_t key[16])
{
  assert_int_equal(
      smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC, key, msg, len), 0);
  uint8_t m[600];
  assert_true(len <= sizeof m);
  memcpy(m, msg, len);
  memset(m + 48, 0, 16);
  m[16] &= (uint8_t)~SMBX_SMB2_FLAGS_SIGNED;
  assert_int_equal(smbx_smb2_sign(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC, key, m,
                                  len, SMBX_CRYPTO_SIGN_SET_FLAG),
                   0);
  assert_memory_equal(m, msg, len);
  m[len - 1] ^= 1;
  assert_int_equal(
      smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC, key, m, len),
      SMBX_ERR_AUTH);
}

/* MS-SMB2 3.1.4.1 (AES-CMAC, 3.1.1 without a SIGNING context): the final
 * SESSION_SETUP response signed with the session's key; the binding legs
 * signed with the session's key, the final binding response with the
 * channel's */
static void ms_blog_311_session_setup_signatures(void **state)
{
  (void)state;
  signed_as_published(ms_ss_resp2, sizeof ms_ss_resp2, ms_k311_signing);
  signed_as_published(ms_bind_req1, sizeof ms_bind_req1, ms_k311_signing);
  signed_as_published(ms_bind_resp1, sizeof ms_bind_resp1, ms_k311_signing);
  signed_as_published(ms_bind_req2, sizeof ms_bind_req2, ms_k311_signing);
  signed_as_published(ms_bind_resp2, sizeof ms_bind_resp2,
                      ms_k311_ch2_signing);
  /* the channel key does not verify what the session key signed */
  assert_int_equal(smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                    ms_k311_ch2_signing, ms_ss_resp2,
                                    sizeof ms_ss_resp2),
                   SMBX_ERR_AUTH);
}

static void decrypts_to(uint16_t cipher, const uint8_t key[16],
                        const uint8_t *tm, size_t tlen, uint64_t sid,
                        const uint8_t *plain, size_t plen)
{
  uint8_t m[300];
  assert_true(tlen <= sizeof m);
  memcpy(m, tm, tlen);
  uint64_t got = 0;
  smbx_ssize n = smbx_smb2_decrypt(&g_cr, cipher, key, 16, m, tlen, &got);
  assert_int_equal(n, (smbx_ssize)plen);
  assert_int_equal(got, sid);
  assert_memory_equal(m + SMBX_SMB2_TRANSFORM_HDR_SIZE, plain, plen);
  /* one flipped tag bit: refused */
  memcpy(m, tm, tlen);
  m[4] ^= 1;
  assert_int_equal(smbx_smb2_decrypt(&g_cr, cipher, key, 16, m, tlen, NULL),
                   SMBX_ERR_AUTH);
}

/* MS-SMB2 3.1.4.3 / 3.2.5.1.1.1 / 3.3.5.2.1.1, 3.0 with AES-128-CCM: the
 * server decrypts the client's WRITE (ServerIn key), the client decrypts
 * the WRITE response (ServerOut key); encrypting the request with the
 * sample's nonce gives the published ciphertext (the tag differs: Windows
 * left bytes after the 11-byte CCM nonce in the AAD, smbx zeroes them) */
static void ms_blog_300_transform_aes128_ccm(void **state)
{
  (void)state;
  decrypts_to(SMBX_CRYPTO_CIPHER_AES128_CCM, ms_e300_encryption,
              ms_e300_req_transform, sizeof ms_e300_req_transform,
              MS_E300_SESSION_ID, ms_e300_req_plain, sizeof ms_e300_req_plain);
  decrypts_to(SMBX_CRYPTO_CIPHER_AES128_CCM, ms_e300_decryption,
              ms_e300_resp_transform, sizeof ms_e300_resp_transform,
              MS_E300_SESSION_ID, ms_e300_resp_plain,
              sizeof ms_e300_resp_plain);
  uint8_t m[300];
  size_t pl = sizeof ms_e300_req_plain;
  memcpy(m + SMBX_SMB2_TRANSFORM_HDR_SIZE, ms_e300_req_plain, pl);
  smbx_ssize n = smbx_smb2_encrypt(
      &g_cr, SMBX_CRYPTO_CIPHER_AES128_CCM, ms_e300_encryption, 16,
      MS_E300_SESSION_ID, ms_e300_req_transform + 20, m, sizeof m, pl);
  assert_int_equal(n, (smbx_ssize)sizeof ms_e300_req_transform);
  assert_memory_equal(m + 20, ms_e300_req_transform + 20, 11);
  assert_memory_equal(m + 36, ms_e300_req_transform + 36, 16);
  assert_memory_equal(m + 52, ms_e300_req_transform + 52, pl);
}

/* The same with 3.1.1 and AES-128-GCM: encrypting the client's WRITE
 * with the sample's 12-byte nonce gives the published TRANSFORM message
 * byte for byte; both messages decrypt */
static void ms_blog_311_transform_aes128_gcm(void **state)
{
  (void)state;
  uint8_t m[300];
  size_t pl = sizeof ms_e311_req_plain;
  memcpy(m + SMBX_SMB2_TRANSFORM_HDR_SIZE, ms_e311_req_plain, pl);
  smbx_ssize n = smbx_smb2_encrypt(&g_cr, SMBX_CRYPTO_CIPHER_AES128_GCM,
                                   ms_e311_encryption, 16, MS_E311_SESSION_ID,
                                   ms_e311_nonce, m, sizeof m, pl);
  assert_int_equal(n, (smbx_ssize)sizeof ms_e311_req_transform);
  assert_memory_equal(m, ms_e311_req_transform, sizeof ms_e311_req_transform);
  decrypts_to(SMBX_CRYPTO_CIPHER_AES128_GCM, ms_e311_encryption,
              ms_e311_req_transform, sizeof ms_e311_req_transform,
              MS_E311_SESSION_ID, ms_e311_req_plain, sizeof ms_e311_req_plain);
  decrypts_to(SMBX_CRYPTO_CIPHER_AES128_GCM, ms_e311_decryption,
              ms_e311_resp_transform, sizeof ms_e311_resp_transform,
              MS_E311_SESSION_ID, ms_e311_resp_plain,
              sizeof ms_e311_resp_plain);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ms_blog_311_preauth_chain_first_and_binding_channel),
      cmocka_unit_test(ms_blog_300_keys_first_and_second_channel),
      cmocka_unit_test(ms_blog_311_keys_first_and_binding_channel),
      cmocka_unit_test(ms_blog_311_session_setup_signatures),
      cmocka_unit_test(ms_blog_300_transform_aes128_ccm),
      cmocka_unit_test(ms_blog_311_transform_aes128_gcm),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
