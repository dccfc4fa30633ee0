/* SPDX-License-Identifier: MIT */
/* Known-answer and round-trip tests of the crypto hooks (through the
 * OpenSSL 3 adapter in examples/crypto) and of the SMB2 security helpers
 * in lib/smb2/sec.c.
 *
 * Published vectors: RFC 4493 sec. 4 (AES-CMAC), RFC 4231 sec. 4
 * (HMAC-SHA256), McGrew/Viega "The Galois/Counter Mode of Operation"
 * appendix B test cases 2-4 and 14-16 (AES-GCM), RFC 3610 sec. 8 packet
 * vector #1 and NIST SP 800-38C appendix C examples 1-3 (AES-CCM),
 * NIST CAVP KBKDF "KDFCTR_gen.rsp" [PRF=HMAC_SHA256]
 * [CTRLOCATION=BEFORE_FIXED] [RLEN=32_BITS] COUNT=0 (SP800-108 counter
 * mode), FIPS 180-2 "abc" (SHA-512), RFC 1320 "abc" (MD4, legacy
 * provider). SMB-specific vectors: kat_smb.h (see gen_vectors.py). */
#include "test_main.h"

#include <openssl/evp.h>

#include <smbx/crypto.h>
#include <smbx/smb2.h>

#include "kat_smb.h"
#include "smb2/sec.h"
#include "smbx_openssl.h"

static smbx_openssl *g_o;
static smbx_crypto g_cr;

static int group_setup(void **state)
{
  (void)state;
  char err[256];
  if (smbx_openssl_new(&g_o, 0, err, sizeof err) != 0) {
    fprintf(stderr, "smbx_openssl_new: %s\n", err);
    return -1;
  }
  if (err[0])
    fprintf(stderr, "# %s\n", err);
  smbx_openssl_crypto(g_o, &g_cr);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  smbx_openssl_free(g_o);
  return 0;
}

/* hex string -> bytes; returns the length */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
  size_t n = 0;
  while (s[0] && s[1]) {
    if (s[0] == ' ') {
      s++;
      continue;
    }
    unsigned v;
    assert_int_equal(sscanf(s, "%2x", &v), 1);
    assert_true(n < cap);
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

#define HEX(name, str)                                                   \
  uint8_t name[256];                                                     \
  size_t name##_len = unhex(str, name, sizeof name);                     \
  (void)name##_len

/* ---------------- published primitive vectors ---------------- */

static void rfc4493_sec4_aes_cmac_examples_1_to_4(void **state)
{
  (void)state;
  HEX(key, "2b7e151628aed2a6abf7158809cf4f3c");
  HEX(msg, "6bc1bee22e409f96e93d7e117393172a"
           "ae2d8a571e03ac9c9eb76fac45af8e51"
           "30c81c46a35ce411e5fbc1191a0a52ef"
           "f69f2445df4f9b17ad2b417be66c3710");
  static const struct {
    size_t len;
    const char *mac;
  } ex[4] = {
      {0, "bb1d6929e95937287fa37d129b756746"},
      {16, "070a16b46b4d4144f79bdd9dd04a287c"},
      {40, "dfa66747de9ae63030ca32611497c827"},
      {64, "51f0bebf7e3b9d92fc49741779363cfe"},
  };
  for (size_t i = 0; i < 4; i++) {
    HEX(want, ex[i].mac);
    uint8_t out[16];
    smbx_iov one = {msg, ex[i].len};
    assert_int_equal(g_cr.mac(g_cr.user_data, SMBX_CRYPTO_SIGN_AES_CMAC, key,
                              16, NULL, 0, &one, 1, out),
                     0);
    assert_memory_equal(out, want, 16);
    /* the same message as an uneven scatter list (1 / 0 / rest bytes) */
    if (ex[i].len) {
      smbx_iov three[3] = {{msg, 1}, {NULL, 0}, {msg + 1, ex[i].len - 1}};
      memset(out, 0, sizeof out);
      assert_int_equal(g_cr.mac(g_cr.user_data, SMBX_CRYPTO_SIGN_AES_CMAC,
                                key, 16, NULL, 0, three, 3, out),
                       0);
      assert_memory_equal(out, want, 16);
    }
  }
}

static void rfc4231_sec4_hmac_sha256_cases_1_to_7(void **state)
{
  (void)state;
  static const char *const data_txt[7] = {
      "Hi There",
      "what do ya want for nothing?",
      NULL,
      NULL,
      "Test With Truncation",
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by the "
      "HMAC algorithm.",
  };
  /* first 16 bytes of each result (case 5 is itself the 128-bit one) */
  static const char *const mac[7] = {
      "b0344c61d8db38535ca8afceaf0bf12b", "5bdcc146bf60754e6a042426089575c7",
      "773ea91e36800e46854db8ebd09181a7", "82558a389a443c0ea4cc819899f2083a",
      "a3b6167473100ee06e0c796c2955552b", "60e431591ee0b67f0d8a26aacbf5b77f",
      "9b09ffa71b942fcb27635fbcd5b0e944",
  };
  uint8_t key[131], data[160];
  for (size_t c = 0; c < 7; c++) {
    size_t klen, dlen;
    switch (c) {
    case 0: klen = 20; memset(key, 0x0b, klen); break;
    case 1: klen = 4; memcpy(key, "Jefe", 4); break;
    case 2: klen = 20; memset(key, 0xaa, klen); break;
    case 3: klen = 25; for (size_t i = 0; i < 25; i++) key[i] = (uint8_t)(i + 1); break;
    case 4: klen = 20; memset(key, 0x0c, klen); break;
    default: klen = 131; memset(key, 0xaa, klen); break;
    }
    if (data_txt[c]) {
      dlen = strlen(data_txt[c]);
      memcpy(data, data_txt[c], dlen);
    } else {
      dlen = 50;
      memset(data, c == 2 ? 0xdd : 0xcd, dlen);
    }
    HEX(want, mac[c]);
    uint8_t out[16];
    smbx_iov iov = {data, dlen};
    assert_int_equal(g_cr.mac(g_cr.user_data, SMBX_CRYPTO_SIGN_HMAC_SHA256,
                              key, klen, NULL, 0, &iov, 1, out),
                     0);
    assert_memory_equal(out, want, 16);
  }
}

static void aead_kat(uint32_t cipher, const char *k, const char *iv,
                     const char *p, const char *a, const char *c,
                     const char *t, size_t tlen)
{
  HEX(key, k);
  HEX(nonce, iv);
  HEX(pt, p);
  HEX(aad, a);
  HEX(ct, c);
  HEX(tag, t);
  assert_int_equal(pt_len, ct_len);
  assert_int_equal(tag_len, tlen);
  uint8_t buf[256], out_tag[16];
  memcpy(buf, pt, pt_len);
  assert_int_equal(smbx_openssl_aead_encrypt(g_o, cipher, key, key_len, nonce,
                                             nonce_len, aad, aad_len, buf,
                                             pt_len, out_tag, tag_len),
                   0);
  assert_memory_equal(buf, ct, ct_len);
  assert_memory_equal(out_tag, tag, tag_len);
  assert_int_equal(smbx_openssl_aead_decrypt(g_o, cipher, key, key_len, nonce,
                                             nonce_len, aad, aad_len, buf,
                                             ct_len, tag, tag_len),
                   0);
  assert_memory_equal(buf, pt, pt_len);
  /* one flipped tag bit: not authentic */
  memcpy(buf, ct, ct_len);
  tag[0] ^= 0x01;
  assert_int_equal(smbx_openssl_aead_decrypt(g_o, cipher, key, key_len, nonce,
                                             nonce_len, aad, aad_len, buf,
                                             ct_len, tag, tag_len),
                   SMBX_ERR_AUTH);
  /* through the hooks when the shape is SMB's (16-byte tag) */
  if (tag_len == 16) {
    tag[0] ^= 0x01;
    memcpy(buf, pt, pt_len);
    assert_int_equal(g_cr.aead_encrypt(g_cr.user_data, cipher, key, key_len,
                                       nonce, nonce_len, aad, aad_len, buf,
                                       pt_len, out_tag),
                     0);
    assert_memory_equal(buf, ct, ct_len);
    assert_memory_equal(out_tag, tag, 16);
    assert_int_equal(g_cr.aead_decrypt(g_cr.user_data, cipher, key, key_len,
                                       nonce, nonce_len, aad, aad_len, buf,
                                       ct_len, tag),
                     0);
    assert_memory_equal(buf, pt, pt_len);
  }
}

#define GCM_K3 "feffe9928665731c6d6a8f9467308308"
#define GCM_IV3 "cafebabefacedbaddecaf888"
#define GCM_P3                                                          \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"    \
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_P3_TAIL "1aafd255"
#define GCM_A4 "feedfacedeadbeeffeedfacedeadbeefabaddad2"

static void gcm_mcgrew_viega_cases_2_3_4_aes128(void **state)
{
  (void)state;
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_GCM, "00000000000000000000000000000000",
           "000000000000000000000000", "00000000000000000000000000000000", "",
           "0388dace60b6a392f328c2b971b2fe78",
           "ab6e47d42cec13bdf53a67b21257bddf", 16);
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_GCM, GCM_K3, GCM_IV3,
           GCM_P3 GCM_P3_TAIL, "",
           "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
           "4d5c2af327cd64a62cf35abd2ba6fab4", 16);
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_GCM, GCM_K3, GCM_IV3, GCM_P3, GCM_A4,
           "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
           "5bc94fbc3221a5db94fae95ae7121a47", 16);
}

static void gcm_mcgrew_viega_cases_14_15_16_aes256(void **state)
{
  (void)state;
  aead_kat(SMBX_CRYPTO_CIPHER_AES256_GCM,
           "0000000000000000000000000000000000000000000000000000000000000000",
           "000000000000000000000000", "00000000000000000000000000000000", "",
           "cea7403d4d606b6e074ec5d3baf39d18",
           "d0d1c8a799996bf0265b98b5d48ab919", 16);
  aead_kat(SMBX_CRYPTO_CIPHER_AES256_GCM, GCM_K3 GCM_K3, GCM_IV3,
           GCM_P3 GCM_P3_TAIL, "",
           "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
           "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
           "b094dac5d93471bdec1a502270e3cc6c", 16);
  aead_kat(SMBX_CRYPTO_CIPHER_AES256_GCM, GCM_K3 GCM_K3, GCM_IV3, GCM_P3,
           GCM_A4,
           "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
           "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
           "76fc6ece0f4e1768cddf8853bb2d551b", 16);
}

static void rfc3610_sec8_ccm_packet_vector_1(void **state)
{
  (void)state;
  /* 13-byte nonce, 8-byte tag (M = 8), 8 header bytes as AAD */
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_CCM, "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf",
           "00000003020100a0a1a2a3a4a5",
           "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", "0001020304050607",
           "588c979a61c663d2f066d0c2c0f989806d5f6b61dac384",
           "17e8d12cfdf926e0", 8);
}

/* NIST SP 800-38C Appendix C, examples 1-3 (AES-128-CCM; nonce 7, 8, 12
 * bytes; tag 4, 6, 8 bytes) */
static void nist_sp800_38c_appendix_c_ccm_examples_1_2_3(void **state)
{
  (void)state;
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_CCM, "404142434445464748494a4b4c4d4e4f",
           "10111213141516", "20212223", "0001020304050607", "7162015b",
           "4dac255d", 4);
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_CCM, "404142434445464748494a4b4c4d4e4f",
           "1011121314151617", "202122232425262728292a2b2c2d2e2f",
           "000102030405060708090a0b0c0d0e0f",
           "d2a1f0e051ea5f62081a7792073d593d", "1fc64fbfaccd", 6);
  aead_kat(SMBX_CRYPTO_CIPHER_AES128_CCM, "404142434445464748494a4b4c4d4e4f",
           "101112131415161718191a1b",
           "202122232425262728292a2b2c2d2e2f3031323334353637",
           "000102030405060708090a0b0c0d0e0f10111213",
           "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5",
           "484392fbc1b09951", 8);
}

static void fips180_2_sha512_abc_and_scatter(void **state)
{
  (void)state;
  HEX(want, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  uint8_t out[64];
  smbx_iov iov[3] = {{"a", 1}, {"", 0}, {"bc", 2}};
  assert_int_equal(g_cr.sha512(g_cr.user_data, iov, 3, out), 0);
  assert_memory_equal(out, want, 64);
}

static void sp800_108_nist_cavp_kbkdf_ctr_hmac_sha256_count0_prf(void **state)
{
  (void)state;
  /* KO = PRF(KI, [1]_32 || FixedInputData), L = 128: the mac hook as the
   * KDF's PRF (the kdf hook formats SMB's Label/Context itself) */
  HEX(ki, "dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0");
  HEX(fixed, "01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b8"
             "64a145fab25e517b08f8683d0315bb2911d80a0e8aba17f3b413faac");
  HEX(ko, "10621342bfb0fd40046c0e29f2cfdbf0");
  static const uint8_t one[4] = {0, 0, 0, 1};
  smbx_iov iov[2] = {{one, 4}, {fixed, fixed_len}};
  uint8_t out[16];
  assert_int_equal(g_cr.mac(g_cr.user_data, SMBX_CRYPTO_SIGN_HMAC_SHA256, ki,
                            ki_len, NULL, 0, iov, 2, out),
                   0);
  assert_memory_equal(out, ko, 16);
}

static void sp800_108_kdf_hook_equals_prf_construction(void **state)
{
  (void)state;
  /* L = 128: one PRF block HMAC(K, [1] || Label || 0x00 || Context || [L]),
   * built here from the (RFC 4231-checked) mac hook */
  static const uint8_t label[] = "SMB2AESCMAC", ctx[] = "SmbSign";
  static const uint8_t one[4] = {0, 0, 0, 1}, sep[1] = {0},
                       l128[4] = {0, 0, 0, 0x80};
  smbx_iov iov[5] = {{one, 4},
                     {label, sizeof label},
                     {sep, 1},
                     {ctx, sizeof ctx},
                     {l128, 4}};
  uint8_t want[16], got[16];
  assert_int_equal(g_cr.mac(g_cr.user_data, SMBX_CRYPTO_SIGN_HMAC_SHA256,
                            kat_sk16, 16, NULL, 0, iov, 5, want),
                   0);
  assert_int_equal(g_cr.kdf(g_cr.user_data, kat_sk16, 16, label, sizeof label,
                            ctx, sizeof ctx, got, 16),
                   0);
  assert_memory_equal(got, want, 16);
  assert_memory_equal(got, kat_k30_sign, 16); /* and impacket agrees */
  /* L = 256 (AES-256 cipher keys) against impacket */
  uint8_t k256[32];
  static const uint8_t c2s[] = "SMBC2SCipherKey";
  assert_int_equal(g_cr.kdf(g_cr.user_data, kat_sk32, 32, c2s, sizeof c2s,
                            kat_preauth_3, 64, k256, 32),
                   0);
  assert_memory_equal(k256, kat_k311_256_c2s, 32);
}

static void rfc1320_md4_abc_through_legacy_provider(void **state)
{
  (void)state;
  /* NTLM needs MD4: the adapter must have loaded OpenSSL's legacy provider */
  assert_int_equal(smbx_openssl_has_legacy(g_o), 1);
  EVP_MD *md4 = EVP_MD_fetch(smbx_openssl_libctx(g_o), "MD4", NULL);
  assert_non_null(md4);
  uint8_t out[16];
  unsigned n = 0;
  assert_int_equal(EVP_Digest("abc", 3, out, &n, md4, NULL), 1);
  EVP_MD_free(md4);
  HEX(want, "a448017aaf21d8525fc10ae87aa6729d");
  assert_int_equal(n, 16);
  assert_memory_equal(out, want, 16);
}

/* ---------------- [MS-SMB2] 3.1.4.2 key derivation ---------------- */

static void derive(uint16_t dialect, uint32_t role, uint16_t sign,
                   uint16_t cipher, const uint8_t *sk, size_t sk_len,
                   const uint8_t *preauth, smbx_smb2_keys *k)
{
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, dialect, role, sign, cipher,
                                         sk, sk_len, preauth, k),
                   0);
}

static void smb2_3_1_4_2_keys_300_labels_and_directions(void **state)
{
  (void)state;
  smbx_smb2_keys c, s;
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_DEFAULT, SMBX_CRYPTO_CIPHER_AES128_CCM, kat_sk16, 16,
         NULL, &c);
  derive(SMBX_SMB2_DIALECT_302, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_SIGN_AES_CMAC, SMBX_CRYPTO_CIPHER_AES128_CCM, kat_sk16,
         16, NULL, &s);
  assert_int_equal(c.signing_alg, SMBX_CRYPTO_SIGN_AES_CMAC);
  assert_int_equal(c.cipher, SMBX_CRYPTO_CIPHER_AES128_CCM);
  assert_int_equal(c.cipher_key_len, 16);
  assert_memory_equal(c.signing, kat_k30_sign, 16);
  assert_memory_equal(c.application, kat_k30_app, 16);
  /* client encrypts with "ServerIn ", decrypts with "ServerOut" */
  assert_memory_equal(c.encryption, kat_k30_c2s, 16);
  assert_memory_equal(c.decryption, kat_k30_s2c, 16);
  assert_memory_equal(s.signing, kat_k30_sign, 16);
  assert_memory_equal(s.encryption, kat_k30_s2c, 16);
  assert_memory_equal(s.decryption, kat_k30_c2s, 16);
  static const uint8_t zero[32];
  assert_memory_equal(c.encryption + 16, zero, 16);
  /* without a cipher: no cipher keys */
  derive(SMBX_SMB2_DIALECT_300, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_DEFAULT, SMBX_CRYPTO_CIPHER_NONE, kat_sk16, 16, NULL,
         &c);
  assert_int_equal(c.cipher_key_len, 0);
  assert_memory_equal(c.encryption, zero, 32);
  assert_memory_equal(c.signing, kat_k30_sign, 16);
}

static void smb2_3_1_4_2_keys_311_preauth_context_aes128(void **state)
{
  (void)state;
  smbx_smb2_keys c, s;
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_AES_GMAC, SMBX_CRYPTO_CIPHER_AES128_GCM, kat_sk16, 16,
         kat_preauth_3, &c);
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_SIGN_DEFAULT, SMBX_CRYPTO_CIPHER_AES128_CCM, kat_sk16, 16,
         kat_preauth_3, &s);
  assert_int_equal(c.signing_alg, SMBX_CRYPTO_SIGN_AES_GMAC);
  assert_int_equal(s.signing_alg, SMBX_CRYPTO_SIGN_AES_CMAC);
  assert_memory_equal(c.signing, kat_k311_sign, 16);
  assert_memory_equal(c.application, kat_k311_app, 16);
  assert_memory_equal(c.encryption, kat_k311_c2s, 16);
  assert_memory_equal(c.decryption, kat_k311_s2c, 16);
  assert_memory_equal(s.encryption, kat_k311_s2c, 16);
  assert_memory_equal(s.decryption, kat_k311_c2s, 16);
  /* a different preauth hash gives different keys */
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_AES_GMAC, SMBX_CRYPTO_CIPHER_AES128_GCM, kat_sk16, 16,
         kat_preauth_2, &s);
  assert_memory_not_equal(s.signing, kat_k311_sign, 16);
}

static void smb2_3_1_4_2_keys_311_aes256_full_session_key(void **state)
{
  (void)state;
  smbx_smb2_keys c;
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_AES_CMAC, SMBX_CRYPTO_CIPHER_AES256_GCM, kat_sk32, 32,
         kat_preauth_3, &c);
  assert_int_equal(c.cipher_key_len, 32);
  /* signing/application from the first 16 bytes, cipher keys from all 32
   * with L = 256 */
  assert_memory_equal(c.signing, kat_k311_256_sign, 16);
  assert_memory_equal(c.application, kat_k311_256_app, 16);
  assert_memory_equal(c.encryption, kat_k311_256_c2s, 32);
  assert_memory_equal(c.decryption, kat_k311_256_s2c, 32);
  /* a 16-byte session key: FullSessionKey is the SessionKey */
  derive(SMBX_SMB2_DIALECT_311, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_SIGN_AES_CMAC, SMBX_CRYPTO_CIPHER_AES256_CCM, kat_sk16, 16,
         kat_preauth_3, &c);
  assert_memory_equal(c.encryption, kat_k311_256s_s2c, 32);
  assert_memory_equal(c.decryption, kat_k311_256s_c2s, 32);
  assert_memory_equal(c.signing, kat_k311_sign, 16);
}

static void smb2_3_1_4_1_keys_2x_sign_with_session_key(void **state)
{
  (void)state;
  smbx_smb2_keys k;
  /* shorter keys are right-padded with zeros to 16 bytes */
  derive(SMBX_SMB2_DIALECT_210, SMBX_CRYPTO_ROLE_CLIENT,
         SMBX_CRYPTO_SIGN_DEFAULT, SMBX_CRYPTO_CIPHER_NONE, kat_sk16, 8, NULL,
         &k);
  assert_int_equal(k.signing_alg, SMBX_CRYPTO_SIGN_HMAC_SHA256);
  assert_memory_equal(k.signing, kat_sk16, 8);
  static const uint8_t zero[16];
  assert_memory_equal(k.signing + 8, zero, 8);
  assert_memory_equal(k.application, zero, 16);
  /* longer: the first 16 */
  derive(SMBX_SMB2_DIALECT_202, SMBX_CRYPTO_ROLE_SERVER,
         SMBX_CRYPTO_SIGN_HMAC_SHA256, SMBX_CRYPTO_CIPHER_NONE, kat_sk32, 32,
         NULL, &k);
  assert_memory_equal(k.signing, kat_sk32, 16);
}

static void smb2_derive_keys_rejects_bad_combinations(void **state)
{
  (void)state;
  smbx_smb2_keys k;
  memset(&k, 0xAA, sizeof k);
  const uint8_t *sk = kat_sk16;
  const uint8_t *ph = kat_preauth_3;
  /* 2.x: no cipher, no CMAC */
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_210, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT,
                                         SMBX_CRYPTO_CIPHER_AES128_CCM, sk, 16,
                                         NULL, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(k.dialect, 0); /* zeroed on failure */
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_202, 0,
                                         SMBX_CRYPTO_SIGN_AES_CMAC, 0, sk, 16,
                                         NULL, &k),
                   SMBX_ERR_INVAL);
  /* 3.0.x: only AES-128-CCM, only CMAC */
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_300, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT,
                                         SMBX_CRYPTO_CIPHER_AES128_GCM, sk, 16,
                                         NULL, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_302, 0,
                                         SMBX_CRYPTO_SIGN_AES_GMAC, 0, sk, 16,
                                         NULL, &k),
                   SMBX_ERR_INVAL);
  /* 3.1.1: preauth hash required; unknown cipher / signing ids */
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 16,
                                         NULL, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 5, sk, 16,
                                         ph, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 0, 3, 0,
                                         sk, 16, ph, &k),
                   SMBX_ERR_INVAL);
  /* role, key length, NULLs, unknown dialect */
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 2,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 16,
                                         ph, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 0,
                                         ph, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(NULL, SMBX_SMB2_DIALECT_311, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 16,
                                         ph, &k),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, SMBX_SMB2_DIALECT_311, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 16,
                                         ph, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_derive_keys(&g_cr, 0x0312, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, sk, 16,
                                         ph, &k),
                   SMBX_ERR_UNSUPPORTED);
}

/* ---------------- [MS-SMB2] 3.1.4.1 signing ---------------- */

static void sign_verify_kat(uint16_t alg, const uint8_t *key,
                            const uint8_t *msg, size_t len,
                            const uint8_t *want)
{
  uint8_t buf[128];
  assert_true(len <= sizeof buf);
  memcpy(buf, msg, len);
  memset(buf + 48, 0x5A, 16); /* junk in the field: must be ignored */
  assert_int_equal(smbx_smb2_sign(&g_cr, alg, key, buf, len,
                                  SMBX_CRYPTO_SIGN_SET_FLAG),
                   0);
  assert_memory_equal(buf, want, len); /* flag set + signature */
  assert_int_equal(smbx_smb2_verify(&g_cr, alg, key, buf, len), 0);
  /* [MS-SMB2] 3.1.5.1: any changed byte fails verification */
  for (size_t i = 0; i < len; i++) {
    buf[i] ^= 0x20;
    assert_int_equal(smbx_smb2_verify(&g_cr, alg, key, buf, len),
                     i < 4 ? SMBX_ERR_INVAL : SMBX_ERR_AUTH);
    buf[i] ^= 0x20;
  }
  /* a wrong key and a truncated message fail too */
  uint8_t k2[16];
  memcpy(k2, key, 16);
  k2[15] ^= 1;
  assert_int_equal(smbx_smb2_verify(&g_cr, alg, k2, buf, len), SMBX_ERR_AUTH);
  assert_int_equal(smbx_smb2_verify(&g_cr, alg, key, buf, len - 1),
                   SMBX_ERR_AUTH);
}

static void smb2_3_1_4_1_sign_hmac_sha256_2x(void **state)
{
  (void)state;
  sign_verify_kat(SMBX_CRYPTO_SIGN_HMAC_SHA256, kat_sk16, kat_tc_req,
                  sizeof kat_tc_req, kat_sig_hmac_tc_req);
}

static void smb2_3_1_4_1_sign_aes_cmac_3x(void **state)
{
  (void)state;
  sign_verify_kat(SMBX_CRYPTO_SIGN_AES_CMAC, kat_k30_sign, kat_tc_req,
                  sizeof kat_tc_req, kat_sig_cmac_tc_req);
}

static void smb2_3_1_4_1_sign_aes_gmac_nonce_msgid_role_cancel(void **state)
{
  (void)state;
  /* request: bits 0; response: bit 0 (SERVER_TO_REDIR); CANCEL: bit 1 */
  sign_verify_kat(SMBX_CRYPTO_SIGN_AES_GMAC, kat_k311_sign, kat_tc_req,
                  sizeof kat_tc_req, kat_sig_gmac_tc_req);
  sign_verify_kat(SMBX_CRYPTO_SIGN_AES_GMAC, kat_k311_sign, kat_tc_rsp,
                  sizeof kat_tc_rsp, kat_sig_gmac_tc_rsp);
  sign_verify_kat(SMBX_CRYPTO_SIGN_AES_GMAC, kat_k311_sign, kat_cancel,
                  sizeof kat_cancel, kat_sig_gmac_cancel);
}

static void smb2_3_1_4_1_sign_without_flag_and_bad_args(void **state)
{
  (void)state;
  uint8_t buf[sizeof kat_tc_req];
  memcpy(buf, kat_tc_req, sizeof buf);
  assert_int_equal(smbx_smb2_sign(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, sizeof buf, 0),
                   0);
  assert_int_equal(buf[16] & 0x08, 0); /* flag left alone */
  assert_int_equal(smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                    kat_k30_sign, buf, sizeof buf),
                   0);
  assert_memory_not_equal(buf + 48, kat_sig_cmac_tc_req + 48, 16);
  /* a header alone (64 bytes) is signable */
  assert_int_equal(smbx_smb2_sign(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, 64, 0),
                   0);
  assert_int_equal(smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                    kat_k30_sign, buf, 64),
                   0);
  assert_int_equal(smbx_smb2_sign(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, 63, 0),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_sign(&g_cr, 3, kat_k30_sign, buf, 64, 0),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_sign(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, 64, 2),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_sign(NULL, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, 64, 0),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_verify(&g_cr, SMBX_CRYPTO_SIGN_AES_CMAC, NULL,
                                    buf, 64),
                   SMBX_ERR_INVAL);
}

/* ---------------- [MS-SMB2] 3.1.4.3 TRANSFORM ---------------- */

static const struct {
  uint16_t cipher;
  const uint8_t *key;
  size_t key_len;
  const uint8_t *want;
} tf_kat[4] = {
    {SMBX_CRYPTO_CIPHER_AES128_CCM, kat_k30_c2s, 16, kat_tf_aes128_ccm},
    {SMBX_CRYPTO_CIPHER_AES128_GCM, kat_k311_c2s, 16, kat_tf_aes128_gcm},
    {SMBX_CRYPTO_CIPHER_AES256_CCM, kat_k311_256_c2s, 32, kat_tf_aes256_ccm},
    {SMBX_CRYPTO_CIPHER_AES256_GCM, kat_k311_256_c2s, 32, kat_tf_aes256_gcm},
};

#define TF_LEN (52 + sizeof kat_tc_req)

static void smb2_2_2_41_encrypt_known_answer_all_ciphers(void **state)
{
  (void)state;
  for (size_t i = 0; i < 4; i++) {
    uint8_t buf[TF_LEN + 8];
    memset(buf, 0xEE, sizeof buf);
    memcpy(buf + 52, kat_tc_req, sizeof kat_tc_req);
    const uint8_t *nonce = smbx_crypto_cipher_nonce_size(tf_kat[i].cipher) == 11
                               ? kat_nonce11
                               : kat_nonce12;
    assert_int_equal(smbx_smb2_encrypt(&g_cr, tf_kat[i].cipher, tf_kat[i].key,
                                       tf_kat[i].key_len, KAT_SESSION_ID,
                                       nonce, buf, sizeof buf,
                                       sizeof kat_tc_req),
                     (smbx_ssize)TF_LEN);
    assert_memory_equal(buf, tf_kat[i].want, TF_LEN);
    assert_int_equal(buf[TF_LEN], 0xEE); /* nothing written past the end */
    uint64_t sid = 0;
    assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[i].cipher, tf_kat[i].key,
                                       tf_kat[i].key_len, buf, TF_LEN, &sid),
                     (smbx_ssize)sizeof kat_tc_req);
    assert_memory_equal(buf + 52, kat_tc_req, sizeof kat_tc_req);
    assert_true(sid == KAT_SESSION_ID);
  }
}

static void smb2_3_1_4_3_encrypt_random_nonce_round_trip(void **state)
{
  (void)state;
  static const uint16_t ciphers[4] = {
      SMBX_CRYPTO_CIPHER_AES128_CCM, SMBX_CRYPTO_CIPHER_AES128_GCM,
      SMBX_CRYPTO_CIPHER_AES256_CCM, SMBX_CRYPTO_CIPHER_AES256_GCM};
  /* a compound-sized plaintext: two signed PDUs back to back */
  uint8_t plain[200];
  for (size_t i = 0; i < sizeof plain; i++)
    plain[i] = (uint8_t)(i * 7 + 1);
  memcpy(plain, kat_tc_req, 64);
  for (size_t c = 0; c < 4; c++) {
    size_t kl = smbx_crypto_cipher_key_size(ciphers[c]);
    size_t nl = smbx_crypto_cipher_nonce_size(ciphers[c]);
    uint8_t key[32];
    for (size_t i = 0; i < 32; i++)
      key[i] = (uint8_t)(0x40 + i + c);
    uint8_t a[52 + sizeof plain], b[52 + sizeof plain];
    memcpy(a + 52, plain, sizeof plain);
    memcpy(b + 52, plain, sizeof plain);
    assert_int_equal(smbx_smb2_encrypt(&g_cr, ciphers[c], key, kl, 7, NULL, a,
                                       sizeof a, sizeof plain),
                     (smbx_ssize)sizeof a);
    assert_int_equal(smbx_smb2_encrypt(&g_cr, ciphers[c], key, kl, 7, NULL, b,
                                       sizeof b, sizeof plain),
                     (smbx_ssize)sizeof b);
    /* header layout (2.2.41) */
    assert_memory_equal(a, "\xfdSMB", 4);
    static const uint8_t zero[5];
    assert_memory_equal(a + 20 + nl, zero, 16 - nl);
    assert_int_equal(a[36] | a[37] << 8, sizeof plain);
    assert_int_equal(a[42], 1);
    assert_int_equal(a[44], 7);
    /* fresh random nonces, so different ciphertexts */
    assert_memory_not_equal(a + 20, b + 20, nl);
    assert_memory_not_equal(a + 52, plain, sizeof plain);
    assert_int_equal(smbx_smb2_decrypt(&g_cr, ciphers[c], key, kl, a, sizeof a,
                                       NULL),
                     (smbx_ssize)sizeof plain);
    assert_memory_equal(a + 52, plain, sizeof plain);
  }
}

static void smb2_3_3_5_2_1_1_decrypt_tamper_each_byte(void **state)
{
  (void)state;
  for (size_t c = 0; c < 4; c++) {
    for (size_t i = 0; i < TF_LEN; i++) {
      uint8_t buf[TF_LEN];
      memcpy(buf, tf_kat[c].want, TF_LEN);
      buf[i] ^= 0x04;
      smbx_ssize want;
      if (i < 4 || i == 42 || i == 43)
        want = SMBX_ERR_DECODE; /* ProtocolId, Flags */
      else if (i == 36)
        want = SMBX_ERR_AUTH; /* OMS 94 -> 90: still in the frame, AAD */
      else if (i >= 37 && i < 40)
        want = SMBX_ERR_DECODE; /* OMS past the frame */
      else
        want = SMBX_ERR_AUTH; /* tag, AAD (nonce, reserved, SessionId),
                                 ciphertext */
      uint64_t sid = 0;
      assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher,
                                         tf_kat[c].key, tf_kat[c].key_len, buf,
                                         TF_LEN, &sid),
                       want);
      if (i >= 44 && i < 52)
        assert_true(sid == (KAT_SESSION_ID ^ (0x04ull << (8 * (i - 44)))));
    }
  }
}

static void smb2_2_3_decrypt_rejects_bad_frames_and_keys(void **state)
{
  (void)state;
  uint8_t buf[TF_LEN];
  const size_t c = 1; /* AES-128-GCM */
  memcpy(buf, tf_kat[c].want, TF_LEN);
  /* truncated: 52 + OriginalMessageSize > frame */
  assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher, tf_kat[c].key,
                                     16, buf, TF_LEN - 1, NULL),
                   SMBX_ERR_DECODE);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher, tf_kat[c].key,
                                     16, buf, 51, NULL),
                   SMBX_ERR_DECODE);
  /* the other direction's key, the wrong cipher */
  assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher, kat_k311_s2c, 16,
                                     buf, TF_LEN, NULL),
                   SMBX_ERR_AUTH);
  memcpy(buf, tf_kat[c].want, TF_LEN);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, SMBX_CRYPTO_CIPHER_AES128_CCM,
                                     tf_kat[c].key, 16, buf, TF_LEN, NULL),
                   SMBX_ERR_AUTH);
  /* key length must match the cipher; unknown cipher */
  memcpy(buf, tf_kat[c].want, TF_LEN);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher, tf_kat[c].key,
                                     32, buf, TF_LEN, NULL),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, 5, tf_kat[c].key, 16, buf, TF_LEN,
                                     NULL),
                   SMBX_ERR_INVAL);
  /* trailing bytes after the ciphertext are ignored */
  uint8_t big[TF_LEN + 3];
  memcpy(big, tf_kat[c].want, TF_LEN);
  memset(big + TF_LEN, 0x99, 3);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, tf_kat[c].cipher, tf_kat[c].key,
                                     16, big, sizeof big, NULL),
                   (smbx_ssize)sizeof kat_tc_req);
}

static void smb2_case_40_decrypt_rejects_nested_transform(void **state)
{
  (void)state;
  /* an authentic TRANSFORM whose plaintext is itself a TRANSFORM */
  uint8_t key[16] = {1, 2, 3};
  uint8_t buf[52 + 52 + 64];
  memset(buf, 0, sizeof buf);
  memcpy(buf + 52, tf_kat[0].want, 52 + 64);
  assert_int_equal(smbx_smb2_encrypt(&g_cr, SMBX_CRYPTO_CIPHER_AES128_GCM, key,
                                     16, 1, NULL, buf, sizeof buf, 52 + 64),
                   (smbx_ssize)sizeof buf);
  assert_int_equal(smbx_smb2_decrypt(&g_cr, SMBX_CRYPTO_CIPHER_AES128_GCM, key,
                                     16, buf, sizeof buf, NULL),
                   SMBX_ERR_DECODE);
}

static void smb2_encrypt_rejects_bad_arguments(void **state)
{
  (void)state;
  uint8_t key[32] = {0};
  uint8_t buf[52 + 64];
  memset(buf, 0, sizeof buf);
  memcpy(buf + 52, kat_tc_req, 64);
  const uint16_t gcm = SMBX_CRYPTO_CIPHER_AES128_GCM;
  assert_int_equal(smbx_smb2_encrypt(&g_cr, gcm, key, 16, 1, NULL, buf,
                                     sizeof buf - 1, 64),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_encrypt(&g_cr, gcm, key, 16, 1, NULL, buf, 51,
                                     64),
                   SMBX_ERR_NOBUF);
  assert_int_equal(smbx_smb2_encrypt(&g_cr, gcm, key, 16, 1, NULL, buf,
                                     sizeof buf, 63),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_encrypt(&g_cr, gcm, key, 32, 1, NULL, buf,
                                     sizeof buf, 64),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_encrypt(&g_cr, 0, key, 16, 1, NULL, buf,
                                     sizeof buf, 64),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_encrypt(NULL, gcm, key, 16, 1, NULL, buf,
                                     sizeof buf, 64),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_crypto_cipher_key_size(SMBX_CRYPTO_CIPHER_AES256_CCM),
                   32);
  assert_int_equal(smbx_crypto_cipher_nonce_size(SMBX_CRYPTO_CIPHER_AES256_CCM),
                   11);
  assert_int_equal(smbx_crypto_cipher_nonce_size(0), 0);
  assert_int_equal(smbx_crypto_cipher_key_size(5), 0);
}

/* ---------------- preauth integrity (3.1.1) ---------------- */

static void smb2_3_3_5_4_preauth_chain_equals_direct_sha512(void **state)
{
  (void)state;
  uint8_t h[64];
  memset(h, 0x77, sizeof h);
  smbx_smb2_preauth_init(h);
  static const uint8_t zero[64];
  assert_memory_equal(h, zero, 64);
  const uint8_t *msgs[3] = {kat_neg_req, kat_neg_rsp, kat_ss_req};
  const size_t lens[3] = {sizeof kat_neg_req, sizeof kat_neg_rsp,
                          sizeof kat_ss_req};
  const uint8_t *want[3] = {kat_preauth_1, kat_preauth_2, kat_preauth_3};
  for (size_t i = 0; i < 3; i++) {
    /* direct: SHA-512 over the concatenation, one contiguous buffer */
    uint8_t cat[64 + 200], direct[64];
    assert_true(lens[i] <= 200);
    memcpy(cat, h, 64);
    memcpy(cat + 64, msgs[i], lens[i]);
    smbx_iov one = {cat, 64 + lens[i]};
    assert_int_equal(g_cr.sha512(g_cr.user_data, &one, 1, direct), 0);
    assert_int_equal(smbx_smb2_preauth_update(&g_cr, h, msgs[i], lens[i]), 0);
    assert_memory_equal(h, direct, 64);
    assert_memory_equal(h, want[i], 64); /* and Python's hashlib agrees */
  }
  assert_int_equal(smbx_smb2_preauth_update(&g_cr, h, NULL, 1),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_smb2_preauth_update(NULL, h, kat_ss_req, 64),
                   SMBX_ERR_INVAL);
  assert_memory_equal(h, kat_preauth_3, 64); /* unchanged by failures */
}

/* ---------------- hook table handling ---------------- */

static int fail_mac(void *ud, uint32_t alg, const uint8_t *key, size_t kl,
                    const uint8_t *nonce, size_t nl, const smbx_iov *iov,
                    size_t n, uint8_t out[16])
{
  (void)ud, (void)alg, (void)key, (void)kl, (void)nonce, (void)nl, (void)iov,
      (void)n;
  memset(out, 0xCC, 16);
  return 5; /* a positive return violates the contract */
}

static int nomem_sha(void *ud, const smbx_iov *iov, size_t n, uint8_t out[64])
{
  (void)ud, (void)iov, (void)n, (void)out;
  return SMBX_ERR_NOMEM;
}

static void crypto_hooks_missing_truncated_or_failing(void **state)
{
  (void)state;
  uint8_t buf[52 + 64];
  memcpy(buf, kat_tc_req, 64);
  /* a table compiled before `mac` existed: struct_size stops short */
  smbx_crypto old = g_cr;
  old.struct_size = offsetof(smbx_crypto, mac);
  assert_int_equal(smbx_smb2_sign(&old, SMBX_CRYPTO_SIGN_AES_CMAC,
                                  kat_k30_sign, buf, 64, 0),
                   SMBX_ERR_UNSUPPORTED);
  assert_int_equal(smbx_smb2_derive_keys(&old, SMBX_SMB2_DIALECT_300, 0,
                                         SMBX_CRYPTO_SIGN_DEFAULT, 0, kat_sk16,
                                         16, NULL, &(smbx_smb2_keys){0}),
                   SMBX_ERR_UNSUPPORTED);
  uint8_t h[64] = {0};
  assert_int_equal(smbx_smb2_preauth_update(&old, h, kat_tc_req, 64), 0);
  /* NULL hooks */
  smbx_crypto none = {sizeof none, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  assert_int_equal(smbx_smb2_preauth_update(&none, h, kat_tc_req, 64),
                   SMBX_ERR_UNSUPPORTED);
  assert_int_equal(smbx_smb2_verify(&none, 1, kat_k30_sign, kat_tc_req, 64),
                   SMBX_ERR_UNSUPPORTED);
  memcpy(buf + 52, kat_tc_req, 64);
  assert_int_equal(smbx_smb2_encrypt(&none, 2, kat_k311_c2s, 16, 1,
                                     kat_nonce12, buf, sizeof buf, 64),
                   SMBX_ERR_UNSUPPORTED);
  smbx_crypto norand = g_cr;
  norand.random = NULL;
  assert_int_equal(smbx_smb2_encrypt(&norand, 2, kat_k311_c2s, 16, 1, NULL,
                                     buf, sizeof buf, 64),
                   SMBX_ERR_UNSUPPORTED);
  assert_int_equal(smbx_smb2_encrypt(&norand, 2, kat_k311_c2s, 16, 1,
                                     kat_nonce12, buf, sizeof buf, 64),
                   (smbx_ssize)sizeof buf);
  assert_int_equal(smbx_smb2_decrypt(&none, 2, kat_k311_c2s, 16, buf,
                                     sizeof buf, NULL),
                   SMBX_ERR_UNSUPPORTED);
  /* failing hooks: errors pass through, positive returns become INVAL */
  smbx_crypto bad = g_cr;
  bad.mac = fail_mac;
  bad.sha512 = nomem_sha;
  memcpy(buf, kat_tc_req, 64);
  assert_int_equal(smbx_smb2_sign(&bad, 1, kat_k30_sign, buf, 64, 0),
                   SMBX_ERR_INVAL);
  static const uint8_t zero[16];
  assert_memory_equal(buf + 48, zero, 16); /* signature left zero */
  assert_int_equal(smbx_smb2_preauth_update(&bad, h, kat_tc_req, 64),
                   SMBX_ERR_NOMEM);
  /* internal copy honours struct_size and fills the rest with NULL */
  smbx_crypto copy;
  memset(&copy, 0xFF, sizeof copy);
  assert_int_equal(smbx__smb2_crypto_copy(&copy, &old), 0);
  assert_int_equal(copy.struct_size, sizeof copy);
  assert_ptr_equal(copy.user_data, g_cr.user_data);
  assert_ptr_equal(copy.sha512, g_cr.sha512);
  assert_null(copy.mac);
  assert_null(copy.random);
  assert_false(smbx__smb2_crypto_complete(&copy));
  assert_int_equal(smbx__smb2_crypto_copy(&copy, &g_cr), 0);
  assert_true(smbx__smb2_crypto_complete(&copy));
  old.struct_size = sizeof(size_t);
  assert_int_equal(smbx__smb2_crypto_copy(&copy, &old), SMBX_ERR_INVAL);
  assert_true(smbx__smb2_ct_equal(kat_sk16, kat_sk16, 16));
  assert_false(smbx__smb2_ct_equal(kat_sk16, kat_sk32, 16));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc4493_sec4_aes_cmac_examples_1_to_4),
      cmocka_unit_test(rfc4231_sec4_hmac_sha256_cases_1_to_7),
      cmocka_unit_test(gcm_mcgrew_viega_cases_2_3_4_aes128),
      cmocka_unit_test(gcm_mcgrew_viega_cases_14_15_16_aes256),
      cmocka_unit_test(rfc3610_sec8_ccm_packet_vector_1),
      cmocka_unit_test(nist_sp800_38c_appendix_c_ccm_examples_1_2_3),
      cmocka_unit_test(fips180_2_sha512_abc_and_scatter),
      cmocka_unit_test(sp800_108_nist_cavp_kbkdf_ctr_hmac_sha256_count0_prf),
      cmocka_unit_test(sp800_108_kdf_hook_equals_prf_construction),
      cmocka_unit_test(rfc1320_md4_abc_through_legacy_provider),
      cmocka_unit_test(smb2_3_1_4_2_keys_300_labels_and_directions),
      cmocka_unit_test(smb2_3_1_4_2_keys_311_preauth_context_aes128),
      cmocka_unit_test(smb2_3_1_4_2_keys_311_aes256_full_session_key),
      cmocka_unit_test(smb2_3_1_4_1_keys_2x_sign_with_session_key),
      cmocka_unit_test(smb2_derive_keys_rejects_bad_combinations),
      cmocka_unit_test(smb2_3_1_4_1_sign_hmac_sha256_2x),
      cmocka_unit_test(smb2_3_1_4_1_sign_aes_cmac_3x),
      cmocka_unit_test(smb2_3_1_4_1_sign_aes_gmac_nonce_msgid_role_cancel),
      cmocka_unit_test(smb2_3_1_4_1_sign_without_flag_and_bad_args),
      cmocka_unit_test(smb2_2_2_41_encrypt_known_answer_all_ciphers),
      cmocka_unit_test(smb2_3_1_4_3_encrypt_random_nonce_round_trip),
      cmocka_unit_test(smb2_3_3_5_2_1_1_decrypt_tamper_each_byte),
      cmocka_unit_test(smb2_2_3_decrypt_rejects_bad_frames_and_keys),
      cmocka_unit_test(smb2_case_40_decrypt_rejects_nested_transform),
      cmocka_unit_test(smb2_encrypt_rejects_bad_arguments),
      cmocka_unit_test(smb2_3_3_5_4_preauth_chain_equals_direct_sha512),
      cmocka_unit_test(crypto_hooks_missing_truncated_or_failing),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
