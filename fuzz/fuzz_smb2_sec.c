/* SPDX-License-Identifier: MIT */
/* SMB2 security helpers (lib/smb2/sec.c) over toy, deterministic crypto
 * hooks that abort when the library passes arguments the hook contract
 * (smbx/crypto.h) forbids. Toy AEAD/MAC are not cryptography: they let the
 * fuzzer reach the code after a successful decrypt.
 *
 * Input: [op u8][sel u8][body...]
 *   op % 6 == 0  verify body; sign a copy, verify it, flip a byte (sel)
 *           1  decrypt body as a TRANSFORM message
 *           2  encrypt body (cipher from sel), decrypt, compare
 *           3  encrypt body, flip the bytes at the positions listed in the
 *              first 4 body bytes, decrypt: must fail unless nothing flipped
 *           4  preauth chain over body split at sel, twice: same result
 *           5  derive keys from body (session key + preauth hash) for both
 *              roles: client's encryption key == server's decryption key */
#include <stdlib.h>
#include <string.h>

#include <smbx/crypto.h>
#include <smbx/smb2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                            \
  do {                                                                      \
    if (!(x))                                                               \
      abort();                                                              \
  } while (0)

static void toy_mix(uint8_t st[16], const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    size_t j = i % 16;
    st[j] = (uint8_t)((st[j] ^ p[i]) * 167u + st[(j + 1) % 16] + 13u);
  }
}

static int toy_sha512(void *ud, const smbx_iov *iov, size_t n, uint8_t out[64])
{
  (void)ud;
  /* the preauth update hashes H (64 bytes) || message */
  CHECK(n == 2 && iov[0].len == 64 && (iov[1].base || !iov[1].len));
  uint8_t st[16] = {1};
  for (size_t i = 0; i < n; i++)
    toy_mix(st, iov[i].base, iov[i].len);
  for (size_t i = 0; i < 4; i++)
    memcpy(out + 16 * i, st, 16);
  return 0;
}

static int toy_mac(void *ud, uint32_t alg, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const smbx_iov *iov,
                   size_t n, uint8_t out[16])
{
  (void)ud;
  static const uint8_t zero[16];
  CHECK(alg <= SMBX_CRYPTO_SIGN_AES_GMAC && key && kl == 16);
  CHECK(alg == SMBX_CRYPTO_SIGN_AES_GMAC ? nonce && nl == 12
                                         : !nonce && nl == 0);
  /* [MS-SMB2] 3.1.4.1: header up to the signature, 16 zero bytes, rest */
  CHECK((n == 2 || n == 3) && iov[0].len == 48 && iov[1].len == 16 &&
        memcmp(iov[1].base, zero, 16) == 0);
  CHECK(n == 2 || iov[2].len > 0);
  uint8_t st[16];
  memcpy(st, key, 16);
  st[0] ^= (uint8_t)alg;
  if (nonce)
    toy_mix(st, nonce, nl);
  for (size_t i = 0; i < n; i++)
    toy_mix(st, iov[i].base, iov[i].len);
  memcpy(out, st, 16);
  return 0;
}

static void toy_aead(uint32_t cipher, const uint8_t *key, size_t kl,
                     const uint8_t *nonce, size_t nl, const uint8_t *aad,
                     size_t al, uint8_t *buf, size_t len)
{
  size_t want_kl = cipher == 3 || cipher == 4 ? 32 : 16;
  size_t want_nl = cipher == 1 || cipher == 3 ? 11 : 12;
  CHECK(cipher >= 1 && cipher <= 4 && kl == want_kl && nl == want_nl);
  /* 3.1.4.3: the AAD is the TRANSFORM header from the Nonce on; the
   * nonce is its first bytes */
  CHECK(al == 32 && aad == nonce && len >= 64 && buf == aad + 32);
  for (size_t i = 0; i < len; i++)
    buf[i] ^= (uint8_t)(key[i % kl] ^ nonce[i % nl] ^ (uint8_t)(i * 31u));
}

static void toy_tag(const uint8_t *key, const uint8_t *aad,
                    const uint8_t *ct, size_t len, uint8_t tag[16])
{
  memcpy(tag, key, 16);
  toy_mix(tag, aad, 32);
  toy_mix(tag, ct, len);
}

static int toy_enc(void *ud, uint32_t cipher, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const uint8_t *aad,
                   size_t al, uint8_t *buf, size_t len, uint8_t tag[16])
{
  (void)ud;
  toy_aead(cipher, key, kl, nonce, nl, aad, al, buf, len);
  toy_tag(key, aad, buf, len, tag);
  return 0;
}

static int toy_dec(void *ud, uint32_t cipher, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const uint8_t *aad,
                   size_t al, uint8_t *buf, size_t len, const uint8_t tag[16])
{
  (void)ud;
  CHECK(len >= 64);
  uint8_t t[16];
  toy_tag(key, aad, buf, len, t);
  if (memcmp(t, tag, 16) != 0)
    return SMBX_ERR_AUTH;
  toy_aead(cipher, key, kl, nonce, nl, aad, al, buf, len);
  return 0;
}

static int toy_kdf(void *ud, const uint8_t *key, size_t kl,
                   const uint8_t *label, size_t ll, const uint8_t *ctx,
                   size_t cl, uint8_t *out, size_t ol)
{
  (void)ud;
  /* SMB labels and contexts carry their own NUL, except the 64-byte
   * preauth hash */
  CHECK(key && kl >= 16 && kl <= 64 && label && ll > 1 && !label[ll - 1]);
  CHECK(ctx && (cl == 64 || (cl > 1 && !ctx[cl - 1])));
  CHECK(ol == 16 || ol == 32);
  uint8_t st[16] = {(uint8_t)ol};
  toy_mix(st, key, kl);
  toy_mix(st, label, ll);
  toy_mix(st, ctx, cl);
  memcpy(out, st, 16);
  if (ol == 32) {
    toy_mix(st, st, 16);
    memcpy(out + 16, st, 16);
  }
  return 0;
}

static int toy_random(void *ud, uint8_t *buf, size_t len)
{
  (void)ud;
  CHECK(len == 11 || len == 12);
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0xA5 ^ i);
  return 0;
}

static const smbx_crypto toy = {sizeof(smbx_crypto), NULL, toy_sha512,
                                toy_mac, toy_enc, toy_dec, toy_kdf,
                                toy_random};

static const uint8_t key32[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                  12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                  22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void op_sign(const uint8_t *b, size_t n, uint8_t sel)
{
  uint16_t alg = (uint16_t)(sel % 4); /* 3: invalid */
  int v = smbx_smb2_verify(&toy, alg, key32, b, n);
  CHECK(v == 0 || v == SMBX_ERR_AUTH || v == SMBX_ERR_INVAL);
  uint8_t *c = malloc(n ? n : 1);
  if (!c)
    return;
  if (n)
    memcpy(c, b, n);
  int rc = smbx_smb2_sign(&toy, alg, key32, c, n, sel & 0x80 ? 1u : 0u);
  CHECK(rc == 0 || rc == SMBX_ERR_INVAL);
  if (rc == 0) {
    CHECK(smbx_smb2_verify(&toy, alg, key32, c, n) == 0);
    if (sel & 0x80)
      CHECK(c[16] & SMBX_SMB2_FLAGS_SIGNED);
    size_t at = 4 + (size_t)sel % (n - 4);
    c[at] ^= 0x10;
    rc = smbx_smb2_verify(&toy, alg, key32, c, n);
    CHECK(rc == 0 || rc == SMBX_ERR_AUTH); /* toy MAC may collide */
  } else {
    CHECK(v == SMBX_ERR_INVAL);
  }
  free(c);
}

static void op_decrypt(const uint8_t *b, size_t n, uint8_t sel)
{
  uint16_t cipher = (uint16_t)(1 + sel % 4);
  size_t kl = smbx_crypto_cipher_key_size(cipher);
  uint8_t *c = malloc(n ? n : 1);
  if (!c)
    return;
  if (n)
    memcpy(c, b, n);
  uint64_t sid = 0;
  smbx_ssize r = smbx_smb2_decrypt(&toy, cipher, key32, kl, c, n, &sid);
  CHECK(r == SMBX_ERR_DECODE || r == SMBX_ERR_AUTH ||
        (r >= 64 && (size_t)r <= n - 52));
  if (r > 0)
    CHECK(smbx_smb2_plaintext_check(c + 52, (size_t)r, NULL) == 0);
  free(c);
}

static void op_round_trip(const uint8_t *b, size_t n, uint8_t sel,
                          const uint8_t *flips, size_t nflips)
{
  uint16_t cipher = (uint16_t)(1 + sel % 4);
  size_t kl = smbx_crypto_cipher_key_size(cipher);
  uint8_t *c = malloc(52 + n);
  if (!c)
    return;
  memcpy(c + 52, b, n);
  const uint8_t *nonce = sel & 0x80 ? b : NULL; /* caller nonce or random */
  if (nonce && n < 12)
    nonce = NULL;
  smbx_ssize r = smbx_smb2_encrypt(&toy, cipher, key32, kl, 0x1234 + sel,
                                   nonce, c, 52 + n, n);
  if (n < 64) {
    CHECK(r == SMBX_ERR_INVAL);
    free(c);
    return;
  }
  CHECK(r == (smbx_ssize)(52 + n));
  for (size_t i = 0; i < nflips; i++)
    c[flips[i] % (52 + n)] ^= 0x01;
  uint64_t sid = 0;
  r = smbx_smb2_decrypt(&toy, cipher, key32, kl, c, 52 + n, &sid);
  if (nflips == 0) {
    /* the plaintext check may still reject a non-SMB2 plaintext */
    int k = smbx_smb2_plaintext_check(b, n, NULL);
    CHECK(k == 0 ? r == (smbx_ssize)n : r == SMBX_ERR_DECODE);
    CHECK(sid == 0x1234u + sel);
    if (r > 0)
      CHECK(memcmp(c + 52, b, n) == 0);
  } else {
    /* two flips of one byte cancel; the toy tag may collide */
    CHECK(r == SMBX_ERR_AUTH || r == SMBX_ERR_DECODE || r >= 64);
  }
  free(c);
}

static void op_preauth(const uint8_t *b, size_t n, uint8_t sel)
{
  uint8_t h1[64], h2[64];
  smbx_smb2_preauth_init(h1);
  smbx_smb2_preauth_init(h2);
  size_t cut = n ? sel % (n + 1) : 0;
  CHECK(smbx_smb2_preauth_update(&toy, h1, b, cut) == 0);
  CHECK(smbx_smb2_preauth_update(&toy, h1, b + cut, n - cut) == 0);
  CHECK(smbx_smb2_preauth_update(&toy, h2, b, cut) == 0);
  CHECK(smbx_smb2_preauth_update(&toy, h2, b + cut, n - cut) == 0);
  CHECK(memcmp(h1, h2, 64) == 0);
}

static void op_derive(const uint8_t *b, size_t n, uint8_t sel)
{
  static const uint16_t dialects[5] = {0x0202, 0x0210, 0x0300, 0x0302,
                                       0x0311};
  uint16_t d = dialects[sel % 5];
  uint16_t cipher = (uint16_t)((sel >> 3) % 6);
  uint16_t alg = (sel & 0x40) ? SMBX_CRYPTO_SIGN_DEFAULT
                              : (uint16_t)((sel >> 3) % 4);
  uint8_t ph[64] = {0};
  size_t skl = n > 64 ? 64 : n;
  if (n > 64)
    memcpy(ph, b + 64, n - 64 > 64 ? 64 : n - 64);
  smbx_smb2_keys c, s;
  int rc = smbx_smb2_derive_keys(&toy, d, 0, alg, cipher, b, skl, ph, &c);
  int rs = smbx_smb2_derive_keys(&toy, d, 1, alg, cipher, b, skl, ph, &s);
  CHECK(rc == rs);
  CHECK(rc == 0 || rc == SMBX_ERR_INVAL);
  if (rc)
    return;
  CHECK(c.cipher_key_len == smbx_crypto_cipher_key_size(c.cipher));
  CHECK(memcmp(c.encryption, s.decryption, 32) == 0);
  CHECK(memcmp(c.decryption, s.encryption, 32) == 0);
  CHECK(memcmp(c.signing, s.signing, 16) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2 || size > 1 << 16)
    return 0;
  uint8_t op = data[0], sel = data[1];
  const uint8_t *b = data + 2;
  size_t n = size - 2;
  switch (op % 6) {
  case 0:
    op_sign(b, n, sel);
    break;
  case 1:
    op_decrypt(b, n, sel);
    break;
  case 2:
    op_round_trip(b, n, sel, NULL, 0);
    break;
  case 3: {
    size_t nf = n < 4 ? n : 4;
    op_round_trip(b + nf, n - nf, sel, b, nf);
    break;
  }
  case 4:
    op_preauth(b, n, sel);
    break;
  default:
    op_derive(b, n, sel);
    break;
  }
  return 0;
}
