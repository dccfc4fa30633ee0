/* SPDX-License-Identifier: MIT */
/* SMB2/3 security helpers (rank 1): key derivation, signing, TRANSFORM
 * encryption and the preauth integrity hash. Every primitive is a host hook
 * (smbx/crypto.h); this file only lays out the SMB-defined inputs. */
#include "smb2/sec.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <smbx/smb2_base.h>

#include "core/cursor.h"

/* A hook, or NULL when it is missing or lies beyond the caller's
 * struct_size (a table compiled before the hook existed). */
#define HOOK(cr, f)                                                         \
  ((cr)->struct_size >= offsetof(smbx_crypto, f) + sizeof((cr)->f) ? (cr)->f \
                                                                     : NULL)

/* [MS-SMB2] 2.2.1: header fields used here */
enum {
  OFF_COMMAND = 12,
  OFF_FLAGS = 16,
  OFF_MESSAGE_ID = 24,
  OFF_SIGNATURE = 48,
  /* 2.2.41 TRANSFORM_HEADER */
  TF_SIGNATURE = 4,
  TF_NONCE = 20,
  TF_OMS = 36,
  TF_RESERVED = 40,
  TF_FLAGS = 42,
  TF_SESSION_ID = 44,
  TF_AAD_LEN = 32,
  TF_SIZE = 52,
};

/* 2.2.41: Flags (3.1.1) / EncryptionAlgorithm (3.0.x) */
#define TF_FLAGS_ENCRYPTED 0x0001u

static int hook_rc(int rc)
{
  /* the contract is 0 or negative; anything else is the host's bug */
  return rc > 0 ? SMBX_ERR_INVAL : rc;
}

/* Best-effort wipe of key material the compiler cannot drop. */
static void wipe(void *p, size_t n)
{
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--)
    *v++ = 0;
}

bool smbx__smb2_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
  volatile uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc = (uint8_t)(acc | (a[i] ^ b[i]));
  return acc == 0;
}

int smbx__smb2_crypto_copy(smbx_crypto *dst, const smbx_crypto *src)
{
  if (!dst || !src ||
      src->struct_size < offsetof(smbx_crypto, user_data) + sizeof(void *))
    return SMBX_ERR_INVAL;
  size_t n = src->struct_size < sizeof *dst ? src->struct_size : sizeof *dst;
  memset(dst, 0, sizeof *dst);
  memcpy(dst, src, n);
  dst->struct_size = sizeof *dst;
  return 0;
}

bool smbx__smb2_crypto_complete(const smbx_crypto *cr)
{
  return cr && HOOK(cr, sha512) && HOOK(cr, mac) && HOOK(cr, aead_encrypt) &&
         HOOK(cr, aead_decrypt) && HOOK(cr, kdf) && HOOK(cr, random);
}

size_t smbx_crypto_cipher_nonce_size(uint16_t cipher)
{
  /* 3.1.4.3: CCM uses an 11-byte nonce, GCM a 12-byte one */
  switch (cipher) {
  case SMBX_CRYPTO_CIPHER_AES128_CCM:
  case SMBX_CRYPTO_CIPHER_AES256_CCM:
    return 11;
  case SMBX_CRYPTO_CIPHER_AES128_GCM:
  case SMBX_CRYPTO_CIPHER_AES256_GCM:
    return 12;
  default:
    return 0;
  }
}

size_t smbx_crypto_cipher_key_size(uint16_t cipher)
{
  switch (cipher) {
  case SMBX_CRYPTO_CIPHER_AES128_CCM:
  case SMBX_CRYPTO_CIPHER_AES128_GCM:
    return 16;
  case SMBX_CRYPTO_CIPHER_AES256_CCM:
  case SMBX_CRYPTO_CIPHER_AES256_GCM:
    return 32;
  default:
    return 0;
  }
}

/* ---- key derivation ([MS-SMB2] 3.1.4.2, 3.2.5.3.1, 3.3.5.5.3) ---- */

/* Labels and contexts as SMB defines them: the trailing NUL is part of
 * each (sizeof counts it). */
#define LIT(s) (const uint8_t *)(s), sizeof(s)

static int kdf(const smbx_crypto *cr, const uint8_t *key, size_t key_len,
               const uint8_t *label, size_t label_len, const uint8_t *ctx,
               size_t ctx_len, uint8_t *out, size_t out_len)
{
  return hook_rc(HOOK(cr, kdf)(cr->user_data, key, key_len, label, label_len,
                               ctx, ctx_len, out, out_len));
}

int smbx_smb2_derive_keys(const smbx_crypto *cr, uint16_t dialect,
                          uint32_t role, uint16_t signing_alg, uint16_t cipher,
                          const uint8_t *session_key, size_t session_key_len,
                          const uint8_t *preauth_hash, smbx_smb2_keys *out)
{
  if (!out)
    return SMBX_ERR_INVAL;
  memset(out, 0, sizeof *out);
  if (!cr || !session_key || session_key_len == 0 || session_key_len > 64 ||
      (role != SMBX_CRYPTO_ROLE_CLIENT && role != SMBX_CRYPTO_ROLE_SERVER))
    return SMBX_ERR_INVAL;

  bool v311 = false;
  switch (dialect) {
  case SMBX_SMB2_DIALECT_202:
  case SMBX_SMB2_DIALECT_210:
    /* 3.1.4.1: 2.x signs with HMAC-SHA256 and has no encryption */
    if ((signing_alg != SMBX_CRYPTO_SIGN_DEFAULT &&
         signing_alg != SMBX_CRYPTO_SIGN_HMAC_SHA256) ||
        cipher != SMBX_CRYPTO_CIPHER_NONE)
      return SMBX_ERR_INVAL;
    signing_alg = SMBX_CRYPTO_SIGN_HMAC_SHA256;
    break;
  case SMBX_SMB2_DIALECT_300:
  case SMBX_SMB2_DIALECT_302:
    /* signing capabilities and cipher negotiation are 3.1.1 only */
    if ((signing_alg != SMBX_CRYPTO_SIGN_DEFAULT &&
         signing_alg != SMBX_CRYPTO_SIGN_AES_CMAC) ||
        (cipher != SMBX_CRYPTO_CIPHER_NONE &&
         cipher != SMBX_CRYPTO_CIPHER_AES128_CCM))
      return SMBX_ERR_INVAL;
    signing_alg = SMBX_CRYPTO_SIGN_AES_CMAC;
    break;
  case SMBX_SMB2_DIALECT_311:
    if (signing_alg == SMBX_CRYPTO_SIGN_DEFAULT)
      signing_alg = SMBX_CRYPTO_SIGN_AES_CMAC;
    if (signing_alg > SMBX_CRYPTO_SIGN_AES_GMAC ||
        (cipher != SMBX_CRYPTO_CIPHER_NONE &&
         !smbx_crypto_cipher_key_size(cipher)) ||
        !preauth_hash)
      return SMBX_ERR_INVAL;
    v311 = true;
    break;
  default:
    return SMBX_ERR_UNSUPPORTED;
  }

  /* 3.2.5.3.1: SessionKey = first 16 bytes, right-padded with zeros */
  uint8_t sk[16] = {0};
  memcpy(sk, session_key, session_key_len < 16 ? session_key_len : 16);

  out->dialect = dialect;
  out->signing_alg = signing_alg;
  if (dialect == SMBX_SMB2_DIALECT_202 || dialect == SMBX_SMB2_DIALECT_210) {
    memcpy(out->signing, sk, 16); /* 3.1.4.1: the session key itself */
    wipe(sk, sizeof sk);
    return 0;
  }
  if (!HOOK(cr, kdf)) {
    wipe(sk, sizeof sk);
    return SMBX_ERR_UNSUPPORTED;
  }

  size_t klen = smbx_crypto_cipher_key_size(cipher);
  /* AES-256: the whole session key (FullSessionKey) derives the cipher
   * keys, with L = 256 */
  const uint8_t *ck = sk;
  size_t ck_len = 16;
  if (klen == 32 && session_key_len > 16) {
    ck = session_key;
    ck_len = session_key_len;
  }
  uint8_t c2s[32], s2c[32];
  int rc;
  if (v311) {
    const uint8_t *h = preauth_hash;
    size_t hl = SMBX_CRYPTO_SHA512_SIZE;
    rc = kdf(cr, sk, 16, LIT("SMBSigningKey"), h, hl, out->signing, 16);
    if (!rc)
      rc = kdf(cr, sk, 16, LIT("SMBAppKey"), h, hl, out->application, 16);
    if (!rc && klen)
      rc = kdf(cr, ck, ck_len, LIT("SMBC2SCipherKey"), h, hl, c2s, klen);
    if (!rc && klen)
      rc = kdf(cr, ck, ck_len, LIT("SMBS2CCipherKey"), h, hl, s2c, klen);
  } else {
    rc = kdf(cr, sk, 16, LIT("SMB2AESCMAC"), LIT("SmbSign"), out->signing, 16);
    if (!rc)
      rc = kdf(cr, sk, 16, LIT("SMB2APP"), LIT("SmbRpc"), out->application,
               16);
    if (!rc && klen)
      rc = kdf(cr, sk, 16, LIT("SMB2AESCCM"), LIT("ServerIn "), c2s, klen);
    if (!rc && klen)
      rc = kdf(cr, sk, 16, LIT("SMB2AESCCM"), LIT("ServerOut"), s2c, klen);
  }
  wipe(sk, sizeof sk);
  if (rc) {
    wipe(c2s, sizeof c2s);
    wipe(s2c, sizeof s2c);
    wipe(out, sizeof *out);
    return rc;
  }
  if (klen) {
    bool client = role == SMBX_CRYPTO_ROLE_CLIENT;
    memcpy(out->encryption, client ? c2s : s2c, klen);
    memcpy(out->decryption, client ? s2c : c2s, klen);
    out->cipher = cipher;
    out->cipher_key_len = (uint16_t)klen;
  }
  wipe(c2s, sizeof c2s);
  wipe(s2c, sizeof s2c);
  return 0;
}

/* ---- signing ([MS-SMB2] 3.1.4.1, 3.1.5.1) ---- */

/* MAC of pdu[0..len) with the Signature field read as zeros. */
static int mac_pdu(const smbx_crypto *cr, uint16_t alg, const uint8_t key[16],
                   const uint8_t *pdu, size_t len, uint8_t sig[16])
{
  static const uint8_t zero[16];
  smbx_iov iov[3] = {
      {pdu, OFF_SIGNATURE},
      {zero, sizeof zero},
      {pdu + SMBX_SMB2_HDR_SIZE, len - SMBX_SMB2_HDR_SIZE},
  };
  size_t n_iov = len > SMBX_SMB2_HDR_SIZE ? 3 : 2;
  uint8_t nonce[12];
  const uint8_t *np = NULL;
  size_t nl = 0;
  if (alg == SMBX_CRYPTO_SIGN_AES_GMAC) {
    /* 3.1.4.1: nonce = MessageId || u32 {bit 0: sent by the server (the
     * SERVER_TO_REDIR flag), bit 1: CANCEL}, "remaining bits zero" */
    uint32_t flags = smbx__get_le32(pdu + OFF_FLAGS);
    uint32_t bits = 0;
    if (flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR)
      bits |= 1u;
    if (smbx__get_le16(pdu + OFF_COMMAND) == SMBX_SMB2_CANCEL)
      bits |= 2u;
    memcpy(nonce, pdu + OFF_MESSAGE_ID, 8);
    smbx__put_le32(nonce + 8, bits);
    np = nonce;
    nl = sizeof nonce;
  }
  return hook_rc(HOOK(cr, mac)(cr->user_data, alg, key, 16, np, nl, iov, n_iov,
                               sig));
}

static int sign_args(const smbx_crypto *cr, uint16_t alg, const uint8_t *key,
                     const uint8_t *pdu, size_t len)
{
  if (!cr || !key || !pdu || len < SMBX_SMB2_HDR_SIZE ||
      alg > SMBX_CRYPTO_SIGN_AES_GMAC ||
      smbx__get_le32(pdu) != SMBX_SMB2_PROTOCOL_ID)
    return SMBX_ERR_INVAL;
  if (!HOOK(cr, mac))
    return SMBX_ERR_UNSUPPORTED;
  return 0;
}

int smbx_smb2_sign(const smbx_crypto *cr, uint16_t signing_alg,
                   const uint8_t key[16], uint8_t *pdu, size_t len,
                   uint32_t opts)
{
  int rc = sign_args(cr, signing_alg, key, pdu, len);
  if (rc)
    return rc;
  if (opts & ~SMBX_CRYPTO_SIGN_SET_FLAG)
    return SMBX_ERR_INVAL;
  /* the flag is covered by the signature: set it first */
  if (opts & SMBX_CRYPTO_SIGN_SET_FLAG)
    smbx__put_le32(pdu + OFF_FLAGS, smbx__get_le32(pdu + OFF_FLAGS) |
                                        SMBX_SMB2_FLAGS_SIGNED);
  uint8_t sig[16];
  rc = mac_pdu(cr, signing_alg, key, pdu, len, sig);
  if (rc)
    memset(sig, 0, sizeof sig);
  memcpy(pdu + OFF_SIGNATURE, sig, sizeof sig);
  return rc;
}

int smbx_smb2_verify(const smbx_crypto *cr, uint16_t signing_alg,
                     const uint8_t key[16], const uint8_t *pdu, size_t len)
{
  int rc = sign_args(cr, signing_alg, key, pdu, len);
  if (rc)
    return rc;
  uint8_t sig[16];
  rc = mac_pdu(cr, signing_alg, key, pdu, len, sig);
  if (rc)
    return rc;
  return smbx__smb2_ct_equal(sig, pdu + OFF_SIGNATURE, sizeof sig)
             ? 0
             : SMBX_ERR_AUTH;
}

/* ---- encryption ([MS-SMB2] 3.1.4.3, 2.2.41) ---- */

static int cipher_args(const smbx_crypto *cr, uint16_t cipher,
                       const uint8_t *key, size_t key_len, const void *buf)
{
  if (!cr || !key || !buf || !smbx_crypto_cipher_nonce_size(cipher) ||
      key_len != smbx_crypto_cipher_key_size(cipher))
    return SMBX_ERR_INVAL;
  return 0;
}

smbx_ssize smbx_smb2_encrypt(const smbx_crypto *cr, uint16_t cipher,
                             const uint8_t *key, size_t key_len,
                             uint64_t session_id, const uint8_t *nonce,
                             uint8_t *buf, size_t cap, size_t msg_len)
{
  int rc = cipher_args(cr, cipher, key, key_len, buf);
  if (rc)
    return rc;
  /* OriginalMessageSize is a u32; a plaintext holds at least a header */
  if (msg_len < SMBX_SMB2_HDR_SIZE || msg_len > UINT32_MAX ||
      msg_len > (size_t)PTRDIFF_MAX - TF_SIZE)
    return SMBX_ERR_INVAL;
  if (cap < TF_SIZE || cap - TF_SIZE < msg_len)
    return SMBX_ERR_NOBUF;
  if (!HOOK(cr, aead_encrypt) || (!nonce && !HOOK(cr, random)))
    return SMBX_ERR_UNSUPPORTED;

  size_t nl = smbx_crypto_cipher_nonce_size(cipher);
  smbx__put_le32(buf, SMBX_SMB2_TRANSFORM_ID);
  memset(buf + TF_SIGNATURE, 0, TF_OMS - TF_SIGNATURE);
  /* 2.2.41: Nonce is 11 (CCM) or 12 (GCM) bytes, the rest reserved zero */
  if (nonce) {
    memcpy(buf + TF_NONCE, nonce, nl);
  } else {
    rc = hook_rc(HOOK(cr, random)(cr->user_data, buf + TF_NONCE, nl));
    if (rc)
      return rc;
  }
  smbx__put_le32(buf + TF_OMS, (uint32_t)msg_len);
  smbx__put_le16(buf + TF_RESERVED, 0);
  smbx__put_le16(buf + TF_FLAGS, TF_FLAGS_ENCRYPTED);
  smbx__put_le64(buf + TF_SESSION_ID, session_id);

  /* 3.1.4.3: AAD = the header from Nonce to the end (bytes 20..51) */
  uint8_t tag[16];
  rc = hook_rc(HOOK(cr, aead_encrypt)(cr->user_data, cipher, key, key_len,
                                      buf + TF_NONCE, nl, buf + TF_NONCE,
                                      TF_AAD_LEN, buf + TF_SIZE, msg_len,
                                      tag));
  if (rc)
    return rc;
  memcpy(buf + TF_SIGNATURE, tag, sizeof tag);
  return (smbx_ssize)(TF_SIZE + msg_len);
}

smbx_ssize smbx_smb2_decrypt(const smbx_crypto *cr, uint16_t cipher,
                             const uint8_t *key, size_t key_len, uint8_t *msg,
                             size_t len, uint64_t *session_id)
{
  int rc = cipher_args(cr, cipher, key, key_len, msg);
  if (rc)
    return rc;
  /* smb2.md 2.3: FD 'SMB', 52 + OriginalMessageSize <= frame, >= 64 */
  smbx_smb2_transform_hdr h;
  rc = smbx_smb2_transform_decode(msg, len, &h, NULL);
  if (rc)
    return rc;
  if (session_id)
    *session_id = h.session_id;
  /* 3.3.5.2.1.1 / 3.2.5.1.1: Flags (EncryptionAlgorithm) must be 0x0001 */
  if (h.flags != TF_FLAGS_ENCRYPTED)
    return SMBX_ERR_DECODE;
  if (!HOOK(cr, aead_decrypt))
    return SMBX_ERR_UNSUPPORTED;
  size_t nl = smbx_crypto_cipher_nonce_size(cipher);
  rc = hook_rc(HOOK(cr, aead_decrypt)(cr->user_data, cipher, key, key_len,
                                      msg + TF_NONCE, nl, msg + TF_NONCE,
                                      TF_AAD_LEN, msg + TF_SIZE,
                                      h.original_message_size, h.signature));
  if (rc)
    return rc;
  /* smb2.md case 40: a TRANSFORM or SMB1 message inside is never valid */
  if (smbx_smb2_plaintext_check(msg + TF_SIZE, h.original_message_size, NULL))
    return SMBX_ERR_DECODE;
  return (smbx_ssize)h.original_message_size;
}

/* ---- preauth integrity ([MS-SMB2] 3.2.5.2, 3.3.5.4, smb2.md 6.5) ---- */

void smbx_smb2_preauth_init(uint8_t hash[64])
{
  if (hash)
    memset(hash, 0, SMBX_CRYPTO_SHA512_SIZE);
}

int smbx_smb2_preauth_update(const smbx_crypto *cr, uint8_t hash[64],
                             const uint8_t *msg, size_t len)
{
  if (!cr || !hash || (!msg && len))
    return SMBX_ERR_INVAL;
  if (!HOOK(cr, sha512))
    return SMBX_ERR_UNSUPPORTED;
  smbx_iov iov[2] = {{hash, SMBX_CRYPTO_SHA512_SIZE}, {msg, len}};
  uint8_t next[SMBX_CRYPTO_SHA512_SIZE];
  int rc = hook_rc(HOOK(cr, sha512)(cr->user_data, iov, 2, next));
  if (rc)
    return rc;
  memcpy(hash, next, sizeof next);
  return 0;
}
